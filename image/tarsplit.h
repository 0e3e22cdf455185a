/* SPDX-License-Identifier: MIT */
/*
 * tarsplit.h - a layer's tar kept as a small record beside its extracted
 * files, and made again from the two, byte for byte (docs/STORAGE.md).
 *
 * DOC: Theory of operation
 * A layer is kept once, extracted under layers/HEX.  To write its tar again
 * (usbox save), a record made while the tar was extracted says how: every
 * byte of the tar that is not a regular file's data (headers, PAX and GNU
 * long-name blocks, padding, the end blocks and whatever follows them)
 * verbatim, and each regular file's data as a reference, "SIZE bytes of the
 * file PATH of the layer".  The record is built by a small tar reader fed
 * the uncompressed stream (tarsplit_feed(), a layer_tap), independent of
 * libarchive: where the two might disagree (a name spelt oddly, a file that
 * a later entry replaces, a sparse file), a data region is kept verbatim
 * or the replay fails the check below -- never a wrong tar.
 *
 * A record is trusted only after tarsplit_check() replayed it against the
 * extracted layer and the result hashed to the layer's diff_id; until then
 * the blob is kept as it came.  A replay for a save (tarsplit_read()) hashes
 * as it goes and fails at the end on any other digest; a file whose size is
 * not the record's fails at once.  Files are opened beneath the layer
 * (openat2 RESOLVE_IN_ROOT, never following the last component, regular
 * files only).
 *
 * The record's format (little-endian), parsed as untrusted input (the store
 * is the user's to write): the 8 bytes "UBXTSPL1", then segments --
 *   'r' u32 N, N bytes           verbatim tar bytes, 1 <= N <= 1 MiB
 *   'f' u64 SIZE, u16 L, L bytes the data of the file at the clean relative
 *                                path (no NUL, layer_clean_path() keeps it
 *                                as it is), 1 <= SIZE < 2^46, 1 <= L <= 4095
 *   'e' u64 TOTAL                the end: the tar's length; nothing follows
 */
#ifndef USBOX_IMAGE_TARSPLIT_H
#define USBOX_IMAGE_TARSPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/error.h"
#include "digest.h"

#define TARSPLIT_MAGIC "UBXTSPL1"
#define TARSPLIT_RAW_MAX (1u << 20)
#define TARSPLIT_SIZE_MAX (1ull << 46)

struct tarsplit_builder;
struct tarsplit_replay;

/*
 * tarsplit_builder_new() - start a record, written to @out_fd (a new file).
 * Return: 0 or -ENOMEM.
 */
int tarsplit_builder_new(int out_fd, struct tarsplit_builder **out, struct ubx_err *e);

/*
 * tarsplit_feed() - the next @len bytes of the uncompressed tar (a
 * layer_tap's tar function; @opaque is the builder).
 * Return: 0 or a negative errno (writing the record failed).
 */
int tarsplit_feed(void *opaque, const void *buf, size_t len);

/*
 * tarsplit_finish() - end the record and flush it; *@total is the tar's
 * length, *@refs how many file references it holds.
 * Return: 0 or a negative errno.
 */
int tarsplit_finish(struct tarsplit_builder *b, uint64_t *total, uint64_t *refs, struct ubx_err *e);

/* tarsplit_builder_free() - release @b (NULL is fine). */
void tarsplit_builder_free(struct tarsplit_builder *b);

/*
 * tarsplit_replay_new() - replay the record on @rec_fd (read from where it
 * is) against the layer directory @root_fd.
 * @diff_id: the digest the tar must have (NULL: not checked)
 * @own:     the replay closes both fds when freed (also when this fails);
 *           else they stay the caller's
 * @what:    the layer, as messages name it ("layer sha256:...")
 * Return: 0 or a negative errno.
 */
int tarsplit_replay_new(int rec_fd, int root_fd, bool own, const struct digest *diff_id, const char *what,
			struct tarsplit_replay **out, struct ubx_err *e);

/*
 * tarsplit_read() - up to @len more bytes of the tar into @buf.
 * Return: how many (0 at the end, once the whole record was read, its
 * length matched and the hash was @diff_id), or a negative errno: -EBADMSG
 * for a record that is not well formed or a layer whose files do not give
 * the tar any more, with one line naming the layer (and the file).
 */
ssize_t tarsplit_read(struct tarsplit_replay *r, void *buf, size_t len, struct ubx_err *e);

/* tarsplit_replay_free() - release @r (NULL is fine). */
void tarsplit_replay_free(struct tarsplit_replay *r);

/*
 * tarsplit_check() - replay the whole record on @rec_fd (from its start)
 * against @root_fd: whether it gives @size bytes hashing to @diff_id.
 * Return: 0, -EBADMSG when it does not (a reason in @e), another negative
 * errno when it could not tell.
 */
int tarsplit_check(int rec_fd, int root_fd, const struct digest *diff_id, uint64_t size, const char *what,
		   struct ubx_err *e);

/*
 * tarsplit_total() - the tar length the record on @rec_fd ends with (its
 * last segment; not a check of the rest).
 * Return: 0 or a negative errno.
 */
int tarsplit_total(int rec_fd, uint64_t *total, struct ubx_err *e);

#endif
