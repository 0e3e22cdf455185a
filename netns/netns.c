/* SPDX-License-Identifier: MIT */
#include "netns.h"
#include "internal.h"

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../common/cleanup.h"

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

static void addr_putp(struct nl_addr **a)
{
	if (*a)
		nl_addr_put(*a);
}

static void rtaddr_putp(struct rtnl_addr **a)
{
	if (*a)
		rtnl_addr_put(*a);
}

static void route_putp(struct rtnl_route **r)
{
	if (*r)
		rtnl_route_put(*r);
}

#define _cleanup_nlsock_ __attribute__((cleanup(sock_freep)))
#define _cleanup_link_ __attribute__((cleanup(link_putp)))
#define _cleanup_nladdr_ __attribute__((cleanup(addr_putp)))

static int connect_route(struct nl_sock **out, struct ubx_err *e)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;
	if (!sk)
		return ubx_fail(e, ENOMEM, "netlink");
	if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		nl_socket_free(sk);
		return ubx_fail(e, 0, "netlink connect: %s", nl_geterror(r));
	}
	*out = sk;
	return 0;
}

/* Sets @name's MTU (when non-zero) and brings it up; returns its ifindex. */
static int link_up(struct nl_sock *sk, const char *name, unsigned mtu, struct ubx_err *e)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
	int r;

	if (!change)
		return ubx_fail(e, ENOMEM, "netlink");
	if ((r = rtnl_link_get_kernel(sk, 0, name, &link)) < 0)
		return ubx_fail(e, 0, "find %s: %s", name, nl_geterror(r));
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	rtnl_link_set_flags(change, IFF_UP);
	if ((r = rtnl_link_change(sk, link, change, 0)) < 0)
		return ubx_fail(e, 0, "bring %s up: %s", name, nl_geterror(r));
	return rtnl_link_get_ifindex(link);
}

static int add_address(struct nl_sock *sk, int ifindex, const char *cidr, struct ubx_err *e)
{
	__attribute__((cleanup(rtaddr_putp))) struct rtnl_addr *a = rtnl_addr_alloc();
	_cleanup_nladdr_ struct nl_addr *local = NULL;
	int family = strchr(cidr, ':') ? AF_INET6 : AF_INET;
	int r;

	if (!a || nl_addr_parse(cidr, family, &local) < 0)
		return ubx_fail(e, EINVAL, "address %s", cidr);
	if (family == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD); /* usable at once: nobody else is on this link */
	rtnl_addr_set_ifindex(a, ifindex);
	if ((r = rtnl_addr_set_local(a, local)) < 0 || (r = rtnl_addr_add(sk, a, 0)) < 0)
		return ubx_fail(e, 0, "add address %s: %s", cidr, nl_geterror(r));
	return 0;
}

static int add_default_route(struct nl_sock *sk, int ifindex, const char *gw, struct ubx_err *e)
{
	__attribute__((cleanup(route_putp))) struct rtnl_route *route = rtnl_route_alloc();
	_cleanup_nladdr_ struct nl_addr *dst = NULL;
	_cleanup_nladdr_ struct nl_addr *via = NULL;
	int r;

	int family = strchr(gw, ':') ? AF_INET6 : AF_INET;
	if (!route || nl_addr_parse(family == AF_INET ? "0.0.0.0/0" : "::/0", family, &dst) < 0 ||
	    nl_addr_parse(gw, family, &via) < 0)
		return ubx_fail(e, EINVAL, "route via %s", gw);
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	if (!nh)
		return ubx_fail(e, ENOMEM, "netlink");
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, via);
	rtnl_route_add_nexthop(route, nh); /* the route owns it now */
	rtnl_route_set_family(route, (uint8_t)family);
	if ((r = rtnl_route_set_dst(route, dst)) < 0 || (r = rtnl_route_add(sk, route, NLM_F_CREATE)) < 0)
		return ubx_fail(e, 0, "add the default route via %s: %s", gw, nl_geterror(r));
	return 0;
}

static bool lease_has_ipv6(const struct netns_lease *l)
{
	static const uint8_t none[16];
	return memcmp(l->addr6, none, sizeof(none)) != 0 && access("/proc/sys/net/ipv6", F_OK) == 0;
}

static int configure_ipv6(struct nl_sock *sk, int ifindex, const struct netns_lease *l, struct ubx_err *e)
{
	char cidr[INET6_ADDRSTRLEN + 8], gw[INET6_ADDRSTRLEN];
	int r;

	snprintf(cidr, sizeof(cidr), "%s/64", inet_ntop(AF_INET6, l->addr6, gw, sizeof(gw)));
	if ((r = add_address(sk, ifindex, cidr, e)) < 0)
		return r;
	return add_default_route(sk, ifindex, inet_ntop(AF_INET6, l->gateway6, gw, sizeof(gw)), e);
}

static int iface_configure(struct nl_sock *sk, const char *name, unsigned mtu, const struct netns_lease *l,
			   struct ubx_err *e)
{
	char cidr[32], gw[INET_ADDRSTRLEN];
	int r;

	int ifindex = link_up(sk, name, mtu, e);
	if (ifindex < 0)
		return ifindex;
	snprintf(cidr, sizeof(cidr), "%s/%u", inet_ntop(AF_INET, &l->addr, gw, sizeof(gw)), (unsigned)l->prefix);
	if ((r = add_address(sk, ifindex, cidr, e)) < 0 ||
	    (r = add_default_route(sk, ifindex, inet_ntop(AF_INET, &l->gateway, gw, sizeof(gw)), e)) < 0)
		return r;
	return lease_has_ipv6(l) ? configure_ipv6(sk, ifindex, l, e) : 0;
}

int netns_iface_setup(const char *name, unsigned mtu, const struct netns_lease *l, struct ubx_err *e)
{
	_cleanup_nlsock_ struct nl_sock *sk = NULL;
	int r = connect_route(&sk, e);
	return r < 0 ? r : iface_configure(sk, name, mtu, l, e);
}

void netns_default_lease(struct netns_lease *l)
{
	*l = (struct netns_lease){ .prefix = NETNS_GUEST_PREFIX };
	inet_pton(AF_INET, NETNS_GUEST_ADDR, &l->addr);
	inet_pton(AF_INET, NETNS_GATEWAY, &l->gateway);
	inet_pton(AF_INET, NETNS_DNS, &l->dns);
	inet_pton(AF_INET6, "fd00::100", l->addr6);
	inet_pton(AF_INET6, "fd00::2", l->gateway6);
	inet_pton(AF_INET6, "fd00::3", l->dns6);
}

int netns_tap_setup(int tun_fd, struct ubx_err *e)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	struct netns_lease l;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", NETNS_TAP_NAME);
	if (ioctl(tun_fd, TUNSETIFF, &ifr) < 0)
		return ubx_fail(e, errno, "create the TAP device %s", NETNS_TAP_NAME);
	/* Persistent, so that closing the fd at exit does not wait for the
	 * device's removal (~15 ms of network-stack teardown); the device goes
	 * with the sandbox's network namespace, which the kernel removes in the
	 * background once nothing refers to it. */
	if (ioctl(tun_fd, TUNSETPERSIST, 1) < 0)
		return ubx_fail(e, errno, "TAP %s", NETNS_TAP_NAME);
	if (fcntl(tun_fd, F_SETFL, O_NONBLOCK) < 0)
		return ubx_fail(e, errno, "TAP");
	netns_default_lease(&l);
	return netns_iface_setup(NETNS_TAP_NAME, NETNS_TAP_MTU, &l, e);
}

/* The user network's bridge namespace: lo, the bridge NETNS_BRIDGE_NAME and
 * the TAP of @tun_fd as its first port (all at the TAP's MTU, all up). */
int nl_bridge_setup(int tun_fd, struct ubx_err *e)
{
	_cleanup_nlsock_ struct nl_sock *sk = NULL;
	_cleanup_link_ struct rtnl_link *br = rtnl_link_alloc();
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int r;

	if (!br)
		return ubx_fail(e, ENOMEM, "netlink");
	if ((r = connect_route(&sk, e)) < 0 || (r = link_up(sk, "lo", 0, e)) < 0)
		return r;
	rtnl_link_set_name(br, NETNS_BRIDGE_NAME);
	rtnl_link_set_mtu(br, NETNS_TAP_MTU);
	rtnl_link_set_flags(br, IFF_UP);
	if ((r = rtnl_link_set_type(br, "bridge")) < 0 || (r = rtnl_link_add(sk, br, NLM_F_CREATE | NLM_F_EXCL)) < 0)
		return ubx_fail(e, 0, "create the bridge: %s", nl_geterror(r));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", NETNS_UPLINK_NAME);
	if (ioctl(tun_fd, TUNSETIFF, &ifr) < 0 || fcntl(tun_fd, F_SETFL, O_NONBLOCK) < 0)
		return ubx_fail(e, errno, "create the TAP device %s", NETNS_UPLINK_NAME);
	int master = link_up(sk, NETNS_BRIDGE_NAME, 0, e);
	if (master < 0 || (r = link_up(sk, NETNS_UPLINK_NAME, NETNS_TAP_MTU, e)) < 0)
		return master < 0 ? master : r;
	if ((r = rtnl_link_enslave_ifindex(sk, master, r)) < 0)
		return ubx_fail(e, 0, "add %s to the bridge: %s", NETNS_UPLINK_NAME, nl_geterror(r));
	return master;
}

int nl_veth_add(struct nl_sock *sk, const char *name, int master, int peer_netns, struct ubx_err *e)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_veth_alloc();
	if (!link)
		return ubx_fail(e, ENOMEM, "netlink");
	struct rtnl_link *peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, name);
	rtnl_link_set_mtu(link, NETNS_TAP_MTU);
	rtnl_link_set_master(link, master);
	rtnl_link_set_flags(link, IFF_UP);
	rtnl_link_set_name(peer, NETNS_TAP_NAME);
	rtnl_link_set_mtu(peer, NETNS_TAP_MTU);
	rtnl_link_set_ns_fd(peer, peer_netns);
	rtnl_link_put(peer);
	int r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		ubx_fail(e, 0, "create the veth pair %s: %s", name, nl_geterror(r));
		return r == -NLE_EXIST ? -EEXIST : -EINVAL;
	}
	return 0;
}

void nl_link_delete(struct nl_sock *sk, const char *name)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
	if (link) {
		rtnl_link_set_name(link, name);
		(void)rtnl_link_delete(sk, link);
	}
}

int netns_loopback_up(struct ubx_err *e)
{
	_cleanup_nlsock_ struct nl_sock *sk = NULL;
	int r = connect_route(&sk, e);
	if (r < 0)
		return r;
	r = link_up(sk, "lo", 0, e);
	return r < 0 ? r : 0;
}
