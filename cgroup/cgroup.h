/* SPDX-License-Identifier: MIT */
/*
 * cgroup.h - resource limits in a cgroup v2 subtree the caller owns.
 *
 * DOC: Theory of operation
 * A sandbox with limits gets a cgroup of its own, "usbox-PID", under a
 * cgroup the user may manage, found in this order:
 *   1. --cgroup-parent DIR, prepared and delegated by the caller;
 *   2. with a systemd user manager, a transient scope with Delegate=yes that
 *      it creates for usbox over D-Bus (usbox moves itself into it);
 *   3. otherwise the nearest cgroup at or above usbox's own that the user
 *      owns and under which a child with the needed controllers can be made.
 * Inside it the no-internal-process rule holds: the sandbox lives in the leaf
 * "sandbox" (its first process is cloned straight into it), and when usbox
 * itself is inside (the scope case) it moves to the leaf "supervisor".  Only
 * the controllers a limit needs are enabled.  On exit cgroup.kill empties the
 * leaf and the directories are removed; a later run removes what a killed
 * usbox left.  Without a limit none of this runs.
 */
#ifndef USBOX_CGROUP_H
#define USBOX_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/error.h"

#define CGROUP_UNSET UINT64_C(0xfffffffffffffffe) /* never a valid value */
#define CGROUP_MAX UINT64_MAX                     /* "max" */
#define CGROUP_CPU_PERIOD 100000                  /* microseconds */

struct cgroup_limits {
	uint64_t mem, mem_swap, mem_high; /* bytes, CGROUP_MAX, or CGROUP_UNSET */
	uint64_t cpu_quota;               /* per CGROUP_CPU_PERIOD, or CGROUP_UNSET */
	uint64_t cpu_weight, io_weight;   /* 1..10000, or CGROUP_UNSET */
	uint64_t pids;                    /* count, CGROUP_MAX, or CGROUP_UNSET */
	char cpuset_cpus[128];            /* "" when unset */
	char mem_text[32];                /* --mem as given, for the OOM message */
};

/* cgroup_limits_init() - every limit unset. */
void cgroup_limits_init(struct cgroup_limits *l);

/* cgroup_limits_any() - whether any limit is set. */
bool cgroup_limits_any(const struct cgroup_limits *l);

/*
 * cgroup_parse_cpus() - "1.5" -> 150000 µs of CPU time per 100000 µs period.
 * Return: 0, or -EINVAL for anything but a positive decimal up to 4096.
 */
int cgroup_parse_cpus(const char *s, uint64_t *quota);

/*
 * cgroup_parse_cpuset() - check a cpuset list such as "0-3,8,10-11".
 * Return: 0 or -EINVAL.
 */
int cgroup_parse_cpuset(const char *s);

/*
 * cgroup_find_mount() - the mount point of the cgroup2 file system in a
 * /proc/self/mountinfo stream, into @out.
 * Return: 0, or -ENOENT when there is none.
 */
int cgroup_find_mount(FILE *mountinfo, char *out, size_t len);

/*
 * cgroup_self_path() - the cgroup v2 path ("0::PATH" line) in a
 * /proc/self/cgroup stream, into @out.
 * Return: 0, or -ENOENT when there is none.
 */
int cgroup_self_path(FILE *proc_cgroup, char *out, size_t len);

/*
 * cgroup_write_file() - write @text into @dir/@file (no symlink followed).
 * Return: 0 or a negative errno.
 */
int cgroup_write_file(const char *dir, const char *file, const char *text);

/*
 * cgroup_read_file() - @dir/@file, at most @len - 1 bytes, into @buf,
 * NUL-terminated ("" when it cannot be read).  Return: 0 or a negative errno.
 */
int cgroup_read_file(const char *dir, const char *file, char *buf, size_t len);

/* The sandbox's cgroup, once set up. */
struct cgroup_sandbox {
	bool active;
	char own[4096];      /* the "usbox-PID" directory or the systemd scope */
	int leaf_fd;         /* own/sandbox, for clone3(CLONE_INTO_CGROUP) */
	bool remove_own;     /* own was made by usbox (not by systemd) */
	char unit[128];      /* the transient scope's name, or "" */
	struct cgroup_limits limits;
};

/*
 * cgroup_setup() - find or obtain a delegated cgroup, create the sandbox's
 * leaf in it with @l applied.  @parent is --cgroup-parent (or NULL); @stats
 * asks for the memory and pids counters too (a cgroup even without limits).
 * Return: 0, or a negative errno with a message that says what is missing and
 * how to fix it; nothing is left behind then.
 */
int cgroup_setup(const struct cgroup_limits *l, const char *parent, bool stats, struct cgroup_sandbox *cg,
		 struct ubx_err *e);

/*
 * cgroup_add_pid() - move @pid into the sandbox's leaf (for kernels or
 * sandboxes where clone3 could not place it).  Return: 0 or a negative errno.
 */
int cgroup_add_pid(const struct cgroup_sandbox *cg, int pid, struct ubx_err *e);

/* cgroup_oom_killed() - whether the kernel's OOM killer struck in the leaf. */
bool cgroup_oom_killed(const struct cgroup_sandbox *cg);

struct cgroup_stats {
	uint64_t mem_peak; /* bytes */
	uint64_t cpu_usec;
	uint64_t pids_peak;
};

/* cgroup_read_stats() - what the leaf's counters say; fields it lacks are 0. */
void cgroup_read_stats(const struct cgroup_sandbox *cg, struct cgroup_stats *s);

/*
 * cgroup_teardown() - kill whatever is left in the leaf and remove the
 * directories usbox made.  Safe on a sandbox that was never set up.
 */
void cgroup_teardown(struct cgroup_sandbox *cg);

/*
 * cgroup_systemd_scope() - ask the systemd user manager for a transient scope
 * named @unit with Delegate=yes holding this process, and wait for it.
 * Return: 0, -ENOENT when no user manager can be reached, other negative
 * errnos with the manager's message in @e.
 */
int cgroup_systemd_scope(const char *unit, struct ubx_err *e);

/*
 * cgroup_systemd_scope_in() - as cgroup_systemd_scope(), in @slice (or the
 * manager's default when ""), from the system manager when @system.
 */
int cgroup_systemd_scope_in(const char *unit, const char *slice, bool system, struct ubx_err *e);

/* cgroup_systemd_available() - whether libsystemd can be loaded. */
bool cgroup_systemd_available(void);

#endif
