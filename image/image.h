/* SPDX-License-Identifier: MIT */
/*
 * image.h - what usbox does with images: load and import into the store,
 * save out of it, and the spec of a container run from one.
 *
 * DOC: Theory of operation
 * load: an archive or layout (format.c) is read image by image; each layer
 * not in the store yet is read once as its blob, which a tap copies into
 * tmp/ while layer.c extracts it into a new directory under tmp/ and keep.c
 * records its tar (tarsplit.h); only when format.c's reader confirms the
 * blob's digest and the diff_id is the directory renamed into place, with
 * the record when a replay of it gives the tar back (the blob is then
 * dropped), else with the blob.  import: a root filesystem tarball (or a
 * directory, written as one first) becomes a one-layer image whose config
 * usbox writes.  save: images become an oci-archive from the blobs kept,
 * or from layers replayed from their records.  All of it
 * runs in the id-map holder's user namespace (image_enter_holder), where the
 * caller is root and the subordinate ids are 1..65535: files keep the owners
 * their tar gives them, mapped once, never re-chowned.
 */
#ifndef USBOX_IMAGE_IMAGE_H
#define USBOX_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/error.h"
#include "../idmap/idmap.h"
#include "format.h"
#include "store.h"

/* Progress of a load, import or save: bytes so far and the layer at work. */
struct image_progress {
	void (*fn)(void *opaque, uint64_t bytes, size_t layer, size_t n_layers);
	void *opaque;
};

/*
 * image_enter_holder() - join the id-map holder's user namespace as its
 * root (the caller), starting the holder when needed.  Without a
 * subordinate range it stays where it is and *@single is set: owners from
 * tars are then not kept (files are the caller's).
 * Return: 0 or a negative errno.
 */
int image_enter_holder(struct idmap_plan *plan, bool *single, struct ubx_err *e);

/*
 * image_load() - load the image @ref (NULL: the only one) of the archive or
 * layout at @path into @s (locked exclusively) and name it @name (NULL: its
 * own reference).  Layers already in the store are not read again.
 * Return: 0 with the image in @out, or a negative errno.
 */
int image_load(struct store *s, const char *path, const char *ref, const char *name, bool single,
	       const struct image_progress *p, struct store_image *out, struct ubx_err *e);

/*
 * image_import() - a root filesystem tarball (any compression libarchive
 * reads), "-" for standard input, or a directory, as a one-layer image
 * named @name.
 * Return: 0 with the image in @out, or a negative errno.
 */
int image_import(struct store *s, const char *path, const char *name, bool single, const struct image_progress *p,
		 struct store_image *out, struct ubx_err *e);

/*
 * image_save() - @n images of @s as an oci-archive on @out_fd, each under
 * its name @refs[i] (NULL: unnamed), telling @p (NULL: nobody) as layers
 * are copied.
 * Return: 0 or a negative errno.
 */
int image_save(struct store *s, const struct store_image *imgs, const char *const *refs, size_t n, int out_fd,
	       const struct image_progress *p, struct ubx_err *e);

/*
 * image_commit() - the writable layer @upper_dir of a container of @base as
 * a new image on top of it, named @name (NULL: unnamed): a real layer, with
 * whiteouts for what was deleted.
 * Return: 0 with the image in @out, or a negative errno.
 */
int image_commit(struct store *s, const struct store_image *base, const char *upper_dir, const char *name,
		 bool single, struct store_image *out, struct ubx_err *e);

/*
 * image_export() - the merged root of @layers (topmost first) under @upper
 * (with overlayfs's @work) as a plain tarball on @out_fd, through the
 * kernel's overlayfs, or through @fuse_program (fuse-overlayfs, NULL when
 * not installed) when @fuse_layer (it wrote @upper) or the kernel refuses.
 * Moves this process into a mount namespace of its own.
 * Return: 0 or a negative errno.
 */
int image_export(char *const *layers, const char *upper, const char *work, const char *fuse_program,
		 bool fuse_layer, bool single, int out_fd,
		 struct ubx_err *e);

/*
 * image_config() - the parsed config of @img, from its blob.
 * Return: 0 (free @out with imgfmt_config_free) or a negative errno.
 */
int image_config(struct store *s, const struct store_image *img, struct imgfmt_config *out, struct ubx_err *e);

/*
 * image_config_raw() - the config blob's bytes (malloc()ed into *@text).
 * Return: 0 or a negative errno.
 */
int image_config_raw(struct store *s, const struct store_image *img, char **text, size_t *len, struct ubx_err *e);

#endif
