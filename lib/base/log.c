#include <stdio.h>

#include "base/base.h"

void vg_log(const struct vg_logger *lg, enum vg_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!lg || !lg->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lg->fn(lg->ctx, level, msg);
}
