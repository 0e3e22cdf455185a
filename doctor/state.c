/* SPDX-License-Identifier: MIT */
/*
 * state.c - the doctor's lines about usbox's own processes and files: the
 * id-map holder, the helpers of user networks, and state that killed runs
 * or removed networks left in the runtime state directory.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/statedir.h"
#include "../netns/netns.h"

/* The pid holder.pid names, or 0. */
static long holder_pid(const char *dir)
{
	char path[4200], buf[64];
	snprintf(path, sizeof(path), "%s/holder.pid", dir);
	return doctor_read_line(path, buf, sizeof(buf)) == 0 ? strtol(buf, NULL, 10) : 0;
}

static void check_holder(struct doctor_ctx *c, const char *dir)
{
	struct doctor_check *k = doctor_add(c, "holder", "id-map holder", false);
	struct ubx_err e = { 0 };
	struct stat st;

	if (lstat(dir, &st) < 0) {
		doctor_say(k, DOCTOR_OK,
			   "not running (%s does not exist yet): the next sandbox with a full map "
			   "starts it",
			   dir);
		return;
	}
	int fd = state_dir_open(dir, c->uid, &e);
	if (fd < 0) {
		doctor_say(k, DOCTOR_FAIL,
			   "the state directory is unusable (%s): no holder can run, so newuidmap "
			   "runs for every sandbox and user networks cannot start",
			   e.msg);
		doctor_fix(k, "rm -rf %s (as its owner, or with sudo)", dir);
		return;
	}
	close(fd);
	int ns = holder_userns(c->uid, &e);
	if (ns >= 0) {
		close(ns);
		snprintf(k->value, sizeof(k->value), "%ld", holder_pid(dir));
		doctor_say(k, DOCTOR_OK,
			   "running (pid %s), its user namespace checked as usbox checks it before "
			   "joining",
			   k->value);
		return;
	}
	doctor_say(k, DOCTOR_OK, "not running: the next sandbox with a full map starts it");
}

static void check_networks(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "networks", "network helpers", false);
	struct netns_network *all = NULL;
	struct ubx_err e = { 0 };
	char list[512] = "";
	int running = 0;

	int n = netns_network_list(&all, &e);
	if (n < 0) {
		doctor_say(k, DOCTOR_WARN, "the user networks cannot be listed: %s", e.msg);
		return;
	}
	for (int i = 0; i < n; i++) {
		int users = netns_network_users(all[i].name, &e);
		if (users < 0) {
			doctor_say(k, DOCTOR_FAIL, "%s", e.msg);
			const char *rm = strstr(e.msg, "; remove ");
			if (rm)
				doctor_fix(k, "rm -rf %s", rm + 9);
			free(all);
			return;
		}
		running += users > 0;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s: %d", i ? ", " : "", all[i].name,
			 users);
	}
	free(all);
	snprintf(k->value, sizeof(k->value), "%d", n);
	if (n == 0)
		doctor_say(k, DOCTOR_OK, "no user networks (usbox network create NAME makes one)");
	else
		doctor_say(k, DOCTOR_OK, "%d user network%s, %d in use (sandboxes: %.400s)", n, n == 1 ? "" : "s",
			   running, list);
}

/* Leftovers in @dir: net-NAME directories of networks that no longer
 * exist (into @rm, to remove), a holder.pid of a process that is gone. */
static int find_stale(const char *dir, char *rm, size_t len, bool *dead_holder)
{
	struct netns_network n;
	struct ubx_err e;
	int count = 0;
	long pid = holder_pid(dir);

	*dead_holder = pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "net-", 4) != 0 || netns_network_load(de->d_name + 4, &n, &e) == 0)
			continue;
		snprintf(rm + strlen(rm), len - strlen(rm), " %.500s/%.100s", dir, de->d_name);
		count++;
	}
	if (d)
		closedir(d);
	return count;
}

static void check_stale(struct doctor_ctx *c, const char *dir)
{
	struct doctor_check *k = doctor_add(c, "stale", "stale state", false);
	char rm[2048] = "";
	bool dead_holder;

	int n = find_stale(dir, rm, sizeof(rm), &dead_holder);
	snprintf(k->value, sizeof(k->value), "%d", n + dead_holder);
	if (n) {
		doctor_say(k, DOCTOR_WARN, "%s holds the runtime files of %d network%s that no longer exist%s", dir, n,
			   n == 1 ? "" : "s", dead_holder ? ", and a holder.pid of a holder that is gone" : "");
		doctor_fix(k, "rm -rf%s", rm);
	} else if (dead_holder) {
		doctor_say(k, DOCTOR_OK,
			   "%s/holder.pid names a holder that is gone (killed?); the next sandbox "
			   "replaces it",
			   dir);
	} else {
		doctor_say(k, DOCTOR_OK, "nothing left behind in %s", dir);
	}
}

void doctor_check_state(struct doctor_ctx *c)
{
	char dir[4096];

	state_dir_path(c->uid, dir, sizeof(dir));
	check_holder(c, dir);
	check_networks(c);
	check_stale(c, dir);
}
