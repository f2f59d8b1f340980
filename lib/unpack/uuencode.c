/* uuencode: files and mail bodies holding uuencoded blocks.
 *
 *   begin 644 name
 *   M<60 characters: a length character, then 4 characters per 3 bytes>
 *   `
 *   end
 *
 * Each character carries 6 bits as (c - 0x20) & 0x3f ('`' stands for 0).
 * Encoders differ in small ways that are all accepted: trailing spaces
 * stripped (short lines are padded back with zero bits), a checksum
 * character after the data (ignored), CRLF line ends, no "end" line. A block
 * ends at its zero-length line or at the first line that is not uuencoding,
 * and what was decoded so far is handed over.
 *
 * Two relatives are read too, as mail carries them the same way: GNU
 * "begin-base64" blocks (uuencode -m, to "===="), and yEnc ("=ybegin ...
 * name=<name>", bytes + 42 with '=' escaping bytes + 64 more, "=ypart"
 * lines, to "=yend"; its CRCs are not checked, as a damaged block is still
 * what a client would write). */
#include <string.h>

#include "unpack/mailcode.h"
#include "unpack/unpack.h"

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Recognises "begin <octal mode> [name]" and "begin-base64 <mode> [name]";
 * points name at the name (possibly empty). */
static bool parse_begin(const struct mail_line *l, bool *base64, const uint8_t **name, size_t *name_len)
{
	size_t i, digits = 0, n = l->len;
	const uint8_t *p = l->p;

	if (n < 6 || memcmp(p, "begin", 5) != 0)
		return false;
	i = 5;
	*base64 = false;
	if (n - i >= 7 && memcmp(p + i, "-base64", 7) == 0) {
		*base64 = true;
		i += 7;
	}
	if (i >= n || !is_space(p[i]))
		return false;
	while (i < n && is_space(p[i]))
		i++;
	while (i < n && p[i] >= '0' && p[i] <= '7') {
		i++;
		digits++;
	}
	if (digits == 0 || (i < n && !is_space(p[i])))
		return false;
	while (i < n && is_space(p[i]))
		i++;
	while (n > i && is_space(p[n - 1]))
		n--;
	*name = p + i;
	*name_len = n - i;
	return true;
}

static int uu_value(uint8_t c)
{
	if (c < 0x20 || c > 0x60)
		return -1;
	return (c - 0x20) & 0x3f;
}

/* Decodes one uuencoded line into out[0..63); returns the byte count, 0 for
 * the closing zero-length line, -1 for a line that is not uuencoding. */
static int uu_line(const struct mail_line *l, uint8_t out[64])
{
	int count, v[4];
	size_t got = 0, ci = 1;

	if (l->len == 0)
		return -1;
	count = uu_value(l->p[0]);
	if (count <= 0)
		return count;
	while (got < (size_t)count) {
		for (int k = 0; k < 4; k++, ci++) {
			/* stripped trailing spaces read back as zero bits */
			v[k] = uu_value(ci < l->len ? l->p[ci] : ' ');
			if (v[k] < 0)
				return -1;
		}
		out[got++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (got < (size_t)count)
			out[got++] = (uint8_t)((v[1] & 0xf) << 4 | v[2] >> 2);
		if (got < (size_t)count)
			out[got++] = (uint8_t)((v[2] & 0x3) << 6 | v[3]);
	}
	return count;
}

enum block_kind { BLOCK_UU, BLOCK_BASE64, BLOCK_YENC };

/* "=ybegin part=1 line=128 size=N name=the name": the name runs to the end
 * of the line. */
static void yenc_name(const struct mail_line *l, const uint8_t **name, size_t *name_len)
{
	const uint8_t *q = memmem(l->p, l->len, " name=", 6);
	size_t n;

	*name = l->p + l->len;
	*name_len = 0;
	if (!q)
		return;
	q += 6;
	n = (size_t)(l->p + l->len - q);
	while (n && is_space(q[n - 1]))
		n--;
	*name = q;
	*name_len = n;
}

static vg_status yenc_line(const struct mail_line *l, struct mail_out *o)
{
	uint8_t tmp[256];
	size_t k = 0;
	vg_status rc;

	for (size_t i = 0; i < l->len; i++) {
		uint8_t c = l->p[i];
		if (c == '=') {
			if (++i >= l->len)
				break; /* an escape cut by the line end */
			c = (uint8_t)(l->p[i] - 64);
		}
		tmp[k++] = (uint8_t)(c - 42);
		if (k == sizeof(tmp)) {
			rc = mail_out_put(o, tmp, k);
			if (rc != VG_OK)
				return rc;
			k = 0;
		}
	}
	return mail_out_put(o, tmp, k);
}

/* Decodes the block whose first data line is at pos; returns the offset
 * after the block in *end. */
static vg_status decode_block(const uint8_t *text, size_t len, size_t pos, enum block_kind kind,
			      struct mail_out *o, size_t *end)
{
	struct mail_line l;
	struct mail_base64 st;
	uint8_t bytes[64];
	vg_status rc = VG_OK;

	mail_base64_init(&st);
	while (mail_next_line(text, len, pos, &l)) {
		pos = l.next;
		if (kind == BLOCK_BASE64) {
			if (l.len >= 4 && memcmp(l.p, "====", 4) == 0)
				break;
			rc = mail_base64_put(&st, l.p, l.len, o);
		} else if (kind == BLOCK_YENC) {
			if (l.len >= 5 && memcmp(l.p, "=yend", 5) == 0)
				break;
			if (l.len >= 6 && memcmp(l.p, "=ypart", 6) == 0)
				continue;
			rc = yenc_line(&l, o);
		} else {
			int n = uu_line(&l, bytes);
			if (n < 0) {
				pos = (size_t)(l.p - text); /* not ours: the caller looks at it again */
				break;
			}
			if (n == 0)
				break;
			rc = mail_out_put(o, bytes, (size_t)n);
		}
		if (rc != VG_OK)
			goto out;
		if (o->truncated)
			break; /* the rest is not kept; later blocks are still found */
	}
	if (kind == BLOCK_BASE64)
		rc = mail_base64_end(&st, o);
out:
	*end = pos;
	return rc;
}

/* The next line starting with one text, remembered so that looking for
 * two kinds of line costs one pass over the text for each. */
struct finder {
	const char *nl_prefix;
	struct mail_line l;
	bool have, done;
};

static bool finder_at(struct finder *f, const uint8_t *text, size_t len, size_t pos)
{
	if (f->done)
		return false;
	if (f->have && (size_t)(f->l.p - text) >= pos)
		return true;
	f->have = mail_find_line(text, len, pos, f->nl_prefix, &f->l);
	f->done = !f->have;
	return f->have;
}

vg_status mail_uu_extract(const uint8_t *text, size_t len, const char *name,
			  const struct unpack_sink *sink, size_t *found)
{
	struct finder fb = {"\nbegin", {0}, false, false}, fy = {"\n=ybegin ", {0}, false, false};
	struct mail_out o;
	size_t pos = 0, count = 0;
	char own[VG_MIME_MAX_NAME_LEN + 1];
	vg_status rc = VG_OK;

	mail_out_init(&o, sink->max_child);
	for (;;) {
		bool hb = finder_at(&fb, text, len, pos), hy = finder_at(&fy, text, len, pos);
		struct mail_line l;
		const uint8_t *nm;
		size_t nlen;
		enum block_kind kind;

		if (!hb && !hy)
			break;
		l = hb && (!hy || fb.l.p < fy.l.p) ? fb.l : fy.l;
		pos = l.next;
		if (hy && l.p == fy.l.p) {
			kind = BLOCK_YENC;
			yenc_name(&l, &nm, &nlen);
		} else {
			bool base64;
			if (!parse_begin(&l, &base64, &nm, &nlen))
				continue;
			kind = base64 ? BLOCK_BASE64 : BLOCK_UU;
		}
		count++;
		if (nlen > VG_MIME_MAX_NAME_LEN)
			nlen = VG_MIME_MAX_NAME_LEN;
		memcpy(own, nm, nlen);
		own[nlen] = '\0'; /* a NUL inside the name ends it */
		mail_out_reset(&o);
		rc = decode_block(text, len, pos, kind, &o, &pos);
		if (rc != VG_OK)
			goto out;
		rc = mail_out_emit(&o, name ? name : own[0] ? own : NULL, sink);
		if (rc != VG_OK)
			goto out;
	}
out:
	mail_out_free(&o);
	if (rc == VG_OK)
		*found = count;
	return rc;
}

vg_status unpack_uuencode(const struct unpack_input *in, const struct unpack_sink *sink)
{
	size_t found;

	return mail_uu_extract(in->data, in->len, NULL, sink, &found);
}
