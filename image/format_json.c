/* SPDX-License-Identifier: MIT */
/*
 * format_json.c - the JSON of image archives: docker-archive's manifest.json,
 * OCI's oci-layout, index.json (and nested indexes) and image manifests.
 *
 * DOC: Theory of operation
 * Each parser takes text and the file's name, and fills plain structs with
 * strings they own: nothing here reads files or follows digests, so the
 * parsers can be fuzzed alone (tests/fuzz/fuzz_imgjson.c).  The text goes
 * through jsonc_parse() (strict, capped at IMGFMT_JSON_MAX); every field is
 * checked for its type, and a complaint names the file and the field the way
 * one would write it: "manifest.json: [0].Layers[2]: not a string but an
 * integer".  Fields the OCI image-spec marks as optional may be absent or
 * null; unknown fields are ignored, as the spec asks.
 */
#include "format_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"

#define REF_ANNOTATION "org.opencontainers.image.ref.name"

/* --- helpers shared with format_config.c --------------------------------- */

int jbad(const struct jctx *c, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (field && *field)
		return ubx_fail(c->e, 0, "%s: %s: %s", c->what, field, msg);
	return ubx_fail(c->e, 0, "%s: %s", c->what, msg);
}

const char *jfield(char out[FIELD_LEN], const char *base, const char *key, size_t index)
{
	if (key)
		snprintf(out, FIELD_LEN, "%.100s%s%.20s", base, *base ? "." : "", key);
	else
		snprintf(out, FIELD_LEN, "%.100s[%zu]", base, index);
	return out;
}

static const char *want_name(enum json_type t)
{
	switch (t) {
	case json_type_string: return "a string";
	case json_type_array: return "an array";
	case json_type_object: return "an object";
	case json_type_int: return "an integer";
	case json_type_boolean: return "a boolean";
	default: return "something else";
	}
}

int jexpect(const struct jctx *c, struct json_object *o, enum json_type t, const char *field)
{
	if (jsonc_is(o, t))
		return 0;
	return jbad(c, field, "not %s but %s", want_name(t), jsonc_type_name(o));
}

int jstring(const struct jctx *c, struct json_object *o, const char *field, char **out)
{
	int r = jexpect(c, o, json_type_string, field);
	if (r < 0)
		return r;
	if (!(*out = strdup(jsonc.json_object_get_string(o))))
		return ubx_fail(c->e, ENOMEM, "%s", c->what);
	return 0;
}

int jstring_opt(const struct jctx *c, struct json_object *parent, const char *key, const char *base, char **out)
{
	struct json_object *o = jsonc_member(parent, key);
	char at[FIELD_LEN];

	*out = NULL;
	if (!o)
		return 0;
	return jstring(c, o, jfield(at, base, key, 0), out);
}

size_t strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/* strv_new() - a zeroed, NULL-terminated array for @n strings. */
static char **strv_new(const struct jctx *c, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		(void)ubx_fail(c->e, ENOMEM, "%s", c->what);
	return v;
}

int jstrv(const struct jctx *c, struct json_object *o, const char *field, char ***out, size_t *n)
{
	_cleanup_strv_ char **v = NULL;
	char at[FIELD_LEN];
	size_t len;
	int r;

	*out = NULL;
	if (n)
		*n = 0;
	if (!o)
		return 0;
	if ((r = jexpect(c, o, json_type_array, field)) < 0)
		return r;
	len = jsonc.json_object_array_length(o);
	if (!(v = strv_new(c, len)))
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		if ((r = jstring(c, jsonc.json_object_array_get_idx(o, i), jfield(at, field, NULL, i), &v[i])) < 0)
			return r;
	if (n)
		*n = len;
	*out = TAKE_PTR(v);
	return 0;
}

int jkeys(const struct jctx *c, struct json_object *o, const char *field, char ***out)
{
	_cleanup_strv_ char **v = NULL;
	size_t i = 0;
	int r;

	*out = NULL;
	if (!o)
		return 0;
	if ((r = jexpect(c, o, json_type_object, field)) < 0)
		return r;
	if (!(v = strv_new(c, (size_t)jsonc.json_object_object_length(o))))
		return -ENOMEM;
	struct json_object_iterator it = jsonc.json_object_iter_begin(o), end = jsonc.json_object_iter_end(o);
	for (; !jsonc.json_object_iter_equal(&it, &end); jsonc.json_object_iter_next(&it))
		if (!(v[i++] = strdup(jsonc.json_object_iter_peek_name(&it))))
			return ubx_fail(c->e, ENOMEM, "%s", c->what);
	*out = TAKE_PTR(v);
	return 0;
}

int jdigest(const struct jctx *c, struct json_object *o, const char *field, struct digest *out)
{
	struct ubx_err sub = { 0 };
	int r = jexpect(c, o, json_type_string, field);
	if (r < 0)
		return r;
	if ((r = digest_parse(jsonc.json_object_get_string(o), out, &sub)) < 0) {
		(void)jbad(c, field, "%s", sub.msg);
		return r;
	}
	return 0;
}

int jsize(const struct jctx *c, struct json_object *o, const char *field, uint64_t *out)
{
	int r = jexpect(c, o, json_type_int, field);
	if (r < 0)
		return r;
	int64_t v = jsonc.json_object_get_int64(o);
	if (v < 0)
		return jbad(c, field, "%lld is negative", (long long)v);
	*out = (uint64_t)v;
	return 0;
}

/* required() - @parent's @key, or a complaint that it is missing. */
static struct json_object *required(const struct jctx *c, struct json_object *parent, const char *key,
				    const char *base, int *r)
{
	char at[FIELD_LEN];
	struct json_object *o = jsonc_member(parent, key);

	if (!o)
		*r = jbad(c, jfield(at, base, key, 0), "missing");
	return o;
}

int layer_media_type(const char *type, enum imgfmt_compression *comp)
{
	static const struct {
		const char *type;
		enum imgfmt_compression comp;
	} known[] = {
		{ MT_OCI_LAYER, IMGFMT_PLAIN },       { MT_OCI_LAYER_GZIP, IMGFMT_GZIP },
		{ MT_OCI_LAYER_ZSTD, IMGFMT_ZSTD },   { MT_DOCKER_LAYER_GZIP, IMGFMT_GZIP },
		{ MT_DOCKER_LAYER, IMGFMT_PLAIN },
	};
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strcmp(type, known[i].type) == 0) {
			*comp = known[i].comp;
			return 0;
		}
	if (strcmp(type, MT_DOCKER_FOREIGN) == 0 || strncmp(type, MT_OCI_NONDIST, strlen(MT_OCI_NONDIST)) == 0)
		return -1;
	return -2;
}

/* --- docker-archive: manifest.json --------------------------------------- */

void docker_items_free(struct docker_item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++) {
		free(items[i].config);
		cleanup_strvp(&items[i].layers);
		cleanup_strvp(&items[i].refs);
		free(items[i].foreign);
	}
	free(items);
}

/* docker_foreign() - the first LayerSources entry whose media type is a
 * foreign layer's, as "DIGEST (TYPE)", into it->foreign. */
static int docker_foreign(const struct jctx *c, struct json_object *src, const char *base, struct docker_item *it)
{
	char at[FIELD_LEN], sub[FIELD_LEN];
	int r;

	if (!src)
		return 0;
	if ((r = jexpect(c, src, json_type_object, jfield(at, base, "LayerSources", 0))) < 0)
		return r;
	struct json_object_iterator i = jsonc.json_object_iter_begin(src), end = jsonc.json_object_iter_end(src);
	for (; !jsonc.json_object_iter_equal(&i, &end); jsonc.json_object_iter_next(&i)) {
		const char *name = jsonc.json_object_iter_peek_name(&i);
		struct json_object *d = jsonc.json_object_iter_peek_value(&i);
		_cleanup_free_ char *type = NULL;
		enum imgfmt_compression comp;

		snprintf(sub, sizeof(sub), "%.60s[%.64s]", at, name);
		if ((r = jexpect(c, d, json_type_object, sub)) < 0 ||
		    (r = jstring_opt(c, d, "mediaType", sub, &type)) < 0)
			return r;
		if (type && layer_media_type(type, &comp) == -1 && !it->foreign &&
		    asprintf(&it->foreign, "%.80s (%.100s)", name, type) < 0)
			return ubx_fail(c->e, ENOMEM, "%s", c->what);
	}
	return 0;
}

static int docker_item(const struct jctx *c, struct json_object *o, size_t index, struct docker_item *it)
{
	char base[FIELD_LEN], at[FIELD_LEN];
	struct json_object *v;
	int r = 0;

	jfield(base, "", NULL, index);
	if ((r = jexpect(c, o, json_type_object, base)) < 0)
		return r;
	if (!(v = required(c, o, "Config", base, &r)) || (r = jstring(c, v, jfield(at, base, "Config", 0), &it->config)) < 0)
		return r;
	if (!(v = required(c, o, "Layers", base, &r)) ||
	    (r = jstrv(c, v, jfield(at, base, "Layers", 0), &it->layers, &it->n_layers)) < 0)
		return r;
	if ((r = jstrv(c, jsonc_member(o, "RepoTags"), jfield(at, base, "RepoTags", 0), &it->refs, NULL)) < 0)
		return r;
	if (!it->refs && !(it->refs = strv_new(c, 0)))
		return -ENOMEM;
	return docker_foreign(c, jsonc_member(o, "LayerSources"), base, it);
}

int imgfmt_parse_docker_manifest(const char *text, size_t len, const char *what, struct docker_item **out,
				 size_t *n, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *root = NULL;
	struct jctx c = { what, e };
	struct docker_item *items;
	size_t count;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = jsonc_parse(text, len, IMGFMT_JSON_MAX, what, &root, e)) < 0)
		return r;
	if (!jsonc_is(root, json_type_array))
		return jbad(&c, NULL, "not an array but %s", jsonc_type_name(root));
	if ((count = jsonc.json_object_array_length(root)) == 0)
		return jbad(&c, NULL, "lists no image");
	if (!(items = calloc(count, sizeof(*items))))
		return ubx_fail(e, ENOMEM, "%s", what);
	for (size_t i = 0; i < count; i++)
		if ((r = docker_item(&c, jsonc.json_object_array_get_idx(root, i), i, &items[i])) < 0) {
			docker_items_free(items, count);
			return r;
		}
	*out = items;
	*n = count;
	return 0;
}

/* --- OCI: oci-layout, descriptors, index, manifest ------------------------ */

int imgfmt_parse_oci_layout(const char *text, size_t len, const char *what, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *root = NULL;
	struct jctx c = { what, e };
	struct json_object *v;
	int r = 0;

	if ((r = jsonc_parse(text, len, IMGFMT_JSON_MAX, what, &root, e)) < 0)
		return r;
	if (!jsonc_is(root, json_type_object))
		return jbad(&c, NULL, "not an object but %s", jsonc_type_name(root));
	if (!(v = required(&c, root, "imageLayoutVersion", "", &r)) ||
	    (r = jexpect(&c, v, json_type_string, "imageLayoutVersion")) < 0)
		return r;
	if (strncmp(jsonc.json_object_get_string(v), "1.", 2) != 0)
		return jbad(&c, "imageLayoutVersion", "version %.20s is not 1.x", jsonc.json_object_get_string(v));
	return 0;
}

static void oci_desc_clear(struct oci_desc *d)
{
	free(d->media_type);
	free(d->ref);
	free(d->platform);
	*d = (struct oci_desc){ 0 };
}

void oci_descs_free(struct oci_desc *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		oci_desc_clear(&d[i]);
	free(d);
}

/* desc_platform() - "os/arch[/variant]" from a descriptor's platform object. */
static int desc_platform(const struct jctx *c, struct json_object *p, const char *base, char **out)
{
	_cleanup_free_ char *os = NULL, *arch = NULL, *variant = NULL;
	char at[FIELD_LEN];
	int r = 0;

	if ((r = jexpect(c, p, json_type_object, base)) < 0)
		return r;
	if (!required(c, p, "os", base, &r) || !required(c, p, "architecture", base, &r))
		return r;
	if ((r = jstring(c, jsonc_member(p, "os"), jfield(at, base, "os", 0), &os)) < 0 ||
	    (r = jstring(c, jsonc_member(p, "architecture"), jfield(at, base, "architecture", 0), &arch)) < 0 ||
	    (r = jstring_opt(c, p, "variant", base, &variant)) < 0)
		return r;
	if (asprintf(out, "%.40s/%.40s%s%.20s", os, arch, variant ? "/" : "", variant ? variant : "") < 0)
		return ubx_fail(c->e, ENOMEM, "%s", c->what);
	return 0;
}

/* desc_ref() - the ref.name annotation, when there are annotations. */
static int desc_ref(const struct jctx *c, struct json_object *a, const char *base, char **out)
{
	char at[FIELD_LEN];
	int r;

	if (!a)
		return 0;
	if ((r = jexpect(c, a, json_type_object, base)) < 0)
		return r;
	snprintf(at, sizeof(at), "%.80s[\"%s\"]", base, REF_ANNOTATION);
	struct json_object *v = jsonc_member(a, REF_ANNOTATION);
	return v ? jstring(c, v, at, out) : 0;
}

/* parse_desc() - a descriptor; @need_type: mediaType is required. */
static int parse_desc(const struct jctx *c, struct json_object *o, const char *base, bool need_type,
		      struct oci_desc *d)
{
	char at[FIELD_LEN];
	struct json_object *v;
	int r = 0;

	if ((r = jexpect(c, o, json_type_object, base)) < 0)
		return r;
	if (need_type && !required(c, o, "mediaType", base, &r))
		return r;
	if ((r = jstring_opt(c, o, "mediaType", base, &d->media_type)) < 0)
		return r;
	if (!(v = required(c, o, "digest", base, &r)) || (r = jdigest(c, v, jfield(at, base, "digest", 0), &d->digest)) < 0)
		return r;
	if (!(v = required(c, o, "size", base, &r)) || (r = jsize(c, v, jfield(at, base, "size", 0), &d->size)) < 0)
		return r;
	if ((v = jsonc_member(o, "platform")) && (r = desc_platform(c, v, jfield(at, base, "platform", 0), &d->platform)) < 0)
		return r;
	if ((r = desc_ref(c, jsonc_member(o, "annotations"), jfield(at, base, "annotations", 0), &d->ref)) < 0)
		return r;
	if ((v = jsonc_member(o, "urls"))) {
		if ((r = jexpect(c, v, json_type_array, jfield(at, base, "urls", 0))) < 0)
			return r;
		d->has_urls = jsonc.json_object_array_length(v) > 0;
	}
	return 0;
}

/* schema_version() - schemaVersion must be 2. */
static int schema_version(const struct jctx *c, struct json_object *root)
{
	struct json_object *v;
	int r = 0;

	if (!(v = required(c, root, "schemaVersion", "", &r)) || (r = jexpect(c, v, json_type_int, "schemaVersion")) < 0)
		return r;
	if (jsonc.json_object_get_int64(v) != 2)
		return jbad(c, "schemaVersion", "%lld, not 2", (long long)jsonc.json_object_get_int64(v));
	return 0;
}

/* parse_descs() - an array of descriptors. */
static int parse_descs(const struct jctx *c, struct json_object *list, const char *field, bool need_type,
		       struct oci_desc **out, size_t *n)
{
	char at[FIELD_LEN];
	struct oci_desc *d;
	size_t count;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = jexpect(c, list, json_type_array, field)) < 0)
		return r;
	count = jsonc.json_object_array_length(list);
	if (!(d = calloc(count ? count : 1, sizeof(*d))))
		return ubx_fail(c->e, ENOMEM, "%s", c->what);
	for (size_t i = 0; i < count; i++)
		if ((r = parse_desc(c, jsonc.json_object_array_get_idx(list, i), jfield(at, field, NULL, i), need_type,
				    &d[i])) < 0) {
			oci_descs_free(d, count);
			return r;
		}
	*out = d;
	*n = count;
	return 0;
}

/* media_type_is() - a top-level mediaType, when present, must be one of @a, @b. */
static int media_type_is(const struct jctx *c, struct json_object *root, const char *a, const char *b, char **out)
{
	int r = jstring_opt(c, root, "mediaType", "", out);
	if (r < 0 || !*out || strcmp(*out, a) == 0 || (b && strcmp(*out, b) == 0))
		return r;
	return jbad(c, "mediaType", "'%.100s', not %s", *out, a);
}

int imgfmt_parse_oci_index(const char *text, size_t len, const char *what, struct oci_desc **out, size_t *n,
			   struct ubx_err *e)
{
	_cleanup_json_ struct json_object *root = NULL;
	_cleanup_free_ char *type = NULL;
	struct jctx c = { what, e };
	struct json_object *v;
	int r = 0;

	*out = NULL;
	*n = 0;
	if ((r = jsonc_parse(text, len, IMGFMT_JSON_MAX, what, &root, e)) < 0)
		return r;
	if (!jsonc_is(root, json_type_object))
		return jbad(&c, NULL, "not an object but %s", jsonc_type_name(root));
	if ((r = schema_version(&c, root)) < 0 || (r = media_type_is(&c, root, MT_OCI_INDEX, MT_DOCKER_LIST, &type)) < 0)
		return r;
	if (!(v = required(&c, root, "manifests", "", &r)))
		return r;
	return parse_descs(&c, v, "manifests", true, out, n);
}

void oci_manifest_free(struct oci_manifest *m)
{
	free(m->media_type);
	oci_desc_clear(&m->config);
	oci_descs_free(m->layers, m->n_layers);
	*m = (struct oci_manifest){ 0 };
}

int imgfmt_parse_oci_manifest(const char *text, size_t len, const char *what, struct oci_manifest *out,
			      struct ubx_err *e)
{
	_cleanup_json_ struct json_object *root = NULL;
	struct jctx c = { what, e };
	struct json_object *v;
	int r = 0;

	*out = (struct oci_manifest){ 0 };
	if ((r = jsonc_parse(text, len, IMGFMT_JSON_MAX, what, &root, e)) < 0)
		return r;
	if (!jsonc_is(root, json_type_object))
		return jbad(&c, NULL, "not an object but %s", jsonc_type_name(root));
	if ((r = schema_version(&c, root)) < 0 ||
	    (r = media_type_is(&c, root, MT_OCI_MANIFEST, MT_DOCKER_MANIFEST, &out->media_type)) < 0)
		goto fail;
	if (!(v = required(&c, root, "config", "", &r)) || (r = parse_desc(&c, v, "config", true, &out->config)) < 0)
		goto fail;
	if (!(v = required(&c, root, "layers", "", &r)) ||
	    (r = parse_descs(&c, v, "layers", true, &out->layers, &out->n_layers)) < 0)
		goto fail;
	return 0;
fail:
	oci_manifest_free(out);
	return r;
}
