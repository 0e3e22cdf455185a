/* SPDX-License-Identifier: MIT */
/*
 * state.c - spec.json's neighbours: state.json and run.json (state.h).
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "../common/statedir.h"

#define STATE_MAX (16u << 10)

void ctr_now(char buf[CTR_TIME_LEN])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	size_t n = strftime(buf, CTR_TIME_LEN, "%Y-%m-%dT%H:%M:%S", gmtime_r(&ts.tv_sec, &tm));
	snprintf(buf + n, CTR_TIME_LEN - n, ".%09dZ", (int)(ts.tv_nsec % 1000000000));
}

const char *ctr_status_name(enum ctr_status s)
{
	return s == CTR_RUNNING ? "running" : s == CTR_EXITED ? "exited" : "created";
}

static struct {
	bool known;
	uid_t uid;
	char base[4096];
} owner;

void ctr_state_init(void)
{
	owner.uid = getuid();
	state_dir_path(owner.uid, owner.base, sizeof(owner.base));
	owner.known = true;
}

int ctr_run_dir(const char *id, bool make, char *buf, size_t len, struct ubx_err *e)
{
	if (!owner.known)
		ctr_state_init();
	const char *base = owner.base;
	if (make) {
		_cleanup_close_ int fd = state_dir_open(base, owner.uid, e);
		if (fd < 0)
			return fd;
	}
	if ((size_t)snprintf(buf, len, "%s/containers/%.64s", base, id) >= len)
		return ubx_fail(e, ENAMETOOLONG, "%s/containers", base);
	if (!make)
		return 0;
	/* (another container's end may take the empty containers/ away in between) */
	int r = mkdir_parents(buf, 0700, e);
	return r == -ENOENT ? mkdir_parents(buf, 0700, e) : r;
}

/* Writes @o's text to @fd from its start, then cuts what an older, longer
 * text left (a reader in between sees no valid JSON and reads again). */
static int put_json(int fd, struct json_object *o, const char *what, struct ubx_err *e)
{
	size_t n;
	const char *text = jsonc.json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!text)
		return ubx_fail(e, ENOMEM, "%s", what);
	if (pwrite(fd, text, n, 0) != (ssize_t)n || pwrite(fd, "\n", 1, (off_t)n) != 1 ||
	    ftruncate(fd, (off_t)n + 1) < 0)
		return ubx_fail(e, errno, "write %s", what);
	return 0;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	jsonc.json_object_object_add(o, k, jsonc.json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	jsonc.json_object_object_add(o, k, jsonc.json_object_new_int64(v));
}

static int64_t get_int(struct json_object *o, const char *k, int64_t dflt)
{
	struct json_object *v = jsonc_member(o, k);
	return jsonc_is(v, json_type_int) ? jsonc.json_object_get_int64(v) : dflt;
}

static void get_str(struct json_object *o, const char *k, char *buf, size_t len)
{
	struct json_object *v = jsonc_member(o, k);
	snprintf(buf, len, "%s", jsonc_is(v, json_type_string) ? jsonc.json_object_get_string(v) : "");
}

/* Reads a small JSON object from @fd, again when caught mid-write (what
 * fails to parse and then reads differently was being written). */
static int read_json_fd(int fd, const char *what, struct json_object **out, struct ubx_err *e)
{
	char text[2][STATE_MAX];
	ssize_t len[2] = { -1, -1 };
	int r = -EINVAL;
	for (int attempt = 0; attempt < 50; attempt++) {
		int k = attempt & 1;
		ssize_t n = pread(fd, text[k], sizeof(text[k]), 0);
		if (n < 0)
			return ubx_fail(e, errno, "read %s", what);
		if (attempt && n == len[!k] && memcmp(text[k], text[!k], (size_t)n) == 0)
			return r; /* the same again: not a write in progress */
		len[k] = n;
		if ((r = jsonc_parse(text[k], (size_t)n, sizeof(text[k]), what, out, e)) == 0) {
			if (jsonc_is(*out, json_type_object))
				return 0;
			jsonc.json_object_put(*out);
			*out = NULL;
			r = ubx_fail(e, EINVAL, "%s: not an object", what);
		}
		if (jsonc_load(what, e) < 0)
			return -ENOENT;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return r;
}

int ctr_run_write(const char *dir, const struct ctr_run *r, struct ubx_err *e)
{
	char path[4300], tmp[4300];
	int rc = jsonc_load("container state", e);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/run.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/run.json.tmp", dir);
	_cleanup_json_ struct json_object *o = jsonc.json_object_new_object();
	if (!o)
		return ubx_fail(e, ENOMEM, "run.json");
	add_int(o, "monitor_pid", r->monitor);
	add_int(o, "init_pid", r->init);
	add_int(o, "init_start", (int64_t)r->init_start);
	add_int(o, "full_map", r->full_map);
	add_str(o, "cgroup", r->cgroup);
	add_str(o, "address", r->address);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ubx_fail(e, errno, "%s", tmp);
	if ((rc = put_json(fd, o, tmp, e)) < 0 || rename(tmp, path) < 0) {
		rc = rc < 0 ? rc : ubx_fail(e, errno, "%s", path);
		(void)unlink(tmp);
	}
	return rc;
}

int ctr_run_read(const char *id, struct ctr_run *r, struct ubx_err *e)
{
	char dir[4200], path[4300];
	int rc = ctr_run_dir(id, false, dir, sizeof(dir), e);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/run.json", dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ubx_fail(e, errno, "%s", path);
	_cleanup_json_ struct json_object *o = NULL;
	if ((rc = read_json_fd(fd, path, &o, e)) < 0)
		return rc;
	*r = (struct ctr_run){ .monitor = (pid_t)get_int(o, "monitor_pid", 0), .init = (pid_t)get_int(o, "init_pid", 0),
			       .init_start = (uint64_t)get_int(o, "init_start", 0),
			       .full_map = get_int(o, "full_map", 0) != 0 };
	get_str(o, "cgroup", r->cgroup, sizeof(r->cgroup));
	get_str(o, "address", r->address, sizeof(r->address));
	if (r->init <= 0)
		return ubx_fail(e, EINVAL, "%s: no init_pid", path);
	return 0;
}

void ctr_run_remove(const char *id)
{
	char dir[4200];
	struct ubx_err ignore;
	if (ctr_run_dir(id, false, dir, sizeof(dir), &ignore) == 0)
		ctr_run_remove_dir(dir);
}

void ctr_run_remove_dir(const char *dir)
{
	char path[4300];
	const char *files[] = { "run.json", "run.json.tmp", "attach.sock", "net.json", "net.json.tmp" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
	/* and containers/ when it was the last: the state directory goes when idle */
	snprintf(path, sizeof(path), "%s", dir);
	char *slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		(void)rmdir(path);
	}
}

int ctr_state_write(const char *cdir, const struct ctr_state *s, struct ubx_err *e)
{
	char path[4300];
	int r = jsonc_load("container state", e);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/state.json", cdir);
	_cleanup_json_ struct json_object *o = jsonc.json_object_new_object();
	if (!o)
		return ubx_fail(e, ENOMEM, "state.json");
	add_str(o, "status", ctr_status_name(s->status));
	add_int(o, "exit_code", s->exit_code);
	add_int(o, "oom_killed", s->oom_killed);
	add_str(o, "started", s->started);
	add_str(o, "finished", s->finished);
	if (s->status == CTR_RUNNING && s->init > 0) {
		add_int(o, "monitor_pid", s->monitor);
		add_int(o, "init_pid", s->init);
		add_int(o, "init_start", (int64_t)s->init_start);
		add_str(o, "cgroup", s->cgroup);
		add_int(o, "full_map", s->full_map);
	}
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ubx_fail(e, errno, "%s", path);
	return put_json(fd, o, path, e);
}

int ctr_state_read_fd(int fd, struct ctr_state *s, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *o = NULL;
	int r = read_json_fd(fd, "state.json", &o, e);
	if (r < 0)
		return r;
	char status[16];
	get_str(o, "status", status, sizeof(status));
	*s = (struct ctr_state){ .status = strcmp(status, "running") == 0  ? CTR_RUNNING
					   : strcmp(status, "exited") == 0 ? CTR_EXITED
									   : CTR_CREATED,
				 .exit_code = (int)get_int(o, "exit_code", -1),
				 .oom_killed = get_int(o, "oom_killed", 0) != 0 };
	get_str(o, "started", s->started, sizeof(s->started));
	get_str(o, "finished", s->finished, sizeof(s->finished));
	s->monitor = (pid_t)get_int(o, "monitor_pid", 0);
	s->init = (pid_t)get_int(o, "init_pid", 0);
	s->init_start = (uint64_t)get_int(o, "init_start", 0);
	get_str(o, "cgroup", s->cgroup, sizeof(s->cgroup));
	s->full_map = get_int(o, "full_map", 0) != 0;
	return 0;
}

int ctr_run_find(const char *id, const char *cdir, struct ctr_run *r, struct ubx_err *e)
{
	struct ctr_state s;
	if (ctr_run_read(id, r, e) == 0)
		return 0;
	int rc = ctr_state_read(cdir, &s, e);
	if (rc < 0)
		return rc;
	if (s.status != CTR_RUNNING || s.init <= 0)
		return ubx_fail(e, ENOENT, "container %s: no record of its processes", id);
	*r = (struct ctr_run){ .monitor = s.monitor, .init = s.init, .init_start = s.init_start,
			       .full_map = s.full_map };
	snprintf(r->cgroup, sizeof(r->cgroup), "%s", s.cgroup);
	return 0;
}

int ctr_state_read(const char *cdir, struct ctr_state *s, struct ubx_err *e)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/state.json", cdir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*s = (struct ctr_state){ .status = CTR_CREATED, .exit_code = -1 };
		return errno == ENOENT ? 0 : ubx_fail(e, errno, "%s", path);
	}
	return ctr_state_read_fd(fd, s, e);
}

int ctr_proc_start(pid_t pid, uint64_t *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the name may hold anything but ends the last ')' */
	if (!p)
		return -EINVAL;
	/* after ") ": state is field 3; starttime is field 22 */
	unsigned long long v = 0;
	int field = 2;
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || sscanf(p, "%llu", &v) != 1)
		return -EINVAL;
	*start = v;
	return 0;
}

int ctr_init_pidfd(const struct ctr_run *r)
{
	uint64_t start;
	int fd = (int)syscall(SYS_pidfd_open, r->init, 0);
	if (fd < 0)
		return -ESRCH;
	if (ctr_proc_start(r->init, &start) < 0 || start != r->init_start) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}
