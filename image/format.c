/* SPDX-License-Identifier: MIT */
/*
 * format.c - image sources: telling their kind, listing their images, and
 * picking one with its manifest, config and layer descriptions checked.
 *
 * DOC: Theory of operation
 * imgfmt_open() opens the path: a directory is read file by file, anything
 * else is indexed as a tar (format_src.c).  The kind comes from what is
 * inside: manifest.json makes a docker-archive (newer docker save writes an
 * OCI layout next to it; manifest.json has the fuller names), oci-layout an
 * OCI layout or oci-archive.  The top-level JSON is read and checked there,
 * and its images listed as struct imgfmt_entry: docker-archive's
 * manifest.json entries with their RepoTags, or index.json's descriptors
 * grouped by digest with their ref.name annotations.
 *
 * imgfmt_pick() matches a reference against those lists (exactly, or with
 * Docker's shorthands: "busybox" is "docker.io/library/busybox:latest"),
 * then reads what the image needs, each blob checked against its digest and
 * size before it is parsed: an OCI index is followed to the manifest for
 * this host's platform, the manifest gives the config and layers, and the
 * config's rootfs.diff_ids must have one entry per layer.  For a
 * docker-archive, which names files instead of digests, the config is
 * checked against the digest its file name carries, and a layer.tar's
 * digest is its diff_id (it is a plain tar) or unknown until read
 * (compressed).  The layers themselves are read later, by
 * format_stream.c.
 */
#include "format_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../common/cleanup.h"

#define REF_LEN 512

static const struct {
	const char *machine, *arch;
} arch_names[] = {
	{ "x86_64", "amd64" },   { "aarch64", "arm64" }, { "i686", "386" },       { "i386", "386" },
	{ "armv7l", "arm" },     { "armv6l", "arm" },    { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
	{ "riscv64", "riscv64" }, { "mips64", "mips64" },
};

const char *imgfmt_host_platform(void)
{
	static char platform[64];
	struct utsname u;

	if (platform[0])
		return platform;
	const char *arch = "unknown";
	if (uname(&u) == 0) {
		arch = u.machine;
		for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++)
			if (strcmp(u.machine, arch_names[i].machine) == 0)
				arch = arch_names[i].arch;
	}
	snprintf(platform, sizeof(platform), "linux/%.40s", arch);
	return platform;
}

/* platform_is_host() - whether "os/arch[/variant]" is this host's (the variant aside). */
static bool platform_is_host(const char *p)
{
	const char *host = imgfmt_host_platform();
	size_t n = strlen(host);
	return strncmp(p, host, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

const char *imgfmt_kind_name(enum imgfmt_kind kind)
{
	switch (kind) {
	case IMGFMT_DOCKER_ARCHIVE: return "docker-archive";
	case IMGFMT_OCI_LAYOUT: return "oci";
	case IMGFMT_OCI_ARCHIVE: return "oci-archive";
	}
	return "unknown";
}

enum imgfmt_kind imgfmt_kind(const struct imgfmt_source *src)
{
	return src->kind;
}

const struct imgfmt_entry *imgfmt_images(const struct imgfmt_source *src, size_t *n)
{
	*n = src->n_entries;
	return src->entries;
}

void imgfmt_close(struct imgfmt_source *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_members; i++) {
		free(s->members[i].name);
		free(s->members[i].link);
	}
	free(s->members);
	for (size_t i = 0; i < s->n_entries; i++) {
		cleanup_strvp(&s->entries[i].refs);
		free(s->entries[i].platform);
	}
	free(s->entries);
	docker_items_free(s->docker, s->n_docker);
	oci_descs_free(s->descs, s->n_descs);
	if (s->dir_fd >= 0)
		(void)close(s->dir_fd);
	if (s->data_fd >= 0)
		(void)close(s->data_fd);
	free(s->path);
	free(s);
}

static void cleanup_sourcep(struct imgfmt_source **s)
{
	imgfmt_close(*s);
}

/* --- listing --------------------------------------------------------------- */

static int strv_push(char ***v, const char *s)
{
	size_t n = strv_len(*v);
	char **grown = realloc(*v, (n + 2) * sizeof(char *));

	if (!grown)
		return -ENOMEM;
	*v = grown;
	if (!(grown[n] = strdup(s)))
		return -ENOMEM;
	grown[n + 1] = NULL;
	return 0;
}

/* name_digest() - the digest a docker-archive file name carries
 * ("HEX.json", "blobs/sha256/HEX"), if any. */
static bool name_digest(const char *name, struct digest *out)
{
	char buf[DIGEST_STR_LEN + 1];
	const char *base = strncmp(name, "blobs/sha256/", 13) == 0 ? name + 13 : name;
	size_t n = strlen(base);

	if (base != name && n != DIGEST_HEX_LEN)
		return false;
	if (base == name && (n != DIGEST_HEX_LEN + 5 || strcmp(base + DIGEST_HEX_LEN, ".json") != 0))
		return false;
	snprintf(buf, sizeof(buf), "sha256:%.64s", base);
	return digest_parse(buf, out, NULL) == 0;
}

static int list_docker(struct imgfmt_source *s, struct ubx_err *e)
{
	if (!(s->entries = calloc(s->n_docker, sizeof(*s->entries))))
		return ubx_fail(e, ENOMEM, "manifest.json");
	for (size_t i = 0; i < s->n_docker; i++, s->n_entries++) {
		struct imgfmt_entry *en = &s->entries[i];
		(void)name_digest(s->docker[i].config, &en->digest);
		if (!(en->refs = calloc(1, sizeof(char *))))
			return ubx_fail(e, ENOMEM, "manifest.json");
		for (char **r = s->docker[i].refs; *r; r++)
			if (strv_push(&en->refs, *r) < 0)
				return ubx_fail(e, ENOMEM, "manifest.json");
	}
	return 0;
}

static bool is_index_type(const char *t)
{
	return t && (strcmp(t, MT_OCI_INDEX) == 0 || strcmp(t, MT_DOCKER_LIST) == 0);
}

/* list_oci() - index.json's descriptors, those of one digest as one image. */
static int list_oci(struct imgfmt_source *s, struct ubx_err *e)
{
	if (!(s->entries = calloc(s->n_descs ? s->n_descs : 1, sizeof(*s->entries))))
		return ubx_fail(e, ENOMEM, "index.json");
	for (size_t i = 0; i < s->n_descs; i++) {
		const struct oci_desc *d = &s->descs[i];
		struct imgfmt_entry *en = NULL;
		for (size_t j = 0; j < s->n_entries && !en; j++)
			if (digest_eq(&s->entries[j].digest, &d->digest))
				en = &s->entries[j];
		if (!en) {
			en = &s->entries[s->n_entries++];
			en->digest = d->digest;
			en->is_index = is_index_type(d->media_type);
			if (!(en->refs = calloc(1, sizeof(char *))) ||
			    (d->platform && !(en->platform = strdup(d->platform))))
				return ubx_fail(e, ENOMEM, "index.json");
		}
		if (d->ref && strv_push(&en->refs, d->ref) < 0)
			return ubx_fail(e, ENOMEM, "index.json");
	}
	return 0;
}

/* has_member() - whether @name is there (a directory's file, a tar's
 * member): 1, 0, or a negative errno when that cannot be told. */
static int has_member(const struct imgfmt_source *s, const char *name, struct ubx_err *e)
{
	struct blobref b;
	int r = src_find(s, name, &b, e);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	blobref_release(&b);
	return 1;
}

static int load_docker(struct imgfmt_source *s, struct ubx_err *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	s->kind = IMGFMT_DOCKER_ARCHIVE;
	if ((r = src_read(s, "manifest.json", IMGFMT_JSON_MAX, &text, &len, e)) < 0 ||
	    (r = imgfmt_parse_docker_manifest(text, len, "manifest.json", &s->docker, &s->n_docker, e)) < 0)
		return r;
	return list_docker(s, e);
}

static int load_oci(struct imgfmt_source *s, struct ubx_err *e)
{
	_cleanup_free_ char *layout = NULL, *index = NULL;
	size_t len;
	int r;

	s->kind = s->dir_fd >= 0 ? IMGFMT_OCI_LAYOUT : IMGFMT_OCI_ARCHIVE;
	if ((r = src_read(s, "oci-layout", IMGFMT_JSON_MAX, &layout, &len, e)) < 0 ||
	    (r = imgfmt_parse_oci_layout(layout, len, "oci-layout", e)) < 0 ||
	    (r = src_read(s, "index.json", IMGFMT_JSON_MAX, &index, &len, e)) < 0 ||
	    (r = imgfmt_parse_oci_index(index, len, "index.json", &s->descs, &s->n_descs, e)) < 0)
		return r;
	if (s->n_descs == 0)
		return ubx_fail(e, 0, "index.json: lists no image");
	return list_oci(s, e);
}

/* open_path() - the directory, or the tar indexed. */
static int open_path(struct imgfmt_source *s, const char *path, const char *spool_dir, struct ubx_err *e)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (strcmp(path, "-") == 0)
		return src_index_tar(s, STDIN_FILENO, spool_dir, e);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return ubx_fail(e, errno, "%s", path);
	if (fstat(fd, &st) < 0)
		return ubx_fail(e, errno, "%s", path);
	if (S_ISDIR(st.st_mode)) {
		s->dir_fd = TAKE_FD(fd);
		return 0;
	}
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
		return ubx_fail(e, 0, "%s: neither a file nor a directory", path);
	return src_index_tar(s, fd, spool_dir, e);
}

int imgfmt_open(const char *path, const char *spool_dir, struct imgfmt_source **out, struct ubx_err *e)
{
	__attribute__((cleanup(cleanup_sourcep))) struct imgfmt_source *s = NULL;
	int r;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path)))
		return ubx_fail(e, ENOMEM, "%s", path);
	s->dir_fd = s->data_fd = -1;
	if ((r = open_path(s, path, spool_dir, e)) < 0)
		return r;
	if ((r = has_member(s, "manifest.json", e)) > 0)
		r = load_docker(s, e);
	else if (r == 0 && (r = has_member(s, "oci-layout", e)) > 0)
		r = load_oci(s, e);
	else if (r == 0)
		return ubx_fail(e, 0, "%s: holds neither manifest.json nor oci-layout: not an image archive or "
				      "layout (a root file system? that is `usbox import`)", path);
	if (r < 0)
		return ubx_wrap(e, "%s", path);
	*out = TAKE_PTR(s);
	return 0;
}

/* --- matching a reference ---------------------------------------------------- */

/* ref_norm() - Docker's shorthands spelt out the same way for both sides:
 * no docker.io/, library/ or localhost/ in front, ":latest" when no tag. */
static const char *ref_norm(const char *in, char out[REF_LEN])
{
	static const char *const prefixes[] = { "docker.io/", "index.docker.io/", "localhost/" };
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(in, prefixes[i], strlen(prefixes[i])) == 0)
			in += strlen(prefixes[i]);
	if (strncmp(in, "library/", 8) == 0)
		in += 8;
	const char *last = strrchr(in, '/');
	last = last ? last + 1 : in;
	bool tagged = strchr(last, ':') || strchr(last, '@');
	snprintf(out, REF_LEN, "%s%s", in, tagged ? "" : ":latest");
	return out;
}

static bool entry_matches(const struct imgfmt_entry *en, const char *ref)
{
	char a[REF_LEN], b[REF_LEN], d[DIGEST_STR_LEN + 1];

	if (strncmp(ref, "sha256:", 7) == 0)
		return strcmp(ref, digest_format(&en->digest, d)) == 0;
	for (char **r = en->refs; *r; r++)
		if (strcmp(*r, ref) == 0 || strcmp(ref_norm(*r, a), ref_norm(ref, b)) == 0)
			return true;
	return false;
}

/* list_refs() - "a:1, b:2, sha256:0123456789ab (untagged)" for messages. */
static const char *list_refs(const struct imgfmt_source *s, char *buf, size_t len)
{
	char hex[DIGEST_HEX_LEN + 1];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n_entries && o + 4 < len; i++) {
		const struct imgfmt_entry *en = &s->entries[i];
		int n = 0;
		if (!en->refs[0])
			n = snprintf(buf + o, len - o, "%ssha256:%.12s (untagged)", o ? ", " : "",
				     digest_hex(&en->digest, hex));
		for (char **r = en->refs; *r && o + (size_t)n + 4 < len; r++)
			n += snprintf(buf + o + n, len - o - (size_t)n, "%s%s", o + (size_t)n ? ", " : "", *r);
		o = o + (size_t)n < len ? o + (size_t)n : len - 1;
	}
	if (o + 4 >= len)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

static bool same_refs(char *const *a, char *const *b)
{
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return !*a && !*b;
}

/* choose() - the entry @ref names, or the only one.  Several that match
 * (one reference, or none given and all with the same references) are one
 * image for several platforms: the one for this host's is taken. */
static int choose(const struct imgfmt_source *s, const char *ref, size_t *out, struct ubx_err *e)
{
	size_t n = 0, host = 0, n_host = 0;
	bool one_name = true;
	char list[300];

	for (size_t i = 0; i < s->n_entries; i++) {
		if (ref && !entry_matches(&s->entries[i], ref))
			continue;
		if (n++ == 0)
			*out = i;
		one_name = one_name && same_refs(s->entries[i].refs, s->entries[*out].refs);
		if (s->entries[i].platform && platform_is_host(s->entries[i].platform) && n_host++ == 0)
			host = i;
	}
	if (n == 1)
		return 0;
	if (n == 0) {
		(void)ubx_fail(e, 0, "no image '%.100s' here; there are: %s", ref, list_refs(s, list, sizeof(list)));
		return -ENOENT;
	}
	if (!ref && !one_name)
		return ubx_fail(e, 0, "%zu images here; name one (PATH:REF): %s", n, list_refs(s, list, sizeof(list)));
	if (n_host == 1) {
		*out = host;
		return 0;
	}
	return ubx_fail(e, 0, "'%.100s' names %zu images, none alone for %s", ref ? ref : "", n,
			imgfmt_host_platform());
}

/* --- reading one image ------------------------------------------------------- */

void imgfmt_image_free(struct imgfmt_image *img)
{
	if (!img)
		return;
	cleanup_strvp(&img->refs);
	free(img->manifest);
	free(img->manifest_media_type);
	free(img->config_raw);
	free(img->config_media_type);
	imgfmt_config_free(&img->config);
	for (size_t i = 0; i < img->n_layers; i++) {
		free(img->layers[i].media_type);
		free(img->layers[i].path);
	}
	free(img->layers);
	free(img);
}

static void cleanup_imagep(struct imgfmt_image **img)
{
	imgfmt_image_free(*img);
}

/* check_platform() - the config's os/arch must be this host's, unless the
 * image is the only one there (then it is taken, and flagged). */
static int check_platform(struct imgfmt_image *img, bool only, const char *what, struct ubx_err *e)
{
	char p[128];

	snprintf(p, sizeof(p), "%.40s/%.40s", img->config.os, img->config.architecture);
	if (platform_is_host(p))
		return 0;
	if (!only)
		return ubx_fail(e, 0, "%s: an image for %s, not this host's %s", what, p, imgfmt_host_platform());
	img->foreign_platform = true;
	return 0;
}

static int check_layer_count(const struct imgfmt_image *img, const char *what, struct ubx_err *e)
{
	if (img->n_layers == img->config.n_diff_ids)
		return 0;
	return ubx_fail(e, 0, "%s: %zu layers, but the config's rootfs.diff_ids lists %zu", what, img->n_layers,
			img->config.n_diff_ids);
}

static int alloc_layers(struct imgfmt_image *img, size_t n, struct ubx_err *e)
{
	if (!(img->layers = calloc(n ? n : 1, sizeof(*img->layers))))
		return ubx_fail(e, ENOMEM, "layers");
	img->n_layers = n;
	return 0;
}

/* docker_layer() - describe layer @i of a docker-archive from its file. */
static int docker_layer(const struct imgfmt_source *s, const char *name, struct imgfmt_layer_desc *l,
			struct ubx_err *e)
{
	static const char *const types[] = { [IMGFMT_PLAIN] = MT_OCI_LAYER, [IMGFMT_GZIP] = MT_OCI_LAYER_GZIP,
					     [IMGFMT_ZSTD] = MT_OCI_LAYER_ZSTD };
	uint8_t head[8] = { 0 };
	struct blobref b;
	int r, comp;

	if ((r = src_find(s, name, &b, e)) < 0)
		return r;
	r = pread_full(b.fd, head, b.size < sizeof(head) ? b.size : sizeof(head), b.off);
	l->size = b.size;
	blobref_release(&b);
	if (r < 0)
		return ubx_fail(e, -r, "%s", name);
	if ((comp = sniff_compression(head, sizeof(head))) < 0)
		return ubx_fail(e, 0, "%s: xz or bzip2 compressed; a layer is a tar, plain, gzip or zstd", name);
	l->compression = (enum imgfmt_compression)comp;
	if (!(l->media_type = strdup(types[comp])) || !(l->path = strdup(name)))
		return ubx_fail(e, ENOMEM, "%s", name);
	if (name_digest(name, &l->digest) && strncmp(name, "blobs/", 6) == 0)
		l->digest_known = true;
	else if (comp == IMGFMT_PLAIN) {
		l->digest = l->diff_id; /* a plain tar's digest is its diff_id */
		l->digest_known = true;
	}
	return 0;
}

static int pick_docker(struct imgfmt_source *s, size_t idx, struct imgfmt_image *img, struct ubx_err *e)
{
	const struct docker_item *it = &s->docker[idx];
	struct digest named;
	char field[FIELD_LEN];
	int r;

	if (it->foreign)
		return ubx_fail(e, 0, "manifest.json: [%zu].LayerSources: foreign layer %s is not in the archive "
				      "(usbox does not fetch layers)", idx, it->foreign);
	if ((r = src_read(s, it->config, IMGFMT_JSON_MAX, &img->config_raw, &img->config_len, e)) < 0 ||
	    (r = digest_buf(img->config_raw, img->config_len, &img->config_digest, e)) < 0)
		return r;
	if (name_digest(it->config, &named) && !digest_eq(&named, &img->config_digest))
		return imgfmt_mismatch(e, "%s: content does not match the digest in its name", it->config);
	if ((r = imgfmt_parse_config(img->config_raw, img->config_len, it->config, &img->config, e)) < 0)
		return r;
	if (!(img->config_media_type = strdup(MT_DOCKER_CONFIG)))
		return ubx_fail(e, ENOMEM, "%s", it->config);
	if ((r = alloc_layers(img, it->n_layers, e)) < 0)
		return r;
	snprintf(field, sizeof(field), "manifest.json: [%zu].Layers", idx);
	if ((r = check_layer_count(img, field, e)) < 0)
		return r;
	for (size_t i = 0; i < it->n_layers; i++) {
		img->layers[i].diff_id = img->config.diff_ids[i];
		if ((r = docker_layer(s, it->layers[i], &img->layers[i], e)) < 0)
			return r;
	}
	return check_platform(img, s->n_entries == 1, it->config, e);
}

/* oci_layer() - check one manifest layer and describe it. */
static int oci_layer(const struct imgfmt_source *s, const struct oci_desc *d, size_t i, const char *what,
		     struct imgfmt_layer_desc *l, struct ubx_err *e)
{
	char path[80];
	struct blobref b;
	int r, kind = d->media_type ? layer_media_type(d->media_type, &l->compression) : -2;

	if (kind == -1 || d->has_urls)
		return ubx_fail(e, 0, "%s: layers[%zu]: a foreign layer (%.100s) that is not in the archive "
				      "(usbox does not fetch layers)", what, i, d->media_type);
	if (kind < 0)
		return ubx_fail(e, 0, "%s: layers[%zu]: media type '%.100s' is not a layer type usbox reads", what,
				i, d->media_type ? d->media_type : "");
	l->digest = d->digest;
	l->digest_known = true;
	l->size = d->size;
	if (!(l->media_type = strdup(d->media_type)) || !(l->path = strdup(blob_path(&d->digest, path))))
		return ubx_fail(e, ENOMEM, "%s", what);
	if ((r = src_find(s, path, &b, e)) < 0)
		return r;
	uint64_t size = b.size;
	blobref_release(&b);
	if (size != d->size)
		return imgfmt_mismatch(e, "%s: %llu bytes, but %s layers[%zu] says %llu", path,
				       (unsigned long long)size, what, i, (unsigned long long)d->size);
	return 0;
}

static bool is_config_type(const char *t)
{
	return t && (strcmp(t, MT_OCI_CONFIG) == 0 || strcmp(t, MT_DOCKER_CONFIG) == 0);
}

/* oci_manifest() - read, check and parse the manifest @d names, its config and layers. */
static int oci_manifest(struct imgfmt_source *s, const struct oci_desc *d, bool only, struct imgfmt_image *img,
			struct ubx_err *e)
{
	__attribute__((cleanup(oci_manifest_free))) struct oci_manifest m = { 0 };
	char what[80], cpath[80];
	int r;

	blob_path(&d->digest, what);
	if ((r = src_read_blob(s, &d->digest, d->size, &img->manifest, &img->manifest_len, e)) < 0 ||
	    (r = imgfmt_parse_oci_manifest(img->manifest, img->manifest_len, what, &m, e)) < 0)
		return r;
	img->manifest_digest = d->digest;
	if (m.media_type && d->media_type && strcmp(m.media_type, d->media_type) != 0)
		return ubx_fail(e, 0, "%s: mediaType '%.80s', but its descriptor says '%.80s'", what, m.media_type,
				d->media_type);
	if (!(img->manifest_media_type = strdup(d->media_type ? d->media_type : MT_OCI_MANIFEST)))
		return ubx_fail(e, ENOMEM, "%s", what);
	if (!is_config_type(m.config.media_type))
		return ubx_fail(e, 0, "%s: config.mediaType '%.100s': not a container image", what,
				m.config.media_type ? m.config.media_type : "");
	if (!(img->config_media_type = strdup(m.config.media_type)))
		return ubx_fail(e, ENOMEM, "%s", what);
	if ((r = src_read_blob(s, &m.config.digest, m.config.size, &img->config_raw, &img->config_len, e)) < 0 ||
	    (r = imgfmt_parse_config(img->config_raw, img->config_len, blob_path(&m.config.digest, cpath),
				     &img->config, e)) < 0)
		return r;
	img->config_digest = m.config.digest;
	if ((r = alloc_layers(img, m.n_layers, e)) < 0 || (r = check_layer_count(img, what, e)) < 0)
		return r;
	for (size_t i = 0; i < m.n_layers; i++) {
		img->layers[i].diff_id = img->config.diff_ids[i];
		if ((r = oci_layer(s, &m.layers[i], i, what, &img->layers[i], e)) < 0)
			return r;
	}
	return check_platform(img, only, what, e);
}

/* index_choose() - the manifest of a nested index for this host. */
static int index_choose(const struct oci_desc *d, size_t n, const char *what, bool *only, size_t *out,
			struct ubx_err *e)
{
	size_t real = 0, host = 0, n_host = 0;
	char list[200] = "";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p = d[i].platform ? d[i].platform : "unknown";
		if (strncmp(p, "unknown/", 8) == 0)
			continue; /* attestations and the like */
		if (real++ == 0)
			*out = i;
		if (platform_is_host(p) && n_host++ == 0)
			host = i;
		if (o + 2 < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", p);
	}
	*only = real == 1;
	if (n_host >= 1)
		*out = host;
	if (n_host >= 1 || real == 1)
		return 0;
	if (real == 0)
		return ubx_fail(e, 0, "%s: lists no image", what);
	return ubx_fail(e, 0, "%s: no image for %s (there are: %s)", what, imgfmt_host_platform(), list);
}

/* pick_oci() - follow @d (an index or a manifest) to an image, at most
 * MAX_INDEX_DEPTH indexes deep. */
static int pick_oci(struct imgfmt_source *s, const struct oci_desc *d, bool only, int depth,
		    struct imgfmt_image *img, struct ubx_err *e)
{
	_cleanup_free_ char *text = NULL;
	struct oci_desc *list = NULL;
	char what[80];
	size_t len, n, i = 0;
	int r;

	if (!is_index_type(d->media_type))
		return oci_manifest(s, d, only, img, e);
	blob_path(&d->digest, what);
	if (depth >= MAX_INDEX_DEPTH)
		return ubx_fail(e, 0, "%s: indexes nested more than %d deep", what, MAX_INDEX_DEPTH);
	if ((r = src_read_blob(s, &d->digest, d->size, &text, &len, e)) < 0 ||
	    (r = imgfmt_parse_oci_index(text, len, what, &list, &n, e)) < 0)
		return r;
	bool one = false;
	if ((r = index_choose(list, n, what, &one, &i, e)) == 0)
		r = pick_oci(s, &list[i], only && one, depth + 1, img, e);
	oci_descs_free(list, n);
	return r;
}

/* first_desc() - index.json's first descriptor of the entry's digest. */
static const struct oci_desc *first_desc(const struct imgfmt_source *s, const struct imgfmt_entry *en)
{
	for (size_t i = 0; i < s->n_descs; i++)
		if (digest_eq(&s->descs[i].digest, &en->digest))
			return &s->descs[i];
	return NULL;
}

int imgfmt_pick(struct imgfmt_source *src, const char *ref, struct imgfmt_image **out, struct ubx_err *e)
{
	__attribute__((cleanup(cleanup_imagep))) struct imgfmt_image *img = NULL;
	size_t idx = 0;
	int r;

	*out = NULL;
	if ((r = choose(src, ref, &idx, e)) < 0)
		return r;
	if (!(img = calloc(1, sizeof(*img))) || !(img->refs = calloc(1, sizeof(char *))))
		return ubx_fail(e, ENOMEM, "image");
	img->kind = src->kind;
	img->src = src;
	for (char **p = src->entries[idx].refs; *p; p++)
		if (strv_push(&img->refs, *p) < 0)
			return ubx_fail(e, ENOMEM, "image");
	if (src->kind == IMGFMT_DOCKER_ARCHIVE)
		r = pick_docker(src, idx, img, e);
	else
		r = pick_oci(src, first_desc(src, &src->entries[idx]), src->n_entries == 1, 0, img, e);
	if (r < 0)
		return r;
	*out = TAKE_PTR(img);
	return 0;
}
