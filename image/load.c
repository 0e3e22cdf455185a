/* SPDX-License-Identifier: MIT */
/*
 * load.c - images into the store and out of it (image.h).
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "keep.h"
#include "layer.h"
#include "tarsplit.h"

int image_enter_holder(struct idmap_plan *plan, bool *single, struct ubx_err *e)
{
	char pwbuf[4096];
	struct passwd pw, *found = NULL;
	struct idmap_request req = { .want_full = true, .uid = getuid(), .gid = getgid(), .userns_fd = -1 };

	if (getpwuid_r(req.uid, &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found)
		req.user = found->pw_name;
	*plan = (struct idmap_plan){ .holder_lock_fd = -1 };
	int r = idmap_prepare(&req, plan, e);
	if (r < 0)
		return r;
	*single = plan->method != IDMAP_HOLDER;
	return 0;
}

/* A layer's bytes as they pass: into the blob file, counted for progress. */
struct copy_tap {
	int fd;
	uint64_t bytes;
	size_t layer, n_layers;
	const struct image_progress *p;
};

static int tap_write(void *opaque, const void *buf, size_t len)
{
	struct copy_tap *t = opaque;
	for (const char *b = buf; len;) {
		ssize_t n = write(t->fd, b, len);
		if (n < 0)
			return -errno;
		b += n, len -= (size_t)n;
	}
	return 0;
}

static void tap_progress(void *opaque, uint64_t bytes)
{
	struct copy_tap *t = opaque;
	if (t->p && t->p->fn)
		t->p->fn(t->p->opaque, t->bytes + bytes, t->layer, t->n_layers);
}

/* Extracts the layer on @in_fd into tmp/@dir (open as *@dfd) while @tap
 * copies its blob (the compressed bytes, or with @tar_blob the uncompressed
 * tar) and @k builds its record. */
static int extract_copying(struct store *s, int in_fd, bool tar_blob, bool single, struct copy_tap *tap,
			   struct layer_keep *k, char *dir, int *dfd, char *blob, size_t len, struct ubx_err *e)
{
	struct layer_opts o = { .ignore_chown_errors = single, .progress = tap_progress, .progress_opaque = tap };
	o.tap.tar = keep_tap;
	o.tap.opaque = k;
	if (tar_blob) {
		k->also = tap_write;
		k->also_opaque = tap;
	} else {
		o.tap.compressed = tap_write;
	}
	*dfd = store_tmp_dir(s, dir, len, e);
	if (*dfd < 0)
		return *dfd;
	tap->fd = store_tmp_file(s, blob, len, e);
	if (tap->fd < 0)
		return tap->fd;
	int r = layer_extract(in_fd, *dfd, &o, NULL, e);
	close(tap->fd);
	tap->fd = -1;
	return r;
}

/* A layer kept by its record: the image lists it as the uncompressed tar. */
static void by_record(struct store_layer *out, uint64_t tar_bytes)
{
	out->blob = out->diff_id;
	out->size = tar_bytes;
	snprintf(out->media_type, sizeof(out->media_type), "application/vnd.oci.image.layer.v1.tar");
}

/* Whether the store has @d's layer already, as a blob or by its record. */
static bool have_layer(struct store *s, const struct imgfmt_layer_desc *d, struct store_layer *out)
{
	uint64_t total;
	if (!store_have(s, "layers", &d->diff_id))
		return false;
	if (d->digest_known && store_have(s, "blobs/sha256", &d->digest))
		return true;
	if (keep_record_total(s, &d->diff_id, &total) < 0)
		return false;
	by_record(out, total);
	return true;
}

/* One layer of @img into the store, unless it is there already: format.c's
 * reader copies the blob into tmp/ while layer.c extracts the tar. */
static int load_layer(struct store *s, struct imgfmt_image *img, size_t i, bool single, struct copy_tap *tap,
		      struct store_layer *out, struct ubx_err *e)
{
	const struct imgfmt_layer_desc *d = &img->layers[i];
	struct layer_opts o = { .ignore_chown_errors = single, .progress = tap_progress, .progress_opaque = tap };
	struct imgfmt_layer *l = NULL;
	struct imgfmt_layer_result res;
	struct layer_keep k = { .fd = -1 };
	char dir[96] = "", blob[96] = "";
	bool kept = false;
	int fd, r;

	*out = (struct store_layer){ .diff_id = d->diff_id, .blob = d->digest, .size = d->size };
	snprintf(out->media_type, sizeof(out->media_type), "%s", d->media_type ? d->media_type : "");
	if (have_layer(s, d, out))
		return 0;
	_cleanup_close_ int dfd = store_tmp_dir(s, dir, sizeof(dir), e);
	_cleanup_close_ int bfd = dfd < 0 ? dfd : store_tmp_file(s, blob, sizeof(blob), e);
	r = bfd < 0 ? bfd : keep_begin(s, &k, e);
	o.tap.tar = keep_tap;
	o.tap.opaque = &k;
	r = r < 0 ? r : imgfmt_layer_open(img, i, IMGFMT_LAYER_TAR, bfd, &fd, &l, e);
	if (r >= 0 && (r = layer_extract(fd, dfd, &o, NULL, e)) < 0)
		imgfmt_layer_abort(l);
	else if (r >= 0 && (r = imgfmt_layer_close(l, &res, e)) == 0) {
		out->blob = res.digest;
		out->size = res.blob_bytes;
		tap->bytes += res.blob_bytes;
		out->diff_id = res.diff_id;
		if ((r = keep_commit(s, &k, dir, dfd, &res.diff_id, res.tar_bytes, &kept, e)) == 0 && kept)
			by_record(out, res.tar_bytes);
		else if (r == 0)
			r = store_commit(s, blob, "blobs/sha256", &res.digest, e);
	}
	keep_abort(s, &k);
	store_discard(s, blob); /* committed, or not wanted */
	if (r < 0)
		store_discard(s, dir);
	return r;
}

/* The name an image loaded without one gets: its reference when that is a
 * full name (an OCI ref.name may be a bare tag). */
static int default_name(const struct imgfmt_image *img, char *out, size_t len)
{
	struct ubx_err ignore;
	const char *ref = img->refs && img->refs[0] ? img->refs[0] : NULL;
	if (!ref || (!strchr(ref, ':') && !strchr(ref, '/')))
		return -ENOENT;
	return store_normalize_name(ref, out, len, &ignore);
}

/* Records @img (its layers in @layers) under @name. */
static int record_image(struct store *s, struct imgfmt_image *img, struct store_layer *layers, const char *name,
			struct store_image *out, struct ubx_err *e)
{
	char norm[STORE_NAME_MAX];
	const char *use = NULL;
	int r = 0;

	*out = (struct store_image){ .id = img->config_digest, .layers = layers, .n_layers = img->n_layers };
	if (name && (r = store_normalize_name(name, norm, sizeof(norm), e)) < 0)
		return r;
	if (name || default_name(img, norm, sizeof(norm)) == 0)
		use = norm;
	if ((r = store_put_blob(s, &img->config_digest, img->config_raw, img->config_len, e)) < 0)
		return r;
	struct store_image old;
	struct ubx_err ignore;
	char hex[DIGEST_STR_LEN + 1];
	if (store_image_find(s, digest_format(&img->config_digest, hex), &old, &ignore) == 0) {
		out->names = old.names, old.names = NULL; /* keep the names it had */
		store_image_free(&old);
	}
	return store_image_put(s, out, use, e);
}

int image_load(struct store *s, const char *path, const char *ref, const char *name, bool single,
	       const struct image_progress *p, struct store_image *out, struct ubx_err *e)
{
	struct imgfmt_source *src = NULL;
	struct imgfmt_image *img = NULL;
	char spool[4200];

	snprintf(spool, sizeof(spool), "%s/tmp", s->path);
	int r = imgfmt_open(path, spool, &src, e);
	if (r == 0)
		r = imgfmt_pick(src, ref, &img, e);
	struct store_layer *layers = r == 0 ? calloc(img->n_layers + 1, sizeof(*layers)) : NULL;
	if (r == 0 && !layers)
		r = ubx_fail(e, ENOMEM, "layers");
	struct copy_tap tap = { .fd = -1, .n_layers = img ? img->n_layers : 0, .p = p };
	for (size_t i = 0; r == 0 && i < img->n_layers; i++) {
		tap.layer = i;
		r = load_layer(s, img, i, single, &tap, &layers[i], e);
	}
	if (r == 0)
		r = record_image(s, img, TAKE_PTR(layers), name, out, e);
	free(layers);
	imgfmt_image_free(img);
	imgfmt_close(src);
	return r;
}

int image_config_raw(struct store *s, const struct store_image *img, char **text, size_t *len, struct ubx_err *e)
{
	char path[128], hex[DIGEST_HEX_LEN + 1];
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest_hex(&img->id, hex));
	_cleanup_close_ int fd = openat(s->dir, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ubx_fail(e, errno, "%s/%s", s->path, path);
	char *buf = malloc(IMGFMT_JSON_MAX);
	size_t n = 0;
	ssize_t got;
	if (!buf)
		return ubx_fail(e, ENOMEM, "config");
	while (n < IMGFMT_JSON_MAX && (got = read(fd, buf + n, IMGFMT_JSON_MAX - n)) > 0)
		n += (size_t)got;
	*text = buf;
	*len = n;
	return 0;
}

int image_config(struct store *s, const struct store_image *img, struct imgfmt_config *out, struct ubx_err *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = image_config_raw(s, img, &text, &len, e);
	return r < 0 ? r : imgfmt_parse_config(text, len, "the image's config", out, e);
}

/* A one-layer image's config, as usbox writes it for an import. */
static char *import_config(const struct digest *diff_id, size_t *len)
{
	char created[40], diff[DIGEST_STR_LEN + 1], arch[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	const char *plat = imgfmt_host_platform(), *slash = strchr(plat, '/');
	snprintf(arch, sizeof(arch), "%.*s", (int)strcspn(slash ? slash + 1 : "amd64", "/"), slash ? slash + 1 : "amd64");
	char *text = NULL;
	int n = asprintf(&text,
			 "{\"created\":\"%s\",\"architecture\":\"%s\",\"os\":\"linux\","
			 "\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]},"
			 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]},"
			 "\"history\":[{\"created\":\"%s\",\"created_by\":\"usbox import\"}]}",
			 created, arch, digest_format(diff_id, diff), created);
	*len = n < 0 ? 0 : (size_t)n;
	return n < 0 ? NULL : text;
}

/* The input of an import as a readable fd: the file, standard input, or a
 * directory written as a tarball into tmp/@spool first. */
static int import_input(struct store *s, const char *path, char *spool, size_t len, struct ubx_err *e)
{
	struct stat st;
	if (strcmp(path, "-") == 0)
		return dup(STDIN_FILENO);
	if (stat(path, &st) < 0)
		return ubx_fail(e, errno, "import %s", path);
	if (!S_ISDIR(st.st_mode)) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		return fd < 0 ? ubx_fail(e, errno, "import %s", path) : fd;
	}
	_cleanup_close_ int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = dir < 0 ? ubx_fail(e, errno, "import %s", path) : store_tmp_file(s, spool, len, e);
	if (fd < 0)
		return fd;
	int r = layer_tree_write(dir, fd, NULL, NULL, e);
	if (r < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return r < 0 ? r : ubx_fail(e, errno, "import %s", path);
	}
	return fd;
}

int image_import(struct store *s, const char *path, const char *name, bool single, const struct image_progress *p,
		 struct store_image *out, struct ubx_err *e)
{
	char dir[96] = "", blob[96] = "", spool[96] = "", norm[STORE_NAME_MAX];
	struct copy_tap tap = { .fd = -1, .n_layers = 1, .p = p };
	struct store_layer *layer = calloc(1, sizeof(*layer));
	_cleanup_free_ char *config = NULL;
	size_t clen = 0;

	int r = layer ? store_normalize_name(name, norm, sizeof(norm), e) : ubx_fail(e, ENOMEM, "import");
	int in = r < 0 ? r : import_input(s, path, spool, sizeof(spool), e);
	struct layer_keep k = { .fd = -1 };
	_cleanup_close_ int dfd = -1;
	bool kept = false;
	if (in >= 0 && (r = keep_begin(s, &k, e)) == 0)
		r = extract_copying(s, in, true, single, &tap, &k, dir, &dfd, blob, sizeof(dir), e);
	if (in >= 0)
		close(in);
	else
		r = in;
	_cleanup_close_ int bfd = r < 0 ? -1 : openat(s->dir, blob, O_RDONLY | O_CLOEXEC);
	if (r == 0 && (r = digest_fd(bfd, &layer->diff_id, &layer->size, e)) == 0) {
		by_record(layer, layer->size);
		r = keep_commit(s, &k, dir, dfd, &layer->diff_id, layer->size, &kept, e);
		if (r == 0 && !kept)
			r = store_commit(s, blob, "blobs/sha256", &layer->blob, e);
	}
	keep_abort(s, &k);
	store_discard(s, blob); /* committed, or not wanted */
	if (r == 0 && !(config = import_config(&layer->diff_id, &clen)))
		r = ubx_fail(e, ENOMEM, "config");
	*out = (struct store_image){ .layers = layer, .n_layers = 1 };
	if (r == 0 && (r = digest_buf(config, clen, &out->id, e)) == 0 && (r = store_put_blob(s, &out->id, config, clen, e)) == 0)
		r = store_image_put(s, out, norm, e);
	if (r < 0) {
		store_discard(s, dir);
		store_discard(s, blob);
		store_image_free(out);
	}
	if (spool[0])
		store_discard(s, spool);
	return r;
}

/* Opens blobs/sha256/HEX of @d for reading. */
static int open_blob(struct store *s, const struct digest *d, struct ubx_err *e)
{
	char path[128], hex[DIGEST_HEX_LEN + 1];
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest_hex(d, hex));
	int fd = openat(s->dir, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? ubx_fail(e, errno, "%s/%s (the layer's blob)", s->path, path) : fd;
}

static ssize_t replay_read(void *opaque, void *buf, size_t len, struct ubx_err *e)
{
	return tarsplit_read(opaque, buf, len, e);
}

/* A layer to save: its blob as loaded, or else its tar replayed from its
 * record and the extracted files (checked against the diff_id as it goes). */
static int open_layer(struct store *s, const struct store_layer *l, struct imgfmt_blob_in *b, struct ubx_err *e)
{
	struct tarsplit_replay *rp = NULL;
	struct ubx_err none = { 0 };
	*b = (struct imgfmt_blob_in){ .digest = l->blob, .size = l->size, .media_type = l->media_type, .fd = -1 };
	b->fd = open_blob(s, &l->blob, &none);
	if (b->fd >= 0)
		return 0;
	int r = digest_eq(&l->blob, &l->diff_id) ? keep_replay(s, &l->diff_id, &rp, e) : -ENOENT;
	if (r == -ENOENT) /* neither: say which blob is missing */
		return (b->fd = open_blob(s, &l->blob, e)) < 0 ? b->fd : 0;
	b->read = replay_read;
	b->opaque = rp;
	return r;
}

int image_save(struct store *s, const struct store_image *imgs, const char *const *refs, size_t n, int out_fd,
	       const struct image_progress *p, struct ubx_err *e)
{
	const struct imgfmt_write_progress wp = { p ? p->fn : NULL, p ? p->opaque : NULL };
	struct imgfmt_image_desc *d = calloc(n, sizeof(*d));
	char **configs = calloc(n, sizeof(char *));
	int r = d && configs ? 0 : ubx_fail(e, ENOMEM, "save");
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct imgfmt_blob_in *b = calloc(imgs[i].n_layers + 1, sizeof(*b));
		d[i] = (struct imgfmt_image_desc){ .ref = refs[i], .layers = b, .n_layers = imgs[i].n_layers };
		if (!b) {
			r = ubx_fail(e, ENOMEM, "save");
			break;
		}
		for (size_t k = 0; k < imgs[i].n_layers; k++)
			b[k].fd = -1;
		r = image_config_raw(s, &imgs[i], &configs[i], &d[i].config_len, e);
		d[i].config = configs ? configs[i] : NULL;
		for (size_t k = 0; r == 0 && k < imgs[i].n_layers; k++)
			r = open_layer(s, &imgs[i].layers[k], &b[k], e);
	}
	if (r == 0)
		r = imgfmt_write_oci_archive(out_fd, d, n, &wp, e);
	for (size_t i = 0; d && i < n; i++) {
		for (size_t k = 0; d[i].layers && k < d[i].n_layers; k++) {
			if (d[i].layers[k].fd >= 0)
				close(d[i].layers[k].fd);
			tarsplit_replay_free(d[i].layers[k].opaque);
		}
		free((void *)d[i].layers);
		free(configs ? configs[i] : NULL);
	}
	free(d);
	free(configs);
	return r;
}
