/* SPDX-License-Identifier: MIT */
/*
 * fdpass.h - hand a file descriptor to another process over a unix socket,
 * and keep the ones nobody handed on from leaking.
 */
#ifndef USBOX_COMMON_FDPASS_H
#define USBOX_COMMON_FDPASS_H

#include <stddef.h>

/*
 * fd_send_msg() - send @fd with the message @buf of @len bytes (at least 1)
 * over @sock (SCM_RIGHTS), in one datagram.
 * Return: 0 or a negative errno.
 */
int fd_send_msg(int sock, int fd, const void *buf, size_t len);

/* fd_send() - fd_send_msg() with the one-byte message @tag. */
int fd_send(int sock, int fd, char tag);

/*
 * fd_receive_msg() - receive one fd (close-on-exec) and up to @len bytes of
 * message into @buf; *@got (when not NULL) is the message's length.
 * Return: the fd, -EPIPE when the peer closed, or another negative errno
 * (-EBADMSG when the message carried no descriptor).
 */
int fd_receive_msg(int sock, void *buf, size_t len, size_t *got);

/*
 * fd_recv() - receive one message into @buf (*@got bytes) and the descriptor
 * it carries, if any, into *@fd (-1 when none).
 * Return: 0, -EPIPE when the peer closed, or another negative errno.
 */
int fd_recv(int sock, void *buf, size_t len, size_t *got, int *fd);

/*
 * fd_receive() - receive one fd (close-on-exec) and its tag from @sock.
 * Return: the fd, -EPIPE when the peer closed, or another negative errno.
 */
int fd_receive(int sock, char *tag);

/*
 * fd_close_all_but() - close every descriptor from 3 up except the @n in
 * @keep (which need not be sorted; negative entries are ignored), so that
 * nothing the caller inherited reaches a process that runs untrusted code.
 * Return: 0 or a negative errno.
 */
int fd_close_all_but(const int *keep, size_t n);

/* fd_close_from_but() - the same from descriptor @from up (an OCI engine's
 * --preserve-fds keeps 3 .. @from - 1). */
int fd_close_from_but(unsigned from, const int *keep, size_t n);

#endif
