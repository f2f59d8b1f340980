/* OLE1 "Package" native data: how Windows' Packager wraps an embedded file.
 * Shared by the OLE2 decoder (the \001Ole10Native stream) and the RTF
 * decoder (\objdata of class "Package"). Internal to lib/unpack/.
 *
 * Layout (all little-endian, after any outer size field):
 *   u16 type (2), label (NUL-terminated), source path (NUL-terminated),
 *   u16 reserved, u16 kind (3: embedded file), u32 n, temporary path (n bytes),
 *   u32 size, size bytes of the file; Unicode copies of the names may follow.
 */
#ifndef VG_UNPACK_OLEPKG_H
#define VG_UNPACK_OLEPKG_H

#include <string.h>

#include "util/util.h"

#define OLEPKG_NAME_MAX 256u

struct olepkg {
	char name[OLEPKG_NAME_MAX]; /* the label, else the base name of the source path */
	const uint8_t *data;
	size_t len;                 /* what the data holds, even when size says more */
	uint32_t size;              /* what the header says */
};

/* Reads a NUL-terminated string; false when there is no NUL. */
static inline bool olepkg_cstr(struct reader *r, const uint8_t **s, size_t *n)
{
	const uint8_t *start, *nul, *skip;

	if (reader_left(r) == 0)
		return false;
	start = r->p + r->pos;
	nul = memchr(start, 0, reader_left(r));
	if (!nul)
		return false;
	*s = start;
	*n = (size_t)(nul - start);
	return reader_bytes(r, *n + 1, &skip);
}

/* Names are for people: keep printable ASCII and UTF-8 bytes, cut at the cap. */
static inline void olepkg_copy_name(char *dst, const uint8_t *s, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < OLEPKG_NAME_MAX; i++)
		if (s[i] >= 0x20 && s[i] != 0x7f)
			dst[j++] = (char)s[i];
	dst[j] = '\0';
}

/* False when p does not look like Package data; then nothing is set. */
static inline bool olepkg_parse(const uint8_t *p, size_t n, struct olepkg *out)
{
	struct reader r = reader_init(p, n);
	const uint8_t *b, *label, *path;
	size_t label_len, path_len;
	uint32_t tmp_len, size;
	uint16_t type;

	if (!reader_bytes(&r, 2, &b))
		return false;
	type = (uint16_t)(b[0] | b[1] << 8);
	if (type != 1 && type != 2)
		return false;
	if (!olepkg_cstr(&r, &label, &label_len) || !olepkg_cstr(&r, &path, &path_len))
		return false;
	if (!reader_skip(&r, 4) || !reader_u32le(&r, &tmp_len) || !reader_skip(&r, tmp_len) ||
	    !reader_u32le(&r, &size))
		return false;
	if (label_len) {
		olepkg_copy_name(out->name, label, label_len);
	} else {
		size_t base = path_len;
		while (base > 0 && path[base - 1] != '\\' && path[base - 1] != '/')
			base--;
		olepkg_copy_name(out->name, path + base, path_len - base);
	}
	out->size = size;
	out->len = size < reader_left(&r) ? size : reader_left(&r);
	out->data = r.p + r.pos;
	return true;
}

#endif
