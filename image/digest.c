/* SPDX-License-Identifier: MIT */
/*
 * digest.c - sha256 digests: the strict string parser, and libcrypto's EVP
 * hash behind dlopen().
 *
 * DOC: Theory of operation
 * digest_parse() and digest_format() are pure.  The hash is OpenSSL's: EVP
 * picks the fastest sha256 the CPU has (SHA-NI, AVX2), which a hand-written
 * one would not.  libcrypto is loaded on the first digest_init() and stays
 * loaded; a struct digest_ctx is an EVP_MD_CTX.
 */
#include "digest.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CRYPTO_FUNCS(X)         \
	X(EVP_MD_CTX_new)       \
	X(EVP_MD_CTX_free)      \
	X(EVP_DigestInit_ex)    \
	X(EVP_DigestUpdate)     \
	X(EVP_DigestFinal_ex)   \
	X(EVP_sha256)

static struct {
#define FIELD(name) __typeof__(name) *name;
	CRYPTO_FUNCS(FIELD)
#undef FIELD
	const EVP_MD *sha256;
	bool loaded;
} api;

static int load_api(struct ubx_err *e)
{
	void *lib;

	if (api.loaded)
		return 0;
	if (!(lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL)))
		return ubx_fail(e, ENOENT, "sha256 needs libcrypto.so.3 (apt-get install libssl3): %s", dlerror());
#define LOAD(name)                                                                         \
	do {                                                                               \
		if (!(api.name = (__typeof__(name) *)dlsym(lib, #name)))                   \
			return ubx_fail(e, ENOENT, "libcrypto.so.3 lacks %s (too old?)", #name); \
	} while (0);
	CRYPTO_FUNCS(LOAD)
#undef LOAD
	if (!(api.sha256 = api.EVP_sha256()))
		return ubx_fail(e, ENOENT, "libcrypto.so.3 has no sha256");
	api.loaded = true;
	return 0;
}

/* shown() - @s cut short and with anything unprintable replaced, for a message. */
static const char *shown(const char *s, char buf[40])
{
	size_t i = 0;
	for (; i < 36 && s[i]; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i])
		buf[i - 3] = buf[i - 2] = buf[i - 1] = '.';
	buf[i] = '\0';
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int digest_parse(const char *s, struct digest *out, struct ubx_err *e)
{
	const char *colon = strchr(s, ':');
	char buf[40];

	*out = (struct digest){ 0 };
	if (!colon || colon == s)
		return ubx_fail(e, 0, "'%s' is not a digest (sha256:<64 hex digits>)", shown(s, buf));
	if ((size_t)(colon - s) != 6 || strncmp(s, "sha256", 6) != 0) {
		char alg[24];
		snprintf(alg, sizeof(alg), "%.*s", (int)(colon - s < 20 ? colon - s : 20), s);
		(void)ubx_fail(e, 0, "digest algorithm '%s' is not supported (only sha256)", shown(alg, buf));
		return -ENOTSUP;
	}
	const char *hex = colon + 1;
	for (size_t i = 0; i < DIGEST_LEN; i++) {
		/* hex[2i + 1] is read only when hex[2i] is a digit, so not past a NUL */
		int hi = hexval(hex[2 * i]), lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ubx_fail(e, 0, "'%s' is not a digest (sha256:<64 lowercase hex digits>)",
					shown(s, buf));
		out->b[i] = (uint8_t)(hi << 4 | lo);
	}
	if (hex[DIGEST_HEX_LEN] != '\0')
		return ubx_fail(e, 0, "'%s' is not a digest (more than 64 hex digits)", shown(s, buf));
	return 0;
}

char *digest_hex(const struct digest *d, char buf[DIGEST_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < DIGEST_LEN; i++) {
		buf[2 * i] = digits[d->b[i] >> 4];
		buf[2 * i + 1] = digits[d->b[i] & 15];
	}
	buf[DIGEST_HEX_LEN] = '\0';
	return buf;
}

char *digest_format(const struct digest *d, char buf[DIGEST_STR_LEN + 1])
{
	memcpy(buf, "sha256:", 7);
	digest_hex(d, buf + 7);
	return buf;
}

bool digest_eq(const struct digest *a, const struct digest *b)
{
	return memcmp(a->b, b->b, DIGEST_LEN) == 0;
}

int digest_init(struct digest_ctx **out, struct ubx_err *e)
{
	EVP_MD_CTX *c;
	int r;

	*out = NULL;
	if ((r = load_api(e)) < 0)
		return r;
	if (!(c = api.EVP_MD_CTX_new()))
		return ubx_fail(e, ENOMEM, "sha256");
	if (api.EVP_DigestInit_ex(c, api.sha256, NULL) != 1) {
		api.EVP_MD_CTX_free(c);
		return ubx_fail(e, EIO, "sha256: EVP_DigestInit_ex failed");
	}
	*out = (struct digest_ctx *)c;
	return 0;
}

int digest_update(struct digest_ctx *c, const void *buf, size_t len, struct ubx_err *e)
{
	if (len && api.EVP_DigestUpdate((EVP_MD_CTX *)c, buf, len) != 1)
		return ubx_fail(e, EIO, "sha256: EVP_DigestUpdate failed");
	return 0;
}

int digest_final(struct digest_ctx *c, struct digest *out, struct ubx_err *e)
{
	unsigned len = 0;

	if (api.EVP_DigestFinal_ex((EVP_MD_CTX *)c, out->b, &len) != 1 || len != DIGEST_LEN)
		return ubx_fail(e, EIO, "sha256: EVP_DigestFinal_ex failed");
	return 0;
}

void digest_free(struct digest_ctx *c)
{
	if (c)
		api.EVP_MD_CTX_free((EVP_MD_CTX *)c);
}

int digest_buf(const void *buf, size_t len, struct digest *out, struct ubx_err *e)
{
	_cleanup_digest_ struct digest_ctx *c = NULL;
	int r;

	if ((r = digest_init(&c, e)) < 0 || (r = digest_update(c, buf, len, e)) < 0)
		return r;
	return digest_final(c, out, e);
}

int digest_fd(int fd, struct digest *out, uint64_t *size, struct ubx_err *e)
{
	_cleanup_digest_ struct digest_ctx *c = NULL;
	char buf[1 << 16];
	ssize_t n;
	int r = digest_init(&c, e);
	*size = 0;
	if (r < 0)
		return r;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return ubx_fail(e, errno, "rewind");
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if ((r = digest_update(c, buf, (size_t)n, e)) < 0)
			return r;
		*size += (uint64_t)n;
	}
	return n < 0 ? ubx_fail(e, errno, "read") : digest_final(c, out, e);
}
