/* SPDX-License-Identifier: MIT */
/*
 * fields.c - checked reads of JSON fields (see fields.h).
 */
#include "fields.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"

int oci_field_bad(const struct oci_fields *f, const char *field, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ubx_refuse(f->e, f->code, "%s%s%s: %s", f->what, f->sep, field, msg);
}

const char *oci_field_at(char out[OCI_FIELD], const char *base, const char *key)
{
	if (snprintf(out, OCI_FIELD, "%s%s%s", base, base[0] ? "." : "", key) >= OCI_FIELD)
		out[OCI_FIELD - 2] = '~'; /* cut: still names the field's start */
	return out;
}

const char *oci_field_at_index(char out[OCI_FIELD], const char *base, size_t i)
{
	if (snprintf(out, OCI_FIELD, "%s[%zu]", base, i) >= OCI_FIELD)
		out[OCI_FIELD - 2] = '~';
	return out;
}

int oci_field_expect(const struct oci_fields *f, struct json_object *o, enum json_type t, const char *field)
{
	static const char *const names[] = { [json_type_null] = "null",     [json_type_boolean] = "a boolean",
					     [json_type_double] = "a number", [json_type_int] = "an integer",
					     [json_type_object] = "an object", [json_type_array] = "an array",
					     [json_type_string] = "a string" };
	if (jsonc_is(o, t))
		return 0;
	if (f->terse)
		return oci_field_bad(f, field, "not %s", names[t]);
	return oci_field_bad(f, field, "not %s but %s", names[t], o ? jsonc_type_name(o) : "null");
}

int oci_field_known_keys(const struct oci_fields *f, struct json_object *o, const char *field,
			 const char *const *known)
{
	char g[OCI_FIELD];
	struct json_object_iterator it = jsonc.json_object_iter_begin(o), end = jsonc.json_object_iter_end(o);
	for (; !jsonc.json_object_iter_equal(&it, &end); jsonc.json_object_iter_next(&it)) {
		const char *key = jsonc.json_object_iter_peek_name(&it);
		const char *const *k = known;
		while (*k && strcmp(*k, key) != 0)
			k++;
		if (!*k)
			return oci_field_bad(f, field[0] ? oci_field_at(g, field, key) : key, "unknown field");
	}
	return 0;
}

int oci_field_object(const struct oci_fields *f, struct json_object *parent, const char *key, const char *base,
		     const char *const *known, struct json_object **out)
{
	char g[OCI_FIELD];
	*out = jsonc_member(parent, key);
	if (!*out)
		return 0;
	int r = oci_field_expect(f, *out, json_type_object, oci_field_at(g, base, key));
	return r < 0 ? r : oci_field_known_keys(f, *out, g, known);
}

int oci_field_text(const struct oci_fields *f, struct json_object *o, const char *field, const char **out)
{
	int r = oci_field_expect(f, o, json_type_string, field);
	if (r < 0)
		return r;
	const char *s = jsonc.json_object_get_string(o);
	if ((size_t)jsonc.json_object_get_string_len(o) != strlen(s))
		return oci_field_bad(f, field, "holds a NUL character");
	*out = s;
	return 0;
}

int oci_field_string(const struct oci_fields *f, struct json_object *o, const char *field, char **out)
{
	const char *s = "";
	int r = oci_field_text(f, o, field, &s);
	if (r < 0)
		return r;
	free(*out);
	*out = strdup(s);
	return *out ? 0 : ubx_fail(f->e, ENOMEM, "%s", f->what);
}

int oci_field_string_opt(const struct oci_fields *f, struct json_object *parent, const char *key,
			 const char *base, char **out)
{
	char g[OCI_FIELD];
	struct json_object *o = jsonc_member(parent, key);
	return o ? oci_field_string(f, o, oci_field_at(g, base, key), out) : 0;
}

int oci_field_boolean(const struct oci_fields *f, struct json_object *parent, const char *key, const char *base,
		      bool *out)
{
	char g[OCI_FIELD];
	struct json_object *o = jsonc_member(parent, key);
	if (!o)
		return 0;
	int r = oci_field_expect(f, o, json_type_boolean, oci_field_at(g, base, key));
	if (r == 0)
		*out = jsonc.json_object_get_boolean(o);
	return r;
}

int oci_field_integer(const struct oci_fields *f, struct json_object *parent, const char *key, const char *base,
		      int64_t lo, int64_t hi, int64_t *out, bool *set)
{
	char g[OCI_FIELD];
	struct json_object *o = parent ? jsonc_member(parent, key) : NULL;
	if (set)
		*set = false;
	if (!o)
		return 0;
	int r = oci_field_expect(f, o, json_type_int, oci_field_at(g, base, key));
	if (r < 0)
		return r;
	errno = 0;
	int64_t v = jsonc.json_object_get_int64(o);
	if ((errno || v < lo || v > hi) && f->terse)
		return oci_field_bad(f, g, "out of range");
	if (errno || v < lo || v > hi)
		return oci_field_bad(f, g, "%s out of range (%" PRId64 " to %" PRId64 ")",
				     jsonc.json_object_get_string(o), lo, hi);
	*out = v;
	if (set)
		*set = true;
	return 0;
}

int oci_field_u64(const struct oci_fields *f, struct json_object *o, const char *field, uint64_t *out)
{
	int r = oci_field_expect(f, o, json_type_int, field);
	if (r < 0)
		return r;
	const char *text = jsonc.json_object_get_string(o);
	if (text[0] == '-')
		return oci_field_bad(f, field, "%s is negative", text);
	errno = 0;
	*out = jsonc.json_object_get_uint64(o);
	return errno ? oci_field_bad(f, field, "%s out of range", text) : 0;
}

int oci_field_array(const struct oci_fields *f, struct json_object *o, const char *field, size_t *n)
{
	int r = oci_field_expect(f, o, json_type_array, field);
	if (r < 0)
		return r;
	*n = jsonc.json_object_array_length(o);
	return *n > OCI_LIST_MAX ? oci_field_bad(f, field, "more than %d entries", OCI_LIST_MAX) : 0;
}

int oci_field_strv(const struct oci_fields *f, struct json_object *o, const char *field, char ***out)
{
	char g[OCI_FIELD];
	size_t n;
	int r = oci_field_array(f, o, field, &n);
	if (r < 0)
		return r;
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return ubx_fail(f->e, ENOMEM, "%s", f->what);
	for (size_t i = 0; i < n && r == 0; i++)
		r = oci_field_string(f, jsonc.json_object_array_get_idx(o, i), oci_field_at_index(g, field, i), &v[i]);
	if (r < 0) {
		cleanup_strvp(&v);
		return r;
	}
	cleanup_strvp(out);
	*out = v;
	return 0;
}
