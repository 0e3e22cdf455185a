/* SPDX-License-Identifier: MIT */
/*
 * keep.h - how a new layer is kept: once, extracted, with a tar-split
 * record to write its tar again (tarsplit.h), or, when the record does not
 * give the tar back, with its blob as before.  Private to image/.
 *
 * DOC: Theory of operation
 * keep_begin() opens a record in tmp/ whose builder the caller hands to
 * layer_extract() as the tar tap (struct layer_keep is the tap's opaque
 * too, see keep_tap()).  Once the layer is extracted into tmp/DIR and its
 * diff_id is known, keep_commit() finishes the record, replays it against
 * tmp/DIR (tarsplit_check()) and renames the directory into layers/ and,
 * only when the replay hashed to the diff_id, the record into tar-split/;
 * otherwise the record is dropped and the caller keeps its blob.
 */
#ifndef USBOX_IMAGE_KEEP_H
#define USBOX_IMAGE_KEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/error.h"
#include "digest.h"
#include "store.h"

#define KEEP_RECORDS "tar-split"

struct tarsplit_builder;
struct tarsplit_replay;

struct layer_keep {
	char rec[96];                /* tmp/NAME of the record */
	int fd;
	struct tarsplit_builder *b;
	int (*also)(void *opaque, const void *buf, size_t len); /* another tar tap, or NULL */
	void *also_opaque;
};

/*
 * keep_begin() - a new record in tmp/.
 * Return: 0 or a negative errno (nothing left behind).
 */
int keep_begin(struct store *s, struct layer_keep *k, struct ubx_err *e);

/* keep_tap() - a layer_tap tar function: the builder, then k->also. */
int keep_tap(void *opaque, const void *buf, size_t len);

/*
 * keep_commit() - the layer extracted in tmp/@dir (open as @dfd) into
 * layers/, and the record into tar-split/ when it gives back the @size bytes
 * of tar whose sha256 is @diff_id (*@by_record is then true: the caller
 * drops the blob).  The record is gone from tmp/ afterwards either way.
 * Return: 0 or a negative errno (committing the directory failed).
 */
int keep_commit(struct store *s, struct layer_keep *k, const char *dir, int dfd, const struct digest *diff_id,
		uint64_t size, bool *by_record, struct ubx_err *e);

/* keep_abort() - drop the record (after a failure). */
void keep_abort(struct store *s, struct layer_keep *k);

/*
 * keep_record_total() - the tar length of the layer @diff_id's record, when
 * the store has the layer and its record.
 * Return: 0, or -ENOENT.
 */
int keep_record_total(struct store *s, const struct digest *diff_id, uint64_t *total);

/*
 * keep_replay() - a replay of the layer @diff_id from its record, checked
 * against the diff_id as it goes (tarsplit_read()).
 * Return: 0, -ENOENT when the store has no record for it, or another
 * negative errno.
 */
int keep_replay(struct store *s, const struct digest *diff_id, struct tarsplit_replay **out, struct ubx_err *e);

#endif
