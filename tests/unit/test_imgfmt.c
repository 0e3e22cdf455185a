/* SPDX-License-Identifier: MIT */
/*
 * The image-format reader and writer (image/format*.c, image/digest.c) on
 * real images: tests/images/make-fixtures.sh builds them once, from
 * busybox-static, with umoci and skopeo (an OCI layout with a whiteout and an
 * opaque directory, an oci-archive, a docker-archive, plain and gzipped, and
 * zstd layers).  Every kind is opened, listed, picked and read layer by
 * layer; damaged blobs, a wrong diff_id, foreign layers, platforms and bad
 * JSON are refused with a line naming what is wrong; an oci-archive written
 * here is read back, and by skopeo and umoci.
 */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../image/digest.h"
#include "../../image/format.h"
#include "../../image/format_internal.h"

static char fx[64];    /* the fixtures */
static char dir[64];   /* a fresh directory per test */

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/usbox-imgfmt-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static const char *at(char *buf, const char *base, const char *name)
{
	snprintf(buf, 256, "%s/%s", base, name);
	return buf;
}

/* --- helpers: open, pick, read a layer ------------------------------------ */

static struct imgfmt_source *open_ok(const char *path)
{
	struct imgfmt_source *s = NULL;
	struct ubx_err e = { 0 };
	ck_assert_msg(imgfmt_open(path, dir, &s, &e) == 0, "%s: %s", path, e.msg);
	return s;
}

static struct imgfmt_image *pick_ok(struct imgfmt_source *s, const char *ref)
{
	struct imgfmt_image *img = NULL;
	struct ubx_err e = { 0 };
	ck_assert_msg(imgfmt_pick(s, ref, &img, &e) == 0, "pick %s: %s", ref ? ref : "(none)", e.msg);
	return img;
}

/* read_layer() - read layer @i to its end (into @save when given); the
 * close's return, with the bytes the consumer saw. */
static int read_layer(struct imgfmt_image *img, size_t i, enum imgfmt_layer_mode mode, const char *save,
		      uint64_t *seen, struct imgfmt_layer_result *res, struct ubx_err *e)
{
	struct imgfmt_layer *l = NULL;
	char buf[65536];
	int fd, out = -1;
	ssize_t n;

	*seen = 0;
	ck_assert_msg(imgfmt_layer_open(img, i, mode, -1, &fd, &l, e) == 0, "open layer %zu: %s", i, e->msg);
	if (save)
		ck_assert_int_ge(out = open(save, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		*seen += (uint64_t)n;
		if (out >= 0)
			ck_assert_int_eq(write(out, buf, (size_t)n), n);
	}
	if (out >= 0)
		close(out);
	return imgfmt_layer_close(l, res, e);
}

/* check_all_layers() - every layer read both ways matches its descriptors. */
static void check_all_layers(struct imgfmt_image *img)
{
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct imgfmt_layer_desc *d = &img->layers[i];
		struct imgfmt_layer_result res;
		struct ubx_err e = { 0 };
		uint64_t seen;

		ck_assert_msg(read_layer(img, i, IMGFMT_LAYER_TAR, NULL, &seen, &res, &e) == 0, "%s", e.msg);
		ck_assert_msg(digest_eq(&res.diff_id, &d->diff_id), "layer %zu diff_id", i);
		ck_assert_uint_eq(seen, res.tar_bytes);
		ck_assert_uint_eq(res.blob_bytes, d->size);
		ck_assert_uint_eq(seen % 512, 0);
		if (d->digest_known)
			ck_assert(digest_eq(&res.digest, &d->digest));
		ck_assert_msg(read_layer(img, i, IMGFMT_LAYER_BLOB, NULL, &seen, &res, &e) == 0, "%s", e.msg);
		ck_assert_uint_eq(seen, d->size);
	}
}

/* The config every fixture's "latest" has (umoci config in make-fixtures.sh). */
static void check_config(const struct imgfmt_image *img)
{
	const struct imgfmt_config *c = &img->config;

	ck_assert_str_eq(c->architecture, "amd64");
	ck_assert_str_eq(c->os, "linux");
	ck_assert_str_eq(c->env[0], "PATH=/bin");
	ck_assert_str_eq(c->env[1], "GREETING=hello world");
	ck_assert_ptr_null(c->env[2]);
	ck_assert_str_eq(c->entrypoint[0], "/bin/sh");
	ck_assert_str_eq(c->entrypoint[1], "-c");
	ck_assert_str_eq(c->cmd[0], "echo $GREETING");
	ck_assert_str_eq(c->working_dir, "/home/user");
	ck_assert_str_eq(c->user, "1000:1000");
	ck_assert_str_eq(c->stop_signal, "SIGTERM");
	ck_assert_str_eq(c->exposed_ports[0], "8080/tcp");
	ck_assert_str_eq(c->volumes[0], "/data");
	ck_assert_uint_eq(c->n_labels, 1);
	ck_assert_str_eq(c->labels[0].key, "org.example.test");
	ck_assert_str_eq(c->labels[0].value, "yes");
	ck_assert_uint_eq(c->n_diff_ids, 3);
	ck_assert_uint_ge(c->n_history, 3);
	ck_assert_uint_eq(img->n_layers, 3);
	ck_assert_uint_gt(img->config_len, 0);
}

/* --- digests --------------------------------------------------------------- */

START_TEST(digest_strings)
{
	static const char good[] = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	char out[DIGEST_STR_LEN + 1];
	struct ubx_err e = { 0 };
	struct digest d, abc;

	ck_assert_int_eq(digest_parse(good, &d, &e), 0);
	ck_assert_str_eq(digest_format(&d, out), good);
	ck_assert_int_eq(digest_buf("abc", 3, &abc, &e), 0);
	ck_assert(digest_eq(&d, &abc));
	ck_assert_int_eq(digest_parse("sha512:abcd", &d, &e), -ENOTSUP);
	ck_assert_msg(strstr(e.msg, "'sha512' is not supported"), "%s", e.msg);
	static const char *const bad[] = {
		"", "sha256", "sha256:", ":abc", "SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a ",
		" sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		ck_assert_msg(digest_parse(bad[i], &d, &e) < 0, "accepted '%s'", bad[i]);
		ck_assert(e.msg[0] && !strchr(e.msg, '\n'));
	}
}
END_TEST

/* --- each kind -------------------------------------------------------------- */

START_TEST(oci_layout)
{
	char p[256];
	struct imgfmt_source *s = open_ok(at(p, fx, "oci"));
	size_t n;
	const struct imgfmt_entry *en = imgfmt_images(s, &n);

	ck_assert_int_eq(imgfmt_kind(s), IMGFMT_OCI_LAYOUT);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(en[0].refs[0], "base");
	ck_assert_str_eq(en[4].refs[0], "latest");
	struct imgfmt_image *img = pick_ok(s, "latest");
	check_config(img);
	ck_assert_str_eq(img->layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
	ck_assert_int_eq(img->layers[0].compression, IMGFMT_GZIP);
	ck_assert_ptr_nonnull(img->manifest);
	check_all_layers(img);
	imgfmt_image_free(img);
	/* the image without layers, and one picked by its manifest digest */
	img = pick_ok(s, "base");
	ck_assert_uint_eq(img->n_layers, 0);
	char d[DIGEST_STR_LEN + 1];
	digest_format(&en[1].digest, d);
	imgfmt_image_free(img);
	img = pick_ok(s, d);
	ck_assert_uint_eq(img->n_layers, 1);
	imgfmt_image_free(img);
	imgfmt_close(s);
}
END_TEST

START_TEST(oci_archive)
{
	char p[256];
	struct imgfmt_source *s = open_ok(at(p, fx, "oci-archive.tar"));
	size_t n;
	const struct imgfmt_entry *en = imgfmt_images(s, &n);

	ck_assert_int_eq(imgfmt_kind(s), IMGFMT_OCI_ARCHIVE);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(en[0].refs[0], "latest");
	struct imgfmt_image *img = pick_ok(s, NULL);
	check_config(img);
	check_all_layers(img);
	imgfmt_image_free(img);
	imgfmt_close(s);
}
END_TEST

static void check_docker(const char *name)
{
	char p[256];
	struct imgfmt_source *s = open_ok(at(p, fx, name));
	size_t n;
	const struct imgfmt_entry *en = imgfmt_images(s, &n);

	ck_assert_int_eq(imgfmt_kind(s), IMGFMT_DOCKER_ARCHIVE);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(en[0].refs[0], "docker.io/library/busybox:latest");
	static const char *const refs[] = { NULL, "busybox", "busybox:latest", "docker.io/library/busybox:latest",
					    "library/busybox" };
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		imgfmt_image_free(pick_ok(s, refs[i]));
	struct imgfmt_image *img = pick_ok(s, "busybox");
	check_config(img);
	for (size_t i = 0; i < img->n_layers; i++) {
		ck_assert_int_eq(img->layers[i].compression, IMGFMT_PLAIN);
		ck_assert(img->layers[i].digest_known);
	}
	check_all_layers(img);
	imgfmt_image_free(img);
	imgfmt_close(s);
}

START_TEST(docker_archive)
{
	check_docker("docker-archive.tar");
}
END_TEST

START_TEST(docker_archive_gzipped)
{
	check_docker("docker-archive.tar.gz");
	/* the spool file had no name */
	ck_assert_int_eq(sh("test -z \"$(ls -A %s)\"", dir), 0);
}
END_TEST

START_TEST(zstd_layers)
{
	char p[256];
	struct imgfmt_source *s = open_ok(at(p, fx, "oci-zstd"));
	struct imgfmt_image *img = pick_ok(s, NULL);

	for (size_t i = 0; i < img->n_layers; i++)
		ck_assert_int_eq(img->layers[i].compression, IMGFMT_ZSTD);
	check_config(img);
	check_all_layers(img);
	imgfmt_image_free(img);
	imgfmt_close(s);
}
END_TEST

START_TEST(from_stdin)
{
	char p[256];
	int saved = dup(0), pipefd[2];

	ck_assert_int_eq(pipe(pipefd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], 1);
		execlp("cat", "cat", at(p, fx, "docker-archive.tar"), (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	dup2(pipefd[0], 0);
	close(pipefd[0]);
	struct imgfmt_source *s = open_ok("-");
	dup2(saved, 0);
	close(saved);
	waitpid(pid, NULL, 0);
	struct imgfmt_image *img = pick_ok(s, NULL);
	check_all_layers(img);
	imgfmt_image_free(img);
	imgfmt_close(s);
}
END_TEST

/* The whiteout, the opaque directory and the owner survive: what the tar
 * tool reads of each layer. */
START_TEST(layer_contents)
{
	char p[256], f[256];
	struct imgfmt_source *s = open_ok(at(p, fx, "oci-archive.tar"));
	struct imgfmt_image *img = pick_ok(s, NULL);
	struct imgfmt_layer_result res;
	struct ubx_err e = { 0 };
	uint64_t seen;

	static const char *const want[] = { "1000/1000 .* ./home/user/owned", "etc/.wh.deleteme",
					    "opt/app/.wh..wh..opq" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "%s/layer%zu.tar", dir, i);
		ck_assert_msg(read_layer(img, i, IMGFMT_LAYER_TAR, f, &seen, &res, &e) == 0, "%s", e.msg);
		ck_assert_msg(sh("tar --numeric-owner -tvf %s | grep -q '%s'", f, want[i]) == 0, "layer %zu: no %s", i,
			      want[i]);
	}
	imgfmt_image_free(img);
	imgfmt_close(s);
}
END_TEST

/* Tars as other tools write them: GNU long names and links, pax headers,
 * layers reached through docker's <id>/layer.tar symlinks, and the same
 * archive unpacked into a directory. */
START_TEST(tar_variants)
{
	char p[256];

	ck_assert_int_eq(sh("set -e; mkdir %s/x && cd %s/x && tar -xf %s/docker-archive.tar && "
			    "long=$(printf 'd%%.0s' $(seq 1 120)) && mkdir -p deep/$long && "
			    "for l in $(ls *.tar); do mv $l deep/$long/$l; done && "
			    "for id in */layer.tar; do t=$(readlink $id); rm $id; "
			    "ln -s ../deep/$long/${t#../} $id; done && "
			    "python3 -c 'import json,os; m=json.load(open(\"manifest.json\")); "
			    "ids={os.readlink(d+\"/layer.tar\").split(\"/\")[-1]: d for d in os.listdir(\".\") if os.path.islink(d+\"/layer.tar\")}; "
			    "m[0][\"Layers\"]=[ids[l]+\"/layer.tar\" for l in m[0][\"Layers\"]]; "
			    "json.dump(m, open(\"manifest.json\",\"w\"))'",
			    dir, dir, fx), 0);
	static const char *const formats[] = { "gnu", "pax", "dir" };
	for (size_t i = 0; i < 3; i++) {
		if (i < 2)
			ck_assert_int_eq(sh("cd %s/x && tar --format=%s -cf ../%s.tar .", dir, formats[i], formats[i]), 0);
		snprintf(p, sizeof(p), i < 2 ? "%s/%s.tar" : "%s/x", dir, formats[i]);
		struct imgfmt_source *s = open_ok(p);
		struct imgfmt_image *img = pick_ok(s, NULL);
		ck_assert_msg(strstr(img->layers[0].path, "/layer.tar"), "%s", img->layers[0].path);
		check_config(img);
		check_all_layers(img);
		imgfmt_image_free(img);
		imgfmt_close(s);
	}
}
END_TEST

/* A directory's symlinks may not lead out of it. */
START_TEST(dir_symlink_out)
{
	char p[256];
	struct imgfmt_source *s = NULL;
	struct ubx_err e = { 0 };

	ck_assert_int_eq(sh("cp -a %s/oci %s/oci && cp %s/oci/index.json %s/outside.json && "
			    "ln -sf ../outside.json %s/oci/index.json", fx, dir, fx, dir, dir), 0);
	ck_assert_int_lt(imgfmt_open(at(p, dir, "oci"), dir, &s, &e), 0);
	ck_assert_msg(strstr(e.msg, "index.json: a symlink that leads out of the directory"), "%s", e.msg);
	ck_assert_int_eq(sh("ln -sf /etc/passwd %s/oci/index.json", dir), 0);
	ck_assert_int_lt(imgfmt_open(p, dir, &s, &e), 0);
	ck_assert_msg(strstr(e.msg, "index.json: a symlink that leads out"), "%s", e.msg);
}
END_TEST

/* --- damage ------------------------------------------------------------------ */

/* flip() - change one byte of @path, at @off from its start or its end. */
static void flip(const char *path, long off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;
	struct stat st;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	off_t where = off >= 0 ? off : st.st_size + off;
	ck_assert_int_eq(pread(fd, &c, 1, where), 1);
	c ^= 0x20;
	ck_assert_int_eq(pwrite(fd, &c, 1, where), 1);
	close(fd);
}

START_TEST(corrupt_oci_layer)
{
	char p[256], blob[256], hex[DIGEST_HEX_LEN + 1];
	struct imgfmt_layer_result res;
	struct ubx_err e = { 0 };
	uint64_t seen;

	ck_assert_int_eq(sh("cp -a %s/oci %s/oci", fx, dir), 0);
	struct imgfmt_source *s = open_ok(at(p, dir, "oci"));
	struct imgfmt_image *img = pick_ok(s, "latest");
	snprintf(blob, sizeof(blob), "%s/oci/blobs/sha256/%s", dir, digest_hex(&img->layers[0].digest, hex));
	flip(blob, 600000);
	ck_assert_int_eq(read_layer(img, 0, IMGFMT_LAYER_TAR, NULL, &seen, &res, &e), -EBADMSG);
	ck_assert_msg(strstr(e.msg, hex) && strstr(e.msg, "does not match its digest"), "%s", e.msg);
	ck_assert_uint_lt(seen, 2007040); /* it stopped short */
	ck_assert_int_lt(read_layer(img, 0, IMGFMT_LAYER_BLOB, NULL, &seen, &res, &e), 0);
	ck_assert_uint_lt(seen, img->layers[0].size);
	imgfmt_image_free(img);
	/* a damaged config: the pick fails and names it */
	img = pick_ok(s, "latest");
	snprintf(blob, sizeof(blob), "%s/oci/blobs/sha256/%s", dir, digest_hex(&img->config_digest, hex));
	imgfmt_image_free(img);
	flip(blob, 20);
	ck_assert_int_eq(imgfmt_pick(s, "latest", &img, &e), -EBADMSG);
	ck_assert_msg(strstr(e.msg, hex) && strstr(e.msg, "does not match"), "%s", e.msg);
	imgfmt_close(s);
}
END_TEST

START_TEST(corrupt_docker_layer)
{
	char p[256];
	struct imgfmt_layer_result res;
	struct ubx_err e = { 0 };
	uint64_t seen;

	ck_assert_int_eq(sh("cp %s/docker-archive.tar %s/d.tar", fx, dir), 0);
	/* the first layer's data starts at 512 (after its header): a byte of busybox */
	flip(at(p, dir, "d.tar"), 512 + 300000);
	struct imgfmt_source *s = open_ok(p);
	struct imgfmt_image *img = pick_ok(s, NULL);
	ck_assert_int_eq(read_layer(img, 0, IMGFMT_LAYER_TAR, NULL, &seen, &res, &e), -EBADMSG);
	ck_assert_msg(strstr(e.msg, img->layers[0].path) && strstr(e.msg, "does not match"), "%s", e.msg);
	ck_assert_uint_lt(seen, img->layers[0].size);
	/* the others are fine */
	ck_assert_msg(read_layer(img, 1, IMGFMT_LAYER_TAR, NULL, &seen, &res, &e) == 0, "%s", e.msg);
	imgfmt_image_free(img);
	imgfmt_close(s);
}
END_TEST

/* --- hand-made layouts ---------------------------------------------------- */

/* put() - write @text as a blob of the layout in @d; its digest into @out. */
static const char *put(const char *d, const char *text, size_t len, char out[DIGEST_STR_LEN + 1])
{
	char path[300], hex[DIGEST_HEX_LEN + 1];
	struct digest dg;
	struct ubx_err e = { 0 };

	ck_assert_int_eq(digest_buf(text, len, &dg, &e), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", d, digest_hex(&dg, hex));
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return digest_format(&dg, out);
}

static void put_file(const char *d, const char *name, const char *text)
{
	char path[300];
	FILE *f = fopen(at(path, d, name), "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* layout() - a layout in DIR/@name with one layer of @layer's bytes,
 * @layer_type, whose config lists @diff_id (NULL: the layer's own), for
 * @arch; its manifest descriptor into @mdesc. */
static void layout(const char *name, const char *layer, const char *layer_type, const char *diff_id,
		   const char *arch, char *mdesc, size_t mlen)
{
	char d[256], cfg[1024], man[2048], ld[80], cd[80], md[80];

	snprintf(d, sizeof(d), "%s/%s", dir, name);
	ck_assert_int_eq(sh("mkdir -p %s/blobs/sha256", d), 0);
	put_file(d, "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}");
	put(d, layer, strlen(layer), ld);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"]},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", arch, diff_id ? diff_id : ld);
	put(d, cfg, strlen(cfg), cd);
	snprintf(man, sizeof(man),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
		 cd, strlen(cfg), layer_type, ld, strlen(layer));
	put(d, man, strlen(man), md);
	snprintf(mdesc, mlen,
		 "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
		 "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}",
		 md, strlen(man), arch);
}

/* index() - index.json of DIR/@name listing @descs (a JSON array's inside). */
static void index_json(const char *name, const char *descs)
{
	char d[256], text[8192];
	snprintf(d, sizeof(d), "%s/%s", dir, name);
	snprintf(text, sizeof(text), "{\"schemaVersion\":2,\"manifests\":[%s]}", descs);
	put_file(d, "index.json", text);
}

static int pick_in(const char *name, const char *ref, struct imgfmt_image **img, struct ubx_err *e)
{
	char p[256];
	struct imgfmt_source *s = NULL;
	int r = imgfmt_open(at(p, dir, name), dir, &s, e);
	if (r == 0)
		r = imgfmt_pick(s, ref, img, e);
	if (r < 0)
		imgfmt_close(s);
	return r;
}

static void release(struct imgfmt_image *img)
{
	struct imgfmt_source *s = img->src;
	imgfmt_image_free(img);
	imgfmt_close(s);
}

START_TEST(wrong_diff_id)
{
	static const char other[] = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	struct imgfmt_image *img = NULL;
	struct imgfmt_layer_result res;
	struct ubx_err e = { 0 };
	char desc[512], list[600];
	uint64_t seen;

	layout("l", "not really a tar", MT_OCI_LAYER, other, "amd64", desc, sizeof(desc));
	snprintf(list, sizeof(list), "%s}", desc);
	index_json("l", list);
	ck_assert_msg(pick_in("l", NULL, &img, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(read_layer(img, 0, IMGFMT_LAYER_TAR, NULL, &seen, &res, &e), -EBADMSG);
	ck_assert_msg(strstr(e.msg, "rootfs.diff_ids[0] is sha256:0000") && strstr(e.msg, img->layers[0].path),
		      "%s", e.msg);
	ck_assert_uint_eq(seen, 0); /* held back: it fits in one chunk */
	release(img);
}
END_TEST

START_TEST(refused_layers)
{
	static const struct {
		const char *type, *msg;
	} cases[] = {
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "a foreign layer" },
		{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "a foreign layer" },
		{ "application/x-foo", "media type 'application/x-foo' is not a layer type" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imgfmt_image *img = NULL;
		struct ubx_err e = { 0 };
		char desc[512], list[600], name[16];

		snprintf(name, sizeof(name), "l%zu", i);
		layout(name, "x", cases[i].type, NULL, "amd64", desc, sizeof(desc));
		snprintf(list, sizeof(list), "%s}", desc);
		index_json(name, list);
		ck_assert_int_lt(pick_in(name, NULL, &img, &e), 0);
		ck_assert_msg(strstr(e.msg, cases[i].msg) && strstr(e.msg, "layers[0]"), "%s", e.msg);
	}
	/* a gzip media type on bytes that are not gzip */
	struct imgfmt_image *img = NULL;
	struct imgfmt_layer_result res;
	struct ubx_err e = { 0 };
	char desc[512], list[600];
	uint64_t seen;
	layout("g", "plain", MT_OCI_LAYER_GZIP, NULL, "amd64", desc, sizeof(desc));
	snprintf(list, sizeof(list), "%s}", desc);
	index_json("g", list);
	ck_assert_msg(pick_in("g", NULL, &img, &e) == 0, "%s", e.msg);
	ck_assert_int_lt(read_layer(img, 0, IMGFMT_LAYER_TAR, NULL, &seen, &res, &e), 0);
	ck_assert_msg(strstr(e.msg, "media type says gzip, but it is plain"), "%s", e.msg);
	release(img);
}
END_TEST

START_TEST(platforms)
{
	struct imgfmt_image *img = NULL;
	struct ubx_err e = { 0 };
	char arm[512], amd[512], list[1200];

	/* one ref, two platforms: this host's is taken */
	layout("m", "arm layer", MT_OCI_LAYER, NULL, "arm64", arm, sizeof(arm));
	layout("m", "amd layer", MT_OCI_LAYER, NULL, "amd64", amd, sizeof(amd));
	snprintf(list, sizeof(list), "%s,\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}},"
				     "%s,\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}}", arm, amd);
	index_json("m", list);
	ck_assert_msg(pick_in("m", "v1", &img, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(img->config.architecture, "amd64");
	ck_assert(!img->foreign_platform);
	release(img);
	/* the only image, for another platform: taken, and said */
	layout("a", "arm layer", MT_OCI_LAYER, NULL, "arm64", arm, sizeof(arm));
	snprintf(list, sizeof(list), "%s}", arm);
	index_json("a", list);
	ck_assert_msg(pick_in("a", NULL, &img, &e) == 0, "%s", e.msg);
	ck_assert(img->foreign_platform);
	release(img);
	/* one of two images, named, for another platform: refused */
	snprintf(list, sizeof(list), "%s,\"annotations\":{\"org.opencontainers.image.ref.name\":\"arm\"}},"
				     "%s,\"annotations\":{\"org.opencontainers.image.ref.name\":\"amd\"}}", arm, amd);
	layout("two", "arm layer", MT_OCI_LAYER, NULL, "arm64", arm, sizeof(arm));
	layout("two", "amd layer", MT_OCI_LAYER, NULL, "amd64", amd, sizeof(amd));
	index_json("two", list);
	ck_assert_int_lt(pick_in("two", "arm", &img, &e), 0);
	ck_assert_msg(strstr(e.msg, "an image for linux/arm64, not this host's linux/amd64"), "%s", e.msg);
	/* and two images need a name */
	ck_assert_int_lt(pick_in("two", NULL, &img, &e), 0);
	ck_assert_msg(strstr(e.msg, "2 images here; name one") && strstr(e.msg, "arm, amd"), "%s", e.msg);
	ck_assert_int_eq(pick_in("two", "nope", &img, &e), -ENOENT);
	ck_assert_msg(strstr(e.msg, "no image 'nope' here; there are: arm, amd"), "%s", e.msg);
}
END_TEST

START_TEST(nested_index)
{
	struct imgfmt_image *img = NULL;
	struct ubx_err e = { 0 };
	char arm[512], amd[512], inner[1200], id[80], outer[400], d[256];

	layout("n", "arm layer", MT_OCI_LAYER, NULL, "arm64", arm, sizeof(arm));
	layout("n", "amd layer", MT_OCI_LAYER, NULL, "amd64", amd, sizeof(amd));
	snprintf(inner, sizeof(inner), "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s},%s}]}",
		 MT_OCI_INDEX, arm, amd);
	snprintf(d, sizeof(d), "%s/n", dir);
	put(d, inner, strlen(inner), id);
	snprintf(outer, sizeof(outer), "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
				       "\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}",
		 MT_OCI_INDEX, id, strlen(inner));
	index_json("n", outer);
	ck_assert_msg(pick_in("n", "multi", &img, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(img->config.architecture, "amd64");
	release(img);
}
END_TEST

/* --- malformed JSON ------------------------------------------------------------ */

START_TEST(bad_json)
{
	static const struct {
		int which; /* 0 manifest.json, 1 index.json, 2 manifest, 3 config */
		const char *text, *msg;
	} cases[] = {
		{ 0, "[{\"Config\":\"a.json\",\"Layers\":[\"a\",\"b\",2]}]", "manifest.json: [0].Layers[2]: not a string but an integer" },
		{ 0, "[{\"Layers\":[]}]", "manifest.json: [0].Config: missing" },
		{ 0, "{}", "manifest.json: not an array but an object" },
		{ 0, "[]", "manifest.json: lists no image" },
		{ 0, "[{\"Config\":\"a\",\"Layers\":[],\"RepoTags\":\"x\"}]", "[0].RepoTags: not an array but a string" },
		{ 0, "[{\"Config\":\"a\",\"Layers\":[]} x", "manifest.json: line 1: not JSON" },
		{ 0, "[{\"Config\":\"a\",\"Layers\":[],\"LayerSources\":{\"sha256:1\":7}}]", "[0].LayerSources[sha256:1]: not an object" },
		{ 1, "{\"schemaVersion\":1,\"manifests\":[]}", "index.json: schemaVersion: 1, not 2" },
		{ 1, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"md5:00\",\"size\":1}]}",
		  "index.json: manifests[0].digest: digest algorithm 'md5' is not supported" },
		{ 1, "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:00\",\"size\":1}]}", "manifests[0].mediaType: missing" },
		{ 1, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:00\",\"size\":-1}]}",
		  "manifests[0].digest: 'sha256:00' is not a digest" },
		{ 2, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\",\"size\":-3},\"layers\":[]}",
		  "m: config.size: -3 is negative" },
		{ 2, "{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}", "m: mediaType: 'text/plain', not application/vnd.oci.image.manifest.v1+json" },
		{ 3, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[1]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  "c: config.Env[0]: not a string but an integer" },
		{ 3, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:x\"]}}",
		  "c: rootfs.diff_ids[0]: 'sha256:x' is not a digest" },
		{ 3, "{\"architecture\":\"amd64\",\"os\":\"linux\"}", "c: rootfs: missing" },
		{ 3, "{\"os\":\"linux\"}", "c: architecture: missing" },
		{ 3, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"a\":1}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  "c: config.Labels[\"a\"]: not a string but an integer" },
		{ 3, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"history\":[{\"empty_layer\":\"yes\"}],\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  "c: history[0].empty_layer: not a boolean but a string" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = cases[i].text;
		struct ubx_err e = { 0 };
		struct docker_item *items;
		struct oci_desc *descs;
		struct oci_manifest m;
		struct imgfmt_config c;
		size_t n;
		int r = 0;

		switch (cases[i].which) {
		case 0: r = imgfmt_parse_docker_manifest(t, strlen(t), "manifest.json", &items, &n, &e); break;
		case 1: r = imgfmt_parse_oci_index(t, strlen(t), "index.json", &descs, &n, &e); break;
		case 2: r = imgfmt_parse_oci_manifest(t, strlen(t), "m", &m, &e); break;
		case 3: r = imgfmt_parse_config(t, strlen(t), "c", &c, &e); break;
		}
		ck_assert_msg(r < 0, "accepted: %s", t);
		ck_assert_msg(strstr(e.msg, cases[i].msg), "for %s\n got: %s\nwant: %s", t, e.msg, cases[i].msg);
	}
	/* the cap */
	size_t big = IMGFMT_JSON_MAX + 1;
	char *text = malloc(big);
	struct ubx_err e = { 0 };
	struct imgfmt_config c;
	memset(text, ' ', big);
	ck_assert_int_lt(imgfmt_parse_config(text, big, "c", &c, &e), 0);
	ck_assert_msg(strstr(e.msg, "c: larger than 4 MiB"), "%s", e.msg);
	free(text);
}
END_TEST

/* A docker-archive whose manifest.json is wrong is refused when opened,
 * naming the archive, the file and the field. */
START_TEST(bad_docker_manifest)
{
	char p[256];
	struct imgfmt_source *s = NULL;
	struct ubx_err e = { 0 };

	ck_assert_int_eq(sh("mkdir %s/x && cd %s/x && printf '[{\"Config\":\"c.json\",\"Layers\":[\"a\",2]}]' >manifest.json"
			    " && tar -cf ../bad.tar manifest.json", dir, dir), 0);
	ck_assert_int_lt(imgfmt_open(at(p, dir, "bad.tar"), dir, &s, &e), 0);
	ck_assert_msg(strstr(e.msg, "bad.tar: manifest.json: [0].Layers[1]: not a string but an integer"), "%s", e.msg);
	/* and a tar of something else */
	ck_assert_int_lt(imgfmt_open(at(p, fx, "rootfs.tar"), dir, &s, &e), 0);
	ck_assert_msg(strstr(e.msg, "neither manifest.json nor oci-layout"), "%s", e.msg);
	ck_assert_int_lt(imgfmt_open("/etc/passwd", dir, &s, &e), 0);
	ck_assert_msg(strstr(e.msg, "not a tar archive"), "%s", e.msg);
}
END_TEST

/* --- writing --------------------------------------------------------------------- */

/* save() - write @img (layers streamed from its source, as blobs) to @path. */
static void save(struct imgfmt_image *img, const char *ref, const char *path)
{
	struct imgfmt_blob_in in[8];
	struct imgfmt_layer *l[8];
	struct ubx_err e = { 0 };
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(out, 0);
	ck_assert_uint_le(img->n_layers, 8);
	for (size_t i = 0; i < img->n_layers; i++) {
		in[i] = (struct imgfmt_blob_in){ .digest = img->layers[i].digest, .size = img->layers[i].size,
						 .media_type = img->layers[i].media_type };
		ck_assert_msg(imgfmt_layer_open(img, i, IMGFMT_LAYER_BLOB, -1, &in[i].fd, &l[i], &e) == 0, "%s", e.msg);
	}
	struct imgfmt_image_desc d = { .ref = ref, .config = img->config_raw, .config_len = img->config_len,
				       .layers = in, .n_layers = img->n_layers };
	ck_assert_msg(imgfmt_write_oci_archive(out, &d, 1, NULL, &e) == 0, "%s", e.msg);
	for (size_t i = 0; i < img->n_layers; i++)
		ck_assert_msg(imgfmt_layer_close(l[i], NULL, &e) == 0, "%s", e.msg);
	close(out);
}

START_TEST(write_read_back)
{
	char p[256], a[256], b[256];
	struct imgfmt_source *s = open_ok(at(p, fx, "docker-archive.tar"));
	struct imgfmt_image *img = pick_ok(s, NULL);

	save(img, "busybox:latest", at(a, dir, "a.tar"));
	save(img, "busybox:latest", at(b, dir, "b.tar"));
	ck_assert_msg(sh("cmp -s %s %s", a, b) == 0, "two writes differ");
	imgfmt_image_free(img);
	imgfmt_close(s);
	/* ours */
	s = open_ok(a);
	ck_assert_int_eq(imgfmt_kind(s), IMGFMT_OCI_ARCHIVE);
	img = pick_ok(s, "busybox:latest");
	check_config(img);
	check_all_layers(img);
	imgfmt_image_free(img);
	imgfmt_close(s);
	/* skopeo's and umoci's */
	ck_assert_int_eq(sh("skopeo inspect --raw oci-archive:%s >%s/raw.json && grep -q layer.v1.tar %s/raw.json",
			    a, dir, dir), 0);
	ck_assert_int_eq(sh("skopeo inspect oci-archive:%s:busybox:latest | grep -q '\"Architecture\": \"amd64\"'", a), 0);
	ck_assert_int_eq(sh("mkdir %s/lay && tar -xf %s -C %s/lay && umoci stat --image %s/lay:busybox:latest "
			    "| grep -q 'umoci raw add-layer'", dir, a, dir, dir), 0);
	ck_assert_int_eq(sh("cd %s && umoci unpack --rootless --image lay:busybox:latest bundle >/dev/null && "
			    "test -f bundle/rootfs/opt/app/c && ! test -e bundle/rootfs/opt/app/a && "
			    "! test -e bundle/rootfs/etc/deleteme && test -f bundle/rootfs/etc/added", dir), 0);
}
END_TEST

START_TEST(write_refuses_bad_layer)
{
	char p[256], hex[DIGEST_HEX_LEN + 1];
	struct imgfmt_source *s = open_ok(at(p, fx, "oci-archive.tar"));
	struct imgfmt_image *img = pick_ok(s, NULL);
	struct imgfmt_blob_in in[3];
	struct ubx_err e = { 0 };
	int out = open(at(p, dir, "w.tar"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	for (size_t i = 0; i < 3; i++) {
		char f[256];
		in[i] = (struct imgfmt_blob_in){ .digest = img->layers[i].digest, .size = img->layers[i].size,
						 .media_type = img->layers[i].media_type };
		snprintf(f, sizeof(f), "%s/oci-archive.tar", fx);
		/* the wrong bytes: the archive itself, from its start */
		in[i].fd = open(f, O_RDONLY | O_CLOEXEC);
	}
	struct imgfmt_image_desc d = { .ref = "x", .config = img->config_raw, .config_len = img->config_len,
				       .layers = in, .n_layers = 3 };
	ck_assert_int_eq(imgfmt_write_oci_archive(out, &d, 1, NULL, &e), -EBADMSG);
	ck_assert_msg(strstr(e.msg, digest_hex(&img->layers[0].digest, hex)), "%s", e.msg);
	for (size_t i = 0; i < 3; i++)
		close(in[i].fd);
	close(out);
	imgfmt_image_free(img);
	imgfmt_close(s);
}
END_TEST

/* Two images in one written archive: a ref is needed, and each is there. */
START_TEST(write_two_images)
{
	char p[256], a[256];
	struct imgfmt_source *s = open_ok(at(p, fx, "oci"));
	struct imgfmt_image *one = pick_ok(s, "l1"), *two = pick_ok(s, "latest");
	struct imgfmt_blob_in in1[1], in2[3];
	struct imgfmt_layer *l[4];
	struct ubx_err e = { 0 };
	int out = open(at(a, dir, "two.tar"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	in1[0] = (struct imgfmt_blob_in){ .digest = one->layers[0].digest, .size = one->layers[0].size,
					  .media_type = one->layers[0].media_type, .fd = -1 };
	ck_assert_int_eq(imgfmt_layer_open(one, 0, IMGFMT_LAYER_BLOB, -1, &in1[0].fd, &l[0], &e), 0);
	for (size_t i = 0; i < 3; i++) {
		in2[i] = (struct imgfmt_blob_in){ .digest = two->layers[i].digest, .size = two->layers[i].size,
						  .media_type = two->layers[i].media_type, .fd = -1 };
		ck_assert_int_eq(imgfmt_layer_open(two, i, IMGFMT_LAYER_BLOB, -1, &in2[i].fd, &l[1 + i], &e), 0);
	}
	struct imgfmt_image_desc d[2] = {
		{ "one:1", one->config_raw, one->config_len, in1, 1 },
		{ "two:2", two->config_raw, two->config_len, in2, 3 },
	};
	ck_assert_msg(imgfmt_write_oci_archive(out, d, 2, NULL, &e) == 0, "%s", e.msg);
	close(out);
	imgfmt_layer_close(l[0], NULL, &e);
	/* the shared bottom layer was written once: its second stream is not read */
	imgfmt_layer_abort(l[1]);
	for (size_t i = 2; i < 4; i++)
		ck_assert_msg(imgfmt_layer_close(l[i], NULL, &e) == 0, "%s", e.msg);
	imgfmt_image_free(one);
	imgfmt_image_free(two);
	imgfmt_close(s);

	s = open_ok(a);
	struct imgfmt_image *img = NULL;
	ck_assert_int_lt(imgfmt_pick(s, NULL, &img, &e), 0);
	ck_assert_msg(strstr(e.msg, "2 images here") && strstr(e.msg, "one:1, two:2"), "%s", e.msg);
	img = pick_ok(s, "two:2");
	check_config(img);
	check_all_layers(img);
	imgfmt_image_free(img);
	img = pick_ok(s, "one:1");
	check_all_layers(img);
	imgfmt_image_free(img);
	imgfmt_close(s);
	ck_assert_int_eq(sh("skopeo inspect oci-archive:%s:two:2 >/dev/null", a), 0);
}
END_TEST

/* The fixtures are built once, before the tests. */
int main(void)
{
	const char *given = getenv("USBOX_IMAGE_FIXTURES");
	int r;

	if (given) {
		snprintf(fx, sizeof(fx), "%s", given);
	} else {
		snprintf(fx, sizeof(fx), "/tmp/usbox-fixtures-XXXXXX");
		if (!mkdtemp(fx) || sh("tests/images/make-fixtures.sh %s", fx) != 0) {
			fprintf(stderr, "test_imgfmt: tests/images/make-fixtures.sh failed\n");
			return EXIT_FAILURE;
		}
	}
	const TTest *const tests[] = {
		digest_strings, oci_layout, oci_archive, docker_archive, docker_archive_gzipped, zstd_layers,
		from_stdin, layer_contents, tar_variants, dir_symlink_out, corrupt_oci_layer, corrupt_docker_layer, wrong_diff_id, refused_layers,
		platforms, nested_index, bad_json, bad_docker_manifest, write_read_back, write_refuses_bad_layer,
		write_two_images,
	};
	r = unit_run("imgfmt", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
	if (!given)
		(void)sh("rm -rf %s", fx);
	return r;
}
