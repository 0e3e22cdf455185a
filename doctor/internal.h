/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the doctor's check files share: the caller's situation,
 * the results of the throw-away probes, and how a check is recorded.
 */
#ifndef USBOX_DOCTOR_INTERNAL_H
#define USBOX_DOCTOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "../idmap/idmap.h"
#include "doctor.h"

/* What the throw-away namespaces showed: each step's errno, 0 when it
 * worked, -1 when it was not reached. */
struct doctor_probe {
	int userns;  /* unshare(CLONE_NEWUSER) */
	int map;     /* its single-id map, written by the child itself */
	int ns;      /* mount, pid, uts, ipc, net and cgroup namespaces */
	int mnt;     /* a tmpfs in the new mount namespace */
	int proc;    /* a fresh /proc for the new pid namespace */
	int tun;     /* /dev/net/tun opened and made a TAP in the new network namespace */
	int relay;   /* the TCP redirect set up there (netns_redirect_setup()) */
	int overlay; /* kernel overlayfs with userxattr over $HOME, upper on a tmpfs */
	int seccomp; /* the default filter installed (in a child of its own) */
	char relay_msg[240];
	char overlay_msg[240];
	char seccomp_msg[240];
};

/* What the cgroup child found when it asked for a sandbox's cgroup. */
struct doctor_cgroup {
	int r;                 /* cgroup_setup()'s result */
	char msg[480];         /* its message on failure */
	char unit[128];        /* the systemd scope it got, or "" */
	char own[1024];        /* the cgroup it made or got */
	char controllers[128]; /* what that cgroup may enable (cgroup.controllers) */
};

struct doctor_ctx {
	struct doctor_report *report;
	uint32_t uid, gid;
	char user[64];      /* the caller's name, or "" */
	char exe[1024];     /* usbox's own path, for an AppArmor profile */
	char container[64]; /* the container usbox runs in ("docker", ...), or "" */
	bool nnp;           /* no_new_privs is set on the caller */
	struct doctor_probe probe;
	struct idmap_range ur[IDMAP_MAX_RANGES], gr[IDMAP_MAX_RANGES];
	size_t nu, ng;   /* the caller's ranges in /etc/subuid, /etc/subgid */
	bool helpers_ok; /* newuidmap and newgidmap can gain their privileges */
	struct doctor_cgroup cg;
};

/* doctor_add() - a new check in @c's report, status ok, nothing said yet. */
struct doctor_check *doctor_add(struct doctor_ctx *c, const char *id, const char *name, bool required);

/* doctor_say() - set @k's status and message (printf-style). */
void doctor_say(struct doctor_check *k, enum doctor_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* doctor_fix() - set @k's fix (printf-style). */
void doctor_fix(struct doctor_check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* doctor_unpoint() - take the "(usbox doctor: NAME)" pointer off the end of
 * a message of usbox's that a check quotes. */
void doctor_unpoint(char *msg);

/* doctor_read_line() - the first line of @path (no newline) into @buf.
 * Return: 0 or a negative errno. */
int doctor_read_line(const char *path, char *buf, size_t len);

/* doctor_probe_namespaces() - run the throw-away namespace and seccomp
 * probes in children and fill @p.  Return: 0 or a negative errno. */
int doctor_probe_namespaces(struct doctor_probe *p, struct ubx_err *e);

/* The checks, by file; each adds its lines to @c's report, in order. */
void doctor_check_host(struct doctor_ctx *c);     /* host.c: kernel, container, userns, AppArmor */
void doctor_check_ids(struct doctor_ctx *c);      /* ids.c: no_new_privs, ranges, helpers, id map */
void doctor_check_cgroups(struct doctor_ctx *c);  /* cgroups.c: cgroup v2, systemd, limits */
void doctor_check_features(struct doctor_ctx *c); /* host.c: tun, libslirp, overlayfs, seccomp */
void doctor_check_state(struct doctor_ctx *c);    /* state.c: holder, networks, stale state */

#endif
