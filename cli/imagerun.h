/* SPDX-License-Identifier: MIT */
/*
 * imagerun.h - `usbox run --image NAME`: the container and its spec.
 */
#ifndef USBOX_CLI_IMAGERUN_H
#define USBOX_CLI_IMAGERUN_H

#include "../common/error.h"
#include "../image/container.h"
#include "../sandbox/sandbox.h"
#include "options.h"

/*
 * cli_image_prepare() - make a container of @o->image and fill @o->spec
 * from the image's config (layers, command, environment, working directory,
 * user, host name); @environ serves bare -e names.
 * Return: 0 with the container in @c, or a negative errno (nothing made).
 */
int cli_image_prepare(struct cli_options *o, char *const *environ, struct container *c, struct ubx_err *e);

/*
 * cli_image_started() - once the command runs: when fuse-overlayfs serves
 * the root, record it in @c's record, and put in @notice a line for the user
 * if the kernel refused its overlayfs (not when fuse-overlayfs was asked
 * for); else @notice is "".
 * Return: 0 or a negative errno.
 */
int cli_image_started(struct container *c, const struct sandbox *sb, char *notice, size_t len, struct ubx_err *e);

/*
 * cli_fuse_program() - fuse-overlayfs on the caller's PATH, into @out.
 * Return: 0 or a negative errno (-ENOENT: not installed).
 */
int cli_fuse_program(char *out, size_t len);

/*
 * cli_image_finish() - after the command: remove the container unless it is
 * kept (--name without --rm).
 * Return: 0 or a negative errno.
 */
int cli_image_finish(const struct cli_options *o, const struct container *c, struct ubx_err *e);

#endif
