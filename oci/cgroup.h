/* SPDX-License-Identifier: MIT */
/*
 * cgroup.h - the cgroup of a usbox-oci container (cgroup v2 only).
 *
 * DOC: Theory of operation
 * create makes the container's cgroup before the clone and the container's
 * process is cloned straight into it (CLONE_INTO_CGROUP); the cgroup then
 * outlives create and its path is kept in state.json.  Where it comes from:
 *  - with --systemd-cgroup, cgroupsPath "slice:prefix:name" is a transient
 *    scope "prefix-name.scope" in that slice with Delegate=yes, started over
 *    D-Bus (the system manager as root, the user's manager rootless) for the
 *    create process itself; the scope's own cgroup is the container's (the
 *    create process leaves it when it exits);
 *  - otherwise cgroupsPath is a directory made with mkdir: absolute under
 *    the cgroup2 mount, relative under the caller's cgroup; the controllers
 *    the limits need are enabled on the way down.
 * Rootless, only what is delegated can be had.  When config.json asks for a
 * limit and no cgroup with its controllers can be had (no cgroup v2
 * controllers on this host, nothing delegated), create fails saying why;
 * when it asks for none, the container runs without a cgroup and a note says
 * so, as crun and runc do.  delete kills what is left (cgroup.kill) and
 * removes the directory; pause and resume use cgroup.freeze.
 */
#ifndef USBOX_OCI_CGROUP_H
#define USBOX_OCI_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../common/error.h"
#include "resources.h"

struct oci_cgroup {
	char path[4096]; /* absolute, under the cgroup2 mount; "" without one */
	int fd;          /* the directory, for CLONE_INTO_CGROUP; -1 without */
	bool made;       /* a directory create made (removed when create fails) */
};

struct oci_cgroup_req {
	const char *cgroups_path; /* linux.cgroupsPath, or NULL */
	bool systemd;             /* --systemd-cgroup */
	const char *id;
	const struct oci_limits *limits;
};

/*
 * oci_cgroup_create() - the container's cgroup with @q->limits applied.
 * Return: 0 with @cg set, or 0 with cg->path "" and the reason in @note
 * (no limit was asked for and no cgroup could be had), or a negative errno
 * saying what is missing; nothing is left behind then.
 */
int oci_cgroup_create(const struct oci_cgroup_req *q, struct oci_cgroup *cg, char *note, size_t note_len,
		      struct ubx_err *e);

/* oci_cgroup_release() - close @cg's fd; with @remove also kill what is in
 * it and remove the directory create made. */
void oci_cgroup_release(struct oci_cgroup *cg, bool remove);

/*
 * oci_cgroup_check() - whether @path may be a container's cgroup: an
 * absolute path under the cgroup2 mount, no "." or ".." component.
 */
bool oci_cgroup_check(const char *path);

/* oci_cgroup_apply() - write @l into the cgroup @path.  Return: 0 or a negative errno. */
int oci_cgroup_apply(const char *path, const struct oci_limits *l, struct ubx_err *e);

/* oci_cgroup_remove() - kill every process in @path and remove it (gone
 * already is fine); a systemd scope is left for systemd to stop and remove. */
void oci_cgroup_remove(const char *path);

/*
 * oci_cgroup_freeze() - freeze (or thaw) @path and wait until the kernel
 * says it is.  Return: 0 or a negative errno.
 */
int oci_cgroup_freeze(const char *path, bool freeze, struct ubx_err *e);

/* oci_cgroup_frozen() - whether @path is asked to be frozen. */
bool oci_cgroup_frozen(const char *path);

/* oci_cgroup_signal() - @sig to every process in @path (cgroup.kill for
 * SIGKILL).  Return: 0 or a negative errno. */
int oci_cgroup_signal(const char *path, int sig, struct ubx_err *e);

/* oci_cgroup_pids() - cgroup.procs of @path into a malloc()ed array.
 * Return: their number or a negative errno. */
ssize_t oci_cgroup_pids(const char *path, pid_t **out, struct ubx_err *e);

/*
 * oci_cgroup_pause() - `pause` (@freeze) or `resume` the container @id under
 * the state root @root.  Return: 0 or a negative errno (no cgroup: refused).
 */
int oci_cgroup_pause(const char *root, const char *id, bool freeze, struct ubx_err *e);

/*
 * oci_cgroup_update() - `update --resources`: write @l into the cgroup of
 * the container @id.  Return: 0 or a negative errno (no cgroup: refused).
 */
int oci_cgroup_update(const char *root, const char *id, const struct oci_limits *l, struct ubx_err *e);

/*
 * oci_cgroup_update_file() - oci_cgroup_update() with the linux.resources
 * object in the file @file ("-": standard input; at most 1 MiB).
 */
int oci_cgroup_update_file(const char *root, const char *id, const char *file, struct ubx_err *e);

#endif
