/* SPDX-License-Identifier: MIT */
/*
 * portrelay.c - the -p relay: one thread of the supervisor that accepts,
 * connects inside and moves bytes, apart from the supervisor's poll loop.
 *
 * DOC: Theory of operation
 * The thread waits on one epoll set (level-triggered) holding the host-side
 * listening sockets, both sockets of every connection, the UDP sockets and
 * an eventfd that tells it to end.  A readable side is read once into a
 * shared buffer and written to the other side at once: a request of a few
 * hundred bytes costs one recv() and one send(), and epoll hands over every
 * ready connection in one wake-up under load.  What the other side does not
 * take is kept for that direction, which then stops reading until it is
 * written (so one connection holds at most PF_BUF_BYTES per direction).  An
 * EOF is passed on as a shutdown of the other side's writing half.
 *
 * Bounds: at most max_conns connections (from RLIMIT_NOFILE, at most
 * PF_MAX_CONNS); when they are all in use, or descriptors run out, the
 * listeners are left unwatched, so more clients wait in the kernel's backlog
 * instead of costing the supervisor anything.  The thread only ever connects,
 * inside the sandbox's network namespace, to the forwarded port on its
 * loopback.  Within one batch of events, accepts come last, so a slot freed
 * by an earlier event is not reused while later events may still name it.
 *
 * Cost (measured on 2 vCPUs, redis-benchmark GET with 50 clients): about
 * 15-20 us of CPU a request, as much as the client itself spends; under load
 * an epoll_wait hands over ~40 ready sides, each costs exactly one recv() and
 * one send(), and no epoll_ctl().  perf: send() is ~64% (most of it the
 * receiving side's TCP processing and its wake-up, which loopback runs in
 * the sender's context), recv() ~17%, epoll_wait ~17% (half of it sleeping
 * and waking), this file's own code ~2%.  Tried and left out, as no faster
 * there: two threads (one a CPU, each taking clients from the shared
 * listeners), spinning on epoll_wait(0) for 30-100 us before sleeping.
 * Reading until EAGAIN (edge-triggered) would only add a recv() a message;
 * splice() adds two pipe operations a message.
 */
#include "portfwd_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

enum { EV_WAKE, EV_LISTEN, EV_CONN, EV_UDP };

#define BATCH 64

/* An event's tag: its kind and two indexes (a listener or connection, and
 * a side or peer). */
static uint64_t tag(unsigned kind, uint32_t a, uint32_t b)
{
	return (uint64_t)kind << 56 | (uint64_t)a << 24 | b;
}

static unsigned tag_kind(uint64_t t)
{
	return (unsigned)(t >> 56);
}

static uint32_t tag_a(uint64_t t)
{
	return (uint32_t)(t >> 24) & 0xffffffffu;
}

static uint32_t tag_b(uint64_t t)
{
	return (uint32_t)t & 0xffffffu;
}

static int watch(struct portfwd *pf, int op, int fd, uint32_t events, uint64_t t)
{
	struct epoll_event ev = { .events = events, .data.u64 = t };
	return epoll_ctl(pf->ep, op, fd, &ev);
}

/* Watches or leaves the listeners (TCP only: UDP has no backlog to wait in). */
static void listeners_watch(struct portfwd *pf, bool on)
{
	for (size_t i = 0; i < pf->n; i++)
		for (int k = 0; k < 2; k++)
			if (pf->l[i].fd[k] >= 0 && !pf->l[i].spec.udp && !pf->l[i].handed[k])
				(void)watch(pf, EPOLL_CTL_MOD, pf->l[i].fd[k], on ? EPOLLIN : 0, tag(EV_LISTEN, (uint32_t)i, (uint32_t)k));
	pf->paused = !on;
}

/* What each side of a connection waits for. */
static uint32_t conn_want(const struct pf_conn *c, int k)
{
	if (c->connecting) /* the client's bytes wait in its socket meanwhile */
		return k == 1 ? EPOLLOUT : 0;
	uint32_t ev = c->dir[k].eof || c->dir[k].len ? 0 : EPOLLIN;
	if (c->dir[1 - k].len)
		ev |= EPOLLOUT;
	return ev;
}

/* Watches each side of @c for what it waits for; a side that waits for
 * nothing is left out of the set, since epoll reports a hang-up whatever one
 * asks.  Return: 0 or -1. */
static int conn_update(struct portfwd *pf, struct pf_conn *c)
{
	size_t idx = (size_t)(c - pf->conns);
	for (int k = 0; k < 2; k++) {
		uint32_t want = conn_want(c, k);
		if (want == c->ev[k])
			continue;
		int op = !c->ev[k] ? EPOLL_CTL_ADD : want ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
		if (watch(pf, op, c->fd[k], want, tag(EV_CONN, (uint32_t)idx, (uint32_t)k)) < 0)
			return -1;
		c->ev[k] = want;
	}
	return 0;
}

void pf_conn_close(struct portfwd *pf, struct pf_conn *c)
{
	for (int k = 0; k < 2; k++) {
		if (c->fd[k] >= 0)
			close(c->fd[k]);
		free(c->dir[k].buf);
	}
	*c = (struct pf_conn){ .fd = { -1, -1 } };
	pf->n_conns--;
	if (pf->paused && pf->n_conns < pf->max_conns)
		listeners_watch(pf, true);
}

/* @fd (non-blocking; -1: a failure, with errno) connecting to @to: @fd, or
 * -1 with errno when the connect failed at once. */
static int start_connect(int fd, const struct sockaddr *to, socklen_t len)
{
	if (fd < 0 || connect(fd, to, len) == 0 || errno == EINPROGRESS)
		return fd;
	int err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* A socket inside connecting to the sandbox port on 127.0.0.1, or with @v6
 * on ::1; -1, with errno, when that failed. */
static int connect_inside(struct portfwd *pf, const struct portfwd_spec *s, bool v6)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(s->sandbox_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6, .sin6_port = htons(s->sandbox_port),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	return start_connect(pf_inside_socket(pf, s->udp, v6), v6 ? (struct sockaddr *)&to6 : (struct sockaddr *)&to,
			     v6 ? sizeof(to6) : sizeof(to));
}

/* A socket here connecting to the listener a server inside holds (direct
 * ports), whose place in @pf @to names (pf_listener.to): its own address,
 * or loopback for a wildcard one; -1, with errno, when that failed. */
static int connect_handed(const struct portfwd *pf, unsigned to)
{
	const struct portfwd_spec *s = &pf->l[(to - 1) / 2].spec;
	bool twin = (to - 1) % 2; /* [::] beside 0.0.0.0 */
	struct sockaddr_in to4 = { .sin_family = AF_INET, .sin_port = htons(s->host_port),
				   .sin_addr.s_addr = s->host_ip ? s->host_ip : htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6, .sin6_port = htons(s->host_port),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool v6 = s->ip6 || twin;
	if (s->ip6 && !IN6_IS_ADDR_UNSPECIFIED((const struct in6_addr *)s->host_ip6))
		memcpy(&to6.sin6_addr, s->host_ip6, 16);
	return start_connect(socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
			     v6 ? (struct sockaddr *)&to6 : (struct sockaddr *)&to4, v6 ? sizeof(to6) : sizeof(to4));
}

/* The sandbox side of @c: to 127.0.0.1, else (refused at once) to ::1 - or
 * to the listener a server inside took over; watched for the end of the
 * connect.  Return: 0 or -1. */
static int conn_inside(struct portfwd *pf, struct pf_conn *c, bool v6)
{
	int one = 1;
	const struct pf_listener *l = (const struct pf_listener *)(const void *)c->spec; /* its first member */
	unsigned to = l->to;
	c->inside6 = v6 || to; /* (nothing to try after it) */
	c->fd[1] = to ? connect_handed(pf, to) : connect_inside(pf, c->spec, v6);
	if (c->fd[1] < 0 && errno == ECONNREFUSED && !c->inside6)
		return conn_inside(pf, c, true);
	if (c->fd[1] < 0)
		return -1;
	(void)setsockopt(c->fd[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->connecting = true;
	c->ev[1] = 0; /* a new socket: in no set yet */
	return conn_update(pf, c);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct pf_conn *conn_slot(struct portfwd *pf)
{
	for (size_t i = 0; i < pf->max_conns; i++)
		if (pf->conns[i].fd[0] < 0)
			return &pf->conns[i];
	return NULL;
}

/* One client: a slot, the socket inside; false when no more can be taken now. */
static bool accept_one(struct portfwd *pf, struct pf_listener *l, int via)
{
	int one = 1;
	pthread_mutex_lock(&pf->take);
	/* (a listener handed over may have turned blocking meanwhile) */
	int host = l->handed[via] ? (errno = EAGAIN, -1) : accept4(l->fd[via], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	pthread_mutex_unlock(&pf->take);
	if (host < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			listeners_watch(pf, false); /* look again after a while */
			pf->resume_at = now_ms() + 100;
		}
		return false;
	}
	struct pf_conn *c = conn_slot(pf);
	*c = (struct pf_conn){ .fd = { host, -1 }, .spec = &l->spec };
	pf->n_conns++;
	(void)setsockopt(host, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (conn_inside(pf, c, false) < 0)
		pf_conn_close(pf, c); /* the client sees the connection closed */
	return true;
}

static void accept_tcp(struct portfwd *pf, struct pf_listener *l, int via)
{
	while (pf->n_conns < pf->max_conns && !pf->paused && accept_one(pf, l, via))
		;
	if (pf->n_conns >= pf->max_conns && !pf->paused)
		listeners_watch(pf, false); /* full: clients wait in the backlog */
}

/* Keeps what the other side did not take: [@p, @p + @n). */
static int keep(struct pf_half *h, const char *p, size_t n)
{
	if (!h->buf && !(h->buf = malloc(PF_BUF_BYTES)))
		return -1;
	memcpy(h->buf, p, n);
	h->off = 0;
	h->len = (uint32_t)n;
	return 0;
}

/* Reads side @d once and writes it to the other.  Return: 0, or -1 when the
 * connection is over. */
static int relay(struct portfwd *pf, struct pf_conn *c, int d)
{
	struct pf_half *h = &c->dir[d];
	ssize_t n = recv(c->fd[d], pf->buf, sizeof(pf->buf), 0);
	if (n == 0) {
		h->eof = true;
		(void)shutdown(c->fd[1 - d], SHUT_WR);
		return 0;
	}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	ssize_t w = send(c->fd[1 - d], pf->buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0 && errno != EAGAIN)
		return -1;
	w = w < 0 ? 0 : w;
	return w < n ? keep(h, pf->buf + w, (size_t)(n - w)) : 0;
}

/* Writes what waits for side @k.  Return: 0, or -1 when the connection is over. */
static int flush(struct pf_conn *c, int k)
{
	struct pf_half *h = &c->dir[1 - k];
	if (!h->len)
		return 0;
	ssize_t w = send(c->fd[k], h->buf + h->off, h->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0)
		return errno == EAGAIN ? 0 : -1;
	h->off += (uint32_t)w;
	h->len -= (uint32_t)w;
	if (!h->len) {
		free(h->buf);
		h->buf = NULL;
	}
	return 0;
}

/* The connect inside has ended: 0 when connected, 1 when it goes on (to
 * ::1), -1 when the connection is over. */
static int connected(struct portfwd *pf, struct pf_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err == ECONNREFUSED && !c->inside6) { /* nothing on 127.0.0.1: try ::1 */
		close(c->fd[1]); /* (which leaves the set) */
		return conn_inside(pf, c, true) < 0 ? -1 : 1;
	}
	if (err) /* nothing listens inside: the client sees the connection closed */
		return -1;
	c->connecting = false;
	return 0;
}

/* Side @k of @c is ready (@events).  Return: false when @c is over. */
static bool service_side(struct portfwd *pf, struct pf_conn *c, int k, uint32_t events)
{
	if (k == 1 && c->connecting) {
		int r = connected(pf, c);
		if (r)
			return r > 0;
	}
	if (events & EPOLLERR)
		return false;
	if ((events & EPOLLOUT) && flush(c, k) < 0)
		return false;
	if (events & (EPOLLIN | EPOLLHUP)) {
		if (c->dir[k].eof) /* hung up after its EOF, before taking what we had for it */
			return false;
		if (!c->dir[k].len && relay(pf, c, k) < 0)
			return false;
	}
	return !(c->dir[0].eof && !c->dir[0].len && c->dir[1].eof && !c->dir[1].len);
}

static void udp_from_client(struct portfwd *pf, struct pf_listener *l, int via)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(l->fd[via], pf->buf, sizeof(pf->buf), 0, (struct sockaddr *)&from, &flen)) >= 0) {
		struct pf_udp_peer *p = NULL, *free_slot = NULL;
		for (size_t k = 0; k < PF_MAX_UDP_PEERS; k++) {
			struct pf_udp_peer *q = &l->peers[k];
			if (q->fd >= 0 && q->via == via && q->clen == flen && memcmp(&q->client, &from, flen) == 0)
				p = q;
			else if (q->fd < 0 && !free_slot)
				free_slot = q;
		}
		if (!p && free_slot && (free_slot->fd = connect_inside(pf, &l->spec, false)) >= 0) {
			p = free_slot;
			*p = (struct pf_udp_peer){ .client = from, .clen = flen, .via = via, .fd = p->fd };
			if (watch(pf, EPOLL_CTL_ADD, p->fd, EPOLLIN, tag(EV_UDP, (uint32_t)(l - pf->l), (uint32_t)(p - l->peers))) < 0)
				p->fd = (close(p->fd), -1);
		}
		if (p && p->fd >= 0)
			(void)send(p->fd, pf->buf, (size_t)n, MSG_DONTWAIT);
		flen = sizeof(from);
	}
}

static void udp_from_sandbox(struct portfwd *pf, struct pf_listener *l, struct pf_udp_peer *p)
{
	ssize_t n;
	if (p->fd < 0)
		return;
	while ((n = recv(p->fd, pf->buf, sizeof(pf->buf), 0)) >= 0)
		(void)sendto(l->fd[p->via], pf->buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&p->client, p->clen);
	if (errno != EAGAIN) /* e.g. refused: nobody listens inside yet */
		p->fd = (close(p->fd), -1);
}

/* The events of one batch but the listeners' (see the top of the file). */
static void handle(struct portfwd *pf, const struct epoll_event *ev)
{
	uint64_t t = ev->data.u64;
	uint32_t a = tag_a(t), b = tag_b(t);

	if (tag_kind(t) == EV_CONN) {
		struct pf_conn *c = &pf->conns[a];
		if (c->fd[0] < 0) /* closed by an earlier event of this batch */
			return;
		if (!service_side(pf, c, (int)b, ev->events) || conn_update(pf, c) < 0)
			pf_conn_close(pf, c);
	} else if (tag_kind(t) == EV_UDP) {
		udp_from_sandbox(pf, &pf->l[a], &pf->l[a].peers[b]);
	}
}

static void handle_listener(struct portfwd *pf, uint64_t t)
{
	struct pf_listener *l = &pf->l[tag_a(t)];
	if (l->spec.udp)
		udp_from_client(pf, l, (int)tag_b(t));
	else
		accept_tcp(pf, l, (int)tag_b(t));
}

static int watch_all(struct portfwd *pf)
{
	if (watch(pf, EPOLL_CTL_ADD, pf->wake, EPOLLIN, tag(EV_WAKE, 0, 0)) < 0)
		return -1;
	for (size_t i = 0; i < pf->n; i++)
		for (int k = 0; k < 2; k++)
			if (pf->l[i].fd[k] >= 0 && !pf->l[i].handed[k] &&
			    watch(pf, EPOLL_CTL_ADD, pf->l[i].fd[k], EPOLLIN, tag(EV_LISTEN, (uint32_t)i, (uint32_t)k)) < 0)
				return -1;
	return 0;
}

void *pf_relay_main(void *arg)
{
	struct portfwd *pf = arg;
	struct epoll_event evs[BATCH];

	if (watch_all(pf) < 0)
		return NULL;
	for (;;) {
		/* paused for want of descriptors: look again in a while */
		bool starved = pf->paused && pf->n_conns < pf->max_conns;
		int n = epoll_wait(pf->ep, evs, BATCH, starved ? 100 : -1);
		if (n < 0 && errno != EINTR)
			return NULL;
		if (starved && now_ms() >= pf->resume_at)
			listeners_watch(pf, true);
		for (int i = 0; i < n; i++) {
			if (tag_kind(evs[i].data.u64) == EV_WAKE)
				return NULL;
			handle(pf, &evs[i]);
		}
		for (int i = 0; i < n; i++)
			if (tag_kind(evs[i].data.u64) == EV_LISTEN)
				handle_listener(pf, evs[i].data.u64);
	}
}
