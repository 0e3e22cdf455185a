/* SPDX-License-Identifier: MIT */
/*
 * cleanup.h - scope-bound release of memory, file descriptors and streams.
 *
 * Declare a variable with one of the _cleanup_*_ attributes and it is freed or
 * closed on every path out of its scope.  Hand ownership on with TAKE_FD() or
 * TAKE_PTR(), which return the value and leave the variable empty.
 */
#ifndef USBOX_COMMON_CLEANUP_H
#define USBOX_COMMON_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		(void)close(*fd);
		errno = saved;
	}
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}

/* Frees a NULL-terminated array of strings and the array itself. */
static inline void cleanup_strvp(char ***v)
{
	if (!*v)
		return;
	for (char **p = *v; *p; p++)
		free(*p);
	free(*v);
}

#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))
#define _cleanup_strv_ __attribute__((cleanup(cleanup_strvp)))

#define TAKE_FD(fd)                  \
	({                           \
		int take_fd_ = (fd); \
		(fd) = -1;           \
		take_fd_;            \
	})

#define TAKE_PTR(p)                         \
	({                                  \
		__typeof__(p) take_ptr_ = (p); \
		(p) = NULL;                 \
		take_ptr_;                  \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
