/* match: the hash index, the literal prefilter (Vectorscan) and the body
 * pattern verifier (pattern.h). */
#ifndef VG_MATCH_H
#define VG_MATCH_H

#include "base/base.h"
#include "hash/hash.h"
#include "match/pattern.h"

/* ---- hash index: whole-file digests keyed by size ---- */

struct hash_entry {
	uint64_t size;   /* ignored when wild */
	uint32_t value;  /* caller's id (a signature index) */
	uint8_t alg;     /* enum hash_alg */
	uint8_t wild;    /* size '*' */
	uint8_t digest[HASH_MAX_LEN];
};

struct hashidx;

/* Takes ownership of entries (a vg_malloc'd array), even on failure. Of
 * entries with the same algorithm, size and digest it keeps the one with the
 * highest value (the last loaded), as ClamAV reports the last one. */
vg_status hashidx_build(struct hash_entry *entries, size_t n, struct hashidx **out);
void hashidx_free(struct hashidx *idx);
size_t hashidx_count(const struct hashidx *idx);

/* Bit mask of algorithms worth computing for a file of this size. */
unsigned hashidx_algs_for_size(const struct hashidx *idx, uint64_t size);

/* Looks up a digest: first among entries of exactly this size, then among
 * wildcard-size entries. Returns the number of values written (0..2). */
size_t hashidx_lookup(const struct hashidx *idx, enum hash_alg alg, uint64_t size,
		      const uint8_t *digest, uint32_t out[2]);

/* ---- prefilter: every anchor literal in one Vectorscan streaming database ---- */

struct prefilter;
struct prefilter_stream;

struct literal {
	const uint8_t *bytes;
	uint32_t len;
};

/* Literal i gets id i. Zero literals is allowed (scans find nothing). */
vg_status prefilter_build(const struct literal *lits, size_t n, struct prefilter **out,
			  char *err, size_t errlen);
void prefilter_free(struct prefilter *pf);
size_t prefilter_memory(const struct prefilter *pf);

/* Called with the literal id and the absolute offset just past its last
 * byte. Return nonzero to stop the scan. */
typedef int prefilter_hit_fn(void *ctx, uint32_t id, uint64_t end);

/* A per-thread stream state (scratch space included); reusable across files. */
vg_status prefilter_stream_new(const struct prefilter *pf, struct prefilter_stream **out);
void prefilter_stream_free(struct prefilter_stream *s);
vg_status prefilter_stream_begin(struct prefilter_stream *s);
/* Returns VG_OK, or VG_ELIMIT if the callback stopped the scan. */
vg_status prefilter_stream_scan(struct prefilter_stream *s, const uint8_t *data, size_t len,
				prefilter_hit_fn *cb, void *ctx);
vg_status prefilter_stream_end(struct prefilter_stream *s, prefilter_hit_fn *cb, void *ctx);

#endif
