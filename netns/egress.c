/* SPDX-License-Identifier: MIT */
/*
 * egress.c - the egress policy (--net-allow, `network create --allow`) on
 * every frame between a sandbox and libslirp.
 *
 * DOC: Theory of operation
 * slirp.c hands each frame a sandbox writes to egress_outbound() before
 * the frame filter and libslirp see it, and each frame libslirp writes back
 * to egress_inbound().  Enforcement is on frames outside the sandbox, so
 * nothing inside (root, raw sockets, a resolver of its own) can go around
 * it.  Outbound, in order:
 *  - ARP passes; IPv6 neighbour discovery (ICMPv6 133-137) passes: libslirp
 *    answers it itself.  Multicast and broadcast are dropped, and so is
 *    what goes to the network's own other addresses (on a user network,
 *    frames between sandboxes that the bridge floods to the uplink too).
 *  - UDP to the network's resolver on port 53 is a DNS query: a name a rule
 *    allows (HOST, or *.DOMAIN) goes on to libslirp's resolver; any other
 *    is answered NXDOMAIN here and never leaves.  DNS over TCP to the
 *    resolver is refused (its answers could not be read on the way back).
 *  - Otherwise the destination address and port decide.  Protected
 *    addresses - loopback, "this host", link-local (169.254.0.0/16 with the
 *    cloud metadata endpoint, fe80::/10), the gateway (the host's loopback
 *    with allow_host_loopback), the resolver's address but for DNS, and the
 *    host's own addresses - pass only an address rule that lies inside the
 *    protected range (so 169.254.169.254 or 169.254.0.0/16 allows the
 *    metadata endpoint, 0.0.0.0/0 does not) and never through a name.  Any
 *    other address passes an address rule that covers it and the port, or a
 *    name rule for a name that resolved to it (learned by egress_inbound()
 *    from the resolver's answers during this policy's life) whose ports
 *    cover the port.
 *  - What is refused is answered at once: a TCP segment with a RST, a UDP
 *    datagram or an ICMP echo request with an ICMP "administratively
 *    prohibited"; fragments and other protocols are dropped.  ICMP needs a
 *    rule without a port.
 * Decisions worth knowing (a TCP SYN, the first datagram of a UDP flow and
 * every refused one, an ICMP echo, a DNS question) fill a struct
 * egress_event, which egress_event_json() writes as a line of --net-log.
 * Everything here is pure but for what it learns, for the unit tests and
 * the fuzzer (tests/fuzz/fuzz_egress.c); every offset read is checked
 * against the frame's length.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define UDP_HLEN 8
#define TCP_HLEN 20
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define DNS_PORT 53
#define NAMES_MAX 2048
#define FLOWS 64
#define PORT_ANY -1  /* DNS: any rule for the name */
#define PORT_ICMP -2 /* ICMP: a rule without a port */

struct learned {
	uint8_t addr[16];
	uint32_t name; /* index in names */
};

struct flow {
	uint8_t dst[16];
	uint16_t sport, dport;
};

struct egress {
	struct netns_allow *rules;
	size_t n;
	uint8_t gateway[16], dns[16], gateway6[16], dns6[16];
	uint8_t subnet[16], subnet6[16]; /* the network's own, of prefix subnet_prefix and 64 */
	unsigned subnet_prefix;
	struct learned *learned; /* sorted by address, then name */
	size_t n_learned;
	char **names;
	size_t n_names;
	struct flow flows[FLOWS]; /* UDP flows seen lately, to log the first datagram of each */
	size_t next_flow;
};

/* One IP packet of a frame, its addresses in the ::ffff: form for IPv4. */
struct pkt {
	bool v6;
	uint8_t src[16], dst[16];
	uint8_t proto;
	bool fragment;
	const uint8_t *l4; /* the transport header, l4len bytes up to the packet's end */
	size_t l4len;
};

static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void map4(uint8_t out[16], const uint8_t *v4)
{
	memcpy(out, v4_mapped, 12);
	memcpy(out + 12, v4, 4);
}

static bool is_v4(const uint8_t a[16])
{
	return memcmp(a, v4_mapped, 12) == 0;
}

/* Whether @a lies in @net/@prefix (128-bit prefixes). */
static bool in_net(const uint8_t a[16], const uint8_t net[16], unsigned prefix)
{
	size_t bytes = prefix / 8;
	if (memcmp(a, net, bytes) != 0)
		return false;
	if (prefix % 8 == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00 >> (prefix % 8));
	return (a[bytes] & mask) == (net[bytes] & mask);
}

int egress_new(const struct netns_allow *rules, size_t n, const struct netns_lease *l, struct egress **out,
	       struct ubx_err *e)
{
	struct egress *g = calloc(1, sizeof(*g));
	if (!g || !(g->rules = calloc(n ? n : 1, sizeof(*rules)))) {
		free(g);
		return ubx_fail(e, ENOMEM, "the egress policy");
	}
	memcpy(g->rules, rules, n * sizeof(*rules));
	g->n = n;
	map4(g->gateway, (const uint8_t *)&l->gateway);
	map4(g->dns, (const uint8_t *)&l->dns);
	memcpy(g->gateway6, l->gateway6, 16);
	memcpy(g->dns6, l->dns6, 16);
	uint32_t mask = htonl(l->prefix ? ~0u << (32 - l->prefix) : 0), net = l->gateway & mask;
	map4(g->subnet, (const uint8_t *)&net);
	g->subnet_prefix = 96u + l->prefix;
	memcpy(g->subnet6, l->gateway6, 8);
	*out = g;
	return 0;
}

void egress_free(struct egress *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n_names; i++)
		free(g->names[i]);
	free(g->names);
	free(g->learned);
	free(g->rules);
	free(g);
}

/* ---- frames */

static int parse_ipv4(const uint8_t *ip, size_t len, struct pkt *p)
{
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, total = get16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl < IPV4_HLEN || total < ihl || total > len)
		return -EBADMSG;
	p->v6 = false;
	map4(p->src, ip + 12);
	map4(p->dst, ip + 16);
	p->proto = ip[9];
	p->fragment = (get16(ip + 6) & 0x3fff) != 0; /* more fragments, or an offset */
	p->l4 = ip + ihl;
	p->l4len = total - ihl;
	return 0;
}

/* IPv6 with the transport header right after the fixed one: libslirp
 * follows no extension header, and neither does the policy. */
static int parse_ipv6(const uint8_t *ip, size_t len, struct pkt *p)
{
	size_t plen = get16(ip + 4);
	if (ip[0] >> 4 != 6 || len < IPV6_HLEN || plen > len - IPV6_HLEN)
		return -EBADMSG;
	p->v6 = true;
	memcpy(p->src, ip + 8, 16);
	memcpy(p->dst, ip + 24, 16);
	p->proto = ip[6];
	p->fragment = ip[6] == 44;
	p->l4 = ip + IPV6_HLEN;
	p->l4len = plen;
	return 0;
}

/* Return: 1 for an IP packet in @p, 0 for a frame of another type, -EBADMSG. */
static int parse_frame(const uint8_t *f, size_t len, struct pkt *p)
{
	if (len < ETH_HLEN)
		return -EBADMSG;
	unsigned type = get16(f + 12);
	if (type == ETHERTYPE_IPV4 && len >= ETH_HLEN + IPV4_HLEN)
		return parse_ipv4(f + ETH_HLEN, len - ETH_HLEN, p) < 0 ? -EBADMSG : 1;
	if (type == ETHERTYPE_IPV6 && len >= ETH_HLEN + IPV6_HLEN)
		return parse_ipv6(f + ETH_HLEN, len - ETH_HLEN, p) < 0 ? -EBADMSG : 1;
	return type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6 ? -EBADMSG : 0;
}

/* Whether @a is on the network itself but for its gateway and resolver: a
 * user network's sandboxes, whose frames reach the uplink only while the
 * bridge floods them (not egress, and answered by nobody). */
static bool on_link(const struct egress *g, const uint8_t a[16])
{
	if (!in_net(a, g->subnet, g->subnet_prefix) && !in_net(a, g->subnet6, 64))
		return false;
	return memcmp(a, g->gateway, 16) && memcmp(a, g->dns, 16) && memcmp(a, g->gateway6, 16) &&
	       memcmp(a, g->dns6, 16);
}

static bool multicast(const uint8_t a[16])
{
	if (is_v4(a))
		return a[12] >= 224; /* 224.0.0.0/4, 240.0.0.0/4 and the broadcast address */
	return a[0] == 0xff;
}

/* ---- decisions */

/* A protected range an address lies in: its prefix and what it is. */
struct protected {
	unsigned prefix;
	const char *what;
};

static bool protected_fixed(const uint8_t a[16], struct protected *pr)
{
	static const struct {
		uint8_t net[16];
		unsigned prefix;
		const char *what;
	} ranges[] = {
		{ { [10] = 0xff, [11] = 0xff, [12] = 127 }, 104, "a loopback address" },
		{ { [15] = 1 }, 128, "a loopback address" },
		{ { [10] = 0xff, [11] = 0xff }, 104, "\"this host\" (0.0.0.0/8)" },
		{ { 0 }, 96, "\"this host\" (::/96)" },
		{ { [10] = 0xff, [11] = 0xff, [12] = 169, [13] = 254 }, 112,
		  "link-local (169.254.0.0/16, the cloud metadata endpoint's)" },
		{ { 0xfe, 0x80 }, 10, "link-local (fe80::/10)" },
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (in_net(a, ranges[i].net, ranges[i].prefix)) {
			*pr = (struct protected){ ranges[i].prefix, ranges[i].what };
			return true;
		}
	return false;
}

static bool is_host_addr(const uint8_t a[16], const struct frame_policy *host)
{
	for (size_t i = 0; host && i < host->n4; i++)
		if (is_v4(a) && memcmp(a + 12, &host->host4[i], 4) == 0)
			return true;
	for (size_t i = 0; host && i < host->n6; i++)
		if (memcmp(a, host->host6[i].s6_addr, 16) == 0)
			return true;
	return false;
}

/* Whether @a needs a rule inside its range (which *@pr then names). */
static bool is_protected(const struct egress *g, const uint8_t a[16], const struct frame_policy *host,
			 struct protected *pr)
{
	if (protected_fixed(a, pr))
		return true;
	*pr = (struct protected){ 128, NULL };
	if (memcmp(a, g->gateway, 16) == 0 || memcmp(a, g->gateway6, 16) == 0)
		pr->what = "the gateway (the host's loopback)";
	else if (memcmp(a, g->dns, 16) == 0 || memcmp(a, g->dns6, 16) == 0)
		pr->what = "the resolver's address (only DNS on UDP port 53)";
	else if (is_host_addr(a, host))
		pr->what = "one of the host's own addresses";
	return pr->what != NULL;
}

static bool port_ok(const struct netns_allow *r, int port)
{
	if (port == PORT_ANY)
		return true;
	if (port == PORT_ICMP)
		return r->port_lo == 0 && r->port_hi == 65535;
	return r->port_lo <= port && port <= r->port_hi;
}

static bool name_ok(const struct netns_allow *r, const char *name)
{
	if (r->kind == NETNS_ALLOW_NAME)
		return strcmp(r->name, name) == 0;
	size_t n = strlen(name), d = strlen(r->name);
	return r->kind == NETNS_ALLOW_SUFFIX && n > d + 1 && name[n - d - 1] == '.' &&
	       strcmp(name + n - d, r->name) == 0;
}

/* The first name rule for @name and @port, or NULL; *@named says whether
 * any rule names it (whatever the port). */
static const struct netns_allow *name_rule(const struct egress *g, const char *name, int port, bool *named)
{
	*named = false;
	for (size_t i = 0; i < g->n; i++)
		if (g->rules[i].kind != NETNS_ALLOW_NET && name_ok(&g->rules[i], name)) {
			*named = true;
			if (port_ok(&g->rules[i], port))
				return &g->rules[i];
		}
	return NULL;
}

/* The first address rule covering @a and @port, at least @min_prefix long. */
static const struct netns_allow *net_rule(const struct egress *g, const uint8_t a[16], int port, unsigned min_prefix)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct netns_allow *r = &g->rules[i];
		if (r->kind == NETNS_ALLOW_NET && r->prefix >= min_prefix && in_net(a, r->addr, r->prefix) &&
		    port_ok(r, port))
			return r;
	}
	return NULL;
}

static int cmp_learned(const uint8_t a[16], uint32_t name, const struct learned *l)
{
	int c = memcmp(a, l->addr, 16);
	return c ? c : (name > l->name) - (name < l->name);
}

/* The first learned entry for @a (or where it would go). */
static size_t learned_find(const struct egress *g, const uint8_t a[16])
{
	size_t lo = 0, hi = g->n_learned;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_learned(a, 0, &g->learned[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void allowed_by(struct egress_event *ev, const struct netns_allow *r, const char *how)
{
	char text[NETNS_DNS_NAME_MAX + 32];
	netns_allow_format(r, text, sizeof(text));
	ev->allowed = true;
	snprintf(ev->why, sizeof(ev->why), "%s %.120s", how, text);
}

/* The verdict for @a and @port into @ev (allowed, why, name). */
static void decide(const struct egress *g, const uint8_t a[16], int port, const struct frame_policy *host,
		   struct egress_event *ev)
{
	struct protected pr;
	const struct netns_allow *r;
	bool named = false;

	ev->allowed = false;
	if (is_protected(g, a, host, &pr)) {
		if ((r = net_rule(g, a, port, pr.prefix)))
			return allowed_by(ev, r, "listed:");
		snprintf(ev->why, sizeof(ev->why), "%s, allowed only when listed itself", pr.what);
		return;
	}
	if ((r = net_rule(g, a, port, 0)))
		return allowed_by(ev, r, "address allowed by");
	for (size_t i = learned_find(g, a); i < g->n_learned && memcmp(g->learned[i].addr, a, 16) == 0; i++) {
		const char *name = g->names[g->learned[i].name];
		bool this_named;
		if ((r = name_rule(g, name, port, &this_named))) {
			snprintf(ev->name, sizeof(ev->name), "%s", name);
			return allowed_by(ev, r, "resolved from a name allowed by");
		}
		if (this_named && !named)
			snprintf(ev->name, sizeof(ev->name), "%s", name);
		named |= this_named;
	}
	snprintf(ev->why, sizeof(ev->why), "%s", named ? "no rule for the name allows this port" :
			 port == PORT_ICMP ? "no rule without a port allows this address" :
					     "no rule allows this address (nor a name that resolved to it)");
}

/* ---- replies */

/* The reply's Ethernet and IP headers, back to @p's sender from its
 * destination, for @l4len bytes of @proto; the transport header goes at the
 * returned offset. */
static size_t reply_ip(const uint8_t *frame, const struct pkt *p, uint8_t proto, size_t l4len, uint8_t *out)
{
	memcpy(out, frame + 6, 6);
	memcpy(out + 6, frame, 6);
	memcpy(out + 12, frame + 12, 2);
	uint8_t *ip = out + ETH_HLEN;
	if (p->v6) {
		memset(ip, 0, IPV6_HLEN);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, p->dst, 16);
		memcpy(ip + 24, p->src, 16);
		return ETH_HLEN + IPV6_HLEN;
	}
	memset(ip, 0, IPV4_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IPV4_HLEN + l4len));
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, p->dst + 12, 4);
	memcpy(ip + 16, p->src + 12, 4);
	put16(ip + 10, frame_fold(frame_sum16(ip, IPV4_HLEN, 0)));
	return ETH_HLEN + IPV4_HLEN;
}

/* The transport checksum of @l4 (@len bytes, its field zero) in @p's reply. */
static uint16_t l4_csum(const struct pkt *p, uint8_t proto, const uint8_t *l4, size_t len)
{
	uint8_t pseudo[40];
	size_t n;
	if (p->v6) {
		memcpy(pseudo, p->dst, 16);
		memcpy(pseudo + 16, p->src, 16);
		put32(pseudo + 32, (uint32_t)len);
		put32(pseudo + 36, proto);
		n = 40;
	} else {
		memcpy(pseudo, p->dst + 12, 4);
		memcpy(pseudo + 4, p->src + 12, 4);
		pseudo[8] = 0;
		pseudo[9] = proto;
		put16(pseudo + 10, (uint16_t)len);
		n = 12;
	}
	return frame_fold(frame_sum16(l4, len, frame_sum16(pseudo, n, 0)));
}

/* A RST for the TCP segment in @p (RFC 9293 3.10.7.1), or 0 for a RST. */
static size_t reply_rst(const uint8_t *frame, const struct pkt *p, uint8_t *out)
{
	const uint8_t *t = p->l4;
	uint8_t flags = t[13];
	if (flags & TCP_RST)
		return 0;
	size_t off = reply_ip(frame, p, PROTO_TCP, TCP_HLEN, out);
	uint8_t *r = out + off;
	size_t hlen = (size_t)(t[12] >> 4) * 4;
	uint32_t seglen = (uint32_t)(p->l4len > hlen ? p->l4len - hlen : 0) + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
	memset(r, 0, TCP_HLEN);
	memcpy(r, t + 2, 2);
	memcpy(r + 2, t, 2);
	if (flags & TCP_ACK) {
		memcpy(r + 4, t + 8, 4); /* seq = their ack */
		r[13] = TCP_RST;
	} else {
		put32(r + 8, get32(t + 4) + seglen);
		r[13] = TCP_RST | TCP_ACK;
	}
	r[12] = 5 << 4;
	put16(r + 16, l4_csum(p, PROTO_TCP, r, TCP_HLEN));
	return off + TCP_HLEN;
}

/* A UDP datagram with @payload back to @p's sender, from the port it was sent to. */
static size_t reply_udp(const uint8_t *frame, const struct pkt *p, const uint8_t *payload, size_t n, uint8_t *out,
			size_t cap)
{
	if (cap < ETH_HLEN + IPV6_HLEN + UDP_HLEN + n)
		return 0;
	size_t off = reply_ip(frame, p, PROTO_UDP, UDP_HLEN + n, out);
	uint8_t *u = out + off;
	memcpy(u, p->l4 + 2, 2);
	memcpy(u + 2, p->l4, 2);
	put16(u + 4, (uint16_t)(UDP_HLEN + n));
	put16(u + 6, 0);
	memmove(u + UDP_HLEN, payload, n);
	uint16_t sum = l4_csum(p, PROTO_UDP, u, UDP_HLEN + n);
	put16(u + 6, sum ? sum : 0xffff);
	return off + UDP_HLEN + n;
}

/* ---- what a sandbox sends */

static bool is_resolver(const struct egress *g, const uint8_t a[16])
{
	return memcmp(a, g->dns, 16) == 0 || memcmp(a, g->dns6, 16) == 0;
}

/* A query to the resolver: on when a rule names it, else NXDOMAIN here. */
static enum egress_verdict dns_query(struct egress *g, const uint8_t *frame, const struct pkt *p, uint8_t *reply,
				     size_t cap, size_t *reply_len, struct egress_event *ev, bool *log)
{
	struct dns_question q;
	uint8_t answer[EGRESS_REPLY_MAX];
	bool named;

	ev->proto = "dns";
	ev->port = DNS_PORT;
	int r = dns_query_parse(p->l4 + UDP_HLEN, p->l4len - UDP_HLEN, &q);
	if (r == -EBADMSG)
		return EGRESS_DROP;
	*log = true;
	ev->qtype = q.qtype;
	const struct netns_allow *rule = r == 0 ? name_rule(g, q.name, PORT_ANY, &named) : NULL;
	snprintf(ev->name, sizeof(ev->name), "%s", q.name);
	if (rule) {
		allowed_by(ev, rule, "name allowed by");
		return EGRESS_PASS;
	}
	snprintf(ev->why, sizeof(ev->why), "%s", r == 0 ? "no rule allows this name (answered NXDOMAIN)" :
								  "a query usbox does not read (answered REFUSED)");
	size_t n = dns_refusal(p->l4 + UDP_HLEN, &q, r == 0 ? 3 : 5, answer, sizeof(answer));
	*reply_len = n ? reply_udp(frame, p, answer, n, reply, cap) : 0;
	return *reply_len ? EGRESS_ANSWER : EGRESS_DROP;
}

/* Whether the UDP flow of @p is new (and remember it). */
static bool new_flow(struct egress *g, const struct pkt *p)
{
	struct flow f = { .sport = get16(p->l4), .dport = get16(p->l4 + 2) };
	memcpy(f.dst, p->dst, 16);
	for (size_t i = 0; i < FLOWS; i++)
		if (memcmp(&g->flows[i], &f, sizeof(f)) == 0)
			return false;
	g->flows[g->next_flow] = f;
	g->next_flow = (g->next_flow + 1) % FLOWS;
	return true;
}

static enum egress_verdict tcp_udp(struct egress *g, const uint8_t *frame, size_t len, const struct pkt *p,
				   const struct frame_policy *host, uint8_t *reply, size_t cap, size_t *reply_len,
				   struct egress_event *ev, bool *log)
{
	bool tcp = p->proto == PROTO_TCP;
	if (p->l4len < (tcp ? TCP_HLEN : UDP_HLEN))
		return EGRESS_DROP;
	ev->proto = tcp ? "tcp" : "udp";
	ev->port = get16(p->l4 + 2);
	if (!tcp && ev->port == DNS_PORT && is_resolver(g, p->dst))
		return dns_query(g, frame, p, reply, cap, reply_len, ev, log);
	decide(g, p->dst, ev->port, host, ev);
	if (tcp && is_resolver(g, p->dst) && ev->port == DNS_PORT && !ev->allowed)
		snprintf(ev->why, sizeof(ev->why), "DNS over TCP is not filtered: refused");
	uint8_t flags = tcp ? p->l4[13] : 0;
	if (tcp)
		*log = !(flags & TCP_RST) && (!ev->allowed || ((flags & TCP_SYN) && !(flags & TCP_ACK)));
	else
		*log = !ev->allowed || new_flow(g, p);
	if (ev->allowed)
		return EGRESS_PASS;
	*reply_len = tcp ? reply_rst(frame, p, reply) : frame_reject(frame, len, reply, cap);
	return *reply_len ? EGRESS_ANSWER : EGRESS_DROP;
}

static enum egress_verdict icmp(struct egress *g, const uint8_t *frame, size_t len, const struct pkt *p,
				const struct frame_policy *host, uint8_t *reply, size_t cap, size_t *reply_len,
				struct egress_event *ev, bool *log)
{
	if (p->l4len < 1)
		return EGRESS_DROP;
	uint8_t type = p->l4[0];
	if (p->proto == PROTO_ICMPV6 && type >= 133 && type <= 137)
		return EGRESS_PASS; /* neighbour discovery, which libslirp answers itself */
	ev->proto = "icmp";
	decide(g, p->dst, PORT_ICMP, host, ev);
	bool echo = type == (p->proto == PROTO_ICMP ? 8 : 128);
	*log = echo;
	if (ev->allowed)
		return EGRESS_PASS;
	*reply_len = echo ? frame_reject(frame, len, reply, cap) : 0;
	return *reply_len ? EGRESS_ANSWER : EGRESS_DROP;
}

enum egress_verdict egress_outbound(struct egress *g, const uint8_t *frame, size_t len,
				    const struct frame_policy *host, uint8_t *reply, size_t cap, size_t *reply_len,
				    struct egress_event *ev, bool *log)
{
	struct pkt p;

	*log = false;
	*reply_len = 0;
	*ev = (struct egress_event){ .proto = "ip" };
	int r = parse_frame(frame, len, &p);
	if (r <= 0 || cap < EGRESS_REPLY_MAX)
		return r == 0 ? EGRESS_PASS : EGRESS_DROP; /* ARP passes; what is not IP the filter refuses */
	memcpy(ev->dst, p.dst, 16);
	if (p.proto == PROTO_ICMPV6 && p.l4len >= 1 && p.l4[0] >= 133 && p.l4[0] <= 137)
		return EGRESS_PASS; /* (neighbour solicitations go to multicast addresses) */
	if (multicast(p.dst) || on_link(g, p.dst) || p.fragment)
		return EGRESS_DROP;
	switch (p.proto) {
	case PROTO_TCP:
	case PROTO_UDP:
		return tcp_udp(g, frame, len, &p, host, reply, cap, reply_len, ev, log);
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if (p.v6 != (p.proto == PROTO_ICMPV6))
			return EGRESS_DROP;
		return icmp(g, frame, len, &p, host, reply, cap, reply_len, ev, log);
	default:
		return EGRESS_DROP;
	}
}

/* ---- what the resolver answers */

static int name_index(struct egress *g, const char *name)
{
	for (size_t i = 0; i < g->n_names; i++)
		if (strcmp(g->names[i], name) == 0)
			return (int)i;
	if (g->n_names >= NAMES_MAX)
		return -ENOSPC;
	char **grown = realloc(g->names, (g->n_names + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	g->names = grown;
	if (!(g->names[g->n_names] = strdup(name)))
		return -ENOMEM;
	return (int)g->n_names++;
}

struct learning {
	struct egress *g;
	const struct dns_question *q; /* filled before the first address */
	int name;                     /* index in names; -1: not looked at yet; -2: learn nothing */
};

/* The name an answer's addresses are learned for: its question's, when a
 * rule allows it.  Return: its index in names, or a negative errno. */
static int answer_name(struct learning *l)
{
	bool named;
	if (l->name == -1)
		l->name = l->q->name[0] && name_rule(l->g, l->q->name, PORT_ANY, &named) ?
				  name_index(l->g, l->q->name) : -2;
	return l->name < 0 ? -ENOENT : l->name;
}

static void learn(void *ctx, const uint8_t addr[16])
{
	struct learning *l = ctx;
	struct egress *g = l->g;
	int name = answer_name(l);
	if (name < 0)
		return;
	size_t at = learned_find(g, addr);

	while (at < g->n_learned && cmp_learned(addr, (uint32_t)name, &g->learned[at]) > 0)
		at++;
	if (at < g->n_learned && cmp_learned(addr, (uint32_t)name, &g->learned[at]) == 0)
		return;
	if (g->n_learned >= EGRESS_LEARN_MAX)
		return;
	struct learned *grown = realloc(g->learned, (g->n_learned + 1) * sizeof(*grown));
	if (!grown)
		return;
	g->learned = grown;
	memmove(&g->learned[at + 1], &g->learned[at], (g->n_learned - at) * sizeof(*grown));
	memcpy(g->learned[at].addr, addr, 16);
	g->learned[at].name = (uint32_t)name;
	g->n_learned++;
}

void egress_inbound(struct egress *g, const uint8_t *frame, size_t len)
{
	struct pkt p;
	struct dns_question q = { .name = "" };
	struct learning l = { g, &q, -1 };

	if (parse_frame(frame, len, &p) <= 0 || p.proto != PROTO_UDP || p.fragment || p.l4len < UDP_HLEN ||
	    get16(p.l4) != DNS_PORT || !is_resolver(g, p.src))
		return;
	(void)dns_response_addrs(p.l4 + UDP_HLEN, p.l4len - UDP_HLEN, &q, learn, &l);
}

/* ---- the log */

/* @s as a JSON string's contents: anything but plain printable ASCII escaped. */
static size_t json_str(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int w = c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ?
				snprintf(out + n, cap - n, "\\u%04x", c) :
				snprintf(out + n, cap - n, "%c", c);
		if (w < 0 || (size_t)w >= cap - n)
			return cap;
		n += (size_t)w;
	}
	return n;
}

static const char *qtype_name(uint16_t t)
{
	switch (t) {
	case 1: return "A";
	case 28: return "AAAA";
	case 5: return "CNAME";
	case 12: return "PTR";
	case 15: return "MX";
	case 16: return "TXT";
	case 33: return "SRV";
	case 64: return "SVCB";
	case 65: return "HTTPS";
	default: return NULL;
	}
}

size_t egress_event_json(const struct egress_event *ev, const struct timespec *when, char *buf, size_t cap)
{
	char addr[INET6_ADDRSTRLEN], stamp[32], name[(NETNS_DNS_NAME_MAX + 1) * 6], why[sizeof(ev->why) * 6],
		qtype[32] = "";
	struct tm tm;

	gmtime_r(&when->tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	inet_ntop(is_v4(ev->dst) ? AF_INET : AF_INET6, is_v4(ev->dst) ? ev->dst + 12 : ev->dst, addr, sizeof(addr));
	if (json_str(ev->name, name, sizeof(name)) >= sizeof(name) || json_str(ev->why, why, sizeof(why)) >= sizeof(why))
		return 0;
	const char *t = qtype_name(ev->qtype);
	if (strcmp(ev->proto, "dns") == 0 && t)
		snprintf(qtype, sizeof(qtype), ",\"qtype\":\"%s\"", t);
	else if (strcmp(ev->proto, "dns") == 0)
		snprintf(qtype, sizeof(qtype), ",\"qtype\":%u", (unsigned)ev->qtype);
	int n = snprintf(buf, cap,
			 "{\"time\":\"%s.%03ldZ\",\"proto\":\"%s\",\"dst\":\"%s\",\"port\":%u,\"name\":%s%s%s%s,"
			 "\"verdict\":\"%s\",\"why\":\"%s\"}\n",
			 stamp, when->tv_nsec / 1000000, ev->proto, addr, (unsigned)ev->port, name[0] ? "\"" : "",
			 name[0] ? name : "null", name[0] ? "\"" : "", qtype, ev->allowed ? "allowed" : "refused", why);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

size_t egress_left_out_json(unsigned count, const struct timespec *when, char *buf, size_t cap)
{
	char stamp[32];
	struct tm tm;

	gmtime_r(&when->tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	int n = snprintf(buf, cap, "{\"time\":\"%s.%03ldZ\",\"left_out\":%u,\"why\":\"more decisions in the second "
			 "before than the log takes\"}\n", stamp, when->tv_nsec / 1000000, count);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
