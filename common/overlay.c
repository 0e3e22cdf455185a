/* SPDX-License-Identifier: MIT */
/*
 * overlay.c - overlayfs of image layers (overlay.h).
 */
#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cleanup.h"

/* Refuses a path overlayfs would split or misread. */
static int check_path(const char *p, struct ubx_err *e)
{
	if (p[0] != '/' || strpbrk(p, ":,\\"))
		return ubx_fail(e, EINVAL, "overlay: %s: not a plain absolute path", p);
	return 0;
}

/* Linux before 6.8: all layers in one mount(2) option string. */
static int legacy_mount(char *const *lowers, const char *upper, const char *work, unsigned attrs,
			const char *scratch, struct ubx_err *e)
{
	size_t len = 64 + strlen(upper) + strlen(work);
	for (char *const *l = lowers; *l; l++)
		len += strlen(*l) + 1;
	_cleanup_free_ char *opts = malloc(len);
	if (!opts)
		return ubx_fail(e, ENOMEM, "overlay");
	int n = snprintf(opts, len, "userxattr,lowerdir=");
	for (char *const *l = lowers; *l; l++)
		n += snprintf(opts + n, len - (size_t)n, "%s%s", l == lowers ? "" : ":", *l);
	snprintf(opts + n, len - (size_t)n, ",upperdir=%s,workdir=%s", upper, work);
	unsigned long flags = MS_NODEV | ((attrs & MOUNT_ATTR_RDONLY) ? MS_RDONLY : 0);
	if (mount("overlay", scratch, "overlay", flags, opts) < 0)
		return ubx_fail(e, errno, "overlay (kernel overlayfs in a user namespace)");
	int fd = open_tree(AT_FDCWD, scratch, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	return fd < 0 ? ubx_fail(e, errno, "overlay") : fd;
}

int overlay_mount(char *const *lowers, const char *upper, const char *work, unsigned attrs, const char *scratch,
		  struct ubx_err *e)
{
	int r = 0;
	for (char *const *l = lowers; *l && r == 0; l++)
		r = check_path(*l, e);
	if (r < 0 || (r = check_path(upper, e)) < 0 || (r = check_path(work, e)) < 0)
		return r;
	if (!lowers[0])
		return ubx_fail(e, EINVAL, "overlay: no lower layer");
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		return ubx_fail(e, errno, "overlay (kernel overlayfs in a user namespace)");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[0], 0) < 0)
		return errno == EINVAL ? legacy_mount(lowers, upper, work, attrs, scratch, e)
				       : ubx_fail(e, errno, "overlay: layer %s", lowers[0]);
	for (char *const *l = lowers + 1; *l; l++)
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", *l, 0) < 0)
			return ubx_fail(e, errno, "overlay: layer %s", *l);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
		return ubx_fail(e, errno, "overlay (kernel overlayfs in a user namespace)");
	/* Linux before 6.5 takes any key at fsconfig() and refuses an unknown
	 * one only now: "lowerdir+" is new in 6.8 */
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return errno == EINVAL ? legacy_mount(lowers, upper, work, attrs, scratch, e)
				       : ubx_fail(e, errno, "overlay (kernel overlayfs in a user namespace)");
	int m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	return m < 0 ? ubx_fail(e, errno, "overlay") : m;
}
