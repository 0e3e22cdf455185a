/* SPDX-License-Identifier: MIT */
/*
 * runtime.h - the OCI runtime operations behind usbox-oci (cli/oci.c):
 * create, start, kill, delete, exec and the processes of a container, over
 * the state in state.h and the sandbox runtime in sandbox/.
 *
 * A container made here has no usbox supervisor: `create` clones its process
 * (PID 1 itself, as with runc) into the namespaces config.json asks for,
 * builds its root, and leaves it waiting on the exec fifo; the process that
 * ran `create` exits and the engine (conmon, a containerd shim, as a child
 * subreaper) adopts and reaps the container's process.
 */
#ifndef USBOX_OCI_RUNTIME_H
#define USBOX_OCI_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/error.h"
#include "config.h"

struct oci_create_opts {
	const char *root;           /* the state root */
	const char *id;
	const char *pid_file;       /* or NULL */
	const char *console_socket; /* or NULL */
	unsigned preserve_fds;      /* fds 3 .. 3+N-1 go to the container */
	bool systemd_cgroup;        /* --systemd-cgroup: cgroupsPath is slice:prefix:name */
	char *note;                 /* receives what the log should say ("" when nothing) */
	size_t note_len;
};

/*
 * oci_create() - create the container @o->id from @c (config.json of its
 * bundle): its process waits for oci_start().  @pidfd_out, when not NULL,
 * receives a pidfd of it (for `run`).
 * Return: 0, or a negative errno with nothing left behind (no state, no
 * process).
 */
int oci_create(const struct oci_create_opts *o, struct oci_config *c, int *pidfd_out, struct ubx_err *e);

/*
 * oci_start() - start a created container, then run its poststart hooks.
 * Return: 0, 1 when it started but a poststart hook failed (a warning, in
 * @e), or a negative errno.
 */
int oci_start(const char *root, const char *id, struct ubx_err *e);

/*
 * oci_kill() - send @sig to the container's process, or with @all to every
 * process of its pid namespace.  Return: 0 or a negative errno (-ESRCH:
 * not running).
 */
int oci_kill(const char *root, const char *id, int sig, bool all, struct ubx_err *e);

/*
 * oci_delete() - remove a stopped (or created) container; with @force kill a
 * running one first and wait until it is gone; then run its poststop hooks.
 * Return: 0, 1 when it was removed but a poststop hook failed (a warning, in
 * @e), or a negative errno.
 */
int oci_delete(const char *root, const char *id, bool force, struct ubx_err *e);

/*
 * oci_pids() - the container's processes, as pids of this pid namespace,
 * into a malloc()ed array.  Return: their number, or a negative errno.
 */
ssize_t oci_pids(const char *root, const char *id, pid_t **out, struct ubx_err *e);

struct oci_exec_opts {
	const char *root, *id;
	const char *process_file;   /* --process: the process object to run; or NULL: the container's
				     * own process (config.json) changed as follows */
	char *const *args;          /* the command (needed without process_file) */
	char *const *env;           /* --env NAME=VALUE, added */
	const char *cwd;            /* --cwd, or NULL */
	bool has_user;              /* --user uid[:gid] */
	uint32_t uid, gid;
	bool tty;                   /* --tty */
	uint64_t caps_add;          /* --cap: added to every capability set */
	const char *pid_file;       /* or NULL */
	const char *console_socket; /* with a terminal: where the pty master goes */
	bool detach;                /* leave the process to the caller's subreaper */
};

/*
 * oci_exec() - run @o->process in the running container @o->id: its
 * namespaces, its seccomp filter.  Without detach, wait for it and return its
 * exit status (128+N for signal N); with detach return 0 once it runs.
 * Return: as said, or a negative errno.
 */
int oci_exec(const struct oci_exec_opts *o, struct ubx_err *e);

/*
 * oci_wait_exit() - forward signals to the process of @pidfd (a child of this
 * process) until it ends.  Return: its exit status (128+N for signal N).
 */
int oci_wait_exit(int pidfd);

#endif
