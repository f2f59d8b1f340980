/* Everything libarchive reads, from memory: every format and filter it
 * supports, raw compressed streams included ("raw" format), one child per
 * entry. Entries libarchive cannot decode (encrypted, unsupported methods)
 * are handed over empty with the flag that explains why, and the walk goes
 * on. */
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "unpack/unpack.h"

static struct archive *open_reader(const struct unpack_input *in, bool raw)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	archive_read_support_filter_all(a);
	if (raw) {
		archive_read_support_format_raw(a);
	} else {
		archive_read_support_format_all(a);
		archive_read_support_format_empty(a);
	}
	if (archive_read_open_memory(a, in->data, in->len) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Reads the current entry's data into b (at most b->max bytes; the rest is
 * drained so the next header can be read). */
static vg_status read_entry(struct archive *a, struct buf *b, bool *truncated, bool *failed)
{
	uint8_t tmp[65536];

	*truncated = false;
	*failed = false;
	for (;;) {
		la_ssize_t n = archive_read_data(a, tmp, sizeof(tmp));
		if (n == 0)
			return VG_OK;
		if (n < 0) {
			*failed = true; /* corrupt, encrypted or unsupported: keep what we have */
			return VG_OK;
		}
		if (!*truncated) {
			vg_status rc = buf_append(b, tmp, (size_t)n);
			if (rc == VG_ELIMIT) {
				size_t room = b->max - b->len;
				(void)buf_append(b, tmp, room < (size_t)n ? room : (size_t)n);
				*truncated = true;
			} else if (rc != VG_OK) {
				return rc;
			}
		}
	}
}

vg_status unpack_libarchive(const struct unpack_input *in, const struct unpack_sink *sink)
{
	struct archive *a;
	struct archive_entry *e;
	struct buf b;
	vg_status rc = VG_OK;
	bool raw = false;
	int r;

	a = open_reader(in, false);
	r = a ? archive_read_next_header(a, &e) : ARCHIVE_FATAL;
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
		/* not an archive: maybe a bare compressed stream */
		if (a)
			archive_read_free(a);
		a = open_reader(in, true);
		if (!a)
			return VG_OK;
		raw = true;
		r = archive_read_next_header(a, &e);
		if ((r != ARCHIVE_OK && r != ARCHIVE_WARN) ||
		    archive_filter_count(a) <= 1 /* only "none": nothing to decompress */) {
			archive_read_free(a);
			return VG_OK;
		}
	}
	buf_init(&b, sink->max_child);
	while (r == ARCHIVE_OK || r == ARCHIVE_WARN) {
		struct unpack_child c;
		bool truncated, failed;

		if (archive_entry_filetype(e) == AE_IFREG || raw) {
			b.len = 0;
			memset(&c, 0, sizeof(c));
			c.name = raw ? NULL : archive_entry_pathname(e);
			c.encrypted = archive_entry_is_encrypted(e) != 0;
			rc = read_entry(a, &b, &truncated, &failed);
			if (rc != VG_OK)
				break;
			c.data = b.data ? b.data : (const uint8_t *)"";
			c.len = b.len;
			c.truncated = truncated;
			/* An entry libarchive cannot decode (zip's implode and
			 * Deflate64) yields nothing here; unpack_zip hands it over. */
			if (!(failed && b.len == 0 && !c.encrypted)) {
				rc = sink->child(sink->ctx, &c);
				if (rc != VG_OK)
					break;
			}
		}
		r = archive_read_next_header(a, &e);
	}
	buf_free(&b);
	archive_read_free(a);
	return rc;
}
