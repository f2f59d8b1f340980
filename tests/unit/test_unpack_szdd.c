/* unpack_szdd: clam.exe.szdd from clamav-testfiles, and SZDD and KWAJ
 * files built here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <zlib.h>

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

/* What COMPRESS.EXE's LZSS items expand to: a 4 KiB ring of spaces,
 * written from 4096 - 16. */
static void lzss_expect(const struct lzss_item *it, size_t n, struct sb *out)
{
	uint8_t ring[4096];
	unsigned r = 4096 - 16;

	memset(ring, ' ', sizeof(ring));
	for (size_t i = 0; i < n; i++) {
		if (it[i].len == 0) {
			ring[r] = it[i].c;
			sb_u8(out, ring[r]);
			r = (r + 1) & 4095;
			continue;
		}
		for (unsigned k = 0; k < it[i].len; k++) {
			ring[r] = ring[(it[i].pos + k) & 4095];
			sb_u8(out, ring[r]);
			r = (r + 1) & 4095;
		}
	}
}

/* Literals, then matches of every kind: into the initial spaces, over the
 * bytes being written, across the ring's end, after the ring wrapped. */
static size_t lzss_sample(struct lzss_item *it, size_t max)
{
	size_t n = 0;

	for (const char *s = "Hello, world"; *s; s++)
		it[n++] = (struct lzss_item){(uint8_t)*s, 0, 0};
	it[n++] = (struct lzss_item){0, 0, 18};          /* spaces */
	it[n++] = (struct lzss_item){0, 4080, 12};       /* "Hello, world" */
	it[n++] = (struct lzss_item){0, 4080 + 12, 18};  /* overlaps itself */
	it[n++] = (struct lzss_item){0, 4090, 3};        /* across the end */
	for (int i = 0; i < 5000 && n < max; i++)
		it[n++] = (struct lzss_item){(uint8_t)rnd(), 0, 0};
	while (n < max)
		it[n++] = (struct lzss_item){0, rnd() & 4095, 3 + rnd() % 16};
	return n;
}

static void clam_szdd(void **state)
{
	(void)state;
	expect_clam(unpack_szdd, "clam.exe.szdd", NULL);
}

static void szdd_built(void **state)
{
	static struct lzss_item it[6000];
	struct sb file = {0}, want = {0};
	struct collector k;
	size_t n = lzss_sample(it, 6000);

	(void)state;
	lzss_expect(it, n, &want);
	szdd_header(&file, (uint32_t)want.len);
	lzss_encode(&file, it, n);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_szdd, file.p, file.len, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_null(k.items[0].name);
	assert_int_equal(k.items[0].len, want.len);
	assert_memory_equal(k.items[0].data, want.p, want.len);
	assert_memory_equal(k.items[0].data, "Hello, world", 12);
	collector_free(&k);
	sb_free(&file);
	sb_free(&want);
}

static void kwaj_methods(void **state)
{
	static struct lzss_item it[300];
	struct sb lz = {0}, want = {0};
	size_t n = lzss_sample(it, 300);

	(void)state;
	lzss_expect(it, n, &want);
	lzss_encode(&lz, it, n);
	for (unsigned method = 0; method < 3; method++) {
		struct sb file = {0};
		struct collector k;

		kwaj_header(&file, method, (uint32_t)want.len, "SETUP", "EXE");
		if (method == 2) {
			sb_put(&file, lz.p, lz.len);
		} else {
			for (size_t i = 0; i < want.len; i++)
				sb_u8(&file, want.p[i] ^ (method == 1 ? 0xffu : 0u));
		}
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_szdd, file.p, file.len, &k), VG_OK);
		assert_int_equal(k.n, 1);
		assert_string_equal(k.items[0].name, "SETUP.EXE");
		assert_int_equal(k.items[0].len, want.len);
		assert_memory_equal(k.items[0].data, want.p, want.len);
		collector_free(&k);
		every_prefix(unpack_szdd, file.p, file.len < 400 ? file.len : 400);
		sb_free(&file);
	}
	/* LZ+Huffman (3) is not decoded, 5 does not exist: nothing handed over */
	for (unsigned method = 3; method < 6; method += 2) {
		struct sb file = {0};
		struct collector k;

		kwaj_header(&file, method, 10, "A", "B");
		sb_put(&file, "0123456789", 10);
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_szdd, file.p, file.len, &k), VG_OK);
		assert_int_equal(k.n, 0);
		collector_free(&k);
		sb_free(&file);
	}
	sb_free(&lz);
	sb_free(&want);
}

/* Raw deflate of in[0..n), with dict as the history it may refer to. */
static void deflate_block(struct sb *out, const uint8_t *dict, size_t dlen, const uint8_t *in, size_t n)
{
	z_stream z;
	uint8_t buf[70000];

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	if (dlen)
		assert_int_equal(deflateSetDictionary(&z, dict, (uInt)dlen), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = buf;
	z.avail_out = sizeof(buf);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	sb_u16(out, (unsigned)z.total_out + 2);
	sb_put(out, "CK", 2);
	sb_put(out, buf, z.total_out);
	deflateEnd(&z);
}

/* KWAJ method 4: MS-ZIP blocks of up to 32 KiB, each able to refer back
 * into the one before, then a zero length. */
static void kwaj_mszip(void **state)
{
	struct sb plain = {0}, file = {0};
	struct collector k;

	(void)state;
	for (int i = 0; i < 32768; i++)
		sb_u8(&plain, (uint8_t)(rnd() % 50 + 'A'));
	for (int i = 0; i < 20000; i++) /* repeats of the first block */
		sb_u8(&plain, plain.p[(size_t)i * 7 % 32768]);
	kwaj_header(&file, 4, (uint32_t)plain.len, "DATA", "BIN");
	deflate_block(&file, NULL, 0, plain.p, 32768);
	deflate_block(&file, plain.p, 32768, plain.p + 32768, 20000);
	sb_u16(&file, 0);
	for (int budget = 0; budget < 2; budget++) {
		collector_init(&k, budget ? 40000 : SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_szdd, file.p, file.len, &k), VG_OK);
		assert_int_equal(k.n, 1);
		assert_string_equal(k.items[0].name, "DATA.BIN");
		assert_int_equal(k.items[0].len, budget ? 40000 : plain.len);
		assert_int_equal(k.items[0].truncated, budget == 1);
		assert_memory_equal(k.items[0].data, plain.p, k.items[0].len);
		collector_free(&k);
	}
	/* damage in the second block keeps the first */
	file.p[file.len - 22] ^= 0x55;
	file.p[file.len - 200] ^= 0x55;
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_szdd, file.p, file.len, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_true(k.items[0].len >= 32768);
	assert_memory_equal(k.items[0].data, plain.p, 32768);
	collector_free(&k);
	sb_free(&plain);
	sb_free(&file);
}

static void truncated_everywhere(void **state)
{
	static struct lzss_item it[40];
	struct sb file = {0};
	size_t n = lzss_sample(it, 40);

	(void)state;
	szdd_header(&file, 1000);
	lzss_encode(&file, it, n);
	every_prefix(unpack_szdd, file.p, file.len);
	sb_free(&file);
}

/* 18 bytes from 2: the budget stops it, marked truncated. */
static void output_capped(void **state)
{
	static struct lzss_item it[100000];
	struct sb file = {0};
	struct collector k;

	(void)state;
	for (size_t i = 0; i < 100000; i++)
		it[i] = (struct lzss_item){0, 0, 18};
	szdd_header(&file, 1800000);
	lzss_encode(&file, it, 100000);
	collector_init(&k, 65536);
	assert_int_equal(run_unpacker(unpack_szdd, file.p, file.len, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.items[0].len, 65536);
	assert_true(k.items[0].truncated);
	collector_free(&k);
	stops_when_told(unpack_szdd, file.p, file.len, 1);
	sb_free(&file);
}

static void not_szdd(void **state)
{
	struct collector k;
	static const uint8_t qbasic[] = "SZ \x88\xf0\x27\x33\xd1 some data";
	static const uint8_t mode_b[] = "SZDD\x88\xf0\x27\x33" "Bx\x05\x00\x00\x00\xff" "abcde";

	(void)state;
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_szdd, qbasic, sizeof(qbasic) - 1, &k), VG_OK);
	assert_int_equal(run_unpacker(unpack_szdd, mode_b, sizeof(mode_b) - 1, &k), VG_OK);
	assert_int_equal(run_unpacker(unpack_szdd, "SZDD", 4, &k), VG_OK);
	assert_int_equal(k.n, 0);
	collector_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_szdd),
		cmocka_unit_test(szdd_built),
		cmocka_unit_test(kwaj_methods),
		cmocka_unit_test(kwaj_mszip),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(output_capped),
		cmocka_unit_test(not_szdd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
