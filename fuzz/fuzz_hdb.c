/* Fuzz target: the .hdb loader on arbitrary text. */
#include "fuzz_db_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_load_text(data, size, 1);
	return 0;
}
