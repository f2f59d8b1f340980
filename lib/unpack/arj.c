/* ARJ archives: a main header, then one local header and the data of each
 * entry, every header "\x60\xea", a basic header size (u16, 0 ends the
 * archive, at most 2600), the basic header, its CRC-32 and extended headers
 * (u16 size, data, CRC-32; a size of 0 ends them).
 *
 * Basic header: first_hdr_size, version, minimum version, host OS, flags
 * (bit 0: garbled, i.e. encrypted), method, file type (0 binary, 1 text, 2
 * main header or comment, 3 directory, 4 volume label), reserved, mtime,
 * compressed size, original size, CRC, filespec position, mode, chapters,
 * then (at first_hdr_size) the NUL-terminated name and comment.
 *
 * Methods: 0 stored; 1 to 3 one LZ77+Huffman format (26 KiB window, matches
 * of 3 to 256 bytes, blocks with their own code tables, read most
 * significant bit first) differing only in how hard the packer looked; 4
 * "fastest", LZ77 with unary-prefixed lengths and distances. A stream has no
 * end marker: it stops at the original size.
 *
 * A self-extracting archive has code before the main header, which is then
 * found by its header CRC. */
#include <string.h>
#include <zlib.h>

#include "unpack/bits.h"
#include "unpack/lzout.h"
#include "unpack/unpack.h"

#define ARJ_MAX_BASIC 2600u
#define ARJ_FIRST_MIN 30u

#define ARJ_GARBLED 0x01u

#define ARJ_NC 510u  /* literals, then match lengths 3..256 */
#define ARJ_NP 17u   /* distance classes */
#define ARJ_NT 19u   /* the tree that codes the literal tree's lengths */
#define ARJ_CBIT 9u
#define ARJ_PBIT 5u
#define ARJ_TBIT 5u
#define ARJ_THRESHOLD 3u

struct arj_tree {
	struct huff h;
	int constant; /* >= 0: a table of one symbol, read with no bits */
};

struct arj_lzh {
	struct bits br;
	struct arj_tree c, p, t;
	uint8_t c_len[ARJ_NC];
	uint8_t pt_len[ARJ_NT];
};

static int tree_decode(const struct arj_tree *t, struct bits *b)
{
	if (t->constant >= 0)
		return b->err ? -1 : t->constant;
	return huff_decode_msb(&t->h, b);
}

/* The lengths of the T or P table: a count, then per symbol a 3-bit length,
 * 7 meaning 7 plus the number of 1 bits that follow (up to a 0); after the
 * third T length, a 2-bit run of zero lengths. */
static bool read_pt_len(struct arj_lzh *z, struct arj_tree *t, unsigned nn, unsigned nbit,
			unsigned special)
{
	unsigned n = bits_msb_get(&z->br, nbit), i = 0;

	if (n == 0) {
		unsigned c = bits_msb_get(&z->br, nbit);

		if (c >= nn)
			return false;
		t->constant = (int)c;
		return !z->br.err;
	}
	if (n > nn)
		return false;
	while (i < n) {
		uint32_t peek = bits_msb_peek(&z->br, 16), mask = 1u << 12;
		unsigned c = peek >> 13;

		if (c == 7)
			while (mask & peek) {
				mask >>= 1;
				c++;
			}
		bits_msb_drop(&z->br, c < 7 ? 3 : c - 3);
		if (c > HUFF_MAXBITS)
			return false;
		z->pt_len[i++] = (uint8_t)c;
		if (i == special) {
			unsigned k = bits_msb_get(&z->br, 2);

			if (k > nn - i)
				return false;
			memset(z->pt_len + i, 0, k);
			i += k;
		}
	}
	memset(z->pt_len + i, 0, nn - i);
	t->constant = -1;
	return !z->br.err && huff_build(&t->h, z->pt_len, nn, false, false);
}

/* The lengths of the C (literal and length) table, coded with T: 0 is one
 * zero length, 1 a run of 3 to 18 zeros, 2 a run of 20 to 531 zeros, n > 2
 * a length of n - 2. */
static bool read_c_len(struct arj_lzh *z)
{
	unsigned n = bits_msb_get(&z->br, ARJ_CBIT), i = 0;

	if (n == 0) {
		unsigned c = bits_msb_get(&z->br, ARJ_CBIT);

		if (c >= ARJ_NC)
			return false;
		z->c.constant = (int)c;
		return !z->br.err;
	}
	if (n > ARJ_NC)
		return false;
	while (i < n) {
		int c = tree_decode(&z->t, &z->br);

		if (c < 0)
			return false;
		if (c <= 2) {
			unsigned run = c == 0 ? 1 : c == 1 ? bits_msb_get(&z->br, 4) + 3
							   : bits_msb_get(&z->br, ARJ_CBIT) + 20;

			if (run > ARJ_NC - i)
				return false;
			memset(z->c_len + i, 0, run);
			i += run;
		} else {
			z->c_len[i++] = (uint8_t)(c - 2);
		}
	}
	memset(z->c_len + i, 0, ARJ_NC - i);
	z->c.constant = -1;
	return !z->br.err && huff_build(&z->c.h, z->c_len, ARJ_NC, false, false);
}

/* Methods 1 to 3. Only VG_ENOMEM is an error. */
static vg_status decode_lzh(const uint8_t *in, size_t len, uint64_t size, struct lzout *o)
{
	struct arj_lzh *z = vg_malloc(sizeof(*z));
	uint16_t blocksize = 0;

	if (!z)
		return VG_ENOMEM;
	bits_init(&z->br, in, len);
	while (o->b.len < size) {
		int c, p;
		uint32_t dist;
		uint64_t n;

		if (blocksize == 0) {
			blocksize = (uint16_t)bits_msb_get(&z->br, 16);
			if (!read_pt_len(z, &z->t, ARJ_NT, ARJ_TBIT, 3) || !read_c_len(z) ||
			    !read_pt_len(z, &z->p, ARJ_NP, ARJ_PBIT, 0))
				break;
		}
		blocksize--; /* 0 read from the stream counts as 65536, as in ARJ */
		c = tree_decode(&z->c, &z->br);
		if (c < 0)
			break;
		if (c < 256) {
			if (!lzout_byte(o, (uint8_t)c))
				break;
			continue;
		}
		p = tree_decode(&z->p, &z->br);
		if (p < 0)
			break;
		dist = p == 0 ? 1 : (1u << (p - 1)) + bits_msb_get(&z->br, (unsigned)p - 1) + 1;
		if (z->br.err)
			break;
		n = (uint64_t)c - (256 - ARJ_THRESHOLD);
		if (n > size - o->b.len)
			n = size - o->b.len;
		if (!lzout_copy(o, dist, (size_t)n, 0))
			break;
	}
	vg_free(z);
	return o->nomem ? VG_ENOMEM : VG_OK;
}

/* A value coded as up to (stop - start) 1 bits, a 0 unless all were 1,
 * then as many bits as start plus the ones: each 1 adds the next power of
 * two from 2^start. */
static uint32_t fast_value(struct bits *b, unsigned start, unsigned stop)
{
	uint32_t plus = 0, pwr = 1u << start;
	unsigned width;

	for (width = start; width < stop; width++) {
		if (!bits_msb_get(b, 1))
			break;
		plus += pwr;
		pwr <<= 1;
	}
	return bits_msb_get(b, width) + plus;
}

/* Method 4. */
static vg_status decode_fast(const uint8_t *in, size_t len, uint64_t size, struct lzout *o)
{
	struct bits br;

	bits_init(&br, in, len);
	while (o->b.len < size) {
		uint32_t c = fast_value(&br, 0, 7);

		if (c == 0) {
			c = bits_msb_get(&br, 8);
			if (br.err || !lzout_byte(o, (uint8_t)c))
				break;
		} else {
			uint64_t n = (uint64_t)c - 1 + ARJ_THRESHOLD;
			uint32_t dist = fast_value(&br, 9, 13) + 1;

			if (br.err)
				break;
			if (n > size - o->b.len)
				n = size - o->b.len;
			if (!lzout_copy(o, dist, (size_t)n, 0))
				break;
		}
	}
	return o->nomem ? VG_ENOMEM : VG_OK;
}

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct arj_header {
	const uint8_t *basic; /* basic header */
	size_t size;          /* its length */
	size_t next;          /* offset after the extended headers */
};

/* Reads the header at *pos. false at the end marker or anything broken. */
static bool read_header(const struct unpack_input *in, size_t pos, bool check_crc,
			struct arj_header *h)
{
	struct reader r = reader_init(in->data, in->len);
	const uint8_t *p;

	if (!reader_skip(&r, pos) || !reader_bytes(&r, 4, &p) || p[0] != 0x60 || p[1] != 0xea)
		return false;
	h->size = le16(p + 2);
	if (h->size < ARJ_FIRST_MIN || h->size > ARJ_MAX_BASIC || !reader_bytes(&r, h->size, &h->basic) ||
	    h->basic[0] < ARJ_FIRST_MIN || h->basic[0] > h->size || !reader_bytes(&r, 4, &p))
		return false;
	if (check_crc && crc32(0, h->basic, (uInt)h->size) != le32(p))
		return false;
	for (;;) {
		uint32_t n;

		if (!reader_bytes(&r, 2, &p))
			return false;
		n = le16(p);
		if (n == 0)
			break;
		if (!reader_skip(&r, n) || !reader_skip(&r, 4))
			return false;
	}
	h->next = r.pos;
	return true;
}

/* The main header: at the start, or (self-extractors) the first place
 * with a header whose CRC is right. */
static bool find_main(const struct unpack_input *in, struct arj_header *h)
{
	size_t pos = 0, end = in->len < VG_ARJ_MAX_SFX_SCAN ? in->len : VG_ARJ_MAX_SFX_SCAN;

	if (read_header(in, 0, false, h))
		return true;
	while (pos + 1 < end) {
		const uint8_t *q = memchr(in->data + pos, 0x60, end - pos - 1);

		if (!q)
			return false;
		pos = (size_t)(q - in->data);
		if (q[1] == 0xea && read_header(in, pos, true, h))
			return true;
		pos++;
	}
	return false;
}

static vg_status extract(const struct unpack_input *in, const struct unpack_sink *sink,
			 const struct arj_header *h)
{
	const uint8_t *b = h->basic;
	size_t first = b[0], csize = le32(b + 12), avail = in->len - h->next;
	uint64_t size = le32(b + 16);
	unsigned method = b[5];
	struct unpack_child c;
	const uint8_t *nul;
	struct lzout o;
	char *name;
	vg_status rc = VG_OK;

	nul = memchr(b + first, 0, h->size - first);
	name = vg_strndup((const char *)b + first, nul ? (size_t)(nul - (b + first)) : h->size - first);
	if (!name)
		return VG_ENOMEM;
	if (csize > avail)
		csize = avail;
	memset(&c, 0, sizeof(c));
	c.name = name[0] ? name : NULL;
	lzout_init(&o, sink->max_child);
	if (b[4] & ARJ_GARBLED) {
		c.encrypted = true;
	} else if (method == 0) {
		(void)lzout_bytes(&o, in->data + h->next, csize);
	} else if (method <= 3) {
		rc = decode_lzh(in->data + h->next, csize, size, &o);
	} else if (method == 4) {
		rc = decode_fast(in->data + h->next, csize, size, &o);
	} else {
		goto out; /* a method ARJ never had */
	}
	if (rc != VG_OK)
		goto out;
	if (o.nomem) {
		rc = VG_ENOMEM;
		goto out;
	}
	c.data = o.b.data ? o.b.data : (const uint8_t *)"";
	c.len = o.b.len;
	c.truncated = o.truncated;
	rc = sink->child(sink->ctx, &c);
out:
	lzout_free(&o);
	vg_free(name);
	return rc;
}

vg_status unpack_arj(const struct unpack_input *in, const struct unpack_sink *sink)
{
	struct arj_header h;
	size_t pos;

	if (!find_main(in, &h))
		return VG_OK;
	pos = h.next;
	while (read_header(in, pos, false, &h)) {
		size_t csize = le32(h.basic + 12);
		unsigned type = h.basic[6];

		if (type <= 1) { /* binary or text file */
			vg_status rc = extract(in, sink, &h);
			if (rc != VG_OK)
				return rc;
		}
		if (csize > in->len - h.next)
			break;
		pos = h.next + csize;
	}
	return VG_OK;
}
