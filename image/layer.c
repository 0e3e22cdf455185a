/* SPDX-License-Identifier: MIT */
/*
 * layer.c - image layers in and out: tar streams <-> overlayfs directories.
 *
 * DOC: Theory of operation
 * Reading (layer_extract): two libarchive readers in a chain.  The first
 * ("raw") only decompresses: gzip, xz, zstd or bzip2 (detected from the
 * bytes) or none, with the "raw" format; it reads @in_fd through fd_read(),
 * which counts, taps (a blob digest) and reports progress.  The second reads
 * only tar (ustar, PAX, GNU) from the first's output through raw_read(),
 * which taps the uncompressed stream (a diff_id).  After the tar's end the
 * rest of both streams is drained, so the taps see every byte.
 *
 * Each entry's name is cleaned lexically (layer_clean_path(): relative, no
 * "..": a name cannot leave the root by its spelling).  Its parent directory
 * is opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV) from the layer's root, so a symlink met on the way --
 * "etc -> /", "x -> ../../.." -- resolves inside the layer, never on the
 * host; missing parents are made the same way, one component at a time.  The
 * last component is created, never followed: O_CREAT|O_EXCL|O_NOFOLLOW,
 * mkdirat, symlinkat, mknodat, linkat without AT_SYMLINK_FOLLOW.  A name
 * already there from an earlier entry is replaced (tar's "the later wins"),
 * except that a directory over a directory merges.  The last parent is kept
 * open for the next entry until an earlier entry is removed (which may have
 * been it, or on the way to it).
 *
 * Whiteouts become what overlayfs reads in a lower layer: `.wh.NAME` a
 * character device 0:0 NAME (mknod of 0:0 needs no CAP_MKNOD since Linux
 * 5.8), `.wh..wh..opq` the xattr user.overlay.opaque=y on its directory (for
 * mounts with "userxattr"; trusted.overlay.opaque too when asked).  Other
 * `.wh..wh.*` names (aufs' own) are dropped, and so are overlay xattrs in the
 * tar itself: a layer must not plant redirects or origins.
 *
 * Metadata, per file: data, then fchown (which clears setuid bits and file
 * capabilities), then xattrs (security.capability), then the mode, then the
 * times.  Directories are made 0700 and get their mode and times once every
 * entry is in (in entry order, so the later of two entries wins), so that
 * adding their contents neither changes their mtimes nor needs their
 * permissions; parents no entry names are made 0755.
 *
 * Names are libarchive's: bytes as in the tar.  A NUL inside a PAX name ends
 * it there (libarchive reads records as C strings), which keeps the entry
 * inside like any other name.
 *
 * Writing (layer_diff_write, layer_tree_write): a walk over directory fds in
 * strcmp() order of names, each parent before its children, a PAX
 * (restricted: ustar unless more is needed) archive with numeric owners,
 * mtimes in whole seconds and no atime/ctime; hard links (same device and
 * inode, more than one link) become link entries to the first name written.
 * The tar goes through a tap (diff_id) and, with gzip, a second libarchive
 * writer (the raw format with the gzip filter, no timestamp) before a tap
 * (digest) and @out_fd.
 */
#include "layer_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"

struct archive_api la;
static char la_error[200];
static pthread_once_t la_once = PTHREAD_ONCE_INIT;

static void la_load_once(void)
{
	void *lib = dlopen("libarchive.so.13", RTLD_LAZY | RTLD_LOCAL);
	if (!lib) {
		snprintf(la_error, sizeof(la_error), "layers need libarchive (apt-get install libarchive13): %s",
			 dlerror());
		return;
	}
#define LOAD(name)                                                                                      \
	if (!(la.name = (__typeof__(name) *)dlsym(lib, #name))) {                                       \
		snprintf(la_error, sizeof(la_error), "libarchive lacks %s (need version 3.3 or newer)", #name); \
		return;                                                                                 \
	}
	ARCHIVE_FUNCS(LOAD)
#undef LOAD
	/* Stays loaded: the table points into it. */
}

int la_load(struct ubx_err *e)
{
	(void)pthread_once(&la_once, la_load_once);
	if (!la_error[0])
		return 0;
	ubx_fail(e, 0, "%s", la_error);
	return -ENOENT;
}


/* ---- names ------------------------------------------------------------- */

int layer_clean_path(const char *in, char *out, size_t len)
{
	size_t n = 0;

	if (len > LAYER_PATH_MAX + 1)
		len = LAYER_PATH_MAX + 1;
	if (len)
		out[0] = '\0';
	if (!in || !*in)
		return -EINVAL;
	if (!len)
		return -ENAMETOOLONG;
	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t c = (size_t)(p - s);
		if (c == 0 || (c == 1 && s[0] == '.'))
			continue;
		if (c == 2 && s[0] == '.' && s[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			n -= n > 0; /* the '/' before the dropped component */
			continue;
		}
		if (c > 255 || n + (n ? 1 : 0) + c >= len) {
			out[0] = '\0';
			return -ENAMETOOLONG;
		}
		if (n)
			out[n++] = '/';
		memcpy(out + n, s, c);
		n += c;
	}
	out[n] = '\0';
	return (int)n;
}

/* A printable cut of @s for a message: control bytes become '?'. */
const char *la_printable(const char *s, char *buf, size_t len)
{
	size_t i = 0;
	for (; s && s[i] && i + 4 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s && s[i])
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

/* Splits a cleaned @path: returns its last component, *@plen the length of
 * the parent's name (0 for the root). */
static const char *last_component(const char *path, size_t *plen)
{
	const char *slash = strrchr(path, '/');
	*plen = slash ? (size_t)(slash - path) : 0;
	return slash ? slash + 1 : path;
}

/* Splits a cleaned @path in place: returns its last component and points
 * *@parent at its directory's name ("" for the root). */
static const char *split_path(char *path, const char **parent)
{
	char *slash = strrchr(path, '/');
	if (!slash) {
		*parent = "";
		return path;
	}
	*slash = '\0';
	*parent = path;
	return slash + 1;
}

/* libarchive's last error, never NULL. */
const char *la_errstr(struct archive *a)
{
	const char *s = a ? la.archive_error_string(a) : NULL;
	return s ? s : "unknown libarchive error";
}

int la_open_in_root(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd = -1;

	for (int tries = 0; tries < 16; tries++) {
		fd = (int)syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break; /* EAGAIN: a rename elsewhere raced the ".." check */
	}
	return fd < 0 ? -errno : fd;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Calls @fn with @bytes when the last call is 100 ms ago (or @force). */
void la_progress(layer_progress_fn *fn, void *opaque, int64_t *next, uint64_t bytes, bool force)
{
	if (!fn)
		return;
	int64_t now = now_ns();
	if (!force && now < *next)
		return;
	*next = now + PROGRESS_NS;
	fn(opaque, bytes);
}

/* ---- extraction: the input streams ------------------------------------- */

/* A directory whose mode and times are set when every entry is in. */
struct dirfix {
	char *path;
	mode_t mode;
	struct timespec times[2];
};

struct extract {
	int in_fd, root;
	const struct layer_opts *o;
	struct layer_stats *st;
	struct ubx_err *e;
	struct archive *raw, *tar;
	bool failed;                 /* a callback recorded an error in @e */
	bool stale;                  /* an entry was removed: the cached parent may be too */
	int64_t next_progress;
	const char *name;            /* the entry's name as in the tar */
	char path[LAYER_PATH_MAX + 1];
	char target[LAYER_PATH_MAX + 1];
	char ppath[LAYER_PATH_MAX + 1]; /* the cached parent's name */
	int pfd;                     /* ... and an O_PATH fd of it, or -1 */
	struct dirfix *fix;
	size_t nfix, capfix;
	char buf[IO_BUF];
};

static int entry_fail(struct extract *x, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records "layer: entry 'NAME': <fmt>[: strerror(err)]"; returns -err. */
static int entry_fail(struct extract *x, int err, const char *fmt, ...)
{
	char name[160], what[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ubx_fail(x->e, err, "layer: entry '%s': %s", la_printable(x->name, name, sizeof(name)), what);
}

/* The error a callback already recorded in x->e. */
static int recorded(const struct extract *x)
{
	return -(x->e && x->e->code ? x->e->code : EINVAL);
}

int la_tap(int (*fn)(void *, const void *, size_t), void *opaque, const void *buf, size_t len,
	       struct ubx_err *e)
{
	int r = fn && len ? fn(opaque, buf, len) : 0;
	return r < 0 ? ubx_fail(e, -r, "layer: the caller's tap") : 0;
}

/* libarchive's read callback for the compressed stream. */
static la_ssize_t fd_read(struct archive *a, void *opaque, const void **buf)
{
	struct extract *x = opaque;
	ssize_t n;
	(void)a;

	do
		n = read(x->in_fd, x->buf, sizeof(x->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		x->failed = true;
		return ubx_fail(x->e, errno, "layer: read the layer"), -1;
	}
	if (la_tap(x->o->tap.compressed, x->o->tap.opaque, x->buf, (size_t)n, x->e) < 0) {
		x->failed = true;
		return -1;
	}
	x->st->bytes_compressed += (uint64_t)n;
	la_progress(x->o->progress, x->o->progress_opaque, &x->next_progress, x->st->bytes_compressed, false);
	*buf = x->buf;
	return n;
}

/* libarchive's read callback for the tar reader: the decompressor's output,
 * block by block, without a copy. */
static la_ssize_t raw_read(struct archive *a, void *opaque, const void **buf)
{
	struct extract *x = opaque;
	size_t len = 0;
	la_int64_t off;
	(void)a;

	int r = la.archive_read_data_block(x->raw, buf, &len, &off);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN) {
		if (!x->failed)
			ubx_fail(x->e, 0, "layer: %s", la_errstr(x->raw));
		x->failed = true;
		return -1;
	}
	if (la_tap(x->o->tap.tar, x->o->tap.opaque, *buf, len, x->e) < 0) {
		x->failed = true;
		return -1;
	}
	x->st->bytes_tar += len;
	return (la_ssize_t)len;
}

/* Opens the two readers. */
static int open_readers(struct extract *x)
{
	struct archive_entry *ent;

	x->raw = la.archive_read_new();
	x->tar = la.archive_read_new();
	if (!x->raw || !x->tar)
		return ubx_fail(x->e, ENOMEM, "layer");
	/* ARCHIVE_WARN would mean an external program: not taken */
	if (la.archive_read_support_filter_gzip(x->raw) != ARCHIVE_OK ||
	    la.archive_read_support_filter_xz(x->raw) != ARCHIVE_OK ||
	    la.archive_read_support_filter_zstd(x->raw) != ARCHIVE_OK ||
	    la.archive_read_support_filter_bzip2(x->raw) != ARCHIVE_OK ||
	    la.archive_read_support_format_raw(x->raw) != ARCHIVE_OK ||
	    la.archive_read_support_format_tar(x->tar) != ARCHIVE_OK)
		return ubx_fail(x->e, 0, "layer: libarchive: %s", la_errstr(x->raw));
	int r = la.archive_read_open(x->raw, x, NULL, fd_read, NULL);
	if (r == ARCHIVE_OK)
		r = la.archive_read_next_header(x->raw, &ent);
	if (r != ARCHIVE_OK && x->failed)
		return recorded(x);
	if (r != ARCHIVE_OK && x->st->bytes_compressed == 0)
		return ubx_fail(x->e, 0, "layer: the layer is empty");
	if (r != ARCHIVE_OK)
		return ubx_fail(x->e, 0, "layer: %s", la_errstr(x->raw));
	if (la.archive_read_open(x->tar, x, NULL, raw_read, NULL) != ARCHIVE_OK)
		return x->failed ? recorded(x)
				 : ubx_fail(x->e, 0, "layer: %s", la_errstr(x->tar));
	return 0;
}

/* After the tar's end: the rest of both streams, for the taps and counts. */
static int drain(struct extract *x)
{
	const void *buf;
	la_ssize_t n;

	while ((n = raw_read(x->tar, x, &buf)) > 0)
		;
	while (n == 0 && (n = fd_read(x->raw, x, &buf)) > 0)
		;
	return n < 0 ? recorded(x) : 0;
}

/* ---- extraction: the tree ---------------------------------------------- */

static void drop_parent(struct extract *x)
{
	if (x->pfd >= 0)
		close(x->pfd);
	x->pfd = -1;
}

/* Opens (making it when missing, mode 0755) the directory @path, which is
 * modified while walking and restored.  Return: an O_PATH fd or -errno. */
static int make_dirs(struct extract *x, char *path)
{
	int dir = la_open_in_root(x->root, "", O_PATH | O_DIRECTORY);

	for (char *p = path; dir >= 0 && *p;) {
		char *end = strchrnul(p, '/');
		char saved = *end;
		*end = '\0';
		int fd = la_open_in_root(x->root, path, O_PATH | O_DIRECTORY);
		if (fd == -ENOENT) {
			/* @dir is the parent, resolved inside; @p one plain name */
			if (mkdirat(dir, p, 0700) == 0)
				(void)!fchmodat(dir, p, 0755, 0); /* just made: umask aside */
			fd = la_open_in_root(x->root, path, O_PATH | O_DIRECTORY);
		}
		*end = saved;
		close(dir);
		dir = fd;
		p = *end ? end + 1 : end;
	}
	return dir;
}

/* An O_PATH fd of the directory of the first @plen bytes of x->path (owned by
 * @x, valid until drop_parent()).  Return: the fd or a negative errno. */
static int parent_of(struct extract *x, size_t plen)
{
	if (x->pfd >= 0 && strlen(x->ppath) == plen && memcmp(x->ppath, x->path, plen) == 0)
		return x->pfd;
	drop_parent(x);
	memcpy(x->ppath, x->path, plen);
	x->ppath[plen] = '\0';
	int fd = la_open_in_root(x->root, x->ppath, O_PATH | O_DIRECTORY);
	if (fd == -ENOENT)
		fd = make_dirs(x, x->ppath);
	if (fd < 0)
		return entry_fail(x, -fd, "open its directory '%s'%s", x->ppath,
				  fd == -ENOSYS ? " (openat2 needs Linux 5.6)" : "");
	return x->pfd = fd;
}

/* Removes @name from @dir, a directory with everything in it. */
static int remove_tree(int dir, const char *name)
{
	struct stat st;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dir, name, 0) < 0 ? -errno : 0;
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	int r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(d));)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			r = remove_tree(dirfd(d), de->d_name);
	closedir(d);
	return r < 0 ? r : unlinkat(dir, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

/* An earlier entry holds @name: a directory over a directory stays
 * (return 1), anything else is removed (return 0). */
static int make_room(struct extract *x, int dir, const char *name, bool want_dir)
{
	struct stat st;

	if (want_dir && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return 1;
	int r = remove_tree(dir, name);
	if (r < 0)
		return entry_fail(x, -r, "replace the earlier entry");
	x->stale = true; /* a cached parent may have been below it */
	return 0;
}

/* The entry's owner, as numbers the kernel takes. */
static int owner_of(struct extract *x, struct archive_entry *ent, uid_t *uid, gid_t *gid)
{
	la_int64_t u = la.archive_entry_uid(ent), g = la.archive_entry_gid(ent);
	if (u < 0 || g < 0 || u >= UINT32_MAX || g >= UINT32_MAX)
		return entry_fail(x, ERANGE, "owner %lld:%lld", (long long)u, (long long)g);
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

/* fchownat() with the entry's owner; unmapped ids fail with a line naming them
 * (or are left, counted, with ignore_chown_errors). */
static int set_owner(struct extract *x, struct archive_entry *ent, int fd, const char *name, int flags)
{
	uid_t uid = 0;
	gid_t gid = 0;
	int r = owner_of(x, ent, &uid, &gid);

	if (r < 0 || fchownat(fd, name, uid, gid, flags) == 0)
		return r;
	if ((errno == EINVAL || errno == EPERM) && x->o->ignore_chown_errors) {
		x->st->squashed_owners++;
		return 0;
	}
	if (errno == EINVAL)
		return entry_fail(x, EINVAL, "owner %u:%u is not mapped in this user namespace", uid, gid);
	return entry_fail(x, errno, "set owner %u:%u", uid, gid);
}

bool la_overlay_xattr(const char *name)
{
	return strncmp(name, "user.overlay.", 13) == 0 || strncmp(name, "trusted.overlay.", 16) == 0 ||
	       strncmp(name, "user.fuseoverlayfs.", 19) == 0;
}

/* The entry's xattrs on @fd (not O_PATH; -1: none can be set, all counted
 * as skipped). */
static int set_xattrs(struct extract *x, struct archive_entry *ent, int fd)
{
	const char *name;
	const void *value;
	size_t size;

	la.archive_entry_xattr_reset(ent);
	while (la.archive_entry_xattr_next(ent, &name, &value, &size) == ARCHIVE_OK) {
		if (fd < 0 || la_overlay_xattr(name)) {
			x->st->skipped_xattrs++;
			continue;
		}
		if (fsetxattr(fd, name, value, size, 0) == 0)
			continue;
		if (errno == EPERM || errno == ENOTSUP || errno == EACCES) {
			x->st->skipped_xattrs++;
			continue;
		}
		char n[80];
		return entry_fail(x, errno, "set xattr %s", la_printable(name, n, sizeof(n)));
	}
	return 0;
}

static void entry_times(struct archive_entry *ent, struct timespec t[2])
{
	t[1] = (struct timespec){ la.archive_entry_mtime(ent), la.archive_entry_mtime_nsec(ent) };
	t[0] = la.archive_entry_atime_is_set(ent)
		       ? (struct timespec){ la.archive_entry_atime(ent), la.archive_entry_atime_nsec(ent) }
		       : t[1];
}

/* Writes the entry's data to @fd (sparse files: at their offsets); *@end is
 * where the last block ended. */
static int write_data(struct extract *x, int fd, la_int64_t *end)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	*end = 0;
	while ((r = la.archive_read_data_block(x->tar, &buf, &len, &off)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		for (size_t done = 0; done < len;) {
			ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return entry_fail(x, n < 0 ? errno : EIO, "write");
			done += (size_t)n;
		}
		if (off + (la_int64_t)len > *end)
			*end = off + (la_int64_t)len;
	}
	if (r != ARCHIVE_EOF)
		return x->failed ? recorded(x) : entry_fail(x, 0, "%s", la_errstr(x->tar));
	return 0;
}

static int do_file(struct extract *x, struct archive_entry *ent, int dir, const char *name)
{
	struct timespec t[2];
	_cleanup_close_ int fd = -1;
	la_int64_t end;
	int r;

	for (int tries = 0; fd < 0; tries++) {
		fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && (errno != EEXIST || tries))
			return entry_fail(x, errno, "create");
		if (fd < 0 && (r = make_room(x, dir, name, false)) < 0)
			return r;
	}
	if ((r = write_data(x, fd, &end)) < 0)
		return r;
	la_int64_t size = la.archive_entry_size(ent);
	if (size > end && ftruncate(fd, (off_t)size) < 0) /* a sparse file's hole at the end */
		return entry_fail(x, errno, "truncate");
	if ((r = set_owner(x, ent, fd, "", AT_EMPTY_PATH)) < 0 || (r = set_xattrs(x, ent, fd)) < 0)
		return r;
	if (fchmod(fd, la.archive_entry_perm(ent)) < 0)
		return entry_fail(x, errno, "chmod");
	entry_times(ent, t);
	if (futimens(fd, t) < 0)
		return entry_fail(x, errno, "set times");
	return 0;
}

/* Remembers a directory's mode and times for the end. */
static int add_fix(struct extract *x, const char *path, mode_t mode, const struct timespec t[2])
{
	if (x->nfix == x->capfix) {
		size_t cap = x->capfix ? 2 * x->capfix : 256;
		struct dirfix *f = realloc(x->fix, cap * sizeof(*f));
		if (!f)
			return ubx_fail(x->e, ENOMEM, "layer");
		x->fix = f;
		x->capfix = cap;
	}
	char *p = strdup(path);
	if (!p)
		return ubx_fail(x->e, ENOMEM, "layer");
	x->fix[x->nfix++] = (struct dirfix){ p, mode, { t[0], t[1] } };
	return 0;
}

/* The directory @name in @dir (the root for ""): owner and xattrs now, mode
 * and times at the end. */
static int do_dir(struct extract *x, struct archive_entry *ent, int dir, const char *name)
{
	struct timespec t[2];
	int r = 0;

	if (*name && mkdirat(dir, name, 0700) < 0) {
		if (errno != EEXIST)
			return entry_fail(x, errno, "mkdir");
		if ((r = make_room(x, dir, name, true)) < 0)
			return r;
		if (r == 0 && mkdirat(dir, name, 0700) < 0)
			return entry_fail(x, errno, "mkdir");
	}
	_cleanup_close_ int fd = *name ? openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
				       : la_open_in_root(x->root, "", O_RDONLY | O_DIRECTORY);
	if (*name && fd < 0)
		fd = -errno;
	if (fd < 0)
		return entry_fail(x, -fd, "open");
	if ((r = set_owner(x, ent, fd, "", AT_EMPTY_PATH)) < 0 || (r = set_xattrs(x, ent, fd)) < 0)
		return r;
	entry_times(ent, t);
	return add_fix(x, x->path, la.archive_entry_perm(ent), t);
}

/* Owner and times of a node made in @dir by name (symlink, FIFO, whiteout). */
static int node_meta(struct extract *x, struct archive_entry *ent, int dir, const char *name)
{
	struct timespec t[2];
	int r = set_owner(x, ent, dir, name, AT_SYMLINK_NOFOLLOW);

	if (r < 0 || (r = set_xattrs(x, ent, -1)) < 0)
		return r;
	entry_times(ent, t);
	if (utimensat(dir, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		return entry_fail(x, errno, "set times");
	return 0;
}

/* Makes @name: a symlink to @target, else a node of @mode (mknodat, 0:0);
 * an earlier entry of that name is replaced. */
static int make_node(struct extract *x, int dir, const char *name, const char *target, mode_t mode)
{
	for (int tries = 0;; tries++) {
		int r = target ? symlinkat(target, dir, name) : mknodat(dir, name, mode, 0);
		if (r == 0)
			return 0;
		if (errno != EEXIST || tries)
			return entry_fail(x, errno, target ? "symlink" : "mknod");
		if ((r = make_room(x, dir, name, false)) < 0)
			return r;
	}
}

static int do_symlink(struct extract *x, struct archive_entry *ent, int dir, const char *name)
{
	const char *target = la.archive_entry_symlink(ent);
	int r = make_node(x, dir, name, target ? target : "", 0);
	return r < 0 ? r : node_meta(x, ent, dir, name);
}

static int do_fifo(struct extract *x, struct archive_entry *ent, int dir, const char *name)
{
	int r = make_node(x, dir, name, NULL, S_IFIFO | 0600);
	if (r < 0 || (r = node_meta(x, ent, dir, name)) < 0)
		return r;
	/* fchmodat follows a symlink, but @name is the FIFO just made */
	if (fchmodat(dir, name, la.archive_entry_perm(ent), 0) < 0)
		return entry_fail(x, errno, "chmod");
	return 0;
}

/* A whiteout: the character device 0:0 overlayfs reads as one. */
static int do_whiteout(struct extract *x, struct archive_entry *ent, int dir, const char *name)
{
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return entry_fail(x, EINVAL, "not a whiteout of a name");
	int r = make_node(x, dir, name, NULL, S_IFCHR);
	if (r < 0)
		return r;
	x->st->whiteouts++;
	return node_meta(x, ent, dir, name);
}

/* An opaque directory: everything below it in lower layers is hidden. */
static int do_opaque(struct extract *x, int dir)
{
	_cleanup_close_ int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return entry_fail(x, errno, "open its directory");
	if (fsetxattr(fd, OVL_OPAQUE_USER, "y", 1, 0) < 0)
		return entry_fail(x, errno, errno == ENOTSUP ? "set %s (this file system has no user xattrs)" : "set %s",
				  OVL_OPAQUE_USER);
	if (x->o->trusted_xattrs && fsetxattr(fd, OVL_OPAQUE_TRUSTED, "y", 1, 0) < 0)
		return entry_fail(x, errno, "set %s", OVL_OPAQUE_TRUSTED);
	x->st->opaque_dirs++;
	return 0;
}

/* A hard link to an earlier entry of this layer. */
static int do_hardlink(struct extract *x, int dir, const char *name, const char *target_raw)
{
	char shown[160];
	struct stat a, b;
	int r = layer_clean_path(target_raw, x->target, sizeof(x->target));

	if (r <= 0)
		return entry_fail(x, r < 0 ? -r : EINVAL, "hard link target '%s'",
				  la_printable(target_raw, shown, sizeof(shown)));
	const char *tparent;
	const char *tname = split_path(x->target, &tparent);
	_cleanup_close_ int tdir = la_open_in_root(x->root, tparent, O_PATH | O_DIRECTORY);
	for (int tries = 0; tdir >= 0; tries++) {
		if (linkat(tdir, tname, dir, name, 0) == 0) {
			x->st->hardlinks++;
			return 0;
		}
		if (errno != EEXIST || tries)
			break;
		if (fstatat(tdir, tname, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
		    fstatat(dir, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return 0; /* already that file */
		if ((r = make_room(x, dir, name, false)) < 0)
			return r;
	}
	int err = tdir < 0 ? -tdir : errno;
	la_printable(target_raw, shown, sizeof(shown));
	if (err == ENOENT || err == ENOTDIR)
		return entry_fail(x, err, "hard link target '%s' is not in this layer", shown);
	return entry_fail(x, err, "hard link to '%s'", shown);
}

/* A device node other than a whiteout: not made, counted, the first named. */
static void skip_device(struct extract *x)
{
	if (!x->st->skipped_devices++)
		la_printable(x->name, x->st->first_device, sizeof(x->st->first_device));
}

static int apply(struct extract *x, struct archive_entry *ent)
{
	const char *hardlink = la.archive_entry_hardlink(ent);
	unsigned type = la.archive_entry_filetype(ent);
	size_t plen;
	int r;

	if (!x->name || !*x->name)
		return entry_fail(x, EINVAL, "empty name");
	if ((r = layer_clean_path(x->name, x->path, sizeof(x->path))) < 0)
		return entry_fail(x, -r, "name");
	if (!*x->path) /* "./", "/": the layer's root */
		return type == AE_IFDIR && !hardlink ? do_dir(x, ent, x->root, "")
						      : entry_fail(x, EINVAL, "names the root but is no directory");
	const char *name = last_component(x->path, &plen);
	int dir = parent_of(x, plen);
	if (dir < 0)
		return dir;
	if (strcmp(name, WH_OPAQUE) == 0)
		return do_opaque(x, dir);
	if (strncmp(name, WH_META, strlen(WH_META)) == 0)
		return 0; /* aufs' own (.wh..wh.plnk, .wh..wh.aufs) */
	/* anything below may remove an earlier entry (x->stale) */
	if (strncmp(name, WH_PREFIX, strlen(WH_PREFIX)) == 0)
		r = do_whiteout(x, ent, dir, name + strlen(WH_PREFIX));
	else if (hardlink)
		r = do_hardlink(x, dir, name, hardlink);
	else if (type == AE_IFREG)
		r = do_file(x, ent, dir, name);
	else if (type == AE_IFDIR)
		r = do_dir(x, ent, dir, name);
	else if (type == AE_IFLNK)
		r = do_symlink(x, ent, dir, name);
	else if (type == AE_IFIFO)
		r = do_fifo(x, ent, dir, name);
	else if (type == AE_IFCHR && !la.archive_entry_rdevmajor(ent) && !la.archive_entry_rdevminor(ent))
		r = do_whiteout(x, ent, dir, name);
	else if (type == AE_IFCHR || type == AE_IFBLK)
		skip_device(x);
	else
		r = entry_fail(x, ENOTSUP, "file type 0%o", type);
	if (x->stale)
		drop_parent(x);
	x->stale = false;
	return r;
}

/* Sets the directories' modes and times, now that nothing is added to them. */
static int fix_dirs(struct extract *x)
{
	for (size_t i = 0; i < x->nfix; i++) {
		struct dirfix *f = &x->fix[i];
		_cleanup_close_ int fd = -1;
		const char *parent;
		snprintf(x->path, sizeof(x->path), "%s", f->path);
		x->name = f->path;
		const char *name = split_path(x->path, &parent);
		int dir = la_open_in_root(x->root, parent, O_PATH | O_DIRECTORY);
		if (dir >= 0 && !*name)
			fd = dir;
		else if (dir >= 0) {
			fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(dir);
		}
		if (fd < 0)
			continue; /* replaced by a later entry: not a directory any more */
		/* "." is the directory itself, never a symlink */
		if (fchmodat(fd, ".", f->mode, 0) < 0 || utimensat(fd, ".", f->times, 0) < 0)
			return entry_fail(x, errno, "set mode and times");
	}
	return 0;
}

static void extract_free(struct extract *x)
{
	drop_parent(x);
	for (size_t i = 0; i < x->nfix; i++)
		free(x->fix[i].path);
	free(x->fix);
	if (x->tar)
		(void)la.archive_read_free(x->tar);
	if (x->raw)
		(void)la.archive_read_free(x->raw);
	free(x);
}

static int extract_entries(struct extract *x)
{
	struct archive_entry *ent;
	int r;

	while ((r = la.archive_read_next_header(x->tar, &ent)) != ARCHIVE_EOF) {
		x->name = NULL;
		if (r < ARCHIVE_WARN) {
			if (x->failed)
				return recorded(x);
			return ubx_fail(x->e, 0, "layer: %s", la_errstr(x->tar));
		}
		x->st->entries++;
		x->name = la.archive_entry_pathname(ent);
		if ((r = apply(x, ent)) < 0)
			return r;
	}
	return 0;
}

int layer_extract(int in_fd, int dest_dirfd, const struct layer_opts *o, struct layer_stats *st,
		  struct ubx_err *e)
{
	static const struct layer_opts none;
	struct layer_stats unused;
	int r = la_load(e);

	if (r < 0)
		return r;
	struct extract *x = calloc(1, sizeof(*x));
	if (!x)
		return ubx_fail(e, ENOMEM, "layer");
	/* field by field: a compound literal would put the buffers on the stack */
	x->in_fd = in_fd;
	x->root = dest_dirfd;
	x->o = o ? o : &none;
	x->st = st ? st : &unused;
	x->e = e;
	x->pfd = -1;
	memset(x->st, 0, sizeof(*x->st));
	if ((r = open_readers(x)) == 0 && (r = extract_entries(x)) == 0 && (r = drain(x)) == 0)
		r = fix_dirs(x);
	if (r == 0)
		la_progress(x->o->progress, x->o->progress_opaque, &x->next_progress, x->st->bytes_compressed, true);
	extract_free(x);
	return r;
}

