/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: tar entry names.  The input's first line goes to
 * layer_clean_path(), whose result must be relative, clean, within limits
 * and unchanged by a second cleaning.  Then the whole input becomes a small
 * tar -- one entry a line, "K NAME\tTARGET", K picking the kind (file, dir,
 * symlink, hard link, FIFO, whiteout device, a real device, an owner no map
 * has), names and targets as they are, in PAX headers when long or holding a
 * NUL -- extracted by layer_extract() into a fresh directory beside a
 * sentinel.  Nothing beside it may change.
 *
 * First the fuzzer moves into a user and mount namespace of its own where
 * every mount is read-only but a tmpfs it works in and libFuzzer's own
 * directories (the working directory, the corpus directories): a containment
 * bug then fails with EROFS (which the fuzzer reports as a crash) instead of
 * writing to the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../image/layer.h"

static char top[64];      /* the tmpfs */
static char parent[96];   /* top/parent: the sentinel and the layer */
static char layer[128];   /* top/parent/root */
static char before[4096]; /* what top holds beside the layer */

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

/* Bind @dir over itself, or make that bind writable again; by absolute
 * path, which (unlike ".") resolves to the mount on top. */
static int mount_rw(const char *dir, bool bind)
{
	struct mount_attr rw = { .attr_clr = MOUNT_ATTR_RDONLY };
	char abs[PATH_MAX];
	if (!realpath(dir, abs))
		return -1;
	if (bind)
		return mount(abs, abs, NULL, MS_BIND | MS_REC, NULL);
	return (int)syscall(SYS_mount_setattr, AT_FDCWD, abs, 0, &rw, sizeof(rw));
}

/* libFuzzer's directories stay writable: the working directory (artifacts)
 * and the corpus directories among the arguments. */
static int keep_writable(int argc, char **argv, bool bind)
{
	char cwd[PATH_MAX];
	struct stat st;
	if (!getcwd(cwd, sizeof(cwd)) || mount_rw(cwd, bind) < 0)
		return -1;
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-' && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) && mount_rw(argv[i], bind) < 0)
			return -1;
	return chdir(cwd) < 0 ? -1 : 0; /* into the mount on top */
}

/* A user and mount namespace: the caller as root, every mount read-only but
 * libFuzzer's, a writable tmpfs at @top.  Return: 0, or -1 (unprotected). */
static int sandbox(int argc, char **argv)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", uid);
	write_file("/proc/self/uid_map", map);
	write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", gid);
	write_file("/proc/self/gid_map", map);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || keep_writable(argc, argv, true) < 0 ||
	    syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)) < 0 ||
	    keep_writable(argc, argv, false) < 0 || mount("tmpfs", top, "tmpfs", 0, "size=64m,mode=0755") < 0)
		return -1;
	return 0;
}

static char *snap;
static size_t snap_len;

static int snap_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag, (void)ftw;
	if (strncmp(path, layer, strlen(layer)) == 0 && (!path[strlen(layer)] || path[strlen(layer)] == '/'))
		return 0;
	snap_len += (size_t)snprintf(snap + snap_len, snap_len < 4096 ? 4096 - snap_len : 0, "%s %o %u %lld %ld.%ld\n",
				     path, st->st_mode, st->st_uid, (long long)st->st_size, (long)st->st_mtim.tv_sec,
				     st->st_mtim.tv_nsec);
	return 0;
}

/* Everything in @top but the layer: names, modes, owners, sizes, mtimes. */
static void snapshot(char *out)
{
	snap = out;
	snap_len = 0;
	out[0] = '\0';
	if (nftw(top, snap_one, 16, FTW_PHYS) < 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(top, sizeof(top), "/tmp/fuzz-tarname-XXXXXX");
	if (!mkdtemp(top))
		abort();
	if (sandbox(*argc, *argv) < 0)
		fprintf(stderr, "fuzz_tarname: no read-only namespace here (%s): the host is not protected\n",
			strerror(errno));
	snprintf(parent, sizeof(parent), "%s/parent", top);
	snprintf(layer, sizeof(layer), "%s/root", parent);
	char path[160];
	if (mkdir(parent, 0755) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/sentinel", parent);
	write_file(path, "sentinel\n");
	snprintf(path, sizeof(path), "%s/beside", top);
	write_file(path, "beside\n");
	if (mkdir(layer, 0755) < 0)
		abort();
	snapshot(before);
	return 0;
}

/* --- layer_clean_path's promises ------------------------------------------ */

static void check_clean(const char *in)
{
	char out[LAYER_PATH_MAX + 1], again[LAYER_PATH_MAX + 1];
	int n = layer_clean_path(in, out, sizeof(out));

	if (n < 0) {
		if ((n != -EINVAL && n != -ENAMETOOLONG) || out[0])
			__builtin_trap();
		return;
	}
	if ((size_t)n != strlen(out) || out[0] == '/' || (n && out[n - 1] == '/') || strstr(out, "//"))
		__builtin_trap();
	for (const char *c = out; *c;) {
		size_t len = strcspn(c, "/");
		if (len > 255 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			__builtin_trap();
		c += len + (c[len] == '/');
	}
	if (*out && (layer_clean_path(out, again, sizeof(again)) != n || strcmp(out, again) != 0))
		__builtin_trap();
}

/* --- a tar from the input --------------------------------------------------- */

struct tar {
	char *buf;
	size_t len, cap;
};

static void put(struct tar *t, const void *p, size_t n)
{
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2 + 4096;
		t->buf = realloc(t->buf, t->cap);
		if (!t->buf)
			abort();
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

static void pad(struct tar *t)
{
	static const char zero[512];
	if (t->len % 512)
		put(t, zero, 512 - t->len % 512);
}

static void octal(char *field, size_t width, unsigned long long v)
{
	snprintf(field, width, "%0*llo", (int)width - 1, v);
}

/* One 512-byte ustar header. */
static void header(struct tar *t, const char *name, size_t name_len, char type, const char *target, size_t target_len,
		   size_t size, unsigned id, unsigned major, unsigned minor)
{
	char h[512] = { 0 };
	unsigned sum = 0;

	memcpy(h, name, name_len < 100 ? name_len : 99);
	octal(h + 100, 8, type == '5' ? 0755 : 0644);
	octal(h + 108, 8, id);
	octal(h + 116, 8, id);
	octal(h + 124, 12, size);
	octal(h + 136, 12, 1600000000);
	h[156] = type;
	memcpy(h + 157, target, target_len < 100 ? target_len : 99);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	octal(h + 329, 8, major);
	octal(h + 337, 8, minor);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	put(t, h, 512);
}

/* "LEN key=value\n", LEN counting itself. */
static void record(struct tar *t, const char *key, const char *v, size_t vlen)
{
	size_t body = strlen(key) + vlen + 3, len = body + 1;
	char num[24];
	while ((size_t)snprintf(num, sizeof(num), "%zu", len) + body != len)
		len = (size_t)snprintf(num, sizeof(num), "%zu", len) + body;
	put(t, num, strlen(num));
	put(t, " ", 1);
	put(t, key, strlen(key));
	put(t, "=", 1);
	put(t, v, vlen);
	put(t, "\n", 1);
}

static bool needs_pax(const char *s, size_t n)
{
	return n >= 100 || memchr(s, '\0', n);
}

/* One entry from one line of input: "K NAME\tTARGET". */
static void entry(struct tar *t, const char *line, size_t n)
{
	static const char types[] = { '0', '5', '2', '1', '6', '3', '3', '0' };
	if (n < 2)
		return;
	unsigned k = (unsigned char)line[0] % sizeof(types);
	const char *name = line + 1, *tab = memchr(name, '\t', n - 1);
	size_t name_len = tab ? (size_t)(tab - name) : n - 1;
	const char *target = tab ? tab + 1 : "";
	size_t target_len = tab ? n - 1 - name_len - 1 : 0;

	if (needs_pax(name, name_len) || needs_pax(target, target_len)) {
		struct tar x = { 0 };
		record(&x, "path", name, name_len);
		if (target_len)
			record(&x, "linkpath", target, target_len);
		header(t, "PaxHeader", 9, 'x', "", 0, x.len, 0, 0, 0);
		put(t, x.buf, x.len);
		pad(t);
		free(x.buf);
	}
	header(t, name, name_len, types[k], target, target_len, types[k] == '0' ? 1 : 0, k == 7 ? 12345 : 0,
	       k == 6 ? 1 : 0, k == 6 ? 3 : 0);
	if (types[k] == '0') {
		put(t, "x", 1);
		pad(t);
	}
}

/* Empties the layer (kept itself, so that its parent does not change). */
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (ftw->level == 0)
		return 0;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char zero[1024];
	struct tar t = { 0 };
	struct ubx_err e = { 0 };
	char name[LAYER_PATH_MAX + 2], after[sizeof(before)];
	size_t first = strnlen((const char *)data, size < sizeof(name) - 1 ? size : sizeof(name) - 1);

	memcpy(name, data, first);
	name[strcspn(name, "\n")] = '\0';
	check_clean(name);

	for (size_t at = 0; at < size;) {
		const char *line = (const char *)data + at;
		const char *nl = memchr(line, '\n', size - at);
		size_t n = nl ? (size_t)(nl - line) : size - at;
		entry(&t, line, n);
		at += n + 1;
	}
	put(&t, zero, sizeof(zero));

	int in = memfd_create("tar", MFD_CLOEXEC);
	if (in < 0 || write(in, t.buf, t.len) != (ssize_t)t.len || lseek(in, 0, SEEK_SET) != 0)
		abort();
	free(t.buf);
	int dir = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = layer_extract(in, dir, NULL, NULL, &e);
	close(dir);
	close(in);
	if (r == -EROFS) { /* something was written outside the tmpfs */
		fprintf(stderr, "fuzz_tarname: %s\n", e.msg);
		__builtin_trap();
	}
	snapshot(after);
	if (strcmp(before, after) != 0) {
		fprintf(stderr, "fuzz_tarname: beside the layer:\n%s\nbecame\n%s", before, after);
		__builtin_trap();
	}
	if (nftw(layer, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		abort();
	return 0;
}
