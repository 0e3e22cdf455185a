/* SPDX-License-Identifier: MIT */
/*
 * child.h - what runs inside the sandbox: its init (PID 1) and the command.
 * Private to sandbox/.
 */
#ifndef USBOX_SANDBOX_CHILD_H
#define USBOX_SANDBOX_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "../common/error.h"
#include "../netns/netns.h"
#include "../seccomp/seccomp.h"
#include "spec.h"

/* Sent from inside to the supervisor when set-up or exec fails, in one write. */
struct child_report {
	enum { REPORT_SETUP, REPORT_EXEC } kind;
	struct ubx_err err;
};

struct child_params {
	const struct ubx_spec *spec;
	uint32_t uid, gid;      /* identity inside */
	bool full_map;          /* setgroups allowed, tty group mapped */
	int sync_fd;            /* one byte arrives once the maps are written */
	int report_fd;          /* struct child_report on failure; closed on exec */
	int tty_sock;           /* with -t: where the pty master goes, else -1 */
	int net_sock;           /* slirp, a user network or -p: the TAP goes out or the lease
				 * comes in, then sockets on request; else -1 */
	int storage_sock;       /* an image's root: which overlayfs serves it goes out, and
				 * /dev/fuse when it is fuse-overlayfs (rootfs.h); else -1 */
	const char *dns;        /* what /etc/resolv.conf names, or NULL to keep the host's */
	const char *hosts;      /* a user network's hosts file to bind at /etc/hosts, or NULL ... */
	int hosts_fd;           /* ... and that file as checked (O_PATH), or -1 */
	const struct seccomp_prog *seccomp; /* installed just before execve */
	int guard_sock;         /* -p direct: the guards go on before it, and their seccomp
				 * listener goes out here (tagged 'G'); else -1 */
	struct winsize ws;      /* with -t: the user's window size */
	bool die_with_parent;   /* killed when its parent (usbox exec) dies */
	int start_fd;           /* an OCI container's exec fifo (read-write), or -1: once set up,
				 * close report_fd (the creator's "created") and wait for one byte */
	int (*on_start)(void *arg, int fifo, struct ubx_err *e); /* then this, or NULL */
	void *on_start_arg;
};

/* The signals usbox forwards to the command. */
#define FORWARDED_SIGNALS SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH

/*
 * signals_fill() - @set := FORWARDED_SIGNALS plus SIGCHLD, less the signals
 * this process ignores: a signal ignored when usbox started (nohup) stays
 * ignored for the command and is never forwarded, as exec would leave it.
 */
void signals_fill(sigset_t *set);

/*
 * signals_fill_init() - @set := what the sandbox's init passes on to the
 * command when it gets it (from the supervisor, usbox stop or usbox kill):
 * every signal that can be caught but SIGCHLD, SIGPIPE and those the kernel
 * raises for faults, less those this process ignores.
 */
void signals_fill_init(sigset_t *set);

/*
 * init_main() - the sandbox's PID 1: wait for the maps, build the sandbox,
 * start the command, then reap every child and forward signals until the
 * command ends, and exit with its status (128+N for signal N).
 */
_Noreturn void init_main(const struct child_params *p);

/*
 * exec_command() - in a child of init: become the sandbox user with the
 * right capabilities, and exec the command; reports failure and exits
 * 126 or 127.
 */
_Noreturn void exec_command(const struct child_params *p);



/*
 * nsjoin_clone() - for an OCI container with namespaces joined by path
 * (@o->join): fork a joiner that joins them (the user namespace before
 * those that need it), checks config.json's id maps against a joined user
 * namespace's, and clones the init with @flags (into @cgroup_fd when not
 * -1) as a child of this process.
 * Return: in the init 0; here its pid, with *@pidfd and *@placed (false:
 * the caller must move it into its cgroup); or a negative errno with @e
 * naming the field ("linux.namespaces: ..."), nothing left behind.
 */
pid_t nsjoin_clone(const struct spec_oci *o, uint64_t flags, int cgroup_fd, int *pidfd, bool *placed,
		   struct ubx_err *e);

/*
 * ports_guard() - with @p->guard_sock, put the direct ports' guards on this
 * process (seccomp/guard.h) and send their listener out.
 * Return: 0 or a negative errno.
 */
int ports_guard(const struct child_params *p, struct ubx_err *e);

/*
 * ports_guard_take() - the other end: the guard's listener, the next
 * message on @sock (usbox's end of the channel ports_guard() sent it on).
 * Return: the descriptor, or a negative errno.
 */
int ports_guard_take(int sock, struct ubx_err *e);

/* report_failure() - send @e as a report of @kind (best effort). */
void report_failure(int fd, int kind, const struct ubx_err *e);

#endif
