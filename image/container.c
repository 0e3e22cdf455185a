/* SPDX-License-Identifier: MIT */
/*
 * container.c - containers in the image store (container.h).
 */
#include "container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"

#define CONTAINER_RECORD_MAX (64u << 10)

static void new_id(char id[65])
{
	unsigned char b[32];
	if (getrandom(b, sizeof(b), 0) != sizeof(b)) { /* never short for 32 bytes; be safe anyway */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)((ts.tv_nsec >> (i % 8)) ^ (getpid() << (i % 3)) ^ (int)i);
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
}

static int read_container(struct store *s, const char *id, struct container *c, struct ubx_err *e)
{
	char path[128], text[CONTAINER_RECORD_MAX];
	snprintf(path, sizeof(path), "containers/%.64s/container.json", id);
	_cleanup_close_ int fd = openat(s->dir, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ubx_fail(e, errno, "%s/%s", s->path, path);
	ssize_t n = read(fd, text, sizeof(text));
	_cleanup_json_ struct json_object *o = NULL;
	int r = n < 0 ? ubx_fail(e, errno, "%s", path) : jsonc_parse(text, (size_t)n, sizeof(text), path, &o, e);
	if (r < 0)
		return r;
	struct json_object *name = jsonc_member(o, "name"), *img = jsonc_member(o, "image"),
			   *created = jsonc_member(o, "created"), *driver = jsonc_member(o, "driver"),
			   *ephemeral = jsonc_member(o, "ephemeral");
	*c = (struct container){ .hold = -1 };
	snprintf(c->id, sizeof(c->id), "%.64s", id);
	snprintf(c->name, sizeof(c->name), "%s", jsonc_is(name, json_type_string) ? jsonc.json_object_get_string(name) : "");
	snprintf(c->created, sizeof(c->created), "%s",
		 jsonc_is(created, json_type_string) ? jsonc.json_object_get_string(created) : "");
	snprintf(c->dir, sizeof(c->dir), "%s/containers/%s", s->path, c->id);
	snprintf(c->driver, sizeof(c->driver), "%s",
		 jsonc_is(driver, json_type_string) ? jsonc.json_object_get_string(driver) : "overlay");
	c->ephemeral = jsonc_is(ephemeral, json_type_boolean) && jsonc.json_object_get_boolean(ephemeral);
	if (!img) {
		c->host = true; /* a sandbox of the host view: no image, no layer */
		return 0;
	}
	if (!jsonc_is(img, json_type_string))
		return ubx_fail(e, EINVAL, "%s: image: not a string", path);
	return digest_parse(jsonc.json_object_get_string(img), &c->image, e);
}

int container_each(struct store *s, int (*fn)(const struct container *, void *), void *arg,
			  struct ubx_err *e)
{
	int r = jsonc_load("the image store", e);
	_cleanup_close_ int dir = r < 0 ? -1 : openat(s->dir, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dir >= 0 ? fdopendir(dup(dir)) : NULL;
	if (!d)
		return r < 0 ? r : ubx_fail(e, errno, "%s/containers", s->path);
	r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(d));) {
		struct container c;
		struct ubx_err ignore;
		if (strlen(de->d_name) == 64 && read_container(s, de->d_name, &c, &ignore) == 0)
			r = fn(&c, arg);
	}
	closedir(d);
	return r;
}

struct find_arg {
	const char *ref;
	struct container *out;
	int hits;
};

static int match(const struct container *c, void *opaque)
{
	struct find_arg *a = opaque;
	size_t n = strlen(a->ref);
	if (strcmp(c->name, a->ref) == 0) {
		*a->out = *c;
		a->hits = 1;
		return 1; /* a name wins outright */
	}
	if (n >= 4 && n <= 64 && strncmp(c->id, a->ref, n) == 0 && a->hits++ == 0)
		*a->out = *c;
	return 0;
}

int container_find(struct store *s, const char *ref, struct container *out, struct ubx_err *e)
{
	struct find_arg a = { .ref = ref, .out = out };
	int r = container_each(s, match, &a, e);
	if (r < 0)
		return r;
	if (a.hits == 0)
		return ubx_refuse(e, ENOENT, "no such container: %s", ref);
	if (a.hits > 1)
		return ubx_fail(e, EINVAL, "%s names more than one container: give more of the id", ref);
	return 0;
}

struct used_arg {
	const struct digest *id;
	char *by;
	size_t len;
};

static int uses(const struct container *c, void *opaque)
{
	struct used_arg *a = opaque;
	if (c->host || !digest_eq(&c->image, a->id))
		return 0;
	snprintf(a->by, a->len, "%s", c->name[0] ? c->name : c->id);
	return 1;
}

bool container_image_used(struct store *s, const struct digest *id, char *by, size_t len)
{
	struct used_arg a = { id, by, len };
	struct ubx_err ignore;
	return container_each(s, uses, &a, &ignore) == 1;
}

/* Writes @c's record: a new file, or over the one there (@replace). */
static int write_record(struct store *s, const struct container *c, bool replace, struct ubx_err *e)
{
	char path[160], img[DIGEST_STR_LEN + 1], extra[80] = "";
	_cleanup_free_ char *text = NULL;
	if (c->driver[0] && !c->host) /* none: the kernel's overlayfs */
		snprintf(extra, sizeof(extra), ",\"driver\":\"%s\"", c->driver);
	if (c->ephemeral)
		strcat(extra, ",\"ephemeral\":true");
	int n = c->host ? asprintf(&text, "{\"id\":\"%s\",\"name\":\"%s\",\"created\":\"%s\"%s}\n", c->id, c->name,
				   c->created, extra)
			: asprintf(&text, "{\"id\":\"%s\",\"name\":\"%s\",\"image\":\"%s\",\"created\":\"%s\"%s}\n",
				   c->id, c->name, digest_format(&c->image, img), c->created, extra);
	if (n < 0)
		return ubx_fail(e, ENOMEM, "container record");
	snprintf(path, sizeof(path), "containers/%s/container.json", c->id);
	_cleanup_close_ int fd =
		openat(s->dir, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (replace ? 0 : O_CREAT | O_EXCL), 0600);
	if (fd < 0 || write(fd, text, (size_t)n) != n || (replace && ftruncate(fd, n) < 0))
		return ubx_fail(e, errno, "%s/%s", s->path, path);
	return 0;
}

int container_set_driver(struct store *s, struct container *c, const char *driver, struct ubx_err *e)
{
	snprintf(c->driver, sizeof(c->driver), "%s", driver);
	return write_record(s, c, true, e);
}

/* Whether the name @name is taken (1: by a running container, 2: by one
 * that ended); a record that its killed supervisor left (of a container to
 * be removed at its end) is removed instead. */
static int name_taken(struct store *s, const char *name)
{
	struct container other;
	struct ubx_err ignore;
	if (!name || container_find(s, name, &other, &ignore) < 0 || strcmp(other.name, name) != 0)
		return 0;
	if (container_running(s, &other))
		return 1;
	if (!other.ephemeral)
		return 2;
	return container_remove(s, &other, &ignore) < 0 ? 2 : 0;
}

int container_create(struct store *s, const struct store_image *img, const char *name, bool ephemeral,
		     struct container *out, struct ubx_err *e)
{
	struct ubx_err ignore;
	char path[160];
	time_t now = time(NULL);
	struct tm tm;

	int taken = name_taken(s, name);
	if (taken == 1)
		return ubx_fail(e, 0, "the name %s is in use by a running sandbox (usbox ps lists it)", name);
	if (taken)
		return ubx_fail(e, 0, "the container name %s is in use (usbox rm %s removes it)", name, name);
	*out = (struct container){ .hold = -1, .host = !img, .ephemeral = ephemeral };
	if (img)
		out->image = img->id;
	new_id(out->id);
	snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
	strftime(out->created, sizeof(out->created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	snprintf(out->dir, sizeof(out->dir), "%s/containers/%s", s->path, out->id);
	snprintf(path, sizeof(path), "containers/%s", out->id);
	if (mkdirat(s->dir, path, 0700) < 0)
		return ubx_fail(e, errno, "%s", out->dir);
	const char *sub[] = { "upper", "work" };
	for (size_t i = 0; img && i < 2; i++) {
		snprintf(path, sizeof(path), "containers/%s/%s", out->id, sub[i]);
		if (mkdirat(s->dir, path, 0755) < 0) {
			int r = ubx_fail(e, errno, "%s/%s", s->path, path);
			(void)container_remove(s, out, &ignore);
			return r;
		}
	}
	int r = write_record(s, out, false, e);
	if (r < 0)
		(void)container_remove(s, out, &ignore);
	return r;
}

/* Takes (or tests, with F_OFD_GETLK) an open-file-description lock on the
 * whole record: like flock(), it belongs to the open file and goes with its
 * last fd, and unlike flock() it can be tested without being taken. */
static int ofd_lock(int fd, int cmd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
	return fcntl(fd, cmd, &fl) < 0 ? -errno : fl.l_type;
}

static int open_record(struct store *s, const struct container *c, struct ubx_err *e)
{
	char path[160];
	snprintf(path, sizeof(path), "containers/%.64s/container.json", c->id);
	int fd = openat(s->dir, path, O_RDWR | O_NOFOLLOW | O_CLOEXEC); /* write: for F_WRLCK */
	return fd < 0 ? ubx_fail(e, errno, "%s/%s", s->path, path) : fd;
}

int container_hold(struct store *s, const struct container *c, bool exclusive, struct ubx_err *e)
{
	int fd = open_record(s, c, e);
	if (fd < 0)
		return fd;
	/* Another exclusive holder (rm, commit, wait) is brief: wait a little
	 * for it; a shared one is the container's supervisor. */
	for (int i = 0; i < 200; i++) {
		int r = ofd_lock(fd, F_OFD_SETLK, exclusive ? F_WRLCK : F_RDLCK);
		if (r >= 0)
			return fd;
		if (r != -EAGAIN && r != -EACCES) {
			close(fd);
			return ubx_fail(e, -r, "lock the record of container %s", c->id);
		}
		if (ofd_lock(fd, F_OFD_GETLK, F_WRLCK) == F_RDLCK)
			break;
		usleep(10000);
	}
	close(fd);
	ubx_fail(e, 0, "container %s is running", c->name[0] ? c->name : c->id);
	return -EBUSY;
}

bool container_running(struct store *s, const struct container *c)
{
	struct ubx_err ignore;
	_cleanup_close_ int fd = open_record(s, c, &ignore);
	return fd >= 0 && ofd_lock(fd, F_OFD_GETLK, F_WRLCK) == F_RDLCK;
}

int container_wait(struct store *s, const struct container *c, int timeout_ms, struct ubx_err *e)
{
	_cleanup_close_ int fd = open_record(s, c, e);
	if (fd < 0)
		return fd;
	for (int waited = 0; ofd_lock(fd, F_OFD_GETLK, F_WRLCK) == F_RDLCK; waited += 20) {
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return -ETIMEDOUT;
		usleep(20000);
	}
	return 0;
}

int container_remove(struct store *s, const struct container *c, struct ubx_err *e)
{
	char path[128], gone[128];
	/* out of sight at once; what cannot be removed now the next writer
	 * removes from tmp/ */
	snprintf(path, sizeof(path), "containers/%.64s", c->id);
	snprintf(gone, sizeof(gone), "tmp/rm-%.64s", c->id);
	if (renameat(s->dir, path, s->dir, gone) < 0)
		return ubx_fail(e, errno, "remove %s/%s", s->path, path);
	int r = store_remove_tree(s->dir, gone);
	return r < 0 ? ubx_fail(e, -r, "remove the container's files (%s/%s)", s->path, gone) : 0;
}
