/* scan: the scan driver. One read pass over a layer feeds the digests and
 * the literal prefilter; prefilter hits are confirmed by the pattern
 * verifier; hash lookups follow; matches are reported in ClamAV's order. */
#ifndef VG_SCAN_H
#define VG_SCAN_H

#include "base/base.h"
#include "sigdb/sigdb.h"

/* The compiled, immutable matching tables of one engine, held in one image
 * (util.h) that is either in memory or mapped from a cache file. */
struct scan_db;

/* Compiles a loaded set into an image (vg_malloc'd, *len bytes) carrying
 * key; notices are the load messages to replay when the image is reused.
 * compile_threads > 1 splits the literal prefilter so that it compiles in
 * that many threads, at a cost in scan speed: for images used once. */
vg_status scan_db_compile(struct sigset *set, const uint8_t key[IMAGE_KEY_LEN],
			  const char *notices, size_t notices_len, unsigned compile_threads,
			  uint8_t **image, size_t *len, char *err, size_t errlen);

/* Opens an image. own: the scan_db frees it with vg_free; map/map_len: it
 * unmaps it. check_crc verifies the image checksum first. VG_EFORMAT when
 * the image is damaged or from an incompatible build: rebuild it. */
vg_status scan_db_open(const uint8_t *image, size_t len, bool own, void *map, size_t map_len,
		       bool check_crc, struct scan_db **out);
void scan_db_free(struct scan_db *db);

/* What the engine reports about a compiled database. */
uint64_t scan_db_signature_count(const struct scan_db *db);
size_t scan_db_db_count(const struct scan_db *db);
void scan_db_db_info(const struct scan_db *db, size_t i, struct vg_db_info *out);
const uint8_t *scan_db_key(const struct scan_db *db);
/* The whole image (what a cache file holds). */
void scan_db_image(const struct scan_db *db, const uint8_t **bytes, size_t *len);
/* The load notices stored in the image, '\n'-separated. */
const char *scan_db_notices(const struct scan_db *db, size_t *len);

/* Per-thread scanning state: buffers, Vectorscan scratch, digest contexts.
 * Reused across scans so that scanning a file allocates nothing. */
struct scan_ctx;

vg_status scan_ctx_new(const struct scan_db *db, struct scan_ctx **out);
void scan_ctx_free(struct scan_ctx *c);

/* The bytes of one layer: either a descriptor (read from its current
 * position) or memory. */
struct scan_input {
	int fd;              /* -1 when mem is used */
	const uint8_t *mem;
	size_t mem_len;
	bool fd_is_regular;  /* size known from fstat */
	uint64_t size;       /* for regular files: bytes to scan */
	uint64_t offset;     /* for regular files: where the scan starts */
};

vg_status scan_run(struct scan_ctx *c, const struct scan_input *in,
		   const struct vg_scan_options *opts, vg_match_fn *on_match, void *cb_ctx,
		   struct vg_scan_summary *summary);

#endif
