/* SPDX-License-Identifier: MIT */
/*
 * cgroup.c - the cgroup of a usbox-oci container (see cgroup.h).
 */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../cgroup/cgroup.h"
#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "state.h"

#define CTL_LEN 128

/* Whether the word @w is in the space-separated @list. */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return true;
	return false;
}

/* The first word of @ctl missing from @dir's @file, into @out ("" if none). */
static void first_missing(const char *dir, const char *file, const char *ctl, char *out, size_t len)
{
	char have[512], copy[CTL_LEN], *save = NULL;
	out[0] = '\0';
	(void)cgroup_read_file(dir, file, have, sizeof(have));
	snprintf(copy, sizeof(copy), "%s", ctl);
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (!has_word(have, w)) {
			snprintf(out, len, "%s", w);
			return;
		}
}

static int mount_point(char *out, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	return f ? cgroup_find_mount(f, out, len) : -errno;
}

bool oci_cgroup_check(const char *path)
{
	char mnt[PATH_MAX];
	size_t n;
	if (mount_point(mnt, sizeof(mnt)) < 0 || strncmp(path, mnt, n = strlen(mnt)) != 0 || path[n] != '/')
		return false;
	return !strstr(path, "/../") && !strstr(path, "/./") && !strstr(path, "//") &&
	       strcmp(path + strlen(path) - 3, "/..") != 0 && strcmp(path + strlen(path) - 2, "/.") != 0;
}

/* ------------------------------------------------------------- systemd */

/* "slice:prefix:name" into the slice and the scope's name. */
static int systemd_names(const struct oci_cgroup_req *q, char *slice, size_t slen, char *unit, size_t ulen,
			 struct ubx_err *e)
{
	char def[256];
	const char *p = q->cgroups_path;
	if (!p || !*p) {
		snprintf(def, sizeof(def), "%s:usbox-oci:%.200s", oci_state_host_root() ? "system.slice" : "user.slice", q->id);
		p = def;
	}
	const char *c1 = strchr(p, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || strchr(c2 + 1, ':') || !c2[1] || strchr(p, '/'))
		return ubx_refuse(e, EINVAL, "linux.cgroupsPath %.200s: with --systemd-cgroup, not slice:prefix:name", p);
	if (strlen(c2 + 1) > 6 && strcmp(c2 + 1 + strlen(c2 + 1) - 6, ".slice") == 0)
		return ubx_refuse(e, ENOTSUP, "linux.cgroupsPath %.200s: a slice as the container's unit is not "
					      "supported by usbox-oci", p);
	int n = snprintf(slice, slen, "%.*s", (int)(c1 - p), p);
	int m = c2 - c1 > 1 ? snprintf(unit, ulen, "%.*s-%s.scope", (int)(c2 - c1 - 1), c1 + 1, c2 + 1)
			    : snprintf(unit, ulen, "%s.scope", c2 + 1);
	if (n >= (int)slen || m >= (int)ulen)
		return ubx_refuse(e, ENAMETOOLONG, "linux.cgroupsPath %.200s", p);
	return 0;
}

/* A transient scope holding this process: its cgroup is the container's.
 * Return: 0, -ENOENT when no manager can be reached, other negative errnos. */
static int systemd_scope(const struct oci_cgroup_req *q, const char *mnt, struct oci_cgroup *cg, struct ubx_err *e)
{
	char slice[256], unit[512], rel[PATH_MAX];
	int r = systemd_names(q, slice, sizeof(slice), unit, sizeof(unit), e);
	if (r < 0 || (r = cgroup_systemd_scope_in(unit, slice, oci_state_host_root(), e)) < 0)
		return r;
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f || cgroup_self_path(f, rel, sizeof(rel)) < 0)
		return ubx_fail(e, EIO, "the cgroup of %s", unit);
	snprintf(cg->path, sizeof(cg->path), "%s%s", mnt, rel);
	return 0;
}

/* ------------------------------------------------------------ cgroupfs */

/* The directory cgroupsPath names: absolute under @mnt, relative under the
 * caller's cgroup; by default /ID. */
static int fs_path(const struct oci_cgroup_req *q, const char *mnt, char *out, size_t len, struct ubx_err *e)
{
	char rel[PATH_MAX] = "";
	const char *p = q->cgroups_path && *q->cgroups_path ? q->cgroups_path : NULL;
	if (p && (strstr(p, "..") || strstr(p, "//") || strstr(p, "/./") || strcmp(p, "/") == 0))
		return ubx_refuse(e, EINVAL, "linux.cgroupsPath %.200s: not a plain path", p);
	if (p && p[0] != '/') {
		_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
		if (!f || cgroup_self_path(f, rel, sizeof(rel)) < 0)
			return ubx_fail(e, EIO, "usbox-oci's own cgroup");
		if (strcmp(rel, "/") == 0)
			rel[0] = '\0';
	}
	int n = p ? snprintf(out, len, "%s%s%s%s", mnt, rel, p[0] == '/' ? "" : "/", p)
		  : snprintf(out, len, "%s/%.200s", mnt, q->id);
	if (n >= (int)len)
		return ubx_refuse(e, ENAMETOOLONG, "linux.cgroupsPath");
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

/* Enables those of @ctl that @dir has in its subtree (best effort: a cgroup
 * with processes refuses, and the leaf's controllers are checked later). */
static void enable_in(const char *dir, const char *ctl)
{
	char have[512], copy[CTL_LEN], *save = NULL;
	(void)cgroup_read_file(dir, "cgroup.controllers", have, sizeof(have));
	snprintf(copy, sizeof(copy), "%s", ctl);
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char plus[70];
		snprintf(plus, sizeof(plus), "+%s", w);
		if (has_word(have, w))
			(void)cgroup_write_file(dir, "cgroup.subtree_control", plus);
	}
}

/* mkdir -p of cg->path below @mnt, enabling @ctl on the way.  Return: 0,
 * -EACCES (and the like) when not allowed, with cg->made set when the leaf is new. */
static int fs_make(struct oci_cgroup *cg, const char *mnt, const char *ctl, struct ubx_err *e)
{
	char dir[PATH_MAX];
	size_t start = strlen(mnt);
	snprintf(dir, sizeof(dir), "%s", cg->path);
	for (char *p = dir + start + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		char *slash = strrchr(dir, '/');
		*slash = '\0';
		enable_in(dir, ctl);
		*slash = '/';
		bool leaf = !c;
		if (mkdir(dir, 0755) == 0)
			cg->made = leaf;
		else if (errno != EEXIST)
			return ubx_fail(e, errno, "make the cgroup %.300s", dir);
		if (leaf)
			return 0;
		*p = c;
	}
}

/* ---------------------------------------------------------------- create */

static int no_cgroup(const struct oci_cgroup_req *q, char *note, size_t len, const char *why, struct ubx_err *e)
{
	if (oci_limits_any(q->limits)) {
		char ctl[CTL_LEN];
		oci_limits_controllers(q->limits, true, ctl, sizeof(ctl));
		return ubx_refuse(e, e->code ? e->code : ENOTSUP, "linux.resources asks for limits (%s), and %s", ctl,
				  why);
	}
	snprintf(note, len, "running without a cgroup of the container's own: %s", why);
	*e = (struct ubx_err){ 0 };
	return 0;
}

int oci_cgroup_apply(const char *path, const struct oci_limits *l, struct ubx_err *e)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct oci_cg_write *w = &l->w[i];
		int r = cgroup_write_file(path, w->file, w->value);
		if (r == -ENOENT && !w->limit)
			continue; /* a default, on a cgroup without that controller */
		if (r < 0)
			return ubx_fail(e, -r, "set %s to %s in %.300s", w->file, w->value, path);
	}
	return 0;
}

/* Where the container's cgroup comes from, into cg->path (see cgroup.h). */
static int place(const struct oci_cgroup_req *q, const char *mnt, const char *ctl, struct oci_cgroup *cg,
		 char *note, size_t len, struct ubx_err *e)
{
	char why[700];
	int r;
	if (q->systemd) {
		r = systemd_scope(q, mnt, cg, e);
		if (r == -ENOENT)
			return no_cgroup(q, note, len,
					 oci_state_host_root() ? "systemd cannot be reached over D-Bus (--systemd-cgroup)"
						       : "no systemd user manager is reachable (--systemd-cgroup; "
							 "is $XDG_RUNTIME_DIR/bus there?)",
					 e);
		if (r < 0 && !oci_limits_any(q->limits))
			return no_cgroup(q, note, len, e->msg, e);
		return r;
	}
	if ((r = fs_path(q, mnt, cg->path, sizeof(cg->path), e)) < 0)
		return r;
	if ((r = fs_make(cg, mnt, ctl, e)) < 0) {
		snprintf(why, sizeof(why), "%s (%s)", e->msg,
			 !oci_state_host_root() ? "rootless, only a delegated cgroup can be had: use --systemd-cgroup or a "
				    "cgroupsPath under one"
				  : "as root");
		cg->path[0] = '\0';
		return no_cgroup(q, note, len, why, e);
	}
	return 0;
}

int oci_cgroup_create(const struct oci_cgroup_req *q, struct oci_cgroup *cg, char *note, size_t note_len,
		      struct ubx_err *e)
{
	char mnt[PATH_MAX], ctl[CTL_LEN], need[CTL_LEN], missing[64], why[512];
	*cg = (struct oci_cgroup){ .fd = -1 };
	note[0] = '\0';
	oci_limits_controllers(q->limits, false, ctl, sizeof(ctl));
	oci_limits_controllers(q->limits, true, need, sizeof(need));
	if (mount_point(mnt, sizeof(mnt)) < 0)
		return no_cgroup(q, note, note_len, "this host has no cgroup2 file system", e);
	first_missing(mnt, "cgroup.controllers", need[0] ? need : "memory", missing, sizeof(missing));
	if (missing[0]) {
		snprintf(why, sizeof(why),
			 "this host has no cgroup v2 controller %s (it is bound to cgroup v1 here: boot with "
			 "systemd.unified_cgroup_hierarchy=1)", missing);
		return no_cgroup(q, note, note_len, why, e);
	}
	int r = place(q, mnt, ctl, cg, note, note_len, e);
	if (r < 0 || !cg->path[0])
		return r;
	first_missing(cg->path, "cgroup.controllers", need, missing, sizeof(missing));
	if (missing[0])
		r = ubx_refuse(e, ENOTSUP, "linux.resources: the controller %s is not available in %.300s "
					   "(not delegated there)", missing, cg->path);
	else if ((r = oci_cgroup_apply(cg->path, q->limits, e)) == 0 &&
		 (cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = ubx_fail(e, errno, "open %.300s", cg->path);
	if (r < 0)
		oci_cgroup_release(cg, true);
	return r;
}

void oci_cgroup_release(struct oci_cgroup *cg, bool remove)
{
	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
	if (remove && cg->made)
		oci_cgroup_remove(cg->path);
	cg->path[0] = '\0';
}

/* -------------------------------------------------------------- later on */

void oci_cgroup_remove(const char *path)
{
	char events[512];
	size_t n = strlen(path);
	bool scope = n > 6 && strcmp(path + n - 6, ".scope") == 0;
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	(void)cgroup_write_file(path, "cgroup.kill", "1");
	/* A systemd scope is left to systemd, which stops it once it is empty
	 * and removes its cgroup (removing it here would leave the unit active). */
	for (int i = 0; scope && i < 400 && cgroup_read_file(path, "cgroup.events", events, sizeof(events)) == 0 &&
			!strstr(events, "populated 0");
	     i++)
		nanosleep(&ts, NULL);
	for (int i = 0; !scope && i < 400 && rmdir(path) < 0 && errno == EBUSY; i++)
		nanosleep(&ts, NULL);
}

bool oci_cgroup_frozen(const char *path)
{
	char buf[8];
	return cgroup_read_file(path, "cgroup.freeze", buf, sizeof(buf)) == 0 && buf[0] == '1';
}

int oci_cgroup_freeze(const char *path, bool freeze, struct ubx_err *e)
{
	char events[512];
	int r = cgroup_write_file(path, "cgroup.freeze", freeze ? "1" : "0");
	if (r < 0)
		return ubx_fail(e, -r, "%s %.300s", freeze ? "freeze" : "thaw", path);
	for (int i = 0; i < 1000; i++) { /* up to 10 s */
		if (cgroup_read_file(path, "cgroup.events", events, sizeof(events)) < 0)
			return ubx_fail(e, errno, "%.300s/cgroup.events", path);
		if (strstr(events, freeze ? "frozen 1" : "frozen 0"))
			return 0;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return ubx_refuse(e, ETIMEDOUT, "the container did not %s within 10 s", freeze ? "freeze" : "thaw");
}

ssize_t oci_cgroup_pids(const char *path, pid_t **out, struct ubx_err *e)
{
	char file[PATH_MAX];
	size_t n = 0, cap = 0;
	pid_t *v = NULL;
	int pid;
	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	if (!f)
		return ubx_fail(e, errno, "%.300s", file);
	while (fscanf(f, "%d", &pid) == 1) {
		if (n == cap) {
			pid_t *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(pid_t));
			if (!nv) {
				free(v);
				return ubx_fail(e, ENOMEM, "cgroup.procs");
			}
			v = nv;
		}
		v[n++] = pid;
	}
	*out = v;
	return (ssize_t)n;
}

int oci_cgroup_signal(const char *path, int sig, struct ubx_err *e)
{
	if (sig == SIGKILL) {
		int r = cgroup_write_file(path, "cgroup.kill", "1");
		return r < 0 ? ubx_fail(e, -r, "%.300s/cgroup.kill", path) : 0;
	}
	_cleanup_free_ pid_t *pids = NULL;
	ssize_t n = oci_cgroup_pids(path, &pids, e);
	for (ssize_t i = 0; pids && i < n; i++)
		(void)kill(pids[i], sig);
	return n < 0 ? (int)n : 0;
}

/* ------------------------------------------------------------ commands */

/* The running (or paused) container @id's cgroup, into @out. */
static int running_cgroup(const char *root, const char *id, const char *cmd, char *out, size_t len,
			  struct ubx_err *e)
{
	struct oci_state s;
	_cleanup_close_ int dir = oci_state_load(root, id, true, &s, e);
	if (dir < 0)
		return dir;
	const char *status = oci_state_status(dir, &s);
	oci_state_free(&s);
	snprintf(out, len, "%s", s.cgroup);
	if (strcmp(status, "stopped") == 0)
		return ubx_refuse(e, EINVAL, "cannot %s container %.80s: it is stopped", cmd, id);
	if (!s.cgroup[0])
		return ubx_refuse(e, ENOTSUP, "cannot %s container %.80s: it has no cgroup of its own (see the log "
					      "of its create)", cmd, id);
	return 0;
}

int oci_cgroup_pause(const char *root, const char *id, bool freeze, struct ubx_err *e)
{
	char path[4096];
	int r = running_cgroup(root, id, freeze ? "pause" : "resume", path, sizeof(path), e);
	return r < 0 ? r : oci_cgroup_freeze(path, freeze, e);
}

int oci_cgroup_update(const char *root, const char *id, const struct oci_limits *l, struct ubx_err *e)
{
	char path[4096];
	int r = running_cgroup(root, id, "update", path, sizeof(path), e);
	return r < 0 ? r : oci_cgroup_apply(path, l, e);
}

int oci_cgroup_update_file(const char *root, const char *id, const char *file, struct ubx_err *e)
{
	const size_t max = 1 << 20;
	char what[300];
	bool in = strcmp(file, "-") == 0;
	_cleanup_close_ int fd = in ? dup(0) : open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *text = malloc(max + 1);
	_cleanup_json_ struct json_object *o = NULL;
	_cleanup_free_ struct oci_limits *l = calloc(1, sizeof(*l));
	size_t n = 0;
	ssize_t k = 1;
	snprintf(what, sizeof(what), "--resources %.200s", file);
	if (fd < 0 || !text || !l)
		return ubx_fail(e, fd < 0 ? errno : ENOMEM, "%s", what);
	while (n <= max && (k = read(fd, text + n, max + 1 - n)) > 0)
		n += (size_t)k;
	if (k < 0)
		return ubx_fail(e, errno, "%s", what);
	int r = jsonc_parse(text, n, max, what, &o, e);
	if (r == 0)
		r = oci_resources_parse(o, what, l, e);
	return r < 0 ? r : oci_cgroup_update(root, id, l, e);
}
