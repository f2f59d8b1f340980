/* Fuzz target: a scan worker's reply as the broker meets it. The worker
 * parses hostile files and may be compromised, so every byte of its answer
 * is untrusted: vw_reply_check must refuse anything malformed, and a reply
 * it accepts must be safe to read the way worker_client.c reads it (the
 * names as C strings, the container path as `depth` strings in a row). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "worker_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vw_reply r;
	char why[128];
	size_t off = 0;

	/* the broker takes exactly one reply-sized message; shorter inputs
	 * fill a zeroed reply so that the fuzzer reaches every field */
	memset(&r, 0, sizeof(r));
	memcpy(&r, data, size < sizeof(r) ? size : sizeof(r));
	if (vw_reply_check(&r, why, sizeof(why)) != 0) {
		if (why[0] == '\0')
			abort(); /* a refusal always says why */
		return 0;
	}
	if (r.type != VW_MATCH)
		return 0;
	if (strlen(r.name) >= sizeof(r.name) || strlen(r.database) >= sizeof(r.database))
		abort();
	for (uint32_t i = 0; i < r.depth; i++) {
		size_t n = strnlen(r.path + off, sizeof(r.path) - off);
		if (n == sizeof(r.path) - off)
			abort(); /* accepted, yet a path element runs off the field */
		off += n + 1;
	}
	return 0;
}
