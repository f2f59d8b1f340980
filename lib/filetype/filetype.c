/* Magic-number typing. Order matters where formats overlap: specific
 * signatures at offset 0 first, then ones at larger offsets (tar, ISO),
 * then the text heuristics (mail, HTML, uuencode, BinHex). */
#include <string.h>
#include <strings.h>

#include "filetype/filetype.h"

static const char *const names[FT_COUNT] = {
	[FT_BINARY] = "CL_TYPE_BINARY_DATA", [FT_TEXT] = "CL_TYPE_TEXT_ASCII",
	[FT_MSEXE] = "CL_TYPE_MSEXE", [FT_ELF] = "CL_TYPE_ELF", [FT_MACHO] = "CL_TYPE_MACHO",
	[FT_ZIP] = "CL_TYPE_ZIP", [FT_GZ] = "CL_TYPE_GZ", [FT_BZ] = "CL_TYPE_BZ",
	[FT_XZ] = "CL_TYPE_XZ", [FT_ZSTD] = "CL_TYPE_ZSTD", [FT_7Z] = "CL_TYPE_7Z",
	[FT_RAR] = "CL_TYPE_RAR", [FT_CAB] = "CL_TYPE_MSCAB", [FT_ISO9660] = "CL_TYPE_ISO9660",
	[FT_TAR] = "CL_TYPE_POSIX_TAR", [FT_CPIO] = "CL_TYPE_CPIO_NEWC", [FT_XAR] = "CL_TYPE_XAR",
	[FT_LHA] = "CL_TYPE_LHA_LZH", [FT_AR] = "CL_TYPE_AR", [FT_ARJ] = "CL_TYPE_ARJ",
	[FT_SZDD] = "CL_TYPE_MSSZDD", [FT_MSOLE2] = "CL_TYPE_MSOLE2", [FT_MSCHM] = "CL_TYPE_MSCHM",
	[FT_PDF] = "CL_TYPE_PDF", [FT_RTF] = "CL_TYPE_RTF", [FT_TNEF] = "CL_TYPE_TNEF",
	[FT_BINHEX] = "CL_TYPE_BINHEX", [FT_UUENCODED] = "CL_TYPE_UUENCODED",
	[FT_MAIL] = "CL_TYPE_MAIL", [FT_HTML] = "CL_TYPE_HTML", [FT_GRAPHICS] = "CL_TYPE_GRAPHICS",
	[FT_SWF] = "CL_TYPE_SWF", [FT_JAVA] = "CL_TYPE_JAVA",
};

const char *filetype_name(enum ftype t)
{
	return t < FT_COUNT && names[t] ? names[t] : "CL_TYPE_BINARY_DATA";
}

const char *filetype_label(enum ftype t)
{
	const char *n = filetype_name(t);
	return n + 8; /* after "CL_TYPE_" */
}

static bool at(const uint8_t *h, size_t len, size_t off, const void *magic, size_t mlen)
{
	return off <= len && mlen <= len - off && memcmp(h + off, magic, mlen) == 0;
}

/* Case-insensitive search of s in the first n bytes. */
static bool contains_ci(const uint8_t *h, size_t n, const char *s)
{
	size_t sl = strlen(s);

	for (size_t i = 0; i + sl <= n; i++)
		if (strncasecmp((const char *)h + i, s, sl) == 0)
			return true;
	return false;
}

static bool starts_ci(const uint8_t *h, size_t len, const char *s)
{
	size_t sl = strlen(s);
	return sl <= len && strncasecmp((const char *)h, s, sl) == 0;
}

static bool is_text(const uint8_t *h, size_t len)
{
	size_t n = len < 4096 ? len : 4096;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = h[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b)
			return false;
		if (c == 0x7f)
			return false;
	}
	return n > 0;
}

/* Mail: a "From " mbox separator or a run of RFC 822 header lines at the
 * start (ClamAV looks for the same header names). */
static bool is_mail(const uint8_t *h, size_t len)
{
	static const char *const headers[] = {
		"From:", "Received:", "Return-Path:", "Message-ID:", "Subject:", "To:",
		"Delivered-To:", "MIME-Version:", "Content-Type:", "X-", "Date:", "Reply-To:",
	};
	size_t pos = 0, good = 0;

	if (at(h, len, 0, "From ", 5))
		return true;
	for (int line = 0; line < 8 && pos < len; line++) {
		bool known = false;
		for (size_t i = 0; i < VG_ARRAY_LEN(headers); i++)
			if (starts_ci(h + pos, len - pos, headers[i]))
				known = true;
		if (known)
			good++;
		else if (h[pos] != ' ' && h[pos] != '\t')
			break;
		while (pos < len && h[pos] != '\n')
			pos++;
		pos++;
	}
	return good >= 2;
}

static bool is_uuencoded(const uint8_t *h, size_t len)
{
	return len > 10 && at(h, len, 0, "begin ", 6) && h[6] >= '0' && h[6] <= '7';
}

enum ftype filetype_detect(const uint8_t *h, size_t len)
{
	size_t n1k = len < 1024 ? len : 1024;

	if (len == 0)
		return FT_BINARY;
	if (at(h, len, 0, "MZ", 2))
		return FT_MSEXE;
	if (at(h, len, 0, "\x7f" "ELF", 4))
		return FT_ELF;
	if (at(h, len, 0, "\xfe\xed\xfa\xce", 4) || at(h, len, 0, "\xce\xfa\xed\xfe", 4) ||
	    at(h, len, 0, "\xfe\xed\xfa\xcf", 4) || at(h, len, 0, "\xcf\xfa\xed\xfe", 4))
		return FT_MACHO;
	if (at(h, len, 0, "PK\x03\x04", 4) || at(h, len, 0, "PK\x05\x06", 4) ||
	    at(h, len, 0, "PK00PK\x03\x04", 8))
		return FT_ZIP;
	if (at(h, len, 0, "\x1f\x8b", 2))
		return FT_GZ;
	if (at(h, len, 0, "BZh", 3))
		return FT_BZ;
	if (at(h, len, 0, "\xfd" "7zXZ\0", 6))
		return FT_XZ;
	if (at(h, len, 0, "\x28\xb5\x2f\xfd", 4))
		return FT_ZSTD;
	if (at(h, len, 0, "7z\xbc\xaf\x27\x1c", 6))
		return FT_7Z;
	if (at(h, len, 0, "Rar!\x1a\x07", 6))
		return FT_RAR;
	if (at(h, len, 0, "MSCF\0\0\0\0", 8))
		return FT_CAB;
	if (at(h, len, 0, "xar!", 4))
		return FT_XAR;
	if (at(h, len, 0, "!<arch>\n", 8))
		return FT_AR;
	if (at(h, len, 0, "\x60\xea", 2))
		return FT_ARJ;
	if (at(h, len, 0, "SZDD\x88\xf0\x27\x33", 8) || at(h, len, 0, "KWAJ\x88\xf0\x27\xd1", 8))
		return FT_SZDD;
	if (at(h, len, 0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8))
		return FT_MSOLE2;
	if (at(h, len, 0, "ITSF", 4))
		return FT_MSCHM;
	if (at(h, len, 0, "\x78\x9f\x3e\x22", 4))
		return FT_TNEF;
	if (at(h, len, 0, "{\\rtf", 5))
		return FT_RTF;
	if (at(h, len, 0, "070701", 6) || at(h, len, 0, "070702", 6) || at(h, len, 0, "070707", 6) ||
	    at(h, len, 0, "\xc7\x71", 2) || at(h, len, 0, "\x71\xc7", 2))
		return FT_CPIO;
	if (at(h, len, 2, "-lh", 3) || at(h, len, 2, "-lz", 3))
		return FT_LHA;
	if (at(h, len, 0, "GIF8", 4) || at(h, len, 0, "\x89PNG", 4) || at(h, len, 0, "\xff\xd8\xff", 3))
		return FT_GRAPHICS;
	if (at(h, len, 0, "FWS", 3) || at(h, len, 0, "CWS", 3) || at(h, len, 0, "ZWS", 3))
		return FT_SWF;
	if (at(h, len, 0, "\xca\xfe\xba\xbe", 4))
		return FT_JAVA;
	/* PDF: ClamAV accepts the header anywhere in the first 1 KiB */
	for (size_t i = 0; i + 5 <= n1k; i++)
		if (memcmp(h + i, "%PDF-", 5) == 0)
			return FT_PDF;
	if (at(h, len, 257, "ustar", 5))
		return FT_TAR;
	if (at(h, len, 32769, "CD001", 5))
		return FT_ISO9660;
	if (contains_ci(h, n1k, "(This file must be converted with BinHex"))
		return FT_BINHEX;
	if (is_mail(h, len))
		return FT_MAIL;
	if (is_uuencoded(h, len))
		return FT_UUENCODED;
	{
		/* ClamAV types text as HTML when common tags appear early */
		static const char *const tags[] = {
			"<html", "<!doctype html", "<script", "<body", "<head", "<meta", "<title",
			"<a href", "<img", "<iframe", "<form", "<div", "<object", "<embed", "<style",
		};
		for (size_t i = 0; i < VG_ARRAY_LEN(tags); i++)
			if (contains_ci(h, n1k, tags[i]))
				return FT_HTML;
	}
	/* old-style tar (no ustar magic): a plausible checksum field */
	if (len >= 512 && h[0] && h[148 + 6] == 0 && h[148 + 7] == ' ' && h[156] >= '0' && h[156] <= '7')
		return FT_TAR;
	return is_text(h, len) ? FT_TEXT : FT_BINARY;
}

enum ftype filetype_detect_with(const struct ftm_magic *m, size_t n, const uint8_t *head,
				size_t len)
{
	/* libclamav types a file from its first CL_FILE_MBUFF_SIZE bytes */
	size_t avail = len < 1024 ? len : 1024;

	for (size_t i = 0; i < n; i++)
		if (m[i].offset <= avail && m[i].len <= avail - m[i].offset &&
		    memcmp(head + m[i].offset, m[i].bytes, m[i].len) == 0)
			return (enum ftype)m[i].type;
	return filetype_detect(head, len);
}
