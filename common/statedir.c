/* SPDX-License-Identifier: MIT */
#include "statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void state_dir_path(uint32_t uid, char *buf, size_t len)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (rt && rt[0] == '/' && stat(rt, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid)
		snprintf(buf, len, "%s/usbox", rt);
	else
		snprintf(buf, len, "/tmp/usbox-%" PRIu32, uid);
}

int state_dir_open(const char *path, uint32_t uid, struct ubx_err *e)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return ubx_fail(e, errno, "mkdir %s", path);
	int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ubx_fail(e, errno, "open %s", path);
	if (fstat(fd, &st) < 0 || st.st_uid != uid || (st.st_mode & 077)) {
		close(fd);
		return ubx_fail(e, EPERM, "%s is not a private directory of uid %" PRIu32, path, uid);
	}
	return fd;
}

int data_dir_path(const char *sub, char *buf, size_t len, struct ubx_err *e)
{
	const char *data = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	if (data && data[0] == '/')
		n = snprintf(buf, len, "%s/usbox/%s", data, sub);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/share/usbox/%s", home, sub);
	else
		return ubx_fail(e, ENOENT, "neither XDG_DATA_HOME nor HOME names a directory for usbox's %s", sub);
	if (n < 0 || (size_t)n >= len)
		return ubx_fail(e, ENAMETOOLONG, "usbox's %s directory", sub);
	return 0;
}

int mkdir_parents(const char *path, unsigned mode, struct ubx_err *e)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return ubx_fail(e, ENAMETOOLONG, "%s", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return ubx_fail(e, errno, "mkdir %s", buf);
		if (c == '\0')
			return 0;
		*p = c;
	}
}

bool lock_is_current(int dirfd, const char *name, int fd)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}
