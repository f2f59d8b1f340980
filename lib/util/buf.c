#include <string.h>

#include "util/util.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	vg_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

vg_status buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (__builtin_add_overflow(b->len, n, &need) || need > b->max)
		return VG_ELIMIT;
	if (need <= b->cap)
		return VG_OK;
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max)
		cap = b->max;
	p = vg_realloc(b->data, cap);
	if (!p)
		return VG_ENOMEM;
	b->data = p;
	b->cap = cap;
	return VG_OK;
}

vg_status buf_append(struct buf *b, const void *data, size_t n)
{
	vg_status rc = buf_reserve(b, n);

	if (rc != VG_OK)
		return rc;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	return VG_OK;
}
