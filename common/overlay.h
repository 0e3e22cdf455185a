/* SPDX-License-Identifier: MIT */
/*
 * overlay.h - an overlayfs of image layers, mounted in a user namespace.
 */
#ifndef USBOX_COMMON_OVERLAY_H
#define USBOX_COMMON_OVERLAY_H

#include "error.h"

/*
 * overlay_mount() - overlayfs with @lowers (absolute, topmost first,
 * NULL-terminated) under @upper and @work, with userxattr and the mount
 * attributes @attrs, as a detached mount.  The new mount API takes one
 * lower layer a call ("lowerdir+", Linux 6.8); an older kernel (which
 * refuses the key at fsconfig() or, before 6.5, only when creating) gets
 * them through mount(2) at @scratch (a directory of the caller's private mount
 * namespace, e.g. /tmp), whose mount is then cloned: fsconfig() takes no
 * value over 256 bytes, so a list of layers does not fit it.
 * Return: the mount fd, or a negative errno.
 */
int overlay_mount(char *const *lowers, const char *upper, const char *work, unsigned attrs, const char *scratch,
		  struct ubx_err *e);

#endif
