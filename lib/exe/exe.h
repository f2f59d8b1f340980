/* exe: PE (32/64), ELF (32/64, both byte orders) and Mach-O headers, parsed
 * with bounds checks. Gives what signatures need: the entry point as a file
 * offset and the sections as file ranges, computed the way ClamAV 1.4 computes
 * them for its EP/section offsets (cli_pe_targetinfo, cli_elfheader,
 * cli_machoheader), including its 32-bit arithmetic, so that the same
 * signatures match the same bytes.
 * Pure: no allocation beyond the caller's struct, no I/O of its own. */
#ifndef VG_EXE_H
#define VG_EXE_H

#include "base/base.h"

enum exe_kind { EXE_NONE = 0, EXE_PE, EXE_ELF, EXE_MACHO };

/* More sections than this are counted but not described. PE allows at most
 * 96 and ELF (for ClamAV) 256; only Mach-O can have more. */
#define EXE_MAX_SECTIONS 256u

struct exe_section {
	uint64_t rva;      /* virtual address relative to the image base (PE), or vaddr */
	uint64_t vsize;    /* size in memory */
	uint64_t raw_off;  /* file offset of the section's bytes */
	uint64_t raw_size; /* bytes of it in the file (PE: aligned and cut at the file's end) */
};

struct exe_info {
	enum exe_kind kind;
	uint8_t bits;        /* 32 or 64 */
	bool big_endian;
	/* The headers are complete and consistent enough for ClamAV to use
	 * them: when false, no EP- or section-relative offset can match (and
	 * has_ep is false, nsections 0). */
	bool valid;
	bool has_ep;         /* ep is the entry point ClamAV uses (valid) */
	uint64_t ep;         /* entry point as a file offset (when has_ep) */
	uint32_t nsections;  /* as the header says */
	uint32_t described;  /* min(nsections, EXE_MAX_SECTIONS) entries of sections[] */
	/* PE only */
	bool pe32plus;
	uint32_t hdr_size;   /* SizeOfHeaders aligned up to SectionAlignment */
	uint32_t ndatadirs;  /* min(NumberOfRvaAndSizes, 16) */
	uint32_t import_rva, import_size; /* data directory 1 (when ndatadirs > 1) */
	struct exe_section sections[EXE_MAX_SECTIONS];
};

/* Random access to the whole layer: copies len bytes at off into dst and
 * returns true, or returns false when they are not all there. */
typedef bool exe_read_fn(void *ctx, uint64_t off, void *dst, size_t len);

/* Parses head (the layer's first len bytes; file_size is the whole layer).
 * VG_OK with kind EXE_NONE when the bytes are not an executable this parser
 * knows; VG_OK with the fields that could be read when the header is
 * damaged past the magic (valid and has_ep false, nsections 0 as needed).
 * Headers beyond head (ELF section tables usually sit at the end) count as
 * missing: use exe_parse_reader when the whole layer can be read. */
vg_status exe_parse(const uint8_t *head, size_t len, uint64_t file_size, struct exe_info *out);

/* The same with random access to the whole layer of file_size bytes. */
vg_status exe_parse_reader(exe_read_fn *read, void *ctx, uint64_t file_size,
			   struct exe_info *out);

/* The file offset of a PE virtual address, as ClamAV maps it (cli_rawaddr):
 * false when it is in no section's file bytes. */
bool exe_pe_rva_to_off(const struct exe_info *info, uint64_t file_size, uint32_t rva,
		       uint32_t *off);

/* ---- PE import table, as ClamAV hashes it for .imp signatures ----
 * The text is "dll.function" for every imported function, comma-separated,
 * lower-cased, the dll name without a .dll/.ocx/.sys extension; ordinal
 * imports are named "ordN", by name for ws2_32/wsock32 and oleaut32. ClamAV's quirks are
 * kept: the last import descriptor inside the directory's size is not read,
 * function names within 258 bytes of the end of the file are left out, and a
 * name with characters other than [0-9A-Za-z_.] makes it give up. */
enum exe_imp_result {
	EXE_IMP_OK = 0, /* the text is complete (possibly empty) */
	EXE_IMP_NONE,   /* no import table (nothing to match) */
	EXE_IMP_BAD,    /* ClamAV gives up on this table (nothing to match) */
	EXE_IMP_UNKNOWN /* over vigil's limits (VG_PE_MAX_IMPORT_FUNCS): nothing to match */
};

/* Receives the text piece by piece (it may be empty). */
typedef vg_status exe_imp_fn(void *ctx, const char *piece, size_t len);

/* Walks the import table of a valid PE32 (ClamAV does not hash PE32+ import
 * tables); *len is the text's length, the size .imp lines name. */
vg_status exe_pe_imports(exe_read_fn *read, void *rctx, uint64_t file_size,
			 const struct exe_info *info, exe_imp_fn *fn, void *fctx,
			 enum exe_imp_result *result, uint32_t *len);

#endif
