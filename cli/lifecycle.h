/* SPDX-License-Identifier: MIT */
/*
 * lifecycle.h - `usbox ps|logs|exec|stop|kill|wait|inspect|attach`.
 */
#ifndef USBOX_CLI_LIFECYCLE_H
#define USBOX_CLI_LIFECYCLE_H

#include <stdbool.h>
#include <stdio.h>

#include "../common/error.h"

/* lifecycle_is_command() - whether @word is one of these commands. */
bool lifecycle_is_command(const char *word);

/*
 * lifecycle_command() - run the command @argv[0] (output to @out).
 * Return: what usbox exits with (exec's and attach's: the command's status),
 * or a negative errno with the reason in @e (usbox exits 125).
 */
int lifecycle_command(int argc, char **argv, FILE *out, struct ubx_err *e);

#endif
