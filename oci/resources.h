/* SPDX-License-Identifier: MIT */
/*
 * resources.h - an OCI linux.resources object as the cgroup v2 files to
 * write, for usbox-oci's create and update.
 *
 * Each field becomes one write ("memory.max" <- "1048576") in the runtime
 * spec's usual conversions to cgroup v2: memory.limit -> memory.max,
 * memory.swap (memory plus swap) -> memory.swap.max (swap - limit),
 * memory.reservation -> memory.low, cpu.quota/period -> cpu.max, cpu.shares
 * -> cpu.weight (1 + (shares - 2) * 9999 / 262142), cpu.cpus/mems ->
 * cpuset.cpus/mems, pids.limit -> pids.max, blockIO.weight -> io.weight
 * ("default W", 10..1000 scaled to 1..10000), unified -> its files as named
 * (checked: CONTROLLER.NAME of a known controller, no cgroup.* core file).
 * Writes that only restate a default (unlimited, containerd's 1024 shares)
 * are kept but are not limits: without a cgroup they may be left out.
 * Fields that need cgroup v1 (kernel memory, swappiness, realtime cpu) are
 * refused by name when they ask for something.
 */
#ifndef USBOX_OCI_RESOURCES_H
#define USBOX_OCI_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/error.h"

struct json_object;

#define OCI_CG_WRITES_MAX 64

struct oci_cg_write {
	char file[64];   /* "memory.max" */
	char value[256]; /* "1048576", "max", "50000 100000" */
	bool limit;      /* asks for more than the default */
};

struct oci_limits {
	struct oci_cg_write w[OCI_CG_WRITES_MAX];
	size_t n;
};

/*
 * oci_resources_parse() - fill @l from the linux.resources object @res.
 * @what: its name in messages ("config.json: linux.resources", "--resources -")
 * Fields left to the engine (devices, hugepageLimits, network, rdma) are
 * skipped.  Return: 0, or -EINVAL with "WHAT.FIELD: what is wrong" in @e.
 */
int oci_resources_parse(struct json_object *res, const char *what, struct oci_limits *l, struct ubx_err *e);

/* oci_limits_any() - whether @l holds a write that is a limit. */
bool oci_limits_any(const struct oci_limits *l);

/*
 * oci_limits_controllers() - the controllers @l's writes need, space
 * separated ("memory pids"), into @out; @only_limits: only for the writes
 * that are limits.
 */
void oci_limits_controllers(const struct oci_limits *l, bool only_limits, char *out, size_t len);

#endif
