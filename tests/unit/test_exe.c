/* exe: PE, ELF and Mach-O header parsing on binaries built here, then
 * damaged: truncated at every length, hostile counts, offsets past the end,
 * values that overflow 32 bits. Expected values follow from the formats and
 * from ClamAV's rules as exe.h states them (the differential test
 * tests/diff/exe_diff.py checks those rules against clamscan itself). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "exe/exe.h"

static void put16(uint8_t *p, uint32_t v, bool be)
{
	p[be ? 0 : 1] = (uint8_t)(v >> 8);
	p[be ? 1 : 0] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v, bool be)
{
	for (int i = 0; i < 4; i++)
		p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v, bool be)
{
	for (int i = 0; i < 8; i++)
		p[be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
}

struct mem {
	const uint8_t *p;
	size_t len;
	unsigned reads;
};

static bool read_mem(void *ctx, uint64_t off, void *dst, size_t len)
{
	struct mem *m = ctx;

	m->reads++;
	if (off > m->len || len > m->len - off)
		return false;
	memcpy(dst, m->p + off, len);
	return true;
}

static struct exe_info *parse(const uint8_t *p, size_t len)
{
	static struct exe_info x;
	struct mem m = {p, len, 0};

	assert_int_equal(exe_parse_reader(read_mem, &m, len, &x), VG_OK);
	/* what every caller relies on, valid or not */
	assert_true(x.described <= x.nsections);
	assert_true(x.described <= EXE_MAX_SECTIONS);
	if (!x.valid) {
		assert_false(x.has_ep);
		assert_int_equal(x.nsections, 0);
	}
	return &x;
}

/* ---------------------------------------------------------------------- */
/* PE: MZ at 0, PE header at 0x80, SizeOfHeaders 0x400, sections at
 * 0x1000 * (i + 1), raw data 0x200 bytes each from 0x400. */

#define PE_LEN 0x1000u

static size_t build_pe(uint8_t *b, bool plus, uint32_t nsect, uint32_t ep_rva)
{
	uint32_t opt = plus ? 112 + 128 : 96 + 128, at;

	memset(b, 0xcc, PE_LEN);
	memset(b, 0, 0x400);
	b[0] = 'M';
	b[1] = 'Z';
	put32(b + 60, 0x80, false);
	memcpy(b + 0x80, "PE\0\0", 4);
	put16(b + 0x84, plus ? 0x8664 : 0x14c, false);
	put16(b + 0x86, nsect, false);
	put16(b + 0x94, opt, false);
	put16(b + 0x96, 0x102, false);
	at = 0x98;
	put16(b + at, plus ? 0x20b : 0x10b, false);
	put32(b + at + 16, ep_rva, false);
	put32(b + at + 32, 0x1000, false); /* SectionAlignment */
	put32(b + at + 36, 0x200, false);  /* FileAlignment */
	put32(b + at + 60, 0x400, false);  /* SizeOfHeaders */
	put32(b + at + (plus ? 108 : 92), 16, false);
	at += opt;
	for (uint32_t i = 0; i < nsect && at + 40 <= 0x400; i++, at += 40) {
		memcpy(b + at, ".text\0\0\0", 8);
		put32(b + at + 8, 0x200, false);               /* VirtualSize */
		put32(b + at + 12, 0x1000 * (i + 1), false);   /* VirtualAddress */
		put32(b + at + 16, 0x200, false);              /* SizeOfRawData */
		put32(b + at + 20, 0x400 + 0x200 * i, false);  /* PointerToRawData */
	}
	return PE_LEN;
}

static uint32_t pe_section_hdr(uint32_t i, bool plus)
{
	return 0x98 + (plus ? 240 : 224) + 40 * i;
}

static void pe_valid(void **state)
{
	uint8_t b[PE_LEN];
	struct exe_info *x;

	(void)state;
	for (int plus = 0; plus < 2; plus++) {
		build_pe(b, plus, 3, 0x2010);
		x = parse(b, PE_LEN);
		assert_int_equal(x->kind, EXE_PE);
		assert_true(x->valid);
		assert_int_equal(x->pe32plus, plus);
		assert_int_equal(x->bits, plus ? 64 : 32);
		assert_int_equal(x->nsections, 3);
		assert_int_equal(x->described, 3);
		/* rva 0x2010 is in section 1 (va 0x2000, raw 0x600) */
		assert_int_equal(x->ep, 0x610);
		assert_int_equal(x->sections[2].raw_off, 0x800);
		assert_int_equal(x->sections[2].raw_size, 0x200);
		assert_int_equal(x->sections[1].rva, 0x2000);
		/* SizeOfHeaders rounded up to the section alignment */
		assert_int_equal(x->hdr_size, 0x1000);
	}
	/* an entry point inside the headers maps to itself */
	build_pe(b, false, 2, 0x44);
	x = parse(b, PE_LEN);
	assert_true(x->valid);
	assert_int_equal(x->ep, 0x44);
}

static void pe_alignment_rules(void **state)
{
	uint8_t b[PE_LEN];
	struct exe_info *x;
	uint32_t s1 = pe_section_hdr(1, false), s2 = pe_section_hdr(2, false);

	(void)state;
	/* a raw pointer off the FileAlignment is aligned down */
	build_pe(b, false, 3, 0x1000);
	put32(b + s1 + 20, 0x610, false);
	x = parse(b, PE_LEN);
	assert_int_equal(x->sections[1].raw_off, 0x600);
	/* an odd SizeOfRawData is rounded up */
	put32(b + s1 + 16, 0x101, false);
	x = parse(b, PE_LEN);
	assert_int_equal(x->sections[1].raw_size, 0x200);
	/* FileAlignment 0x1000 with raw pointers on 0x200: ClamAV falls back to 0x200 */
	build_pe(b, false, 3, 0x1000);
	put32(b + 0x98 + 36, 0x1000, false);
	x = parse(b, PE_LEN);
	assert_true(x->valid);
	assert_int_equal(x->sections[1].raw_off, 0x600);
	/* a section running past the end of the file is cut there */
	build_pe(b, false, 3, 0x1000);
	put32(b + s2 + 16, 0x10000, false);
	x = parse(b, PE_LEN);
	assert_int_equal(x->sections[2].raw_size, PE_LEN - 0x800);
	/* one starting past the end keeps no bytes, and the rest stands */
	put32(b + s2 + 20, 0x20000, false);
	x = parse(b, PE_LEN);
	assert_true(x->valid);
	assert_int_equal(x->sections[2].raw_size, 0);
	/* an entry point in no section's bytes: the headers are not used */
	build_pe(b, false, 3, 0x9000);
	x = parse(b, PE_LEN);
	assert_int_equal(x->kind, EXE_PE);
	assert_false(x->valid);
}

static void pe_hostile(void **state)
{
	uint8_t b[PE_LEN];
	struct exe_info *x;
	uint32_t s0 = pe_section_hdr(0, false);

	(void)state;
	/* section counts: 0 and more than 96 are refused */
	build_pe(b, false, 3, 0x1000);
	put16(b + 0x86, 0, false);
	assert_false(parse(b, PE_LEN)->valid);
	put16(b + 0x86, 97, false);
	assert_false(parse(b, PE_LEN)->valid);
	/* 96 section headers would run past the end of this file */
	put16(b + 0x86, 96, false);
	assert_false(parse(b, PE_LEN)->valid);
	/* e_lfanew 0, past the end, and at the 32-bit edge */
	build_pe(b, false, 3, 0x1000);
	put32(b + 60, 0, false);
	assert_false(parse(b, PE_LEN)->valid);
	put32(b + 60, PE_LEN - 2, false);
	assert_false(parse(b, PE_LEN)->valid);
	put32(b + 60, 0xfffffffcu, false);
	assert_false(parse(b, PE_LEN)->valid);
	/* not "PE\0\0" */
	build_pe(b, false, 3, 0x1000);
	b[0x82] = 'X';
	assert_false(parse(b, PE_LEN)->valid);
	/* optional header too small, or too small for its data directories */
	build_pe(b, false, 3, 0x1000);
	put16(b + 0x94, 95, false);
	assert_false(parse(b, PE_LEN)->valid);
	put16(b + 0x94, 96 + 8, false);
	assert_false(parse(b, PE_LEN)->valid);
	/* PE32+ magic with a PE32-sized optional header */
	build_pe(b, true, 3, 0x1000);
	put16(b + 0x94, 111, false);
	assert_false(parse(b, PE_LEN)->valid);
	/* sign bits in a section header */
	build_pe(b, false, 3, 0x1000);
	put32(b + s0 + 8, 0x80000000u, false);
	assert_false(parse(b, PE_LEN)->valid);
	/* a size that would wrap when aligned has its sign bit set: refused */
	build_pe(b, false, 3, 0x1000);
	put32(b + s0 + 16, 0xfffffff0u, false);
	put32(b + 0x98 + 16, 0x2000, false);
	assert_false(parse(b, PE_LEN)->valid);
	/* alignment 0 leaves values as they are */
	build_pe(b, false, 3, 0x1010);
	put32(b + 0x98 + 32, 0, false);
	put32(b + 0x98 + 36, 0, false);
	x = parse(b, PE_LEN);
	assert_true(x->valid);
	assert_int_equal(x->ep, 0x410);
}

/* ---------------------------------------------------------------------- */
/* ELF: header, two PT_LOAD program headers at 64, section headers at the
 * end of the file. */

#define ELF_LEN 0x2000u

static size_t build_elf(uint8_t *b, bool is64, bool be, uint32_t nsh)
{
	uint32_t ehsize = is64 ? 64 : 52, phsz = is64 ? 56 : 32, shsz = is64 ? 64 : 40;
	uint32_t shoff = ELF_LEN - nsh * shsz;

	memset(b, 0xee, ELF_LEN);
	memset(b, 0, 0x200);
	memcpy(b, "\x7f" "ELF", 4);
	b[4] = is64 ? 2 : 1;
	b[5] = be ? 2 : 1;
	b[6] = 1;
	if (is64) {
		put64(b + 24, 0x400100, be); /* e_entry */
		put64(b + 32, ehsize, be);
		put64(b + 40, shoff, be);
		put16(b + 54, phsz, be);
		put16(b + 56, 2, be);
		put16(b + 58, shsz, be);
		put16(b + 60, nsh, be);
	} else {
		put32(b + 24, 0x400100, be);
		put32(b + 28, ehsize, be);
		put32(b + 32, shoff, be);
		put16(b + 42, phsz, be);
		put16(b + 44, 2, be);
		put16(b + 46, shsz, be);
		put16(b + 48, nsh, be);
	}
	for (uint32_t i = 0; i < 2; i++) {
		uint8_t *ph = b + ehsize + i * phsz;
		uint64_t off = 0x1000 * i, va = 0x400000 + 0x10000 * i, sz = 0x800;
		put32(ph, 1, be);
		if (is64) {
			put64(ph + 8, off, be);
			put64(ph + 16, va, be);
			put64(ph + 32, sz, be);
			put64(ph + 40, sz, be);
		} else {
			put32(ph + 4, (uint32_t)off, be);
			put32(ph + 8, (uint32_t)va, be);
			put32(ph + 16, (uint32_t)sz, be);
			put32(ph + 20, (uint32_t)sz, be);
		}
	}
	for (uint32_t i = 0; i < nsh; i++) {
		uint8_t *sh = b + shoff + i * shsz;
		memset(sh, 0, shsz);
		if (is64) {
			put64(sh + 16, 0x400000 + 0x100 * i, be);
			put64(sh + 24, 0x100 * i, be);
			put64(sh + 32, 0x80, be);
		} else {
			put32(sh + 12, 0x400000 + 0x100 * i, be);
			put32(sh + 16, 0x100 * i, be);
			put32(sh + 20, 0x80, be);
		}
	}
	return ELF_LEN;
}

static void elf_valid(void **state)
{
	uint8_t b[ELF_LEN];
	struct exe_info *x;

	(void)state;
	for (int is64 = 0; is64 < 2; is64++)
		for (int be = 0; be < 2; be++) {
			build_elf(b, is64, be, 4);
			x = parse(b, ELF_LEN);
			assert_int_equal(x->kind, EXE_ELF);
			assert_true(x->valid);
			assert_int_equal(x->bits, is64 ? 64 : 32);
			assert_int_equal(x->big_endian, be);
			assert_int_equal(x->ep, 0x100); /* entry 0x400100 in the first segment */
			assert_int_equal(x->nsections, 4);
			assert_int_equal(x->sections[3].raw_off, 0x300);
			assert_int_equal(x->sections[3].raw_size, 0x80);
		}
}

static void elf_rules_and_hostile(void **state)
{
	uint8_t b[ELF_LEN];
	struct exe_info *x;

	(void)state;
	/* entry 0: the entry point is offset 0, nothing is looked up */
	build_elf(b, false, false, 2);
	put32(b + 24, 0, false);
	x = parse(b, ELF_LEN);
	assert_true(x->valid);
	assert_int_equal(x->ep, 0);
	/* entry in no segment: headers not used */
	build_elf(b, false, false, 2);
	put32(b + 24, 0x900000, false);
	assert_false(parse(b, ELF_LEN)->valid);
	/* more than 128 program headers, or a wrong entry size */
	build_elf(b, false, false, 2);
	put16(b + 44, 129, false);
	assert_false(parse(b, ELF_LEN)->valid);
	build_elf(b, false, false, 2);
	put16(b + 42, 33, false);
	assert_false(parse(b, ELF_LEN)->valid);
	/* program headers past the end of the file */
	build_elf(b, true, false, 2);
	put64(b + 32, ELF_LEN - 20, false);
	assert_false(parse(b, ELF_LEN)->valid);
	put64(b + 32, 0xffffffffffffff00ull, false);
	assert_false(parse(b, ELF_LEN)->valid);
	/* more than 256 sections, a wrong section entry size (even for 0
	 * sections), a table past the end */
	build_elf(b, false, true, 2);
	put16(b + 48, 257, true);
	assert_false(parse(b, ELF_LEN)->valid);
	build_elf(b, false, true, 0);
	put16(b + 46, 41, true);
	assert_false(parse(b, ELF_LEN)->valid);
	build_elf(b, false, true, 2);
	put32(b + 32, 0xfffffff0u, true);
	assert_false(parse(b, ELF_LEN)->valid);
	/* class other than 1 or 2 */
	build_elf(b, false, false, 2);
	b[4] = 3;
	x = parse(b, ELF_LEN);
	assert_int_equal(x->kind, EXE_ELF);
	assert_false(x->valid);
	/* 32-bit segment whose end wraps: ClamAV's compare wraps too, so an
	 * entry above the start is not inside */
	build_elf(b, false, false, 2);
	put32(b + 52 + 8, 0xfffff000u, false);   /* p_vaddr */
	put32(b + 52 + 20, 0x2000, false);       /* p_memsz: end wraps to 0x1000 */
	put32(b + 24, 0xfffff010u, false);
	x = parse(b, ELF_LEN);
	assert_false(x->valid);
}

/* ---------------------------------------------------------------------- */
/* Mach-O */

#define MACHO_LEN 0x1000u

static size_t build_macho(uint8_t *b, bool is64, bool be, uint32_t cpu, uint32_t nsect)
{
	uint32_t at = is64 ? 32 : 28, segsz = is64 ? 72 : 56, secsz = is64 ? 80 : 68;

	memset(b, 0x77, MACHO_LEN);
	memset(b, 0, 0x400);
	put32(b, is64 ? 0xfeedfacf : 0xfeedface, be);
	put32(b + 4, cpu, be);
	put32(b + 16, 2, be); /* ncmds */
	put32(b + at, is64 ? 0x19 : 0x1, be);
	put32(b + at + 4, segsz + nsect * secsz, be);
	put32(b + at + (is64 ? 64 : 48), nsect, be);
	for (uint32_t i = 0; i < nsect; i++) {
		uint8_t *s = b + at + segsz + i * secsz;
		if (is64) {
			put64(s + 32, 0x1000 + 0x100 * i, be);
			put64(s + 40, 0x50, be);
			put32(s + 48, 0x200 + 0x100 * i, be);
			put32(s + 52, 4, be); /* 2^4 */
		} else {
			put32(s + 32, 0x1000 + 0x100 * i, be);
			put32(s + 36, 0x50, be);
			put32(s + 40, 0x200 + 0x100 * i, be);
			put32(s + 44, 4, be);
		}
	}
	at += segsz + nsect * secsz;
	put32(b + at, 0x5, be); /* LC_UNIXTHREAD */
	put32(b + at + 4, 16 + 304, be);
	if (is64)
		put64(b + at + 16, 0x1110, be);
	else
		put32(b + at + 16, 0x1110, be);
	return MACHO_LEN;
}

static void macho_rules_and_hostile(void **state)
{
	uint8_t b[MACHO_LEN];
	struct exe_info *x;

	(void)state;
	/* PowerPC: the thread state's PC, mapped through the sections */
	for (int be = 0; be < 2; be++) {
		build_macho(b, false, be, 18, 3);
		x = parse(b, MACHO_LEN);
		assert_int_equal(x->kind, EXE_MACHO);
		assert_true(x->valid);
		assert_int_equal(x->ep, 0x310); /* 0x1110 in section 1 (0x1100 -> 0x300) */
		assert_int_equal(x->nsections, 3);
		assert_int_equal(x->sections[2].raw_size, 0x50);
		build_macho(b, true, be, 18 | 0x1000000, 2);
		x = parse(b, MACHO_LEN);
		assert_true(x->valid);
		assert_int_equal(x->ep, 0x310);
	}
	/* x86: ClamAV takes no entry point from the thread state */
	build_macho(b, false, false, 7, 3);
	x = parse(b, MACHO_LEN);
	assert_true(x->valid);
	assert_int_equal(x->ep, 0);
	/* an unaligned size is rounded up to the section's alignment */
	build_macho(b, false, true, 18, 1);
	put32(b + 28 + 56 + 36, 0x51, true);
	assert_int_equal(parse(b, MACHO_LEN)->sections[0].raw_size, 0x60);
	/* 2^31 is a valid alignment; 2^32, or a size that rounds up past 32
	 * bits, is "malformed" (ClamAV 1.4); x86: no entry point to map */
	build_macho(b, false, true, 7, 1);
	put32(b + 28 + 56 + 44, 31, true);
	assert_true(parse(b, MACHO_LEN)->valid);
	put32(b + 28 + 56 + 44, 32, true);
	assert_false(parse(b, MACHO_LEN)->valid);
	put32(b + 28 + 56 + 44, 4, true);
	put32(b + 28 + 56 + 36, 0xfffffff1u, true);
	assert_false(parse(b, MACHO_LEN)->valid);
	put32(b + 28 + 56 + 36, 0xfffffff0u, true);
	assert_true(parse(b, MACHO_LEN)->valid);
	/* a PC outside every section */
	build_macho(b, false, true, 18, 2);
	put32(b + 28 + 56 + 2 * 68 + 16, 0x9000, true);
	assert_false(parse(b, MACHO_LEN)->valid);
	/* command counts 0 and 1025; more than 255 sections in a segment */
	build_macho(b, false, true, 18, 2);
	put32(b + 16, 0, true);
	assert_false(parse(b, MACHO_LEN)->valid);
	put32(b + 16, 1025, true);
	assert_false(parse(b, MACHO_LEN)->valid);
	build_macho(b, false, true, 18, 2);
	put32(b + 28 + 48, 256, true);
	assert_false(parse(b, MACHO_LEN)->valid);
	/* a command size that jumps past the end */
	build_macho(b, false, true, 18, 2);
	put32(b + 28, 0x2, true); /* not a segment: skipped by its size */
	put32(b + 28 + 4, 0xfffffff0u, true);
	assert_false(parse(b, MACHO_LEN)->valid);
}

/* ---------------------------------------------------------------------- */

static void truncated_everywhere(void **state)
{
	uint8_t pe[PE_LEN], elf[ELF_LEN], mo[MACHO_LEN];
	const struct {
		const uint8_t *p;
		size_t len;
	} all[] = {{pe, PE_LEN}, {elf, ELF_LEN}, {mo, MACHO_LEN}};

	(void)state;
	build_pe(pe, false, 3, 0x2010);
	build_elf(elf, true, true, 4);
	build_macho(mo, true, false, 18 | 0x1000000, 3);
	for (size_t k = 0; k < VG_ARRAY_LEN(all); k++) {
		bool was_valid = false;
		for (size_t n = 0; n <= all[k].len; n++) {
			struct exe_info *x = parse(all[k].p, n);
			/* once the headers fit they stay valid as the file grows,
			 * except PE sections cut at the end */
			if (x->valid)
				was_valid = true;
			else if (k != 0)
				assert_false(was_valid);
		}
		assert_true(was_valid);
	}
}

static void head_only_parse(void **state)
{
	uint8_t elf[ELF_LEN];
	struct exe_info x;

	(void)state;
	build_elf(elf, false, false, 3);
	/* the section table is at the end: not in a 1 KiB head */
	assert_int_equal(exe_parse(elf, 1024, ELF_LEN, &x), VG_OK);
	assert_int_equal(x.kind, EXE_ELF);
	assert_false(x.valid);
	assert_int_equal(exe_parse(elf, ELF_LEN, ELF_LEN, &x), VG_OK);
	assert_true(x.valid);
	/* not an executable */
	assert_int_equal(exe_parse((const uint8_t *)"hello world", 11, 11, &x), VG_OK);
	assert_int_equal(x.kind, EXE_NONE);
	assert_int_equal(exe_parse(NULL, 0, 0, &x), VG_OK);
	assert_int_equal(x.kind, EXE_NONE);
}

/* ---------------------------------------------------------------------- */
/* Imports */

struct text {
	char s[16384];
	size_t n;
};

static vg_status collect(void *ctx, const char *piece, size_t len)
{
	struct text *t = ctx;

	assert_true(t->n + len < sizeof(t->s));
	memcpy(t->s + t->n, piece, len);
	t->n += len;
	t->s[t->n] = '\0';
	return VG_OK;
}

/* A PE32 whose section 0 (rva 0x1000, raw 0x400) holds an import table. */
static void build_imports(uint8_t *b, const char *dll, const char *fn1, uint32_t ordinal)
{
	uint32_t base = 0x400, rva = 0x1000;

	build_pe(b, false, 3, 0x1000);
	memset(b + base, 0, 0x200);
	put32(b + 0x98 + 96 + 8, rva, false);     /* import directory */
	put32(b + 0x98 + 96 + 12, 40, false);
	/* descriptor 0: OriginalFirstThunk 0x1080, Name 0x1040, FirstThunk 0x1080 */
	put32(b + base, rva + 0x80, false);
	put32(b + base + 12, rva + 0x40, false);
	put32(b + base + 16, rva + 0x80, false);
	memcpy(b + base + 0x40, dll, strlen(dll) + 1);
	put32(b + base + 0x80, rva + 0xa0, false);                  /* by name */
	put32(b + base + 0x84, 0x80000000u | ordinal, false);       /* by ordinal */
	memcpy(b + base + 0xa2, fn1, strlen(fn1) + 1);
}

static void imports(void **state)
{
	uint8_t b[PE_LEN];
	struct mem m = {b, PE_LEN, 0};
	struct exe_info x;
	struct text t;
	enum exe_imp_result res;
	uint32_t len;

	(void)state;
	build_imports(b, "KERNEL32.dll", "ExitProcess", 7);
	assert_int_equal(exe_parse_reader(read_mem, &m, PE_LEN, &x), VG_OK);
	assert_true(x.valid);
	memset(&t, 0, sizeof(t));
	assert_int_equal(exe_pe_imports(read_mem, &m, PE_LEN, &x, collect, &t, &res, &len), VG_OK);
	assert_int_equal(res, EXE_IMP_OK);
	assert_string_equal(t.s, "kernel32.exitprocess,kernel32.ord7");
	assert_int_equal(len, strlen(t.s));
	/* Winsock ordinals have names; the extension is kept unless .dll/.ocx/.sys */
	build_imports(b, "WS2_32.dll", "x", 23);
	exe_parse_reader(read_mem, &m, PE_LEN, &x);
	memset(&t, 0, sizeof(t));
	exe_pe_imports(read_mem, &m, PE_LEN, &x, collect, &t, &res, &len);
	assert_string_equal(t.s, "ws2_32.x,ws2_32.socket");
	build_imports(b, "tool.exe", "Run", 2);
	exe_parse_reader(read_mem, &m, PE_LEN, &x);
	memset(&t, 0, sizeof(t));
	exe_pe_imports(read_mem, &m, PE_LEN, &x, collect, &t, &res, &len);
	assert_string_equal(t.s, "tool.exe.run,tool.exe.ord2");
	/* a name ClamAV refuses: no hash at all */
	build_imports(b, "a.dll", "Bad-Name", 2);
	exe_parse_reader(read_mem, &m, PE_LEN, &x);
	exe_pe_imports(read_mem, &m, PE_LEN, &x, collect, &t, &res, &len);
	assert_int_equal(res, EXE_IMP_BAD);
	/* oleaut32 ordinals have names too, where its table has one */
	build_imports(b, "OLEAUT32.dll", "x", 8);
	exe_parse_reader(read_mem, &m, PE_LEN, &x);
	memset(&t, 0, sizeof(t));
	exe_pe_imports(read_mem, &m, PE_LEN, &x, collect, &t, &res, &len);
	assert_int_equal(res, EXE_IMP_OK);
	assert_string_equal(t.s, "oleaut32.x,oleaut32.variantinit");
	build_imports(b, "oleaut32.dll", "x", 302);
	exe_parse_reader(read_mem, &m, PE_LEN, &x);
	memset(&t, 0, sizeof(t));
	exe_pe_imports(read_mem, &m, PE_LEN, &x, collect, &t, &res, &len);
	assert_string_equal(t.s, "oleaut32.x,oleaut32.ord302");
	/* a directory past the end of the file, or none */
	build_imports(b, "a.dll", "f", 2);
	put32(b + 0x98 + 96 + 12, 0x10000, false);
	exe_parse_reader(read_mem, &m, PE_LEN, &x);
	exe_pe_imports(read_mem, &m, PE_LEN, &x, collect, &t, &res, &len);
	assert_int_equal(res, EXE_IMP_NONE);
	put32(b + 0x98 + 96 + 8, 0, false);
	exe_parse_reader(read_mem, &m, PE_LEN, &x);
	exe_pe_imports(read_mem, &m, PE_LEN, &x, collect, &t, &res, &len);
	assert_int_equal(res, EXE_IMP_NONE);
	/* a thunk array without its terminating zero runs to the end of the
	 * file and stops there: bounded, no hang */
	build_imports(b, "a.dll", "f", 2);
	for (uint32_t off = 0x488; off + 4 <= PE_LEN; off += 4)
		put32(b + off, 0x80000001u, false);
	exe_parse_reader(read_mem, &m, PE_LEN, &x);
	memset(&t, 0, sizeof(t));
	m.reads = 0;
	assert_int_equal(exe_pe_imports(read_mem, &m, PE_LEN, &x, collect, &t, &res, &len), VG_OK);
	assert_int_equal(res, EXE_IMP_OK);
	assert_true(m.reads < PE_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pe_valid),
		cmocka_unit_test(pe_alignment_rules),
		cmocka_unit_test(pe_hostile),
		cmocka_unit_test(elf_valid),
		cmocka_unit_test(elf_rules_and_hostile),
		cmocka_unit_test(macho_rules_and_hostile),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(head_only_parse),
		cmocka_unit_test(imports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
