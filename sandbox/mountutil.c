/* SPDX-License-Identifier: MIT */
/*
 * mountutil.c - the few operations every mount of a view is made of: paths
 * opened inside a root with openat2(RESOLVE_IN_ROOT), mount points made
 * there, new detached file systems, and attaching them.  Private to sandbox/.
 */
#include "mountutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/cleanup.h"

/* Opens @path inside @root (an absolute path means relative to @root). */
int mnt_open_in_root(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	for (int tries = 0; tries < 8; tries++) {
		fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd < 0 ? -errno : fd;
}

/* Splits @path into a parent path (in @parent) and its last component. */
const char *mnt_split_path(const char *path, char *parent, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t plen = slash ? (size_t)(slash - path) : 0;

	if (len == 0)
		return slash ? slash + 1 : path;
	if (plen >= len)
		plen = len - 1;
	memcpy(parent, path, plen);
	parent[plen] = '\0';
	return slash ? slash + 1 : path;
}

/*
 * Opens @path inside @root as an O_PATH fd, creating it and missing parents
 * (a directory, or an empty file when @as_file) where it does not exist.
 */
int mnt_make_in_root(int root, const char *path, bool as_file)
{
	char parent[4096];
	int fd = mnt_open_in_root(root, path, O_PATH);

	if (fd != -ENOENT)
		return fd;
	const char *base = mnt_split_path(path, parent, sizeof(parent));
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -EINVAL;
	_cleanup_close_ int pfd = mnt_make_in_root(root, parent, false);
	if (pfd < 0)
		return pfd;
	_cleanup_close_ int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (as_file) {
		int f = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (f < 0 && errno != EEXIST)
			return -errno;
		if (f >= 0)
			close(f);
	} else if (mkdirat(dfd, base, 0755) < 0 && errno != EEXIST) {
		return -errno;
	}
	return mnt_open_in_root(root, path, O_PATH);
}

/* A new detached file system; named as `mount -t proc proc /proc` and OCI
 * configs name it, rather than "none" (runtime-tools' tests match the source). */
int mnt_fs_new(const char *type, const char *const *opts, unsigned attrs, struct ubx_err *e)
{
	_cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return ubx_fail(e, errno, "mount %s", type);
	bool named = false;
	for (const char *const *o = opts; o && o[0]; o += 2)
		named |= strcmp(o[0], "source") == 0;
	if (!named && fsconfig(fs, FSCONFIG_SET_STRING, "source", type, 0) < 0)
		return ubx_fail(e, errno, "mount %s: its source", type);
	for (; opts && opts[0]; opts += 2)
		if (fsconfig(fs, FSCONFIG_SET_STRING, opts[0], opts[1], 0) < 0)
			return ubx_fail(e, errno, "mount %s: option %s=%s", type, opts[0], opts[1]);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return ubx_fail(e, errno, "mount %s", type);
	int m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	return m < 0 ? ubx_fail(e, errno, "mount %s", type) : m;
}

/* The nearest directory above @path that exists in the view, into @buf. */
static void nearest_existing(int root, const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "%s", path);
	for (;;) {
		char *slash = strrchr(buf, '/');
		if (!slash || slash == buf) {
			snprintf(buf, len, "/");
			return;
		}
		*slash = '\0';
		_cleanup_close_ int fd = mnt_open_in_root(root, buf, O_PATH | O_DIRECTORY);
		if (fd >= 0)
			return;
	}
}

/* A mount point that cannot be made in the read-only view: say what to do. */
static int fail_read_only_target(int root, const char *path, struct ubx_err *e)
{
	char parent[4096];
	nearest_existing(root, path, parent, sizeof(parent));
	if (strcmp(parent, "/") == 0)
		return ubx_fail(e, 0, "mount point %s: it is not in the read-only host view, and usbox cannot "
				"create it there (use an existing directory, or one under /tmp or your home)", path);
	return ubx_fail(e, 0, "mount point %s: it is not in the read-only host view (add --tmp-overlay %s "
			"to create it in a throw-away layer, or use an existing directory)", path, parent);
}

/* Attaches the detached mount @mnt at @path inside @root, creating it. */
int mnt_attach(int mnt, int root, const char *path, bool as_file, struct ubx_err *e)
{
	_cleanup_close_ int target = mnt_make_in_root(root, path, as_file);
	if (target == -EROFS)
		return fail_read_only_target(root, path, e);
	if (target < 0)
		return ubx_fail(e, -target, "mount point %s", path);
	if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return ubx_fail(e, errno, "mount on %s", path);
	return 0;
}
