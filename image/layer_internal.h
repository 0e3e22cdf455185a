/* SPDX-License-Identifier: MIT */
/*
 * layer_internal.h - what layer.c (extraction) and layer_write.c (the tar
 * writers) share: libarchive's function table, loaded once with dlopen,
 * and overlayfs's whiteout conventions.  Private to image/.
 */
#ifndef USBOX_IMAGE_LAYER_INTERNAL_H
#define USBOX_IMAGE_LAYER_INTERNAL_H

#include <archive.h>
#include <archive_entry.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "layer.h"

#define ARCHIVE_FUNCS(X)                          \
	X(archive_error_string)                   \
	X(archive_read_new)                       \
	X(archive_read_free)                      \
	X(archive_read_support_filter_gzip)       \
	X(archive_read_support_filter_xz)         \
	X(archive_read_support_filter_zstd)       \
	X(archive_read_support_filter_bzip2)      \
	X(archive_read_support_format_raw)        \
	X(archive_read_support_format_tar)        \
	X(archive_read_open)                      \
	X(archive_read_next_header)               \
	X(archive_read_data_block)                \
	X(archive_write_new)                      \
	X(archive_write_free)                     \
	X(archive_write_set_format_pax_restricted) \
	X(archive_write_set_format_raw)           \
	X(archive_write_add_filter_gzip)          \
	X(archive_write_set_filter_option)        \
	X(archive_write_set_format_option)        \
	X(archive_write_set_bytes_in_last_block)  \
	X(archive_write_open)                     \
	X(archive_write_header)                   \
	X(archive_write_data)                     \
	X(archive_write_close)                    \
	X(archive_entry_new)                      \
	X(archive_entry_free)                     \
	X(archive_entry_clear)                    \
	X(archive_entry_pathname)                 \
	X(archive_entry_hardlink)                 \
	X(archive_entry_symlink)                  \
	X(archive_entry_filetype)                 \
	X(archive_entry_perm)                     \
	X(archive_entry_uid)                      \
	X(archive_entry_gid)                      \
	X(archive_entry_mtime)                    \
	X(archive_entry_mtime_nsec)               \
	X(archive_entry_atime)                    \
	X(archive_entry_atime_nsec)               \
	X(archive_entry_atime_is_set)             \
	X(archive_entry_size)                     \
	X(archive_entry_rdevmajor)                \
	X(archive_entry_rdevminor)                \
	X(archive_entry_xattr_reset)              \
	X(archive_entry_xattr_next)               \
	X(archive_entry_copy_pathname)            \
	X(archive_entry_copy_hardlink)            \
	X(archive_entry_copy_symlink)             \
	X(archive_entry_set_filetype)             \
	X(archive_entry_set_perm)                 \
	X(archive_entry_set_uid)                  \
	X(archive_entry_set_gid)                  \
	X(archive_entry_set_mtime)                \
	X(archive_entry_set_size)                 \
	X(archive_entry_set_rdevmajor)            \
	X(archive_entry_set_rdevminor)            \
	X(archive_entry_xattr_add_entry)

struct archive_api {
#define FIELD(name) __typeof__(name) *name;
	ARCHIVE_FUNCS(FIELD)
#undef FIELD
};

/* The table; valid after la_load() succeeded. */
extern struct archive_api la;

/* la_load() - load libarchive once per process.  Return: 0 or -ENOENT. */
int la_load(struct ubx_err *e);

#define OVL_OPAQUE_USER "user.overlay.opaque"
#define OVL_OPAQUE_TRUSTED "trusted.overlay.opaque"
#define WH_PREFIX ".wh."
#define WH_META ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"
#define IO_BUF (256 << 10)
#define PROGRESS_NS 100000000LL /* at most ten reports a second */

/* la_printable() - @s with control characters escaped, for messages. */
const char *la_printable(const char *s, char *buf, size_t len);

/* la_errstr() - libarchive's message for @a, or "unknown error". */
const char *la_errstr(struct archive *a);

/* la_progress() - report @bytes to @fn at most ten times a second (and when @force). */
void la_progress(layer_progress_fn *fn, void *opaque, int64_t *next, uint64_t bytes, bool force);

/* la_tap() - hand @len bytes to the tap @fn (when set), failing as it says. */
int la_tap(int (*fn)(void *, const void *, size_t), void *opaque, const void *buf, size_t len, struct ubx_err *e);

/* la_open_in_root() - openat2() beneath @root: symlinks resolve inside it, no
 * /proc magic links, no other mounts; "" is @root itself.
 * Return: an fd or a negative errno. */
int la_open_in_root(int root, const char *path, int flags);

/* la_overlay_xattr() - whether @name is one of overlayfs's (or fuse-overlayfs's) own xattrs. */
bool la_overlay_xattr(const char *name);

#endif
