/* SPDX-License-Identifier: MIT */
#include "unit.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/env.h"
#include "../../cli/options.h"

#define PARSE(cfg, e, ...)                                                                  \
	({                                                                                  \
		char *argv_[] = { "usbox", __VA_ARGS__, NULL };                             \
		options_parse((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_, "/home/u", \
			      (cfg), (e));                                                  \
	})

START_TEST(run_with_options)
{
	struct cli_options c;
	struct ubx_err e = { 0 };
	int r = PARSE(&c, &e, "run", "--uid", "5", "--gid=6", "--hostname", "box", "-e", "A=1", "-eB",
		      "-w", "/srv", "-v", "data:/data:ro", "--ro-bind", "/etc:/e", "--tmpfs", "/t:size=1M,mode=700",
		      "--net", "host", "--no-cwd", "--map", "single", "-it", "--", "ls", "-l");
	ck_assert_msg(r == OPTIONS_RUN, "%s", e.msg);
	ck_assert_uint_eq(c.spec.uid, 5);
	ck_assert_uint_eq(c.spec.gid, 6);
	ck_assert(c.uid_set && c.gid_set);
	ck_assert_str_eq(c.spec.hostname, "box");
	ck_assert_uint_eq(c.n_env, 2);
	ck_assert_str_eq(c.env[1].text, "B");
	ck_assert_str_eq(c.workdir, "/srv");
	ck_assert_uint_eq(c.spec.n_mounts, 3);
	ck_assert_str_eq(c.spec.mounts[0].src, "/home/u/data");
	ck_assert_str_eq(c.spec.mounts[0].dst, "/data");
	ck_assert(c.spec.mounts[0].readonly);
	ck_assert(c.spec.mounts[1].readonly);
	ck_assert_int_eq(c.spec.mounts[2].kind, MOUNT_TMPFS);
	ck_assert_uint_eq(c.spec.mounts[2].size, 1 << 20);
	ck_assert_uint_eq(c.spec.mounts[2].mode, 0700);
	ck_assert_int_eq(c.spec.net, NET_HOST);
	ck_assert(c.no_cwd && c.spec.tty && c.spec.interactive);
	ck_assert_int_eq(c.spec.map, MAP_SINGLE);
	ck_assert_str_eq(c.spec.args[0], "ls");
	ck_assert_str_eq(c.spec.args[1], "-l");
	ck_assert_ptr_null(c.spec.args[2]);
	options_free(&c);
}
END_TEST

START_TEST(command_without_dashes_and_root)
{
	struct cli_options c;
	struct ubx_err e = { 0 };
	ck_assert_int_eq(PARSE(&c, &e, "--root", "sh", "-c", "--uid"), OPTIONS_RUN);
	ck_assert_uint_eq(c.spec.uid, 0);
	ck_assert(c.uid_set);
	ck_assert_str_eq(c.spec.args[2], "--uid");
	ck_assert_int_eq(c.spec.net, NET_SLIRP);
	ck_assert_int_eq(c.spec.map, MAP_AUTO);
	options_free(&c);
	ck_assert_int_eq(PARSE(&c, &e, "--help"), OPTIONS_HELP);
	options_free(&c);
	ck_assert_int_eq(PARSE(&c, &e, "-V"), OPTIONS_VERSION);
	options_free(&c);
}
END_TEST

START_TEST(bad_options_name_the_input)
{
	static const struct { const char *a, *b, *needle; } bad[] = {
		{ "--bogus", "x", "--bogus" },
		{ "-x", "x", "-x" },
		{ "--uid", "abc", "abc" },
		{ "--uid", "-1", "-1" },
		{ "--map", "full", "full" },
		{ "--net", "slirp/x", "slirp/x" },
		{ "--net", "a:b", "a:b" },
		{ "--name", "a_b", "a_b" },
		{ "--name", "-a", "-a" },
		{ "--net", "slirp:nope", "slirp:nope" },
		{ "-p", "80", "'80'" },
		{ "-p", "a:80", "a:80" },
		{ "-p", "1.2.3:80:80", "1.2.3:80:80" },
		{ "-p", "0:80", "0:80" },
		{ "-p", "80:65536", "80:65536" },
		{ "-p", "80:80/sctp", "80:80/sctp" },
		{ "--hostname", "bad_name!", "bad_name!" },
		{ "-e", "=x", "=x" },
		{ "-e", "1A=x", "1A=x" },
		{ "-w", "rel", "rel" },
		{ "-v", "/a", "/a" },
		{ "-v", "/a:rel", "rel" },
		{ "-v", "/a:/b:rx", "rx" },
		{ "-v", ":/a:/b", ":/a:/b" },
		{ "-v", "/a:/b:ro:x", "/a:/b:ro:x" },
		{ "--ro-bind", "/a:/b:ro", "/a:/b:ro" },
		{ "--tmpfs", "rel", "rel" },
		{ "--tmpfs", "/t:size=lots", "lots" },
		{ "--tmpfs", "/t:mode=99", "99" },
		{ "--tmpfs", "/t:uid=0", "uid=0" },
		{ "--env-file", "/nonexistent/env", "/nonexistent/env" },
		{ "--clearenv=1", "x", "--clearenv" },
		{ "--mem", "lots", "lots" },
		{ "--mem", "0", "'0'" },
		{ "--mem-high", "-5M", "-5M" },
		{ "--cpus", "0", "'0'" },
		{ "--cpu-weight", "0", "'0'" },
		{ "--io-weight", "10001", "10001" },
		{ "--pids", "0", "'0'" },
		{ "--cpuset-cpus", "3-1", "3-1" },
		{ "--cgroup-parent", "rel/dir", "rel/dir" },
		{ "--stats=xml", "x", "xml" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cli_options c;
		struct ubx_err e = { 0 };
		ck_assert_msg(PARSE(&c, &e, (char *)bad[i].a, (char *)bad[i].b, "true") < 0, "%s %s accepted",
			      bad[i].a, bad[i].b);
		ck_assert_msg(strstr(e.msg, bad[i].needle), "'%s' does not name '%s'", e.msg, bad[i].needle);
		ck_assert_msg(!strchr(e.msg, '\n'), "more than one line: %s", e.msg);
		options_free(&c);
	}
}
END_TEST

START_TEST(limits)
{
	struct cli_options c;
	struct ubx_err e = { 0 };
	ck_assert_int_eq(PARSE(&c, &e, "--mem", "512M", "--mem-swap", "0", "--mem-high=1.5g", "--cpus", "1.5", "--pids",
			       "max", "--cpu-weight", "50", "--io-weight", "200", "--cpuset-cpus", "0-1", "--stats=json",
			       "--cgroup-parent", "/sys/fs/cgroup/x", "true"),
			 OPTIONS_RUN);
	ck_assert_uint_eq(c.spec.limits.mem, 512ULL << 20);
	ck_assert_str_eq(c.spec.limits.mem_text, "512M");
	ck_assert_uint_eq(c.spec.limits.mem_swap, 0);
	ck_assert_uint_eq(c.spec.limits.mem_high, 3ULL << 29);
	ck_assert_uint_eq(c.spec.limits.cpu_quota, 150000);
	ck_assert_uint_eq(c.spec.limits.pids, CGROUP_MAX);
	ck_assert_uint_eq(c.spec.limits.cpu_weight, 50);
	ck_assert_uint_eq(c.spec.limits.io_weight, 200);
	ck_assert_str_eq(c.spec.limits.cpuset_cpus, "0-1");
	ck_assert_int_eq(c.stats, STATS_JSON);
	ck_assert_str_eq(c.spec.cgroup_parent, "/sys/fs/cgroup/x");
	options_free(&c);
	ck_assert_int_eq(PARSE(&c, &e, "--mem-swap", "0M", "true"), OPTIONS_RUN);
	ck_assert_uint_eq(c.spec.limits.mem_swap, 0);
	options_free(&c);
	ck_assert_int_lt(PARSE(&c, &e, "--mem", "0M", "true"), 0);
	options_free(&c);
	ck_assert_int_eq(PARSE(&c, &e, "--stats", "--mem", "max", "true"), OPTIONS_RUN);
	ck_assert_str_eq(c.spec.args[0], "true"); /* --stats took no word as its value */
	ck_assert_int_eq(c.stats, STATS_TEXT);
	ck_assert_uint_eq(c.spec.limits.mem, CGROUP_MAX);
	ck_assert(!cgroup_limits_any(&(struct cgroup_limits){ .mem = CGROUP_UNSET, .mem_swap = CGROUP_UNSET,
		.mem_high = CGROUP_UNSET, .cpu_quota = CGROUP_UNSET, .cpu_weight = CGROUP_UNSET,
		.io_weight = CGROUP_UNSET, .pids = CGROUP_UNSET }));
	options_free(&c);
}
END_TEST

START_TEST(network_options)
{
	struct cli_options c;
	struct ubx_err e = { 0 };
	ck_assert_int_eq(PARSE(&c, &e, "--net", "slirp:allow_host_loopback", "-p", "8080:80", "-p",
			       "127.0.0.1:5353:53/udp", "--publish", "9000:9001/tcp", "true"),
			 OPTIONS_RUN);
	ck_assert_int_eq(c.spec.net, NET_SLIRP);
	ck_assert(c.spec.allow_host_loopback);
	ck_assert_uint_eq(c.spec.n_ports, 3);
	ck_assert_uint_eq(c.spec.ports[0].host_port, 8080);
	ck_assert_uint_eq(c.spec.ports[0].sandbox_port, 80);
	ck_assert(!c.spec.ports[0].udp);
	ck_assert_uint_eq(c.spec.ports[0].host_ip, 0);
	ck_assert(c.spec.ports[1].udp);
	ck_assert_uint_eq(c.spec.ports[1].host_ip, htonl(0x7f000001));
	ck_assert_uint_eq(c.spec.ports[2].sandbox_port, 9001);
	options_free(&c);
	ck_assert_int_lt(PARSE(&c, &e, "--net", "host", "-p", "8080:80", "true"), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "--net host"));
	options_free(&c);
	ck_assert_int_eq(PARSE(&c, &e, "--net", "none", "-p", "8080:80", "true"), OPTIONS_RUN);
	options_free(&c);
}
END_TEST

START_TEST(user_network_and_name)
{
	struct cli_options c;
	struct ubx_err e = { 0 };
	ck_assert_int_eq(PARSE(&c, &e, "--net", "web", "--name", "db", "true"), OPTIONS_RUN);
	ck_assert_int_eq(c.spec.net, NET_USER);
	ck_assert_str_eq(c.spec.network, "web");
	ck_assert_str_eq(c.spec.name, "db");
	ck_assert_str_eq(c.spec.hostname, "db"); /* the name is the host name unless --hostname says otherwise */
	options_free(&c);
	ck_assert_int_eq(PARSE(&c, &e, "--net", "web", "--hostname", "h", "--name", "db", "--net", "none", "true"),
			 OPTIONS_RUN);
	ck_assert_int_eq(c.spec.net, NET_NONE);
	ck_assert_ptr_null(c.spec.network);
	ck_assert_str_eq(c.spec.hostname, "h");
	options_free(&c);
}
END_TEST

START_TEST(missing_value_and_command)
{
	struct cli_options c;
	struct ubx_err e = { 0 };
	ck_assert_int_lt(PARSE(&c, &e, "--uid"), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "needs a value"));
	options_free(&c);
	ck_assert_int_lt(PARSE(&c, &e, "--net", "none"), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "no command"));
	options_free(&c);
}
END_TEST

START_TEST(env_file_lines)
{
	struct cli_options c = { 0 };
	struct ubx_err e = { 0 };
	const char *text = "# comment\n\nA=1\r\n  B=two words\nC\n";
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	ck_assert_int_eq(options_read_env_file(f, "env", &c, &e), 0);
	fclose(f);
	ck_assert_uint_eq(c.n_env, 3);
	ck_assert_str_eq(c.env[0].text, "A=1");
	ck_assert_str_eq(c.env[1].text, "B=two words");
	ck_assert_str_eq(c.env[2].text, "C");
	const char *bad = "A=1\nnot valid\n";
	f = fmemopen((void *)bad, strlen(bad), "r");
	ck_assert_int_lt(options_read_env_file(f, "env", &c, &e), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(e.msg, "line 2"));
	FILE *z = fopen("/dev/zero", "r");
	ck_assert_int_lt(options_read_env_file(z, "/dev/zero", &c, &e), 0);
	fclose(z);
	options_free(&c);
}
END_TEST

START_TEST(env_build_order)
{
	char *host[] = { "HOME=/h", "PATH=/bin", "X=1", NULL };
	struct env_op ops[] = { { "X=2" }, { "NEW=v" }, { "HOME" }, { "GONE" }, { "X=3" } };
	char **env = env_build(host, false, ops, 5);
	ck_assert_ptr_nonnull(env);
	int n = 0, seen_x = 0;
	for (char **p = env; *p; p++, n++)
		if (strncmp(*p, "X=", 2) == 0) {
			ck_assert_str_eq(*p, "X=3");
			seen_x++;
		}
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(seen_x, 1);
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
	struct env_op keep[] = { { "HOME" }, { "PATH" } };
	env = env_build(host, true, keep, 2);
	ck_assert_str_eq(env[0], "HOME=/h");
	ck_assert_str_eq(env[1], "PATH=/bin");
	ck_assert_ptr_null(env[2]);
	free(env[0]), free(env[1]), free(env);
	env = env_build(host, true, NULL, 0);
	ck_assert_ptr_null(env[0]);
	free(env);
}
END_TEST

UNIT_MAIN("options", run_with_options, command_without_dashes_and_root, bad_options_name_the_input, limits, network_options, user_network_and_name, missing_value_and_command, env_file_lines, env_build_order)
