/* SPDX-License-Identifier: MIT */
/*
 * jsonc.c - json-c behind dlopen(), and the strict text-to-object step every
 * JSON reader in usbox shares.
 */
#include "jsonc.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

struct jsonc_api jsonc;

int jsonc_load(const char *what, struct ubx_err *e)
{
	void *lib;

	if (jsonc.loaded)
		return 0;
	if (!(lib = dlopen("libjson-c.so.5", RTLD_NOW | RTLD_LOCAL)))
		return ubx_fail(e, ENOENT, "%s: needs libjson-c.so.5 (apt-get install libjson-c5): %s", what,
				dlerror());
#define LOAD(name)                                                                                 \
	do {                                                                                       \
		if (!(jsonc.name = (__typeof__(name) *)dlsym(lib, #name)))                         \
			return ubx_fail(e, ENOENT, "%s: json-c lacks %s (too old?)", what, #name); \
	} while (0);
	JSONC_FUNCS(LOAD)
#undef LOAD
	jsonc.loaded = true;
	return 0;
}

/* json_line() - the line of @text that @offset is on. */
static unsigned json_line(const char *text, size_t offset)
{
	unsigned line = 1;
	for (size_t i = 0; i < offset; i++)
		line += text[i] == '\n';
	return line;
}

/* size_words() - @max as "4 MiB" or "1000 bytes" for messages. */
static const char *size_words(size_t max, char buf[32])
{
	if (max >= (1 << 20) && max % (1 << 20) == 0)
		snprintf(buf, 32, "%zu MiB", max >> 20);
	else
		snprintf(buf, 32, "%zu bytes", max);
	return buf;
}

int jsonc_parse(const char *text, size_t len, size_t max, const char *what, struct json_object **out,
		struct ubx_err *e)
{
	_cleanup_free_ char *buf = NULL;
	char words[32];
	int r;

	*out = NULL;
	if (len > max || len >= INT32_MAX)
		return ubx_fail(e, 0, "%s: larger than %s", what, size_words(max, words));
	if (memchr(text, '\0', len))
		return ubx_fail(e, 0, "%s: not a text file (it holds a NUL byte)", what);
	if ((r = jsonc_load(what, e)) < 0)
		return r;
	if (!(buf = malloc(len + 1)))
		return ubx_fail(e, ENOMEM, "%s", what);
	memcpy(buf, text, len);
	buf[len] = '\0';
	struct json_tokener *tok = jsonc.json_tokener_new();
	if (!tok)
		return ubx_fail(e, ENOMEM, "%s", what);
	jsonc.json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* The length with the NUL tells json-c the input ends there. */
	struct json_object *o = jsonc.json_tokener_parse_ex(tok, buf, (int)len + 1);
	enum json_tokener_error err = jsonc.json_tokener_get_error(tok);
	size_t end = jsonc.json_tokener_get_parse_end(tok);
	jsonc.json_tokener_free(tok);
	if (!o || err != json_tokener_success) {
		if (o)
			jsonc.json_object_put(o);
		return ubx_fail(e, 0, "%s: line %u: not JSON (%s)", what, json_line(buf, end < len ? end : len),
				jsonc.json_tokener_error_desc(err));
	}
	*out = o;
	return 0;
}

const char *jsonc_type_name(struct json_object *o)
{
	switch (jsonc.json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a fractional number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "unknown";
}

struct json_object *jsonc_member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return jsonc.json_object_object_get_ex(o, key, &v) ? v : NULL;
}

bool jsonc_is(struct json_object *o, enum json_type t)
{
	return o && jsonc.json_object_get_type(o) == t;
}
