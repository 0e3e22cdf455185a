/* SPDX-License-Identifier: MIT */
/*
 * doctor.c - `usbox doctor [--json]`: the checks of doctor/, as a line each
 * (status, name, what it means, and the fix on a line below) or as one JSON
 * object whose fields docs/doctor.md describes.
 */
#include "doctor.h"

#include <stdbool.h>
#include <string.h>

#include "../doctor/doctor.h"

#ifndef USBOX_VERSION
#define USBOX_VERSION "0.1.0"
#endif

#define DOCTOR_JSON_VERSION 1

static void usage(FILE *out)
{
	fputs("Usage: usbox doctor [--json]\n\n"
	      "Check whether this host lets usbox run: user namespaces, subordinate ids and\n"
	      "newuidmap, cgroup v2 and delegation, /dev/net/tun, libslirp, overlayfs,\n"
	      "seccomp, usbox's helpers and state.  One line per check (ok, warn or fail)\n"
	      "with the fix for each problem; --json prints the same as one JSON object.\n"
	      "Exit status: 0 when usbox can run here with its defaults, 1 when not.\n",
	      out);
}

/* @s as a JSON string, quotes included. */
static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void print_json(FILE *out, const struct doctor_report *r)
{
	fprintf(out, "{\"version\": %d, \"usbox\": ", DOCTOR_JSON_VERSION);
	json_string(out, USBOX_VERSION);
	fprintf(out, ", \"usable\": %s, \"checks\": [", doctor_usable(r) ? "true" : "false");
	for (size_t i = 0; i < r->n; i++) {
		const struct doctor_check *k = &r->checks[i];
		fprintf(out, "%s\n  {\"id\": ", i ? "," : "");
		json_string(out, k->id);
		fputs(", \"name\": ", out);
		json_string(out, k->name);
		fprintf(out, ", \"status\": \"%s\", \"required\": %s, \"value\": ", doctor_status_name(k->status),
			k->required ? "true" : "false");
		json_string(out, k->value);
		fputs(", \"message\": ", out);
		json_string(out, k->message);
		fputs(", \"fix\": ", out);
		json_string(out, k->fix);
		fputc('}', out);
	}
	fputs("\n]}\n", out);
}

static void print_text(FILE *out, const struct doctor_report *r)
{
	char failed[512] = "";

	for (size_t i = 0; i < r->n; i++) {
		const struct doctor_check *k = &r->checks[i];
		fprintf(out, "%-4s  %-20s  %s\n", doctor_status_name(k->status), k->name, k->message);
		if (k->fix[0] && k->status != DOCTOR_OK)
			fprintf(out, "%-4s  %-20s  fix: %s\n", "", "", k->fix);
		if (k->required && k->status == DOCTOR_FAIL)
			snprintf(failed + strlen(failed), sizeof(failed) - strlen(failed), "%s%s",
				 failed[0] ? ", " : "", k->name);
	}
	if (failed[0])
		fprintf(out, "\nusbox cannot run here with its defaults: %s failed.\n", failed);
	else
		fputs("\nusbox can run here with its defaults.\n", out);
}

int doctor_command(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	static struct doctor_report report; /* large */
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(out);
			return 0;
		} else {
			return ubx_fail(e, 0, "doctor: unknown argument '%s' (usage: usbox doctor [--json])", argv[i]);
		}
	}
	int r = doctor_run(&report, e);
	if (r < 0)
		return ubx_wrap(e, "doctor");
	if (json)
		print_json(out, &report);
	else
		print_text(out, &report);
	return doctor_usable(&report) ? 0 : 1;
}
