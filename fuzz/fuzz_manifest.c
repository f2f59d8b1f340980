/* Fuzz target: manifest notes, parsed alone (publisher side) and verified
 * against a real root (client side). */
#include "fuzz.h"
#include "fuzz_trust_root.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_manifest *m = NULL;
	struct vg_trust_error err;

	if (vg_manifest_parse((const char *)data, size, &m, &err) == VG_OK)
		vg_manifest_free(m);
	m = NULL;
	if (vg_manifest_verify(fuzz_trust_root(), (const char *)data, size, FUZZ_TRUST_NOW, &m,
			       &err) == VG_OK)
		vg_manifest_free(m);
	return 0;
}
