/* MS-DOS COMPRESS.EXE files: SZDD and its successor KWAJ.
 *
 * SZDD: "SZDD\x88\xf0\x27\x33", mode 'A', the last character of the file
 * name, the uncompressed size (u32), then LZSS: a control byte whose bits,
 * lowest first, say literal (1: one byte) or match (0: two bytes, a 12-bit
 * position in a 4 KiB ring and a 4-bit length less three). The ring starts
 * filled with spaces and writing starts at 4096 - 16. The stream has no end
 * marker: it ends with the input.
 *
 * KWAJ: "KWAJ\x88\xf0\x27\xd1", method (u16), data offset (u16), header flags
 * (u16) and optional header fields, among them the file name and extension.
 * Methods 0 (stored), 1 (bytes xor 0xff), 2 (SZDD's LZSS) and 4 (MS-ZIP:
 * blocks of a u16 length (0 ends them), "CK" and raw deflate data, each
 * inflating to at most 32 KiB and able to refer to the block before; the
 * next block starts at the byte after the deflate data) are decoded; 3
 * (LZ+Huffman) is not. */
#include <string.h>
#include <zlib.h>

#include "unpack/lzout.h"
#include "unpack/unpack.h"

#define SZDD_WINDOW 4096u

static const uint8_t szdd_magic[8] = {'S', 'Z', 'D', 'D', 0x88, 0xf0, 0x27, 0x33};
static const uint8_t kwaj_magic[8] = {'K', 'W', 'A', 'J', 0x88, 0xf0, 0x27, 0xd1};

/* LZSS as COMPRESS.EXE writes it, from in[0..n) to the end of the input or
 * of the budget. */
static void lzss(const uint8_t *in, size_t n, struct lzout *o)
{
	uint8_t ring[SZDD_WINDOW];
	unsigned r = SZDD_WINDOW - 16;
	size_t pos = 0;

	memset(ring, ' ', sizeof(ring));
	while (pos < n) {
		unsigned ctrl = in[pos++], bit;

		for (bit = 0; bit < 8 && pos < n; bit++) {
			if (ctrl & (1u << bit)) {
				ring[r] = in[pos++];
				if (!lzout_byte(o, ring[r]))
					return;
				r = (r + 1) & (SZDD_WINDOW - 1);
			} else {
				unsigned m, len, i;

				if (n - pos < 2)
					return;
				m = in[pos] | (unsigned)(in[pos + 1] & 0xf0) << 4;
				len = (in[pos + 1] & 0x0fu) + 3;
				pos += 2;
				/* one byte at a time: a match may overlap what it writes */
				for (i = 0; i < len; i++) {
					ring[r] = ring[(m + i) & (SZDD_WINDOW - 1)];
					if (!lzout_byte(o, ring[r]))
						return;
					r = (r + 1) & (SZDD_WINDOW - 1);
				}
			}
		}
	}
}

#define MSZIP_BLOCK 32768u

/* MS-ZIP as KWAJ stores it: a length, "CK" and one deflate stream per
 * block, the previous block's output as its dictionary. Ends at a length of
 * 0 or the first block that is not one. Only VG_ENOMEM is an error. */
static vg_status mszip(const uint8_t *in, size_t n, struct lzout *o)
{
	z_stream z;
	size_t pos = 0;
	int zr;

	memset(&z, 0, sizeof(z));
	zr = inflateInit2(&z, -15);
	if (zr != Z_OK)
		return zr == Z_MEM_ERROR ? VG_ENOMEM : VG_OK;
	while (n - pos >= 4 && (in[pos] | in[pos + 1]) != 0 && in[pos + 2] == 'C' &&
	       in[pos + 3] == 'K' && !o->truncated) {
		size_t start = o->b.len, room = o->b.max - o->b.len, got;
		size_t want = room < MSZIP_BLOCK ? room : MSZIP_BLOCK;

		pos += 4;
		if (inflateReset(&z) != Z_OK)
			break;
		if (start && inflateSetDictionary(&z, o->b.data + start - (start < MSZIP_BLOCK ? start : MSZIP_BLOCK),
						  (uInt)(start < MSZIP_BLOCK ? start : MSZIP_BLOCK)) != Z_OK)
			break;
		if (want == 0 || buf_reserve(&o->b, want) != VG_OK) {
			o->truncated = want == 0;
			o->nomem = want != 0;
			break;
		}
		z.next_in = (Bytef *)(uintptr_t)(in + pos);
		z.avail_in = (uInt)(n - pos > UINT32_MAX ? UINT32_MAX : n - pos);
		z.next_out = o->b.data + start;
		z.avail_out = (uInt)want;
		zr = inflate(&z, Z_FINISH);
		got = want - z.avail_out;
		o->b.len += got;
		pos = (size_t)(z.next_in - in);
		if (zr == Z_MEM_ERROR)
			o->nomem = true;
		if (zr != Z_STREAM_END) {
			/* a block larger than the budget left, or a damaged one */
			o->truncated = zr == Z_BUF_ERROR && got == want && want < MSZIP_BLOCK;
			break;
		}
	}
	inflateEnd(&z);
	return o->nomem ? VG_ENOMEM : VG_OK;
}

static vg_status emit(const struct unpack_sink *sink, const char *name, struct lzout *o)
{
	struct unpack_child c;

	if (o->nomem)
		return VG_ENOMEM;
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.data = o->b.data ? o->b.data : (const uint8_t *)"";
	c.len = o->b.len;
	c.truncated = o->truncated;
	return sink->child(sink->ctx, &c);
}

static vg_status szdd(const struct unpack_input *in, const struct unpack_sink *sink)
{
	struct lzout o;
	vg_status rc;

	if (in->len < 14 || in->data[8] != 'A')
		return VG_OK;
	lzout_init(&o, sink->max_child);
	lzss(in->data + 14, in->len - 14, &o);
	rc = emit(sink, NULL, &o);
	lzout_free(&o);
	return rc;
}

/* Appends a NUL-terminated header string of at most max bytes to name. */
static bool kwaj_string(struct reader *r, size_t max, char *name, size_t *len)
{
	uint8_t c;
	size_t i;

	for (i = 0; i < max; i++) {
		if (!reader_u8(r, &c))
			return false;
		if (c == 0)
			return true;
		name[(*len)++] = (char)c;
	}
	return true; /* the full length has no terminator */
}

static vg_status kwaj(const struct unpack_input *in, const struct unpack_sink *sink)
{
	struct reader r = reader_init(in->data, in->len);
	char name[9 + 1 + 4 + 1];
	size_t name_len = 0;
	uint8_t h[6];
	uint32_t method, data, flags, v;
	const uint8_t *p;
	struct lzout o;
	vg_status rc;

	if (!reader_skip(&r, 8) || !reader_bytes(&r, 6, &p))
		return VG_OK;
	memcpy(h, p, 6);
	method = (uint32_t)h[0] | (uint32_t)h[1] << 8;
	data = (uint32_t)h[2] | (uint32_t)h[3] << 8;
	flags = (uint32_t)h[4] | (uint32_t)h[5] << 8;
	if (method == 3 || method > 4 || data > in->len)
		return VG_OK;
	/* optional fields, in this order, each present when its flag is set */
	if (((flags & 1) && !reader_u32le(&r, &v)) || ((flags & 2) && !reader_skip(&r, 2)))
		return VG_OK;
	if (flags & 4) {
		if (!reader_bytes(&r, 2, &p) || !reader_skip(&r, (size_t)p[0] | (size_t)p[1] << 8))
			return VG_OK;
	}
	if ((flags & 8) && !kwaj_string(&r, 9, name, &name_len))
		return VG_OK;
	if (flags & 16) {
		name[name_len++] = '.';
		if (!kwaj_string(&r, 4, name, &name_len))
			return VG_OK;
	}
	name[name_len] = '\0';
	lzout_init(&o, sink->max_child);
	if (method == 2) {
		lzss(in->data + data, in->len - data, &o);
	} else if (method == 4) {
		rc = mszip(in->data + data, in->len - data, &o);
		if (rc != VG_OK)
			goto out;
	} else {
		size_t i;

		(void)lzout_bytes(&o, in->data + data, in->len - data);
		if (method == 1)
			for (i = 0; i < o.b.len; i++)
				o.b.data[i] ^= 0xff;
	}
	rc = emit(sink, name_len ? name : NULL, &o);
out:
	lzout_free(&o);
	return rc;
}

vg_status unpack_szdd(const struct unpack_input *in, const struct unpack_sink *sink)
{
	if (in->len >= 8 && memcmp(in->data, szdd_magic, 8) == 0)
		return szdd(in, sink);
	if (in->len >= 8 && memcmp(in->data, kwaj_magic, 8) == 0)
		return kwaj(in, sink);
	return VG_OK;
}
