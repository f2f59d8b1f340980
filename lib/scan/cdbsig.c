/* Container metadata signatures (.cdb): matched against each entry of a
 * container before the entry is scanned, as libclamav's cli_matchmeta does
 * for the archive types that call it, and reported in its order (the last
 * loaded first). */
#include <regex.h>

#include "scan/scan_db.h"

static bool in(uint32_t const r[2], uint64_t v)
{
	return r[0] == CDB_ANY || (v >= r[0] && v <= r[1]);
}

vg_status cdb_match(const struct scan_db *db, const struct cdb_entry *e, lsig_found_fn *found,
		    void *ctx)
{
	const regex_t *re = db->cdb_re;

	/* libclamav keeps them in a list it prepends to: the last loaded first */
	for (size_t i = db->ncdbs; i-- > 0;) {
		const struct img_cdb *c = &db->cdbs[i];
		vg_status rc;

		if (c->ctype != LDB_TYPE_ANY && c->ctype != e->ctype)
			continue;
		if (!in(c->csize, e->csize) || !in(c->fsize, e->size) || !in(c->filepos, e->pos))
			continue;
		if (c->encrypted != 2 && c->encrypted != (e->encrypted ? 1 : 0))
			continue;
		if (c->re != UINT32_MAX && (!e->name || regexec(&re[i], e->name, 0, NULL, 0) != 0))
			continue;
		rc = found(ctx, (uint32_t)i);
		if (rc != VG_OK)
			return rc;
	}
	return VG_OK;
}
