/* SPDX-License-Identifier: MIT */
/*
 * state.h - a container's life on disk, beside its record in the store
 * (image/container.h).
 *
 * DOC: Theory of operation
 * Three small JSON files (docs/STATE.md):
 *   STORE/containers/ID/spec.json   what it runs: the spec, written once
 *                                   before it starts (sandbox/specjson.h)
 *   STORE/containers/ID/state.json  created / running / exited with the
 *                                   exit code and times; rewritten in place
 *                                   by its supervisor (a reader holding it
 *                                   open sees the last word even after rm)
 *   RUNTIME/containers/ID/run.json  while it runs: the supervisor's and the
 *                                   init's pids with their start times, the
 *                                   cgroup, the address; and attach.sock
 * Whether a container runs is never read from a file: its supervisor holds
 * a shared lock on the record (container_hold()) for as long as it lives,
 * so a killed supervisor, a reboot or a lost runtime directory all read as
 * "exited", and a pid is trusted only when its start time still matches.
 */
#ifndef USBOX_CONTAINER_STATE_H
#define USBOX_CONTAINER_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/error.h"

#define CTR_TIME_LEN 40

/* run.json: how to reach a running container. */
struct ctr_run {
	pid_t monitor, init;     /* the supervisor and the sandbox's init, as seen from the host */
	uint64_t init_start;     /* the init's start time (/proc/PID/stat), against pid reuse */
	bool full_map;           /* the sandbox has the subordinate ids (setgroups allowed) */
	char cgroup[4200];       /* the sandbox's cgroup directory, or "" */
	char address[64];        /* its address on its network, or "" */
};

enum ctr_status { CTR_CREATED, CTR_RUNNING, CTR_EXITED };

/* state.json: what became of it. */
struct ctr_state {
	enum ctr_status status;  /* as written: a "running" one whose lock is free has died */
	int exit_code;           /* -1: unknown */
	bool oom_killed;
	char started[CTR_TIME_LEN], finished[CTR_TIME_LEN]; /* RFC 3339, or "" */
	pid_t monitor, init;     /* while running: run.json's, for when the runtime directory is */
	uint64_t init_start;     /* gone (a logout) but the container is not */
	char cgroup[4200];
	bool full_map;
};

/* ctr_now() - the current time in RFC 3339 with nanoseconds, UTC. */
void ctr_now(char buf[CTR_TIME_LEN]);

/*
 * ctr_state_init() - settle where runtime state lives (the caller's uid and
 * runtime directory) before anything joins another user namespace, in which
 * the caller's uid and the directory's owner read differently.
 */
void ctr_state_init(void);

/*
 * ctr_run_dir() - RUNTIME/containers/@id (RUNTIME: common/statedir.h);
 * with @make, created (0700) with its parents.
 * Return: 0 or a negative errno.
 */
int ctr_run_dir(const char *id, bool make, char *buf, size_t len, struct ubx_err *e);

/*
 * ctr_run_write() - write run.json into @dir (from ctr_run_dir(), made before
 * the supervisor joined another user namespace).  Return: 0 or a negative errno.
 */
int ctr_run_write(const char *dir, const struct ctr_run *r, struct ubx_err *e);

/* ctr_run_read() - read run.json of @id.  Return: 0 or a negative errno (-ENOENT: none). */
int ctr_run_read(const char *id, struct ctr_run *r, struct ubx_err *e);

/*
 * ctr_run_find() - how to reach the running container @id whose directory
 * is @cdir: run.json, else the pids state.json keeps (the runtime directory
 * may go while a container runs: a logout).
 * Return: 0 or a negative errno.
 */
int ctr_run_find(const char *id, const char *cdir, struct ctr_run *r, struct ubx_err *e);

/* ctr_run_remove() / ctr_run_remove_dir() - remove @id's runtime directory (best effort). */
void ctr_run_remove(const char *id);
void ctr_run_remove_dir(const char *dir);

/*
 * ctr_state_write() - (re)write state.json in the container directory @cdir
 * in place.  Return: 0 or a negative errno.
 */
int ctr_state_write(const char *cdir, const struct ctr_state *s, struct ubx_err *e);

/*
 * ctr_state_read_fd() / ctr_state_read() - read state.json (from an fd kept
 * open, or from @cdir); a file caught mid-write is read again.
 * Return: 0 or a negative errno.
 */
int ctr_state_read_fd(int fd, struct ctr_state *s, struct ubx_err *e);
int ctr_state_read(const char *cdir, struct ctr_state *s, struct ubx_err *e);

/* ctr_status_name() - "created", "running", "exited". */
const char *ctr_status_name(enum ctr_status s);

/*
 * ctr_proc_start() - the start time of @pid (field 22 of /proc/PID/stat).
 * Return: 0 or a negative errno (-ESRCH: no such process).
 */
int ctr_proc_start(pid_t pid, uint64_t *start);

/*
 * ctr_init_pidfd() - a pidfd for the init that @r names, verified to be that
 * process (its start time) after it was opened.
 * Return: the pidfd, or -ESRCH when it is gone (or the pid was reused).
 */
int ctr_init_pidfd(const struct ctr_run *r);

#endif
