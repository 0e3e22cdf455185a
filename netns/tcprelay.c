/* SPDX-License-Identifier: MIT */
/*
 * tcprelay.c - the slirp network's outbound TCP, kernel to kernel: the
 * supervisor's end of the redirect that redirect.c sets up in the sandbox.
 *
 * DOC: Theory of operation
 * The listeners (127.0.0.1:P and [::1]:P inside the sandbox's network
 * namespace) are polled with the rest of the supervisor's loop.  For each
 * connection accepted, the original destination is read back from
 * conntrack (SO_ORIGINAL_DST, IP6T_SO_ORIGINAL_DST); a connection that was
 * not redirected (someone inside connected to the listener itself) has
 * none other than the listener's own address and is reset.  The caller's
 * decide() then applies the network's policy and says where to connect in
 * the supervisor's own namespace; a refusal is a reset (RST) at once.  Then
 * a non-blocking connect, and bytes move with splice() through a pipe per
 * direction: the sandbox's TCP and the outside's are both the kernel's, with
 * window scaling, so a long path runs at the speed it would without usbox.
 * A half-closed side is shut down on the other; an error resets both.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define RELAY_CONNS 512
#define PIPE_BYTES (1 << 20)
#define ACCEPTS_PER_ROUND 16
#define SPLICES_PER_ROUND 16 /* per direction: then the others get their turn */

struct way { /* one direction: from -> pipe -> to */
	int pipe[2];
	size_t cap, queued;
	bool full;           /* the pipe took no more (its pages hold less than cap): until some drain */
	bool eof;            /* from said EOF */
	bool shut;           /* and to was shut down for writing */
};

struct relay_conn {
	int fd[2];           /* [0] inside (accepted), [1] outside; -1 when the slot is free */
	bool connecting;     /* fd[1] */
	struct way way[2];   /* [0] inside -> outside, [1] back */
	size_t idx[2];       /* in the poll array, or SIZE_MAX */
};

struct tcprelay {
	int listen[2];
	size_t listen_idx[2];
	tcprelay_decide_fn decide;
	void *ctx;
	size_t used;         /* busy slots */
	unsigned long accepted;
	struct relay_conn conns[RELAY_CONNS];
};

/* Closes @fd with a RST rather than a FIN. */
static void reset_fd(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void slot_clear(struct relay_conn *c)
{
	*c = (struct relay_conn){ .fd = { -1, -1 }, .way = { { .pipe = { -1, -1 } }, { .pipe = { -1, -1 } } } };
}

static void conn_free(struct tcprelay *r, struct relay_conn *c, bool reset)
{
	for (int k = 0; k < 2; k++) {
		if (c->fd[k] >= 0)
			reset ? reset_fd(c->fd[k]) : (void)close(c->fd[k]);
		for (int p = 0; p < 2; p++)
			if (c->way[k].pipe[p] >= 0)
				close(c->way[k].pipe[p]);
	}
	slot_clear(c);
	r->used--;
}

/* The destination the connection @fd was sent to before the redirect, or
 * -1 when it was not redirected. */
static int original_dst(int fd, int family, struct sockaddr_storage *dst, socklen_t *len)
{
	struct sockaddr_storage self;
	socklen_t slen = sizeof(self);

	*len = sizeof(*dst);
	memset(dst, 0, sizeof(*dst));
	if (family == AF_INET ? getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, dst, len) < 0
			      : getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, dst, len) < 0)
		return -1;
	if (getsockname(fd, (struct sockaddr *)&self, &slen) < 0 || dst->ss_family != family)
		return -1;
	if (family == AF_INET) {
		const struct sockaddr_in *a = (const void *)dst, *b = (const void *)&self;
		return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr ? -1 : 0;
	}
	const struct sockaddr_in6 *a = (const void *)dst, *b = (const void *)&self;
	return a->sin6_port == b->sin6_port && !memcmp(&a->sin6_addr, &b->sin6_addr, 16) ? -1 : 0;
}

static int open_pipes(struct relay_conn *c)
{
	for (int k = 0; k < 2; k++) {
		if (pipe2(c->way[k].pipe, O_NONBLOCK | O_CLOEXEC) < 0)
			return -1;
		(void)fcntl(c->way[k].pipe[1], F_SETPIPE_SZ, PIPE_BYTES);
		int cap = fcntl(c->way[k].pipe[1], F_GETPIPE_SZ);
		c->way[k].cap = cap > 0 ? (size_t)cap : 65536;
	}
	return 0;
}

/* Starts relaying the accepted @in to where decide() says; resets it when
 * refused or when that fails. */
static void start_conn(struct tcprelay *r, int in, int family)
{
	struct sockaddr_storage dst, peer, to;
	socklen_t dlen, plen = sizeof(peer), tlen = sizeof(to);
	struct relay_conn *c = NULL;
	int one = 1;

	for (size_t i = 0; i < RELAY_CONNS && !c; i++)
		if (r->conns[i].fd[0] < 0)
			c = &r->conns[i];
	if (!c || original_dst(in, family, &dst, &dlen) < 0 ||
	    getpeername(in, (struct sockaddr *)&peer, &plen) < 0 ||
	    r->decide(r->ctx, &dst, &peer, &to, &tlen) < 0) {
		reset_fd(in);
		return;
	}
	r->used++;
	r->accepted++;
	c->fd[0] = in;
	c->fd[1] = socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd[1] < 0 || open_pipes(c) < 0 ||
	    (connect(c->fd[1], (struct sockaddr *)&to, tlen) < 0 && errno != EINPROGRESS)) {
		conn_free(r, c, true);
		return;
	}
	/* Nagle is the sandbox's choice, made on its own socket already. */
	(void)setsockopt(in, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(c->fd[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->connecting = true;
}

static void accept_some(struct tcprelay *r, int k)
{
	for (int i = 0; i < ACCEPTS_PER_ROUND && r->used < RELAY_CONNS; i++) {
		int in = accept4(r->listen[k], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (in < 0)
			return;
		start_conn(r, in, k == 0 ? AF_INET : AF_INET6);
	}
}

/* Moves what it can one way.  Return: false on an error. */
static bool pump(struct way *w, int from, int to)
{
	for (int i = 0; i < SPLICES_PER_ROUND; i++) {
		bool moved = false;
		if (!w->eof && !w->full && w->queued < w->cap) {
			ssize_t n = splice(from, NULL, w->pipe[1], NULL, w->cap - w->queued,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0 && errno != EAGAIN)
				return false;
			if (n < 0 && w->queued) /* from empty, or the pipe full: not polled for until it drains */
				w->full = true;
			if (n == 0)
				w->eof = true;
			if (n > 0)
				w->queued += (size_t)n, moved = true;
		}
		if (w->queued) {
			ssize_t n = splice(w->pipe[0], NULL, to, NULL, w->queued, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0 && errno != EAGAIN)
				return false;
			if (n > 0)
				w->queued -= (size_t)n, w->full = false, moved = true;
		}
		if (!moved)
			break;
	}
	if (w->eof && !w->queued && !w->shut) {
		(void)shutdown(to, SHUT_WR);
		w->shut = true;
	}
	return true;
}

static void serve_conn(struct tcprelay *r, struct relay_conn *c, const struct pollfd *fds)
{
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (fds[c->idx[0]].revents & (POLLERR | POLLHUP)) {
			conn_free(r, c, true); /* given up inside before the connection was made */
			return;
		}
		if (!fds[c->idx[1]].revents)
			return;
		if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			conn_free(r, c, true); /* refused or unreachable outside: so it is inside */
			return;
		}
		c->connecting = false;
	}
	if (!pump(&c->way[0], c->fd[0], c->fd[1]) || !pump(&c->way[1], c->fd[1], c->fd[0]))
		conn_free(r, c, true);
	else if (c->way[0].shut && c->way[1].shut)
		conn_free(r, c, false);
}

static size_t add(struct pollfd *fds, size_t *n, size_t cap, int fd, short events)
{
	if (*n >= cap)
		return SIZE_MAX;
	fds[*n] = (struct pollfd){ .fd = fd, .events = events };
	return (*n)++;
}

/* What side @k of @c waits for. */
static short conn_events(const struct relay_conn *c, int k)
{
	if (c->connecting)
		return k == 1 ? POLLOUT : 0;
	const struct way *mine = &c->way[k], *back = &c->way[1 - k];
	return (short)((!mine->eof && !mine->full && mine->queued < mine->cap ? POLLIN : 0) |
		       (back->queued ? POLLOUT : 0));
}

void tcprelay_fill(struct tcprelay *r, struct pollfd *fds, size_t *n, size_t cap)
{
	for (int k = 0; k < 2; k++)
		r->listen_idx[k] = r->listen[k] >= 0 && r->used < RELAY_CONNS ? add(fds, n, cap, r->listen[k], POLLIN)
									      : SIZE_MAX;
	for (size_t i = 0; i < RELAY_CONNS; i++) {
		struct relay_conn *c = &r->conns[i];
		for (int k = 0; c->fd[0] >= 0 && k < 2; k++)
			c->idx[k] = add(fds, n, cap, c->fd[k], conn_events(c, k));
	}
}

void tcprelay_dispatch(struct tcprelay *r, const struct pollfd *fds)
{
	for (size_t i = 0; i < RELAY_CONNS; i++) {
		struct relay_conn *c = &r->conns[i];
		if (c->fd[0] >= 0 && c->idx[0] != SIZE_MAX && c->idx[1] != SIZE_MAX &&
		    (fds[c->idx[0]].revents || fds[c->idx[1]].revents))
			serve_conn(r, c, fds);
	}
	for (int k = 0; k < 2; k++) /* after: a new connection's indexes are set next round */
		if (r->listen_idx[k] != SIZE_MAX && (fds[r->listen_idx[k]].revents & POLLIN))
			accept_some(r, k);
}

/* Each connection holds six descriptors: allow what the hard limit allows
 * (the supervisor's own limit; the sandbox has started with the caller's). */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int tcprelay_new(int listen4, int listen6, tcprelay_decide_fn decide, void *ctx, struct tcprelay **out,
		 struct ubx_err *e)
{
	struct tcprelay *r = calloc(1, sizeof(*r));
	if (!r) {
		if (listen4 >= 0)
			close(listen4);
		if (listen6 >= 0)
			close(listen6);
		return ubx_fail(e, ENOMEM, "the TCP relay");
	}
	*r = (struct tcprelay){ .listen = { listen4, listen6 }, .decide = decide, .ctx = ctx };
	for (size_t i = 0; i < RELAY_CONNS; i++)
		slot_clear(&r->conns[i]);
	raise_fd_limit();
	*out = r;
	return 0;
}

unsigned long tcprelay_accepted(const struct tcprelay *r)
{
	return r ? r->accepted : 0;
}

void tcprelay_free(struct tcprelay *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < RELAY_CONNS; i++)
		if (r->conns[i].fd[0] >= 0)
			conn_free(r, &r->conns[i], true);
	for (int k = 0; k < 2; k++)
		if (r->listen[k] >= 0)
			close(r->listen[k]);
	free(r);
}
