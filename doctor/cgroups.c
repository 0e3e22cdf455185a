/* SPDX-License-Identifier: MIT */
/*
 * cgroups.c - the doctor's lines about limits: cgroup v2, usbox's own
 * cgroup, a systemd user manager on D-Bus, lingering, and for real the
 * cgroup a sandbox with --mem, --cpus and --pids would get.  A child runs
 * cgroup_setup() as usbox does (a transient scope over D-Bus, else a
 * delegated ancestor), reads which controllers its cgroup may enable, and
 * tears it down.  Limits are optional: none of these lines is required.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cgroup/cgroup.h"
#include "../common/cleanup.h"

#define LIMIT_CONTROLLERS "memory cpu pids"
#define DELEGATE_FIX                                                                                              \
	"sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu cpuset io memory " \
	"pids\\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload, " \
	"then log in again"

/* The cgroup2 mount point, or "". */
static void cgroup2_mount(char *out, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f || cgroup_find_mount(f, out, len) < 0)
		out[0] = '\0';
}

/* The controllers of @list missing from the file @dir/@file, into @out. */
static void missing_from(const char *dir, const char *file, const char *list, char *out, size_t len)
{
	char path[PATH_MAX], have[512] = "", want[128], *save = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	(void)doctor_read_line(path, have, sizeof(have));
	snprintf(want, sizeof(want), "%s", list);
	out[0] = '\0';
	for (char *w = strtok_r(want, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char padded[64], hay[520];
		snprintf(padded, sizeof(padded), " %s ", w);
		snprintf(hay, sizeof(hay), " %s ", have);
		if (!strstr(hay, padded))
			snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? " " : "", w);
	}
}

static void check_v2(struct doctor_ctx *c, const char *mnt)
{
	struct doctor_check *k = doctor_add(c, "cgroup_v2", "cgroup v2", false);
	char missing[128];

	if (!mnt[0]) {
		snprintf(k->value, sizeof(k->value), "none");
		doctor_say(k, DOCTOR_FAIL,
			   "no cgroup2 file system is mounted: limits (--mem, --cpus, --pids) and "
			   "--stats cannot work");
		doctor_fix(k, "boot with systemd.unified_cgroup_hierarchy=1 (add it to GRUB_CMDLINE_LINUX in "
			      "/etc/default/grub, run sudo update-grub and reboot)");
		return;
	}
	missing_from(mnt, "cgroup.controllers", LIMIT_CONTROLLERS, missing, sizeof(missing));
	if (missing[0]) {
		snprintf(k->value, sizeof(k->value), "hybrid");
		doctor_say(k, DOCTOR_FAIL,
			   "cgroup2 is at %s, but this host binds the controllers %s to cgroup v1 "
			   "(a hybrid hierarchy): limits (--mem, --cpus, --pids) and --stats cannot work",
			   mnt, missing);
		doctor_fix(k, "boot with systemd.unified_cgroup_hierarchy=1 (add it to GRUB_CMDLINE_LINUX in "
			      "/etc/default/grub, run sudo update-grub and reboot)");
		return;
	}
	snprintf(k->value, sizeof(k->value), "unified");
	doctor_say(k, DOCTOR_OK, "cgroup2 at %s has the memory, cpu and pids controllers", mnt);
}

static void check_own(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "cgroup_self", "usbox's cgroup", false);
	char rel[PATH_MAX];
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f || cgroup_self_path(f, rel, sizeof(rel)) < 0) {
		doctor_say(k, DOCTOR_WARN, "/proc/self/cgroup has no cgroup v2 line");
		return;
	}
	snprintf(k->value, sizeof(k->value), "%.120s", rel);
	doctor_say(k, DOCTOR_OK, "usbox runs in the cgroup %s", rel);
}

/* The child: the cgroup a sandbox with limits gets, then torn down. */
static void cgroup_child(struct doctor_cgroup *out)
{
	struct cgroup_limits l;
	struct cgroup_sandbox cg;
	struct ubx_err e = { 0 };
	char path[PATH_MAX + 32];

	cgroup_limits_init(&l);
	l.mem = l.pids = CGROUP_MAX;
	l.cpu_weight = 100;
	out->r = cgroup_setup(&l, NULL, false, &cg, &e);
	snprintf(out->msg, sizeof(out->msg), "%s", out->r < 0 ? e.msg : "");
	doctor_unpoint(out->msg);
	if (out->r < 0)
		return;
	snprintf(out->unit, sizeof(out->unit), "%s", cg.unit);
	snprintf(out->own, sizeof(out->own), "%.1000s", cg.own);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", cg.own);
	(void)doctor_read_line(path, out->controllers, sizeof(out->controllers));
	cgroup_teardown(&cg);
}

static void probe_cgroup(struct doctor_cgroup *cg)
{
	int fds[2];
	*cg = (struct doctor_cgroup){ .r = -EIO };
	snprintf(cg->msg, sizeof(cg->msg), "the child that asked for a cgroup died");
	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		cgroup_child(cg);
		_exit(write(fds[1], cg, sizeof(*cg)) == (ssize_t)sizeof(*cg) ? 0 : 1);
	}
	close(fds[1]);
	struct doctor_cgroup got;
	if (pid > 0 && read(fds[0], &got, sizeof(got)) == (ssize_t)sizeof(got))
		*cg = got;
	close(fds[0]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

/* The user bus usbox would use, or "" with why not in @why. */
static bool user_bus(char *bus, size_t len, char *why, size_t wlen)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	if (!rt || !*rt) {
		snprintf(why, wlen, "XDG_RUNTIME_DIR is not set (a su or sudo session, or a service)");
		return false;
	}
	snprintf(bus, len, "%s/bus", rt);
	if (stat(bus, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		snprintf(why, wlen, "there is no socket %s", bus);
		return false;
	}
	return true;
}

static bool systemd_booted(void)
{
	struct stat st;
	return stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

static void check_systemd(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "systemd_user", "systemd user manager", false);
	char bus[PATH_MAX], why[PATH_MAX + 64], rt[64];
	struct stat st;

	bool have_bus = user_bus(bus, sizeof(bus), why, sizeof(why));
	if (!have_bus && !systemd_booted()) {
		doctor_say(k, DOCTOR_OK,
			   "systemd is not this host's init: limits need a delegated cgroup above "
			   "usbox's own, or --cgroup-parent");
		return;
	}
	if (!have_bus) {
		doctor_say(k, DOCTOR_WARN,
			   "no systemd user manager to ask for a delegated scope: %s; limits then need "
			   "a delegated cgroup above usbox's own, or --cgroup-parent",
			   why);
		snprintf(rt, sizeof(rt), "/run/user/%u/bus", (unsigned)c->uid);
		if (stat(rt, &st) == 0)
			doctor_fix(k, "export XDG_RUNTIME_DIR=/run/user/%u", (unsigned)c->uid);
		else
			doctor_fix(k,
				   "sudo loginctl enable-linger %s, then log in with ssh or `machinectl shell %s@` "
				   "(not su or sudo)",
				   c->user, c->user);
		return;
	}
	snprintf(k->value, sizeof(k->value), "%.120s", bus);
	if (c->cg.r == 0 && c->cg.unit[0]) {
		doctor_say(k, DOCTOR_OK,
			   "the user manager at %s made a transient scope with Delegate=yes for usbox "
			   "over D-Bus (%s)",
			   bus, c->cg.unit);
		return;
	}
	doctor_say(k, DOCTOR_WARN, "%s is there, but its manager gave usbox no scope%s%s", bus,
		   c->cg.r < 0 ? ": " : " (a delegated cgroup was used instead)", c->cg.r < 0 ? c->cg.msg : "");
	doctor_fix(k, "systemctl --user status (is the user manager running? is libsystemd0 installed?)");
}

static void check_linger(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "linger", "linger", false);
	char path[256];
	struct stat st;

	if (!systemd_booted()) {
		doctor_say(k, DOCTOR_OK, "systemd is not this host's init: lingering does not apply");
		return;
	}
	snprintf(path, sizeof(path), "/var/lib/systemd/linger/%s", c->user);
	if (c->user[0] && stat(path, &st) == 0) {
		snprintf(k->value, sizeof(k->value), "yes");
		doctor_say(k, DOCTOR_OK,
			   "lingering is on: your user manager runs without a login (for CI runners "
			   "and services)");
		return;
	}
	snprintf(k->value, sizeof(k->value), "no");
	doctor_say(k, DOCTOR_WARN,
		   "lingering is off: your user manager runs only while you are logged in, so "
		   "usbox started by a service or cron gets no delegated scope for limits");
	doctor_fix(k, "sudo loginctl enable-linger %s", c->user[0] ? c->user : "USER");
}

static void check_limits(struct doctor_ctx *c, const char *mnt)
{
	struct doctor_check *k = doctor_add(c, "limits", "limits", false);
	const struct doctor_cgroup *cg = &c->cg;
	char missing[128] = "", bus[PATH_MAX], why[PATH_MAX + 64];

	if (cg->r == 0) {
		snprintf(k->value, sizeof(k->value), "%s", cg->controllers);
		doctor_say(k, DOCTOR_OK,
			   "a cgroup with memory, cpu and pids limits was made %s %s and removed; "
			   "controllers it may use: %s",
			   cg->unit[0] ? "in the systemd scope" : "under", cg->unit[0] ? cg->unit : cg->own,
			   cg->controllers[0] ? cg->controllers : "none");
		return;
	}
	doctor_say(k, DOCTOR_FAIL, "usbox cannot apply limits (--mem, --cpus, --pids) or --stats here: %s", cg->msg);
	if (mnt[0])
		missing_from(mnt, "cgroup.controllers", LIMIT_CONTROLLERS, missing, sizeof(missing));
	if (!mnt[0] || missing[0])
		doctor_fix(k, "boot with systemd.unified_cgroup_hierarchy=1 (add it to GRUB_CMDLINE_LINUX in "
			      "/etc/default/grub, run sudo update-grub and reboot)");
	else if (systemd_booted() && !user_bus(bus, sizeof(bus), why, sizeof(why)))
		doctor_fix(k,
			   "sudo loginctl enable-linger %s and log in again with ssh, or pass --cgroup-parent DIR "
			   "(a cgroup v2 directory you own)",
			   c->user[0] ? c->user : "USER");
	else if (systemd_booted())
		doctor_fix(k, DELEGATE_FIX);
	else
		doctor_fix(k, "pass --cgroup-parent DIR: a cgroup v2 directory you own, with memory, cpu and pids in "
			      "its cgroup.subtree_control");
}

void doctor_check_cgroups(struct doctor_ctx *c)
{
	char mnt[PATH_MAX];

	cgroup2_mount(mnt, sizeof(mnt));
	probe_cgroup(&c->cg);
	check_v2(c, mnt);
	check_own(c);
	check_systemd(c);
	check_linger(c);
	check_limits(c, mnt);
}
