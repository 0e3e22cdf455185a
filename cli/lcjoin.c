/* SPDX-License-Identifier: MIT */
/*
 * lcjoin.c - `usbox exec` and `usbox attach`: into a running container, by
 * its init (sandbox/join.c) or through its supervisor's attach socket.
 */
#include "lifecycle_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fdpass.h"
#include "../common/jsonc.h"
#include "../common/parse.h"
#include "../sandbox/sandbox.h"
#include "../sandbox/specjson.h"

/* ---------------------------------------------------------------- exec */

struct exec_opts {
	bool interactive, tty, detach;
	const char *workdir, *user;
	char **env;   /* -e K=V or K */
	size_t n_env;
	char **cmd;
};

static int parse_exec(int argc, char **argv, struct exec_opts *o, const char **ref, struct ubx_err *e)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--") == 0)
			return ubx_fail(e, 0, "exec: a container comes before --");
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return ubx_fail(e, 0, "exec: see usbox exec --help");
		if ((strcmp(a, "-e") == 0 || strcmp(a, "--env") == 0) && val) {
			o->env[o->n_env++] = argv[++i];
		} else if ((strcmp(a, "-w") == 0 || strcmp(a, "--workdir") == 0) && val) {
			o->workdir = argv[++i];
		} else if ((strcmp(a, "-u") == 0 || strcmp(a, "--user") == 0) && val) {
			o->user = argv[++i];
		} else if (strcmp(a, "--interactive") == 0 || strcmp(a, "--tty") == 0 || strcmp(a, "--detach") == 0) {
			*(a[2] == 'i' ? &o->interactive : a[2] == 't' ? &o->tty : &o->detach) = true;
		} else if (a[1] != '-' && strspn(a + 1, "itd") == strlen(a + 1)) {
			o->interactive |= strchr(a, 'i') != NULL;
			o->tty |= strchr(a, 't') != NULL;
			o->detach |= strchr(a, 'd') != NULL;
		} else {
			return ubx_fail(e, 0, "exec: unknown option '%s' (usage: usbox exec [-i] [-t] [-d] [-e K=V] "
					      "[-w DIR] [-u USER] CONTAINER [--] CMD...)", a);
		}
	}
	if (i >= argc)
		return ubx_fail(e, 0, "exec: usage: usbox exec [OPTIONS] CONTAINER [--] CMD...");
	*ref = argv[i++];
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		return ubx_fail(e, 0, "exec: no command given");
	o->cmd = argv + i;
	return 0;
}

static int set_env(char ***env, const char *kv, struct ubx_err *e)
{
	const char *eq = strchr(kv, '=');
	_cleanup_free_ char *item = NULL;
	if (!eq) { /* a bare name copies the caller's */
		const char *v = getenv(kv);
		if (!v)
			return 0;
		if (asprintf(&item, "%s=%s", kv, v) < 0)
			return ubx_fail(e, ENOMEM, "-e");
	} else if (!(item = strdup(kv))) {
		return ubx_fail(e, ENOMEM, "-e");
	}
	size_t klen = (size_t)(strchr(item, '=') - item), n = 0;
	for (; (*env)[n]; n++)
		if (strncmp((*env)[n], item, klen + 1) == 0) {
			free((*env)[n]);
			(*env)[n] = TAKE_PTR(item);
			return 0;
		}
	char **v = realloc(*env, (n + 2) * sizeof(char *));
	if (!v)
		return ubx_fail(e, ENOMEM, "-e");
	v[n] = TAKE_PTR(item);
	v[n + 1] = NULL;
	*env = v;
	return 0;
}

/* A line of the container's /etc/passwd or /etc/group (resolved inside its
 * root) whose name (field 0) or, with @by_id, id (field 2) is @key: its
 * fields 2 and 3 into @id and @gid. */
static int lookup_inside(pid_t init, const char *file, const char *key, bool by_id, uint32_t *id, uint32_t *gid)
{
	char root[64], line[1024];
	snprintf(root, sizeof(root), "/proc/%d/root", (int)init);
	_cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd = rfd < 0 ? -1 : (int)syscall(SYS_openat2, rfd, file, &how, sizeof(how));
	_cleanup_fclose_ FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), f)) {
		char *field[4] = { line };
		for (int i = 1; i < 4; i++)
			if ((field[i] = field[i - 1] ? strchr(field[i - 1], ':') : NULL))
				*field[i]++ = '\0';
		if (!field[3])
			continue;
		char *end = strchr(field[3], ':');
		if (end)
			*end = '\0';
		if (strcmp(by_id ? field[2] : field[0], key) == 0 && parse_id(field[2], id) == 0)
			return gid && parse_id(field[3], gid) < 0 ? -EINVAL : 0;
	}
	return -ENOENT;
}

/* -u USER[:GROUP]: numbers or the container's names; without a group, the
 * user's own from /etc/passwd (0 when it has no entry), as Docker does. */
static int exec_user(struct ubx_spec *s, pid_t init, const char *user, struct ubx_err *e)
{
	char u[256];
	uint32_t pw_gid = 0;
	snprintf(u, sizeof(u), "%s", user);
	char *g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	if (parse_id(u, &s->uid) == 0)
		(void)lookup_inside(init, "/etc/passwd", u, true, &s->uid, &pw_gid);
	else if (lookup_inside(init, "/etc/passwd", u, false, &s->uid, &pw_gid) < 0)
		return ubx_fail(e, 0, "exec: user %s: not a number, nor in the container's /etc/passwd", u);
	s->gid = pw_gid;
	if (g && parse_id(g, &s->gid) < 0 && lookup_inside(init, "/etc/group", g, false, &s->gid, NULL) < 0)
		return ubx_fail(e, 0, "exec: group %s: not a number, nor in the container's /etc/group", g);
	return 0;
}

/* The container's process spec, with exec's options applied. */
static int exec_spec(struct found *f, const struct exec_opts *o, pid_t init, struct ubx_spec *s, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *j = NULL;
	char what[4400];
	snprintf(what, sizeof(what), "%s/spec.json", f->c.dir);
	int r = lc_load_json(f->c.dir, "spec.json", &j, e);
	if (r < 0 || (r = spec_from_json(j, what, s, e)) < 0)
		return r;
	for (char **a = s->args; *a; a++)
		free(*a);
	free(s->args);
	size_t n = 0;
	while (o->cmd[n])
		n++;
	if (!(s->args = calloc(n + 1, sizeof(char *))))
		return ubx_fail(e, ENOMEM, "exec");
	for (size_t i = 0; i < n; i++)
		if (!(s->args[i] = strdup(o->cmd[i])))
			return ubx_fail(e, ENOMEM, "exec");
	for (size_t i = 0; i < o->n_env; i++)
		if ((r = set_env(&s->env, o->env[i], e)) < 0)
			return r;
	if (o->workdir) {
		if (o->workdir[0] != '/')
			return ubx_fail(e, 0, "exec: -w %s: not an absolute path", o->workdir);
		free(s->cwd);
		if (!(s->cwd = strdup(o->workdir)))
			return ubx_fail(e, ENOMEM, "exec");
	}
	if (o->user && (r = exec_user(s, init, o->user, e)) < 0)
		return r;
	s->tty = o->tty;
	s->interactive = o->interactive;
	return 0;
}

int lc_exec(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	struct exec_opts o = { 0 };
	const char *ref = NULL;
	_cleanup_free_ char **env = calloc((size_t)argc, sizeof(char *));
	if (!(o.env = env))
		return ubx_fail(e, ENOMEM, "exec");
	int r = parse_exec(argc, argv, &o, &ref, e);
	if (r < 0)
		return r;
	if (o.tty && o.detach)
		return ubx_fail(e, 0, "exec: -t and -d: a detached command has no terminal to show");
	struct found f;
	struct ctr_run run;
	struct ubx_spec spec = { 0 };
	struct sandbox sb;
	(void)out;
	if ((r = jsonc_load("usbox exec", e)) < 0 || (r = lc_find(ref, &f, e)) < 0)
		return r;
	_cleanup_close_ int pidfd = lc_init_pidfd(&f, &run, e);
	if (pidfd < 0 || (r = exec_spec(&f, &o, run.init, &spec, e)) < 0) {
		lc_found_close(&f);
		spec_free(&spec);
		return pidfd < 0 ? pidfd : r;
	}
	lc_found_close(&f);
	_cleanup_close_ int cg = run.cgroup[0] ? open(run.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	const struct join_request j = { .spec = &spec, .init_pidfd = pidfd, .init_pid = run.init, .cgroup_fd = cg,
					.full_map = run.full_map,
					.detach = o.detach, .console_fd = -1 };
	if (run.cgroup[0] && cg < 0) {
		r = ubx_fail(e, errno, "the container's cgroup %s", run.cgroup);
	} else {
		if ((r = sandbox_join(&sb, &j, e)) < 0 && sb.exit_status != 125) {
			fprintf(stderr, "usbox: %s\n", e->msg);
			r = sb.exit_status; /* 126, 127: printed here, as it is not usbox that failed */
		} else if (r == 0) { /* exec -d: the first child, which left at once */
			r = o.detach ? 0 : sandbox_wait(&sb, e);
		}
		sandbox_destroy(&sb);
		spec_free(&spec);
		/* This process is in the sandbox's namespaces now, and a child it made
		 * would be born in the sandbox's pid namespace, where it could not see
		 * its parent: leave without atexit handlers (LeakSanitizer's check,
		 * whose tracer is such a child). */
		if (r < 0)
			fprintf(stderr, "usbox: %s\n", e->msg);
		fflush(NULL);
		_exit(r < 0 ? 125 : r);
	}
	spec_free(&spec);
	return r;
}

/* ---------------------------------------------------------------- attach */

#define DETACH_1 0x10 /* ctrl-p */
#define DETACH_2 0x11 /* ctrl-q */

struct attach {
	int sock, master;
	struct termios saved;
	bool raw;
	bool held; /* a ctrl-p waits for what follows */
};

static int attach_connect(const char *id, struct attach *a, struct ubx_err *e)
{
	char dir[4200];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r = ctr_run_dir(id, false, dir, sizeof(dir), e);
	if (r < 0)
		return r;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/attach.sock", dir) >= sizeof(sa.sun_path))
		return ubx_fail(e, ENAMETOOLONG, "attach: %s/attach.sock", dir);
	a->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (a->sock < 0 || connect(a->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return ubx_fail(e, errno, "attach: %s", sa.sun_path);
	char tag;
	a->master = fd_receive(a->sock, &tag);
	return a->master < 0 ? ubx_fail(e, -a->master, "attach: the container gave no terminal") : 0;
}

static void attach_resize(const struct attach *a)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(a->master, TIOCSWINSZ, &ws);
}

/* Input to the pty; false when the user typed ctrl-p ctrl-q. */
static bool attach_input(struct attach *a, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a->held) {
			a->held = false;
			if (buf[i] == DETACH_2)
				return false;
			(void)!write(a->master, "\x10", 1);
		}
		if (buf[i] == DETACH_1) {
			a->held = true;
			continue;
		}
		(void)!write(a->master, buf + i, 1);
	}
	return true;
}

static int attach_loop(struct attach *a)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	_cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	char buf[65536];
	for (;;) {
		struct pollfd p[3] = { { .fd = a->sock, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(a->sock, buf, sizeof(buf), 0);
			if (n <= 0)
				return 1; /* the container ended */
			(void)!write(STDOUT_FILENO, buf, (size_t)n);
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n > 0 && !attach_input(a, buf, (size_t)n))
				return 0;
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			(void)!read(sfd, &si, sizeof(si));
			attach_resize(a);
		}
	}
}

int lc_attach(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	(void)out;
	if (argc != 2)
		return ubx_fail(e, 0, "attach: usage: usbox attach CONTAINER (ctrl-p ctrl-q detaches)");
	struct found f;
	struct ctr_run run;
	struct attach a = { .sock = -1, .master = -1 };
	int r = jsonc_load("usbox attach", e);
	if (r < 0 || (r = lc_find(argv[1], &f, e)) < 0)
		return r;
	int pidfd = lc_init_pidfd(&f, &run, e);
	if (pidfd < 0) {
		lc_found_close(&f);
		return pidfd;
	}
	close(pidfd);
	if ((r = attach_connect(f.c.id, &a, e)) < 0) {
		lc_found_close(&f);
		if (a.sock >= 0)
			close(a.sock);
		return ubx_fail(e, 0, "container %s has no terminal to attach to (run it with -t; usbox logs -f %s shows "
				      "its output)", lc_label(&f.c), argv[1]);
	}
	attach_resize(&a);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &a.saved) == 0) {
		struct termios raw = a.saved;
		cfmakeraw(&raw);
		a.raw = tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
	}
	r = attach_loop(&a);
	if (a.raw)
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &a.saved);
	close(a.sock), close(a.master);
	if (r == 0) {
		fprintf(stderr, "\r\nusbox: detached from %s (still running)\n", argv[1]);
		lc_found_close(&f);
		return 0;
	}
	/* it ended: its status is ours */
	struct ctr_state s;
	struct ubx_err ignore;
	(void)container_wait(&f.st, &f.c, 10000, &ignore);
	r = ctr_state_read(f.c.dir, &s, &ignore) == 0 && s.exit_code >= 0 ? s.exit_code : 0;
	lc_found_close(&f);
	return r;
}
