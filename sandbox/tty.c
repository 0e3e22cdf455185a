/* SPDX-License-Identifier: MIT */
#include "tty.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fdpass.h"

int tty_check(bool interactive, struct winsize *ws, struct ubx_err *e)
{
	if (interactive && !isatty(STDIN_FILENO))
		return ubx_fail(e, 0, "-i with -t: the input device is not a terminal (drop -t or -i)");
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, ws) == 0 && ws->ws_row && ws->ws_col)
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, ws) == 0 && ws->ws_row && ws->ws_col)
		return 0;
	*ws = (struct winsize){ .ws_row = 24, .ws_col = 80 };
	return 0;
}

int tty_open_inside(int sock, const struct winsize *ws, struct ubx_err *e)
{
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return ubx_fail(e, errno, "open /dev/ptmx");
	if (unlockpt(master) < 0)
		return ubx_fail(e, errno, "unlock the pty");
	_cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_CLOEXEC);
	if (slave < 0)
		return ubx_fail(e, errno, "open the pty's slave");
	if (ioctl(slave, TIOCSWINSZ, ws) < 0)
		return ubx_fail(e, errno, "set the window size");
	int r = fd_send(sock, master, 't');
	if (r < 0)
		return ubx_fail(e, -r, "send the pty to usbox");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return ubx_fail(e, errno, "make the pty the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return ubx_fail(e, errno, "dup2");
	return 0;
}

int tty_receive(struct tty_relay *t, int sock, bool interactive, struct ubx_err *e)
{
	struct termios raw;

	t->master = fd_receive(sock, NULL);
	if (t->master < 0)
		return ubx_fail(e, -t->master, "receive the pty");
	if (fcntl(t->master, F_SETFL, O_NONBLOCK) < 0)
		return ubx_fail(e, errno, "pty");
	t->in_fd = interactive ? STDIN_FILENO : -1;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return 0;
	raw = t->saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
		return ubx_fail(e, errno, "raw mode");
	t->raw = true;
	return 0;
}

void tty_resize(struct tty_relay *t)
{
	struct winsize ws;
	if (t->master >= 0 && (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0))
		(void)ioctl(t->master, TIOCSWINSZ, &ws);
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			(void)poll(&p, 1, -1);
			continue;
		}
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Copies what the pty has to stdout.  Return: false at EIO/EOF. */
static bool pump_out(struct tty_relay *t)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(t->master, buf, sizeof(buf));
		if (n > 0) {
			if (t->sink)
				t->sink(t->sink_arg, buf, (size_t)n);
			else
				(void)write_all(STDOUT_FILENO, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

/* Moves user input to the pty without ever blocking on it. */
static void pump_in(struct tty_relay *t, bool in_ready)
{
	if (in_ready && t->n_pending < sizeof(t->pending)) {
		ssize_t n = read(t->in_fd, t->pending + t->n_pending, sizeof(t->pending) - t->n_pending);
		if (n > 0)
			t->n_pending += (size_t)n;
		else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			t->in_fd = -1; /* the user's side is gone: stop reading it */
	}
	if (t->n_pending) {
		ssize_t n = write(t->master, t->pending, t->n_pending);
		if (n > 0) {
			memmove(t->pending, t->pending + n, t->n_pending - (size_t)n);
			t->n_pending -= (size_t)n;
		}
	}
}

bool tty_pump(struct tty_relay *t, bool master_ready, bool in_ready, bool master_writable)
{
	bool open = true;
	if (master_ready)
		open = pump_out(t);
	if (in_ready || master_writable)
		pump_in(t, in_ready);
	return open;
}

void tty_drain(struct tty_relay *t)
{
	if (t->master >= 0)
		(void)pump_out(t);
}

void tty_save(struct tty_relay *t)
{
	if (!t->raw && tcgetattr(STDIN_FILENO, &t->saved) == 0)
		t->raw = true;
}

void tty_restore(struct tty_relay *t)
{
	if (t->raw) {
		struct termios now;
		sigset_t ttou, old;
		/* Only when changed, and with SIGTTOU blocked: a usbox in the
		 * background must not stop on its way out. */
		if (tcgetattr(STDIN_FILENO, &now) == 0 && memcmp(&now, &t->saved, sizeof(now)) != 0) {
			sigemptyset(&ttou);
			sigaddset(&ttou, SIGTTOU);
			sigprocmask(SIG_BLOCK, &ttou, &old);
			(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &t->saved);
			sigprocmask(SIG_SETMASK, &old, NULL);
		}
		t->raw = false;
	}
	if (t->master >= 0) {
		close(t->master);
		t->master = -1;
	}
}
