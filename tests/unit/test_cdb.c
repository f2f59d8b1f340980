/* sigdb: .cdb lines. What loads, fails (file:line:column) or is skipped
 * follows clamscan 1.4.6 (libclamav cli_loadcdb); the matching itself is
 * checked against clamscan by tests/diff/cdb_diff.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "filetype/filetype.h"
#include "sigdb/sigdb.h"
#include "../support/tmpdb.h"

static vg_status load(struct fx *fx, const char *text)
{
	static int n;
	char name[32], path[512];

	snprintf(name, sizeof(name), "t%d.cdb", n++);
	assert_int_equal(tmpdb_write(fx->dir, name, text, path, sizeof(path)), 0);
	return sigset_load(&fx->set, path, true);
}

static void expect_bad(struct fx *fx, const char *line, const char *what)
{
	size_t sigs = fx->set.sigs.n, cdbs = fx->set.cdbs.n;

	assert_int_equal(load(fx, line), VG_EFORMAT);
	if (!strstr(fx->set.error, what))
		fail_msg("'%s': error '%s' lacks '%s'", line, fx->set.error, what);
	assert_non_null(strstr(fx->set.error, ".cdb:"));
	assert_int_equal(fx->set.sigs.n, sigs);
	assert_int_equal(fx->set.cdbs.n, cdbs);
}

static void fields(void **state)
{
	struct fx *fx = *state;
	const struct cdb_sig *c;
	const struct db_record *db;

	assert_int_equal(load(fx, "A:CL_TYPE_ZIP:100-400:clam\\.exe:*:544:0:1:*:*\n"
				  "B:*:*:*:*:*:*:*:*:*\n"
				  "C:CL_TYPE_RAR:*:*:*:*:1:2-5:*:*:51:255\n"
				  "D:*:*:*:*:*:*:*:*:*:300\n"           /* FLEVEL: skipped */
				  "E:*:*:*:10-20:*:*:*:*:*\n"           /* compressed size: deferred */
				  "F:CL_TYPE_OOXML_WORD:*:*:*:*:*:*:*:*\n"), /* type vigil does not produce */
			 VG_OK);
	assert_int_equal(fx->set.cdbs.n, 3);
	c = VEC_AT(&fx->set.cdbs, struct cdb_sig, 0);
	assert_string_equal(filetype_name((enum ftype)c->ctype), "CL_TYPE_ZIP");
	assert_int_equal(c->csize[0], 100);
	assert_int_equal(c->csize[1], 400);
	assert_string_equal(c->name_re, "clam\\.exe");
	assert_int_equal(c->fsize[0], 544);
	assert_int_equal(c->encrypted, 0);
	assert_int_equal(c->filepos[1], 1);
	c = VEC_AT(&fx->set.cdbs, struct cdb_sig, 1);
	assert_int_equal(c->ctype, LDB_TYPE_ANY);
	assert_null(c->name_re);
	assert_int_equal(c->encrypted, 2);
	assert_int_equal(c->csize[0], CDB_ANY);
	c = VEC_AT(&fx->set.cdbs, struct cdb_sig, 2);
	assert_int_equal(c->filepos[0], 2);
	assert_int_equal(c->filepos[1], 5);
	db = VEC_AT(&fx->set.dbs, struct db_record, fx->set.dbs.n - 1);
	assert_int_equal(db->signatures, 3);
	assert_int_equal(db->skipped, 1);
	assert_int_equal(db->deferred, 2);
	assert_string_equal(sigset_name(&fx->set, 0), "A.UNOFFICIAL");
}

static void invalid_lines_fail(void **state)
{
	struct fx *fx = *state;

	expect_bad(fx, "A:*:*:*:*:*:*:*:*\n", "found 9 field(s)");
	expect_bad(fx, "A:*:*:*:*:*:*:*:*:*:1:2:3\n", "found 13 field(s)");
	expect_bad(fx, "A:CL_TYPE_NOPE:*:*:*:*:*:*:*:*\n", ":1:3: unknown container type 'CL_TYPE_NOPE'");
	expect_bad(fx, "A:*:x:*:*:*:*:*:*:*\n", ":1:5: bad container size 'x'");
	expect_bad(fx, "A:*:*:*:*:5-:*:*:*:*\n", ":1:11: bad file size '5-'");
	expect_bad(fx, "A:*:*:*:*:*:*:-3:*:*\n", "bad file position");
	expect_bad(fx, "A:*:*:*:*:*:2:*:*:*\n", ":1:13: bad encryption flag '2'");
	expect_bad(fx, "A:*:*:a(b:*:*:*:*:*:*\n", ":1:7: bad file name regex");
	expect_bad(fx, "A:*:*:*:*:*:*:*:*:*:x\n", "FLEVEL fields must be numbers");
	expect_bad(fx, ":*:*:*:*:*:*:*:*:*\n", "empty signature name");
	expect_bad(fx, "\n", "empty line");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fields, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(invalid_lines_fail, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
