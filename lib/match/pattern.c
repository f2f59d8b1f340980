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

#define PAT_MAGIC 0x31504756u /* "VGP1" little-endian; a byte-swapped cache fails it */
#define PAT_MAX_TEXT (1u << 20)      /* hex text after {n} inlining */
#define PAT_MAX_ALTS 16384u          /* strings one generic alternative may expand to */
#define PAT_MAX_BLOB (64u << 20)

enum pat_op {
	OP_BYTE = 1, /* a */
	OP_MASK,     /* (byte & b) == a: nibbles */
	OP_ANY,      /* arg bytes of anything */
	OP_SET,      /* byte in sets[arg] */
	OP_LINE,     /* "\n" or "\r\n" */
	OP_NLINE,    /* one byte that is not '\n' and not a '\r' followed by '\n' */
	OP_GROUP,    /* alternatives groups[arg] */
	OP_LINE_REV  /* (L) as ClamAV matches it before its trie anchor: "\n", or
		      * any byte then '\r' when a '\n' follows */
};

/* Context checks at a part's ends ((B) (L) (W) and their negations). */
enum {
	CTX_B = 1u << 0,
	CTX_L = 1u << 1,
	CTX_W = 1u << 2,
	CTX_NB = 1u << 3,
	CTX_NL = 1u << 4,
	CTX_NW = 1u << 5,
	CTX_ALL = 0x3f
};

/* [n-m] single-byte anchor kinds */
enum { CH_NONE = 0, CH_BYTE, CH_LOW };

enum { PART_SIMPLE_PRE = 1u << 0, PART_SIMPLE_POST = 1u << 1 };
enum { PAT_PLAIN = 1u << 0, PAT_FILTER_OK = 1u << 1, PAT_FLAGS_ALL = 3u };

struct pelem {
	uint8_t op;
	uint8_t a;
	uint8_t b;
	uint8_t pad;
	uint32_t arg;
};

struct pgroup {
	uint32_t alt_first;
	uint32_t nalts;
	uint32_t min_len;
	uint32_t max_len;
	uint32_t neg; /* only for fixed-length groups: none of the alternatives */
	uint32_t pad;
};

struct palt {
	uint32_t elem_first; /* OP_BYTE / OP_MASK / OP_ANY only */
	uint32_t elem_count;
	uint32_t len;
	uint32_t pad;
};

struct ppart {
	uint64_t gap_min;
	uint64_t gap_max;
	uint32_t elem_first;
	uint32_t elem_count;
	uint32_t anchor_elem; /* index within the part */
	uint32_t anchor_len;
	uint32_t anchor_byte; /* offset in the byte pool */
	uint32_t pre_min;     /* bytes the elements before the anchor span */
	uint32_t pre_len;
	uint32_t post_min;    /* bytes the elements after the anchor span */
	uint32_t post_len;
	uint32_t pre_max;     /* bytes read before / after the anchor, context included */
	uint32_t post_max;
	uint32_t width;       /* widest set of positions the general verifier tracks */
	uint8_t left_ctx;
	uint8_t right_ctx;
	uint8_t flags;
	uint8_t pad;
	uint8_t chl_kind, chl_val, chl_min, chl_max;
	uint8_t chr_kind, chr_val, chr_min, chr_max;
	uint32_t clam_prefix; /* elements before ClamAV's own trie anchor */
};

struct pattern {
	uint32_t magic;
	uint32_t size;
	uint32_t nparts;
	uint32_t flags;
	uint64_t min_len;
	uint32_t part_off, elem_off, group_off, alt_off, set_off, byte_off;
	uint32_t nelems, ngroups, nalts, nsets, nbytes;
	uint32_t pad;
};

static const struct ppart *part_at(const struct pattern *p, uint32_t k)
{
	return (const struct ppart *)((const uint8_t *)p + p->part_off) + k;
}

static const struct pelem *elems_of(const struct pattern *p)
{
	return (const struct pelem *)((const uint8_t *)p + p->elem_off);
}

static const struct pgroup *groups_of(const struct pattern *p)
{
	return (const struct pgroup *)((const uint8_t *)p + p->group_off);
}

static const struct palt *alts_of(const struct pattern *p)
{
	return (const struct palt *)((const uint8_t *)p + p->alt_off);
}

static const uint8_t *sets_of(const struct pattern *p)
{
	return (const uint8_t *)p + p->set_off;
}

static const uint8_t *bytes_of(const struct pattern *p)
{
	return (const uint8_t *)p + p->byte_off;
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
	if (!vec_grow(v, 1))
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
	struct vec elems;  /* struct pelem */
	struct vec groups; /* struct pgroup */
	struct vec alts;   /* struct palt */
	struct vec sets;   /* uint8_t[32] */
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
	struct pelem e = {op, a, b, 0, arg};

	return vec_push(&c->elems, &e);
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
		struct pgroup g = {0};

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
		g.min_len = g.max_len = (uint32_t)blen;
		for (uint32_t i = 0; i < num; i++) {
			size_t a, b;
			struct palt alt;

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
		struct pgroup g = {0};

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
			struct palt alt;

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
	struct vec specials = {0};
	uint8_t *kinds = NULL;
	uint16_t *vals = NULL;
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
	 * special element marked "()" in hexnew, as ClamAV rewrites it. */
	{
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
	kinds = vg_malloc(hexnew.n / 2 + 1);
	vals = vg_calloc(hexnew.n / 2 + 1, sizeof(*vals));
	if (!kinds || !vals) {
		rc = VG_ENOMEM;
		goto out;
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
					int cnt = 0, val = 0;

					for (int v = 0; v < 256; v++) {
						if (b[v >> 3] & (1u << (v & 7))) {
							cnt++;
							val = v;
						}
					}
					/* a one-byte set is a byte: it may join an anchor */
					if (cnt == 1)
						ok = push_elem(c, OP_BYTE, (uint8_t)val, 0, 0);
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
				case SP_WORD:
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
					ok = set_add_bits(c, bits, &idx) && push_elem(c, OP_SET, 0, 1, idx);
					break;
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
		struct pelem *ev = c->elems.p;

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
	txt_free(&hexnew);
	vec_free(&specials);
	vg_free(kinds);
	vg_free(vals);
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
			struct txt pt = {0};

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
			if (!txt_append(&pt, t, start, end)) {
				txt_free(&pt);
				return VG_ENOMEM;
			}
			rc = compile_part(c, &pt, t->col[start], 0, k ? PATTERN_GAP_INF : 0);
			txt_free(&pt);
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
			struct txt pt = {0};

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
			if (!txt_append(&pt, t, start, end)) {
				txt_free(&pt);
				return VG_ENOMEM;
			}
			rc = compile_part(c, &pt, start < t->n ? t->col[start] : t->col[t->n - 1],
					  gmin, gmax);
			txt_free(&pt);
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
 * literal with 00. */
static void choose_anchor(const struct pelem *e, uint32_t n, uint32_t *at, uint32_t *len)
{
	uint64_t best = 0;
	uint32_t best_at = 0, best_len = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (e[i].op != OP_BYTE)
			continue;
		for (uint32_t j = i; j < n && e[j].op == OP_BYTE && j - i < VG_MAX_ANCHOR_LEN; j++) {
			uint32_t l = j - i + 1;
			uint64_t score = 0;
			int prev = -1;

			if (l < 2)
				continue;
			for (uint32_t k = i; k <= j; k++) {
				score += byte_weight(e[k].a, prev);
				prev = e[k].a;
			}
			score = score * 4;
			if (e[i].a == 0x00)
				score = score > 24 ? score - 24 : 1;
			if (score > best || (score == best && l > best_len)) {
				best = score;
				best_at = i;
				best_len = l;
			}
		}
	}
	*at = best_at;
	*len = best_len;
}

static void elem_span(const struct pattern *p, const struct pelem *e, uint32_t *mn, uint32_t *mx)
{
	switch (e->op) {
	case OP_ANY:
		*mn = *mx = e->arg;
		break;
	case OP_LINE:
	case OP_LINE_REV:
		*mn = 1;
		*mx = 2;
		break;
	case OP_GROUP:
		*mn = groups_of(p)[e->arg].min_len;
		*mx = groups_of(p)[e->arg].max_len;
		break;
	default:
		*mn = *mx = 1;
		break;
	}
}

static bool simple_op(uint8_t op)
{
	return op == OP_BYTE || op == OP_MASK || op == OP_ANY || op == OP_SET || op == OP_NLINE;
}

/* Everything about a part that follows from its elements; computed when
 * compiling and recomputed to check a loaded pattern. Saturates instead of
 * overflowing; a loaded pattern whose sizes do not fit is rejected. */
static bool derive_part(const struct pattern *p, const struct ppart *pp, struct ppart *d)
{
	const struct pelem *e = elems_of(p) + pp->elem_first;
	uint64_t pmin = 0, pmax = 0, smin = 0, smax = 0, pre, post, ctxr = 0, ctxl = 0;
	bool spre = true, spost = true, nline_post = false;

	*d = *pp;
	for (uint32_t i = 0; i < pp->elem_count; i++) {
		uint32_t mn, mx;

		elem_span(p, &e[i], &mn, &mx);
		if (i < pp->anchor_elem) {
			pmin += mn;
			pmax += mx;
			if (!simple_op(e[i].op))
				spre = false;
		} else if (i >= pp->anchor_elem + pp->anchor_len) {
			smin += mn;
			smax += mx;
			if (!simple_op(e[i].op))
				spost = false;
			if (e[i].op == OP_NLINE || e[i].op == OP_LINE_REV)
				nline_post = true;
		}
	}
	if (pp->left_ctx)
		ctxl = 1;
	if (pp->chl_kind != CH_NONE && (uint64_t)pp->chl_max + 1 > ctxl)
		ctxl = (uint64_t)pp->chl_max + 1;
	if (pp->right_ctx & (CTX_B | CTX_W | CTX_NB | CTX_NW))
		ctxr = 1;
	if (pp->right_ctx & (CTX_L | CTX_NL))
		ctxr = 2; /* "\r\n" after the end */
	if (pp->chr_kind != CH_NONE && (uint64_t)pp->chr_max + 1 > ctxr)
		ctxr = (uint64_t)pp->chr_max + 1;
	if (nline_post && ctxr < 1)
		ctxr = 1;
	pre = pmax + ctxl;
	post = smax + ctxr;
	if (pre > UINT32_MAX / 4 || post > UINT32_MAX / 4)
		return false;
	d->pre_min = (uint32_t)pmin;
	d->pre_len = (uint32_t)pmax;
	d->post_min = (uint32_t)smin;
	d->post_len = (uint32_t)smax;
	d->pre_max = (uint32_t)pre;
	d->post_max = (uint32_t)post;
	d->width = (uint32_t)((pmax - pmin > smax - smin ? pmax - pmin : smax - smin) + 1);
	d->flags = (uint8_t)((spre ? PART_SIMPLE_PRE : 0) | (spost ? PART_SIMPLE_POST : 0));
	return true;
}

/* ---------------------------------------------------------------------- */
/* Assembling the blob                                                    */
/* ---------------------------------------------------------------------- */

static uint32_t align8(uint32_t x)
{
	return (x + 7u) & ~7u;
}

static vg_status assemble(struct cc *c, bool plain, struct pattern **out)
{
	uint32_t nparts = (uint32_t)c->parts.n;
	uint64_t sz, nbytes = 0;
	struct pattern h = {0}, *p;
	uint8_t *pool;
	uint32_t bpos = 0;
	uint64_t min_len = 0;
	const struct pelem *ev = c->elems.p;
	uint32_t *anchor_at, *anchor_len;
	vg_status rc = VG_OK;

	anchor_at = vg_calloc(nparts, sizeof(uint32_t));
	anchor_len = vg_calloc(nparts, sizeof(uint32_t));
	if (!anchor_at || !anchor_len) {
		rc = VG_ENOMEM;
		goto out;
	}
	for (uint32_t k = 0; k < nparts; k++) {
		const struct irpart *ip = vec_at(&c->parts, k);

		choose_anchor(ev + ip->elem_first, ip->elem_count, &anchor_at[k], &anchor_len[k]);
		nbytes += anchor_len[k];
	}

	h.magic = PAT_MAGIC;
	h.nparts = nparts;
	h.flags = (plain ? PAT_PLAIN : 0) | (c->filter_ok ? PAT_FILTER_OK : 0);
	h.nelems = (uint32_t)c->elems.n;
	h.ngroups = (uint32_t)c->groups.n;
	h.nalts = (uint32_t)c->alts.n;
	h.nsets = (uint32_t)c->sets.n;
	h.nbytes = (uint32_t)nbytes;
	sz = align8(sizeof(struct pattern));
	h.part_off = (uint32_t)sz;
	sz += (uint64_t)nparts * sizeof(struct ppart);
	h.elem_off = (uint32_t)sz;
	sz += (uint64_t)h.nelems * sizeof(struct pelem);
	h.group_off = (uint32_t)sz;
	sz += (uint64_t)h.ngroups * sizeof(struct pgroup);
	h.alt_off = (uint32_t)sz;
	sz += (uint64_t)h.nalts * sizeof(struct palt);
	h.set_off = (uint32_t)sz;
	sz += (uint64_t)h.nsets * 32;
	h.byte_off = (uint32_t)sz;
	sz += nbytes;
	sz = align8((uint32_t)sz);
	if (sz > PAT_MAX_BLOB) {
		rc = fail(c, 0, "pattern too large once compiled");
		goto out;
	}
	h.size = (uint32_t)sz;
	p = vg_calloc(1, (size_t)sz);
	if (!p) {
		rc = VG_ENOMEM;
		goto out;
	}
	*p = h;
	if (h.nelems)
		memcpy((uint8_t *)p + h.elem_off, c->elems.p, h.nelems * sizeof(struct pelem));
	if (h.ngroups)
		memcpy((uint8_t *)p + h.group_off, c->groups.p, h.ngroups * sizeof(struct pgroup));
	if (h.nalts)
		memcpy((uint8_t *)p + h.alt_off, c->alts.p, h.nalts * sizeof(struct palt));
	if (h.nsets)
		memcpy((uint8_t *)p + h.set_off, c->sets.p, (size_t)h.nsets * 32);
	pool = (uint8_t *)p + h.byte_off;
	for (uint32_t k = 0; k < nparts; k++) {
		const struct irpart *ip = vec_at(&c->parts, k);
		struct ppart pp = {0}, d;

		pp.gap_min = ip->gap_min;
		pp.gap_max = ip->gap_max;
		pp.elem_first = ip->elem_first;
		pp.elem_count = ip->elem_count;
		pp.anchor_elem = anchor_at[k];
		pp.anchor_len = anchor_len[k];
		pp.anchor_byte = bpos;
		for (uint32_t i = 0; i < anchor_len[k]; i++)
			pool[bpos++] = ev[ip->elem_first + anchor_at[k] + i].a;
		pp.left_ctx = ip->left_ctx;
		pp.right_ctx = ip->right_ctx;
		pp.clam_prefix = ip->clam_prefix;
		pp.chl_kind = ip->chl_kind;
		pp.chl_val = ip->chl_val;
		pp.chl_min = ip->chl_min;
		pp.chl_max = ip->chl_max;
		pp.chr_kind = ip->chr_kind;
		pp.chr_val = ip->chr_val;
		pp.chr_min = ip->chr_min;
		pp.chr_max = ip->chr_max;
		if (!derive_part(p, &pp, &d)) {
			vg_free(p);
			rc = fail(c, 0, "part %u is too long", k + 1);
			goto out;
		}
		memcpy((uint8_t *)p + h.part_off + k * sizeof(struct ppart), &d, sizeof(d));
		min_len += (uint64_t)d.pre_min + d.anchor_len + d.post_min;
		if (k)
			min_len += ip->gap_min;
	}
	p->min_len = min_len;
	*out = p;
out:
	vg_free(anchor_at);
	vg_free(anchor_len);
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
	c.elems.esz = sizeof(struct pelem);
	c.groups.esz = sizeof(struct pgroup);
	c.alts.esz = sizeof(struct palt);
	c.sets.esz = 32;

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
	for (size_t i = 0; i < len; i++) {
		if (!txt_push(&t, hex[i], (uint32_t)i)) {
			rc = VG_ENOMEM;
			goto out;
		}
	}
	rc = inline_gaps(&c, &t);
	if (rc)
		goto out;
	/* ClamAV sends single-part text without '?', '(' or '[' to its
	 * Boyer-Moore matcher */
	plain = find_char(&t, 0, t.n, '*') == SIZE_MAX && find_char(&t, 0, t.n, '{') == SIZE_MAX &&
		find_char(&t, 0, t.n, '?') == SIZE_MAX && find_char(&t, 0, t.n, '(') == SIZE_MAX &&
		find_char(&t, 0, t.n, '[') == SIZE_MAX;
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
	return p->min_len;
}

void pattern_part_info(const struct pattern *p, uint32_t k, struct pattern_part_info *out)
{
	const struct ppart *pp = part_at(p, k);

	out->gap_min = k ? pp->gap_min : 0;
	out->gap_max = k ? pp->gap_max : 0;
	out->anchor = bytes_of(p) + pp->anchor_byte;
	out->anchor_len = pp->anchor_len;
	out->pre_max = pp->pre_max;
	out->post_max = pp->post_max;
	out->end_context = pp->right_ctx != 0;
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
static inline bool simple_at(const struct pattern *p, const struct view *v,
			     const struct pelem *e, int64_t pos)
{
	int b;

	switch (e->op) {
	case OP_BYTE:
		return rd(v, pos) == e->a;
	case OP_MASK:
		b = rd(v, pos);
		return b >= 0 && (b & e->b) == e->a;
	case OP_ANY:
		return pos >= 0 && pos + e->arg <= v->size;
	case OP_SET:
		b = rd(v, pos);
		return b >= 0 && set_has(sets_of(p) + (size_t)e->arg * 32, b);
	case OP_NLINE:
		return nline_at(v, pos);
	default:
		return false;
	}
}

static uint32_t simple_len(const struct pelem *e)
{
	return e->op == OP_ANY ? e->arg : 1;
}

/* Does alternative a match starting at pos? */
static bool alt_at(const struct pattern *p, const struct view *v, const struct palt *a, int64_t pos)
{
	const struct pelem *e = elems_of(p) + a->elem_first;

	for (uint32_t i = 0; i < a->elem_count; i++) {
		if (!simple_at(p, v, &e[i], pos))
			return false;
		pos += simple_len(&e[i]);
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
static void run_general(const struct pattern *p, const struct view *v, const struct pelem *e,
			uint32_t n, int dir, int64_t origin, struct scratch *s, struct posset *out)
{
	uint32_t *cur = s->a, *nxt = s->b, ncur = 1, lo = 0;

	cur[0] = 0;
	for (uint32_t idx = 0; idx < n && ncur; idx++) {
		const struct pelem *el = dir > 0 ? &e[idx] : &e[n - 1 - idx];
		uint32_t mn, mx, nlo, w, nn = 0;

		elem_span(p, el, &mn, &mx);
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
			switch (el->op) {
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
				const struct pgroup *g = &groups_of(p)[el->arg];
				const struct palt *alts = alts_of(p) + g->alt_first;

				if (g->neg) {
					int64_t st = dir > 0 ? at : at - g->min_len;
					bool any = false;

					if (st < 0 || st + g->min_len > v->size)
						break;
					for (int64_t q = st; q < st + g->min_len; q++)
						if (rd(v, q) < 0)
							any = true;
					for (uint32_t a = 0; a < g->nalts && !any; a++)
						if (alt_at(p, v, &alts[a], st))
							any = true;
					if (!any)
						ADD(g->min_len);
					break;
				}
				for (uint32_t a = 0; a < g->nalts; a++) {
					int64_t st = dir > 0 ? at : at - alts[a].len;

					if (st < 0)
						continue;
					if (alt_at(p, v, &alts[a], st))
						ADD(alts[a].len);
				}
				break;
			}
			default: {
				uint32_t l = simple_len(el);
				int64_t st = dir > 0 ? at : at - l;

				if (st >= 0 && simple_at(p, v, el, st))
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

/* Forward run of simple elements; returns the end or -1. */
static int64_t run_simple_fwd(const struct pattern *p, const struct view *v,
			      const struct pelem *e, uint32_t n, int64_t pos)
{
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].op == OP_BYTE) {
			if (rd(v, pos) != e[i].a)
				return -1;
			pos++;
			continue;
		}
		if (!simple_at(p, v, &e[i], pos))
			return -1;
		pos += simple_len(&e[i]);
	}
	return pos;
}

static int64_t run_simple_bwd(const struct pattern *p, const struct view *v,
			      const struct pelem *e, uint32_t n, int64_t pos)
{
	for (uint32_t i = n; i-- > 0;) {
		uint32_t l = simple_len(&e[i]);

		if (pos < l)
			return -1;
		pos -= l;
		if (!simple_at(p, v, &e[i], pos))
			return -1;
	}
	return pos;
}

static bool left_ok(const struct ppart *pp, const struct view *v, int64_t start)
{
	uint8_t c = pp->left_ctx;

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
	if (pp->chl_kind != CH_NONE) {
		for (uint32_t d = pp->chl_min; d <= pp->chl_max; d++) {
			int64_t at = start - 1 - (int64_t)d;
			int b;

			if (at < 0)
				return false;
			b = rd(v, at);
			if (b < 0)
				return false;
			if (pp->chl_kind == CH_BYTE ? b == pp->chl_val : (b & 0x0f) == pp->chl_val)
				return true;
		}
		return false;
	}
	return true;
}

static bool right_ok(const struct ppart *pp, const struct view *v, int64_t end)
{
	uint8_t c = pp->right_ctx;

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
	if (pp->chr_kind != CH_NONE) {
		for (uint32_t d = pp->chr_min; d <= pp->chr_max; d++) {
			int64_t at = end + (int64_t)d;
			int b;

			if (at >= v->size)
				return false;
			b = rd(v, at);
			if (b < 0)
				return false;
			if (pp->chr_kind == CH_BYTE ? b == pp->chr_val : (b & 0x0f) == pp->chr_val)
				return true;
		}
		return false;
	}
	return true;
}

uint32_t pattern_part_verify(const struct pattern *p, uint32_t k,
			     const struct pattern_window *w, uint64_t anchor_pos,
			     pattern_occ_fn *cb, void *ctx)
{
	const struct ppart *pp;
	const struct pelem *e;
	struct view v;
	int64_t apos, aend;
	/* distances of the starts before apos / ends after aend, ascending
	 * positions: pre_off descending, post_off ascending */
	uint32_t one_pre = 0, one_post = 0, *pre_off = &one_pre, *post_off = &one_post;
	uint32_t npre = 0, npost = 0, reported = 0;
	struct scratch s_pre, s_post;
	bool have_pre = false, have_post = false;

	if (!p || !w || k >= p->nparts || !cb || (!w->data && w->len))
		return 0;
	if (w->size > (uint64_t)INT64_MAX / 2 || w->base > w->size || w->len > w->size - w->base)
		return 0;
	pp = part_at(p, k);
	e = elems_of(p) + pp->elem_first;
	v.d = w->data;
	v.lo = (int64_t)w->base;
	v.hi = (int64_t)(w->base + w->len);
	v.size = (int64_t)w->size;
	if (anchor_pos > w->size || w->size - anchor_pos < pp->anchor_len)
		return 0;
	apos = (int64_t)anchor_pos;
	aend = apos + pp->anchor_len;
	if (apos < v.lo || aend > v.hi ||
	    memcmp(v.d + (apos - v.lo), bytes_of(p) + pp->anchor_byte, pp->anchor_len) != 0)
		return 0;

	/* after the anchor: the cheap side first, most hits die here */
	{
		const struct pelem *se = e + pp->anchor_elem + pp->anchor_len;
		uint32_t sn = pp->elem_count - pp->anchor_elem - pp->anchor_len;

		if (pp->flags & PART_SIMPLE_POST) {
			int64_t end = run_simple_fwd(p, &v, se, sn, aend);

			if (end < 0 || end > v.size || !right_ok(pp, &v, end))
				return 0;
			one_post = (uint32_t)(end - aend);
			npost = 1;
		} else {
			struct posset ps;

			if (!scratch_init(&s_post, pp->width))
				return 0;
			have_post = true;
			run_general(p, &v, se, sn, 1, aend, &s_post, &ps);
			for (uint32_t i = 0; i < ps.n; i++) {
				int64_t end = aend + ps.v[i];

				if (end <= v.size && right_ok(pp, &v, end))
					ps.v[npost++] = ps.v[i];
			}
			post_off = ps.v;
			if (!npost)
				goto out;
		}
	}

	/* before the anchor */
	if (pp->flags & PART_SIMPLE_PRE) {
		int64_t start = run_simple_bwd(p, &v, e, pp->anchor_elem, apos);

		if (start < 0 || !left_ok(pp, &v, start))
			goto out;
		one_pre = (uint32_t)(apos - start);
		npre = 1;
	} else {
		struct posset ps;

		if (!scratch_init(&s_pre, pp->width))
			goto out;
		have_pre = true;
		run_general(p, &v, e, pp->anchor_elem, -1, apos, &s_pre, &ps);
		for (uint32_t i = 0; i < ps.n; i++) {
			int64_t start = apos - ps.v[i];

			if (start >= 0 && left_ok(pp, &v, start))
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

/* ClamAV's length for an element in its offset pre-check: the real one,
 * except (B), (L), (W) in the middle, which its special table records as
 * zero bytes long. */
static void clam_counted_span(const struct pattern *p, const struct pelem *e, uint32_t *mn,
			      uint32_t *mx, bool *miscounted)
{
	switch (e->op) {
	case OP_LINE:
	case OP_LINE_REV:
	case OP_NLINE:
		*mn = *mx = 0;
		*miscounted = true;
		break;
	case OP_SET:
		if (e->b) {
			*mn = *mx = 0;
			*miscounted = true;
			break;
		}
		*mn = *mx = 1;
		break;
	default:
		elem_span(p, e, mn, mx);
		break;
	}
}

bool pattern_clam_offset_visible(const struct pattern *p, const struct pattern_window *w,
				 uint64_t start, uint64_t omin, uint64_t omax)
{
	const struct ppart *pp = part_at(p, 0);
	const struct pelem *e = elems_of(p) + pp->elem_first;
	uint64_t cmin = 0, cmax = 0;
	bool miscounted = false, fixed = true;
	uint64_t real = 0;

	for (uint32_t i = 0; i < pp->clam_prefix; i++) {
		uint32_t mn, mx, rmn, rmx;

		clam_counted_span(p, &e[i], &mn, &mx, &miscounted);
		cmin += mn;
		cmax += mx;
		elem_span(p, &e[i], &rmn, &rmx);
		if (rmn != rmx)
			fixed = false;
		real += rmn;
	}
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
		if (!scratch_init(&s, pp->width))
			return true;
		run_general(p, &v, e, pp->clam_prefix, 1, (int64_t)start, &s, &ps);
		for (uint32_t i = 0; i < ps.n && !seen; i++)
			seen = CLAM_SEES(start + ps.v[i]);
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
	*len = p->size;
	return (const uint8_t *)p;
}

static bool range_ok(uint64_t off, uint64_t count, uint64_t esz, uint64_t size)
{
	return off % 8 == 0 && off <= size && count <= (size - off) / (esz ? esz : 1);
}

/* Everything the verifier relies on, checked so that hostile bytes cannot
 * make it read out of bounds, recurse or loop. */
static bool validate(const struct pattern *p, size_t len)
{
	const struct pelem *ev;
	const struct pgroup *gv;
	const struct palt *av;
	uint64_t min_len = 0;

	if (len < sizeof(struct pattern) || p->magic != PAT_MAGIC || p->size != len ||
	    len > PAT_MAX_BLOB || (p->flags & ~(uint32_t)PAT_FLAGS_ALL) || p->nparts == 0 ||
	    p->nparts > VG_MAX_PATTERN_PARTS || p->pad != 0)
		return false;
	if (p->part_off < sizeof(struct pattern) ||
	    !range_ok(p->part_off, p->nparts, sizeof(struct ppart), len) ||
	    !range_ok(p->elem_off, p->nelems, sizeof(struct pelem), len) ||
	    !range_ok(p->group_off, p->ngroups, sizeof(struct pgroup), len) ||
	    !range_ok(p->alt_off, p->nalts, sizeof(struct palt), len) ||
	    !range_ok(p->set_off, p->nsets, 32, len) || p->byte_off > len ||
	    p->nbytes > len - p->byte_off)
		return false;
	ev = elems_of(p);
	gv = groups_of(p);
	av = alts_of(p);
	for (uint32_t i = 0; i < p->nalts; i++) {
		uint64_t l = 0;

		if (av[i].elem_first > p->nelems || av[i].elem_count > p->nelems - av[i].elem_first)
			return false;
		for (uint32_t j = 0; j < av[i].elem_count; j++) {
			const struct pelem *e = &ev[av[i].elem_first + j];

			if (e->op != OP_BYTE && e->op != OP_MASK && e->op != OP_ANY)
				return false;
			if (e->op == OP_ANY && e->arg == 0)
				return false;
			l += e->op == OP_ANY ? e->arg : 1;
		}
		if (l != av[i].len)
			return false;
	}
	for (uint32_t i = 0; i < p->ngroups; i++) {
		uint32_t mn = UINT32_MAX, mx = 0;

		if (gv[i].nalts == 0 || gv[i].alt_first > p->nalts ||
		    gv[i].nalts > p->nalts - gv[i].alt_first || gv[i].neg > 1)
			return false;
		for (uint32_t a = 0; a < gv[i].nalts; a++) {
			uint32_t l = av[gv[i].alt_first + a].len;
			if (l < mn)
				mn = l;
			if (l > mx)
				mx = l;
		}
		if (mn != gv[i].min_len || mx != gv[i].max_len || (gv[i].neg && mn != mx) ||
		    mx > (1u << 24))
			return false;
	}
	for (uint32_t i = 0; i < p->nelems; i++) {
		const struct pelem *e = &ev[i];

		switch (e->op) {
		case OP_BYTE:
		case OP_MASK:
		case OP_LINE:
		case OP_NLINE:
		case OP_LINE_REV:
			break;
		case OP_ANY:
			if (e->arg == 0 || e->arg > (1u << 24))
				return false;
			break;
		case OP_SET:
			if (e->arg >= p->nsets || e->b > 1)
				return false;
			break;
		case OP_GROUP:
			if (e->arg >= p->ngroups)
				return false;
			break;
		default:
			return false;
		}
	}
	for (uint32_t k = 0; k < p->nparts; k++) {
		const struct ppart *pp = part_at(p, k);
		struct ppart d;
		const struct pelem *e;

		if (pp->elem_first > p->nelems || pp->elem_count > p->nelems - pp->elem_first ||
		    pp->elem_count > (1u << 24) || pp->anchor_len < 2 ||
		    pp->anchor_len > VG_MAX_ANCHOR_LEN || pp->anchor_elem > pp->elem_count ||
		    pp->anchor_len > pp->elem_count - pp->anchor_elem ||
		    pp->anchor_byte > p->nbytes || pp->anchor_len > p->nbytes - pp->anchor_byte)
			return false;
		if ((pp->left_ctx & ~CTX_ALL) || (pp->right_ctx & ~CTX_ALL) || pp->pad ||
		    pp->clam_prefix > pp->elem_count ||
		    pp->chl_kind > CH_LOW || pp->chr_kind > CH_LOW ||
		    pp->chl_min > pp->chl_max || pp->chl_max > VG_MAX_RANGE_ANCHOR ||
		    pp->chr_min > pp->chr_max || pp->chr_max > VG_MAX_RANGE_ANCHOR)
			return false;
		if (k == 0 && (pp->gap_min || pp->gap_max))
			return false;
		e = ev + pp->elem_first;
		for (uint32_t i = 0; i < pp->anchor_len; i++) {
			if (e[pp->anchor_elem + i].op != OP_BYTE ||
			    e[pp->anchor_elem + i].a != bytes_of(p)[pp->anchor_byte + i])
				return false;
		}
		if (!derive_part(p, pp, &d) || memcmp(&d, pp, sizeof(d)) != 0)
			return false;
		min_len += (uint64_t)d.pre_min + d.anchor_len + d.post_min + (k ? pp->gap_min : 0);
	}
	return min_len == p->min_len;
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

	if (!bytes || ((uintptr_t)bytes % 8) != 0 || len < sizeof(struct pattern) ||
	    len > PAT_MAX_BLOB || p->magic != PAT_MAGIC || p->size != len || p->nparts == 0 ||
	    p->nparts > VG_MAX_PATTERN_PARTS)
		return NULL;
	return p;
}

uint32_t pattern_clam_len(const struct pattern *p)
{
	uint64_t best = 0;

	for (uint32_t k = 0; k < p->nparts; k++) {
		const struct ppart *pp = part_at(p, k);
		const struct pelem *e = elems_of(p) + pp->elem_first;
		uint64_t len = 0;

		for (uint32_t i = 0; i < pp->elem_count; i++) {
			uint32_t mn, mx;
			/* boundary marks in the middle: a (B)/(W) byte set, (L) */
			if ((e[i].op == OP_SET && e[i].b == 1) || e[i].op == OP_LINE ||
			    e[i].op == OP_NLINE)
				continue;
			elem_span(p, &e[i], &mn, &mx);
			len += mx;
		}
		if (len > best)
			best = len;
	}
	return best > UINT32_MAX ? UINT32_MAX : (uint32_t)best;
}
