/* Fuzz target: the PE/ELF/Mach-O header parsers and the PE import walk over
 * arbitrary bytes, through the whole-layer reader and through a head that
 * stops short of the end (as for headers read from the first bytes only).
 * Checks the invariants callers rely on. */
#include <stdlib.h>
#include <string.h>

#include "exe/exe.h"
#include "fuzz.h"

struct mem {
	const uint8_t *p;
	size_t len;
};

static bool read_mem(void *ctx, uint64_t off, void *dst, size_t len)
{
	const struct mem *m = ctx;

	if (off > m->len || len > m->len - off)
		return false;
	memcpy(dst, m->p + off, len);
	return true;
}

static vg_status sink(void *ctx, const char *piece, size_t len)
{
	size_t *total = ctx;

	for (size_t i = 0; i < len; i++) /* every byte handed over is readable */
		*total += (unsigned char)piece[i] != 0;
	*total += len;
	return VG_OK;
}

static void check(const struct exe_info *x)
{
	if (x->described > EXE_MAX_SECTIONS || x->described > x->nsections)
		abort();
	if (!x->valid && (x->has_ep || x->nsections || x->described))
		abort();
	if (x->kind == EXE_NONE && x->valid)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m = {data, size};
	struct exe_info *x = malloc(sizeof(*x));
	enum exe_imp_result res;
	size_t total = 0;
	uint32_t len;

	if (!x)
		return 0;
	(void)exe_parse_reader(read_mem, &m, size, x);
	check(x);
	if (x->kind == EXE_PE && x->valid) {
		uint32_t off;
		(void)exe_pe_imports(read_mem, &m, size, x, sink, &total, &res, &len);
		if (exe_pe_rva_to_off(x, size, x->import_rva, &off) && off >= size)
			abort();
	}
	/* the same bytes seen through a shorter head */
	(void)exe_parse(data, size / 2, size, x);
	check(x);
	free(x);
	return 0;
}
