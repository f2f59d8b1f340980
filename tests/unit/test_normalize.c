/* textnorm and htmlnorm (lib/unpack): the rules ClamAV documents in its
 * sources, hostile input (unterminated tags and references, odd-length
 * UTF-16, huge lines and tokens, every byte value), and the stream contract:
 * feeding input in pieces of any size gives the same output as one piece.
 * Byte-for-byte agreement with clamscan is tests/targets/run_targets.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unpack/unpack.h"

/* ---- text ---------------------------------------------------------- */

static char *text(const void *in, size_t len, size_t piece, size_t *out_len)
{
	struct textnorm t;
	uint8_t *out = malloc(len + 1);
	size_t o = 0;

	assert_non_null(out);
	textnorm_init(&t);
	for (size_t i = 0; i < len; i += piece) {
		size_t n = len - i < piece ? len - i : piece;
		o += textnorm_run(&t, (const uint8_t *)in + i, n, out + o);
		assert_true(o <= i + n); /* never longer than what went in */
	}
	out[o] = 0;
	*out_len = o;
	return (char *)out;
}

static void text_rules(void **state)
{
	size_t n;
	char *s;

	(void)state;
	s = text("Hello\t\t WORLD\r\n\nX", 17, 17, &n);
	assert_string_equal(s, "hello world x");
	free(s);
	/* a dropped control byte does not end a run of white space */
	s = text("a \x01 b\x7f\x80\xff" "C", 9, 9, &n);
	assert_string_equal(s, "a b\x7f" "c");
	free(s);
	/* UTF-16 of ASCII: the NUL halves vanish, odd length or not */
	s = text("H\0i\0 \0T\0", 7, 3, &n);
	assert_string_equal(s, "hi t");
	free(s);
	s = text("", 0, 1, &n);
	assert_int_equal(n, 0);
	free(s);
}

static void text_any_piece_size(void **state)
{
	uint8_t in[4096];
	size_t n1, n2;
	char *a, *b;

	(void)state;
	srand(7);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(rand() % 4 ? "aZ \t\n\x01\x80."[rand() % 8] : rand());
	a = text(in, sizeof(in), sizeof(in), &n1);
	for (size_t piece = 1; piece < 70; piece += 7) {
		b = text(in, sizeof(in), piece, &n2);
		assert_int_equal(n1, n2);
		assert_memory_equal(a, b, n1);
		free(b);
	}
	free(a);
}

/* ---- HTML ---------------------------------------------------------- */

struct hout {
	uint8_t *nc, *nt;
	size_t nc_len, nt_len;
};

/* Runs the normaliser over in, piece bytes at a time, through an output
 * buffer of cap bytes that is drained whenever the normaliser stops. */
static void html(const void *in, size_t len, size_t piece, size_t cap, struct hout *r)
{
	struct htmlnorm *h = malloc(sizeof(*h));
	uint8_t *b1 = malloc(cap), *b2 = malloc(cap);
	size_t size = 16 * len + 4096;
	struct htmlnorm_out o;

	assert_non_null(h);
	r->nc = malloc(size);
	r->nt = malloc(size);
	r->nc_len = r->nt_len = 0;
	htmlnorm_init(h);
	memset(&o, 0, sizeof(o));
	o.nocomment = b1;
	o.notags = b2;
	o.cap = cap;
	for (size_t i = 0; i < len;) {
		size_t n = len - i < piece ? len - i : piece;
		size_t used = htmlnorm_run(h, (const uint8_t *)in + i, n, &o);
		assert_true(o.nocomment_len <= cap && o.notags_len <= cap);
		assert_true(r->nc_len + o.nocomment_len <= size && r->nt_len + o.notags_len <= size);
		memcpy(r->nc + r->nc_len, b1, o.nocomment_len);
		memcpy(r->nt + r->nt_len, b2, o.notags_len);
		r->nc_len += o.nocomment_len;
		r->nt_len += o.notags_len;
		o.nocomment_len = o.notags_len = 0;
		i += used;
	}
	htmlnorm_finish(h, &o);
	memcpy(r->nc + r->nc_len, b1, o.nocomment_len);
	r->nc_len += o.nocomment_len;
	assert_int_equal(o.nocomment_total, r->nc_len);
	assert_int_equal(o.notags_total, r->nt_len);
	r->nc[r->nc_len] = r->nt[r->nt_len] = 0;
	free(b1);
	free(b2);
	free(h);
}

static void hfree(struct hout *r)
{
	free(r->nc);
	free(r->nt);
}

static void html_expect(const char *in, const char *nc, const char *nt)
{
	struct hout r;

	html(in, strlen(in), strlen(in) + 1, 4 * HTMLNORM_MAX_STEP, &r);
	assert_string_equal((char *)r.nc, nc);
	assert_string_equal((char *)r.nt, nt);
	hfree(&r);
}

/* Expected outputs below are what clamscan 1.4.6 leaves in nocomment.html
 * and notags.html for the same input (--leave-temps). */
static void html_rules(void **state)
{
	(void)state;
	/* tags lower-cased and re-quoted, comments dropped, references decoded
	 * (into the tag view only) */
	html_expect("<HTML><P Class='A'>&lt;Hi&gt;  &amp; &#65;<!-- c --></P></HTML>",
		    "<html><p class=\"a\"><hi> & a</p></html>", " hi ");
	/* <a href> values go to the text view; a tag is acted on when the byte
	 * after it is read, so the last <img> is not */
	html_expect("<html><a href=\"http://X.example/\">Go</a><img src=u.png>",
		    "<html><a href=\"http://x.example/\">go</a><img src=u.png>",
		    " http://X.example/ go ");
	/* script bodies: kept, white space dropped, ' read as " */
	html_expect("<html><script>var a = 'b';</script>x",
		    "<html><script>vara=\"b\";</script>x", " x");
	/* leading white space skipped, CR dropped, LF a space */
	html_expect("  \n<html><b>a\r\nb</b>", "<html><b>a b</b>", " a b ");
}

static void html_malformed(void **state)
{
	(void)state;
	/* cut inside a quoted value, an argument, a comment */
	html_expect("<html>text <a href='x", "<html>text <a href=\"x", " text ");
	html_expect("<html><p class", "<html><p class", " ");
	html_expect("<html>a<!-- never closed", "<html>a", " a ");
	/* references: unknown, unterminated, cut by the end, empty (a NUL) */
	{
		struct hout r;
		const char *in = "<html>&nosuch; &lt &#x41 &#;";
		html(in, strlen(in), 5, 4 * HTMLNORM_MAX_STEP, &r);
		assert_int_equal(r.nc_len, 22);
		assert_memory_equal(r.nc, "<html>&nosuch; &lt A \0", 22);
		assert_string_equal((char *)r.nt, " ");
		hfree(&r);
	}
	html_expect("<html>&amp", "<html>&", " ");
	/* a numeric reference too large: its low byte, then the rest as text */
	html_expect("<html>&#99999999999999999999999;x", "<html>\xff" "9999;x", " 9999;x");
	/* an entity name longer than ClamAV's 1024 bytes is dumped as text */
	{
		size_t n = 3000;
		char *in = malloc(n + 3);
		struct hout r;
		in[0] = '&';
		memset(in + 1, 'q', n);
		memcpy(in + 1 + n, ";", 2);
		html(in, strlen(in), 100, 4 * HTMLNORM_MAX_STEP, &r);
		assert_int_equal(r.nc_len, n + 2);
		assert_int_equal(r.nc[0], '&');
		hfree(&r);
		free(in);
	}
}

static void html_any_piece_size(void **state)
{
	static const char *const atoms[] = {
		"<a href='x y'>", "<IMG SRC=\"data:a,b\">", "&lt;", "&#x41;", "&#", "&", "<!--",
		"-->", "<script>", "</script>", "'", "\"", " ", "\n", "\r", "\t", "<", ">", "=",
		"\xe3\x80\x82", ("\xa1" "C"), "\xc3\xa9", "word", "<p class=a>", "%41", "\0",
	};
	char *in = malloc(64 * 1024);
	size_t len = 0;
	struct hout a, b;

	(void)state;
	srand(11);
	while (len < 60 * 1024) {
		const char *t = atoms[(size_t)rand() % (sizeof(atoms) / sizeof(atoms[0]))];
		size_t n = t[0] ? strlen(t) : 1;
		memcpy(in + len, t, n);
		len += n;
	}
	html(in, len, len, 1 << 20, &a);
	for (size_t piece = 1; piece < 5000; piece = piece * 3 + 1) {
		html(in, len, piece, HTMLNORM_MAX_STEP + 1 + piece % 97, &b);
		assert_int_equal(a.nc_len, b.nc_len);
		assert_int_equal(a.nt_len, b.nt_len);
		assert_memory_equal(a.nc, b.nc, a.nc_len);
		assert_memory_equal(a.nt, b.nt, a.nt_len);
		hfree(&b);
	}
	hfree(&a);
	free(in);
}

static void html_hostile_bytes(void **state)
{
	uint8_t *in = malloc(1 << 20);
	struct hout r;

	(void)state;
	/* every byte value, random structure, and a 1 MiB line without space */
	srand(3);
	for (size_t i = 0; i < (1u << 20); i++)
		in[i] = (uint8_t)rand();
	html(in, 1u << 20, 4093, 2 * HTMLNORM_MAX_STEP, &r);
	hfree(&r);
	memset(in, 'A', 1u << 20);
	in[0] = '<';
	html(in, 1u << 20, 1u << 20, 2 * HTMLNORM_MAX_STEP, &r);
	assert_int_equal(r.nc_len, 1u << 20); /* "<aaa...": one long tag name */
	hfree(&r);
	/* UTF-16 HTML of odd length: NULs are skipped, the odd byte stays */
	html("<\0b\0>\0x\0<", 9, 2, 2 * HTMLNORM_MAX_STEP, &r);
	assert_string_equal((char *)r.nc, "<b>x<");
	hfree(&r);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_rules),
		cmocka_unit_test(text_any_piece_size),
		cmocka_unit_test(html_rules),
		cmocka_unit_test(html_malformed),
		cmocka_unit_test(html_any_piece_size),
		cmocka_unit_test(html_hostile_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
