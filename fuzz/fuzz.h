/* Shared declaration for fuzz targets and the corpus replayer. */
#ifndef VG_FUZZ_H
#define VG_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
