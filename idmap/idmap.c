/* SPDX-License-Identifier: MIT */
/*
 * idmap.c - subordinate id ranges, map layout and map writing.
 */
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/parse.h"

extern char **environ;

/* Splits "owner:start:count" and checks it names @name or @id. */
static bool subid_line_matches(char *line, const char *name, uint32_t id, struct idmap_range *r)
{
	char *save = NULL;
	char *owner = strtok_r(line, ":", &save);
	char *start = strtok_r(NULL, ":", &save);
	char *count = strtok_r(NULL, ":\n", &save);
	uint64_t s, c;
	uint32_t owner_id;

	if (!owner || !start || !count || strtok_r(NULL, "\n", &save))
		return false;
	bool named = name && strcmp(owner, name) == 0;
	bool numbered = parse_id(owner, &owner_id) == 0 && owner_id == id;
	if (!named && !numbered)
		return false;
	if (parse_u64(start, UINT32_MAX, &s) < 0 || parse_u64(count, UINT32_MAX, &c) < 0 || c == 0 ||
	    s + c - 1 > UINT32_MAX - 1)
		return false;
	r->start = (uint32_t)s;
	r->count = (uint32_t)c;
	return true;
}

size_t idmap_subid_parse(FILE *f, const char *name, uint32_t id, struct idmap_range out[IDMAP_MAX_RANGES])
{
	char line[512];
	size_t n = 0;

	while (n < IDMAP_MAX_RANGES && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		if (subid_line_matches(p, name, id, &out[n]))
			n++;
	}
	return n;
}

static int extent_cmp(const void *a, const void *b)
{
	const struct idmap_extent *x = a, *y = b;
	return (x->inside > y->inside) - (x->inside < y->inside);
}

uint64_t idmap_layout(uint32_t inside_self, uint32_t outside_self, const struct idmap_range *ranges,
		      size_t nranges, uint64_t total, struct idmap *out)
{
	uint64_t next = 0, left = total ? total - 1 : 0, mapped = 1;

	out->n = 0;
	out->ext[out->n++] = (struct idmap_extent){ inside_self, outside_self, 1 };
	for (size_t i = 0; i < nranges && left; i++) {
		uint64_t off = 0;
		while (off < ranges[i].count && left && out->n < IDMAP_MAX_EXTENTS) {
			if (next == inside_self)
				next++;
			uint64_t len = ranges[i].count - off;
			if (len > left)
				len = left;
			if (next < inside_self && len > inside_self - next)
				len = inside_self - next;
			if (next + len - 1 > UINT32_MAX - 1)
				return mapped; /* inside ids ran out */
			out->ext[out->n++] = (struct idmap_extent){ (uint32_t)next,
								    (uint32_t)(ranges[i].start + off),
								    (uint32_t)len };
			next += len;
			off += len;
			left -= len;
			mapped += len;
		}
	}
	qsort(out->ext, out->n, sizeof(out->ext[0]), extent_cmp);
	return mapped;
}

int idmap_format(const struct idmap *m, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < m->n; i++) {
		int n = snprintf(buf + used, len - used, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n",
				 m->ext[i].inside, m->ext[i].outside, m->ext[i].count);
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return (int)used;
}

static int write_proc_file(pid_t pid, const char *file, const char *text, size_t len, struct ubx_err *e)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ubx_fail(e, errno, "open %s", path);
	ssize_t n = write(fd, text, len);
	if (n < 0)
		return ubx_fail(e, errno, "write %s", path);
	if ((size_t)n != len)
		return ubx_fail(e, EIO, "write %s: short write", path);
	return 0;
}

int idmap_write_direct(pid_t pid, const char *which, const struct idmap *m, bool deny_setgroups,
		       struct ubx_err *e)
{
	char text[IDMAP_MAX_EXTENTS * 36];
	char file[16];
	int r;

	if (deny_setgroups) {
		r = write_proc_file(pid, "setgroups", "deny", 4, e);
		if (r < 0)
			return r;
	}
	int len = idmap_format(m, text, sizeof(text));
	if (len < 0)
		return ubx_fail(e, -len, "format %s map", which);
	snprintf(file, sizeof(file), "%s_map", which);
	return write_proc_file(pid, file, text, (size_t)len, e);
}

/* Reads the calling process's own @which ("uid"/"gid") map as identity
 * extents of its namespace's ids. */
static int own_ids(const char *which, struct idmap *m, struct ubx_err *e)
{
	char path[32];
	unsigned long in, out, count;

	snprintf(path, sizeof(path), "/proc/self/%s_map", which);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return ubx_fail(e, errno, "read %s", path);
	m->n = 0;
	while (m->n < IDMAP_MAX_EXTENTS && fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3)
		m->ext[m->n++] = (struct idmap_extent){ (uint32_t)in, (uint32_t)in, (uint32_t)count };
	return m->n ? 0 : ubx_fail(e, EINVAL, "%s is empty", path);
}

int idmap_write_identity(pid_t pid, struct ubx_err *e)
{
	struct idmap m;
	int r = own_ids("uid", &m, e);
	if (r == 0)
		r = idmap_write_direct(pid, "uid", &m, false, e);
	if (r == 0)
		r = own_ids("gid", &m, e);
	if (r == 0)
		r = idmap_write_direct(pid, "gid", &m, false, e);
	return r;
}

/* Reads what a helper printed on stderr, keeping its first line. */
static void read_helper_message(int fd, char *msg, size_t len)
{
	size_t used = 0;
	ssize_t n;

	msg[0] = '\0';
	while ((n = read(fd, msg + used, len - 1 - used)) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0)
			used += (size_t)n;
		if (used == len - 1) {
			char sink[256];
			while (read(fd, sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	msg[used] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
}

int idmap_run_helper(const char *helper, pid_t pid, const struct idmap *m, struct ubx_err *e)
{
	char args[IDMAP_MAX_EXTENTS * 3 + 3][12];
	char *argv[IDMAP_MAX_EXTENTS * 3 + 3];
	size_t argc = 0;
	int pfd[2], status, r;
	char msg[400];
	pid_t child;

	argv[argc++] = (char *)helper;
	snprintf(args[argc], sizeof(args[0]), "%d", (int)pid);
	argv[argc] = args[argc];
	argc++;
	for (size_t i = 0; i < m->n; i++) {
		const uint32_t v[3] = { m->ext[i].inside, m->ext[i].outside, m->ext[i].count };
		for (int k = 0; k < 3; k++, argc++) {
			snprintf(args[argc], sizeof(args[0]), "%" PRIu32, v[k]);
			argv[argc] = args[argc];
		}
	}
	argv[argc] = NULL;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return ubx_fail(e, errno, "pipe");
	_cleanup_close_ int rd = pfd[0];
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDERR_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	r = posix_spawnp(&child, helper, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0)
		return ubx_fail(e, r, "%s", helper);
	read_helper_message(rd, msg, sizeof(msg));
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return ubx_fail(e, errno, "wait for %s", helper);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return ubx_fail(e, 0, "%s failed: %s", helper, msg[0] ? msg : "no message");
}

/* Whether @name can be found in $PATH as an executable. */
static bool helper_exists(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	_cleanup_free_ char *copy = strdup(path);
	char *save = NULL;
	char full[PATH_MAX];

	if (!copy)
		return false;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(full, sizeof(full), "%s/%s", dir, name);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

static size_t read_ranges(const char *path, const char *user, uint32_t id, struct idmap_range *out)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	return f ? idmap_subid_parse(f, user, id, out) : 0;
}

static uint64_t ranges_total(const struct idmap_range *r, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += r[i].count;
	return sum;
}

static void plan_single(const struct idmap_request *req, struct idmap_plan *plan)
{
	plan->method = IDMAP_SINGLE;
	idmap_layout(req->inside_uid, req->uid, NULL, 0, 1, &plan->uid);
	idmap_layout(req->inside_gid, req->gid, NULL, 0, 1, &plan->gid);
}

/* Lays out the sandbox's map inside the holder: the caller is the holder's
 * id 0, its subordinate ids are the holder's ids 1..count. */
static void plan_holder(const struct idmap_request *req, uint64_t nuid, uint64_t ngid, struct idmap_plan *plan)
{
	const struct idmap_range u = { 1, (uint32_t)(nuid < IDMAP_SANDBOX_IDS ? nuid : IDMAP_SANDBOX_IDS) };
	const struct idmap_range g = { 1, (uint32_t)(ngid < IDMAP_SANDBOX_IDS ? ngid : IDMAP_SANDBOX_IDS) };

	plan->method = IDMAP_HOLDER;
	idmap_layout(req->inside_uid, 0, &u, 1, IDMAP_SANDBOX_IDS, &plan->uid);
	idmap_layout(req->inside_gid, 0, &g, 1, IDMAP_SANDBOX_IDS, &plan->gid);
}

int idmap_prepare(const struct idmap_request *req, struct idmap_plan *plan, struct ubx_err *e)
{
	struct idmap_range ur[IDMAP_MAX_RANGES], gr[IDMAP_MAX_RANGES];
	const char *subuid = req->subuid_path ? req->subuid_path : "/etc/subuid";
	const char *subgid = req->subgid_path ? req->subgid_path : "/etc/subgid";
	struct ubx_err herr = { 0 };

	(void)e;
	plan->holder_lock_fd = -1;
	plan->warning[0] = '\0';
	plan_single(req, plan);
	if (!req->want_full)
		return 0;

	size_t nu = read_ranges(subuid, req->user, req->uid, ur);
	size_t ng = read_ranges(subgid, req->user, req->gid, gr);
	const char *who = req->user ? req->user : "this user";
	if (nu == 0 || ng == 0) {
		snprintf(plan->warning, sizeof(plan->warning),
			 "no subordinate %s range for %s in %s; mapping only %s %" PRIu32
			 " (add a range, or pass --map single to silence this; usbox doctor: subordinate ids)",
			 nu == 0 ? "uid" : "gid", who, nu == 0 ? subuid : subgid, nu == 0 ? "uid" : "gid",
			 nu == 0 ? req->uid : req->gid);
		return 0;
	}
	const char *missing = !helper_exists("newuidmap") ? "newuidmap" :
			      !helper_exists("newgidmap") ? "newgidmap" : NULL;
	if (missing) {
		snprintf(plan->warning, sizeof(plan->warning),
			 "%s not found (install the uidmap package); mapping only uid %" PRIu32
			 " (usbox doctor: newuidmap)",
			 missing, req->uid);
		return 0;
	}
	if (req->join_userns) { /* a user network's helper stands in for the holder */
		if (setns(req->userns_fd, CLONE_NEWUSER) < 0)
			return ubx_fail(e, errno, "join the network helper's user namespace");
		plan_holder(req, ranges_total(ur, nu), ranges_total(gr, ng), plan);
		return 0;
	}
	const char *no_holder = getenv("USBOX_NO_HOLDER");
	int fd = no_holder && *no_holder && strcmp(no_holder, "0") != 0 ?
			 -EPERM :
			 holder_enter(req->uid, req->gid, ur, nu, gr, ng, &herr);
	if (fd >= 0) {
		plan->holder_lock_fd = fd;
		plan_holder(req, ranges_total(ur, nu), ranges_total(gr, ng), plan);
		return 0;
	}
	if (fd == -ECHILD) { /* a helper refused: it would refuse for the sandbox too */
		snprintf(plan->warning, sizeof(plan->warning),
			 "%.400s; mapping only uid %" PRIu32 " (usbox doctor: id map)", herr.msg, req->uid);
		return 0;
	}
	/* No holder (refused, or its state directory unusable): the helpers map
	 * each sandbox. */
	plan->method = IDMAP_HELPER;
	idmap_layout(req->inside_uid, req->uid, ur, nu, IDMAP_SANDBOX_IDS, &plan->uid);
	idmap_layout(req->inside_gid, req->gid, gr, ng, IDMAP_SANDBOX_IDS, &plan->gid);
	return 0;
}

int idmap_apply(struct idmap_plan *plan, const struct idmap_request *req, pid_t pid, struct ubx_err *e)
{
	int r;

	if (plan->method == IDMAP_NONE)
		return 0;
	if (plan->method == IDMAP_GIVEN && geteuid() != 0) {
		r = idmap_run_helper("newuidmap", pid, &plan->uid, e);
		return r < 0 ? r : idmap_run_helper("newgidmap", pid, &plan->gid, e);
	}
	if (plan->method == IDMAP_GIVEN) {
		r = idmap_write_direct(pid, "uid", &plan->uid, false, e);
		return r < 0 ? r : idmap_write_direct(pid, "gid", &plan->gid, false, e);
	}
	if (plan->method == IDMAP_HELPER) {
		struct ubx_err herr = { 0 };
		r = idmap_run_helper("newuidmap", pid, &plan->uid, &herr);
		if (r == 0)
			r = idmap_run_helper("newgidmap", pid, &plan->gid, &herr);
		if (r == 0)
			return 0;
		snprintf(plan->warning, sizeof(plan->warning),
			 "%.400s; mapping only uid %" PRIu32 " (usbox doctor: id map)", herr.msg, req->uid);
		plan_single(req, plan);
	}
	bool single = plan->method == IDMAP_SINGLE;
	r = idmap_write_direct(pid, "uid", &plan->uid, false, e);
	if (r == 0)
		r = idmap_write_direct(pid, "gid", &plan->gid, single, e);
	return r;
}

void idmap_plan_release(struct idmap_plan *plan)
{
	if (plan->holder_lock_fd >= 0) {
		(void)futimens(plan->holder_lock_fd, NULL); /* last use, for the idle clock */
		close(plan->holder_lock_fd);
		plan->holder_lock_fd = -1;
	}
}
