/* The normalised views of a layer (internal to the scan module): the bytes
 * clamscan matches target 7 (normalised text) and target 3 (normalised HTML)
 * signatures against, and target 0 ones once more. A view is produced on
 * demand from the layer's bytes, piece by piece, in bounded memory: one
 * measuring pass gives its length (offsets like EOF-n need it), a second
 * pass feeds the matcher. */
#ifndef VG_SCAN_VIEWS_H
#define VG_SCAN_VIEWS_H

#include "scan/scan.h"
#include "unpack/unpack.h"

enum view_kind { VIEW_TEXT, VIEW_HTML_NOCOMMENT, VIEW_HTML_NOTAGS };

#define VIEW_IN_CHUNK (64u * 1024)  /* even: UTF-16 pairs never straddle it */
#define VIEW_OUT_CAP (64u * 1024)
#define VIEW_KEEP_MAX (4u * 1024 * 1024) /* per view kept from measuring */

struct view {
	enum view_kind kind;
	const struct scan_input *src;
	uint64_t src_size, src_pos;
	bool utf16;          /* first through ClamAV's cli_utf16toascii */
	bool src_eof, finished;
	struct textnorm tn;
	struct htmlnorm hn;
	uint8_t in[VIEW_IN_CHUNK];
	size_t in_len, in_off;
	uint8_t out[VIEW_OUT_CAP];
	size_t out_len, out_off;
	/* The measuring pass keeps what it produces (text or nocomment in
	 * keep[0], notags in keep[1]) while that stays under VIEW_KEEP_MAX;
	 * view_begin then serves the view from there instead of normalising
	 * the layer again. */
	uint8_t *keep[2];
	size_t keep_cap[2], keep_len[2];
	const struct scan_input *kept_src;
	bool kept_text, kept_html;
	const uint8_t *serve;    /* the kept bytes this view is served from */
	size_t serve_len;
};

struct view_sizes {
	uint64_t text, nocomment, notags;
	bool html_tag;       /* one of ClamAV's HTML patterns occurs somewhere */
};

/* One pass over the layer (size bytes of src): the length of the text view
 * when text is set, of the two HTML views when html is set, and whether an
 * HTML pattern occurs. */
vg_status view_measure(struct view *v, const struct scan_input *src, uint64_t size, bool utf16,
		       bool text, bool html, struct view_sizes *out);
void view_begin(struct view *v, enum view_kind k, const struct scan_input *src, uint64_t size,
		bool utf16);
/* Up to want bytes of the view into dst; *got is 0 only at its end. */
vg_status view_pull(struct view *v, uint8_t *dst, size_t want, size_t *got);
/* A view set up with all-zero bytes; view_free releases what it kept. */
void view_free(struct view *v);

#endif
