/* SPDX-License-Identifier: MIT */
/*
 * specjson.c - a spec as JSON and back (specjson.h).
 */
#include "specjson.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"

static struct json_object *str_or_null(const char *v)
{
	return v ? jsonc.json_object_new_string(v) : NULL;
}

static struct json_object *strv(char *const *v)
{
	struct json_object *a = jsonc.json_object_new_array();
	for (; a && v && *v; v++)
		jsonc.json_object_array_add(a, jsonc.json_object_new_string(*v));
	return a;
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	jsonc.json_object_object_add(o, k, v);
}

static struct json_object *root_json(const struct spec_root *r)
{
	static const char *const kinds[] = { "host", "rootfs", "layers" };
	struct json_object *o = jsonc.json_object_new_object();
	add(o, "kind", jsonc.json_object_new_string(kinds[r->kind]));
	add(o, "path", str_or_null(r->path));
	if (r->kind == ROOT_LAYERS) {
		add(o, "layers", strv(r->layers));
		add(o, "upper", str_or_null(r->upper));
	}
	add(o, "readonly", jsonc.json_object_new_boolean(r->readonly));
	return o;
}

static struct json_object *process_json(const struct ubx_spec *s)
{
	struct json_object *o = jsonc.json_object_new_object(), *user = jsonc.json_object_new_object();
	char caps[32];
	add(o, "args", strv(s->args));
	add(o, "env", strv(s->env));
	add(o, "cwd", str_or_null(s->cwd));
	add(user, "uid", jsonc.json_object_new_int64(s->uid));
	add(user, "gid", jsonc.json_object_new_int64(s->gid));
	add(o, "user", user);
	snprintf(caps, sizeof(caps), "0x%016llx", (unsigned long long)s->caps);
	add(o, "capabilities", jsonc.json_object_new_string(caps));
	add(o, "terminal", jsonc.json_object_new_boolean(s->tty));
	if (s->stop_signal)
		add(o, "stop_signal", jsonc.json_object_new_int64(s->stop_signal));
	return o;
}

static struct json_object *mounts_json(const struct ubx_spec *s)
{
	static const char *const kinds[] = { "bind", "tmpfs", "hide", "overlay", "mqueue" };
	struct json_object *a = jsonc.json_object_new_array();
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct mount_spec *m = &s->mounts[i];
		struct json_object *o = jsonc.json_object_new_object();
		add(o, "type", jsonc.json_object_new_string(kinds[m->kind]));
		add(o, "source", str_or_null(m->src));
		add(o, "destination", jsonc.json_object_new_string(m->dst));
		add(o, "readonly", jsonc.json_object_new_boolean(m->readonly));
		jsonc.json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *network_json(const struct ubx_spec *s)
{
	static const char *const modes[] = { "slirp", "none", "host", "user" };
	struct json_object *o = jsonc.json_object_new_object(), *ports = jsonc.json_object_new_array();
	add(o, "mode", jsonc.json_object_new_string(modes[s->net]));
	add(o, "network", str_or_null(s->network));
	for (size_t i = 0; i < s->n_ports; i++) {
		const struct portfwd_spec *p = &s->ports[i];
		char ip[INET_ADDRSTRLEN], text[80];
		inet_ntop(AF_INET, &p->host_ip, ip, sizeof(ip));
		snprintf(text, sizeof(text), "%s:%u->%u/%s", ip, p->host_port, p->sandbox_port, p->udp ? "udp" : "tcp");
		jsonc.json_object_array_add(ports, jsonc.json_object_new_string(text));
	}
	add(o, "ports", ports);
	add(o, "port_handler", jsonc.json_object_new_string(s->port_handler == PORTS_DIRECT ? "direct" : "relay"));
	if (s->n_allow) { /* --net-allow: the egress policy */
		struct json_object *allow = jsonc.json_object_new_array();
		for (size_t i = 0; i < s->n_allow; i++) {
			char text[320];
			netns_allow_format(&s->allow[i], text, sizeof(text));
			jsonc.json_object_array_add(allow, jsonc.json_object_new_string(text));
		}
		add(o, "allow", allow);
		add(o, "log", str_or_null(s->net_log));
	}
	return o;
}

static void add_limit(struct json_object *o, const char *k, uint64_t v)
{
	if (v != CGROUP_UNSET)
		add(o, k, v == CGROUP_MAX ? jsonc.json_object_new_string("max") : jsonc.json_object_new_int64((int64_t)v));
}

static struct json_object *limits_json(const struct ubx_spec *s)
{
	const struct cgroup_limits *l = &s->limits;
	struct json_object *o = jsonc.json_object_new_object();
	add_limit(o, "memory", l->mem);
	add_limit(o, "memory_swap", l->mem_swap);
	add_limit(o, "memory_high", l->mem_high);
	add_limit(o, "cpu_quota", l->cpu_quota);
	add_limit(o, "cpu_weight", l->cpu_weight);
	add_limit(o, "io_weight", l->io_weight);
	add_limit(o, "pids", l->pids);
	if (l->cpuset_cpus[0])
		add(o, "cpuset_cpus", jsonc.json_object_new_string(l->cpuset_cpus));
	add(o, "cgroup_parent", str_or_null(s->cgroup_parent));
	return o;
}

int spec_to_json(const struct ubx_spec *s, struct json_object **out, struct ubx_err *e)
{
	static const char *const sc[] = { "default", "nested", "unconfined", "profile" };
	struct json_object *o = jsonc.json_object_new_object(), *sec = jsonc.json_object_new_object();
	if (!o || !sec) {
		if (o)
			jsonc.json_object_put(o);
		return ubx_fail(e, ENOMEM, "spec.json");
	}
	add(o, "root", root_json(&s->root));
	add(o, "process", process_json(s));
	add(o, "mounts", mounts_json(s));
	add(o, "hostname", str_or_null(s->hostname));
	add(o, "name", str_or_null(s->name));
	add(o, "network", network_json(s));
	add(o, "limits", limits_json(s));
	add(sec, "seccomp", jsonc.json_object_new_string(sc[s->seccomp]));
	add(sec, "seccomp_profile", str_or_null(s->seccomp_profile));
	if (s->masked_paths)
		add(sec, "masked_paths", strv(s->masked_paths));
	if (s->readonly_paths)
		add(sec, "readonly_paths", strv(s->readonly_paths));
	add(o, "security", sec);
	*out = o;
	return 0;
}

/* ---------------------------------------------------------------- reading */

static int want(struct json_object *o, const char *k, enum json_type t, bool optional, const char *what,
		struct json_object **out, struct ubx_err *e)
{
	*out = jsonc_member(o, k);
	if (!*out && optional)
		return 0;
	if (!jsonc_is(*out, t))
		return ubx_fail(e, EINVAL, "%s: %s: missing or of the wrong type", what, k);
	return 0;
}

static int read_strv(struct json_object *a, const char *k, const char *what, char ***out, struct ubx_err *e)
{
	size_t n = jsonc.json_object_array_length(a);
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return ubx_fail(e, ENOMEM, "%s", what);
	*out = v;
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = jsonc.json_object_array_get_idx(a, i);
		if (!jsonc_is(it, json_type_string))
			return ubx_fail(e, EINVAL, "%s: %s[%zu]: not a string", what, k, i);
		if (!(v[i] = strdup(jsonc.json_object_get_string(it))))
			return ubx_fail(e, ENOMEM, "%s", what);
	}
	return 0;
}

static int read_str(struct json_object *o, const char *k, const char *what, char **out, struct ubx_err *e)
{
	struct json_object *v;
	int r = want(o, k, json_type_string, true, what, &v, e);
	if (r < 0 || !v)
		return r;
	*out = strdup(jsonc.json_object_get_string(v));
	return *out ? 0 : ubx_fail(e, ENOMEM, "%s", what);
}

static int read_id(struct json_object *user, const char *k, const char *what, uint32_t *out, struct ubx_err *e)
{
	struct json_object *v;
	int r = want(user, k, json_type_int, false, what, &v, e);
	if (r < 0)
		return r;
	int64_t id = jsonc.json_object_get_int64(v);
	if (id < 0 || id > UINT32_MAX - 1)
		return ubx_fail(e, EINVAL, "%s: user.%s: out of range", what, k);
	*out = (uint32_t)id;
	return 0;
}

static int read_process(struct json_object *p, const char *what, struct ubx_spec *s, struct ubx_err *e)
{
	struct json_object *args, *env, *user, *caps, *tty;
	int r;
	if ((r = want(p, "args", json_type_array, false, what, &args, e)) < 0 ||
	    (r = want(p, "env", json_type_array, false, what, &env, e)) < 0 ||
	    (r = want(p, "user", json_type_object, false, what, &user, e)) < 0 ||
	    (r = want(p, "capabilities", json_type_string, false, what, &caps, e)) < 0 ||
	    (r = want(p, "terminal", json_type_boolean, true, what, &tty, e)) < 0)
		return r;
	if ((r = read_strv(args, "args", what, &s->args, e)) < 0 || (r = read_strv(env, "env", what, &s->env, e)) < 0 ||
	    (r = read_str(p, "cwd", what, &s->cwd, e)) < 0 || (r = read_id(user, "uid", what, &s->uid, e)) < 0 ||
	    (r = read_id(user, "gid", what, &s->gid, e)) < 0)
		return r;
	char *end;
	errno = 0;
	s->caps = strtoull(jsonc.json_object_get_string(caps), &end, 16);
	if (errno || *end)
		return ubx_fail(e, EINVAL, "%s: capabilities: not a hexadecimal mask", what);
	s->tty = tty && jsonc.json_object_get_boolean(tty);
	if (!s->cwd || s->cwd[0] != '/')
		return ubx_fail(e, EINVAL, "%s: cwd: not an absolute path", what);
	return 0;
}

static int read_security(struct json_object *o, const char *what, struct ubx_spec *s, struct ubx_err *e)
{
	static const char *const sc[] = { "default", "nested", "unconfined", "profile" };
	struct json_object *sec, *mode;
	int r = want(o, "security", json_type_object, false, what, &sec, e);
	if (r < 0 || (r = want(sec, "seccomp", json_type_string, false, what, &mode, e)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(sc); i++)
		if (strcmp(jsonc.json_object_get_string(mode), sc[i]) == 0) {
			s->seccomp = (enum seccomp_mode)i;
			if (s->seccomp != SECCOMP_PROFILE_FILE)
				return 0;
			if ((r = read_str(sec, "seccomp_profile", what, &s->seccomp_profile, e)) < 0)
				return r;
			return s->seccomp_profile ? 0 : ubx_fail(e, EINVAL, "%s: seccomp_profile: missing", what);
		}
	return ubx_fail(e, EINVAL, "%s: security.seccomp: unknown mode", what);
}

/* network.port_handler: whether the sandbox's ports are direct (what a
 * process joining it must be guarded for); absent in older state: relay. */
static int read_port_handler(struct json_object *o, const char *what, struct ubx_spec *s, struct ubx_err *e)
{
	struct json_object *net, *h;
	int r = want(o, "network", json_type_object, true, what, &net, e);
	if (r < 0 || !net || (r = want(net, "port_handler", json_type_string, true, what, &h, e)) < 0 || !h)
		return r;
	s->port_handler = strcmp(jsonc.json_object_get_string(h), "direct") == 0 ? PORTS_DIRECT : PORTS_RELAY;
	return 0;
}

int spec_from_json(struct json_object *o, const char *what, struct ubx_spec *s, struct ubx_err *e)
{
	struct json_object *p;
	*s = (struct ubx_spec){ 0 };
	int r = want(o, "process", json_type_object, false, what, &p, e);
	if (r < 0 || (r = read_process(p, what, s, e)) < 0 || (r = read_str(o, "hostname", what, &s->hostname, e)) < 0 ||
	    (r = read_str(o, "name", what, &s->name, e)) < 0 || (r = read_security(o, what, s, e)) < 0 ||
	    (r = read_port_handler(o, what, s, e)) < 0) {
		spec_free(s);
		return r;
	}
	if (!s->args || !s->args[0]) {
		spec_free(s);
		return ubx_fail(e, EINVAL, "%s: process.args: empty", what);
	}
	return 0;
}
