/* SPDX-License-Identifier: MIT */
/*
 * sandbox.c - the supervisor's side of one sandbox.
 *
 * DOC: Theory of operation
 * prepare: identity, environment and the id-map plan (joining the holder).
 * start:   block the forwarded signals, clone3() the init straight into new
 *          user, mount, pid, uts, ipc, cgroup (and net) namespaces with a
 *          pidfd, write its id maps, release it, then read its report pipe:
 *          end-of-file means the command was executed (the pipe is close-on-
 *          exec), a struct child_report means set-up or exec failed.
 * wait:    poll a signalfd and the pidfd; forward signals with
 *          pidfd_send_signal(); the init's exit status is the command's.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "child.h"
#include "env.h"

extern char **environ;

int sandbox_prepare(struct sandbox *sb, const struct usbox_config *cfg, struct ubx_err *e)
{
	char pwbuf[4096];
	struct passwd pw, *found = NULL;

	*sb = (struct sandbox){ .cfg = cfg, .pid = -1, .pidfd = -1, .exit_status = 125 };
	sb->plan.holder_lock_fd = -1;
	sb->cwd = getcwd(NULL, 0);
	if (!sb->cwd)
		return ubx_fail(e, errno, "getcwd");
	sb->envp = env_build(environ, cfg->clearenv, cfg->env, cfg->n_env);
	if (!sb->envp)
		return ubx_fail(e, ENOMEM, "environment");
	sb->ids.uid = getuid();
	sb->ids.gid = getgid();
	sb->ids.inside_uid = cfg->uid_set ? cfg->uid : sb->ids.uid;
	sb->ids.inside_gid = cfg->gid_set ? cfg->gid : sb->ids.gid;
	sb->ids.want_full = cfg->map == MAP_AUTO;
	if (sb->ids.want_full && getpwuid_r(sb->ids.uid, &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found)
		sb->ids.user = strdup(found->pw_name);
	return idmap_prepare(&sb->ids, &sb->plan, e);
}

/* clone3() into the new namespaces; clone() where clone3 is refused with
 * ENOSYS (valgrind, older seccomp profiles).  Both fork-like: no CLONE_VM. */
static pid_t clone_init(const struct usbox_config *cfg, int *pidfd)
{
	uint64_t flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
			 CLONE_NEWCGROUP | CLONE_PIDFD | (cfg->net == NET_HOST ? 0 : CLONE_NEWNET);
	struct clone_args args = {
		.flags = flags,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && errno == ENOSYS)
		pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, pidfd, NULL, NULL);
	return pid;
}

/* Kills and reaps the init after a failed start. */
static void abandon(struct sandbox *sb)
{
	if (sb->pidfd >= 0) {
		(void)syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
		siginfo_t si;
		(void)waitid(P_PIDFD, (id_t)sb->pidfd, &si, WEXITED);
	}
}

/* Reads the report pipe: 0 when the command was executed. */
static int read_report(struct sandbox *sb, int fd, struct ubx_err *e)
{
	struct child_report rep;
	ssize_t n;

	while ((n = read(fd, &rep, sizeof(rep))) < 0 && errno == EINTR)
		;
	if (n == 0)
		return 0;
	if (n != sizeof(rep))
		return ubx_fail(e, EIO, "the sandbox ended during set-up");
	*e = rep.err;
	e->msg[sizeof(e->msg) - 1] = '\0';
	if (rep.kind == REPORT_EXEC)
		sb->exit_status = rep.err.code == ENOENT ? 127 : 126;
	return -(e->code ? e->code : EINVAL);
}

static int release_init(struct sandbox *sb, int sync_fd, struct ubx_err *e)
{
	int r = idmap_apply(&sb->plan, &sb->ids, sb->pid, e);
	if (r < 0)
		return ubx_wrap(e, "map ids");
	if (write(sync_fd, "g", 1) != 1)
		return ubx_fail(e, errno, "start the sandbox");
	return 0;
}

int sandbox_start(struct sandbox *sb, struct ubx_err *e)
{
	int sync_p[2], rep_p[2];
	sigset_t set;

	signals_fill(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pipe2(sync_p, O_CLOEXEC) < 0)
		return ubx_fail(e, errno, "pipe");
	if (pipe2(rep_p, O_CLOEXEC) < 0) {
		close(sync_p[0]);
		close(sync_p[1]);
		return ubx_fail(e, errno, "pipe");
	}
	struct child_params p = {
		.cfg = sb->cfg, .cwd = sb->cwd, .envp = sb->envp,
		.uid = sb->ids.inside_uid, .gid = sb->ids.inside_gid,
		.full_map = sb->plan.method != IDMAP_SINGLE,
		.sync_fd = sync_p[0], .report_fd = rep_p[1],
	};
	sb->pid = clone_init(sb->cfg, &sb->pidfd);
	if (sb->pid == 0) {
		close(sync_p[1]);
		close(rep_p[0]);
		init_main(&p);
	}
	close(sync_p[0]);
	close(rep_p[1]);
	_cleanup_close_ int sync_fd = sync_p[1];
	_cleanup_close_ int rep_fd = rep_p[0];
	if (sb->pid < 0)
		return ubx_fail(e, errno, "create the sandbox's namespaces");
	int r = release_init(sb, sync_fd, e);
	if (r == 0) {
		close(TAKE_FD(sync_fd));
		r = read_report(sb, rep_fd, e);
	}
	if (r < 0)
		abandon(sb);
	return r;
}

/* Waits for the init, forwarding signals meanwhile. */
int sandbox_wait(struct sandbox *sb, struct ubx_err *e)
{
	struct signalfd_siginfo si;
	sigset_t set;
	siginfo_t info;

	signals_fill(&set);
	sigdelset(&set, SIGCHLD);
	_cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return ubx_fail(e, errno, "signalfd");
	for (;;) {
		struct pollfd fds[2] = { { .fd = sb->pidfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return ubx_fail(e, errno, "poll");
		}
		while (read(sfd, &si, sizeof(si)) == sizeof(si))
			(void)syscall(SYS_pidfd_send_signal, sb->pidfd, (int)si.ssi_signo, NULL, 0);
		if (!(fds[0].revents & POLLIN))
			continue;
		memset(&info, 0, sizeof(info));
		if (waitid(P_PIDFD, (id_t)sb->pidfd, &info, WEXITED) < 0)
			return ubx_fail(e, errno, "wait for the sandbox");
		sb->pid = -1;
		return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
	}
}

void sandbox_destroy(struct sandbox *sb)
{
	idmap_plan_release(&sb->plan);
	if (sb->pidfd >= 0)
		close(sb->pidfd);
	free(sb->cwd);
	free((char *)sb->ids.user);
	cleanup_strvp(&sb->envp);
	*sb = (struct sandbox){ .pid = -1, .pidfd = -1 };
}
