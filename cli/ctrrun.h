/* SPDX-License-Identifier: MIT */
/*
 * ctrrun.h - `usbox run`: a sandbox, or a container (--image, --name or -d).
 */
#ifndef USBOX_CLI_CTRRUN_H
#define USBOX_CLI_CTRRUN_H

#include "../sandbox/sandbox.h"
#include "options.h"

/*
 * cli_run() - run @o: a plain sandbox, or (--image, --name, -d) a container
 * with a record in the store, its spec and state, and with -d a supervisor
 * of its own session; in the foreground, @report_end prints what the cgroup
 * saw.  Prints its errors.
 * Return: what usbox exits with (the command's status in the foreground;
 * 0 once a detached container's command runs; 125/126/127 when it cannot).
 */
int cli_run(struct cli_options *o, char *const *environ, const char *cwd,
	    void (*report_end)(const struct cli_options *, const struct sandbox *));

#endif
