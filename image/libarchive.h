/* SPDX-License-Identifier: MIT */
/*
 * libarchive.h - libarchive, dlopen()ed once for everything in image/ that
 * reads or writes tar streams.
 *
 * DOC: Theory of operation
 * Like common/jsonc.h for json-c: the first larc_load() opens
 * libarchive.so.13 and fills the one table `larc` from the names in
 * LARC_FUNCS; callers write larc.archive_read_new().  The prototypes come
 * from libarchive's headers (libarchive-dev at build time), so a wrong
 * signature does not compile; only the image commands ever load the library.
 * A module that needs another function adds its name to the list.
 */
#ifndef USBOX_IMAGE_LIBARCHIVE_H
#define USBOX_IMAGE_LIBARCHIVE_H

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>

#include "../common/error.h"

#define LARC_FUNCS(X)                               \
	X(archive_errno)                            \
	X(archive_error_string)                     \
	X(archive_filter_bytes)                     \
	X(archive_filter_code)                      \
	X(archive_read_new)                         \
	X(archive_read_free)                        \
	X(archive_read_support_format_tar)          \
	X(archive_read_support_format_raw)          \
	X(archive_read_support_filter_gzip)         \
	X(archive_read_support_filter_xz)           \
	X(archive_read_support_filter_zstd)         \
	X(archive_read_support_filter_bzip2)        \
	X(archive_read_open)                        \
	X(archive_read_open_fd)                     \
	X(archive_read_next_header)                 \
	X(archive_read_data)                        \
	X(archive_read_data_block)                  \
	X(archive_entry_new)                        \
	X(archive_entry_free)                       \
	X(archive_entry_clear)                      \
	X(archive_entry_pathname)                   \
	X(archive_entry_size)                       \
	X(archive_entry_size_is_set)                \
	X(archive_entry_filetype)                   \
	X(archive_entry_symlink)                    \
	X(archive_entry_hardlink)                   \
	X(archive_entry_sparse_count)               \
	X(archive_entry_set_pathname)               \
	X(archive_entry_set_size)                   \
	X(archive_entry_set_filetype)               \
	X(archive_entry_set_perm)                   \
	X(archive_entry_set_mtime)                  \
	X(archive_entry_set_uid)                    \
	X(archive_entry_set_gid)                    \
	X(archive_write_new)                        \
	X(archive_write_free)                       \
	X(archive_write_set_format_pax_restricted)  \
	X(archive_write_add_filter_none)            \
	X(archive_write_set_bytes_in_last_block)    \
	X(archive_write_open_fd)                    \
	X(archive_write_header)                     \
	X(archive_write_data)                       \
	X(archive_write_close)

struct larc_api {
#define LARC_FIELD(name) __typeof__(name) *name;
	LARC_FUNCS(LARC_FIELD)
#undef LARC_FIELD
	bool loaded;
};

/* The table; valid after larc_load() succeeded. */
extern struct larc_api larc;

/*
 * larc_load() - load libarchive (once).
 * @what: what needs it, first in the message
 * @e:    on failure, one line naming the package to install
 *
 * Return: 0, or -ENOENT.
 */
int larc_load(const char *what, struct ubx_err *e);

/*
 * larc_read_filters() - enable the decompressors images use (gzip, xz, zstd,
 * bzip2) on a reader; never an external program.
 * Return: 0, or a negative errno with the missing one named.
 */
int larc_read_filters(struct archive *a, const char *what, struct ubx_err *e);

static inline void cleanup_archive_readp(struct archive **a)
{
	if (*a)
		larc.archive_read_free(*a);
}
#define _cleanup_archive_read_ __attribute__((cleanup(cleanup_archive_readp)))

#endif
