/* SPDX-License-Identifier: MIT */
/*
 * host.c - the doctor's lines about the kernel and the features a sandbox
 * needs: the kernel's version, a container around usbox, unprivileged user
 * namespaces (and the settings that turn them off), AppArmor,
 * /dev/net/tun, libslirp, overlayfs, fuse-overlayfs and seccomp.  The
 * verdicts come from probe.c's throw-away attempts; the settings read here
 * only explain them and name the fix.
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/pathfind.h"
#include "../seccomp/guard.h"

#define SYSCTL_FILE "/etc/sysctl.d/50-usbox.conf"

/* What lets usbox run in a container (@kind) that keeps it from its
 * namespaces (@made: it let usbox make a user namespace, not the rest). */
static const char *container_fix(const char *kind, bool made)
{
	if (strcmp(kind, "usbox") == 0)
		return made ? "run usbox outside the sandbox (its /proc has masked paths, so no fresh /proc "
			      "can be mounted inside)"
			    : "start the outer sandbox with --nested, or run usbox outside it";
	return "run the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined "
	       "--security-opt systempaths=unconfined (podman: --security-opt unmask=ALL), or run usbox outside it";
}

/* A sysctl's value from /proc/sys, or -1 when the kernel has none. */
static long sysctl_value(const char *path)
{
	char buf[64];
	return doctor_read_line(path, buf, sizeof(buf)) == 0 ? strtol(buf, NULL, 10) : -1;
}

static void check_kernel(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "kernel", "kernel", true);
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2) {
		doctor_say(k, DOCTOR_WARN, "cannot tell the kernel's version");
		return;
	}
	snprintf(k->value, sizeof(k->value), "%s", u.release);
	if (major < 5 || (major == 5 && minor < 12)) {
		doctor_say(k, DOCTOR_FAIL, "Linux %s: usbox needs 5.12 or newer (mount_setattr, clone3 into a cgroup)",
			   u.release);
		doctor_fix(k, "install a newer kernel (Debian 12: linux-image-amd64, 6.1)");
		return;
	}
	doctor_say(k, DOCTOR_OK, "Linux %s (usbox needs 5.12 or newer)", u.release);
}

/* What kind of container usbox runs in, from the marks each leaves. */
static void find_container(struct doctor_ctx *c)
{
	char buf[256];
	unsigned long in = 0, out = 0, count = 0;
	struct stat st;

	c->container[0] = '\0';
	if (doctor_read_line("/proc/1/comm", buf, sizeof(buf)) == 0 && strcmp(buf, "usbox-init") == 0)
		snprintf(c->container, sizeof(c->container), "usbox"); /* (the host's marks show through) */
	else if (stat("/.dockerenv", &st) == 0)
		snprintf(c->container, sizeof(c->container), "docker");
	else if (stat("/run/.containerenv", &st) == 0)
		snprintf(c->container, sizeof(c->container), "podman");
	else if (doctor_read_line("/run/systemd/container", buf, sizeof(buf)) == 0 && buf[0])
		snprintf(c->container, sizeof(c->container), "%.60s", buf);
	else if (doctor_read_line("/proc/self/uid_map", buf, sizeof(buf)) == 0 &&
		 (sscanf(buf, "%lu %lu %lu", &in, &out, &count) != 3 || in != 0 || out != 0 || count != 4294967295UL))
		snprintf(c->container, sizeof(c->container), "a user namespace");
}

static void check_container(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "container", "container", false);
	find_container(c);
	snprintf(k->value, sizeof(k->value), "%s", c->container);
	if (!c->container[0]) {
		doctor_say(k, DOCTOR_OK, "not inside a container");
		return;
	}
	if (c->probe.userns == 0 && c->probe.map == 0 && c->probe.ns == 0 && c->probe.proc == 0) {
		doctor_say(k, DOCTOR_OK, "inside %s%s; it lets usbox make its namespaces and mount /proc",
			   strchr(c->container, ' ') ? "" : "a container: ", c->container);
		return;
	}
	doctor_say(k, DOCTOR_WARN,
		   "inside %s%s, which keeps usbox from making or using its namespaces (see user namespaces)",
		   strchr(c->container, ' ') ? "" : "a container: ", c->container);
	doctor_fix(k, "%s", container_fix(c->container, c->probe.userns == 0));
}

static bool apparmor_restricts(void)
{
	return sysctl_value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1;
}

/* The fix when the kernel refuses the user namespace itself. */
static void userns_refused(struct doctor_ctx *c, struct doctor_check *k)
{
	int err = c->probe.userns;
	if (sysctl_value("/proc/sys/kernel/unprivileged_userns_clone") == 0) {
		doctor_say(k, DOCTOR_FAIL,
			   "kernel.unprivileged_userns_clone is 0: this kernel refuses user "
			   "namespaces to unprivileged users, so usbox cannot start a sandbox");
		doctor_fix(k, "echo kernel.unprivileged_userns_clone=1 | sudo tee " SYSCTL_FILE
			      " && sudo sysctl -p " SYSCTL_FILE);
	} else if (sysctl_value("/proc/sys/user/max_user_namespaces") == 0 || err == ENOSPC) {
		doctor_say(k, DOCTOR_FAIL,
			   "user.max_user_namespaces is %ld: no user namespace may be made, so usbox "
			   "cannot start a sandbox (%s)",
			   sysctl_value("/proc/sys/user/max_user_namespaces"), strerror(err));
		doctor_fix(k, "echo user.max_user_namespaces=15000 | sudo tee " SYSCTL_FILE
			      " && sudo sysctl -p " SYSCTL_FILE);
	} else if (c->container[0]) {
		doctor_say(k, DOCTOR_FAIL,
			   "making a user namespace failed (%s): the container usbox runs in "
			   "(%s) forbids it, so usbox cannot start a sandbox",
			   strerror(err), c->container);
		doctor_fix(k, "%s", container_fix(c->container, c->probe.userns == 0));
	} else {
		doctor_say(k, DOCTOR_FAIL, "making a user namespace failed: %s; usbox cannot start a sandbox",
			   strerror(err));
	}
}

/* Which step after unshare() failed, and what it means. */
static void userns_crippled(struct doctor_ctx *c, struct doctor_check *k)
{
	const struct doctor_probe *p = &c->probe;
	const char *what = p->map   ? "writing its id map"
			   : p->ns  ? "making the other namespaces in it"
			   : p->mnt ? "mounting a tmpfs in it"
				    : "mounting a fresh /proc in it";
	int err = p->map ? p->map : p->ns ? p->ns : p->mnt ? p->mnt : p->proc;

	doctor_say(k, DOCTOR_FAIL, "a user namespace was made, but %s failed (%s): usbox cannot start a sandbox%s",
		   what, strerror(err),
		   apparmor_restricts() ? "; AppArmor restricts unprivileged user namespaces (see apparmor)"
		   : c->container[0] && !p->map && !p->ns && !p->mnt
			   ? "; /proc is partly covered, as in a container (see container)"
			   : "");
	if (!apparmor_restricts() && c->container[0])
		doctor_fix(k, "%s", container_fix(c->container, c->probe.userns == 0));
}

static void check_userns(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "userns", "user namespaces", true);
	const struct doctor_probe *p = &c->probe;

	snprintf(k->value, sizeof(k->value), "%ld", sysctl_value("/proc/sys/user/max_user_namespaces"));
	if (p->userns)
		userns_refused(c, k);
	else if (p->map || p->ns || p->mnt || p->proc)
		userns_crippled(c, k);
	else
		doctor_say(k, DOCTOR_OK,
			   "a throw-away user namespace was made and mapped, with mount, pid, uts, "
			   "ipc, net and cgroup namespaces, a tmpfs and a fresh /proc in it "
			   "(user.max_user_namespaces %s)",
			   k->value);
}

/* The AppArmor label of this process ("unconfined", "usbox (unconfined)"). */
static void apparmor_label(char *buf, size_t len)
{
	if (doctor_read_line("/proc/self/attr/apparmor/current", buf, len) < 0 &&
	    doctor_read_line("/proc/self/attr/current", buf, len) < 0)
		snprintf(buf, len, "unknown");
}

static void check_apparmor(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "apparmor", "apparmor", true);
	const struct doctor_probe *p = &c->probe;
	char label[128];

	if (!apparmor_restricts()) {
		doctor_say(k, DOCTOR_OK,
			   "AppArmor does not restrict unprivileged user namespaces here "
			   "(no kernel.apparmor_restrict_unprivileged_userns, or 0)");
		return;
	}
	apparmor_label(label, sizeof(label));
	snprintf(k->value, sizeof(k->value), "%s", label);
	if (p->userns == 0 && p->map == 0 && p->ns == 0 && p->mnt == 0) {
		doctor_say(k, DOCTOR_OK,
			   "AppArmor restricts unprivileged user namespaces, and usbox's profile "
			   "(%s) allows them: the throw-away namespace worked",
			   label);
		return;
	}
	doctor_say(k, DOCTOR_FAIL,
		   "kernel.apparmor_restrict_unprivileged_userns is 1 and no AppArmor profile "
		   "allows usbox user namespaces (it runs as '%s'): usbox cannot start a sandbox",
		   label);
	doctor_fix(k,
		   "printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile usbox %s flags=(unconfined) "
		   "{\\n  userns,\\n}\\n' | sudo tee /etc/apparmor.d/usbox && sudo apparmor_parser -r "
		   "/etc/apparmor.d/usbox",
		   c->exe[0] ? c->exe : "/usr/local/bin/usbox");
}

void doctor_check_host(struct doctor_ctx *c)
{
	check_kernel(c);
	check_container(c);
	check_userns(c);
	check_apparmor(c);
}

/* ------------------------------------------------------------- features */

static void check_tun(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "tun", "/dev/net/tun", true);
	int err = c->probe.tun;
	struct stat st;

	if (err == 0) {
		doctor_say(k, DOCTOR_OK,
			   "a TAP device was made in a throw-away network namespace "
			   "(the default --net slirp needs it)");
	} else if (err < 0) {
		doctor_say(k, DOCTOR_FAIL, "not tried: no network namespace could be made (see user namespaces)");
	} else if (stat("/dev/net/tun", &st) < 0) {
		doctor_say(k, DOCTOR_FAIL,
			   "/dev/net/tun: %s: the default network (--net slirp) cannot start; "
			   "--net none and --net host still work",
			   strerror(errno));
		doctor_fix(k, c->container[0]
				      ? "give the container the device: --device /dev/net/tun"
				      : "sudo modprobe tun && echo tun | sudo tee /etc/modules-load.d/tun.conf");
	} else {
		doctor_say(k, DOCTOR_FAIL,
			   "a TAP device could not be made from /dev/net/tun (%s): the default "
			   "network (--net slirp) cannot start; --net none and --net host still work",
			   strerror(err));
		doctor_fix(k, "sudo chmod 0666 /dev/net/tun");
	}
}

static void check_relay(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "tcp_relay", "TCP relay", false);
	int err = c->probe.relay;

	if (err == 0) {
		doctor_say(k, DOCTOR_OK,
			   "the slirp network's outbound TCP is relayed with the kernel's TCP on both legs (an "
			   "nf_tables redirect in the sandbox's network namespace): full speed at any latency");
	} else if (err < 0) {
		doctor_say(k, DOCTOR_WARN, "not tried: no TAP device could be made (see /dev/net/tun)");
	} else {
		doctor_say(k, DOCTOR_WARN,
			   "%s: libslirp keeps the slirp network's outbound TCP, whose uploads slow down as "
			   "latency grows (no TCP window scaling); everything else works",
			   c->probe.relay_msg);
		doctor_fix(k, "sudo modprobe -a nf_tables nft_chain_nat nft_redir (a user namespace cannot load them)");
	}
}

static void check_ports(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "direct_ports", "Direct -p ports", false);
	struct ubx_err why = { 0 };

	if (seccomp_guard_available(&why) == 0) {
		doctor_say(k, DOCTOR_OK, "a -p TCP port's server takes the host listener (Landlock guards it): "
				      "no relay between the host's clients and the server");
		return;
	}
	doctor_say(k, DOCTOR_WARN, "%s: -p relays each connection (about half the speed under many small "
				  "requests); everything works", why.msg);
	doctor_fix(k, "a kernel with Landlock (6.7 or later, lsm= including landlock)");
}

static void check_libslirp(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "libslirp", "libslirp", true);
	unsigned major = 0, minor = 0;

	void *lib = dlopen("libslirp.so.0", RTLD_LAZY | RTLD_LOCAL);
	if (!lib) {
		doctor_say(k, DOCTOR_FAIL,
			   "libslirp.so.0 cannot be loaded (%s): the default network (--net slirp) "
			   "and user networks cannot start",
			   dlerror());
		doctor_fix(k, "sudo apt-get install libslirp0");
		return;
	}
	const char *(*version)(void) = (const char *(*)(void))dlsym(lib, "slirp_version_string");
	snprintf(k->value, sizeof(k->value), "%s", version ? version() : "");
	dlclose(lib);
	if (sscanf(k->value, "%u.%u", &major, &minor) != 2 || major < 4 || (major == 4 && minor < 1)) {
		doctor_say(k, DOCTOR_FAIL, "libslirp %s is too old: usbox needs 4.1 or newer",
			   k->value[0] ? k->value : "(no version)");
		doctor_fix(k, "sudo apt-get install libslirp0 (from Debian 11 or newer)");
		return;
	}
	doctor_say(k, DOCTOR_OK, "libslirp %s (usbox needs 4.1 or newer)", k->value);
}

static void check_overlay(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "overlayfs", "overlayfs", true);
	int err = c->probe.overlay;

	if (err == 0)
		doctor_say(k, DOCTOR_OK,
			   "kernel overlayfs with userxattr was mounted in a throw-away user namespace, "
			   "over your home (your home's throw-away layer, --tmp-overlay and images use it)");
	else if (err < 0)
		doctor_say(k, DOCTOR_FAIL, "not tried: no mount namespace could be made (see user namespaces)");
	else
		doctor_say(k, DOCTOR_FAIL,
			   "kernel overlayfs could not be mounted in a user namespace (%s): your home's "
			   "throw-away layer, --tmp-overlay and images fail (--ro-home avoids the first)",
			   c->probe.overlay_msg[0] ? c->probe.overlay_msg : strerror(err));
}

static void check_fuse_overlayfs(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "fuse_overlayfs", "fuse-overlayfs", false);
	char path[4096];

	if (exec_find("fuse-overlayfs", getenv("PATH"), path, sizeof(path)) == 0) {
		snprintf(k->value, sizeof(k->value), "%.120s", path);
		doctor_say(k, DOCTOR_OK, "%s is installed; usbox does not use it (its layers are kernel overlayfs)",
			   path);
	} else {
		doctor_say(k, DOCTOR_OK, "not installed; usbox does not need it (its layers are kernel overlayfs)");
	}
}

static void check_seccomp(struct doctor_ctx *c)
{
	struct doctor_check *k = doctor_add(c, "seccomp", "seccomp", true);
	char line[128] = "";
	long mode = 0;

	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "Seccomp:", 8) == 0)
			mode = strtol(line + 8, NULL, 10);
	snprintf(k->value, sizeof(k->value), "%ld", mode);
	if (c->probe.seccomp)
		doctor_say(k, DOCTOR_FAIL,
			   "the default seccomp filter could not be installed (%s): no sandbox can start "
			   "without --seccomp unconfined",
			   c->probe.seccomp_msg);
	else if (mode == 2)
		doctor_say(k, DOCTOR_OK,
			   "the default filter was installed in a child; usbox already runs under a "
			   "filter (its container's?), which stays in force inside too");
	else
		doctor_say(k, DOCTOR_OK, "the default filter (Docker's profile) was installed in a child");
}

void doctor_check_features(struct doctor_ctx *c)
{
	check_tun(c);
	check_libslirp(c);
	check_relay(c);
	check_ports(c);
	check_overlay(c);
	check_fuse_overlayfs(c);
	check_seccomp(c);
}
