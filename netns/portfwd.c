/* SPDX-License-Identifier: MIT */
/*
 * portfwd.c - -p: host ports forwarded into the sandbox at the socket level.
 *
 * DOC: Theory of operation
 * Every forwarded port has a socket bound in the host's network namespace
 * before the sandbox starts: without an address, one on 0.0.0.0 and one on
 * [::] (IPv6 only, where the host has IPv6).  For each TCP connection
 * accepted there, usbox gets a fresh socket created inside the sandbox's
 * namespace (from its init, over SCM_RIGHTS), connects it to
 * 127.0.0.1:SANDBOXPORT - or, when that is refused, with an IPv6 socket to
 * [::1]:SANDBOXPORT, so that a server listening on ::1 alone is reached too
 * - and moves bytes between the two with splice() through a pipe per
 * direction, never through the user-mode TCP/IP stack.  A half-closed side
 * is shut down on the other.  For UDP, each client address gets its own
 * socket inside, connected to 127.0.0.1:SANDBOXPORT; replies go back to that
 * client from the socket it wrote to.
 */
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/fdpass.h"
#include "../common/parse.h"

#define MAX_CONNS 256
#define MAX_UDP_PEERS 64
#define PIPE_BYTES (1 << 20)

struct half {         /* one direction: from -> pipe -> to */
	int pipe[2];
	size_t cap;       /* the pipe's capacity */
	size_t queued;    /* bytes in the pipe */
	bool eof;         /* from said EOF and the pipe is drained: shut to down */
};

struct conn {
	int fd[2];        /* [0] host side, [1] sandbox side; -1 when free */
	bool connecting;  /* fd[1] still connecting */
	bool inside6;     /* fd[1] is the IPv6 socket to [::1] */
	const struct portfwd_spec *spec;
	struct half dir[2]; /* [0] host -> sandbox, [1] sandbox -> host */
	size_t idx[2];    /* where fd[0], fd[1] are in the poll array */
};

struct udp_peer {
	struct sockaddr_storage client;
	socklen_t clen;
	int via;          /* the listener's socket it wrote to (0 or 1) */
	int fd;           /* inside, connected to the sandbox port; -1 when free */
	size_t idx;
};

struct listener {
	struct portfwd_spec spec;
	int fd[2];        /* [0] the address asked for, or 0.0.0.0; [1] [::] beside 0.0.0.0, or -1 */
	size_t idx[2];
	struct udp_peer peers[MAX_UDP_PEERS];
};

struct portfwd {
	struct listener *l;
	size_t n;
	int factory;
	struct conn conns[MAX_CONNS];
};

static void conn_reset(struct conn *c)
{
	*c = (struct conn){ .fd = { -1, -1 }, .dir = { { .pipe = { -1, -1 } }, { .pipe = { -1, -1 } } } };
}

/* "[V6]:" at the start of @buf: the address into @spec; *@rest after it. */
static int parse_ip6(char *buf, struct portfwd_spec *spec, char **rest)
{
	char *end = strchr(buf, ']');
	if (!end || end[1] != ':')
		return -EINVAL;
	*end = '\0';
	if (inet_pton(AF_INET6, buf + 1, spec->host_ip6) != 1)
		return -EINVAL;
	spec->ip6 = true;
	*rest = end + 2;
	return 0;
}

int portfwd_parse(const char *arg, struct portfwd_spec *spec)
{
	char buf[96], *proto, *parts[3], *start;
	size_t np = 0;
	uint64_t hp, sp;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, arg, strlen(arg) + 1);
	*spec = (struct portfwd_spec){ 0 };
	if ((proto = strchr(buf, '/'))) {
		*proto++ = '\0';
		if (strcmp(proto, "udp") == 0)
			spec->udp = true;
		else if (strcmp(proto, "tcp") != 0)
			return -EINVAL;
	}
	start = buf;
	if (buf[0] == '[' && parse_ip6(buf, spec, &start) < 0)
		return -EINVAL;
	for (char *p = start, *colon; np < 3; p = colon + 1) {
		colon = strchr(p, ':');
		parts[np++] = p;
		if (!colon)
			break;
		*colon = '\0';
	}
	if (np < 2 || strchr(parts[np - 1], ':') || (spec->ip6 && np != 2))
		return -EINVAL;
	if (np == 3 && inet_pton(AF_INET, parts[0], &spec->host_ip) != 1)
		return -EINVAL;
	if (parse_u64(parts[np - 2], 65535, &hp) < 0 || parse_u64(parts[np - 1], 65535, &sp) < 0 || !hp || !sp)
		return -EINVAL;
	spec->host_port = (uint16_t)hp;
	spec->sandbox_port = (uint16_t)sp;
	return 0;
}

/* Binds the socket @k of @l to @sa (@ip in words).  @twin: the [::] beside
 * 0.0.0.0, left out where the host has no IPv6. */
static int bind_sock(struct listener *l, int k, const struct sockaddr *sa, socklen_t salen, const char *ip,
		     bool twin, struct ubx_err *e)
{
	const struct portfwd_spec *s = &l->spec;
	int one = 1;

	l->fd[k] = socket(sa->sa_family, (s->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd[k] < 0 && twin && errno == EAFNOSUPPORT)
		return 0;
	if (l->fd[k] < 0)
		return ubx_fail(e, errno, "-p %s:%u: socket", ip, s->host_port);
	(void)setsockopt(l->fd[k], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6) /* [::] beside 0.0.0.0, not over it */
		(void)setsockopt(l->fd[k], IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(l->fd[k], sa, salen) < 0) {
		int err = errno;
		if (twin && (err == EADDRNOTAVAIL || err == EAFNOSUPPORT)) {
			close(l->fd[k]);
			l->fd[k] = -1;
			return 0;
		}
		if (err == EACCES)
			return ubx_fail(e, 0, "-p: port %u is privileged (below net.ipv4.ip_unprivileged_port_start); "
					      "pick a port from 1024 up",
					s->host_port);
		if (err == EADDRINUSE)
			return ubx_fail(e, 0, "-p: %s port %u on %s is already in use", s->udp ? "udp" : "tcp",
					s->host_port, ip);
		return ubx_fail(e, err, "-p: bind %s:%u", ip, s->host_port);
	}
	if (!s->udp && listen(l->fd[k], 128) < 0)
		return ubx_fail(e, errno, "-p: listen on %s:%u", ip, s->host_port);
	return 0;
}

static int bind_one(struct listener *l, struct ubx_err *e)
{
	const struct portfwd_spec *s = &l->spec;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(s->host_port), .sin_addr.s_addr = s->host_ip };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(s->host_port), .sin6_addr = in6addr_any };
	char ip[INET6_ADDRSTRLEN];

	if (s->ip6) {
		memcpy(&a6.sin6_addr, s->host_ip6, 16);
		inet_ntop(AF_INET6, &a6.sin6_addr, ip, sizeof(ip));
		return bind_sock(l, 0, (struct sockaddr *)&a6, sizeof(a6), ip, false, e);
	}
	inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
	int r = bind_sock(l, 0, (struct sockaddr *)&a, sizeof(a), ip, false, e);
	if (r == 0 && s->host_ip == 0)
		r = bind_sock(l, 1, (struct sockaddr *)&a6, sizeof(a6), "::", true, e);
	return r;
}

int portfwd_open(const struct portfwd_spec *specs, size_t n, struct portfwd **out, struct ubx_err *e)
{
	struct portfwd *pf = calloc(1, sizeof(*pf));
	int r = 0;

	if (!pf || !(pf->l = calloc(n ? n : 1, sizeof(*pf->l)))) {
		free(pf);
		return ubx_fail(e, ENOMEM, "port forwarding");
	}
	pf->factory = -1;
	for (size_t i = 0; i < MAX_CONNS; i++)
		conn_reset(&pf->conns[i]);
	for (size_t i = 0; i < n; i++) {
		pf->l[i] = (struct listener){ .spec = specs[i], .fd = { -1, -1 } };
		for (size_t k = 0; k < MAX_UDP_PEERS; k++)
			pf->l[i].peers[k].fd = -1;
	}
	pf->n = n;
	for (size_t i = 0; i < n && r == 0; i++)
		r = bind_one(&pf->l[i], e);
	if (r < 0) {
		portfwd_free(pf);
		return r;
	}
	*out = pf;
	return 0;
}

void portfwd_attach(struct portfwd *pf, int factory)
{
	pf->factory = factory;
}

/* A new socket inside the sandbox's network namespace, or -1. */
static int inside_socket(struct portfwd *pf, bool udp, bool v6)
{
	char req = udp ? (v6 ? 'u' : 'U') : (v6 ? 't' : 'T');
	if (pf->factory < 0 || write(pf->factory, &req, 1) != 1)
		return -1;
	int fd = fd_receive(pf->factory, NULL);
	return fd < 0 ? -1 : fd;
}

/* A socket inside connected (or connecting) to the sandbox port on
 * 127.0.0.1, or with @v6 on ::1; -1, with errno, when that failed. */
static int connect_inside(struct portfwd *pf, const struct portfwd_spec *s, bool v6)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(s->sandbox_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6, .sin6_port = htons(s->sandbox_port),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = inside_socket(pf, s->udp, v6);
	if (fd < 0)
		return -1;
	int r = v6 ? connect(fd, (struct sockaddr *)&to6, sizeof(to6)) : connect(fd, (struct sockaddr *)&to, sizeof(to));
	if (r < 0 && errno != EINPROGRESS) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* A TCP connection inside: to 127.0.0.1, else (refused at once) to ::1. */
static int connect_tcp_inside(struct portfwd *pf, struct conn *c)
{
	int fd = connect_inside(pf, c->spec, false);
	if (fd < 0 && errno == ECONNREFUSED) {
		fd = connect_inside(pf, c->spec, true);
		c->inside6 = true;
	}
	return fd;
}

static void conn_close(struct conn *c)
{
	for (int k = 0; k < 2; k++) {
		if (c->fd[k] >= 0)
			close(c->fd[k]);
		for (int p = 0; p < 2; p++)
			if (c->dir[k].pipe[p] >= 0)
				close(c->dir[k].pipe[p]);
	}
	conn_reset(c);
}

static void accept_tcp(struct portfwd *pf, struct listener *l, int via)
{
	for (;;) {
		int host = accept4(l->fd[via], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (host < 0)
			return;
		struct conn *c = NULL;
		for (size_t i = 0; i < MAX_CONNS && !c; i++)
			if (pf->conns[i].fd[0] < 0)
				c = &pf->conns[i];
		if (c)
			c->spec = &l->spec;
		int inside = c ? connect_tcp_inside(pf, c) : -1;
		if (inside < 0) {
			if (c)
				conn_reset(c);
			close(host);
			continue;
		}
		c->fd[0] = host;
		c->fd[1] = inside;
		if (pipe2(c->dir[0].pipe, O_NONBLOCK | O_CLOEXEC) < 0 || pipe2(c->dir[1].pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
			conn_close(c);
			continue;
		}
		for (int k = 0; k < 2; k++) {
			(void)fcntl(c->dir[k].pipe[1], F_SETPIPE_SZ, PIPE_BYTES);
			int cap = fcntl(c->dir[k].pipe[1], F_GETPIPE_SZ);
			c->dir[k].cap = cap > 0 ? (size_t)cap : 65536;
		}
		c->connecting = true;
	}
}

/* Moves what it can in one direction; false when the connection is over. */
static bool pump(struct conn *c, int d)
{
	struct half *h = &c->dir[d];
	int from = c->fd[d], to = c->fd[1 - d];

	while (!h->eof) {
		ssize_t n = splice(from, NULL, h->pipe[1], NULL, PIPE_BYTES, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			h->queued += (size_t)n;
		} else if (n == 0) {
			h->eof = true;
		} else if (errno == EAGAIN) {
			break;
		} else {
			return false;
		}
		if (h->queued >= h->cap)
			break;
	}
	while (h->queued) {
		ssize_t n = splice(h->pipe[0], NULL, to, NULL, h->queued, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0)
			h->queued -= (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			break;
		else
			return false;
	}
	if (h->eof && !h->queued)
		(void)shutdown(to, SHUT_WR);
	return !(c->dir[0].eof && !c->dir[0].queued && c->dir[1].eof && !c->dir[1].queued);
}

static void udp_from_client(struct portfwd *pf, struct listener *l, int via)
{
	char buf[65536];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(l->fd[via], buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen)) >= 0) {
		struct udp_peer *p = NULL, *free_slot = NULL;
		for (size_t k = 0; k < MAX_UDP_PEERS; k++) {
			struct udp_peer *q = &l->peers[k];
			if (q->fd >= 0 && q->via == via && q->clen == flen && memcmp(&q->client, &from, flen) == 0)
				p = q;
			else if (q->fd < 0 && !free_slot)
				free_slot = q;
		}
		if (!p && free_slot && (free_slot->fd = connect_inside(pf, &l->spec, false)) >= 0) {
			p = free_slot;
			p->client = from;
			p->clen = flen;
			p->via = via;
		}
		if (p)
			(void)send(p->fd, buf, (size_t)n, 0);
		flen = sizeof(from);
	}
}

static void udp_from_sandbox(struct listener *l, struct udp_peer *p)
{
	char buf[65536];
	ssize_t n;
	while ((n = recv(p->fd, buf, sizeof(buf), 0)) >= 0)
		(void)sendto(l->fd[p->via], buf, (size_t)n, 0, (struct sockaddr *)&p->client, p->clen);
	if (errno != EAGAIN) { /* e.g. refused: nobody listens inside yet */
		close(p->fd);
		p->fd = -1;
	}
}

static size_t add(struct pollfd *fds, size_t *n, size_t cap, int fd, short events)
{
	if (*n >= cap)
		return SIZE_MAX;
	fds[*n] = (struct pollfd){ .fd = fd, .events = events };
	return (*n)++;
}

/* What each side of a connection waits for. */
static short conn_events(const struct conn *c, int k)
{
	if (k == 1 && c->connecting)
		return POLLOUT;
	short ev = c->dir[k].eof || c->dir[k].queued >= c->dir[k].cap ? 0 : POLLIN;
	if (c->dir[1 - k].queued)
		ev |= POLLOUT;
	return ev;
}

void portfwd_fill(struct portfwd *pf, struct pollfd *fds, size_t *n, size_t cap)
{
	for (size_t i = 0; i < pf->n; i++) {
		struct listener *l = &pf->l[i];
		for (int k = 0; k < 2; k++)
			l->idx[k] = l->fd[k] >= 0 ? add(fds, n, cap, l->fd[k], POLLIN) : SIZE_MAX;
		for (size_t k = 0; l->spec.udp && k < MAX_UDP_PEERS; k++)
			if (l->peers[k].fd >= 0)
				l->peers[k].idx = add(fds, n, cap, l->peers[k].fd, POLLIN);
	}
	for (size_t i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &pf->conns[i];
		for (int k = 0; c->fd[0] >= 0 && k < 2; k++)
			c->idx[k] = add(fds, n, cap, c->fd[k], conn_events(c, k));
	}
}

static short revents(const struct pollfd *fds, size_t idx)
{
	return idx == SIZE_MAX ? 0 : fds[idx].revents;
}

static void service_conn(struct portfwd *pf, struct conn *c, const struct pollfd *fds)
{
	short ev[2] = { revents(fds, c->idx[0]), revents(fds, c->idx[1]) };
	if (!ev[0] && !ev[1])
		return;
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (!ev[1])
			return;
		if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == ECONNREFUSED &&
		    !c->inside6) {
			close(c->fd[1]); /* nothing on 127.0.0.1: try ::1 */
			c->inside6 = true;
			if ((c->fd[1] = connect_inside(pf, c->spec, true)) < 0)
				conn_close(c);
			return;
		}
		if (err) {
			conn_close(c); /* nothing listens inside: the client sees a reset */
			return;
		}
		c->connecting = false;
	}
	bool alive = pump(c, 0);
	alive = alive && pump(c, 1);
	if (!alive)
		conn_close(c);
}

void portfwd_dispatch(struct portfwd *pf, const struct pollfd *fds)
{
	for (size_t i = 0; i < pf->n; i++) {
		struct listener *l = &pf->l[i];
		for (int k = 0; k < 2; k++) {
			if (!(revents(fds, l->idx[k]) & POLLIN))
				continue;
			if (l->spec.udp)
				udp_from_client(pf, l, k);
			else
				accept_tcp(pf, l, k);
		}
		for (size_t k = 0; l->spec.udp && k < MAX_UDP_PEERS; k++)
			if (l->peers[k].fd >= 0 && (revents(fds, l->peers[k].idx) & (POLLIN | POLLERR)))
				udp_from_sandbox(l, &l->peers[k]);
	}
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (pf->conns[i].fd[0] >= 0)
			service_conn(pf, &pf->conns[i], fds);
}

void portfwd_free(struct portfwd *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (pf->conns[i].fd[0] >= 0)
			conn_close(&pf->conns[i]);
	for (size_t i = 0; i < pf->n; i++) {
		for (int k = 0; k < 2; k++)
			if (pf->l[i].fd[k] >= 0)
				close(pf->l[i].fd[k]);
		for (size_t k = 0; k < MAX_UDP_PEERS; k++)
			if (pf->l[i].peers[k].fd >= 0)
				close(pf->l[i].peers[k].fd);
	}
	free(pf->l);
	free(pf);
}
