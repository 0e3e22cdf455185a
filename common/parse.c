/* SPDX-License-Identifier: MIT */
#include "parse.h"

#include <cap-ng.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <linux/capability.h>
#include <stdio.h>
#include <strings.h>

#include "cleanup.h"

int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_id(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = parse_u64(s, UINT32_MAX - 1, &v);

	if (r < 0)
		return r;
	*ret = (uint32_t)v;
	return 0;
}

/* The shift for a unit suffix ("", "k", "m", "g", "t", each with optional
 * "b" or "ib"), or -1 when the suffix is not one of those. */
static int unit_shift(const char *u)
{
	static const char units[] = "kmgt";
	int shift = 0;

	if (!*u)
		return 0;
	const char *hit = strchr(units, tolower((unsigned char)*u));
	if (hit) {
		shift = 10 * (int)(hit - units + 1);
		u++;
		if (tolower((unsigned char)*u) == 'i')
			u++;
	}
	if (tolower((unsigned char)*u) == 'b')
		u++;
	return *u ? -1 : shift;
}

int parse_size(const char *s, uint64_t *ret)
{
	uint64_t whole = 0, frac = 0, frac_div = 1;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	if (strcasecmp(s, "max") == 0) {
		*ret = PARSE_SIZE_MAX;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (frac_div < 1000000000ULL) { /* nine digits are plenty */
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_div *= 10;
			}
		}
	}
	int shift = unit_shift(p);
	if (shift < 0)
		return -EINVAL;
	if (shift == 0 && frac)
		return -EINVAL; /* a fraction of a byte */
	if (shift && whole > (UINT64_MAX >> shift))
		return -ERANGE;
	uint64_t bytes = whole << shift;
	uint64_t extra = (uint64_t)(((unsigned __int128)frac << shift) / frac_div);
	if (bytes > UINT64_MAX - extra)
		return -ERANGE;
	*ret = bytes + extra;
	return 0;
}

/* One capability name, without the "CAP_" prefix and in any case, or -1. */
static int capability_number(const char *name, size_t len)
{
	char buf[48];

	if (len >= 4 && strncasecmp(name, "CAP_", 4) == 0)
		name += 4, len -= 4;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	int cap = capng_name_to_capability(buf);
	return cap >= 0 && cap <= CAP_LAST_CAP ? cap : -1;
}

int parse_capabilities(const char *s, uint64_t *set, bool *all, char *bad, size_t badlen)
{
	do {
		size_t len = strcspn(s, ",");
		int cap = capability_number(s, len);
		if (len == 3 && strncasecmp(s, "ALL", 3) == 0) {
			*all = true;
		} else if (cap < 0) {
			snprintf(bad, badlen, "%.*s", (int)len, s);
			return -EINVAL;
		} else {
			*set |= 1ULL << cap;
		}
		s += len;
	} while (*s++ == ',');
	return 0;
}

static const struct {
	const char *name;
	int sig;
} signal_names[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "ILL", SIGILL },     { "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT }, { "BUS", SIGBUS },   { "FPE", SIGFPE },   { "KILL", SIGKILL },   { "USR1", SIGUSR1 },
	{ "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },   { "TERM", SIGTERM },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG },   { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },  { "PWR", SIGPWR },     { "SYS", SIGSYS },
};

int parse_signal(const char *s)
{
	uint64_t n;
	if (parse_u64(s, 64, &n) == 0 && n >= 1)
		return (int)n;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
		if (strcasecmp(s, signal_names[i].name) == 0)
			return signal_names[i].sig;
	return -1;
}

