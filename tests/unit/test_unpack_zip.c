/* unpack_zip: the zip entries libarchive cannot decode (implode, Deflate64).
 * clam.d64.zip and clam.impl.zip from clamav-testfiles, and archives built
 * here: Deflate64 stored, fixed (with the 64 KiB distance codes and length
 * code 285) and dynamic blocks (zlib writes those), all four implode
 * variants, and hostile ones. */
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

/* A deterministic source of 16-bit values (xorshift: no short cycles in
 * the low bits, so data made from it has no long repeats). */
static uint32_t rnd_state = 2463534242u;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state >> 16;
}

/* A zip holding one entry. */
static void one_entry(struct sb *zip, const char *name, unsigned method, unsigned flags,
		      const struct sb *data, size_t usize)
{
	struct zip_item it = {name, method, flags, data->p, data->len, (uint32_t)usize, 0, false};
	zip_build(zip, &it, 1, false, 0);
}

/* Deflate64 with every feature: two stored blocks, then a fixed block with
 * matches reaching 65536 back (distance codes 30 and 31) and lengths over
 * 258 (code 285); expect gets the output. */
static void d64_sample(struct sb *stream, struct sb *expect)
{
	struct bw w;
	uint8_t block[40000];

	bw_init(&w, stream, BW_LSB);
	for (size_t i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)rnd();
	d64_stored(&w, block, sizeof(block), false);
	sb_put(expect, block, sizeof(block));
	for (size_t i = 0; i < 30000; i++)
		block[i] = (uint8_t)rnd();
	d64_stored(&w, block, 30000, false);
	sb_put(expect, block, 30000);
	d64_fixed_start(&w, true);
	struct {
		unsigned len, dist;
	} m[] = {{65538, 65536}, {300, 49153}, {1000, 32769}, {3, 1}, {258, 40000}, {259, 7}, {4, 65536}};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		d64_fixed_match(&w, m[i].len, m[i].dist);
		for (unsigned k = 0; k < m[i].len; k++)
			sb_u8(expect, expect->p[expect->len - m[i].dist]);
		d64_fixed_sym(&w, 'a' + (unsigned)i);
		sb_u8(expect, 'a' + (unsigned)i);
	}
	d64_fixed_sym(&w, 200);
	sb_u8(expect, 200);
	d64_fixed_sym(&w, 256);
	bw_align(&w);
}

static void expect_one(const struct collector *k, const char *name, const struct sb *want)
{
	assert_int_equal(k->n, 1);
	assert_string_equal(k->items[0].name, name);
	assert_int_equal(k->items[0].len, want->len);
	assert_memory_equal(k->items[0].data, want->p, want->len);
	assert_false(k->items[0].truncated);
}

static void clam_d64(void **state)
{
	(void)state;
	expect_clam(unpack_zip, "clam.d64.zip", "clam.exe");
}

static void clam_implode(void **state)
{
	(void)state;
	expect_clam(unpack_zip, "clam.impl.zip", "CLAM.EXE");
}

static void deflate64_built(void **state)
{
	struct sb stream = {0}, expect = {0}, zip = {0};
	struct collector k;

	(void)state;
	d64_sample(&stream, &expect);
	one_entry(&zip, "big.bin", 9, 0, &stream, expect.len);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
	expect_one(&k, "big.bin", &expect);
	collector_free(&k);
	sb_free(&stream);
	sb_free(&expect);
	sb_free(&zip);
}

/* Dynamic blocks from zlib, on data without repeats of 258 bytes or more
 * (the one length Deflate64 codes differently). */
static void deflate64_dynamic_from_zlib(void **state)
{
	const size_t n = 300000;
	uint8_t *plain = malloc(n);
	struct sb stream = {0}, zip = {0}, want = {0};
	struct collector k;
	z_stream z;

	(void)state;
	for (size_t i = 0; i < n; i++)
		plain[i] = (uint8_t)("etaoinshrdlucmfw"[rnd() % 16]);
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	stream.cap = deflateBound(&z, n);
	stream.p = malloc(stream.cap);
	z.next_in = plain;
	z.avail_in = (uInt)n;
	z.next_out = stream.p;
	z.avail_out = (uInt)stream.cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	stream.len = z.total_out;
	deflateEnd(&z);
	one_entry(&zip, "text", 9, 0, &stream, n);
	sb_put(&want, plain, n);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
	expect_one(&k, "text", &want);
	collector_free(&k);
	free(plain);
	sb_free(&stream);
	sb_free(&zip);
	sb_free(&want);
}

/* Implode, all four variants: 4 or 8 KiB dictionary, with or without the
 * literal tree; matches reaching the whole dictionary and before the start
 * of the output (zeros, as PKZIP), lengths with the extra byte. */
static void implode_sample(bool big, bool lit, struct sb *stream, struct sb *expect)
{
	struct bw w;
	unsigned min = lit ? 3 : 2, window = big ? 8192 : 4096;

	implode_start(stream, lit);
	bw_init(&w, stream, BW_LSB);
	implode_match(&w, big, lit, 5, min); /* before the start: zeros */
	for (unsigned i = 0; i < min; i++)
		sb_u8(expect, 0);
	for (unsigned i = 0; i < window + 100; i++) {
		uint8_t c = (uint8_t)rnd();
		implode_literal(&w, lit, c);
		sb_u8(expect, c);
	}
	struct {
		unsigned len, dist;
	} m[] = {{min, window}, {min + 62, 1}, {min + 63, 2}, {min + 318, window - 1}, {min + 100, 64}, {min + 1, 65}};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		implode_match(&w, big, lit, m[i].dist, m[i].len);
		for (unsigned j = 0; j < m[i].len; j++)
			sb_u8(expect, expect->p[expect->len - m[i].dist]);
	}
	implode_literal(&w, lit, 0xff);
	sb_u8(expect, 0xff);
	bw_align(&w);
}

static void implode_variants(void **state)
{
	(void)state;
	for (int v = 0; v < 4; v++) {
		bool big = v & 1, lit = v & 2;
		struct sb stream = {0}, expect = {0}, zip = {0};
		struct collector k;

		implode_sample(big, lit, &stream, &expect);
		one_entry(&zip, "IMPL.BIN", 6, (big ? 2u : 0u) | (lit ? 4u : 0u), &stream, expect.len);
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
		expect_one(&k, "IMPL.BIN", &expect);
		collector_free(&k);
		sb_free(&stream);
		sb_free(&expect);
		sb_free(&zip);
	}
}

/* Only methods 6 and 9 are handed over: libarchive has the rest. */
static void other_methods_left_to_libarchive(void **state)
{
	struct sb d64 = {0}, expect = {0}, zip = {0};
	uint8_t deflated[64];
	uLongf dlen = sizeof(deflated);
	struct collector k;

	(void)state;
	d64_sample(&d64, &expect);
	assert_int_equal(compress2(deflated, &dlen, (const Bytef *)"hello hello hello", 17, 9), Z_OK);
	struct zip_item it[] = {
		{"stored.txt", 0, 0, (const uint8_t *)"plain", 5, 5, 0, false},
		{"deflate.txt", 8, 0, deflated + 2, dlen - 6, 17, 0, false},
		{"d64.bin", 9, 0, d64.p, d64.len, (uint32_t)expect.len, 0, false},
		{"bzip2.bin", 12, 0, (const uint8_t *)"BZh9", 4, 4, 0, false},
	};
	for (int local_only = 0; local_only < 2; local_only++) {
		zip.len = 0;
		zip_build(&zip, it, 4, local_only, 0);
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
		expect_one(&k, "d64.bin", &expect);
		collector_free(&k);
	}
	sb_free(&d64);
	sb_free(&expect);
	sb_free(&zip);
}

struct enc_seen {
	size_t n;
	bool encrypted;
	size_t len;
	char name[64];
};

static vg_status enc_child(void *ctx, const struct unpack_child *c)
{
	struct enc_seen *s = ctx;

	s->n++;
	s->encrypted = c->encrypted;
	s->len = c->len;
	snprintf(s->name, sizeof(s->name), "%s", c->name ? c->name : "");
	return VG_OK;
}

static void encrypted_entry_flagged(void **state)
{
	struct sb zip = {0};
	struct enc_seen seen = {0};
	struct unpack_sink sink = {enc_child, &seen, 1 << 20};
	struct zip_item it = {"secret.bin", 9, 1, (const uint8_t *)"\x12\x34\x56\x78garbage", 11, 100, 0, false};

	(void)state;
	zip_build(&zip, &it, 1, false, 0);
	struct unpack_input in = {zip.p, zip.len};
	assert_int_equal(unpack_zip(&in, &sink), VG_OK);
	assert_int_equal(seen.n, 1);
	assert_true(seen.encrypted);
	assert_int_equal(seen.len, 0);
	assert_string_equal(seen.name, "secret.bin");
	sb_free(&zip);
}

/* Without a usable central directory, local headers are walked: cut off
 * the directory, put a stub before the archive, use data descriptors. */
static void local_headers_and_self_extractors(void **state)
{
	struct sb s1 = {0}, e1 = {0}, s2 = {0}, e2 = {0}, zip = {0};
	struct collector k;

	(void)state;
	d64_sample(&s1, &e1);
	implode_sample(false, true, &s2, &e2);
	for (int v = 0; v < 4; v++) {
		bool descriptor = v & 1, local_only = v & 2;
		struct zip_item it[] = {
			{"a.bin", 9, 0, s1.p, s1.len, (uint32_t)e1.len, 0, descriptor},
			{"b.bin", 6, 4, s2.p, s2.len, (uint32_t)e2.len, 0, descriptor},
		};
		zip.len = 0;
		zip_build(&zip, it, 2, local_only, local_only ? 0 : 5000);
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
		assert_int_equal(k.n, 2);
		assert_int_equal(k.items[0].len, e1.len);
		assert_memory_equal(k.items[0].data, e1.p, e1.len);
		assert_int_equal(k.items[1].len, e2.len);
		assert_memory_equal(k.items[1].data, e2.p, e2.len);
		collector_free(&k);
	}
	sb_free(&s1);
	sb_free(&e1);
	sb_free(&s2);
	sb_free(&e2);
	sb_free(&zip);
}

/* Zip64: sizes and the local header's offset in the extended information
 * field, the directory found through the zip64 end record. */
static void zip64_records(void **state)
{
	struct sb s = {0}, e = {0}, zip = {0};
	struct collector k;
	size_t cd, end64;

	(void)state;
	implode_sample(true, true, &s, &e);
	/* local header: sizes in its zip64 field */
	sb_u32(&zip, 0x04034b50);
	sb_u16(&zip, 45);
	sb_u16(&zip, 6);
	sb_u16(&zip, 6);
	sb_u32(&zip, 0);
	sb_u32(&zip, 0);
	sb_u32(&zip, 0xffffffff);
	sb_u32(&zip, 0xffffffff);
	sb_u16(&zip, 3);
	sb_u16(&zip, 20);
	sb_put(&zip, "z64", 3);
	sb_u16(&zip, 1);
	sb_u16(&zip, 16);
	sb_u64(&zip, e.len);
	sb_u64(&zip, s.len);
	sb_put(&zip, s.p, s.len);
	cd = zip.len;
	sb_u32(&zip, 0x02014b50);
	sb_u16(&zip, 45);
	sb_u16(&zip, 45);
	sb_u16(&zip, 6);
	sb_u16(&zip, 6);
	sb_u32(&zip, 0);
	sb_u32(&zip, 0);
	sb_u32(&zip, 0xffffffff);
	sb_u32(&zip, 0xffffffff);
	sb_u16(&zip, 3);
	sb_u16(&zip, 4 + 24 + 4); /* an unknown field first, then zip64 */
	sb_u16(&zip, 0);
	sb_u16(&zip, 0);
	sb_u16(&zip, 0);
	sb_u32(&zip, 0);
	sb_u32(&zip, 0xffffffff);
	sb_put(&zip, "z64", 3);
	sb_u16(&zip, 0x5455);
	sb_u16(&zip, 0);
	sb_u16(&zip, 1);
	sb_u16(&zip, 24);
	sb_u64(&zip, e.len);
	sb_u64(&zip, s.len);
	sb_u64(&zip, 0);
	sb_u32(&zip, 0); /* a second, empty unknown field */
	end64 = zip.len;
	sb_u32(&zip, 0x06064b50);
	sb_u64(&zip, 44);
	sb_u16(&zip, 45);
	sb_u16(&zip, 45);
	sb_u32(&zip, 0);
	sb_u32(&zip, 0);
	sb_u64(&zip, 1);
	sb_u64(&zip, 1);
	sb_u64(&zip, end64 - cd);
	sb_u64(&zip, cd);
	sb_u32(&zip, 0x07064b50);
	sb_u32(&zip, 0);
	sb_u64(&zip, end64);
	sb_u32(&zip, 1);
	sb_u32(&zip, 0x06054b50);
	sb_u16(&zip, 0xffff);
	sb_u16(&zip, 0xffff);
	sb_u16(&zip, 0xffff);
	sb_u16(&zip, 0xffff);
	sb_u32(&zip, 0xffffffff);
	sb_u32(&zip, 0xffffffff);
	sb_u16(&zip, 0);
	for (int pass = 0; pass < 2; pass++) { /* then with the end records gone */
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_zip, zip.p, pass ? end64 : zip.len, &k), VG_OK);
		expect_one(&k, "z64", &e);
		collector_free(&k);
	}
	sb_free(&s);
	sb_free(&e);
	sb_free(&zip);
}

/* A local entry with a data descriptor bit but no descriptor record: its
 * data ends at the next header. */
static void descriptor_missing(void **state)
{
	struct sb s = {0}, e = {0}, zip = {0};
	struct collector k;

	(void)state;
	implode_sample(false, false, &s, &e);
	struct zip_item it[] = {
		{"a", 6, 8, s.p, s.len, 0, 0, false},
		{"b", 6, 0, s.p, s.len, (uint32_t)e.len, 0, false},
	};
	zip_build(&zip, it, 2, true, 0);
	/* the first entry's sizes are zero (unknown) as with a descriptor */
	memset(zip.p + 18, 0, 8);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
	assert_int_equal(k.n, 2);
	/* without a size, implode runs to the end of its data: the output
	 * starts right and may have made-up bytes after */
	assert_true(k.items[0].len >= e.len);
	assert_memory_equal(k.items[0].data, e.p, e.len);
	assert_int_equal(k.items[1].len, e.len);
	assert_memory_equal(k.items[1].data, e.p, e.len);
	collector_free(&k);
	sb_free(&s);
	sb_free(&e);
	sb_free(&zip);
}

static void sink_stops_unpacker(void **state)
{
	struct sb s = {0}, e = {0}, zip = {0};

	(void)state;
	implode_sample(true, false, &s, &e);
	struct zip_item it[] = {
		{"1", 6, 2, s.p, s.len, (uint32_t)e.len, 0, false},
		{"2", 6, 2, s.p, s.len, (uint32_t)e.len, 0, false},
		{"3", 6, 2, s.p, s.len, (uint32_t)e.len, 0, false},
	};
	zip_build(&zip, it, 3, false, 0);
	stops_when_told(unpack_zip, zip.p, zip.len, 3);
	sb_free(&s);
	sb_free(&e);
	sb_free(&zip);
}

/* A small archive of both methods, cut at every length. */
static void truncated_everywhere(void **state)
{
	struct sb s1 = {0}, s2 = {0}, e = {0}, zip = {0};
	struct bw w;

	(void)state;
	bw_init(&w, &s1, BW_LSB);
	d64_fixed_start(&w, true);
	for (unsigned c = 'a'; c < 'k'; c++)
		d64_fixed_sym(&w, c);
	d64_fixed_match(&w, 300, 10);
	d64_fixed_sym(&w, 256);
	bw_align(&w);
	implode_start(&s2, false);
	bw_init(&w, &s2, BW_LSB);
	for (unsigned c = 'a'; c < 'k'; c++)
		implode_literal(&w, false, (uint8_t)c);
	implode_match(&w, false, false, 10, 100);
	bw_align(&w);
	struct zip_item it[] = {
		{"d", 9, 0, s1.p, s1.len, 310, 0, false},
		{"i", 6, 0, s2.p, s2.len, 110, 0, false},
	};
	zip_build(&zip, it, 2, false, 0);
	every_prefix(unpack_zip, zip.p, zip.len);
	zip.len = 0;
	zip_build(&zip, it, 2, true, 0);
	every_prefix(unpack_zip, zip.p, zip.len);
	sb_free(&s1);
	sb_free(&s2);
	sb_free(&e);
	sb_free(&zip);
}

/* Broken streams end their entry where they break. */
static void corrupt_streams(void **state)
{
	struct sb s = {0}, zip = {0};
	struct collector k;
	struct bw w;

	(void)state;
	/* a dynamic block whose code length code oversubscribes */
	bw_init(&w, &s, BW_LSB);
	bw_put(&w, 1, 1);
	bw_put(&w, 2, 2);
	bw_put(&w, 0, 5);
	bw_put(&w, 0, 5);
	bw_put(&w, 15, 4);
	for (int i = 0; i < 19; i++)
		bw_put(&w, 1, 3);
	bw_align(&w);
	one_entry(&zip, "x", 9, 0, &s, 100);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.items[0].len, 0);
	collector_free(&k);

	/* a distance beyond what was written: output stops before it */
	s.len = zip.len = 0;
	bw_init(&w, &s, BW_LSB);
	d64_fixed_start(&w, true);
	for (unsigned c = 'a'; c < 'f'; c++)
		d64_fixed_sym(&w, c);
	d64_fixed_match(&w, 10, 6);
	d64_fixed_sym(&w, 'z');
	d64_fixed_sym(&w, 256);
	bw_align(&w);
	one_entry(&zip, "x", 9, 0, &s, 16);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.items[0].len, 5);
	assert_memory_equal(k.items[0].data, "abcde", 5);
	collector_free(&k);

	/* block type 3 */
	s.len = zip.len = 0;
	sb_u8(&s, 0x07);
	one_entry(&zip, "x", 9, 0, &s, 16);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
	assert_int_equal(k.items[0].len, 0);
	collector_free(&k);

	/* implode trees whose runs do not cover 64 values, or oversubscribe */
	static const uint8_t bad_trees[][8] = {
		{0x02, 0xf5, 0xf5, 0xf5, 0x03, 0xf5, 0xf5, 0xf5}, /* 48 values */
		{0x03, 0xf0, 0xf0, 0xf0, 0xf0, 0x03, 0xf5, 0xf5}, /* 64 one-bit codes */
	};
	for (size_t t = 0; t < 2; t++) {
		s.len = zip.len = 0;
		sb_put(&s, bad_trees[t], 8);
		sb_put(&s, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
		one_entry(&zip, "x", 6, 0, &s, 100);
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
		assert_int_equal(k.items[0].len, 0);
		collector_free(&k);
	}
	sb_free(&s);
	sb_free(&zip);
}

/* Output stops at the budget: a Deflate64 stream of 16 GiB in 64 KiB
 * matches, and an implode entry claiming 4 GiB. */
static void bombs_capped(void **state)
{
	struct sb s = {0}, zip = {0};
	struct collector k;
	struct bw w;
	const size_t budget = 3u << 20;

	(void)state;
	bw_init(&w, &s, BW_LSB);
	d64_fixed_start(&w, true);
	d64_fixed_sym(&w, 'A');
	for (int i = 0; i < 262144; i++)
		d64_fixed_match(&w, 65538, 1);
	d64_fixed_sym(&w, 256);
	bw_align(&w);
	one_entry(&zip, "bomb", 9, 0, &s, 0xffffffffu);
	collector_init(&k, budget);
	assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.items[0].len, budget);
	assert_true(k.items[0].truncated);
	for (size_t i = 0; i < budget; i++)
		if (k.items[0].data[i] != 'A')
			fail_msg("byte %zu", i);
	collector_free(&k);

	s.len = zip.len = 0;
	implode_start(&s, false);
	bw_init(&w, &s, BW_LSB);
	implode_literal(&w, false, 'B');
	for (int i = 0; i < 100000; i++)
		implode_match(&w, false, false, 1, 320);
	bw_align(&w);
	one_entry(&zip, "bomb", 6, 0, &s, 0xffffffffu);
	collector_init(&k, budget);
	assert_int_equal(run_unpacker(unpack_zip, zip.p, zip.len, &k), VG_OK);
	assert_int_equal(k.items[0].len, budget);
	assert_true(k.items[0].truncated);
	collector_free(&k);
	sb_free(&s);
	sb_free(&zip);
}

/* Flipped bytes anywhere in a small archive: no crash, no leak. */
static void random_damage(void **state)
{
	struct sb s1 = {0}, e1 = {0}, s2 = {0}, e2 = {0}, zip = {0};

	(void)state;
	implode_sample(true, true, &s2, &e2);
	{
		struct bw w;
		bw_init(&w, &s1, BW_LSB);
		d64_fixed_start(&w, true);
		for (int i = 0; i < 200; i++)
			d64_fixed_sym(&w, (unsigned)rnd() % 256);
		d64_fixed_match(&w, 1000, 150);
		d64_fixed_sym(&w, 256);
		bw_align(&w);
	}
	struct zip_item it[] = {
		{"d", 9, 0, s1.p, s1.len, 1200, 0, false},
		{"i", 6, 6, s2.p, s2.len, (uint32_t)e2.len, 0, false},
	};
	zip_build(&zip, it, 2, false, 0);
	uint8_t *copy = malloc(zip.len);
	for (int round = 0; round < 3000; round++) {
		struct collector k;
		memcpy(copy, zip.p, zip.len);
		for (int f = 0; f < 1 + round % 4; f++)
			copy[rnd() % zip.len] ^= (uint8_t)(1u << (rnd() % 8));
		collector_init(&k, round % 2 ? 700 : SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_zip, copy, zip.len, &k), VG_OK);
		collector_free(&k);
	}
	free(copy);
	sb_free(&s1);
	sb_free(&e1);
	sb_free(&s2);
	sb_free(&e2);
	sb_free(&zip);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_d64),
		cmocka_unit_test(clam_implode),
		cmocka_unit_test(deflate64_built),
		cmocka_unit_test(deflate64_dynamic_from_zlib),
		cmocka_unit_test(implode_variants),
		cmocka_unit_test(other_methods_left_to_libarchive),
		cmocka_unit_test(encrypted_entry_flagged),
		cmocka_unit_test(local_headers_and_self_extractors),
		cmocka_unit_test(zip64_records),
		cmocka_unit_test(descriptor_missing),
		cmocka_unit_test(sink_stops_unpacker),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(corrupt_streams),
		cmocka_unit_test(bombs_capped),
		cmocka_unit_test(random_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
