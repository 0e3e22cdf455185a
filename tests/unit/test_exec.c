/* SPDX-License-Identifier: MIT */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/pathfind.h"

static char dir[] = "/tmp/usbox-unit-XXXXXX";

static void make_file(const char *name, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	close(fd);
	chmod(path, mode);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char sub[256];
	snprintf(sub, sizeof(sub), "%s/a", dir), mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/b", dir), mkdir(sub, 0755);
	make_file("a/plain", 0644);
	make_file("b/plain", 0755);
	make_file("a/onlyplain", 0644);
	snprintf(sub, sizeof(sub), "%s/a/isdir", dir), mkdir(sub, 0755);
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(find_like_a_shell)
{
	char path[512], out[512], want[512];
	snprintf(path, sizeof(path), "%s/nonexistent:%s/a:%s/b", dir, dir, dir);
	ck_assert_int_eq(exec_find("plain", path, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/b/plain", dir);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(exec_find("onlyplain", path, out, sizeof(out)), -EACCES);
	ck_assert_int_eq(exec_find("isdir", path, out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(exec_find("missing", path, out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(exec_find("sh", NULL, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/a/plain", dir);
	ck_assert_int_eq(exec_find(want, "/nowhere", out, sizeof(out)), -EACCES);
	ck_assert_int_eq(exec_find("./definitely-missing", NULL, out, sizeof(out)), -ENOENT);
}
END_TEST

UNIT_MAIN_FIXTURE("exec", setup, teardown, find_like_a_shell)
