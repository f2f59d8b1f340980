/* Extended body signatures (.ndb, .ndu):
 *   Name:TargetType:Offset:HexSignature[:MinFL[:MaxFL]]
 * Every target is matched where the layer's type allows it (filetype_targets,
 * and the normalised views for targets 3 and 7), with every offset form
 * ClamAV allows (EP+n, EP-n, Sx+n, SEx, SL+n on targets 1, 6 and 9). VI and
 * $n$ offsets are validated like ClamAV validates them and counted as
 * deferred. */
#include <string.h>

#include "sigdb/sigdb.h"


/* ClamAV's all-digits test accepts the empty string (atoi then gives 0). */
static bool is_number(const struct field *f)
{
	for (size_t i = 0; i < f->len; i++)
		if (f->s[i] < '0' || f->s[i] > '9')
			return false;
	return true;
}

static uint64_t number(const struct field *f)
{
	uint64_t v = 0;

	for (size_t i = 0; i < f->len; i++) {
		v = v * 10 + (uint64_t)(f->s[i] - '0');
		if (v > UINT32_MAX)
			return UINT32_MAX + 1ull;
	}
	return v;
}

/* ClamAV reads offset numbers with an all-digits check and atoi(): an empty
 * number is 0 and a huge one still loads. Saturate instead of wrapping. */
static bool decimal(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (d > 9)
			return false;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
			v = UINT64_MAX;
	}
	*out = v;
	return true;
}

/* One scanf "%u" at s[*pos]: blanks, an optional sign, at least one digit;
 * the value wraps at 32 bits (a '-' negates it modulo 2^32). */
static bool scan_u32(const char *s, size_t len, size_t *pos, uint32_t *out)
{
	size_t i = *pos;
	bool neg = false, any = false;
	uint32_t v = 0;

	while (i < len && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
		i++;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, any = true)
		v = v * 10u + (uint32_t)(s[i] - '0');
	if (!any)
		return false;
	*pos = i;
	*out = neg ? 0u - v : v;
	return true;
}

/* Parses the offset field. OFFC_EXE: EP/section relative (targets 1, 6, 9
 * only); OFFC_SPECIAL: VI and $n$ macros. *floating is set for ",shift". */
bool sigdb_parse_offset(const struct field *f, struct sig_offset *off, enum offset_class *cls,
			bool *floating)
{
	const char *s = f->s;
	size_t len = f->len, comma;
	uint64_t v;

	memset(off, 0, sizeof(*off));
	*cls = OFFC_PLAIN;
	*floating = false;
	if (len == 1 && s[0] == '*') {
		off->kind = SIG_OFF_ANY;
		return true;
	}
	if (len == 2 && memcmp(s, "VI", 2) == 0) {
		*cls = OFFC_EXE; /* PE version information: executables only */
		return true;
	}
	if (len >= 3 && s[0] == '$' && s[len - 1] == '$') {
		*cls = OFFC_SPECIAL;
		return len > 2 && decimal(s + 1, len - 2, &v) && v < 32;
	}
	for (comma = 0; comma < len && s[comma] != ','; comma++)
		;
	if (comma < len) {
		if (!decimal(s + comma + 1, len - comma - 1, &off->shift))
			return false;
		*floating = true;
		off->floating = true;
		len = comma;
	}
	if (len >= 4 && memcmp(s, "EOF-", 4) == 0) {
		off->kind = SIG_OFF_EOF;
		return decimal(s + 4, len - 4, &off->n);
	}
	/* ClamAV's all-digits test passes "", so "EP+", "SE" and "SL+" mean 0 */
	if (len >= 3 && (memcmp(s, "EP+", 3) == 0 || memcmp(s, "EP-", 3) == 0)) {
		*cls = OFFC_EXE;
		off->kind = s[2] == '+' ? SIG_OFF_EP_PLUS : SIG_OFF_EP_MINUS;
		return decimal(s + 3, len - 3, &off->n);
	}
	if (len >= 2 && s[0] == 'S' && s[1] == 'E') {
		*cls = OFFC_EXE;
		off->kind = SIG_OFF_SE;
		if (!decimal(s + 2, len - 2, &v))
			return false;
		off->section = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		return true;
	}
	if (len >= 3 && memcmp(s, "SL+", 3) == 0) {
		*cls = OFFC_EXE;
		off->kind = SIG_OFF_SL;
		return decimal(s + 3, len - 3, &off->n);
	}
	if (len > 1 && s[0] == 'S') {
		/* ClamAV reads this one with sscanf("S%u+%u"): blanks and a sign
		 * before each number pass, and so does anything after the second */
		size_t pos = 1;
		uint32_t sect, val;
		*cls = OFFC_EXE;
		off->kind = SIG_OFF_SX;
		if (!scan_u32(s, len, &pos, &sect) || pos >= len || s[pos] != '+')
			return false;
		pos++;
		if (!scan_u32(s, len, &pos, &val))
			return false;
		off->section = sect;
		off->n = val;
		return true;
	}
	off->kind = SIG_OFF_ABS;
	return decimal(s, len, &off->n);
}

static vg_status load_line(struct sigset *s, const struct db_text *t, const char *line,
			   size_t len, uint32_t lineno, void *arg, bool *counted)
{
	(void)arg;
	struct db_record *db = VEC_AT(&s->dbs, struct db_record, t->db);
	struct field f[7];
	size_t nf = fields_split(line, len, ':', f, 7);
	struct sig_offset off;
	enum offset_class cls;
	bool floating, bad;
	uint64_t target;
	struct pattern *pat = NULL;
	struct pattern_error perr;
	struct body_sig *b;
	uint32_t sig;
	vg_status rc;

	*counted = false;
	if (len == 0)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, 0,
				  "empty line (ClamAV rejects blank lines; delete it or make it a '#' comment)");
	if (nf < 4 || nf > 6)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, nf > 6 ? f[6].col - 1 : (uint32_t)len,
				  "expected NAME:TARGET:OFFSET:HEX[:MINFL[:MAXFL]], found %zu field(s)", nf);
	if (sigdb_ignored(s, f[0].s, f[0].len, line, len)) {
		db->skipped++;
		return VG_OK;
	}
	if (nf > 4 && !is_number(&f[4]))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[4].col,
				  "minimum FLEVEL '%.*s' is not a number", (int)f[4].len, f[4].s);
	if (nf > 5 && !is_number(&f[5]))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[5].col,
				  "maximum FLEVEL '%.*s' is not a number", (int)f[5].len, f[5].s);
	if (!sigdb_flevel_ok(s, nf > 4 ? &f[4] : NULL, nf > 5 ? &f[5] : NULL, &bad)) {
		db->skipped++;
		return VG_OK;
	}
	if (!field_eq(&f[1], "*") && !is_number(&f[1]))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[1].col,
				  "bad target type '%.*s': expected a number from 0 to 14 or '*'",
				  (int)(f[1].len > 20 ? 20 : f[1].len), f[1].s);
	target = field_eq(&f[1], "*") ? 0 : number(&f[1]);
	if (target >= SIG_TARGET_COUNT) {
		/* ClamAV skips unknown targets silently; we count them */
		db->skipped++;
		return VG_OK;
	}
	if (f[0].len == 0)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, 0, "empty signature name");
	if (!sigdb_parse_offset(&f[2], &off, &cls, &floating))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[2].col,
				  "bad offset '%.*s': expected *, n, n,m, EOF-n, EP+n, EP-n, Sx+n, SEx, SL+n, VI or $n$",
				  (int)(f[2].len > 40 ? 40 : f[2].len), f[2].s);
	if (cls == OFFC_EXE && target != 1 && target != 6 && target != 9)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[2].col,
				  "offset '%.*s' is relative to an executable's layout; it needs target 1 (PE), 6 (ELF) or 9 (Mach-O), not %u",
				  (int)f[2].len, f[2].s, (unsigned)target);
	if (cls == OFFC_SPECIAL || (cls == OFFC_EXE && f[2].len == 2 && f[2].s[0] == 'V')) {
		/* VI and macro patterns have their own rules; validated when used */
		db->deferred++;
		return VG_OK;
	}
	rc = pattern_compile(f[3].s, f[3].len, &pat, &perr);
	if (rc == VG_EFORMAT)
		return sigdb_fail(s, rc, t->path, lineno, f[3].col + perr.column, "%s", perr.msg);
	if (rc != VG_OK)
		return rc;
	/* ClamAV sends plain static patterns of target 0 (and of target 1 at a
	 * fixed offset) to Boyer-Moore, which needs 3 bytes. */
	if (pattern_is_plain(pat) && pattern_min_len(pat) < 3 &&
	    (target == 0 || (target == 1 && off.kind != SIG_OFF_ANY && !floating))) {
		pattern_free(pat);
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[3].col,
				  "pattern is too short: a plain pattern needs at least 3 bytes");
	}
	/* ClamAV refuses these where its shift-or prefilter runs */
	if ((target == 0 || target == 1 || target == 4 || target == 7) && !pattern_filter_ok(pat)) {
		pattern_free(pat);
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[3].col,
				  "ClamAV cannot prefilter this pattern for target %u (a part has too few "
				  "bytes before a multi-byte or generic alternative or a middle boundary); "
				  "ClamAV refuses it too: put two static bytes first",
				  (unsigned)target);
	}
	rc = sigdb_add_sig(s, t, f[0].s, f[0].len, VG_SIG_BODY, &sig);
	if (rc != VG_OK) {
		pattern_free(pat);
		return rc;
	}
	b = vec_push(&s->bodies);
	if (!b) {
		s->sigs.n--;
		pattern_free(pat);
		return VG_ENOMEM;
	}
	b->sig = sig;
	b->target = (uint8_t)target;
	b->off = off;
	b->pat = pat; /* transferred */
	*counted = true;
	return VG_OK;
}

vg_status sigdb_load_ndb(struct sigset *s, const struct db_text *t)
{
	return sigdb_each_line(s, t, false, load_line, NULL);
}
