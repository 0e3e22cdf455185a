/* SPDX-License-Identifier: MIT */
/*
 * spec.h - what one sandbox is to be, in one struct: the runtime's only input.
 *
 * Its fields follow the OCI runtime spec's sections so that a config.json can
 * fill it as well as the command line (cli/) or an image's config: the root,
 * the process (args, env, cwd, user, capabilities, terminal), mounts, the
 * namespaces' settings (host name, network), ids, limits and security.  No
 * stage reads argv or the caller's environment for options, and nothing in
 * the runtime prints.  It holds no pointers into argv, so it could be written
 * to disk as the state of a detached sandbox.
 */
#ifndef USBOX_SANDBOX_SPEC_H
#define USBOX_SANDBOX_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../cgroup/cgroup.h"
#include "../netns/netns.h"
#include "../seccomp/seccomp.h"

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

enum mount_kind {
	MOUNT_BIND,  /* -v SRC:DST[:ro], --ro-bind SRC:DST */
	MOUNT_TMPFS, /* --tmpfs DST[:OPTIONS] */
	MOUNT_HIDE,  /* --hide DST: an empty read-only directory or the null device */
	MOUNT_OVERLAY, /* --tmp-overlay DST: a throw-away writable layer */
	MOUNT_MQUEUE,  /* a POSIX message queue file system of the sandbox's ipc namespace (OCI) */
};

struct mount_spec {
	enum mount_kind kind;
	char *src;      /* absolute host path (binds only) */
	char *dst;      /* absolute path inside the sandbox */
	bool readonly;
	uint64_t size;  /* tmpfs size in bytes, 0 for the default */
	uint32_t mode;  /* tmpfs mode, 01777 by default */
	uint64_t attrs; /* further MOUNT_ATTR_* (nosuid, nodev, noexec) for a bind */
};

enum root_kind {
	ROOT_HOST,   /* a read-only view of the caller's / */
	ROOT_DIR,    /* a root file system in a directory (--rootfs) */
	ROOT_LAYERS, /* image layers under a writable one (overlayfs) */
};

enum root_overlay {
	OVERLAY_AUTO,   /* the kernel's overlayfs, fuse-overlayfs when the kernel refuses it */
	OVERLAY_KERNEL, /* only the kernel's */
	OVERLAY_FUSE,   /* only fuse-overlayfs */
};

struct spec_root {
	enum root_kind kind;
	char *path;         /* ROOT_DIR: the directory */
	char **layers;      /* ROOT_LAYERS: the lower directories, topmost first, NULL-terminated */
	char *upper, *work; /* ROOT_LAYERS: the writable layer and overlayfs's work directory
			     * (a container's), or NULL for a throw-away one */
	bool readonly;      /* --read-only: the root is mounted read-only */
	enum root_overlay overlay; /* ROOT_LAYERS: which overlayfs may serve them */
	char *fuse_program; /* ROOT_LAYERS: fuse-overlayfs (absolute), or NULL when there is none */
	char *fuse_cover;   /* ROOT_LAYERS: a directory fuse-overlayfs must not reach (the caller's
			     * runtime directory: session bus, agents), or NULL */
};

/*
 * The host view's parts that follow from the caller's situation rather than
 * from what was asked: decided by the caller of the runtime (cli/hostview.c)
 * and only applied here.
 */
struct spec_host_view {
	char *cwd_bind;     /* the caller's directory bound read-write at the same path, or NULL */
	char *covers[4];    /* directories covered by an empty tmpfs when present (runtime dirs,
			     * usbox's state and data: networks, the image store), or NULL */
	char *home_layer;   /* a directory given a throw-away writable layer (the home), or NULL */
};

/* An rlimit to set (OCI process.rlimits). */
struct spec_rlimit {
	int resource;              /* RLIMIT_* */
	uint64_t soft, hard;
};

/* An id mapping range (OCI linux.uidMappings / gidMappings). */
struct spec_idmap {
	uint32_t inside, outside, count;
};

#define SPEC_MAX_IDMAPS 8

/* A device node of linux.devices: @type S_IFCHR, S_IFBLK or S_IFIFO. */
struct spec_device {
	char *path; /* absolute, under /dev */
	uint32_t type, major, minor, mode, uid, gid;
};

/*
 * What only an OCI runtime's container asks for (oci/config.c fills it);
 * all zero for usbox's own command line, which always makes every namespace
 * and keeps its own init as PID 1.
 */
/* A namespace an OCI container joins instead of making: its CLONE_NEW* flag
 * and the path of its namespace file. */
struct spec_ns_join {
	int flag;
	char *path;
};

#define SPEC_MAX_JOIN 8

struct spec_oci {
	bool enabled;              /* the process is PID 1 itself (no usbox init), waits for
				    * `start`, and outlives the process that created it */
	uint64_t ns_new;           /* the CLONE_NEW* namespaces to make; those not made are shared
				    * with (or were joined by) the creating process */
	struct spec_idmap uid_map[SPEC_MAX_IDMAPS], gid_map[SPEC_MAX_IDMAPS];
	size_t n_uid_map, n_gid_map; /* with CLONE_NEWUSER: the maps to write (0: usbox's plan) */
	uint64_t caps[5];          /* bounding, effective, permitted, inheritable, ambient */
	bool no_new_privs;
	int umask;                 /* -1: leave it */
	uint32_t *groups;          /* additionalGids */
	size_t n_groups;
	struct spec_rlimit *rlimits;
	size_t n_rlimits;
	bool has_oom_score_adj;
	int oom_score_adj;
	char **sysctl;             /* "key=value", NULL-terminated, or NULL */
	unsigned preserve_fds;     /* the creator's fds 3 .. 3+N-1 go to the process (--preserve-fds) */
	char *domainname;          /* the uts namespace's NIS domain name, or NULL */
	struct spec_device *devices; /* linux.devices: nodes made in /dev */
	size_t n_devices;
	unsigned long root_propagation; /* MS_SHARED etc. (| MS_REC) for / after pivot_root, or 0 */
	struct spec_ns_join join[SPEC_MAX_JOIN]; /* joined by the container's process (the user
				    * namespace first) before it makes those of ns_new */
	size_t n_join;
	uint64_t ns_joined;        /* the CLONE_NEW* flags of join[] */
};

enum { SPEC_CAP_BOUNDING, SPEC_CAP_EFFECTIVE, SPEC_CAP_PERMITTED, SPEC_CAP_INHERITABLE, SPEC_CAP_AMBIENT };

/* --port-handler: how a -p TCP port reaches the server inside. */
enum port_handler {
	PORTS_AUTO,   /* direct where the kernel allows it, else relay */
	PORTS_DIRECT, /* the server takes usbox's host listener (netns/portdirect.h) */
	PORTS_RELAY,  /* usbox accepts and relays each connection (netns/portrelay.c) */
};

struct ubx_spec {
	struct spec_root root;
	struct spec_host_view view;
	/* process */
	char **args;              /* the command and its arguments */
	char **env;               /* its environment, "K=V" */
	char *cwd;                /* its working directory inside (absolute) */
	uint32_t uid, gid;        /* identity inside */
	uint64_t caps;            /* capabilities: bit N is capability N; all sets for uid 0,
				   * only the bounding set otherwise */
	bool tty, interactive;    /* a terminal of its own; stdin kept open */
	int stop_signal;          /* what usbox stop sends first (an image's StopSignal); 0: SIGTERM */
	/* mounts, host name */
	struct mount_spec *mounts;
	size_t n_mounts;
	uint64_t shm_size;        /* /dev/shm's size in bytes */
	bool dev_mqueue;          /* an mqueue at /dev/mqueue, made with /dev */
	char *hostname;           /* NULL: keep the host's */
	/* ids */
	enum map_mode map;
	bool root_is_caller;      /* id 0 inside maps to the caller whatever the process's id is (a
				   * root of its own, whose files' owners must not move); else the
				   * process's own id does (the host view: your files are yours) */
	/* network */
	enum net_mode net;
	bool allow_host_loopback; /* slirp:allow_host_loopback */
	char *network;            /* NET_USER: the user network */
	char *name;               /* the sandbox's name (hosts entry), or NULL */
	struct portfwd_spec *ports;
	size_t n_ports;
	enum port_handler port_handler; /* how -p's TCP ports reach the server: resolved to
					 * direct or relay before the sandbox starts */
	struct netns_allow *allow; /* --net-allow: all that egress may reach (NULL: anything) */
	size_t n_allow;
	char *net_log;            /* --net-log: the egress policy's log (absolute), or NULL */
	/* limits */
	struct cgroup_limits limits;
	char *cgroup_parent;      /* a delegated cgroup v2 directory, or NULL */
	bool stats;               /* a cgroup for the counters, even without limits */
	/* security */
	enum seccomp_mode seccomp;
	char *seccomp_profile;    /* SECCOMP_PROFILE_FILE: the JSON profile */
	char **masked_paths;      /* masked (the null device, an empty read-only tmpfs) ... */
	char **readonly_paths;    /* ... and kept read-only, NULL-terminated; NULL: podman's lists */
	struct spec_oci oci;
};

/* spec_free() - release everything @s owns and empty it. */
void spec_free(struct ubx_spec *s);

#endif
