/* SPDX-License-Identifier: MIT */
/*
 * state.h - what usbox-oci keeps about a container between its commands.
 *
 * One directory a container under the state root (--root; by default
 * /run/usbox-oci for the host's root, $XDG_RUNTIME_DIR/usbox-oci otherwise, as
 * for root in a rootless engine's user namespace), mode 0700:
 *   state.json  id, init pid and its start time, bundle, created, annotations
 *   exec.fifo   between create and start: the container's process waits on
 *               it; start writes one byte and removes it
 * Commands that change a container hold an flock on its directory.  The
 * status is derived, never stored: "stopped" once the pid is gone (or is
 * another process: the start time differs), "created" while the fifo
 * exists, "paused" while its cgroup is frozen, "running" otherwise.
 */
#ifndef USBOX_OCI_STATE_H
#define USBOX_OCI_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/error.h"

#define OCI_ID_MAX 1024

struct oci_state {
	char id[OCI_ID_MAX + 1];
	pid_t pid;
	uint64_t start;        /* the pid's start time (/proc/PID/stat) */
	char bundle[4096];
	char created[40];      /* RFC 3339, UTC */
	char *annotations;     /* JSON object text, or NULL */
	bool own_pidns;        /* the container has a pid namespace of its own */
	char owner[16];        /* the uid that made it */
	char cgroup[4096];     /* its cgroup (absolute path), or "" without one */
};

/*
 * oci_state_host_root() - whether this process is the host's root: uid 0 in
 * the initial user namespace (whose map is the identity over every id).
 * Root in a rootless engine's user namespace is not.
 */
bool oci_state_host_root(void);

/*
 * oci_state_root() - the state root: @given (--root) or the default.
 * Return: 0, or a negative errno when no default can be found.
 */
int oci_state_root(const char *given, char *out, size_t len, struct ubx_err *e);

/*
 * oci_state_check_id() - container ids as runc takes them: letters, digits,
 * '_', '+', '-', '.', not "." or "..", at most OCI_ID_MAX bytes.
 * Return: 0 or -EINVAL with the reason in @e.
 */
int oci_state_check_id(const char *id, struct ubx_err *e);

/*
 * oci_state_create() - make @root/@id (refused when it exists) with its exec
 * fifo, locked.  Return: the directory's fd (locked), or a negative errno.
 */
int oci_state_create(const char *root, const char *id, struct ubx_err *e);

/*
 * oci_state_open() - open @root/@id and lock it (shared or exclusive).
 * Return: the directory's fd, or -ENOENT ("container ID does not exist").
 */
int oci_state_open(const char *root, const char *id, bool exclusive, struct ubx_err *e);

/*
 * oci_state_load() - oci_state_open() and oci_state_read() in one.
 * Return: the directory's fd (locked) with @s filled, or a negative errno.
 */
int oci_state_load(const char *root, const char *id, bool exclusive, struct oci_state *s, struct ubx_err *e);

/* oci_state_write() - write @s into the directory @dir atomically. */
int oci_state_write(int dir, const struct oci_state *s, struct ubx_err *e);

/* oci_state_read() - read the directory @dir's state.json into @s. */
int oci_state_read(int dir, struct oci_state *s, struct ubx_err *e);

/* oci_state_free() - release what oci_state_read() allocated. */
void oci_state_free(struct oci_state *s);

/* oci_state_status() - "created", "running", "paused" or "stopped" (see above). */
const char *oci_state_status(int dir, const struct oci_state *s);

/*
 * oci_state_pidfd() - a pidfd of the container's process, when it is still
 * the process that was created.  Return: the fd, or -ESRCH.
 */
int oci_state_pidfd(const struct oci_state *s);

/*
 * oci_state_json() - the state as the runtime spec's `state` prints it.
 * Return: malloc()ed text, or NULL when out of memory.
 */
char *oci_state_json(int dir, const struct oci_state *s);

/* oci_state_remove() - remove @root/@id and what is in it. */
int oci_state_remove(const char *root, const char *id, struct ubx_err *e);

#endif
