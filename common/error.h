/* SPDX-License-Identifier: MIT */
/*
 * error.h - the error value every fallible usbox function fills in.
 *
 * A function that can fail takes a `struct ubx_err *` last, returns a negative
 * errno on failure and leaves a one-line message in the struct.  Callers add
 * context with ubx_wrap() on the way up; only main() prints it.  The struct is
 * plain data so that a sandbox process can send it to the supervisor through a
 * pipe in one write.
 */
#ifndef USBOX_COMMON_ERROR_H
#define USBOX_COMMON_ERROR_H

#include <stddef.h>

struct ubx_err {
	int code;       /* positive errno, 0 when none applies */
	char msg[480];  /* one line, no trailing newline */
};

/*
 * ubx_fail() - record a failure.
 * @e:      where to record it (may be NULL)
 * @errnum: positive errno; when non-zero, ": strerror(errnum)" is appended
 * @fmt:    printf-style message naming what failed
 *
 * Return: -errnum, or -EINVAL when errnum is 0.
 */
int ubx_fail(struct ubx_err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * ubx_refuse() - record a refusal whose message says it all: as ubx_fail(),
 * with @errnum as the code but no strerror() text appended ("no such image:
 * X", not "no such image: X: No such file or directory").
 * Return: -errnum, or -EINVAL when errnum is 0.
 */
int ubx_refuse(struct ubx_err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * ubx_wrap() - put context in front of an error already recorded in @e.
 * Return: -e->code, or -EINVAL when the code is 0, so callers can
 * `return ubx_wrap(e, "...")`.
 */
int ubx_wrap(struct ubx_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
