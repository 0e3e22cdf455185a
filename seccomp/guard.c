/* SPDX-License-Identifier: MIT */
/*
 * guard.c - the guards of direct -p ports: Landlock's refusal of every TCP
 * connect(), and the filter whose notifications the supervisor answers
 * (guard.h says why each call is caught).
 */
#include "guard.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#define LANDLOCK_NET_ABI 4                 /* the first with network rules */
#define LANDLOCK_ACCESS_NET_BIND_TCP_ (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP_ (1ULL << 1)
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* struct landlock_ruleset_attr as of ABI 4 (older headers lack the field). */
struct ll_ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;
};

#if defined(__x86_64__)
#define X32_BIT 0x40000000u
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i)) /* little-endian: the low half */
#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
/* A == k: on to the next instruction, else skip @n */
#define IS(k, n) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), 0, (n))
#define NOTIF SECCOMP_RET_USER_NOTIF
#define ALLOW SECCOMP_RET_ALLOW
#define FAIL(err) (SECCOMP_RET_ERRNO | (err))
/* the send call's flags (argument @i) hold MSG_FASTOPEN: EOPNOTSUPP */
#define FASTOPEN(nr, i) IS(nr, 4), LD(ARG_LO(i)), BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MSG_FASTOPEN, 0, 1), \
	RET(FAIL(EOPNOTSUPP)), RET(ALLOW)
/* A >= k: on, else skip @n; and the other way round */
#define GE(k, n) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (k), 0, (n))
#define LT(k, n) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (k), (n), 0)
/* ioctl @nr: the sockets' device requests (SIOC..., 0x8910-0x89ff: the
 * interfaces, ARP, bridges of the socket's namespace) to @in, the wireless
 * ones (0x8b..) refused, the rest allowed */
#define SOCK_IOCTL(nr, in) IS(nr, 8), LD(ARG_LO(1)), GE(0x8910, 5), LT(0x8a00, 1), RET(in), GE(0x8b00, 2), \
	LT(0x8c00, 1), RET(FAIL(EOPNOTSUPP)), RET(ALLOW)
/* (level, name) of a socket option: @act, else on to the next (5 instructions) */
#define PAIR(level, name, act) LD(ARG_LO(1)), IS(level, 3), LD(ARG_LO(2)), IS(name, 1), RET(act)
/* The options that name an interface of the socket's namespace (so tell
 * which exist) or turn a TCP socket into another protocol's (a ULP: smc's
 * connect is no TCP connect to Landlock): SO_BINDTODEVICE, SO_BINDTOIFINDEX,
 * IP_UNICAST_IF, IPV6_UNICAST_IF, TCP_ULP.  26 instructions. */
#define SETSOCKOPT_GUARDED(act) PAIR(SOL_SOCKET, 25, act), PAIR(SOL_SOCKET, 62, act), PAIR(0, 50, act), \
	PAIR(41, 76, act), PAIR(6, 31, act), RET(ALLOW)
/* What a TCP socket's packets came in on (IP_PKTOPTIONS, IPV6_2292PKTOPTIONS:
 * an interface's index).  11 instructions. */
#define GETSOCKOPT_GUARDED(act) PAIR(0, 9, act), PAIR(41, 6, act), RET(ALLOW)

/* i386: socketcall (arguments in memory), and the direct calls since 4.3 */
static const struct sock_filter i386_part[] = {
	LD(offsetof(struct seccomp_data, nr)),
	IS(102, 1), RET(FAIL(ENOSYS)), /* socketcall */
	IS(345, 1), RET(FAIL(ENOSYS)), /* sendmmsg */
	IS(361, 1), RET(FAIL(ENOSYS)), /* bind */
	IS(362, 1), RET(FAIL(ENOSYS)), /* connect */
	IS(363, 1), RET(FAIL(ENOSYS)), /* listen */
	IS(369, 1), RET(FAIL(ENOSYS)), /* sendto */
	IS(370, 1), RET(FAIL(ENOSYS)), /* sendmsg */
	IS(373, 1), RET(FAIL(ENOSYS)), /* shutdown */
	SOCK_IOCTL(54, FAIL(EOPNOTSUPP)),
	IS(366, 26), SETSOCKOPT_GUARDED(FAIL(EPERM)),
	IS(365, 11), GETSOCKOPT_GUARDED(FAIL(EPERM)),
	RET(ALLOW),
};

/* x86_64 and x32 (same numbers with X32_BIT, but sendmsg and sendmmsg) */
static const struct sock_filter native_part[] = {
	LD(offsetof(struct seccomp_data, nr)),
	BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~X32_BIT),
	IS(42, 1), RET(NOTIF), /* connect */
	IS(49, 1), RET(NOTIF), /* bind */
	IS(50, 1), RET(NOTIF), /* listen */
	IS(48, 4), LD(ARG_LO(1)), IS(SHUT_WR, 1), RET(ALLOW), RET(NOTIF), /* shutdown */
	FASTOPEN(44, 3),  /* sendto */
	FASTOPEN(46, 2),  /* sendmsg */
	FASTOPEN(307, 3), /* sendmmsg */
	FASTOPEN(518, 2), /* x32 sendmsg */
	FASTOPEN(538, 3), /* x32 sendmmsg */
	SOCK_IOCTL(16, NOTIF),
	SOCK_IOCTL(514, FAIL(EOPNOTSUPP)), /* x32's: its ifconf is laid out otherwise */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 54, 1, 0), IS(541, 26), SETSOCKOPT_GUARDED(NOTIF), /* and x32's */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 55, 1, 0), IS(542, 11), GETSOCKOPT_GUARDED(NOTIF),
	RET(ALLOW),
};

#define I386_LEN (sizeof(i386_part) / sizeof(i386_part[0]))
#define NATIVE_LEN (sizeof(native_part) / sizeof(native_part[0]))

static struct sock_filter program[4 + I386_LEN + NATIVE_LEN];

const struct sock_filter *seccomp_guard_program(unsigned short *len)
{
	const struct sock_filter head[] = {
		LD(offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 2 + I386_LEN, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0),
		RET(ALLOW), /* any other: the sandbox's own filter refuses it */
	};
	memcpy(program, head, sizeof(head));
	memcpy(program + 4, i386_part, sizeof(i386_part));
	memcpy(program + 4 + I386_LEN, native_part, sizeof(native_part));
	*len = (unsigned short)(sizeof(program) / sizeof(program[0]));
	return program;
}
#else
const struct sock_filter *seccomp_guard_program(unsigned short *len)
{
	*len = 0;
	return NULL;
}
#endif

int seccomp_guard_available(struct ubx_err *e)
{
	unsigned short len;
	if (!seccomp_guard_program(&len))
		return ubx_fail(e, 0, "direct ports need x86_64");
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return ubx_fail(e, 0, "direct ports need Landlock, which this kernel %s",
				errno == ENOSYS ? "lacks" : "has off");
	if (abi < LANDLOCK_NET_ABI)
		return ubx_fail(e, 0, "direct ports need Landlock's network rules (ABI %d; this kernel has %ld)",
				LANDLOCK_NET_ABI, abi);
	return 0;
}

/* Every TCP bind() and connect() of this thread and what it starts refused. */
static int landlock_no_connect(struct ubx_err *e)
{
	struct ll_ruleset_attr attr = { .handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP_ |
							      LANDLOCK_ACCESS_NET_CONNECT_TCP_ };
	int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return ubx_fail(e, errno, "Landlock ruleset");
	int r = (int)syscall(SYS_landlock_restrict_self, fd, 0);
	int err = errno;
	close(fd);
	return r < 0 ? ubx_fail(e, err, "Landlock") : 0;
}

int seccomp_guard_install(struct ubx_err *e)
{
	unsigned short len;
	struct sock_fprog prog = { .filter = (struct sock_filter *)seccomp_guard_program(&len) };
	prog.len = len;
	if (!prog.filter)
		return ubx_fail(e, ENOTSUP, "direct ports need x86_64");
	int r = landlock_no_connect(e);
	if (r < 0)
		return r;
	int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	return fd < 0 ? ubx_fail(e, errno, "install the direct ports' filter") : fd;
}
