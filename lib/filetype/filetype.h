/* filetype: what a layer is, from its first bytes, as ClamAV's built-in
 * magic decides it (the subset vigil acts on). */
#ifndef VG_FILETYPE_H
#define VG_FILETYPE_H

#include "base/base.h"

enum ftype {
	FT_BINARY = 0, /* nothing more specific */
	FT_TEXT,
	FT_MSEXE, FT_ELF, FT_MACHO,
	FT_ZIP, FT_GZ, FT_BZ, FT_XZ, FT_ZSTD, FT_7Z, FT_RAR, FT_CAB, FT_ISO9660,
	FT_TAR, FT_CPIO, FT_XAR, FT_LHA, FT_AR, FT_ARJ, FT_SZDD, FT_MSOLE2, FT_MSCHM,
	FT_PDF, FT_RTF, FT_TNEF, FT_BINHEX, FT_UUENCODED, FT_MAIL, FT_HTML,
	FT_GRAPHICS, FT_SWF, FT_JAVA,
	/* text that is not ASCII (ClamAV's cli_texttype), HTML in UTF-16, and
	 * ClamAV's own JSON metadata (target 13) */
	FT_TEXT_UTF8, FT_TEXT_UTF16LE, FT_TEXT_UTF16BE, FT_HTML_UTF16, FT_INTERNAL,
	FT_COUNT
};

/* Bytes of a layer's start that detection looks at (ISO 9660 needs 32 KiB). */
#define FILETYPE_HEAD 36864u

enum ftype filetype_detect(const uint8_t *head, size_t len);
/* File type magic loaded from .ftm databases (libclamav's "memcmp" entries,
 * magic type 0): bytes at a fixed offset within the first 1 KiB. */
struct ftm_magic {
	uint32_t offset;
	uint32_t len;
	const uint8_t *bytes;
	uint8_t type; /* enum ftype */
};

/* As filetype_detect, but the entries m[0..n) are tried first, in order;
 * the first that matches decides (libclamav checks the .ftm entries loaded
 * last first, before its built-in table). */
enum ftype filetype_detect_with(const struct ftm_magic *m, size_t n, const uint8_t *head,
				size_t len);
/* Bytes ClamAV's typer reads (CL_FILE_MBUFF_SIZE): magic, text class and
 * the HTML/mail tag patterns are decided on these. */
#define FILETYPE_MAGIC_LEN 1024u

/* ClamAV's built-in HTML tag patterns (filetypes_int.h, type 1): "<html>",
 * "<script", "<a ...href", ... in the exact letter cases ClamAV lists.
 * Streaming: feed consecutive pieces of a layer; true once a tag was seen. */
struct html_tag_scan {
	bool found;
	bool seen_a;      /* "<a " or "<A " seen: an "href" later completes it */
	uint8_t carry[16];
	size_t ncarry;
};
void filetype_html_scan_init(struct html_tag_scan *s);
bool filetype_html_scan(struct html_tag_scan *s, const uint8_t *p, size_t len);

/* ClamAV's target types (.ndb field 2, .ldb Target:) as bits. */
#define FILETYPE_TARGET(n) (1u << (n))
/* The targets whose signatures are matched against the bytes of a layer of
 * type t, as clamscan's matcher roots do (target 0 always; 3 and 7 apply to
 * the normalised views instead, see lib/scan/views.c). */
uint32_t filetype_targets(enum ftype t);

/* ClamAV's name for the type ("CL_TYPE_ZIP"), used in container paths. */
const char *filetype_name(enum ftype t);
/* Short label clamscan uses in -a paths ("ZIP", "MAIL", ...). */
const char *filetype_label(enum ftype t);

#endif
