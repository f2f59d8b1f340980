/* Fuzz target: .cdiff updates. The input is read as a whole .cdiff
 * (header, compressed script, signature) and, since a mutated signature
 * never verifies, also as a bare script applied to a small set of files. */
#include <string.h>

#include "fuzz.h"
#include "sigdb/sigdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ndb[] = "# a comment\nA.1:0:*:414243\nB.2:0:*:444546\nC.3:0:*:474849\n";
	static const char info[] = "ClamAV-VDB:x:1:3:51:X:X:fuzz:0\nt.ndb:61:00\n";
	struct memfiles m = {NULL, 0};
	char err[600], *script = NULL;
	size_t script_len = 0;
	uint32_t version;

	if (cdiff_open(data, size, "fuzz.cdiff", &version, &script, &script_len, err,
		       sizeof(err)) == VG_OK)
		vg_free(script);
	if (memfiles_add(&m, "t.ndb", (const uint8_t *)ndb, strlen(ndb)) == VG_OK &&
	    memfiles_add(&m, "t.info", (const uint8_t *)info, strlen(info)) == VG_OK &&
	    cdiff_apply_script(&m, (const char *)data, size, "fuzz.cdiff", err, sizeof(err)) ==
		    VG_OK) {
		uint8_t *cld = NULL;
		size_t len = 0;
		if (cld_build(&m, &cld, &len, err, sizeof(err)) == VG_OK)
			vg_free(cld);
	}
	memfiles_free(&m);
	return 0;
}
