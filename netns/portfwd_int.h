/* SPDX-License-Identifier: MIT */
/*
 * portfwd_int.h - what portfwd.c (ports, sockets inside) and portrelay.c
 * (the relay thread) share.  Private to netns/.
 */
#ifndef USBOX_NETNS_PORTFWD_INT_H
#define USBOX_NETNS_PORTFWD_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "netns.h"

#define PF_MAX_CONNS 1024      /* TCP connections relayed at once, at most (fewer under a low RLIMIT_NOFILE) */
#define PF_MAX_UDP_PEERS 64    /* per UDP port */
#define PF_BUF_BYTES (64 * 1024)
#define PF_POOL 8              /* IPv4 TCP sockets inside asked for at once */

struct pf_half {              /* one direction: bytes read from one side, not yet written to the other */
	char *buf;            /* NULL when nothing waits */
	uint32_t off, len;
	bool eof;             /* the reading side said EOF (and the writing side was shut down) */
};

struct pf_conn {
	int fd[2];            /* [0] host side, [1] sandbox side; -1 when free */
	uint32_t ev[2];       /* what epoll watches on each */
	bool connecting;      /* fd[1] still connecting */
	bool inside6;         /* fd[1] is the IPv6 socket to [::1] */
	const struct portfwd_spec *spec;
	struct pf_half dir[2]; /* [0] host -> sandbox, [1] sandbox -> host */
};

struct pf_udp_peer {
	struct sockaddr_storage client;
	socklen_t clen;
	int via;              /* the listener's socket it wrote to (0 or 1) */
	int fd;               /* inside, connected to the sandbox port; -1 when free */
};

struct pf_listener {
	struct portfwd_spec spec;
	int fd[2];            /* [0] the address asked for, or 0.0.0.0; [1] [::] beside 0.0.0.0, or -1 */
	_Atomic bool handed[2]; /* fd[k] was handed to a server inside: not watched */
	_Atomic unsigned to;  /* once a listener of this sandbox port was handed (of this
			       * spec or another): 1 + 2 * its index + its k, where this
			       * one's connections go instead of inside; 0 before */
	uint64_t cookie[2];   /* fd[k]'s SO_COOKIE, once handed */
	struct pf_udp_peer peers[PF_MAX_UDP_PEERS];
};

struct portfwd {
	struct pf_listener *l;
	size_t n;
	int factory;          /* to the init: sockets of the sandbox's network namespace */
	pthread_mutex_t take; /* held by the relay across an accept, and by portfwd_take(): a
			       * listener handed over is never accepted on after */
	int ep;               /* the relay thread's epoll */
	int wake;             /* eventfd: readable when the thread must end */
	bool started;
	bool paused;          /* listeners not watched: the table is full, or out of descriptors */
	uint64_t resume_at;   /* out of descriptors: when to look again (CLOCK_MONOTONIC, ms) */
	pthread_t thread;
	struct pf_conn *conns;
	size_t max_conns, n_conns;
	int pool[PF_POOL];    /* IPv4 TCP sockets inside, not yet used */
	size_t n_pool;
	char buf[PF_BUF_BYTES]; /* the thread's scratch */
};

/*
 * pf_inside_socket() - a fresh socket of the sandbox's network namespace
 * (@udp, @v6 choose which), from the pool or the init.
 * Return: the fd, or -1 (also when the thread is told to end meanwhile).
 */
int pf_inside_socket(struct portfwd *pf, bool udp, bool v6);

/* pf_relay_main() - the relay thread: @arg is the struct portfwd. */
void *pf_relay_main(void *arg);

/* pf_conn_close() - close a connection's sockets and free its buffers. */
void pf_conn_close(struct portfwd *pf, struct pf_conn *c);

#endif
