/* SPDX-License-Identifier: MIT */
/*
 * lifecycle.c - `usbox ps|logs|exec|stop|kill|wait|inspect|attach`: the
 * containers that run (or ran) with a record in the store, as Docker spells
 * these commands.  Whether a container runs is its record's lock
 * (container_running()); how to reach it is run.json, trusted only with a
 * pidfd whose start time matches (ctr_init_pidfd()).
 */
#include "lifecycle.h"
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
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fdpass.h"
#include "../common/jsonc.h"
#include "../common/parse.h"
#include "../container/log.h"
#include "../container/state.h"
#include "../image/container.h"
#include "../sandbox/sandbox.h"
#include "../sandbox/specjson.h"

extern char **environ;

/* ---------------------------------------------------------------- finding */

int lc_find(const char *ref, struct found *f, struct ubx_err *e)
{
	int r = store_open(&f->st, false, e);
	if (r < 0)
		return r;
	r = container_find(&f->st, ref, &f->c, e);
	close(f->st.lock);
	f->st.lock = -1;
	if (r < 0) {
		close(f->st.dir);
		f->st.dir = -1;
	}
	return r;
}

void lc_found_close(struct found *f)
{
	if (f->st.dir >= 0)
		close(f->st.dir);
	f->st.dir = -1;
}

const char *lc_label(const struct container *c)
{
	return c->name[0] ? c->name : c->id;
}

int lc_init_pidfd(struct found *f, struct ctr_run *run, struct ubx_err *e)
{
	struct ubx_err ignore;
	if (!container_running(&f->st, &f->c) || ctr_run_find(f->c.id, f->c.dir, run, &ignore) < 0)
		return ubx_fail(e, 0, "container %s is not running", lc_label(&f->c));
	int fd = ctr_init_pidfd(run);
	return fd < 0 ? ubx_fail(e, 0, "container %s is not running", lc_label(&f->c)) : fd;
}

int lc_load_json(const char *cdir, const char *file, struct json_object **o, struct ubx_err *e)
{
	char path[4400], text[1 << 16];
	snprintf(path, sizeof(path), "%s/%s", cdir, file);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ubx_fail(e, errno, "%s", path);
	ssize_t n = read(fd, text, sizeof(text));
	if (n < 0)
		return ubx_fail(e, errno, "%s", path);
	return jsonc_parse(text, (size_t)n, sizeof(text), path, o, e);
}

/* ---------------------------------------------------------------- signals */

static int send_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

/* Waits until the process of @pidfd has ended, at most @ms (negative: for ever). */
static bool pidfd_wait(int pidfd, int ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int r;
	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return r > 0;
}

/* ---------------------------------------------------------------- ps */

struct ps_opts {
	bool all, quiet, json;
	FILE *out;
	struct store *st;
	struct json_object *arr;
};

static void human_age(const char *when, char *buf, size_t len)
{
	struct tm tm = { 0 };
	if (!when[0] || !strptime(when, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	long d = (long)(time(NULL) - timegm(&tm));
	if (d < 1)
		snprintf(buf, len, "0 seconds");
	else if (d < 60)
		snprintf(buf, len, "%ld second%s", d, d == 1 ? "" : "s");
	else if (d < 3600)
		snprintf(buf, len, "%ld minute%s", d / 60, d / 60 == 1 ? "" : "s");
	else if (d < 86400)
		snprintf(buf, len, "%ld hour%s", d / 3600, d / 3600 == 1 ? "" : "s");
	else
		snprintf(buf, len, "%ld day%s", d / 86400, d / 86400 == 1 ? "" : "s");
}

/* What ps says of a container's state, and its exit code (-1: none, unknown). */
static const char *describe(struct store *st, const struct container *c, struct ctr_state *s, char *status,
			    size_t len)
{
	struct ubx_err ignore;
	char age[64];
	bool running = container_running(st, c);
	if (ctr_state_read(c->dir, s, &ignore) < 0)
		*s = (struct ctr_state){ .status = CTR_CREATED, .exit_code = -1 };
	if (running) {
		human_age(s->started, age, sizeof(age));
		snprintf(status, len, "Up %s", age);
		return "running";
	}
	if (s->status == CTR_CREATED) {
		snprintf(status, len, "Created");
		return "created";
	}
	if (s->status == CTR_RUNNING) /* its supervisor died, or the machine went down */
		s->exit_code = -1;
	human_age(s->finished[0] ? s->finished : s->started, age, sizeof(age));
	if (s->exit_code < 0)
		snprintf(status, len, "Exited (unknown)");
	else
		snprintf(status, len, "Exited (%d) %s ago", s->exit_code, age);
	return "exited";
}

/* The command line and ports from spec.json, for ps. */
static void spec_summary(const struct container *c, char *cmd, size_t clen, char *ports, size_t plen)
{
	struct ubx_err ignore;
	_cleanup_json_ struct json_object *o = NULL;
	cmd[0] = ports[0] = '\0';
	if (lc_load_json(c->dir, "spec.json", &o, &ignore) < 0)
		return;
	struct json_object *p = jsonc_member(o, "process"), *args = p ? jsonc_member(p, "args") : NULL;
	size_t n = 0;
	for (size_t i = 0; jsonc_is(args, json_type_array) && i < jsonc.json_object_array_length(args); i++) {
		struct json_object *a = jsonc.json_object_array_get_idx(args, i);
		if (jsonc_is(a, json_type_string) && n < clen)
			n += (size_t)snprintf(cmd + n, clen - n, "%s%s", i ? " " : "", jsonc.json_object_get_string(a));
	}
	struct json_object *net = jsonc_member(o, "network"), *pl = net ? jsonc_member(net, "ports") : NULL;
	n = 0;
	for (size_t i = 0; jsonc_is(pl, json_type_array) && i < jsonc.json_object_array_length(pl); i++) {
		struct json_object *a = jsonc.json_object_array_get_idx(pl, i);
		if (jsonc_is(a, json_type_string) && n < plen)
			n += (size_t)snprintf(ports + n, plen - n, "%s%s", i ? ", " : "", jsonc.json_object_get_string(a));
	}
}

static void image_name(struct store *st, const struct container *c, char *buf, size_t len)
{
	char id[DIGEST_STR_LEN + 1];
	struct store_image img;
	struct ubx_err ignore;
	if (c->host) {
		snprintf(buf, len, "host");
		return;
	}
	digest_format(&c->image, id);
	if (store_image_find(st, id, &img, &ignore) == 0) {
		snprintf(buf, len, "%s", img.names && img.names[0] ? img.names[0] : id + 7);
		store_image_free(&img);
	} else {
		snprintf(buf, len, "%.12s", id + 7);
	}
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	jsonc.json_object_object_add(o, k, jsonc.json_object_new_string(v));
}

static int ps_one(const struct container *c, void *arg)
{
	struct ps_opts *o = arg;
	struct ctr_state s;
	char status[128], cmd[1024], ports[512], image[300], shown[32];
	const char *state = describe(o->st, c, &s, status, sizeof(status));
	if (!o->all && strcmp(state, "running") != 0)
		return 0;
	if (o->quiet) {
		fprintf(o->out, "%.12s\n", c->id);
		return 0;
	}
	spec_summary(c, cmd, sizeof(cmd), ports, sizeof(ports));
	image_name(o->st, c, image, sizeof(image));
	if (o->json) {
		struct json_object *j = jsonc.json_object_new_object();
		add_str(j, "Id", c->id);
		add_str(j, "Names", c->name);
		add_str(j, "Image", image);
		add_str(j, "Command", cmd);
		add_str(j, "Created", c->created);
		add_str(j, "State", state);
		add_str(j, "Status", status);
		jsonc.json_object_object_add(j, "ExitCode", jsonc.json_object_new_int64(s.exit_code));
		add_str(j, "Ports", ports);
		jsonc.json_object_array_add(o->arr, j);
		return 0;
	}
	char age[64];
	human_age(c->created, age, sizeof(age));
	snprintf(shown, sizeof(shown), "\"%.17s%s\"", cmd, strlen(cmd) > 17 ? "..." : "");
	fprintf(o->out, "%-12.12s  %-20.20s  %-22s  %-15s  %-25s  %-20s  %s\n", c->id, image, shown,
		strcat(age, " ago"), status, ports, c->name);
	return 0;
}

struct collected {
	struct container *v;
	size_t n, cap;
};

static int collect(const struct container *c, void *arg)
{
	struct collected *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct container *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v, l->cap = cap;
	}
	l->v[l->n++] = *c;
	return 0;
}

/* Newest first, as docker ps lists them. */
static int by_created(const void *a, const void *b)
{
	const struct container *x = a, *y = b;
	int r = strcmp(y->created, x->created);
	return r ? r : strcmp(x->id, y->id);
}

static int ps_all(struct store *st, struct ps_opts *o, struct ubx_err *e)
{
	struct collected l = { 0 };
	int r = container_each(st, collect, &l, e);
	if (r == -ENOMEM)
		r = ubx_fail(e, ENOMEM, "ps");
	if (r == 0 && l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_created);
	for (size_t i = 0; r == 0 && i < l.n; i++)
		r = ps_one(&l.v[i], o);
	free(l.v);
	return r;
}

static int cmd_ps(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	struct ps_opts o = { .out = out };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-a") == 0 || strcmp(a, "--all") == 0)
			o.all = true;
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			o.quiet = true;
		else if (strcmp(a, "-aq") == 0 || strcmp(a, "-qa") == 0)
			o.all = o.quiet = true;
		else if (strcmp(a, "--format") == 0 && i + 1 < argc && strcmp(argv[i + 1], "json") == 0)
			o.json = true, i++;
		else if (strcmp(a, "--format=json") == 0)
			o.json = true;
		else
			return ubx_fail(e, 0, "ps: unknown argument '%s' (usage: usbox ps [-a] [-q] [--format json])", a);
	}
	struct store st;
	int r = jsonc_load("usbox ps", e);
	if (r < 0 || (r = store_open(&st, false, e)) < 0)
		return r;
	o.st = &st;
	if (o.json && !(o.arr = jsonc.json_object_new_array()))
		r = ubx_fail(e, ENOMEM, "ps");
	if (r == 0 && !o.json && !o.quiet)
		fprintf(out, "%-12s  %-20s  %-22s  %-15s  %-25s  %-20s  %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
			"CREATED", "STATUS", "PORTS", "NAMES");
	if (r == 0)
		r = ps_all(&st, &o, e);
	store_close(&st);
	if (o.arr) {
		if (r >= 0)
			fprintf(out, "%s\n", jsonc.json_object_to_json_string_length(o.arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, NULL));
		jsonc.json_object_put(o.arr);
	}
	return r < 0 ? r : 0;
}

/* ---------------------------------------------------------------- logs */

static bool still_running(void *arg)
{
	struct found *f = arg;
	return container_running(&f->st, &f->c);
}

static int cmd_logs(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	struct ctr_log_opts o = { .tail = -1 };
	const char *ref = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		uint64_t n;
		if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0)
			o.follow = true;
		else if (strcmp(a, "-t") == 0 || strcmp(a, "--timestamps") == 0)
			o.timestamps = true;
		else if ((strcmp(a, "--tail") == 0 || strcmp(a, "-n") == 0) && i + 1 < argc)
			if (strcmp(argv[++i], "all") == 0)
				o.tail = -1;
			else if (parse_u64(argv[i], 1 << 30, &n) == 0)
				o.tail = (long)n;
			else
				return ubx_fail(e, 0, "logs: --tail: '%s' is not a number of lines", argv[i]);
		else if (strncmp(a, "--tail=", 7) == 0 && parse_u64(a + 7, 1 << 30, &n) == 0)
			o.tail = (long)n;
		else if (a[0] != '-' && !ref)
			ref = a;
		else
			return ubx_fail(e, 0, "logs: unknown argument '%s'", a);
	}
	if (!ref)
		return ubx_fail(e, 0, "logs: usage: usbox logs [-f] [--tail N] [-t] CONTAINER");
	struct found f;
	int r = lc_find(ref, &f, e);
	if (r < 0)
		return r;
	o.running = still_running;
	o.arg = &f;
	r = ctr_log_print(f.c.dir, &o, out, stderr, e);
	lc_found_close(&f);
	return r;
}

/* ---------------------------------------------------------------- stop, kill, wait */

static int stop_one(const char *ref, int secs, FILE *out, struct ubx_err *e)
{
	struct found f;
	struct ctr_run run;
	struct ubx_err ignore;
	int r = lc_find(ref, &f, e);
	if (r < 0)
		return r;
	int pidfd = lc_init_pidfd(&f, &run, &ignore);
	if (pidfd >= 0) {
		int sig = SIGTERM;
		_cleanup_json_ struct json_object *o = NULL;
		if (lc_load_json(f.c.dir, "spec.json", &o, &ignore) == 0) {
			struct json_object *p = jsonc_member(o, "process");
			struct json_object *s = p ? jsonc_member(p, "stop_signal") : NULL;
			if (jsonc_is(s, json_type_int) && jsonc.json_object_get_int64(s) > 0)
				sig = (int)jsonc.json_object_get_int64(s);
		}
		(void)send_signal(pidfd, sig);
		if (!pidfd_wait(pidfd, secs * 1000))
			(void)send_signal(pidfd, SIGKILL);
		close(pidfd);
		(void)container_wait(&f.st, &f.c, 10000, &ignore);
	}
	fprintf(out, "%s\n", ref);
	lc_found_close(&f);
	return 0;
}

static int cmd_stop(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	int secs = 10, first = 1, r = 0;
	uint64_t n;
	if (argc > 2 && (strcmp(argv[1], "-t") == 0 || strcmp(argv[1], "--time") == 0 || strcmp(argv[1], "--timeout") == 0)) {
		if (parse_u64(argv[2], 86400, &n) < 0)
			return ubx_fail(e, 0, "stop: -t: '%s' is not a number of seconds", argv[2]);
		secs = (int)n, first = 3;
	}
	if (first >= argc)
		return ubx_fail(e, 0, "stop: usage: usbox stop [-t SECONDS] CONTAINER...");
	if (jsonc_load("usbox stop", e) < 0)
		return -ENOENT;
	for (int i = first; i < argc; i++) {
		struct ubx_err one = { 0 };
		if (stop_one(argv[i], secs, out, &one) < 0) {
			fprintf(stderr, "usbox: %s\n", one.msg);
			*e = one, r = -EINVAL;
		}
	}
	return r;
}

static int cmd_kill(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	int sig = SIGKILL, first = 1, r = 0;
	if (argc > 2 && (strcmp(argv[1], "-s") == 0 || strcmp(argv[1], "--signal") == 0)) {
		if ((sig = parse_signal(argv[2])) < 0)
			return ubx_fail(e, 0, "kill: '%s' is not a signal (KILL, TERM, HUP, 9, ...)", argv[2]);
		first = 3;
	} else if (argc > 1 && strncmp(argv[1], "--signal=", 9) == 0) {
		if ((sig = parse_signal(argv[1] + 9)) < 0)
			return ubx_fail(e, 0, "kill: '%s' is not a signal (KILL, TERM, HUP, 9, ...)", argv[1] + 9);
		first = 2;
	}
	if (first >= argc)
		return ubx_fail(e, 0, "kill: usage: usbox kill [-s SIGNAL] CONTAINER...");
	for (int i = first; i < argc; i++) {
		struct found f;
		struct ctr_run run;
		struct ubx_err one = { 0 };
		int rr = lc_find(argv[i], &f, &one);
		int pidfd = rr < 0 ? rr : lc_init_pidfd(&f, &run, &one);
		if (pidfd >= 0 && (rr = send_signal(pidfd, sig)) < 0)
			ubx_fail(&one, -rr, "kill %s", argv[i]);
		if (pidfd >= 0)
			close(pidfd);
		if (rr == 0)
			lc_found_close(&f);
		if (pidfd < 0 || rr < 0) {
			fprintf(stderr, "usbox: %s\n", one.msg);
			*e = one, r = -EINVAL;
		} else {
			fprintf(out, "%s\n", argv[i]);
		}
	}
	return r;
}

static int cmd_wait(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	if (argc < 2)
		return ubx_fail(e, 0, "wait: usage: usbox wait CONTAINER...");
	if (jsonc_load("usbox wait", e) < 0)
		return -ENOENT;
	int r = 0;
	for (int i = 1; i < argc; i++) {
		struct found f;
		struct ctr_state s;
		char path[4400];
		if ((r = lc_find(argv[i], &f, e)) < 0)
			return r;
		/* open now: a --rm container's state goes with it, but not from here */
		snprintf(path, sizeof(path), "%s/state.json", f.c.dir);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		r = container_wait(&f.st, &f.c, -1, e);
		lc_found_close(&f);
		if (r == 0 && (fd < 0 || ctr_state_read_fd(fd, &s, e) < 0))
			s.exit_code = -1;
		if (r < 0)
			return r;
		fprintf(out, "%d\n", s.exit_code);
		fflush(out);
	}
	return 0;
}

/* ---------------------------------------------------------------- inspect */

static struct json_object *namespaces_of(pid_t pid)
{
	static const char *const kinds[] = { "user", "mnt", "pid", "uts", "ipc", "net", "cgroup" };
	struct json_object *o = jsonc.json_object_new_object();
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char path[64], target[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, kinds[i]);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			add_str(o, kinds[i], target);
		}
	}
	return o;
}

/* The slirp network's counts, as the container's supervisor last wrote them
 * (RUNDIR/net.json, at most a second old): "NetworkStats". */
static void add_network_stats(struct json_object *o, const char *id)
{
	struct ubx_err ignore;
	struct json_object *stats = NULL;
	char rundir[4200];
	if (ctr_run_dir(id, false, rundir, sizeof(rundir), &ignore) == 0 &&
	    lc_load_json(rundir, "net.json", &stats, &ignore) == 0)
		jsonc.json_object_object_add(o, "NetworkStats", stats);
}

static struct json_object *inspect_one(struct found *f)
{
	struct ubx_err ignore;
	struct ctr_state s;
	struct ctr_run run = { 0 };
	char status[128], image[300], path[4400];
	const char *state = describe(&f->st, &f->c, &s, status, sizeof(status));
	bool running = strcmp(state, "running") == 0 && ctr_run_find(f->c.id, f->c.dir, &run, &ignore) == 0;
	struct json_object *o = jsonc.json_object_new_object(), *st = jsonc.json_object_new_object(), *spec = NULL;
	image_name(&f->st, &f->c, image, sizeof(image));
	add_str(o, "Id", f->c.id);
	add_str(o, "Name", f->c.name);
	add_str(o, "Created", f->c.created);
	add_str(o, "Image", image);
	if (lc_load_json(f->c.dir, "spec.json", &spec, &ignore) == 0)
		jsonc.json_object_object_add(o, "Config", spec);
	add_str(st, "Status", state);
	jsonc.json_object_object_add(st, "Running", jsonc.json_object_new_boolean(running));
	jsonc.json_object_object_add(st, "Pid", jsonc.json_object_new_int64(running ? run.init : 0));
	jsonc.json_object_object_add(st, "MonitorPid", jsonc.json_object_new_int64(running ? run.monitor : 0));
	jsonc.json_object_object_add(st, "ExitCode", jsonc.json_object_new_int64(s.exit_code));
	jsonc.json_object_object_add(st, "OOMKilled", jsonc.json_object_new_boolean(s.oom_killed));
	add_str(st, "StartedAt", s.started);
	add_str(st, "FinishedAt", s.finished);
	jsonc.json_object_object_add(o, "State", st);
	if (running) {
		jsonc.json_object_object_add(o, "Namespaces", namespaces_of(run.init));
		add_str(o, "CgroupPath", run.cgroup);
		add_str(o, "IPAddress", run.address);
		add_network_stats(o, f->c.id);
	}
	add_str(o, "StorageDriver", f->c.host ? "none" : f->c.driver[0] ? f->c.driver : "overlay");
	snprintf(path, sizeof(path), "%s/ctr.log", f->c.dir);
	add_str(o, "LogPath", path);
	return o;
}

static int cmd_inspect(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	if (argc < 2)
		return ubx_fail(e, 0, "inspect: usage: usbox inspect CONTAINER...");
	int r = jsonc_load("usbox inspect", e);
	if (r < 0)
		return r;
	_cleanup_json_ struct json_object *arr = jsonc.json_object_new_array();
	for (int i = 1; i < argc && r == 0; i++) {
		struct found f;
		if ((r = lc_find(argv[i], &f, e)) == 0) {
			jsonc.json_object_array_add(arr, inspect_one(&f));
			lc_found_close(&f);
		}
	}
	if (r == 0)
		fprintf(out, "%s\n", jsonc.json_object_to_json_string_length(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, NULL));
	return r;
}

/* ---------------------------------------------------------------- help */

static const struct {
	const char *name, *text;
} helps[] = {
	{ "ps", "Usage: usbox ps [-a] [-q] [--format json]\n\n"
		"List containers, newest first: those running, or with -a all of them.\n\n"
		"Options:\n"
		"  -a, --all             also those that have ended, with their exit status\n"
		"  -q, --quiet           only the ids\n"
		"      --format json     a JSON array instead of a table\n" },
	{ "logs", "Usage: usbox logs [-f] [--tail N] [-t] CONTAINER\n\n"
		  "What a detached container wrote: its stdout here to stdout, its stderr to stderr.\n\n"
		  "Options:\n"
		  "  -f, --follow          go on until the container ends\n"
		  "  -n, --tail N          only the last N lines\n"
		  "  -t, --timestamps      each line with the time it was written\n" },
	{ "exec", "Usage: usbox exec [OPTIONS] CONTAINER [--] CMD [ARG...]\n\n"
		  "Run CMD in a running container: its namespaces, cgroup, root, identity,\n"
		  "capabilities and filter.  Exit status: CMD's (125, 126, 127 as usbox run).\n\n"
		  "Options:\n"
		  "  -i, --interactive     keep stdin open\n"
		  "  -t, --tty             give CMD a terminal\n"
		  "  -d, --detach          leave CMD running in the background\n"
		  "  -e, --env K=V         set K (a bare K copies yours; repeatable)\n"
		  "  -w, --workdir DIR     working directory inside\n"
		  "  -u, --user USER[:GROUP]  user inside, a number or a name of the container's\n" },
	{ "stop", "Usage: usbox stop [-t SECONDS] CONTAINER...\n\n"
		  "SIGTERM (or the image's StopSignal), then SIGKILL after the grace period.\n\n"
		  "Options:\n"
		  "  -t, --time SECONDS    the grace period (10)\n" },
	{ "kill", "Usage: usbox kill [-s SIGNAL] CONTAINER...\n\n"
		  "Send a signal to the container's command.\n\n"
		  "Options:\n"
		  "  -s, --signal SIGNAL   a name (TERM, SIGHUP) or a number (KILL by default)\n" },
	{ "wait", "Usage: usbox wait CONTAINER...\n\nWait until each container has ended; print its exit status.\n" },
	{ "inspect", "Usage: usbox inspect CONTAINER...\n\n"
		     "A container's spec, state, pids, namespaces, cgroup, address and log, as JSON.\n" },
	{ "attach", "Usage: usbox attach CONTAINER\n\n"
		    "Connect this terminal to a detached container's (run -d -t); ctrl-p ctrl-q\n"
		    "detaches and leaves it running.\n" },
};

static bool want_help(int argc, char **argv, FILE *out)
{
	for (int i = 1; i < argc && argv[i][0] == '-'; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			for (size_t k = 0; k < ARRAY_SIZE(helps); k++)
				if (strcmp(argv[0], helps[k].name) == 0)
					fputs(helps[k].text, out);
			return true;
		}
	return false;
}

/* ---------------------------------------------------------------- dispatch */

static const struct {
	const char *name;
	int (*fn)(int, char **, FILE *, struct ubx_err *);
} commands[] = {
	{ "ps", cmd_ps },     { "logs", cmd_logs }, { "exec", lc_exec },       { "stop", cmd_stop },
	{ "kill", cmd_kill }, { "wait", cmd_wait }, { "inspect", cmd_inspect }, { "attach", lc_attach },
};

bool lifecycle_is_command(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(word, commands[i].name) == 0)
			return true;
	return false;
}

int lifecycle_command(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	if (want_help(argc, argv, out))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(argc, argv, out, e);
	return ubx_fail(e, 0, "unknown command %s", argv[0]);
}
