/* match: the literal prefilter (gram index and Vectorscan shards).
 * Every shard layout must report exactly the hits a naive search finds,
 * across chunk boundaries, and survive serialisation; a damaged serialised
 * form is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

#define NLITS 90000u /* enough for three shards */
#define DATA_LEN (1u << 20)

struct hit {
	uint64_t id; /* 64 bits: no padding, so hits compare as bytes */
	uint64_t end;
};

struct hits {
	struct hit *v;
	size_t n, cap;
};

static uint8_t *lit_bytes;
static struct literal *lits;
static uint8_t *data;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int collect(void *ctx, uint32_t id, uint64_t end)
{
	struct hits *h = ctx;
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->v = realloc(h->v, h->cap * sizeof(*h->v));
		assert_non_null(h->v);
	}
	h->v[h->n].id = id;
	h->v[h->n].end = end;
	h->n++;
	return 0;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int setup(void **state)
{
	(void)state;
	lit_bytes = malloc(NLITS * 12);
	lits = calloc(NLITS, sizeof(*lits));
	data = malloc(DATA_LEN);
	if (!lit_bytes || !lits || !data)
		return -1;
	for (size_t i = 0; i < NLITS; i++) {
		uint32_t len = 6 + next() % 7;
		uint8_t *b = lit_bytes + i * 12;
		for (uint32_t j = 0; j < len; j++)
			b[j] = (uint8_t)(1 + next() % 255); /* no leading 00: the literal API */
		lits[i].bytes = b;
		lits[i].len = len;
	}
	for (size_t i = 0; i < DATA_LEN; i++)
		data[i] = (uint8_t)next();
	/* plant one literal in 50, some across the chunk boundaries used below */
	for (size_t i = 0; i < NLITS; i += 50) {
		size_t at = (size_t)next() % (DATA_LEN - 16);
		memcpy(data + at, lits[i].bytes, lits[i].len);
	}
	memcpy(data + 65536 - 5, lits[7].bytes, lits[7].len);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(lit_bytes);
	free(lits);
	free(data);
	return 0;
}

/* Every occurrence of gl[0..n) in d[0..len), sorted: literals bucketed by
 * their first two bytes. */
static struct hits naive_small(const struct literal *gl, size_t n, const uint8_t *d, size_t len)
{
	uint32_t *bucket_first = malloc(65536 * sizeof(uint32_t)), *next_lit = malloc(n * 4);
	struct hits want = {0};

	assert_non_null(bucket_first);
	assert_non_null(next_lit);
	for (size_t i = 0; i < 65536; i++)
		bucket_first[i] = UINT32_MAX;
	for (uint32_t i = (uint32_t)n; i-- > 0;) {
		uint32_t k = (uint32_t)gl[i].bytes[0] | (uint32_t)gl[i].bytes[1] << 8;
		next_lit[i] = bucket_first[k];
		bucket_first[k] = i;
	}
	for (size_t at = 0; at + 2 <= len; at++) {
		uint32_t k = (uint32_t)d[at] | (uint32_t)d[at + 1] << 8;
		for (uint32_t i = bucket_first[k]; i != UINT32_MAX; i = next_lit[i])
			if (at + gl[i].len <= len && memcmp(gl[i].bytes, d + at, gl[i].len) == 0)
				collect(&want, i, at + gl[i].len);
	}
	if (want.n)
		qsort(want.v, want.n, sizeof(*want.v), cmp_hit);
	free(bucket_first);
	free(next_lit);
	return want;
}

static struct hits run(const struct prefilter *pf)
{
	struct prefilter_stream *s = NULL;
	struct hits h = {0};

	assert_int_equal(prefilter_stream_new(pf, &s), VG_OK);
	assert_int_equal(prefilter_stream_begin(s), VG_OK);
	for (size_t off = 0; off < DATA_LEN; off += 65536)
		assert_int_equal(prefilter_stream_scan(s, data + off, 65536, collect, &h), VG_OK);
	assert_int_equal(prefilter_stream_end(s, collect, &h), VG_OK);
	prefilter_stream_free(s);
	if (h.n)
		qsort(h.v, h.n, sizeof(*h.v), cmp_hit);
	return h;
}

static void shards_find_what_a_naive_search_finds(void **state)
{
	struct hits want = naive_small(lits, NLITS, data, DATA_LEN);
	char err[256];

	(void)state;
	assert_true(want.n >= NLITS / 100); /* a few plants overwrite others */
	for (unsigned shards = 1; shards <= 3; shards++) {
		struct prefilter *pf = NULL, *back = NULL;
		uint8_t *ser = NULL;
		size_t ser_len = 0;
		void *aligned = NULL;
		uint32_t off0;
		uint8_t nsh;
		struct hits got;

		assert_int_equal(prefilter_build(lits, NLITS, shards, &pf, err, sizeof(err)), VG_OK);
		got = run(pf);
		assert_int_equal(got.n, want.n);
		assert_memory_equal(got.v, want.v, want.n * sizeof(*want.v));
		free(got.v);

		assert_int_equal(prefilter_serialize(pf, &ser, &ser_len), VG_OK);
		/* at a 64-byte boundary the databases are used where they lie
		 * (as in a mapped image), elsewhere from an aligned copy */
		assert_int_equal(posix_memalign(&aligned, 64, ser_len + 64), 0);
		for (size_t shift = 0; shift <= 16; shift += 16) {
			memcpy((uint8_t *)aligned + shift, ser, ser_len);
			assert_int_equal(prefilter_open((uint8_t *)aligned + shift, ser_len, NLITS, &back),
					 VG_OK);
			got = run(back);
			assert_int_equal(got.n, want.n);
			assert_memory_equal(got.v, want.v, want.n * sizeof(*want.v));
			free(got.v);
			prefilter_free(back);
		}
		free(aligned);

		/* damaged or foreign forms are refused, never trusted */
		assert_int_equal(prefilter_open(ser, ser_len - 1, NLITS, &back), VG_EFORMAT);
		assert_int_equal(prefilter_open(ser, ser_len + 64, NLITS, &back), VG_EFORMAT);
		assert_int_equal(prefilter_open(ser, 3, NLITS, &back), VG_EFORMAT);
		ser[40]++; /* compiled for other CPU features (pf_header.cpu_features) */
		assert_int_equal(prefilter_open(ser, ser_len, NLITS, &back), VG_EFORMAT);
		ser[40]--;
		ser[8] ^= 1; /* another Vectorscan version */
		assert_int_equal(prefilter_open(ser, ser_len, NLITS, &back), VG_EFORMAT);
		ser[8] ^= 1;
		nsh = ser[4];
		ser[4] = 9; /* shard count out of range */
		assert_int_equal(prefilter_open(ser, ser_len, NLITS, &back), VG_EFORMAT);
		ser[4] = nsh;
		ser[0] ^= 1; /* magic */
		assert_int_equal(prefilter_open(ser, ser_len, NLITS, &back), VG_EFORMAT);
		ser[0] ^= 1;
		/* a gram index whose slots, literal table and bytes are damaged
		 * (past the checks made at open, which read only its header):
		 * the scan must stay within bounds (ASan) and still run */
		{
			uint32_t goff;
			uint64_t gslots, gtotal, glits;
			memcpy(&goff, ser + 80, sizeof(goff)); /* pf_header.gram_off[0] */
			memcpy(&gslots, ser + goff + 40, sizeof(gslots)); /* gram_head.off_slots */
			memcpy(&gtotal, ser + goff + 64, sizeof(gtotal));  /* gram_head.total */
			assert_int_equal(posix_memalign(&aligned, 64, ser_len), 0);
			memcpy(aligned, ser, ser_len);
			/* every occupied slot keeps its gram and check bytes (so the
			 * scan reaches the literal table) with a wild literal index
			 * and start; the literal table and bytes get random bytes */
			memcpy(&glits, ser + goff + 48, sizeof(glits)); /* gram_head.off_lits */
			for (uint64_t o = gslots; o + 16 <= glits; o += 16) {
				uint32_t li_at;
				memcpy(&li_at, (uint8_t *)aligned + goff + o + 12, 4);
				if (li_at == 0)
					continue;
				switch (next() % 3) {
				case 0: /* another start in the literal */
					li_at ^= next() & 31u;
					break;
				case 1: /* literal index 0 with a start: no literal at all */
					li_at = 1u + next() % 31u;
					break;
				default: /* a literal index far out */
					li_at = (uint32_t)next() << 5;
				}
				memcpy((uint8_t *)aligned + goff + o + 12, &li_at, 4);
			}
			for (uint64_t o = glits; o < gtotal; o += 1 + next() % 5)
				((uint8_t *)aligned)[goff + o] = (uint8_t)next();
			assert_int_equal(prefilter_open(aligned, ser_len, NLITS, &back), VG_OK);
			got = run(back);
			free(got.v);
			prefilter_free(back);
			free(aligned);
		}
		/* a slot table with no empty slot and a filter that lets every
		 * gram through: each lookup must still end */
		{
			uint32_t goff;
			uint64_t gbitmap, gslots, glits;
			memcpy(&goff, ser + 80, sizeof(goff));
			memcpy(&gbitmap, ser + goff + 32, sizeof(gbitmap)); /* gram_head.off_bitmap */
			memcpy(&gslots, ser + goff + 40, sizeof(gslots));
			memcpy(&glits, ser + goff + 48, sizeof(glits));
			assert_int_equal(posix_memalign(&aligned, 64, ser_len), 0);
			memcpy(aligned, ser, ser_len);
			memset((uint8_t *)aligned + goff + gbitmap, 0xff, gslots - gbitmap);
			for (uint64_t o = gslots; o + 16 <= glits; o += 16) {
				uint32_t li_at;
				memcpy(&li_at, (uint8_t *)aligned + goff + o + 12, 4);
				if (li_at == 0) {
					li_at = 7u << 5; /* occupied, by a gram no data has */
					memcpy((uint8_t *)aligned + goff + o + 12, &li_at, 4);
					memset((uint8_t *)aligned + goff + o, 0xee, 8);
				}
			}
			assert_int_equal(prefilter_open(aligned, ser_len, NLITS, &back), VG_OK);
			/* a few hundred bytes: every lookup walks the whole table */
			{
				struct prefilter_stream *ps = NULL;
				struct hits h = {0};
				assert_int_equal(prefilter_stream_new(back, &ps), VG_OK);
				assert_int_equal(prefilter_stream_begin(ps), VG_OK);
				assert_int_equal(prefilter_stream_scan(ps, data, 300, collect, &h), VG_OK);
				assert_int_equal(prefilter_stream_end(ps, collect, &h), VG_OK);
				prefilter_stream_free(ps);
				free(h.v);
			}
			prefilter_free(back);
			free(aligned);
		}
		/* a shard whose Vectorscan header is damaged */
		memcpy(&off0, ser + 48, sizeof(off0));
		ser[off0] ^= 0xff;
		assert_int_equal(prefilter_open(ser, ser_len, NLITS, &back), VG_EFORMAT);
		vg_free(ser);
		prefilter_free(pf);
	}
	free(want.v);
}

static void empty_set(void **state)
{
	struct prefilter *pf = NULL;
	struct hits got;
	char err[64];

	(void)state;
	assert_int_equal(prefilter_build(lits, 0, 4, &pf, err, sizeof(err)), VG_OK);
	got = run(pf);
	assert_int_equal(got.n, 0);
	prefilter_free(pf);
}

/* The gram index (literals of 8..32 bytes) next to Vectorscan (the rest),
 * fed in chunks of every size from 1 byte: it holds the last bytes of each
 * chunk back, so literals across any boundary, at the very start and at the
 * very end of the stream must all be found, each literal's hits in order,
 * and none after the settled offset said it was complete. Literals share
 * grams (repeated windows), so one gram position confirms several. */
#define G_NLITS 6000u
#define G_DATA (1u << 16)

struct ghits {
	struct hits h;
	uint64_t settled_at_report; /* the stream's settled offset before a scan call */
	uint64_t *last_end;         /* per literal */
	int order_ok, settled_ok;
};

static int gcollect(void *ctx, uint32_t id, uint64_t end)
{
	struct ghits *g = ctx;
	if (end <= g->settled_at_report && g->settled_at_report != UINT64_MAX)
		g->settled_ok = 0; /* reported after settled claimed it was done */
	if (end < g->last_end[id])
		g->order_ok = 0;
	g->last_end[id] = end;
	return collect(&g->h, id, end);
}

/* pf must report exactly want when fed d in chunks of every size from 1
 * byte, each literal's hits in order, none after the settled offset said
 * it was complete; with the vector scan and with the portable one. */
static void stream_rounds(const struct prefilter *pf, size_t nlits, const uint8_t *d, size_t len,
			  const struct hits *want)
{
	static bool told;

	if (!told && gramidx_simd_level() == GRAMIDX_SIMD_NONE)
		print_message("this CPU has no AVX-512 VBMI: only the portable gram probe is tested\n");
	told = true;
	for (int level = (int)gramidx_simd_level(); level >= 0; level--) {
		gramidx_simd_force(level);
		for (unsigned round = 0; round < 6; round++) {
			struct prefilter_stream *s = NULL;
			struct ghits g;
			size_t off = 0;

			memset(&g, 0, sizeof(g));
			g.last_end = calloc(nlits, sizeof(uint64_t));
			g.order_ok = g.settled_ok = 1;
			assert_non_null(g.last_end);
			assert_int_equal(prefilter_stream_new(pf, &s), VG_OK);
			assert_int_equal(prefilter_stream_begin(s), VG_OK);
			while (off < len) {
				/* round 0: 1 byte at a time; 1: up to 40; 2..: larger */
				size_t n = round == 0   ? 1
					   : round == 1 ? 1 + next() % 40
							: 1 + next() % (1u << (6 + round));
				if (n > len - off)
					n = len - off;
				/* what this chunk reports must end after what was settled */
				g.settled_at_report = prefilter_stream_settled(s);
				assert_int_equal(prefilter_stream_scan(s, d + off, n, gcollect, &g), VG_OK);
				assert_true(prefilter_stream_settled(s) <= off + n);
				assert_true(prefilter_stream_settled(s) + GRAMIDX_MAX_LEN >= off + n);
				off += n;
			}
			assert_int_equal(prefilter_stream_end(s, gcollect, &g), VG_OK);
			prefilter_stream_free(s);
			assert_true(g.order_ok);
			assert_true(g.settled_ok);
			if (g.h.n)
				qsort(g.h.v, g.h.n, sizeof(*g.h.v), cmp_hit);
			assert_int_equal(g.h.n, want->n);
			assert_memory_equal(g.h.v, want->v, want->n * sizeof(*want->v));
			free(g.h.v);
			free(g.last_end);
		}
	}
	gramidx_simd_force(-1);
}

static void gram_index_streams_in_any_chunks(void **state)
{
	uint8_t *gbytes = malloc(G_NLITS * 40), *gdata = malloc(G_DATA);
	struct literal *gl = calloc(G_NLITS, sizeof(*gl));
	struct hits want;
	char err[256];
	struct prefilter *pf = NULL;

	(void)state;
	assert_non_null(gbytes);
	assert_non_null(gdata);
	assert_non_null(gl);
	for (size_t i = 0; i < G_DATA; i++)
		gdata[i] = (uint8_t)(next() % 7); /* few byte values: many near misses */
	for (size_t i = 0; i < G_NLITS; i++) {
		uint32_t len = 2 + next() % 39; /* 2..40: both matchers */
		uint8_t *b = gbytes + i * 40;
		if (i % 3 == 0 && i >= 3) {
			/* shares a window with an earlier literal */
			memcpy(b, gbytes + (i - 3) * 40, 40);
			b[next() % 40] ^= (uint8_t)(1 + next() % 6);
		} else {
			size_t from = next() % (G_DATA - 40);
			memcpy(b, gdata + from, 40); /* taken from the data: real hits */
		}
		if (b[0] == 0)
			b[0] = 7; /* Vectorscan's literal API: no leading 00 */
		gl[i].bytes = b;
		gl[i].len = len;
	}
	/* planted at the start and at the end of the stream */
	memcpy(gdata, gl[1].bytes, gl[1].len);
	memcpy(gdata + G_DATA - gl[2].len, gl[2].bytes, gl[2].len);
	want = naive_small(gl, G_NLITS, gdata, G_DATA);
	assert_true(want.n > G_NLITS);

	assert_int_equal(prefilter_build(gl, G_NLITS, 1, &pf, err, sizeof(err)), VG_OK);
	stream_rounds(pf, G_NLITS, gdata, G_DATA, &want);
	prefilter_free(pf);
	free(want.v);
	free(gbytes);
	free(gdata);
	free(gl);
}

/* Vectorscan shards in a prefilter (pf_header's count, byte 4). */
static unsigned shard_count(const struct prefilter *pf)
{
	uint8_t *ser = NULL;
	size_t len = 0;
	unsigned n;

	assert_int_equal(prefilter_serialize(pf, &ser, &len), VG_OK);
	n = ser[4];
	vg_free(ser);
	return n;
}

/* Literals of 8 bytes, one short of the gram index's two windows, go there
 * as 257 entries each when nothing else needs Vectorscan: found at odd and
 * even offsets, at the stream's start and end, across every chunk size,
 * periodic ones at each offset of a run, once each. One literal more than
 * GRAMIDX_MAX_SHORT, or a caseless one, sends them all to Vectorscan. */
static void short_literals_join_the_gram_index(void **state)
{
	enum { NS = GRAMIDX_MAX_SHORT, NL = 3000, N = NS + 1 + NL };
	uint8_t *gbytes = malloc(N * 32), *gdata = malloc(G_DATA);
	struct literal *gl = calloc(N, sizeof(*gl));
	char err[256];
	struct prefilter *pf = NULL;
	struct hits want;
	size_t shorts = 0;

	(void)state;
	assert_non_null(gbytes);
	assert_non_null(gdata);
	assert_non_null(gl);
	for (size_t i = 0; i < G_DATA; i++)
		gdata[i] = (uint8_t)(1 + next() % 7);
	memset(gdata + 1001, 5, 21); /* runs of one byte and of two, odd and even */
	for (size_t i = 0; i < 30; i++)
		gdata[2000 + i] = (uint8_t)(i % 2 ? 2 : 6);
	/* literals 1..NS-1 and NS+1..: short ones first, NS held back */
	for (size_t i = 0; i < N; i++) {
		uint8_t *b = gbytes + i * 32;
		uint32_t len = i <= NS ? 8 : 9 + next() % 24;
		memcpy(b, gdata + next() % (G_DATA - 32), 32);
		gl[i].bytes = b;
		gl[i].len = len;
	}
	memset(gbytes + 0 * 32, 5, 8);          /* period 1 */
	memcpy(gbytes + 1 * 32, gdata + 2000, 8); /* period 2 */
	memcpy(gdata, gl[2].bytes, 8);          /* at the start (even) */
	memcpy(gdata + 101, gl[3].bytes, 8);    /* odd */
	memcpy(gdata + G_DATA - 8, gl[4].bytes, 8); /* at the end */
	memcpy(gdata + G_DATA - 41, gl[5].bytes, 8);
	memcpy(gdata + 4093, gl[6].bytes, 8);
	/* literal 7 at odd offsets after each of the 256 byte values, literal 8
	 * at even ones: every variant is needed, and none may report twice */
	for (unsigned x = 0; x < 256; x++) {
		gdata[20000 + 20 * x] = (uint8_t)x;
		memcpy(gdata + 20001 + 20 * x, gl[7].bytes, 8);
		memcpy(gdata + 20010 + 20 * x, gl[8].bytes, 8);
	}
	/* every short literal but NS, and the long ones */
	for (size_t i = 0; i < N; i++)
		if (i != NS)
			gl[i - (i > NS)] = gl[i];
	want = naive_small(gl, N - 1, gdata, G_DATA);
	for (size_t i = 0; i < want.n; i++)
		shorts += want.v[i].id < NS;
	assert_true(shorts >= 40 + 7 + 512); /* the runs, the plants, chance */

	assert_int_equal(prefilter_build(gl, N - 1, 1, &pf, err, sizeof(err)), VG_OK);
	assert_int_equal(shard_count(pf), 0); /* the gram index alone */
	stream_rounds(pf, N - 1, gdata, G_DATA, &want);
	prefilter_free(pf);

	/* a caseless literal: everything short goes to Vectorscan */
	gl[N - 2].nocase = true;
	gl[N - 2].len = 8;
	free(want.v);
	want = naive_small(gl, N - 1, gdata, G_DATA); /* its bytes have no letters */
	assert_int_equal(prefilter_build(gl, N - 1, 1, &pf, err, sizeof(err)), VG_OK);
	assert_int_equal(shard_count(pf), 1);
	stream_rounds(pf, N - 1, gdata, G_DATA, &want);
	prefilter_free(pf);
	gl[N - 2].nocase = false;
	gl[N - 2].len = 9;
	free(want.v);

	/* NS + 1 short literals: too many for the index */
	{
		struct literal *all = calloc(N, sizeof(*all));
		assert_non_null(all);
		for (size_t i = 0; i < N; i++) {
			all[i].bytes = gbytes + i * 32;
			all[i].len = i <= NS ? 8 : 9 + (uint32_t)(i % 24);
		}
		memset(gbytes + NS * 32, 3, 8);
		want = naive_small(all, N, gdata, G_DATA);
		assert_int_equal(prefilter_build(all, N, 1, &pf, err, sizeof(err)), VG_OK);
		assert_int_equal(shard_count(pf), 1);
		stream_rounds(pf, N, gdata, G_DATA, &want);
		prefilter_free(pf);
		free(want.v);
		free(all);
	}
	free(gbytes);
	free(gdata);
	free(gl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shards_find_what_a_naive_search_finds),
		cmocka_unit_test(empty_set),
		cmocka_unit_test(gram_index_streams_in_any_chunks),
		cmocka_unit_test(short_literals_join_the_gram_index),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
