/* SPDX-License-Identifier: MIT */
/*
 * exec.c - the last steps before the command runs: a session of its own,
 * the sandbox user's ids, capabilities cut down, no_new_privs, no fds but
 * 0-2, and exec.
 */
#include "child.h"
#include "tty.h"

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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <unistd.h>

/* podman's default capability set, for a command that runs as root inside:
 * Docker's without NET_RAW (raw frames reach what the TCP/IP stack would
 * refuse), MKNOD and AUDIT_WRITE. */
#define CAP_BIT(c) (1ULL << (c))
static const uint64_t default_caps =
	CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_FOWNER) | CAP_BIT(CAP_FSETID) |
	CAP_BIT(CAP_KILL) | CAP_BIT(CAP_NET_BIND_SERVICE) | CAP_BIT(CAP_SETFCAP) | CAP_BIT(CAP_SETGID) |
	CAP_BIT(CAP_SETPCAP) | CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SYS_CHROOT);

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
	if (p->full_map && setgroups(0, NULL) < 0)
		return ubx_fail(e, errno, "setgroups");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return ubx_fail(e, errno, "setresgid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return ubx_fail(e, errno, "setresuid %u", p->uid);
	return 0;
}

uint64_t exec_capabilities(const struct usbox_config *cfg, bool root)
{
	const uint64_t all = CAP_BIT(CAP_LAST_CAP + 1) - 1;
	uint64_t set = root ? default_caps : 0;

	if (cfg->cap_drop_all)
		set = 0;
	set &= ~cfg->cap_drop;
	if (cfg->cap_add_all)
		set = all & ~cfg->cap_drop;
	return (set | cfg->cap_add) & all;
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
 * be reachable from the root. */
static int enter_workdir(const char *dir, struct ubx_err *e)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	char buf[4096];

	_cleanup_close_ int fd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
	if (fd < 0)
		return ubx_fail(e, errno, "working directory %s", dir);
	if (fchdir(fd) < 0)
		return ubx_fail(e, errno, "working directory %s", dir);
	if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
		return ubx_fail(e, EXDEV, "working directory %s: not inside the sandbox", dir);
	return 0;
}

static int prepare_exec(const struct child_params *p, struct ubx_err *e)
{
	const char *dir = p->cfg->workdir ? p->cfg->workdir : p->cwd;
	int r;

	if (setsid() < 0)
		return ubx_fail(e, errno, "setsid");
	reset_signals();
	if ((r = set_identity(p, e)) < 0 || (r = new_session_keyring(e)) < 0 ||
	    (r = set_capabilities(exec_capabilities(p->cfg, p->uid == 0), p->uid == 0, e)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ubx_fail(e, errno, "no_new_privs");
	if ((r = enter_workdir(dir, e)) < 0)
		return r;
	if (p->tty_sock >= 0 && (r = tty_open_inside(p->tty_sock, &p->ws, e)) < 0)
		return r;
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return ubx_fail(e, errno, "close_range");
	return 0;
}

int exec_find(const char *cmd, const char *path, char *out, size_t len)
{
	int found = -ENOENT;

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return access(cmd, F_OK) < 0 ? -errno : access(cmd, X_OK) < 0 ? -errno : 0;
	}
	if (!path)
		path = EXEC_DEFAULT_PATH;
	for (const char *dir = path; dir; dir = strchr(dir, ':') ? strchr(dir, ':') + 1 : NULL) {
		size_t dlen = strcspn(dir, ":");
		char cand[4096];
		struct stat st;
		snprintf(cand, sizeof(cand), "%.*s%s%s", (int)dlen, dir, dlen ? "/" : "", cmd);
		if (stat(cand, &st) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (access(cand, X_OK) == 0) {
			snprintf(out, len, "%s", cand);
			return 0;
		}
		if (found == -ENOENT) { /* remember the first one that exists, as bash does */
			snprintf(out, len, "%s", cand);
			found = -EACCES;
		}
	}
	return found;
}

static const char *env_path(char **envp)
{
	for (; envp && *envp; envp++)
		if (strncmp(*envp, "PATH=", 5) == 0)
			return *envp + 5;
	return NULL;
}

_Noreturn void exec_command(const struct child_params *p)
{
	struct ubx_err e = { 0 };
	const char *cmd = p->cfg->argv[0];
	char file[4096];

	if (prepare_exec(p, &e) < 0) {
		report_failure(p->report_fd, REPORT_SETUP, &e);
		_exit(125);
	}
	int err = -exec_find(cmd, env_path(p->envp), file, sizeof(file));
	/* The filter last: it refuses calls set-up makes (setns, mounts, keyctl). */
	if (err == 0 && seccomp_install(p->seccomp, &e) < 0) {
		report_failure(p->report_fd, REPORT_SETUP, &e);
		_exit(125);
	}
	if (err == 0) {
		execve(file, p->cfg->argv, p->envp);
		err = errno;
	}
	if (err == ENOENT && !strchr(cmd, '/'))
		ubx_fail(&e, 0, "%s: command not found", cmd);
	else
		ubx_fail(&e, err, "%s", cmd);
	e.code = err;
	report_failure(p->report_fd, REPORT_EXEC, &e);
	_exit(err == ENOENT ? 127 : 126);
}
