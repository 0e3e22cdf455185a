/* SPDX-License-Identifier: MIT */
/*
 * containers.c - `usbox rm|commit|export`: kept containers (--name) in the
 * image store.  Listing them and running them in the background come with
 * the container lifecycle (ps, logs, exec, stop, ...).
 */
#include "containers.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/jsonc.h"
#include "../container/state.h"
#include "../image/container.h"
#include "../image/image.h"
#include "imagerun.h"

/* The store, locked exclusively, in the holder's user namespace. */
static int open_store(struct store *s, struct idmap_plan *plan, bool *single, struct ubx_err *e)
{
	int r = image_enter_holder(plan, single, e);
	return r < 0 ? r : store_open(s, true, e);
}

/* What a supervisor killed with SIGKILL left: its cgroup (when usbox made
 * it: a systemd scope goes by itself) and its runtime directory. */
static void remove_leftovers(const struct container *c)
{
	struct ctr_run run;
	struct ubx_err ignore;
	if (ctr_run_find(c->id, c->dir, &run, &ignore) == 0 && run.cgroup[0]) {
		(void)rmdir(run.cgroup);
		char *slash = strrchr(run.cgroup, '/');
		if (slash) {
			*slash = '\0';
			const char *own = strrchr(run.cgroup, '/');
			if (own && strncmp(own + 1, "usbox-", 6) == 0)
				(void)rmdir(run.cgroup);
		}
	}
	ctr_run_remove(c->id);
}

/* A running container: killed with -f (its supervisor then records it), else refused. */
static int stop_for_rm(struct store *s, const struct container *c, bool force, struct ubx_err *e)
{
	struct ctr_run run;
	struct ubx_err ignore;
	if (!container_running(s, c))
		return 0;
	const char *n = c->name[0] ? c->name : c->id;
	if (!force)
		return ubx_fail(e, 0, "container %s is running: stop it first (usbox stop %s) or remove it with rm -f", n, n);
	int pidfd = ctr_run_find(c->id, c->dir, &run, &ignore) == 0 ? ctr_init_pidfd(&run) : -1;
	if (pidfd >= 0) {
		(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		close(pidfd);
	}
	return container_wait(s, c, 10000, e) < 0 ? ubx_fail(e, ETIMEDOUT, "container %s did not stop", n) : 0;
}

/* usbox rm [-f] CONTAINER... */
static int cmd_rm(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	int first = 1;
	bool single, force = false;
	if (argc > 1 && (strcmp(argv[1], "-f") == 0 || strcmp(argv[1], "--force") == 0))
		first = 2, force = true;
	if (first >= argc)
		return ubx_fail(e, 0, "rm: usage: usbox rm [-f] CONTAINER...");
	struct store s;
	struct idmap_plan plan;
	int r = jsonc_load("usbox rm", e);
	if (r == 0)
		r = open_store(&s, &plan, &single, e);
	if (r < 0)
		return r;
	for (int i = first; r == 0 && i < argc; i++) {
		struct container c;
		if ((r = container_find(&s, argv[i], &c, e)) < 0 || (r = stop_for_rm(&s, &c, force, e)) < 0)
			break;
		_cleanup_close_ int hold = container_hold(&s, &c, true, e);
		if (hold < 0) {
			r = hold;
			break;
		}
		remove_leftovers(&c);
		if ((r = container_remove(&s, &c, e)) == 0)
			fprintf(out, "%s\n", argv[i]);
	}
	store_close(&s);
	idmap_plan_release(&plan);
	return r;
}

/* A kept container, locked against a run, and its image. */
static int find_stopped(struct store *s, const char *ref, struct container *c, struct store_image *img, int *hold,
			struct ubx_err *e)
{
	char id[DIGEST_STR_LEN + 1];
	int r = container_find(s, ref, c, e);
	if (r < 0 || (*hold = container_hold(s, c, true, e)) < 0)
		return r < 0 ? r : *hold;
	return store_image_find(s, digest_format(&c->image, id), img, e);
}

/* usbox commit CONTAINER NAME[:TAG] */
static int cmd_commit(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	if (argc != 3)
		return ubx_fail(e, 0, "commit: usage: usbox commit CONTAINER NAME[:TAG]");
	char norm[STORE_NAME_MAX], upper[4300], id[DIGEST_STR_LEN + 1];
	struct store s;
	struct idmap_plan plan;
	struct container c;
	struct store_image base = { 0 }, img;
	bool single;
	int hold = -1;
	int r = store_normalize_name(argv[2], norm, sizeof(norm), e);
	if (r == 0 && (r = open_store(&s, &plan, &single, e)) == 0) {
		if ((r = find_stopped(&s, argv[1], &c, &base, &hold, e)) == 0) {
			snprintf(upper, sizeof(upper), "%s/upper", c.dir);
			if ((r = image_commit(&s, &base, upper, norm, single, &img, e)) == 0) {
				fprintf(out, "%s\n", digest_format(&img.id, id));
				store_image_free(&img);
			}
		}
		store_image_free(&base);
		if (hold >= 0)
			close(hold);
		store_close(&s);
		idmap_plan_release(&plan);
	}
	return r;
}

/* usbox export CONTAINER -o FILE */
static int cmd_export(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	const char *file = NULL, *ref = NULL;
	(void)out;
	for (int i = 1; i < argc; i++)
		if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
			file = argv[++i];
		else if (argv[i][0] != '-' && !ref)
			ref = argv[i];
		else
			return ubx_fail(e, 0, "export: unknown argument '%s'", argv[i]);
	if (!file || !ref)
		return ubx_fail(e, 0, "export: usage: usbox export CONTAINER -o FILE");
	char upper[4300], work[4300];
	struct store s;
	struct idmap_plan plan;
	struct container c;
	struct store_image img = { 0 };
	bool single;
	int hold = -1, fd = -1;
	int r = open_store(&s, &plan, &single, e);
	if (r < 0)
		return r;
	char **layers = NULL;
	if ((r = find_stopped(&s, ref, &c, &img, &hold, e)) == 0 &&
	    !(layers = calloc(img.n_layers + 1, sizeof(char *))))
		r = ubx_fail(e, ENOMEM, "export");
	for (size_t i = 0; r == 0 && i < img.n_layers; i++) {
		char path[4200];
		store_layer_path(&s, &img.layers[img.n_layers - 1 - i].diff_id, path, sizeof(path));
		if (!(layers[i] = strdup(path)))
			r = ubx_fail(e, ENOMEM, "export");
	}
	snprintf(upper, sizeof(upper), "%s/upper", c.dir);
	snprintf(work, sizeof(work), "%s/work", c.dir);
	if (r == 0 && (fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		r = ubx_fail(e, errno, "export: %s", file);
	char fuse[4096];
	bool has_fuse = cli_fuse_program(fuse, sizeof(fuse)) == 0;
	if (r == 0 && (r = image_export(layers, upper, work, has_fuse ? fuse : NULL,
					strcmp(c.driver, "fuse-overlayfs") == 0, single, fd, e)) < 0)
		(void)unlink(file);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; layers && layers[i]; i++)
		free(layers[i]);
	free(layers);
	store_image_free(&img);
	if (hold >= 0)
		close(hold);
	store_close(&s);
	idmap_plan_release(&plan);
	return r;
}

bool containers_is_command(const char *word)
{
	return strcmp(word, "rm") == 0 || strcmp(word, "commit") == 0 || strcmp(word, "export") == 0;
}

int containers_command(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	if (strcmp(argv[0], "rm") == 0)
		return cmd_rm(argc, argv, out, e);
	if (strcmp(argv[0], "commit") == 0)
		return cmd_commit(argc, argv, out, e);
	return cmd_export(argc, argv, out, e);
}
