/* Executable headers: PE, ELF and Mach-O, read through a bounds-checked
 * random-access callback into fixed-size local buffers and decoded at fixed
 * offsets inside them, so no field is ever read outside what was fetched.
 *
 * The rules (which damage makes the headers unusable, how the entry point is
 * mapped, how PE sections are aligned and cut) follow ClamAV 1.4's target
 * info so that EP/section offsets resolve to the same bytes. ClamAV keeps
 * these values in 32-bit fields; where that truncates or wraps, so do we,
 * and the comments say where. */
#include <string.h>

#include "exe/exe.h"

/* ---------------------------------------------------------------------- */
/* Byte order                                                              */

static uint16_t get16(const uint8_t *p, bool be)
{
	unsigned v = be ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
	return (uint16_t)v;
}

static uint32_t get32(const uint8_t *p, bool be)
{
	if (be)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t get64(const uint8_t *p, bool be)
{
	uint64_t hi = get32(p + (be ? 0 : 4), be), lo = get32(p + (be ? 4 : 0), be);
	return hi << 32 | lo;
}

struct src {
	exe_read_fn *read;
	void *ctx;
	uint64_t size;
};

static bool fetch(const struct src *s, uint64_t off, void *dst, size_t len)
{
	if (off > s->size || len > s->size - off)
		return false;
	return s->read(s->ctx, off, dst, len);
}

static void invalidate(struct exe_info *out)
{
	out->valid = false;
	out->has_ep = false;
	out->ep = 0;
	out->nsections = 0;
	out->described = 0;
}

static void add_section(struct exe_info *out, uint32_t i, uint64_t rva, uint64_t vsize,
			uint64_t raw, uint64_t rsz)
{
	if (i >= EXE_MAX_SECTIONS)
		return;
	out->sections[i].rva = rva;
	out->sections[i].vsize = vsize;
	out->sections[i].raw_off = raw;
	out->sections[i].raw_size = rsz;
	if (i + 1 > out->described)
		out->described = i + 1;
}

/* ---------------------------------------------------------------------- */
/* PE                                                                      */

#define PE_MAX_SECTIONS 96u
#define PE_FILE_HDR 24u  /* "PE\0\0" + IMAGE_FILE_HEADER */
#define PE_OPT32 96u     /* optional header without data directories */
#define PE_OPT64 112u
#define PE_SECTION_HDR 40u

/* ClamAV's PEALIGN / PESALIGN, in 32 bits (they wrap there). */
static uint32_t pe_align_down(uint32_t o, uint32_t a)
{
	return a ? o / a * a : o;
}

static uint32_t pe_align_up(uint32_t o, uint32_t a)
{
	return a ? (uint32_t)((o / a + (o % a != 0)) * a) : o;
}

struct pe_sect {
	uint32_t rva, vsz, raw, rsz, urva, uvsz, uraw, ursz;
};

static bool pe_rawaddr(const struct pe_sect *s, uint32_t n, uint32_t hdr_size, uint64_t fsize,
		       uint32_t rva, uint32_t *off)
{
	if (rva < hdr_size) { /* in the headers: mapped as is */
		if (rva >= fsize)
			return false;
		*off = rva;
		return true;
	}
	for (uint32_t i = n; i-- > 0;) {
		if (s[i].rsz && s[i].rva <= rva && s[i].rsz > rva - s[i].rva) {
			*off = rva - s[i].rva + s[i].raw; /* 32-bit, as ClamAV */
			return true;
		}
	}
	return false;
}

static void parse_pe(const struct src *s, struct exe_info *out)
{
	uint8_t fh[PE_FILE_HDR], opt[PE_OPT64], dirs[16 * 8], sh[PE_SECTION_HDR];
	struct pe_sect sect[PE_MAX_SECTIONS];
	uint32_t e_lfanew, nsect, opt_size, stored, salign, falign, hdr_size, ndirs, ep;
	uint64_t at, fsize = s->size;
	uint8_t b4[4];

	out->kind = EXE_PE;
	out->bits = 32;
	invalidate(out);
	if (!fetch(s, 60, b4, 4))
		return;
	e_lfanew = get32(b4, false);
	if (e_lfanew == 0 || !fetch(s, e_lfanew, fh, sizeof(fh)) || memcmp(fh, "PE\0\0", 4) != 0)
		return;
	nsect = get16(fh + 6, false);
	opt_size = get16(fh + 20, false);
	if (nsect == 0 || nsect > PE_MAX_SECTIONS || opt_size < PE_OPT32)
		return;
	at = (uint64_t)e_lfanew + PE_FILE_HDR;
	if (!fetch(s, at, opt, PE_OPT32))
		return;
	stored = PE_OPT32;
	if (get16(opt, false) == 0x20b) {
		if (opt_size < PE_OPT64 || !fetch(s, at + PE_OPT32, opt + PE_OPT32, PE_OPT64 - PE_OPT32))
			return;
		stored = PE_OPT64;
		out->pe32plus = true;
		out->bits = 64;
		ndirs = get32(opt + 108, false);
	} else {
		ndirs = get32(opt + 92, false);
	}
	ep = get32(opt + 16, false);
	salign = get32(opt + 32, false);
	falign = get32(opt + 36, false);
	hdr_size = get32(opt + 60, false);
	if (ndirs > 16)
		ndirs = 16;
	if (opt_size < stored + 8 * ndirs)
		return;
	if (ndirs && !fetch(s, at + stored, dirs, 8 * ndirs))
		return;
	out->ndatadirs = ndirs;
	if (ndirs > 1) {
		out->import_rva = get32(dirs + 8, false);
		out->import_size = get32(dirs + 12, false);
	}
	at += opt_size; /* a longer optional header is skipped */
	hdr_size = pe_align_up(hdr_size, salign);

	/* ClamAV's file alignment fallback: a section whose raw pointer is not
	 * aligned to FileAlignment but is to 0x200 switches to 0x200 */
	for (uint32_t i = 0; falign != 0x200 && i < nsect; i++) {
		uint32_t rsz, raw;
		if (!fetch(s, at + (uint64_t)i * PE_SECTION_HDR, sh, sizeof(sh)))
			return;
		rsz = get32(sh + 16, false);
		raw = get32(sh + 20, false);
		if (falign && rsz && raw % falign && !(raw % 0x200))
			falign = 0x200;
	}
	for (uint32_t i = 0; i < nsect; i++) {
		struct pe_sect *x = &sect[i];

		if (!fetch(s, at + (uint64_t)i * PE_SECTION_HDR, sh, sizeof(sh)))
			return;
		x->uvsz = get32(sh + 8, false);
		x->urva = get32(sh + 12, false);
		x->ursz = get32(sh + 16, false);
		x->uraw = get32(sh + 20, false);
		x->rva = pe_align_down(x->urva, salign);
		x->vsz = pe_align_up(x->uvsz, salign);
		x->raw = pe_align_down(x->uraw, falign);
		x->rsz = pe_align_up(x->ursz, falign);
		if (x->rsz) {
			if (x->raw >= fsize || x->uraw >= fsize) {
				/* wholly outside the file: kept, with no bytes */
				x->rsz = 0;
				x->ursz = 0;
			} else {
				if ((uint64_t)x->raw + x->rsz > fsize)
					x->rsz = (uint32_t)(fsize - x->raw);
				if (x->ursz == 0 || (uint64_t)x->uraw + x->ursz > fsize)
					x->ursz = (uint32_t)(fsize - x->uraw);
			}
		}
		if (!x->vsz && x->rsz)
			x->vsz = pe_align_up(x->ursz, salign);
		/* values with the sign bit set make ClamAV give up on the file */
		if (x->urva >> 31 || x->uvsz >> 31 || (x->rsz && x->uraw >> 31) || x->ursz >> 31)
			return;
	}
	{
		uint32_t off;
		if (!pe_rawaddr(sect, nsect, hdr_size, fsize, ep, &off))
			return;
		out->ep = off;
	}
	out->valid = true;
	out->has_ep = true;
	out->hdr_size = hdr_size;
	out->nsections = nsect;
	for (uint32_t i = 0; i < nsect; i++)
		add_section(out, i, sect[i].rva, sect[i].vsz, sect[i].raw, sect[i].rsz);
}

bool exe_pe_rva_to_off(const struct exe_info *info, uint64_t file_size, uint32_t rva,
		       uint32_t *off)
{
	struct pe_sect sect[PE_MAX_SECTIONS];
	uint32_t n = info->described < PE_MAX_SECTIONS ? info->described : PE_MAX_SECTIONS;

	if (info->kind != EXE_PE || !info->valid)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		sect[i].rva = (uint32_t)info->sections[i].rva;
		sect[i].raw = (uint32_t)info->sections[i].raw_off;
		sect[i].rsz = (uint32_t)info->sections[i].raw_size;
	}
	return pe_rawaddr(sect, n, info->hdr_size, file_size, rva, off);
}

/* ---------------------------------------------------------------------- */
/* ELF                                                                     */

#define ELF_MAX_PHDRS 128u
#define ELF_MAX_SHDRS 256u

static void parse_elf(const struct src *s, struct exe_info *out)
{
	uint8_t h[64], ph[56], shd[64];
	bool be, is64;
	uint64_t entry, phoff, shoff;
	uint32_t phnum, phentsize, shnum, shentsize, ep = 0;

	out->kind = EXE_ELF;
	invalidate(out);
	/* the 32-bit header first, as ClamAV */
	if (!fetch(s, 0, h, 52))
		return;
	if (h[4] != 1 && h[4] != 2)
		return;
	is64 = h[4] == 2;
	be = h[5] != 1; /* anything but "little" is big-endian to ClamAV */
	out->bits = is64 ? 64 : 32;
	out->big_endian = be;
	if (is64) {
		if (!fetch(s, 52, h + 52, 12))
			return;
		entry = get64(h + 24, be);
		phoff = get64(h + 32, be);
		shoff = get64(h + 40, be);
		phentsize = get16(h + 54, be);
		phnum = get16(h + 56, be);
		shentsize = get16(h + 58, be);
		shnum = get16(h + 60, be);
	} else {
		entry = get32(h + 24, be);
		phoff = get32(h + 28, be);
		shoff = get32(h + 32, be);
		phentsize = get16(h + 42, be);
		phnum = get16(h + 44, be);
		shentsize = get16(h + 46, be);
		shnum = get16(h + 48, be);
	}
	if (phnum > ELF_MAX_PHDRS)
		return;
	/* no program headers or no entry: the entry point is offset 0 */
	if (phnum && entry) {
		size_t esz = is64 ? 56 : 32;
		bool found = false;

		if (phentsize != esz)
			return;
		/* every program header must be readable before any is used */
		for (uint32_t i = 0; i < phnum; i++) {
			uint64_t at = is64 ? phoff + (uint64_t)i * esz : (uint32_t)(phoff + i * esz);
			if (!fetch(s, at, ph, esz))
				return;
		}
		for (uint32_t i = 0; i < phnum && !found; i++) {
			uint64_t at = is64 ? phoff + (uint64_t)i * esz : (uint32_t)(phoff + i * esz);
			if (!fetch(s, at, ph, esz))
				return;
			if (is64) {
				uint64_t off = get64(ph + 8, be), va = get64(ph + 16, be), msz = get64(ph + 40, be);
				if (va <= entry && va + msz > entry) {
					ep = (uint32_t)(entry - va + off); /* ClamAV keeps 32 bits */
					found = true;
				}
			} else {
				uint32_t off = get32(ph + 4, be), va = get32(ph + 8, be), msz = get32(ph + 20, be);
				uint32_t e32 = (uint32_t)entry;
				if (va <= e32 && (uint32_t)(va + msz) > e32) { /* 32-bit wrap, as ClamAV */
					ep = e32 - va + off;
					found = true;
				}
			}
		}
		if (!found)
			return;
	}
	if (shnum > ELF_MAX_SHDRS)
		return;
	/* the entry size is checked even when there are no sections */
	if (shentsize != (is64 ? 64u : 40u))
		return;
	for (uint32_t i = 0; i < shnum; i++) {
		uint64_t at = is64 ? shoff + (uint64_t)i * 64 : (uint32_t)(shoff + i * 40);
		uint64_t addr, off, size;

		if (!fetch(s, at, shd, is64 ? 64 : 40))
			return;
		if (is64) {
			addr = get64(shd + 16, be);
			off = get64(shd + 24, be);
			size = get64(shd + 32, be);
		} else {
			addr = get32(shd + 12, be);
			off = get32(shd + 16, be);
			size = get32(shd + 20, be);
		}
		/* ClamAV's section fields are 32 bits wide */
		add_section(out, i, (uint32_t)addr, (uint32_t)size, (uint32_t)off, (uint32_t)size);
	}
	out->valid = true;
	out->has_ep = true;
	out->ep = ep;
	out->nsections = shnum;
	out->described = shnum < EXE_MAX_SECTIONS ? shnum : EXE_MAX_SECTIONS;
}

/* ---------------------------------------------------------------------- */
/* Mach-O                                                                  */

#define MACHO_MAX_CMDS 1024u
#define MACHO_MAX_SEG_SECTS 255u

static void parse_macho(const struct src *s, struct exe_info *out)
{
	uint8_t h[28], lc[8], seg[64], sec[80], ts[304];
	uint32_t magic, cpu, ncmds, nsect = 0, ep = 0;
	uint64_t at;
	bool be, m64;
	int arch = 0; /* 1 x86, 2 ppc, 3 ppc64: the only ones ClamAV reads a thread state of */

	out->kind = EXE_MACHO;
	invalidate(out);
	if (!fetch(s, 0, h, sizeof(h)))
		return;
	magic = get32(h, true);
	switch (magic) {
	case 0xfeedface: be = true; m64 = false; break;
	case 0xcefaedfe: be = false; m64 = false; break;
	case 0xfeedfacf: be = true; m64 = true; break;
	case 0xcffaedfe: be = false; m64 = true; break;
	default: return;
	}
	out->bits = m64 ? 64 : 32;
	out->big_endian = be;
	cpu = get32(h + 4, be);
	if (cpu == 7)
		arch = 1;
	else if (cpu == 18)
		arch = 2;
	else if (cpu == (18 | 0x1000000))
		arch = 3;
	ncmds = get32(h + 16, be);
	if (ncmds == 0 || ncmds > MACHO_MAX_CMDS)
		return;
	at = sizeof(h) + (m64 ? 4 : 0);
	for (uint32_t i = 0; i < ncmds; i++) {
		uint32_t cmd, cmdsize;

		if (!fetch(s, at, lc, sizeof(lc)))
			return;
		at += sizeof(lc);
		cmd = get32(lc, be);
		cmdsize = get32(lc + 4, be);
		if ((m64 && cmd == 0x19) || (!m64 && cmd == 0x1)) { /* LC_SEGMENT(_64) */
			size_t segsz = m64 ? 64 : 48, secsz = m64 ? 80 : 68;
			uint32_t n;

			if (!fetch(s, at, seg, segsz))
				return;
			at += segsz; /* ClamAV walks the sections, not cmdsize */
			n = get32(seg + (m64 ? 56 : 40), be);
			if (n > MACHO_MAX_SEG_SECTS)
				return;
			for (uint32_t j = 0; j < n; j++) {
				uint32_t addr, size, off, align;
				uint64_t rsz, size64;
				uint32_t a;

				if (!fetch(s, at, sec, secsz))
					return;
				at += secsz;
				if (m64) {
					addr = (uint32_t)get64(sec + 32, be); /* ClamAV keeps 32 bits */
					size64 = get64(sec + 40, be);
					off = get32(sec + 48, be);
					a = get32(sec + 52, be);
				} else {
					addr = get32(sec + 32, be);
					size64 = get32(sec + 36, be);
					off = get32(sec + 40, be);
					a = get32(sec + 44, be);
				}
				/* ClamAV 1.4: "section alignment or size is malformed" when
				 * 2^align or the size rounded up to it does not fit 32 bits */
				if (a >= 32 || size64 > UINT32_MAX)
					return;
				align = 1u << a;
				rsz = size64 + (align - size64 % align) % align;
				if (rsz > UINT32_MAX)
					return;
				size = (uint32_t)size64;
				add_section(out, nsect, addr, size, off, (uint32_t)rsz);
				nsect++;
			}
		} else if (arch && (cmd == 0x4 || cmd == 0x5)) { /* LC_THREAD, LC_UNIXTHREAD */
			static const size_t state_len[4] = {0, 64, 160, 304};
			at += 8; /* flavor, count */
			if (!fetch(s, at, ts, state_len[arch]))
				return;
			at += state_len[arch];
			/* ClamAV takes the PC of PowerPC thread states only */
			if (arch == 2)
				ep = get32(ts, be);
			else if (arch == 3)
				ep = (uint32_t)get64(ts, be);
		} else if (cmdsize > sizeof(lc)) {
			at += cmdsize - sizeof(lc);
		}
	}
	if (ep && nsect) {
		bool found = false;
		/* ClamAV counts sections in 16 bits here */
		uint32_t n = nsect & 0xffff;
		for (uint32_t i = 0; i < n && i < out->described && !found; i++) {
			uint32_t rva = (uint32_t)out->sections[i].rva, vsz = (uint32_t)out->sections[i].vsize;
			if (rva <= ep && (uint32_t)(rva + vsz) > ep) {
				ep = ep - rva + (uint32_t)out->sections[i].raw_off;
				found = true;
			}
		}
		if (!found) {
			out->described = 0;
			return;
		}
	}
	/* without sections a PowerPC entry point stays a virtual address:
	 * that is what ClamAV uses */
	out->valid = true;
	out->has_ep = true;
	out->ep = ep;
	out->nsections = nsect;
}

/* ---------------------------------------------------------------------- */

vg_status exe_parse_reader(exe_read_fn *read, void *ctx, uint64_t file_size,
			   struct exe_info *out)
{
	struct src s = {read, ctx, file_size};
	uint8_t m[4];

	memset(out, 0, sizeof(*out));
	if (!read || !fetch(&s, 0, m, 2))
		return VG_OK;
	if (m[0] == 'M' && m[1] == 'Z') {
		parse_pe(&s, out);
	} else if (fetch(&s, 0, m, 4)) {
		if (memcmp(m, "\x7f" "ELF", 4) == 0)
			parse_elf(&s, out);
		else if (get32(m, true) == 0xfeedface || get32(m, true) == 0xcefaedfe ||
			 get32(m, true) == 0xfeedfacf || get32(m, true) == 0xcffaedfe)
			parse_macho(&s, out);
	}
	/* headers ClamAV would not use describe nothing */
	if (!out->valid)
		invalidate(out);
	return VG_OK;
}

struct head_src {
	const uint8_t *p;
	size_t len;
};

static bool read_head(void *ctx, uint64_t off, void *dst, size_t len)
{
	const struct head_src *h = ctx;

	if (off > h->len || len > h->len - off)
		return false;
	memcpy(dst, h->p + off, len);
	return true;
}

vg_status exe_parse(const uint8_t *head, size_t len, uint64_t file_size, struct exe_info *out)
{
	struct head_src h = {head, head ? len : 0};

	return exe_parse_reader(read_head, &h, file_size < h.len ? h.len : file_size, out);
}
