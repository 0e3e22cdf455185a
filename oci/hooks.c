/* SPDX-License-Identifier: MIT */
/*
 * hooks.c - running the runtime-spec's hooks (see hooks.h).
 *
 * DOC: Theory of operation
 * A hook is a program of the engine's, run as the runtime runs (same user,
 * same namespaces), never inside the container.  Its stdin is a memfd
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "fields.h"

#define HOOKS_FILE "hooks.json"
#define HOOKS_MAX (1u << 20)

static const char *const kind_names[] = { "prestart", "createRuntime", "poststart", "poststop" };

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

static int run_one(const struct oci_hook *h, const char *kind, const char *state, struct ubx_err *e)
{
	size_t len = strlen(state);
	_cleanup_close_ int in = memfd_create("usbox-hook-state", MFD_CLOEXEC);
	_cleanup_close_ int out = memfd_create("usbox-hook-output", MFD_CLOEXEC);
	if (in < 0 || out < 0 || write(in, state, len) != (ssize_t)len || lseek(in, 0, SEEK_SET) < 0)
		return ubx_fail(e, errno, "%s hook %.200s", kind, h->path);
	pid_t pid = fork();
	if (pid < 0)
		return ubx_fail(e, errno, "%s hook %.200s", kind, h->path);
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

int oci_hooks_run(const struct oci_hooks *h, enum oci_hook_kind kind, const char *state, struct ubx_err *e)
{
	/* after start, the rest run as if one that failed had not (the spec) */
	bool go_on = kind == OCI_HOOK_POSTSTART || kind == OCI_HOOK_POSTSTOP;
	struct ubx_err later = { 0 };
	int r = 0;
	for (size_t i = 0; i < h->n[kind] && (r == 0 || go_on); i++) {
		int q = run_one(&h->v[kind][i], kind_names[kind], state, r < 0 ? &later : e);
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
	static const char *const keys[] = { "prestart", "createRuntime", "poststart", "poststop",
					    "createContainer", "startContainer", NULL };
	char f[OCI_FIELD], g[OCI_FIELD];
	int r = oci_field_known_keys(x, o, base, keys);
	for (int k = 0; r == 0 && keys[k]; k++) {
		struct json_object *list = jsonc_member(o, keys[k]);
		size_t n = 0;
		if (!list || (r = oci_field_array(x, list, oci_field_at(f, base, keys[k]), &n)) < 0 || !n)
			continue;
		if (k >= OCI_HOOK_KINDS) /* they run inside the container */
			return oci_field_bad(x, f, "hooks are not supported by usbox-oci yet");
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

int oci_hooks_save(int dir, const struct oci_hooks *h, struct ubx_err *e)
{
	if (!h->json || (!h->n[OCI_HOOK_POSTSTART] && !h->n[OCI_HOOK_POSTSTOP]))
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
