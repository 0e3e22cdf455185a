/* SPDX-License-Identifier: MIT */
/*
 * mountutil.h - mount helpers shared by mounts.c and rootfs.c.  Private to
 * sandbox/.
 */
#ifndef USBOX_SANDBOX_MOUNTUTIL_H
#define USBOX_SANDBOX_MOUNTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/error.h"

/* The open_tree() flags of a recursive, detached, close-on-exec clone. */
#define MNT_TREE_FLAGS (OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)

/*
 * mnt_open_in_root() - open @path inside @root (an absolute path means
 * relative to @root; symlinks cannot lead out, no magic links).
 * Return: the fd or a negative errno.
 */
int mnt_open_in_root(int root, const char *path, int flags);

/* mnt_split_path() - @path's parent into @parent; returns its last component. */
const char *mnt_split_path(const char *path, char *parent, size_t len);

/*
 * mnt_make_in_root() - open @path inside @root as an O_PATH fd, creating it
 * and missing parents (a directory, or an empty file when @as_file).
 * Return: the fd or a negative errno.
 */
int mnt_make_in_root(int root, const char *path, bool as_file);

/*
 * mnt_fs_new() - a new detached file system of @type with @opts ("key",
 * "value", ..., NULL) and mount attributes @attrs; its source (mountinfo's)
 * is @type unless @opts has a "source".
 * Return: the mount fd or a negative errno.
 */
int mnt_fs_new(const char *type, const char *const *opts, unsigned attrs, struct ubx_err *e);

/*
 * mnt_attach() - attach the detached mount @mnt at @path inside @root,
 * creating the mount point; a mount point the read-only view cannot have
 * fails with a line saying what to do instead.
 * Return: 0 or a negative errno.
 */
int mnt_attach(int mnt, int root, const char *path, bool as_file, struct ubx_err *e);

#endif
