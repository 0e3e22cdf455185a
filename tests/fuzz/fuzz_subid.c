/* SPDX-License-Identifier: MIT */
/* libFuzzer: /etc/subuid text, and the map laid out from what it yields. */
#include <stdint.h>
#include <stdio.h>

#include "../../idmap/idmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idmap_range r[IDMAP_MAX_RANGES];
	struct idmap m;
	char text[IDMAP_MAX_EXTENTS * 36];
	FILE *f = fmemopen((void *)data, size, "r");

	if (!f)
		return 0;
	size_t n = idmap_subid_parse(f, "fuzz", 1000, r);
	fclose(f);
	idmap_layout(1000, 1000, r, n, IDMAP_SANDBOX_IDS, &m);
	(void)idmap_format(&m, text, sizeof(text));
	return 0;
}
