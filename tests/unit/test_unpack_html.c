/* unpack_html: clam.exe.html from clamav-testfiles; data: URIs in every
 * place and encoding; base64 strings in scripts; cuts, caps and stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unpack_doc_helpers.h"

static vg_status run(const char *p, size_t len, struct collector *col)
{
	struct unpack_input in = {(const uint8_t *)p, len};
	struct unpack_sink s = collector_sink(col);

	return unpack_html(&in, &s);
}

static char *b64(const uint8_t *in, size_t n, bool pad)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(n / 3 * 4 + 8);
	size_t j = 0;

	assert_non_null(out);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		size_t k = n - i < 3 ? n - i : 3;
		out[j++] = alpha[v >> 18 & 63];
		out[j++] = alpha[v >> 12 & 63];
		out[j++] = k > 1 ? alpha[v >> 6 & 63] : '=';
		out[j++] = k > 2 ? alpha[v & 63] : '=';
		if (!pad)
			while (j > 0 && out[j - 1] == '=')
				j--;
	}
	out[j] = '\0';
	return out;
}

static void clam_exe_html(void **state)
{
	size_t exe_len, len;
	uint8_t *exe = testfile("clam.exe", &exe_len);
	uint8_t *html = testfile("clam.exe.html", &len);
	struct collector col = {0};

	(void)state;
	/* one <a href="data:application/octet-stream;base64,..."> */
	assert_int_equal(run((const char *)html, len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_null(col.items[0].name);
	assert_int_equal(col.items[0].len, exe_len);
	assert_memory_equal(col.items[0].data, exe, exe_len);
	assert_false(col.items[0].truncated);
	collector_free(&col);
	every_prefix(unpack_html, html, len, 1);
	free(html);
	free(exe);
}

static void data_uri_forms(void **state)
{
	char doc[4096];
	struct collector col = {0};
	int n;

	(void)state;
	static const char text[] =
		"<html><body>\n"
		"<img src=\"data:image/png;base64,aGVs\nbG8g\r\nd29y bGQ=\">\n"    /* hello world */
		"<a href='DATA:text/plain;charset=utf-8,caf%C3%A9%20ok'>x</a>\n" /* percent */
		"<div style=\"background:url(data:;base64,Zm9vYmE)\"></div>\n"   /* no padding */
		"<iframe src=data:application/x-msdownload;base64,-_8 width=1>\n" /* url-safe */
		"<p>metadata:not,one</p> <meta content=\"data:,\">\n"            /* empty */
		"<x y=\"data:text/html;base64,PGI%2BaGk8L2I%2B\">\n"               /* %-escaped b64 */
		"<p>data: just prose, nothing more</p>\n"
		"</body></html>\n";
	n = (int)strlen(text);
	memcpy(doc, text, (size_t)n + 1);
	assert_true(n > 0 && (size_t)n < sizeof(doc));
	assert_int_equal(run(doc, (size_t)n, &col), VG_OK);
	assert_int_equal(col.n, 5);
	assert_int_equal(col.items[0].len, 11);
	assert_memory_equal(col.items[0].data, "hello world", 11);
	assert_int_equal(col.items[1].len, 8);
	assert_memory_equal(col.items[1].data, "caf\xc3\xa9 ok", 8);
	assert_int_equal(col.items[2].len, 5);
	assert_memory_equal(col.items[2].data, "fooba", 5);
	assert_int_equal(col.items[3].len, 2);
	assert_memory_equal(col.items[3].data, "\xfb\xff", 2);
	assert_int_equal(col.items[4].len, 9);
	assert_memory_equal(col.items[4].data, "<b>hi</b>", 9);
	collector_free(&col);
	every_prefix(unpack_html, (const uint8_t *)doc, (size_t)n, 1);
}

static void script_base64(void **state)
{
	uint8_t payload[600];
	char *enc, *small, *doc;
	struct collector col = {0};
	size_t cap = 8192;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 7);
	enc = b64(payload, sizeof(payload), true);
	small = b64(payload, 30, true);
	doc = malloc(cap);
	assert_non_null(doc);
	n = snprintf(doc, cap,
		     "<html><head><SCRIPT type=\"text/javascript\">\n"
		     "// a comment's quote: don't\n"
		     "var a = atob(\"%s\");\n"             /* taken */
		     "var b = '%s';\n"                     /* too short */
		     "/* \"%s\" in a comment */\n"         /* not a string */
		     "var c = `%s`;\n"                     /* template literal: taken */
		     "var d = \"%s\\n\";\n"                /* an escape: not pure */
		     "</script><p>\"%s\"</p>\n"            /* outside scripts */
		     "<scripts>\"%s\"</scripts></head></html>\n",
		     enc, small, enc, enc, enc, enc, enc);
	assert_true(n > 0 && (size_t)n < cap);
	assert_int_equal(run(doc, (size_t)n, &col), VG_OK);
	assert_int_equal(col.n, 2);
	for (size_t i = 0; i < col.n; i++) {
		assert_int_equal(col.items[i].len, sizeof(payload));
		assert_memory_equal(col.items[i].data, payload, sizeof(payload));
	}
	collector_free(&col);
	every_prefix(unpack_html, (const uint8_t *)doc, (size_t)n, 5);
	free(doc);
	free(enc);
	free(small);
}

static void caps_and_stop(void **state)
{
	uint8_t payload[3000];
	char *enc, *doc;
	size_t cap = 20000;
	struct collector col = {0};
	int n;

	(void)state;
	memset(payload, 'Z', sizeof(payload));
	enc = b64(payload, sizeof(payload), false);
	doc = malloc(cap);
	assert_non_null(doc);
	n = snprintf(doc, cap, "<a href=\"data:;base64,%s\"><a href=\"data:,%s\"><script>x=\"%s\"</script>",
		     enc, enc, enc);
	assert_true(n > 0 && (size_t)n < cap);
	col.max_child = 100;
	assert_int_equal(run(doc, (size_t)n, &col), VG_OK);
	assert_int_equal(col.n, 3);
	for (size_t i = 0; i < col.n; i++) {
		assert_int_equal(col.items[i].len, 100);
		assert_true(col.items[i].truncated);
	}
	assert_memory_equal(col.items[0].data, payload, 100);
	assert_memory_equal(col.items[1].data, enc, 100);
	collector_free(&col);
	col.max_child = 0;
	col.stop_at = 1;
	col.stop_rc = VG_ELIMIT;
	assert_int_equal(run(doc, (size_t)n, &col), VG_ELIMIT);
	assert_int_equal(col.calls, 1);
	collector_free(&col);
	col.stop_at = 3;
	col.stop_rc = VG_ENOMEM;
	assert_int_equal(run(doc, (size_t)n, &col), VG_ENOMEM);
	assert_int_equal(col.calls, 3);
	collector_free(&col);
	/* nothing to find, quickly: a megabyte of "data" without a colon, and
	 * of "<script" with no end */
	{
		size_t big = 1u << 20;
		char *junk = malloc(big);
		assert_non_null(junk);
		for (size_t i = 0; i < big; i++)
			junk[i] = "data:<script>"[i % 13];
		assert_int_equal(run(junk, big, &col), VG_OK);
		assert_int_equal(col.n, 0);
		free(junk);
	}
	free(doc);
	free(enc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_exe_html),
		cmocka_unit_test(data_uri_forms),
		cmocka_unit_test(script_base64),
		cmocka_unit_test(caps_and_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
