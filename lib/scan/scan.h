/* scan: the scan driver. One read pass over a layer feeds the digests and
 * the literal prefilter; prefilter hits are confirmed by the pattern
 * verifier; hash lookups follow; matches are reported in ClamAV's order. */
#ifndef VG_SCAN_H
#define VG_SCAN_H

#include "base/base.h"
#include "sigdb/sigdb.h"

/* The compiled, immutable matching tables of one engine. */
struct scan_db;

/* Builds from a loaded set (which must outlive the scan_db). */
vg_status scan_db_build(const struct sigset *set, struct scan_db **out, char *err, size_t errlen);
void scan_db_free(struct scan_db *db);

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
};

vg_status scan_run(struct scan_ctx *c, const struct scan_input *in,
		   const struct vg_scan_options *opts, vg_match_fn *on_match, void *cb_ctx,
		   struct vg_scan_summary *summary);

#endif
