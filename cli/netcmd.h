/* SPDX-License-Identifier: MIT */
/*
 * netcmd.h - `usbox network create|ls|rm`: the user networks' command line.
 */
#ifndef USBOX_SANDBOX_NETCMD_H
#define USBOX_SANDBOX_NETCMD_H

#include <stdio.h>

#include "../common/error.h"

/*
 * network_command() - run `usbox network ARGS...` (@argv[0] is "network"),
 * writing its results to @out.
 * Return: the exit status (0), or a negative errno with one line in @e;
 * `rm` of several names stops at the first that cannot be removed.
 */
int network_command(int argc, char **argv, FILE *out, struct ubx_err *e);

/* network_usage() - the `usbox network --help` text. */
void network_usage(FILE *out);

#endif
