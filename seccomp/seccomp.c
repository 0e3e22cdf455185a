/* SPDX-License-Identifier: MIT */
/*
 * seccomp.c - choosing and installing the command's filter.
 *
 * DOC: Theory of operation
 * seccomp_prepare() runs in the supervisor and only picks a program: one of
 * the static arrays seccomp/gen.c compiled at build time, nothing for
 * unconfined, or a JSON profile compiled by profile.c.  seccomp_install() runs
 * in the command's process right before execve and makes one seccomp() system
 * call; installing the default filter loads no library and allocates nothing.
 * Once installed, a filter holds for the process and everything it starts.
 */
#include "seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* The kernel's struct sock_fprog takes a mutable pointer, but never writes
 * through it: the static programs stay const where they live. */
static void builtin(struct seccomp_prog *out, const struct sock_filter *filter, unsigned short len)
{
	*out = (struct seccomp_prog){ .filter = (struct sock_filter *)filter, .len = len, .owned = false };
}

int seccomp_prepare(enum seccomp_mode mode, const char *file, struct seccomp_prog *out, struct ubx_err *e)
{
	char what[300];

	*out = (struct seccomp_prog){ 0 };
	switch (mode) {
	case SECCOMP_DEFAULT:
		builtin(out, seccomp_filter_default, seccomp_filter_default_len);
		return 0;
	case SECCOMP_NESTED_DEFAULT:
		builtin(out, seccomp_filter_nested, seccomp_filter_nested_len);
		return 0;
	case SECCOMP_UNCONFINED:
		return 0;
	case SECCOMP_PROFILE_FILE:
		if (!file)
			return ubx_fail(e, EINVAL, "--seccomp: no profile file");
		snprintf(what, sizeof(what), "--seccomp %.200s", file);
		return seccomp_profile_load(file, what, out, e);
	}
	return ubx_fail(e, EINVAL, "seccomp mode %d", (int)mode);
}

int seccomp_install(const struct seccomp_prog *p, struct ubx_err *e)
{
	struct sock_fprog prog = { .len = p->len, .filter = p->filter };

	if (p->len == 0)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return ubx_refuse(e, errno, "install the seccomp filter: %s (usbox doctor: seccomp)", strerror(errno));
	return 0;
}
