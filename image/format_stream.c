/* SPDX-License-Identifier: MIT */
/*
 * format_stream.c - one layer handed out as a pipe whose bytes are checked
 * as they pass.
 *
 * DOC: Theory of operation
 * imgfmt_layer_open() forks a reader (a process, not a thread, so the
 * caller stays single-threaded and may still setns() into a user namespace).
 * The reader pread()s the blob from the source in 1 MiB chunks, hashes them
 * (the blob's digest), and for a compressed blob decompresses them with
 * libarchive's raw format and hashes the result (the diff_id); a plain
 * blob's digest is its diff_id, so it is hashed once.  What goes into the
 * pipe is the uncompressed tar or the blob as stored, as asked, and with a
 * blob_fd also the blob, to a file of the caller's (to keep it).
 *
 * The reader always holds back the last chunk it has: only when the whole
 * blob is read, its size and digest match the manifest and its diff_id
 * matches the config is that chunk written and the pipe closed.  On a
 * mismatch the stream stops short, and the verdict - one line naming the
 * blob - goes to imgfmt_layer_close() through a second pipe, as a struct
 * ubx_err.  imgfmt_layer_close() first reads and drops what the consumer
 * left (tar readers stop at the end marker; the blob goes on to its end), so
 * that every byte is checked before it answers.  The blob bytes read so far
 * are in a shared counter, for a progress bar.
 */
#include "format_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fdpass.h"
#include "libarchive.h"

#define CHUNK (1 << 20)
#define PIPE_SIZE (1 << 20)

struct imgfmt_layer {
	pid_t pid;
	int data;             /* the pipe's read end: what the consumer reads */
	int verdict;          /* the reader's struct verdict */
	_Atomic uint64_t *read_bytes; /* shared: blob bytes read so far */
	char path[80];
};

/* What the reader sends back, in one write. */
struct verdict {
	int status;           /* 0, or a negative errno */
	struct ubx_err err;
	struct imgfmt_layer_result res;
};

/* The reader's state, in the forked process. */
struct feeder {
	const struct imgfmt_layer_desc *l;
	size_t index;
	enum imgfmt_layer_mode mode;
	int src, out, blob_fd;
	uint64_t off, size, pos;
	struct digest_ctx *blob_hash, *tar_hash;
	char *in[2], *dec[2];  /* read and decompressed buffers, each a pair */
	int in_k, dec_k;
	const char *held;      /* the chunk held back, still in its buffer */
	size_t held_len;
	uint64_t tar_bytes;
	_Atomic uint64_t *read_bytes;
	struct ubx_err *e;
};

static int write_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* emit() - write what was held back, and hold @buf (which stays valid until
 * the next call: the buffers alternate). */
static int emit(struct feeder *f, const char *buf, size_t len)
{
	int r;

	if (f->held_len && (r = write_all(f->out, f->held, f->held_len)) < 0)
		return r == -EPIPE ? ubx_fail(f->e, 0, "%s: the consumer stopped reading", f->l->path)
				   : ubx_fail(f->e, -r, "%s: writing the layer", f->l->path);
	f->held = buf;
	f->held_len = len;
	return 0;
}

/* read_chunk() - the next chunk of the blob into the next read buffer,
 * hashed, teed and counted; *@len 0 at the end. */
static int read_chunk(struct feeder *f, const char **buf, size_t *len)
{
	size_t want = f->size - f->pos < CHUNK ? (size_t)(f->size - f->pos) : CHUNK;
	char *b = f->in[f->in_k ^= 1];
	ssize_t n = 0;
	int r;

	while (want && (n = pread(f->src, b, want, (off_t)(f->off + f->pos))) < 0 && errno == EINTR)
		;
	if (n < 0)
		return ubx_fail(f->e, errno, "%s", f->l->path);
	if (want && n == 0)
		return ubx_fail(f->e, 0, "%s: ends after %llu of its %llu bytes", f->l->path,
				(unsigned long long)f->pos, (unsigned long long)f->size);
	if ((r = digest_update(f->blob_hash, b, (size_t)n, f->e)) < 0)
		return r;
	if (f->blob_fd >= 0 && n && (r = write_all(f->blob_fd, b, (size_t)n)) < 0)
		return ubx_fail(f->e, -r, "%s: keeping a copy", f->l->path);
	f->pos += (uint64_t)n;
	atomic_store_explicit(f->read_bytes, f->pos, memory_order_relaxed);
	*buf = b;
	*len = (size_t)n;
	return 0;
}

/* feed_plain() - a plain tar: one hash is both digests. */
static int feed_plain(struct feeder *f)
{
	const char *b = NULL;
	size_t n = 0;
	int r;

	for (;;) {
		if ((r = read_chunk(f, &b, &n)) < 0)
			return r;
		if (n == 0)
			return 0;
		f->tar_bytes += n;
		if ((r = emit(f, b, n)) < 0)
			return r;
	}
}

/* la_read() - libarchive's read callback: the blob, chunk by chunk. */
static la_ssize_t la_read(struct archive *a, void *opaque, const void **buf)
{
	struct feeder *f = opaque;
	const char *b = NULL;
	size_t n = 0;

	(void)a;
	if (read_chunk(f, &b, &n) < 0)
		return -1;
	if (n && f->mode == IMGFMT_LAYER_BLOB && emit(f, b, n) < 0)
		return -1;
	*buf = b;
	return (la_ssize_t)n;
}

/* decompress() - the blob through libarchive's raw format; the tar hashed
 * (and emitted in TAR mode). */
static int decompress(struct feeder *f, struct archive *a)
{
	struct archive_entry *ent;
	int r;

	if (larc.archive_read_support_format_raw(a) != ARCHIVE_OK || larc_read_filters(a, f->l->path, f->e) < 0 ||
	    larc.archive_read_open(a, f, NULL, la_read, NULL) != ARCHIVE_OK ||
	    larc.archive_read_next_header(a, &ent) != ARCHIVE_OK)
		return f->e->msg[0] ? -EIO : ubx_fail(f->e, 0, "%s: %s", f->l->path, larc.archive_error_string(a));
	for (;;) {
		char *b = f->dec[f->dec_k ^= 1];
		la_ssize_t n = larc.archive_read_data(a, b, CHUNK);
		if (n < 0)
			return f->e->msg[0] ? -EIO : ubx_fail(f->e, 0, "%s: %s", f->l->path, larc.archive_error_string(a));
		if (n == 0)
			return 0;
		f->tar_bytes += (uint64_t)n;
		if ((r = digest_update(f->tar_hash, b, (size_t)n, f->e)) < 0)
			return r;
		if (f->mode == IMGFMT_LAYER_TAR && (r = emit(f, b, (size_t)n)) < 0)
			return r;
	}
}

/* feed_compressed() - decompress, then read what libarchive left of the blob
 * (trailing bytes count for the digest too). */
static int feed_compressed(struct feeder *f)
{
	_cleanup_archive_read_ struct archive *a = larc.archive_read_new();
	const char *b = NULL;
	size_t n = 0;
	int r, bad;

	if (!a)
		return ubx_fail(f->e, ENOMEM, "%s", f->l->path);
	bad = decompress(f, a);
	do {
		if ((r = read_chunk(f, &b, &n)) < 0)
			return r;
		if (n && f->mode == IMGFMT_LAYER_BLOB && (r = emit(f, b, n)) < 0)
			return r;
	} while (n);
	if (bad < 0 && f->l->digest_known) {
		/* a damaged blob: say so rather than what the decompressor saw */
		struct digest d;
		char got[DIGEST_STR_LEN + 1];
		if (digest_final(f->blob_hash, &d, NULL) == 0 && !digest_eq(&d, &f->l->digest))
			return imgfmt_mismatch(f->e, "%s: content does not match its digest (it hashes to %s)",
					       f->l->path, digest_format(&d, got));
	}
	return bad;
}

/* check() - the digests against the manifest's and the config's. */
static int check(struct feeder *f, struct imgfmt_layer_result *res)
{
	char got[DIGEST_STR_LEN + 1], want[DIGEST_STR_LEN + 1];
	int r;

	if ((r = digest_final(f->blob_hash, &res->digest, f->e)) < 0)
		return r;
	if (f->l->compression == IMGFMT_PLAIN)
		res->diff_id = res->digest;
	else if ((r = digest_final(f->tar_hash, &res->diff_id, f->e)) < 0)
		return r;
	res->blob_bytes = f->pos;
	res->tar_bytes = f->tar_bytes;
	if (f->l->digest_known && !digest_eq(&res->digest, &f->l->digest))
		return imgfmt_mismatch(f->e, "%s: content does not match its digest (it hashes to %s)", f->l->path,
				       digest_format(&res->digest, got));
	if (!digest_eq(&res->diff_id, &f->l->diff_id))
		return imgfmt_mismatch(f->e, "%s: its tar hashes to %s, but the config's rootfs.diff_ids[%zu] is %s",
				       f->l->path, digest_format(&res->diff_id, got), f->index,
				       digest_format(&f->l->diff_id, want));
	return 0;
}

/* sniff() - the blob's first bytes must be what its media type says. */
static int sniff(struct feeder *f)
{
	static const char *const names[] = { "plain", "gzip", "zstd" };
	uint8_t head[8] = { 0 };
	int r, c;

	if ((r = pread_full(f->src, head, f->size < sizeof(head) ? f->size : sizeof(head), f->off)) < 0)
		return ubx_fail(f->e, -r, "%s", f->l->path);
	c = sniff_compression(head, sizeof(head));
	if (c == (int)f->l->compression)
		return 0;
	return ubx_fail(f->e, 0, "%s: its media type says %s, but it is %s", f->l->path, names[f->l->compression],
			c < 0 ? "xz or bzip2" : names[c]);
}

static int feed(struct feeder *f, struct imgfmt_layer_result *res)
{
	int r;

	for (int i = 0; i < 2; i++)
		if (!(f->in[i] = malloc(CHUNK)) || !(f->dec[i] = malloc(CHUNK)))
			return ubx_fail(f->e, ENOMEM, "%s", f->l->path);
	if ((r = digest_init(&f->blob_hash, f->e)) < 0 || (r = digest_init(&f->tar_hash, f->e)) < 0 ||
	    (r = sniff(f)) < 0)
		return r;
	r = f->l->compression == IMGFMT_PLAIN ? feed_plain(f) : feed_compressed(f);
	if (r < 0)
		return r;
	if ((r = check(f, res)) < 0)
		return r;
	/* all checked: the last chunk may go */
	return emit(f, NULL, 0);
}

/* reader_main() - the forked reader: feed, then send the verdict. */
static _Noreturn void reader_main(const struct feeder *parent, int verdict_fd)
{
	struct verdict v = { 0 };
	struct feeder f = *parent;
	int keep[] = { f.src, f.out, f.blob_fd, verdict_fd };

	f.e = &v.err;
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)signal(SIGPIPE, SIG_IGN);
	if ((v.status = fd_close_all_but(keep, ARRAY_SIZE(keep))) < 0)
		(void)ubx_fail(f.e, -v.status, "%s: closing descriptors", f.l->path);
	else
		v.status = feed(&f, &v.res);
	(void)close(f.out);
	(void)write_all(verdict_fd, &v, sizeof(v));
	_exit(0);
}

/* spawn() - fork the reader for @f; the pipes' parent ends into @l. */
static int spawn(struct feeder *f, struct imgfmt_layer *l, struct ubx_err *e)
{
	int data[2], verdict[2];

	if (pipe2(data, O_CLOEXEC) < 0)
		return ubx_fail(e, errno, "%s: pipe", l->path);
	if (pipe2(verdict, O_CLOEXEC) < 0) {
		(void)close(data[0]);
		(void)close(data[1]);
		return ubx_fail(e, errno, "%s: pipe", l->path);
	}
	(void)fcntl(data[1], F_SETPIPE_SZ, PIPE_SIZE);
	if ((l->pid = fork()) < 0) {
		int err = errno;
		(void)close(data[0]);
		(void)close(data[1]);
		(void)close(verdict[0]);
		(void)close(verdict[1]);
		return ubx_fail(e, err, "%s: fork", l->path);
	}
	if (l->pid == 0) {
		(void)close(data[0]);
		(void)close(verdict[0]);
		f->out = data[1];
		reader_main(f, verdict[1]);
	}
	(void)close(data[1]);
	(void)close(verdict[1]);
	l->data = data[0];
	l->verdict = verdict[0];
	return 0;
}

static void cleanup_layerp(struct imgfmt_layer **l)
{
	imgfmt_layer_abort(*l);
}

int imgfmt_layer_open(struct imgfmt_image *img, size_t i, enum imgfmt_layer_mode mode, int blob_fd, int *fd_out,
		      struct imgfmt_layer **out, struct ubx_err *e)
{
	__attribute__((cleanup(cleanup_layerp))) struct imgfmt_layer *l = NULL;
	struct feeder f = { .index = i, .mode = mode, .blob_fd = blob_fd, .out = -1 };
	struct blobref b;
	int r;

	*out = NULL;
	*fd_out = -1;
	if (i >= img->n_layers)
		return ubx_fail(e, ERANGE, "layer %zu of %zu", i, img->n_layers);
	f.l = &img->layers[i];
	/* load the libraries here, so that their absence is said before a fork */
	struct digest_ctx *probe = NULL;
	if ((r = digest_init(&probe, e)) < 0 || (r = larc_load(f.l->path, e)) < 0)
		return r;
	digest_free(probe);
	if (!(l = calloc(1, sizeof(*l))))
		return ubx_fail(e, ENOMEM, "%s", f.l->path);
	*l = (struct imgfmt_layer){ .pid = -1, .data = -1, .verdict = -1 };
	snprintf(l->path, sizeof(l->path), "%s", f.l->path);
	l->read_bytes = mmap(NULL, sizeof(*l->read_bytes), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l->read_bytes == MAP_FAILED) {
		l->read_bytes = NULL;
		return ubx_fail(e, errno, "%s: mmap", f.l->path);
	}
	if ((r = src_find(img->src, f.l->path, &b, e)) < 0)
		return r;
	f.src = b.fd;
	f.off = b.off;
	f.size = b.size;
	f.read_bytes = l->read_bytes;
	r = spawn(&f, l, e);
	blobref_release(&b);
	if (r < 0)
		return r;
	*fd_out = l->data;
	*out = TAKE_PTR(l);
	return 0;
}

uint64_t imgfmt_layer_progress(const struct imgfmt_layer *l)
{
	return atomic_load_explicit(l->read_bytes, memory_order_relaxed);
}

/* drain() - read and drop what the consumer left in the pipe. */
static void drain(int fd)
{
	char buf[64 * 1024];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
}

/* reap() - wait for the reader; a message when it did not end well. */
static int reap(struct imgfmt_layer *l, struct ubx_err *e)
{
	int status = 0;
	pid_t pid = l->pid;

	l->pid = -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ubx_fail(e, errno, "%s: waiting for its reader", l->path);
	if (WIFSIGNALED(status))
		return ubx_fail(e, EIO, "%s: its reader was killed by signal %d", l->path, WTERMSIG(status));
	return 0;
}

static void layer_free(struct imgfmt_layer *l)
{
	if (l->data >= 0)
		(void)close(l->data);
	if (l->verdict >= 0)
		(void)close(l->verdict);
	if (l->read_bytes)
		(void)munmap(l->read_bytes, sizeof(*l->read_bytes));
	free(l);
}

int imgfmt_layer_close(struct imgfmt_layer *l, struct imgfmt_layer_result *res, struct ubx_err *e)
{
	struct verdict v = { 0 };
	size_t got = 0;
	int r;

	drain(l->data);
	while (got < sizeof(v)) {
		ssize_t n = read(l->verdict, (char *)&v + got, sizeof(v) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	r = reap(l, e);
	if (r == 0 && got != sizeof(v))
		r = ubx_fail(e, EIO, "%s: its reader ended without a verdict", l->path);
	if (r == 0 && v.status < 0) {
		if (e)
			*e = v.err;
		r = v.status;
	}
	if (r == 0 && res)
		*res = v.res;
	layer_free(l);
	return r;
}

void imgfmt_layer_abort(struct imgfmt_layer *l)
{
	if (!l)
		return;
	if (l->pid > 0) {
		(void)kill(l->pid, SIGKILL);
		(void)reap(l, NULL);
	}
	layer_free(l);
}
