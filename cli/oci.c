/* SPDX-License-Identifier: MIT */
/*
 * oci.c - usbox-oci: the runc command line over oci/ (usbox as the runtime
 * of podman, containerd, CRI-O).  The binary is the same as usbox's; its name
 * (argv[0]) chooses this command line.
 *
 * DOC: Theory of operation
 * Global flags first (--root, --log, --log-format, --systemd-cgroup,
 * --debug, --rootless), then a command and its flags, then the container id.
 * Flags are spelt as runc's (Go's flag package: one or two dashes, "=VALUE"
 * or the next word).  Errors go to stderr and, with --log, to the log file
 * (one JSON object a line with --log-format json, as engines parse it); the
 * exit status is 1, as runc's, except for run and exec, which exit with
 * the container process's status.
 */
#include "oci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "../common/parse.h"
#include "../cgroup/cgroup.h"
#include "../oci/cgroup.h"
#include "../oci/config.h"
#include "../oci/runtime.h"
#include "../oci/state.h"

#ifndef USBOX_VERSION
#define USBOX_VERSION "0.1.0"
#endif

enum { OCI_EXIT_OK = 0, OCI_EXIT_FAIL = 1 };

struct globals {
	const char *root_flag;
	char root[PATH_MAX];
	const char *log;
	bool log_json;
	bool debug;
	bool systemd_cgroup;
};

static struct globals g;

/* One line to the log (and errors also to stderr). */
static void oci_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void oci_log(const char *level, const char *fmt, ...)
{
	char msg[1200], when[40];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strcmp(level, "error") == 0)
		fprintf(stderr, "usbox-oci: %s\n", msg);
	if (!g.log)
		return;
	_cleanup_close_ int fd = open(g.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return;
	time_t t = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	if (!g.log_json) {
		dprintf(fd, "time=\"%s\" level=%s msg=\"%s\"\n", when, level, msg);
		return;
	}
	_cleanup_json_ struct json_object *o = NULL;
	struct ubx_err e = { 0 };
	if (jsonc_load("--log-format json", &e) < 0 || !(o = jsonc.json_object_new_object()))
		return;
	jsonc.json_object_object_add(o, "level", jsonc.json_object_new_string(level));
	jsonc.json_object_object_add(o, "msg", jsonc.json_object_new_string(msg));
	jsonc.json_object_object_add(o, "time", jsonc.json_object_new_string(when));
	dprintf(fd, "%s\n", jsonc.json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, NULL));
}

static int fail(const struct ubx_err *e)
{
	oci_log("error", "%s", e->msg[0] ? e->msg : strerror(e->code));
	return OCI_EXIT_FAIL;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	oci_log("error", "%s", msg);
	return OCI_EXIT_FAIL;
}

/* ---------------------------------------------------------------- flags */

struct flag {
	const char *name;  /* long name; "b|bundle" gives a short one too */
	bool takes_value;
	const char **value; /* where the value goes (or "1" for a switch) */
	char ***list;       /* a repeatable flag: values appended here */
};

#define FLAG(n, v, p) { .name = (n), .takes_value = (v), .value = (p), .list = NULL }
#define FLAG_LIST(n, l) { .name = (n), .takes_value = true, .value = NULL, .list = (l) }
#define FLAG_END { .name = NULL, .takes_value = false, .value = NULL, .list = NULL }

static bool flag_is(const char *spec, const char *name, size_t len)
{
	while (*spec) {
		size_t n = strcspn(spec, "|");
		if (n == len && strncmp(spec, name, len) == 0)
			return true;
		spec += n + (spec[n] == '|');
	}
	return false;
}

static int list_add(char ***list, const char *v)
{
	size_t n = 0;
	while (*list && (*list)[n])
		n++;
	char **l = realloc(*list, (n + 2) * sizeof(char *));
	if (!l)
		return -ENOMEM;
	l[n] = (char *)v, l[n + 1] = NULL;
	*list = l;
	return 0;
}

/*
 * Parses @argv (from index *@i) against @flags until the first word that is
 * not a flag (or after "--").  Return: 0 or -EINVAL (message logged).
 */
static int parse_flags(int argc, char **argv, int *i, const struct flag *flags)
{
	for (; *i < argc; (*i)++) {
		char *a = argv[*i];
		if (strcmp(a, "--") == 0) {
			(*i)++;
			return 0;
		}
		if (a[0] != '-' || !a[1])
			return 0;
		const char *name = a + 1 + (a[1] == '-');
		size_t len = strcspn(name, "=");
		const struct flag *f = flags;
		while (f->name && !flag_is(f->name, name, len))
			f++;
		if (!f->name)
			return usage_error("unknown flag %s", a), -EINVAL;
		const char *v = name[len] == '=' ? name + len + 1 : NULL;
		if (f->takes_value && !v) {
			if (*i + 1 >= argc)
				return usage_error("flag %s needs a value", a), -EINVAL;
			v = argv[++*i];
		}
		if (!f->takes_value)
			v = v && (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) ? NULL : "1";
		if (f->list && v) {
			if (list_add(f->list, v) < 0)
				return usage_error("out of memory"), -ENOMEM;
		} else if (f->value) {
			*f->value = v;
		}
	}
	return 0;
}

/* The one container id after the flags. */
static int one_id(int argc, char **argv, int i, const char *cmd, const char **id)
{
	struct ubx_err e = { 0 };
	if (i >= argc)
		return usage_error("%s: a container id is needed", cmd), -EINVAL;
	*id = argv[i];
	if (oci_state_check_id(*id, &e) < 0)
		return fail(&e), -EINVAL;
	return 0;
}

/* ---------------------------------------------------------------- commands */

static int load_bundle(const char *bundle, struct oci_config *c)
{
	char abs[PATH_MAX];
	struct ubx_err e = { 0 };
	if (!realpath(bundle ? bundle : ".", abs))
		return ubx_fail(&e, errno, "--bundle %.200s", bundle ? bundle : "."), fail(&e), -EINVAL;
	if (jsonc_load("config.json", &e) < 0 || oci_config_load(abs, c, &e) < 0)
		return fail(&e), -EINVAL;
	if (c->ignored[0])
		oci_log("warning", "not applied, as by other rootless runtimes: %s", c->ignored);
	return 0;
}

/* The end of start or delete: a hook that failed after them is a warning. */
static int done(int r, struct ubx_err *e)
{
	if (r > 0) {
		fprintf(stderr, "usbox-oci: warning: %s\n", e->msg);
		oci_log("warning", "%s", e->msg);
	}
	return r < 0 ? fail(e) : OCI_EXIT_OK;
}

static int cmd_create_run(int argc, char **argv, int i, bool run)
{
	const char *bundle = NULL, *console = NULL, *pid_file = NULL, *preserve = NULL, *ignored = NULL;
	const char *detach = NULL, *keep = NULL, *id;
	const struct flag flags[] = {
		FLAG("b|bundle", true, &bundle),      FLAG("console-socket", true, &console), FLAG("pid-file", true, &pid_file),
		FLAG("preserve-fds", true, &preserve), FLAG("no-pivot", false, &ignored),     FLAG("no-new-keyring", false, &ignored),
		FLAG("d|detach", false, &detach),     FLAG("keep", false, &keep),             FLAG_END,
	};
	struct oci_config c;
	struct ubx_err e = { 0 };
	uint64_t n = 0;
	int pidfd = -1;
	if (parse_flags(argc, argv, &i, flags) < 0 || one_id(argc, argv, i, run ? "run" : "create", &id) < 0)
		return OCI_EXIT_FAIL;
	if ((!run && (detach || keep)))
		return usage_error("create: unknown flag --%s", detach ? "detach" : "keep");
	if (preserve && parse_u64(preserve, 1024, &n) < 0)
		return usage_error("--preserve-fds %s: not a number", preserve);
	if (load_bundle(bundle, &c) < 0)
		return OCI_EXIT_FAIL;
	char note[512] = "";
	struct oci_create_opts o = { .root = g.root, .id = id, .pid_file = pid_file, .console_socket = console,
				     .preserve_fds = (unsigned)n, .systemd_cgroup = g.systemd_cgroup,
				     .note = note, .note_len = sizeof(note) };
	int r = oci_create(&o, &c, run && !detach ? &pidfd : NULL, &e);
	oci_config_free(&c);
	if (note[0])
		oci_log("warning", "%s", note);
	if (r < 0)
		return fail(&e);
	if (!run)
		return OCI_EXIT_OK;
	if ((r = oci_start(g.root, id, &e)) < 0) {
		struct ubx_err ignore = { 0 };
		(void)oci_delete(g.root, id, true, &ignore);
		return fail(&e);
	}
	done(r, &e);
	if (detach)
		return OCI_EXIT_OK;
	int status = oci_wait_exit(pidfd);
	if (!keep)
		done(oci_delete(g.root, id, true, &e), &e);
	return status;
}

static int cmd_start(int argc, char **argv, int i)
{
	const struct flag flags[] = { FLAG_END };
	const char *id;
	struct ubx_err e = { 0 };
	if (parse_flags(argc, argv, &i, flags) < 0 || one_id(argc, argv, i, "start", &id) < 0)
		return OCI_EXIT_FAIL;
	return done(oci_start(g.root, id, &e), &e);
}

static int cmd_state(int argc, char **argv, int i)
{
	const struct flag flags[] = { FLAG_END };
	const char *id;
	struct ubx_err e = { 0 };
	struct oci_state s;
	if (parse_flags(argc, argv, &i, flags) < 0 || one_id(argc, argv, i, "state", &id) < 0)
		return OCI_EXIT_FAIL;
	_cleanup_close_ int dir = oci_state_open(g.root, id, false, &e);
	if (dir < 0 || oci_state_read(dir, &s, &e) < 0)
		return fail(&e);
	_cleanup_free_ char *text = oci_state_json(dir, &s);
	oci_state_free(&s);
	if (!text)
		return usage_error("out of memory");
	printf("%s\n", text);
	return OCI_EXIT_OK;
}

static int cmd_kill(int argc, char **argv, int i)
{
	const char *all = NULL, *id;
	const struct flag flags[] = { FLAG("a|all", false, &all), FLAG_END };
	struct ubx_err e = { 0 };
	if (parse_flags(argc, argv, &i, flags) < 0 || one_id(argc, argv, i, "kill", &id) < 0)
		return OCI_EXIT_FAIL;
	const char *name = i + 1 < argc ? argv[i + 1] : "SIGTERM";
	int sig = parse_signal(name);
	if (sig < 1 || sig > 64)
		return usage_error("kill: unknown signal \"%s\"", name);
	return oci_kill(g.root, id, sig, all != NULL, &e) < 0 ? fail(&e) : OCI_EXIT_OK;
}

static int cmd_delete(int argc, char **argv, int i)
{
	const char *force = NULL, *id;
	const struct flag flags[] = { FLAG("f|force", false, &force), FLAG_END };
	struct ubx_err e = { 0 };
	if (parse_flags(argc, argv, &i, flags) < 0 || one_id(argc, argv, i, "delete", &id) < 0)
		return OCI_EXIT_FAIL;
	int r = oci_delete(g.root, id, force != NULL, &e);
	if (r == -ENOENT && force) /* runc: delete --force of a missing container succeeds */
		return OCI_EXIT_OK;
	return done(r, &e);
}

static int parse_user(const char *s, struct oci_exec_opts *o)
{
	uint64_t uid, gid = 0;
	const char *colon = strchr(s, ':');
	char buf[32];
	snprintf(buf, sizeof(buf), "%.*s", (int)(colon ? colon - s : (long)strlen(s)), s);
	if (parse_u64(buf, UINT32_MAX - 1, &uid) < 0 || (colon && parse_u64(colon + 1, UINT32_MAX - 1, &gid) < 0))
		return -EINVAL;
	o->has_user = true, o->uid = (uint32_t)uid, o->gid = (uint32_t)gid;
	return 0;
}

static int cmd_exec(int argc, char **argv, int i)
{
	const char *process = NULL, *tty = NULL, *console = NULL, *detach = NULL, *pid_file = NULL, *cwd = NULL;
	const char *user = NULL, *ignored = NULL, *id;
	_cleanup_free_ char **env = NULL, **caps_list = NULL;
	const struct flag flags[] = {
		FLAG("p|process", true, &process),   FLAG("t|tty", false, &tty),          FLAG("console-socket", true, &console),
		FLAG("d|detach", false, &detach),    FLAG("pid-file", true, &pid_file),   FLAG("cwd", true, &cwd),
		FLAG_LIST("e|env", &env),     FLAG("u|user", true, &user),         FLAG("no-new-privs", false, &ignored),
		FLAG_LIST("c|cap", &caps_list), FLAG("ignore-paused", false, &ignored),
		FLAG("process-label", true, &ignored), FLAG("apparmor", true, &ignored), FLAG_END,
	};
	struct ubx_err e = { 0 };
	if (parse_flags(argc, argv, &i, flags) < 0 || one_id(argc, argv, i, "exec", &id) < 0)
		return OCI_EXIT_FAIL;
	uint64_t caps = 0;
	for (char **c = caps_list; c && *c; c++) {
		bool all = false;
		char badname[64];
		if (parse_capabilities(*c, &caps, &all, badname, sizeof(badname)) < 0 || all)
			return usage_error("exec --cap %s: not a capability", *c);
	}
	struct oci_exec_opts o = { .root = g.root, .id = id, .process_file = process, .args = argv + i + 1,
				   .env = env, .cwd = cwd, .tty = tty != NULL, .pid_file = pid_file,
				   .console_socket = console, .detach = detach != NULL, .caps_add = caps };
	if (user && parse_user(user, &o) < 0)
		return usage_error("exec --user %s: not uid[:gid]", user);
	if (jsonc_load("config.json", &e) < 0)
		return fail(&e);
	int r = oci_exec(&o, &e);
	r = r < 0 ? fail(&e) : r;
	/* This process is in the container's namespaces now: leave at once, as
	 * usbox exec does (LeakSanitizer's exit-time tracer hangs there). */
	fflush(NULL);
	_exit(r);
}

static int cmd_ps(int argc, char **argv, int i)
{
	const char *format = "table", *id;
	const struct flag flags[] = { FLAG("f|format", true, &format), FLAG_END };
	struct ubx_err e = { 0 };
	pid_t *pids = NULL;
	if (parse_flags(argc, argv, &i, flags) < 0 || one_id(argc, argv, i, "ps", &id) < 0)
		return OCI_EXIT_FAIL;
	ssize_t n = oci_pids(g.root, id, &pids, &e);
	if (n < 0)
		return fail(&e);
	bool json = strcmp(format, "json") == 0;
	printf(json ? "[" : "PID\n");
	for (ssize_t k = 0; k < n; k++)
		printf(json ? "%s%d" : "%s%d\n", json && k ? "," : "", (int)pids[k]);
	printf(json ? "]\n" : "");
	free(pids);
	return OCI_EXIT_OK;
}

static int cmd_list(int argc, char **argv, int i)
{
	const char *format = "table", *quiet = NULL;
	const struct flag flags[] = { FLAG("f|format", true, &format), FLAG("q|quiet", false, &quiet), FLAG_END };
	if (parse_flags(argc, argv, &i, flags) < 0)
		return OCI_EXIT_FAIL;
	bool json = strcmp(format, "json") == 0;
	DIR *d = opendir(g.root);
	if (!quiet)
		printf(json ? "[" : "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n");
	for (struct dirent *de; d && (de = readdir(d));) {
		struct ubx_err e = { 0 };
		struct oci_state s;
		static bool first = true;
		if (de->d_name[0] == '.')
			continue;
		_cleanup_close_ int dir = oci_state_open(g.root, de->d_name, false, &e);
		if (dir < 0 || oci_state_read(dir, &s, &e) < 0)
			continue;
		if (quiet) {
			printf("%s\n", s.id);
		} else if (json) {
			_cleanup_free_ char *text = oci_state_json(dir, &s);
			printf("%s%s", first ? "" : ",", text ? text : "{}");
			first = false;
		} else {
			const char *status = oci_state_status(dir, &s);
			printf("%s\t%d\t%s\t%s\t%s\t%s\n", s.id, strcmp(status, "stopped") ? (int)s.pid : 0, status,
			       s.bundle, s.created, s.owner);
		}
		oci_state_free(&s);
	}
	if (d)
		closedir(d);
	if (json && !quiet)
		printf("]\n");
	return OCI_EXIT_OK;
}

/* pause, resume and update: through the container's cgroup. */
static int cmd_cgroup(const char *cmd, int argc, char **argv, int i)
{
	const char *resources = NULL, *id;
	const struct flag flags[] = { FLAG("r|resources", true, &resources), FLAG_END };
	const struct flag none[] = { FLAG_END };
	struct ubx_err e = { 0 };
	bool update = strcmp(cmd, "update") == 0;
	if (parse_flags(argc, argv, &i, update ? flags : none) < 0 || one_id(argc, argv, i, cmd, &id) < 0)
		return OCI_EXIT_FAIL;
	if (update && !resources)
		return usage_error("update needs --resources FILE (or - for standard input)");
	int r = update ? oci_cgroup_update_file(g.root, id, resources, &e)
		       : oci_cgroup_pause(g.root, id, strcmp(cmd, "pause") == 0, &e);
	return r < 0 ? fail(&e) : OCI_EXIT_OK;
}

static int cmd_features(void)
{
	printf("{\n"
	       "  \"ociVersionMin\": \"1.0.0\",\n"
	       "  \"ociVersionMax\": \"%s\",\n"
	       "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", \"startContainer\", \"poststart\",\n"
	       "    \"poststop\"],\n"
	       "  \"mountOptions\": [\"bind\", \"rbind\", \"ro\", \"rw\", \"nosuid\", \"nodev\", \"noexec\", "
	       "\"suid\", \"dev\", \"exec\", \"private\", \"rprivate\", \"slave\", \"rslave\", \"shared\", "
	       "\"rshared\", \"relatime\", \"noatime\", \"strictatime\"],\n"
	       "  \"linux\": {\n"
	       "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", \"user\", \"uts\"],\n"
	       "    \"cgroup\": { \"v1\": false, \"v2\": true, \"systemd\": %s, \"systemdUser\": %s },\n"
	       "    \"seccomp\": { \"enabled\": true, \"actions\": [\"SCMP_ACT_ALLOW\", \"SCMP_ACT_ERRNO\", "
	       "\"SCMP_ACT_KILL\", \"SCMP_ACT_KILL_PROCESS\", \"SCMP_ACT_KILL_THREAD\", \"SCMP_ACT_LOG\", "
	       "\"SCMP_ACT_TRACE\", \"SCMP_ACT_TRAP\"], \"operators\": [\"SCMP_CMP_EQ\", \"SCMP_CMP_GE\", "
	       "\"SCMP_CMP_GT\", \"SCMP_CMP_LE\", \"SCMP_CMP_LT\", \"SCMP_CMP_MASKED_EQ\", \"SCMP_CMP_NE\"] },\n"
	       "    \"apparmor\": { \"enabled\": false },\n"
	       "    \"selinux\": { \"enabled\": false },\n"
	       "    \"intelRdt\": { \"enabled\": false },\n"
	       "    \"mountExtensions\": { \"idmap\": { \"enabled\": false } }\n"
	       "  },\n"
	       "  \"annotations\": { \"org.opencontainers.runtime-spec.features.runtime\": \"usbox-oci\" }\n"
	       "}\n",
	       OCI_SPEC_VERSION, cgroup_systemd_available() ? "true" : "false",
	       cgroup_systemd_available() ? "true" : "false");
	return OCI_EXIT_OK;
}

static const char spec_template[] =
	"{\n"
	"  \"ociVersion\": \"" OCI_SPEC_VERSION "\",\n"
	"  \"process\": {\n"
	"    \"terminal\": true,\n"
	"    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
	"    \"args\": [\"sh\"],\n"
	"    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\"],\n"
	"    \"cwd\": \"/\",\n"
	"    \"capabilities\": {\n"
	"      \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
	"      \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
	"      \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
	"    },\n"
	"    \"rlimits\": [{ \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 }],\n"
	"    \"noNewPrivileges\": true\n"
	"  },\n"
	"  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
	"  \"hostname\": \"usbox\",\n"
	"  \"mounts\": [\n"
	"    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
	"    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", "
	"\"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"] },\n"
	"    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", "
	"\"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"] },\n"
	"    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", "
	"\"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"] },\n"
	"    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", "
	"\"options\": [\"nosuid\", \"noexec\", \"nodev\"] },\n"
	"    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", "
	"\"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"] }\n"
	"  ],\n"
	"  \"linux\": {\n"
	"%s"
	"    \"namespaces\": [{ \"type\": \"pid\" }, { \"type\": \"ipc\" }, { \"type\": \"uts\" }, "
	"{ \"type\": \"mount\" }%s],\n"
	"    \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", "
	"\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", "
	"\"/sys/firmware\", \"/proc/scsi\"],\n"
	"    \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"]\n"
	"  }\n"
	"}\n";

static int cmd_spec(int argc, char **argv, int i)
{
	const char *rootless = NULL, *bundle = ".";
	const struct flag flags[] = { FLAG("rootless", false, &rootless), FLAG("b|bundle", true, &bundle), FLAG_END };
	char path[PATH_MAX], maps[256];
	if (parse_flags(argc, argv, &i, flags) < 0)
		return OCI_EXIT_FAIL;
	snprintf(maps, sizeof(maps),
		 "    \"uidMappings\": [{ \"containerID\": 0, \"hostID\": %u, \"size\": 1 }],\n"
		 "    \"gidMappings\": [{ \"containerID\": 0, \"hostID\": %u, \"size\": 1 }],\n",
		 (unsigned)getuid(), (unsigned)getgid());
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return usage_error("spec: %s: %s", path, errno == EEXIST ? "already exists" : strerror(errno));
	dprintf(fd, spec_template, rootless ? maps : "",
		rootless ? ", { \"type\": \"user\" }" : ", { \"type\": \"network\" }, { \"type\": \"cgroup\" }");
	return OCI_EXIT_OK;
}

static void help(void)
{
	printf("usage: usbox-oci [GLOBAL FLAGS] COMMAND [FLAGS] ID\n"
	       "An OCI runtime (the runc command line) for podman, containerd and CRI-O.\n\n"
	       "Global flags: --root DIR  --log FILE  --log-format text|json  --systemd-cgroup  --debug\n"
	       "              --rootless auto|true|false  --version\n"
	       "Commands:\n"
	       "  create --bundle DIR [--pid-file F] [--console-socket S] ID\n"
	       "  start ID    state ID    kill [--all] ID [SIGNAL]    delete [--force] ID\n"
	       "  run --bundle DIR [--detach] [--keep] [--pid-file F] [--console-socket S] ID\n"
	       "  exec [--process FILE | [--tty] [--cwd D] [--env K=V] [--user U[:G]]] [--detach] ID [CMD...]\n"
	       "  ps [--format table|json] ID    list [--format table|json] [--quiet]\n"
	       "  pause ID    resume ID    update --resources FILE|- ID\n"
	       "  features    spec [--rootless] [--bundle DIR]\n");
}

static const struct flag global_flags[] = {
	FLAG("root", true, &g.root_flag), FLAG("log", true, &g.log), FLAG("log-format", true, NULL),
	FLAG("systemd-cgroup", false, NULL), FLAG("debug", false, NULL), FLAG("rootless", true, NULL),
	FLAG("criu", true, NULL), FLAG_END,
};

/* The global flags, with the log format and --debug kept. */
static int parse_globals(int argc, char **argv, int *i)
{
	const char *format = NULL, *debug = NULL, *rootless = NULL, *systemd = NULL, *criu = NULL;
	struct flag flags[ARRAY_SIZE(global_flags)];
	memcpy(flags, global_flags, sizeof(flags));
	flags[2].value = &format, flags[3].value = &systemd, flags[4].value = &debug, flags[5].value = &rootless;
	flags[6].value = &criu;
	if (parse_flags(argc, argv, i, flags) < 0)
		return -EINVAL;
	if (format && strcmp(format, "json") != 0 && strcmp(format, "text") != 0)
		return usage_error("--log-format %s: json or text", format), -EINVAL;
	g.log_json = format && strcmp(format, "json") == 0;
	g.debug = debug != NULL;
	g.systemd_cgroup = systemd != NULL;
	if (rootless && strcmp(rootless, "auto") && strcmp(rootless, "true") && strcmp(rootless, "false"))
		return usage_error("--rootless %s: auto, true or false", rootless), -EINVAL;
	return 0;
}

int oci_main(int argc, char **argv)
{
	struct ubx_err e = { 0 };
	int i = 1;
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0 ||
			 strcmp(argv[1], "version") == 0)) {
		printf("usbox-oci version %s\nspec: %s\n", USBOX_VERSION, OCI_SPEC_VERSION);
		return OCI_EXIT_OK;
	}
	if (parse_globals(argc, argv, &i) < 0)
		return OCI_EXIT_FAIL;
	if (i >= argc || strcmp(argv[i], "help") == 0 || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
		help();
		return i >= argc ? OCI_EXIT_FAIL : OCI_EXIT_OK;
	}
	if (oci_state_root(g.root_flag, g.root, sizeof(g.root), &e) < 0 || jsonc_load("usbox-oci", &e) < 0)
		return fail(&e);
	const char *cmd = argv[i++];
	if (g.debug)
		oci_log("debug", "%s", cmd);
	if (strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0)
		return cmd_create_run(argc, argv, i, cmd[0] == 'r');
	if (strcmp(cmd, "start") == 0)
		return cmd_start(argc, argv, i);
	if (strcmp(cmd, "state") == 0)
		return cmd_state(argc, argv, i);
	if (strcmp(cmd, "kill") == 0)
		return cmd_kill(argc, argv, i);
	if (strcmp(cmd, "delete") == 0)
		return cmd_delete(argc, argv, i);
	if (strcmp(cmd, "exec") == 0)
		return cmd_exec(argc, argv, i);
	if (strcmp(cmd, "ps") == 0)
		return cmd_ps(argc, argv, i);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc, argv, i);
	if (strcmp(cmd, "features") == 0)
		return cmd_features();
	if (strcmp(cmd, "spec") == 0)
		return cmd_spec(argc, argv, i);
	if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 || strcmp(cmd, "update") == 0)
		return cmd_cgroup(cmd, argc, argv, i);
	return usage_error("unknown command \"%s\" (usbox-oci help)", cmd);
}
