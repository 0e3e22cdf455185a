/* SPDX-License-Identifier: MIT */
/*
 * fdpass.h - hand a file descriptor to another process over a unix socket.
 */
#ifndef USBOX_COMMON_FDPASS_H
#define USBOX_COMMON_FDPASS_H

/*
 * fd_send() - send @fd with the one-byte message @tag over @sock (SCM_RIGHTS).
 * Return: 0 or a negative errno.
 */
int fd_send(int sock, int fd, char tag);

/*
 * fd_receive() - receive one fd (close-on-exec) and its tag from @sock.
 * Return: the fd, -EPIPE when the peer closed, or another negative errno.
 */
int fd_receive(int sock, char *tag);

#endif
