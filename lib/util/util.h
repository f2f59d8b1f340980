/* util: the bounds-checked reader, a bounded growable buffer, and line and
 * field splitting for database text. Untrusted bytes are read only through
 * these. */
#ifndef VG_UTIL_H
#define VG_UTIL_H

#include "base/base.h"

/* ---- reader: a cursor that cannot run off its buffer ---- */
struct reader {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

struct reader reader_init(const void *data, size_t len);
size_t reader_left(const struct reader *r);
bool reader_skip(struct reader *r, size_t n);
bool reader_u8(struct reader *r, uint8_t *out);
bool reader_u32le(struct reader *r, uint32_t *out);
bool reader_u64le(struct reader *r, uint64_t *out);
/* Points *out at the next n bytes and advances. */
bool reader_bytes(struct reader *r, size_t n, const uint8_t **out);

/* ---- buf: a growable byte buffer with a hard size cap ---- */
struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* never grows beyond this many bytes */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* VG_ELIMIT when the cap would be exceeded, VG_ENOMEM on allocation failure. */
vg_status buf_append(struct buf *b, const void *data, size_t n);
vg_status buf_reserve(struct buf *b, size_t n);

/* ---- text: database lines and fields ---- */

/* Iterates the lines of a text buffer. A trailing "\r" is dropped; the last
 * line may lack "\n". lineno counts from 1. */
struct line_iter {
	const char *text;
	size_t len;
	size_t pos;
	uint32_t lineno;
};

void line_iter_init(struct line_iter *it, const char *text, size_t len);
/* Returns false at the end. */
bool line_iter_next(struct line_iter *it, const char **line, size_t *len);

/* One field of a line split on a separator: its text and 0-based column. */
struct field {
	const char *s;
	size_t len;
	uint32_t col;
};

/* Splits line on sep into at most max fields; returns the number of fields
 * found (which can exceed max: the extra ones are counted, not stored). */
size_t fields_split(const char *line, size_t len, char sep, struct field *out, size_t max);

bool field_eq(const struct field *f, const char *s);
/* Parses an unsigned decimal with no sign, spaces or overflow. */
bool field_u64(const struct field *f, uint64_t *out);
/* Decodes exactly len/2 bytes of hex (either case); false on odd length or a
 * bad digit, with *bad set to the index of the first bad character. */
bool hex_decode(const char *s, size_t len, uint8_t *out, size_t *bad);
int hex_digit(char c);

#endif
