/* SPDX-License-Identifier: MIT */
/* oci/resources.c: linux.resources into cgroup v2 writes. */
#include "unit.h"
#include <stdio.h>
#include <string.h>

#include "../../common/jsonc.h"
#include "../../oci/resources.h"

/* Parses @text into @l; the writes as "file=value[*]" lines (* for a limit). */
static int writes(const char *text, struct oci_limits *l, char *out, size_t len, struct ubx_err *e)
{
	struct json_object *o = NULL;
	ck_assert_int_eq(jsonc_parse(text, strlen(text), 1 << 20, "t", &o, e), 0);
	int r = oci_resources_parse(o, "r", l, e);
	jsonc.json_object_put(o);
	out[0] = '\0';
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		size_t n = strlen(out);
		snprintf(out + n, len - n, "%s=%s%s\n", l->w[i].file, l->w[i].value, l->w[i].limit ? "*" : "");
	}
	return r;
}

START_TEST(conversions)
{
	static struct oci_limits l;
	struct ubx_err e = { 0 };
	char out[2048], ctl[128];
	ck_assert_int_eq(writes("{\"memory\": {\"limit\": 1048576, \"swap\": 3145728, \"reservation\": 524288},"
				" \"cpu\": {\"shares\": 2048, \"quota\": 50000, \"period\": 200000, \"cpus\": \"0-1\"},"
				" \"pids\": {\"limit\": 30}, \"blockIO\": {\"weight\": 500},"
				" \"unified\": {\"memory.high\": \"900000\"}, \"devices\": []}",
				&l, out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, "memory.max=1048576*\nmemory.low=524288*\nmemory.swap.max=2097152*\n"
			      "cpu.weight=79*\ncpu.max=50000 200000*\ncpuset.cpus=0-1*\npids.max=30*\n"
			      "io.weight=default 4950*\nmemory.high=900000*\n");
	ck_assert(oci_limits_any(&l));
	oci_limits_controllers(&l, true, ctl, sizeof(ctl));
	ck_assert_str_eq(ctl, "memory cpu cpuset pids io");
	/* defaults restated (what engines always send) are no limits */
	ck_assert_int_eq(writes("{\"memory\": {\"limit\": -1, \"swap\": -1}, \"cpu\": {\"shares\": 1024},"
				" \"pids\": {\"limit\": -1}}", &l, out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, "memory.max=max\nmemory.swap.max=max\ncpu.weight=39\npids.max=max\n");
	ck_assert(!oci_limits_any(&l));
	oci_limits_controllers(&l, true, ctl, sizeof(ctl));
	ck_assert_str_eq(ctl, "");
}
END_TEST

START_TEST(refusals_name_the_field)
{
	static const char *const cases[][2] = {
		{ "{\"memory\": {\"limit\": \"1G\"}}", "r.memory.limit: not an integer" },
		{ "{\"memory\": {\"limt\": 1}}", "r.memory.limt: unknown field" },
		{ "{\"memory\": {\"limit\": 100, \"swap\": 50}}",
		  "r.memory.swap: less than memory.limit (swap is memory plus swap)" },
		{ "{\"memory\": {\"kernel\": 100}}", "r.memory.kernel: needs cgroup v1, which usbox-oci does not use" },
		{ "{\"cpu\": {\"cpus\": \"0-\"}}", "r.cpu.cpus: not a cpu list such as 0-3,8" },
		{ "{\"cpu\": {\"quota\": 10}}", "r.cpu.quota: less than the kernel's 1000 µs" },
		{ "{\"blockIO\": {\"weight\": 5}}", "r.blockIO.weight: out of range (10 to 1000)" },
		{ "{\"unified\": {\"cgroup.kill\": \"1\"}}",
		  "r.unified.cgroup.kill: not a cgroup v2 controller file (CONTROLLER.NAME)" },
		{ "{\"unified\": {\"memory.max/../x\": \"1\"}}",
		  "r.unified.memory.max/../x: not a cgroup v2 controller file (CONTROLLER.NAME)" },
		{ "{\"unified\": {\"pids.max\": \"1\\n2\"}}", "r.unified.pids.max: not one line of at most 255 bytes" },
		{ "{\"bogus\": {}}", "r.bogus: unknown field" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct oci_limits l;
		struct ubx_err e = { 0 };
		char out[2048];
		ck_assert_int_lt(writes(cases[i][0], &l, out, sizeof(out), &e), 0);
		ck_assert_str_eq(e.msg, cases[i][1]);
		ck_assert_uint_eq(l.n, 0);
	}
}
END_TEST

UNIT_MAIN("ociresources", conversions, refusals_name_the_field)
