/* SPDX-License-Identifier: MIT */
/*
 * netclient.c - usbox's side of a user network's helper (netd.c): connect
 * or start it, attach a sandbox, ask how many use it, stop it for removal.
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

/* STATE/net-NAME, created; its path in @dir.  Return: an O_PATH fd or -errno. */
static int open_net_dir(const char *name, char *dir, size_t len, struct ubx_err *e)
{
	char base[PATH_MAX - 64];
	uint32_t uid = getuid();

	state_dir_path(uid, base, sizeof(base));
	_cleanup_close_ int sfd = state_dir_open(base, uid, e);
	if (sfd < 0)
		return sfd;
	snprintf(dir, len, "%s/net-%s", base, name);
	if (mkdirat(sfd, dir + strlen(base) + 1, 0700) < 0 && errno != EEXIST)
		return ubx_fail(e, errno, "mkdir %s", dir);
	int fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? ubx_fail(e, errno, "open %s", dir) : fd;
}

/* Connects to the helper listening in @dir and takes its greeting.
 * Return: 0, or -errno (-ENOENT/-ECONNREFUSED: none runs). */
static int greet(const char *dir, struct netns_conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[32] = { 0 };
	size_t got;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	int ns = fd_receive_msg(fd, buf, sizeof(buf) - 1, &got);
	if (ns < 0)
		return ns == -EPIPE ? -ECONNREFUSED : ns;
	if (strcmp(buf, GREETING) != 0) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		close(ns);
		c->stale_pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : 0;
		return -EPROTO;
	}
	c->userns = ns;
	c->sock = TAKE_FD(fd);
	return 0;
}

static int greet_error(const char *name, int r, const struct netns_conn *c, struct ubx_err *e)
{
	if (r == -EPROTO)
		return ubx_fail(e, 0, "network %s's helper (pid %d) is from another usbox version; "
				"once its sandboxes are done, stop it with: kill %d", name, (int)c->stale_pid,
				(int)c->stale_pid);
	return ubx_fail(e, -r, "connect to network %s's helper", name);
}

static void conn_init(struct netns_conn *c)
{
	c->sock = c->userns = c->lock = -1;
	c->stale_pid = 0;
	c->dir[0] = c->hosts[0] = '\0';
}

int netns_network_connect(const struct netns_network *n, struct netns_conn *c, struct ubx_err *e)
{
	char *dir = c->dir;

	conn_init(c);
	for (int attempt = 0; attempt < 5; attempt++) {
		_cleanup_close_ int dirfd = open_net_dir(n->name, dir, sizeof(c->dir), e);
		if (dirfd < 0)
			return dirfd;
		snprintf(c->hosts, sizeof(c->hosts), "%s/hosts", dir);
		_cleanup_close_ int lock = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (lock < 0 && errno == ENOENT)
			continue; /* the helper removed its directory just now */
		if (lock < 0 || flock(lock, LOCK_SH) < 0)
			return ubx_fail(e, errno, "lock %s/lock", dir);
		if (!lock_is_current(dirfd, "lock", lock))
			continue;
		int r = greet(dir, c);
		if (r == 0)
			return 1;
		if (r != -ENOENT && r != -ECONNREFUSED)
			return greet_error(n->name, r, c, e);
		if (flock(lock, LOCK_EX) < 0)
			return ubx_fail(e, errno, "lock %s/lock", dir);
		if (!lock_is_current(dirfd, "lock", lock))
			continue;
		if ((r = greet(dir, c)) == 0)
			return 1;
		if (r != -ENOENT && r != -ECONNREFUSED)
			return greet_error(n->name, r, c, e);
		c->lock = TAKE_FD(lock);
		return 0;
	}
	return ubx_fail(e, EAGAIN, "network %s's helper kept going away", n->name);
}

int netns_network_start(const struct netns_network *n, struct netns_conn *c, struct ubx_err *e)
{
	int r = netd_spawn(n, c->dir, e);
	if (r == 0 && (r = greet(c->dir, c)) < 0)
		r = greet_error(n->name, r, c, e);
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

void netns_conn_close(struct netns_conn *c)
{
	int *fds[] = { &c->sock, &c->userns, &c->lock };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]), *fds[i] = -1;
}

int netns_network_users(const char *name, struct ubx_err *e)
{
	struct netns_conn c;
	struct netd_reply rep = { 0 };
	char dir[PATH_MAX], base[PATH_MAX - 64];

	conn_init(&c);
	state_dir_path(getuid(), base, sizeof(base));
	snprintf(dir, sizeof(dir), "%s/net-%s", base, name);
	int r = greet(dir, &c);
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
	char dir[PATH_MAX];

	int r = netns_network_load(name, &n, e);
	if (r < 0)
		return r;
	_cleanup_close_ int dirfd = open_net_dir(name, dir, sizeof(dir), e);
	if (dirfd < 0)
		return dirfd;
	/* Held exclusively, the lock keeps runs from connecting meanwhile. */
	_cleanup_close_ int lock = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return ubx_fail(e, errno, "lock %s/lock", dir);
	conn_init(&c);
	r = greet(dir, &c);
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
