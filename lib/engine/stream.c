/* Streams: data that arrives in pieces is gathered (bounded by
 * max_scansize) and scanned at the end, when its size is known. */
#include <string.h>

#include "engine/engine.h"
#include "util/util.h"

struct vg_scan_stream {
	const struct vg_engine *engine;
	struct vg_scan_options opts;
	struct buf data;
	uint64_t total;   /* bytes written, including those beyond the cap */
	bool over;
};

VG_API enum vg_status vg_scan_stream_new(const struct vg_engine *e,
					 const struct vg_scan_options *opts,
					 struct vg_scan_stream **out)
{
	struct vg_scan_stream *s;
	size_t cap;

	if (!e || !out || (opts && opts->size != sizeof(*opts)))
		return VG_EINVAL;
	*out = NULL;
	if (e->state != ENGINE_COMPILED)
		return VG_ESTATE;
	s = vg_calloc(1, sizeof(*s));
	if (!s)
		return VG_ENOMEM;
	s->engine = vg_engine_ref((struct vg_engine *)e);
	if (opts)
		s->opts = *opts;
	else
		vg_scan_options_init(e, &s->opts);
	cap = s->opts.limits.max_scansize && s->opts.limits.max_scansize < SIZE_MAX
		      ? (size_t)s->opts.limits.max_scansize
		      : SIZE_MAX;
	buf_init(&s->data, cap);
	*out = s;
	return VG_OK;
}

VG_API enum vg_status vg_scan_stream_write(struct vg_scan_stream *s, const void *data, size_t len)
{
	size_t room;
	vg_status rc;

	if (!s || (!data && len))
		return VG_EINVAL;
	s->total += len;
	if (s->over)
		return VG_OK;
	room = s->data.max - s->data.len;
	if (len > room) {
		s->over = true;
		len = room;
	}
	rc = buf_append(&s->data, data, len);
	return rc == VG_ELIMIT ? VG_OK : rc;
}

VG_API enum vg_status vg_scan_stream_finish(struct vg_scan_stream *s, vg_match_fn *on_match,
					    void *ctx, struct vg_scan_summary *out)
{
	struct vg_scan_options opts;
	vg_status rc;

	if (!s || !out)
		return VG_EINVAL;
	opts = s->opts;
	/* what was kept is within the scan size; do not refuse it as a whole */
	if (s->over)
		opts.limits.max_scansize = 0;
	rc = engine_scan_mem(s->engine, s->data.data, s->data.len, s->total, &opts, on_match, ctx, out);
	if (rc == VG_OK && s->over && out->limit == VG_LIMIT_NONE)
		out->limit = VG_LIMIT_SCANSIZE;
	return rc;
}

VG_API void vg_scan_stream_free(struct vg_scan_stream *s)
{
	if (!s)
		return;
	buf_free(&s->data);
	vg_engine_unref((struct vg_engine *)s->engine);
	vg_free(s);
}
