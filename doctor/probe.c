/* SPDX-License-Identifier: MIT */
/*
 * probe.c - the throw-away attempts behind the doctor's namespace lines.
 *
 * DOC: Theory of operation
 * A child makes a user namespace and writes its single-id map itself (as
 * `usbox --map single` does), then the namespaces a sandbox gets, mounts a
 * tmpfs on /tmp of its private mount namespace, a fresh /proc from a child
 * that is PID 1 of the new pid namespace, a kernel overlayfs with userxattr
 * whose lower layer is $HOME (as the home's throw-away layer) and whose
 * upper layer is on that tmpfs, and turns /dev/net/tun into a TAP in the new
 * network namespace (as the slirp network does), behind which it sets up the
 * nf_tables redirect of outbound TCP (netns/redirect.c).  Each step's errno goes back
 * over a pipe; the first that fails stops the ones that need it.  Another
 * child sets no_new_privs and installs the default seccomp filter.  The
 * kernel frees every namespace and mount when the children exit.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/overlay.h"
#include "../netns/netns.h"
#include "../seccomp/seccomp.h"

/* In the new pid namespace: a child (PID 1 there) mounts /proc.
 * Return: 0 or the errno. */
static int try_proc(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		(void)mkdir("/tmp/proc", 0755);
		_exit(mount("proc", "/tmp/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ? errno : 0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

static int try_tun(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "doctor0");
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
		return errno;
	return 0;
}

/* The slirp network's TAP and TCP redirect, as the sandbox's init makes them.
 * Return: 0 or the errno, with the reason in @msg. */
static int try_relay(char *msg, size_t len)
{
	struct netns_redirect_plan plan = { 0 };
	struct netns_redirect rd;
	struct ubx_err e = { 0 };
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return errno;
	if (netns_loopback_up(&e) < 0 || netns_tap_setup(fd, &e) < 0 || netns_redirect_setup(&plan, &rd, &e) < 0) {
		snprintf(msg, len, "%.230s", e.msg);
		return e.code ? e.code : EINVAL;
	}
	close(rd.listen4);
	if (rd.listen6 >= 0)
		close(rd.listen6);
	return 0;
}

static int try_overlay(char *msg, size_t len)
{
	struct ubx_err e = { 0 };
	const char *home = getenv("HOME");
	struct stat st;
	char *lowers[] = { (char *)(home && *home && stat(home, &st) == 0 && S_ISDIR(st.st_mode) ? home : "/tmp/lower"),
			   NULL };

	if (mkdir("/tmp/lower", 0755) < 0 || mkdir("/tmp/upper", 0755) < 0 || mkdir("/tmp/work", 0755) < 0 ||
	    mkdir("/tmp/merged", 0755) < 0)
		return errno;
	int fd = overlay_mount(lowers, "/tmp/upper", "/tmp/work", 0, "/tmp/merged", &e);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	snprintf(msg, len, "%.230s", e.msg);
	return e.code ? e.code : EINVAL;
}

/* The single-id map of the calling process's new user namespace. */
static int write_own_map(uint32_t uid, uint32_t gid)
{
	struct idmap um, gm;
	struct ubx_err e = { 0 };
	idmap_layout(0, uid, NULL, 0, 1, &um);
	idmap_layout(0, gid, NULL, 0, 1, &gm);
	if (idmap_write_direct(getpid(), "uid", &um, false, &e) < 0 ||
	    idmap_write_direct(getpid(), "gid", &gm, true, &e) < 0)
		return e.code ? e.code : EPERM;
	return 0;
}

/* The child's steps, in order; -1 marks those a failure cut off. */
static void probe_child(struct doctor_probe *p)
{
	uint32_t uid = getuid(), gid = getgid();

	p->userns = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
	if (p->userns)
		return;
	if ((p->map = write_own_map(uid, gid)))
		return;
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
	if ((p->ns = unshare(flags) < 0 ? errno : 0))
		return;
	p->tun = try_tun();
	p->relay = p->tun ? -1 : try_relay(p->relay_msg, sizeof(p->relay_msg));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
		p->mnt = errno;
		return;
	}
	p->mnt = 0;
	p->proc = try_proc();
	p->overlay = try_overlay(p->overlay_msg, sizeof(p->overlay_msg));
}

static void seccomp_child(struct doctor_probe *p)
{
	struct seccomp_prog prog = { 0 };
	struct ubx_err e = { 0 };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		p->seccomp = errno;
		snprintf(p->seccomp_msg, sizeof(p->seccomp_msg), "no_new_privs: %s", strerror(errno));
		return;
	}
	int r = seccomp_prepare(SECCOMP_DEFAULT, NULL, &prog, &e);
	if (r == 0)
		r = seccomp_install(&prog, &e);
	seccomp_prog_free(&prog);
	p->seccomp = r < 0 ? -r : 0;
	if (r < 0)
		snprintf(p->seccomp_msg, sizeof(p->seccomp_msg), "%.230s", e.msg);
}

/* Runs @fn(@p) in a child and takes back what it wrote into @p. */
static int in_child(void (*fn)(struct doctor_probe *), struct doctor_probe *p, struct ubx_err *e)
{
	int fds[2], status;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return ubx_fail(e, errno, "pipe");
	_cleanup_close_ int rd = fds[0];
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[1]);
		return ubx_fail(e, errno, "fork");
	}
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(p);
		_exit(write(fds[1], p, sizeof(*p)) == (ssize_t)sizeof(*p) ? 0 : 1);
	}
	close(fds[1]);
	ssize_t n;
	struct doctor_probe got;
	while ((n = read(rd, &got, sizeof(got))) < 0 && errno == EINTR)
		;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(got))
		return ubx_fail(e, 0, "the doctor's probe died (status %d)", status);
	*p = got;
	return 0;
}

int doctor_probe_namespaces(struct doctor_probe *p, struct ubx_err *e)
{
	*p = (struct doctor_probe){ -1, -1, -1, -1, -1, -1, -1, -1, -1, "", "", "" };
	int r = in_child(probe_child, p, e);
	return r < 0 ? r : in_child(seccomp_child, p, e);
}
