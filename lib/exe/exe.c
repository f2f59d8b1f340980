/* exe: placeholder until the PE/ELF/Mach-O parsers land (issue 6). */
#include "exe/exe.h"

#include <string.h>

vg_status exe_parse(const uint8_t *head, size_t len, uint64_t file_size, struct exe_info *out)
{
	(void)head;
	(void)len;
	(void)file_size;
	memset(out, 0, sizeof(*out));
	return VG_OK;
}
