/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what netns/'s files share: netlink pieces for the user
 * networks' helper, and the definition files.
 * Private to netns/.
 */
#ifndef USBOX_NETNS_INTERNAL_H
#define USBOX_NETNS_INTERNAL_H

#include <stdint.h>

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
 * asks for the count, 'q' stops an unused helper; each gets a netd_reply. */
#define GREETING "usbox-net 1"

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

/* netdef_delete() - remove the definition file of @name. */
int netdef_delete(const char *name, struct ubx_err *e);

#endif
