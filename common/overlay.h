/* SPDX-License-Identifier: MIT */
/*
 * overlay.h - an overlayfs of image layers, mounted in a user namespace.
 */
#ifndef USBOX_COMMON_OVERLAY_H
#define USBOX_COMMON_OVERLAY_H

#include "error.h"

/*
 * overlay_mount() - overlayfs with @lowers (absolute, topmost first,
 * NULL-terminated) under @upper and @work, with userxattr and the mount
 * attributes @attrs, as a detached mount.  The new mount API takes one
 * lower layer a call ("lowerdir+", Linux 6.8); an older kernel (which
 * refuses the key at fsconfig() or, before 6.5, only when creating) gets
 * them through mount(2) at @scratch (a directory of the caller's private mount
 * namespace, e.g. /tmp), whose mount is then cloned: fsconfig() takes no
 * value over 256 bytes, so a list of layers does not fit it.
 * Return: the mount fd, or a negative errno.
 */
int overlay_mount(char *const *lowers, const char *upper, const char *work, unsigned attrs, const char *scratch,
		  struct ubx_err *e);

/*
 * overlay_fuse_mount() - the FUSE mount that fuse-overlayfs serves when the
 * kernel's overlayfs is refused: /dev/fuse opened in the caller's user
 * namespace (its fd into *@fuse, close-on-exec), the file system made with
 * allow_other and default_permissions (the kernel checks permissions by the
 * files' modes, as fuse-overlayfs expects when it runs as root) and mounted
 * detached with @attrs.  Requests on it wait until a daemon reads *@fuse
 * (overlay_fuse_start()); a caller that will not start one closes *@fuse,
 * which fails them.
 * Return: the mount fd, or a negative errno.
 */
int overlay_fuse_mount(unsigned attrs, int *fuse, struct ubx_err *e);

/* A running fuse-overlayfs. */
struct overlay_fuse {
	int pidfd; /* the daemon, or -1 */
	int log;   /* its stderr (a memory file), or -1 */
};

#define OVERLAY_FUSE_INIT { .pidfd = -1, .log = -1 }

/*
 * overlay_fuse_start() - run @program (fuse-overlayfs) in the foreground on
 * the FUSE connection @fuse for @lowers (topmost first), @upper and @work.
 * With @userns_pidfd >= 0 it first joins that process's user namespace (a
 * sandbox's init: the mount's own), staying in the caller's pid namespace,
 * out of the sandbox's sight and reach.  It gets a network namespace of its
 * own (no network, no abstract sockets), a mount namespace of its own in
 * which every mount is read-only but the directory holding @upper and @work
 * and @cover (NULL: none; the caller's runtime directory, whose sockets a
 * read-only mount does not stop) is covered, only @fuse (as fd 3), /dev/null as stdin and stdout, a memory
 * file as stderr (see overlay_fuse_why()), a fixed environment, a session
 * of its own (the terminal's signals are the command's), and SIGKILL when
 * the calling thread ends.  It ends by itself once the mount is gone.
 * Return: 0 or a negative errno.
 */
int overlay_fuse_start(const char *program, char *const *lowers, const char *upper, const char *work, int fuse,
		       int userns_pidfd, const char *cover, struct overlay_fuse *d, struct ubx_err *e);

/*
 * overlay_fuse_why() - the last line the daemon wrote to stderr, when it has
 * ended with a failure; "" otherwise.  Never waits.
 */
void overlay_fuse_why(const struct overlay_fuse *d, char *buf, size_t len);

/*
 * overlay_fuse_stop() - let the daemon end by itself for up to @ms (its
 * mount gone, it flushes nothing more and exits), then kill it; reap it and
 * release @d.  Safe on a @d that never started.
 */
void overlay_fuse_stop(struct overlay_fuse *d, int ms);

#endif
