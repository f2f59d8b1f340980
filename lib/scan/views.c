/* Producing the normalised views of a layer (see views.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "filetype/filetype.h"
#include "scan/views.h"

/* The next piece of the layer into v->in (whole UTF-16 pairs). */
static vg_status read_src(struct view *v)
{
	const struct scan_input *src = v->src;
	uint64_t left = v->src_size - v->src_pos;
	size_t want = left < VIEW_IN_CHUNK ? (size_t)left : VIEW_IN_CHUNK, got = 0;

	while (got < want) {
		if (src->fd >= 0) {
			ssize_t n = pread(src->fd, v->in + got, want - got,
					  (off_t)(src->offset + v->src_pos + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return VG_EIO;
			if (n == 0)
				break; /* the file shrank: the view ends here */
			got += (size_t)n;
		} else {
			memcpy(v->in, src->mem + v->src_pos, want);
			got = want;
		}
	}
	v->src_pos += got;
	if (got < want || v->src_pos >= v->src_size)
		v->src_eof = true;
	if (v->utf16) {
		/* ClamAV: each pair becomes (second << 4) + first, an odd last
		 * byte is dropped */
		size_t n = got / 2;
		for (size_t i = 0; i < n; i++)
			v->in[i] = (uint8_t)((v->in[2 * i + 1] << 4) + v->in[2 * i]);
		got = n;
	}
	v->in_len = got;
	v->in_off = 0;
	return VG_OK;
}

static void start(struct view *v, const struct scan_input *src, uint64_t size, bool utf16)
{
	v->src = src;
	v->src_size = size;
	v->src_pos = 0;
	v->utf16 = utf16;
	v->src_eof = size == 0;
	v->finished = false;
	v->in_len = v->in_off = v->out_len = v->out_off = 0;
	textnorm_init(&v->tn);
	htmlnorm_init(&v->hn);
}

/* Room for at least need more bytes in keep[i], growing it up to
 * VIEW_KEEP_MAX; false when that is not possible. */
static bool keep_room(struct view *v, int i, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (v->keep_cap[i] - v->keep_len[i] >= need)
		return true;
	cap = v->keep_cap[i] ? v->keep_cap[i] : VIEW_OUT_CAP;
	while (cap - v->keep_len[i] < need)
		cap *= 2;
	if (cap > VIEW_KEEP_MAX)
		return false;
	p = vg_realloc(v->keep[i], cap);
	if (!p)
		return false; /* not kept: the view is produced again instead */
	v->keep[i] = p;
	v->keep_cap[i] = cap;
	return true;
}

vg_status view_measure(struct view *v, const struct scan_input *src, uint64_t size, bool utf16,
		       bool text, bool html, struct view_sizes *out)
{
	struct html_tag_scan hs;
	struct htmlnorm_out ho;
	bool keeping = true;
	vg_status rc;

	memset(out, 0, sizeof(*out));
	memset(&ho, 0, sizeof(ho));
	v->kept_src = src;
	v->keep_len[0] = v->keep_len[1] = 0;
	start(v, src, size, utf16);
	filetype_html_scan_init(&hs);
	while (!v->src_eof) {
		rc = read_src(v);
		if (rc != VG_OK)
			return rc;
		if (text) {
			size_t n;
			/* text never grows: the input length is room enough */
			keeping = keeping && keep_room(v, 0, v->in_len);
			n = textnorm_run(&v->tn, v->in, v->in_len,
					 keeping ? v->keep[0] + v->keep_len[0] : v->out);
			if (keeping)
				v->keep_len[0] += n;
			out->text += n;
			if (!out->html_tag)
				out->html_tag = filetype_html_scan(&hs, v->in, v->in_len);
		}
		if (html) {
			size_t off = 0;
			while (off < v->in_len) {
				keeping = keeping && keep_room(v, 0, 2 * HTMLNORM_MAX_STEP) &&
					  keep_room(v, 1, 2 * HTMLNORM_MAX_STEP);
				ho.nocomment = keeping ? v->keep[0] + v->keep_len[0] : NULL;
				ho.notags = keeping ? v->keep[1] + v->keep_len[1] : NULL;
				if (keeping) {
					size_t r0 = v->keep_cap[0] - v->keep_len[0];
					size_t r1 = v->keep_cap[1] - v->keep_len[1];
					ho.cap = r0 < r1 ? r0 : r1;
				} else {
					ho.cap = SIZE_MAX;
				}
				ho.nocomment_len = ho.notags_len = 0;
				off += htmlnorm_run(&v->hn, v->in + off, v->in_len - off, &ho);
				if (keeping) {
					v->keep_len[0] += ho.nocomment_len;
					v->keep_len[1] += ho.notags_len;
				}
			}
		}
	}
	if (html) {
		keeping = keeping && keep_room(v, 0, HTMLNORM_MAX_STEP);
		ho.nocomment = keeping ? v->keep[0] + v->keep_len[0] : NULL;
		ho.notags = NULL;
		ho.cap = keeping ? v->keep_cap[0] - v->keep_len[0] : SIZE_MAX;
		ho.nocomment_len = ho.notags_len = 0;
		htmlnorm_finish(&v->hn, &ho);
		if (keeping)
			v->keep_len[0] += ho.nocomment_len;
		out->nocomment = ho.nocomment_total;
		out->notags = ho.notags_total;
	}
	v->kept_text = text && keeping;
	v->kept_html = html && keeping;
	return VG_OK;
}

void view_begin(struct view *v, enum view_kind k, const struct scan_input *src, uint64_t size,
		bool utf16)
{
	v->kind = k;
	start(v, src, size, utf16);
	v->serve = NULL;
	if (src == v->kept_src && ((k == VIEW_TEXT && v->kept_text) || (k != VIEW_TEXT && v->kept_html))) {
		int i = k == VIEW_HTML_NOTAGS ? 1 : 0;
		v->serve = v->keep[i];
		v->serve_len = v->keep_len[i];
		v->src_eof = v->finished = true;
	}
}

void view_free(struct view *v)
{
	if (!v)
		return;
	vg_free(v->keep[0]);
	vg_free(v->keep[1]);
}

/* Produces the next piece of output into v->out. */
static vg_status produce(struct view *v)
{
	vg_status rc;

	v->out_len = v->out_off = 0;
	while (v->out_len == 0 && !v->finished) {
		if (v->in_off == v->in_len) {
			if (v->src_eof) {
				if (v->kind != VIEW_TEXT) {
					struct htmlnorm_out o = {0};
					o.nocomment = v->kind == VIEW_HTML_NOCOMMENT ? v->out : NULL;
					o.notags = v->kind == VIEW_HTML_NOTAGS ? v->out : NULL;
					o.cap = VIEW_OUT_CAP;
					htmlnorm_finish(&v->hn, &o);
					v->out_len = v->kind == VIEW_HTML_NOCOMMENT ? o.nocomment_len : 0;
				}
				v->finished = true;
				break;
			}
			rc = read_src(v);
			if (rc != VG_OK)
				return rc;
			continue;
		}
		if (v->kind == VIEW_TEXT) {
			v->out_len = textnorm_run(&v->tn, v->in, v->in_len, v->out);
			v->in_off = v->in_len;
		} else {
			struct htmlnorm_out o = {0};
			o.nocomment = v->kind == VIEW_HTML_NOCOMMENT ? v->out : NULL;
			o.notags = v->kind == VIEW_HTML_NOTAGS ? v->out : NULL;
			o.cap = VIEW_OUT_CAP;
			v->in_off += htmlnorm_run(&v->hn, v->in + v->in_off, v->in_len - v->in_off, &o);
			v->out_len = v->kind == VIEW_HTML_NOCOMMENT ? o.nocomment_len : o.notags_len;
		}
	}
	return VG_OK;
}

vg_status view_pull(struct view *v, uint8_t *dst, size_t want, size_t *got)
{
	*got = 0;
	if (v->serve) {
		size_t n = v->serve_len - v->out_off < want ? v->serve_len - v->out_off : want;
		if (n)
			memcpy(dst, v->serve + v->out_off, n);
		v->out_off += n;
		*got = n;
		return VG_OK;
	}
	while (*got < want) {
		size_t n;
		if (v->out_off == v->out_len) {
			vg_status rc;
			if (v->finished)
				break;
			rc = produce(v);
			if (rc != VG_OK)
				return rc;
			continue;
		}
		n = v->out_len - v->out_off;
		if (n > want - *got)
			n = want - *got;
		memcpy(dst + *got, v->out + v->out_off, n);
		v->out_off += n;
		*got += n;
	}
	return VG_OK;
}
