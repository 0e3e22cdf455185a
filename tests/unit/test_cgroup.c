/* SPDX-License-Identifier: MIT */
#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cgroup/cgroup.h"

START_TEST(cpus)
{
	uint64_t q;
	ck_assert_int_eq(cgroup_parse_cpus("1.5", &q), 0);
	ck_assert_uint_eq(q, 150000);
	ck_assert_int_eq(cgroup_parse_cpus("0.5", &q), 0);
	ck_assert_uint_eq(q, 50000);
	ck_assert_int_eq(cgroup_parse_cpus("2", &q), 0);
	ck_assert_uint_eq(q, 200000);
	ck_assert_int_eq(cgroup_parse_cpus("0.01", &q), 0);
	ck_assert_uint_eq(q, 1000);
	static const char *const bad[] = { "", "0", "0.0", "0.001", ".5", "1.", "-1", "1e3", "abc", "4097", "1.123456" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cgroup_parse_cpus(bad[i], &q) == -EINVAL, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(cpuset)
{
	static const char *const ok[] = { "0", "0-3", "0-3,6", "1,3,5-7", "8191" };
	static const char *const bad[] = { "", "a", "3-1", "0-", "-1", "0,,1", "0,", "8192", "0 1" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(cgroup_parse_cpuset(ok[i]) == 0, "'%s' rejected", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cgroup_parse_cpuset(bad[i]) == -EINVAL, "'%s' accepted", bad[i]);
}
END_TEST

static int find_mount_in(const char *text, char *out)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r = cgroup_find_mount(f, out, 256);
	fclose(f);
	return r;
}

START_TEST(mountinfo)
{
	char out[256];
	const char *unified = "22 1 0:20 / / rw,relatime - ext4 /dev/vda rw\n"
			      "35 22 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
	ck_assert_int_eq(find_mount_in(unified, out), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup");
	const char *hybrid = "31 22 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
			     "32 31 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
			     "41 31 0:38 / /sys/fs/cgroup/unified\\040dir rw - cgroup2 cgroup2 rw\n";
	ck_assert_int_eq(find_mount_in(hybrid, out), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup/unified dir");
	ck_assert_int_eq(find_mount_in("32 31 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", out), -ENOENT);
}
END_TEST

START_TEST(self_path)
{
	char out[256];
	const char *text = "12:memory:/foo\n1:name=systemd:/user.slice\n0::/user.slice/user-1000.slice/session-2.scope\n";
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	ck_assert_int_eq(cgroup_self_path(f, out, sizeof(out)), 0);
	fclose(f);
	ck_assert_str_eq(out, "/user.slice/user-1000.slice/session-2.scope");
	f = fmemopen("4:memory:/x\n", 12, "r");
	ck_assert_int_eq(cgroup_self_path(f, out, sizeof(out)), -ENOENT);
	fclose(f);
}
END_TEST

START_TEST(limits_any)
{
	struct cgroup_limits l;
	cgroup_limits_init(&l);
	ck_assert(!cgroup_limits_any(&l));
	l.pids = CGROUP_MAX;
	ck_assert(cgroup_limits_any(&l));
	cgroup_limits_init(&l);
	snprintf(l.cpuset_cpus, sizeof(l.cpuset_cpus), "0");
	ck_assert(cgroup_limits_any(&l));
}
END_TEST

UNIT_MAIN("cgroup", cpus, cpuset, mountinfo, self_path, limits_any)
