/* SPDX-License-Identifier: MIT */
/*
 * nsjoin.c - the start of an OCI container that joins namespaces by path.
 *
 * DOC: Theory of operation
 * setns(CLONE_NEWUSER) cannot be undone and the namespaces the container
 * makes must be owned by the user namespace it joins, so the joining is
 * done by a process of its own, forked by the supervisor: the joiner.
 * - The supervisor opens every path first, in its own view (a mount
 *   namespace joined first must not decide what a later path names).
 * - The joiner makes itself non-dumpable when it joins a user namespace:
 *   other processes hold capabilities there, and neither it nor the init it
 *   clones (which inherits this until execve) may be ptraced or have its
 *   /proc/PID/fd opened while they hold the host's fds and root.
 * - It joins each namespace it can as it is, then the user namespace, then
 *   those that needed it (a rootless caller has capabilities over the
 *   namespaces of its own user namespace only in there), as crun does.
 * - config.json's id maps, when given with a joined user namespace, must be
 *   that namespace's own (runc's rule); nothing is written.
 * - It clone3()s the init with CLONE_PARENT: the init is the supervisor's
 *   child, as without a joiner, sends its pid (or why not) and exits.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"

/* What the joiner sends back, in one write. */
struct joiner_answer {
	pid_t pid;   /* the init, or -1 */
	bool placed; /* cloned into its cgroup */
	struct ubx_err err;
};

static const char *ns_name(int flag)
{
	switch (flag) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWNS: return "mount";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWNET: return "network";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	default: return "cgroup";
	}
}

static int join_failed(const struct spec_ns_join *j, int err, struct ubx_err *e)
{
	if (err == EINVAL && j->flag == CLONE_NEWUSER)
		return ubx_refuse(e, EINVAL, "linux.namespaces: %.200s is not a user namespace, or it is the caller's own",
				  j->path);
	if (err == EINVAL)
		return ubx_refuse(e, EINVAL, "linux.namespaces: %.200s is not a %s namespace", j->path,
				  ns_name(j->flag));
	return ubx_fail(e, err, "linux.namespaces: join the %s namespace %.200s", ns_name(j->flag), j->path);
}

/* Parses an id map as /proc/PID/uid_map shows it into @ext (at most @max
 * extents).  Return: how many, or -1. */
static int parse_map(char *text, struct spec_idmap *ext, size_t max)
{
	size_t n = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long in, out, count;
		if (n == max || sscanf(line, "%lu %lu %lu", &in, &out, &count) != 3)
			return -1;
		ext[n++] = (struct spec_idmap){ .inside = (uint32_t)in, .outside = (uint32_t)out,
						.count = (uint32_t)count };
	}
	return (int)n;
}

/* Whether @want (config.json's) is the map in @proc_dir's @file (this
 * process's user namespace's), in any order. */
static bool same_map(int proc_dir, const char *file, const struct spec_idmap *want, size_t n_want)
{
	char text[4096];
	struct spec_idmap have[SPEC_MAX_IDMAPS];
	_cleanup_close_ int fd = openat(proc_dir, file, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (len < 0)
		return false;
	text[len] = '\0';
	int n = parse_map(text, have, SPEC_MAX_IDMAPS);
	if (n < 0 || (size_t)n != n_want)
		return false;
	for (size_t i = 0; i < n_want; i++) {
		bool found = false;
		for (int k = 0; k < n && !found; k++)
			found = have[k].inside == want[i].inside && have[k].outside == want[i].outside &&
				have[k].count == want[i].count;
		if (!found)
			return false;
	}
	return true;
}

static int check_maps(const struct spec_oci *o, int proc_dir, struct ubx_err *e)
{
	if (o->n_uid_map && !same_map(proc_dir, "self/uid_map", o->uid_map, o->n_uid_map))
		return ubx_refuse(e, EINVAL, "linux.uidMappings: not the maps of the user namespace joined by "
				  "linux.namespaces (give one or the other)");
	if (o->n_gid_map && !same_map(proc_dir, "self/gid_map", o->gid_map, o->n_gid_map))
		return ubx_refuse(e, EINVAL, "linux.gidMappings: not the maps of the user namespace joined by "
				  "linux.namespaces (give one or the other)");
	return 0;
}

/* In the joiner: the namespaces of @o by the fds @fd, as the first screen says. */
static int join_all(const struct spec_oci *o, const int *fd, int proc_dir, struct ubx_err *e)
{
	size_t later[SPEC_MAX_JOIN], n_later = 0, user = SPEC_MAX_JOIN;
	for (size_t i = 0; i < o->n_join; i++) {
		if (o->join[i].flag == CLONE_NEWUSER)
			user = i;
		else if (setns(fd[i], o->join[i].flag) < 0) {
			if (errno != EPERM || !(o->ns_joined & CLONE_NEWUSER))
				return join_failed(&o->join[i], errno, e);
			later[n_later++] = i;
		}
	}
	if (user < SPEC_MAX_JOIN) {
		if (setns(fd[user], CLONE_NEWUSER) < 0)
			return join_failed(&o->join[user], errno, e);
		int r = check_maps(o, proc_dir, e);
		if (r < 0)
			return r;
	}
	for (size_t k = 0; k < n_later; k++)
		if (setns(fd[later[k]], o->join[later[k]].flag) < 0)
			return join_failed(&o->join[later[k]], errno, e);
	return 0;
}

/* In the joiner: join, clone the init as a child of the supervisor, answer
 * on @answer_fd.  Returns 0 in the init only. */
static int joiner(const struct spec_oci *o, const int *fd, int proc_dir, uint64_t flags, int cgroup_fd,
		  int answer_fd)
{
	struct joiner_answer a = { .pid = -1 };
	if ((o->ns_joined & CLONE_NEWUSER) && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		ubx_fail(&a.err, errno, "PR_SET_DUMPABLE");
	else if (join_all(o, fd, proc_dir, &a.err) == 0) {
		struct clone_args args = { .flags = flags | CLONE_PARENT | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
					   .cgroup = (uint64_t)(cgroup_fd >= 0 ? cgroup_fd : 0) };
		a.placed = true; /* (clone3 wants no exit_signal with CLONE_PARENT: the child has ours, SIGCHLD) */
		a.pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		if (a.pid < 0 && errno == ENOSYS) {
			a.placed = cgroup_fd < 0;
			a.pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | CLONE_PARENT | SIGCHLD, NULL, NULL, NULL,
					       NULL);
		}
		if (a.pid == 0)
			return 0;
		if (a.pid < 0)
			ubx_refuse(&a.err, errno, "create the container's namespaces in those joined by linux.namespaces: %s",
				   strerror(errno));
	}
	_exit(write(answer_fd, &a, sizeof(a)) == sizeof(a) ? 0 : 125);
}

/* Opens the namespace files of @o (and /proc) in this process's view. */
static int open_all(const struct spec_oci *o, int *fd, int *proc_dir, struct ubx_err *e)
{
	for (size_t i = 0; i < o->n_join; i++)
		if ((fd[i] = open(o->join[i].path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
			return ubx_fail(e, errno, "linux.namespaces: %.200s", o->join[i].path);
	*proc_dir = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return *proc_dir < 0 ? ubx_fail(e, errno, "/proc") : 0;
}

static void close_all(int *fd, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

/* In the supervisor: the joiner's answer; reaps it. */
static pid_t joiner_result(pid_t joiner_pid, int answer_fd, int *pidfd, bool *placed, struct ubx_err *e)
{
	struct joiner_answer a;
	ssize_t n;
	while ((n = read(answer_fd, &a, sizeof(a))) < 0 && errno == EINTR)
		;
	(void)waitpid(joiner_pid, NULL, 0);
	if (n != sizeof(a))
		return ubx_fail(e, EIO, "the namespace joiner ended without an answer");
	if (a.pid < 0) {
		*e = a.err;
		e->msg[sizeof(e->msg) - 1] = '\0';
		return -(e->code ? e->code : EINVAL);
	}
	*placed = a.placed;
	/* our child, not reaped: its pid cannot have been reused */
	if ((*pidfd = (int)syscall(SYS_pidfd_open, a.pid, 0)) < 0) {
		int r = ubx_fail(e, errno, "pidfd_open");
		(void)kill(a.pid, SIGKILL);
		(void)waitpid(a.pid, NULL, 0);
		return r;
	}
	return a.pid;
}

pid_t nsjoin_clone(const struct spec_oci *o, uint64_t flags, int cgroup_fd, int *pidfd, bool *placed,
		   struct ubx_err *e)
{
	int fd[SPEC_MAX_JOIN];
	int answer[2] = { -1, -1 };
	_cleanup_close_ int proc_dir = -1;
	for (size_t i = 0; i < SPEC_MAX_JOIN; i++)
		fd[i] = -1;
	int r = open_all(o, fd, &proc_dir, e);
	if (r == 0 && pipe2(answer, O_CLOEXEC) < 0)
		r = ubx_fail(e, errno, "pipe");
	pid_t pid = r < 0 ? -1 : fork();
	if (pid == 0) {
		close(answer[0]);
		if (joiner(o, fd, proc_dir, flags, cgroup_fd, answer[1]) == 0) {
			close_all(fd, o->n_join);
			close(answer[1]);
			return 0; /* the init */
		}
	}
	if (r == 0 && pid < 0)
		r = ubx_fail(e, errno, "fork");
	close_all(fd, o->n_join);
	if (answer[1] >= 0)
		close(answer[1]);
	if (r == 0)
		r = joiner_result(pid, answer[0], pidfd, placed, e);
	if (answer[0] >= 0)
		close(answer[0]);
	return r;
}
