/* SPDX-License-Identifier: MIT */
/*
 * env.h - the command's environment.
 */
#ifndef USBOX_CLI_ENV_H
#define USBOX_CLI_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/*
 * env_build() - the environment for the command: a copy of @host (none with
 * @clear), then each op in order: "K=V" sets K, a bare "K" copies @host's K
 * (or removes K when @host has none).
 * Return: a NULL-terminated array to free with free() on each entry and on
 * the array, or NULL when out of memory.
 */
char **env_build(char *const *host, bool clear, const struct env_op *ops, size_t n_ops);

#endif
