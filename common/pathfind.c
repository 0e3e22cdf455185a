/* SPDX-License-Identifier: MIT */
/*
 * pathfind.c - finding a command on PATH with the shell's rules.
 */
#include "pathfind.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int exec_find(const char *cmd, const char *path, char *out, size_t len)
{
	int found = -ENOENT;

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return access(cmd, F_OK) < 0 ? -errno : access(cmd, X_OK) < 0 ? -errno : 0;
	}
	if (!path)
		path = EXEC_DEFAULT_PATH;
	for (const char *dir = path; dir; dir = strchr(dir, ':') ? strchr(dir, ':') + 1 : NULL) {
		size_t dlen = strcspn(dir, ":");
		char cand[4096];
		struct stat st;
		snprintf(cand, sizeof(cand), "%.*s%s%s", (int)dlen, dir, dlen ? "/" : "", cmd);
		if (stat(cand, &st) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (access(cand, X_OK) == 0) {
			snprintf(out, len, "%s", cand);
			return 0;
		}
		if (found == -ENOENT) { /* remember the first one that exists, as bash does */
			snprintf(out, len, "%s", cand);
			found = -EACCES;
		}
	}
	return found;
}
