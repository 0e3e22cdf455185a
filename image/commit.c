/* SPDX-License-Identifier: MIT */
/*
 * commit.c - a container's writable layer as a new image, and its merged
 * root as a tarball (image.h).
 *
 * DOC: Theory of operation
 * commit: layer.c writes the container's upper directory as an OCI layer
 * (overlay whiteouts become .wh. files, opaque directories .wh..wh..opq)
 * into tmp/, which becomes the layer's blob; the same tar is extracted as
 * the new layer's directory; the image's config gets the layer's diff_id
 * and a history entry, and the new config's digest is the new image's id.
 * export: the container's layers and upper directory are mounted as one
 * overlayfs in a mount namespace of this process's own (in the holder's user
 * namespace, or one made for it), and written as a plain tarball: the
 * kernel's, or fuse-overlayfs's for a layer it wrote (its opaque directories
 * are marked its own way) or when the kernel refuses.
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "../common/overlay.h"
#include "keep.h"
#include "layer.h"

/* The config @text with @diff_id appended to rootfs.diff_ids and a history
 * entry; a new malloc()ed text into *@out. */
static int next_config(const char *text, size_t len, const struct digest *diff_id, const char *comment,
		       char **out, size_t *out_len, struct ubx_err *e)
{
	_cleanup_json_ struct json_object *o = NULL;
	char diff[DIGEST_STR_LEN + 1], created[40];
	time_t now = time(NULL);
	struct tm tm;
	int r = jsonc_parse(text, len, IMGFMT_JSON_MAX, "the image's config", &o, e);
	if (r < 0)
		return r;
	struct json_object *rootfs = jsonc_member(o, "rootfs");
	struct json_object *ids = jsonc_member(rootfs, "diff_ids"), *hist = jsonc_member(o, "history");
	if (!jsonc_is(ids, json_type_array))
		return ubx_fail(e, EINVAL, "the image's config: rootfs.diff_ids: not an array");
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	jsonc.json_object_array_add(ids, jsonc.json_object_new_string(digest_format(diff_id, diff)));
	if (!jsonc_is(hist, json_type_array)) {
		hist = jsonc.json_object_new_array();
		jsonc.json_object_object_add(o, "history", hist);
	}
	struct json_object *h = jsonc.json_object_new_object();
	jsonc.json_object_object_add(h, "created", jsonc.json_object_new_string(created));
	jsonc.json_object_object_add(h, "created_by", jsonc.json_object_new_string(comment));
	jsonc.json_object_array_add(hist, h);
	jsonc.json_object_object_add(o, "created", jsonc.json_object_new_string(created));
	const char *s = jsonc.json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, out_len);
	*out = s ? strndup(s, *out_len) : NULL;
	return *out ? 0 : ubx_fail(e, ENOMEM, "config");
}

/* Writes @upper_dir as a layer into the store: its blob and its directory. */
static int layer_from_upper(struct store *s, const char *upper_dir, bool single, struct store_layer *out,
			    struct ubx_err *e)
{
	char blob[96] = "", dir[96] = "";
	struct layer_keep k = { .fd = -1 };
	struct layer_opts xo = { .ignore_chown_errors = single, .tap = { .tar = keep_tap, .opaque = &k } };
	bool kept = false;
	_cleanup_close_ int up = open(upper_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int bfd = up < 0 ? ubx_fail(e, errno, "%s", upper_dir) : store_tmp_file(s, blob, sizeof(blob), e);
	_cleanup_close_ int dfd = bfd < 0 ? bfd : store_tmp_dir(s, dir, sizeof(dir), e);
	int r = dfd < 0 ? dfd : layer_diff_write(up, bfd, NULL, NULL, e);
	if (r == 0 && (r = digest_fd(bfd, &out->diff_id, &out->size, e)) == 0 && lseek(bfd, 0, SEEK_SET) == 0 &&
	    (r = keep_begin(s, &k, e)) == 0)
		r = layer_extract(bfd, dfd, &xo, NULL, e);
	if (r == 0) {
		out->blob = out->diff_id;
		snprintf(out->media_type, sizeof(out->media_type), "application/vnd.oci.image.layer.v1.tar");
		r = keep_commit(s, &k, dir, dfd, &out->diff_id, out->size, &kept, e);
		if (r == 0 && !kept)
			r = store_commit(s, blob, "blobs/sha256", &out->blob, e);
	}
	keep_abort(s, &k);
	store_discard(s, blob); /* committed, or not wanted */
	if (r < 0)
		store_discard(s, dir);
	return r;
}

int image_commit(struct store *s, const struct store_image *base, const char *upper_dir, const char *name,
		 bool single, struct store_image *out, struct ubx_err *e)
{
	_cleanup_free_ char *text = NULL, *next = NULL;
	size_t len = 0, next_len = 0;
	struct store_layer layer;
	int r = image_config_raw(s, base, &text, &len, e);
	if (r < 0 || (r = layer_from_upper(s, upper_dir, single, &layer, e)) < 0 ||
	    (r = next_config(text, len, &layer.diff_id, "usbox commit", &next, &next_len, e)) < 0)
		return r;
	*out = (struct store_image){ .layers = calloc(base->n_layers + 1, sizeof(struct store_layer)) };
	if (!out->layers)
		return ubx_fail(e, ENOMEM, "commit");
	memcpy(out->layers, base->layers, base->n_layers * sizeof(struct store_layer));
	out->layers[base->n_layers] = layer;
	out->n_layers = base->n_layers + 1;
	if ((r = digest_buf(next, next_len, &out->id, e)) == 0 && (r = store_put_blob(s, &out->id, next, next_len, e)) == 0)
		r = store_image_put(s, out, name, e);
	if (r < 0)
		store_image_free(out);
	return r;
}

/* A mount namespace of this process's own, in a user namespace where it
 * has CAP_SYS_ADMIN (the holder's, joined already, or one made here). */
static int own_mount_namespace(bool single, struct ubx_err *e)
{
	if (single) {
		char map[64];
		uid_t uid = getuid();
		gid_t gid = getgid();
		if (unshare(CLONE_NEWUSER) < 0)
			return ubx_fail(e, errno, "a user namespace for the export");
		int fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
		if (fd >= 0)
			(void)!write(fd, "deny", 4), close(fd);
		const char *files[] = { "/proc/self/uid_map", "/proc/self/gid_map" };
		for (int i = 0; i < 2; i++) {
			int n = snprintf(map, sizeof(map), "0 %u 1", i == 0 ? (unsigned)uid : (unsigned)gid);
			fd = open(files[i], O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, map, (size_t)n) != n) {
				int r = ubx_fail(e, errno, "%s", files[i]);
				if (fd >= 0)
					close(fd);
				return r;
			}
			close(fd);
		}
	}
	return unshare(CLONE_NEWNS) < 0 ? ubx_fail(e, errno, "a mount namespace for the export") : 0;
}

/* The merged root served by fuse-overlayfs, written out; the daemon ends
 * once the mount is closed. */
static int export_fuse(char *const *layers, const char *upper, const char *work, const char *program, int out_fd,
		       struct ubx_err *e)
{
	struct overlay_fuse d = OVERLAY_FUSE_INIT;
	struct statx stx;
	int fuse = -1, r;
	if (!program)
		return ubx_fail(e, 0, "the container's layer needs fuse-overlayfs, which is not installed");
	int m = overlay_fuse_mount(MOUNT_ATTR_RDONLY, &fuse, e);
	if (m < 0)
		return ubx_wrap(e, "mount the container's root");
	r = overlay_fuse_start(program, layers, upper, work, fuse, -1, NULL, &d, e); /* it serves only us */
	close(fuse);
	if (r == 0 && statx(m, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC, STATX_TYPE, &stx) < 0)
		r = ubx_fail(e, errno, "fuse-overlayfs did not answer");
	if (r == 0)
		r = layer_tree_write(m, out_fd, NULL, NULL, e);
	close(m);
	overlay_fuse_stop(&d, 2000);
	return r;
}

int image_export(char *const *layers, const char *upper, const char *work, const char *fuse_program,
		 bool fuse_layer, bool single, int out_fd, struct ubx_err *e)
{
	int r = own_mount_namespace(single, e);
	if (r < 0)
		return r;
	if (fuse_layer)
		return export_fuse(layers, upper, work, fuse_program, out_fd, e);
	_cleanup_close_ int m = overlay_mount(layers, upper, work, MOUNT_ATTR_RDONLY, "/tmp", e);
	if (m < 0 && fuse_program) /* the kernel refuses: as for running it */
		return export_fuse(layers, upper, work, fuse_program, out_fd, e);
	if (m < 0)
		return ubx_wrap(e, "mount the container's root");
	return layer_tree_write(m, out_fd, NULL, NULL, e);
}
