/* SPDX-License-Identifier: MIT */
/*
 * jsongen.h - for the JSON fuzzers: well-formed JSON driven by the fuzzer's
 * bytes, made of a format's own keys and atoms, so that the fields' checks
 * are reached (json-c itself is not instrumented, and random text is seldom
 * JSON).  A harness defines `keys` and `atoms` before including this.
 */
#ifndef USBOX_TESTS_FUZZ_JSONGEN_H
#define USBOX_TESTS_FUZZ_JSONGEN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct gen {
	const uint8_t *in;
	size_t n;
	char *out;
	size_t len, cap;
};

static int next(struct gen *g)
{
	if (g->n == 0)
		return 0;
	g->n--;
	return *g->in++;
}

static void put(struct gen *g, const char *s)
{
	size_t l = strlen(s);
	if (g->len + l < g->cap) {
		memcpy(g->out + g->len, s, l);
		g->len += l;
	}
}

/* A key of the format's, chosen by the next byte. */
static const char *gen_key(struct gen *g)
{
	return keys[(unsigned)next(g) % (sizeof(keys) / sizeof(keys[0]))];
}

/* value() - one JSON value: an atom, or (while depth allows) an array or an
 * object of the format's keys. */
static void value(struct gen *g, int depth)
{
	int b = next(g), kind = depth > 0 ? b % 4 : 0, count = next(g) % 5;

	if (kind <= 1) {
		put(g, atoms[(unsigned)next(g) % (sizeof(atoms) / sizeof(atoms[0]))]);
		return;
	}
	put(g, kind == 2 ? "[" : "{");
	for (int i = 0; i < count; i++) {
		if (i)
			put(g, ",");
		if (kind == 3) {
			put(g, "\"");
			put(g, gen_key(g));
			put(g, "\":");
		}
		value(g, depth - 1);
	}
	put(g, kind == 2 ? "]" : "}");
}

#endif
