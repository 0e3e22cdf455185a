/* SPDX-License-Identifier: MIT */
/*
 * exec.c - the last steps before the command runs: a session of its own,
 * the sandbox user's ids, capabilities cut down, no_new_privs, no fds but
 * 0-2, and exec.
 */
#include "child.h"
#include "tty.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

/* Docker's default capability set, for a command that runs as root inside. */
static const unsigned int docker_caps[] = {
	CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FSETID,          CAP_FOWNER,      CAP_MKNOD,
	CAP_NET_RAW, CAP_SETGID,      CAP_SETUID,          CAP_SETFCAP,     CAP_SETPCAP,
	CAP_NET_BIND_SERVICE,         CAP_SYS_CHROOT,      CAP_KILL,        CAP_AUDIT_WRITE,
};

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

/* Root inside keeps Docker's default set; anyone else keeps nothing, not even
 * in the bounding set. */
static int set_capabilities(bool root, struct ubx_err *e)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (root)
		for (size_t i = 0; i < sizeof(docker_caps) / sizeof(docker_caps[0]); i++)
			if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
					 docker_caps[i]) < 0)
				return ubx_fail(e, EINVAL, "capability %u", docker_caps[i]);
	if (capng_apply(CAPNG_SELECT_ALL) < 0)
		return ubx_fail(e, EPERM, "drop capabilities");
	return 0;
}

static int prepare_exec(const struct child_params *p, struct ubx_err *e)
{
	const char *dir = p->cfg->workdir ? p->cfg->workdir : p->cwd;
	int r;

	if (setsid() < 0)
		return ubx_fail(e, errno, "setsid");
	reset_signals();
	if ((r = set_identity(p, e)) < 0 || (r = set_capabilities(p->uid == 0, e)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ubx_fail(e, errno, "no_new_privs");
	if (chdir(dir) < 0)
		return ubx_fail(e, errno, "working directory %s", dir);
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
