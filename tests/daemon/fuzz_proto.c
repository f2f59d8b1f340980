/*
 * fuzz_proto.c - libFuzzer target for vigild's clamd command parser
 * (tools/vigild/proto.c), built in the fuzz preset as fuzz_vigild_proto.
 * The input is what a client sends; it is walked the way vigild's
 * connection thread walks its buffer: commands one after the other, legacy
 * framing only at the start, in a buffer of clamd's size with its spare byte.
 */
#include <stdint.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char buf[VD_CMD_BUFSIZE + 1];
	size_t len = size < VD_CMD_BUFSIZE ? size : VD_CMD_BUFSIZE, off = 0;
	struct vd_frame f;

	memcpy(buf, data, len);
	while (off < len && vd_proto_next(buf, len, off, &f)) {
		const char *arg;
		enum vd_cmd cmd = vd_proto_parse(f.text, f.oldstyle, &arg);
		(void)vd_proto_name(cmd);
		if (arg != NULL && strlen(arg) > len)
			__builtin_trap();
		off += f.cmdlen + 1;
	}
	return 0;
}
