/* The compiled-database image: see util.h. */
#include <string.h>
#include <sys/mman.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "util/util.h"

#define HEADER_LEN 64u
#define ALIGN 64u

/* header: magic[8] format u32 nsections u32 key[32] payload_len u64 checksum u64
 * (XXH3-64 of the payload) */
struct entry {
	uint32_t id;
	uint32_t pad;
	uint64_t off; /* from the image start */
	uint64_t len;
};

/* Where the first section may start: after the header and the largest table. */
#define DATA_START (((HEADER_LEN + IMAGE_MAX_SECTIONS * sizeof(struct entry)) + ALIGN - 1) / ALIGN * ALIGN)

void image_writer_init(struct image_writer *w)
{
	buf_init(&w->data, SIZE_MAX);
	w->nsections = 0;
}

void image_writer_free(struct image_writer *w)
{
	buf_free(&w->data);
}

vg_status image_reserve(struct image_writer *w, uint32_t id, size_t len, void **out)
{
	size_t start = w->data.len < DATA_START ? DATA_START : w->data.len;
	size_t pad = (ALIGN - start % ALIGN) % ALIGN;
	size_t grow = start - w->data.len + pad;
	vg_status rc;

	if (w->nsections >= IMAGE_MAX_SECTIONS)
		return VG_ELIMIT;
	/* one byte more, so that data is never NULL even for empty sections */
	rc = buf_reserve(&w->data, grow + len + 1);
	if (rc != VG_OK)
		return rc;
	memset(w->data.data + w->data.len, 0, grow + len);
	w->data.len += grow;
	w->ids[w->nsections] = id;
	w->offs[w->nsections] = w->data.len;
	w->lens[w->nsections] = len;
	w->nsections++;
	*out = w->data.data + w->data.len;
	w->data.len += len;
	return VG_OK;
}

vg_status image_add(struct image_writer *w, uint32_t id, const void *data, size_t len)
{
	void *dst;
	vg_status rc = image_reserve(w, id, len, &dst);

	if (rc == VG_OK && len)
		memcpy(dst, data, len);
	return rc;
}

/* XXH3-64 of the payload: a damaged cache must be caught at every open, and
 * at some 30 GB/s it costs little even for a few hundred megabytes. */
static uint64_t checksum_of(const uint8_t *p, size_t len, bool mapped)
{
	XXH3_state_t *st = XXH3_createState();
	const size_t page = 4096, step = 4u << 20;
	uint64_t h;

	if (!st)
		return 0; /* compared against a stored value: a mismatch, so a rebuild */
	XXH3_64bits_reset(st);
	while (len) {
		size_t n = len > step ? step : len;
		XXH3_64bits_update(st, p, n);
		if (mapped) {
			/* release whole pages already summed */
			uintptr_t a = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
			uintptr_t b = ((uintptr_t)p + n) & ~(uintptr_t)(page - 1);
			if (b > a)
				(void)madvise((void *)a, b - a, MADV_DONTNEED);
		}
		p += n;
		len -= n;
	}
	h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return h;
}

vg_status image_finish(struct image_writer *w, const uint8_t key[IMAGE_KEY_LEN], uint8_t **out,
		       size_t *len)
{
	uint8_t *img;
	uint64_t payload, sum;
	uint32_t format = IMAGE_FORMAT;
	vg_status rc;

	if (w->data.len < DATA_START) {
		rc = buf_reserve(&w->data, DATA_START - w->data.len + 1);
		if (rc != VG_OK)
			return rc;
		memset(w->data.data + w->data.len, 0, DATA_START - w->data.len);
		w->data.len = DATA_START;
	}
	img = w->data.data;
	memset(img, 0, DATA_START);
	for (uint32_t i = 0; i < w->nsections; i++) {
		struct entry e = {w->ids[i], 0, w->offs[i], w->lens[i]};
		memcpy(img + HEADER_LEN + i * sizeof(e), &e, sizeof(e));
	}
	payload = w->data.len - HEADER_LEN;
	sum = checksum_of(img + HEADER_LEN, (size_t)payload, false);
	memcpy(img, IMAGE_MAGIC, 8);
	memcpy(img + 8, &format, 4);
	memcpy(img + 12, &w->nsections, 4);
	memcpy(img + 16, key, IMAGE_KEY_LEN);
	memcpy(img + 48, &payload, 8);
	memcpy(img + 56, &sum, 8);
	*out = img;
	*len = w->data.len;
	w->data.data = NULL; /* transferred */
	w->data.len = w->data.cap = 0;
	w->nsections = 0;
	return VG_OK;
}

vg_status image_open(struct image *img, const uint8_t *bytes, size_t len, bool check_crc,
		     bool mapped)
{
	uint32_t format, n;
	uint64_t payload, sum;

	memset(img, 0, sizeof(*img));
	if (len < HEADER_LEN || memcmp(bytes, IMAGE_MAGIC, 8) != 0)
		return VG_EFORMAT;
	memcpy(&format, bytes + 8, 4);
	memcpy(&n, bytes + 12, 4);
	memcpy(&payload, bytes + 48, 8);
	memcpy(&sum, bytes + 56, 8);
	if (format != IMAGE_FORMAT || payload != len - HEADER_LEN ||
	    n > (len - HEADER_LEN) / sizeof(struct entry))
		return VG_EFORMAT;
	if (check_crc && checksum_of(bytes + HEADER_LEN, (size_t)payload, mapped) != sum)
		return VG_EFORMAT;
	for (uint32_t i = 0; i < n; i++) {
		struct entry e;
		memcpy(&e, bytes + HEADER_LEN + i * sizeof(e), sizeof(e));
		if (e.off > len || e.len > len - e.off || e.off % ALIGN)
			return VG_EFORMAT;
	}
	img->base = bytes;
	img->len = len;
	memcpy(img->key, bytes + 16, IMAGE_KEY_LEN);
	img->nsections = n;
	img->table = bytes + HEADER_LEN;
	return VG_OK;
}

bool image_section(const struct image *img, uint32_t id, size_t elem, const void **data,
		   size_t *len)
{
	for (uint32_t i = 0; i < img->nsections; i++) {
		struct entry e;
		memcpy(&e, img->table + i * sizeof(e), sizeof(e));
		if (e.id != id)
			continue;
		if (elem && e.len % elem)
			return false;
		*data = img->base + e.off;
		*len = (size_t)e.len;
		return true;
	}
	return false;
}
