/* Logical signatures (.ldb, .ldu):
 *   Name;TargetDescriptionBlock;LogicalExpression;Subsig0[;Subsig1...]
 *
 * Checked in ClamAV's order (libclamav/readdb.c load_oneldb, lsigattribs,
 * init_tdb, readdb_parse_ldb_subsignature) so that the same lines load,
 * fail or are skipped. Content subsignatures become body patterns matched
 * by the prefilter and verifier like .ndb bodies, marked as belonging to
 * this signature; PCRE and byte-compare subsignatures and the expression
 * are evaluated after the body scan (lib/match/logical.c, lib/scan).
 *
 * What vigil cannot evaluate yet is loaded as "deferred" and counted by
 * reason, with one notice per file: macro ($n$) and fuzzy-image
 * subsignatures, VI offsets, icon groups, HandlerType, target types whose
 * matching needs normalised views (3 HTML, 7 text) or types the file typer
 * does not produce, and Container/Intermediates naming such types. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "filetype/filetype.h"
#include "sigdb/sigdb.h"

#define LDB_MAX_FIELDS (3u + LOGICAL_MAX_SUBS)
#define TDB_MAX_TOKENS 10u
#define TARGET_COUNT 15u

enum defer_reason {
	DEF_TARGET,      /* target type vigil does not type or normalise */
	DEF_TYPE,        /* Container/Intermediates type the file typer does not produce */
	DEF_ICON,        /* IconGroup1/2 (needs .idb) */
	DEF_HANDLER,     /* HandlerType */
	DEF_MACRO,       /* ${min-max}n$ */
	DEF_FUZZY,       /* fuzzy_img# */
	DEF_VI,          /* VI offset */
	DEF_COUNT
};

static const char *const defer_what[DEF_COUNT] = {
	"target type 3 (normalised HTML), 7 (normalised text), 8, 13 or 14",
	"Container/Intermediates file type vigil's typer does not produce",
	"IconGroup1/IconGroup2 (icon signatures, .idb)",
	"HandlerType",
	"macro subsignature ${min-max}n$",
	"fuzzy_img subsignature",
	"VI (PE version information) offset",
};

struct ldb_stats {
	uint64_t deferred[DEF_COUNT];
	uint64_t skipped_attr;   /* unknown TDB attribute or CL_TYPE name (ClamAV: silent skip) */
};

/* Every CL_TYPE name ClamAV 1.4.6 accepts (libclamav/filetypes.c ftmap). */
static const char *const clam_types[] = {
	"TEXT_ASCII", "TEXT_UTF8", "TEXT_UTF16LE", "TEXT_UTF16BE", "BINARY_DATA", "IGNORED",
	"ANY", "MSEXE", "ELF", "MACHO", "MACHO_UNIBIN", "POSIX_TAR", "OLD_TAR", "CPIO_OLD",
	"CPIO_ODC", "CPIO_NEWC", "CPIO_CRC", "GZ", "ZIP", "BZ", "RAR", "ARJ", "MSSZDD",
	"MSOLE2", "MSCAB", "MSCHM", "SIS", "SCRENC", "GRAPHICS", "GIF", "PNG", "JPEG", "TIFF",
	"RIFF", "BINHEX", "TNEF", "CRYPTFF", "PDF", "UUENCODED", "HTML_UTF16", "SCRIPT", "RTF",
	"HTML", "MAIL", "SFX", "ZIPSFX", "RARSFX", "CABSFX", "ARJSFX", "NULSFT", "AUTOIT",
	"ISHIELD_MSI", "7Z", "7ZSFX", "SWF", "ISO9660", "JAVA", "DMG", "MBR", "GPT", "APM",
	"XAR", "PART_ANY", "PART_HFSPLUS", "XZ", "OOXML_WORD", "OOXML_PPT", "OOXML_XL",
	"INTERNAL", "XDP", "XML_WORD", "XML_XL", "HWP3", "XML_HWP", "HWPOLE2", "OOXML_HWP",
	"PS", "MHTML", "LNK", "EGG", "EGGSFX", "UDF", "ALZ", "ONENOTE", "PYTHON_COMPILED",
	"LHA_LZH",
};

int sigdb_type_code(const char *s, size_t n)
{
	bool known = false;

	if (n < 8 || memcmp(s, "CL_TYPE_", 8) != 0)
		return TYPE_UNKNOWN;
	for (size_t i = 0; i < VG_ARRAY_LEN(clam_types); i++)
		if (strlen(clam_types[i]) == n - 8 && memcmp(clam_types[i], s + 8, n - 8) == 0)
			known = true;
	if (!known)
		return TYPE_UNKNOWN;
	if (n == 11 && memcmp(s, "CL_TYPE_ANY", 11) == 0)
		return LDB_TYPE_ANY;
	for (int t = 0; t < FT_COUNT; t++) {
		const char *name = filetype_name((enum ftype)t);
		/* filetype_name falls back to BINARY_DATA for types without a name */
		if (strlen(name) == n && memcmp(name, s, n) == 0 &&
		    (t == FT_BINARY || strcmp(name, "CL_TYPE_BINARY_DATA") != 0))
			return t;
	}
	return TYPE_UNSUPPORTED;
}

/* ClamAV's cli_isnumber: digits only (the empty string passes). */
static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* atoi() of an all-digits string, saturated. */
static uint32_t atou(const char *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			v = UINT32_MAX;
	}
	return (uint32_t)v;
}

struct ldb_line {
	struct sigset *s;
	const struct db_text *t;
	uint32_t lineno;
	struct ldb_stats *st;
};

static vg_status fail(const struct ldb_line *L, uint32_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static vg_status fail(const struct ldb_line *L, uint32_t col, const char *fmt, ...)
{
	char what[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sigdb_fail(L->s, VG_EFORMAT, L->t->path, L->lineno, col, "%s", what);
}

enum tdb_result { TDB_OK, TDB_SKIP, TDB_DEFER, TDB_ERROR };

/* Parses the target description block into *l. */
static enum tdb_result parse_tdb(const struct ldb_line *L, const struct field *tdb,
				 struct ldb_sig *l, vg_status *rc, enum defer_reason *why)
{
	struct field tok[TDB_MAX_TOKENS];
	size_t ntok = fields_split(tdb->s, tdb->len, ',', tok, TDB_MAX_TOKENS);
	bool have_target = false, have_engine = false, newext = false, defer = false, icon = false;
	uint32_t engine[2] = {0, 0}, target = 0;

	if (ntok > TDB_MAX_TOKENS)
		ntok = TDB_MAX_TOKENS; /* ClamAV reads ten attributes */
	for (size_t i = 0; i < ntok; i++) {
		const char *s = tok[i].s, *colon = memchr(s, ':', tok[i].len);
		size_t klen, vlen;
		const char *v;
		uint32_t col = tdb->col + tok[i].col;

		if (!colon) {
			*rc = fail(L, col, "attribute '%.*s' has no ':' (expected Key:Value, e.g. Target:0)",
				   (int)(tok[i].len > 40 ? 40 : tok[i].len), s);
			return TDB_ERROR;
		}
		klen = (size_t)(colon - s);
		v = colon + 1;
		vlen = tok[i].len - klen - 1;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(s, k, klen) == 0)
		if (KEY("Engine")) {
			const char *dash = memchr(v, '-', vlen);
			if (i != 0) {
				*rc = fail(L, col, "Engine must be the first attribute of the target description block");
				return TDB_ERROR;
			}
			if (!dash) {
				*rc = fail(L, col, "Engine needs a range MIN-MAX of FLEVELs, e.g. Engine:51-255");
				return TDB_ERROR;
			}
			if (!all_digits(v, (size_t)(dash - v)) ||
			    !all_digits(dash + 1, vlen - (size_t)(dash - v) - 1)) {
				*rc = fail(L, col, "Engine range '%.*s' is not MIN-MAX in decimal", (int)vlen, v);
				return TDB_ERROR;
			}
			engine[0] = atou(v, (size_t)(dash - v));
			engine[1] = atou(dash + 1, vlen - (size_t)(dash - v) - 1);
			have_engine = true;
		} else if (KEY("Target")) {
			if (!all_digits(v, vlen)) {
				*rc = fail(L, col + 7, "Target '%.*s' is not a number (0 to 14)", (int)vlen, v);
				return TDB_ERROR;
			}
			target = atou(v, vlen);
			have_target = true;
		} else if (KEY("FileSize") || KEY("EntryPoint") || KEY("NumberOfSections")) {
			const char *dash = memchr(v, '-', vlen);
			uint32_t *r = KEY("FileSize") ? l->fsize : KEY("EntryPoint") ? l->ep : l->nos;
			newext = true;
			if (!dash || !all_digits(v, (size_t)(dash - v)) ||
			    !all_digits(dash + 1, vlen - (size_t)(dash - v) - 1)) {
				*rc = fail(L, col + (uint32_t)klen + 1,
					   "%.*s needs a range MIN-MAX in decimal, found '%.*s'", (int)klen, s,
					   (int)(vlen > 40 ? 40 : vlen), v);
				return TDB_ERROR;
			}
			r[0] = atou(v, (size_t)(dash - v));
			r[1] = atou(dash + 1, vlen - (size_t)(dash - v) - 1);
			if (KEY("FileSize"))
				l->has_fsize = true;
			else if (KEY("EntryPoint"))
				l->has_ep = true;
			else
				l->has_nos = true;
		} else if (KEY("Container") || KEY("HandlerType")) {
			int tc = sigdb_type_code(v, vlen);
			newext = true;
			if (tc == TYPE_UNKNOWN)
				return TDB_SKIP;
			if (KEY("HandlerType")) {
				defer = true;
				*why = DEF_HANDLER;
			} else if (tc == TYPE_UNSUPPORTED) {
				defer = true;
				*why = DEF_TYPE;
			} else {
				l->has_container = true;
				l->container = (uint8_t)tc;
			}
		} else if (KEY("Intermediates")) {
			struct field it[LDB_MAX_INTERMEDIATES];
			size_t nit = fields_split(v, vlen, '>', it, LDB_MAX_INTERMEDIATES);
			newext = true;
			if (nit > LDB_MAX_INTERMEDIATES)
				nit = LDB_MAX_INTERMEDIATES;
			for (size_t k = 0; k < nit; k++) {
				int tc = sigdb_type_code(it[k].s, it[k].len);
				if (tc == TYPE_UNKNOWN)
					return TDB_SKIP;
				if (tc == TYPE_UNSUPPORTED) {
					defer = true;
					*why = DEF_TYPE;
				}
				l->inter[k] = (uint8_t)(tc < 0 ? 0 : tc);
			}
			l->ninter = (uint8_t)nit;
		} else if (KEY("IconGroup1") || KEY("IconGroup2")) {
			newext = true;
			icon = true;
		} else {
			return TDB_SKIP; /* ClamAV skips signatures with unknown attributes */
		}
#undef KEY
	}
	if (newext && (!have_engine || engine[0] < 51)) {
		*rc = fail(L, tdb->col,
			   "attributes other than Target need Engine first, with a minimum FLEVEL of at "
			   "least 51 (e.g. Engine:51-255,Target:1,...)");
		return TDB_ERROR;
	}
	if (have_engine && (engine[0] > L->s->flevel || engine[1] < L->s->flevel))
		return TDB_SKIP;
	if (!have_target) {
		*rc = fail(L, tdb->col, "no Target in the target description block (add Target:0 for any file)");
		return TDB_ERROR;
	}
	if (target >= TARGET_COUNT)
		return TDB_SKIP;
	if (icon && target != 1) {
		*rc = fail(L, tdb->col, "IconGroup is only supported in PE (Target:1) signatures");
		return TDB_ERROR;
	}
	if (icon) {
		defer = true;
		*why = DEF_ICON;
	}
	if ((l->has_ep || l->has_nos) && target != 1 && target != 6 && target != 9) {
		*rc = fail(L, tdb->col,
			   "EntryPoint/NumberOfSections need Target 1 (PE), 6 (ELF) or 9 (Mach-O), not %u",
			   (unsigned)target);
		return TDB_ERROR;
	}
	l->target = (uint8_t)target;
	if (!defer && (target == 3 || target == 7 || target == 8 || target == 13 || target == 14)) {
		defer = true;
		*why = DEF_TARGET;
	}
	return defer ? TDB_DEFER : TDB_OK;
}

/* ---- content subsignatures: modifiers rewrite the hex as ClamAV does ---- */

/* ::f wraps the pattern in (W) ... (W) and turns [n-m] into {n-m}. */
static vg_status fullword_hex(struct buf *out, const char *hex, size_t len)
{
	vg_status rc = buf_append(out, "(W)", 3);

	for (size_t i = 0; i < len && rc == VG_OK; i++) {
		char ch = hex[i] == '[' ? '{' : hex[i] == ']' ? '}' : hex[i];
		rc = buf_append(out, &ch, 1);
	}
	if (rc == VG_OK)
		rc = buf_append(out, "(W)", 3);
	return rc;
}

/* ::w interleaves a 00 after every byte token (wildcards included, as
 * ClamAV does), leaves '*', '|', ')' and (B)/(L)/(W) as they are and turns
 * [n-m] into {n-m}. False on a shape ClamAV refuses too. */
static bool wide_hex(struct buf *out, const char *h, size_t n, vg_status *rc)
{
	for (size_t i = 0; i < n && *rc == VG_OK; i++) {
		char ch = h[i];
		if (ch == '*' || ch == '|' || ch == ')') {
			*rc = buf_append(out, &ch, 1);
		} else if (ch == '[' || ch == '{') {
			size_t j = i + 1;
			*rc = buf_append(out, "{", 1);
			while (j < n && h[j] != (ch == '[' ? ']' : '}'))
				j++;
			if (*rc == VG_OK)
				*rc = buf_append(out, h + i + 1, j - i - 1);
			if (*rc == VG_OK)
				*rc = buf_append(out, "}", 1);
			i = j;
		} else if (ch == '!' || ch == '(') {
			if (ch == '!') {
				*rc = buf_append(out, "!", 1);
				i++;
			}
			if (i + 2 >= n)
				return false;
			if (*rc == VG_OK)
				*rc = buf_append(out, "(", 1);
			if (h[i + 1] == 'B' || h[i + 1] == 'L' || h[i + 1] == 'W') {
				if (h[i + 2] != ')')
					return false;
				if (*rc == VG_OK)
					*rc = buf_append(out, h + i + 1, 2);
				i += 2;
			}
		} else {
			if (i + 1 >= n)
				return false;
			*rc = buf_append(out, h + i, 2);
			if (*rc == VG_OK)
				*rc = buf_append(out, "00", 2);
			i++;
		}
	}
	return true;
}

/* ::i: every literal byte A-Z becomes a-z (data is folded when verified). */
static void lower_hex(char *h, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (h[i] == '{' || h[i] == '[') {
			while (i < n && h[i] != '}' && h[i] != ']')
				i++;
			continue;
		}
		if (h[i] == '(' && i + 2 < n && (h[i + 1] == 'B' || h[i + 1] == 'L' || h[i + 1] == 'W')) {
			i += 2;
			continue;
		}
		if (hex_digit(h[i]) >= 0 && hex_digit(h[i + 1]) >= 0) {
			int b = hex_digit(h[i]) * 16 + hex_digit(h[i + 1]);
			if (b >= 'A' && b <= 'Z') {
				static const char digits[] = "0123456789abcdef";
				b += 32;
				h[i] = digits[b >> 4];
				h[i + 1] = digits[b & 15];
			}
			i++;
		} else if (h[i] == '?' || hex_digit(h[i]) >= 0) {
			i++; /* a nibble or wildcard pair */
		}
	}
}

static vg_status add_body(const struct ldb_line *L, uint32_t sig, uint32_t lsub, const char *hex,
			  size_t len, uint32_t col, bool exact_col, const struct sig_offset *off,
			  bool nocase, uint8_t target)
{
	struct pattern *pat = NULL;
	struct pattern_error perr;
	struct body_sig *b;
	vg_status rc = pattern_compile(hex, len, &pat, &perr);

	if (rc == VG_EFORMAT)
		return fail(L, exact_col ? col + perr.column : col, "%s%s", perr.msg,
			    exact_col ? "" : " (in the pattern as its ::modifiers rewrite it)");
	if (rc != VG_OK)
		return rc;
	if ((target == 0 || target == 1 || target == 4 || target == 7) && !pattern_filter_ok(pat)) {
		pattern_free(pat);
		return fail(L, col,
			    "ClamAV cannot prefilter this pattern for target %u (a part has too few bytes "
			    "before a multi-byte or generic alternative or a middle boundary); ClamAV "
			    "refuses it too: put two static bytes first",
			    (unsigned)target);
	}
	b = vec_push(&L->s->bodies);
	if (!b) {
		pattern_free(pat);
		return VG_ENOMEM;
	}
	b->sig = sig;
	b->off = *off;
	b->pat = pat; /* transferred */
	b->lsub = lsub + 1;
	b->nocase = nocase;
	return VG_OK;
}

enum sub_result { SUB_OK, SUB_DEFER, SUB_ERROR };

static enum sub_result parse_offset_for(const struct ldb_line *L, const struct field *f,
					uint8_t target, struct sig_offset *off, vg_status *rc,
					enum defer_reason *why)
{
	enum offset_class cls;
	bool floating;

	if (!sigdb_parse_offset(f, off, &cls, &floating)) {
		*rc = fail(L, f->col,
			   "bad offset '%.*s': expected *, n, n,m, EOF-n, EP+n, EP-n, Sx+n, SEx, SL+n or VI",
			   (int)(f->len > 40 ? 40 : f->len), f->s);
		return SUB_ERROR;
	}
	if (cls == OFFC_SPECIAL) {
		*rc = fail(L, f->col, "a $n$ macro offset belongs in .ndb, not in a logical subsignature");
		return SUB_ERROR;
	}
	if (cls == OFFC_EXE && target != 1 && target != 6 && target != 9) {
		*rc = fail(L, f->col,
			   "offset '%.*s' is relative to an executable's layout; it needs Target 1 (PE), "
			   "6 (ELF) or 9 (Mach-O), not %u",
			   (int)f->len, f->s, (unsigned)target);
		return SUB_ERROR;
	}
	if (cls == OFFC_EXE && f->len == 2 && f->s[0] == 'V') {
		*why = DEF_VI;
		return SUB_DEFER;
	}
	return SUB_OK;
}

static enum sub_result parse_content(const struct ldb_line *L, const struct field *f, uint32_t sig,
				     uint32_t lsub, uint8_t target, vg_status *rc,
				     enum defer_reason *why)
{
	struct field tok[5];
	size_t nt = fields_split(f->s, f->len, ':', tok, 5);
	const struct field *hexf, *opts = NULL;
	struct sig_offset off;
	bool nocase = false, full = false, wide = false, ascii = false;
	struct buf tmp;
	enum sub_result r;

	for (size_t i = 0; i < (nt < 5 ? nt : 5); i++)
		tok[i].col += f->col;
	if (nt > 4) {
		*rc = fail(L, tok[4].col - 1,
			   "a subsignature is [OFFSET:]HEX[::MODIFIERS]; found %zu ':'-separated fields", nt);
		return SUB_ERROR;
	}
	memset(&off, 0, sizeof(off));
	off.kind = SIG_OFF_ANY;
	if (nt % 2 == 0) {
		r = parse_offset_for(L, &tok[0], target, &off, rc, why);
		if (r != SUB_OK)
			return r;
	}
	hexf = nt % 2 ? &tok[0] : &tok[1];
	if (nt == 3)
		opts = &tok[2];
	else if (nt == 4)
		opts = &tok[3];
	if ((nt == 3 && tok[1].len) || (nt == 4 && tok[2].len)) {
		*rc = fail(L, nt == 3 ? tok[1].col : tok[2].col,
			   "modifiers follow the pattern after '::' (e.g. 414243::i)");
		return SUB_ERROR;
	}
	for (size_t i = 0; opts && i < opts->len; i++) {
		switch (opts->s[i]) {
		case 'i': nocase = true; break;
		case 'f': full = true; break;
		case 'w': wide = true; break;
		case 'a': ascii = true; break;
		default:
			*rc = fail(L, opts->col + (uint32_t)i,
				   "unknown subsignature modifier '%c' (expected i, f, w or a)", opts->s[i]);
			return SUB_ERROR;
		}
	}
	if (!nocase && !full && !wide) {
		*rc = add_body(L, sig, lsub, hexf->s, hexf->len, hexf->col, true, &off, false, target);
		return *rc == VG_OK ? SUB_OK : SUB_ERROR;
	}
	/* rewrite: fullword first, then wide (and the ascii form too with ::wa) */
	buf_init(&tmp, VG_MAX_LDB_LINE_LEN * 8u);
	*rc = full ? fullword_hex(&tmp, hexf->s, hexf->len) : buf_append(&tmp, hexf->s, hexf->len);
	if (*rc == VG_OK && nocase)
		lower_hex((char *)tmp.data, tmp.len);
	if (*rc == VG_OK && wide) {
		struct buf w;
		buf_init(&w, VG_MAX_LDB_LINE_LEN * 16u);
		if (!wide_hex(&w, (const char *)tmp.data, tmp.len, rc) && *rc == VG_OK)
			*rc = fail(L, hexf->col, "this pattern cannot be made wide (::w): a '(' or '!' at its end");
		else if (*rc == VG_OK)
			*rc = add_body(L, sig, lsub, (const char *)w.data, w.len, hexf->col, false, &off,
				       nocase, target);
		buf_free(&w);
	}
	if (*rc == VG_OK && (!wide || ascii))
		*rc = add_body(L, sig, lsub, (const char *)tmp.data, tmp.len, hexf->col, !full, &off,
			       nocase, target);
	buf_free(&tmp);
	return *rc == VG_OK ? SUB_OK : SUB_ERROR;
}

static enum sub_result parse_pcre(const struct ldb_line *L, const struct field *f, uint32_t index,
				  uint8_t target, struct ldb_sub *sub, vg_status *rc,
				  enum defer_reason *why)
{
	const char *s = f->s, *first = memchr(f->s, '/', f->len), *last = f->s + f->len - 1;
	const char *colon = memchr(f->s, ':', (size_t)(first - f->s));
	const char *trig;
	size_t tlen;
	const char *whyx = NULL;
	int maxid, errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code;
	enum sub_result r;

	while (*last != '/')
		last--;
	if (s[0] == '/') {
		*rc = fail(L, f->col, "a PCRE subsignature needs a trigger before the regex (e.g. 0/abc/)");
		return SUB_ERROR;
	}
	if (first == last) {
		*rc = fail(L, f->col + (uint32_t)(first - s),
			   "PCRE subsignature with one '/': write Trigger/regex/[flags]");
		return SUB_ERROR;
	}
	memset(&sub->off, 0, sizeof(sub->off));
	sub->off.kind = SIG_OFF_ANY;
	trig = s;
	if (colon) {
		struct field of = {s, (size_t)(colon - s), f->col};
		r = parse_offset_for(L, &of, target, &sub->off, rc, why);
		if (r != SUB_OK)
			return r;
		trig = colon + 1;
	}
	tlen = (size_t)(first - trig);
	maxid = logical_check(trig, tlen, &whyx);
	if (maxid < 0) {
		*rc = fail(L, f->col + (uint32_t)(trig - s), "bad PCRE trigger '%.*s': %s",
			   (int)(tlen > 40 ? 40 : tlen), trig, tlen ? whyx : "empty");
		return SUB_ERROR;
	}
	if ((uint32_t)maxid >= index) {
		*rc = fail(L, f->col + (uint32_t)(trig - s),
			   "the PCRE trigger uses subsignature %d; a trigger may only use earlier "
			   "subsignatures (0 to %u)",
			   maxid, index ? index - 1 : 0);
		return SUB_ERROR;
	}
	for (const char *p = last + 1; p < s + f->len; p++) {
		switch (*p) {
		case 'g': sub->pcre_global = 1; break;
		case 'r': sub->pcre_rolling = 1; break;
		case 'e': sub->pcre_encompass = 1; break;
		case 'i': sub->pcre_opts |= PCRE2_CASELESS; break;
		case 's': sub->pcre_opts |= PCRE2_DOTALL; break;
		case 'm': sub->pcre_opts |= PCRE2_MULTILINE; break;
		case 'x': sub->pcre_opts |= PCRE2_EXTENDED; break;
		case 'A': sub->pcre_opts |= PCRE2_ANCHORED; break;
		case 'E': sub->pcre_opts |= PCRE2_DOLLAR_ENDONLY; break;
		case 'U': sub->pcre_opts |= PCRE2_UNGREEDY; break;
		default:
			*rc = fail(L, f->col + (uint32_t)(p - s),
				   "unknown PCRE flag '%c' (ClamAV's are g r e i s m x A E U)", *p);
			return SUB_ERROR;
		}
	}
	code = pcre2_compile((PCRE2_SPTR)(first + 1), (PCRE2_SIZE)(last - first - 1), sub->pcre_opts,
			     &errcode, &erroff, NULL);
	if (!code) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		*rc = fail(L, f->col + (uint32_t)(first + 1 - s) + (uint32_t)erroff,
			   "PCRE2 cannot compile the regex: %s", (const char *)msg);
		return SUB_ERROR;
	}
	pcre2_code_free(code);
	sub->kind = LSUB_PCRE;
	sub->trigger = vg_strndup(trig, tlen);
	sub->regex = vg_strndup(first + 1, (size_t)(last - first - 1));
	if (!sub->trigger || !sub->regex) {
		*rc = VG_ENOMEM;
		return SUB_ERROR;
	}
	return SUB_OK;
}

static bool is_bcomp(const struct field *f)
{
	const char *open = memchr(f->s, '(', f->len), *h1 = memchr(f->s, '#', f->len);
	const char *h2 = NULL;

	for (size_t i = f->len; i > 0; i--)
		if (f->s[i - 1] == '#') {
			h2 = f->s + i - 1;
			break;
		}
	return open && h1 && h2 != h1;
}

static vg_status ldb_line(struct sigset *s, const struct db_text *t, const char *line, size_t len,
			  uint32_t lineno, void *arg, bool *counted)
{
	struct ldb_line L = {s, t, lineno, arg};
	struct db_record *db = VEC_AT(&s->dbs, struct db_record, t->db);
	struct field f[LDB_MAX_FIELDS + 1];
	size_t nf = fields_split(line, len, ';', f, LDB_MAX_FIELDS + 1);
	size_t bodies0 = s->bodies.n, subs0 = s->lsubs.n, sigs0 = s->sigs.n, names0 = s->names.len;
	const char *why = NULL;
	enum defer_reason dwhy = DEF_COUNT;
	enum tdb_result tr;
	struct ldb_sig l, *lp;
	uint32_t nsubs, sig, counts[LOGICAL_MAX_SUBS];
	int maxid;
	bool defer = false;
	vg_status rc = VG_OK;

	*counted = false;
	if (len == 0)
		return fail(&L, 0, "empty line (ClamAV rejects blank lines; delete it or make it a '#' comment)");
	if (nf < 4)
		return fail(&L, (uint32_t)len,
			    "expected NAME;TARGET-DESCRIPTION;LOGICAL-EXPRESSION;SUBSIG0[;SUBSIG1...], "
			    "found %zu ';'-separated field(s)", nf);
	if (sigdb_ignored(s, f[0].s, f[0].len, line, len)) {
		db->skipped++;
		return VG_OK;
	}
	maxid = logical_check(f[2].s, f[2].len, &why);
	if (maxid < 0)
		return fail(&L, f[2].col, "bad logical expression '%.*s': %s",
			    (int)(f[2].len > 60 ? 60 : f[2].len), f[2].s, why);
	if (nf > LDB_MAX_FIELDS)
		return fail(&L, f[LDB_MAX_FIELDS].col, "more than %u subsignatures", LOGICAL_MAX_SUBS);
	nsubs = (uint32_t)maxid + 1;
	if (nsubs != nf - 3)
		return fail(&L, f[2].col,
			    "the expression uses subsignatures 0 to %d (%u of them) but the line has %zu",
			    maxid, nsubs, nf - 3);
	if (f[0].len == 0)
		return fail(&L, 0, "empty signature name");
	memset(&l, 0, sizeof(l));
	tr = parse_tdb(&L, &f[1], &l, &rc, &dwhy);
	if (tr == TDB_ERROR)
		return rc;
	if (tr == TDB_SKIP) {
		L.st->skipped_attr++;
		db->skipped++;
		return VG_OK;
	}
	defer = tr == TDB_DEFER;
	rc = sigdb_add_sig(s, t, f[0].s, f[0].len, VG_SIG_LOGICAL, &sig);
	if (rc != VG_OK)
		return rc;
	l.sig = sig;
	l.first_sub = (uint32_t)s->lsubs.n;
	l.nsubs = nsubs;
	for (uint32_t i = 0; i < nsubs && rc == VG_OK; i++) {
		const struct field *sf = &f[3 + i];
		struct ldb_sub *sub = vec_push(&s->lsubs);
		enum sub_result r = SUB_OK;

		if (!sub) {
			rc = VG_ENOMEM;
			break;
		}
		if (sf->len && sf->s[0] == '$') {
			unsigned smin, smax, id;
			char tmp[64];
			int n;
			size_t k = sf->len < sizeof(tmp) - 1 ? sf->len : sizeof(tmp) - 1;
			memcpy(tmp, sf->s, k);
			tmp[k] = '\0';
			if (sf->s[sf->len - 1] != '$' || sscanf(tmp, "${%u-%u}%u$%n", &smin, &smax, &id, &n) != 3 ||
			    id >= 32) {
				rc = fail(&L, sf->col, "bad macro subsignature: expected ${MIN-MAX}GROUP$ with GROUP below 32");
				break;
			}
			r = SUB_DEFER;
			dwhy = DEF_MACRO;
		} else if (memchr(sf->s, '/', sf->len)) {
			r = parse_pcre(&L, sf, i, l.target, sub, &rc, &dwhy);
		} else if (is_bcomp(sf)) {
			size_t col = 0;
			const char *bwhy = NULL;
			if (!bcomp_parse(sf->s, sf->len, &sub->bc, &bwhy, &col)) {
				rc = fail(&L, sf->col + (uint32_t)col, "bad byte compare subsignature: %s", bwhy);
				break;
			}
			if (sub->bc.ref >= nsubs) {
				rc = fail(&L, sf->col, "the byte compare refers to subsignature %u, which does not exist",
					  (unsigned)sub->bc.ref);
				break;
			}
			sub->kind = LSUB_BCOMP;
		} else if (sf->len >= 10 && memcmp(sf->s, "fuzzy_img#", 10) == 0) {
			r = SUB_DEFER;
			dwhy = DEF_FUZZY;
		} else {
			sub = NULL; /* parse_content may grow the vectors */
			VEC_AT(&s->lsubs, struct ldb_sub, s->lsubs.n - 1)->kind = LSUB_CONTENT;
			r = parse_content(&L, sf, sig, (uint32_t)(s->lsubs.n - 1), l.target, &rc, &dwhy);
		}
		if (r == SUB_ERROR && rc == VG_OK)
			rc = VG_EFORMAT;
		if (r == SUB_DEFER)
			defer = true;
	}
	if (rc == VG_OK && defer) {
		/* keep nothing of it: counted, with the reason, for the notice */
		L.st->deferred[dwhy < DEF_COUNT ? dwhy : DEF_TARGET]++;
		db->deferred++;
	}
	if (rc != VG_OK || defer) {
		for (size_t i = bodies0; i < s->bodies.n; i++)
			pattern_free(VEC_AT(&s->bodies, struct body_sig, i)->pat);
		s->bodies.n = bodies0;
		sigdb_free_ldbs(s, s->ldbs.n, subs0);
		s->sigs.n = sigs0;
		s->names.len = names0;
		return rc;
	}
	lp = vec_push(&s->ldbs);
	if (!lp)
		return VG_ENOMEM; /* the caller rolls the whole file back */
	*lp = l;
	lp->expr = vg_strndup(f[2].s, f[2].len);
	if (!lp->expr)
		return VG_ENOMEM;
	/* Signatures true with nothing matched (e.g. "0=0") or whose PCRE can
	 * run without a match are evaluated on every layer, as ClamAV does. */
	memset(counts, 0, sizeof(counts));
	lp->always = logical_eval(lp->expr, f[2].len, counts) == 1;
	for (uint32_t i = 0; i < nsubs && !lp->always; i++) {
		const struct ldb_sub *sub = VEC_AT(&s->lsubs, struct ldb_sub, lp->first_sub + i);
		if (sub->kind == LSUB_PCRE && logical_eval(sub->trigger, strlen(sub->trigger), counts) == 1)
			lp->always = true;
	}
	*counted = true;
	return VG_OK;
}

void sigdb_free_ldbs(struct sigset *s, size_t ldb_from, size_t sub_from)
{
	for (size_t i = ldb_from; i < s->ldbs.n; i++)
		vg_free(VEC_AT(&s->ldbs, struct ldb_sig, i)->expr);
	for (size_t i = sub_from; i < s->lsubs.n; i++) {
		struct ldb_sub *sub = VEC_AT(&s->lsubs, struct ldb_sub, i);
		vg_free(sub->trigger);
		vg_free(sub->regex);
	}
	if (ldb_from < s->ldbs.n)
		s->ldbs.n = ldb_from;
	if (sub_from < s->lsubs.n)
		s->lsubs.n = sub_from;
}

vg_status sigdb_load_ldb(struct sigset *s, const struct db_text *t)
{
	struct ldb_stats st;
	vg_status rc;

	memset(&st, 0, sizeof(st));
	rc = sigdb_each_line_max(s, t, false, VG_MAX_LDB_LINE_LEN, ldb_line, &st);
	if (rc != VG_OK)
		return rc;
	for (int i = 0; i < DEF_COUNT; i++)
		if (st.deferred[i])
			vg_log(s->log, VG_LOG_NOTICE,
			       "%s: %llu logical signature(s) not loaded: %s is not supported by vigil %s yet",
			       t->path, (unsigned long long)st.deferred[i], defer_what[i], VG_VERSION_STRING);
	if (st.skipped_attr)
		vg_log(s->log, VG_LOG_NOTICE,
		       "%s: %llu logical signature(s) skipped, as ClamAV skips them: unknown target "
		       "description attribute or CL_TYPE name, or an Engine range or Target outside "
		       "what this FLEVEL supports",
		       t->path, (unsigned long long)st.skipped_attr);
	return VG_OK;
}
