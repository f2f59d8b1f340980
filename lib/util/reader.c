#include <string.h>

#include "util/util.h"

struct reader reader_init(const void *data, size_t len)
{
	struct reader r = {data, len, 0};
	return r;
}

size_t reader_left(const struct reader *r)
{
	return r->len - r->pos;
}

bool reader_skip(struct reader *r, size_t n)
{
	if (n > reader_left(r))
		return false;
	r->pos += n;
	return true;
}

bool reader_u8(struct reader *r, uint8_t *out)
{
	if (reader_left(r) < 1)
		return false;
	*out = r->p[r->pos++];
	return true;
}

bool reader_u32le(struct reader *r, uint32_t *out)
{
	const uint8_t *b;

	if (!reader_bytes(r, 4, &b))
		return false;
	*out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return true;
}

bool reader_u64le(struct reader *r, uint64_t *out)
{
	uint32_t lo, hi;
	struct reader save = *r;

	if (!reader_u32le(r, &lo) || !reader_u32le(r, &hi)) {
		*r = save;
		return false;
	}
	*out = (uint64_t)hi << 32 | lo;
	return true;
}

bool reader_bytes(struct reader *r, size_t n, const uint8_t **out)
{
	if (n > reader_left(r))
		return false;
	*out = r->p + r->pos;
	r->pos += n;
	return true;
}
