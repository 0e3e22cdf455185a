/* SPDX-License-Identifier: MIT */
/*
 * seccomp.h - the sandboxed command's system-call filter.
 *
 * DOC: Theory of operation
 * The supervisor resolves what to install before anything starts
 * (seccomp_prepare), and the command's process installs it as its last step
 * before execve (seccomp_install), after its capabilities are cut and
 * no_new_privs is set.  Both ends deal in one plain classic-BPF program, so
 * installing is one seccomp() call whatever its source:
 *
 *  - the default profile, and the --nested one, were compiled from an
 *    allowlist at build time (seccomp/gen.c, which checks them against
 *    libseccomp's compilation of the same rules) and are static arrays here:
 *    the default path never loads libseccomp or json-c;
 *  - a Docker/OCI JSON profile (--seccomp FILE, later an OCI config's
 *    linux.seccomp) is parsed with json-c and compiled with libseccomp, both
 *    dlopen()ed only then (seccomp/profile.c);
 *  - unconfined is the empty program, which installs nothing.
 *
 * The default profile is Docker's: known calls outside the allowlist fail with
 * EPERM, calls newer than the profile with ENOSYS (libc falls back), and
 * namespaces, mounts, keyrings, BPF, perf, io_uring, modules, the clock and
 * TIOCSTI are refused; --nested allows namespaces and mounts again.
 */
#ifndef USBOX_SECCOMP_SECCOMP_H
#define USBOX_SECCOMP_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

#include "../common/error.h"

struct json_object;

enum seccomp_mode {
	SECCOMP_DEFAULT,        /* Docker's default profile */
	SECCOMP_NESTED_DEFAULT, /* the default, plus namespaces and mounts (--nested) */
	SECCOMP_UNCONFINED,     /* no filter */
	SECCOMP_PROFILE_FILE,   /* a Docker/OCI JSON profile (--seccomp FILE) */
};

/* A classic-BPF program; filter is malloc()ed when owned, else static. */
struct seccomp_prog {
	struct sock_filter *filter;
	unsigned short len; /* instructions; 0: nothing to install */
	bool owned;
};

/* The largest profile file read (as for --env-file). */
#define SECCOMP_PROFILE_MAX (1 << 20)

/*
 * seccomp_prepare() - resolve the program to install, in the supervisor
 * before anything starts.
 * @mode: which filter
 * @file: the JSON profile for SECCOMP_PROFILE_FILE (ignored otherwise)
 * @out:  the program; release it with seccomp_prog_free()
 * @e:    on failure, one line naming the file and the field at fault
 *
 * Return: 0, or a negative errno (usbox then exits with 125).
 */
int seccomp_prepare(enum seccomp_mode mode, const char *file, struct seccomp_prog *out, struct ubx_err *e);

/*
 * seccomp_install() - install @p in the calling thread.
 * @p: a program from seccomp_prepare(); an empty one installs nothing
 * @e: on failure, what failed
 *
 * The caller has set no_new_privs (or holds CAP_SYS_ADMIN).
 * Return: 0, or a negative errno.
 */
int seccomp_install(const struct seccomp_prog *p, struct ubx_err *e);

/*
 * seccomp_prog_free() - release @p's program if it owns it, and empty @p.
 * @p: a program, or one zeroed; may be NULL
 */
void seccomp_prog_free(struct seccomp_prog *p);

/*
 * seccomp_profile_load() - read and compile a JSON profile file.
 * @path: the file; it must be a regular file of at most SECCOMP_PROFILE_MAX bytes
 * @what: how messages name it, e.g. "--seccomp /x.json"
 * @out:  the program (owned)
 * @e:    on failure, "@what: FIELD: what is wrong"
 *
 * Return: 0, or a negative errno.
 */
int seccomp_profile_load(const char *path, const char *what, struct seccomp_prog *out, struct ubx_err *e);

/*
 * seccomp_profile_parse() - compile the JSON profile in @text.
 * @text: @len bytes of JSON text, not necessarily NUL-terminated
 * @len:  its length
 * @what: how messages name it
 * @out:  the program (owned)
 * @e:    on failure, "@what: FIELD: what is wrong"
 *
 * Return: 0, or a negative errno.
 */
int seccomp_profile_parse(const char *text, size_t len, const char *what, struct seccomp_prog *out,
			  struct ubx_err *e);

/*
 * seccomp_profile_compile() - compile a parsed profile: a Docker seccomp
 * profile, or an OCI config's linux.seccomp object.
 * @spec: the json-c object (from the json-c that seccomp_profile_parse() or
 *        the caller loaded; one process holds one json-c)
 * @what: how messages name it, e.g. "config.json: linux.seccomp"
 * @out:  the program (owned)
 * @e:    on failure, "@what: FIELD: what is wrong"
 *
 * The fields read are defaultAction, defaultErrnoRet, architectures, archMap
 * (the native architecture's entry) and syscalls[] with names (or name),
 * action, errnoRet, args[] (index, value, valueTwo, op), and includes and
 * excludes, whose arches and minKernel are evaluated and whose caps are only
 * noted: they count as not granted, so Docker's default.json gives what a
 * container without added capabilities gets.  Names libseccomp does not know
 * are skipped, as runc does; flags and comments are ignored.
 * Return: 0, or a negative errno.
 */
int seccomp_profile_compile(struct json_object *spec, const char *what, struct seccomp_prog *out,
			    struct ubx_err *e);

#endif
