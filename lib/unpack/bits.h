/* Bit readers and canonical Huffman decoding for vigil's own decompressors
 * (zip's implode and Deflate64, LZX in CHM, ARJ). Internal to lib/unpack/.
 *
 * A reader never touches memory outside its input: past the end it supplies
 * zero bits and sets err, so a decoder may run a step on made-up bits but
 * must check err (or a negative symbol) before trusting what it got.
 *
 * Three bit orders are in use:
 *   lsb    bytes, least significant bit first (deflate, implode);
 *   msb8   bytes, most significant bit first (ARJ);
 *   msb16  16-bit little-endian words, most significant bit first (LZX).
 * Huffman codes are canonical (shorter codes first, equal lengths in symbol
 * order) and are read starting from their most significant bit in every
 * order; implode's Shannon-Fano codes are the same codes with every bit
 * inverted. */
#ifndef VG_UNPACK_BITS_H
#define VG_UNPACK_BITS_H

#include <string.h>

#include "base/base.h"

struct bits {
	const uint8_t *p;
	size_t len;
	size_t pos;    /* next input byte to load */
	uint64_t buf;  /* lsb: next bit is bit 0; msb: next bit is bit 63 */
	unsigned cnt;  /* bits in buf */
	unsigned pad;  /* of those, zero bits made up past the end of input */
	bool word16;   /* msb order loads 16-bit little-endian words */
	bool err;      /* a read went past the end of the input */
};

static inline void bits_init(struct bits *b, const uint8_t *p, size_t len)
{
	memset(b, 0, sizeof(*b));
	b->p = p;
	b->len = len;
}

/* Empties the buffer and goes on reading at byte off (clamped to the end). */
static inline void bits_seek(struct bits *b, size_t off)
{
	b->pos = off < b->len ? off : b->len;
	b->buf = 0;
	b->cnt = 0;
	b->pad = 0;
}

/* Offset of the next unread byte when the unread bits are whole bytes (the
 * caller aligns first). */
static inline size_t bits_tell(const struct bits *b)
{
	size_t real = (size_t)(b->cnt - b->pad) / 8;

	return real <= b->pos ? b->pos - real : 0;
}

static inline void bits_used(struct bits *b, unsigned n)
{
	if (n > b->cnt - b->pad)
		b->err = true;
	b->cnt -= n;
	if (b->pad > b->cnt)
		b->pad = b->cnt;
}

/* Eight input bytes as a little-endian number. */
static inline uint64_t bits_load64le(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* ---- lsb ---- */

static inline void bits_lsb_fill(struct bits *b)
{
	if (b->len - b->pos >= 8) {
		/* eight bytes at once; the bits above cnt are those of the byte
		 * at pos, which the next fill puts in the same place again */
		b->buf |= bits_load64le(b->p + b->pos) << b->cnt;
		b->pos += (63 - b->cnt) >> 3;
		b->cnt |= 56;
		return;
	}
	while (b->cnt <= 56) {
		uint64_t v = 0;

		if (b->pos < b->len)
			v = b->p[b->pos++];
		else
			b->pad += 8;
		b->buf |= v << b->cnt;
		b->cnt += 8;
	}
}

static inline void bits_lsb_drop(struct bits *b, unsigned n)
{
	if (n == 0)
		return;
	if (b->cnt < n)
		bits_lsb_fill(b);
	bits_used(b, n);
	b->buf >>= n;
}

/* n <= 32 */
static inline uint32_t bits_lsb_get(struct bits *b, unsigned n)
{
	uint32_t v;

	if (n == 0)
		return 0;
	if (b->cnt < n)
		bits_lsb_fill(b);
	v = (uint32_t)(b->buf & ((1ull << n) - 1));
	bits_used(b, n);
	b->buf >>= n;
	return v;
}

/* Drops the bits left in the current byte. */
static inline void bits_lsb_align(struct bits *b)
{
	unsigned n = b->cnt % 8;

	bits_used(b, n);
	b->buf >>= n;
}

/* ---- msb8 and msb16 ---- */

static inline void bits_msb_fill(struct bits *b)
{
	if (b->word16) {
		while (b->cnt <= 48) {
			uint64_t v = 0;

			/* a lone last byte cannot make a word: it stays unread
			 * (bits_tell still finds it) and padding comes instead */
			if (b->len - b->pos >= 2) {
				v = (uint64_t)b->p[b->pos] | (uint64_t)b->p[b->pos + 1] << 8;
				b->pos += 2;
			} else {
				b->pad += 16;
			}
			b->buf |= v << (48 - b->cnt);
			b->cnt += 16;
		}
		return;
	}
	if (b->len - b->pos >= 8) { /* as in bits_lsb_fill */
		b->buf |= __builtin_bswap64(bits_load64le(b->p + b->pos)) >> b->cnt;
		b->pos += (63 - b->cnt) >> 3;
		b->cnt |= 56;
		return;
	}
	while (b->cnt <= 56) {
		uint64_t v = 0;

		if (b->pos < b->len)
			v = b->p[b->pos++];
		else
			b->pad += 8;
		b->buf |= v << (56 - b->cnt);
		b->cnt += 8;
	}
}

static inline void bits_msb_drop(struct bits *b, unsigned n)
{
	if (n == 0)
		return;
	if (b->cnt < n)
		bits_msb_fill(b);
	bits_used(b, n);
	b->buf <<= n;
}

/* 1 <= n <= 32 for peek; n <= 32 for get */
static inline uint32_t bits_msb_peek(struct bits *b, unsigned n)
{
	if (b->cnt < n)
		bits_msb_fill(b);
	return (uint32_t)(b->buf >> (64 - n));
}

static inline uint32_t bits_msb_get(struct bits *b, unsigned n)
{
	uint32_t v;

	if (n == 0)
		return 0;
	v = bits_msb_peek(b, n);
	bits_used(b, n);
	b->buf <<= n;
	return v;
}

/* ---- canonical Huffman codes ---- */

#define HUFF_MAXBITS 16u
#define HUFF_FASTBITS 9u
#define HUFF_MAXSYMS 720u /* LZX's main tree with a 2 MiB window: 656 */

struct huff {
	uint16_t count[HUFF_MAXBITS + 1]; /* codes of each length */
	uint16_t sym[HUFF_MAXSYMS];       /* symbols in code order */
	/* codes of up to FASTBITS bits, indexed by the next FASTBITS input bits
	 * in reading order: (length << 16) | symbol, 0 for a longer code */
	uint32_t fast[1u << HUFF_FASTBITS];
	uint32_t invert; /* 1: every code bit is inverted (implode) */
};

static inline uint32_t huff_reverse(uint32_t v, unsigned n)
{
	uint32_t r = 0;

	while (n--) {
		r = r << 1 | (v & 1);
		v >>= 1;
	}
	return r;
}

/* Builds the code for lens[0..n) (0: symbol unused). false when a length
 * exceeds HUFF_MAXBITS, n exceeds HUFF_MAXSYMS or the lengths oversubscribe
 * the code space. An incomplete code is accepted: its unused codes fail to
 * decode, which is where a damaged stream ends. */
static inline bool huff_build(struct huff *h, const uint8_t *lens, size_t n, bool lsb, bool invert)
{
	uint16_t offs[HUFF_MAXBITS + 2];
	uint32_t code, start;
	int32_t left = 1;
	unsigned len;
	size_t s, i;

	if (n > HUFF_MAXSYMS)
		return false;
	memset(h->count, 0, sizeof(h->count));
	memset(h->fast, 0, sizeof(h->fast));
	h->invert = invert ? 1u : 0u;
	for (s = 0; s < n; s++) {
		if (lens[s] > HUFF_MAXBITS)
			return false;
		h->count[lens[s]]++;
	}
	h->count[0] = 0;
	for (len = 1; len <= HUFF_MAXBITS; len++) {
		left = left * 2 - h->count[len];
		if (left < 0)
			return false;
	}
	offs[1] = 0;
	for (len = 1; len <= HUFF_MAXBITS; len++)
		offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
	for (s = 0; s < n; s++)
		if (lens[s])
			h->sym[offs[lens[s]]++] = (uint16_t)s;
	/* offs[len] now ends the symbols of length len; fill the fast table */
	start = 0;
	i = 0;
	for (len = 1; len <= HUFF_FASTBITS; len++) {
		uint32_t k, step = 1u << (HUFF_FASTBITS - len);

		for (code = start; code < start + h->count[len]; code++, i++) {
			uint32_t c = invert ? code ^ ((1u << len) - 1) : code;
			uint32_t e = (uint32_t)len << 16 | h->sym[i];

			if (lsb) {
				uint32_t base = huff_reverse(c, len);
				for (k = 0; k < step; k++)
					h->fast[base | k << len] = e;
			} else {
				uint32_t base = c << (HUFF_FASTBITS - len);
				for (k = 0; k < step; k++)
					h->fast[base + k] = e;
			}
		}
		start = (start + h->count[len]) << 1;
	}
	return true;
}

/* The slow walk for codes longer than the fast table: bits holds the next
 * 16 input bits, the first one in bit 15. */
static inline int huff_walk(const struct huff *h, uint32_t bits, unsigned *used)
{
	uint32_t code = 0, first = 0, index = 0;
	unsigned len;

	for (len = 1; len <= HUFF_MAXBITS; len++) {
		uint32_t count = h->count[len];

		code |= ((bits >> (HUFF_MAXBITS - len)) & 1) ^ h->invert;
		if (code - first < count) {
			*used = len;
			return h->sym[index + code - first];
		}
		index += count;
		first = (first + count) << 1;
		code <<= 1;
	}
	return -1;
}

/* The next symbol, or -1 for a code the table lacks or input past the end. */
static inline int huff_decode_lsb(const struct huff *h, struct bits *b)
{
	uint32_t e, peek;
	unsigned used = 0;
	int sym;

	if (b->cnt < HUFF_MAXBITS)
		bits_lsb_fill(b);
	peek = (uint32_t)(b->buf & 0xffff);
	e = h->fast[peek & ((1u << HUFF_FASTBITS) - 1)];
	if (e) {
		bits_lsb_drop(b, e >> 16);
		return b->err ? -1 : (int)(e & 0xffff);
	}
	sym = huff_walk(h, huff_reverse(peek, HUFF_MAXBITS), &used);
	if (sym < 0)
		return -1;
	bits_lsb_drop(b, used);
	return b->err ? -1 : sym;
}

static inline int huff_decode_msb(const struct huff *h, struct bits *b)
{
	uint32_t e, peek;
	unsigned used = 0;
	int sym;

	peek = bits_msb_peek(b, HUFF_MAXBITS);
	e = h->fast[peek >> (HUFF_MAXBITS - HUFF_FASTBITS)];
	if (e) {
		bits_msb_drop(b, e >> 16);
		return b->err ? -1 : (int)(e & 0xffff);
	}
	sym = huff_walk(h, peek, &used);
	if (sym < 0)
		return -1;
	bits_msb_drop(b, used);
	return b->err ? -1 : sym;
}

#endif
