/* SPDX-License-Identifier: MIT */
/*
 * proctitle.h - rename a forked process as `ps` shows it.
 *
 * usbox's helpers are forks, never re-executions of the binary, so without
 * this they would show usbox's whole command line.
 */
#ifndef USBOX_COMMON_PROCTITLE_H
#define USBOX_COMMON_PROCTITLE_H

/* proctitle_init() - remember where main()'s argv lives; call it first. */
void proctitle_init(int argc, char **argv);

/*
 * proctitle_set() - set the comm name and overwrite the argument area with
 * @title (truncated to fit).  Only for a process that no longer needs argv.
 */
void proctitle_set(const char *title);

#endif
