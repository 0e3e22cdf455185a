/* SPDX-License-Identifier: MIT */
/*
 * digest.h - sha256 content digests: "sha256:<64 hex>" strings and a
 * streaming hash.
 *
 * DOC: Theory of operation
 * Images name every blob by its digest.  digest_parse() is the one strict
 * parser of a digest string (a pure function, fuzzed): the algorithm must be
 * sha256 and the encoded part exactly 64 lowercase hex digits, as the OCI
 * image-spec registers it; any other algorithm is refused with a line naming
 * it.  The hash itself is OpenSSL's libcrypto (EVP, which uses the CPU's SHA
 * extensions where there are some), dlopen()ed on the first digest_init(), so
 * that only the image commands load it.
 */
#ifndef USBOX_IMAGE_DIGEST_H
#define USBOX_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"

#define DIGEST_LEN 32                  /* bytes of a sha256 */
#define DIGEST_HEX_LEN 64              /* its hex digits */
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex, without the NUL */

/* A sha256 value. */
struct digest {
	uint8_t b[DIGEST_LEN];
};

/* A running hash; opaque. */
struct digest_ctx;

/*
 * digest_parse() - a digest string, strictly.
 * @s:   "sha256:" and 64 lowercase hex digits, nothing around them
 * @out: the value
 * @e:   on failure, one line quoting (a printable cut of) @s and why
 *
 * Return: 0, -EINVAL when @s is not a digest, -ENOTSUP for another algorithm.
 */
int digest_parse(const char *s, struct digest *out, struct ubx_err *e);

/*
 * digest_format() - "sha256:<hex>" into @buf.
 * @d:   the value
 * @buf: DIGEST_STR_LEN + 1 bytes
 *
 * Return: @buf.
 */
char *digest_format(const struct digest *d, char buf[DIGEST_STR_LEN + 1]);

/*
 * digest_hex() - the 64 hex digits alone (as in blobs/sha256/<hex>) into @buf.
 * Return: @buf.
 */
char *digest_hex(const struct digest *d, char buf[DIGEST_HEX_LEN + 1]);

/* digest_eq() - whether @a and @b are the same value. */
bool digest_eq(const struct digest *a, const struct digest *b);

/*
 * digest_init() - start a hash.
 * @out: the context; free it with digest_free() (also after digest_final())
 * @e:   on failure, what failed (libcrypto missing names the package)
 *
 * Return: 0 or a negative errno.
 */
int digest_init(struct digest_ctx **out, struct ubx_err *e);

/*
 * digest_update() - hash @len more bytes.
 * Return: 0 or a negative errno.
 */
int digest_update(struct digest_ctx *c, const void *buf, size_t len, struct ubx_err *e);

/*
 * digest_final() - the value of everything hashed since digest_init().
 * Return: 0 or a negative errno.
 */
int digest_final(struct digest_ctx *c, struct digest *out, struct ubx_err *e);

/* digest_free() - release @c (NULL is fine). */
void digest_free(struct digest_ctx *c);

/*
 * digest_buf() - the digest of one buffer.
 * Return: 0 or a negative errno.
 */
int digest_buf(const void *buf, size_t len, struct digest *out, struct ubx_err *e);

/*
 * digest_fd() - the sha256 of what the file @fd holds, from its start, and
 * its size in *@size.
 * Return: 0 or a negative errno.
 */
int digest_fd(int fd, struct digest *out, uint64_t *size, struct ubx_err *e);

static inline void cleanup_digest_ctxp(struct digest_ctx **c)
{
	digest_free(*c);
}
#define _cleanup_digest_ __attribute__((cleanup(cleanup_digest_ctxp)))

#endif
