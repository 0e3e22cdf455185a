/* SPDX-License-Identifier: MIT */
#include "unit.h"
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../common/parse.h"

START_TEST(size_accepts_units)
{
	static const struct { const char *in; uint64_t out; } ok[] = {
		{ "0", 0 },
		{ "65536", 65536 },
		{ "512M", 512ULL << 20 },
		{ "512m", 512ULL << 20 },
		{ "1G", 1ULL << 30 },
		{ "1.5g", 3ULL << 29 },
		{ "2GiB", 2ULL << 30 },
		{ "512Mi", 512ULL << 20 },
		{ "64kb", 64ULL << 10 },
		{ "1T", 1ULL << 40 },
		{ "0.5k", 512 },
		{ "max", PARSE_SIZE_MAX },
		{ "MAX", PARSE_SIZE_MAX },
		{ "16777215T", 16777215ULL << 40 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 1;
		ck_assert_msg(parse_size(ok[i].in, &v) == 0, "%s rejected", ok[i].in);
		ck_assert_msg(v == ok[i].out, "%s -> %llu", ok[i].in, (unsigned long long)v);
	}
}
END_TEST

START_TEST(size_rejects_garbage)
{
	static const char *const bad[] = { "", "M", "-1", " 1", "1 ", "1x", "1MM", "1.M", ".5M", "1.5",
					   "1e6", "0x10", "1iB", "1Mx", "maxx", "+1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v;
		ck_assert_msg(parse_size(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
	}
	uint64_t v;
	ck_assert_int_eq(parse_size("16777216T", &v), -ERANGE);
	ck_assert_int_eq(parse_size("99999999999999999999", &v), -ERANGE);
}
END_TEST

START_TEST(numbers_and_ids)
{
	uint64_t v;
	uint32_t id;
	ck_assert_int_eq(parse_u64("42", 100, &v), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(parse_u64("101", 100, &v), -ERANGE);
	ck_assert_int_eq(parse_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	ck_assert_int_eq(parse_u64("-1", 100, &v), -EINVAL);
	ck_assert_int_eq(parse_u64("", 100, &v), -EINVAL);
	ck_assert_int_eq(parse_id("0", &id), 0);
	ck_assert_int_eq(parse_id("4294967294", &id), 0);
	ck_assert_uint_eq(id, 4294967294u);
	ck_assert_int_eq(parse_id("4294967295", &id), -ERANGE);
	ck_assert_int_eq(parse_id("12a", &id), -EINVAL);
}
END_TEST

START_TEST(capability_names)
{
	uint64_t set = 0;
	bool all = false;
	char bad[64] = "";
	ck_assert_int_eq(parse_capabilities("NET_RAW,cap_sys_admin,Chown", &set, &all, bad, sizeof(bad)), 0);
	ck_assert_uint_eq(set, (1ULL << 13) | (1ULL << 21) | 1ULL);
	ck_assert(!all);
	ck_assert_int_eq(parse_capabilities("all", &set, &all, bad, sizeof(bad)), 0);
	ck_assert(all);
	static const char *const wrong[][2] = { { "", "" },         { "NET_RAW,", "" },    { "bogus", "bogus" },
						{ "CAP_", "CAP_" }, { "chown,x", "x" },    { ",chown", "" },
						{ "cap_cap_chown", "cap_cap_chown" } };
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		ck_assert_msg(parse_capabilities(wrong[i][0], &set, &all, bad, sizeof(bad)) == -EINVAL, "'%s' accepted",
			      wrong[i][0]);
		ck_assert_str_eq(bad, wrong[i][1]);
	}
}
END_TEST

UNIT_MAIN("parse", size_accepts_units, size_rejects_garbage, numbers_and_ids, capability_names)
