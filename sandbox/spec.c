/* SPDX-License-Identifier: MIT */
/*
 * spec.c - releasing a struct ubx_spec; the masked and read-only paths a spec
 * gets when it names none (podman's).
 */
#include "spec.h"

#include <stdlib.h>

#include "mounts.h"

/* What podman masks: read them and the host's hardware and kernel state leak;
 * write them and worse.  Files get the null device, directories an empty
 * read-only tmpfs; missing paths are skipped.  (The spec may say otherwise.) */
const char *const mounts_masked_default[] = {
	"/proc/acpi",       "/proc/asound",      "/proc/kcore",        "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi",       "/sys/firmware",     "/sys/devices/virtual/powercap", NULL,
};

/* ... and what it keeps read-only. */
const char *const mounts_readonly_default[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

void spec_free(struct ubx_spec *s)
{
	free(s->root.path);
	free_strv(s->root.layers);
	free(s->root.upper);
	free(s->root.fuse_program);
	free(s->root.fuse_cover);
	free(s->root.work);
	free_strv(s->args);
	free_strv(s->env);
	free(s->cwd);
	free(s->view.cwd_bind);
	for (size_t i = 0; i < sizeof(s->view.covers) / sizeof(s->view.covers[0]); i++)
		free(s->view.covers[i]);
	free(s->view.home_layer);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].src);
		free(s->mounts[i].dst);
	}
	free(s->mounts);
	free(s->hostname);
	free(s->network);
	free(s->name);
	free(s->ports);
	free(s->allow);
	free(s->net_log);
	free(s->cgroup_parent);
	free(s->seccomp_profile);
	free_strv(s->masked_paths);
	free_strv(s->readonly_paths);
	free(s->oci.groups);
	free(s->oci.rlimits);
	free_strv(s->oci.sysctl);
	free(s->oci.domainname);
	for (size_t i = 0; i < s->oci.n_devices; i++)
		free(s->oci.devices[i].path);
	free(s->oci.devices);
	for (size_t i = 0; i < s->oci.n_join; i++)
		free(s->oci.join[i].path);
	*s = (struct ubx_spec){ 0 };
}
