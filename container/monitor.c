/* SPDX-License-Identifier: MIT */
/*
 * monitor.c - a container's supervisor (monitor.h).
 */
#include "monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fdpass.h"

int ctr_monitor_init(struct ctr_monitor *m, const char *id, const char *cdir, struct ubx_err *e)
{
	*m = (struct ctr_monitor){ .out_fd = -1, .err_fd = -1, .listen_fd = -1, .log = { .fd = -1 } };
	snprintf(m->id, sizeof(m->id), "%s", id);
	snprintf(m->cdir, sizeof(m->cdir), "%s", cdir);
	return ctr_run_dir(id, true, m->rundir, sizeof(m->rundir), e);
}

static void address_of(const struct sandbox *sb, char *buf, size_t len)
{
	buf[0] = '\0';
	if (sb->spec->net == NET_SLIRP)
		snprintf(buf, len, "%s", NETNS_GUEST_ADDR);
	else if (sb->spec->net == NET_USER && sb->lease.addr)
		inet_ntop(AF_INET, &sb->lease.addr, buf, (socklen_t)len);
}

int ctr_mark_running(struct ctr_monitor *m, struct sandbox *sb, struct ubx_err *e)
{
	struct ctr_run run = { .monitor = getpid(), .init = sb->pid, .full_map = sb->plan.method != IDMAP_SINGLE };
	m->sb = sb;
	int r = ctr_proc_start(sb->pid, &run.init_start);
	if (r < 0)
		return ubx_fail(e, -r, "the sandbox's init");
	if (sb->cg.leaf_fd >= 0)
		snprintf(run.cgroup, sizeof(run.cgroup), "%s/sandbox", sb->cg.own);
	address_of(sb, run.address, sizeof(run.address));
	if ((r = ctr_run_write(m->rundir, &run, e)) < 0)
		return r;
	m->state = (struct ctr_state){ .status = CTR_RUNNING, .exit_code = -1, .monitor = run.monitor, .init = run.init,
				       .init_start = run.init_start };
	snprintf(m->state.cgroup, sizeof(m->state.cgroup), "%s", run.cgroup);
	m->state.full_map = run.full_map;
	ctr_now(m->state.started);
	return ctr_state_write(m->cdir, &m->state, e);
}

void ctr_mark_exited(struct ctr_monitor *m, int status, bool oom_killed)
{
	struct ubx_err ignore;
	m->state.status = CTR_EXITED;
	m->state.exit_code = status;
	m->state.oom_killed = oom_killed;
	ctr_now(m->state.finished);
	(void)ctr_state_write(m->cdir, &m->state, &ignore);
	ctr_run_remove_dir(m->rundir);
}

/* ---------------------------------------------------------------- attach */

static int listen_attach(struct ctr_monitor *m, struct ubx_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/attach.sock", m->rundir) >= sizeof(sa.sun_path))
		return 0; /* too deep for a socket's name: no attach (said by usbox attach) */
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ubx_fail(e, errno, "attach socket");
	(void)unlink(sa.sun_path);
	mode_t old = umask(0077);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 4) < 0)
		return ubx_fail(e, errno, "%s", sa.sun_path);
	m->listen_fd = TAKE_FD(fd);
	return 0;
}

/* Takes a user of `usbox attach`: the caller's own uid only. */
static void accept_client(struct ctr_monitor *m)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid() ||
	    m->n_clients == CTR_ATTACH_MAX || m->sb->tty.master < 0 || fd_send(fd, m->sb->tty.master, 'm') < 0) {
		close(fd);
		return;
	}
	m->clients[m->n_clients++] = fd;
}

static void drop_client(struct ctr_monitor *m, size_t i)
{
	close(m->clients[i]);
	m->clients[i] = m->clients[--m->n_clients];
}

/* The pty's output: to the log as stdout, and a copy to each attached user
 * (never waiting for one: a slow one loses output, not the container). */
static void tty_output(void *arg, const char *buf, size_t n)
{
	struct ctr_monitor *m = arg;
	ctr_log_write(&m->log, CTR_STDOUT, buf, n);
	for (size_t i = 0; i < m->n_clients;) {
		bool gone = false;
		for (size_t off = 0; off < n && !gone; off += 4096) {
			size_t k = n - off < 4096 ? n - off : 4096;
			ssize_t w = send(m->clients[i], buf + off, k, MSG_DONTWAIT | MSG_NOSIGNAL);
			gone = w < 0 && errno != EAGAIN;
		}
		if (gone)
			drop_client(m, i);
		else
			i++;
	}
}

/* ---------------------------------------------------------------- network counts */

#define STATS_EVERY_MS 1000

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RUNDIR/net.json, for `usbox inspect`: replaced whole (a rename). */
static void write_stats(struct ctr_monitor *m, const struct netns_stats *st)
{
	char path[4300], tmp[4310], text[512], how[sizeof(st->tcp_path)];
	snprintf(how, sizeof(how), "%s", st->tcp_path);
	for (char *c = how; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			*c = '?'; /* no escapes needed */
	int n = snprintf(text, sizeof(text),
			 "{\"TcpPath\":\"%s\",\"RelayedConnections\":%lu,\"EgressAllowed\":%lu,\"EgressRefused\":%lu}\n",
			 how, st->relayed, st->allowed, st->refused);
	snprintf(path, sizeof(path), "%s/net.json", m->rundir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || n < 0 || (size_t)n >= sizeof(text) || write(fd, text, (size_t)n) != n || rename(tmp, path) < 0)
		(void)unlink(tmp);
}

/* The slirp network's counts, written when they changed, at most once a
 * second; *@timeout_ms shortened so that a change is written in time. */
static void stats_tick(struct ctr_monitor *m, int *timeout_ms)
{
	struct netns_stats now;
	if (!m->sb || !m->sb->slirp || !m->rundir[0])
		return;
	netns_slirp_stats(m->sb->slirp, &now);
	m->stats_pending = m->stats_ms == 0 || memcmp(&now, &m->stats, sizeof(now)) != 0;
	if (!m->stats_pending)
		return;
	int64_t t = mono_ms(), left = m->stats_ms + STATS_EVERY_MS - t;
	if (m->stats_ms == 0 || left <= 0) {
		write_stats(m, &now);
		m->stats = now;
		m->stats_ms = t;
		m->stats_pending = false;
	} else if (timeout_ms && (*timeout_ms < 0 || *timeout_ms > left)) {
		*timeout_ms = (int)left;
	}
}

/* ---------------------------------------------------------------- the poll loop */

static void fill(void *arg, struct pollfd *fds, size_t *n, size_t max, int *timeout_ms)
{
	struct ctr_monitor *m = arg;
	stats_tick(m, timeout_ms);
	m->filled = *n + 3 + m->n_clients <= max;
	if (!m->filled)
		return;
	m->first = *n;
	fds[(*n)++] = (struct pollfd){ .fd = m->out_fd, .events = POLLIN };
	fds[(*n)++] = (struct pollfd){ .fd = m->err_fd, .events = POLLIN };
	fds[(*n)++] = (struct pollfd){ .fd = m->listen_fd, .events = POLLIN };
	for (size_t i = 0; i < m->n_clients; i++)
		fds[(*n)++] = (struct pollfd){ .fd = m->clients[i], .events = POLLIN };
}

/* Reads a pipe into the log; closes it at its end. */
static void drain_pipe(struct ctr_monitor *m, int *fd, enum ctr_stream s)
{
	char buf[65536];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n > 0)
		ctr_log_write(&m->log, s, buf, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		*fd = (close(*fd), -1);
}

static void dispatch(void *arg, const struct pollfd *fds)
{
	struct ctr_monitor *m = arg;
	const struct pollfd *f = fds + m->first;
	if (!m->filled)
		return;
	if (f[0].fd >= 0 && (f[0].revents & (POLLIN | POLLHUP | POLLERR)))
		drain_pipe(m, &m->out_fd, CTR_STDOUT);
	if (f[1].fd >= 0 && (f[1].revents & (POLLIN | POLLHUP | POLLERR)))
		drain_pipe(m, &m->err_fd, CTR_STDERR);
	size_t n = m->n_clients; /* as filled: accept after the clients are looked at */
	for (size_t i = n; i-- > 0;) {
		char c;
		if ((f[3 + i].revents & (POLLIN | POLLHUP | POLLERR)) && recv(m->clients[i], &c, 1, MSG_DONTWAIT) <= 0)
			drop_client(m, i); /* users only ever hang up */
	}
	if (f[2].fd >= 0 && (f[2].revents & POLLIN))
		accept_client(m);
}

int ctr_monitor_detach(struct ctr_monitor *m, int out_fd, int err_fd, uint64_t max_size, unsigned max_files,
		       struct ubx_err *e)
{
	m->out_fd = out_fd;
	m->err_fd = err_fd;
	int r = ctr_log_open(&m->log, m->cdir, max_size, max_files, e);
	if (r < 0)
		return r;
	m->logging = true;
	if (m->sb->spec->tty) {
		if ((r = listen_attach(m, e)) < 0)
			return r;
		m->sb->tty.sink = tty_output;
		m->sb->tty.sink_arg = m;
	}
	m->hooks = (struct sandbox_hooks){ .fill = fill, .dispatch = dispatch, .arg = m };
	m->sb->hooks = &m->hooks;
	return 0;
}

void ctr_monitor_close(struct ctr_monitor *m)
{
	/* what the pipes still hold, now that every writer is gone */
	while (m->out_fd >= 0)
		drain_pipe(m, &m->out_fd, CTR_STDOUT);
	while (m->err_fd >= 0)
		drain_pipe(m, &m->err_fd, CTR_STDERR);
	while (m->n_clients)
		drop_client(m, 0);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	m->listen_fd = -1;
	if (m->logging)
		ctr_log_close(&m->log);
	m->logging = false;
}

void ctr_monitor_end(struct ctr_monitor *m)
{
	if (m->rundir[0])
		ctr_run_remove_dir(m->rundir);
}
