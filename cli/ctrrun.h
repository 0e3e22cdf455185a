/* SPDX-License-Identifier: MIT */
/*
 * ctrrun.h - `usbox run` of a container (--image, --name or -d).
 */
#ifndef USBOX_CLI_CTRRUN_H
#define USBOX_CLI_CTRRUN_H

#include "../sandbox/sandbox.h"
#include "options.h"

/*
 * cli_run_container() - run @o as a container: a record in the store with
 * its spec and state, a supervisor of its own session with -d; in the
 * foreground, @report_end prints what the cgroup saw.  Prints its errors.
 * Return: what usbox exits with (the command's status in the foreground;
 * 0 once a detached container's command runs; 125/126/127 when it cannot).
 */
int cli_run_container(struct cli_options *o, char *const *environ, const char *cwd,
		      void (*report_end)(const struct cli_options *, const struct sandbox *));

#endif
