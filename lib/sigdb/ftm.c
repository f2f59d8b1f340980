/* File type magic (.ftm):
 *   MagicType:Offset:HexSig:Name:RequiredType:DetectedType[:MinFL[:MaxFL]]
 *
 * Checked as libclamav's cli_loadftm checks them: 6 to 8 fields, FLEVEL,
 * known CL_TYPE names (an unknown one is fatal), a numeric magic type, for
 * types 0 and 4 a numeric offset and valid hex. A file of no usable line is
 * refused, as ClamAV refuses it ("Empty external filetype database").
 *
 * Magic type 0 (bytes at an offset) feeds vigil's file typer when the
 * detected type is one it has. Deferred and counted: type 1 (a body pattern
 * matched while scanning, used by libclamav to find embedded files), type 4
 * (partition tables), and detected types the typer does not produce. Other
 * magic types are skipped as ClamAV skips them. */
#include <string.h>

#include "filetype/filetype.h"
#include "sigdb/sigdb.h"

struct ftm_stats {
	uint64_t used;      /* lines ClamAV counts (loaded or deferred) */
	uint64_t deferred;
};

static bool digits(const struct field *f)
{
	for (size_t i = 0; i < f->len; i++)
		if (f->s[i] < '0' || f->s[i] > '9')
			return false;
	return true;
}

static vg_status ftm_line(struct sigset *s, const struct db_text *t, const char *line, size_t len,
			  uint32_t lineno, void *arg, bool *counted)
{
	struct ftm_stats *st = arg;
	struct db_record *db = VEC_AT(&s->dbs, struct db_record, t->db);
	struct field f[9];
	size_t nf = fields_split(line, len, ':', f, 9);
	int rtype, type;
	uint64_t magic, off;
	struct ftm_sig *m;
	bool bad;

	*counted = false;
	if (nf < 6 || nf > 8)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, nf > 8 ? f[8].col - 1 : (uint32_t)len,
				  "expected MAGICTYPE:OFFSET:HEX:NAME:REQUIREDTYPE:DETECTEDTYPE[:MINFL[:MAXFL]], "
				  "found %zu field(s)", nf);
	if (nf > 6 && (!digits(&f[6]) || (nf > 7 && !digits(&f[7]))))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[6].col, "FLEVEL fields must be numbers");
	if (nf > 6 && !sigdb_flevel_ok(s, &f[6], nf > 7 ? &f[7] : NULL, &bad)) {
		db->skipped++;
		return VG_OK;
	}
	rtype = sigdb_type_code(f[4].s, f[4].len);
	type = sigdb_type_code(f[5].s, f[5].len);
	if (rtype == TYPE_UNKNOWN)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[4].col,
				  "unknown required type '%.*s' (expected a CL_TYPE_ name)",
				  (int)(f[4].len > 40 ? 40 : f[4].len), f[4].s);
	if (type == TYPE_UNKNOWN)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[5].col,
				  "unknown detected type '%.*s' (expected a CL_TYPE_ name)",
				  (int)(f[5].len > 40 ? 40 : f[5].len), f[5].s);
	if (!digits(&f[0]) || !field_u64(&f[0], &magic))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[0].col,
				  "magic type '%.*s' is not a number (0: bytes at an offset, 1: body pattern)",
				  (int)(f[0].len > 20 ? 20 : f[0].len), f[0].s);
	if (magic == 1) {
		/* validated like a body pattern so that what ClamAV refuses fails here too */
		struct pattern *pat = NULL;
		struct pattern_error perr;
		vg_status rc = pattern_compile(f[2].s, f[2].len, &pat, &perr);
		if (rc == VG_EFORMAT)
			return sigdb_fail(s, rc, t->path, lineno, f[2].col + perr.column, "%s", perr.msg);
		pattern_free(pat);
		if (rc != VG_OK)
			return rc;
		st->used++;
		st->deferred++;
		db->deferred++;
		return VG_OK;
	}
	if (magic != 0 && magic != 4) {
		db->skipped++; /* ClamAV: "Unsupported mode", skipped */
		return VG_OK;
	}
	if (!digits(&f[1]) || !field_u64(&f[1], &off) || off > UINT32_MAX)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[1].col,
				  "bad offset '%.*s': a decimal number", (int)(f[1].len > 20 ? 20 : f[1].len), f[1].s);
	if (f[2].len == 0 || f[2].len % 2)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[2].col,
				  "magic bytes must be an even number of hex digits");
	for (size_t i = 0; i < f[2].len; i++)
		if (hex_digit(f[2].s[i]) < 0)
			return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[2].col + (uint32_t)i,
					  "bad hex digit '%c' in the magic bytes", f[2].s[i]);
	/* (validated above for the column; decoded below) */
	st->used++;
	if (magic == 4 || type < 0 || type == LDB_TYPE_ANY) {
		st->deferred++;
		db->deferred++;
		return VG_OK;
	}
	m = vec_push(&s->ftms);
	if (!m)
		return VG_ENOMEM;
	m->offset = (uint32_t)off;
	m->len = (uint32_t)(f[2].len / 2);
	m->type = (uint8_t)type;
	m->bytes = vg_malloc(m->len);
	if (!m->bytes) {
		s->ftms.n--;
		return VG_ENOMEM;
	}
	{
		size_t badpos;
		(void)hex_decode(f[2].s, f[2].len, m->bytes, &badpos);
	}
	return VG_OK;
}

void sigdb_free_ftms(struct sigset *s, size_t from)
{
	for (size_t i = from; i < s->ftms.n; i++)
		vg_free(VEC_AT(&s->ftms, struct ftm_sig, i)->bytes);
	if (from < s->ftms.n)
		s->ftms.n = from;
}

vg_status sigdb_load_ftm(struct sigset *s, const struct db_text *t)
{
	struct ftm_stats st = {0, 0};
	vg_status rc = sigdb_each_line(s, t, false, ftm_line, &st);

	if (rc != VG_OK)
		return rc;
	if (st.used == 0)
		return sigdb_fail(s, VG_EFORMAT, t->path, 0, 0,
				  "no file type signature in the file (ClamAV refuses an empty filetype "
				  "database too)");
	if (st.deferred)
		vg_log(s->log, VG_LOG_NOTICE,
		       "%s: %llu file type signature(s) not used: magic types 1 (embedded-file "
		       "patterns) and 4 (partitions), and detected types vigil's file typer does not "
		       "have, are not supported by vigil %s yet",
		       t->path, (unsigned long long)st.deferred, VG_VERSION_STRING);
	return VG_OK;
}
