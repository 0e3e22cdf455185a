/* SPDX-License-Identifier: MIT */
/*
 * format_internal.h - what the files of the image-format reader share:
 * the source's member index (format_src.c), the JSON parsers
 * (format_json.c, format_config.c), the picked image's assembly (format.c)
 * and the layer reader (format_stream.c).  Nothing outside image/format*.c
 * includes it but the unit tests and the fuzzer.
 */
#ifndef USBOX_IMAGE_FORMAT_INTERNAL_H
#define USBOX_IMAGE_FORMAT_INTERNAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "digest.h"
#include "format.h"

#define FIELD_LEN 128         /* a field's name in messages: [0].Layers[2] */
#define MAX_MEMBERS 100000    /* tar members indexed; more is not an image archive */
#define MAX_LINK_HOPS 8       /* symlinks and hard links followed inside an archive */
#define MAX_INDEX_DEPTH 4     /* nested OCI indexes followed */

/* --- format_src.c: where the bytes are ------------------------------------ */

/* One tar member: regular data at off (in the source's data_fd), or a link. */
struct member {
	char *name;      /* cleaned: no "./", no trailing '/' */
	uint64_t off, size;
	char *link;      /* hard link: the member it names; symlink: the cleaned target; else NULL */
	size_t seq;      /* order in the tar: of two with one name, the later wins */
};

/* A stretch of bytes to read with pread(): a member, or a file of a directory. */
struct blobref {
	int fd;
	bool owned;      /* fd is ours to close */
	uint64_t off, size;
};

/* One docker-archive manifest.json entry. */
struct docker_item {
	char *config;    /* member name of the config */
	char **layers;   /* member names, bottom first, NULL-terminated */
	size_t n_layers;
	char **refs;     /* RepoTags, NULL-terminated */
	char *foreign;   /* the first foreign layer LayerSources names ("DIGEST (TYPE)"), or NULL */
};

/* An OCI descriptor. */
struct oci_desc {
	char *media_type;
	struct digest digest;
	uint64_t size;
	char *ref;       /* annotations: org.opencontainers.image.ref.name, or NULL */
	char *platform;  /* "os/arch[/variant]", or NULL */
	bool has_urls;   /* a foreign (nondistributable) blob fetched from elsewhere */
};

/* An OCI (or Docker schema 2) image manifest. */
struct oci_manifest {
	char *media_type;   /* NULL when the manifest does not say */
	struct oci_desc config;
	struct oci_desc *layers;
	size_t n_layers;
};

struct imgfmt_source {
	enum imgfmt_kind kind;
	char *path;                /* for messages */
	int dir_fd;                /* a directory source, else -1 */
	int data_fd;               /* a tar source: the tar or the spool, else -1 */
	bool spooled;
	struct member *members;    /* sorted by name */
	size_t n_members;
	struct imgfmt_entry *entries;
	size_t n_entries;
	struct docker_item *docker; /* docker-archive: manifest.json, n_docker items */
	size_t n_docker;
	struct oci_desc *descs;    /* OCI: index.json's manifests, n_descs of them */
	size_t n_descs;
};

/* src_index_tar() - index the tar on @fd (spooling it to @spool_dir when it
 * is compressed or not seekable) into @s. */
int src_index_tar(struct imgfmt_source *s, int fd, const char *spool_dir, struct ubx_err *e);

/* src_find() - the bytes of member @name (links followed); -ENOENT when absent. */
int src_find(const struct imgfmt_source *s, const char *name, struct blobref *out, struct ubx_err *e);

/* blobref_release() - close the fd if owned. */
void blobref_release(struct blobref *b);

/* src_read() - all of member @name into a malloc()ed, NUL-terminated buffer, at most @max bytes. */
int src_read(const struct imgfmt_source *s, const char *name, size_t max, char **buf, size_t *len,
	     struct ubx_err *e);

/* src_read_blob() - blobs/sha256/HEX for @d, checked against @d and @size. */
int src_read_blob(const struct imgfmt_source *s, const struct digest *d, uint64_t size, char **buf,
		  size_t *len, struct ubx_err *e);

/* imgfmt_mismatch() - fail with -EBADMSG and the message alone (no strerror). */
int imgfmt_mismatch(struct ubx_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* blob_path() - "blobs/sha256/HEX" for @d. */
char *blob_path(const struct digest *d, char buf[80]);

/* pread_full() - exactly @len bytes at @off, or an error (-EIO for a short file). */
int pread_full(int fd, void *buf, size_t len, uint64_t off);

/* sniff_compression() - what the first bytes of a blob say; -1 for xz, bzip2 (not layer formats). */
int sniff_compression(const uint8_t *head, size_t len);

/* --- format_json.c, format_config.c: the JSON ---------------------------- */

/* A JSON reader's context: the file's name and where errors go. */
struct jctx {
	const char *what;
	struct ubx_err *e;
};

int jbad(const struct jctx *c, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *jfield(char out[FIELD_LEN], const char *base, const char *key, size_t index);
int jexpect(const struct jctx *c, struct json_object *o, enum json_type t, const char *field);
int jstring(const struct jctx *c, struct json_object *o, const char *field, char **out);
int jstring_opt(const struct jctx *c, struct json_object *parent, const char *key, const char *base,
		char **out);
int jstrv(const struct jctx *c, struct json_object *o, const char *field, char ***out, size_t *n);
int jkeys(const struct jctx *c, struct json_object *o, const char *field, char ***out);
int jdigest(const struct jctx *c, struct json_object *o, const char *field, struct digest *out);
int jsize(const struct jctx *c, struct json_object *o, const char *field, uint64_t *out);
size_t strv_len(char *const *v);

int imgfmt_parse_docker_manifest(const char *text, size_t len, const char *what, struct docker_item **out,
				 size_t *n, struct ubx_err *e);
void docker_items_free(struct docker_item *items, size_t n);
int imgfmt_parse_oci_layout(const char *text, size_t len, const char *what, struct ubx_err *e);
int imgfmt_parse_oci_index(const char *text, size_t len, const char *what, struct oci_desc **out, size_t *n,
			   struct ubx_err *e);
void oci_descs_free(struct oci_desc *d, size_t n);
int imgfmt_parse_oci_manifest(const char *text, size_t len, const char *what, struct oci_manifest *out,
			      struct ubx_err *e);
void oci_manifest_free(struct oci_manifest *m);

/* Media types. */
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_OCI_NONDIST "application/vnd.oci.image.layer.nondistributable.v1.tar"

/* layer_media_type() - the compression a layer type means: 0 and *comp, or
 * -1 for a foreign layer type, -2 for one that is not a layer type. */
int layer_media_type(const char *type, enum imgfmt_compression *comp);

#endif
