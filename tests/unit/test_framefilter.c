/* SPDX-License-Identifier: MIT */
/* The frame filter in front of libslirp: which frames from a sandbox pass,
 * and the ICMP answer to those that do not. */
#include <arpa/inet.h>
#include <string.h>

#include "../../common/cleanup.h"
#include "../../netns/internal.h"
#include "unit.h"

static const uint8_t gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint8_t my_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x64 };

/* An Ethernet frame with an IPv4 TCP SYN from 10.0.2.100 to @dst. */
static size_t frame4(uint8_t *f, const char *dst, uint8_t proto)
{
	memset(f, 0, 14 + 20 + 20);
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, my_mac, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, "10.0.2.100", ip + 12);
	ck_assert_int_eq(inet_pton(AF_INET, dst, ip + 16), 1);
	ip[20] = 0x9c, ip[21] = 0x40; /* ports 40000 -> 80 */
	ip[23] = 80;
	ip[33] = 0x02; /* SYN */
	return 14 + 40;
}

static size_t frame6(uint8_t *f, const char *dst, uint8_t next)
{
	memset(f, 0, 14 + 40 + 8);
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, my_mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	uint8_t *ip = f + 14;
	ip[0] = 0x60;
	ip[5] = 8;
	ip[6] = next;
	ip[7] = 64;
	inet_pton(AF_INET6, "fd00::100", ip + 8);
	ck_assert_int_eq(inet_pton(AF_INET6, dst, ip + 24), 1);
	ip[40] = 0x9c, ip[41] = 0x40;
	ip[43] = 53;
	return 14 + 48;
}

static bool allowed4(const char *dst, const struct frame_policy *p)
{
	uint8_t f[128];
	return frame_allowed(f, frame4(f, dst, 6), p);
}

static bool allowed6(const char *dst, const struct frame_policy *p)
{
	uint8_t f[128];
	return frame_allowed(f, frame6(f, dst, 17), p);
}

/* The host has 10.77.0.2, 192.168.1.5 and fd77::2, fe80::1. */
static struct frame_policy host_policy(bool allow_host, uint32_t *h4, struct in6_addr *h6)
{
	inet_pton(AF_INET, "10.77.0.2", &h4[0]);
	inet_pton(AF_INET, "192.168.1.5", &h4[1]);
	inet_pton(AF_INET6, "fd77::2", &h6[0]);
	inet_pton(AF_INET6, "fe80::1", &h6[1]);
	return (struct frame_policy){ .allow_host = allow_host, .n4 = 2, .n6 = 2, .host4 = h4, .host6 = h6 };
}

START_TEST(loopback_never)
{
	uint32_t h4[2];
	struct in6_addr h6[2];
	for (int allow = 0; allow < 2; allow++) {
		struct frame_policy p = host_policy(allow, h4, h6);
		const char *v4[] = { "127.0.0.1", "127.0.0.53", "127.255.255.255", "0.0.0.0", "0.1.2.3" };
		const char *v6[] = { "::1", "::", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:127.1.2.3",
				     "::ffff:0.0.0.0", "::0.0.0.2" };
		for (size_t i = 0; i < ARRAY_SIZE(v4); i++)
			ck_assert_msg(!allowed4(v4[i], &p), "%s passed", v4[i]);
		for (size_t i = 0; i < ARRAY_SIZE(v6); i++)
			ck_assert_msg(!allowed6(v6[i], &p), "%s passed", v6[i]);
	}
}
END_TEST

START_TEST(host_addresses_unless_allowed)
{
	uint32_t h4[2];
	struct in6_addr h6[2];
	struct frame_policy p = host_policy(false, h4, h6);
	ck_assert(!allowed4("10.77.0.2", &p));
	ck_assert(!allowed4("192.168.1.5", &p));
	ck_assert(!allowed6("fd77::2", &p));
	ck_assert(!allowed6("fe80::1", &p));
	ck_assert(!allowed6("::ffff:10.77.0.2", &p));
	p = host_policy(true, h4, h6);
	ck_assert(allowed4("10.77.0.2", &p));
	ck_assert(allowed6("fd77::2", &p));
	ck_assert(allowed6("::ffff:10.77.0.2", &p));
}
END_TEST

START_TEST(elsewhere_passes)
{
	uint32_t h4[2];
	struct in6_addr h6[2];
	struct frame_policy p = host_policy(false, h4, h6);
	ck_assert(allowed4("10.77.0.1", &p));
	ck_assert(allowed4("10.0.2.2", &p)); /* libslirp's own alias: its flag guards it */
	ck_assert(allowed4("10.0.2.3", &p));
	ck_assert(allowed4("128.0.0.1", &p));
	ck_assert(allowed4("1.0.0.0", &p));
	ck_assert(allowed6("fd77::1", &p));
	ck_assert(allowed6("fd00::2", &p));
	ck_assert(allowed6("2001:db8::1", &p));
	ck_assert(allowed6("::ffff:8.8.8.8", &p));
	ck_assert(allowed6("::1:0:0:1", &p));
	struct frame_policy empty = { 0 };
	ck_assert(allowed4("10.77.0.2", &empty));
}
END_TEST

START_TEST(malformed_dropped)
{
	struct frame_policy p = { 0 };
	uint8_t f[128];
	size_t n = frame4(f, "10.77.0.1", 6);

	ck_assert(frame_allowed(f, n, &p));
	for (size_t len = 0; len < 14 + 20; len++)
		ck_assert_msg(!frame_allowed(f, len, &p), "a %zu-byte frame passed", len);
	f[14] = 0x65; /* IPv6 in an IPv4 frame */
	ck_assert(!frame_allowed(f, n, &p));
	n = frame6(f, "fd77::1", 17);
	ck_assert(frame_allowed(f, n, &p));
	for (size_t len = 0; len < 14 + 40; len++)
		ck_assert_msg(!frame_allowed(f, len, &p), "a %zu-byte frame passed", len);
	f[14] = 0x45;
	ck_assert(!frame_allowed(f, n, &p));
}
END_TEST

START_TEST(ethertypes)
{
	struct frame_policy p = { 0 };
	uint8_t f[128], tagged[132];
	size_t n = frame4(f, "10.77.0.1", 6);

	/* 802.1Q and 802.1ad tags: dropped, whatever they carry */
	for (int i = 0; i < 2; i++) {
		memcpy(tagged, f, 12);
		tagged[12] = i ? 0x88 : 0x81, tagged[13] = i ? 0xa8 : 0x00;
		tagged[14] = 0, tagged[15] = 1;
		memcpy(tagged + 16, f + 12, n - 12);
		ck_assert(!frame_allowed(tagged, n + 4, &p));
	}
	f[12] = 0x08, f[13] = 0x06; /* ARP */
	ck_assert(frame_allowed(f, 14 + 28, &p));
	f[12] = 0x88, f[13] = 0xf8; /* NC-SI */
	ck_assert(!frame_allowed(f, n, &p));
}
END_TEST

START_TEST(ipv6_extension_headers)
{
	struct frame_policy p = { 0 };
	uint8_t f[128];
	/* hop-by-hop, routing, fragment: the destination is where it always is */
	const uint8_t next[] = { 0, 43, 44, 60 };
	for (size_t i = 0; i < sizeof(next); i++) {
		ck_assert(!frame_allowed(f, frame6(f, "::1", next[i]), &p));
		ck_assert(frame_allowed(f, frame6(f, "fd77::1", next[i]), &p));
	}
}
END_TEST

static uint16_t csum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (; n > 1; p += 2, n -= 2)
		acc += (uint32_t)p[0] << 8 | p[1];
	if (n)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

START_TEST(reject_ipv4)
{
	uint8_t f[128], out[FRAME_REJECT_MAX];
	size_t n = frame4(f, "127.0.0.1", 6);
	size_t r = frame_reject(f, n, out, sizeof(out));

	ck_assert_uint_eq(r, 14 + 20 + 8 + 28);
	ck_assert_mem_eq(out, my_mac, 6);
	ck_assert_mem_eq(out + 6, gw_mac, 6);
	ck_assert_mem_eq(out + 12, f + 12, 2);
	const uint8_t *ip = out + 14, *icmp = ip + 20;
	ck_assert_uint_eq(ip[0], 0x45);
	ck_assert_uint_eq((unsigned)ip[2] << 8 | ip[3], 20 + 8 + 28);
	ck_assert_uint_eq(ip[9], 1);
	ck_assert_mem_eq(ip + 12, f + 14 + 16, 4); /* from 127.0.0.1 */
	ck_assert_mem_eq(ip + 16, f + 14 + 12, 4); /* to 10.0.2.100 */
	ck_assert_uint_eq(csum(ip, 20, 0), 0xffff);
	ck_assert_uint_eq(icmp[0], 3);
	ck_assert_uint_eq(icmp[1], 13);
	ck_assert_uint_eq(csum(icmp, 8 + 28, 0), 0xffff);
	ck_assert_mem_eq(icmp + 8, f + 14, 28); /* the header and the ports and sequence */
}
END_TEST

START_TEST(reject_ipv6)
{
	uint8_t f[128], out[FRAME_REJECT_MAX];
	size_t n = frame6(f, "::1", 17);
	size_t r = frame_reject(f, n, out, sizeof(out));

	ck_assert_uint_eq(r, 14 + 40 + 8 + 48);
	ck_assert_mem_eq(out, my_mac, 6);
	const uint8_t *ip = out + 14, *icmp = ip + 40;
	ck_assert_uint_eq(ip[0] >> 4, 6);
	ck_assert_uint_eq((unsigned)ip[4] << 8 | ip[5], 8 + 48);
	ck_assert_uint_eq(ip[6], 58);
	ck_assert_mem_eq(ip + 8, f + 14 + 24, 16);
	ck_assert_mem_eq(ip + 24, f + 14 + 8, 16);
	ck_assert_uint_eq(icmp[0], 1);
	ck_assert_uint_eq(icmp[1], 1);
	uint8_t pseudo[8] = { 0, 0, 0, 8 + 48, 0, 0, 0, 58 };
	ck_assert_uint_eq(csum(icmp, 8 + 48, (uint32_t)csum(ip + 8, 32, csum(pseudo, 8, 0))), 0xffff);
	ck_assert_mem_eq(icmp + 8, f + 14, 48);
}
END_TEST

START_TEST(reject_nothing)
{
	uint8_t f[128], out[FRAME_REJECT_MAX];

	ck_assert_uint_eq(frame_reject(f, frame4(f, "127.0.0.1", 1), out, sizeof(out)), 0); /* ICMP */
	ck_assert_uint_eq(frame_reject(f, frame6(f, "::1", 58), out, sizeof(out)), 0);
	size_t n = frame4(f, "127.0.0.1", 17);
	ck_assert_uint_eq(frame_reject(f, n, out, FRAME_REJECT_MAX - 1), 0);
	f[14 + 7] = 1; /* a later fragment */
	ck_assert_uint_eq(frame_reject(f, n, out, sizeof(out)), 0);
	f[14 + 7] = 0;
	f[14] = 0x44; /* IHL below 5 */
	ck_assert_uint_eq(frame_reject(f, n, out, sizeof(out)), 0);
	f[14] = 0x4f; /* IHL past the end */
	ck_assert_uint_eq(frame_reject(f, n, out, sizeof(out)), 0);
	f[12] = 0x08, f[13] = 0x06;
	ck_assert_uint_eq(frame_reject(f, n, out, sizeof(out)), 0);
	ck_assert_uint_eq(frame_reject(f, 13, out, sizeof(out)), 0);
}
END_TEST

START_TEST(load_lists_loopback)
{
	struct frame_policy p = { 0 };
	struct ubx_err e = { 0 };
	uint32_t lo = htonl(INADDR_LOOPBACK);
	bool found = false;

	ck_assert_int_eq(frame_policy_load(&p, &e), 0);
	for (size_t i = 0; i < p.n4; i++)
		found |= p.host4[i] == lo;
	ck_assert_msg(found || p.n4 == 0, "127.0.0.1 missing from the host's addresses");
	ck_assert_int_eq(frame_policy_load(&p, &e), 0); /* again: the old lists are freed */
	frame_policy_clear(&p);
	ck_assert_ptr_null(p.host4);
}
END_TEST

UNIT_MAIN("framefilter", loopback_never, host_addresses_unless_allowed, elsewhere_passes, malformed_dropped,
	  ethertypes, ipv6_extension_headers, reject_ipv4, reject_ipv6, reject_nothing, load_lists_loopback)
