/* SPDX-License-Identifier: MIT */
/*
 * doctor.c - the order of the checks, the report they fill and its verdict
 * (doctor.h).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"

const char *doctor_status_name(enum doctor_status s)
{
	return s == DOCTOR_OK ? "ok" : s == DOCTOR_WARN ? "warn" : "fail";
}

struct doctor_check *doctor_add(struct doctor_ctx *c, const char *id, const char *name, bool required)
{
	struct doctor_report *r = c->report;
	if (r->n == DOCTOR_MAX_CHECKS) /* a programming error: DOCTOR_MAX_CHECKS is too small */
		r->n--;
	struct doctor_check *k = &r->checks[r->n++];
	*k = (struct doctor_check){ .id = id, .name = name, .required = required, .status = DOCTOR_OK };
	return k;
}

void doctor_say(struct doctor_check *k, enum doctor_status s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->message, sizeof(k->message), fmt, ap);
	va_end(ap);
	k->status = s;
}

void doctor_fix(struct doctor_check *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->fix, sizeof(k->fix), fmt, ap);
	va_end(ap);
}

void doctor_unpoint(char *msg)
{
	char *p = strstr(msg, "usbox doctor: ");
	size_t len = strlen(msg);
	if (!p || p < msg + 2 || msg[len - 1] != ')' || strchr(p, ')') != msg + len - 1)
		return;
	if (p[-2] == ' ' && p[-1] == '(')
		p[-2] = '\0'; /* "... (usbox doctor: X)" */
	else if (p[-2] == ';' && p[-1] == ' ')
		memmove(p - 2, msg + len - 1, 2); /* "... (fix; usbox doctor: X)" */
}

int doctor_read_line(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The caller's name, usbox's path and no_new_privs. */
static void know_caller(struct doctor_ctx *c)
{
	char line[256];
	c->uid = getuid();
	c->gid = getgid();
	struct passwd *pw = getpwuid(c->uid);
	snprintf(c->user, sizeof(c->user), "%s", pw ? pw->pw_name : "");
	ssize_t n = readlink("/proc/self/exe", c->exe, sizeof(c->exe) - 1);
	c->exe[n > 0 ? n : 0] = '\0';
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "NoNewPrivs:", 11) == 0)
			c->nnp = strtol(line + 11, NULL, 10) != 0;
}

int doctor_run(struct doctor_report *r, struct ubx_err *e)
{
	static struct doctor_ctx c; /* large; one report a process */
	c = (struct doctor_ctx){ .report = r };
	r->n = 0;
	know_caller(&c);
	int ret = doctor_probe_namespaces(&c.probe, e);
	if (ret < 0)
		return ret;
	doctor_check_host(&c);
	doctor_check_ids(&c);
	doctor_check_cgroups(&c);
	doctor_check_features(&c);
	doctor_check_state(&c);
	return 0;
}

bool doctor_usable(const struct doctor_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->checks[i].required && r->checks[i].status == DOCTOR_FAIL)
			return false;
	return true;
}
