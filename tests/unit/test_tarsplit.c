/* SPDX-License-Identifier: MIT */
/*
 * tar-split records (image/tarsplit.c): a tar made here block by block (a
 * directory, files named by ustar, a GNU long name and a PAX path, a hard
 * link, a symlink, a whiteout, trailing zeros) is extracted by layer.c with
 * the builder as its tap; the record then gives the tar back byte for byte
 * from the extracted files, and stops holding once a file changes.  A tar
 * whose file a later entry replaces does not hold.  Damaged records are
 * refused, each with its reason.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../image/layer.h"
#include "../../image/tarsplit.h"

struct buf {
	char *p;
	size_t len;
};

static void put(struct buf *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->len + n + 512);
	ck_assert_ptr_nonnull(b->p);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* A ustar header, then @size bytes of @data and the padding. */
static void entry(struct buf *b, const char *name, char type, const char *link, const char *data, size_t size)
{
	char h[512] = { 0 }, zero[512] = { 0 };
	unsigned sum = 0;
	snprintf(h, 100, "%s", name);
	snprintf(h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	snprintf(h + 124, 12, "%011zo", size);
	snprintf(h + 136, 12, "%011o", 1600000000);
	h[156] = type;
	snprintf(h + 157, 100, "%s", link ? link : "");
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	put(b, h, 512);
	put(b, data, size);
	put(b, zero, (512 - size % 512) % 512);
}

static int memfd_of(const void *p, size_t n)
{
	int fd = memfd_create("t", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static char dir[64];

/* Extracts @tar into a fresh directory (its fd in *@root) with a record
 * built on the way (its fd returned). */
static int extract(const struct buf *tar, int *root, uint64_t *refs)
{
	struct tarsplit_builder *b = NULL;
	struct ubx_err e = { 0 };
	uint64_t total = 0;
	snprintf(dir, sizeof(dir), "/tmp/test-tarsplit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	*root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int in = memfd_of(tar->p, tar->len), rec = memfd_of("", 0);
	ck_assert_int_eq(tarsplit_builder_new(rec, &b, &e), 0);
	struct layer_opts o = { .ignore_chown_errors = true, .tap = { .tar = tarsplit_feed, .opaque = b } };
	ck_assert_msg(layer_extract(in, *root, &o, NULL, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(tarsplit_finish(b, &total, refs, &e), 0);
	ck_assert_uint_eq(total, tar->len);
	tarsplit_builder_free(b);
	close(in);
	return rec;
}

static void cleanup_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int check(int rec, int root, const struct buf *tar, struct ubx_err *e)
{
	struct digest d;
	ck_assert_int_eq(digest_buf(tar->p, tar->len, &d, e), 0);
	return tarsplit_check(rec, root, &d, tar->len, "layer x", e);
}

static struct buf sample(void)
{
	struct buf t = { 0 };
	char big[700], pax[300], longname[200];
	memset(big, 'b', sizeof(big));
	memset(longname, 'n', sizeof(longname));
	memcpy(longname, "d/", 2);
	longname[150] = '\0';
	entry(&t, "d/", '5', NULL, "", 0);
	entry(&t, "d/a", '0', NULL, "hello", 5);
	entry(&t, "././@LongLink", 'L', NULL, longname, strlen(longname) + 1);
	entry(&t, "d/trunc", '0', NULL, big, sizeof(big));
	int n = snprintf(pax, sizeof(pax), "%d path=d/pax-named\n", 20);
	entry(&t, "PaxHeader", 'x', NULL, pax, (size_t)n);
	entry(&t, "d/ignored", '0', NULL, "pax", 3);
	entry(&t, "d/hard", '1', "d/a", "", 0);
	entry(&t, "d/sym", '2', "a", "", 0);
	entry(&t, "d/.wh.gone", '0', NULL, "", 0);
	char zero[2048] = { 0 };
	put(&t, zero, sizeof(zero));
	return t;
}

START_TEST(tarsplit_gives_the_tar_back)
{
	struct buf tar = sample(), back = { 0 };
	struct ubx_err e = { 0 };
	struct tarsplit_replay *r = NULL;
	uint64_t refs = 0;
	int root, rec = extract(&tar, &root, &refs);
	char chunk[333];
	ssize_t n;

	ck_assert_uint_eq(refs, 3); /* d/a, the long name, the PAX name */
	ck_assert_msg(check(rec, root, &tar, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(lseek(rec, 0, SEEK_SET), 0);
	ck_assert_int_eq(tarsplit_replay_new(rec, root, false, NULL, "layer x", &r, &e), 0);
	while ((n = tarsplit_read(r, chunk, sizeof(chunk), &e)) > 0)
		put(&back, chunk, (size_t)n);
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(back.len, tar.len);
	ck_assert(memcmp(back.p, tar.p, tar.len) == 0);
	tarsplit_replay_free(r);
	uint64_t total = 0;
	ck_assert_int_eq(tarsplit_total(rec, &total, &e), 0);
	ck_assert_uint_eq(total, tar.len);

	/* the same size, other bytes: the hash; another size: at once */
	int f = openat(root, "d/a", O_WRONLY | O_CLOEXEC);
	ck_assert_int_eq(pwrite(f, "J", 1, 0), 1);
	ck_assert_int_eq(check(rec, root, &tar, &e), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(e.msg, "layer x: its files no longer give the tar"));
	ck_assert_int_eq(pwrite(f, "hello!", 6, 0), 6);
	ck_assert_int_eq(check(rec, root, &tar, &e), -EBADMSG);
	ck_assert_str_eq(e.msg, "layer x: the file 'd/a' has 6 bytes, its record says 5: the layer was changed on disk");
	close(f);
	close(rec);
	close(root);
	cleanup_dir();
	free(tar.p);
	free(back.p);
}
END_TEST

START_TEST(tarsplit_replaced_entry_does_not_hold)
{
	struct buf tar = { 0 };
	struct ubx_err e = { 0 };
	uint64_t refs = 0;
	char zero[1024] = { 0 };
	entry(&tar, "a", '0', NULL, "first", 5);
	entry(&tar, "a", '0', NULL, "second!", 7);
	put(&tar, zero, sizeof(zero));
	int root, rec = extract(&tar, &root, &refs);
	ck_assert_int_eq(check(rec, root, &tar, &e), -EBADMSG);
	close(rec);
	close(root);
	cleanup_dir();
	free(tar.p);
}
END_TEST

/* A record given as @n bytes is refused with @why. */
static void refused(const char *rec, size_t n, const char *why)
{
	struct ubx_err e = { 0 };
	char want[200], buf[64];
	int fd = memfd_of(rec, n), root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct tarsplit_replay *r = NULL;
	ssize_t got = tarsplit_replay_new(fd, root, false, NULL, "layer x", &r, &e);
	while (got >= 0 && (got = tarsplit_read(r, buf, sizeof(buf), &e)) > 0)
		;
	snprintf(want, sizeof(want), "layer x: its tar-split record is damaged (%s)", why);
	ck_assert_int_eq(got, -EBADMSG);
	ck_assert_str_eq(e.msg, want);
	tarsplit_replay_free(r);
	close(fd);
	close(root);
}

#define REFUSED(lit, why) refused(lit, sizeof(lit) - 1, why)

START_TEST(tarsplit_damaged_records_refused)
{
	REFUSED("UBXTSPLX", "not a record");
	REFUSED("UBXT", "it ends early");
	REFUSED("UBXTSPL1r\0\0\0\0", "a verbatim segment out of bounds");
	REFUSED("UBXTSPL1r\1\0\x10\0", "a verbatim segment out of bounds");
	REFUSED("UBXTSPL1rab", "it ends early");
	REFUSED("UBXTSPL1f\1\0\0\0\0\0\0\0\4\0/etc", "a file reference is not a clean path");
	REFUSED("UBXTSPL1f\1\0\0\0\0\0\0\0\5\0a/../", "a file reference is not a clean path");
	REFUSED("UBXTSPL1f\1\0\0\0\0\0\0\0\3\0a\0b", "a file reference is not a clean path");
	REFUSED("UBXTSPL1f\0\0\0\0\0\0\0\0\3\0etc", "a file reference out of bounds");
	REFUSED("UBXTSPL1f\1\0\0\0\0\0\0\0\0\x10" "etc", "a file reference out of bounds");
	REFUSED("UBXTSPL1f\0\0\0\0\0\0\0\x40\3\0etc", "a file reference out of bounds");
	REFUSED("UBXTSPL1r\1\0\0\0xe\2\0\0\0\0\0\0\0", "its length does not add up");
	REFUSED("UBXTSPL1r\1\0\0\0xe\1\0\0\0\0\0\0\0r", "bytes after its end");
	REFUSED("UBXTSPL1q", "an unknown segment");
}
END_TEST

UNIT_MAIN("tarsplit", tarsplit_gives_the_tar_back, tarsplit_replaced_entry_does_not_hold,
	  tarsplit_damaged_records_refused)
