/* SPDX-License-Identifier: MIT */
/*
 * statedir.h - where usbox keeps per-user runtime state and saved settings.
 */
#ifndef USBOX_COMMON_STATEDIR_H
#define USBOX_COMMON_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * state_dir_path() - the runtime state directory of @uid:
 * $XDG_RUNTIME_DIR/usbox when that is a directory @uid owns, else
 * /tmp/usbox-UID.  Only computes the path; state_dir_open() checks it.
 */
void state_dir_path(uint32_t uid, char *buf, size_t len);

/*
 * state_dir_open() - create (mode 0700) and open @path as an O_PATH
 * directory, refusing one that is not @uid's alone.
 * Return: the fd, or a negative errno.
 */
int state_dir_open(const char *path, uint32_t uid, struct ubx_err *e);

/*
 * data_dir_path() - where saved settings of @sub live:
 * ${XDG_DATA_HOME:-$HOME/.local/share}/usbox/@sub.
 * Return: 0, or -ENOENT with a message when neither variable is usable.
 */
int data_dir_path(const char *sub, char *buf, size_t len, struct ubx_err *e);

/*
 * mkdir_parents() - create @path and its missing parents with @mode.
 * Return: 0 or a negative errno.
 */
int mkdir_parents(const char *path, unsigned mode, struct ubx_err *e);

/*
 * lock_is_current() - whether the open file @fd is still the one named
 * @name in @dirfd (lock files are unlinked by whoever tears state down).
 */
bool lock_is_current(int dirfd, const char *name, int fd);

#endif
