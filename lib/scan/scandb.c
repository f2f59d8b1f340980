/* Compiling a signature set into an image, and opening an image.
 *
 * The same open path serves a freshly compiled engine and one mapped from a
 * cache file, so the cache format is exercised on every run. Opening checks
 * every count and index the scan loop relies on without reading the large
 * tables (names, hashes): lookups into those are bounds-checked where they
 * are used, so opening stays fast and touches few pages. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <sys/mman.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "scan/scan_db.h"

/* ---------------------------------------------------------------------- */
/* Compiling                                                               */

struct lit_build {
	const uint8_t *bytes;
	uint32_t len;
	uint32_t body;
	uint32_t part;
	bool nocase;
};

static int cmp_lit(const void *pa, const void *pb)
{
	const struct lit_build *a = pa, *b = pb;
	uint32_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->bytes, b->bytes, n);

	if (a->nocase != b->nocase)
		return a->nocase ? 1 : -1;
	if (c)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->body != b->body)
		return a->body < b->body ? -1 : 1;
	return a->part < b->part ? -1 : a->part > b->part;
}

static uint32_t add_string(struct buf *names, const char *s, vg_status *rc)
{
	size_t off = names->len;

	if (*rc == VG_OK && off > UINT32_MAX - 1)
		*rc = VG_ELIMIT;
	if (*rc == VG_OK)
		*rc = buf_append(names, s, strlen(s) + 1);
	return (uint32_t)off;
}

static vg_status write_tables(struct sigset *set, struct image_writer *w, struct img_info *info)
{
	struct img_db *dbs;
	vg_status rc = VG_OK;
	uint32_t *db_path, *db_name;

	db_path = vg_calloc(set->dbs.n + 1, sizeof(uint32_t));
	db_name = vg_calloc(set->dbs.n + 1, sizeof(uint32_t));
	if (!db_path || !db_name) {
		rc = VG_ENOMEM;
		goto out;
	}
	/* database paths and names join the signature names */
	for (size_t i = 0; i < set->dbs.n; i++) {
		const struct db_record *r = VEC_AT(&set->dbs, struct db_record, i);
		db_path[i] = add_string(&set->names, r->path, &rc);
		db_name[i] = add_string(&set->names, r->name, &rc);
	}
	if (rc == VG_OK)
		rc = image_add(w, SEC_NAMES, set->names.data, set->names.len);
	if (rc != VG_OK)
		goto out;
	rc = image_reserve(w, SEC_DBS, set->dbs.n * sizeof(*dbs), (void **)&dbs);
	if (rc != VG_OK)
		goto out;
	for (size_t i = 0; i < set->dbs.n; i++) {
		const struct db_record *r = VEC_AT(&set->dbs, struct db_record, i);
		dbs[i].path = db_path[i];
		dbs[i].name = db_name[i];
		dbs[i].first_sig = UINT32_MAX;
		dbs[i].end_sig = 0;
		dbs[i].version = r->version;
		dbs[i].official = r->official;
		dbs[i].build_time = r->build_time;
		dbs[i].signatures = r->signatures;
		dbs[i].deferred = r->deferred;
		dbs[i].skipped = r->skipped;
	}
	for (size_t i = 0; i < set->sigs.n; i++) {
		const struct sig *sg = VEC_AT(&set->sigs, struct sig, i);
		struct img_db *d = &dbs[sg->db];
		if (sg->name < d->first_sig)
			d->first_sig = sg->name;
		if (sg->name >= d->end_sig)
			d->end_sig = sg->name + 1;
	}
	/* a database without signatures gets an empty range where it stands,
	 * keeping the ranges ordered for the lookup by name offset */
	for (size_t i = 0, prev_end = 0; i < set->dbs.n; i++) {
		if (dbs[i].first_sig == UINT32_MAX)
			dbs[i].first_sig = dbs[i].end_sig = (uint32_t)prev_end;
		else
			prev_end = dbs[i].end_sig;
	}
	info->nsigs = set->sigs.n;
out:
	vg_free(db_path);
	vg_free(db_name);
	return rc;
}

static vg_status write_bodies(struct sigset *set, struct image_writer *w, struct img_info *info,
			      struct literal **lits_out, size_t *nlits_out)
{
	const struct vec *bodies = &set->bodies;
	size_t n = bodies->n, nparts = 0, k = 0, pat_bytes = 0, nlits = 0;
	struct lit_build *lb = NULL;
	struct literal *lits = NULL;
	struct img_body *ib = NULL;
	struct part_meta *metas = NULL;
	struct part_ref *refs = NULL;
	uint32_t *lit_first = NULL, *lit_len = NULL, *lit_post = NULL;
	uint8_t *pats;
	vg_status rc = VG_ENOMEM;

	ib = vg_calloc(n + 1, sizeof(*ib));
	if (!ib)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct body_sig *bs = VEC_AT(bodies, struct body_sig, i);
		size_t len;
		(void)pattern_bytes(bs->pat, &len);
		ib[i].sig = VEC_AT(&set->sigs, struct sig, bs->sig)->name;
		ib[i].nparts = pattern_nparts(bs->pat);
		ib[i].pat_off = pat_bytes;
		ib[i].pat_len = len;
		ib[i].part_first = (uint32_t)nparts;
		ib[i].off_kind = bs->off.kind;
		ib[i].off_n = bs->off.n;
		ib[i].off_shift = bs->off.shift;
		ib[i].off_section = bs->off.section;
		ib[i].lsub = bs->lsub;
		ib[i].nocase = bs->nocase;
		ib[i].target = bs->target;
		/* ClamAV sends plain patterns of target 0, and of target 1 at a
		 * fixed offset, to Boyer-Moore; the rest (and .ldb subsignatures)
		 * to Aho-Corasick */
		ib[i].bm_class = !bs->lsub && pattern_is_plain(bs->pat) &&
				 (bs->target == SIG_TARGET_ANY ||
				  (bs->target == SIG_TARGET_PE && bs->off.kind != SIG_OFF_ANY &&
				   !bs->off.floating));
		if (bs->target != SIG_TARGET_ANY)
			info->exe_needs |= EXE_NEED_TARGETS;
		if (bs->off.kind >= SIG_OFF_EP_PLUS)
			info->exe_needs |= EXE_NEED_OFFSETS;
		pat_bytes += (len + 7) / 8 * 8;
		if (pattern_clam_len(bs->pat) > info->clam_maxpatlen)
			info->clam_maxpatlen = pattern_clam_len(bs->pat);
		nparts += ib[i].nparts;
		if (nparts > UINT32_MAX / 2) {
			rc = VG_ELIMIT;
			goto out;
		}
	}
	rc = image_add(w, SEC_BODIES, ib, n * sizeof(*ib));
	if (rc == VG_OK)
		rc = image_reserve(w, SEC_PATTERNS, pat_bytes, (void **)&pats);
	if (rc != VG_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const uint8_t *b = pattern_bytes(VEC_AT(bodies, struct body_sig, i)->pat, &len);
		memcpy(pats + ib[i].pat_off, b, len);
	}
	rc = VG_ENOMEM;
	metas = vg_calloc(nparts + 1, sizeof(*metas));
	lb = vg_calloc(nparts + 1, sizeof(*lb));
	if (!metas || !lb)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct pattern *p = VEC_AT(bodies, struct body_sig, i)->pat;
		for (uint32_t j = 0; j < ib[i].nparts; j++, k++) {
			struct pattern_part_info pi;
			pattern_part_info(p, j, &pi);
			metas[k].anchor_len = pi.anchor_len;
			metas[k].pre_max = pi.pre_max;
			metas[k].post_max = pi.post_max;
			if (pi.pre_max + (uint64_t)pi.anchor_len > info->max_back)
				info->max_back = pi.pre_max + (uint64_t)pi.anchor_len;
			if (pi.post_max > info->max_fwd)
				info->max_fwd = pi.post_max;
			lb[k].bytes = pi.anchor;
			lb[k].len = pi.anchor_len;
			lb[k].body = (uint32_t)i;
			lb[k].part = j;
			lb[k].nocase = VEC_AT(bodies, struct body_sig, i)->nocase;
		}
	}
	/* Equal anchors share one literal: many signatures start alike. */
	if (nparts)
		qsort(lb, nparts, sizeof(*lb), cmp_lit);
	refs = vg_calloc(nparts + 1, sizeof(*refs));
	lit_first = vg_calloc(nparts + 1, sizeof(uint32_t));
	lit_len = vg_calloc(nparts + 1, sizeof(uint32_t));
	lit_post = vg_calloc(nparts + 1, sizeof(uint32_t));
	lits = vg_calloc(nparts + 1, sizeof(*lits));
	if (!refs || !lit_first || !lit_len || !lit_post || !lits)
		goto out;
	for (size_t i = 0; i < nparts; i++) {
		const struct img_body *b = &ib[lb[i].body];
		struct part_ref *ref = &refs[i];
		uint32_t post;

		if (i == 0 || lb[i].len != lb[i - 1].len || lb[i].nocase != lb[i - 1].nocase ||
		    memcmp(lb[i].bytes, lb[i - 1].bytes, lb[i].len) != 0) {
			lits[nlits].bytes = lb[i].bytes;
			lits[nlits].len = lb[i].len;
			lits[nlits].nocase = lb[i].nocase;
			lit_len[nlits] = lb[i].len;
			lit_first[nlits] = (uint32_t)i;
			nlits++;
		}
		ref->body = lb[i].body;
		ref->part = lb[i].part;
		ref->single = b->nparts == 1;
		ref->pre_max = metas[b->part_first + lb[i].part].pre_max;
		ref->off_kind = lb[i].part == 0 ? (uint8_t)b->off_kind : SIG_OFF_ANY;
		ref->target = b->target;
		ref->off_n = b->off_n;
		ref->off_shift = b->off_shift;
		post = metas[b->part_first + lb[i].part].post_max;
		if (post > lit_post[nlits - 1])
			lit_post[nlits - 1] = post;
	}
	lit_first[nlits] = (uint32_t)nparts;
	info->nlits = (uint32_t)nlits;
	rc = image_add(w, SEC_METAS, metas, nparts * sizeof(*metas));
	if (rc == VG_OK)
		rc = image_add(w, SEC_REFS, refs, nparts * sizeof(*refs));
	if (rc == VG_OK)
		rc = image_add(w, SEC_LIT_FIRST, lit_first, (nlits + 1) * sizeof(uint32_t));
	if (rc == VG_OK)
		rc = image_add(w, SEC_LIT_LEN, lit_len, nlits * sizeof(uint32_t));
	if (rc == VG_OK)
		rc = image_add(w, SEC_LIT_POST, lit_post, nlits * sizeof(uint32_t));
	if (rc == VG_OK) {
		*lits_out = lits; /* transferred */
		*nlits_out = nlits;
		lits = NULL;
	}
out:
	vg_free(ib);
	vg_free(metas);
	vg_free(lb);
	vg_free(refs);
	vg_free(lit_first);
	vg_free(lit_len);
	vg_free(lit_post);
	vg_free(lits);
	return rc;
}

static uint32_t add_text(struct buf *text, const char *str, size_t len, vg_status *rc)
{
	size_t off = text->len;

	if (*rc == VG_OK && off > UINT32_MAX - len - 1)
		*rc = VG_ELIMIT;
	if (*rc == VG_OK)
		*rc = buf_append(text, str, len);
	if (*rc == VG_OK)
		*rc = buf_append(text, "", 1);
	return (uint32_t)off;
}

/* Logical signatures: their records, subsignatures, texts and the list of
 * those evaluated on every layer. */
static vg_status write_ldbs(struct sigset *set, struct image_writer *w, uint32_t *exe_needs)
{
	size_t n = set->ldbs.n, ns = set->lsubs.n, nalways = 0;
	struct img_ldb *il = vg_calloc(n + 1, sizeof(*il));
	struct img_lsub *is = vg_calloc(ns + 1, sizeof(*is));
	uint32_t *always = vg_calloc(n + 1, sizeof(uint32_t));
	struct buf text;
	vg_status rc = VG_OK;

	buf_init(&text, UINT32_MAX);
	if (!il || !is || !always) {
		rc = VG_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && rc == VG_OK; i++) {
		const struct ldb_sig *l = VEC_AT(&set->ldbs, struct ldb_sig, i);
		size_t elen = strlen(l->expr);
		il[i].sig = VEC_AT(&set->sigs, struct sig, l->sig)->name;
		il[i].expr = add_text(&text, l->expr, elen, &rc);
		il[i].expr_len = (uint32_t)elen;
		il[i].first_sub = l->first_sub;
		il[i].nsubs = l->nsubs;
		il[i].target = l->target;
		il[i].flags = (uint8_t)((l->has_fsize ? LDBF_FSIZE : 0) | (l->has_ep ? LDBF_EP : 0) |
					(l->has_nos ? LDBF_NOS : 0) |
					(l->has_container ? LDBF_CONTAINER : 0) |
					(l->always ? LDBF_ALWAYS : 0));
		il[i].container = l->container;
		il[i].ninter = l->ninter;
		memcpy(il[i].inter, l->inter, sizeof(il[i].inter));
		memcpy(il[i].fsize, l->fsize, sizeof(il[i].fsize));
		memcpy(il[i].ep, l->ep, sizeof(il[i].ep));
		memcpy(il[i].nos, l->nos, sizeof(il[i].nos));
		if (l->always)
			always[nalways++] = (uint32_t)i;
		/* the scan driver parses executable headers only when asked */
		if (l->has_ep || l->has_nos)
			*exe_needs |= EXE_NEED_OFFSETS;
		for (uint32_t k = 0; k < l->nsubs; k++)
			is[l->first_sub + k].ldb = (uint32_t)i;
	}
	for (size_t i = 0; i < ns && rc == VG_OK; i++) {
		const struct ldb_sub *sb = VEC_AT(&set->lsubs, struct ldb_sub, i);
		is[i].kind = sb->kind;
		is[i].pcre_global = sb->pcre_global;
		is[i].pcre_rolling = sb->pcre_rolling;
		is[i].pcre_encompass = sb->pcre_encompass;
		is[i].pcre_opts = sb->pcre_opts;
		is[i].off_kind = sb->off.kind;
		is[i].off_section = sb->off.section;
		is[i].off_n = sb->off.n;
		is[i].off_shift = sb->off.shift;
		is[i].bc = sb->bc;
		if (sb->off.kind >= SIG_OFF_EP_PLUS)
			*exe_needs |= EXE_NEED_OFFSETS;
		if (sb->kind == LSUB_PCRE) {
			is[i].trigger_len = (uint32_t)strlen(sb->trigger);
			is[i].trigger = add_text(&text, sb->trigger, is[i].trigger_len, &rc);
			is[i].regex_len = (uint32_t)strlen(sb->regex);
			is[i].regex = add_text(&text, sb->regex, is[i].regex_len, &rc);
		}
	}
	if (rc == VG_OK)
		rc = image_add(w, SEC_LDBS, il, n * sizeof(*il));
	if (rc == VG_OK)
		rc = image_add(w, SEC_LSUBS, is, ns * sizeof(*is));
	if (rc == VG_OK) {
		size_t nc = set->cdbs.n;
		struct img_cdb *ic = vg_calloc(nc + 1, sizeof(*ic));
		if (!ic)
			rc = VG_ENOMEM;
		for (size_t i = 0; i < nc && rc == VG_OK; i++) {
			const struct cdb_sig *c = VEC_AT(&set->cdbs, struct cdb_sig, i);
			ic[i].sig = VEC_AT(&set->sigs, struct sig, c->sig)->name;
			ic[i].ctype = c->ctype;
			ic[i].encrypted = c->encrypted;
			memcpy(ic[i].csize, c->csize, sizeof(ic[i].csize));
			memcpy(ic[i].fsize, c->fsize, sizeof(ic[i].fsize));
			memcpy(ic[i].filepos, c->filepos, sizeof(ic[i].filepos));
			ic[i].re = UINT32_MAX;
			if (c->name_re) {
				ic[i].re_len = (uint32_t)strlen(c->name_re);
				ic[i].re = add_text(&text, c->name_re, ic[i].re_len, &rc);
			}
		}
		if (rc == VG_OK)
			rc = image_add(w, SEC_CDBS, ic, nc * sizeof(*ic));
		vg_free(ic);
	}
	if (rc == VG_OK) {
		size_t nf = set->ftms.n, nbytes = 0;
		struct img_ftm *fm = vg_calloc(nf + 1, sizeof(*fm));
		uint8_t *bytes = NULL;
		for (size_t i = 0; i < nf; i++)
			nbytes += VEC_AT(&set->ftms, struct ftm_sig, i)->len;
		bytes = vg_malloc(nbytes + 1);
		if (!fm || !bytes)
			rc = VG_ENOMEM;
		nbytes = 0;
		for (size_t i = 0; i < nf && rc == VG_OK; i++) {
			const struct ftm_sig *m = VEC_AT(&set->ftms, struct ftm_sig, i);
			fm[i].offset = m->offset;
			fm[i].len = m->len;
			fm[i].type = m->type;
			fm[i].bytes = nbytes;
			memcpy(bytes + nbytes, m->bytes, m->len);
			nbytes += m->len;
		}
		if (rc == VG_OK)
			rc = image_add(w, SEC_FTM, fm, nf * sizeof(*fm));
		if (rc == VG_OK)
			rc = image_add(w, SEC_FTM_BYTES, bytes, nbytes);
		vg_free(fm);
		vg_free(bytes);
	}
	if (rc == VG_OK)
		rc = image_add(w, SEC_LTEXT, text.data, text.len);
	if (rc == VG_OK)
		rc = image_add(w, SEC_LALWAYS, always, nalways * sizeof(uint32_t));
out:
	buf_free(&text);
	vg_free(il);
	vg_free(is);
	vg_free(always);
	return rc;
}

/* Vectorscan's compiler is most of a cold compile; it runs in its own
 * thread while this one writes the hash indexes and the rest. */
struct prefilter_job {
	const struct literal *lits;
	size_t n;
	unsigned max_shards;
	struct prefilter *pf;
	vg_status rc;
	char err[256];
};

static void *prefilter_thread(void *arg)
{
	struct prefilter_job *j = arg;

	j->rc = prefilter_build(j->lits, j->n, j->max_shards, &j->pf, j->err, sizeof(j->err));
	return NULL;
}

vg_status scan_db_compile(struct sigset *set, const uint8_t key[IMAGE_KEY_LEN],
			  const char *notices, size_t notices_len, unsigned compile_threads,
			  uint8_t **image, size_t *len, char *err, size_t errlen)
{
	struct image_writer w;
	struct img_info info;
	struct literal *lits = NULL;
	struct prefilter_job job;
	pthread_t th;
	bool threaded = false;
	uint8_t *hs = NULL;
	size_t nlits = 0, hs_len = 0;
	vg_status rc;

	memset(&info, 0, sizeof(info));
	memset(&job, 0, sizeof(job));
	info.flevel = set->flevel;
	image_writer_init(&w);
	rc = write_tables(set, &w, &info);
	if (rc == VG_OK)
		rc = write_bodies(set, &w, &info, &lits, &nlits);
	if (rc == VG_OK) {
		job.lits = lits;
		job.n = nlits;
		job.max_shards = compile_threads ? compile_threads : 1;
		threaded = pthread_create(&th, NULL, prefilter_thread, &job) == 0;
		if (!threaded)
			prefilter_thread(&job);
	}
	if (rc == VG_OK)
		rc = write_ldbs(set, &w, &info.exe_needs);
	if (rc == VG_OK)
		rc = hashidx_write(set->hashes.items, set->hashes.n, &w, SEC_HASHES);
	if (rc == VG_OK)
		rc = hashidx_write(set->fps.items, set->fps.n, &w, SEC_FPS);
	if (rc == VG_OK)
		rc = hashidx_write(set->sections.items, set->sections.n, &w, SEC_PE_SECTIONS);
	if (rc == VG_OK)
		rc = hashidx_write(set->imports.items, set->imports.n, &w, SEC_PE_IMPORTS);
	if (rc == VG_OK)
		rc = image_add(&w, SEC_NOTICES, notices, notices ? notices_len : 0);
	if (threaded)
		pthread_join(th, NULL);
	if (rc == VG_OK && job.rc != VG_OK) {
		rc = job.rc;
		snprintf(err, errlen, "%s", job.err);
	}
	if (rc == VG_OK)
		rc = prefilter_serialize(job.pf, &hs, &hs_len);
	if (rc == VG_OK)
		rc = image_add(&w, SEC_PREFILTER, hs, hs_len);
	if (rc == VG_OK)
		rc = image_add(&w, SEC_INFO, &info, sizeof(info));
	if (rc == VG_OK)
		rc = image_finish(&w, key, image, len);
	prefilter_free(job.pf);
	vg_free(hs);
	vg_free(lits);
	image_writer_free(&w);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Opening                                                                 */

void scan_db_free(struct scan_db *db)
{
	if (!db)
		return;
	prefilter_free(db->pf);
	if (db->pcre)
		for (size_t i = 0; i < db->nlsubs; i++)
			pcre2_code_free(db->pcre[i]);
	vg_free(db->pcre);
	vg_free(db->ftm);
	if (db->cdb_re) {
		regex_t *re = db->cdb_re;
		for (size_t i = 0; i < db->ncdbs; i++)
			if (db->cdbs[i].re != UINT32_MAX)
				regfree(&re[i]);
		vg_free(re);
	}
	vg_free(db->owned);
	if (db->map)
		munmap(db->map, db->map_len);
	vg_free(db);
}

void scan_db_image(const struct scan_db *db, const uint8_t **bytes, size_t *len)
{
	*bytes = db->img.base;
	*len = db->img.len;
}

#define SECTION(id, elem, ptr, count)                                                      \
	(image_section(&db->img, (id), (elem), &p, &len) && ((ptr) = p, (count) = len / (elem), 1))

static bool text_ok(const struct scan_db *db, uint32_t off, uint32_t len)
{
	return off <= db->ltext_len && len < db->ltext_len - off && db->ltext[off + len] == '\0';
}

/* File type magic: a table for the typer, the last loaded first. */
static vg_status open_ftm(struct scan_db *db, const struct img_ftm *fm, size_t n,
			  const uint8_t *bytes, size_t nbytes)
{
	if (!n)
		return VG_OK;
	db->ftm = vg_calloc(n, sizeof(*db->ftm));
	if (!db->ftm)
		return VG_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct img_ftm *m = &fm[n - 1 - i];
		if (m->bytes > nbytes || m->len > nbytes - m->bytes || m->type >= FT_COUNT)
			return VG_EFORMAT;
		db->ftm[i].offset = m->offset;
		db->ftm[i].len = m->len;
		db->ftm[i].bytes = bytes + m->bytes;
		db->ftm[i].type = m->type;
	}
	db->nftm = n;
	return VG_OK;
}

/* Container signatures: regexes compiled (a failure leaves the regex
 * unusable; its entry is then marked as matching nothing). */
static vg_status open_cdbs(struct scan_db *db)
{
	regex_t *re;

	if (!db->ncdbs)
		return VG_OK;
	re = vg_calloc(db->ncdbs, sizeof(regex_t));
	if (!re)
		return VG_ENOMEM;
	for (size_t i = 0; i < db->ncdbs; i++) {
		const struct img_cdb *c = &db->cdbs[i];
		if (c->sig >= db->names_len || (c->re != UINT32_MAX && !text_ok(db, c->re, c->re_len))) {
			db->cdb_re = re;
			db->ncdbs = i; /* what was compiled gets freed */
			return VG_EFORMAT;
		}
		if (c->re != UINT32_MAX &&
		    regcomp(&re[i], db->ltext + c->re, REG_EXTENDED | REG_NOSUB) != 0) {
			db->cdb_re = re;
			db->ncdbs = i;
			return VG_EFORMAT;
		}
	}
	db->cdb_re = re;
	return VG_OK;
}

/* Logical signatures: every index and text in range; PCREs compiled. */
static vg_status open_ldbs(struct scan_db *db)
{
	for (size_t i = 0; i < db->nldbs; i++) {
		const struct img_ldb *l = &db->ldbs[i];
		if (l->sig >= db->names_len || l->first_sub > db->nlsubs ||
		    l->nsubs > db->nlsubs - l->first_sub || l->nsubs > LOGICAL_MAX_SUBS ||
		    !text_ok(db, l->expr, l->expr_len) || l->ninter > LDB_MAX_INTERMEDIATES)
			return VG_EFORMAT;
	}
	for (size_t i = 0; i < db->nalways; i++)
		if (db->always[i] >= db->nldbs)
			return VG_EFORMAT;
	if (db->nlsubs) {
		db->pcre = vg_calloc(db->nlsubs, sizeof(void *));
		if (!db->pcre)
			return VG_ENOMEM;
	}
	for (size_t i = 0; i < db->nlsubs; i++) {
		const struct img_lsub *s = &db->lsubs[i];
		int err;
		PCRE2_SIZE erroff;

		if (s->ldb >= db->nldbs || s->kind < LSUB_CONTENT || s->kind > LSUB_BCOMP ||
		    s->off_kind > SIG_OFF_SL ||
		    (s->kind == LSUB_BCOMP && s->bc.ref >= db->ldbs[s->ldb].nsubs))
			return VG_EFORMAT;
		if (s->kind != LSUB_PCRE)
			continue;
		if (!text_ok(db, s->trigger, s->trigger_len) || !text_ok(db, s->regex, s->regex_len))
			return VG_EFORMAT;
		db->pcre[i] = pcre2_compile((PCRE2_SPTR)(db->ltext + s->regex), s->regex_len,
					    s->pcre_opts, &err, &erroff, NULL);
		if (!db->pcre[i])
			return VG_EFORMAT;
	}
	return VG_OK;
}

static vg_status check_bodies(struct scan_db *db)
{
	for (size_t i = 0; i < db->nbodies; i++) {
		const struct img_body *b = &db->bodies[i];
		if (b->pat_off > db->patterns_len || b->pat_len > db->patterns_len - b->pat_off ||
		    b->pat_off % 8 || b->sig >= db->names_len || b->part_first > db->nmetas ||
		    b->nparts > db->nmetas - b->part_first || b->nparts == 0 ||
		    b->off_kind > SIG_OFF_SL || b->target >= SIG_TARGET_COUNT || b->lsub > db->nlsubs ||
		    (b->lsub && db->lsubs[b->lsub - 1].kind != LSUB_CONTENT))
			return VG_EFORMAT;
	}
	for (size_t i = 0; i < db->nrefs; i++) {
		const struct part_ref *r = &db->refs[i];
		if (r->body >= db->nbodies || r->part >= db->bodies[r->body].nparts ||
		    r->target != db->bodies[r->body].target)
			return VG_EFORMAT;
	}
	for (uint32_t i = 0; i < db->nlits; i++)
		if (db->lit_first[i] > db->lit_first[i + 1] || db->lit_len[i] == 0)
			return VG_EFORMAT;
	if (db->lit_first[db->nlits] != db->nrefs)
		return VG_EFORMAT;
	/* Patterns are checked on first use (so opening touches few pages), but
	 * a cache of another pattern layout must be refused here, not skipped
	 * signature by signature: the first one tells. */
	if (db->nbodies && !scan_db_pattern(db, 0))
		return VG_EFORMAT;
	for (size_t i = 0; i < db->nmetas; i++)
		if (db->metas[i].pre_max + (uint64_t)db->metas[i].anchor_len > db->max_back ||
		    db->metas[i].post_max > db->max_fwd)
			return VG_EFORMAT;
	return VG_OK;
}

vg_status scan_db_open(const uint8_t *image, size_t ilen, bool own, void *map, size_t map_len,
		       bool check_crc, struct scan_db **out)
{
	struct scan_db *db = vg_calloc(1, sizeof(*db));
	const struct img_info *info;
	const void *p;
	size_t len, n, nfirst;
	vg_status rc = VG_EFORMAT;

	if (!db) {
		if (own)
			vg_free((void *)image);
		if (map)
			munmap(map, map_len);
		return VG_ENOMEM;
	}
	if (own)
		db->owned = (uint8_t *)image;
	db->map = map;
	db->map_len = map_len;
	if (image_open(&db->img, image, ilen, check_crc, map != NULL) != VG_OK)
		goto fail;
	if (!SECTION(SEC_INFO, sizeof(struct img_info), info, n) || n != 1)
		goto fail;
	if (!image_section(&db->img, SEC_NAMES, 0, &p, &len) || (len && ((const char *)p)[len - 1]))
		goto fail;
	db->names = p;
	db->names_len = len;
	if (!image_section(&db->img, SEC_NOTICES, 0, &p, &len))
		goto fail;
	db->notices = p;
	db->notices_len = len;
	db->nsigs = info->nsigs;
	if (!SECTION(SEC_DBS, sizeof(struct img_db), db->dbs, db->ndbs) ||
	    !SECTION(SEC_BODIES, sizeof(struct img_body), db->bodies, db->nbodies) ||
	    !SECTION(SEC_METAS, sizeof(struct part_meta), db->metas, db->nmetas) ||
	    !SECTION(SEC_REFS, sizeof(struct part_ref), db->refs, db->nrefs) ||
	    !SECTION(SEC_LIT_FIRST, sizeof(uint32_t), db->lit_first, nfirst) ||
	    nfirst != (size_t)info->nlits + 1 ||
	    !SECTION(SEC_LIT_LEN, sizeof(uint32_t), db->lit_len, n) || n != info->nlits ||
	    !SECTION(SEC_LIT_POST, sizeof(uint32_t), db->lit_post, n) || n != info->nlits ||
	    !image_section(&db->img, SEC_PATTERNS, 0, &p, &db->patterns_len))
		goto fail;
	db->patterns = p;
	if (!SECTION(SEC_LDBS, sizeof(struct img_ldb), db->ldbs, db->nldbs) ||
	    !SECTION(SEC_LSUBS, sizeof(struct img_lsub), db->lsubs, db->nlsubs) ||
	    !SECTION(SEC_LALWAYS, sizeof(uint32_t), db->always, db->nalways) ||
	    !SECTION(SEC_CDBS, sizeof(struct img_cdb), db->cdbs, db->ncdbs) ||
	    !image_section(&db->img, SEC_LTEXT, 0, &p, &db->ltext_len))
		goto fail;
	db->ltext = p;
	db->nlits = info->nlits;
	db->exe_needs = info->exe_needs;
	db->max_back = (size_t)info->max_back;
	db->max_fwd = (size_t)info->max_fwd;
	db->clam_step = info->clam_maxpatlen < VG_CLAMAV_WINDOW
				? VG_CLAMAV_WINDOW - info->clam_maxpatlen
				: 1;
	if (info->max_back > (1u << 30) || info->max_fwd > (1u << 30))
		goto fail;
	rc = open_ldbs(db);
	if (rc == VG_OK)
		rc = open_cdbs(db);
	if (rc == VG_OK) {
		const struct img_ftm *fm;
		const void *fb;
		size_t nfm, nfb;
		if (!image_section(&db->img, SEC_FTM, sizeof(struct img_ftm), &p, &len) ||
		    !image_section(&db->img, SEC_FTM_BYTES, 0, &fb, &nfb))
			rc = VG_EFORMAT;
		else {
			fm = p;
			nfm = len / sizeof(struct img_ftm);
			rc = open_ftm(db, fm, nfm, fb, nfb);
		}
	}
	if (rc == VG_OK)
		rc = check_bodies(db);
	if (rc != VG_OK)
		goto fail;
	rc = VG_EFORMAT;
	if (hashidx_open(&db->img, SEC_HASHES, &db->hashes) != VG_OK ||
	    hashidx_open(&db->img, SEC_FPS, &db->fps) != VG_OK ||
	    hashidx_open(&db->img, SEC_PE_SECTIONS, &db->pe_sections) != VG_OK ||
	    hashidx_open(&db->img, SEC_PE_IMPORTS, &db->pe_imports) != VG_OK ||
	    !image_section(&db->img, SEC_PREFILTER, 0, &p, &len))
		goto fail;
	rc = prefilter_open(p, len, db->nlits, &db->pf);
	if (rc != VG_OK)
		goto fail;
	*out = db;
	return VG_OK;
fail:
	scan_db_free(db);
	return rc;
}

uint64_t scan_db_signature_count(const struct scan_db *db)
{
	return db->nsigs;
}

size_t scan_db_db_count(const struct scan_db *db)
{
	return db->ndbs;
}

void scan_db_db_info(const struct scan_db *db, size_t i, struct vg_db_info *out)
{
	const struct img_db *d = &db->dbs[i];

	memset(out, 0, sizeof(*out));
	out->path = scan_db_str(db, d->path);
	out->name = scan_db_str(db, d->name);
	out->version = d->version;
	out->build_time = d->build_time;
	out->signatures = d->signatures;
	out->deferred = d->deferred;
	out->skipped = d->skipped;
	out->official = d->official != 0;
}

const uint8_t *scan_db_key(const struct scan_db *db)
{
	return db->img.key;
}

const char *scan_db_notices(const struct scan_db *db, size_t *len)
{
	*len = db->notices_len;
	return db->notices;
}
