/* SPDX-License-Identifier: MIT */
/*
 * overlay.c - overlayfs of image layers (overlay.h).
 *
 * DOC: Theory of operation
 * The kernel's overlayfs, mounted in a user namespace with userxattr, is
 * the root of a container.  Where the kernel refuses it (an old kernel, a
 * file system under the store that overlayfs cannot use as its upper layer,
 * a distribution that turns it off in user namespaces), fuse-overlayfs
 * serves the same layers: the caller mounts FUSE itself, in the namespace
 * that will use the mount, and hands the /dev/fuse descriptor to the daemon
 * as the mount point "/dev/fd/3" (libfuse then only serves it).  So the
 * daemon needs no mount rights, can run wherever its caller likes (for a
 * sandbox: beside the supervisor, in the sandbox's user namespace but not
 * its pid namespace, so nothing inside can signal or ptrace it), and ends
 * when the mount goes away.  It sees the host read-only but for the
 * container's upper and work directories.
 */
#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

int overlay_fuse_mount(unsigned attrs, int *fuse, struct ubx_err *e)
{
	char fd_text[16];
	_cleanup_close_ int dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return ubx_fail(e, errno, "open /dev/fuse");
	snprintf(fd_text, sizeof(fd_text), "%d", dev);
	const char *const opts[][2] = { { "source", "fuse-overlayfs" }, { "subtype", "fuse-overlayfs" },
					{ "fd", fd_text },		{ "rootmode", "40000" },
					{ "user_id", "0" },		{ "group_id", "0" } };
	_cleanup_close_ int fs = fsopen("fuse", FSOPEN_CLOEXEC);
	if (fs < 0)
		return ubx_fail(e, errno, "a FUSE file system");
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (fsconfig(fs, FSCONFIG_SET_STRING, opts[i][0], opts[i][1], 0) < 0)
			return ubx_fail(e, errno, "FUSE: %s", opts[i][0]);
	if (fsconfig(fs, FSCONFIG_SET_FLAG, "allow_other", NULL, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_FLAG, "default_permissions", NULL, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return ubx_fail(e, errno, "a FUSE file system");
	int m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (m < 0)
		return ubx_fail(e, errno, "mount FUSE");
	*fuse = TAKE_FD(dev);
	return m;
}

/* What the daemon's process needs, all made before it is forked. */
struct fuse_child {
	const char *program;
	char writable[4096];
	const char *cover; /* a directory to cover, or NULL */
	char *argv[6];
	int fuse, log, userns;
	pid_t parent;
};

static _Noreturn void child_fail(const char *what)
{
	dprintf(STDERR_FILENO, "cannot %s: %s\n", what, strerror(errno));
	_exit(125);
}

/* An empty read-only tmpfs over the directory @path, when it exists. */
static void cover(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	int m = fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
				fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0
			? -1
			: fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (m < 0 || move_mount(m, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		child_fail("cover the runtime directory");
	close(m);
	close(fs);
}

/* Namespaces of the daemon's own: no network (nor abstract unix sockets),
 * and a mount namespace in which every mount is read-only but @writable (a
 * clone of it attached again on top) and @cover (NULL: none) is covered,
 * unless @writable is in it. */
static void confine(const char *writable, const char *cover_dir)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY, .propagation = MS_PRIVATE };
	size_t n = cover_dir ? strlen(cover_dir) : 0;
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
		child_fail("make its namespaces");
	int w = open_tree(AT_FDCWD, writable, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (w < 0)
		child_fail("clone the writable layer");
	if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)) < 0)
		child_fail("make the host read-only");
	if (cover_dir && (strncmp(writable, cover_dir, n) != 0 || (writable[n] != '/' && writable[n] != '\0')))
		cover(cover_dir);
	if (move_mount(w, "", AT_FDCWD, writable, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		child_fail("attach the writable layer");
	close(w);
}

/* The directory holding both @a and @b (one mount for both: fuse-overlayfs
 * renames from its work directory into the upper one) into @out. */
static int common_dir(const char *a, const char *b, char *out, size_t len)
{
	size_t n = 0, last = 0;
	for (; a[n] && a[n] == b[n]; n++)
		if (a[n] == '/')
			last = n;
	if ((!a[n] || a[n] == '/') && (!b[n] || b[n] == '/'))
		last = n; /* one is the other or inside it */
	if (last >= len)
		return -ENAMETOOLONG;
	memcpy(out, a, last ? last : 1);
	out[last ? last : 1] = '\0';
	return 0;
}

static _Noreturn void fuse_child_main(const struct fuse_child *c)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	int log = fcntl(c->log, F_DUPFD_CLOEXEC, 10), fuse = fcntl(c->fuse, F_DUPFD_CLOEXEC, 10);
	if (log < 0 || dup2(log, STDERR_FILENO) < 0)
		_exit(125);
	if (fuse < 0)
		child_fail("keep /dev/fuse");
	if (c->userns >= 0 && setns(c->userns, CLONE_NEWUSER) < 0)
		child_fail("join the sandbox's user namespace");
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL); /* after setns: a change of credentials clears it */
	if (getppid() != c->parent)
		_exit(125); /* the caller is gone already */
	if (setsid() < 0) /* no terminal's Ctrl-C or hang-up, nor a kill of usbox's group, ends it */
		child_fail("start a session");
	confine(c->writable, c->cover);
	int null = open("/dev/null", O_RDWR); /* not close-on-exec: it may land on 0 or 1 itself */
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 || dup2(fuse, 3) < 0)
		child_fail("set up its descriptors");
	if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
		child_fail("close descriptors");
	execve(c->program, c->argv, envp);
	child_fail(c->program);
}

static pid_t fork_pidfd(int *pidfd)
{
	struct clone_args args = { .flags = CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)pidfd,
				   .exit_signal = SIGCHLD };
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && errno == ENOSYS && (pid = fork()) > 0 && (*pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0) {
		int err = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		errno = err;
		return -1;
	}
	return pid;
}

int overlay_fuse_start(const char *program, char *const *lowers, const char *upper, const char *work, int fuse,
		       int userns_pidfd, const char *cover, struct overlay_fuse *d, struct ubx_err *e)
{
	size_t len = 64 + strlen(upper) + strlen(work);
	int r = 0;
	for (char *const *l = lowers; *l && r == 0; l++) {
		r = check_path(*l, e);
		len += strlen(*l) + 1;
	}
	if (r < 0 || (r = check_path(upper, e)) < 0 || (r = check_path(work, e)) < 0)
		return r;
	_cleanup_free_ char *opts = malloc(len);
	if (!opts)
		return ubx_fail(e, ENOMEM, "fuse-overlayfs");
	int n = snprintf(opts, len, "lowerdir=");
	for (char *const *l = lowers; *l; l++)
		n += snprintf(opts + n, len - (size_t)n, "%s%s", l == lowers ? "" : ":", *l);
	snprintf(opts + n, len - (size_t)n, ",upperdir=%s,workdir=%s", upper, work);
	struct fuse_child c = { .program = program, .cover = cover,
				.argv = { "fuse-overlayfs", "-f", "-o", opts, "/dev/fd/3", NULL },
				.fuse = fuse, .userns = userns_pidfd, .parent = getpid() };
	*d = (struct overlay_fuse)OVERLAY_FUSE_INIT;
	if (common_dir(upper, work, c.writable, sizeof(c.writable)) < 0)
		return ubx_fail(e, ENAMETOOLONG, "fuse-overlayfs: %s", upper);
	if ((c.log = d->log = memfd_create("fuse-overlayfs", MFD_CLOEXEC)) < 0)
		return ubx_fail(e, errno, "fuse-overlayfs: its log");
	pid_t pid = fork_pidfd(&d->pidfd);
	if (pid == 0)
		fuse_child_main(&c);
	if (pid < 0) {
		r = ubx_fail(e, errno, "start fuse-overlayfs");
		close(d->log);
		*d = (struct overlay_fuse)OVERLAY_FUSE_INIT;
	}
	return r;
}

/* Whether the daemon has ended (waiting up to @ms for it); not reaped. */
static bool fuse_ended(const struct overlay_fuse *d, int ms, siginfo_t *si)
{
	struct pollfd p = { .fd = d->pidfd, .events = POLLIN };
	memset(si, 0, sizeof(*si));
	if (d->pidfd < 0 || poll(&p, 1, ms) <= 0)
		return false;
	return waitid(P_PIDFD, (id_t)d->pidfd, si, WEXITED | WNOHANG | WNOWAIT) == 0 && si->si_pid != 0;
}

void overlay_fuse_why(const struct overlay_fuse *d, char *buf, size_t len)
{
	siginfo_t si;
	char text[1024];
	buf[0] = '\0';
	/* it is ending: the mount failed because its descriptor closed */
	if (!fuse_ended(d, 1000, &si) || (si.si_code == CLD_EXITED && si.si_status == 0))
		return;
	off_t size = lseek(d->log, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(text) - 1 ? size - (off_t)sizeof(text) + 1 : 0;
	ssize_t n = size > 0 ? pread(d->log, text, sizeof(text) - 1, from) : 0;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	text[n > 0 ? n : 0] = '\0';
	const char *line = strrchr(text, '\n');
	if (text[0])
		snprintf(buf, len, "%s", line ? line + 1 : text);
	else if (si.si_code == CLD_EXITED)
		snprintf(buf, len, "exited with status %d", si.si_status);
	else
		snprintf(buf, len, "killed by signal %d", si.si_status);
}

void overlay_fuse_stop(struct overlay_fuse *d, int ms)
{
	siginfo_t si;
	if (d->pidfd >= 0) {
		if (!fuse_ended(d, ms, &si))
			(void)syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, NULL, 0);
		(void)waitid(P_PIDFD, (id_t)d->pidfd, &si, WEXITED);
		close(d->pidfd);
	}
	if (d->log >= 0)
		close(d->log);
	*d = (struct overlay_fuse)OVERLAY_FUSE_INIT;
}
