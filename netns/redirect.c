/* SPDX-License-Identifier: MIT */
/*
 * redirect.c - inside the sandbox's network namespace: the nf_tables rule
 * that sends outbound TCP to usbox's relay (tcprelay.c) instead of libslirp.
 *
 * DOC: Theory of operation
 * The sandbox's init, root of the user namespace that owns the network
 * namespace, calls netns_redirect_open() first thing, with lo up: two
 * listening sockets on the loopback addresses (127.0.0.1:P and [::1]:P, so
 * nothing from the TAP's side can reach them) and an nfnetlink socket, all
 * handed to the supervisor.  Once the command has run a little, the
 * supervisor (owner of the sandbox's user namespace, so CAP_NET_ADMIN over
 * the network namespace) sends one nfnetlink batch on that socket from a
 * thread of its own, netns_redirect_commit(): the table "usbox" (family
 * inet) with a nat chain on the output hook:
 *   ip[6] daddr in what the plan keeps   accept   (libslirp keeps it)
 *   tcp, oifname NETNS_TAP_NAME, a SYN   redirect to :P
 * The kernel's commit (conntrack's set-up, hooks, RCU grace periods) costs
 * milliseconds of CPU and more of waiting: neither the command's start nor
 * a short command's exit pays for it.  Until the rule is in, TCP goes
 * through libslirp; only a SYN is redirected, as conntrack picks up a
 * connection that began before mid-stream, as new.  The thread says how it
 * went on a status socket the loop polls.  The plan (netns_redirect_plan(),
 * made in the caller's
 * namespace) keeps the resolver (DNS over TCP is libslirp's), link-local
 * addresses, and without allow_host_loopback the gateway and the host's own
 * addresses: refused there at once, a connect() to them fails as before
 * instead of being accepted and reset.  Only what routes to the TAP is
 * redirected: loopback and the sandbox's own addresses leave by "lo".
 * The listeners go to the supervisor, which reads each connection's
 * original destination back and applies every check libslirp's path
 * applies; the rule is a fast path, never a boundary: when root inside
 * deletes it, TCP goes to libslirp again, policed as before.  (The table is
 * not owned by the netlink socket: releasing an owned table unregisters its
 * hooks synchronously, which made every sandbox's exit 10 ms slower.)
 * The messages are built by hand (a few attributes; no library needed).
 */
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "internal.h"

#define TABLE "usbox"
#define CHAIN "out"
#define NAT_PRIORITY (-100) /* NF_IP_PRI_NAT_DST */

struct nlbuf {
	size_t len;
	bool full;
	uint32_t seq;
	unsigned acks; /* messages that ask for one */
	uint8_t data[32768] __attribute__((aligned(4)));
};

static void *reserve(struct nlbuf *b, size_t n)
{
	size_t at = NLMSG_ALIGN(b->len);
	if (at + NLMSG_ALIGN(n) > sizeof(b->data)) {
		b->full = true;
		return NULL;
	}
	memset(b->data + at, 0, NLMSG_ALIGN(n));
	b->len = at + n;
	return b->data + at;
}

/* Starts a message; returns its offset, for msg_end(). */
static size_t msg_begin(struct nlbuf *b, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id)
{
	size_t at = NLMSG_ALIGN(b->len);
	struct nlmsghdr *h = reserve(b, NLMSG_HDRLEN);
	struct nfgenmsg *g = reserve(b, sizeof(*g));
	if (!h || !g)
		return at;
	*h = (struct nlmsghdr){ .nlmsg_type = type, .nlmsg_flags = NLM_F_REQUEST | flags, .nlmsg_seq = ++b->seq };
	*g = (struct nfgenmsg){ .nfgen_family = family, .version = NFNETLINK_V0, .res_id = htons(res_id) };
	if (flags & NLM_F_ACK)
		b->acks++;
	return at;
}

static void msg_end(struct nlbuf *b, size_t at)
{
	if (!b->full)
		((struct nlmsghdr *)(b->data + at))->nlmsg_len = (uint32_t)(NLMSG_ALIGN(b->len) - at);
}

static void put(struct nlbuf *b, uint16_t type, const void *v, size_t n)
{
	struct nlattr *a = reserve(b, NLA_HDRLEN + n);
	if (!a)
		return;
	*a = (struct nlattr){ .nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type };
	memcpy((uint8_t *)a + NLA_HDRLEN, v, n);
}

static void put_str(struct nlbuf *b, uint16_t type, const char *s)
{
	put(b, type, s, strlen(s) + 1);
}

static void put_be32(struct nlbuf *b, uint16_t type, uint32_t v)
{
	v = htonl(v);
	put(b, type, &v, sizeof(v));
}

static size_t nest_begin(struct nlbuf *b, uint16_t type)
{
	size_t at = NLMSG_ALIGN(b->len);
	struct nlattr *a = reserve(b, NLA_HDRLEN);
	if (a)
		*a = (struct nlattr){ .nla_type = type | NLA_F_NESTED };
	return at;
}

static void nest_end(struct nlbuf *b, size_t at)
{
	if (!b->full)
		((struct nlattr *)(b->data + at))->nla_len = (uint16_t)(NLMSG_ALIGN(b->len) - at);
}

/* One expression of a rule: its name, and its attributes from @fill. */
#define EXPR(b, name, ...)                                              \
	do {                                                            \
		size_t elem_ = nest_begin(b, NFTA_LIST_ELEM);           \
		put_str(b, NFTA_EXPR_NAME, name);                       \
		size_t data_ = nest_begin(b, NFTA_EXPR_DATA);           \
		__VA_ARGS__;                                            \
		nest_end(b, data_);                                     \
		nest_end(b, elem_);                                     \
	} while (0)

static void expr_meta(struct nlbuf *b, uint32_t key)
{
	EXPR(b, "meta", put_be32(b, NFTA_META_KEY, key); put_be32(b, NFTA_META_DREG, NFT_REG_1));
}

static void expr_payload(struct nlbuf *b, uint32_t base, uint32_t offset, uint32_t len)
{
	EXPR(b, "payload", put_be32(b, NFTA_PAYLOAD_DREG, NFT_REG_1);
	     put_be32(b, NFTA_PAYLOAD_BASE, base); put_be32(b, NFTA_PAYLOAD_OFFSET, offset);
	     put_be32(b, NFTA_PAYLOAD_LEN, len));
}

static void expr_cmp_eq(struct nlbuf *b, const void *v, size_t n)
{
	EXPR(b, "cmp", put_be32(b, NFTA_CMP_SREG, NFT_REG_1); put_be32(b, NFTA_CMP_OP, NFT_CMP_EQ);
	     size_t d_ = nest_begin(b, NFTA_CMP_DATA); put(b, NFTA_DATA_VALUE, v, n); nest_end(b, d_));
}

static void expr_accept(struct nlbuf *b)
{
	EXPR(b, "immediate", put_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	     size_t d_ = nest_begin(b, NFTA_IMMEDIATE_DATA); size_t v_ = nest_begin(b, NFTA_DATA_VERDICT);
	     put_be32(b, NFTA_VERDICT_CODE, NF_ACCEPT); nest_end(b, v_); nest_end(b, d_));
}

static void expr_redirect(struct nlbuf *b, uint16_t port)
{
	uint16_t be = htons(port);
	EXPR(b, "immediate", put_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_1);
	     size_t d_ = nest_begin(b, NFTA_IMMEDIATE_DATA); put(b, NFTA_DATA_VALUE, &be, sizeof(be)); nest_end(b, d_));
	EXPR(b, "redir", put_be32(b, NFTA_REDIR_REG_PROTO_MIN, NFT_REG_1));
}

static size_t rule_begin(struct nlbuf *b, size_t *exprs)
{
	size_t m = msg_begin(b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK,
			     NFPROTO_INET, 0);
	put_str(b, NFTA_RULE_TABLE, TABLE);
	put_str(b, NFTA_RULE_CHAIN, CHAIN);
	*exprs = nest_begin(b, NFTA_RULE_EXPRESSIONS);
	return m;
}

static void rule_end(struct nlbuf *b, size_t m, size_t exprs)
{
	nest_end(b, exprs);
	msg_end(b, m);
}

static void expr_mask(struct nlbuf *b, const uint8_t *mask, size_t n)
{
	static const uint8_t zero[16];
	EXPR(b, "bitwise", put_be32(b, NFTA_BITWISE_SREG, NFT_REG_1); put_be32(b, NFTA_BITWISE_DREG, NFT_REG_1);
	     put_be32(b, NFTA_BITWISE_LEN, (uint32_t)n);
	     size_t m_ = nest_begin(b, NFTA_BITWISE_MASK); put(b, NFTA_DATA_VALUE, mask, n); nest_end(b, m_);
	     size_t x_ = nest_begin(b, NFTA_BITWISE_XOR); put(b, NFTA_DATA_VALUE, zero, n); nest_end(b, x_));
}

/* "meta nfproto P, the destination in @addr/@prefix: accept" (no NAT:
 * libslirp keeps it). */
static void rule_keep(struct nlbuf *b, bool v6, const uint8_t *addr, unsigned prefix)
{
	uint8_t proto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4, mask[16] = { 0 }, net[16] = { 0 };
	size_t n = v6 ? 16 : 4, exprs, m = rule_begin(b, &exprs);

	for (size_t i = 0; i < n; i++) {
		unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;
		mask[i] = (uint8_t)(bits >= 8 ? 0xff : (0xff00 >> bits) & 0xff);
		net[i] = addr[i] & mask[i];
	}
	expr_meta(b, NFT_META_NFPROTO);
	expr_cmp_eq(b, &proto, 1);
	expr_payload(b, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, (uint32_t)n);
	if (prefix < n * 8)
		expr_mask(b, mask, n);
	expr_cmp_eq(b, net, n);
	expr_accept(b);
	rule_end(b, m, exprs);
}

/* "[meta nfproto ipv4] meta l4proto tcp oifname NETNS_TAP_NAME tcp flags &
 * (syn|ack) == syn redirect to :@port" (by name: the TAP need not exist
 * yet).  Only a SYN starts a redirect: a connection that began through
 * libslirp before the rule was in is picked up by conntrack mid-stream as
 * new, and must not be turned to the listener then. */
static void rule_redirect(struct nlbuf *b, uint16_t port, bool v4_only)
{
	uint8_t tcp = IPPROTO_TCP, v4 = NFPROTO_IPV4, syn_ack = 0x12, syn = 0x02;
	char oifname[IFNAMSIZ] = NETNS_TAP_NAME;
	size_t exprs, m = rule_begin(b, &exprs);
	if (v4_only) {
		expr_meta(b, NFT_META_NFPROTO);
		expr_cmp_eq(b, &v4, 1);
	}
	expr_meta(b, NFT_META_L4PROTO);
	expr_cmp_eq(b, &tcp, 1);
	expr_meta(b, NFT_META_OIFNAME);
	expr_cmp_eq(b, oifname, sizeof(oifname));
	expr_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1); /* the TCP flags */
	expr_mask(b, &syn_ack, 1);
	expr_cmp_eq(b, &syn, 1);
	expr_redirect(b, port);
	rule_end(b, m, exprs);
}

static void build_batch(struct nlbuf *b, const struct netns_redirect_plan *p, uint16_t port, bool v4_only)
{
	msg_end(b, msg_begin(b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));

	size_t m = msg_begin(b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
			     NFPROTO_INET, 0);
	put_str(b, NFTA_TABLE_NAME, TABLE);
	msg_end(b, m);

	m = msg_begin(b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
		      NFPROTO_INET, 0);
	put_str(b, NFTA_CHAIN_TABLE, TABLE);
	put_str(b, NFTA_CHAIN_NAME, CHAIN);
	size_t hook = nest_begin(b, NFTA_CHAIN_HOOK);
	put_be32(b, NFTA_HOOK_HOOKNUM, NF_INET_LOCAL_OUT);
	put_be32(b, NFTA_HOOK_PRIORITY, (uint32_t)NAT_PRIORITY);
	nest_end(b, hook);
	put_str(b, NFTA_CHAIN_TYPE, "nat");
	msg_end(b, m);

	for (size_t i = 0; i < p->n && i < NETNS_REDIRECT_KEEP_MAX; i++)
		rule_keep(b, p->keep[i].v6, p->keep[i].addr, p->keep[i].prefix);
	rule_redirect(b, port, v4_only);
	msg_end(b, msg_begin(b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
}

/* Reads the answers to @b until every message that asked has its ack.
 * Return: 0 or the first error (a negative errno). */
static int read_acks(int nl, const struct nlbuf *b)
{
	uint8_t buf[8192] __attribute__((aligned(4)));
	unsigned acks = 0;

	while (acks < b->acks) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *err = NLMSG_DATA(h);
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*err)))
				return -EBADMSG;
			if (err->error)
				return err->error;
			acks++;
		}
	}
	return 0;
}

/* Adds the table, its chain and rules. */
static int add_rules(int nl, const struct netns_redirect_plan *p, uint16_t port, bool v4_only, struct ubx_err *e)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };
	_cleanup_free_ struct nlbuf *b = calloc(1, sizeof(*b)); /* 32 KiB: not on a thread's stack */
	if (!b)
		return ubx_fail(e, ENOMEM, "build the nf_tables rules");
	build_batch(b, p, port, v4_only);
	if (b->full)
		return ubx_fail(e, ENOBUFS, "build the nf_tables rules");
	(void)setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(nl, b->data, b->len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) != (ssize_t)b->len)
		return ubx_fail(e, errno, "send the nf_tables rules");
	int r = read_acks(nl, b);
	return r < 0 ? ubx_fail(e, -r, "nf_tables refused the redirect") : 0;
}

/* A TCP listener on the loopback address of @family, on @port (0: any). */
static int listen_on(int family, uint16_t port, struct ubx_err *e)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a = { 0 };
	socklen_t len = family == AF_INET ? sizeof(a.in) : sizeof(a.in6);
	int one = 1;

	if (family == AF_INET)
		a.in = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
					     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	else
		a.in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(port),
					       .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	_cleanup_close_ int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ubx_fail(e, errno, "the relay's listener");
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, len) < 0 || listen(fd, SOMAXCONN) < 0)
		return ubx_fail(e, errno, "the relay's listener");
	return TAKE_FD(fd);
}

uint16_t netns_listener_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	return getsockname(fd, (struct sockaddr *)&a, &len) == 0 ? ntohs(a.sin_port) : 0;
}

void netns_redirect_close(struct netns_redirect *rd)
{
	int *fds[] = { &rd->listen4, &rd->listen6, &rd->nl };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]), *fds[i] = -1;
}

/* The listeners and the nfnetlink socket. */
int netns_redirect_open(struct netns_redirect *rd, struct ubx_err *e)
{
	*rd = (struct netns_redirect){ .listen4 = -1, .listen6 = -1, .nl = -1 };
	if ((rd->listen4 = listen_on(AF_INET, 0, e)) < 0)
		return rd->listen4;
	/* Without IPv6 on lo (or in the kernel), IPv6 stays with libslirp. */
	rd->listen6 = listen_on(AF_INET6, netns_listener_port(rd->listen4), e);
	if ((rd->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER)) < 0) {
		int r = ubx_fail(e, errno, "nfnetlink");
		netns_redirect_close(rd);
		return r;
	}
	*e = (struct ubx_err){ 0 };
	return 0;
}

struct commit {
	int nl, status;
	uint16_t port;
	bool v4_only;
	struct netns_redirect_plan plan;
};

/* The commit thread: the rules, then "r" or "x" and why on its status. */
static void *commit_main(void *arg)
{
	struct commit *c = arg;
	char msg[sizeof(((struct ubx_err *)0)->msg) + 1] = "r";
	struct ubx_err e = { 0 };

	if (add_rules(c->nl, &c->plan, c->port, c->v4_only, &e) < 0)
		snprintf(msg, sizeof(msg), "x%s", e.msg);
	(void)!send(c->status, msg, strlen(msg), MSG_NOSIGNAL);
	close(c->status);
	close(c->nl);
	free(c);
	return NULL;
}

int netns_redirect_commit(int nl, const struct netns_redirect_plan *p, uint16_t port, bool v4_only, int *status,
			  struct ubx_err *e)
{
	_cleanup_close_ int nl_fd = nl;
	int sp[2];
	pthread_attr_t attr;
	pthread_t t;

	struct commit *c = malloc(sizeof(*c));
	if (!c)
		return ubx_fail(e, ENOMEM, "the redirect's rule");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		free(c);
		return ubx_fail(e, errno, "socketpair");
	}
	*c = (struct commit){ .nl = nl_fd, .status = sp[1], .port = port, .v4_only = v4_only, .plan = *p };
	int r = pthread_attr_init(&attr);
	if (r == 0) {
		(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		r = pthread_create(&t, &attr, commit_main, c);
		pthread_attr_destroy(&attr);
	}
	if (r != 0) {
		close(sp[0]), close(sp[1]), free(c);
		return ubx_fail(e, r, "the redirect's rule: a thread");
	}
	nl_fd = -1; /* the thread's now */
	*status = sp[0];
	return 0;
}

int netns_redirect_status(int fd, char *why, size_t len)
{
	char msg[sizeof(((struct ubx_err *)0)->msg) + 1];
	ssize_t n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 1 && msg[0] == 'r')
		return 1;
	if (n > 0 && msg[0] == 'x') {
		msg[n] = '\0';
		snprintf(why, len, "%s", msg + 1);
	} else {
		snprintf(why, len, "the nf_tables rules' thread failed");
	}
	return -1;
}

int netns_redirect_setup(const struct netns_redirect_plan *p, struct netns_redirect *out, struct ubx_err *e)
{
	int r = netns_redirect_open(out, e);
	if (r == 0)
		r = add_rules(out->nl, p, netns_listener_port(out->listen4), out->listen6 < 0, e);
	if (r < 0) {
		netns_redirect_close(out);
		return r;
	}
	close(out->nl);
	out->nl = -1;
	*e = (struct ubx_err){ 0 };
	return 0;
}

static void keep(struct netns_redirect_plan *p, bool v6, const void *addr, unsigned prefix)
{
	if (p->n >= NETNS_REDIRECT_KEEP_MAX)
		return;
	memcpy(p->keep[p->n].addr, addr, v6 ? 16 : 4);
	p->keep[p->n].prefix = (uint8_t)prefix;
	p->keep[p->n++].v6 = v6;
}

void netns_redirect_plan(struct netns_redirect_plan *p, const struct netns_network *net, bool allow_host_loopback)
{
	static const uint8_t link4[4] = { 169, 254 }, link6[16] = { 0xfe, 0x80 };
	struct frame_policy host = { 0 };
	struct netns_lease l;

	*p = (struct netns_redirect_plan){ 0 };
	if (net) {
		l = netns_network_lease(net, 0);
		keep(p, false, &net->net, net->prefix);
		keep(p, true, l.gateway6, 64);
	} else {
		netns_default_lease(&l);
		keep(p, false, &l.dns, 32);
		keep(p, true, l.dns6, 128);
	}
	keep(p, false, link4, 16);
	keep(p, true, link6, 10);
	if (allow_host_loopback)
		return;
	if (!net) {
		keep(p, false, &l.gateway, 32);
		keep(p, true, l.gateway6, 128);
	}
	if (frame_policy_load(&host, NULL) < 0)
		return;
	for (size_t i = 0; i < host.n4; i++)
		if ((ntohl(host.host4[i]) >> 24) != 127)
			keep(p, false, &host.host4[i], 32);
	for (size_t i = 0; i < host.n6; i++)
		if (!IN6_IS_ADDR_LOOPBACK(&host.host6[i]) && !IN6_IS_ADDR_LINKLOCAL(&host.host6[i]))
			keep(p, true, &host.host6[i], 128);
	frame_policy_clear(&host);
}
