/* mime: RFC 822 mail, MIME entities (RFC 2045-2047, 2231) and mbox files.
 *
 * Every leaf part is decoded (base64, quoted-printable, uuencode, or taken
 * as it is for 7bit/8bit/binary and unknown encodings) and handed over as a
 * child named by its Content-Disposition filename or Content-Type name.
 * message/rfc822 parts are children too: they are mail again, and the scan
 * driver recurses into them. multipart bodies are followed to VG_MIME_MAX_DEPTH
 * levels; a deeper entity is handed over undecoded as one child, so its
 * bytes are still scanned. Text outside the parts (preamble, epilogue) and
 * the decoded leaves are searched for uuencoded (also yEnc and
 * begin-base64) and BinHex blocks, which old mailers and news gateways
 * embed in plain bodies.
 *
 * Mail is hostile and often broken; the reading is lenient where mail
 * clients are: folded headers, LF or CRLF, a missing boundary parameter
 * (guessed from the first "--" line), a missing close delimiter (the part
 * runs to the end), base64 with junk, line breaks or no padding, a
 * multipart body that is itself base64 or quoted-printable encoded. The
 * first of repeated Content-* headers counts.
 *
 * An mbox (a file starting "From ") is split into messages at every "From "
 * line that follows an empty line. */
#include <string.h>

#include "unpack/mailcode.h"
#include "unpack/unpack.h"

/* ---------------------------------------------------------------------- */
/* The bounded child buffer and base64, shared with uuencode.c             */

void mail_out_init(struct mail_out *o, size_t max)
{
	buf_init(&o->b, max);
	o->truncated = false;
}

void mail_out_reset(struct mail_out *o)
{
	o->b.len = 0;
	o->truncated = false;
}

void mail_out_free(struct mail_out *o)
{
	buf_free(&o->b);
}

vg_status mail_out_put(struct mail_out *o, const uint8_t *p, size_t n)
{
	size_t room = o->b.max - o->b.len;

	if (n > room) {
		o->truncated = true;
		n = room;
	}
	if (n == 0)
		return VG_OK;
	return buf_append(&o->b, p, n);
}

static vg_status emit(const struct unpack_sink *sink, const uint8_t *data, size_t len,
		      bool truncated, const char *name)
{
	struct unpack_child c;

	if (len == 0 && !truncated)
		return VG_OK; /* nothing to scan */
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.data = data ? data : (const uint8_t *)"";
	c.len = len;
	c.truncated = truncated;
	return sink->child(sink->ctx, &c);
}

vg_status mail_out_emit(const struct mail_out *o, const char *name, const struct unpack_sink *sink)
{
	return emit(sink, o->b.data, o->b.len, o->truncated, name);
}

/* base64 digit values; -1 for every other byte */
static const int8_t b64_digit[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int b64_value(uint8_t c)
{
	return b64_digit[c];
}

void mail_base64_init(struct mail_base64 *st)
{
	st->acc = 0;
	st->n = 0;
}

/* Writes what a partial quantum holds (2 characters: 1 byte, 3: 2 bytes). */
static size_t b64_flush(struct mail_base64 *st, uint8_t *out)
{
	size_t k = 0;

	if (st->n == 2) {
		out[k++] = (uint8_t)(st->acc >> 4);
	} else if (st->n == 3) {
		out[k++] = (uint8_t)(st->acc >> 10);
		out[k++] = (uint8_t)(st->acc >> 2);
	}
	st->acc = 0;
	st->n = 0;
	return k;
}

/* Four digits at p (n >= 4) into out[0..3); false when one is not a digit. */
static bool b64_quad(const uint8_t *p, uint8_t *out)
{
	int a = b64_digit[p[0]], b = b64_digit[p[1]], c = b64_digit[p[2]], d = b64_digit[p[3]];
	uint32_t q;

	if ((a | b | c | d) < 0)
		return false;
	q = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
	out[0] = (uint8_t)(q >> 16);
	out[1] = (uint8_t)(q >> 8);
	out[2] = (uint8_t)q;
	return true;
}

vg_status mail_base64_put(struct mail_base64 *st, const uint8_t *p, size_t n, struct mail_out *o)
{
	uint8_t tmp[3072];
	size_t k = 0, i = 0;
	vg_status rc;

	while (i < n && !o->truncated) {
		if (st->n == 0 && n - i >= 4 && b64_quad(p + i, tmp + k)) {
			/* the common case: four digits in a row */
			k += 3;
			i += 4;
		} else {
			int v = b64_digit[p[i++]];
			if (v < 0) {
				if (p[i - 1] == '=')
					k += b64_flush(st, tmp + k);
			} else {
				st->acc = st->acc << 6 | (uint32_t)v;
				if (++st->n == 4) {
					tmp[k++] = (uint8_t)(st->acc >> 16);
					tmp[k++] = (uint8_t)(st->acc >> 8);
					tmp[k++] = (uint8_t)st->acc;
					st->acc = 0;
					st->n = 0;
				}
			}
		}
		if (k + 3 > sizeof(tmp)) {
			rc = mail_out_put(o, tmp, k);
			if (rc != VG_OK)
				return rc;
			k = 0;
		}
	}
	return mail_out_put(o, tmp, k);
}

vg_status mail_base64_end(struct mail_base64 *st, struct mail_out *o)
{
	uint8_t tmp[2];
	size_t k = b64_flush(st, tmp);

	return mail_out_put(o, tmp, k);
}

/* ---------------------------------------------------------------------- */
/* Small text helpers                                                      */

bool mail_next_line(const uint8_t *text, size_t len, size_t pos, struct mail_line *l)
{
	const uint8_t *nl;

	if (pos >= len)
		return false;
	l->p = text + pos;
	nl = memchr(l->p, '\n', len - pos);
	l->len = nl ? (size_t)(nl - l->p) : len - pos;
	l->next = nl ? pos + l->len + 1 : len;
	if (l->len && l->p[l->len - 1] == '\r')
		l->len--;
	return true;
}

bool mail_find_line(const uint8_t *text, size_t len, size_t pos, const char *nl_prefix,
		    struct mail_line *l)
{
	size_t plen = strlen(nl_prefix), win = 256;

	if (pos < len && (pos == 0 || text[pos - 1] == '\n') && len - pos >= plen - 1 &&
	    memcmp(text + pos, nl_prefix + 1, plen - 1) == 0)
		return mail_next_line(text, len, pos, l);
	/* Windows that grow: a sanitizer checks memmem's whole haystack on
	 * every call, which would make many searches of a large text cost its
	 * length each. Windows overlap by plen - 1 bytes. */
	while (pos < len) {
		size_t n = len - pos < win ? len - pos : win;
		const uint8_t *q = memmem(text + pos, n, nl_prefix, plen);
		if (q)
			return mail_next_line(text, len, (size_t)(q - text) + 1, l);
		if (n == len - pos)
			break;
		pos += n - (plen - 1);
		if (win < 65536)
			win *= 2;
	}
	return false;
}

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive: does p[0..n) begin with the literal s? */
static bool ci_prefix(const uint8_t *p, size_t n, const char *s)
{
	size_t sl = strlen(s);

	if (n < sl)
		return false;
	for (size_t i = 0; i < sl; i++)
		if (lower(p[i]) != (uint8_t)s[i])
			return false;
	return true;
}

static bool ci_eq(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && ci_prefix(p, n, s);
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* ---------------------------------------------------------------------- */
/* Attachment names                                                        */

struct name {
	char s[VG_MIME_MAX_NAME_LEN + 1];
	size_t len;
	bool ended; /* a NUL was decoded: the name stops there */
};

static void name_reset(struct name *nm)
{
	nm->len = 0;
	nm->ended = false;
	nm->s[0] = '\0';
}

static void name_byte(struct name *nm, uint8_t c)
{
	if (nm->ended)
		return;
	if (c == 0) {
		nm->ended = true;
		return;
	}
	if (nm->len < VG_MIME_MAX_NAME_LEN) {
		nm->s[nm->len++] = (char)c;
		nm->s[nm->len] = '\0';
	}
}

/* latin1: the byte is ISO-8859-1 and is written as UTF-8. */
static void name_char(struct name *nm, uint8_t c, bool latin1)
{
	if (latin1 && c >= 0x80) {
		name_byte(nm, (uint8_t)(0xc0 | c >> 6));
		name_byte(nm, (uint8_t)(0x80 | (c & 0x3f)));
	} else {
		name_byte(nm, c);
	}
}

/* Charsets whose bytes are converted to UTF-8; any other is kept as bytes
 * (UTF-8 and ASCII need nothing). */
static bool charset_latin1(const uint8_t *cs, size_t n)
{
	return ci_eq(cs, n, "iso-8859-1") || ci_eq(cs, n, "iso8859-1") || ci_eq(cs, n, "latin1") ||
	       ci_eq(cs, n, "latin-1") || ci_eq(cs, n, "windows-1252") || ci_eq(cs, n, "cp1252");
}

struct encoded_word {
	const uint8_t *charset;
	size_t charset_len;
	uint8_t enc; /* 'b' or 'q' */
	const uint8_t *text;
	size_t text_len;
	size_t end; /* offset after "?=" */
};

/* RFC 2047 "=?charset?B|Q?text?=" starting at s[i]. */
static bool encoded_word_at(const uint8_t *s, size_t n, size_t i, struct encoded_word *w)
{
	size_t j = i + 2, cs0 = i + 2, t0;

	if (i + 2 > n || s[i] != '=' || s[i + 1] != '?')
		return false;
	while (j < n && s[j] != '?' && !is_ws(s[j]))
		j++;
	if (j >= n || s[j] != '?' || j == cs0)
		return false;
	w->charset = s + cs0;
	w->charset_len = j - cs0;
	for (size_t k = 0; k < w->charset_len; k++)
		if (w->charset[k] == '*') /* RFC 2231 language suffix */
			w->charset_len = k;
	j++;
	if (j + 1 >= n || s[j + 1] != '?')
		return false;
	w->enc = lower(s[j]);
	if (w->enc != 'b' && w->enc != 'q')
		return false;
	j += 2;
	t0 = j;
	while (j < n && s[j] != '?')
		j++;
	if (j + 1 >= n || s[j + 1] != '=')
		return false;
	w->text = s + t0;
	w->text_len = j - t0;
	w->end = j + 2;
	return true;
}

static void decode_word(struct name *nm, const struct encoded_word *w)
{
	bool latin1 = charset_latin1(w->charset, w->charset_len);

	if (w->enc == 'b') {
		uint32_t acc = 0;
		unsigned bits = 0;
		for (size_t i = 0; i < w->text_len; i++) {
			int v = b64_value(w->text[i]);
			if (v < 0)
				continue;
			acc = (acc << 6 | (uint32_t)v) & 0xffffff;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				name_char(nm, (uint8_t)(acc >> bits), latin1);
			}
		}
		return;
	}
	for (size_t i = 0; i < w->text_len; i++) {
		uint8_t c = w->text[i];
		int h1, h2;
		if (c == '_') {
			c = ' ';
		} else if (c == '=' && i + 2 < w->text_len && (h1 = hex_value(w->text[i + 1])) >= 0 &&
			   (h2 = hex_value(w->text[i + 2])) >= 0) {
			c = (uint8_t)(h1 << 4 | h2);
			i += 2;
		}
		name_char(nm, c, latin1);
	}
}

/* A plain parameter value: encoded words decoded, the white space between
 * two adjacent ones dropped (RFC 2047 section 6.2). */
static void decode_rfc2047(struct name *nm, const uint8_t *s, size_t n)
{
	struct encoded_word w;
	bool after_word = false;
	size_t i = 0;

	while (i < n) {
		if (s[i] == '=' && encoded_word_at(s, n, i, &w)) {
			decode_word(nm, &w);
			i = w.end;
			after_word = true;
		} else if (after_word && is_ws(s[i])) {
			size_t j = i;
			while (j < n && is_ws(s[j]))
				j++;
			if (!(j < n && s[j] == '=' && encoded_word_at(s, n, j, &w)))
				for (size_t k = i; k < j; k++)
					name_byte(nm, s[k]);
			i = j;
			after_word = false;
		} else {
			name_byte(nm, s[i++]);
			after_word = false;
		}
	}
}

struct param {
	const uint8_t *attr;
	size_t attr_len;
	const uint8_t *val;
	size_t val_len;
	bool quoted; /* val is inside quotes, backslash escapes still in it */
};

/* The next "; attr=value" of a header value, from *pos. */
static bool param_next(const uint8_t *v, size_t n, size_t *pos, struct param *pm)
{
	size_t i = *pos;

	for (;;) {
		size_t a0, v0;

		while (i < n && v[i] != ';')
			i++;
		if (i >= n) {
			*pos = n;
			return false;
		}
		i++;
		while (i < n && is_ws(v[i]))
			i++;
		a0 = i;
		while (i < n && v[i] != '=' && v[i] != ';' && !is_ws(v[i]))
			i++;
		pm->attr = v + a0;
		pm->attr_len = i - a0;
		while (i < n && is_ws(v[i]))
			i++;
		if (i >= n || v[i] != '=' || pm->attr_len == 0)
			continue;
		i++;
		while (i < n && is_ws(v[i]))
			i++;
		if (i < n && v[i] == '"') {
			v0 = ++i;
			while (i < n && v[i] != '"')
				i += v[i] == '\\' && i + 1 < n ? 2 : 1;
			pm->val_len = i - v0;
			pm->quoted = true;
			if (i < n)
				i++;
		} else {
			v0 = i;
			while (i < n && v[i] != ';')
				i++;
			pm->val_len = i - v0;
			while (pm->val_len && is_ws(v[v0 + pm->val_len - 1]))
				pm->val_len--;
			pm->quoted = false;
		}
		pm->val = v + v0;
		*pos = i;
		return true;
	}
}

/* Copies a parameter value without its quoting into out[0..max). */
static size_t unquote(const struct param *pm, uint8_t *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < pm->val_len && k < max; i++) {
		if (pm->quoted && pm->val[i] == '\\' && i + 1 < pm->val_len)
			i++;
		out[k++] = pm->val[i];
	}
	return k;
}

/* An RFC 2231 extended value: percent-encoded, the first piece prefixed
 * with charset'language'. */
static void decode_rfc2231(struct name *nm, const struct param *pm, bool first, bool *latin1)
{
	const uint8_t *s = pm->val;
	size_t n = pm->val_len, i = 0;

	if (first) {
		const uint8_t *q1 = memchr(s, '\'', n);
		const uint8_t *q2 = q1 ? memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - s)) : NULL;
		if (q2) {
			*latin1 = charset_latin1(s, (size_t)(q1 - s));
			i = (size_t)(q2 + 1 - s);
		}
	}
	for (; i < n; i++) {
		uint8_t c = s[i];
		int h1, h2;
		if (c == '%' && i + 2 < n && (h1 = hex_value(s[i + 1])) >= 0 && (h2 = hex_value(s[i + 2])) >= 0) {
			c = (uint8_t)(h1 << 4 | h2);
			i += 2;
		}
		name_char(nm, c, *latin1);
	}
}

/* Finds parameter base ("filename", "name") in a header value, in its
 * RFC 2231 forms (preferred: they are the precise ones) or plain. */
static bool name_from_params(struct name *nm, const uint8_t *v, size_t n, const char *base,
			     uint8_t *scratch)
{
	struct param pm, plain = {0}, ext = {0}, pieces[VG_MIME_MAX_NAME_PIECES];
	bool have_plain = false, have_ext = false, latin1 = false;
	bool have[VG_MIME_MAX_NAME_PIECES], piece_ext[VG_MIME_MAX_NAME_PIECES];
	size_t blen = strlen(base), pos = 0;

	memset(have, 0, sizeof(have));
	while (param_next(v, n, &pos, &pm)) {
		const uint8_t *rest;
		size_t rlen, idx = 0, k;

		if (!ci_prefix(pm.attr, pm.attr_len, base))
			continue;
		rest = pm.attr + blen;
		rlen = pm.attr_len - blen;
		if (rlen == 0) {
			if (!have_plain)
				plain = pm;
			have_plain = true;
			continue;
		}
		if (rest[0] != '*')
			continue;
		if (rlen == 1) {
			if (!have_ext)
				ext = pm;
			have_ext = true;
			continue;
		}
		for (k = 1; k < rlen && rest[k] >= '0' && rest[k] <= '9' && idx < VG_MIME_MAX_NAME_PIECES; k++)
			idx = idx * 10 + (size_t)(rest[k] - '0');
		if (k == 1 || idx >= VG_MIME_MAX_NAME_PIECES)
			continue;
		if (k < rlen && !(k + 1 == rlen && rest[k] == '*'))
			continue;
		if (!have[idx]) {
			pieces[idx] = pm;
			piece_ext[idx] = k < rlen;
			have[idx] = true;
		}
	}
	name_reset(nm);
	if (have_ext) {
		decode_rfc2231(nm, &ext, true, &latin1);
	} else if (have[0]) {
		for (size_t i = 0; i < VG_MIME_MAX_NAME_PIECES && have[i]; i++) {
			if (piece_ext[i]) {
				decode_rfc2231(nm, &pieces[i], i == 0, &latin1);
			} else {
				size_t k = unquote(&pieces[i], scratch, VG_MIME_MAX_HEADER_LEN);
				for (size_t j = 0; j < k; j++)
					name_byte(nm, scratch[j]);
			}
		}
	} else if (have_plain) {
		size_t k = unquote(&plain, scratch, VG_MIME_MAX_HEADER_LEN);
		decode_rfc2047(nm, scratch, k);
	}
	return nm->len > 0;
}

/* ---------------------------------------------------------------------- */
/* Entities                                                                */

enum cte { CTE_RAW, CTE_BASE64, CTE_QP, CTE_UU };

struct range {
	size_t off, len;
	bool seen;
};

struct entity {
	const uint8_t *p; /* headers and body */
	size_t n;
	size_t body; /* offset of the body */
	struct range ctype, cte, disp;
};

struct mime {
	const struct unpack_sink *sink;
	struct mail_out out; /* the leaf being decoded */
	bool in_decoded;     /* inside a multipart body that had to be decoded */
	struct name name;
	uint8_t hdr[VG_MIME_MAX_HEADER_LEN];     /* one unfolded header value */
	uint8_t scratch[VG_MIME_MAX_HEADER_LEN]; /* a parameter value unquoted */
};

static bool all_ws(const struct mail_line *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (!is_ws(l->p[i]))
			return false;
	return true;
}

/* Index of the ':' ending a header field name, or 0 when the line is not a
 * header field. */
static size_t field_colon(const struct mail_line *l)
{
	size_t i = 0;

	while (i < l->len && l->p[i] > 0x20 && l->p[i] < 0x7f && l->p[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < l->len && is_ws(l->p[i])) /* obsolete "Name :" */
		i++;
	return i < l->len && l->p[i] == ':' ? i : 0;
}

static void parse_headers(struct entity *e, bool top)
{
	struct range *cur = NULL;
	struct mail_line l;
	size_t pos = 0;
	bool first = true;

	e->body = e->n;
	while (mail_next_line(e->p, e->n, pos, &l)) {
		size_t start = pos, colon, nl;

		pos = l.next;
		if (first && top &&
		    (ci_prefix(l.p, l.len, "from ") || ci_prefix(l.p, l.len, ">from "))) {
			first = false; /* the mbox separator */
			continue;
		}
		first = false;
		if (all_ws(&l)) {
			e->body = l.next;
			return;
		}
		if (is_ws(l.p[0])) { /* folded */
			if (cur)
				cur->len = (size_t)(l.p + l.len - (e->p + cur->off));
			continue;
		}
		colon = field_colon(&l);
		if (colon == 0) { /* no header: the body starts here */
			e->body = start;
			return;
		}
		nl = colon;
		while (nl && is_ws(l.p[nl - 1]))
			nl--;
		cur = NULL;
		if (ci_eq(l.p, nl, "content-type"))
			cur = &e->ctype;
		else if (ci_eq(l.p, nl, "content-transfer-encoding"))
			cur = &e->cte;
		else if (ci_eq(l.p, nl, "content-disposition"))
			cur = &e->disp;
		if (cur && cur->seen)
			cur = NULL; /* the first one counts */
		if (cur) {
			cur->seen = true;
			cur->off = (size_t)(l.p - e->p) + colon + 1;
			cur->len = l.len - colon - 1;
		}
	}
}

/* The header value with its line breaks removed, in m->hdr. */
static size_t unfold(struct mime *m, const struct entity *e, const struct range *r)
{
	size_t k = 0;

	for (size_t i = 0; i < r->len && k < sizeof(m->hdr); i++) {
		uint8_t c = e->p[r->off + i];
		if (c != '\r' && c != '\n')
			m->hdr[k++] = c;
	}
	return k;
}

static enum cte parse_cte(const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ci_prefix(v + i, n - i, "base64"))
			return CTE_BASE64;
		if (ci_prefix(v + i, n - i, "quoted-printable"))
			return CTE_QP;
		if (ci_prefix(v + i, n - i, "uuencode") || ci_prefix(v + i, n - i, "uue"))
			return CTE_UU;
	}
	return CTE_RAW;
}

/* "type/subtype" in lower case, cut to fit. */
static void parse_type(const uint8_t *v, size_t n, char *type, size_t size)
{
	size_t i = 0, k = 0;

	while (i < n && (is_ws(v[i]) || v[i] == '"'))
		i++;
	while (i < n && v[i] != ';' && v[i] != '"' && !is_ws(v[i])) {
		if (k + 1 < size)
			type[k++] = (char)lower(v[i]);
		i++;
	}
	type[k] = '\0';
}

static bool type_is(const char *type, const char *prefix)
{
	return strncmp(type, prefix, strlen(prefix)) == 0;
}

static const char *entity_name(struct mime *m, const struct entity *e)
{
	size_t n;

	if (e->disp.seen) {
		n = unfold(m, e, &e->disp);
		if (name_from_params(&m->name, m->hdr, n, "filename", m->scratch))
			return m->name.s;
	}
	if (e->ctype.seen) {
		n = unfold(m, e, &e->ctype);
		if (name_from_params(&m->name, m->hdr, n, "name", m->scratch))
			return m->name.s;
	}
	return NULL;
}

static vg_status qp_decode(const uint8_t *p, size_t n, struct mail_out *o)
{
	uint8_t tmp[4096];
	size_t k = 0, i = 0;
	vg_status rc;

	while (i < n && !o->truncated) {
		uint8_t c = p[i];
		int h1, h2;

		if (c == '=') {
			if (i + 2 < n && (h1 = hex_value(p[i + 1])) >= 0 && (h2 = hex_value(p[i + 2])) >= 0) {
				c = (uint8_t)(h1 << 4 | h2);
				i += 3;
			} else {
				/* a soft line break: '=', maybe white space, the line end */
				size_t j = i + 1;
				while (j < n && is_ws(p[j]))
					j++;
				if (j >= n) {
					i = n;
					continue;
				}
				if (p[j] == '\r' || p[j] == '\n') {
					if (p[j] == '\r' && j + 1 < n && p[j + 1] == '\n')
						j++;
					i = j + 1;
					continue;
				}
				i++; /* a lone '=' stands for itself */
			}
		} else {
			i++;
		}
		tmp[k++] = c;
		if (k == sizeof(tmp)) {
			rc = mail_out_put(o, tmp, k);
			if (rc != VG_OK)
				return rc;
			k = 0;
		}
	}
	return mail_out_put(o, tmp, k);
}

static vg_status decode_into(enum cte cte, const uint8_t *p, size_t n, struct mail_out *o)
{
	struct mail_base64 st;
	vg_status rc;

	if (cte == CTE_QP)
		return qp_decode(p, n, o);
	mail_base64_init(&st);
	rc = mail_base64_put(&st, p, n, o);
	if (rc == VG_OK)
		rc = mail_base64_end(&st, o);
	return rc;
}

/* uuencoded and BinHex blocks inside text. */
static vg_status embedded(struct mime *m, const uint8_t *p, size_t n)
{
	struct unpack_input in = {p, n};
	size_t found;
	vg_status rc;

	if (n == 0)
		return VG_OK;
	rc = mail_uu_extract(p, n, NULL, m->sink, &found);
	if (rc != VG_OK)
		return rc;
	return unpack_binhex(&in, m->sink);
}

static vg_status raw_child(struct mime *m, const uint8_t *p, size_t n, const char *name)
{
	size_t max = m->sink->max_child;

	return emit(m->sink, p, n < max ? n : max, n > max, name);
}

static vg_status leaf(struct mime *m, const struct entity *e, const char *type, enum cte cte)
{
	const uint8_t *body = e->p + e->body, *data;
	size_t len = e->n - e->body, dlen, found;
	const char *name = entity_name(m, e);
	bool truncated;
	vg_status rc;

	if (cte == CTE_UU) {
		rc = mail_uu_extract(body, len, name, m->sink, &found);
		if (rc != VG_OK || found)
			return rc;
		cte = CTE_RAW; /* declared, but there is no block: take it as text */
	}
	if (cte == CTE_RAW) {
		data = body;
		dlen = len < m->sink->max_child ? len : m->sink->max_child;
		truncated = len > dlen;
	} else {
		mail_out_reset(&m->out);
		rc = decode_into(cte, body, len, &m->out);
		if (rc != VG_OK)
			return rc;
		data = m->out.b.data;
		dlen = m->out.b.len;
		truncated = m->out.truncated;
	}
	rc = emit(m->sink, data, dlen, truncated, name);
	if (rc != VG_OK || type_is(type, "message/"))
		return rc;
	return embedded(m, data, dlen);
}

static vg_status entity(struct mime *m, const uint8_t *p, size_t n, unsigned depth);

/* A delimiter line "--boundary" (close: "--boundary--"). */
static bool is_delimiter(const struct mail_line *l, const uint8_t *b, size_t blen, bool *close)
{
	const uint8_t *rest;
	size_t rlen;

	if (l->len < 2 + blen || l->p[0] != '-' || l->p[1] != '-' || memcmp(l->p + 2, b, blen) != 0)
		return false;
	rest = l->p + 2 + blen;
	rlen = l->len - 2 - blen;
	if (rlen >= 2 && rest[0] == '-' && rest[1] == '-') {
		*close = true;
		return true;
	}
	for (size_t i = 0; i < rlen; i++)
		if (!is_ws(rest[i]))
			return false;
	*close = false;
	return true;
}

/* The parts of a multipart body; *any is false when it has no delimiter. */
static vg_status multipart(struct mime *m, const uint8_t *p, size_t n, const uint8_t *b, size_t blen,
			   unsigned depth, bool *any)
{
	struct mail_line l;
	size_t pos = 0, part = 0;
	bool open = false, close = false;
	vg_status rc = VG_OK;

	*any = false;
	while (!close && mail_find_line(p, n, pos, "\n--", &l)) {
		size_t start = (size_t)(l.p - p);

		pos = l.next;
		if (!is_delimiter(&l, b, blen, &close))
			continue;
		if (open) {
			size_t end = start; /* the line break before a delimiter is part of it */
			if (end > part && p[end - 1] == '\n')
				end--;
			if (end > part && p[end - 1] == '\r')
				end--;
			rc = entity(m, p + part, end - part, depth + 1);
		} else if (!*any) {
			rc = embedded(m, p, start); /* the preamble */
		}
		if (rc != VG_OK)
			return rc;
		*any = true;
		open = !close;
		part = pos;
	}
	if (open) /* no close delimiter: the last part runs to the end */
		return entity(m, p + part, n - part, depth + 1);
	if (close)
		return embedded(m, p + pos, n - pos); /* the epilogue */
	return VG_OK;
}

/* No boundary parameter: the first line that looks like a delimiter. */
static size_t guess_boundary(const uint8_t *p, size_t n, uint8_t *b)
{
	struct mail_line l;
	size_t len;

	if (!mail_find_line(p, n, 0, "\n--", &l))
		return 0;
	len = l.len;
	while (len > 2 && is_ws(l.p[len - 1]))
		len--;
	if (len <= 2 || len - 2 > VG_MIME_MAX_BOUNDARY_LEN)
		return 0;
	memcpy(b, l.p + 2, len - 2);
	return len - 2;
}

static vg_status entity(struct mime *m, const uint8_t *p, size_t n, unsigned depth)
{
	struct entity e;
	char type[64] = "";
	uint8_t bnd[VG_MIME_MAX_BOUNDARY_LEN];
	size_t blen = 0;
	enum cte cte = CTE_RAW;
	struct mail_out dec;
	bool any = false;
	vg_status rc = VG_OK;

	memset(&e, 0, sizeof(e));
	e.p = p;
	e.n = n;
	mail_out_init(&dec, m->sink->max_child);
	parse_headers(&e, depth == 0);
	if (e.cte.seen) {
		size_t vn = unfold(m, &e, &e.cte);
		cte = parse_cte(m->hdr, vn);
	}
	if (e.ctype.seen) {
		size_t vn = unfold(m, &e, &e.ctype), pos = 0;
		struct param pm;
		parse_type(m->hdr, vn, type, sizeof(type));
		while (type_is(type, "multipart/") && param_next(m->hdr, vn, &pos, &pm)) {
			if (ci_eq(pm.attr, pm.attr_len, "boundary")) {
				blen = unquote(&pm, m->scratch, sizeof(m->scratch));
				if (blen > VG_MIME_MAX_BOUNDARY_LEN)
					blen = 0; /* not a boundary any mailer writes */
				memcpy(bnd, m->scratch, blen);
				break;
			}
		}
	}
	if (type_is(type, "multipart/")) {
		const uint8_t *body = p + e.body;
		size_t len = n - e.body;

		if (depth >= VG_MIME_MAX_DEPTH) {
			/* too deep to follow: scanned as it is */
			rc = raw_child(m, p, n, NULL);
			goto out;
		}
		if ((cte == CTE_BASE64 || cte == CTE_QP) && !m->in_decoded) {
			/* Not allowed by RFC 2045, but mail clients decode it. Only
			 * one such body is kept at a time: quoted-printable need
			 * not shrink, and one copy per level would cost memory
			 * VG_MIME_MAX_DEPTH times the input. A nested one is a
			 * leaf, decoded and handed over. */
			rc = decode_into(cte, body, len, &dec);
			if (rc != VG_OK)
				goto out;
			body = dec.b.data ? dec.b.data : (const uint8_t *)"";
			len = dec.b.len;
			cte = CTE_RAW;
		}
		if (blen == 0)
			blen = guess_boundary(body, len, bnd);
		if (blen && cte != CTE_BASE64 && cte != CTE_QP) {
			bool outer = dec.b.len && !m->in_decoded;
			if (outer)
				m->in_decoded = true;
			rc = multipart(m, body, len, bnd, blen, depth, &any);
			if (outer)
				m->in_decoded = false;
			if (rc != VG_OK || any)
				goto out;
		}
		if (dec.b.len) { /* no delimiter in the decoded body: it is the leaf */
			rc = emit(m->sink, dec.b.data, dec.b.len, dec.truncated, NULL);
			if (rc == VG_OK)
				rc = embedded(m, dec.b.data, dec.b.len);
			goto out;
		}
		/* no delimiter: read as a single body */
	}
	rc = leaf(m, &e, type, cte);
out:
	mail_out_free(&dec);
	return rc;
}

/* Does the line at here (here > 0, after a '\n') follow an empty line? */
static bool after_empty_line(const uint8_t *d, size_t here)
{
	size_t i = here - 1; /* the '\n' that ends the line before */

	if (i > 0 && d[i - 1] == '\r')
		i--;
	return i == 0 || d[i - 1] == '\n';
}

vg_status unpack_mime(const struct unpack_input *in, const struct unpack_sink *sink)
{
	struct mime *m = vg_malloc(sizeof(*m));
	struct mail_line l;
	size_t pos, start = 0;
	vg_status rc = VG_OK;

	if (!m)
		return VG_ENOMEM;
	m->sink = sink;
	m->in_decoded = false;
	mail_out_init(&m->out, sink->max_child);
	name_reset(&m->name);
	if (in->len >= 5 && memcmp(in->data, "From ", 5) == 0) {
		/* mbox: a message starts at each "From " line after an empty one */
		pos = 1;
		while (mail_find_line(in->data, in->len, pos, "\nFrom ", &l)) {
			size_t here = (size_t)(l.p - in->data);
			pos = l.next;
			if (l.len > 5 && !is_ws(l.p[5]) && after_empty_line(in->data, here)) {
				rc = entity(m, in->data + start, here - start, 0);
				if (rc != VG_OK)
					goto out;
				start = here;
			}
		}
	}
	rc = entity(m, in->data + start, in->len - start, 0);
out:
	mail_out_free(&m->out);
	vg_free(m);
	return rc;
}
