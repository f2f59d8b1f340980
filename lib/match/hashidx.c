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

static int cmp_entry(const struct hash_entry *a, const struct hash_entry *b)
{
	int c = cmp_key(a, b);

	if (c)
		return c;
	return a->value < b->value ? -1 : a->value > b->value;
}

/* Sort order of an entry in 64 bits: algorithm, wildcard, size, then the
 * first digest bits. Entries with equal keys are ordered by cmp_entry. */
struct sort_key {
	uint64_t key;
	uint32_t idx;
};

static uint64_t key_of(const struct hash_entry *e)
{
	uint64_t d = (uint64_t)e->digest[0] << 21 | (uint64_t)e->digest[1] << 13 |
		     (uint64_t)e->digest[2] << 5 | (uint64_t)e->digest[3] >> 3;
	uint64_t size = e->wild ? 0 : (e->size > UINT32_MAX ? UINT32_MAX : e->size);

	return (uint64_t)e->alg << 62 | (uint64_t)e->wild << 61 | size << 29 | d;
}

static int cmp_tie(const void *pa, const void *pb, void *base)
{
	const struct sort_key *a = pa, *b = pb;
	const struct hash_entry *e = base;
	return cmp_entry(&e[a->idx], &e[b->idx]);
}

/* An LSD radix sort of the 64-bit keys (millions of hash lines sort in a
 * fraction of what qsort with a comparator takes), then the rare runs of
 * equal keys by the full comparison. */
static vg_status sort_entries(const struct hash_entry *e, size_t n, struct sort_key **out)
{
	struct sort_key *a = vg_reallocarray(NULL, n + 1, sizeof(*a));
	struct sort_key *b = vg_reallocarray(NULL, n + 1, sizeof(*b));
	size_t count[256];

	if (!a || !b) {
		vg_free(a);
		vg_free(b);
		return VG_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		a[i].key = key_of(&e[i]);
		a[i].idx = (uint32_t)i;
	}
	for (unsigned shift = 0; shift < 64; shift += 8) {
		size_t sum = 0;
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(a[i].key >> shift) & 0xff]++;
		if (count[(a[0].key >> shift) & 0xff] == n)
			continue; /* this byte is the same everywhere */
		for (int k = 0; k < 256; k++) {
			size_t c = count[k];
			count[k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			b[count[(a[i].key >> shift) & 0xff]++] = a[i];
		{
			struct sort_key *t = a;
			a = b;
			b = t;
		}
	}
	vg_free(b);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && a[j].key == a[i].key)
			j++;
		if (j - i > 1)
			qsort_r(a + i, j - i, sizeof(*a), cmp_tie, (void *)e);
		i = j;
	}
	*out = a;
	return VG_OK;
}

vg_status hashidx_write(struct hash_entry *e, size_t n, struct image_writer *w,
			uint32_t section_base)
{
	struct sort_key *order = NULL;
	uint8_t *keep = NULL;
	size_t start = 0;
	vg_status rc;

	if (n > UINT32_MAX)
		return VG_ELIMIT;
	rc = sort_entries(e, n, &order);
	if (rc != VG_OK)
		return rc;
	keep = vg_malloc(n + 1);
	if (!keep) {
		rc = VG_ENOMEM;
		goto out;
	}
#define AT(i) (&e[order[(i)].idx])
	for (int alg = 0; alg < HASH_NALGS && rc == VG_OK; alg++) {
		size_t end = start, nexact = 0, nwild = 0, nruns = 0, k = 0, x = 0, y = 0;
		uint64_t last_size = UINT64_MAX;
		uint32_t sec = section_base + (uint32_t)alg * 3;
		size_t rl = rec_len(alg), first = w->nsections;
		struct size_run *runs;
		uint8_t *ent, *wild;

		while (end < n && AT(end)->alg == alg)
			end++;
		/* one pass to decide and count: of equal keys the last (highest
		 * value) wins, and each distinct size opens a run */
		for (size_t i = start; i < end; i++) {
			const struct hash_entry *h = AT(i), *nx = i + 1 < end ? AT(i + 1) : NULL;
			keep[i] = !(nx && cmp_key(h, nx) == 0);
			if (!keep[i])
				continue;
			if (h->wild) {
				nwild++;
				continue;
			}
			if (h->size > UINT32_MAX) {
				rc = VG_ELIMIT;
				goto out;
			}
			if (h->size != last_size)
				nruns++;
			last_size = h->size;
			nexact++;
		}
		rc = image_reserve(w, sec, (nruns + 1) * sizeof(*runs), (void **)&runs);
		if (rc == VG_OK)
			rc = image_reserve(w, sec + 1, nexact * rl, (void **)&ent);
		if (rc == VG_OK)
			rc = image_reserve(w, sec + 2, nwild * rl, (void **)&wild);
		if (rc != VG_OK)
			goto out;
		/* reserving may have moved the buffer: point again by offset */
		runs = (struct size_run *)(void *)(w->data.data + w->offs[first]);
		ent = w->data.data + w->offs[first + 1];
		wild = w->data.data + w->offs[first + 2];
		/* one pass to fill */
		last_size = UINT64_MAX;
		for (size_t i = start; i < end; i++) {
			const struct hash_entry *h = AT(i);
			uint8_t *dst;
			if (!keep[i])
				continue;
			if (h->wild) {
				dst = wild + y++ * rl;
			} else {
				if (h->size != last_size) {
					runs[k].size = (uint32_t)h->size;
					runs[k].first = (uint32_t)x;
					k++;
				}
				last_size = h->size;
				dst = ent + x++ * rl;
			}
			memcpy(dst, h->digest, hash_len[alg]);
			memcpy(dst + hash_len[alg], &h->value, 4);
		}
		runs[k].size = UINT32_MAX;
		runs[k].first = (uint32_t)x;
		start = end;
	}
#undef AT
out:
	vg_free(keep);
	vg_free(order);
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
