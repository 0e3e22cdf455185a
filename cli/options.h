/* SPDX-License-Identifier: MIT */
/*
 * options.h - the command line: `usbox [run] [OPTIONS] [--] CMD [ARG...]`.
 *
 * The parser fills a struct cli_options: the runtime's spec where an option
 * says it directly, and beside it what the CLI still turns into the spec
 * (cli/hostview.c): the environment operations, the working directory, the
 * capability changes, the filter's mode.
 */
#ifndef USBOX_CLI_OPTIONS_H
#define USBOX_CLI_OPTIONS_H

#include <stdio.h>

#include "../common/error.h"
#include "../sandbox/spec.h"

enum stats_mode {
	STATS_NONE,
	STATS_TEXT, /* --stats */
	STATS_JSON, /* --stats=json */
};

/* One -e/--env or --env-file entry: "K=V" sets, "K" copies the caller's K. */
struct env_op {
	char *text;
};

struct cli_options {
	struct ubx_spec spec;     /* args, ids, mounts, network, limits, ... as given */
	bool uid_set, gid_set;    /* given with --uid/--gid/--root */
	bool clearenv;
	struct env_op *env;
	size_t n_env;
	char *workdir;            /* NULL: the caller's working directory */
	bool no_cwd;              /* do not bind the working directory */
	bool ro_home;             /* --ro-home: no throw-away writable layer over the home */
	bool no_tty;              /* -T: no terminal, also when at one */
	uint64_t cap_add, cap_drop; /* --cap-add/--cap-drop: bit N is capability N */
	bool cap_add_all, cap_drop_all; /* ... ALL */
	bool seccomp_unconfined;  /* --seccomp unconfined */
	bool nested;              /* --nested: allow namespaces and mounts inside (podman, bwrap) */
	enum stats_mode stats;
	char *image;              /* --image NAME: run a container of it */
	char *entrypoint;         /* --entrypoint: replaces the image's ("" clears it) */
	bool rm;                  /* --rm: remove the container when it ends */
	bool keep;                /* the container stays after it ends (--name without --rm) */
	bool detach;              /* -d: run in the background */
	const char *ctr_name;     /* the container's name: --name, or one made up */
	uint64_t log_max_size;    /* --log-opt max-size, 0: the default */
	unsigned log_max_files;   /* --log-opt max-file, 0: the default */
};

/* options_free() - release everything options_parse() allocated in @o. */
void options_free(struct cli_options *o);

#define OPTIONS_SHM_DEFAULT (64ULL << 20) /* /dev/shm, as Docker's */

enum options_action {
	OPTIONS_RUN,     /* run cfg->argv in a sandbox */
	OPTIONS_HELP,    /* print options_usage() and exit 0 */
	OPTIONS_VERSION, /* print the version and exit 0 */
};

/*
 * options_parse() - fill @cfg from @argv (argv[0] is the program name).
 * Relative bind sources are made absolute against @cwd.
 * Return: an enum options_action, or a negative errno with one line in @e
 * naming the bad option or value.  @cfg must be released with options_free()
 * in both cases.
 */
int options_parse(int argc, char **argv, const char *cwd, struct cli_options *cfg, struct ubx_err *e);

/*
 * options_parse_mount() - parse a -v, --ro-bind or --tmpfs value into @m.
 * Return: 0 or a negative errno with the reason in @e.
 */
int options_parse_bind(const char *arg, bool force_ro, const char *cwd, struct mount_spec *m, struct ubx_err *e);
int options_parse_tmpfs(const char *arg, struct mount_spec *m, struct ubx_err *e);

/*
 * options_read_env_file() - append the KEY=VALUE lines of @f to @cfg's env
 * list ('#' comments and blank lines skipped; a bare KEY copies the caller's).
 * Return: 0 or a negative errno naming @name and the line.
 */
int options_read_env_file(FILE *f, const char *name, struct cli_options *cfg, struct ubx_err *e);

/* options_usage() - the --help text. */
void options_usage(FILE *out);

#endif
