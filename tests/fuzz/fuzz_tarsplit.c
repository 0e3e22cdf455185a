/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: tar-split records (image/tarsplit.c), both ways.  The input is
 * replayed as a record against a small layer (a file, a file in a
 * directory, a symlink out of it, a FIFO): whatever it says, the replay may
 * only fail cleanly, never read past the layer or hand out more than the
 * record's own length.  Then the input is fed as a tar stream to the
 * builder, in pieces of varying sizes: the record must account for every
 * byte, and when it holds no file reference its replay must give the input
 * back byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../image/tarsplit.h"

static int layer = -1, empty = -1;

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char top[64] = "/tmp/fuzz-tarsplit-XXXXXX", path[128];
	(void)argc, (void)argv;
	if (!mkdtemp(top))
		abort();
	snprintf(path, sizeof(path), "%s/layer", top);
	if (mkdir(path, 0755) < 0)
		abort();
	layer = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/empty", top);
	if (mkdir(path, 0755) < 0)
		abort();
	empty = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (layer < 0 || empty < 0 || mkdirat(layer, "d", 0755) < 0 || symlinkat("/etc/passwd", layer, "s") < 0 ||
	    mkfifoat(layer, "p", 0644) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/layer/a", top);
	write_file(path, "hello");
	snprintf(path, sizeof(path), "%s/layer/d/b", top);
	write_file(path, "0123456789");
	return 0;
}

static int memfd_with(const void *data, size_t size)
{
	int fd = memfd_create("in", MFD_CLOEXEC);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* Replays the record on @fd against @root; what it gave in *@out (when
 * not NULL, at most @cap bytes kept).  Return: the replay's result. */
static ssize_t replay(int fd, int root, char *out, size_t cap, size_t *got)
{
	struct tarsplit_replay *r = NULL;
	struct ubx_err e = { 0 };
	char buf[4096];
	ssize_t n = tarsplit_replay_new(fd, root, false, NULL, "fuzz", &r, &e);
	*got = 0;
	while (n == 0 && (n = tarsplit_read(r, buf, 1 + (*got % sizeof(buf)), &e)) > 0) {
		if (out && *got + (size_t)n <= cap)
			memcpy(out + *got, buf, (size_t)n);
		*got += (size_t)n;
		n = *got > (1u << 26) ? -E2BIG : 0;
	}
	tarsplit_replay_free(r);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tarsplit_builder *b = NULL;
	struct ubx_err e = { 0 };
	uint64_t total = 0, refs = 0;
	size_t got;

	/* the input as a record: references can only name this layer's files */
	int fd = memfd_with(data, size);
	if (replay(fd, layer, NULL, 0, &got) == -E2BIG)
		__builtin_trap(); /* files here are 15 bytes, raw segments come from the input */
	close(fd);

	/* the input as a tar */
	int rec = memfd_with(NULL, 0);
	if (tarsplit_builder_new(rec, &b, &e) < 0)
		abort();
	for (size_t at = 0, step = 1; at < size; at += step, step = step * 3 % 1031 + 1)
		if (tarsplit_feed(b, data + at, size - at < step ? size - at : step) < 0)
			abort();
	if (tarsplit_finish(b, &total, &refs, &e) < 0 || total != size)
		__builtin_trap();
	tarsplit_builder_free(b);
	char *back = malloc(size + 1);
	if (!back || lseek(rec, 0, SEEK_SET) != 0)
		abort();
	ssize_t r = replay(rec, empty, back, size, &got);
	if (!refs && (r != 0 || got != size || memcmp(back, data, size) != 0))
		__builtin_trap(); /* verbatim only: the same bytes */
	if (refs && r == 0)
		__builtin_trap(); /* a reference into an empty layer cannot hold */
	free(back);
	close(rec);
	return 0;
}
