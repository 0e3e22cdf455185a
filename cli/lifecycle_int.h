/* SPDX-License-Identifier: MIT */
/*
 * lifecycle_int.h - what the container commands (lifecycle.c, lcjoin.c)
 * share: finding a container and reaching its init.  Private to cli/.
 */
#ifndef USBOX_CLI_LIFECYCLE_INT_H
#define USBOX_CLI_LIFECYCLE_INT_H

#include <stdio.h>

#include "../common/error.h"
#include "../container/state.h"
#include "../image/container.h"

struct json_object;

/* The container @ref, with the store's directory kept open (unlocked: a
 * command that waits must not hold the store). */
struct found {
	struct store st;  /* .lock is -1 */
	struct container c;
};

/* lc_find() - the container @ref into @f.  Return: 0 or a negative errno. */
int lc_find(const char *ref, struct found *f, struct ubx_err *e);

/* lc_found_close() - close what lc_find() kept open. */
void lc_found_close(struct found *f);

/* lc_label() - a container's name, or its id when unnamed. */
const char *lc_label(const struct container *c);

/*
 * lc_init_pidfd() - the init of the running container @f, as a pidfd
 * verified against its start time, and its run.json in @run.
 * Return: the pidfd, or a negative errno ("container X is not running").
 */
int lc_init_pidfd(struct found *f, struct ctr_run *run, struct ubx_err *e);

/* lc_load_json() - @cdir/@file parsed.  Return: 0 or a negative errno. */
int lc_load_json(const char *cdir, const char *file, struct json_object **o, struct ubx_err *e);

/* lc_exec(), lc_attach() - usbox exec and usbox attach (lcjoin.c), with
 * lifecycle_command()'s return convention. */
int lc_exec(int argc, char **argv, FILE *out, struct ubx_err *e);
int lc_attach(int argc, char **argv, FILE *out, struct ubx_err *e);

#endif
