/*
 * pattern: ClamAV body patterns, compiled into a flat verifier program.
 *
 * Compilation replays ClamAV's own text transformations (readdb.c's {n}
 * inlining and part splitting, matcher-ac.c's [n-m] and ( ) extraction) on
 * the hex text, with every character carrying its original column, so that
 * what ClamAV accepts, rejects and how it splits is reproduced rule for rule.
 * docs/internals/body-patterns.md records each rule and the clamscan
 * experiment that settled it.
 *
 * The compiled pattern is one allocation: a header followed by arrays that
 * refer to each other by index only, so the same bytes are the cache format.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match/pattern.h"

/* ---------------------------------------------------------------------- */
/* Compiled form                                                          */
/* ---------------------------------------------------------------------- */

/*
 * One allocation, 4-byte aligned, no pointers; offsets follow from the
 * counts in the header:
 *
 *   struct pattern       16 bytes
 *   struct pattern_ext   16 bytes, only with PAT_EXT (groups, alternatives
 *                        or byte sets present)
 *   struct ppart         8 bytes per part
 *   struct pgap          8 bytes per part after the first
 *   struct prange        8 bytes per part with an [n-m] byte (CTX_RANGE)
 *   part elements        uint32_t each, the parts' in order
 *   byte pool            the static bytes of OP_BYTES elements (anchors
 *                        included), nbytes long
 *   -- with PAT_EXT, from the next multiple of 4:
 *   byte sets            32 bytes each
 *   alternative elements uint32_t each
 *   struct pgroup        16 bytes each
 *   struct palt          12 bytes each
 *
 * The verifier's straight loop needs the parts, elements, pool and sets,
 * which it finds with a few additions; groups and alternatives only matter
 * to the general one.
 *
 * A plain 30-byte literal takes 16 + 8 + 4 + 30 = 58 bytes.
 */
/* "VGP" and PATTERN_FORMAT ("VGP2") little-endian; a byte-swapped cache fails it */
#define PAT_MAGIC (0x00504756u | (uint32_t)('0' + PATTERN_FORMAT) << 24)
_Static_assert(PATTERN_FORMAT < 10, "one digit in the magic");
#define PAT_MAX_TEXT (1u << 20)      /* hex text after {n} inlining */
#define PAT_MAX_ALTS 16384u          /* strings one generic alternative may expand to */
#define PAT_MAX_BLOB (64u << 20)
#define PAT_MAX_RUN 4095u            /* bytes one OP_BYTES element holds */
#define PAT_MAX_ANY (1u << 24)       /* bytes one OP_ANY element skips */

/*
 * Elements are one uint32_t: the op in bits 0-3, its operands above.
 */
enum pat_op {
	OP_BYTE = 1, /* bits 4-11: the byte */
	OP_BYTES,    /* bits 4-15: length (1..4095), bits 16-31: offset in the byte pool;
		      * parts only */
	OP_MASK,     /* (byte & bits 12-19) == bits 4-11: nibbles */
	OP_ANY,      /* bits 4-31 bytes of anything (1..2^24) */
	OP_SET,      /* byte in set bits 5-31; bit 4: a middle (B)/(W), which ClamAV's
		      * offset pre-check counts as zero bytes wide */
	OP_LINE,     /* "\n" or "\r\n" */
	OP_NLINE,    /* one byte that is not '\n' and not a '\r' followed by '\n' */
	OP_GROUP,    /* alternatives group bits 5-31; bit 4: negated (fixed length only) */
	OP_LINE_REV, /* (L) as ClamAV matches it before its trie anchor: "\n", or
		      * any byte then '\r' when a '\n' follows */
	OP_SMALLSET, /* byte is one of bits 4-11, 12-19, 20-27 (ascending, the last
		      * repeated for fewer), or with bit 28 none of them: (aa|bb),
		      * !(aa|bb|cc) without a 32-byte set; parts only */
	OP_FIXALT    /* one of (bit 31: none of) bits 25-30 (1..63) strings of bits
		      * 20-24 (1..31) static bytes each, one after another in the
		      * byte pool from offset bits 4-19: a fixed-length group like
		      * (4d5a|5a4d) without group records; parts only */
};

#define E_OP(e) ((e) & 15u)
#define E_ARG(e) ((e) >> 4)               /* OP_ANY count */
#define E_BYTE(e) (((e) >> 4) & 0xffu)     /* OP_BYTE, OP_MASK value */
#define E_MASK(e) (((e) >> 12) & 0xffu)    /* OP_MASK */
#define E_RUN_LEN(e) (((e) >> 4) & 0xfffu) /* OP_BYTES */
#define E_RUN_OFF(e) ((e) >> 16)           /* OP_BYTES */
#define E_SET_IDX(e) ((e) >> 5)            /* OP_SET */
#define E_SET_BOUND(e) (((e) >> 4) & 1u)   /* OP_SET */
#define E_GROUP_IDX(e) ((e) >> 5)          /* OP_GROUP */
#define E_GROUP_NEG(e) (((e) >> 4) & 1u)   /* OP_GROUP */
#define E_SMALL(e, i) (((e) >> (4 + 8 * (i))) & 0xffu) /* OP_SMALLSET */
#define E_SMALL_NEG(e) (((e) >> 28) & 1u)               /* OP_SMALLSET */
#define E_FIX_OFF(e) (((e) >> 4) & 0xffffu)             /* OP_FIXALT */
#define E_FIX_LEN(e) (((e) >> 20) & 31u)                /* OP_FIXALT */
#define E_FIX_N(e) (((e) >> 25) & 63u)                  /* OP_FIXALT */
#define E_FIX_NEG(e) ((e) >> 31)                        /* OP_FIXALT */
#define FIX_MAX_LEN 31u
#define FIX_MAX_N 63u

#define MK_BYTE(v) (OP_BYTE | (uint32_t)(v) << 4)
#define MK_RUN(off, len) (OP_BYTES | (uint32_t)(len) << 4 | (uint32_t)(off) << 16)
#define MK_MASK(v, m) (OP_MASK | (uint32_t)(v) << 4 | (uint32_t)(m) << 12)
#define MK_ANY(n) (OP_ANY | (uint32_t)(n) << 4)
#define MK_SET(idx, bound) (OP_SET | (uint32_t)(bound) << 4 | (uint32_t)(idx) << 5)
#define MK_GROUP(idx, neg) (OP_GROUP | (uint32_t)(neg) << 4 | (uint32_t)(idx) << 5)
#define MK_SMALL(vals) (OP_SMALLSET | (uint32_t)(vals) << 4) /* v0 | v1 << 8 | v2 << 16 | neg << 24 */
#define MK_FIXALT(off, len, n, neg)                                                              \
	(OP_FIXALT | (uint32_t)(off) << 4 | (uint32_t)(len) << 20 | (uint32_t)(n) << 25 |         \
	 (uint32_t)(neg) << 31)

/* Context checks at a part's ends ((B) (L) (W) and their negations). */
enum {
	CTX_B = 1u << 0,
	CTX_L = 1u << 1,
	CTX_W = 1u << 2,
	CTX_NB = 1u << 3,
	CTX_NL = 1u << 4,
	CTX_NW = 1u << 5,
	CTX_ALL = 0x3f,
	/* in ppart.left_ctx only: the part has a struct prange */
	CTX_RANGE = 1u << 6,
	/* in ppart.left_ctx / right_ctx: the elements before / after the
	 * anchor are all fixed-width (simple_op): a straight loop checks them */
	CTX_SIMPLE = 1u << 7
};

/* [n-m] single-byte anchor kinds */
enum { CH_NONE = 0, CH_BYTE, CH_LOW };

enum { PAT_PLAIN = 1u << 0, PAT_FILTER_OK = 1u << 1, PAT_EXT = 1u << 2, PAT_FLAGS_ALL = 7u };

struct pattern {
	uint32_t magic;
	uint8_t nparts;      /* 1 .. VG_MAX_PATTERN_PARTS */
	uint8_t flags;       /* PAT_* */
	uint16_t nbytes;     /* byte pool */
	uint16_t nelems;     /* part elements */
	/* ClamAV's trie anchor in part 0 (pattern_clam_offset_visible): it
	 * starts clam_bytes bytes into element clam_elems (an OP_BYTES when
	 * clam_bytes is not 0) */
	uint16_t clam_elems;
	uint16_t clam_bytes;
	uint8_t nranges;     /* parts with CTX_RANGE */
	uint8_t pad;
};

struct pattern_ext {
	uint32_t naltelems, ngroups, nalts, nsets;
};

struct ppart {
	uint16_t elem_first;  /* index of the part's first element */
	uint16_t elem_count;
	uint16_t anchor_elem; /* within the part: an OP_BYTES of 2..32 bytes */
	uint8_t left_ctx;     /* CTX_* */
	uint8_t right_ctx;
};

/* The [n-m] context bytes of a part: hh[n-m]... (chl) and ...[n-m]hh (chr),
 * kind CH_NONE (and zeros) for a side without one. */
struct prange {
	uint8_t chl_kind, chl_val, chl_min, chl_max;
	uint8_t chr_kind, chr_val, chr_min, chr_max;
};

struct pgap {
	uint32_t min;
	uint32_t max; /* UINT32_MAX: unbounded */
};

struct pgroup {
	uint32_t alt_first;
	uint32_t nalts;
	uint32_t min_len;
	uint32_t max_len;
};

struct palt {
	uint32_t elem_first; /* alternative elements: OP_BYTE / OP_MASK / OP_ANY only */
	uint32_t elem_count;
	uint32_t len;
};

_Static_assert(sizeof(struct pattern) == 16, "pattern header layout");
_Static_assert(sizeof(struct pattern_ext) == 16, "pattern_ext layout");
_Static_assert(sizeof(struct ppart) == 8, "ppart layout");
_Static_assert(sizeof(struct prange) == 8, "prange layout");
_Static_assert(sizeof(struct pgap) == 8, "pgap layout");
_Static_assert(sizeof(struct pgroup) == 16, "pgroup layout");
_Static_assert(sizeof(struct palt) == 12, "palt layout");

/* Where everything is; sizes in bytes from the start of the pattern. */
struct layout {
	struct pattern_ext x;
	uint64_t parts, gaps, ranges, elems, pool, aelems, groups, alts, sets, size;
};

static const struct pattern_ext no_ext;

static const struct pattern_ext *ext_of(const struct pattern *p)
{
	if (p->flags & PAT_EXT)
		return (const struct pattern_ext *)(const void *)((const uint8_t *)p +
								  sizeof(struct pattern));
	return &no_ext;
}

static void layout_from(const struct pattern *p, const struct pattern_ext *x, struct layout *l)
{
	l->x = *x;
	l->parts = sizeof(struct pattern) + (p->flags & PAT_EXT ? sizeof(struct pattern_ext) : 0);
	l->gaps = l->parts + (uint64_t)p->nparts * sizeof(struct ppart);
	l->ranges = l->gaps + (p->nparts ? p->nparts - 1u : 0) * (uint64_t)sizeof(struct pgap);
	l->elems = l->ranges + (uint64_t)p->nranges * sizeof(struct prange);
	l->pool = l->elems + (uint64_t)p->nelems * 4;
	l->size = l->pool + p->nbytes;
	if (p->flags & PAT_EXT) {
		l->sets = (l->size + 3) & ~(uint64_t)3;
		l->aelems = l->sets + (uint64_t)l->x.nsets * 32;
		l->groups = l->aelems + (uint64_t)l->x.naltelems * 4;
		l->alts = l->groups + (uint64_t)l->x.ngroups * sizeof(struct pgroup);
		l->size = l->alts + (uint64_t)l->x.nalts * sizeof(struct palt);
	} else {
		l->sets = l->aelems = l->groups = l->alts = l->size;
	}
}

static void get_layout(const struct pattern *p, struct layout *l)
{
	layout_from(p, ext_of(p), l);
}

/* The hot accessors compute only what they need. */
static inline size_t parts_off(const struct pattern *p)
{
	return sizeof(struct pattern) + (p->flags & PAT_EXT ? sizeof(struct pattern_ext) : 0);
}

static inline const struct ppart *part_at(const struct pattern *p, uint32_t k)
{
	return (const struct ppart *)(const void *)((const uint8_t *)p + parts_off(p)) + k;
}

static inline const struct pgap *gap_at(const struct pattern *p, uint32_t k)
{
	return (const struct pgap *)(const void *)((const uint8_t *)p + parts_off(p) +
						   (size_t)p->nparts * sizeof(struct ppart)) + (k - 1);
}

static inline const struct prange *ranges_of(const struct pattern *p)
{
	return (const struct prange *)(const void *)((const uint8_t *)p + parts_off(p) +
						     (size_t)p->nparts * (sizeof(struct ppart) +
									  sizeof(struct pgap)) -
						     sizeof(struct pgap));
}

static inline const uint32_t *elems_of(const struct pattern *p)
{
	return (const uint32_t *)(const void *)(ranges_of(p) + p->nranges);
}

/* Part k's [n-m] bytes, NULL when it has none. */
static inline const struct prange *range_of(const struct pattern *p, uint32_t k)
{
	const struct ppart *parts = part_at(p, 0);
	uint32_t r = 0;

	if (!(parts[k].left_ctx & CTX_RANGE))
		return NULL;
	for (uint32_t j = 0; j < k; j++)
		r += (parts[j].left_ctx & CTX_RANGE) != 0;
	return ranges_of(p) + r;
}

/* Every array of a pattern, found once per call. get_ptrs_fast finds what
 * the straight loop reads; ptrs_rest adds groups and alternatives. */
struct ptrs {
	const struct pattern *p;
	const uint32_t *elems;
	const uint8_t *pool;
	const uint8_t *sets;
	const uint32_t *aelems;
	const struct pgroup *groups;
	const struct palt *alts;
};

static inline void get_ptrs_fast(const struct pattern *p, struct ptrs *q)
{
	q->p = p;
	q->elems = elems_of(p);
	q->pool = (const uint8_t *)(q->elems + p->nelems);
	/* the elements end 4-aligned, so the sets start at the pool's end
	 * rounded up to 4 */
	q->sets = q->pool + ((p->nbytes + 3u) & ~3u);
}

static void ptrs_rest(struct ptrs *q)
{
	const struct pattern_ext *x = ext_of(q->p);

	q->aelems = (const uint32_t *)(const void *)(q->sets + (size_t)x->nsets * 32);
	q->groups = (const struct pgroup *)(const void *)(q->aelems + x->naltelems);
	q->alts = (const struct palt *)(const void *)(q->groups + x->ngroups);
}

static void get_ptrs(const struct pattern *p, struct ptrs *q)
{
	get_ptrs_fast(p, q);
	ptrs_rest(q);
}

/* ClamAV's boundary[] table (matcher-ac.c), confirmed byte by byte with
 * clamscan: 1 may precede a match, 2 may follow it, 3 both. */
static uint8_t boundary_class(uint8_t c)
{
	switch (c) {
	case ' ': case '-': case '/': case '_':
		return 3;
	case '.': case '<': case '@':
		return 1;
	case '\n': case '\r': case '"': case '\'': case '=': case '>':
		return 2;
	default:
		return 0;
	}
}

/* isalnum() in the C locale, which is what clamscan uses (0xe9 counts as
 * non-alphanumeric in experiments). */
static bool is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* ---------------------------------------------------------------------- */
/* Growable arrays for the compiler                                       */
/* ---------------------------------------------------------------------- */

struct vec {
	void *p;
	size_t n;
	size_t cap;
	size_t esz;
};

static bool vec_grow(struct vec *v, size_t extra)
{
	size_t need, cap;
	void *np;

	if (__builtin_add_overflow(v->n, extra, &need))
		return false;
	if (need <= v->cap)
		return true;
	cap = v->cap ? v->cap : 16;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return false;
		cap *= 2;
	}
	np = vg_reallocarray(v->p, cap, v->esz);
	if (!np)
		return false;
	v->p = np;
	v->cap = cap;
	return true;
}

static bool vec_push(struct vec *v, const void *e)
{
	if (v->n == v->cap && !vec_grow(v, 1))
		return false;
	memcpy((uint8_t *)v->p + v->n * v->esz, e, v->esz);
	v->n++;
	return true;
}

static void *vec_at(const struct vec *v, size_t i)
{
	return (uint8_t *)v->p + i * v->esz;
}

static void vec_free(struct vec *v)
{
	vg_free(v->p);
	v->p = NULL;
	v->n = v->cap = 0;
}

/* Text with the original column of every character, so errors point into
 * what the user wrote even after {n} inlining and part splitting. */
struct txt {
	char *c;
	uint32_t *col;
	size_t n;
	size_t cap;
};

static bool txt_reserve(struct txt *t, size_t extra)
{
	size_t need, cap;
	char *nc;
	uint32_t *ncol;

	if (__builtin_add_overflow(t->n, extra, &need))
		return false;
	if (need <= t->cap)
		return true;
	cap = t->cap ? t->cap : 64;
	while (cap < need)
		cap *= 2;
	nc = vg_realloc(t->c, cap);
	if (!nc)
		return false;
	t->c = nc;
	ncol = vg_reallocarray(t->col, cap, sizeof(*ncol));
	if (!ncol)
		return false;
	t->col = ncol;
	t->cap = cap;
	return true;
}

static bool txt_push(struct txt *t, char ch, uint32_t col)
{
	if (!txt_reserve(t, 1))
		return false;
	t->c[t->n] = ch;
	t->col[t->n] = col;
	t->n++;
	return true;
}

static bool txt_append(struct txt *t, const struct txt *s, size_t from, size_t to)
{
	if (to <= from)
		return true;
	if (!txt_reserve(t, to - from))
		return false;
	memcpy(t->c + t->n, s->c + from, to - from);
	memcpy(t->col + t->n, s->col + from, (to - from) * sizeof(uint32_t));
	t->n += to - from;
	return true;
}

/* t[from, to) without copying; not to be grown or freed. */
static struct txt txt_view(const struct txt *t, size_t from, size_t to)
{
	struct txt v = {t->c + from, t->col + from, to - from, 0};

	return v;
}

static void txt_free(struct txt *t)
{
	vg_free(t->c);
	vg_free(t->col);
	memset(t, 0, sizeof(*t));
}

static size_t find_char(const struct txt *t, size_t from, size_t to, char ch)
{
	for (size_t i = from; i < to; i++)
		if (t->c[i] == ch)
			return i;
	return SIZE_MAX;
}

/* ---------------------------------------------------------------------- */
/* Compiler state                                                         */
/* ---------------------------------------------------------------------- */

/* What ClamAV's cli_hex2ui makes of a pair of characters: its element kinds
 * drive the static-run and prefilter rules, which are stated on them. */
enum clam_kind { CK_CHAR, CK_IGNORE, CK_NHIGH, CK_NLOW, CK_SPECIAL };
enum spec_type { SP_ALTCHAR, SP_FIXED, SP_GENERIC, SP_BOUND, SP_LINE, SP_WORD };

struct special {
	uint8_t type;
	bool neg;
	uint32_t arg; /* set index for SP_ALTCHAR, group index for SP_FIXED/SP_GENERIC */
};

/* The compiler's elements, one per ClamAV element ("??" pairs and bytes
 * not yet merged); assemble() packs them. */
struct ielem {
	uint8_t op;
	uint8_t a;
	uint8_t b;
	uint32_t arg;
};

struct igroup {
	uint32_t alt_first;
	uint32_t nalts;
	uint32_t min_len;
	uint32_t max_len;
	uint32_t neg;   /* only for fixed-length groups: none of the alternatives */
	uint32_t fixed; /* ClamAV's "fixed": same length, static bytes only */
};

struct ialt {
	uint32_t elem_first; /* OP_BYTE / OP_MASK / OP_ANY only */
	uint32_t elem_count;
	uint32_t len;
};

struct irpart {
	uint64_t gap_min, gap_max;
	uint32_t elem_first, elem_count;
	uint32_t clam_prefix;
	uint8_t left_ctx, right_ctx;
	uint8_t chl_kind, chl_val, chl_min, chl_max;
	uint8_t chr_kind, chr_val, chr_min, chr_max;
};

struct cc {
	struct pattern_error *err;
	struct vec parts;  /* struct irpart */
	struct vec elems;  /* struct ielem */
	struct vec groups; /* struct igroup */
	struct vec alts;   /* struct ialt */
	struct vec sets;   /* uint8_t[32] */
	uint32_t bw_set[4]; /* the (B), !(B), (W), !(W) set once made, else UINT32_MAX */
	bool filter_ok;
	uint32_t partno; /* 1-based, as ClamAV numbers parts */
};

static vg_status fail(struct cc *c, uint32_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static vg_status fail(struct cc *c, uint32_t col, const char *fmt, ...)
{
	va_list ap;

	if (c->err) {
		c->err->column = col;
		va_start(ap, fmt);
		vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
		va_end(ap);
	}
	return VG_EFORMAT;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static vg_status bad_char(struct cc *c, const struct txt *t, size_t i)
{
	if (t->c[i] == '!')
		return fail(c, t->col[i], "'!' must come right before '('");
	if ((unsigned char)t->c[i] < 0x21 || (unsigned char)t->c[i] > 0x7e)
		return fail(c, t->col[i], "bad hex digit (byte 0x%02x)", (unsigned char)t->c[i]);
	return fail(c, t->col[i], "bad hex digit '%c'", t->c[i]);
}

static bool is_scanf_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

/* scanf's %u / %zu: optional white space, optional sign, digits. A minus
 * negates modulo 2^64 as strtoul does; the result saturates on overflow. */
static bool scan_unsigned(const char *s, size_t n, size_t *pos, uint64_t *out)
{
	size_t i = *pos;
	bool neg = false, any = false;
	uint64_t v = 0;

	while (i < n && is_scanf_space(s[i]))
		i++;
	if (i < n && (s[i] == '+' || s[i] == '-')) {
		neg = s[i] == '-';
		i++;
	}
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + d;
		any = true;
		i++;
	}
	if (!any)
		return false;
	*pos = i;
	*out = neg ? (uint64_t)0 - v : v;
	return true;
}

static bool set_add_bits(struct cc *c, const uint8_t bits[32], uint32_t *idx)
{
	if (c->sets.n >= UINT32_MAX)
		return false;
	*idx = (uint32_t)c->sets.n;
	return vec_push(&c->sets, bits);
}

static bool push_elem(struct cc *c, uint8_t op, uint8_t a, uint8_t b, uint32_t arg)
{
	struct ielem e = {op, a, b, arg};

	if (c->elems.n == c->elems.cap && !vec_grow(&c->elems, 1))
		return false;
	((struct ielem *)c->elems.p)[c->elems.n++] = e;
	return true;
}

/* ---------------------------------------------------------------------- */
/* Alternatives                                                           */
/* ---------------------------------------------------------------------- */

/* ClamAV's ac_analyze_expr: number of top-level alternatives, whether they
 * are "fixed" (same length, no '?', no nested group) and the longest. */
static void analyze_expr(const char *s, size_t n, uint32_t *num, bool *fixed, size_t *slen_out)
{
	long level = 0;
	size_t len = 0, slen = 0;
	bool flen = true;
	uint32_t numexpr = 1;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '(') {
			flen = false;
			level++;
		} else if (s[i] == ')') {
			if (!level) {
				if (!slen) {
					slen = len;
				} else if (len != slen) {
					flen = false;
					if (len > slen)
						slen = len;
				}
				break;
			}
			level--;
		}
		if (!level && s[i] == '|') {
			if (!slen) {
				slen = len;
			} else if (len != slen) {
				flen = false;
				if (len > slen)
					slen = len;
			}
			len = 0;
			numexpr++;
		} else {
			if (s[i] == '?')
				flen = false;
			len++;
		}
	}
	if (!slen) {
		slen = len;
	} else if (len != slen) {
		flen = false;
		if (len > slen)
			slen = len;
	}
	*num = numexpr;
	*fixed = flen;
	*slen_out = slen;
}

/* Parse pairs of hex text into simple elements (bytes, nibbles, ??) as
 * cli_hex2ui does; used for generic alternative strings. */
static vg_status simple_elems(struct cc *c, const struct txt *t, size_t from, size_t to,
			      uint32_t col0, uint32_t *len)
{
	if ((to - from) % 2) {
		return fail(c, to > from ? t->col[to - 1] : col0,
			    "odd number of hex digits in alternative");
	}
	*len = 0;
	for (size_t i = from; i < to; i += 2) {
		char h = t->c[i], l = t->c[i + 1];
		int hv = hexval(h), lv = hexval(l);
		bool ok;

		if (h == '?' && l == '?') {
			ok = push_elem(c, OP_ANY, 0, 0, 1);
		} else if (l == '?') {
			if (hv < 0)
				return bad_char(c, t, i);
			ok = push_elem(c, OP_MASK, (uint8_t)(hv << 4), 0xf0, 0);
		} else if (h == '?') {
			if (lv < 0)
				return bad_char(c, t, i + 1);
			ok = push_elem(c, OP_MASK, (uint8_t)lv, 0x0f, 0);
		} else {
			if (hv < 0)
				return bad_char(c, t, i);
			if (lv < 0)
				return bad_char(c, t, i + 1);
			ok = push_elem(c, OP_BYTE, (uint8_t)(hv << 4 | lv), 0, 0);
		}
		if (!ok)
			return VG_ENOMEM;
		(*len)++;
	}
	return VG_OK;
}

/* Expansion of a generic alternative into plain strings, in the regular-
 * language sense: "a(b|c)d|e" -> abd, acd, e. ClamAV expands the same way
 * (ac_special_altexpand). Each finished string is kept in out (text). */
struct expansion {
	struct txt *strs;   /* finished strings */
	size_t nstrs;
	size_t cap;
};

static void expansion_free(struct expansion *x)
{
	for (size_t i = 0; i < x->nstrs; i++)
		txt_free(&x->strs[i]);
	vg_free(x->strs);
	memset(x, 0, sizeof(*x));
}

/* Split s[from,to) into top-level alternatives at '|'; returns the ends. */
static size_t next_top_bar(const struct txt *t, size_t from, size_t to)
{
	long level = 0;

	for (size_t i = from; i < to; i++) {
		if (t->c[i] == '(')
			level++;
		else if (t->c[i] == ')')
			level--;
		else if (t->c[i] == '|' && level == 0)
			return i;
	}
	return to;
}

static size_t match_paren(const struct txt *t, size_t open, size_t to)
{
	long level = 0;

	for (size_t i = open + 1; i < to; i++) {
		if (t->c[i] == '(') {
			level++;
		} else if (t->c[i] == ')') {
			if (!level)
				return i;
			level--;
		}
	}
	return SIZE_MAX;
}

static vg_status expand(struct cc *c, const struct txt *t, size_t from, size_t to,
			struct expansion *in, struct expansion *out);

/* Append every string of the sequence t[from,to) (text and groups) to each
 * string of prefixes, producing out. */
static vg_status expand_seq(struct cc *c, const struct txt *t, size_t from, size_t to,
			    struct expansion *prefixes, struct expansion *out)
{
	struct expansion cur = *prefixes, next = {0};
	vg_status rc = VG_OK;
	size_t i = from;

	memset(prefixes, 0, sizeof(*prefixes));
	while (i < to) {
		if (t->c[i] == '(') {
			size_t close = match_paren(t, i, to);

			if (close == SIZE_MAX) {
				rc = fail(c, t->col[i], "missing ')'");
				goto out;
			}
			if (i > from && t->c[i - 1] == '!') {
				rc = fail(c, t->col[i - 1],
					  "'!' inside a generic alternative: only fixed-length alternatives can be negated");
				goto out;
			}
			rc = expand(c, t, i + 1, close, &cur, &next);
			if (rc)
				goto out;
			expansion_free(&cur);
			cur = next;
			memset(&next, 0, sizeof(next));
			i = close + 1;
		} else {
			size_t j = i;

			while (j < to && t->c[j] != '(')
				j++;
			if (t->c[j - 1] == '!' && j < to) {
				rc = fail(c, t->col[j - 1],
					  "'!' inside a generic alternative: only fixed-length alternatives can be negated");
				goto out;
			}
			for (size_t k = 0; k < cur.nstrs; k++) {
				if (!txt_append(&cur.strs[k], t, i, j)) {
					rc = VG_ENOMEM;
					goto out;
				}
			}
			i = j;
		}
	}
	*out = cur;
	memset(&cur, 0, sizeof(cur));
out:
	expansion_free(&cur);
	expansion_free(&next);
	return rc;
}

/* Every alternative of t[from,to), each prefixed by each string of in;
 * appended to out. in is left untouched. */
static vg_status expand(struct cc *c, const struct txt *t, size_t from, size_t to,
			struct expansion *in, struct expansion *out)
{
	size_t i = from;
	vg_status rc = VG_OK;

	for (;;) {
		size_t bar = next_top_bar(t, i, to);
		struct expansion pre = {0}, res = {0};

		/* copy in */
		pre.strs = vg_calloc(in->nstrs ? in->nstrs : 1, sizeof(struct txt));
		if (!pre.strs)
			return VG_ENOMEM;
		pre.cap = in->nstrs;
		for (size_t k = 0; k < in->nstrs; k++) {
			pre.nstrs++;
			if (!txt_append(&pre.strs[k], &in->strs[k], 0, in->strs[k].n)) {
				expansion_free(&pre);
				return VG_ENOMEM;
			}
		}
		rc = expand_seq(c, t, i, bar, &pre, &res);
		expansion_free(&pre);
		if (rc) {
			expansion_free(&res);
			return rc;
		}
		if (out->nstrs + res.nstrs > PAT_MAX_ALTS) {
			expansion_free(&res);
			return fail(c, t->col[from > 0 ? from - 1 : 0],
				    "alternative expands to more than %u strings", PAT_MAX_ALTS);
		}
		if (out->nstrs + res.nstrs > out->cap) {
			size_t ncap = (out->nstrs + res.nstrs) * 2;
			struct txt *ns = vg_reallocarray(out->strs, ncap, sizeof(*ns));

			if (!ns) {
				expansion_free(&res);
				return VG_ENOMEM;
			}
			out->strs = ns;
			out->cap = ncap;
		}
		for (size_t k = 0; k < res.nstrs; k++)
			out->strs[out->nstrs++] = res.strs[k];
		vg_free(res.strs);
		if (bar >= to)
			break;
		i = bar + 1;
	}
	return VG_OK;
}

/* ClamAV's strtok: fields separated by runs of delimiters; a leading
 * delimiter makes field 0 missing. Returns false when the field is missing. */
static bool strtok_field(const char *s, size_t n, unsigned fieldno, char delim,
			 size_t *from, size_t *to)
{
	unsigned counter = 0;
	size_t i = 0, j;

	for (i = 0; i < n && counter != fieldno; i++) {
		if (s[i] == delim) {
			counter++;
			while (i + 1 < n && s[i + 1] == delim)
				i++;
		}
	}
	if (i >= n)
		return false;
	for (j = i; j < n && s[j] != delim; j++)
		;
	if (i == j)
		return false;
	*from = i;
	*to = j;
	return true;
}

/* The content of one "( )" that is not (B)/(L)/(W): ClamAV's
 * ac_special_altstr. Produces the special's description. */
static vg_status compile_alt(struct cc *c, const struct txt *t, size_t from, size_t to,
			     bool neg, uint32_t col_open, struct special *sp)
{
	uint32_t num;
	bool fixed;
	size_t slen;
	vg_status rc;

	analyze_expr(t->c + from, to - from, &num, &fixed, &slen);
	if (fixed) {
		size_t blen = slen / 2;
		struct igroup g = {0};

		if (blen == 1 && slen == 2) {
			uint8_t bits[32] = {0};

			for (uint32_t i = 0; i < num; i++) {
				size_t a, b;
				int hv, lv;

				if (!strtok_field(t->c + from, to - from, i, '|', &a, &b))
					return fail(c, col_open, "empty alternative in ( )");
				a += from;
				b += from;
				if (b - a != 2)
					return fail(c, t->col[a], "alternatives of different lengths");
				hv = hexval(t->c[a]);
				lv = hexval(t->c[a + 1]);
				if (hv < 0)
					return bad_char(c, t, a);
				if (lv < 0)
					return bad_char(c, t, a + 1);
				bits[(hv << 4 | lv) >> 3] |= (uint8_t)(1u << ((hv << 4 | lv) & 7));
			}
			if (neg)
				for (int k = 0; k < 32; k++)
					bits[k] = (uint8_t)~bits[k];
			sp->type = SP_ALTCHAR;
			sp->neg = neg;
			if (!set_add_bits(c, bits, &sp->arg))
				return VG_ENOMEM;
			return VG_OK;
		}
		if (slen % 2 || blen == 0)
			return fail(c, col_open, "odd number of hex digits in alternative");
		g.alt_first = (uint32_t)c->alts.n;
		g.neg = neg;
		g.fixed = 1;
		g.min_len = g.max_len = (uint32_t)blen;
		for (uint32_t i = 0; i < num; i++) {
			size_t a, b;
			struct ialt alt;

			if (!strtok_field(t->c + from, to - from, i, '|', &a, &b))
				return fail(c, col_open, "empty alternative in ( )");
			a += from;
			b += from;
			for (size_t k = a; k < b; k++) {
				if (hexval(t->c[k]) < 0)
					return bad_char(c, t, k);
			}
			alt.elem_first = (uint32_t)c->elems.n;
			rc = simple_elems(c, t, a, b, t->col[a], &alt.len);
			if (rc)
				return rc;
			if (alt.len != blen)
				return fail(c, t->col[a], "alternatives of different lengths");
			alt.elem_count = (uint32_t)(c->elems.n - alt.elem_first);
			if (!vec_push(&c->alts, &alt))
				return VG_ENOMEM;
		}
		g.nalts = num;
		sp->type = SP_FIXED;
		sp->neg = neg;
		sp->arg = (uint32_t)c->groups.n;
		if (!vec_push(&c->groups, &g))
			return VG_ENOMEM;
		return VG_OK;
	}

	if (neg) {
		return fail(c, col_open,
			    "can't negate a generic alternative (different lengths, '?' or nested groups)");
	}

	/* generic */
	{
		struct expansion seed = {0}, res = {0};
		struct igroup g = {0};

		seed.strs = vg_calloc(1, sizeof(struct txt));
		if (!seed.strs)
			return VG_ENOMEM;
		seed.nstrs = seed.cap = 1;
		rc = expand(c, t, from, to, &seed, &res);
		expansion_free(&seed);
		if (rc) {
			expansion_free(&res);
			return rc;
		}
		g.alt_first = (uint32_t)c->alts.n;
		g.min_len = UINT32_MAX;
		for (size_t i = 0; i < res.nstrs; i++) {
			struct ialt alt;

			alt.elem_first = (uint32_t)c->elems.n;
			rc = simple_elems(c, &res.strs[i], 0, res.strs[i].n, col_open, &alt.len);
			if (rc) {
				expansion_free(&res);
				return rc;
			}
			alt.elem_count = (uint32_t)(c->elems.n - alt.elem_first);
			if (!vec_push(&c->alts, &alt)) {
				expansion_free(&res);
				return VG_ENOMEM;
			}
			if (alt.len < g.min_len)
				g.min_len = alt.len;
			if (alt.len > g.max_len)
				g.max_len = alt.len;
		}
		g.nalts = (uint32_t)res.nstrs;
		expansion_free(&res);
		sp->type = SP_GENERIC;
		sp->neg = false;
		sp->arg = (uint32_t)c->groups.n;
		if (!vec_push(&c->groups, &g))
			return VG_ENOMEM;
		return VG_OK;
	}
}

/* ---------------------------------------------------------------------- */
/* One part: ClamAV's cli_ac_addsig                                       */
/* ---------------------------------------------------------------------- */

static bool parse_ch(const struct txt *t, size_t at, uint8_t *kind, uint8_t *val)
{
	char h = t->c[at], l = t->c[at + 1];
	int hv = hexval(h), lv = hexval(l);

	/* ClamAV skips the check when the byte's flags include its "ignore"
	 * bit, which "??" and the high-nibble form "h?" both do (matcher.h:
	 * NIBBLE_HIGH is 0x300); only "?h" and full bytes are checked. */
	if (h == '?' && l == '?') {
		*kind = CH_NONE;
	} else if (l == '?') {
		if (hv < 0)
			return false;
		*kind = CH_NONE;
	} else if (h == '?') {
		if (lv < 0)
			return false;
		*kind = CH_LOW;
		*val = (uint8_t)lv;
	} else {
		if (hv < 0 || lv < 0)
			return false;
		*kind = CH_BYTE;
		*val = (uint8_t)(hv << 4 | lv);
	}
	return true;
}

static vg_status bad_pair(struct cc *c, const struct txt *t, size_t i, size_t end)
{
	if (i + 1 >= end)
		return fail(c, t->col[i], "odd number of hex digits");
	if (hexval(t->c[i]) < 0 && t->c[i] != '?')
		return bad_char(c, t, i);
	return bad_char(c, t, i + 1);
}

/* Number of elements ClamAV leaves before its Aho-Corasick start (its
 * "prefix"): cli_ac_addsig shifts the trie start right when the first three
 * elements hold a wildcard or are all zero, to the last longest static run of
 * up to three, preferring one that does not start with two zero bytes. */
static size_t clam_prefix_len(const uint8_t *kinds, const uint16_t *vals, size_t len)
{
	const size_t mindepth = 2, maxdepth = 3;
	bool wprefix = false, zprefix = true;
	size_t plen = 0, ppos = 0, nzplen = 0, nzpos = 0, pend;

	for (size_t i = 0; i < maxdepth && i < len; i++) {
		if (kinds[i] != CK_CHAR) {
			wprefix = true;
			break;
		}
		if (zprefix && vals[i] != 0)
			zprefix = false;
	}
	if (!wprefix && !zprefix)
		return 0;
	if (len < mindepth)
		return 0;
	pend = len - mindepth + 1;
	for (size_t i = 0; i < pend; i++) {
		for (size_t j = i; j < i + maxdepth && j < len; j++) {
			if (kinds[j] != CK_CHAR)
				break;
			if (j - i + 1 >= plen) {
				plen = j - i + 1;
				ppos = i;
			}
			if (vals[ppos] != 0 || (len > ppos + 1 && vals[ppos + 1] != 0)) {
				if (plen >= maxdepth)
					break;
				if (plen >= mindepth && plen > nzplen) {
					nzplen = plen;
					nzpos = ppos;
				}
			}
		}
		if (plen >= maxdepth && (vals[ppos] != 0 || vals[ppos + 1] != 0))
			break;
	}
	if (nzplen && len > ppos + 1 && vals[ppos] == 0 && vals[ppos + 1] == 0) {
		plen = nzplen;
		ppos = nzpos;
	}
	return plen < mindepth ? 0 : ppos;
}

static vg_status compile_part(struct cc *c, const struct txt *pt, uint32_t col0,
			      uint64_t gap_min, uint64_t gap_max)
{
	struct irpart ip = {0};
	struct txt hexnew = {0};
	bool hexnew_view = false;
	struct vec specials = {0};
	uint8_t *kinds = NULL, kinds_buf[256];
	uint16_t *vals = NULL, vals_buf[256];
	size_t hs = 0, he = pt->n; /* the part minus its [n-m] anchors */
	size_t nkinds = 0;
	vg_status rc = VG_OK;

	specials.esz = sizeof(struct special);
	ip.gap_min = gap_min;
	ip.gap_max = gap_max;

	if (pt->n / 2 < 2) {
		rc = fail(c, pt->n ? pt->col[0] : col0,
			  "part %u is too short: a part needs at least 2 bytes", c->partno);
		goto out;
	}

	/* [n-m]: at most one on each side, next to exactly one byte */
	if (find_char(pt, 0, pt->n, '[') != SIZE_MAX) {
		for (int side = 0; side < 2; side++) {
			size_t lb = find_char(pt, hs, he, '['), rb, pos = 0;
			uint64_t n1 = 0, n2 = 0;
			uint32_t nconv = 0;
			const char *s;
			size_t slen;

			if (lb == SIZE_MAX)
				break;
			rb = find_char(pt, lb + 1, pt->n, ']');
			if (rb == SIZE_MAX) {
				rc = fail(c, pt->col[lb], "missing ']'");
				goto out;
			}
			s = pt->c + lb + 1;
			slen = rb - lb - 1;
			if (scan_unsigned(s, slen, &pos, &n1)) {
				nconv = 1;
				if (pos < slen && s[pos] == '-') {
					pos++;
					if (scan_unsigned(s, slen, &pos, &n2))
						nconv = 2;
				}
			}
			if (nconv == 0) {
				rc = fail(c, pt->col[lb], "bad range: expected [n] or [n-m]");
				goto out;
			}
			if (nconv == 1)
				n2 = n1;
			/* ClamAV reads the numbers as unsigned int */
			n1 &= 0xffffffffu;
			n2 &= 0xffffffffu;
			if (n1 > n2) {
				rc = fail(c, pt->col[lb], "range [%.*s]: minimum above maximum",
					  (int)(slen < 40 ? slen : 40), s);
				goto out;
			}
			if (n2 > VG_MAX_RANGE_ANCHOR) {
				rc = fail(c, pt->col[lb], "range [%.*s]: maximum is %u",
					  (int)(slen < 40 ? slen : 40), s, VG_MAX_RANGE_ANCHOR);
				goto out;
			}
			if (lb - hs == 2) {
				if (side) {
					rc = fail(c, pt->col[lb],
						  "second [n-m] range must follow the pattern, before its last byte");
					goto out;
				}
				if (!parse_ch(pt, hs, &ip.chl_kind, &ip.chl_val)) {
					rc = bad_pair(c, pt, hs, lb);
					goto out;
				}
				ip.chl_min = (uint8_t)n1;
				ip.chl_max = (uint8_t)n2;
				hs = rb + 1;
			} else if (pt->n - (rb + 1) == 2) {
				if (!parse_ch(pt, rb + 1, &ip.chr_kind, &ip.chr_val)) {
					rc = bad_pair(c, pt, rb + 1, pt->n);
					goto out;
				}
				ip.chr_min = (uint8_t)n1;
				ip.chr_max = (uint8_t)n2;
				he = lb;
				break;
			} else {
				rc = fail(c, pt->col[lb],
					  "[n-m] needs exactly one byte on one side: hh[n-m]... or ...[n-m]hh");
				goto out;
			}
		}
	}

	/* ( ): boundaries at the ends become context checks, everything else a
	 * special element marked "()" in hexnew, as ClamAV rewrites it. Without
	 * any, hexnew is the text itself. */
	if (find_char(pt, hs, he, '(') == SIZE_MAX) {
		hexnew = txt_view(pt, hs, he);
		hexnew_view = true;
	} else {
		size_t start = hs;

		for (;;) {
			size_t open = find_char(pt, start, he, '('), close, q;
			long level = 0;
			uint32_t nest = 0;
			bool neg;
			struct special sp = {0};
			size_t clen;

			if (open == SIZE_MAX)
				break;
			neg = open >= hs + 1 && pt->c[open - 1] == '!';
			if (!txt_append(&hexnew, pt, start, neg ? open - 1 : open)) {
				rc = VG_ENOMEM;
				goto out;
			}
			close = SIZE_MAX;
			for (q = open + 1; q < he; q++) {
				if (pt->c[q] == '(') {
					nest++;
					level++;
				} else if (pt->c[q] == ')') {
					if (!level) {
						close = q;
						break;
					}
					level--;
				}
			}
			if (close == SIZE_MAX) {
				rc = fail(c, pt->col[open], "missing ')'");
				goto out;
			}
			clen = close - open - 1;
			if (!clen) {
				rc = fail(c, pt->col[open], "empty ( )");
				goto out;
			}
			if (nest > VG_MAX_ALT_NEST) {
				rc = fail(c, pt->col[open], "alternatives nested deeper than %u",
					  VG_MAX_ALT_NEST);
				goto out;
			}
			if (clen == 1 && (pt->c[open + 1] == 'B' || pt->c[open + 1] == 'L' ||
					  pt->c[open + 1] == 'W')) {
				uint8_t bit = pt->c[open + 1] == 'B' ? CTX_B :
					      pt->c[open + 1] == 'L' ? CTX_L : CTX_W;
				uint8_t nbit = (uint8_t)(bit << 3);

				if (close + 1 == he) {
					ip.right_ctx |= (uint8_t)(bit | (neg ? nbit : 0));
					start = close + 1;
					continue;
				}
				if (open == hs) {
					ip.left_ctx |= bit;
					start = close + 1;
					continue;
				}
				sp.type = bit == CTX_B ? SP_BOUND : bit == CTX_L ? SP_LINE : SP_WORD;
				sp.neg = neg;
			} else if (clen == 1 && hexval(pt->c[open + 1]) < 0 && pt->c[open + 1] != '?') {
				rc = fail(c, pt->col[open + 1], "unknown class (%c): use (B), (L) or (W)",
					  pt->c[open + 1]);
				goto out;
			} else {
				rc = compile_alt(c, pt, open + 1, close, neg, pt->col[open], &sp);
				if (rc)
					goto out;
			}
			if (!txt_push(&hexnew, '(', pt->col[open]) ||
			    !txt_push(&hexnew, ')', pt->col[open]) || !vec_push(&specials, &sp)) {
				rc = VG_ENOMEM;
				goto out;
			}
			start = close + 1;
		}
		if (!txt_append(&hexnew, pt, start, he)) {
			rc = VG_ENOMEM;
			goto out;
		}
	}

	/* cli_hex2ui over hexnew */
	if (hexnew.n % 2) {
		for (size_t i = 0; i < hexnew.n; i++) {
			char ch = hexnew.c[i];
			if (hexval(ch) < 0 && ch != '?' && ch != '(' && ch != ')') {
				rc = bad_char(c, &hexnew, i);
				goto out;
			}
		}
		rc = fail(c, hexnew.n ? hexnew.col[hexnew.n - 1] : col0, "odd number of hex digits");
		goto out;
	}
	if (hexnew.n / 2 + 1 <= sizeof(kinds_buf)) {
		kinds = kinds_buf;
		vals = vals_buf;
		memset(vals, 0, (hexnew.n / 2 + 1) * sizeof(*vals));
	} else {
		kinds = vg_malloc(hexnew.n / 2 + 1);
		vals = vg_calloc(hexnew.n / 2 + 1, sizeof(*vals));
		if (!kinds || !vals) {
			rc = VG_ENOMEM;
			goto out;
		}
	}
	ip.elem_first = (uint32_t)c->elems.n;
	{
		size_t si = 0;

		for (size_t i = 0; i < hexnew.n; i += 2) {
			char h = hexnew.c[i], l = hexnew.c[i + 1];
			int hv = hexval(h), lv = hexval(l);
			bool ok = true;

			if (h == '?' && l == '?') {
				kinds[nkinds++] = CK_IGNORE;
				ok = push_elem(c, OP_ANY, 0, 0, 1);
			} else if (l == '?') {
				if (hv < 0) {
					rc = bad_char(c, &hexnew, i);
					goto out;
				}
				kinds[nkinds++] = CK_NHIGH;
				ok = push_elem(c, OP_MASK, (uint8_t)(hv << 4), 0xf0, 0);
			} else if (h == '?') {
				if (lv < 0) {
					rc = bad_char(c, &hexnew, i + 1);
					goto out;
				}
				kinds[nkinds++] = CK_NLOW;
				ok = push_elem(c, OP_MASK, (uint8_t)lv, 0x0f, 0);
			} else if (h == '(') {
				const struct special *sp;
				uint8_t bits[32] = {0};
				uint32_t idx;

				if (l != ')' || si >= specials.n) {
					rc = fail(c, hexnew.col[i], "misplaced '('");
					goto out;
				}
				sp = vec_at(&specials, si++);
				kinds[nkinds++] = CK_SPECIAL;
				switch (sp->type) {
				case SP_ALTCHAR: {
					const uint8_t *b = vec_at(&c->sets, sp->arg);
					uint32_t cnt = 0, nin = 0, nout = 0, in[3] = {0}, out[3] = {0};

					for (uint32_t v = 0; v < 256; v++) {
						if (b[v >> 3] & (1u << (v & 7))) {
							cnt++;
							if (nin < 3)
								in[nin++] = v;
						} else if (nout < 3) {
							out[nout++] = v;
						}
					}
					/* a one-byte set is a byte: it may join an anchor;
					 * two or three bytes, or all but those, fit in
					 * the element */
					if (cnt == 1)
						ok = push_elem(c, OP_BYTE, (uint8_t)in[0], 0, 0);
					else if (cnt >= 2 && cnt <= 3)
						ok = push_elem(c, OP_SMALLSET, 0, 0,
							       in[0] | in[1] << 8 | in[cnt - 1] << 16);
					else if (cnt >= 253 && cnt <= 255)
						ok = push_elem(c, OP_SMALLSET, 0, 0,
							       out[0] | out[(256 - cnt) > 1] << 8 |
								       out[255 - cnt] << 16 | 1u << 24);
					else
						ok = push_elem(c, OP_SET, 0, 0, sp->arg);
					break;
				}
				case SP_FIXED:
				case SP_GENERIC:
					ok = push_elem(c, OP_GROUP, 0, 0, sp->arg);
					break;
				case SP_LINE:
					ok = push_elem(c, sp->neg ? OP_NLINE : OP_LINE, 0, 0, 0);
					break;
				case SP_BOUND:
				case SP_WORD: {
					uint32_t *known = &c->bw_set[(sp->type == SP_WORD) * 2 + sp->neg];

					for (int v = 0; v < 256; v++) {
						bool in = sp->type == SP_BOUND ? boundary_class((uint8_t)v) != 0
									       : !is_alnum((uint8_t)v);
						if (sp->neg)
							in = !in;
						if (in)
							bits[v >> 3] |= (uint8_t)(1u << (v & 7));
						else
							bits[v >> 3] &= (uint8_t)~(1u << (v & 7));
					}
					/* b = 1: ClamAV counts this byte as zero wide in its
					 * offset pre-check (pattern_clam_offset_visible) */
					if (*known == UINT32_MAX && set_add_bits(c, bits, &idx))
						*known = idx;
					ok = *known != UINT32_MAX && push_elem(c, OP_SET, 0, 1, *known);
					break;
				}
				default:
					break;
				}
			} else {
				if (hv < 0 || lv < 0) {
					rc = bad_pair(c, &hexnew, i, hexnew.n);
					goto out;
				}
				vals[nkinds] = (uint16_t)(hv << 4 | lv);
				kinds[nkinds++] = CK_CHAR;
				ok = push_elem(c, OP_BYTE, (uint8_t)(hv << 4 | lv), 0, 0);
			}
			if (!ok) {
				rc = VG_ENOMEM;
				goto out;
			}
		}
	}
	ip.elem_count = (uint32_t)(c->elems.n - ip.elem_first);
	for (size_t k = 0; k < nkinds; k++)
		if (kinds[k] != CK_CHAR)
			vals[k] = 0x100; /* ClamAV's flag bits: never zero */
	if (nkinds < 2) {
		rc = fail(c, pt->col[0], "part %u is too short: a part needs at least 2 bytes",
			  c->partno);
		goto out;
	}

	/* ClamAV's shift-or prefilter (filtering.c, on targets 0, 1, 4 and 7)
	 * models the part from its start, skipping leading specials other than
	 * single-byte alternatives, up to the first such special; it gives up on
	 * fewer than 2 positions or when every adjacent pair is "?? ??". */
	{
		size_t lim = nkinds < 255 ? nkinds : 255, i = 0, cnt = 0;
		bool all_static = true, pair_ok = false;
		const struct special *sps = specials.p;
		size_t si = 0;

		for (size_t k = 0; k < lim; k++)
			if (kinds[k] != CK_CHAR)
				all_static = false;
		if (!all_static) {
			while (i < nkinds && kinds[i] == CK_SPECIAL && sps[si].type != SP_ALTCHAR) {
				si++;
				i++;
			}
			for (; i < lim; i++) {
				if (kinds[i] == CK_SPECIAL) {
					if (sps[si].type != SP_ALTCHAR)
						break;
					si++;
				}
				if (cnt && !(kinds[i] == CK_IGNORE && kinds[i - 1] == CK_IGNORE))
					pair_ok = true;
				cnt++;
			}
			if (cnt < 2 || !pair_ok)
				c->filter_ok = false;
		}
	}

	/* ClamAV matches the elements before its trie anchor backwards, and its
	 * backward (L) differs from the forward one; find that anchor
	 * (cli_ac_addsig's "prefix" search, trie depth 2..3) to give those (L)
	 * the same meaning. */
	{
		size_t ppos = clam_prefix_len(kinds, vals, nkinds);
		struct ielem *ev = c->elems.p;

		ip.clam_prefix = (uint32_t)ppos;
		for (size_t k = 0; k < ppos; k++)
			if (ev[ip.elem_first + k].op == OP_LINE)
				ev[ip.elem_first + k].op = OP_LINE_REV;
	}

	/* every part needs a run of two fully static bytes */
	{
		bool found = false;

		for (size_t k = 0; k + 1 < nkinds; k++) {
			if (kinds[k] == CK_CHAR && kinds[k + 1] == CK_CHAR) {
				found = true;
				break;
			}
		}
		if (!found) {
			rc = fail(c, pt->col[0], "no static run of 2 bytes in part %u", c->partno);
			goto out;
		}
	}

	if (!vec_push(&c->parts, &ip))
		rc = VG_ENOMEM;
out:
	if (!hexnew_view)
		txt_free(&hexnew);
	vec_free(&specials);
	if (kinds != kinds_buf) {
		vg_free(kinds);
		vg_free(vals);
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Whole pattern: {n} inlining and splitting (readdb.c)                   */
/* ---------------------------------------------------------------------- */

/* {n} with 0 < n < 128 becomes n "??" — only ever the first '{' of the text,
 * repeatedly, as cli_add_content_match_pattern recurses; so a later small
 * {n} behind a ranged gap splits instead. */
static vg_status inline_gaps(struct cc *c, struct txt *t)
{
	for (;;) {
		size_t open = find_char(t, 0, t->n, '{'), pos, close;
		uint64_t v;
		struct txt nt = {0};

		if (open == SIZE_MAX)
			return VG_OK;
		pos = open + 1;
		if (!scan_unsigned(t->c, t->n, &pos, &v) || pos >= t->n || t->c[pos] != '}' ||
		    v == 0 || v > VG_INLINE_GAP_MAX)
			return VG_OK;
		close = pos;
		if (t->n - (close - open + 1) + 2 * v > PAT_MAX_TEXT)
			return fail(c, t->col[open], "pattern too long after expanding {n}");
		if (!txt_append(&nt, t, 0, open)) {
			txt_free(&nt);
			return VG_ENOMEM;
		}
		for (uint64_t k = 0; k < 2 * v; k++) {
			if (!txt_push(&nt, '?', t->col[open])) {
				txt_free(&nt);
				return VG_ENOMEM;
			}
		}
		if (!txt_append(&nt, t, close + 1, t->n)) {
			txt_free(&nt);
			return VG_ENOMEM;
		}
		txt_free(t);
		*t = nt;
	}
}

static bool is_number(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* atoi on a digit string; ClamAV rejects negative results, which for very
 * long numbers means garbage — we reject anything above INT32_MAX. */
static bool gap_number(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++) {
		x = x * 10 + (uint64_t)(s[i] - '0');
		if (x > INT32_MAX)
			return false;
	}
	*v = x;
	return true;
}

static vg_status parse_gap(struct cc *c, const struct txt *t, size_t open, size_t close,
			   uint64_t *gmin, uint64_t *gmax)
{
	const char *s = t->c + open + 1;
	size_t n = close - open - 1, a, b;
	uint64_t mn = 0, mx = 0;

	if (!memchr(s, '-', n)) {
		if (!is_number(s, n))
			return fail(c, t->col[open], "bad gap: expected {n}, {n-m}, {-m} or {n-}");
		if (!gap_number(s, n, &mn))
			return fail(c, t->col[open], "gap too large");
		mx = mn;
	} else {
		if (strtok_field(s, n, 0, '-', &a, &b)) {
			if (!is_number(s + a, b - a))
				return fail(c, t->col[open], "bad gap: expected {n}, {n-m}, {-m} or {n-}");
			if (!gap_number(s + a, b - a, &mn))
				return fail(c, t->col[open], "gap too large");
		}
		if (strtok_field(s, n, 1, '-', &a, &b)) {
			if (!is_number(s + a, b - a))
				return fail(c, t->col[open], "bad gap: expected {n}, {n-m}, {-m} or {n-}");
			if (!gap_number(s + a, b - a, &mx))
				return fail(c, t->col[open], "gap too large");
		}
		if (strtok_field(s, n, 2, '-', &a, &b))
			return fail(c, t->col[open], "bad gap: more than one '-'");
	}
	/* ClamAV's part matcher treats a zero maximum as "no maximum" */
	*gmin = mn;
	*gmax = mx ? mx : PATTERN_GAP_INF;
	return VG_OK;
}

static vg_status split_parts(struct cc *c, const struct txt *t)
{
	bool braces = find_char(t, 0, t->n, '{') != SIZE_MAX;
	long nest = 0;
	uint32_t nparts = 1;
	vg_status rc = VG_OK;

	for (size_t i = 0; i < t->n; i++) {
		if (t->c[i] == '(') {
			nest++;
		} else if (t->c[i] == ')') {
			nest--;
		} else if (t->c[i] == '{' && braces) {
			if (nest)
				return fail(c, t->col[i], "ranged gap {} inside ( )");
			nparts++;
		} else if (t->c[i] == '*') {
			if (nest)
				return fail(c, t->col[i], "'*' inside ( )");
			nparts++;
		}
	}
	if (nparts > VG_MAX_PATTERN_PARTS)
		return fail(c, 0, "more than %u parts", VG_MAX_PATTERN_PARTS);

	if (!braces) {
		/* '*' only: ClamAV takes parts with strtok, so any empty part
		 * (leading, trailing or doubled '*') is missing */
		size_t start = 0;

		for (uint32_t k = 0; k < nparts; k++) {
			size_t end = find_char(t, start, t->n, '*');
			struct txt pt;

			if (end == SIZE_MAX)
				end = t->n;
			if (end == start) {
				if (k == 0)
					return fail(c, t->col[start], "'*' at start of pattern");
				if (end == t->n)
					return fail(c, t->col[end - 1], "'*' at end of pattern");
				return fail(c, t->col[end], "empty part between '*'");
			}
			c->partno = k + 1;
			pt = txt_view(t, start, end);
			rc = compile_part(c, &pt, t->col[start], 0, k ? PATTERN_GAP_INF : 0);
			if (rc)
				return rc;
			start = end + 1;
		}
		return VG_OK;
	}

	{
		size_t start = 0;
		uint64_t gmin = 0, gmax = 0;

		for (uint32_t k = 0; k < nparts; k++) {
			size_t end = t->n;
			bool star = false;
			struct txt pt;

			if (k + 1 != nparts) {
				for (size_t j = start; j < t->n; j++) {
					if (t->c[j] == '{' || t->c[j] == '*') {
						end = j;
						star = t->c[j] == '*';
						break;
					}
				}
			}
			c->partno = k + 1;
			if (end == start) {
				if (k == 0)
					return fail(c, t->col[start], "%s at start of pattern",
						    star ? "'*'" : "gap");
				return fail(c, end < t->n ? t->col[end] : t->col[t->n - 1],
					    "part %u is empty", k + 1);
			}
			pt = txt_view(t, start, end);
			rc = compile_part(c, &pt, start < t->n ? t->col[start] : t->col[t->n - 1],
					  gmin, gmax);
			if (rc)
				return rc;
			if (k + 1 == nparts)
				break;
			if (star) {
				gmin = 0;
				gmax = PATTERN_GAP_INF;
				start = end + 1;
			} else {
				size_t close = find_char(t, end + 1, t->n, '}');

				if (close == SIZE_MAX)
					return fail(c, t->col[end], "missing '}'");
				rc = parse_gap(c, t, end, close, &gmin, &gmax);
				if (rc)
					return rc;
				start = close + 1;
			}
			if (start >= t->n)
				return fail(c, t->col[t->n - 1], "%s at end of pattern",
					    star ? "'*'" : "gap");
		}
	}
	return VG_OK;
}

/* ---------------------------------------------------------------------- */
/* Anchors and derived sizes                                              */
/* ---------------------------------------------------------------------- */

static uint32_t byte_weight(uint8_t b, int prev)
{
	if (b == 0x00 || b == 0xff)
		return 1;
	if (prev == b)
		return 2;
	if (b == 0x20 || b == 0x90 || b == 0xcc || b == 0x0a || b == 0x0d)
		return 4;
	return 10;
}

/* Pick the richest window of 2..32 consecutive static bytes. Longer windows
 * mean fewer prefilter hits; common filler bytes (00, ff, spaces, runs of one
 * byte) make a window hit often, and Vectorscan's literal API cannot start a
 * literal with 00. Ties go to the longer window, then to the first.
 *
 * Every byte adds at least 1 to a window's sum, so from a given start the
 * longest window scores strictly best: only that one per start is scored,
 * its sum slid along each run of bytes. */
static void choose_anchor(const struct ielem *e, uint32_t n, uint32_t *at, uint32_t *len)
{
	uint64_t best = 0;
	uint32_t best_at = 0, best_len = 0;

	for (uint32_t rs = 0; rs < n;) {
		uint32_t re = rs, end = rs + 1;
		uint64_t inner = 0; /* weights of e[i + 1 .. end), each after its predecessor */

		if (e[rs].op != OP_BYTE) {
			rs++;
			continue;
		}
		while (re < n && e[re].op == OP_BYTE)
			re++;
		for (uint32_t i = rs; i < re; i++) {
			uint32_t lim = re - i < VG_MAX_ANCHOR_LEN ? re : i + VG_MAX_ANCHOR_LEN, l;

			while (end < lim) {
				inner += byte_weight(e[end].a, e[end - 1].a);
				end++;
			}
			l = end - i;
			if (l >= 2) {
				uint64_t score = (byte_weight(e[i].a, -1) + inner) * 4;

				if (e[i].a == 0x00)
					score = score > 24 ? score - 24 : 1;
				if (score > best || (score == best && l > best_len)) {
					best = score;
					best_at = i;
					best_len = l;
				}
			}
			if (i + 1 < end)
				inner -= byte_weight(e[i + 1].a, e[i].a);
		}
		rs = re;
	}
	*at = best_at;
	*len = best_len;
}

static inline void elem_span(const struct ptrs *q, uint32_t e, uint32_t *mn, uint32_t *mx)
{
	switch (E_OP(e)) {
	case OP_ANY:
		*mn = *mx = E_ARG(e);
		break;
	case OP_BYTES:
		*mn = *mx = E_RUN_LEN(e);
		break;
	case OP_FIXALT:
		*mn = *mx = E_FIX_LEN(e);
		break;
	case OP_LINE:
	case OP_LINE_REV:
		*mn = 1;
		*mx = 2;
		break;
	case OP_GROUP:
		*mn = q->groups[E_GROUP_IDX(e)].min_len;
		*mx = q->groups[E_GROUP_IDX(e)].max_len;
		break;
	default:
		*mn = *mx = 1;
		break;
	}
}

static bool simple_op(uint32_t op)
{
	return op == OP_BYTE || op == OP_BYTES || op == OP_MASK || op == OP_ANY || op == OP_SET ||
	       op == OP_SMALLSET || op == OP_FIXALT || op == OP_NLINE;
}

/* Everything about a part that follows from its elements; computed when
 * compiling, when asked (pattern_part_info, pattern_min_len) and to check a
 * loaded pattern. False when the sizes are out of bounds. */
struct pderived {
	uint64_t pre_min, pre_len;   /* bytes the elements before the anchor span */
	uint64_t post_min, post_len; /* bytes the elements after the anchor span */
	uint64_t pre_max, post_max;  /* bytes read before / after the anchor, context included */
	bool spre, spost;            /* fixed-width elements only on that side */
};

static bool derive_part(const struct ptrs *q, const struct ppart *pp, const struct prange *rg,
			struct pderived *d)
{
	const uint32_t *e = q->elems + pp->elem_first;
	uint64_t ctxr = 0, ctxl = 0;
	uint8_t lc = pp->left_ctx & CTX_ALL, rc = pp->right_ctx & CTX_ALL;
	bool nline_post = false;

	memset(d, 0, sizeof(*d));
	d->spre = d->spost = true;
	for (uint32_t i = 0; i < pp->elem_count; i++) {
		uint32_t mn, mx, op = E_OP(e[i]);

		elem_span(q, e[i], &mn, &mx);
		if (i < pp->anchor_elem) {
			d->pre_min += mn;
			d->pre_len += mx;
			if (!simple_op(op))
				d->spre = false;
		} else if (i > pp->anchor_elem) {
			d->post_min += mn;
			d->post_len += mx;
			if (!simple_op(op))
				d->spost = false;
			if (op == OP_NLINE || op == OP_LINE_REV)
				nline_post = true;
		}
	}
	if (lc)
		ctxl = 1;
	if (rg && rg->chl_kind != CH_NONE && (uint64_t)rg->chl_max + 1 > ctxl)
		ctxl = (uint64_t)rg->chl_max + 1;
	if (rc & (CTX_B | CTX_W | CTX_NB | CTX_NW))
		ctxr = 1;
	if (rc & (CTX_L | CTX_NL))
		ctxr = 2; /* "\r\n" after the end */
	if (rg && rg->chr_kind != CH_NONE && (uint64_t)rg->chr_max + 1 > ctxr)
		ctxr = (uint64_t)rg->chr_max + 1;
	if (nline_post && ctxr < 1)
		ctxr = 1;
	d->pre_max = d->pre_len + ctxl;
	d->post_max = d->post_len + ctxr;
	return d->pre_max <= UINT32_MAX / 4 && d->post_max <= UINT32_MAX / 4;
}

/* Widest set of offsets run_general tracks over e[0..n). */
static uint32_t side_width(const struct ptrs *q, const uint32_t *e, uint32_t n)
{
	uint64_t w = 1;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t mn, mx;

		elem_span(q, e[i], &mn, &mx);
		w += mx - mn;
	}
	return w > UINT32_MAX / 4 ? UINT32_MAX / 4 : (uint32_t)w;
}

/* ---------------------------------------------------------------------- */
/* Assembling the blob                                                    */
/* ---------------------------------------------------------------------- */

static bool push_u32(struct vec *v, uint32_t x)
{
	if (v->n == v->cap && !vec_grow(v, 1))
		return false;
	((uint32_t *)v->p)[v->n++] = x;
	return true;
}

/* Packs part k's compiler elements: runs of bytes become one OP_BYTE or
 * OP_BYTES (the anchor is one of its own), runs of "??" one OP_ANY. Finds
 * where ClamAV's trie anchor (compiler element clam_at) lands. VG_ELIMIT
 * when the 16-bit fields cannot hold the part. */
/* A fixed-length group small enough for one OP_FIXALT. */
static bool fixalt_ok(const struct igroup *g)
{
	return g->fixed && g->nalts <= FIX_MAX_N && g->min_len <= FIX_MAX_LEN;
}

static vg_status pack_part(struct cc *c, const struct irpart *ip, const uint32_t *set_map,
			   const uint32_t *group_map, struct vec *pe, struct vec *pool,
			   struct ppart *pp, struct prange *rg, uint32_t clam_at, uint32_t *clam_elems,
			   uint32_t *clam_bytes)
{
	const struct ielem *e = (const struct ielem *)c->elems.p + ip->elem_first;
	const struct igroup *gv = c->groups.p;
	uint32_t n = ip->elem_count, at, alen, first = (uint32_t)pe->n;

	choose_anchor(e, n, &at, &alen);
	pp->elem_first = (uint16_t)first; /* range checked by the caller */
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i + 1, word;

		switch (e[i].op) {
		case OP_BYTE:
			if (i == at) {
				j = i + alen;
			} else {
				while (j < n && e[j].op == OP_BYTE && j != at && j - i < PAT_MAX_RUN)
					j++;
			}
			if (j - i == 1 && i != at) {
				word = MK_BYTE(e[i].a);
			} else {
				if (pool->n + (j - i) > UINT16_MAX)
					return VG_ELIMIT;
				word = MK_RUN(pool->n, j - i);
				if (!vec_grow(pool, j - i))
					return VG_ENOMEM;
				for (uint32_t k = i; k < j; k++)
					((uint8_t *)pool->p)[pool->n++] = e[k].a;
			}
			if (i == at)
				pp->anchor_elem = (uint16_t)(pe->n - first);
			break;
		case OP_ANY: {
			uint64_t cnt = e[i].arg;

			while (j < n && e[j].op == OP_ANY && j != clam_at && cnt + e[j].arg <= PAT_MAX_ANY)
				cnt += e[j++].arg;
			word = MK_ANY(cnt);
			break;
		}
		case OP_MASK:
			word = MK_MASK(e[i].a, e[i].b);
			break;
		case OP_SET:
			word = MK_SET(set_map[e[i].arg], e[i].b);
			break;
		case OP_SMALLSET:
			word = MK_SMALL(e[i].arg);
			break;
		case OP_GROUP: {
			const struct igroup *g = &gv[e[i].arg];

			if (!fixalt_ok(g)) {
				word = MK_GROUP(group_map[e[i].arg], g->neg);
				break;
			}
			/* the alternatives' bytes, one string after another */
			if (pool->n + (uint64_t)g->nalts * g->min_len > UINT16_MAX)
				return VG_ELIMIT;
			word = MK_FIXALT(pool->n, g->min_len, g->nalts, g->neg);
			if (!vec_grow(pool, (size_t)g->nalts * g->min_len))
				return VG_ENOMEM;
			for (uint32_t a = 0; a < g->nalts; a++) {
				const struct ialt *al = (const struct ialt *)c->alts.p + g->alt_first + a;
				const struct ielem *ae = (const struct ielem *)c->elems.p + al->elem_first;

				for (uint32_t k = 0; k < al->elem_count; k++)
					((uint8_t *)pool->p)[pool->n++] = ae[k].a;
			}
			break;
		}
		default: /* OP_LINE, OP_NLINE, OP_LINE_REV */
			word = e[i].op;
			break;
		}
		if (clam_at >= i && clam_at < j) {
			*clam_elems = (uint32_t)(pe->n - first);
			*clam_bytes = clam_at - i;
		}
		if (!push_u32(pe, word))
			return VG_ENOMEM;
		i = j;
	}
	if (clam_at == n) {
		*clam_elems = (uint32_t)(pe->n - first);
		*clam_bytes = 0;
	}
	if (pe->n > UINT16_MAX)
		return VG_ELIMIT;
	pp->elem_count = (uint16_t)(pe->n - first);
	pp->left_ctx = ip->left_ctx;
	pp->right_ctx = ip->right_ctx;
	/* an [n-m] next to "??" or "h?" checks nothing (parse_ch): no record */
	memset(rg, 0, sizeof(*rg));
	if (ip->chl_kind != CH_NONE) {
		rg->chl_kind = ip->chl_kind;
		rg->chl_val = ip->chl_val;
		rg->chl_min = ip->chl_min;
		rg->chl_max = ip->chl_max;
	}
	if (ip->chr_kind != CH_NONE) {
		rg->chr_kind = ip->chr_kind;
		rg->chr_val = ip->chr_val;
		rg->chr_min = ip->chr_min;
		rg->chr_max = ip->chr_max;
	}
	if (rg->chl_kind != CH_NONE || rg->chr_kind != CH_NONE)
		pp->left_ctx |= CTX_RANGE;
	return VG_OK;
}

/* The groups kept as such (group_map, in their new order) with their
 * alternatives. Alternatives keep single OP_BYTE elements: they are short,
 * and the byte pool's 16-bit offsets need not cover their expansions. */
static bool pack_groups(struct cc *c, const uint32_t *group_map, uint32_t ngroups,
			struct vec *ae, struct pgroup *gout, struct vec *aout)
{
	const struct ialt *av = c->alts.p;
	const struct ielem *ev = c->elems.p;

	for (size_t g = 0; g < c->groups.n; g++) {
		const struct igroup *ig = vec_at(&c->groups, g);
		struct pgroup *pg;

		if (group_map[g] == UINT32_MAX)
			continue;
		if (group_map[g] >= ngroups)
			return false;
		pg = &gout[group_map[g]];
		pg->alt_first = (uint32_t)aout->n;
		pg->nalts = ig->nalts;
		pg->min_len = ig->min_len;
		pg->max_len = ig->max_len;
		for (uint32_t a = ig->alt_first; a < ig->alt_first + ig->nalts; a++) {
			const struct ielem *e = ev + av[a].elem_first;
			uint32_t n = av[a].elem_count;
			struct palt pa;

			pa.elem_first = (uint32_t)ae->n;
			pa.len = av[a].len;
			for (uint32_t i = 0; i < n;) {
				uint32_t j = i + 1, word;

				if (e[i].op == OP_ANY) {
					uint64_t cnt = e[i].arg;

					while (j < n && e[j].op == OP_ANY && cnt + e[j].arg <= PAT_MAX_ANY)
						cnt += e[j++].arg;
					word = MK_ANY(cnt);
				} else if (e[i].op == OP_MASK) {
					word = MK_MASK(e[i].a, e[i].b);
				} else {
					word = MK_BYTE(e[i].a);
				}
				if (!push_u32(ae, word))
					return false;
				i = j;
			}
			pa.elem_count = (uint32_t)(ae->n - pa.elem_first);
			if (!vec_push(aout, &pa))
				return false;
		}
	}
	return true;
}

static vg_status assemble(struct cc *c, bool plain, struct pattern **out)
{
	uint32_t nparts = (uint32_t)c->parts.n;
	struct vec pe = {0}, pool = {0}, ae = {0}, av = {0};
	struct ppart parts[VG_MAX_PATTERN_PARTS];
	struct prange ranges[VG_MAX_PATTERN_PARTS];
	struct pgroup *groups = NULL;
	struct pattern h = {0}, *p = NULL;
	struct pattern_ext x = {0};
	struct layout l;
	struct ptrs q;
	uint32_t clam_elems = 0, clam_bytes = 0, nranges = 0, nsets = 0, ngroups = 0;
	uint32_t *set_map = NULL, *group_map = NULL;
	uint8_t *b;
	vg_status rc = VG_ENOMEM;

	pe.esz = 4;
	pool.esz = 1;
	ae.esz = 4;
	av.esz = sizeof(struct palt);
	memset(parts, 0, sizeof(parts));
	if (nparts == 0 || nparts > VG_MAX_PATTERN_PARTS) {
		rc = fail(c, 0, "more than %u parts", VG_MAX_PATTERN_PARTS);
		goto out;
	}
	/* Keep only the byte sets and groups elements use, numbered in order of
	 * use: a one-byte "(62)" became a byte, small sets OP_SMALLSET, small
	 * fixed-length groups OP_FIXALT; (B)/(W) sets are shared. */
	if (c->sets.n) {
		set_map = vg_calloc(c->sets.n, sizeof(*set_map));
		if (!set_map)
			goto out;
		for (size_t i = 0; i < c->sets.n; i++)
			set_map[i] = UINT32_MAX;
	}
	if (c->groups.n) {
		group_map = vg_calloc(c->groups.n, sizeof(*group_map));
		if (!group_map)
			goto out;
		for (size_t i = 0; i < c->groups.n; i++)
			group_map[i] = UINT32_MAX;
	}
	for (uint32_t k = 0; k < nparts; k++) {
		const struct irpart *ip = vec_at(&c->parts, k);
		const struct ielem *ev = (const struct ielem *)c->elems.p + ip->elem_first;

		for (uint32_t i = 0; i < ip->elem_count; i++) {
			if (ev[i].op == OP_SET && set_map[ev[i].arg] == UINT32_MAX)
				set_map[ev[i].arg] = nsets++;
			if (ev[i].op == OP_GROUP && group_map[ev[i].arg] == UINT32_MAX &&
			    !fixalt_ok(vec_at(&c->groups, ev[i].arg)))
				group_map[ev[i].arg] = ngroups++;
		}
	}
	if (!vec_grow(&pe, c->elems.n + 1) || !vec_grow(&pool, c->elems.n + 1))
		goto out;
	for (uint32_t k = 0; k < nparts; k++) {
		const struct irpart *ip = vec_at(&c->parts, k);
		uint32_t ce = 0, cb = 0;

		rc = pack_part(c, ip, set_map, group_map, &pe, &pool, &parts[k], &ranges[nranges],
			       k ? UINT32_MAX : ip->clam_prefix, &ce, &cb);
		if (rc == VG_ELIMIT)
			rc = fail(c, 0, "pattern too large once compiled");
		if (rc)
			goto out;
		if (parts[k].left_ctx & CTX_RANGE)
			nranges++;
		if (k == 0) {
			clam_elems = ce;
			clam_bytes = cb;
		}
	}
	rc = VG_ENOMEM;
	if (ngroups) {
		groups = vg_calloc(ngroups, sizeof(*groups));
		if (!groups || !pack_groups(c, group_map, ngroups, &ae, groups, &av))
			goto out;
	}

	h.magic = PAT_MAGIC;
	h.nparts = (uint8_t)nparts;
	h.nbytes = (uint16_t)pool.n;
	h.nelems = (uint16_t)pe.n;
	h.clam_elems = (uint16_t)clam_elems;
	h.clam_bytes = (uint16_t)clam_bytes;
	h.nranges = (uint8_t)nranges;
	x.naltelems = (uint32_t)ae.n;
	x.ngroups = ngroups;
	x.nalts = (uint32_t)av.n;
	x.nsets = nsets;
	if (ae.n != x.naltelems || av.n != x.nalts) {
		rc = fail(c, 0, "pattern too large once compiled");
		goto out;
	}
	h.flags = (uint8_t)((plain ? PAT_PLAIN : 0) | (c->filter_ok ? PAT_FILTER_OK : 0) |
			    (x.naltelems || x.ngroups || x.nalts || x.nsets ? PAT_EXT : 0));
	layout_from(&h, &x, &l);
	if (l.size > PAT_MAX_BLOB) {
		rc = fail(c, 0, "pattern too large once compiled");
		goto out;
	}
	p = vg_calloc(1, (size_t)l.size);
	if (!p)
		goto out;
	b = (uint8_t *)p;
	memcpy(b, &h, sizeof(h));
	if (h.flags & PAT_EXT)
		memcpy(b + sizeof(h), &x, sizeof(x));
	memcpy(b + l.parts, parts, nparts * sizeof(struct ppart));
	for (uint32_t k = 1; k < nparts; k++) {
		const struct irpart *ip = vec_at(&c->parts, k);
		struct pgap g;

		/* gaps are at most INT32_MAX (parse_gap) */
		g.min = (uint32_t)ip->gap_min;
		g.max = ip->gap_max == PATTERN_GAP_INF ? UINT32_MAX : (uint32_t)ip->gap_max;
		memcpy(b + l.gaps + (k - 1) * sizeof(g), &g, sizeof(g));
	}
	if (nranges)
		memcpy(b + l.ranges, ranges, nranges * sizeof(struct prange));
	if (pe.n)
		memcpy(b + l.elems, pe.p, pe.n * 4);
	if (pool.n)
		memcpy(b + l.pool, pool.p, pool.n);
	for (size_t i = 0; i < c->sets.n; i++)
		if (set_map[i] != UINT32_MAX)
			memcpy(b + l.sets + (size_t)set_map[i] * 32, vec_at(&c->sets, i), 32);
	if (ae.n)
		memcpy(b + l.aelems, ae.p, ae.n * 4);
	if (ngroups)
		memcpy(b + l.groups, groups, ngroups * sizeof(struct pgroup));
	if (av.n)
		memcpy(b + l.alts, av.p, av.n * sizeof(struct palt));

	get_ptrs(p, &q);
	for (uint32_t k = 0; k < nparts; k++) {
		struct ppart *pp = (struct ppart *)(void *)(b + l.parts) + k;
		struct pderived d;

		if (!derive_part(&q, pp, range_of(p, k), &d)) {
			rc = fail(c, 0, "part %u is too long", k + 1);
			goto out;
		}
		if (d.spre)
			pp->left_ctx |= CTX_SIMPLE;
		if (d.spost)
			pp->right_ctx |= CTX_SIMPLE;
	}
	*out = p;
	p = NULL;
	rc = VG_OK;
out:
	vg_free(p);
	vg_free(groups);
	vg_free(set_map);
	vg_free(group_map);
	vec_free(&pe);
	vec_free(&pool);
	vec_free(&ae);
	vec_free(&av);
	return rc;
}

vg_status pattern_compile(const char *hex, size_t len, struct pattern **out,
			  struct pattern_error *err)
{
	struct cc c = {0};
	struct txt t = {0};
	struct pattern *p = NULL;
	bool plain;
	vg_status rc;

	c.err = err;
	c.filter_ok = true;
	c.parts.esz = sizeof(struct irpart);
	c.elems.esz = sizeof(struct ielem);
	c.groups.esz = sizeof(struct igroup);
	c.alts.esz = sizeof(struct ialt);
	c.sets.esz = 32;
	for (int i = 0; i < 4; i++)
		c.bw_set[i] = UINT32_MAX;

	if (!hex || !out)
		return VG_EINVAL;
	if (len == 0) {
		rc = fail(&c, 0, "empty pattern");
		goto out;
	}
	if (len > PAT_MAX_TEXT) {
		rc = fail(&c, 0, "pattern too long");
		goto out;
	}
	if (!txt_reserve(&t, len) || !vec_grow(&c.elems, len / 2 < 4096 ? len / 2 + 1 : 4096)) {
		rc = VG_ENOMEM;
		goto out;
	}
	memcpy(t.c, hex, len);
	for (size_t i = 0; i < len; i++)
		t.col[i] = (uint32_t)i;
	t.n = len;
	/* ClamAV sends single-part text without '?', '(' or '[' after {n}
	 * inlining to its Boyer-Moore matcher; a '{' in the input is either
	 * inlined into '?' or stays, so the input tells */
	plain = !memchr(hex, '*', len) && !memchr(hex, '{', len) && !memchr(hex, '?', len) &&
		!memchr(hex, '(', len) && !memchr(hex, '[', len);
	rc = inline_gaps(&c, &t);
	if (rc)
		goto out;
	rc = split_parts(&c, &t);
	if (rc)
		goto out;
	rc = assemble(&c, plain, &p);
	if (rc)
		goto out;
	*out = p;
out:
	txt_free(&t);
	vec_free(&c.parts);
	vec_free(&c.elems);
	vec_free(&c.groups);
	vec_free(&c.alts);
	vec_free(&c.sets);
	return rc;
}

void pattern_free(struct pattern *p)
{
	vg_free(p);
}

uint32_t pattern_nparts(const struct pattern *p)
{
	return p->nparts;
}

bool pattern_is_plain(const struct pattern *p)
{
	return (p->flags & PAT_PLAIN) != 0;
}

bool pattern_filter_ok(const struct pattern *p)
{
	return (p->flags & PAT_FILTER_OK) != 0;
}

uint64_t pattern_min_len(const struct pattern *p)
{
	struct ptrs q;
	uint64_t min_len = 0;

	get_ptrs(p, &q);
	for (uint32_t k = 0; k < p->nparts; k++) {
		const struct ppart *pp = part_at(p, k);
		struct pderived d;

		(void)derive_part(&q, pp, range_of(p, k), &d);
		min_len += d.pre_min + E_RUN_LEN(q.elems[pp->elem_first + pp->anchor_elem]) +
			   d.post_min;
		if (k)
			min_len += gap_at(p, k)->min;
	}
	return min_len;
}

void pattern_part_info(const struct pattern *p, uint32_t k, struct pattern_part_info *out)
{
	const struct ppart *pp = part_at(p, k);
	struct ptrs q;
	struct pderived d;
	uint32_t ae;

	get_ptrs(p, &q);
	ae = q.elems[pp->elem_first + pp->anchor_elem];
	(void)derive_part(&q, pp, range_of(p, k), &d);
	if (k) {
		const struct pgap *g = gap_at(p, k);

		out->gap_min = g->min;
		out->gap_max = g->max == UINT32_MAX ? PATTERN_GAP_INF : g->max;
	} else {
		out->gap_min = out->gap_max = 0;
	}
	out->anchor = q.pool + E_RUN_OFF(ae);
	out->anchor_len = E_RUN_LEN(ae);
	out->pre_max = (uint32_t)d.pre_max;
	out->post_max = (uint32_t)d.post_max;
	out->end_context = (pp->right_ctx & CTX_ALL) != 0;
}

/* ---------------------------------------------------------------------- */
/* Verifier                                                               */
/* ---------------------------------------------------------------------- */

struct view {
	const uint8_t *d;
	int64_t lo; /* absolute offset of d[0] */
	int64_t hi; /* one past the last readable byte */
	int64_t size;
};

/* A byte of the layer, or -1 when it lies outside the window or the file. */
static inline int rd(const struct view *v, int64_t pos)
{
	if (pos < v->lo || pos >= v->hi)
		return -1;
	return v->d[pos - v->lo];
}

/* n static bytes at pos, all inside the window. */
static inline bool run_at(const struct view *v, int64_t pos, const uint8_t *bytes, uint32_t n)
{
	const uint8_t *d;

	if (pos < v->lo || pos > v->hi - (int64_t)n)
		return false;
	d = v->d + (pos - v->lo);
	while (n >= 8) {
		uint64_t x, y;

		memcpy(&x, d, 8);
		memcpy(&y, bytes, 8);
		if (x != y)
			return false;
		d += 8;
		bytes += 8;
		n -= 8;
	}
	while (n--)
		if (*d++ != *bytes++)
			return false;
	return true;
}

static inline bool set_has(const uint8_t *set, int b)
{
	return (set[b >> 3] >> (b & 7)) & 1;
}

static bool nline_at(const struct view *v, int64_t pos)
{
	int b = rd(v, pos);

	if (b < 0 || b == '\n')
		return false;
	return !(b == '\r' && rd(v, pos + 1) == '\n');
}

/* One fixed-width element (simple_op) at pos. */
static inline bool simple_at(const struct ptrs *q, const struct view *v, uint32_t e, int64_t pos)
{
	int b;

	switch (E_OP(e)) {
	case OP_BYTE:
		return rd(v, pos) == (int)E_BYTE(e);
	case OP_BYTES:
		return run_at(v, pos, q->pool + E_RUN_OFF(e), E_RUN_LEN(e));
	case OP_MASK:
		b = rd(v, pos);
		return b >= 0 && ((uint32_t)b & E_MASK(e)) == E_BYTE(e);
	case OP_ANY:
		return pos >= 0 && pos + E_ARG(e) <= v->size;
	case OP_SET:
		b = rd(v, pos);
		return b >= 0 && set_has(q->sets + (size_t)E_SET_IDX(e) * 32, b);
	case OP_SMALLSET:
		b = rd(v, pos);
		return b >= 0 && ((uint32_t)b == E_SMALL(e, 0) || (uint32_t)b == E_SMALL(e, 1) ||
				  (uint32_t)b == E_SMALL(e, 2)) != E_SMALL_NEG(e);
	case OP_FIXALT: {
		uint32_t len = E_FIX_LEN(e), n = E_FIX_N(e);
		const uint8_t *alt = q->pool + E_FIX_OFF(e), *d;

		/* all bytes must be there, also to match none of the strings */
		if (pos < v->lo || pos > v->hi - (int64_t)len)
			return false;
		d = v->d + (pos - v->lo);
		for (uint32_t i = 0; i < n; i++, alt += len)
			if (memcmp(d, alt, len) == 0)
				return !E_FIX_NEG(e);
		return E_FIX_NEG(e) != 0;
	}
	case OP_NLINE:
		return nline_at(v, pos);
	default:
		return false;
	}
}

static inline uint32_t simple_len(uint32_t e)
{
	switch (E_OP(e)) {
	case OP_ANY:
		return E_ARG(e);
	case OP_BYTES:
		return E_RUN_LEN(e);
	case OP_FIXALT:
		return E_FIX_LEN(e);
	default:
		return 1;
	}
}

/* Does alternative a match starting at pos? */
static bool alt_at(const struct ptrs *q, const struct view *v, const struct palt *a, int64_t pos)
{
	const uint32_t *e = q->aelems + a->elem_first;

	for (uint32_t i = 0; i < a->elem_count; i++) {
		if (!simple_at(q, v, e[i], pos))
			return false;
		pos += simple_len(e[i]);
	}
	return pos <= v->size;
}

/* Offsets reachable after an element, as a sorted set over a bitmap window.
 * Offsets count bytes from the anchor's edge, away from it. */
struct posset {
	uint32_t *v;
	uint32_t n;
};

struct scratch {
	uint32_t *a, *b;
	uint64_t *bits;
	uint32_t width;
	uint32_t stack_a[256], stack_b[256];
	uint64_t stack_bits[5];
	void *heap;
};

static bool scratch_init(struct scratch *s, uint32_t width)
{
	s->heap = NULL;
	s->width = width;
	if (width <= 256) {
		s->a = s->stack_a;
		s->b = s->stack_b;
		s->bits = s->stack_bits;
		return true;
	}
	s->heap = vg_malloc((size_t)width * 2 * sizeof(uint32_t) + ((size_t)width / 64 + 1) * 8);
	if (!s->heap)
		return false;
	s->bits = s->heap;
	s->a = (uint32_t *)(s->bits + width / 64 + 1);
	s->b = s->a + width;
	return true;
}

/* Match elements e[0..n) one after another going forward (dir = 1) from
 * origin or backward (dir = -1) towards the file start; out receives every
 * distinct distance from origin where the sequence can end. */
static void run_general(const struct ptrs *q, const struct view *v, const uint32_t *e,
			uint32_t n, int dir, int64_t origin, struct scratch *s, struct posset *out)
{
	uint32_t *cur = s->a, *nxt = s->b, ncur = 1, lo = 0;

	cur[0] = 0;
	for (uint32_t idx = 0; idx < n && ncur; idx++) {
		uint32_t el = dir > 0 ? e[idx] : e[n - 1 - idx];
		uint32_t mn, mx, nlo, w, nn = 0;

		elem_span(q, el, &mn, &mx);
		nlo = lo + mn;
		w = cur[ncur - 1] - lo + mx - mn + 1; /* width of the successor window */
		if (w > s->width)
			w = s->width;
		memset(s->bits, 0, ((size_t)w / 64 + 1) * 8);
		for (uint32_t k = 0; k < ncur; k++) {
			uint32_t off = cur[k];
			int64_t at = dir > 0 ? origin + off : origin - off; /* edge nearest the anchor */

#define ADD(len_)                                                                 \
	do {                                                                      \
		uint32_t no_ = off + (len_) - nlo;                                \
		if (no_ < w)                                                      \
			s->bits[no_ >> 6] |= (uint64_t)1 << (no_ & 63);           \
	} while (0)
			switch (E_OP(el)) {
			case OP_LINE:
				if (dir > 0) {
					int b0 = rd(v, at);
					if (b0 == '\n')
						ADD(1);
					else if (b0 == '\r' && rd(v, at + 1) == '\n')
						ADD(2);
				} else {
					if (rd(v, at - 1) == '\n') {
						ADD(1);
						if (rd(v, at - 2) == '\r')
							ADD(2);
					}
				}
				break;
			case OP_LINE_REV:
				if (dir > 0) {
					if (rd(v, at) == '\n')
						ADD(1);
					if (rd(v, at + 1) == '\r' && rd(v, at + 2) == '\n' && rd(v, at) >= 0)
						ADD(2);
				} else {
					if (rd(v, at - 1) == '\n')
						ADD(1);
					if (rd(v, at - 1) == '\r' && rd(v, at) == '\n' && rd(v, at - 2) >= 0)
						ADD(2);
				}
				break;
			case OP_GROUP: {
				const struct pgroup *g = &q->groups[E_GROUP_IDX(el)];
				const struct palt *alts = q->alts + g->alt_first;

				if (E_GROUP_NEG(el)) {
					int64_t st = dir > 0 ? at : at - g->min_len;
					bool any = false;

					if (st < 0 || st + g->min_len > v->size)
						break;
					for (int64_t p = st; p < st + g->min_len; p++)
						if (rd(v, p) < 0)
							any = true;
					for (uint32_t a = 0; a < g->nalts && !any; a++)
						if (alt_at(q, v, &alts[a], st))
							any = true;
					if (!any)
						ADD(g->min_len);
					break;
				}
				for (uint32_t a = 0; a < g->nalts; a++) {
					int64_t st = dir > 0 ? at : at - alts[a].len;

					if (st < 0)
						continue;
					if (alt_at(q, v, &alts[a], st))
						ADD(alts[a].len);
				}
				break;
			}
			default: {
				uint32_t l = simple_len(el);
				int64_t st = dir > 0 ? at : at - l;

				if (st >= 0 && simple_at(q, v, el, st))
					ADD(l);
				break;
			}
			}
#undef ADD
		}
		for (uint32_t wd = 0; wd <= w / 64; wd++) {
			uint64_t bitsw = s->bits[wd];

			while (bitsw) {
				uint32_t bit = (uint32_t)__builtin_ctzll(bitsw);

				bitsw &= bitsw - 1;
				nxt[nn++] = nlo + wd * 64 + bit;
			}
		}
		{
			uint32_t *tmp = cur;
			cur = nxt;
			nxt = tmp;
		}
		ncur = nn;
		lo = nlo;
	}
	out->v = cur;
	out->n = ncur;
}

/* Forward run of simple elements; returns the end or -1. Inlined so the
 * fast path keeps its state in registers. */
static inline __attribute__((always_inline)) int64_t
run_simple_fwd(const struct ptrs *q, const struct view *v, const uint32_t *e, uint32_t n,
	       int64_t pos)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t el = e[i];

		if (E_OP(el) == OP_BYTES) {
			if (!run_at(v, pos, q->pool + E_RUN_OFF(el), E_RUN_LEN(el)))
				return -1;
			pos += E_RUN_LEN(el);
			continue;
		}
		if (E_OP(el) == OP_BYTE) {
			if (rd(v, pos) != (int)E_BYTE(el))
				return -1;
			pos++;
			continue;
		}
		if (!simple_at(q, v, el, pos))
			return -1;
		pos += simple_len(el);
	}
	return pos;
}

static inline __attribute__((always_inline)) int64_t
run_simple_bwd(const struct ptrs *q, const struct view *v, const uint32_t *e, uint32_t n,
	       int64_t pos)
{
	for (uint32_t i = n; i-- > 0;) {
		uint32_t el = e[i], l = simple_len(el);

		if (pos < l)
			return -1;
		pos -= l;
		if (E_OP(el) == OP_BYTES) {
			if (!run_at(v, pos, q->pool + E_RUN_OFF(el), l))
				return -1;
			continue;
		}
		if (!simple_at(q, v, el, pos))
			return -1;
	}
	return pos;
}

static bool left_ok(const struct ppart *pp, const struct prange *rg, const struct view *v,
		    int64_t start)
{
	uint8_t c = pp->left_ctx & CTX_ALL;

	if (c) {
		int b = start > 0 ? rd(v, start - 1) : -1;
		bool at_start = start == 0;

		if (!at_start && b < 0)
			return false; /* context outside the window */
		if (c & CTX_B) {
			bool m = at_start || boundary_class((uint8_t)b) == 1 ||
				 boundary_class((uint8_t)b) == 3;
			if (m == ((c & CTX_NB) != 0))
				return false;
		}
		if (c & CTX_L) {
			bool m = at_start || b == '\n';
			if (m == ((c & CTX_NL) != 0))
				return false;
		}
		if (c & CTX_W) {
			bool m = at_start || !is_alnum((uint8_t)b);
			if (m == ((c & CTX_NW) != 0))
				return false;
		}
	}
	if (rg && rg->chl_kind != CH_NONE) {
		for (uint32_t d = rg->chl_min; d <= rg->chl_max; d++) {
			int64_t at = start - 1 - (int64_t)d;
			int b;

			if (at < 0)
				return false;
			b = rd(v, at);
			if (b < 0)
				return false;
			if (rg->chl_kind == CH_BYTE ? b == rg->chl_val : (b & 0x0f) == rg->chl_val)
				return true;
		}
		return false;
	}
	return true;
}

static bool right_ok(const struct ppart *pp, const struct prange *rg, const struct view *v,
		     int64_t end)
{
	uint8_t c = pp->right_ctx & CTX_ALL;

	if (c) {
		bool at_end = end == v->size;
		int b = at_end ? -1 : rd(v, end);

		if (!at_end && b < 0)
			return false;
		if (c & CTX_B) {
			bool m = at_end || boundary_class((uint8_t)b) >= 2;
			if (m == ((c & CTX_NB) != 0))
				return false;
		}
		if (c & CTX_L) {
			bool m = at_end || b == '\n' || (b == '\r' && rd(v, end + 1) == '\n');
			if (m == ((c & CTX_NL) != 0))
				return false;
		}
		if (c & CTX_W) {
			bool m = at_end || !is_alnum((uint8_t)b);
			if (m == ((c & CTX_NW) != 0))
				return false;
		}
	}
	if (rg && rg->chr_kind != CH_NONE) {
		for (uint32_t d = rg->chr_min; d <= rg->chr_max; d++) {
			int64_t at = end + (int64_t)d;
			int b;

			if (at >= v->size)
				return false;
			b = rd(v, at);
			if (b < 0)
				return false;
			if (rg->chr_kind == CH_BYTE ? b == rg->chr_val : (b & 0x0f) == rg->chr_val)
				return true;
		}
		return false;
	}
	return true;
}

/* The general verifier: one side or both have variable-width elements, so
 * each is run as a set of reachable offsets (run_general). */
static __attribute__((noinline)) uint32_t
verify_general(struct ptrs *q, const struct ppart *pp, const struct prange *rg,
	       const struct view *v, int64_t apos, int64_t aend, pattern_occ_fn *cb, void *ctx)
{
	const uint32_t *e = q->elems + pp->elem_first;
	/* distances of the starts before apos / ends after aend, ascending
	 * positions: pre_off descending, post_off ascending */
	uint32_t one_pre = 0, one_post = 0, *pre_off = &one_pre, *post_off = &one_post;
	uint32_t npre = 0, npost = 0, reported = 0;
	struct scratch s_pre, s_post;
	bool have_pre = false, have_post = false;

	ptrs_rest(q);
	/* after the anchor: the cheap side first, most hits die here */
	{
		const uint32_t *se = e + pp->anchor_elem + 1;
		uint32_t sn = pp->elem_count - pp->anchor_elem - 1u;

		if (pp->right_ctx & CTX_SIMPLE) {
			int64_t end = run_simple_fwd(q, v, se, sn, aend);

			if (end < 0 || end > v->size || !right_ok(pp, rg, v, end))
				return 0;
			one_post = (uint32_t)(end - aend);
			npost = 1;
		} else {
			struct posset ps;

			if (!scratch_init(&s_post, side_width(q, se, sn)))
				return 0;
			have_post = true;
			run_general(q, v, se, sn, 1, aend, &s_post, &ps);
			for (uint32_t i = 0; i < ps.n; i++) {
				int64_t end = aend + ps.v[i];

				if (end <= v->size && right_ok(pp, rg, v, end))
					ps.v[npost++] = ps.v[i];
			}
			post_off = ps.v;
			if (!npost)
				goto out;
		}
	}

	/* before the anchor */
	if (pp->left_ctx & CTX_SIMPLE) {
		int64_t start = run_simple_bwd(q, v, e, pp->anchor_elem, apos);

		if (start < 0 || !left_ok(pp, rg, v, start))
			goto out;
		one_pre = (uint32_t)(apos - start);
		npre = 1;
	} else {
		struct posset ps;

		if (!scratch_init(&s_pre, side_width(q, e, pp->anchor_elem)))
			goto out;
		have_pre = true;
		run_general(q, v, e, pp->anchor_elem, -1, apos, &s_pre, &ps);
		for (uint32_t i = 0; i < ps.n; i++) {
			int64_t start = apos - ps.v[i];

			if (start >= 0 && left_ok(pp, rg, v, start))
				ps.v[npre++] = ps.v[i];
		}
		pre_off = ps.v;
		if (!npre)
			goto out;
	}

	for (uint32_t i = npre; i-- > 0;) {
		uint64_t st = (uint64_t)(apos - pre_off[i]);

		for (uint32_t j = 0; j < npost; j++) {
			reported++;
			if (cb(ctx, st, (uint64_t)(aend + post_off[j])))
				goto out;
		}
	}
out:
	if (have_pre)
		vg_free(s_pre.heap);
	if (have_post)
		vg_free(s_post.heap);
	return reported;
}

uint32_t pattern_part_verify(const struct pattern *p, uint32_t k,
			     const struct pattern_window *w, uint64_t anchor_pos,
			     pattern_occ_fn *cb, void *ctx)
{
	const struct ppart *pp;
	const struct prange *rg;
	const uint32_t *e;
	struct ptrs q;
	struct view v;
	int64_t apos, aend, start, end;
	uint32_t ae, alen;

	if (!p || !w || k >= p->nparts || !cb || (!w->data && w->len))
		return 0;
	if (w->size > (uint64_t)INT64_MAX / 2 || w->base > w->size || w->len > w->size - w->base)
		return 0;
	pp = part_at(p, k);
	get_ptrs_fast(p, &q);
	e = q.elems + pp->elem_first;
	ae = e[pp->anchor_elem];
	alen = E_RUN_LEN(ae);
	v.d = w->data;
	v.lo = (int64_t)w->base;
	v.hi = (int64_t)(w->base + w->len);
	v.size = (int64_t)w->size;
	if (anchor_pos > w->size || w->size - anchor_pos < alen)
		return 0;
	apos = (int64_t)anchor_pos;
	aend = apos + alen;
	if (apos < v.lo || aend > v.hi ||
	    memcmp(v.d + (apos - v.lo), q.pool + E_RUN_OFF(ae), alen) != 0)
		return 0;
	rg = pp->left_ctx & CTX_RANGE ? range_of(p, k) : NULL;
	if (!(pp->left_ctx & pp->right_ctx & CTX_SIMPLE))
		return verify_general(&q, pp, rg, &v, apos, aend, cb, ctx);

	/* fixed-width elements on both sides: one straight loop each, the
	 * side after the anchor first (most hits die there), one occurrence */
	end = run_simple_fwd(&q, &v, e + pp->anchor_elem + 1, pp->elem_count - pp->anchor_elem - 1u,
			     aend);
	if (end < 0 || end > v.size || !right_ok(pp, rg, &v, end))
		return 0;
	start = run_simple_bwd(&q, &v, e, pp->anchor_elem, apos);
	if (start < 0 || !left_ok(pp, rg, &v, start))
		return 0;
	(void)cb(ctx, (uint64_t)start, (uint64_t)end);
	return 1;
}

/* ClamAV's length for an element in its offset pre-check: the real one,
 * except (B), (L), (W) in the middle, which its special table records as
 * zero bytes long. */
static void clam_counted_span(const struct ptrs *q, uint32_t e, uint32_t *mn, uint32_t *mx,
			      bool *miscounted)
{
	switch (E_OP(e)) {
	case OP_LINE:
	case OP_LINE_REV:
	case OP_NLINE:
		*mn = *mx = 0;
		*miscounted = true;
		break;
	case OP_SET:
		if (E_SET_BOUND(e)) {
			*mn = *mx = 0;
			*miscounted = true;
			break;
		}
		*mn = *mx = 1;
		break;
	default:
		elem_span(q, e, mn, mx);
		break;
	}
}

bool pattern_clam_offset_visible(const struct pattern *p, const struct pattern_window *w,
				 uint64_t start, uint64_t omin, uint64_t omax)
{
	const struct ppart *pp = part_at(p, 0);
	struct ptrs q;
	const uint32_t *e;
	uint32_t ne = p->clam_elems, nb = p->clam_bytes;
	uint64_t cmin = 0, cmax = 0;
	bool miscounted = false, fixed = true;
	uint64_t real = 0;

	get_ptrs(p, &q);
	e = q.elems + pp->elem_first;
	for (uint32_t i = 0; i < ne; i++) {
		uint32_t mn, mx, rmn, rmx;

		clam_counted_span(&q, e[i], &mn, &mx, &miscounted);
		cmin += mn;
		cmax += mx;
		elem_span(&q, e[i], &rmn, &rmx);
		if (rmn != rmx)
			fixed = false;
		real += rmn;
	}
	/* ClamAV's anchor may start inside a run of static bytes: those before
	 * it count one each, in both measures */
	cmin += nb;
	cmax += nb;
	real += nb;
	if (!miscounted)
		return true; /* ClamAV predicts the start correctly */

	/* ClamAV computes T - cmax and T - cmin in 32-bit unsigned arithmetic,
	 * T being where its anchor matched: below cmax the lower bound wraps
	 * and the occurrence is skipped. */
#define CLAM_SEES(t_)                                                                 \
	((t_) >= cmax && omax >= (t_) - cmax && ((t_) < cmin || omin <= (t_) - cmin))
	if (fixed)
		return CLAM_SEES(start + real);
	{
		struct view v;
		struct scratch s;
		struct posset ps;
		bool seen = false;

		if (!w || w->size > (uint64_t)INT64_MAX / 2 || w->base > w->size ||
		    w->len > w->size - w->base || start > w->size)
			return true;
		v.d = w->data;
		v.lo = (int64_t)w->base;
		v.hi = (int64_t)(w->base + w->len);
		v.size = (int64_t)w->size;
		if (!scratch_init(&s, side_width(&q, e, ne)))
			return true;
		run_general(&q, &v, e, ne, 1, (int64_t)start, &s, &ps);
		for (uint32_t i = 0; i < ps.n && !seen; i++) {
			uint64_t t = start + ps.v[i];

			if (nb && !run_at(&v, (int64_t)t, q.pool + E_RUN_OFF(e[ne]), nb))
				continue;
			seen = CLAM_SEES(t + nb);
		}
		vg_free(s.heap);
		return seen;
	}
#undef CLAM_SEES
}

/* ---------------------------------------------------------------------- */
/* Serialization                                                          */
/* ---------------------------------------------------------------------- */

const uint8_t *pattern_bytes(const struct pattern *p, size_t *len)
{
	struct layout l;

	get_layout(p, &l);
	*len = (size_t)l.size;
	return (const uint8_t *)p;
}

/* Operands a simple element of an alternative may carry. */
static bool alt_elem_ok(uint32_t e)
{
	switch (E_OP(e)) {
	case OP_BYTE:
		return (e >> 12) == 0;
	case OP_MASK:
		return (e >> 20) == 0;
	case OP_ANY:
		return E_ARG(e) >= 1 && E_ARG(e) <= PAT_MAX_ANY;
	default:
		return false;
	}
}

/* One side of an [n-m]: absent (all zero) or a byte / low nibble checked
 * 0..32 bytes away. */
static bool range_side_ok(uint8_t kind, uint8_t val, uint8_t mn, uint8_t mx)
{
	if (kind == CH_NONE)
		return !val && !mn && !mx;
	return kind <= CH_LOW && (kind == CH_BYTE || val <= 0x0f) && mn <= mx &&
	       mx <= VG_MAX_RANGE_ANCHOR;
}

/* Everything the verifier relies on, checked so that hostile bytes cannot
 * make it read out of bounds, recurse or loop. Only the canonical form the
 * compiler writes is accepted. */
static bool validate(const struct pattern *p, size_t len)
{
	struct layout l;
	struct ptrs q;
	const struct ppart *pp0;
	uint32_t next = 0, nranges = 0;

	if (len < sizeof(struct pattern) || p->magic != PAT_MAGIC || len > PAT_MAX_BLOB ||
	    (p->flags & ~(uint32_t)PAT_FLAGS_ALL) || p->nparts == 0 ||
	    p->nparts > VG_MAX_PATTERN_PARTS || p->pad != 0)
		return false;
	if ((p->flags & PAT_EXT) && len < sizeof(struct pattern) + sizeof(struct pattern_ext))
		return false;
	get_layout(p, &l);
	if (l.size != len)
		return false;
	if ((p->flags & PAT_EXT) &&
	    !(l.x.naltelems || l.x.ngroups || l.x.nalts || l.x.nsets))
		return false;
	for (uint64_t i = l.pool + p->nbytes; i < l.sets; i++)
		if (((const uint8_t *)p)[i])
			return false;
	get_ptrs(p, &q);

	for (uint32_t i = 0; i < l.x.naltelems; i++)
		if (!alt_elem_ok(q.aelems[i]))
			return false;
	for (uint32_t i = 0; i < l.x.nalts; i++) {
		const struct palt *a = &q.alts[i];
		uint64_t n = 0;

		if (a->elem_first > l.x.naltelems || a->elem_count > l.x.naltelems - a->elem_first)
			return false;
		for (uint32_t j = 0; j < a->elem_count; j++)
			n += simple_len(q.aelems[a->elem_first + j]);
		if (n != a->len)
			return false;
	}
	for (uint32_t i = 0; i < l.x.ngroups; i++) {
		const struct pgroup *g = &q.groups[i];
		uint32_t mn = UINT32_MAX, mx = 0;

		if (g->nalts == 0 || g->alt_first > l.x.nalts || g->nalts > l.x.nalts - g->alt_first)
			return false;
		for (uint32_t a = 0; a < g->nalts; a++) {
			uint32_t n = q.alts[g->alt_first + a].len;

			if (n < mn)
				mn = n;
			if (n > mx)
				mx = n;
		}
		if (mn != g->min_len || mx != g->max_len || mx > PAT_MAX_ANY)
			return false;
	}
	for (uint32_t i = 0; i < p->nelems; i++) {
		uint32_t e = q.elems[i];

		switch (E_OP(e)) {
		case OP_BYTE:
		case OP_MASK:
		case OP_ANY:
			if (!alt_elem_ok(e))
				return false;
			break;
		case OP_BYTES:
			if (E_RUN_LEN(e) == 0 || E_RUN_OFF(e) > p->nbytes ||
			    E_RUN_LEN(e) > p->nbytes - E_RUN_OFF(e))
				return false;
			break;
		case OP_SET:
			if (E_SET_IDX(e) >= l.x.nsets)
				return false;
			break;
		case OP_FIXALT:
			if (E_FIX_LEN(e) == 0 || E_FIX_N(e) == 0 ||
			    E_FIX_OFF(e) + E_FIX_N(e) * E_FIX_LEN(e) > p->nbytes)
				return false;
			break;
		case OP_SMALLSET: {
			uint32_t v0 = E_SMALL(e, 0), v1 = E_SMALL(e, 1), v2 = E_SMALL(e, 2);

			/* ascending, the last repeated; a lone byte only negated */
			if ((e >> 29) || v0 > v1 || v1 > v2 || (v0 == v1 && !(E_SMALL_NEG(e) && v1 == v2)))
				return false;
			break;
		}
		case OP_GROUP:
			if (E_GROUP_IDX(e) >= l.x.ngroups)
				return false;
			/* only fixed-length groups can be negated */
			if (E_GROUP_NEG(e) && q.groups[E_GROUP_IDX(e)].min_len !=
						      q.groups[E_GROUP_IDX(e)].max_len)
				return false;
			break;
		case OP_LINE:
		case OP_NLINE:
		case OP_LINE_REV:
			if (E_ARG(e))
				return false;
			break;
		default:
			return false;
		}
	}
	for (uint32_t k = 0; k < p->nparts; k++) {
		const struct ppart *pp = part_at(p, k);
		const struct prange *rg;
		struct pderived d;
		uint32_t ae;

		if (pp->elem_first != next || pp->elem_count == 0 ||
		    pp->elem_count > p->nelems - next || pp->anchor_elem >= pp->elem_count)
			return false;
		next += pp->elem_count;
		ae = q.elems[pp->elem_first + pp->anchor_elem];
		if (E_OP(ae) != OP_BYTES || E_RUN_LEN(ae) < 2 || E_RUN_LEN(ae) > VG_MAX_ANCHOR_LEN)
			return false;
		if ((pp->left_ctx & ~(CTX_ALL | CTX_SIMPLE | CTX_RANGE)) ||
		    (pp->right_ctx & ~(CTX_ALL | CTX_SIMPLE)))
			return false;
		rg = NULL;
		if (pp->left_ctx & CTX_RANGE) {
			if (nranges >= p->nranges)
				return false;
			rg = ranges_of(p) + nranges++;
			if (!range_side_ok(rg->chl_kind, rg->chl_val, rg->chl_min, rg->chl_max) ||
			    !range_side_ok(rg->chr_kind, rg->chr_val, rg->chr_min, rg->chr_max) ||
			    (rg->chl_kind == CH_NONE && rg->chr_kind == CH_NONE))
				return false;
		}
		if (!derive_part(&q, pp, rg, &d) || d.spre != ((pp->left_ctx & CTX_SIMPLE) != 0) ||
		    d.spost != ((pp->right_ctx & CTX_SIMPLE) != 0))
			return false;
		if (k) {
			const struct pgap *g = gap_at(p, k);

			if (g->min > INT32_MAX || (g->max > INT32_MAX && g->max != UINT32_MAX))
				return false;
		}
	}
	if (next != p->nelems || nranges != p->nranges)
		return false;
	pp0 = part_at(p, 0);
	if (p->clam_elems > pp0->elem_count)
		return false;
	if (p->clam_bytes) {
		uint32_t e;

		if (p->clam_elems >= pp0->elem_count)
			return false;
		e = q.elems[pp0->elem_first + p->clam_elems];
		if (E_OP(e) != OP_BYTES || p->clam_bytes >= E_RUN_LEN(e))
			return false;
	}
	return true;
}

vg_status pattern_from_bytes(const uint8_t *bytes, size_t len, struct pattern **out)
{
	struct pattern *p;

	if (!bytes || !out)
		return VG_EINVAL;
	if (len < sizeof(struct pattern) || len > PAT_MAX_BLOB)
		return VG_EFORMAT;
	p = vg_malloc(len);
	if (!p)
		return VG_ENOMEM;
	memcpy(p, bytes, len);
	if (!validate(p, len)) {
		vg_free(p);
		return VG_EFORMAT;
	}
	*out = p;
	return VG_OK;
}

const struct pattern *pattern_view(const uint8_t *bytes, size_t len)
{
	const struct pattern *p = (const struct pattern *)(const void *)bytes;
	struct layout l;

	if (!bytes || ((uintptr_t)bytes % 8) != 0 || len < sizeof(struct pattern) ||
	    len > PAT_MAX_BLOB || p->magic != PAT_MAGIC || p->nparts == 0 ||
	    p->nparts > VG_MAX_PATTERN_PARTS || (p->flags & ~(uint32_t)PAT_FLAGS_ALL))
		return NULL;
	if ((p->flags & PAT_EXT) && len < sizeof(struct pattern) + sizeof(struct pattern_ext))
		return NULL;
	get_layout(p, &l);
	if (l.size != len)
		return NULL;
	return p;
}

uint32_t pattern_clam_len(const struct pattern *p)
{
	struct ptrs q;
	uint64_t best = 0;

	get_ptrs(p, &q);
	for (uint32_t k = 0; k < p->nparts; k++) {
		const struct ppart *pp = part_at(p, k);
		const uint32_t *e = q.elems + pp->elem_first;
		uint64_t len = 0;

		for (uint32_t i = 0; i < pp->elem_count; i++) {
			uint32_t mn, mx, op = E_OP(e[i]);
			/* boundary marks in the middle: a (B)/(W) byte set, (L) */
			if ((op == OP_SET && E_SET_BOUND(e[i])) || op == OP_LINE || op == OP_NLINE)
				continue;
			elem_span(&q, e[i], &mn, &mx);
			len += mx;
		}
		if (len > best)
			best = len;
	}
	return best > UINT32_MAX ? UINT32_MAX : (uint32_t)best;
}
