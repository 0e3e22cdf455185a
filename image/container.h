/* SPDX-License-Identifier: MIT */
/*
 * container.h - containers in the image store: a writable layer over an
 * image's, and a record (containers/ID/container.json).
 *
 * DOC: Theory of operation
 * A container is made under the store's exclusive lock: a random 64-digit
 * id, containers/ID/{upper,work} owned by the caller (the container's root),
 * and a record naming the image, so that rmi refuses an image in use.  Names
 * are unique.  The writable layer survives the command when the container
 * is kept (--name) until container_remove(); a --rm container is removed as
 * soon as its command ends.  Removing needs the holder's user namespace, as
 * the layer holds files of the subordinate ids.
 */
#ifndef USBOX_IMAGE_CONTAINER_H
#define USBOX_IMAGE_CONTAINER_H

#include <stdbool.h>

#include "../common/error.h"
#include "store.h"

struct container {
	char id[65];
	char name[STORE_NAME_MAX];   /* "" when unnamed */
	struct digest image;
	char created[40];
	char dir[4200];             /* STORE/containers/ID */
	char driver[16];            /* what serves its root: "overlay" (the kernel's overlayfs) or
				     * "fuse-overlayfs", which writes its layer its own way */
	int hold;                   /* container_hold()'s fd while it runs, or -1 */
	bool host;                  /* a sandbox of the host view: no image, no layer */
	bool ephemeral;             /* removed when it ends (a foreground one without --name or
				     * with --rm): when its supervisor was killed, its name is free */
};

/*
 * container_create() - a new container of @img (NULL: of the host view, with
 * no layer) named @name (NULL: none), in
 * @s locked exclusively.
 * Return: 0, -EEXIST when the name is taken, or another negative errno.
 */
int container_create(struct store *s, const struct store_image *img, const char *name, bool ephemeral,
		     struct container *out, struct ubx_err *e);

/*
 * container_find() - the container named or with the id (or unique id
 * prefix) @ref.
 * Return: 0 or -ENOENT.
 */
int container_find(struct store *s, const char *ref, struct container *out, struct ubx_err *e);

/*
 * container_each() - call @fn for every container until it returns non-zero.
 * Return: what @fn last returned, or a negative errno.
 */
int container_each(struct store *s, int (*fn)(const struct container *, void *), void *arg, struct ubx_err *e);

/* container_image_used() - whether a container uses the image @id. */
bool container_image_used(struct store *s, const struct digest *id, char *by, size_t len);

/*
 * container_hold() - lock @c's record: shared while its command runs (the
 * fd stays with the supervisor, never inside), exclusive to remove or commit
 * it; never waits.
 * Return: the locked fd, -EBUSY ("container X is running"), or another
 * negative errno.
 */
int container_hold(struct store *s, const struct container *c, bool exclusive, struct ubx_err *e);

/*
 * container_set_driver() - record in @c's record (rewritten in place, so a
 * hold on it stays) that @driver serves its root; @s locked exclusively.
 * Return: 0 or a negative errno.
 */
int container_set_driver(struct store *s, struct container *c, const char *driver, struct ubx_err *e);

/*
 * container_running() - whether @c's supervisor holds it: the one sign of a
 * running container (a killed supervisor's lock goes with it).
 */
bool container_running(struct store *s, const struct container *c);

/*
 * container_wait() - wait until @c no longer runs, at most @timeout_ms
 * (negative: for ever); takes no lock.
 * Return: 0, -ETIMEDOUT, or another negative errno.
 */
int container_wait(struct store *s, const struct container *c, int timeout_ms, struct ubx_err *e);

/*
 * container_remove() - remove @c's layer and record.
 * Return: 0 or a negative errno.
 */
int container_remove(struct store *s, const struct container *c, struct ubx_err *e);

#endif
