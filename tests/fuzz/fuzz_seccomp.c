/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the Docker/OCI JSON seccomp profile (--seccomp FILE).  An input
 * whose first byte is even is the profile's text as it is; otherwise the
 * bytes drive a generator of well-formed JSON made of the profile's own keys
 * and values, so that the fields' checks are reached (json-c itself is not
 * instrumented, and random text is seldom JSON).  A profile that compiles
 * must give 1..4096 instructions; a refused one, one line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../seccomp/seccomp.h"

static const char *const keys[] = {
	"defaultAction", "defaultErrnoRet", "architectures", "archMap", "architecture", "subArchitectures",
	"syscalls", "names", "name", "action", "errnoRet", "args", "index", "value", "valueTwo", "op",
	"includes", "excludes", "arches", "caps", "minKernel", "comment", "flags",
};

static const char *const atoms[] = {
	"\"SCMP_ACT_ALLOW\"", "\"SCMP_ACT_ERRNO\"", "\"SCMP_ACT_KILL\"", "\"SCMP_ACT_KILL_PROCESS\"",
	"\"SCMP_ACT_KILL_THREAD\"", "\"SCMP_ACT_TRAP\"", "\"SCMP_ACT_TRACE\"", "\"SCMP_ACT_LOG\"",
	"\"SCMP_ACT_NOTIFY\"", "\"SCMP_CMP_NE\"", "\"SCMP_CMP_LT\"", "\"SCMP_CMP_LE\"", "\"SCMP_CMP_EQ\"",
	"\"SCMP_CMP_GE\"", "\"SCMP_CMP_GT\"", "\"SCMP_CMP_MASKED_EQ\"", "\"SCMP_ARCH_X86_64\"", "\"SCMP_ARCH_X86\"",
	"\"SCMP_ARCH_X32\"", "\"SCMP_ARCH_AARCH64\"", "\"SCMP_ARCH_FOO\"", "\"amd64\"", "\"x86\"", "\"read\"",
	"\"ioctl\"", "\"socket\"", "\"clone\"", "\"socketcall\"", "\"no_such_call\"", "\"CAP_SYS_ADMIN\"",
	"\"4.8\"", "\"99.1\"", "\"x\"", "\"\"", "0", "1", "5", "6", "38", "4095", "4096", "65536", "-1", "1.5",
	"18446744073709551615", "2114060288", "null", "true", "false",
};

#include "jsongen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gen g = { .in = data + 1, .n = size ? size - 1 : 0, .cap = 1 << 16 };
	struct seccomp_prog p;
	struct ubx_err e = { 0 };

	if (size == 0 || !(g.out = malloc(g.cap)))
		return 0;
	if (data[0] % 2 == 0) {
		memcpy(g.out, data + 1, size - 1);
		g.len = size - 1;
	} else {
		put(&g, "{\"defaultAction\":");
		value(&g, 0);
		for (int i = 0; g.n && i < 4; i++) {
			put(&g, ",\"");
			put(&g, gen_key(&g));
			put(&g, "\":");
			value(&g, 5);
		}
		put(&g, "}");
	}
	if (seccomp_profile_parse(g.out, g.len, "fuzz", &p, &e) == 0) {
		if (p.len == 0 || p.len > 4096 || !p.owned)
			abort();
	} else if (strchr(e.msg, '\n') || strncmp(e.msg, "fuzz: ", 6) != 0) {
		abort();
	}
	seccomp_prog_free(&p);
	free(g.out);
	return 0;
}
