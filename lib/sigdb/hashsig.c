/* Whole-file hash databases: .hdb .hsb .hdu .hsu (signatures) and .fp .sfp
 * (allow lists). Line: HashHex:FileSize:Name[:MinFL[:MaxFL]]. The digest
 * algorithm follows from the hex length, not from the extension. */
#include <string.h>

#include "sigdb/sigdb.h"

/* ClamAV reads these FLEVEL fields with plain atoi(): leading digits count,
 * anything else is 0. */
static uint64_t atoi_like(const struct field *f)
{
	uint64_t v = 0;

	for (size_t i = 0; i < f->len && f->s[i] >= '0' && f->s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(f->s[i] - '0');
		if (v > UINT32_MAX)
			return UINT32_MAX;
	}
	return v;
}

/* Names are cut at " (Clam)" as ClamAV does. */
static size_t name_len(const struct field *f)
{
	static const char tag[] = " (Clam)";

	for (size_t i = 0; i + sizeof(tag) - 1 <= f->len; i++)
		if (memcmp(f->s + i, tag, sizeof(tag) - 1) == 0)
			return i;
	return f->len;
}

static vg_status load_line(struct sigset *s, const struct db_text *t, const char *line,
			   size_t len, uint32_t lineno, void *arg, bool *counted)
{
	enum hash_file_kind kind = *(const enum hash_file_kind *)arg;
	struct field f[6];
	size_t nf = fields_split(line, len, ':', f, 6);
	struct db_record *db = VEC_AT(&s->dbs, struct db_record, t->db);
	uint64_t minfl = 0, size = 0;
	bool wild = false;
	enum hash_alg alg;
	struct hash_entry *h;
	size_t bad, nlen;
	uint32_t sig = 0;
	vg_status rc;

	*counted = false;
	if (len == 0)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, 0,
				  "empty line (ClamAV rejects blank lines; delete it or make it a '#' comment)");
	if (nf < 3)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, (uint32_t)len,
				  "expected HASH:SIZE:NAME[:MINFL[:MAXFL]], found %zu field(s)", nf);
	if (nf > 5)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[5].col - 1,
				  "too many fields (at most 5: HASH:SIZE:NAME:MINFL:MAXFL)");
	if (nf > 3) {
		minfl = atoi_like(&f[3]);
		if (minfl > s->flevel || (nf == 5 && atoi_like(&f[4]) < s->flevel)) {
			db->skipped++;
			return VG_OK;
		}
	}
	if (field_eq(&f[1], "*")) {
		wild = true;
		if (nf < 4 || minfl < 73)
			return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[1].col,
					  "size '*' needs a minimum FLEVEL of at least 73 in field 4 "
					  "(e.g. HASH:*:NAME:73)");
	} else if (!field_u64(&f[1], &size) || size == 0 || size >= 0xffffffffu) {
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[1].col,
				  "bad file size '%.*s': expected a decimal number from 1 to 4294967294 or '*'",
				  (int)(f[1].len > 40 ? 40 : f[1].len), f[1].s);
	}
	nlen = name_len(&f[2]);
	if (kind == HASHFILE_SIG && sigdb_ignored(s, f[2].s, nlen, line, len)) {
		db->skipped++;
		return VG_OK;
	}
	if (nlen == 0)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[2].col, "empty signature name");
	if (!hash_alg_from_hexlen(f[0].len, &alg))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[0].col,
				  "hash of %zu hex digits: expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256)",
				  f[0].len);
	h = vec_push(kind == HASHFILE_FP ? &s->fps : &s->hashes);
	if (!h)
		return VG_ENOMEM;
	if (!hex_decode(f[0].s, f[0].len, h->digest, &bad)) {
		(kind == HASHFILE_FP ? &s->fps : &s->hashes)->n--;
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[0].col + (uint32_t)bad,
				  "bad hex digit '%c' in hash", f[0].s[bad]);
	}
	h->alg = (uint8_t)alg;
	h->wild = wild;
	h->size = size;
	if (kind == HASHFILE_SIG) {
		static const uint8_t kinds[HASH_NALGS] = {VG_SIG_MD5, VG_SIG_SHA1, VG_SIG_SHA256};
		rc = sigdb_add_sig(s, t, f[2].s, nlen, kinds[alg], &sig);
		if (rc != VG_OK) {
			s->hashes.n--;
			return rc;
		}
		/* re-fetch: sigdb_add_sig does not move s->hashes, but be explicit */
		/* the index stores name offsets: they order signatures as loaded */
		VEC_AT(&s->hashes, struct hash_entry, s->hashes.n - 1)->value =
			VEC_AT(&s->sigs, struct sig, sig)->name;
		*counted = true;
	}
	return VG_OK;
}

vg_status sigdb_load_hash(struct sigset *s, const struct db_text *t, enum hash_file_kind kind)
{
	return sigdb_each_line(s, t, false, load_line, &kind);
}
