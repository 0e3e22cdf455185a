/* SPDX-License-Identifier: MIT */
/*
 * config.c - config.json (OCI runtime-spec 1.x) into struct oci_config.
 *
 * DOC: Theory of operation
 * The text is parsed with json-c (dlopen()ed, common/jsonc.c) and walked
 * section by section: root, process, mounts, hostname, linux, annotations.
 * Each object's keys are checked against the list this runtime knows, so a
 * misspelt or unsupported field is named rather than ignored; values are
 * checked for type and range.  Mounts of the kinds usbox makes itself
 * (proc, sysfs, devpts, the /dev tmpfs, cgroup) must be at their usual
 * places and are then left to sandbox/mounts.c; binds, tmpfs and mqueue
 * become the spec's mounts.  Namespaces without a path are made, with a path
 * joined (by the caller, before the clone), and absent ones shared.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "../common/parse.h"
#include "fields.h"

#define CONFIG_MAX (4u << 20)
#define FIELD OCI_FIELD

struct ctx {
	struct oci_fields f; /* the file, for messages */
	struct oci_config *c;
};

static void note_ignored(const struct ctx *x, const char *field)
{
	size_t n = strlen(x->c->ignored);
	snprintf(x->c->ignored + n, sizeof(x->c->ignored) - n, "%s%s", n ? ", " : "", field);
}

/* ---------------------------------------------------------------- root */

static int parse_root(const struct ctx *x, struct json_object *top)
{
	static const char *const keys[] = { "path", "readonly", NULL };
	struct json_object *o;
	_cleanup_free_ char *path = NULL;
	int r = oci_field_object(&x->f, top, "root", "", keys, &o);
	if (r < 0)
		return r;
	if (!o || !jsonc_member(o, "path"))
		return oci_field_bad(&x->f, "root.path", "missing");
	if ((r = oci_field_string(&x->f, jsonc_member(o, "path"), "root.path", &path)) < 0 ||
	    (r = oci_field_boolean(&x->f, o, "readonly", "root", &x->c->spec.root.readonly)) < 0)
		return r;
	if (!path[0])
		return oci_field_bad(&x->f, "root.path", "empty");
	struct ubx_spec *s = &x->c->spec;
	s->root.kind = ROOT_DIR;
	if (path[0] == '/')
		s->root.path = TAKE_PTR(path);
	else if (asprintf(&s->root.path, "%s/%s", x->c->bundle, path) < 0)
		return ubx_fail(x->f.e, ENOMEM, "config.json");
	return 0;
}

/* ---------------------------------------------------------------- process */

static int parse_user(const struct ctx *x, struct json_object *proc)
{
	static const char *const keys[] = { "uid", "gid", "umask", "additionalGids", NULL };
	struct json_object *o, *groups;
	int64_t v;
	bool set;
	struct ubx_spec *s = &x->c->spec;
	int r = oci_field_object(&x->f, proc, "user", "process", keys, &o);
	if (r < 0 || !o)
		return r;
	if ((r = oci_field_integer(&x->f, o, "uid", "process.user", 0, UINT32_MAX - 1, &v, &set)) < 0)
		return r;
	s->uid = set ? (uint32_t)v : 0;
	if ((r = oci_field_integer(&x->f, o, "gid", "process.user", 0, UINT32_MAX - 1, &v, &set)) < 0)
		return r;
	s->gid = set ? (uint32_t)v : 0;
	if ((r = oci_field_integer(&x->f, o, "umask", "process.user", 0, 0777, &v, &set)) < 0)
		return r;
	s->oci.umask = set ? (int)v : -1;
	if (!(groups = jsonc_member(o, "additionalGids")))
		return 0;
	size_t n;
	if ((r = oci_field_array(&x->f, groups, "process.user.additionalGids", &n)) < 0)
		return r;
	if (n > 64)
		return oci_field_bad(&x->f, "process.user.additionalGids", "more than 64 groups");
	if (!(s->oci.groups = calloc(n ? n : 1, sizeof(uint32_t))))
		return ubx_fail(x->f.e, ENOMEM, "config.json");
	for (size_t i = 0; i < n; i++) {
		char f[FIELD];
		struct json_object *g = jsonc.json_object_array_get_idx(groups, i);
		if ((r = oci_field_expect(&x->f, g, json_type_int,
					  oci_field_at_index(f, "process.user.additionalGids", i))) < 0)
			return r;
		int64_t gid = jsonc.json_object_get_int64(g);
		if (gid < 0 || gid >= UINT32_MAX)
			return oci_field_bad(&x->f, f, "out of range");
		s->oci.groups[s->oci.n_groups++] = (uint32_t)gid;
	}
	return 0;
}

static int cap_list(const struct ctx *x, struct json_object *caps, const char *key, uint64_t *out)
{
	char f[FIELD], g[FIELD];
	size_t n;
	struct json_object *o = jsonc_member(caps, key);
	if (!o)
		return 0;
	int r = oci_field_array(&x->f, o, oci_field_at(f, "process.capabilities", key), &n);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct json_object *c = jsonc.json_object_array_get_idx(o, i);
		bool all = false;
		char badname[64];
		if ((r = oci_field_expect(&x->f, c, json_type_string, oci_field_at_index(g, f, i))) < 0)
			break;
		const char *name = jsonc.json_object_get_string(c);
		if (strchr(name, ',') || strncasecmp(name, "CAP_", 4) != 0)
			return oci_field_bad(&x->f, g, "\"%.60s\" is not a capability name", name);
		if (parse_capabilities(name, out, &all, badname, sizeof(badname)) < 0)
			note_ignored(x, g); /* newer than this kernel's headers: runc skips them too */
	}
	return r;
}

static int parse_capabilities_obj(const struct ctx *x, struct json_object *proc)
{
	static const char *const keys[] = { "bounding", "effective", "permitted", "inheritable", "ambient", NULL };
	struct json_object *o;
	int r = oci_field_object(&x->f, proc, "capabilities", "process", keys, &o);
	if (r < 0 || !o)
		return r;
	for (int i = 0; i < 5 && r == 0; i++)
		r = cap_list(x, o, keys[i], &x->c->spec.oci.caps[i]);
	return r;
}

/* RLIMIT_NAME's number, or -1. */
static int rlimit_number(const char *name)
{
	static const char *const names[RLIMIT_NLIMITS] = {
		[RLIMIT_AS] = "AS",	    [RLIMIT_CORE] = "CORE",	  [RLIMIT_CPU] = "CPU",
		[RLIMIT_DATA] = "DATA",	    [RLIMIT_FSIZE] = "FSIZE",	  [RLIMIT_LOCKS] = "LOCKS",
		[RLIMIT_MEMLOCK] = "MEMLOCK", [RLIMIT_MSGQUEUE] = "MSGQUEUE", [RLIMIT_NICE] = "NICE",
		[RLIMIT_NOFILE] = "NOFILE", [RLIMIT_NPROC] = "NPROC",	  [RLIMIT_RSS] = "RSS",
		[RLIMIT_RTPRIO] = "RTPRIO", [RLIMIT_RTTIME] = "RTTIME",	  [RLIMIT_SIGPENDING] = "SIGPENDING",
		[RLIMIT_STACK] = "STACK",
	};
	for (int i = 0; strncmp(name, "RLIMIT_", 7) == 0 && i < RLIMIT_NLIMITS; i++)
		if (names[i] && strcmp(names[i], name + 7) == 0)
			return i;
	return -1;
}

static int parse_rlimits(const struct ctx *x, struct json_object *proc)
{
	static const char *const keys[] = { "type", "soft", "hard", NULL };
	struct json_object *o = jsonc_member(proc, "rlimits");
	struct spec_oci *oc = &x->c->spec.oci;
	char f[FIELD], g[FIELD];
	size_t n;
	if (!o)
		return 0;
	int r = oci_field_array(&x->f, o, "process.rlimits", &n);
	if (r == 0 && n > 64)
		return oci_field_bad(&x->f, "process.rlimits", "more than 64 entries");
	if (r < 0)
		return r;
	if (!(oc->rlimits = calloc(n ? n : 1, sizeof(*oc->rlimits))))
		return ubx_fail(x->f.e, ENOMEM, "config.json");
	for (size_t i = 0; i < n; i++) {
		struct json_object *l = jsonc.json_object_array_get_idx(o, i);
		struct spec_rlimit *rl = &oc->rlimits[i];
		_cleanup_free_ char *type = NULL;
		oci_field_at_index(f, "process.rlimits", i);
		if ((r = oci_field_expect(&x->f, l, json_type_object, f)) < 0 ||
		    (r = oci_field_known_keys(&x->f, l, f, keys)) < 0)
			return r;
		if (!jsonc_member(l, "type") || !jsonc_member(l, "soft") || !jsonc_member(l, "hard"))
			return oci_field_bad(&x->f, f, "needs type, soft and hard");
		if ((r = oci_field_string(&x->f, jsonc_member(l, "type"), oci_field_at(g, f, "type"), &type)) < 0)
			return r;
		if ((rl->resource = rlimit_number(type)) < 0)
			return oci_field_bad(&x->f, g, "unknown limit \"%.40s\"", type);
		if ((r = oci_field_u64(&x->f, jsonc_member(l, "soft"), oci_field_at(g, f, "soft"), &rl->soft)) < 0 ||
		    (r = oci_field_u64(&x->f, jsonc_member(l, "hard"), oci_field_at(g, f, "hard"), &rl->hard)) < 0)
			return r;
		if (rl->soft > rl->hard)
			return oci_field_bad(&x->f, f, "soft above hard");
		oc->n_rlimits++;
	}
	return 0;
}

/* Labels of security modules usbox does not drive: refused when asked for. */
static int refuse_label(const struct ctx *x, struct json_object *proc, const char *key, const char *what)
{
	char f[FIELD];
	_cleanup_free_ char *v = NULL;
	int r = oci_field_string_opt(&x->f, proc, key, "process", &v);
	if (r < 0 || !v || !v[0])
		return r;
	return oci_field_bad(&x->f, oci_field_at(f, "process", key),
			     "%s is not supported by usbox-oci (asked for \"%.60s\")", what, v);
}

static int parse_console(const struct ctx *x, struct json_object *proc)
{
	static const char *const keys[] = { "height", "width", NULL };
	struct json_object *o;
	int64_t v;
	bool set;
	int r = oci_field_object(&x->f, proc, "consoleSize", "process", keys, &o);
	if (r < 0 || !o)
		return r;
	if ((r = oci_field_integer(&x->f, o, "height", "process.consoleSize", 0, 65535, &v, &set)) < 0)
		return r;
	if ((r = oci_field_integer(&x->f, o, "width", "process.consoleSize", 0, 65535, &v, &set)) < 0)
		return r;
	return 0;
}

static const char *const process_keys[] = { "terminal", "consoleSize", "user", "args", "env", "cwd",
					   "capabilities", "rlimits", "noNewPrivileges", "apparmorProfile",
					   "oomScoreAdj", "selinuxLabel", NULL };

/* The process object @o into the spec. */
static int parse_process_obj(const struct ctx *x, struct json_object *o)
{
	struct ubx_spec *s = &x->c->spec;
	int64_t v;
	int r;
	if (!jsonc_member(o, "args") || !jsonc_member(o, "cwd"))
		return oci_field_bad(&x->f, "process", "needs args and cwd");
	if ((r = oci_field_strv(&x->f, jsonc_member(o, "args"), "process.args", &s->args)) < 0)
		return r;
	if (!s->args[0] || !s->args[0][0])
		return oci_field_bad(&x->f, "process.args", "empty");
	if (jsonc_member(o, "env") && (r = oci_field_strv(&x->f, jsonc_member(o, "env"), "process.env", &s->env)) < 0)
		return r;
	if (!s->env && !(s->env = calloc(1, sizeof(char *))))
		return ubx_fail(x->f.e, ENOMEM, "config.json");
	for (size_t i = 0; s->env[i]; i++)
		if (!strchr(s->env[i], '='))
			return oci_field_bad(&x->f, "process.env", "\"%.60s\" is not NAME=VALUE", s->env[i]);
	if ((r = oci_field_string(&x->f, jsonc_member(o, "cwd"), "process.cwd", &s->cwd)) < 0)
		return r;
	if (s->cwd[0] != '/')
		return oci_field_bad(&x->f, "process.cwd", "\"%.60s\" is not absolute", s->cwd);
	if ((r = oci_field_boolean(&x->f, o, "terminal", "process", &s->tty)) < 0 || (r = parse_console(x, o)) < 0 ||
	    (r = parse_user(x, o)) < 0 || (r = parse_capabilities_obj(x, o)) < 0 || (r = parse_rlimits(x, o)) < 0 ||
	    (r = oci_field_boolean(&x->f, o, "noNewPrivileges", "process", &s->oci.no_new_privs)) < 0 ||
	    (r = refuse_label(x, o, "apparmorProfile", "AppArmor")) < 0 ||
	    (r = refuse_label(x, o, "selinuxLabel", "SELinux")) < 0)
		return r;
	if ((r = oci_field_integer(&x->f, o, "oomScoreAdj", "process", -1000, 1000, &v, &s->oci.has_oom_score_adj)) < 0)
		return r;
	s->oci.oom_score_adj = (int)v;
	s->interactive = true; /* stdin is what the engine gives */
	return 0;
}

static int parse_process(const struct ctx *x, struct json_object *top)
{
	struct json_object *o;
	int r = oci_field_object(&x->f, top, "process", "", process_keys, &o);
	if (r < 0)
		return r;
	return o ? parse_process_obj(x, o) : oci_field_bad(&x->f, "process", "missing");
}

int oci_process_parse(const char *text, size_t len, struct oci_config *c, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct oci_config fresh = { .spec.oci.umask = -1 };
	struct ctx x = { .f = { .e = e, .what = "process.json", .sep = ": " }, .c = &fresh };
	int r = jsonc_parse(text, len, CONFIG_MAX, "process.json", &o, e);
	if (r == 0 && (r = oci_field_expect(&x.f, o, json_type_object, "process")) == 0 &&
	    (r = oci_field_known_keys(&x.f, o, "process", process_keys)) == 0)
		r = parse_process_obj(&x, o);
	if (r < 0) {
		spec_free(&fresh.spec);
		return r;
	}
	struct ubx_spec *s = &c->spec, *n = &fresh.spec;
	cleanup_strvp(&s->args), cleanup_strvp(&s->env), free(s->cwd), free(s->oci.groups), free(s->oci.rlimits);
	s->args = n->args, s->env = n->env, s->cwd = n->cwd, s->uid = n->uid, s->gid = n->gid, s->tty = n->tty;
	s->oci.groups = n->oci.groups, s->oci.n_groups = n->oci.n_groups, s->oci.umask = n->oci.umask;
	s->oci.rlimits = n->oci.rlimits, s->oci.n_rlimits = n->oci.n_rlimits;
	memcpy(s->oci.caps, n->oci.caps, sizeof(s->oci.caps));
	s->oci.no_new_privs = n->oci.no_new_privs;
	return 0;
}

/* ---------------------------------------------------------------- mounts */

/* The mounts sandbox/mounts.c makes itself, where it makes them. */
static const struct {
	const char *type, *dst;
} builtin_mounts[] = {
	{ "proc", "/proc" },         { "sysfs", "/sys" },         { "devpts", "/dev/pts" }, { "tmpfs", "/dev" },
	{ "cgroup", "/sys/fs/cgroup" }, { "cgroup2", "/sys/fs/cgroup" },
};

static bool is_builtin(const char *type, const char *dst)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtin_mounts); i++)
		if (strcmp(type, builtin_mounts[i].type) == 0 && strcmp(dst, builtin_mounts[i].dst) == 0)
			return true;
	return false;
}

/* One option of a bind or tmpfs mount. */
static int mount_option(const struct ctx *x, const char *field, const char *opt, struct mount_spec *m)
{
	static const char *const accepted[] = { "bind", "rbind", "rw", "private", "rprivate", "slave", "rslave",
						"shared", "rshared", "relatime", "norelatime", "strictatime",
						"nostrictatime", "atime", "noatime", "suid", "dev", "exec", "async",
						"unbindable", "runbindable", "tmpcopyup", "notmpcopyup",
						"copy-symlink", "idmap", "ridmap", NULL };
	if (strcmp(opt, "ro") == 0)
		m->readonly = true;
	else if (strcmp(opt, "nosuid") == 0)
		m->attrs |= MOUNT_ATTR_NOSUID;
	else if (strcmp(opt, "nodev") == 0)
		m->attrs |= MOUNT_ATTR_NODEV;
	else if (strcmp(opt, "noexec") == 0)
		m->attrs |= MOUNT_ATTR_NOEXEC;
	else if (m->kind == MOUNT_TMPFS && strncmp(opt, "size=", 5) == 0) {
		if (parse_size(opt + 5, &m->size) < 0)
			return oci_field_bad(&x->f, field, "bad size \"%.40s\"", opt + 5);
	} else if (m->kind == MOUNT_TMPFS && strncmp(opt, "mode=", 5) == 0) {
		char *end;
		errno = 0;
		unsigned long mode = strtoul(opt + 5, &end, 8);
		if (!opt[5] || *end || errno || mode > 07777 || opt[5] == '-' || opt[5] == '+' || opt[5] == ' ')
			return oci_field_bad(&x->f, field, "bad mode \"%.40s\"", opt + 5);
		m->mode = (uint32_t)mode;
	} else if (m->kind == MOUNT_BIND && strchr(opt, '=')) {
		/* a file system's data (mode=, size=): a bind mount has none; mount(2) ignores it */
	} else {
		const char *const *a = accepted;
		while (*a && strcmp(*a, opt) != 0)
			a++;
		if (!*a && strncmp(opt, "nr_inodes=", 10) != 0 && strcmp(opt, "z") != 0 && strcmp(opt, "Z") != 0)
			return oci_field_bad(&x->f, field, "option \"%.60s\" is not supported", opt);
	}
	return 0;
}

static int parse_mount(const struct ctx *x, struct json_object *o, const char *f)
{
	static const char *const keys[] = { "destination", "type", "source", "options", "uidMappings", "gidMappings",
					    NULL };
	struct ubx_spec *s = &x->c->spec;
	_cleanup_free_ char *dst = NULL, *type = NULL, *src = NULL;
	_cleanup_strv_ char **opts = NULL;
	char g[FIELD];
	int r;
	if ((r = oci_field_expect(&x->f, o, json_type_object, f)) < 0 ||
	    (r = oci_field_known_keys(&x->f, o, f, keys)) < 0)
		return r;
	if (jsonc_member(o, "uidMappings") || jsonc_member(o, "gidMappings"))
		return oci_field_bad(&x->f, f, "id-mapped mounts are not supported by usbox-oci");
	if (!jsonc_member(o, "destination"))
		return oci_field_bad(&x->f, oci_field_at(g, f, "destination"), "missing");
	if ((r = oci_field_string(&x->f, jsonc_member(o, "destination"), oci_field_at(g, f, "destination"), &dst)) <
		    0 ||
	    (r = oci_field_string_opt(&x->f, o, "type", f, &type)) < 0 ||
	    (r = oci_field_string_opt(&x->f, o, "source", f, &src)) < 0 ||
	    (jsonc_member(o, "options") &&
	     (r = oci_field_strv(&x->f, jsonc_member(o, "options"), oci_field_at(g, f, "options"), &opts)) < 0))
		return r;
	if (dst[0] != '/')
		return oci_field_bad(&x->f, oci_field_at(g, f, "destination"), "\"%.60s\" is not absolute", dst);
	bool bind = false;
	for (char **p = opts; p && *p; p++)
		bind |= strcmp(*p, "bind") == 0 || strcmp(*p, "rbind") == 0;
	if (!type && !bind)
		return oci_field_bad(&x->f, oci_field_at(g, f, "type"), "missing (and no bind option)");
	if (type && is_builtin(type, dst))
		return 0; /* made by usbox itself, as the spec's defaults */
	if (type && strcmp(type, "mqueue") == 0 && strcmp(dst, "/dev/mqueue") == 0) {
		s->dev_mqueue = true; /* with /dev: in the config's order, before /sys */
		return 0;
	}
	if (type && strcmp(type, "tmpfs") == 0 && strcmp(dst, "/dev/shm") == 0) {
		for (char **p = opts; p && *p; p++)
			if (strncmp(*p, "size=", 5) == 0 && parse_size(*p + 5, &s->shm_size) < 0)
				return oci_field_bad(&x->f, oci_field_at(g, f, "options"), "bad size \"%.40s\"",
						     *p + 5);
		return 0;
	}
	struct mount_spec m = { .mode = 01777 };
	if (bind || (type && (strcmp(type, "bind") == 0 || strcmp(type, "none") == 0)))
		m.kind = MOUNT_BIND;
	else if (strcmp(type, "tmpfs") == 0)
		m.kind = MOUNT_TMPFS;
	else if (strcmp(type, "mqueue") == 0)
		m.kind = MOUNT_MQUEUE;
	else
		return oci_field_bad(&x->f, f, "a %.20s mount at %.80s is not supported by usbox-oci", type, dst);
	if (m.kind == MOUNT_BIND && (!src || !src[0]))
		return oci_field_bad(&x->f, oci_field_at(g, f, "source"), "missing for a bind mount");
	for (char **p = opts; p && *p; p++)
		if ((r = mount_option(x, oci_field_at(g, f, "options"), *p, &m)) < 0)
			return r;
	if (m.kind == MOUNT_BIND && src[0] != '/') {
		char *abs;
		if (asprintf(&abs, "%s/%s", x->c->bundle, src) < 0)
			return ubx_fail(x->f.e, ENOMEM, "config.json");
		free(src);
		src = abs;
	}
	m.dst = TAKE_PTR(dst);
	m.src = m.kind == MOUNT_BIND ? TAKE_PTR(src) : NULL;
	s->mounts[s->n_mounts++] = m;
	return 0;
}

static int parse_mounts(const struct ctx *x, struct json_object *top)
{
	struct json_object *o = jsonc_member(top, "mounts");
	struct ubx_spec *s = &x->c->spec;
	char f[FIELD];
	size_t n;
	if (!o)
		return 0;
	int r = oci_field_array(&x->f, o, "mounts", &n);
	if (r < 0)
		return r;
	if (!(s->mounts = calloc(n ? n : 1, sizeof(*s->mounts))))
		return ubx_fail(x->f.e, ENOMEM, "config.json");
	for (size_t i = 0; i < n && r == 0; i++)
		r = parse_mount(x, jsonc.json_object_array_get_idx(o, i), oci_field_at_index(f, "mounts", i));
	return r;
}

/* ---------------------------------------------------------------- linux */

static int ns_flag(const char *type)
{
	static const struct {
		const char *name;
		int flag;
	} types[] = {
		{ "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS }, { "ipc", CLONE_NEWIPC },
		{ "uts", CLONE_NEWUTS }, { "user", CLONE_NEWUSER },   { "cgroup", CLONE_NEWCGROUP },
	};
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(types[i].name, type) == 0)
			return types[i].flag;
	return 0;
}

static int parse_namespace(const struct ctx *x, struct json_object *o, const char *f)
{
	static const char *const keys[] = { "type", "path", NULL };
	_cleanup_free_ char *type = NULL, *path = NULL;
	struct oci_config *c = x->c;
	char g[FIELD];
	int r;
	if ((r = oci_field_expect(&x->f, o, json_type_object, f)) < 0 ||
	    (r = oci_field_known_keys(&x->f, o, f, keys)) < 0)
		return r;
	if (!jsonc_member(o, "type"))
		return oci_field_bad(&x->f, oci_field_at(g, f, "type"), "missing");
	if ((r = oci_field_string(&x->f, jsonc_member(o, "type"), oci_field_at(g, f, "type"), &type)) < 0 ||
	    (r = oci_field_string_opt(&x->f, o, "path", f, &path)) < 0)
		return r;
	int flag = ns_flag(type);
	if (!flag)
		return oci_field_bad(&x->f, g, "namespace \"%.20s\" is not supported by usbox-oci", type);
	struct spec_oci *so = &c->spec.oci;
	if ((so->ns_new | so->ns_joined) & (uint64_t)flag)
		return oci_field_bad(&x->f, g, "namespace \"%.20s\" given twice", type);
	if (!path || !path[0]) {
		so->ns_new |= (uint64_t)flag;
		return 0;
	}
	if (path[0] != '/')
		return oci_field_bad(&x->f, oci_field_at(g, f, "path"), "\"%.60s\" is not absolute", path);
	so->join[so->n_join++] = (struct spec_ns_join){ .flag = flag, .path = TAKE_PTR(path) };
	so->ns_joined |= (uint64_t)flag;
	return 0;
}

static int parse_namespaces(const struct ctx *x, struct json_object *lx)
{
	struct json_object *o = jsonc_member(lx, "namespaces");
	char f[FIELD];
	size_t n = 0;
	int r = o ? oci_field_array(&x->f, o, "linux.namespaces", &n) : 0;
	if (r == 0 && n > SPEC_MAX_JOIN)
		return oci_field_bad(&x->f, "linux.namespaces", "more than %d entries", SPEC_MAX_JOIN);
	for (size_t i = 0; i < n && r == 0; i++)
		r = parse_namespace(x, jsonc.json_object_array_get_idx(o, i),
				    oci_field_at_index(f, "linux.namespaces", i));
	const struct spec_oci *so = &x->c->spec.oci;
	if (r == 0 && (so->ns_joined & CLONE_NEWNS) && (so->ns_new & CLONE_NEWUSER)) /* it could not mount there */
		return oci_field_bad(&x->f, "linux.namespaces", "a mount namespace joined by path needs the user "
				     "namespace that owns it (joined by path too), not a new one");
	if (r == 0 && !(oci_config_ns(x->c) & CLONE_NEWNS))
		return oci_field_bad(&x->f, "linux.namespaces", "a mount namespace (new, or joined by path) is required");
	return r;
}

static int parse_idmaps(const struct ctx *x, struct json_object *lx, const char *key, struct spec_idmap *out,
			size_t *n_out)
{
	static const char *const keys[] = { "containerID", "hostID", "size", NULL };
	struct json_object *o = jsonc_member(lx, key);
	char f[FIELD], g[FIELD];
	size_t n;
	if (!o)
		return 0;
	int r = oci_field_array(&x->f, o, oci_field_at(f, "linux", key), &n);
	if (r == 0 && n > SPEC_MAX_IDMAPS)
		return oci_field_bad(&x->f, f, "more than %d ranges", SPEC_MAX_IDMAPS);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct json_object *m = jsonc.json_object_array_get_idx(o, i);
		int64_t in, out_id, size;
		oci_field_at_index(g, f, i);
		if ((r = oci_field_expect(&x->f, m, json_type_object, g)) < 0 ||
		    (r = oci_field_known_keys(&x->f, m, g, keys)) < 0)
			return r;
		if (!jsonc_member(m, "containerID") || !jsonc_member(m, "hostID") || !jsonc_member(m, "size"))
			return oci_field_bad(&x->f, g, "needs containerID, hostID and size");
		if ((r = oci_field_integer(&x->f, m, "containerID", g, 0, UINT32_MAX - 1, &in, NULL)) < 0 ||
		    (r = oci_field_integer(&x->f, m, "hostID", g, 0, UINT32_MAX - 1, &out_id, NULL)) < 0 ||
		    (r = oci_field_integer(&x->f, m, "size", g, 1, UINT32_MAX, &size, NULL)) < 0)
			return r;
		if (in + size > (int64_t)UINT32_MAX || out_id + size > (int64_t)UINT32_MAX)
			return oci_field_bad(&x->f, g, "range past the last id");
		out[i] = (struct spec_idmap){ (uint32_t)in, (uint32_t)out_id, (uint32_t)size };
		*n_out = i + 1;
	}
	return r;
}

/* linux.resources: the cgroup writes it asks for (oci/resources.c); device
 * rules, hugepages, network classes and rdma, which rootless runtimes cannot
 * apply either, are noted. */
static int parse_resources(const struct ctx *x, struct json_object *lx)
{
	static const char *const ignorable[] = { "devices", "hugepageLimits", "network", "rdma", NULL };
	struct json_object *o = jsonc_member(lx, "resources");
	char f[FIELD];
	if (!o)
		return 0;
	int r = oci_resources_parse(o, "config.json: linux.resources", &x->c->limits, x->f.e);
	if (r < 0)
		return r;
	for (const char *const *k = ignorable; *k; k++)
		if (jsonc_member(o, *k))
			note_ignored(x, oci_field_at(f, "linux.resources", *k));
	x->c->has_limits = oci_limits_any(&x->c->limits);
	return 0;
}

static bool sysctl_key_ok(const char *k, size_t n)
{
	if (n == 0 || n > 128 || k[0] == '.' || k[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(k[i] == '.' || k[i] == '_' || k[i] == '-' || (k[i] >= 'a' && k[i] <= 'z') ||
		      (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9')) ||
		    (k[i] == '.' && k[i + 1] == '.'))
			return false;
	return true;
}

static int parse_sysctl(const struct ctx *x, struct json_object *lx)
{
	struct json_object *o = jsonc_member(lx, "sysctl");
	struct spec_oci *oc = &x->c->spec.oci;
	char f[FIELD];
	if (!o)
		return 0;
	int r = oci_field_expect(&x->f, o, json_type_object, "linux.sysctl");
	size_t n = r < 0 ? 0 : (size_t)jsonc.json_object_object_length(o), i = 0;
	if (r < 0 || n > 256)
		return r < 0 ? r : oci_field_bad(&x->f, "linux.sysctl", "more than 256 entries");
	if (!(oc->sysctl = calloc(n + 1, sizeof(char *))))
		return ubx_fail(x->f.e, ENOMEM, "config.json");
	struct json_object_iterator it = jsonc.json_object_iter_begin(o), end = jsonc.json_object_iter_end(o);
	for (; !jsonc.json_object_iter_equal(&it, &end); jsonc.json_object_iter_next(&it), i++) {
		const char *key = jsonc.json_object_iter_peek_name(&it);
		_cleanup_free_ char *v = NULL;
		snprintf(f, sizeof(f), "linux.sysctl[\"%.60s\"]", key);
		if (!sysctl_key_ok(key, strlen(key)))
			return oci_field_bad(&x->f, f, "not a sysctl name");
		if ((r = oci_field_string(&x->f, jsonc.json_object_iter_peek_value(&it), f, &v)) < 0)
			return r;
		if (asprintf(&oc->sysctl[i], "%s=%s", key, v) < 0)
			return ubx_fail(x->f.e, ENOMEM, "config.json");
	}
	return 0;
}

/* A path under /dev/ without "." or ".." components nor empty ones. */
static bool dev_path_ok(const char *p)
{
	if (strncmp(p, "/dev/", 5) != 0 || !p[5])
		return false;
	for (const char *c = p + 5; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n + (c[n] == '/');
		if (c[-1] == '/' && !*c)
			return false;
	}
	return true;
}

static int parse_device(const struct ctx *x, struct json_object *o, const char *f, struct spec_device *d)
{
	static const char *const keys[] = { "type", "path", "major", "minor", "fileMode", "uid", "gid", NULL };
	_cleanup_free_ char *type = NULL;
	int64_t major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;
	char g[FIELD];
	int r;
	if ((r = oci_field_expect(&x->f, o, json_type_object, f)) < 0 ||
	    (r = oci_field_known_keys(&x->f, o, f, keys)) < 0)
		return r;
	if (!jsonc_member(o, "path") || !jsonc_member(o, "type"))
		return oci_field_bad(&x->f, oci_field_at(g, f, jsonc_member(o, "path") ? "type" : "path"), "missing");
	if ((r = oci_field_string(&x->f, jsonc_member(o, "path"), oci_field_at(g, f, "path"), &d->path)) < 0 ||
	    (r = oci_field_string(&x->f, jsonc_member(o, "type"), oci_field_at(g, f, "type"), &type)) < 0 ||
	    (r = oci_field_integer(&x->f, o, "major", f, 0, 4095, &major, NULL)) < 0 ||
	    (r = oci_field_integer(&x->f, o, "minor", f, 0, 1048575, &minor, NULL)) < 0 ||
	    (r = oci_field_integer(&x->f, o, "fileMode", f, 0, 07777, &mode, NULL)) < 0 ||
	    (r = oci_field_integer(&x->f, o, "uid", f, 0, UINT32_MAX - 1, &uid, NULL)) < 0 ||
	    (r = oci_field_integer(&x->f, o, "gid", f, 0, UINT32_MAX - 1, &gid, NULL)) < 0)
		return r;
	if (!dev_path_ok(d->path))
		return oci_field_bad(&x->f, oci_field_at(g, f, "path"), "\"%.60s\" is not a path under /dev/", d->path);
	if (strcmp(type, "c") == 0 || strcmp(type, "u") == 0)
		d->type = S_IFCHR;
	else if (strcmp(type, "b") == 0)
		d->type = S_IFBLK;
	else if (strcmp(type, "p") == 0)
		d->type = S_IFIFO;
	else
		return oci_field_bad(&x->f, oci_field_at(g, f, "type"), "\"%.10s\" is not a device type (c, u, b, p)",
				     type);
	d->major = (uint32_t)major, d->minor = (uint32_t)minor, d->mode = (uint32_t)mode;
	d->uid = (uint32_t)uid, d->gid = (uint32_t)gid;
	return 0;
}

/* linux.devices: nodes usbox makes in its /dev (sandbox/mounts.c). */
static int parse_devices(const struct ctx *x, struct json_object *lx)
{
	struct json_object *o = jsonc_member(lx, "devices");
	struct spec_oci *oc = &x->c->spec.oci;
	char f[FIELD];
	size_t n;
	if (!o)
		return 0;
	int r = oci_field_array(&x->f, o, "linux.devices", &n);
	if (r < 0 || !n)
		return r;
	if (!(oc->devices = calloc(n, sizeof(*oc->devices))))
		return ubx_fail(x->f.e, ENOMEM, "config.json");
	for (size_t i = 0; i < n && r == 0; i++, oc->n_devices++)
		r = parse_device(x, jsonc.json_object_array_get_idx(o, i), oci_field_at_index(f, "linux.devices", i),
				 &oc->devices[i]);
	return r;
}

static int parse_paths(const struct ctx *x, struct json_object *lx, const char *key, char ***out)
{
	char f[FIELD];
	struct json_object *o = jsonc_member(lx, key);
	if (!o) /* none: sandbox/mounts.c's defaults are for usbox's own command line */
		return (*out = calloc(1, sizeof(char *))) ? 0 : ubx_fail(x->f.e, ENOMEM, "config.json");
	int r = oci_field_strv(&x->f, o, oci_field_at(f, "linux", key), out);
	for (char **p = *out; r == 0 && *p; p++)
		if ((*p)[0] != '/')
			return oci_field_bad(&x->f, f, "\"%.60s\" is not absolute", *p);
	return r;
}

static int parse_seccomp(const struct ctx *x, struct json_object *lx)
{
	struct json_object *o = jsonc_member(lx, "seccomp");
	x->c->spec.seccomp = SECCOMP_UNCONFINED; /* without linux.seccomp, as runc */
	if (!o)
		return 0;
	int r = oci_field_expect(&x->f, o, json_type_object, "linux.seccomp");
	return r < 0 ? r : seccomp_profile_compile(o, "config.json: linux.seccomp", &x->c->seccomp, x->f.e);
}

static int refuse_nonempty(const struct ctx *x, struct json_object *lx, const char *key)
{
	char f[FIELD];
	struct json_object *o = jsonc_member(lx, key);
	if (!o || (jsonc_is(o, json_type_string) && !jsonc.json_object_get_string(o)[0]) ||
	    (jsonc_is(o, json_type_object) && !jsonc.json_object_object_length(o)) ||
	    (jsonc_is(o, json_type_array) && !jsonc.json_object_array_length(o)))
		return 0;
	return oci_field_bad(&x->f, oci_field_at(f, "linux", key), "not supported by usbox-oci");
}

/* linux.rootfsPropagation: [r]shared, [r]slave, [r]private or [r]unbindable. */
static int parse_propagation(const struct ctx *x, struct json_object *lx)
{
	static const char *const names[] = { "shared", "slave", "private", "unbindable" };
	static const unsigned long flags[] = { MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE };
	_cleanup_free_ char *s = NULL;
	int r = oci_field_string_opt(&x->f, lx, "rootfsPropagation", "linux", &s);
	for (size_t i = 0; r == 0 && s && s[0] && i < 4; i++)
		if (strcmp(s + (s[0] == 'r'), names[i]) == 0) {
			x->c->spec.oci.root_propagation = flags[i] | (s[0] == 'r' ? MS_REC : 0);
			return 0;
		}
	return r < 0 || !s || !s[0] ? r : oci_field_bad(&x->f, "linux.rootfsPropagation", "\"%.40s\" is not "
							"[r]shared, [r]slave, [r]private or [r]unbindable", s);
}

static int parse_linux(const struct ctx *x, struct json_object *top)
{
	static const char *const keys[] = { "namespaces", "uidMappings", "gidMappings", "devices", "cgroupsPath",
					    "rootfsPropagation", "resources", "sysctl", "seccomp", "maskedPaths",
					    "readonlyPaths", "mountLabel", "intelRdt", "personality", "timeOffsets",
					    "memoryPolicy", NULL };
	struct spec_oci *oc = &x->c->spec.oci;
	struct json_object *o;
	int r = oci_field_object(&x->f, top, "linux", "", keys, &o);
	if (r < 0)
		return r;
	if (!o)
		return oci_field_bad(&x->f, "linux", "missing");
	if ((r = parse_namespaces(x, o)) < 0 ||
	    (r = parse_idmaps(x, o, "uidMappings", oc->uid_map, &oc->n_uid_map)) < 0 ||
	    (r = parse_idmaps(x, o, "gidMappings", oc->gid_map, &oc->n_gid_map)) < 0 ||
	    (r = oci_field_string_opt(&x->f, o, "cgroupsPath", "linux", &x->c->cgroups_path)) < 0 ||
	    (r = parse_resources(x, o)) < 0 || (r = parse_sysctl(x, o)) < 0 || (r = parse_seccomp(x, o)) < 0 ||
	    (r = parse_devices(x, o)) < 0 ||
	    (r = parse_paths(x, o, "maskedPaths", &x->c->spec.masked_paths)) < 0 ||
	    (r = parse_paths(x, o, "readonlyPaths", &x->c->spec.readonly_paths)) < 0 ||
	    (r = refuse_nonempty(x, o, "mountLabel")) < 0 || (r = refuse_nonempty(x, o, "intelRdt")) < 0 ||
	    (r = refuse_nonempty(x, o, "personality")) < 0 || (r = refuse_nonempty(x, o, "timeOffsets")) < 0 ||
	    (r = refuse_nonempty(x, o, "memoryPolicy")) < 0)
		return r;
	/* with a joined user namespace, maps are accepted only when they are its
	 * own (checked as it is joined), as runc does */
	if ((oc->n_uid_map || oc->n_gid_map) && !((oc->ns_new | oc->ns_joined) & CLONE_NEWUSER))
		return oci_field_bad(&x->f, "linux.uidMappings", "given without a user namespace of the container");
	return parse_propagation(x, o);
}

/* ---------------------------------------------------------------- the rest */

static int parse_hooks(const struct ctx *x, struct json_object *top)
{
	struct json_object *o = jsonc_member(top, "hooks");
	int r;
	if (!o || (r = oci_field_expect(&x->f, o, json_type_object, "hooks")) < 0)
		return o ? r : 0;
	return oci_hooks_parse_obj(&x->f, o, "hooks", &x->c->hooks);
}

static int parse_annotations(const struct ctx *x, struct json_object *top)
{
	struct json_object *o = jsonc_member(top, "annotations");
	if (!o)
		return 0;
	int r = oci_field_expect(&x->f, o, json_type_object, "annotations");
	if (r < 0)
		return r;
	struct json_object_iterator it = jsonc.json_object_iter_begin(o), end = jsonc.json_object_iter_end(o);
	for (; !jsonc.json_object_iter_equal(&it, &end); jsonc.json_object_iter_next(&it)) {
		char f[FIELD];
		snprintf(f, sizeof(f), "annotations[\"%.60s\"]", jsonc.json_object_iter_peek_name(&it));
		if ((r = oci_field_expect(&x->f, jsonc.json_object_iter_peek_value(&it), json_type_string, f)) < 0)
			return r;
	}
	x->c->annotations = strdup(jsonc.json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, NULL));
	return x->c->annotations ? 0 : ubx_fail(x->f.e, ENOMEM, "config.json");
}

static int parse_version(const struct ctx *x, struct json_object *top)
{
	_cleanup_free_ char *v = NULL;
	if (!jsonc_member(top, "ociVersion"))
		return oci_field_bad(&x->f, "ociVersion", "missing");
	int r = oci_field_string(&x->f, jsonc_member(top, "ociVersion"), "ociVersion", &v);
	if (r == 0 && strncmp(v, "1.", 2) != 0)
		return oci_field_bad(&x->f, "ociVersion", "\"%.20s\" is not a 1.x version", v);
	return r;
}

static int parse_top(const struct ctx *x, struct json_object *top)
{
	static const char *const keys[] = { "ociVersion", "root", "process", "mounts", "hostname", "domainname",
					    "hooks", "annotations", "linux", NULL };
	struct ubx_spec *s = &x->c->spec;
	int r = oci_field_expect(&x->f, top, json_type_object, "(top)");
	if (r < 0 || (r = oci_field_known_keys(&x->f, top, "", keys)) < 0 || (r = parse_version(x, top)) < 0 ||
	    (r = parse_root(x, top)) < 0 || (r = parse_process(x, top)) < 0 || (r = parse_mounts(x, top)) < 0 ||
	    (r = parse_linux(x, top)) < 0 || (r = parse_hooks(x, top)) < 0 || (r = parse_annotations(x, top)) < 0 ||
	    (r = oci_field_string_opt(&x->f, top, "hostname", "", &s->hostname)) < 0 ||
	    (r = oci_field_string_opt(&x->f, top, "domainname", "", &s->oci.domainname)) < 0)
		return r;
	if ((s->hostname || s->oci.domainname) && !(oci_config_ns(x->c) & CLONE_NEWUTS)) /* new or joined */
		return oci_field_bad(&x->f, s->hostname ? "hostname" : "domainname",
				     "set without a uts namespace of the container");
	if (s->hostname && strlen(s->hostname) > 64)
		return oci_field_bad(&x->f, "hostname", "longer than 64 characters");
	if (s->oci.domainname && strlen(s->oci.domainname) > 64)
		return oci_field_bad(&x->f, "domainname", "longer than 64 characters");
	s->oci.enabled = true;
	s->net = s->oci.ns_new & CLONE_NEWNET ? NET_NONE : NET_HOST;
	s->map = MAP_SINGLE;
	s->root_is_caller = false;
	return 0;
}

int oci_config_parse(const char *text, size_t len, const char *bundle, struct oci_config *c, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *top = NULL;
	struct ctx x = { .f = { .e = e, .what = "config.json", .sep = ": " }, .c = c };

	*c = (struct oci_config){ 0 };
	c->spec.oci.umask = -1;
	if (!(c->bundle = strdup(bundle)))
		return ubx_fail(e, ENOMEM, "config.json");
	int r = jsonc_parse(text, len, CONFIG_MAX, "config.json", &top, e);
	if (r == 0)
		r = parse_top(&x, top);
	if (r < 0)
		oci_config_free(c);
	return r;
}

int oci_config_load(const char *bundle, struct oci_config *c, struct ubx_err *e)
{
	char path[PATH_MAX];
	struct stat st;
	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path))
		return ubx_fail(e, ENAMETOOLONG, "--bundle %.100s", bundle);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return ubx_fail(e, errno, "%s", path);
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX)
		return ubx_fail(e, EINVAL, "%s: not a regular file of at most 4 MiB", path);
	_cleanup_free_ char *text = malloc((size_t)st.st_size + 1);
	if (!text)
		return ubx_fail(e, ENOMEM, "%s", path);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
		if (n <= 0)
			return ubx_fail(e, n < 0 ? errno : EIO, "read %s", path);
		got += (size_t)n;
	}
	return oci_config_parse(text, got, bundle, c, e);
}

int oci_config_ns(const struct oci_config *c)
{
	return (int)(c->spec.oci.ns_new | c->spec.oci.ns_joined);
}

void oci_config_free(struct oci_config *c)
{
	spec_free(&c->spec);
	free(c->bundle);
	seccomp_prog_free(&c->seccomp);
	free(c->annotations);
	free(c->cgroups_path);
	oci_hooks_free(&c->hooks);
	*c = (struct oci_config){ 0 };
}
