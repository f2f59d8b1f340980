/* tnef: MS-TNEF (winmail.dat, application/ms-tnef), Outlook's wrapping of a
 * message and its attachments.
 *
 * After the signature 0x223E9F78 and a 16-bit key, the stream is a run of
 * attributes: level (1 message, 2 attachment), a 32-bit id (type in the
 * high half), a 32-bit length, the data and a 16-bit checksum (not
 * checked: it protects nothing a scanner relies on), all little-endian.
 *
 * Each attachment starts with attAttachRendData. Its bytes come from
 * attAttachData, or from PR_ATTACH_DATA_BIN / PR_ATTACH_DATA_OBJ among its
 * MAPI properties (attAttachment); an embedded message (PT_OBJECT) is a
 * TNEF stream of its own, and the driver recurses into it. Names, best
 * first: PR_ATTACH_LONG_FILENAME, attAttachTitle, PR_ATTACH_FILENAME,
 * PR_DISPLAY_NAME (UTF-16 names are written as UTF-8). Because the MAPI
 * properties follow the data, an attachment is handed over when the next
 * one starts or the stream ends.
 *
 * From the message's own MAPI properties (attMsgProps), the compressed RTF
 * body (PR_RTF_COMPRESSED, MS-OXRTFCP "LZFu" or uncompressed "MELA") is
 * decompressed and the HTML body (PR_HTML) handed over, both unnamed: RTF
 * can carry embedded objects.
 *
 * A length past the end of the input is cut to what is there and ends the
 * stream; properties are read only while their counts and lengths fit in
 * their attribute. */
#include <string.h>

#include "unpack/unpack.h"

#define TNEF_SIGNATURE 0x223E9F78u

/* attribute ids (low half of the 32-bit id) */
#define ATT_ATTACH_DATA 0x800Fu
#define ATT_ATTACH_TITLE 0x8010u
#define ATT_ATTACH_REND_DATA 0x9002u
#define ATT_MSG_PROPS 0x9003u
#define ATT_ATTACHMENT 0x9005u

/* MAPI property types and ids */
#define PT_I2 0x0002u
#define PT_LONG 0x0003u
#define PT_R4 0x0004u
#define PT_DOUBLE 0x0005u
#define PT_CURRENCY 0x0006u
#define PT_APPTIME 0x0007u
#define PT_ERROR 0x000Au
#define PT_BOOLEAN 0x000Bu
#define PT_OBJECT 0x000Du
#define PT_I8 0x0014u
#define PT_STRING8 0x001Eu
#define PT_UNICODE 0x001Fu
#define PT_SYSTIME 0x0040u
#define PT_CLSID 0x0048u
#define PT_BINARY 0x0102u
#define MV_FLAG 0x1000u

#define PR_DISPLAY_NAME 0x3001u
#define PR_ATTACH_DATA 0x3701u /* _BIN as PT_BINARY, _OBJ as PT_OBJECT */
#define PR_ATTACH_FILENAME 0x3704u
#define PR_ATTACH_LONG_FILENAME 0x3707u
#define PR_RTF_COMPRESSED 0x1009u
#define PR_HTML 0x1013u

enum { NAME_LONG, NAME_TITLE, NAME_SHORT, NAME_DISPLAY, NAME_KINDS };

struct slice {
	const uint8_t *p;
	size_t len;
	bool set;
};

struct attachment {
	struct slice data; /* attAttachData */
	struct slice mapi; /* PR_ATTACH_DATA_BIN / _OBJ */
	char names[NAME_KINDS][VG_MIME_MAX_NAME_LEN + 1];
};

struct tnef {
	const struct unpack_sink *sink;
	struct attachment att;
	bool open; /* att holds something to hand over */
};

/* ---------------------------------------------------------------------- */
/* Names                                                                   */

static void name_put(char *out, size_t *k, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*k + n > VG_MIME_MAX_NAME_LEN)
		return;
	memcpy(out + *k, b, n);
	*k += n;
}

/* An 8-bit string (the message's code page, kept as bytes) up to its NUL. */
static void name_from_string8(char *out, const uint8_t *p, size_t n)
{
	size_t k = 0;

	while (k < n && k < VG_MIME_MAX_NAME_LEN && p[k])
		k++;
	memcpy(out, p, k);
	out[k] = '\0';
}

/* UTF-16LE up to its NUL, as UTF-8; unpaired surrogates become U+FFFD. */
static void name_from_utf16(char *out, const uint8_t *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t u = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
		if (u == 0)
			break;
		if (u >= 0xd800 && u < 0xdc00 && i + 3 < n) {
			uint32_t lo = (uint32_t)p[i + 2] | (uint32_t)p[i + 3] << 8;
			if (lo >= 0xdc00 && lo < 0xe000) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			} else {
				u = 0xfffd;
			}
		} else if (u >= 0xd800 && u < 0xe000) {
			u = 0xfffd;
		}
		name_put(out, &k, u);
	}
	out[k] = '\0';
}

/* ---------------------------------------------------------------------- */
/* Children                                                                */

/* p[0..len) cut to sink->max_child; truncated: already cut before. */
static vg_status emit(struct tnef *t, const uint8_t *p, size_t len, bool truncated, const char *name)
{
	struct unpack_child c;
	size_t max = t->sink->max_child;

	if (len == 0 && !truncated)
		return VG_OK;
	memset(&c, 0, sizeof(c));
	c.name = name && name[0] ? name : NULL;
	c.data = p ? p : (const uint8_t *)"";
	c.len = len < max ? len : max;
	c.truncated = truncated || len > max;
	return t->sink->child(t->sink->ctx, &c);
}

static vg_status flush_attachment(struct tnef *t)
{
	struct attachment *a = &t->att;
	const char *name = NULL;
	vg_status rc = VG_OK;

	if (!t->open)
		return VG_OK;
	for (int i = 0; i < NAME_KINDS && !name; i++)
		if (a->names[i][0])
			name = a->names[i];
	if (a->data.set)
		rc = emit(t, a->data.p, a->data.len, false, name);
	if (rc == VG_OK && a->mapi.set)
		rc = emit(t, a->mapi.p, a->mapi.len, false, name);
	a->data.set = a->mapi.set = false;
	for (int i = 0; i < NAME_KINDS; i++)
		a->names[i][0] = '\0';
	t->open = false;
	return rc;
}

/* MS-OXRTFCP: the dictionary every compressed RTF starts with. */
static const char rtf_prebuf[] =
	"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss "
	"\\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier"
	"{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";

#define RTF_DICT 4096u
#define RTF_LZFU 0x75465A4Cu
#define RTF_MELA 0x414C454Du

/* PR_RTF_COMPRESSED: a 16-byte header (sizes, type, CRC), then LZ77 over
 * a 4 KiB ring: a control byte, then per bit (low first) a literal byte or
 * a 12-bit ring offset with a 4-bit length - 2, ending where the offset
 * equals the write position. */
static vg_status emit_rtf(struct tnef *t, const uint8_t *p, size_t n)
{
	struct reader r = reader_init(p, n);
	uint32_t comp_size, raw_size, type, crc;
	uint8_t *dict = NULL;
	size_t wpos = sizeof(rtf_prebuf) - 1;
	struct buf out;
	bool truncated = false, done = false;
	vg_status rc = VG_OK;

	buf_init(&out, t->sink->max_child);
	if (!reader_u32le(&r, &comp_size) || !reader_u32le(&r, &raw_size) ||
	    !reader_u32le(&r, &type) || !reader_u32le(&r, &crc))
		goto out;
	if (type == RTF_MELA) {
		rc = emit(t, p + r.pos, reader_left(&r), false, NULL);
		goto out;
	}
	if (type != RTF_LZFU)
		goto out;
	dict = vg_calloc(1, RTF_DICT);
	if (!dict) {
		rc = VG_ENOMEM;
		goto out;
	}
	memcpy(dict, rtf_prebuf, wpos);
	while (!done && !truncated) {
		uint8_t ctl;
		if (!reader_u8(&r, &ctl))
			break;
		for (int bit = 0; bit < 8 && !done && !truncated; bit++) {
			uint8_t chunk[17], b0, b1;
			size_t k = 0;
			if (!(ctl >> bit & 1)) {
				if (!reader_u8(&r, &chunk[0])) {
					done = true;
					break;
				}
				dict[wpos] = chunk[0];
				wpos = (wpos + 1) % RTF_DICT;
				k = 1;
			} else {
				size_t off, len;
				if (!reader_u8(&r, &b0) || !reader_u8(&r, &b1)) {
					done = true;
					break;
				}
				off = (size_t)b0 << 4 | b1 >> 4;
				len = (size_t)(b1 & 0xf) + 2;
				if (off == wpos) {
					done = true;
					break;
				}
				for (; k < len; k++) {
					chunk[k] = dict[off];
					dict[wpos] = chunk[k];
					off = (off + 1) % RTF_DICT;
					wpos = (wpos + 1) % RTF_DICT;
				}
			}
			if (out.len + k > out.max) {
				k = out.max - out.len;
				truncated = true;
			}
			rc = buf_append(&out, chunk, k);
			if (rc != VG_OK)
				goto out;
		}
	}
	rc = emit(t, out.data, out.len, truncated, NULL);
out:
	vg_free(dict);
	buf_free(&out);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* MAPI properties                                                         */

static size_t fixed_size(uint32_t type)
{
	switch (type) {
	case PT_I2: case PT_LONG: case PT_R4: case PT_ERROR: case PT_BOOLEAN:
		return 4; /* PT_I2 and PT_BOOLEAN are padded to 4 */
	case PT_DOUBLE: case PT_CURRENCY: case PT_APPTIME: case PT_I8: case PT_SYSTIME:
		return 8;
	case PT_CLSID:
		return 16;
	default:
		return 0;
	}
}

static bool is_variable(uint32_t type)
{
	return type == PT_STRING8 || type == PT_UNICODE || type == PT_BINARY || type == PT_OBJECT;
}

static bool skip_padded(struct reader *r, uint32_t len)
{
	return reader_skip(r, len) && reader_skip(r, (4 - len % 4) % 4);
}

/* One value of a property this reader uses. */
static vg_status use_value(struct tnef *t, bool attachment, uint32_t id, uint32_t type,
			   const uint8_t *v, size_t len)
{
	struct attachment *a = &t->att;
	int kind = -1;

	if (!attachment) {
		if (id == PR_RTF_COMPRESSED && type == PT_BINARY)
			return emit_rtf(t, v, len);
		if (id == PR_HTML && (type == PT_BINARY || type == PT_STRING8))
			return emit(t, v, len, false, NULL);
		return VG_OK;
	}
	if (id == PR_ATTACH_DATA && (type == PT_BINARY || type == PT_OBJECT)) {
		vg_status rc = VG_OK;
		if (type == PT_OBJECT) { /* after the interface id */
			if (len < 16)
				return VG_OK;
			v += 16;
			len -= 16;
		}
		if (a->mapi.set) /* a second one: the first is not lost */
			rc = emit(t, a->mapi.p, a->mapi.len, false, NULL);
		a->mapi = (struct slice){v, len, true};
		return rc;
	}
	if (id == PR_ATTACH_LONG_FILENAME)
		kind = NAME_LONG;
	else if (id == PR_ATTACH_FILENAME)
		kind = NAME_SHORT;
	else if (id == PR_DISPLAY_NAME)
		kind = NAME_DISPLAY;
	if (kind < 0 || a->names[kind][0])
		return VG_OK;
	if (type == PT_STRING8)
		name_from_string8(a->names[kind], v, len);
	else if (type == PT_UNICODE)
		name_from_utf16(a->names[kind], v, len);
	return VG_OK;
}

/* attMsgProps / attAttachment: a count, then tagged values (MS-OXTNEF
 * 2.1.3.4). Reading stops at the first property whose size is unknown. */
static vg_status mapi_props(struct tnef *t, const uint8_t *p, size_t n, bool attachment)
{
	struct reader r = reader_init(p, n);
	uint32_t count;
	vg_status rc = VG_OK;

	if (!reader_u32le(&r, &count))
		return VG_OK;
	for (uint32_t i = 0; i < count && reader_left(&r) > 0; i++) {
		uint32_t tag, type, id, kind, len, nvals = 1;
		size_t fixed;

		if (!reader_u32le(&r, &tag))
			break;
		type = tag & 0xffff;
		id = tag >> 16;
		if (id >= 0x8000) { /* named: a GUID, then a number or a name */
			if (!reader_skip(&r, 16) || !reader_u32le(&r, &kind))
				break;
			if (kind == 0 ? !reader_skip(&r, 4)
				      : !reader_u32le(&r, &len) || !skip_padded(&r, len))
				break;
		}
		fixed = fixed_size(type & ~MV_FLAG);
		if (fixed == 0 && !is_variable(type & ~MV_FLAG))
			break;
		if ((type & MV_FLAG) || fixed == 0) {
			if (!reader_u32le(&r, &nvals))
				break;
		}
		for (uint32_t k = 0; k < nvals; k++) {
			const uint8_t *v;
			if (fixed) {
				if (!reader_skip(&r, fixed))
					goto out;
				continue;
			}
			if (!reader_u32le(&r, &len))
				goto out;
			if (!reader_bytes(&r, len, &v)) {
				/* cut short: what is there is still used */
				rc = use_value(t, attachment, id, type & ~MV_FLAG, p + r.pos, reader_left(&r));
				goto out;
			}
			rc = use_value(t, attachment, id, type & ~MV_FLAG, v, len);
			if (rc != VG_OK || !reader_skip(&r, (4 - len % 4) % 4))
				goto out;
		}
	}
out:
	return rc;
}

/* ---------------------------------------------------------------------- */

vg_status unpack_tnef(const struct unpack_input *in, const struct unpack_sink *sink)
{
	struct reader r = reader_init(in->data, in->len);
	struct tnef *t;
	uint32_t sig;
	vg_status rc = VG_OK;

	if (!reader_u32le(&r, &sig) || sig != TNEF_SIGNATURE || !reader_skip(&r, 2))
		return VG_OK;
	t = vg_calloc(1, sizeof(*t));
	if (!t)
		return VG_ENOMEM;
	t->sink = sink;
	for (;;) {
		uint8_t level;
		uint32_t id, len;
		const uint8_t *data;
		bool cut = false;

		if (!reader_u8(&r, &level) || !reader_u32le(&r, &id) || !reader_u32le(&r, &len))
			break;
		if (len > reader_left(&r)) {
			len = (uint32_t)reader_left(&r);
			cut = true;
		}
		reader_bytes(&r, len, &data);
		switch (id & 0xffff) {
		case ATT_ATTACH_REND_DATA:
			rc = flush_attachment(t);
			t->open = true;
			break;
		case ATT_ATTACH_DATA:
			if (t->att.data.set) /* a second one without a new attachment */
				rc = flush_attachment(t);
			t->att.data = (struct slice){data, len, true};
			t->open = true;
			break;
		case ATT_ATTACH_TITLE:
			if (!t->att.names[NAME_TITLE][0])
				name_from_string8(t->att.names[NAME_TITLE], data, len);
			t->open = true;
			break;
		case ATT_ATTACHMENT:
			rc = mapi_props(t, data, len, true);
			t->open = true;
			break;
		case ATT_MSG_PROPS:
			rc = mapi_props(t, data, len, false);
			break;
		default:
			break;
		}
		if (rc != VG_OK || cut || !reader_skip(&r, 2))
			break;
	}
	if (rc == VG_OK)
		rc = flush_attachment(t);
	vg_free(t);
	return rc;
}
