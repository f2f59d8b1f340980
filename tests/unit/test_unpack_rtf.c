/* unpack_rtf: clam.exe.rtf from clamav-testfiles; objects written here:
 * OLE1 packages, OLE2 documents (recursed into), obfuscated hex, data that
 * is not OLE1, limits and cuts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unpack_doc_helpers.h"

static vg_status run(const void *p, size_t len, struct collector *col)
{
	struct unpack_input in = {p, len};
	struct unpack_sink s = collector_sink(col);

	return unpack_rtf(&in, &s);
}

struct text {
	char *p;
	size_t len;
};

static void add(struct text *t, const char *s, size_t n)
{
	t->p = realloc(t->p, t->len + n + 1);
	assert_non_null(t->p);
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void adds(struct text *t, const char *s)
{
	add(t, s, strlen(s));
}

static void add_hex(struct text *t, const uint8_t *p, size_t n, size_t line)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char h[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
		add(t, h, 2);
		if (line && i % line == line - 1)
			adds(t, "\r\n");
	}
}

static void add_u32(uint8_t *b, size_t *n, uint32_t v)
{
	b[(*n)++] = (uint8_t)v;
	b[(*n)++] = (uint8_t)(v >> 8);
	b[(*n)++] = (uint8_t)(v >> 16);
	b[(*n)++] = (uint8_t)(v >> 24);
}

/* An OLE1 embedded object of class cls whose native data is data. */
static uint8_t *ole1(const char *cls, const uint8_t *data, size_t len, size_t *out_len)
{
	uint8_t *b = malloc(len + strlen(cls) + 64);
	size_t n = 0;

	assert_non_null(b);
	add_u32(b, &n, 0x00000501);
	add_u32(b, &n, 2);
	add_u32(b, &n, (uint32_t)strlen(cls) + 1);
	memcpy(b + n, cls, strlen(cls) + 1);
	n += strlen(cls) + 1;
	add_u32(b, &n, 0);
	add_u32(b, &n, 0);
	add_u32(b, &n, (uint32_t)len);
	memcpy(b + n, data, len);
	n += len;
	*out_len = n;
	return b;
}

/* Package native data wrapping a file. */
static uint8_t *package(const char *label, const uint8_t *file, size_t len, size_t *out_len)
{
	uint8_t *b = malloc(len + 2 * strlen(label) + 64);
	size_t n = 0;

	assert_non_null(b);
	b[n++] = 2;
	b[n++] = 0;
	memcpy(b + n, label, strlen(label) + 1);
	n += strlen(label) + 1;
	memcpy(b + n, "C:\\x\\", 5);
	memcpy(b + n + 5, label, strlen(label) + 1);
	n += 5 + strlen(label) + 1;
	add_u32(b, &n, 0x00030000);
	add_u32(b, &n, 3);
	memcpy(b + n, "t:\0", 3);
	n += 3;
	add_u32(b, &n, (uint32_t)len);
	memcpy(b + n, file, len);
	n += len;
	*out_len = n;
	return b;
}

static void clam_exe_rtf(void **state)
{
	size_t exe_len, len;
	uint8_t *exe = testfile("clam.exe", &exe_len);
	uint8_t *rtf = testfile("clam.exe.rtf", &len);
	struct collector col = {0};

	(void)state;
	/* one \objdata, class Package, labelled Clam.exe: the file itself */
	assert_int_equal(run(rtf, len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.items[0].name, "Clam.exe");
	assert_int_equal(col.items[0].len, exe_len);
	assert_memory_equal(col.items[0].data, exe, exe_len);
	assert_false(col.items[0].truncated);
	collector_free(&col);
	every_prefix(unpack_rtf, rtf, len, 3);
	free(rtf);
	free(exe);
}

static void ole2_document_inside(void **state)
{
	/* an RTF embedding clam.ole.doc as a Word.Document.8 object: the driver
	 * recursing into the OLE2 child finds clam.exe two layers down */
	size_t exe_len, doc_len, obj_len;
	uint8_t *exe = testfile("clam.exe", &exe_len);
	uint8_t *doc = testfile("clam.ole.doc", &doc_len);
	uint8_t *obj = ole1("Word.Document.8", doc, doc_len, &obj_len);
	struct text t = {0};
	struct collector col = {0};
	const struct kept *k;

	(void)state;
	adds(&t, "{\\rtf1\\ansi{\\object\\objemb{\\*\\objclass Word.Document.8}{\\*\\objdata\r\n");
	add_hex(&t, obj, obj_len, 64);
	adds(&t, "}{\\result {\\pict ffd8}}}}");
	assert_int_equal(run(t.p, t.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.items[0].name, "Word.Document.8");
	assert_int_equal(col.items[0].len, doc_len);
	assert_memory_equal(col.items[0].data, doc, doc_len);
	collector_free(&col);
	col.recurse_ole2 = 1;
	assert_int_equal(run(t.p, t.len, &col), VG_OK);
	k = find_equal(&col, exe, exe_len);
	assert_non_null(k);
	assert_int_equal(k->depth, 1);
	assert_string_equal(k->name, "Clam.exe");
	collector_free(&col);
	free(t.p);
	free(obj);
	free(doc);
	free(exe);
}

static void obfuscated_hex(void **state)
{
	static const uint8_t file[] = "MZ obfuscated payload";
	size_t pkg_len, obj_len;
	uint8_t *pkg = package("dropper.exe", file, sizeof(file), &pkg_len);
	uint8_t *obj = ole1("Package", pkg, pkg_len, &obj_len);
	struct text t = {0};
	struct collector col = {0};

	(void)state;
	/* the first 8 bytes as upper-case hex broken by noise, the next 4 as
	 * \bin raw bytes, the rest as hex with junk control words and an
	 * ignorable group holding decoy hex */
	adds(&t, "{\\rtf1{\\object{\\*\\objdata ");
	{
		static const char digits[] = "0123456789ABCDEF";
		for (size_t i = 0; i < 8; i++) {
			char h[4] = {digits[obj[i] >> 4], ' ', digits[obj[i] & 15], '\n'};
			add(&t, h, 4);
		}
	}
	adds(&t, "\\bin4 ");
	add(&t, (const char *)obj + 8, 4);
	adds(&t, "{\\*\\decoy 4142434445}\\par\\ltrch ");
	add_hex(&t, obj + 12, 10, 0);
	adds(&t, "{}\\'41");
	add_hex(&t, obj + 22, obj_len - 22, 7);
	adds(&t, "}}}");
	assert_int_equal(run(t.p, t.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.items[0].name, "dropper.exe");
	assert_int_equal(col.items[0].len, sizeof(file));
	assert_memory_equal(col.items[0].data, file, sizeof(file));
	collector_free(&col);
	every_prefix(unpack_rtf, (const uint8_t *)t.p, t.len, 1);
	free(t.p);
	free(obj);
	free(pkg);
}

static void not_ole1(void **state)
{
	/* garbage before an OLE2 signature: the decoded data as it is, and
	 * again from the signature; a linked object has no data; \objdatax is
	 * another word */
	static const uint8_t data[] = {0x01, 0x02, 0x03, 0xD0, 0xCF, 0x11, 0xE0,
				       0xA1, 0xB1, 0x1A, 0xE1, 0x55, 0x66};
	uint8_t linked[24] = {0x01, 0x05, 0, 0, 0x01, 0, 0, 0};
	struct text t = {0};
	struct collector col = {0};

	(void)state;
	adds(&t, "{\\rtf1{\\*\\objdata ");
	add_hex(&t, data, sizeof(data), 0);
	adds(&t, "}{\\*\\objdatax 4142}{\\*\\objdata ");
	add_hex(&t, linked, sizeof(linked), 0);
	adds(&t, "}{\\*\\objdata}{\\*\\objdata 0}");
	assert_int_equal(run(t.p, t.len, &col), VG_OK);
	assert_int_equal(col.n, 3);
	assert_null(col.items[0].name);
	assert_int_equal(col.items[0].len, sizeof(data));
	assert_memory_equal(col.items[0].data, data, sizeof(data));
	assert_int_equal(col.items[1].len, sizeof(data) - 3);
	assert_memory_equal(col.items[1].data, data + 3, sizeof(data) - 3);
	/* the linked object's header is no embedded object: given as is */
	assert_int_equal(col.items[2].len, sizeof(linked));
	collector_free(&col);
	free(t.p);
}

static void limits_and_stop(void **state)
{
	static const uint8_t file[4000] = {'M', 'Z'};
	size_t pkg_len, obj_len;
	uint8_t *pkg = package("big.bin", file, sizeof(file), &pkg_len);
	uint8_t *obj = ole1("Package", pkg, pkg_len, &obj_len);
	struct text t = {0};
	struct collector col = {0};

	(void)state;
	for (int i = 0; i < 3; i++) {
		adds(&t, "{\\*\\objdata ");
		add_hex(&t, obj, obj_len, 80);
		adds(&t, "}");
	}
	/* max_child caps the decoded object: the file is cut and says so */
	col.max_child = 1000;
	assert_int_equal(run(t.p, t.len, &col), VG_OK);
	assert_int_equal(col.n, 3);
	for (size_t i = 0; i < col.n; i++) {
		assert_string_equal(col.items[i].name, "big.bin");
		assert_true(col.items[i].truncated);
		assert_true(col.items[i].len < 1000);
		assert_memory_equal(col.items[i].data, file, col.items[i].len);
	}
	collector_free(&col);
	col.max_child = 0;
	col.stop_at = 2;
	col.stop_rc = VG_ETIMEOUT;
	assert_int_equal(run(t.p, t.len, &col), VG_ETIMEOUT);
	assert_int_equal(col.calls, 2);
	collector_free(&col);
	col.stop_at = 0;
	free(t.p);
	memset(&t, 0, sizeof(t));
	/* more objects than the limit: the limit is reported */
	for (unsigned i = 0; i <= VG_RTF_MAX_OBJECTS; i++)
		adds(&t, "{\\*\\objdata 41}");
	assert_int_equal(run(t.p, t.len, &col), VG_ELIMIT);
	assert_int_equal(col.n, VG_RTF_MAX_OBJECTS);
	collector_free(&col);
	free(t.p);
	free(obj);
	free(pkg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_exe_rtf),
		cmocka_unit_test(ole2_document_inside),
		cmocka_unit_test(obfuscated_hex),
		cmocka_unit_test(not_ole1),
		cmocka_unit_test(limits_and_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
