/* The literal prefilter: the anchors of all body patterns in Vectorscan
 * streaming databases, so a file is searched once for every signature, in
 * bounded memory, whatever its size.
 *
 * A large literal set may be split into shards compiled in parallel threads:
 * Vectorscan's compiler costs tens of microseconds per literal and runs on
 * one core, so this divides a cold compile's longest step by the number of
 * cores. But every shard scans every byte: on the benchmark's 200,000
 * literals, 2 shards compile 1.9x faster and scan 1.45x slower, so the
 * caller shards only a database that is used once (BENCHMARKS.md). Each
 * shard keeps the global literal ids. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "match/match.h"

/* Shards: one per PF_SHARD_LITS literals, at most PF_MAX_SHARDS and at
 * most what the caller allows. */
#define PF_MAX_SHARDS 4u
#define PF_SHARD_LITS 40000u

struct prefilter {
	size_t nshards;                    /* 0 when there are no literals */
	hs_database_t *db[PF_MAX_SHARDS];
	size_t nlits;
};

struct prefilter_stream {
	const struct prefilter *pf;
	hs_scratch_t *scratch;             /* one scratch fits every shard */
	hs_stream_t *stream[PF_MAX_SHARDS];
};

void prefilter_free(struct prefilter *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->nshards; i++)
		hs_free_database(pf->db[i]);
	vg_free(pf);
}

/* sel maps the shard's expression index back to the global literal id. */
static vg_status compile_error(hs_compile_error_t *ce, const unsigned *sel, size_t n, char *err,
			       size_t errlen)
{
	long id = ce && ce->expression >= 0 && (size_t)ce->expression < n ? (long)sel[ce->expression]
									   : -1;
	snprintf(err, errlen, "Vectorscan: %s (literal %ld)", ce && ce->message ? ce->message : "?",
		 id);
	hs_free_compile_error(ce);
	return VG_EFORMAT;
}

/* Vectorscan 5.4.9's literal API rejects a literal starting with 0x00, so
 * such sets go through the regex API with every byte escaped. */
static vg_status compile_as_regex(const struct literal *lits, const unsigned *sel, size_t n,
				  hs_database_t **db, char *err, size_t errlen)
{
	vg_status rc = VG_ENOMEM;
	char **exprs = vg_calloc(n, sizeof(char *));
	unsigned *ids = vg_calloc(n, sizeof(unsigned));
	unsigned *flags = vg_calloc(n, sizeof(unsigned));
	hs_compile_error_t *ce = NULL;

	if (!exprs || !ids || !flags)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct literal *l = &lits[sel[i]];
		exprs[i] = vg_malloc((size_t)l->len * 4 + 1);
		if (!exprs[i])
			goto out;
		for (uint32_t j = 0; j < l->len; j++)
			snprintf(exprs[i] + 4 * j, 5, "\\x%02x", l->bytes[j]);
		exprs[i][4 * (size_t)l->len] = '\0';
		ids[i] = sel[i];
		flags[i] = l->nocase ? HS_FLAG_CASELESS : 0;
	}
	if (hs_compile_multi((const char *const *)exprs, flags, ids, (unsigned)n, HS_MODE_STREAM,
			     NULL, db, &ce) != HS_SUCCESS) {
		rc = compile_error(ce, sel, n, err, errlen);
		goto out;
	}
	rc = VG_OK;
out:
	if (exprs)
		for (size_t i = 0; i < n; i++)
			vg_free(exprs[i]);
	vg_free(exprs);
	vg_free(ids);
	vg_free(flags);
	return rc;
}

static vg_status compile_as_literals(const struct literal *lits, const unsigned *sel, size_t n,
				     hs_database_t **db, char *err, size_t errlen)
{
	vg_status rc = VG_ENOMEM;
	const char **exprs = vg_calloc(n, sizeof(char *));
	size_t *lens = vg_calloc(n, sizeof(size_t));
	unsigned *ids = vg_calloc(n, sizeof(unsigned));
	unsigned *flags = vg_calloc(n, sizeof(unsigned));
	hs_compile_error_t *ce = NULL;

	if (!exprs || !lens || !ids || !flags)
		goto out;
	for (size_t i = 0; i < n; i++) {
		exprs[i] = (const char *)lits[sel[i]].bytes;
		lens[i] = lits[sel[i]].len;
		ids[i] = sel[i];
		flags[i] = lits[sel[i]].nocase ? HS_FLAG_CASELESS : 0;
	}
	if (hs_compile_lit_multi(exprs, flags, ids, lens, (unsigned)n, HS_MODE_STREAM, NULL, db,
				 &ce) != HS_SUCCESS) {
		rc = compile_error(ce, sel, n, err, errlen);
		goto out;
	}
	rc = VG_OK;
out:
	vg_free(exprs);
	vg_free(lens);
	vg_free(ids);
	vg_free(flags);
	return rc;
}

struct shard_job {
	const struct literal *lits;
	unsigned *sel; /* global ids of this shard's literals */
	size_t n;
	hs_database_t *db;
	vg_status rc;
	char err[256];
};

static void *compile_shard(void *arg)
{
	struct shard_job *j = arg;
	bool leading_nul = false;

	for (size_t i = 0; i < j->n; i++)
		if (j->lits[j->sel[i]].len == 0 || j->lits[j->sel[i]].bytes[0] == 0)
			leading_nul = true;
	j->rc = leading_nul ? compile_as_regex(j->lits, j->sel, j->n, &j->db, j->err, sizeof(j->err))
			    : compile_as_literals(j->lits, j->sel, j->n, &j->db, j->err,
						  sizeof(j->err));
	return NULL;
}

vg_status prefilter_build(const struct literal *lits, size_t n, unsigned max_shards,
			  struct prefilter **out, char *err, size_t errlen)
{
	struct shard_job jobs[PF_MAX_SHARDS];
	pthread_t th[PF_MAX_SHARDS];
	bool started[PF_MAX_SHARDS] = {false};
	struct prefilter *pf;
	size_t k;
	vg_status rc = VG_OK;

	if (n > UINT32_MAX / 2)
		return VG_ELIMIT;
	pf = vg_calloc(1, sizeof(*pf));
	if (!pf)
		return VG_ENOMEM;
	pf->nlits = n;
	if (n == 0) {
		*out = pf;
		return VG_OK;
	}
	k = (n + PF_SHARD_LITS - 1) / PF_SHARD_LITS;
	if (k > PF_MAX_SHARDS)
		k = PF_MAX_SHARDS;
	if (max_shards && k > max_shards)
		k = max_shards;
	memset(jobs, 0, sizeof(jobs));
	for (size_t s = 0; s < k; s++) {
		jobs[s].lits = lits;
		jobs[s].sel = vg_calloc(n / k + 1, sizeof(unsigned));
		if (!jobs[s].sel)
			rc = VG_ENOMEM;
	}
	/* round robin: shards of equal size and alike content */
	for (size_t i = 0; rc == VG_OK && i < n; i++) {
		struct shard_job *j = &jobs[i % k];
		j->sel[j->n++] = (unsigned)i;
	}
	for (size_t s = 0; rc == VG_OK && s < k; s++) {
		if (s + 1 < k && pthread_create(&th[s], NULL, compile_shard, &jobs[s]) == 0)
			started[s] = true;
		else
			compile_shard(&jobs[s]); /* the last one, or no thread available */
	}
	for (size_t s = 0; s < k; s++) {
		if (started[s])
			pthread_join(th[s], NULL);
		if (rc == VG_OK && jobs[s].rc != VG_OK) {
			rc = jobs[s].rc;
			snprintf(err, errlen, "%s", jobs[s].err);
		}
		pf->db[s] = jobs[s].db;
		vg_free(jobs[s].sel);
	}
	pf->nshards = k;
	if (rc != VG_OK) {
		prefilter_free(pf);
		return rc;
	}
	*out = pf;
	return VG_OK;
}

/* Layout: u32 shard count, then per shard a u64 length and the bytes
 * Vectorscan serialised (host byte order: the image is machine-bound). */
vg_status prefilter_serialize(const struct prefilter *pf, uint8_t **out, size_t *len)
{
	char *bytes[PF_MAX_SHARDS] = {NULL};
	size_t n[PF_MAX_SHARDS] = {0}, total = sizeof(uint32_t);
	uint32_t k = (uint32_t)pf->nshards;
	vg_status rc = VG_ENOMEM;
	uint8_t *copy, *p;

	for (size_t s = 0; s < k; s++) {
		if (hs_serialize_database(pf->db[s], &bytes[s], &n[s]) != HS_SUCCESS)
			goto out;
		total += sizeof(uint64_t) + n[s];
	}
	copy = vg_malloc(total);
	if (!copy)
		goto out;
	p = copy;
	memcpy(p, &k, sizeof(k));
	p += sizeof(k);
	for (size_t s = 0; s < k; s++) {
		uint64_t l = n[s];
		memcpy(p, &l, sizeof(l));
		p += sizeof(l);
		memcpy(p, bytes[s], n[s]);
		p += n[s];
	}
	*out = copy;
	*len = total;
	rc = VG_OK;
out:
	for (size_t s = 0; s < k; s++)
		free(bytes[s]); /* Vectorscan allocates with the default allocator */
	return rc;
}

vg_status prefilter_deserialize(const uint8_t *bytes, size_t len, size_t nlits,
				struct prefilter **out)
{
	struct prefilter *pf = vg_calloc(1, sizeof(*pf));
	uint32_t k;

	if (!pf)
		return VG_ENOMEM;
	pf->nlits = nlits;
	if (len < sizeof(k))
		goto bad;
	memcpy(&k, bytes, sizeof(k));
	bytes += sizeof(k);
	len -= sizeof(k);
	if (k > PF_MAX_SHARDS || (k == 0) != (nlits == 0))
		goto bad;
	for (uint32_t s = 0; s < k; s++) {
		uint64_t l;
		if (len < sizeof(l))
			goto bad;
		memcpy(&l, bytes, sizeof(l));
		bytes += sizeof(l);
		len -= sizeof(l);
		if (l > len)
			goto bad;
		/* a database from elsewhere (other Vectorscan, other CPU flags)
		 * is refused here, and the caller rebuilds */
		if (hs_deserialize_database((const char *)bytes, (size_t)l, &pf->db[s]) != HS_SUCCESS)
			goto bad;
		pf->nshards = s + 1;
		bytes += l;
		len -= (size_t)l;
	}
	if (len != 0)
		goto bad;
	*out = pf;
	return VG_OK;
bad:
	prefilter_free(pf);
	return VG_EFORMAT;
}

size_t prefilter_memory(const struct prefilter *pf)
{
	size_t total = 0;

	for (size_t s = 0; pf && s < pf->nshards; s++) {
		size_t n = 0;
		hs_database_size(pf->db[s], &n);
		total += n;
	}
	return total;
}

void prefilter_stream_free(struct prefilter_stream *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < PF_MAX_SHARDS; i++)
		if (s->stream[i])
			hs_close_stream(s->stream[i], s->scratch, NULL, NULL);
	hs_free_scratch(s->scratch);
	vg_free(s);
}

vg_status prefilter_stream_new(const struct prefilter *pf, struct prefilter_stream **out)
{
	struct prefilter_stream *s = vg_calloc(1, sizeof(*s));

	if (!s)
		return VG_ENOMEM;
	s->pf = pf;
	for (size_t i = 0; i < pf->nshards; i++) {
		if (hs_alloc_scratch(pf->db[i], &s->scratch) != HS_SUCCESS ||
		    hs_open_stream(pf->db[i], 0, &s->stream[i]) != HS_SUCCESS) {
			prefilter_stream_free(s);
			return VG_ENOMEM;
		}
	}
	*out = s;
	return VG_OK;
}

struct hit_relay {
	prefilter_hit_fn *cb;
	void *ctx;
};

static int on_hs_match(unsigned int id, unsigned long long from, unsigned long long to,
		       unsigned int flags, void *ctx)
{
	struct hit_relay *r = ctx;

	(void)from;
	(void)flags;
	return r->cb(r->ctx, id, to);
}

vg_status prefilter_stream_begin(struct prefilter_stream *s)
{
	for (size_t i = 0; i < s->pf->nshards; i++)
		if (hs_reset_stream(s->stream[i], 0, s->scratch, NULL, NULL) != HS_SUCCESS)
			return VG_EINVAL;
	return VG_OK;
}

/* Each shard sees the whole chunk in turn: hits arrive grouped by shard,
 * each group in offset order. */
vg_status prefilter_stream_scan(struct prefilter_stream *s, const uint8_t *data, size_t len,
				prefilter_hit_fn *cb, void *ctx)
{
	struct hit_relay r = {cb, ctx};

	for (size_t i = 0; i < s->pf->nshards; i++) {
		const uint8_t *d = data;
		size_t left = len;
		while (left) {
			/* Vectorscan takes at most 4 GiB per call */
			unsigned n = left > UINT32_MAX ? UINT32_MAX : (unsigned)left;
			hs_error_t e = hs_scan_stream(s->stream[i], (const char *)d, n, 0, s->scratch,
						      on_hs_match, &r);
			if (e == HS_SCAN_TERMINATED)
				return VG_ELIMIT;
			if (e != HS_SUCCESS)
				return VG_EINVAL;
			d += n;
			left -= n;
		}
	}
	return VG_OK;
}

vg_status prefilter_stream_end(struct prefilter_stream *s, prefilter_hit_fn *cb, void *ctx)
{
	struct hit_relay r = {cb, ctx};

	for (size_t i = 0; i < s->pf->nshards; i++) {
		hs_error_t e = hs_reset_stream(s->stream[i], 0, s->scratch, on_hs_match, &r);
		if (e == HS_SCAN_TERMINATED)
			return VG_ELIMIT;
		if (e != HS_SUCCESS)
			return VG_EINVAL;
	}
	return VG_OK;
}
