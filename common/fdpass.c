/* SPDX-License-Identifier: MIT */
#include "fdpass.h"

#include <errno.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"

union fd_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int))];
};

int fd_send_msg(int sock, int fd, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union fd_cmsg u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };

	memset(u.buf, 0, sizeof(u.buf));
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

int fd_send(int sock, int fd, char tag)
{
	return fd_send_msg(sock, fd, &tag, 1);
}

int fd_recv(int sock, void *buf, size_t len, size_t *got, int *fd)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union fd_cmsg u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n;

	*fd = -1;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return n == 0 ? -EPIPE : -errno;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	*got = (size_t)n;
	return 0;
}

int fd_receive_msg(int sock, void *buf, size_t len, size_t *got)
{
	size_t n;
	int fd;
	int r = fd_recv(sock, buf, len, &n, &fd);
	if (r < 0)
		return r;
	if (fd < 0)
		return -EBADMSG;
	if (got)
		*got = n;
	return fd;
}

int fd_receive(int sock, char *tag)
{
	char t = 0;
	int fd = fd_receive_msg(sock, &t, 1, NULL);
	if (fd >= 0 && tag)
		*tag = t;
	return fd;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int fd_close_all_but(const int *keep, size_t n)
{
	return fd_close_from_but(3, keep, n);
}

int fd_close_from_but(unsigned from, const int *keep, size_t n)
{
	int sorted[16] = { 0 };
	size_t m = 0;
	unsigned lo = from;

	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)from)
			continue;
		if (m == ARRAY_SIZE(sorted))
			return -E2BIG;
		sorted[m++] = keep[i];
	}
	qsort(sorted, m, sizeof(int), cmp_int);
	for (size_t i = 0; i < m; i++) {
		if ((unsigned)sorted[i] < lo)
			continue; /* a duplicate */
		if ((unsigned)sorted[i] > lo && close_range(lo, (unsigned)sorted[i] - 1, 0) < 0)
			return -errno;
		lo = (unsigned)sorted[i] + 1;
	}
	return close_range(lo, ~0U, 0) < 0 ? -errno : 0;
}
