/* SPDX-License-Identifier: MIT */
/*
 * libarchive.c - libarchive behind dlopen() (see libarchive.h).
 */
#include "libarchive.h"

#include <dlfcn.h>
#include <errno.h>

struct larc_api larc;

int larc_load(const char *what, struct ubx_err *e)
{
	void *lib;

	if (larc.loaded)
		return 0;
	if (!(lib = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL)))
		return ubx_fail(e, ENOENT, "%s: needs libarchive.so.13 (apt-get install libarchive13): %s", what,
				dlerror());
#define LOAD(name)                                                                                    \
	do {                                                                                          \
		if (!(larc.name = (__typeof__(name) *)dlsym(lib, #name)))                             \
			return ubx_fail(e, ENOENT, "%s: libarchive lacks %s (too old?)", what, #name); \
	} while (0);
	LARC_FUNCS(LOAD)
#undef LOAD
	larc.loaded = true;
	return 0;
}

int larc_read_filters(struct archive *a, const char *what, struct ubx_err *e)
{
	static const struct {
		const char *name;
		int (**add)(struct archive *);
	} filters[] = {
		{ "gzip", &larc.archive_read_support_filter_gzip },
		{ "xz", &larc.archive_read_support_filter_xz },
		{ "zstd", &larc.archive_read_support_filter_zstd },
		{ "bzip2", &larc.archive_read_support_filter_bzip2 },
	};

	/* ARCHIVE_WARN means "through an external program": not taken. */
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if ((*filters[i].add)(a) != ARCHIVE_OK)
			return ubx_fail(e, ENOTSUP, "%s: this libarchive has no built-in %s", what,
					filters[i].name);
	return 0;
}
