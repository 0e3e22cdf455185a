/* SPDX-License-Identifier: MIT */
/*
 * bench/startup - time sandbox start-up side by side with the peers.
 *
 *   startup [-n RUNS] USBOX            against bwrap and unshare
 *   startup [-n RUNS] -c [-s] USBOX    the cgroup path (in the VM): with and
 *                                      without --mem; -s adds systemd-run --scope
 *   startup [-n RUNS] -N [-u NET] USBOX the network: --net slirp against none,
 *                                      and pasta --config-net (and --net NET,
 *                                      a user network, with -u)
 *   startup [-n RUNS] -H USBOX         the cost of the defaults: the seccomp
 *                                      filter and the home's throw-away layer,
 *                                      each on and off
 *   startup [-n RUNS] -I IMG USBOX     a container of the image IMG against
 *                                      the host view, and podman run of the
 *                                      same image (podman's name: -P NAME)
 *   startup [-n RUNS] -E CTR USBOX     usbox exec into the running container
 *                                      CTR against a fresh sandbox, and podman
 *                                      exec into podman's container -Q NAME
 *
 * Runs every variant RUNS times (default 200), interleaved round-robin so a
 * change in machine load hits all alike, and prints each variant's median,
 * 10th and 90th percentile and its ratio to the baseline's median (bwrap's,
 * or with -c usbox's without a limit).  Meant to run as an unprivileged user
 * (`make bench` arranges that when run as root).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct variant {
	const char *name;
	char *env; /* one extra NAME=VALUE, or NULL */
	char *argv[24];
	double *ms;
	int failed;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char **envp_with(char *extra)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **e = calloc(n + 2, sizeof(char *));
	memcpy(e, environ, n * sizeof(char *));
	e[n] = extra;
	return e;
}

/* Runs @argv once with stdio on /dev/null; returns milliseconds or -1. */
static double run_once(char *const argv[], char **envp)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	double t0 = now_ms();
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	double t = now_ms() - t0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *sorted, int n, double p)
{
	return sorted[(int)((n - 1) * p + 0.5)];
}

int main(int argc, char **argv)
{
	int runs = 200, opt;
	bool cgroup_mode = false, with_systemd = false, net_mode = false, hardening_mode = false;
	const char *image = NULL, *podman_image = NULL, *exec_ctr = NULL, *podman_ctr = NULL;

	const char *user_net = NULL;
	while ((opt = getopt(argc, argv, "n:csNHu:I:P:E:Q:")) != -1) {
		if (opt == 'E')
			exec_ctr = optarg;
		if (opt == 'Q')
			podman_ctr = optarg;
		if (opt == 'I')
			image = optarg;
		if (opt == 'P')
			podman_image = optarg;
		if (opt == 'H')
			hardening_mode = true;
		if (opt == 'u')
			user_net = optarg;
		if (opt == 'n')
			runs = atoi(optarg);
		else if (opt == 'c')
			cgroup_mode = true;
		else if (opt == 's')
			with_systemd = true;
		else if (opt == 'N')
			net_mode = true;
	}
	if (optind >= argc || runs < 5) {
		fprintf(stderr, "usage: startup [-n RUNS>=5] USBOX\n");
		return 2;
	}
	char *usbox = argv[optind];
	struct variant v[] = {
		{ .name = "usbox --net none (full map)", .argv = { usbox, "--net", "none", "--", "true" } },
		{ .name = "usbox, helpers every run (no holder)", .env = "USBOX_NO_HOLDER=1",
		  .argv = { usbox, "--net", "none", "--", "true" } },
		{ .name = "usbox --net none --map single", .argv = { usbox, "--net", "none", "--map", "single", "--", "true" } },
		{ .name = "bwrap --unshare-all (single id)", .argv =
		  { "bwrap", "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs",
		    "/tmp", "true" } },
		{ .name = "unshare -Urnpfmiu --mount-proc", .argv = { "unshare", "-Urnpfmiu", "--mount-proc", "true" } },
	};
	struct variant cg[] = {
		{ .name = "usbox -- true (no limit)", .argv = { usbox, "--", "true" } },
		{ .name = "usbox --mem 512M -- true", .argv = { usbox, "--mem", "512M", "--", "true" } },
		{ .name = "systemd-run --user --scope true", .argv = { "systemd-run", "--user", "--scope", "-q", "true" } },
	};
	struct variant net[] = {
		{ .name = "usbox --net none -- true", .argv = { usbox, "--net", "none", "--", "true" } },
		{ .name = "usbox --net slirp -- true", .argv = { usbox, "--net", "slirp", "--", "true" } },
		{ .name = "pasta --config-net -- true", .argv = { "pasta", "-q", "--config-net", "--", "true" } },
		{ .name = "usbox --net NET (user network)", .argv = { usbox, "--net", (char *)user_net, "--", "true" } },
	};
	struct variant hard[] = {
		{ .name = "usbox, bare (unconfined, --ro-home)",
		  .argv = { usbox, "--net", "none", "--seccomp", "unconfined", "--ro-home", "--", "true" } },
		{ .name = "usbox + seccomp filter", .argv = { usbox, "--net", "none", "--ro-home", "--", "true" } },
		{ .name = "usbox + home layer", .argv = { usbox, "--net", "none", "--seccomp", "unconfined", "--", "true" } },
		{ .name = "usbox defaults (both)", .argv = { usbox, "--net", "none", "--", "true" } },
	};
	struct variant img[] = {
		{ .name = "usbox --net none -- true (host view)", .argv = { usbox, "--net", "none", "--", "true" } },
		{ .name = "usbox run --rm --image IMG -- true",
		  .argv = { usbox, "run", "--rm", "--net", "none", "--image", (char *)image, "--", "true" } },
		{ .name = "podman run --rm --network=none IMG",
		  .argv = { "podman", "run", "--rm", "--network=none", (char *)podman_image, "true" } },
	};
	const char *base_name = "bwrap";
	struct variant ex[] = {
		{ .name = "usbox --net none -- true (fresh)", .argv = { usbox, "--net", "none", "--", "true" } },
		{ .name = "usbox exec CTR true", .argv = { usbox, "exec", (char *)exec_ctr, "true" } },
		{ .name = "podman exec CTR true", .argv = { "podman", "exec", (char *)podman_ctr, "true" } },
	};
	int nv = (int)(sizeof(v) / sizeof(v[0]));
	if (exec_ctr) {
		nv = podman_ctr ? 3 : 2;
		memcpy(v, ex, (size_t)nv * sizeof(ex[0]));
		base_name = "usbox --net none";
	}
	if (image) {
		nv = podman_image ? 3 : 2;
		memcpy(v, img, (size_t)nv * sizeof(img[0]));
		base_name = "usbox --net none";
	}
	if (hardening_mode) {
		nv = 4;
		memcpy(v, hard, sizeof(hard));
		base_name = "usbox, bare";
	}
	if (net_mode) {
		nv = user_net ? 4 : 3;
		memcpy(v, net, sizeof(net));
		base_name = "usbox --net none";
	}
	if (cgroup_mode) {
		nv = with_systemd ? 3 : 2;
		memcpy(v, cg, (size_t)nv * sizeof(cg[0]));
		base_name = "usbox -- true";
	}

	char **envs[sizeof(v) / sizeof(v[0]) + 1];
	for (int i = 0; i < nv; i++) {
		v[i].ms = calloc((size_t)runs, sizeof(double));
		envs[i] = v[i].env ? envp_with(v[i].env) : environ;
		run_once(v[i].argv, envs[i]); /* warm caches, start the id-map holder */
	}
	for (int k = 0; k < runs; k++)
		for (int i = 0; i < nv; i++)
			if ((v[i].ms[k] = run_once(v[i].argv, envs[i])) < 0)
				v[i].failed++;
	double base = 0;
	printf("%-38s %9s %9s %9s %8s\n", "startup, median of runs", "p10 ms", "median", "p90 ms",
	       cgroup_mode ? "/nolimit" : net_mode || image || exec_ctr ? "/none" : hardening_mode ? "/bare" : "/bwrap");
	for (int i = 0; i < nv; i++) {
		qsort(v[i].ms, (size_t)runs, sizeof(double), cmp_double);
		if (strncmp(v[i].name, base_name, strlen(base_name)) == 0)
			base = pct(v[i].ms, runs, 0.5);
	}
	for (int i = 0; i < nv; i++) {
		if (v[i].failed) {
			printf("%-38s failed %d of %d runs\n", v[i].name, v[i].failed, runs);
			continue;
		}
		double med = pct(v[i].ms, runs, 0.5);
		printf("%-38s %9.2f %9.2f %9.2f %8.2f\n", v[i].name, pct(v[i].ms, runs, 0.1), med,
		       pct(v[i].ms, runs, 0.9), base > 0 ? med / base : 0);
	}
	printf("%d runs each, interleaved\n", runs);
	return 0;
}
