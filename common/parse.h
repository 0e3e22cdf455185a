/* SPDX-License-Identifier: MIT */
/*
 * parse.h - strict parsers for numbers and sizes given on the command line.
 *
 * They accept the whole string or nothing: no sign, no leading or trailing
 * blanks, no silent wrap-around.  They return 0 or -EINVAL / -ERANGE and never
 * print.
 */
#ifndef USBOX_COMMON_PARSE_H
#define USBOX_COMMON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARSE_SIZE_MAX UINT64_MAX /* what "max" parses to */

/*
 * parse_u64() - a decimal number from 0 to @max.
 * Return: 0, -EINVAL when @s is not a plain decimal number, -ERANGE above @max.
 */
int parse_u64(const char *s, uint64_t max, uint64_t *ret);

/*
 * parse_id() - a user or group id (0 to 4294967294; -1 is not an id).
 * Return: 0 or a negative errno as parse_u64().
 */
int parse_id(const char *s, uint32_t *ret);

/*
 * parse_size() - a byte count: "65536", "512K", "512M", "1.5g", "2GiB", "1T",
 * units binary (K = 1024) in either case with an optional "i", "B" or "iB"; the
 * word "max" gives PARSE_SIZE_MAX.  Fractions are rounded down to a byte.
 * Return: 0, -EINVAL for anything else, -ERANGE when it does not fit 64 bits.
 */
int parse_size(const char *s, uint64_t *ret);

/*
 * parse_capabilities() - a comma-separated list of capability names as Docker
 * takes them ("NET_RAW", "cap_net_raw", "ALL"; any case) into the bits of
 * @set (bit N for capability N) and *@all.
 * Return: 0, or -EINVAL with the first bad name in @bad.
 */
int parse_capabilities(const char *s, uint64_t *set, bool *all, char *bad, size_t badlen);

/*
 * parse_signal() - a signal by name ("TERM", "SIGTERM", "sigterm") or
 * number (1 to 64).  Return: the signal, or -1.
 */
int parse_signal(const char *s);

#endif
