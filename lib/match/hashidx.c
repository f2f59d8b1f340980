/* Hash index: sorted arrays searched in place (see match.h). Sorted arrays
 * beat a hash table here: compact, no pointers (so they live in a mapped
 * cache file), built once. */
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

static size_t rec_len(int alg)
{
	return (size_t)hash_len[alg] + 4;
}

static int cmp_key(const struct hash_entry *a, const struct hash_entry *b)
{
	if (a->alg != b->alg)
		return a->alg < b->alg ? -1 : 1;
	if (a->wild != b->wild)
		return a->wild < b->wild ? -1 : 1;
	if (!a->wild && a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return memcmp(a->digest, b->digest, hash_len[a->alg]);
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct hash_entry *a = pa, *b = pb;
	int c = cmp_key(a, b);

	if (c)
		return c;
	return a->value < b->value ? -1 : a->value > b->value;
}

vg_status hashidx_write(struct hash_entry *e, size_t n, struct image_writer *w,
			uint32_t section_base)
{
	size_t start = 0;
	vg_status rc = VG_OK;

	if (n)
		qsort(e, n, sizeof(*e), cmp_entry);
	for (int alg = 0; alg < HASH_NALGS && rc == VG_OK; alg++) {
		size_t end = start, nexact = 0, nwild = 0, nruns = 0, k;
		uint8_t *ent = NULL, *wild = NULL;
		struct size_run *runs = NULL;
		size_t rl = rec_len(alg);

		while (end < n && e[end].alg == alg)
			end++;
		/* count distinct keys; of equal ones the last (highest value) wins */
		for (size_t i = start; i < end; i++) {
			if (i + 1 < end && cmp_key(&e[i], &e[i + 1]) == 0)
				continue;
			if (e[i].wild) {
				nwild++;
			} else {
				if (nexact == 0 || e[i].size != e[i - 1].size || nruns == 0)
					nruns++;
				nexact++;
			}
		}
		/* nruns above may overcount when a duplicate sits between two
		 * equal sizes; size the array for the worst case */
		runs = vg_calloc(nexact + 1, sizeof(*runs));
		ent = vg_malloc(nexact * rl + 1);
		wild = vg_malloc(nwild * rl + 1);
		if (!runs || !ent || !wild) {
			rc = VG_ENOMEM;
			goto next;
		}
		nruns = 0;
		nexact = nwild = 0;
		for (size_t i = start; i < end; i++) {
			uint8_t *dst;
			if (i + 1 < end && cmp_key(&e[i], &e[i + 1]) == 0)
				continue;
			if (e[i].wild) {
				dst = wild + nwild++ * rl;
			} else {
				if (e[i].size > UINT32_MAX) {
					rc = VG_ELIMIT;
					goto next;
				}
				if (nruns == 0 || runs[nruns - 1].size != (uint32_t)e[i].size) {
					runs[nruns].size = (uint32_t)e[i].size;
					runs[nruns].first = (uint32_t)nexact;
					nruns++;
				}
				dst = ent + nexact++ * rl;
			}
			memcpy(dst, e[i].digest, hash_len[alg]);
			memcpy(dst + hash_len[alg], &e[i].value, 4);
		}
		runs[nruns].size = UINT32_MAX;
		runs[nruns].first = (uint32_t)nexact;
		k = section_base + (uint32_t)alg * 3;
		rc = image_add(w, (uint32_t)k, runs, (nruns + 1) * sizeof(*runs));
		if (rc == VG_OK)
			rc = image_add(w, (uint32_t)k + 1, ent, nexact * rl);
		if (rc == VG_OK)
			rc = image_add(w, (uint32_t)k + 2, wild, nwild * rl);
next:
		vg_free(runs);
		vg_free(ent);
		vg_free(wild);
		start = end;
	}
	return rc;
}

vg_status hashidx_open(const struct image *img, uint32_t section_base, struct hashidx *out)
{
	memset(out, 0, sizeof(*out));
	for (int alg = 0; alg < HASH_NALGS; alg++) {
		uint32_t k = section_base + (uint32_t)alg * 3;
		const void *p;
		size_t len, rl = rec_len(alg);

		if (!image_section(img, k, sizeof(struct size_run), &p, &len) || len == 0)
			return VG_EFORMAT;
		out->runs[alg] = p;
		out->nruns[alg] = len / sizeof(struct size_run) - 1;
		if (!image_section(img, k + 1, rl, &p, &len))
			return VG_EFORMAT;
		out->ent[alg] = p;
		out->nent[alg] = len / rl;
		if (!image_section(img, k + 2, rl, &p, &len))
			return VG_EFORMAT;
		out->wild[alg] = p;
		out->nwild[alg] = len / rl;
		/* the sentinel must close the entries, and every run start fit */
		if (out->runs[alg][out->nruns[alg]].first != out->nent[alg])
			return VG_EFORMAT;
		for (size_t i = 0; i < out->nruns[alg]; i++)
			if (out->runs[alg][i].first > out->runs[alg][i + 1].first)
				return VG_EFORMAT;
	}
	return VG_OK;
}

size_t hashidx_count(const struct hashidx *idx)
{
	size_t n = 0;

	for (int i = 0; i < HASH_NALGS; i++)
		n += idx->nent[i] + idx->nwild[i];
	return n;
}

/* Index of the run for size, or nruns when there is none. */
static size_t find_run(const struct hashidx *idx, int alg, uint64_t size)
{
	size_t lo = 0, hi = idx->nruns[alg];

	if (size > UINT32_MAX)
		return idx->nruns[alg];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (idx->runs[alg][mid].size < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < idx->nruns[alg] && idx->runs[alg][lo].size == size)
		return lo;
	return idx->nruns[alg];
}

unsigned hashidx_algs_for_size(const struct hashidx *idx, uint64_t size)
{
	unsigned mask = 0;

	for (int i = 0; i < HASH_NALGS; i++)
		if (idx->nwild[i] || find_run(idx, i, size) < idx->nruns[i])
			mask |= 1u << i;
	return mask;
}

static bool search(const uint8_t *recs, size_t lo, size_t hi, int alg, const uint8_t *digest,
		   uint32_t *value)
{
	size_t rl = rec_len(alg), dl = hash_len[alg];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(recs + mid * rl, digest, dl);
		if (c == 0) {
			memcpy(value, recs + mid * rl + dl, 4);
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

size_t hashidx_lookup(const struct hashidx *idx, enum hash_alg alg, uint64_t size,
		      const uint8_t *digest, uint32_t out[2])
{
	size_t n = 0, r;

	if (alg >= HASH_NALGS)
		return 0;
	r = find_run(idx, alg, size);
	if (r < idx->nruns[alg] &&
	    search(idx->ent[alg], idx->runs[alg][r].first, idx->runs[alg][r + 1].first, alg, digest,
		   &out[n]))
		n++;
	if (idx->nwild[alg] && search(idx->wild[alg], 0, idx->nwild[alg], alg, digest, &out[n]))
		n++;
	return n;
}
