/* SPDX-License-Identifier: MIT */
/*
 * fields.h - checked reads of JSON fields for usbox-oci's parsers
 * (config.json in config.c, hooks in hooks.c, linux.resources in
 * resources.c): each value's type, range and keys are checked, and a
 * failure names the field by its path ("process.user.uid") after the file
 * it came from.
 */
#ifndef USBOX_OCI_FIELDS_H
#define USBOX_OCI_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/jsonc.h"

#define OCI_FIELD 160    /* a field's path, cut (with '~') beyond */
#define OCI_LIST_MAX 4096 /* entries of an array */

/* Where fields come from and how a failure is said. */
struct oci_fields {
	struct ubx_err *e;
	const char *what; /* the file, for messages */
	const char *sep;  /* between @what and a field: ": " or "." */
	int code;         /* @e->code of a failure */
	bool terse;       /* "not an integer", "out of range": no more */
};

/* oci_field_bad() - record "WHAT SEP FIELD: message" in @f's error. Return: -EINVAL or -@f->code. */
int oci_field_bad(const struct oci_fields *f, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* oci_field_at() - "BASE.KEY" (KEY alone when BASE is "") in @out. Return: @out. */
const char *oci_field_at(char out[OCI_FIELD], const char *base, const char *key);

/* oci_field_at_index() - "BASE[I]" in @out. Return: @out. */
const char *oci_field_at_index(char out[OCI_FIELD], const char *base, size_t i);

/* oci_field_expect() - 0 when @o (maybe NULL) has type @t, else a failure naming @field. */
int oci_field_expect(const struct oci_fields *f, struct json_object *o, enum json_type t, const char *field);

/* oci_field_known_keys() - 0 when every key of the object @o (at @field) is in @known (NULL-ended). */
int oci_field_known_keys(const struct oci_fields *f, struct json_object *o, const char *field,
			 const char *const *known);

/* oci_field_object() - @parent's member @key (at @base), which must be an
 * object with only @known keys, in *@out; NULL when absent. */
int oci_field_object(const struct oci_fields *f, struct json_object *parent, const char *key, const char *base,
		     const char *const *known, struct json_object **out);

/* oci_field_text() - the string @o (at @field) in *@out (@o's own); refused when it holds a NUL. */
int oci_field_text(const struct oci_fields *f, struct json_object *o, const char *field, const char **out);

/* oci_field_string() - the string @o as a copy in *@out (the old one freed). */
int oci_field_string(const struct oci_fields *f, struct json_object *o, const char *field, char **out);

/* oci_field_string_opt() - @parent's member @key as oci_field_string(); *@out left when absent. */
int oci_field_string_opt(const struct oci_fields *f, struct json_object *parent, const char *key,
			 const char *base, char **out);

/* oci_field_boolean() - @parent's member @key into *@out; left when absent. */
int oci_field_boolean(const struct oci_fields *f, struct json_object *parent, const char *key, const char *base,
		      bool *out);

/* oci_field_integer() - @parent's member @key, an integer in [@lo, @hi],
 * into *@out; left when absent, and *@set (when given) says whether it was there. */
int oci_field_integer(const struct oci_fields *f, struct json_object *parent, const char *key, const char *base,
		      int64_t lo, int64_t hi, int64_t *out, bool *set);

/* oci_field_u64() - the integer @o (rlimits, sizes) as any uint64 json-c holds. */
int oci_field_u64(const struct oci_fields *f, struct json_object *o, const char *field, uint64_t *out);

/* oci_field_array() - 0 with its length in *@n when @o is an array of at most OCI_LIST_MAX entries. */
int oci_field_array(const struct oci_fields *f, struct json_object *o, const char *field, size_t *n);

/* oci_field_strv() - the array of strings @o as a NULL-ended vector in *@out (the old one freed). */
int oci_field_strv(const struct oci_fields *f, struct json_object *o, const char *field, char ***out);

#endif
