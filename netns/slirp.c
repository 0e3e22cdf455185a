/* SPDX-License-Identifier: MIT */
/*
 * slirp.c - the user-mode TCP/IP stack (libslirp) behind the sandbox's TAP.
 *
 * DOC: Theory of operation
 * All libslirp wiring is here.  The supervisor's poll loop asks for the
 * descriptors to watch (the TAP plus libslirp's sockets) and the next timer,
 * polls, and hands the result back: frames read from the TAP go to
 * slirp_input() if frame_allowed() lets them (framefilter.c: never to the
 * host's loopback, nor to its own addresses unless the network allows the
 * host's loopback; a refused one is answered with frame_reject()),
 * libslirp's own sockets are serviced by slirp_pollfds_poll(), and frames
 * libslirp emits are written to the TAP by send_packet.  The host's
 * addresses are listed at the start and again whenever a netlink event says
 * they changed (without netlink: at most once a second, when a frame
 * passes).  With an egress policy (netns_slirp_egress()), every frame from
 * the TAP meets egress_outbound() first and every frame to it
 * egress_inbound() (egress.c), and the decisions worth knowing go to the
 * log file, a JSON object a line (at most LOG_PER_SEC lines a second; a
 * line then counts what was left out).  libslirp (and GLib, which it
 * needs) is loaded with dlopen() only for this mode.
 * With the TCP redirect (netns_slirp_relay()), the sandbox's outbound TCP
 * comes to tcprelay.c instead, whose every connection is judged here by
 * relay_decide(): the SYN it would have sent through the TAP meets the same
 * egress policy and frame filter (logged alike), and goes where libslirp
 * would have connected (translate()).
 */
#include "netns.h"
#include "internal.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLIRP_FUNCS(X)             \
	X(slirp_new)               \
	X(slirp_cleanup)           \
	X(slirp_pollfds_fill)      \
	X(slirp_pollfds_poll)      \
	X(slirp_input)

struct slirp_api {
#define FIELD(name) __typeof__(name) *name;
	SLIRP_FUNCS(FIELD)
#undef FIELD
};

#define MAX_TIMERS 8
#define FRAME_MAX (NETNS_TAP_MTU + 64)
#define TAP_BATCH 1
#define LOG_PER_SEC 1000

struct slirp_timer {
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms; /* -1: not armed */
	bool used;
};

struct netns_slirp {
	struct slirp_api api;
	void *lib;
	Slirp *slirp;
	int tap;
	struct slirp_timer timers[MAX_TIMERS];
	struct pollfd *fds; /* the caller's array, during fill/dispatch */
	size_t n, cap;
	size_t tap_idx;     /* where the TAP is in fds */
	struct frame_policy policy;
	int events;         /* netlink: the host's address changes, or -1 */
	size_t events_idx;  /* where it is in fds, or SIZE_MAX */
	int64_t loaded_ms;  /* when the host's addresses were last listed */
	struct netns_lease lease;
	struct egress *egress; /* the egress policy, or NULL */
	int log;            /* its log, or -1 */
	time_t log_sec;     /* the second being counted (CLOCK_REALTIME) */
	unsigned log_lines, log_left_out;
	struct slirp_relay {    /* outbound TCP, when redirected to us (tcprelay.c) */
		struct tcprelay *relay;
		int id;         /* whose: the caller's, per sandbox */
	} *relays;
	size_t n_relays;
	unsigned long relayed; /* by relays dropped already */
	int relay_status;      /* the redirect's commit, until it says how the rule went (netns_redirect_status()) */
	size_t relay_status_idx;
	char tcp_path[200];
	unsigned long allowed, refused; /* the egress policy's decisions worth logging */
	uint8_t frame[FRAME_MAX];
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct netns_slirp *s = opaque;
	if (s->egress)
		egress_inbound(s->egress, buf, len); /* learn what allowed names resolve to */
	for (int tries = 0;; tries++) {
		ssize_t n = write(s->tap, buf, len);
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			return n;
		if (tries == 2)
			return (ssize_t)len; /* the sandbox does not read: drop, TCP retransmits */
		/* The TAP queue is full: the sandbox's stack drains it quickly. */
		struct pollfd p = { .fd = s->tap, .events = POLLOUT };
		(void)poll(&p, 1, 5);
	}
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)msg, (void)opaque;
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct netns_slirp *s = opaque;
	for (size_t i = 0; i < MAX_TIMERS; i++)
		if (!s->timers[i].used) {
			s->timers[i] = (struct slirp_timer){ cb, cb_opaque, -1, true };
			return &s->timers[i];
		}
	return NULL;
}

static void cb_timer_free(void *timer, void *opaque)
{
	(void)opaque;
	if (timer)
		((struct slirp_timer *)timer)->used = false;
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	if (timer)
		((struct slirp_timer *)timer)->expire_ms = expire_ms;
}

static void cb_poll_fd(int fd, void *opaque)
{
	(void)fd, (void)opaque;
}

static void cb_notify(void *opaque)
{
	(void)opaque;
}

static const SlirpCb callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_poll_fd,
	.unregister_poll_fd = cb_poll_fd,
	.notify = cb_notify,
};

static int load_api(struct netns_slirp *s, struct ubx_err *e)
{
	s->lib = dlopen("libslirp.so.0", RTLD_LAZY | RTLD_LOCAL);
	if (!s->lib) {
		ubx_fail(e, 0,
			 "the slirp network needs libslirp (apt-get install libslirp0): %s (usbox doctor: libslirp)",
			 dlerror());
		return -ENOENT;
	}
#define LOAD(name)                                                                      \
	if (!(s->api.name = (__typeof__(name) *)dlsym(s->lib, #name))) {                \
		ubx_fail(e, 0, "libslirp lacks %s (need version 4.1 or newer; usbox doctor: libslirp)", #name); \
		return -ENOENT;                                                         \
	}
	SLIRP_FUNCS(LOAD)
#undef LOAD
	return 0;
}

/* A netlink socket that reads when the host's addresses change, or -1. */
static int open_addr_events(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The frame filter's policy: the host's addresses, unless they are allowed
 * anyway.  Events are subscribed to first, so no change is missed. */
static int policy_init(struct netns_slirp *s, bool allow_host_loopback, struct ubx_err *e)
{
	s->policy.allow_host = allow_host_loopback;
	if (allow_host_loopback)
		return 0;
	s->events = open_addr_events();
	s->loaded_ms = now_ns() / 1000000;
	int r = frame_policy_load(&s->policy, e);
	return r < 0 ? ubx_wrap(e, "the slirp network's frame filter") : 0;
}

static void fill_config(SlirpConfig *c, const struct netns_lease *l, bool allow_host_loopback)
{
	uint32_t mask = htonl(l->prefix ? ~0u << (32 - l->prefix) : 0);
	*c = (SlirpConfig){ .version = 3, .in_enabled = true, .in6_enabled = true, .vprefix_len = 64,
			    .if_mtu = NETNS_TAP_MTU, .if_mru = NETNS_TAP_MTU,
			    .disable_host_loopback = !allow_host_loopback };
	c->vnetwork.s_addr = l->gateway & mask;
	c->vnetmask.s_addr = mask;
	c->vhost.s_addr = l->gateway;
	c->vnameserver.s_addr = l->dns;
	/* Nobody should ask: addresses are configured, not leased. */
	c->vdhcp_start.s_addr = (l->gateway & mask) | (htonl(0xffffffffu >> l->prefix) & htonl(~0xfu));
	inet_pton(AF_INET6, "fd00::", &c->vprefix_addr6);
	memcpy(&c->vhost6, l->gateway6, sizeof(c->vhost6));
	memcpy(&c->vnameserver6, l->dns6, sizeof(c->vnameserver6));
}

int netns_slirp_new(int tap_fd, const struct netns_lease *l, bool allow_host_loopback, struct netns_slirp **out,
		    struct ubx_err *e)
{
	struct netns_lease def;
	struct netns_slirp *s = calloc(1, sizeof(*s));
	SlirpConfig cfg;
	int r;

	if (!s) {
		if (tap_fd >= 0)
			close(tap_fd);
		return ubx_fail(e, ENOMEM, "slirp");
	}
	s->tap = tap_fd;
	s->log = -1;
	snprintf(s->tcp_path, sizeof(s->tcp_path), "libslirp (no redirect was asked for)");
	s->events = -1;
	s->events_idx = SIZE_MAX;
	s->relay_status = -1;
	s->relay_status_idx = SIZE_MAX;
	if ((r = policy_init(s, allow_host_loopback, e)) < 0 || (r = load_api(s, e)) < 0) {
		netns_slirp_free(s);
		return r;
	}
	if (!l)
		netns_default_lease(&def);
	s->lease = l ? *l : def;
	fill_config(&cfg, &s->lease, allow_host_loopback);
	s->slirp = s->api.slirp_new(&cfg, &callbacks, s);
	if (!s->slirp) {
		netns_slirp_free(s);
		return ubx_fail(e, 0, "start libslirp");
	}
	*out = s;
	return 0;
}

void netns_slirp_set_tap(struct netns_slirp *s, int tap_fd)
{
	if (s->tap >= 0)
		close(s->tap);
	s->tap = tap_fd;
}

static short to_poll(int ev)
{
	return (short)(((ev & SLIRP_POLL_IN) ? POLLIN : 0) | ((ev & SLIRP_POLL_OUT) ? POLLOUT : 0) |
		       ((ev & SLIRP_POLL_PRI) ? POLLPRI : 0));
}

static int from_poll(short ev)
{
	return ((ev & POLLIN) ? SLIRP_POLL_IN : 0) | ((ev & POLLOUT) ? SLIRP_POLL_OUT : 0) |
	       ((ev & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((ev & POLLERR) ? SLIRP_POLL_ERR : 0) |
	       ((ev & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct netns_slirp *s = opaque;
	if (s->n >= s->cap)
		return -1;
	s->fds[s->n] = (struct pollfd){ .fd = fd, .events = to_poll(events) };
	return (int)s->n++;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct netns_slirp *s = opaque;
	return idx < 0 || (size_t)idx >= s->n ? 0 : from_poll(s->fds[idx].revents);
}

void netns_slirp_fill(struct netns_slirp *s, struct pollfd *fds, size_t *n, size_t cap, int *timeout_ms)
{
	uint32_t timeout = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
	int64_t now_ms = now_ns() / 1000000;

	s->fds = fds;
	s->n = *n;
	s->cap = cap;
	if (s->n < s->cap) {
		s->tap_idx = s->n;
		fds[s->n++] = (struct pollfd){ .fd = s->tap, .events = POLLIN };
	}
	s->events_idx = SIZE_MAX;
	if (s->events >= 0 && s->n < s->cap) {
		s->events_idx = s->n;
		fds[s->n++] = (struct pollfd){ .fd = s->events, .events = POLLIN };
	}
	s->api.slirp_pollfds_fill(s->slirp, &timeout, cb_add_poll, s);
	for (size_t i = 0; i < s->n_relays; i++)
		tcprelay_fill(s->relays[i].relay, fds, &s->n, cap);
	s->relay_status_idx = SIZE_MAX;
	if (s->relay_status >= 0 && s->n < s->cap) {
		s->relay_status_idx = s->n;
		fds[s->n++] = (struct pollfd){ .fd = s->relay_status, .events = POLLIN };
	}
	for (size_t i = 0; i < MAX_TIMERS; i++) {
		if (!s->timers[i].used || s->timers[i].expire_ms < 0)
			continue;
		int64_t left = s->timers[i].expire_ms - now_ms;
		if (left < 0)
			left = 0;
		if ((uint64_t)left < timeout)
			timeout = (uint32_t)left;
	}
	*timeout_ms = timeout == UINT32_MAX ? -1 : (int)(timeout > INT32_MAX ? INT32_MAX : timeout);
	*n = s->n;
}

/* frame_allowed() for @frame.  Without netlink events to
 * watch (no socket, or no room in the poll array), a frame that passes has
 * the host's addresses listed again first, at most once a second, in case
 * one was added meanwhile. */
static bool frame_ok(struct netns_slirp *s, const uint8_t *frame, size_t len)
{
	if (!frame_allowed(frame, len, &s->policy))
		return false;
	if (s->events_idx != SIZE_MAX || s->policy.allow_host)
		return true;
	int64_t now_ms = now_ns() / 1000000;
	if (now_ms - s->loaded_ms < 1000)
		return true;
	s->loaded_ms = now_ms;
	(void)frame_policy_load(&s->policy, NULL);
	return frame_allowed(frame, len, &s->policy);
}

/* Answers a refused frame, so that the sandbox's connect() fails at once
 * (best effort: a full TAP queue drops the answer). */
static void reject(struct netns_slirp *s, size_t len)
{
	uint8_t out[FRAME_REJECT_MAX];
	size_t n = frame_reject(s->frame, len, out, sizeof(out));
	if (n)
		(void)!write(s->tap, out, n);
}

/* The host's addresses changed (or events were lost): drain the socket and
 * list them again. */
static void reload_addrs(struct netns_slirp *s)
{
	char buf[8192];
	for (;;) {
		ssize_t n = recv(s->events, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0 && (n == 0 || (errno != ENOBUFS && errno != EINTR)))
			break; /* drained (ENOBUFS: some were lost, which the listing covers) */
	}
	s->loaded_ms = now_ns() / 1000000;
	(void)frame_policy_load(&s->policy, NULL);
}

/* Writes @ev to the log, LOG_PER_SEC lines a second at most. */
static void log_event(struct netns_slirp *s, const struct egress_event *ev)
{
	char line[1024];
	struct timespec now;
	size_t n;

	if (s->log < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec != s->log_sec) {
		if (s->log_left_out && (n = egress_left_out_json(s->log_left_out, &now, line, sizeof(line))))
			(void)!write(s->log, line, n);
		s->log_sec = now.tv_sec;
		s->log_lines = s->log_left_out = 0;
	}
	if (++s->log_lines > LOG_PER_SEC) {
		s->log_left_out++;
		return;
	}
	if ((n = egress_event_json(ev, &now, line, sizeof(line))))
		(void)!write(s->log, line, n); /* O_APPEND: whole lines, also beside other writers */
}

/* Whether @frame may go to libslirp: the egress policy's verdict first
 * (with @answer, answered or dropped here when it refuses), then the frame
 * filter's (with @answer, answered by reject()). */
static bool verdict(struct netns_slirp *s, const uint8_t *frame, size_t len, bool answer)
{
	if (s->egress) {
		uint8_t reply[EGRESS_REPLY_MAX];
		struct egress_event ev;
		size_t n;
		bool log;
		enum egress_verdict v =
			egress_outbound(s->egress, frame, len, &s->policy, reply, sizeof(reply), &n, &ev, &log);
		if (log) {
			ev.allowed ? s->allowed++ : s->refused++;
			log_event(s, &ev);
		}
		if (v == EGRESS_ANSWER && answer)
			(void)!write(s->tap, reply, n);
		if (v != EGRESS_PASS)
			return false;
	}
	if (frame_ok(s, frame, len))
		return true;
	if (answer)
		reject(s, len);
	return false;
}

/* The frame in s->frame, from the TAP. */
static bool outbound(struct netns_slirp *s, size_t len)
{
	return verdict(s, s->frame, len, true);
}

/* Feeds a bounded batch of frames from the TAP to the stack per round, so
 * libslirp's host sockets (serviced only in slirp_pollfds_poll()) are never
 * starved.  One frame a round: batches of 64 moved data no faster and cost
 * an extra read (EAGAIN) per request/response round trip. */
static void read_tap(struct netns_slirp *s)
{
	for (int i = 0; i < TAP_BATCH; i++) {
		ssize_t len = read(s->tap, s->frame, sizeof(s->frame));
		if (len <= 0)
			return;
		if (outbound(s, (size_t)len))
			s->api.slirp_input(s->slirp, s->frame, (int)len);
	}
}

static void run_timers(struct netns_slirp *s)
{
	int64_t now_ms = now_ns() / 1000000;
	for (size_t i = 0; i < MAX_TIMERS; i++) {
		struct slirp_timer *t = &s->timers[i];
		if (t->used && t->expire_ms >= 0 && t->expire_ms <= now_ms) {
			t->expire_ms = -1;
			t->cb(t->cb_opaque);
		}
	}
}

/* The redirect's commit said how its rule went: "relay", or libslirp and
 * why (its relays then get nothing). */
static void relay_status_read(struct netns_slirp *s)
{
	char why[160];
	int r = netns_redirect_status(s->relay_status, why, sizeof(why));
	if (r == 0)
		return;
	if (r > 0)
		snprintf(s->tcp_path, sizeof(s->tcp_path), "relay");
	else
		netns_slirp_no_relay(s, why);
	close(s->relay_status);
	s->relay_status = -1;
}

void netns_slirp_dispatch(struct netns_slirp *s, const struct pollfd *fds)
{
	s->fds = (struct pollfd *)fds;
	if (s->events_idx != SIZE_MAX && fds[s->events_idx].revents)
		reload_addrs(s); /* before the TAP, so this round's frames meet the new list */
	if (fds[s->tap_idx].revents & POLLIN)
		read_tap(s);
	s->api.slirp_pollfds_poll(s->slirp, 0, cb_get_revents, s);
	run_timers(s);
	for (size_t i = 0; i < s->n_relays; i++)
		tcprelay_dispatch(s->relays[i].relay, fds);
	if (s->relay_status_idx != SIZE_MAX && fds[s->relay_status_idx].revents)
		relay_status_read(s);
}

int netns_slirp_egress(struct netns_slirp *s, const struct netns_allow *rules, size_t n, const char *log_path,
		       struct ubx_err *e)
{
	int r;

	if (s->policy.allow_host) {
		/* The frame filter lets the host's addresses through; the policy
		 * refuses them unless listed, so it needs their list anyway. */
		if (s->events < 0)
			s->events = open_addr_events();
		s->loaded_ms = now_ns() / 1000000;
		if ((r = frame_policy_load(&s->policy, e)) < 0)
			return ubx_wrap(e, "the egress policy");
	}
	if (log_path && (s->log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600)) < 0)
		return ubx_fail(e, errno, "open the network log %s", log_path);
	return egress_new(rules, n, &s->lease, &s->egress, e);
}

void netns_slirp_free(struct netns_slirp *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_relays; i++)
		tcprelay_free(s->relays[i].relay);
	free(s->relays);
	if (s->relay_status >= 0)
		close(s->relay_status);
	if (s->slirp)
		s->api.slirp_cleanup(s->slirp);
	if (s->tap >= 0)
		close(s->tap);
	if (s->events >= 0)
		close(s->events);
	if (s->log >= 0)
		close(s->log);
	egress_free(s->egress);
	frame_policy_clear(&s->policy);
	/* libslirp stays loaded: GLib does not support being unloaded. */
	free(s);
}

/* ---- outbound TCP through the relay (tcprelay.c) */

#define SYN_FRAME_MAX (14 + 40 + 20)

/* The SYN that @peer would have sent to @dst through the TAP, as an
 * Ethernet frame for the policy to judge.  Return: its length, or 0. */
static size_t syn_frame(const struct sockaddr_storage *dst, const struct sockaddr_storage *peer, uint8_t *f)
{
	memset(f, 0, SYN_FRAME_MAX);
	uint8_t *ip = f + 14, *tcp;
	if (dst->ss_family == AF_INET && peer->ss_family == AF_INET) {
		const struct sockaddr_in *d = (const void *)dst, *p = (const void *)peer;
		f[12] = 0x08;
		ip[0] = 0x45, ip[3] = 40, ip[8] = 64, ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, &p->sin_addr, 4);
		memcpy(ip + 16, &d->sin_addr, 4);
		tcp = ip + 20;
		memcpy(tcp, &p->sin_port, 2);
		memcpy(tcp + 2, &d->sin_port, 2);
	} else if (dst->ss_family == AF_INET6 && peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *d = (const void *)dst, *p = (const void *)peer;
		f[12] = 0x86, f[13] = 0xdd;
		ip[0] = 0x60, ip[5] = 20, ip[6] = IPPROTO_TCP, ip[7] = 64;
		memcpy(ip + 8, &p->sin6_addr, 16);
		memcpy(ip + 24, &d->sin6_addr, 16);
		tcp = ip + 40;
		memcpy(tcp, &p->sin6_port, 2);
		memcpy(tcp + 2, &d->sin6_port, 2);
	} else {
		return 0;
	}
	tcp[12] = 5 << 4, tcp[13] = 0x02 /* SYN */, tcp[14] = 0xff, tcp[15] = 0xff;
	return (size_t)(tcp + 20 - f);
}

/* Where libslirp would connect for @dst, or -1 where it would not: the
 * gateway is the host's loopback only when that is allowed; the resolver
 * (whose TCP the rule leaves to libslirp) and the network's other
 * addresses are nobody. */
static int translate(const struct netns_slirp *s, const struct sockaddr_storage *dst, struct sockaddr_storage *to,
		     socklen_t *tolen)
{
	const struct netns_lease *l = &s->lease;
	*to = *dst;
	if (dst->ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)to;
		uint32_t mask = htonl(l->prefix ? ~0u << (32 - l->prefix) : 0);
		*tolen = sizeof(*a);
		if (a->sin_addr.s_addr == l->gateway && s->policy.allow_host) {
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			return 0;
		}
		return (a->sin_addr.s_addr & mask) == (l->gateway & mask) ? -1 : 0;
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)to;
	*tolen = sizeof(*a);
	a->sin6_flowinfo = 0, a->sin6_scope_id = 0;
	if (!memcmp(&a->sin6_addr, l->gateway6, 16) && s->policy.allow_host) {
		a->sin6_addr = in6addr_loopback;
		return 0;
	}
	return memcmp(&a->sin6_addr, l->gateway6, 8) == 0 ? -1 : 0; /* the network's /64 */
}

/* tcprelay_decide_fn: the checks a SYN to libslirp would meet, then where
 * libslirp would connect. */
static int relay_decide(void *ctx, const struct sockaddr_storage *dst, const struct sockaddr_storage *peer,
			struct sockaddr_storage *to, socklen_t *tolen)
{
	struct netns_slirp *s = ctx;
	uint8_t f[SYN_FRAME_MAX];
	size_t len = syn_frame(dst, peer, f);

	if (!len || !verdict(s, f, len, false))
		return -1;
	return translate(s, dst, to, tolen);
}

int netns_slirp_relay(struct netns_slirp *s, int id, int listen4, int listen6, struct ubx_err *e)
{
	struct tcprelay *relay;
	int r = tcprelay_new(listen4, listen6, relay_decide, s, &relay, e);
	if (r < 0)
		return r;
	struct slirp_relay *grown = realloc(s->relays, (s->n_relays + 1) * sizeof(*grown));
	if (!grown) {
		tcprelay_free(relay); /* and its listeners */
		return ubx_fail(e, ENOMEM, "relay");
	}
	s->relays = grown;
	grown[s->n_relays++] = (struct slirp_relay){ .relay = relay, .id = id };
	snprintf(s->tcp_path, sizeof(s->tcp_path), "relay");
	return 0;
}

void netns_slirp_relay_drop(struct netns_slirp *s, int id)
{
	for (size_t i = s->n_relays; i-- > 0;) {
		if (s->relays[i].id != id)
			continue;
		s->relayed += tcprelay_accepted(s->relays[i].relay);
		tcprelay_free(s->relays[i].relay);
		s->relays[i] = s->relays[--s->n_relays];
	}
}

void netns_slirp_relay_status(struct netns_slirp *s, int fd)
{
	if (s->relay_status >= 0)
		close(s->relay_status);
	s->relay_status = fd;
	snprintf(s->tcp_path, sizeof(s->tcp_path), "relay (its rule is being made)");
}

void netns_slirp_no_relay(struct netns_slirp *s, const char *why)
{
	snprintf(s->tcp_path, sizeof(s->tcp_path), "libslirp (%s)", why);
}

void netns_slirp_stats(const struct netns_slirp *s, struct netns_stats *st)
{
	*st = (struct netns_stats){ .relayed = s->relayed, .allowed = s->allowed, .refused = s->refused };
	snprintf(st->tcp_path, sizeof(st->tcp_path), "%s", s->tcp_path);
	for (size_t i = 0; i < s->n_relays; i++)
		st->relayed += tcprelay_accepted(s->relays[i].relay);
}
