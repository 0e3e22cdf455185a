/* SPDX-License-Identifier: MIT */
/*
 * jsonc.h - json-c, dlopen()ed once for every part of usbox that reads or
 * writes JSON (seccomp profiles, image manifests and configs).
 *
 * DOC: Theory of operation
 * json-c is loaded on the first jsonc_load() and stays loaded; its functions
 * are called through the one table `jsonc` (jsonc.json_object_get_type(o)),
 * filled from the names in JSONC_FUNCS.  The prototypes come from json-c's
 * own headers, so a wrong signature does not compile.  jsonc_parse() is the
 * one way text becomes an object: strict JSON, valid UTF-8, no NUL byte, a
 * size cap, and on failure one line with the line number.  The helpers below
 * it name JSON types for messages and read members and array items.
 */
#ifndef USBOX_COMMON_JSONC_H
#define USBOX_COMMON_JSONC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define JSONC_FUNCS(X)                      \
	X(json_tokener_new)                 \
	X(json_tokener_free)                \
	X(json_tokener_set_flags)           \
	X(json_tokener_parse_ex)            \
	X(json_tokener_get_error)           \
	X(json_tokener_error_desc)          \
	X(json_tokener_get_parse_end)       \
	X(json_object_put)                  \
	X(json_object_get_type)             \
	X(json_object_object_get_ex)        \
	X(json_object_object_length)        \
	X(json_object_array_length)         \
	X(json_object_array_get_idx)        \
	X(json_object_get_string)           \
	X(json_object_get_string_len)       \
	X(json_object_get_int64)            \
	X(json_object_get_uint64)           \
	X(json_object_get_boolean)          \
	X(json_object_iter_begin)           \
	X(json_object_iter_end)             \
	X(json_object_iter_equal)           \
	X(json_object_iter_next)            \
	X(json_object_iter_peek_name)       \
	X(json_object_iter_peek_value)      \
	X(json_object_new_object)           \
	X(json_object_new_array)            \
	X(json_object_new_string)           \
	X(json_object_new_int64)            \
	X(json_object_new_boolean)          \
	X(json_object_object_add)           \
	X(json_object_array_add)            \
	X(json_object_to_json_string_length)

struct jsonc_api {
#define JSONC_FIELD(name) __typeof__(name) *name;
	JSONC_FUNCS(JSONC_FIELD)
#undef JSONC_FIELD
	bool loaded;
};

/* The table; valid after jsonc_load() succeeded. */
extern struct jsonc_api jsonc;

/*
 * jsonc_load() - load json-c (once).
 * @what: what needs it, for the message (e.g. "--seccomp prof.json")
 * @e:    on failure, one line naming the package to install
 *
 * Return: 0, or -ENOENT.
 */
int jsonc_load(const char *what, struct ubx_err *e);

/*
 * jsonc_parse() - strict JSON text into an object.
 * @text: the text (need not be NUL-terminated)
 * @len:  its length; more than @max is refused
 * @max:  the cap, named in the message ("larger than 4 MiB")
 * @what: the file, first in every message
 * @out:  the value (any type); release it with json_object_put
 * @e:    on failure, "WHAT: line N: not JSON (reason)" or the like
 *
 * Loads json-c when needed.
 * Return: 0 or a negative errno.
 */
int jsonc_parse(const char *text, size_t len, size_t max, const char *what, struct json_object **out,
		struct ubx_err *e);

/* jsonc_type_name() - "a string", "an object", ... for messages. */
const char *jsonc_type_name(struct json_object *o);

/* jsonc_member() - @o's @key, or NULL when absent or null. */
struct json_object *jsonc_member(struct json_object *o, const char *key);

/* jsonc_is() - whether @o (maybe NULL) has type @t. */
bool jsonc_is(struct json_object *o, enum json_type t);

static inline void cleanup_jsonp(struct json_object **o)
{
	if (*o)
		jsonc.json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

#endif
