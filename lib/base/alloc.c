/* Allocation wrappers: one place for overflow checks and, later, fault injection. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void *vg_malloc(size_t n)
{
	return malloc(n ? n : 1);
}

void *vg_calloc(size_t count, size_t size)
{
	return calloc(count ? count : 1, size ? size : 1);
}

void *vg_realloc(void *p, size_t n)
{
	return realloc(p, n ? n : 1);
}

void *vg_reallocarray(void *p, size_t count, size_t size)
{
	size_t n;

	if (__builtin_mul_overflow(count, size, &n))
		return NULL;
	return vg_realloc(p, n);
}

void vg_free(void *p)
{
	free(p);
}

char *vg_strndup(const char *s, size_t n)
{
	char *d = vg_malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}
