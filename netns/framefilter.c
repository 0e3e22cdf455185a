/* SPDX-License-Identifier: MIT */
/*
 * framefilter.c - which frames from a sandbox may reach libslirp.
 *
 * DOC: Theory of operation
 * libslirp opens a socket of the caller's to whatever destination a frame
 * names, and guards only its own alias of the host (the gateway address,
 * with disable_host_loopback).  A sandbox that may send raw frames (root
 * inside with CAP_NET_RAW) could address 127.0.0.1 or ::1 directly, or one of
 * the host's own addresses, and libslirp would connect there on the host:
 * to the caller's loopback services and to other sandboxes' -p ports.  So
 * every frame read from the TAP passes frame_allowed() before slirp_input():
 * ARP, IPv4 and IPv6 only (no VLAN tags, nothing libslirp ignores anyway),
 * whole headers only, and a destination that is not loopback (127.0.0.0/8,
 * ::1, ::ffff:127.x), not "this host" (0.0.0.0/8, ::, ::/96 and their
 * mapped forms) and, unless the network allows the host's loopback, not one
 * of the host's own addresses.  The IPv6 destination is read at its fixed
 * offset: libslirp follows no routing header.  A dropped IPv4 or IPv6
 * packet is answered with an ICMP "administratively prohibited" built by
 * frame_reject(), so that a connect() inside fails at once instead of timing
 * out (ICMP itself only when it is an echo request: ping fails at once
 * too).  Both are pure, for the unit tests and the fuzzer;
 * frame_policy_load() fills the host's addresses in (slirp.c calls it again
 * whenever they change).
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define ICMP_HLEN 8
#define PROTO_ICMP 1
#define PROTO_ICMPV6 58
#define ICMP_ECHO 8
#define ICMPV6_ECHO 128

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* @a in host byte order. */
static bool ipv4_allowed(uint32_t a, const struct frame_policy *p)
{
	uint8_t first = (uint8_t)(a >> 24);
	if (first == 127 || first == 0) /* loopback; "this host" (0.0.0.0 reaches it) */
		return false;
	if (p->allow_host)
		return true;
	for (size_t i = 0; i < p->n4; i++)
		if (p->host4[i] == htonl(a))
			return false;
	return true;
}

static bool ipv6_allowed(const uint8_t *a, const struct frame_policy *p)
{
	static const uint8_t zero[12], mapped[12] = { [10] = 0xff, [11] = 0xff };

	/* ::/96 holds ::, ::1 and the deprecated IPv4-compatible addresses;
	 * ::ffff:0:0/96 is an IPv4 address, which libslirp's dual-stack sockets
	 * reach as such. */
	if (memcmp(a, zero, sizeof(zero)) == 0)
		return false;
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return ipv4_allowed(load_be32(a + 12), p);
	if (p->allow_host)
		return true;
	for (size_t i = 0; i < p->n6; i++)
		if (memcmp(p->host6[i].s6_addr, a, 16) == 0)
			return false;
	return true;
}

bool frame_allowed(const uint8_t *frame, size_t len, const struct frame_policy *p)
{
	if (len < ETH_HLEN)
		return false;
	const uint8_t *ip = frame + ETH_HLEN;
	switch ((unsigned)frame[12] << 8 | frame[13]) {
	case ETHERTYPE_ARP: /* answered by libslirp itself */
		return true;
	case ETHERTYPE_IPV4:
		return len >= ETH_HLEN + IPV4_HLEN && ip[0] >> 4 == 4 && ipv4_allowed(load_be32(ip + 16), p);
	case ETHERTYPE_IPV6:
		return len >= ETH_HLEN + IPV6_HLEN && ip[0] >> 4 == 6 && ipv6_allowed(ip + 24, p);
	default: /* 802.1Q tags, NC-SI, ...: a sandbox needs none of them */
		return false;
	}
}

static void store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t frame_sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (; n > 1; p += 2, n -= 2)
		acc += (uint32_t)p[0] << 8 | p[1];
	if (n)
		acc += (uint32_t)p[0] << 8;
	return acc;
}

uint16_t frame_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* IPv4: header, ICMP destination unreachable code 13 (administratively
 * prohibited), quoting the header and 8 bytes of what follows. */
static size_t reject4(const uint8_t *ip, size_t len, uint8_t *out)
{
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	if (ihl < IPV4_HLEN || len < ihl || (load_be32(ip + 4) & 0x1fff) != 0)
		return 0; /* a bad header, a later fragment */
	if (ip[9] == PROTO_ICMP && (len == ihl || ip[ihl] != ICMP_ECHO))
		return 0; /* ICMP but an echo request: never an error about an error */
	size_t quote = len < ihl + 8 ? len : ihl + 8;
	uint8_t *icmp = out + IPV4_HLEN;
	memset(out, 0, IPV4_HLEN + ICMP_HLEN);
	out[0] = 0x45;
	store_be16(out + 2, (uint16_t)(IPV4_HLEN + ICMP_HLEN + quote));
	out[8] = 64;
	out[9] = PROTO_ICMP;
	memcpy(out + 12, ip + 16, 4); /* from the destination it was meant for */
	memcpy(out + 16, ip + 12, 4);
	store_be16(out + 10, frame_fold(frame_sum16(out, IPV4_HLEN, 0)));
	icmp[0] = 3;
	icmp[1] = 13;
	memcpy(icmp + ICMP_HLEN, ip, quote);
	store_be16(icmp + 2, frame_fold(frame_sum16(icmp, ICMP_HLEN + quote, 0)));
	return IPV4_HLEN + ICMP_HLEN + quote;
}

/* IPv6: ICMPv6 destination unreachable code 1 (administratively prohibited). */
static size_t reject6(const uint8_t *ip, size_t len, uint8_t *out)
{
	if (ip[6] == PROTO_ICMPV6 && (len == IPV6_HLEN || ip[IPV6_HLEN] != ICMPV6_ECHO))
		return 0; /* ICMPv6 but an echo request: never an error about an error */
	size_t quote = len < IPV6_HLEN + 8 ? len : IPV6_HLEN + 8;
	uint32_t plen = (uint32_t)(ICMP_HLEN + quote);
	uint8_t *icmp = out + IPV6_HLEN;
	uint8_t pseudo[8] = { 0, 0, (uint8_t)(plen >> 8), (uint8_t)plen, 0, 0, 0, PROTO_ICMPV6 };
	memset(out, 0, IPV6_HLEN + ICMP_HLEN);
	out[0] = 0x60;
	store_be16(out + 4, (uint16_t)plen);
	out[6] = PROTO_ICMPV6;
	out[7] = 64;
	memcpy(out + 8, ip + 24, 16);
	memcpy(out + 24, ip + 8, 16);
	icmp[0] = 1;
	icmp[1] = 1;
	memcpy(icmp + ICMP_HLEN, ip, quote);
	uint32_t acc = frame_sum16(out + 8, 32, frame_sum16(pseudo, sizeof(pseudo), 0));
	store_be16(icmp + 2, frame_fold(frame_sum16(icmp, plen, acc)));
	return IPV6_HLEN + plen;
}

size_t frame_reject(const uint8_t *frame, size_t len, uint8_t *out, size_t cap)
{
	if (len < ETH_HLEN || cap < FRAME_REJECT_MAX)
		return 0;
	const uint8_t *ip = frame + ETH_HLEN;
	size_t n = 0, iplen = len - ETH_HLEN;
	unsigned type = (unsigned)frame[12] << 8 | frame[13];
	if (type == ETHERTYPE_IPV4 && iplen >= IPV4_HLEN && ip[0] >> 4 == 4)
		n = reject4(ip, iplen, out + ETH_HLEN);
	else if (type == ETHERTYPE_IPV6 && iplen >= IPV6_HLEN && ip[0] >> 4 == 6)
		n = reject6(ip, iplen, out + ETH_HLEN);
	if (!n)
		return 0;
	memcpy(out, frame + 6, 6); /* back to the sender, from whom it was sent to */
	memcpy(out + 6, frame, 6);
	memcpy(out + 12, frame + 12, 2);
	return ETH_HLEN + n;
}

static void count_addrs(const struct ifaddrs *list, size_t *n4, size_t *n6)
{
	*n4 = *n6 = 0;
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		*n4 += i->ifa_addr->sa_family == AF_INET;
		*n6 += i->ifa_addr->sa_family == AF_INET6;
	}
}

int frame_policy_load(struct frame_policy *p, struct ubx_err *e)
{
	struct ifaddrs *list;
	size_t n4, n6;

	if (getifaddrs(&list) < 0)
		return ubx_fail(e, errno, "list the host's addresses");
	count_addrs(list, &n4, &n6);
	_cleanup_free_ uint32_t *h4 = calloc(n4 + 1, sizeof(*h4));
	_cleanup_free_ struct in6_addr *h6 = calloc(n6 + 1, sizeof(*h6));
	if (!h4 || !h6) {
		freeifaddrs(list);
		return ubx_fail(e, ENOMEM, "list the host's addresses");
	}
	n4 = n6 = 0;
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			h4[n4++] = ((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr.s_addr;
		else if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6)
			h6[n6++] = ((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
	}
	freeifaddrs(list);
	free(p->host4);
	free(p->host6);
	p->host4 = TAKE_PTR(h4);
	p->host6 = TAKE_PTR(h6);
	p->n4 = n4;
	p->n6 = n6;
	return 0;
}

void frame_policy_clear(struct frame_policy *p)
{
	free(p->host4);
	free(p->host6);
	p->host4 = NULL;
	p->host6 = NULL;
	p->n4 = p->n6 = 0;
}
