/* unpack_arj: clam.arj from clamav-testfiles (method 1), and archives built
 * here: stored, method 4, method 1 blocks with one-symbol tables, garbled,
 * self-extracting, hostile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "unpack_collect.h"
#include "unpack_lz_clam.h"
#include "unpack_lz_samples.h"

static uint32_t rnd_state = 2463534242u;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state >> 16;
}

/* Method 4 data: literals and matches of every length class and distances
 * up to the largest; expect gets the output. */
static void fast_sample(struct sb *data, struct sb *expect, size_t literals)
{
	struct bw w;
	static const unsigned m[][2] = {{3, 1}, {256, 15872}, {4, 511}, {5, 512}, {130, 1000},
					{127, 7000}, {10, 3}, {66, 15871}};

	bw_init(&w, data, BW_MSB8);
	for (size_t i = 0; i < literals; i++) {
		uint8_t c = (uint8_t)rnd();
		arj_fast_literal(&w, c);
		sb_u8(expect, c);
	}
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (m[i][1] > 15872)
			continue;
		arj_fast_match(&w, m[i][0], m[i][1]);
		for (unsigned k = 0; k < m[i][0]; k++)
			sb_u8(expect, expect->len >= m[i][1] ? expect->p[expect->len - m[i][1]] : 0);
	}
	bw_align(&w);
}

/* Method 1: ten 'Z', then matches of 10 at distance 1 (two blocks whose
 * tables have a single symbol each). */
static void const_sample(struct sb *data, struct sb *expect, unsigned matches)
{
	struct bw w;

	bw_init(&w, data, BW_MSB8);
	arj_const_block(&w, 10, 'Z', 0);
	arj_const_block(&w, matches, 256 + 7, 0);
	bw_align(&w);
	for (unsigned i = 0; i < 10 + 10 * matches; i++)
		sb_u8(expect, 'Z');
}

struct arj_file {
	const char *name;
	unsigned type, method, flags;
	struct sb data;
	uint32_t usize;
};

static void arj_build(struct sb *out, const struct arj_file *f, size_t n, size_t stub)
{
	for (size_t i = 0; i < stub; i++)
		sb_u8(out, "MZ\x90\x00stub"[i % 8]);
	arj_header(out, 2, 0, 0, 0, 0, 0, "test.arj");
	for (size_t i = 0; i < n; i++) {
		arj_header(out, f[i].type, f[i].method, f[i].flags, (uint32_t)f[i].data.len, f[i].usize, 0,
			   f[i].name);
		sb_put(out, f[i].data.p, f[i].data.len);
	}
	arj_end(out);
}

static void clam_arj(void **state)
{
	(void)state;
	expect_clam(unpack_arj, "clam.arj", "clam.exe");
}

struct seen {
	size_t n;
	bool encrypted[8];
	char names[8][32];
};

static vg_status seen_child(void *ctx, const struct unpack_child *c)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->encrypted[s->n] = c->encrypted;
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", c->name ? c->name : "");
	}
	s->n++;
	return VG_OK;
}

static void methods_built(void **state)
{
	struct sb e4 = {0}, e1 = {0}, arj = {0};
	struct arj_file f[5] = {
		{"stored.txt", 0, 0, 0, {0}, 11},
		{"fast.bin", 0, 4, 0, {0}, 0},
		{"DIR", 3, 0, 0, {0}, 0},
		{"const.bin", 1, 1, 0, {0}, 0},
		{"secret.bin", 0, 1, 1, {0}, 100},
	};

	(void)state;
	sb_put(&f[0].data, "hello world", 11);
	fast_sample(&f[1].data, &e4, 20000);
	f[1].usize = (uint32_t)e4.len;
	const_sample(&f[3].data, &e1, 500);
	f[3].usize = (uint32_t)e1.len;
	sb_put(&f[4].data, "\x01\x02\x03\x04", 4);
	for (size_t stub = 0; stub < 2; stub++) {
		struct collector k;
		struct seen s = {0};
		struct unpack_sink sink = {seen_child, &s, 1 << 20};

		arj.len = 0;
		arj_build(&arj, f, 5, stub ? 3000 : 0);
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_arj, arj.p, arj.len, &k), VG_OK);
		assert_int_equal(k.n, 4); /* not the directory */
		assert_string_equal(k.items[0].name, "stored.txt");
		assert_int_equal(k.items[0].len, 11);
		assert_memory_equal(k.items[0].data, "hello world", 11);
		assert_string_equal(k.items[1].name, "fast.bin");
		assert_int_equal(k.items[1].len, e4.len);
		assert_memory_equal(k.items[1].data, e4.p, e4.len);
		assert_string_equal(k.items[2].name, "const.bin");
		assert_int_equal(k.items[2].len, e1.len);
		assert_memory_equal(k.items[2].data, e1.p, e1.len);
		assert_int_equal(k.items[3].len, 0);
		collector_free(&k);
		struct unpack_input in = {arj.p, arj.len};
		assert_int_equal(unpack_arj(&in, &sink), VG_OK);
		assert_int_equal(s.n, 4);
		assert_false(s.encrypted[2]);
		assert_true(s.encrypted[3]);
		assert_string_equal(s.names[3], "secret.bin");
	}
	stops_when_told(unpack_arj, arj.p, arj.len, 4);
	for (size_t i = 0; i < 5; i++)
		sb_free(&f[i].data);
	sb_free(&e4);
	sb_free(&e1);
	sb_free(&arj);
}

static void truncated_everywhere(void **state)
{
	struct sb e = {0}, arj = {0};
	struct arj_file f[2] = {{"a", 0, 4, 0, {0}, 0}, {"b", 0, 1, 0, {0}, 0}};

	(void)state;
	fast_sample(&f[0].data, &e, 30);
	f[0].usize = (uint32_t)e.len;
	e.len = 0;
	const_sample(&f[1].data, &e, 5);
	f[1].usize = (uint32_t)e.len;
	arj_build(&arj, f, 2, 0);
	every_prefix(unpack_arj, arj.p, arj.len);
	sb_free(&f[0].data);
	sb_free(&f[1].data);
	sb_free(&e);
	sb_free(&arj);
}

/* Bad tables end the entry; history before the output reads as zeros. */
static void hostile_streams(void **state)
{
	struct sb arj = {0};
	struct collector k;
	struct arj_file f[3] = {
		{"count", 0, 1, 0, {0}, 100},
		{"lens", 0, 1, 0, {0}, 100},
		{"far", 0, 4, 0, {0}, 20},
	};
	struct bw w;

	(void)state;
	/* T table count 31 > 19 */
	bw_init(&w, &f[0].data, BW_MSB8);
	bw_put(&w, 100, 16);
	bw_put(&w, 31, 5);
	bw_put(&w, 0, 32);
	bw_align(&w);
	/* T lengths oversubscribed: 19 lengths of 1 */
	bw_init(&w, &f[1].data, BW_MSB8);
	bw_put(&w, 100, 16);
	bw_put(&w, 19, 5);
	for (int i = 0; i < 19; i++) {
		bw_put(&w, 1, 3);
		if (i == 2)
			bw_put(&w, 0, 2);
	}
	bw_put(&w, 0, 32);
	bw_align(&w);
	/* a match 9000 back at the start */
	bw_init(&w, &f[2].data, BW_MSB8);
	arj_fast_match(&w, 20, 9000);
	bw_align(&w);
	arj_build(&arj, f, 3, 0);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_arj, arj.p, arj.len, &k), VG_OK);
	assert_int_equal(k.n, 3);
	assert_int_equal(k.items[0].len, 0);
	assert_int_equal(k.items[1].len, 0);
	assert_int_equal(k.items[2].len, 20);
	for (int i = 0; i < 20; i++)
		assert_int_equal(k.items[2].data[i], 0);
	collector_free(&k);
	for (size_t i = 0; i < 3; i++)
		sb_free(&f[i].data);
	sb_free(&arj);
}

/* 65535 matches of 256 bytes per 30-bit block, claiming 4 GiB: the budget
 * stops it. */
static void bomb_capped(void **state)
{
	struct sb arj = {0};
	struct collector k;
	struct arj_file f = {"bomb", 0, 1, 0, {0}, 0xffffffffu};
	struct bw w;

	(void)state;
	bw_init(&w, &f.data, BW_MSB8);
	arj_const_block(&w, 1, 'Q', 0);
	for (int i = 0; i < 1000; i++)
		arj_const_block(&w, 65535, 256 + 253, 0);
	bw_align(&w);
	arj_build(&arj, &f, 1, 0);
	collector_init(&k, 5u << 20);
	assert_int_equal(run_unpacker(unpack_arj, arj.p, arj.len, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.items[0].len, 5u << 20);
	assert_true(k.items[0].truncated);
	collector_free(&k);
	sb_free(&f.data);
	sb_free(&arj);
}

static void random_damage(void **state)
{
	struct sb e = {0}, arj = {0};
	uint8_t *copy;
	size_t len;

	(void)state;
	copy = slurp(TESTFILES "clam.arj", &len);
	if (copy) { /* real tables to damage */
		sb_put(&arj, copy, len);
		free(copy);
	} else {
		struct arj_file f = {"a", 0, 4, 0, {0}, 0};
		fast_sample(&f.data, &e, 300);
		f.usize = (uint32_t)e.len;
		arj_build(&arj, &f, 1, 0);
		sb_free(&f.data);
	}
	copy = malloc(arj.len);
	for (int round = 0; round < 5000; round++) {
		struct collector k;

		memcpy(copy, arj.p, arj.len);
		for (int i = 0; i < 1 + round % 3; i++) {
			size_t at = 0x78 + rnd() % (arj.len - 0x78); /* mostly the data */
			copy[round % 7 ? at : rnd() % arj.len] ^= (uint8_t)(1u << (rnd() % 8));
		}
		collector_init(&k, round % 2 ? 100 : SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_arj, copy, arj.len, &k), VG_OK);
		collector_free(&k);
	}
	free(copy);
	sb_free(&e);
	sb_free(&arj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_arj),
		cmocka_unit_test(methods_built),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(hostile_streams),
		cmocka_unit_test(bomb_capped),
		cmocka_unit_test(random_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
