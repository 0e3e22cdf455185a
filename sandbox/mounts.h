/* SPDX-License-Identifier: MIT */
/*
 * mounts.h - the sandbox's file system.
 */
#ifndef USBOX_SANDBOX_MOUNTS_H
#define USBOX_SANDBOX_MOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/error.h"
#include "spec.h"

/* What the supervisor adds to the view beyond the config. */
struct mounts_extra {
	int tty_gid;        /* the group to own ptys (5 when mapped), or -1 for the opener's */
	const char *dns;    /* /etc/resolv.conf inside names this server (when the host view has one to cover) */
	const char *hosts;  /* a host file bound read-only at /etc/hosts ... */
	int hosts_fd;       /* ... which must be this inode (O_PATH, checked), or -1 */
	uint32_t uid, gid;   /* who owns the covers: the command's identity inside */
	int storage_sock;   /* an image's root: to the supervisor, which runs fuse-overlayfs
			     * when needed (rootfs.h), or -1 */
};

/*
 * mounts_setup() - build the view of @spec and make it the root: the host's
 * mounts cloned recursively and made read-only, a fresh /proc, a minimal /dev
 * with its own devpts and a /dev/shm of spec->shm_size, private tmpfs /tmp,
 * the working directory spec->view.cwd_bind bound read-write, a throw-away
 * layer over spec->view.home_layer, the directories of spec->view.covers
 * covered by empty tmpfs mounts (a read-only mount does not stop connect()
 * on the unix sockets in them: the session bus, systemd --user, agents), the
 * volumes, tmpfs, layers and hidden paths of spec->mounts, and podman's
 * masked and read-only paths of /proc and /sys.  A mount whose destination lies inside another's goes on top of it
 * (so a cover is never undone by a bind that contains it); among equal
 * destinations the user's mounts win.  Every path inside is resolved with
 * openat2 RESOLVE_IN_ROOT, so symlinks in the view cannot point a mount
 * outside it.
 * Must run in a fresh mount namespace with CAP_SYS_ADMIN over it; on success
 * the process's root is the new view and its cwd is "/".
 * Return: 0 or a negative errno naming the mount that failed.
 */
int mounts_setup(const struct ubx_spec *spec, const struct mounts_extra *x, struct ubx_err *e);

/*
 * mounts_cwd_unshared() - why the working directory @cwd must not be bound
 * read-write (a shared directory such as /tmp, /var/tmp, /dev/shm, /run or
 * anything below /run, the home @home itself or a directory above it: a
 * writable bind there would bring back other programs' sockets or the
 * caller's dotfiles), or NULL when it may be.  Both paths canonical.
 */
const char *mounts_cwd_unshared(const char *cwd, const char *home);

/* The paths podman masks and keeps read-only, NULL-terminated: a spec's
 * masked_paths and readonly_paths when it gives none. */
extern const char *const mounts_masked_default[];
extern const char *const mounts_readonly_default[];

#endif
