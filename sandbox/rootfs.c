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
 * upper layer on a detached mount.  The mount points the image lacks
 * (/proc, /dev, /sys, /etc/hosts, ...) come from a small tmpfs layered just
 * above the image's, so that starting a container writes nothing into its
 * own layer (and --rm has nothing of usbox's to remove).  Where the kernel
 * refuses overlayfs (or fuse-overlayfs was asked for), a FUSE mount is made
 * here instead and its /dev/fuse descriptor sent to the supervisor on the
 * storage socket, which runs fuse-overlayfs on it outside the sandbox
 * (common/overlay.c); the supervisor also hears which of the two serves the
 * root.  A root of its own then gets a fresh /sys, and generated
 * /etc/hosts, /etc/hostname and /etc/resolv.conf, made on the view's /dev
 * and bound read-only (the image's own are never followed out of the root:
 * every target is opened with RESOLVE_IN_ROOT).
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
#include "../common/fdpass.h"
#include "../common/overlay.h"
#include "mountutil.h"
#include "sandbox.h"

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

/* Whether the kernel's overlayfs failing with @code is a refusal that
 * fuse-overlayfs may get round (not a layer missing or unreadable, which
 * would fail it too). */
static bool kernel_refused(int code)
{
	return code != ENOENT && code != ENOTDIR && code != EACCES && code != ENOMEM;
}

/* fuse-overlayfs serves the layers: the mount is made here, in the
 * sandbox's namespaces; the daemon is started by the supervisor, outside
 * the sandbox's pid namespace, on the /dev/fuse descriptor sent to it
 * (with @why, the kernel's refusal, or "" when fuse-overlayfs was asked
 * for).  The mount answers once the daemon runs. */
static int fuse_root(const struct spec_root *root, unsigned attrs, int sock, const char *why, struct ubx_err *e)
{
	char msg[160], go;
	struct statx stx;
	int fuse = -1;
	if (!root->upper || sock < 0)
		return ubx_fail(e, EINVAL, "fuse-overlayfs serves only a container's own layer");
	_cleanup_close_ int m = overlay_fuse_mount(attrs, &fuse, e);
	if (m < 0)
		return why[0] ? ubx_wrap(e, "kernel overlayfs refused (%s), and fuse-overlayfs cannot be mounted", why)
			      : ubx_wrap(e, "fuse-overlayfs");
	int n = snprintf(msg, sizeof(msg), "%c%s", ROOTFS_FUSE, why);
	int r = fd_send_msg(sock, fuse, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	close(fuse); /* the daemon's now: when it ends, the mount fails at once */
	if (r < 0)
		return ubx_fail(e, -r, "hand /dev/fuse to usbox");
	if (read(sock, &go, 1) != 1 || go != ROOTFS_FUSE_STARTED)
		return ubx_fail(e, EPIPE, "fuse-overlayfs did not start");
	if (statx(m, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC, STATX_TYPE, &stx) < 0)
		return ubx_fail(e, errno, "fuse-overlayfs did not answer");
	return TAKE_FD(m);
}

/* The mount points of a root of its own that an image may lack. */
static const char *const mount_points[] = { "proc", "dev", "sys", "etc/hostname", "etc/hosts", "etc/resolv.conf" };

/* Where @path's first @len bytes are in the topmost of @dirs that has them
 * (lstat into @st): 1, 0 when in none, or -1 when in one of them as
 * something else than a directory (@dir_only) or not to be looked at. */
static int topmost(char *const *dirs, const char *path, size_t len, bool dir_only, struct stat *st)
{
	char full[4400];
	int found = 0;
	for (char *const *d = dirs; *d; d++) {
		struct stat here;
		snprintf(full, sizeof(full), "%s/%.*s", *d, (int)len, path);
		if (lstat(full, &here) < 0) {
			if (errno != ENOENT)
				return -1;
			continue;
		}
		if (dir_only && !S_ISDIR(here.st_mode))
			return -1; /* a symlink, a whiteout: let the mount plan resolve it */
		if (!found)
			*st = here;
		found = 1;
	}
	return found;
}

/* Makes @name in @dir as @like says (a directory or an empty file), or
 * as a fresh one when @like is NULL. */
static int make_like(int dir, const char *name, bool is_dir, const struct stat *like)
{
	if (is_dir && mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	_cleanup_close_ int fd = is_dir ? openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
					: openat(dir, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (like) {
		struct timespec t[2] = { like->st_atim, like->st_mtim };
		if (fchown(fd, like->st_uid, like->st_gid) < 0 || fchmod(fd, like->st_mode & 07777) < 0 ||
		    futimens(fd, t) < 0)
			return -errno;
	}
	return 0;
}

/* Adds @path to the layer @t, its directories made as the image has them. */
static int add_mount_point(int t, char *const *dirs, const char *path)
{
	struct stat st;
	for (const char *p = path;; p++) {
		if (*p != '/' && *p)
			continue;
		size_t len = (size_t)(p - path);
		char sub[64];
		snprintf(sub, sizeof(sub), "%.*s", (int)len, path);
		bool leaf = !*p, dir = !leaf || strncmp(path, "etc/", 4) != 0;
		int r = make_like(t, sub, dir, !leaf && topmost(dirs, path, len, true, &st) == 1 ? &st : NULL);
		if (r < 0 || leaf)
			return r;
	}
}

/* Whether every directory above @path is a directory or absent in each of @dirs. */
static bool dirs_are_dirs(char *const *dirs, const char *path)
{
	struct stat st;
	for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/'))
		if (topmost(dirs, path, (size_t)(p - path), true, &st) < 0)
			return false;
	return true;
}

/*
 * The mount points the image lacks, in a tmpfs to lie above its layers
 * (and under the container's own), so that nothing is made in the
 * container's layer at each start (nor removed at each end).  Only for a
 * mount point in none of @dirs (the upper layer, then the image's) whose
 * directories are directories (or absent) in every one: then the tmpfs adds
 * it and changes nothing else (its directories, / included, carry the
 * image's owners, modes and times).  Anything else is left to the plan.
 * Return: the tmpfs (detached), or -1 when none is needed or it cannot be made.
 */
static int mount_point_layer(char *const *dirs)
{
	const char *opts[] = { "mode", "0755", NULL };
	struct stat st;
	struct ubx_err ignore;
	_cleanup_close_ int t = -1;
	for (size_t i = 0; i < ARRAY_SIZE(mount_points); i++) {
		const char *mp = mount_points[i];
		if (topmost(dirs, mp, strlen(mp), false, &st) != 0 || !dirs_are_dirs(dirs, mp))
			continue;
		if (t < 0 && ((t = mnt_fs_new("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &ignore)) < 0 ||
			      topmost(dirs, "", 0, true, &st) != 1 || make_like(t, ".", true, &st) < 0))
			return -1;
		if (add_mount_point(t, dirs, mp) < 0)
			return -1;
	}
	/* again, now that nothing more is made in them: their times */
	for (size_t i = 0; t >= 0 && i < ARRAY_SIZE(mount_points); i++)
		for (const char *p = strchr(mount_points[i], '/'); p; p = strchr(p + 1, '/')) {
			char sub[64];
			snprintf(sub, sizeof(sub), "%.*s", (int)(p - mount_points[i]), mount_points[i]);
			if (topmost(dirs, sub, strlen(sub), true, &st) == 1 && make_like(t, sub, true, &st) < 0)
				return -1;
		}
	if (t >= 0 && (topmost(dirs, "", 0, true, &st) != 1 || make_like(t, ".", true, &st) < 0))
		return -1;
	return TAKE_FD(t);
}

/* The kernel's overlayfs over the layers, with the mount points the image
 * lacks in a layer above them when that can be had. */
static int kernel_overlay(const struct spec_root *root, const char *upper, const char *work, unsigned attrs,
			  struct ubx_err *e)
{
	size_t n = 0;
	while (root->layers[n])
		n++;
	_cleanup_free_ char **dirs = calloc(n + 3, sizeof(char *));
	if (!dirs)
		return ubx_fail(e, ENOMEM, "the image's root");
	char fdpath[32];
	size_t k = 0;
	if (root->upper)
		dirs[k++] = root->upper;
	memcpy(dirs + k, root->layers, n * sizeof(char *));
	_cleanup_close_ int t = mount_point_layer(dirs);
	if (t >= 0) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", t);
		dirs[0] = fdpath;
		memcpy(dirs + 1, root->layers, n * sizeof(char *));
		dirs[n + 1] = NULL;
		/* /tmp of the old root: a scratch place for older kernels' mount(2) */
		int m = overlay_mount(dirs, upper, work, attrs, "/tmp", e);
		if (m >= 0)
			return m; /* else (a kernel that wants its lower layers attached) without it */
	}
	return overlay_mount(root->layers, upper, work, attrs, "/tmp", e);
}

static int overlay_root(const struct spec_root *root, int sock, struct ubx_err *e)
{
	char upper[64], work[64], why[96] = "";
	int r;
	if (!root->upper && (r = scratch_layer(upper, work, sizeof(upper), e)) < 0)
		return r;
	unsigned attrs = MOUNT_ATTR_NODEV | (root->readonly ? MOUNT_ATTR_RDONLY : 0);
	if (root->overlay != OVERLAY_FUSE) {
		r = kernel_overlay(root, root->upper ? root->upper : upper, root->upper ? root->work : work, attrs, e);
		if (r >= 0 && sock >= 0 && write(sock, (char[]){ ROOTFS_KERNEL }, 1) != 1) {
			close(r);
			return ubx_fail(e, EPIPE, "usbox ended");
		}
		if (r >= 0 || root->overlay == OVERLAY_KERNEL || !kernel_refused(e->code))
			return r < 0 ? ubx_wrap(e, "the image's root") : r;
		snprintf(why, sizeof(why), "%s", strerror(e->code));
	}
	r = fuse_root(root, attrs, sock, why, e);
	return r < 0 ? ubx_wrap(e, "the image's root") : r;
}

int rootfs_open(const struct spec_root *root, int storage_sock, struct ubx_err *e)
{
	switch (root->kind) {
	case ROOT_HOST:
		return clone_root("/", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, e);
	case ROOT_DIR:
		return clone_root(root->path, MOUNT_ATTR_NODEV | (root->readonly ? MOUNT_ATTR_RDONLY : 0), e);
	case ROOT_LAYERS:
		return overlay_root(root, storage_sock, e);
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
	if (fs >= 0 && fsconfig(fs, FSCONFIG_SET_STRING, "source", "sysfs", 0) == 0 &&
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
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

/* Starts fuse-overlayfs on @fuse for the init of @sb. */
static int start_fuse(struct sandbox *sb, int fuse, struct ubx_err *e)
{
	const struct spec_root *root = &sb->spec->root;
	if (!root->fuse_program)
		return sb->overlay_refused[0]
			       ? ubx_fail(e, 0,
					  "kernel overlayfs refused (%s), and fuse-overlayfs is not installed "
					  "(the package fuse-overlayfs has it)",
					  sb->overlay_refused)
			       : ubx_fail(e, 0, "fuse-overlayfs is not installed (the package fuse-overlayfs has it)");
	int r = overlay_fuse_start(root->fuse_program, root->layers, root->upper, root->work, fuse, sb->pidfd,
				   root->fuse_cover, &sb->fuse, e);
	if (r < 0)
		return r;
	if (write(sb->storage_sock, (char[]){ ROOTFS_FUSE_STARTED }, 1) != 1)
		return 0; /* the init gave up: its report says why */
	sb->overlay = "fuse-overlayfs";
	return 0;
}

int rootfs_serve(struct sandbox *sb, struct ubx_err *e)
{
	char msg[160];
	size_t got = 0;
	int fuse = -1;
	if (sb->storage_sock < 0)
		return 0;
	int r = fd_recv(sb->storage_sock, msg, sizeof(msg) - 1, &got, &fuse);
	if (r < 0 || got == 0)
		return r == -EPIPE || got == 0 ? 0 : ubx_fail(e, -r, "hear from the sandbox");
	msg[got] = '\0';
	if (msg[0] == ROOTFS_KERNEL && fuse < 0) {
		sb->overlay = "overlay";
		return 0;
	}
	if (msg[0] != ROOTFS_FUSE || fuse < 0) {
		if (fuse >= 0)
			close(fuse);
		return ubx_fail(e, EPROTO, "the sandbox's root: an unexpected message");
	}
	snprintf(sb->overlay_refused, sizeof(sb->overlay_refused), "%.95s", msg + 1);
	r = start_fuse(sb, fuse, e);
	close(fuse); /* the daemon's own copy keeps the mount alive */
	return r;
}

void rootfs_explain(const struct sandbox *sb, struct ubx_err *e)
{
	char why[256];
	if (sb->fuse.pidfd < 0 || e->code != ENOTCONN)
		return;
	overlay_fuse_why(&sb->fuse, why, sizeof(why));
	if (why[0])
		ubx_refuse(e, ENOTCONN, "fuse-overlayfs: %s", why);
}
