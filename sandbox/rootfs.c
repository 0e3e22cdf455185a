/* SPDX-License-Identifier: MIT */
/*
 * rootfs.c - the root a view is built over, and the files a root of its own
 * needs from usbox.
 *
 * DOC: Theory of operation
 * The host view is the caller's / cloned recursively and made read-only.  A
 * root file system in a directory (--rootfs) is cloned the same way and
 * stays writable unless --read-only.  Image layers become one overlayfs,
 * mounted in the sandbox's user namespace with userxattr: the layers are its
 * lower directories (topmost first) and the container's own directory its
 * upper one; a throw-away container gets a tmpfs for them instead, attached
 * at /tmp of the (private) old root first, since Linux before 6.x refuses an
 * upper layer on a detached mount.  A root of its own then gets a fresh
 * /sys, and generated /etc/hosts, /etc/hostname and /etc/resolv.conf, made on
 * the view's /dev and bound read-only (the image's own are never followed
 * out of the root: every target is opened with RESOLVE_IN_ROOT).
 */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/overlay.h"
#include "mountutil.h"

/* Sets @attrs (and private propagation) on the whole tree @fd. */
static int tree_attrs(int fd, unsigned attrs, const char *what, struct ubx_err *e)
{
	struct mount_attr a = { .attr_set = attrs, .propagation = MS_PRIVATE };
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		return ubx_fail(e, errno, "%s", what);
	return 0;
}

static int clone_root(const char *path, unsigned attrs, struct ubx_err *e)
{
	_cleanup_close_ int fd = open_tree(AT_FDCWD, path, MNT_TREE_FLAGS);
	if (fd < 0)
		return ubx_fail(e, errno, "root %s", path);
	int r = tree_attrs(fd, attrs, strcmp(path, "/") == 0 ? "make the host view read-only" : "the root", e);
	return r < 0 ? r : TAKE_FD(fd);
}

/* A throw-away writable layer: a tmpfs attached at /tmp of the old root,
 * with upper/ and work/ in it; their paths into @upper and @work. */
static int scratch_layer(char *upper, char *work, size_t len, struct ubx_err *e)
{
	const char *opts[] = { "mode", "0755", NULL };
	_cleanup_close_ int t = mnt_fs_new("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, e);
	if (t < 0)
		return ubx_wrap(e, "the container's layer");
	if (move_mount(t, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0 || mkdir("/tmp/upper", 0755) < 0 ||
	    mkdir("/tmp/work", 0700) < 0)
		return ubx_fail(e, errno, "the container's layer");
	snprintf(upper, len, "/tmp/upper");
	snprintf(work, len, "/tmp/work");
	return 0;
}

static int overlay_root(const struct spec_root *root, struct ubx_err *e)
{
	char upper[64], work[64];
	int r;
	if (!root->upper && (r = scratch_layer(upper, work, sizeof(upper), e)) < 0)
		return r;
	unsigned attrs = MOUNT_ATTR_NODEV | (root->readonly ? MOUNT_ATTR_RDONLY : 0);
	/* /tmp of the old root: a scratch place for older kernels' mount(2) */
	r = overlay_mount(root->layers, root->upper ? root->upper : upper, root->upper ? root->work : work, attrs,
			  "/tmp", e);
	return r < 0 ? ubx_wrap(e, "the image's root") : r;
}

int rootfs_open(const struct spec_root *root, struct ubx_err *e)
{
	switch (root->kind) {
	case ROOT_HOST:
		return clone_root("/", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, e);
	case ROOT_DIR:
		return clone_root(root->path, MOUNT_ATTR_NODEV | (root->readonly ? MOUNT_ATTR_RDONLY : 0), e);
	case ROOT_LAYERS:
		return overlay_root(root, e);
	}
	return ubx_fail(e, EINVAL, "root");
}

int rootfs_text_file(int root, const char *path, const char *text, bool optional, struct ubx_err *e)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	char name[64];
	int r;

	if (optional) {
		_cleanup_close_ int probe = mnt_make_in_root(root, path, true);
		if (probe < 0)
			return 0; /* not there, and the root cannot have it */
	}
	_cleanup_close_ int dev = mnt_open_in_root(root, "/dev", O_RDONLY | O_DIRECTORY);
	if (dev < 0)
		return ubx_fail(e, -dev, "/dev");
	snprintf(name, sizeof(name), ".usbox-file-%d", (int)getpid());
	size_t len = strlen(text);
	_cleanup_close_ int f = openat(dev, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (f < 0 || write(f, text, len) != (ssize_t)len)
		return ubx_fail(e, errno, "write %s", path);
	_cleanup_close_ int file = open_tree(dev, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (file < 0 || mount_setattr(file, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		r = ubx_fail(e, errno, "bind %s", path);
	else
		r = mnt_attach(file, root, path, true, e);
	(void)unlinkat(dev, name, 0);
	return r;
}

int rootfs_sysfs(int root, struct ubx_err *e)
{
	unsigned attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	_cleanup_close_ int fs = fsopen("sysfs", FSOPEN_CLOEXEC);
	int m = -1;
	if (fs >= 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (m < 0) { /* --net host: sysfs belongs to the caller's network namespace */
		m = open_tree(AT_FDCWD, "/sys", MNT_TREE_FLAGS);
		if (m < 0 || tree_attrs(m, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, "/sys", e) < 0) {
			if (m >= 0)
				close(m);
			return m < 0 ? ubx_fail(e, errno, "/sys") : -EPERM;
		}
	}
	int r = mnt_attach(m, root, "/sys", false, e);
	close(m);
	return r;
}
