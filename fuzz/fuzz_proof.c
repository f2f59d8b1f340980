/* Fuzz target: log proofs. The input is a C2SP tlog-proof verified against
 * a real root for the entry "x"; the same bytes also drive the RFC 6962
 * inclusion and consistency verifiers directly (index, sizes and hashes
 * taken from the input). */
#include "fuzz.h"
#include "fuzz_trust_root.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_checkpoint cp;
	struct vg_trust_error err;
	size_t off;
	uint8_t h[VG_MERKLE_MAX_PROOF + 3][32];
	uint64_t a = 0, b = 0;

	fuzz_sink = (int)vg_tlog_proof_verify(fuzz_trust_root(), (const char *)data, size, "x", 1,
				   FUZZ_TRUST_NOW, &cp, &off, &err);
	if (size < 16)
		return 0;
	memcpy(&a, data, 8);
	memcpy(&b, data + 8, 8);
	size_t n = (size - 16) / 32;
	if (n > VG_MERKLE_MAX_PROOF + 2)
		n = VG_MERKLE_MAX_PROOF + 2;
	memset(h, 0, sizeof(h));
	memcpy(h, data + 16, n * 32);
	if (n >= 2) {
		fuzz_sink = (int)vg_merkle_inclusion_verify(a, b, h[0], (const uint8_t(*)[32])h + 2, n - 2, h[1]);
		fuzz_sink = (int)vg_merkle_consistency_verify(a, b, h[0], h[1], (const uint8_t(*)[32])h + 2,
						   n - 2);
	}
	return 0;
}
