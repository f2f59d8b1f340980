/* The compiled database of one engine, as stored in an image (see
 * util.h): what scandb.c writes and opens, and what scan.c reads. Internal
 * to the scan module. */
#ifndef VG_SCAN_DB_H
#define VG_SCAN_DB_H

#include "scan/scan.h"

enum scan_section {
	SEC_INFO = 1,
	SEC_NAMES,
	SEC_DBS,
	SEC_BODIES,
	SEC_PATTERNS,
	SEC_METAS,
	SEC_LIT_FIRST,
	SEC_LIT_LEN,
	SEC_LIT_POST,
	SEC_REFS,
	SEC_PREFILTER,
	SEC_NOTICES,
	SEC_HASHES = 32,                        /* HASHIDX_SECTIONS of them */
	SEC_FPS = SEC_HASHES + HASHIDX_SECTIONS, /* and as many again */
	SEC_PE_SECTIONS = SEC_FPS + HASHIDX_SECTIONS, /* .mdb/.msb: keyed by section size */
	SEC_PE_IMPORTS = SEC_PE_SECTIONS + HASHIDX_SECTIONS /* .imp: keyed by table size */
};

/* img_info.exe_needs: what parsing executables is for in this database */
enum {
	EXE_NEED_OFFSETS = 1u, /* EP/section-relative body offsets */
	EXE_NEED_TARGETS = 2u, /* body signatures of targets 1, 6 or 9 */
};

struct img_info {
	uint64_t nsigs;
	uint64_t max_back;
	uint64_t max_fwd;
	uint32_t flevel;
	uint32_t nlits;
	uint64_t clam_maxpatlen; /* for ClamAV's scan-buffer overlap (ordering only) */
	uint32_t exe_needs;      /* EXE_NEED_* */
	uint32_t pad;
};

/* A signature is known by the offset of its name in SEC_NAMES: names are
 * stored in load order, so offsets order signatures as loading did, and the
 * database of a signature is the one whose name range holds the offset. */
struct img_db {
	uint32_t path, name; /* offsets into SEC_NAMES */
	uint32_t first_sig, end_sig; /* name offsets of its signatures: [first, end) */
	uint32_t version;
	uint32_t official;
	int64_t build_time;
	uint64_t signatures, deferred, skipped;
};

struct img_body {
	uint32_t sig;       /* its name offset */
	uint32_t nparts;
	uint64_t pat_off;   /* into SEC_PATTERNS, 8-aligned */
	uint64_t pat_len;
	uint32_t part_first; /* index of its first part in SEC_METAS */
	uint32_t off_kind;
	uint64_t off_n, off_shift;
	uint32_t off_section; /* SIG_OFF_SX, SIG_OFF_SE */
	uint8_t target;       /* enum sig_target: the layer type it applies to */
	uint8_t bm_class;     /* ClamAV matches it with Boyer-Moore (plain bytes; target 0, or 1 at a fixed offset) */
	uint8_t pad[2];
};

/* One (body signature, part) that uses a prefilter literal. */
struct part_ref {
	uint32_t body;
	uint32_t part;
	uint8_t single;     /* the body has one part */
	uint8_t off_kind;   /* part 0: the signature's offset kind */
	uint8_t target;     /* the body's target type */
	uint8_t pad;
	uint32_t pre_max;
	uint64_t off_n, off_shift;
};

struct part_meta {
	uint32_t anchor_len;
	uint32_t pre_max;
	uint32_t post_max;
};

struct scan_db {
	struct image img;
	uint8_t *owned;        /* the image, when it lives in vg_malloc'd memory */
	void *map;             /* ... or when it is mapped from a cache file */
	size_t map_len;
	const char *names;
	size_t names_len;
	size_t nsigs;
	const struct img_db *dbs;
	size_t ndbs;
	const struct img_body *bodies;
	const uint8_t *patterns;   /* SEC_PATTERNS */
	size_t patterns_len;
	size_t nbodies;
	const struct part_meta *metas;
	size_t nmetas;
	const uint32_t *lit_first; /* CSR: refs of literal i are [lit_first[i], lit_first[i+1]) */
	const uint32_t *lit_len;
	const uint32_t *lit_post;  /* largest post_max among the literal's refs */
	uint32_t nlits;
	const struct part_ref *refs;
	size_t nrefs;
	struct prefilter *pf;
	struct hashidx hashes;
	struct hashidx fps;
	struct hashidx pe_sections; /* .mdb/.msb */
	struct hashidx pe_imports;  /* .imp */
	uint32_t exe_needs;         /* EXE_NEED_* */
	const char *notices;       /* load notices, '\n'-separated, replayed on open */
	size_t notices_len;
	size_t max_back;           /* most bytes a verification needs behind an anchor's end */
	size_t max_fwd;            /* most bytes it needs after an anchor's end */
	uint64_t clam_step;        /* ClamAV's scan buffers start every clam_step bytes */
};

/* The compiled pattern of body i, used in place. Its header is checked
 * here, on first use, rather than when the image is opened, so that opening
 * does not touch every pattern's page; NULL if it is inconsistent. */
static inline const struct pattern *scan_db_pattern(const struct scan_db *db, size_t i)
{
	const struct img_body *b = &db->bodies[i];
	const struct pattern *p = pattern_view(db->patterns + b->pat_off, (size_t)b->pat_len);

	return p && pattern_nparts(p) == b->nparts ? p : NULL;
}

static inline const char *scan_db_str(const struct scan_db *db, uint32_t off)
{
	return off < db->names_len ? db->names + off : "";
}

#endif
