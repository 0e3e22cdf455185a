/* SPDX-License-Identifier: MIT */
/*
 * exec.c - the last steps before the command runs: a session of its own,
 * the sandbox user's ids, capabilities cut down, no_new_privs, no fds but
 * 0-2, and exec.
 */
#include "child.h"
#include "tty.h"

#include "../common/fdpass.h"
#include "../common/pathfind.h"
#include "../seccomp/guard.h"

#include "../common/cleanup.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/openat2.h>
#include <grp.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <unistd.h>

#define CAP_BIT(c) (1ULL << (c))

void report_failure(int fd, int kind, const struct ubx_err *e)
{
	struct child_report rep = { .kind = kind, .err = *e };
	(void)!write(fd, &rep, sizeof(rep));
}

static void reset_signals(void)
{
	sigset_t set;
	signals_fill(&set);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&set, sig) == 1)
			signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

static int set_identity(const struct child_params *p, struct ubx_err *e)
{
	const struct spec_oci *o = &p->spec->oci;
	if (p->full_map && setgroups(o->n_groups, (const gid_t *)o->groups) < 0)
		return ubx_fail(e, errno, "setgroups");
	/* an OCI process's permitted set survives the change of uid */
	if (o->enabled && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return ubx_fail(e, errno, "keep capabilities");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return ubx_fail(e, errno, "setresgid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return ubx_fail(e, errno, "setresuid %u", p->uid);
	return 0;
}

/* Root inside gets @caps effective, permitted and bounding; anyone else only
 * in the bounding set (lost at exec, as with Docker).  Inheritable and
 * ambient stay empty. */
static int set_capabilities(uint64_t caps, bool root, struct ubx_err *e)
{
	capng_clear(CAPNG_SELECT_ALL);
	for (unsigned c = 0; c <= CAP_LAST_CAP; c++)
		if ((caps & CAP_BIT(c)) &&
		    capng_update(CAPNG_ADD, root ? CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET
						 : CAPNG_BOUNDING_SET, c) < 0)
			return ubx_fail(e, EINVAL, "capability %u", c);
	if (capng_apply(CAPNG_SELECT_ALL) < 0)
		return ubx_fail(e, EPERM, "drop capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return ubx_fail(e, errno, "clear ambient capabilities");
	return 0;
}

/* An OCI process's five capability sets, as its config gives them. */
static int set_oci_capabilities(const uint64_t caps[5], struct ubx_err *e)
{
	static const capng_type_t sets[] = {
		[SPEC_CAP_BOUNDING] = CAPNG_BOUNDING_SET, [SPEC_CAP_EFFECTIVE] = CAPNG_EFFECTIVE,
		[SPEC_CAP_PERMITTED] = CAPNG_PERMITTED, [SPEC_CAP_INHERITABLE] = CAPNG_INHERITABLE,
	};
	capng_clear(CAPNG_SELECT_ALL);
	for (size_t s = 0; s < ARRAY_SIZE(sets); s++)
		for (unsigned c = 0; c <= CAP_LAST_CAP; c++)
			if ((caps[s] & CAP_BIT(c)) && capng_update(CAPNG_ADD, sets[s], c) < 0)
				return ubx_fail(e, EINVAL, "capability %u", c);
	if (capng_apply(CAPNG_SELECT_ALL) < 0)
		return ubx_fail(e, EPERM, "set capabilities");
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
	    (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL))
		return ubx_fail(e, errno, "ambient capabilities");
	/* an ambient capability needs to be permitted and inheritable too; one
	 * that is not is left out, as runc does (its rootless spec asks for some) */
	for (unsigned c = 0; c <= CAP_LAST_CAP; c++)
		if (caps[SPEC_CAP_AMBIENT] & CAP_BIT(c))
			(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
	return 0;
}

/* An OCI process's rlimits and umask, set while still privileged. */
static int set_oci_limits(const struct spec_oci *o, struct ubx_err *e)
{
	for (size_t i = 0; i < o->n_rlimits; i++) {
		struct rlimit rl = { .rlim_cur = o->rlimits[i].soft, .rlim_max = o->rlimits[i].hard };
		if (setrlimit(o->rlimits[i].resource, &rl) < 0)
			return ubx_fail(e, errno, "rlimit %d", o->rlimits[i].resource);
	}
	if (o->umask >= 0)
		umask((mode_t)o->umask);
	return 0;
}

/* A session keyring of the sandbox's own (as runc makes one), so that the
 * caller's keys are neither read nor planted through it. */
static int new_session_keyring(struct ubx_err *e)
{
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
		return ubx_fail(e, errno, "a session keyring of the sandbox's own");
	return 0;
}

/* Changes into @dir of the sandbox's root: resolved inside it with openat2
 * (RESOLVE_IN_ROOT, and no /proc magic links such as /proc/self/fd/N, which
 * could lead to a directory of the host: CVE-2024-21626), then checked to
 * be reachable from the root.  An OCI filter already in place may refuse
 * openat2 (EPERM from an allowlist older than it, ENOSYS): then chdir(), and
 * the check alone keeps a magic link out, as runc's does.  One that refuses
 * getcwd leaves openat2's word alone (both refused: no way to check, fail). */
static int enter_workdir(const char *dir, struct ubx_err *e)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	char buf[4096];

	_cleanup_close_ int fd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
	int r = fd >= 0 ? fchdir(fd) : (errno == EPERM || errno == ENOSYS) ? chdir(dir) : -1;
	if (r < 0)
		return ubx_fail(e, errno, "working directory %s", dir);
	if (getcwd(buf, sizeof(buf)))
		return buf[0] == '/' ? 0 : ubx_fail(e, EXDEV, "working directory %s: not inside the sandbox", dir);
	if (fd >= 0 && (errno == EPERM || errno == ENOSYS)) /* the filter's; openat2 kept it inside */
		return 0;
	return ubx_fail(e, errno == ENOENT ? EXDEV : errno, "working directory %s: not inside the sandbox", dir);
}

/* Whether the filter goes on before the capabilities are dropped: an OCI
 * process without noNewPrivileges (installing a filter then needs
 * CAP_SYS_ADMIN, as runc does it); the rest of set-up then runs under it. */
static bool filter_early(const struct child_params *p)
{
	return p->spec->oci.enabled && !p->spec->oci.no_new_privs;
}

/* An OCI process's bounding set, dropped while still privileged: once the
 * uid changed CAP_SETPCAP is no longer effective and a user other than root
 * kept the whole set (runc drops it before setting the user too).  Numbers
 * this kernel does not know fail with EINVAL. */
static int drop_oci_bounding(uint64_t bounding, struct ubx_err *e)
{
	for (unsigned c = 0; c < 64; c++)
		if (!(bounding & CAP_BIT(c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return ubx_fail(e, errno, "drop bounding capability %u", c);
	return 0;
}

/* An OCI process: the session keyring and the bounding set while still
 * privileged (a filter such as Docker's refuses keyctl), then the filter
 * when it goes on early. */
static int prepare_oci_early(const struct child_params *p, struct ubx_err *e)
{
	int r = set_oci_limits(&p->spec->oci, e);
	if (r < 0 || (r = new_session_keyring(e)) < 0 ||
	    (r = drop_oci_bounding(p->spec->oci.caps[SPEC_CAP_BOUNDING], e)) < 0)
		return r;
	return filter_early(p) ? seccomp_install(p->seccomp, e) : 0;
}

/* Marks every descriptor from 3 up close-on-exec, but an OCI engine's
 * preserved ones, which are made to survive it; a filter that refuses
 * close_range() (an OCI profile older than it) gets the loop. */
static int cloexec_from_3(unsigned preserve, struct ubx_err *e)
{
	struct rlimit rl;
	for (unsigned fd = 3; fd < 3 + preserve; fd++)
		(void)fcntl((int)fd, F_SETFD, 0);
	if (close_range(3 + preserve, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if ((errno != EPERM && errno != ENOSYS) || getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return ubx_fail(e, errno, "close_range");
	for (int fd = 3 + (int)preserve; fd < (int)rl.rlim_cur && fd < 65536; fd++)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

static int prepare_exec(const struct child_params *p, struct ubx_err *e)
{
	const char *dir = p->spec->cwd;
	int r;

	if (setsid() < 0)
		return ubx_fail(e, errno, "setsid");
	reset_signals();
	if (p->spec->oci.enabled && (r = prepare_oci_early(p, e)) < 0)
		return r;
	if ((r = set_identity(p, e)) < 0)
		return r;
	/* after the ids: changing them clears the setting; a parent already
	 * gone left us to the sandbox's init (our parent is outside: pid 0) */
	if (p->die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != 0))
		return ubx_fail(e, ESRCH, "usbox exec ended");
	if (!p->spec->oci.enabled && (r = new_session_keyring(e)) < 0)
		return r;
	r = p->spec->oci.enabled ? set_oci_capabilities(p->spec->oci.caps, e)
				 : set_capabilities(p->spec->caps, p->uid == 0, e);
	if (r < 0)
		return r;
	if ((!p->spec->oci.enabled || p->spec->oci.no_new_privs) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ubx_fail(e, errno, "no_new_privs");
	if ((r = enter_workdir(dir, e)) < 0)
		return r;
	if (p->tty_sock >= 0 && (r = tty_open_inside(p->tty_sock, &p->ws, e)) < 0)
		return r;
	return cloexec_from_3(p->spec->oci.preserve_fds, e);
}

static const char *env_path(char **envp)
{
	for (; envp && *envp; envp++)
		if (strncmp(*envp, "PATH=", 5) == 0)
			return *envp + 5;
	return NULL;
}

/* An OCI container between create and start: the creator learns that set-up
 * is done (the report pipe closes), then `start` writes a byte into the exec
 * fifo, and the caller's on_start() runs.  Failures after this point can only
 * go to the container's stderr. */
static int wait_for_start(const struct child_params *p, struct ubx_err *e)
{
	char go;
	close(p->report_fd);
	while (read(p->start_fd, &go, 1) < 0 && errno == EINTR)
		;
	int r = p->on_start ? p->on_start(p->on_start_arg, p->start_fd, e) : 0;
	close(p->start_fd);
	return r;
}

/* Reports @e to the creator, or once an OCI container was started (nobody
 * reads the report pipe any more) to the container's stderr; then exits. */
static _Noreturn void fail_exec(const struct child_params *p, bool started, int kind, const struct ubx_err *e,
				int status)
{
	if (started)
		dprintf(STDERR_FILENO, "usbox-oci: %s\n", e->msg);
	else
		report_failure(p->report_fd, kind, e);
	_exit(status);
}

int ports_guard(const struct child_params *p, struct ubx_err *e)
{
	if (p->guard_sock <= STDERR_FILENO) /* -1; and 0-2 are the command's, never a channel */
		return 0;
	int fd = seccomp_guard_install(e);
	if (fd < 0)
		return fd;
	int r = fd_send(p->guard_sock, fd, 'G');
	close(fd);
	return r < 0 ? ubx_fail(e, -r, "hand the direct ports' guard to usbox") : 0;
}

int ports_guard_take(int sock, struct ubx_err *e)
{
	char tag = 0;
	int fd = fd_receive(sock, &tag);
	if (fd >= 0 && tag == 'G')
		return fd;
	if (fd >= 0)
		close(fd);
	return ubx_fail(e, EPROTO, "-p: the direct ports' guard did not come");
}

_Noreturn void exec_command(const struct child_params *p)
{
	struct ubx_err e = { 0 };
	const char *cmd = p->spec->args[0];
	char file[4096];

	if (prepare_exec(p, &e) < 0)
		fail_exec(p, false, REPORT_SETUP, &e, 125);
	int err = -exec_find(cmd, env_path(p->spec->env), file, sizeof(file));
	bool started = err == 0 && p->start_fd >= 0;
	if (started && wait_for_start(p, &e) < 0)
		fail_exec(p, true, REPORT_SETUP, &e, 125);
	/* The filter last: it refuses calls set-up makes (setns, mounts, keyctl). */
	if (err == 0 && ports_guard(p, &e) < 0)
		fail_exec(p, started, REPORT_SETUP, &e, 125);
	if (err == 0 && !filter_early(p) && seccomp_install(p->seccomp, &e) < 0)
		fail_exec(p, started, REPORT_SETUP, &e, 125);
	if (err == 0) {
		execve(file, p->spec->args, p->spec->env);
		err = errno;
	}
	if (err == ENOENT && !strchr(cmd, '/') && p->spec->oci.enabled) /* runc's words, which engines match */
		ubx_fail(&e, 0, "exec: \"%s\": executable file not found in $PATH", cmd);
	else if (err == ENOENT && !strchr(cmd, '/'))
		ubx_fail(&e, 0, "%s: command not found", cmd);
	else
		ubx_fail(&e, err, "%s", cmd);
	e.code = err;
	fail_exec(p, started, REPORT_EXEC, &e, err == ENOENT ? 127 : 126);
}
