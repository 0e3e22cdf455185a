/* SPDX-License-Identifier: MIT */
/*
 * config.h - everything one sandbox run is asked to do, in one struct.
 *
 * The option parser fills it; every later stage only reads it.  It holds no
 * pointers into argv that outlive main(), so it could be written to disk as
 * the state of a detached sandbox later.
 */
#ifndef USBOX_SANDBOX_CONFIG_H
#define USBOX_SANDBOX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../cgroup/cgroup.h"
#include "../netns/netns.h"

enum net_mode {
	NET_SLIRP, /* own network namespace with a TAP behind libslirp (default) */
	NET_NONE,  /* own network namespace, loopback only */
	NET_HOST,  /* the host's network namespace */
	NET_USER,  /* own network namespace, on the user network cfg->network */
};

enum map_mode {
	MAP_AUTO,   /* full subordinate range, single id as a fallback */
	MAP_SINGLE, /* one id, no warning */
};

enum stats_mode {
	STATS_NONE,
	STATS_TEXT, /* --stats */
	STATS_JSON, /* --stats=json */
};

enum mount_kind {
	MOUNT_BIND,  /* -v SRC:DST[:ro], --ro-bind SRC:DST */
	MOUNT_TMPFS, /* --tmpfs DST[:OPTIONS] */
	MOUNT_HIDE,  /* --hide DST: an empty read-only directory or the null device */
	MOUNT_OVERLAY, /* --tmp-overlay DST: a throw-away writable layer */
};

struct mount_spec {
	enum mount_kind kind;
	char *src;      /* absolute host path (binds only) */
	char *dst;      /* absolute path inside the sandbox */
	bool readonly;
	uint64_t size;  /* tmpfs size in bytes, 0 for the default */
	uint32_t mode;  /* tmpfs mode, 01777 by default */
};

/* One -e/--env or --env-file entry: "K=V" sets, "K" copies the caller's K. */
struct env_op {
	char *text;
};

struct usbox_config {
	char **argv;              /* the command and its arguments */
	uint32_t uid, gid;        /* identity inside */
	bool uid_set, gid_set;    /* given with --uid/--gid/--root */
	enum map_mode map;
	char *hostname;           /* NULL: keep the host's */
	bool clearenv;
	struct env_op *env;
	size_t n_env;
	char *workdir;            /* NULL: the caller's working directory */
	bool no_cwd;              /* do not bind the working directory */
	bool ro_home;             /* --ro-home: no throw-away writable layer over the home */
	struct mount_spec *mounts;
	size_t n_mounts;
	enum net_mode net;
	bool allow_host_loopback; /* --net slirp:allow_host_loopback */
	char *network;            /* --net NAME: the user network, else NULL */
	char *name;               /* --name: the sandbox's name (hosts entry, host name), or NULL */
	struct portfwd_spec *ports; /* -p */
	size_t n_ports;
	bool tty, interactive;    /* -t, -i */
	bool no_tty;              /* -T: no terminal, also when at one */
	uint64_t shm_size;        /* /dev/shm's size in bytes (--shm-size; 64M by default, as Docker) */
	uint64_t cap_add, cap_drop; /* --cap-add/--cap-drop: bit N is capability N */
	bool cap_add_all, cap_drop_all; /* ... ALL */
	char *seccomp_profile;    /* --seccomp FILE: a Docker/OCI JSON profile, or NULL */
	bool seccomp_unconfined;  /* --seccomp unconfined */
	bool nested;              /* --nested: allow namespaces and mounts inside (podman, bwrap) */
	struct cgroup_limits limits;
	char *cgroup_parent;      /* --cgroup-parent, or NULL */
	enum stats_mode stats;
};

/*
 * config_free() - release everything config_parse() allocated in @cfg.
 */
void config_free(struct usbox_config *cfg);

#endif
