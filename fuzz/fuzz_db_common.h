/* Feeds fuzzer bytes to one database loader as the text of a file. */
#ifndef VG_FUZZ_DB_COMMON_H
#define VG_FUZZ_DB_COMMON_H

#include <string.h>

#include "fuzz.h"
#include "sigdb/sigdb.h"

static inline void fuzz_load_text(const uint8_t *data, size_t size, int kind)
{
	struct sigset s;
	struct db_record *rec;
	struct db_text t;

	sigset_init(&s, VG_FLEVEL, true, NULL);
	rec = vec_push(&s.dbs);
	if (!rec)
		goto out;
	t.path = "fuzz";
	t.text = (const char *)data;
	t.len = size;
	t.db = 0;
	t.official = false;
	if (kind == 0)
		(void)sigdb_load_ndb(&s, &t);
	else if (kind == 1)
		(void)sigdb_load_hash(&s, &t, HASHFILE_SIG);
	else
		(void)sigdb_load_ign(&s, &t, false);
out:
	sigset_free(&s);
}

#endif
