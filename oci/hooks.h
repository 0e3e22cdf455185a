/* SPDX-License-Identifier: MIT */
/*
 * hooks.h - the runtime-spec's hooks for usbox-oci: prestart and
 * createRuntime run by create once the container's process waits, in the
 * runtime's namespaces; createContainer then, in the container's namespaces
 * (its path resolved in the runtime's); startContainer by the container's
 * process once `start` released it, before its program (path resolved in
 * the container); poststart by start, poststop by delete.  Each gets the
 * container's state (JSON) on its stdin.
 */
#ifndef USBOX_OCI_HOOKS_H
#define USBOX_OCI_HOOKS_H

#include <stddef.h>
#include <sys/types.h>

#include "../common/error.h"

struct json_object;
struct oci_fields;

/* In config.json's order of hooks.c's names. */
enum oci_hook_kind {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_KINDS
};

struct oci_hook {
	char *path;  /* absolute */
	char **args; /* or NULL: path alone */
	char **env;  /* or NULL: empty */
	int timeout; /* seconds, 0: none */
};

struct oci_hooks {
	struct oci_hook *v[OCI_HOOK_KINDS];
	size_t n[OCI_HOOK_KINDS];
	char *json; /* the hooks object as config.json has it, kept for start and delete; or NULL */
};

/*
 * oci_hooks_run() - run the hooks of @kind in order, each with @state on its
 * stdin and its output kept for the message; stops at the first that fails
 * (exits non-zero, cannot run, or outlives its timeout: then killed) -
 * poststart and poststop hooks all run even then, as the spec has it.
 * Return: 0, or a negative errno with @e naming the (first) hook that failed.
 */
int oci_hooks_run(const struct oci_hooks *h, enum oci_hook_kind kind, const char *state, struct ubx_err *e);

/*
 * oci_hooks_run_in() - as oci_hooks_run(), each hook run in the namespaces
 * of the process @pid, held by @pidfd (those that differ from this process's) as its root
 * when a user namespace is joined.  The hook's file is opened here (its path
 * resolves in the runtime's namespaces) and run from a sealed copy, so the
 * hook process holds nothing of the host's; the part of it that joins is not
 * dumpable.  For createContainer.
 */
int oci_hooks_run_in(const struct oci_hooks *h, enum oci_hook_kind kind, const char *state, pid_t pid, int pidfd,
		     struct ubx_err *e);

/* oci_hooks_save() - keep @h's hooks in the state directory @dir (nothing when it has none). */
int oci_hooks_save(int dir, const struct oci_hooks *h, struct ubx_err *e);

/* oci_hooks_load() - the hooks oci_hooks_save() kept in @dir; none when it kept none. */
int oci_hooks_load(int dir, struct oci_hooks *h, struct ubx_err *e);

/*
 * oci_hooks_parse() - a hooks object (as config.json's "hooks", and as
 * oci_hooks_save() keeps it) into @h, checked as in config.json.
 * Return: 0, or a negative errno with @e naming the field.
 */
int oci_hooks_parse(const char *text, size_t len, struct oci_hooks *h, struct ubx_err *e);

/* oci_hooks_parse_obj() - the hooks object @o, at @base in @f's file, into @h (config.c's part). */
int oci_hooks_parse_obj(const struct oci_fields *f, struct json_object *o, const char *base, struct oci_hooks *h);

/* oci_hooks_free() - release what @h holds. */
void oci_hooks_free(struct oci_hooks *h);

#define _cleanup_hooks_ __attribute__((cleanup(oci_hooks_free)))

#endif
