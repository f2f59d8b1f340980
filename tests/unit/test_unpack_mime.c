/* unpack/mime.c: mail, MIME and mbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unpack_collect.h"

/* ---- helpers ---- */

static vg_status mime_str(const char *s, struct collector *k)
{
	return run_unpacker(unpack_mime, s, strlen(s), k);
}

static void expect_child(const struct collector *k, size_t i, const char *name, const void *data,
			 size_t len)
{
	assert_true(i < k->n);
	if (name) {
		if (!k->items[i].name)
			fail_msg("child %zu has no name, want %s", i, name);
		assert_string_equal(k->items[i].name, name);
	} else {
		assert_null(k->items[i].name);
	}
	if (k->items[i].len != len || memcmp(k->items[i].data, data, len) != 0)
		fail_msg("child %zu: %zu bytes '%.*s', want %zu bytes '%.*s'", i, k->items[i].len,
			 (int)k->items[i].len, (const char *)k->items[i].data, len, (int)len,
			 (const char *)data);
}

static void expect_text(const struct collector *k, size_t i, const char *name, const char *text)
{
	expect_child(k, i, name, text, strlen(text));
}

/* LF line ends to CRLF (malloc'd). */
static char *crlf(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *o = malloc(2 * n + 1);

	assert_non_null(o);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			o[k++] = '\r';
		o[k++] = s[i];
	}
	o[k] = '\0';
	return o;
}

/* uuencodes data as one block with the given begin line. */
static void uuencode_block(char *out, size_t cap, const char *begin, const uint8_t *d, size_t n)
{
	size_t k = (size_t)snprintf(out, cap, "%s\n", begin);

	for (size_t i = 0; i < n; i += 45) {
		size_t m = n - i < 45 ? n - i : 45;
		out[k++] = (char)(0x20 + m);
		for (size_t j = 0; j < m; j += 3) {
			uint8_t b0 = d[i + j], b1 = j + 1 < m ? d[i + j + 1] : 0, b2 = j + 2 < m ? d[i + j + 2] : 0;
			uint8_t v[4] = {(uint8_t)(b0 >> 2), (uint8_t)((b0 & 3) << 4 | b1 >> 4),
					(uint8_t)((b1 & 0xf) << 2 | b2 >> 6), (uint8_t)(b2 & 0x3f)};
			for (int q = 0; q < 4; q++)
				out[k++] = v[q] ? (char)(0x20 + v[q]) : '`';
		}
		out[k++] = '\n';
	}
	k += (size_t)snprintf(out + k, cap - k, "`\nend\n");
	assert_true(k < cap);
}

/* ---- the clamav-testfiles wrappings ---- */

static void clam_mail(void **state)
{
	(void)state;
	expect_clam_exe(unpack_mime, "clam.mail", "clam.exe");
}

static void clam_mbox_base64(void **state)
{
	(void)state;
	expect_clam_exe(unpack_mime, "clam.exe.mbox.base64", "clam.exe");
}

static void clam_mbox_uu(void **state)
{
	(void)state;
	expect_clam_exe(unpack_mime, "clam.exe.mbox.uu", "clam.exe");
}

/* BinHex inside a plain text body (the file itself, read at test time). */
static void binhex_in_body(void **state)
{
	size_t blen = 0, elen = 0;
	uint8_t *bh = slurp(TESTFILES "clam.exe.binhex", &blen);
	uint8_t *exe = slurp(TESTFILES "clam.exe", &elen);
	const char head[] = "From: a\nSubject: old mac mail\n\nHere it is:\n\n";
	char *mail;
	struct collector k;

	(void)state;
	if (!bh || !exe) {
		free(bh);
		free(exe);
		skip();
	}
	mail = malloc(sizeof(head) + blen);
	assert_non_null(mail);
	memcpy(mail, head, sizeof(head) - 1);
	memcpy(mail + sizeof(head) - 1, bh, blen);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(unpack_mime, mail, sizeof(head) - 1 + blen, &k), VG_OK);
	/* the text, the data fork, the 1-byte resource fork */
	assert_int_equal(k.n, 3);
	assert_int_equal(find_child(&k, exe, elen), 1);
	assert_string_equal(k.items[1].name, "clam.exe");
	assert_string_equal(k.items[2].name, "clam.exe/..namedfork/rsrc");
	collector_free(&k);
	free(mail);
	free(bh);
	free(exe);
}

/* ---- structure ---- */

static const char nested[] =
	"From: a@example.com\n"
	"Subject: nested\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"outer\"\n"
	"\n"
	"This is a multi-part message in MIME format.\n"
	"--outer\n"
	"Content-Type: text/plain\n"
	"\n"
	"hello text\n"
	"--outer\n"
	"Content-Type: multipart/alternative;\n"
	"\tboundary=inner\n"
	"\n"
	"--inner\n"
	"Content-Type: text/html\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"<p>caf=C3=A9 =3D soft=\n"
	"break</p>\n"
	"--inner\n"
	"Content-Type: application/octet-stream; name=\"b.bin\"\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"AAEC\n"
	"AwQF\n"
	"--inner--\n"
	"--outer\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: x\n"
	"Subject: y\n"
	"\n"
	"inner body\n"
	"--outer--\n"
	"epilogue\n";

static void check_nested(const struct collector *k, bool crlf_ends)
{
	const uint8_t bin[] = {0, 1, 2, 3, 4, 5};

	assert_int_equal(k->n, 4);
	expect_text(k, 0, NULL, "hello text");
	expect_text(k, 1, NULL, crlf_ends ? "<p>caf\xc3\xa9 = softbreak</p>" : "<p>caf\xc3\xa9 = softbreak</p>");
	expect_child(k, 2, "b.bin", bin, sizeof(bin));
	expect_text(k, 3, NULL, crlf_ends ? "From: x\r\nSubject: y\r\n\r\ninner body" : "From: x\nSubject: y\n\ninner body");
}

static void nested_multipart(void **state)
{
	struct collector k;
	char *c;

	(void)state;
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str(nested, &k), VG_OK);
	check_nested(&k, false);
	collector_free(&k);

	c = crlf(nested);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str(c, &k), VG_OK);
	check_nested(&k, true);
	collector_free(&k);
	free(c);
}

static void quoted_printable(void **state)
{
	struct collector k;

	(void)state;
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str("Content-Transfer-Encoding: Quoted-Printable\n\n"
				  "a=3Db=\r\nc=\n=zz= \t\r\nd=c3=A9=4",
				  &k),
			 VG_OK);
	assert_int_equal(k.n, 1);
	expect_text(&k, 0, NULL, "a=bc=zzd\xc3\xa9=4");
	collector_free(&k);
}

static void base64_lenient(void **state)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
		{"SGVs bG8g\r\nV29y!!bGQ", "Hello World"}, /* junk, breaks, no padding */
		{"SGVsbG8", "Hello"},                      /* a short last quantum */
		{"SGk=SGk=", "HiHi"},                      /* concatenated encodings */
		{"SGk==\n\n====\nSGk", "HiHi"},
		{"S", ""},                                 /* a single character is nothing */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct collector k;
		char mail[256];

		snprintf(mail, sizeof(mail),
			 "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n%s",
			 cases[i].body);
		collector_init(&k, SIZE_MAX);
		assert_int_equal(mime_str(mail, &k), VG_OK);
		if (cases[i].want[0]) {
			assert_int_equal(k.n, 1);
			expect_text(&k, 0, NULL, cases[i].want);
		} else {
			assert_int_equal(k.n, 0); /* empty children are not handed over */
		}
		collector_free(&k);
	}
}

static void attachment_names(void **state)
{
	static const struct {
		const char *headers, *want;
	} cases[] = {
		{"Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.exe", "\xe2\x82\xac rates.exe"},
		{"Content-Disposition: attachment;\n filename*0*=iso-8859-1''caf%E9;\n filename*1=\".exe\"", "caf\xc3\xa9.exe"},
		{"Content-Disposition: attachment; filename*1=\"b.exe\"; filename*0=\"a\"", "ab.exe"},
		{"Content-Type: application/x-foo; name=\"=?UTF-8?B?w6l0w6k=?= =?ISO-8859-1?Q?_=E9t=E9.exe?=\"", "\xc3\xa9t\xc3\xa9 \xc3\xa9t\xc3\xa9.exe"},
		{"Content-Type: application/x-foo; name=\"=?utf-8?q?a_b?= c.txt\"", "a b c.txt"},
		{"Content-Disposition: attachment; filename=\"quoted \\\"x\\\".txt\"", "quoted \"x\".txt"},
		{"Content-Type: text/plain; name=ct.txt\nContent-Disposition: attachment; filename=cd.txt", "cd.txt"},
		{"Content-Disposition: attachment; filename = spaced name.doc ; size=3", "spaced name.doc"},
		{"Content-Disposition: attachment; filename*=us-ascii'en'a%00b", "a"},
		{"Content-Type: text/plain;\n\tname=\"folded\n\t.txt\"", "folded\t.txt"},
		{"content-type: TEXT/PLAIN; NAME=upper.TXT", "upper.TXT"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct collector k;
		char mail[512];

		snprintf(mail, sizeof(mail), "%s\n\nbody\n", cases[i].headers);
		collector_init(&k, SIZE_MAX);
		assert_int_equal(mime_str(mail, &k), VG_OK);
		assert_int_equal(k.n, 1);
		expect_text(&k, 0, cases[i].want, "body\n");
		collector_free(&k);
	}
}

static void mbox_messages(void **state)
{
	struct collector k;

	(void)state;
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str("From a@b Mon Jan  1 00:00:00 2024\n"
				  "Subject: one\n"
				  "\n"
				  "body one\n"
				  "From here on, not a separator\n"
				  "\n"
				  "From c@d Tue Jan  2 00:00:00 2024\n"
				  "Subject: two\n"
				  "Content-Transfer-Encoding: base64\n"
				  "\n"
				  "dHdv\n",
				  &k),
			 VG_OK);
	assert_int_equal(k.n, 2);
	expect_text(&k, 0, NULL, "body one\nFrom here on, not a separator\n\n");
	expect_text(&k, 1, NULL, "two");
	collector_free(&k);
}

static void uuencode_in_body(void **state)
{
	uint8_t data[100];
	char block[512], mail[1024];
	struct collector k;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	uuencode_block(block, sizeof(block), "begin 644 x.bin", data, sizeof(data));
	snprintf(mail, sizeof(mail), "Subject: uu\n\nsee attached\n%sbye\n", block);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str(mail, &k), VG_OK);
	assert_int_equal(k.n, 2); /* the text, then the block */
	expect_child(&k, 1, "x.bin", data, sizeof(data));
	collector_free(&k);

	/* Content-Transfer-Encoding x-uuencode: the MIME name wins */
	snprintf(mail, sizeof(mail),
		 "Content-Type: application/octet-stream; name=mime.bin\n"
		 "Content-Transfer-Encoding: x-uuencode\n\n%s",
		 block);
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str(mail, &k), VG_OK);
	assert_int_equal(k.n, 1);
	expect_child(&k, 0, "mime.bin", data, sizeof(data));
	collector_free(&k);
}

static void lenient_structure(void **state)
{
	struct collector k;

	(void)state;
	/* no boundary parameter, no close delimiter */
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str("Content-Type: multipart/mixed\n\n"
				  "--zz\nContent-Type: text/plain\n\none\n--zz\n\ntwo",
				  &k),
			 VG_OK);
	assert_int_equal(k.n, 2);
	expect_text(&k, 0, NULL, "one");
	expect_text(&k, 1, NULL, "two");
	collector_free(&k);

	/* a multipart body that is itself base64 */
	collector_init(&k, SIZE_MAX);
	/* "--b\n\nfirst\n--b\n\nsecond\n--b--\n" */
	assert_int_equal(mime_str("Content-Type: multipart/mixed; boundary=b\n"
				  "Content-Transfer-Encoding: base64\n\n"
				  "LS1iCgpmaXJzdAotLWIKCnNlY29uZAotLWItLQo=\n",
				  &k),
			 VG_OK);
	assert_int_equal(k.n, 2);
	expect_text(&k, 0, NULL, "first");
	expect_text(&k, 1, NULL, "second");
	collector_free(&k);

	/* an encoded multipart inside another: only the outer one is
	 * decoded as a multipart (one copy at a time), the inner one is a leaf */
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str("Content-Type: multipart/mixed; boundary=a\n"
				  "Content-Transfer-Encoding: quoted-printable\n\n"
				  "--a\nContent-Type: multipart/mixed; boundary=b\n"
				  "Content-Transfer-Encoding: quoted-printable\n\n"
				  "--b\n\nin=3D=3D1\n--b--\n--a--\n",
				  &k),
			 VG_OK);
	assert_int_equal(k.n, 1);
	expect_text(&k, 0, NULL, "--b\n\nin==1\n--b--");
	collector_free(&k);

	/* a boundary that is a prefix of the inner one */
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str("Content-Type: multipart/mixed; boundary=a\n\n"
				  "--a\nContent-Type: multipart/mixed; boundary=ab\n\n"
				  "--ab\n\nin1\n--ab\n\nin2\n--ab--\n--a\n\nout\n--a--\n",
				  &k),
			 VG_OK);
	assert_int_equal(k.n, 3);
	expect_text(&k, 0, NULL, "in1");
	expect_text(&k, 1, NULL, "in2");
	expect_text(&k, 2, NULL, "out");
	collector_free(&k);

	/* headers only; no headers at all; nothing */
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str("Subject: x\nContent-Type: multipart/mixed; boundary=q", &k), VG_OK);
	assert_int_equal(mime_str("just text\n", &k), VG_OK);
	assert_int_equal(mime_str("", &k), VG_OK);
	assert_int_equal(k.n, 1);
	expect_text(&k, 0, NULL, "just text\n");
	collector_free(&k);
}

/* Nested multiparts n deep around one base64 leaf. */
static char *deep_mail(size_t n)
{
	size_t cap = n * 96 + 256, k = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(s + k, cap - k,
				      "Content-Type: multipart/mixed; boundary=\"b%zu\"\n\n--b%zu\n", i, i);
	k += (size_t)snprintf(s + k, cap - k, "Content-Transfer-Encoding: base64\n\nSGVsbG8=\n");
	for (size_t i = n; i-- > 0;)
		k += (size_t)snprintf(s + k, cap - k, "--b%zu--\n", i);
	assert_true(k < cap);
	return s;
}

static void depth_limit(void **state)
{
	struct collector k;
	char *s;

	(void)state;
	s = deep_mail(VG_MIME_MAX_DEPTH); /* the deepest that is followed */
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str(s, &k), VG_OK);
	assert_int_equal(k.n, 1);
	expect_text(&k, 0, NULL, "Hello");
	collector_free(&k);
	free(s);

	s = deep_mail(VG_MIME_MAX_DEPTH + 1); /* one more: handed over undecoded */
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str(s, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_true(k.items[0].len > 5);
	{
		static const char want[] = "Content-Type: multipart/mixed; boundary=\"b32\"\n";
		assert_memory_equal(k.items[0].data, want, sizeof(want) - 1);
	}
	collector_free(&k);
	free(s);

	s = deep_mail(20000); /* far deeper: bounded, no stack exhaustion */
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str(s, &k), VG_OK);
	assert_int_equal(k.n, 1);
	assert_int_equal(find_child(&k, "Hello", 5), -1);
	collector_free(&k);
	free(s);
}

static void budget(void **state)
{
	struct collector k;

	(void)state;
	collector_init(&k, 3);
	assert_int_equal(mime_str("Content-Type: multipart/mixed; boundary=b\n\n"
				  "--b\nContent-Transfer-Encoding: base64\n\nSGVsbG8=\n"
				  "--b\nContent-Transfer-Encoding: quoted-printable\n\nab=3Dcd\n"
				  "--b\n\nplain text\n--b--\n",
				  &k),
			 VG_OK);
	assert_int_equal(k.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(k.items[i].len, 3);
		assert_true(k.items[i].truncated);
	}
	assert_memory_equal(k.items[0].data, "Hel", 3);
	assert_memory_equal(k.items[1].data, "ab=", 3);
	assert_memory_equal(k.items[2].data, "pla", 3);
	collector_free(&k);
}

static void truncated_everywhere(void **state)
{
	char block[512], *mail;
	uint8_t data[60];
	size_t cap = sizeof(nested) + 1024;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(255 - i);
	uuencode_block(block, sizeof(block), "begin 600 t.bin", data, sizeof(data));
	mail = malloc(cap);
	assert_non_null(mail);
	snprintf(mail, cap,
		 "%s--outer\nContent-Disposition: attachment; filename*0*=utf-8''a%%41; filename*1=b\n\n%s",
		 nested, block);
	every_prefix(unpack_mime, (const uint8_t *)mail, strlen(mail));
	free(mail);
}

static void sink_stops_it(void **state)
{
	struct collector k;

	(void)state;
	collector_init(&k, SIZE_MAX);
	assert_int_equal(mime_str(nested, &k), VG_OK);
	assert_int_equal(k.calls, 4);
	collector_free(&k);
	stops_when_told(unpack_mime, (const uint8_t *)nested, strlen(nested), 4);
}

/* Random bytes and random mixes of mail syntax: nothing crashes. */
static void garbage(void **state)
{
	static const char *const atoms[] = {
		"\n", "\r\n", "--b", "--b--", "Content-Type: multipart/mixed; boundary=b\n",
		"Content-Transfer-Encoding: base64\n", "Content-Transfer-Encoding: quoted-printable\n",
		"Content-Transfer-Encoding: x-uuencode\n", "begin 644 f\n", "M86)C\n", "`\nend\n",
		"=?utf-8?b?", "?=", "filename*0*=", "'", "%4", "=", "\t", "From x\n", "\n\n",
		"(This file must be converted with BinHex 4.0)\n:", "!!!!", ":",
	};
	uint32_t seed = 12345;
	char buf[4096];

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t k = 0;
		struct collector c;
		size_t parts = (size_t)(round % 60);

		for (size_t i = 0; i < parts; i++) {
			seed = seed * 1103515245u + 12345u;
			const char *a = atoms[(seed >> 16) % (sizeof(atoms) / sizeof(atoms[0]))];
			size_t al = strlen(a);
			if (k + al >= sizeof(buf))
				break;
			if ((seed >> 8) % 7 == 0)
				buf[k++] = (char)(seed >> 3);
			else {
				memcpy(buf + k, a, al);
				k += al;
			}
		}
		collector_init(&c, (round & 1) ? SIZE_MAX : 5);
		assert_int_equal(run_unpacker(unpack_mime, buf, k, &c), VG_OK);
		collector_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_mail),
		cmocka_unit_test(clam_mbox_base64),
		cmocka_unit_test(clam_mbox_uu),
		cmocka_unit_test(binhex_in_body),
		cmocka_unit_test(nested_multipart),
		cmocka_unit_test(quoted_printable),
		cmocka_unit_test(base64_lenient),
		cmocka_unit_test(attachment_names),
		cmocka_unit_test(mbox_messages),
		cmocka_unit_test(uuencode_in_body),
		cmocka_unit_test(lenient_structure),
		cmocka_unit_test(depth_limit),
		cmocka_unit_test(budget),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(sink_stops_it),
		cmocka_unit_test(garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
