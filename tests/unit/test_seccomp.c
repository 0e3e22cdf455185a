/* SPDX-License-Identifier: MIT */
/*
 * The seccomp module: the JSON profile parser on good and bad profiles, the
 * file checks, and the built-in filters installed in a forked child, where
 * the calls they refuse are made for real.
 */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "../../seccomp/guard.h"
#include "../../seccomp/seccomp.h"

static char dir[32];

/* A fresh directory for each test (with CK_FORK=no they share a process). */
static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/usbox-seccomp-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* --- running code under a filter, in a child ------------------------------ */

static int report_fd = -1;

/* In the filtered child: say what went wrong and exit. */
__attribute__((format(printf, 1, 2))) static _Noreturn void child_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vdprintf(report_fd, fmt, ap);
	va_end(ap);
	_exit(1);
}

#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond))                       \
			child_fail(__VA_ARGS__);   \
	} while (0)

/* The call must fail with @err. */
#define EXPECT_ERRNO(call, err)                                                                        \
	do {                                                                                           \
		errno = 0;                                                                             \
		long r_ = (long)(call);                                                                \
		EXPECT(r_ == -1 && errno == (err), "%s: %ld (%s), want %s", #call, r_, strerror(errno), \
		       #err);                                                                          \
	} while (0)

/* The call must not fail. */
#define EXPECT_OK(call)                                                                          \
	do {                                                                                     \
		errno = 0;                                                                       \
		long r_ = (long)(call);                                                          \
		EXPECT(r_ != -1, "%s: %ld (%s), want success", #call, r_, strerror(errno)); \
	} while (0)

#define NO_SECCOMP 77

/* run_filtered() - run @body in a child with @p installed (after
 * no_new_privs, as in the sandbox); the test fails with the child's message.
 * Where seccomp() is missing (valgrind 3.19 does not know it) there is
 * nothing to run. */
static void run_filtered(const struct seccomp_prog *p, void (*body)(void))
{
	char msg[512] = "";
	int fds[2], status;

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ubx_err e = { 0 };
		report_fd = fds[1];
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			child_fail("no_new_privs: %s", strerror(errno));
		int r = seccomp_install(p, &e);
		if (r == -ENOSYS)
			_exit(NO_SECCOMP);
		if (r < 0)
			child_fail("install: %s", e.msg);
		body();
		_exit(0);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == NO_SECCOMP)
		return;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0 && !msg[0], "child (status %#x): %s", status,
		      msg);
}

static struct seccomp_prog prepare(enum seccomp_mode mode)
{
	struct seccomp_prog p;
	struct ubx_err e = { 0 };
	ck_assert_msg(seccomp_prepare(mode, NULL, &p, &e) == 0, "%s", e.msg);
	return p;
}

/* --- the default filter ---------------------------------------------------- */

static void *thread_main(void *arg)
{
	return arg;
}

/* What ordinary programs do keeps working: threads (clone3 fails with ENOSYS
 * and glibc falls back to clone), fork, exec, files. */
static void ordinary_calls(void)
{
	static int token;
	pthread_t t;
	void *ret = NULL;
	int status;

	EXPECT(pthread_create(&t, NULL, thread_main, &token) == 0, "pthread_create");
	EXPECT(pthread_join(t, &ret) == 0 && ret == &token, "pthread_join");
	pid_t pid = fork();
	EXPECT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "exit 7", (char *)NULL);
		_exit(99);
	}
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7,
	       "sh -c 'exit 7' ended with %#x", status);
	EXPECT_OK(unshare(0));
	EXPECT_OK(unshare(CLONE_FILES));
	EXPECT_OK(open("/proc/self/status", O_RDONLY | O_CLOEXEC));
	EXPECT_OK(getrandom(&status, sizeof(status), 0));
}

static void refused_calls(void)
{
	EXPECT_ERRNO(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_add_key, "user", "usbox", "x", 1, KEY_SPEC_SESSION_KEYRING), EPERM);
	EXPECT_ERRNO(syscall(SYS_bpf, 0, NULL, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_userfaultfd, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_io_uring_setup, 1, NULL), EPERM);
	EXPECT_ERRNO(syscall(SYS_name_to_handle_at, AT_FDCWD, "/", NULL, NULL, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_adjtimex, NULL), EPERM);
	EXPECT_ERRNO(umount2("/nonexistent-usbox", 0), EPERM);
	EXPECT_ERRNO(mount("none", "/nonexistent-usbox", "tmpfs", 0, NULL), EPERM);
	EXPECT_ERRNO(syscall(SYS_fsopen, "tmpfs", 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_pivot_root, "/nonexistent-usbox", "/nonexistent-usbox"), EPERM);
	EXPECT_ERRNO(setns(-1, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_reboot, 0, 0, 0, NULL), EPERM);
}

static void namespace_calls(void)
{
	EXPECT_ERRNO(unshare(CLONE_NEWUSER), EPERM);
	EXPECT_ERRNO(unshare(CLONE_NEWNS), EPERM);
	EXPECT_ERRNO(unshare(CLONE_FILES | CLONE_NEWNET), EPERM);
	EXPECT_ERRNO(unshare(0x80 /* CLONE_NEWTIME */), EPERM);
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, 0), EPERM);
	/* clone3's flags are in memory: ENOSYS makes glibc fall back to clone */
	EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);
	/* numbers newer than the profile */
	EXPECT_ERRNO(syscall(1000), ENOSYS);
	EXPECT_ERRNO(syscall(0x3fffffff), ENOSYS);
}

static void personality_calls(void)
{
	EXPECT_OK(personality(0xffffffff));
	EXPECT_OK(personality(PER_LINUX32));
	EXPECT_OK(personality(PER_LINUX));
	EXPECT_OK(syscall(SYS_personality, 0x100000000ul)); /* the kernel takes an int: PER_LINUX */
	EXPECT_ERRNO(personality(ADDR_NO_RANDOMIZE), EPERM);
	EXPECT_ERRNO(personality(READ_IMPLIES_EXEC), EPERM);
	EXPECT_ERRNO(personality(0xfffffffe), EPERM);
	EXPECT_ERRNO(personality(PER_LINUX32 | ADDR_NO_RANDOMIZE), EPERM);
}

/* TIOCSTI and TIOCLINUX are refused however the upper 32 bits are set (the
 * kernel drops them); every other ioctl passes, on a pty made under the
 * filter (TIOCGPTN, TIOCSPTLCK). */
static void ioctl_calls(void)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), n;
	char c = 'x', sub = 0;
	struct winsize ws;

	EXPECT(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "pty: %s", strerror(errno));
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	EXPECT(slave >= 0, "pty slave: %s", strerror(errno));
	EXPECT_ERRNO(ioctl(slave, TIOCSTI, &c), EPERM);
	EXPECT_ERRNO(syscall(SYS_ioctl, slave, 0x100000000ul | TIOCSTI, &c), EPERM);
	EXPECT_ERRNO(syscall(SYS_ioctl, slave, 0xffffffff00000000ul | TIOCSTI, &c), EPERM);
	EXPECT_ERRNO(ioctl(master, TIOCSTI, &c), EPERM);
	EXPECT_ERRNO(ioctl(slave, TIOCLINUX, &sub), EPERM);
	EXPECT_ERRNO(syscall(SYS_ioctl, slave, 0x700000000ul | TIOCLINUX, &sub), EPERM);
	EXPECT_OK(ioctl(slave, TIOCGWINSZ, &ws));
	EXPECT_OK(syscall(SYS_ioctl, slave, 0x100000000ul | TIOCGWINSZ, &ws));
	EXPECT_OK(ioctl(slave, TIOCOUTQ, &n)); /* TIOCSTI - 1 */
	EXPECT_OK(ioctl(master, FIONREAD, &n));
	EXPECT(isatty(slave), "isatty: %s", strerror(errno));
}

#if defined(__x86_64__)
/* A 32-bit system call through int $0x80: the i386 table, AUDIT_ARCH_I386. */
static long int80(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
	return r;
}

/* The i386 and x32 tables are filtered alike: keyctl is refused there too. */
static void compat_calls(void)
{
	int status;
	pid_t pid = fork();

	EXPECT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL); /* not ASan's report: the fault is the answer */
		long me = int80(20 /* i386 getpid */, 0, 0, 0);
		EXPECT(me == getpid(), "int 0x80 getpid: %ld", me);
		long r = int80(288 /* i386 keyctl */, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
		EXPECT(r == -EPERM, "int 0x80 keyctl: %ld, want -EPERM", r);
		_exit(0);
	}
	EXPECT(waitpid(pid, &status, 0) == pid, "waitpid");
	/* a kernel without ia32 emulation faults on int $0x80: nothing to test */
	EXPECT((WIFEXITED(status) && WEXITSTATUS(status) == 0) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV),
	       "int 0x80 child ended with %#x", status);
	/* the filter sees x32 numbers whether the kernel runs x32 or not */
	EXPECT_ERRNO(syscall(0x40000000 | 250 /* x32 keyctl */, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0),
		     EPERM);
	errno = 0;
	EXPECT(syscall(0x40000000 | 39 /* x32 getpid */) != -1 || errno == ENOSYS, "x32 getpid: %s",
	       strerror(errno));
}
#else
static void compat_calls(void)
{
}
#endif

START_TEST(default_program)
{
	struct seccomp_prog p = prepare(SECCOMP_DEFAULT), n = prepare(SECCOMP_NESTED_DEFAULT);

	ck_assert_uint_gt(p.len, 100);
	ck_assert_uint_le(p.len, BPF_MAXINSNS);
	ck_assert(!p.owned && p.filter);
	ck_assert(n.len > 100 && n.filter != p.filter);
	seccomp_prog_free(&p);
	ck_assert(p.len == 0 && !p.filter);
}
END_TEST

START_TEST(default_allows_ordinary_calls)
{
	struct seccomp_prog p = prepare(SECCOMP_DEFAULT);
	run_filtered(&p, ordinary_calls);
}
END_TEST

START_TEST(default_refuses)
{
	struct seccomp_prog p = prepare(SECCOMP_DEFAULT);
	run_filtered(&p, refused_calls);
	run_filtered(&p, namespace_calls);
	run_filtered(&p, compat_calls);
}
END_TEST

START_TEST(default_personality)
{
	struct seccomp_prog p = prepare(SECCOMP_DEFAULT);
	run_filtered(&p, personality_calls);
}
END_TEST

START_TEST(default_ioctl)
{
	struct seccomp_prog p = prepare(SECCOMP_DEFAULT);
	run_filtered(&p, ioctl_calls);
}
END_TEST

/* --- the programs, run in user space on every architecture --------------- */

/* run_bpf() - what classic-BPF program @p answers for @d, with the few
 * instructions libseccomp emits; anything else fails the test.  (No
 * ck_assert in loops: each one reports to check's parent process.) */
static uint32_t run_bpf(const struct seccomp_prog *p, const struct seccomp_data *d)
{
	uint32_t a = 0;

	for (unsigned pc = 0; pc < p->len; pc++) {
		const struct sock_filter *i = &p->filter[pc];
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k > sizeof(*d) - 4)
				ck_abort_msg("load at %u", i->k);
			memcpy(&a, (const char *)d + i->k, 4);
			break;
		case BPF_ALU | BPF_AND | BPF_K: a &= i->k; break;
		case BPF_JMP | BPF_JA: pc += i->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += a == i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += a > i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += a >= i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += (a & i->k) ? i->jt : i->jf; break;
		case BPF_RET | BPF_K: return i->k;
		default: ck_abort_msg("instruction %#x at %u", i->code, pc);
		}
	}
	ck_abort_msg("the program runs off its end");
	return 0;
}

#define ALLOW SECCOMP_RET_ALLOW
#define DENY (SECCOMP_RET_ERRNO | EPERM)
#define NOSYS (SECCOMP_RET_ERRNO | ENOSYS)

static uint32_t verdict(const struct seccomp_prog *p, uint32_t arch, int nr, uint64_t a0, uint64_t a1)
{
	struct seccomp_data d = { .nr = nr, .arch = arch, .args = { a0, a1 } };
	return run_bpf(p, &d);
}

#define I386 AUDIT_ARCH_I386
#define X86_64 AUDIT_ARCH_X86_64
#define X32(nr) (0x40000000 | (nr))

/* The i386 and x32 tables are filtered like the native one (this kernel
 * may run neither, so the program itself is run). */
START_TEST(default_compat_arches)
{
	struct seccomp_prog p = prepare(SECCOMP_DEFAULT), n = prepare(SECCOMP_NESTED_DEFAULT);

	ck_assert_uint_eq(verdict(&p, I386, 20 /* getpid */, 0, 0), ALLOW);
	ck_assert_uint_eq(verdict(&p, I386, 102 /* socketcall */, 1, 0), ALLOW);
	ck_assert_uint_eq(verdict(&p, I386, 288 /* keyctl */, 0, 0), DENY);
	ck_assert_uint_eq(verdict(&p, I386, 357 /* bpf */, 0, 0), DENY);
	ck_assert_uint_eq(verdict(&p, I386, 425 /* io_uring_setup */, 0, 0), DENY);
	ck_assert_uint_eq(verdict(&p, I386, 21 /* mount */, 0, 0), DENY);
	ck_assert_uint_eq(verdict(&p, I386, 310 /* unshare */, CLONE_NEWUSER, 0), DENY);
	ck_assert_uint_eq(verdict(&p, I386, 310, CLONE_FILES, 0), ALLOW);
	ck_assert_uint_eq(verdict(&p, I386, 120 /* clone */, CLONE_NEWNET | SIGCHLD, 0), DENY);
	ck_assert_uint_eq(verdict(&p, I386, 120, SIGCHLD, 0), ALLOW);
	ck_assert_uint_eq(verdict(&p, I386, 435 /* clone3 */, 0, 0), NOSYS);
	ck_assert_uint_eq(verdict(&p, I386, 54 /* ioctl */, 0, TIOCSTI), DENY);
	ck_assert_uint_eq(verdict(&p, I386, 54, 0, TIOCGWINSZ), ALLOW);
	ck_assert_uint_eq(verdict(&p, I386, 136 /* personality */, ADDR_NO_RANDOMIZE, 0), DENY);
	ck_assert_uint_eq(verdict(&p, I386, 136, PER_LINUX32, 0), ALLOW);
	ck_assert_uint_eq(verdict(&p, I386, 1000, 0, 0), NOSYS);
	ck_assert_uint_eq(verdict(&p, X86_64, X32(39) /* getpid */, 0, 0), ALLOW);
	ck_assert_uint_eq(verdict(&p, X86_64, X32(250) /* keyctl */, 0, 0), DENY);
	ck_assert_uint_eq(verdict(&p, X86_64, X32(514) /* ioctl */, 0, TIOCSTI), DENY);
	ck_assert_uint_eq(verdict(&p, X86_64, X32(514), 0, TIOCGWINSZ), ALLOW);
	ck_assert_uint_eq(verdict(&p, X86_64, X32(272) /* unshare */, CLONE_NEWNS, 0), DENY);
	ck_assert_uint_eq(verdict(&p, X86_64, X32(1000), 0, 0), NOSYS);
	ck_assert_uint_eq(verdict(&p, AUDIT_ARCH_AARCH64, 0, 0, 0), SECCOMP_RET_KILL_PROCESS);
	ck_assert_uint_eq(verdict(&n, I386, 310, CLONE_NEWUSER, 0), ALLOW);
	ck_assert_uint_eq(verdict(&n, I386, 21, 0, 0), ALLOW);
	ck_assert_uint_eq(verdict(&n, I386, 288, 0, 0), DENY);
	ck_assert_uint_eq(verdict(&n, X86_64, X32(272), CLONE_NEWNS, 0), ALLOW);
}
END_TEST

/* ioctl and personality on many argument values, upper bits included: the
 * allowed and refused rules gen.c writes cover each value exactly once. */
START_TEST(default_argument_rules)
{
	static const uint32_t arches[][3] = { { X86_64, 16, 135 }, { I386, 54, 136 }, { X86_64, X32(514), X32(135) } };
	struct seccomp_prog p = prepare(SECCOMP_DEFAULT);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t a = 0; a < 3; a++) {
		for (int i = 0; i < 20000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* near the interesting values, or anywhere */
			uint64_t v = i % 2 ? x : ((x & 0xffffffff00000000ull) | (0x5400 + (x & 0x3f)));
			uint32_t lo = (uint32_t)v, pers = (uint32_t)(i % 3 ? x : x & 0x20008);
			bool tty = lo == TIOCSTI || lo == TIOCLINUX;
			bool pers_ok = pers == 0 || pers == 8 || pers == 0x20000 || pers == 0x20008 || pers == 0xffffffff;
			uint64_t pv = (x & 0xffffffff00000000ull) | pers;
			if (verdict(&p, arches[a][0], (int)arches[a][1], 3, v) != (tty ? DENY : ALLOW))
				ck_abort_msg("ioctl %#llx", (unsigned long long)v);
			if (verdict(&p, arches[a][0], (int)arches[a][2], pv, 0) != (pers_ok ? ALLOW : DENY))
				ck_abort_msg("personality %#llx", (unsigned long long)pv);
		}
	}
}
END_TEST

/* --- the direct ports' guard (seccomp/guard.h) ----------------------------- */

#define NOTIF SECCOMP_RET_USER_NOTIF
#define NOTSUPP (SECCOMP_RET_ERRNO | EOPNOTSUPP)

static struct seccomp_prog guard_prog(void)
{
	unsigned short len = 0;
	const struct sock_filter *f = seccomp_guard_program(&len);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_gt(len, 0);
	return (struct seccomp_prog){ .filter = (struct sock_filter *)f, .len = len };
}

static uint32_t guard_verdict(const struct seccomp_prog *p, uint32_t arch, uint32_t nr, int i, uint64_t v)
{
	struct seccomp_data d = { .nr = (int)nr, .arch = arch };
	d.args[i] = v;
	return run_bpf(p, &d);
}

static uint32_t guard_opt(const struct seccomp_prog *p, uint32_t arch, uint32_t nr, uint32_t level, uint32_t name)
{
	struct seccomp_data d = { .nr = (int)nr, .arch = arch, .args = { 3, level, name } };
	return run_bpf(p, &d);
}

/* connect, bind, listen, shutdown but SHUT_WR, and a socket's device
 * ioctls go to the supervisor; the send calls with MSG_FASTOPEN fail; i386's
 * socket calls are ENOSYS; the rest, and other architectures (the sandbox's
 * own filter's), pass. */
START_TEST(guard_program)
{
	struct seccomp_prog p = guard_prog();
	static const uint32_t caught[] = { 42 /* connect */, 49 /* bind */, 50 /* listen */ };
	/* { nr, flags' argument } of sendto, sendmsg, sendmmsg; x32's own sendmsg, sendmmsg */
	static const uint32_t sends[][2] = { { 44, 3 }, { 46, 2 }, { 307, 3 }, { X32(44), 3 }, { X32(518), 2 },
					     { X32(538), 3 } };
	static const uint32_t i386_socket[] = { 102, 345, 361, 362, 363, 369, 370, 373 };

	for (size_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(guard_verdict(&p, X86_64, caught[i], 1, 0), NOTIF);
		ck_assert_uint_eq(guard_verdict(&p, X86_64, X32(caught[i]), 1, 0), NOTIF);
	}
	for (uint32_t x = 0; x <= X32(0); x += X32(0)) {
		ck_assert_uint_eq(guard_verdict(&p, X86_64, x | 48, 1, SHUT_WR), ALLOW);
		ck_assert_uint_eq(guard_verdict(&p, X86_64, x | 48, 1, SHUT_RD), NOTIF);
		ck_assert_uint_eq(guard_verdict(&p, X86_64, x | 48, 1, SHUT_RDWR), NOTIF);
		/* the kernel reads an int: the upper half changes nothing */
		ck_assert_uint_eq(guard_verdict(&p, X86_64, x | 48, 1, 1ull << 32 | SHUT_RD), NOTIF);
		ck_assert_uint_eq(guard_verdict(&p, X86_64, x | 48, 1, 1ull << 32 | SHUT_WR), ALLOW);
	}
	for (size_t i = 0; i < sizeof(sends) / sizeof(sends[0]); i++) {
		int a = (int)sends[i][1];
		ck_assert_uint_eq(guard_verdict(&p, X86_64, sends[i][0], a, MSG_FASTOPEN), NOTSUPP);
		ck_assert_uint_eq(guard_verdict(&p, X86_64, sends[i][0], a, MSG_FASTOPEN | MSG_NOSIGNAL | MSG_DONTWAIT),
				  NOTSUPP);
		ck_assert_uint_eq(guard_verdict(&p, X86_64, sends[i][0], a, 0), ALLOW);
		ck_assert_uint_eq(guard_verdict(&p, X86_64, sends[i][0], a, MSG_NOSIGNAL | MSG_MORE), ALLOW);
		/* MSG_FASTOPEN in another argument is no send flag */
		ck_assert_uint_eq(guard_verdict(&p, X86_64, sends[i][0], a == 3 ? 2 : 3, MSG_FASTOPEN), ALLOW);
	}
	for (size_t i = 0; i < sizeof(i386_socket) / sizeof(i386_socket[0]); i++)
		ck_assert_uint_eq(guard_verdict(&p, I386, i386_socket[i], 1, 0), NOSYS);
	ck_assert_uint_eq(guard_verdict(&p, I386, 20 /* getpid */, 0, 0), ALLOW);
	ck_assert_uint_eq(guard_verdict(&p, I386, 364 /* accept4 */, 0, 0), ALLOW);
	ck_assert_uint_eq(guard_verdict(&p, AUDIT_ARCH_AARCH64, 203 /* connect */, 0, 0), ALLOW);
	ck_assert_uint_eq(guard_verdict(&p, AUDIT_ARCH_AARCH64, 42, 0, 0), ALLOW);
	/* a socket's device ioctls (0x8910-0x89ff) to the supervisor; wireless
	 * extensions (0x8b00-0x8bff) refused; i386's and x32's both refused */
	static const uint64_t sock_ioctls[] = { 0x8910, 0x8912 /* SIOCGIFCONF */, 0x8915, 0x894c, 0x89ff,
						1ull << 32 | 0x8912 };
	static const uint64_t other_ioctls[] = { 0x5401 /* TCGETS */, 0x5412 /* TIOCSTI: the sandbox's own filter's */,
						 0x890f, 0x8a00, 0x8aff, 0x8c00, 0xffffffff, 0x8906 /* SIOCGSTAMP */ };
	for (size_t i = 0; i < sizeof(sock_ioctls) / sizeof(sock_ioctls[0]); i++) {
		ck_assert_uint_eq(guard_verdict(&p, X86_64, 16, 1, sock_ioctls[i]), NOTIF);
		ck_assert_uint_eq(guard_verdict(&p, X86_64, X32(514), 1, sock_ioctls[i]), NOTSUPP);
		ck_assert_uint_eq(guard_verdict(&p, I386, 54, 1, sock_ioctls[i]), NOTSUPP);
	}
	for (uint64_t w = 0x8b00; w <= 0x8bff; w += 0x7f) {
		ck_assert_uint_eq(guard_verdict(&p, X86_64, 16, 1, w), NOTSUPP);
		ck_assert_uint_eq(guard_verdict(&p, I386, 54, 1, w), NOTSUPP);
	}
	for (size_t i = 0; i < sizeof(other_ioctls) / sizeof(other_ioctls[0]); i++) {
		ck_assert_uint_eq(guard_verdict(&p, X86_64, 16, 1, other_ioctls[i]), ALLOW);
		ck_assert_uint_eq(guard_verdict(&p, X86_64, X32(514), 1, other_ioctls[i]), ALLOW);
		ck_assert_uint_eq(guard_verdict(&p, I386, 54, 1, other_ioctls[i]), ALLOW);
	}
	/* the socket options that name an interface or set a ULP, and those that
	 * tell where packets came in: to the supervisor; i386's refused */
	static const uint32_t sets[][2] = { { SOL_SOCKET, 25 }, { SOL_SOCKET, 62 }, { 0, 50 }, { 41, 76 }, { 6, 31 } };
	static const uint32_t gets[][2] = { { 0, 9 }, { 41, 6 } };
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		ck_assert_uint_eq(guard_opt(&p, X86_64, 54, sets[i][0], sets[i][1]), NOTIF);
		ck_assert_uint_eq(guard_opt(&p, X86_64, X32(541), sets[i][0], sets[i][1]), NOTIF);
		ck_assert_uint_eq(guard_opt(&p, I386, 366, sets[i][0], sets[i][1]), SECCOMP_RET_ERRNO | EPERM);
		ck_assert_uint_eq(guard_opt(&p, X86_64, 55, sets[i][0], sets[i][1]), ALLOW); /* reading them: fine */
	}
	for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
		ck_assert_uint_eq(guard_opt(&p, X86_64, 55, gets[i][0], gets[i][1]), NOTIF);
		ck_assert_uint_eq(guard_opt(&p, X86_64, X32(542), gets[i][0], gets[i][1]), NOTIF);
		ck_assert_uint_eq(guard_opt(&p, I386, 365, gets[i][0], gets[i][1]), SECCOMP_RET_ERRNO | EPERM);
	}
	ck_assert_uint_eq(guard_opt(&p, X86_64, 54, SOL_SOCKET, 2 /* SO_REUSEADDR */), ALLOW);
	ck_assert_uint_eq(guard_opt(&p, X86_64, 54, 6, 1 /* TCP_NODELAY */), ALLOW);
	ck_assert_uint_eq(guard_opt(&p, X86_64, 54, 0, 25 /* level and name crossed */), ALLOW);
	ck_assert_uint_eq(guard_opt(&p, I386, 366, SOL_SOCKET, 2), ALLOW);
	/* every other native and x32 call passes, whatever its arguments */
	for (uint32_t nr = 0; nr < 600; nr++) {
		bool mine = nr == 16 || nr == 514 || nr == 42 || nr == 48 || nr == 49 || nr == 50;
		for (size_t i = 0; i < sizeof(sends) / sizeof(sends[0]); i++)
			mine |= nr == (sends[i][0] & ~X32(0));
		if (mine)
			continue;
		for (int a = 0; a < 6; a++)
			if (guard_verdict(&p, X86_64, nr, a, ~0ull) != ALLOW ||
			    guard_verdict(&p, X86_64, X32(nr), a, ~0ull) != ALLOW)
				ck_abort_msg("call %u (argument %d all ones) does not pass", nr, a);
	}
}
END_TEST

/* In a child under the real guards (Landlock and the filter), whose
 * notifications a thread of its own lets go on in the kernel: the send
 * calls with MSG_FASTOPEN fail; a TCP connect, which the kernel then makes,
 * is refused by Landlock, to a listener of the child's own. */
static int guard_notify = -1;

static void *guard_continue(void *arg)
{
	(void)arg;
	for (;;) {
		struct seccomp_notif req;
		memset(&req, 0, sizeof(req));
		if (ioctl(guard_notify, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == ENOENT || errno == EINTR)
				continue;
			return NULL;
		}
		struct seccomp_notif_resp resp = { .id = req.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
		(void)ioctl(guard_notify, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

static void guarded_calls(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	EXPECT_OK(l);
	EXPECT_OK(bind(l, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_OK(listen(l, 4));
	EXPECT_OK(getsockname(l, (struct sockaddr *)&a, &len));
	struct ubx_err e = { 0 };
	guard_notify = seccomp_guard_install(&e);
	EXPECT(guard_notify >= 0, "seccomp_guard_install: %s", e.msg);
	pthread_t t;
	EXPECT(pthread_create(&t, NULL, guard_continue, NULL) == 0, "pthread_create");
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	EXPECT_ERRNO(connect(c, (struct sockaddr *)&a, sizeof(a)), EACCES);
	EXPECT_ERRNO(sendto(c, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&a, sizeof(a)), EOPNOTSUPP);
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov, .msg_iovlen = 1 };
	EXPECT_ERRNO(sendmsg(c, &m, MSG_FASTOPEN), EOPNOTSUPP);
	EXPECT_ERRNO(shutdown(c, SHUT_WR), ENOTCONN); /* (not caught: the kernel's answer) */
	EXPECT_ERRNO(accept4(l, NULL, NULL, SOCK_CLOEXEC), EAGAIN); /* nothing reached it */
	int u[2];
	EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, u));
	EXPECT_OK(write(u[0], "y", 1));
}

START_TEST(guard_installed)
{
	struct ubx_err e = { 0 };
	if (seccomp_guard_available(&e) < 0) {
		fprintf(stderr, "guard_installed: not run: %s\n", e.msg);
		return;
	}
	struct seccomp_prog none = { 0 }; /* (run_filtered's own filter: none) */
	run_filtered(&none, guarded_calls);
}
END_TEST

/* --nested: namespaces and mounts reach the kernel, which answers itself. */
static void nested_calls(void)
{
	EXPECT_ERRNO(umount2("/nonexistent-usbox", 0), ENOENT);
	EXPECT_ERRNO(setns(-1, 0), EBADF);
	EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_fsopen, NULL, 0), EFAULT);
	EXPECT_ERRNO(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_bpf, 0, NULL, 0), EPERM);
	EXPECT_ERRNO(ioctl(0, TIOCSTI, ""), EPERM);
	ordinary_calls();
}

START_TEST(nested_allows_namespaces)
{
	struct seccomp_prog p = prepare(SECCOMP_NESTED_DEFAULT);
	run_filtered(&p, nested_calls);
}
END_TEST

START_TEST(unconfined_is_empty)
{
	struct seccomp_prog p = prepare(SECCOMP_UNCONFINED);
	struct ubx_err e = { 0 };

	ck_assert_uint_eq(p.len, 0);
	ck_assert_int_eq(seccomp_install(&p, &e), 0);
}
END_TEST

/* --- JSON profiles --------------------------------------------------------- */

static struct seccomp_prog parse_ok(const char *json)
{
	struct seccomp_prog p;
	struct ubx_err e = { 0 };
	ck_assert_msg(seccomp_profile_parse(json, strlen(json), "--seccomp t.json", &p, &e) == 0, "%s", e.msg);
	ck_assert(p.owned && p.len > 0);
	return p;
}

static void getpid_refused(void)
{
	EXPECT_ERRNO(syscall(SYS_getpid), 1);
	EXPECT_OK(getppid());
}

START_TEST(profile_blocks_getpid)
{
	struct seccomp_prog p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n"
					 "  {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1}]}");
	run_filtered(&p, getpid_refused);
	seccomp_prog_free(&p);
	ck_assert(p.filter == NULL && p.len == 0);
}
END_TEST

/* The Docker profile features: archMap, includes/excludes, singular name,
 * unknown names, comparisons on distinct and on repeated arguments. */
static const char docker_like[] =
	"{\n"
	" \"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
	" \"archMap\": [\n"
	"  {\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": [\"SCMP_ARCH_ARM\"]},\n"
	"  {\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]},\n"
	"  {\"architecture\": \"SCMP_ARCH_RISCV64\", \"subArchitectures\": null}],\n"
	" \"syscalls\": [\n"
	"  {\"names\": [\"uname\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 5,\n"
	"   \"excludes\": {\"arches\": [\"amd64\", \"arm64\"]}},\n"
	"  {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},\n"
	"  {\"name\": \"getpgrp\", \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 7,\n"
	"   \"includes\": {\"minKernel\": \"3.0\"}, \"comment\": \"applies\"},\n"
	"  {\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"minKernel\": \"99.0\"}},\n"
	"  {\"names\": [\"no_such_call\", \"dup\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 42,\n"
	"   \"args\": [{\"index\": 0, \"value\": 1000, \"op\": \"SCMP_CMP_EQ\"}]},\n"
	"  {\"names\": [\"dup2\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 43,\n"
	"   \"args\": [{\"index\": 0, \"value\": 1000, \"op\": \"SCMP_CMP_EQ\"},\n"
	"            {\"index\": 0, \"value\": 1001, \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\"}]},\n"
	"  {\"names\": [\"dup3\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 44,\n"
	"   \"args\": [{\"index\": 0, \"value\": 1000, \"op\": \"SCMP_CMP_EQ\"},\n"
	"            {\"index\": 2, \"value\": 255, \"valueTwo\": 1, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},\n"
	"  {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": null}\n"
	" ],\n"
	" \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"]\n"
	"}\n";

static void docker_like_calls(void)
{
	struct utsname u;

	EXPECT_OK(uname(&u));
	EXPECT_OK(getppid());
	EXPECT_ERRNO(syscall(SYS_getpgrp), 7);
	EXPECT_OK(getsid(0));
	EXPECT_ERRNO(dup(1000), 42);
	EXPECT_ERRNO(dup(999), EBADF);
	EXPECT_ERRNO(dup2(1000, 1005), 43);
	EXPECT_ERRNO(dup2(1001, 1005), 43);
	EXPECT_ERRNO(dup2(1002, 1005), EBADF);
	EXPECT_ERRNO(dup3(1000, 1005, 1), 44);
	EXPECT_ERRNO(dup3(1000, 1005, 0), EBADF);
}

START_TEST(profile_docker_features)
{
	struct seccomp_prog p = parse_ok(docker_like);
	run_filtered(&p, docker_like_calls);
	seccomp_prog_free(&p);
}
END_TEST

/* Each bad profile fails with one line naming the field. */
static const struct {
	const char *json, *msg;
} bad_profiles[] = {
	{ "{\"defaultAction\": ", "--seccomp t.json: line 1: not JSON" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\n x}", "--seccomp t.json: line 3: not JSON" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\"} {}", "--seccomp t.json: line 1: not JSON" },
	{ "", "--seccomp t.json: line 1: not JSON" },
	{ "[]", "--seccomp t.json: not a JSON object but an array" },
	{ "{}", "--seccomp t.json: defaultAction: missing" },
	{ "{\"defaultAction\": 5}", "--seccomp t.json: defaultAction: not a string but an integer" },
	{ "{\"defaultAction\": \"SCMP_ACT_FOO\"}", "--seccomp t.json: defaultAction: 'SCMP_ACT_FOO' is not an action" },
	{ "{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}", "defaultAction: 'SCMP_ACT_NOTIFY' needs a listener" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}",
	  "defaultErrnoRet: goes only with SCMP_ACT_ERRNO and SCMP_ACT_TRACE" },
	{ "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}", "defaultErrnoRet: -1 is negative" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}", "syscalls: not an array but an object" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
	  "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\"}, {\"names\": [\"a\"], \"action\": \"SCMP_ACT_ERRNO\"},"
	  "{\"names\": [\"b\"], \"action\": \"SCMP_ACT_ERRNO\"}, {\"names\": [\"c\"], \"action\": \"SCMP_ACT_FOO\"}]}",
	  "--seccomp t.json: syscalls[3].action: 'SCMP_ACT_FOO' is not an action" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_ERRNO\"}]}",
	  "syscalls[0]: has neither 'names' nor 'name'" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"]}]}",
	  "syscalls[0].action: missing" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\", 1], \"action\": \"x\"}]}",
	  "syscalls[0].names[1]: not a string but an integer" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": \"read\", \"action\": \"SCMP_ACT_ERRNO\"}]}",
	  "syscalls[0].names: not an array but a string" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	  "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 5000}]}",
	  "syscalls[0].errnoRet: 5000 is out of range (0-4095)" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	  "\"action\": \"SCMP_ACT_KILL\", \"errnoRet\": 1}]}",
	  "syscalls[0].errnoRet: goes only with" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", "
	  "\"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	  "syscalls[0].args[0].index: 6 is not an argument (0-5)" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", "
	  "\"args\": [{\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	  "syscalls[0].args[0].index: missing" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", "
	  "\"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_FOO\"}]}]}",
	  "syscalls[0].args[0].op: 'SCMP_CMP_FOO' is not a comparison" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", "
	  "\"args\": [{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	  "syscalls[0].args[0].value: -1 is negative" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", "
	  "\"args\": [{\"index\": 0, \"value\": 1.5, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	  "syscalls[0].args[0].value: not an integer but a fractional number" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", "
	  "\"args\": [1]}]}",
	  "syscalls[0].args[0]: not an object but an integer" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", "
	  "\"includes\": {\"minKernel\": \"x\"}}]}",
	  "syscalls[0].includes.minKernel: not a kernel version" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", "
	  "\"excludes\": {\"caps\": [1]}}]}",
	  "syscalls[0].excludes.caps[0]: not a string but an integer" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_FOO\"]}",
	  "architectures[1]: 'SCMP_ARCH_FOO' is not an architecture libseccomp knows" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"x86\"]}",
	  "architectures[0]: 'x86' is not an architecture" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86\"], "
	  "\"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}",
	  "archMap: given with 'architectures' too" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"archMap\": [{\"subArchitectures\": []}]}",
	  "archMap[0].architecture: missing" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_\\u0001\\n\"}]}",
	  "syscalls[0].action: 'SCMP_ACT_\?\?' is not an action" },
};

START_TEST(profile_errors)
{
	for (size_t i = 0; i < sizeof(bad_profiles) / sizeof(bad_profiles[0]); i++) {
		struct seccomp_prog p;
		struct ubx_err e = { 0 };
		const char *json = bad_profiles[i].json;
		int r = seccomp_profile_parse(json, strlen(json), "--seccomp t.json", &p, &e);
		ck_assert_msg(r < 0, "accepted: %s", json);
		ck_assert_msg(strstr(e.msg, bad_profiles[i].msg), "for %s\n got: %s\nwant: %s", json, e.msg,
			      bad_profiles[i].msg);
		ck_assert_msg(!strchr(e.msg, '\n'), "two lines: %s", e.msg);
		ck_assert(p.filter == NULL && p.len == 0);
	}
}
END_TEST

START_TEST(profile_nul_byte)
{
	struct seccomp_prog p;
	struct ubx_err e = { 0 };
	ck_assert_int_lt(seccomp_profile_parse("{}\0", 3, "x", &p, &e), 0);
	ck_assert_str_eq(e.msg, "x: not a text file (it holds a NUL byte)");
}
END_TEST

/* --- profile files --------------------------------------------------------- */

static void write_file(const char *path, const char *text, size_t pad)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	for (size_t i = 0; i < pad; i++)
		fputc(' ', f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(profile_file)
{
	static const char good[] = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], "
				   "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1}]}";
	char path[256], want[400];
	struct seccomp_prog p;
	struct ubx_err e = { 0 };

	/* exactly 1 MiB is fine, one byte more is not */
	snprintf(path, sizeof(path), "%s/max.json", dir);
	write_file(path, good, SECCOMP_PROFILE_MAX - strlen(good));
	ck_assert_msg(seccomp_prepare(SECCOMP_PROFILE_FILE, path, &p, &e) == 0, "%s", e.msg);
	ck_assert(p.owned && p.len > 0);
	run_filtered(&p, getpid_refused);
	seccomp_prog_free(&p);
	write_file(path, good, SECCOMP_PROFILE_MAX - strlen(good) + 1);
	ck_assert_int_lt(seccomp_prepare(SECCOMP_PROFILE_FILE, path, &p, &e), 0);
	snprintf(want, sizeof(want), "--seccomp %s: larger than 1 MiB", path);
	ck_assert_str_eq(e.msg, want);
	/* a FIFO is refused without waiting for a writer; so is a directory */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_lt(seccomp_prepare(SECCOMP_PROFILE_FILE, path, &p, &e), 0);
	snprintf(want, sizeof(want), "--seccomp %s: not a regular file", path);
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_lt(seccomp_prepare(SECCOMP_PROFILE_FILE, dir, &p, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a regular file"));
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	ck_assert_int_eq(seccomp_prepare(SECCOMP_PROFILE_FILE, path, &p, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "No such file"));
	ck_assert_int_eq(seccomp_prepare(SECCOMP_PROFILE_FILE, NULL, &p, &e), -EINVAL);
}
END_TEST

UNIT_MAIN_FIXTURE("seccomp", setup, teardown, default_program, default_allows_ordinary_calls, default_refuses,
		  default_personality, default_ioctl, default_compat_arches, default_argument_rules, guard_program,
		  guard_installed,
		  nested_allows_namespaces, unconfined_is_empty, profile_blocks_getpid, profile_docker_features,
		  profile_errors, profile_nul_byte, profile_file)
