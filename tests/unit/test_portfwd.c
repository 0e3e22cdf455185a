/* SPDX-License-Identifier: MIT */
/* -p values: [IP:]HOSTPORT:SANDBOXPORT[/udp], IPv6 addresses in brackets. */
#include <arpa/inet.h>
#include <string.h>

#include "../../netns/netns.h"
#include "unit.h"

START_TEST(parses)
{
	struct portfwd_spec s;
	uint8_t loop6[16] = { [15] = 1 };

	ck_assert_int_eq(portfwd_parse("8080:80", &s), 0);
	ck_assert(!s.ip6 && s.host_ip == 0 && s.host_port == 8080 && s.sandbox_port == 80 && !s.udp);
	ck_assert_int_eq(portfwd_parse("127.0.0.1:8080:80/udp", &s), 0);
	ck_assert(!s.ip6 && s.host_ip == htonl(0x7f000001) && s.udp);
	ck_assert_int_eq(portfwd_parse("[::1]:8080:80", &s), 0);
	ck_assert(s.ip6 && memcmp(s.host_ip6, loop6, 16) == 0 && s.host_port == 8080 && s.sandbox_port == 80);
	ck_assert_int_eq(portfwd_parse("[fd77::2]:53:53/udp", &s), 0);
	ck_assert(s.ip6 && s.udp && s.host_ip6[0] == 0xfd);
}
END_TEST

START_TEST(refuses)
{
	static const char *const bad[] = { "80", "[::1]:80", "[::1]8080:80", "[::1:8080:80", "[10.0.0.1]:80:80",
					   "[::1]:1.2.3.4:80:80", "::1:80:80", "[]:80:80", "[::1]:0:80", "[::1]:80:80/sctp" };
	struct portfwd_spec s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(portfwd_parse(bad[i], &s) < 0, "'%s' parsed", bad[i]);
}
END_TEST

UNIT_MAIN("portfwd", parses, refuses)
