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
	/* A layer read in one piece is normalised once: the measuring pass
	 * keeps its output here (text or nocomment in out2, notags in out3)
	 * when it fits, and view_begin serves it from there. */
	uint8_t out2[VIEW_OUT_CAP], out3[VIEW_OUT_CAP];
	const struct scan_input *cached_src;
	bool cached_text, cached_html;
	size_t cached_len2, cached_len3;
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

#endif
