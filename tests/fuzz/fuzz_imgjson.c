/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the JSON an image archive brings - docker-archive's
 * manifest.json, OCI's index.json, an image manifest, an image config - and
 * the digest strings in them.  The first byte picks the parser (its low two
 * bits) and the form: the rest of the input as text, or (odd second bit) as
 * the choices of a generator of well-formed JSON made of the formats' own
 * keys and values, so that the field checks are reached (json-c itself is
 * not instrumented, and random text is seldom JSON).  Whatever the input, a
 * refusal is one line starting with the file's name, and a result is freed
 * without leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../image/format_internal.h"

static const char *const keys[] = {
	"Config", "RepoTags", "Layers", "LayerSources", "mediaType", "digest", "size", "schemaVersion",
	"manifests", "config", "layers", "annotations", "org.opencontainers.image.ref.name", "platform",
	"architecture", "os", "variant", "urls", "Env", "Entrypoint", "Cmd", "WorkingDir", "User",
	"ExposedPorts", "Volumes", "Labels", "StopSignal", "rootfs", "type", "diff_ids", "history", "created",
	"created_by", "author", "comment", "empty_layer", "imageLayoutVersion",
};

static const char *const atoms[] = {
	"\"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"", "\"sha256:\"",
	"\"sha512:00\"", "\"SHA256:BA78\"", "\"application/vnd.oci.image.manifest.v1+json\"",
	"\"application/vnd.oci.image.index.v1+json\"", "\"application/vnd.oci.image.layer.v1.tar+gzip\"",
	"\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\"", "\"layers\"", "\"amd64\"", "\"linux\"",
	"\"a.json\"", "\"x/layer.tar\"", "\"busybox:latest\"", "\"A=1\"", "\"80/tcp\"", "\"\"", "\"\\u0000\"",
	"0", "1", "2", "-1", "1.5", "9223372036854775807", "18446744073709551615", "null", "true", "false", "{}", "[]",
};

#include "jsongen.h"

static void one_line(const struct ubx_err *e, const char *what)
{
	if (strchr(e->msg, '\n') || strncmp(e->msg, what, strlen(what)) != 0)
		abort();
}

static void parse(int which, const char *text, size_t len)
{
	struct ubx_err e = { 0 };
	struct docker_item *items;
	struct oci_desc *descs;
	struct oci_manifest m;
	struct imgfmt_config c;
	size_t n;

	switch (which) {
	case 0:
		if (imgfmt_parse_docker_manifest(text, len, "manifest.json", &items, &n, &e) == 0)
			docker_items_free(items, n);
		else
			one_line(&e, "manifest.json: ");
		break;
	case 1:
		if (imgfmt_parse_oci_index(text, len, "index.json", &descs, &n, &e) == 0)
			oci_descs_free(descs, n);
		else
			one_line(&e, "index.json: ");
		break;
	case 2:
		if (imgfmt_parse_oci_manifest(text, len, "blobs/sha256/x", &m, &e) == 0)
			oci_manifest_free(&m);
		else
			one_line(&e, "blobs/sha256/x: ");
		break;
	default:
		if (imgfmt_parse_config(text, len, "config", &c, &e) == 0)
			imgfmt_config_free(&c);
		else
			one_line(&e, "config: ");
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gen g = { .in = data + 1, .n = size ? size - 1 : 0, .cap = 1 << 16 };
	struct digest d;
	char *s;

	if (size == 0 || !(g.out = malloc(g.cap)))
		return 0;
	if ((data[0] & 4) == 0) {
		memcpy(g.out, data + 1, size - 1);
		g.len = size - 1;
	} else {
		value(&g, 6);
	}
	parse(data[0] & 3, g.out, g.len);
	/* the digest parser on the same bytes, as a string */
	if ((s = strndup(g.out, g.len))) {
		struct ubx_err e = { 0 };
		if (digest_parse(s, &d, &e) < 0 && strchr(e.msg, '\n'))
			abort();
		free(s);
	}
	free(g.out);
	return 0;
}
