/* zlib inflation into a capped buffer, for decoders in lib/unpack/ whose
 * formats embed deflate data (OLE2's PowerPoint objects, PDF's FlateDecode).
 * Internal to lib/unpack/. */
#ifndef VG_UNPACK_ZINFLATE_H
#define VG_UNPACK_ZINFLATE_H

#include <zlib.h>

#include "util/util.h"

/* Inflates in[0..n) (zlib format; raw deflate when raw_fallback and the zlib
 * header is not there) and appends to out, never beyond out->max: when more
 * would come, *truncated is set and inflation stops. Corrupt or cut data
 * ends the output where it goes bad; only VG_ENOMEM is an error. */
static inline vg_status zinflate(const uint8_t *in, size_t n, bool raw_fallback, struct buf *out,
				 bool *truncated)
{
	z_stream z;
	vg_status rc = VG_OK;
	bool raw = false;
	int zr;

	*truncated = false;
	/* a zlib header: method 8 and a check that makes the pair a multiple of 31 */
	if (n >= 2 && raw_fallback &&
	    ((in[0] & 0x0f) != 8 || ((unsigned)in[0] << 8 | in[1]) % 31 != 0))
		raw = true;
	memset(&z, 0, sizeof(z));
	zr = raw ? inflateInit2(&z, -15) : inflateInit(&z);
	if (zr != Z_OK)
		return zr == Z_MEM_ERROR ? VG_ENOMEM : VG_OK;
	z.next_in = (Bytef *)(uintptr_t)in;
	for (;;) {
		size_t room, chunk;

		if (z.avail_in == 0) {
			size_t used = (size_t)(z.next_in - (const Bytef *)in);
			size_t left = n - used;
			if (left == 0)
				break;
			z.avail_in = left > UINT32_MAX ? UINT32_MAX : (uInt)left;
		}
		if (out->len >= out->max) {
			uint8_t probe;

			/* full: truncated only if inflate still has a byte to give */
			z.next_out = &probe;
			z.avail_out = 1;
			(void)inflate(&z, Z_NO_FLUSH);
			*truncated = z.avail_out == 0;
			break;
		}
		room = out->max - out->len;
		chunk = room < 65536 ? room : 65536;
		rc = buf_reserve(out, chunk);
		if (rc != VG_OK)
			break;
		z.next_out = out->data + out->len;
		z.avail_out = (uInt)chunk;
		zr = inflate(&z, Z_NO_FLUSH);
		out->len += chunk - z.avail_out;
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_MEM_ERROR) {
			rc = VG_ENOMEM;
			break;
		}
		if (zr != Z_OK)
			break; /* corrupt data, a dictionary we do not have, or no progress */
	}
	inflateEnd(&z);
	return rc;
}

#endif
