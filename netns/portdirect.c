/* SPDX-License-Identifier: MIT */
/*
 * portdirect.c - direct -p ports: answering the guard's notifications.
 *
 * DOC: Theory of operation
 * Each notification names a thread and a descriptor of it.  The descriptor is
 * copied here with pidfd_getfd() (after the notification is checked to be
 * still alive, so that the pid was not reused), and every decision is taken
 * on that copy and every call made on it: what is checked is what is acted
 * on, whatever the sandbox does to its descriptor table meanwhile.  Its
 * memory (an address, an option's value) is read once, and checked to have
 * been its own (the notification still alive afterwards); what is written
 * back (an ioctl's or getsockopt's result) goes through its /proc/TID/mem,
 * opened while the notification was alive: never another process's, should
 * the pid be reused.
 *
 *  - connect(): on a socket of the host's namespace (its SO_NETNS_COOKIE) it
 *    fails with EPERM, AF_UNSPEC included.  On an IPv4/IPv6 socket of any
 *    other namespace it is made here, with the address read once from the
 *    caller's memory, by a pool of threads, never this loop's: a slow peer,
 *    or a socket the caller turned blocking meanwhile, holds up nothing
 *    else.  Other families (unix sockets, whose paths resolve in the
 *    caller's root) go on in the kernel: had the sandbox swapped a TCP
 *    socket in meanwhile, Landlock refuses its connect.
 *  - bind(): a TCP socket of the sandbox bound to a forwarded port on the
 *    wildcard or loopback address gets, in its place, a new descriptor of
 *    the host listener (SECCOMP_IOCTL_NOTIF_ADDFD with SETFD), which the
 *    relay then stops watching (portfwd_take()); with the caller's blocking
 *    mode.  Another TCP bind is made here (Landlock refuses the sandbox's
 *    own), a port below 1024 only for a caller with CAP_NET_BIND_SERVICE
 *    (the sandbox's net.ipv4.ip_unprivileged_port_start is taken to be the
 *    default); on a host socket it is refused (EPERM).  Other binds (UDP,
 *    unix) go on in the kernel.
 *  - a socket device ioctl (an interface's addresses, ARP...): refused on a
 *    host socket (they would tell the host's interfaces); one that only reads
 *    is made here, its fixed-size argument copied in and back; one that
 *    changes something goes on in the kernel, which asks CAP_NET_ADMIN over
 *    the socket's namespace; any other (data behind a pointer) is refused.
 *  - listen() is made here, refused on a host socket other than a handed
 *    listener; shutdown() (never SHUT_WR: the filter lets that through) is
 *    made here, refused on a handed listener, where it would reset it to a
 *    socket that could connect.
 *
 * The thread (portdirect_start) and `usbox exec`'s server process
 * (portdirect_serve) run the same loop; only the former has listeners to give.
 */
#include "portdirect.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "netns.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#define X32_BIT 0x40000000u
#define POOL_MAX 512           /* threads making connects at once; more wait their turn ... */
#define QUEUE_MAX 4096         /* ... up to this many (each holds two descriptors here): then EAGAIN */
#define POOL_STACK (64 * 1024)

enum { NR_IOCTL = 16, NR_CONNECT = 42, NR_SHUTDOWN = 48, NR_BIND = 49, NR_LISTEN = 50, NR_SETSOCKOPT = 54,
       NR_GETSOCKOPT = 55, NR_X32_SETSOCKOPT = 541, NR_X32_GETSOCKOPT = 542 };
#define OPT_MAX 1024            /* a socket option's value, at most */
#define IFCONF_MAX (64 * 1024)  /* SIOCGIFCONF's buffer, at most */

struct portdirect {
	int notify;
	int wake;             /* eventfd: readable when the thread must end */
	struct portfwd *pf;   /* NULL: nothing to hand over */
	uint64_t host;
	pthread_t thread;
	bool started;
};

/* A connect of the sandbox's, made by a thread of the pool. */
struct connect_job {
	struct connect_job *next;
	int notify;           /* a descriptor of the listener of its own */
	int fd;
	uint64_t id;
	struct sockaddr_storage addr;
	socklen_t len;
};

/* The threads that make the sandbox's connects: made as needed (at most
 * POOL_MAX), kept while the process serves, told to end when it stops. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct connect_job *head, *tail;
	int threads, idle, queued;
	bool stop;
} pool = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

int portdirect_cookie(uint64_t *out, struct ubx_err *e)
{
	socklen_t len = sizeof(*out);
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, out, &len) < 0)
		return ubx_fail(e, errno, "the network namespace's cookie");
	return 0;
}

static void respond(int notify, uint64_t id, int err, uint32_t flags)
{
	struct seccomp_notif_resp resp = { .id = id, .error = err ? -err : 0, .flags = flags };
	(void)ioctl(notify, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

static bool still_valid(int notify, uint64_t id)
{
	return ioctl(notify, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* The number on the line "@key N" of /proc/@tid/@file, in @base; 0 when
 * there is none. */
static unsigned long long proc_field(pid_t tid, const char *file, const char *key, int base)
{
	char path[64], line[256];
	unsigned long long v = 0;
	size_t klen = strlen(key);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, file);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0) {
			v = strtoull(line + klen, NULL, base);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

/* A pidfd of the thread @tid (of its process before Linux 6.9). */
static int thread_pidfd(pid_t tid)
{
	int fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (fd >= 0 || errno != EINVAL)
		return fd;
	pid_t tgid = (pid_t)proc_field(tid, "status", "Tgid:", 10);
	return tgid > 0 ? (int)syscall(SYS_pidfd_open, tgid, 0) : -1;
}

/* The thread whose notification is answered, and how to reach its memory. */
struct caller {
	pid_t tid;
	int mem;              /* its /proc/TID/mem, opened while the notification was alive (so
			       * bound to its memory whatever becomes of its pid), for what is
			       * written back; -1: reads only */
	int notify;
	uint64_t id;
};

/* @len bytes at @addr in the caller's memory read into @buf, or with @out
 * written from it (through c->mem).  A read without c->mem is checked
 * afterwards to have been the caller's.  Return: 0, EFAULT or ESRCH. */
static int copy_io(const struct caller *c, uint64_t addr, void *buf, size_t len, bool out)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;
	if (!len)
		return 0;
	if (addr > (uint64_t)INT64_MAX - len || (out && c->mem < 0))
		return EFAULT;
	if (c->mem >= 0)
		n = out ? pwrite(c->mem, buf, len, (off_t)addr) : pread(c->mem, buf, len, (off_t)addr);
	else if ((n = process_vm_readv(c->tid, &local, 1, &remote, 1, 0)) == (ssize_t)len && !still_valid(c->notify, c->id))
		return ESRCH; /* (its pid may have gone to another) */
	return n == (ssize_t)len ? 0 : EFAULT;
}

/* The address argument (@ptr, @len) read from the caller.  Return: 0 or an errno. */
static int read_addr(const struct caller *c, uint64_t ptr, uint64_t len, struct sockaddr_storage *out,
		     socklen_t *outlen)
{
	if (len > sizeof(*out))
		return EINVAL;
	memset(out, 0, sizeof(*out));
	int err = copy_io(c, ptr, out, (size_t)len, false);
	*outlen = (socklen_t)len;
	return err;
}

static int sockopt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);
	return getsockopt(fd, level, name, &v, &len) < 0 ? -1 : v;
}

static bool in_host(const struct portdirect *pd, int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	/* a socket whose namespace cannot be told is treated as the host's */
	return getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0 || cookie == pd->host;
}

static void job_free(struct connect_job *sc)
{
	if (sc->fd >= 0)
		close(sc->fd);
	if (sc->notify >= 0)
		close(sc->notify);
	free(sc);
}

static void *pool_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.mu);
	for (;;) {
		while (!pool.head && !pool.stop) {
			pool.idle++;
			pthread_cond_wait(&pool.cv, &pool.mu);
			pool.idle--;
		}
		struct connect_job *sc = pool.head;
		if (!sc)
			break;
		if (!(pool.head = sc->next))
			pool.tail = NULL;
		pool.queued--;
		pthread_mutex_unlock(&pool.mu);
		if (still_valid(sc->notify, sc->id)) { /* (not if the caller gave up, a signal say) */
			int r = connect(sc->fd, (struct sockaddr *)&sc->addr, sc->len);
			respond(sc->notify, sc->id, r < 0 ? errno : 0, 0);
		}
		job_free(sc);
		pthread_mutex_lock(&pool.mu);
	}
	pool.threads--;
	pthread_mutex_unlock(&pool.mu);
	return NULL;
}

/* Queues @sc for the pool, with a new thread when none is idle.  Return: 0
 * or an errno. */
static int pool_add(struct connect_job *sc)
{
	pthread_attr_t attr;
	pthread_t t;
	int err = 0;
	pthread_mutex_lock(&pool.mu);
	if (pool.queued >= QUEUE_MAX) {
		pthread_mutex_unlock(&pool.mu);
		return EAGAIN;
	}
	if (!pool.idle && pool.threads < POOL_MAX) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, POOL_STACK);
		err = pthread_create(&t, &attr, pool_main, NULL);
		pthread_attr_destroy(&attr);
		pool.threads += !err;
	}
	if (!err || pool.threads) { /* (else nobody would take it) */
		err = 0;
		sc->next = NULL;
		*(pool.tail ? &pool.tail->next : &pool.head) = sc;
		pool.tail = sc;
		pool.queued++;
		pthread_cond_signal(&pool.cv);
	}
	pthread_mutex_unlock(&pool.mu);
	return err;
}

/* Tells the pool's threads to end once the queue is empty. */
static void pool_stop(void)
{
	pthread_mutex_lock(&pool.mu);
	pool.stop = true;
	pthread_cond_broadcast(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
}

/* connect(): made on *@fd (taken) by a thread of the pool (never this
 * loop's: the caller may turn the socket blocking at any time). */
static int do_connect(const struct portdirect *pd, const struct seccomp_notif *req, const struct caller *c, int *fd,
		      bool *answered)
{
	struct connect_job *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return ENOMEM;
	int err = read_addr(c, req->data.args[1], req->data.args[2], &sc->addr, &sc->len);
	if (err) {
		free(sc);
		return err;
	}
	sc->id = req->id;
	sc->fd = TAKE_FD(*fd);
	sc->notify = fcntl(pd->notify, F_DUPFD_CLOEXEC, 3);
	if (sc->fd < 0 || sc->notify < 0 || (err = pool_add(sc)) != 0) {
		job_free(sc);
		return err ? err : EMFILE;
	}
	*answered = true;
	return 0;
}

/* The port and whether the address is the wildcard or loopback. */
static bool local_port(const struct sockaddr_storage *a, socklen_t len, uint16_t *port)
{
	if (a->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)a;
		*port = ntohs(in->sin_port);
		return in->sin_addr.s_addr == htonl(INADDR_ANY) || in->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
	}
	if (a->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)a;
		*port = ntohs(in6->sin6_port);
		return IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
}

/* Whether the caller has @cap in its effective set. */
static bool caller_can(pid_t tid, unsigned cap)
{
	return proc_field(tid, "status", "CapEff:", 16) & (1ULL << cap);
}

/* O_CLOEXEC when the caller's descriptor @fd has it (a copy's flags are the
 * copy's own: the caller's are in its fdinfo). */
static unsigned fd_cloexec(pid_t tid, int fd)
{
	char file[32];
	snprintf(file, sizeof(file), "fdinfo/%d", fd);
	return (unsigned)proc_field(tid, file, "flags:", 8) & O_CLOEXEC;
}

/* bind() of a TCP socket of the sandbox: the host listener in its place when
 * it is to a forwarded port.  Return: an errno, 0 when answered, or -1 to let
 * the kernel go on. */
static int do_bind(const struct portdirect *pd, const struct seccomp_notif *req, const struct caller *c, int fd,
		   bool *answered)
{
	struct sockaddr_storage a;
	socklen_t len;
	uint16_t port = 0;
	int domain = sockopt_int(fd, SOL_SOCKET, SO_DOMAIN);
	if (sockopt_int(fd, SOL_SOCKET, SO_TYPE) != SOCK_STREAM || (domain != AF_INET && domain != AF_INET6))
		return -1; /* (Landlock refuses a TCP socket swapped in meanwhile) */
	int err = read_addr(c, req->data.args[1], req->data.args[2], &a, &len);
	if (err)
		return err;
	bool local = a.ss_family == domain && local_port(&a, len, &port);
	_cleanup_close_ int l = local && pd->pf ? portfwd_take(pd->pf, domain, port) : -1;
	if (l < 0) /* made here (Landlock refuses the sandbox's own TCP binds), as the kernel would */
		return port && port < 1024 && !caller_can(req->pid, 10 /* CAP_NET_BIND_SERVICE */) ? EACCES
		       : bind(fd, (struct sockaddr *)&a, len) < 0 ? errno : 0;
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(l, F_SETFL, (fcntl(l, F_GETFL) & ~O_NONBLOCK) | (flags & O_NONBLOCK));
	struct seccomp_notif_addfd add = { .id = req->id, .flags = SECCOMP_ADDFD_FLAG_SETFD, .srcfd = (uint32_t)l,
					   .newfd = (uint32_t)req->data.args[0],
					   .newfd_flags = fd_cloexec(req->pid, (int)req->data.args[0]) };
	*answered = true;
	if (ioctl(pd->notify, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0)
		return errno == ENOENT ? 0 : (*answered = false, errno);
	respond(pd->notify, req->id, 0, 0);
	return 0;
}

/* The size of what a socket ioctl @cmd that only reads (an interface's
 * name, flags, addresses, MTU...; an ARP entry) takes and gives back in
 * place; 0 for any other. */
static size_t getter_size(unsigned cmd)
{
	static const unsigned ifreq_gets[] = { SIOCGIFNAME, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFDSTADDR,
					       SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMETRIC, SIOCGIFMEM,
					       SIOCGIFMTU, SIOCGIFENCAP, SIOCGIFHWADDR, SIOCGIFSLAVE, SIOCGIFINDEX,
					       SIOCGIFPFLAGS, SIOCGIFCOUNT, SIOCGIFTXQLEN, SIOCGIFMAP };
	for (size_t i = 0; i < sizeof(ifreq_gets) / sizeof(ifreq_gets[0]); i++)
		if (cmd == ifreq_gets[i])
			return sizeof(struct ifreq);
	return cmd == SIOCGARP ? sizeof(struct arpreq) : 0;
}

/* Whether @cmd changes something, which the kernel allows only with
 * CAP_NET_ADMIN over the socket's namespace: harmless whichever socket it
 * meets, so it may go on in the kernel. */
static bool setter(unsigned cmd)
{
	static const unsigned sets[] = { SIOCSIFLINK, SIOCSIFFLAGS, SIOCSIFADDR, SIOCSIFDSTADDR, SIOCSIFBRDADDR,
					 SIOCSIFNETMASK, SIOCSIFMETRIC, SIOCSIFMEM, SIOCSIFMTU, SIOCSIFNAME,
					 SIOCSIFHWADDR, SIOCSIFENCAP, SIOCSIFSLAVE, SIOCADDMULTI, SIOCDELMULTI,
					 SIOCSIFPFLAGS, SIOCDIFADDR, SIOCSIFHWBROADCAST, SIOCSIFTXQLEN, SIOCSIFMAP,
					 SIOCDARP, SIOCSARP, SIOCDRARP, SIOCSRARP, SIOCSIFBR, SIOCBRADDBR,
					 SIOCBRDELBR, SIOCBRADDIF, SIOCBRDELIF };
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (cmd == sets[i])
			return true;
	return false;
}

/* SIOCGIFCONF made here: the caller's buffer filled from ours. */
static int do_ifconf(const struct seccomp_notif *req, const struct caller *c, int fd)
{
	struct ifconf ifc;
	int err = copy_io(c, req->data.args[2], &ifc, sizeof(ifc), false);
	if (err)
		return err;
	void *theirs = ifc.ifc_buf;
	size_t len = ifc.ifc_len < 0 ? 0 : (size_t)ifc.ifc_len > IFCONF_MAX ? IFCONF_MAX : (size_t)ifc.ifc_len;
	_cleanup_free_ char *buf = theirs && len ? calloc(1, len) : NULL;
	if (theirs && len && !buf)
		return ENOMEM;
	ifc.ifc_len = (int)len;
	ifc.ifc_buf = theirs ? buf : NULL;
	if (ioctl(fd, SIOCGIFCONF, &ifc) < 0)
		return errno;
	if (theirs && ifc.ifc_len > 0 && (err = copy_io(c, (uint64_t)(uintptr_t)theirs, buf, (size_t)ifc.ifc_len, true)))
		return err;
	ifc.ifc_buf = theirs;
	return copy_io(c, req->data.args[2], &ifc, sizeof(ifc), true);
}

/* A socket ioctl of the sandbox's (0x8910-0x89ff): on a host socket refused;
 * one that reads made here and copied back; one that changes something
 * left to the kernel; any other (driver-private requests, ethtool: data
 * behind a pointer) refused.  Return: an errno, or -1 to let it go on. */
static int do_ioctl(const struct seccomp_notif *req, const struct caller *c, int fd, bool host)
{
	unsigned cmd = (unsigned)req->data.args[1];
	char buf[sizeof(struct arpreq) > sizeof(struct ifreq) ? sizeof(struct arpreq) : sizeof(struct ifreq)];
	size_t size = getter_size(cmd);
	if (cmd == SIOCOUTQNSD) /* (what waits to be sent: nothing of the namespace's) */
		return -1;
	if (host)
		return EPERM;
	if (setter(cmd))
		return -1;
	if (cmd == SIOCGIFCONF)
		return do_ifconf(req, c, fd);
	if (!size)
		return EOPNOTSUPP;
	int err = copy_io(c, req->data.args[2], buf, size, false);
	if (err)
		return err;
	if (ioctl(fd, cmd, buf) < 0)
		return errno;
	return copy_io(c, req->data.args[2], buf, size, true);
}

static bool is_handed(const struct portdirect *pd, int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	return pd->pf && getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) == 0 && portfwd_handed(pd->pf, cookie);
}


/* setsockopt() of an option the filter sends (an interface named; TCP_ULP):
 * refused on a host socket, else made here, with the kernel's one check of
 * the caller's: binding an already bound socket to another device needs
 * CAP_NET_RAW. */
static int do_setsockopt(const struct seccomp_notif *req, const struct caller *c, int fd, bool host)
{
	int level = (int)req->data.args[1], name = (int)req->data.args[2], bound = 0;
	uint64_t len = (uint32_t)req->data.args[4];
	socklen_t blen = sizeof(bound);
	char buf[OPT_MAX];
	if (host)
		return EPERM;
	if (len > sizeof(buf))
		return EINVAL;
	int err = copy_io(c, req->data.args[3], buf, (size_t)len, false);
	if (err)
		return err;
	if (level == SOL_SOCKET && (name == SO_BINDTODEVICE || name == SO_BINDTOIFINDEX) &&
	    getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &bound, &blen) == 0 && bound &&
	    !caller_can(req->pid, 13 /* CAP_NET_RAW */))
		return EPERM;
	return setsockopt(fd, level, name, buf, (socklen_t)len) < 0 ? errno : 0;
}

/* getsockopt() of an option the filter sends (where packets came in):
 * refused on a host socket, else made here and copied back. */
static int do_getsockopt(const struct seccomp_notif *req, const struct caller *c, int fd, bool host)
{
	socklen_t len = 0;
	char buf[OPT_MAX];
	if (host)
		return EPERM;
	if (req->data.nr & X32_BIT) /* its control messages are laid out otherwise */
		return EOPNOTSUPP;
	int err = copy_io(c, req->data.args[4], &len, sizeof(len), false);
	if (err)
		return err;
	if (len > sizeof(buf))
		len = sizeof(buf);
	if (getsockopt(fd, (int)req->data.args[1], (int)req->data.args[2], buf, &len) < 0)
		return errno;
	if ((err = copy_io(c, req->data.args[3], buf, len, true)))
		return err;
	return copy_io(c, req->data.args[4], &len, sizeof(len), true);
}

/* The caller's memory, opened while its notification is alive (so that it
 * is the caller's, whatever becomes of its pid later).  Return: an fd or -1. */
static int caller_mem(const struct portdirect *pd, const struct seccomp_notif *req)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)req->pid);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && !still_valid(pd->notify, req->id)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One notification: the answer's errno, 0 with *@answered when it was sent
 * already, or -1 to let the kernel go on. */
static int decide(const struct portdirect *pd, const struct seccomp_notif *req, bool *answered)
{
	unsigned nr = req->data.nr & ~X32_BIT;
	nr = nr == NR_X32_SETSOCKOPT ? NR_SETSOCKOPT : nr == NR_X32_GETSOCKOPT ? NR_GETSOCKOPT : nr;
	_cleanup_close_ int pidfd = thread_pidfd(req->pid);
	if (pidfd < 0 || !still_valid(pd->notify, req->id))
		return ESRCH;
	bool writes = nr == NR_IOCTL || nr == NR_GETSOCKOPT; /* (the others read, if anything) */
	_cleanup_close_ int mem = writes ? caller_mem(pd, req) : -1;
	if (writes && mem < 0)
		return ESRCH;
	const struct caller c = { .tid = req->pid, .mem = mem, .notify = pd->notify, .id = req->id };
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)req->data.args[0], 0);
	if (fd < 0)
		return errno == EBADF ? EBADF : errno;
	int domain = sockopt_int(fd, SOL_SOCKET, SO_DOMAIN);
	if (domain < 0)
		return nr == NR_IOCTL ? ENOTTY : ENOTSOCK;
	bool host = in_host(pd, fd);
	switch (nr) {
	case NR_IOCTL:
		return do_ioctl(req, &c, fd, host);
	case NR_SETSOCKOPT:
		return do_setsockopt(req, &c, fd, host);
	case NR_GETSOCKOPT:
		return do_getsockopt(req, &c, fd, host);
	case NR_CONNECT:
		if (host)
			return EPERM;
		if (domain != AF_INET && domain != AF_INET6)
			return -1;
		return do_connect(pd, req, &c, &fd, answered);
	case NR_BIND:
		return host ? EPERM : do_bind(pd, req, &c, fd, answered);
	case NR_LISTEN:
		if (host && !is_handed(pd, fd))
			return EPERM;
		return listen(fd, (int)req->data.args[1]) < 0 ? errno : 0;
	case NR_SHUTDOWN:
		if (host && sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN) != 0)
			return EPERM;
		return shutdown(fd, (int)req->data.args[1]) < 0 ? errno : 0;
	}
	return ENOSYS;
}

/* Receives and answers one notification. */
static void handle_one(const struct portdirect *pd)
{
	struct seccomp_notif req;
	memset(&req, 0, sizeof(req));
	if (ioctl(pd->notify, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return; /* ENOENT: the caller is gone already */
	bool answered = false;
	int r = decide(pd, &req, &answered);
	if (!answered)
		respond(pd->notify, req.id, r < 0 ? 0 : r, r < 0 ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0);
}

/* The loop: until told to end (@pd->wake), or nobody is left to notify. */
static void serve(const struct portdirect *pd)
{
	for (;;) {
		struct pollfd fds[2] = { { .fd = pd->notify, .events = POLLIN }, { .fd = pd->wake, .events = POLLIN } };
		if (poll(fds, pd->wake >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (fds[1].revents || (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
			return;
		if (fds[0].revents & POLLIN)
			handle_one(pd);
	}
}

static void *thread_main(void *arg)
{
	serve(arg);
	return NULL;
}

int portdirect_start(int notify, struct portfwd *pf, uint64_t host, struct portdirect **out, struct ubx_err *e)
{
	sigset_t all, old;
	struct portdirect *pd = calloc(1, sizeof(*pd));
	if (!pd) {
		close(notify);
		return ubx_fail(e, ENOMEM, "direct ports");
	}
	*pd = (struct portdirect){ .notify = notify, .pf = pf, .host = host };
	pd->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pd->wake < 0) {
		int r = ubx_fail(e, errno, "direct ports: eventfd");
		portdirect_stop(pd);
		return r;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&pd->thread, NULL, thread_main, pd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		portdirect_stop(pd);
		return ubx_fail(e, r, "direct ports: thread");
	}
	pd->started = true;
	*out = pd;
	return 0;
}

void portdirect_stop(struct portdirect *pd)
{
	if (!pd)
		return;
	if (pd->started) {
		(void)!write(pd->wake, &(uint64_t){ 1 }, sizeof(uint64_t));
		pthread_join(pd->thread, NULL);
		pool_stop();
	}
	if (pd->wake >= 0)
		close(pd->wake);
	close(pd->notify);
	free(pd);
}

void portdirect_serve(int notify, uint64_t host)
{
	struct portdirect pd = { .notify = notify, .wake = -1, .host = host };
	serve(&pd);
	close(notify);
}
