/* SPDX-License-Identifier: MIT */
/* libFuzzer: the frame filter in front of libslirp (any bytes a sandbox can
 * write to its TAP), and the ICMP answer to a refused frame. */
#include <stdint.h>
#include <string.h>

#include "../../netns/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t h4[2] = { 0x0200a8c0, 0x0100007f };
	struct in6_addr h6[1] = { IN6ADDR_LOOPBACK_INIT };
	struct frame_policy p = { .allow_host = size & 1, .n4 = 2, .n6 = 1, .host4 = h4, .host6 = h6 };
	uint8_t out[FRAME_REJECT_MAX], again[FRAME_REJECT_MAX];

	if (!frame_allowed(data, size, &p)) {
		size_t n = frame_reject(data, size, out, sizeof(out));
		if (n > sizeof(out))
			__builtin_trap();
		/* an answer is never refused-and-answered again: no ping-pong */
		if (n && frame_reject(out, n, again, sizeof(again)) != 0)
			__builtin_trap();
	}
	return 0;
}
