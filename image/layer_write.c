/* SPDX-License-Identifier: MIT */
/*
 * layer_write.c - trees written as tarballs (layer.h): an overlayfs upper
 * directory as an OCI layer (whiteouts and opaque directories in the image
 * spec's form) and a merged root as a plain root filesystem tarball, in a
 * sorted, deterministic order.
 */
#include "layer_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"

/* ---- writing ----------------------------------------------------------- */

/* A file with more than one link, by the first name written for it. */
struct link_seen {
	dev_t dev;
	ino_t ino;
	char path[];
};

struct writer {
	int out_fd;
	dev_t dev;                   /* the tree's file system: not left */
	bool diff;                   /* an upper directory: translate whiteouts */
	bool failed;                 /* a callback recorded an error in @e */
	const struct layer_write_opts *o;
	struct layer_stats *st;
	struct ubx_err *e;
	struct archive *tar, *gz;
	struct archive_entry *ent;
	void *links;                 /* tsearch() tree of struct link_seen */
	int64_t next_progress;
	char path[LAYER_PATH_MAX + 1];
	char extra[LAYER_PATH_MAX + 1]; /* a whiteout's or an opaque marker's name */
	char xlist[XATTR_LIST_MAX];
	char xval[XATTR_SIZE_MAX];
	char buf[IO_BUF];
};

static int path_fail(struct writer *w, int err, const char *what)
{
	char name[200];
	return ubx_fail(w->e, err, "layer: '%s': %s", la_printable(w->path, name, sizeof(name)), what);
}

static int written(const struct writer *w)
{
	return -(w->e && w->e->code ? w->e->code : EINVAL);
}

/* libarchive's write callback for what goes to @out_fd. */
static la_ssize_t out_write(struct archive *a, void *opaque, const void *buf, size_t len)
{
	struct writer *w = opaque;
	(void)a;

	if (la_tap(w->o->tap.compressed, w->o->tap.opaque, buf, len, w->e) < 0) {
		w->failed = true;
		return -1;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = write(w->out_fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ubx_fail(w->e, n < 0 ? errno : EIO, "layer: write the tarball");
			w->failed = true;
			return -1;
		}
		done += (size_t)n;
	}
	w->st->bytes_compressed += len;
	la_progress(w->o->progress, w->o->progress_opaque, &w->next_progress, w->st->bytes_compressed, false);
	return (la_ssize_t)len;
}

/* libarchive's write callback for the tar stream: tapped, then gzipped or out. */
static la_ssize_t tar_write(struct archive *a, void *opaque, const void *buf, size_t len)
{
	struct writer *w = opaque;

	if (la_tap(w->o->tap.tar, w->o->tap.opaque, buf, len, w->e) < 0) {
		w->failed = true;
		return -1;
	}
	w->st->bytes_tar += len;
	if (!w->gz)
		return out_write(a, w, buf, len);
	la_ssize_t n = la.archive_write_data(w->gz, buf, len);
	if (n < 0 || (size_t)n != len) {
		if (!w->failed)
			ubx_fail(w->e, 0, "layer: gzip: %s", la_errstr(w->gz));
		w->failed = true;
		return -1;
	}
	return (la_ssize_t)len;
}

/* The gzip stage: libarchive's raw format (one entry, the tar) with its gzip
 * filter, no timestamp in the header, so the same tar gives the same bytes. */
static int open_gzip(struct writer *w)
{
	char level[4];

	if (w->o->gzip_level < 0 || w->o->gzip_level > 9)
		return ubx_fail(w->e, EINVAL, "layer: gzip level %d", w->o->gzip_level);
	snprintf(level, sizeof(level), "%d", w->o->gzip_level);
	if (!(w->gz = la.archive_write_new()))
		return ubx_fail(w->e, ENOMEM, "layer");
	if (la.archive_write_add_filter_gzip(w->gz) != ARCHIVE_OK ||
	    la.archive_write_set_format_raw(w->gz) != ARCHIVE_OK ||
	    la.archive_write_set_filter_option(w->gz, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    (w->o->gzip_level && la.archive_write_set_filter_option(w->gz, "gzip", "compression-level",
								   level) != ARCHIVE_OK) ||
	    la.archive_write_set_bytes_in_last_block(w->gz, 1) != ARCHIVE_OK ||
	    la.archive_write_open(w->gz, w, NULL, out_write, NULL) != ARCHIVE_OK)
		return w->failed ? written(w) : ubx_fail(w->e, 0, "layer: gzip: %s", la_errstr(w->gz));
	la.archive_entry_set_filetype(w->ent, AE_IFREG);
	if (la.archive_write_header(w->gz, w->ent) < ARCHIVE_WARN)
		return w->failed ? written(w) : ubx_fail(w->e, 0, "layer: gzip: %s", la_errstr(w->gz));
	return 0;
}

static int open_writers(struct writer *w)
{
	int r;

	w->tar = la.archive_write_new();
	w->ent = la.archive_entry_new();
	if (!w->tar || !w->ent)
		return ubx_fail(w->e, ENOMEM, "layer");
	if (w->o->gzip && (r = open_gzip(w)) < 0)
		return r;
	if (la.archive_write_set_format_pax_restricted(w->tar) != ARCHIVE_OK ||
	    la.archive_write_set_format_option(w->tar, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
	    /* names as bytes, whatever the locale: the same tree, the same digest */
	    la.archive_write_set_format_option(w->tar, "pax", "hdrcharset", "BINARY") != ARCHIVE_OK ||
	    la.archive_write_set_bytes_in_last_block(w->tar, 1) != ARCHIVE_OK ||
	    la.archive_write_open(w->tar, w, NULL, tar_write, NULL) != ARCHIVE_OK)
		return w->failed ? written(w) : ubx_fail(w->e, 0, "layer: %s", la_errstr(w->tar));
	return 0;
}

static int close_writers(struct writer *w)
{
	if (la.archive_write_close(w->tar) != ARCHIVE_OK)
		return w->failed ? written(w) : ubx_fail(w->e, 0, "layer: %s", la_errstr(w->tar));
	if (w->gz && la.archive_write_close(w->gz) != ARCHIVE_OK)
		return w->failed ? written(w) : ubx_fail(w->e, 0, "layer: gzip: %s", la_errstr(w->gz));
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory @dir, sorted, as a NULL-terminated array. */
static int list_dir(struct writer *w, int dir, char ***out)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	_cleanup_strv_ char **v = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return path_fail(w, err, "read the directory");
	}
	errno = 0;
	for (struct dirent *de; (de = readdir(d)); errno = 0) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n + 2 > cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			break;
		v[++n] = NULL;
	}
	int err = errno;
	closedir(d);
	if (err || !v)
		return err ? path_fail(w, err, "read the directory") : (*out = NULL, 0);
	qsort(v, n, sizeof(*v), cmp_names);
	*out = TAKE_PTR(v);
	return 0;
}

static int cmp_link(const void *a, const void *b)
{
	const struct link_seen *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* The first name written for the file of @st, or NULL (and this one is
 * remembered) when this is the first. */
static const char *link_target(struct writer *w, const struct stat *st)
{
	size_t len = strlen(w->path) + 1;
	struct link_seen *l = malloc(sizeof(*l) + len);

	if (!l)
		return NULL; /* then written again in full: still a correct tar */
	l->dev = st->st_dev;
	l->ino = st->st_ino;
	memcpy(l->path, w->path, len);
	struct link_seen **found = tsearch(l, &w->links, cmp_link);
	if (found && *found != l) {
		free(l);
		return (*found)->path;
	}
	if (!found)
		free(l);
	return NULL;
}

/* Whether @name is overlay's xattr @suffix: the kernel's (trusted. or, with
 * userxattr, user.) or fuse-overlayfs's (user.fuseoverlayfs.). */
static bool xattr_is(const char *name, const char *suffix)
{
	static const char *const prefixes[] = { "user.overlay.", "trusted.overlay.", "user.fuseoverlayfs." };
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		if (strncmp(name, prefixes[i], n) == 0 && strcmp(name + n, suffix) == 0)
			return true;
	}
	return false;
}

/* fuse-overlayfs marks an opaque directory with a file .wh..wh..opq in it
 * too (and with nothing else where it cannot set its xattr). */
static bool fuse_opaque_marker(int dir)
{
	struct stat st;
	return fstatat(dir, WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* What overlay's xattrs on a file or directory say. */
struct ovl_state {
	bool opaque;   /* a directory hiding the lower layers' */
	bool whiteout; /* a file that is a whiteout (Linux 6.7's xattr form) */
};

/* Overlay's xattr @name on @fd; a redirect or a metacopy (data in a lower
 * layer) cannot be written as a layer. */
static int overlay_state(struct writer *w, int fd, const char *name, struct ovl_state *o)
{
	if (!w->diff)
		return 0;
	if (xattr_is(name, "redirect") || xattr_is(name, "metacopy"))
		return path_fail(w, ENOTSUP, "an overlay redirect or metacopy (mount without them: userxattr)");
	if (xattr_is(name, "opaque")) {
		char v[2];
		ssize_t n = fgetxattr(fd, name, v, sizeof(v));
		o->opaque |= n == 1 && v[0] == 'y';
	}
	o->whiteout |= xattr_is(name, "whiteout");
	return 0;
}

/* Adds @fd's xattrs to the entry, sorted by name; overlay's own and the
 * host's SELinux label stay out. */
static int add_xattrs(struct writer *w, int fd, struct ovl_state *ovl)
{
	ssize_t len = flistxattr(fd, w->xlist, sizeof(w->xlist));
	_cleanup_free_ const char **names = NULL;
	size_t n = 0;
	int r;

	if (len < 0)
		return errno == ENOTSUP ? 0 : path_fail(w, errno, "list xattrs");
	if (!len)
		return 0;
	if (!(names = calloc((size_t)len, sizeof(*names))))
		return ubx_fail(w->e, ENOMEM, "layer");
	for (const char *p = w->xlist; p < w->xlist + len; p += strlen(p) + 1) {
		if ((r = overlay_state(w, fd, p, ovl)) < 0)
			return r;
		if (!la_overlay_xattr(p) && strcmp(p, "security.selinux") != 0)
			names[n++] = p;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		ssize_t vlen = fgetxattr(fd, names[i], w->xval, sizeof(w->xval));
		if (vlen < 0 && errno == ENODATA)
			continue;
		if (vlen < 0)
			return path_fail(w, errno, "read xattrs");
		la.archive_entry_xattr_add_entry(w->ent, names[i], w->xval, (size_t)vlen);
	}
	return 0;
}

/* Fills the entry from @st: type, numeric owner, mode, mtime in seconds. */
static void fill_entry(struct writer *w, const char *path, const struct stat *st)
{
	la.archive_entry_clear(w->ent);
	la.archive_entry_copy_pathname(w->ent, path);
	la.archive_entry_set_filetype(w->ent, st->st_mode & S_IFMT);
	la.archive_entry_set_perm(w->ent, st->st_mode & 07777);
	la.archive_entry_set_uid(w->ent, st->st_uid);
	la.archive_entry_set_gid(w->ent, st->st_gid);
	la.archive_entry_set_mtime(w->ent, st->st_mtim.tv_sec, 0);
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		la.archive_entry_set_rdevmajor(w->ent, major(st->st_rdev));
		la.archive_entry_set_rdevminor(w->ent, minor(st->st_rdev));
	}
}

static int put_header(struct writer *w)
{
	if (la.archive_write_header(w->tar, w->ent) < ARCHIVE_WARN)
		return w->failed ? written(w) : path_fail(w, 0, la_errstr(w->tar));
	w->st->entries++;
	return 0;
}

/* An empty regular file @prefix + the last component of @path (or, with no
 * @name, inside @path): `.wh.NAME` or `DIR/.wh..wh..opq`. */
static int put_marker(struct writer *w, size_t plen, const char *name, const struct stat *st)
{
	struct stat m = *st;
	int n = name ? snprintf(w->extra, sizeof(w->extra), "%.*s%s" WH_PREFIX "%s", (int)plen, w->path,
				plen ? "/" : "", name)
		     : snprintf(w->extra, sizeof(w->extra), "%s/" WH_OPAQUE, w->path);

	if (n < 0 || (size_t)n >= sizeof(w->extra))
		return path_fail(w, ENAMETOOLONG, "whiteout name");
	m.st_mode = S_IFREG | (name ? 0600 : (st->st_mode & 0777));
	fill_entry(w, w->extra, &m);
	la.archive_entry_set_size(w->ent, 0);
	return put_header(w);
}

/* Copies @st->st_size bytes of @fd into the entry (a file that shrank since
 * is padded with zeros by libarchive). */
static int put_data(struct writer *w, int fd, off_t size)
{
	while (size > 0) {
		ssize_t n = read(fd, w->buf, (size_t)size < sizeof(w->buf) ? (size_t)size : sizeof(w->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return path_fail(w, errno, "read");
		if (n == 0)
			break;
		if (la.archive_write_data(w->tar, w->buf, (size_t)n) < 0)
			return w->failed ? written(w) : path_fail(w, 0, la_errstr(w->tar));
		size -= n;
	}
	return 0;
}

static int walk(struct writer *w, int dir, size_t plen);

/* One name of directory @dir, whose path is w->path (@plen: its parent's
 * length). */
static int put_node(struct writer *w, int dir, const char *name, size_t plen, size_t len)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	struct ovl_state ovl = { false, false };
	int r;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return path_fail(w, errno, "stat");
	if (S_ISSOCK(st.st_mode))
		return w->st->skipped_sockets++, 0;
	if (w->diff && S_ISCHR(st.st_mode) && st.st_rdev == 0) {
		w->st->whiteouts++;
		return put_marker(w, plen, name, &st);
	}
	fill_entry(w, w->path, &st);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		const char *first = link_target(w, &st);
		if (first) {
			la.archive_entry_copy_hardlink(w->ent, first);
			w->st->hardlinks++;
			return put_header(w);
		}
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dir, name, w->extra, sizeof(w->extra) - 1);
		if (n < 0)
			return path_fail(w, errno, "readlink");
		w->extra[n] = '\0';
		la.archive_entry_copy_symlink(w->ent, w->extra);
	}
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
		if (fd < 0)
			return path_fail(w, errno, "open");
		if ((r = add_xattrs(w, fd, &ovl)) < 0)
			return r;
		if (ovl.whiteout && S_ISREG(st.st_mode))
			return w->st->whiteouts++, put_marker(w, plen, name, &st);
	}
	if (S_ISREG(st.st_mode))
		la.archive_entry_set_size(w->ent, st.st_size);
	if ((r = put_header(w)) < 0)
		return r;
	if (S_ISREG(st.st_mode))
		return put_data(w, fd, st.st_size);
	if (!S_ISDIR(st.st_mode) || st.st_dev != w->dev)
		return 0; /* another file system mounted here: its mount point only */
	ovl.opaque |= w->diff && fuse_opaque_marker(fd);
	if (ovl.opaque && (r = put_marker(w, plen, NULL, &st)) < 0)
		return r;
	w->st->opaque_dirs += ovl.opaque;
	return walk(w, fd, len);
}

/* Writes everything in @dir, whose path is the first @plen bytes of w->path. */
static int walk(struct writer *w, int dir, size_t plen)
{
	_cleanup_strv_ char **names = NULL;
	int r = list_dir(w, dir, &names);

	for (size_t i = 0; r == 0 && names && names[i]; i++) {
		const char *name = names[i];
		size_t n = strlen(name), len = plen + (plen ? 1 : 0) + n;
		if (!plen && w->o->exclude && strcmp(name, w->o->exclude) == 0)
			continue;
		if (w->diff && strcmp(name, WH_OPAQUE) == 0)
			continue; /* fuse-overlayfs's marker: written with its directory */
		if (len > LAYER_PATH_MAX)
			return w->path[plen] = '\0', path_fail(w, ENAMETOOLONG, "a name below it is too long");
		if (plen)
			w->path[plen] = '/';
		memcpy(w->path + plen + (plen ? 1 : 0), name, n + 1);
		r = put_node(w, dir, name, plen, len);
		w->path[plen] = '\0';
	}
	return r;
}

static int write_tree(int root, int out_fd, bool diff, const struct layer_write_opts *o, struct layer_stats *st,
		      struct ubx_err *e)
{
	static const struct layer_write_opts none;
	struct layer_stats unused;
	int r = la_load(e);

	if (r < 0)
		return r;
	struct writer *w = calloc(1, sizeof(*w));
	if (!w)
		return ubx_fail(e, ENOMEM, "layer");
	w->out_fd = out_fd; /* field by field: not the buffers through the stack */
	w->diff = diff;
	w->o = o ? o : &none;
	w->st = st ? st : &unused;
	w->e = e;
	memset(w->st, 0, sizeof(*w->st));
	struct stat rs = { 0 };
	if (fstat(root, &rs) < 0)
		r = ubx_fail(e, errno, "layer: the tree to write");
	w->dev = rs.st_dev;
	if (r == 0 && (r = open_writers(w)) == 0 && (r = walk(w, root, 0)) == 0 && (r = close_writers(w)) == 0)
		la_progress(w->o->progress, w->o->progress_opaque, &w->next_progress, w->st->bytes_compressed, true);
	tdestroy(w->links, free);
	if (w->ent)
		la.archive_entry_free(w->ent);
	if (w->tar)
		(void)la.archive_write_free(w->tar);
	if (w->gz)
		(void)la.archive_write_free(w->gz);
	free(w);
	return r;
}

int layer_diff_write(int upper_dirfd, int out_fd, const struct layer_write_opts *o, struct layer_stats *st,
		     struct ubx_err *e)
{
	return write_tree(upper_dirfd, out_fd, true, o, st, e);
}

int layer_tree_write(int root_dirfd, int out_fd, const struct layer_write_opts *o, struct layer_stats *st,
		     struct ubx_err *e)
{
	return write_tree(root_dirfd, out_fd, false, o, st, e);
}
