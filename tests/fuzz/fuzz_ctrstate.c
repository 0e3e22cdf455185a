/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: what usbox reads back about a container - spec.json (for usbox
 * exec), state.json (ps, wait) and the CRI log (usbox logs, whose lines
 * carry whatever the container printed).  The first byte picks the reader
 * (low two bits) and the form: the rest as text, or (bit 2) as choices of a
 * generator of well-formed JSON made of the files' own keys.  A refusal is
 * one line; a result is freed without leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../common/jsonc.h"
#include "../../container/log.h"
#include "../../container/state.h"
#include "../../sandbox/specjson.h"

static const char *const keys[] = {
	"process", "args", "env", "cwd", "user", "uid", "gid", "capabilities", "terminal", "stop_signal",
	"hostname", "name", "security", "seccomp", "seccomp_profile", "root", "kind", "mounts", "network",
	"status", "exit_code", "oom_killed", "started", "finished",
};

static const char *const atoms[] = {
	"\"/\"", "\"/tmp\"", "\"relative\"", "\"sh\"", "\"A=1\"", "\"0x00000000800405fb\"", "\"0xzz\"",
	"\"default\"", "\"nested\"", "\"unconfined\"", "\"profile\"", "\"bogus\"", "\"running\"", "\"exited\"",
	"\"\"", "0", "1", "-1", "4294967295", "4294967296", "9223372036854775807", "null", "true", "false", "{}",
	"[]", "[\"sh\",\"-c\"]",
};

#include "jsongen.h"

static void one_line(const struct ubx_err *e)
{
	if (strchr(e->msg, '\n'))
		abort();
}

static void spec(const char *text, size_t len)
{
	struct ubx_err e = { 0 };
	struct json_object *o = NULL;
	struct ubx_spec s;
	if (jsonc_parse(text, len, 1 << 16, "spec.json", &o, &e) < 0) {
		one_line(&e);
		return;
	}
	if (spec_from_json(o, "spec.json", &s, &e) == 0)
		spec_free(&s);
	else
		one_line(&e);
	jsonc.json_object_put(o);
}

static void state(const char *text, size_t len)
{
	struct ubx_err e = { 0 };
	struct ctr_state s;
	int fd = memfd_create("state", MFD_CLOEXEC);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		abort();
	if (ctr_state_read_fd(fd, &s, &e) < 0)
		one_line(&e);
	close(fd);
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static void logs(const char *text, size_t len, long tail)
{
	static char dir[] = "/tmp/fuzz-ctrlog.XXXXXX";
	static bool made;
	char path[64];
	struct ubx_err e = { 0 };
	if (!made && !mkdtemp(dir))
		abort();
	made = true;
	snprintf(path, sizeof(path), "%s/ctr.log", dir);
	FILE *f = fopen(path, "w"), *null = fopen("/dev/null", "w");
	if (!f || !null || fwrite(text, 1, len, f) != len)
		abort();
	fclose(f);
	const struct ctr_log_opts o = { .timestamps = tail & 1, .tail = tail, .running = never };
	if (ctr_log_print(dir, &o, null, null, &e) < 0)
		one_line(&e);
	fclose(null);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gen g = { .in = data + 1, .n = size ? size - 1 : 0, .cap = 1 << 16 };
	struct ubx_err e;
	if (size == 0 || jsonc_load("fuzz", &e) < 0 || !(g.out = malloc(g.cap)))
		return 0;
	if ((data[0] & 4) == 0 || (data[0] & 3) == 3) {
		memcpy(g.out, data + 1, size - 1);
		g.len = size - 1;
	} else {
		value(&g, 6);
	}
	switch (data[0] & 3) {
	case 0:
		spec(g.out, g.len);
		break;
	case 1:
		state(g.out, g.len);
		break;
	default:
		logs(g.out, g.len, (data[0] >> 3) - 1);
		break;
	}
	free(g.out);
	return 0;
}
