/* SPDX-License-Identifier: MIT */
#include "netns.h"

#include <errno.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

static void sock_freep(struct nl_sock **s)
{
	if (*s)
		nl_socket_free(*s);
}

static void link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}

int netns_loopback_up(struct ubx_err *e)
{
	__attribute__((cleanup(sock_freep))) struct nl_sock *sk = nl_socket_alloc();
	__attribute__((cleanup(link_putp))) struct rtnl_link *lo = NULL;
	__attribute__((cleanup(link_putp))) struct rtnl_link *change = rtnl_link_alloc();
	int r;

	if (!sk || !change)
		return ubx_fail(e, ENOMEM, "netlink");
	if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0)
		return ubx_fail(e, 0, "netlink connect: %s", nl_geterror(r));
	if ((r = rtnl_link_get_kernel(sk, 0, "lo", &lo)) < 0)
		return ubx_fail(e, 0, "find lo: %s", nl_geterror(r));
	rtnl_link_set_flags(change, IFF_UP);
	if ((r = rtnl_link_change(sk, lo, change, 0)) < 0)
		return ubx_fail(e, 0, "bring lo up: %s", nl_geterror(r));
	return 0;
}
