/* SPDX-License-Identifier: MIT */
/*
 * portdirect.h - direct -p ports: the supervisor's side of the guards in
 * seccomp/guard.h.  It answers the sandbox's connect(), bind(), listen() and
 * shutdown() notifications: a bind() to a forwarded TCP port gets usbox's
 * host listener in place of its socket (so the server accepts the host's
 * connections itself, at full speed, and sees the real client), and no
 * socket of the host's namespace is ever connected or made to listen anew.
 */
#ifndef USBOX_NETNS_PORTDIRECT_H
#define USBOX_NETNS_PORTDIRECT_H

#include <stdint.h>

#include "../common/error.h"

struct portfwd;
struct portdirect;

/*
 * portdirect_cookie() - the cookie of the calling thread's network namespace
 * (the "host" whose sockets the sandbox may hold but never connect).
 * Return: 0 with *@out set, or a negative errno.
 */
int portdirect_cookie(uint64_t *out, struct ubx_err *e);

/*
 * portdirect_start() - answer @notify's notifications in a thread of this
 * process, with every signal blocked.
 * @notify: the guard's seccomp listener; taken (closed by portdirect_stop())
 * @pf:     the forwarded ports whose listeners a bind() takes; the caller
 *          keeps it alive until portdirect_stop()
 * @host:   portdirect_cookie() of the host's namespace
 *
 * Return: 0 with *@out set, or a negative errno (@notify closed).
 */
int portdirect_start(int notify, struct portfwd *pf, uint64_t host, struct portdirect **out, struct ubx_err *e);

/* portdirect_stop() - end the thread and release everything; NULL is fine. */
void portdirect_stop(struct portdirect *pd);

/*
 * portdirect_serve() - answer @notify's notifications here until no process
 * is left under its filter (`usbox exec`'s guard, served by a process of its
 * own); no listener is ever handed over.
 */
void portdirect_serve(int notify, uint64_t host);

#endif
