/* SPDX-License-Identifier: MIT */
/*
 * format_src.c - where an image source's bytes are: a tar's member index, a
 * spool file, or the files of a directory.
 *
 * DOC: Theory of operation
 * A tar is read once with libarchive, headers only where it can: the first
 * header tells whether the stream is compressed.  A plain tar in a regular
 * file is indexed in place: for each regular member the offset of its data
 * (libarchive's count of bytes consumed when the header is done) and its
 * size, and the data itself is skipped with lseek().  Anything else (gzip,
 * xz, zstd, bzip2, or a pipe) has each member's data copied, in the same
 * pass, to an unnamed O_TMPFILE file in the spool directory, and the index
 * points there.  Either way a member is then read with pread() at will.
 *
 * Names are cleaned ("./" and "//" dropped); a name that climbs out with
 * ".." is never indexed.  Links between members (older `docker save` links a
 * layer.tar shared by two images to the first) are kept, cleaned and resolved
 * relative to the link, and followed on lookup, at most MAX_LINK_HOPS deep; a
 * target outside the archive is not there.  A directory source opens files
 * with openat2(RESOLVE_BENEATH), so a symlink in it cannot point out either.
 */
#include "format_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "libarchive.h"

#define NAME_MAX_LEN 1024    /* a member name we look at */
#define COPY_CHUNK (1 << 20) /* spool copy buffer */

/* path_clean() - @in made relative and clean, ".." resolved lexically; a
 * name that climbs above the root is refused.  Return: 0 or -EINVAL. */
static int path_clean(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (const char *p = in; *p;) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (o == 0)
				return -EINVAL;
			while (o > 0 && out[o - 1] != '/')
				o--;
			o = o ? o - 1 : 0;
		} else {
			if (o + !!o + n + 1 > len)
				return -EINVAL;
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = *end ? end + 1 : end;
	}
	out[o] = '\0';
	return o ? 0 : -EINVAL;
}

/* link_target() - a symlink's target, cleaned relative to the link's directory. */
static int link_target(const char *name, const char *target, char *out, size_t len)
{
	char joined[2 * NAME_MAX_LEN + 2];
	const char *slash = strrchr(name, '/');
	int dir = slash ? (int)(slash - name) : 0;

	if (target[0] == '/')
		snprintf(joined, sizeof(joined), "%s", target);
	else
		snprintf(joined, sizeof(joined), "%.*s/%s", dir, name, target);
	return path_clean(joined, out, len);
}

int imgfmt_mismatch(struct ubx_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (e) {
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		e->code = EBADMSG;
	}
	va_end(ap);
	return -EBADMSG;
}

char *blob_path(const struct digest *d, char buf[80])
{
	char hex[DIGEST_HEX_LEN + 1];
	snprintf(buf, 80, "blobs/sha256/%s", digest_hex(d, hex));
	return buf;
}

int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t got = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO;
		done += (size_t)got;
	}
	return 0;
}

int sniff_compression(const uint8_t *h, size_t len)
{
	if (len >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return IMGFMT_GZIP;
	if (len >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd)
		return IMGFMT_ZSTD;
	if ((len >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0) || (len >= 3 && memcmp(h, "BZh", 3) == 0))
		return -1;
	return IMGFMT_PLAIN;
}

/* --- the index ------------------------------------------------------------- */

struct indexer {
	struct imgfmt_source *s;
	struct archive *a;
	size_t cap;
	size_t seq;       /* order seen, so the last of two same names wins */
	bool in_place;
	uint64_t base;    /* where the tar starts in its file */
	uint64_t spooled; /* bytes in the spool so far */
	char *buf;        /* spool copy buffer */
	const char *what;
	struct ubx_err *e;
};

static int add_member(struct indexer *x, const char *name, uint64_t off, uint64_t size, const char *link)
{
	struct imgfmt_source *s = x->s;

	if (s->n_members == MAX_MEMBERS)
		return ubx_fail(x->e, 0, "%s: more than %d members: not an image archive", x->what, MAX_MEMBERS);
	if (s->n_members == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		struct member *m = realloc(s->members, cap * sizeof(*m));
		if (!m)
			return ubx_fail(x->e, ENOMEM, "%s", x->what);
		s->members = m;
		x->cap = cap;
	}
	struct member *m = &s->members[s->n_members];
	*m = (struct member){ .off = off, .size = size, .seq = x->seq++ };
	if (!(m->name = strdup(name)) || (link && !(m->link = strdup(link)))) {
		free(m->name);
		return ubx_fail(x->e, ENOMEM, "%s", x->what);
	}
	s->n_members++;
	return 0;
}

/* spool_data() - copy the current member's data to the spool file. */
static int spool_data(struct indexer *x, uint64_t size)
{
	uint64_t done = 0;

	for (;;) {
		la_ssize_t got = larc.archive_read_data(x->a, x->buf, COPY_CHUNK);
		if (got < 0)
			return ubx_fail(x->e, 0, "%s: %s", x->what, larc.archive_error_string(x->a));
		if (got == 0)
			break;
		for (la_ssize_t w = 0; w < got;) {
			ssize_t n = pwrite(x->s->data_fd, x->buf + w, (size_t)(got - w),
					   (off_t)(x->spooled + done + (uint64_t)w));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return ubx_fail(x->e, errno, "%s: spooling", x->what);
			w += n;
		}
		done += (uint64_t)got;
	}
	if (done != size)
		return ubx_fail(x->e, 0, "%s: a member's data is %llu bytes, its header says %llu", x->what,
				(unsigned long long)done, (unsigned long long)size);
	x->spooled += done;
	return 0;
}

/* index_entry() - record one header (and spool its data when not in place). */
static int index_entry(struct indexer *x, struct archive_entry *ent)
{
	char name[NAME_MAX_LEN], target[NAME_MAX_LEN];
	const char *raw = larc.archive_entry_pathname(ent);
	unsigned type = larc.archive_entry_filetype(ent);
	const char *hard = larc.archive_entry_hardlink(ent);

	if (!raw || strlen(raw) >= NAME_MAX_LEN || path_clean(raw, name, sizeof(name)) < 0)
		return 0; /* never looked up */
	if (hard)
		return path_clean(hard, target, sizeof(target)) < 0 ? 0 : add_member(x, name, 0, 0, target);
	if (type == AE_IFLNK) {
		const char *to = larc.archive_entry_symlink(ent);
		if (!to || strlen(to) >= NAME_MAX_LEN || link_target(name, to, target, sizeof(target)) < 0)
			return 0;
		return add_member(x, name, 0, 0, target);
	}
	if (type != AE_IFREG)
		return 0;
	if (larc.archive_entry_sparse_count(ent) > 0)
		return ubx_fail(x->e, 0, "%s: member '%.200s' is a sparse file: not an image archive", x->what, name);
	int64_t size = larc.archive_entry_size(ent);
	if (size < 0)
		return ubx_fail(x->e, 0, "%s: member '%.200s' has no size", x->what, name);
	if (x->in_place)
		return add_member(x, name, x->base + (uint64_t)larc.archive_filter_bytes(x->a, 0), (uint64_t)size, NULL);
	uint64_t at = x->spooled;
	int r = spool_data(x, (uint64_t)size);
	return r < 0 ? r : add_member(x, name, at, (uint64_t)size, NULL);
}

/* open_spool() - an unnamed file in @dir (O_TMPFILE, else a removed mkstemp file). */
static int open_spool(const char *dir, const char *what, struct ubx_err *e)
{
	char path[PATH_MAX];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR)
		return ubx_fail(e, errno, "%s: a spool file in %s", what, dir);
	if (snprintf(path, sizeof(path), "%s/usbox-spool-XXXXXX", dir) >= (int)sizeof(path))
		return ubx_fail(e, ENAMETOOLONG, "%s: spool directory %s", what, dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		return ubx_fail(e, errno, "%s: a spool file in %s", what, dir);
	(void)unlink(path);
	return fd;
}

/* start_index() - after the first header: in place, or spool from now on. */
static int start_index(struct indexer *x, int fd, const char *spool_dir)
{
	struct stat st;

	x->in_place = larc.archive_filter_code(x->a, 0) == ARCHIVE_FILTER_NONE && fstat(fd, &st) == 0 &&
		      S_ISREG(st.st_mode);
	if (x->in_place) {
		if ((x->s->data_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
			return ubx_fail(x->e, errno, "%s", x->what);
		return 0;
	}
	if (!spool_dir) {
		const char *tmp = getenv("TMPDIR");
		spool_dir = tmp && *tmp ? tmp : "/tmp";
	}
	if ((x->s->data_fd = open_spool(spool_dir, x->what, x->e)) < 0)
		return x->s->data_fd;
	x->s->spooled = true;
	if (!(x->buf = malloc(COPY_CHUNK)))
		return ubx_fail(x->e, ENOMEM, "%s", x->what);
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* finish_index() - sort by name; of two members with one name, the later wins. */
static void finish_index(struct imgfmt_source *s)
{
	size_t out = 0;

	qsort(s->members, s->n_members, sizeof(*s->members), cmp_member);
	for (size_t i = 0; i < s->n_members; i++) {
		if (i + 1 < s->n_members && strcmp(s->members[i].name, s->members[i + 1].name) == 0) {
			free(s->members[i].name);
			free(s->members[i].link);
			continue;
		}
		s->members[out++] = s->members[i];
	}
	s->n_members = out;
}

static int index_all(struct indexer *x, int fd, const char *spool_dir)
{
	struct archive_entry *ent;
	int r;

	for (bool first = true;; first = false) {
		int got = larc.archive_read_next_header(x->a, &ent);
		if (got == ARCHIVE_EOF)
			break;
		if (got < ARCHIVE_WARN)
			return first ? ubx_fail(x->e, 0, "%s: not a tar archive (%s)", x->what,
						larc.archive_error_string(x->a))
				     : ubx_fail(x->e, 0, "%s: %s", x->what, larc.archive_error_string(x->a));
		if (first && (r = start_index(x, fd, spool_dir)) < 0)
			return r;
		if ((r = index_entry(x, ent)) < 0)
			return r;
	}
	if (x->s->data_fd < 0)
		return ubx_fail(x->e, 0, "%s: an empty tar archive", x->what);
	return 0;
}

int src_index_tar(struct imgfmt_source *s, int fd, const char *spool_dir, struct ubx_err *e)
{
	_cleanup_archive_read_ struct archive *a = NULL;
	struct indexer x = { .s = s, .what = s->path, .e = e };
	off_t here;
	int r;

	if ((r = larc_load(s->path, e)) < 0)
		return r;
	if (!(a = x.a = larc.archive_read_new()))
		return ubx_fail(e, ENOMEM, "%s", s->path);
	if ((r = larc_read_filters(a, s->path, e)) < 0)
		return r;
	(void)larc.archive_read_support_format_tar(a);
	here = lseek(fd, 0, SEEK_CUR);
	x.base = here > 0 ? (uint64_t)here : 0;
	if (larc.archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
		return ubx_fail(e, 0, "%s: not a tar archive (%s)", s->path, larc.archive_error_string(a));
	r = index_all(&x, fd, spool_dir);
	free(x.buf);
	finish_index(s);
	return r;
}

/* --- lookups --------------------------------------------------------------- */

static const struct member *lookup(const struct imgfmt_source *s, const char *name)
{
	size_t lo = 0, hi = s->n_members;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, s->members[mid].name);
		if (c == 0)
			return &s->members[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void blobref_release(struct blobref *b)
{
	if (b->owned && b->fd >= 0)
		(void)close(b->fd);
	*b = (struct blobref){ .fd = -1 };
}

/* follow() - @path with its component at @p (ending at @end) replaced by
 * the symlink @target, cleaned; as RESOLVE_BENEATH, an absolute target or a
 * path out of the root is refused. */
static int follow(char *path, size_t len, const char *p, const char *end, const char *target)
{
	char joined[3 * NAME_MAX_LEN];

	if (target[0] == '/')
		return -EXDEV;
	snprintf(joined, sizeof(joined), "%.*s%s%s", (int)(p - path), path, target, end);
	return path_clean(joined, path, len);
}

/* open_walk() - @name (clean) below @dir without openat2: one component at a
 * time with O_NOFOLLOW, symlinks resolved by hand inside the root. */
static int open_walk(int dir, const char *name, int flags)
{
	char path[NAME_MAX_LEN], part[NAME_MAX_LEN], target[NAME_MAX_LEN];

	snprintf(path, sizeof(path), "%s", name);
	for (int hops = 0; hops <= MAX_LINK_HOPS; hops++) {
		int fd = dir, next = -1;
		const char *p = path, *end;
		for (;; p = end + 1, fd = next) {
			end = strchrnul(p, '/');
			bool last = *end == '\0';
			snprintf(part, sizeof(part), "%.*s", (int)(end - p), p);
			next = openat(fd, part, last ? flags | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0 && (errno == ELOOP || errno == ENOTDIR))
				break;
			if (fd != dir)
				(void)close(fd);
			if (next < 0 || last)
				return next;
		}
		ssize_t n = readlinkat(fd, part, target, sizeof(target) - 1);
		int err = n < 0 ? (errno == EINVAL ? ENOTDIR : errno) : 0;
		if (fd != dir)
			(void)close(fd);
		if (n < 0)
			return errno = err, -1;
		target[n] = '\0';
		if (follow(path, sizeof(path), p, end, target) < 0)
			return errno = EXDEV, -1;
	}
	return errno = ELOOP, -1;
}

/* open_beneath() - @name below @dir, never outside it (openat2
 * RESOLVE_BENEATH; without openat2, as valgrind 3.19, no symlinks). */
static int open_beneath(int dir, const char *name, int flags)
{
	struct open_how how = { .flags = (uint64_t)flags, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));

	return fd < 0 && errno == ENOSYS ? open_walk(dir, name, flags) : fd;
}

/* find_in_dir() - a regular file below the source directory. */
static int find_in_dir(const struct imgfmt_source *s, const char *name, struct blobref *out, struct ubx_err *e)
{
	struct stat st;
	int fd = open_beneath(s->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0 && errno == ENOENT) {
		(void)ubx_fail(e, 0, "%s: not in the directory", name);
		return -ENOENT;
	}
	if (fd < 0 && (errno == EXDEV || errno == ELOOP))
		return ubx_fail(e, 0, "%s: a symlink that leads out of the directory (or in circles)", name);
	if (fd < 0)
		return ubx_fail(e, errno, "%s", name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return ubx_fail(e, 0, "%s: not a regular file", name);
	}
	*out = (struct blobref){ .fd = fd, .owned = true, .off = 0, .size = (uint64_t)st.st_size };
	return 0;
}

int src_find(const struct imgfmt_source *s, const char *name, struct blobref *out, struct ubx_err *e)
{
	char clean[NAME_MAX_LEN];
	const char *want = name;

	*out = (struct blobref){ .fd = -1 };
	if (strlen(name) >= NAME_MAX_LEN || path_clean(name, clean, sizeof(clean)) < 0)
		return ubx_fail(e, 0, "'%.200s' is not a path inside the archive", name);
	if (s->dir_fd >= 0)
		return find_in_dir(s, clean, out, e);
	want = clean;
	for (int hops = 0; hops <= MAX_LINK_HOPS; hops++) {
		const struct member *m = lookup(s, want);
		if (!m) {
			(void)ubx_fail(e, 0, "%s: not in the archive", name);
			return -ENOENT;
		}
		if (!m->link) {
			*out = (struct blobref){ .fd = s->data_fd, .owned = false, .off = m->off, .size = m->size };
			return 0;
		}
		want = m->link;
	}
	return ubx_fail(e, ELOOP, "%s", name);
}

int src_read(const struct imgfmt_source *s, const char *name, size_t max, char **buf, size_t *len,
	     struct ubx_err *e)
{
	struct blobref b;
	int r;

	*buf = NULL;
	*len = 0;
	if ((r = src_find(s, name, &b, e)) < 0)
		return r;
	if (b.size > max) {
		blobref_release(&b);
		return ubx_fail(e, 0, "%s: larger than %zu MiB", name, max >> 20);
	}
	if (!(*buf = malloc(b.size + 1))) {
		blobref_release(&b);
		return ubx_fail(e, ENOMEM, "%s", name);
	}
	size_t size = b.size;
	r = pread_full(b.fd, *buf, size, b.off);
	blobref_release(&b);
	if (r < 0) {
		free(*buf);
		*buf = NULL;
		return ubx_fail(e, -r, "%s", name);
	}
	(*buf)[size] = '\0';
	*len = size;
	return 0;
}

int src_read_blob(const struct imgfmt_source *s, const struct digest *d, uint64_t size, char **buf,
		  size_t *len, struct ubx_err *e)
{
	_cleanup_free_ char *data = NULL;
	char path[80], got_s[DIGEST_STR_LEN + 1];
	struct digest got;
	size_t n;
	int r;

	*buf = NULL;
	*len = 0;
	blob_path(d, path);
	if (size > IMGFMT_JSON_MAX)
		return ubx_fail(e, 0, "%s: %llu bytes, more than %u MiB of JSON", path,
				(unsigned long long)size, IMGFMT_JSON_MAX >> 20);
	if ((r = src_read(s, path, IMGFMT_JSON_MAX, &data, &n, e)) < 0)
		return r;
	if (n != size)
		return imgfmt_mismatch(e, "%s: %zu bytes, but its descriptor says %llu", path, n,
				       (unsigned long long)size);
	if ((r = digest_buf(data, n, &got, e)) < 0)
		return r;
	if (!digest_eq(&got, d))
		return imgfmt_mismatch(e, "%s: content does not match its digest (it hashes to %s)", path,
				       digest_format(&got, got_s));
	*buf = TAKE_PTR(data);
	*len = n;
	return 0;
}
