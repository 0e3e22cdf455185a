/* SPDX-License-Identifier: MIT */
/*
 * portfwd.c - -p: host ports forwarded into the sandbox at the socket level.
 *
 * DOC: Theory of operation
 * Every forwarded port has a socket bound in the host's network namespace
 * before the sandbox starts: without an address, one on 0.0.0.0 and one on
 * [::] (IPv6 only, where the host has IPv6).  Once the command runs, a thread
 * of the supervisor's own (portrelay.c) accepts there and, for each TCP
 * connection, takes a socket created inside the sandbox's namespace (from its
 * init, over SCM_RIGHTS; IPv4 ones a few at a time, kept in a small pool),
 * connects it to 127.0.0.1:SANDBOXPORT - or, when that is refused, with an
 * IPv6 socket to [::1]:SANDBOXPORT, so that a server listening on ::1 alone
 * is reached too - and moves bytes between the two, never through the
 * user-mode TCP/IP stack.  A half-closed side is shut down on the other.
 * For UDP, each client address gets its own socket inside, connected to
 * 127.0.0.1:SANDBOXPORT; replies go back to that client from the socket it
 * wrote to.  With direct ports (portdirect.c) a server inside that binds
 * the sandbox port takes a listener over (portfwd_take()): the thread stops
 * watching it, and relays the other listener's connections to it.  This
 * file: the ports, the sockets inside, the thread's life.
 */
#include "portfwd_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/fdpass.h"
#include "../common/parse.h"

/* Every slot free (all PF_MAX_CONNS: max_conns may grow in portfwd_attach). */
static void conn_reset_all(struct portfwd *pf)
{
	for (size_t i = 0; i < PF_MAX_CONNS; i++)
		pf->conns[i] = (struct pf_conn){ .fd = { -1, -1 } };
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
static int bind_sock(struct pf_listener *l, int k, const struct sockaddr *sa, socklen_t salen, const char *ip,
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

static int bind_one(struct pf_listener *l, struct ubx_err *e)
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

/* How many connections fit in the descriptors: two each, and at most a
 * quarter of RLIMIT_NOFILE, so that libslirp and the rest keep theirs.
 * Once the command runs (its processes have their own limits by then), the
 * supervisor's soft limit is raised towards the hard one as far as
 * PF_MAX_CONNS needs: the usual soft limit of 1024 would leave 128
 * connections, and a 129th client (a pool of 200, say) would wait in the
 * backlog until another one ends. */
static size_t conns_allowed(bool raise)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return PF_MAX_CONNS;
	rlim_t need = PF_MAX_CONNS * 2 * 4;
	if (raise && rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
		struct rlimit more = { .rlim_cur = rl.rlim_max < need ? rl.rlim_max : need, .rlim_max = rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			rl = more;
	}
	size_t n = (size_t)(rl.rlim_cur / 4 / 2);
	return n < 1 ? 1 : n > PF_MAX_CONNS ? PF_MAX_CONNS : n;
}

int portfwd_open(const struct portfwd_spec *specs, size_t n, struct portfwd **out, struct ubx_err *e)
{
	struct portfwd *pf = calloc(1, sizeof(*pf));
	int r = 0;

	if (!pf || !(pf->l = calloc(n ? n : 1, sizeof(*pf->l))) ||
	    !(pf->conns = calloc(PF_MAX_CONNS, sizeof(*pf->conns)))) {
		if (pf)
			free(pf->l);
		free(pf);
		return ubx_fail(e, ENOMEM, "port forwarding");
	}
	pf->factory = pf->ep = pf->wake = -1;
	pthread_mutex_init(&pf->take, NULL);
	pf->max_conns = conns_allowed(false);
	conn_reset_all(pf);
	for (size_t i = 0; i < n; i++) {
		pf->l[i] = (struct pf_listener){ .spec = specs[i], .fd = { -1, -1 } };
		for (size_t k = 0; k < PF_MAX_UDP_PEERS; k++)
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

int portfwd_attach(struct portfwd *pf, int factory, struct ubx_err *e)
{
	sigset_t all, old;

	pf->factory = factory;
	pf->max_conns = conns_allowed(true);
	pf->ep = epoll_create1(EPOLL_CLOEXEC);
	pf->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pf->ep < 0 || pf->wake < 0)
		return ubx_fail(e, errno, "-p: epoll");
	/* Every signal stays with the supervisor's loop (and a write to a
	 * closed pipe or socket never kills it from here). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&pf->thread, NULL, pf_relay_main, pf);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return ubx_fail(e, r, "-p: start the relay");
	pf->started = true;
	return 0;
}

/* Waits for the init's answer, or the order to end.  Return: true when
 * the answer is there. */
static bool factory_wait(struct portfwd *pf)
{
	struct pollfd fds[2] = { { .fd = pf->factory, .events = POLLIN }, { .fd = pf->wake, .events = POLLIN } };
	while (poll(fds, 2, -1) < 0)
		if (errno != EINTR)
			return false;
	return !fds[1].revents && fds[0].revents;
}

/* Asks the init for @want sockets of kind @req into @out.  Return: how many came. */
static size_t factory_get(struct portfwd *pf, char req, size_t want, int *out)
{
	char msg[2] = { req, (char)want };
	size_t got = 0;
	if (pf->factory < 0 || write(pf->factory, msg, sizeof(msg)) != sizeof(msg))
		return 0;
	while (got < want && factory_wait(pf)) {
		int fd = fd_receive(pf->factory, NULL);
		if (fd < 0) /* 'e': the init could not make more */
			break;
		out[got++] = fd;
	}
	return got;
}

int pf_inside_socket(struct portfwd *pf, bool udp, bool v6)
{
	int fd = -1;
	if (udp || v6) /* the rarer kinds: one at a time */
		return factory_get(pf, udp ? (v6 ? 'u' : 'U') : 't', 1, &fd) ? fd : -1;
	if (!pf->n_pool)
		pf->n_pool = factory_get(pf, 'T', PF_POOL, pf->pool);
	return pf->n_pool ? pf->pool[--pf->n_pool] : -1;
}

int portfwd_take(struct portfwd *pf, int family, uint16_t port)
{
	for (size_t i = 0; i < pf->n; i++) {
		struct pf_listener *l = &pf->l[i];
		if (l->spec.udp || l->spec.sandbox_port != port)
			continue;
		/* [0] is IPv6 only for an [V6] address; [1] is always [::] */
		int k = family == AF_INET ? (l->spec.ip6 ? -1 : 0) : (l->spec.ip6 ? 0 : 1);
		if (k < 0 || l->fd[k] < 0)
			continue;
		uint64_t cookie = 0;
		socklen_t len = sizeof(cookie);
		int fd = fcntl(l->fd[k], F_DUPFD_CLOEXEC, 3);
		if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) < 0) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		pthread_mutex_lock(&pf->take); /* the relay is not in an accept on it */
		l->cookie[k] = cookie;
		for (size_t j = 0; j < pf->n; j++) /* every listener of this port: to this one */
			if (!pf->l[j].spec.udp && pf->l[j].spec.sandbox_port == port && !pf->l[j].to)
				pf->l[j].to = 1 + 2 * (unsigned)i + (unsigned)k;
		if (!l->handed[k]) {
			l->handed[k] = true;
			if (pf->ep >= 0) /* the relay lets it be from now on */
				(void)epoll_ctl(pf->ep, EPOLL_CTL_DEL, l->fd[k], NULL);
		}
		pthread_mutex_unlock(&pf->take);
		return fd;
	}
	return -1;
}

bool portfwd_handed(const struct portfwd *pf, uint64_t cookie)
{
	for (size_t i = 0; i < pf->n; i++)
		for (int k = 0; k < 2; k++)
			if (pf->l[i].handed[k] && pf->l[i].cookie[k] == cookie)
				return true;
	return false;
}

void portfwd_free(struct portfwd *pf)
{
	if (!pf)
		return;
	if (pf->started) { /* the thread ends at its next wake-up */
		(void)!write(pf->wake, &(uint64_t){ 1 }, sizeof(uint64_t));
		pthread_join(pf->thread, NULL);
	}
	for (size_t i = 0; i < pf->max_conns; i++)
		if (pf->conns[i].fd[0] >= 0)
			pf_conn_close(pf, &pf->conns[i]);
	for (size_t i = 0; i < pf->n_pool; i++)
		close(pf->pool[i]);
	for (size_t i = 0; i < pf->n; i++) {
		for (int k = 0; k < 2; k++)
			if (pf->l[i].fd[k] >= 0)
				close(pf->l[i].fd[k]);
		for (size_t k = 0; k < PF_MAX_UDP_PEERS; k++)
			if (pf->l[i].peers[k].fd >= 0)
				close(pf->l[i].peers[k].fd);
	}
	if (pf->ep >= 0)
		close(pf->ep);
	if (pf->wake >= 0)
		close(pf->wake);
	pthread_mutex_destroy(&pf->take);
	free(pf->conns);
	free(pf->l);
	free(pf);
}
