/* SPDX-License-Identifier: MIT */
/*
 * keep.c - a new layer kept once: extracted, plus its tar-split record
 * (keep.h).
 */
#include "keep.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "tarsplit.h"

int keep_begin(struct store *s, struct layer_keep *k, struct ubx_err *e)
{
	*k = (struct layer_keep){ .fd = -1 };
	k->fd = store_tmp_file(s, k->rec, sizeof(k->rec), e);
	if (k->fd < 0)
		return k->fd;
	int r = tarsplit_builder_new(k->fd, &k->b, e);
	if (r < 0)
		keep_abort(s, k);
	return r;
}

int keep_tap(void *opaque, const void *buf, size_t len)
{
	struct layer_keep *k = opaque;
	int r = tarsplit_feed(k->b, buf, len);
	return r < 0 || !k->also ? r : k->also(k->also_opaque, buf, len);
}

void keep_abort(struct store *s, struct layer_keep *k)
{
	tarsplit_builder_free(k->b);
	k->b = NULL;
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	if (k->rec[0])
		store_discard(s, k->rec);
	k->rec[0] = '\0';
}

/* Whether the record gives the tar back from the files in @dfd. */
static bool record_holds(struct layer_keep *k, int dfd, const struct digest *diff_id, uint64_t size)
{
	char what[DIGEST_STR_LEN + 16], hex[DIGEST_STR_LEN + 1];
	uint64_t total = 0, refs = 0;
	struct ubx_err ignore = { 0 };

	snprintf(what, sizeof(what), "layer %s", digest_format(diff_id, hex));
	/* a failed check is no error: the blob is kept, as before records */
	return tarsplit_finish(k->b, &total, &refs, &ignore) == 0 && total == size &&
	       tarsplit_check(k->fd, dfd, diff_id, size, what, &ignore) == 0;
}

int keep_commit(struct store *s, struct layer_keep *k, const char *dir, int dfd, const struct digest *diff_id,
		uint64_t size, bool *by_record, struct ubx_err *e)
{
	*by_record = record_holds(k, dfd, diff_id, size);
	int r = store_commit(s, dir, "layers", diff_id, e);
	if (r == 0 && *by_record) {
		if (mkdirat(s->dir, KEEP_RECORDS, 0700) < 0 && errno != EEXIST) /* a store made before records */
			r = ubx_fail(e, errno, "%s/%s", s->path, KEEP_RECORDS);
		else if ((r = store_commit(s, k->rec, KEEP_RECORDS, diff_id, e)) == 0)
			k->rec[0] = '\0';
	}
	keep_abort(s, k);
	return r;
}

/* Opens tar-split/HEX of @diff_id, when layers/HEX is there too. */
static int open_record(struct store *s, const struct digest *diff_id)
{
	char path[128], hex[DIGEST_HEX_LEN + 1];
	if (!store_have(s, "layers", diff_id))
		return -ENOENT;
	snprintf(path, sizeof(path), KEEP_RECORDS "/%s", digest_hex(diff_id, hex));
	int fd = openat(s->dir, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int keep_record_total(struct store *s, const struct digest *diff_id, uint64_t *total)
{
	struct ubx_err ignore;
	_cleanup_close_ int fd = open_record(s, diff_id);
	return fd < 0 ? -ENOENT : tarsplit_total(fd, total, &ignore) < 0 ? -ENOENT : 0;
}

int keep_replay(struct store *s, const struct digest *diff_id, struct tarsplit_replay **out, struct ubx_err *e)
{
	char path[128], what[4400], hex[DIGEST_HEX_LEN + 1], d[DIGEST_STR_LEN + 1];
	_cleanup_close_ int fd = open_record(s, diff_id);
	if (fd == -ENOENT)
		return -ENOENT;
	if (fd < 0)
		return ubx_fail(e, -fd, "%s/%s/%s", s->path, KEEP_RECORDS, digest_hex(diff_id, hex));
	snprintf(path, sizeof(path), "layers/%s", digest_hex(diff_id, hex));
	_cleanup_close_ int root = openat(s->dir, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		return ubx_fail(e, errno, "%s/%s", s->path, path);
	snprintf(what, sizeof(what), "layer %s (%s/%s)", digest_format(diff_id, d), s->path, path);
	return tarsplit_replay_new(TAKE_FD(fd), TAKE_FD(root), true, diff_id, what, out, e);
}
