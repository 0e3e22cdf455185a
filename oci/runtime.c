/* SPDX-License-Identifier: MIT */
/*
 * runtime.c - create, start, kill, delete and exec for usbox-oci.
 *
 * DOC: Theory of operation
 * create: make the state directory (locked) with its exec fifo, then let
 *         sandbox_start() clone the container's process with the spec's
 *         namespaces (through a joiner for those config.json names by path:
 *         sandbox/nsjoin.c).  That
 *         process builds the root as for `usbox --rootfs`, runs every step
 *         up to execve, closes the report pipe (so sandbox_start() returns)
 *         and blocks reading the fifo.  create records pid and start time
 *         and leaves; the fifo stays open in the container's process only.
 * start:  write one byte into the fifo (a non-blocking open fails with ENXIO
 *         when no process holds it: the container died) and remove it.
 * kill, delete: through a pidfd checked against the recorded start time.
 * exec:   sandbox_join() into the container's namespaces with the filter of
 *         its config.json.
 */
#include "runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../container/state.h"
#include "../sandbox/sandbox.h"
#include "cgroup.h"
#include "state.h"

#define OCI_START_STATE_MAX (64u << 10) /* the state sent to startContainer hooks, with its NUL */

/* Connects to the engine's console socket. */
static int console_connect(const char *path, struct ubx_err *e)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return ubx_fail(e, ENAMETOOLONG, "--console-socket %.100s", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = ubx_fail(e, errno, "--console-socket %.100s", path);
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

/* The directory of the pid file @path, opened now (exec writes the file
 * from inside the container's mount namespace). */
static int pid_file_dir(const char *path, struct ubx_err *e)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".") >= (int)sizeof(dir))
		return ubx_fail(e, ENAMETOOLONG, "--pid-file");
	int fd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? ubx_fail(e, errno, "--pid-file %.200s", path) : fd;
}

/* Writes @pid into the pid file @path (in the directory @dir) atomically. */
static int write_pid_file(int dir, const char *path, pid_t pid, struct ubx_err *e)
{
	char tmp[300], text[16];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int n = snprintf(text, sizeof(text), "%d", (int)pid);
	if (snprintf(tmp, sizeof(tmp), ".%s.usbox-tmp", base) >= (int)sizeof(tmp))
		return ubx_fail(e, ENAMETOOLONG, "--pid-file");
	_cleanup_close_ int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, text, (size_t)n) != n || renameat(dir, tmp, dir, base) < 0) {
		int r = ubx_fail(e, errno, "--pid-file %.200s", path);
		(void)unlinkat(dir, tmp, 0);
		return r;
	}
	return 0;
}

static void now_rfc3339(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, len - n, ".%09ldZ", ts.tv_nsec);
}

/* What create records once the process waits. */
static int record(int dir, const struct oci_create_opts *o, const struct oci_config *c, pid_t pid,
		  const char *cgroup, struct ubx_err *e)
{
	struct oci_state s = { .pid = pid, .annotations = c->annotations,
			       .own_pidns = c->spec.oci.ns_new & CLONE_NEWPID };
	snprintf(s.id, sizeof(s.id), "%s", o->id);
	snprintf(s.cgroup, sizeof(s.cgroup), "%s", cgroup);
	snprintf(s.bundle, sizeof(s.bundle), "%s", c->bundle);
	snprintf(s.owner, sizeof(s.owner), "%u", (unsigned)getuid());
	now_rfc3339(s.created, sizeof(s.created));
	int r = ctr_proc_start(pid, &s.start);
	if (r < 0)
		return ubx_fail(e, -r, "the container's process ended during create");
	if ((r = oci_state_write(dir, &s, e)) < 0)
		return r;
	if (!o->pid_file)
		return 0;
	_cleanup_close_ int pdir = pid_file_dir(o->pid_file, e);
	return pdir < 0 ? pdir : write_pid_file(pdir, o->pid_file, pid, e);
}

/* In the container's process, once `start` released it: the state that
 * `start` sent after its byte (up to a NUL) to the startContainer hooks. */
static int start_container_hooks(void *arg, int fifo, struct ubx_err *e)
{
	_cleanup_free_ char *state = malloc(OCI_START_STATE_MAX);
	size_t n = 0;
	while (state && n < OCI_START_STATE_MAX) {
		ssize_t k = read(fifo, state + n, OCI_START_STATE_MAX - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return ubx_fail(e, k < 0 ? errno : EIO, "the state for the startContainer hooks");
		if (memchr(state + n, '\0', (size_t)k))
			return oci_hooks_run(arg, OCI_HOOK_START_CONTAINER, state, e);
		n += (size_t)k;
	}
	return ubx_fail(e, state ? E2BIG : ENOMEM, "the state for the startContainer hooks");
}

/* Clones and sets up the container's process; it is left waiting. */
static int launch(struct sandbox *sb, bool *prepared, struct oci_config *c, int fifo, int console,
		  const struct oci_cgroup *cg, struct ubx_err *e)
{
	int r = sandbox_prepare(sb, &c->spec, e);
	*prepared = true;
	if (r < 0)
		return r;
	seccomp_prog_free(&sb->seccomp);
	sb->seccomp = c->seccomp; /* config.json's filter (moved) */
	c->seccomp = (struct seccomp_prog){ 0 };
	sb->start_fd = fifo;
	if (c->hooks.n[OCI_HOOK_START_CONTAINER]) {
		sb->on_start = start_container_hooks;
		sb->on_start_arg = &c->hooks;
	}
	sb->console_fd = console;
	sb->cg.leaf_fd = cg->fd; /* cloned into it; sb->cg stays inactive: the cgroup outlives create */
	r = sandbox_start(sb, e);
	sb->cg.leaf_fd = -1;
	return r;
}

/* The state of the container of @dir as hooks get it on stdin, or NULL. */
static char *hook_state(int dir, struct ubx_err *e)
{
	struct oci_state s;
	if (oci_state_read(dir, &s, e) < 0)
		return NULL;
	char *text = oci_state_json(dir, &s);
	oci_state_free(&s);
	if (!text)
		ubx_fail(e, ENOMEM, "the state for the hooks");
	return text;
}

/* create's hooks, once the process @sb waits: prestart, createRuntime and
 * createContainer run (a failure fails create); startContainer, poststart
 * and poststop are kept. */
static int create_hooks(int dir, const struct oci_config *c, const struct sandbox *sb, struct ubx_err *e)
{
	const struct oci_hooks *h = &c->hooks;
	int r = oci_hooks_save(dir, h, e);
	if (r < 0 || (!h->n[OCI_HOOK_PRESTART] && !h->n[OCI_HOOK_CREATE_RUNTIME] && !h->n[OCI_HOOK_CREATE_CONTAINER]))
		return r;
	_cleanup_free_ char *state = hook_state(dir, e);
	if (!state)
		return -EIO;
	if ((r = oci_hooks_run(h, OCI_HOOK_PRESTART, state, e)) == 0 &&
	    (r = oci_hooks_run(h, OCI_HOOK_CREATE_RUNTIME, state, e)) == 0)
		r = oci_hooks_run_in(h, OCI_HOOK_CREATE_CONTAINER, state, sb->pid, sb->pidfd, e);
	return r;
}

/* What the process @pid runs, as "@before" and "now" are compared: its exe
 * link; "comm:" and its name where the link cannot be read (a rootless
 * caller, and a process not dumpable until it executes its program: one
 * that joined a user namespace by path).  Return: its length, or -1. */
static ssize_t running_what(pid_t pid, char *out, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, out, len - 1);
	if (n < 0 && errno == EACCES) {
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, out + 5, len - 6);
		n = n <= 0 ? -1 : (memcpy(out, "comm:", 5), n + 5);
	}
	if (n >= 0)
		out[n] = '\0';
	return n;
}

/* Waits (up to 1 s) until the process @pid no longer runs @before: it
 * executed the container's program (poststart hooks run after that). */
static void wait_exec(pid_t pid, const char *before)
{
	char now[4096];
	for (int i = 0; i < 1000; i++) {
		if (running_what(pid, now, sizeof(now)) < 0 || strcmp(now, before) != 0)
			return;
		usleep(1000);
	}
}

/* Runs the poststart or poststop hooks @h with the state of @dir as it was
 * read into @state; a failure is a warning (the lifecycle goes on, as the
 * spec has it): 1 with @e set. */
static int after_hooks(const struct oci_hooks *h, enum oci_hook_kind kind, const char *state, struct ubx_err *e)
{
	if (!h->n[kind])
		return 0;
	int r = state ? oci_hooks_run(h, kind, state, e) : ubx_fail(e, ENOMEM, "the state for the hooks");
	return r < 0 ? 1 : 0;
}

int oci_create(const struct oci_create_opts *o, struct oci_config *c, int *pidfd_out, struct ubx_err *e)
{
	struct sandbox sb = { .pid = -1, .pidfd = -1 };
	bool prepared = false;
	int r;

	if (c->spec.tty && !o->console_socket)
		return ubx_refuse(e, EINVAL, "process.terminal needs --console-socket");
	/* its process is not dumpable until it runs its program: only a
	 * runtime with capabilities where it was made can join it */
	if (c->hooks.n[OCI_HOOK_CREATE_CONTAINER] && (c->spec.oci.ns_joined & CLONE_NEWUSER) && geteuid() != 0)
		return ubx_refuse(e, EINVAL, "hooks.createContainer: not run by a rootless usbox-oci in a user namespace "
				  "joined by path (linux.namespaces)");
	c->spec.oci.preserve_fds = o->preserve_fds;
	_cleanup_close_ int dir = oci_state_create(o->root, o->id, e);
	if (dir < 0)
		return dir;
	_cleanup_close_ int fifo = openat(dir, "exec.fifo", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_close_ int console = -1;
	struct oci_cgroup cg = { .fd = -1 };
	const struct oci_cgroup_req q = { c->cgroups_path, o->systemd_cgroup, o->id, &c->limits };
	char note[512] = "";
	if (fifo < 0)
		r = ubx_fail(e, errno, "exec fifo");
	else if (o->console_socket && (console = console_connect(o->console_socket, e)) < 0)
		r = console;
	else if ((r = oci_cgroup_create(&q, &cg, o->note ? o->note : note, o->note ? o->note_len : sizeof(note), e)) ==
			 0 &&
		 (r = launch(&sb, &prepared, c, fifo, console, &cg, e)) == 0 &&
		 (r = record(dir, o, c, sb.pid, cg.path, e)) == 0)
		r = create_hooks(dir, c, &sb, e);
	if (r < 0 && prepared && sb.pidfd >= 0) { /* started, but not recorded */
		siginfo_t si;
		(void)syscall(SYS_pidfd_send_signal, sb.pidfd, SIGKILL, NULL, 0);
		(void)waitid(P_PIDFD, (id_t)sb.pidfd, &si, WEXITED);
	}
	if (r == 0 && pidfd_out)
		*pidfd_out = TAKE_FD(sb.pidfd);
	if (prepared)
		sandbox_destroy(&sb);
	oci_cgroup_release(&cg, r < 0);
	if (r < 0) {
		struct ubx_err ignored = { 0 };
		(void)oci_state_remove(o->root, o->id, &ignored);
	}
	return r;
}

/* Writes @text and its NUL after start's byte into the exec fifo @fifo
 * (non-blocking; the container's process reads it). */
static int send_start(int fifo, const char *text, struct ubx_err *e)
{
	size_t len = text ? strlen(text) + 1 : 0, done = 0;
	if (len > OCI_START_STATE_MAX)
		return ubx_fail(e, E2BIG, "the state for the startContainer hooks");
	if (write(fifo, "s", 1) != 1)
		return ubx_fail(e, errno, "start the container");
	signal(SIGPIPE, SIG_IGN); /* the process died: EPIPE */
	while (done < len) {
		struct pollfd p = { .fd = fifo, .events = POLLOUT };
		ssize_t k = write(fifo, text + done, len - done);
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return ubx_fail(e, errno, "the state for the startContainer hooks");
		done += k > 0 ? (size_t)k : 0;
		if (done < len && k <= 0)
			(void)poll(&p, 1, 100);
	}
	return 0;
}

/* Waits until the process of @pidfd (@pid, running @before) has executed
 * the container's program after its startContainer hooks; fails when it
 * ended instead. */
static int wait_started(int pidfd, pid_t pid, const char *before, struct ubx_err *e)
{
	for (;;) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		char now[4096];
		ssize_t n = running_what(pid, now, sizeof(now));
		if (n >= 0 && strcmp(now, before) != 0)
			return 0;
		if (n < 0 || poll(&p, 1, 10) > 0)
			return ubx_fail(e, 0, "the container's process ended in its startContainer hooks "
					      "(their error is in its output)");
	}
}

int oci_start(const char *root, const char *id, struct ubx_err *e)
{
	struct oci_state s;
	_cleanup_close_ int dir = oci_state_load(root, id, true, &s, e);
	if (dir < 0)
		return dir;
	int r = 0;
	const char *status = oci_state_status(dir, &s);
	char exe[4096];
	pid_t pid = s.pid;
	_cleanup_close_ int pidfd = oci_state_pidfd(&s);
	oci_state_free(&s);
	if (strcmp(status, "created") != 0)
		return ubx_refuse(e, EINVAL, "cannot start a container that is %s", status);
	_cleanup_hooks_ struct oci_hooks h;
	if ((r = oci_hooks_load(dir, &h, e)) < 0)
		return r;
	bool inside = h.n[OCI_HOOK_START_CONTAINER] > 0;
	ssize_t n = h.n[OCI_HOOK_POSTSTART] || inside ? running_what(pid, exe, sizeof(exe)) : -1;
	_cleanup_free_ char *sent = inside ? hook_state(dir, e) : NULL;
	if (inside && (!sent || n < 0 || pidfd < 0))
		return sent ? ubx_fail(e, errno ? errno : ESRCH, "the container's process") : -EIO;
	_cleanup_close_ int fifo = openat(dir, "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fifo < 0)
		return ubx_fail(e, errno, errno == ENXIO ? "the container's process is gone" : "exec fifo");
	if (unlinkat(dir, "exec.fifo", 0) < 0)
		return ubx_fail(e, errno, "remove the exec fifo");
	if ((r = send_start(fifo, sent, e)) < 0)
		return r;
	if (inside && (r = wait_started(pidfd, pid, exe, e)) < 0)
		return r;
	if (n > 0 && !inside)
		wait_exec(pid, exe);
	struct ubx_err ignore = { 0 };
	_cleanup_free_ char *state = h.n[OCI_HOOK_POSTSTART] && n > 0 ? hook_state(dir, &ignore) : NULL;
	return after_hooks(&h, OCI_HOOK_POSTSTART, state, e);
}

/* Calls @fn for every process in the pid namespace of @s's process. */
static int each_in_pidns(const struct oci_state *s, int (*fn)(pid_t pid, void *arg), void *arg)
{
	char path[64];
	struct stat ns, other;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)s->pid);
	if (stat(path, &ns) < 0)
		return -errno;
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/pid", pid);
		if (stat(path, &other) == 0 && other.st_ino == ns.st_ino && other.st_dev == ns.st_dev)
			r = fn((pid_t)pid, arg);
	}
	closedir(d);
	return r;
}

static int kill_one(pid_t pid, void *arg)
{
	(void)kill(pid, *(int *)arg);
	return 0;
}

int oci_kill(const char *root, const char *id, int sig, bool all, struct ubx_err *e)
{
	struct oci_state s;
	_cleanup_close_ int dir = oci_state_load(root, id, false, &s, e);
	if (dir < 0)
		return dir;
	int r = 0;
	_cleanup_close_ int pidfd = oci_state_pidfd(&s);
	if (pidfd < 0)
		r = ubx_refuse(e, ESRCH, "container %.80s is not running", id);
	else if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		r = ubx_fail(e, errno, "signal %d to container %.80s", sig, id);
	else if (all && s.cgroup[0])
		r = oci_cgroup_signal(s.cgroup, sig, e);
	else if (all && s.own_pidns && sig != SIGKILL) /* SIGKILL to PID 1 ends them all */
		r = each_in_pidns(&s, kill_one, &sig);
	oci_state_free(&s);
	return r < 0 && !e->msg[0] ? ubx_fail(e, -r, "signal the container's processes") : r;
}

/* Kills the process of @pidfd and waits (up to 10 s) until it is gone. */
static int kill_and_wait(int pidfd, struct ubx_err *e)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	if (poll(&p, 1, 10000) != 1)
		return ubx_refuse(e, ETIMEDOUT, "the container's process did not end after SIGKILL");
	return 0;
}

int oci_delete(const char *root, const char *id, bool force, struct ubx_err *e)
{
	struct oci_state s;
	_cleanup_close_ int dir = oci_state_open(root, id, true, e);
	if (dir < 0)
		return dir;
	int r = oci_state_read(dir, &s, e);
	if (r == -ENOENT) /* made, but create failed before it recorded anything */
		return oci_state_remove(root, id, e);
	if (r < 0)
		return r;
	const char *status = oci_state_status(dir, &s);
	if ((strcmp(status, "running") == 0 || strcmp(status, "paused") == 0) && !force)
		r = ubx_refuse(e, EBUSY, "cannot delete container %.80s that is running (use --force)", id);
	else if (strcmp(status, "stopped") != 0) {
		_cleanup_close_ int pidfd = oci_state_pidfd(&s);
		if (s.cgroup[0] && oci_cgroup_frozen(s.cgroup)) /* a frozen process cannot die */
			(void)oci_cgroup_freeze(s.cgroup, false, e);
		r = pidfd < 0 ? 0 : kill_and_wait(pidfd, e);
	}
	if (r == 0 && s.cgroup[0])
		oci_cgroup_remove(s.cgroup); /* and what is left in it */
	oci_state_free(&s);
	if (r < 0)
		return r;
	/* poststop: once the container is gone, from what was kept */
	_cleanup_hooks_ struct oci_hooks h;
	if ((r = oci_hooks_load(dir, &h, e)) < 0)
		return r;
	struct ubx_err ignore = { 0 };
	_cleanup_free_ char *state = h.n[OCI_HOOK_POSTSTOP] ? hook_state(dir, &ignore) : NULL;
	if ((r = oci_state_remove(root, id, e)) < 0)
		return r;
	return after_hooks(&h, OCI_HOOK_POSTSTOP, state, e);
}

struct pid_list {
	pid_t *v;
	size_t n, cap;
};

static int add_pid(pid_t pid, void *arg)
{
	struct pid_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		pid_t *v = realloc(l->v, cap * sizeof(pid_t));
		if (!v)
			return -ENOMEM;
		l->v = v, l->cap = cap;
	}
	l->v[l->n++] = pid;
	return 0;
}

ssize_t oci_pids(const char *root, const char *id, pid_t **out, struct ubx_err *e)
{
	struct oci_state s;
	struct pid_list l = { 0 };
	_cleanup_close_ int dir = oci_state_load(root, id, false, &s, e);
	if (dir < 0)
		return dir;
	int r = 0;
	bool stopped = strcmp(oci_state_status(dir, &s), "stopped") == 0;
	if (s.cgroup[0] && !stopped) {
		oci_state_free(&s);
		return oci_cgroup_pids(s.cgroup, out, e);
	}
	if (!stopped)
		r = s.own_pidns ? each_in_pidns(&s, add_pid, &l) : add_pid(s.pid, &l);
	oci_state_free(&s);
	if (r < 0) {
		free(l.v);
		return ubx_fail(e, -r, "the container's processes");
	}
	*out = l.v;
	return (ssize_t)l.n;
}

int oci_wait_exit(int pidfd)
{
	sigset_t set;
	siginfo_t si = { 0 };
	sigfillset(&set);
	sigdelset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	_cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			break;
		struct signalfd_siginfo info;
		if ((p[1].revents & POLLIN) && read(sfd, &info, sizeof(info)) == sizeof(info))
			(void)syscall(SYS_pidfd_send_signal, pidfd, (int)info.ssi_signo, NULL, 0);
	}
	if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0)
		return 125;
	return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

/* What exec needs from the container: it must run; its config.json. */
static int exec_target(const struct oci_exec_opts *o, struct oci_state *s, struct oci_config *c, struct ubx_err *e)
{
	_cleanup_close_ int dir = oci_state_load(o->root, o->id, false, s, e);
	if (dir < 0)
		return dir;
	int r = 0;
	if (strcmp(oci_state_status(dir, s), "running") != 0)
		r = ubx_refuse(e, EINVAL, "cannot exec in container %.80s: it is not running", o->id);
	else
		r = oci_config_load(s->bundle, c, e);
	if (r < 0)
		oci_state_free(s);
	return r;
}

static int read_small_file(const char *path, char **out, size_t *len, struct ubx_err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = malloc(1 << 20);
	ssize_t n = fd < 0 || !buf ? -1 : read(fd, buf, 1 << 20);
	if (n < 0)
		return ubx_fail(e, fd < 0 || buf ? errno : ENOMEM, "--process %.200s", path);
	*out = TAKE_PTR(buf);
	*len = (size_t)n;
	return 0;
}

static char **strv_concat(char **a, char *const *b)
{
	size_t na = 0, nb = 0;
	while (a && a[na])
		na++;
	while (b && b[nb])
		nb++;
	char **v = calloc(na + nb + 1, sizeof(char *));
	for (size_t i = 0; v && i < na + nb; i++)
		if (!(v[i] = strdup(i < na ? a[i] : b[i - na]))) {
			cleanup_strvp(&v);
			break;
		}
	return v;
}

/* The process to exec: --process, or the container's own with the flags. */
static int exec_process(const struct oci_exec_opts *o, struct oci_config *c, struct ubx_err *e)
{
	struct ubx_spec *s = &c->spec;
	if (o->process_file) {
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		int r = read_small_file(o->process_file, &text, &len, e);
		return r < 0 ? r : oci_process_parse(text, len, c, e);
	}
	if (!o->args || !o->args[0])
		return ubx_refuse(e, EINVAL, "exec needs a command or --process");
	char **args = strv_concat(NULL, o->args), **env = strv_concat(s->env, o->env);
	char *cwd = o->cwd ? strdup(o->cwd) : NULL;
	if (!args || !env || (o->cwd && !cwd)) {
		cleanup_strvp(&args), cleanup_strvp(&env), free(cwd);
		return ubx_fail(e, ENOMEM, "exec");
	}
	cleanup_strvp(&s->args), cleanup_strvp(&s->env);
	s->args = args, s->env = env;
	if (cwd)
		free(s->cwd), s->cwd = cwd;
	if (o->has_user)
		s->uid = o->uid, s->gid = o->gid;
	s->tty = o->tty;
	for (size_t i = 0; i < ARRAY_SIZE(s->oci.caps); i++)
		s->oci.caps[i] |= o->caps_add;
	return 0;
}

/* Whether setgroups() is allowed in the user namespace of @pid (not with a
 * map of one's own id only). */
static bool setgroups_allowed(pid_t pid)
{
	char path[64], buf[8] = "";
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0 || strncmp(buf, "deny", 4) != 0;
}

static int exec_join(const struct oci_exec_opts *o, struct oci_config *c, const struct oci_state *s, int pidfd,
		     struct ubx_err *e)
{
	struct sandbox sb = { .pid = -1, .pidfd = -1 };
	pid_t pid = s->pid;
	_cleanup_close_ int console = -1, pdir = -1, cgroup = -1;
	if (s->cgroup[0] && (cgroup = open(s->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ubx_fail(e, errno, "the container's cgroup %.300s", s->cgroup);
	if (o->pid_file && (pdir = pid_file_dir(o->pid_file, e)) < 0)
		return pdir;
	if (c->spec.tty && !o->console_socket)
		return ubx_refuse(e, EINVAL, "--tty needs --console-socket");
	if (o->console_socket && (console = console_connect(o->console_socket, e)) < 0)
		return console;
	const struct join_request j = { .spec = &c->spec, .init_pidfd = pidfd, .init_pid = pid, .cgroup_fd = cgroup,
					.full_map = setgroups_allowed(pid), .detach = o->detach, .orphan = true, .seccomp = &c->seccomp,
					.console_fd = console, .only_ns = oci_config_ns(c) };
	int r = sandbox_join(&sb, &j, e);
	if (r == 0 && o->pid_file)
		r = write_pid_file(pdir, o->pid_file, sb.pid, e);
	if (r == 0 && !o->detach)
		r = oci_wait_exit(sb.pidfd);
	sandbox_destroy(&sb);
	return r;
}

int oci_exec(const struct oci_exec_opts *o, struct ubx_err *e)
{
	struct oci_state s;
	struct oci_config c;
	int r = exec_target(o, &s, &c, e);
	if (r < 0)
		return r;
	_cleanup_close_ int pidfd = oci_state_pidfd(&s);
	oci_state_free(&s);
	if (pidfd < 0)
		r = ubx_refuse(e, ESRCH, "container %.80s is not running", o->id);
	else if ((r = exec_process(o, &c, e)) == 0)
		r = exec_join(o, &c, &s, pidfd, e);
	oci_config_free(&c);
	return r;
}
