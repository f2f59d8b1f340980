/* exe: PE (32/64), ELF (32/64, both byte orders) and Mach-O headers, parsed
 * with bounds checks from the first bytes of a layer. Gives what signatures
 * need: the entry point as a file offset and the sections as file ranges.
 * Pure: no allocation beyond the caller's struct, no I/O. */
#ifndef VG_EXE_H
#define VG_EXE_H

#include "base/base.h"

enum exe_kind { EXE_NONE = 0, EXE_PE, EXE_ELF, EXE_MACHO };

/* More sections than this are counted but not described. */
#define EXE_MAX_SECTIONS 96u

struct exe_section {
	uint64_t rva;      /* virtual address relative to the image base (PE), or vaddr */
	uint64_t vsize;    /* size in memory */
	uint64_t raw_off;  /* file offset of the section's bytes */
	uint64_t raw_size; /* bytes of it in the file */
};

struct exe_info {
	enum exe_kind kind;
	uint8_t bits;        /* 32 or 64 */
	bool big_endian;
	bool has_ep;         /* the entry point maps to a byte of the file */
	uint64_t ep;         /* entry point as a file offset (when has_ep) */
	uint32_t nsections;  /* as the header says */
	uint32_t described;  /* min(nsections, EXE_MAX_SECTIONS) entries of sections[] */
	struct exe_section sections[EXE_MAX_SECTIONS];
};

/* Parses head (the layer's first len bytes; file_size is the whole layer).
 * VG_OK with kind EXE_NONE when the bytes are not an executable this parser
 * knows; VG_OK with the fields that could be read when the header is
 * damaged past the magic (has_ep false, nsections 0 as needed). */
vg_status exe_parse(const uint8_t *head, size_t len, uint64_t file_size, struct exe_info *out);

#endif
