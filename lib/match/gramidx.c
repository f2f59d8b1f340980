/* The gram index: the prefilter's matcher for plain literals of 9 to 32
 * bytes (and a few of 8), which is nearly every anchor of a ClamAV-style
 * database.
 *
 * Each literal is keyed by two consecutive 8-byte windows of itself, its
 * grams, so that one of them ends on every other offset, the only ones
 * examined: the pair fewest literals of the set share (a window common
 * among signatures drawn from real code is common in real files too). At
 * every examined offset the 8 bytes ending there are hashed into a Bloom
 * filter with about 32 bits per gram; when it answers yes, an
 * open-addressing table holds the grams (with up to 4 bytes of the literal
 * just before the gram, checked first), and a literal whose gram and check
 * bytes agree is confirmed by comparing all its bytes. Building it is a
 * count and a sort (0.35 s for 225,000 literals, where Vectorscan's
 * compiler takes seconds); the filter is probed eight offsets at a time
 * with AVX-512 where the CPU has it (BENCHMARKS.md §3).
 *
 * Streaming: a literal may extend up to 24 bytes past its gram, so the last
 * 24 gram positions of each chunk are examined with the next chunk (or at
 * the end of the stream); gramidx_stream_settled() says up to where every
 * literal has been reported. Hits of one literal arrive in end order.
 *
 * Stored as one blob, 64-byte aligned, used in place when mapped:
 *   struct gram_head, then the bitmap (u64 words), the slots (struct
 *   gram_slot, a power of two of them, at most half full, linear probing),
 *   the literals (struct gram_lit) and their bytes. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

#define GRAM 8u
#define AFTER (GRAMIDX_MAX_LEN - GRAM)  /* bytes a literal may have after its gram */
#define BEFORE (GRAMIDX_MAX_LEN - GRAM) /* and before it */
#define GRAM_MAGIC 0x36726776u          /* "vgr6" */
#define MUL_BIT 0x9e3779b97f4a7c15ull
#define MUL_BUCKET 0xc2b2ae3d27d4eb4full

struct gram_head {
	uint32_t magic;
	uint32_t bits_log2;  /* bitmap of 2^bits_log2 bits */
	uint32_t slots_log2; /* 2^slots_log2 slots */
	uint32_t nents;      /* grams */
	uint32_t step;       /* grams examined at stream offsets that are multiples */
	uint32_t nlits;
	uint64_t nbytes;     /* literal bytes */
	uint64_t off_bitmap, off_slots, off_lits, off_bytes, total;
};

/* A gram of a literal. li_at is (index into the literals + 1) << 5 | where
 * the gram starts in the literal; 0: an empty slot. check holds the literal's
 * bytes just before the gram (as many of the 4 as it has, in the high
 * bytes), compared before the literal itself. */
struct gram_slot {
	uint64_t key; /* the gram, loaded little-endian */
	uint32_t check;
	uint32_t li_at;
};

struct gram_lit {
	uint32_t lit;  /* global literal id */
	uint32_t boff; /* its bytes */
	uint32_t len;  /* GRAM .. GRAMIDX_MAX_LEN */
};

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t ceil_log2(uint64_t v)
{
	uint32_t b = 0;
	while ((1ull << b) < v)
		b++;
	return b;
}

/* The bitmap is a blocked Bloom filter: a gram sets one bit in each byte
 * of one 64-bit word, so a position costs one memory access. With about
 * two grams per word, eight bits, one per byte, answer yes by chance far
 * less often than three bits anywhere in the word (the earlier layout: on
 * the benchmark's large binaries, filter passes fell from 2.36 M to 0.92 M,
 * about 0.8 M of them true gram hits), and the vector scan builds the mask
 * in two instructions. The
 * word comes from the top bits of key * MUL_BIT, the bits from bits 40..63
 * of key * MUL_MASK: three bits per byte, byte j from bits 40 + 3j. */
#define MUL_MASK 0xd6e8feb86659fd93ull
#define MASK_SHIFT 40u

static uint32_t mask_lut[4096]; /* 12 bits: the bits of four bytes */
static pthread_once_t mask_once = PTHREAD_ONCE_INIT;

static void mask_lut_init(void)
{
	for (uint32_t v = 0; v < 4096; v++) {
		uint32_t m = 0;
		for (unsigned j = 0; j < 4; j++)
			m |= 1u << (8 * j + ((v >> (3 * j)) & 7u));
		mask_lut[v] = m;
	}
}

static inline uint64_t gram_mask(uint64_t key)
{
	uint64_t v = (key * MUL_MASK) >> MASK_SHIFT;
	return mask_lut[v & 0xfff] | (uint64_t)mask_lut[v >> 12] << 32;
}

static inline size_t gram_word(uint64_t key, unsigned word_bits)
{
	return (size_t)((key * MUL_BIT) >> (64 - word_bits));
}

static size_t align64(size_t v)
{
	return (v + 63u) / 64u * 64u;
}

bool gramidx_accepts(const struct literal *l, unsigned step)
{
	return !l->nocase && l->len >= GRAM + step - 1 && l->len <= GRAMIDX_MAX_LEN;
}

bool gramidx_accepts_short(const struct literal *l, unsigned step)
{
	return !l->nocase && step >= 2 && l->len == GRAM + step - 2;
}

/* A short literal (GRAM + step - 2 bytes) has step - 1 windows, one short
 * of an examined offset for every place it may lie. The missing one is the
 * window starting a byte before it: the index holds the literal preceded
 * by each of the 256 byte values, as literals of their own with the same
 * id and end, keyed by their first window only. An occurrence is reported
 * once: through the literal's own windows when one of them ends on an
 * examined offset, otherwise through the variant whose first window does. */
#define SHORT_VARIANTS 256u

static bool is_short(const struct literal *l, unsigned step)
{
	return l->len < GRAM + step - 1;
}

/* ---- choosing each literal's gram: count every window of every literal,
 * approximately: counters indexed by a hash of the window, no keys (two
 * windows sharing a counter only make both look a little more common, and
 * the table stays small enough for the caches: a keyed table made this the
 * slowest step of a cold compile, 0.9 s for 225,000 literals). */

static size_t count_index(uint64_t key, unsigned bits)
{
	return (size_t)((key * MUL_BUCKET) >> (64 - bits));
}

/* A window of filler (one byte repeated, zeros) is common in any file
 * whatever the literal set says: scored as if shared by many literals. */
static uint64_t window_cost(const uint16_t *counts, unsigned bits, const uint8_t *w)
{
	uint64_t cost = counts[count_index(load64(w), bits)];
	unsigned distinct = 0, zeros = 0;
	uint8_t seen[GRAM];

	for (unsigned i = 0; i < GRAM; i++) {
		unsigned j = 0;
		while (j < distinct && seen[j] != w[i])
			j++;
		if (j == distinct)
			seen[distinct++] = w[i];
		zeros += w[i] == 0x00 || w[i] == 0xff;
	}
	return cost * 64 + (GRAM - distinct) * 4 + zeros;
}

static vg_status choose_grams(const struct literal *lits, const unsigned *sel, size_t n,
			      unsigned step, uint32_t *at)
{
	uint64_t windows = 0;
	uint16_t *counts;
	unsigned bits;

	for (size_t i = 0; i < n; i++)
		windows += lits[sel[i]].len - GRAM + 1;
	bits = ceil_log2(windows * 2 + 16);
	counts = vg_calloc((size_t)1 << bits, sizeof(uint16_t));
	if (!counts)
		return VG_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct literal *l = &lits[sel[i]];
		for (uint32_t k = 0; k + GRAM <= l->len; k++) {
			uint16_t *c = &counts[count_index(load64(l->bytes + k), bits)];
			if (*c < UINT16_MAX)
				(*c)++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct literal *l = &lits[sel[i]];
		uint64_t cost[GRAMIDX_MAX_LEN - GRAM + 1], best = UINT64_MAX;

		for (uint32_t k = 0; k + GRAM <= l->len; k++)
			cost[k] = window_cost(counts, bits, l->bytes + k);
		/* step consecutive windows, one of which an occurrence puts at an
		 * examined offset; ties go to the last: hits are confirmed soonest */
		for (uint32_t k = 0; k + GRAM + step - 1 <= l->len; k++) {
			uint64_t c = 0;
			for (uint32_t j = 0; j < step; j++)
				c += cost[k + j];
			if (c <= best) {
				best = c;
				at[i] = k;
			}
		}
	}
	vg_free(counts);
	return VG_OK;
}

/* ---- building and opening ---- */

/* The check word of a gram at `at` of literal bytes b: the bytes before
 * it, the nearest in the high byte; mask: which bytes exist. */
static uint32_t check_of(const uint8_t *b, uint32_t at)
{
	uint32_t v = 0;

	for (uint32_t k = 1; k <= 4 && k <= at; k++)
		v |= (uint32_t)b[at - k] << (8 * (4 - k));
	return v;
}

/* Gram `a` of the literal bytes b, entry li of the literals. */
static void put_gram(const struct gram_head *h, uint64_t *bitmap, struct gram_slot *slots,
		     uint64_t smask, const uint8_t *b, uint32_t a, size_t li)
{
	uint64_t key = load64(b + a);
	uint64_t k = (key * MUL_BUCKET) >> (64 - h->slots_log2);

	while (slots[k].li_at != 0)
		k = (k + 1) & smask;
	slots[k].key = key;
	slots[k].check = check_of(b, a);
	slots[k].li_at = (uint32_t)(li + 1) << 5 | a;
	bitmap[gram_word(key, h->bits_log2 - 6)] |= gram_mask(key);
}

vg_status gramidx_build(const struct literal *lits, const unsigned *sel, size_t n, unsigned step,
			uint8_t **out, size_t *out_len)
{
	struct gram_head h;
	uint32_t *at = NULL;
	uint8_t *blob;
	uint64_t *bitmap;
	struct gram_slot *slots;
	struct gram_lit *glits;
	uint8_t *bytes;
	uint64_t nbytes = 0, smask;
	size_t ns, ne = 0, nl = n, li, nshort = 0;
	void *mem;
	vg_status rc;

	if (n >= (1u << 26) || step < 1 || step > GRAMIDX_MAX_STEP)
		return VG_ELIMIT;
	for (size_t i = 0; i < n; i++) {
		const struct literal *l = &lits[sel[i]];
		if (!gramidx_accepts(l, step) && !gramidx_accepts_short(l, step))
			return VG_EINVAL;
		if (is_short(l, step)) {
			if (++nshort > GRAMIDX_MAX_SHORT)
				return VG_ELIMIT;
			ne += step - 1 + SHORT_VARIANTS;
			nl += SHORT_VARIANTS;
			nbytes += (uint64_t)SHORT_VARIANTS * (l->len + 1u);
		} else {
			ne += step;
		}
		nbytes += l->len;
	}
	memset(&h, 0, sizeof(h));
	h.magic = GRAM_MAGIC;
	h.nents = (uint32_t)ne;
	h.step = step;
	h.bits_log2 = ceil_log2((uint64_t)ne * 32u);
	if (h.bits_log2 < 12)
		h.bits_log2 = 12;
	h.slots_log2 = ceil_log2(ne * 2);
	if (h.slots_log2 < 4)
		h.slots_log2 = 4;
	h.nlits = (uint32_t)nl;
	if (nbytes >= UINT32_MAX)
		return VG_ELIMIT;
	h.nbytes = nbytes;
	ns = (size_t)1 << h.slots_log2;
	smask = ns - 1;
	h.off_bitmap = align64(sizeof(h));
	h.off_slots = align64(h.off_bitmap + ((size_t)1 << h.bits_log2) / 8u);
	h.off_lits = align64(h.off_slots + ns * sizeof(struct gram_slot));
	h.off_bytes = align64(h.off_lits + nl * sizeof(struct gram_lit));
	h.total = align64(h.off_bytes + nbytes + 1);

	pthread_once(&mask_once, mask_lut_init);
	at = vg_calloc(n ? n : 1, sizeof(*at));
	if (!at) {
		rc = VG_ENOMEM;
		goto out;
	}
	rc = choose_grams(lits, sel, n, step, at);
	if (rc != VG_OK)
		goto out;
	if (posix_memalign(&mem, 64, h.total) != 0) {
		rc = VG_ENOMEM;
		goto out;
	}
	blob = mem;
	memset(blob, 0, h.total);
	memcpy(blob, &h, sizeof(h));
	bitmap = (uint64_t *)(void *)(blob + h.off_bitmap);
	slots = (struct gram_slot *)(void *)(blob + h.off_slots);
	glits = (struct gram_lit *)(void *)(blob + h.off_lits);
	bytes = blob + h.off_bytes;
	nbytes = 0;
	li = 0;
	for (size_t i = 0; i < n; i++) {
		const struct literal *l = &lits[sel[i]];
		uint32_t nw = is_short(l, step) ? step - 1 : step;

		glits[li].lit = sel[i];
		glits[li].boff = (uint32_t)nbytes;
		glits[li].len = l->len;
		memcpy(bytes + nbytes, l->bytes, l->len);
		nbytes += l->len;
		/* A literal's equal windows (a periodic literal) go in last
		 * window first: at one offset, the occurrence that starts first
		 * is reported first (linear probing keeps insertion order). */
		for (uint32_t j = nw; j-- > 0;)
			put_gram(&h, bitmap, slots, smask, l->bytes, at[i] + j, li);
		li++;
		if (nw == step)
			continue;
		for (uint32_t x = 0; x < SHORT_VARIANTS; x++, li++) {
			glits[li].lit = sel[i];
			glits[li].boff = (uint32_t)nbytes;
			glits[li].len = l->len + 1;
			bytes[nbytes] = (uint8_t)x;
			memcpy(bytes + nbytes + 1, l->bytes, l->len);
			put_gram(&h, bitmap, slots, smask, bytes + nbytes, 0, li);
			nbytes += l->len + 1;
		}
	}
	*out = blob;
	*out_len = (size_t)h.total;
	rc = VG_OK;
out:
	vg_free(at);
	return rc;
}

vg_status gramidx_open(const uint8_t *blob, size_t len, size_t nlits, struct gramidx *g)
{
	struct gram_head h;

	memset(g, 0, sizeof(*g));
	pthread_once(&mask_once, mask_lut_init);
	if (len < sizeof(h) || (uintptr_t)blob % 64)
		return VG_EFORMAT;
	memcpy(&h, blob, sizeof(h));
	if (h.magic != GRAM_MAGIC || h.step < 1 || h.step > GRAMIDX_MAX_STEP ||
	    h.bits_log2 < 12 || h.bits_log2 > 40 || h.slots_log2 < 4 || h.slots_log2 > 31 ||
	    h.nlits >= (1u << 27) || h.total != len || h.nbytes >= UINT32_MAX)
		return VG_EFORMAT;
	if (h.off_bitmap != align64(sizeof(h)) ||
	    h.off_slots != align64(h.off_bitmap + ((size_t)1 << h.bits_log2) / 8u) ||
	    h.off_lits != align64(h.off_slots + ((size_t)1 << h.slots_log2) * sizeof(struct gram_slot)) ||
	    h.off_bytes != align64(h.off_lits + (size_t)h.nlits * sizeof(struct gram_lit)) ||
	    h.total != align64(h.off_bytes + h.nbytes + 1))
		return VG_EFORMAT;
	g->word_bits = h.bits_log2 - 6;
	g->slot_shift = 64u - h.slots_log2;
	g->slot_mask = ((size_t)1 << h.slots_log2) - 1;
	g->bitmap = (const uint64_t *)(const void *)(blob + h.off_bitmap);
	g->slots = (const struct gram_slot *)(const void *)(blob + h.off_slots);
	g->lits = (const struct gram_lit *)(const void *)(blob + h.off_lits);
	g->bytes = blob + h.off_bytes;
	g->nbytes = h.nbytes;
	g->nlits = h.nlits;
	g->nall = nlits;
	g->nents = h.nents;
	g->step = h.step;
	/* Slots and literals are checked where the scan uses them (rarely:
	 * after the filter), so opening touches no more than the header. */
	return VG_OK;
}

/* ---- scanning ---- */

static int simd_forced = -1;

void gramidx_simd_force(int level)
{
	__atomic_store_n(&simd_forced, level, __ATOMIC_RELAXED);
}

static unsigned simd_detected;
static pthread_once_t simd_once = PTHREAD_ONCE_INIT;

/* VIGIL_NO_SIMD set (to anything): the portable loop, to compare. */
static void simd_detect(void)
{
	simd_detected = GRAMIDX_SIMD_NONE;
#if GRAMIDX_SIMD
	__builtin_cpu_init();
	if (getenv("VIGIL_NO_SIMD") == NULL && __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vbmi"))
		simd_detected = GRAMIDX_SIMD_AVX512;
#endif
}

unsigned gramidx_simd_level(void)
{
	int forced = __atomic_load_n(&simd_forced, __ATOMIC_RELAXED);

	pthread_once(&simd_once, simd_detect);
	if (forced >= 0 && (unsigned)forced < simd_detected)
		return (unsigned)forced;
	return simd_detected;
}

/* The bitmap word of the gram GRAM_AHEAD examined offsets ahead is
 * prefetched: the bitmap (2 MB for 225,000 literals) misses the caches at
 * almost every probe, and waiting for each miss in turn made the loop
 * memory-latency bound (8 ahead: 12% faster on the large binaries, 16: 14%,
 * 32: 11%). */
#define GRAM_AHEAD 16

/* The filter said yes at gram end e: the literals whose gram this is. */
static int lookup_end(const struct gramidx *g, const uint8_t *buf, size_t lo, size_t hi, size_t e,
		      uint64_t base, prefilter_hit_fn *cb, void *ctx)
{
	uint64_t key = load64(buf + e - GRAM);
	/* at most every slot once: a damaged table may have no empty one */
	size_t k = (key * MUL_BUCKET) >> g->slot_shift;

	for (size_t probes = 0; probes <= g->slot_mask && g->slots[k].li_at != 0;
	     probes++, k = (k + 1) & g->slot_mask) {
		const struct gram_slot *sl = &g->slots[k];
		uint32_t at = sl->li_at & 31u, li = sl->li_at >> 5, c;
		const struct gram_lit *gl;
		size_t start;

		if (sl->key != key)
			continue;
		if (e - GRAM - lo < at)
			continue; /* would start before the data */
		start = e - GRAM - at;
		/* the check bytes lie within the literal, so within buf */
		c = check_of(buf + start, at);
		if (c != sl->check || li - 1u >= g->nlits) /* li 0: a damaged slot */
			continue;
		gl = &g->lits[li - 1];
		if (gl->len < GRAM || gl->len > GRAMIDX_MAX_LEN || at > gl->len - GRAM ||
		    gl->boff + (uint64_t)gl->len > g->nbytes || gl->lit >= g->nall)
			continue; /* a damaged index: never read out of bounds */
		if (hi - start < gl->len)
			continue; /* would end after the data */
		if (memcmp(g->bytes + gl->boff, buf + start, gl->len) == 0 &&
		    cb(ctx, gl->lit, base + start + gl->len))
			return 1;
	}
	return 0;
}

/* Gram ends e in [from, to), one every step bytes (from is already on the
 * stream's step grid), one at a time. */
static int scan_ends_scalar(const struct gramidx *g, const uint8_t *buf, size_t lo, size_t hi,
			    size_t from, size_t to, uint64_t base, prefilter_hit_fn *cb, void *ctx)
{
	const uint64_t *bitmap = g->bitmap;
	const unsigned wb = g->word_bits, step = g->step;
	const size_t ahead = (size_t)GRAM_AHEAD * step;

	for (size_t e = from; e < to; e += step) {
		uint64_t key = load64(buf + e - GRAM), m = gram_mask(key);

		if (e + ahead < to)
			__builtin_prefetch(&bitmap[gram_word(load64(buf + e + ahead - GRAM), wb)]);
		if (__builtin_expect((bitmap[gram_word(key, wb)] & m) != m, 1))
			continue;
		if (lookup_end(g, buf, lo, hi, e, base, cb, ctx))
			return 1;
	}
	return 0;
}

#if GRAMIDX_SIMD
#include <immintrin.h>

/* Step 2, eight gram ends at a time with AVX-512 (F, DQ, BW, VBMI): the eight
 * windows permuted out of 32 loaded bytes, hashed with 64-bit multiplies,
 * their bitmap words gathered, their masks made by a multishift and a byte
 * permute, and all eight tested at once. Same words and bits as the scalar
 * loop. Ends that pass are queued with their slot prefetched and looked up
 * PEND_DIST bytes later, in order: the slot table is far larger than the
 * caches, and waiting for each miss in turn cost a tenth of the scan. */
#define PEND_MAX 32
#define PEND_DIST 512

/* Gram ends whose filter word passed, waiting for their lookup, in order. */
struct pend {
	size_t e[PEND_MAX];
	size_t head, n;
};

/* Looks up the queued ends up to `until` (all: SIZE_MAX), oldest first. */
static int pend_drain(struct pend *p, size_t until, const struct gramidx *g, const uint8_t *buf,
		      size_t lo, size_t hi, uint64_t base, prefilter_hit_fn *cb, void *ctx)
{
	while (p->n && p->e[p->head] <= until) {
		size_t e = p->e[p->head];
		p->head = (p->head + 1) % PEND_MAX;
		p->n--;
		if (lookup_end(g, buf, lo, hi, e, base, cb, ctx))
			return 1;
	}
	return 0;
}

__attribute__((target("avx512f,avx512dq,avx512bw,avx512vbmi"))) static int
scan_ends_avx512(const struct gramidx *g, const uint8_t *buf, size_t lo, size_t hi, size_t from,
		 size_t to, uint64_t base, prefilter_hit_fn *cb, void *ctx)
{
	const unsigned wb = g->word_bits;
	const __m512i mul_w = _mm512_set1_epi64((long long)MUL_BIT);
	const __m512i mul_m = _mm512_set1_epi64((long long)MUL_MASK);
	/* qword i, byte j: buffer byte 2i + j */
	const __m512i win = _mm512_set_epi8(21, 20, 19, 18, 17, 16, 15, 14, 19, 18, 17, 16, 15, 14,
					    13, 12, 17, 16, 15, 14, 13, 12, 11, 10, 15, 14, 13, 12,
					    11, 10, 9, 8, 13, 12, 11, 10, 9, 8, 7, 6, 11, 10, 9, 8,
					    7, 6, 5, 4, 9, 8, 7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1, 0);
	/* byte j of each qword: 8 bits from bit MASK_SHIFT + 3j on */
	const __m512i fields = _mm512_set1_epi64(0x3d3a3734312e2b28ll);
	/* byte value v: the bit v & 7 */
	const __m512i bit = _mm512_set1_epi64(0x8040201008040201ll);
	const __m128i c_word = _mm_cvtsi32_si128((int)(64 - wb));
	struct pend p = {.head = 0, .n = 0};
	size_t e = from;

	/* a block reads buf[e - 8, e + 24) and examines e, e + 2, ..., e + 14 */
	for (; e + 14 < to && e + 24 <= hi; e += 16) {
		__m512i q = _mm512_zextsi256_si512(_mm256_loadu_si256((const void *)(buf + e - GRAM)));
		__m512i w = _mm512_permutexvar_epi8(win, q);
		__m512i widx = _mm512_srl_epi64(_mm512_mullo_epi64(w, mul_w), c_word);
		__m512i words = _mm512_i64gather_epi64(widx, g->bitmap, 8);
		__m512i m = _mm512_permutexvar_epi8(
			_mm512_multishift_epi64_epi8(fields, _mm512_mullo_epi64(w, mul_m)), bit);
		__m512i missing = _mm512_andnot_si512(words, m);
		__mmask8 pass = _mm512_testn_epi64_mask(missing, missing);

		if (__builtin_expect(pass != 0, 0)) {
			uint64_t keys[8];
			_mm512_storeu_si512(keys, w);
			do {
				unsigned i = (unsigned)__builtin_ctz(pass);
				pass &= (__mmask8)(pass - 1);
				if (p.n == PEND_MAX &&
				    pend_drain(&p, p.e[p.head], g, buf, lo, hi, base, cb, ctx))
					return 1;
				__builtin_prefetch(&g->slots[(keys[i] * MUL_BUCKET) >> g->slot_shift]);
				p.e[(p.head + p.n++) % PEND_MAX] = e + 2 * i;
			} while (pass);
		}
		if (e >= PEND_DIST && pend_drain(&p, e - PEND_DIST, g, buf, lo, hi, base, cb, ctx))
			return 1;
	}
	if (pend_drain(&p, SIZE_MAX, g, buf, lo, hi, base, cb, ctx))
		return 1;
	return scan_ends_scalar(g, buf, lo, hi, e, to, base, cb, ctx);
}
#endif

/* Gram ends e in [from, to) of buf. Every literal whose gram ends there
 * lies within [lo, hi) of buf if it lies within the data at all: lo is 0
 * or at most from - 1 - BEFORE - GRAM + 1, hi the end of the data seen so
 * far or at least to - 1 + AFTER. base is the stream offset of buf[0]. */
static int scan_ends(const struct gramidx *g, const uint8_t *buf, size_t lo, size_t hi,
		     size_t from, size_t to, uint64_t base, prefilter_hit_fn *cb, void *ctx)
{
	const unsigned step = g->step;

	if (from < lo + GRAM)
		from = lo + GRAM;
	/* only gram ends at stream offsets that are multiples of step */
	if (step > 1 && (base + from) % step)
		from += step - (size_t)((base + from) % step);
#if GRAMIDX_SIMD
	if (step == 2 && gramidx_simd_level() >= GRAMIDX_SIMD_AVX512)
		return scan_ends_avx512(g, buf, lo, hi, from, to, base, cb, ctx);
#endif
	return scan_ends_scalar(g, buf, lo, hi, from, to, base, cb, ctx);
}

void gramidx_stream_begin(struct gramidx_stream *s)
{
	memset(s, 0, sizeof(*s));
}

/* The carry holds the stream's bytes [pos - clen, pos): from BEFORE + GRAM
 * bytes before the first gram end not yet examined (or the stream start). */
int gramidx_stream_scan(const struct gramidx *g, struct gramidx_stream *s, const uint8_t *data,
			size_t len, prefilter_hit_fn *cb, void *ctx)
{
	enum { CARRY = sizeof(s->carry), HEAD = AFTER + BEFORE + GRAM };
	uint8_t tmp[CARRY + HEAD];
	size_t head = len < HEAD ? len : HEAD, tlen, keep;
	uint64_t cbase, avail = s->pos + len, last, mid;
	int stop = 0;

	if (g->nents == 0) {
		s->pos += len;
		s->done = s->pos;
		return 0;
	}
	/* gram ends that can be examined: a literal may run AFTER bytes on */
	last = avail >= AFTER ? avail - AFTER : 0;
	cbase = s->pos - s->clen;
	memcpy(tmp, s->carry, s->clen);
	memcpy(tmp + s->clen, data, head);
	tlen = s->clen + head;
	/* ends up to s->pos + BEFORE + GRAM, within tmp: the stitched part */
	mid = s->pos + BEFORE + GRAM;
	if (mid > last)
		mid = last;
	if (mid > s->done)
		stop = scan_ends(g, tmp, 0, tlen, (size_t)(s->done + 1 - cbase),
				 (size_t)(mid + 1 - cbase), cbase, cb, ctx);
	/* the rest within data alone */
	if (!stop && last > mid && mid >= s->pos)
		stop = scan_ends(g, data, 0, len, (size_t)(mid + 1 - s->pos),
				 (size_t)(last + 1 - s->pos), s->pos, cb, ctx);
	if (last > s->done)
		s->done = last;
	/* the new carry: from BEFORE + GRAM bytes before done + 1 */
	keep = (size_t)(avail - (s->done + 1 >= BEFORE + GRAM ? s->done + 1 - (BEFORE + GRAM) : 0));
	if (keep > CARRY)
		keep = CARRY;
	if (len >= keep) {
		memcpy(s->carry, data + len - keep, keep);
	} else {
		/* all of data (in tmp after the old carry) and the old carry's end */
		memmove(s->carry, tmp + tlen - keep, keep);
	}
	s->clen = (uint32_t)keep;
	s->pos = avail;
	return stop;
}

int gramidx_stream_end(const struct gramidx *g, struct gramidx_stream *s, prefilter_hit_fn *cb,
		       void *ctx)
{
	uint64_t cbase = s->pos - s->clen;
	int stop = 0;

	if (g->nents && s->pos > s->done)
		stop = scan_ends(g, s->carry, 0, s->clen, (size_t)(s->done + 1 - cbase),
				 (size_t)(s->pos + 1 - cbase), cbase, cb, ctx);
	s->done = s->pos;
	return stop;
}

uint64_t gramidx_stream_settled(const struct gramidx_stream *s)
{
	return s->done;
}
