/* SPDX-License-Identifier: MIT */
/*
 * imagerun.c - `usbox run --image NAME`: a container's spec from an image.
 *
 * DOC: Theory of operation
 * Under the store's exclusive lock the image is found and a container made
 * for it (image/container.c: its writable layer and record); the lock is let
 * go before the command starts.  The spec's root is the image's layers, the
 * topmost first, under the container's layer; root inside maps to the
 * caller.  The image's config gives the defaults Docker takes from it: Env
 * (then -e), Entrypoint (--entrypoint replaces it) and Cmd (the command
 * given replaces it), WorkingDir (-w replaces it), User (--uid/--user
 * replace it; a name is looked up in the image's /etc/passwd).  The
 * kernel's overlayfs serves the root, fuse-overlayfs when the kernel refuses
 * it (USBOX_OVERLAY=kernel or fuse picks one); once the command runs, a
 * root served by fuse-overlayfs is written into the container's record (its
 * layer's whiteouts differ) and a refusal is told in one line.  When the
 * command ends, a --rm or unnamed container is removed.
 */
#include "imagerun.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/parse.h"
#include "../common/pathfind.h"
#include "../image/image.h"
#include "env.h"

/* The command: Entrypoint (or --entrypoint) then the given command, or Cmd. */
static int image_args(struct cli_options *o, const struct imgfmt_config *c, struct ubx_err *e)
{
	char *ep_one[] = { o->entrypoint, NULL };
	char *const *ep = o->entrypoint ? (o->entrypoint[0] ? ep_one : NULL) : c->entrypoint;
	char *const *rest = o->spec.args && o->spec.args[0] ? o->spec.args : o->entrypoint ? NULL : c->cmd;
	size_t n = 0, k = 0;
	for (char *const *p = ep; p && *p; p++)
		n++;
	for (char *const *p = rest; p && *p; p++)
		n++;
	if (n == 0)
		return ubx_fail(e, 0, "the image has no command (give one after --image NAME)");
	char **args = calloc(n + 1, sizeof(char *));
	if (!args)
		return ubx_fail(e, ENOMEM, "the command");
	for (char *const *p = ep; p && *p; p++)
		args[k++] = *p;
	for (char *const *p = rest; p && *p; p++)
		args[k++] = *p;
	for (size_t i = 0; i < k; i++)
		if (!(args[i] = strdup(args[i]))) {
			while (i--)
				free(args[i]);
			free(args);
			return ubx_fail(e, ENOMEM, "the command");
		}
	for (char **p = o->spec.args; p && *p; p++)
		free(*p);
	free(o->spec.args);
	o->spec.args = args;
	return 0;
}

/* Finds "name:" in an /etc/passwd or /etc/group of the image (the topmost
 * layer that has the file); the third field into @id. */
static int lookup_name(char *const *layers, const char *file, const char *name, uint32_t *id)
{
	char path[4400], line[1024];
	size_t n = strlen(name);
	for (char *const *l = layers; *l; l++) {
		snprintf(path, sizeof(path), "%s/%s", *l, file);
		_cleanup_fclose_ FILE *f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *c = strchr(line, ':'), *x = c ? strchr(c + 1, ':') : NULL;
			if (c && x && (size_t)(c - line) == n && strncmp(line, name, n) == 0) {
				*x = '\0';
				char *end = strchr(x + 1, ':');
				if (end)
					*end = '\0';
				return parse_id(x + 1, id);
			}
		}
		return -ENOENT;
	}
	return -ENOENT;
}

/* USER[:GROUP], numbers or names of the image's. */
static int image_user(struct ubx_spec *s, const char *user, struct ubx_err *e)
{
	_cleanup_free_ char *u = strdup(user);
	char *g = u ? strchr(u, ':') : NULL;
	if (!u)
		return ubx_fail(e, ENOMEM, "user");
	if (g)
		*g++ = '\0';
	if (parse_id(u, &s->uid) < 0 && lookup_name(s->root.layers, "etc/passwd", u, &s->uid) < 0)
		return ubx_fail(e, 0, "user %s: not a number, nor in the image's /etc/passwd", u);
	if (g && parse_id(g, &s->gid) < 0 && lookup_name(s->root.layers, "etc/group", g, &s->gid) < 0)
		return ubx_fail(e, 0, "group %s: not a number, nor in the image's /etc/group", g);
	if (!g)
		s->gid = s->uid == 0 ? 0 : s->uid;
	return 0;
}

/* The layers' directories, the topmost first. */
static int layer_dirs(struct store *st, const struct store_image *img, struct ubx_spec *s, struct ubx_err *e)
{
	s->root.layers = calloc(img->n_layers + 1, sizeof(char *));
	if (!s->root.layers)
		return ubx_fail(e, ENOMEM, "layers");
	for (size_t i = 0; i < img->n_layers; i++) {
		char path[4200];
		store_layer_path(st, &img->layers[img->n_layers - 1 - i].diff_id, path, sizeof(path));
		if (!(s->root.layers[i] = strdup(path)))
			return ubx_fail(e, ENOMEM, "layers");
	}
	return 0;
}

/* The environment: the image's Env, then -e (a bare K copies the caller's). */
static int image_env(struct cli_options *o, const struct imgfmt_config *c, char *const *environ, struct ubx_err *e)
{
	size_t n = o->n_env, k = 0;
	for (char *const *p = c->env; p && *p; p++)
		n++;
	struct env_op *ops = calloc(n + 1, sizeof(*ops));
	if (!ops)
		return ubx_fail(e, ENOMEM, "environment");
	for (char *const *p = c->env; p && *p; p++)
		ops[k++].text = *p;
	for (size_t i = 0; i < o->n_env; i++)
		ops[k++] = o->env[i];
	o->spec.env = env_build(environ, true, ops, k);
	free(ops);
	return o->spec.env ? 0 : ubx_fail(e, ENOMEM, "environment");
}

int cli_fuse_program(char *out, size_t len)
{
	return exec_find("fuse-overlayfs", getenv("PATH"), out, len);
}

/* Which overlayfs may serve the root (USBOX_OVERLAY), and fuse-overlayfs's
 * place when it may be used. */
static int overlay_choice(struct spec_root *root, struct ubx_err *e)
{
	const char *v = getenv("USBOX_OVERLAY");
	char path[4096], cover[64];
	if (!v || !v[0] || strcmp(v, "auto") == 0)
		root->overlay = OVERLAY_AUTO;
	else if (strcmp(v, "kernel") == 0)
		root->overlay = OVERLAY_KERNEL;
	else if (strcmp(v, "fuse") == 0)
		root->overlay = OVERLAY_FUSE;
	else
		return ubx_fail(e, 0, "USBOX_OVERLAY=%s: not auto, kernel or fuse", v);
	if (root->overlay == OVERLAY_KERNEL || cli_fuse_program(path, sizeof(path)) < 0)
		return 0;
	/* before any namespace: the caller's own id */
	snprintf(cover, sizeof(cover), "/run/user/%u", (unsigned)getuid());
	if (!(root->fuse_program = strdup(path)) || !(root->fuse_cover = strdup(cover)))
		return ubx_fail(e, ENOMEM, "fuse-overlayfs");
	return 0;
}

static int fill_spec(struct cli_options *o, struct store *st, const struct store_image *img,
		     const struct container *c, char *const *environ, struct ubx_err *e)
{
	struct ubx_spec *s = &o->spec;
	struct imgfmt_config cfg = { 0 };
	char path[4300];
	int r = image_config(st, img, &cfg, e);
	if (r < 0)
		return r;
	s->root.kind = ROOT_LAYERS;
	snprintf(path, sizeof(path), "%s/upper", c->dir);
	s->root.upper = strdup(path);
	snprintf(path, sizeof(path), "%s/work", c->dir);
	s->root.work = strdup(path);
	if (!s->root.upper || !s->root.work)
		r = ubx_fail(e, ENOMEM, "the container's layer");
	if (r == 0)
		r = overlay_choice(&s->root, e);
	if (r == 0)
		r = layer_dirs(st, img, s, e);
	if (r == 0)
		r = image_args(o, &cfg, e);
	if (r == 0)
		r = image_env(o, &cfg, environ, e);
	if (r == 0 && !o->uid_set && cfg.user && cfg.user[0])
		r = image_user(s, cfg.user, e);
	if (r == 0 && !o->workdir && cfg.working_dir && cfg.working_dir[0] && !(o->workdir = strdup(cfg.working_dir)))
		r = ubx_fail(e, ENOMEM, "workdir");
	/* Docker's: the short id, unless named (--name sets the host name) */
	if (r == 0 && !s->hostname && !(s->hostname = strndup(c->id, 12)))
		r = ubx_fail(e, ENOMEM, "hostname");
	if (r == 0 && cfg.stop_signal && cfg.stop_signal[0] && (s->stop_signal = parse_signal(cfg.stop_signal)) < 0)
		r = ubx_fail(e, 0, "the image's StopSignal '%s' is not a signal", cfg.stop_signal);
	imgfmt_config_free(&cfg);
	return r;
}

int cli_image_prepare(struct cli_options *o, char *const *environ, struct container *c, struct ubx_err *e)
{
	struct store st;
	struct store_image img;
	int r = store_open(&st, true, e);
	if (r < 0)
		return r;
	*c = (struct container){ .hold = -1 };
	r = store_image_find(&st, o->image, &img, e);
	if (r == 0) {
		r = container_create(&st, &img, o->ctr_name, !o->keep, c, e);
		if (r == 0) {
			c->hold = container_hold(&st, c, false, e);
			r = c->hold < 0 ? c->hold : fill_spec(o, &st, &img, c, environ, e);
		}
		if (r < 0 && c->id[0]) {
			struct ubx_err ignore;
			if (c->hold >= 0)
				close(c->hold);
			c->hold = -1;
			(void)container_remove(&st, c, &ignore);
		}
		store_image_free(&img);
	}
	store_close(&st);
	if (r == 0)
		o->uid_set = o->gid_set = true; /* settled: the image's user or the one given */
	return r;
}

int cli_image_started(struct container *c, const struct sandbox *sb, char *notice, size_t len, struct ubx_err *e)
{
	struct store st;
	notice[0] = '\0';
	if (!sb->overlay || strcmp(sb->overlay, "fuse-overlayfs") != 0)
		return 0;
	if (sb->overlay_refused[0])
		snprintf(notice, len, "kernel overlayfs refused (%s); using fuse-overlayfs", sb->overlay_refused);
	int r = store_open(&st, true, e);
	if (r == 0)
		r = container_set_driver(&st, c, sb->overlay, e);
	store_close(&st);
	return r;
}

int cli_image_finish(const struct cli_options *o, const struct container *c, struct ubx_err *e)
{
	struct store st;
	if (c->hold >= 0)
		close(c->hold);
	if (o->keep)
		return 0;
	int r = store_open(&st, true, e);
	if (r == 0)
		r = container_remove(&st, c, e);
	store_close(&st);
	return r;
}
