/* SPDX-License-Identifier: MIT */
/*
 * netd.c - a user network's helper, "usbox-net NAME" (its clients are in
 * netclient.c).
 *
 * DOC: Theory of operation
 * The helper's files live in STATE/net-NAME: "lock", "sock" (a SEQPACKET
 * socket) and "hosts".  A usbox run takes a shared flock on "lock", connects
 * to "sock" and receives the helper's user namespace as its greeting; a run
 * that finds no helper takes the lock exclusively and starts one (from inside
 * the id-map holder's namespace, so the helper's namespace is its child and
 * can map the same ids).  The helper is a double fork that makes its own user
 * namespace (usbox writes its maps: identity over the holder's ids), then a
 * short-lived child that makes the bridge's network namespace and hands back
 * that namespace, the uplink TAP and a netlink socket in it.  The helper
 * itself stays in the host's network namespace, where libslirp's sockets must
 * be.  Each sandbox is a child user namespace of the helper's, so the helper
 * may move a veth end into the sandbox's network namespace.  A client's
 * connection is its lease: when it closes (also when usbox is killed), the
 * veth is deleted, the address freed and the hosts file rewritten.  With no
 * client for the idle period, the helper takes the lock exclusively (no run
 * is connecting), removes its files and exits.  While it runs it holds the
 * id-map holder's lock shared, so the holder (its namespace's parent, which
 * clients check before they trust the helper: trust.c) stays; its socket is
 * the caller's alone (mode 0700).
 */
#include "netns.h"
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/daemon.h"
#include "../common/fdpass.h"
#include "../common/parse.h"
#include "../common/proctitle.h"
#include "../idmap/idmap.h"

#define IDLE_DEFAULT 30 /* seconds, as the id-map holder's */
#define POLL_CAP 2048
#define FIRST_HOST 3    /* .1 is the gateway, .2 the DNS server */

struct client {
	int fd;
	bool attached;
	bool relay4, relay6; /* its TCP redirect's listeners are relayed */
	uint32_t host; /* index in the subnet */
	char ifname[16];
	char name[NETNS_NAME_MAX * 2];
};

struct netd {
	struct netns_network net;
	char dir[PATH_MAX];
	int dirfd, lock, listen_fd, userns, netns, hosts;
	int holder_lock;   /* STATE/holder.lock, held shared */
	struct nl_sock *nl;
	int bridge;
	struct netns_slirp *slirp;
	struct client *clients;
	size_t n_clients, cap;
	struct pollfd *fds;
	int idle;          /* seconds */
	int64_t idle_since; /* ms, 0: busy */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t host_count(const struct netns_network *n)
{
	return 1u << (32 - n->prefix);
}

/* In the builder child: a network namespace with the bridge and the uplink
 * TAP; send back the namespace, the TAP (with the bridge's ifindex) and a
 * netlink socket in it, or a struct ubx_err. */
static _Noreturn void builder_main(int sock)
{
	struct ubx_err e = { 0 };
	int tun = -1, ifindex = -1, nsfd = -1, nl = -1;

	if (unshare(CLONE_NEWNET) < 0)
		ubx_fail(&e, errno, "create the network's namespace");
	else if ((tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0)
		ubx_fail(&e, errno, "open /dev/net/tun");
	else if ((ifindex = nl_bridge_setup(tun, &e)) < 0)
		;
	else if ((nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 ||
		 (nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) < 0)
		ubx_fail(&e, errno, "network namespace");
	if (ifindex >= 0 && nsfd >= 0 && nl >= 0 && fd_send_msg(sock, nsfd, "n", 1) == 0 &&
	    fd_send_msg(sock, tun, &ifindex, sizeof(ifindex)) == 0 && fd_send_msg(sock, nl, "l", 1) == 0)
		_exit(0);
	if (!e.msg[0])
		ubx_fail(&e, EPIPE, "hand over the network's namespace");
	(void)!write(sock, &e, sizeof(e));
	_exit(1);
}

/* Receives one descriptor from the builder, or its error. */
static int builder_fd(int sock, void *buf, size_t len, struct ubx_err *e)
{
	struct ubx_err theirs;
	char tmp[sizeof(theirs)];
	size_t got;
	int fd;

	int r = fd_recv(sock, tmp, sizeof(tmp), &got, &fd);
	if (r < 0)
		return ubx_fail(e, -r, "the network's namespace");
	if (fd < 0) {
		if (got != sizeof(theirs))
			return ubx_fail(e, EBADMSG, "the network's namespace");
		memcpy(e, tmp, sizeof(theirs));
		e->msg[sizeof(e->msg) - 1] = '\0';
		return -(e->code ? e->code : EINVAL);
	}
	if (buf)
		memcpy(buf, tmp, got < len ? got : len);
	return fd;
}

static int build_bridge_ns(struct netd *d, int *tap, struct ubx_err *e)
{
	int sp[2], status, nlfd = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return ubx_fail(e, errno, "socketpair");
	pid_t pid = fork();
	if (pid == 0) {
		close(sp[0]);
		builder_main(sp[1]);
	}
	close(sp[1]);
	_cleanup_close_ int sock = sp[0];
	if (pid < 0)
		return ubx_fail(e, errno, "fork");
	int r = d->netns = builder_fd(sock, NULL, 0, e);
	if (r >= 0)
		r = *tap = builder_fd(sock, &d->bridge, sizeof(d->bridge), e);
	if (r >= 0)
		r = nlfd = builder_fd(sock, NULL, 0, e);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	d->nl = nl_socket_alloc();
	if (!d->nl || (r = nl_socket_set_fd(d->nl, NETLINK_ROUTE, nlfd)) < 0) {
		if (nlfd >= 0)
			close(nlfd);
		return ubx_fail(e, ENOMEM, "netlink socket: %s", d->nl ? nl_geterror(r) : "out of memory");
	}
	return 0;
}

/* Rewrites the hosts file in place (the sandboxes have it bound). */
static void write_hosts(struct netd *d)
{
	char text[65536], a[INET_ADDRSTRLEN];
	int len = snprintf(text, sizeof(text), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");

	for (size_t i = 0; i < d->n_clients; i++) {
		const struct client *c = &d->clients[i];
		uint32_t addr = netns_network_lease(&d->net, c->host).addr;
		if (c->attached && c->name[0] && len < (int)sizeof(text))
			len += snprintf(text + len, sizeof(text) - (size_t)len, "%s\t%s\n",
					inet_ntop(AF_INET, &addr, a, sizeof(a)), c->name);
	}
	if (len > (int)sizeof(text))
		len = (int)sizeof(text);
	if (pwrite(d->hosts, text, (size_t)len, 0) == len)
		(void)!ftruncate(d->hosts, len);
}

static int listen_on(struct netd *d, struct ubx_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", d->dir) >= sizeof(sa.sun_path))
		return ubx_fail(e, ENAMETOOLONG, "%s/sock", d->dir);
	(void)unlinkat(d->dirfd, "sock", 0);
	d->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t umask_was = umask(077); /* clients refuse a socket others may write */
	int r = d->listen_fd < 0 || bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(umask_was);
	if (r == 0 && listen(d->listen_fd, 128) < 0)
		r = -errno;
	return r < 0 ? ubx_fail(e, -r, "listen on %s", sa.sun_path) : 0;
}

/* Holds the id-map holder's lock shared (next to @d->dir), which the run
 * that starts this helper holds too, so the holder stays while it runs. */
static int keep_holder(struct netd *d, struct ubx_err *e)
{
	char path[PATH_MAX];
	const char *slash = strrchr(d->dir, '/');

	snprintf(path, sizeof(path), "%.*s/holder.lock", slash ? (int)(slash - d->dir) : 0, d->dir);
	d->holder_lock = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (d->holder_lock < 0 || flock(d->holder_lock, LOCK_SH) < 0)
		return ubx_fail(e, errno, "keep the id-map holder (%s)", path);
	return 0;
}

/* The uplink's egress policy, when the network has one. */
static int set_egress(struct netd *d, struct ubx_err *e)
{
	_cleanup_free_ struct netns_allow *rules = NULL;
	size_t n = 0;

	if (!d->net.allow[0])
		return 0;
	int r = netns_allow_parse(d->net.allow, &rules, &n, e);
	if (r == 0)
		r = netns_slirp_egress(d->slirp, rules, n, d->net.log[0] ? d->net.log : NULL, e);
	return r < 0 ? ubx_wrap(e, "network %s's egress policy", d->net.name) : 0;
}

static int netd_setup(struct netd *d, struct ubx_err *e)
{
	struct netns_lease l = netns_network_lease(&d->net, 0);
	int tap = -1, r;

	d->dirfd = open(d->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->dirfd < 0)
		return ubx_fail(e, errno, "open %s", d->dir);
	d->lock = openat(d->dirfd, "lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	d->userns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	d->hosts = openat(d->dirfd, "hosts", O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (d->lock < 0 || d->userns < 0 || d->hosts < 0 || fchmod(d->hosts, 0644) < 0) /* whatever the umask */
		return ubx_fail(e, errno, "open the network's files in %s", d->dir);
	if ((r = keep_holder(d, e)) < 0 || (r = build_bridge_ns(d, &tap, e)) < 0)
		return r;
	if ((r = netns_slirp_new(tap, &l, d->net.allow_host_loopback, &d->slirp, e)) < 0 ||
	    (r = set_egress(d, e)) < 0)
		return r;
	d->fds = calloc(POLL_CAP, sizeof(*d->fds));
	if (!d->fds)
		return ubx_fail(e, ENOMEM, "poll array");
	write_hosts(d);
	return listen_on(d, e);
}

/* Removes the helper's files; it is about to exit. */
static _Noreturn void netd_exit(struct netd *d)
{
	(void)unlinkat(d->dirfd, "sock", 0);
	(void)unlinkat(d->dirfd, "hosts", 0);
	(void)unlinkat(d->dirfd, "lock", 0);
	(void)rmdir(d->dir);
	_exit(0);
}

static size_t count_attached(const struct netd *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_clients; i++)
		n += d->clients[i].attached;
	return n;
}

static void reply(int fd, const struct netd_reply *rep)
{
	(void)send(fd, rep, sizeof(*rep), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The lowest free address, or 0 when the subnet is full. */
static uint32_t free_host(const struct netd *d)
{
	for (uint32_t i = FIRST_HOST; i + 1 < host_count(&d->net); i++) {
		bool used = false;
		for (size_t k = 0; k < d->n_clients && !used; k++)
			used = d->clients[k].attached && d->clients[k].host == i;
		if (!used)
			return i;
	}
	return 0;
}

static bool name_taken(const struct netd *d, const char *name)
{
	for (size_t k = 0; k < d->n_clients; k++)
		if (d->clients[k].attached && strcmp(d->clients[k].name, name) == 0)
			return true;
	return false;
}

/* 'a' NAME with the sandbox's network namespace: address, veth, hosts entry. */
static void attach(struct netd *d, struct client *c, int netns_fd, const char *name, struct netd_reply *rep)
{
	struct ubx_err *e = &rep->err;
	uint32_t host;

	if (c->attached || netns_fd < 0) {
		ubx_fail(e, EINVAL, "bad request");
		return;
	}
	if (name[0] && name_taken(d, name)) {
		ubx_fail(e, 0, "the name %s is in use on network %s", name, d->net.name);
		return;
	}
	if (!(host = free_host(d))) {
		ubx_fail(e, 0, "network %s has no free address", d->net.name);
		return;
	}
	snprintf(c->ifname, sizeof(c->ifname), "vb%u", host);
	if (nl_veth_add(d->nl, c->ifname, d->bridge, netns_fd, e) == -EEXIST) {
		nl_link_delete(d->nl, c->ifname); /* a leftover of a connection that broke */
		*e = (struct ubx_err){ 0 };
		nl_veth_add(d->nl, c->ifname, d->bridge, netns_fd, e);
	}
	if (e->msg[0])
		return;
	c->attached = true;
	c->host = host;
	snprintf(c->name, sizeof(c->name), "%.63s", name);
	write_hosts(d);
	rep->lease = netns_network_lease(&d->net, host);
}

/* 'r' or 'R' with the sandbox's listener (IPv4 or IPv6) of its TCP
 * redirect: relay what it accepts, under the uplink's policy.  Only a
 * listening TCP socket of that family, once per attached client. */
static void take_relay(struct netd *d, struct client *c, int *fd, bool v6, struct ubx_err *e)
{
	int acc = 0, proto = 0, domain = 0;
	socklen_t len = sizeof(int);
	bool *had = v6 ? &c->relay6 : &c->relay4;

	if (!c->attached || *fd < 0 || *had)
		return (void)ubx_fail(e, EINVAL, "bad request");
	if (getsockopt(*fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc ||
	    getsockopt(*fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0 || proto != IPPROTO_TCP ||
	    getsockopt(*fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != (v6 ? AF_INET6 : AF_INET))
		return (void)ubx_fail(e, EINVAL, "not a listening TCP socket");
	int flags = fcntl(*fd, F_GETFL);
	if (flags < 0 || fcntl(*fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return (void)ubx_fail(e, errno, "listener");
	int taken = TAKE_FD(*fd); /* the relay's, also when it fails */
	if (netns_slirp_relay(d->slirp, c->fd, v6 ? -1 : taken, v6 ? taken : -1, e) == 0)
		*had = true;
}

static void drop_client(struct netd *d, size_t i)
{
	struct client *c = &d->clients[i];
	netns_slirp_relay_drop(d->slirp, c->fd);
	if (c->attached) {
		nl_link_delete(d->nl, c->ifname);
		c->attached = false;
	}
	close(c->fd);
	d->clients[i] = d->clients[--d->n_clients];
	write_hosts(d);
}

/* Serves one request of client @i.  Return: false when it hung up. */
static bool serve(struct netd *d, size_t i)
{
	struct client *c = &d->clients[i];
	struct netd_reply rep = { 0 };
	char buf[128];
	size_t got;
	int fd;

	if (fd_recv(c->fd, buf, sizeof(buf) - 1, &got, &fd) < 0 || got == 0)
		return false;
	buf[got] = '\0';
	switch (buf[0]) {
	case 'a':
		attach(d, c, fd, buf + 1, &rep);
		break;
	case 'r':
	case 'R':
		take_relay(d, c, &fd, buf[0] == 'R', &rep.err);
		break;
	case 's':
		break;
	case 'q': /* network rm, which holds the lock: leave only when unused */
		if (count_attached(d) == 0 && d->n_clients == 1) {
			rep.users = 0;
			reply(c->fd, &rep);
			netd_exit(d);
		}
		ubx_fail(&rep.err, EBUSY, "in use");
		if (fd >= 0)
			close(fd);
		rep.users = (uint32_t)(d->n_clients - 1); /* attached, or about to be */
		reply(c->fd, &rep);
		return true;
	default:
		ubx_fail(&rep.err, EINVAL, "bad request");
	}
	if (fd >= 0)
		close(fd);
	rep.users = (uint32_t)count_attached(d);
	reply(c->fd, &rep);
	return true;
}

static void accept_client(struct netd *d)
{
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (d->n_clients == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct client *grown = cap < POLL_CAP / 2 ? realloc(d->clients, cap * sizeof(*grown)) : NULL;
		if (!grown) {
			close(fd);
			return;
		}
		d->clients = grown;
		d->cap = cap;
	}
	if (fd_send_msg(fd, d->userns, GREETING, sizeof(GREETING)) < 0) {
		close(fd);
		return;
	}
	d->clients[d->n_clients++] = (struct client){ .fd = fd };
}

/* Leaves when idle long enough and no run is connecting (they hold the lock shared). */
static void maybe_leave(struct netd *d)
{
	if (d->n_clients) {
		d->idle_since = 0;
		return;
	}
	int64_t now = now_ms();
	if (!d->idle_since)
		d->idle_since = now;
	if (now - d->idle_since < (int64_t)d->idle * 1000)
		return;
	if (flock(d->lock, LOCK_EX | LOCK_NB) == 0 && d->n_clients == 0)
		netd_exit(d);
	d->idle_since = now; /* someone is connecting: look again later */
}

static _Noreturn void netd_loop(struct netd *d)
{
	for (;;) {
		size_t n = 1 + d->n_clients;
		int timeout = -1;

		maybe_leave(d);
		if (!d->n_clients)
			timeout = (int)(d->idle_since + (int64_t)d->idle * 1000 - now_ms() + 1);
		d->fds[0] = (struct pollfd){ .fd = d->listen_fd, .events = POLLIN };
		for (size_t i = 0; i < d->n_clients; i++)
			d->fds[1 + i] = (struct pollfd){ .fd = d->clients[i].fd, .events = POLLIN };
		netns_slirp_fill(d->slirp, d->fds, &n, POLL_CAP, &timeout);
		if (poll(d->fds, n, timeout) < 0)
			continue;
		netns_slirp_dispatch(d->slirp, d->fds);
		/* Backwards, so that dropping one (the last moves into its slot)
		 * leaves the ones still to visit in place. */
		for (size_t i = d->n_clients; i-- > 0;)
			if ((d->fds[1 + i].revents & (POLLIN | POLLHUP | POLLERR)) && !serve(d, i))
				drop_client(d, i);
		if (d->fds[0].revents & POLLIN)
			accept_client(d);
	}
}

static int idle_seconds(void)
{
	uint64_t v;
	const char *s = getenv("USBOX_HOLDER_IDLE");
	return s && parse_u64(s, 86400, &v) == 0 && v > 0 ? (int)v : IDLE_DEFAULT;
}

struct helper_args {
	const struct netns_network *net;
	const char *dir;
};

/* The helper, once it has its user namespace (see daemon_spawn()): wait for
 * its maps, set up, report over fd 3, then serve. */
static _Noreturn void helper_main(void *arg)
{
	const struct helper_args *a = arg;
	struct netd d = { .net = *a->net, .dirfd = -1, .lock = -1, .listen_fd = -1, .userns = -1, .netns = -1,
			  .hosts = -1, .holder_lock = -1, .idle = idle_seconds() };
	struct ubx_err e = { 0 };
	char go;

	snprintf(d.dir, sizeof(d.dir), "%s", a->dir);
	if (read(3, &go, 1) != 1)
		_exit(1);
	int r = netd_setup(&d, &e);
	if (write(3, &e, sizeof(e)) != sizeof(e) || r < 0)
		netd_exit(&d);
	close(3);
	netd_loop(&d);
}

int netd_spawn(const struct netns_network *n, const char *dir, struct ubx_err *e)
{
	struct helper_args args = { n, dir };
	struct ubx_err theirs;
	char title[64];
	int fd;

	snprintf(title, sizeof(title), "usbox-net %s", n->name);
	pid_t pid = daemon_spawn(title, helper_main, &args, &fd, e);
	if (pid < 0)
		return pid;
	_cleanup_close_ int sock = fd;
	int r = idmap_write_identity(pid, e);
	if (r < 0) {
		kill(pid, SIGKILL);
		return ubx_wrap(e, "network %s's helper", n->name);
	}
	if (write(sock, "g", 1) != 1 || read(sock, &theirs, sizeof(theirs)) != sizeof(theirs))
		return ubx_fail(e, EPIPE, "the helper of network %s died while starting", n->name);
	if (theirs.msg[0]) {
		*e = theirs;
		e->msg[sizeof(e->msg) - 1] = '\0';
		return ubx_wrap(e, "network %s", n->name);
	}
	return 0;
}
