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

#endif
