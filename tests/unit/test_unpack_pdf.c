/* unpack_pdf: clam.pdf from clamav-testfiles, PDFs written here for every
 * filter, chains, predictors, object streams, embedded files, broken
 * structure, bombs and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <zlib.h>

#include "unpack_doc_helpers.h"

/* ---- writing PDFs ---- */

struct out {
	uint8_t *p;
	size_t len, cap;
};

static void emit(struct out *o, const void *data, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->p = realloc(o->p, o->cap);
		assert_non_null(o->p);
	}
	memcpy(o->p + o->len, data, n);
	o->len += n;
}

static void emitf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emitf(struct out *o, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(tmp));
	emit(o, tmp, (size_t)n);
}

/* "num 0 obj << /Length n dict >> stream ... endstream endobj" */
static void stream_obj(struct out *o, unsigned num, const char *dict, const void *data, size_t n)
{
	emitf(o, "%u 0 obj\n<< /Length %zu %s >>\nstream\n", num, n, dict);
	emit(o, data, n);
	emitf(o, "\nendstream\nendobj\n");
}

static size_t zlib_pack(const uint8_t *in, size_t n, uint8_t **out)
{
	uLongf len = compressBound((uLong)n);

	*out = malloc(len);
	assert_non_null(*out);
	assert_int_equal(compress2(*out, &len, in, (uLong)n, 9), Z_OK);
	return len;
}

static size_t hex_pack(const uint8_t *in, size_t n, uint8_t **out)
{
	static const char digits[] = "0123456789abcdef";
	size_t j = 0;

	*out = malloc(n * 3 + 2);
	assert_non_null(*out);
	for (size_t i = 0; i < n; i++) {
		(*out)[j++] = (uint8_t)digits[in[i] >> 4];
		(*out)[j++] = (uint8_t)digits[in[i] & 15];
		if (i % 30 == 29)
			(*out)[j++] = '\n';
	}
	(*out)[j++] = '>';
	return j;
}

static size_t a85_pack(const uint8_t *in, size_t n, uint8_t **out)
{
	size_t j = 0;

	*out = malloc(n * 2 + 8);
	assert_non_null(*out);
	for (size_t i = 0; i < n; i += 4) {
		size_t k = n - i < 4 ? n - i : 4;
		uint32_t v = 0;
		char g[5];
		for (size_t b = 0; b < 4; b++)
			v = v << 8 | (b < k ? in[i + b] : 0);
		if (v == 0 && k == 4) {
			(*out)[j++] = 'z';
			continue;
		}
		for (int b = 4; b >= 0; b--) {
			g[b] = (char)('!' + v % 85);
			v /= 85;
		}
		memcpy(*out + j, g, k + 1);
		j += k + 1;
	}
	(*out)[j++] = '~';
	(*out)[j++] = '>';
	return j;
}

static size_t rl_pack(const uint8_t *in, size_t n, uint8_t **out)
{
	size_t j = 0, i = 0;

	*out = malloc(n * 2 + 2);
	assert_non_null(*out);
	while (i < n) {
		size_t run = 1;
		while (i + run < n && run < 128 && in[i + run] == in[i])
			run++;
		if (run >= 3) {
			(*out)[j++] = (uint8_t)(257 - run);
			(*out)[j++] = in[i];
			i += run;
		} else {
			size_t k = n - i < 128 ? n - i : 128;
			(*out)[j++] = (uint8_t)(k - 1);
			memcpy(*out + j, in + i, k);
			j += k;
			i += k;
		}
	}
	(*out)[j++] = 128;
	return j;
}

/* LZW as PDF writes it: 9-12 bit codes, MSB first, clear when full. */
struct bits {
	uint8_t *p;
	size_t nbits;
};

static void put_code(struct bits *b, unsigned code, unsigned width)
{
	for (unsigned i = 0; i < width; i++, b->nbits++) {
		if ((code >> (width - 1 - i)) & 1)
			b->p[b->nbits >> 3] |= (uint8_t)(0x80 >> (b->nbits & 7));
	}
}

/* The code width a decoder reads with once next codes are defined. */
static unsigned lzw_width(unsigned next, bool early)
{
	unsigned v = next + (early ? 1u : 0u);

	return v >= 2048 ? 12u : v >= 1024 ? 11u : v >= 512 ? 10u : 9u;
}

static size_t lzw_pack(const uint8_t *in, size_t n, bool early, uint8_t **out)
{
	uint16_t (*dict)[256] = calloc(4096, sizeof(*dict));
	struct bits b;
	unsigned next = 258, w;

	assert_non_null(dict);
	b.p = calloc(1, n * 2 + 16);
	b.nbits = 0;
	assert_non_null(b.p);
	put_code(&b, 256, 9);
	w = n ? in[0] : 0;
	for (size_t i = 1; i < n; i++) {
		uint8_t c = in[i];
		if (dict[w][c]) {
			w = dict[w][c];
			continue;
		}
		put_code(&b, w, lzw_width(next - 1, early));
		if (next < 4096) {
			dict[w][c] = (uint16_t)next;
			next++;
		}
		if (next == 4096) {
			put_code(&b, 256, lzw_width(next - 1, early));
			memset(dict, 0, 4096 * sizeof(*dict));
			next = 258;
		}
		w = c;
	}
	if (n)
		put_code(&b, w, lzw_width(next - 1, early));
	next++;
	put_code(&b, 257, lzw_width(next - 1, early));
	free(dict);
	*out = b.p;
	return (b.nbits + 7) / 8;
}

static vg_status run(const uint8_t *p, size_t len, struct collector *col)
{
	struct unpack_input in = {p, len};
	struct unpack_sink s = collector_sink(col);

	return unpack_pdf(&in, &s);
}

static uint8_t *text_sample(size_t n)
{
	uint8_t *p = malloc(n);
	static const char words[] = "vigil reads every PDF stream, the quick brown fox 0123456789 ";

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)words[(i * 7 + i / 61) % (sizeof(words) - 1)];
	return p;
}

/* ---- clam.pdf ---- */

static void clam_pdf(void **state)
{
	size_t exe_len, len;
	uint8_t *exe = testfile("clam.exe", &exe_len);
	uint8_t *pdf = testfile("clam.pdf", &len);
	struct collector col = {0};
	const struct kept *k;

	(void)state;
	assert_int_equal(run(pdf, len, &col), VG_OK);
	/* four streams: XMP metadata, a Flate font program, Flate page content
	 * (its /Length an indirect 334), and the embedded clam.exe */
	assert_int_equal(col.n, 4);
	assert_null(col.items[0].name);
	assert_int_equal(col.items[0].len, 1287);
	assert_memory_equal(col.items[0].data, "<?xpacket begin=", 16);
	assert_int_equal(col.items[1].len, 2957);
	assert_memory_equal(col.items[1].data, "\x01\x00\x04\x02\x00\x01\x01\x01\x06" "CMR12", 14);
	assert_int_equal(col.items[2].len, 662);
	assert_memory_equal(col.items[2].data, "q 0.1 0 0 0.1 0 0 cm\n", 21);
	k = &col.items[3];
	assert_string_equal(k->name, "clam.exe");
	assert_int_equal(k->len, exe_len);
	assert_memory_equal(k->data, exe, exe_len);
	for (size_t i = 0; i < col.n; i++) {
		assert_false(col.items[i].truncated);
		assert_false(col.items[i].encrypted);
	}
	collector_free(&col);
	every_prefix(unpack_pdf, pdf, len, 1);
	free(pdf);
	free(exe);
}

/* ---- filters ---- */

static void each_filter_and_chains(void **state)
{
	size_t n = 20000;
	uint8_t *plain = text_sample(n), *z, *h, *a, *l, *l0, *r, *hz, *a_of_l;
	size_t zn = zlib_pack(plain, n, &z), hn = hex_pack(plain, n, &h), an = a85_pack(plain, n, &a);
	size_t ln = lzw_pack(plain, n, true, &l), l0n = lzw_pack(plain, n, false, &l0);
	size_t rn = rl_pack(plain, n, &r), hzn = hex_pack(z, zn, &hz), aln = a85_pack(l, ln, &a_of_l);
	struct out o = {0};
	struct collector col = {0};

	(void)state;
	emitf(&o, "%%PDF-1.7\n");
	stream_obj(&o, 1, "/Filter /FlateDecode", z, zn);
	stream_obj(&o, 2, "/Filter /AHx", h, hn);
	stream_obj(&o, 3, "/Filter [/ASCII85Decode]", a, an);
	stream_obj(&o, 4, "/Filter /LZWDecode", l, ln);
	stream_obj(&o, 5, "/Filter /LZWDecode /DecodeParms << /EarlyChange 0 >>", l0, l0n);
	stream_obj(&o, 6, "/Filter /RunLengthDecode", r, rn);
	stream_obj(&o, 7, "/Filter [/AHx /Fl]", hz, hzn);
	stream_obj(&o, 8, "/Filter [/A85 /LZW] /DecodeParms [null << /EarlyChange 1 >>]", a_of_l, aln);
	/* names with #xx escapes, and the filter list behind a reference */
	stream_obj(&o, 9, "/F#69lter /Fl#61teDecode", z, zn);
	stream_obj(&o, 10, "/Filter 11 0 R", hz, hzn);
	emitf(&o, "11 0 obj\n[/ASCIIHexDecode /FlateDecode]\nendobj\n%%%%EOF\n");
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	assert_int_equal(col.n, 10);
	for (size_t i = 0; i < col.n; i++) {
		assert_int_equal(col.items[i].len, n);
		assert_memory_equal(col.items[i].data, plain, n);
		assert_false(col.items[i].truncated);
	}
	collector_free(&col);
	free(o.p);
	free(plain);
	free(z);
	free(h);
	free(a);
	free(l);
	free(l0);
	free(r);
	free(hz);
	free(a_of_l);
}

static void filter_edge_cases(void **state)
{
	/* the LZW example of the PDF reference (7.4.4.2): "-----A---B" */
	static const uint8_t lzw_example[] = {0x80, 0x0B, 0x60, 0x50, 0x22, 0x0C, 0x0C, 0x85, 0x01};
	struct out o = {0};
	struct collector col = {0};

	(void)state;
	emitf(&o, "%%PDF-1.4\n");
	stream_obj(&o, 1, "/Filter /LZWDecode", lzw_example, sizeof(lzw_example));
	/* hex: odd digit count pads with 0, spaces ignored */
	stream_obj(&o, 2, "/Filter /ASCIIHexDecode", "41 42\n4>", 8);
	/* ascii85: <~ prefix, z, a final partial group */
	stream_obj(&o, 3, "/Filter /ASCII85Decode", "<~z@:E^~>", 9);
	/* run length with a repeat run */
	stream_obj(&o, 4, "/Filter /RunLengthDecode", "\x01" "ab" "\xfe" "c" "\x80", 6);
	/* raw deflate without a zlib header */
	{
		uint8_t raw[64];
		z_stream z;
		memset(&z, 0, sizeof(z));
		assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
		z.next_in = (Bytef *)"raw deflate";
		z.avail_in = 11;
		z.next_out = raw;
		z.avail_out = sizeof(raw);
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		stream_obj(&o, 5, "/Filter /FlateDecode", raw, sizeof(raw) - z.avail_out);
		deflateEnd(&z);
	}
	/* an image codec ends the chain: the data decoded before it is given */
	stream_obj(&o, 6, "/Filter [/AHx /DCTDecode]", "FFD8FF>", 7);
	/* corrupt flate: nothing decodes, nothing is handed over */
	stream_obj(&o, 7, "/Filter /FlateDecode", "\x78\x9c\xff\xff\xff\xff", 6);
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	assert_int_equal(col.n, 6);
	assert_int_equal(col.items[0].len, 10);
	assert_memory_equal(col.items[0].data, "-----A---B", 10);
	assert_int_equal(col.items[1].len, 3);
	assert_memory_equal(col.items[1].data, "AB@", 3);
	assert_int_equal(col.items[2].len, 7);
	assert_memory_equal(col.items[2].data, "\0\0\0\0abc", 7);
	assert_int_equal(col.items[3].len, 5);
	assert_memory_equal(col.items[3].data, "abccc", 5);
	assert_int_equal(col.items[4].len, 11);
	assert_memory_equal(col.items[4].data, "raw deflate", 11);
	assert_int_equal(col.items[5].len, 3);
	assert_memory_equal(col.items[5].data, "\xff\xd8\xff", 3);
	collector_free(&col);
	every_prefix(unpack_pdf, o.p, o.len, 1);
	free(o.p);
}

static uint8_t paeth_ref(uint8_t a, uint8_t b, uint8_t c)
{
	int p = a + b - c;
	int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

static void predictors(void **state)
{
	/* 3 colours x 7 columns, rows with every PNG filter type */
	enum { COLS = 7, BPP = 3, ROW = COLS * BPP, ROWS = 10 };
	uint8_t img[ROWS][ROW], png[ROWS][ROW + 1], tiff[ROWS][ROW];
	uint8_t *z, *zt;
	size_t zn, ztn;
	struct out o = {0};
	struct collector col = {0};

	(void)state;
	for (int r = 0; r < ROWS; r++)
		for (int i = 0; i < ROW; i++)
			img[r][i] = (uint8_t)(r * 31 + i * i * 7 + (i % 3) * 50);
	for (int r = 0; r < ROWS; r++) {
		uint8_t type = (uint8_t)(r % 5);
		png[r][0] = type;
		for (int i = 0; i < ROW; i++) {
			uint8_t a = i >= BPP ? img[r][i - BPP] : 0;
			uint8_t up = r ? img[r - 1][i] : 0;
			uint8_t c = r && i >= BPP ? img[r - 1][i - BPP] : 0;
			uint8_t pred = 0;
			if (type == 1)
				pred = a;
			else if (type == 2)
				pred = up;
			else if (type == 3)
				pred = (uint8_t)((a + up) / 2);
			else if (type == 4)
				pred = paeth_ref(a, up, c);
			png[r][i + 1] = (uint8_t)(img[r][i] - pred);
			tiff[r][i] = (uint8_t)(img[r][i] - (i >= BPP ? img[r][i - BPP] : 0));
		}
	}
	zn = zlib_pack(&png[0][0], sizeof(png), &z);
	ztn = zlib_pack(&tiff[0][0], sizeof(tiff), &zt);
	emitf(&o, "%%PDF-1.5\n");
	stream_obj(&o, 1, "/Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors 3 /Columns 7 >>", z, zn);
	stream_obj(&o, 2, "/Filter /FlateDecode /DecodeParms << /Predictor 2 /Colors 3 /Columns 7 >>", zt, ztn);
	/* a predictor with absurd parameters is left undone, not crashed on */
	stream_obj(&o, 3, "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Colors 99999999999 /Columns 0 >>", z, zn);
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	assert_int_equal(col.n, 3);
	assert_int_equal(col.items[0].len, sizeof(img));
	assert_memory_equal(col.items[0].data, img, sizeof(img));
	assert_int_equal(col.items[1].len, sizeof(img));
	assert_memory_equal(col.items[1].data, img, sizeof(img));
	assert_int_equal(col.items[2].len, sizeof(png));
	assert_memory_equal(col.items[2].data, png, sizeof(png));
	collector_free(&col);
	free(o.p);
	free(z);
	free(zt);
}

/* ---- structure ---- */

static void object_streams_and_names(void **state)
{
	/* the file specification lives in an object stream; it names stream 5
	 * through /UF (UTF-16BE with a byte order mark) */
	char hdr_and_body[512];
	uint8_t *z, *payload = text_sample(3000), *zp;
	size_t zn, zpn, first;
	struct out o = {0};
	struct collector col = {0};
	const struct kept *k;

	(void)state;
	/* the header "3 0 4 100": object 3 (the spec) at First, object 4
	 * (its EF dictionary) 100 bytes further */
	first = 20;
	memset(hdr_and_body, ' ', sizeof(hdr_and_body));
	{
		const char *spec = "<< /Type /Filespec /F (plain.txt) /UF <FEFF00E900760069006C002E006500780065> /EF 4 0 R >>";
		const char *ef = "<< /F 5 0 R >>";
		memcpy(hdr_and_body + first, spec, strlen(spec));
		memcpy(hdr_and_body + first + 100, ef, strlen(ef));
		memcpy(hdr_and_body, "3 0 4 100", 9);
	}
	zn = zlib_pack((const uint8_t *)hdr_and_body, first + 120, &z);
	zpn = zlib_pack(payload, 3000, &zp);
	emitf(&o, "%%PDF-1.5\n");
	stream_obj(&o, 2, "/Type /ObjStm /N 2 /First 20 /Filter /FlateDecode", z, zn);
	/* the embedded file's /Length is a reference to an object after it */
	emitf(&o, "5 0 obj\n<< /Type /EmbeddedFile /Length 6 0 R /Filter /FlateDecode >>\nstream\n");
	emit(&o, zp, zpn);
	emitf(&o, "\nendstream\nendobj\n6 0 obj\n%zu\nendobj\n", zpn);
	emitf(&o, "trailer\n<< /Root 1 0 R >>\n%%%%EOF\n");
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	assert_int_equal(col.n, 2);
	/* the object stream itself, decoded */
	assert_null(col.items[0].name);
	assert_int_equal(col.items[0].len, first + 120);
	k = &col.items[1];
	assert_string_equal(k->name, "\xc3\xa9vil.exe");
	assert_int_equal(k->len, 3000);
	assert_memory_equal(k->data, payload, 3000);
	collector_free(&col);
	every_prefix(unpack_pdf, o.p, o.len, 1);
	free(o.p);
	free(z);
	free(zp);
	free(payload);
}

static void broken_structure(void **state)
{
	struct out o = {0};
	struct collector col = {0};

	(void)state;
	/* no header, no xref, no trailer; lengths that lie; keywords glued;
	 * a header inside stream data that is not an object */
	emitf(&o, "garbage\n1 0 obj<</Length 3>>stream\nABCDEFG\nendstream endobj\n");
	emitf(&o, "2 0 obj << /Length 9999 >> stream\r\nHIJ 7 0 obj << >> stream\nXYZ\r\nendstream\nendobj\n");
	emitf(&o, "3 0 obj << /Length 4 0 R >>\nstream\nKLM\nendstream\nendobj\n");
	emitf(&o, "4 0 obj 3 endobj\n");
	emitf(&o, "x5 0 obj << /Length 2 >> stream\nNO\nendstream\n");
	emitf(&o, "6 0 obj << /Length -5 >> stream\nPQ\nendstream\n");
	emitf(&o, "8 0 obj << /Length 2 >> stream\nRS");
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	assert_int_equal(col.n, 5);
	/* /Length 3 is not followed by endstream: the keyword decides */
	assert_int_equal(col.items[0].len, 7);
	assert_memory_equal(col.items[0].data, "ABCDEFG", 7);
	assert_int_equal(col.items[1].len, 28);
	assert_memory_equal(col.items[1].data, "HIJ 7 0 obj << >> stream\nXYZ", 28);
	assert_int_equal(col.items[2].len, 3);
	assert_memory_equal(col.items[2].data, "KLM", 3);
	assert_int_equal(col.items[3].len, 2);
	assert_memory_equal(col.items[3].data, "PQ", 2);
	/* a stream cut by the end of the file */
	assert_int_equal(col.items[4].len, 2);
	assert_memory_equal(col.items[4].data, "RS", 2);
	collector_free(&col);
	free(o.p);

	/* nesting a million deep, unterminated strings and dictionaries */
	memset(&o, 0, sizeof(o));
	emitf(&o, "1 0 obj\n");
	for (int i = 0; i < 500000; i++)
		emit(&o, "<<[", 3);
	emitf(&o, "\n2 0 obj (unterminated \\) string << stream\n");
	emitf(&o, "3 0 obj << /Length 1 0 R /Filter [/Fl /Fl /Fl /Fl /Fl /Fl /Fl /Fl /Fl /Fl] >> stream\nx\nendstream\n");
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	assert_int_equal(col.n, 0); /* "x" is not deflate data */
	collector_free(&col);
	free(o.p);
}

static void bombs_respect_max_child(void **state)
{
	size_t big = 16u << 20;
	uint8_t *zeros = calloc(1, big), *z, *z2, *lz, *rl;
	size_t zn = zlib_pack(zeros, big, &z), z2n = zlib_pack(z, zn, &z2), lzn, rln = 0;
	struct out o = {0};
	struct collector col = {0};
	struct bits b;

	(void)state;
	/* an LZW bomb: each code one byte longer than the last, then the
	 * longest string over and over */
	b.p = calloc(1, 1u << 20);
	b.nbits = 0;
	assert_non_null(b.p);
	put_code(&b, 256, 9);
	put_code(&b, 'A', 9);
	{
		unsigned next = 258;
		for (unsigned code = 258; code < 4095; code++) {
			put_code(&b, code, lzw_width(next, true));
			next++;
		}
		while (b.nbits + 12 < (1u << 20) * 8 - 64)
			put_code(&b, 4094, 12);
	}
	lz = b.p;
	lzn = (b.nbits + 7) / 8;
	rl = malloc(200000);
	assert_non_null(rl);
	while (rln + 2 <= 200000) {
		rl[rln++] = 129;
		rl[rln++] = 'R';
	}
	emitf(&o, "%%PDF-1.4\n");
	stream_obj(&o, 1, "/Filter /FlateDecode", z, zn);
	stream_obj(&o, 2, "/Filter /LZWDecode", lz, lzn);
	stream_obj(&o, 3, "/Filter /RunLengthDecode", rl, rln);
	stream_obj(&o, 4, "/Filter [/FlateDecode /FlateDecode]", z2, z2n);
	col.max_child = 1u << 20;
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	assert_int_equal(col.n, 4);
	for (size_t i = 0; i < col.n; i++) {
		assert_int_equal(col.items[i].len, 1u << 20);
		assert_true(col.items[i].truncated);
	}
	assert_memory_equal(col.items[0].data, zeros, 1u << 20);
	assert_int_equal(col.items[1].data[0], 'A');
	assert_int_equal(col.items[1].data[(1u << 20) - 1], 'A');
	assert_int_equal(col.items[2].data[12345], 'R');
	collector_free(&col);
	/* a small cap on plain streams too */
	col.max_child = 100;
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	assert_int_equal(col.n, 4);
	for (size_t i = 0; i < col.n; i++) {
		assert_int_equal(col.items[i].len, 100);
		assert_true(col.items[i].truncated);
	}
	collector_free(&col);
	free(o.p);
	free(zeros);
	free(z);
	free(z2);
	free(lz);
	free(rl);
}

static void object_limit(void **state)
{
	struct out o = {0};
	struct collector col = {0};

	(void)state;
	emitf(&o, "%%PDF-1.4\n");
	stream_obj(&o, 1, "", "first", 5);
	for (unsigned i = 2; i < VG_PDF_MAX_OBJECTS + 10; i++)
		emitf(&o, "%u 0 obj null endobj\n", i);
	stream_obj(&o, 1, "", "beyond", 6);
	/* what lies within the limit is handed over; the limit is reported */
	assert_int_equal(run(o.p, o.len, &col), VG_ELIMIT);
	assert_int_equal(col.n, 1);
	assert_memory_equal(col.items[0].data, "first", 5);
	collector_free(&col);
	free(o.p);

	/* a million object headers inside one stream are not objects */
	memset(&o, 0, sizeof(o));
	emitf(&o, "1 0 obj << /Length 3 0 R >> stream\n");
	for (unsigned i = 0; i < 200000; i++)
		emitf(&o, "%u 0 obj ", i);
	emitf(&o, "\nendstream\nendobj\n");
	assert_int_equal(run(o.p, o.len, &col), VG_ELIMIT);
	collector_free(&col);
	free(o.p);
}

static void stop_and_encryption(void **state)
{
	struct out o = {0};
	struct collector col = {0};
	uint8_t *z;
	size_t zn = zlib_pack((const uint8_t *)"secret", 6, &z);

	(void)state;
	emitf(&o, "%%PDF-1.4\n");
	stream_obj(&o, 1, "", "one", 3);
	stream_obj(&o, 2, "/Filter /FlateDecode", z, zn);
	stream_obj(&o, 3, "", "three", 5);
	col.stop_at = 2;
	col.stop_rc = VG_ELIMIT;
	assert_int_equal(run(o.p, o.len, &col), VG_ELIMIT);
	assert_int_equal(col.calls, 2);
	assert_memory_equal(col.items[1].data, "secret", 6);
	collector_free(&col);
	/* an encrypted document: the streams are given as they are, marked */
	col.stop_at = 0;
	emitf(&o, "trailer << /Root 1 0 R /Encrypt 9 0 R >>\n");
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	assert_int_equal(col.n, 3);
	for (size_t i = 0; i < col.n; i++)
		assert_true(col.items[i].encrypted);
	assert_int_equal(col.items[1].len, zn);
	collector_free(&col);
	free(o.p);
	free(z);
}

static void javascript_strings(void **state)
{
	struct out o = {0};
	struct collector col = {0};
	char big[6000];

	(void)state;
	memset(big, 'x', sizeof(big));
	memcpy(big, "app.alert(1);", 13); /* parentheses balance: no escapes needed */
	emitf(&o, "%%PDF-1.4\n");
	emitf(&o, "1 0 obj << /Type /Action /S /JavaScript /JS (app.alert\\(\\)\\n\\101) >> endobj\n");
	emitf(&o, "2 0 obj << /S /JavaScript /JS 3 0 R >> endobj\n");
	emitf(&o, "3 0 obj\n(");
	emit(&o, big, sizeof(big));
	emitf(&o, ")\nendobj\n");
	emitf(&o, "4 0 obj << /JS <6576616C28293B> >> endobj\n");
	stream_obj(&o, 5, "", "var s = 1;", 10);
	emitf(&o, "6 0 obj << /JS 5 0 R >> endobj\n");
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	/* the stream first, then the three scripts kept as strings */
	assert_int_equal(col.n, 4);
	assert_memory_equal(col.items[0].data, "var s = 1;", 10);
	assert_int_equal(col.items[1].len, 13);
	assert_memory_equal(col.items[1].data, "app.alert()\nA", 13);
	assert_int_equal(col.items[2].len, sizeof(big));
	assert_memory_equal(col.items[2].data, big, sizeof(big));
	assert_int_equal(col.items[3].len, 7);
	assert_memory_equal(col.items[3].data, "eval();", 7);
	collector_free(&col);
	col.max_child = 100;
	assert_int_equal(run(o.p, o.len, &col), VG_OK);
	assert_int_equal(col.n, 4);
	assert_int_equal(col.items[2].len, 100);
	assert_true(col.items[2].truncated);
	assert_false(col.items[3].truncated);
	collector_free(&col);
	free(o.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_pdf),
		cmocka_unit_test(each_filter_and_chains),
		cmocka_unit_test(filter_edge_cases),
		cmocka_unit_test(predictors),
		cmocka_unit_test(object_streams_and_names),
		cmocka_unit_test(broken_structure),
		cmocka_unit_test(bombs_respect_max_child),
		cmocka_unit_test(object_limit),
		cmocka_unit_test(stop_and_encryption),
		cmocka_unit_test(javascript_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
