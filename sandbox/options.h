/* SPDX-License-Identifier: MIT */
/*
 * options.h - the command line: `usbox [run] [OPTIONS] [--] CMD [ARG...]`.
 */
#ifndef USBOX_SANDBOX_OPTIONS_H
#define USBOX_SANDBOX_OPTIONS_H

#include <stdio.h>

#include "../common/error.h"
#include "config.h"

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
 * naming the bad option or value.  @cfg must be released with config_free()
 * in both cases.
 */
int options_parse(int argc, char **argv, const char *cwd, struct usbox_config *cfg, struct ubx_err *e);

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
int options_read_env_file(FILE *f, const char *name, struct usbox_config *cfg, struct ubx_err *e);

/* options_usage() - the --help text. */
void options_usage(FILE *out);

#endif
