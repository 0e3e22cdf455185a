/* SPDX-License-Identifier: MIT */
/*
 * format.h - image archives: docker-archive, OCI image layouts and
 * oci-archives read (every blob verified), and oci-archives written.
 *
 * DOC: Theory of operation
 * Reading is three steps, none of which writes anything but a spool file:
 *
 *  1. imgfmt_open() looks at a path's content: a directory with
 *     `manifest.json` is an unpacked docker-archive (looked for first: newer
 *     docker save writes an OCI layout beside it), one with `oci-layout` an
 *     OCI image layout; a file (or `-`, standard input) must be a tar, plain or
 *     gzip/xz/zstd/bzip2-compressed, holding either.  A tar's members are
 *     indexed once (name -> offset, size).  A plain tar in a regular file is
 *     read in place with pread(); anything else (compressed, a pipe) is
 *     spooled once, member data only, to an unnamed file in the directory the
 *     caller names.  The top-level file (manifest.json, or oci-layout and
 *     index.json) is read and checked here.
 *  2. imgfmt_images() lists the images with their references (docker's
 *     RepoTags, OCI's org.opencontainers.image.ref.name annotations);
 *     imgfmt_pick() chooses one by reference, or the only one there is.  An
 *     OCI index (also a nested one, and Docker's manifest lists) gives the
 *     manifest for this host's platform; another platform is refused unless
 *     it is the only image.
 *  3. The picked struct imgfmt_image holds the manifest's layers, the parsed
 *     config, and the raw manifest and config bytes, each already checked
 *     against its digest and size.  imgfmt_layer_open() hands one layer out as
 *     a pipe fed by a forked reader, which checks the blob's digest and size
 *     and the diff_id (the uncompressed tar's digest) while the bytes pass;
 *     it holds back the last chunk until both match, and
 *     imgfmt_layer_close() reports the outcome.  A consumer must treat a
 *     layer as good only once imgfmt_layer_close() returned 0.
 *
 * imgfmt_write_oci_archive() writes images given as config bytes and layer
 * blobs (each an fd, checked against its digest as it is copied) as an
 * oci-archive: the same input always gives the same bytes.
 *
 * JSON read from an archive is capped at IMGFMT_JSON_MAX bytes, and every
 * complaint about it names the file and the field, e.g.
 * "manifest.json: [0].Layers[2]: not a string but an integer".
 * json-c, libarchive and libcrypto are dlopen()ed on first use.
 */
#ifndef USBOX_IMAGE_FORMAT_H
#define USBOX_IMAGE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/error.h"
#include "digest.h"

#define IMGFMT_JSON_MAX (4u << 20) /* largest manifest, index or config read */

enum imgfmt_kind {
	IMGFMT_DOCKER_ARCHIVE, /* docker/podman save: manifest.json (a tar, or a directory) */
	IMGFMT_OCI_LAYOUT,     /* a directory with oci-layout, index.json, blobs/ */
	IMGFMT_OCI_ARCHIVE,    /* a tar of an OCI layout */
};

enum imgfmt_compression {
	IMGFMT_PLAIN,
	IMGFMT_GZIP,
	IMGFMT_ZSTD,
};

/* One image in a source, as imgfmt_images() lists it. */
struct imgfmt_entry {
	char **refs;          /* NULL-terminated, maybe empty: RepoTags, or ref.name annotations */
	struct digest digest; /* OCI: the manifest's (or index's); docker-archive: the config's */
	char *platform;       /* "os/arch[/variant]" when the index says, else NULL */
	bool is_index;        /* OCI: points to an index of per-platform manifests */
};

struct imgfmt_kv {
	char *key, *value;
};

struct imgfmt_history {
	char *created, *created_by, *author, *comment; /* each NULL when absent */
	bool empty_layer;
};

/* An image config (OCI image-spec "config", Docker's is the same). Lists are
 * NULL-terminated string arrays, NULL when the field is absent or null. */
struct imgfmt_config {
	char *architecture, *os, *variant; /* architecture and os are required */
	char *created, *author;
	char **env;           /* "K=V" */
	char **entrypoint;
	char **cmd;
	char *working_dir;
	char *user;
	char *stop_signal;
	char **exposed_ports; /* the keys: "80/tcp" */
	char **volumes;       /* the keys: "/data" */
	struct imgfmt_kv *labels;
	size_t n_labels;
	struct digest *diff_ids; /* rootfs.diff_ids, one per layer */
	size_t n_diff_ids;
	struct imgfmt_history *history;
	size_t n_history;
};

/* One layer, as the manifest describes it. */
struct imgfmt_layer_desc {
	char *media_type;   /* OCI or Docker type; docker-archive: the OCI tar type for what it holds */
	enum imgfmt_compression compression;
	struct digest digest; /* the blob's; see digest_known */
	bool digest_known;    /* false only for a compressed docker-archive layer.tar (none say) */
	uint64_t size;        /* the blob's bytes */
	struct digest diff_id; /* config rootfs.diff_ids[i] */
	char *path;           /* where it is in the source: "blobs/sha256/HEX", "ID/layer.tar" */
};

/* One image, picked; every string is owned by the struct. */
struct imgfmt_image {
	enum imgfmt_kind kind;
	char **refs;               /* its references, NULL-terminated (maybe empty) */
	char *manifest;            /* OCI: the manifest's bytes; docker-archive: NULL */
	size_t manifest_len;
	struct digest manifest_digest; /* OCI only */
	char *manifest_media_type;     /* OCI only */
	char *config_raw;          /* the config's bytes, as stored */
	size_t config_len;
	struct digest config_digest;
	char *config_media_type;   /* docker-archive: Docker's config type */
	struct imgfmt_config config;
	struct imgfmt_layer_desc *layers;
	size_t n_layers;
	bool foreign_platform;     /* not this host's, taken since it was the only image */
	struct imgfmt_source *src; /* borrowed: close the image before the source */
};

/* What the reader of one layer saw, once it has ended well. */
struct imgfmt_layer_result {
	struct digest digest;  /* of the blob as read */
	struct digest diff_id; /* of the uncompressed tar */
	uint64_t blob_bytes, tar_bytes;
};

/* What imgfmt_layer_open() hands out. */
enum imgfmt_layer_mode {
	IMGFMT_LAYER_TAR,  /* the uncompressed tar */
	IMGFMT_LAYER_BLOB, /* the blob as stored (compressed as its media type says) */
};

struct imgfmt_source;
struct imgfmt_layer;

/*
 * imgfmt_open() - open an image source, whatever its kind.
 * @path:      a tar file (maybe compressed), a directory, or "-" (standard input)
 * @spool_dir: where a compressed or non-seekable tar is spooled (an unnamed
 *             O_TMPFILE file, gone with the source); NULL: $TMPDIR or /tmp
 * @out:       the source; imgfmt_close() it
 * @e:         on failure, one line naming @path and what is wrong
 *
 * Return: 0, or a negative errno.
 */
int imgfmt_open(const char *path, const char *spool_dir, struct imgfmt_source **out, struct ubx_err *e);

/* imgfmt_kind() - what @src turned out to be. */
enum imgfmt_kind imgfmt_kind(const struct imgfmt_source *src);

/* imgfmt_kind_name() - "docker-archive", "oci", "oci-archive". */
const char *imgfmt_kind_name(enum imgfmt_kind kind);

/*
 * imgfmt_images() - the images in @src.
 * @src: an open source
 * @n:   how many
 *
 * Return: the list, owned by @src (never NULL; @n may be 0).
 */
const struct imgfmt_entry *imgfmt_images(const struct imgfmt_source *src, size_t *n);

/*
 * imgfmt_pick() - choose and read one image.
 * @src: an open source
 * @ref: a reference ("name:tag", "name" for name:latest, "tag" for an OCI
 *       ref.name, "sha256:HEX" for a manifest's or config's digest), or NULL
 *       when the source holds one image
 * @out: the image; imgfmt_image_free() it (before closing @src)
 * @e:   on failure, e.g. "no image 'x' here; there are: a:1, b:2"
 *
 * Reads and checks the manifest (OCI) and the config against their digests
 * and sizes; the layers are only described, not read.
 * Return: 0, -ENOENT for no such reference, -EBADMSG for a blob that does
 * not match its digest or size, -EINVAL for a refused or malformed image,
 * another negative errno for I/O.
 */
int imgfmt_pick(struct imgfmt_source *src, const char *ref, struct imgfmt_image **out, struct ubx_err *e);

/* imgfmt_image_free() - release @img (NULL is fine). */
void imgfmt_image_free(struct imgfmt_image *img);

/* imgfmt_close() - release @src and its spool file (NULL is fine). */
void imgfmt_close(struct imgfmt_source *src);

/*
 * imgfmt_layer_open() - start reading layer @i of @img.
 * @img:     a picked image
 * @i:       the layer's index, bottom first
 * @mode:    the uncompressed tar, or the blob as stored
 * @blob_fd: when >= 0, the blob as stored is also written there (to keep it
 *           in a store); like the pipe, it is good only once
 *           imgfmt_layer_close() returned 0.  -1: no copy
 * @fd_out:  the read end of a pipe (close-on-exec), owned by the layer: it
 *           stays open until imgfmt_layer_close() (dup() it to hand it on)
 * @out:     the layer; end it with imgfmt_layer_close() or imgfmt_layer_abort()
 * @e:       on failure, what failed
 *
 * A forked reader feeds the pipe, checks everything and holds back its last
 * chunk until the digests match; on a mismatch the stream ends short.
 * Return: 0, or a negative errno.
 */
int imgfmt_layer_open(struct imgfmt_image *img, size_t i, enum imgfmt_layer_mode mode, int blob_fd, int *fd_out,
		      struct imgfmt_layer **out, struct ubx_err *e);

/*
 * imgfmt_layer_progress() - the blob's bytes read so far (of
 * img->layers[i].size), for a progress bar.
 */
uint64_t imgfmt_layer_progress(const struct imgfmt_layer *l);

/*
 * imgfmt_layer_close() - wait for the reader's verdict and release @l.
 * @l:   an open layer (consumed, also on failure)
 * @res: what was read and its digests (may be NULL); valid on success
 * @e:   on failure, e.g. "blobs/sha256/HEX: content does not match its digest
 *       (it hashes to sha256:...)", or "...: its tar hashes to sha256:..., but
 *       the config's rootfs.diff_ids[2] is sha256:..."
 *
 * Whatever the consumer left unread is read and dropped first, so that the
 * whole blob is checked (a tar reader stops at the end marker).
 * Return: 0 when the blob's digest and size and its diff_id matched, else a
 * negative errno (-EBADMSG for a mismatch).
 */
int imgfmt_layer_close(struct imgfmt_layer *l, struct imgfmt_layer_result *res, struct ubx_err *e);

/* imgfmt_layer_abort() - stop the reader without a verdict (NULL is fine). */
void imgfmt_layer_abort(struct imgfmt_layer *l);

/* A blob to write, read from fd: exactly size bytes, checked against digest.
 * With @read, read through it instead; it checks the digest itself (its
 * last call, returning 0, fails on another one). */
struct imgfmt_blob_in {
	struct digest digest;
	uint64_t size;
	const char *media_type; /* Docker's layer types are written as their OCI equals */
	int fd;
	ssize_t (*read)(void *opaque, void *buf, size_t len, struct ubx_err *e); /* or NULL */
	void *opaque;
};

/* Told as blobs are copied: the layer bytes so far (of all images) and the
 * layer at work, of the n_layers distinct ones to write. */
struct imgfmt_write_progress {
	void (*fn)(void *opaque, uint64_t bytes, size_t layer, size_t n_layers);
	void *opaque;
};

/* One image to write. */
struct imgfmt_image_desc {
	const char *ref;      /* org.opencontainers.image.ref.name, e.g. "busybox:latest"; NULL: none */
	const char *config;   /* the config's bytes (its digest is computed) */
	size_t config_len;
	const struct imgfmt_blob_in *layers;
	size_t n_layers;
};

/*
 * imgfmt_write_oci_archive() - write @n images as one oci-archive.
 * @out_fd: where the tar goes (a file or a pipe)
 * @images: the images, in the order index.json lists them
 * @n:      how many (at least one)
 * @progress: told as layers are copied (NULL: nothing)
 * @e:      on failure, the blob or field at fault
 *
 * Writes oci-layout, index.json, then per image its manifest, config and
 * layers as blobs/sha256/HEX; a blob written already (shared by two images)
 * is not read again.  Entries have fixed owners, modes and times, so the same
 * input gives the same bytes.  On failure the output is incomplete: the
 * caller removes it.
 * Return: 0, or a negative errno (-EBADMSG when a layer's bytes do not match).
 */
int imgfmt_write_oci_archive(int out_fd, const struct imgfmt_image_desc *images, size_t n,
			     const struct imgfmt_write_progress *progress, struct ubx_err *e);

/*
 * imgfmt_host_platform() - this host's "os/arch[/variant]" in OCI terms
 * ("linux/amd64").
 */
const char *imgfmt_host_platform(void);

/* Parsers of JSON read from archives, apart for tests and fuzzing.  Each
 * takes the text, the name used in messages, and fills a result the caller
 * frees with the matching function. */

/*
 * imgfmt_parse_config() - an image config.
 * Return: 0, or -EINVAL with "WHAT: FIELD: problem" in @e.
 */
int imgfmt_parse_config(const char *text, size_t len, const char *what, struct imgfmt_config *out,
			struct ubx_err *e);

/* imgfmt_config_free() - release what @c holds and zero it. */
void imgfmt_config_free(struct imgfmt_config *c);

#endif
