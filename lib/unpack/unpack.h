/*
 * unpack: containers, compressions and encodings, one file per format.
 *
 * An unpacker reads one layer (bytes in memory) and hands each thing it
 * finds inside to the sink: the scan driver scans every child as a layer of
 * its own (typing, matching, and unpacking again, to the recursion limit).
 *
 * Every unpacker:
 *   - reads its input only through struct reader (util.h) or with explicit
 *     bounds checks; hostile input is the normal case;
 *   - never allocates more than the sink's budget allows: a child's data is
 *     capped at sink->max_child bytes (the rest is counted, not kept, and the
 *     child is handed over with truncated = true), and the unpacker stops
 *     when sink->child() returns anything but VG_OK;
 *   - treats malformed input as the end of what it can extract, not as an
 *     error: it returns VG_OK after handing over what it found (VG_ENOMEM
 *     and VG_ELIMIT are the only errors that travel up);
 *   - writes no files, opens nothing, and keeps no state between calls.
 */
#ifndef VG_UNPACK_H
#define VG_UNPACK_H

#include "base/base.h"
#include "util/util.h"

struct unpack_child {
	const char *name;      /* name inside the container, or NULL when it has none */
	const uint8_t *data;
	size_t len;
	bool truncated;        /* larger than max_child: only the first len bytes */
	bool encrypted;        /* the container says the entry is encrypted (data unusable) */
};

struct unpack_sink {
	/* Called once per child, in container order; data is valid only during
	 * the call. Return VG_OK to go on; anything else stops the unpacker,
	 * which returns that status. */
	vg_status (*child)(void *ctx, const struct unpack_child *c);
	void *ctx;
	size_t max_child;      /* most bytes of one child to produce */
};

struct unpack_input {
	const uint8_t *data;
	size_t len;
};

/* Decoders of vigil's own, one per file (lib/unpack/<format>.c). */
vg_status unpack_mime(const struct unpack_input *in, const struct unpack_sink *sink);   /* mail, mbox, MIME */
vg_status unpack_binhex(const struct unpack_input *in, const struct unpack_sink *sink);
vg_status unpack_tnef(const struct unpack_input *in, const struct unpack_sink *sink);
vg_status unpack_uuencode(const struct unpack_input *in, const struct unpack_sink *sink);
vg_status unpack_szdd(const struct unpack_input *in, const struct unpack_sink *sink);
vg_status unpack_ole2(const struct unpack_input *in, const struct unpack_sink *sink);
vg_status unpack_chm(const struct unpack_input *in, const struct unpack_sink *sink);
vg_status unpack_arj(const struct unpack_input *in, const struct unpack_sink *sink);
vg_status unpack_pdf(const struct unpack_input *in, const struct unpack_sink *sink);
vg_status unpack_rtf(const struct unpack_input *in, const struct unpack_sink *sink);
vg_status unpack_html(const struct unpack_input *in, const struct unpack_sink *sink);  /* data: URIs, base64 blobs */
/* ZIP entries libarchive cannot decode (methods 9 Deflate64 and 6 implode):
 * the zip reader of vigil's own for those (it also reads stored/deflate). */
vg_status unpack_zip(const struct unpack_input *in, const struct unpack_sink *sink);
/* Everything libarchive reads: zip, 7z, rar, tar, cpio, cab, iso9660, xar,
 * lha, ar, and gzip/bzip2/xz/lzma/zstd streams. */
vg_status unpack_libarchive(const struct unpack_input *in, const struct unpack_sink *sink);

/*
 * Normalisers: the views of a text or HTML layer that ClamAV matches its
 * target 7 and target 3 signatures (and target 0 again) against. Each is a
 * stream transform: a small state, input fed in pieces of any size, output
 * written to buffers the caller owns. No allocation, bounded state.
 */

/* Text (ClamAV's textnorm): upper case to lower case, every run of white
 * space (HT LF VT FF CR SP) to one space, other control bytes and all
 * bytes from 0x80 up dropped (so UTF-16 text of ASCII becomes ASCII). The
 * output is never longer than the input. */
struct textnorm {
	bool space; /* the last byte written was a collapsed space */
};
void textnorm_init(struct textnorm *t);
/* Normalises in[0..len) into out, which must hold len bytes; returns the
 * number of bytes written. */
size_t textnorm_run(struct textnorm *t, const uint8_t *in, size_t len, uint8_t *out);

/* HTML (ClamAV's htmlnorm), two outputs at once:
 *   "nocomment": tags and text in lower case, comments dropped, white space
 *       collapsed, character and entity references decoded, tag arguments
 *       re-quoted with '"'; script bodies kept, their white space dropped;
 *   "notags": the text only, in lower case, one space where a tag, a run of
 *       white space or a reference was, plus the href of <a> and the src of
 *       <img> tags.
 * NUL bytes are skipped (so UTF-16 HTML of ASCII reads as ASCII), CR bytes
 * are dropped and LF reads as a space, as in ClamAV. */
#define HTMLNORM_ARG_MAX 1024 /* ClamAV's HTML_STR_LENGTH */
/* Most bytes one input byte can add to either output. */
#define HTMLNORM_MAX_STEP (HTMLNORM_ARG_MAX + 16)

struct htmlnorm {
	int state, next_state;
	bool started;          /* a non-space byte was seen (leading space is skipped) */
	bool in_script;
	bool text_space;       /* notags: a space was written last */
	bool binary;           /* inside a data: URI value */
	int quoted;
	uint32_t mbchar;       /* pending bytes >= 0x80 (up to three) */
	uint32_t mbchar2;      /* the same inside a tag argument value */
	uint64_t value;        /* numeric reference being read */
	bool hex;
	unsigned esc_len;      /* %xx inside data: URIs */
	bool held;             /* nocomment: the last byte, not yet written */
	uint8_t held_byte;
	size_t tag_len, arg_len, val_len, ent_len;
	char tag[HTMLNORM_ARG_MAX + 1];
	char arg[HTMLNORM_ARG_MAX + 1];
	char val[HTMLNORM_ARG_MAX + 1];
	char ent[HTMLNORM_ARG_MAX + 1];
	/* the arguments of the tag being read that the normaliser acts on */
	char href[HTMLNORM_ARG_MAX + 1], src[HTMLNORM_ARG_MAX + 1];
	bool has_href, has_src;
};

/* Where one call writes. Either buffer may be NULL (that output is only
 * counted). On return *len is what is in it; cap must exceed
 * HTMLNORM_MAX_STEP. */
struct htmlnorm_out {
	uint8_t *nocomment, *notags;
	size_t nocomment_len, notags_len;
	size_t cap;
	uint64_t nocomment_total, notags_total; /* counters, across calls */
};

void htmlnorm_init(struct htmlnorm *h);
/* Consumes input until it ends or an output has less than
 * HTMLNORM_MAX_STEP bytes of room; returns the bytes consumed. */
size_t htmlnorm_run(struct htmlnorm *h, const uint8_t *in, size_t len, struct htmlnorm_out *out);
/* At the end of the input: flushes what is pending (an unfinished
 * reference or multi-byte character). Needs HTMLNORM_MAX_STEP of room. */
void htmlnorm_finish(struct htmlnorm *h, struct htmlnorm_out *out);

#endif
