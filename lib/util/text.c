#include <string.h>

#include "util/util.h"

void line_iter_init(struct line_iter *it, const char *text, size_t len)
{
	it->text = text;
	it->len = len;
	it->pos = 0;
	it->lineno = 0;
}

bool line_iter_next(struct line_iter *it, const char **line, size_t *len)
{
	const char *start, *nl;
	size_t n;

	if (it->pos >= it->len)
		return false;
	start = it->text + it->pos;
	nl = memchr(start, '\n', it->len - it->pos);
	n = nl ? (size_t)(nl - start) : it->len - it->pos;
	it->pos += n + (nl ? 1 : 0);
	if (n && start[n - 1] == '\r')
		n--;
	it->lineno++;
	*line = start;
	*len = n;
	return true;
}

size_t fields_split(const char *line, size_t len, char sep, struct field *out, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != sep)
			continue;
		if (n < max) {
			out[n].s = line + start;
			out[n].len = i - start;
			out[n].col = (uint32_t)start;
		}
		n++;
		start = i + 1;
	}
	return n;
}

bool field_eq(const struct field *f, const char *s)
{
	size_t n = strlen(s);
	return f->len == n && memcmp(f->s, s, n) == 0;
}

bool field_u64(const struct field *f, uint64_t *out)
{
	uint64_t v = 0;

	if (f->len == 0 || f->len > 20)
		return false;
	for (size_t i = 0; i < f->len; i++) {
		unsigned d = (unsigned)(f->s[i] - '0');
		if (d > 9)
			return false;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
			return false;
	}
	*out = v;
	return true;
}

/* 0..15 for a hex digit, 0xff otherwise: hash databases are millions of
 * lines of hex, so this is on the load path. */
static const uint8_t hex_value[256] = {
	['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4, ['5'] = 5, ['6'] = 6, ['7'] = 7,
	['8'] = 8, ['9'] = 9, ['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14,
	['f'] = 15, ['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15,
};
static const uint8_t hex_ok[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

int hex_digit(char c)
{
	uint8_t u = (uint8_t)c;
	return hex_ok[u] ? hex_value[u] : -1;
}

bool hex_decode(const char *s, size_t len, uint8_t *out, size_t *bad)
{
	uint8_t ok = 1;

	for (size_t i = 0; i < len; i++)
		ok &= hex_ok[(uint8_t)s[i]];
	if (!ok) {
		for (size_t i = 0; i < len; i++)
			if (!hex_ok[(uint8_t)s[i]]) {
				*bad = i;
				return false;
			}
	}
	if (len % 2) {
		*bad = len;
		return false;
	}
	for (size_t i = 0; i < len; i += 2)
		out[i / 2] = (uint8_t)(hex_value[(uint8_t)s[i]] << 4 | hex_value[(uint8_t)s[i + 1]]);
	return true;
}
