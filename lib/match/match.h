/* match: the hash index, the literal prefilter (Vectorscan) and the body
 * pattern verifier (pattern.h). */
#ifndef VG_MATCH_H
#define VG_MATCH_H

#include "base/base.h"
#include "hash/hash.h"
#include "match/pattern.h"
#include "util/util.h"

/* ---- hash index: whole-file digests keyed by size ----
 *
 * Stored in a compiled image as three sections per algorithm: the distinct
 * sizes (each with the index of its first entry), the entries (digest and
 * value, sorted by size then digest) and the wildcard-size entries (sorted
 * by digest). Lookups are binary searches in place: nothing is copied when
 * the image is mapped from a cache file. */

struct hash_entry {
	uint64_t size;   /* ignored when wild */
	uint32_t value;  /* caller's id (a signature index) */
	uint8_t alg;     /* enum hash_alg */
	uint8_t wild;    /* size '*' */
	uint8_t digest[HASH_MAX_LEN];
};

#define HASHIDX_SECTIONS (3u * HASH_NALGS)

/* Writes the index of entries (left unchanged) as sections section_base ..
 * section_base + HASHIDX_SECTIONS - 1. Of entries with the same algorithm,
 * size and digest only the highest value (the last loaded) is kept, as
 * ClamAV reports the last one. Sizes must be below 2^32. */
vg_status hashidx_write(struct hash_entry *entries, size_t n, struct image_writer *w,
			uint32_t section_base);

struct size_run {
	uint32_t size;
	uint32_t first;
};

struct hashidx {
	const struct size_run *runs[HASH_NALGS]; /* nruns + 1, the last a sentinel */
	size_t nruns[HASH_NALGS];
	const uint8_t *ent[HASH_NALGS];
	size_t nent[HASH_NALGS];
	const uint8_t *wild[HASH_NALGS];
	size_t nwild[HASH_NALGS];
};

/* A view of the sections written by hashidx_write; VG_EFORMAT if they are
 * missing or inconsistent. */
vg_status hashidx_open(const struct image *img, uint32_t section_base, struct hashidx *out);
size_t hashidx_count(const struct hashidx *idx);

/* Bit mask of algorithms worth computing for a file of this size. */
unsigned hashidx_algs_for_size(const struct hashidx *idx, uint64_t size);

/* Looks up a digest: first among entries of exactly this size, then among
 * wildcard-size entries. Returns the number of values written (0..2). */
size_t hashidx_lookup(const struct hashidx *idx, enum hash_alg alg, uint64_t size,
		      const uint8_t *digest, uint32_t out[2]);

/* ---- prefilter: every anchor literal in Vectorscan streaming databases ---- */

struct prefilter;
struct prefilter_stream;

struct literal {
	const uint8_t *bytes;
	uint32_t len;
	bool nocase; /* ASCII letters match either case (.ldb ::i) */
};

/* ---- gram index: the prefilter's matcher for plain literals of 9..32 bytes
 * (gramidx.c). Literals it does not accept go to Vectorscan. ---- */

#define GRAMIDX_MAX_LEN 32u
#define GRAMIDX_MAX_STEP 16u

struct gram_slot;
struct gram_lit;

struct gramidx {
	const uint64_t *bitmap;
	const struct gram_slot *slots;
	const struct gram_lit *lits;
	const uint8_t *bytes;
	uint64_t nbytes;
	size_t slot_mask;
	uint32_t nlits; /* in this index */
	size_t nall;    /* literal ids are below this */
	uint32_t nents;
	unsigned step;
	unsigned word_bits, slot_shift;
};

struct gramidx_stream {
	uint64_t pos;  /* stream offset of the next byte */
	uint64_t done; /* gram ends up to here are examined */
	uint32_t clen; /* bytes carried to the next chunk */
	uint8_t carry[64];
};

typedef int prefilter_hit_fn(void *ctx, uint32_t id, uint64_t end);

/* An index with step s examines every s-th offset only, and holds s grams
 * of each literal (one of them lands on an examined offset): for literals
 * of at least 8 + s - 1 bytes. */
bool gramidx_accepts(const struct literal *l, unsigned step);
/* A literal one byte shorter (8 + s - 2 bytes, s >= 2) fits as 257
 * entries; at most GRAMIDX_MAX_SHORT of them per index. */
#define GRAMIDX_MAX_SHORT 64u
bool gramidx_accepts_short(const struct literal *l, unsigned step);
/* The index of lits[sel[0..n)] as a blob (posix_memalign'd, 64-aligned;
 * free() it). Literal ids are the sel values. */
vg_status gramidx_build(const struct literal *lits, const unsigned *sel, size_t n, unsigned step,
			uint8_t **out, size_t *out_len);
/* A view of a blob (64-byte aligned, outliving the view); checks every
 * bound the scan relies on. */
vg_status gramidx_open(const uint8_t *blob, size_t len, size_t nlits, struct gramidx *g);
void gramidx_stream_begin(struct gramidx_stream *s);
/* Reports literals found in the stream so far (those that may still run
 * on past data wait for the next call); nonzero when cb asked to stop.
 * Hits of one literal arrive in end order. */
int gramidx_stream_scan(const struct gramidx *g, struct gramidx_stream *s, const uint8_t *data,
			size_t len, prefilter_hit_fn *cb, void *ctx);
/* The stream ended: reports what was waiting. */
int gramidx_stream_end(const struct gramidx *g, struct gramidx_stream *s, prefilter_hit_fn *cb,
		       void *ctx);
/* Every literal ending at or before this offset has been reported. */
uint64_t gramidx_stream_settled(const struct gramidx_stream *s);

/* The scan's vector code, chosen at run time by what the CPU has. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GRAMIDX_SIMD 1
#else
#define GRAMIDX_SIMD 0
#endif
enum { GRAMIDX_SIMD_NONE = 0, GRAMIDX_SIMD_AVX512 = 1 };
unsigned gramidx_simd_level(void);
/* Tests: use at most this level (-1: what the CPU has). */
void gramidx_simd_force(int level);

/* Literal i gets id i. Zero literals is allowed (scans find nothing).
 * max_shards (>= 1) bounds how many Vectorscan databases, compiled in
 * parallel, the set is split into: more compile faster and scan slower. */
vg_status prefilter_build(const struct literal *lits, size_t n, unsigned max_shards,
			  struct prefilter **out, char *err, size_t errlen);
void prefilter_free(struct prefilter *pf);
size_t prefilter_memory(const struct prefilter *pf);

/* The compiled databases as an image section (vg_malloc'd) and back.
 * prefilter_open uses the databases where they lie in bytes (which must
 * outlive the prefilter), copying only when bytes is not 64-byte aligned;
 * a section from another Vectorscan or another CPU is VG_EFORMAT, and the
 * caller rebuilds. The bytes are trusted to be what prefilter_serialize
 * wrote: the caller checks the image's checksum. */
vg_status prefilter_serialize(const struct prefilter *pf, uint8_t **out, size_t *len);
vg_status prefilter_open(const uint8_t *bytes, size_t len, size_t nlits, struct prefilter **out);

/* prefilter_hit_fn is called with the literal id and the absolute offset
 * just past its last byte. Return nonzero to stop the scan. */

/* A per-thread stream state (scratch space included); reusable across files. */
vg_status prefilter_stream_new(const struct prefilter *pf, struct prefilter_stream **out);
void prefilter_stream_free(struct prefilter_stream *s);
vg_status prefilter_stream_begin(struct prefilter_stream *s);
/* Returns VG_OK, or VG_ELIMIT if the callback stopped the scan. */
vg_status prefilter_stream_scan(struct prefilter_stream *s, const uint8_t *data, size_t len,
				prefilter_hit_fn *cb, void *ctx);
vg_status prefilter_stream_end(struct prefilter_stream *s, prefilter_hit_fn *cb, void *ctx);
/* Every literal ending at or before this stream offset has been reported
 * (the gram index holds the last few bytes of a chunk back). */
uint64_t prefilter_stream_settled(const struct prefilter_stream *s);

/* ---- logical: .ldb expressions and byte-compare subsignatures ---- */

/* Subsignatures of one logical signature (ClamAV's MAX_LDB_SUBSIGS). */
#define LOGICAL_MAX_SUBS 64u

/* Checks the expression expr[0..len) with ClamAV's grammar and grouping
 * (no precedence: a top-level chain splits at its first operator, a block
 * "( ... )" at its last operator one level down). Returns the highest
 * subsignature index it uses, or -1 with *why set to what is wrong. */
int logical_check(const char *expr, size_t len, const char **why);

/* Evaluates a checked expression against per-subsignature match counts
 * (counts[i] for subsignature i). Returns 1 when it holds, 0 when not. */
int logical_eval(const char *expr, size_t len, const uint32_t counts[LOGICAL_MAX_SUBS]);

/* A byte-compare subsignature: Ref(>>Off#[h|d|a|i][l|b][e]Len#Cmp[,Cmp]). */
enum bcomp_base { BCOMP_HEX = 1, BCOMP_DEC, BCOMP_AUTO, BCOMP_BIN };

struct bcomp {
	uint32_t ref;        /* subsignature whose match the offset is relative to */
	int64_t off;         /* from that match's start; negative for "<<" */
	uint8_t base;        /* enum bcomp_base */
	uint8_t little;      /* 'l' */
	uint8_t exact;       /* 'e' (implied for binary) */
	uint8_t ncmp;        /* 1 or 2 */
	uint32_t len;        /* bytes to read */
	char cmp_op[2];      /* '<' '>' '=' */
	uint8_t pad[6];
	int64_t cmp_val[2];
};

/* Parses the text inside and around the parentheses ("0(>>4#ib2#=80)"); on
 * failure returns false with *why and *col (0-based in text) set. */
bool bcomp_parse(const char *text, size_t len, struct bcomp *out, const char **why,
		 size_t *col);

/* True if the value at ref_start + off in data[0..len) compares as the
 * subsignature says (every comparison must hold). */
bool bcomp_check(const struct bcomp *b, const uint8_t *data, size_t len, uint64_t ref_start);

#endif
