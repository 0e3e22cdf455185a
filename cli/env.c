/* SPDX-License-Identifier: MIT */
#include "env.h"

#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"

struct env_list {
	char **v;
	size_t n, cap;
};

static size_t name_len(const char *entry)
{
	return strcspn(entry, "=");
}

static const char *env_lookup(char *const *env, const char *name, size_t len)
{
	for (; env && *env; env++)
		if (name_len(*env) == len && strncmp(*env, name, len) == 0)
			return *env;
	return NULL;
}

static void env_remove(struct env_list *l, const char *name, size_t len)
{
	for (size_t i = 0; i < l->n; i++) {
		if (name_len(l->v[i]) == len && strncmp(l->v[i], name, len) == 0) {
			free(l->v[i]);
			l->v[i] = l->v[--l->n];
			l->v[l->n] = NULL;
			return;
		}
	}
}

/* Sets @entry ("K=V"), replacing an older K.  Return: false when out of memory. */
static bool env_put(struct env_list *l, const char *entry)
{
	env_remove(l, entry, name_len(entry));
	if (l->n + 2 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **grown = realloc(l->v, cap * sizeof(char *));
		if (!grown)
			return false;
		l->v = grown;
		l->cap = cap;
	}
	l->v[l->n] = strdup(entry);
	if (!l->v[l->n])
		return false;
	l->v[++l->n] = NULL;
	return true;
}

char **env_build(char *const *host, bool clear, const struct env_op *ops, size_t n_ops)
{
	_cleanup_strv_ char **owned = NULL;
	struct env_list l = { .v = calloc(64, sizeof(char *)), .cap = 64 };
	bool ok = l.v != NULL;

	for (char *const *p = host; ok && !clear && p && *p; p++)
		ok = env_put(&l, *p);
	for (size_t i = 0; ok && i < n_ops; i++) {
		const char *t = ops[i].text;
		size_t len = name_len(t);
		if (t[len] == '=') {
			ok = env_put(&l, t);
		} else {
			const char *from = env_lookup(host, t, len);
			if (from)
				ok = env_put(&l, from);
			else
				env_remove(&l, t, len);
		}
	}
	owned = l.v;
	return ok ? TAKE_PTR(owned) : NULL;
}
