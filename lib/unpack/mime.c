/* Placeholder until the mime decoder lands: finds nothing inside. */
#include "unpack/unpack.h"

vg_status unpack_mime(const struct unpack_input *in, const struct unpack_sink *sink)
{
	(void)in;
	(void)sink;
	return VG_OK;
}
