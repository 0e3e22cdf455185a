/* SPDX-License-Identifier: MIT */
/* The pure decisions of the sandbox's set-up: which working directory may be
 * shared writable, the command's capabilities, closing inherited fds. */
#include "unit.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/fdpass.h"
#include "../../cli/hostview.h"
#include "../../sandbox/mounts.h"

START_TEST(cwd_shared_or_not)
{
	static const char *const kept[] = { "/", "/tmp", "/var/tmp", "/dev/shm", "/run", "/run/user/1000",
					    "/run/user/1000/x", "/home/u", "/home" };
	static const char *const shared[] = { "/tmp/proj", "/var/tmp/x", "/home/u/proj", "/home/uu", "/home/u2",
					      "/srv", "/runner", "/tmpx" };
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		ck_assert_msg(mounts_cwd_unshared(kept[i], "/home/u") != NULL, "%s would be shared", kept[i]);
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		ck_assert_msg(mounts_cwd_unshared(shared[i], "/home/u") == NULL, "%s would not be shared", shared[i]);
	ck_assert_ptr_null(mounts_cwd_unshared("/home/u", ""));
	ck_assert_ptr_nonnull(mounts_cwd_unshared("/srv", "/srv"));
}
END_TEST

START_TEST(capabilities_as_docker)
{
	struct cli_options c = { 0 };
	const uint64_t podman = 0x800405fbULL;
	ck_assert_uint_eq(cli_capabilities(&c, true), podman);
	ck_assert_uint_eq(cli_capabilities(&c, false), 0);
	c.cap_add = 1ULL << 13;
	c.cap_drop = 1ULL;
	ck_assert_uint_eq(cli_capabilities(&c, true), (podman | (1ULL << 13)) & ~1ULL);
	ck_assert_uint_eq(cli_capabilities(&c, false), 1ULL << 13);
	c = (struct cli_options){ .cap_drop_all = true, .cap_add = 1ULL << 5 };
	ck_assert_uint_eq(cli_capabilities(&c, true), 1ULL << 5);
	c = (struct cli_options){ .cap_add_all = true, .cap_drop = 1ULL << 21 };
	uint64_t all = cli_capabilities(&c, true);
	ck_assert(!(all & (1ULL << 21)));
	ck_assert(all & (1ULL << 19));
	ck_assert(!(all >> 41));
}
END_TEST

START_TEST(close_all_but_keeps_only_those)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fds[8];
		for (int i = 0; i < 8; i++)
			fds[i] = open("/dev/null", O_RDONLY);
		const int keep[] = { fds[5], -1, fds[2], fds[5] };
		if (fd_close_all_but(keep, 4) < 0)
			_exit(2);
		for (int i = 0; i < 8; i++) {
			bool open_now = fcntl(fds[i], F_GETFD) >= 0;
			if (open_now != (i == 2 || i == 5))
				_exit(10 + i);
		}
		_exit(fcntl(1, F_GETFD) >= 0 ? 0 : 3);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

UNIT_MAIN("mounts", cwd_shared_or_not, capabilities_as_docker, close_all_but_keeps_only_those)
