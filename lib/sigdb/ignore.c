/* Ignore lists. .ign2: Name[:MD5]; legacy .ign: DBName:LineNo:Name. A name
 * is ignored on exact match; with an MD5, only while the MD5 of the whole
 * database line (without its line end) still equals it, so the ignore lapses
 * when the signature is changed. */
#include <stdlib.h>
#include <string.h>

#include "sigdb/sigdb.h"

static int cmp_name(const char *a, const char *b, size_t blen)
{
	int c = strncmp(a, b, blen);

	if (c)
		return c;
	return a[blen] != '\0';
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct ignore_entry *a = pa, *b = pb;
	return strcmp(a->name, b->name);
}

bool sigdb_ignored(const struct sigset *s, const char *name, size_t name_len, const char *line,
		   size_t line_len)
{
	const struct ignore_entry *e = s->ignores.items;
	size_t lo = 0, hi = s->ignores.n;
	uint8_t md5[16];
	bool have_md5 = false;

	/* entries are sorted by name (sigdb_load_ign); find the first equal one */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_name(e[mid].name, name, name_len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->ignores.n && cmp_name(e[lo].name, name, name_len) == 0; lo++) {
		if (!e[lo].has_md5)
			return true;
		if (!have_md5) {
			if (digest_once(HASH_MD5, line, line_len, md5) != VG_OK)
				continue;
			have_md5 = true;
		}
		if (memcmp(md5, e[lo].md5, 16) == 0)
			return true;
	}
	return false;
}

static vg_status load_line(struct sigset *s, const struct db_text *t, const char *line,
			   size_t len, uint32_t lineno, void *arg, bool *counted)
{
	struct field f[4];
	size_t nf = fields_split(line, len, ':', f, 4), bad;
	const struct field *name, *md5 = NULL;
	struct ignore_entry *e;

	(void)arg;
	if (nf > 3)
		return sigdb_fail(s, VG_EFORMAT, t->path, lineno, f[3].col - 1,
				  "too many fields: expected NAME[:MD5] or DBNAME:LINE:NAME");
	if (nf == 3) {
		name = &f[2];
	} else {
		name = &f[0];
		if (nf == 2)
			md5 = &f[1];
	}
	e = vec_push(&s->ignores);
	if (!e)
		return VG_ENOMEM;
	if (md5) {
		if (md5->len != 32 || !hex_decode(md5->s, md5->len, e->md5, &bad)) {
			s->ignores.n--;
			return sigdb_fail(s, VG_EFORMAT, t->path, lineno, md5->col,
					  "bad MD5 '%.*s': expected 32 hex digits (the MD5 of the ignored signature's line)",
					  (int)(md5->len > 64 ? 64 : md5->len), md5->s);
		}
		e->has_md5 = true;
	}
	e->name = vg_strndup(name->s, name->len);
	if (!e->name) {
		s->ignores.n--;
		return VG_ENOMEM;
	}
	*counted = true;
	return VG_OK;
}

vg_status sigdb_load_ign(struct sigset *s, const struct db_text *t, bool legacy_ign)
{
	/* both forms are read by the same rules, as ClamAV does; an empty
	 * ignore list is fine */
	vg_status rc = sigdb_each_line(s, t, true, load_line, NULL);

	(void)legacy_ign;
	if (rc == VG_OK && s->ignores.n)
		qsort(s->ignores.items, s->ignores.n, sizeof(struct ignore_entry), cmp_entry);
	return rc;
}
