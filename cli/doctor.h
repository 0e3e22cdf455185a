/* SPDX-License-Identifier: MIT */
/*
 * doctor.h - `usbox doctor [--json]`: the doctor's report (doctor/), printed.
 */
#ifndef USBOX_CLI_DOCTOR_H
#define USBOX_CLI_DOCTOR_H

#include <stdio.h>

#include "../common/error.h"

/*
 * doctor_command() - run `usbox doctor ARGS...` (@argv[0] is "doctor") and
 * print its report to @out: a line per check, or with --json one JSON
 * object (docs/doctor.md).
 * Return: 0 when usbox can run here with its defaults, 1 when not, or a
 * negative errno with one line in @e (a usage error).
 */
int doctor_command(int argc, char **argv, FILE *out, struct ubx_err *e);

#endif
