/* unpack/uuencode.c: uuencoded blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unpack_collect.h"

/* How the encoder writes its lines. */
struct style {
	bool backtick;  /* zero as '`' (GNU) or ' ' (historic) */
	bool strip;     /* trailing spaces stripped, as mail gateways do */
	bool crlf;
	bool checksum;  /* one extra character after the data */
	bool no_end;    /* neither the zero-length line nor "end" */
};

static size_t uuencode(char *out, size_t cap, const char *begin, const uint8_t *d, size_t n,
		       const struct style *st)
{
	const char *eol = st->crlf ? "\r\n" : "\n";
	size_t k = (size_t)snprintf(out, cap, "%s%s", begin, eol);

	for (size_t i = 0; i < n; i += 45) {
		size_t m = n - i < 45 ? n - i : 45, l0 = k;
		out[k++] = (char)(0x20 + m);
		for (size_t j = 0; j < m; j += 3) {
			uint8_t b0 = d[i + j], b1 = j + 1 < m ? d[i + j + 1] : 0, b2 = j + 2 < m ? d[i + j + 2] : 0;
			uint8_t v[4] = {(uint8_t)(b0 >> 2), (uint8_t)((b0 & 3) << 4 | b1 >> 4),
					(uint8_t)((b1 & 0xf) << 2 | b2 >> 6), (uint8_t)(b2 & 0x3f)};
			for (int q = 0; q < 4; q++)
				out[k++] = v[q] || !st->backtick ? (char)(0x20 + v[q]) : '`';
		}
		if (st->strip && !st->checksum) /* real encoders do one or the other */
			while (k > l0 + 1 && out[k - 1] == ' ')
				k--;
		if (st->checksum)
			out[k++] = 'Z';
		k += (size_t)snprintf(out + k, cap - k, "%s", eol);
	}
	if (!st->no_end)
		k += (size_t)snprintf(out + k, cap - k, "%c%send%s", st->backtick ? '`' : ' ', eol, eol);
	assert_true(k < cap);
	return k;
}

static void clam_uu(void **state)
{
	(void)state;
	/* the uuencode layer of the mbox: its block alone is found in it */
	expect_clam_exe(unpack_uuencode, "clam.exe.mbox.uu", "clam.exe");
}

static void every_style_and_length(void **state)
{
	static char text[4096];
	uint8_t d[200];

	(void)state;
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 37 + (i >> 3)); /* includes zero bytes and 0x3f values */
	d[5] = d[6] = d[7] = 0;
	for (unsigned s = 0; s < 32; s++) {
		struct style st = {s & 1, s & 2, s & 4, s & 8, s & 16};
		for (size_t n = 0; n <= sizeof(d); n += (n < 50 ? 1 : 17)) {
			struct collector k;
			size_t len = uuencode(text, sizeof(text), "begin 644 data.bin", d, n, &st);

			collector_init(&k, SIZE_MAX);
			assert_int_equal(run_unpacker(unpack_uuencode, text, len, &k), VG_OK);
			if (n == 0) {
				assert_int_equal(k.n, 0);
			} else {
				assert_int_equal(k.n, 1);
				assert_string_equal(k.items[0].name, "data.bin");
				assert_int_equal(k.items[0].len, n);
				assert_memory_equal(k.items[0].data, d, n);
			}
			collector_free(&k);
		}
	}
}

static void several_blocks(void **state)
{
	static const struct style gnu = {true, false, false, false, false};
	char text[2048];
	size_t k0;
	struct collector k;

	(void)state;
	k0 = (size_t)snprintf(text, sizeof(text), "Some preamble\nbegin this is not a block\n");
	k0 += uuencode(text + k0, sizeof(text) - k0, "begin 644 one.txt", (const uint8_t *)"first", 5, &gnu);
	k0 += (size_t)snprintf(text + k0, sizeof(text) - k0, "middle text\n");
	k0 += uuencode(text + k0, sizeof(text) - k0, "begin 0755   two files.txt  ", (const uint8_t *)"second", 6, &gnu);
	k0 += uuencode(text + k0, sizeof(text) - k0, "begin 600", (const uint8_t *)"third", 5, &gnu);
	/* GNU uuencode -m */
	k0 += (size_t)snprintf(text + k0, sizeof(text) - k0,
			       "begin-base64 644 four.b64\nZm91\ncnRo\n====\ntrailer\n");
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_uuencode, text, k0, &k), VG_OK);
	assert_int_equal(k.n, 4);
	assert_string_equal(k.items[0].name, "one.txt");
	assert_memory_equal(k.items[0].data, "first", 5);
	assert_string_equal(k.items[1].name, "two files.txt");
	assert_memory_equal(k.items[1].data, "second", 6);
	assert_null(k.items[2].name);
	assert_memory_equal(k.items[2].data, "third", 5);
	assert_string_equal(k.items[3].name, "four.b64");
	assert_int_equal(k.items[3].len, 6);
	assert_memory_equal(k.items[3].data, "fourth", 6);
	collector_free(&k);
	stops_when_told(unpack_uuencode, (const uint8_t *)text, k0, 4);
}

/* yEnc: bytes + 42, '=' escapes the critical ones with + 64. */
static size_t yencode(char *out, size_t cap, const char *begin, const uint8_t *d, size_t n)
{
	size_t k = (size_t)snprintf(out, cap, "%s\r\n", begin), col = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)(d[i] + 42);
		if (c == 0 || c == '\n' || c == '\r' || c == '=') {
			out[k++] = '=';
			c = (uint8_t)(c + 64);
		}
		out[k++] = (char)c;
		if (++col == 64 || i + 1 == n) {
			out[k++] = '\r';
			out[k++] = '\n';
			col = 0;
		}
	}
	k += (size_t)snprintf(out + k, cap - k, "=yend size=%zu\r\n", n);
	assert_true(k < cap);
	return k;
}

static void yenc(void **state)
{
	uint8_t d[300];
	char text[2048];
	size_t len;
	struct collector k;

	(void)state;
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)i;
	len = (size_t)snprintf(text, sizeof(text), "news gateway text\r\n");
	len += yencode(text + len, sizeof(text) - len, "=ybegin line=64 size=300 name=all bytes.bin ", d, sizeof(d));
	len += uuencode(text + len, sizeof(text) - len, "begin 644 after", (const uint8_t *)"uu", 2,
			&(struct style){true, false, false, false, false});
	/* a multi-part post: "=ypart" lines are skipped */
	len += (size_t)snprintf(text + len, sizeof(text) - len, "=ybegin part=1 name=p\n=ypart begin=1 end=2\n\x8b\x8c\n=yend\n");
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_uuencode, text, len, &k), VG_OK);
	assert_int_equal(k.n, 3);
	assert_string_equal(k.items[0].name, "all bytes.bin");
	assert_int_equal(k.items[0].len, sizeof(d));
	assert_memory_equal(k.items[0].data, d, sizeof(d));
	assert_string_equal(k.items[1].name, "after");
	assert_memory_equal(k.items[1].data, "uu", 2);
	assert_string_equal(k.items[2].name, "p");
	assert_int_equal(k.items[2].len, 2);
	assert_memory_equal(k.items[2].data, "ab", 2);
	collector_free(&k);
	every_prefix(unpack_uuencode, (const uint8_t *)text, len);
	stops_when_told(unpack_uuencode, (const uint8_t *)text, len, 3);
}

/* A block cut by a line that is not uuencoding: what came before is kept. */
static void ends_at_foreign_line(void **state)
{
	const char text[] = "begin 644 cut\n"
			    "%86)C9&4`\n" /* "abcde" */
			    "this is prose, not data\n"
			    "%9F=H:6H`\n";
	struct collector k;

	(void)state;
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_uuencode, text, sizeof(text) - 1, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.items[0].len, 5);
	assert_memory_equal(k.items[0].data, "abcde", 5);
	collector_free(&k);
}

static void budget(void **state)
{
	static const struct style gnu = {true, false, false, false, false};
	uint8_t d[500];
	char text[2048];
	size_t len;
	struct collector k;

	(void)state;
	memset(d, 'q', sizeof(d));
	len = uuencode(text, sizeof(text), "begin 644 big", d, sizeof(d), &gnu);
	len += uuencode(text + len, sizeof(text) - len, "begin 644 small", d, 3, &gnu);
	collector_init(&k, 100);
	assert_int_equal(run_unpacker(unpack_uuencode, text, len, &k), VG_OK);
	assert_int_equal(k.n, 2);
	assert_int_equal(k.items[0].len, 100);
	assert_true(k.items[0].truncated);
	assert_int_equal(k.items[1].len, 3); /* the next block is still found */
	assert_false(k.items[1].truncated);
	collector_free(&k);
}

static void truncated_everywhere(void **state)
{
	static const struct style gnu = {true, false, true, false, false};
	uint8_t d[120];
	char text[1024];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i ^ 0x5a);
	len = uuencode(text, sizeof(text), "begin 644 a", d, sizeof(d), &gnu);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "begin-base64 644 b\r\nSGVsbG8=\r\n====\r\n");
	every_prefix(unpack_uuencode, (const uint8_t *)text, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_uu),
		cmocka_unit_test(every_style_and_length),
		cmocka_unit_test(several_blocks),
		cmocka_unit_test(ends_at_foreign_line),
		cmocka_unit_test(yenc),
		cmocka_unit_test(budget),
		cmocka_unit_test(truncated_everywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
