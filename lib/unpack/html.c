/* HTML and XHTML: payloads carried inline. Two kinds are decoded:
 *   - data: URIs (RFC 2397), base64 or percent-encoded, wherever they
 *     appear (attributes, CSS url(), script strings): one child each;
 *   - long base64 strings in <script> blocks (HTML smuggling: a file
 *     assembled in the browser from atob("...")), when a string literal is
 *     base64 and nothing else, at least VG_HTML_MIN_BASE64 characters.
 * The document is scanned once for each kind; each payload is decoded once,
 * to at most sink->max_child bytes. Entity-encoded URIs and strings built by
 * concatenation are not reassembled. */
#include <string.h>

#include "unpack/unpack.h"

#define MEDIA_TYPE_MAX 256u

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
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

/* Value of a base64 character (either alphabet), -1 for anything else. */
static int b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static bool match_nocase(const uint8_t *p, size_t n, size_t i, const char *word)
{
	size_t k = strlen(word);

	if (i > n || n - i < k)
		return false;
	for (size_t j = 0; j < k; j++)
		if (lower(p[i + j]) != (uint8_t)word[j])
			return false;
	return true;
}

/* The next position of word (lower case) at or after i, or n. */
static size_t find_nocase(const uint8_t *p, size_t n, size_t i, const char *word)
{
	uint8_t first = (uint8_t)word[0];

	for (; i < n; i++) {
		if (lower(p[i]) != first)
			continue;
		if (match_nocase(p, n, i, word))
			return i;
	}
	return n;
}

struct payload {
	struct buf b;
	bool truncated;
};

static vg_status put(struct payload *o, const uint8_t *p, size_t n)
{
	size_t room = o->b.max - o->b.len;

	if (n > room) {
		n = room;
		o->truncated = true;
	}
	return buf_append(&o->b, p, n);
}

/* Base64 in p[s..e): whitespace and %xx-escaped characters allowed, '='
 * or anything else ends it. */
static vg_status b64_decode(const uint8_t *p, size_t s, size_t e, struct payload *o)
{
	uint8_t tmp[3 * 1024];
	size_t t = 0;
	uint32_t acc = 0;
	unsigned k = 0;
	vg_status rc;

	for (size_t i = s; i < e && !o->truncated; i++) {
		uint8_t c = p[i];
		int v;

		if (is_space(c))
			continue;
		if (c == '%' && i + 2 < e && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
			c = (uint8_t)(hexval(p[i + 1]) << 4 | hexval(p[i + 2]));
			i += 2;
		}
		v = b64val(c);
		if (v < 0)
			break;
		acc = acc << 6 | (uint32_t)v;
		if (++k < 4)
			continue;
		tmp[t++] = (uint8_t)(acc >> 16);
		tmp[t++] = (uint8_t)(acc >> 8);
		tmp[t++] = (uint8_t)acc;
		acc = 0;
		k = 0;
		if (t == sizeof(tmp)) {
			rc = put(o, tmp, t);
			if (rc != VG_OK)
				return rc;
			t = 0;
		}
	}
	/* a final group without padding */
	if (k == 2) {
		tmp[t++] = (uint8_t)(acc >> 4);
	} else if (k == 3) {
		tmp[t++] = (uint8_t)(acc >> 10);
		tmp[t++] = (uint8_t)(acc >> 2);
	}
	return put(o, tmp, t);
}

static vg_status pct_decode(const uint8_t *p, size_t s, size_t e, struct payload *o)
{
	uint8_t tmp[4096];
	size_t t = 0;
	vg_status rc;

	for (size_t i = s; i < e && !o->truncated; i++) {
		uint8_t c = p[i];
		if (c == '%' && i + 2 < e && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
			c = (uint8_t)(hexval(p[i + 1]) << 4 | hexval(p[i + 2]));
			i += 2;
		}
		tmp[t++] = c;
		if (t == sizeof(tmp)) {
			rc = put(o, tmp, t);
			if (rc != VG_OK)
				return rc;
			t = 0;
		}
	}
	return put(o, tmp, t);
}

static vg_status give(const struct unpack_sink *sink, struct payload *o)
{
	struct unpack_child c;

	if (o->b.len == 0)
		return VG_OK;
	memset(&c, 0, sizeof(c));
	c.data = o->b.data;
	c.len = o->b.len;
	c.truncated = o->truncated;
	return sink->child(sink->ctx, &c);
}

/* The data: URI whose "data:" is at p[at], decoded into o; *end is where
 * it ends, *found false when it is not one (no comma after a media type). */
static vg_status data_uri(const uint8_t *p, size_t n, size_t at, struct payload *o, size_t *end,
			  bool *found)
{
	size_t i = at + 5, comma, e;
	uint8_t quote = at > 0 ? p[at - 1] : 0;
	bool base64;

	*found = false;
	*end = i;
	/* the media type and parameters, up to the comma */
	for (comma = i; comma < n && comma - i <= MEDIA_TYPE_MAX; comma++) {
		uint8_t c = p[comma];
		if (c == ',' || !(is_alnum(c) || (c && strchr("!#$&^_.+-/;=", c))))
			break;
	}
	if (comma >= n || p[comma] != ',')
		return VG_OK;
	base64 = comma - i >= 7 && match_nocase(p, n, comma - 7, ";base64");
	/* the URI ends at its closing quote, or at what cannot be in it */
	for (e = comma + 1; e < n; e++) {
		uint8_t c = p[e];
		if (quote == '"' || quote == '\'') {
			if (c == quote)
				break;
		} else if (quote == '(') {
			if (c == ')' || c == '"' || c == '\'')
				break;
		} else if (is_space(c) || c == '"' || c == '\'' || c == '<' || c == '>') {
			break;
		}
	}
	*end = e;
	*found = true;
	return base64 ? b64_decode(p, comma + 1, e, o) : pct_decode(p, comma + 1, e, o);
}

static vg_status data_uris(const uint8_t *p, size_t n, const struct unpack_sink *sink,
			   struct payload *o)
{
	size_t i = 0;
	vg_status rc = VG_OK;

	while ((i = find_nocase(p, n, i, "data:")) < n) {
		size_t end;
		bool found;

		if (i > 0 && (is_alnum(p[i - 1]) || p[i - 1] == '-' || p[i - 1] == '_')) {
			i += 5; /* metadata:, x-data: */
			continue;
		}
		o->b.len = 0;
		o->truncated = false;
		rc = data_uri(p, n, i, o, &end, &found);
		if (rc == VG_OK && found)
			rc = give(sink, o);
		if (rc != VG_OK)
			break;
		i = end > i + 5 ? end : i + 5;
	}
	return rc;
}

/* String literals of one script block p[s..e): quoted text with no escapes
 * that is base64 throughout. Comments are skipped so their quotes do not
 * open strings. */
static vg_status script_strings(const uint8_t *p, size_t s, size_t e,
				const struct unpack_sink *sink, struct payload *o)
{
	size_t i = s;
	vg_status rc = VG_OK;

	while (i < e) {
		uint8_t c = p[i];
		size_t j, b64 = 0;
		bool pure = true;

		if (c == '/' && i + 1 < e && p[i + 1] == '/') {
			while (i < e && p[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && i + 1 < e && p[i + 1] == '*') {
			const uint8_t *close = NULL;
			if (i + 2 < e)
				close = memmem(p + i + 2, e - i - 2, "*/", 2);
			i = close ? (size_t)(close - p) + 2 : e;
			continue;
		}
		if (c != '"' && c != '\'' && c != '`') {
			i++;
			continue;
		}
		for (j = i + 1; j < e && p[j] != c; j++) {
			if (p[j] == '\\') {
				pure = false;
				j++;
				continue;
			}
			if (c != '`' && p[j] == '\n')
				break;
			if (b64val(p[j]) >= 0)
				b64++;
			else if (p[j] != '=')
				pure = false;
		}
		if (pure && j < e && p[j] == c && b64 >= VG_HTML_MIN_BASE64) {
			o->b.len = 0;
			o->truncated = false;
			rc = b64_decode(p, i + 1, j, o);
			if (rc == VG_OK)
				rc = give(sink, o);
			if (rc != VG_OK)
				break;
		}
		i = j < e ? j + 1 : e;
	}
	return rc;
}

static vg_status scripts(const uint8_t *p, size_t n, const struct unpack_sink *sink,
			 struct payload *o)
{
	size_t i = 0;
	vg_status rc = VG_OK;

	while ((i = find_nocase(p, n, i, "<script")) < n) {
		size_t body = i + 7, end;

		if (body < n && is_alnum(p[body])) {
			i = body;
			continue;
		}
		while (body < n && p[body] != '>')
			body++;
		if (body < n)
			body++;
		end = find_nocase(p, n, body, "</script");
		rc = script_strings(p, body, end, sink, o);
		if (rc != VG_OK)
			break;
		i = end;
	}
	return rc;
}

vg_status unpack_html(const struct unpack_input *in, const struct unpack_sink *sink)
{
	struct payload o;
	vg_status rc;

	if (!in->data || in->len == 0)
		return VG_OK;
	buf_init(&o.b, sink->max_child);
	o.truncated = false;
	rc = data_uris(in->data, in->len, sink, &o);
	if (rc == VG_OK)
		rc = scripts(in->data, in->len, sink, &o);
	buf_free(&o.b);
	return rc;
}
