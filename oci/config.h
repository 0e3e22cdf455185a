/* SPDX-License-Identifier: MIT */
/*
 * config.h - an OCI runtime-spec bundle's config.json, as usbox's one spec.
 *
 * oci_config_load() reads BUNDLE/config.json and fills a struct ubx_spec
 * (with spec.oci.enabled) plus what only the OCI runtime command line uses:
 * the seccomp program, the annotations.
 * Every field is checked; an unknown or malformed one fails with its path
 * ("config.json: process.user.uid: not an integer but a string") and
 * nothing is kept.  What usbox cannot do is refused by name, never ignored,
 * except what rootless runtimes leave out by convention (device cgroup rules,
 * hugepage and network-class limits); those are listed in @ignored for the
 * log.
 */
#ifndef USBOX_OCI_CONFIG_H
#define USBOX_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/error.h"
#include "hooks.h"
#include "../sandbox/spec.h"
#include "../seccomp/seccomp.h"
#include "resources.h"

#define OCI_SPEC_VERSION "1.2.0"
struct oci_config {
	struct ubx_spec spec;
	char *bundle;                  /* absolute */
	struct seccomp_prog seccomp;   /* linux.seccomp compiled; empty without one */
	char *annotations;             /* the annotations object as JSON text, or NULL */
	char *cgroups_path;            /* linux.cgroupsPath, or NULL */
	struct oci_hooks hooks;
	bool has_limits;               /* linux.resources asks for a limit a cgroup must hold */
	struct oci_limits limits;      /* linux.resources as cgroup v2 writes */
	char ignored[512];             /* fields left out as rootless runtimes do, for the log, or "" */
};

/*
 * oci_config_parse() - fill @c from the config.json text @text of the bundle
 * @bundle (absolute; root.path is taken relative to it).
 * Return: 0, or a negative errno with "config.json: FIELD: what is wrong" in @e;
 * @c holds nothing then.
 */
int oci_config_parse(const char *text, size_t len, const char *bundle, struct oci_config *c, struct ubx_err *e);

/*
 * oci_config_load() - read @bundle/config.json (at most 4 MiB) and parse it.
 * Return: 0 or a negative errno, as oci_config_parse().
 */
int oci_config_load(const char *bundle, struct oci_config *c, struct ubx_err *e);

/*
 * oci_process_parse() - replace @c's process (args, env, cwd, user,
 * capabilities, rlimits, terminal, noNewPrivileges) with the process object
 * in @text (`exec --process FILE`).
 * Return: 0, or a negative errno with @c unchanged.
 */
int oci_process_parse(const char *text, size_t len, struct oci_config *c, struct ubx_err *e);

/* oci_config_ns() - the container's own namespaces: made or joined (CLONE_NEW*). */
int oci_config_ns(const struct oci_config *c);

/* oci_config_free() - release everything @c holds. */
void oci_config_free(struct oci_config *c);

#endif
