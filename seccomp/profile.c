/* SPDX-License-Identifier: MIT */
/*
 * profile.c - a Docker/OCI JSON seccomp profile, compiled to classic BPF.
 *
 * DOC: Theory of operation
 * Three layers, each usable alone: seccomp_profile_load() reads a file (a
 * regular file of at most 1 MiB), seccomp_profile_parse() turns text into a
 * json-c object, and seccomp_profile_compile() turns that object - a Docker
 * profile, or an OCI config's linux.seccomp, which has the same fields -
 * into libseccomp rules and exports them as BPF into a memfd, read back into
 * the struct seccomp_prog the built-in filters use too.  json-c and libseccomp
 * are dlopen()ed on first use and stay loaded; nothing else in usbox loads
 * them.
 *
 * The semantics follow runc and Docker: a rule's comparisons on distinct
 * arguments must all hold; several on one argument make one rule each (as
 * runc does, since libseccomp takes an argument once per rule); a rule whose
 * action is the default one is dropped; names libseccomp does not know are
 * skipped.  Every other problem - not JSON, a wrong type, an unknown action,
 * op or architecture - is one line naming the field, e.g.
 * "syscalls[3].action: 'SCMP_ACT_FOO' is not an action".
 */
#include "seccomp.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"

#define SCMP_FUNCS(X)                    \
	X(seccomp_init)                  \
	X(seccomp_release)               \
	X(seccomp_arch_add)              \
	X(seccomp_arch_native)           \
	X(seccomp_arch_resolve_name)     \
	X(seccomp_syscall_resolve_name)  \
	X(seccomp_rule_add_array)        \
	X(seccomp_attr_set)              \
	X(seccomp_export_bpf)

static struct {
#define FIELD(name) __typeof__(name) *name;
	SCMP_FUNCS(FIELD)
#undef FIELD
	bool loaded;
} api;

#define MAX_ARGS 64      /* comparisons in one rule of a profile */
#define FIELD_LEN 128    /* a field's name in messages, e.g. syscalls[3].args[0].op */
#define MAX_ERRNO 4095

/* What compiling one profile needs. */
struct pctx {
	scmp_filter_ctx f;
	const char *what;
	struct ubx_err *e;
	uint32_t native;
	uint32_t default_action;
	unsigned kernel[2]; /* the running kernel's major.minor */
};

/* One action: its libseccomp value is base | errnoRet for those that take one. */
struct action {
	const char *name;
	uint32_t base;
	bool takes_ret;
	unsigned ret_max, ret_default;
};

static const struct action actions[] = {
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false, 0, 0 },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true, MAX_ERRNO, EPERM },
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL, false, 0, 0 },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false, 0, 0 },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false, 0, 0 },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false, 0, 0 },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true, 0xffff, EPERM },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG, false, 0, 0 },
};

static const struct {
	const char *name;
	enum scmp_compare op;
} ops[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
	{ "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* The names includes/excludes use for the native architecture: Docker's
 * (Go's GOARCH) and libseccomp's. */
static const struct {
	uint32_t arch;
	const char *names[2];
} native_names[] = {
	{ SCMP_ARCH_X86_64, { "amd64", "x86_64" } },  { SCMP_ARCH_X86, { "386", "x86" } },
	{ SCMP_ARCH_AARCH64, { "arm64", "aarch64" } }, { SCMP_ARCH_ARM, { "arm", "arm" } },
	{ SCMP_ARCH_PPC64LE, { "ppc64le", "ppc64le" } }, { SCMP_ARCH_S390X, { "s390x", "s390x" } },
	{ SCMP_ARCH_RISCV64, { "riscv64", "riscv64" } },
};

static void *open_lib(const char *soname, const char *pkg, const char *what, struct ubx_err *e)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		ubx_fail(e, 0, "%s: a JSON profile needs %s (apt-get install %s): %s", what, soname, pkg, dlerror());
	return lib;
}

/* Loads json-c and libseccomp once; they stay loaded for the process. */
static int load_api(const char *what, struct ubx_err *e)
{
	void *scmp;
	int r;

	if (api.loaded)
		return 0;
	if ((r = jsonc_load(what, e)) < 0)
		return r;
	if (!(scmp = open_lib("libseccomp.so.2", "libseccomp2", what, e)))
		return -ENOENT;
#define LOAD(lib, label, name)                                                               \
	do {                                                                                 \
		if (!(api.name = (__typeof__(name) *)dlsym(lib, #name)))                     \
			return ubx_fail(e, 0, "%s: %s lacks %s (too old?)", what, label, #name); \
	} while (0)
#define LOAD_SCMP(name) LOAD(scmp, "libseccomp", name);
	SCMP_FUNCS(LOAD_SCMP)
#undef LOAD_SCMP
#undef LOAD
	api.loaded = true;
	return 0;
}

/* bad() - fail with "WHAT: FIELD: message". */
__attribute__((format(printf, 3, 4))) static int bad(const struct pctx *c, const char *field, const char *fmt,
						      ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ubx_fail(c->e, 0, "%s: %s: %s", c->what, field, msg);
}

/* shown() - @s cut short and with anything unprintable replaced, for a message. */
static const char *shown(const char *s, char buf[64])
{
	size_t i = 0;
	for (; i < 60 && s[i]; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i])
		buf[i - 3] = buf[i - 2] = buf[i - 1] = '.';
	buf[i] = '\0';
	return buf;
}

/* field() - "@base.@key", or "@base[@index]" when @key is NULL; cut to fit. */
static const char *field(char out[FIELD_LEN], const char *base, const char *key, size_t index)
{
	if (key)
		snprintf(out, FIELD_LEN, "%.100s%s%s", base, *base ? "." : "", key);
	else
		snprintf(out, FIELD_LEN, "%.100s[%zu]", base, index);
	return out;
}

static int expect(const struct pctx *c, struct json_object *o, enum json_type t, const char *field,
		  const char *want)
{
	if (jsonc.json_object_get_type(o) == t)
		return 0;
	return bad(c, field, "not %s but %s", want, jsonc_type_name(o));
}

static int get_string(const struct pctx *c, struct json_object *o, const char *field, const char **out)
{
	int r = expect(c, o, json_type_string, field, "a string");
	if (r == 0)
		*out = jsonc.json_object_get_string(o);
	return r;
}

static int get_u64(const struct pctx *c, struct json_object *o, const char *field, uint64_t *out)
{
	int r = expect(c, o, json_type_int, field, "an integer");
	if (r < 0)
		return r;
	if (jsonc.json_object_get_int64(o) < 0)
		return bad(c, field, "%lld is negative", (long long)jsonc.json_object_get_int64(o));
	*out = jsonc.json_object_get_uint64(o);
	return 0;
}

/* get_array() - @o as an array (NULL: empty), with its length. */
static int get_array(const struct pctx *c, struct json_object *o, const char *field, size_t *n)
{
	*n = 0;
	if (!o)
		return 0;
	int r = expect(c, o, json_type_array, field, "an array");
	if (r == 0)
		*n = jsonc.json_object_array_length(o);
	return r;
}

/* get_string_at() - element @i of the array @o, which must be a string. */
static int get_string_at(const struct pctx *c, struct json_object *o, size_t i, const char *name,
			 const char **out)
{
	char at[FIELD_LEN];
	return get_string(c, jsonc.json_object_array_get_idx(o, i), field(at, name, NULL, i), out);
}

static int parse_action(const struct pctx *c, struct json_object *o, const char *base, const char *key,
			const char *ret_key, uint32_t *out)
{
	char at[FIELD_LEN], ret_at[FIELD_LEN], buf[64];
	struct json_object *name_o = jsonc_member(o, key), *ret_o = jsonc_member(o, ret_key);
	const char *name = "", *what = field(at, base, key, 0), *ret_field = field(ret_at, base, ret_key, 0);
	uint64_t ret;
	int r;

	if (!name_o)
		return bad(c, what, "missing");
	if ((r = get_string(c, name_o, what, &name)) < 0)
		return r;
	if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
		return bad(c, what, "'SCMP_ACT_NOTIFY' needs a listener, which usbox does not run");
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		const struct action *a = &actions[i];
		if (strcmp(name, a->name) != 0)
			continue;
		if (ret_o && !a->takes_ret)
			return bad(c, ret_field, "goes only with SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
		ret = a->ret_default;
		if (ret_o && (r = get_u64(c, ret_o, ret_field, &ret)) < 0)
			return r;
		if (ret > a->ret_max && a->takes_ret)
			return bad(c, ret_field, "%llu is out of range (0-%u)", (unsigned long long)ret, a->ret_max);
		*out = a->base | (uint32_t)ret;
		return 0;
	}
	return bad(c, what, "'%s' is not an action", shown(name, buf));
}

/* add_arch() - add the architecture named "SCMP_ARCH_..." to the filter. */
static int add_arch(const struct pctx *c, const char *name, const char *field)
{
	char lower[32], buf[64];
	size_t i = 0;
	uint32_t arch = 0;

	if (strncmp(name, "SCMP_ARCH_", 10) == 0 && strlen(name + 10) < sizeof(lower)) {
		for (; name[10 + i]; i++)
			lower[i] = (char)tolower((unsigned char)name[10 + i]);
		lower[i] = '\0';
		arch = api.seccomp_arch_resolve_name(lower);
	}
	if (arch == 0)
		return bad(c, field, "'%s' is not an architecture libseccomp knows", shown(name, buf));
	int r = api.seccomp_arch_add(c->f, arch);
	if (r < 0 && r != -EEXIST)
		return ubx_fail(c->e, -r, "%s: %s: add architecture %s", c->what, field, name);
	return 0;
}

/* is_native() - whether @name ("SCMP_ARCH_...") names the native architecture. */
static bool is_native(const struct pctx *c, const char *name)
{
	char lower[32];
	size_t i = 0;

	if (strncmp(name, "SCMP_ARCH_", 10) != 0 || strlen(name + 10) >= sizeof(lower))
		return false;
	for (; name[10 + i]; i++)
		lower[i] = (char)tolower((unsigned char)name[10 + i]);
	lower[i] = '\0';
	return api.seccomp_arch_resolve_name(lower) == c->native;
}

static int add_arch_list(const struct pctx *c, struct json_object *list, const char *name)
{
	char at[FIELD_LEN];
	const char *arch = "";
	size_t n;
	int r = get_array(c, list, name, &n);

	for (size_t i = 0; r == 0 && i < n; i++)
		if ((r = get_string_at(c, list, i, name, &arch)) == 0)
			r = add_arch(c, arch, field(at, name, NULL, i));
	return r;
}

/* The native architecture's archMap entry adds its sub-architectures. */
static int parse_arch_map(const struct pctx *c, struct json_object *map, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct json_object *entry = jsonc.json_object_array_get_idx(map, i);
		char at[FIELD_LEN], sub[FIELD_LEN];
		const char *name = "";
		int r;

		field(at, "archMap", NULL, i);
		if ((r = expect(c, entry, json_type_object, at, "an object")) < 0)
			return r;
		if (!jsonc_member(entry, "architecture"))
			return bad(c, field(sub, at, "architecture", 0), "missing");
		if ((r = get_string(c, jsonc_member(entry, "architecture"), field(sub, at, "architecture", 0), &name)) < 0)
			return r;
		if (!is_native(c, name))
			continue;
		if ((r = add_arch_list(c, jsonc_member(entry, "subArchitectures"), field(sub, at, "subArchitectures", 0))) < 0)
			return r;
	}
	return 0;
}

static int parse_arches(const struct pctx *c, struct json_object *spec)
{
	struct json_object *list = jsonc_member(spec, "architectures"), *map = jsonc_member(spec, "archMap");
	size_t n_list, n_map;
	int r;

	if ((r = get_array(c, list, "architectures", &n_list)) < 0 ||
	    (r = get_array(c, map, "archMap", &n_map)) < 0)
		return r;
	if (n_list && n_map)
		return bad(c, "archMap", "given with 'architectures' too; use one of them");
	if ((r = add_arch_list(c, list, "architectures")) < 0)
		return r;
	return parse_arch_map(c, map, n_map);
}

/* parse_kernel() - "MAJOR.MINOR" (more after it is ignored). */
static bool parse_kernel(const char *s, unsigned v[2])
{
	char *end;
	for (int i = 0; i < 2; i++) {
		if (!isdigit((unsigned char)*s))
			return false;
		unsigned long n = strtoul(s, &end, 10);
		if (n > 100000 || (i == 0 && *end != '.'))
			return false;
		v[i] = (unsigned)n;
		s = end + 1;
	}
	return true;
}

static bool list_has(struct json_object *list, size_t n, const char *const *names, size_t n_names)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n_names; j++)
			if (names[j] && strcmp(jsonc.json_object_get_string(jsonc.json_object_array_get_idx(list, i)),
					       names[j]) == 0)
				return true;
	return false;
}

/* One includes or excludes object's verdict: whether each of its conditions
 * holds (an absent one counts as holding for includes, not for excludes). */
static int eval_filter(const struct pctx *c, struct json_object *o, const char *name, bool include,
		       bool *applies)
{
	char at[FIELD_LEN];
	const char *const *native = NULL;
	const char *s;
	size_t n;
	int r;

	*applies = true;
	if (!o)
		return 0;
	if ((r = expect(c, o, json_type_object, name, "an object")) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(native_names); i++)
		if (native_names[i].arch == c->native)
			native = native_names[i].names;
	/* arches: the rule is for (includes) or not for (excludes) the native one */
	field(at, name, "arches", 0);
	struct json_object *arches = jsonc_member(o, "arches");
	if ((r = get_array(c, arches, at, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = get_string_at(c, arches, i, at, &s)) < 0)
			return r;
	if (n && list_has(arches, n, native, native ? 2 : 0) != include)
		*applies = false;
	/* caps: noted only; usbox grants none of them */
	field(at, name, "caps", 0);
	struct json_object *caps = jsonc_member(o, "caps");
	if ((r = get_array(c, caps, at, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = get_string_at(c, caps, i, at, &s)) < 0)
			return r;
	if (n && include)
		*applies = false;
	/* minKernel: the running kernel is at least (includes) or below (excludes) it */
	field(at, name, "minKernel", 0);
	struct json_object *min = jsonc_member(o, "minKernel");
	unsigned v[2];
	if (min) {
		if ((r = get_string(c, min, at, &s)) < 0)
			return r;
		if (!parse_kernel(s, v))
			return bad(c, at, "not a kernel version such as \"4.8\"");
		bool newer = c->kernel[0] > v[0] || (c->kernel[0] == v[0] && c->kernel[1] >= v[1]);
		if (newer != include)
			*applies = false;
	}
	return 0;
}

/* rule_applies() - the verdict of the rule's includes and excludes. */
static int rule_applies(const struct pctx *c, struct json_object *rule, const char *at, bool *applies)
{
	char name[FIELD_LEN];
	bool inc, exc;
	int r;

	if ((r = eval_filter(c, jsonc_member(rule, "includes"), field(name, at, "includes", 0), true, &inc)) < 0 ||
	    (r = eval_filter(c, jsonc_member(rule, "excludes"), field(name, at, "excludes", 0), false, &exc)) < 0)
		return r;
	*applies = inc && exc;
	return 0;
}

static int parse_op(const struct pctx *c, struct json_object *arg, const char *at, enum scmp_compare *op)
{
	char op_at[FIELD_LEN], buf[64];
	const char *name = "", *what = field(op_at, at, "op", 0);
	int r;

	if (!jsonc_member(arg, "op"))
		return bad(c, what, "missing");
	if ((r = get_string(c, jsonc_member(arg, "op"), what, &name)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (strcmp(name, ops[i].name) == 0) {
			*op = ops[i].op;
			return 0;
		}
	return bad(c, what, "'%s' is not a comparison", shown(name, buf));
}

/* parse_arg() - one of args[]: {index, value, valueTwo, op}. */
static int parse_arg(const struct pctx *c, struct json_object *arg, const char *at, struct scmp_arg_cmp *out)
{
	char f[FIELD_LEN];
	uint64_t index = 0, value = 0, two = 0;
	enum scmp_compare op = SCMP_CMP_EQ;
	int r;

	if ((r = expect(c, arg, json_type_object, at, "an object")) < 0)
		return r;
	if (!jsonc_member(arg, "index"))
		return bad(c, field(f, at, "index", 0), "missing");
	if ((r = get_u64(c, jsonc_member(arg, "index"), field(f, at, "index", 0), &index)) < 0)
		return r;
	if (index > 5)
		return bad(c, f, "%llu is not an argument (0-5)", (unsigned long long)index);
	if (jsonc_member(arg, "value") && (r = get_u64(c, jsonc_member(arg, "value"), field(f, at, "value", 0), &value)) < 0)
		return r;
	if (jsonc_member(arg, "valueTwo") &&
	    (r = get_u64(c, jsonc_member(arg, "valueTwo"), field(f, at, "valueTwo", 0), &two)) < 0)
		return r;
	if ((r = parse_op(c, arg, at, &op)) < 0)
		return r;
	*out = (struct scmp_arg_cmp){ .arg = (unsigned)index, .op = op, .datum_a = value, .datum_b = two };
	return 0;
}

/* The comparisons of one rule. */
struct conds {
	struct scmp_arg_cmp v[MAX_ARGS];
	unsigned n;
	bool split; /* an argument compared twice: one rule per comparison */
};

static int parse_args(const struct pctx *c, struct json_object *rule, const char *at, struct conds *out)
{
	struct json_object *args = jsonc_member(rule, "args");
	char name[FIELD_LEN], item[FIELD_LEN];
	unsigned seen = 0;
	size_t n;
	int r;

	if ((r = get_array(c, args, field(name, at, "args", 0), &n)) < 0)
		return r;
	if (n > MAX_ARGS)
		return bad(c, name, "more than %d comparisons", MAX_ARGS);
	*out = (struct conds){ .n = (unsigned)n };
	for (size_t i = 0; i < n; i++) {
		field(item, name, NULL, i);
		if ((r = parse_arg(c, jsonc.json_object_array_get_idx(args, i), item, &out->v[i])) < 0)
			return r;
		if (seen & 1u << out->v[i].arg)
			out->split = true;
		seen |= 1u << out->v[i].arg;
	}
	return 0;
}

/* add_rule() - @name's rule(s); a name libseccomp does not know is skipped. */
static int add_rule(const struct pctx *c, const char *at, const char *name, uint32_t action,
		    const struct conds *conds)
{
	char buf[64];
	int nr = api.seccomp_syscall_resolve_name(name), r = 0;

	if (nr == __NR_SCMP_ERROR)
		return 0;
	if (!conds->split)
		r = api.seccomp_rule_add_array(c->f, action, nr, conds->n, conds->v);
	for (unsigned i = 0; conds->split && r == 0 && i < conds->n; i++)
		r = api.seccomp_rule_add_array(c->f, action, nr, 1, &conds->v[i]);
	if (r < 0)
		return ubx_fail(c->e, -r, "%s: %s: libseccomp refuses the rule for %s", c->what, at,
				shown(name, buf));
	return 0;
}

/* parse_names() - the rule's "names" array, or its single "name". */
static int parse_names(const struct pctx *c, struct json_object *rule, const char *at, struct json_object **list,
		       size_t *n, const char **single)
{
	char f[FIELD_LEN];
	int r;

	*list = jsonc_member(rule, "names");
	*single = NULL;
	*n = 0;
	if (*list) {
		if ((r = get_array(c, *list, field(f, at, "names", 0), n)) < 0)
			return r;
		for (size_t i = 0; i < *n; i++)
			if ((r = get_string_at(c, *list, i, f, single)) < 0)
				return r;
		*single = NULL;
		return 0;
	}
	if (!jsonc_member(rule, "name"))
		return bad(c, at, "has neither 'names' nor 'name'");
	return get_string(c, jsonc_member(rule, "name"), field(f, at, "name", 0), single);
}

static int parse_rule(const struct pctx *c, struct json_object *rule, size_t index)
{
	char at[FIELD_LEN];
	struct json_object *list;
	struct conds conds;
	const char *single;
	uint32_t action;
	bool applies;
	size_t n;
	int r;

	field(at, "syscalls", NULL, index);
	if ((r = expect(c, rule, json_type_object, at, "an object")) < 0 ||
	    (r = parse_names(c, rule, at, &list, &n, &single)) < 0 ||
	    (r = parse_action(c, rule, at, "action", "errnoRet", &action)) < 0 ||
	    (r = parse_args(c, rule, at, &conds)) < 0 || (r = rule_applies(c, rule, at, &applies)) < 0)
		return r;
	if (!applies || action == c->default_action) /* libseccomp refuses the latter */
		return 0;
	if (single)
		return add_rule(c, at, single, action, &conds);
	for (size_t i = 0; i < n; i++) {
		const char *name = jsonc.json_object_get_string(jsonc.json_object_array_get_idx(list, i));
		if ((r = add_rule(c, at, name, action, &conds)) < 0)
			return r;
	}
	return 0;
}

static int parse_syscalls(const struct pctx *c, struct json_object *spec)
{
	struct json_object *list = jsonc_member(spec, "syscalls");
	size_t n;
	int r = get_array(c, list, "syscalls", &n);

	for (size_t i = 0; r == 0 && i < n; i++)
		r = parse_rule(c, jsonc.json_object_array_get_idx(list, i), i);
	return r;
}

/* export_prog() - the filter as BPF, through a memfd. */
static int export_prog(const struct pctx *c, struct seccomp_prog *out)
{
	_cleanup_close_ int fd = memfd_create("usbox-seccomp", MFD_CLOEXEC);
	_cleanup_free_ struct sock_filter *prog = NULL;
	off_t size;
	int r;

	if (fd < 0)
		return ubx_fail(c->e, errno, "%s: memfd", c->what);
	if ((r = api.seccomp_export_bpf(c->f, fd)) < 0)
		return ubx_fail(c->e, -r, "%s: export the filter", c->what);
	if ((size = lseek(fd, 0, SEEK_END)) < 0)
		return ubx_fail(c->e, errno, "%s: export the filter", c->what);
	size_t len = (size_t)size / sizeof(*prog);
	if (len == 0 || len > BPF_MAXINSNS)
		return ubx_fail(c->e, 0, "%s: the filter has %zu instructions; the kernel takes 1 to %d", c->what,
				len, BPF_MAXINSNS);
	if (!(prog = malloc(len * sizeof(*prog))))
		return ubx_fail(c->e, ENOMEM, "%s", c->what);
	if (pread(fd, prog, len * sizeof(*prog), 0) != (ssize_t)(len * sizeof(*prog)))
		return ubx_fail(c->e, EIO, "%s: read the exported filter", c->what);
	*out = (struct seccomp_prog){ .filter = TAKE_PTR(prog), .len = (unsigned short)len, .owned = true };
	return 0;
}

static void release_filter(scmp_filter_ctx *f)
{
	if (*f)
		api.seccomp_release(*f);
}

static void running_kernel(unsigned v[2])
{
	struct utsname u;
	v[0] = v[1] = 0;
	if (uname(&u) == 0)
		(void)parse_kernel(u.release, v);
}

int seccomp_profile_compile(struct json_object *spec, const char *what, struct seccomp_prog *out,
			    struct ubx_err *e)
{
	__attribute__((cleanup(release_filter))) scmp_filter_ctx f = NULL;
	struct pctx c = { .what = what, .e = e };
	int r;

	*out = (struct seccomp_prog){ 0 };
	if ((r = load_api(what, e)) < 0)
		return r;
	if (jsonc.json_object_get_type(spec) != json_type_object)
		return ubx_fail(e, 0, "%s: not a JSON object but %s", what, jsonc_type_name(spec));
	c.native = api.seccomp_arch_native();
	running_kernel(c.kernel);
	if ((r = parse_action(&c, spec, "", "defaultAction", "defaultErrnoRet", &c.default_action)) < 0)
		return r;
	if (!(f = c.f = api.seccomp_init(c.default_action)))
		return bad(&c, "defaultAction", "libseccomp or the kernel does not take it");
	(void)api.seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if ((r = parse_arches(&c, spec)) < 0 || (r = parse_syscalls(&c, spec)) < 0)
		return r;
	return export_prog(&c, out);
}

int seccomp_profile_parse(const char *text, size_t len, const char *what, struct seccomp_prog *out,
			  struct ubx_err *e)
{
	_cleanup_json_ struct json_object *spec = NULL;
	int r;

	*out = (struct seccomp_prog){ 0 };
	if ((r = jsonc_parse(text, len, SECCOMP_PROFILE_MAX, what, &spec, e)) < 0)
		return r;
	return seccomp_profile_compile(spec, what, out, e);
}

int seccomp_profile_load(const char *path, const char *what, struct seccomp_prog *out, struct ubx_err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t n = 0;

	*out = (struct seccomp_prog){ 0 };
	if (fd < 0)
		return ubx_fail(e, errno, "%s", what);
	if (fstat(fd, &st) < 0)
		return ubx_fail(e, errno, "%s", what);
	if (!S_ISREG(st.st_mode))
		return ubx_fail(e, 0, "%s: not a regular file", what);
	if (st.st_size > SECCOMP_PROFILE_MAX)
		return ubx_fail(e, 0, "%s: larger than 1 MiB", what);
	if (!(text = malloc(SECCOMP_PROFILE_MAX + 1)))
		return ubx_fail(e, ENOMEM, "%s", what);
	/* The file may grow between fstat and read: read one byte past the cap. */
	for (ssize_t got; n <= SECCOMP_PROFILE_MAX; n += (size_t)got) {
		got = read(fd, text + n, SECCOMP_PROFILE_MAX + 1 - n);
		if (got < 0 && errno == EINTR)
			got = 0;
		else if (got < 0)
			return ubx_fail(e, errno, "%s", what);
		else if (got == 0)
			break;
	}
	if (n > SECCOMP_PROFILE_MAX)
		return ubx_fail(e, 0, "%s: larger than 1 MiB", what);
	return seccomp_profile_parse(text, n, what, out, e);
}

void seccomp_prog_free(struct seccomp_prog *p)
{
	if (!p)
		return;
	if (p->owned)
		free(p->filter);
	*p = (struct seccomp_prog){ 0 };
}
