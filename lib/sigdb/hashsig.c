/* Hash databases. Whole files: .hdb .hsb .hdu .hsu (signatures) and .fp
 * .sfp (allow lists), HashHex:FileSize:Name[:MinFL[:MaxFL]]. PE sections:
 * .mdb .msb .mdu .msu, SectionSize:HashHex:Name[:MinFL[:MaxFL]]. PE import
 * tables: .imp, HashHex:TableSize:Name[:MinFL[:MaxFL]]. The digest
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
	const unsigned hf = kind == HASHFILE_MDB ? 1 : 0, sf = 1 - hf; /* hash, size fields */
	struct vec *dst = kind == HASHFILE_FP ? &s->fps
			  : kind == HASHFILE_MDB ? &s->sections
			  : kind == HASHFILE_IMP ? &s->imports
						 : &s->hashes;
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
				  "expected %s:NAME[:MINFL[:MAXFL]], found %zu field(s)",
				  kind == HASHFILE_MDB ? "SIZE:HASH" : "HASH:SIZE", nf);
	if (nf > 5)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[5].col - 1,
				  "too many fields (at most 5: %s:NAME:MINFL:MAXFL)",
				  kind == HASHFILE_MDB ? "SIZE:HASH" : "HASH:SIZE");
	if (nf > 3) {
		minfl = atoi_like(&f[3]);
		if (minfl > s->flevel || (nf == 5 && atoi_like(&f[4]) < s->flevel)) {
			db->skipped++;
			return VG_OK;
		}
	}
	if (field_eq(&f[sf], "*")) {
		wild = true;
		/* ClamAV exempts import hashes from the FLEVEL rule */
		if (kind != HASHFILE_IMP && (nf < 4 || minfl < 73))
			return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[sf].col,
					  "size '*' needs a minimum FLEVEL of at least 73 in field 4 "
					  "(e.g. %s:NAME:73)", kind == HASHFILE_MDB ? "*:HASH" : "HASH:*");
	} else if (!field_u64(&f[sf], &size) || size == 0 || size >= 0xffffffffu) {
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[sf].col,
				  "bad %s size '%.*s': expected a decimal number from 1 to 4294967294 or '*'",
				  kind == HASHFILE_MDB ? "section" : kind == HASHFILE_IMP ? "import table" : "file",
				  (int)(f[sf].len > 40 ? 40 : f[sf].len), f[sf].s);
	}
	nlen = name_len(&f[2]);
	if (kind != HASHFILE_FP && sigdb_ignored(s, f[2].s, nlen, line, len)) {
		db->skipped++;
		return VG_OK;
	}
	if (nlen == 0)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[2].col, "empty signature name");
	if (!hash_alg_from_hexlen(f[hf].len, &alg))
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[hf].col,
				  "hash of %zu hex digits: expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256)",
				  f[hf].len);
	h = vec_push(dst);
	if (!h)
		return VG_ENOMEM;
	if (!hex_decode(f[hf].s, f[hf].len, h->digest, &bad)) {
		dst->n--;
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[hf].col + (uint32_t)bad,
				  "bad hex digit '%c' in hash", f[hf].s[bad]);
	}
	h->alg = (uint8_t)alg;
	h->wild = wild;
	h->size = size;
	if (kind != HASHFILE_FP) {
		static const uint8_t kinds[HASH_NALGS] = {VG_SIG_MD5, VG_SIG_SHA1, VG_SIG_SHA256};
		uint8_t sk = kind == HASHFILE_MDB ? VG_SIG_PE_SECTION
			     : kind == HASHFILE_IMP ? VG_SIG_PE_IMPORT : kinds[alg];
		rc = sigdb_add_sig(s, t, f[2].s, nlen, sk, &sig);
		if (rc != VG_OK) {
			dst->n--;
			return rc;
		}
		/* the index stores name offsets: they order signatures as loaded */
		VEC_AT(dst, struct hash_entry, dst->n - 1)->value = VEC_AT(&s->sigs, struct sig, sig)->name;
		*counted = true;
	}
	return VG_OK;
}

vg_status sigdb_load_hash(struct sigset *s, const struct db_text *t, enum hash_file_kind kind)
{
	return sigdb_each_line(s, t, false, load_line, &kind);
}

vg_status sigdb_load_mdb(struct sigset *s, const struct db_text *t)
{
	return sigdb_load_hash(s, t, HASHFILE_MDB);
}

vg_status sigdb_load_imp(struct sigset *s, const struct db_text *t)
{
	return sigdb_load_hash(s, t, HASHFILE_IMP);
}
