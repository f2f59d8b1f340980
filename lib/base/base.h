/* base: status codes, limits, allocation and logging shared by every module. */
#ifndef VG_BASE_H
#define VG_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil.h"
#include "base/limits.h"

typedef enum vg_status vg_status;

/* Allocation goes through these so a fault-injection build can fail them. */
void *vg_malloc(size_t n);
void *vg_calloc(size_t count, size_t size);
void *vg_realloc(void *p, size_t n);
void *vg_reallocarray(void *p, size_t count, size_t size);
void vg_free(void *p);
char *vg_strndup(const char *s, size_t n);

/* Logging sink carried by the engine; a NULL fn drops the message. */
struct vg_logger {
	vg_log_fn *fn;
	void *ctx;
};

void vg_log(const struct vg_logger *lg, enum vg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define VG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
