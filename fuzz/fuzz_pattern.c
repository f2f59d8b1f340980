/* Fuzz target: the body pattern compiler, its serialised form, and the
 * verifier. Input: hex text, a NUL byte, then data to verify against. */
#include <string.h>

#include "fuzz.h"
#include "match/pattern.h"

static int count(void *ctx, uint64_t start, uint64_t end)
{
	(void)start;
	(void)end;
	(*(unsigned *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t hexlen = nul ? (size_t)(nul - data) : size;
	const uint8_t *body = nul ? nul + 1 : data + size;
	size_t blen = nul ? size - hexlen - 1 : 0;
	struct pattern *p = NULL, *q = NULL;
	struct pattern_error err;
	unsigned n = 0;

	/* hostile serialised bytes must be rejected or loaded safely */
	if (pattern_from_bytes(data, size, &q) == VG_OK)
		pattern_free(q);
	if (pattern_compile((const char *)data, hexlen, &p, &err) != VG_OK)
		return 0;
	for (uint32_t k = 0; k < pattern_nparts(p); k++) {
		struct pattern_part_info pi;
		struct pattern_window w = {body, blen, 0, blen};
		pattern_part_info(p, k, &pi);
		for (size_t i = 0; i + pi.anchor_len <= blen; i++)
			if (memcmp(body + i, pi.anchor, pi.anchor_len) == 0)
				pattern_part_verify(p, k, &w, i, count, &n);
	}
	{
		size_t len;
		const uint8_t *bytes = pattern_bytes(p, &len);
		if (pattern_from_bytes(bytes, len, &q) == VG_OK)
			pattern_free(q);
	}
	pattern_free(p);
	return 0;
}
