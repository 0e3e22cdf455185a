/* SPDX-License-Identifier: MIT */
/*
 * containers.h - `usbox rm|commit|export`.
 */
#ifndef USBOX_CLI_CONTAINERS_H
#define USBOX_CLI_CONTAINERS_H

#include <stdbool.h>
#include <stdio.h>

#include "../common/error.h"

/* containers_is_command() - whether @word is one of the container commands. */
bool containers_is_command(const char *word);

/*
 * containers_command() - run the container command @argv[0].
 * Return: 0, or a negative errno with one line in @e.
 */
int containers_command(int argc, char **argv, FILE *out, struct ubx_err *e);

#endif
