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
	[FT_TEXT_UTF8] = "CL_TYPE_TEXT_UTF8", [FT_TEXT_UTF16LE] = "CL_TYPE_TEXT_UTF16LE",
	[FT_TEXT_UTF16BE] = "CL_TYPE_TEXT_UTF16BE", [FT_HTML_UTF16] = "CL_TYPE_HTML_UTF16",
	[FT_INTERNAL] = "CL_TYPE_INTERNAL",
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

uint32_t filetype_targets(enum ftype t)
{
	uint32_t m = FILETYPE_TARGET(0);

	switch (t) {
	case FT_MSEXE: return m | FILETYPE_TARGET(1);
	case FT_MSOLE2: return m | FILETYPE_TARGET(2);
	case FT_MAIL: return m | FILETYPE_TARGET(4);
	case FT_GRAPHICS: return m | FILETYPE_TARGET(5);
	case FT_ELF: return m | FILETYPE_TARGET(6);
	case FT_MACHO: return m | FILETYPE_TARGET(9);
	case FT_PDF: return m | FILETYPE_TARGET(10);
	case FT_SWF: return m | FILETYPE_TARGET(11);
	case FT_JAVA: return m | FILETYPE_TARGET(12);
	case FT_INTERNAL: return m | FILETYPE_TARGET(13);
	/* clamscan scans data it cannot type once more as CL_TYPE_OTHER */
	case FT_BINARY: return m | FILETYPE_TARGET(14);
	default: return m;
	}
}

static bool at(const uint8_t *h, size_t len, size_t off, const void *magic, size_t mlen)
{
	return off <= len && mlen <= len - off && memcmp(h + off, magic, mlen) == 0;
}

/* Case-insensitive search of s in the first n bytes: only where its first
 * letter is (memchr finds candidates; no compare at every offset). */
static bool contains_ci(const uint8_t *h, size_t n, const char *s)
{
	size_t sl = strlen(s);
	uint8_t lo = (uint8_t)(s[0] | 0x20), up = (uint8_t)(s[0] & ~0x20);

	for (size_t i = 0; i + sl <= n;) {
		const uint8_t *a = memchr(h + i, lo, n - i), *b = lo == up ? NULL : memchr(h + i, up, n - i);
		const uint8_t *q = a && (!b || a < b) ? a : b;
		if (!q || (size_t)(q - h) + sl > n)
			return false;
		if (strncasecmp((const char *)q, s, sl) == 0)
			return true;
		i = (size_t)(q - h) + 1;
	}
	return false;
}

static bool starts_ci(const uint8_t *h, size_t len, const char *s)
{
	size_t sl = strlen(s);
	return sl <= len && strncasecmp((const char *)h, s, sl) == 0;
}

/* ClamAV's text classes (textdet.c, after file(1)): 'F' never in text,
 * 'T' plain ASCII text; everything from 0x80 up passes as ISO-8859 or
 * extended ASCII. */
static bool never_text(uint8_t c)
{
	return (c < 0x20 && !(c >= 7 && c <= 10) && c != 12 && c != 13 && c != 0x1b) || c == 0x7f;
}

static bool is_ascii_text(const uint8_t *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (never_text(h[i]))
			return false;
	return true;
}

/* UTF-8 as ClamAV checks it: stops happily at a sequence cut by the end. */
static bool is_utf8_text(const uint8_t *h, size_t n)
{
	bool gotone = false;

	for (size_t i = 0; i < n; i++) {
		unsigned following;
		if (h[i] < 0x80) {
			if (never_text(h[i]))
				return false;
			continue;
		}
		if ((h[i] & 0x40) == 0)
			return false;
		if ((h[i] & 0x20) == 0)
			following = 1;
		else if ((h[i] & 0x10) == 0)
			following = 2;
		else if ((h[i] & 0x08) == 0)
			following = 3;
		else if ((h[i] & 0x04) == 0)
			following = 4;
		else if ((h[i] & 0x02) == 0)
			following = 5;
		else
			return false;
		for (unsigned j = 0; j < following; j++) {
			if (++i >= n)
				return gotone;
			if ((h[i] & 0x80) == 0 || (h[i] & 0x40))
				return false;
		}
		gotone = true;
	}
	return gotone;
}

/* UTF-16 as ClamAV checks it: 0 no, 1 little endian, 2 big endian. Without
 * a byte order mark every code unit below 128 must be text (big endian is
 * assumed); the first two bytes are never looked at. */
static int utf16_text(const uint8_t *h, size_t n)
{
	bool be = true, nobom = false;
	size_t bad = 0;

	if (n < 2)
		return 0;
	if (h[0] == 0xff && h[1] == 0xfe)
		be = false;
	else if (!(h[0] == 0xfe && h[1] == 0xff))
		nobom = true;
	for (size_t i = 2; i + 1 < n; i += 2) {
		unsigned c = be ? h[i + 1] + 256u * h[i] : h[i] + 256u * h[i + 1];
		if (c == 0xfffe)
			return 0;
		if (c < 128 && (never_text((uint8_t)c) || c == 0)) {
			if (nobom)
				return 0;
			bad++;
		}
	}
	if (!nobom && bad >= n / 2)
		return 0;
	return be ? 2 : 1;
}

static enum ftype text_type(const uint8_t *h, size_t n)
{
	int u16;

	if (is_ascii_text(h, n))
		return FT_TEXT;
	if (is_utf8_text(h, n))
		return FT_TEXT_UTF8;
	u16 = utf16_text(h, n);
	if (u16)
		return u16 == 1 ? FT_TEXT_UTF16LE : FT_TEXT_UTF16BE;
	return FT_BINARY;
}

/* ClamAV's built-in HTML patterns, exactly as cased there. */
static const char *const html_tags[] = {
	"<HEAD>", "<HTML>", "<Head>", "<Html>", "<head>", "<html>", "<IFRAME", "<iframe",
	"<IMG", "<Img", "<img", "<OBJECT", "<Object", "<object", "<SCRIPT", "<Script",
	"<script", "<TABLE", "<table",
};
#define HTML_TAG_MAX 7

void filetype_html_scan_init(struct html_tag_scan *s)
{
	memset(s, 0, sizeof(*s));
}

static bool is_href(const uint8_t *p)
{
	return (p[0] | 0x20) == 'h' && (p[1] | 0x20) == 'r' &&
	       ((p[2] == 'E' && p[3] == 'F') || (p[2] == 'e' && p[3] == 'f'));
}

/* Looks at tag starts in p[0..limit) whose whole pattern lies in p[0..n). */
static bool html_scan_buf(struct html_tag_scan *s, const uint8_t *p, size_t n, size_t limit)
{
	size_t i = 0;

	while (i < limit) {
		if (!s->seen_a) {
			const uint8_t *q = memchr(p + i, '<', limit - i);
			if (!q)
				return false;
			i = (size_t)(q - p);
		}
		if (p[i] == '<' && n - i >= 3) {
			uint8_t c1 = (uint8_t)(p[i + 1] | 0x20);
			/* every pattern's letter after '<' is one of these */
			if (c1 == 'h' || c1 == 'i' || c1 == 'o' || c1 == 's' || c1 == 't') {
				for (size_t t = 0; t < VG_ARRAY_LEN(html_tags); t++) {
					size_t tl = strlen(html_tags[t]);
					if (n - i >= tl && memcmp(p + i, html_tags[t], tl) == 0)
						return s->found = true;
				}
			}
			if (c1 == 'a' && p[i + 2] == ' ') {
				s->seen_a = true;
				i += 3;
				continue;
			}
		} else if (s->seen_a && n - i >= 4 && is_href(p + i)) {
			return s->found = true;
		}
		i++;
	}
	return false;
}

bool filetype_html_scan(struct html_tag_scan *s, const uint8_t *p, size_t len)
{
	uint8_t st[2 * HTML_TAG_MAX];
	size_t take = len < HTML_TAG_MAX ? len : HTML_TAG_MAX, keep;

	if (s->found)
		return true;
	/* tags that start in the carried tail of the previous piece */
	memcpy(st, s->carry, s->ncarry);
	memcpy(st + s->ncarry, p, take);
	if (s->ncarry && html_scan_buf(s, st, s->ncarry + take, s->ncarry))
		return true;
	if (html_scan_buf(s, p, len, len))
		return true;
	/* keep the last HTML_TAG_MAX - 1 bytes of everything seen so far */
	if (len >= HTML_TAG_MAX - 1) {
		s->ncarry = HTML_TAG_MAX - 1;
		memcpy(s->carry, p + len - s->ncarry, s->ncarry);
	} else {
		memcpy(st, s->carry, s->ncarry);
		memcpy(st + s->ncarry, p, len);
		keep = s->ncarry + len < HTML_TAG_MAX - 1 ? s->ncarry + len : HTML_TAG_MAX - 1;
		memcpy(s->carry, st + s->ncarry + len - keep, keep);
		s->ncarry = keep;
	}
	return false;
}

/* Mail: a "From " mbox separator or a run of RFC 822 header lines at the
 * start (ClamAV looks for the same header names). */
static bool is_mail(const uint8_t *h, size_t len)
{
	static const char *const headers[] = {
		"From:", "Received:", "Return-Path:", "Message-ID:", "Subject:", "To:",
		"Delivered-To:", "MIME-Version:", "Content-Type:", "X-", "Date:", "Reply-To:",
	};
	/* ClamAV's built-in mail magic, at offset 0, exactly as cased there */
	static const char *const magic[] = {
		">From ", "Date: ", "Delivered-To: ", "Delivery-date: ", "Envelope-to: ", "For: ",
		"From ", "From: ", "Hi. This is the qmail-send", "Message-ID: ", "Message-Id: ",
		"Received: ", "Received-SPF: ", "Return-Path: ", "Return-path: ", "Subject: ", "To: ",
		"X-Apparently-To: ", "X-EVS", "X-Envelope-From: ", "X-Original-To: ", "X-Real-To: ",
		"X-Sieve: ", "X-Symantec-", "X-UIDL: ", "v:\nReceived: ", "v:\r\nReceived: ",
	};
	size_t pos = 0, good = 0;

	for (size_t i = 0; i < VG_ARRAY_LEN(magic); i++)
		if (at(h, len, 0, magic[i], strlen(magic[i])))
			return true;
	/* and, beyond ClamAV, a run of header lines it would take for text */
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
	if (at(h, len, 0, "GIF", 3) || at(h, len, 0, "\x89PNG", 4) || at(h, len, 0, "\xff\xd8\xff", 3) ||
	    at(h, len, 0, "BM", 2) || at(h, len, 0, "II*\0", 4) || at(h, len, 0, "MM", 2) ||
	    at(h, len, 0, "\0\0\0\x0cjP  \r\n\x87\n", 12))
		return FT_GRAPHICS; /* GIF, PNG, JPEG, BMP, TIFF, JPEG 2000 */
	if (at(h, len, 0, "FWS", 3) || at(h, len, 0, "CWS", 3) || at(h, len, 0, "ZWS", 3))
		return FT_SWF;
	if (at(h, len, 0, "\xca\xfe\xba\xbe\0\0\0", 7)) {
		/* ClamAV tells a universal binary (few architectures) from a
		 * class file (major version 32..63) by the next word */
		if (h[7] < 0x20)
			return FT_MACHO;
		if (h[7] < 0x40)
			return FT_JAVA;
	}
	/* PDF: ClamAV accepts the header anywhere in the first 1 KiB */
	if (memmem(h, n1k, "%PDF-", 5) != NULL)
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
	/* text or binary: ClamAV's HTML patterns in the first 1 KiB win */
	{
		struct html_tag_scan hs;
		filetype_html_scan_init(&hs);
		if (filetype_html_scan(&hs, h, n1k) || at(h, len, 0, "<%@ LANGUAGE =", 14))
			return FT_HTML;
	}
	/* old-style tar (no ustar magic): a plausible checksum field */
	if (len >= 512 && h[0] && h[148 + 6] == 0 && h[148 + 7] == ' ' && h[156] >= '0' && h[156] <= '7')
		return FT_TAR;
	{
		enum ftype t = text_type(h, n1k);
		/* HTML behind a UTF-16 encoding: the same patterns on the bytes
		 * with every other one dropped (ClamAV's cli_utf16toascii) */
		uint8_t dec[FILETYPE_MAGIC_LEN];
		size_t nd = 0;
		struct html_tag_scan hs;
		bool le = n1k >= 4 && h[0] == 0xff && h[1] == 0xfe && (h[2] || h[3]);
		bool be = n1k >= 4 && h[0] == 0xfe && h[1] == 0xff && (h[2] || h[3]);

		/* ClamAV's cli_utf16toascii: (second byte << 4) + first byte,
		 * which is right for little-endian ASCII only */
		for (size_t i = 0; i + 1 < n1k; i += 2)
			dec[nd++] = (uint8_t)((h[i + 1] << 4) + h[i]);
		filetype_html_scan_init(&hs);
		if (filetype_html_scan(&hs, dec, nd))
			return FT_HTML_UTF16;
		if (le || be) {
			/* a byte order mark: decoded exactly, then it is plain HTML */
			nd = 0;
			for (size_t i = 2; i + 1 < n1k; i += 2) {
				unsigned u = le ? h[i] + 256u * h[i + 1] : h[i + 1] + 256u * h[i];
				if (u && u < 0x100)
					dec[nd++] = (uint8_t)u;
			}
			filetype_html_scan_init(&hs);
			if (filetype_html_scan(&hs, dec, nd))
				return FT_HTML;
		}
		return t;
	}
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
