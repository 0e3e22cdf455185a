/* SPDX-License-Identifier: MIT */
/*
 * monitor.h - a container's supervisor: it marks the container running and
 * exited (state.h), and when detached keeps its log (log.h) and lets users
 * attach to its terminal.
 *
 * DOC: Theory of operation
 * The supervisor is the process that ran sandbox_start() and sits in
 * sandbox_wait(): for a foreground container the usbox command itself, for
 * a detached one a process of its own session whose stdio is /dev/null.
 * Detached, the command's stdout and stderr are pipes that the supervisor
 * reads into the log (sandbox_hooks); with -t the pty's output goes there as
 * stdout.  An attach socket (RUNTIME/containers/ID/attach.sock, the caller's
 * alone, its peer checked by SO_PEERCRED) hands the pty master to `usbox
 * attach`, which writes input and window sizes to it directly, and gets a
 * copy of the output from the supervisor (which alone reads the master).
 */
#ifndef USBOX_CONTAINER_MONITOR_H
#define USBOX_CONTAINER_MONITOR_H

#include "../sandbox/sandbox.h"
#include "log.h"
#include "state.h"

#define CTR_ATTACH_MAX 8

struct ctr_monitor {
	char id[65];
	char cdir[4200];
	char rundir[4200];        /* RUNTIME/containers/ID */
	struct sandbox *sb;
	struct ctr_state state;
	struct ctr_log log;
	bool logging;
	int out_fd, err_fd;       /* the command's stdout and stderr, or -1 */
	int listen_fd;            /* attach.sock, or -1 */
	int clients[CTR_ATTACH_MAX];
	size_t n_clients;
	size_t first;             /* where fill() put our fds in the poll array */
	bool filled;              /* ... if there was room */
	struct netns_stats stats; /* the slirp network's, as last written to net.json */
	int64_t stats_ms;         /* when */
	bool stats_pending;       /* changed since */
	struct sandbox_hooks hooks;
};

/*
 * ctr_monitor_init() - empty @m for container @id whose directory is @cdir,
 * and make its runtime directory: before sandbox_prepare(), which may join
 * the id-map holder's user namespace (where the caller's uid reads as 0).
 * Return: 0 or a negative errno.
 */
int ctr_monitor_init(struct ctr_monitor *m, const char *id, const char *cdir, struct ubx_err *e);

/* ctr_monitor_end() - remove the runtime directory (what a failed start left). */
void ctr_monitor_end(struct ctr_monitor *m);

/*
 * ctr_mark_running() - after sandbox_start(): write run.json (pids, start
 * time, cgroup, address) and state.json ("running").
 * Return: 0 or a negative errno.
 */
int ctr_mark_running(struct ctr_monitor *m, struct sandbox *sb, struct ubx_err *e);

/*
 * ctr_monitor_detach() - a detached container: log @out_fd and @err_fd (the
 * command's stdout and stderr pipes; taken), the pty's output, and open the
 * attach socket when it has a terminal; hooks itself into @m->sb.
 * Return: 0 or a negative errno.
 */
int ctr_monitor_detach(struct ctr_monitor *m, int out_fd, int err_fd, uint64_t max_size, unsigned max_files,
		       struct ubx_err *e);

/*
 * ctr_mark_exited() - after sandbox_wait(): state.json says "exited" with
 * @status; the runtime directory goes.  Best effort.
 */
void ctr_mark_exited(struct ctr_monitor *m, int status, bool oom_killed);

/* ctr_monitor_close() - close the log, the pipes and the attach socket. */
void ctr_monitor_close(struct ctr_monitor *m);

#endif
