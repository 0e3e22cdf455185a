/* SPDX-License-Identifier: MIT */
/*
 * guard.h - the guards of a sandbox whose -p ports are direct: the server
 * inside is handed usbox's host-side listening socket, so the sandbox holds
 * TCP sockets of the host's network namespace, and these guards keep it from
 * ever connecting (or listening anew) from there.
 *
 * DOC: Theory of operation
 * Two layers, both put on the command's process before execve and inherited
 * by everything it starts (seccomp_guard_install()):
 *
 *  - Landlock (network rules, ABI 4 and later) with TCP bind and connect
 *    handled and nothing allowed: no process in the sandbox can bind() or
 *    connect() a TCP socket itself, whatever descriptor it names, with no
 *    race the kernel does not close.  (An AF_UNSPEC "disconnect" passes.)
 *  - a small seccomp filter, beside the sandbox's own, whose user
 *    notifications go to the supervisor (netns/portdirect.c): connect(),
 *    bind(), listen() and shutdown() other than SHUT_WR.  The supervisor
 *    performs connect(), listen() and shutdown() itself on a pidfd_getfd()
 *    copy of the very socket named, and refuses them on a socket of the
 *    host's namespace (but listen() on the listener it handed over); it
 *    answers a bind() to a forwarded port by putting its host listener in
 *    place of the socket, and makes any other TCP bind() itself (refusing a
 *    port below 1024 to a caller without CAP_NET_BIND_SERVICE, as the kernel
 *    does).  The sockets' device ioctls (0x8910-0x89ff), which
 *    read or change the interfaces, ARP and bridges of the socket's
 *    namespace, are notified too (the supervisor refuses them on a host
 *    socket); wireless ones fail with EOPNOTSUPP.  So are the socket options
 *    that name an interface (SO_BINDTODEVICE, SO_BINDTOIFINDEX, IP_UNICAST_IF,
 *    IPV6_UNICAST_IF: whether they succeed tells which exist) or put another
 *    protocol over TCP (TCP_ULP: smc's connect is not TCP's, Landlock would
 *    not see it), and those that tell which interface a packet came in on
 *    (IP_PKTOPTIONS, IPV6_2292PKTOPTIONS).  send*() with MSG_FASTOPEN
 *    (a connect Landlock does not see) fail with EOPNOTSUPP.  The i386 ABI's socket calls, whose
 *    socketcall() arguments lie in memory out of a filter's reach, fail with
 *    ENOSYS; so does every other architecture than the native one.
 *
 * Only x86_64 has the program; elsewhere seccomp_guard_available() says no
 * and -p relays.
 */
#ifndef USBOX_SECCOMP_GUARD_H
#define USBOX_SECCOMP_GUARD_H

#include <linux/filter.h>
#include <stdbool.h>

#include "../common/error.h"

/*
 * seccomp_guard_available() - whether this kernel and build can guard direct
 * ports: Landlock's network rules, seccomp's user notifications with
 * descriptor injection, SO_NETNS_COOKIE, an x86_64 build.
 * @e: when not, why (one line)
 *
 * Return: 0 when it can, else a negative errno.
 */
int seccomp_guard_available(struct ubx_err *e);

/*
 * seccomp_guard_program() - the guard's classic-BPF program (static).
 * @len: its length in instructions
 *
 * Return: the program, or NULL where there is none (not x86_64).
 */
const struct sock_filter *seccomp_guard_program(unsigned short *len);

/*
 * seccomp_guard_install() - put both guards on the calling thread (which has
 * set no_new_privs), before the sandbox's own filter.
 * @e: on failure, what failed
 *
 * Return: the seccomp listener (close-on-exec), or a negative errno.
 */
int seccomp_guard_install(struct ubx_err *e);

#endif
