/* Hash index: one sorted array searched by (algorithm, wildcard, size, digest).
 * A sorted array beats a hash table here: it is compact, needs no pointers
 * (so it can live in a mapped cache file) and is built once. */
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

struct hashidx {
	struct hash_entry *e;
	size_t n;
	uint64_t *sizes[HASH_NALGS]; /* sorted distinct sizes of exact entries */
	size_t nsizes[HASH_NALGS];
	bool wild[HASH_NALGS];
};

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

void hashidx_free(struct hashidx *idx)
{
	if (!idx)
		return;
	for (int i = 0; i < HASH_NALGS; i++)
		vg_free(idx->sizes[i]);
	vg_free(idx->e);
	vg_free(idx);
}

vg_status hashidx_build(struct hash_entry *entries, size_t n, struct hashidx **out)
{
	struct hashidx *idx = vg_calloc(1, sizeof(*idx));
	size_t w = 0;

	if (!idx) {
		vg_free(entries);
		return VG_ENOMEM;
	}
	if (n)
		qsort(entries, n, sizeof(*entries), cmp_entry);
	/* Of equal entries ClamAV reports the one loaded last. */
	for (size_t i = 0; i < n; i++) {
		if (w && cmp_key(&entries[w - 1], &entries[i]) == 0) {
			entries[w - 1] = entries[i];
			continue;
		}
		entries[w++] = entries[i];
	}
	idx->e = entries;
	idx->n = w;
	for (size_t i = 0; i < w; i++) {
		struct hash_entry *h = &entries[i];
		if (h->wild) {
			idx->wild[h->alg] = true;
			continue;
		}
		size_t k = idx->nsizes[h->alg];
		if (k && idx->sizes[h->alg][k - 1] == h->size)
			continue;
		/* grow by doubling at powers of two */
		if ((k & (k - 1)) == 0) {
			uint64_t *p = vg_reallocarray(idx->sizes[h->alg], k ? 2 * k : 1, sizeof(uint64_t));
			if (!p) {
				hashidx_free(idx);
				return VG_ENOMEM;
			}
			idx->sizes[h->alg] = p;
		}
		idx->sizes[h->alg][k] = h->size;
		idx->nsizes[h->alg] = k + 1;
	}
	*out = idx;
	return VG_OK;
}

size_t hashidx_count(const struct hashidx *idx)
{
	return idx ? idx->n : 0;
}

static bool has_size(const struct hashidx *idx, int alg, uint64_t size)
{
	size_t lo = 0, hi = idx->nsizes[alg];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (idx->sizes[alg][mid] < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < idx->nsizes[alg] && idx->sizes[alg][lo] == size;
}

unsigned hashidx_algs_for_size(const struct hashidx *idx, uint64_t size)
{
	unsigned mask = 0;

	if (!idx)
		return 0;
	for (int i = 0; i < HASH_NALGS; i++)
		if (idx->wild[i] || has_size(idx, i, size))
			mask |= 1u << i;
	return mask;
}

static const struct hash_entry *find(const struct hashidx *idx, const struct hash_entry *key)
{
	size_t lo = 0, hi = idx->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_key(&idx->e[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < idx->n && cmp_key(&idx->e[lo], key) == 0)
		return &idx->e[lo];
	return NULL;
}

size_t hashidx_lookup(const struct hashidx *idx, enum hash_alg alg, uint64_t size,
		      const uint8_t *digest, uint32_t out[2])
{
	struct hash_entry key;
	const struct hash_entry *hit;
	size_t n = 0;

	if (!idx || alg >= HASH_NALGS)
		return 0;
	memset(&key, 0, sizeof(key));
	key.alg = (uint8_t)alg;
	key.size = size;
	memcpy(key.digest, digest, hash_len[alg]);
	if (has_size(idx, alg, size) && (hit = find(idx, &key)))
		out[n++] = hit->value;
	if (idx->wild[alg]) {
		key.wild = 1;
		if ((hit = find(idx, &key)))
			out[n++] = hit->value;
	}
	return n;
}
