/* SPDX-License-Identifier: MIT */
/*
 * holder.c - the per-user process that holds a fully mapped user namespace.
 *
 * DOC: Theory of operation
 * State lives in $XDG_RUNTIME_DIR/usbox (or /tmp/usbox-UID, which must be the
 * caller's own 0700 directory): "holder.lock" and "holder.pid" ("PID NS_INODE").
 * Every usbox run holds a shared flock on holder.lock while its sandbox runs
 * and touches the file's mtime at start and end.  The holder wakes every idle
 * period; when it can take the lock exclusively and the last use is older than
 * the idle period, it removes the state files and exits while still holding
 * the lock.  A usbox that was waiting for the lock then finds the file gone
 * (its inode no longer named) and starts over, so a run never joins a holder
 * that is on its way out.  A holder is only joined after its pidfd and its
 * namespace inode agree with the pid file, so a reused pid is never joined,
 * and after it proves to be the caller's own: it runs in the caller's pid
 * namespace (a sandbox never does), and its user namespace is a child of the
 * caller's, owned by the caller.  A pid file that fails this (written by
 * whoever could write to the state directory) counts as no holder: a new
 * one replaces it.  A user network's helper keeps a shared lock on
 * holder.lock while it runs, since its namespace is a child of the holder's.
 */
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/daemon.h"
#include "../common/parse.h"
#include "../common/proctitle.h"
#include "../common/statedir.h"

#define HOLDER_IDLE_DEFAULT 30 /* seconds */

static int holder_idle_seconds(void)
{
	uint64_t v;
	const char *s = getenv("USBOX_HOLDER_IDLE");
	return s && parse_u64(s, 86400, &v) == 0 && v > 0 ? (int)v : HOLDER_IDLE_DEFAULT;
}

static bool same_file(int a, int b)
{
	struct stat x, y;
	return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

int idmap_userns_check(int ns, int parent, const char *parent_what, uint32_t uid, struct ubx_err *e)
{
	uid_t owner;

	if (ioctl(ns, NS_GET_OWNER_UID, &owner) < 0)
		return ubx_refuse(e, EPERM, "what it sent is not a user namespace");
	if (owner != uid)
		return ubx_refuse(e, EPERM, "its user namespace is owned by uid %lu", (unsigned long)owner);
	_cleanup_close_ int up = ioctl(ns, NS_GET_PARENT);
	if (up < 0 || !same_file(up, parent))
		return ubx_refuse(e, EPERM, "its user namespace is not a child of %s", parent_what);
	return 0;
}

/* Whether process @pid runs in the caller's pid namespace. */
static bool in_my_pid_ns(uint64_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%" PRIu64 "/ns/pid", pid);
	_cleanup_close_ int theirs = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int mine = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	return theirs >= 0 && mine >= 0 && same_file(theirs, mine);
}

/* Opens the user namespace of the holder named in holder.pid, checked against
 * its pidfd and recorded inode, and that it is @uid's own (see the DOC
 * above).  Return: an fd, or -errno (-EPERM: not the caller's). */
static int open_holder_ns(int dirfd, uint32_t uid)
{
	char buf[64] = { 0 };
	uint64_t pid, ino;
	struct stat st;
	char path[64];

	_cleanup_close_ int fd = openat(dirfd, "holder.pid", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (read(fd, buf, sizeof(buf) - 1) <= 0 || sscanf(buf, "%" SCNu64 " %" SCNu64, &pid, &ino) != 2)
		return -EINVAL;
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%" PRIu64 "/ns/user", pid);
	_cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return -errno;
	if (fstat(nsfd, &st) < 0 || st.st_ino != ino)
		return -ESRCH;
	_cleanup_close_ int self = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	if (self < 0 || !in_my_pid_ns(pid) || idmap_userns_check(nsfd, self, "yours", uid, NULL) < 0)
		return -EPERM;
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) /* still the same process */
		return -ESRCH;
	return TAKE_FD(nsfd);
}

/* The holder's life after it is set up: wake every idle period and leave once
 * no usbox has used it for that long. */
static _Noreturn void holder_loop(const char *dir, int idle)
{
	for (;;) {
		struct timespec ts = { .tv_sec = idle };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		_cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		_cleanup_close_ int fd =
			dirfd < 0 ? -1 : openat(dirfd, "holder.lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0)
			_exit(0); /* our state is gone: nobody can find us any more */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0)
			continue;
		if (time(NULL) - st.st_mtime >= idle) {
			(void)unlinkat(dirfd, "holder.pid", 0);
			(void)unlinkat(dirfd, "holder.lock", 0);
			(void)rmdir(dir);
			_exit(0);
		}
		(void)flock(fd, LOCK_UN);
	}
}

/* The holder, once it has its user namespace (see daemon_spawn()). */
static _Noreturn void holder_main(void *dir)
{
	close(3);
	holder_loop(dir, holder_idle_seconds());
}

/* Maps a fresh holder with the helpers and records it; kills it on failure.
 * A helper's refusal comes back as -ECHILD. */
static int make_holder(int dirfd, const char *dir, uint32_t uid, uint32_t gid, const struct idmap_range *ur,
		       size_t nu, const struct idmap_range *gr, size_t ng, struct ubx_err *e)
{
	struct idmap um, gm;
	char buf[64], path[64];
	struct stat st;

	idmap_layout(0, uid, ur, nu, 1 + (uint64_t)IDMAP_SANDBOX_IDS, &um);
	idmap_layout(0, gid, gr, ng, 1 + (uint64_t)IDMAP_SANDBOX_IDS, &gm);
	int sock;
	pid_t pid = daemon_spawn("usbox-holder", holder_main, (void *)dir, &sock, e);
	if (pid < 0)
		return pid;
	close(sock);
	int r = idmap_run_helper("newuidmap", pid, &um, e);
	if (r == 0)
		r = idmap_run_helper("newgidmap", pid, &gm, e);
	if (r < 0) {
		kill(pid, SIGKILL);
		return -ECHILD;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (stat(path, &st) < 0) {
		kill(pid, SIGKILL);
		return ubx_fail(e, errno, "stat %s", path);
	}
	int len = snprintf(buf, sizeof(buf), "%d %" PRIu64 "\n", (int)pid, (uint64_t)st.st_ino);
	_cleanup_close_ int fd =
		openat(dirfd, "holder.pid.new", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, (size_t)len) != len ||
	    renameat(dirfd, "holder.pid.new", dirfd, "holder.pid") < 0) {
		r = ubx_fail(e, errno, "write %s/holder.pid", dir);
		kill(pid, SIGKILL);
		return r;
	}
	return 0;
}

/* One attempt; -EAGAIN asks for another (the lock file went away). */
static int try_enter(const char *dir, uint32_t uid, uint32_t gid, const struct idmap_range *ur, size_t nu,
		     const struct idmap_range *gr, size_t ng, struct ubx_err *e)
{
	_cleanup_close_ int dirfd = state_dir_open(dir, uid, e);
	if (dirfd < 0)
		return dirfd;
	_cleanup_close_ int lock =
		openat(dirfd, "holder.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0)
		return ubx_fail(e, errno, "open %s/holder.lock", dir);
	if (flock(lock, LOCK_SH) < 0)
		return ubx_fail(e, errno, "lock %s/holder.lock", dir);
	if (!lock_is_current(dirfd, "holder.lock", lock))
		return -EAGAIN;
	(void)futimens(lock, NULL);
	_cleanup_close_ int ns = open_holder_ns(dirfd, uid);
	if (ns < 0) {
		/* Start one under the exclusive lock, unless another run just did. */
		if (flock(lock, LOCK_EX) < 0)
			return ubx_fail(e, errno, "lock %s/holder.lock", dir);
		if (!lock_is_current(dirfd, "holder.lock", lock))
			return -EAGAIN;
		ns = open_holder_ns(dirfd, uid);
		if (ns < 0) {
			int r = make_holder(dirfd, dir, uid, gid, ur, nu, gr, ng, e);
			if (r < 0)
				return r;
			ns = open_holder_ns(dirfd, uid);
		}
		(void)flock(lock, LOCK_SH);
		if (ns < 0)
			return ubx_fail(e, -ns, "open the id-map holder's namespace");
	}
	if (setns(ns, CLONE_NEWUSER) < 0)
		return ubx_fail(e, errno, "join the id-map holder's user namespace");
	return TAKE_FD(lock);
}

int holder_enter(uint32_t uid, uint32_t gid, const struct idmap_range *ur, size_t nu,
		 const struct idmap_range *gr, size_t ng, struct ubx_err *e)
{
	char dir[4096];

	state_dir_path(uid, dir, sizeof(dir));
	for (int attempt = 0; attempt < 5; attempt++) {
		int r = try_enter(dir, uid, gid, ur, nu, gr, ng, e);
		if (r != -EAGAIN)
			return r;
	}
	return ubx_fail(e, EAGAIN, "the id-map holder kept going away");
}

int holder_userns(uint32_t uid, struct ubx_err *e)
{
	char dir[4096];

	state_dir_path(uid, dir, sizeof(dir));
	_cleanup_close_ int dirfd = state_dir_open(dir, uid, e);
	if (dirfd < 0)
		return dirfd;
	int ns = open_holder_ns(dirfd, uid);
	if (ns == -EPERM)
		return ubx_refuse(e, EPERM, "the id-map holder named in %s/holder.pid is not yours", dir);
	if (ns < 0)
		return ubx_refuse(e, EPERM, "no id-map holder runs");
	return ns;
}
