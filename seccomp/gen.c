/* SPDX-License-Identifier: MIT */
/*
 * gen.c - the build-time generator of usbox's default seccomp filters.
 *
 * DOC: Theory of operation
 * A host program, linked with libseccomp, that prints a C file holding the
 * default filters as classic BPF, so that usbox installs them at run time
 * with one seccomp() call and never loads libseccomp for them.  Two filters:
 * the default profile and the --nested one.
 *
 * The semantics are those of Docker's and podman's default profile: an
 * allowlist, on the native architecture and its compat ones (x86_64: i386 and
 * x32), filtered alike.  Every system-call name libseccomp knows on those
 * architectures is enumerated (numbers 0..SCAN_MAX, x32's with its bit) and
 * classified (classify()): a name on the allowlist is allowed, any other
 * known name fails with EPERM, and what no name covers - calls newer than
 * the profile - fails with ENOSYS, so that libc falls back to an older call.
 * clone3 fails with ENOSYS too: its flags are in memory, out of a filter's
 * reach, and glibc falls back to clone, whose flags are checked.  clone,
 * unshare, personality and ioctl are allowed for some arguments only, and
 * fail with EPERM for the others.
 *
 * Each filter is compiled twice from that one classification:
 *
 *  1. by libseccomp, rule by rule, and exported with seccomp_export_bpf().
 *     libseccomp keeps one action per call when a rule has no condition (an
 *     unconditional ALLOW swallows a later conditional ERRNO, and the other
 *     way round) and compares an argument at most once per rule, so the
 *     allowed and the refused arguments are each written as a union of single
 *     masked comparisons that never overlap (cover_not_in(),
 *     cover_personality()).  This program is the reference;
 *  2. by compile(), into a compact program: per architecture a binary search
 *     over runs of numbers with one verdict, and a few instructions per
 *     argument check.  libseccomp's export tests each of the ~450 names per
 *     architecture on its own (~1750 instructions for three), and what the
 *     kernel spends installing a filter (converting it to eBPF, JIT) grows
 *     with its size: the compact one is a fifth of that (~350 instructions,
 *     one page of eBPF), which keeps sandbox start-up within its budget.
 *
 * cross_check() runs both programs (run_bpf()) on every number of every
 * architecture with many argument values, and the build fails unless they
 * agree everywhere; only the compact program is written out.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define SCAN_MAX 1200          /* syscall numbers scanned per architecture */
#define X32_BIT 0x40000000u
#define LOW32 0xffffffffull

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Docker's default allowlist (moby profiles/seccomp), less io_uring,
 * name_to_handle_at and the clock-adjusting calls; plus chroot (Docker allows
 * it with CAP_SYS_CHROOT, which usbox's root has), ptrace and
 * process_vm_readv/writev (Docker's rule for kernels from 4.8), and calls newer
 * than Docker's list that only act on the caller.  Names of other
 * architectures are harmless here: only names libseccomp knows on the filtered
 * architectures are looked up.
 */
static const char *const allow_names[] = {
	"_llseek", "_newselect", "accept", "accept4", "access", "alarm", "arch_prctl",
	"arm_fadvise64_64", "arm_sync_file_range", "bind", "breakpoint", "brk", "cachestat",
	"cacheflush", "capget", "capset", "chdir", "chmod", "chown", "chown32", "chroot",
	"clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
	"clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
	"copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
	"epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
	"epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
	"faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
	"fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
	"fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
	"fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync",
	"ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait",
	"futex_waitv", "futex_wake", "futimesat", "get_robust_list", "get_thread_area",
	"getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
	"geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
	"getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
	"getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "getrusage",
	"getsid", "getsockname", "getsockopt", "gettid", "gettimeofday", "getuid", "getuid32",
	"getxattr", "getxattrat", "inotify_add_watch", "inotify_init", "inotify_init1",
	"inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
	"io_pgetevents_time64", "io_setup", "io_submit", "ioprio_get", "ioprio_set", "ipc",
	"kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
	"lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listmount",
	"listxattr", "listxattrat", "llistxattr", "lremovexattr", "lseek", "lsetxattr",
	"lsm_get_self_attr", "lsm_list_modules", "lstat", "lstat64", "madvise",
	"map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
	"mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
	"modify_ldt", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
	"mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
	"mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
	"munlockall", "munmap", "nanosleep", "newfstatat", "open", "openat", "openat2",
	"pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
	"pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
	"preadv2", "prlimit64", "process_mrelease", "process_vm_readv", "process_vm_writev",
	"pselect6", "pselect6_time64", "ptrace", "pwrite64", "pwritev", "pwritev2", "read",
	"readahead", "readlink", "readlinkat", "readv", "recvfrom", "recvmmsg",
	"recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "removexattrat",
	"rename", "renameat", "renameat2", "restart_syscall", "riscv_flush_icache", "rmdir",
	"rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
	"rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
	"rt_tgsigqueueinfo", "s390_pci_mmio_read", "s390_pci_mmio_write",
	"s390_runtime_instr", "sched_get_priority_max", "sched_get_priority_min",
	"sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler",
	"sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
	"sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
	"select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "sendfile",
	"sendfile64", "sendmmsg", "sendmsg", "sendto", "set_robust_list", "set_thread_area",
	"set_tid_address", "set_tls", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
	"setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
	"setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
	"setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid", "setsockopt",
	"setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt", "shmget",
	"shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
	"socket", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
	"statfs64", "statmount", "statx", "swapcontext", "symlink", "symlinkat", "sync",
	"sync_file_range", "sync_file_range2", "syncfs", "sysinfo", "tee", "tgkill", "time",
	"timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
	"timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
	"timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
	"times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink",
	"unlinkat", "uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork",
	"vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
};

/* --nested: what a container engine, bwrap or a browser's sandbox needs to
 * build namespaces of its own inside the sandbox. */
static const char *const nested_names[] = {
	"clone", "clone3", "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr",
	"move_mount", "open_tree", "open_tree_attr", "pivot_root", "setdomainname",
	"sethostname", "setns", "umount", "umount2", "unshare",
};

/* Refused by both filters (check_lists() holds the lists to it). */
static const char *const always_blocked[] = {
	"acct", "add_key", "adjtimex", "bpf", "clock_adjtime", "clock_adjtime64",
	"clock_settime", "clock_settime64", "create_module", "delete_module", "finit_module",
	"init_module", "io_uring_enter", "io_uring_register", "io_uring_setup",
	"kexec_file_load", "kexec_load", "keyctl", "name_to_handle_at", "open_by_handle_at",
	"perf_event_open", "reboot", "request_key", "settimeofday", "stime", "swapoff",
	"swapon", "userfaultfd",
};

/* Refused by the default filter only: the calls --nested adds. */
static const char *const default_blocked[] = {
	"fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr", "move_mount",
	"open_tree", "pivot_root", "setns", "umount", "umount2",
};

#define NS_FLAGS \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26,
 * UNAME26|PER_LINUX32, and 0xffffffff (query). */
static const uint64_t personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };
/* ioctl(2) commands refused: TIOCSTI pushes input into a terminal
 * (CVE-2017-5226), and TIOCLINUX's selection paste on a virtual console can
 * do the same (CVE-2023-1523). */
static const uint64_t refused_ioctls[] = { TIOCSTI, TIOCLINUX };

/* What a known call becomes. */
enum kind {
	K_ALLOW,
	K_EPERM,
	K_ENOSYS,      /* also every number no name covers */
	K_CLONE,       /* allowed without a namespace flag */
	K_UNSHARE,     /* the same, CLONE_NEWTIME included */
	K_PERSONALITY, /* allowed for personalities[] */
	K_IOCTL,       /* allowed but for refused_ioctls[] */
};

static const uint32_t kind_ret[] = {
	[K_ALLOW] = SECCOMP_RET_ALLOW,
	[K_EPERM] = SECCOMP_RET_ERRNO | EPERM,
	[K_ENOSYS] = SECCOMP_RET_ERRNO | ENOSYS,
};

static _Noreturn void die(const char *what, int err)
{
	fprintf(stderr, "seccomp/gen: %s%s%s\n", what, err ? ": " : "", err ? strerror(err) : "");
	exit(1);
}

static bool listed(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

#define LISTED(list, name) listed(list, ARRAY_SIZE(list), name)

/* classify() - the policy: what @name becomes in the default filter or,
 * with @nested, in the --nested one. */
static enum kind classify(const char *name, bool nested)
{
	if (nested && LISTED(nested_names, name))
		return K_ALLOW;
	if (strcmp(name, "clone3") == 0)
		return K_ENOSYS;
	if (strcmp(name, "clone") == 0)
		return K_CLONE;
	if (strcmp(name, "unshare") == 0)
		return K_UNSHARE;
	if (strcmp(name, "personality") == 0)
		return K_PERSONALITY;
	if (strcmp(name, "ioctl") == 0)
		return K_IOCTL;
	return LISTED(allow_names, name) ? K_ALLOW : K_EPERM;
}

static void must_refuse(const char *name, bool nested)
{
	if (classify(name, nested) != K_EPERM) {
		fprintf(stderr, "seccomp/gen: %s must be refused%s, but the lists allow it\n", name,
			nested ? " with --nested too" : "");
		exit(1);
	}
}

/* The lists hold what they must: the blocked names are refused. */
static void check_lists(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(always_blocked); i++) {
		must_refuse(always_blocked[i], false);
		must_refuse(always_blocked[i], true);
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_blocked); i++)
		must_refuse(default_blocked[i], false);
}

/* --- the architectures and the names libseccomp knows on them ------------ */

struct arch {
	uint32_t token;    /* libseccomp's; the audit arch, but for x32 */
	uint32_t audit;    /* what the kernel reports in seccomp_data.arch */
	uint32_t base;     /* the first number: X32_BIT for x32 */
	char *names[SCAN_MAX];
};

static size_t filter_arches(struct arch *out)
{
	size_t n = 0;
	uint32_t native = seccomp_arch_native();

	out[n++] = (struct arch){ .token = native, .audit = native };
	if (native == SCMP_ARCH_X86_64) {
		out[n++] = (struct arch){ .token = SCMP_ARCH_X86, .audit = AUDIT_ARCH_I386 };
		out[n++] = (struct arch){ .token = SCMP_ARCH_X32, .audit = AUDIT_ARCH_X86_64, .base = X32_BIT };
	} else if (native == SCMP_ARCH_AARCH64) {
		out[n++] = (struct arch){ .token = SCMP_ARCH_ARM, .audit = AUDIT_ARCH_ARM };
	}
	for (size_t a = 0; a < n; a++)
		for (uint32_t nr = 0; nr < SCAN_MAX; nr++)
			out[a].names[nr] = seccomp_syscall_resolve_num_arch(out[a].token, (int)(out[a].base + nr));
	return n;
}

static void free_arches(struct arch *arches, size_t n)
{
	for (size_t a = 0; a < n; a++)
		for (size_t nr = 0; nr < SCAN_MAX; nr++)
			free(arches[a].names[nr]);
}

/* --- 1. the reference: libseccomp's rules ---------------------------------- */

/* One single-comparison rule: (argument & mask) == datum. */
struct masked {
	uint64_t mask, datum;
};

struct rule_set {
	struct masked r[128];
	size_t n;
};

static void push(struct rule_set *s, uint64_t mask, uint64_t datum)
{
	if (s->n == ARRAY_SIZE(s->r))
		die("too many argument rules", 0);
	s->r[s->n++] = (struct masked){ mask, datum };
}

/*
 * cover_not_in() - rules that match exactly the values whose low 32 bits are
 * not in @set: walk the binary trie of @set from bit 31 down, and where a
 * branch holds no member, one rule fixes the bits above it and that bit.
 */
static void cover_not_in(struct rule_set *out, const uint64_t *set, size_t n, int bit, uint64_t mask,
			 uint64_t datum)
{
	for (uint64_t b = 0; b <= 1; b++) {
		uint64_t m = mask | 1ull << bit, d = datum | b << bit;
		size_t members = 0;
		for (size_t i = 0; i < n; i++)
			members += (set[i] & m) == d;
		if (members == 0)
			push(out, m, d);
		else if (bit > 0)
			cover_not_in(out, set, n, bit - 1, m, d);
	}
}

/*
 * cover_personality() - rules that match exactly the values whose low 32 bits
 * are not in personalities[], each fixing two bits.  The allowed values are
 * the four made of bits 3 and 17 alone, and all ones; so a refused value has a
 * bit outside {3, 17} set and some bit clear.  Rules "bit c_k set, bit
 * c_(k+1) clear" around a cycle of the 30 other bits catch every value with
 * one of those both set and clear; "c_0 set, bit 3 clear" and "c_0 set, bit 17
 * clear" catch the rest, whose 30 other bits are all set.
 */
static void cover_personality(struct rule_set *out)
{
	int cycle[30] = { 0 }, n = 0;

	for (int bit = 0; bit < 32; bit++)
		if (bit != 3 && bit != 17)
			cycle[n++] = bit;
	for (int k = 0; k < n; k++) {
		uint64_t set = 1ull << cycle[k], clear = 1ull << cycle[(k + 1) % n];
		push(out, set | clear, set);
	}
	push(out, 1ull << cycle[0] | 1ull << 3, 1ull << cycle[0]);
	push(out, 1ull << cycle[0] | 1ull << 17, 1ull << cycle[0]);
}

static void add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned argc,
		const struct scmp_arg_cmp *argv)
{
	int r = seccomp_rule_add_array(ctx, action, seccomp_syscall_resolve_name(name), argc, argv);
	if (r < 0) {
		fprintf(stderr, "seccomp/gen: rule for %s: %s\n", name, strerror(-r));
		exit(1);
	}
}

static void add_rules(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned arg,
		      const struct rule_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct scmp_arg_cmp c = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, s->r[i].mask, s->r[i].datum);
		add(ctx, action, name, 1, &c);
	}
}

/* Argument @arg of @name allowed when its low 32 bits are in @set (or, with
 * !@allowed_in_set, when they are not); EPERM otherwise. */
static void add_by_value(scmp_filter_ctx ctx, const char *name, unsigned arg, const uint64_t *set, size_t n,
			 bool allowed_in_set)
{
	struct rule_set in = { .n = 0 }, out = { .n = 0 };

	for (size_t i = 0; i < n; i++)
		push(&in, LOW32, set[i]);
	if (strcmp(name, "personality") == 0)
		cover_personality(&out);
	else
		cover_not_in(&out, set, n, 31, 0, 0);
	add_rules(ctx, SCMP_ACT_ALLOW, name, arg, allowed_in_set ? &in : &out);
	add_rules(ctx, SCMP_ACT_ERRNO(EPERM), name, arg, allowed_in_set ? &out : &in);
}

/* clone and unshare: allowed without a namespace flag; EPERM with any. */
static void add_ns_guard(scmp_filter_ctx ctx, const char *name, uint64_t flags)
{
	struct scmp_arg_cmp none = SCMP_CMP(0, SCMP_CMP_MASKED_EQ, flags, 0);

	add(ctx, SCMP_ACT_ALLOW, name, 1, &none);
	for (int bit = 0; bit < 64; bit++) {
		uint64_t f = 1ull << bit;
		if (flags & f) {
			struct scmp_arg_cmp one = SCMP_CMP(0, SCMP_CMP_MASKED_EQ, f, f);
			add(ctx, SCMP_ACT_ERRNO(EPERM), name, 1, &one);
		}
	}
}

static void add_kind(scmp_filter_ctx ctx, const char *name, enum kind k)
{
	switch (k) {
	case K_ALLOW: add(ctx, SCMP_ACT_ALLOW, name, 0, NULL); break;
	case K_EPERM: add(ctx, SCMP_ACT_ERRNO(EPERM), name, 0, NULL); break;
	case K_ENOSYS: break; /* the default action */
	/* clone's low byte is the exit signal, so no CLONE_NEWTIME there */
	case K_CLONE: add_ns_guard(ctx, name, NS_FLAGS); break;
	case K_UNSHARE: add_ns_guard(ctx, name, NS_FLAGS | CLONE_NEWTIME); break;
	case K_PERSONALITY: add_by_value(ctx, name, 0, personalities, ARRAY_SIZE(personalities), true); break;
	case K_IOCTL: add_by_value(ctx, name, 1, refused_ioctls, ARRAY_SIZE(refused_ioctls), false); break;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* reference() - libseccomp's program for every name known on @arches. */
static struct sock_filter *reference(const struct arch *arches, size_t n_arches, bool nested, size_t *len)
{
	static const char *names[4 * SCAN_MAX];
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	size_t n = 0;
	int r;

	if (!ctx)
		die("seccomp_init", 0);
	/* Architectures first: rules added earlier would miss those added later. */
	for (size_t a = 1; a < n_arches; a++)
		if ((r = seccomp_arch_add(ctx, arches[a].token)) < 0)
			die("seccomp_arch_add", -r);
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
		die("SCMP_FLTATR_ACT_BADARCH", -r);
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t a = 0; a < n_arches; a++)
		for (size_t nr = 0; nr < SCAN_MAX; nr++)
			if (arches[a].names[nr])
				names[n++] = arches[a].names[nr];
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(names[i - 1], names[i]) != 0)
			add_kind(ctx, names[i], classify(names[i], nested));

	FILE *f = tmpfile();
	long size;
	if (!f)
		die("tmpfile", errno);
	if ((r = seccomp_export_bpf(ctx, fileno(f))) < 0)
		die("seccomp_export_bpf", -r);
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) < 0)
		die("reading the exported filter", errno);
	*len = (size_t)size / sizeof(struct sock_filter);
	struct sock_filter *prog = malloc((size_t)size);
	if (!prog || fread(prog, sizeof(*prog), *len, f) != *len)
		die("reading the exported filter", errno);
	fclose(f);
	seccomp_release(ctx);
	return prog;
}

/* --- 2. the compact program -------------------------------------------------- */

/* Offsets in struct seccomp_data; an argument's low half on this host. */
#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OFF_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define OFF_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

/*
 * The program is written back to front, so that every jump's target is
 * already placed: instruction k of insn[] (the k-th written) ends up k places
 * from the end.  A conditional jump reaches at most 255 instructions ahead;
 * a farther target gets a copy of its return, or an unconditional jump.
 */
struct emitter {
	struct sock_filter insn[BPF_MAXINSNS];
	int n;
	int ret_at[K_ENOSYS + 1]; /* the nearest return of a plain verdict, or -1 */
};

/* Where a jump may go: an instruction, or a plain return (copied when far). */
struct target {
	int at;
	bool is_ret;
	enum kind kind;
};

static int put(struct emitter *m, struct sock_filter f)
{
	if (m->n == BPF_MAXINSNS)
		die("the compact filter is too long", 0);
	m->insn[m->n] = f;
	return m->n++;
}

static struct target at(int pos)
{
	return (struct target){ .at = pos };
}

static struct target ret(struct emitter *m, enum kind k)
{
	if (m->ret_at[k] < 0)
		m->ret_at[k] = put(m, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, kind_ret[k]));
	return (struct target){ .at = m->ret_at[k], .is_ret = true, .kind = k };
}

/* reach() - @t, or a stand-in near enough for a jump written after @slack
 * more instructions. */
static int reach(struct emitter *m, struct target t, int slack)
{
	if (m->n + slack - t.at - 1 <= 255)
		return t.at;
	if (t.is_ret)
		return m->ret_at[t.kind] = put(m, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, kind_ret[t.kind]));
	return put(m, (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(m->n - t.at - 1)));
}

/* jump() - "if (A code k) goto yes; else goto no". */
static struct target jump(struct emitter *m, uint16_t code, uint32_t k, struct target yes, struct target no)
{
	int f = reach(m, no, 1), t = reach(m, yes, 0);
	if (m->n - t - 1 > 255 || m->n - f - 1 > 255)
		die("a jump out of reach", 0);
	return at(put(m, (struct sock_filter)BPF_JUMP(BPF_JMP | code | BPF_K, k, (uint8_t)(m->n - t - 1),
							  (uint8_t)(m->n - f - 1))));
}

/* fall_into() - make @t the instruction that the next one written falls into. */
static void fall_into(struct emitter *m, struct target t)
{
	if (t.at != m->n - 1)
		(void)put(m, (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(m->n - t.at - 1)));
}

static struct target load(struct emitter *m, uint32_t offset)
{
	return at(put(m, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)));
}

/* Allowed when the low half of argument @arg is (or, !@allow_in, is not) in @set. */
static struct target check_value(struct emitter *m, unsigned arg, const uint64_t *set, size_t n, bool allow_in)
{
	struct target in = ret(m, allow_in ? K_ALLOW : K_EPERM), out = ret(m, allow_in ? K_EPERM : K_ALLOW);
	struct target t = out;

	for (size_t i = n; i-- > 0;)
		t = jump(m, BPF_JEQ, (uint32_t)set[i], in, t);
	fall_into(m, t);
	return load(m, OFF_ARG_LO(arg));
}

/* Allowed when the low half of argument 0 has none of @flags. */
static struct target check_flags(struct emitter *m, uint32_t flags)
{
	fall_into(m, jump(m, BPF_JSET, flags, ret(m, K_EPERM), ret(m, K_ALLOW)));
	return load(m, OFF_ARG_LO(0));
}

static struct target leaf(struct emitter *m, enum kind k)
{
	switch (k) {
	case K_CLONE: return check_flags(m, NS_FLAGS);
	case K_UNSHARE: return check_flags(m, NS_FLAGS | CLONE_NEWTIME);
	case K_PERSONALITY: return check_value(m, 0, personalities, ARRAY_SIZE(personalities), true);
	case K_IOCTL: return check_value(m, 1, refused_ioctls, ARRAY_SIZE(refused_ioctls), false);
	default: return ret(m, k);
	}
}

/* A run of numbers from lo up to the next run's lo, with one verdict. */
struct run {
	uint32_t lo;
	enum kind kind;
};

#define CHAIN 4 /* runs searched in a line rather than halved */

/*
 * chain() - with the number in A, the verdict among a few @runs[lo, hi):
 * compare with each run's start from the top; each comparison falls into
 * the next.  (The kernel turns a comparison whose either branch is the next
 * instruction into one eBPF instruction, and one with two far branches into
 * two; a filter that fits a page in eBPF installs faster.)
 */
static struct target chain(struct emitter *m, const struct run *runs, size_t lo, size_t hi)
{
	struct target leaves[CHAIN], t;

	for (size_t i = hi - 1; i > lo; i--) /* argument checks out of the way first */
		leaves[i - lo] = leaf(m, runs[i].kind);
	t = leaf(m, runs[lo].kind);
	for (size_t i = lo + 1; i < hi; i++)
		t = jump(m, BPF_JGE, runs[i].lo, leaves[i - lo], t);
	return t;
}

/* search() - with the number in A, a binary search over @runs[lo, hi) down
 * to chains; each comparison falls into its lower half. */
static struct target search(struct emitter *m, const struct run *runs, size_t lo, size_t hi)
{
	if (hi - lo <= CHAIN)
		return chain(m, runs, lo, hi);
	size_t mid = lo + (hi - lo) / 2;
	struct target above = search(m, runs, mid, hi), below = search(m, runs, lo, mid);
	return jump(m, BPF_JGE, runs[mid].lo, above, below);
}

/* runs() - @a's numbers as runs of one verdict, from a->base up (the search
 * is entered with numbers of @a only); numbers no name covers are K_ENOSYS,
 * and a call checked by its arguments is a run of its own. */
static size_t runs(const struct arch *a, bool nested, struct run *out)
{
	size_t n = 0;
	for (uint32_t nr = 0; nr <= SCAN_MAX; nr++) {
		enum kind k = nr < SCAN_MAX && a->names[nr] ? classify(a->names[nr], nested) : K_ENOSYS;
		bool special = k != K_ALLOW && k != K_EPERM && k != K_ENOSYS;
		if (n == 0 || special || out[n - 1].kind != k)
			out[n++] = (struct run){ .lo = a->base + nr, .kind = k };
	}
	return n;
}

static struct target arch_tree(struct emitter *m, const struct arch *a, bool nested)
{
	static struct run r[SCAN_MAX + 1];
	return search(m, r, 0, runs(a, nested, r));
}

/* compile() - the compact program: dispatch on the architecture (x32 shares
 * x86_64's and is told by its bit), then search the number. */
static struct sock_filter *compile(const struct arch *arches, size_t n_arches, bool nested, size_t *len)
{
	static struct emitter m;
	struct target next;
	const struct arch *x32 = NULL;

	m = (struct emitter){ .n = 0, .ret_at = { -1, -1, -1 } };
	next = at(put(&m, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)));
	for (size_t a = 0; a < n_arches; a++)
		if (arches[a].base)
			x32 = &arches[a];
	for (size_t a = n_arches; a-- > 0;) {
		if (arches[a].base)
			continue;
		struct target entry = arch_tree(&m, &arches[a], nested);
		if (x32 && arches[a].audit == x32->audit)
			entry = jump(&m, BPF_JGE, X32_BIT, arch_tree(&m, x32, nested), entry);
		fall_into(&m, entry);
		next = jump(&m, BPF_JEQ, arches[a].audit, load(&m, OFF_NR), next);
	}
	fall_into(&m, next);
	(void)load(&m, OFF_ARCH);
	struct sock_filter *prog = malloc((size_t)m.n * sizeof(*prog));
	if (!prog)
		die("out of memory", ENOMEM);
	for (int i = 0; i < m.n; i++)
		prog[i] = m.insn[m.n - 1 - i];
	*len = (size_t)m.n;
	return prog;
}

/* --- the cross-check ------------------------------------------------------- */

/* run_bpf() - what @prog answers for @d; only the instructions both
 * compilers emit are known. */
static uint32_t run_bpf(const struct sock_filter *prog, size_t len, const struct seccomp_data *d)
{
	uint32_t a = 0;

	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *i = &prog[pc];
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k > sizeof(*d) - 4)
				die("a load out of seccomp_data", 0);
			memcpy(&a, (const char *)d + i->k, 4);
			break;
		case BPF_ALU | BPF_AND | BPF_K: a &= i->k; break;
		case BPF_JMP | BPF_JA: pc += i->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += a == i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += a > i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += a >= i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += (a & i->k) ? i->jt : i->jf; break;
		case BPF_RET | BPF_K: return i->k;
		default: die("an instruction the emulator does not know", 0);
		}
	}
	die("a program that runs off its end", 0);
}

/* Argument values that tell the argument checks apart: some chosen, every
 * 32-bit value with one or two bits set or clear (under three upper halves),
 * then pseudo-random ones. */
static uint64_t sample(size_t i, uint64_t *x)
{
	static const uint64_t fixed[] = {
		0, 1, 8, 0x20000, 0x20008, 0xffffffff, 0x40000, 0xfffffffe, 0x100000008ull, TIOCSTI, TIOCLINUX,
		TIOCSTI - 1, TIOCSTI + 1, 0x100000000ull | TIOCSTI, 0xffffffff00000000ull | TIOCLINUX, TIOCGWINSZ,
		SIGCHLD, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD, CLONE_NEWTIME,
		CLONE_NEWUSER | SIGCHLD, CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID,
		CLONE_NEWNET, 1ull << 40 | CLONE_FILES, ~0ull,
	};
	static const uint64_t highs[] = { 0, 1ull << 32, 0xffffffff00000000ull };

	if (i < ARRAY_SIZE(fixed))
		return fixed[i];
	i -= ARRAY_SIZE(fixed);
	if (i < 2 * 32 * 32 * ARRAY_SIZE(highs)) {
		uint64_t two = 1ull << (i / 2 % 32) | 1ull << (i / 64 % 32);
		return highs[i / 2048] | (i % 2 ? ~two & LOW32 : two);
	}
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	return i % 2 ? *x : *x & LOW32;
}

static void compare(const struct sock_filter *a, size_t a_len, const struct sock_filter *b, size_t b_len,
		    const struct seccomp_data *d)
{
	uint32_t ra = run_bpf(a, a_len, d), rb = run_bpf(b, b_len, d);
	if (ra != rb) {
		fprintf(stderr, "seccomp/gen: the programs disagree on arch %#x nr %#x args %#llx %#llx: %#x, %#x\n",
			d->arch, (unsigned)d->nr, (unsigned long long)d->args[0], (unsigned long long)d->args[1], ra,
			rb);
		exit(1);
	}
}

/* cross_check() - @compact and @ref agree on every number of every
 * architecture, with many values of the arguments the checks read. */
static void cross_check(const struct arch *arches, size_t n_arches, bool nested, const struct sock_filter *compact,
			size_t c_len, const struct sock_filter *ref, size_t r_len)
{
	static const uint32_t edges[] = { 0x3fffffff, 0x40000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff };
	uint64_t x = 88172645463325252ull;
	struct seccomp_data d = { .arch = AUDIT_ARCH_AARCH64 == arches[0].audit ? AUDIT_ARCH_X86_64
									 : AUDIT_ARCH_AARCH64 };

	compare(compact, c_len, ref, r_len, &d); /* a foreign architecture */
	for (size_t a = 0; a < n_arches; a++) {
		d.arch = arches[a].audit;
		for (uint64_t nr = arches[a].base; nr <= arches[a].base + SCAN_MAX + 64; nr++) {
			const char *name = nr < arches[a].base + SCAN_MAX ? arches[a].names[nr - arches[a].base] : NULL;
			enum kind k = name ? classify(name, nested) : K_ENOSYS;
			size_t samples = k > K_ENOSYS ? 30000 : 40;
			d.nr = (int)nr;
			for (size_t i = 0; i < samples; i++) {
				d.args[0] = sample(i, &x);
				d.args[1] = sample(i, &x);
				compare(compact, c_len, ref, r_len, &d);
			}
		}
		for (size_t i = 0; i < ARRAY_SIZE(edges); i++) {
			d.nr = (int)edges[i];
			compare(compact, c_len, ref, r_len, &d);
		}
	}
}

/* --- output ------------------------------------------------------------------ */

static void emit(const char *name, const struct sock_filter *prog, size_t len)
{
	printf("\nconst struct sock_filter %s[] = {\n", name);
	for (size_t i = 0; i < len; i++)
		printf("\t{ 0x%04x, %3u, %3u, 0x%08x },\n", prog[i].code, prog[i].jt, prog[i].jf, prog[i].k);
	printf("};\nconst unsigned short %s_len = %zu;\n", name, len);
}

int main(void)
{
	static struct arch arches[3];
	const struct scmp_version *v = seccomp_version();
	const char *names[] = { "seccomp_filter_default", "seccomp_filter_nested" };
	size_t n_arches, c_len, r_len;

	check_lists();
	n_arches = filter_arches(arches);
	printf("/* Generated by seccomp/gen.c with libseccomp %u.%u.%u.  Do not edit. */\n#include \"internal.h\"\n",
	       v->major, v->minor, v->micro);
	for (int nested = 0; nested <= 1; nested++) {
		struct sock_filter *ref = reference(arches, n_arches, nested, &r_len);
		struct sock_filter *prog = compile(arches, n_arches, nested, &c_len);
		cross_check(arches, n_arches, nested, prog, c_len, ref, r_len);
		printf("\n/* %s: %zu instructions (libseccomp's own export: %zu), checked against libseccomp's */",
		       nested ? "--nested" : "the default profile", c_len, r_len);
		emit(names[nested], prog, c_len);
		free(prog);
		free(ref);
	}
	free_arches(arches, n_arches);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
