/* SPDX-License-Identifier: MIT */
/*
 * daemon.h - start usbox's long-lived helpers (the id-map holder, a user
 * network's helper): forks, never re-executions.
 */
#ifndef USBOX_COMMON_DAEMON_H
#define USBOX_COMMON_DAEMON_H

#include <sys/types.h>

#include "error.h"

/*
 * daemon_spawn() - run @run(@arg) in a grandchild that outlives the caller:
 * in a session of its own, titled @title, with fds 0-2 on /dev/null, fd 3 a
 * SEQPACKET socket to the caller and nothing else open, cwd "/", SIGINT,
 * SIGHUP and SIGPIPE ignored and no signal blocked.  Before @run it makes a
 * user namespace of its own and sends its pid over fd 3.  @run must not
 * return.
 * Return: the daemon's pid with *@sock the caller's end of the socket, or a
 * negative errno.
 */
pid_t daemon_spawn(const char *title, void (*run)(void *arg), void *arg, int *sock, struct ubx_err *e);

#endif
