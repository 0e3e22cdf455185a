/* SPDX-License-Identifier: MIT */
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../idmap/idmap.h"

static size_t parse_text(const char *text, const char *name, uint32_t id, struct idmap_range *out)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	size_t n = idmap_subid_parse(f, name, id, out);
	fclose(f);
	return n;
}

START_TEST(subid_names_numbers_comments)
{
	struct idmap_range r[IDMAP_MAX_RANGES];
	const char *text = "# comment line\n"
			   "\n"
			   "alice:100000:65536\n"
			   "bob:165536:65536\n"
			   "  # indented comment\n"
			   "1000:300000:10\n"
			   "alice:400000:5\n";
	size_t n = parse_text(text, "alice", 1000, r);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(r[0].start, 100000);
	ck_assert_uint_eq(r[0].count, 65536);
	ck_assert_uint_eq(r[1].start, 300000);
	ck_assert_uint_eq(r[1].count, 10);
	ck_assert_uint_eq(r[2].start, 400000);
	ck_assert_uint_eq(parse_text(text, "carol", 1002, r), 0);
	ck_assert_uint_eq(parse_text(text, NULL, 1000, r), 1);
}
END_TEST

START_TEST(subid_skips_malformed)
{
	struct idmap_range r[IDMAP_MAX_RANGES];
	const char *text = "alice:100000\n"
			   "alice:x:10\n"
			   "alice:100000:0\n"
			   "alice:100000:10:extra\n"
			   "alice:-5:10\n"
			   "alice:4294967290:100\n"
			   "alicex:1:1\n"
			   "alice:500000:7\n";
	ck_assert_uint_eq(parse_text(text, "alice", 1000, r), 1);
	ck_assert_uint_eq(r[0].start, 500000);
	ck_assert_uint_eq(r[0].count, 7);
}
END_TEST

/* Checks that @m maps every inside id below @total exactly once. */
static void assert_covers(const struct idmap *m, uint32_t total)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < m->n; i++) {
		sum += m->ext[i].count;
		if (i)
			ck_assert_uint_eq(m->ext[i - 1].inside + m->ext[i - 1].count, m->ext[i].inside);
	}
	ck_assert_uint_eq(m->ext[0].inside, 0);
	ck_assert_uint_eq(sum, total);
}

START_TEST(layout_keep_id)
{
	struct idmap m;
	const struct idmap_range r = { 100000, 65536 };
	ck_assert_uint_eq(idmap_layout(1000, 1000, &r, 1, 65536, &m), 65536);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(m.ext[0].inside, 0);
	ck_assert_uint_eq(m.ext[0].outside, 100000);
	ck_assert_uint_eq(m.ext[0].count, 1000);
	ck_assert_uint_eq(m.ext[1].inside, 1000);
	ck_assert_uint_eq(m.ext[1].outside, 1000);
	ck_assert_uint_eq(m.ext[1].count, 1);
	ck_assert_uint_eq(m.ext[2].inside, 1001);
	ck_assert_uint_eq(m.ext[2].outside, 101000);
	ck_assert_uint_eq(m.ext[2].count, 64535);
	assert_covers(&m, 65536);
}
END_TEST

START_TEST(layout_root_and_several_ranges)
{
	struct idmap m;
	const struct idmap_range r[] = { { 100000, 10 }, { 200000, 65536 } };
	ck_assert_uint_eq(idmap_layout(0, 1000, r, 2, 65536, &m), 65536);
	ck_assert_uint_eq(m.ext[0].inside, 0);
	ck_assert_uint_eq(m.ext[0].outside, 1000);
	ck_assert_uint_eq(m.ext[1].inside, 1);
	ck_assert_uint_eq(m.ext[1].count, 10);
	ck_assert_uint_eq(m.ext[2].inside, 11);
	ck_assert_uint_eq(m.ext[2].outside, 200000);
	ck_assert_uint_eq(m.ext[2].count, 65525);
	assert_covers(&m, 65536);
}
END_TEST

START_TEST(layout_short_range_and_single)
{
	struct idmap m;
	const struct idmap_range r = { 100000, 100 };
	ck_assert_uint_eq(idmap_layout(1000, 1000, &r, 1, 65536, &m), 101);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_uint_eq(m.ext[0].count, 100);
	ck_assert_uint_eq(m.ext[1].inside, 1000);
	ck_assert_uint_eq(idmap_layout(5, 1000, NULL, 0, 65536, &m), 1);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_uint_eq(m.ext[0].inside, 5);
	ck_assert_uint_eq(m.ext[0].outside, 1000);
	/* The holder: its id 0 is the caller, then one more id per subordinate. */
	const struct idmap_range big = { 100000, 65536 };
	ck_assert_uint_eq(idmap_layout(0, 1000, &big, 1, 65537, &m), 65537);
	assert_covers(&m, 65537);
}
END_TEST

START_TEST(format_lines)
{
	struct idmap m;
	char buf[128];
	const struct idmap_range r = { 100000, 65536 };
	idmap_layout(1000, 1000, &r, 1, 65536, &m);
	ck_assert_int_gt(idmap_format(&m, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0 100000 1000\n1000 1000 1\n1001 101000 64535\n");
	ck_assert_int_lt(idmap_format(&m, buf, 10), 0);
}
END_TEST

UNIT_MAIN("idmap", subid_names_numbers_comments, subid_skips_malformed, layout_keep_id, layout_root_and_several_ranges, layout_short_range_and_single, format_lines)
