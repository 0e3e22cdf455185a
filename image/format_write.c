/* SPDX-License-Identifier: MIT */
/*
 * format_write.c - images written as an oci-archive (usbox save).
 *
 * DOC: Theory of operation
 * All the JSON is made first, from what the caller gives: per image an OCI
 * manifest (the config's digest is computed, the layers' are given) and one
 * index.json listing the manifests with their ref.name annotation and the
 * platform the config states.  json-c writes objects in the order their
 * members were added, so the text is fixed.  Then one tar, with libarchive's
 * writer (restricted pax: plain ustar headers unless a size needs more):
 * oci-layout, index.json, blobs/, blobs/sha256/, and per image its manifest,
 * config and layers, each blob once.  Every entry has owner 0:0, mode 0644
 * (0755 for directories) and mtime 0, and the tar is not padded to a
 * block, so the same input gives the same bytes, to a file or a pipe.  A
 * layer is copied from its fd and hashed on the way; one that ends early,
 * goes on past its size, or hashes to another digest fails the whole write.
 */
#include "format_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "libarchive.h"

#define COPY_CHUNK (1 << 20)

/* One image's JSON, made before anything is written. */
struct planned {
	struct digest config_digest, manifest_digest;
	char *manifest;
	size_t manifest_len;
	char *platform_os, *platform_arch, *platform_variant;
};

struct writer {
	struct archive *a;
	struct archive_entry *ent;
	struct digest *written; /* blobs already in the tar */
	size_t n_written;
	char *buf;
	struct ubx_err *e;
	const struct imgfmt_write_progress *progress; /* or NULL */
	uint64_t bytes;         /* layer bytes copied so far */
	size_t layer, n_layers; /* the layer at work, of the distinct ones */
};

static void tell(const struct writer *w)
{
	if (w->progress && w->progress->fn)
		w->progress->fn(w->progress->opaque, w->bytes, w->layer, w->n_layers);
}

/* json_text() - @o serialised into a malloc()ed copy. */
static int json_text(struct json_object *o, char **out, size_t *len, struct ubx_err *e)
{
	size_t n = 0;
	const char *s = jsonc.json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);

	if (!s || !(*out = malloc(n + 1)))
		return ubx_fail(e, ENOMEM, "writing JSON");
	memcpy(*out, s, n + 1);
	*len = n;
	return 0;
}

static int add_string(struct json_object *o, const char *key, const char *value)
{
	struct json_object *v = jsonc.json_object_new_string(value);
	return v ? jsonc.json_object_object_add(o, key, v) : -1;
}

/* new_desc() - {mediaType, digest, size}. */
static struct json_object *new_desc(const char *type, const struct digest *d, uint64_t size)
{
	char s[DIGEST_STR_LEN + 1];
	struct json_object *o = jsonc.json_object_new_object(), *n = jsonc.json_object_new_int64((int64_t)size);

	if (!o || !n || add_string(o, "mediaType", type) < 0 || add_string(o, "digest", digest_format(d, s)) < 0 ||
	    jsonc.json_object_object_add(o, "size", n) < 0) {
		if (o)
			jsonc.json_object_put(o);
		return NULL;
	}
	return o;
}

/* oci_layer_type() - the OCI name of a layer media type (Docker's mapped). */
static const char *oci_layer_type(const char *type)
{
	enum imgfmt_compression c;
	static const char *const names[] = { [IMGFMT_PLAIN] = MT_OCI_LAYER, [IMGFMT_GZIP] = MT_OCI_LAYER_GZIP,
					     [IMGFMT_ZSTD] = MT_OCI_LAYER_ZSTD };
	return type && layer_media_type(type, &c) == 0 ? names[c] : NULL;
}

static int make_manifest(const struct imgfmt_image_desc *img, size_t idx, struct planned *p, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *m = jsonc.json_object_new_object();
	struct json_object *layers = jsonc.json_object_new_array(), *cfg, *ver = jsonc.json_object_new_int64(2);

	if (!m || !layers || !ver || jsonc.json_object_object_add(m, "schemaVersion", ver) < 0 ||
	    add_string(m, "mediaType", MT_OCI_MANIFEST) < 0 ||
	    !(cfg = new_desc(MT_OCI_CONFIG, &p->config_digest, img->config_len)) ||
	    jsonc.json_object_object_add(m, "config", cfg) < 0 || jsonc.json_object_object_add(m, "layers", layers) < 0)
		return ubx_fail(e, ENOMEM, "image %zu: manifest", idx);
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct imgfmt_blob_in *l = &img->layers[i];
		const char *type = oci_layer_type(l->media_type);
		struct json_object *d;
		if (!type)
			return ubx_fail(e, 0, "image %zu: layer %zu: media type '%.100s' is not a layer type", idx, i,
					l->media_type ? l->media_type : "");
		if (!(d = new_desc(type, &l->digest, l->size)) || jsonc.json_object_array_add(layers, d) < 0)
			return ubx_fail(e, ENOMEM, "image %zu: manifest", idx);
	}
	int r = json_text(m, &p->manifest, &p->manifest_len, e);
	return r < 0 ? r : digest_buf(p->manifest, p->manifest_len, &p->manifest_digest, e);
}

/* plan() - the config checked and hashed, the manifest made. */
static int plan(const struct imgfmt_image_desc *img, size_t idx, struct planned *p, struct ubx_err *e)
{
	struct imgfmt_config c;
	char what[48];
	int r;

	snprintf(what, sizeof(what), "image %zu: config", idx);
	if ((r = imgfmt_parse_config(img->config, img->config_len, what, &c, e)) < 0)
		return r;
	p->platform_os = TAKE_PTR(c.os);
	p->platform_arch = TAKE_PTR(c.architecture);
	p->platform_variant = TAKE_PTR(c.variant);
	if (c.n_diff_ids != img->n_layers)
		r = ubx_fail(e, 0, "%s: rootfs.diff_ids lists %zu layers, not %zu", what, c.n_diff_ids, img->n_layers);
	imgfmt_config_free(&c);
	if (r < 0 || (r = digest_buf(img->config, img->config_len, &p->config_digest, e)) < 0)
		return r;
	return make_manifest(img, idx, p, e);
}

static struct json_object *index_entry(const struct imgfmt_image_desc *img, const struct planned *p)
{
	struct json_object *d = new_desc(MT_OCI_MANIFEST, &p->manifest_digest, p->manifest_len);
	struct json_object *plat = jsonc.json_object_new_object(), *ann = NULL;

	if (!d || !plat || add_string(plat, "architecture", p->platform_arch) < 0 ||
	    add_string(plat, "os", p->platform_os) < 0 ||
	    (p->platform_variant && add_string(plat, "variant", p->platform_variant) < 0))
		goto fail;
	if (jsonc.json_object_object_add(d, "platform", plat) < 0)
		goto fail;
	plat = NULL;
	if (img->ref && (!(ann = jsonc.json_object_new_object()) ||
			 add_string(ann, "org.opencontainers.image.ref.name", img->ref) < 0 ||
			 jsonc.json_object_object_add(d, "annotations", ann) < 0))
		goto fail;
	return d;
fail:
	if (plat)
		jsonc.json_object_put(plat);
	if (d)
		jsonc.json_object_put(d);
	return NULL;
}

static int make_index(const struct imgfmt_image_desc *images, const struct planned *p, size_t n, char **out,
		      size_t *len, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *idx = jsonc.json_object_new_object();
	struct json_object *list = jsonc.json_object_new_array(), *ver = jsonc.json_object_new_int64(2);

	if (!idx || !list || !ver || jsonc.json_object_object_add(idx, "schemaVersion", ver) < 0 ||
	    add_string(idx, "mediaType", MT_OCI_INDEX) < 0 || jsonc.json_object_object_add(idx, "manifests", list) < 0)
		return ubx_fail(e, ENOMEM, "index.json");
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = index_entry(&images[i], &p[i]);
		if (!d || jsonc.json_object_array_add(list, d) < 0)
			return ubx_fail(e, ENOMEM, "index.json");
	}
	return json_text(idx, out, len, e);
}

/* --- the tar ----------------------------------------------------------------- */

static int header(struct writer *w, const char *name, bool dir, uint64_t size)
{
	larc.archive_entry_clear(w->ent);
	larc.archive_entry_set_pathname(w->ent, name);
	larc.archive_entry_set_filetype(w->ent, dir ? AE_IFDIR : AE_IFREG);
	larc.archive_entry_set_perm(w->ent, dir ? 0755 : 0644);
	larc.archive_entry_set_size(w->ent, (la_int64_t)size);
	larc.archive_entry_set_mtime(w->ent, 0, 0);
	larc.archive_entry_set_uid(w->ent, 0);
	larc.archive_entry_set_gid(w->ent, 0);
	if (larc.archive_write_header(w->a, w->ent) != ARCHIVE_OK)
		return ubx_fail(w->e, 0, "%s: %s", name, larc.archive_error_string(w->a));
	return 0;
}

static int data(struct writer *w, const char *name, const void *buf, size_t len)
{
	if (len && larc.archive_write_data(w->a, buf, len) != (la_ssize_t)len)
		return ubx_fail(w->e, 0, "%s: %s", name, larc.archive_error_string(w->a));
	return 0;
}

static int put_file(struct writer *w, const char *name, const char *buf, size_t len)
{
	int r = header(w, name, false, len);
	return r < 0 ? r : data(w, name, buf, len);
}

/* seen() - whether the blob @d is written already; if not, it is now. */
static bool seen(struct writer *w, const struct digest *d)
{
	for (size_t i = 0; i < w->n_written; i++)
		if (digest_eq(&w->written[i], d))
			return true;
	w->written[w->n_written++] = *d;
	return false;
}

static int put_blob(struct writer *w, const struct digest *d, const char *buf, size_t len)
{
	char path[80];
	return seen(w, d) ? 0 : put_file(w, blob_path(d, path), buf, len);
}

/* copy_layer() - exactly l->size bytes from l->fd into the tar, hashed. */
static int copy_layer(struct writer *w, const struct imgfmt_blob_in *l, const char *path)
{
	_cleanup_digest_ struct digest_ctx *h = NULL;
	char got_s[DIGEST_STR_LEN + 1];
	struct digest got;
	uint64_t done = 0;
	int r;

	if ((!l->read && (r = digest_init(&h, w->e)) < 0) || (r = header(w, path, false, l->size)) < 0)
		return r;
	for (;;) {
		size_t want = l->size - done < COPY_CHUNK ? (size_t)(l->size - done) : COPY_CHUNK;
		ssize_t n = l->read ? l->read(l->opaque, w->buf, want ? want : 1, w->e)
				    : read(l->fd, w->buf, want ? want : 1);
		if (n < 0 && l->read)
			return (int)n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ubx_fail(w->e, errno, "%s", path);
		if (n == 0 && done < l->size)
			return imgfmt_mismatch(w->e, "%s: ends after %llu of its %llu bytes", path,
					       (unsigned long long)done, (unsigned long long)l->size);
		if (n == 0)
			break;
		if (!want)
			return imgfmt_mismatch(w->e, "%s: longer than its %llu bytes", path, (unsigned long long)l->size);
		if ((h && (r = digest_update(h, w->buf, (size_t)n, w->e)) < 0) || (r = data(w, path, w->buf, (size_t)n)) < 0)
			return r;
		done += (uint64_t)n;
		w->bytes += (uint64_t)n;
		tell(w);
	}
	if (!h)
		return 0; /* l->read checked it */
	if ((r = digest_final(h, &got, w->e)) < 0)
		return r;
	if (!digest_eq(&got, &l->digest))
		return imgfmt_mismatch(w->e, "%s: content does not match its digest (it hashes to %s)", path,
				       digest_format(&got, got_s));
	return 0;
}

static int put_image(struct writer *w, const struct imgfmt_image_desc *img, const struct planned *p)
{
	char path[80];
	int r;

	if ((r = put_blob(w, &p->manifest_digest, p->manifest, p->manifest_len)) < 0 ||
	    (r = put_blob(w, &p->config_digest, img->config, img->config_len)) < 0)
		return r;
	for (size_t i = 0; i < img->n_layers; i++) {
		if (seen(w, &img->layers[i].digest))
			continue;
		if ((r = copy_layer(w, &img->layers[i], blob_path(&img->layers[i].digest, path))) < 0)
			return r;
		if (w->layer + 1 < w->n_layers)
			w->layer++;
	}
	return 0;
}

/* How many distinct layer blobs @images have. */
static size_t distinct_layers(const struct imgfmt_image_desc *images, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < images[i].n_layers; k++) {
			bool again = false;
			for (size_t j = 0; j <= i && !again; j++)
				for (size_t m = 0; m < (j == i ? k : images[j].n_layers) && !again; m++)
					again = digest_eq(&images[j].layers[m].digest, &images[i].layers[k].digest);
			count += !again;
		}
	return count;
}

static int write_tar(struct writer *w, int out_fd, const struct imgfmt_image_desc *images,
		     const struct planned *p, size_t n, const char *index, size_t index_len)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int r;

	if (larc.archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    larc.archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
	    larc.archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    larc.archive_write_open_fd(w->a, out_fd) != ARCHIVE_OK)
		return ubx_fail(w->e, 0, "oci-archive: %s", larc.archive_error_string(w->a));
	if ((r = put_file(w, "oci-layout", layout, sizeof(layout) - 1)) < 0 ||
	    (r = put_file(w, "index.json", index, index_len)) < 0 || (r = header(w, "blobs/", true, 0)) < 0 ||
	    (r = header(w, "blobs/sha256/", true, 0)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = put_image(w, &images[i], &p[i])) < 0)
			return r;
	if (larc.archive_write_close(w->a) != ARCHIVE_OK)
		return ubx_fail(w->e, 0, "oci-archive: %s", larc.archive_error_string(w->a));
	return 0;
}

static void planned_free(struct planned *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].manifest);
		free(p[i].platform_os);
		free(p[i].platform_arch);
		free(p[i].platform_variant);
	}
	free(p);
}

int imgfmt_write_oci_archive(int out_fd, const struct imgfmt_image_desc *images, size_t n,
			     const struct imgfmt_write_progress *progress, struct ubx_err *e)
{
	_cleanup_free_ char *index = NULL;
	struct planned *p = NULL;
	struct writer w = { .e = e, .progress = progress, .n_layers = distinct_layers(images, n) };
	size_t index_len = 0, blobs = 0;
	int r;

	if (n == 0)
		return ubx_fail(e, 0, "oci-archive: no image to write");
	if ((r = jsonc_load("oci-archive", e)) < 0 || (r = larc_load("oci-archive", e)) < 0)
		return r;
	if (!(p = calloc(n, sizeof(*p))))
		return ubx_fail(e, ENOMEM, "oci-archive");
	for (size_t i = 0; i < n && r == 0; i++) {
		r = plan(&images[i], i, &p[i], e);
		blobs += 2 + images[i].n_layers;
	}
	if (r == 0)
		r = make_index(images, p, n, &index, &index_len, e);
	if (r == 0 && (!(w.written = calloc(blobs, sizeof(*w.written))) || !(w.buf = malloc(COPY_CHUNK)) ||
		       !(w.a = larc.archive_write_new()) || !(w.ent = larc.archive_entry_new())))
		r = ubx_fail(e, ENOMEM, "oci-archive");
	if (r == 0)
		r = write_tar(&w, out_fd, images, p, n, index, index_len);
	if (r == 0)
		tell(&w);
	if (w.ent)
		larc.archive_entry_free(w.ent);
	if (w.a)
		larc.archive_write_free(w.a);
	free(w.written);
	free(w.buf);
	planned_free(p, n);
	return r;
}
