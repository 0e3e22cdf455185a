/* SPDX-License-Identifier: MIT */
/*
 * trust.c - whether a user network's helper is the caller's own, checked
 * before a client uses anything it hands over.
 *
 * DOC: Theory of operation
 * A client finds the helper through files in STATE/net-NAME.  Whoever could
 * write there could put the socket of a fake helper in their place, whose
 * greeting carries a user namespace of its own: the next sandbox would be
 * cloned under it, in the faker's power, with the faker's hosts file and
 * veth.  So a client trusts the helper only when
 *  - the directory, the socket file and the hosts file are the caller's
 *    (owner as the current user namespace sees it), not writable by group or
 *    others, and opened without following a symlink; the client connects
 *    through the checked directory's fd, and the socket it reached must be
 *    bound to the "sock" file there (the peer's inode from sock_diag, where
 *    the kernel has unix_diag; else the file stat'ed before and after the
 *    connect must be the same);
 *  - its process (SO_PEERCRED) runs as the caller's uid, is alive, lives in
 *    the caller's pid namespace (a sandbox's processes never do: each has a
 *    pid namespace of its own) and in the user namespace its greeting sent;
 *  - that user namespace is owned by the caller and is a child of the id-map
 *    holder's (one NS_GET_PARENT step), which holder_userns() checks in turn;
 *    the helper keeps the holder alive while it runs.
 * Anything else is an error naming the reason, never a silent join.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../idmap/idmap.h"

/* @st (named @what) is of @type, the caller's, and only the caller's to write. */
static int check_stat(const struct stat *st, mode_t type, const char *what, struct ubx_err *e)
{
	if ((st->st_mode & S_IFMT) != type)
		return ubx_refuse(e, EPERM, "%s is not a %s", what,
				 type == S_IFDIR ? "directory" : type == S_IFSOCK ? "socket" : "regular file");
	if (st->st_uid != getuid())
		return ubx_refuse(e, EPERM, "%s belongs to uid %lu", what, (unsigned long)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return ubx_refuse(e, EPERM, "%s is writable by others", what);
	return 0;
}

int helper_check_dir(int dirfd, struct ubx_err *e)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return ubx_fail(e, errno, "stat the network's directory");
	return check_stat(&st, S_IFDIR, "its directory", e);
}

int helper_open_hosts(int dirfd, struct ubx_err *e)
{
	struct stat st;
	_cleanup_close_ int fd = openat(dirfd, "hosts", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? ubx_refuse(e, EPERM, "it has no hosts file") : ubx_fail(e, errno, "open its hosts file");
	if (fstat(fd, &st) < 0)
		return ubx_fail(e, errno, "stat its hosts file");
	int r = check_stat(&st, S_IFREG, "its hosts file", e);
	return r < 0 ? r : TAKE_FD(fd);
}

/* One sock_diag question about the unix socket with inode @ino: the payload
 * of its attribute @attr, @len bytes.  Return: 0, or -errno (-ENOENT: no
 * such socket in this network namespace, or no such attribute). */
static int diag_query(int nl, uint32_t ino, uint32_t show, unsigned short attr, void *out, size_t len)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_REQUEST },
		.req = { .sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_ino = ino, .udiag_show = show,
			 .udiag_cookie = { ~0u, ~0u } },
	};
	uint32_t buf[2048];

	if (send(nl, &msg, sizeof(msg), 0) < 0)
		return -errno;
	ssize_t n = recv(nl, buf, sizeof(buf), 0);
	const struct nlmsghdr *h = (const void *)buf;
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(h, (size_t)n))
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *err = NLMSG_DATA(h);
		return h->nlmsg_len >= NLMSG_LENGTH(sizeof(*err)) && err->error ? err->error : -EBADMSG;
	}
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
		return -EBADMSG;
	const char *p = (const char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct unix_diag_msg));
	const char *end = (const char *)h + h->nlmsg_len;
	while (end - p >= NLA_HDRLEN) {
		const struct nlattr *a = (const void *)p;
		if (a->nla_len < NLA_HDRLEN || a->nla_len > end - p)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == attr && a->nla_len >= NLA_HDRLEN + len) {
			memcpy(out, p + NLA_HDRLEN, len);
			return 0;
		}
		p += NLA_ALIGN(a->nla_len);
	}
	return -ENOENT;
}

/* The inode of the socket file the peer of @sock is bound to (the peer, an
 * accepted socket, lives in the network namespace of @sock).
 * Return: 0, -EOPNOTSUPP when the kernel cannot tell, or -ENOENT when the
 * peer is bound to no file. */
static int peer_file_ino(int sock, uint32_t *ino)
{
	struct unix_diag_vfs vfs = { 0 };
	struct stat st;
	uint32_t peer = 0;

	_cleanup_close_ int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0 || fstat(sock, &st) < 0)
		return -EOPNOTSUPP;
	if (diag_query(nl, (uint32_t)st.st_ino, UDIAG_SHOW_PEER, UNIX_DIAG_PEER, &peer, sizeof(peer)) < 0)
		return -EOPNOTSUPP; /* not even our own socket: no unix_diag here */
	int r = diag_query(nl, peer, UDIAG_SHOW_VFS, UNIX_DIAG_VFS, &vfs, sizeof(vfs));
	if (r < 0)
		return -ENOENT;
	*ino = vfs.udiag_vfs_ino;
	return 0;
}

/* The socket file "sock" in @dirfd, checked, into @st.  Return: 0, -ENOENT, -EPERM. */
static int stat_sock(int dirfd, struct stat *st, struct ubx_err *e)
{
	if (fstatat(dirfd, "sock", st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return check_stat(st, S_IFSOCK, "its socket", e);
}

/* Whether @sock reached the file "sock" in @dirfd, @before its stat then. */
static int check_reached(int dirfd, int sock, const struct stat *before, struct ubx_err *e)
{
	struct stat now;
	uint32_t ino;

	int r = stat_sock(dirfd, &now, e);
	if (r == -ENOENT)
		return -ECONNREFUSED; /* the helper left just now (or a fake did): none runs */
	if (r < 0)
		return r;
	r = peer_file_ino(sock, &ino);
	if (r == -ENOENT)
		return ubx_refuse(e, EPERM, "it is not bound to its socket file");
	if (r == 0 ? ino != (uint32_t)now.st_ino : now.st_ino != before->st_ino || now.st_dev != before->st_dev)
		return ubx_refuse(e, EPERM, "the socket reached is not its socket file");
	return 0;
}

int helper_connect(int dirfd, struct ubx_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	int r = stat_sock(dirfd, &st, e);
	if (r < 0)
		return r;
	/* Through the checked directory: its path cannot be swapped meanwhile. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/sock", dirfd);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ubx_fail(e, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	/* Until it is accepted the peer has no inode to ask about; the
	 * helper greets right after accept(). */
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return ubx_fail(e, errno, "poll");
	if (!(p.revents & POLLIN))
		return -ECONNREFUSED; /* it hung up without a greeting: it is leaving */
	r = check_reached(dirfd, fd, &st, e);
	return r < 0 ? r : TAKE_FD(fd);
}

/* Whether the namespace @type ("pid", "user") of process @pid is the file @fd
 * (-1: the caller's own). */
static bool ns_is(pid_t pid, const char *type, int fd)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, type);
	if (stat(path, &a) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/ns/%s", type);
	if (fd >= 0 ? fstat(fd, &b) < 0 : stat(path, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* @userns against the holder's namespace (@parent, or looked up). */
static int check_userns(int userns, int parent, struct ubx_err *e)
{
	_cleanup_close_ int holder = parent >= 0 ? -1 : holder_userns(getuid(), e);
	if (parent < 0 && holder < 0) {
		char why[200];
		snprintf(why, sizeof(why), "%.199s", e->msg);
		return ubx_refuse(e, EPERM, "%s, which its helper keeps running", why);
	}
	return idmap_userns_check(userns, parent >= 0 ? parent : holder, "the id-map holder's", getuid(), e);
}

int helper_check_peer(int sock, int userns, int parent, pid_t *pid, struct ubx_err *e)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	*pid = 0;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return ubx_fail(e, errno, "SO_PEERCRED");
	if (cred.uid != getuid())
		return ubx_refuse(e, EPERM, "it runs as uid %lu", (unsigned long)cred.uid);
	if (cred.pid <= 0)
		return ubx_refuse(e, EPERM, "it runs in a pid namespace above yours");
	*pid = cred.pid;
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
	if (pidfd < 0)
		return ubx_refuse(e, EPERM, "its process %d is gone", (int)cred.pid);
	if (!ns_is(cred.pid, "pid", -1))
		return ubx_refuse(e, EPERM, "its process %d runs in another pid namespace (a sandbox's?)", (int)cred.pid);
	if (userns >= 0 && !ns_is(cred.pid, "user", userns))
		return ubx_refuse(e, EPERM, "the user namespace it sent is not its own");
	int r = userns >= 0 ? check_userns(userns, parent, e) : 0;
	if (r < 0)
		return r;
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) /* the same process throughout */
		return ubx_refuse(e, EPERM, "its process %d is gone", (int)cred.pid);
	return 0;
}
