/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what netns/'s files share: netlink pieces for the user
 * networks' helper, and the definition files.
 * Private to netns/.
 */
#ifndef USBOX_NETNS_INTERNAL_H
#define USBOX_NETNS_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/error.h"
#include "netns.h"

struct nl_sock;

#define NETNS_BRIDGE_NAME "br0"
#define NETNS_UPLINK_NAME "tap0"

/*
 * nl_bridge_setup() - in the calling process's (fresh) network namespace:
 * lo up, the bridge NETNS_BRIDGE_NAME, and @tun_fd made the TAP
 * NETNS_UPLINK_NAME (non-blocking) on that bridge.
 * Return: the bridge's ifindex, or a negative errno.
 */
int nl_bridge_setup(int tun_fd, struct ubx_err *e);

/*
 * nl_veth_add() - create the veth pair @name (up, on bridge @master) and
 * NETNS_TAP_NAME in the network namespace @peer_netns, both at NETNS_TAP_MTU.
 * Return: 0, -EEXIST when @name exists, or another negative errno.
 */
int nl_veth_add(struct nl_sock *sk, const char *name, int master, int peer_netns, struct ubx_err *e);

/* nl_link_delete() - delete the link @name (best effort). */
void nl_link_delete(struct nl_sock *sk, const char *name);

/* The helper's protocol (SEQPACKET): on accept it sends GREETING with its
 * user namespace; then 'a' NAME with a network namespace attaches it, 's'
 * asks for the count, 'q' stops an unused helper; each gets a netd_reply.
 * (2: the helper keeps the id-map holder alive, as clients check.) */
#define GREETING "usbox-net 2"

struct netd_reply {
	struct ubx_err err;
	struct netns_lease lease;
	uint32_t users;
};

/*
 * netd_spawn() - start the helper of @n with its files in @dir, from inside
 * the id-map holder's user namespace.
 * Return: 0 once it listens, or its set-up error.
 */
int netd_spawn(const struct netns_network *n, const char *dir, struct ubx_err *e);

/* What frames from a sandbox may reach libslirp (framefilter.c). */
struct frame_policy {
	bool allow_host;        /* the network allows the host's loopback: its own addresses too */
	size_t n4, n6;
	uint32_t *host4;        /* the host's own addresses (network byte order) */
	struct in6_addr *host6;
};

/*
 * frame_allowed() - whether the Ethernet frame @frame of @len bytes, sent by
 * a sandbox, may go to libslirp: ARP, or IPv4/IPv6 with a whole header and a
 * destination that is neither loopback nor "this host" (0.0.0.0/8, ::/96,
 * and their ::ffff: forms) nor, unless @p->allow_host, one of the host's own
 * addresses.  Pure: no system calls.
 */
bool frame_allowed(const uint8_t *frame, size_t len, const struct frame_policy *p);

/*
 * frame_reject() - the answer to a frame that frame_allowed() refused: an
 * ICMP (or ICMPv6) "administratively prohibited" back to its sender, from
 * the address it was sent to, so that a connect() inside fails at once.
 * Nothing for ARP, ICMP itself, later fragments or bad headers.  @cap must
 * be at least FRAME_REJECT_MAX.  Pure: no system calls.
 * Return: the answer's length in @out, or 0 for none.
 */
#define FRAME_REJECT_MAX 128
size_t frame_reject(const uint8_t *frame, size_t len, uint8_t *out, size_t cap);

/*
 * frame_policy_load() - (re)fill @p's list of the host's own addresses from
 * getifaddrs() of the calling process's network namespace.  On failure the
 * old list stays.
 * Return: 0 or a negative errno.
 */
int frame_policy_load(struct frame_policy *p, struct ubx_err *e);

/* frame_policy_clear() - free the address lists of @p. */
void frame_policy_clear(struct frame_policy *p);

/*
 * Checks that a user network's helper is the caller's own (trust.c).  Each
 * returns -EPERM with the reason alone in @e when it is not.
 *
 * helper_check_dir() - the helper's directory @dirfd (opened O_NOFOLLOW) is
 * the caller's and only the caller's to write.
 */
int helper_check_dir(int dirfd, struct ubx_err *e);

/*
 * helper_connect() - connect to the socket file "sock" in @dirfd, checked
 * like the directory, and check that the socket reached is bound to it.
 * Return: the socket; -ENOENT or -ECONNREFUSED when no helper runs; -EPERM;
 * or another negative errno (@e filled only for -EPERM).
 */
int helper_connect(int dirfd, struct ubx_err *e);

/*
 * helper_check_peer() - the process at the other end of @sock (its pid in
 * *@pid, or 0) runs as the caller's uid, in the caller's pid namespace, and
 * is alive; with @userns >= 0 (what its greeting sent), that is its own user
 * namespace, owned by the caller and a child of @parent: the id-map holder's
 * user namespace (-1: look it up with holder_userns(), which needs the caller
 * in its own user namespace).
 * Return: 0 or a negative errno.
 */
int helper_check_peer(int sock, int userns, int parent, pid_t *pid, struct ubx_err *e);

/*
 * helper_open_hosts() - open the helper's hosts file in @dirfd (O_PATH, no
 * symlink), checked like the directory.
 * Return: the fd or a negative errno.
 */
int helper_open_hosts(int dirfd, struct ubx_err *e);

/* netdef_delete() - remove the definition file of @name. */
int netdef_delete(const char *name, struct ubx_err *e);

#endif
