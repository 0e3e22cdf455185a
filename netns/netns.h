/* SPDX-License-Identifier: MIT */
/*
 * netns.h - network namespace set-up, through netlink (libnl-route).
 */
#ifndef USBOX_NETNS_H
#define USBOX_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/error.h"

struct pollfd;

/* The user-mode network, as slirp4netns lays it out. */
#define NETNS_TAP_NAME "eth0"
#define NETNS_TAP_MTU 65520
#define NETNS_GUEST_ADDR "10.0.2.100"
#define NETNS_GUEST_PREFIX 24
#define NETNS_GATEWAY "10.0.2.2"
#define NETNS_DNS "10.0.2.3"

/* An interface's addresses inside a sandbox (IPv4, network byte order). */
struct netns_lease {
	uint32_t addr;
	uint32_t gateway; /* the default route */
	uint32_t dns;     /* what /etc/resolv.conf names */
	uint8_t prefix;
	/* IPv6 (a /64), used when the kernel has IPv6: configured statically and
	 * without duplicate address detection, so it works from the first
	 * instruction of the command; all zero for none. */
	uint8_t addr6[16], gateway6[16], dns6[16];
};

/* netns_default_lease() - the slirp network's: NETNS_GUEST_ADDR and friends,
 * fd00::100/64 via fd00::2 (libslirp's default IPv6 layout, DNS fd00::3). */
void netns_default_lease(struct netns_lease *l);

/*
 * netns_iface_setup() - configure the existing interface @name of the calling
 * process's network namespace with libnl-route: MTU @mtu (0: keep), up, the
 * address and a default route from @l.
 * Return: 0 or a negative errno.
 */
int netns_iface_setup(const char *name, unsigned mtu, const struct netns_lease *l, struct ubx_err *e);

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

/*
 * Egress policy: --net-allow DEST and `network create --allow DEST`
 * (allow.c parses them, egress.c enforces them on every frame).  A DEST is
 * HOST (an exact name), *.DOMAIN (any name below DOMAIN, not DOMAIN itself),
 * an IP address or a CIDR (IPv6 in brackets when a port follows), each
 * optionally :PORT or :LOW-HIGH.
 */
#define NETNS_DNS_NAME_MAX 253
#define NETNS_ALLOW_MAX 256 /* rules a sandbox or network may have */

enum netns_allow_kind {
	NETNS_ALLOW_NAME,   /* exactly @name */
	NETNS_ALLOW_SUFFIX, /* any name ending in "." @name */
	NETNS_ALLOW_NET,    /* @addr/@prefix */
};

struct netns_allow {
	enum netns_allow_kind kind;
	uint8_t addr[16];   /* NET: IPv6, or IPv4 as ::ffff:A.B.C.D */
	uint8_t prefix;     /* NET: of the 128 bits (IPv4: 96 + its length) */
	uint16_t port_lo, port_hi; /* 0-65535 when no port is given */
	char name[NETNS_DNS_NAME_MAX + 1]; /* NAME, SUFFIX: lower case, no final dot */
};

/*
 * netns_allow_parse() - parse @text, one DEST or several separated by
 * commas, and append the rules to *@list (realloc()ed; *@n counts them).
 * Names are letters, digits, '-' and '_' in dot-separated labels of at most
 * 63; an address may not have host bits under its prefix.
 * Return: 0, or -EINVAL naming the bad DEST in @e (the list keeps what came
 * before it).
 */
int netns_allow_parse(const char *text, struct netns_allow **list, size_t *n, struct ubx_err *e);

/*
 * netns_allow_format() - @a as a DEST that netns_allow_parse() reads back
 * into the same rule, in @buf (truncated to @len).
 */
void netns_allow_format(const struct netns_allow *a, char *buf, size_t len);

/* A running user-mode network stack (libslirp), driven by the caller's poll loop. */
struct netns_slirp;

/*
 * netns_slirp_new() - start libslirp for the TAP @tap_fd (taken over; -1:
 * given later with netns_slirp_set_tap()), for
 * the network @net/@prefix in which it answers as @l->gateway and @l->dns
 * (@l NULL: the default 10.0.2.0/24 layout).
 * @allow_host_loopback lets the sandbox reach the host's 127.0.0.1 as the
 * gateway, and the host's own addresses.  Frames to a loopback address
 * itself never reach libslirp (frame_allowed()).  libslirp is loaded with
 * dlopen() here, so a sandbox without this network never loads it.
 * Return: 0 with *@out set, or a negative errno.
 */
int netns_slirp_new(int tap_fd, const struct netns_lease *l, bool allow_host_loopback, struct netns_slirp **out,
		    struct ubx_err *e);

/*
 * netns_slirp_set_tap() - give @s, made with no TAP (@tap_fd -1), its TAP
 * @tap_fd (taken over): libslirp can start while the sandbox makes it.
 */
void netns_slirp_set_tap(struct netns_slirp *s, int tap_fd);

/*
 * netns_slirp_fill() - append the descriptors to poll to @fds (from index
 * *@n, at most @cap) and lower *@timeout_ms to the next timer.
 */
void netns_slirp_fill(struct netns_slirp *s, struct pollfd *fds, size_t *n, size_t cap, int *timeout_ms);

/* netns_slirp_dispatch() - handle what poll() reported in @fds. */
void netns_slirp_dispatch(struct netns_slirp *s, const struct pollfd *fds);

/*
 * netns_slirp_egress() - from now on, @s lets out only what the @n rules
 * @rules allow (netns/egress.c says how; refusals are answered at once),
 * and with @log_path writes a JSON line per decision worth knowing to that
 * file (created 0600, appended to).
 * Return: 0 or a negative errno.
 */
int netns_slirp_egress(struct netns_slirp *s, const struct netns_allow *rules, size_t n, const char *log_path,
		       struct ubx_err *e);

/*
 * The slirp network's outbound TCP, taken out of libslirp (redirect.c,
 * tcprelay.c): an nf_tables rule in the sandbox's network namespace sends
 * it to listeners there that the supervisor holds, which relays it with the
 * kernel's TCP on both legs.  Without nf_tables, libslirp keeps it.
 */
struct netns_redirect {
	int listen4, listen6; /* 127.0.0.1:P and [::1]:P (-1: no IPv6) */
	int nl;               /* an nfnetlink socket of the sandbox's network namespace */
};

/* The destinations whose TCP stays with libslirp, so that a connect() to
 * them fails as it always did rather than being reset once accepted. */
#define NETNS_REDIRECT_KEEP_MAX 40
struct netns_network;

struct netns_redirect_plan {
	size_t n;
	struct {
		uint8_t addr[16]; /* IPv4 in the first 4 bytes */
		uint8_t prefix;
		bool v6;
	} keep[NETNS_REDIRECT_KEEP_MAX];
};

/*
 * netns_redirect_plan() - in the caller's namespace, before the sandbox
 * starts: keep the resolver's addresses and link-local ones with libslirp,
 * and unless @allow_host_loopback the gateway and the host's own addresses
 * (those it has now; one added later meets the relay's checks alone).  On
 * a user network (@net not NULL) its whole subnet stays: the other
 * sandboxes are reached over the bridge, the gateway and resolver are there.
 */
void netns_redirect_plan(struct netns_redirect_plan *p, const struct netns_network *net, bool allow_host_loopback);

/*
 * netns_redirect_open() - in the sandbox's network namespace, with lo up:
 * the listeners and an nfnetlink socket, all that netns_redirect_commit()
 * needs later, wherever it runs.  Return: 0 with @rd filled, or a negative
 * errno.
 */
int netns_redirect_open(struct netns_redirect *rd, struct ubx_err *e);

/*
 * netns_redirect_commit() - on @nl (an nfnetlink socket of the sandbox's
 * network namespace, taken over), add the rule redirecting new TCP that
 * leaves by NETNS_TAP_NAME to the listeners' @port (@v4_only: no IPv6
 * listener), but to what @p keeps; in a thread of its own, as the kernel
 * takes its time (conntrack's set-up, RCU grace periods).  The caller needs
 * CAP_NET_ADMIN over the namespace (the supervisor owns the sandbox's user
 * namespace).  How it went arrives on *@status (netns_redirect_status()).
 * Return: 0, or a negative errno (no thread).
 */
int netns_redirect_commit(int nl, const struct netns_redirect_plan *p, uint16_t port, bool v4_only, int *status,
			  struct ubx_err *e);

/*
 * netns_redirect_status() - read @fd, a netns_redirect_commit() status
 * (without blocking).  Return: 1 the rule is in; 0 no word yet; -1 there is
 * none, why in @why.
 */
int netns_redirect_status(int fd, char *why, size_t len);

/* netns_redirect_setup() - the listeners and the rule, made here and now (no child, no TAP). */
int netns_redirect_setup(const struct netns_redirect_plan *p, struct netns_redirect *out, struct ubx_err *e);

/* netns_listener_port() - the port a listening socket @fd is bound to (0: none). */
uint16_t netns_listener_port(int fd);

/* netns_redirect_close() - close what @rd holds (the rule stays). */
void netns_redirect_close(struct netns_redirect *rd);

/*
 * netns_slirp_relay() - from now on, relay the connections redirected to
 * the listeners @listen4 and @listen6 (taken over; -1 for none) of the
 * sandbox @id (the caller's number; one per client on a user network), with the
 * same policy as libslirp's: the frame filter, the egress policy, the
 * gateway as the host's loopback only when allowed.
 * Return: 0 or a negative errno.
 */
int netns_slirp_relay(struct netns_slirp *s, int id, int listen4, int listen6, struct ubx_err *e);

/*
 * netns_slirp_relay_drop() - stop the relays added with @id: their
 * connections are reset, their listeners closed (a user network's sandbox
 * that left).
 */
void netns_slirp_relay_drop(struct netns_slirp *s, int id);

/*
 * netns_slirp_relay_status() - after netns_slirp_relay(): @fd (taken over)
 * is the redirect's status (netns_redirect_commit()); the loop reads it and
 * records how the rule went.
 */
void netns_slirp_relay_status(struct netns_slirp *s, int fd);

/* netns_slirp_no_relay() - record why libslirp keeps outbound TCP. */
void netns_slirp_no_relay(struct netns_slirp *s, const char *why);

/* What a slirp network has done, for `usbox inspect`. */
struct netns_stats {
	char tcp_path[200];     /* how outbound TCP leaves: "relay" or "libslirp (WHY)" */
	unsigned long relayed;  /* connections the relay took */
	unsigned long allowed;  /* the egress policy's decisions, as --net-log logs them */
	unsigned long refused;
};

/* netns_slirp_stats() - @s's counts so far. */
void netns_slirp_stats(const struct netns_slirp *s, struct netns_stats *st);

/* netns_slirp_free() - stop the stack and close the TAP. */
void netns_slirp_free(struct netns_slirp *s);

/* One -p [IP:]HOSTPORT:SANDBOXPORT[/tcp|/udp]. */
struct portfwd_spec {
	uint32_t host_ip;      /* network order; 0 (and not ip6): every address, IPv4 and IPv6 */
	bool ip6;              /* [V6]:HP:SP: host_ip6 instead */
	uint8_t host_ip6[16];
	uint16_t host_port;
	uint16_t sandbox_port;
	bool udp;
};

/*
 * portfwd_parse() - parse one -p value into @spec ("[V6]:HP:SP" for an
 * IPv6 address).
 * Return: 0 or -EINVAL.
 */
int portfwd_parse(const char *arg, struct portfwd_spec *spec);

/* Forwarded ports, relayed by a thread of their own. */
struct portfwd;

/*
 * portfwd_open() - bind every host-side socket now, before anything starts,
 * so that a port in use or a privileged port is a clean error.
 * Return: 0 with *@out set, or a negative errno naming the port.
 */
int portfwd_open(const struct portfwd_spec *specs, size_t n, struct portfwd **out, struct ubx_err *e);

/*
 * portfwd_attach() - start forwarding, in a thread with every signal
 * blocked: sockets inside the sandbox come from @factory (used by that
 * thread alone from now on), a unix socket to a process in the sandbox's
 * network namespace that answers a message of a byte 'T' or 'U' (a TCP or
 * UDP socket; 't' or 'u': an IPv6 one) and a count with that many fresh
 * sockets, one a datagram (SCM_RIGHTS), or a datagram without one when it
 * cannot.  Connections go to 127.0.0.1:SANDBOXPORT inside, or to
 * [::1]:SANDBOXPORT when nothing listens on the former.
 * Return: 0 or a negative errno.
 */
int portfwd_attach(struct portfwd *pf, int factory, struct ubx_err *e);

/*
 * portfwd_take() - hand a host listener to a server inside (direct ports):
 * the TCP listener forwarded to sandbox port @port for a socket of @family
 * (AF_INET: the IPv4 one; AF_INET6: the IPv6 one, [::] beside 0.0.0.0),
 * which the relay stops watching from now on.  Connections to the other
 * listener of the same port are relayed to the handed one.
 * Return: a new descriptor of it (close-on-exec), or -1 when there is none.
 */
int portfwd_take(struct portfwd *pf, int family, uint16_t port);

/* portfwd_handed() - whether the socket of SO_COOKIE @cookie is a handed listener. */
bool portfwd_handed(const struct portfwd *pf, uint64_t cookie);

/* portfwd_free() - stop the thread (and wait for it), close every socket. */
void portfwd_free(struct portfwd *pf);

/*
 * User networks: `usbox network create NAME`.  A network is a definition
 * file (its subnet) and, while sandboxes use it, a helper process
 * ("usbox-net NAME") in a user namespace of its own.  The helper holds a
 * network namespace with a bridge whose uplink is a TAP behind libslirp, in
 * which libslirp answers as the subnet's .1 (gateway) and .2 (DNS).  Each
 * sandbox on the network joins the helper's user namespace, so that the
 * helper can put one end of a veth pair on the bridge and the other into the
 * sandbox as eth0.  The helper hands out addresses, keeps the network's
 * /etc/hosts, and exits when it has been idle for USBOX_HOLDER_IDLE seconds.
 */
#define NETNS_NAME_MAX 32

struct netns_network {
	char name[NETNS_NAME_MAX + 1];
	uint32_t net;             /* network byte order */
	uint8_t prefix;
	bool allow_host_loopback;
	char allow[4096];         /* the uplink's egress policy: DESTs separated by commas, "" for none */
	char log[4096];           /* its log file (an absolute path), "" for none */
};

/*
 * netns_network_lease() - the addresses of host @index (>= 3) of @n, or with
 * @index 0 only the network's own: gateway .1 and DNS .2, and in IPv6
 * fd00::1 and fd00::2 with the host at fd00::@index.
 */
struct netns_lease netns_network_lease(const struct netns_network *n, uint32_t index);

/* netns_network_name_valid() - [A-Za-z0-9][A-Za-z0-9_.-]*, at most NETNS_NAME_MAX, not a --net mode. */
bool netns_network_name_valid(const char *name);

/*
 * netns_subnet_parse() - parse "A.B.C.D/N" (N from 8 to 28, no host bits).
 * Return: 0 or -EINVAL with the reason in @e.
 */
int netns_subnet_parse(const char *text, uint32_t *net, uint8_t *prefix, struct ubx_err *e);

/*
 * netns_network_create() - save a new network @name with @subnet (NULL: the
 * first free 10.89.N.0/24), whose uplink lets out only what the @n_allow
 * rules @allow allow (none: anything), logging to @log (NULL: nowhere; an
 * absolute path).  Refuses a name in use or a subnet that overlaps another
 * network of the user.
 * Return: 0 with *@out filled, or a negative errno.
 */
int netns_network_create(const char *name, const char *subnet, bool allow_host_loopback,
			 const struct netns_allow *allow, size_t n_allow, const char *log, struct netns_network *out,
			 struct ubx_err *e);

/* netns_network_load() - read the definition of @name; -ENOENT names the fix. */
int netns_network_load(const char *name, struct netns_network *out, struct ubx_err *e);

/*
 * netns_network_list() - every network of the user, sorted by name.
 * Return: the count (with *@out to free()), or a negative errno.
 */
int netns_network_list(struct netns_network **out, struct ubx_err *e);

/*
 * netns_network_users() - how many sandboxes use @name now (0 when its
 * helper is not running).
 * Return: the count or a negative errno.
 */
int netns_network_users(const char *name, struct ubx_err *e);

/*
 * netns_network_remove() - delete @name; refused (-EBUSY) while a sandbox
 * uses it.  An idle helper is stopped first.
 * Return: 0 or a negative errno.
 */
int netns_network_remove(const char *name, struct ubx_err *e);

/* A sandbox's connection to its network's helper. */
struct netns_conn {
	int sock;     /* to the helper; closing it releases the address */
	int userns;   /* the helper's user namespace */
	int lock;     /* held while connecting/starting, else -1 */
	int hosts_fd; /* its hosts file (O_PATH, checked); open only while hosts[0] */
	pid_t stale_pid; /* a helper of another usbox version that answered, or 0 */
	char dir[4000];   /* the helper's runtime directory */
	char hosts[4096]; /* its hosts file's path (the sandbox binds hosts_fd, the very
			   * file checked, with open_tree(AT_EMPTY_PATH)) */
};

/*
 * netns_network_connect() - connect to the helper of @n, trusting it only
 * once it proves to be the caller's own (netns/trust.c): else -EPERM,
 * naming the reason and the directory to remove.  The caller must be in its
 * own user namespace.
 * Return: 1 when it runs (@c->sock, @c->userns and @c->hosts set); 0 when it
 * does not, with @c->lock held so that the caller can start it with
 * netns_network_start(); or a negative errno.
 */
int netns_network_connect(const struct netns_network *n, struct netns_conn *c, struct ubx_err *e);

/*
 * netns_network_start() - start the helper of @n and connect to it.  The
 * caller must be in the id-map holder's user namespace (the helper's becomes
 * a child of it, with the same ids) and hold @c->lock from
 * netns_network_connect().
 * Return: 0 or a negative errno.
 */
int netns_network_start(const struct netns_network *n, struct netns_conn *c, struct ubx_err *e);

/*
 * netns_network_attach() - ask the helper for an address and a veth whose
 * inner end becomes NETNS_TAP_NAME in the network namespace @netns_fd, and
 * register @name (may be "") in the network's hosts file.  Everything is
 * released when @c->sock closes.
 * Return: 0 with *@lease filled, or a negative errno.
 */
int netns_network_attach(struct netns_conn *c, int netns_fd, const char *name, struct netns_lease *lease,
			 struct ubx_err *e);

/*
 * netns_network_relay() - after netns_network_attach(): the helper relays
 * the TCP that the sandbox's rule redirects to @listen4 and @listen6 (the
 * sandbox's listeners, closed here; -1 for none), under the network's
 * policy.  Return: 0 or a negative errno.
 */
int netns_network_relay(struct netns_conn *c, int listen4, int listen6, struct ubx_err *e);

/* netns_conn_close() - close everything in @c. */
void netns_conn_close(struct netns_conn *c);

#endif
