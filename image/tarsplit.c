/* SPDX-License-Identifier: MIT */
/*
 * tarsplit.c - a layer's tar as a record of its headers and references to
 * its extracted files, and back (tarsplit.h).
 *
 * DOC: Theory of operation
 * The builder is a state machine over the tar stream, fed in pieces of any
 * size: a 512-byte header block, then its entry's data, then the padding to
 * the next block.  Headers, padding and the data of PAX ('x', 'g') and GNU
 * long-name ('L', 'K') entries go into the record verbatim; the data of a
 * regular file ('0', '7', NUL) whose name is plain becomes a reference.  The
 * name is the PAX path, else the GNU long name, else the ustar prefix and
 * name, cleaned as layer_clean_path() cleans it for extraction.  Anything
 * the builder does not follow -- a header whose checksum or size it cannot
 * read, the zero blocks that end the archive, a PAX record it cannot parse,
 * a global PAX header that sets a name or size, a GNU sparse file, a whiteout
 * with data, a name ending in '/' -- is kept verbatim from there on (for the
 * entry, or to the end): a bigger record, never a wrong one.
 *
 * The replay reads the record through a buffer, checks every length against
 * the format's bounds and every path against layer_clean_path(), and reads
 * the referenced files beneath the layer with openat2(RESOLVE_IN_ROOT).
 */
#include "tarsplit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "layer.h"
#include "layer_internal.h"

#define BLOCK 512
#define META_MAX (64u << 10) /* PAX or long-name data looked into */
#define OUT_BUF (64u << 10)
#define IN_BUF (64u << 10)

/* ---- building -------------------------------------------------------------- */

enum bstate { B_HDR, B_META, B_DATA_REF, B_DATA_RAW, B_PAD, B_VERBATIM };

struct tarsplit_builder {
	int fd;
	int err;                /* the first write error, negative */
	enum bstate st;
	uint64_t left, pad;     /* of the region at hand, and the padding after it */
	uint64_t total, refs;
	unsigned char hdr[BLOCK];
	size_t hn;
	char meta_type;         /* 'x', 'g', 'L', or 0 for data not looked into */
	char *meta;
	size_t meta_len;
	bool meta_over;
	/* what PAX and long-name entries say of the next entry */
	char *longname, *pax_path;
	bool pax_size_set, poison, global_poison;
	uint64_t pax_size;
	char *raw;              /* verbatim bytes not written yet */
	size_t raw_len;
	char *out;              /* the record's write buffer */
	size_t out_len;
	char path[LAYER_PATH_MAX + 1];
};

static int write_all(int fd, const void *buf, size_t len)
{
	for (const char *p = buf; len;) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n, len -= (size_t)n;
	}
	return 0;
}

static void out_flush(struct tarsplit_builder *b)
{
	if (!b->err && b->out_len)
		b->err = write_all(b->fd, b->out, b->out_len);
	b->out_len = 0;
}

static void out_put(struct tarsplit_builder *b, const void *p, size_t n)
{
	if (b->out_len + n > OUT_BUF)
		out_flush(b);
	if (n >= OUT_BUF) {
		if (!b->err)
			b->err = write_all(b->fd, p, n);
		return;
	}
	memcpy(b->out + b->out_len, p, n);
	b->out_len += n;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void raw_flush(struct tarsplit_builder *b)
{
	unsigned char seg[5] = { 'r' };
	if (!b->raw_len)
		return;
	put_le(seg + 1, b->raw_len, 4);
	out_put(b, seg, sizeof(seg));
	out_put(b, b->raw, b->raw_len);
	b->raw_len = 0;
}

static void raw_add(struct tarsplit_builder *b, const void *p, size_t n)
{
	while (n) {
		size_t k = TARSPLIT_RAW_MAX - b->raw_len < n ? TARSPLIT_RAW_MAX - b->raw_len : n;
		memcpy(b->raw + b->raw_len, p, k);
		b->raw_len += k;
		p = (const char *)p + k, n -= k;
		if (b->raw_len == TARSPLIT_RAW_MAX)
			raw_flush(b);
	}
}

static void ref_add(struct tarsplit_builder *b, uint64_t size, const char *path)
{
	unsigned char seg[11] = { 'f' };
	size_t len = strlen(path);
	raw_flush(b);
	put_le(seg + 1, size, 8);
	put_le(seg + 9, len, 2);
	out_put(b, seg, sizeof(seg));
	out_put(b, path, len);
	b->refs++;
}

int tarsplit_builder_new(int out_fd, struct tarsplit_builder **out, struct ubx_err *e)
{
	struct tarsplit_builder *b = calloc(1, sizeof(*b));
	if (b && (!(b->raw = malloc(TARSPLIT_RAW_MAX)) || !(b->out = malloc(OUT_BUF)) || !(b->meta = malloc(META_MAX)))) {
		tarsplit_builder_free(b);
		b = NULL;
	}
	if (!b)
		return ubx_fail(e, ENOMEM, "tar-split record");
	b->fd = out_fd;
	out_put(b, TARSPLIT_MAGIC, strlen(TARSPLIT_MAGIC));
	*out = b;
	return 0;
}

void tarsplit_builder_free(struct tarsplit_builder *b)
{
	if (!b)
		return;
	free(b->raw);
	free(b->out);
	free(b->meta);
	free(b->longname);
	free(b->pax_path);
	free(b);
}

/* A tar number field: octal (spaces before, a NUL or space after) or
 * base-256.  Return: 0, or -1 when it is neither. */
static int parse_num(const unsigned char *f, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -1; /* negative, or more than 88 bits */
		for (i = 1; i < n; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | f[i];
		}
		*out = v;
		return 0;
	}
	while (i < n && f[i] == ' ')
		i++;
	size_t start = i;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++)
		v = v << 3 | (uint64_t)(f[i] - '0');
	if (i == start && i < n && f[i] != '\0')
		return -1;
	if (i < n && f[i] != '\0' && f[i] != ' ')
		return -1;
	*out = v;
	return 0;
}

static bool all_zero(const unsigned char *h)
{
	for (size_t i = 0; i < BLOCK; i++)
		if (h[i])
			return false;
	return true;
}

/* The header's checksum, as unsigned or as signed bytes (old tars). */
static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	long u = 0, s = 0;
	if (parse_num(h + 148, 8, &want) < 0)
		return false;
	for (size_t i = 0; i < BLOCK; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];
		u += c;
		s += (signed char)c;
	}
	return (uint64_t)u == want || (s >= 0 && (uint64_t)s == want);
}

/* A decimal PAX value, strictly. */
static bool parse_dec(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return true;
}

static bool key_is(const char *k, size_t klen, const char *want)
{
	return klen == strlen(want) && memcmp(k, want, klen) == 0;
}

/* One PAX record's key and value; false when the entry's data must stay
 * verbatim. */
static bool pax_record(struct tarsplit_builder *b, const char *k, size_t klen, const char *v, size_t vlen, bool global)
{
	if (klen >= 11 && memcmp(k, "GNU.sparse.", 11) == 0)
		return false;
	if (key_is(k, klen, "path")) {
		if (global)
			return false;
		free(b->pax_path);
		return (b->pax_path = strndup(v, vlen)) != NULL; /* a NUL ends it, as libarchive reads it */
	}
	if (key_is(k, klen, "size"))
		return !global && parse_dec(v, vlen, &b->pax_size) && (b->pax_size_set = true);
	return true;
}

/* PAX data, "LEN key=value\n" records. */
static bool pax_parse(struct tarsplit_builder *b, const char *p, size_t n, bool global)
{
	while (n) {
		size_t len = 0, i = 0;
		for (; i < n && i < 19 && p[i] >= '0' && p[i] <= '9'; i++)
			len = len * 10 + (size_t)(p[i] - '0');
		if (i == 0 || i >= n || p[i] != ' ' || len > n || len < i + 3 || p[len - 1] != '\n')
			return false;
		const char *kv = p + i + 1;
		size_t kvlen = len - i - 2;
		const char *eq = memchr(kv, '=', kvlen);
		if (!eq || !pax_record(b, kv, (size_t)(eq - kv), eq + 1, kvlen - (size_t)(eq - kv) - 1, global))
			return false;
		p += len, n -= len;
	}
	return true;
}

static void meta_end(struct tarsplit_builder *b)
{
	bool ok = !b->meta_over;
	if (b->meta_type == 'x' || b->meta_type == 'g')
		ok = ok && pax_parse(b, b->meta, b->meta_len, b->meta_type == 'g');
	else if (b->meta_type == 'L' && ok) {
		free(b->longname);
		ok = (b->longname = strndup(b->meta, b->meta_len)) != NULL;
	}
	if (!ok && b->meta_type == 'g')
		b->global_poison = true;
	else if (!ok)
		b->poison = true;
}

/* The next region: @size bytes in state @st, then the padding. */
static void region(struct tarsplit_builder *b, uint64_t size, enum bstate st)
{
	b->left = size;
	b->pad = (BLOCK - size % BLOCK) % BLOCK;
	b->st = size ? st : B_HDR;
}

/* The entry's name as libarchive reads it, cleaned into b->path; false when
 * its data must not be a reference. */
static bool entry_path(struct tarsplit_builder *b, const unsigned char *h)
{
	char name[BLOCK];
	const char *raw = b->pax_path ? b->pax_path : b->longname;
	if (!raw) {
		size_t n = strnlen((const char *)h, 100), pre = 0;
		if (memcmp(h + 257, "ustar\0", 6) == 0 && h[345])
			pre = strnlen((const char *)h + 345, 155);
		snprintf(name, sizeof(name), "%.*s%s%.*s", (int)pre, (const char *)h + 345, pre ? "/" : "", (int)n,
			 (const char *)h);
		raw = name;
	}
	size_t len = strlen(raw);
	if (!len || raw[len - 1] == '/' || layer_clean_path(raw, b->path, sizeof(b->path)) <= 0)
		return false;
	const char *slash = strrchr(b->path, '/'), *last = slash ? slash + 1 : b->path;
	return strncmp(last, WH_PREFIX, strlen(WH_PREFIX)) != 0;
}

static void entry_done(struct tarsplit_builder *b)
{
	free(b->longname);
	free(b->pax_path);
	b->longname = b->pax_path = NULL;
	b->pax_size_set = b->poison = false;
}

static void on_header(struct tarsplit_builder *b)
{
	const unsigned char *h = b->hdr;
	uint64_t size;

	if (all_zero(h) || !checksum_ok(h) || parse_num(h + 124, 12, &size) < 0 || size >= TARSPLIT_SIZE_MAX) {
		b->st = B_VERBATIM; /* the end, or what this reader does not follow */
		return;
	}
	char type = (char)h[156];
	if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
		b->meta_type = type == 'K' ? 0 : type;
		b->meta_len = 0;
		b->meta_over = false;
		region(b, size, B_META);
		if (!size)
			meta_end(b);
		return;
	}
	if (b->pax_size_set)
		size = b->pax_size;
	bool ref = (type == '0' || type == '\0' || type == '7') && size > 0 && size < TARSPLIT_SIZE_MAX && !b->poison &&
		   !b->global_poison && entry_path(b, h);
	if (ref)
		ref_add(b, size, b->path);
	region(b, size, ref ? B_DATA_REF : B_DATA_RAW);
	entry_done(b);
}

static void meta_add(struct tarsplit_builder *b, const char *p, size_t n)
{
	if (!b->meta_type || b->meta_over)
		return;
	if (n > META_MAX - b->meta_len) {
		b->meta_over = true;
		return;
	}
	memcpy(b->meta + b->meta_len, p, n);
	b->meta_len += n;
}

/* Takes up to @len bytes of the stream in the current state; returns how many. */
static size_t step(struct tarsplit_builder *b, const char *p, size_t len)
{
	size_t n = len;
	if (b->st != B_HDR && b->st != B_VERBATIM) {
		uint64_t left = b->st == B_PAD ? b->pad : b->left;
		n = left < len ? (size_t)left : len;
	}
	switch (b->st) {
	case B_HDR:
		n = BLOCK - b->hn < len ? BLOCK - b->hn : len;
		memcpy(b->hdr + b->hn, p, n);
		raw_add(b, p, n);
		if ((b->hn += n) == BLOCK) {
			b->hn = 0;
			on_header(b);
		}
		return n;
	case B_VERBATIM:
		raw_add(b, p, n);
		return n;
	case B_PAD:
		raw_add(b, p, n);
		if (!(b->pad -= n))
			b->st = B_HDR;
		return n;
	case B_META:
		meta_add(b, p, n);
		/* fall through */
	case B_DATA_RAW:
		raw_add(b, p, n);
		/* fall through */
	case B_DATA_REF:
		break;
	}
	if (!(b->left -= n)) {
		if (b->st == B_META)
			meta_end(b);
		b->st = b->pad ? B_PAD : B_HDR;
	}
	return n;
}

int tarsplit_feed(void *opaque, const void *buf, size_t len)
{
	struct tarsplit_builder *b = opaque;
	for (const char *p = buf; len && !b->err;) {
		size_t n = step(b, p, len);
		p += n, len -= n;
		b->total += n;
	}
	return b->err;
}

int tarsplit_finish(struct tarsplit_builder *b, uint64_t *total, uint64_t *refs, struct ubx_err *e)
{
	unsigned char seg[9] = { 'e' };
	raw_flush(b);
	put_le(seg + 1, b->total, 8);
	out_put(b, seg, sizeof(seg));
	out_flush(b);
	if (b->err)
		return ubx_fail(e, -b->err, "write the tar-split record");
	*total = b->total;
	*refs = b->refs;
	return 0;
}

/* ---- replaying ------------------------------------------------------------- */

struct tarsplit_replay {
	int rec, root;
	bool own;                  /* rec and root are closed with the replay */
	char what[4400];
	struct digest_ctx *hash;   /* NULL: not checked */
	struct digest want;
	char in[IN_BUF];
	size_t in_pos, in_len;
	char seg;                  /* 'r', 'f', or 0 between segments */
	uint64_t left, total;
	int file;
	bool done;
	char path[LAYER_PATH_MAX + 1], clean[LAYER_PATH_MAX + 1];
};

static int damaged(struct tarsplit_replay *r, struct ubx_err *e, const char *why)
{
	return ubx_refuse(e, EBADMSG, "%s: its tar-split record is damaged (%s)", r->what, why);
}

/* Up to @n bytes of the record; *@got how many (0 at its end). */
static int rec_some(struct tarsplit_replay *r, void *dst, size_t n, size_t *got, struct ubx_err *e)
{
	if (r->in_pos == r->in_len) {
		ssize_t k;
		do
			k = read(r->rec, r->in, sizeof(r->in));
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return ubx_fail(e, errno, "%s: read its tar-split record", r->what);
		r->in_pos = 0;
		r->in_len = (size_t)k;
	}
	*got = r->in_len - r->in_pos < n ? r->in_len - r->in_pos : n;
	memcpy(dst, r->in + r->in_pos, *got);
	r->in_pos += *got;
	return 0;
}

/* Exactly @n bytes of the record. */
static int rec_get(struct tarsplit_replay *r, void *dst, size_t n, struct ubx_err *e)
{
	for (size_t got = 0, k; got < n; got += k) {
		int rc = rec_some(r, (char *)dst + got, n - got, &k, e);
		if (rc < 0)
			return rc;
		if (!k)
			return damaged(r, e, "it ends early");
	}
	return 0;
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A file segment: the file opened, its size checked. */
static int open_ref(struct tarsplit_replay *r, struct ubx_err *e)
{
	unsigned char h[10];
	struct stat st;
	int rc = rec_get(r, h, sizeof(h), e);
	if (rc < 0)
		return rc;
	uint64_t size = get_le(h, 8), len = get_le(h + 8, 2);
	if (size == 0 || size >= TARSPLIT_SIZE_MAX || len == 0 || len > LAYER_PATH_MAX)
		return damaged(r, e, "a file reference out of bounds");
	if ((rc = rec_get(r, r->path, (size_t)len, e)) < 0)
		return rc;
	r->path[len] = '\0';
	if (memchr(r->path, '\0', (size_t)len) || layer_clean_path(r->path, r->clean, sizeof(r->clean)) != (int)len ||
	    strcmp(r->path, r->clean) != 0)
		return damaged(r, e, "a file reference is not a clean path");
	char shown[160];
	la_printable(r->path, shown, sizeof(shown));
	r->file = la_open_in_root(r->root, r->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (r->file < 0)
		return ubx_fail(e, -r->file, "%s: the file '%s'%s", r->what, shown,
				r->file == -ENOENT ? " is gone: the layer was changed on disk" : "");
	if (fstat(r->file, &st) < 0)
		return ubx_fail(e, errno, "%s: the file '%s'", r->what, shown);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return ubx_refuse(e, EBADMSG, "%s: the file '%s' %s %lld bytes, its record says %llu: the layer was changed on disk",
					    r->what, shown, S_ISREG(st.st_mode) ? "has" : "is no regular file of",
					    (long long)st.st_size, (unsigned long long)size);
	r->left = size;
	return 0;
}

/* The end: the length, nothing after it, the hash. */
static int at_end(struct tarsplit_replay *r, struct ubx_err *e)
{
	unsigned char h[8], extra;
	size_t got;
	struct digest d;
	char hex[DIGEST_STR_LEN + 1];
	int rc = rec_get(r, h, sizeof(h), e);
	if (rc < 0 || (rc = rec_some(r, &extra, 1, &got, e)) < 0)
		return rc;
	if (got || get_le(h, 8) != r->total)
		return damaged(r, e, got ? "bytes after its end" : "its length does not add up");
	if (r->hash && (rc = digest_final(r->hash, &d, e)) < 0)
		return rc;
	if (r->hash && !digest_eq(&d, &r->want))
		return ubx_refuse(e, EBADMSG, "%s: its files no longer give the tar it was loaded as (that hashes to %s): "
					    "the layer was changed on disk", r->what, digest_format(&d, hex));
	r->done = true;
	return 0;
}

/* Reads the next segment's head. */
static int next_segment(struct tarsplit_replay *r, struct ubx_err *e)
{
	unsigned char h[4];
	char type;
	int rc = rec_get(r, &type, 1, e);
	if (rc < 0)
		return rc;
	if (type == 'e')
		return at_end(r, e);
	if (type == 'f' && (rc = open_ref(r, e)) < 0)
		return rc;
	if (type == 'r') {
		if ((rc = rec_get(r, h, sizeof(h), e)) < 0)
			return rc;
		r->left = get_le(h, 4);
		if (r->left == 0 || r->left > TARSPLIT_RAW_MAX)
			return damaged(r, e, "a verbatim segment out of bounds");
	} else if (type != 'f') {
		return damaged(r, e, "an unknown segment");
	}
	if (r->total > UINT64_MAX - r->left)
		return damaged(r, e, "too long");
	r->seg = type;
	return 0;
}

int tarsplit_replay_new(int rec_fd, int root_fd, bool own, const struct digest *diff_id, const char *what,
			struct tarsplit_replay **out, struct ubx_err *e)
{
	char magic[sizeof(TARSPLIT_MAGIC) - 1];
	struct tarsplit_replay *r = calloc(1, sizeof(*r));
	if (!r) {
		if (own)
			close(rec_fd), close(root_fd);
		return ubx_fail(e, ENOMEM, "tar-split replay");
	}
	*r = (struct tarsplit_replay){ .rec = rec_fd, .root = root_fd, .own = own, .file = -1 };
	snprintf(r->what, sizeof(r->what), "%s", what);
	int rc = diff_id ? digest_init(&r->hash, e) : 0;
	if (diff_id)
		r->want = *diff_id;
	if (rc == 0 && (rc = rec_get(r, magic, sizeof(magic), e)) == 0 && memcmp(magic, TARSPLIT_MAGIC, sizeof(magic)))
		rc = damaged(r, e, "not a record");
	if (rc < 0) {
		tarsplit_replay_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void tarsplit_replay_free(struct tarsplit_replay *r)
{
	if (!r)
		return;
	if (r->file >= 0)
		close(r->file);
	if (r->own)
		close(r->rec), close(r->root);
	digest_free(r->hash);
	free(r);
}

/* Up to @len bytes of the open file. */
static ssize_t file_some(struct tarsplit_replay *r, void *buf, size_t len, struct ubx_err *e)
{
	char shown[160];
	ssize_t n;
	do
		n = read(r->file, buf, len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	la_printable(r->path, shown, sizeof(shown));
	if (n < 0)
		return ubx_fail(e, errno, "%s: read the file '%s'", r->what, shown);
	return ubx_refuse(e, EBADMSG, "%s: the file '%s' ends early: the layer was changed on disk", r->what, shown);
}

ssize_t tarsplit_read(struct tarsplit_replay *r, void *buf, size_t len, struct ubx_err *e)
{
	int rc;
	while (!r->done && !r->seg)
		if ((rc = next_segment(r, e)) < 0)
			return rc;
	if (r->done || !len)
		return 0;
	size_t n = r->left < len ? (size_t)r->left : len;
	if (r->seg == 'r' && (rc = rec_get(r, buf, n, e)) < 0)
		return rc;
	if (r->seg == 'f') {
		ssize_t k = file_some(r, buf, n, e);
		if (k < 0)
			return k;
		n = (size_t)k;
	}
	if (r->hash && (rc = digest_update(r->hash, buf, n, e)) < 0)
		return rc;
	r->total += n;
	if (!(r->left -= n)) {
		if (r->file >= 0)
			close(r->file);
		r->file = -1;
		r->seg = 0;
	}
	return (ssize_t)n;
}

int tarsplit_check(int rec_fd, int root_fd, const struct digest *diff_id, uint64_t size, const char *what,
		   struct ubx_err *e)
{
	struct tarsplit_replay *r = NULL;
	_cleanup_free_ char *buf = malloc(1 << 20);
	ssize_t n = 0;
	int rc = !buf ? ubx_fail(e, ENOMEM, "tar-split check") : lseek(rec_fd, 0, SEEK_SET) < 0 ? -errno : 0;
	if (rc == 0)
		rc = tarsplit_replay_new(rec_fd, root_fd, false, diff_id, what, &r, e);
	while (rc == 0 && (n = tarsplit_read(r, buf, 1 << 20, e)) > 0)
		;
	if (rc == 0 && n < 0)
		rc = (int)n;
	if (rc == 0 && r->total != size)
		rc = ubx_refuse(e, EBADMSG, "%s: its record gives %llu bytes, not %llu", what,
					  (unsigned long long)r->total, (unsigned long long)size);
	tarsplit_replay_free(r);
	return rc;
}

int tarsplit_total(int rec_fd, uint64_t *total, struct ubx_err *e)
{
	unsigned char t[9];
	struct stat st;
	if (fstat(rec_fd, &st) < 0)
		return ubx_fail(e, errno, "tar-split record");
	if (st.st_size < (off_t)(sizeof(TARSPLIT_MAGIC) - 1 + sizeof(t)) ||
	    pread(rec_fd, t, sizeof(t), st.st_size - (off_t)sizeof(t)) != (ssize_t)sizeof(t) || t[0] != 'e')
		return ubx_fail(e, EBADMSG, "a tar-split record without its end");
	*total = get_le(t + 1, 8);
	return 0;
}
