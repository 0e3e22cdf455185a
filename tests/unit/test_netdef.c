/* SPDX-License-Identifier: MIT */
/* User network definitions: names, subnets, create/list/remove in a scratch XDG_DATA_HOME. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../netns/netns.h"
#include "unit.h"

static char scratch[] = "/tmp/usbox-unit-netdef.XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(scratch));
	setenv("XDG_DATA_HOME", scratch, 1);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(scratch, "/tmp/usbox-unit-netdef.XXXXXX");
}

static const char *subnet_text(const struct netns_network *n, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];
	snprintf(buf, len, "%s/%u", inet_ntop(AF_INET, &n->net, a, sizeof(a)), (unsigned)n->prefix);
	return buf;
}

START_TEST(names)
{
	ck_assert(netns_network_name_valid("web"));
	ck_assert(netns_network_name_valid("a.b_c-9"));
	ck_assert(netns_network_name_valid("0abc"));
	ck_assert(!netns_network_name_valid(""));
	ck_assert(!netns_network_name_valid("-x"));
	ck_assert(!netns_network_name_valid("a/b"));
	ck_assert(!netns_network_name_valid("../x"));
	ck_assert(!netns_network_name_valid("a b"));
	ck_assert(!netns_network_name_valid("host"));
	ck_assert(!netns_network_name_valid("none"));
	ck_assert(!netns_network_name_valid("slirp"));
	ck_assert(!netns_network_name_valid("abcdefghijabcdefghijabcdefghijabc")); /* 33 */
	ck_assert(netns_network_name_valid("abcdefghijabcdefghijabcdefghijab"));   /* 32 */
}
END_TEST

START_TEST(subnets)
{
	struct ubx_err e = { 0 };
	uint32_t net;
	uint8_t prefix;

	ck_assert_int_eq(netns_subnet_parse("10.89.0.0/24", &net, &prefix, &e), 0);
	ck_assert_uint_eq(ntohl(net), 0x0a590000u);
	ck_assert_uint_eq(prefix, 24);
	ck_assert_int_eq(netns_subnet_parse("172.16.0.0/12", &net, &prefix, &e), 0);
	ck_assert_int_eq(netns_subnet_parse("10.0.0.16/28", &net, &prefix, &e), 0);
	ck_assert_int_lt(netns_subnet_parse("10.89.0.1/24", &net, &prefix, &e), 0);
	ck_assert_str_eq(e.msg, "subnet '10.89.0.1/24': host bits are set (did you mean 10.89.0.0/24?)");
	ck_assert_int_lt(netns_subnet_parse("10.89.0.0/29", &net, &prefix, &e), 0);
	ck_assert_int_lt(netns_subnet_parse("10.0.0.0/7", &net, &prefix, &e), 0);
	ck_assert_int_lt(netns_subnet_parse("10.89.0.0", &net, &prefix, &e), 0);
	ck_assert_int_lt(netns_subnet_parse("10.89.0.0/", &net, &prefix, &e), 0);
	ck_assert_int_lt(netns_subnet_parse("10.89.0.0/24x", &net, &prefix, &e), 0);
	ck_assert_int_lt(netns_subnet_parse("10.89.0/24", &net, &prefix, &e), 0);
	ck_assert_int_lt(netns_subnet_parse("fd00::/64", &net, &prefix, &e), 0);
}
END_TEST

START_TEST(create_list_remove)
{
	struct ubx_err e = { 0 };
	struct netns_network n, *all;
	char buf[32];

	ck_assert_int_eq(netns_network_list(&all, &e), 0);
	ck_assert_int_eq(netns_network_create("one", NULL, false, NULL, 0, NULL, &n, &e), 0);
	ck_assert_str_eq(subnet_text(&n, buf, sizeof(buf)), "10.89.0.0/24");
	ck_assert_int_eq(netns_network_create("two", NULL, true, NULL, 0, NULL, &n, &e), 0);
	ck_assert_str_eq(subnet_text(&n, buf, sizeof(buf)), "10.89.1.0/24");
	ck_assert_int_eq(netns_network_create("big", "10.89.4.0/22", false, NULL, 0, NULL, &n, &e), 0);
	/* The next free default skips what "big" covers. */
	ck_assert_int_eq(netns_network_create("three", NULL, false, NULL, 0, NULL, &n, &e), 0);
	ck_assert_str_eq(subnet_text(&n, buf, sizeof(buf)), "10.89.2.0/24");
	ck_assert_int_lt(netns_network_create("one", NULL, false, NULL, 0, NULL, &n, &e), 0);
	ck_assert_str_eq(e.msg, "network one already exists");
	ck_assert_int_lt(netns_network_create("four", "10.89.5.0/24", false, NULL, 0, NULL, &n, &e), 0);
	ck_assert_str_eq(e.msg, "subnet 10.89.5.0/24 overlaps network big");
	ck_assert_int_lt(netns_network_create("host", NULL, false, NULL, 0, NULL, &n, &e), 0);

	ck_assert_int_eq(netns_network_list(&all, &e), 4);
	ck_assert_str_eq(all[0].name, "big");
	ck_assert_str_eq(all[3].name, "two");
	ck_assert(all[3].allow_host_loopback);
	ck_assert(!all[0].allow_host_loopback);
	free(all);

	ck_assert_int_eq(netns_network_load("big", &n, &e), 0);
	ck_assert_str_eq(subnet_text(&n, buf, sizeof(buf)), "10.89.4.0/22");
	ck_assert_int_lt(netns_network_load("nosuch", &n, &e), 0);
	ck_assert_str_eq(e.msg, "network nosuch not found (create it with: usbox network create nosuch)");
	ck_assert_int_lt(netns_network_load("../x", &n, &e), 0);
	ck_assert_int_eq(netns_network_users("big", &e), 0);
}
END_TEST

START_TEST(damaged_definition_is_an_error)
{
	struct ubx_err e = { 0 };
	struct netns_network n;
	char path[256];

	ck_assert_int_eq(netns_network_create("x", NULL, false, NULL, 0, NULL, &n, &e), 0);
	snprintf(path, sizeof(path), "%s/usbox/networks/x", scratch);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("subnet=10.1.2.3/99\n", f);
	fclose(f);
	ck_assert_int_lt(netns_network_load("x", &n, &e), 0);
	ck_assert_str_eq(e.msg, "network x: subnet '10.1.2.3/99': the prefix length must be 8 to 28");
}
END_TEST

/* An uplink's egress policy and log are kept, in their canonical spelling. */
START_TEST(egress_policy_kept)
{
	struct ubx_err e = { 0 };
	struct netns_network n;
	struct netns_allow *allow = NULL;
	size_t count = 0;
	char path[256];

	ck_assert_int_eq(netns_allow_parse("Example.COM.:443,*.pkg.test,10.1.0.0/16:1000-2000", &allow, &count, &e), 0);
	ck_assert_int_eq(netns_allow_parse("[fd00::/8]:53", &allow, &count, &e), 0);
	ck_assert_int_eq(netns_network_create("p", NULL, false, allow, count, "/var/log/p.log", &n, &e), 0);
	ck_assert_int_eq(netns_network_load("p", &n, &e), 0);
	ck_assert_str_eq(n.allow, "example.com:443,*.pkg.test,10.1.0.0/16:1000-2000,[fd00::/8]:53");
	ck_assert_str_eq(n.log, "/var/log/p.log");
	ck_assert_int_lt(netns_network_create("q", NULL, false, allow, count, "relative.log", &n, &e), 0);
	ck_assert_int_lt(netns_network_create("r", NULL, false, NULL, 0, "/tmp/x.log", &n, &e), 0);
	ck_assert_str_eq(e.msg, "network r: --log logs what --allow decides: give --allow too");
	free(allow);
	/* A damaged policy is an error, not an open network. */
	snprintf(path, sizeof(path), "%s/usbox/networks/p", scratch);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("subnet=10.89.0.0/24\nallow=example.com,bad..name\n", f);
	fclose(f);
	ck_assert_int_lt(netns_network_load("p", &n, &e), 0);
	ck_assert_str_eq(e.msg, "network p: allow: 'bad..name' is not a destination (HOST, *.DOMAIN, IP or CIDR, "
				"with :PORT or :LOW-HIGH; IPv6 with a port in brackets)");
}
END_TEST

UNIT_MAIN_FIXTURE("netdef", setup, teardown, names, subnets, create_list_remove, damaged_definition_is_an_error,
		  egress_policy_kept)
