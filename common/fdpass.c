/* SPDX-License-Identifier: MIT */
#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

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
