/* SPDX-License-Identifier: MIT */
/*
 * ids.c - the doctor's lines about the full id map: no_new_privs, the
 * caller's subordinate ranges (in /etc/subuid and /etc/subgid, as usbox reads
 * them, and through getsubids where /etc/nsswitch.conf names a subid
 * source), newuidmap and newgidmap, and a real map of a throw-away user
 * namespace by those helpers with those ranges, as the id-map holder gets.
 * Without a full map usbox still runs, mapping only the caller's own id (and
 * says so at every start): these lines are not required.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/pathfind.h"

extern char **environ;

#define SUBID_FILES "/etc/subuid", "/etc/subgid"

static void check_nnp(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "no_new_privs", "no_new_privs", false);
	snprintf(k->value, sizeof(k->value), "%d", c->nnp);
	if (!c->nnp) {
		doctor_say(k, DOCTOR_OK, "not set on usbox: newuidmap and newgidmap can gain their privileges");
		return;
	}
	doctor_say(k, DOCTOR_FAIL,
		   "no_new_privs is set on usbox (inherited from whatever started it): newuidmap "
		   "and newgidmap cannot gain their privileges, so usbox maps only your own id");
	doctor_fix(k, "start usbox from a session without it: drop NoNewPrivileges=yes (and what implies it) from "
		      "the systemd unit that runs it, or stop wrapping it in `setpriv --no-new-privs`");
}

uint32_t doctor_free_subid_start(FILE *f, FILE *g)
{
	uint64_t top = 100000;
	char line[512];
	FILE *files[2] = { f, g };

	for (int i = 0; i < 2; i++) {
		while (files[i] && fgets(line, sizeof(line), files[i])) {
			const char *colon = strchr(line, ':');
			unsigned long long start, count;
			if (!colon || sscanf(colon + 1, "%llu:%llu", &start, &count) != 2)
				continue;
			if (start + count > top)
				top = start + count;
		}
	}
	top = (top + 65535) / 65536 * 65536;
	return top > UINT32_MAX - 65536 ? 0 : (uint32_t)top;
}

static uint64_t ranges_total(const struct idmap_range *r, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += r[i].count;
	return sum;
}

/* The caller's ranges in @path: by name or uid (*@out), by name alone. */
static size_t read_ranges(const char *path, const struct doctor_ctx *c, uint32_t id, struct idmap_range *out,
			  size_t *by_name)
{
	struct idmap_range tmp[IDMAP_MAX_RANGES];
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return *by_name = 0;
	size_t n = idmap_subid_parse(f, c->user[0] ? c->user : NULL, id, out);
	rewind(f);
	*by_name = c->user[0] ? idmap_subid_parse(f, c->user, UINT32_MAX, tmp) : 0;
	return n;
}

/* The command that gives the caller a free 65536-id range in both files. */
static void fix_add_range(const struct doctor_ctx *c, struct doctor_check *k)
{
	_cleanup_fclose_ FILE *u = fopen("/etc/subuid", "re");
	_cleanup_fclose_ FILE *g = fopen("/etc/subgid", "re");
	uint32_t s = doctor_free_subid_start(u, g);
	char who[64];
	snprintf(who, sizeof(who), "%s", c->user[0] ? c->user : "");
	if (!who[0])
		snprintf(who, sizeof(who), "%" PRIu32, c->uid);
	doctor_fix(k, "sudo usermod --add-subuids %" PRIu32 "-%" PRIu32 " --add-subgids %" PRIu32 "-%" PRIu32 " %s", s,
		   s + 65535, s, s + 65535, who);
}

static void check_subids(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "subids", "subordinate ids", false);
	size_t un, gn;

	c->nu = read_ranges("/etc/subuid", c, c->uid, c->ur, &un);
	c->ng = read_ranges("/etc/subgid", c, c->gid, c->gr, &gn);
	uint64_t tu = ranges_total(c->ur, c->nu), tg = ranges_total(c->gr, c->ng);
	snprintf(k->value, sizeof(k->value), "%" PRIu64, tu < tg ? tu : tg);
	const char *who = c->user[0] ? c->user : "your uid";
	if (!c->nu || !c->ng) {
		doctor_say(k, DOCTOR_FAIL,
			   "no subordinate %s range for %s (uid %" PRIu32 ") in %s: usbox maps only your "
			   "own id (images that own files as other users fail to extract), and user "
			   "networks cannot start",
			   !c->nu ? "uid" : "gid", who, c->uid, !c->nu ? "/etc/subuid" : "/etc/subgid");
		fix_add_range(c, k);
		return;
	}
	const char *how = un == c->nu && gn == c->ng ? "by name" : un == 0 && gn == 0 ? "by uid" : "by name and uid";
	if (tu < IDMAP_SANDBOX_IDS || tg < IDMAP_SANDBOX_IDS) {
		doctor_say(k, DOCTOR_WARN,
			   "%s has %" PRIu64 " subordinate uids and %" PRIu64 " gids (%s): a sandbox maps "
			   "them and your own id, not the 65536 ids images expect (nobody is 65534)",
			   who, tu, tg, how);
		fix_add_range(c, k);
		return;
	}
	doctor_say(k, DOCTOR_OK,
		   "%s has %" PRIu64 " subordinate uids in /etc/subuid and %" PRIu64
		   " gids in /etc/subgid (%s): a sandbox maps 65536 of them",
		   who, tu, tg, how);
}

/* Runs `getsubids [-g] USER`; the ids it lists in total (0: none or an error). */
static uint64_t getsubids_total(const char *user, bool groups)
{
	char *argv[] = { "getsubids", groups ? "-g" : (char *)user, groups ? (char *)user : NULL, NULL };
	int pfd[2], status;
	pid_t pid;
	uint64_t sum = 0;
	char line[256];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return 0;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	int r = posix_spawnp(&pid, "getsubids", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	_cleanup_fclose_ FILE *f = fdopen(pfd[0], "re");
	if (!f) {
		close(pfd[0]);
		r = r ? r : errno;
	}
	while (r == 0 && fgets(line, sizeof(line), f)) { /* "0: user 100000 65536" */
		unsigned long long start, count;
		if (sscanf(line, "%*u: %*s %llu %llu", &start, &count) == 2)
			sum += count;
	}
	if (r == 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	return r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? sum : 0;
}

/* The source /etc/nsswitch.conf names for subordinate ids, or "". */
static void subid_source(char *out, size_t len)
{
	char line[256];
	out[0] = '\0';
	_cleanup_fclose_ FILE *f = fopen("/etc/nsswitch.conf", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "subid:", 6) != 0)
			continue;
		char *s = line + 6 + strspn(line + 6, " \t");
		s[strcspn(s, " \t\n#")] = '\0';
		snprintf(out, len, "%s", s);
	}
}

static void check_getsubids(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "subid_source", "subid source", false);
	char src[64];

	subid_source(src, sizeof(src));
	snprintf(k->value, sizeof(k->value), "%s", src[0] ? src : "files");
	if (!src[0] || strcmp(src, "files") == 0) {
		doctor_say(k, DOCTOR_OK,
			   "newuidmap reads /etc/subuid and /etc/subgid, as usbox does "
			   "(no other subid source in /etc/nsswitch.conf)");
		return;
	}
	uint64_t u = c->user[0] ? getsubids_total(c->user, false) : 0;
	uint64_t g = c->user[0] ? getsubids_total(c->user, true) : 0;
	if (u && g && c->nu && c->ng) {
		doctor_say(k, DOCTOR_OK,
			   "/etc/nsswitch.conf takes subordinate ids from %s: getsubids lists %" PRIu64
			   " uids and %" PRIu64 " gids for you, and /etc/subuid and /etc/subgid, which usbox "
			   "reads, list yours too",
			   src, u, g);
	} else if (u && g) {
		doctor_say(k, DOCTOR_FAIL,
			   "/etc/nsswitch.conf takes subordinate ids from %s, where getsubids finds "
			   "%" PRIu64 " uids and %" PRIu64 " gids for you, but usbox reads only "
			   "/etc/subuid and /etc/subgid, which list none: it maps only your own id",
			   src, u, g);
		doctor_fix(k, "copy the range getsubids %s shows into /etc/subuid and /etc/subgid as %s:START:COUNT",
			   c->user, c->user);
	} else {
		doctor_say(k, DOCTOR_FAIL,
			   "/etc/nsswitch.conf takes subordinate ids from %s, and getsubids finds no "
			   "range for you there: newuidmap refuses to map any, so usbox maps only your own id",
			   src);
		doctor_fix(k,
			   "give %s a range in %s (or remove the subid line from /etc/nsswitch.conf to use "
			   "/etc/subuid)",
			   c->user[0] ? c->user : "this user", src);
	}
}

/* One helper: on PATH (as usbox runs it), and able to gain privileges. */
static bool helper_ok(const char *name, const char *cap, char *msg, size_t mlen, char *fix, size_t flen)
{
	char path[4096];
	struct stat st;
	struct statvfs vfs;

	if (exec_find(name, getenv("PATH"), path, sizeof(path)) < 0) {
		snprintf(msg, mlen, "%s is not on PATH (%.200s)", name, getenv("PATH") ? getenv("PATH") : "unset");
		snprintf(fix, flen,
			 stat("/usr/bin/newuidmap", &st) == 0 ? "export PATH=\"$PATH:/usr/bin\" (usbox runs "
								"the helpers from PATH)"
							      : "sudo apt-get install uidmap");
		return false;
	}
	if (stat(path, &st) < 0) {
		snprintf(msg, mlen, "%.200s: %s", path, strerror(errno));
		return false;
	}
	bool setuid = (st.st_mode & S_ISUID) && st.st_uid == 0;
	bool caps = getxattr(path, "security.capability", NULL, 0) > 0;
	if (!setuid && !caps) {
		snprintf(msg, mlen, "%.200s is neither setuid root nor has file capabilities", path);
		snprintf(fix, flen, "sudo setcap %s+ep %.100s (or sudo chmod u+s %.100s)", cap, path, path);
		return false;
	}
	if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) {
		snprintf(msg, mlen, "%.200s lies on a nosuid mount, so it cannot gain its privileges", path);
		snprintf(fix, flen, "remount its file system without nosuid, or install uidmap on another");
		return false;
	}
	snprintf(msg, mlen, "%.200s (%s)", path, setuid ? "setuid root" : "file capabilities");
	return true;
}

static void check_helpers(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "newuidmap", "newuidmap", false);
	char um[300], gm[300], uf[300] = "", gf[300] = "";

	bool u = helper_ok("newuidmap", "cap_setuid", um, sizeof(um), uf, sizeof(uf));
	bool g = helper_ok("newgidmap", "cap_setgid", gm, sizeof(gm), gf, sizeof(gf));
	c->helpers_ok = u && g;
	if (c->helpers_ok) {
		doctor_say(k, DOCTOR_OK, "%s and %s", um, gm);
		return;
	}
	doctor_say(k, DOCTOR_FAIL, "%s: usbox maps only your own id", !u ? um : gm);
	doctor_fix(k, "%s", !u ? uf : gf);
}

/* newuidmap/newgidmap map a child that waits in a new user namespace with
 * the holder's layout; its uid_map is read back.  Return: the ids mapped,
 * or 0 with the helper's message in @e. */
static uint64_t map_for_real(const struct doctor_ctx *c, struct ubx_err *e)
{
	struct idmap um, gm;
	int go[2], ready[2];
	char byte, path[64], line[128];
	uint64_t mapped = 0;

	idmap_layout(0, c->uid, c->ur, c->nu, 1 + (uint64_t)IDMAP_SANDBOX_IDS, &um);
	idmap_layout(0, c->gid, c->gr, c->ng, 1 + (uint64_t)IDMAP_SANDBOX_IDS, &gm);
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
		return ubx_fail(e, errno, "pipe"), 0;
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		int err = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
		(void)!write(ready[1], &err, sizeof(err));
		(void)!read(go[0], &byte, 1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	int err = pid < 0 ? errno : 0;
	if (pid > 0 && read(ready[0], &err, sizeof(err)) != sizeof(err))
		err = EIO;
	if (err)
		ubx_fail(e, err, "a throw-away user namespace");
	else if (idmap_run_helper("newuidmap", pid, &um, e) == 0 && idmap_run_helper("newgidmap", pid, &gm, e) == 0) {
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
		_cleanup_fclose_ FILE *f = fopen(path, "re");
		unsigned long long in, out, count;
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "%llu %llu %llu", &in, &out, &count) == 3)
				mapped += count;
	}
	close(go[1]);
	close(ready[0]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	return mapped;
}

static void check_map(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "id_map", "id map", false);
	struct ubx_err e = { 0 };

	if (!c->nu || !c->ng || !c->helpers_ok) {
		doctor_say(k, DOCTOR_FAIL, "no full id map can be made (see %s): usbox maps only your own id",
			   !c->nu || !c->ng ? "subordinate ids" : "newuidmap");
		return;
	}
	uint64_t n = map_for_real(c, &e);
	snprintf(k->value, sizeof(k->value), "%" PRIu64, n);
	if (n > 1) {
		doctor_say(k, DOCTOR_OK,
			   "newuidmap and newgidmap mapped %" PRIu64 " ids into a throw-away user "
			   "namespace with your ranges, as they map the id-map holder's",
			   n);
		return;
	}
	doctor_say(k, DOCTOR_FAIL, "%s: usbox maps only your own id%s", e.msg[0] ? e.msg : "nothing was mapped",
		   c->nnp ? " (no_new_privs is set: see no_new_privs)" : "");
	if (c->nnp)
		doctor_fix(k, "start usbox from a session without no_new_privs (see no_new_privs)");
}

void doctor_check_ids(struct doctor_ctx *c)
{
	check_nnp(c);
	check_subids(c);
	check_getsubids(c);
	check_helpers(c);
	check_map(c);
}
