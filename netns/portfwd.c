/* SPDX-License-Identifier: MIT */
/*
 * portfwd.c - -p: host ports forwarded into the sandbox at the socket level.
 *
 * DOC: Theory of operation
 * Every forwarded port has a socket bound in the host's network namespace
 * before the sandbox starts.  For each TCP connection accepted there, usbox
 * gets a fresh socket created inside the sandbox's namespace (from its init,
 * over SCM_RIGHTS), connects it to 127.0.0.1:SANDBOXPORT, and moves bytes
 * between the two with splice() through a pipe per direction, never through
 * the user-mode TCP/IP stack.  A half-closed side is shut down on the other.
 * For UDP, each client address gets its own socket inside, connected to the
 * sandbox port; replies go back to that client.
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
	struct half dir[2]; /* [0] host -> sandbox, [1] sandbox -> host */
	size_t idx[2];    /* where fd[0], fd[1] are in the poll array */
};

struct udp_peer {
	struct sockaddr_in client;
	int fd;           /* inside, connected to the sandbox port; -1 when free */
	size_t idx;
};

struct listener {
	struct portfwd_spec spec;
	int fd;
	size_t idx;
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

int portfwd_parse(const char *arg, struct portfwd_spec *spec)
{
	char buf[96], *proto, *parts[3];
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
	for (char *p = buf, *colon; np < 3; p = colon + 1) {
		colon = strchr(p, ':');
		parts[np++] = p;
		if (!colon)
			break;
		*colon = '\0';
	}
	if (np < 2 || strchr(parts[np - 1], ':'))
		return -EINVAL;
	if (np == 3 && inet_pton(AF_INET, parts[0], &spec->host_ip) != 1)
		return -EINVAL;
	if (parse_u64(parts[np - 2], 65535, &hp) < 0 || parse_u64(parts[np - 1], 65535, &sp) < 0 || !hp || !sp)
		return -EINVAL;
	spec->host_port = (uint16_t)hp;
	spec->sandbox_port = (uint16_t)sp;
	return 0;
}

static int bind_one(struct listener *l, struct ubx_err *e)
{
	const struct portfwd_spec *s = &l->spec;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(s->host_port),
				 .sin_addr.s_addr = s->host_ip };
	char ip[INET_ADDRSTRLEN];
	int one = 1;

	inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
	l->fd = socket(AF_INET, (s->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return ubx_fail(e, errno, "-p %s:%u: socket", ip, s->host_port);
	(void)setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int err = errno;
		if (err == EACCES)
			return ubx_fail(e, 0, "-p: port %u is privileged (below net.ipv4.ip_unprivileged_port_start); "
					      "pick a port from 1024 up",
					s->host_port);
		if (err == EADDRINUSE)
			return ubx_fail(e, 0, "-p: %s port %u on %s is already in use", s->udp ? "udp" : "tcp",
					s->host_port, ip);
		return ubx_fail(e, err, "-p: bind %s:%u", ip, s->host_port);
	}
	if (!s->udp && listen(l->fd, 128) < 0)
		return ubx_fail(e, errno, "-p: listen on %s:%u", ip, s->host_port);
	return 0;
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
		pf->l[i] = (struct listener){ .spec = specs[i], .fd = -1 };
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
static int inside_socket(struct portfwd *pf, bool udp)
{
	char req = udp ? 'U' : 'T';
	if (pf->factory < 0 || write(pf->factory, &req, 1) != 1)
		return -1;
	int fd = fd_receive(pf->factory, NULL);
	return fd < 0 ? -1 : fd;
}

static int connect_inside(struct portfwd *pf, const struct portfwd_spec *s)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(s->sandbox_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = inside_socket(pf, s->udp);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
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

static void accept_tcp(struct portfwd *pf, struct listener *l)
{
	for (;;) {
		int host = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (host < 0)
			return;
		struct conn *c = NULL;
		for (size_t i = 0; i < MAX_CONNS && !c; i++)
			if (pf->conns[i].fd[0] < 0)
				c = &pf->conns[i];
		int inside = c ? connect_inside(pf, &l->spec) : -1;
		if (inside < 0) {
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

static void udp_from_client(struct portfwd *pf, struct listener *l)
{
	char buf[65536];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(l->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen)) >= 0) {
		struct udp_peer *p = NULL, *free_slot = NULL;
		for (size_t k = 0; k < MAX_UDP_PEERS; k++) {
			struct udp_peer *q = &l->peers[k];
			if (q->fd >= 0 && q->client.sin_addr.s_addr == from.sin_addr.s_addr &&
			    q->client.sin_port == from.sin_port)
				p = q;
			else if (q->fd < 0 && !free_slot)
				free_slot = q;
		}
		if (!p && free_slot && (free_slot->fd = connect_inside(pf, &l->spec)) >= 0) {
			p = free_slot;
			p->client = from;
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
		(void)sendto(l->fd, buf, (size_t)n, 0, (struct sockaddr *)&p->client, sizeof(p->client));
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
		l->idx = add(fds, n, cap, l->fd, POLLIN);
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

static void service_conn(struct conn *c, const struct pollfd *fds)
{
	short ev[2] = { revents(fds, c->idx[0]), revents(fds, c->idx[1]) };
	if (!ev[0] && !ev[1])
		return;
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (!ev[1])
			return;
		if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
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
		if (revents(fds, l->idx) & POLLIN) {
			if (l->spec.udp)
				udp_from_client(pf, l);
			else
				accept_tcp(pf, l);
		}
		for (size_t k = 0; l->spec.udp && k < MAX_UDP_PEERS; k++)
			if (l->peers[k].fd >= 0 && (revents(fds, l->peers[k].idx) & (POLLIN | POLLERR)))
				udp_from_sandbox(l, &l->peers[k]);
	}
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (pf->conns[i].fd[0] >= 0)
			service_conn(&pf->conns[i], fds);
}

void portfwd_free(struct portfwd *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (pf->conns[i].fd[0] >= 0)
			conn_close(&pf->conns[i]);
	for (size_t i = 0; i < pf->n; i++) {
		if (pf->l[i].fd >= 0)
			close(pf->l[i].fd);
		for (size_t k = 0; k < MAX_UDP_PEERS; k++)
			if (pf->l[i].peers[k].fd >= 0)
				close(pf->l[i].peers[k].fd);
	}
	free(pf->l);
	free(pf);
}
