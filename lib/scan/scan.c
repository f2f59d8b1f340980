/* The scan driver.
 *
 * One pass over the layer, in VG_SCAN_CHUNK pieces: each piece goes to the
 * digests (only the algorithms some hash signature or allow-list entry needs
 * at this file size) and to the Vectorscan stream holding every body
 * pattern's anchor. A prefilter hit names an anchor; each body part using
 * that anchor is verified against the bytes around it. The window keeps
 * enough history behind the newest piece for the longest prefix any part can
 * have; hits whose suffix runs past the data read so far wait in a pending
 * list until the next piece arrives.
 *
 * Executables (PE, ELF, Mach-O by their magic) are typed and their headers
 * parsed from the first piece, before any hit is verified, so signatures of
 * targets 1, 6 and 9 and offsets relative to the entry point or a section
 * are decided as the hits come (headers beyond the first piece, such as an
 * ELF section table at the end, are read with pread or from memory).
 *
 * Matches are collected and reported in the order ClamAV reports them: body
 * matches first, by ClamAV's 128 KiB scan window, then those of the layer's
 * target type before those of target 0, then Boyer-Moore-class (plain)
 * patterns before Aho-Corasick-class ones, then by position; then hash
 * matches (MD5, SHA-1, SHA-256; exact size before wildcard size); then, for
 * PE files, section hash matches section by section (what ClamAV's PE
 * scanner does after the body scan); then logical signatures (lsig.c): the
 * layer's own target before target 0, each in load order, and for a
 * container after what was found inside it. A logical signature is looked
 * at only when one of its content subsignatures matched (or when it can hold
 * with none), not on every layer as ClamAV does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exe/exe.h"
#include "filetype/filetype.h"
#include "scan/scan_db.h"
#include "scan/views.h"
#include "unpack/unpack.h"

/* ---------------------------------------------------------------------- */
/* Per-thread state                                                        */

struct occ {
	uint64_t start, end;
	uint32_t part;
	uint32_t next; /* index + 1 of the next occurrence of the same body; 0 ends */
};

struct body_state {
	uint32_t stamp;     /* == scan_ctx.stamp when valid for this scan */
	uint32_t occ_head;  /* multi-part: list of occurrences (index + 1) */
	uint32_t nocc;
	uint32_t nhits;     /* .ldb subsignature: match starts recorded */
	bool matched;
	uint64_t start, end; /* of the reported match */
};

struct pending {
	uint32_t lit;
	uint64_t end;
};

/* Per literal and scan: how many of its single-part signatures matched. */
struct lit_state {
	uint32_t stamp;
	uint32_t done;
};

enum found_class {
	CLS_BM = 0,      /* Boyer-Moore class body pattern */
	CLS_AC,          /* Aho-Corasick class body pattern */
	CLS_HASH,        /* whole-file hash */
	CLS_PE_SECTION,  /* PE section hash */
	CLS_PE_IMPORT    /* PE import table hash */
};

struct found {
	uint32_t sig;
	uint8_t kind;
	uint8_t cls;      /* enum found_class */
	uint8_t root;     /* 0: the layer's target type, 1: target 0 (ClamAV scans that root second) */
	uint32_t hash_rank;
	uint64_t window;
	uint64_t pos;
	uint64_t offset;
	bool offset_known;
};

struct grow {
	void *items;
	size_t n, cap, size;
};

static void *grow_push(struct grow *g)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		void *p = vg_reallocarray(g->items, cap, g->size);
		if (!p)
			return NULL;
		g->items = p;
		g->cap = cap;
	}
	return (uint8_t *)g->items + g->size * g->n++;
}

struct scan_ctx {
	const struct scan_db *db;
	struct prefilter_stream *ps;
	struct digest_set *digests;
	uint8_t *buf;
	size_t cap;
	struct body_state *bodies;
	struct lit_state *lits;
	uint32_t stamp;
	struct grow touched;  /* uint32_t body indexes touched in this scan */
	struct grow occs;     /* struct occ */
	struct grow pending;  /* struct pending */
	struct grow found;    /* struct found */
	struct grow lhits;    /* struct lsig_hit: .ldb content subsignature matches */
	uint8_t *fold;        /* lower-cased bytes around a hit, for ::i subsignatures */
	size_t fold_cap;
	bool lsig_pending;    /* the layer's logical signatures are to be evaluated */
	const struct scan_input *in;
	struct grow emitted;  /* uint32_t names reported for the current layer */
	struct view *view;    /* normalised views, allocated on first use */
	uint32_t targets;     /* target types matched in the current pass */
	enum ftype type;      /* of the current layer */

	/* the scan in progress */
	uint64_t base;        /* absolute offset of buf[0] */
	size_t len;           /* valid bytes in buf */
	uint64_t size;        /* layer size */
	uint64_t min_window;  /* earliest ClamAV window of a match so far */
	uint8_t head[FILETYPE_HEAD]; /* the layer's first bytes, for typing */
	size_t head_len;
	uint8_t target;       /* enum sig_target of the layer, 0 when none */
	struct exe_info exe;  /* its headers, when target is not 0 */
	bool eof;
	vg_status err;        /* allocation failure inside a callback */
};

void scan_ctx_free(struct scan_ctx *c)
{
	if (!c)
		return;
	prefilter_stream_free(c->ps);
	digest_set_free(c->digests);
	vg_free(c->buf);
	vg_free(c->bodies);
	vg_free(c->lits);
	vg_free(c->touched.items);
	vg_free(c->occs.items);
	vg_free(c->pending.items);
	vg_free(c->found.items);
	vg_free(c->lhits.items);
	vg_free(c->fold);
	vg_free(c->emitted.items);
	view_free(c->view);
	vg_free(c->view);
	vg_free(c);
}

vg_status scan_ctx_new(const struct scan_db *db, struct scan_ctx **out)
{
	struct scan_ctx *c = vg_calloc(1, sizeof(*c));
	vg_status rc = VG_ENOMEM;

	if (!c)
		return VG_ENOMEM;
	c->db = db;
	c->touched.size = sizeof(uint32_t);
	c->occs.size = sizeof(struct occ);
	c->pending.size = sizeof(struct pending);
	c->found.size = sizeof(struct found);
	c->lhits.size = sizeof(struct lsig_hit);
	c->emitted.size = sizeof(uint32_t);
	/* history + one chunk + the forward reach, so a chunk always fits */
	c->cap = db->max_back + db->max_fwd + 2 * (size_t)VG_SCAN_CHUNK;
	c->buf = vg_malloc(c->cap);
	c->bodies = vg_calloc(db->nbodies ? db->nbodies : 1, sizeof(struct body_state));
	c->lits = vg_calloc(db->nlits ? db->nlits : 1, sizeof(struct lit_state));
	if (!c->buf || !c->bodies || !c->lits)
		goto fail;
	rc = prefilter_stream_new(db->pf, &c->ps);
	if (rc == VG_OK)
		rc = digest_set_new(&c->digests);
	if (rc != VG_OK)
		goto fail;
	*out = c;
	return VG_OK;
fail:
	scan_ctx_free(c);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Matching                                                                */

static struct body_state *body_state(struct scan_ctx *c, uint32_t body)
{
	struct body_state *b = &c->bodies[body];

	if (b->stamp != c->stamp) {
		uint32_t *t;
		memset(b, 0, sizeof(*b));
		b->stamp = c->stamp;
		t = grow_push(&c->touched);
		if (!t) {
			c->err = VG_ENOMEM;
			return NULL;
		}
		*t = body;
	}
	return b;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Where a signature's first part may start in this layer: [*lo, *hi], as
 * ClamAV's cli_caloff resolves it. false when nowhere: an offset past the
 * start of the file, a missing section, or executable headers ClamAV would
 * not use. Offsets relative to an executable are computed, as in ClamAV, in
 * 32 bits: a sum past 4 GiB wraps (values from a hostile file can make it),
 * and a window whose end wrapped below its start holds nothing. */
static bool offset_range(const struct scan_ctx *c, uint32_t kind, uint64_t n, uint64_t shift,
			 uint32_t section, bool bm_class, uint64_t *lo, uint64_t *hi)
{
	const struct exe_info *x = &c->exe;
	uint64_t at;
	uint32_t n32 = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	uint32_t s32 = shift > UINT32_MAX ? UINT32_MAX : (uint32_t)shift;
	uint32_t lo32, hi32;

	switch (kind) {
	case SIG_OFF_ABS:
		*lo = n;
		*hi = sat_add(n, shift);
		return true;
	case SIG_OFF_EOF:
		if (n > c->size)
			return false;
		at = c->size - n;
		*lo = at;
		*hi = sat_add(at, shift);
		return true;
	default:
		break;
	}
	if (!x->valid)
		return false;
	switch (kind) {
	case SIG_OFF_EP_PLUS:
		lo32 = (uint32_t)x->ep + n32;
		break;
	case SIG_OFF_EP_MINUS:
		lo32 = (uint32_t)x->ep - n32;
		break;
	case SIG_OFF_SX:
	case SIG_OFF_SE:
		if (section >= x->nsections || section >= x->described)
			return false;
		lo32 = (uint32_t)x->sections[section].raw_off;
		if (kind == SIG_OFF_SE) {
			/* anywhere in the section, and shift bytes past it; but from
			 * 256 KiB on, ClamAV's Boyer-Moore matcher for PE files looks
			 * only at the first offset a signature allows: the section's
			 * start (matcher-bm.c, offset mode) */
			hi32 = bm_class && c->size >= VG_CLAMAV_BM_OFFMODE_SIZE
				       ? lo32
				       : lo32 + (uint32_t)x->sections[section].raw_size + s32;
			goto done;
		}
		lo32 += n32;
		break;
	case SIG_OFF_SL:
		if (x->nsections == 0 || x->nsections > x->described)
			return false;
		lo32 = (uint32_t)x->sections[x->nsections - 1].raw_off + n32;
		break;
	default:
		return false;
	}
	hi32 = lo32 + s32;
done:
	if (hi32 < lo32)
		return false;
	*lo = lo32;
	*hi = hi32;
	return true;
}

static bool offset_ok(const struct scan_ctx *c, const struct img_body *bs, uint64_t start)
{
	uint64_t lo, hi;

	if (bs->off_kind == SIG_OFF_ANY)
		return true;
	return offset_range(c, bs->off_kind, bs->off_n, bs->off_shift, bs->off_section, bs->bm_class,
			    &lo, &hi) &&
	       start >= lo && start <= hi;
}

/* A match start of a .ldb content subsignature; the evaluator counts the
 * distinct ones. */
static void lsig_hit(struct scan_ctx *c, uint32_t body, uint64_t key, uint64_t start,
		     uint64_t end)
{
	struct body_state *b = body_state(c, body);
	struct lsig_hit *h;

	if (!b || b->nhits >= VG_MAX_LSIG_OCCURRENCES)
		return;
	b->nhits++;
	h = grow_push(&c->lhits);
	if (!h) {
		c->err = VG_ENOMEM;
		return;
	}
	h->lsub = c->db->bodies[body].lsub - 1;
	h->pad = 0;
	h->key = key;
	h->start = start;
	h->end = end;
}

struct verify_ctx {
	struct scan_ctx *c;
	uint32_t body;
	uint32_t part;
	uint32_t nparts;
	const struct img_body *bs;
};

static uint64_t clam_window(const struct scan_db *db, uint64_t end)
{
	return scan_db_clam_window(db, end);
}

static void record_match(struct scan_ctx *c, uint32_t body, uint64_t start, uint64_t end)
{
	struct body_state *b = body_state(c, body);

	if (!b)
		return;
	/* keep the occurrence ClamAV would report first: earliest end */
	if (!b->matched || end < b->end || (end == b->end && start < b->start)) {
		b->matched = true;
		b->start = start;
		b->end = end;
	}
	if (clam_window(c->db, end) < c->min_window)
		c->min_window = clam_window(c->db, end);
}

static int on_occurrence(void *ctx, uint64_t start, uint64_t end)
{
	struct verify_ctx *v = ctx;
	struct scan_ctx *c = v->c;
	struct body_state *b;
	struct occ *o;

	if (v->part == 0 && !offset_ok(c, v->bs, start))
		return 0;
	if (v->nparts == 1) {
		if (v->bs->lsub)
			lsig_hit(c, v->body, start, start, end);
		else
			record_match(c, v->body, start, end);
		return c->err != VG_OK;
	}
	b = body_state(c, v->body);
	if (!b)
		return 1;
	if (b->nocc >= VG_MAX_PART_OCCURRENCES * v->nparts)
		return 1;
	/* (an .ldb multi-part subsignature keeps its parts here too; its
	 * chains become hits in resolve_multipart) */
	o = grow_push(&c->occs);
	if (!o) {
		c->err = VG_ENOMEM;
		return 1;
	}
	o->start = start;
	o->end = end;
	o->part = v->part;
	o->next = b->occ_head;
	b->occ_head = (uint32_t)c->occs.n;
	b->nocc++;
	return 0;
}

/* Cheap test before verifying: can a part anchored here start where the
 * signature's offset allows? */
static bool anchor_offset_possible(const struct scan_ctx *c, const struct part_ref *ref,
				   uint64_t anchor_pos)
{
	const struct img_body *bs;
	uint64_t lo, hi, first;

	if (ref->off_kind == SIG_OFF_ANY)
		return true;
	bs = &c->db->bodies[ref->body];
	if (!offset_range(c, ref->off_kind, ref->off_n, ref->off_shift, bs->off_section, bs->bm_class,
			  &lo, &hi))
		return false;
	/* the part starts in [anchor_pos - pre_max, anchor_pos] */
	first = anchor_pos > ref->pre_max ? anchor_pos - ref->pre_max : 0;
	return anchor_pos >= lo && first <= hi;
}

/* ::i subsignatures are compiled in lower case: verify them against a
 * lower-cased copy of the bytes around the hit. */
static bool fold_window(struct scan_ctx *c, uint64_t anchor_pos, uint64_t end,
			struct pattern_window *w)
{
	uint64_t lo = anchor_pos > c->db->max_back ? anchor_pos - c->db->max_back : 0;
	uint64_t hi = end + c->db->max_fwd;
	size_t n;

	if (lo < c->base)
		lo = c->base;
	if (hi > c->base + c->len)
		hi = c->base + c->len;
	n = hi > lo ? (size_t)(hi - lo) : 0;
	if (n > c->fold_cap) {
		uint8_t *p = vg_realloc(c->fold, n);
		if (!p) {
			c->err = VG_ENOMEM;
			return false;
		}
		c->fold = p;
		c->fold_cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = c->buf[lo - c->base + i];
		c->fold[i] = ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + 32) : ch;
	}
	w->data = c->fold;
	w->len = n;
	w->base = lo;
	return true;
}

static void verify_hit(struct scan_ctx *c, uint32_t lit, uint64_t end)
{
	const struct scan_db *db = c->db;
	struct pattern_window w = {c->buf, c->len, c->base, c->size};
	uint64_t anchor_pos = end - db->lit_len[lit];
	struct lit_state *ls = &c->lits[lit];
	uint32_t nrefs = db->lit_first[lit + 1] - db->lit_first[lit];

	if (ls->stamp != c->stamp) {
		ls->stamp = c->stamp;
		ls->done = 0;
	}
	/* every signature behind this literal has matched already */
	if (ls->done == nrefs)
		return;
	/* refs of one literal agree on case (scandb keeps ::i literals apart) */
	if (nrefs && db->bodies[db->refs[db->lit_first[lit]].body].nocase &&
	    !fold_window(c, anchor_pos, end, &w))
		return;
	for (uint32_t r = db->lit_first[lit]; r < db->lit_first[lit + 1]; r++) {
		const struct part_ref *ref = &db->refs[r];
		const struct body_state *b = &c->bodies[ref->body];
		struct verify_ctx v;
		const struct pattern *pat;

		if (ref->single && b->stamp == c->stamp && b->matched)
			continue; /* a later occurrence cannot come first */
		if (!(c->targets & (1u << ref->target)))
			continue; /* not for this layer's type or view */
		if (!anchor_offset_possible(c, ref, anchor_pos))
			continue;
		v.c = c;
		v.body = ref->body;
		v.part = ref->part;
		v.nparts = ref->single ? 1 : db->bodies[ref->body].nparts;
		v.bs = &db->bodies[ref->body];
		pat = scan_db_pattern(db, ref->body);
		if (pat)
			pattern_part_verify(pat, ref->part, &w, anchor_pos, on_occurrence, &v);
		if (ref->single && b->stamp == c->stamp && b->matched)
			ls->done++;
	}
}

/* Everything needed to verify a hit ending at end is in the buffer. */
static bool hit_ready(const struct scan_ctx *c, uint32_t lit, uint64_t end)
{
	uint64_t need = end + c->db->lit_post[lit];

	if (need > c->size)
		need = c->size;
	return c->eof || need <= c->base + c->len;
}

static int on_hit(void *ctx, uint32_t lit, uint64_t end)
{
	struct scan_ctx *c = ctx;
	struct pending *p;

	if (hit_ready(c, lit, end)) {
		verify_hit(c, lit, end);
		return c->err != VG_OK;
	}
	if (c->pending.n >= VG_MAX_PENDING_HITS) {
		c->err = VG_ELIMIT;
		return 1;
	}
	p = grow_push(&c->pending);
	if (!p) {
		c->err = VG_ENOMEM;
		return 1;
	}
	p->lit = lit;
	p->end = end;
	return 0;
}

static void run_pending(struct scan_ctx *c)
{
	struct pending *p = c->pending.items;
	size_t keep = 0;

	for (size_t i = 0; i < c->pending.n; i++) {
		if (hit_ready(c, p[i].lit, p[i].end))
			verify_hit(c, p[i].lit, p[i].end);
		else
			p[keep++] = p[i];
	}
	c->pending.n = keep;
}

/* Multi-part signatures: a match is a chain of one occurrence per part, in
 * order, each starting within the gap allowed after the previous one ends.
 * Part by part, the valid ends of the previous part are sorted, so each
 * occurrence finds its possible predecessors by binary search; with an
 * unbounded gap any earlier end will do, and a prefix minimum gives the
 * earliest chain start. Reports the chain whose last part ends first. */
struct chain_end {
	uint64_t end;
	uint64_t start; /* earliest start of a chain ending here */
};

static int cmp_chain_end(const void *pa, const void *pb)
{
	const struct chain_end *a = pa, *b = pb;

	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

/* Index of the first element with end > limit. */
static size_t ends_upto(const struct chain_end *v, size_t n, uint64_t limit)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].end <= limit)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void resolve_multipart(struct scan_ctx *c, uint32_t body)
{
	const struct pattern *pat = scan_db_pattern(c->db, body);
	uint32_t nparts = c->db->bodies[body].nparts;
	struct body_state *b = &c->bodies[body];
	const struct occ *occs = c->occs.items;
	struct chain_end *prev = NULL, *next = NULL;
	uint64_t *pmin = NULL;
	size_t nprev = 0, n = b->nocc;

	if (nparts < 2 || n == 0 || !pat)
		return;
	prev = vg_calloc(n, sizeof(*prev));
	next = vg_calloc(n, sizeof(*next));
	pmin = vg_calloc(n, sizeof(*pmin));
	if (!prev || !next || !pmin) {
		c->err = VG_ENOMEM;
		goto out;
	}
	for (uint32_t o = b->occ_head; o; o = occs[o - 1].next)
		if (occs[o - 1].part == 0 && nprev < n) {
			prev[nprev].end = occs[o - 1].end;
			prev[nprev].start = occs[o - 1].start;
			nprev++;
		}
	for (uint32_t part = 1; part < nparts && nprev; part++) {
		struct pattern_part_info pi;
		size_t nnext = 0;

		pattern_part_info(pat, part, &pi);
		qsort(prev, nprev, sizeof(*prev), cmp_chain_end);
		for (size_t i = 0; i < nprev; i++)
			pmin[i] = i && pmin[i - 1] < prev[i].start ? pmin[i - 1] : prev[i].start;
		for (uint32_t o = b->occ_head; o; o = occs[o - 1].next) {
			const struct occ *oc = &occs[o - 1];
			size_t hi, lo;
			uint64_t best;

			if (oc->part != part || oc->start < pi.gap_min || nnext >= n)
				continue;
			hi = ends_upto(prev, nprev, oc->start - pi.gap_min);
			if (hi == 0)
				continue;
			if (pi.gap_max == PATTERN_GAP_INF || oc->start <= pi.gap_max) {
				best = pmin[hi - 1];
			} else {
				lo = ends_upto(prev, nprev, oc->start - pi.gap_max - 1);
				if (lo >= hi)
					continue;
				best = prev[lo].start;
				for (size_t k = lo + 1; k < hi; k++)
					if (prev[k].start < best)
						best = prev[k].start;
			}
			next[nnext].end = oc->end;
			next[nnext].start = best;
			nnext++;
		}
		{
			struct chain_end *t = prev;
			prev = next;
			next = t;
			nprev = nnext;
		}
	}
	for (size_t i = 0; i < nprev; i++) {
		if (c->db->bodies[body].lsub)
			lsig_hit(c, body, prev[i].end, prev[i].start, prev[i].end);
		else
			record_match(c, body, prev[i].start, prev[i].end);
	}
out:
	vg_free(prev);
	vg_free(next);
	vg_free(pmin);
}

/* The file name of the database a signature (by name offset) came from. */
static const char *db_name_of(const struct scan_db *db, uint32_t sig)
{
	size_t lo = 0, hi = db->ndbs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (db->dbs[mid].end_sig <= sig)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < db->ndbs && db->dbs[lo].first_sig <= sig)
		return scan_db_str(db, db->dbs[lo].name);
	return "";
}

static int cmp_found(const void *pa, const void *pb)
{
	const struct found *a = pa, *b = pb;

	if (a->cls >= CLS_HASH || b->cls >= CLS_HASH) {
		if (a->cls != b->cls)
			return a->cls < b->cls ? -1 : 1;
		if (a->cls == 3)
			return a->pos < b->pos ? -1 : a->pos > b->pos;
		if (a->hash_rank != b->hash_rank)
			return a->hash_rank < b->hash_rank ? -1 : 1;
		return a->sig < b->sig ? -1 : a->sig > b->sig;
	}
	if (a->window != b->window)
		return a->window < b->window ? -1 : 1;
	if (a->root != b->root)
		return a->root < b->root ? -1 : 1;
	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return a->sig < b->sig ? -1 : a->sig > b->sig;
}

static vg_status collect_body_matches(struct scan_ctx *c)
{
	const uint32_t *t = c->touched.items;

	for (size_t i = 0; i < c->touched.n; i++) {
		const struct img_body *bs = &c->db->bodies[t[i]];
		struct body_state *b = &c->bodies[t[i]];
		struct found *f;
		const struct pattern *pat = scan_db_pattern(c->db, t[i]);
		bool plain = pat && bs->bm_class;

		if (!b->matched)
			continue;
		f = grow_push(&c->found);
		if (!f)
			return VG_ENOMEM;
		memset(f, 0, sizeof(*f));
		f->sig = bs->sig;
		f->kind = VG_SIG_BODY;
		f->cls = plain ? CLS_BM : CLS_AC;
		f->root = bs->target == SIG_TARGET_ANY;
		f->window = clam_window(c->db, b->end);
		f->pos = plain ? b->start : b->end;
		f->offset = b->start;
		f->offset_known = true;
	}
	return VG_OK;
}

/* Records the hash signatures found for digests of something of this size
 * (the layer, a PE section, an import table): per algorithm in mask, the
 * exact-size entry before the wildcard-size one, ranked from rank_base. */
static vg_status push_hash_matches(struct scan_ctx *c, const struct hashidx *idx, unsigned mask,
				   uint64_t size, uint8_t digests[HASH_NALGS][HASH_MAX_LEN],
				   const uint8_t kinds[HASH_NALGS], uint8_t cls, uint32_t rank_base)
{
	for (int alg = 0; alg < HASH_NALGS; alg++) {
		uint32_t vals[2];
		size_t n;

		if (!(mask & (1u << alg)))
			continue;
		n = hashidx_lookup(idx, (enum hash_alg)alg, size, digests[alg], vals);
		for (size_t i = 0; i < n; i++) {
			struct found *f;
			if (vals[i] >= c->db->names_len)
				continue; /* cannot come from a consistent image */
			f = grow_push(&c->found);
			if (!f)
				return VG_ENOMEM;
			memset(f, 0, sizeof(*f));
			f->sig = vals[i];
			f->kind = kinds[alg];
			f->cls = cls;
			f->hash_rank = rank_base + (uint32_t)(alg * 2) + (uint32_t)i;
		}
	}
	return VG_OK;
}

static vg_status add_hash_matches(struct scan_ctx *c, unsigned mask,
				  uint8_t digests[HASH_NALGS][HASH_MAX_LEN])
{
	static const uint8_t kinds[HASH_NALGS] = {VG_SIG_MD5, VG_SIG_SHA1, VG_SIG_SHA256};

	return push_hash_matches(c, &c->db->hashes, mask, c->size, digests, kinds, CLS_HASH, 0);
}

static bool allow_listed(const struct scan_ctx *c, unsigned mask,
			 uint8_t digests[HASH_NALGS][HASH_MAX_LEN])
{
	for (int alg = 0; alg < HASH_NALGS; alg++) {
		uint32_t vals[2];
		if ((mask & (1u << alg)) &&
		    hashidx_lookup(&c->db->fps, (enum hash_alg)alg, c->size, digests[alg], vals))
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------------- */
/* Executables                                                             */

/* Random access to the layer for the header parsers: memory, the head
 * already read, or pread (which leaves the read loop's position alone). */
struct layer_src {
	const struct scan_ctx *c;
	const struct scan_input *in;
};

static bool read_layer_at(void *ctx, uint64_t off, void *dst, size_t len)
{
	const struct layer_src *ls = ctx;
	const struct scan_input *in = ls->in;
	size_t got = 0;

	if (in->fd < 0) {
		if (off > in->mem_len || len > in->mem_len - off)
			return false;
		memcpy(dst, in->mem + off, len);
		return true;
	}
	if (off <= ls->c->head_len && len <= ls->c->head_len - off) {
		memcpy(dst, ls->c->head + off, len);
		return true;
	}
	while (got < len) {
		ssize_t n = pread(in->fd, (uint8_t *)dst + got, len - got,
				  (off_t)(in->offset + off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* Types the layer from its head and, when some signature needs them, parses
 * its executable headers. Runs before the first hit is verified. */
static void type_layer(struct scan_ctx *c, const struct scan_input *in)
{
	const struct scan_db *db = c->db;
	bool pe_hashes = hashidx_count(&db->pe_sections) || hashidx_count(&db->pe_imports);
	struct layer_src ls = {c, in};

	c->target = SIG_TARGET_ANY;
	c->exe.kind = EXE_NONE;
	c->exe.valid = false;
	c->exe.has_ep = false;
	c->exe.nsections = c->exe.described = 0;
	if (!db->exe_needs && !pe_hashes)
		return;
	switch (c->type) {
	case FT_MSEXE: c->target = SIG_TARGET_PE; break;
	case FT_ELF: c->target = SIG_TARGET_ELF; break;
	case FT_MACHO: c->target = SIG_TARGET_MACHO; break;
	default: return;
	}
	if ((db->exe_needs & EXE_NEED_OFFSETS) || (c->target == SIG_TARGET_PE && pe_hashes))
		(void)exe_parse_reader(read_layer_at, &ls, c->size, &c->exe);
}

/* PE section hashes (.mdb/.msb), as ClamAV's PE scanner checks them: every
 * section with bytes in the file, in header order, each algorithm some
 * signature wants at that section size. */
static vg_status add_section_matches(struct scan_ctx *c, const struct scan_input *in)
{
	static const uint8_t kinds[HASH_NALGS] = {VG_SIG_PE_SECTION, VG_SIG_PE_SECTION,
						  VG_SIG_PE_SECTION};
	const struct exe_info *x = &c->exe;
	const struct hashidx *idx = &c->db->pe_sections;
	uint8_t digests[HASH_NALGS][HASH_MAX_LEN];
	uint8_t piece[16384];
	struct layer_src ls = {c, in};
	vg_status rc;

	for (uint32_t i = 0; i < x->described && i < x->nsections; i++) {
		uint64_t raw = x->sections[i].raw_off, rsz = x->sections[i].raw_size;
		unsigned mask = rsz ? hashidx_algs_for_size(idx, rsz) : 0;
		bool whole = true;

		if (!mask || raw > c->size || rsz > c->size - raw || rsz > VG_PE_MAX_SECTION_HASH)
			continue;
		rc = digest_set_begin(c->digests, mask);
		if (rc != VG_OK)
			return rc;
		if (in->fd < 0) {
			rc = digest_set_update(c->digests, in->mem + raw, (size_t)rsz);
		} else {
			for (uint64_t done = 0; done < rsz && rc == VG_OK;) {
				size_t n = rsz - done < sizeof(piece) ? (size_t)(rsz - done) : sizeof(piece);
				if (!read_layer_at(&ls, raw + done, piece, n)) {
					whole = false; /* changed under us: ClamAV too skips what it cannot read */
					break;
				}
				rc = digest_set_update(c->digests, piece, n);
				done += n;
			}
		}
		if (rc == VG_OK)
			rc = digest_set_end(c->digests, digests);
		if (rc == VG_OK && whole)
			rc = push_hash_matches(c, idx, mask, rsz, digests, kinds, CLS_PE_SECTION, i * 8u);
		if (rc != VG_OK)
			return rc;
	}
	return VG_OK;
}

static vg_status imp_piece(void *ctx, const char *piece, size_t len)
{
	return digest_set_update(ctx, piece, len);
}

/* The PE import table hash (.imp), after the section hashes as in ClamAV,
 * for PE32 files only (ClamAV stops before it on PE32+). */
static vg_status add_import_matches(struct scan_ctx *c, const struct scan_input *in)
{
	static const uint8_t kinds[HASH_NALGS] = {VG_SIG_PE_IMPORT, VG_SIG_PE_IMPORT, VG_SIG_PE_IMPORT};
	const struct hashidx *idx = &c->db->pe_imports;
	uint8_t digests[HASH_NALGS][HASH_MAX_LEN];
	struct layer_src ls = {c, in};
	enum exe_imp_result res;
	unsigned mask = 0;
	uint32_t len;
	vg_status rc;

	for (int alg = 0; alg < HASH_NALGS; alg++)
		if (idx->nent[alg] || idx->nwild[alg])
			mask |= 1u << alg;
	if (!mask)
		return VG_OK;
	rc = digest_set_begin(c->digests, mask);
	if (rc == VG_OK)
		rc = exe_pe_imports(read_layer_at, &ls, c->size, &c->exe, imp_piece, c->digests, &res, &len);
	if (rc == VG_OK)
		rc = digest_set_end(c->digests, digests);
	if (rc != VG_OK || res != EXE_IMP_OK)
		return rc;
	return push_hash_matches(c, idx, mask, len, digests, kinds, CLS_PE_IMPORT, 0);
}

/* ---------------------------------------------------------------------- */
/* The read loop                                                           */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Drops history no pending hit or future verification can need. */
static void compact(struct scan_ctx *c)
{
	uint64_t end = c->base + c->len;
	uint64_t keep_from = end > c->db->max_back ? end - c->db->max_back : 0;
	uint64_t settled = prefilter_stream_settled(c->ps);
	const struct pending *p = c->pending.items;
	size_t drop;

	/* Hits the prefilter still holds back (the gram index reports those
	 * ending after settled with the next piece) need the history before
	 * their anchors, which start at settled + 1 - GRAMIDX_MAX_LEN or later. */
	if (settled < end) {
		uint64_t reach = c->db->max_back + GRAMIDX_MAX_LEN;
		uint64_t from = settled + 1 > reach ? settled + 1 - reach : 0;
		if (from < keep_from)
			keep_from = from;
	}

	for (size_t i = 0; i < c->pending.n; i++) {
		uint64_t need = p[i].end - c->db->lit_len[p[i].lit];
		need = need > c->db->max_back ? need - c->db->max_back : 0;
		if (need < keep_from)
			keep_from = need;
	}
	if (keep_from <= c->base)
		return;
	drop = (size_t)(keep_from - c->base);
	memmove(c->buf, c->buf + drop, c->len - drop);
	c->len -= drop;
	c->base += drop;
}

/* Makes room for n more bytes, growing the buffer only if pending hits pin
 * more history than usual. */
static vg_status make_room(struct scan_ctx *c, size_t n)
{
	uint8_t *p;
	size_t cap;

	compact(c);
	if (c->cap - c->len >= n)
		return VG_OK;
	cap = c->len + n;
	p = vg_realloc(c->buf, cap);
	if (!p)
		return VG_ENOMEM;
	c->buf = p;
	c->cap = cap;
	return VG_OK;
}

static vg_status read_some(int fd, uint8_t *dst, size_t want, size_t *got)
{
	*got = 0;
	while (*got < want) {
		ssize_t n = read(fd, dst + *got, want - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return VG_EIO;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return VG_OK;
}

/* Without all-match only the first match in ClamAV's order is reported.
 * Every hit not yet verified ends at or after bound, and a match ends no
 * earlier than its anchor, so once every match still to come must fall in a
 * later ClamAV buffer than the earliest one found, nothing can come first. */
static bool can_stop_early(const struct scan_ctx *c, uint64_t pos)
{
	const struct pending *p = c->pending.items;
	uint64_t bound = pos + 1, settled = prefilter_stream_settled(c->ps);

	if (c->min_window == UINT64_MAX || c->eof)
		return false;
	/* literals the prefilter still holds back may end from settled + 1 */
	if (settled < pos && settled + 1 < bound)
		bound = settled + 1;
	for (size_t i = 0; i < c->pending.n; i++)
		if (p[i].end < bound)
			bound = p[i].end;
	return clam_window(c->db, bound) > c->min_window;
}

static const char *limit_name(enum vg_limit_hit l)
{
	switch (l) {
	case VG_LIMIT_FILESIZE: return "Heuristics.Limits.Exceeded.MaxFileSize";
	case VG_LIMIT_SCANSIZE: return "Heuristics.Limits.Exceeded.MaxScanSize";
	case VG_LIMIT_RECURSION: return "Heuristics.Limits.Exceeded.MaxRecursion";
	case VG_LIMIT_FILES: return "Heuristics.Limits.Exceeded.MaxFiles";
	case VG_LIMIT_SCANTIME: return "Heuristics.Limits.Exceeded.MaxScanTime";
	default: return "Heuristics.Limits.Exceeded";
	}
}

/* One top-level scan: the layer the caller handed over and everything found
 * inside it, scanned depth first with one shared set of limits. */
struct scan_job {
	const struct vg_scan_options *opts;
	vg_match_fn *cb;
	void *cb_ctx;
	struct vg_scan_summary sum;
	uint64_t t0;
	uint32_t files;          /* children extracted so far */
	uint32_t limits_alerted; /* bit per enum vg_limit_hit already reported */
	bool stop;               /* nothing more to report or scan */
	size_t depth;
	const char *path[VG_MAX_CONTAINER_DEPTH + 1]; /* names of layers 1..depth */
	uint8_t types[VG_MAX_CONTAINER_DEPTH + 1];    /* enum ftype of layers 0..depth-1 */
};

/* ---------------------------------------------------------------------- */
/* Logical signatures                                                      */

static vg_status read_layer(const struct scan_input *in, uint64_t size, uint8_t **out);


static void emit(struct scan_job *job, struct vg_match *m)
{
	m->container_path = job->depth ? job->path + 1 : NULL;
	m->container_depth = job->depth;
	job->sum.verdict = VG_VERDICT_FOUND;
	job->sum.matches++;
	if (job->cb && job->cb(job->cb_ctx, m)) {
		job->sum.stopped = 1;
		job->stop = true;
	}
	if (!(job->opts->flags & VG_SCAN_ALLMATCH))
		job->stop = true;
}

static void emit_heuristic(struct scan_job *job, const char *name)
{
	struct vg_match m;

	memset(&m, 0, sizeof(m));
	m.name = name;
	m.kind = VG_SIG_BODY;
	m.database = "";
	emit(job, &m);
}

/* A layer's logical signatures are evaluated after its children are scanned
 * (libclamav reports a container's logical signatures after what it found
 * inside it); what they need is kept here meanwhile, since the children
 * reuse the scan context. */
struct lsig_later {
	const struct scan_db *db;
	struct lsig_hit *hits;
	size_t nhits;
	const struct scan_input *in;
	uint64_t size;
	enum ftype type;
	struct exe_info exe;
	uint8_t *data;        /* the layer read whole, for PCRE / byte compare */
	bool data_done;
	uint64_t *found;      /* (target is 0) << 32 | ldb index, of those that held */
	size_t nfound, capfound;
};

static vg_status later_bytes(void *ctx, const uint8_t **data, size_t *len)
{
	struct lsig_later *lt = ctx;

	if (lt->in->fd < 0) {
		*data = lt->in->mem;
		*len = lt->in->mem_len;
		return VG_OK;
	}
	if (!lt->data_done) {
		vg_status rc = read_layer(lt->in, lt->size, &lt->data);
		if (rc != VG_OK && rc != VG_EIO)
			return rc;
		lt->data_done = true;
	}
	*data = lt->data ? lt->data : (const uint8_t *)"";
	*len = lt->data ? (size_t)lt->size : 0; /* changed under us: nothing to look at */
	return VG_OK;
}

static vg_status later_found(void *ctx, uint32_t ldb)
{
	struct lsig_later *lt = ctx;

	if (lt->nfound == lt->capfound) {
		size_t cap = lt->capfound ? lt->capfound * 2 : 8;
		uint64_t *p = vg_reallocarray(lt->found, cap, sizeof(uint64_t));
		if (!p)
			return VG_ENOMEM;
		lt->found = p;
		lt->capfound = cap;
	}
	/* the layer's own target before target 0 (libclamav evaluates the
	 * target's root first), each in load order */
	lt->found[lt->nfound++] = (uint64_t)(lt->db->ldbs[ldb].target == 0) << 32 | ldb;
	return VG_OK;
}

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

/* Keeps what the layer's logical signatures need. */
static vg_status lsig_keep(struct scan_ctx *c, const struct scan_input *in, enum ftype type,
			   struct lsig_later *lt)
{
	memset(lt, 0, sizeof(*lt));
	lt->db = c->db;
	lt->in = in;
	lt->size = c->size;
	lt->type = type;
	lt->exe = c->exe; /* type_layer parsed it when some signature needs it */
	if (c->lhits.n) {
		lt->hits = vg_malloc(c->lhits.n * sizeof(struct lsig_hit));
		if (!lt->hits)
			return VG_ENOMEM;
		memcpy(lt->hits, c->lhits.items, c->lhits.n * sizeof(struct lsig_hit));
		lt->nhits = c->lhits.n;
	}
	return VG_OK;
}

/* Evaluates (when run) and reports the layer's logical signatures; frees
 * what lsig_keep kept. */
static vg_status lsig_finish(struct scan_job *job, struct lsig_later *lt, bool run)
{
	const struct scan_db *db = lt->db;
	struct lsig_layer L;
	bool exe_done = true;
	vg_status rc = VG_OK;

	if (run && !job->stop) {
		memset(&L, 0, sizeof(L));
		L.size = lt->size;
		L.type = lt->type;
		L.exe = &lt->exe;
		L.exe_done = &exe_done;
		L.parents = job->types;
		L.nparents = job->depth;
		L.data = later_bytes;
		L.data_ctx = lt;
		rc = lsig_eval(db, lt->hits, lt->nhits, &L, later_found, lt);
		if (rc == VG_OK && lt->nfound > 1)
			qsort(lt->found, lt->nfound, sizeof(uint64_t), cmp_u64);
		for (size_t i = 0; rc == VG_OK && i < lt->nfound && !job->stop; i++) {
			uint32_t li = (uint32_t)lt->found[i];
			struct vg_match m;
			memset(&m, 0, sizeof(m));
			m.name = scan_db_str(db, db->ldbs[li].sig);
			m.kind = VG_SIG_LOGICAL;
			m.database = db_name_of(db, db->ldbs[li].sig);
			emit(job, &m);
		}
	}
	vg_free(lt->hits);
	vg_free(lt->data);
	vg_free(lt->found);
	return rc;
}

/* Records the first limit hit and, when asked to, reports each kind once. */
static void hit_limit(struct scan_job *job, enum vg_limit_hit l)
{
	if (job->sum.limit == VG_LIMIT_NONE)
		job->sum.limit = l;
	if ((job->opts->flags & VG_SCAN_ALERT_EXCEEDS_MAX) && !(job->limits_alerted & (1u << l)) &&
	    !job->stop) {
		job->limits_alerted |= 1u << l;
		emit_heuristic(job, limit_name(l));
	}
}

static bool out_of_time(const struct scan_job *job)
{
	return job->opts->limits.max_scantime_ms &&
	       now_ms() - job->t0 > job->opts->limits.max_scantime_ms;
}

static bool is_text_type(enum ftype t)
{
	return t == FT_TEXT || t == FT_TEXT_UTF8 || t == FT_TEXT_UTF16LE || t == FT_TEXT_UTF16BE;
}

/* Whether a signature was reported for this layer already (by another of
 * its views); records it when not. */
static bool already_emitted(struct scan_ctx *c, uint32_t sig)
{
	const uint32_t *e = c->emitted.items;
	uint32_t *n;

	for (size_t i = 0; i < c->emitted.n; i++)
		if (e[i] == sig)
			return true;
	n = grow_push(&c->emitted);
	if (n)
		*n = sig;
	return false;
}

/* Matches one layer: every body pattern and hash signature, in one pass.
 * Types the layer from its first bytes (c->type) and matches the body
 * signatures whose target that type allows, plus the targets in extra; says
 * whether the layer is allow-listed (then nothing in it counts). With view
 * set, matches that normalised view of the layer instead: body signatures
 * of the targets in extra only, no hashes. */
static vg_status match_layer(struct scan_ctx *c, struct scan_job *job, const struct scan_input *in,
			     struct view *view, uint32_t extra, uint64_t view_size, bool *allowlisted)
{
	const struct scan_db *db = c->db;
	const struct vg_scan_options *opts = job->opts;
	uint8_t digests[HASH_NALGS][HASH_MAX_LEN];
	unsigned hash_mask, fp_mask;
	bool allmatch = opts->flags & VG_SCAN_ALLMATCH, early = false, timed_out = false;
	uint64_t pos = 0;
	vg_status rc = VG_OK;

	*allowlisted = false;
	c->stamp++;
	if (c->stamp == 0) { /* wrapped: invalidate every stamp */
		memset(c->bodies, 0, (db->nbodies ? db->nbodies : 1) * sizeof(struct body_state));
		memset(c->lits, 0, (db->nlits ? db->nlits : 1) * sizeof(struct lit_state));
		c->stamp = 1;
	}
	c->touched.n = c->occs.n = c->pending.n = c->found.n = c->lhits.n = 0;
	c->lsig_pending = false;
	c->in = in;
	c->base = 0;
	c->len = 0;
	c->eof = false;
	c->err = VG_OK;
	c->min_window = UINT64_MAX;
	c->size = view ? view_size : in->fd >= 0 ? in->size : in->mem_len;
	c->targets = extra;
	if (!view) {
		c->head_len = 0;
		c->type = FT_BINARY;
		c->target = SIG_TARGET_ANY;
		c->exe.kind = EXE_NONE;
		c->exe.valid = false;
	}

	if (c->size < VG_MIN_MATCH_SIZE) {
		/* As ClamAV: too small to hold anything worth a signature. */
		if (!view) {
			job->sum.bytes_read += c->size;
			job->sum.bytes_scanned += c->size;
		}
		return VG_OK;
	}
	hash_mask = view ? 0 : hashidx_algs_for_size(&db->hashes, c->size);
	fp_mask = view ? 0 : hashidx_algs_for_size(&db->fps, c->size);
	rc = digest_set_begin(c->digests, hash_mask | fp_mask);
	if (rc == VG_OK)
		rc = prefilter_stream_begin(c->ps);
	if (rc != VG_OK)
		return rc;

	while (pos < c->size) {
		size_t want = c->size - pos > VG_SCAN_CHUNK ? VG_SCAN_CHUNK : (size_t)(c->size - pos);
		size_t got;
		const uint8_t *chunk;

		rc = make_room(c, want);
		if (rc != VG_OK)
			return rc;
		if (view) {
			rc = view_pull(view, c->buf + c->len, want, &got);
			if (rc != VG_OK)
				return rc;
			if (got < want)
				c->size = pos + got;
		} else if (in->fd >= 0) {
			rc = read_some(in->fd, c->buf + c->len, want, &got);
			if (rc != VG_OK)
				return rc;
			if (got < want)
				c->size = pos + got; /* the file shrank while we read it */
		} else {
			memcpy(c->buf + c->len, in->mem + pos, want);
			got = want;
		}
		chunk = c->buf + c->len;
		if (pos == 0 && !view) {
			c->head_len = got < FILETYPE_HEAD ? got : FILETYPE_HEAD;
			memcpy(c->head, chunk, c->head_len);
			c->type = scan_db_type(c->db, c->head, c->head_len); /* .ftm first */
			c->targets |= filetype_targets(c->type);
			type_layer(c, in);
		}
		c->len += got;
		pos += got;
		if (!view)
			job->sum.bytes_read += got;
		if (pos >= c->size)
			c->eof = true;
		rc = digest_set_update(c->digests, chunk, got);
		if (rc != VG_OK)
			return rc;
		rc = prefilter_stream_scan(c->ps, chunk, got, on_hit, c);
		if (c->err != VG_OK)
			return c->err;
		if (rc != VG_OK)
			return rc;
		run_pending(c);
		if (c->err != VG_OK)
			return c->err;
		if (!allmatch && !fp_mask && can_stop_early(c, pos)) {
			early = true;
			break;
		}
		if (out_of_time(job) && pos < c->size) {
			timed_out = true;
			break;
		}
		if (got == 0)
			break;
	}
	c->eof = true;
	if (early) {
		/* what is still pending ends after the winning match's window */
		c->pending.n = 0;
	} else if (!timed_out) {
		rc = prefilter_stream_end(c->ps, on_hit, c);
		if (c->err != VG_OK)
			rc = c->err;
		if (rc != VG_OK)
			return rc;
	}
	run_pending(c);
	if (!view)
		job->sum.bytes_scanned += pos;
	{
		const uint32_t *t = c->touched.items;
		size_t ntouched = c->touched.n;
		for (size_t i = 0; i < ntouched; i++)
			resolve_multipart(c, t[i]);
		if (c->err != VG_OK)
			return c->err;
	}
	rc = collect_body_matches(c);
	if (rc != VG_OK)
		return rc;
	if (!timed_out && !early) {
		rc = digest_set_end(c->digests, digests);
		if (rc != VG_OK)
			return rc;
		if (fp_mask && allow_listed(c, fp_mask, digests)) {
			/* an allow-listed layer is clean whatever matched, and so is
			 * everything inside it */
			c->found.n = 0;
			*allowlisted = true;
		} else if (allmatch || c->found.n == 0) {
			rc = add_hash_matches(c, hash_mask, digests);
			if (rc == VG_OK && c->exe.kind == EXE_PE && c->exe.valid &&
			    (allmatch || c->found.n == 0))
				rc = add_section_matches(c, in);
			if (rc == VG_OK && c->exe.kind == EXE_PE && c->exe.valid && !c->exe.pe32plus &&
			    (allmatch || c->found.n == 0))
				rc = add_import_matches(c, in);
			if (rc != VG_OK)
				return rc;
		}
		/* logical signatures come after body and hash matches, and after
		 * what is inside the layer: scan_layer evaluates them */
		c->lsig_pending = c->db->nldbs && !*allowlisted && (allmatch || c->found.n == 0);
	}
	if (c->found.n)
		qsort(c->found.items, c->found.n, sizeof(struct found), cmp_found);
	for (size_t i = 0; i < c->found.n && !job->stop; i++) {
		const struct found *f = (const struct found *)c->found.items + i;
		struct vg_match m;

		/* one report per (layer, signature), whichever view found it */
		if (already_emitted(c, f->sig))
			continue;
		memset(&m, 0, sizeof(m));
		m.name = scan_db_str(db, f->sig);
		m.kind = (enum vg_sig_kind)f->kind;
		m.database = db_name_of(db, f->sig);
		m.offset = f->offset;
		m.offset_known = f->offset_known && !view; /* a view's offsets are not the file's */
		emit(job, &m);
	}
	if (timed_out)
		hit_limit(job, VG_LIMIT_SCANTIME);
	return VG_OK;
}

/* ---------------------------------------------------------------------- */
/* Recursion into containers                                               */

typedef vg_status unpacker_fn(const struct unpack_input *in, const struct unpack_sink *sink);

/* Which unpackers look inside a layer of this type, in order. */
static size_t unpackers_for(enum ftype t, unpacker_fn *out[3])
{
	switch (t) {
	case FT_ZIP:
		out[0] = unpack_libarchive;
		out[1] = unpack_zip; /* the methods libarchive lacks */
		return 2;
	case FT_GZ: case FT_BZ: case FT_XZ: case FT_ZSTD: case FT_7Z: case FT_RAR: case FT_CAB:
	case FT_ISO9660: case FT_TAR: case FT_CPIO: case FT_XAR: case FT_LHA: case FT_AR:
		out[0] = unpack_libarchive;
		return 1;
	case FT_ARJ: out[0] = unpack_arj; return 1;
	case FT_SZDD: out[0] = unpack_szdd; return 1;
	case FT_MSOLE2: out[0] = unpack_ole2; return 1;
	case FT_MSCHM: out[0] = unpack_chm; return 1;
	case FT_PDF: out[0] = unpack_pdf; return 1;
	case FT_RTF: out[0] = unpack_rtf; return 1;
	case FT_TNEF: out[0] = unpack_tnef; return 1;
	case FT_BINHEX: out[0] = unpack_binhex; return 1;
	case FT_UUENCODED: out[0] = unpack_uuencode; return 1;
	case FT_MAIL: out[0] = unpack_mime; return 1;
	case FT_HTML: out[0] = unpack_html; return 1;
	default: return 0;
	}
}

struct child_ctx {
	struct scan_ctx *c;
	struct scan_job *job;
	enum ftype parent_type;
	uint64_t parent_size;
	bool parent_newc;     /* a cpio container in the "070701" format (CL_TYPE_CPIO_NEWC) */
	uint64_t max_child;
	bool filesize_bound; /* max_child comes from max_filesize, not the budget */
	bool encrypted_alerted; /* once per container, whichever unpacker saw it */
	bool stopped;           /* on_child asked the unpacker to stop */
	uint32_t index;      /* 1-based position inside the parent */
};

static vg_status scan_layer(struct scan_ctx *c, struct scan_job *job, const struct scan_input *in);
static vg_status scan_children(struct scan_ctx *c, struct scan_job *job, const struct scan_input *in,
			       enum ftype type, uint64_t size);

static const char *encrypted_name(enum ftype t)
{
	switch (t) {
	case FT_ZIP: return "Heuristics.Encrypted.Zip";
	case FT_RAR: return "Heuristics.Encrypted.RAR";
	case FT_7Z: return "Heuristics.Encrypted.7Zip";
	default: return "Heuristics.Encrypted.Archive";
	}
}

static vg_status child_scan(struct child_ctx *cc, const struct unpack_child *ch);

static vg_status on_cdb(void *ctx, uint32_t i)
{
	struct child_ctx *cc = ctx;
	const struct scan_db *db = cc->c->db;
	struct vg_match m;

	if (cc->job->stop)
		return VG_OK;
	memset(&m, 0, sizeof(m));
	m.name = scan_db_str(db, db->cdbs[i].sig);
	m.kind = VG_SIG_CONTAINER;
	m.database = db_name_of(db, db->cdbs[i].sig);
	emit(cc->job, &m);
	return VG_OK;
}

/* .cdb signatures on an entry's metadata, before the entry is scanned, for
 * the container types libclamav checks them on (cli_matchmeta callers). */
static vg_status check_cdb(struct child_ctx *cc, const struct unpack_child *ch)
{
	struct cdb_entry e;

	if (!cc->c->db->ncdbs)
		return VG_OK;
	switch (cc->parent_type) {
	case FT_ZIP: case FT_RAR: case FT_7Z: case FT_CAB: case FT_TAR: case FT_CPIO: case FT_ARJ:
	case FT_MAIL:
		break;
	default:
		return VG_OK;
	}
	e.ctype = (uint8_t)cc->parent_type;
	/* vigil types every cpio as CPIO_NEWC; libclamav tells the others apart */
	if (cc->parent_type == FT_CPIO && !cc->parent_newc)
		e.ctype = LDB_TYPE_ANY - 1;
	e.csize = cc->parent_size;
	e.name = ch->name;
	e.size = ch->len;
	e.encrypted = ch->encrypted;
	/* libclamav numbers 7z and cab entries from 0, mail parts not at all
	 * (0), the others from 1 */
	e.pos = cc->parent_type == FT_MAIL ? 0
		: cc->parent_type == FT_7Z || cc->parent_type == FT_CAB ? cc->index - 1
								: cc->index;
	return cdb_match(cc->c->db, &e, on_cdb, cc);
}

static vg_status on_child(void *ctx, const struct unpack_child *ch)
{
	struct child_ctx *cc = ctx;
	vg_status rc = child_scan(cc, ch);

	if (rc == VG_ELIMIT)
		cc->stopped = true;
	return rc;
}

static vg_status child_scan(struct child_ctx *cc, const struct unpack_child *ch)
{
	struct scan_job *job = cc->job;
	const struct vg_limits *lim = &job->opts->limits;
	struct scan_input in;
	char label[32];
	vg_status rc;

	cc->index++;
	if (job->stop)
		return VG_ELIMIT;
	job->files++;
	if (lim->max_files && job->files > lim->max_files) {
		hit_limit(job, VG_LIMIT_FILES);
		return VG_ELIMIT;
	}
	rc = check_cdb(cc, ch);
	if (rc != VG_OK)
		return rc;
	if (job->stop)
		return VG_ELIMIT;
	if (ch->encrypted && (job->opts->flags & VG_SCAN_ALERT_ENCRYPTED) && !cc->encrypted_alerted) {
		cc->encrypted_alerted = true;
		emit_heuristic(job, encrypted_name(cc->parent_type));
		if (job->stop)
			return VG_ELIMIT;
	}
	if (ch->truncated) {
		if (cc->filesize_bound) {
			hit_limit(job, VG_LIMIT_FILESIZE);
			return job->stop ? VG_ELIMIT : VG_OK; /* not scanned, as ClamAV */
		}
		hit_limit(job, VG_LIMIT_SCANSIZE); /* what fits is scanned */
	}
	if (out_of_time(job)) {
		hit_limit(job, VG_LIMIT_SCANTIME);
		return VG_ELIMIT;
	}
	memset(&in, 0, sizeof(in));
	in.fd = -1;
	in.mem = ch->data;
	in.mem_len = ch->len;
	snprintf(label, sizeof(label), "(%u)", cc->index);
	job->path[job->depth + 1] = ch->name && ch->name[0] ? ch->name : label;
	job->depth++;
	rc = scan_layer(cc->c, job, &in);
	job->depth--;
	if (rc != VG_OK)
		return rc;
	return job->stop ? VG_ELIMIT : VG_OK;
}

/* Reads a descriptor layer whole, for an unpacker (bounded by max_filesize,
 * which the layer passed already). */
static vg_status read_layer(const struct scan_input *in, uint64_t size, uint8_t **out)
{
	uint8_t *data = vg_malloc(size ? (size_t)size : 1);
	uint64_t got = 0;

	if (!data)
		return VG_ENOMEM;
	while (got < size) {
		ssize_t n = pread(in->fd, data + got, (size_t)(size - got), (off_t)(in->offset + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (uint64_t)n;
	}
	if (got < size) {
		vg_free(data);
		return VG_EIO;
	}
	*out = data;
	return VG_OK;
}

/* One normalised view of the layer, matched with the targets given. */
static vg_status scan_view(struct scan_ctx *c, struct scan_job *job, const struct scan_input *in,
			   enum view_kind k, bool utf16, uint64_t size, uint64_t view_size,
			   uint32_t targets)
{
	bool allowlisted;
	vg_status rc;

	if (job->stop)
		return VG_OK;
	view_begin(c->view, k, in, size, utf16);
	rc = match_layer(c, job, in, c->view, targets, view_size, &allowlisted);
	return rc == VG_EIO ? VG_OK : rc; /* the file changed under us: what matched stands */
}

/* What clamscan matches besides the raw bytes: text is normalised and
 * matched with targets 0 and 7, unless one of ClamAV's HTML patterns occurs
 * in it; HTML (typed so, or text with such a pattern) is normalised twice
 * and matched with targets 0 and 3. clamscan does not match the raw bytes
 * of a layer it typed HTML at all (HTMLSKIPRAW); vigil does (see
 * docs/compatibility.md). */
static vg_status scan_views(struct scan_ctx *c, struct scan_job *job, const struct scan_input *in,
			    enum ftype type, uint64_t size)
{
	const uint32_t t0 = FILETYPE_TARGET(0);
	bool text = is_text_type(type), html = type == FT_HTML || type == FT_HTML_UTF16;
	/* clamscan looks for HTML (scripts) hidden in GIF images too */
	bool gif = type == FT_GRAPHICS && c->head_len >= 3 && memcmp(c->head, "GIF", 3) == 0;
	bool utf16 = type == FT_HTML_UTF16;
	uint64_t nsize = utf16 ? size / 2 : size;
	struct view_sizes vs;
	vg_status rc;

	if ((!text && !html && !gif) || nsize > VG_MAX_HTML_NORMALIZE)
		return VG_OK;
	if (!c->view) {
		c->view = vg_calloc(1, sizeof(*c->view));
		if (!c->view)
			return VG_ENOMEM;
	}
	if (text || gif) {
		rc = view_measure(c->view, in, size, false, true, false, &vs);
		if (rc != VG_OK)
			return rc == VG_EIO ? VG_OK : rc;
		/* ClamAV looks for HTML in the whole of ASCII text and GIF only */
		if (vs.html_tag && (type == FT_TEXT || gif))
			html = true;
		else if (gif)
			return VG_OK;
		else if (size <= VG_MAX_SCRIPT_NORMALIZE)
			return scan_view(c, job, in, VIEW_TEXT, false, size, vs.text,
					 t0 | FILETYPE_TARGET(7));
		else
			return VG_OK;
	}
	rc = view_measure(c->view, in, size, utf16, false, true, &vs);
	if (rc != VG_OK)
		return rc == VG_EIO ? VG_OK : rc;
	rc = scan_view(c, job, in, VIEW_HTML_NOCOMMENT, utf16, size, vs.nocomment,
		       t0 | FILETYPE_TARGET(3));
	if (rc == VG_OK && nsize < VG_MAX_HTML_NOTAGS)
		rc = scan_view(c, job, in, VIEW_HTML_NOTAGS, utf16, size, vs.notags,
			       t0 | FILETYPE_TARGET(3));
	return rc;
}

static vg_status scan_layer(struct scan_ctx *c, struct scan_job *job, const struct scan_input *in)
{
	const struct vg_limits *lim = &job->opts->limits;
	uint64_t size = in->fd >= 0 ? in->size : in->mem_len;
	enum ftype type;
	bool allowlisted, have_lt = false;
	struct lsig_later lt;
	vg_status rc;

	if (job->depth > lim->max_recursion) {
		hit_limit(job, VG_LIMIT_RECURSION);
		return VG_OK;
	}
	if (lim->max_filesize && size > lim->max_filesize) {
		hit_limit(job, VG_LIMIT_FILESIZE);
		return VG_OK;
	}
	if (lim->max_scansize && job->sum.bytes_scanned + size > lim->max_scansize) {
		hit_limit(job, VG_LIMIT_SCANSIZE);
		return VG_OK;
	}
	c->emitted.n = 0;
	rc = match_layer(c, job, in, NULL, 0, 0, &allowlisted);
	if (rc != VG_OK || job->stop || allowlisted || c->size < VG_MIN_MATCH_SIZE)
		return rc;
	type = c->type;
	size = c->size; /* what was read: the file may have shrunk */
	job->types[job->depth] = (uint8_t)type;
	/* the raw layer's logical signatures: kept before the normalised views
	 * (which reuse the scan context) and reported after what is inside the
	 * layer, as clamscan reports them (a PDF's before, observed with
	 * clamav-testfiles) */
	if (c->lsig_pending) {
		rc = lsig_keep(c, in, type, &lt);
		have_lt = true;
	}
	if (rc == VG_OK)
		rc = scan_views(c, job, in, type, size);
	if (rc == VG_OK && !job->stop && have_lt && type == FT_PDF) {
		have_lt = false;
		rc = lsig_finish(job, &lt, true);
	}
	if (rc == VG_OK && !job->stop)
		rc = scan_children(c, job, in, type, size);
	if (have_lt) {
		vg_status rc2 = lsig_finish(job, &lt, rc == VG_OK);
		if (rc == VG_OK)
			rc = rc2;
	}
	return rc;
}

/* The layer's children, through the unpackers for its type. */
static vg_status scan_children(struct scan_ctx *c, struct scan_job *job, const struct scan_input *in,
			       enum ftype type, uint64_t size)
{
	const struct vg_limits *lim = &job->opts->limits;
	unpacker_fn *unp[3];
	size_t nunp;
	struct unpack_input uin;
	struct child_ctx cc;
	uint8_t *owned = NULL;
	vg_status rc = VG_OK;

	memset(&cc, 0, sizeof(cc));
	nunp = unpackers_for(type, unp);
	if (nunp == 0)
		return VG_OK;
	if (job->depth + 1 > lim->max_recursion) {
		hit_limit(job, VG_LIMIT_RECURSION);
		return VG_OK;
	}
	if (in->fd >= 0) {
		rc = read_layer(in, size, &owned);
		if (rc != VG_OK)
			return rc == VG_EIO ? VG_OK : rc; /* changed under us: what was matched stands */
		uin.data = owned;
		uin.len = (size_t)size;
	} else {
		uin.data = in->mem;
		uin.len = in->mem_len;
	}
	cc.c = c;
	cc.job = job;
	cc.parent_type = type;
	cc.parent_size = uin.len;
	cc.parent_newc = c->head_len >= 6 && memcmp(c->head, "070701", 6) == 0;
	for (size_t i = 0; i < nunp && !job->stop; i++) {
		uint64_t left = lim->max_scansize ? lim->max_scansize - job->sum.bytes_scanned : UINT64_MAX;
		struct unpack_sink sink;

		cc.max_child = left;
		cc.filesize_bound = false;
		cc.stopped = false;
		cc.index = 0;

		if (lim->max_scansize && job->sum.bytes_scanned >= lim->max_scansize) {
			hit_limit(job, VG_LIMIT_SCANSIZE);
			break;
		}
		if (lim->max_filesize && lim->max_filesize < cc.max_child) {
			cc.max_child = lim->max_filesize;
			cc.filesize_bound = true;
		}
		sink.child = on_child;
		sink.ctx = &cc;
		sink.max_child = cc.max_child > SIZE_MAX ? SIZE_MAX : (size_t)cc.max_child;
		rc = unp[i](&uin, &sink);
		if (rc == VG_ELIMIT) {
			/* an unpacker's own structural limit (objects, entries) counts
			 * as too many files; ours were recorded when they happened */
			if (!cc.stopped)
				hit_limit(job, VG_LIMIT_FILES);
			rc = VG_OK;
		}
		if (rc != VG_OK)
			break;
	}
	vg_free(owned);
	return rc;
}

vg_status scan_run(struct scan_ctx *c, const struct scan_input *in,
		   const struct vg_scan_options *opts, vg_match_fn *on_match, void *cb_ctx,
		   struct vg_scan_summary *summary)
{
	struct scan_job *job = vg_calloc(1, sizeof(*job));
	uint64_t size = in->fd >= 0 ? in->size : in->mem_len;
	vg_status rc;

	if (!job)
		return VG_ENOMEM;
	job->opts = opts;
	job->cb = on_match;
	job->cb_ctx = cb_ctx;
	job->t0 = now_ms();
	/* the file itself over a size limit: not scanned at all, as clamscan */
	if ((opts->limits.max_filesize && size > opts->limits.max_filesize) ||
	    (opts->limits.max_scansize && size > opts->limits.max_scansize)) {
		hit_limit(job, opts->limits.max_filesize && size > opts->limits.max_filesize
				       ? VG_LIMIT_FILESIZE
				       : VG_LIMIT_SCANSIZE);
		if (job->sum.verdict != VG_VERDICT_FOUND)
			job->sum.verdict = VG_VERDICT_NOT_SCANNED;
		*summary = job->sum;
		vg_free(job);
		return VG_OK;
	}
	rc = scan_layer(c, job, in);
	if (rc == VG_OK)
		*summary = job->sum;
	vg_free(job);
	return rc;
}
