/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what seccomp/ shares inside: the filters seccomp/gen.c wrote
 * at build time ($(BUILD)/seccomp/filters.c).
 */
#ifndef USBOX_SECCOMP_INTERNAL_H
#define USBOX_SECCOMP_INTERNAL_H

#include <linux/filter.h>

/* The default profile, and the --nested one. */
extern const struct sock_filter seccomp_filter_default[];
extern const unsigned short seccomp_filter_default_len;
extern const struct sock_filter seccomp_filter_nested[];
extern const unsigned short seccomp_filter_nested_len;

#endif
