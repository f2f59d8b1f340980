/* Logical signatures of one layer.
 *
 * The body scan records every match start of a .ldb content subsignature
 * (lsig_hit). Only signatures with at least one hit are looked at here,
 * plus the few that can hold with nothing matched ("0=0", or a PCRE whose
 * trigger holds at zero counts); ClamAV evaluates every logical signature on
 * every layer. For each: the target description block (type, size, entry
 * point, sections, container path), then PCRE and byte-compare
 * subsignatures in order (each only when its trigger holds), then the
 * expression (lib/match/logical.c). */
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "filetype/filetype.h"
#include "scan/scan_db.h"

/* ClamAV's defaults for PCREMatchLimit and PCRERecMatchLimit. */
#define LSIG_PCRE_MATCH_LIMIT 100000u
#define LSIG_PCRE_DEPTH_LIMIT 2000u

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static const struct exe_info *exe_of(const struct lsig_layer *L)
{
	if (!*L->exe_done) {
		if (exe_parse(L->head, L->head_len, L->size, L->exe) != VG_OK)
			memset(L->exe, 0, sizeof(*L->exe));
		*L->exe_done = true;
	}
	return L->exe;
}

bool lsig_offset_range(const struct lsig_layer *L, uint8_t kind, uint32_t sect, uint64_t n,
		       uint64_t shift, uint64_t *lo, uint64_t *hi)
{
	const struct exe_info *x;
	uint64_t at;

	switch (kind) {
	case SIG_OFF_ANY:
		*lo = 0;
		*hi = UINT64_MAX;
		return true;
	case SIG_OFF_ABS:
		at = n;
		break;
	case SIG_OFF_EOF:
		if (n > L->size)
			return false;
		at = L->size - n;
		break;
	case SIG_OFF_EP_PLUS:
	case SIG_OFF_EP_MINUS:
		x = exe_of(L);
		if (!x->valid || !x->has_ep || (kind == SIG_OFF_EP_MINUS && n > x->ep))
			return false;
		at = kind == SIG_OFF_EP_MINUS ? x->ep - n : sat_add(x->ep, n);
		break;
	case SIG_OFF_SX:
	case SIG_OFF_SE:
		x = exe_of(L);
		if (!x->valid || sect >= x->nsections || sect >= x->described)
			return false;
		at = x->sections[sect].raw_off;
		if (kind == SIG_OFF_SE) {
			/* anywhere in the section, and shift bytes past it */
			*lo = at;
			*hi = sat_add(sat_add(at, x->sections[sect].raw_size), shift);
			return true;
		}
		at = sat_add(at, n);
		break;
	case SIG_OFF_SL:
		x = exe_of(L);
		if (!x->valid || x->nsections == 0 || x->nsections > x->described)
			return false;
		at = sat_add(x->sections[x->nsections - 1].raw_off, n);
		break;
	default:
		return false;
	}
	*lo = at;
	*hi = sat_add(at, shift);
	return true;
}

/* The file type a target number stands for; FT_COUNT for "any". Targets
 * that need normalised views are not loaded (sigdb defers them). */
static bool target_ok(uint8_t target, enum ftype t)
{
	switch (target) {
	case 0: return true;
	case 1: return t == FT_MSEXE;
	case 2: return t == FT_MSOLE2;
	case 4: return t == FT_MAIL;
	case 5: return t == FT_GRAPHICS;
	case 6: return t == FT_ELF;
	case 9: return t == FT_MACHO;
	case 10: return t == FT_PDF;
	case 11: return t == FT_SWF;
	case 12: return t == FT_JAVA;
	default: return false;
	}
}

static bool in_range(uint64_t v, const uint32_t r[2])
{
	return v >= r[0] && v <= r[1];
}

static bool tdb_ok(const struct img_ldb *l, const struct lsig_layer *L)
{
	if (!target_ok(l->target, L->type))
		return false;
	if ((l->flags & LDBF_FSIZE) && !in_range(L->size, l->fsize))
		return false;
	if (l->flags & (LDBF_EP | LDBF_NOS)) {
		const struct exe_info *x = exe_of(L);
		if (!x->valid)
			return false;
		if ((l->flags & LDBF_EP) && (!x->has_ep || !in_range(x->ep, l->ep)))
			return false;
		if ((l->flags & LDBF_NOS) && !in_range(x->nsections, l->nos))
			return false;
	}
	/* Container: the immediate parent's type; CL_TYPE_ANY is what ClamAV
	 * reports for the parent of the top layer, so it means "not inside a
	 * container" */
	if (l->flags & LDBF_CONTAINER) {
		if (l->container == LDB_TYPE_ANY ? L->nparents != 0
						 : !L->nparents || L->parents[L->nparents - 1] != l->container)
			return false;
	}
	if (l->ninter) {
		if (L->nparents < l->ninter)
			return false;
		for (size_t k = 0; k < l->ninter; k++) {
			uint8_t want = l->inter[l->ninter - 1 - k];
			if (want != LDB_TYPE_ANY && L->parents[L->nparents - 1 - k] != want)
				return false;
		}
	}
	return true;
}

/* Runs a PCRE subsignature as ClamAV does (matcher-pcre.c): the subject
 * starts at the offset; a fixed offset without 'r' anchors the match there;
 * with a shift the match must start within it, and with 'e' the subject
 * ends there; 'g' goes on after each match. *count = matches, *last = start
 * of the last one. */
static vg_status run_pcre(const struct scan_db *db, size_t si, const struct lsig_layer *L,
			  uint32_t *count, uint64_t *last)
{
	const struct img_lsub *s = &db->lsubs[si];
	const pcre2_code *code = db->pcre[si];
	pcre2_match_data *md = NULL;
	pcre2_match_context *mc = NULL;
	const uint8_t *data;
	size_t len, adj, adjlen, from = 0;
	uint64_t lo, hi, shift;
	uint32_t opts = 0;
	vg_status rc;

	*count = 0;
	if (!code || !lsig_offset_range(L, s->off_kind, s->off_section, s->off_n, s->off_shift, &lo,
					 &hi))
		return VG_OK;
	rc = L->data(L->data_ctx, &data, &len);
	if (rc != VG_OK)
		return rc;
	if (s->off_kind == SIG_OFF_ANY) {
		lo = 0;
		shift = 0;
	} else {
		shift = hi - lo;
		if (!s->pcre_rolling && shift == 0)
			opts |= PCRE2_ANCHORED;
	}
	if (lo >= len)
		return VG_OK;
	adj = (size_t)lo;
	adjlen = len - adj;
	if (s->pcre_encompass && shift != 0 && shift < adjlen)
		adjlen = (size_t)shift;
	md = pcre2_match_data_create_from_pattern(code, NULL);
	mc = pcre2_match_context_create(NULL);
	if (!md || !mc) {
		rc = VG_ENOMEM;
		goto out;
	}
	pcre2_set_match_limit(mc, LSIG_PCRE_MATCH_LIMIT);
	pcre2_set_depth_limit(mc, LSIG_PCRE_DEPTH_LIMIT);
	for (;;) {
		int r = pcre2_match(code, data + adj, adjlen, from, opts, md, mc);
		PCRE2_SIZE *ov;

		if (r <= 0)
			break; /* no match, or a limit: as ClamAV, no match */
		ov = pcre2_get_ovector_pointer(md);
		if (!s->pcre_encompass && shift && ov[0] > shift)
			break; /* outside the offset's shift */
		if (!*count || adj + ov[0] > *last) /* ClamAV counts increasing starts */
			(*count)++;
		*last = adj + ov[0];
		if (!s->pcre_global || *count >= VG_MAX_LSIG_OCCURRENCES || ov[1] <= from ||
		    ov[1] >= adjlen)
			break;
		from = ov[1];
	}
out:
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	return rc;
}

static int cmp_hit(const void *pa, const void *pb)
{
	const struct lsig_hit *a = pa, *b = pb;

	if (a->lsub != b->lsub)
		return a->lsub < b->lsub ? -1 : 1;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

struct win_start {
	uint64_t win, start;
};

static int cmp_win(const void *pa, const void *pb)
{
	const struct win_start *a = pa, *b = pb;

	if (a->win != b->win)
		return a->win < b->win ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

/* A byte compare, as libclamav runs it: after each of its 128 KiB scan
 * buffers, at the start of the referenced subsignature's latest match so
 * far; it holds if it held after any buffer. hits[0..nh) are the
 * signature's, sorted by subsignature. */
static vg_status run_bcomp(const struct scan_db *db, const struct img_lsub *s, uint32_t ref_lsub,
			   const struct lsig_hit *hits, size_t nh, const struct lsig_layer *L,
			   bool *holds)
{
	struct win_start *ws;
	const uint8_t *data;
	size_t len, n = 0;
	uint64_t best = 0;
	vg_status rc;

	*holds = false;
	ws = vg_calloc(nh ? nh : 1, sizeof(*ws));
	if (!ws)
		return VG_ENOMEM;
	for (size_t i = 0; i < nh; i++)
		if (hits[i].lsub == ref_lsub) {
			ws[n].win = scan_db_clam_window(db, hits[i].end);
			ws[n].start = hits[i].start;
			n++;
		}
	rc = n ? L->data(L->data_ctx, &data, &len) : VG_OK;
	if (rc == VG_OK && n) {
		qsort(ws, n, sizeof(*ws), cmp_win);
		for (size_t i = 0; i < n && !*holds; i++) {
			if (i == 0 || ws[i].start > best)
				best = ws[i].start;
			if (i + 1 == n || ws[i + 1].win != ws[i].win)
				*holds = bcomp_check(&s->bc, data, len, best);
		}
	}
	vg_free(ws);
	return rc;
}

/* One signature: counts[] and last[] hold its content subsignatures'. */
static vg_status eval_one(const struct scan_db *db, uint32_t li, const struct lsig_layer *L,
			  const struct lsig_hit *hits, size_t nh,
			  uint32_t counts[LOGICAL_MAX_SUBS], uint64_t last[LOGICAL_MAX_SUBS],
			  lsig_found_fn *found, void *ctx)
{
	const struct img_ldb *l = &db->ldbs[li];
	vg_status rc;

	if (!tdb_ok(l, L))
		return VG_OK;
	for (uint32_t k = 0; k < l->nsubs; k++) {
		size_t si = (size_t)l->first_sub + k;
		const struct img_lsub *s = &db->lsubs[si];

		if (s->kind == LSUB_PCRE) {
			if (!logical_eval(db->ltext + s->trigger, s->trigger_len, counts))
				continue;
			rc = run_pcre(db, si, L, &counts[k], &last[k]);
			if (rc != VG_OK)
				return rc;
		} else if (s->kind == LSUB_BCOMP) {
			bool holds;
			uint8_t ref_kind = db->lsubs[l->first_sub + s->bc.ref].kind;
			/* libclamav runs byte compares during the body scan, before
			 * any PCRE: one that refers to a PCRE never holds */
			if (!counts[s->bc.ref] || ref_kind == LSUB_PCRE)
				continue;
			if (ref_kind == LSUB_BCOMP) {
				/* a byte compare has no match offset of its own:
				 * libclamav falls back to offset 0 */
				const uint8_t *data;
				size_t len;
				rc = L->data(L->data_ctx, &data, &len);
				holds = rc == VG_OK && bcomp_check(&s->bc, data, len, 0);
			} else {
				rc = run_bcomp(db, s, l->first_sub + s->bc.ref, hits, nh, L, &holds);
			}
			if (rc != VG_OK)
				return rc;
			if (holds) {
				counts[k] = 1;
				last[k] = last[s->bc.ref];
			}
		}
	}
	if (logical_eval(db->ltext + l->expr, l->expr_len, counts))
		return found(ctx, li);
	return VG_OK;
}

vg_status lsig_eval(const struct scan_db *db, struct lsig_hit *hits, size_t nhits,
		    const struct lsig_layer *L, lsig_found_fn *found, void *ctx)
{
	uint32_t counts[LOGICAL_MAX_SUBS];
	uint64_t last[LOGICAL_MAX_SUBS];
	size_t h = 0, a = 0;
	vg_status rc = VG_OK;

	if (nhits > 1)
		qsort(hits, nhits, sizeof(*hits), cmp_hit);
	/* hits are grouped by signature (subsignatures are stored in signature
	 * order); merge them with the always-evaluated list, both ascending */
	while (rc == VG_OK && (h < nhits || a < db->nalways)) {
		uint32_t li_hit = h < nhits ? db->lsubs[hits[h].lsub].ldb : UINT32_MAX;
		uint32_t li_all = a < db->nalways ? db->always[a] : UINT32_MAX;
		uint32_t li = li_hit < li_all ? li_hit : li_all;
		const struct img_ldb *l = &db->ldbs[li];

		size_t h0 = h;

		memset(counts, 0, sizeof(counts));
		memset(last, 0, sizeof(last));
		while (h < nhits && db->lsubs[hits[h].lsub].ldb == li) {
			uint32_t k = hits[h].lsub - l->first_sub;
			/* distinct keys, as ClamAV counts a subsignature's matches */
			if (k < LOGICAL_MAX_SUBS &&
			    (h == 0 || hits[h - 1].lsub != hits[h].lsub || hits[h - 1].key != hits[h].key)) {
				counts[k]++;
				last[k] = hits[h].start;
			}
			h++;
		}
		if (li_all == li)
			a++;
		rc = eval_one(db, li, L, hits + h0, h - h0, counts, last, found, ctx);
	}
	return rc;
}
