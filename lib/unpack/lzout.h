/* Output of an LZ77 decoder whose history is its own output, capped at a
 * child's budget. Internal to lib/unpack/ (zip's implode and Deflate64, SZDD,
 * ARJ).
 *
 * Writing stops at max: what fits is kept, truncated is set and every later
 * write fails, so a decoder loop ends on the first false. */
#ifndef VG_UNPACK_LZOUT_H
#define VG_UNPACK_LZOUT_H

#include <string.h>

#include "util/util.h"

struct lzout {
	struct buf b;   /* b.max is the cap */
	bool truncated; /* more was coming than the cap allows */
	bool nomem;
};

static inline void lzout_init(struct lzout *o, size_t max)
{
	buf_init(&o->b, max);
	o->truncated = false;
	o->nomem = false;
}

static inline void lzout_free(struct lzout *o)
{
	buf_free(&o->b);
}

/* Room for up to n more bytes; returns how many fit (setting truncated
 * when fewer than n). */
static inline size_t lzout_room(struct lzout *o, size_t n)
{
	size_t room = o->b.max - o->b.len;

	if (o->nomem || o->truncated)
		return 0;
	if (n > room) {
		n = room;
		o->truncated = true;
	}
	if (n > o->b.cap - o->b.len && buf_reserve(&o->b, n) != VG_OK) {
		o->nomem = true;
		return 0;
	}
	return n;
}

static inline bool lzout_byte(struct lzout *o, uint8_t c)
{
	if (o->b.len == o->b.cap && lzout_room(o, 1) == 0)
		return false;
	o->b.data[o->b.len++] = c;
	return true;
}

static inline bool lzout_bytes(struct lzout *o, const uint8_t *p, size_t n)
{
	size_t k = lzout_room(o, n);

	if (k)
		memcpy(o->b.data + o->b.len, p, k);
	o->b.len += k;
	return k == n;
}

/* Copies len bytes from dist bytes back. History before the start of the
 * output reads as fill (0..255), or is an error (fill < 0: returns false
 * with nothing written, and the caller treats the stream as corrupt). */
static inline bool lzout_copy(struct lzout *o, size_t dist, size_t len, int fill)
{
	size_t n, k, i;
	uint8_t *d;
	const uint8_t *s;

	if (dist == 0 || (dist > o->b.len && fill < 0))
		return false;
	n = lzout_room(o, len);
	if (n == 0)
		return len == 0;
	if (dist > o->b.len) {
		k = dist - o->b.len < n ? dist - o->b.len : n;
		memset(o->b.data + o->b.len, fill, k);
		o->b.len += k;
		n -= k;
		len -= k;
	}
	if (n == 0)
		return len == 0;
	d = o->b.data + o->b.len;
	s = d - dist;
	if (dist >= n) {
		memcpy(d, s, n);
	} else {
		for (i = 0; i < n; i++)
			d[i] = s[i];
	}
	o->b.len += n;
	return n == len;
}

#endif
