/* SPDX-License-Identifier: MIT */
/*
 * join.c - `usbox exec`: start another command in a running sandbox.
 *
 * DOC: Theory of operation
 * This process makes itself non-dumpable for the clone (the command must be
 * beyond ptrace and /proc/PID/fd from inside until it has shed the host's
 * fds at exec; non-dumpability is inherited and lasts until execve), joins
 * the init's user, mount, pid, uts, ipc and net namespaces at once with
 * setns() on a pidfd, and clone3()s the command straight into the
 * sandbox's cgroup.  The child joins the cgroup namespace (after the clone:
 * one rooted at the sandbox's cgroup would forbid the move), then goes the
 * way the sandbox's own command went (exec_command(): a session, the ids,
 * a fresh session keyring, capabilities, no_new_privs, the working
 * directory resolved inside the root, -t's pty from the sandbox's devpts,
 * every other fd closed, the filter last).  It dies with this process (a
 * parent-death signal), unless detached (exec -d): then it forks once more
 * inside, so that the sandbox's init adopts it.  From the outside it is then a
 * sandbox like any other: sandbox_wait() relays its terminal and signals.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fdpass.h"
#include "../common/proctitle.h"
#include "child.h"

/* Whether the sandbox's init @init is in this process's namespace @name. */
static bool same_ns(pid_t init, const char *name)
{
	struct stat mine, theirs;
	char path[64], self[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init, name);
	snprintf(self, sizeof(self), "/proc/self/ns/%s", name);
	return stat(path, &theirs) == 0 && stat(self, &mine) == 0 && mine.st_ino == theirs.st_ino &&
	       mine.st_dev == theirs.st_dev;
}

/* The namespaces of the sandbox's init that this process is not in already
 * (--net host shares the network; an OCI container may share any): joining
 * one's own namespace needs privileges over it. */
static int join_flags(pid_t init)
{
	static const struct { const char *name; int flag; } ns[] = {
		{ "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS }, { "pid", CLONE_NEWPID },
		{ "uts", CLONE_NEWUTS },   { "ipc", CLONE_NEWIPC }, { "net", CLONE_NEWNET },
	};
	int flags = 0;
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		if (!same_ns(init, ns[i].name))
			flags |= ns[i].flag;
	return flags;
}

static void init_empty(struct sandbox *sb, const struct ubx_spec *spec)
{
	*sb = (struct sandbox){ .spec = spec, .pid = -1, .pidfd = -1, .exit_status = 125, .cg = { .leaf_fd = -1 },
				.net_sock = -1, .redirect_nl = -1, .netconn = { .sock = -1, .userns = -1, .lock = -1, .hosts_fd = -1 },
				.console_fd = -1, .start_fd = -1 };
	sb->plan.holder_lock_fd = -1;
	sb->tty.master = sb->tty.in_fd = -1;
}

static _Noreturn void child(const struct join_request *j, struct child_params *p, int null_fd)
{
	struct ubx_err e = { 0 };
	if (!j->spec->tty && !j->spec->interactive && dup2(null_fd, STDIN_FILENO) < 0) {
		ubx_fail(&e, errno, "stdin");
		report_failure(p->report_fd, REPORT_SETUP, &e);
		_exit(125);
	}
	bool cgroupns = !j->only_ns || (j->only_ns & CLONE_NEWCGROUP);
	if (cgroupns && !same_ns(j->init_pid, "cgroup") && setns(j->init_pidfd, CLONE_NEWCGROUP) < 0) {
		ubx_fail(&e, errno, "join the sandbox's cgroup namespace");
		report_failure(p->report_fd, REPORT_SETUP, &e);
		_exit(125);
	}
	/* exec -d: once more, so that the command's parent is inside and, when
	 * it leaves, the sandbox's init adopts and reaps the command (an
	 * orphan goes to the reaper of its parent's pid namespace) */
	pid_t pid = j->detach && !j->orphan ? fork() : 0;
	if (pid < 0) {
		ubx_fail(&e, errno, "fork");
		report_failure(p->report_fd, REPORT_SETUP, &e);
		_exit(125);
	}
	if (pid > 0)
		_exit(0);
	exec_command(p);
}

/* clone3() into the sandbox's cgroup when it has one; fork-like. */
static pid_t clone_into(int cgroup_fd, int *pidfd)
{
	struct clone_args args = { .flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
				   .pidfd = (uint64_t)(uintptr_t)pidfd, .exit_signal = SIGCHLD,
				   .cgroup = (uint64_t)(cgroup_fd >= 0 ? cgroup_fd : 0) };
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* -p direct: the command's guard is answered by a process of its own,
 * which lives as long as anything is left under the guard (a detached
 * command, what it starts).  It is forked non-dumpable, so that nothing in
 * the sandbox can trace it and take the listener, and twice, so that the
 * sandbox's init adopts and reaps it (its parent is inside). */
static int serve_guard(struct sandbox *sb, int guard_sock, struct ubx_err *e)
{
	siginfo_t si = { 0 };
	_cleanup_close_ int notify = ports_guard_take(guard_sock, e);
	if (notify < 0)
		return notify;
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	pid_t pid = fork();
	if (pid == 0) {
		const int keep[] = { notify };
		if (fd_close_all_but(keep, 1) < 0 || setsid() < 0 || (pid = fork()) < 0)
			_exit(125);
		if (pid > 0)
			_exit(0);
		proctitle_set("usbox-guard"); /* (not the host's path of usbox, and exec's arguments) */
		portdirect_serve(notify, sb->host_netns);
		_exit(0);
	}
	int err = errno;
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (pid < 0)
		return ubx_fail(e, err, "-p: the direct ports' guard");
	if (waitid(P_PID, (id_t)pid, &si, WEXITED) < 0 || si.si_status != 0)
		return ubx_fail(e, EAGAIN, "-p: the direct ports' guard");
	return 0;
}

static int start_child(struct sandbox *sb, const struct join_request *j, int null_fd, struct ubx_err *e)
{
	int report[2] = { -1, -1 }, tty[2] = { -1, -1 }, guard[2] = { -1, -1 };
	if ((j->spec->port_handler == PORTS_DIRECT && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, guard) < 0) ||
	    pipe2(report, O_CLOEXEC) < 0 ||
	    (j->spec->tty && j->console_fd < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tty) < 0) ||
	    (j->spec->tty && j->console_fd >= 0 && (tty[1] = fcntl(j->console_fd, F_DUPFD_CLOEXEC, 3)) < 0))
		return ubx_fail(e, errno, "pipe");
	struct child_params p = { .spec = j->spec, .uid = j->spec->uid, .gid = j->spec->gid, .full_map = j->full_map,
				  .sync_fd = -1, .report_fd = report[1], .tty_sock = tty[1], .ws = sb->ws,
				  .net_sock = -1, .hosts_fd = -1, .seccomp = &sb->seccomp, .start_fd = -1,
				  .guard_sock = guard[1],
				  .die_with_parent = !j->detach && !j->orphan };
	sb->pid = clone_into(j->cgroup_fd, &sb->pidfd);
	if (sb->pid != 0) /* (the child stays non-dumpable until it execs; this process is out of the
			   * sandbox's sight, its pid namespace being the caller's, and LeakSanitizer
			   * needs to ptrace it at exit) */
		(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (sb->pid == 0) {
		close(report[0]);
		if (tty[0] >= 0)
			close(tty[0]);
		if (guard[0] >= 0)
			close(guard[0]);
		child(j, &p, null_fd);
	}
	int err = errno;
	close(report[1]);
	if (tty[1] >= 0)
		close(tty[1]);
	if (guard[1] >= 0)
		close(guard[1]);
	_cleanup_close_ int guard_sock = guard[0];
	_cleanup_close_ int rep = report[0];
	_cleanup_close_ int tty_sock = tty[0];
	if (sb->pid < 0)
		return ubx_fail(e, err, "start the command in the sandbox's cgroup");
	struct child_report r;
	ssize_t n;
	while ((n = read(rep, &r, sizeof(r))) < 0 && errno == EINTR)
		;
	if (n == sizeof(r)) {
		*e = r.err;
		e->msg[sizeof(e->msg) - 1] = '\0';
		sb->exit_status = r.kind == REPORT_EXEC ? (r.err.code == ENOENT ? 127 : 126) : 125;
		return -(e->code ? e->code : EINVAL);
	}
	if (n != 0)
		return ubx_fail(e, EIO, "the command ended during set-up");
	if (guard_sock >= 0 && (n = serve_guard(sb, guard_sock, e)) < 0)
		return (int)n;
	if (j->detach && j->orphan)
		return 0;
	if (j->detach) { /* the first child has left its command behind: reap it */
		siginfo_t si;
		(void)waitid(P_PIDFD, (id_t)sb->pidfd, &si, WEXITED);
		return 0;
	}
	if (j->console_fd >= 0) /* the pty went to the console socket */
		return 0;
	return j->spec->tty ? tty_receive(&sb->tty, tty_sock, j->spec->interactive, e) : 0;
}

int sandbox_join(struct sandbox *sb, const struct join_request *j, struct ubx_err *e)
{
	sigset_t set;
	init_empty(sb, j->spec);
	bool own_tty = j->spec->tty && j->console_fd < 0;
	int r = own_tty ? tty_check(j->spec->interactive, &sb->ws, e) : 0;
	if (r < 0)
		return r;
	if (!j->spec->tty)
		tty_save(&sb->tty);
	/* Everything the host gives is taken before joining. */
	if (j->seccomp)
		sb->seccomp = (struct seccomp_prog){ .filter = j->seccomp->filter, .len = j->seccomp->len };
	else if ((r = seccomp_prepare(j->spec->seccomp, j->spec->seccomp_profile, &sb->seccomp, e)) < 0)
		return r;
	_cleanup_close_ int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0)
		return ubx_fail(e, errno, "/dev/null");
	if (j->spec->port_handler == PORTS_DIRECT && (r = portdirect_cookie(&sb->host_netns, e)) < 0)
		return r;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return ubx_fail(e, errno, "PR_SET_DUMPABLE");
	int flags = join_flags(j->init_pid) & (j->only_ns ? j->only_ns : ~0);
	if (flags && setns(j->init_pidfd, flags) < 0)
		return ubx_fail(e, errno, "join the sandbox's namespaces");
	signals_fill(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((r = start_child(sb, j, null_fd, e)) < 0) {
		if (sb->pidfd >= 0) {
			siginfo_t si;
			(void)syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
			(void)waitid(P_PIDFD, (id_t)sb->pidfd, &si, WEXITED);
		}
		tty_restore(&sb->tty);
	}
	return r;
}
