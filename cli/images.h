/* SPDX-License-Identifier: MIT */
/*
 * images.h - `usbox images|import|load|save|rmi|image ...`.
 */
#ifndef USBOX_CLI_IMAGES_H
#define USBOX_CLI_IMAGES_H

#include <stdbool.h>
#include <stdio.h>

#include "../common/error.h"

/* images_is_command() - whether @word is one of the image commands. */
bool images_is_command(const char *word);

/*
 * images_command() - run the image command @argv[0] with its arguments,
 * writing results to @out.
 * Return: 0, or a negative errno with one line in @e.
 */
int images_command(int argc, char **argv, FILE *out, struct ubx_err *e);

#endif
