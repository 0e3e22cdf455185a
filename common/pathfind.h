/* SPDX-License-Identifier: MIT */
/*
 * pathfind.h - finding a command on PATH with the shell's rules.
 */
#ifndef USBOX_COMMON_PATHFIND_H
#define USBOX_COMMON_PATHFIND_H

#include <stddef.h>

#define EXEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * exec_find() - find @cmd the way a shell does: a name with a slash is taken
 * as it is, anything else is looked up in @path (NULL: EXEC_DEFAULT_PATH).
 * Directories that cannot be searched are skipped; a file that exists but is
 * not executable is only an answer when no executable one follows.
 * Return: 0 with the file in @out, -EACCES (found, not executable; the file
 * in @out) or -ENOENT.
 */
int exec_find(const char *cmd, const char *path, char *out, size_t len);

#endif
