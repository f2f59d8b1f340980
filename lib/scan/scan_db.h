/* The compiled database of one engine, as stored in an image (see
 * util.h): what scandb.c writes and opens, and what scan.c reads. Internal
 * to the scan module. */
#ifndef VG_SCAN_DB_H
#define VG_SCAN_DB_H

#include "exe/exe.h"
#include "filetype/filetype.h"
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
	SEC_LDBS,
	SEC_LSUBS,
	SEC_LTEXT,
	SEC_LALWAYS,
	SEC_CDBS,
	SEC_FTM,
	SEC_FTM_BYTES,
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
	uint8_t nocase;       /* .ldb ::i: verified against folded data */
	uint8_t pad;
	uint32_t lsub;        /* 1 + index into SEC_LSUBS for a .ldb subsignature; 0: reported itself */
	uint32_t pad2;
};

/* A logical signature (.ldb). Its expression and PCRE texts are in
 * SEC_LTEXT; its subsignatures are SEC_LSUBS[first_sub .. first_sub+nsubs). */
enum img_ldb_flag {
	LDBF_FSIZE = 1, LDBF_EP = 2, LDBF_NOS = 4, LDBF_CONTAINER = 8, LDBF_ALWAYS = 16
};

struct img_ldb {
	uint32_t sig;       /* name offset */
	uint32_t expr, expr_len;
	uint32_t first_sub, nsubs;
	uint8_t target, flags, container, ninter;
	uint8_t inter[LDB_MAX_INTERMEDIATES];
	uint32_t fsize[2], ep[2], nos[2];
};

/* A file type magic entry (.ftm); its bytes are in SEC_FTM_BYTES. */
struct img_ftm {
	uint32_t offset, len;
	uint64_t bytes;  /* offset into SEC_FTM_BYTES */
	uint8_t type;    /* enum ftype */
	uint8_t pad[7];
};

/* A container metadata signature (.cdb); its regex is in SEC_LTEXT. */
struct img_cdb {
	uint32_t sig;        /* name offset */
	uint8_t ctype, encrypted;
	uint8_t pad[2];
	uint32_t csize[2], fsize[2], filepos[2];
	uint32_t re, re_len; /* re == UINT32_MAX: any name */
};

struct img_lsub {
	uint32_t ldb;
	uint8_t kind;       /* enum lsub_kind */
	uint8_t pcre_global, pcre_rolling, pcre_encompass;
	uint32_t pcre_opts;
	uint32_t trigger, trigger_len, regex, regex_len; /* into SEC_LTEXT */
	uint8_t off_kind;
	uint8_t pad[3];
	uint32_t off_section;
	uint64_t off_n, off_shift;
	struct bcomp bc;
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
	const struct img_ldb *ldbs;
	size_t nldbs;
	const struct img_lsub *lsubs;
	size_t nlsubs;
	const char *ltext;
	size_t ltext_len;
	const uint32_t *always;    /* ldbs evaluated on every layer */
	size_t nalways;
	void **pcre;               /* pcre2_code per lsub (NULL unless PCRE), compiled at open */
	const struct img_cdb *cdbs;
	size_t ncdbs;
	void *cdb_re;              /* regex_t per cdb, compiled at open */
	struct ftm_magic *ftm;     /* .ftm entries, the last loaded first, for the typer */
	size_t nftm;
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

/* ---- lsig.c: logical signatures of one layer ---- */

/* A match of a .ldb content subsignature (lsub: index into lsubs). ClamAV
 * counts one-part patterns once per distinct start and multi-part ones once
 * per distinct end of their last part: key is that offset. */
struct lsig_hit {
	uint32_t lsub;
	uint32_t pad;
	uint64_t key;
	uint64_t start;
	uint64_t end;
};

/* What the evaluator needs to know about the layer. */
struct lsig_layer {
	const uint8_t *head;     /* first bytes, for executable headers */
	enum ftype type;         /* the layer's type (scan_db_type) */
	size_t head_len;
	uint64_t size;
	struct exe_info *exe;    /* parsed on first need; *exe_done says it was */
	bool *exe_done;
	const uint8_t *parents;  /* enum ftype of the containers, outermost first */
	size_t nparents;
	/* the layer's bytes, for PCRE and byte compare (read on first need) */
	vg_status (*data)(void *ctx, const uint8_t **data, size_t *len);
	void *data_ctx;
};

/* Where a signature offset lets a match start: [*lo, *hi]. False when it
 * cannot (EOF-n beyond the start, no entry point, no such section). */
bool lsig_offset_range(const struct lsig_layer *L, uint8_t kind, uint32_t section, uint64_t n,
		       uint64_t shift, uint64_t *lo, uint64_t *hi);

typedef vg_status lsig_found_fn(void *ctx, uint32_t ldb);

/* What the scan driver knows about one entry of a container. */
struct cdb_entry {
	uint8_t ctype;          /* enum ftype of the container */
	uint64_t csize;         /* container size */
	const char *name;       /* NULL when the entry has none */
	uint64_t size;          /* real size */
	bool encrypted;
	uint32_t pos;           /* from 1 */
};

/* Container signatures matching the entry, the last loaded first (as
 * libclamav reports them): found is called with each one's index. */
vg_status cdb_match(const struct scan_db *db, const struct cdb_entry *e, lsig_found_fn *found,
		    void *ctx);

/* Evaluates every logical signature that has a hit (hits are sorted here)
 * and every one marked to run always; found is called for each that holds,
 * in load order. */
vg_status lsig_eval(const struct scan_db *db, struct lsig_hit *hits, size_t nhits,
		    const struct lsig_layer *L, lsig_found_fn *found, void *ctx);

/* The first of ClamAV's scan buffers that holds a match ending at end: they
 * are VG_CLAMAV_WINDOW bytes long and start every clam_step bytes (they
 * overlap by its longest pattern). Matches are reported buffer by buffer. */
static inline uint64_t scan_db_clam_window(const struct scan_db *db, uint64_t end)
{
	if (end <= VG_CLAMAV_WINDOW)
		return 0;
	return (end - VG_CLAMAV_WINDOW + db->clam_step - 1) / db->clam_step;
}

/* The layer's type: the database's .ftm magic first, then the built-in rules. */
static inline enum ftype scan_db_type(const struct scan_db *db, const uint8_t *head, size_t len)
{
	return filetype_detect_with(db->ftm, db->nftm, head, len);
}

static inline const char *scan_db_str(const struct scan_db *db, uint32_t off)
{
	return off < db->names_len ? db->names + off : "";
}

#endif
