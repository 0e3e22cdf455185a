/* SPDX-License-Identifier: MIT */
/*
 * hostview.h - from the command line's options to the runtime's spec: what
 * follows from the caller's own situation (environment, working directory,
 * home, runtime directories) and from Docker's rules for capabilities.
 */
#ifndef USBOX_CLI_HOSTVIEW_H
#define USBOX_CLI_HOSTVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "options.h"

/* podman's default capability set for root inside (bit N: capability N). */
#define CLI_DEFAULT_CAPS 0x800405fbULL

/*
 * cli_capabilities() - the command's capability set: podman's default for
 * root inside (@root), none otherwise, changed by --cap-drop and --cap-add
 * as Docker does.
 */
uint64_t cli_capabilities(const struct cli_options *o, bool root);

/*
 * cli_finish_spec() - complete @o->spec for a sandbox over the host view of
 * the caller in @cwd with environment @environ: the command's environment,
 * working directory, identity, capabilities and filter; the directories to
 * cover (the caller's runtime directories and usbox's state), whether the
 * working directory is bound read-write (not when mounts_cwd_unshared()
 * says so: then @notice gets a line for the user) and the home's layer.
 * Return: 0 or a negative errno.
 */
int cli_finish_spec(struct cli_options *o, char *const *environ, const char *cwd, char *notice, size_t len,
		    struct ubx_err *e);

#endif
