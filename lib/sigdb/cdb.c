/* Container metadata signatures (.cdb):
 *   Name:ContainerType:ContainerSize:FileNameREGEX:FileSizeInContainer:
 *   FileSizeReal:IsEncrypted:FilePos:Res1:Res2[:MinFL[:MaxFL]]
 *
 * Checked as libclamav's cli_loadcdb checks them: 10 to 12 fields, FLEVEL,
 * a known CL_TYPE or '*', a POSIX extended regex, ranges "n" or "n-m",
 * IsEncrypted 0, 1 or '*'. Res1 and Res2 are read by nothing in ClamAV's
 * matcher for these types and are ignored here too. The scan driver
 * matches them against each entry of a container before scanning it.
 *
 * Deferred (counted, one notice per file): FileSizeInContainer other than
 * '*' (vigil's unpackers report the real size only) and container types
 * vigil's file typer does not produce. */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "sigdb/sigdb.h"

struct cdb_stats {
	uint64_t defer_csize, defer_type;
};

/* "*", "n" or "n-m" (sscanf "%u-%u" as ClamAV). */
static bool parse_range(const struct field *f, uint32_t out[2])
{
	const char *dash;
	uint64_t a = 0, b = 0;
	size_t i;

	if (field_eq(f, "*")) {
		out[0] = out[1] = CDB_ANY;
		return true;
	}
	dash = memchr(f->s, '-', f->len);
	if (!dash) {
		if (!field_u64(f, &a) || a >= CDB_ANY)
			return false;
		out[0] = out[1] = (uint32_t)a;
		return true;
	}
	for (i = 0; f->s + i < dash; i++) {
		if (f->s[i] < '0' || f->s[i] > '9')
			return false;
		a = a * 10 + (uint64_t)(f->s[i] - '0');
		if (a >= CDB_ANY)
			return false;
	}
	if (i == 0)
		return false;
	for (i = (size_t)(dash - f->s) + 1; i < f->len && f->s[i] >= '0' && f->s[i] <= '9'; i++) {
		b = b * 10 + (uint64_t)(f->s[i] - '0');
		if (b >= CDB_ANY)
			return false;
	}
	if (i == (size_t)(dash - f->s) + 1)
		return false;
	out[0] = (uint32_t)a;
	out[1] = (uint32_t)b;
	return true;
}

static vg_status cdb_line(struct sigset *s, const struct db_text *t, const char *line, size_t len,
			  uint32_t lineno, void *arg, bool *counted)
{
	struct cdb_stats *st = arg;
	struct db_record *db = VEC_AT(&s->dbs, struct db_record, t->db);
	struct field f[13];
	size_t nf = fields_split(line, len, ':', f, 13);
	struct cdb_sig c, *cp;
	bool bad;
	int tc;
	vg_status rc;

	*counted = false;
	if (len == 0)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, 0,
				  "empty line (ClamAV rejects blank lines; delete it or make it a '#' comment)");
	if (nf < 10 || nf > 12)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, nf > 12 ? f[12].col - 1 : (uint32_t)len,
				  "expected NAME:CONTAINERTYPE:CONTAINERSIZE:NAMEREGEX:SIZEINCONTAINER:"
				  "REALSIZE:ISENCRYPTED:FILEPOS:RES1:RES2[:MINFL[:MAXFL]], found %zu field(s)",
				  nf);
	if (nf > 10 && !sigdb_flevel_ok(s, &f[10], nf > 11 ? &f[11] : NULL, &bad)) {
		if (bad)
			return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[10].col,
					  "FLEVEL fields must be numbers");
		db->skipped++;
		return VG_OK;
	}
	if (sigdb_ignored(s, f[0].s, f[0].len, line, len)) {
		db->skipped++;
		return VG_OK;
	}
	if (f[0].len == 0)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, 0, "empty signature name");
	memset(&c, 0, sizeof(c));
	if (field_eq(&f[1], "*")) {
		c.ctype = LDB_TYPE_ANY;
	} else {
		tc = sigdb_type_code(f[1].s, f[1].len);
		if (tc == TYPE_UNKNOWN || tc == LDB_TYPE_ANY)
			return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[1].col,
					  "unknown container type '%.*s' (expected a CL_TYPE_ name or '*')",
					  (int)(f[1].len > 40 ? 40 : f[1].len), f[1].s);
		if (tc == TYPE_UNSUPPORTED) {
			st->defer_type++;
			db->deferred++;
			return VG_OK;
		}
		c.ctype = (uint8_t)tc;
	}
	if (!parse_range(&f[2], c.csize))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[2].col,
				  "bad container size '%.*s': expected *, n or n-m", (int)f[2].len, f[2].s);
	if (!parse_range(&f[5], c.fsize))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[5].col,
				  "bad file size '%.*s': expected *, n or n-m", (int)f[5].len, f[5].s);
	if (!parse_range(&f[7], c.filepos))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[7].col,
				  "bad file position '%.*s': expected *, n or n-m", (int)f[7].len, f[7].s);
	{
		uint32_t r[2];
		if (!parse_range(&f[4], r))
			return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[4].col,
					  "bad size in container '%.*s': expected *, n or n-m",
					  (int)f[4].len, f[4].s);
		if (r[0] != CDB_ANY) {
			st->defer_csize++;
			db->deferred++;
			return VG_OK;
		}
	}
	if (field_eq(&f[6], "*"))
		c.encrypted = 2;
	else if (field_eq(&f[6], "0") || field_eq(&f[6], "1"))
		c.encrypted = (uint8_t)(f[6].s[0] - '0');
	else
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[6].col,
				  "bad encryption flag '%.*s': expected 0, 1 or *", (int)f[6].len, f[6].s);
	if (!field_eq(&f[3], "*")) {
		regex_t re;
		char *pat = vg_strndup(f[3].s, f[3].len);
		int e;
		if (!pat)
			return VG_ENOMEM;
		e = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB);
		if (e != 0) {
			char msg[128];
			regerror(e, &re, msg, sizeof(msg));
			vg_free(pat);
			return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[3].col,
					  "bad file name regex: %s", msg);
		}
		regfree(&re);
		c.name_re = pat; /* transferred below */
	}
	rc = sigdb_add_sig(s, t, f[0].s, f[0].len, VG_SIG_CONTAINER, &c.sig);
	if (rc != VG_OK) {
		vg_free(c.name_re);
		return rc;
	}
	cp = vec_push(&s->cdbs);
	if (!cp) {
		vg_free(c.name_re);
		return VG_ENOMEM;
	}
	*cp = c;
	*counted = true;
	return VG_OK;
}

void sigdb_free_cdbs(struct sigset *s, size_t from)
{
	for (size_t i = from; i < s->cdbs.n; i++)
		vg_free(VEC_AT(&s->cdbs, struct cdb_sig, i)->name_re);
	if (from < s->cdbs.n)
		s->cdbs.n = from;
}

vg_status sigdb_load_cdb(struct sigset *s, const struct db_text *t)
{
	struct cdb_stats st = {0, 0};
	vg_status rc = sigdb_each_line(s, t, false, cdb_line, &st);

	if (rc != VG_OK)
		return rc;
	if (st.defer_csize)
		vg_log(s->log, VG_LOG_NOTICE,
		       "%s: %llu container signature(s) not loaded: a size in the container (compressed "
		       "size) other than '*' is not supported by vigil %s yet",
		       t->path, (unsigned long long)st.defer_csize, VG_VERSION_STRING);
	if (st.defer_type)
		vg_log(s->log, VG_LOG_NOTICE,
		       "%s: %llu container signature(s) not loaded: their container type is one vigil's "
		       "file typer does not produce",
		       t->path, (unsigned long long)st.defer_type);
	return VG_OK;
}
