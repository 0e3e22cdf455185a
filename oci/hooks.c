/* SPDX-License-Identifier: MIT */
/*
 * hooks.c - running the runtime-spec's hooks (see hooks.h).
 *
 * DOC: Theory of operation
 * A hook is a program of the engine's, run as the runtime runs (same user,
 * same namespaces), but createContainer's: run_one()'s child for it opens
 * the file here, copies it into a sealed memfd, turns non-dumpable, joins
 * the container's namespaces and forks the hook there from the copy (a
 * script's interpreter reads the copy by /dev/fd/3), so the hook holds no
 * descriptor, cwd, root or exe of the host's.  startContainer's run in the
 * container's process (runtime.c's callback).  A hook's stdin is a memfd
 * holding the state (no pipe: a hook that does not read cannot block or
 * SIGPIPE us), its stdout and stderr another memfd, whose start goes into
 * the error when it fails.  The hooks start and delete run are kept in the
 * state directory at create (hooks.json), as config.json may change or go.
 */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "fields.h"

#define HOOKS_FILE "hooks.json"
#define HOOKS_MAX (1u << 20)
#define HOOK_EXE_MAX (512 << 20) /* a hook copied for a container */
#ifdef MFD_EXEC
#define MFD_EXEC_IF_KNOWN MFD_EXEC
#else
#define MFD_EXEC_IF_KNOWN 0x10U /* Linux 6.3 */
#endif

static const char *const kind_names[] = { "prestart",        "createRuntime",  "poststart", "poststop",
					  "createContainer", "startContainer", NULL };

/* Where a hook runs: here (pidfd -1), or in the namespaces @flags of @pidfd's process. */
struct place {
	int pidfd;
	int flags;
};

/* The child: stdin and output set, then the hook. */
static _Noreturn void exec_hook(const struct oci_hook *h, int in, int out)
{
	char *argv0[] = { h->path, NULL }, *envp0[] = { NULL };
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(h->path, h->args ? h->args : argv0, h->env ? h->env : envp0);
	dprintf(2, "%s", strerror(errno));
	_exit(127);
}

/* Waits for @pid up to @timeout seconds (0: no limit); kills it after.
 * Return: its wait status, or -ETIMEDOUT. */
static int wait_hook(pid_t pid, int timeout)
{
	int status, pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool late = false;
	if (pidfd >= 0 && timeout > 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int n;
		while ((n = poll(&p, 1, timeout * 1000)) < 0 && errno == EINTR)
			;
		if (n == 0) {
			late = true;
			(void)kill(pid, SIGKILL);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return late ? -ETIMEDOUT : status;
}

/* A sealed copy of the file @fd in a memfd (close-on-exec unless it is a
 * script, whose interpreter reads it by /dev/fd), or a negative errno. */
static int sealed_copy(int fd)
{
	struct stat st;
	char magic[2] = "";
	if (fstat(fd, &st) < 0 || pread(fd, magic, 2, 0) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size > HOOK_EXE_MAX)
		return -EACCES;
	bool script = magic[0] == '#' && magic[1] == '!';
	unsigned flags = MFD_ALLOW_SEALING | (script ? 0 : MFD_CLOEXEC);
	int m = memfd_create("usbox-hook", flags | MFD_EXEC_IF_KNOWN);
	if (m < 0 && errno == EINVAL)
		m = memfd_create("usbox-hook", flags);
	if (m < 0)
		return -errno;
	for (off_t left = st.st_size; left > 0;) {
		ssize_t n = sendfile(m, fd, NULL, (size_t)left);
		if (n <= 0) {
			close(m);
			return n < 0 ? -errno : -EIO;
		}
		left -= n;
	}
	if (fchmod(m, 0555) < 0 ||
	    fcntl(m, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		close(m);
		return -errno;
	}
	return m;
}

/* The child of a hook that runs in a container's namespaces: not dumpable
 * while it holds the runtime's fds, it opens the hook here, joins, and
 * forks the hook (which lands in the pid namespace), whose end it passes on. */
static _Noreturn void exec_hook_in(const struct oci_hook *h, int in, int out, const struct place *at)
{
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	_cleanup_close_ int file = open(h->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int exe = file < 0 ? -errno : sealed_copy(file);
	if (exe < 0) {
		dprintf(out, "%s", strerror(-exe));
		_exit(127);
	}
	if (setns(at->pidfd, at->flags) < 0 ||
	    ((at->flags & CLONE_NEWUSER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))) {
		dprintf(out, "join the container: %s", strerror(errno));
		_exit(126);
	}
	pid_t pid = fork(); /* its parent is outside its pid namespace: getppid() is 0 */
	if (pid == 0) {
		char *argv0[] = { h->path, NULL }, *envp0[] = { NULL };
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || dup2(in, 0) < 0 ||
		    dup2(out, 1) < 0 || dup2(out, 2) < 0 || dup2(exe, 3) < 0 || syscall(SYS_close_range, 4, ~0U, 0) < 0)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		syscall(SYS_execveat, 3, "", h->args ? h->args : argv0, h->env ? h->env : envp0, AT_EMPTY_PATH);
		dprintf(2, "%s", strerror(errno));
		_exit(127);
	}
	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid < 0 || !WIFSIGNALED(status))
		_exit(pid < 0 ? 126 : WEXITSTATUS(status));
	signal(WTERMSIG(status), SIG_DFL);
	raise(WTERMSIG(status));
	_exit(128 + WTERMSIG(status));
}

static int run_one(const struct oci_hook *h, const char *kind, const char *state, const struct place *at,
		   struct ubx_err *e)
{
	size_t len = strlen(state);
	_cleanup_close_ int in = memfd_create("usbox-hook-state", MFD_CLOEXEC);
	_cleanup_close_ int out = memfd_create("usbox-hook-output", MFD_CLOEXEC);
	if (in < 0 || out < 0 || write(in, state, len) != (ssize_t)len || lseek(in, 0, SEEK_SET) < 0)
		return ubx_fail(e, errno, "%s hook %.200s", kind, h->path);
	pid_t pid = fork();
	if (pid < 0)
		return ubx_fail(e, errno, "%s hook %.200s", kind, h->path);
	if (pid == 0 && at->pidfd >= 0)
		exec_hook_in(h, in, out, at);
	if (pid == 0)
		exec_hook(h, in, out);
	int status = wait_hook(pid, h->timeout);
	if (status == -ETIMEDOUT)
		return ubx_fail(e, ETIMEDOUT, "%s hook %.200s: killed after its timeout of %d s", kind, h->path,
				h->timeout);
	if (status < 0)
		return ubx_fail(e, -status, "%s hook %.200s", kind, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	char said[200] = "";
	ssize_t n = pread(out, said, sizeof(said) - 1, 0);
	said[n > 0 ? n : 0] = '\0';
	said[strcspn(said, "\n")] = '\0';
	if (WIFSIGNALED(status))
		return ubx_fail(e, 0, "%s hook %.200s: killed by signal %d%s%s", kind, h->path, WTERMSIG(status),
				said[0] ? ": " : "", said);
	return ubx_fail(e, 0, "%s hook %.200s: exit status %d%s%s", kind, h->path, WEXITSTATUS(status),
			said[0] ? ": " : "", said);
}

static int run_all(const struct oci_hooks *h, enum oci_hook_kind kind, const char *state, const struct place *at,
		   struct ubx_err *e)
{
	/* after start, the rest run as if one that failed had not (the spec) */
	bool go_on = kind == OCI_HOOK_POSTSTART || kind == OCI_HOOK_POSTSTOP;
	struct ubx_err later = { 0 };
	int r = 0;
	for (size_t i = 0; i < h->n[kind] && (r == 0 || go_on); i++) {
		int q = run_one(&h->v[kind][i], kind_names[kind], state, at, r < 0 ? &later : e);
		if (r == 0)
			r = q;
	}
	return r;
}

/* One hook: path (absolute), args, env, timeout. */
static int parse_hook(const struct oci_fields *x, struct json_object *o, const char *f, struct oci_hook *h)
{
	static const char *const keys[] = { "path", "args", "env", "timeout", NULL };
	char g[OCI_FIELD];
	int64_t timeout = 0;
	int r;
	if ((r = oci_field_expect(x, o, json_type_object, f)) < 0 || (r = oci_field_known_keys(x, o, f, keys)) < 0)
		return r;
	if (!jsonc_member(o, "path"))
		return oci_field_bad(x, oci_field_at(g, f, "path"), "missing");
	if ((r = oci_field_string(x, jsonc_member(o, "path"), oci_field_at(g, f, "path"), &h->path)) < 0 ||
	    (jsonc_member(o, "args") &&
	     (r = oci_field_strv(x, jsonc_member(o, "args"), oci_field_at(g, f, "args"), &h->args)) < 0) ||
	    (jsonc_member(o, "env") &&
	     (r = oci_field_strv(x, jsonc_member(o, "env"), oci_field_at(g, f, "env"), &h->env)) < 0) ||
	    (r = oci_field_integer(x, o, "timeout", f, 1, 86400, &timeout, NULL)) < 0)
		return r;
	if (h->path[0] != '/')
		return oci_field_bad(x, oci_field_at(g, f, "path"), "\"%.60s\" is not absolute", h->path);
	h->timeout = (int)timeout;
	return 0;
}

int oci_hooks_parse_obj(const struct oci_fields *x, struct json_object *o, const char *base, struct oci_hooks *h)
{
	const char *const *keys = kind_names;
	char f[OCI_FIELD], g[OCI_FIELD];
	int r = oci_field_known_keys(x, o, base, keys);
	for (int k = 0; r == 0 && keys[k]; k++) {
		struct json_object *list = jsonc_member(o, keys[k]);
		size_t n = 0;
		if (!list || (r = oci_field_array(x, list, oci_field_at(f, base, keys[k]), &n)) < 0 || !n)
			continue;
		if (!(h->v[k] = calloc(n, sizeof(struct oci_hook))))
			return ubx_fail(x->e, ENOMEM, "%s", x->what);
		for (size_t i = 0; i < n && r == 0; i++, h->n[k]++)
			r = parse_hook(x, jsonc.json_object_array_get_idx(list, i), oci_field_at_index(g, f, i),
				       &h->v[k][i]);
	}
	if (r == 0 && !(h->json = strdup(jsonc.json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, NULL))))
		return ubx_fail(x->e, ENOMEM, "%s", x->what);
	return r;
}

int oci_hooks_parse(const char *text, size_t len, struct oci_hooks *h, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct oci_fields x = { .e = e, .what = "hooks.json", .sep = ": " };
	*h = (struct oci_hooks){ 0 };
	int r = jsonc_parse(text, len, HOOKS_MAX, "hooks.json", &o, e);
	if (r == 0 && (r = oci_field_expect(&x, o, json_type_object, "hooks")) == 0)
		r = oci_hooks_parse_obj(&x, o, "hooks", h);
	if (r < 0)
		oci_hooks_free(h);
	return r;
}

int oci_hooks_run(const struct oci_hooks *h, enum oci_hook_kind kind, const char *state, struct ubx_err *e)
{
	return run_all(h, kind, state, &(struct place){ .pidfd = -1 }, e);
}

/* The namespaces of the process @pid (@pidfd) that are not this process's. */
static int other_namespaces(pid_t pid, int pidfd, struct ubx_err *e)
{
	static const char *const names[] = { "user", "mnt", "pid", "uts", "ipc", "net", "cgroup" };
	static const int flag[] = { CLONE_NEWUSER, CLONE_NEWNS,	 CLONE_NEWPID,	  CLONE_NEWUTS,
				    CLONE_NEWIPC,  CLONE_NEWNET, CLONE_NEWCGROUP };
	int flags = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char mine[64], theirs[64];
		struct stat a, b;
		snprintf(mine, sizeof(mine), "/proc/self/ns/%s", names[i]);
		snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)pid, names[i]);
		if (stat(mine, &a) < 0 || stat(theirs, &b) < 0)
			return ubx_fail(e, errno, "the container's %s namespace", names[i]);
		if (a.st_ino != b.st_ino || a.st_dev != b.st_dev)
			flags |= flag[i];
	}
	/* still the process @pidfd holds: @pid was not reused meanwhile */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return ubx_fail(e, errno, "the container's process");
	return flags;
}

int oci_hooks_run_in(const struct oci_hooks *h, enum oci_hook_kind kind, const char *state, pid_t pid, int pidfd,
		     struct ubx_err *e)
{
	if (!h->n[kind])
		return 0;
	int flags = other_namespaces(pid, pidfd, e);
	return flags < 0 ? flags : run_all(h, kind, state, &(struct place){ .pidfd = pidfd, .flags = flags }, e);
}

int oci_hooks_save(int dir, const struct oci_hooks *h, struct ubx_err *e)
{
	if (!h->json || (!h->n[OCI_HOOK_POSTSTART] && !h->n[OCI_HOOK_POSTSTOP] && !h->n[OCI_HOOK_START_CONTAINER]))
		return 0;
	size_t len = strlen(h->json);
	_cleanup_close_ int fd = openat(dir, HOOKS_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, h->json, len) != (ssize_t)len)
		return ubx_fail(e, errno ? errno : EIO, "keep the hooks");
	return 0;
}

int oci_hooks_load(int dir, struct oci_hooks *h, struct ubx_err *e)
{
	struct stat st;
	*h = (struct oci_hooks){ 0 };
	_cleanup_close_ int fd = openat(dir, HOOKS_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : ubx_fail(e, errno, "the kept hooks");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > HOOKS_MAX)
		return ubx_fail(e, EINVAL, "the kept hooks");
	_cleanup_free_ char *text = malloc((size_t)st.st_size + 1);
	if (!text)
		return ubx_fail(e, ENOMEM, "the kept hooks");
	ssize_t n = read(fd, text, (size_t)st.st_size);
	if (n != st.st_size)
		return ubx_fail(e, n < 0 ? errno : EIO, "the kept hooks");
	return oci_hooks_parse(text, (size_t)n, h, e);
}

void oci_hooks_free(struct oci_hooks *h)
{
	for (int k = 0; k < OCI_HOOK_KINDS; k++) {
		for (size_t i = 0; i < h->n[k]; i++) {
			free(h->v[k][i].path);
			cleanup_strvp(&h->v[k][i].args);
			cleanup_strvp(&h->v[k][i].env);
		}
		free(h->v[k]);
	}
	free(h->json);
	*h = (struct oci_hooks){ 0 };
}
