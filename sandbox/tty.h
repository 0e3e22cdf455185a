/* SPDX-License-Identifier: MIT */
/*
 * tty.h - `-t`: the command's terminal, relayed to the user's.
 *
 * DOC: Theory of operation
 * Inside, the command's process opens a pty from the sandbox's own devpts,
 * gives the slave the user's window size, sends the master out over a unix
 * socket (SCM_RIGHTS) and makes the slave its controlling terminal.  Outside,
 * the supervisor puts the user's terminal in raw mode and relays bytes both
 * ways with poll(); a SIGWINCH becomes a TIOCSWINSZ on the master (the kernel
 * then signals the sandbox's foreground process group).  Keys such as Ctrl-C
 * and Ctrl-Z are just bytes in raw mode: the pty inside turns them into
 * signals for its own foreground job.  The saved terminal settings are put
 * back by tty_restore(), which the supervisor runs on every way out.
 */
#ifndef USBOX_SANDBOX_TTY_H
#define USBOX_SANDBOX_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "../common/error.h"

struct tty_relay {
	int master;            /* the pty master, -1 before it arrives */
	int in_fd;             /* the user's stdin when -i, else -1 */
	bool raw;              /* termios below must be put back */
	struct termios saved;
	char pending[4096];    /* input read but not yet taken by the pty */
	size_t n_pending;
	/* where the command's output goes: stdout, or this (a detached
	 * sandbox's log and attached users) */
	void (*sink)(void *arg, const char *buf, size_t n);
	void *sink_arg;
};

/*
 * tty_check() - with -i, stdin must be a terminal (Docker's rule); fills
 * @ws with the user's window size (80x24 when none is known).
 * Return: 0 or a negative errno with a one-line reason.
 */
int tty_check(bool interactive, struct winsize *ws, struct ubx_err *e);

/*
 * tty_open_inside() - in the command's process, after setsid(): open a pty
 * from /dev/ptmx of the sandbox, size it @ws, send the master over @sock,
 * make the slave the controlling terminal and stdin, stdout and stderr.
 * Return: 0 or a negative errno.
 */
int tty_open_inside(int sock, const struct winsize *ws, struct ubx_err *e);

/*
 * tty_receive() - take the master from @sock and start relaying: raw mode on
 * the user's terminal when stdin is one.
 * Return: 0 or a negative errno.
 */
int tty_receive(struct tty_relay *t, int sock, bool interactive, struct ubx_err *e);

/* tty_resize() - copy the user's window size to the pty. */
void tty_resize(struct tty_relay *t);

/*
 * tty_pump() - move what is ready: @master_ready / @in_ready / @master_writable
 * as poll() said.  Return: false once the pty has closed (EIO or EOF).
 */
bool tty_pump(struct tty_relay *t, bool master_ready, bool in_ready, bool master_writable);

/* tty_drain() - copy everything the pty still holds to stdout. */
void tty_drain(struct tty_relay *t);

/*
 * tty_save() - without -t: remember the terminal settings of stdin, when it
 * is a terminal, for tty_restore() (a command sharing the caller's terminal
 * may leave it without echo, say).
 */
void tty_save(struct tty_relay *t);

/* tty_restore() - put the user's terminal back as it was; idempotent. */
void tty_restore(struct tty_relay *t);

#endif
