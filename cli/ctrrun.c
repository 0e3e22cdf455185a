/* SPDX-License-Identifier: MIT */
/*
 * ctrrun.c - `usbox run`: a plain sandbox, whose supervisor is usbox itself;
 * and a container: with --image, --name or -d the
 * sandbox gets a record in the store (image/container.h), its spec and
 * state beside it (container/state.h), so that ps, exec, stop, logs and
 * inspect find it; with -d it runs under a supervisor of its own session
 * (container/monitor.h) and usbox returns once the command has started.
 */
#include "ctrrun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "../common/proctitle.h"
#include "../container/monitor.h"
#include "../sandbox/specjson.h"
#include "hostview.h"
#include "imagerun.h"

#define EXIT_USBOX 125

/* A name for an unnamed container, as Docker gives one: adjective_noun. */
static void make_name(char *buf, size_t len)
{
	static const char *const adj[] = { "brave",  "calm",   "eager", "fond",  "gentle", "happy", "keen",  "lucid",
					   "merry",  "nimble", "proud", "quiet", "rapid",  "sharp", "tender", "vivid" };
	static const char *const noun[] = { "ada",    "babbage", "curie", "darwin",  "euler",  "fermi",  "galois", "hopper",
					    "jepsen", "knuth",   "lovelace", "meitner", "noether", "pascal", "ritchie", "turing" };
	unsigned char r[3] = { 0 };
	(void)!getrandom(r, sizeof(r), 0);
	snprintf(buf, len, "%s_%s%u", adj[r[0] % ARRAY_SIZE(adj)], noun[r[1] % ARRAY_SIZE(noun)], r[2] % 100);
}

/* A host-view sandbox's record: no image, no layer. */
static int host_prepare(struct cli_options *o, struct container *c, struct ubx_err *e)
{
	struct store st;
	int r = store_open(&st, true, e);
	if (r < 0)
		return r;
	r = container_create(&st, NULL, o->ctr_name, !o->keep, c, e);
	if (r == 0 && (c->hold = container_hold(&st, c, false, e)) < 0) {
		struct ubx_err ignore;
		r = c->hold;
		(void)container_remove(&st, c, &ignore);
	}
	store_close(&st);
	return r;
}

/* After the end: the record goes unless the container is kept. */
static int finish(const struct cli_options *o, struct container *c, struct ubx_err *e)
{
	if (o->image)
		return cli_image_finish(o, c, e);
	if (c->hold >= 0)
		close(c->hold);
	c->hold = -1;
	if (o->keep)
		return 0;
	struct store st;
	int r = store_open(&st, true, e);
	if (r == 0)
		r = container_remove(&st, c, e);
	store_close(&st);
	return r;
}

static int write_spec(const struct container *c, const struct ubx_spec *s, struct ubx_err *e)
{
	char path[4300];
	_cleanup_json_ struct json_object *o = NULL;
	int r = jsonc_load("the container's spec", e);
	if (r < 0 || (r = spec_to_json(s, &o, e)) < 0)
		return r;
	size_t n;
	const char *text = jsonc.json_object_to_json_string_length(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	snprintf(path, sizeof(path), "%s/spec.json", c->dir);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !text || write(fd, text, n) != (ssize_t)n)
		return ubx_fail(e, errno ? errno : ENOMEM, "%s", path);
	return 0;
}

static int fail(const struct ubx_err *e)
{
	fprintf(stderr, "usbox: %s\n", e->msg);
	return EXIT_USBOX;
}

/* An image container's root, once it runs: fuse-overlayfs recorded, and a
 * line into @notice when the kernel's overlayfs was refused. */
static void image_started(const struct cli_options *o, struct container *c, const struct sandbox *sb, char *notice,
			  size_t len)
{
	struct ubx_err e = { 0 };
	notice[0] = '\0';
	if (o->image && c && cli_image_started(c, sb, notice, len, &e) < 0)
		snprintf(notice, len, "%s", e.msg); /* the command runs: only told */
}

/* The foreground: this process is the supervisor (of the container @c when @m). */
static int supervise(struct cli_options *o, const char *notice, struct ctr_monitor *m, struct container *c,
		     void (*report_end)(const struct cli_options *, const struct sandbox *))
{
	struct ubx_err e = { 0 };
	struct sandbox sb;
	char told[512];
	int status;
	if (sandbox_prepare(&sb, &o->spec, &e) < 0) {
		status = fail(&e);
	} else {
		if (sb.plan.warning[0])
			fprintf(stderr, "usbox: warning: %s\n", sb.plan.warning);
		if (notice[0])
			fprintf(stderr, "usbox: %s\n", notice);
		if (sandbox_start(&sb, &e) < 0) {
			fail(&e);
			status = sb.exit_status;
		} else if (m && ctr_mark_running(m, &sb, &e) < 0) {
			status = fail(&e);
		} else {
			image_started(o, c, &sb, told, sizeof(told));
			if (told[0])
				fprintf(stderr, "usbox: %s\n", told);
			if ((status = sandbox_wait(&sb, &e)) < 0) {
				status = fail(&e);
			} else {
				if (m)
					ctr_mark_exited(m, status, sb.oom_killed);
				report_end(o, &sb);
			}
		}
	}
	if (m)
		ctr_monitor_end(m);
	sandbox_destroy(&sb);
	return status;
}

static int foreground(struct cli_options *o, struct container *c, const char *notice,
		      void (*report_end)(const struct cli_options *, const struct sandbox *))
{
	struct ubx_err e = { 0 };
	struct ctr_monitor m;
	if (ctr_monitor_init(&m, c->id, c->dir, &e) < 0)
		return fail(&e);
	return supervise(o, notice, &m, c, report_end);
}

/* What the supervisor of a detached container tells `usbox run -d`. */
struct start_report {
	int status; /* 0: started; else what usbox exits with */
	struct ubx_err err;
	char warning[512];
};

static void send_report(int fd, int status, const struct ubx_err *e, const char *warning)
{
	struct start_report rep = { .status = status };
	if (e)
		rep.err = *e;
	snprintf(rep.warning, sizeof(rep.warning), "%s", warning ? warning : "");
	(void)!write(fd, &rep, sizeof(rep));
	close(fd);
}

/* Makes fd 0 /dev/null and 1, 2 the write ends of @out and @err. */
static int detached_stdio(int out[2], int err[2], struct ubx_err *e)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		return ubx_fail(e, errno, "the container's output pipes");
	if (dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
		return ubx_fail(e, errno, "dup2");
	close(out[1]), close(err[1]), close(null);
	return 0;
}

/* The detached supervisor, in a session of its own. */
static _Noreturn void monitor_main(struct cli_options *o, struct container *c, int report)
{
	struct ubx_err e = { 0 };
	struct sandbox sb = { .pid = -1 }; /* sandbox_prepare() fills it */
	struct ctr_monitor m;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, status = EXIT_USBOX;
	char title[300];
	snprintf(title, sizeof(title), "usbox-monitor %s", c->name[0] ? c->name : c->id);
	proctitle_set(title);
	(void)setsid();
	o->spec.interactive = false; /* input comes through usbox attach, to the pty */
	bool prepared = false, started = false;
	int r = ctr_monitor_init(&m, c->id, c->dir, &e);
	if (r == 0)
		r = detached_stdio(out, err, &e);
	prepared = r == 0;
	if (r == 0)
		r = sandbox_prepare(&sb, &o->spec, &e);
	if (r == 0 && (r = sandbox_start(&sb, &e)) < 0)
		status = sb.exit_status;
	if (r == 0 && (r = ctr_mark_running(&m, &sb, &e)) == 0)
		r = ctr_monitor_detach(&m, out[0], err[0], o->log_max_size, o->log_max_files, &e);
	started = r == 0;
	char told[512] = "";
	if (started)
		image_started(o, c, &sb, told, sizeof(told));
	/* from here on, only the command writes to the pipes */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	(void)dup2(null, 1), (void)dup2(null, 2);
	if (null > 2)
		close(null);
	if (!started) {
		send_report(report, status, &e, NULL);
		if (prepared)
			sandbox_destroy(&sb);
		ctr_monitor_end(&m);
		o->keep = false; /* nothing stays of a container that did not start */
		(void)finish(o, c, &e);
		_exit(status);
	}
	char warning[sizeof(((struct start_report *)0)->warning)];
	snprintf(warning, sizeof(warning), "%.250s%s%.250s", sb.plan.warning, sb.plan.warning[0] && told[0] ? "; " : "",
		 told);
	send_report(report, 0, NULL, warning);
	status = sandbox_wait(&sb, &e);
	ctr_monitor_close(&m);
	ctr_mark_exited(&m, status < 0 ? -1 : status, sb.oom_killed);
	sandbox_destroy(&sb);
	(void)finish(o, c, &e);
	_exit(0);
}

/* `usbox run -d`: start the supervisor, wait for its word. */
static int detached(struct cli_options *o, struct container *c, const char *notice)
{
	int p[2];
	struct start_report rep;
	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "usbox: pipe: %m\n");
		return EXIT_USBOX;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		monitor_main(o, c, p[1]);
	}
	close(p[1]);
	if (pid < 0) {
		fprintf(stderr, "usbox: fork: %m\n");
		close(p[0]);
		return EXIT_USBOX;
	}
	if (c->hold >= 0) /* the supervisor holds the container now */
		close(c->hold);
	c->hold = -1;
	ssize_t n = read(p[0], &rep, sizeof(rep));
	close(p[0]);
	if (n != sizeof(rep)) {
		fprintf(stderr, "usbox: the container's supervisor ended while starting it\n");
		return EXIT_USBOX;
	}
	rep.err.msg[sizeof(rep.err.msg) - 1] = rep.warning[sizeof(rep.warning) - 1] = '\0';
	if (rep.status != 0) {
		fprintf(stderr, "usbox: %s\n", rep.err.msg);
		return rep.status;
	}
	if (rep.warning[0])
		fprintf(stderr, "usbox: warning: %s\n", rep.warning);
	if (notice[0])
		fprintf(stderr, "usbox: %s\n", notice);
	printf("%s\n", c->id);
	return 0;
}

static int run_container(struct cli_options *o, char *const *environ, const char *cwd,
			 void (*report_end)(const struct cli_options *, const struct sandbox *))
{
	struct ubx_err e = { 0 };
	struct container c = { .hold = -1 };
	char notice[512], name[64];
	int status, r;

	if (!o->spec.name)
		make_name(name, sizeof(name));
	o->ctr_name = o->spec.name ? o->spec.name : name;
	r = o->image ? cli_image_prepare(o, environ, &c, &e) : host_prepare(o, &c, &e);
	if (r < 0)
		return fail(&e);
	if (cli_finish_spec(o, environ, cwd, notice, sizeof(notice), &e) < 0 || write_spec(&c, &o->spec, &e) < 0) {
		status = fail(&e);
		o->keep = false;
	} else if (o->detach) {
		return detached(o, &c, notice);
	} else {
		status = foreground(o, &c, notice, report_end);
	}
	if (finish(o, &c, &e) < 0)
		fail(&e); /* the command's status stands */
	return status;
}

int cli_run(struct cli_options *o, char *const *environ, const char *cwd,
	    void (*report_end)(const struct cli_options *, const struct sandbox *))
{
	struct ubx_err e = { 0 };
	char notice[512];
	if (o->image || o->spec.name || o->detach)
		return run_container(o, environ, cwd, report_end);
	if (cli_finish_spec(o, environ, cwd, notice, sizeof(notice), &e) < 0)
		return fail(&e);
	return supervise(o, notice, NULL, NULL, report_end);
}
