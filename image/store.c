/* SPDX-License-Identifier: MIT */
/*
 * store.c - the image store's directories, lock and records (store.h).
 */
#include "store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "../common/statedir.h"
#include "keep.h"

#define RECORD_MAX (1u << 20)

/* Made in this order: "tmp" last, so that it is there only when all are. */
static const char *const store_dirs[] = { "layers", KEEP_RECORDS, "blobs", "blobs/sha256", "images", "containers", "tmp" };

int store_remove_tree(int parent, const char *name)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	/* a read-only directory of an image, or overlayfs's mode-0 work/work:
	 * ours to empty, also without root's DAC override */
	if ((st.st_mode & 0700) != 0700)
		(void)!fchmodat(parent, name, 0700, 0);
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(d));)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
			r = store_remove_tree(dirfd(d), de->d_name);
	closedir(d);
	if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

/* Removes the entries of @sub that @keep does not want kept. */
static void sweep(struct store *s, const char *sub, bool (*keep)(int dirfd, const char *name))
{
	_cleanup_close_ int dir = openat(s->dir, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dir >= 0 ? fdopendir(dup(dir)) : NULL;
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.' && !keep(dir, de->d_name))
			(void)store_remove_tree(dir, de->d_name);
	closedir(d);
}

static bool keep_nothing(int dirfd, const char *name)
{
	(void)dirfd, (void)name;
	return false;
}

/* A container directory without its record was being made or removed when
 * usbox was killed (both happen under the exclusive lock). */
static bool keep_recorded(int dirfd, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%.64s/container.json", name);
	return faccessat(dirfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Removes what a killed writer left in tmp/ and containers/. */
static void clean_tmp(struct store *s)
{
	sweep(s, "tmp", keep_nothing);
	sweep(s, "containers", keep_recorded);
}

int store_open(struct store *s, bool exclusive, struct ubx_err *e)
{
	*s = (struct store){ .dir = -1, .lock = -1 };
	int r = data_dir_path("store", s->path, sizeof(s->path), e);
	if (r < 0)
		return r;
	/* made once: the directories are looked for only when the store is not whole */
	s->dir = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir < 0 && errno == ENOENT && (r = mkdir_parents(s->path, 0700, e)) == 0)
		s->dir = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r < 0 || s->dir < 0)
		return r < 0 ? r : ubx_fail(e, errno, "the image store %s", s->path);
	bool whole = faccessat(s->dir, store_dirs[ARRAY_SIZE(store_dirs) - 1], F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	for (size_t i = 0; !whole && i < ARRAY_SIZE(store_dirs); i++)
		if (mkdirat(s->dir, store_dirs[i], 0700) < 0 && errno != EEXIST)
			return ubx_fail(e, errno, "%s/%s", s->path, store_dirs[i]);
	s->lock = openat(s->dir, "storage.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lock < 0 || flock(s->lock, exclusive ? LOCK_EX : LOCK_SH) < 0)
		return ubx_fail(e, errno, "lock %s/storage.lock", s->path);
	if (exclusive)
		clean_tmp(s);
	return 0;
}

void store_close(struct store *s)
{
	if (s->lock >= 0)
		close(s->lock);
	if (s->dir >= 0)
		close(s->dir);
	s->lock = s->dir = -1;
}

static bool name_char(char c)
{
	return islower((unsigned char)c) || isdigit((unsigned char)c) || c == '.' || c == '_' || c == '-' || c == '/';
}

int store_normalize_name(const char *in, char *out, size_t len, struct ubx_err *e)
{
	/* Docker Hub's official images and podman's local ones go by their short names */
	static const char *const prefixes[] = { "docker.io/library/", "index.docker.io/library/", "docker.io/",
						"localhost/" };
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(in, prefixes[i], strlen(prefixes[i])) == 0 && in[strlen(prefixes[i])]) {
			in += strlen(prefixes[i]);
			break;
		}
	const char *colon = strrchr(in, ':');
	if (colon && strchr(colon, '/'))
		colon = NULL; /* a registry's port, not a tag */
	size_t nlen = colon ? (size_t)(colon - in) : strlen(in);
	const char *tag = colon ? colon + 1 : "latest";
	if (nlen == 0 || nlen > 200 || !isalnum((unsigned char)in[0]))
		return ubx_fail(e, 0, "'%s' is not an image name", in);
	for (size_t i = 0; i < nlen; i++)
		if (!name_char(in[i]) || (in[i] == '/' && (in[i + 1] == '/' || i + 1 == nlen)))
			return ubx_fail(e, 0, "'%s' is not an image name (lower-case letters, digits, '.', '_', '-', '/')", in);
	size_t tlen = strlen(tag);
	if (tlen == 0 || tlen > 128 || tag[0] == '.' || tag[0] == '-')
		return ubx_fail(e, 0, "'%s': '%s' is not a tag", in, tag);
	for (const char *p = tag; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return ubx_fail(e, 0, "'%s': '%s' is not a tag", in, tag);
	if (nlen + tlen + 2 > len)
		return ubx_fail(e, ENAMETOOLONG, "image name %s", in);
	snprintf(out, len, "%.*s:%s", (int)nlen, in, tag);
	return 0;
}

void store_image_free(struct store_image *img)
{
	for (char **p = img->names; p && *p; p++)
		free(*p);
	free(img->names);
	free(img->layers);
	*img = (struct store_image){ 0 };
}

void store_image_list_free(struct store_image *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_image_free(&v[i]);
	free(v);
}

void store_layer_path(const struct store *s, const struct digest *diff_id, char *buf, size_t len)
{
	char hex[DIGEST_HEX_LEN + 1];
	snprintf(buf, len, "%s/layers/%s", s->path, digest_hex(diff_id, hex));
}

bool store_have(const struct store *s, const char *sub, const struct digest *d)
{
	char path[256], hex[DIGEST_HEX_LEN + 1];
	snprintf(path, sizeof(path), "%s/%s", sub, digest_hex(d, hex));
	return faccessat(s->dir, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A name for a new entry of tmp/: the pid, the time and a count, as a
 * coarse clock (seen under emulation) gives two calls the same time. */
static void tmp_name(char *name, size_t len)
{
	static unsigned count;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(name, len, "tmp/%d-%ld-%ld-%u", (int)getpid(), (long)ts.tv_sec, (long)ts.tv_nsec, count++);
}

int store_tmp_dir(struct store *s, char *name, size_t len, struct ubx_err *e)
{
	tmp_name(name, len);
	if (mkdirat(s->dir, name, 0755) < 0)
		return ubx_fail(e, errno, "%s/%s", s->path, name);
	int fd = openat(s->dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? ubx_fail(e, errno, "%s/%s", s->path, name) : fd;
}

int store_tmp_file(struct store *s, char *name, size_t len, struct ubx_err *e)
{
	tmp_name(name, len);
	int fd = openat(s->dir, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	return fd < 0 ? ubx_fail(e, errno, "%s/%s", s->path, name) : fd;
}

void store_discard(struct store *s, const char *name)
{
	(void)store_remove_tree(s->dir, name);
}

int store_commit(struct store *s, const char *name, const char *sub, const struct digest *d, struct ubx_err *e)
{
	char path[256], hex[DIGEST_HEX_LEN + 1];
	snprintf(path, sizeof(path), "%s/%s", sub, digest_hex(d, hex));
	if (renameat2(s->dir, name, s->dir, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EEXIST && errno != ENOTEMPTY)
		return ubx_fail(e, errno, "%s/%s", s->path, path);
	store_discard(s, name);
	return 0;
}

int store_put_blob(struct store *s, const struct digest *d, const void *data, size_t len, struct ubx_err *e)
{
	char name[96];
	if (store_have(s, "blobs/sha256", d))
		return 0;
	_cleanup_close_ int fd = store_tmp_file(s, name, sizeof(name), e);
	if (fd < 0)
		return fd;
	if (write(fd, data, len) != (ssize_t)len) {
		int r = ubx_fail(e, errno, "write a blob");
		store_discard(s, name);
		return r;
	}
	return store_commit(s, name, "blobs/sha256", d, e);
}
