/* SPDX-License-Identifier: MIT */
/*
 * init.c - PID 1 of the sandbox.
 *
 * DOC: Theory of operation
 * The supervisor clones us into new namespaces with the forwarded signals and
 * SIGCHLD blocked.  We ask to be killed with the supervisor, wait until it has
 * written our id maps, build the file system, host name and loopback, then
 * fork the command.  From then on we poll a signalfd (SIGCHLD reaps every
 * child, orphans included; anything else goes to the command) and, with a
 * network of our own that has forwarded ports, a socket on which the
 * supervisor asks for sockets of our network namespace.
 * When the command ends we exit with its status, and the kernel kills what is
 * left in the pid namespace.  A pid namespace's init ignores signals it has
 * no handler for, even from the supervisor, so each forwarded signal gets a
 * no-op handler although it is only ever read from the signalfd.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fdpass.h"
#include "../common/proctitle.h"
#include "../netns/netns.h"
#include "mounts.h"

void signals_fill(sigset_t *set)
{
	static const int sigs[] = { FORWARDED_SIGNALS };
	struct sigaction sa;

	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &sa) < 0 || sa.sa_handler != SIG_IGN)
			sigaddset(set, sigs[i]);
}

void signals_fill_init(sigset_t *set)
{
	struct sigaction sa;
	sigemptyset(set);
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD || sig == SIGPIPE || sig == SIGSEGV ||
		    sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS ||
		    (sig > 31 && sig < SIGRTMIN))
			continue;
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
			sigaddset(set, sig);
	}
}

static void ignore_signal(int sig)
{
	(void)sig;
}

/* The network's TCP redirect (netns/redirect.c): its listeners and
 * nfnetlink socket, opened first thing (early_network()) and handed to the
 * supervisor, which adds the rule once the command runs. */
struct redirect_start {
	struct netns_redirect rd;
	int started;        /* netns_redirect_open()'s result */
	struct ubx_err why; /* why not */
	int tun;            /* /dev/net/tun, opened on the host's /dev */
	int tun_errno;      /* why not */
	bool lo_up;
};

/* Before the id maps are written: the capabilities over the network
 * namespace are there already, and no file is made. */
static void early_network(const struct child_params *p, struct redirect_start *rs)
{
	rs->started = -1;
	rs->tun = -1;
	if (p->spec->net != NET_SLIRP && p->spec->net != NET_USER)
		return;
	if (p->spec->net == NET_SLIRP && (rs->tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0) {
		rs->tun_errno = errno;
		return;
	}
	rs->started = netns_loopback_up(&rs->why);
	rs->lo_up = rs->started == 0;
	if (rs->lo_up)
		rs->started = netns_redirect_open(&rs->rd, &rs->why);
}

/* The redirect's listeners and nfnetlink socket go to the supervisor, then
 * "r"; or "x" and why libslirp keeps TCP. */
static int offer_redirect(const struct child_params *p, struct redirect_start *rs)
{
	struct netns_redirect *rd = &rs->rd;
	char msg[sizeof(rs->why.msg) + 1];

	if (rs->started != 0) {
		int n = snprintf(msg, sizeof(msg), "x%s", rs->why.msg);
		return write(p->net_sock, msg, (size_t)n) == n ? 0 : -EPIPE;
	}
	int r = fd_send(p->net_sock, rd->listen4, '4');
	if (r == 0 && rd->listen6 >= 0)
		r = fd_send(p->net_sock, rd->listen6, '6');
	if (r == 0)
		r = fd_send(p->net_sock, rd->nl, 'l');
	netns_redirect_close(rd);
	if (r == 0 && write(p->net_sock, "r", 1) != 1)
		r = -EPIPE;
	return r;
}

/* The TAP for the slirp network: made here, inside, then handed to the
 * supervisor with the redirect's sockets; it answers once libslirp runs
 * behind it. */
static int start_tap(const struct child_params *p, int tun, struct redirect_start *rs, struct ubx_err *e)
{
	char ack;
	int r = netns_tap_setup(tun, e);
	if (r < 0)
		return ubx_wrap(e, "network");
	if ((r = fd_send(p->net_sock, tun, 'n')) < 0 || (r = offer_redirect(p, rs)) < 0)
		return ubx_fail(e, -r, "hand the TAP to usbox");
	if (read(p->net_sock, &ack, 1) != 1)
		return ubx_fail(e, EPIPE, "the user-mode network did not start");
	return 0;
}

/* On a user network: the supervisor sends the lease once the helper has put
 * the veth's inner end here; configure it, and hand over the redirect. */
static int configure_veth(const struct child_params *p, struct redirect_start *rs, struct ubx_err *e)
{
	struct netns_lease l;
	if (read(p->net_sock, &l, sizeof(l)) != sizeof(l))
		return ubx_fail(e, EPIPE, "network %s did not attach the sandbox", p->spec->network);
	int r = netns_iface_setup(NETNS_TAP_NAME, 0, &l, e);
	if (r < 0)
		return ubx_wrap(e, "network %s", p->spec->network);
	if ((r = offer_redirect(p, rs)) < 0)
		return ubx_fail(e, -r, "hand the TCP redirect to usbox");
	return 0;
}

/* Writes @text into the /proc file @path.  Return: 0 or a negative errno. */
static int proc_write(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text);
	return write(fd, text, n) == (ssize_t)n ? 0 : -errno;
}

/* An OCI config's sysctls and oomScoreAdj, written through the /proc this
 * process still sees (its namespaces' entries: net and ipc keys are per
 * namespace), before the view makes /proc/sys read-only. */
static int apply_oci_proc(const struct spec_oci *o, struct ubx_err *e)
{
	char path[300], text[16];
	for (char **kv = o->sysctl; kv && *kv; kv++) {
		const char *eq = strchr(*kv, '=');
		int n = snprintf(path, sizeof(path), "/proc/sys/%.*s", (int)(eq - *kv), *kv);
		if (n >= (int)sizeof(path))
			return ubx_fail(e, ENAMETOOLONG, "linux.sysctl: %.40s...", *kv);
		for (char *c = path + 10; c < path + n; c++)
			if (*c == '.')
				*c = '/';
		int r = proc_write(path, eq + 1);
		if (r < 0)
			return ubx_fail(e, -r, "linux.sysctl: %.*s", (int)(eq - *kv), *kv);
	}
	if (!o->has_oom_score_adj)
		return 0;
	snprintf(text, sizeof(text), "%d", o->oom_score_adj);
	int r = proc_write("/proc/self/oom_score_adj", text);
	return r < 0 ? ubx_fail(e, -r, "process.oomScoreAdj %d", o->oom_score_adj) : 0;
}

static int build_sandbox(const struct child_params *p, struct redirect_start *rs, struct ubx_err *e)
{
	bool slirp = p->spec->net == NET_SLIRP;
	_cleanup_close_ int tun = TAKE_FD(rs->tun);
	if (slirp && tun < 0)
		return ubx_refuse(e, rs->tun_errno, "open /dev/net/tun: %s (the slirp network needs it; --net none does not; "
				  "usbox doctor: /dev/net/tun)", strerror(rs->tun_errno));
	const struct mounts_extra x = { .tty_gid = p->full_map ? 5 : -1, .dns = p->dns, .hosts = p->hosts,
					.hosts_fd = p->hosts_fd, .uid = p->uid, .gid = p->gid,
					.storage_sock = p->storage_sock };
	/* Without a user namespace of its own the copied mounts stay shared with
	 * the host's (where / is shared, as under systemd): nothing may propagate
	 * back, and pivot_root refuses a shared parent.  (A new user namespace
	 * makes them slaves by itself.) */
	if (p->spec->oci.enabled && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return ubx_fail(e, errno, "make the mounts slaves of the host's");
	int r = p->spec->oci.enabled ? apply_oci_proc(&p->spec->oci, e) : 0;
	if (r < 0 || (r = mounts_setup(p->spec, &x, e)) < 0)
		return r;
	/* the container's own root, after pivot_root: never the host's tree */
	unsigned long prop = p->spec->oci.root_propagation;
	if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
		return ubx_fail(e, errno, "linux.rootfsPropagation");
	if (p->spec->hostname && sethostname(p->spec->hostname, strlen(p->spec->hostname)) < 0)
		return ubx_fail(e, errno, "sethostname %s", p->spec->hostname);
	const char *domain = p->spec->oci.domainname;
	if (domain && setdomainname(domain, strlen(domain)) < 0)
		return ubx_fail(e, errno, "setdomainname %s", domain);
	if (p->spec->net != NET_HOST && !rs->lo_up && (r = netns_loopback_up(e)) < 0)
		return ubx_wrap(e, "network");
	if (p->spec->net == NET_USER)
		return configure_veth(p, rs, e);
	return slirp ? start_tap(p, tun, rs, e) : 0;
}

/* Answers one request on @sock ('T' or 'U', IPv6: 't' or 'u', then how
 * many) with fresh sockets of this network namespace, one a datagram, and a
 * datagram "e" in place of one it could not make.  Return: false once the
 * supervisor has hung up. */
static bool serve_socket(int sock)
{
	char req[2];
	ssize_t n = read(sock, req, sizeof(req));
	if (n <= 0)
		return false;
	int count = n == 2 && req[1] > 0 && req[1] <= 16 ? req[1] : 1;
	for (int i = 0; i < count; i++) {
		int fd = socket(req[0] == 't' || req[0] == 'u' ? AF_INET6 : AF_INET,
				(req[0] == 'U' || req[0] == 'u' ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int r = fd < 0 ? -1 : fd_send(sock, fd, req[0]);
		if (fd >= 0)
			close(fd);
		if (r < 0) {
			(void)!write(sock, "e", 1); /* no descriptor: the request failed */
			break;
		}
	}
	return true;
}

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* Reaps every child that has ended; exits when one of them was the command. */
static void reap(pid_t command)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (pid == command)
			_exit(status_code(status));
}

/* Gives each forwarded signal a handler so the kernel delivers it to us (they
 * stay blocked and are read from a signalfd).  Done first thing: a signal that
 * arrives while the disposition is still SIG_DFL is dropped for good. */
static void catch_forwarded_signals(void)
{
	struct sigaction sa = { .sa_handler = ignore_signal };
	sigset_t set;

	signals_fill_init(&set); /* not the ones ignored since usbox started (nohup) */
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&set, sig) == 1)
			sigaction(sig, &sa, NULL);
}

static _Noreturn void init_loop(pid_t command, int net_sock)
{
	struct signalfd_siginfo si;
	sigset_t set;

	signals_fill_init(&set);
	sigaddset(&set, SIGCHLD);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		_exit(125);
	reap(command);
	for (;;) {
		struct pollfd fds[2] = { { .fd = sfd, .events = POLLIN }, { .fd = net_sock, .events = POLLIN } };
		if (poll(fds, 2, -1) < 0)
			continue;
		if ((fds[1].revents & (POLLIN | POLLHUP)) && !serve_socket(net_sock))
			net_sock = -1;
		if (!(fds[0].revents & POLLIN))
			continue;
		ssize_t n = read(sfd, &si, sizeof(si));
		if (n != sizeof(si)) {
			if (n < 0 && errno == EINTR)
				continue;
			_exit(125);
		}
		if (si.ssi_signo == SIGCHLD)
			reap(command);
		else
			kill(command, (int)si.ssi_signo);
	}
}

/* Whether setgroups() is allowed in this process's user namespace. */
static bool setgroups_allowed(void)
{
	char buf[8] = "";
	_cleanup_close_ int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	return fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0 || strncmp(buf, "deny", 4) != 0;
}

_Noreturn void init_main(const struct child_params *p)
{
	struct ubx_err e = { 0 };
	char go;

	const struct spec_oci *oci = &p->spec->oci;
	catch_forwarded_signals();
	if (!oci->enabled) /* an OCI container outlives its creator */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Nothing the caller left open may reach the sandbox (a directory fd
	 * would be a way out through /proc/self/fd). */
	const int keep[] = { p->sync_fd, p->report_fd, p->tty_sock, p->net_sock, p->hosts_fd, p->storage_sock,
			     p->start_fd };
	if (fd_close_from_but(3 + oci->preserve_fds, keep, ARRAY_SIZE(keep)) < 0)
		_exit(125);
	proctitle_set("usbox-init");
	struct redirect_start rs = { 0 };
	early_network(p, &rs);
	if (read(p->sync_fd, &go, 1) != 1) /* the supervisor died or gave up */
		_exit(125);
	struct child_params single;
	if (go == 's' && p->full_map) { /* newuidmap failed: one id after all */
		single = *p;
		single.full_map = false;
		p = &single;
	}
	if ((oci->ns_joined & CLONE_NEWUSER) && p->full_map && !setgroups_allowed()) { /* a map of one id */
		single = *p;
		single.full_map = false;
		p = &single;
	}
	close(p->sync_fd);
	/* An OCI user namespace's maps need not hold the creator's own ids (root's,
	 * under containerd): become its root, as runc's init does, or nothing
	 * that makes files (mount points, /dev) can work. */
	if (oci->enabled && ((oci->ns_new | oci->ns_joined) & CLONE_NEWUSER) &&
	    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		ubx_fail(&e, errno, "become root in the container's user namespace (%s without 0?)",
			 oci->ns_joined & CLONE_NEWUSER ? "the joined namespace's maps" : "linux.uidMappings");
		report_failure(p->report_fd, REPORT_SETUP, &e);
		_exit(125);
	}
	if ((!oci->enabled || (oci->ns_new & CLONE_NEWCGROUP)) && unshare(CLONE_NEWCGROUP) < 0) { /* rooted at the cgroup we were cloned into */
		ubx_fail(&e, errno, "cgroup namespace");
		report_failure(p->report_fd, REPORT_SETUP, &e);
		_exit(125);
	}
	if (build_sandbox(p, &rs, &e) < 0) {
		report_failure(p->report_fd, REPORT_SETUP, &e);
		_exit(125);
	}
	if (p->hosts_fd >= 0)
		close(p->hosts_fd); /* bound: the command must not hold it */
	if (p->storage_sock >= 0)
		close(p->storage_sock);
	if (oci->enabled) /* the container's process is PID 1 itself, as with runc */
		exec_command(p);
	pid_t command = fork();
	if (command < 0) {
		ubx_fail(&e, errno, "fork");
		report_failure(p->report_fd, REPORT_SETUP, &e);
		_exit(125);
	}
	if (command == 0)
		exec_command(p);
	close(p->report_fd);
	if (p->tty_sock >= 0)
		close(p->tty_sock);
	init_loop(command, p->net_sock);
}
