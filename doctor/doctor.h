/* SPDX-License-Identifier: MIT */
/*
 * doctor.h - `usbox doctor`: whether this host lets usbox run, and what to
 * change where it does not.
 *
 * DOC: Theory of operation
 * Each check looks at one thing usbox depends on and says ok, warn or fail,
 * what that means for usbox, and for a problem the command or config line
 * that fixes it.  Checks are done for real where they can be: a throw-away
 * child process makes a user namespace, maps it, makes the other namespaces,
 * mounts a tmpfs, a fresh /proc and a kernel overlayfs in it and turns
 * /dev/net/tun into a TAP (probe.c); newuidmap and newgidmap map a
 * throw-away namespace with the caller's ranges (ids.c); a child asks for the
 * cgroup usbox would put a sandbox with limits in, and removes it
 * (cgroups.c); a child installs the default seccomp filter (probe.c).  The
 * rest reads the kernel's settings and usbox's state (host.c, state.c).
 * Nothing is printed here: cli/doctor.c prints the report, as text or JSON.
 * A check whose `required` is set is one usbox's defaults (`usbox -- CMD`)
 * need; doctor_usable() is false when one of them fails.  Errors that usbox
 * prints for one of these conditions end with "(usbox doctor: NAME)", NAME
 * being the check's name.
 */
#ifndef USBOX_DOCTOR_H
#define USBOX_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/error.h"

enum doctor_status {
	DOCTOR_OK,
	DOCTOR_WARN, /* works, with a caveat */
	DOCTOR_FAIL, /* what the check is about does not work here */
};

struct doctor_check {
	const char *id;   /* stable key for --json ("userns", "subids", ...) */
	const char *name; /* the label, and what error messages point at */
	bool required;    /* usbox's defaults need it: a fail makes doctor exit 1 */
	enum doctor_status status;
	char value[128];   /* the fact found (a version, a count, a list), or "" */
	char message[640]; /* what was found and what it means for usbox */
	char fix[768];     /* the command or config line that fixes it, or "" */
};

#define DOCTOR_MAX_CHECKS 32

struct doctor_report {
	struct doctor_check checks[DOCTOR_MAX_CHECKS];
	size_t n;
};

/*
 * doctor_run() - run every check for the calling user, in a fixed order
 * (the order and the ids of docs/doctor.md).  Throw-away children do the
 * real attempts; nothing of them is left behind.
 * Return: 0 with @r filled, or a negative errno when a check could not be
 * run at all (no fork, no pipe).
 */
int doctor_run(struct doctor_report *r, struct ubx_err *e);

/* doctor_usable() - whether no required check failed: usbox can run here
 * with its defaults. */
bool doctor_usable(const struct doctor_report *r);

/* doctor_status_name() - "ok", "warn" or "fail". */
const char *doctor_status_name(enum doctor_status s);

/*
 * doctor_free_subid_start() - the first id from 100000 on, a multiple of
 * 65536, above every range listed in the subuid/subgid stream @f (the other
 * stream @g may be NULL), so that a new range there overlaps no one's.
 * Return: that id (0 when none fits below 2^32 - 65536).
 */
uint32_t doctor_free_subid_start(FILE *f, FILE *g);

#endif
