/* SPDX-License-Identifier: MIT */
/*
 * options.c - a table of options, each with the function that applies it to
 * the config.  Long options take "--name value" or "--name=value"; short ones
 * may be grouped ("-it") and take "-e K=V" or "-eK=V".
 */
#include "options.h"

#include "../sandbox/mounts.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/parse.h"
#include "../cgroup/cgroup.h"

struct parse_ctx {
	const char *cwd;
	enum options_action action;
};

struct option_def {
	const char *name;
	char short_name;
	const char *metavar; /* NULL: takes no value */
	int (*apply)(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e);
	const char *help;
	bool optional;       /* the value is optional and given only as --name=value */
};

static int set_uid(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (parse_id(arg, &cfg->spec.uid) < 0)
		return ubx_fail(e, 0, "--uid: '%s' is not a user id", arg);
	cfg->uid_set = true;
	return 0;
}

static int set_gid(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (parse_id(arg, &cfg->spec.gid) < 0)
		return ubx_fail(e, 0, "--gid: '%s' is not a group id", arg);
	cfg->gid_set = true;
	return 0;
}

static int set_root(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->spec.uid = cfg->spec.gid = 0;
	cfg->uid_set = cfg->gid_set = true;
	return 0;
}

static int set_map(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (strcmp(arg, "auto") == 0)
		cfg->spec.map = MAP_AUTO;
	else if (strcmp(arg, "single") == 0)
		cfg->spec.map = MAP_SINGLE;
	else
		return ubx_fail(e, 0, "--map: '%s' is not one of auto, single", arg);
	return 0;
}

static bool valid_hostname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

/* Replaces *@slot with a copy of @arg. */
static int set_string(char **slot, const char *arg, struct ubx_err *e)
{
	char *copy = strdup(arg);
	if (!copy)
		return ubx_fail(e, ENOMEM, "strdup");
	free(*slot);
	*slot = copy;
	return 0;
}

static int set_hostname(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (!valid_hostname(arg))
		return ubx_fail(e, 0, "--hostname: '%s' is not a valid host name", arg);
	return set_string(&cfg->spec.hostname, arg, e);
}

static int set_name(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (!valid_hostname(arg) || strlen(arg) > 63)
		return ubx_fail(e, 0, "--name: '%s' is not a valid name (a host name: letters, digits, '-', '.')", arg);
	return set_string(&cfg->spec.name, arg, e);
}

static bool valid_env_name(const char *s, size_t len)
{
	if (len == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* Appends one env entry after checking its name. */
static int env_append(struct cli_options *cfg, const char *text, const char *what, struct ubx_err *e)
{
	size_t name_len = strcspn(text, "=");
	if (!valid_env_name(text, name_len))
		return ubx_fail(e, 0, "%s: '%s' is not NAME=VALUE or NAME", what, text);
	struct env_op *grown = realloc(cfg->env, (cfg->n_env + 1) * sizeof(*grown));
	if (!grown)
		return ubx_fail(e, ENOMEM, "realloc");
	cfg->env = grown;
	cfg->env[cfg->n_env].text = strdup(text);
	if (!cfg->env[cfg->n_env].text)
		return ubx_fail(e, ENOMEM, "strdup");
	cfg->n_env++;
	return 0;
}

static int add_env(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	return env_append(cfg, arg, "--env", e);
}

#define ENV_FILE_MAX (1 << 20)

/* Splits @text (NUL-terminated) into lines and applies each. */
static int env_lines(char *text, const char *name, struct cli_options *cfg, struct ubx_err *e)
{
	char what[300];
	unsigned lineno = 1;

	for (char *line = text, *next; line && *line; line = next, lineno++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		const char *p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		snprintf(what, sizeof(what), "--env-file %.200s line %u", name, lineno);
		int r = env_append(cfg, p, what, e);
		if (r < 0)
			return r;
	}
	return 0;
}

int options_read_env_file(FILE *f, const char *name, struct cli_options *cfg, struct ubx_err *e)
{
	_cleanup_free_ char *text = malloc(ENV_FILE_MAX + 1);

	if (!text)
		return ubx_fail(e, ENOMEM, "--env-file %s", name);
	size_t n = fread(text, 1, ENV_FILE_MAX + 1, f);
	if (ferror(f))
		return ubx_fail(e, EIO, "--env-file %s", name);
	if (n > ENV_FILE_MAX)
		return ubx_fail(e, 0, "--env-file %.200s: larger than 1 MiB", name);
	if (memchr(text, '\0', n))
		return ubx_fail(e, 0, "--env-file %.200s: not a text file (it holds a NUL byte)", name);
	text[n] = '\0';
	return env_lines(text, name, cfg, e);
}

static int add_env_file(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	struct stat st;
	(void)ctx;
	/* O_NONBLOCK: a FIFO must not hang the open; only regular files are read */
	_cleanup_close_ int fd = open(arg, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return ubx_fail(e, errno, "--env-file %s", arg);
	if (fstat(fd, &st) < 0)
		return ubx_fail(e, errno, "--env-file %s", arg);
	if (!S_ISREG(st.st_mode))
		return ubx_fail(e, 0, "--env-file %s: not a regular file", arg);
	_cleanup_fclose_ FILE *f = fdopen(fd, "r");
	if (!f)
		return ubx_fail(e, errno, "--env-file %s", arg);
	fd = -1;
	return options_read_env_file(f, arg, cfg, e);
}

static int set_clearenv(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->clearenv = true;
	return 0;
}

static int set_workdir(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (arg[0] != '/')
		return ubx_fail(e, 0, "--workdir: '%s' is not an absolute path", arg);
	return set_string(&cfg->workdir, arg, e);
}

static int mount_append(struct cli_options *cfg, struct mount_spec *m, struct ubx_err *e)
{
	struct mount_spec *grown = realloc(cfg->spec.mounts, (cfg->spec.n_mounts + 1) * sizeof(*grown));
	if (!grown) {
		free(m->src);
		free(m->dst);
		return ubx_fail(e, ENOMEM, "realloc");
	}
	cfg->spec.mounts = grown;
	cfg->spec.mounts[cfg->spec.n_mounts++] = *m;
	return 0;
}

/* Makes @path absolute against @cwd. */
static char *absolute_path(const char *path, const char *cwd)
{
	char *out = NULL;
	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&out, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) < 0)
		return NULL;
	return out;
}

int options_parse_bind(const char *arg, bool force_ro, const char *cwd, struct mount_spec *m, struct ubx_err *e)
{
	const char *opt = force_ro ? "--ro-bind" : "--volume";
	_cleanup_free_ char *copy = strdup(arg);
	char *save = NULL;

	if (!copy)
		return ubx_fail(e, ENOMEM, "strdup");
	*m = (struct mount_spec){ .kind = MOUNT_BIND, .readonly = force_ro };
	char *src = strtok_r(copy, ":", &save);
	char *dst = strtok_r(NULL, ":", &save);
	char *flag = strtok_r(NULL, ":", &save);
	if (!src || !dst || strtok_r(NULL, "", &save) || (flag && force_ro) || strstr(arg, "::") ||
	    arg[0] == ':' || arg[strlen(arg) - 1] == ':')
		return ubx_fail(e, 0, "%s: '%s' is not SRC:DST%s", opt, arg, force_ro ? "" : "[:ro|rw]");
	if (dst[0] != '/')
		return ubx_fail(e, 0, "%s: destination '%s' is not an absolute path", opt, dst);
	if (flag && strcmp(flag, "ro") != 0 && strcmp(flag, "rw") != 0)
		return ubx_fail(e, 0, "%s: '%s' is not ro or rw", opt, flag);
	m->readonly = force_ro || (flag && strcmp(flag, "ro") == 0);
	m->src = absolute_path(src, cwd);
	m->dst = strdup(dst);
	if (!m->src || !m->dst) {
		free(m->src);
		free(m->dst);
		return ubx_fail(e, ENOMEM, "strdup");
	}
	return 0;
}

/* Applies one "size=…" or "mode=…" tmpfs option. */
static int tmpfs_option(const char *opt, struct mount_spec *m, struct ubx_err *e)
{
	uint64_t v;

	if (strncmp(opt, "size=", 5) == 0) {
		if (parse_size(opt + 5, &v) < 0 || v == 0 || v == PARSE_SIZE_MAX)
			return ubx_fail(e, 0, "--tmpfs: '%s' is not a size like 64M", opt + 5);
		m->size = v;
		return 0;
	}
	if (strncmp(opt, "mode=", 5) == 0) {
		char *end = NULL;
		errno = 0;
		unsigned long mode = strtoul(opt + 5, &end, 8);
		if (!opt[5] || *end || errno || mode > 07777)
			return ubx_fail(e, 0, "--tmpfs: '%s' is not an octal mode", opt + 5);
		m->mode = (uint32_t)mode;
		return 0;
	}
	return ubx_fail(e, 0, "--tmpfs: unknown option '%s' (size=, mode=)", opt);
}

int options_parse_tmpfs(const char *arg, struct mount_spec *m, struct ubx_err *e)
{
	_cleanup_free_ char *copy = strdup(arg);
	char *save = NULL;

	if (!copy)
		return ubx_fail(e, ENOMEM, "strdup");
	*m = (struct mount_spec){ .kind = MOUNT_TMPFS, .mode = 01777 };
	char *colon = strchr(copy, ':');
	if (colon)
		*colon = '\0';
	if (copy[0] != '/')
		return ubx_fail(e, 0, "--tmpfs: destination '%s' is not an absolute path", copy);
	if (colon) {
		for (char *o = strtok_r(colon + 1, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
			int r = tmpfs_option(o, m, e);
			if (r < 0)
				return r;
		}
	}
	m->dst = strdup(copy);
	return m->dst ? 0 : ubx_fail(e, ENOMEM, "strdup");
}

static int add_volume(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	struct mount_spec m = { 0 };
	int r = options_parse_bind(arg, false, ctx->cwd, &m, e);
	return r < 0 ? r : mount_append(cfg, &m, e);
}

static int add_ro_bind(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	struct mount_spec m = { 0 };
	int r = options_parse_bind(arg, true, ctx->cwd, &m, e);
	return r < 0 ? r : mount_append(cfg, &m, e);
}

static int add_hide(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	struct mount_spec m = { .kind = MOUNT_HIDE };
	if (!*arg)
		return ubx_fail(e, 0, "--hide: give a path");
	m.dst = absolute_path(arg, ctx->cwd);
	if (!m.dst)
		return ubx_fail(e, ENOMEM, "--hide");
	return mount_append(cfg, &m, e);
}

static int add_tmp_overlay(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	struct mount_spec m = { .kind = MOUNT_OVERLAY };
	if (!*arg)
		return ubx_fail(e, 0, "--tmp-overlay: give a directory");
	m.dst = absolute_path(arg, ctx->cwd);
	if (!m.dst)
		return ubx_fail(e, ENOMEM, "--tmp-overlay");
	return mount_append(cfg, &m, e);
}

static int set_rootfs(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	char *real = realpath(arg, NULL);
	struct stat st;
	(void)ctx;
	if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int r = ubx_fail(e, real ? ENOTDIR : errno, "--rootfs %s", arg);
		free(real);
		return r;
	}
	free(cfg->spec.root.path);
	cfg->spec.root.path = real;
	cfg->spec.root.kind = ROOT_DIR;
	return 0;
}

static int set_image(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (!*arg)
		return ubx_fail(e, 0, "--image: give an image's name or id");
	return set_string(&cfg->image, arg, e);
}

static int set_entrypoint(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	return set_string(&cfg->entrypoint, arg, e);
}

static int set_rm(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->rm = true;
	return 0;
}

static int set_detach(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->detach = true;
	return 0;
}

/* Docker's --log-opt max-size=SIZE and max-file=N. */
static int set_log_opt(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	uint64_t v;
	(void)ctx;
	if (strncmp(arg, "max-size=", 9) == 0 && parse_size(arg + 9, &v) == 0 && v >= 4096)
		cfg->log_max_size = v;
	else if (strncmp(arg, "max-file=", 9) == 0 && parse_u64(arg + 9, 100, &v) == 0 && v >= 1)
		cfg->log_max_files = (unsigned)v;
	else
		return ubx_fail(e, 0, "--log-opt: '%s' is not max-size=SIZE (at least 4k) or max-file=N (1 to 100)",
				arg);
	return 0;
}

/* Docker's -u USER[:GROUP] in numbers (names come from an image's /etc/passwd). */
static int set_user(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	_cleanup_free_ char *u = strdup(arg);
	char *g = u ? strchr(u, ':') : NULL;
	(void)ctx;
	if (!u)
		return ubx_fail(e, ENOMEM, "--user");
	if (g)
		*g++ = '\0';
	if (parse_id(u, &cfg->spec.uid) < 0 || (g && parse_id(g, &cfg->spec.gid) < 0))
		return ubx_fail(e, 0, "--user: '%s' is not UID[:GID] in numbers", arg);
	cfg->uid_set = true;
	if (g)
		cfg->gid_set = true;
	else if (!cfg->gid_set)
		cfg->spec.gid = cfg->spec.uid, cfg->gid_set = true;
	return 0;
}

static int set_read_only(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->spec.root.readonly = true;
	return 0;
}

static int set_ro_home(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->ro_home = true;
	return 0;
}

static int add_tmpfs(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	struct mount_spec m = { 0 };
	(void)ctx;
	int r = options_parse_tmpfs(arg, &m, e);
	return r < 0 ? r : mount_append(cfg, &m, e);
}

static int set_net(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	cfg->spec.allow_host_loopback = false;
	if (strcmp(arg, "none") == 0)
		cfg->spec.net = NET_NONE;
	else if (strcmp(arg, "host") == 0)
		cfg->spec.net = NET_HOST;
	else if (strcmp(arg, "slirp") == 0)
		cfg->spec.net = NET_SLIRP;
	else if (strcmp(arg, "slirp:allow_host_loopback") == 0)
		cfg->spec.net = NET_SLIRP, cfg->spec.allow_host_loopback = true;
	else if (netns_network_name_valid(arg))
		cfg->spec.net = NET_USER;
	else
		return ubx_fail(e, 0, "--net: '%s' is not one of slirp, slirp:allow_host_loopback, none, host, "
				"or a network's name", arg);
	if (cfg->spec.net == NET_USER)
		return set_string(&cfg->spec.network, arg, e);
	free(cfg->spec.network);
	cfg->spec.network = NULL;
	return 0;
}

static int add_port(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	struct portfwd_spec spec;
	(void)ctx;
	if (portfwd_parse(arg, &spec) < 0)
		return ubx_fail(e, 0, "--publish: '%s' is not [IP:]HOSTPORT:SANDBOXPORT[/tcp|/udp]", arg);
	struct portfwd_spec *grown = realloc(cfg->spec.ports, (cfg->spec.n_ports + 1) * sizeof(*grown));
	if (!grown)
		return ubx_fail(e, ENOMEM, "realloc");
	cfg->spec.ports = grown;
	cfg->spec.ports[cfg->spec.n_ports++] = spec;
	return 0;
}

static int add_net_allow(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	int r = netns_allow_parse(arg, &cfg->spec.allow, &cfg->spec.n_allow, e);
	return r < 0 ? ubx_wrap(e, "--net-allow") : 0;
}

static int set_net_log(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	if (!*arg)
		return ubx_fail(e, 0, "--net-log: give a file");
	free(cfg->spec.net_log);
	if (!(cfg->spec.net_log = absolute_path(arg, ctx->cwd)))
		return ubx_fail(e, ENOMEM, "--net-log");
	return 0;
}

static int set_port_handler(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (strcmp(arg, "direct") == 0)
		cfg->spec.port_handler = PORTS_DIRECT;
	else if (strcmp(arg, "relay") == 0)
		cfg->spec.port_handler = PORTS_RELAY;
	else if (strcmp(arg, "auto") == 0)
		cfg->spec.port_handler = PORTS_AUTO;
	else
		return ubx_fail(e, 0, "--port-handler %.40s: give direct, relay or auto", arg);
	return 0;
}

/* --net-allow and --net-log belong to --net slirp (a user network has its own). */
static int check_net_policy(const struct ubx_spec *s, struct ubx_err *e)
{
	if (s->net_log && !s->n_allow)
		return ubx_fail(e, 0, "--net-log logs what --net-allow decides: give --net-allow too");
	if (s->n_allow && s->net == NET_USER)
		return ubx_fail(e, 0, "--net-allow: network %s has its own policy (usbox network create --allow DEST)",
				s->network);
	if (s->n_allow && s->net != NET_SLIRP)
		return ubx_fail(e, 0, "--net-allow needs a network of the sandbox's own (--net slirp)");
	return 0;
}

static int set_shm_size(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	uint64_t v;
	(void)ctx;
	if (parse_size(arg, &v) < 0 || v == 0 || v == PARSE_SIZE_MAX)
		return ubx_fail(e, 0, "--shm-size: '%s' is not a size like 64M or 1g", arg);
	cfg->spec.shm_size = v;
	return 0;
}

static int set_caps(uint64_t *set, bool *all, const char *opt, const char *arg, struct ubx_err *e)
{
	char bad[64];
	if (parse_capabilities(arg, set, all, bad, sizeof(bad)) < 0)
		return ubx_fail(e, 0, "%s: '%s' is not a capability (names as in capabilities(7): NET_RAW, CAP_SYS_PTRACE, ALL)",
				opt, bad);
	return 0;
}

static int add_cap(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	return set_caps(&cfg->cap_add, &cfg->cap_add_all, "--cap-add", arg, e);
}

static int drop_cap(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	return set_caps(&cfg->cap_drop, &cfg->cap_drop_all, "--cap-drop", arg, e);
}

static int set_seccomp(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	free(cfg->spec.seccomp_profile);
	cfg->spec.seccomp_profile = NULL;
	cfg->seccomp_unconfined = strcmp(arg, "unconfined") == 0;
	if (cfg->seccomp_unconfined)
		return 0;
	if (!*arg)
		return ubx_fail(e, 0, "--seccomp: give 'unconfined' or a JSON profile's path");
	char *path = absolute_path(arg, ctx->cwd);
	if (!path)
		return ubx_fail(e, ENOMEM, "--seccomp");
	cfg->spec.seccomp_profile = path;
	return 0;
}

/* A copy of @from (NULL-terminated) without the paths @unmask lists
 * (colon-separated, or ALL). */
static char **without(const char *const *from, const char *unmask, struct ubx_err *e)
{
	size_t n = 0, k = 0;
	while (from[n])
		n++;
	char **out = calloc(n + 1, sizeof(char *));
	if (!out) {
		ubx_fail(e, ENOMEM, "--security-opt");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(from[i]);
		bool gone = strcmp(unmask, "ALL") == 0;
		for (const char *p = unmask; !gone && *p; p += strcspn(p, ":"), p += *p == ':')
			gone = strncmp(p, from[i], len) == 0 && (p[len] == ':' || p[len] == '\0');
		if (!gone && !(out[k++] = strdup(from[i]))) {
			for (size_t j = 0; j < k; j++)
				free(out[j]);
			free(out);
			ubx_fail(e, ENOMEM, "--security-opt");
			return NULL;
		}
	}
	return out;
}

static int set_unmask(struct ubx_spec *s, const char *paths, struct ubx_err *e)
{
	if (!paths[0] || (strcmp(paths, "ALL") != 0 && paths[0] != '/'))
		return ubx_fail(e, 0, "--security-opt unmask=%s: give ALL or absolute paths separated by ':'", paths);
	char **m = without(s->masked_paths ? (const char *const *)s->masked_paths : mounts_masked_default, paths, e);
	char **r = m ? without(s->readonly_paths ? (const char *const *)s->readonly_paths : mounts_readonly_default,
			       paths, e) : NULL;
	if (!r) {
		for (char **p = m; p && *p; p++)
			free(*p);
		free(m);
		return -ENOMEM;
	}
	for (char **p = s->masked_paths; p && *p; p++)
		free(*p);
	for (char **p = s->readonly_paths; p && *p; p++)
		free(*p);
	free(s->masked_paths), free(s->readonly_paths);
	s->masked_paths = m, s->readonly_paths = r;
	return 0;
}

/* Docker's and podman's spelling: --security-opt seccomp=X, no-new-privileges, unmask=. */
static int set_security_opt(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	if (strncmp(arg, "unmask=", 7) == 0)
		return set_unmask(&cfg->spec, arg + 7, e);
	if (strncmp(arg, "seccomp=", 8) == 0 || strncmp(arg, "seccomp:", 8) == 0)
		return set_seccomp(cfg, arg + 8, ctx, e);
	if (strcmp(arg, "no-new-privileges") == 0 || strcmp(arg, "no-new-privileges=true") == 0 ||
	    strcmp(arg, "no-new-privileges:true") == 0)
		return 0; /* always on */
	return ubx_fail(e, 0, "--security-opt: '%s' is not supported (seccomp=unconfined|FILE, no-new-privileges, "
			      "unmask=ALL|PATHS)", arg);
}

static int set_nested(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->nested = true;
	return 0;
}

static int set_no_cwd(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->no_cwd = true;
	return 0;
}

static int set_tty(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->spec.tty = true;
	return 0;
}

static int set_no_tty(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->no_tty = true;
	return 0;
}

static int set_interactive(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)arg, (void)ctx, (void)e;
	cfg->spec.interactive = true;
	return 0;
}

/* A size for a memory limit; "max" allowed. */
static int set_mem_size(uint64_t *slot, const char *opt, const char *arg, bool allow_zero, struct ubx_err *e)
{
	uint64_t v;
	if (parse_size(arg, &v) < 0 || (v == 0 && !allow_zero))
		return ubx_fail(e, 0, "%s: '%s' is not a size like 512M, 1.5g or max", opt, arg);
	*slot = v == PARSE_SIZE_MAX ? CGROUP_MAX : v;
	return 0;
}

static int set_mem(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	snprintf(cfg->spec.limits.mem_text, sizeof(cfg->spec.limits.mem_text), "%s", arg);
	return set_mem_size(&cfg->spec.limits.mem, "--mem", arg, false, e);
}

static int set_mem_swap(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	return set_mem_size(&cfg->spec.limits.mem_swap, "--mem-swap", arg, true, e); /* 0: no swap */
}

static int set_mem_high(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	return set_mem_size(&cfg->spec.limits.mem_high, "--mem-high", arg, false, e);
}

static int set_cpus(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (cgroup_parse_cpus(arg, &cfg->spec.limits.cpu_quota) < 0)
		return ubx_fail(e, 0, "--cpus: '%s' is not a number of CPUs like 0.5 or 2", arg);
	return 0;
}

static int set_weight(uint64_t *slot, const char *opt, const char *arg, struct ubx_err *e)
{
	if (parse_u64(arg, 10000, slot) < 0 || *slot == 0)
		return ubx_fail(e, 0, "%s: '%s' is not a weight from 1 to 10000", opt, arg);
	return 0;
}

static int set_cpu_weight(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	return set_weight(&cfg->spec.limits.cpu_weight, "--cpu-weight", arg, e);
}

static int set_io_weight(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	return set_weight(&cfg->spec.limits.io_weight, "--io-weight", arg, e);
}

static int set_pids(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (strcmp(arg, "max") == 0) {
		cfg->spec.limits.pids = CGROUP_MAX;
		return 0;
	}
	if (parse_u64(arg, 4194304, &cfg->spec.limits.pids) < 0 || cfg->spec.limits.pids == 0)
		return ubx_fail(e, 0, "--pids: '%s' is not a number of processes or max", arg);
	return 0;
}

static int set_cpuset(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (cgroup_parse_cpuset(arg) < 0)
		return ubx_fail(e, 0, "--cpuset-cpus: '%s' is not a CPU list like 0-3,6", arg);
	snprintf(cfg->spec.limits.cpuset_cpus, sizeof(cfg->spec.limits.cpuset_cpus), "%s", arg);
	return 0;
}

static int set_cgroup_parent(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (arg[0] != '/')
		return ubx_fail(e, 0, "--cgroup-parent: '%s' is not an absolute path", arg);
	return set_string(&cfg->spec.cgroup_parent, arg, e);
}

static int set_stats(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)ctx;
	if (!arg || strcmp(arg, "text") == 0)
		cfg->stats = STATS_TEXT;
	else if (strcmp(arg, "json") == 0)
		cfg->stats = STATS_JSON;
	else
		return ubx_fail(e, 0, "--stats: '%s' is not json or text", arg);
	return 0;
}

static int want_help(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)cfg, (void)arg, (void)e;
	ctx->action = OPTIONS_HELP;
	return 0;
}

static int want_version(struct cli_options *cfg, const char *arg, struct parse_ctx *ctx, struct ubx_err *e)
{
	(void)cfg, (void)arg, (void)e;
	ctx->action = OPTIONS_VERSION;
	return 0;
}

static const struct option_def option_table[] = {
	{ "uid", 0, "N", set_uid, "user id inside (maps to you outside; default: your uid)", false },
	{ "gid", 0, "N", set_gid, "group id inside (default: your gid)", false },
	{ "root", 0, NULL, set_root, "run as uid 0 and gid 0 inside (podman's default capabilities)", false },
	{ "map", 0, "auto|single", set_map, "auto: your subordinate ids too (default); single: one id", false },
	{ "hostname", 0, "NAME", set_hostname, "host name inside", false },
	{ "env", 'e', "K=V", add_env, "set K inside; a bare K copies yours (repeatable)", false },
	{ "env-file", 0, "FILE", add_env_file, "read K=V lines from FILE", false },
	{ "clearenv", 0, NULL, set_clearenv, "start from an empty environment", false },
	{ "workdir", 'w', "DIR", set_workdir, "working directory inside (default: yours)", false },
	{ "volume", 'v', "SRC:DST[:ro]", add_volume, "bind SRC at DST, read-write unless :ro", false },
	{ "ro-bind", 0, "SRC:DST", add_ro_bind, "bind SRC at DST read-only", false },
	{ "tmpfs", 0, "DST[:size=N,mode=M]", add_tmpfs, "a fresh tmpfs at DST", false },
	{ "tmp-overlay", 0, "DIR", add_tmp_overlay, "a throw-away writable layer over DIR (repeatable)", false },
	{ "image", 0, "NAME", set_image, "run a container of the image NAME (usbox images lists them)", false },
	{ "rm", 0, NULL, set_rm, "remove the container when it ends (as a foreground one is when unnamed)", false },
	{ "detach", 'd', NULL, set_detach, "run in the background: print the container's id and return", false },
	{ "log-opt", 0, "max-size=N|max-file=N", set_log_opt, "a detached container's log: rotate at N bytes (10m), keep N files (2)", false },
	{ "entrypoint", 0, "CMD", set_entrypoint, "replace the image's entrypoint (\"\" clears it)", false },
	{ "user", 'u', "UID[:GID]", set_user, "user inside (with --image also a name from the image)", false },
	{ "rootfs", 0, "DIR", set_rootfs, "run in the root file system DIR instead of a view of the host", false },
	{ "read-only", 0, NULL, set_read_only, "with --rootfs: mount the root read-only", false },
	{ "ro-home", 0, NULL, set_ro_home, "keep the home strictly read-only (default: a throw-away writable layer)",
	  false },
	{ "hide", 0, "PATH", add_hide, "hide PATH: an empty read-only directory or /dev/null (repeatable)", false },
	{ "net", 0, "MODE", set_net,
	  "slirp (default; slirp:allow_host_loopback), none: loopback only, host, NAME: a user network", false },
	{ "name", 0, "NAME", set_name, "the sandbox's name: its host name, and its entry in a user network's /etc/hosts",
	  false },
	{ "publish", 'p', "[IP:]HP:SP[/udp]", add_port, "forward host port HP to port SP inside (repeatable)", false },
	{ "port-handler", 0, "direct|relay", set_port_handler,
	  "-p's TCP: the server takes the host's socket, or usbox relays (default: direct where possible)", false },
	{ "net-allow", 0, "DEST", add_net_allow,
	  "egress only to DEST: HOST, *.DOMAIN, IP, CIDR[:PORT|:LOW-HIGH] (repeatable)", false },
	{ "net-log", 0, "FILE", set_net_log, "log --net-allow's decisions to FILE, a JSON object a line", false },
	{ "no-cwd", 0, NULL, set_no_cwd, "do not make the working directory writable", false },
	{ "shm-size", 0, "SIZE", set_shm_size, "size of /dev/shm (default 64M)", false },
	{ "cap-add", 0, "CAP", add_cap, "add a capability (NET_RAW, ALL; repeatable or comma-separated)", false },
	{ "cap-drop", 0, "CAP", drop_cap, "drop a capability (repeatable or comma-separated; ALL)", false },
	{ "seccomp", 0, "unconfined|FILE", set_seccomp, "no system-call filter, or a Docker/OCI JSON profile", false },
	{ "security-opt", 0, "OPT", set_security_opt, "seccomp=unconfined|FILE, no-new-privileges, unmask=ALL|PATH:...",
	  false },
	{ "nested", 0, NULL, set_nested, "allow namespaces and mounts inside (podman, bwrap, browsers)", false },
	{ "mem", 0, "SIZE", set_mem, "memory limit (512M, 1.5g, max)", false },
	{ "mem-swap", 0, "SIZE", set_mem_swap, "swap limit", false },
	{ "mem-high", 0, "SIZE", set_mem_high, "memory use above which the sandbox is throttled", false },
	{ "cpus", 0, "N", set_cpus, "CPU time limit in CPUs (0.5, 1.5, 2)", false },
	{ "cpu-weight", 0, "N", set_cpu_weight, "CPU weight, 1 to 10000 (100 is the default)", false },
	{ "pids", 0, "N", set_pids, "process limit", false },
	{ "cpuset-cpus", 0, "LIST", set_cpuset, "run only on these CPUs (0-3,6)", false },
	{ "io-weight", 0, "N", set_io_weight, "I/O weight, 1 to 10000", false },
	{ "cgroup-parent", 0, "DIR", set_cgroup_parent, "a delegated cgroup v2 directory to put the sandbox under", false },
	{ "stats", 0, "json", set_stats, "print peak memory, CPU time and pids at exit", true },
	{ "tty", 't', NULL, set_tty, "give the command a terminal", false },
	{ "interactive", 'i', NULL, set_interactive, "keep stdin open", false },
	{ "no-tty", 'T', NULL, set_no_tty, "no terminal even at a terminal (the default there is -it)", false },
	{ "help", 'h', NULL, want_help, "show this help", false },
	{ "version", 'V', NULL, want_version, "show the version", false },
};

static const struct option_def *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(option_table); i++)
		if (strlen(option_table[i].name) == len && strncmp(option_table[i].name, name, len) == 0)
			return &option_table[i];
	return NULL;
}

static const struct option_def *find_short(char c)
{
	for (size_t i = 0; i < ARRAY_SIZE(option_table); i++)
		if (option_table[i].short_name == c)
			return &option_table[i];
	return NULL;
}

/* Parses argv[*i], a long option; may consume the next word as its value. */
static int parse_long(int argc, char **argv, int *i, struct cli_options *cfg, struct parse_ctx *ctx,
		      struct ubx_err *e)
{
	const char *name = argv[*i] + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct option_def *def = find_long(name, len);

	if (!def)
		return ubx_fail(e, 0, "unknown option '--%.*s' (see usbox --help)", (int)len, name);
	if (!def->metavar || def->optional) {
		if (eq && !def->metavar)
			return ubx_fail(e, 0, "option '--%s' takes no value", def->name);
		return def->apply(cfg, eq ? eq + 1 : NULL, ctx, e);
	}
	if (eq)
		return def->apply(cfg, eq + 1, ctx, e);
	if (*i + 1 >= argc)
		return ubx_fail(e, 0, "option '--%s' needs a value (%s)", def->name, def->metavar);
	return def->apply(cfg, argv[++*i], ctx, e);
}

/* Parses argv[*i], one or more grouped short options. */
static int parse_short(int argc, char **argv, int *i, struct cli_options *cfg, struct parse_ctx *ctx,
		       struct ubx_err *e)
{
	for (const char *p = argv[*i] + 1; *p; p++) {
		const struct option_def *def = find_short(*p);
		if (!def)
			return ubx_fail(e, 0, "unknown option '-%c' (see usbox --help)", *p);
		if (!def->metavar) {
			int r = def->apply(cfg, NULL, ctx, e);
			if (r < 0)
				return r;
			continue;
		}
		if (p[1])
			return def->apply(cfg, p + 1, ctx, e);
		if (*i + 1 >= argc)
			return ubx_fail(e, 0, "option '-%c' needs a value (%s)", *p, def->metavar);
		return def->apply(cfg, argv[++*i], ctx, e);
	}
	return 0;
}

static int copy_command(int argc, char **argv, int first, struct cli_options *cfg, struct ubx_err *e)
{
	cfg->spec.args = calloc((size_t)(argc - first + 1), sizeof(char *));
	if (!cfg->spec.args)
		return ubx_fail(e, ENOMEM, "calloc");
	for (int k = first; k < argc; k++) {
		cfg->spec.args[k - first] = strdup(argv[k]);
		if (!cfg->spec.args[k - first])
			return ubx_fail(e, ENOMEM, "strdup");
	}
	return 0;
}

int options_parse(int argc, char **argv, const char *cwd, struct cli_options *cfg, struct ubx_err *e)
{
	struct parse_ctx ctx = { .cwd = cwd, .action = OPTIONS_RUN };
	int i = 1, r;

	*cfg = (struct cli_options){ .spec = { .map = MAP_AUTO, .net = NET_SLIRP, .shm_size = OPTIONS_SHM_DEFAULT } };
	cgroup_limits_init(&cfg->spec.limits);
	if (i < argc && strcmp(argv[i], "run") == 0)
		i++;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		r = a[1] == '-' ? parse_long(argc, argv, &i, cfg, &ctx, e) : parse_short(argc, argv, &i, cfg, &ctx, e);
		if (r < 0)
			return r;
	}
	if (ctx.action != OPTIONS_RUN)
		return (int)ctx.action;
	if (cfg->image && cfg->spec.root.kind == ROOT_DIR)
		return ubx_fail(e, 0, "--image and --rootfs: give one root");
	/* Kept after the end: a named image container, and any detached one
	 * (its log and exit code), unless --rm. */
	cfg->keep = !cfg->rm && ((cfg->image && cfg->spec.name) || cfg->detach);
	if (cfg->detach && cfg->spec.interactive && !cfg->spec.tty)
		return ubx_fail(e, 0, "-d with -i needs -t: a detached container's input comes from usbox attach");
	if (cfg->spec.tty && cfg->no_tty)
		return ubx_fail(e, 0, "-t and -T (--no-tty) contradict each other");
	if (cfg->spec.n_ports && cfg->spec.net == NET_HOST)
		return ubx_fail(e, 0, "--publish needs a network of the sandbox's own, not --net host");
	if ((r = check_net_policy(&cfg->spec, e)) < 0)
		return r;
	if (cfg->spec.name && !cfg->spec.hostname && (r = set_string(&cfg->spec.hostname, cfg->spec.name, e)) < 0)
		return r;
	if (i >= argc && !cfg->image)
		return ubx_fail(e, 0, "no command given (usage: usbox [OPTIONS] [--] CMD [ARG...])");
	r = copy_command(argc, argv, i, cfg, e);
	return r < 0 ? r : OPTIONS_RUN;
}

void options_usage(FILE *out)
{
	fputs("Usage: usbox [run] [OPTIONS] [--] CMD [ARG...]\n\n"
	      "Run CMD in a rootless sandbox: its own user, mount, pid, uts, ipc, net and cgroup\n"
	      "namespaces, a read-only view of the host, a private /tmp, /proc and /dev, the\n"
	      "working directory writable, a user-mode network, and cgroup v2 limits.\n\nOptions:\n",
	      out);
	for (size_t i = 0; i < ARRAY_SIZE(option_table); i++) {
		const struct option_def *d = &option_table[i];
		char left[64];
		snprintf(left, sizeof(left), "%c%c%s--%s%s%s%s%s", d->short_name ? '-' : ' ',
			 d->short_name ? d->short_name : ' ', d->short_name ? ", " : "  ", d->name,
			 d->optional ? "[=" : d->metavar ? " " : "", d->metavar ? d->metavar : "",
			 d->optional ? "]" : "", "");
		fprintf(out, "  %-34s %s\n", left, d->help);
	}
	fputs("\nImages: usbox images|import|load|save|rmi|image inspect.  Containers (-d,\n"
	      "--name, --image): usbox ps|logs|exec|stop|kill|wait|inspect|attach|rm|commit|export.\n"
	      "User networks: usbox network create|ls|rm.\n"
	      "Whether this host lets usbox run, and the fixes: usbox doctor [--json].\n"
	      "A bare first word that names one of these is that command; `usbox -- CMD`\n"
	      "always runs CMD.\n",
	      out);
	fputs("\nExit status: the command's; 125 usbox failed, 126 the command cannot run,\n"
	      "127 the command was not found, 128+N the command was killed by signal N.\n",
	      out);
}

void options_free(struct cli_options *cfg)
{
	spec_free(&cfg->spec);
	for (size_t i = 0; i < cfg->n_env; i++)
		free(cfg->env[i].text);
	free(cfg->env);
	free(cfg->workdir);
	free(cfg->image);
	free(cfg->entrypoint);
	*cfg = (struct cli_options){ 0 };
}
