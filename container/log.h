/* SPDX-License-Identifier: MIT */
/*
 * log.h - a detached container's output: ctr.log in its directory, in the
 * CRI logging format that Kubernetes' kubelet and podman's k8s-file write.
 *
 * DOC: Theory of operation
 * Each line of the command's output becomes one record
 *     2026-12-01T14:15:33.123456789Z stdout F the line
 * ("P" instead of "F" for a piece of a line longer than the buffer, or one
 * still unfinished when the stream paused): stdout and stderr stay apart and
 * a reader can tell them from the text.  When the file would pass max_size
 * it is renamed ctr.log.1 (ctr.log.1 becomes ctr.log.2, ... up to max_files
 * files in all) and a new one begins: Docker's json-file max-size/max-file.
 */
#ifndef USBOX_CONTAINER_LOG_H
#define USBOX_CONTAINER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/error.h"

#define CTR_LOG_LINE 16384
#define CTR_LOG_MAX_SIZE (10u << 20) /* the default --log-opt max-size */
#define CTR_LOG_MAX_FILES 2          /* the default --log-opt max-file */

enum ctr_stream { CTR_STDOUT, CTR_STDERR };

struct ctr_log {
	int fd;
	char path[4300];
	uint64_t size, max_size;
	unsigned max_files;
	char line[2][CTR_LOG_LINE]; /* an unfinished line of each stream */
	size_t n_line[2];
};

/*
 * ctr_log_open() - start (or go on with) @cdir/ctr.log.
 * Return: 0 or a negative errno.
 */
int ctr_log_open(struct ctr_log *l, const char *cdir, uint64_t max_size, unsigned max_files, struct ubx_err *e);

/* ctr_log_write() - @n bytes of @stream's output (best effort: a full disk loses lines). */
void ctr_log_write(struct ctr_log *l, enum ctr_stream stream, const char *buf, size_t n);

/* ctr_log_close() - write what is left of unfinished lines and close. */
void ctr_log_close(struct ctr_log *l);

struct ctr_log_opts {
	bool follow, timestamps;
	long tail;                /* the last N lines; -1: all */
	bool (*running)(void *);  /* with follow: whether more can come */
	void *arg;
};

/*
 * ctr_log_print() - `usbox logs`: the records of @cdir's log, stdout's to
 * @out and stderr's to @err, as @o says.
 * Return: 0 or a negative errno.
 */
int ctr_log_print(const char *cdir, const struct ctr_log_opts *o, FILE *out, FILE *err, struct ubx_err *e);

#endif
