/* SPDX-License-Identifier: MIT */
/*
 * layer.h - image layers: a layer tarball into an overlayfs lower directory,
 * and an overlayfs upper directory (or any tree) back into a tarball.
 *
 * DOC: Theory of operation
 * layer_extract() reads one OCI/Docker layer (a tar, plain or gzip, xz, zstd
 * or bzip2) and writes it into an empty directory the caller opened, in the
 * form kernel overlayfs reads as a lower layer: an OCI whiteout `.wh.NAME`
 * becomes a character device 0:0 named NAME, an opaque marker
 * `.wh..wh..opq` becomes the xattr user.overlay.opaque=y on its directory.
 * Nothing is ever created or changed outside that directory: every entry's
 * parent is opened with openat2(RESOLVE_IN_ROOT), names are cleaned
 * lexically first (layer_clean_path()), and the last component is never
 * followed.  The caller arranges the ids: it runs this inside the user
 * namespace whose map turns the tar's numeric owners into the right ids on
 * disk, so a file is chowned once, at extraction.
 *
 * layer_diff_write() turns an overlayfs upper directory into an OCI layer
 * (whiteouts and opaque directories translated back), layer_tree_write() a
 * plain tree into a root filesystem tarball.  Both walk in sorted order and
 * write PAX tar with numeric owners and second-granular mtimes only, so the
 * same tree always gives the same bytes (and digest).
 *
 * libarchive is dlopen()ed on first use: a sandbox start never loads it.
 */
#ifndef USBOX_IMAGE_LAYER_H
#define USBOX_IMAGE_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"

/* Longest cleaned entry name accepted (bytes, without the NUL). */
#define LAYER_PATH_MAX 4095

/*
 * Taps see every byte of a stream as it passes, e.g. to hash it: @compressed
 * the bytes read from or written to the fd (a blob's digest), @tar the
 * uncompressed tar stream (a layer's diff_id).  Either may be NULL.  A
 * negative errno from a tap stops the operation with that error.
 */
struct layer_tap {
	int (*compressed)(void *opaque, const void *buf, size_t len);
	int (*tar)(void *opaque, const void *buf, size_t len);
	void *opaque;
};

/* Progress: the bytes read from (or written to) the fd so far; called at
 * most about ten times a second, and once at the end. */
typedef void layer_progress_fn(void *opaque, uint64_t bytes);

struct layer_opts {
	bool trusted_xattrs;      /* also trusted.overlay.opaque=y (needs CAP_SYS_ADMIN) */
	bool ignore_chown_errors; /* an owner the namespace cannot map stays the extractor's
				     (a single-id map, as podman's ignore_chown_errors) */
	layer_progress_fn *progress;
	void *progress_opaque;
	struct layer_tap tap;
};

struct layer_write_opts {
	bool gzip;                /* gzip the tar (no timestamp in its header) */
	int gzip_level;           /* 1 (fastest, ~3x level 6's speed) to 9; 0: 6 */
	const char *exclude;      /* a top-level name not to write (a work dir), or NULL */
	layer_progress_fn *progress;
	void *progress_opaque;
	struct layer_tap tap;
};

struct layer_stats {
	uint64_t bytes_compressed; /* read from in_fd / written to out_fd */
	uint64_t bytes_tar;        /* of the uncompressed tar stream */
	uint64_t entries;          /* tar entries applied or written */
	uint64_t whiteouts;
	uint64_t opaque_dirs;
	uint64_t hardlinks;
	uint64_t skipped_devices;  /* layer_extract: device nodes not made */
	uint64_t skipped_xattrs;   /* refused by the kernel, overlay's own, or on a symlink */
	uint64_t skipped_sockets;  /* layer_tree_write/layer_diff_write: sockets */
	uint64_t squashed_owners;  /* ignore_chown_errors: owners left as they were */
	char first_device[128];    /* the first skipped device's name, for a note */
};

/*
 * layer_clean_path() - an entry name made relative and lexically clean.
 * @in:  the name from the tar (NUL-terminated)
 * @out: the cleaned name: no leading '/', no empty, "." or ".." components;
 *       "" is the layer's root ("./", "/", "a/..")
 * @len: size of @out
 *
 * ".." never climbs above the root, as if the name were resolved inside it
 * (the image-spec's rule); a trailing '/' is dropped.  Pure: no file system.
 * Return: the length of @out, -EINVAL for an empty @in, -ENAMETOOLONG when
 * the result (or one component, over 255 bytes) does not fit.
 */
int layer_clean_path(const char *in, char *out, size_t len);

/*
 * layer_extract() - extract one layer tarball as an overlayfs lower layer.
 * @in_fd:      the tarball (read to its end, also past the tar's end marker)
 * @dest_dirfd: an empty directory; nothing outside it is touched
 * @o:          options (may be NULL)
 * @st:         counters (may be NULL); filled also on failure
 * @e:          on failure, one line naming the entry: "layer: entry 'NAME': ..."
 *
 * Owners are the tar's numeric ids, as they are: run this in the user
 * namespace that maps them.  Device nodes other than whiteouts are skipped
 * and counted.  A hard link must name an entry of this layer.  Runs in the
 * calling thread; the process's umask does not matter.
 * Return: 0 or a negative errno; the directory is then half-written and the
 * caller removes it.
 */
int layer_extract(int in_fd, int dest_dirfd, const struct layer_opts *o, struct layer_stats *st,
		  struct ubx_err *e);

/*
 * layer_diff_write() - write an overlayfs upper directory as an OCI layer.
 * @upper_dirfd: the upper directory (not the merged view)
 * @out_fd:      where the tar (or .tar.gz) goes
 * @o:           options (may be NULL)
 * @st:          counters (may be NULL)
 * @e:           on failure, the path and what failed
 *
 * A character device 0:0 (or a file with overlay's whiteout xattr) becomes an
 * empty file `.wh.NAME`, a directory with user.overlay.opaque=y (or
 * trusted.) the directory and `DIR/.wh..wh..opq` right after it; overlay's
 * own xattrs and security.selinux are left out.  A directory with an overlay
 * redirect or a metacopy file (never made by userxattr mounts) is refused.
 * Mounts below the directory are not entered (their mount points are
 * written, as tar --one-file-system does).
 * Return: 0 or a negative errno.
 */
int layer_diff_write(int upper_dirfd, int out_fd, const struct layer_write_opts *o, struct layer_stats *st,
		     struct ubx_err *e);

/*
 * layer_tree_write() - write a directory tree as a root filesystem tarball.
 * @root_dirfd: the tree (e.g. a container's merged root)
 * @out_fd:     where the tar (or .tar.gz) goes
 * @o:          options (may be NULL)
 * @st:         counters (may be NULL); sockets are skipped and counted
 * @e:          on failure, the path and what failed
 *
 * Like layer_diff_write() without the whiteout translation: every file as it
 * is (devices too), overlay xattrs and security.selinux excepted, on the
 * tree's own file system.
 * Return: 0 or a negative errno.
 */
int layer_tree_write(int root_dirfd, int out_fd, const struct layer_write_opts *o, struct layer_stats *st,
		     struct ubx_err *e);

#endif
