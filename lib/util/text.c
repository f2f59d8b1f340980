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

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool hex_decode(const char *s, size_t len, uint8_t *out, size_t *bad)
{
	for (size_t i = 0; i < len; i++) {
		if (hex_digit(s[i]) < 0) {
			*bad = i;
			return false;
		}
	}
	if (len % 2) {
		*bad = len;
		return false;
	}
	for (size_t i = 0; i < len; i += 2)
		out[i / 2] = (uint8_t)(hex_digit(s[i]) << 4 | hex_digit(s[i + 1]));
	return true;
}
