/* SPDX-License-Identifier: MIT */
/* The egress policy: its text (allow.c), DNS messages (dns.c) and the
 * verdict on frames from a sandbox (egress.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../netns/internal.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint8_t my_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x64 };

/* ---- the policy's text */

static void parse_one(const char *text, struct netns_allow *out)
{
	struct netns_allow *list = NULL;
	size_t n = 0;
	struct ubx_err e = { 0 };
	ck_assert_msg(netns_allow_parse(text, &list, &n, &e) == 0, "%s: %s", text, e.msg);
	ck_assert_uint_eq(n, 1);
	*out = list[0];
	free(list);
}

START_TEST(allow_parses_and_formats)
{
	static const struct {
		const char *text, *canonical;
	} cases[] = {
		{ "example.com", "example.com" },
		{ "Registry.Example.COM.:443", "registry.example.com:443" },
		{ "*.example.com:8000-8100", "*.example.com:8000-8100" },
		{ "_svc.x-y.test", "_svc.x-y.test" },
		{ "10.1.2.3", "10.1.2.3" },
		{ "10.1.2.3:80", "10.1.2.3:80" },
		{ "10.0.0.0/8", "10.0.0.0/8" },
		{ "0.0.0.0/0:53", "0.0.0.0/0:53" },
		{ "fd77::1", "fd77::1" },
		{ "[fd77::1]:8081", "[fd77::1]:8081" },
		{ "[fd77::/64]:1-65535", "[fd77::/64]:1-65535" },
		{ "::/0", "::/0" },
		{ "[::ffff:10.0.0.1]", "10.0.0.1" },
		{ "host:1-1", "host:1" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct netns_allow a, again;
		char buf[300];
		parse_one(cases[i].text, &a);
		netns_allow_format(&a, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].canonical);
		parse_one(buf, &again);
		ck_assert_msg(memcmp(&a, &again, sizeof(a)) == 0, "%s does not read back", buf);
	}
}
END_TEST

START_TEST(allow_refuses)
{
	static const char *const bad[] = {
		"", ",", "a,", ",a", "a..b", ".a", "a b", "a/b", "*.", "*", "*.*.a", "a.*.b", "x:", "x:0", "x:65536",
		"x:9-8", "x:-1", "x:1-", "x:a", "10.0.0.1/8", "10.0.0.0/33", "fd77::1/64", "[fd77::1", "[fd77::1]x",
		"[a.b]:80", "10.1.2", "1.2.3.4.5", "a\x01", "é.test", "[10.0.0.1]", "fd77::1:80:",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", /* a 64-byte label */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct netns_allow *list = NULL;
		size_t n = 0;
		struct ubx_err e = { 0 };
		ck_assert_msg(netns_allow_parse(bad[i], &list, &n, &e) < 0, "'%s' parsed", bad[i]);
		ck_assert(e.msg[0]);
		free(list);
	}
	struct netns_allow *list = NULL;
	size_t n = 0;
	struct ubx_err e = { 0 };
	ck_assert_int_eq(netns_allow_parse("a.test,10.0.0.1,*.b.test:443", &list, &n, &e), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(list[1].kind, NETNS_ALLOW_NET);
	ck_assert_int_eq(list[2].kind, NETNS_ALLOW_SUFFIX);
	ck_assert_str_eq(list[2].name, "b.test");
	free(list);
}
END_TEST

/* ---- frames */

static void eth(uint8_t *f, bool v6)
{
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, my_mac, 6);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
}

/* An IPv4 or IPv6 packet from the sandbox to @dst, with @l4 (@n bytes) of @proto. */
static size_t packet(uint8_t *f, const char *dst, uint8_t proto, const uint8_t *l4, size_t n)
{
	bool v6 = strchr(dst, ':');
	memset(f, 0, 14 + 40);
	eth(f, v6);
	uint8_t *ip = f + 14;
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)(n >> 8), ip[5] = (uint8_t)n;
		ip[6] = proto;
		ip[7] = 64;
		inet_pton(AF_INET6, "fd00::100", ip + 8);
		ck_assert_int_eq(inet_pton(AF_INET6, dst, ip + 24), 1);
		memcpy(ip + 40, l4, n);
		return 14 + 40 + n;
	}
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + n) >> 8), ip[3] = (uint8_t)(20 + n);
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, "10.0.2.100", ip + 12);
	ck_assert_int_eq(inet_pton(AF_INET, dst, ip + 16), 1);
	memcpy(ip + 20, l4, n);
	return 14 + 20 + n;
}

static size_t syn(uint8_t *f, const char *dst, uint16_t port)
{
	uint8_t t[20] = { 0x9c, 0x40, (uint8_t)(port >> 8), (uint8_t)port, 0, 0, 0x10, 0 };
	t[12] = 5 << 4;
	t[13] = 0x02;
	return packet(f, dst, 6, t, sizeof(t));
}

static size_t udp(uint8_t *f, const char *dst, uint16_t port, const uint8_t *payload, size_t n)
{
	uint8_t u[600] = { 0x9c, 0x41, (uint8_t)(port >> 8), (uint8_t)port, (uint8_t)((8 + n) >> 8), (uint8_t)(8 + n) };
	memcpy(u + 8, payload, n);
	return packet(f, dst, 17, u, 8 + n);
}

/* A query for @name of type A. */
static size_t query(uint8_t *m, const char *name, uint16_t id)
{
	size_t n = 12;
	memset(m, 0, 12);
	m[0] = (uint8_t)(id >> 8), m[1] = (uint8_t)id;
	m[2] = 0x01; /* RD */
	m[5] = 1;
	for (const char *p = name; *p;) {
		size_t l = strcspn(p, ".");
		m[n++] = (uint8_t)l;
		memcpy(m + n, p, l);
		n += l;
		p += l + (p[l] == '.');
	}
	m[n++] = 0;
	m[n++] = 0, m[n++] = 1, m[n++] = 0, m[n++] = 1;
	return n;
}

/* The answer to query(@name) with an A record @addr (through a compression pointer). */
static size_t answer(uint8_t *m, const char *name, const char *addr)
{
	size_t n = query(m, name, 7);
	m[2] = 0x81, m[3] = 0x80;
	m[7] = 1;
	uint8_t rr[16] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 };
	inet_pton(AF_INET, addr, rr + 12);
	memcpy(m + n, rr, 16);
	return n + 16;
}

/* The answer to a query for @name of type AAAA: a CNAME to "cdn.test", then
 * that name's AAAA record @addr. */
static size_t answer6(uint8_t *m, const char *name, const char *addr)
{
	size_t n = query(m, name, 8);
	m[2] = 0x81, m[3] = 0x80;
	m[7] = 2;
	m[n - 3] = 28;
	uint8_t cname[22] = { 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 10, 3, 'c', 'd', 'n', 4, 't', 'e', 's', 't', 0 };
	memcpy(m + n, cname, sizeof(cname));
	uint8_t rr[28] = { 0xc0, (uint8_t)(n + 12), 0, 28, 0, 1, 0, 0, 0, 60, 0, 16 };
	inet_pton(AF_INET6, addr, rr + 12);
	memcpy(m + n + sizeof(cname), rr, sizeof(rr));
	return n + sizeof(cname) + sizeof(rr);
}

/* A frame from the resolver @from:53 to the sandbox with @m. */
static size_t from_resolver(uint8_t *f, const char *from, const uint8_t *m, size_t n)
{
	memset(f, 0, 14 + 20 + 8);
	eth(f, false);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((28 + n) >> 8), ip[3] = (uint8_t)(28 + n);
	ip[9] = 17;
	inet_pton(AF_INET, from, ip + 12);
	inet_pton(AF_INET, "10.0.2.100", ip + 16);
	ip[20] = 0, ip[21] = 53, ip[22] = 0x9c, ip[23] = 0x41;
	ip[24] = (uint8_t)((8 + n) >> 8), ip[25] = (uint8_t)(8 + n);
	memcpy(ip + 28, m, n);
	return 14 + 28 + n;
}

static struct egress *policy(const char *text)
{
	struct netns_allow *rules = NULL;
	size_t n = 0;
	struct ubx_err e = { 0 };
	struct netns_lease l;
	struct egress *g;
	ck_assert_int_eq(netns_allow_parse(text, &rules, &n, &e), 0);
	netns_default_lease(&l);
	ck_assert_int_eq(egress_new(rules, n, &l, &g, &e), 0);
	free(rules);
	return g;
}

/* The host has 10.77.0.2 and fd77::2. */
static const struct frame_policy *host(void)
{
	static uint32_t h4[1];
	static struct in6_addr h6[1];
	static struct frame_policy p = { .n4 = 1, .n6 = 1, .host4 = h4, .host6 = h6 };
	inet_pton(AF_INET, "10.77.0.2", &h4[0]);
	inet_pton(AF_INET6, "fd77::2", &h6[0]);
	return &p;
}

struct out {
	enum egress_verdict v;
	uint8_t reply[EGRESS_REPLY_MAX];
	size_t len;
	struct egress_event ev;
	bool log;
};

static struct out verdict(struct egress *g, const uint8_t *f, size_t n)
{
	struct out o;
	o.v = egress_outbound(g, f, n, host(), o.reply, sizeof(o.reply), &o.len, &o.ev, &o.log);
	ck_assert(o.v == EGRESS_ANSWER ? o.len > 0 : o.len == 0);
	return o;
}

static enum egress_verdict tcp_to(struct egress *g, const char *dst, uint16_t port)
{
	uint8_t f[256];
	return verdict(g, f, syn(f, dst, port)).v;
}

/* Whether the transport checksum of the IPv4 reply @r is right. */
static bool l4_sum_ok(const uint8_t *r, size_t len)
{
	const uint8_t *ip = r + 14;
	uint8_t pseudo[12] = { 0 };
	memcpy(pseudo, ip + 12, 8);
	pseudo[9] = ip[9];
	pseudo[10] = (uint8_t)((len - 34) >> 8), pseudo[11] = (uint8_t)(len - 34);
	return frame_fold(frame_sum16(ip + 20, len - 34, frame_sum16(pseudo, 12, 0))) == 0 &&
	       frame_fold(frame_sum16(ip, 20, 0)) == 0;
}

START_TEST(names_resolve_only_when_allowed)
{
	struct egress *g = policy("registry.test:443,*.git.test");
	uint8_t f[600], m[300];
	struct out o;

	o = verdict(g, f, udp(f, "10.0.2.3", 53, m, query(m, "Registry.TEST", 1)));
	ck_assert_int_eq(o.v, EGRESS_PASS);
	ck_assert(o.log && o.ev.allowed);
	ck_assert_str_eq(o.ev.name, "registry.test");
	ck_assert_int_eq(verdict(g, f, udp(f, "10.0.2.3", 53, m, query(m, "a.b.git.test", 2))).v, EGRESS_PASS);
	const char *refused[] = { "git.test", "evil.test", "registry.test.evil.test", "xgit.test", "1.0.0.10.in-addr.arpa" };
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		size_t qn = query(m, refused[i], 0x4242);
		o = verdict(g, f, udp(f, "10.0.2.3", 53, m, qn));
		ck_assert_msg(o.v == EGRESS_ANSWER, "%s was not refused", refused[i]);
		ck_assert(o.log && !o.ev.allowed);
		const uint8_t *dns = o.reply + 14 + 20 + 8;
		ck_assert_uint_eq(o.len, 14 + 20 + 8 + qn);
		ck_assert_int_eq(dns[0] << 8 | dns[1], 0x4242);
		ck_assert_int_eq(dns[3] & 0xf, 3); /* NXDOMAIN */
		ck_assert(dns[2] & 0x80);
		ck_assert(memcmp(dns + 12, m + 12, qn - 12) == 0); /* the question echoed */
		ck_assert(memcmp(o.reply + 14 + 12, "\x0a\x00\x02\x03", 4) == 0); /* from the resolver */
		ck_assert(o.reply[14 + 20 + 1] == 53);
		ck_assert(l4_sum_ok(o.reply, o.len));
	}
	/* A name spelled with a dot inside a label is no name at all: REFUSED. */
	size_t qn = query(m, "a.git.test", 3);
	m[14] = '.';
	o = verdict(g, f, udp(f, "10.0.2.3", 53, m, qn));
	ck_assert_int_eq(o.v, EGRESS_ANSWER);
	ck_assert_int_eq(o.reply[14 + 28 + 3] & 0xf, 5);
	/* DNS over TCP to the resolver is refused. */
	ck_assert_int_eq(tcp_to(g, "10.0.2.3", 53), EGRESS_ANSWER);
	egress_free(g);
}
END_TEST

START_TEST(addresses_only_once_resolved)
{
	struct egress *g = policy("registry.test:443");
	uint8_t f[600], m[300];
	struct out o;

	o = verdict(g, f, syn(f, "10.77.0.1", 443));
	ck_assert_int_eq(o.v, EGRESS_ANSWER);
	ck_assert(o.log && !o.ev.allowed);
	/* a RST|ACK acknowledging the SYN, from where it was sent to */
	const uint8_t *t = o.reply + 14 + 20;
	ck_assert_int_eq(t[13], 0x14);
	ck_assert_int_eq(t[0] << 8 | t[1], 443);
	ck_assert_int_eq(t[2] << 8 | t[3], 0x9c40);
	ck_assert(memcmp(t + 8, "\x00\x00\x10\x01", 4) == 0);
	ck_assert(l4_sum_ok(o.reply, o.len));
	/* An answer from elsewhere, or to a name not allowed, teaches nothing. */
	egress_inbound(g, f, from_resolver(f, "10.77.0.9", m, answer(m, "registry.test", "10.77.0.1")));
	egress_inbound(g, f, from_resolver(f, "10.0.2.3", m, answer(m, "evil.test", "10.77.0.1")));
	ck_assert_int_eq(tcp_to(g, "10.77.0.1", 443), EGRESS_ANSWER);
	egress_inbound(g, f, from_resolver(f, "10.0.2.3", m, answer(m, "registry.test", "10.77.0.1")));
	o = verdict(g, f, syn(f, "10.77.0.1", 443));
	ck_assert_int_eq(o.v, EGRESS_PASS);
	ck_assert_str_eq(o.ev.name, "registry.test");
	ck_assert_int_eq(tcp_to(g, "10.77.0.1", 80), EGRESS_ANSWER); /* the rule's port only */
	/* Nor does a resolved name open what is protected (DNS rebinding). */
	egress_inbound(g, f, from_resolver(f, "10.0.2.3", m, answer(m, "registry.test", "169.254.169.254")));
	egress_inbound(g, f, from_resolver(f, "10.0.2.3", m, answer(m, "registry.test", "10.0.2.2")));
	ck_assert_int_eq(tcp_to(g, "169.254.169.254", 443), EGRESS_ANSWER);
	ck_assert_int_eq(tcp_to(g, "10.0.2.2", 443), EGRESS_ANSWER);
	/* IPv6, at the end of a CNAME chain: learned for the name asked */
	ck_assert_int_eq(tcp_to(g, "2001:db8::7", 443), EGRESS_ANSWER);
	egress_inbound(g, f, from_resolver(f, "10.0.2.3", m, answer6(m, "registry.test", "2001:db8::7")));
	o = verdict(g, f, syn(f, "2001:db8::7", 443));
	ck_assert_int_eq(o.v, EGRESS_PASS);
	ck_assert_str_eq(o.ev.name, "registry.test");
	egress_free(g);
}
END_TEST

START_TEST(protected_unless_listed)
{
	struct egress *g = policy("0.0.0.0/0,::/0");
	const char *protected[] = { "169.254.169.254", "169.254.0.1", "10.0.2.2", "10.0.2.3", "10.77.0.2", "127.0.0.1",
				    "0.0.0.1", "fe80::1", "fd00::2", "fd77::2", "::1", "::ffff:169.254.169.254" };
	for (size_t i = 0; i < ARRAY_SIZE(protected); i++)
		ck_assert_msg(tcp_to(g, protected[i], 80) == EGRESS_ANSWER, "%s passed", protected[i]);
	ck_assert_int_eq(tcp_to(g, "10.77.0.1", 80), EGRESS_PASS);
	ck_assert_int_eq(tcp_to(g, "2001:db8::1", 80), EGRESS_PASS);
	egress_free(g);
	g = policy("169.254.169.254:80,10.0.2.2,fe80::/10,169.0.0.0/8");
	ck_assert_int_eq(tcp_to(g, "169.254.169.254", 80), EGRESS_PASS);
	ck_assert_int_eq(tcp_to(g, "169.254.169.254", 81), EGRESS_ANSWER);
	ck_assert_int_eq(tcp_to(g, "169.254.0.1", 80), EGRESS_ANSWER); /* 169/8 is broader than the range */
	ck_assert_int_eq(tcp_to(g, "169.1.0.1", 80), EGRESS_PASS);
	ck_assert_int_eq(tcp_to(g, "10.0.2.2", 5000), EGRESS_PASS);
	ck_assert_int_eq(tcp_to(g, "fe80::1", 22), EGRESS_PASS);
	egress_free(g);
}
END_TEST

START_TEST(udp_icmp_and_the_rest)
{
	struct egress *g = policy("10.77.0.0/24:9000-9999,fd77::1");
	uint8_t f[600], icmp[8] = { 8 }, icmp6[8] = { 128 }, ns[24] = { 135 };
	struct out o;

	o = verdict(g, f, udp(f, "10.77.0.1", 9999, (const uint8_t *)"x", 1));
	ck_assert(o.v == EGRESS_PASS && o.log);
	o = verdict(g, f, udp(f, "10.77.0.1", 9999, (const uint8_t *)"x", 1));
	ck_assert(o.v == EGRESS_PASS && !o.log); /* the same flow: logged once */
	o = verdict(g, f, udp(f, "10.77.0.1", 53, (const uint8_t *)"x", 1));
	ck_assert(o.v == EGRESS_ANSWER && o.log);
	ck_assert_int_eq(o.reply[14 + 20], 3); /* ICMP unreachable, */
	ck_assert_int_eq(o.reply[14 + 21], 13); /* administratively prohibited */
	/* ICMP needs a rule without a port */
	o = verdict(g, f, packet(f, "10.77.0.1", 1, icmp, sizeof(icmp)));
	ck_assert(o.v == EGRESS_ANSWER && o.log && strcmp(o.ev.proto, "icmp") == 0);
	ck_assert_int_eq(verdict(g, f, packet(f, "fd77::1", 58, icmp6, sizeof(icmp6))).v, EGRESS_PASS);
	o = verdict(g, f, packet(f, "fd77::9", 58, icmp6, sizeof(icmp6)));
	ck_assert_int_eq(o.v, EGRESS_ANSWER);
	ck_assert_int_eq(o.reply[14 + 40], 1);
	/* neighbour discovery passes; multicast, fragments, other protocols do not */
	ck_assert_int_eq(verdict(g, f, packet(f, "ff02::1:ff00:2", 58, ns, sizeof(ns))).v, EGRESS_PASS);
	ck_assert_int_eq(verdict(g, f, packet(f, "ff02::16", 58, icmp6, sizeof(icmp6))).v, EGRESS_DROP);
	ck_assert_int_eq(verdict(g, f, udp(f, "224.0.0.251", 5353, (const uint8_t *)"x", 1)).v, EGRESS_DROP);
	ck_assert_int_eq(verdict(g, f, udp(f, "255.255.255.255", 9999, (const uint8_t *)"x", 1)).v, EGRESS_DROP);
	/* the network's own other addresses: not egress, silently dropped */
	o = verdict(g, f, syn(f, "10.0.2.50", 80));
	ck_assert(o.v == EGRESS_DROP && !o.log);
	ck_assert_int_eq(verdict(g, f, syn(f, "fd00::50", 80)).v, EGRESS_DROP);
	size_t n = udp(f, "10.77.0.1", 9999, (const uint8_t *)"x", 1);
	f[14 + 6] = 0x20; /* more fragments */
	ck_assert_int_eq(verdict(g, f, n).v, EGRESS_DROP);
	ck_assert_int_eq(verdict(g, f, packet(f, "10.77.0.1", 47, icmp, sizeof(icmp))).v, EGRESS_DROP);
	/* ARP passes; a truncated packet does not */
	memset(f, 0, 60);
	f[12] = 0x08, f[13] = 0x06;
	ck_assert_int_eq(verdict(g, f, 42).v, EGRESS_PASS);
	n = syn(f, "10.77.0.1", 9999);
	for (size_t len = 0; len < n; len++)
		ck_assert_msg(verdict(g, f, len).v != EGRESS_PASS, "a %zu-byte frame passed", len);
	ck_assert_int_eq(verdict(g, f, n).v, EGRESS_PASS);
	egress_free(g);
}
END_TEST

START_TEST(dns_messages_checked)
{
	uint8_t m[300];
	struct dns_question q;
	size_t n = query(m, "a.test", 1);

	ck_assert_int_eq(dns_query_parse(m, n, &q), 0);
	ck_assert_str_eq(q.name, "a.test");
	for (size_t len = 0; len < n; len++)
		ck_assert_int_ne(dns_query_parse(m, len, &q), 0);
	m[2] |= 0x80; /* a response */
	ck_assert_int_eq(dns_query_parse(m, n, &q), -EBADMSG);
	m[2] = 0x01;
	m[12] = 0xc0, m[13] = 12; /* a pointer to itself */
	ck_assert_int_eq(dns_query_parse(m, n, &q), -EINVAL);
	/* An answer whose record points forwards, or loops, is refused. */
	n = answer(m, "a.test", "10.1.2.3");
	m[n - 15] = 200;
	ck_assert_int_eq(dns_response_addrs(m, n, &q, NULL, NULL), -EBADMSG);
}
END_TEST

START_TEST(log_lines)
{
	struct egress_event ev = { .proto = "tcp", .port = 443, .allowed = false };
	struct timespec when = { .tv_sec = 1800000000, .tv_nsec = 123456789 };
	char buf[1024];

	inet_pton(AF_INET6, "::ffff:10.77.0.1", ev.dst);
	snprintf(ev.why, sizeof(ev.why), "a \"quoted\" \\ reason\n");
	ck_assert_uint_gt(egress_event_json(&ev, &when, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "{\"time\":\"2027-01-15T08:00:00.123Z\",\"proto\":\"tcp\",\"dst\":\"10.77.0.1\",\"port\":443,"
			      "\"name\":null,\"verdict\":\"refused\",\"why\":\"a \\u0022quoted\\u0022 \\u005c reason\\u000a\"}\n");
	ev = (struct egress_event){ .proto = "dns", .port = 53, .qtype = 28, .allowed = true, .name = "a.test" };
	inet_pton(AF_INET6, "fd00::3", ev.dst);
	ck_assert_uint_gt(egress_event_json(&ev, &when, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "{\"time\":\"2027-01-15T08:00:00.123Z\",\"proto\":\"dns\",\"dst\":\"fd00::3\",\"port\":53,"
			      "\"name\":\"a.test\",\"qtype\":\"AAAA\",\"verdict\":\"allowed\",\"why\":\"\"}\n");
	ck_assert_uint_eq(egress_event_json(&ev, &when, buf, 40), 0);
}
END_TEST

UNIT_MAIN("egress", allow_parses_and_formats, allow_refuses, names_resolve_only_when_allowed,
	  addresses_only_once_resolved, protected_unless_listed, udp_icmp_and_the_rest, dns_messages_checked, log_lines)
