/* unpack/binhex.c: BinHex 4.0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unpack_collect.h"

/* ---- an encoder, to make inputs ---- */

static const char alphabet[] = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

struct bytes {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put1(struct bytes *b, uint8_t c)
{
	put(b, &c, 1);
}

static void put32(struct bytes *b, uint32_t v)
{
	uint8_t q[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put(b, q, 4);
}

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t c = 0;

	for (size_t i = 0; i < n; i++) {
		c ^= (uint16_t)(p[i] << 8);
		for (int k = 0; k < 8; k++)
			c = (uint16_t)(c & 0x8000 ? c << 1 ^ 0x1021 : c << 1);
	}
	return c;
}

static void put_crc(struct bytes *b, const uint8_t *p, size_t n, bool corrupt)
{
	uint16_t c = (uint16_t)(crc16(p, n) ^ (corrupt ? 0x1234 : 0));
	put1(b, (uint8_t)(c >> 8));
	put1(b, (uint8_t)c);
}

/* The decoded stream: header, data fork, resource fork, with CRCs. */
static struct bytes stream(const char *name, const uint8_t *d, size_t dn, const uint8_t *r, size_t rn,
			   bool corrupt)
{
	struct bytes s = {0};
	size_t h0;

	put1(&s, (uint8_t)strlen(name));
	put(&s, name, strlen(name));
	put1(&s, 0);
	put(&s, "TEXTttxt\0\0", 10);
	put32(&s, (uint32_t)dn);
	put32(&s, (uint32_t)rn);
	h0 = s.n;
	put_crc(&s, s.p, h0, corrupt);
	put(&s, d, dn);
	put_crc(&s, d, dn, corrupt);
	put(&s, r, rn);
	put_crc(&s, r, rn, corrupt);
	return s;
}

/* Run-length coding: runs of 3..255 as byte 0x90 n; 0x90 as 0x90 0x00. */
static struct bytes rle(const struct bytes *in)
{
	struct bytes o = {0};

	for (size_t i = 0; i < in->n;) {
		uint8_t c = in->p[i];
		size_t run = 1;
		if (c == 0x90) {
			put(&o, "\x90\x00", 2);
			i++;
			continue;
		}
		while (i + run < in->n && in->p[i + run] == c && run < 255)
			run++;
		put1(&o, c);
		if (run >= 3) {
			put1(&o, 0x90);
			put1(&o, (uint8_t)run);
		} else {
			run = 1;
		}
		i += run;
	}
	return o;
}

/* 6-bit text with the marker line, 64 characters a line, between ':'. */
static struct bytes text(const char *before, const struct bytes *raw)
{
	struct bytes t = {0};
	uint32_t acc = 0;
	unsigned bits = 0, col = 1;

	put(&t, before, strlen(before));
	put(&t, "(This file must be converted with BinHex 4.0)\n:", 47);
	for (size_t i = 0; i <= raw->n; i++) {
		if (i < raw->n) {
			acc = acc << 8 | raw->p[i];
			bits += 8;
		} else if (bits) { /* pad the last group */
			acc <<= 6 - bits;
			bits = 6;
		}
		while (bits >= 6) {
			bits -= 6;
			put1(&t, (uint8_t)alphabet[acc >> bits & 0x3f]);
			if (++col == 64) {
				put1(&t, '\n');
				col = 0;
			}
		}
	}
	put(&t, ":\n", 2);
	return t;
}

static struct bytes encode(const char *before, const char *name, const uint8_t *d, size_t dn,
			   const uint8_t *r, size_t rn, bool corrupt)
{
	struct bytes s = stream(name, d, dn, r, rn, corrupt);
	struct bytes c = rle(&s);
	struct bytes t = text(before, &c);

	free(s.p);
	free(c.p);
	return t;
}

/* ---- tests ---- */

static void clam_binhex(void **state)
{
	(void)state;
	expect_clam_exe(unpack_binhex, "clam.exe.binhex", "clam.exe");
}

static void both_forks(void **state)
{
	uint8_t d[3000], r[40];
	struct bytes t;
	struct collector k;

	(void)state;
	for (size_t i = 0; i < sizeof(d); i++) /* runs, 0x90 bytes, runs of 0x90 */
		d[i] = i < 600 ? 0 : i < 700 ? 0x90 : i < 1000 ? (uint8_t)(i / 3) : (uint8_t)(i * 31);
	for (size_t i = 0; i < sizeof(r); i++)
		r[i] = (uint8_t)(0x90 + i % 2);
	t = encode("Some text first.\r\n\r\n", "hello.txt", d, sizeof(d), r, sizeof(r), false);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_binhex, t.p, t.n, &k), VG_OK);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.items[0].name, "hello.txt");
	assert_int_equal(k.items[0].len, sizeof(d));
	assert_memory_equal(k.items[0].data, d, sizeof(d));
	assert_string_equal(k.items[1].name, "hello.txt/..namedfork/rsrc");
	assert_int_equal(k.items[1].len, sizeof(r));
	assert_memory_equal(k.items[1].data, r, sizeof(r));
	collector_free(&k);
	free(t.p);
}

static void crc_error_not_fatal(void **state)
{
	const uint8_t d[] = "data with a bad CRC";
	struct bytes t = encode("", "bad", d, sizeof(d), NULL, 0, true);
	struct collector k;

	(void)state;
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_binhex, t.p, t.n, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_memory_equal(k.items[0].data, d, sizeof(d));
	assert_false(k.items[0].truncated);
	collector_free(&k);
	free(t.p);
}

static void two_blocks_and_case(void **state)
{
	const uint8_t a[] = "first", b[] = "second";
	struct bytes t1 = encode("", "a", a, sizeof(a), NULL, 0, false);
	struct bytes t2 = encode("\n-- next --\n", "b", b, sizeof(b), NULL, 0, false);
	struct bytes all = {0};
	struct collector k;

	(void)state;
	/* the marker line in another case, as some mailers rewrite it */
	memcpy(t1.p, "(THIS FILE MUST BE CONVERTED WITH BINHEX", 40);
	put(&all, t1.p, t1.n);
	put(&all, t2.p, t2.n);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_binhex, all.p, all.n, &k), VG_OK);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.items[0].name, "a");
	assert_memory_equal(k.items[0].data, a, sizeof(a));
	assert_string_equal(k.items[1].name, "b");
	assert_memory_equal(k.items[1].data, b, sizeof(b));
	collector_free(&k);
	free(t1.p);
	free(t2.p);
	free(all.p);
}

/* Declared 4 GiB, made of runs: kept to max_child, counted, not stored. */
static void rle_bomb(void **state)
{
	struct bytes s = {0}, t;
	struct collector k;
	size_t pairs = 200000; /* ~50 MB of output from ~530 KB of text */

	(void)state;
	put1(&s, 1);
	put1(&s, 'x');
	put1(&s, 0);
	put(&s, "TEXTttxt\0\0", 10);
	put32(&s, 0xffffffffu);
	put32(&s, 0xffffffffu);
	put(&s, "\0\0", 2);
	put1(&s, 'A');
	for (size_t i = 0; i < pairs; i++)
		put(&s, "\x90\xff", 2);
	t = text("", &s);
	collector_init(&k, 1u << 20);
	assert_int_equal(run_unpacker(unpack_binhex, t.p, t.n, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.items[0].len, 1u << 20);
	assert_true(k.items[0].truncated);
	for (size_t i = 0; i < k.items[0].len; i++)
		if (k.items[0].data[i] != 'A')
			fail_msg("byte %zu is not 'A'", i);
	collector_free(&k);
	free(s.p);
	free(t.p);
}

static void budget(void **state)
{
	const uint8_t d[] = "0123456789";
	struct bytes t = encode("", "n", d, 10, d, 4, false);
	struct collector k;

	(void)state;
	collector_init(&k, 5);
	assert_int_equal(run_unpacker(unpack_binhex, t.p, t.n, &k), VG_OK);
	assert_int_equal(k.n, 2);
	assert_int_equal(k.items[0].len, 5);
	assert_true(k.items[0].truncated);
	assert_memory_equal(k.items[0].data, "01234", 5);
	assert_int_equal(k.items[1].len, 4); /* the next fork is still found */
	assert_false(k.items[1].truncated);
	assert_memory_equal(k.items[1].data, "0123", 4);
	collector_free(&k);
	free(t.p);
}

static void broken(void **state)
{
	static const char *const cases[] = {
		"",
		"(This file must be converted with BinHex 4.0)",
		"(This file must be converted with BinHex 4.0)\n:",
		"(This file must be converted with BinHex 4.0)\n::",
		"(This file must be converted with BinHex 4.0)\n:!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!:",
		"(This file must be converted with BinHex 4.0)\n:#!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\xff",
		":nothing without the marker:",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct collector k;
		collector_init(&k, SIZE_MAX);
		assert_int_equal(run_unpacker(unpack_binhex, cases[i], strlen(cases[i]), &k), VG_OK);
		assert_int_equal(k.n, 0);
		collector_free(&k);
	}
}

static void truncated_everywhere(void **state)
{
	uint8_t d[200], r[30];
	struct bytes t;

	(void)state;
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = i < 50 ? 7 : (uint8_t)(i * 13);
	memset(r, 0x90, sizeof(r));
	t = encode("x\n", "trunc.bin", d, sizeof(d), r, sizeof(r), false);
	every_prefix(unpack_binhex, t.p, t.n);
	stops_when_told(unpack_binhex, t.p, t.n, 2);
	free(t.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_binhex),
		cmocka_unit_test(both_forks),
		cmocka_unit_test(crc_error_not_fatal),
		cmocka_unit_test(two_blocks_and_case),
		cmocka_unit_test(rle_bomb),
		cmocka_unit_test(budget),
		cmocka_unit_test(broken),
		cmocka_unit_test(truncated_everywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
