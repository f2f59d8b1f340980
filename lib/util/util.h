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

/* ---- image: a flat, position-independent file of aligned sections ----
 *
 * Compiled databases are written as one image so the same bytes serve a
 * freshly compiled engine (in memory) and a cached one (mapped from disk).
 * Layout: a 64-byte header, a section table, then the sections, each
 * aligned to 64 bytes. An XXH3-64 checksum over everything after the
 * header detects damage. */

#define IMAGE_MAGIC "VIGILIMG"
/* Bump whenever the layout of any section changes: old caches are then
 * refused and rebuilt. */
#define IMAGE_FORMAT 12u
#define IMAGE_KEY_LEN 32u

#define IMAGE_MAX_SECTIONS 128u

/* The image is built in one buffer whose front is kept free for the header
 * and the section table, so finishing it copies nothing. */
struct image_writer {
	struct buf data;    /* header and table room, then the sections */
	uint32_t nsections;
	uint32_t ids[IMAGE_MAX_SECTIONS];
	uint64_t offs[IMAGE_MAX_SECTIONS];
	uint64_t lens[IMAGE_MAX_SECTIONS];
};

void image_writer_init(struct image_writer *w);
void image_writer_free(struct image_writer *w);
/* Appends a section; data may be NULL when len is 0. */
vg_status image_add(struct image_writer *w, uint32_t id, const void *data, size_t len);
/* Reserves a section of len zeroed bytes and returns where to fill it in;
 * the pointer is valid until the next image_add/image_reserve. */
vg_status image_reserve(struct image_writer *w, uint32_t id, size_t len, void **out);
/* The finished image (header + table + data) in one vg_malloc'd block; the
 * writer is empty afterwards. */
vg_status image_finish(struct image_writer *w, const uint8_t key[IMAGE_KEY_LEN], uint8_t **out,
		       size_t *len);

struct image {
	const uint8_t *base;
	size_t len;
	uint8_t key[IMAGE_KEY_LEN];
	uint32_t nsections;
	const uint8_t *table;
};

/* Checks magic, format, bounds and (when check_crc) the CRC. VG_EFORMAT on
 * any mismatch: the caller then rebuilds. mapped: bytes are a read-only
 * file mapping, whose pages the checksum pass releases as it goes so that
 * checking a large image does not count against the process's memory. */
vg_status image_open(struct image *img, const uint8_t *bytes, size_t len, bool check_crc,
		     bool mapped);
/* Finds a section whose length is a multiple of elem (elem 0: any). */
bool image_section(const struct image *img, uint32_t id, size_t elem, const void **data,
		   size_t *len);

#endif
