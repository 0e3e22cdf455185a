/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: an OCI bundle's config.json (oci/config.c), and a process.json
 * as `usbox-oci exec --process` takes it.  The first byte picks the parser
 * (its low bit) and the form: the rest of the input as text, or (second bit)
 * as the choices of a generator of well-formed JSON made of the runtime
 * spec's own keys and values, so that the field checks are reached.
 * Whatever the input, a refusal is one line naming config.json or
 * process.json, and a result is freed without leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/jsonc.h"
#include "../../oci/config.h"

static const char *const keys[] = {
	"ociVersion", "root", "path", "readonly", "process", "terminal", "consoleSize", "height", "width", "user",
	"uid", "gid", "umask", "additionalGids", "args", "env", "cwd", "capabilities", "bounding", "effective",
	"permitted", "inheritable", "ambient", "rlimits", "type", "soft", "hard", "noNewPrivileges",
	"apparmorProfile", "oomScoreAdj", "selinuxLabel", "mounts", "destination", "source", "options", "hostname",
	"domainname", "hooks", "prestart", "annotations", "linux", "namespaces", "uidMappings", "gidMappings",
	"containerID", "hostID", "size", "devices", "cgroupsPath", "resources", "memory", "limit", "cpu", "quota",
	"pids", "sysctl", "seccomp", "defaultAction", "syscalls", "names", "action", "maskedPaths",
	"readonlyPaths", "mountLabel", "unified", "rootfsPropagation",
};

static const char *const atoms[] = {
	"\"1.2.0\"", "\"0.9\"", "\"rootfs\"", "\"/\"", "\"/proc\"", "\"proc\"", "\"tmpfs\"", "\"bind\"", "\"rbind\"",
	"\"ro\"", "\"nosuid\"", "\"size=1m\"", "\"mode=755\"", "\"mqueue\"", "\"sysfs\"", "\"/dev/shm\"",
	"\"/etc/hosts\"", "\"pid\"", "\"network\"", "\"mount\"", "\"user\"", "\"cgroup\"", "\"time\"",
	"\"/proc/1/ns/net\"", "\"CAP_CHOWN\"", "\"CAP_NOPE\"", "\"chown\"", "\"RLIMIT_NOFILE\"", "\"RLIMIT_X\"",
	"\"PATH=/bin\"", "\"A\"", "\"sh\"", "\"net.ipv4.ping_group_range\"", "\"../x\"", "\"SCMP_ACT_ERRNO\"",
	"\"SCMP_ACT_ALLOW\"", "\"getpid\"", "\"\"", "\"\\u0000\"", "0", "1", "2", "-1", "1000", "4294967295",
	"4294967296", "18446744073709551615", "1.5", "null", "true", "false", "{}", "[]",
};

#include "jsongen.h"

static void one_line(const struct ubx_err *e, const char *what)
{
	if (strchr(e->msg, '\n') || strncmp(e->msg, what, strlen(what)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gen g = { .in = data + 1, .n = size ? size - 1 : 0, .cap = 1 << 16 };
	struct ubx_err e = { 0 };
	struct oci_config c;

	if (size == 0 || jsonc_load("fuzz", &e) < 0 || !(g.out = malloc(g.cap)))
		return 0;
	if ((data[0] & 2) == 0) {
		memcpy(g.out, data + 1, size - 1);
		g.len = size - 1;
	} else {
		value(&g, 6);
	}
	if ((data[0] & 1) == 0) {
		if (oci_config_parse(g.out, g.len, "/bundle", &c, &e) == 0)
			oci_config_free(&c);
		else if (strncmp(e.msg, "seccomp", 7) != 0 && !strstr(e.msg, "linux.seccomp"))
			one_line(&e, "config.json");
	} else {
		struct oci_config base = { .spec.oci.umask = -1 };
		if (oci_process_parse(g.out, g.len, &base, &e) < 0)
			one_line(&e, "process.json");
		spec_free(&base.spec);
	}
	free(g.out);
	return 0;
}
