/* unpack/tnef.c: MS-TNEF (winmail.dat). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unpack_collect.h"

/* ---- a writer, to make inputs ---- */

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

static void put16(struct bytes *b, uint32_t v)
{
	uint8_t q[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(b, q, 2);
}

static void put32(struct bytes *b, uint32_t v)
{
	uint8_t q[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(b, q, 4);
}

static void pad4(struct bytes *b)
{
	while (b->n % 4)
		put(b, "", 1);
}

static struct bytes tnef_start(void)
{
	struct bytes b = {0};
	put32(&b, 0x223E9F78u);
	put16(&b, 0x0001);
	return b;
}

/* One attribute; declared: the length field written (normally len). */
static void attr(struct bytes *b, uint8_t level, uint32_t id, const void *data, size_t len, uint32_t declared)
{
	uint32_t sum = 0;

	put(b, &level, 1);
	put32(b, id);
	put32(b, declared);
	put(b, data, len);
	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)data)[i];
	put16(b, sum & 0xffff);
}

#define ATT_ATTACH_DATA 0x0006800Fu
#define ATT_ATTACH_TITLE 0x00018010u
#define ATT_ATTACH_REND_DATA 0x00069002u
#define ATT_MSG_PROPS 0x00069003u
#define ATT_ATTACHMENT 0x00069005u
#define ATT_TNEF_VERSION 0x00089006u

static void rend(struct bytes *b)
{
	attr(b, 2, ATT_ATTACH_REND_DATA, "\x01\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00", 14, 14);
}

/* MAPI property values */
static void prop_variable(struct bytes *m, uint32_t type, uint32_t id, const void *v, size_t len)
{
	put32(m, id << 16 | type);
	put32(m, 1);
	put32(m, (uint32_t)len);
	put(m, v, len);
	pad4(m);
}

static void prop_long(struct bytes *m, uint32_t id, uint32_t v)
{
	put32(m, id << 16 | 0x0003);
	put32(m, v);
}

/* ---- tests ---- */

static void clam_tnef(void **state)
{
	size_t len = 0;
	uint8_t *t;
	struct collector k;
	bool rtf = false;

	(void)state;
	expect_clam_exe(unpack_tnef, "clam.tnef", "clam.exe");
	/* and the message's compressed RTF body, decompressed */
	t = slurp(TESTFILES "clam.tnef", &len);
	if (!t)
		skip();
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_tnef, t, len, &k), VG_OK);
	for (size_t i = 0; i < k.n; i++)
		if (k.items[i].len > 6 && memcmp(k.items[i].data, "{\\rtf1", 6) == 0 && !k.items[i].name)
			rtf = true;
	assert_true(rtf);
	collector_free(&k);
	free(t);
}

static void names_and_sources(void **state)
{
	struct bytes b = tnef_start(), m = {0}, m2 = {0}, m3 = {0};
	/* "long ü.txt" in UTF-16LE */
	const uint8_t wide[] = {'l', 0, 'o', 0, 'n', 0, 'g', 0, ' ', 0, 0xfc, 0, '.', 0, 't', 0, 'x', 0, 't', 0, 0, 0};
	uint8_t obj[16 + 8];
	struct collector k;

	(void)state;
	attr(&b, 1, ATT_TNEF_VERSION, "\x00\x00\x01\x00", 4, 4);
	/* 1: attAttachData, a title, then MAPI properties with a long name */
	rend(&b);
	attr(&b, 2, ATT_ATTACH_DATA, "first data", 10, 10);
	attr(&b, 2, ATT_ATTACH_TITLE, "SHORT.TXT", 10, 10);
	put32(&m, 3);
	prop_long(&m, 0x0E20, 10);
	prop_variable(&m, 0x001F, 0x3707, wide, sizeof(wide));
	prop_variable(&m, 0x001E, 0x3704, "SHORT~1.TXT", 12);
	attr(&b, 2, ATT_ATTACHMENT, m.p, m.n, (uint32_t)m.n);
	/* 2: only a title */
	rend(&b);
	attr(&b, 2, ATT_ATTACH_TITLE, "second.bin", 11, 11);
	attr(&b, 2, ATT_ATTACH_DATA, "second data", 11, 11);
	/* 3: data as PR_ATTACH_DATA_BIN, named by PR_DISPLAY_NAME */
	rend(&b);
	put32(&m2, 2);
	prop_variable(&m2, 0x0102, 0x3701, "mapi bin", 8);
	prop_variable(&m2, 0x001E, 0x3001, "display.doc", 12);
	attr(&b, 2, ATT_ATTACHMENT, m2.p, m2.n, (uint32_t)m2.n);
	/* 4: an embedded message (PT_OBJECT: an interface id, then TNEF) */
	rend(&b);
	memset(obj, 0xab, 16);
	memcpy(obj + 16, "\x78\x9f\x3e\x22\x01\x00zz", 8);
	put32(&m3, 1);
	prop_variable(&m3, 0x000D, 0x3701, obj, sizeof(obj));
	attr(&b, 2, ATT_ATTACHMENT, m3.p, m3.n, (uint32_t)m3.n);

	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_tnef, b.p, b.n, &k), VG_OK);
	assert_int_equal(k.n, 4);
	assert_string_equal(k.items[0].name, "long \xc3\xbc.txt");
	assert_memory_equal(k.items[0].data, "first data", 10);
	assert_string_equal(k.items[1].name, "second.bin");
	assert_memory_equal(k.items[1].data, "second data", 11);
	assert_string_equal(k.items[2].name, "display.doc");
	assert_int_equal(k.items[2].len, 8);
	assert_memory_equal(k.items[2].data, "mapi bin", 8);
	assert_null(k.items[3].name);
	assert_int_equal(k.items[3].len, 8);
	assert_memory_equal(k.items[3].data, obj + 16, 8);
	collector_free(&k);
	stops_when_told(unpack_tnef, b.p, b.n, 4);
	every_prefix(unpack_tnef, b.p, b.n);
	free(b.p);
	free(m.p);
	free(m2.p);
	free(m3.p);
}

/* MS-OXRTFCP's own examples: compressed, and uncompressed ("MELA"). */
static void rtf_body(void **state)
{
	static const uint8_t lzfu[] = {
		0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46, 0x75, 0xf1, 0xc5, 0xc7, 0xa7,
		0x03, 0x00, 0x0a, 0x00, 0x72, 0x63, 0x70, 0x67, 0x31, 0x32, 0x35, 0x42, 0x32, 0x0a, 0xf3, 0x20,
		0x68, 0x65, 0x6c, 0x09, 0x00, 0x20, 0x62, 0x77, 0x05, 0xb0, 0x6c, 0x64, 0x7d, 0x0a, 0x80, 0x0f,
		0xa0,
	};
	static const char want[] = "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n";
	struct bytes b = tnef_start(), m = {0}, mela = {0};
	struct collector k;

	(void)state;
	put32(&mela, 16 + 5);
	put32(&mela, 5);
	put(&mela, "MELA", 4);
	put32(&mela, 0);
	put(&mela, "{\\rtf", 5);
	put32(&m, 2);
	prop_variable(&m, 0x0102, 0x1009, lzfu, sizeof(lzfu));
	prop_variable(&m, 0x0102, 0x1009, mela.p, mela.n);
	attr(&b, 1, ATT_MSG_PROPS, m.p, m.n, (uint32_t)m.n);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_tnef, b.p, b.n, &k), VG_OK);
	assert_int_equal(k.n, 2);
	assert_null(k.items[0].name);
	assert_int_equal(k.items[0].len, sizeof(want) - 1);
	assert_memory_equal(k.items[0].data, want, sizeof(want) - 1);
	assert_int_equal(k.items[1].len, 5);
	assert_memory_equal(k.items[1].data, "{\\rtf", 5);
	collector_free(&k);

	collector_init(&k, 10); /* decompression stops at the budget */
	assert_int_equal(run_unpacker(unpack_tnef, b.p, b.n, &k), VG_OK);
	assert_int_equal(k.items[0].len, 10);
	assert_true(k.items[0].truncated);
	assert_memory_equal(k.items[0].data, want, 10);
	collector_free(&k);
	every_prefix(unpack_tnef, b.p, b.n);
	free(b.p);
	free(m.p);
	free(mela.p);
}

/* Lengths and counts far larger than the file. */
static void hostile_sizes(void **state)
{
	struct bytes b = tnef_start(), m = {0};
	struct collector k;

	(void)state;
	rend(&b);
	attr(&b, 2, ATT_ATTACH_DATA, "0123456789", 10, 0xfffffff0u);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_tnef, b.p, b.n, &k), VG_OK);
	assert_int_equal(k.n, 1); /* what is there, including the checksum bytes */
	assert_int_equal(k.items[0].len, 12);
	assert_memory_equal(k.items[0].data, "0123456789", 10);
	collector_free(&k);
	collector_init(&k, 4);
	assert_int_equal(run_unpacker(unpack_tnef, b.p, b.n, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.items[0].len, 4);
	assert_true(k.items[0].truncated);
	collector_free(&k);
	free(b.p);

	/* a property count of 4 billion; a named property's name of 4 GB */
	b = tnef_start();
	rend(&b);
	put32(&m, 0xffffffffu);
	put32(&m, 0x8000u << 16 | 0x1003); /* named, PT_MV_LONG */
	put(&m, "0123456789abcdef", 16);
	put32(&m, 1);
	put32(&m, 0xfffffff0u);
	attr(&b, 2, ATT_ATTACHMENT, m.p, m.n, (uint32_t)m.n);
	/* a value count of 4 billion */
	rend(&b);
	m.n = 0;
	put32(&m, 0xffffffffu);
	put32(&m, 0x3701u << 16 | 0x1102); /* PT_MV_BINARY */
	put32(&m, 0xffffffffu);
	put32(&m, 3);
	put(&m, "abc\0", 4);
	attr(&b, 2, ATT_ATTACHMENT, m.p, m.n, (uint32_t)m.n);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_tnef, b.p, b.n, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_memory_equal(k.items[0].data, "abc", 3);
	collector_free(&k);
	free(b.p);
	free(m.p);
}

static void not_tnef(void **state)
{
	static const uint8_t bad_sig[] = {0x78, 0x9f, 0x3e, 0x23, 0, 0, 2, 0x0f, 0x80, 6, 0, 1, 0, 0, 0, 'x', 0, 0};
	struct collector k;

	(void)state;
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_tnef, bad_sig, sizeof(bad_sig), &k), VG_OK);
	assert_int_equal(run_unpacker(unpack_tnef, "", 0, &k), VG_OK);
	assert_int_equal(run_unpacker(unpack_tnef, "\x78\x9f\x3e\x22", 4, &k), VG_OK);
	assert_int_equal(k.n, 0);
	collector_free(&k);
}

static void clam_truncated(void **state)
{
	size_t len = 0;
	uint8_t *t = slurp(TESTFILES "clam.tnef", &len);

	(void)state;
	if (!t)
		skip();
	every_prefix(unpack_tnef, t, len < 1200 ? len : 1200);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_tnef),
		cmocka_unit_test(names_and_sources),
		cmocka_unit_test(rtf_body),
		cmocka_unit_test(hostile_sizes),
		cmocka_unit_test(not_tnef),
		cmocka_unit_test(clam_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
