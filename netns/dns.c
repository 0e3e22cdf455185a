/* SPDX-License-Identifier: MIT */
/*
 * dns.c - just enough of DNS messages (RFC 1035) for the egress policy:
 * the question of a query a sandbox sends to its resolver, a refusal of
 * it, and the addresses in the resolver's answer.
 *
 * DOC: Theory of operation
 * egress.c reads every UDP query to the network's resolver address with
 * dns_query_parse(): a standard query (QR 0, opcode 0) with one question
 * whose name decodes strictly (labels of letters, digits, '-' and '_', so
 * that no name reads two ways; lowered).  A name the policy does not allow
 * is answered by dns_refusal() (NXDOMAIN, the question echoed) and never
 * leaves.  Answers coming back from libslirp's resolver pass
 * dns_response_addrs(), which names the question and every A and AAAA
 * record of the answer section, so that egress.c can learn which addresses
 * an allowed name resolved to (a CNAME chain's final addresses included:
 * they answer the question).  Everything read is untrusted: every offset is
 * checked against the message's length, compression pointers must point
 * backwards and are followed at most DNS_HOPS times.  Pure, for the unit
 * tests and the fuzzer (tests/fuzz/fuzz_egress.c).
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define DNS_HLEN 12
#define DNS_HOPS 32
#define TYPE_A 1
#define TYPE_AAAA 28
#define CLASS_IN 1
#define FLAG_QR 0x8000
#define FLAG_RD 0x0100
#define FLAG_RA 0x0080
#define OPCODE(flags) (((flags) >> 11) & 0xf)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool label_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_';
}

/*
 * The name at @off of @m: into @out (lowered, dot-separated, checked
 * strictly) when @out is not NULL; *@next is where the record goes on.
 * Return: 0 or -EBADMSG.
 */
static int read_name(const uint8_t *m, size_t len, size_t off, char *out, size_t *next)
{
	size_t n = 0, hops = 0;
	bool jumped = false;

	for (;;) {
		if (off >= len)
			return -EBADMSG;
		uint8_t l = m[off];
		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= len || ++hops > DNS_HOPS)
				return -EBADMSG;
			size_t to = (size_t)(l & 0x3f) << 8 | m[off + 1];
			if (to >= off)
				return -EBADMSG; /* forward or self: a loop in the making */
			if (!jumped)
				*next = off + 2;
			jumped = true;
			off = to;
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG; /* the extended label types nobody uses */
		if (l == 0)
			break;
		if (off + 1 + l > len || n + (n ? 1 : 0) + l > NETNS_DNS_NAME_MAX)
			return -EBADMSG;
		if (out) {
			if (n)
				out[n++] = '.';
			for (size_t i = 0; i < l; i++) {
				unsigned char c = m[off + 1 + i];
				if (!label_char(c))
					return -EBADMSG;
				out[n++] = (char)tolower(c);
			}
		} else {
			n += (n ? 1 : 0) + l;
		}
		off += 1 + (size_t)l;
	}
	if (!jumped)
		*next = off + 1;
	if (out)
		out[n] = '\0';
	return 0;
}

int dns_query_parse(const uint8_t *m, size_t len, struct dns_question *q)
{
	size_t next;

	if (len < DNS_HLEN)
		return -EBADMSG;
	uint16_t flags = get16(m + 2);
	if (flags & FLAG_QR)
		return -EBADMSG; /* a response, sent to the resolver: nothing to answer */
	q->id = get16(m);
	q->rd = flags & FLAG_RD;
	q->end = 0;
	q->name[0] = '\0';
	if (OPCODE(flags) != 0 || get16(m + 4) != 1)
		return -EINVAL;
	/* The question's name: no compression (nothing precedes it to point at). */
	if (read_name(m, len, DNS_HLEN, q->name, &next) < 0 || next + 4 > len)
		return -EINVAL;
	q->qtype = get16(m + next);
	q->end = next + 4;
	return 0;
}

size_t dns_refusal(const uint8_t *m, const struct dns_question *q, uint8_t rcode, uint8_t *out, size_t cap)
{
	size_t qlen = q->end > DNS_HLEN ? q->end - DNS_HLEN : 0;

	if (cap < DNS_HLEN + qlen)
		return 0;
	memset(out, 0, DNS_HLEN);
	put16(out, q->id);
	put16(out + 2, (uint16_t)(FLAG_QR | (q->rd ? FLAG_RD : 0) | FLAG_RA | (rcode & 0xf)));
	put16(out + 4, qlen ? 1 : 0);
	memcpy(out + DNS_HLEN, m + DNS_HLEN, qlen);
	return DNS_HLEN + qlen;
}

/* Skips the resource record at *@off of @m, reporting an A or AAAA of class IN. */
static int walk_record(const uint8_t *m, size_t len, size_t *off, dns_addr_fn fn, void *ctx)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	size_t next;
	uint8_t addr[16];

	if (read_name(m, len, *off, NULL, &next) < 0 || next + 10 > len)
		return -EBADMSG;
	uint16_t type = get16(m + next), class = get16(m + next + 2), rdlen = get16(m + next + 8);
	const uint8_t *rdata = m + next + 10;
	if (next + 10 + rdlen > len)
		return -EBADMSG;
	if (!fn) {
		/* only checking */
	} else if (class == CLASS_IN && type == TYPE_A && rdlen == 4) {
		memcpy(addr, v4_mapped, 12);
		memcpy(addr + 12, rdata, 4);
		fn(ctx, addr);
	} else if (class == CLASS_IN && type == TYPE_AAAA && rdlen == 16) {
		fn(ctx, rdata);
	}
	*off = next + 10 + rdlen;
	return 0;
}

int dns_response_addrs(const uint8_t *m, size_t len, struct dns_question *q, dns_addr_fn fn, void *ctx)
{
	size_t next;

	if (len < DNS_HLEN || !(get16(m + 2) & FLAG_QR) || (get16(m + 2) & 0xf) != 0 || get16(m + 4) != 1)
		return -EBADMSG; /* not an answer, an error, or not one question */
	q->id = get16(m);
	if (read_name(m, len, DNS_HLEN, q->name, &next) < 0 || next + 4 > len)
		return -EBADMSG;
	q->qtype = get16(m + next);
	q->end = next + 4;
	size_t off = q->end;
	for (uint16_t i = 0, an = get16(m + 6); i < an; i++)
		if (walk_record(m, len, &off, fn, ctx) < 0)
			return -EBADMSG; /* (what was reported before stays: it was well formed) */
	return 0;
}
