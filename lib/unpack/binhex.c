/* binhex: BinHex 4.0 (.hqx), the Macintosh encoding of a file's two forks.
 *
 * After the line "(This file must be converted with BinHex 4.0)", text
 * between two ':' carries 6 bits per character (a 64-character alphabet;
 * white space ignored). The bytes are run-length coded: 0x90 n repeats the
 * byte before it to n copies in all, and 0x90 0x00 is a literal 0x90. The
 * decoded stream is a header (name length, name, version, type, creator,
 * flags, data fork length, resource fork length, CRC), the data fork and
 * its CRC, the resource fork and its CRC; lengths and CRCs big-endian, CRCs
 * CRC-16/XMODEM.
 *
 * The data fork is handed over under the header's name, the resource fork
 * (when not empty) as "<name>/..namedfork/rsrc", macOS's own name for it. A
 * CRC that does not match is not fatal: the fork is handed over all the
 * same (clients such as StuffIt do so too, and a scanner must see what a
 * client would write). unpack_child has no field for it, so it is not
 * reported. Forks declared longer than the data are handed over as far as
 * the data goes; past sink->max_child the rest of a fork is counted through
 * without being kept (runs are skipped arithmetically, so a run-length bomb
 * costs time linear in its encoded size) and its CRC is not checked. Every
 * BinHex block of the input is read. */
#include <stdio.h>
#include <string.h>

#include "unpack/unpack.h"

static const char marker[] = "(this file must be converted with binhex";
static const char alphabet[] = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

struct hqx {
	struct reader r;
	uint32_t acc; /* bits not yet used */
	unsigned bits;
	bool end;     /* the closing ':', a foreign character or the end */
	uint8_t last; /* the byte a run repeats */
	uint32_t run; /* copies of last still to come */
	int8_t value[256];
	uint16_t crc_table[256];
};

static void hqx_init(struct hqx *h, const uint8_t *p, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->r = reader_init(p, n);
	memset(h->value, -1, sizeof(h->value));
	for (size_t i = 0; i < sizeof(alphabet) - 1; i++)
		h->value[(uint8_t)alphabet[i]] = (int8_t)i;
	for (unsigned i = 0; i < 256; i++) {
		uint16_t c = (uint16_t)(i << 8);
		for (int k = 0; k < 8; k++)
			c = (uint16_t)(c & 0x8000 ? c << 1 ^ 0x1021 : c << 1);
		h->crc_table[i] = c;
	}
}

static uint16_t crc_update(const struct hqx *h, uint16_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		crc = (uint16_t)(crc << 8 ^ h->crc_table[(crc >> 8 ^ p[i]) & 0xff]);
	return crc;
}

/* The 6-bit layer: the next decoded byte before run-length expansion. */
static bool hqx_raw(struct hqx *h, uint8_t *out)
{
	while (h->bits < 8) {
		uint8_t c;
		int v;

		if (h->end || !reader_u8(&h->r, &c)) {
			h->end = true;
			return false;
		}
		if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
			continue;
		v = h->value[c];
		if (v < 0) {
			h->end = true;
			return false;
		}
		h->acc = h->acc << 6 | (uint32_t)v;
		h->bits += 6;
	}
	h->bits -= 8;
	*out = (uint8_t)(h->acc >> h->bits);
	h->acc &= (1u << h->bits) - 1;
	return true;
}

/* The next byte of the stream, runs expanded. */
static bool hqx_byte(struct hqx *h, uint8_t *out)
{
	for (;;) {
		uint8_t c, n;

		if (h->run) {
			h->run--;
			*out = h->last;
			return true;
		}
		if (!hqx_raw(h, &c))
			return false;
		if (c != 0x90) {
			h->last = c;
			*out = c;
			return true;
		}
		if (!hqx_raw(h, &n))
			return false;
		if (n == 0) {
			h->last = 0x90;
			*out = 0x90;
			return true;
		}
		h->run = n - 1u; /* the byte before the marker was the first copy */
	}
}

/* Reads up to n bytes; returns how many the stream had. */
static size_t hqx_read(struct hqx *h, uint8_t *out, size_t n)
{
	size_t k = 0;

	while (k < n && hqx_byte(h, out + k))
		k++;
	return k;
}

/* Passes over n bytes without keeping them; returns how many there were. */
static uint64_t hqx_skip(struct hqx *h, uint64_t n)
{
	uint64_t done = 0;
	uint8_t b;

	while (done < n) {
		if (h->run) {
			uint64_t k = n - done < h->run ? n - done : h->run;
			h->run -= (uint32_t)k;
			done += k;
			continue;
		}
		if (!hqx_byte(h, &b))
			break;
		done++;
	}
	return done;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One fork of len bytes and its CRC, handed over as name. */
static vg_status read_fork(struct hqx *h, uint32_t len, const char *name,
			   const struct unpack_sink *sink)
{
	struct unpack_child c;
	struct buf b;
	uint8_t tmp[4096], crc_bytes[2];
	size_t keep = len < sink->max_child ? len : sink->max_child, got = 0;
	uint16_t crc = 0;
	bool truncated = false;
	vg_status rc = VG_OK;

	buf_init(&b, keep);
	while (got < keep) {
		size_t want = keep - got < sizeof(tmp) ? keep - got : sizeof(tmp);
		size_t n = hqx_read(h, tmp, want);

		crc = crc_update(h, crc, tmp, n);
		rc = buf_append(&b, tmp, n);
		if (rc != VG_OK)
			goto out;
		got += n;
		if (n < want)
			break; /* the stream ended inside the fork */
	}
	if (got == keep && len > keep)
		truncated = hqx_skip(h, (uint64_t)len - keep) > 0;
	if (hqx_read(h, crc_bytes, 2) == 2 && !truncated && got == len &&
	    (uint16_t)(crc_bytes[0] << 8 | crc_bytes[1]) != crc) {
		/* a CRC error: the fork is handed over anyway (see the top) */
	}
	if (got == 0 && !truncated)
		goto out;
	memset(&c, 0, sizeof(c));
	c.name = name && name[0] ? name : NULL;
	c.data = b.data ? b.data : (const uint8_t *)"";
	c.len = got;
	c.truncated = truncated;
	rc = sink->child(sink->ctx, &c);
out:
	buf_free(&b);
	return rc;
}

/* One BinHex stream starting after its opening ':'; *end is the offset in
 * p where decoding stopped. */
static vg_status decode(const uint8_t *p, size_t n, const struct unpack_sink *sink, size_t *end)
{
	struct hqx *h = vg_malloc(sizeof(*h));
	uint8_t hdr[1 + 255 + 1 + 4 + 4 + 2 + 4 + 4 + 2], len8;
	char name[256], rname[256 + sizeof("/..namedfork/rsrc")];
	uint32_t dlen, rlen;
	size_t fixed = 1 + 4 + 4 + 2 + 4 + 4 + 2, namelen;
	vg_status rc = VG_OK;

	if (!h)
		return VG_ENOMEM;
	hqx_init(h, p, n);
	if (hqx_read(h, &len8, 1) != 1)
		goto out;
	namelen = len8;
	hdr[0] = len8;
	if (hqx_read(h, hdr + 1, namelen + fixed) != namelen + fixed)
		goto out; /* no complete header: nothing to hand over */
	/* The header CRC (hdr[1 + namelen + fixed - 2]) is not checked: a
	 * damaged header still tells where the forks are, as well as it can. */
	memcpy(name, hdr + 1, namelen);
	name[namelen] = '\0'; /* a NUL inside the name ends it */
	dlen = be32(hdr + 1 + namelen + 1 + 4 + 4 + 2);
	rlen = be32(hdr + 1 + namelen + 1 + 4 + 4 + 2 + 4);
	rc = read_fork(h, dlen, name, sink);
	if (rc != VG_OK || h->end || rlen == 0)
		goto out;
	snprintf(rname, sizeof(rname), "%s/..namedfork/rsrc", name);
	rc = read_fork(h, rlen, rname, sink);
out:
	*end = h->r.pos;
	vg_free(h);
	return rc;
}

/* Case-insensitive search for the marker line. */
static const uint8_t *find_marker(const uint8_t *p, size_t n)
{
	size_t ml = sizeof(marker) - 1;
	const uint8_t *q = p, *e = p + n;

	while ((size_t)(e - q) >= ml && (q = memchr(q, '(', (size_t)(e - q) - ml + 1))) {
		size_t i = 1;
		while (i < ml && (q[i] >= 'A' && q[i] <= 'Z' ? q[i] + 32 : q[i]) == marker[i])
			i++;
		if (i == ml)
			return q;
		q++;
	}
	return NULL;
}

vg_status unpack_binhex(const struct unpack_input *in, const struct unpack_sink *sink)
{
	const uint8_t *p = in->data, *e = in->data + in->len;
	vg_status rc = VG_OK;

	while (p < e) {
		const uint8_t *m = find_marker(p, (size_t)(e - p)), *colon;
		size_t used;

		if (!m)
			break;
		colon = memchr(m, ':', (size_t)(e - m));
		if (!colon)
			break;
		rc = decode(colon + 1, (size_t)(e - colon - 1), sink, &used);
		if (rc != VG_OK)
			break;
		p = colon + 1 + used;
	}
	return rc;
}
