/* SPDX-License-Identifier: MIT */
/*
 * idmap.h - user and group id maps for the sandbox's user namespace.
 *
 * DOC: Theory of operation
 * The sandbox's identity inside (the caller's own uid by default, 0 with
 * --root) always maps to the caller outside, so files the caller owns show as
 * the sandbox user's and files the sandbox writes in a writable bind belong to
 * the caller.  The other 65535 ids inside come from the caller's subordinate
 * ranges in /etc/subuid and /etc/subgid, laid out around that identity the way
 * rootless podman's keep-id does.  Only the setuid helpers newuidmap/newgidmap
 * may write such a map for an unprivileged caller, and running them costs more
 * than the rest of a sandbox start.  So the helpers run once per user to map a
 * small "holder" process's user namespace (as rootless podman's pause process
 * does); each sandbox then joins that namespace and is cloned into a child user
 * namespace whose map usbox writes itself, without helpers.  Sandboxes stay
 * apart: each has its own child namespace and capabilities only there.  The
 * holder exits by itself after it has been idle for a while.  Without a range
 * or a helper usbox falls back to a single-id map and says why.
 */
#ifndef USBOX_IDMAP_H
#define USBOX_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../common/error.h"

#define IDMAP_MAX_RANGES 16
#define IDMAP_MAX_EXTENTS (2 * IDMAP_MAX_RANGES + 1)
#define IDMAP_SANDBOX_IDS 65536u /* ids mapped into a sandbox with a full map */

/* A subordinate range from /etc/subuid or /etc/subgid (outside ids). */
struct idmap_range {
	uint32_t start;
	uint32_t count;
};

/* One line of a uid_map or gid_map. */
struct idmap_extent {
	uint32_t inside;
	uint32_t outside;
	uint32_t count;
};

struct idmap {
	struct idmap_extent ext[IDMAP_MAX_EXTENTS];
	size_t n;
};

/*
 * idmap_subid_parse() - the ranges listed for a user in a subuid/subgid file.
 * @f:     the open file
 * @name:  the user's name (may be NULL)
 * @id:    the user's numeric id; lines may name the user either way
 * @out:   up to IDMAP_MAX_RANGES ranges, in file order
 *
 * Blank lines, '#' comments and malformed lines are skipped, as shadow does.
 * Return: the number of ranges stored (0 when the user has none).
 */
size_t idmap_subid_parse(FILE *f, const char *name, uint32_t id, struct idmap_range out[IDMAP_MAX_RANGES]);

/*
 * idmap_layout() - lay out a map of @total ids with @inside_self -> @outside_self
 * and the rest of the inside ids from 0 upward filled from @ranges in order.
 * With no ranges (or @total 1) the result is the single-id map.
 * Return: the number of ids mapped (at most @total); @out sorted by inside id.
 */
uint64_t idmap_layout(uint32_t inside_self, uint32_t outside_self, const struct idmap_range *ranges,
		      size_t nranges, uint64_t total, struct idmap *out);

/*
 * idmap_format() - @m in the kernel's uid_map text form, one extent a line.
 * Return: the length written, or -ENOSPC when @len is too small.
 */
int idmap_format(const struct idmap *m, char *buf, size_t len);

/* How the map gets written; chosen by idmap_prepare(). */
enum idmap_method {
	IDMAP_SINGLE, /* one id, written by usbox itself, setgroups denied */
	IDMAP_HOLDER, /* full map written by usbox inside the holder's namespace */
	IDMAP_HELPER, /* full map written by newuidmap/newgidmap for this sandbox */
	IDMAP_NONE,   /* no user namespace of its own (an OCI container sharing its creator's) */
	IDMAP_GIVEN,  /* the maps an OCI config gives: written directly by root, else by the helpers */
};

struct idmap_request {
	bool want_full;      /* --map auto */
	uint32_t uid, gid;   /* the caller, outside */
	uint32_t inside_uid; /* the sandbox's identity inside */
	uint32_t inside_gid;
	const char *user;    /* the caller's name, for /etc/subuid; may be NULL */
	const char *subuid_path, *subgid_path; /* NULL: /etc/subuid, /etc/subgid */
	bool join_userns;    /* join @userns_fd (fully mapped like the holder's) instead */
	int userns_fd;
};

struct idmap_plan {
	enum idmap_method method;
	struct idmap uid, gid;       /* relative to the sandbox's parent namespace */
	int holder_lock_fd;          /* kept open while the sandbox runs, or -1 */
	char warning[480];           /* why a full map was not possible, or "" */
};

/*
 * idmap_prepare() - decide how to map ids and, with the holder, move the
 * calling process into the holder's user namespace so that the sandbox it
 * clones next becomes a child of it.  Never fails for a missing range or
 * helper: it falls back to a single map and leaves the reason in
 * @plan->warning.  Must run single-threaded, before the clone.
 * Return: 0, or a negative errno for errors that leave no way to map at all.
 */
int idmap_prepare(const struct idmap_request *req, struct idmap_plan *plan, struct ubx_err *e);

/*
 * idmap_apply() - write the maps of the user namespace of @pid (a child the
 * caller just cloned with CLONE_NEWUSER).  When the helpers fail, it writes a
 * single-id map instead and records the helper's message in @plan->warning.
 * Return: 0 or a negative errno.
 */
int idmap_apply(struct idmap_plan *plan, const struct idmap_request *req, pid_t pid, struct ubx_err *e);

/* idmap_plan_release() - close the holder lock; the holder may then go idle. */
void idmap_plan_release(struct idmap_plan *plan);

/*
 * idmap_run_helper() - run newuidmap or newgidmap (@helper) for @pid with the
 * map @m given in outside (host) ids.
 * Return: 0, or a negative errno with the helper's own message in @e.
 */
int idmap_run_helper(const char *helper, pid_t pid, const struct idmap *m, struct ubx_err *e);

/*
 * idmap_write_identity() - give @pid, a child that just made a user namespace
 * of the caller's, the same ids as the caller's namespace (each mapped to
 * itself).  The caller needs CAP_SETUID/CAP_SETGID there (e.g. in the holder).
 * Return: 0 or a negative errno.
 */
int idmap_write_identity(pid_t pid, struct ubx_err *e);

/*
 * idmap_write_direct() - write @m to /proc/@pid/{uid,gid}_map (@which is "uid"
 * or "gid") without a helper; with @deny_setgroups write "deny" to setgroups
 * first, as a single map by an unprivileged writer requires.
 * Return: 0 or a negative errno.
 */
int idmap_write_direct(pid_t pid, const char *which, const struct idmap *m, bool deny_setgroups,
		       struct ubx_err *e);

/*
 * holder_enter() - join the caller's holder user namespace, starting the
 * holder (and running the helpers for it) when none is alive.  @uid_ranges
 * and @gid_ranges are the caller's subordinate ranges.
 * Return: a lock fd to keep open while the sandbox runs, or a negative errno
 * (with the reason in @e) and the caller still in its own namespace.
 */
int holder_enter(uint32_t uid, uint32_t gid, const struct idmap_range *uid_ranges, size_t n_uid,
		 const struct idmap_range *gid_ranges, size_t n_gid, struct ubx_err *e);

/*
 * holder_userns() - the user namespace of @uid's running id-map holder,
 * checked as holder_enter() checks it before joining (its pid and namespace
 * agree with holder.pid; it runs in the caller's pid namespace; its
 * namespace is a child of the caller's, owned by @uid).  Never starts one.
 * The caller must be in its own user namespace, not the holder's.
 * Return: an fd, or -EPERM with the reason in @e (none runs, or not @uid's).
 */
int holder_userns(uint32_t uid, struct ubx_err *e);

/*
 * idmap_userns_check() - whether the user namespace @ns is owned by @uid
 * (NS_GET_OWNER_UID, as the caller's namespace sees it) and is a child of
 * the user namespace @parent (one NS_GET_PARENT step: the same st_dev and
 * st_ino), which @parent_what names in the reason.
 * Return: 0, or -EPERM with the reason in @e (may be NULL).
 */
int idmap_userns_check(int ns, int parent, const char *parent_what, uint32_t uid, struct ubx_err *e);

#endif
