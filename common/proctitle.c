/* SPDX-License-Identifier: MIT */
#include "proctitle.h"

#include <string.h>
#include <sys/prctl.h>

static char *area;
static size_t area_len;

void proctitle_init(int argc, char **argv)
{
	if (argc < 1 || !argv[0])
		return;
	area = argv[0];
	/* The strings lie back to back; stop at the first gap. */
	char *end = argv[0] + strlen(argv[0]) + 1;
	for (int i = 1; i < argc && argv[i] == end; i++)
		end = argv[i] + strlen(argv[i]) + 1;
	area_len = (size_t)(end - area);
}

void proctitle_set(const char *title)
{
	(void)prctl(PR_SET_NAME, title);
	if (!area || area_len < 2)
		return;
	memset(area, 0, area_len);
	strncpy(area, title, area_len - 1);
}
