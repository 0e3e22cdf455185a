/* SPDX-License-Identifier: MIT */
/*
 * The layer engine: names cleaned, layers extracted (as root, and as root of
 * a user namespace mapped like a rootless user's: 0 -> one id, 1..65536 -> a
 * subordinate range), malicious tarballs contained, every compression,
 * whiteouts and opaque directories read back by a real overlayfs mount, and
 * upper directories written back as layers, deterministically.
 *
 * Tarballs are made by python3's tarfile, an independent writer.  The checks
 * that run in a child (a user namespace) report through a shared page.
 */
#include "unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../idmap/idmap.h"
#include "../../image/layer.h"

#define NS_ROOT_OUT 4242u     /* as root: the namespace's root outside */
#define NS_SUB_OUT 1600000u   /* as root: inside 1 outside */
#define SKIP 77

static char base[256];        /* this test's directory */
static char *msg;             /* shared with children: the first failed check */
static uid_t sub_out;         /* outside id of inside 1 (0: none) */

/* A path under base; eight rotate, so a few can be live at once. */
__attribute__((format(printf, 1, 2))) static const char *P(const char *fmt, ...)
{
	static char ring[8][768];
	static unsigned next;
	char rel[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	char *out = ring[next++ % 8];
	snprintf(out, sizeof(ring[0]), "%s/%s", base, rel);
	return out;
}

/* In the bodies (which may run in a child): record and return 1. */
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			int n_ = snprintf(msg, 4096, "%s:%d: ", __FILE__, __LINE__); \
			snprintf(msg + n_, 4096 - (size_t)n_, __VA_ARGS__);    \
			return 1;                                              \
		}                                                              \
	} while (0)

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(base, sizeof(base), "%s/usbox-layer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(base));
	ck_assert_int_eq(chmod(base, 0755), 0);
	msg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(msg, MAP_FAILED);
	msg[0] = '\0';
}

/* --- tarballs, by python3's tarfile --------------------------------------- */

static const char tar_prelude[] =
	"import io, sys, tarfile\n"
	"t = None\n"
	"def new(path):  # the tarball the next add()s go to\n"
	"    global t\n"
	"    if t: t.close()\n"
	"    t = tarfile.open(path, 'w', format=tarfile.PAX_FORMAT, encoding='utf-8', errors='surrogateescape')\n"
	"K = {'f': tarfile.REGTYPE, 'd': tarfile.DIRTYPE, 'l': tarfile.SYMTYPE, 'h': tarfile.LNKTYPE,\n"
	"     'p': tarfile.FIFOTYPE, 'c': tarfile.CHRTYPE, 'b': tarfile.BLKTYPE}\n"
	"def add(name, kind='f', data=b'', mode=0o644, uid=0, gid=0, link='', xattrs=None, mtime=1600000000,\n"
	"        dev=(0, 0), pax=None):\n"
	"    ti = tarfile.TarInfo(name)\n"
	"    ti.type = K[kind]; ti.mode = mode; ti.uid = uid; ti.gid = gid; ti.mtime = mtime\n"
	"    ti.linkname = link; ti.devmajor, ti.devminor = dev\n"
	"    ti.size = len(data) if kind == 'f' else 0\n"
	"    h = {}\n"
	"    for k, v in (xattrs or {}).items():\n"
	"        h['SCHILY.xattr.' + k] = v.decode('utf-8', 'surrogateescape') if isinstance(v, bytes) else v\n"
	"    h.update(pax or {})\n"
	"    ti.pax_headers = h\n"
	"    t.addfile(ti, io.BytesIO(data) if ti.size else None)\n"
	"CAP = bytes([1, 0, 0, 2, 0, 4, 0, 0] + [0] * 12)  # v2, effective, cap_net_bind_service\n";

/* Writes tarballs from python lines @body: new(PATH), then add()s (python
 * starts slowly here: one run writes all of a test's). */
static int make_tars(const char *body)
{
	FILE *f = popen("python3 -", "w");
	if (!f)
		return -1;
	fputs(tar_prelude, f);
	fputs(body, f);
	fputs("\nif t: t.close()\n", f);
	return pclose(f) == 0 ? 0 : -1;
}

/* The tarball @out from the add()s in @body. */
static int make_tar(const char *out, const char *body)
{
	char *all;
	int r = asprintf(&all, "new('%s')\n%s", out, body) < 0 ? -1 : make_tars(all);
	if (r == 0)
		free(all);
	return r;
}

/* Runs a shell command; 0 when it exited 0. */
__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf @path, without a shell. */
static void rm_tree(const char *path)
{
	ck_assert_msg(nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) == 0 || errno == ENOENT, "remove %s: %s", path,
		      strerror(errno));
}

/* A directory the namespace's root owns (as root: NS_ROOT_OUT). */
static void ns_dir(const char *path)
{
	ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
	if (geteuid() == 0)
		ck_assert_int_eq(chown(path, NS_ROOT_OUT, NS_ROOT_OUT), 0);
}

/* --- running a body in a user namespace ----------------------------------- */

typedef int body_fn(void *arg);

/* The caller's map when not root: 0 -> the caller, 1.. -> its subuid range. */
static int helper_maps(pid_t pid)
{
	struct idmap_range r[IDMAP_MAX_RANGES];
	struct ubx_err e = { 0 };
	_cleanup_fclose_ FILE *f = fopen("/etc/subuid", "r");
	_cleanup_fclose_ FILE *g = fopen("/etc/subgid", "r");
	size_t n = f ? idmap_subid_parse(f, getenv("USER"), getuid(), r) : 0;
	struct idmap gm, um = { .ext = { { 0, getuid(), 1 }, { 1, n ? r[0].start : 0, 65536 } }, .n = 2 };

	if (!n || r[0].count < 65536)
		return SKIP;
	sub_out = r[0].start;
	n = g ? idmap_subid_parse(g, getenv("USER"), getuid(), r) : 0;
	if (!n || r[0].count < 65536 || r[0].start != sub_out)
		return SKIP; /* the on-disk checks assume the same range for both */
	gm = (struct idmap){ .ext = { { 0, getgid(), 1 }, { 1, r[0].start, 65536 } }, .n = 2 };
	if (idmap_run_helper("newuidmap", pid, &um, &e) < 0 || idmap_run_helper("newgidmap", pid, &gm, &e) < 0) {
		fprintf(stderr, "test_layer: %s\n", e.msg);
		return SKIP;
	}
	return 0;
}

static int write_maps(pid_t pid)
{
	struct ubx_err e = { 0 };
	struct idmap m = { .ext = { { 0, NS_ROOT_OUT, 1 }, { 1, NS_SUB_OUT, 65536 } }, .n = 2 };

	if (geteuid() != 0)
		return helper_maps(pid);
	sub_out = NS_SUB_OUT;
	if (idmap_write_direct(pid, "uid", &m, false, &e) < 0 || idmap_write_direct(pid, "gid", &m, false, &e) < 0) {
		fprintf(stderr, "test_layer: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* The child: become the namespace's root and run @fn. */
static _Noreturn void ns_child(int ready, int go, body_fn *fn, void *arg, bool mnt)
{
	char c;
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(NS_ROOT_OUT, NS_ROOT_OUT, NS_ROOT_OUT) < 0 ||
			       setresuid(NS_ROOT_OUT, NS_ROOT_OUT, NS_ROOT_OUT) < 0))
		_exit(3);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL); /* after the id change, which clears it */
	if (unshare(CLONE_NEWUSER | (mnt ? CLONE_NEWNS : 0)) < 0)
		_exit(SKIP);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1 || c != 'g')
		_exit(SKIP);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		_exit(3);
	if (mnt && mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(3);
	_exit(fn(arg));
}

/* Runs @fn in a child in a new user namespace (and mount namespace with
 * @mnt), mapped like a rootless user's.  Return: @fn's result, SKIP when no
 * such namespace can be made here. */
static int in_userns(body_fn *fn, void *arg, bool mnt)
{
	int ready[2], go[2], status;
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		ns_child(ready[1], go[0], fn, arg, mnt);
	}
	close(ready[1]);
	close(go[0]);
	int r = read(ready[0], &c, 1) == 1 ? write_maps(pid) : SKIP;
	if (r == 0)
		ck_assert_int_eq(write(go[1], "g", 1), 1);
	close(go[1]);
	close(ready[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (r)
		return r;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs @fn in a user namespace and fails the test with the child's message;
 * a host that cannot make one is said and passed. */
static void run_ns(const char *what, body_fn *fn, void *arg, bool mnt)
{
	int r = in_userns(fn, arg, mnt);
	if (r == SKIP) {
		fprintf(stderr, "test_layer: %s: skipped, no user namespace with a subordinate range here\n", what);
		return;
	}
	ck_assert_msg(r == 0, "%s (in a user namespace): %s (status %d)", what, msg, r);
}

/* Skips the rest of a test that extracts where openat2() is missing:
 * valgrind 3.19 does not know it (make valgrind); make check-asan covers. */
#define NEEDS_OPENAT2()                                                                              \
	do {                                                                                         \
		struct open_how h_ = { .flags = O_PATH, .resolve = RESOLVE_IN_ROOT };                  \
		int fd_ = (int)syscall(SYS_openat2, AT_FDCWD, ".", &h_, sizeof(h_));                  \
		if (fd_ < 0 && errno == ENOSYS) {                                                    \
			fprintf(stderr, "test_layer: %s: skipped, no openat2 here (valgrind?)\n", __func__); \
			return;                                                                      \
		}                                                                                    \
		if (fd_ >= 0)                                                                        \
			close(fd_);                                                                  \
	} while (0)

/* Skips the rest of a test that needs root of the host, saying so. */
#define ROOT_ONLY(what)                                                                      \
	do {                                                                                 \
		if (geteuid() != 0) {                                                        \
			fprintf(stderr, "test_layer: %s: skipped as root of the host (not root)\n", what); \
			return;                                                              \
		}                                                                            \
	} while (0)

/* Runs @fn as root of the host (a fork, like run_ns); skipped when not root. */
static void run_host(const char *what, body_fn *fn, void *arg)
{
	ROOT_ONLY(what);
	pid_t pid = fork();
	int status;
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(arg));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s (as root): %s", what, msg);
}

static int rm_body(void *arg)
{
	(void)arg;
	return nftw(base, rm_one, 32, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : 1;
}

/* Removes the test's directory; as a user, files of subordinate ids go from
 * inside a namespace that maps them (as `podman unshare rm` would). */
static void teardown(void)
{
	if (geteuid() != 0 && access(base, F_OK) == 0)
		(void)in_userns(rm_body, NULL, false);
	if (access(base, F_OK) == 0)
		rm_tree(base);
	munmap(msg, 4096);
}

/* --- extracting and looking ----------------------------------------------- */

static int extract(const char *tar, const char *dest, const struct layer_opts *o, struct layer_stats *st,
		   struct ubx_err *e)
{
	_cleanup_close_ int in = open(tar, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int d = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (in < 0 || d < 0)
		return ubx_fail(e, errno, "open %s or %s", tar, dest);
	return layer_extract(in, d, o, st, e);
}

/* Extracts and records the error: a CHECK that it worked. */
#define EXTRACT_OK(tar, dest, o, st)                                                     \
	do {                                                                             \
		struct ubx_err e_ = { 0 };                                               \
		CHECK(extract(tar, dest, o, st, &e_) == 0, "extract %s: %s", tar, e_.msg); \
	} while (0)

static uint64_t fnv(const char *path)
{
	uint64_t h = 1469598103934665603ULL;
	char buf[8192];
	ssize_t n;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ (uint8_t)buf[i]) * 1099511628211ULL;
	return h;
}

static char **lines;
static size_t nlines, caplines, skip_len;
static const char *skip_prefix; /* a name below the top not to describe */
static size_t top_len;
static bool with_top;           /* describe the directory itself too */

static void add_line(char *s)
{
	if (nlines == caplines) {
		caplines = caplines ? 2 * caplines : 64;
		lines = realloc(lines, caplines * sizeof(*lines));
	}
	lines[nlines++] = s;
}

static void xattr_text(const char *path, char *out, size_t len)
{
	char list[4096], val[512], *names[64];
	ssize_t n = llistxattr(path, list, sizeof(list));
	size_t k = 0, o = 0;

	out[0] = '\0';
	for (char *p = list; n > 0 && p < list + n && k < 64; p += strlen(p) + 1)
		names[k++] = p;
	for (size_t i = 1; i < k; i++) /* sorted: the file system's order differs */
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (size_t i = 0; i < k; i++) {
		ssize_t v = lgetxattr(path, names[i], val, sizeof(val));
		o += (size_t)snprintf(out + o, o < len ? len - o : 0, " %s=", names[i]);
		for (ssize_t j = 0; j < v && o + 3 < len; j++)
			o += (size_t)snprintf(out + o, len - o, "%02x", (uint8_t)val[j]);
	}
}

static int describe_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + top_len + (path[top_len] == '/');
	char target[512] = "", xattrs[2048], *line;
	(void)flag, (void)ftw;

	if (!*rel && !with_top)
		return 0;
	if (skip_prefix && strncmp(rel, skip_prefix, skip_len) == 0 && (!rel[skip_len] || rel[skip_len] == '/'))
		return 0;
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
	}
	xattr_text(path, xattrs, sizeof(xattrs));
	if (asprintf(&line, "%s %o %u:%u size=%lld mtime=%lld links=%lu rdev=%u:%u ->%s%s data=%llx", *rel ? rel : ".",
		     st->st_mode, st->st_uid, st->st_gid, S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size,
		     (long long)st->st_mtim.tv_sec, S_ISDIR(st->st_mode) ? 0UL : (unsigned long)st->st_nlink,
		     major(st->st_rdev), minor(st->st_rdev), target, xattrs,
		     S_ISREG(st->st_mode) ? (unsigned long long)fnv(path) : 0ULL) > 0)
		add_line(line);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name below @dir (without @skip; @dir itself too when @skip is
 * given), one sorted line each: type and mode, owner, size, mtime, links,
 * device, target, xattrs, a hash of the data.  The caller frees the text. */
static char *describe(const char *dir, const char *skip)
{
	size_t len = 1;
	nlines = 0;
	with_top = skip != NULL;
	top_len = strlen(dir);
	skip_prefix = skip;
	skip_len = skip ? strlen(skip) : 0;
	if (nftw(dir, describe_one, 64, FTW_PHYS) < 0)
		return strdup("(nftw failed)");
	qsort(lines, nlines, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < nlines; i++)
		len += strlen(lines[i]) + 1;
	char *out = calloc(1, len);
	for (size_t i = 0; i < nlines; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
		free(lines[i]);
	}
	return out;
}

/* The first line where @a and @b differ, for a message. */
static const char *first_diff(const char *a, const char *b)
{
	static char out[1024];
	size_t i = 0;
	while (a[i] && a[i] == b[i])
		i++;
	while (i > 0 && a[i - 1] != '\n')
		i--;
	snprintf(out, sizeof(out), "\n  %.300s\n  vs\n  %.300s", a + i, b + i);
	return out;
}

/* --- layer_clean_path ----------------------------------------------------- */

START_TEST(clean_path_rules)
{
	static const char *const cases[][2] = {
		{ "a/b/c", "a/b/c" },    { "./a/b/", "a/b" },    { "/abs/x", "abs/x" },   { "../../x", "x" },
		{ "a/../../b", "b" },    { "a//b///c", "a/b/c" }, { ".", "" },             { "./", "" },
		{ "/", "" },             { "..", "" },            { "a/..", "" },          { "a/./b/./", "a/b" },
		{ "a/b/../../../c/d", "c/d" }, { "...", "..." }, { "..a/b..", "..a/b.." }, { ".wh..wh..opq", ".wh..wh..opq" },
		{ "a/b/..", "a" },       { "//..//../a", "a" },
	};
	char out[LAYER_PATH_MAX + 1];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = layer_clean_path(cases[i][0], out, sizeof(out));
		ck_assert_msg(r == (int)strlen(cases[i][1]) && strcmp(out, cases[i][1]) == 0, "'%s' -> '%s' (%d)",
			      cases[i][0], out, r);
	}
	ck_assert_int_eq(layer_clean_path("", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(layer_clean_path(NULL, out, sizeof(out)), -EINVAL);
	char small[4];
	ck_assert_int_eq(layer_clean_path("abc", small, sizeof(small)), 3);
	ck_assert_int_eq(layer_clean_path("abcd", small, sizeof(small)), -ENAMETOOLONG);
	ck_assert_str_eq(small, "");
	char name[300];
	memset(name, 'x', 299);
	name[299] = '\0';
	ck_assert_int_eq(layer_clean_path(name, out, sizeof(out)), -ENAMETOOLONG); /* a component > 255 */
	name[150] = '/';
	ck_assert_int_eq(layer_clean_path(name, out, sizeof(out)), 299);
	char *huge = malloc(10000);
	for (int i = 0; i < 9998; i += 2)
		memcpy(huge + i, "a/", 2);
	huge[9998] = 'b';
	huge[9999] = '\0';
	ck_assert_int_eq(layer_clean_path(huge, out, sizeof(out)), -ENAMETOOLONG);
	free(huge);
}
END_TEST

/* --- the basic layer: owners, modes, xattrs, links, devices -------------- */

static const char basic_tar[] =
	"add('./', 'd', mode=0o755)\n"
	"add('bin/', 'd', mode=0o755)\n"
	"add('bin/ping', data=b'ELF', mode=0o4755, uid=1000, gid=1000, xattrs={'security.capability': CAP})\n"
	"add('bin/sg', data=b'sg', mode=0o2711, uid=0, gid=1000)\n"
	"add('home/', 'd', mode=0o700, uid=1000, gid=1000, mtime=1500000000)\n"
	"add('home/f', data=b'hello', mode=0o640, uid=1000, gid=1000, mtime=1400000000,\n"
	"    xattrs={'user.comment': 'kept'})\n"
	"add('tmp/', 'd', mode=0o1777)\n"
	"add('home/link', 'h', link='home/f')\n"
	"add('home/sym', 'l', link='../bin/ping', uid=1000, gid=1000, mtime=1300000000)\n"
	"add('fifo', 'p', mode=0o600, uid=1000, gid=1000)\n"
	"add('dev/', 'd')\n"
	"add('dev/null', 'c', dev=(1, 3), mode=0o666)\n"
	"add('dev/sda', 'b', dev=(8, 0), mode=0o660)\n"
	"add('deep/er/still/file', data=b'implicit parents')\n"
	"add('trusted', data=b't', xattrs={'trusted.note': 'x', 'user.overlay.redirect': '/evil'})\n";

struct basic {
	bool userns;
};

static int check_basic(void *arg)
{
	const struct basic *b = arg;
	struct layer_stats st;
	struct stat s;
	char v[64];
	const char *root = P("root");
	const uid_t u1000 = 1000; /* inside: the tar's ids as they are */

	EXTRACT_OK(P("basic.tar"), root, NULL, &st);
	CHECK(st.entries == 15, "entries %llu", (unsigned long long)st.entries);
	CHECK(st.skipped_devices == 2 && strcmp(st.first_device, "dev/null") == 0, "devices %llu '%s'",
	      (unsigned long long)st.skipped_devices, st.first_device);
	CHECK(st.hardlinks == 1, "hardlinks %llu", (unsigned long long)st.hardlinks);
	CHECK(lstat(P("root/bin/ping"), &s) == 0 && s.st_uid == u1000 && s.st_gid == 1000, "ping owner %u",
	      s.st_uid);
	CHECK((s.st_mode & 07777) == 04755, "ping mode %o", s.st_mode);
	CHECK(getxattr(P("root/bin/ping"), "security.capability", v, sizeof(v)) == 20 && v[0] == 1 && v[3] == 2 &&
		      v[5] == 4,
	      "security.capability: %s", strerror(errno));
	CHECK(lstat(P("root/bin/sg"), &s) == 0 && (s.st_mode & 07777) == 02711 && s.st_gid == 1000, "sg %o",
	      s.st_mode);
	CHECK(lstat(P("root/home"), &s) == 0 && (s.st_mode & 07777) == 0700 && s.st_mtim.tv_sec == 1500000000,
	      "home %o %ld", s.st_mode, (long)s.st_mtim.tv_sec);
	CHECK(lstat(P("root/home/f"), &s) == 0 && s.st_nlink == 2 && s.st_mtim.tv_sec == 1400000000 &&
		      (s.st_mode & 07777) == 0640,
	      "f links %lu", (unsigned long)s.st_nlink);
	CHECK(getxattr(P("root/home/f"), "user.comment", v, sizeof(v)) == 4, "user.comment");
	CHECK(lstat(P("root/home/sym"), &s) == 0 && S_ISLNK(s.st_mode) && s.st_uid == u1000 &&
		      s.st_mtim.tv_sec == 1300000000,
	      "symlink");
	CHECK(lstat(P("root/tmp"), &s) == 0 && (s.st_mode & 07777) == 01777, "tmp %o", s.st_mode);
	CHECK(lstat(P("root/fifo"), &s) == 0 && S_ISFIFO(s.st_mode) && (s.st_mode & 0777) == 0600, "fifo");
	CHECK(lstat(P("root/dev/null"), &s) < 0 && errno == ENOENT, "a device was made");
	CHECK(lstat(P("root/deep/er/still/file"), &s) == 0, "implicit parents");
	CHECK(getxattr(P("root/trusted"), "user.overlay.redirect", v, sizeof(v)) < 0, "an overlay xattr from the tar");
	/* trusted.* needs CAP_SYS_ADMIN of the host: refused (and counted) in a namespace */
	bool trusted = getxattr(P("root/trusted"), "trusted.note", v, sizeof(v)) == 1;
	CHECK(trusted == !b->userns, "trusted.note set: %d", trusted);
	CHECK(st.skipped_xattrs == (b->userns ? 2u : 1u), "skipped xattrs %llu", (unsigned long long)st.skipped_xattrs);
	return 0;
}

START_TEST(basic_layer_as_root)
{
	NEEDS_OPENAT2();
	struct basic b = { false };
	ck_assert_int_eq(make_tar(P("basic.tar"), basic_tar), 0);
	ck_assert_int_eq(mkdir(P("root"), 0755), 0);
	run_host("basic layer", check_basic, &b);
}
END_TEST

START_TEST(basic_layer_in_userns)
{
	NEEDS_OPENAT2();
	struct basic b = { true };
	struct stat s;
	ck_assert_int_eq(make_tar(P("basic.tar"), basic_tar), 0);
	ns_dir(P("root"));
	int r = in_userns(check_basic, &b, false);
	if (r == SKIP)
		return;
	ck_assert_msg(r == 0, "%s", msg);
	/* on disk: 1000 inside is the subordinate id 999 above inside 1 */
	ck_assert_int_eq(lstat(P("root/bin/ping"), &s), 0);
	ck_assert_uint_eq(s.st_uid, sub_out + 999);
	ck_assert_uint_eq(s.st_gid, sub_out + 999);
	ck_assert_uint_eq(s.st_mode & 07777, 04755);
	ck_assert_int_eq(lstat(P("root/tmp"), &s), 0);
	ck_assert_uint_eq(s.st_uid, geteuid() == 0 ? NS_ROOT_OUT : getuid());
}
END_TEST

static int check_unmapped(void *arg)
{
	struct ubx_err e = { 0 };
	struct layer_stats st;
	struct layer_opts o = { .ignore_chown_errors = true };
	(void)arg;
	CHECK(extract(P("unmapped.tar"), P("root"), NULL, NULL, &e) == -EINVAL, "unmapped owner accepted");
	CHECK(strstr(e.msg, "layer: entry 'srv/data'") && strstr(e.msg, "70000:70000") && strstr(e.msg, "not mapped"),
	      "message: %s", e.msg);
	CHECK(extract(P("unmapped.tar"), P("root2"), &o, &st, &e) == 0, "ignore_chown_errors: %s", e.msg);
	CHECK(st.squashed_owners == 1, "squashed %llu", (unsigned long long)st.squashed_owners);
	return 0;
}

START_TEST(unmapped_owner_named)
{
	NEEDS_OPENAT2();
	ck_assert_int_eq(make_tar(P("unmapped.tar"), "add('srv/data', data=b'x', uid=70000, gid=70000)\n"), 0);
	ns_dir(P("root"));
	ns_dir(P("root2"));
	run_ns("an owner outside the map", check_unmapped, NULL, false);
}
END_TEST

/* --- whiteouts, opaque directories, replacing ---------------------------- */

static int check_whiteouts(void *arg)
{
	struct layer_stats st;
	struct layer_opts o = { .trusted_xattrs = arg != NULL };
	struct stat s;
	char v[4];

	EXTRACT_OK(P("wh.tar"), P("root"), &o, &st);
	CHECK(lstat(P("root/etc/.wh.gone"), &s) < 0, ".wh. file made");
	CHECK(lstat(P("root/etc/gone"), &s) == 0 && S_ISCHR(s.st_mode) && s.st_rdev == 0, "whiteout: mode %o",
	      s.st_mode);
	CHECK(lstat(P("root/top"), &s) == 0 && S_ISCHR(s.st_mode) && s.st_rdev == 0, "top-level whiteout");
	CHECK(lstat(P("root/var/cache/.wh..wh..opq"), &s) < 0, "opaque marker made");
	CHECK(getxattr(P("root/var/cache"), "user.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y', "opaque xattr");
	CHECK(lstat(P("root/var/cache/kept"), &s) == 0, "this layer's own file in an opaque dir");
	CHECK(lstat(P("root/.wh..wh.plnk"), &s) < 0, "aufs metadata made");
	CHECK(st.whiteouts == 2 && st.opaque_dirs == 1, "whiteouts %llu opaque %llu",
	      (unsigned long long)st.whiteouts, (unsigned long long)st.opaque_dirs);
	if (o.trusted_xattrs)
		CHECK(getxattr(P("root/var/cache"), "trusted.overlay.opaque", v, sizeof(v)) == 1, "trusted opaque");
	return 0;
}

static const char wh_tar[] = "add('etc/', 'd')\n"
			     "add('etc/.wh.gone')\n"
			     "add('.wh.top')\n"
			     "add('var/cache/', 'd')\n"
			     "add('var/cache/.wh..wh..opq')\n"
			     "add('var/cache/kept', data=b'k')\n"
			     "add('.wh..wh.plnk/', 'd')\n";

START_TEST(whiteouts_and_opaque)
{
	NEEDS_OPENAT2();
	ck_assert_int_eq(make_tar(P("wh.tar"), wh_tar), 0);
	ns_dir(P("root"));
	/* mknod of 0:0 without CAP_MKNOD of the host: Linux 5.8 and later */
	run_ns("whiteouts", check_whiteouts, NULL, false);
	if (geteuid() == 0) {
		ck_assert_int_eq(sh("rm -rf %s && mkdir %s", P("root"), P("root")), 0);
		run_host("whiteouts, trusted xattrs", check_whiteouts, (void *)1);
	}
}
END_TEST

static int check_replace(void *arg)
{
	struct stat s;
	(void)arg;
	EXTRACT_OK(P("replace.tar"), P("root"), NULL, NULL);
	CHECK(lstat(P("root/a"), &s) == 0 && S_ISDIR(s.st_mode), "file then dir");
	CHECK(lstat(P("root/d/x"), &s) == 0, "dir over dir lost its contents");
	CHECK(lstat(P("root/d"), &s) == 0 && (s.st_mode & 0777) == 0750 && s.st_mtim.tv_sec == 1700000000,
	      "the later dir's mode and mtime: %o", s.st_mode);
	CHECK(lstat(P("root/s"), &s) == 0 && S_ISREG(s.st_mode), "symlink then file");
	CHECK(lstat(P("root/f"), &s) == 0 && s.st_nlink == 1 && s.st_size == 2, "f: links %lu size %lld",
	      (unsigned long)s.st_nlink, (long long)s.st_size);
	CHECK(lstat(P("root/g"), &s) == 0 && s.st_size == 3, "g replaced");
	CHECK(lstat(P("root/r"), &s) == 0 && S_ISREG(s.st_mode), "dir then file");
	CHECK(lstat(P("root/w"), &s) == 0 && S_ISCHR(s.st_mode), "file then its whiteout");
	CHECK(lstat(P("root/sd/in"), &s) == 0 && lstat(P("root/sd"), &s) == 0 && S_ISDIR(s.st_mode),
	      "symlinked dir replaced by a dir: the next entry goes into the new one");
	CHECK(lstat(P("root/real/in"), &s) < 0, "an entry went through the replaced symlink");
	return 0;
}

START_TEST(later_entries_replace)
{
	NEEDS_OPENAT2();
	ck_assert_int_eq(make_tar(P("replace.tar"), "add('a', data=b'file')\n"
						    "add('a/', 'd')\n"
						    "add('d/', 'd', mode=0o700)\n"
						    "add('d/x')\n"
						    "add('d/', 'd', mode=0o750, mtime=1700000000)\n"
						    "add('s', 'l', link='/etc/passwd')\n"
						    "add('s', data=b'plain')\n"
						    "add('f', data=b'ff')\n"
						    "add('g', 'h', link='f')\n"
						    "add('g', data=b'ggg')\n"
						    "add('r/', 'd')\n"
						    "add('r/deep/er', data=b'1')\n"
						    "add('r', data=b'now a file')\n"
						    "add('w', data=b'1')\n"
						    "add('.wh.w')\n"
						    "add('real/', 'd')\n"
						    "add('sd', 'l', link='real')\n"
						    "add('sd/', 'd')\n"
						    "add('sd/in')\n"),
			 0);
	ns_dir(P("root"));
	run_ns("replacing", check_replace, NULL, false);
	if (geteuid() == 0) {
		ck_assert_int_eq(sh("rm -rf %s && mkdir %s", P("root"), P("root")), 0);
		run_host("replacing", check_replace, NULL);
	}
}
END_TEST

/* --- containment ----------------------------------------------------------- */

/* One malicious tarball: its python lines, whether extraction may succeed,
 * and a name that must then exist inside the layer (or NULL). */
struct evil {
	const char *what;
	const char *py;
	int want; /* 0 or the negative errno expected */
	const char *inside;
};

static struct evil evils[] = {
	{ "dot-dot", "add('../../x', data=b'x')\nadd('a/../../../y', data=b'y')\n", 0, "y" },
	{ "absolute", "add('/abs/x', data=b'x')\n", 0, "abs/x" },
	{ "parent as an entry", "add('..', 'd', mode=0o777)\nadd('../', 'd', mode=0o700)\n", 0, NULL },
	{ "hard link to a host file", "add('evil', 'h', link='/etc/passwd')\n", -ENOENT, NULL },
	{ "hard link up", "add('evil', 'h', link='../../host')\n", -ENOENT, NULL },
	{ "hard link to the sentinel by its host path", "add('evil', 'h', link='@PARENT@/sentinel')\n", -ENOENT, NULL },
	{ "symlink to / then a file through it", "add('etc', 'l', link='/')\nadd('etc/passwd', data=b'root::0')\n", 0,
	  "passwd" },
	{ "symlink up then a file through it",
	  "add('up', 'l', link='../../../../..')\nadd('up/escaped', data=b'e')\nadd('up/tmp/x', data=b'e')\n", 0,
	  "escaped" },
	{ "symlink to the parent then the sentinel through it",
	  "add('p', 'l', link='@PARENT@')\nadd('p/sentinel', data=b'overwritten')\n", -ENOENT, NULL },
	{ "symlink to the parent, a whiteout and an opaque marker through it",
	  "add('p', 'l', link='@PARENT@')\nadd('p/.wh.sentinel')\nadd('p/.wh..wh..opq')\n", -ENOENT, NULL },
	{ "symlink then a file of its name", "add('s', 'l', link='@PARENT@/sentinel')\nadd('s', data=b'over')\n", 0,
	  "s" },
	{ "hard link to an outward symlink then a file of its name",
	  "add('s', 'l', link='@PARENT@/sentinel')\nadd('h', 'h', link='s')\nadd('h', data=b'over')\n", 0, "h" },
	{ "symlink loop", "add('a', 'l', link='b')\nadd('b', 'l', link='a')\nadd('a/x', data=b'x')\n", -ELOOP, NULL },
	{ "dir symlink chain out", "add('a', 'l', link='b/../../..')\nadd('b/', 'd')\nadd('a/x', data=b'x')\n", 0, "x" },
	{ "NUL in a PAX name", "add('n', data=b'n', pax={'path': 'nul\\x00../../../x'})\n", 0, NULL },
	{ "300-byte name", "add('d' * 100 + '/' + 'e' * 100 + '/' + 'f' * 98, data=b'long')\n", 0, NULL },
	{ "300-byte component", "add('x' * 300, data=b'long')\n", -ENAMETOOLONG, NULL },
	{ "empty PAX name", "add('n', data=b'n', pax={'path': ''})\n", 0, NULL },
	{ "magic link", "add('m', 'l', link='/proc/self/root')\nadd('m/etc/x', data=b'x')\n", -ENOENT, NULL },
};

/* Names the tarballs above would make on the host if they got out. */
static const char *const host_paths[] = { "/passwd", "/escaped", "/x", "/y", "/abs", "/evil", "/tmp/x", "/etc/x" };

static int check_evil(void *arg)
{
	const struct evil *ev = arg;
	struct ubx_err e = { 0 };
	struct stat before, after;
	bool there[sizeof(host_paths) / sizeof(host_paths[0])];
	char *was = describe(base, "parent/root");

	CHECK(stat("/etc/passwd", &before) == 0, "stat /etc/passwd");
	for (size_t i = 0; i < sizeof(there) / sizeof(there[0]); i++)
		there[i] = access(host_paths[i], F_OK) == 0;
	int r = extract(P("evil.tar"), P("parent/root"), NULL, NULL, &e);
	char *now = describe(base, "parent/root");
	CHECK(strcmp(was, now) == 0, "%s: something beside the layer changed:%s", ev->what, first_diff(was, now));
	CHECK(stat("/etc/passwd", &after) == 0 && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec &&
		      after.st_size == before.st_size,
	      "%s: /etc/passwd changed", ev->what);
	for (size_t i = 0; i < sizeof(there) / sizeof(there[0]); i++)
		CHECK(there[i] || access(host_paths[i], F_OK) < 0, "%s: made %s on the host", ev->what, host_paths[i]);
	CHECK(r == ev->want, "%s: got %d (%s), want %d", ev->what, r, e.msg, ev->want);
	CHECK(r == 0 || strncmp(e.msg, "layer: entry '", 14) == 0, "%s: message '%s'", ev->what, e.msg);
	if (ev->inside) {
		struct stat s;
		CHECK(lstat(P("parent/root/%s", ev->inside), &s) == 0 && !S_ISLNK(s.st_mode), "%s: %s not inside",
		      ev->what, ev->inside);
	}
	free(was);
	free(now);
	return 0;
}

/* Every malicious tarball (evil-N.tar, one python run), with @PARENT@ the
 * host path of the sentinel's directory. */
static void make_evils(void)
{
	static char py[16384];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(evils) / sizeof(evils[0]); i++) {
		n += (size_t)snprintf(py + n, sizeof(py) - n, "new('%s')\n", P("evil-%zu.tar", i));
		for (const char *p = evils[i].py; *p && n + 400 < sizeof(py);)
			if (strncmp(p, "@PARENT@", 8) == 0)
				n += (size_t)snprintf(py + n, sizeof(py) - n, "%s", P("parent")), p += 8;
			else
				py[n++] = *p++;
	}
	py[n] = '\0';
	ck_assert_int_eq(make_tars(py), 0);
}

/* Every malicious tarball, each into a fresh layer beside a sentinel. */
static void run_evils(bool userns)
{
	if (!userns && geteuid() != 0) {
		fprintf(stderr, "test_layer: malicious layers as root of the host: skipped (not root)\n");
		return;
	}
	make_evils();
	for (size_t i = 0; i < sizeof(evils) / sizeof(evils[0]); i++) {
		rm_tree(P("parent"));
		ck_assert_int_eq(mkdir(P("parent"), 0755), 0);
		int fd = open(P("parent/sentinel"), O_WRONLY | O_CREAT | O_EXCL, 0644);
		ck_assert_int_eq(write(fd, "sentinel\n", 9), 9);
		close(fd);
		ck_assert_int_eq(rename(P("evil-%zu.tar", i), P("evil.tar")), 0);
		if (userns) {
			ns_dir(P("parent/root"));
			run_ns(evils[i].what, check_evil, &evils[i], false);
		} else {
			ck_assert_int_eq(mkdir(P("parent/root"), 0755), 0);
			run_host(evils[i].what, check_evil, &evils[i]);
		}
	}
}

START_TEST(nothing_escapes_as_root)
{
	NEEDS_OPENAT2();
	run_evils(false);
}
END_TEST

START_TEST(nothing_escapes_in_userns)
{
	NEEDS_OPENAT2();
	run_evils(true);
}
END_TEST

/* --- streams: compressions, taps, progress, bad input --------------------- */

struct capture {
	char *buf;
	size_t len;
};

static int tap_into(struct capture *c, const void *buf, size_t len)
{
	char *n = realloc(c->buf, c->len + len);
	if (!n)
		return -ENOMEM;
	memcpy(n + c->len, buf, len);
	c->buf = n;
	c->len += len;
	return 0;
}

static struct capture cap_c, cap_t;

static int tap_compressed(void *opaque, const void *buf, size_t len)
{
	(void)opaque;
	return tap_into(&cap_c, buf, len);
}

static int tap_tar(void *opaque, const void *buf, size_t len)
{
	(void)opaque;
	return tap_into(&cap_t, buf, len);
}

static bool same_as_file(const struct capture *c, const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || (size_t)st.st_size != c->len)
		return false;
	char *buf = malloc(c->len + 1);
	bool same = read(fd, buf, c->len + 1) == (ssize_t)c->len && memcmp(buf, c->buf, c->len) == 0;
	free(buf);
	return same;
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static int check_compression(void *arg)
{
	const char *ext = arg;
	struct layer_opts o = { .tap = { tap_compressed, tap_tar, NULL } };
	struct layer_stats st;
	char *want, *got;

	free(cap_c.buf), free(cap_t.buf);
	cap_c = cap_t = (struct capture){ 0 };
	EXTRACT_OK(P("c.tar%s", ext), P("c%s", ext), &o, &st);
	CHECK(st.bytes_compressed == (uint64_t)file_size(P("c.tar%s", ext)), "%s: compressed bytes %llu", ext,
	      (unsigned long long)st.bytes_compressed);
	CHECK(st.bytes_tar == (uint64_t)file_size(P("c.tar")), "%s: tar bytes %llu", ext,
	      (unsigned long long)st.bytes_tar);
	CHECK(same_as_file(&cap_c, P("c.tar%s", ext)), "%s: the compressed tap saw other bytes", ext);
	CHECK(same_as_file(&cap_t, P("c.tar")), "%s: the tar tap saw other bytes", ext);
	want = describe(P("c"), NULL);
	got = describe(P("c%s", ext), NULL);
	CHECK(strcmp(want, got) == 0, "%s: another tree:%s", ext, first_diff(want, got));
	free(want), free(got);
	return 0;
}

START_TEST(every_compression)
{
	NEEDS_OPENAT2();
	static const char *const exts[] = { "", ".gz", ".xz", ".bz2", ".zst" };
	char py[1400];
	snprintf(py, sizeof(py),
		 "new('%s/c.tar')\nadd('a/', 'd')\nfor i in range(50):\n"
		 "    add('a/f%%d' %% i, data=bytes(range(256)) * (i * 4), mode=0o600 + i)\n"
		 "add('a/s', 'l', link='f1')\nt.close(); t = None\n"
		 "import gzip, lzma, bz2, os\nos.chdir('%s'); d = open('c.tar', 'rb').read()\n"
		 "open('c.tar.gz', 'wb').write(gzip.compress(d)); open('c.tar.xz', 'wb').write(lzma.compress(d))\n"
		 "open('c.tar.bz2', 'wb').write(bz2.compress(d))\n",
		 base, base);
	ck_assert_int_eq(make_tars(py), 0);
	bool zstd = sh("zstd -q %s -o %s 2>/dev/null", P("c.tar"), P("c.tar.zst")) == 0;
	if (!zstd)
		fprintf(stderr, "test_layer: zstd input: skipped, no zstd program\n");
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]) - !zstd; i++) {
		ns_dir(P("c%s", exts[i]));
		run_ns(exts[i][0] ? exts[i] : "plain", check_compression, (void *)exts[i], false);
	}
}
END_TEST

static int progress_calls;
static uint64_t progress_last;

static void on_progress(void *opaque, uint64_t bytes)
{
	(void)opaque;
	progress_calls++;
	progress_last = bytes;
}

START_TEST(progress_is_rate_limited)
{
	NEEDS_OPENAT2();
	struct layer_opts o = { .progress = on_progress };
	struct layer_stats st;
	struct ubx_err e = { 0 };
	struct timespec a, b;
	ROOT_ONLY("progress"); /* owners 0:0 outside a namespace */
	/* a pipe that trickles: a writer sends 64 KiB every 2 ms */
	ck_assert_int_eq(make_tar(P("p.tar"), "add('big', data=b'x' * (12 << 20))\n"), 0);
	ck_assert_int_eq(mkdir(P("root"), 0755), 0);
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		int in = open(P("p.tar"), O_RDONLY);
		char buf[65536];
		ssize_t n;
		while ((n = read(in, buf, sizeof(buf))) > 0) {
			if (write(pfd[1], buf, (size_t)n) != n)
				_exit(1);
			nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
		}
		_exit(0);
	}
	close(pfd[1]);
	_cleanup_close_ int d = open(P("root"), O_RDONLY | O_DIRECTORY);
	clock_gettime(CLOCK_MONOTONIC, &a);
	int r = layer_extract(pfd[0], d, &o, &st, &e);
	clock_gettime(CLOCK_MONOTONIC, &b);
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	ck_assert_msg(r == 0, "%s", e.msg);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	ck_assert_msg(progress_calls >= 2 && progress_calls <= (int)(secs * 10) + 3, "%d calls in %.2f s",
		      progress_calls, secs);
	ck_assert_uint_eq(progress_last, st.bytes_compressed);
}
END_TEST

START_TEST(bad_input_fails_cleanly)
{
	NEEDS_OPENAT2();
	struct ubx_err e = { 0 };
	ck_assert_int_eq(mkdir(P("root"), 0755), 0);
	ck_assert_int_eq(sh("printf 'hello, not a tar' > %s && : > %s", P("junk"), P("empty")), 0);
	ck_assert_int_lt(extract(P("junk"), P("root"), NULL, NULL, &e), 0);
	ck_assert_msg(strncmp(e.msg, "layer: ", 7) == 0 && !strchr(e.msg, '\n'), "%s", e.msg);
	ck_assert_int_lt(extract(P("empty"), P("root"), NULL, NULL, &e), 0);
	ck_assert_str_eq(e.msg, "layer: the layer is empty");
	ck_assert_int_eq(make_tar(P("t.tar"), "add('f', data=b'x' * 100000)\n"), 0);
	ck_assert_int_eq(sh("head -c 60000 %s > %s && head -c 60000 %s | gzip > %s", P("t.tar"), P("cut.tar"),
			    P("t.tar"), P("cut.tar.gz")),
			 0);
	ck_assert_int_lt(extract(P("cut.tar"), P("root"), NULL, NULL, &e), 0);
	ck_assert_msg(strstr(e.msg, "runcat") || strstr(e.msg, "EOF"), "%s", e.msg);
	ck_assert_int_lt(extract(P("cut.tar.gz"), P("root"), NULL, NULL, &e), 0);
	ck_assert_int_eq(sh("printf 'PK\\003\\004 zip' > %s", P("zip")), 0);
	ck_assert_int_lt(extract(P("zip"), P("root"), NULL, NULL, &e), 0);
}
END_TEST

/* --- writing: upper directories and trees ---------------------------------- */

static int write_to(const char *dir, const char *out, bool diff, const struct layer_write_opts *o,
		    struct layer_stats *st, struct ubx_err *e)
{
	_cleanup_close_ int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (d < 0 || fd < 0)
		return ubx_fail(e, errno, "open %s or %s", dir, out);
	return (diff ? layer_diff_write : layer_tree_write)(d, fd, o, st, e);
}

#define WRITE_OK(dir, out, diff, o, st)                                                           \
	do {                                                                                      \
		struct ubx_err e_ = { 0 };                                                        \
		CHECK(write_to(dir, out, diff, o, st, &e_) == 0, "write %s: %s", dir, e_.msg);    \
	} while (0)

static int check_round_trip(void *arg)
{
	struct layer_stats st1, st2, stw;
	char *a, *b;
	(void)arg;

	EXTRACT_OK(P("rt.tar"), P("one"), NULL, &st1);
	WRITE_OK(P("one"), P("out/rt.tar"), true, NULL, &stw);
	EXTRACT_OK(P("out/rt.tar"), P("two"), NULL, &st2);
	a = describe(P("one"), NULL);
	b = describe(P("two"), NULL);
	CHECK(strcmp(a, b) == 0, "the trees differ:%s", first_diff(a, b));
	CHECK(st1.whiteouts == st2.whiteouts && st1.opaque_dirs == st2.opaque_dirs && st1.hardlinks == st2.hardlinks &&
		      stw.whiteouts == st1.whiteouts && stw.opaque_dirs == st1.opaque_dirs,
	      "counts: wh %llu/%llu opq %llu/%llu", (unsigned long long)st1.whiteouts,
	      (unsigned long long)st2.whiteouts, (unsigned long long)st1.opaque_dirs,
	      (unsigned long long)st2.opaque_dirs);
	free(a), free(b);
	return 0;
}

START_TEST(round_trip)
{
	NEEDS_OPENAT2();
	ck_assert_int_eq(make_tar(P("rt.tar"), "add('bin/', 'd')\n"
					       "add('bin/ping', data=b'ELF', mode=0o4755, uid=1000, gid=1000,\n"
					       "    xattrs={'security.capability': CAP, 'user.a': 'b'})\n"
					       "add('bin/hl', 'h', link='bin/ping')\n"
					       "add('bin/hl2', 'h', link='bin/ping')\n"
					       "add('etc/', 'd', mode=0o750, uid=1000, gid=100)\n"
					       "add('etc/.wh.passwd', uid=7, gid=8, mtime=1234567890)\n"
					       "add('var/', 'd', mode=0o1777)\n"
					       "add('var/.wh..wh..opq')\n"
					       "add('var/x', 'p', mode=0o640)\n"
					       "add('lnk', 'l', link='/nowhere/at/all', uid=5, gid=6)\n"
					       "add('sparse', data=b'\\0' * 100000 + b'end')\n"),
			 0);
	ns_dir(P("one"));
	ns_dir(P("two"));
	ns_dir(P("out"));
	run_ns("extract, write, extract", check_round_trip, NULL, false);
	if (geteuid() == 0) {
		ck_assert_int_eq(sh("rm -rf %s %s && mkdir %s %s", P("one"), P("two"), P("one"), P("two")), 0);
		run_host("extract, write, extract", check_round_trip, NULL);
	}
}
END_TEST

/* An upper directory as overlayfs leaves it, made by hand. */
static void make_upper(const char *u)
{
	ck_assert_int_eq(sh("mkdir -p %s/a/b %s/opq/sub %s/work && cd %s && echo 1 > a/b/f && ln a/b/f a/hard && "
			    "ln -s b a/sym && mkfifo fifo && echo w > work/junk && echo o > opq/sub/o && "
			    "mknod gone c 0 0 && mknod a/b/gone2 c 0 0 && chmod 4755 a/b/f && touch -d @1000000000 a/b/f",
			    u, u, u, u),
			 0);
	ck_assert_int_eq(setxattr(P("upper/opq"), "user.overlay.opaque", "y", 1, 0), 0);
	ck_assert_int_eq(setxattr(P("upper/a/b/f"), "user.overlay.origin", "xx", 2, 0), 0);
	ck_assert_int_eq(setxattr(P("upper/a/b/f"), "user.kept", "k", 1, 0), 0);
	ck_assert_int_eq(sh(": > %s/xw", u), 0); /* a whiteout in Linux 6.7's xattr form */
	ck_assert_int_eq(setxattr(P("upper/xw"), "user.overlay.whiteout", "", 0, 0), 0);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", u);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
}

/* The tar's members, one line each, by python's tarfile. */
static char *tar_listing(const char *tar)
{
	char cmd[600], *out = calloc(1, 8192);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c \"import sys, tarfile\nfor m in tarfile.open(sys.argv[1]):\n"
		 "  print(m.name, m.type.decode(), oct(m.mode), m.uid, m.gid, m.size, m.linkname, "
		 "sorted(k for k in m.pax_headers if 'time' in k or 'xattr' in k))\" '%s'",
		 tar);
	FILE *f = popen(cmd, "r");
	size_t n = f ? fread(out, 1, 8191, f) : 0;
	out[n] = '\0';
	if (f)
		pclose(f);
	return out;
}

/* A file system mounted inside the tree: its mount point only. */
static int check_one_fs(void *arg)
{
	struct layer_stats st;
	(void)arg;
	CHECK(unshare(CLONE_NEWNS) == 0 && mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0, "mount namespace");
	CHECK(mkdir(P("upper/mnt"), 0755) == 0 && mount("tmpfs", P("upper/mnt"), "tmpfs", 0, NULL) == 0, "tmpfs");
	CHECK(sh(": > %s", P("upper/mnt/inner")) == 0, "a file on it");
	WRITE_OK(P("upper"), P("mnt.tar"), false, NULL, &st);
	char *got = tar_listing(P("mnt.tar"));
	CHECK(strstr(got, "\nmnt 5 ") && !strstr(got, "inner"), "%s", got);
	free(got);
	return 0;
}

START_TEST(diff_write_translates)
{
	struct layer_write_opts o = { .exclude = "work" };
	struct layer_stats st;
	struct ubx_err e = { 0 };
	ROOT_ONLY("an upper directory made by hand"); /* mknod 0:0, user.* xattrs of other ids */
	ck_assert_int_eq(mkdir(P("upper"), 0755), 0);
	make_upper(P("upper"));
	ck_assert_msg(write_to(P("upper"), P("diff.tar"), true, &o, &st, &e) == 0, "%s", e.msg);
	char *got = tar_listing(P("diff.tar"));
	ck_assert_str_eq(got, "a 5 0o755 0 0 0  []\n"
			      "a/b 5 0o755 0 0 0  []\n"
			      "a/b/f 0 0o4755 0 0 2  ['SCHILY.xattr.user.kept']\n"
			      "a/b/.wh.gone2 0 0o600 0 0 0  []\n"
			      "a/hard 1 0o4755 0 0 0 a/b/f []\n"
			      "a/sym 2 0o777 0 0 0 b []\n"
			      "fifo 6 0o644 0 0 0  []\n"
			      ".wh.gone 0 0o600 0 0 0  []\n"
			      "opq 5 0o755 0 0 0  []\n"
			      "opq/.wh..wh..opq 0 0o755 0 0 0  []\n"
			      "opq/sub 5 0o755 0 0 0  []\n"
			      "opq/sub/o 0 0o644 0 0 2  []\n"
			      ".wh.xw 0 0o600 0 0 0  []\n");
	free(got);
	ck_assert_uint_eq(st.whiteouts, 3);
	ck_assert_uint_eq(st.opaque_dirs, 1);
	ck_assert_uint_eq(st.hardlinks, 1);
	ck_assert_uint_eq(st.skipped_sockets, 1);
	ck_assert_uint_eq(st.bytes_tar, (uint64_t)file_size(P("diff.tar")));
	/* the tree writer: no translation, no overlay xattrs, the work dir this time */
	ck_assert_msg(write_to(P("upper"), P("tree.tar"), false, NULL, &st, &e) == 0, "%s", e.msg);
	got = tar_listing(P("tree.tar"));
	ck_assert_msg(strstr(got, "\ngone 3 0o644") && strstr(got, "work/junk") && !strstr(got, ".wh.") &&
			      !strstr(got, "overlay"),
		      "%s", got);
	free(got);
	run_host("a mount inside the tree", check_one_fs, NULL);
	/* a redirect cannot be written as a layer */
	ck_assert_int_eq(setxattr(P("upper/a"), "user.overlay.redirect", "/x", 2, 0), 0);
	ck_assert_int_eq(write_to(P("upper"), P("diff2.tar"), true, &o, &st, &e), -ENOTSUP);
	ck_assert_msg(strstr(e.msg, "layer: 'a': an overlay redirect"), "%s", e.msg);
}
END_TEST

/* fuse-overlayfs marks an opaque directory with its own xattr and a
 * .wh..wh..opq file in it (or with the file alone): one marker each in the
 * layer, and no fuse-overlayfs xattr. */
START_TEST(diff_write_reads_fuse_overlayfs)
{
	struct ubx_err e = { 0 };
	ck_assert_int_eq(mkdir(P("fo"), 0755), 0);
	ck_assert_int_eq(mkdir(P("fo/both"), 0755), 0);
	ck_assert_int_eq(mkdir(P("fo/file"), 0755), 0);
	ck_assert_int_eq(setxattr(P("fo/both"), "user.fuseoverlayfs.opaque", "y", 1, 0), 0);
	const char *files[] = { "fo/both/.wh..wh..opq", "fo/both/kept", "fo/file/.wh..wh..opq" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		int fd = open(P("%s", files[i]), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	ck_assert_msg(write_to(P("fo"), P("fo.tar"), true, NULL, NULL, &e) == 0, "%s", e.msg);
	char *got = tar_listing(P("fo.tar"));
	size_t markers = 0;
	for (const char *p = got; (p = strstr(p, ".wh..wh..opq")); p++)
		markers++;
	ck_assert_msg(markers == 2 && strstr(got, "both/.wh..wh..opq") && strstr(got, "file/.wh..wh..opq") &&
			      strstr(got, "both/kept") && !strstr(got, "fuseoverlayfs"),
		      "%s", got);
	free(got);
}
END_TEST

START_TEST(writes_are_deterministic)
{
	struct layer_write_opts gz = { .gzip = true, .tap = { tap_compressed, tap_tar, NULL } };
	struct layer_stats st;
	struct ubx_err e = { 0 };
	ROOT_ONLY("deterministic writes");
	ck_assert_int_eq(mkdir(P("upper"), 0755), 0);
	make_upper(P("upper"));
	ck_assert_msg(write_to(P("upper"), P("1.tar"), true, NULL, NULL, &e) == 0, "%s", e.msg);
	/* a different inode order: the same tree made again in another order */
	ck_assert_int_eq(sh("cp -a %s %s && rm -rf %s/a && cp -a %s/a %s/a", P("upper"), P("upper2"), P("upper2"),
			    P("upper"), P("upper2")),
			 0);
	ck_assert_msg(write_to(P("upper2"), P("2.tar"), true, NULL, NULL, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(sh("cmp -s %s %s", P("1.tar"), P("2.tar")), 0);
	ck_assert_msg(write_to(P("upper"), P("1.tgz"), true, &gz, &st, &e) == 0, "%s", e.msg);
	ck_assert(same_as_file(&cap_t, P("1.tar")));  /* the tar tap: the uncompressed stream */
	ck_assert(same_as_file(&cap_c, P("1.tgz")));  /* the other: what went to the fd */
	ck_assert_uint_eq(st.bytes_compressed, (uint64_t)file_size(P("1.tgz")));
	sleep(1); /* gzip would put the time in its header */
	ck_assert_msg(write_to(P("upper"), P("2.tgz"), true, &(struct layer_write_opts){ .gzip = true }, NULL, &e) == 0,
		      "%s", e.msg);
	ck_assert_int_eq(sh("cmp -s %s %s && gzip -t %s", P("1.tgz"), P("2.tgz"), P("1.tgz")), 0);
	ck_assert_msg(write_to(P("upper"), P("3.tgz"), true, &(struct layer_write_opts){ .gzip = true, .gzip_level = 1 },
			       NULL, &e) == 0,
		      "%s", e.msg);
	ck_assert_int_eq(sh("gzip -dc %s | cmp -s - %s", P("3.tgz"), P("1.tar")), 0);
	ck_assert_int_eq(write_to(P("upper"), P("4.tgz"), true, &(struct layer_write_opts){ .gzip = true, .gzip_level = 10 },
				  NULL, &e),
			 -EINVAL);
}
END_TEST

/* --- the kernel reads what was written ------------------------------------ */

static int mount_overlay(const char *target, const char *lower, const char *upper, const char *work)
{
	char opts[2048];
	if (upper)
		snprintf(opts, sizeof(opts), "userxattr,lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	else
		snprintf(opts, sizeof(opts), "userxattr,lowerdir=%s", lower);
	return mount("overlay", target, "overlay", 0, opts);
}

static bool exists(const char *path)
{
	struct stat s;
	return lstat(path, &s) == 0;
}

static int count_names(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return d ? n : -1;
}

static int check_overlay(void *arg)
{
	struct layer_stats st;
	char lower[1024];
	(void)arg;

	EXTRACT_OK(P("l1.tar"), P("l1"), NULL, NULL);
	EXTRACT_OK(P("l2.tar"), P("l2"), NULL, NULL);
	snprintf(lower, sizeof(lower), "%s:%s", P("l2"), P("l1"));
	CHECK(mount_overlay(P("m"), lower, NULL, NULL) == 0, "mount overlay: %s", strerror(errno));
	CHECK(!exists(P("m/a")), "the whited-out file is there");
	CHECK(exists(P("m/b")) && exists(P("m/k/keep")), "b and k/keep are gone");
	CHECK(exists(P("m/d/z")) && count_names(P("m/d")) == 1, "the opaque d shows %d names", count_names(P("m/d")));
	CHECK(umount(P("m")) == 0, "umount");

	/* changes in a container, written back as a layer, read again by the kernel */
	CHECK(mount_overlay(P("m"), lower, P("up"), P("work")) == 0, "mount with an upper: %s", strerror(errno));
	CHECK(unlink(P("m/b")) == 0 && sh("rm -rf %s && mkdir %s && echo n > %s && echo c > %s", P("m/d"), P("m/d"),
					  P("m/d/new"), P("m/c")) == 0,
	      "change the merged view");
	CHECK(umount(P("m")) == 0, "umount");
	WRITE_OK(P("up"), P("out/l3.tar"), true, NULL, &st);
	CHECK(st.whiteouts == 1 && st.opaque_dirs == 1, "diff: %llu whiteouts, %llu opaque",
	      (unsigned long long)st.whiteouts, (unsigned long long)st.opaque_dirs);
	EXTRACT_OK(P("out/l3.tar"), P("l3"), NULL, NULL);
	snprintf(lower, sizeof(lower), "%s:%s:%s", P("l3"), P("l2"), P("l1"));
	CHECK(mount_overlay(P("m"), lower, NULL, NULL) == 0, "mount three layers: %s", strerror(errno));
	CHECK(!exists(P("m/a")) && !exists(P("m/b")) && exists(P("m/c")), "a, b gone and c there");
	CHECK(exists(P("m/d/new")) && count_names(P("m/d")) == 1, "d shows %d names", count_names(P("m/d")));
	CHECK(exists(P("m/k/keep")), "k/keep");
	return 0;
}

START_TEST(kernel_overlay_reads_layers)
{
	NEEDS_OPENAT2();
	char py[600];
	snprintf(py, sizeof(py),
		 "new('%s')\nadd('a', data=b'a')\nadd('b', data=b'b')\nadd('d/', 'd')\nadd('d/x')\nadd('d/y')\n"
		 "add('k/keep')\nnew('%s')\nadd('.wh.a')\nadd('d/', 'd')\nadd('d/.wh..wh..opq')\nadd('d/z')\n",
		 P("l1.tar"), P("l2.tar"));
	ck_assert_int_eq(make_tars(py), 0);
	static const char *const dirs[] = { "l1", "l2", "l3", "m", "up", "work", "out" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		ns_dir(P("%s", dirs[i]));
	run_ns("overlayfs", check_overlay, NULL, true);
}
END_TEST

UNIT_MAIN_FIXTURE("layer", setup, teardown, clean_path_rules, basic_layer_as_root, basic_layer_in_userns,
		  unmapped_owner_named, whiteouts_and_opaque, later_entries_replace, nothing_escapes_as_root,
		  nothing_escapes_in_userns, every_compression, progress_is_rate_limited, bad_input_fails_cleanly,
		  round_trip, diff_write_translates, diff_write_reads_fuse_overlayfs, writes_are_deterministic, kernel_overlay_reads_layers)
