/* SPDX-License-Identifier: MIT */
/*
 * rootfs.h - the root a view is built over.  Private to sandbox/.
 */
#ifndef USBOX_SANDBOX_ROOTFS_H
#define USBOX_SANDBOX_ROOTFS_H

#include "../common/error.h"
#include "spec.h"

/*
 * rootfs_open() - the root of @root as a detached mount tree, made private
 * and given its attributes: the host's / cloned recursively and made
 * read-only; a directory cloned recursively (read-only with readonly); image
 * layers under an overlayfs mounted in the caller's user namespace
 * (userxattr), with @root->upper and ->work, or a throw-away tmpfs for them.
 * Runs in the sandbox's fresh mount namespace, before anything is attached.
 * Return: the mount fd or a negative errno.
 */
int rootfs_open(const struct spec_root *root, struct ubx_err *e);

/*
 * rootfs_text_file() - a file holding @text, read-only, attached at @path of
 * @root (created in the view when missing and possible; else skipped when
 * @optional).  The file is made on the view's /dev, which must be attached.
 * Return: 0 or a negative errno.
 */
int rootfs_text_file(int root, const char *path, const char *text, bool optional, struct ubx_err *e);

/*
 * rootfs_sysfs() - /sys for a root that is not the host's: a fresh read-only
 * sysfs where the sandbox has a network namespace of its own, else the
 * host's /sys bound read-only.
 * Return: 0 or a negative errno.
 */
int rootfs_sysfs(int root, struct ubx_err *e);

#endif
