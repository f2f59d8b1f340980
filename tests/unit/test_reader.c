/* util: the bounds-checked reader, the bounded buffer, line and field splitting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/util.h"

static void reader_stops_at_end(void **state)
{
	const uint8_t data[] = {1, 2, 3, 4, 5};
	struct reader r = reader_init(data, sizeof(data));
	uint32_t v;
	uint64_t w;
	uint8_t b;
	const uint8_t *p;

	(void)state;
	assert_true(reader_u32le(&r, &v));
	assert_int_equal(v, 0x04030201u);
	assert_false(reader_u32le(&r, &v));
	assert_false(reader_u64le(&r, &w));
	assert_int_equal(reader_left(&r), 1);
	assert_true(reader_u8(&r, &b));
	assert_int_equal(b, 5);
	assert_false(reader_u8(&r, &b));
	assert_false(reader_skip(&r, 1));
	assert_true(reader_bytes(&r, 0, &p));
	r = reader_init(data, sizeof(data));
	assert_false(reader_bytes(&r, SIZE_MAX, &p));
	assert_false(reader_skip(&r, SIZE_MAX));
}

static void buf_respects_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "12345", 5), VG_OK);
	assert_int_equal(buf_append(&b, "12345", 5), VG_OK);
	assert_int_equal(buf_append(&b, "x", 1), VG_ELIMIT);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "1234512345", 10);
	assert_int_equal(buf_append(&b, "", 0), VG_OK);
	buf_free(&b);
	/* a size that overflows is refused before any allocation */
	buf_init(&b, SIZE_MAX);
	assert_int_equal(buf_append(&b, "x", 1), VG_OK);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), VG_ELIMIT);
	buf_free(&b);
}

static void lines_strip_cr_and_count(void **state)
{
	const char text[] = "a\r\n\nlast";
	struct line_iter it;
	const char *line;
	size_t len;

	(void)state;
	line_iter_init(&it, text, strlen(text));
	assert_true(line_iter_next(&it, &line, &len));
	assert_int_equal(len, 1);
	assert_int_equal(it.lineno, 1);
	assert_true(line_iter_next(&it, &line, &len));
	assert_int_equal(len, 0);
	assert_true(line_iter_next(&it, &line, &len));
	assert_int_equal(len, 4);
	assert_memory_equal(line, "last", 4);
	assert_int_equal(it.lineno, 3);
	assert_false(line_iter_next(&it, &line, &len));
}

static void fields_and_numbers(void **state)
{
	struct field f[3];
	uint64_t v;
	uint8_t out[4];
	size_t bad;

	(void)state;
	assert_int_equal(fields_split("a:bb::c:d", 9, ':', f, 3), 5);
	assert_int_equal(f[1].len, 2);
	assert_int_equal(f[1].col, 2);
	assert_int_equal(f[2].len, 0);
	assert_true(field_u64(&(struct field){"18446744073709551615", 20, 0}, &v));
	assert_true(v == UINT64_MAX);
	assert_false(field_u64(&(struct field){"18446744073709551616", 20, 0}, &v));
	assert_false(field_u64(&(struct field){"", 0, 0}, &v));
	assert_false(field_u64(&(struct field){"-1", 2, 0}, &v));
	assert_true(hex_decode("dEaDbeef", 8, out, &bad));
	assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
	assert_false(hex_decode("abz0", 4, out, &bad));
	assert_int_equal(bad, 2);
	assert_false(hex_decode("abc", 3, out, &bad));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reader_stops_at_end),
		cmocka_unit_test(buf_respects_cap),
		cmocka_unit_test(lines_strip_cr_and_count),
		cmocka_unit_test(fields_and_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
