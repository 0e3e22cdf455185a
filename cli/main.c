/* SPDX-License-Identifier: MIT */
/*
 * main.c - usbox's entry point and the one place that reports errors: the
 * command line becomes a spec (options.c, hostview.c), the runtime
 * (sandbox/) runs it, and what it reports is printed here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#include "../common/pathfind.h"
#include "../common/proctitle.h"
#include "../container/state.h"
#include "../sandbox/sandbox.h"
#include "containers.h"
#include "ctrrun.h"
#include "doctor.h"
#include "lifecycle.h"
#include "images.h"
#include "netcmd.h"
#include "oci.h"
#include "options.h"

#ifndef USBOX_VERSION
#define USBOX_VERSION "0.1.0"
#endif

#define EXIT_USBOX 125

/* Docker's verbs that usbox has no command for (yet): a bare first word that
 * is one of them, and is no program on PATH, gets an answer instead of a
 * sandbox that says "command not found". */
static const char *const docker_verbs[] = {
	"build", "compose", "container", "cp",     "create",  "diff",   "history", "info",
	"login", "logout",  "pause",     "port",   "pull",    "push",   "rename",  "restart",
	"search", "start",  "stats",     "system", "tag",     "top",    "unpause", "update",  "volume",
};

static bool docker_habit(const char *word)
{
	char found[4096];
	for (size_t i = 0; i < sizeof(docker_verbs) / sizeof(docker_verbs[0]); i++)
		if (strcmp(word, docker_verbs[i]) == 0)
			return exec_find(word, getenv("PATH"), found, sizeof(found)) == -ENOENT;
	return false;
}

static int fail(const struct ubx_err *e)
{
	fprintf(stderr, "usbox: %s\n", e->msg);
	return EXIT_USBOX;
}

static void print_stats(const struct cli_options *cfg, const struct cgroup_stats *s)
{
	if (cfg->stats == STATS_JSON)
		fprintf(stderr, "{\"memory_peak_bytes\": %llu, \"cpu_usec\": %llu, \"pids_peak\": %llu}\n",
			(unsigned long long)s->mem_peak, (unsigned long long)s->cpu_usec,
			(unsigned long long)s->pids_peak);
	else
		fprintf(stderr, "usbox: stats: memory peak %.1f MiB, CPU %.3f s, pids peak %llu\n",
			(double)s->mem_peak / 1048576.0, (double)s->cpu_usec / 1e6,
			(unsigned long long)s->pids_peak);
}

/* What the sandbox's cgroup saw, reported after the command ended. */
static void report_end(const struct cli_options *cfg, const struct sandbox *sb)
{
	if (sb->oom_killed)
		fprintf(stderr, "usbox: sandbox killed: out of memory (limit %s)\n",
			cfg->spec.limits.mem_text[0] ? cfg->spec.limits.mem_text : "from the parent cgroup");
	if (cfg->stats != STATS_NONE)
		print_stats(cfg, &sb->stats);
}

/* At a terminal (stdin and stdout both), without -t or -T, a command gets a
 * terminal of its own as with -it: job control and Ctrl-C work in a shell.
 * Pipelines and scripts are left as they are. */
static void at_terminal(struct cli_options *cfg)
{
	if (!cfg->spec.tty && !cfg->no_tty && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		cfg->spec.tty = cfg->spec.interactive = true;
}

static int run(struct cli_options *cfg, const char *cwd)
{
	if (!cfg->detach)
		at_terminal(cfg);
	return cli_run(cfg, environ, cwd, report_end);
}

int main(int argc, char **argv)
{
	struct cli_options cfg;
	struct ubx_err e = { 0 };
	char cwd[4096];
	int status;

	const char *name = strrchr(argv[0], '/');
	if (strcmp(name ? name + 1 : argv[0], "usbox-oci") == 0) /* the OCI runtime's command line */
		return oci_main(argc, argv);
	proctitle_init(argc, argv);
	ctr_state_init();
	if (!getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "usbox: getcwd: %m\n");
		return EXIT_USBOX;
	}
	/* A bare first word that names a subcommand is the subcommand; `usbox
	 * -- CMD` and `usbox run [OPTIONS] [--] CMD` always run a command. */
	if (argc > 1 && strcmp(argv[1], "network") == 0) {
		status = network_command(argc - 1, argv + 1, stdout, &e);
		return status < 0 ? fail(&e) : status;
	}
	if (argc > 1 && images_is_command(argv[1])) {
		status = images_command(argc - 1, argv + 1, stdout, &e);
		return status < 0 ? fail(&e) : status;
	}
	if (argc > 1 && lifecycle_is_command(argv[1])) {
		status = lifecycle_command(argc - 1, argv + 1, stdout, &e);
		return status < 0 ? fail(&e) : status;
	}
	if (argc > 1 && strcmp(argv[1], "doctor") == 0) {
		status = doctor_command(argc - 1, argv + 1, stdout, &e);
		return status < 0 ? fail(&e) : status;
	}
	if (argc > 1 && containers_is_command(argv[1])) {
		status = containers_command(argc - 1, argv + 1, stdout, &e);
		return status < 0 ? fail(&e) : status;
	}
	if (argc > 1 && docker_habit(argv[1])) {
		fprintf(stderr,
			"usbox: '%s' is a Docker command that usbox does not have; usbox runs a command in a "
			"sandbox of your host: usbox [OPTIONS] -- CMD (`usbox -- %s` runs a program of that name)\n",
			argv[1], argv[1]);
		return EXIT_USBOX;
	}
	int action = options_parse(argc, argv, cwd, &cfg, &e);
	if (action < 0)
		status = fail(&e);
	else if (action == OPTIONS_HELP)
		options_usage(stdout), status = 0;
	else if (action == OPTIONS_VERSION)
		printf("usbox %s\n", USBOX_VERSION), status = 0;
	else
		status = run(&cfg, cwd);
	options_free(&cfg);
	return status;
}
