/* SPDX-License-Identifier: MIT */
/*
 * attempts - the escape attempts of tests/escape/run.sh, made for real from
 * inside a usbox sandbox.
 *
 *   attempts NAME [ARG...]
 *
 * Each attempt prints one line: "ok" when what it tried worked (for a probe
 * that must fail, that is the escape), else the errno's name (EPERM, EROFS,
 * ...) or a short observable ("euid=1000", "null device", "0 1 2").  The exit
 * status is 0 whenever a line was printed; 2 for a usage error.  The driver
 * compares the line with what the attempt must give.
 *
 * A few modes run outside the sandbox, as the driver's helpers: `listen`
 * (a TCP/UDP/unix listener that records whatever reaches it) and the host
 * probes of `sc int80-keyctl`/`sc x32-keyctl` (is the ABI there at all?).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_packet.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef MAX_HANDLE_SZ
#define MAX_HANDLE_SZ 128
#endif
#define X32_SYSCALL_BIT 0x40000000L
#define I386_NR_KEYCTL 288
#define NOWHERE "/nonexistent-usbox-escape"

/* ---------------------------------------------------------------- output */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *errname(int err)
{
	const char *n = strerrorname_np(err);
	static char buf[32];
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* "ok" for r >= 0, else the name of errno. */
static int result(long r)
{
	if (r < 0)
		say("%s", errname(errno));
	else
		say("ok");
	return 0;
}

static int fail_errno(void)
{
	say("%s", errname(errno));
	return 0;
}

/* How a child ended: "" when it exited 0, else "killed by SIGxxx" / "exit N". */
static const char *child_end(int status)
{
	static char buf[48];
	if (WIFSIGNALED(status)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(status));
		snprintf(buf, sizeof(buf), "killed by SIG%s", abbrev ? abbrev : "?");
	} else if (WEXITSTATUS(status) != 0) {
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
	} else {
		buf[0] = '\0';
	}
	return buf;
}

/*
 * Runs @fn in a child and prints its result: the child writes an errno (0 for
 * success) to a pipe; a child killed before that prints "killed by SIGxxx".
 */
static int in_child(long (*fn)(void *), void *arg)
{
	int p[2], status, err = -1;
	if (pipe(p) < 0)
		return fail_errno();
	pid_t pid = fork();
	if (pid < 0)
		return fail_errno();
	if (pid == 0) {
		close(p[0]);
		long r = fn(arg);
		int e = r < 0 ? errno : 0;
		(void)!write(p[1], &e, sizeof(e));
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &err, sizeof(err)) != sizeof(err))
		err = -1;
	close(p[0]);
	waitpid(pid, &status, 0);
	if (err < 0)
		say("%s", child_end(status)[0] ? child_end(status) : "no answer");
	else if (err == 0)
		say("ok");
	else
		say("%s", errname(err));
	return 0;
}

/* ---------------------------------------------------------------- files */

static int a_write(char **av)
{
	int fd = open(av[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail_errno();
	long r = write(fd, "usbox-escape\n", 13);
	close(fd);
	return result(r);
}

static int a_read(char **av)
{
	char c;
	int fd = open(av[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_errno();
	long r = read(fd, &c, 1);
	close(fd);
	return result(r);
}

static int a_stat(char **av)
{
	struct stat st;
	return result(stat(av[0], &st));
}

static int a_link(char **av)
{
	return result(link(av[0], av[1]));
}

/* Prints the working directory and whether a file can be made there. */
static int a_pwd_write(char **av)
{
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "(%s)", errname(errno));
	int fd = open(av[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	say("cwd=%s write=%s", cwd, err ? errname(err) : "ok");
	return 0;
}

/* What a masked path is: "null device" (the real one: char 1:3, reads
 * nothing), "empty read-only tmpfs" (TMPFS_MAGIC, no entries, a new file
 * gives EROFS), or a description of what it is instead. */
static int a_mask(char **av)
{
	const char *path = av[0];
	struct stat st;
	struct statfs sf;
	char buf[64];

	if (stat(path, &st) < 0)
		return fail_errno();
	if (S_ISCHR(st.st_mode)) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		long n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
		if (fd >= 0)
			close(fd);
		if (major(st.st_rdev) == 1 && minor(st.st_rdev) == 3 && n == 0)
			say("null device");
		else
			say("char device %u:%u (read %ld)", major(st.st_rdev), minor(st.st_rdev), n);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		int entries = 0;
		DIR *d = opendir(path);
		if (!d)
			return fail_errno();
		for (struct dirent *de; (de = readdir(d));)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				entries++;
		closedir(d);
		if (statfs(path, &sf) < 0)
			return fail_errno();
		char probe[4200];
		snprintf(probe, sizeof(probe), "%s/.usbox-escape", path);
		int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		int err = fd < 0 ? errno : 0;
		if (fd >= 0) {
			close(fd);
			unlink(probe);
		}
		if (sf.f_type == TMPFS_MAGIC && entries == 0 && err == EROFS)
			say("empty read-only tmpfs");
		else
			say("directory: fs 0x%lx, %d entries, new file %s", (unsigned long)sf.f_type, entries,
			    err ? errname(err) : "ok");
		return 0;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_errno();
	long n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return fail_errno();
	say("readable file (%ld bytes)", n);
	return 0;
}

/* "tmpfs SIZE" or "fs 0xMAGIC SIZE", SIZE in bytes. */
static int a_fs(char **av)
{
	struct statfs sf;
	if (statfs(av[0], &sf) < 0)
		return fail_errno();
	unsigned long long size = (unsigned long long)sf.f_blocks * (unsigned long long)sf.f_bsize;
	if (sf.f_type == TMPFS_MAGIC)
		say("tmpfs %llu", size);
	else
		say("fs 0x%lx %llu", (unsigned long)sf.f_type, size);
	return 0;
}

/* ---------------------------------------------------------------- processes */

/* The values of the named /proc/self/status fields, space-separated. */
static int a_status(char **av)
{
	char line[512], out[1024] = "";
	for (; *av; av++) {
		FILE *f = fopen("/proc/self/status", "re");
		const char *val = "(missing)";
		size_t klen = strlen(*av);
		if (!f)
			return fail_errno();
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, *av, klen) == 0 && line[klen] == ':') {
				val = line + klen + 1;
				val += strspn(val, " \t");
				line[strcspn(line, "\n")] = '\0';
				break;
			}
		fclose(f);
		size_t len = strlen(out);
		snprintf(out + len, sizeof(out) - len, "%s%s", len ? " " : "", val);
	}
	say("%s", out);
	return 0;
}

/* The five capability sets, as "Inh=HEX Prm=HEX Eff=HEX Bnd=HEX Amb=HEX". */
static int a_caps(char **av)
{
	static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	char line[256], out[256] = "";
	(void)av;
	for (size_t i = 0; i < 5; i++) {
		FILE *f = fopen("/proc/self/status", "re");
		unsigned long long v = ~0ULL;
		if (!f)
			return fail_errno();
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, sets[i], 6) == 0 && line[6] == ':')
				v = strtoull(line + 7, NULL, 16);
		fclose(f);
		size_t len = strlen(out);
		snprintf(out + len, sizeof(out) - len, "%s%s=%llx", i ? " " : "", sets[i] + 3, v);
	}
	say("%s", out);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* The numeric entries of @dir (but @skip), sorted, space-separated. */
static int list_numbers(const char *dir, int skip_self_dirfd)
{
	int v[1024], n = 0;
	char out[8192] = "";
	DIR *d = opendir(dir);
	if (!d)
		return fail_errno();
	int self = dirfd(d);
	for (struct dirent *de; (de = readdir(d)) && n < 1024;) {
		char *end;
		long x = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || (skip_self_dirfd && x == self))
			continue;
		v[n++] = (int)x;
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof(int), cmp_int);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(out);
		snprintf(out + len, sizeof(out) - len, "%s%d", i ? " " : "", v[i]);
	}
	say("%s", out);
	return 0;
}

static int a_fds(char **av)
{
	(void)av;
	return list_numbers("/proc/self/fd", 1);
}

static int a_pids(char **av)
{
	(void)av;
	return list_numbers("/proc", 0);
}

static int a_kill(char **av)
{
	return result(kill((pid_t)atoi(av[0]), SIGTERM));
}

static int a_ptrace(char **av)
{
	pid_t pid = (pid_t)atoi(av[0]);
	long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
	if (r == 0) {
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	return result(r);
}

static int a_open_mem(char **av)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%s/mem", av[0]);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return result(fd);
}

static int a_exe(char **av)
{
	char path[64], target[4096];
	snprintf(path, sizeof(path), "/proc/%s/exe", av[0]);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return fail_errno();
	target[n] = '\0';
	say("reached %s", target);
	return 0;
}

/* Whether @pid still runs usbox's own code (its comm is "usbox..."). */
static bool still_usbox(pid_t pid)
{
	char path[64], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, comm, sizeof(comm) - 1) < 0)
		comm[0] = '\0';
	if (fd >= 0)
		close(fd);
	return strncmp(comm, "usbox", 5) == 0;
}

/* The tries of watch-join on @pid: 1 when one reached it while it still ran
 * usbox (what it got on stderr), else 0 with the first refusal (EPERM,
 * EACCES) in *@err; what reached it once it had executed its command, or
 * found it gone, counts for nothing. */
static int reach(pid_t pid, int *err)
{
	static const char *const what[] = { "exe", "cwd", "root", "fd", "mem" };
	char path[64], target[256];
	int reached = 0;
	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) == 0) {
		waitpid(pid, NULL, __WALL);
		if (still_usbox(pid)) { /* stopped: no race */
			fprintf(stderr, "ptrace %d: attached\n", (int)pid);
			reached = 1;
		}
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	} else if (!*err && (errno == EPERM || errno == EACCES))
		*err = errno;
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC), e = errno;
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		if ((fd >= 0 || n >= 0) && (i == 0 ? strstr(target, "usbox") != NULL : still_usbox(pid))) {
			fprintf(stderr, "%s: %s%s\n", path, fd >= 0 ? "opened " : "", target);
			reached = 1;
		} else if (fd < 0 && !*err && (e == EPERM || e == EACCES))
			*err = e;
		if (fd >= 0)
			close(fd);
	}
	return reached;
}

/* Watches this pid namespace for SECONDS (or until the file STOP exists) for processes that still run
 * usbox's own code (comm "usbox..."): a `usbox exec` or `usbox-oci exec`
 * joining, before it executes its command; tries ptrace and /proc/PID's exe,
 * cwd, root, fd and mem on each.  Prints "ok" when one was reached, "none"
 * when no such process was seen, else the first error; stderr: how many. */
static int a_watch_join(char **av)
{
	pid_t seen[4096];
	size_t n_seen = 0, caught = 0;
	int err = 0, reached = 0;
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += atoi(av[0]);
	do {
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			pid_t pid = (pid_t)atoi(de->d_name);
			size_t i = 0;
			while (i < n_seen && seen[i] != pid)
				i++;
			if (pid <= 1 || pid == getpid() || i < n_seen)
				continue;
			if (n_seen < sizeof(seen) / sizeof(seen[0]))
				seen[n_seen++] = pid;
			if (!still_usbox(pid))
				continue;
			int refused = 0, r = reach(pid, &refused);
			caught += r || refused;
			reached |= r;
			err = err ? err : refused;
		}
		if (d)
			closedir(d);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec)) &&
		 (!av[1] || access(av[1], F_OK) < 0));
	fprintf(stderr, "%zu caught while joining\n", caught);
	if (reached)
		say("ok");
	else if (!caught)
		say("none");
	else
		say("%s", errname(err));
	return 0;
}

static int a_euid(char **av)
{
	(void)av;
	say("euid=%u", (unsigned)geteuid());
	return 0;
}

static int a_mount_real(char **av)
{
	return result(mount("none", av[0], "tmpfs", 0, NULL));
}

/* ---------------------------------------------------------------- terminals */

/* TIOCSTI of TEXT and a newline into the terminal on stdin. */
static int a_tiocsti_stdin(char **av)
{
	for (const char *p = av[0]; *p; p++)
		if (ioctl(0, TIOCSTI, p) < 0)
			return fail_errno();
	char nl = '\n';
	return result(ioctl(0, TIOCSTI, &nl));
}

/* ---------------------------------------------------------------- sockets */

/* A unix socket address for PATH; "@NAME" is NAME in the abstract namespace. */
static socklen_t unix_addr(struct sockaddr_un *a, const char *path)
{
	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	snprintf(a->sun_path, sizeof(a->sun_path), "%s", path);
	if (path[0] != '@')
		return sizeof(*a);
	a->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strnlen(path, sizeof(a->sun_path)));
}

/* connect-unix PATH|@NAME */
static int a_connect_unix(char **av)
{
	struct sockaddr_un a;
	socklen_t len = unix_addr(&a, av[0]);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail_errno();
	long r = connect(s, (struct sockaddr *)&a, len);
	close(s);
	return result(r);
}

/* Removes the socket at PATH and binds one of ours there (a fake helper). */
static int a_replace_sock(char **av)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", av[0]);
	if (unlink(av[0]) < 0)
		return fail_errno();
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail_errno();
	long r = bind(s, (struct sockaddr *)&a, sizeof(a));
	close(s);
	return result(r);
}

static int connect_timeout(int family, const void *addr, socklen_t len)
{
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0;
	socklen_t elen = sizeof(err);
	if (s < 0)
		return fail_errno();
	if (connect(s, addr, len) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
		} else {
			struct pollfd pfd = { .fd = s, .events = POLLOUT };
			if (poll(&pfd, 1, 5000) == 0)
				err = ETIMEDOUT;
			else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
				err = errno;
		}
	}
	close(s);
	say("%s", err ? errname(err) : "ok");
	return 0;
}

/* The IPv4 default gateway from /proc/net/route, or INADDR_ANY. */
static struct in_addr default_gateway(char *dev, size_t devlen)
{
	struct in_addr gw = { 0 };
	char line[256], ifname[32];
	unsigned dst, via, flags;
	FILE *f = fopen("/proc/net/route", "re");
	if (!f)
		return gw;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%31s %x %x %x", ifname, &dst, &via, &flags) == 4 && dst == 0 && (flags & 2)) {
			gw.s_addr = via; /* already in network order, as the kernel prints it */
			if (dev)
				snprintf(dev, devlen, "%s", ifname);
			break;
		}
	fclose(f);
	return gw;
}

/* connect-gw PORT: TCP to the default gateway (10.0.2.2 on slirp). */
static int a_connect_gw(char **av)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(av[0])) };
	a.sin_addr = default_gateway(NULL, 0);
	if (!a.sin_addr.s_addr) {
		say("no default route");
		return 0;
	}
	return connect_timeout(AF_INET, &a, sizeof(a));
}

/* connect IP PORT */
static int a_connect(char **av)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(av[1])) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(av[1])) };
	if (inet_pton(AF_INET, av[0], &a4.sin_addr) == 1)
		return connect_timeout(AF_INET, &a4, sizeof(a4));
	if (inet_pton(AF_INET6, av[0], &a6.sin6_addr) == 1)
		return connect_timeout(AF_INET6, &a6, sizeof(a6));
	say("bad address %s", av[0]);
	return 0;
}

/* ---------------------------------------------------------------- raw frames */

static uint32_t sum16(const void *data, size_t len, uint32_t acc)
{
	const uint8_t *p = data;
	for (; len > 1; p += 2, len -= 2)
		acc += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		acc += (uint32_t)(p[0] << 8);
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return htons((uint16_t)~acc);
}

/* The gateway's MAC from /proc/net/arp, after a datagram made the kernel ask. */
static bool gateway_mac(struct in_addr gw, uint8_t mac[6])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr = gw };
	char want[INET_ADDRSTRLEN], line[256], ip[64], hw[64];
	unsigned flags, m[6];
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	inet_ntop(AF_INET, &gw, want, sizeof(want));
	if (s >= 0) {
		(void)sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
		close(s);
	}
	for (int i = 0; i < 40; i++) {
		FILE *f = fopen("/proc/net/arp", "re");
		bool found = false;
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "%63s %*s %x %63s", ip, &flags, hw) == 3 && strcmp(ip, want) == 0 &&
			    (flags & 2) &&
			    sscanf(hw, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6) {
				for (int k = 0; k < 6; k++)
					mac[k] = (uint8_t)m[k];
				found = true;
			}
		if (f)
			fclose(f);
		if (found)
			return true;
		usleep(50000);
	}
	return false;
}

/* The first global IPv6 address of @dev from /proc/net/if_inet6. */
static bool global_v6(const char *dev, struct in6_addr *out)
{
	char hex[40], name[32], line[256];
	unsigned idx, plen, scope, flags;
	FILE *f = fopen("/proc/net/if_inet6", "re");
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%32s %x %x %x %x %31s", hex, &idx, &plen, &scope, &flags, name) == 6 &&
		    strcmp(name, dev) == 0 && scope == 0) {
			for (int i = 0; i < 16; i++) {
				unsigned b;
				sscanf(hex + 2 * i, "%2x", &b);
				out->s6_addr[i] = (uint8_t)b;
			}
			found = true;
		}
	if (f)
		fclose(f);
	return found;
}

/*
 * rawframe tcp4|udp4|tcp6|udp6 PORT [DST]: an Ethernet frame built by hand,
 * sent with AF_PACKET out of the default route's device to the gateway's
 * MAC, carrying a TCP SYN or a UDP datagram to 127.0.0.1 or ::1 (or DST;
 * "gw": the IPv4 gateway) port PORT -- what the kernel's own stack would
 * never route out of eth0.  Prints "sent", or
 * why it could not (EPERM for the packet socket without CAP_NET_RAW).
 */
static int a_rawframe(char **av)
{
	const char *proto = av[0];
	uint16_t port = (uint16_t)atoi(av[1]);
	bool v6 = proto[3] == '6', tcp = proto[0] == 't';
	char dev[32] = "eth0";
	uint8_t frame[256], gwmac[6], mymac[6];
	struct ifreq ifr = { 0 };
	size_t off = sizeof(struct ether_header), l4len;
	uint16_t sport = (uint16_t)(40000 + getpid() % 20000);

	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (s < 0)
		return fail_errno();
	struct in_addr gw = default_gateway(dev, sizeof(dev));
	if (!gw.s_addr) {
		say("no default route");
		return 0;
	}
	int q = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (q < 0 || ioctl(q, SIOCGIFHWADDR, &ifr) < 0)
		return fail_errno();
	memcpy(mymac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(q, SIOCGIFADDR, &ifr) < 0)
		return fail_errno();
	struct in_addr me4 = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	close(q);
	if (!gateway_mac(gw, gwmac)) {
		say("no MAC for the gateway");
		return 0;
	}

	memset(frame, 0, sizeof(frame));
	struct ether_header *eh = (struct ether_header *)frame;
	memcpy(eh->ether_dhost, gwmac, 6);
	memcpy(eh->ether_shost, mymac, 6);
	eh->ether_type = htons(v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP);

	uint8_t l4[64] = { 0 };
	static const char payload[] = "usbox-escape";
	if (tcp) {
		struct tcphdr *th = (struct tcphdr *)l4;
		th->source = htons(sport);
		th->dest = htons(port);
		th->seq = htonl((uint32_t)getpid() * 2654435761u);
		th->doff = 5;
		th->syn = 1;
		th->window = htons(65535);
		l4len = sizeof(*th);
	} else {
		struct udphdr *uh = (struct udphdr *)l4;
		l4len = sizeof(*uh) + sizeof(payload) - 1;
		uh->source = htons(sport);
		uh->dest = htons(port);
		uh->len = htons((uint16_t)l4len);
		memcpy(l4 + sizeof(*uh), payload, sizeof(payload) - 1);
	}
	uint8_t nh = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	uint32_t acc;
	if (!v6) {
		struct iphdr *ip = (struct iphdr *)(frame + off);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons((uint16_t)(sizeof(*ip) + l4len));
		ip->id = htons((uint16_t)getpid());
		ip->frag_off = htons(IP_DF);
		ip->ttl = 64;
		ip->protocol = nh;
		ip->saddr = me4.s_addr;
		ip->daddr = htonl(INADDR_LOOPBACK);
		if (av[2] && strcmp(av[2], "gw") == 0)
			ip->daddr = gw.s_addr;
		else if (av[2] && inet_pton(AF_INET, av[2], &ip->daddr) != 1) {
			say("bad address %s", av[2]);
			return 0;
		}
		ip->check = fold(sum16(ip, sizeof(*ip), 0));
		uint8_t pseudo[12];
		memcpy(pseudo, &ip->saddr, 4);
		memcpy(pseudo + 4, &ip->daddr, 4);
		pseudo[8] = 0, pseudo[9] = nh, pseudo[10] = (uint8_t)(l4len >> 8), pseudo[11] = (uint8_t)l4len;
		acc = sum16(pseudo, sizeof(pseudo), 0);
		off += sizeof(*ip);
	} else {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)(frame + off);
		struct in6_addr src;
		if (!global_v6(dev, &src))
			inet_pton(AF_INET6, "fd00::100", &src);
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_plen = htons((uint16_t)l4len);
		ip6->ip6_nxt = nh;
		ip6->ip6_hlim = 64;
		ip6->ip6_src = src;
		ip6->ip6_dst = in6addr_loopback;
		if (av[2] && inet_pton(AF_INET6, av[2], &ip6->ip6_dst) != 1) {
			say("bad address %s", av[2]);
			return 0;
		}
		uint8_t pseudo[40] = { 0 };
		memcpy(pseudo, &ip6->ip6_src, 16);
		memcpy(pseudo + 16, &ip6->ip6_dst, 16);
		pseudo[34] = (uint8_t)(l4len >> 8), pseudo[35] = (uint8_t)l4len, pseudo[39] = nh;
		acc = sum16(pseudo, sizeof(pseudo), 0);
		off += sizeof(*ip6);
	}
	uint16_t ck = fold(sum16(l4, l4len, acc));
	if (tcp)
		((struct tcphdr *)l4)->check = ck;
	else
		((struct udphdr *)l4)->check = ck ? ck : 0xffff;
	memcpy(frame + off, l4, l4len);
	off += l4len;

	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(dev), .sll_halen = 6 };
	memcpy(ll.sll_addr, gwmac, 6);
	for (int i = 0; i < 3; i++) {
		if (sendto(s, frame, off, 0, (struct sockaddr *)&ll, sizeof(ll)) < 0)
			return fail_errno();
		usleep(150000);
	}
	close(s);
	say("sent");
	return 0;
}

/* ---------------------------------------------------------------- host-side listener */

static void record(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void record(const char *file, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
}

/* Writes @text to @file atomically (through FILE.tmp). */
static void publish(const char *file, const char *text)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void)!write(fd, text, strlen(text));
	close(fd);
	rename(tmp, file);
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
	} else {
		snprintf(ip, sizeof(ip), "a unix peer");
	}
	snprintf(out, len, "%s:%u", ip, port);
}

/*
 * listen tcp4|udp4|tcp6|udp6|tcp4any|unix:PATH|unix:@NAME FILE [SECONDS]:
 * (outside the sandbox) binds 127.0.0.1 or ::1 (tcp4any: 0.0.0.0) on a free
 * port (or the unix socket PATH, or the abstract one NAME), writes the port
 * to FILE.port ("none: ERRNO" when it cannot bind), then appends one line to
 * FILE for every connection or datagram, for SECONDS (600).
 */
static int a_listen(char **av)
{
	const char *what = av[0], *file = av[1];
	int seconds = av[2] ? atoi(av[2]) : 600;
	char portfile[4200], text[64];
	bool unix_sock = strncmp(what, "unix:", 5) == 0;
	bool v6 = !unix_sock && what[3] == '6', tcp = unix_sock || what[0] == 't';
	bool any = strstr(what, "any") != NULL;
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int s;

	snprintf(portfile, sizeof(portfile), "%s.port", file);
	if (unix_sock) {
		len = unix_addr((struct sockaddr_un *)&ss, what + 5);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	} else if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
		s = socket(AF_INET6, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
		len = sizeof(*a);
		s = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	}
	if (s < 0 || bind(s, (struct sockaddr *)&ss, len) < 0 || (tcp && listen(s, 64) < 0) ||
	    (!unix_sock && getsockname(s, (struct sockaddr *)&ss, &len) < 0)) {
		snprintf(text, sizeof(text), "none: %s\n", errname(errno));
		publish(portfile, text);
		return 0;
	}
	snprintf(text, sizeof(text), "%u\n",
		 unix_sock ? 0 : ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port));
	publish(portfile, text);
	for (time_t end = time(NULL) + seconds; time(NULL) < end;) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		struct sockaddr_storage peer = { 0 };
		socklen_t plen = sizeof(peer);
		char name[128], data[128] = "";
		if (tcp) {
			int c = accept4(s, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			close(c);
			peer_name(&peer, name, sizeof(name));
			record(file, "connection from %s", name);
		} else {
			ssize_t n = recvfrom(s, data, sizeof(data) - 1, 0, (struct sockaddr *)&peer, &plen);
			if (n < 0)
				continue;
			data[n] = '\0';
			data[strcspn(data, "\r\n")] = '\0';
			peer_name(&peer, name, sizeof(name));
			record(file, "datagram from %s: %s", name, data);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- -p: direct ports */

/*
 * With direct ports, the server inside holds sockets of the HOST's network
 * namespace: the listener usbox handed over at its bind(), and what it
 * accepts there.  These attempts try to turn one of them into a connection
 * to the host's own loopback (TARGET: a port of a `listen tcp4` there): a
 * disconnect and a new connect, a listener shut down back to CLOSE, TCP Fast
 * Open, listen(), and a race swapping the descriptor under a check.  Each
 * prints "direct" or "relay (port N)" first: direct when the listener's own
 * port is the HOST port (only the handed-over socket has it), which is what
 * makes the rest mean anything.
 */

static struct sockaddr_in loop4(int port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
}

/* The errno's name after r < 0, else "ok", appended to @out. */
static void note(char *out, size_t len, long r)
{
	size_t n = strlen(out);
	snprintf(out + n, len - n, "%s%s", n ? ", " : "", r < 0 ? errname(errno) : "ok");
}

/* connect(@fd) to 127.0.0.1:@port, never waiting more than 3 s. */
static long connect_target(int fd, int port)
{
	struct sockaddr_in t = loop4(port);
	struct timeval tv = { .tv_sec = 3 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return connect(fd, (struct sockaddr *)&t, sizeof(t));
}

static long disconnect(int fd)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	return connect(fd, &sa, sizeof(sa));
}

static long fastopen(int fd, int port)
{
	struct sockaddr_in t = loop4(port);
	return sendto(fd, "x", 1, MSG_FASTOPEN | MSG_NOSIGNAL, (struct sockaddr *)&t, sizeof(t));
}

static int tcp_state(int fd)
{
	struct tcp_info ti = { 0 };
	socklen_t len = sizeof(ti);
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ? -1 : ti.tcpi_state;
}

/* The race: one thread flips @slot between the host socket and a unix one. */
struct pf_race {
	int slot, host, unix_sock, target;
	volatile bool stop;
};

static void *pf_flip(void *arg)
{
	struct pf_race *r = arg;
	while (!r->stop) {
		dup2(r->host, r->slot);
		dup2(r->unix_sock, r->slot);
	}
	return NULL;
}

/* ~2 s of disconnect + connect on the flipping slot, until the host socket
 * (watched through its own descriptor) has left its connection; then binds
 * through the slot, to see whether it can take a port of the host's. */
static void pf_race(int c, int port, char *out, size_t len)
{
	struct pf_race r = { .host = c, .target = port, .unix_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) };
	struct timeval tv = { .tv_sec = 1 };
	unsigned long tries = 0, left = 0; /* left: the try after which it had left (1-based) */
	pthread_t th;

	r.slot = dup(c);
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (tcp_state(c) != TCP_ESTABLISHED && tcp_state(c) != TCP_CLOSE_WAIT) {
		snprintf(out, len, "setup: the accepted socket is in TCP state %d", tcp_state(c));
		return;
	}
	if (r.unix_sock < 0 || r.slot < 0 || pthread_create(&th, NULL, pf_flip, &r) != 0) {
		snprintf(out, len, "setup: %s", errname(errno));
		return;
	}
	struct sockaddr_in t = loop4(port);
	for (time_t end = time(NULL) + 2; time(NULL) < end; tries++) {
		disconnect(r.slot);
		connect(r.slot, (struct sockaddr *)&t, sizeof(t));
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		if (tcp_state(c) == TCP_CLOSE ||
		    (getpeername(c, (struct sockaddr *)&peer, &plen) == 0 && ntohs(peer.sin_port) == port)) {
			left = tries + 1;
			break;
		}
	}
	/* then, disconnected, a bind (to a port of the host's, free) the same way */
	struct sockaddr_in any = { .sin_family = AF_INET }, me = { 0 };
	socklen_t mlen = sizeof(me);
	uint16_t was = 0;
	if (left && getsockname(c, (struct sockaddr *)&me, &mlen) == 0)
		was = me.sin_port; /* (0 when the disconnect let its port go) */
	for (time_t end = time(NULL) + 2; left && !was && time(NULL) < end;) {
		mlen = sizeof(me);
		if (bind(r.slot, (struct sockaddr *)&any, sizeof(any)) == 0 ||
		    (getsockname(c, (struct sockaddr *)&me, &mlen) == 0 && me.sin_port))
			break;
	}
	r.stop = true;
	pthread_join(th, NULL);
	mlen = sizeof(me);
	if (left && !was && getsockname(c, (struct sockaddr *)&me, &mlen) == 0 && me.sin_port)
		snprintf(out, len, "THE HOST SOCKET LEFT ITS CONNECTION after %lu tries, then was bound anew to the host's port %u",
			 left, ntohs(me.sin_port));
	else if (left) /* docs/SECURITY.md: a race can disconnect it, and that is all */
		snprintf(out, len, "the host socket left its connection after %lu tries, and took no port", left);
	else
		snprintf(out, len, "%lu tries, the host socket kept its connection", tries);
}

/* The interface names SIOCGIFCONF lists through @fd ("" and errno on failure). */
static bool if_names(int fd, char *out, size_t len)
{
	struct ifreq r[32];
	struct ifconf ic = { .ifc_len = sizeof(r), .ifc_req = r };
	out[0] = '\0';
	if (ioctl(fd, SIOCGIFCONF, &ic) < 0)
		return false;
	for (size_t i = 0; i < ic.ifc_len / sizeof(r[0]); i++) {
		size_t n = strlen(out);
		snprintf(out + n, len - n, "%s%s", n ? "," : "", r[i].ifr_name);
	}
	return true;
}

/*
 * One attempt on the accepted socket @c and the listener @l, TARGET @port:
 *   unspec     connect(c, AF_UNSPEC); connect(c, TARGET)
 *   shut-rd    shutdown(l, SHUT_RD); connect(l, TARGET); sendto(l, MSG_FASTOPEN, TARGET)
 *   shut-rdwr  the same with SHUT_RDWR
 *   shut-rd-hi the same with SHUT_RD | 1 << 32 (the kernel reads an int)
 *   fastopen   sendto/sendmsg/sendmmsg(MSG_FASTOPEN) on a fresh socket; sendto(c, MSG_FASTOPEN)
 *   listen     listen(c); listen(l) again
 *   race       pf_race()
 *   ifconf     the interfaces SIOCGIFCONF lists through c, against the sandbox's own
 *   ifindex    setsockopt(c, SO_BINDTOIFINDEX, 1), IP_UNICAST_IF 1, IPV6_UNICAST_IF 1 on l,
 *              getsockopt(c, IP_PKTOPTIONS): each would tell the host's interfaces
 *   ulp        setsockopt(c, TCP_ULP, "smc"), then "tls" (another protocol over TCP)
 */
static void pf_attempt(const char *what, int c, int l, int port, char *out, size_t len)
{
	out[0] = '\0';
	if (strcmp(what, "unspec") == 0) {
		note(out, len, disconnect(c));
		note(out, len, connect_target(c, port));
	} else if (strncmp(what, "shut-", 5) == 0) {
		unsigned long how = strcmp(what, "shut-rdwr") == 0 ? SHUT_RDWR : SHUT_RD;
		if (strcmp(what, "shut-rd-hi") == 0)
			how |= 1UL << 32;
		note(out, len, syscall(SYS_shutdown, l, how));
		note(out, len, connect_target(l, port));
		note(out, len, fastopen(l, port));
	} else if (strcmp(what, "fastopen") == 0) {
		struct sockaddr_in t = loop4(port);
		char x = 'x';
		struct iovec iov = { .iov_base = &x, .iov_len = 1 };
		struct mmsghdr mm = { .msg_hdr = { .msg_name = &t, .msg_namelen = sizeof(t), .msg_iov = &iov,
						   .msg_iovlen = 1 } };
		int f[3];
		for (int i = 0; i < 3; i++)
			f[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		note(out, len, fastopen(f[0], port));
		note(out, len, sendmsg(f[1], &mm.msg_hdr, MSG_FASTOPEN | MSG_NOSIGNAL));
		note(out, len, sendmmsg(f[2], &mm, 1, MSG_FASTOPEN | MSG_NOSIGNAL));
		note(out, len, fastopen(c, port));
		for (int i = 0; i < 3; i++)
			close(f[i]);
	} else if (strcmp(what, "listen") == 0) {
		note(out, len, listen(c, 8));
		note(out, len, listen(l, 16));
	} else if (strcmp(what, "race") == 0) {
		pf_race(c, port, out, len);
	} else if (strcmp(what, "ifconf") == 0) {
		char mine[128], got[128];
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (!if_names(s, mine, sizeof(mine)))
			snprintf(out, len, "own: %s", errname(errno));
		else if (!if_names(c, got, sizeof(got)))
			snprintf(out, len, "%s", errname(errno));
		else if (strcmp(mine, got) == 0)
			snprintf(out, len, "the sandbox's own interfaces");
		else
			snprintf(out, len, "THE HOST'S INTERFACES: %.60s", got);
		close(s);
	} else if (strcmp(what, "ifindex") == 0) {
		int one = 1, be1 = (int)htonl(1);
		char opts[256];
		socklen_t olen = sizeof(opts);
		note(out, len, setsockopt(c, SOL_SOCKET, 62 /* SO_BINDTOIFINDEX */, &one, sizeof(one)));
		note(out, len, setsockopt(c, IPPROTO_IP, 50 /* IP_UNICAST_IF */, &be1, sizeof(be1)));
		note(out, len, setsockopt(l, IPPROTO_IPV6, 76 /* IPV6_UNICAST_IF */, &one, sizeof(one)));
		note(out, len, getsockopt(c, IPPROTO_IP, 9 /* IP_PKTOPTIONS */, opts, &olen));
	} else if (strcmp(what, "ulp") == 0) {
		note(out, len, setsockopt(c, IPPROTO_TCP, 31 /* TCP_ULP */, "smc", 4));
		note(out, len, setsockopt(c, IPPROTO_TCP, 31, "tls", 4));
	} else {
		snprintf(out, len, "no attempt %s", what);
	}
}

/* "direct" when listener @l has the host port @hp, else "relay (port N)". */
static const char *pf_kind(int l, int hp)
{
	static char buf[64];
	struct sockaddr_in6 a = { 0 };
	socklen_t len = sizeof(a);
	if (getsockname(l, (struct sockaddr *)&a, &len) < 0)
		snprintf(buf, sizeof(buf), "getsockname: %s", errname(errno));
	else if (ntohs(a.sin6_port) == hp) /* (sin_port and sin6_port are at one offset) */
		return "direct";
	else
		snprintf(buf, sizeof(buf), "relay (port %u)", ntohs(a.sin6_port));
	return buf;
}

/* Gives @c and @l (in that order) to every client of the unix listener
 * @u, for 120 s. */
static void pf_hand_out(int u, int c, int l)
{
	for (time_t end = time(NULL) + 120; time(NULL) < end;) {
		struct pollfd pfd = { .fd = u, .events = POLLIN };
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		int k = accept4(u, NULL, NULL, SOCK_CLOEXEC);
		if (k < 0)
			continue;
		char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 }, x = 'f';
		struct iovec iov = { .iov_base = &x, .iov_len = 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(cm), (int[]){ c, l }, 2 * sizeof(int));
		(void)!sendmsg(k, &m, MSG_NOSIGNAL);
		close(k);
	}
}

/*
 * pf-serve HOSTPORT PORT WHAT TARGET [UNIXPATH]: (inside, with -p
 * HOSTPORT:PORT) a server on 0.0.0.0:PORT; accepts one client (30 s at
 * most), greets it with "!", then makes pf_attempt() WHAT on its sockets and
 * prints "direct|relay (port N); RESULT".  WHAT "hold": instead hands both
 * sockets (SCM_RIGHTS) to whoever connects to UNIXPATH, for 120 s.
 */
static int a_pf_serve(char **av)
{
	int hp = atoi(av[0]), target = atoi(av[3]), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(av[1])) };
	bool hold = strcmp(av[2], "hold") == 0;
	char out[256];
	int u = -1;

	if (hold) {
		struct sockaddr_un ua;
		socklen_t ulen = unix_addr(&ua, av[4] ? av[4] : "/tmp/pf.sock");
		u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (u < 0 || bind(u, (struct sockaddr *)&ua, ulen) < 0 || listen(u, 8) < 0) {
			say("unix listener: %s", errname(errno));
			return 0;
		}
	}
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return fail_errno();
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0) {
		say("server: %s", errname(errno));
		return 0;
	}
	struct pollfd pfd = { .fd = l, .events = POLLIN };
	int c = poll(&pfd, 1, 30000) == 1 ? accept4(l, NULL, NULL, SOCK_CLOEXEC) : -1;
	if (c < 0) {
		say("%s; no client", pf_kind(l, hp));
		return 0;
	}
	(void)!write(c, "!", 1);
	if (hold) {
		pf_hand_out(u, c, l);
		return 0;
	}
	pf_attempt(av[2], c, l, target, out, sizeof(out));
	say("%s; %s", pf_kind(l, hp), out);
	return 0;
}

/*
 * pf-steal UNIXPATH HOSTPORT WHAT TARGET: takes a server's two sockets from
 * UNIXPATH (pf-serve ... hold; 10 s to appear) and makes WHAT on them, as
 * pf-serve would.
 */
static int a_pf_steal(char **av)
{
	struct sockaddr_un ua;
	socklen_t ulen = unix_addr(&ua, av[0]);
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 }, x, out[256];
	struct iovec iov = { .iov_base = &x, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	int fds[2], k = -1;

	for (int i = 0; i < 100; i++) {
		k = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (k < 0)
			return fail_errno();
		if (connect(k, (struct sockaddr *)&ua, ulen) == 0)
			break;
		close(k);
		k = -1;
		usleep(100000);
	}
	if (k < 0) {
		say("connect %s: %s", av[0], errname(errno));
		return 0;
	}
	struct cmsghdr *cm;
	if (recvmsg(k, &m, MSG_CMSG_CLOEXEC) != 1 || !(cm = CMSG_FIRSTHDR(&m)) ||
	    cm->cmsg_len != CMSG_LEN(2 * sizeof(int))) {
		say("no sockets from %s", av[0]);
		return 0;
	}
	memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	pf_attempt(av[2], fds[0], fds[1], atoi(av[3]), out, sizeof(out));
	say("%s; %s", pf_kind(fds[1], atoi(av[1])), out);
	return 0;
}

/*
 * knock PORT [HOLD]: (outside) connects to 127.0.0.1:PORT until a server
 * greets with "!" (20 s at most: a relay may take the connection before the
 * server listens), prints "ok" (or what went wrong), then keeps the
 * connection until the server ends it, HOLD seconds at most (30).
 */
static int a_knock(char **av)
{
	int port = atoi(av[0]), hold = av[1] ? atoi(av[1]) : 30;
	time_t end = time(NULL) + 20;
	for (; time(NULL) < end; usleep(100000)) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char b = 0;
		if (connect_target(s, port) < 0) {
			close(s);
			continue;
		}
		/* a direct server takes it from the backlog when it starts; a
		 * relay ends it when nothing listens inside yet */
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		while (time(NULL) < end && poll(&pfd, 1, 500) == 0)
			;
		if (!(pfd.revents & POLLIN) || read(s, &b, 1) != 1 || b != '!') {
			close(s);
			continue;
		}
		say("ok");
		for (time_t stop = time(NULL) + hold; time(NULL) < stop;)
			if (poll(&pfd, 1, 500) == 1 && read(s, &b, 1) <= 0)
				break;
		close(s);
		return 0;
	}
	say("no greeting on port %d", port);
	return 0;
}

/* free-port: a TCP port free on [::] and 0.0.0.0 (as usbox binds -p's). */
static int a_free_port(char **av)
{
	(void)av;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, len) < 0 || getsockname(s, (struct sockaddr *)&a, &len) < 0)
		return fail_errno();
	say("%u", ntohs(a.sin6_port));
	close(s);
	return 0;
}

/* ---------------------------------------------------------------- keyrings */

/* key-read ID: the payload of the key with serial ID. */
static int a_key_read(char **av)
{
	char buf[256];
	long n = syscall(SYS_keyctl, KEYCTL_READ, atol(av[0]), buf, sizeof(buf) - 1);
	if (n < 0)
		return fail_errno();
	buf[n < (long)sizeof(buf) ? n : (long)sizeof(buf) - 1] = '\0';
	say("read: %s", buf);
	return 0;
}

/* key-update ID DATA: overwrite the key's payload. */
static int a_key_update(char **av)
{
	return result(syscall(SYS_keyctl, KEYCTL_UPDATE, atol(av[0]), av[1], strlen(av[1])));
}

/* key-session: the session keyring's serial and how many keys it holds. */
static int a_key_session(char **av)
{
	(void)av;
	long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	if (id < 0)
		return fail_errno();
	long n = syscall(SYS_keyctl, KEYCTL_READ, KEY_SPEC_SESSION_KEYRING, NULL, 0);
	if (n < 0)
		return fail_errno();
	say("%ld %ld", id, n / 4);
	return 0;
}

/* key-put NAME DATA [SECONDS]: a key in the session keyring (and linked into
 * the user keyring), readable by its user; held for SECONDS. */
static int a_key_put(char **av)
{
	long id = syscall(SYS_add_key, "user", av[0], av[1], strlen(av[1]), KEY_SPEC_SESSION_KEYRING);
	if (id < 0)
		return fail_errno();
	(void)syscall(SYS_keyctl, KEYCTL_SETPERM, id, 0x3f3f3f3f);
	(void)syscall(SYS_keyctl, KEYCTL_LINK, id, KEY_SPEC_USER_KEYRING);
	say("ok");
	if (av[2])
		sleep((unsigned)atoi(av[2]));
	return 0;
}

/* key-get NAME: search the session, then the user keyring, and read. */
static int a_key_get(char **av)
{
	char buf[256];
	long id = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", av[0], 0);
	int err = errno;
	if (id < 0)
		id = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", av[0], 0);
	if (id < 0) {
		say("%s", errname(err));
		return 0;
	}
	long n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof(buf) - 1);
	if (n < 0)
		return fail_errno();
	buf[n < (long)sizeof(buf) ? n : (long)sizeof(buf) - 1] = '\0';
	say("got: %s", buf);
	return 0;
}

/* ---------------------------------------------------------------- system calls */

/*
 * Every capability the caller can get: a user namespace of its own (with
 * @flags) in which it is root.  Where the filter refuses the user namespace,
 * the probe goes on without, and the call it guards then fails as the
 * filter (or the capability check) says.
 */
static void escalate(int flags)
{
	char map[64];
	unsigned uid = getuid(), gid = getgid();
	if (unshare(CLONE_NEWUSER | flags) < 0)
		return;
	int fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "deny", 4);
		close(fd);
	}
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if ((fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC)) >= 0) {
		(void)!write(fd, map, strlen(map));
		close(fd);
	}
	snprintf(map, sizeof(map), "0 %u 1", gid);
	if ((fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC)) >= 0) {
		(void)!write(fd, map, strlen(map));
		close(fd);
	}
}

static long exit_child(void)
{
	_exit(0);
}

/* A clone-like call that returned @pid: reap the child; 0 when it worked. */
static long reap(long pid)
{
	if (pid == 0)
		exit_child();
	if (pid > 0)
		waitpid((pid_t)pid, NULL, __WALL);
	return pid < 0 ? -1 : 0;
}

static long sc_keyctl(void *u)
{
	(void)u;
	return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

static long sc_add_key(void *u)
{
	(void)u;
	return syscall(SYS_add_key, "user", "usbox-escape-probe", "x", 1, KEY_SPEC_SESSION_KEYRING);
}

static long sc_request_key(void *u)
{
	(void)u;
	return syscall(SYS_request_key, "user", "usbox-escape-none", NULL, 0);
}

static long sc_bpf(void *u)
{
	(void)u;
	return syscall(SYS_bpf, 0x7fff /* no such command: EINVAL when the call is reached */, NULL, 0);
}

static long sc_perf_event_open(void *u)
{
	(void)u;
	return syscall(SYS_perf_event_open, NULL /* EFAULT when reached */, 0, -1, -1, 0);
}

static long sc_userfaultfd(void *u)
{
	(void)u;
	return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
}

static long sc_io_uring_setup(void *u)
{
	(void)u;
	return syscall(SYS_io_uring_setup, 1, NULL /* EFAULT when reached */);
}

static long sc_kexec_load(void *u)
{
	(void)u;
	return syscall(SYS_kexec_load, 0, 0, NULL, 0xffff0000UL /* no such architecture */);
}

static long sc_init_module(void *u)
{
	(void)u;
	return syscall(SYS_init_module, NULL, 0, "");
}

static long sc_finit_module(void *u)
{
	(void)u;
	return syscall(SYS_finit_module, -1, "", 0);
}

static long sc_delete_module(void *u)
{
	(void)u;
	return syscall(SYS_delete_module, "usbox_escape_none", O_NONBLOCK);
}

static long sc_open_by_handle_at(void *u)
{
	(void)u;
	struct {
		unsigned int bytes;
		int type;
		unsigned char h[MAX_HANDLE_SZ];
	} fh = { .bytes = 8 };
	return syscall(SYS_open_by_handle_at, -1 /* EBADF when reached (Linux 6.12+) */, &fh, O_RDONLY);
}

static long sc_name_to_handle_at(void *u)
{
	(void)u;
	struct {
		unsigned int bytes;
		int type;
		unsigned char h[MAX_HANDLE_SZ];
	} fh = { .bytes = MAX_HANDLE_SZ };
	int mnt;
	return syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh, &mnt, 0);
}

static long sc_acct(void *u)
{
	(void)u;
	return syscall(SYS_acct, NOWHERE);
}

static long sc_swapon(void *u)
{
	(void)u;
	return syscall(SYS_swapon, NOWHERE, 0);
}

/* reboot with a bad magic number (EINVAL when reached), as root of a pid
 * namespace of its own when the filter lets it have one. */
static long sc_reboot(void *u)
{
	(void)u;
	escalate(CLONE_NEWPID);
	return 0; /* the work is done by reboot_child, in a child of the new pid namespace */
}

static long reboot_call(void *u)
{
	(void)u;
	return syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, 0 /* bad magic2 */, LINUX_REBOOT_CMD_CAD_OFF, NULL);
}

static long sc_settimeofday(void *u)
{
	(void)u;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 2000000 /* invalid: EINVAL when reached */ };
	return syscall(SYS_settimeofday, &tv, NULL);
}

static long sc_clock_settime(void *u)
{
	(void)u;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 2000000000L /* invalid: EINVAL when reached */ };
	return syscall(SYS_clock_settime, CLOCK_REALTIME, &ts);
}

static long sc_adjtimex(void *u)
{
	(void)u;
	struct timex tx = { .modes = 0 /* read only */ };
	return syscall(SYS_adjtimex, &tx);
}

static long sc_pivot_root(void *u)
{
	(void)u;
	escalate(CLONE_NEWNS);
	return syscall(SYS_pivot_root, NOWHERE "-a", NOWHERE "-b");
}

static long sc_mount(void *u)
{
	(void)u;
	return mount("none", NOWHERE, "tmpfs", 0, NULL); /* ENOENT when reached */
}

static long sc_umount2(void *u)
{
	(void)u;
	return umount2(NOWHERE, 0); /* ENOENT when reached */
}

static long sc_fsopen(void *u)
{
	(void)u;
	escalate(CLONE_NEWNS);
	return syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
}

static long sc_open_tree(void *u)
{
	(void)u;
	return syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLOEXEC);
}

static long sc_move_mount(void *u)
{
	(void)u;
	escalate(CLONE_NEWNS);
	return syscall(SYS_move_mount, -1, "", AT_FDCWD, NOWHERE, MOVE_MOUNT_F_EMPTY_PATH); /* EBADF when reached */
}

static long sc_mount_setattr(void *u)
{
	(void)u;
	struct mount_attr attr = { 0 };
	return syscall(SYS_mount_setattr, -1, "", AT_EMPTY_PATH, &attr, 0 /* EINVAL when reached */);
}

static long sc_setns(void *u)
{
	(void)u;
	return setns(-1, 0); /* EBADF when reached */
}

static long sc_unshare_user(void *u)
{
	(void)u;
	return unshare(CLONE_NEWUSER);
}

static long sc_unshare_ns(void *u)
{
	(void)u;
	escalate(0);
	return unshare(CLONE_NEWNS);
}

static long sc_clone_user(void *u)
{
	(void)u;
	return reap(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL));
}

static long sc_clone3(void *u)
{
	(void)u;
	struct clone_args args = { .exit_signal = SIGCHLD };
	return reap(syscall(SYS_clone3, &args, sizeof(args)));
}

static long sc_personality(void *u)
{
	(void)u;
	return syscall(SYS_personality, 0x0040000 /* READ_IMPLIES_EXEC */);
}

/* An ioctl on a pty that is the caller's controlling terminal (a new session
 * in this child), so that only a filter can refuse TIOCSTI. */
static long pty_ioctl(void *u)
{
	unsigned long req = *(unsigned long *)u;
	char c = 6;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		return -1;
	char *name = ptsname(m);
	if (!name || setsid() < 0)
		return -1;
	int s = open(name, O_RDWR | O_CLOEXEC);
	if (s < 0)
		return -1;
	return syscall(SYS_ioctl, s, req, &c);
}

#if defined(__x86_64__)
/* keyctl(KEYCTL_GET_KEYRING_ID, @s) through the i386 entry point. */
/* An i386 system call through int $0x80: its result, or -1 with errno. */
static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "r8", "r9", "r10", "r11");
	int r = (int)ret;
	if (r < 0 && r > -4096) {
		errno = -r;
		return -1;
	}
	return r;
}

static long sc_int80_keyctl(void *u)
{
	(void)u;
	return int80(I386_NR_KEYCTL, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

/* i386 connect(-1, NULL, 0), direct (362) and through socketcall (102,
 * SYS_CONNECT, its arguments in memory below 4 GiB): EBADF from the kernel,
 * ENOSYS (each) from the direct ports' guard. */
static long sc_int80_connect(void *u)
{
	(void)u;
	uint32_t *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (args == MAP_FAILED)
		return -1;
	args[0] = (uint32_t)-1, args[1] = 0, args[2] = 0;
	long direct = int80(362, -1, 0, 0);
	int err = errno;
	long viacall = int80(102, 3 /* SYS_CONNECT */, (long)(uintptr_t)args, 0);
	if (direct < 0 && viacall < 0 && errno != err) {
		errno = EPROTO; /* (they differ: say so as "EPROTO") */
		return -1;
	}
	return direct < 0 ? viacall : direct;
}

/* The same through the x32 ABI (the syscall number with bit 30 set). */
static long sc_x32_keyctl(void *u)
{
	(void)u;
	return syscall(X32_SYSCALL_BIT | SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}
#endif

static const struct sc {
	const char *name;
	long (*fn)(void *);
	unsigned long ioctl_req; /* for pty_ioctl */
} syscalls[] = {
	{ "keyctl", sc_keyctl, 0 },
	{ "add_key", sc_add_key, 0 },
	{ "request_key", sc_request_key, 0 },
	{ "bpf", sc_bpf, 0 },
	{ "perf_event_open", sc_perf_event_open, 0 },
	{ "userfaultfd", sc_userfaultfd, 0 },
	{ "io_uring_setup", sc_io_uring_setup, 0 },
	{ "kexec_load", sc_kexec_load, 0 },
	{ "init_module", sc_init_module, 0 },
	{ "finit_module", sc_finit_module, 0 },
	{ "delete_module", sc_delete_module, 0 },
	{ "open_by_handle_at", sc_open_by_handle_at, 0 },
	{ "name_to_handle_at", sc_name_to_handle_at, 0 },
	{ "acct", sc_acct, 0 },
	{ "swapon", sc_swapon, 0 },
	{ "reboot", sc_reboot, 0 },
	{ "settimeofday", sc_settimeofday, 0 },
	{ "clock_settime", sc_clock_settime, 0 },
	{ "adjtimex", sc_adjtimex, 0 },
	{ "pivot_root", sc_pivot_root, 0 },
	{ "mount", sc_mount, 0 },
	{ "umount2", sc_umount2, 0 },
	{ "fsopen", sc_fsopen, 0 },
	{ "open_tree", sc_open_tree, 0 },
	{ "move_mount", sc_move_mount, 0 },
	{ "mount_setattr", sc_mount_setattr, 0 },
	{ "setns", sc_setns, 0 },
	{ "unshare-user", sc_unshare_user, 0 },
	{ "unshare-ns", sc_unshare_ns, 0 },
	{ "clone-user", sc_clone_user, 0 },
	{ "clone3", sc_clone3, 0 },
	{ "personality", sc_personality, 0 },
	{ "tiocsti", pty_ioctl, TIOCSTI },
	{ "tioclinux", pty_ioctl, TIOCLINUX },
	{ "tiocsti-hibit", pty_ioctl, 0x100000000UL | TIOCSTI },
#if defined(__x86_64__)
	{ "int80-keyctl", sc_int80_keyctl, 0 },
	{ "int80-connect", sc_int80_connect, 0 },
	{ "x32-keyctl", sc_x32_keyctl, 0 },
#endif
};

/* sc NAME: the blocked system call NAME tried for real, in a child. */
static int a_sc(char **av)
{
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++) {
		const struct sc *c = &syscalls[i];
		if (strcmp(c->name, av[0]) != 0)
			continue;
		if (c->fn == sc_reboot) {
			/* the new pid namespace is for the children of the escalated process */
			int p[2], status, err = -1;
			if (pipe(p) < 0)
				return fail_errno();
			pid_t pid = fork();
			if (pid == 0) {
				sc_reboot(NULL);
				pid_t inner = fork();
				if (inner == 0) {
					long r = reboot_call(NULL);
					int e = r < 0 ? errno : 0;
					(void)!write(p[1], &e, sizeof(e));
					_exit(0);
				}
				waitpid(inner, NULL, 0);
				_exit(0);
			}
			close(p[1]);
			if (read(p[0], &err, sizeof(err)) != sizeof(err))
				err = -1;
			waitpid(pid, &status, 0);
			say("%s", err < 0 ? "no answer" : err ? errname(err) : "ok");
			return 0;
		}
		return in_child(c->fn, (void *)&c->ioctl_req);
	}
	say("unknown system call %s", av[0]);
	return 2;
}

/* ---------------------------------------------------------------- main */

static const struct attempt {
	const char *name;
	int nargs; /* at least */
	int (*fn)(char **);
	const char *usage;
} attempts[] = {
	{ "write", 1, a_write, "PATH: create/truncate and write (as the shell's >)" },
	{ "read", 1, a_read, "PATH: open and read a byte" },
	{ "stat", 1, a_stat, "PATH" },
	{ "link", 2, a_link, "OLD NEW: a hard link" },
	{ "pwd-write", 1, a_pwd_write, "NAME: the cwd, and whether NAME can be made there" },
	{ "mask", 1, a_mask, "PATH: null device, empty read-only tmpfs, or what it is" },
	{ "fs", 1, a_fs, "PATH: file system type and size" },
	{ "status", 1, a_status, "FIELD...: values from /proc/self/status" },
	{ "caps", 0, a_caps, ": the capability sets" },
	{ "fds", 0, a_fds, ": open fds (from /proc/self/fd)" },
	{ "pids", 0, a_pids, ": processes (from /proc)" },
	{ "kill", 1, a_kill, "PID: SIGTERM" },
	{ "ptrace", 1, a_ptrace, "PID: PTRACE_ATTACH" },
	{ "open-mem", 1, a_open_mem, "PID: open /proc/PID/mem read-write" },
	{ "exe", 1, a_exe, "PID: readlink /proc/PID/exe" },
	{ "watch-join", 1, a_watch_join, "SECONDS [STOP]: ptrace and /proc/PID/{exe,cwd,root,fd,mem} of a process joining" },
	{ "euid", 0, a_euid, ": the effective uid" },
	{ "mount-real", 1, a_mount_real, "DIR: mount a tmpfs on DIR" },
	{ "tiocsti-stdin", 1, a_tiocsti_stdin, "TEXT: push TEXT and a newline into the terminal on stdin" },
	{ "connect-unix", 1, a_connect_unix, "PATH|@ABSTRACT" },
	{ "replace-sock", 1, a_replace_sock, "PATH: unlink the socket and bind one of ours" },
	{ "connect", 2, a_connect, "IP PORT: TCP" },
	{ "connect-gw", 1, a_connect_gw, "PORT: TCP to the default gateway" },
	{ "rawframe", 2, a_rawframe, "tcp4|udp4|tcp6|udp6 PORT [DST]: a frame to loopback (or DST) through eth0" },
	{ "listen", 2, a_listen, "tcp4|udp4|tcp6|udp6|tcp4any|unix:PATH FILE [SECONDS]: (host side) record arrivals" },
	{ "key-read", 1, a_key_read, "ID" },
	{ "key-update", 2, a_key_update, "ID DATA" },
	{ "key-session", 0, a_key_session, ": the session keyring's serial and key count" },
	{ "key-put", 2, a_key_put, "NAME DATA [SECONDS]" },
	{ "key-get", 1, a_key_get, "NAME" },
	{ "sc", 1, a_sc, "SYSCALL: a system call the default filter refuses, for real" },
	{ "pf-serve", 4, a_pf_serve, "HOSTPORT PORT WHAT|hold TARGET [UNIXPATH]: (with -p) a server that tries WHAT" },
	{ "pf-steal", 4, a_pf_steal, "UNIXPATH HOSTPORT WHAT TARGET: WHAT on a pf-serve's sockets" },
	{ "knock", 1, a_knock, "PORT [HOLD]: (host side) be pf-serve's client" },
	{ "free-port", 0, a_free_port, ": (host side) a free TCP port" },
};

int main(int argc, char **argv)
{
	if (argc >= 2)
		for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++)
			if (strcmp(attempts[i].name, argv[1]) == 0) {
				if (argc - 2 < attempts[i].nargs)
					break;
				return attempts[i].fn(argv + 2);
			}
	fprintf(stderr, "usage: attempts NAME [ARG...]\n");
	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++)
		fprintf(stderr, "  %-14s %s\n", attempts[i].name, attempts[i].usage);
	fprintf(stderr, "  system calls:");
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		fprintf(stderr, " %s", syscalls[i].name);
	fprintf(stderr, "\n");
	return 2;
}
