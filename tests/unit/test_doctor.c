/* SPDX-License-Identifier: MIT */
#include "unit.h"
#include <stdio.h>
#include <string.h>

#include "../../doctor/doctor.h"
#include "../../doctor/internal.h"

static uint32_t free_start(const char *uid_text, const char *gid_text)
{
	FILE *f = fmemopen((void *)uid_text, strlen(uid_text), "r");
	FILE *g = gid_text ? fmemopen((void *)gid_text, strlen(gid_text), "r") : NULL;
	uint32_t s = doctor_free_subid_start(f, g);
	fclose(f);
	if (g)
		fclose(g);
	return s;
}

START_TEST(free_start_above_every_range)
{
	/* empty files: the first multiple of 65536 from 100000 on */
	ck_assert_uint_eq(free_start("", NULL), 131072);
	ck_assert_uint_eq(free_start("alice:100000:65536\n", NULL), 196608);
	/* the larger end of either file counts; comments and junk do not */
	ck_assert_uint_eq(free_start("# c\nalice:100000:65536\nbob:x:y\n\n", "carol:1100000:65536\n"), 1179648);
	ck_assert_uint_eq(free_start("a:1179648:65536\n", NULL), 1245184);
	/* no room left below 2^32 */
	ck_assert_uint_eq(free_start("a:4294900000:1000\n", NULL), 0);
	ck_assert_uint_eq(free_start("a:4294000000:100000\n", NULL), 4294115328u);
}
END_TEST

START_TEST(status_names)
{
	ck_assert_str_eq(doctor_status_name(DOCTOR_OK), "ok");
	ck_assert_str_eq(doctor_status_name(DOCTOR_WARN), "warn");
	ck_assert_str_eq(doctor_status_name(DOCTOR_FAIL), "fail");
}
END_TEST

static const char *unpoint(const char *in)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s", in);
	doctor_unpoint(buf);
	return buf;
}

START_TEST(pointer_taken_off_quoted_messages)
{
	ck_assert_str_eq(unpoint("limits need X (do Y) (usbox doctor: limits)"), "limits need X (do Y)");
	ck_assert_str_eq(unpoint("limits need X (do Y, or Z; usbox doctor: limits)"), "limits need X (do Y, or Z)");
	ck_assert_str_eq(unpoint("no pointer (at all)"), "no pointer (at all)");
	ck_assert_str_eq(unpoint("usbox doctor: x)"), "usbox doctor: x)");
	ck_assert_str_eq(unpoint("a (usbox doctor: limits) and more"), "a (usbox doctor: limits) and more");
}
END_TEST

UNIT_MAIN("doctor", free_start_above_every_range, status_names, pointer_taken_off_quoted_messages)
