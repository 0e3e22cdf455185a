/* SPDX-License-Identifier: MIT */
/*
 * allow.c - the egress policy's text: --net-allow DEST and
 * `network create --allow DEST`, parsed into struct netns_allow rules.
 *
 * DOC: Theory of operation
 * A value holds one DEST or several separated by commas.  Each is split
 * into a host part and an optional port part: "[V6]" or "[V6/N]" in
 * brackets may take ":PORT"; a bare value with two colons or more is an
 * IPv6 address or CIDR without a port; otherwise the last colon starts the
 * port.  The host part is a CIDR (it has a '/'), an IPv4 or IPv6 address
 * (a /32 or /128), "*.DOMAIN", or a host name.  IPv4 is kept as its
 * ::ffff: form with 96 added to the prefix, so that egress.c compares one
 * kind of address.  Names are stored in lower case without a final dot and
 * must be letters, digits, '-' and '_' in labels of 1 to 63, at most 253 in
 * all: nothing a DNS question could spell two ways.  Pure: no system calls
 * but inet_pton(), for the unit tests and the fuzzer (tests/fuzz/fuzz_allow.c).
 */
#include "netns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/parse.h"

#define DEST_MAX (NETNS_DNS_NAME_MAX + 16) /* the longest DEST worth reading */

static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

/* "PORT" or "LOW-HIGH" (1 to 65535, LOW <= HIGH). */
static int parse_ports(const char *s, struct netns_allow *a)
{
	char low[8];
	uint64_t lo, hi;
	const char *dash = strchr(s, '-');

	if (!dash) {
		if (parse_u64(s, 65535, &lo) < 0 || lo == 0)
			return -EINVAL;
		a->port_lo = a->port_hi = (uint16_t)lo;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof(low))
		return -EINVAL;
	memcpy(low, s, (size_t)(dash - s));
	low[dash - s] = '\0';
	if (parse_u64(low, 65535, &lo) < 0 || parse_u64(dash + 1, 65535, &hi) < 0 || lo == 0 || lo > hi)
		return -EINVAL;
	a->port_lo = (uint16_t)lo;
	a->port_hi = (uint16_t)hi;
	return 0;
}

/* Whether @a has bits set below its first @prefix bits. */
static bool host_bits(const uint8_t *a, unsigned prefix)
{
	for (unsigned bit = prefix; bit < 128; bit++)
		if (a[bit / 8] & (0x80 >> (bit % 8)))
			return true;
	return false;
}

/* An IPv4 or IPv6 address, with "/N" when @s has one. */
static int parse_net(const char *s, bool v6_only, struct netns_allow *a)
{
	char addr[INET6_ADDRSTRLEN];
	uint64_t len;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr v4;

	if (n == 0 || n >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, n);
	addr[n] = '\0';
	a->kind = NETNS_ALLOW_NET;
	if (!v6_only && inet_pton(AF_INET, addr, &v4) == 1) {
		memcpy(a->addr, v4_mapped, sizeof(v4_mapped));
		memcpy(a->addr + 12, &v4, 4);
		if (slash && parse_u64(slash + 1, 32, &len) < 0)
			return -EINVAL;
		a->prefix = (uint8_t)(96 + (slash ? len : 32));
	} else if (inet_pton(AF_INET6, addr, a->addr) == 1) {
		if (slash && parse_u64(slash + 1, 128, &len) < 0)
			return -EINVAL;
		a->prefix = (uint8_t)(slash ? len : 128);
	} else {
		return -EINVAL;
	}
	return host_bits(a->addr, a->prefix) ? -EINVAL : 0;
}

/* A host name, or "*." and a domain: checked label by label, lowered. */
static int parse_name(const char *s, struct netns_allow *a)
{
	size_t label = 0, n = 0;

	a->kind = NETNS_ALLOW_NAME;
	if (strncmp(s, "*.", 2) == 0) {
		a->kind = NETNS_ALLOW_SUFFIX;
		s += 2;
	}
	size_t len = strlen(s);
	if (len && s[len - 1] == '.')
		len--; /* a fully qualified name's final dot */
	if (len == 0 || len > NETNS_DNS_NAME_MAX)
		return -EINVAL;
	for (; n < len; n++) {
		unsigned char c = (unsigned char)s[n];
		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		a->name[n] = (char)tolower(c);
	}
	a->name[n] = '\0';
	return label ? 0 : -EINVAL;
}

/* Splits @dest into its host part (in @host) and its port part (or NULL). */
static int split_dest(const char *dest, char *host, size_t cap, const char **ports, bool *bracketed)
{
	const char *end, *colon;

	*ports = NULL;
	*bracketed = dest[0] == '[';
	if (*bracketed) {
		dest++;
		if (!(end = strchr(dest, ']')) || (end[1] && end[1] != ':'))
			return -EINVAL;
		*ports = end[1] ? end + 2 : NULL;
	} else if ((colon = strchr(dest, ':')) && strchr(colon + 1, ':')) {
		end = dest + strlen(dest); /* IPv6 without a port */
	} else {
		end = colon ? colon : dest + strlen(dest);
		*ports = colon ? colon + 1 : NULL;
	}
	if ((size_t)(end - dest) >= cap)
		return -EINVAL;
	memcpy(host, dest, (size_t)(end - dest));
	host[end - dest] = '\0';
	return 0;
}

/* One DEST into @a. */
static int parse_dest(const char *dest, struct netns_allow *a)
{
	char host[DEST_MAX];
	const char *ports;
	bool bracketed;
	struct in_addr v4;

	*a = (struct netns_allow){ .port_lo = 0, .port_hi = 65535 };
	if (split_dest(dest, host, sizeof(host), &ports, &bracketed) < 0 || (ports && parse_ports(ports, a) < 0))
		return -EINVAL;
	if (bracketed || strchr(host, '/') || strchr(host, ':') || inet_pton(AF_INET, host, &v4) == 1)
		return parse_net(host, bracketed, a);
	/* "10.1.2" and friends are neither an address nor a name worth allowing */
	bool digits_and_dots = strspn(host, "0123456789.") == strlen(host);
	return digits_and_dots ? -EINVAL : parse_name(host, a);
}

static int append(struct netns_allow **list, size_t *n, const struct netns_allow *a, struct ubx_err *e)
{
	if (*n >= NETNS_ALLOW_MAX)
		return ubx_fail(e, 0, "more than %d allowed destinations", NETNS_ALLOW_MAX);
	struct netns_allow *grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return ubx_fail(e, ENOMEM, "allowed destinations");
	*list = grown;
	(*list)[(*n)++] = *a;
	return 0;
}

int netns_allow_parse(const char *text, struct netns_allow **list, size_t *n, struct ubx_err *e)
{
	char dest[DEST_MAX + 1];

	for (const char *p = text;; p++) {
		size_t len = strcspn(p, ",");
		struct netns_allow a;
		if (len == 0 || len >= sizeof(dest))
			return ubx_fail(e, 0, "'%.*s' is not a destination (HOST, *.DOMAIN, IP or CIDR, "
					"with :PORT or :LOW-HIGH)", (int)(len > 64 ? 64 : len), p);
		memcpy(dest, p, len);
		dest[len] = '\0';
		if (parse_dest(dest, &a) < 0)
			return ubx_fail(e, 0, "'%s' is not a destination (HOST, *.DOMAIN, IP or CIDR, "
					"with :PORT or :LOW-HIGH; IPv6 with a port in brackets)", dest);
		int r = append(list, n, &a, e);
		if (r < 0)
			return r;
		p += len;
		if (!*p)
			return 0;
	}
}

void netns_allow_format(const struct netns_allow *a, char *buf, size_t len)
{
	char host[NETNS_DNS_NAME_MAX + INET6_ADDRSTRLEN + 8], ports[16] = "";
	bool v4 = a->kind == NETNS_ALLOW_NET && a->prefix >= 96 && memcmp(a->addr, v4_mapped, 12) == 0;

	if (a->port_lo != 0 || a->port_hi != 65535)
		snprintf(ports, sizeof(ports), a->port_lo == a->port_hi ? ":%u" : ":%u-%u", a->port_lo, a->port_hi);
	if (a->kind != NETNS_ALLOW_NET) {
		snprintf(buf, len, "%s%s%s", a->kind == NETNS_ALLOW_SUFFIX ? "*." : "", a->name, ports);
		return;
	}
	char addr[INET6_ADDRSTRLEN];
	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? a->addr + 12 : a->addr, addr, sizeof(addr));
	unsigned plen = v4 ? a->prefix - 96u : a->prefix;
	if (plen == (v4 ? 32u : 128u))
		snprintf(host, sizeof(host), "%s", addr);
	else
		snprintf(host, sizeof(host), "%s/%u", addr, plen);
	if (!v4 && ports[0])
		snprintf(buf, len, "[%s]%s", host, ports);
	else
		snprintf(buf, len, "%s%s", host, ports);
}
