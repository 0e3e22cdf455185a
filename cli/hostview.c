/* SPDX-License-Identifier: MIT */
/*
 * hostview.c - the host view's spec from the options and the caller's state.
 *
 * DOC: Theory of operation
 * The runtime applies a spec and decides nothing about the caller.  Here the
 * caller's situation becomes spec fields: the environment after -e and
 * --env-file; the working directory inside; which directories to cover with
 * an empty tmpfs (runtime directories that are the caller's and private, and
 * usbox's state directory, since a read-only mount does not stop connect());
 * whether the working directory may be bound read-write (not a shared place
 * such as /tmp or /run, not the home or above it); the home's throw-away
 * layer; the capabilities after --cap-add/--cap-drop; the seccomp mode.
 */
#include "hostview.h"

#include <errno.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/pathfind.h"
#include "../common/statedir.h"
#include "../sandbox/mounts.h"
#include "../sandbox/sandbox.h"
#include "env.h"

#define CAP_BIT(c) (1ULL << (c))

uint64_t cli_capabilities(const struct cli_options *o, bool root)
{
	const uint64_t all = CAP_BIT(CAP_LAST_CAP + 1) - 1;
	uint64_t set = root ? CLI_DEFAULT_CAPS : 0;

	if (o->cap_drop_all)
		set = 0;
	set &= ~o->cap_drop;
	if (o->cap_add_all)
		set = all & ~o->cap_drop;
	return (set | o->cap_add) & all;
}

/* Whether @path is a runtime directory as the XDG spec makes them: owned by
 * @uid and private (so a --tmpfs-like cover never hides a home or /tmp). */
static bool is_runtime_dir(const char *path, uint32_t uid)
{
	struct stat st;
	return path && path[0] == '/' && stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid &&
	       !(st.st_mode & 077);
}

/* Whether @path lies below (or is) one of the first @n covers. */
static bool under_cover(char *const *covers, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(covers[i]);
		if (strncmp(path, covers[i], len) == 0 && (path[len] == '/' || path[len] == '\0'))
			return true;
	}
	return false;
}

/* usbox's data directory (network definitions, the image store), without a
 * trailing slash, or "" when there is none. */
static void data_dir(char *buf, size_t len)
{
	struct ubx_err ignore;
	if (data_dir_path("", buf, len, &ignore) < 0)
		buf[0] = '\0';
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
}

/* The caller's runtime directories, /run/user/UID and $XDG_RUNTIME_DIR: they
 * hold the unix sockets of the session bus, systemd --user and agents, which
 * a read-only view would still let the command connect to; usbox's own state
 * directory (the holder's and the networks' sockets), wherever it is; and its
 * data directory, whose image layers a writable bind (the working directory
 * inside it, say) would let a sandbox poison for the next container. */
static int find_covers(struct ubx_spec *s, uint32_t uid, const char *xdg)
{
	char run_user[64], state[4096], data[4096];
	size_t n = 0;

	snprintf(run_user, sizeof(run_user), "/run/user/%u", (unsigned)uid);
	state_dir_path(uid, state, sizeof(state));
	data_dir(data, sizeof(data));
	const char *cand[] = { run_user, xdg, state, data };
	_Static_assert(sizeof(cand) / sizeof(cand[0]) <= sizeof(s->view.covers) / sizeof(s->view.covers[0]),
		       "a cover for each candidate");
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		if (!is_runtime_dir(cand[i], uid) || under_cover(s->view.covers, n, cand[i]))
			continue;
		if (!(s->view.covers[n++] = strdup(cand[i])))
			return -ENOMEM;
	}
	return 0;
}

/* Whether @path is one of the first @n covers. */
static bool is_cover(char *const *covers, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(covers[i], path) == 0)
			return true;
	return false;
}

/* The caller's home, canonical, or "" when it has none. */
static void find_home(const char *env_home, char *buf, size_t len)
{
	char pwbuf[4096];
	struct passwd pw, *found = NULL;
	const char *home = env_home;

	if ((!home || home[0] != '/') && getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found)
		home = found->pw_dir;
	char *real = home ? realpath(home, NULL) : NULL;
	snprintf(buf, len, "%s", real ? real : "");
	free(real);
}

/* The value of @name in @env, or NULL. */
static const char *env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);
	for (; env && *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/* The working directory's bind and the home's layer, with a line for the
 * user when the working directory stays unshared. */
static int plan_view(struct cli_options *o, const char *cwd, const char *home, char *notice, size_t len)
{
	struct ubx_spec *s = &o->spec;
	const char *why = mounts_cwd_unshared(cwd, home);
	size_t n = 0;
	while (n < sizeof(s->view.covers) / sizeof(s->view.covers[0]) && s->view.covers[n])
		n++;
	/* a bind below a cover would lie on top of it (one at the cover's own
	 * path lies under it: the cover then makes the working directory) */
	if (!why && under_cover(s->view.covers, n, cwd) && !is_cover(s->view.covers, n, cwd))
		why = "it is in a directory hidden from sandboxes (your runtime directory, usbox's state or data)";

	if (!o->no_cwd && !why && !(s->view.cwd_bind = strdup(cwd)))
		return -ENOMEM;
	if (!o->no_cwd && why && strcmp(cwd, "/") != 0)
		snprintf(notice, len, "the working directory %s is not shared writable: %s (-v %s:%s shares it)", cwd,
			 why, cwd, cwd);
	if (!o->ro_home && home[0] && strcmp(home, "/") != 0 && !(s->view.home_layer = strdup(home)))
		return -ENOMEM;
	return 0;
}

/* Appends "K=V" to the NULL-terminated @env unless K is set there. */
static int env_default(char ***env, const char *kv)
{
	size_t n = 0, klen = strcspn(kv, "=");
	for (; (*env)[n]; n++)
		if (strncmp((*env)[n], kv, klen) == 0 && (*env)[n][klen] == '=')
			return 0;
	char **grown = realloc(*env, (n + 2) * sizeof(char *));
	if (!grown)
		return -ENOMEM;
	*env = grown;
	if (!(grown[n] = strdup(kv)))
		return -ENOMEM;
	grown[n + 1] = NULL;
	return 0;
}

/* A root of its own (--rootfs): root inside unless --uid says otherwise,
 * mapped to the caller; Docker's environment (PATH, HOME, TERM with -t) and
 * what -e adds; "/" as the working directory unless -w. */
static int finish_own_root(struct cli_options *o, char *const *environ, struct ubx_err *e)
{
	struct ubx_spec *s = &o->spec;
	s->uid = o->uid_set ? s->uid : 0;
	s->gid = o->gid_set ? s->gid : 0;
	s->root_is_caller = true;
	if (!s->env) /* an image's was made already */
		s->env = env_build(environ, true, o->env, o->n_env);
	s->cwd = strdup(o->workdir ? o->workdir : "/");
	if (!s->env || !s->cwd || env_default(&s->env, "PATH=" EXEC_DEFAULT_PATH) < 0 ||
	    env_default(&s->env, s->uid == 0 ? "HOME=/root" : "HOME=/") < 0 ||
	    (s->tty && env_default(&s->env, "TERM=xterm") < 0))
		return ubx_fail(e, ENOMEM, "the command's environment");
	return 0;
}

int cli_finish_spec(struct cli_options *o, char *const *environ, const char *cwd, char *notice, size_t len,
		    struct ubx_err *e)
{
	struct ubx_spec *s = &o->spec;
	char home[4096];

	notice[0] = '\0';
	if (s->root.kind != ROOT_HOST) {
		int r = finish_own_root(o, environ, e);
		if (r < 0)
			return r;
	}
	s->uid = o->uid_set || s->root.kind != ROOT_HOST ? s->uid : getuid();
	s->gid = o->gid_set || s->root.kind != ROOT_HOST ? s->gid : getgid();
	s->caps = cli_capabilities(o, s->uid == 0);
	s->seccomp = o->seccomp_unconfined ? SECCOMP_UNCONFINED :
		     s->seccomp_profile    ? SECCOMP_PROFILE_FILE :
		     o->nested             ? SECCOMP_NESTED_DEFAULT : SECCOMP_DEFAULT;
	s->stats = o->stats != STATS_NONE;
	int r = sandbox_ports_resolve(s, e);
	if (r < 0 || s->root.kind != ROOT_HOST)
		return r;
	s->env = env_build(environ, o->clearenv, o->env, o->n_env);
	s->cwd = strdup(o->workdir ? o->workdir : cwd);
	if (!s->env || !s->cwd)
		return ubx_fail(e, ENOMEM, "the command's environment");
	find_home(env_get(environ, "HOME"), home, sizeof(home));
	/* while file owners still read as the caller's: before any namespace */
	if (find_covers(s, getuid(), env_get(environ, "XDG_RUNTIME_DIR")) < 0 ||
	    plan_view(o, cwd, home, notice, len) < 0)
		return ubx_fail(e, ENOMEM, "the host view");
	return 0;
}
