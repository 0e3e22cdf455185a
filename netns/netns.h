/* SPDX-License-Identifier: MIT */
/*
 * netns.h - network namespace set-up, through netlink (libnl-route).
 */
#ifndef USBOX_NETNS_H
#define USBOX_NETNS_H

#include "../common/error.h"

/*
 * netns_loopback_up() - bring up "lo" in the calling process's network
 * namespace (which must be its own, with CAP_NET_ADMIN over it).
 * Return: 0 or a negative errno.
 */
int netns_loopback_up(struct ubx_err *e);

#endif
