/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h - the life of one sandbox, in the order it happens:
 *
 *   sandbox_prepare()  plan the id maps (may join the id-map holder)
 *   sandbox_start()    clone into new namespaces, map ids, build the file
 *                      system, start the command; returns once it runs
 *   sandbox_wait()     forward signals until the command ends
 *   sandbox_destroy()  release everything
 */
#ifndef USBOX_SANDBOX_H
#define USBOX_SANDBOX_H

#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../cgroup/cgroup.h"
#include "../common/error.h"
#include "../common/overlay.h"
#include "../idmap/idmap.h"
#include "../netns/netns.h"
#include "../netns/portdirect.h"
#include "../seccomp/seccomp.h"
#include "spec.h"
#include "tty.h"

/*
 * What a caller of the runtime adds to the supervisor's poll loop (a
 * detached sandbox's log pipes and attach socket): fill() appends to the
 * poll array from *n on (at most max) and remembers where, and may shorten
 * *timeout_ms (-1: none); dispatch() acts on what poll() returned.
 */
struct sandbox_hooks {
	void (*fill)(void *arg, struct pollfd *fds, size_t *n, size_t max, int *timeout_ms);
	void (*dispatch)(void *arg, const struct pollfd *fds);
	void *arg;
};

struct sandbox {
	const struct ubx_spec *spec;
	struct idmap_request ids;
	struct idmap_plan plan;
	pid_t pid;                 /* the sandbox's init, as seen from here */
	int pidfd;
	int exit_status;           /* what usbox should exit with when start fails */
	struct winsize ws;         /* with -t: the user's window size at start */
	struct tty_relay tty;      /* with -t: the relay; its master is -1 otherwise */
	struct cgroup_sandbox cg;  /* with limits or --stats */
	bool oom_killed;           /* after wait: the OOM killer struck */
	struct cgroup_stats stats; /* after wait, with --stats */
	struct netns_slirp *slirp; /* --net slirp: the user-mode stack */
	struct portfwd *pf;        /* -p: forwarded ports */
	struct portdirect *pd;     /* -p direct: the guard's notifications answered */
	uint64_t host_netns;       /* -p direct: the cookie of the host's network namespace */
	int net_sock;              /* to the init: TAP hand-over, lease, sockets inside */
	struct netns_conn netconn; /* --net NAME: to the network's helper */
	struct netns_lease lease;  /* --net NAME: the sandbox's address there */
	struct netns_redirect_plan redirect; /* --net slirp or NAME: what outbound TCP stays with libslirp */
	int redirect_nl;           /* the init's nfnetlink socket, until the rule is added after the exec */
	uint16_t redirect_port;    /* the listeners' */
	bool redirect_v4_only;
	char dns[16];              /* what /etc/resolv.conf names, or "" */
	struct seccomp_prog seccomp; /* the command's system-call filter */
	struct pollfd *pfds;       /* the supervisor's poll array */
	int storage_sock;          /* an image's root: the init says which overlayfs serves it */
	struct overlay_fuse fuse;  /* fuse-overlayfs, when it serves the root */
	const char *overlay;       /* after start, for an image's root: "overlay" (the kernel's)
				    * or "fuse-overlayfs"; else NULL */
	char overlay_refused[96];  /* why the kernel's was not used, when it was tried, or "" */
	int console_fd;            /* an OCI container with a terminal: the engine's console socket,
				    * where the pty master goes; set after prepare, or -1 */
	int start_fd;              /* an OCI container: its exec fifo, opened read-write; the command
				    * waits on it for `start` (set after prepare), or -1 */
	/* with start_fd: run by the command once `start` wrote its byte, before
	 * the filter and execve (usbox-oci's startContainer hooks), with the fifo
	 * to read more from; a failure ends the command; or NULL */
	int (*on_start)(void *arg, int fifo, struct ubx_err *e);
	void *on_start_arg;
	const struct sandbox_hooks *hooks; /* the caller's own poll work, or NULL; set
					    * after start, as is tty.sink for a detached -t */
};

/*
 * sandbox_prepare() - everything that can be decided before the clone: the
 * id-map plan, and the cgroup when limits or --stats were asked for.
 * Afterwards sb->plan.warning holds a line for the user when the full id map
 * could not be had.
 * Return: 0 or a negative errno (exit status 125).
 */
int sandbox_prepare(struct sandbox *sb, const struct ubx_spec *spec, struct ubx_err *e);

/*
 * sandbox_start() - create the sandbox and start the command in it.
 * Return: 0 once the command has been executed; a negative errno with the
 * reason in @e and sb->exit_status set to 125 (set-up failed), 126 (the
 * command cannot be run) or 127 (not found).  Nothing is left running then.
 */
int sandbox_start(struct sandbox *sb, struct ubx_err *e);

/*
 * sandbox_wait() - forward SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2
 * and SIGWINCH to the command until it ends; with -t, relay the terminal
 * (a SIGWINCH then resizes the pty) and restore the user's terminal before
 * returning.
 * Afterwards sb->oom_killed and sb->stats tell what the cgroup saw.
 * Return: the command's exit status (128+N when killed by signal N; 137 when
 * the OOM killer struck), or a negative errno.
 */
int sandbox_wait(struct sandbox *sb, struct ubx_err *e);

/* What joining a running sandbox needs (usbox exec). */
struct join_request {
	const struct ubx_spec *spec; /* the process: args, env, cwd, ids, caps, tty, filter */
	int init_pidfd;              /* the sandbox's init, verified by the caller ... */
	pid_t init_pid;              /* ... and its pid */
	int cgroup_fd;               /* the sandbox's cgroup directory, or -1 */
	bool full_map;               /* the sandbox has the subordinate ids */
	bool detach;                 /* the command outlives this process (exec -d) */
	bool orphan;                 /* with detach: leave the command to this process's parent (a
				      * child subreaper: an OCI engine) rather than to the sandbox's init */
	const struct seccomp_prog *seccomp; /* the filter, instead of spec's (an OCI config's), or NULL */
	int console_fd;              /* with a terminal: send the pty master here (an OCI console
				      * socket) instead of relaying it; or -1 */
	int only_ns;                 /* CLONE_NEW* flags: join only these (an OCI container's own
				      * namespaces); 0: every one the init is in */
};

/*
 * sandbox_join() - start @j->spec's command in the running sandbox whose
 * init @j->init_pidfd is: its namespaces and cgroup, the same identity,
 * capabilities, no_new_privs and filter as a sandbox's command.  This
 * process stays in the sandbox's namespaces afterwards (out of its pid
 * namespace's sight).  Afterwards sandbox_wait() waits for the command.
 * Return: 0 once the command was executed; a negative errno with
 * sb->exit_status 125, 126 or 127 as sandbox_start().
 */
int sandbox_join(struct sandbox *sb, const struct join_request *j, struct ubx_err *e);

/*
 * sandbox_ports_resolve() - decide how @spec's -p TCP ports reach the server
 * (spec->port_handler becomes PORTS_DIRECT or PORTS_RELAY): direct when asked
 * or by default where seccomp_guard_available() and the filter is one of
 * usbox's own (a profile of the user's may allow io_uring, which the guards
 * do not see); relay when asked, or when there is no TCP port.
 * Return: 0, or a negative errno when direct was asked and cannot be.
 */
int sandbox_ports_resolve(struct ubx_spec *spec, struct ubx_err *e);

/* sandbox_destroy() - release what prepare and start acquired. */
void sandbox_destroy(struct sandbox *sb);

#endif
