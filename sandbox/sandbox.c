/* SPDX-License-Identifier: MIT */
/*
 * sandbox.c - the supervisor's side of one sandbox.
 *
 * DOC: Theory of operation
 * prepare: the terminal, forwarded ports, the id-map plan (joining the
 *          holder or a user network's helper), the filter, the cgroup.
 * start:   block the forwarded signals, clone3() the init straight into new
 *          user, mount, pid, uts, ipc, cgroup (and net) namespaces with a
 *          pidfd, write its id maps, release it, then read its report pipe:
 *          end-of-file means the command was executed (the pipe is close-on-
 *          exec), a struct child_report means set-up or exec failed.
 * wait:    poll a signalfd and the pidfd; forward signals with
 *          pidfd_send_signal(); the init's exit status is the command's.
 */
#include "sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fdpass.h"
#include "../seccomp/guard.h"
#include "child.h"
#include "rootfs.h"

/* Why a user network cannot be joined with this id-map plan, or 0. */
static int network_needs_holder(const struct sandbox *sb, struct ubx_err *e)
{
	const char *net = sb->spec->network;
	if (sb->plan.method == IDMAP_HOLDER)
		return 0;
	if (sb->plan.method == IDMAP_HELPER)
		return ubx_fail(e, 0, "--net %s needs the id-map holder (unset USBOX_NO_HOLDER)", net);
	if (sb->plan.warning[0])
		return ubx_fail(e, 0, "--net %s needs a full id map: %s", net, sb->plan.warning);
	return ubx_fail(e, 0, "--net %s needs a full id map, not --map single", net);
}

/* --net NAME: join the network's helper's user namespace (starting the helper
 * from inside the holder's when none runs), so that the sandbox is cloned as
 * a child of it and the helper can give it a veth. */
static int join_network(struct sandbox *sb, struct ubx_err *e)
{
	struct netns_network net;

	int r = netns_network_load(sb->spec->network, &net, e);
	if (r < 0 || (r = netns_network_connect(&net, &sb->netconn, e)) < 0)
		return r;
	if (r == 1) {
		sb->ids.join_userns = true;
		sb->ids.userns_fd = sb->netconn.userns;
	}
	if ((r = idmap_prepare(&sb->ids, &sb->plan, e)) < 0 || (r = network_needs_holder(sb, e)) < 0)
		return r;
	if (sb->netconn.sock < 0) {
		if ((r = netns_network_start(&net, &sb->netconn, e)) < 0)
			return r;
		if (setns(sb->netconn.userns, CLONE_NEWUSER) < 0)
			return ubx_fail(e, errno, "join network %s's user namespace", net.name);
	}
	uint32_t dns = netns_network_lease(&net, 0).dns;
	inet_ntop(AF_INET, &dns, sb->dns, sizeof(sb->dns));
	netns_redirect_plan(&sb->redirect, &net, net.allow_host_loopback);
	return 0;
}

/* An OCI container's ids: no user namespace of its own (it shares the
 * creator's), or the config's maps, written directly by root or through
 * newuidmap/newgidmap otherwise. */
static int oci_ids(struct sandbox *sb, struct ubx_err *e)
{
	const struct spec_oci *o = &sb->spec->oci;
	if (!(o->ns_new & CLONE_NEWUSER)) {
		sb->plan.method = IDMAP_NONE;
		return 0;
	}
	if (!o->n_uid_map || !o->n_gid_map)
		return ubx_fail(e, EINVAL, "a new user namespace needs linux.uidMappings and linux.gidMappings");
	/* one's own ids only: written directly, with setgroups denied, as an
	 * unprivileged writer must (runc spec --rootless) */
	bool self = o->n_uid_map == 1 && o->n_gid_map == 1 && o->uid_map[0].count == 1 && o->gid_map[0].count == 1 &&
		    o->uid_map[0].outside == getuid() && o->gid_map[0].outside == getgid();
	sb->plan.method = self && geteuid() != 0 ? IDMAP_SINGLE : IDMAP_GIVEN;
	for (size_t i = 0; i < o->n_uid_map; i++)
		sb->plan.uid.ext[i] = (struct idmap_extent){ o->uid_map[i].inside, o->uid_map[i].outside,
							      o->uid_map[i].count };
	for (size_t i = 0; i < o->n_gid_map; i++)
		sb->plan.gid.ext[i] = (struct idmap_extent){ o->gid_map[i].inside, o->gid_map[i].outside,
							      o->gid_map[i].count };
	sb->plan.uid.n = o->n_uid_map;
	sb->plan.gid.n = o->n_gid_map;
	return 0;
}

int sandbox_ports_resolve(struct ubx_spec *spec, struct ubx_err *e)
{
	struct ubx_err why = { 0 };
	bool tcp = false;
	for (size_t i = 0; i < spec->n_ports; i++)
		tcp |= !spec->ports[i].udp;
	if (!tcp || spec->port_handler == PORTS_RELAY) {
		spec->port_handler = PORTS_RELAY;
		return 0;
	}
	int r = seccomp_guard_available(&why);
	if (r == 0 && spec->seccomp != SECCOMP_DEFAULT && spec->seccomp != SECCOMP_NESTED_DEFAULT)
		r = ubx_fail(&why, 0, "direct ports need usbox's own seccomp filter, not --seccomp");
	if (r < 0 && spec->port_handler == PORTS_DIRECT)
		return ubx_fail(e, 0, "--port-handler direct: %s (--port-handler relay works everywhere)", why.msg);
	spec->port_handler = r == 0 ? PORTS_DIRECT : PORTS_RELAY;
	return 0;
}

/* sandbox_prepare() for an OCI container: no terminal of usbox's (a console
 * socket takes the pty), no ports, no resolver of usbox's. */
static int prepare_oci(struct sandbox *sb, struct ubx_err *e)
{
	int r = oci_ids(sb, e);
	if (r < 0 || (r = seccomp_prepare(sb->spec->seccomp, sb->spec->seccomp_profile, &sb->seccomp, e)) < 0)
		return r;
	return 0;
}

int sandbox_prepare(struct sandbox *sb, const struct ubx_spec *spec, struct ubx_err *e)
{
	char pwbuf[4096];
	struct passwd pw, *found = NULL;
	int r;

	*sb = (struct sandbox){ .spec = spec, .pid = -1, .pidfd = -1, .exit_status = 125, .cg = { .leaf_fd = -1 },
				.net_sock = -1, .redirect_nl = -1, .netconn = { .sock = -1, .userns = -1, .lock = -1, .hosts_fd = -1 },
				.storage_sock = -1, .fuse = OVERLAY_FUSE_INIT };
	sb->plan.holder_lock_fd = -1;
	sb->tty.master = sb->tty.in_fd = -1;
	sb->console_fd = sb->start_fd = -1;
	sb->on_start = NULL;
	if (spec->oci.enabled)
		return prepare_oci(sb, e);
	r = spec->tty ? tty_check(spec->interactive, &sb->ws, e) : 0;
	if (r < 0)
		return r;
	if (!spec->tty)
		tty_save(&sb->tty);
	/* Bound first: a port in use fails before anything else is made. */
	if (spec->n_ports && (r = portfwd_open(spec->ports, spec->n_ports, &sb->pf, e)) < 0)
		return r;
	if (spec->port_handler == PORTS_DIRECT && (r = portdirect_cookie(&sb->host_netns, e)) < 0)
		return r;
	sb->ids.uid = getuid();
	sb->ids.gid = getgid();
	sb->ids.inside_uid = spec->root_is_caller ? 0 : spec->uid;
	sb->ids.inside_gid = spec->root_is_caller ? 0 : spec->gid;
	sb->ids.want_full = spec->map == MAP_AUTO;
	if (sb->ids.want_full && getpwuid_r(sb->ids.uid, &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found)
		sb->ids.user = strdup(found->pw_name);
	/* Ids (and a network's helper) first: helpers must not start inside
	 * the sandbox's cgroup. */
	if (spec->net == NET_USER)
		r = join_network(sb, e);
	else
		r = idmap_prepare(&sb->ids, &sb->plan, e);
	if (r < 0)
		return r;
	if (spec->net == NET_SLIRP)
		snprintf(sb->dns, sizeof(sb->dns), "%s", NETNS_DNS);
	else if (spec->net == NET_NONE) /* nothing listens there: lookups fail at once, not after a timeout */
		snprintf(sb->dns, sizeof(sb->dns), "127.0.0.1");
	if ((r = seccomp_prepare(spec->seccomp, spec->seccomp_profile, &sb->seccomp, e)) < 0)
		return r;
	if (cgroup_limits_any(&spec->limits) || spec->stats)
		return cgroup_setup(&spec->limits, spec->cgroup_parent, spec->stats, &sb->cg, e);
	return 0;
}

/* The namespaces the init is cloned into. */
static uint64_t init_flags(const struct ubx_spec *spec)
{
	const struct spec_oci *o = &spec->oci;
	if (o->enabled) /* the cgroup namespace: made by the init, as above; a mount namespace new or joined */
		return (o->ns_new & ~(uint64_t)CLONE_NEWCGROUP) | (o->ns_joined & CLONE_NEWNS ? 0 : CLONE_NEWNS);
	return CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
	       (spec->net == NET_HOST ? 0 : CLONE_NEWNET);
}

/* clone3() into the new namespaces (and straight into the sandbox's cgroup
 * when it has one); clone() where clone3 is refused with ENOSYS (valgrind,
 * older seccomp profiles), with *placed false: the caller must move the child
 * into its cgroup.  Both fork-like: no CLONE_VM.  The cgroup namespace is made
 * by the init itself, once it is in its cgroup, so that its root is there. */
static pid_t clone_init(const struct sandbox *sb, int *pidfd, bool *placed)
{
	uint64_t flags = init_flags(sb->spec) | CLONE_PIDFD;
	struct clone_args args = {
		.flags = flags | (sb->cg.leaf_fd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)(sb->cg.leaf_fd >= 0 ? sb->cg.leaf_fd : 0),
	};
	*placed = true;
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && errno == ENOSYS) {
		*placed = sb->cg.leaf_fd < 0;
		pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, pidfd, NULL, NULL);
	}
	return pid;
}

/* Kills and reaps the init after a failed start. */
static void abandon(struct sandbox *sb)
{
	if (sb->pidfd >= 0) {
		(void)syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
		siginfo_t si;
		(void)waitid(P_PIDFD, (id_t)sb->pidfd, &si, WEXITED);
	}
}

/* Reads the report pipe: 0 when the command was executed. */
static int read_report(struct sandbox *sb, int fd, struct ubx_err *e)
{
	struct child_report rep;
	ssize_t n;

	while ((n = read(fd, &rep, sizeof(rep))) < 0 && errno == EINTR)
		;
	if (n == 0)
		return 0;
	if (n != sizeof(rep))
		return ubx_fail(e, EIO, "the sandbox ended during set-up");
	*e = rep.err;
	e->msg[sizeof(e->msg) - 1] = '\0';
	if (rep.kind == REPORT_EXEC)
		sb->exit_status = rep.err.code == ENOENT ? 127 : 126;
	return -(e->code ? e->code : EINVAL);
}

static int release_init(struct sandbox *sb, int sync_fd, bool placed, struct ubx_err *e)
{
	int r = placed ? 0 : cgroup_add_pid(&sb->cg, sb->pid, e);
	if (r < 0)
		return r;
	r = idmap_apply(&sb->plan, &sb->ids, sb->pid, e);
	if (r < 0)
		return ubx_wrap(e, "map ids");
	/* 'g': go; 's': go, but the helpers failed and only one id is mapped */
	if (write(sync_fd, sb->plan.method == IDMAP_SINGLE ? "s" : "g", 1) != 1)
		return ubx_fail(e, errno, "start the sandbox");
	return 0;
}

/* The pipes and the pty socket between supervisor and sandbox: [0] stays
 * here, [1] goes in (the sync pipe is the other way round). */
struct channels {
	int sync[2], report[2], tty[2], net[2], storage[2];
};

static void channels_close(struct channels *c)
{
	int *all = &c->sync[0];
	for (size_t i = 0; i < sizeof(*c) / sizeof(int); i++)
		if (all[i] >= 0)
			close(all[i]), all[i] = -1;
}

static int channels_open(struct channels *c, bool tty, bool net, bool storage, int console, struct ubx_err *e)
{
	*c = (struct channels){ { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
	if (pipe2(c->sync, O_CLOEXEC) < 0 || pipe2(c->report, O_CLOEXEC) < 0 ||
	    (tty && console < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->tty) < 0) ||
	    (console >= 0 && (c->tty[1] = fcntl(console, F_DUPFD_CLOEXEC, 3)) < 0) ||
	    (net && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->net) < 0) ||
	    (storage && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->storage) < 0)) {
		int r = ubx_fail(e, errno, "pipe");
		channels_close(c);
		return r;
	}
	return 0;
}

/* The init's answer about the TCP redirect: its listeners and "r", or "x"
 * and why not (then libslirp keeps TCP, and says why).  The relay is ours
 * on the slirp network, the helper's on a user network. */
static int receive_redirect(struct sandbox *sb, struct ubx_err *e)
{
	_cleanup_close_ int l4 = -1;
	_cleanup_close_ int l6 = -1;
	_cleanup_close_ int nl = -1;
	char msg[sizeof(e->msg) + 1];

	for (int i = 0; i < 4; i++) {
		size_t got = 0;
		int fd = -1;
		if (fd_recv(sb->net_sock, msg, sizeof(msg) - 1, &got, &fd) < 0 || got == 0) {
			if (fd >= 0)
				close(fd);
			return 1; /* the init gave up: read its report */
		}
		msg[got] = '\0';
		int *slot = fd < 0 ? NULL : msg[0] == '4' ? &l4 : msg[0] == '6' ? &l6 : msg[0] == 'l' ? &nl : NULL;
		if (slot && *slot < 0)
			*slot = fd;
		else if (fd >= 0)
			close(fd);
		else if (msg[0] == 'x') {
			if (sb->slirp)
				netns_slirp_no_relay(sb->slirp, msg + 1);
			return 0;
		} else if (msg[0] == 'r' && l4 >= 0 && nl >= 0) {
			sb->redirect_port = netns_listener_port(l4);
			sb->redirect_v4_only = l6 < 0;
			int r = sb->slirp ? netns_slirp_relay(sb->slirp, 0, TAKE_FD(l4), TAKE_FD(l6), e) :
					    netns_network_relay(&sb->netconn, TAKE_FD(l4), TAKE_FD(l6), e);
			if (r == 0)
				sb->redirect_nl = TAKE_FD(nl);
			return r;
		}
	}
	return ubx_fail(e, EPROTO, "the sandbox's init sent no redirect");
}

/* As the command starts: the redirect's rule, in a thread.  The kernel
 * takes its time over it (conntrack's set-up, RCU grace periods), which the
 * command's start need not wait for.  Until the rule is in (a few ms), TCP
 * goes through libslirp; only a SYN is redirected, so those connections
 * keep going. */
static void commit_redirect(struct sandbox *sb)
{
	struct ubx_err e;
	int status = -1;
	if (sb->redirect_nl < 0)
		return;
	if (sb->spec->net == NET_SLIRP) /* (a user network's was made with its definition at hand) */
		netns_redirect_plan(&sb->redirect, NULL, sb->spec->allow_host_loopback);
	int r = netns_redirect_commit(TAKE_FD(sb->redirect_nl), &sb->redirect, sb->redirect_port,
				      sb->redirect_v4_only, &status, &e);
	if (r < 0 && sb->slirp)
		netns_slirp_no_relay(sb->slirp, e.msg);
	else if (r == 0 && sb->slirp)
		netns_slirp_relay_status(sb->slirp, status);
	else if (r == 0)
		close(status); /* a user network's helper relays; nothing to record here */
}

/* With a user network: have the helper put a veth into the sandbox's network
 * namespace and pass the lease to the init, which configures it. */
static int attach_network(struct sandbox *sb, struct ubx_err *e)
{
	struct netns_lease lease;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)sb->pid);
	_cleanup_close_ int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return ubx_fail(e, errno, "open %s", path);
	int r = netns_network_attach(&sb->netconn, ns, sb->spec->name, &lease, e);
	if (r < 0)
		return r;
	sb->lease = lease;
	if (write(sb->net_sock, &lease, sizeof(lease)) != sizeof(lease))
		return 1; /* the init gave up: read its report */
	return receive_redirect(sb, e);
}

/* With the slirp network: take the TAP from the init, start libslirp behind
 * it and tell the init, which only then starts the command.  When the init
 * fails first, the socket closes and its report says why. */
static int start_network(struct sandbox *sb, struct ubx_err *e)
{
	if (sb->spec->net == NET_USER)
		return attach_network(sb, e);
	if (sb->spec->net != NET_SLIRP)
		return 0;
	/* libslirp starts while the init makes the TAP and mounts. */
	int r = netns_slirp_new(-1, NULL, sb->spec->allow_host_loopback, &sb->slirp, e);
	if (r == 0 && sb->spec->n_allow) /* --net-allow */
		r = netns_slirp_egress(sb->slirp, sb->spec->allow, sb->spec->n_allow, sb->spec->net_log, e);
	if (r < 0)
		return r;
	int tap = fd_receive(sb->net_sock, NULL);
	if (tap < 0)
		return 1; /* the init gave up: read its report */
	netns_slirp_set_tap(sb->slirp, tap);
	if ((r = receive_redirect(sb, e)) != 0)
		return r;
	if (write(sb->net_sock, "g", 1) != 1)
		return 1;
	return 0;
}

/* After the exec: with -t, take the pty and start relaying; start forwarding
 * (the relay first: a bind answered directly stops it watching a listener). */
static int after_exec(struct sandbox *sb, int tty_sock, struct ubx_err *e)
{
	commit_redirect(sb);
	bool direct = sb->pf && sb->spec->port_handler == PORTS_DIRECT;
	/* the guard's listener: the command sent it just before its exec */
	_cleanup_close_ int guard = direct ? ports_guard_take(sb->net_sock, e) : -1;
	if (direct && guard < 0)
		return guard;
	int r = sb->pf ? portfwd_attach(sb->pf, sb->net_sock, e) : 0;
	if (r == 0 && direct)
		r = portdirect_start(TAKE_FD(guard), sb->pf, sb->host_netns, &sb->pd, e);
	if (r < 0)
		return r;
	if (sb->spec->oci.enabled) /* the pty went to the console socket */
		return 0;
	return sb->spec->tty ? tty_receive(&sb->tty, tty_sock, sb->spec->interactive, e) : 0;
}

/* Keeps one end of each channel in this process and closes the other:
 * @inside chooses the init's ends ([1], and [0] of the sync pipe). */
static void channels_keep(struct channels *c, bool inside)
{
	int *pairs[] = { c->sync, c->report, c->tty, c->net, c->storage };
	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		int drop = (i == 0) == inside ? 1 : 0; /* the sync pipe runs the other way */
		if (pairs[i][drop] >= 0)
			close(pairs[i][drop]);
		pairs[i][drop] = -1;
	}
}

int sandbox_start(struct sandbox *sb, struct ubx_err *e)
{
	struct channels ch;
	sigset_t set;
	bool placed;
	int r;

	signals_fill(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	bool net_channel = sb->spec->net == NET_SLIRP || sb->spec->net == NET_USER || sb->pf;
	if ((r = channels_open(&ch, sb->spec->tty, net_channel, sb->spec->root.kind == ROOT_LAYERS, sb->console_fd,
			       e)) < 0)
		return r;
	struct child_params p = {
		.spec = sb->spec,
		.uid = sb->spec->uid, .gid = sb->spec->gid,
		.full_map = sb->plan.method != IDMAP_SINGLE,
		.sync_fd = ch.sync[0], .report_fd = ch.report[1],
		.tty_sock = ch.tty[1], .ws = sb->ws, .net_sock = ch.net[1], .storage_sock = ch.storage[1],
		.dns = sb->dns[0] ? sb->dns : NULL,
		.hosts = sb->spec->net == NET_USER && sb->netconn.hosts[0] ? sb->netconn.hosts : NULL,
		.hosts_fd = sb->spec->net == NET_USER && sb->netconn.hosts[0] ? sb->netconn.hosts_fd : -1,
		.seccomp = &sb->seccomp,
		.guard_sock = sb->pf && sb->spec->port_handler == PORTS_DIRECT ? ch.net[1] : -1,
		.start_fd = sb->start_fd,
		.on_start = sb->on_start, .on_start_arg = sb->on_start_arg,
	};
	if (sb->spec->oci.n_join) /* namespaces joined by path: through a joiner */
		sb->pid = nsjoin_clone(&sb->spec->oci, init_flags(sb->spec), sb->cg.leaf_fd, &sb->pidfd, &placed, e);
	else
		sb->pid = clone_init(sb, &sb->pidfd, &placed);
	if (sb->pid == 0) {
		channels_keep(&ch, true);
		init_main(&p);
	}
	int err = errno;
	channels_keep(&ch, false);
	sb->net_sock = ch.net[0];
	sb->storage_sock = ch.storage[0];
	_cleanup_close_ int sync_fd = ch.sync[1];
	_cleanup_close_ int rep_fd = ch.report[0];
	_cleanup_close_ int tty_sock = ch.tty[0];
	if (sb->pid < 0 && sb->spec->oci.n_join)
		return sb->pid;
	if (sb->pid < 0)
		return ubx_refuse(e, err, "create the sandbox's namespaces: %s (usbox doctor: user namespaces)",
				  strerror(err));
	r = release_init(sb, sync_fd, placed, e);
	if (r == 0) {
		close(TAKE_FD(sync_fd));
		r = rootfs_serve(sb, e);
	}
	if (r == 0)
		r = start_network(sb, e);
	if (r >= 0)
		r = read_report(sb, rep_fd, e);
	if (r == 0)
		r = after_exec(sb, tty_sock, e);
	if (r < 0) {
		rootfs_explain(sb, e);
		tty_restore(&sb->tty);
		abandon(sb);
	}
	return r;
}

/* Forwards what the signalfd holds; with -t a SIGWINCH resizes the pty. */
static void forward_signals(struct sandbox *sb, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGWINCH && sb->tty.master >= 0)
			tty_resize(&sb->tty);
		else
			(void)syscall(SYS_pidfd_send_signal, sb->pidfd, (int)si.ssi_signo, NULL, 0);
	}
}

#define POLL_MAX 2048

/* One poll() round over the init, signals, the terminal, the network stack
 * and the hooks (forwarded ports have a thread of their own); sets *ended when the init has exited. */
static int wait_round(struct sandbox *sb, int sfd, bool *ended, struct ubx_err *e)
{
	struct tty_relay *t = &sb->tty;
	struct pollfd *fds = sb->pfds;
	size_t n = 4;
	int timeout = -1;

	fds[0] = (struct pollfd){ .fd = sb->pidfd, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	fds[2] = (struct pollfd){ .fd = t->master, .events = POLLIN | (t->n_pending ? POLLOUT : 0) };
	fds[3] = (struct pollfd){ .fd = t->n_pending < sizeof(t->pending) ? t->in_fd : -1, .events = POLLIN };
	if (sb->slirp)
		netns_slirp_fill(sb->slirp, fds, &n, POLL_MAX, &timeout);
	if (sb->hooks)
		sb->hooks->fill(sb->hooks->arg, fds, &n, POLL_MAX, &timeout);
	if (poll(fds, n, timeout) < 0)
		return errno == EINTR ? 0 : ubx_fail(e, errno, "poll");
	if (sb->slirp)
		netns_slirp_dispatch(sb->slirp, fds);
	if (sb->hooks)
		sb->hooks->dispatch(sb->hooks->arg, fds);
	if (fds[1].revents & POLLIN)
		forward_signals(sb, sfd);
	if (t->master >= 0 &&
	    !tty_pump(t, fds[2].revents & (POLLIN | POLLHUP | POLLERR), fds[3].revents & (POLLIN | POLLHUP),
		      fds[2].revents & POLLOUT))
		t->master = (close(t->master), -1); /* every slave is closed: nothing more to relay */
	*ended = fds[0].revents & POLLIN;
	return 0;
}

int sandbox_wait(struct sandbox *sb, struct ubx_err *e)
{
	sigset_t set;
	siginfo_t info;
	bool ended = false;
	int r;

	signals_fill(&set);
	sigdelset(&set, SIGCHLD);
	_cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return ubx_fail(e, errno, "signalfd");
	sb->pfds = calloc(POLL_MAX, sizeof(struct pollfd));
	if (!sb->pfds)
		return ubx_fail(e, ENOMEM, "poll array");
	/* libslirp writes to sockets whose peers may be
	 * gone.  Ignored only here, after the clone: the command must not
	 * inherit an ignored SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	while (!ended)
		if ((r = wait_round(sb, sfd, &ended, e)) < 0)
			return r;
	memset(&info, 0, sizeof(info));
	if (waitid(P_PIDFD, (id_t)sb->pidfd, &info, WEXITED) < 0)
		return ubx_fail(e, errno, "wait for the sandbox");
	sb->pid = -1;
	tty_drain(&sb->tty);
	tty_restore(&sb->tty);
	sb->oom_killed = cgroup_oom_killed(&sb->cg);
	cgroup_read_stats(&sb->cg, &sb->stats);
	if (sb->oom_killed)
		return 137;
	return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

void sandbox_destroy(struct sandbox *sb)
{
	tty_restore(&sb->tty);
	netns_slirp_free(sb->slirp);
	portdirect_stop(sb->pd); /* (it hands out the listeners of sb->pf) */
	portfwd_free(sb->pf);
	if (sb->net_sock >= 0)
		close(sb->net_sock);
	if (sb->redirect_nl >= 0) /* the start failed before the exec */
		close(sb->redirect_nl);
	netns_conn_close(&sb->netconn);
	free(sb->pfds);
	cgroup_teardown(&sb->cg);
	idmap_plan_release(&sb->plan);
	if (sb->pidfd >= 0)
		close(sb->pidfd);
	if (sb->storage_sock >= 0)
		close(sb->storage_sock);
	overlay_fuse_stop(&sb->fuse, 2000); /* the sandbox is gone: it ends by itself */
	seccomp_prog_free(&sb->seccomp);
	free((char *)sb->ids.user);
	*sb = (struct sandbox){ .pid = -1, .pidfd = -1, .tty = { .master = -1, .in_fd = -1 }, .net_sock = -1,
				.redirect_nl = -1,
				.netconn = { .sock = -1, .userns = -1, .lock = -1, .hosts_fd = -1 }, .storage_sock = -1,
				.fuse = OVERLAY_FUSE_INIT, .console_fd = -1, .start_fd = -1 };
}
