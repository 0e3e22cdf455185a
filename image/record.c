/* SPDX-License-Identifier: MIT */
/*
 * record.c - the image store's image records: images/HEX.json (store.h).
 *
 * DOC: Theory of operation
 * A record is {"id", "created", "names": [...], "layers": [{"diff_id",
 * "digest", "size", "media_type"}, ...]} with the layers bottom first.  It
 * is written to tmp/ and renamed over the old one, so readers see a whole
 * record or the previous one.  Names are unique: giving a name to an image
 * takes it from the image that had it.  Layers and blobs are shared, so an
 * image's removal removes only those no other record names.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "keep.h"

#define RECORD_MAX (1u << 20)

/* Reads images/@file whole. */
static int read_record(struct store *s, const char *file, char **text, size_t *len, struct ubx_err *e)
{
	char path[128];
	snprintf(path, sizeof(path), "images/%s", file);
	_cleanup_close_ int fd = openat(s->dir, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ubx_fail(e, errno, "%s/%s", s->path, path);
	char *buf = malloc(RECORD_MAX + 1);
	if (!buf)
		return ubx_fail(e, ENOMEM, "%s", path);
	size_t n = 0;
	ssize_t got;
	while (n < RECORD_MAX && (got = read(fd, buf + n, RECORD_MAX - n)) > 0)
		n += (size_t)got;
	*text = buf;
	*len = n;
	return 0;
}

static int parse_digest_member(struct json_object *o, const char *key, struct digest *d, const char *what,
			       struct ubx_err *e)
{
	struct json_object *v = jsonc_member(o, key);
	if (!jsonc_is(v, json_type_string))
		return ubx_fail(e, EINVAL, "%s: %s: not a string", what, key);
	return digest_parse(jsonc.json_object_get_string(v), d, e);
}

static int parse_layers(struct json_object *arr, struct store_image *img, const char *what, struct ubx_err *e)
{
	size_t n = jsonc_is(arr, json_type_array) ? jsonc.json_object_array_length(arr) : 0;
	img->layers = calloc(n ? n : 1, sizeof(*img->layers));
	if (!img->layers)
		return ubx_fail(e, ENOMEM, "%s", what);
	for (size_t i = 0; i < n; i++) {
		struct json_object *l = jsonc.json_object_array_get_idx(arr, i);
		struct store_layer *sl = &img->layers[i];
		struct json_object *mt = jsonc_member(l, "media_type"), *sz = jsonc_member(l, "size");
		int r = parse_digest_member(l, "diff_id", &sl->diff_id, what, e);
		if (r < 0 || (r = parse_digest_member(l, "digest", &sl->blob, what, e)) < 0)
			return r;
		sl->size = jsonc_is(sz, json_type_int) ? jsonc.json_object_get_uint64(sz) : 0;
		snprintf(sl->media_type, sizeof(sl->media_type), "%s",
			 jsonc_is(mt, json_type_string) ? jsonc.json_object_get_string(mt) : "");
	}
	img->n_layers = n;
	return 0;
}

static int parse_names(struct json_object *arr, struct store_image *img, const char *what, struct ubx_err *e)
{
	size_t n = jsonc_is(arr, json_type_array) ? jsonc.json_object_array_length(arr) : 0;
	img->names = calloc(n + 1, sizeof(char *));
	if (!img->names)
		return ubx_fail(e, ENOMEM, "%s", what);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = jsonc.json_object_array_get_idx(arr, i);
		if (!jsonc_is(v, json_type_string) || !(img->names[i] = strdup(jsonc.json_object_get_string(v))))
			return ubx_fail(e, EINVAL, "%s: names[%zu]", what, i);
	}
	return 0;
}

/* Loads images/@file into @img. */
static int load_record(struct store *s, const char *file, struct store_image *img, struct ubx_err *e)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ struct json_object *o = NULL;
	size_t len = 0;
	char what[4200];

	*img = (struct store_image){ 0 };
	snprintf(what, sizeof(what), "%s/images/%s", s->path, file);
	int r = read_record(s, file, &text, &len, e);
	if (r < 0 || (r = jsonc_parse(text, len, RECORD_MAX, what, &o, e)) < 0)
		return r;
	struct json_object *created = jsonc_member(o, "created");
	snprintf(img->created, sizeof(img->created), "%s",
		 jsonc_is(created, json_type_string) ? jsonc.json_object_get_string(created) : "");
	if ((r = parse_digest_member(o, "id", &img->id, what, e)) < 0 ||
	    (r = parse_names(jsonc_member(o, "names"), img, what, e)) < 0 ||
	    (r = parse_layers(jsonc_member(o, "layers"), img, what, e)) < 0)
		store_image_free(img);
	return r;
}

static struct json_object *digest_json(const struct digest *d)
{
	char buf[DIGEST_STR_LEN + 1];
	return jsonc.json_object_new_string(digest_format(d, buf));
}

static struct json_object *record_json(const struct store_image *img)
{
	struct json_object *o = jsonc.json_object_new_object(), *names = jsonc.json_object_new_array(),
			   *layers = jsonc.json_object_new_array();
	jsonc.json_object_object_add(o, "id", digest_json(&img->id));
	jsonc.json_object_object_add(o, "created", jsonc.json_object_new_string(img->created));
	for (char **p = img->names; p && *p; p++)
		jsonc.json_object_array_add(names, jsonc.json_object_new_string(*p));
	jsonc.json_object_object_add(o, "names", names);
	for (size_t i = 0; i < img->n_layers; i++) {
		struct json_object *l = jsonc.json_object_new_object();
		jsonc.json_object_object_add(l, "diff_id", digest_json(&img->layers[i].diff_id));
		jsonc.json_object_object_add(l, "digest", digest_json(&img->layers[i].blob));
		jsonc.json_object_object_add(l, "size", jsonc.json_object_new_int64((int64_t)img->layers[i].size));
		jsonc.json_object_object_add(l, "media_type", jsonc.json_object_new_string(img->layers[i].media_type));
		jsonc.json_object_array_add(layers, l);
	}
	jsonc.json_object_object_add(o, "layers", layers);
	return o;
}

/* Writes @img's record: tmp/ first, then renamed over images/HEX.json. */
static int write_record(struct store *s, const struct store_image *img, struct ubx_err *e)
{
	char name[128], path[128], hex[DIGEST_HEX_LEN + 1];
	size_t len;
	_cleanup_json_ struct json_object *o = record_json(img);
	const char *text = jsonc.json_object_to_json_string_length(o, JSON_C_TO_STRING_PRETTY, &len);
	_cleanup_close_ int fd = store_tmp_file(s, name, sizeof(name), e);
	if (fd < 0)
		return fd;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		int r = ubx_fail(e, errno, "write an image record");
		store_discard(s, name);
		return r;
	}
	snprintf(path, sizeof(path), "images/%s.json", digest_hex(&img->id, hex));
	if (renameat(s->dir, name, s->dir, path) < 0)
		return ubx_fail(e, errno, "%s/%s", s->path, path);
	return 0;
}

int store_image_list(struct store *s, struct store_image **out, size_t *n, struct ubx_err *e)
{
	int r = jsonc_load("the image store", e);
	_cleanup_close_ int dir = r < 0 ? -1 : openat(s->dir, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dir >= 0 ? fdopendir(dup(dir)) : NULL;
	*out = NULL;
	*n = 0;
	if (!d)
		return r < 0 ? r : ubx_fail(e, errno, "%s/images", s->path);
	for (struct dirent *de; (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l != DIGEST_HEX_LEN + 5 || strcmp(de->d_name + DIGEST_HEX_LEN, ".json") != 0)
			continue;
		struct store_image *grown = realloc(*out, (*n + 1) * sizeof(**out));
		if (!grown) {
			r = ubx_fail(e, ENOMEM, "images");
			break;
		}
		*out = grown;
		if ((r = load_record(s, de->d_name, &grown[*n], e)) < 0)
			break;
		(*n)++;
	}
	closedir(d);
	return r < 0 ? r : 0;
}

/* Whether @img is named @name. */
static bool has_name(const struct store_image *img, const char *name)
{
	for (char **p = img->names; p && *p; p++)
		if (strcmp(*p, name) == 0)
			return true;
	return false;
}

/* Whether @ref is "sha256:HEX", or at least 4 hex digits that begin @img's id. */
static bool id_matches(const struct store_image *img, const char *ref)
{
	char hex[DIGEST_HEX_LEN + 1];
	digest_hex(&img->id, hex);
	if (strncmp(ref, "sha256:", 7) == 0)
		ref += 7;
	size_t n = strlen(ref);
	return n >= 4 && n <= DIGEST_HEX_LEN && strspn(ref, "0123456789abcdef") == n && strncmp(hex, ref, n) == 0;
}

int store_image_find(struct store *s, const char *ref, struct store_image *out, struct ubx_err *e)
{
	struct store_image *v;
	size_t n, hit = SIZE_MAX, by_id = 0;
	char name[STORE_NAME_MAX];
	struct ubx_err ignore;
	bool is_name = store_normalize_name(ref, name, sizeof(name), &ignore) == 0;

	int r = store_image_list(s, &v, &n, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && is_name && hit == SIZE_MAX; i++)
		if (has_name(&v[i], name))
			hit = i;
	for (size_t i = 0; i < n && hit == SIZE_MAX; i++)
		if (id_matches(&v[i], ref) && by_id++ == 0)
			hit = i;
	for (size_t i = hit + 1; by_id == 1 && i < n; i++)
		by_id += id_matches(&v[i], ref);
	if (hit == SIZE_MAX)
		r = ubx_refuse(e, ENOENT, "no such image: %s", ref);
	else if (by_id > 1)
		r = ubx_fail(e, EINVAL, "%s names more than one image: give more of the id", ref);
	else
		*out = v[hit], v[hit] = (struct store_image){ 0 };
	store_image_list_free(v, n);
	return r;
}

/* Drops @name from @img's names; returns whether it was there. */
static bool drop_name(struct store_image *img, const char *name)
{
	size_t j = 0;
	bool found = false;
	for (size_t i = 0; img->names && img->names[i]; i++) {
		if (strcmp(img->names[i], name) == 0) {
			free(img->names[i]);
			found = true;
		} else {
			img->names[j++] = img->names[i];
		}
	}
	if (img->names)
		img->names[j] = NULL;
	return found;
}

/* Puts @name first among @img's names (the latest given is shown first). */
static int add_name(struct store_image *img, const char *name)
{
	size_t n = 0;
	(void)drop_name(img, name);
	while (img->names && img->names[n])
		n++;
	char **grown = realloc(img->names, (n + 2) * sizeof(char *));
	if (!grown)
		return -ENOMEM;
	img->names = grown;
	memmove(grown + 1, grown, n * sizeof(char *));
	grown[n + 1] = NULL;
	return (grown[0] = strdup(name)) ? 0 : -ENOMEM;
}

int store_image_put(struct store *s, struct store_image *img, const char *name, struct ubx_err *e)
{
	struct store_image *v;
	size_t n;
	int r = store_image_list(s, &v, &n, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0 && name; i++)
		if (!digest_eq(&v[i].id, &img->id) && drop_name(&v[i], name))
			r = write_record(s, &v[i], e);
	store_image_list_free(v, n);
	if (r == 0 && name && add_name(img, name) < 0)
		r = ubx_fail(e, ENOMEM, "image name");
	if (r == 0 && !img->created[0]) {
		time_t now = time(NULL);
		struct tm tm;
		strftime(img->created, sizeof(img->created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	}
	return r < 0 ? r : write_record(s, img, e);
}

int store_untag(struct store *s, const char *name, struct store_image *img, struct ubx_err *e)
{
	int r = store_image_find(s, name, img, e);
	if (r < 0)
		return r;
	if (!drop_name(img, name))
		return 1; /* found by id: nothing to untag */
	if ((r = write_record(s, img, e)) < 0)
		return r;
	return img->names && img->names[0] ? 0 : 1;
}

/* Whether any image in @v other than @skip uses the layer or blob @d. */
static bool in_use(const struct store_image *v, size_t n, const struct store_image *skip, const struct digest *d,
		   bool layer)
{
	for (size_t i = 0; i < n; i++) {
		if (digest_eq(&v[i].id, &skip->id))
			continue;
		for (size_t k = 0; k < v[i].n_layers; k++)
			if (digest_eq(layer ? &v[i].layers[k].diff_id : &v[i].layers[k].blob, d))
				return true;
	}
	return false;
}

/* Removes @sub/HEX of @d. */
static int remove_entry(struct store *s, const char *sub, const struct digest *d)
{
	char path[256], hex[DIGEST_HEX_LEN + 1];
	snprintf(path, sizeof(path), "%s/%s", sub, digest_hex(d, hex));
	return store_remove_tree(s->dir, path);
}

int store_image_remove(struct store *s, const struct store_image *img, struct ubx_err *e)
{
	struct store_image *v;
	size_t n;
	char path[128], hex[DIGEST_HEX_LEN + 1];
	int r = store_image_list(s, &v, &n, e);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "images/%s.json", digest_hex(&img->id, hex));
	if (unlinkat(s->dir, path, 0) < 0 && errno != ENOENT)
		r = ubx_fail(e, errno, "%s/%s", s->path, path);
	for (size_t i = 0; r == 0 && i < img->n_layers; i++) {
		const struct store_layer *l = &img->layers[i];
		if (!in_use(v, n, img, &l->diff_id, true) && ((r = remove_entry(s, KEEP_RECORDS, &l->diff_id)) < 0 ||
							       (r = remove_entry(s, "layers", &l->diff_id)) < 0))
			r = ubx_fail(e, -r, "remove layer %s", digest_hex(&l->diff_id, hex));
		if (r == 0 && !in_use(v, n, img, &l->blob, false) && (r = remove_entry(s, "blobs/sha256", &l->blob)) < 0)
			r = ubx_fail(e, -r, "remove blob %s", digest_hex(&l->blob, hex));
	}
	if (r == 0)
		(void)remove_entry(s, "blobs/sha256", &img->id); /* the config: only this image's */
	store_image_list_free(v, n);
	return r;
}
