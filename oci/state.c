/* SPDX-License-Identifier: MIT */
/*
 * state.c - usbox-oci's per-container state directories (see state.h).
 *
 * DOC: Theory of operation
 * Everything is reached from the directory's fd (openat, renameat), so a
 * container whose directory is removed and made again under the same id is
 * never mixed up with the old one.  state.json is written to a temporary
 * name and renamed.  The container's process is named by pid and start time;
 * a zombie counts as stopped, as its engine (conmon, the shim) is about to
 * reap it.
 */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "../container/state.h"
#include "cgroup.h"

#define STATE_MAX (1u << 20)

bool oci_state_host_root(void)
{
	char buf[128];
	unsigned a, b, c;
	if (geteuid() != 0)
		return false;
	_cleanup_close_ int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return sscanf(buf, "%u %u %u", &a, &b, &c) == 3 && a == 0 && b == 0 && c == 4294967295u;
}

int oci_state_root(const char *given, char *out, size_t len, struct ubx_err *e)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;
	if (given)
		n = snprintf(out, len, "%s", given);
	else if (oci_state_host_root() || !xdg)
		n = snprintf(out, len, "/run/usbox-oci");
	else if (xdg && xdg[0] == '/')
		n = snprintf(out, len, "%s/usbox-oci", xdg);
	else
		return ubx_refuse(e, ENOENT, "no state root: give --root or set XDG_RUNTIME_DIR");
	if (n < 0 || (size_t)n >= len)
		return ubx_fail(e, ENAMETOOLONG, "--root");
	if (out[0] != '/')
		return ubx_refuse(e, EINVAL, "--root %.100s: not an absolute path", out);
	return 0;
}

int oci_state_check_id(const char *id, struct ubx_err *e)
{
	size_t n = strlen(id);
	if (n == 0 || n > OCI_ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return ubx_refuse(e, EINVAL, "invalid container id \"%.80s\"", id);
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '+' || c == '-' || c == '.'))
			return ubx_refuse(e, EINVAL, "invalid container id \"%.80s\": only letters, digits, _ + - .", id);
	}
	return 0;
}

static int lock_dir(int fd, bool exclusive, const char *id, struct ubx_err *e)
{
	if (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		return ubx_fail(e, errno, "lock container %.80s", id);
	return 0;
}

/* Makes @path and its missing parents, each 0700 (as runc does --root). */
static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (!(*p = c))
			return 0;
	}
}

/* The state root, made 0700 with its parents when missing. */
static int open_root(const char *root, bool make, struct ubx_err *e)
{
	int r = make ? mkdir_parents(root) : 0;
	if (r < 0)
		return ubx_fail(e, -r, "state root %s", root);
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : ubx_fail(e, errno, "state root %s", root);
	return fd;
}

int oci_state_create(const char *root, const char *id, struct ubx_err *e)
{
	_cleanup_close_ int rfd = open_root(root, true, e);
	if (rfd < 0)
		return rfd == -ENOENT ? ubx_fail(e, ENOENT, "state root %s", root) : rfd;
	if (mkdirat(rfd, id, 0700) < 0)
		return errno == EEXIST ? ubx_refuse(e, EEXIST, "container %.80s already exists", id)
				       : ubx_fail(e, errno, "state directory of %.80s", id);
	int fd = openat(rfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ubx_fail(e, errno, "state directory of %.80s", id);
	if (lock_dir(fd, true, id, e) < 0 || mkfifoat(fd, "exec.fifo", 0600) < 0) {
		int r = e->code ? -e->code : ubx_fail(e, errno, "exec fifo of %.80s", id);
		close(fd);
		(void)unlinkat(rfd, id, AT_REMOVEDIR);
		return r;
	}
	return fd;
}

int oci_state_open(const char *root, const char *id, bool exclusive, struct ubx_err *e)
{
	_cleanup_close_ int rfd = open_root(root, false, e);
	int fd = rfd < 0 ? -1 : openat(rfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return (rfd == -ENOENT || errno == ENOENT) ? ubx_refuse(e, ENOENT, "container %.80s does not exist", id)
							   : rfd < 0 ? rfd : ubx_fail(e, errno, "container %.80s", id);
	if (lock_dir(fd, exclusive, id, e) < 0) {
		close(fd);
		return -e->code;
	}
	return fd;
}

int oci_state_load(const char *root, const char *id, bool exclusive, struct oci_state *s, struct ubx_err *e)
{
	int dir = oci_state_open(root, id, exclusive, e);
	if (dir < 0)
		return dir;
	int r = oci_state_read(dir, s, e);
	if (r < 0) {
		close(dir);
		return r;
	}
	return dir;
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	jsonc.json_object_object_add(o, key, v);
}

static struct json_object *state_object(const struct oci_state *s)
{
	struct json_object *o = jsonc.json_object_new_object();
	if (!o)
		return NULL;
	add(o, "id", jsonc.json_object_new_string(s->id));
	add(o, "pid", jsonc.json_object_new_int64(s->pid));
	add(o, "start", jsonc.json_object_new_int64((int64_t)s->start));
	add(o, "bundle", jsonc.json_object_new_string(s->bundle));
	add(o, "created", jsonc.json_object_new_string(s->created));
	add(o, "own_pidns", jsonc.json_object_new_boolean(s->own_pidns));
	add(o, "owner", jsonc.json_object_new_string(s->owner));
	if (s->cgroup[0])
		add(o, "cgroup", jsonc.json_object_new_string(s->cgroup));
	if (s->annotations)
		add(o, "annotations", jsonc.json_object_new_string(s->annotations));
	return o;
}

int oci_state_write(int dir, const struct oci_state *s, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *o = state_object(s);
	if (!o)
		return ubx_fail(e, ENOMEM, "state of %.80s", s->id);
	size_t len;
	const char *text = jsonc.json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	_cleanup_close_ int fd = openat(dir, "state.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
					0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 ||
	    renameat(dir, "state.json.tmp", dir, "state.json") < 0)
		return ubx_fail(e, errno ? errno : EIO, "write the state of %.80s", s->id);
	return 0;
}

static int copy_string(struct json_object *o, const char *key, char *out, size_t len)
{
	struct json_object *v = jsonc_member(o, key);
	if (!jsonc_is(v, json_type_string) || (size_t)jsonc.json_object_get_string_len(v) >= len)
		return -EINVAL;
	snprintf(out, len, "%s", jsonc.json_object_get_string(v));
	return 0;
}

static int state_from(struct json_object *o, struct oci_state *s)
{
	struct json_object *pid = jsonc_member(o, "pid"), *start = jsonc_member(o, "start");
	struct json_object *ann = jsonc_member(o, "annotations");
	if (!jsonc_is(pid, json_type_int) || !jsonc_is(start, json_type_int) || copy_string(o, "id", s->id, sizeof(s->id)) ||
	    copy_string(o, "bundle", s->bundle, sizeof(s->bundle)) ||
	    copy_string(o, "created", s->created, sizeof(s->created)) ||
	    copy_string(o, "owner", s->owner, sizeof(s->owner)))
		return -EINVAL;
	int64_t p = jsonc.json_object_get_int64(pid);
	if (p <= 0 || p > INT32_MAX)
		return -EINVAL;
	s->pid = (pid_t)p;
	s->start = (uint64_t)jsonc.json_object_get_int64(start);
	s->own_pidns = jsonc.json_object_get_boolean(jsonc_member(o, "own_pidns"));
	if (jsonc_member(o, "cgroup") &&
	    (copy_string(o, "cgroup", s->cgroup, sizeof(s->cgroup)) || !oci_cgroup_check(s->cgroup)))
		return -EINVAL;
	if (jsonc_is(ann, json_type_string) && !(s->annotations = strdup(jsonc.json_object_get_string(ann))))
		return -ENOMEM;
	return 0;
}

int oci_state_read(int dir, struct oci_state *s, struct ubx_err *e)
{
	char text[65536];
	*s = (struct oci_state){ 0 };
	_cleanup_close_ int fd = openat(dir, "state.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ubx_fail(e, errno == ENOENT ? ENOENT : errno, "the container's state");
	ssize_t n = read(fd, text, sizeof(text));
	if (n < 0)
		return ubx_fail(e, errno, "the container's state");
	_cleanup_json_ struct json_object *o = NULL;
	int r = jsonc_parse(text, (size_t)n, sizeof(text) - 1, "state.json", &o, e);
	if (r < 0)
		return r;
	if ((r = state_from(o, s)) < 0) {
		oci_state_free(s);
		return ubx_fail(e, -r, "state.json: damaged");
	}
	return 0;
}

void oci_state_free(struct oci_state *s)
{
	free(s->annotations);
	s->annotations = NULL;
}

/* Whether @s's process still runs: the same start time, and not a zombie. */
static bool alive(const struct oci_state *s)
{
	char path[64], buf[512];
	uint64_t start;
	if (ctr_proc_start(s->pid, &start) < 0 || start != s->start)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)s->pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

const char *oci_state_status(int dir, const struct oci_state *s)
{
	struct stat st;
	if (!alive(s))
		return "stopped";
	if (fstatat(dir, "exec.fifo", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return "created";
	return s->cgroup[0] && oci_cgroup_frozen(s->cgroup) ? "paused" : "running";
}

int oci_state_pidfd(const struct oci_state *s)
{
	int fd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (fd < 0)
		return -ESRCH;
	if (!alive(s)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

char *oci_state_json(int dir, const struct oci_state *s)
{
	_cleanup_json_ struct json_object *o = jsonc.json_object_new_object();
	const char *status = oci_state_status(dir, s);
	if (!o)
		return NULL;
	add(o, "ociVersion", jsonc.json_object_new_string("1.2.0"));
	add(o, "id", jsonc.json_object_new_string(s->id));
	add(o, "status", jsonc.json_object_new_string(status));
	add(o, "pid", jsonc.json_object_new_int64(strcmp(status, "stopped") == 0 ? 0 : s->pid));
	add(o, "bundle", jsonc.json_object_new_string(s->bundle));
	add(o, "created", jsonc.json_object_new_string(s->created));
	add(o, "owner", jsonc.json_object_new_string(s->owner));
	struct json_object *ann = NULL;
	struct ubx_err e = { 0 };
	if (s->annotations && jsonc_parse(s->annotations, strlen(s->annotations), STATE_MAX, "annotations", &ann, &e) == 0)
		add(o, "annotations", ann);
	return strdup(jsonc.json_object_to_json_string_length(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, NULL));
}

int oci_state_remove(const char *root, const char *id, struct ubx_err *e)
{
	_cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = rfd < 0 ? -1 : openat(rfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : ubx_fail(e, errno, "state directory of %.80s", id);
	static const char *const files[] = { "state.json", "state.json.tmp", "exec.fifo", "hooks.json" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (unlinkat(fd, files[i], 0) < 0 && errno != ENOENT)
			return ubx_fail(e, errno, "remove %.80s/%s", id, files[i]);
	if (unlinkat(rfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return ubx_fail(e, errno, "remove the state directory of %.80s", id);
	return 0;
}
