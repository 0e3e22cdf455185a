/* SPDX-License-Identifier: MIT */
/* libFuzzer: the egress policy on any frame a sandbox can write to its TAP
 * and any frame libslirp's resolver could answer with; the reply it builds,
 * the log line it writes; DNS messages as they come. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../netns/internal.h"

static struct egress *policy(void)
{
	static struct egress *g;
	struct netns_allow *rules = NULL;
	size_t n = 0;
	struct netns_lease l;

	if (g)
		return g;
	if (netns_allow_parse("a.test:443,*.b.test,10.77.0.0/24:9000-9999,[fd77::/64]:80,169.254.169.254", &rules, &n,
			      NULL) < 0)
		__builtin_trap();
	netns_default_lease(&l);
	if (egress_new(rules, n, &l, &g, NULL) < 0)
		__builtin_trap();
	free(rules);
	return g;
}

static void ignore(void *ctx, const uint8_t addr[16])
{
	(void)ctx, (void)addr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t h4[1] = { 0x0200a8c0 };
	struct in6_addr h6[1] = { IN6ADDR_LOOPBACK_INIT };
	struct frame_policy host = { .n4 = 1, .n6 = 1, .host4 = h4, .host6 = h6 };
	uint8_t reply[EGRESS_REPLY_MAX], again[EGRESS_REPLY_MAX];
	struct egress_event ev;
	struct dns_question q;
	struct timespec when = { 1800000000, 0 };
	char line[1024];
	size_t n, m;
	bool log;

	struct egress *g = policy();
	egress_inbound(g, data, size);
	enum egress_verdict v = egress_outbound(g, data, size, &host, reply, sizeof(reply), &n, &ev, &log);
	if (v == EGRESS_ANSWER) {
		if (n == 0 || n > sizeof(reply))
			__builtin_trap();
		/* a reply goes to the sandbox; a RST or an ICMP error sent back is
		 * never answered in turn: no ping-pong */
		uint8_t proto = reply[12] == 0x86 ? reply[14 + 6] : reply[14 + 9];
		egress_inbound(g, reply, n);
		if (egress_outbound(g, reply, n, &host, again, sizeof(again), &m, &ev, &log) == EGRESS_ANSWER &&
		    proto != 17)
			__builtin_trap();
	}
	if (log && egress_event_json(&ev, &when, line, sizeof(line)) == 0)
		__builtin_trap(); /* every decision fits a line */
	(void)dns_query_parse(data, size, &q);
	(void)dns_response_addrs(data, size, &q, ignore, NULL);
	return 0;
}
