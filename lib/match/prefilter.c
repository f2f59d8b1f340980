/* The literal prefilter: the anchors of all body patterns, so a file is
 * searched once for every signature, in bounded memory, whatever its size.
 * Plain literals of 9 to 32 bytes go to the gram index (gramidx.c), and a
 * few of 8 when that leaves Vectorscan nothing; the
 * rest (shorter, caseless or longer) to Vectorscan streaming databases.
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

/* Gram indexes and the offsets each examines (every step-th). One index,
 * examining every other offset, holding literals of 9 to 32 bytes, scanned
 * fastest on the benchmark (BENCHMARKS.md §3: every offset, 1.25x slower;
 * every 4th, 1.25x slower too, as its larger bitmap misses the caches and
 * more literals go to Vectorscan; a second index for the rest costs a
 * second pass). The array allows a set of indexes with other steps. */
#define PF_GRAMS 1u
static const unsigned pf_steps[PF_GRAMS] = {2};

struct prefilter {
	struct gramidx gi[PF_GRAMS];       /* views of gview[] */
	const uint8_t *gview[PF_GRAMS];    /* the gram index blobs (NULL: none) */
	size_t glen[PF_GRAMS];
	void *gblob[PF_GRAMS];             /* gview[] when built or copied */
	size_t nshards;                    /* 0 when Vectorscan has no literals */
	hs_database_t *db[PF_MAX_SHARDS];
	bool inplace;                      /* db[] lie in an image (or owned[]) */
	void *owned[PF_MAX_SHARDS];        /* aligned copies, when one was needed */
	size_t nlits;
};

struct prefilter_stream {
	const struct prefilter *pf;
	struct gramidx_stream gs[PF_GRAMS];
	hs_scratch_t *scratch;             /* one scratch fits every shard */
	hs_stream_t *stream[PF_MAX_SHARDS];
};

void prefilter_free(struct prefilter *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->nshards; i++) {
		if (pf->inplace)
			free(pf->owned[i]);
		else
			hs_free_database(pf->db[i]);
	}
	for (size_t i = 0; i < PF_GRAMS; i++)
		free(pf->gblob[i]);
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
	unsigned *gsel[PF_GRAMS] = {NULL}, *hsel = NULL;
	size_t k, ng[PF_GRAMS] = {0}, nh = 0;
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
	hsel = vg_calloc(n, sizeof(unsigned));
	for (size_t g = 0; g < PF_GRAMS; g++)
		gsel[g] = vg_calloc(n, sizeof(unsigned));
	if (!hsel) {
		rc = VG_ENOMEM;
		goto out;
	}
	for (size_t g = 0; g < PF_GRAMS; g++)
		if (!gsel[g]) {
			rc = VG_ENOMEM;
			goto out;
		}
	for (size_t i = 0; i < n; i++) {
		size_t g = 0;
		while (g < PF_GRAMS && !gramidx_accepts(&lits[i], pf_steps[g]))
			g++;
		if (g < PF_GRAMS)
			gsel[g][ng[g]++] = (unsigned)i;
		else
			hsel[nh++] = (unsigned)i;
	}
	/* A few literals one byte too short for the first index go there as
	 * well when that leaves Vectorscan nothing to scan: a whole pass over
	 * every file saved (on the benchmark, 13 literals of 8 bytes cost a
	 * sixth of the scan time), for 257 index entries each. */
	if (nh > 0 && nh <= GRAMIDX_MAX_SHORT) {
		size_t s = 0;
		while (s < nh && gramidx_accepts_short(&lits[hsel[s]], pf_steps[0]))
			s++;
		if (s == nh) {
			for (size_t i = 0; i < nh; i++)
				gsel[0][ng[0]++] = hsel[i];
			nh = 0;
		}
	}
	for (size_t g = 0; g < PF_GRAMS; g++) {
		uint8_t *blob = NULL;
		size_t blen = 0;
		if (!ng[g])
			continue;
		rc = gramidx_build(lits, gsel[g], ng[g], pf_steps[g], &blob, &blen);
		if (rc == VG_OK) {
			pf->gblob[g] = blob;
			pf->gview[g] = blob;
			pf->glen[g] = blen;
			rc = gramidx_open(blob, blen, n, &pf->gi[g]);
		}
		if (rc != VG_OK) {
			snprintf(err, errlen, "building the gram index failed");
			goto out;
		}
	}
	if (nh == 0)
		goto out;
	k = (nh + PF_SHARD_LITS - 1) / PF_SHARD_LITS;
	if (k > PF_MAX_SHARDS)
		k = PF_MAX_SHARDS;
	if (max_shards && k > max_shards)
		k = max_shards;
	memset(jobs, 0, sizeof(jobs));
	for (size_t s = 0; s < k; s++) {
		jobs[s].lits = lits;
		jobs[s].sel = vg_calloc(nh / k + 1, sizeof(unsigned));
		if (!jobs[s].sel)
			rc = VG_ENOMEM;
	}
	/* round robin: shards of equal size and alike content */
	for (size_t i = 0; rc == VG_OK && i < nh; i++) {
		struct shard_job *j = &jobs[i % k];
		j->sel[j->n++] = hsel[i];
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
out:
	for (size_t g = 0; g < PF_GRAMS; g++)
		vg_free(gsel[g]);
	vg_free(hsel);
	if (rc != VG_OK) {
		prefilter_free(pf);
		return rc;
	}
	*out = pf;
	return VG_OK;
}

/* Layout of the image section (host byte order: the image is machine-bound):
 *
 *   struct pf_header: magic, shard count, the Vectorscan version
 *       and host platform the databases were compiled on, and the offset
 *       (from the section start, a multiple of 64) and size of the gram
 *       index and of each shard's database;
 *   the gram index blob (gramidx.c), if any literal went there;
 *   each shard's database in Vectorscan's in-memory form, as
 *       hs_deserialize_database_at() lays it out at a 64-byte boundary.
 *
 * Vectorscan's in-memory database is a header plus position-independent
 * bytecode at a 64-byte aligned offset, so a database stored at a 64-byte
 * boundary of an image mapped at a page boundary is usable where it lies:
 * opening a cached image copies nothing, and every process scanning with
 * it shares the same page-cache pages. What hs_deserialize_database()
 * would check is checked here instead: the image's own checksum covers the
 * bytes (Vectorscan's CRC would read them all again), hs_database_size()
 * checks magic and version, and the stored platform and library version
 * must equal this host's, or the image is refused and rebuilt. */
#define PF_MAGIC 0x31667076u /* "vpf1" */
#define PF_ALIGN 64u

struct pf_header {
	uint32_t magic;
	uint32_t nshards;
	char hs_version[24];         /* hs_version(), cut */
	uint64_t tune, cpu_features; /* hs_populate_platform() at compile time */
	uint32_t off[PF_MAX_SHARDS];
	uint32_t len[PF_MAX_SHARDS];
	uint32_t gram_off[PF_GRAMS], gram_len[PF_GRAMS]; /* gram_len 0: no such index */
};

static size_t pf_align(size_t v)
{
	return (v + PF_ALIGN - 1) / PF_ALIGN * PF_ALIGN;
}

/* Where a part of the section can be used: in place when 64-byte aligned
 * (a mapped image), else from an aligned copy (*owned, free()d by the
 * caller). NULL when out of memory. */
static const uint8_t *pf_place(const uint8_t *at, size_t len, void **owned)
{
	void *copy;

	*owned = NULL;
	if ((uintptr_t)at % PF_ALIGN == 0)
		return at;
	if (posix_memalign(&copy, PF_ALIGN, len ? len : 1) != 0)
		return NULL;
	memcpy(copy, at, len);
	*owned = copy;
	return copy;
}

static void pf_host(struct pf_header *h)
{
	hs_platform_info_t p;

	memset(h->hs_version, 0, sizeof(h->hs_version));
	strncpy(h->hs_version, hs_version(), sizeof(h->hs_version) - 1);
	if (hs_populate_platform(&p) == HS_SUCCESS) {
		h->tune = p.tune;
		h->cpu_features = p.cpu_features;
	} else {
		h->tune = h->cpu_features = UINT64_MAX; /* never equal to a stored one */
	}
}

vg_status prefilter_serialize(const struct prefilter *pf, uint8_t **out, size_t *len)
{
	char *bytes[PF_MAX_SHARDS] = {NULL};
	size_t n[PF_MAX_SHARDS] = {0}, sz[PF_MAX_SHARDS] = {0};
	size_t total = pf_align(sizeof(struct pf_header));
	struct pf_header h;
	vg_status rc = VG_ENOMEM;
	uint8_t *copy = NULL;
	void *tmp = NULL;

	memset(&h, 0, sizeof(h));
	h.magic = PF_MAGIC;
	h.nshards = (uint32_t)pf->nshards;
	pf_host(&h);
	for (size_t g = 0; g < PF_GRAMS; g++) {
		if (!pf->glen[g])
			continue;
		if (pf->glen[g] > UINT32_MAX / 2 || total > UINT32_MAX / 2) {
			rc = VG_ELIMIT;
			goto out;
		}
		h.gram_off[g] = (uint32_t)total;
		h.gram_len[g] = (uint32_t)pf->glen[g];
		total = pf_align(total + pf->glen[g]);
	}
	for (size_t s = 0; s < pf->nshards; s++) {
		if (hs_serialize_database(pf->db[s], &bytes[s], &n[s]) != HS_SUCCESS ||
		    hs_serialized_database_size(bytes[s], n[s], &sz[s]) != HS_SUCCESS)
			goto out;
		if (sz[s] > UINT32_MAX / 2 || total > UINT32_MAX / 2) {
			rc = VG_ELIMIT;
			goto out;
		}
		h.off[s] = (uint32_t)total;
		h.len[s] = (uint32_t)sz[s];
		total = (total + sz[s] + PF_ALIGN - 1) / PF_ALIGN * PF_ALIGN;
	}
	copy = vg_calloc(1, total);
	if (!copy)
		goto out;
	memcpy(copy, &h, sizeof(h));
	for (size_t g = 0; g < PF_GRAMS; g++)
		if (pf->glen[g])
			memcpy(copy + h.gram_off[g], pf->gview[g], pf->glen[g]);
	for (size_t s = 0; s < pf->nshards; s++) {
		/* laid out at a 64-byte boundary, as it will lie in the image */
		if (posix_memalign(&tmp, PF_ALIGN, sz[s]) != 0) {
			tmp = NULL;
			goto out;
		}
		if (hs_deserialize_database_at(bytes[s], n[s], tmp) != HS_SUCCESS) {
			rc = VG_EINVAL;
			goto out;
		}
		memcpy(copy + h.off[s], tmp, sz[s]);
		free(tmp);
		tmp = NULL;
	}
	*out = copy;
	*len = total;
	copy = NULL;
	rc = VG_OK;
out:
	free(tmp);
	vg_free(copy);
	for (size_t s = 0; s < pf->nshards; s++)
		free(bytes[s]); /* Vectorscan allocates with the default allocator */
	return rc;
}

vg_status prefilter_open(const uint8_t *bytes, size_t len, size_t nlits, struct prefilter **out)
{
	struct prefilter *pf;
	struct pf_header h, host;
	size_t next, grams = 0;

	if (len < sizeof(h))
		return VG_EFORMAT;
	memcpy(&h, bytes, sizeof(h));
	memset(&host, 0, sizeof(host));
	pf_host(&host);
	if (host.cpu_features == UINT64_MAX)
		return VG_EFORMAT; /* this host's platform unknown: nothing to compare */
	for (size_t g = 0; g < PF_GRAMS; g++)
		grams += h.gram_len[g] != 0;
	if (h.magic != PF_MAGIC || h.nshards > PF_MAX_SHARDS ||
	    (h.nshards == 0 && grams == 0) != (nlits == 0))
		return VG_EFORMAT;
	/* compiled by another Vectorscan or for another CPU: rebuilt */
	if (memcmp(h.hs_version, host.hs_version, sizeof(h.hs_version)) != 0 ||
	    h.tune != host.tune || h.cpu_features != host.cpu_features)
		return VG_EFORMAT;
	pf = vg_calloc(1, sizeof(*pf));
	if (!pf)
		return VG_ENOMEM;
	pf->nlits = nlits;
	pf->inplace = true;
	/* the parts follow one another as prefilter_serialize lays them */
	next = pf_align(sizeof(h));
	for (size_t g = 0; g < PF_GRAMS; g++) {
		const uint8_t *at;
		if (!h.gram_len[g])
			continue;
		if (h.gram_off[g] != next || h.gram_off[g] > len || h.gram_len[g] > len - h.gram_off[g])
			goto bad;
		next = pf_align((size_t)h.gram_off[g] + h.gram_len[g]);
		at = pf_place(bytes + h.gram_off[g], h.gram_len[g], &pf->gblob[g]);
		if (!at)
			goto nomem;
		pf->gview[g] = at;
		pf->glen[g] = h.gram_len[g];
		if (gramidx_open(at, h.gram_len[g], nlits, &pf->gi[g]) != VG_OK)
			goto bad;
	}
	for (uint32_t s = 0; s < h.nshards; s++) {
		const uint8_t *at;
		size_t sz = 0;

		if (h.off[s] != next || h.off[s] > len || h.len[s] > len - h.off[s])
			goto bad;
		next = pf_align((size_t)h.off[s] + h.len[s]);
		at = pf_place(bytes + h.off[s], h.len[s], &pf->owned[s]);
		if (!at)
			goto nomem;
		pf->db[s] = (hs_database_t *)(uintptr_t)at;
		pf->nshards = s + 1;
		if (hs_database_size(pf->db[s], &sz) != HS_SUCCESS || sz != h.len[s])
			goto bad;
	}
	if ((h.nshards || grams) && next != len)
		goto bad;
	*out = pf;
	return VG_OK;
nomem:
	prefilter_free(pf);
	return VG_ENOMEM;
bad:
	prefilter_free(pf);
	return VG_EFORMAT;
}

size_t prefilter_memory(const struct prefilter *pf)
{
	size_t total = 0;

	for (size_t g = 0; pf && g < PF_GRAMS; g++)
		total += pf->glen[g];
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
	for (size_t g = 0; g < PF_GRAMS; g++)
		gramidx_stream_begin(&s->gs[g]);
	for (size_t i = 0; i < s->pf->nshards; i++)
		if (hs_reset_stream(s->stream[i], 0, s->scratch, NULL, NULL) != HS_SUCCESS)
			return VG_EINVAL;
	return VG_OK;
}

/* The gram index, then each shard, sees the whole chunk in turn: hits
 * arrive grouped by matcher, each group in offset order. */
vg_status prefilter_stream_scan(struct prefilter_stream *s, const uint8_t *data, size_t len,
				prefilter_hit_fn *cb, void *ctx)
{
	struct hit_relay r = {cb, ctx};

	for (size_t g = 0; g < PF_GRAMS; g++)
		if (s->pf->glen[g] && gramidx_stream_scan(&s->pf->gi[g], &s->gs[g], data, len, cb, ctx))
			return VG_ELIMIT;
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

	for (size_t g = 0; g < PF_GRAMS; g++)
		if (s->pf->glen[g] && gramidx_stream_end(&s->pf->gi[g], &s->gs[g], cb, ctx))
			return VG_ELIMIT;
	for (size_t i = 0; i < s->pf->nshards; i++) {
		hs_error_t e = hs_reset_stream(s->stream[i], 0, s->scratch, on_hs_match, &r);
		if (e == HS_SCAN_TERMINATED)
			return VG_ELIMIT;
		if (e != HS_SUCCESS)
			return VG_EINVAL;
	}
	return VG_OK;
}

uint64_t prefilter_stream_settled(const struct prefilter_stream *s)
{
	uint64_t settled = UINT64_MAX;

	for (size_t g = 0; g < PF_GRAMS; g++)
		if (s->pf->glen[g] && gramidx_stream_settled(&s->gs[g]) < settled)
			settled = gramidx_stream_settled(&s->gs[g]);
	return settled;
}
