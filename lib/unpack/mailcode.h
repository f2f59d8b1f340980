/* Text encodings of mail shared inside lib/unpack: the bounded buffer a
 * decoded child grows in, base64 (mime.c) and uuencoded blocks
 * (uuencode.c). Internal to lib/unpack; not part of unpack.h. */
#ifndef VG_UNPACK_MAILCODE_H
#define VG_UNPACK_MAILCODE_H

#include "unpack/unpack.h"

/* One line of text: its bytes without the line end (LF or CRLF). */
struct mail_line {
	const uint8_t *p;
	size_t len;
	size_t next; /* offset of the following line */
};

/* The line starting at pos (a line start); false at the end. */
bool mail_next_line(const uint8_t *text, size_t len, size_t pos, struct mail_line *l);
/* The first line at or after the line start pos that begins with
 * nl_prefix + 1; nl_prefix is that text after a "\n" ("\nbegin"), so the
 * search runs at memmem's speed rather than line by line. */
bool mail_find_line(const uint8_t *text, size_t len, size_t pos, const char *nl_prefix,
		    struct mail_line *l);

/* A child being decoded: the first max bytes are kept; anything beyond sets
 * truncated and is dropped. */
struct mail_out {
	struct buf b;
	bool truncated;
};

void mail_out_init(struct mail_out *o, size_t max);
/* Empties the buffer for the next child, keeping its memory. */
void mail_out_reset(struct mail_out *o);
void mail_out_free(struct mail_out *o);
/* VG_ENOMEM is the only error: bytes past the cap are dropped, not refused. */
vg_status mail_out_put(struct mail_out *o, const uint8_t *p, size_t n);
/* Hands the buffer to the sink as one child (nothing when it is empty). */
vg_status mail_out_emit(const struct mail_out *o, const char *name,
			const struct unpack_sink *sink);

/* base64 that may arrive in pieces: characters outside the alphabet are
 * skipped, '=' ends a quantum early (so concatenated encodings decode), and
 * a missing pad is forgiven by mail_base64_end. */
struct mail_base64 {
	uint32_t acc;
	unsigned n;
};

void mail_base64_init(struct mail_base64 *st);
vg_status mail_base64_put(struct mail_base64 *st, const uint8_t *p, size_t n, struct mail_out *o);
vg_status mail_base64_end(struct mail_base64 *st, struct mail_out *o);

/* Decodes every uuencoded block in text — "begin <mode> [name]" at a line
 * start, then length-prefixed lines up to "end" or the first line that is
 * not uuencoding — every "begin-base64" block (to "====") and every yEnc
 * block ("=ybegin" to "=yend"), handing each to the sink. A block is named name when that is not NULL, else by its
 * begin line. *found counts the blocks met (also empty ones). Returns
 * VG_OK, VG_ENOMEM or the sink's status. */
vg_status mail_uu_extract(const uint8_t *text, size_t len, const char *name,
			  const struct unpack_sink *sink, size_t *found);

#endif
