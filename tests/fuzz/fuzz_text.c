/* SPDX-License-Identifier: MIT */
/* libFuzzer: the one-line parsers (sizes, ids, CPUs, ports, subnets, network
 * names), and mountinfo and /proc/self/cgroup text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cgroup/cgroup.h"
#include "../../common/parse.h"
#include "../../netns/netns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[4096];
	uint64_t v;
	uint32_t id;
	struct portfwd_spec spec;
	struct ubx_err e;
	uint8_t prefix;

	memcpy(s, data, size);
	s[size] = '\0';
	(void)parse_size(s, &v);
	(void)parse_id(s, &id);
	(void)cgroup_parse_cpus(s, &v);
	(void)cgroup_parse_cpuset(s);
	(void)portfwd_parse(s, &spec);
	(void)netns_subnet_parse(s, &id, &prefix, &e);
	(void)netns_network_name_valid(s);
	FILE *f = fmemopen(s, size, "r");
	if (f) {
		(void)cgroup_find_mount(f, out, sizeof(out));
		rewind(f);
		(void)cgroup_self_path(f, out, sizeof(out));
		fclose(f);
	}
	free(s);
	return 0;
}
