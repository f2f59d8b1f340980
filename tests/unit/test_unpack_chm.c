/* unpack_chm: clam.chm from clamav-testfiles, and CHMs built here around
 * LZX streams with verbatim, aligned and uncompressed blocks across frames
 * and reset intervals, the E8 translation, and hostile ones. */
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

struct lzx_sample {
	struct sb lzx;      /* the compressed stream */
	struct sb expect;   /* what it decodes to */
	struct lzxw z;
	uint64_t interval;  /* output offset where the current reset interval began */
	unsigned r0;
};

/* n output bytes of a verbatim or aligned block: literals and matches
 * (explicit offsets within the reset interval, sometimes R0 again), none
 * across a frame's end. */
static void items(struct lzx_sample *s, bool aligned, uint32_t n)
{
	struct sb *e = &s->expect;
	uint64_t end = e->len + n;

	lzxw_block(&s->z, aligned, n);
	while (e->len < end) {
		uint64_t left = end - e->len, room = T_LZX_FRAME - e->len % T_LZX_FRAME;
		uint64_t have = e->len - s->interval;
		unsigned len = 2 + rnd() % 256, off;

		if (len > left || len > room || have < 1 || rnd() % 3 == 0) {
			uint8_t c = (uint8_t)(rnd() % 7 == 0 ? 0xe8 : rnd());
			lzxw_literal(&s->z, c);
			sb_u8(e, c);
			continue;
		}
		if (s->r0 <= have && rnd() % 4 == 0) {
			off = s->r0;
			lzxw_match(&s->z, len, 0);
		} else {
			unsigned lim = (unsigned)(have < 65533 ? have : 65533);

			off = 1 + rnd() * 4u % lim;
			if (rnd() % 2)
				off = 1 + rnd() % (lim < 64 ? lim : 64);
			lzxw_match(&s->z, len, off);
			s->r0 = off;
		}
		for (unsigned i = 0; i < len; i++)
			sb_u8(e, e->p[e->len - off]);
	}
}

static void raw(struct lzx_sample *s, uint32_t n)
{
	uint8_t *p = malloc(n);

	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
	lzxw_raw(&s->z, p, n);
	sb_put(&s->expect, p, n);
	s->r0 = 1;
	free(p);
}

static void reset(struct lzx_sample *s, uint32_t e8)
{
	lzxw_reset(&s->z, e8);
	s->interval = s->expect.len;
	s->r0 = 1;
}

/* Compilers pad the stream to a whole reset interval (the reset table
 * gives the true length): zeros in a verbatim block. */
static void lzx_pad(struct lzx_sample *s)
{
	uint32_t n = (uint32_t)((2 * T_LZX_FRAME - s->expect.len % (2 * T_LZX_FRAME)) % (2 * T_LZX_FRAME));

	if (n) {
		lzxw_block(&s->z, false, n);
		for (uint32_t i = 0; i < n; i++)
			lzxw_literal(&s->z, 0);
	}
	lzxw_finish(&s->z);
}

/* 105536 bytes over four frames and two reset intervals of two frames:
 * verbatim, an odd-sized uncompressed block, aligned, then verbatim and an
 * uncompressed block across a frame's end. */
static void lzx_sample(struct lzx_sample *s)
{
	memset(s, 0, sizeof(*s));
	lzxw_init(&s->z, &s->lzx);
	reset(s, 0);
	items(s, false, 40001);
	raw(s, 5537);
	items(s, true, 19998);
	reset(s, 0);
	items(s, false, 30000);
	raw(s, 10000);
	lzx_pad(s);
}

static void sample_free(struct lzx_sample *s)
{
	sb_free(&s->lzx);
	sb_free(&s->expect);
}

/* A CHM around the sample: reset every 2 frames, a 64 KiB window, the
 * reset table giving the true length (before any padding). */
static void build(struct sb *chm, const struct lzx_sample *s, const struct chm_item *it, size_t n)
{
	unsigned frames = (unsigned)((s->expect.len + T_LZX_FRAME - 1) / T_LZX_FRAME);


	chm_build(chm, it, n, &s->lzx, s->expect.len, s->z.frame_off, frames, 2, 2);
}

static void clam_chm(void **state)
{
	(void)state;
	expect_clam(unpack_chm, "clam.chm", "/clam.exe.txt");
}

static void lzx_built(void **state)
{
	struct lzx_sample s;
	struct sb chm = {0};
	struct collector k;

	(void)state;
	lzx_sample(&s);
	const struct chm_item it[] = {
		{"/", 0, NULL, 0, 0},
		{"/s0.txt", 0, (const uint8_t *)"stored in section 0", 0, 19},
		{"/end.bin", 1, NULL, 100000, 5536},
		{"/first.html", 1, NULL, 0, 100},
		{"/mid.bin", 1, NULL, 30000, 10000},
		{"/over-reset.bin", 1, NULL, 60000, 15000},
		{"/past-end.bin", 1, NULL, 105000, 1000},
		{"/empty", 1, NULL, 50, 0},
		{"/beyond", 1, NULL, 200000, 10},
	};
	build(&chm, &s, it, sizeof(it) / sizeof(it[0]));
	for (int budget = 0; budget < 2; budget++) {
		size_t max = budget ? 1000 : SIZE_MAX;
		collector_init(&k, max);
		assert_int_equal(run_unpacker(unpack_chm, chm.p, chm.len, &k), VG_OK);
		assert_int_equal(k.n, 6);
		assert_string_equal(k.items[0].name, "/s0.txt");
		assert_memory_equal(k.items[0].data, "stored in section 0", 19);
		/* section 1 in the order of offsets */
		static const int order[] = {3, 4, 5, 2, 6};
		for (int i = 0; i < 5; i++) {
			const struct chm_item *x = &it[order[i]];
			uint64_t len = x->offset + x->len > s.expect.len ? s.expect.len - x->offset : x->len;
			bool cut = len > max;
			assert_string_equal(k.items[1 + i].name, x->name);
			assert_int_equal(k.items[1 + i].len, cut ? max : len);
			assert_int_equal(k.items[1 + i].truncated, x->len > max);
			assert_memory_equal(k.items[1 + i].data, s.expect.p + x->offset, k.items[1 + i].len);
		}
		collector_free(&k);
	}
	stops_when_told(unpack_chm, chm.p, chm.len, 6);
	sb_free(&chm);
	sample_free(&s);
}

/* An odd-sized uncompressed block ending at a reset point, its padding
 * byte before the next interval; a file past a gap, reached by seeking
 * through the reset table, or by decoding through when the table has no
 * entries. */
static void reset_points(void **state)
{
	struct lzx_sample s;
	struct sb chm = {0};
	struct collector k;
	const struct chm_item it[] = {{"/a", 1, NULL, 0, 100}, {"/b", 1, NULL, 70000, 1000}};

	(void)state;
	memset(&s, 0, sizeof(s));
	lzxw_init(&s.z, &s.lzx);
	reset(&s, 0);
	items(&s, false, 40001);
	raw(&s, 25535);
	reset(&s, 0);
	items(&s, true, 40000);
	lzx_pad(&s);
	for (int table = 0; table < 2; table++) {
		chm.len = 0;
		chm_build(&chm, it, 2, &s.lzx, s.expect.len, s.z.frame_off, table ? 4 : 0, 2, 2);
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_chm, chm.p, chm.len, &k), VG_OK);
		assert_int_equal(k.n, 2);
		assert_memory_equal(k.items[0].data, s.expect.p, 100);
		assert_int_equal(k.items[1].len, 1000);
		assert_memory_equal(k.items[1].data, s.expect.p + 70000, 1000);
		collector_free(&k);
	}
	sb_free(&chm);
	sample_free(&s);
}

/* The E8 header on: CALL targets stored absolute are made relative again. */
static void e8_translation(void **state)
{
	struct lzx_sample s;
	struct sb chm = {0};
	struct collector k;
	/* stored absolute, made relative to the CALL's offset when in
	 * [-offset, e8 size); a negative one counts back from the e8 size */
	static const struct {
		unsigned at;
		int32_t stored, want;
	} calls[] = {{100, 1100, 1000}, {200, -500, -500}, {300, -3, 100000 - 3}, {400, 200000, 200000}};

	(void)state;
	memset(&s, 0, sizeof(s));
	lzxw_init(&s.z, &s.lzx);
	reset(&s, 100000);
	lzxw_block(&s.z, false, 1000);
	for (unsigned i = 0; i < 1000; i++) {
		uint8_t c = (uint8_t)('a' + i % 26);
		for (size_t j = 0; j < 4; j++) {
			if (i >= calls[j].at && i < calls[j].at + 5)
				c = (uint8_t)(i == calls[j].at ? 0xe8u : (uint32_t)calls[j].stored >> (8 * (i - calls[j].at - 1)));
		}
		lzxw_literal(&s.z, c);
		sb_u8(&s.expect, c);
	}
	lzxw_finish(&s.z);
	for (size_t j = 0; j < 4; j++)
		for (int b = 0; b < 4; b++)
			s.expect.p[calls[j].at + 1 + (unsigned)b] = (uint8_t)((uint32_t)calls[j].want >> (8 * b));
	const struct chm_item it[] = {{"/code.exe", 1, NULL, 0, 1000}};
	build(&chm, &s, it, 1);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_chm, chm.p, chm.len, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.items[0].len, 1000);
	assert_memory_equal(k.items[0].data, s.expect.p, 1000);
	collector_free(&k);
	sb_free(&chm);
	sample_free(&s);
}

/* A small CHM cut at every length. */
static void truncated_everywhere(void **state)
{
	struct lzx_sample s;
	struct sb chm = {0};

	(void)state;
	memset(&s, 0, sizeof(s));
	lzxw_init(&s.z, &s.lzx);
	reset(&s, 0);
	items(&s, true, 300);
	raw(&s, 33);
	items(&s, false, 200);
	lzxw_finish(&s.z);
	const struct chm_item it[] = {
		{"/a", 1, NULL, 0, 400},
		{"/b", 1, NULL, 400, 133},
		{"/s0", 0, (const uint8_t *)"abc", 0, 3},
	};
	build(&chm, &s, it, 3);
	every_prefix(unpack_chm, chm.p, chm.len);
	sb_free(&chm);
	sample_free(&s);
}

/* Damage ends the LZX stream where it is: what came before comes out. */
static void hostile_streams(void **state)
{
	struct sb chm = {0};
	struct collector k;

	(void)state;
	for (int kind = 0; kind < 4; kind++) {
		struct lzx_sample s;

		memset(&s, 0, sizeof(s));
		lzxw_init(&s.z, &s.lzx);
		reset(&s, 0);
		if (kind == 3)
			s.z.raw_r0 = 0x100000; /* a repeated offset beyond the window */
		raw(&s, 1000);
		if (kind == 0) { /* a pretree of 20 one-bit codes */
			bw_put(&s.z.w, 1, 3);
			bw_put(&s.z.w, 0, 16);
			bw_put(&s.z.w, 100, 8);
			for (int i = 0; i < 20; i++)
				bw_put(&s.z.w, 1, 4);
		} else if (kind == 1) { /* before the start, inside the window */
			lzxw_block(&s.z, false, 100);
			lzxw_match(&s.z, 10, 60000);
			lzxw_match(&s.z, 10, 65533);
			for (int i = 0; i < 80; i++)
				lzxw_literal(&s.z, 0);
		} else if (kind == 2) { /* block type 5 */
			bw_put(&s.z.w, 5, 3);
		} else {
			lzxw_block(&s.z, false, 100);
			lzxw_match(&s.z, 10, 0);
		}
		for (int i = 0; i < 100; i++)
			bw_put(&s.z.w, 0, 16);
		lzxw_finish(&s.z);
		const struct chm_item it[] = {{"/ok", 1, NULL, 0, 1000}, {"/bad", 1, NULL, 1000, 100}};
		chm.len = 0;
		chm_build(&chm, it, 2, &s.lzx, 1100, s.z.frame_off, 1, 2, 2);
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_chm, chm.p, chm.len, &k), VG_OK);
		if (kind == 1) { /* reads the zeroed window */
			assert_int_equal(k.n, 2);
			assert_int_equal(k.items[1].len, 100);
			for (int i = 0; i < 100; i++)
				assert_int_equal(k.items[1].data[i], 0);
		} else {
			assert_int_equal(k.n, 1);
		}
		assert_string_equal(k.items[0].name, "/ok");
		assert_int_equal(k.items[0].len, 1000);
		assert_memory_equal(k.items[0].data, s.expect.p, 1000);
		collector_free(&k);
		sample_free(&s);
	}
	sb_free(&chm);
}

/* A 257-byte match per 9 bits: a file claiming 1 GiB stops at the budget. */
static void bomb_capped(void **state)
{
	struct lzx_sample s;
	struct sb chm = {0};
	struct collector k;
	const uint32_t frames = 200; /* 6.25 MiB */

	(void)state;
	memset(&s, 0, sizeof(s));
	lzxw_init(&s.z, &s.lzx);
	reset(&s, 0);
	for (uint32_t f = 0; f < frames; f++) {
		lzxw_block(&s.z, false, T_LZX_FRAME);
		lzxw_literal(&s.z, 'x');
		for (uint32_t n = 1; n < T_LZX_FRAME;) {
			unsigned len = T_LZX_FRAME - n < 257 ? T_LZX_FRAME - n : 257;
			if (len < 2) {
				lzxw_literal(&s.z, 'x');
				n++;
				continue;
			}
			lzxw_match(&s.z, len, 1);
			n += len;
		}
	}
	lzxw_finish(&s.z);
	const struct chm_item it[] = {{"/bomb", 1, NULL, 0, 1u << 30}};
	chm_build(&chm, it, 1, &s.lzx, 1u << 30, s.z.frame_off, 0, 0, 2);
	collector_init(&k, 1u << 20);
	assert_int_equal(run_unpacker(unpack_chm, chm.p, chm.len, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.items[0].len, 1u << 20);
	assert_true(k.items[0].truncated);
	for (size_t i = 0; i < k.items[0].len; i++)
		if (k.items[0].data[i] != 'x')
			fail_msg("byte %zu", i);
	collector_free(&k);
	sb_free(&chm);
	sample_free(&s);
}

static void random_damage(void **state)
{
	struct lzx_sample s;
	struct sb chm = {0};
	uint8_t *copy;

	(void)state;
	memset(&s, 0, sizeof(s));
	lzxw_init(&s.z, &s.lzx);
	reset(&s, 0);
	items(&s, true, 3000);
	raw(&s, 301);
	items(&s, false, 3000);
	lzxw_finish(&s.z);
	const struct chm_item it[] = {{"/a", 1, NULL, 0, 4000}, {"/b", 1, NULL, 4000, 2301}};
	build(&chm, &s, it, 2);
	copy = malloc(chm.len);
	for (int round = 0; round < 3000; round++) {
		struct collector k;

		memcpy(copy, chm.p, chm.len);
		for (int i = 0; i < 1 + round % 3; i++) {
			/* mostly the LZX stream at the end, sometimes anywhere */
			size_t at = round % 5 ? chm.len - 1 - rnd() % s.lzx.len : rnd() % chm.len;
			copy[at] ^= (uint8_t)(1u << (rnd() % 8));
		}
		collector_init(&k, round % 2 ? 1000 : SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_chm, copy, chm.len, &k), VG_OK);
		collector_free(&k);
	}
	free(copy);
	sb_free(&chm);
	sample_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_chm),
		cmocka_unit_test(lzx_built),
		cmocka_unit_test(reset_points),
		cmocka_unit_test(e8_translation),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(hostile_streams),
		cmocka_unit_test(bomb_capped),
		cmocka_unit_test(random_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
