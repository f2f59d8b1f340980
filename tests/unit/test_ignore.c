/* sigdb: .ign2 and .ign ignore lists and .fp allow lists at load time.
 * Semantics checked with clamscan 1.4.6: an exact name match ignores the
 * signature; with an MD5 it must equal the MD5 of the whole database line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sigdb/sigdb.h"
#include "../support/tmpdb.h"

#define LINE_A "Clam.Test.Body-Any:0:*:5b434c414d41565d"
/* md5 of LINE_A, computed with md5sum */
#define LINE_A_MD5 "08730bedd8f0f5c6a5e370e17de09fcc"

static void write_db(struct fx *fx, const char *name, const char *text)
{
	char path[512];
	assert_int_equal(tmpdb_write(fx->dir, name, text, path, sizeof(path)), 0);
}

static void ignore_by_name_and_md5(void **state)
{
	struct fx *fx = *state;

	/* in a folder, ignore lists load first whatever their names */
	write_db(fx, "a.ndb", LINE_A "\nOther:0:*:4142434445\nThird:0:*:4142434446\n");
	write_db(fx, "z.ign2", "Other\n" "Clam.Test.Body-Any:" LINE_A_MD5 "\n"
			       "Third:00000000000000000000000000000000\n");
	assert_int_equal(sigset_load(&fx->set, fx->dir, true), VG_OK);
	assert_int_equal(fx->set.sigs.n, 1);
	assert_string_equal(sigset_name(&fx->set, 0), "Third.UNOFFICIAL");
}

static void ignore_is_exact_name(void **state)
{
	struct fx *fx = *state;

	write_db(fx, "x.ign2", "Clam.Test\nClam.Test.Body-Any.UNOFFICIAL\n");
	write_db(fx, "a.ndb", LINE_A "\n");
	assert_int_equal(sigset_load(&fx->set, fx->dir, true), VG_OK);
	assert_int_equal(fx->set.sigs.n, 1);
}

static void legacy_ign_and_errors(void **state)
{
	struct fx *fx = *state;
	char path[512];

	assert_int_equal(tmpdb_write(fx->dir, "old.ign", "daily.ndb:12:Clam.Test.Body-Any\n", path,
				     sizeof(path)), 0);
	assert_int_equal(sigset_load(&fx->set, path, true), VG_OK);
	assert_int_equal(tmpdb_write(fx->dir, "b.ndb", LINE_A "\n", path, sizeof(path)), 0);
	assert_int_equal(sigset_load(&fx->set, path, true), VG_OK);
	assert_int_equal(fx->set.sigs.n, 0);

	assert_int_equal(tmpdb_write(fx->dir, "bad.ign2", "A:B:C:D\n", path, sizeof(path)), 0);
	assert_int_equal(sigset_load(&fx->set, path, true), VG_EFORMAT);
	assert_non_null(strstr(fx->set.error, "bad.ign2:1:"));
	assert_int_equal(tmpdb_write(fx->dir, "bad2.ign2", "A:1234\n", path, sizeof(path)), 0);
	assert_int_equal(sigset_load(&fx->set, path, true), VG_EFORMAT);
	assert_non_null(strstr(fx->set.error, "bad MD5"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ignore_by_name_and_md5, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(ignore_is_exact_name, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(legacy_ign_and_errors, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
