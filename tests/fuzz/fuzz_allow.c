/* SPDX-License-Identifier: MIT */
/* libFuzzer: --net-allow and `network create --allow` text; whatever parses
 * formats back into text that parses into the same rules. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../netns/netns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[1024], again[NETNS_DNS_NAME_MAX + 64];
	struct netns_allow *list = NULL, *back = NULL;
	size_t n = 0;
	struct ubx_err e;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	int r = netns_allow_parse(text, &list, &n, &e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		size_t m = 0;
		netns_allow_format(&list[i], again, sizeof(again));
		if (netns_allow_parse(again, &back, &m, &e) != 0 || m != 1 || memcmp(back, &list[i], sizeof(*back)) != 0)
			__builtin_trap();
		free(back);
		back = NULL;
	}
	free(list);
	return 0;
}
