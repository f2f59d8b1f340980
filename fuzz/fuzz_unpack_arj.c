/* Fuzz target: unpack_arj over arbitrary bytes, with a 1 MiB budget and
 * with a tiny one that also stops the unpacker after a few children. */
#include "fuzz.h"
#include "unpack/unpack.h"

struct seen {
	size_t children, stop_after;
	unsigned sum;
};

static vg_status on_child(void *ctx, const struct unpack_child *c)
{
	struct seen *s = ctx;

	for (size_t i = 0; i < c->len; i++) /* every byte handed over is readable */
		s->sum += c->data[i];
	for (const char *p = c->name; p && *p; p++)
		s->sum += (unsigned char)*p;
	s->children++;
	return s->stop_after && s->children >= s->stop_after ? VG_ELIMIT : VG_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unpack_input in = {data, size};
	struct seen big = {0, 0, 0}, small = {0, 3, 0};
	struct unpack_sink s1 = {on_child, &big, 1u << 20};
	struct unpack_sink s2 = {on_child, &small, 13};

	(void)unpack_arj(&in, &s1);
	(void)unpack_arj(&in, &s2);
	return 0;
}
