/* SPDX-License-Identifier: MIT */
/*
 * images.c - `usbox images|import|load|save|rmi|image inspect`: the image
 * store's command line (image/).
 *
 * DOC: Theory of operation
 * Each command opens the store (exclusively when it writes), joins the
 * id-map holder's user namespace when it makes or removes files of the
 * subordinate ids, calls image/ and prints.  A progress line goes to stderr
 * when it is a terminal, unless --quiet.
 */
#include "images.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "../image/container.h"
#include "../image/image.h"

struct bar {
	bool on;
	double start, last;
	const char *verb;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bar_show(void *opaque, uint64_t bytes, size_t layer, size_t n_layers)
{
	struct bar *b = opaque;
	double t = now_s();
	if (!b->on || t - b->last < 0.1)
		return;
	b->last = t;
	double mib = (double)bytes / 1048576.0, rate = t > b->start ? mib / (t - b->start) : 0;
	fprintf(stderr, "\r%s: layer %zu/%zu, %.1f MiB, %.1f MiB/s   ", b->verb, layer + 1, n_layers, mib, rate);
}

static void bar_end(struct bar *b)
{
	if (b->on && b->last > 0)
		fputs("\r\033[K", stderr);
}

static struct bar bar_new(const char *verb, bool quiet)
{
	return (struct bar){ .on = !quiet && isatty(STDERR_FILENO), .start = now_s(), .verb = verb };
}

/* Opens the store for writing, in the holder's namespace. */
static int open_for_writing(struct store *s, struct idmap_plan *plan, bool *single, struct ubx_err *e)
{
	int r = image_enter_holder(plan, single, e);
	return r < 0 ? r : store_open(s, true, e);
}

static void print_id(FILE *out, const struct store_image *img)
{
	char id[DIGEST_STR_LEN + 1];
	fprintf(out, "%s\n", digest_format(&img->id, id));
}

/* usbox load -i PATH[:REF] [NAME[:TAG]] [-q] */
static int cmd_load(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	const char *input = NULL, *name = NULL;
	bool quiet = false, single;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-i") == 0 || strcmp(argv[i], "--input") == 0) && i + 1 < argc)
			input = argv[++i];
		else if (strncmp(argv[i], "--input=", 8) == 0)
			input = argv[i] + 8;
		else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
			quiet = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return ubx_fail(e, 0, "load: unknown option '%s'", argv[i]);
		else if (name)
			return ubx_fail(e, 0, "load: one name only ('%s' and '%s')", name, argv[i]);
		else
			name = argv[i];
	}
	if (!input)
		return ubx_fail(e, 0, "load: no input (usage: usbox load -i ARCHIVE|DIR[:REF] [NAME[:TAG]])");
	_cleanup_free_ char *path = strdup(input);
	char *ref = NULL, *colon = path ? strrchr(path, ':') : NULL;
	if (!path)
		return ubx_fail(e, ENOMEM, "load");
	if (colon && access(path, F_OK) != 0) /* PATH:REF, unless the colon is the file's */
		*colon = '\0', ref = colon + 1;
	struct store s;
	struct idmap_plan plan;
	struct store_image img;
	struct bar b = bar_new("loading", quiet);
	struct image_progress p = { bar_show, &b };
	int r = open_for_writing(&s, &plan, &single, e);
	if (r == 0)
		r = image_load(&s, path, ref, name, single, &p, &img, e);
	bar_end(&b);
	if (r == 0) {
		fprintf(out, "Loaded image: %s\n", img.names && img.names[0] ? img.names[0] : "(unnamed)");
		if (!quiet)
			print_id(out, &img);
		store_image_free(&img);
	}
	store_close(&s);
	idmap_plan_release(&plan);
	return r;
}

/* usbox import FILE|DIR|- NAME[:TAG] [-q] */
static int cmd_import(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	const char *args[2] = { NULL, NULL };
	size_t n = 0;
	bool quiet = false, single;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
			quiet = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return ubx_fail(e, 0, "import: unknown option '%s'", argv[i]);
		else if (n == 2)
			return ubx_fail(e, 0, "import: too many arguments (usage: usbox import FILE|DIR|- NAME[:TAG])");
		else
			args[n++] = argv[i];
	}
	if (n != 2)
		return ubx_fail(e, 0, "import: usage: usbox import FILE|DIR|- NAME[:TAG]");
	struct store s;
	struct idmap_plan plan;
	struct store_image img;
	struct bar b = bar_new("importing", quiet);
	struct image_progress p = { bar_show, &b };
	int r = open_for_writing(&s, &plan, &single, e);
	if (r == 0)
		r = image_import(&s, args[0], args[1], single, &p, &img, e);
	bar_end(&b);
	if (r == 0) {
		print_id(out, &img);
		store_image_free(&img);
	}
	store_close(&s);
	idmap_plan_release(&plan);
	return r;
}

/* A size the way docker images prints it. */
static void human(uint64_t n, char *buf, size_t len)
{
	const char *u[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	size_t i = 0;
	while (v >= 1000 && i < 4)
		v /= 1000, i++;
	snprintf(buf, len, i ? "%.3g%s" : "%.0f%s", v, u[i]);
}

static uint64_t image_size(const struct store_image *img)
{
	uint64_t n = 0;
	for (size_t i = 0; i < img->n_layers; i++)
		n += img->layers[i].size;
	return n;
}

static void list_row(FILE *out, const struct store_image *img, const char *name, bool quiet)
{
	char hex[DIGEST_HEX_LEN + 1], size[16];
	digest_hex(&img->id, hex);
	if (quiet) {
		fprintf(out, "%.12s\n", hex);
		return;
	}
	human(image_size(img), size, sizeof(size));
	const char *colon = name ? strrchr(name, ':') : NULL;
	fprintf(out, "%-30.*s %-12s %-12.12s %-22s %s\n", name ? (int)(colon - name) : 6, name ? name : "<none>",
		colon ? colon + 1 : "<none>", hex, img->created, size);
}

static void list_json(FILE *out, const struct store_image *v, size_t n)
{
	fputs("[", out);
	for (size_t i = 0; i < n; i++) {
		char id[DIGEST_STR_LEN + 1];
		fprintf(out, "%s\n  {\"Id\": \"%s\", \"Names\": [", i ? "," : "", digest_format(&v[i].id, id));
		for (char **p = v[i].names; p && *p; p++)
			fprintf(out, "%s\"%s\"", p == v[i].names ? "" : ", ", *p);
		fprintf(out, "], \"Created\": \"%s\", \"Size\": %llu, \"Layers\": %zu}", v[i].created,
			(unsigned long long)image_size(&v[i]), v[i].n_layers);
	}
	fputs(n ? "\n]\n" : "]\n", out);
}

/* usbox images [-q] [--format json] */
static int cmd_images(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	bool quiet = false, json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
			quiet = true;
		else if ((strcmp(argv[i], "--format") == 0 && i + 1 < argc && strcmp(argv[++i], "json") == 0) ||
			 strcmp(argv[i], "--format=json") == 0)
			json = true;
		else
			return ubx_fail(e, 0, "images: unknown argument '%s' (usage: usbox images [-q] [--format json])",
					argv[i]);
	}
	struct store s;
	struct store_image *v = NULL;
	size_t n = 0;
	int r = store_open(&s, false, e);
	if (r == 0)
		r = store_image_list(&s, &v, &n, e);
	if (r == 0 && json)
		list_json(out, v, n);
	else if (r == 0 && !quiet)
		fprintf(out, "%-30s %-12s %-12s %-22s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
	for (size_t i = 0; r == 0 && !json && i < n; i++) {
		list_row(out, &v[i], v[i].names ? v[i].names[0] : NULL, quiet);
		for (size_t k = 1; !quiet && v[i].names && v[i].names[k]; k++)
			list_row(out, &v[i], v[i].names[k], false);
	}
	store_image_list_free(v, n);
	store_close(&s);
	return r;
}

/* Removes one image name or id; the image goes when no name is left, or
 * with an id; refused while a container uses it. */
static int rmi_one(struct store *s, const char *ref, bool force, FILE *out, struct ubx_err *e)
{
	struct store_image img;
	char norm[STORE_NAME_MAX], by[STORE_NAME_MAX], id[DIGEST_STR_LEN + 1];
	struct ubx_err ignore;
	int r = store_image_find(s, ref, &img, e);
	if (r < 0)
		return r;
	bool named_here = false;
	if (store_normalize_name(ref, norm, sizeof(norm), &ignore) == 0)
		for (char **p = img.names; p && *p; p++)
			named_here |= strcmp(*p, norm) == 0;
	if (named_here && img.names[1]) { /* other names stay: untag only */
		store_image_free(&img);
		if ((r = store_untag(s, norm, &img, e)) >= 0)
			fprintf(out, "Untagged: %s\n", norm);
		store_image_free(&img);
		return r < 0 ? r : 0;
	}
	if (container_image_used(s, &img.id, by, sizeof(by)) && !force)
		r = ubx_fail(e, 0, "image %s is in use by container %s (usbox rm %s first)", ref, by, by);
	else if ((r = store_image_remove(s, &img, e)) == 0)
		fprintf(out, "Deleted: %s\n", digest_format(&img.id, id));
	store_image_free(&img);
	return r;
}

/* usbox rmi [-f] NAME... */
static int cmd_rmi(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	bool force = false, single;
	int first = 1;
	if (argc > 1 && (strcmp(argv[1], "-f") == 0 || strcmp(argv[1], "--force") == 0))
		force = true, first = 2;
	if (first >= argc)
		return ubx_fail(e, 0, "rmi: usage: usbox rmi [-f] IMAGE...");
	struct store s;
	struct idmap_plan plan;
	int r = open_for_writing(&s, &plan, &single, e);
	for (int i = first; r == 0 && i < argc; i++)
		r = rmi_one(&s, argv[i], force, out, e);
	store_close(&s);
	idmap_plan_release(&plan);
	return r;
}

/* usbox image inspect NAME...: the record and the config, as JSON. */
static int cmd_inspect(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	struct store s;
	int r = argc < 2 ? ubx_fail(e, 0, "image inspect: usage: usbox image inspect IMAGE...") : store_open(&s, false, e);
	if (argc < 2)
		return r;
	fputs("[", out);
	for (int i = 1; r == 0 && i < argc; i++) {
		struct store_image img;
		_cleanup_free_ char *config = NULL;
		size_t len;
		char id[DIGEST_STR_LEN + 1];
		if ((r = store_image_find(&s, argv[i], &img, e)) < 0 || (r = image_config_raw(&s, &img, &config, &len, e)) < 0)
			break;
		fprintf(out, "%s\n{\"Id\": \"%s\", \"Names\": [", i > 1 ? "," : "", digest_format(&img.id, id));
		for (char **p = img.names; p && *p; p++)
			fprintf(out, "%s\"%s\"", p == img.names ? "" : ", ", *p);
		fprintf(out, "], \"Created\": \"%s\", \"Layers\": [", img.created);
		for (size_t k = 0; k < img.n_layers; k++)
			fprintf(out, "%s\"%s\"", k ? ", " : "", digest_format(&img.layers[k].diff_id, id));
		fprintf(out, "], \"Config\": %.*s}", (int)len, config);
		store_image_free(&img);
	}
	fputs("\n]\n", out);
	if (argc >= 2)
		store_close(&s);
	return r;
}

/* usbox save NAME... -o FILE [-q] */
static int cmd_save(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	const char *file = NULL;
	bool quiet = false;
	const char **refs = calloc((size_t)argc, sizeof(char *));
	size_t n = 0;
	(void)out;
	if (!refs)
		return ubx_fail(e, ENOMEM, "save");
	for (int i = 1; i < argc; i++)
		if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
			quiet = true;
		else if (argv[i][0] == '-')
			return free(refs), ubx_fail(e, 0, "save: unknown option '%s'", argv[i]);
		else
			refs[n++] = argv[i];
	if (!file || !n)
		return free(refs), ubx_fail(e, 0, "save: usage: usbox save IMAGE... -o FILE");
	struct store s;
	struct idmap_plan plan = { .holder_lock_fd = -1 };
	bool single;
	struct store_image *imgs = calloc(n, sizeof(*imgs));
	char (*names)[STORE_NAME_MAX] = calloc(n, sizeof(*names));
	/* in the holder's namespace: a layer's tar is read back from its files */
	int r = imgs && names ? image_enter_holder(&plan, &single, e) : ubx_fail(e, ENOMEM, "save");
	if (r == 0)
		r = store_open(&s, false, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct ubx_err ignore;
		r = store_image_find(&s, refs[i], &imgs[i], e);
		refs[i] = store_normalize_name(refs[i], names[i], sizeof(names[i]), &ignore) == 0 ? names[i] : NULL;
	}
	int fd = r < 0 ? -1 : open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r == 0 && fd < 0)
		r = ubx_fail(e, errno, "save: %s", file);
	struct bar b = bar_new("saving", quiet);
	struct image_progress p = { bar_show, &b };
	if (r == 0 && (r = image_save(&s, imgs, refs, n, fd, &p, e)) < 0)
		(void)unlink(file); /* nothing half-written left behind */
	bar_end(&b);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; imgs && i < n; i++)
		store_image_free(&imgs[i]);
	if (imgs && names)
		store_close(&s);
	idmap_plan_release(&plan);
	free(imgs);
	free(names);
	free(refs);
	return r;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, FILE *out, struct ubx_err *e);
} image_commands[] = {
	{ "images", cmd_images }, { "import", cmd_import }, { "load", cmd_load },
	{ "save", cmd_save },     { "rmi", cmd_rmi },
};

bool images_is_command(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(image_commands); i++)
		if (strcmp(word, image_commands[i].name) == 0)
			return true;
	return strcmp(word, "image") == 0;
}

int images_command(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	if (strcmp(argv[0], "image") == 0) { /* usbox image ls|rm|inspect|import|load|save */
		if (argc < 2)
			return ubx_fail(e, 0, "image: usage: usbox image ls|inspect|rm|import|load|save ...");
		if (strcmp(argv[1], "inspect") == 0)
			return cmd_inspect(argc - 1, argv + 1, out, e);
		if (strcmp(argv[1], "ls") == 0)
			return cmd_images(argc - 1, argv + 1, out, e);
		if (strcmp(argv[1], "rm") == 0)
			return cmd_rmi(argc - 1, argv + 1, out, e);
		argc--, argv++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(image_commands); i++)
		if (strcmp(argv[0], image_commands[i].name) == 0)
			return image_commands[i].fn(argc, argv, out, e);
	return ubx_fail(e, 0, "image: unknown command '%s'", argv[0]);
}
