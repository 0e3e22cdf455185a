/* SPDX-License-Identifier: MIT */
/*
 * delayline - a user-space delay line between two network namespaces, for
 * the network benchmarks on kernels without sch_netem.
 *
 *   delayline NETNS_A IFNAME_A NETNS_B IFNAME_B ONE_WAY_MS
 *
 * Makes the TAP device IFNAME_A in the named network namespace NETNS_A
 * (/run/netns/NETNS_A, as `ip netns add` makes them) and IFNAME_B in NETNS_B,
 * prints "ready" once both exist (configure them with ip(8) then), and
 * relays every frame from one to the other ONE_WAY_MS milliseconds after it
 * was read, in order, until killed.  Each direction queues at most QUEUE_BYTES
 * (a router's buffer; beyond it frames are dropped and counted on exit).
 * No rate limit, no loss otherwise: only latency.  Run as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 65600
#define QUEUE_BYTES (256u << 20)
#define SLOTS 65536 /* frames in flight per direction */

struct slot {
	int64_t due_ns;
	uint32_t off, len; /* in the direction's byte ring */
};

struct dir {
	int from, to;
	uint8_t *ring;          /* QUEUE_BYTES + FRAME_MAX, so a frame never wraps */
	uint32_t head;          /* where the next frame goes */
	struct slot *slots;
	uint32_t first, count;  /* the oldest slot and how many */
	uint64_t dropped;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A TAP named @name in the network namespace @ns (non-blocking). */
static int tap_in(const char *ns, const char *name)
{
	char path[256];
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		perror(path);
		exit(1);
	}
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror(name);
		exit(1);
	}
	if (setns(self, CLONE_NEWNET) < 0) {
		perror("setns back");
		exit(1);
	}
	close(nsfd);
	close(self);
	return fd;
}

static void dir_init(struct dir *d, int from, int to)
{
	*d = (struct dir){ .from = from, .to = to };
	d->ring = malloc(QUEUE_BYTES + FRAME_MAX);
	d->slots = calloc(SLOTS, sizeof(*d->slots));
	if (!d->ring || !d->slots) {
		perror("malloc");
		exit(1);
	}
}

/* Where the next frame may go (FRAME_MAX contiguous bytes), or NULL when full. */
static uint8_t *next_room(struct dir *d)
{
	uint32_t cap = QUEUE_BYTES + FRAME_MAX, tail = d->count ? d->slots[d->first].off : 0;

	if (d->count == SLOTS)
		return NULL;
	if (d->count == 0)
		d->head = 0;
	if (d->count == 0 || d->head > tail) { /* the frames lie in tail..head */
		if (d->head + FRAME_MAX <= cap)
			return d->ring + d->head;
		if (tail <= FRAME_MAX)
			return NULL;
		d->head = 0; /* wrap (frames never do) */
		return d->ring;
	}
	return tail - d->head > FRAME_MAX ? d->ring + d->head : NULL; /* wrapped: free is head..tail */
}

/* Reads what @d->from has, stamping each frame due @delay_ns from now. */
static void take(struct dir *d, int64_t delay_ns)
{
	uint8_t scratch[FRAME_MAX];
	for (int i = 0; i < 256; i++) {
		uint8_t *at = next_room(d);
		ssize_t n = read(d->from, at ? at : scratch, FRAME_MAX);
		if (n <= 0)
			return;
		if (!at) {
			d->dropped++;
			continue;
		}
		d->slots[(d->first + d->count) % SLOTS] = (struct slot){ now_ns() + delay_ns, d->head, (uint32_t)n };
		d->count++;
		d->head += (uint32_t)n;
	}
}

/* Writes the frames that are due; returns ns until the next one, or -1. */
static int64_t give(struct dir *d)
{
	int64_t now = now_ns();
	while (d->count) {
		struct slot *s = &d->slots[d->first];
		if (s->due_ns > now)
			return s->due_ns - now;
		(void)!write(d->to, d->ring + s->off, s->len);
		d->first = (d->first + 1) % SLOTS;
		d->count--;
	}
	return -1;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: delayline NETNS_A IFNAME_A NETNS_B IFNAME_B ONE_WAY_MS\n");
		return 2;
	}
	int a = tap_in(argv[1], argv[2]), b = tap_in(argv[3], argv[4]);
	int64_t delay = (int64_t)(atof(argv[5]) * 1e6);
	struct dir d[2];

	dir_init(&d[0], a, b);
	dir_init(&d[1], b, a);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
		int64_t wait = -1;
		for (int k = 0; k < 2; k++) {
			int64_t w = give(&d[k]);
			if (w >= 0 && (wait < 0 || w < wait))
				wait = w;
		}
		struct timespec ts = { wait / 1000000000, wait % 1000000000 };
		if (ppoll(p, 2, wait < 0 ? NULL : &ts, NULL) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < 2; k++)
			if (p[k].revents & POLLIN)
				take(&d[k], delay);
	}
	fprintf(stderr, "delayline: dropped %llu and %llu frames (queue full)\n", (unsigned long long)d[0].dropped,
		(unsigned long long)d[1].dropped);
	return 0;
}
