/* SPDX-License-Identifier: MIT */
/*
 * netns.h - network namespace set-up, through netlink (libnl-route).
 */
#ifndef USBOX_NETNS_H
#define USBOX_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"

struct pollfd;

/* The user-mode network, as slirp4netns lays it out. */
#define NETNS_TAP_NAME "eth0"
#define NETNS_TAP_MTU 65520
#define NETNS_GUEST_ADDR "10.0.2.100"
#define NETNS_GUEST_PREFIX 24
#define NETNS_GATEWAY "10.0.2.2"
#define NETNS_DNS "10.0.2.3"

/*
 * netns_loopback_up() - bring up "lo" in the calling process's network
 * namespace (which must be its own, with CAP_NET_ADMIN over it).
 * Return: 0 or a negative errno.
 */
int netns_loopback_up(struct ubx_err *e);

/*
 * netns_tap_setup() - turn @tun_fd (an open /dev/net/tun) into the TAP device
 * NETNS_TAP_NAME of the calling process's network namespace, and configure it
 * with libnl-route: MTU, up, NETNS_GUEST_ADDR/NETNS_GUEST_PREFIX and a default
 * route via NETNS_GATEWAY.  @tun_fd stays the TAP's fd (non-blocking).
 * Return: 0 or a negative errno.
 */
int netns_tap_setup(int tun_fd, struct ubx_err *e);

/* A running user-mode network stack (libslirp), driven by the caller's poll loop. */
struct netns_slirp;

/*
 * netns_slirp_new() - start libslirp for the TAP @tap_fd (taken over).
 * @allow_host_loopback lets the sandbox reach the host's 127.0.0.1 as
 * NETNS_GATEWAY.  libslirp is loaded with dlopen() here, so a sandbox without
 * this network never loads it.
 * Return: 0 with *@out set, or a negative errno.
 */
int netns_slirp_new(int tap_fd, bool allow_host_loopback, struct netns_slirp **out, struct ubx_err *e);

/*
 * netns_slirp_fill() - append the descriptors to poll to @fds (from index
 * *@n, at most @cap) and lower *@timeout_ms to the next timer.
 */
void netns_slirp_fill(struct netns_slirp *s, struct pollfd *fds, size_t *n, size_t cap, int *timeout_ms);

/* netns_slirp_dispatch() - handle what poll() reported in @fds. */
void netns_slirp_dispatch(struct netns_slirp *s, const struct pollfd *fds);

/* netns_slirp_free() - stop the stack and close the TAP. */
void netns_slirp_free(struct netns_slirp *s);

/* One -p [IP:]HOSTPORT:SANDBOXPORT[/tcp|/udp]. */
struct portfwd_spec {
	uint32_t host_ip;      /* network order; 0: every address */
	uint16_t host_port;
	uint16_t sandbox_port;
	bool udp;
};

/*
 * portfwd_parse() - parse one -p value into @spec.
 * Return: 0 or -EINVAL.
 */
int portfwd_parse(const char *arg, struct portfwd_spec *spec);

/* Forwarded ports, driven by the caller's poll loop. */
struct portfwd;

/*
 * portfwd_open() - bind every host-side socket now, before anything starts,
 * so that a port in use or a privileged port is a clean error.
 * Return: 0 with *@out set, or a negative errno naming the port.
 */
int portfwd_open(const struct portfwd_spec *specs, size_t n, struct portfwd **out, struct ubx_err *e);

/*
 * portfwd_attach() - start forwarding: sockets inside the sandbox come from
 * @factory, a unix socket to a process in the sandbox's network namespace
 * that answers a byte 'T' or 'U' with a fresh TCP or UDP socket (SCM_RIGHTS).
 * Connections go to 127.0.0.1:SANDBOXPORT inside.
 */
void portfwd_attach(struct portfwd *pf, int factory);

/* portfwd_fill() / portfwd_dispatch() - as netns_slirp_fill() / _dispatch(). */
void portfwd_fill(struct portfwd *pf, struct pollfd *fds, size_t *n, size_t cap);
void portfwd_dispatch(struct portfwd *pf, const struct pollfd *fds);

/* portfwd_free() - close every socket. */
void portfwd_free(struct portfwd *pf);

#endif
