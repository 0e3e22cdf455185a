/* SPDX-License-Identifier: MIT */
/*
 * rootfs.h - the root a view is built over.  Private to sandbox/.
 */
#ifndef USBOX_SANDBOX_ROOTFS_H
#define USBOX_SANDBOX_ROOTFS_H

#include "../common/error.h"
#include "spec.h"

/* On the storage socket, from the init to the supervisor: which overlayfs
 * serves an image's root. */
#define ROOTFS_KERNEL 'k'        /* the kernel's */
#define ROOTFS_FUSE 'f'          /* fuse-overlayfs: the message carries /dev/fuse and, after
				  * the tag, why the kernel's was not used ("" when it was not
				  * to be); the supervisor starts the daemon on it and answers: */
#define ROOTFS_FUSE_STARTED 'g'

/*
 * rootfs_open() - the root of @root as a detached mount tree, made private
 * and given its attributes: the host's / cloned recursively and made
 * read-only; a directory cloned recursively (read-only with readonly); image
 * layers under an overlayfs mounted in the caller's user namespace
 * (userxattr), with @root->upper and ->work, or a throw-away tmpfs for them;
 * or, when the kernel refuses it (as @root->overlay allows) or
 * fuse-overlayfs is asked for, a FUSE mount whose descriptor goes to the
 * supervisor on @storage_sock (ROOTFS_* above).
 * Runs in the sandbox's fresh mount namespace, before anything is attached.
 * Return: the mount fd or a negative errno.
 */
int rootfs_open(const struct spec_root *root, int storage_sock, struct ubx_err *e);

struct sandbox;

/*
 * rootfs_serve() - the supervisor's half of the storage socket: hear which
 * overlayfs serves an image's root (sb->overlay, and sb->overlay_refused
 * when the kernel refused) and, for fuse-overlayfs, start it on the
 * /dev/fuse descriptor the init sent, in the init's user namespace
 * (overlay_fuse_start()), then let the init go on.  Nothing to do for
 * other roots.
 * Return: 0 (also when the init ended first: its report says why), or a
 * negative errno (fuse-overlayfs missing or not started).
 */
int rootfs_serve(struct sandbox *sb, struct ubx_err *e);

/*
 * rootfs_explain() - when start-up failed because fuse-overlayfs ended, put
 * its own last word in @e.
 */
void rootfs_explain(const struct sandbox *sb, struct ubx_err *e);

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
