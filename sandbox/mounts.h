/* SPDX-License-Identifier: MIT */
/*
 * mounts.h - the sandbox's file system.
 */
#ifndef USBOX_SANDBOX_MOUNTS_H
#define USBOX_SANDBOX_MOUNTS_H

#include <stdbool.h>

#include "../common/error.h"
#include "config.h"

/*
 * mounts_setup() - build the host view and make it the root: the host's
 * mounts cloned recursively and made read-only, a fresh /proc, a minimal /dev
 * with its own devpts, private tmpfs /tmp, the working directory @cwd bound
 * read-write (unless cfg->no_cwd or it is "/"), then the volumes and tmpfs
 * mounts of @cfg in order.  Every path inside is resolved with openat2
 * RESOLVE_IN_ROOT, so symlinks in the view cannot point a mount outside it.
 * @tty_gid: the group to own ptys (5 when mapped), or -1 for the opener's.
 * @dns: when set, /etc/resolv.conf inside names this server (when the host
 * view has an /etc/resolv.conf to cover).
 * @hosts: when set, a host file bound read-only at /etc/hosts.
 * Must run in a fresh mount namespace with CAP_SYS_ADMIN over it; on success
 * the process's root is the new view and its cwd is "/".
 * Return: 0 or a negative errno naming the mount that failed.
 */
int mounts_setup(const struct usbox_config *cfg, const char *cwd, int tty_gid, const char *dns, const char *hosts,
		 struct ubx_err *e);

#endif
