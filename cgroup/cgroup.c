/* SPDX-License-Identifier: MIT */
/*
 * cgroup.c - the cgroupfs side: finding a delegated cgroup, the sandbox's
 * leaf, limits, counters and removal.
 */
#include "cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/parse.h"

void cgroup_limits_init(struct cgroup_limits *l)
{
	*l = (struct cgroup_limits){ .mem = CGROUP_UNSET, .mem_swap = CGROUP_UNSET, .mem_high = CGROUP_UNSET,
				     .cpu_quota = CGROUP_UNSET, .cpu_weight = CGROUP_UNSET,
				     .io_weight = CGROUP_UNSET, .pids = CGROUP_UNSET };
}

bool cgroup_limits_any(const struct cgroup_limits *l)
{
	return l->mem != CGROUP_UNSET || l->mem_swap != CGROUP_UNSET || l->mem_high != CGROUP_UNSET ||
	       l->cpu_quota != CGROUP_UNSET || l->cpu_weight != CGROUP_UNSET || l->io_weight != CGROUP_UNSET ||
	       l->pids != CGROUP_UNSET || l->cpuset_cpus[0];
}

int cgroup_parse_cpus(const char *s, uint64_t *quota)
{
	const char *dot = strchr(s, '.');
	uint64_t whole, frac = 0, scale = CGROUP_CPU_PERIOD;
	char buf[32];

	if (!*s || strlen(s) >= sizeof(buf) || s[0] == '.')
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	if (dot)
		buf[dot - s] = '\0';
	if (parse_u64(buf, 4096, &whole) < 0)
		return -EINVAL;
	if (dot) {
		const char *f = dot + 1;
		if (!*f || strlen(f) > 5)
			return -EINVAL;
		for (; *f; f++) {
			if (!isdigit((unsigned char)*f))
				return -EINVAL;
			scale /= 10;
			frac += (uint64_t)(*f - '0') * scale;
		}
	}
	uint64_t q = whole * CGROUP_CPU_PERIOD + frac;
	if (q < 1000) /* the kernel's minimum quota is 1 ms */
		return -EINVAL;
	*quota = q;
	return 0;
}

int cgroup_parse_cpuset(const char *s)
{
	const char *p = s;

	if (!*s || strlen(s) >= sizeof(((struct cgroup_limits *)0)->cpuset_cpus))
		return -EINVAL;
	while (*p) {
		char *end;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		unsigned long a = strtoul(p, &end, 10), b = a;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				return -EINVAL;
			b = strtoul(p + 1, &end, 10);
			p = end;
		}
		if (b < a || b > 8191 || (*p && *p != ','))
			return -EINVAL;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	return 0;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
		    r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int cgroup_find_mount(FILE *f, char *out, size_t len)
{
	char line[4096];

	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		*sep = '\0';
		char *save = NULL, *field = strtok_r(line, " ", &save);
		for (int i = 0; field && i < 4; i++)
			field = strtok_r(NULL, " ", &save);
		if (!field)
			continue;
		unescape(field);
		snprintf(out, len, "%s", field);
		return 0;
	}
	return -ENOENT;
}

int cgroup_self_path(FILE *f, char *out, size_t len)
{
	char line[4096];

	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, len, "%s", line + 3);
		return 0;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------ file helpers */

int cgroup_write_file(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text);
	return write(fd, text, n) == (ssize_t)n ? 0 : -errno;
}

int cgroup_read_file(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	return n < 0 ? -errno : 0;
}

/* The value of "KEY N" in a flat-keyed file such as memory.events. */
static uint64_t read_key(const char *dir, const char *file, const char *key)
{
	char buf[4096] = "";
	size_t klen = strlen(key);
	if (cgroup_read_file(dir, file, buf, sizeof(buf)) < 0)
		return 0;
	for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtoull(p + klen + 1, NULL, 10);
	return 0;
}

static uint64_t read_number(const char *dir, const char *file)
{
	char buf[64];
	return cgroup_read_file(dir, file, buf, sizeof(buf)) == 0 ? strtoull(buf, NULL, 10) : 0;
}

/* Whether each word of @want appears in the space-separated @list file. */
static bool has_words(const char *dir, const char *file, const char *want)
{
	char list[512], copy[128], *save = NULL;
	if (cgroup_read_file(dir, file, list, sizeof(list)) < 0)
		return false;
	snprintf(copy, sizeof(copy), "%s", want);
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		bool found = false;
		char lcopy[512], *s2 = NULL;
		snprintf(lcopy, sizeof(lcopy), "%s", list);
		for (char *x = strtok_r(lcopy, " \n", &s2); x; x = strtok_r(NULL, " \n", &s2))
			found |= strcmp(x, w) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* The controllers the limits need, space separated. */
static void needed_controllers(const struct cgroup_limits *l, bool stats, char *out, size_t len)
{
	out[0] = '\0';
	if (stats || l->mem != CGROUP_UNSET || l->mem_swap != CGROUP_UNSET || l->mem_high != CGROUP_UNSET)
		strncat(out, "memory ", len - strlen(out) - 1);
	if (l->cpu_quota != CGROUP_UNSET || l->cpu_weight != CGROUP_UNSET)
		strncat(out, "cpu ", len - strlen(out) - 1);
	if (stats || l->pids != CGROUP_UNSET)
		strncat(out, "pids ", len - strlen(out) - 1);
	if (l->cpuset_cpus[0])
		strncat(out, "cpuset ", len - strlen(out) - 1);
	if (l->io_weight != CGROUP_UNSET)
		strncat(out, "io ", len - strlen(out) - 1);
	size_t n = strlen(out);
	if (n)
		out[n - 1] = '\0';
}

/* --------------------------------------------------------- finding a home */

/* Whether usbox may make a child of @dir with @ctl enabled in it. */
static bool can_host(const char *dir, const char *ctl)
{
	char procs[PATH_MAX], populated[4096] = "";
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	if (access(dir, W_OK) < 0 || access(procs, W_OK) < 0)
		return false;
	if (!*ctl || has_words(dir, "cgroup.subtree_control", ctl))
		return true;
	/* It could enable them itself only while it holds no process. */
	return has_words(dir, "cgroup.controllers", ctl) &&
	       cgroup_read_file(dir, "cgroup.procs", populated, sizeof(populated)) == 0 && populated[0] == '\0';
}

/* The nearest cgroup at or above @self (absolute) that can host the sandbox. */
static int find_delegated(const char *mnt, char *self, const char *ctl, char *out, size_t len)
{
	size_t root_len = strlen(mnt);
	for (;;) {
		if (strlen(self) <= root_len) /* the root cgroup is never delegated */
			return -EACCES;
		if (can_host(self, ctl)) {
			snprintf(out, len, "%s", self);
			return 0;
		}
		*strrchr(self, '/') = '\0';
	}
}

static int own_cgroup_path(const char *mnt, char *out, size_t len, struct ubx_err *e)
{
	char rel[PATH_MAX];
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f || cgroup_self_path(f, rel, sizeof(rel)) < 0)
		return ubx_fail(e, 0, "cannot tell usbox's own cgroup from /proc/self/cgroup");
	snprintf(out, len, "%s%s", mnt, strcmp(rel, "/") == 0 ? "" : rel);
	return 0;
}

/* Removes usbox-PID cgroups under @parent whose usbox is gone and which hold
 * no process any more: what a killed usbox left. */
static void remove_stale(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		uint64_t pid;
		char dir[PATH_MAX + 512];
		if (strncmp(de->d_name, "usbox-", 6) != 0 || parse_u64(de->d_name + 6, INT_MAX, &pid) < 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
			continue; /* its usbox may still be running */
		snprintf(dir, sizeof(dir), "%s/%s", parent, de->d_name);
		if (read_key(dir, "cgroup.events", "populated") != 0)
			continue;
		char sub[PATH_MAX + 600];
		static const char *const leaves[] = { "sandbox", "supervisor" };
		for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
			snprintf(sub, sizeof(sub), "%s/%s", dir, leaves[i]);
			(void)rmdir(sub);
		}
		(void)rmdir(dir);
	}
	closedir(d);
}

/* The first controller of @ctl missing from @dir's cgroup.controllers, or NULL. */
static const char *missing_controller(const char *dir, const char *ctl, char *buf, size_t len)
{
	char *save = NULL;
	snprintf(buf, len, "%s", ctl);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (!has_words(dir, "cgroup.controllers", w))
			return w;
	return NULL;
}

/* The one-line explanation for "no delegated cgroup", by what is missing;
 * @stats_only: only --stats asked for a cgroup. */
static int fail_no_delegation(const char *mnt, const char *ctl, bool stats_only, struct ubx_err *e)
{
	const char *need = stats_only ? "--stats needs" : "limits need";
	const char *without = stats_only ? "--stats" : "limits";
	char buf[64];
	const char *missing = mnt ? missing_controller(mnt, ctl, buf, sizeof(buf)) : NULL;
	const char *extra = strstr(ctl, "cpuset") || strstr(ctl, "io") ?
				    "; for cpuset and io, give user@.service a Delegate=yes drop-in" :
				    "";

	if (!mnt)
		return ubx_fail(e, 0, "%s cgroup v2, and this host has no cgroup2 file system "
				      "(boot with systemd.unified_cgroup_hierarchy=1, or run without %s; "
				      "usbox doctor: limits)", need, without);
	if (missing)
		return ubx_fail(e, 0,
				"%s the %s controller in cgroup v2, and on this host it is bound to "
				"cgroup v1 (boot with systemd.unified_cgroup_hierarchy=1, or run without %s; "
				"usbox doctor: limits)",
				need, missing, without);
	return ubx_fail(e, 0,
			"%s a cgroup v2 subtree you own, and there is none: no systemd user manager "
			"at $XDG_RUNTIME_DIR/bus, and no cgroup above usbox's own is delegated to you with %s "
			"(run `loginctl enable-linger` and log in again, or pass --cgroup-parent DIR)%s "
			"(usbox doctor: limits)",
			need, ctl, extra);
}

static bool user_manager_reachable(void)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char path[PATH_MAX];
	struct stat st;
	if (!rt || !*rt)
		return false;
	snprintf(path, sizeof(path), "%s/bus", rt);
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* ----------------------------------------------------------------- set-up */

/* Writes "PREFIX" V "SUFFIX" (or "max") to @file of @leaf, when V is set. */
static int write_limit(const char *leaf, const char *file, uint64_t v, const char *prefix, const char *suffix,
		       struct ubx_err *e)
{
	char text[64];
	if (v == CGROUP_UNSET)
		return 0;
	if (v == CGROUP_MAX)
		snprintf(text, sizeof(text), "%smax%s", prefix, suffix);
	else
		snprintf(text, sizeof(text), "%s%" PRIu64 "%s", prefix, v, suffix);
	int r = cgroup_write_file(leaf, file, text);
	return r < 0 ? ubx_fail(e, -r, "set %s to %s in %s", file, text, leaf) : 0;
}

static int apply_limits(const char *leaf, const struct cgroup_limits *l, struct ubx_err *e)
{
	int r;
	if ((r = write_limit(leaf, "memory.max", l->mem, "", "", e)) < 0 ||
	    (r = write_limit(leaf, "memory.swap.max", l->mem_swap, "", "", e)) < 0 ||
	    (r = write_limit(leaf, "memory.high", l->mem_high, "", "", e)) < 0 ||
	    (r = write_limit(leaf, "cpu.max", l->cpu_quota, "", " 100000", e)) < 0 ||
	    (r = write_limit(leaf, "cpu.weight", l->cpu_weight, "", "", e)) < 0 ||
	    (r = write_limit(leaf, "io.weight", l->io_weight, "default ", "", e)) < 0 ||
	    (r = write_limit(leaf, "pids.max", l->pids, "", "", e)) < 0)
		return r;
	if (l->cpuset_cpus[0] && (r = cgroup_write_file(leaf, "cpuset.cpus", l->cpuset_cpus)) < 0)
		return ubx_fail(e, -r, "set cpuset.cpus to %s", l->cpuset_cpus);
	/* One OOM kill takes the whole sandbox, so it cannot limp on half-dead. */
	if (l->mem != CGROUP_UNSET)
		(void)cgroup_write_file(leaf, "memory.oom.group", "1");
	return 0;
}

/* Enables @ctl ("memory pids") in @dir's subtree_control. */
static int enable_controllers(const char *dir, const char *ctl, struct ubx_err *e)
{
	char text[128] = "", copy[128], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", ctl);
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		strncat(text, "+", sizeof(text) - strlen(text) - 1);
		strncat(text, w, sizeof(text) - strlen(text) - 1);
		strncat(text, " ", sizeof(text) - strlen(text) - 1);
	}
	if (!*text)
		return 0;
	int r = cgroup_write_file(dir, "cgroup.subtree_control", text);
	if (r < 0)
		return ubx_fail(e, -r,
				"enable the %s controller%s in %s (is %s delegated to you? usbox doctor: limits)", ctl,
				strchr(ctl, ' ') ? "s" : "", dir, ctl);
	return 0;
}

/* Builds own/sandbox (and own/supervisor, moving usbox there, when usbox is
 * inside own), enables @ctl and applies the limits. */
static int build_leaves(struct cgroup_sandbox *cg, const char *ctl, bool usbox_inside, struct ubx_err *e)
{
	char leaf[PATH_MAX + 16];
	int r;

	if (usbox_inside) {
		snprintf(leaf, sizeof(leaf), "%s/supervisor", cg->own);
		if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
			return ubx_fail(e, errno, "mkdir %s", leaf);
		if ((r = cgroup_write_file(leaf, "cgroup.procs", "0")) < 0)
			return ubx_fail(e, -r, "move usbox into %s", leaf);
	}
	if ((r = enable_controllers(cg->own, ctl, e)) < 0)
		return r;
	snprintf(leaf, sizeof(leaf), "%s/sandbox", cg->own);
	if (mkdir(leaf, 0755) < 0)
		return ubx_fail(e, errno, "mkdir %s", leaf);
	if ((r = apply_limits(leaf, &cg->limits, e)) < 0)
		return r;
	cg->leaf_fd = open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return cg->leaf_fd < 0 ? ubx_fail(e, errno, "open %s", leaf) : 0;
}

/* Gets a systemd scope for usbox; 0 with cg->own set, -ENOENT to fall back. */
static int obtain_scope(struct cgroup_sandbox *cg, const char *mnt, struct ubx_err *e)
{
	snprintf(cg->unit, sizeof(cg->unit), "usbox-%d.scope", (int)getpid());
	int r = cgroup_systemd_scope(cg->unit, e);
	if (r < 0) {
		cg->unit[0] = '\0';
		return r;
	}
	return own_cgroup_path(mnt, cg->own, sizeof(cg->own), e);
}

/* Where the sandbox's own cgroup goes: fills cg->own, tells whether usbox is
 * inside it already. */
static int choose_home(struct cgroup_sandbox *cg, const char *mnt, const char *parent, const char *ctl,
		       bool stats_only, bool *usbox_inside, struct ubx_err *e)
{
	char base[PATH_MAX], self[PATH_MAX];
	int r;

	*usbox_inside = false;
	if (parent) {
		snprintf(base, sizeof(base), "%s%s", strncmp(parent, mnt, strlen(mnt)) == 0 ? "" : mnt, parent);
		if (!can_host(base, ctl))
			return ubx_fail(e, 0,
					"--cgroup-parent %s: not a cgroup v2 directory you may create children in "
					"with the %s controller%s enabled",
					parent, ctl, strchr(ctl, ' ') ? "s" : "");
	} else if (user_manager_reachable() && (r = obtain_scope(cg, mnt, e)) != -ENOENT) {
		*usbox_inside = r == 0;
		return r;
	} else {
		if ((r = own_cgroup_path(mnt, self, sizeof(self), e)) < 0)
			return r;
		if (find_delegated(mnt, self, ctl, base, sizeof(base)) < 0)
			return fail_no_delegation(mnt, ctl, stats_only, e);
	}
	remove_stale(base);
	snprintf(cg->own, sizeof(cg->own), "%.4000s/usbox-%d", base, (int)getpid());
	if (mkdir(cg->own, 0755) < 0)
		return ubx_fail(e, errno, "mkdir %s", cg->own);
	cg->remove_own = true;
	return 0;
}

int cgroup_setup(const struct cgroup_limits *l, const char *parent, bool stats, struct cgroup_sandbox *cg,
		 struct ubx_err *e)
{
	char mnt[PATH_MAX], ctl[64];
	bool inside;

	bool stats_only = !cgroup_limits_any(l);

	*cg = (struct cgroup_sandbox){ .leaf_fd = -1, .limits = *l };
	needed_controllers(l, stats, ctl, sizeof(ctl));
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f || cgroup_find_mount(f, mnt, sizeof(mnt)) < 0)
		return fail_no_delegation(NULL, ctl, stats_only, e);
	cg->active = true;
	int r = choose_home(cg, mnt, parent, ctl, stats_only, &inside, e);
	if (r == 0)
		r = build_leaves(cg, ctl, inside, e);
	if (r < 0)
		cgroup_teardown(cg);
	return r;
}

int cgroup_add_pid(const struct cgroup_sandbox *cg, int pid, struct ubx_err *e)
{
	char leaf[PATH_MAX + 16], text[16];
	snprintf(leaf, sizeof(leaf), "%s/sandbox", cg->own);
	snprintf(text, sizeof(text), "%d", pid);
	int r = cgroup_write_file(leaf, "cgroup.procs", text);
	return r < 0 ? ubx_fail(e, -r, "move the sandbox into %s", leaf) : 0;
}

bool cgroup_oom_killed(const struct cgroup_sandbox *cg)
{
	char leaf[PATH_MAX + 16];
	if (!cg->active || cg->leaf_fd < 0)
		return false;
	snprintf(leaf, sizeof(leaf), "%s/sandbox", cg->own);
	return read_key(leaf, "memory.events", "oom_kill") > 0 || read_key(leaf, "memory.events", "oom_group_kill") > 0;
}

void cgroup_read_stats(const struct cgroup_sandbox *cg, struct cgroup_stats *s)
{
	char leaf[PATH_MAX + 16];
	*s = (struct cgroup_stats){ 0 };
	if (!cg->active || cg->leaf_fd < 0)
		return;
	snprintf(leaf, sizeof(leaf), "%s/sandbox", cg->own);
	s->mem_peak = read_number(leaf, "memory.peak");
	s->cpu_usec = read_key(leaf, "cpu.stat", "usage_usec");
	s->pids_peak = read_number(leaf, "pids.peak");
}

/* rmdir that waits a little for the kernel to let go of killed processes. */
static void remove_dir(const char *dir)
{
	for (int i = 0; i < 200 && rmdir(dir) < 0 && errno == EBUSY; i++) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void cgroup_teardown(struct cgroup_sandbox *cg)
{
	char leaf[PATH_MAX + 16];
	if (!cg->active)
		return;
	if (cg->own[0]) {
		snprintf(leaf, sizeof(leaf), "%s/sandbox", cg->own);
		(void)cgroup_write_file(leaf, "cgroup.kill", "1");
		remove_dir(leaf);
		if (cg->remove_own)
			remove_dir(cg->own);
	}
	if (cg->leaf_fd >= 0)
		close(cg->leaf_fd);
	cg->leaf_fd = -1;
	cg->active = false;
}
