/* SPDX-License-Identifier: MIT */
/*
 * format_config.c - an image config (OCI image-spec config, Docker's image
 * JSON) into struct imgfmt_config.
 *
 * DOC: Theory of operation
 * The config is the one JSON blob a runtime keeps using after the load: the
 * lead's run path fills its spec from it (Env, Entrypoint, Cmd, WorkingDir,
 * User), and the layers are checked against rootfs.diff_ids.  Required are
 * architecture, os and rootfs (of type "layers"); everything else may be
 * absent or null, as the spec allows.  Maps whose values carry nothing
 * (ExposedPorts, Volumes) become lists of their keys; Labels a list of
 * pairs.  Messages name the field: "config: config.Env[2]: not a string but
 * an integer".
 */
#include "format_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"

#define MAX_LIST 100000 /* entries in one list of a config (history, labels, ...) */

void imgfmt_config_free(struct imgfmt_config *c)
{
	if (!c)
		return;
	free(c->architecture);
	free(c->os);
	free(c->variant);
	free(c->created);
	free(c->author);
	cleanup_strvp(&c->env);
	cleanup_strvp(&c->entrypoint);
	cleanup_strvp(&c->cmd);
	free(c->working_dir);
	free(c->user);
	free(c->stop_signal);
	cleanup_strvp(&c->exposed_ports);
	cleanup_strvp(&c->volumes);
	for (size_t i = 0; i < c->n_labels; i++) {
		free(c->labels[i].key);
		free(c->labels[i].value);
	}
	free(c->labels);
	free(c->diff_ids);
	for (size_t i = 0; i < c->n_history; i++) {
		free(c->history[i].created);
		free(c->history[i].created_by);
		free(c->history[i].author);
		free(c->history[i].comment);
	}
	free(c->history);
	*c = (struct imgfmt_config){ 0 };
}

static int too_long(const struct jctx *c, struct json_object *list, const char *field, size_t *n)
{
	*n = jsonc.json_object_array_length(list);
	if (*n > MAX_LIST)
		return jbad(c, field, "more than %d entries", MAX_LIST);
	return 0;
}

static int parse_labels(const struct jctx *c, struct json_object *o, const char *field, struct imgfmt_config *out)
{
	char at[FIELD_LEN];
	int r;

	if (!o)
		return 0;
	if ((r = jexpect(c, o, json_type_object, field)) < 0)
		return r;
	size_t n = (size_t)jsonc.json_object_object_length(o);
	if (n > MAX_LIST)
		return jbad(c, field, "more than %d entries", MAX_LIST);
	if (!(out->labels = calloc(n ? n : 1, sizeof(*out->labels))))
		return ubx_fail(c->e, ENOMEM, "%s", c->what);
	struct json_object_iterator it = jsonc.json_object_iter_begin(o), end = jsonc.json_object_iter_end(o);
	for (; !jsonc.json_object_iter_equal(&it, &end); jsonc.json_object_iter_next(&it)) {
		const char *key = jsonc.json_object_iter_peek_name(&it);
		struct imgfmt_kv *kv = &out->labels[out->n_labels];

		snprintf(at, sizeof(at), "%.40s[\"%.60s\"]", field, key);
		if (!(kv->key = strdup(key)))
			return ubx_fail(c->e, ENOMEM, "%s", c->what);
		out->n_labels++;
		if ((r = jstring(c, jsonc.json_object_iter_peek_value(&it), at, &kv->value)) < 0)
			return r;
	}
	return 0;
}

/* parse_container() - the "config" object: what to run and how. */
static int parse_container(const struct jctx *c, struct json_object *o, struct imgfmt_config *out)
{
	char at[FIELD_LEN];
	int r;

	if (!o)
		return 0;
	if ((r = jexpect(c, o, json_type_object, "config")) < 0)
		return r;
	if ((r = jstrv(c, jsonc_member(o, "Env"), "config.Env", &out->env, NULL)) < 0 ||
	    (r = jstrv(c, jsonc_member(o, "Entrypoint"), "config.Entrypoint", &out->entrypoint, NULL)) < 0 ||
	    (r = jstrv(c, jsonc_member(o, "Cmd"), "config.Cmd", &out->cmd, NULL)) < 0 ||
	    (r = jstring_opt(c, o, "WorkingDir", "config", &out->working_dir)) < 0 ||
	    (r = jstring_opt(c, o, "User", "config", &out->user)) < 0 ||
	    (r = jstring_opt(c, o, "StopSignal", "config", &out->stop_signal)) < 0 ||
	    (r = jkeys(c, jsonc_member(o, "ExposedPorts"), "config.ExposedPorts", &out->exposed_ports)) < 0 ||
	    (r = jkeys(c, jsonc_member(o, "Volumes"), "config.Volumes", &out->volumes)) < 0)
		return r;
	return parse_labels(c, jsonc_member(o, "Labels"), jfield(at, "config", "Labels", 0), out);
}

static int parse_rootfs(const struct jctx *c, struct json_object *o, struct imgfmt_config *out)
{
	struct json_object *t, *ids;
	char at[FIELD_LEN];
	size_t n;
	int r;

	if (!o)
		return jbad(c, "rootfs", "missing");
	if ((r = jexpect(c, o, json_type_object, "rootfs")) < 0)
		return r;
	if (!(t = jsonc_member(o, "type")))
		return jbad(c, "rootfs.type", "missing");
	if ((r = jexpect(c, t, json_type_string, "rootfs.type")) < 0)
		return r;
	if (strcmp(jsonc.json_object_get_string(t), "layers") != 0)
		return jbad(c, "rootfs.type", "'%.40s', not 'layers'", jsonc.json_object_get_string(t));
	if (!(ids = jsonc_member(o, "diff_ids")))
		return jbad(c, "rootfs.diff_ids", "missing");
	if ((r = jexpect(c, ids, json_type_array, "rootfs.diff_ids")) < 0 ||
	    (r = too_long(c, ids, "rootfs.diff_ids", &n)) < 0)
		return r;
	if (!(out->diff_ids = calloc(n ? n : 1, sizeof(*out->diff_ids))))
		return ubx_fail(c->e, ENOMEM, "%s", c->what);
	out->n_diff_ids = n;
	for (size_t i = 0; i < n; i++)
		if ((r = jdigest(c, jsonc.json_object_array_get_idx(ids, i), jfield(at, "rootfs.diff_ids", NULL, i),
				 &out->diff_ids[i])) < 0)
			return r;
	return 0;
}

static int parse_history_item(const struct jctx *c, struct json_object *o, const char *base,
			      struct imgfmt_history *h)
{
	struct json_object *empty;
	char at[FIELD_LEN];
	int r;

	if ((r = jexpect(c, o, json_type_object, base)) < 0)
		return r;
	if ((r = jstring_opt(c, o, "created", base, &h->created)) < 0 ||
	    (r = jstring_opt(c, o, "created_by", base, &h->created_by)) < 0 ||
	    (r = jstring_opt(c, o, "author", base, &h->author)) < 0 ||
	    (r = jstring_opt(c, o, "comment", base, &h->comment)) < 0)
		return r;
	if ((empty = jsonc_member(o, "empty_layer"))) {
		if ((r = jexpect(c, empty, json_type_boolean, jfield(at, base, "empty_layer", 0))) < 0)
			return r;
		h->empty_layer = jsonc.json_object_get_boolean(empty);
	}
	return 0;
}

static int parse_history(const struct jctx *c, struct json_object *o, struct imgfmt_config *out)
{
	char at[FIELD_LEN];
	size_t n;
	int r;

	if (!o)
		return 0;
	if ((r = jexpect(c, o, json_type_array, "history")) < 0 || (r = too_long(c, o, "history", &n)) < 0)
		return r;
	if (!(out->history = calloc(n ? n : 1, sizeof(*out->history))))
		return ubx_fail(c->e, ENOMEM, "%s", c->what);
	out->n_history = n;
	for (size_t i = 0; i < n; i++)
		if ((r = parse_history_item(c, jsonc.json_object_array_get_idx(o, i), jfield(at, "history", NULL, i),
					    &out->history[i])) < 0)
			return r;
	return 0;
}

static int parse_root(const struct jctx *c, struct json_object *root, struct imgfmt_config *out)
{
	int r;

	if (!jsonc_is(root, json_type_object))
		return jbad(c, NULL, "not an object but %s", jsonc_type_name(root));
	if (!jsonc_member(root, "architecture"))
		return jbad(c, "architecture", "missing");
	if (!jsonc_member(root, "os"))
		return jbad(c, "os", "missing");
	if ((r = jstring_opt(c, root, "architecture", "", &out->architecture)) < 0 ||
	    (r = jstring_opt(c, root, "os", "", &out->os)) < 0 ||
	    (r = jstring_opt(c, root, "variant", "", &out->variant)) < 0 ||
	    (r = jstring_opt(c, root, "created", "", &out->created)) < 0 ||
	    (r = jstring_opt(c, root, "author", "", &out->author)) < 0)
		return r;
	if ((r = parse_container(c, jsonc_member(root, "config"), out)) < 0 ||
	    (r = parse_rootfs(c, jsonc_member(root, "rootfs"), out)) < 0)
		return r;
	return parse_history(c, jsonc_member(root, "history"), out);
}

int imgfmt_parse_config(const char *text, size_t len, const char *what, struct imgfmt_config *out,
			struct ubx_err *e)
{
	_cleanup_json_ struct json_object *root = NULL;
	struct jctx c = { what, e };
	int r;

	*out = (struct imgfmt_config){ 0 };
	if ((r = jsonc_parse(text, len, IMGFMT_JSON_MAX, what, &root, e)) < 0)
		return r;
	if ((r = parse_root(&c, root, out)) < 0)
		imgfmt_config_free(out);
	return r;
}
