/* RTF: embedded OLE objects. An \objdata destination holds, in hex, an OLE1
 * object: a header (version, format, class name, topic, item) and the
 * object's native data. For class "Package" that data wraps a file (handed
 * over under its label); for any other class it is the object's own
 * storage, usually an OLE2 compound file (Word.Document.8, Equation.3...),
 * handed over for the driver to recurse into. Data that does not parse as
 * an OLE1 object is handed over decoded as it is, and from any OLE2
 * signature inside it.
 *
 * Hostile RTF hides the hex among control words, ignorable groups and
 * \binN runs; those are read as RTF readers read them. Decoding is one pass,
 * without recursion; the decoded bytes are capped at sink->max_child. */
#include <string.h>

#include "unpack/olepkg.h"
#include "unpack/unpack.h"

#define CLASS_MAX 256u

static bool is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A control word at p[i] ('\\' then letters, an optional signed number, an
 * optional space): its letters and number. Returns the index after it. */
static size_t control_word(const uint8_t *p, size_t n, size_t i, size_t *name, size_t *name_len,
			   long long *param, bool *has_param)
{
	size_t j = i + 1;
	bool neg = false;

	*name = j;
	while (j < n && is_alpha(p[j]))
		j++;
	*name_len = j - *name;
	*param = 0;
	*has_param = false;
	if (j < n && p[j] == '-' && j + 1 < n && p[j + 1] >= '0' && p[j + 1] <= '9') {
		neg = true;
		j++;
	}
	while (j < n && p[j] >= '0' && p[j] <= '9') {
		if (*param < 1000000000LL)
			*param = *param * 10 + (p[j] - '0');
		*has_param = true;
		j++;
	}
	if (neg)
		*param = -*param;
	if (j < n && p[j] == ' ')
		j++;
	return j;
}

struct decoded {
	struct buf b;
	bool truncated;
};

static vg_status put_byte(struct decoded *d, uint8_t c)
{
	if (d->b.len >= d->b.max) {
		d->truncated = true;
		return VG_OK;
	}
	return buf_append(&d->b, &c, 1);
}

/* Decodes the \objdata destination starting at p[i] (just after the control
 * word) up to the brace closing its group. Returns where scanning goes on. */
static vg_status decode_objdata(const uint8_t *p, size_t n, size_t i, struct decoded *d,
				size_t *resume)
{
	size_t depth = 0, skip_depth = 0; /* skip_depth: inside an ignorable group */
	int hi = -1;
	vg_status rc = VG_OK;

	while (i < n) {
		uint8_t c = p[i];

		if (c == '{') {
			depth++;
			if (!skip_depth && i + 2 < n && p[i + 1] == '\\' && p[i + 2] == '*')
				skip_depth = depth;
			i++;
			continue;
		}
		if (c == '}') {
			if (depth == 0) {
				i++;
				break;
			}
			if (skip_depth == depth)
				skip_depth = 0;
			depth--;
			i++;
			continue;
		}
		if (c == '\\') {
			size_t name, name_len;
			long long param;
			bool has_param;

			if (i + 1 < n && !is_alpha(p[i + 1])) {
				/* a control symbol; \'hh carries a text byte, not data */
				i += i + 1 < n && p[i + 1] == '\'' ? 4 : 2;
				continue;
			}
			i = control_word(p, n, i, &name, &name_len, &param, &has_param);
			if (name_len == 3 && memcmp(p + name, "bin", 3) == 0 && has_param &&
			    param > 0) {
				size_t k = (size_t)param < n - i ? (size_t)param : n - i;
				if (!skip_depth) {
					for (size_t j = 0; j < k && rc == VG_OK; j++)
						rc = put_byte(d, p[i + j]);
					hi = -1;
				}
				i += k;
			}
			if (rc != VG_OK)
				break;
			continue;
		}
		i++;
		if (skip_depth)
			continue;
		{
			int v = hexval(c);
			if (v < 0)
				continue; /* spaces, line breaks and noise between the digits */
			if (hi < 0) {
				hi = v;
				continue;
			}
			rc = put_byte(d, (uint8_t)(hi << 4 | v));
			hi = -1;
			if (rc != VG_OK)
				break;
		}
	}
	*resume = i;
	return rc;
}

static vg_status give(const struct unpack_sink *sink, const char *name, const uint8_t *data,
		      size_t len, bool truncated)
{
	struct unpack_child c;

	if (len == 0)
		return VG_OK;
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.data = data;
	c.len = len;
	c.truncated = truncated;
	return sink->child(sink->ctx, &c);
}

static bool lp_string(struct reader *r, const uint8_t **s, uint32_t *len)
{
	return reader_u32le(r, len) && reader_bytes(r, *len, s);
}

/* Hands over what an OLE1 object holds (MS-OLEDS 2.2.4 ObjectHeader, 2.2.5
 * EmbeddedObject). False when the data is not one. */
static bool ole1_object(const struct unpack_sink *sink, const struct decoded *d, vg_status *rc)
{
	struct reader r = reader_init(d->b.data, d->b.len);
	const uint8_t *cls, *topic, *item, *native;
	uint32_t version, format, cls_len, topic_len, item_len, native_len;
	char name[CLASS_MAX];
	struct olepkg pkg;
	size_t have;

	if (!reader_u32le(&r, &version) || !reader_u32le(&r, &format) || format != 2 ||
	    !lp_string(&r, &cls, &cls_len) || cls_len == 0 || cls_len > CLASS_MAX ||
	    !lp_string(&r, &topic, &topic_len) || !lp_string(&r, &item, &item_len) ||
	    !reader_u32le(&r, &native_len))
		return false;
	(void)version;
	(void)topic;
	(void)item;
	have = native_len < reader_left(&r) ? native_len : reader_left(&r);
	(void)reader_bytes(&r, have, &native);
	olepkg_copy_name(name, cls, cls_len);
	if (strcmp(name, "Package") == 0 && olepkg_parse(native, have, &pkg)) {
		*rc = give(sink, pkg.name, pkg.data, pkg.len, d->truncated && pkg.len < pkg.size);
		return true;
	}
	*rc = give(sink, name, native, have, d->truncated && have < native_len);
	return true;
}

vg_status unpack_rtf(const struct unpack_input *in, const struct unpack_sink *sink)
{
	static const uint8_t ole2_magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
	const uint8_t *p = in->data;
	size_t n = in->len, i = 0;
	unsigned objects = 0;
	struct decoded d;
	vg_status rc = VG_OK;

	buf_init(&d.b, sink->max_child);
	while (p && i < n) {
		const uint8_t *hit = memmem(p + i, n - i, "\\objdata", 8);
		size_t at;

		if (!hit)
			break;
		at = (size_t)(hit - p) + 8;
		i = at;
		if (at < n && is_alpha(p[at]))
			continue; /* a longer control word */
		if (++objects > VG_RTF_MAX_OBJECTS) {
			rc = VG_ELIMIT;
			break;
		}
		d.b.len = 0;
		d.truncated = false;
		rc = decode_objdata(p, n, at, &d, &i);
		if (rc != VG_OK)
			break;
		if (d.b.len == 0)
			continue;
		if (!ole1_object(sink, &d, &rc)) {
			const uint8_t *ole = NULL;
			if (d.b.len > 8)
				ole = memmem(d.b.data + 1, d.b.len - 1, ole2_magic, 8);
			rc = give(sink, NULL, d.b.data, d.b.len, d.truncated);
			if (rc == VG_OK && ole)
				rc = give(sink, NULL, ole, d.b.len - (size_t)(ole - d.b.data),
					  d.truncated);
		}
		if (rc != VG_OK)
			break;
	}
	buf_free(&d.b);
	return rc;
}
