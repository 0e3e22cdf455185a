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
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

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
 * (2: the helper keeps the id-map holder alive, as clients check; 3: it
 * enforces the network's egress policy, which a helper of 2 would ignore;
 * 4: 'r' and 'R' hand it the sandbox's TCP redirect listeners.) */
#define GREETING "usbox-net 4"

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
 * Nothing for ARP, ICMP other than echo requests, later fragments or bad
 * headers.  @cap must
 * be at least FRAME_REJECT_MAX.  Pure: no system calls.
 * Return: the answer's length in @out, or 0 for none.
 */
#define FRAME_REJECT_MAX 128
size_t frame_reject(const uint8_t *frame, size_t len, uint8_t *out, size_t cap);

/* frame_sum16() - the Internet checksum's running sum over @n bytes of @p. */
uint32_t frame_sum16(const uint8_t *p, size_t n, uint32_t acc);

/* frame_fold() - the checksum field for the running sum @acc. */
uint16_t frame_fold(uint32_t acc);

/*
 * frame_policy_load() - (re)fill @p's list of the host's own addresses from
 * getifaddrs() of the calling process's network namespace.  On failure the
 * old list stays.
 * Return: 0 or a negative errno.
 */
int frame_policy_load(struct frame_policy *p, struct ubx_err *e);

/* frame_policy_clear() - free the address lists of @p. */
void frame_policy_clear(struct frame_policy *p);

/* A DNS question (dns.c). */
struct dns_question {
	char name[NETNS_DNS_NAME_MAX + 1]; /* lowered, no final dot; "" for the root */
	uint16_t id, qtype;
	bool rd;    /* recursion desired, echoed in a refusal */
	size_t end; /* where the question ends in the message, 0 when it is unreadable */
};

/*
 * dns_query_parse() - the question of the query @m of @len bytes: a
 * standard query with one question whose name is letters, digits, '-' and
 * '_' in labels (lowered into @q->name).
 * Return: 0; -EINVAL for a query to refuse (@q->id and @q->rd set); or
 * -EBADMSG for something not to answer at all (a response, a runt).
 */
int dns_query_parse(const uint8_t *m, size_t len, struct dns_question *q);

/*
 * dns_refusal() - the answer with @rcode (3: NXDOMAIN, 5: REFUSED) to the
 * query @m whose question dns_query_parse() read into @q, echoing the
 * question when it was readable.
 * Return: its length in @out, or 0 when @cap is too small.
 */
size_t dns_refusal(const uint8_t *m, const struct dns_question *q, uint8_t rcode, uint8_t *out, size_t cap);

/* Called with each address an answer holds (IPv4 in its ::ffff: form). */
typedef void (*dns_addr_fn)(void *ctx, const uint8_t addr[16]);

/*
 * dns_response_addrs() - for the successful answer @m with one question:
 * the question into @q and @fn for every A and AAAA record (class IN) of
 * its answer section (@fn NULL: only check them).
 * Return: 0, or -EBADMSG for anything else (records reported before a bad
 * one stay reported).
 */
int dns_response_addrs(const uint8_t *m, size_t len, struct dns_question *q, dns_addr_fn fn, void *ctx);

/* The egress policy's engine (egress.c), between a sandbox and libslirp. */
struct egress;

/* What a decision was, for --net-log. */
struct egress_event {
	const char *proto;  /* "tcp", "udp", "icmp", "dns" */
	uint8_t dst[16];    /* IPv4 in its ::ffff: form */
	uint16_t port;      /* 0 for ICMP */
	uint16_t qtype;     /* dns: the question's type */
	bool allowed;
	char name[NETNS_DNS_NAME_MAX + 1]; /* the name asked for or resolved, or "" */
	char why[160];
};

enum egress_verdict {
	EGRESS_PASS,   /* on to libslirp */
	EGRESS_DROP,   /* nowhere, silently */
	EGRESS_ANSWER, /* nowhere; the reply built (a TCP RST, an ICMP unreachable, NXDOMAIN) goes back */
};

#define EGRESS_REPLY_MAX 512 /* >= FRAME_REJECT_MAX, and a refusal of the longest question */

/*
 * egress_new() - a policy of the @n rules @rules (copied) for the network
 * laid out as @l: its gateway (the host's loopback, with
 * allow_host_loopback) and its resolver.
 * Return: 0 with *@out set, or -ENOMEM.
 */
int egress_new(const struct netns_allow *rules, size_t n, const struct netns_lease *l, struct egress **out,
	       struct ubx_err *e);

/*
 * egress_outbound() - the verdict on the Ethernet frame @frame of @len
 * bytes from a sandbox; with EGRESS_ANSWER the reply is in @reply (@cap at
 * least EGRESS_REPLY_MAX), *@reply_len bytes.  @host lists the host's own
 * addresses.  *@log says whether @ev holds a decision worth logging.
 * Pure but for what @g learns: no system calls.
 */
enum egress_verdict egress_outbound(struct egress *g, const uint8_t *frame, size_t len,
				    const struct frame_policy *host, uint8_t *reply, size_t cap, size_t *reply_len,
				    struct egress_event *ev, bool *log);

/*
 * egress_inbound() - look at the frame @frame that libslirp sends to the
 * sandbox: an answer of the resolver to an allowed name teaches @g the
 * addresses it holds (at most EGRESS_LEARN_MAX).
 */
#define EGRESS_LEARN_MAX 8192
void egress_inbound(struct egress *g, const uint8_t *frame, size_t len);

/*
 * egress_event_json() - @ev as one JSON object and a newline, stamped with
 * the wall-clock time @when.
 * Return: its length in @buf (truncated output never: 0 when @cap is too small).
 */
size_t egress_event_json(const struct egress_event *ev, const struct timespec *when, char *buf, size_t cap);

/*
 * egress_left_out_json() - the log's line saying that @count decisions
 * were left out of it (too many a second).
 * Return: its length in @buf, or 0 when @cap is too small.
 */
size_t egress_left_out_json(unsigned count, const struct timespec *when, char *buf, size_t cap);

/* egress_free() - release @g (NULL is fine). */
void egress_free(struct egress *g);

/*
 * The relay of redirected TCP (tcprelay.c), driven by slirp.c.
 *
 * tcprelay_decide_fn - whether the sandbox's @peer may connect to @dst (its
 * original destination) and where to, in the supervisor's namespace.
 * Return: 0 with @to (*@tolen bytes) filled, or -1 to reset the connection.
 */
typedef int (*tcprelay_decide_fn)(void *ctx, const struct sockaddr_storage *dst, const struct sockaddr_storage *peer,
				  struct sockaddr_storage *to, socklen_t *tolen);

struct tcprelay;

/* tcprelay_new() - relay what @listen4 and @listen6 (taken over; -1: none) accept, as @decide says. */
int tcprelay_new(int listen4, int listen6, tcprelay_decide_fn decide, void *ctx, struct tcprelay **out,
		 struct ubx_err *e);

/* tcprelay_fill() / tcprelay_dispatch() - as netns_slirp_fill() / _dispatch(). */
void tcprelay_fill(struct tcprelay *r, struct pollfd *fds, size_t *n, size_t cap);
void tcprelay_dispatch(struct tcprelay *r, const struct pollfd *fds);

/* tcprelay_accepted() - how many connections @r has relayed (NULL: 0). */
unsigned long tcprelay_accepted(const struct tcprelay *r);

/* tcprelay_free() - reset every connection, close the listeners (NULL is fine). */
void tcprelay_free(struct tcprelay *r);

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
