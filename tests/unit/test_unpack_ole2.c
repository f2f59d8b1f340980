/* unpack_ole2: compound files from clamav-testfiles, compound files built
 * here (both sector sizes, mini streams, DIFAT, VBA, MSI names), and
 * hostile ones (loops, out-of-range sectors, cuts at every length). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unpack_doc_helpers.h"

/* ---- a compound file builder ---- */

#define END_OF_CHAIN 0xFFFFFFFEu
#define FREE_SECT 0xFFFFFFFFu
#define FAT_SECT 0xFFFFFFFDu
#define DIFAT_SECT 0xFFFFFFFCu

struct tent {
	const char *name; /* ASCII; "\001Ole10Native" style prefixes allowed */
	int parent;       /* index into the entries, -1: the root */
	bool storage;
	const uint8_t *data;
	size_t len;
	const uint16_t *utf16; /* instead of name when set (0-terminated) */
};

struct built {
	uint8_t *p;
	size_t len;
	unsigned ss;
	uint32_t first[128];  /* first sector (or mini sector) of each entry's data */
	uint32_t dir_start;
	uint32_t minifat_start;
	uint32_t ministream_start;
	uint32_t nfat;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static size_t ceil_div(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

/* FAT entry of sector s in a built file */
static uint8_t *fat_entry(const struct built *b, uint32_t s)
{
	unsigned per = b->ss / 4;
	return b->p + (size_t)(s / per + 1) * b->ss + (size_t)(s % per) * 4;
}

/* Links count sectors from first in the FAT. */
static void chain(uint32_t *fat, size_t first, size_t count)
{
	for (size_t k = 0; k < count; k++)
		fat[first + k] = k + 1 < count ? (uint32_t)(first + k + 1) : END_OF_CHAIN;
}

static void build(unsigned shift, const struct tent *e, size_t n, const uint8_t *root_clsid,
		  struct built *b)
{
	unsigned ss = 1u << shift, per = ss / 4;
	size_t mini_len = 0, big = 0, ndir, nmf, nmini, data_secs, F = 1, X = 0, total;
	size_t mini_off[128], next;
	uint32_t *fat;
	uint8_t *mini;

	assert_true(n < 128);
	memset(b, 0, sizeof(*b));
	b->ss = ss;
	for (size_t i = 0; i < n; i++) {
		if (e[i].storage || e[i].len == 0)
			continue;
		if (e[i].len < 4096) {
			mini_off[i] = mini_len;
			mini_len += ceil_div(e[i].len, 64) * 64;
		} else {
			big += ceil_div(e[i].len, ss);
		}
	}
	ndir = ceil_div((n + 1) * 128, ss);
	nmf = ceil_div(mini_len / 64 * 4, ss);
	nmini = ceil_div(mini_len, ss);
	data_secs = ndir + nmf + nmini + big;
	for (;;) {
		size_t f2, x2;
		total = data_secs + F + X;
		f2 = ceil_div(total, per);
		x2 = f2 > 109 ? ceil_div(f2 - 109, per - 1) : 0;
		if (f2 == F && x2 == X)
			break;
		F = f2;
		X = x2;
	}
	b->nfat = (uint32_t)F;
	b->len = (total + 1) * ss;
	b->p = calloc(1, b->len);
	fat = malloc(F * per * 4);
	mini = calloc(1, mini_len ? mini_len : 1);
	assert_non_null(b->p);
	assert_non_null(fat);
	assert_non_null(mini);
	memset(fat, 0xff, F * per * 4);
	for (size_t i = 0; i < F; i++)
		fat[i] = FAT_SECT;
	for (size_t i = 0; i < X; i++)
		fat[F + i] = DIFAT_SECT;
	next = F + X;
	b->dir_start = (uint32_t)next;
	chain(fat, next, ndir);
	next += ndir;
	b->minifat_start = nmf ? (uint32_t)next : END_OF_CHAIN;
	chain(fat, next, nmf);
	{
		uint8_t *mf = b->p + (next + 1) * ss;
		for (size_t k = 0; k < nmf * per; k++)
			put32(mf + k * 4, FREE_SECT);
		for (size_t i = 0; i < n; i++) {
			size_t first, cnt;
			if (e[i].storage || e[i].len == 0 || e[i].len >= 4096)
				continue;
			first = mini_off[i] / 64;
			cnt = ceil_div(e[i].len, 64);
			b->first[i] = (uint32_t)first;
			for (size_t k = 0; k < cnt; k++)
				put32(mf + (first + k) * 4,
				      k + 1 < cnt ? (uint32_t)(first + k + 1) : END_OF_CHAIN);
			memcpy(mini + mini_off[i], e[i].data, e[i].len);
		}
	}
	next += nmf;
	b->ministream_start = nmini ? (uint32_t)next : END_OF_CHAIN;
	chain(fat, next, nmini);
	memcpy(b->p + (next + 1) * ss, mini, mini_len);
	next += nmini;
	for (size_t i = 0; i < n; i++) {
		size_t cnt;
		if (e[i].storage || e[i].len < 4096)
			continue;
		cnt = ceil_div(e[i].len, ss);
		b->first[i] = (uint32_t)next;
		chain(fat, next, cnt);
		memcpy(b->p + (next + 1) * ss, e[i].data, e[i].len);
		next += cnt;
	}
	assert_int_equal(next, total);
	/* header */
	{
		static const uint8_t magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
		uint8_t *h = b->p;
		memcpy(h, magic, 8);
		put16(h + 0x18, 0x3E);
		put16(h + 0x1A, shift == 12 ? 4 : 3);
		put16(h + 0x1C, 0xFFFE);
		put16(h + 0x1E, (uint16_t)shift);
		put16(h + 0x20, 6);
		put32(h + 0x28, shift == 12 ? (uint32_t)ndir : 0);
		put32(h + 0x2C, (uint32_t)F);
		put32(h + 0x30, b->dir_start);
		put32(h + 0x38, 4096);
		put32(h + 0x3C, b->minifat_start);
		put32(h + 0x40, (uint32_t)nmf);
		put32(h + 0x44, X ? (uint32_t)F : END_OF_CHAIN);
		put32(h + 0x48, (uint32_t)X);
		for (size_t k = 0; k < 109; k++)
			put32(h + 0x4C + 4 * k, k < F ? (uint32_t)k : FREE_SECT);
	}
	/* DIFAT sectors */
	for (size_t x = 0; x < X; x++) {
		uint8_t *d = b->p + (F + x + 1) * ss;
		for (size_t k = 0; k < per - 1; k++) {
			size_t fi = 109 + x * (per - 1) + k;
			put32(d + 4 * k, fi < F ? (uint32_t)fi : FREE_SECT);
		}
		put32(d + 4 * (per - 1), x + 1 < X ? (uint32_t)(F + x + 1) : END_OF_CHAIN);
	}
	/* FAT sectors */
	for (size_t k = 0; k < F * per; k++)
		put32(b->p + (k / per + 1) * ss + (k % per) * 4, fat[k]);
	/* directory: each storage's children hang off right-sibling links */
	{
		uint8_t *d = b->p + (b->dir_start + 1) * ss;
		int last_child[129];
		for (size_t i = 0; i <= n; i++)
			last_child[i] = -1;
		for (size_t i = 0; i <= n; i++) {
			uint8_t *de = d + i * 128;
			put32(de + 68, FREE_SECT);
			put32(de + 72, FREE_SECT);
			put32(de + 76, FREE_SECT);
		}
		/* root */
		{
			const char *rn = "Root Entry";
			for (size_t k = 0; rn[k]; k++)
				put16(d + 2 * k, (uint16_t)rn[k]);
			put16(d + 64, (uint16_t)((strlen(rn) + 1) * 2));
			d[66] = 5;
			d[67] = 1;
			if (root_clsid)
				memcpy(d + 80, root_clsid, 16);
			put32(d + 116, b->ministream_start);
			put32(d + 120, (uint32_t)mini_len);
		}
		for (size_t i = 0; i < n; i++) {
			uint8_t *de = d + (i + 1) * 128;
			size_t parent_slot = (size_t)(e[i].parent + 1); /* 0 = root */
			size_t len;
			if (e[i].utf16) {
				for (len = 0; e[i].utf16[len]; len++)
					put16(de + 2 * len, e[i].utf16[len]);
			} else {
				for (len = 0; e[i].name[len]; len++)
					put16(de + 2 * len, (uint8_t)e[i].name[len]);
			}
			put16(de + 64, (uint16_t)((len + 1) * 2));
			de[66] = e[i].storage ? 1 : 2;
			de[67] = 1;
			put32(de + 116, e[i].storage || e[i].len == 0 ? END_OF_CHAIN : b->first[i]);
			put32(de + 120, e[i].storage ? 0 : (uint32_t)e[i].len);
			if (last_child[parent_slot] < 0)
				put32(d + parent_slot * 128 + 76, (uint32_t)(i + 1));
			else
				put32(d + (size_t)last_child[parent_slot] * 128 + 72, (uint32_t)(i + 1));
			last_child[parent_slot] = (int)(i + 1);
		}
	}
	free(fat);
	free(mini);
}

static vg_status run(const uint8_t *p, size_t len, struct collector *col)
{
	struct unpack_input in = {p, len};
	struct unpack_sink s = collector_sink(col);

	return unpack_ole2(&in, &s);
}

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);
	uint32_t x = seed * 2654435761u + 1;

	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
	return p;
}

/* ---- clamav-testfiles ---- */

static void clam_ole_doc(void **state)
{
	static const char *const streams[] = {
		"Data", "WordDocument", "ObjectPool/_1279313719/Ole",
		"ObjectPool/_1279313719/CompObj", "ObjectPool/_1279313719/ObjInfo",
		"ObjectPool/_1279313719/Ole10Native", "1Table", "SummaryInformation",
		"DocumentSummaryInformation", "CompObj"};
	size_t exe_len, len;
	uint8_t *exe = testfile("clam.exe", &exe_len);
	uint8_t *doc = testfile("clam.ole.doc", &len);
	struct collector col = {0};
	const struct kept *k;

	(void)state;
	assert_int_equal(run(doc, len, &col), VG_OK);
	/* every stream, in directory order, then the package after its stream */
	assert_int_equal(col.n, VG_ARRAY_LEN(streams) + 1);
	for (size_t i = 0, j = 0; i < col.n; i++) {
		if (col.items[i].name && strcmp(col.items[i].name, "Clam.exe") == 0)
			continue;
		assert_string_equal(col.items[i].name, streams[j++]);
		assert_false(col.items[i].truncated);
	}
	assert_int_equal(kept_named(&col, "WordDocument")->len, 4142);
	assert_int_equal(kept_named(&col, "ObjectPool/_1279313719/Ole10Native")->len, 597);
	assert_int_equal(kept_named(&col, "Data")->len, 4096);
	/* the embedded package is clam.exe, byte for byte, under its label */
	k = find_equal(&col, exe, exe_len);
	assert_non_null(k);
	assert_string_equal(k->name, "Clam.exe");
	assert_int_equal(count_equal(&col, exe, exe_len), 1);
	/* it follows the Ole10Native stream it came from */
	assert_string_equal((k - 1)->name, "ObjectPool/_1279313719/Ole10Native");
	collector_free(&col);
	free(doc);
	free(exe);
}

static void clam_ppt(void **state)
{
	size_t exe_len, len;
	uint8_t *exe = testfile("clam.exe", &exe_len);
	uint8_t *ppt = testfile("clam.ppt", &len);
	struct collector col = {0};
	const struct kept *k, *obj;

	(void)state;
	/* depth 0: the five streams and the one ExOleObjStg, a compound file */
	assert_int_equal(run(ppt, len, &col), VG_OK);
	assert_int_equal(col.n, 6);
	assert_int_equal(kept_named(&col, "Pictures")->len, 2510);
	assert_int_equal(kept_named(&col, "PowerPoint Document")->len, 5182);
	assert_int_equal(kept_named(&col, "SummaryInformation")->len, 21760);
	assert_int_equal(kept_named(&col, "DocumentSummaryInformation")->len, 568);
	assert_int_equal(kept_named(&col, "Current User")->len, 44);
	obj = kept_named(&col, "PowerPoint Document/ExOleObjStg");
	assert_non_null(obj);
	assert_int_equal(obj->len, 4096);
	assert_memory_equal(obj->data, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
	assert_null(find_equal(&col, exe, exe_len));
	collector_free(&col);

	/* recursing into it (as the driver does) finds clam.exe at depth 1 */
	col.recurse_ole2 = 1;
	assert_int_equal(run(ppt, len, &col), VG_OK);
	k = find_equal(&col, exe, exe_len);
	assert_non_null(k);
	assert_int_equal(k->depth, 1);
	assert_string_equal(k->name, "clam.exe");
	assert_non_null(kept_named(&col, "Ole10Native"));
	assert_non_null(kept_named(&col, "CompObj"));
	assert_int_equal(col.n, 6 + 3);
	collector_free(&col);
	free(ppt);
	free(exe);
}

static void clam_files_every_prefix(void **state)
{
	size_t len;
	uint8_t *doc = testfile("clam.ole.doc", &len);

	(void)state;
	every_prefix(unpack_ole2, doc, len, 7);
	free(doc);
	doc = testfile("clam.ppt", &len);
	every_prefix(unpack_ole2, doc, len, 29);
	free(doc);
}

/* ---- built files ---- */

static void built_both_sector_sizes(void **state)
{
	(void)state;
	for (unsigned shift = 9; shift <= 12; shift += 3) {
		uint8_t *small = pattern(100, 1), *mid = pattern(4095, 2), *big = pattern(10000, 3);
		uint8_t *exact = pattern(4096, 4);
		struct tent e[] = {
			{"Small", -1, false, small, 100, NULL},
			{"Store", -1, true, NULL, 0, NULL},
			{"Big", 1, false, big, 10000, NULL},
			{"Inner", 1, true, NULL, 0, NULL},
			{"Mid", 3, false, mid, 4095, NULL},
			{"Exact", -1, false, exact, 4096, NULL},
			{"Empty", -1, false, NULL, 0, NULL},
		};
		struct built b;
		struct collector col = {0};

		build(shift, e, VG_ARRAY_LEN(e), NULL, &b);
		assert_int_equal(run(b.p, b.len, &col), VG_OK);
		/* the empty stream is not a child */
		assert_int_equal(col.n, 4);
		assert_string_equal(col.items[0].name, "Small");
		assert_int_equal(col.items[0].len, 100);
		assert_memory_equal(col.items[0].data, small, 100);
		assert_string_equal(col.items[1].name, "Store/Big");
		assert_int_equal(col.items[1].len, 10000);
		assert_memory_equal(col.items[1].data, big, 10000);
		assert_string_equal(col.items[2].name, "Store/Inner/Mid");
		assert_int_equal(col.items[2].len, 4095);
		assert_memory_equal(col.items[2].data, mid, 4095);
		assert_string_equal(col.items[3].name, "Exact");
		assert_int_equal(col.items[3].len, 4096);
		assert_memory_equal(col.items[3].data, exact, 4096);
		for (size_t i = 0; i < col.n; i++)
			assert_false(col.items[i].truncated);
		collector_free(&col);

		/* every cut of the file */
		every_prefix(unpack_ole2, b.p, b.len, shift == 9 ? 1 : 13);
		free(b.p);
		free(small);
		free(mid);
		free(big);
		free(exact);
	}
}

static void built_difat(void **state)
{
	/* 120 FAT sectors: 11 of them listed by a DIFAT sector */
	size_t n = 120u * 128 * 512 - 200 * 512;
	uint8_t *data = pattern(n, 9);
	struct tent e[] = {{"Huge", -1, false, data, n, NULL}};
	struct built b;
	struct collector col = {0};

	(void)state;
	build(9, e, 1, NULL, &b);
	assert_true(b.nfat > 109);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_int_equal(col.items[0].len, n);
	assert_memory_equal(col.items[0].data, data, n);
	collector_free(&col);

	/* a DIFAT sector linking to itself changes nothing: the FAT is whole
	 * before the link would be followed */
	put32(b.p + (size_t)(b.nfat + 1) * 512 + 508, b.nfat);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_int_equal(col.items[0].len, n);
	collector_free(&col);
	put32(b.p + 0x44, b.nfat + 500); /* the DIFAT points at a data sector */
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_true(col.items[0].len < n);
	assert_memory_equal(col.items[0].data, data, col.items[0].len);
	collector_free(&col);
	free(b.p);
	free(data);
}

static void fat_loops_and_out_of_range(void **state)
{
	uint8_t *big = pattern(5000, 5), *small = pattern(300, 6);
	struct tent e[] = {
		{"Big", -1, false, big, 5000, NULL},
		{"Small", -1, false, small, 300, NULL},
	};
	struct built b;
	struct collector col = {0};
	uint32_t s0;

	(void)state;
	build(9, e, 2, NULL, &b);
	s0 = b.first[0];
	/* the third sector of Big points back at the first */
	put32(fat_entry(&b, s0 + 2), s0);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_non_null(kept_named(&col, "Big"));
	assert_int_equal(kept_named(&col, "Big")->len, 3 * 512);
	assert_memory_equal(kept_named(&col, "Big")->data, big, 3 * 512);
	assert_int_equal(kept_named(&col, "Small")->len, 300);
	collector_free(&col);
	/* a sector pointing at itself */
	put32(fat_entry(&b, s0), s0);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(kept_named(&col, "Big")->len, 512);
	collector_free(&col);
	/* a chain leaving the file */
	put32(fat_entry(&b, s0), 0x00FFFFFFu);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(kept_named(&col, "Big")->len, 512);
	collector_free(&col);
	/* a stream starting outside the file, or on a special value */
	put32(b.p + (size_t)(b.dir_start + 1) * 512 + 128 + 116, 0x7FFFFFFFu);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_null(kept_named(&col, "Big"));
	assert_non_null(kept_named(&col, "Small"));
	collector_free(&col);
	/* a MiniFAT loop ends the small stream */
	put32(b.p + (size_t)(b.minifat_start + 1) * 512 + 4 * (b.first[1] + 1), b.first[1]);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(kept_named(&col, "Small")->len, 128);
	assert_memory_equal(kept_named(&col, "Small")->data, small, 128);
	collector_free(&col);
	/* the directory's chain loops: the entries read before still count */
	put32(fat_entry(&b, b.dir_start), b.dir_start);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	collector_free(&col);
	/* the only FAT sector is out of range: every chain is its first
	 * sector (the directory, the mini stream, the small stream) */
	put32(b.p + 0x4C, 0x12345678u);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_int_equal(kept_named(&col, "Small")->len, 128);
	collector_free(&col);
	free(b.p);
	free(big);
	free(small);
}

static void tree_loops(void **state)
{
	uint8_t *data = pattern(200, 7);
	struct tent e[] = {
		{"A", -1, true, NULL, 0, NULL},
		{"B", 0, true, NULL, 0, NULL},
		{"S", 1, false, data, 200, NULL},
	};
	struct built b;
	struct collector col = {0};
	uint8_t *d;

	(void)state;
	build(9, e, 3, NULL, &b);
	d = b.p + (size_t)(b.dir_start + 1) * 512;
	/* B's child list also leads back to A and to the root */
	put32(d + 3 * 128 + 68, 1);
	put32(d + 3 * 128 + 72, 0);
	put32(d + 2 * 128 + 72, 2); /* B is its own sibling */
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.items[0].name, "A/B/S");
	collector_free(&col);
	/* an entry no storage reaches is still handed over, by its bare name */
	put32(d + 2 * 128 + 76, FREE_SECT);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.items[0].name, "S");
	collector_free(&col);
	free(b.p);
	free(data);
}

static void long_names(void **state)
{
	/* names are cut at 31 UTF-16 units; a name length field longer than
	 * the name area does not read past it */
	uint8_t *data = pattern(64, 8);
	struct tent e[] = {{"S", -1, false, data, 64, NULL}};
	struct built b;
	struct collector col = {0};
	uint8_t *de;

	(void)state;
	build(9, e, 1, NULL, &b);
	de = b.p + (size_t)(b.dir_start + 1) * 512 + 128;
	for (size_t k = 0; k < 32; k++)
		put16(de + 2 * k, (uint16_t)(0x00E9));
	put16(de + 64, 0xFFFF);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_int_equal(strlen(col.items[0].name), 64); /* 32 x U+00E9 in UTF-8 */
	collector_free(&col);
	free(b.p);
	free(data);
}

static void msi_names(void **state)
{
	static const uint8_t msi_clsid[16] = {0x84, 0x10, 0x0C, 0x00, 0, 0, 0, 0,
					      0xC0, 0, 0, 0, 0, 0, 0, 0x46};
	/* "!_Tables" packed as MSI does: the table mark, then pairs of the
	 * 64-character alphabet, a lone last character */
	const char *alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";
	uint16_t name[8];
	uint8_t *data = pattern(80, 10);
	struct built b;
	struct collector col = {0};
	unsigned u = (unsigned)(strchr(alpha, '_') - alpha), t = (unsigned)(strchr(alpha, 'T') - alpha);
	unsigned a = (unsigned)(strchr(alpha, 'a') - alpha), bb = (unsigned)(strchr(alpha, 'b') - alpha);
	unsigned l = (unsigned)(strchr(alpha, 'l') - alpha), ee = (unsigned)(strchr(alpha, 'e') - alpha);
	unsigned s = (unsigned)(strchr(alpha, 's') - alpha);

	(void)state;
	name[0] = 0x4840;
	name[1] = (uint16_t)(0x3800 + u + (t << 6));
	name[2] = (uint16_t)(0x3800 + a + (bb << 6));
	name[3] = (uint16_t)(0x3800 + l + (ee << 6));
	name[4] = (uint16_t)(0x4800 + s);
	name[5] = 0;
	{
		struct tent e[] = {{NULL, -1, false, data, 80, name}};
		build(9, e, 1, msi_clsid, &b);
	}
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.items[0].name, "!_Tables");
	collector_free(&col);
	/* without the MSI class the same units are CJK characters */
	memset(b.p + (size_t)(b.dir_start + 1) * 512 + 80, 0, 16);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 1);
	assert_int_equal(strlen(col.items[0].name), 15);
	collector_free(&col);
	free(b.p);
	free(data);
}

static void max_child_and_stop(void **state)
{
	uint8_t *big = pattern(9000, 11), *small = pattern(3000, 12);
	struct tent e[] = {
		{"Big", -1, false, big, 9000, NULL},
		{"Small", -1, false, small, 3000, NULL},
		{"Third", -1, false, small, 3000, NULL},
	};
	struct built b;
	struct collector col = {0};

	(void)state;
	build(9, e, 3, NULL, &b);
	col.max_child = 1000;
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(col.items[i].len, 1000);
		assert_true(col.items[i].truncated);
	}
	assert_memory_equal(col.items[0].data, big, 1000);
	assert_memory_equal(col.items[1].data, small, 1000);
	collector_free(&col);
	/* a sink that says stop is obeyed at once, its status returned */
	col.max_child = 0;
	col.stop_at = 2;
	col.stop_rc = VG_ELIMIT;
	assert_int_equal(run(b.p, b.len, &col), VG_ELIMIT);
	assert_int_equal(col.calls, 2);
	collector_free(&col);
	col.stop_at = 1;
	col.stop_rc = VG_ETIMEOUT;
	assert_int_equal(run(b.p, b.len, &col), VG_ETIMEOUT);
	assert_int_equal(col.calls, 1);
	collector_free(&col);
	free(b.p);
	free(big);
	free(small);
}

/* ---- embedded content built here ---- */

static size_t package(uint8_t *out, const char *label, const uint8_t *file, uint32_t len)
{
	size_t n = 4;

	out[n++] = 2;
	out[n++] = 0;
	n += (size_t)sprintf((char *)out + n, "%s", label) + 1;
	n += (size_t)sprintf((char *)out + n, "C:\\tmp\\%s", label) + 1;
	put32(out + n, 0x00030000u);
	n += 4;
	put32(out + n, 4);
	memcpy(out + n + 4, "x:\\", 4);
	n += 8;
	put32(out + n, len);
	n += 4;
	memcpy(out + n, file, len);
	n += len;
	put32(out, (uint32_t)(n - 4));
	return n;
}

static void ole10native_package(void **state)
{
	uint8_t *file = pattern(5000, 13);
	uint8_t native[6000];
	size_t n = package(native, "evil.exe", file, 5000);
	struct tent e[] = {
		{"ObjectPool", -1, true, NULL, 0, NULL},
		{"\001Ole10Native", 0, false, native, n, NULL},
	};
	struct built b;
	struct collector col = {0};
	const struct kept *k;

	(void)state;
	build(9, e, 2, NULL, &b);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 2);
	k = kept_named(&col, "evil.exe");
	assert_non_null(k);
	assert_int_equal(k->len, 5000);
	assert_memory_equal(k->data, file, 5000);
	assert_false(k->truncated);
	collector_free(&col);
	/* cut by max_child: the package's file is cut and says so */
	col.max_child = 3000;
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	k = kept_named(&col, "evil.exe");
	assert_non_null(k);
	assert_true(k->truncated);
	assert_memory_equal(k->data, file, k->len);
	collector_free(&col);
	every_prefix(unpack_ole2, b.p, b.len, 3);
	free(b.p);
	free(file);
}

/* MS-OVBA 3.2.2's example: its compressed container and what it holds. */
static const uint8_t ovba_example[] = {
	0x01, 0x2F, 0xB0, 0x00, 0x23, 0x61, 0x61, 0x61, 0x62, 0x63, 0x64, 0x65, 0x82, 0x66,
	0x00, 0x70, 0x61, 0x67, 0x68, 0x69, 0x6A, 0x01, 0x38, 0x08, 0x61, 0x6B, 0x6C, 0x00,
	0x30, 0x6D, 0x6E, 0x6F, 0x70, 0x06, 0x71, 0x02, 0x70, 0x04, 0x10, 0x72, 0x73, 0x74,
	0x75, 0x76, 0x10, 0x77, 0x78, 0x79, 0x7A, 0x00, 0x3C};
static const char ovba_plain[] = "#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa";

/* Compresses with literals only (valid MS-OVBA, just not small). */
static size_t ovba_literal(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 0;

	out[o++] = 1;
	for (size_t c = 0; c < n; c += 4096) {
		size_t k = n - c < 4096 ? n - c : 4096, hdr = o, start;
		o += 2;
		start = o;
		for (size_t i = 0; i < k; i += 8) {
			out[o++] = 0;
			for (size_t j = i; j < i + 8 && j < k; j++)
				out[o++] = in[c + j];
		}
		put16(out + hdr, (uint16_t)(0xB000 | (o - start + 2 - 3)));
	}
	return o;
}

static size_t dir_record(uint8_t *out, uint16_t id, const void *data, uint32_t len)
{
	put16(out, id);
	put32(out + 2, len);
	memcpy(out + 6, data, len);
	return 6 + len;
}

static void vba_project_source(void **state)
{
	uint8_t dir[512], cdir[700], module[400], ver[6] = {0};
	uint8_t off4[4];
	size_t dn = 0, cn, mn = 0;
	static const char source2[] = "Attribute VB_Name = \"Module2\"\r\nSub AutoOpen()\r\nEnd Sub\r\n";
	struct collector col = {0};
	struct built b;
	const struct kept *k;

	(void)state;
	/* dir: a PROJECTVERSION (size field 4, 6 bytes follow), then two
	 * modules; the first's stream holds 20 bytes of p-code before the
	 * source (the spec's example), the second's 7 */
	put16(dir + dn, 0x0009);
	put32(dir + dn + 2, 4);
	memcpy(dir + dn + 6, ver, 6);
	dn += 12;
	dn += dir_record(dir + dn, 0x0019, "Module1", 7);
	dn += dir_record(dir + dn, 0x001A, "Module1", 7);
	dn += dir_record(dir + dn, 0x0032, "M\0o\0d\0u\0l\0e\0001\0", 14);
	put32(off4, 20);
	dn += dir_record(dir + dn, 0x0031, off4, 4);
	dn += dir_record(dir + dn, 0x002B, "", 0);
	dn += dir_record(dir + dn, 0x0019, "Module2", 7);
	dn += dir_record(dir + dn, 0x001A, "MODULE2", 7); /* names compare without case */
	put32(off4, 7);
	dn += dir_record(dir + dn, 0x0031, off4, 4);
	dn += dir_record(dir + dn, 0x002B, "", 0);
	dn += dir_record(dir + dn, 0x0010, "", 0);
	cn = ovba_literal(dir, dn, cdir);
	memset(module, 0xCC, 20);
	memcpy(module + 20, ovba_example, sizeof(ovba_example));
	mn = 20 + sizeof(ovba_example);
	{
		uint8_t module2[200];
		size_t m2 = 7;
		memset(module2, 0xAA, 7);
		m2 += ovba_literal((const uint8_t *)source2, sizeof(source2) - 1, module2 + 7);
		struct tent e[] = {
			{"Macros", -1, true, NULL, 0, NULL},
			{"VBA", 0, true, NULL, 0, NULL},
			{"dir", 1, false, cdir, cn, NULL},
			{"Module1", 1, false, module, mn, NULL},
			{"Module2", 1, false, module2, m2, NULL},
		};
		build(12, e, VG_ARRAY_LEN(e), NULL, &b);
	}
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 5);
	k = kept_named(&col, "Macros/VBA/Module1.vba");
	assert_non_null(k);
	assert_int_equal(k->len, strlen(ovba_plain));
	assert_memory_equal(k->data, ovba_plain, k->len);
	k = kept_named(&col, "Macros/VBA/Module2.vba");
	assert_non_null(k);
	assert_int_equal(k->len, sizeof(source2) - 1);
	assert_memory_equal(k->data, source2, k->len);
	/* the sources come right after the dir stream */
	assert_string_equal(col.items[0].name, "Macros/VBA/dir");
	collector_free(&col);
	/* a cap inside the source: cut and flagged */
	col.max_child = 30;
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	k = kept_named(&col, "Macros/VBA/Module1.vba");
	assert_non_null(k);
	assert_int_equal(k->len, 30);
	assert_true(k->truncated);
	assert_memory_equal(k->data, ovba_plain, 30);
	collector_free(&col);
	every_prefix(unpack_ole2, b.p, b.len, 11);
	free(b.p);
}

static void vba_malformed_compression(void **state)
{
	/* copy tokens before any literal, offsets beyond the chunk, chunk
	 * sizes beyond the data: each ends the output quietly */
	static const uint8_t bad[][8] = {
		{0x01, 0x05, 0xB0, 0x01, 0x00, 0x10, 0x00, 0x00},
		{0x01, 0x05, 0xB0, 0x02, 0x41, 0xF0, 0xFF, 0x00},
		{0x01, 0xFF, 0xBF, 0x00, 0x41, 0x42, 0x43, 0x44},
		{0x01, 0xFF, 0x3F, 0x41, 0x42, 0x43, 0x44, 0x45},
	};
	uint8_t dir[64];
	size_t dn = 0;

	(void)state;
	for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
		uint8_t off4[4] = {0, 0, 0, 0};
		struct built b;
		struct collector col = {0};
		uint8_t cdir[128];
		size_t cn;

		dn = 0;
		dn += dir_record(dir + dn, 0x001A, "M", 1);
		dn += dir_record(dir + dn, 0x0031, off4, 4);
		dn += dir_record(dir + dn, 0x002B, "", 0);
		cn = ovba_literal(dir, dn, cdir);
		{
			struct tent e[] = {
				{"VBA", -1, true, NULL, 0, NULL},
				{"dir", 0, false, cdir, cn, NULL},
				{"M", 0, false, bad[i], 8, NULL},
			};
			build(9, e, 3, NULL, &b);
		}
		assert_int_equal(run(b.p, b.len, &col), VG_OK);
		if (i == 1) {
			/* one literal, then a copy reaching before the chunk */
			assert_int_equal(kept_named(&col, "VBA/M.vba")->len, 1);
		} else if (i == 2) {
			assert_int_equal(kept_named(&col, "VBA/M.vba")->len, 4);
		} else if (i == 3) {
			/* a stored chunk cut short keeps what is there */
			assert_int_equal(kept_named(&col, "VBA/M.vba")->len, 5);
		} else {
			assert_null(kept_named(&col, "VBA/M.vba"));
		}
		collector_free(&col);
		free(b.p);
	}
}

static void directory_limit(void **state)
{
	/* a directory of more entries than are read: the ones before the
	 * limit are handed over, the limit is reported */
	const size_t ss = 4096, per = 1024, nents = VG_OLE2_MAX_DIR_ENTRIES + 64;
	size_t ndir = ceil_div(nents * 128, ss), F = 1, total, data_sec;
	uint8_t *p, *d;
	struct collector col = {0};

	(void)state;
	for (;;) {
		size_t f2 = ceil_div(F + ndir + 1, per);
		if (f2 == F)
			break;
		F = f2;
	}
	total = F + ndir + 1;
	data_sec = F + ndir;
	p = calloc(total + 1, ss);
	assert_non_null(p);
	memcpy(p, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
	put16(p + 0x1A, 4);
	put16(p + 0x1E, 12);
	put16(p + 0x20, 6);
	put32(p + 0x2C, (uint32_t)F);
	put32(p + 0x30, (uint32_t)F);
	put32(p + 0x38, 4096);
	put32(p + 0x3C, END_OF_CHAIN);
	put32(p + 0x44, END_OF_CHAIN);
	for (size_t k = 0; k < 109; k++)
		put32(p + 0x4C + 4 * k, k < F ? (uint32_t)k : FREE_SECT);
	for (size_t s = 0; s < F * per; s++) {
		uint32_t v = FREE_SECT;
		if (s < F)
			v = FAT_SECT;
		else if (s < F + ndir)
			v = s + 1 < F + ndir ? (uint32_t)(s + 1) : END_OF_CHAIN;
		else if (s == data_sec)
			v = END_OF_CHAIN;
		put32(p + (s / per + 1) * ss + (s % per) * 4, v);
	}
	memset(p + (data_sec + 1) * ss, 'D', ss);
	d = p + (F + 1) * ss;
	d[66] = 5;
	put32(d + 68, FREE_SECT);
	put32(d + 72, FREE_SECT);
	put32(d + 76, 1);
	put32(d + 116, END_OF_CHAIN);
	{
		size_t ids[2] = {1, nents - 2};
		const char *names[2] = {"E", "L"};
		for (size_t i = 0; i < 2; i++) {
			uint8_t *e = d + ids[i] * 128;
			put16(e, (uint16_t)names[i][0]);
			put16(e + 64, 4);
			e[66] = 2;
			put32(e + 68, FREE_SECT);
			put32(e + 72, i == 0 ? (uint32_t)ids[1] : FREE_SECT);
			put32(e + 76, FREE_SECT);
			put32(e + 116, (uint32_t)data_sec);
			put32(e + 120, 4096);
		}
	}
	assert_int_equal(run(p, (total + 1) * ss, &col), VG_ELIMIT);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.items[0].name, "E");
	assert_int_equal(col.items[0].len, 4096);
	collector_free(&col);
	free(p);
}

static void deep_storages(void **state)
{
	/* 80 storages deep: the walk stops expanding at VG_OLE2_MAX_DEPTH, the
	 * streams below are still handed over, by their bare names */
	struct tent e[84];
	char names[84][16];
	uint8_t data[100];
	struct built b;
	struct collector col = {0};
	char want[1024] = "";

	(void)state;
	memset(data, 'q', sizeof(data));
	for (int i = 0; i < 80; i++) {
		snprintf(names[i], sizeof(names[i]), "d%u", (unsigned)i);
		e[i] = (struct tent){names[i], i - 1, true, NULL, 0, NULL};
		if (i < 10) {
			strcat(want, names[i]);
			strcat(want, "/");
		}
	}
	e[80] = (struct tent){"Top", 9, false, data, sizeof(data), NULL};
	e[81] = (struct tent){"Bottom", 79, false, data, sizeof(data), NULL};
	strcat(want, "Top");
	build(9, e, 82, NULL, &b);
	assert_int_equal(run(b.p, b.len, &col), VG_OK);
	assert_int_equal(col.n, 2);
	assert_string_equal(col.items[0].name, want);
	assert_string_equal(col.items[1].name, "Bottom");
	collector_free(&col);
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clam_ole_doc),
		cmocka_unit_test(clam_ppt),
		cmocka_unit_test(clam_files_every_prefix),
		cmocka_unit_test(built_both_sector_sizes),
		cmocka_unit_test(built_difat),
		cmocka_unit_test(fat_loops_and_out_of_range),
		cmocka_unit_test(tree_loops),
		cmocka_unit_test(long_names),
		cmocka_unit_test(msi_names),
		cmocka_unit_test(max_child_and_stop),
		cmocka_unit_test(ole10native_package),
		cmocka_unit_test(vba_project_source),
		cmocka_unit_test(vba_malformed_compression),
		cmocka_unit_test(directory_limit),
		cmocka_unit_test(deep_storages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
