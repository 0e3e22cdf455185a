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
 * 3. Mount /proc and /dev (with /dev/pts and /dev/shm) with fsopen()/fsmount()
 *    and move_mount() them to targets opened inside the new root with
 *    RESOLVE_IN_ROOT.
 * 4. Plan the rest -- /tmp, /sys/fs/cgroup on cgroup v2 hosts, resolv.conf
 *    and hosts, the working directory, covers over runtime directories, the
 *    user's mounts, masks -- and mount it sorted by destination depth, so a
 *    mount inside another's destination always goes on top of it.
 * 5. pivot_root() into it and detach the old root.
 */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "mountutil.h"
#include "rootfs.h"

#define TREE_FLAGS MNT_TREE_FLAGS








/* Attaches the detached tree @fd at @path, as a file when it is not a
 * directory.  Attached as a fresh copy where the kernel clones a detached
 * tree (6.15 on): its mounts are then as new as their place in the plan, so
 * /proc/self/mountinfo lists them in the order they were made, as an OCI
 * config lists them; else the tree cloned before the view. */
static int attach_tree(int fd, int root, const char *path, struct ubx_err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ubx_fail(e, errno, "stat the source of %s", path);
	_cleanup_close_ int fresh = open_tree(fd, "", TREE_FLAGS | AT_EMPTY_PATH);
	return mnt_attach(fresh >= 0 ? fresh : fd, root, path, !S_ISDIR(st.st_mode), e);
}

/* The null device, read-only, over the file @path: checked to be the real
 * one (character device 1:3), never assumed. */
static int mount_null(int root, const char *path, struct ubx_err *e)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC };
	struct stat st;
	_cleanup_close_ int m = open_tree(root, "dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (m < 0 || fstat(m, &st) < 0)
		return ubx_fail(e, errno, "mask %s: the null device", path);
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		return ubx_fail(e, EINVAL, "mask %s: /dev/null is not the null device", path);
	if (mount_setattr(m, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		return ubx_fail(e, errno, "mask %s", path);
	return mnt_attach(m, root, path, true, e);
}

static int mount_tmpfs(int root, const char *path, const char *source, const char *mode, const char *size,
		       struct ubx_err *e)
{
	const char *opts[] = { "source", source, "mode", mode, size ? "size" : NULL, size, NULL };
	_cleanup_close_ int m = mnt_fs_new("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, e);
	if (m < 0)
		return ubx_wrap(e, "%s", path);
	return mnt_attach(m, root, path, false, e);
}

/* The node of linux.devices @d, made in the /dev tmpfs @dev: mknod, or in a
 * user namespace (where mknod of a device fails) the host's same node bound
 * there, as runc does. */
static int make_device(int dev, const struct spec_device *d, struct ubx_err *e)
{
	const char *rel = d->path + 5; /* under "/dev/", checked by oci/config.c */
	char dir[4096];
	struct stat st;
	snprintf(dir, sizeof(dir), "%s", rel);
	for (char *slash = strchr(dir, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdirat(dev, dir, 0755) < 0 && errno != EEXIST)
			return ubx_fail(e, errno, "device %s", d->path);
		*slash = '/';
	}
	if (fstatat(dev, rel, &st, AT_SYMLINK_NOFOLLOW) == 0) /* one of usbox's own */
		return 0;
	if (mknodat(dev, rel, d->type | (d->mode & 0777), makedev(d->major, d->minor)) == 0)
		return fchownat(dev, rel, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
				       fchmodat(dev, rel, d->mode, 0) < 0
			       ? ubx_fail(e, errno, "device %s", d->path)
			       : 0;
	if (errno != EPERM)
		return ubx_fail(e, errno, "device %s: mknod", d->path);
	if (stat(d->path, &st) < 0 || (st.st_mode & S_IFMT) != d->type || st.st_rdev != makedev(d->major, d->minor))
		return ubx_fail(e, 0, "device %s: cannot be made in a user namespace, and the host has no such "
				"node to bind", d->path);
	_cleanup_close_ int node = open_tree(AT_FDCWD, d->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (node < 0)
		return ubx_fail(e, errno, "bind %s", d->path);
	return mnt_attach(node, dev, rel, true, e);
}

static int mount_mqueue(int root, const char *path, struct ubx_err *e)
{
	_cleanup_close_ int m = mnt_fs_new("mqueue", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e);
	if (m < 0)
		return ubx_wrap(e, "%s", path);
	return mnt_attach(m, root, path, false, e);
}

/* /dev: a small tmpfs with the host's harmless devices bound in, its own
 * devpts instance, /dev/shm (spec's shm_size, as Docker's --shm-size) and
 * /dev/mqueue when asked for (there, an OCI config's order: before /sys).
 * It is attached first: mounts can only be moved onto targets that are
 * attached. */
static int mount_dev(int root, int tty_gid, const struct ubx_spec *spec, struct ubx_err *e)
{
	uint64_t shm_size = spec->shm_size;
	char shm[32];
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
	_cleanup_close_ int dev = mnt_fs_new("tmpfs", tmpfs_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, e);
	if (dev < 0)
		return ubx_wrap(e, "/dev");
	if ((r = mnt_attach(dev, root, "dev", false, e)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		char host[32];
		snprintf(host, sizeof(host), "/dev/%s", devices[i]);
		_cleanup_close_ int node = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (node < 0)
			return ubx_fail(e, errno, "bind %s", host);
		if ((r = mnt_attach(node, dev, devices[i], true, e)) < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][1], dev, links[i][0]) < 0)
			return ubx_fail(e, errno, "symlink /dev/%s", links[i][0]);
	_cleanup_close_ int pts = mnt_fs_new("devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, e);
	if (pts < 0)
		return ubx_wrap(e, "/dev/pts");
	if ((r = mnt_attach(pts, dev, "pts", false, e)) < 0)
		return r;
	snprintf(shm, sizeof(shm), "%llu", (unsigned long long)shm_size);
	if ((r = mount_tmpfs(dev, "shm", "shm", "1777", shm_size ? shm : NULL, e)) < 0)
		return r;
	for (size_t i = 0; i < spec->oci.n_devices; i++)
		if ((r = make_device(dev, &spec->oci.devices[i], e)) < 0)
			return r;
	return spec->dev_mqueue ? mount_mqueue(dev, "mqueue", e) : 0;
}

static int mount_proc(int root, struct ubx_err *e)
{
	_cleanup_close_ int m = mnt_fs_new("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e);
	if (m < 0)
		return m;
	return mnt_attach(m, root, "proc", false, e);
}

/* /sys/fs/cgroup: when the host's is cgroup2, a fresh read-only cgroup2 mount
 * of the sandbox's own cgroup namespace, so the command sees its own limits
 * (memory.max, cpu.max, ...) at the root, as under Docker and podman. */
/* The host's /sys/fs/cgroup, cloned and read-only. */
static int cgroup_tree_ro(struct ubx_err *e)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
	int m = open_tree(AT_FDCWD, "/sys/fs/cgroup", TREE_FLAGS);
	if (m < 0)
		return ubx_fail(e, errno, "bind /sys/fs/cgroup");
	if (mount_setattr(m, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0) {
		int r = ubx_fail(e, errno, "bind /sys/fs/cgroup read-only");
		close(m);
		return r;
	}
	return m;
}

static int mount_cgroup(int root, const struct ubx_spec *spec, struct ubx_err *e)
{
	struct statfs st;
	if (statfs("/sys/fs/cgroup", &st) < 0 || st.f_type != CGROUP2_SUPER_MAGIC)
		return 0; /* cgroup v1 or hybrid: keep the read-only view of the host's */
	_cleanup_close_ int m = mnt_fs_new("cgroup2", NULL,
				       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e);
	if (m == -EPERM && spec->oci.enabled && !(spec->oci.ns_new & CLONE_NEWCGROUP))
		m = cgroup_tree_ro(e); /* a cgroup namespace it does not own: the host's tree, as runc binds it */
	if (m < 0)
		return m;
	return mnt_attach(m, root, "/sys/fs/cgroup", false, e);
}

/* /etc/resolv.conf naming @dns, bound read-only over the view's (or wherever
 * its symlink leads in the view, e.g. a systemd-resolved stub file); a view
 * without one that cannot have one gets none. */
static int mount_resolv_conf(int root, const char *dns, struct ubx_err *e)
{
	char text[128];
	snprintf(text, sizeof(text), "nameserver %s\n", dns);
	return rootfs_text_file(root, "/etc/resolv.conf", text, true, e);
}

/* Whether one of the spec's own mounts has the destination @dst. */
static bool user_mount_at(const struct ubx_spec *cfg, const char *dst)
{
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (strcmp(cfg->mounts[i].dst, dst) == 0)
			return true;
	return false;
}

/* /etc/hosts and /etc/hostname for a root of its own, where the spec's own
 * mounts do not provide them. */
static int mount_etc_names(int root, const struct ubx_spec *spec, bool hosts, struct ubx_err *e)
{
	char name[256] = "", text[512];
	if (spec->hostname)
		snprintf(name, sizeof(name), "%s", spec->hostname);
	else
		(void)gethostname(name, sizeof(name) - 1);
	snprintf(text, sizeof(text), "%s\n", name);
	int r = user_mount_at(spec, "/etc/hostname") ? 0 : rootfs_text_file(root, "/etc/hostname", text, true, e);
	if (r < 0 || !hosts || user_mount_at(spec, "/etc/hosts"))
		return r;
	snprintf(text, sizeof(text), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t%s\n",
		 name);
	return rootfs_text_file(root, "/etc/hosts", text, true, e);
}

/* Clones the host tree at @src for binding; read-only when asked, with
 * @attrs (nosuid, nodev, noexec) set. */
static int clone_source(const char *src, bool readonly, uint64_t attrs, struct ubx_err *e)
{
	struct mount_attr ro = { .attr_set = (readonly ? MOUNT_ATTR_RDONLY : 0) | attrs };
	int fd = open_tree(AT_FDCWD, src, TREE_FLAGS);

	if (fd < 0)
		return ubx_fail(e, errno, "bind source %s", src);
	if (ro.attr_set && mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0) {
		int r = ubx_fail(e, errno, "make %s read-only", src);
		close(fd);
		return r;
	}
	return fd;
}

/* A read-only clone of the file @path, which must still be the inode @fd
 * that was checked (@fd belongs to the parent's mount namespace, from which
 * open_tree() cannot clone). */
static int clone_file_checked(const char *path, int fd, struct ubx_err *e)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	struct stat want, got;
	_cleanup_close_ int m = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (m < 0 || fstat(m, &got) < 0 || fstat(fd, &want) < 0)
		return ubx_fail(e, errno, "bind %s", path);
	if (got.st_dev != want.st_dev || got.st_ino != want.st_ino)
		return ubx_fail(e, 0, "bind %s: it was replaced after it was checked", path);
	if (mount_setattr(m, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		return ubx_fail(e, errno, "bind %s read-only", path);
	return TAKE_FD(m);
}

/* Clones every bind source before anything is mounted over host paths. */
static int clone_sources(const struct ubx_spec *cfg, int *fds, struct ubx_err *e)
{
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		if (cfg->mounts[i].kind != MOUNT_BIND)
			continue;
		fds[i] = clone_source(cfg->mounts[i].src, cfg->mounts[i].readonly, cfg->mounts[i].attrs, e);
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

/*
 * The view is built from a plan: every mount that goes over the cloned host
 * root, sorted so that a mount whose destination lies inside another's comes
 * after it (fewer path components first, as Docker orders volumes).  Where
 * two have the same destination, the later class wins: the working directory
 * over the fresh /tmp, a cover over the working directory, the user's own
 * mounts over everything, masks last.  So a cover always lies on top of every
 * bind that contains it, and a bind inside a tmpfs stays visible.
 */
enum plan_class { PLAN_BASE, PLAN_CWD, PLAN_COVER, PLAN_USER, PLAN_MASK };

enum plan_kind {
	PK_TREE,     /* attach a detached tree (fd) */
	PK_TMPFS,    /* a fresh tmpfs: mode, size */
	PK_COVER,    /* an empty tmpfs owned by the command's identity, when the target exists */
	PK_EMPTY_RO, /* mask: the null device over a file, an empty read-only tmpfs
		      * over a directory, when the target exists */
	PK_RO_SELF,  /* the target bound read-only onto itself, when it exists */
	PK_HIDE,     /* --hide: as PK_EMPTY_RO; a missing target is made where it can be */
	PK_OVERLAY,  /* a throw-away writable layer (overlayfs, tmpfs upper) over the target */
	PK_CGROUP,   /* a fresh read-only cgroup2, on cgroup v2 hosts */
	PK_RESOLV,   /* /etc/resolv.conf naming x->dns */
	PK_SYSFS,    /* a root of its own: a fresh /sys */
	PK_ETC,      /* a root of its own: /etc/hostname, and /etc/hosts unless a network's */
	PK_MQUEUE,   /* a fresh mqueue file system */
};

struct plan_entry {
	const char *dst;
	enum plan_kind kind;
	enum plan_class cls;
	int fd;                     /* PK_TREE: the tree (owned by the caller) */
	char mode[16], size[32];    /* PK_TMPFS; an empty size: the default */
	size_t order;               /* position in the plan, for a stable sort */
	size_t depth;               /* the destination's, or more (see plan_build()) */
};

struct plan {
	struct plan_entry *v;
	size_t n, cap;
};

/* Whether @path is @dir or lies below it (both canonical). */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static size_t path_depth(const char *p)
{
	size_t n = 0;
	for (; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			n++;
	return n;
}

static int plan_cmp(const void *a, const void *b)
{
	const struct plan_entry *x = a, *y = b;
	size_t dx = x->depth, dy = y->depth;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static struct plan_entry *plan_add(struct plan *pl, const char *dst, enum plan_kind kind, enum plan_class cls)
{
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 32;
		struct plan_entry *v = realloc(pl->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		pl->v = v, pl->cap = cap;
	}
	struct plan_entry *p = &pl->v[pl->n];
	*p = (struct plan_entry){ .dst = dst, .kind = kind, .cls = cls, .fd = -1, .order = pl->n,
				  .depth = path_depth(dst) };
	pl->n++;
	return p;
}

static int plan_masks(struct plan *pl, const struct ubx_spec *cfg)
{
	const char *const *masked = cfg->masked_paths ? (const char *const *)cfg->masked_paths : mounts_masked_default;
	const char *const *ro = cfg->readonly_paths ? (const char *const *)cfg->readonly_paths : mounts_readonly_default;
	for (; *masked; masked++)
		if (!plan_add(pl, *masked, PK_EMPTY_RO, PLAN_MASK))
			return -ENOMEM;
	for (; *ro; ro++)
		if (!plan_add(pl, *ro, PK_RO_SELF, PLAN_MASK))
			return -ENOMEM;
	return 0;
}

/* Everything that goes over the host root, in the order given; sorted later. */
static int plan_build(struct plan *pl, const struct ubx_spec *cfg, const struct mounts_extra *x, int cwd_fd,
		      int hosts_fd, const int *src_fds)
{
	struct plan_entry *p;

	if (cfg->root.kind == ROOT_HOST) { /* an image keeps its own /tmp */
		if (!(p = plan_add(pl, "/tmp", PK_TMPFS, PLAN_BASE)))
			return -ENOMEM;
		snprintf(p->mode, sizeof(p->mode), "1777");
	}
	if (!plan_add(pl, "/sys/fs/cgroup", PK_CGROUP, PLAN_BASE))
		return -ENOMEM;
	if (x->dns && !plan_add(pl, "/etc/resolv.conf", PK_RESOLV, PLAN_BASE))
		return -ENOMEM;
	/* (a generated file is an unlinked one: nothing can be mounted over it) */
	if (cfg->root.kind != ROOT_HOST && !plan_add(pl, "/sys", PK_SYSFS, PLAN_BASE))
		return -ENOMEM;
	if (cfg->root.kind != ROOT_HOST && !(user_mount_at(cfg, "/etc/hostname") && user_mount_at(cfg, "/etc/hosts")) &&
	    !plan_add(pl, "/etc/hostname", PK_ETC, PLAN_BASE))
		return -ENOMEM;
	if (hosts_fd >= 0) {
		if (!(p = plan_add(pl, "/etc/hosts", PK_TREE, PLAN_BASE)))
			return -ENOMEM;
		p->fd = hosts_fd;
	}
	if (cfg->view.home_layer && !plan_add(pl, cfg->view.home_layer, PK_OVERLAY, PLAN_BASE))
		return -ENOMEM;
	if (cwd_fd >= 0) {
		if (!(p = plan_add(pl, cfg->view.cwd_bind, PK_TREE, PLAN_CWD)))
			return -ENOMEM;
		p->fd = cwd_fd;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cfg->view.covers); i++)
		if (cfg->view.covers[i] && !plan_add(pl, cfg->view.covers[i], PK_COVER, PLAN_COVER))
			return -ENOMEM;
	size_t floor = 0;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct mount_spec *m = &cfg->mounts[i];
		enum plan_kind k = m->kind == MOUNT_TMPFS ? PK_TMPFS :
				   m->kind == MOUNT_HIDE  ? PK_HIDE :
				   m->kind == MOUNT_OVERLAY ? PK_OVERLAY :
				   m->kind == MOUNT_MQUEUE ? PK_MQUEUE : PK_TREE;
		if (!(p = plan_add(pl, m->dst, k, PLAN_USER)))
			return -ENOMEM;
		/* an OCI config's mounts go in its order (a mount over an earlier
		 * one's parent hides it, as the runtime spec has it): none sorts
		 * before one listed earlier */
		if (cfg->oci.enabled && p->depth < floor)
			p->depth = floor;
		floor = p->depth;
		p->fd = src_fds[i];
		if (m->kind == MOUNT_TMPFS) {
			snprintf(p->mode, sizeof(p->mode), "%o", m->mode);
			if (m->size)
				snprintf(p->size, sizeof(p->size), "%llu", (unsigned long long)m->size);
		}
	}
	return plan_masks(pl, cfg);
}

/* An empty tmpfs over @dst, when @dst exists in the view (an empty read-only
 * one for a mask, one owned by the command for a cover). */
static int mount_empty(int root, const char *dst, bool cover, const struct mounts_extra *x, struct ubx_err *e)
{
	char uid[16], gid[16];
	snprintf(uid, sizeof(uid), "%u", (unsigned)x->uid);
	snprintf(gid, sizeof(gid), "%u", (unsigned)x->gid);
	const char *cover_opts[] = { "mode", "700", "uid", uid, "gid", gid, "size", "16m", NULL };
	const char *mask_opts[] = { "mode", "0555", "size", "0", "nr_inodes", "1", NULL };

	_cleanup_close_ int probe = mnt_open_in_root(root, dst, O_PATH);
	if (probe < 0)
		return 0;
	struct stat st;
	if (fstat(probe, &st) < 0)
		return ubx_fail(e, errno, "stat %s", dst);
	if (!cover && !S_ISDIR(st.st_mode))
		return mount_null(root, dst, e);
	if (!S_ISDIR(st.st_mode))
		return 0; /* covers are for directories */
	unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (cover ? 0 : MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC);
	_cleanup_close_ int m = mnt_fs_new("tmpfs", cover ? cover_opts : mask_opts, attrs, e);
	if (m < 0)
		return ubx_wrap(e, "%s", dst);
	return mnt_attach(m, root, dst, false, e);
}

/* Whether @path lies in a file system of the sandbox's own: the deepest
 * mount of the plan that contains it is a tmpfs or a throw-away layer (not a
 * bind of a host directory, not the host view), so that making a mount point
 * there leaves nothing on the host. */
static bool on_private_mount(const struct plan *pl, const char *path)
{
	const struct plan_entry *best = NULL;
	for (size_t i = 0; i < pl->n; i++) {
		const struct plan_entry *p = &pl->v[i];
		if (p->kind == PK_EMPTY_RO || p->kind == PK_HIDE || p->kind == PK_RO_SELF || !path_within(path, p->dst))
			continue;
		if (!best || path_depth(p->dst) >= path_depth(best->dst))
			best = p;
	}
	return best && (best->kind == PK_TMPFS || best->kind == PK_OVERLAY || best->kind == PK_COVER);
}

/* --hide @dst: an empty read-only directory or the null device over it.  A
 * path that does not exist yet becomes an empty read-only directory where
 * the sandbox has a file system of its own there; elsewhere it stays absent
 * (nothing is created on the host). */
static int mount_hide(int root, const struct plan *pl, const char *dst, const struct mounts_extra *x,
		      struct ubx_err *e)
{
	_cleanup_close_ int probe = mnt_open_in_root(root, dst, O_PATH);
	if (probe == -ENOENT) {
		if (!on_private_mount(pl, dst))
			return 0;
		_cleanup_close_ int made = mnt_make_in_root(root, dst, false);
		if (made < 0)
			return ubx_fail(e, -made, "--hide %s", dst);
	}
	return mount_empty(root, dst, false, x, e);
}

/* Makes @dir in the detached tmpfs @tmp, owned and moded as @like, and
 * returns it as an O_PATH fd. */
static int make_layer_dir(int tmp, const char *dir, const struct stat *like)
{
	if (mkdirat(tmp, dir, 0700) < 0)
		return -errno;
	int fd = openat(tmp, dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (like && (fchownat(fd, "", like->st_uid, like->st_gid, AT_EMPTY_PATH) < 0 ||
		     fchmodat(tmp, dir, like->st_mode & 07777, 0) < 0)) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* A throw-away writable layer over the directory @dst of the view: kernel
 * overlayfs, mounted in the sandbox's user namespace (userxattr), with @dst
 * as its lower layer and a fresh tmpfs for its upper and work directories
 * (attached at @dst beneath the overlay), so writes there succeed and vanish
 * with the sandbox.  File systems mounted
 * below @dst on the host are not seen through it.  A missing @dst is skipped. */
static int mount_overlay_tmp(int root, const char *dst, struct ubx_err *e)
{
	const char *tmp_opts[] = { "mode", "0755", NULL };
	char lower[64], upper[64], work[64];
	struct stat st;

	_cleanup_close_ int low = mnt_open_in_root(root, dst, O_PATH | O_DIRECTORY);
	if (low < 0)
		return low == -ENOENT ? 0 : ubx_fail(e, -low, "overlay %s", dst);
	if (fstat(low, &st) < 0)
		return ubx_fail(e, errno, "overlay %s", dst);
	_cleanup_close_ int tmp = mnt_fs_new("tmpfs", tmp_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, e);
	if (tmp < 0)
		return ubx_wrap(e, "overlay %s", dst);
	_cleanup_close_ int up = make_layer_dir(tmp, "upper", &st);
	_cleanup_close_ int wk = make_layer_dir(tmp, "work", NULL);
	if (up < 0 || wk < 0)
		return ubx_fail(e, up < 0 ? -up : -wk, "overlay %s: its layer", dst);
	/* Linux before 6.x refuses an upper layer on a detached mount: attach
	 * it at @dst first, under the overlay (@low still names what was there). */
	int r = mnt_attach(tmp, root, dst, false, e);
	if (r < 0)
		return r;
	snprintf(lower, sizeof(lower), "/proc/self/fd/%d", low);
	snprintf(upper, sizeof(upper), "/proc/self/fd/%d", up);
	snprintf(work, sizeof(work), "/proc/self/fd/%d", wk);
	const char *opts[] = { "lowerdir", lower, "upperdir", upper, "workdir", work, NULL };
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		return ubx_fail(e, errno, "overlay %s", dst);
	for (const char *const *o = opts; o[0]; o += 2)
		if (fsconfig(fs, FSCONFIG_SET_STRING, o[0], o[1], 0) < 0)
			return ubx_fail(e, errno, "overlay %s: %s", dst, o[0]);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return ubx_fail(e, errno, "overlay %s", dst);
	_cleanup_close_ int m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (m < 0)
		return ubx_fail(e, errno, "overlay %s", dst);
	return mnt_attach(m, root, dst, false, e);
}

/* @dst bound read-only onto itself, when it exists. */
static int mount_ro_self(int root, const char *dst, struct ubx_err *e)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	_cleanup_close_ int probe = mnt_open_in_root(root, dst, O_PATH);
	if (probe < 0)
		return 0;
	_cleanup_close_ int m = open_tree(probe, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (m < 0 || mount_setattr(m, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0)
		return ubx_fail(e, errno, "make %s read-only", dst);
	return move_mount(m, "", probe, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0
		       ? ubx_fail(e, errno, "make %s read-only", dst)
		       : 0;
}

static int plan_apply_one(int root, const struct ubx_spec *spec, const struct plan *pl, const struct plan_entry *p,
			  const struct mounts_extra *x, struct ubx_err *e)
{
	switch (p->kind) {
	case PK_TREE:
		return attach_tree(p->fd, root, p->dst, e);
	case PK_TMPFS:
		return mount_tmpfs(root, p->dst, "tmpfs", p->mode, p->size[0] ? p->size : NULL, e);
	case PK_COVER:
		return mount_empty(root, p->dst, true, x, e);
	case PK_EMPTY_RO:
		return mount_empty(root, p->dst, false, x, e);
	case PK_HIDE:
		return mount_hide(root, pl, p->dst, x, e);
	case PK_OVERLAY:
		return mount_overlay_tmp(root, p->dst, e);
	case PK_RO_SELF:
		return mount_ro_self(root, p->dst, e);
	case PK_CGROUP:
		return mount_cgroup(root, spec, e);
	case PK_RESOLV:
		return mount_resolv_conf(root, x->dns, e);
	case PK_SYSFS:
		return rootfs_sysfs(root, e);
	case PK_ETC:
		return mount_etc_names(root, spec, x->hosts_fd < 0, e);
	case PK_MQUEUE:
		return mount_mqueue(root, p->dst, e);
	}
	return ubx_fail(e, EINVAL, "mount plan");
}

/* Everything from the fresh root's attachment to pivot_root. */
static int build_view(const struct ubx_spec *cfg, const struct mounts_extra *x, int root, int cwd_fd, int hosts_fd,
		      int *src_fds, struct ubx_err *e)
{
	struct plan pl = { 0 };
	int r;

	if (move_mount(root, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return ubx_fail(e, errno, "attach the root");
	/* /proc and /dev first: the resolver file is made on /dev, masks clone /proc */
	if ((r = mount_proc(root, e)) < 0 || (r = mount_dev(root, x->tty_gid, cfg, e)) < 0)
		return r;
	if ((r = plan_build(&pl, cfg, x, cwd_fd, hosts_fd, src_fds)) < 0) {
		free(pl.v);
		return ubx_fail(e, -r, "mount plan");
	}
	qsort(pl.v, pl.n, sizeof(*pl.v), plan_cmp);
	for (size_t i = 0; i < pl.n && r >= 0; i++)
		r = plan_apply_one(root, cfg, &pl, &pl.v[i], x, e);
	free(pl.v);
	if (r == 0 && cfg->oci.enabled && cfg->root.readonly) {
		struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
		if (mount_setattr(root, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
			return ubx_fail(e, errno, "make the root read-only");
	}
	return r < 0 ? r : pivot_into(root, e);
}

int mounts_setup(const struct ubx_spec *cfg, const struct mounts_extra *x, struct ubx_err *e)
{
	_cleanup_free_ int *src_fds = calloc(cfg->n_mounts + 1, sizeof(int));
	_cleanup_close_ int cwd_fd = -1;
	int r;

	if (!src_fds)
		return ubx_fail(e, ENOMEM, "calloc");

	for (size_t i = 0; i < cfg->n_mounts; i++)
		src_fds[i] = -1;
	/* An OCI root is made read-only last, once the mount points are made in it. */
	struct spec_root view_root = cfg->root;
	view_root.readonly &= !cfg->oci.enabled;
	_cleanup_close_ int root = rootfs_open(&view_root, x->storage_sock, e);
	if (root < 0)
		return root;
	if (cfg->view.cwd_bind) {
		cwd_fd = open_tree(AT_FDCWD, cfg->view.cwd_bind, TREE_FLAGS);
		if (cwd_fd < 0)
			return ubx_fail(e, errno, "bind the working directory %s", cfg->view.cwd_bind);
	}
	_cleanup_close_ int hosts_fd = x->hosts_fd >= 0 ? clone_file_checked(x->hosts, x->hosts_fd, e) : -1;
	if (x->hosts_fd >= 0 && hosts_fd < 0)
		return ubx_wrap(e, "the network's /etc/hosts");
	r = clone_sources(cfg, src_fds, e);
	if (r == 0)
		r = build_view(cfg, x, root, cwd_fd, hosts_fd, src_fds, e);
	close_all(src_fds, cfg->n_mounts);
	return r;
}

const char *mounts_cwd_unshared(const char *cwd, const char *home)
{
	static const char *const shared_dirs[] = { "/tmp", "/var/tmp", "/dev/shm" };

	if (strcmp(cwd, "/") == 0)
		return "it is /";
	for (size_t i = 0; i < ARRAY_SIZE(shared_dirs); i++)
		if (strcmp(cwd, shared_dirs[i]) == 0)
			return "it holds other programs' files and sockets";
	if (path_within(cwd, "/run"))
		return "it holds other programs' sockets";
	if (home && home[0] == '/' && path_within(home, cwd))
		return strcmp(home, cwd) == 0 ? "it is your home" : "your home is in it";
	return NULL;
}
