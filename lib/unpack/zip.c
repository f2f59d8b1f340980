/* ZIP entries libarchive cannot decode: method 6 (PKWARE implode) and
 * method 9 (Deflate64). The driver runs libarchive on a zip first, so only
 * entries with those two methods are handed over here: nothing is scanned
 * twice.
 *
 * Entries come from the central directory when it is sane (found through
 * the end record, inside the file, starting with a central header), else
 * from a walk over local headers. An encrypted entry (flag bit 0) is handed
 * over empty with encrypted set.
 *
 * Both decoders are vigil's own (zlib has no Deflate64):
 *   Deflate64 is deflate with a 64 KiB window, length code 285 meaning
 *     3 + 16 extra bits, and distance codes 30 and 31 (base 32769 and 49153,
 *     14 extra bits);
 *   implode (APPNOTE 5.3) is a sliding dictionary of 4 or 8 KiB (flag bit
 *     1) with two or three Shannon-Fano trees (flag bit 2: a literal tree);
 *     it has no end marker and stops at the uncompressed size. */
#include <string.h>

#include "unpack/bits.h"
#include "unpack/lzout.h"
#include "unpack/unpack.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_END64_LOC 0x07064b50u
#define SIG_DESCRIPTOR 0x08074b50u

#define METHOD_IMPLODE 6u
#define METHOD_DEFLATE64 9u

#define FLAG_ENCRYPTED 0x0001u
#define FLAG_IMPLODE_8K 0x0002u
#define FLAG_IMPLODE_LIT 0x0004u
#define FLAG_DESCRIPTOR 0x0008u

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p + 4) << 32 | le32(p);
}

/* ---- Deflate64 ---- */

enum dec_end { DEC_DONE, DEC_BAD, DEC_FULL };

static const uint16_t d64_len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,
					  15, 17, 19, 23, 27, 31, 35, 43, 51,  59,
					  67, 83, 99, 115, 131, 163, 195, 227, 3};
static const uint8_t d64_len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
					  2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 16};
static const uint32_t d64_dist_base[32] = {
	1,    2,    3,    4,    5,    7,     9,     13,    17,    25,    33,
	49,   65,   97,   129,  193,  257,   385,   513,   769,   1025,  1537,
	2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577, 32769, 49153};
static const uint8_t d64_dist_extra[32] = {0, 0, 0, 0, 1, 1, 2, 2, 3,  3,  4,  4,  5,  5,  6,  6,
					   7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14};
static const uint8_t d64_cl_order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
					 11, 4,  12, 3, 13, 2, 14, 1, 15};

struct inflate64 {
	struct bits br;
	struct huff lit, dist, cl;
	struct huff fixed_lit, fixed_dist;
	bool have_fixed;
	uint8_t lens[288 + 32];
};

static enum dec_end d64_codes(struct inflate64 *z, const struct huff *lit, const struct huff *dist,
			      struct lzout *o)
{
	for (;;) {
		int sym = huff_decode_lsb(lit, &z->br);
		uint32_t len, d;
		int ds;

		if (sym < 0)
			return DEC_BAD;
		if (sym < 256) {
			if (!lzout_byte(o, (uint8_t)sym))
				return DEC_FULL;
			continue;
		}
		if (sym == 256)
			return DEC_DONE;
		sym -= 257;
		if (sym >= 29)
			return DEC_BAD;
		len = d64_len_base[sym] + bits_lsb_get(&z->br, d64_len_extra[sym]);
		ds = huff_decode_lsb(dist, &z->br);
		if (ds < 0 || ds >= 32)
			return DEC_BAD;
		d = d64_dist_base[ds] + bits_lsb_get(&z->br, d64_dist_extra[ds]);
		if (z->br.err || d > o->b.len)
			return DEC_BAD;
		if (!lzout_copy(o, d, len, -1))
			return DEC_FULL;
	}
}

static bool d64_fixed(struct inflate64 *z)
{
	uint8_t l[288];
	uint8_t d[32];

	if (z->have_fixed)
		return true;
	memset(l, 8, 144);
	memset(l + 144, 9, 112);
	memset(l + 256, 7, 24);
	memset(l + 280, 8, 8);
	memset(d, 5, sizeof(d));
	if (!huff_build(&z->fixed_lit, l, 288, true, false) ||
	    !huff_build(&z->fixed_dist, d, 32, true, false))
		return false;
	z->have_fixed = true;
	return true;
}

static bool d64_dynamic(struct inflate64 *z)
{
	uint8_t cl[19];
	unsigned nlen, ndist, ncode, i, n;

	nlen = bits_lsb_get(&z->br, 5) + 257;
	ndist = bits_lsb_get(&z->br, 5) + 1;
	ncode = bits_lsb_get(&z->br, 4) + 4;
	memset(cl, 0, sizeof(cl));
	for (i = 0; i < ncode; i++)
		cl[d64_cl_order[i]] = (uint8_t)bits_lsb_get(&z->br, 3);
	if (z->br.err || !huff_build(&z->cl, cl, 19, true, false))
		return false;
	n = 0;
	while (n < nlen + ndist) {
		int sym = huff_decode_lsb(&z->cl, &z->br);
		unsigned rep;
		uint8_t v = 0;

		if (sym < 0)
			return false;
		if (sym < 16) {
			z->lens[n++] = (uint8_t)sym;
			continue;
		}
		if (sym == 16) {
			if (n == 0)
				return false;
			v = z->lens[n - 1];
			rep = 3 + bits_lsb_get(&z->br, 2);
		} else if (sym == 17) {
			rep = 3 + bits_lsb_get(&z->br, 3);
		} else {
			rep = 11 + bits_lsb_get(&z->br, 7);
		}
		if (z->br.err || rep > nlen + ndist - n)
			return false;
		memset(z->lens + n, v, rep);
		n += rep;
	}
	if (z->lens[256] == 0) /* no end of block: a stream that cannot stop */
		return false;
	return huff_build(&z->lit, z->lens, nlen, true, false) &&
	       huff_build(&z->dist, z->lens + nlen, ndist, true, false);
}

/* Inflates one Deflate64 stream into o, to its last block or to where it
 * goes bad. Only VG_ENOMEM is an error. */
static vg_status inflate64(const uint8_t *in, size_t len, struct lzout *o)
{
	struct inflate64 *z = vg_malloc(sizeof(*z));
	enum dec_end end = DEC_DONE;
	uint32_t final = 0;

	if (!z)
		return VG_ENOMEM;
	z->have_fixed = false;
	bits_init(&z->br, in, len);
	while (!final && end == DEC_DONE) {
		uint32_t type;

		final = bits_lsb_get(&z->br, 1);
		type = bits_lsb_get(&z->br, 2);
		if (z->br.err) {
			end = DEC_BAD;
		} else if (type == 0) {
			size_t at, n;

			bits_lsb_align(&z->br);
			at = bits_tell(&z->br);
			if (z->br.err || len - at < 4 || le16(in + at) != (~le16(in + at + 2) & 0xffffu)) {
				end = DEC_BAD;
				break;
			}
			n = le16(in + at);
			at += 4;
			if (n > len - at) { /* cut short: keep what is there */
				(void)lzout_bytes(o, in + at, len - at);
				end = DEC_BAD;
				break;
			}
			if (!lzout_bytes(o, in + at, n))
				end = DEC_FULL;
			bits_seek(&z->br, at + n);
		} else if (type == 1) {
			end = d64_fixed(z) ? d64_codes(z, &z->fixed_lit, &z->fixed_dist, o) : DEC_BAD;
		} else if (type == 2) {
			end = d64_dynamic(z) ? d64_codes(z, &z->lit, &z->dist, o) : DEC_BAD;
		} else {
			end = DEC_BAD;
		}
	}
	vg_free(z);
	return o->nomem ? VG_ENOMEM : VG_OK;
}

/* ---- implode ---- */

struct explode {
	struct bits br;
	struct huff lit, len, dist;
	uint8_t lens[256];
};

/* A Shannon-Fano tree: a count of bytes less one, then bytes whose low
 * nibble is a bit length less one and high nibble a run of values less
 * one; the runs must cover exactly n values. */
static bool sf_tree(struct reader *r, struct huff *h, uint8_t *lens, unsigned n)
{
	uint8_t nb, v;
	unsigned i, k = 0;

	if (!reader_u8(r, &nb))
		return false;
	for (i = 0; i <= nb; i++) {
		unsigned run;

		if (!reader_u8(r, &v))
			return false;
		run = (unsigned)(v >> 4) + 1;
		if (run > n - k)
			return false;
		memset(lens + k, (v & 15) + 1, run);
		k += run;
	}
	return k == n && huff_build(h, lens, n, true, true);
}

/* Explodes in[0..len) until o holds size bytes (or the input or the
 * budget ends). Only VG_ENOMEM is an error. */
static vg_status explode(const uint8_t *in, size_t len, uint16_t flags, uint64_t size,
			 struct lzout *o)
{
	struct explode *x = vg_malloc(sizeof(*x));
	struct reader r = reader_init(in, len);
	bool lit = (flags & FLAG_IMPLODE_LIT) != 0;
	unsigned dbits = (flags & FLAG_IMPLODE_8K) ? 7 : 6;
	unsigned min_match = lit ? 3 : 2;

	if (!x)
		return VG_ENOMEM;
	if ((lit && !sf_tree(&r, &x->lit, x->lens, 256)) || !sf_tree(&r, &x->len, x->lens, 64) ||
	    !sf_tree(&r, &x->dist, x->lens, 64))
		goto out;
	bits_init(&x->br, in + r.pos, len - r.pos);
	while (o->b.len < size) {
		if (bits_lsb_get(&x->br, 1)) {
			int c = lit ? huff_decode_lsb(&x->lit, &x->br) : (int)bits_lsb_get(&x->br, 8);

			if (c < 0 || x->br.err || !lzout_byte(o, (uint8_t)c))
				break;
		} else {
			uint32_t low = bits_lsb_get(&x->br, dbits);
			int hi = huff_decode_lsb(&x->dist, &x->br);
			int l = hi < 0 ? -1 : huff_decode_lsb(&x->len, &x->br);
			uint64_t n;

			if (l < 0)
				break;
			if (l == 63)
				l += (int)bits_lsb_get(&x->br, 8);
			if (x->br.err)
				break;
			n = (uint64_t)l + min_match;
			if (n > size - o->b.len)
				n = size - o->b.len;
			/* PKZIP reads history before the start as zeros */
			if (!lzout_copy(o, ((size_t)hi << dbits | low) + 1, (size_t)n, 0))
				break;
		}
	}
out:
	vg_free(x);
	return o->nomem ? VG_ENOMEM : VG_OK;
}

/* ---- archive structure ---- */

struct entry {
	uint32_t flags;
	uint32_t method;
	uint64_t csize;
	uint64_t usize;
	bool csize_known;    /* false: a bound only (the next signature) */
	bool usize_known;    /* false: a local header with a data descriptor */
	uint64_t data;       /* offset of the compressed data */
	const uint8_t *name; /* not terminated */
	size_t name_len;
};

static bool wanted(uint32_t method)
{
	return method == METHOD_IMPLODE || method == METHOD_DEFLATE64;
}

/* Zip64 extended information (0x0001): the 64-bit values of the fields
 * that were 0xffffffff, in a fixed order. */
static void zip64_extra(const uint8_t *x, size_t n, uint64_t *usize, uint64_t *csize,
			uint64_t *offset)
{
	struct reader r = reader_init(x, n);

	while (reader_left(&r) >= 4) {
		const uint8_t *h, *d;
		struct reader f;

		(void)reader_bytes(&r, 4, &h);
		if (!reader_bytes(&r, le16(h + 2), &d))
			return;
		if (le16(h) != 1)
			continue;
		f = reader_init(d, le16(h + 2));
		if (*usize == 0xffffffffu && !reader_u64le(&f, usize))
			return;
		if (*csize == 0xffffffffu && !reader_u64le(&f, csize))
			return;
		if (offset && *offset == 0xffffffffu)
			(void)reader_u64le(&f, offset);
		return;
	}
}

static vg_status hand_over(const struct unpack_input *in, const struct unpack_sink *sink,
			   const struct entry *e)
{
	struct unpack_child c;
	struct lzout o;
	char *name = NULL;
	vg_status rc = VG_OK;
	uint64_t avail, clen;

	memset(&c, 0, sizeof(c));
	lzout_init(&o, sink->max_child);
	if (e->name_len) {
		name = vg_strndup((const char *)e->name, e->name_len);
		if (!name) {
			rc = VG_ENOMEM;
			goto out;
		}
	}
	c.name = name;
	if (e->flags & FLAG_ENCRYPTED) {
		c.encrypted = true;
		c.data = (const uint8_t *)"";
		rc = sink->child(sink->ctx, &c);
		goto out;
	}
	avail = e->data <= in->len ? in->len - e->data : 0;
	clen = e->csize < avail ? e->csize : avail;
	if (e->method == METHOD_DEFLATE64) {
		/* Deflate64 ends by itself: a guessed size is no bound */
		if (!e->csize_known)
			clen = avail;
		rc = inflate64(in->data + (in->len - avail), (size_t)clen, &o);
	} else {
		/* without a size, implode runs to the end of its data */
		uint64_t size = e->usize_known ? e->usize : UINT64_MAX;
		rc = explode(in->data + (in->len - avail), (size_t)clen, (uint16_t)e->flags, size, &o);
	}
	if (rc != VG_OK)
		goto out;
	c.data = o.b.data ? o.b.data : (const uint8_t *)"";
	c.len = o.b.len;
	c.truncated = o.truncated;
	rc = sink->child(sink->ctx, &c);
out:
	vg_free(name);
	lzout_free(&o);
	return rc;
}

/* The data offset of the entry whose local header is at off, or false. */
static bool local_data(const struct unpack_input *in, uint64_t off, uint64_t *data)
{
	const uint8_t *h;

	if (off > in->len || in->len - off < 30)
		return false;
	h = in->data + off;
	if (le32(h) != SIG_LOCAL)
		return false;
	*data = off + 30 + le16(h + 26) + le16(h + 28);
	return true;
}

struct cdir {
	uint64_t off;   /* of the first central header, in the input */
	uint64_t size;
	int64_t shift;  /* added to every stored offset (data before the archive) */
};

/* Finds the end record and, through it, a central directory that lies
 * inside the input and starts with a central header. */
static bool find_cdir(const struct unpack_input *in, struct cdir *cd)
{
	const uint8_t *d = in->data;
	size_t i, lo;

	if (in->len < 22)
		return false;
	lo = in->len - 22 > 0xffff ? in->len - 22 - 0xffff : 0;
	for (i = in->len - 22 + 1; i-- > lo;) {
		uint64_t off, size, end = i;
		int64_t shift;

		if (le32(d + i) != SIG_END)
			continue;
		off = le32(d + i + 16);
		size = le32(d + i + 12);
		if ((off == 0xffffffffu || size == 0xffffffffu || le16(d + i + 10) == 0xffff) &&
		    i >= 20 && le32(d + i - 20) == SIG_END64_LOC) {
			uint64_t rec = le64(d + i - 20 + 8);

			if (rec <= in->len && in->len - rec >= 56 && le32(d + rec) == SIG_END64) {
				size = le64(d + rec + 40);
				off = le64(d + rec + 48);
				end = rec;
			}
		}
		if (size > end || off > end - size)
			continue;
		/* the directory ends where the end record starts; the gap is
		 * what was put before the archive (self-extractors) */
		shift = (int64_t)(end - size - off);
		if (size >= 46 && le32(d + off + (uint64_t)shift) == SIG_CENTRAL) {
			cd->off = off + (uint64_t)shift;
			cd->size = size;
			cd->shift = shift;
			return true;
		}
		if (shift != 0 && size >= 46 && le32(d + off) == SIG_CENTRAL) {
			cd->off = off;
			cd->size = size;
			cd->shift = 0;
			return true;
		}
	}
	return false;
}

static vg_status walk_cdir(const struct unpack_input *in, const struct unpack_sink *sink,
			   const struct cdir *cd)
{
	struct reader r = reader_init(in->data + cd->off, (size_t)cd->size);
	const uint8_t *h;

	while (reader_bytes(&r, 46, &h) && le32(h) == SIG_CENTRAL) {
		const uint8_t *name, *extra;
		struct entry e;
		uint64_t local;
		vg_status rc;

		if (!reader_bytes(&r, le16(h + 28), &name) || !reader_bytes(&r, le16(h + 30), &extra) ||
		    !reader_skip(&r, le16(h + 32)))
			break;
		memset(&e, 0, sizeof(e));
		e.flags = le16(h + 8);
		e.method = le16(h + 10);
		if (!wanted(e.method))
			continue;
		e.csize = le32(h + 20);
		e.usize = le32(h + 24);
		e.csize_known = e.usize_known = true;
		local = le32(h + 42);
		zip64_extra(extra, le16(h + 30), &e.usize, &e.csize, &local);
		e.name = name;
		e.name_len = le16(h + 28);
		if (local + (uint64_t)cd->shift < local ||
		    !local_data(in, local + (uint64_t)cd->shift, &e.data))
			continue; /* no local header where the directory says */
		rc = hand_over(in, sink, &e);
		if (rc != VG_OK)
			return rc;
	}
	return VG_OK;
}

static const uint8_t *find_sig(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;

	while (n >= 4) {
		const uint8_t *q = memchr(p, 'P', n - 3);

		if (!q)
			return NULL;
		if (q[1] == 'K' && q[2] < 9 && q[3] < 9 && (q[2] | q[3]) != 0)
			return q;
		p = q + 1;
		n = (size_t)(end - p);
	}
	return NULL;
}

/* A local entry with a data descriptor does not know its sizes: they follow
 * the data. The data ends at the next zip signature; a descriptor there
 * tells the uncompressed size when its compressed size agrees. */
static void descriptor_sizes(const struct unpack_input *in, struct entry *e)
{
	const uint8_t *p = in->data + e->data;
	size_t n = in->len - (size_t)e->data;
	const uint8_t *q = p;

	while ((q = find_sig(q, n - (size_t)(q - p))) != NULL) {
		uint32_t sig = le32(q);
		uint64_t clen = (uint64_t)(q - p);

		if (sig == SIG_DESCRIPTOR && (size_t)(q - p) + 16 <= n && le32(q + 8) == clen) {
			e->csize = clen;
			e->usize = le32(q + 12);
			e->csize_known = e->usize_known = true;
			return;
		}
		if (sig == SIG_LOCAL || sig == SIG_CENTRAL || sig == SIG_END) {
			e->csize = clen;
			return;
		}
		q++;
	}
	e->csize = n;
}

static vg_status walk_local(const struct unpack_input *in, const struct unpack_sink *sink)
{
	size_t pos = 0;

	while (pos < in->len) {
		const uint8_t *h = find_sig(in->data + pos, in->len - pos);
		const uint8_t *x;
		struct entry e;
		size_t at, next;
		vg_status rc;

		if (!h)
			break;
		at = (size_t)(h - in->data);
		next = at + 4;
		if (le32(h) != SIG_LOCAL || in->len - at < 30) {
			pos = next;
			continue;
		}
		memset(&e, 0, sizeof(e));
		e.flags = le16(h + 6);
		e.method = le16(h + 8);
		e.csize = le32(h + 18);
		e.usize = le32(h + 22);
		e.name = h + 30;
		e.name_len = le16(h + 26);
		e.data = (uint64_t)at + 30 + e.name_len + le16(h + 28);
		if (e.data > in->len) {
			pos = next;
			continue;
		}
		x = h + 30 + e.name_len;
		zip64_extra(x, le16(h + 28), &e.usize, &e.csize, NULL);
		e.csize_known = e.usize_known = !(e.flags & FLAG_DESCRIPTOR) || e.csize != 0;
		if (wanted(e.method)) {
			if (!e.csize_known)
				descriptor_sizes(in, &e);
			rc = hand_over(in, sink, &e);
			if (rc != VG_OK)
				return rc;
		}
		/* skip the data when its size is known, so nothing inside a
		 * stored entry passes for an entry of this archive */
		if ((e.csize_known || wanted(e.method)) && e.csize <= in->len - e.data)
			next = (size_t)(e.data + e.csize);
		else
			next = (size_t)e.data;
		pos = next > at ? next : at + 4;
	}
	return VG_OK;
}

vg_status unpack_zip(const struct unpack_input *in, const struct unpack_sink *sink)
{
	struct cdir cd;

	if (find_cdir(in, &cd))
		return walk_cdir(in, sink, &cd);
	return walk_local(in, sink);
}
