/* Test helper for vigil's own decompressors (zip implode and Deflate64,
 * SZDD/KWAJ, ARJ, CHM's LZX): small encoders written from the format
 * descriptions, so the tests can make streams whose output is known and
 * reach every block type, and the fuzz corpora can be seeded with them.
 * No test file contents: everything here is generated. */
#ifndef VG_TEST_UNPACK_LZ_SAMPLES_H
#define VG_TEST_UNPACK_LZ_SAMPLES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- a growable byte string ---- */

struct sb {
	uint8_t *p;
	size_t len, cap;
};

static inline void sb_put(struct sb *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void sb_u8(struct sb *b, unsigned v)
{
	uint8_t c = (uint8_t)v;
	sb_put(b, &c, 1);
}

static inline void sb_u16(struct sb *b, unsigned v)
{
	sb_u8(b, v & 0xff);
	sb_u8(b, (v >> 8) & 0xff);
}

static inline void sb_u32(struct sb *b, uint32_t v)
{
	sb_u16(b, v & 0xffff);
	sb_u16(b, v >> 16);
}

static inline void sb_u64(struct sb *b, uint64_t v)
{
	sb_u32(b, (uint32_t)v);
	sb_u32(b, (uint32_t)(v >> 32));
}

static inline void sb_set32(struct sb *b, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b->p[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static inline void sb_free(struct sb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- bit writer ---- */

enum bw_order { BW_LSB, BW_MSB8, BW_MSB16 };

struct bw {
	struct sb *out;
	enum bw_order order;
	uint64_t acc;
	unsigned n;
};

static inline void bw_init(struct bw *w, struct sb *out, enum bw_order order)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->order = order;
}

/* v's low nbits (nbits <= 32), in the order's own sense */
static inline void bw_put(struct bw *w, uint32_t v, unsigned nbits)
{
	uint64_t m = nbits == 32 ? 0xffffffffu : ((1u << nbits) - 1);

	if (w->order == BW_LSB) {
		w->acc |= (uint64_t)(v & m) << w->n;
		w->n += nbits;
		while (w->n >= 8) {
			sb_u8(w->out, (unsigned)(w->acc & 0xff));
			w->acc >>= 8;
			w->n -= 8;
		}
		return;
	}
	w->acc = w->acc << nbits | (v & m);
	w->n += nbits;
	if (w->order == BW_MSB8) {
		while (w->n >= 8) {
			sb_u8(w->out, (unsigned)(w->acc >> (w->n - 8)) & 0xff);
			w->n -= 8;
		}
	} else {
		while (w->n >= 16) {
			sb_u16(w->out, (unsigned)(w->acc >> (w->n - 16)) & 0xffff);
			w->n -= 16;
		}
	}
	w->acc &= (w->n ? ((1ull << w->n) - 1) : 0);
}

/* A Huffman code, most significant bit first in every order. */
static inline void bw_code(struct bw *w, uint32_t code, unsigned len)
{
	if (w->order == BW_LSB) {
		for (unsigned i = len; i-- > 0;)
			bw_put(w, (code >> i) & 1, 1);
	} else {
		bw_put(w, code, len);
	}
}

/* Zero bits to the next byte (lsb, msb8) or 16-bit word (msb16). */
static inline void bw_align(struct bw *w)
{
	unsigned unit = w->order == BW_MSB16 ? 16 : 8;

	if (w->n % unit)
		bw_put(w, 0, unit - w->n % unit);
}

/* Canonical codes for lens[0..n). */
static inline void canon_codes(const uint8_t *lens, size_t n, uint32_t *codes)
{
	uint32_t count[33] = {0}, next[33] = {0}, code = 0;

	for (size_t i = 0; i < n; i++)
		count[lens[i]]++;
	count[0] = 0;
	for (unsigned l = 1; l <= 32; l++) {
		code = (code + count[l - 1]) << 1;
		next[l] = code;
	}
	for (size_t i = 0; i < n; i++)
		codes[i] = lens[i] ? next[lens[i]]++ : 0;
}

/* ---- Deflate64 ---- */

static const uint16_t t_len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10,  11,  13,
					15, 17, 19, 23, 27, 31, 35, 43,  51,  59,
					67, 83, 99, 115, 131, 163, 195, 227, 3};
static const uint8_t t_len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
					2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 16};
static const uint32_t t_dist_base[32] = {
	1,    2,    3,    4,    5,    7,     9,     13,    17,    25,    33,
	49,   65,   97,   129,  193,  257,   385,   513,   769,   1025,  1537,
	2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577, 32769, 49153};
static const uint8_t t_dist_extra[32] = {0, 0, 0, 0, 1, 1, 2, 2, 3,  3,  4,  4,  5,  5,  6,  6,
					 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14};

static inline void d64_stored(struct bw *w, const uint8_t *p, size_t n, bool final)
{
	bw_put(w, final, 1);
	bw_put(w, 0, 2);
	bw_align(w);
	sb_u16(w->out, (unsigned)n);
	sb_u16(w->out, (unsigned)~n & 0xffff);
	sb_put(w->out, p, n);
}

static inline void d64_fixed_start(struct bw *w, bool final)
{
	bw_put(w, final, 1);
	bw_put(w, 1, 2);
}

static inline void d64_fixed_sym(struct bw *w, unsigned c)
{
	if (c < 144)
		bw_code(w, 0x30 + c, 8);
	else if (c < 256)
		bw_code(w, 0x190 + c - 144, 9);
	else if (c < 280)
		bw_code(w, c - 256, 7);
	else
		bw_code(w, 0xc0 + c - 280, 8);
}

/* A match in a fixed block: length 3..65538, distance 1..65536. Lengths
 * over 258 take code 285 (3 + 16 bits). */
static inline void d64_fixed_match(struct bw *w, unsigned len, unsigned dist)
{
	unsigned lc = 28, dc = 31;

	if (len <= 258)
		for (lc = 28; lc-- > 0;)
			if (t_len_base[lc] <= len)
				break;
	d64_fixed_sym(w, 257 + lc);
	bw_put(w, len - t_len_base[lc], t_len_extra[lc]);
	while (t_dist_base[dc] > dist)
		dc--;
	bw_code(w, dc, 5);
	bw_put(w, dist - t_dist_base[dc], t_dist_extra[dc]);
}

/* ---- implode ---- */

/* A Shannon-Fano tree of n values all len bits long. */
static inline void implode_tree(struct sb *out, unsigned n, unsigned len)
{
	sb_u8(out, n / 16 - 1);
	for (unsigned i = 0; i < n / 16; i++)
		sb_u8(out, 0xf0 | (len - 1));
}

/* The trees of an implode stream whose literal tree (when lit) is all 8
 * bits and length and distance trees all 6: symbol s has the code
 * (2^len - 1 - s), written most significant bit first. */
static inline void implode_start(struct sb *out, bool lit)
{
	if (lit)
		implode_tree(out, 256, 8);
	implode_tree(out, 64, 6);
	implode_tree(out, 64, 6);
}

static inline void implode_literal(struct bw *w, bool lit, uint8_t c)
{
	bw_put(w, 1, 1);
	if (lit)
		bw_code(w, 255u - c, 8);
	else
		bw_put(w, c, 8);
}

/* dist 1..4096 (8192 with big), len min..min+318 (min 3 with lit, else 2) */
static inline void implode_match(struct bw *w, bool big, bool lit, unsigned dist, unsigned len)
{
	unsigned dbits = big ? 7 : 6, d = dist - 1, l = len - (lit ? 3 : 2);

	bw_put(w, 0, 1);
	bw_put(w, d & ((1u << dbits) - 1), dbits);
	bw_code(w, 63 - (d >> dbits), 6);
	if (l >= 63) {
		bw_code(w, 0, 6);
		bw_put(w, l - 63, 8);
	} else {
		bw_code(w, 63 - l, 6);
	}
}

/* ---- zip ---- */

struct zip_item {
	const char *name;
	unsigned method, flags;
	const uint8_t *data; /* compressed */
	size_t len;
	uint32_t usize;
	uint32_t crc;
	bool descriptor; /* sizes in a data descriptor after the data */
};

/* A zip of the items, with a central directory unless local_only; prefix
 * bytes of junk go first (a self-extractor's stub). */
static inline void zip_build(struct sb *out, const struct zip_item *it, size_t n, bool local_only,
			     size_t prefix)
{
	size_t *offs = calloc(n ? n : 1, sizeof(size_t)), cd;

	for (size_t i = 0; i < prefix; i++)
		sb_u8(out, 0x90);
	for (size_t i = 0; i < n; i++) {
		offs[i] = out->len - prefix;
		sb_u32(out, 0x04034b50);
		sb_u16(out, 20);
		sb_u16(out, it[i].flags | (it[i].descriptor ? 8u : 0u));
		sb_u16(out, it[i].method);
		sb_u32(out, 0);
		sb_u32(out, it[i].descriptor ? 0 : it[i].crc);
		sb_u32(out, it[i].descriptor ? 0 : (uint32_t)it[i].len);
		sb_u32(out, it[i].descriptor ? 0 : it[i].usize);
		sb_u16(out, (unsigned)strlen(it[i].name));
		sb_u16(out, 0);
		sb_put(out, it[i].name, strlen(it[i].name));
		sb_put(out, it[i].data, it[i].len);
		if (it[i].descriptor) {
			sb_u32(out, 0x08074b50);
			sb_u32(out, it[i].crc);
			sb_u32(out, (uint32_t)it[i].len);
			sb_u32(out, it[i].usize);
		}
	}
	if (local_only) {
		free(offs);
		return;
	}
	cd = out->len;
	for (size_t i = 0; i < n; i++) {
		sb_u32(out, 0x02014b50);
		sb_u16(out, 20);
		sb_u16(out, 20);
		sb_u16(out, it[i].flags | (it[i].descriptor ? 8u : 0u));
		sb_u16(out, it[i].method);
		sb_u32(out, 0);
		sb_u32(out, it[i].crc);
		sb_u32(out, (uint32_t)it[i].len);
		sb_u32(out, it[i].usize);
		sb_u16(out, (unsigned)strlen(it[i].name));
		sb_u16(out, 0);
		sb_u16(out, 0);
		sb_u16(out, 0);
		sb_u16(out, 0);
		sb_u32(out, 0);
		sb_u32(out, (uint32_t)offs[i]);
		sb_put(out, it[i].name, strlen(it[i].name));
	}
	sb_u32(out, 0x06054b50);
	sb_u16(out, 0);
	sb_u16(out, 0);
	sb_u16(out, (unsigned)n);
	sb_u16(out, (unsigned)n);
	sb_u32(out, (uint32_t)(out->len - cd - 12));
	sb_u32(out, (uint32_t)(cd - prefix));
	sb_u16(out, 0);
	free(offs);
}

/* ---- SZDD / KWAJ LZSS ---- */

/* Literal bytes, or (when len > 0) a match of len 3..18 from ring position
 * pos. */
struct lzss_item {
	uint8_t c;
	unsigned pos, len;
};

static inline void lzss_encode(struct sb *out, const struct lzss_item *it, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		size_t ctrl_at = out->len;
		unsigned ctrl = 0;

		sb_u8(out, 0);
		for (size_t j = 0; j < 8 && i + j < n; j++) {
			const struct lzss_item *x = &it[i + j];
			if (x->len == 0) {
				ctrl |= 1u << j;
				sb_u8(out, x->c);
			} else {
				sb_u8(out, x->pos & 0xff);
				sb_u8(out, ((x->pos >> 4) & 0xf0) | (x->len - 3));
			}
		}
		out->p[ctrl_at] = (uint8_t)ctrl;
	}
}

static inline void szdd_header(struct sb *out, uint32_t size)
{
	static const uint8_t magic[8] = {'S', 'Z', 'D', 'D', 0x88, 0xf0, 0x27, 0x33};

	sb_put(out, magic, 8);
	sb_u8(out, 'A');
	sb_u8(out, 'x');
	sb_u32(out, size);
}

/* KWAJ with a length, a name and an extension; data follows. */
static inline void kwaj_header(struct sb *out, unsigned method, uint32_t size, const char *name,
			       const char *ext)
{
	static const uint8_t magic[8] = {'K', 'W', 'A', 'J', 0x88, 0xf0, 0x27, 0xd1};
	size_t at;

	sb_put(out, magic, 8);
	sb_u16(out, method);
	at = out->len;
	sb_u16(out, 0);
	sb_u16(out, 1 | 8 | 16);
	sb_u32(out, size);
	sb_put(out, name, strlen(name) + 1);
	sb_put(out, ext, strlen(ext) + 1);
	out->p[at] = (uint8_t)out->len;
	out->p[at + 1] = (uint8_t)(out->len >> 8);
}

/* ---- ARJ ---- */

static inline void arj_header(struct sb *out, unsigned type, unsigned method, unsigned flags,
			      uint32_t csize, uint32_t usize, uint32_t crc, const char *name)
{
	struct sb h = {0};

	sb_u8(&h, 30);
	sb_u8(&h, 11);
	sb_u8(&h, 1);
	sb_u8(&h, 2);
	sb_u8(&h, flags);
	sb_u8(&h, method);
	sb_u8(&h, type);
	sb_u8(&h, 0);
	sb_u32(&h, 0);
	sb_u32(&h, csize);
	sb_u32(&h, usize);
	sb_u32(&h, crc);
	sb_u16(&h, 0);
	sb_u16(&h, 0);
	sb_u16(&h, 0);
	sb_put(&h, name, strlen(name) + 1);
	sb_u8(&h, 0); /* comment */
	sb_u8(out, 0x60);
	sb_u8(out, 0xea);
	sb_u16(out, (unsigned)h.len);
	sb_put(out, h.p, h.len);
	sb_u32(out, (uint32_t)crc32(0, h.p, (uInt)h.len));
	sb_u16(out, 0); /* no extended header */
	sb_free(&h);
}

static inline void arj_end(struct sb *out)
{
	sb_u8(out, 0x60);
	sb_u8(out, 0xea);
	sb_u16(out, 0);
}

/* Method 4's numbers: up to (stop - start) 1 bits, a 0 unless all were 1,
 * then start + (the ones) bits. */
static inline void arj_fast_value(struct bw *w, unsigned v, unsigned start, unsigned stop)
{
	unsigned width = start, plus = 0, pwr = 1u << start;

	while (width < stop) {
		if (v < plus + pwr) {
			bw_put(w, 0, 1);
			break;
		}
		bw_put(w, 1, 1);
		plus += pwr;
		pwr <<= 1;
		width++;
	}
	bw_put(w, v - plus, width);
}

static inline void arj_fast_literal(struct bw *w, uint8_t c)
{
	arj_fast_value(w, 0, 0, 7);
	bw_put(w, c, 8);
}

/* len 3..256, dist 1..15872 */
static inline void arj_fast_match(struct bw *w, unsigned len, unsigned dist)
{
	arj_fast_value(w, len - 2, 0, 7);
	arj_fast_value(w, dist - 1, 9, 13);
}

/* A method 1-3 block whose three tables each hold one symbol (read with no
 * bits): count symbols of c (< 256 a literal, else a match of c - 253
 * bytes at distance 1 + p's value for p == 0 or 1). */
static inline void arj_const_block(struct bw *w, unsigned count, unsigned c, unsigned p)
{
	bw_put(w, count, 16);
	bw_put(w, 0, 5); /* T: one symbol */
	bw_put(w, 3, 5);
	bw_put(w, 0, 9); /* C: one symbol */
	bw_put(w, c, 9);
	bw_put(w, 0, 5); /* P: one symbol */
	bw_put(w, p, 5);
}

/* ---- LZX and CHM ---- */

#define T_LZX_FRAME 32768u
#define T_LZX_MAIN 512u /* 64 KiB window: 32 position slots */
#define T_LZX_LEN 249u

struct lzxw {
	struct bw w;
	struct sb *out;
	uint8_t main_len[T_LZX_MAIN], len_len[T_LZX_LEN]; /* as the decoder last saw them */
	uint8_t new_main[T_LZX_MAIN], new_len[T_LZX_LEN];
	uint32_t main_code[T_LZX_MAIN], len_code[T_LZX_LEN], al_code[8], pre_code[20];
	uint8_t pre_len[20];
	uint32_t pbase[51];
	uint8_t pextra[51];
	uint64_t pos;        /* output bytes so far */
	bool aligned_block;
	uint32_t raw_r0;        /* R0 stored by the next uncompressed block */
	uint32_t frame_off[64]; /* compressed offset of each frame's start */
	unsigned frames;
};

static inline void lzxw_init(struct lzxw *z, struct sb *out)
{
	memset(z, 0, sizeof(*z));
	z->out = out;
	bw_init(&z->w, out, BW_MSB16);
	for (unsigned i = 0; i <= 50; i++) {
		unsigned e = i < 4 ? 0 : (i - 2) / 2;
		z->pextra[i] = (uint8_t)(e > 17 ? 17 : e);
		z->pbase[i] = i == 0 ? 0 : z->pbase[i - 1] + (1u << z->pextra[i - 1]);
	}
	/* complete codes: main 512 x 9 bits; length 7 x 7 + 242 x 8; pretree
	 * 12 x 4 + 8 x 5; aligned 8 x 3 */
	memset(z->new_main, 9, sizeof(z->new_main));
	memset(z->new_len, 8, sizeof(z->new_len));
	memset(z->new_len, 7, 7);
	memset(z->pre_len, 4, 12);
	memset(z->pre_len + 12, 5, 8);
	canon_codes(z->new_main, T_LZX_MAIN, z->main_code);
	canon_codes(z->new_len, T_LZX_LEN, z->len_code);
	canon_codes(z->pre_len, 20, z->pre_code);
	for (unsigned i = 0; i < 8; i++)
		z->al_code[i] = i;
	z->frame_off[z->frames++] = (uint32_t)out->len;
	z->raw_r0 = 1;
}

/* The start of a reset interval: fresh lengths and the E8 header. */
static inline void lzxw_reset(struct lzxw *z, uint32_t e8_size)
{
	memset(z->main_len, 0, sizeof(z->main_len));
	memset(z->len_len, 0, sizeof(z->len_len));
	bw_put(&z->w, e8_size != 0, 1);
	if (e8_size) {
		bw_put(&z->w, e8_size >> 16, 16);
		bw_put(&z->w, e8_size & 0xffff, 16);
	}
}

/* After every output byte: at a frame's end, align to a word. */
static inline void lzxw_advance(struct lzxw *z, unsigned n)
{
	uint64_t before = z->pos;

	z->pos += n;
	if (z->pos / T_LZX_FRAME != before / T_LZX_FRAME) {
		bw_align(&z->w);
		if (z->frames < 64)
			z->frame_off[z->frames++] = (uint32_t)z->out->len;
	}
}

static inline void lzxw_lens(struct lzxw *z, uint8_t *old, const uint8_t *lens, unsigned first,
			     unsigned last)
{
	for (unsigned i = 0; i < 20; i++)
		bw_put(&z->w, z->pre_len[i], 4);
	for (unsigned x = first; x < last; x++) {
		unsigned s = (old[x] + 17u - lens[x]) % 17u;
		bw_code(&z->w, z->pre_code[s], z->pre_len[s]);
		old[x] = lens[x];
	}
}

/* A verbatim (or aligned) block header for size output bytes. */
static inline void lzxw_block(struct lzxw *z, bool aligned, uint32_t size)
{
	bw_put(&z->w, aligned ? 2 : 1, 3);
	bw_put(&z->w, size >> 8, 16);
	bw_put(&z->w, size & 0xff, 8);
	if (aligned)
		for (unsigned i = 0; i < 8; i++)
			bw_put(&z->w, 3, 3);
	lzxw_lens(z, z->main_len, z->new_main, 0, 256);
	lzxw_lens(z, z->main_len, z->new_main, 256, T_LZX_MAIN);
	lzxw_lens(z, z->len_len, z->new_len, 0, T_LZX_LEN);
	z->aligned_block = aligned;
}

static inline void lzxw_literal(struct lzxw *z, uint8_t c)
{
	bw_code(&z->w, z->main_code[c], 9);
	lzxw_advance(z, 1);
}

/* A match of len 2..257 at offset 1..65533 (offset 0: repeat R0). Must not
 * cross a frame's end. */
static inline void lzxw_match(struct lzxw *z, unsigned len, unsigned offset)
{
	unsigned slot = 0, hdr = len - 2 < 7 ? len - 2 : 7, vb = 0;

	if (offset) {
		for (slot = 3; slot < 32 && z->pbase[slot + 1] <= offset + 2; slot++)
			;
		vb = offset + 2 - z->pbase[slot];
	}
	bw_code(&z->w, z->main_code[256 + slot * 8 + hdr], 9);
	if (hdr == 7)
		bw_code(&z->w, z->len_code[len - 9], z->new_len[len - 9]);
	if (offset) {
		unsigned extra = z->pextra[slot];
		if (z->aligned_block && extra >= 3) {
			bw_put(&z->w, vb >> 3, extra - 3);
			bw_code(&z->w, z->al_code[vb & 7], 3);
		} else {
			bw_put(&z->w, vb, extra);
		}
	}
	lzxw_advance(z, len);
}

/* An uncompressed block (from a word boundary after the header's padding). */
static inline void lzxw_raw(struct lzxw *z, const uint8_t *p, uint32_t n)
{
	bw_put(&z->w, 3, 3);
	bw_put(&z->w, n >> 8, 16);
	bw_put(&z->w, n & 0xff, 8);
	if (z->w.n % 16 == 0)
		bw_put(&z->w, 0, 16); /* 1 to 16 bits, never 0 */
	bw_align(&z->w);
	sb_u32(z->out, z->raw_r0);
	sb_u32(z->out, 1);
	sb_u32(z->out, 1);
	sb_put(z->out, p, n);
	if (n & 1)
		sb_u8(z->out, 0);
	for (uint32_t i = 0; i < n; i++)
		lzxw_advance(z, 1);
}

static inline void lzxw_finish(struct lzxw *z)
{
	bw_align(&z->w);
}

struct chm_item {
	const char *name;
	unsigned section;
	const uint8_t *data; /* section 0: the bytes; section 1: NULL */
	uint64_t offset;     /* section 1: where in the LZX output */
	uint64_t len;
};

static inline void chm_encint(struct sb *b, uint64_t v)
{
	uint8_t t[10];
	int n = 0;

	do {
		t[n++] = (uint8_t)(v & 0x7f);
		v >>= 7;
	} while (v);
	while (n-- > 0)
		sb_u8(b, t[n] | (n ? 0x80u : 0u));
}

/* A CHM of the items, with section 1 the LZX stream lzx (decoding to ulen
 * bytes, frames' compressed offsets in frame_off) when lzx is not NULL. */
static inline void chm_build(struct sb *out, const struct chm_item *it, size_t n, const struct sb *lzx,
			     uint64_t ulen, const uint32_t *frame_off, unsigned nframes,
			     uint32_t reset_frames, uint32_t window_frames)
{
	struct sb content = {0}, chunk = {0}, control = {0}, reset = {0};
	struct chm_item sys[3];
	size_t nsys = 0;
	uint64_t *where = calloc(n + 3, sizeof(uint64_t));
	const uint32_t chunk_size = 4096;
	/* {7C01FD10-7BAA-11D0-9E0C-00A0C922E6EC}, {7C01FD11-...} */
	static const uint8_t itsf_guids[32] = {
		0x10, 0xfd, 0x01, 0x7c, 0xaa, 0x7b, 0xd0, 0x11, 0x9e, 0x0c, 0x00, 0xa0, 0xc9, 0x22, 0xe6, 0xec,
		0x11, 0xfd, 0x01, 0x7c, 0xaa, 0x7b, 0xd0, 0x11, 0x9e, 0x0c, 0x00, 0xa0, 0xc9, 0x22, 0xe6, 0xec};

	if (lzx) {
		sb_u32(&control, 6);
		sb_put(&control, "LZXC", 4);
		sb_u32(&control, 2);
		sb_u32(&control, reset_frames);
		sb_u32(&control, window_frames);
		sb_u32(&control, 1);
		sb_u32(&control, 0);
		sb_u32(&reset, 2);
		sb_u32(&reset, nframes);
		sb_u32(&reset, 8);
		sb_u32(&reset, 0x28);
		sb_u64(&reset, ulen);
		sb_u64(&reset, lzx->len);
		sb_u64(&reset, T_LZX_FRAME);
		for (unsigned i = 0; i < nframes; i++)
			sb_u64(&reset, frame_off[i]);
		sys[0] = (struct chm_item){"::DataSpace/Storage/MSCompressed/Content", 0, lzx->p, 0, lzx->len};
		sys[1] = (struct chm_item){"::DataSpace/Storage/MSCompressed/ControlData", 0, control.p, 0,
					   control.len};
		sys[2] = (struct chm_item){"::DataSpace/Storage/MSCompressed/Transform/"
					   "{7FC28940-9D31-11D0-9B27-00A0C91E9C7C}/InstanceData/ResetTable",
					   0, reset.p, 0, reset.len};
		nsys = 3;
	}
	/* section 0 contents */
	for (size_t i = 0; i < n + nsys; i++) {
		const struct chm_item *x = i < n ? &it[i] : &sys[i - n];
		if (x->section == 0) {
			where[i] = content.len;
			sb_put(&content, x->data, (size_t)x->len);
		} else {
			where[i] = x->offset;
		}
	}
	/* one PMGL chunk */
	sb_put(&chunk, "PMGL", 4);
	sb_u32(&chunk, 0);
	sb_u32(&chunk, 0);
	sb_u32(&chunk, 0xffffffff);
	sb_u32(&chunk, 0xffffffff);
	for (size_t i = 0; i < n + nsys; i++) {
		const struct chm_item *x = i < n ? &it[i] : &sys[i - n];
		chm_encint(&chunk, strlen(x->name));
		sb_put(&chunk, x->name, strlen(x->name));
		chm_encint(&chunk, x->section);
		chm_encint(&chunk, where[i]);
		chm_encint(&chunk, x->len);
	}
	if (chunk.len > chunk_size)
		abort();
	sb_set32(&chunk, 4, (uint32_t)(chunk_size - chunk.len));
	while (chunk.len < chunk_size - 2)
		sb_u8(&chunk, 0);
	sb_u16(&chunk, (unsigned)(n + nsys)); /* the quickref area ends with the entry count */
	/* ITSF header, header section 0, ITSP, the chunk, content */
	{
		const uint64_t dir = 0x60 + 0x18, dir_len = 0x54 + chunk_size, content_off = dir + dir_len;

		sb_put(out, "ITSF", 4);
		sb_u32(out, 3);
		sb_u32(out, 0x60);
		sb_u32(out, 1);
		sb_u32(out, 0);
		sb_u32(out, 0x409);
		sb_put(out, itsf_guids, sizeof(itsf_guids));
		sb_u64(out, 0x60);
		sb_u64(out, 0x18);
		sb_u64(out, dir);
		sb_u64(out, dir_len);
		sb_u64(out, content_off);
		sb_u32(out, 0x1fe);
		sb_u32(out, 0);
		sb_u64(out, content_off + content.len);
		sb_u32(out, 0);
		sb_u32(out, 0);
		sb_put(out, "ITSP", 4);
		sb_u32(out, 1);
		sb_u32(out, 0x54);
		sb_u32(out, 10);
		sb_u32(out, chunk_size);
		sb_u32(out, 2);
		sb_u32(out, 1);
		sb_u32(out, 0xffffffff);
		sb_u32(out, 0);
		sb_u32(out, 0);
		sb_u32(out, 0xffffffff);
		sb_u32(out, 1);
		sb_u32(out, 0x409);
		for (int i = 0; i < 16; i++)
			sb_u8(out, 0);
		sb_u32(out, 0x54);
		sb_u32(out, 0xffffffff);
		sb_u32(out, 0xffffffff);
		sb_u32(out, 0xffffffff);
		sb_put(out, chunk.p, chunk.len);
		sb_put(out, content.p, content.len);
	}
	free(where);
	sb_free(&content);
	sb_free(&chunk);
	sb_free(&control);
	sb_free(&reset);
}

#endif
