/* SPDX-License-Identifier: MIT */
/* libFuzzer: the command line.  The input is split at NUL bytes into argv. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[64] = { "usbox" };
	int argc = 1;
	struct cli_options cfg;
	struct ubx_err e = { 0 };

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; argc < 63 && p < buf + size; p += strlen(p) + 1)
		argv[argc++] = p;
	(void)options_parse(argc, argv, "/home/fuzz", &cfg, &e);
	options_free(&cfg);
	free(buf);
	return 0;
}
