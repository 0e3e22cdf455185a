/* SPDX-License-Identifier: MIT */
/*
 * mounts.c - the host view.
 *
 * DOC: Theory of operation
 * 1. Clone every source tree first (the host root, the working directory,
 *    each bind source) with open_tree(OPEN_TREE_CLONE), while host paths still
 *    mean the host.
 * 2. Make the root clone read-only and private with one recursive
 *    mount_setattr() and attach it over /tmp of this (private) namespace.
 * 3. Mount /proc, /dev, /dev/pts, /dev/shm, /tmp (and, on cgroup v2 hosts,
 *    /sys/fs/cgroup) with fsopen()/fsmount()
 *    and move_mount() them to targets opened inside the new root with
 *    RESOLVE_IN_ROOT; then the working directory and the user's mounts.
 * 4. pivot_root() into it and detach the old root.
 */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/cleanup.h"

#define TREE_FLAGS (OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)

/* Opens @path inside @root (an absolute path means relative to @root). */
static int open_in_root(int root, const char *path, int flags)
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
static const char *split_path(const char *path, char *parent, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t plen = slash ? (size_t)(slash - path) : 0;

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
static int make_in_root(int root, const char *path, bool as_file)
{
	char parent[4096];
	int fd = open_in_root(root, path, O_PATH);

	if (fd != -ENOENT)
		return fd;
	const char *base = split_path(path, parent, sizeof(parent));
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -EINVAL;
	_cleanup_close_ int pfd = make_in_root(root, parent, false);
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
	return open_in_root(root, path, O_PATH);
}

/* A new detached file system of @type with @opts ("key", "value", ...). */
static int fs_new(const char *type, const char *const *opts, unsigned attrs, struct ubx_err *e)
{
	_cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return ubx_fail(e, errno, "mount %s", type);
	for (; opts && opts[0]; opts += 2)
		if (fsconfig(fs, FSCONFIG_SET_STRING, opts[0], opts[1], 0) < 0)
			return ubx_fail(e, errno, "mount %s: option %s=%s", type, opts[0], opts[1]);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return ubx_fail(e, errno, "mount %s", type);
	int m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	return m < 0 ? ubx_fail(e, errno, "mount %s", type) : m;
}

/* Attaches the detached mount @mnt at @path inside @root, creating it. */
static int attach(int mnt, int root, const char *path, bool as_file, struct ubx_err *e)
{
	_cleanup_close_ int target = make_in_root(root, path, as_file);
	if (target < 0)
		return ubx_fail(e, -target, "mount point %s", path);
	if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return ubx_fail(e, errno, "mount on %s", path);
	return 0;
}

static int mount_tmpfs(int root, const char *path, const char *mode, const char *size, struct ubx_err *e)
{
	const char *opts[] = { "mode", mode, size ? "size" : NULL, size, NULL };
	_cleanup_close_ int m = fs_new("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, e);
	if (m < 0)
		return ubx_wrap(e, "%s", path);
	return attach(m, root, path, false, e);
}

/* /dev: a small tmpfs with the host's harmless devices bound in, its own
 * devpts instance and /dev/shm.  It is attached first: mounts can only be
 * moved onto targets that are attached. */
static int mount_dev(int root, int tty_gid, struct ubx_err *e)
{
	static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
	static const char *const links[][2] = {
		{ "ptmx", "pts/ptmx" },         { "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" },
	};
	const char *tmpfs_opts[] = { "mode", "0755", "size", "65536", NULL };
	char gid[16];
	const char *pts_opts[] = { "ptmxmode", "0666", "mode", "0620", tty_gid >= 0 ? "gid" : NULL, gid, NULL };
	int r;

	snprintf(gid, sizeof(gid), "%d", tty_gid);
	_cleanup_close_ int dev = fs_new("tmpfs", tmpfs_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, e);
	if (dev < 0)
		return ubx_wrap(e, "/dev");
	if ((r = attach(dev, root, "dev", false, e)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		char host[32];
		snprintf(host, sizeof(host), "/dev/%s", devices[i]);
		_cleanup_close_ int node = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (node < 0)
			return ubx_fail(e, errno, "bind %s", host);
		if ((r = attach(node, dev, devices[i], true, e)) < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][1], dev, links[i][0]) < 0)
			return ubx_fail(e, errno, "symlink /dev/%s", links[i][0]);
	_cleanup_close_ int pts = fs_new("devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, e);
	if (pts < 0)
		return ubx_wrap(e, "/dev/pts");
	if ((r = attach(pts, dev, "pts", false, e)) < 0)
		return r;
	return mount_tmpfs(dev, "shm", "1777", NULL, e);
}

static int mount_proc(int root, struct ubx_err *e)
{
	_cleanup_close_ int m = fs_new("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e);
	if (m < 0)
		return m;
	return attach(m, root, "proc", false, e);
}

/* /sys/fs/cgroup: when the host's is cgroup2, a fresh read-only cgroup2 mount
 * of the sandbox's own cgroup namespace, so the command sees its own limits
 * (memory.max, cpu.max, ...) at the root, as under Docker and podman. */
static int mount_cgroup(int root, struct ubx_err *e)
{
	struct statfs st;
	if (statfs("/sys/fs/cgroup", &st) < 0 || st.f_type != CGROUP2_SUPER_MAGIC)
		return 0; /* cgroup v1 or hybrid: keep the read-only view of the host's */
	_cleanup_close_ int m = fs_new("cgroup2", NULL,
				       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e);
	if (m < 0)
		return m;
	return attach(m, root, "/sys/fs/cgroup", false, e);
}

/* /etc/resolv.conf naming @dns: a file written in the sandbox's fresh /tmp,
 * bound (read-only) over the host's (or wherever its symlink leads in the
 * view, e.g. a systemd-resolved stub file), then unlinked from /tmp.  Linux
 * before 6.15 cannot clone from a mount that is not attached yet, so the file
 * lives on an attached one. */
static int mount_resolv_conf(int root, const char *dns, struct ubx_err *e)
{
	static const char name[] = ".usbox-resolv.conf";
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	char text[128];
	int r;

	_cleanup_close_ int probe = open_in_root(root, "/etc/resolv.conf", O_PATH);
	if (probe < 0)
		return 0; /* nothing to cover: the host has no resolver configuration */
	_cleanup_close_ int tmp = open_in_root(root, "/tmp", O_RDONLY | O_DIRECTORY);
	if (tmp < 0)
		return ubx_fail(e, -tmp, "/tmp");
	int len = snprintf(text, sizeof(text), "nameserver %s\n", dns);
	_cleanup_close_ int f = openat(tmp, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (f < 0 || write(f, text, (size_t)len) != len)
		return ubx_fail(e, errno, "write /etc/resolv.conf");
	_cleanup_close_ int file = open_tree(tmp, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (file < 0 || mount_setattr(file, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		r = ubx_fail(e, errno, "bind /etc/resolv.conf");
	else
		r = attach(file, root, "/etc/resolv.conf", true, e);
	(void)unlinkat(tmp, name, 0);
	return r;
}

/* Clones the host tree at @src for binding; read-only when asked. */
static int clone_source(const char *src, bool readonly, struct ubx_err *e)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	int fd = open_tree(AT_FDCWD, src, TREE_FLAGS);

	if (fd < 0)
		return ubx_fail(e, errno, "bind source %s", src);
	if (readonly && mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0) {
		int r = ubx_fail(e, errno, "make %s read-only", src);
		close(fd);
		return r;
	}
	return fd;
}

static int mount_user(int root, const struct mount_spec *m, int src_fd, struct ubx_err *e)
{
	char size[32], mode[16];
	struct stat st;

	if (m->kind == MOUNT_TMPFS) {
		snprintf(size, sizeof(size), "%llu", (unsigned long long)m->size);
		snprintf(mode, sizeof(mode), "%o", m->mode);
		return mount_tmpfs(root, m->dst, mode, m->size ? size : NULL, e);
	}
	if (fstat(src_fd, &st) < 0)
		return ubx_fail(e, errno, "stat %s", m->src);
	return attach(src_fd, root, m->dst, !S_ISDIR(st.st_mode), e);
}

/* Clones every bind source before anything is mounted over host paths. */
static int clone_sources(const struct usbox_config *cfg, int *fds, struct ubx_err *e)
{
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		if (cfg->mounts[i].kind != MOUNT_BIND)
			continue;
		fds[i] = clone_source(cfg->mounts[i].src, cfg->mounts[i].readonly, e);
		if (fds[i] < 0)
			return fds[i];
	}
	return 0;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int pivot_into(int root, struct ubx_err *e)
{
	if (fchdir(root) < 0)
		return ubx_fail(e, errno, "chdir to the new root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return ubx_fail(e, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return ubx_fail(e, errno, "detach the old root");
	if (chdir("/") < 0)
		return ubx_fail(e, errno, "chdir /");
	return 0;
}

/* Covers the directories of @x->hide that exist in the view with an empty tmpfs. */
static int hide_dirs(int root, const struct mounts_extra *x, struct ubx_err *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(x->hide); i++) {
		if (!x->hide[i])
			continue;
		_cleanup_close_ int probe = open_in_root(root, x->hide[i], O_PATH | O_DIRECTORY);
		if (probe < 0)
			continue;
		char uid[16], gid[16];
		snprintf(uid, sizeof(uid), "%u", (unsigned)x->uid);
		snprintf(gid, sizeof(gid), "%u", (unsigned)x->gid);
		const char *opts[] = { "mode", "700", "uid", uid, "gid", gid, "size", "16m", NULL };
		_cleanup_close_ int m = fs_new("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, e);
		int r = m < 0 ? ubx_wrap(e, "%s", x->hide[i]) : attach(m, root, x->hide[i], false, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Everything from the fresh root's attachment to pivot_root. */
static int build_view(const struct usbox_config *cfg, const char *cwd, const struct mounts_extra *x, int root,
		      int cwd_fd, int hosts_fd, int *src_fds, struct ubx_err *e)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, .propagation = MS_PRIVATE };
	int r;

	if (mount_setattr(root, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return ubx_fail(e, errno, "make the host view read-only");
	if (move_mount(root, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return ubx_fail(e, errno, "attach the host view");
	if ((r = mount_proc(root, e)) < 0 || (r = mount_dev(root, x->tty_gid, e)) < 0 ||
	    (r = mount_tmpfs(root, "/tmp", "1777", NULL, e)) < 0 || (r = hide_dirs(root, x, e)) < 0 ||
	    (r = mount_cgroup(root, e)) < 0 || (x->dns && (r = mount_resolv_conf(root, x->dns, e)) < 0) ||
	    (hosts_fd >= 0 && (r = attach(hosts_fd, root, "/etc/hosts", true, e)) < 0))
		return r;
	if (cwd_fd >= 0 && (r = attach(cwd_fd, root, cwd, false, e)) < 0)
		return ubx_wrap(e, "working directory");
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if ((r = mount_user(root, &cfg->mounts[i], src_fds[i], e)) < 0)
			return r;
	return pivot_into(root, e);
}

int mounts_setup(const struct usbox_config *cfg, const char *cwd, const struct mounts_extra *x, struct ubx_err *e)
{
	_cleanup_free_ int *src_fds = calloc(cfg->n_mounts + 1, sizeof(int));
	_cleanup_close_ int cwd_fd = -1;
	int r;

	if (!src_fds)
		return ubx_fail(e, ENOMEM, "calloc");

	for (size_t i = 0; i < cfg->n_mounts; i++)
		src_fds[i] = -1;
	_cleanup_close_ int root = open_tree(AT_FDCWD, "/", TREE_FLAGS);
	if (root < 0)
		return ubx_fail(e, errno, "clone the host's mounts");
	if (!cfg->no_cwd && strcmp(cwd, "/") != 0) {
		cwd_fd = open_tree(AT_FDCWD, cwd, TREE_FLAGS);
		if (cwd_fd < 0)
			return ubx_fail(e, errno, "bind the working directory %s", cwd);
	}
	_cleanup_close_ int hosts_fd = x->hosts ? clone_source(x->hosts, true, e) : -1;
	if (x->hosts && hosts_fd < 0)
		return ubx_wrap(e, "the network's /etc/hosts");
	r = clone_sources(cfg, src_fds, e);
	if (r == 0)
		r = build_view(cfg, cwd, x, root, cwd_fd, hosts_fd, src_fds, e);
	close_all(src_fds, cfg->n_mounts);
	return r;
}
