/* SPDX-License-Identifier: MIT */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proctitle.h"

/* In the grandchild: everything daemon_spawn() promises before @run. */
static _Noreturn void daemon_main(int sock, const char *title, void (*run)(void *arg), void *arg)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t me = getpid();
	sigset_t none;

	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
	    (sock != 3 && dup2(sock, 3) < 0))
		_exit(1);
	(void)close_range(4, ~0U, 0);
	proctitle_set(title);
	(void)!chdir("/");
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (unshare(CLONE_NEWUSER) < 0 || write(3, &me, sizeof(me)) != sizeof(me))
		_exit(1);
	run(arg);
	_exit(1);
}

pid_t daemon_spawn(const char *title, void (*run)(void *arg), void *arg, int *sock, struct ubx_err *e)
{
	pid_t pid = 0;
	int sp[2], status;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return ubx_fail(e, errno, "socketpair");
	pid_t first = fork();
	if (first == 0) {
		close(sp[0]);
		if (setsid() < 0)
			_exit(1);
		pid_t second = fork();
		if (second == 0)
			daemon_main(sp[1], title, run, arg);
		_exit(second < 0);
	}
	close(sp[1]);
	if (first < 0) {
		close(sp[0]);
		return ubx_fail(e, errno, "fork");
	}
	ssize_t got = read(sp[0], &pid, sizeof(pid));
	while (waitpid(first, &status, 0) < 0 && errno == EINTR)
		;
	if (got != sizeof(pid) || pid <= 0) {
		close(sp[0]);
		return ubx_fail(e, EAGAIN, "start %s", title);
	}
	*sock = sp[0];
	return pid;
}
