/* SPDX-License-Identifier: MIT */
/*
 * log.c - CRI-format container logs with rotation (log.h).
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "state.h"

static const char *const stream_names[] = { "stdout", "stderr" };

int ctr_log_open(struct ctr_log *l, const char *cdir, uint64_t max_size, unsigned max_files, struct ubx_err *e)
{
	struct stat st;
	*l = (struct ctr_log){ .max_size = max_size ? max_size : CTR_LOG_MAX_SIZE,
			       .max_files = max_files ? max_files : CTR_LOG_MAX_FILES };
	snprintf(l->path, sizeof(l->path), "%s/ctr.log", cdir);
	l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (l->fd < 0)
		return ubx_fail(e, errno, "%s", l->path);
	l->size = fstat(l->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

/* ctr.log -> ctr.log.1 -> ... -> ctr.log.(max_files-1); the oldest goes. */
static void rotate(struct ctr_log *l)
{
	char from[4400], to[4400];
	for (unsigned i = l->max_files - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", l->path);
		else
			snprintf(from, sizeof(from), "%s.%u", l->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", l->path, i);
		(void)rename(from, to);
	}
	if (l->max_files == 1)
		(void)unlink(l->path);
	close(l->fd);
	l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	l->size = 0;
}

static void record(struct ctr_log *l, enum ctr_stream s, char tag, const char *text, size_t n)
{
	char head[CTR_TIME_LEN + 16];
	char now[CTR_TIME_LEN];
	ctr_now(now);
	int h = snprintf(head, sizeof(head), "%s %s %c ", now, stream_names[s], tag);
	uint64_t len = (uint64_t)h + n + 1;
	if (l->size && l->size + len > l->max_size)
		rotate(l);
	if (l->fd < 0)
		return;
	struct iovec iov[3] = { { head, (size_t)h }, { (void *)text, n }, { "\n", 1 } };
	if (writev(l->fd, iov, 3) > 0)
		l->size += len;
}

void ctr_log_write(struct ctr_log *l, enum ctr_stream s, const char *buf, size_t n)
{
	while (n) {
		const char *nl = memchr(buf, '\n', n);
		size_t take = nl ? (size_t)(nl - buf) : n;
		size_t room = sizeof(l->line[s]) - l->n_line[s];
		if (take >= room) { /* too long for one record: a partial one */
			memcpy(l->line[s] + l->n_line[s], buf, room);
			record(l, s, 'P', l->line[s], sizeof(l->line[s]));
			l->n_line[s] = 0;
			buf += room, n -= room;
			continue;
		}
		memcpy(l->line[s] + l->n_line[s], buf, take);
		l->n_line[s] += take;
		buf += take, n -= take;
		if (!nl)
			break;
		record(l, s, 'F', l->line[s], l->n_line[s]);
		l->n_line[s] = 0;
		buf++, n--;
	}
}

void ctr_log_close(struct ctr_log *l)
{
	for (int s = 0; s < 2; s++)
		if (l->n_line[s])
			record(l, (enum ctr_stream)s, 'F', l->line[s], l->n_line[s]);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

/* ---------------------------------------------------------------- reading */

struct rec {
	const char *time;
	size_t time_len;
	int stream;
	bool partial;
	const char *text;
	size_t len;
};

/* Splits one record; false for a line that is none. */
static bool parse_record(const char *line, size_t n, struct rec *r)
{
	const char *sp1 = memchr(line, ' ', n);
	if (!sp1)
		return false;
	const char *s = sp1 + 1;
	size_t rest = n - (size_t)(s - line);
	if (rest >= 9 && memcmp(s, "stdout ", 7) == 0)
		r->stream = 0;
	else if (rest >= 9 && memcmp(s, "stderr ", 7) == 0)
		r->stream = 1;
	else
		return false;
	if ((s[7] != 'F' && s[7] != 'P') || s[8] != ' ')
		return false;
	r->time = line, r->time_len = (size_t)(sp1 - line);
	r->partial = s[7] == 'P';
	r->text = s + 9, r->len = rest - 9;
	return true;
}

struct printer {
	const struct ctr_log_opts *o;
	FILE *f[2];
	bool mid[2]; /* inside a line of partial records */
};

static void print_record(struct printer *p, const struct rec *r)
{
	FILE *f = p->f[r->stream];
	if (p->o->timestamps && !p->mid[r->stream])
		fprintf(f, "%.*s ", (int)r->time_len, r->time);
	fwrite(r->text, 1, r->len, f);
	if (!r->partial)
		fputc('\n', f);
	p->mid[r->stream] = r->partial;
	fflush(f);
}

/* Calls @fn for every whole record in @buf[0..n); returns what it used. */
static size_t each_record(const char *buf, size_t n, void (*fn)(void *, const struct rec *), void *arg)
{
	size_t used = 0;
	if (!buf)
		return 0;
	for (const char *nl; (nl = memchr(buf + used, '\n', n - used)); used = (size_t)(nl - buf) + 1) {
		struct rec r;
		if (parse_record(buf + used, (size_t)(nl - buf) - used, &r))
			fn(arg, &r);
	}
	return used;
}

static int slurp(const char *path, char **buf, size_t *n)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		char *nb = realloc(*buf, *n + got);
		if (!nb)
			return -ENOMEM;
		memcpy(nb + *n, chunk, got);
		*buf = nb, *n += got;
	}
	return 0;
}

static void count_line(void *arg, const struct rec *r)
{
	if (!r->partial)
		++*(long *)arg;
}

struct skipper {
	struct printer *p;
	long skip; /* whole lines still to skip */
};

static void print_after(void *arg, const struct rec *r)
{
	struct skipper *s = arg;
	if (s->skip > 0) {
		if (!r->partial)
			s->skip--;
		return;
	}
	print_record(s->p, r);
}

/* Follows @path from @off until the container ends and the file is read. */
static int follow(const char *path, off_t off, struct printer *p)
{
	char buf[65536];
	size_t have = 0;
	struct stat st, now;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || lseek(fd, off, SEEK_SET) < 0)
		return fd < 0 ? -errno : (close(fd), -errno);
	for (int idle = 0;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n > 0) {
			have += (size_t)n;
			struct skipper s = { p, 0 };
			size_t used = each_record(buf, have, print_after, &s);
			if (used == 0 && have == sizeof(buf))
				used = have; /* no record is this long: drop it */
			memmove(buf, buf + used, have - used);
			have -= used;
			idle = 0;
			continue;
		}
		/* rotated: the new file from its start */
		if (stat(path, &now) == 0 && (now.st_ino != st.st_ino || now.st_size < lseek(fd, 0, SEEK_CUR))) {
			close(fd);
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
				return -errno;
			continue;
		}
		if (!p->o->running(p->o->arg) && idle++ > 0)
			break; /* one more read after it ended */
		usleep(50000);
	}
	close(fd);
	return 0;
}

int ctr_log_print(const char *cdir, const struct ctr_log_opts *o, FILE *out, FILE *err, struct ubx_err *e)
{
	char path[4400];
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;
	struct printer p = { .o = o, .f = { out, err } };
	/* the rotated files, oldest first, then ctr.log */
	for (unsigned i = 9; i >= 1; i--) {
		snprintf(path, sizeof(path), "%s/ctr.log.%u", cdir, i);
		int r = slurp(path, &buf, &n);
		if (r < 0 && r != -ENOENT)
			return ubx_fail(e, -r, "%s", path);
	}
	snprintf(path, sizeof(path), "%s/ctr.log", cdir);
	size_t before = n;
	int r = slurp(path, &buf, &n);
	if (r < 0 && r != -ENOENT)
		return ubx_fail(e, -r, "%s", path);
	long lines = 0;
	each_record(buf, n, count_line, &lines);
	struct skipper s = { &p, o->tail >= 0 && lines > o->tail ? lines - o->tail : 0 };
	size_t used = each_record(buf, n, print_after, &s);
	if (!o->follow)
		return 0;
	/* from what was read of ctr.log on (an unfinished last line again) */
	off_t from = (off_t)(n - before) - (off_t)(n - used);
	if ((r = follow(path, from < 0 ? 0 : from, &p)) < 0 && r != -ENOENT)
		return ubx_fail(e, -r, "follow %s", path);
	return 0;
}
