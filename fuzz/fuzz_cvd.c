/* Fuzz target: the container reader (.cvd/.cld/.cud header, tar(.gz)
 * payload, .info manifest, member checks) on arbitrary bytes. Each input is
 * read as all three kinds; as a .cud it needs no signature, so mutations
 * reach the payload and manifest code. */
#include "fuzz.h"
#include "sigdb/sigdb.h"

static vg_status touch(void *ctx, const char *name, const uint8_t *data, size_t len)
{
	size_t *total = ctx;
	*total += len + (name[0] != 0) + (len ? data[len - 1] : 0);
	return VG_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum cvd_kind kinds[] = {CVD_KIND_CUD, CVD_KIND_CLD, CVD_KIND_CVD};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct cvd c;
		size_t total = 0;
		if (cvd_open(&c, "fuzz", kinds[i], data, size) == VG_OK)
			(void)cvd_each_member(&c, touch, &total);
		cvd_close(&c);
	}
	return 0;
}
