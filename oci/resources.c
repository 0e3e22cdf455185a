/* SPDX-License-Identifier: MIT */
/*
 * resources.c - linux.resources into cgroup v2 writes (see resources.h).
 */
#include "resources.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../cgroup/cgroup.h"
#include "../common/jsonc.h"
#include "fields.h"

#define NO_VALUE INT64_MIN

struct rctx {
	struct oci_fields f; /* terse, "WHAT.FIELD: message" */
	struct oci_limits *l;
};

/* "SEC.KEY", "SEC" or "KEY" in @out. */
static const char *name(char out[OCI_FIELD], const char *sec, const char *key)
{
	return key[0] ? oci_field_at(out, sec, key) : oci_field_at(out, "", sec);
}

static int bad(const struct rctx *x, const char *sec, const char *key, const char *msg)
{
	char f[OCI_FIELD];
	return oci_field_bad(&x->f, name(f, sec, key), "%s", msg);
}

static int add(const struct rctx *x, const char *file, bool limit, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int add(const struct rctx *x, const char *file, bool limit, const char *fmt, ...)
{
	if (x->l->n == OCI_CG_WRITES_MAX)
		return ubx_refuse(x->f.e, EINVAL, "%s: more than %d cgroup settings", x->f.what, OCI_CG_WRITES_MAX);
	struct oci_cg_write *w = &x->l->w[x->l->n++];
	va_list ap;
	snprintf(w->file, sizeof(w->file), "%s", file);
	va_start(ap, fmt);
	vsnprintf(w->value, sizeof(w->value), fmt, ap);
	va_end(ap);
	w->limit = limit;
	return 0;
}

/* An integer field in [@lo, @hi], or NO_VALUE when absent. */
static int number(const struct rctx *x, struct json_object *o, const char *sec, const char *key, int64_t lo,
		  int64_t hi, int64_t *out)
{
	*out = NO_VALUE;
	return oci_field_integer(&x->f, o, key, sec, lo, hi, out, NULL);
}

/* A string field, "" when absent. */
static int text(const struct rctx *x, struct json_object *o, const char *sec, const char *key, const char **out)
{
	char f[OCI_FIELD];
	struct json_object *v = o ? jsonc_member(o, key) : NULL;
	*out = "";
	return v ? oci_field_text(&x->f, v, oci_field_at(f, sec, key), out) : 0;
}

/* A field cgroup v2 has no place for: refused when it asks for something. */
static int v1_only(const struct rctx *x, struct json_object *o, const char *sec, const char *key)
{
	struct json_object *v = o ? jsonc_member(o, key) : NULL;
	bool asks = v && ((jsonc_is(v, json_type_int) && jsonc.json_object_get_int64(v) != 0) ||
			  (jsonc_is(v, json_type_boolean) && jsonc.json_object_get_boolean(v)));
	return asks ? bad(x, sec, key, "needs cgroup v1, which usbox-oci does not use") : 0;
}

static int parse_memory(const struct rctx *x, struct json_object *res)
{
	static const char *const known[] = { "limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness",
					     "disableOOMKiller", "useHierarchy", "checkBeforeUpdate", NULL };
	int64_t limit, resv, swap;
	int r;
	struct json_object *o;
	if ((r = oci_field_object(&x->f, res, "memory", "", known, &o)) < 0 || !o ||
	    (r = number(x, o, "memory", "limit", -1, INT64_MAX, &limit)) < 0 ||
	    (r = number(x, o, "memory", "reservation", -1, INT64_MAX, &resv)) < 0 ||
	    (r = number(x, o, "memory", "swap", -1, INT64_MAX, &swap)) < 0 ||
	    (r = v1_only(x, o, "memory", "kernel")) < 0 || (r = v1_only(x, o, "memory", "kernelTCP")) < 0 ||
	    (r = v1_only(x, o, "memory", "disableOOMKiller")) < 0 || (r = v1_only(x, o, "memory", "swappiness")) < 0)
		return r;
	if (limit > 0 && (r = add(x, "memory.max", true, "%" PRId64, limit)) < 0)
		return r;
	if (limit == -1 && (r = add(x, "memory.max", false, "max")) < 0)
		return r;
	if (resv >= 0 && (r = add(x, "memory.low", resv > 0, "%" PRId64, resv)) < 0)
		return r;
	if (swap == -1)
		return add(x, "memory.swap.max", false, "max");
	if (swap > 0 && limit <= 0)
		return bad(x, "memory", "swap", "needs memory.limit (swap is memory plus swap)");
	if (swap > 0 && swap < limit)
		return bad(x, "memory", "swap", "less than memory.limit (swap is memory plus swap)");
	return swap > 0 ? add(x, "memory.swap.max", true, "%" PRId64, swap - limit) : 0;
}

static int cpu_sets(const struct rctx *x, struct json_object *o)
{
	const char *cpus, *mems;
	int r;
	if ((r = text(x, o, "cpu", "cpus", &cpus)) < 0 || (r = text(x, o, "cpu", "mems", &mems)) < 0)
		return r;
	if (cpus[0] && cgroup_parse_cpuset(cpus) < 0)
		return bad(x, "cpu", "cpus", "not a cpu list such as 0-3,8");
	if (mems[0] && cgroup_parse_cpuset(mems) < 0)
		return bad(x, "cpu", "mems", "not a node list such as 0-1");
	if (cpus[0] && (r = add(x, "cpuset.cpus", true, "%s", cpus)) < 0)
		return r;
	return mems[0] ? add(x, "cpuset.mems", true, "%s", mems) : 0;
}

static int parse_cpu(const struct rctx *x, struct json_object *res)
{
	static const char *const known[] = { "shares", "quota", "burst", "period", "realtimeRuntime",
					     "realtimePeriod", "cpus", "mems", "idle", NULL };
	int64_t shares, quota, period, burst, idle;
	int r;
	struct json_object *o;
	if ((r = oci_field_object(&x->f, res, "cpu", "", known, &o)) < 0 || !o ||
	    (r = number(x, o, "cpu", "shares", 0, 262144, &shares)) < 0 ||
	    (r = number(x, o, "cpu", "quota", -1, INT64_MAX / 2, &quota)) < 0 ||
	    (r = number(x, o, "cpu", "period", 0, 1000000, &period)) < 0 ||
	    (r = number(x, o, "cpu", "burst", 0, INT64_MAX / 2, &burst)) < 0 ||
	    (r = number(x, o, "cpu", "idle", 0, 1, &idle)) < 0 || (r = v1_only(x, o, "cpu", "realtimeRuntime")) < 0 ||
	    (r = v1_only(x, o, "cpu", "realtimePeriod")) < 0)
		return r;
	if (shares == 1)
		return bad(x, "cpu", "shares", "out of range (2 to 262144)");
	if (shares >= 2 && (r = add(x, "cpu.weight", shares != 1024, "%" PRId64,
				    1 + ((shares - 2) * 9999) / 262142)) < 0)
		return r;
	if (period != NO_VALUE && period != 0 && period < 1000)
		return bad(x, "cpu", "period", "out of range (1000 to 1000000)");
	int64_t per = period > 0 ? period : CGROUP_CPU_PERIOD;
	if (quota > 0 && quota < 1000)
		return bad(x, "cpu", "quota", "less than the kernel's 1000 µs");
	if (quota > 0 && (r = add(x, "cpu.max", true, "%" PRId64 " %" PRId64, quota, per)) < 0)
		return r;
	if ((quota == -1 || (quota == NO_VALUE && period > 0)) &&
	    (r = add(x, "cpu.max", false, "max %" PRId64, per)) < 0)
		return r;
	if (burst != NO_VALUE && (r = add(x, "cpu.max.burst", burst > 0, "%" PRId64, burst)) < 0)
		return r;
	if (idle != NO_VALUE && (r = add(x, "cpu.idle", idle > 0, "%" PRId64, idle)) < 0)
		return r;
	return cpu_sets(x, o);
}

static int parse_pids(const struct rctx *x, struct json_object *res)
{
	static const char *const known[] = { "limit", NULL };
	int64_t limit;
	int r;
	struct json_object *o;
	if ((r = oci_field_object(&x->f, res, "pids", "", known, &o)) < 0 || !o ||
	    (r = number(x, o, "pids", "limit", -1, INT64_MAX, &limit)) < 0)
		return r;
	if (limit > 0)
		return add(x, "pids.max", true, "%" PRId64, limit);
	return limit == -1 ? add(x, "pids.max", false, "max") : 0;
}

/* Whether the blockIO list @key is absent or empty. */
static bool empty_list(struct json_object *o, const char *key)
{
	struct json_object *v = jsonc_member(o, key);
	return !v || (jsonc_is(v, json_type_array) && jsonc.json_object_array_length(v) == 0);
}

static int parse_blockio(const struct rctx *x, struct json_object *res)
{
	static const char *const lists[] = { "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
					     "throttleReadIOPSDevice", "throttleWriteIOPSDevice" };
	static const char *const known[] = { "weight", "leafWeight", "weightDevice", "throttleReadBpsDevice",
					     "throttleWriteBpsDevice", "throttleReadIOPSDevice",
					     "throttleWriteIOPSDevice", NULL };
	int64_t weight, leaf;
	int r;
	struct json_object *o;
	if ((r = oci_field_object(&x->f, res, "blockIO", "", known, &o)) < 0 || !o ||
	    (r = number(x, o, "blockIO", "weight", 0, 1000, &weight)) < 0 ||
	    (r = number(x, o, "blockIO", "leafWeight", 0, 1000, &leaf)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (!empty_list(o, lists[i]))
			return bad(x, "blockIO", lists[i], "per-device limits are not supported by usbox-oci yet");
	if (leaf > 0)
		return bad(x, "blockIO", "leafWeight", "needs cgroup v1, which usbox-oci does not use");
	if (weight > 0 && weight < 10)
		return bad(x, "blockIO", "weight", "out of range (10 to 1000)");
	return weight > 0 ? add(x, "io.weight", true, "default %" PRId64, 1 + ((weight - 10) * 9999) / 990) : 0;
}

/* A unified key: CONTROLLER.NAME with a controller usbox-oci knows, no
 * path, no core ("cgroup.") file. */
static bool unified_key_ok(const char *k)
{
	static const char *const ctl[] = { "memory", "cpu", "cpuset", "io", "pids", "hugetlb", "rdma", "misc", NULL };
	const char *dot = strchr(k, '.');
	if (!dot || strlen(k) >= sizeof(((struct oci_cg_write *)0)->file) || !dot[1])
		return false;
	for (const char *p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.') ||
		    (*p == '.' && p[1] == '.'))
			return false;
	for (const char *const *c = ctl; *c; c++)
		if (strlen(*c) == (size_t)(dot - k) && strncmp(*c, k, (size_t)(dot - k)) == 0)
			return true;
	return false;
}

static int parse_unified(const struct rctx *x, struct json_object *res)
{
	struct json_object *o = jsonc_member(res, "unified");
	if (!o)
		return 0;
	int r = oci_field_expect(&x->f, o, json_type_object, "unified");
	if (r < 0)
		return r;
	struct json_object_iterator it = jsonc.json_object_iter_begin(o), end = jsonc.json_object_iter_end(o);
	for (; !jsonc.json_object_iter_equal(&it, &end); jsonc.json_object_iter_next(&it)) {
		const char *k = jsonc.json_object_iter_peek_name(&it);
		struct json_object *v = jsonc.json_object_iter_peek_value(&it);
		if (!unified_key_ok(k))
			return bad(x, "unified", k, "not a cgroup v2 controller file (CONTROLLER.NAME)");
		if (!jsonc_is(v, json_type_string))
			return bad(x, "unified", k, "not a string");
		const char *s = jsonc.json_object_get_string(v);
		if ((size_t)jsonc.json_object_get_string_len(v) != strlen(s) ||
		    strlen(s) >= sizeof(((struct oci_cg_write *)0)->value) || strpbrk(s, "\n\r"))
			return bad(x, "unified", k, "not one line of at most 255 bytes");
		if ((r = add(x, k, true, "%s", s)) < 0)
			return r;
	}
	return 0;
}

int oci_resources_parse(struct json_object *res, const char *what, struct oci_limits *l, struct ubx_err *e)
{
	static const char *const known[] = { "devices", "memory", "cpu", "pids", "blockIO", "hugepageLimits",
					     "network", "rdma", "unified", NULL };
	struct rctx x = { .f = { .e = e, .what = what, .sep = ".", .code = EINVAL, .terse = true }, .l = l };
	int r;
	l->n = 0;
	if (!jsonc_is(res, json_type_object))
		return ubx_refuse(e, EINVAL, "%s: not an object", what);
	if ((r = oci_field_known_keys(&x.f, res, "", known)) < 0 || (r = parse_memory(&x, res)) < 0 ||
	    (r = parse_cpu(&x, res)) < 0 || (r = parse_pids(&x, res)) < 0 || (r = parse_blockio(&x, res)) < 0 ||
	    (r = parse_unified(&x, res)) < 0)
		l->n = 0;
	return r;
}

bool oci_limits_any(const struct oci_limits *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->w[i].limit)
			return true;
	return false;
}

void oci_limits_controllers(const struct oci_limits *l, bool only_limits, char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		char ctl[64], word[66];
		if (only_limits && !l->w[i].limit)
			continue;
		snprintf(ctl, sizeof(ctl), "%.*s", (int)strcspn(l->w[i].file, "."), l->w[i].file);
		snprintf(word, sizeof(word), " %s ", ctl);
		char padded[512];
		snprintf(padded, sizeof(padded), " %s ", out);
		if (strstr(padded, word))
			continue;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", n ? " " : "", ctl);
		if (n >= len)
			break;
	}
}
