/* SPDX-License-Identifier: MIT */
/*
 * store.h - the image store: layers, blobs, images and containers under
 * ${XDG_DATA_HOME:-~/.local/share}/usbox (docs/STORAGE.md).
 *
 * DOC: Theory of operation
 * Layers are directories named by their diff_id (the sha256 of the
 * uncompressed layer tar) and shared between images, each with a tar-split
 * record of the same name (keep.h) or else its blob; blobs (layer tars as
 * loaded, configs) are files named by their digest; an image is a small JSON
 * record named by its config's digest, listing its names and layers; a
 * container is a directory with its writable layer and a JSON record.  New
 * things are made under tmp/ and renamed into place, so a killed usbox
 * leaves at most a tmp/ entry, which the next writer removes.  storage.lock
 * is held shared by readers and running containers and exclusively by
 * writers (load, import, commit, rmi, rm).  Files in layers are owned by the
 * ids of the caller's subordinate range, so writers run in the id-map
 * holder's user namespace, where the caller is root (the CLI joins it).
 */
#ifndef USBOX_IMAGE_STORE_H
#define USBOX_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "digest.h"

#define STORE_NAME_MAX 256

struct store {
	int dir;          /* the store's directory */
	int lock;         /* storage.lock, flock()ed */
	char path[4096];
};

struct store_layer {
	struct digest diff_id;  /* the uncompressed tar's: names layers/HEX */
	struct digest blob;     /* the blob as loaded: names blobs/sha256/HEX; the
				   diff_id when kept by its record (tar-split/HEX) */
	uint64_t size;          /* the blob's bytes */
	char media_type[128];
};

struct store_image {
	struct digest id;       /* the config's digest: names images/HEX.json, blobs/sha256/HEX */
	char **names;           /* "name:tag", NULL-terminated */
	struct store_layer *layers; /* bottom first */
	size_t n_layers;
	char created[40];       /* when it entered the store, RFC 3339 */
};

/*
 * store_open() - open (and create) the store and lock it, shared or
 * @exclusive; an exclusive opener also removes what a killed writer left in
 * tmp/.
 * Return: 0 or a negative errno.
 */
int store_open(struct store *s, bool exclusive, struct ubx_err *e);

/* store_close() - unlock and close. */
void store_close(struct store *s);

/*
 * store_normalize_name() - "NAME[:TAG]" as the store keeps it: the tag
 * "latest" when none is given, "docker.io/library/", "docker.io/" and
 * "localhost/" left out (as Docker shows official images); a name of lower-case letters, digits and
 * separators ('.', '_', '-', '/'), as Docker's references have them.
 * Return: 0, or -EINVAL with the reason in @e.
 */
int store_normalize_name(const char *in, char *out, size_t len, struct ubx_err *e);

/*
 * store_image_find() - the image named @ref: a name[:tag], an id
 * ("sha256:HEX" or a unique prefix of HEX of at least 4 digits).
 * Return: 0, or -ENOENT with "no such image: REF" in @e.
 */
int store_image_find(struct store *s, const char *ref, struct store_image *out, struct ubx_err *e);

/*
 * store_image_list() - every image, by creation time.
 * Return: 0 or a negative errno; free with store_image_list_free().
 */
int store_image_list(struct store *s, struct store_image **out, size_t *n, struct ubx_err *e);
void store_image_list_free(struct store_image *v, size_t n);

/*
 * store_image_put() - write @img's record (replacing one of the same id) and
 * give it @name, taking the name from any image that had it.  Needs the
 * exclusive lock.
 * Return: 0 or a negative errno.
 */
int store_image_put(struct store *s, struct store_image *img, const char *name, struct ubx_err *e);

/*
 * store_image_remove() - remove @img's record and the layers and blobs no
 * other image uses.  Needs the exclusive lock (and the holder's namespace).
 * Return: 0 or a negative errno.
 */
int store_image_remove(struct store *s, const struct store_image *img, struct ubx_err *e);

/*
 * store_untag() - take @name from the image that has it.
 * Return: 1 when the image has no name left, 0 when it has, or -ENOENT.
 */
int store_untag(struct store *s, const char *name, struct store_image *img, struct ubx_err *e);

/* store_image_free() - release what @img holds. */
void store_image_free(struct store_image *img);

/* store_layer_path() - "STORE/layers/HEX" into @buf. */
void store_layer_path(const struct store *s, const struct digest *diff_id, char *buf, size_t len);

/* store_have() - whether @sub/HEX exists ("layers", "blobs/sha256"). */
bool store_have(const struct store *s, const char *sub, const struct digest *d);

/*
 * store_tmp_dir() - a fresh directory under tmp/, its name in @name.
 * Return: an O_DIRECTORY fd, or a negative errno.
 */
int store_tmp_dir(struct store *s, char *name, size_t len, struct ubx_err *e);

/*
 * store_tmp_file() - a fresh file under tmp/ for writing, its name in @name.
 * Return: the fd, or a negative errno.
 */
int store_tmp_file(struct store *s, char *name, size_t len, struct ubx_err *e);

/*
 * store_commit() - rename tmp/@name to @sub/HEX of @d; when that exists
 * already (a concurrent load), drop tmp/@name instead.
 * Return: 0 or a negative errno.
 */
int store_commit(struct store *s, const char *name, const char *sub, const struct digest *d, struct ubx_err *e);

/*
 * store_put_blob() - @len bytes of @data as blobs/sha256/HEX of @d (their
 * digest, which the caller computed), unless it is there already.
 * Return: 0 or a negative errno.
 */
int store_put_blob(struct store *s, const struct digest *d, const void *data, size_t len, struct ubx_err *e);

/* store_discard() - remove tmp/@name (a file or a tree); best effort. */
void store_discard(struct store *s, const char *name);

/*
 * store_remove_tree() - remove the tree @name in the directory @parent
 * (without following symlinks, not crossing into other file systems).
 * Return: 0 or a negative errno.
 */
int store_remove_tree(int parent, const char *name);

#endif
