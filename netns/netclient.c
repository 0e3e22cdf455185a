/* SPDX-License-Identifier: MIT */
/*
 * netclient.c - usbox's side of a user network's helper (netd.c): connect
 * or start it, attach a sandbox, ask how many use it, stop it for removal;
 * each only after the helper proved to be the caller's own (trust.c).
 */
#include "netns.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fdpass.h"
#include "../common/statedir.h"

/* The message for a helper that failed a check (the reason in @e).
 * Return: -EPERM. */
static int distrust(const char *name, const char *dir, struct ubx_err *e)
{
	char why[sizeof(e->msg)];

	memcpy(why, e->msg, sizeof(why));
	ubx_fail(e, 0, "network %s: its helper is not trustworthy (%.200s); remove %s", name, why, dir);
	e->code = EPERM;
	return -EPERM;
}

/* STATE/net-NAME (created when @create), opened without following a
 * symlink and checked; its path in @dir.
 * Return: an O_PATH fd, -ENOENT when it is not there, or a negative errno. */
static int open_net_dir(const char *name, bool create, char *dir, size_t len, struct ubx_err *e)
{
	char base[sizeof(((struct netns_conn *)0)->dir) - NETNS_NAME_MAX - 8];
	uint32_t uid = getuid();
	struct stat st;

	state_dir_path(uid, base, sizeof(base));
	snprintf(dir, len, "%s/net-%s", base, name);
	if (!create && lstat(base, &st) < 0 && errno == ENOENT)
		return -ENOENT;
	_cleanup_close_ int sfd = state_dir_open(base, uid, e);
	if (sfd < 0)
		return sfd;
	const char *rel = dir + strlen(base) + 1;
	if (create && mkdirat(sfd, rel, 0700) < 0 && errno != EEXIST)
		return ubx_fail(e, errno, "mkdir %s", dir);
	_cleanup_close_ int fd = openat(sfd, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT && !create ? -ENOENT : ubx_fail(e, errno, "open %s", dir);
	if (helper_check_dir(fd, e) < 0)
		return distrust(name, dir, e);
	return TAKE_FD(fd);
}

/* Connects to the helper listening in @dirfd, takes its greeting and trusts
 * it only after the checks of trust.c; @parent is the id-map holder's user
 * namespace (-1: look it up).  Return: 0; -ENOENT or -ECONNREFUSED when
 * none runs; -EPROTO for a helper of another version (its pid in
 * @c->stale_pid); -EPERM (the reason in @e); or another negative errno. */
static int greet(int dirfd, struct netns_conn *c, int parent, struct ubx_err *e)
{
	char buf[32] = { 0 };
	size_t got;

	_cleanup_close_ int fd = helper_connect(dirfd, e);
	if (fd < 0)
		return fd;
	int ns = fd_receive_msg(fd, buf, sizeof(buf) - 1, &got);
	if (ns == -EPIPE)
		return -ECONNREFUSED; /* it is leaving */
	_cleanup_close_ int userns = ns;
	bool current = ns >= 0 && strcmp(buf, GREETING) == 0;
	int r = helper_check_peer(fd, current ? userns : -1, parent, &c->stale_pid, e);
	if (r < 0)
		return r;
	if (!current)
		return -EPROTO;
	_cleanup_close_ int hosts = helper_open_hosts(dirfd, e);
	if (hosts < 0)
		return hosts;
	c->hosts_fd = TAKE_FD(hosts);
	snprintf(c->hosts, sizeof(c->hosts), "%s/hosts", c->dir);
	c->userns = TAKE_FD(userns);
	c->sock = TAKE_FD(fd);
	return 0;
}

static int greet_error(const char *name, int r, const struct netns_conn *c, struct ubx_err *e)
{
	if (r == -EPERM)
		return distrust(name, c->dir, e);
	if (r == -EPROTO)
		return ubx_fail(e, 0, "network %s's helper (pid %d) is from another usbox version; "
				"once its sandboxes are done, stop it with: kill %d", name, (int)c->stale_pid,
				(int)c->stale_pid);
	return ubx_fail(e, -r, "connect to network %s's helper", name);
}

static void conn_init(struct netns_conn *c)
{
	c->sock = c->userns = c->lock = c->hosts_fd = -1;
	c->stale_pid = 0;
	c->dir[0] = c->hosts[0] = '\0';
}

int netns_network_connect(const struct netns_network *n, struct netns_conn *c, struct ubx_err *e)
{
	conn_init(c);
	for (int attempt = 0; attempt < 5; attempt++) {
		_cleanup_close_ int dirfd = open_net_dir(n->name, true, c->dir, sizeof(c->dir), e);
		if (dirfd < 0)
			return dirfd;
		_cleanup_close_ int lock = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (lock < 0 && errno == ENOENT)
			continue; /* the helper removed its directory just now */
		if (lock < 0 || flock(lock, LOCK_SH) < 0)
			return ubx_fail(e, errno, "lock %s/lock", c->dir);
		if (!lock_is_current(dirfd, "lock", lock))
			continue;
		int r = greet(dirfd, c, -1, e);
		if (r == 0)
			return 1;
		if (r != -ENOENT && r != -ECONNREFUSED)
			return greet_error(n->name, r, c, e);
		if (flock(lock, LOCK_EX) < 0)
			return ubx_fail(e, errno, "lock %s/lock", c->dir);
		if (!lock_is_current(dirfd, "lock", lock))
			continue;
		if ((r = greet(dirfd, c, -1, e)) == 0)
			return 1;
		if (r != -ENOENT && r != -ECONNREFUSED)
			return greet_error(n->name, r, c, e);
		c->lock = TAKE_FD(lock);
		return 0;
	}
	return ubx_fail(e, EAGAIN, "network %s's helper kept going away", n->name);
}

/* Greets the helper just started; the caller is in the id-map holder's user
 * namespace, which holder_enter() checked, so that is the helper's parent. */
static int greet_started(const struct netns_network *n, struct netns_conn *c, struct ubx_err *e)
{
	_cleanup_close_ int dirfd = open(c->dir, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int holder = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	if (dirfd < 0 || holder < 0)
		return ubx_fail(e, errno, "open %s", dirfd < 0 ? c->dir : "/proc/self/ns/user");
	int r = helper_check_dir(dirfd, e);
	if (r == 0)
		r = greet(dirfd, c, holder, e);
	return r < 0 ? greet_error(n->name, r, c, e) : 0;
}

int netns_network_start(const struct netns_network *n, struct netns_conn *c, struct ubx_err *e)
{
	int r = netd_spawn(n, c->dir, e);
	if (r == 0)
		r = greet_started(n, c, e);
	close(c->lock);
	c->lock = -1;
	return r;
}

/* Sends @req (with @fd, or none) and reads the helper's reply. */
static int request(int sock, const char *req, int fd, struct netd_reply *rep, struct ubx_err *e)
{
	ssize_t n;
	int r = fd >= 0 ? fd_send_msg(sock, fd, req, strlen(req)) :
			  (send(sock, req, strlen(req), MSG_NOSIGNAL) < 0 ? -errno : 0);
	if (r < 0)
		return ubx_fail(e, -r, "talk to the network's helper");
	while ((n = recv(sock, rep, sizeof(*rep), 0)) < 0 && errno == EINTR)
		;
	if (n != sizeof(*rep))
		return ubx_fail(e, EPIPE, "the network's helper went away");
	rep->err.msg[sizeof(rep->err.msg) - 1] = '\0';
	return 0;
}

int netns_network_attach(struct netns_conn *c, int netns_fd, const char *name, struct netns_lease *lease,
			 struct ubx_err *e)
{
	struct netd_reply rep;
	char req[2 + NETNS_NAME_MAX * 2];

	snprintf(req, sizeof(req), "a%s", name ? name : "");
	int r = request(c->sock, req, netns_fd, &rep, e);
	if (r < 0)
		return r;
	if (rep.err.msg[0]) {
		*e = rep.err;
		return -(e->code ? e->code : EINVAL);
	}
	*lease = rep.lease;
	return 0;
}

/* One listener to the helper: 'r' (IPv4) or 'R' (IPv6). */
static int hand_listener(struct netns_conn *c, const char *req, int fd, struct ubx_err *e)
{
	struct netd_reply rep;
	int r = request(c->sock, req, fd, &rep, e);
	if (r == 0 && rep.err.msg[0]) {
		*e = rep.err;
		r = -(e->code ? e->code : EINVAL);
	}
	return r < 0 ? ubx_wrap(e, "hand the TCP redirect to the network's helper") : 0;
}

int netns_network_relay(struct netns_conn *c, int listen4, int listen6, struct ubx_err *e)
{
	_cleanup_close_ int l4 = listen4;
	_cleanup_close_ int l6 = listen6;
	int r = hand_listener(c, "r", l4, e);
	if (r == 0 && l6 >= 0)
		r = hand_listener(c, "R", l6, e);
	return r;
}

void netns_conn_close(struct netns_conn *c)
{
	int *fds[] = { &c->sock, &c->userns, &c->lock };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]), *fds[i] = -1;
	if (c->hosts[0]) /* (a zeroed struct has hosts_fd 0, which is not ours) */
		close(c->hosts_fd);
	c->hosts[0] = '\0';
	c->hosts_fd = -1;
}

int netns_network_users(const char *name, struct ubx_err *e)
{
	struct netns_conn c;
	struct netd_reply rep = { 0 };

	conn_init(&c);
	_cleanup_close_ int dirfd = open_net_dir(name, false, c.dir, sizeof(c.dir), e);
	if (dirfd == -ENOENT)
		return 0;
	if (dirfd < 0)
		return dirfd;
	int r = greet(dirfd, &c, -1, e);
	if (r == -ENOENT || r == -ECONNREFUSED)
		return 0;
	if (r < 0)
		return greet_error(name, r, &c, e);
	r = request(c.sock, "s", -1, &rep, e) < 0 ? -EPIPE : (int)rep.users;
	netns_conn_close(&c);
	return r;
}

int netns_network_remove(const char *name, struct ubx_err *e)
{
	struct netns_network n;
	struct netns_conn c;
	struct netd_reply rep = { 0 };
	const char *dir = c.dir;

	int r = netns_network_load(name, &n, e);
	if (r < 0)
		return r;
	conn_init(&c);
	_cleanup_close_ int dirfd = open_net_dir(name, true, c.dir, sizeof(c.dir), e);
	if (dirfd < 0)
		return dirfd;
	/* Held exclusively, the lock keeps runs from connecting meanwhile. */
	_cleanup_close_ int lock = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return ubx_fail(e, errno, "lock %s/lock", dir);
	r = greet(dirfd, &c, -1, e);
	if (r == -ENOENT || r == -ECONNREFUSED)
		r = 0;
	else if (r < 0)
		r = greet_error(name, r, &c, e);
	else if ((r = request(c.sock, "q", -1, &rep, e)) == 0 && rep.err.msg[0])
		r = ubx_fail(e, 0, "network %s is in use by %u sandbox%s", name, rep.users,
			     rep.users == 1 ? "" : "es");
	netns_conn_close(&c);
	if (r < 0)
		return r;
	(void)unlinkat(dirfd, "sock", 0); /* a helper killed with -9 leaves these */
	(void)unlinkat(dirfd, "hosts", 0);
	(void)unlinkat(dirfd, "lock", 0);
	(void)rmdir(dir);
	return netdef_delete(name, e);
}
