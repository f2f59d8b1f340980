/* Microsoft Compiled HTML Help (.chm, "ITSF").
 *
 * Layout: the ITSF header points at the directory (an "ITSP" header and
 * chunks of chunk_size bytes; the "PMGL" ones list files, "PMGI" ones only
 * index them) and at content section 0. A PMGL entry is an ENCINT name
 * length, the UTF-8 name, then ENCINT section, offset and length (ENCINT:
 * big-endian groups of 7 bits, the high bit set on all but the last byte).
 * Section 0 is stored; section 1 ("MSCompressed") is one LZX stream kept in
 * section 0 as ::DataSpace/Storage/MSCompressed/Content, with its window
 * size and reset interval in .../ControlData ("LZXC") and its uncompressed
 * length and the compressed offset of each 32 KiB frame in the reset table
 * (.../Transform/{7FC28940-9D31-11D0-9B27-00A0C91E9C7C}/InstanceData/
 * ResetTable).
 *
 * LZX as in CHM: 16-bit little-endian words read most significant bit
 * first; output in 32 KiB frames, after each of which the input is aligned
 * to a word; every reset interval the decoder state (repeated offsets, tree
 * lengths, the E8 header) starts over. Blocks: verbatim, aligned offset and
 * uncompressed; a main tree of 256 literals and 8 length headers per
 * position slot, a length tree of 249 symbols, an aligned tree of 8; tree
 * lengths are coded as deltas through a 20-symbol pretree. The E8 call
 * translation is undone when the stream's header asks for it (CHM
 * compilers leave it off).
 *
 * Each file is a child named by its path ("/clam.exe.txt"), section 0 files
 * in directory order, then section 1 files in the order of their offsets,
 * so the LZX stream is decoded once, front to back, keeping no more than
 * one file (up to sink->max_child) and a frame; a gap before a file is
 * jumped over through the reset table when it can be. */
#include <stdlib.h>
#include <string.h>

#include "unpack/bits.h"
#include "unpack/unpack.h"

#define LZX_FRAME 32768u
#define LZX_MAX_SLOTS 50u
#define LZX_MAIN_MAX (256u + LZX_MAX_SLOTS * 8u)
#define LZX_LEN_SYMS 249u
#define LZX_PRETREE 20u
#define LZX_ALIGNED_SYMS 8u
#define LZX_E8_FRAMES 32768u /* translation stops after 1 GiB */

enum { LZX_VERBATIM = 1, LZX_ALIGNED = 2, LZX_UNCOMPRESSED = 3 };

struct lzx {
	struct bits br;       /* msb16 over the compressed content */
	uint8_t *window;
	uint32_t wsize;
	unsigned main_syms;
	uint32_t r0, r1, r2;  /* repeated offsets */
	unsigned block_type;
	uint32_t block_len;
	uint32_t block_left;
	bool raw;             /* in an uncompressed block: bytes from raw_pos */
	size_t raw_pos;
	bool header_read;     /* the E8 header of this reset interval */
	uint32_t e8_size;
	uint64_t pos;         /* bytes decoded */
	uint64_t frame;       /* the next frame */
	uint32_t reset_frames;
	uint32_t pbase[LZX_MAX_SLOTS + 1];
	uint8_t pextra[LZX_MAX_SLOTS + 1];
	uint8_t main_len[LZX_MAIN_MAX];
	uint8_t len_len[LZX_LEN_SYMS];
	uint8_t aligned_len[LZX_ALIGNED_SYMS];
	uint8_t pre_len[LZX_PRETREE];
	struct huff main, length, aligned, pre;
	uint8_t out[LZX_FRAME];
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p + 4) << 32 | le32(p);
}

static void lzx_reset(struct lzx *z)
{
	z->r0 = z->r1 = z->r2 = 1;
	z->header_read = false;
	z->block_type = 0;
	z->block_left = 0;
	memset(z->main_len, 0, sizeof(z->main_len));
	memset(z->len_len, 0, sizeof(z->len_len));
}

/* window_bits 15..21; NULL on allocation failure. */
static struct lzx *lzx_new(unsigned window_bits, uint32_t reset_frames, const uint8_t *in, size_t len)
{
	static const uint8_t slots[7] = {30, 32, 34, 36, 38, 42, 50};
	struct lzx *z = vg_calloc(1, sizeof(*z));
	unsigned i;

	if (!z)
		return NULL;
	z->wsize = 1u << window_bits;
	z->window = vg_calloc(1, z->wsize);
	if (!z->window) {
		vg_free(z);
		return NULL;
	}
	z->main_syms = 256u + slots[window_bits - 15] * 8u;
	z->reset_frames = reset_frames;
	for (i = 0; i <= LZX_MAX_SLOTS; i++) {
		unsigned e = i < 4 ? 0 : (i - 2) / 2;
		z->pextra[i] = (uint8_t)(e > 17 ? 17 : e);
		z->pbase[i] = i == 0 ? 0 : z->pbase[i - 1] + (1u << z->pextra[i - 1]);
	}
	bits_init(&z->br, in, len);
	z->br.word16 = true;
	lzx_reset(z);
	return z;
}

static void lzx_free(struct lzx *z)
{
	if (z) {
		vg_free(z->window);
		vg_free(z);
	}
}

/* Tree lengths lens[first..last) as deltas through a fresh pretree. */
static bool lzx_lens(struct lzx *z, uint8_t *lens, unsigned first, unsigned last)
{
	unsigned i, x = first;

	for (i = 0; i < LZX_PRETREE; i++)
		z->pre_len[i] = (uint8_t)bits_msb_get(&z->br, 4);
	if (z->br.err || !huff_build(&z->pre, z->pre_len, LZX_PRETREE, false, false))
		return false;
	while (x < last) {
		int s = huff_decode_msb(&z->pre, &z->br);
		unsigned n;
		uint8_t v = 0;

		if (s < 0)
			return false;
		if (s < 17) {
			lens[x] = (uint8_t)((lens[x] + 17u - (unsigned)s) % 17u);
			x++;
			continue;
		}
		if (s == 17) {
			n = bits_msb_get(&z->br, 4) + 4;
		} else if (s == 18) {
			n = bits_msb_get(&z->br, 5) + 20;
		} else {
			n = bits_msb_get(&z->br, 1) + 4;
			s = huff_decode_msb(&z->pre, &z->br);
			if (s < 0 || s > 16)
				return false;
			v = (uint8_t)((lens[x] + 17u - (unsigned)s) % 17u);
		}
		if (n > last - x)
			n = last - x;
		memset(lens + x, v, n);
		x += n;
	}
	return !z->br.err;
}

/* The end of an uncompressed block: an odd-sized one is followed by a
 * byte of padding, and bits are read again from there. */
static void lzx_raw_end(struct lzx *z)
{
	if (z->block_len & 1)
		z->raw_pos++;
	z->raw = false;
	bits_seek(&z->br, z->raw_pos);
}

static bool lzx_block(struct lzx *z)
{
	uint32_t hi, lo;
	unsigned i;

	z->block_type = bits_msb_get(&z->br, 3);
	hi = bits_msb_get(&z->br, 16);
	lo = bits_msb_get(&z->br, 8);
	z->block_len = z->block_left = hi << 8 | lo;
	if (z->br.err)
		return false;
	if (z->block_type == LZX_ALIGNED) {
		for (i = 0; i < LZX_ALIGNED_SYMS; i++)
			z->aligned_len[i] = (uint8_t)bits_msb_get(&z->br, 3);
		if (!huff_build(&z->aligned, z->aligned_len, LZX_ALIGNED_SYMS, false, false))
			return false;
	}
	if (z->block_type == LZX_VERBATIM || z->block_type == LZX_ALIGNED)
		return lzx_lens(z, z->main_len, 0, 256) && lzx_lens(z, z->main_len, 256, z->main_syms) &&
		       huff_build(&z->main, z->main_len, z->main_syms, false, false) &&
		       lzx_lens(z, z->len_len, 0, LZX_LEN_SYMS) &&
		       huff_build(&z->length, z->len_len, LZX_LEN_SYMS, false, false);
	if (z->block_type == LZX_UNCOMPRESSED) {
		/* 1 to 16 bits of padding to the next word, then R0..R2 and the
		 * bytes themselves */
		unsigned part = z->br.cnt % 16;
		const uint8_t *p = z->br.p;

		bits_msb_drop(&z->br, part ? part : 16);
		if (z->br.err)
			return false;
		z->raw_pos = bits_tell(&z->br);
		if (z->br.len - z->raw_pos < 12)
			return false;
		z->r0 = le32(p + z->raw_pos);
		z->r1 = le32(p + z->raw_pos + 4);
		z->r2 = le32(p + z->raw_pos + 8);
		z->raw_pos += 12;
		z->raw = true;
		if (z->block_left == 0)
			lzx_raw_end(z);
		return true;
	}
	return false;
}

/* A match: length and offset from the main element m (>= 256). */
static bool lzx_match(struct lzx *z, unsigned m)
{
	uint32_t mask = z->wsize - 1, len = (m - 256) & 7, slot = (m - 256) >> 3, off, dst, src, i;

	if (len == 7) {
		int l = huff_decode_msb(&z->length, &z->br);
		if (l < 0)
			return false;
		len += (uint32_t)l;
	}
	len += 2;
	if (slot == 0) {
		off = z->r0;
	} else if (slot == 1) {
		off = z->r1;
		z->r1 = z->r0;
		z->r0 = off;
	} else if (slot == 2) {
		off = z->r2;
		z->r2 = z->r0;
		z->r0 = off;
	} else {
		unsigned extra = z->pextra[slot];

		off = z->pbase[slot] - 2;
		if (z->block_type == LZX_ALIGNED && extra >= 3) {
			int a;

			off += bits_msb_get(&z->br, extra - 3) << 3;
			a = huff_decode_msb(&z->aligned, &z->br);
			if (a < 0)
				return false;
			off += (uint32_t)a;
		} else {
			off += bits_msb_get(&z->br, extra);
		}
		z->r2 = z->r1;
		z->r1 = z->r0;
		z->r0 = off;
	}
	dst = (uint32_t)(z->pos & mask);
	if (z->br.err || len > z->block_left || off == 0 || off > z->wsize || dst + len > z->wsize)
		return false;
	src = (dst - off) & mask;
	for (i = 0; i < len; i++)
		z->window[dst + i] = z->window[(src + i) & mask];
	z->pos += len;
	z->block_left -= len;
	return true;
}

/* Decodes until pos reaches end (a match may go past it). */
static bool lzx_run(struct lzx *z, uint64_t end)
{
	uint32_t mask = z->wsize - 1;

	while (z->pos < end) {
		if (z->raw) {
			size_t n = z->br.len - z->raw_pos;

			if (n > z->block_left)
				n = z->block_left;
			if (n > end - z->pos)
				n = (size_t)(end - z->pos);
			if (n == 0)
				return false;
			memcpy(z->window + (z->pos & mask), z->br.p + z->raw_pos, n);
			z->pos += n;
			z->raw_pos += n;
			z->block_left -= (uint32_t)n;
			if (z->block_left == 0)
				lzx_raw_end(z);
			continue;
		}
		if (z->block_left == 0) {
			if (!lzx_block(z))
				return false;
			continue;
		}
		while (z->block_left && z->pos < end) {
			int m = huff_decode_msb(&z->main, &z->br);

			if (m < 0)
				return false;
			if (m < 256) {
				z->window[z->pos & mask] = (uint8_t)m;
				z->pos++;
				z->block_left--;
			} else if (!lzx_match(z, (unsigned)m)) {
				return false;
			}
		}
	}
	return true;
}

/* Undoes the E8 (x86 CALL) translation of one frame starting at start. */
static void lzx_e8(uint8_t *d, uint32_t n, uint64_t start, uint32_t size)
{
	int64_t cur = (int64_t)start;
	uint32_t i = 0;

	while (i + 10 < n) {
		int64_t abs, rel;
		uint32_t v;

		if (d[i] != 0xe8) {
			i++;
			cur++;
			continue;
		}
		abs = (int32_t)le32(d + i + 1);
		if (abs >= -cur && abs < (int64_t)size) {
			rel = abs >= 0 ? abs - cur : abs + size;
			v = (uint32_t)rel;
			d[i + 1] = (uint8_t)v;
			d[i + 2] = (uint8_t)(v >> 8);
			d[i + 3] = (uint8_t)(v >> 16);
			d[i + 4] = (uint8_t)(v >> 24);
		}
		i += 5;
		cur += 5;
	}
}

/* Decodes the next frame, flen bytes long (LZX_FRAME but for the last).
 * *got tells how many bytes of it are good: all of them, or (returning
 * false) those before the stream went bad. */
static bool lzx_frame(struct lzx *z, uint32_t flen, const uint8_t **out, uint32_t *got)
{
	uint64_t start = z->frame * LZX_FRAME;
	uint32_t n;
	bool ok = true;

	*got = 0;
	*out = z->out;
	if (z->reset_frames && z->frame % z->reset_frames == 0) {
		if (z->block_left)
			return false; /* a block across a reset point */
		lzx_reset(z);
	}
	if (!z->header_read) {
		z->e8_size = 0;
		if (bits_msb_get(&z->br, 1)) {
			uint32_t hi = bits_msb_get(&z->br, 16);
			z->e8_size = hi << 16 | bits_msb_get(&z->br, 16);
		}
		z->header_read = true;
	}
	ok = !z->br.err && lzx_run(z, start + flen);
	if (ok && !z->raw)
		bits_msb_drop(&z->br, z->br.cnt % 16);
	n = z->pos - start < flen ? (uint32_t)(z->pos - start) : flen;
	memcpy(z->out, z->window + (start & (z->wsize - 1)), n);
	if (z->e8_size && n > 10 && z->frame < LZX_E8_FRAMES)
		lzx_e8(z->out, n, start, z->e8_size);
	z->frame++;
	*got = n;
	return ok;
}

/* Restarts decoding at frame (a reset point) from compressed offset off. */
static void lzx_seek(struct lzx *z, uint64_t frame, size_t off)
{
	z->frame = frame;
	z->pos = frame * LZX_FRAME;
	z->raw = false;
	z->block_left = 0;
	bits_seek(&z->br, off);
	lzx_reset(z);
}

/* ---- the container ---- */

#define MSC_PREFIX "::DataSpace/Storage/MSCompressed/"
#define MSC_CONTENT MSC_PREFIX "Content"
#define MSC_CONTROL MSC_PREFIX "ControlData"
#define MSC_RESET \
	MSC_PREFIX "Transform/{7FC28940-9D31-11D0-9B27-00A0C91E9C7C}/InstanceData/ResetTable"

struct chm_entry {
	const uint8_t *name;
	size_t name_len;
	uint64_t section;
	uint64_t offset;
	uint64_t length;
	size_t order;
};

struct chm {
	const struct unpack_input *in;
	const struct unpack_sink *sink;
	uint64_t content; /* offset of section 0 in the input */
	struct chm_entry *e;
	size_t n, cap;
	/* section 1 */
	const uint8_t *rt;  /* reset table */
	size_t rt_len;
	uint64_t total;     /* uncompressed length */
	struct lzx *z;
	struct buf out;     /* decoded bytes from base to z->pos */
	uint64_t base;
	uint64_t skipped;   /* decoded only to get further */
	bool failed;
};

static bool encint(struct reader *r, uint64_t *v)
{
	uint64_t x = 0;
	uint8_t c;

	do {
		if (!reader_u8(r, &c) || x > (UINT64_MAX >> 7))
			return false;
		x = x << 7 | (c & 0x7fu);
	} while (c & 0x80);
	*v = x;
	return true;
}

static bool name_is(const struct chm_entry *e, const char *s)
{
	size_t n = strlen(s);

	return e->name_len == n && memcmp(e->name, s, n) == 0;
}

static vg_status add_entries(struct chm *c, const uint8_t *p, size_t len)
{
	struct reader r = reader_init(p, len);

	while (reader_left(&r)) {
		struct chm_entry e;
		uint64_t n;

		if (!encint(&r, &n) || n > reader_left(&r))
			break;
		(void)reader_bytes(&r, (size_t)n, &e.name);
		e.name_len = (size_t)n;
		if (!encint(&r, &e.section) || !encint(&r, &e.offset) || !encint(&r, &e.length))
			break;
		if (c->n == VG_CHM_MAX_ENTRIES)
			return VG_OK;
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 64;
			struct chm_entry *ne = vg_reallocarray(c->e, cap, sizeof(*ne));

			if (!ne)
				return VG_ENOMEM;
			c->e = ne;
			c->cap = cap;
		}
		e.order = c->n;
		c->e[c->n++] = e;
	}
	return VG_OK;
}

/* Reads the headers and every PMGL chunk's entries. false: not a CHM we can
 * read. */
static bool read_directory(struct chm *c, vg_status *rc)
{
	const uint8_t *d = c->in->data;
	size_t len = c->in->len;
	uint64_t dir, dir_len, chunks, chunk_size, nchunks, i;

	*rc = VG_OK;
	if (len < 0x58 || memcmp(d, "ITSF", 4) != 0)
		return false;
	dir = le64(d + 0x48);
	dir_len = le64(d + 0x50);
	if (le32(d + 4) >= 3 && le32(d + 8) >= 0x60 && len >= 0x60)
		c->content = le64(d + 0x58);
	else if (dir + dir_len >= dir)
		c->content = dir + dir_len;
	else
		return false;
	if (dir > len || len - dir < 0x30 || memcmp(d + dir, "ITSP", 4) != 0)
		return false;
	chunks = dir + le32(d + dir + 8);
	chunk_size = le32(d + dir + 0x10);
	nchunks = le32(d + dir + 0x2c);
	if (chunk_size < 0x20 || chunks > len)
		return false;
	for (i = 0; i < nchunks && chunks + i * chunk_size < len; i++) {
		const uint8_t *p = d + chunks + i * chunk_size;
		size_t have = len - (size_t)(chunks + i * chunk_size), end;
		uint32_t free_space;

		if (have > chunk_size)
			have = (size_t)chunk_size;
		if (have < 0x14 || memcmp(p, "PMGL", 4) != 0)
			continue;
		free_space = le32(p + 4);
		end = free_space <= chunk_size - 0x14 ? (size_t)(chunk_size - free_space) : (size_t)chunk_size;
		if (end > have)
			end = have;
		*rc = add_entries(c, p + 0x14, end - 0x14);
		if (*rc != VG_OK)
			return false;
	}
	return true;
}

/* The bytes of a section 0 file in the input (cut at its end). */
static const uint8_t *section0(const struct chm *c, const struct chm_entry *e, size_t *len)
{
	uint64_t at = c->content + e->offset;

	if (at < c->content || at > c->in->len)
		return NULL;
	*len = c->in->len - (size_t)at < e->length ? c->in->len - (size_t)at : (size_t)e->length;
	return c->in->data + at;
}

static const struct chm_entry *find(const struct chm *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].section == 0 && name_is(&c->e[i], name))
			return &c->e[i];
	return NULL;
}

/* Sets up the LZX decoder from ControlData and the reset table. */
static vg_status open_section1(struct chm *c, uint64_t needed)
{
	const struct chm_entry *content = find(c, MSC_CONTENT), *control = find(c, MSC_CONTROL),
			       *reset = find(c, MSC_RESET);
	const uint8_t *cd, *in;
	size_t cd_len, in_len;
	uint32_t window, interval;
	unsigned bits;

	if (!content || !control || !(in = section0(c, content, &in_len)) ||
	    !(cd = section0(c, control, &cd_len)) || cd_len < 0x18 || memcmp(cd + 4, "LZXC", 4) != 0)
		return VG_OK;
	interval = le32(cd + 0xc);
	window = le32(cd + 0x10);
	if (le32(cd + 8) == 2) { /* counted in frames */
		if (interval > UINT32_MAX / LZX_FRAME || window > UINT32_MAX / LZX_FRAME)
			return VG_OK;
		interval *= LZX_FRAME;
		window *= LZX_FRAME;
	} else if (le32(cd + 8) != 1) {
		return VG_OK;
	}
	for (bits = 15; bits <= 21 && window != 1u << bits; bits++)
		;
	if (bits > 21 || interval % LZX_FRAME)
		return VG_OK;
	c->total = needed;
	if (reset && (c->rt = section0(c, reset, &c->rt_len)) != NULL && c->rt_len >= 0x28 &&
	    le32(c->rt + 8) == 8)
		c->total = le64(c->rt + 0x10);
	else
		c->rt = NULL;
	c->z = lzx_new(bits, interval / LZX_FRAME, in, in_len);
	return c->z ? VG_OK : VG_ENOMEM;
}

/* The compressed offset where frame starts, from the reset table. */
static bool reset_offset(const struct chm *c, uint64_t frame, size_t *at)
{
	uint64_t bsize, idx, off;
	uint32_t nent, hlen;

	if (!c->rt || frame > UINT64_MAX / LZX_FRAME)
		return false;
	bsize = le64(c->rt + 0x20);
	nent = le32(c->rt + 4);
	hlen = le32(c->rt + 0xc);
	if (bsize == 0 || (frame * LZX_FRAME) % bsize)
		return false;
	idx = frame * LZX_FRAME / bsize;
	if (idx >= nent || hlen > c->rt_len || (c->rt_len - hlen) / 8 <= idx)
		return false;
	off = le64(c->rt + hlen + idx * 8);
	if (off >= c->z->br.len)
		return false;
	*at = (size_t)off;
	return true;
}

/* Jumps over a gap to the last reset point at or before off, when the reset
 * table says where it starts and it is ahead of the decoder. */
static void maybe_seek(struct chm *c, uint64_t off)
{
	struct lzx *z = c->z;
	uint64_t frame = off / LZX_FRAME;
	size_t at;

	if (!z->reset_frames)
		return;
	frame -= frame % z->reset_frames;
	if (frame <= z->frame || !reset_offset(c, frame, &at))
		return;
	lzx_seek(z, frame, at);
	c->out.len = 0;
	c->base = z->pos;
}

/* Decodes until [off, end) is in c->out (or decoding fails), keeping
 * nothing before off. */
static vg_status decode_to(struct chm *c, uint64_t off, uint64_t end)
{
	struct lzx *z = c->z;

	if (c->base < off) { /* drop what earlier files needed */
		uint64_t drop = off - c->base < c->out.len ? off - c->base : c->out.len;

		if (drop) {
			memmove(c->out.data, c->out.data + drop, c->out.len - (size_t)drop);
			c->out.len -= (size_t)drop;
		}
		c->base += drop;
	}
	maybe_seek(c, off);
	while (!c->failed && z->frame * LZX_FRAME < end) {
		uint64_t start = z->frame * LZX_FRAME;
		uint32_t flen = c->total - start < LZX_FRAME ? (uint32_t)(c->total - start) : LZX_FRAME;
		const uint8_t *f;
		size_t from = 0, at;
		uint32_t got;
		vg_status rc;

		if (start >= c->total)
			break;
		/* a reset point starts where the reset table says: that settles
		 * whether an odd-sized uncompressed block just before it left a
		 * byte of padding */
		if (z->reset_frames && z->frame % z->reset_frames == 0 && z->block_left == 0 &&
		    reset_offset(c, z->frame, &at))
			lzx_seek(z, z->frame, at);
		if (!lzx_frame(z, flen, &f, &got))
			c->failed = true; /* keep what came before the damage */
		flen = got;
		/* z->pos may be past the frame's end (a match across it): the
		 * frame is what counts, the rest comes with the next one */
		if (start < off) {
			from = off - start < flen ? (size_t)(off - start) : flen;
			c->skipped += from;
			if (c->skipped > VG_CHM_MAX_SKIP)
				c->failed = true;
		}
		if (c->out.len == 0)
			c->base = start + from;
		rc = buf_append(&c->out, f + from, flen - from);
		if (rc == VG_ENOMEM)
			return rc;
		if (rc != VG_OK)
			c->failed = true;
	}
	return VG_OK;
}

static vg_status emit(struct chm *c, const struct chm_entry *e, const uint8_t *data, size_t len)
{
	struct unpack_child ch;
	char *name = vg_strndup((const char *)e->name, e->name_len);
	vg_status rc;

	if (!name)
		return VG_ENOMEM;
	memset(&ch, 0, sizeof(ch));
	ch.name = name;
	ch.truncated = e->length > c->sink->max_child;
	ch.len = len > c->sink->max_child ? c->sink->max_child : len;
	ch.data = data;
	rc = c->sink->child(c->sink->ctx, &ch);
	vg_free(name);
	return rc;
}

static bool is_file(const struct chm_entry *e)
{
	size_t n = sizeof(MSC_PREFIX) - 1;

	return e->length > 0 && e->name_len > 0 && e->name[e->name_len - 1] != '/' &&
	       !(e->name_len >= n && memcmp(e->name, MSC_PREFIX, n) == 0);
}

static int by_offset(const void *a, const void *b)
{
	const struct chm_entry *x = a, *y = b;

	if (x->section != y->section)
		return x->section < y->section ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static vg_status section1_files(struct chm *c, size_t first)
{
	uint64_t needed = 0;
	vg_status rc;
	size_t i;

	for (i = first; i < c->n; i++) {
		const struct chm_entry *e = &c->e[i];
		uint64_t want = e->length < c->sink->max_child ? e->length : c->sink->max_child;

		if (e->section == 1 && is_file(e) && e->offset + want >= e->offset &&
		    e->offset + want > needed)
			needed = e->offset + want;
	}
	if (needed == 0)
		return VG_OK;
	rc = open_section1(c, needed);
	if (rc != VG_OK || !c->z)
		return rc;
	/* a file and a frame, plus what a match past a frame's end brings */
	buf_init(&c->out, c->sink->max_child > SIZE_MAX - 2 * LZX_FRAME ? SIZE_MAX
									   : c->sink->max_child + 2 * LZX_FRAME);
	for (i = first; i < c->n && c->e[i].section == 1; i++) {
		const struct chm_entry *e = &c->e[i];
		uint64_t want = e->length < c->sink->max_child ? e->length : c->sink->max_child, end;

		if (!is_file(e) || e->offset >= c->total)
			continue;
		end = c->total - e->offset < want ? c->total : e->offset + want;
		rc = decode_to(c, e->offset, end);
		if (rc != VG_OK)
			return rc;
		if (c->base > e->offset || c->base + c->out.len <= e->offset)
			continue; /* decoding failed before this file */
		rc = emit(c, e, c->out.data + (e->offset - c->base),
			  (size_t)(c->base + c->out.len - e->offset < want ? c->base + c->out.len - e->offset
									    : want));
		if (rc != VG_OK)
			return rc;
	}
	return VG_OK;
}

vg_status unpack_chm(const struct unpack_input *in, const struct unpack_sink *sink)
{
	struct chm c;
	vg_status rc;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.in = in;
	c.sink = sink;
	buf_init(&c.out, 0);
	if (!read_directory(&c, &rc))
		goto out;
	for (i = 0; i < c.n; i++) {
		const struct chm_entry *e = &c.e[i];
		const uint8_t *p;
		size_t len;

		if (e->section != 0 || !is_file(e) || !(p = section0(&c, e, &len)) || len == 0)
			continue;
		rc = emit(&c, e, p, len);
		if (rc != VG_OK)
			goto out;
	}
	/* section 1 in offset order; the sort keeps section 0 entries (which
	 * the LZX setup looks up) first */
	if (c.n)
		qsort(c.e, c.n, sizeof(*c.e), by_offset);
	for (i = 0; i < c.n && c.e[i].section == 0; i++)
		;
	rc = section1_files(&c, i);
out:
	lzx_free(c.z);
	buf_free(&c.out);
	vg_free(c.e);
	return rc;
}
