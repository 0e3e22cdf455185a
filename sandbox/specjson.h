/* SPDX-License-Identifier: MIT */
/*
 * specjson.h - a spec as JSON: how a container's spec is kept on disk
 * (spec.json) for `usbox exec` and `usbox inspect`.
 *
 * DOC: Theory of operation
 * The object's members follow the spec's sections (root, process, mounts,
 * hostname, network, limits, security) with names close to the OCI runtime
 * spec's.  spec_from_json() reads back what joining a running sandbox
 * needs: the process (args, env, cwd, user, capabilities, terminal), the
 * host name and the system-call filter.  The text is usbox's own and lives
 * in the caller's store, but is parsed as untrusted all the same.
 */
#ifndef USBOX_SANDBOX_SPECJSON_H
#define USBOX_SANDBOX_SPECJSON_H

#include <json-c/json.h>

#include "../common/error.h"
#include "spec.h"

/*
 * spec_to_json() - @s as a new JSON object (json-c loaded by the caller).
 * Return: 0 or -ENOMEM.
 */
int spec_to_json(const struct ubx_spec *s, struct json_object **out, struct ubx_err *e);

/*
 * spec_from_json() - the process, host name and filter of @o into @s (which
 * is emptied first); @what names the file in messages.
 * Return: 0 or a negative errno.
 */
int spec_from_json(struct json_object *o, const char *what, struct ubx_spec *s, struct ubx_err *e);

#endif
