/* sigdb: .ndb lines. Expected outcomes were taken from clamscan 1.4.6 on the
 * same lines (see docs/internals/body-patterns.md for the pattern grammar,
 * covered by test_pattern). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sigdb/sigdb.h"
#include "../support/tmpdb.h"

#define CLAMAV_TAG "5b434c414d41565d" /* "[CLAMAV]", at offset 504 of clam.exe */

static vg_status load(struct fx *fx, const char *text)
{
	static int n;
	char name[32], path[512];

	snprintf(name, sizeof(name), "t%d.ndb", n++);
	assert_int_equal(tmpdb_write(fx->dir, name, text, path, sizeof(path)), 0);
	return sigset_load(&fx->set, path, true);
}

static const struct db_record *last_db(const struct fx *fx)
{
	return VEC_AT(&fx->set.dbs, struct db_record, fx->set.dbs.n - 1);
}

static void expect_bad(struct fx *fx, const char *line, const char *what)
{
	size_t sigs = fx->set.sigs.n, bodies = fx->set.bodies.n;

	assert_int_equal(load(fx, line), VG_EFORMAT);
	if (!strstr(fx->set.error, what))
		fail_msg("'%s': error '%s' lacks '%s'", line, fx->set.error, what);
	assert_non_null(strstr(fx->set.error, ".ndb:"));
	assert_int_equal(fx->set.sigs.n, sigs);
	assert_int_equal(fx->set.bodies.n, bodies);
}

static void offsets_parse(void **state)
{
	struct fx *fx = *state;
	const struct body_sig *b;

	assert_int_equal(load(fx, "A:0:*:" CLAMAV_TAG "\n"
				  "B:*:504:" CLAMAV_TAG "\n"
				  "C:0:500,4:" CLAMAV_TAG "\n"
				  "D::EOF-40,2:" CLAMAV_TAG "\n"
				  "E:0:EOF-:" CLAMAV_TAG "\n"
				  "F:0::" CLAMAV_TAG "\n"
				  "G:0:504,4294967296:" CLAMAV_TAG "\n"),
			 VG_OK);
	assert_int_equal(fx->set.bodies.n, 7);
	b = VEC_AT(&fx->set.bodies, struct body_sig, 0);
	assert_int_equal(b->off.kind, SIG_OFF_ANY);
	b = VEC_AT(&fx->set.bodies, struct body_sig, 1);
	assert_int_equal(b->off.kind, SIG_OFF_ABS);
	assert_int_equal(b->off.n, 504);
	b = VEC_AT(&fx->set.bodies, struct body_sig, 2);
	assert_int_equal(b->off.n, 500);
	assert_int_equal(b->off.shift, 4);
	b = VEC_AT(&fx->set.bodies, struct body_sig, 3);
	assert_int_equal(b->off.kind, SIG_OFF_EOF);
	assert_int_equal(b->off.n, 40);
	assert_int_equal(b->off.shift, 2);
	b = VEC_AT(&fx->set.bodies, struct body_sig, 4);
	assert_int_equal(b->off.kind, SIG_OFF_EOF);
	assert_int_equal(b->off.n, 0);
	b = VEC_AT(&fx->set.bodies, struct body_sig, 5);
	assert_int_equal(b->off.kind, SIG_OFF_ABS);
	assert_int_equal(b->off.n, 0);
	b = VEC_AT(&fx->set.bodies, struct body_sig, 6);
	assert_int_equal(b->off.shift, 4294967296ull);
	assert_string_equal(sigset_name(&fx->set, 0), "A.UNOFFICIAL");
}

static void skipped_and_deferred(void **state)
{
	struct fx *fx = *state;

	/* FLEVEL gates come before validation: a garbage pattern is skipped */
	assert_int_equal(load(fx, "A:0:*:zz:217\n"
				  "B:0:*:" CLAMAV_TAG "::\n"   /* max FLEVEL "" = 0 */
				  "C:15:*:" CLAMAV_TAG "\n"    /* unknown target */
				  "D:0:*:" CLAMAV_TAG ":0:216\n"),
			 VG_OK);
	assert_int_equal(fx->set.sigs.n, 1);
	assert_int_equal(last_db(fx)->skipped, 3);
	/* executable targets and offsets, VI and macros wait for later issues;
	 * the other targets load with their target kept */
	assert_int_equal(load(fx, "E:1:EP+0:" CLAMAV_TAG "\n"
				  "F:1:*:5b43\n"
				  "G:6:SE0:" CLAMAV_TAG "\n"
				  "H:2:*:" CLAMAV_TAG "\n"
				  "I:1:VI:" CLAMAV_TAG "\n"
				  "J:0:$1$:" CLAMAV_TAG "\n"
				  "K:9:S1+20,4:" CLAMAV_TAG "\n"
				  "L:14:EOF-4:" CLAMAV_TAG "\n"),
			 VG_OK);
	assert_int_equal(last_db(fx)->deferred, 6);
	assert_int_equal(fx->set.sigs.n, 3);
	assert_int_equal(VEC_AT(&fx->set.bodies, struct body_sig, 1)->target, 2);
	assert_int_equal(VEC_AT(&fx->set.bodies, struct body_sig, 2)->target, 14);
	assert_int_equal(VEC_AT(&fx->set.bodies, struct body_sig, 2)->off.kind, SIG_OFF_EOF);
}

static void invalid_lines_fail(void **state)
{
	struct fx *fx = *state;

	expect_bad(fx, "A:0:*:" CLAMAV_TAG "\n\n", ":2:1: empty line");
	expect_bad(fx, "A:0:*\n", "found 3 field");
	expect_bad(fx, "A:0:*:" CLAMAV_TAG ":1:2:3\n", "found 7 field");
	expect_bad(fx, "A:x:*:" CLAMAV_TAG "\n", ":1:3: bad target type 'x'");
	expect_bad(fx, "A:0:*:" CLAMAV_TAG ":abc\n", "minimum FLEVEL 'abc'");
	expect_bad(fx, ":0:*:" CLAMAV_TAG "\n", "empty signature name");
	expect_bad(fx, "A:0:foo:" CLAMAV_TAG "\n", ":1:5: bad offset 'foo'");
	expect_bad(fx, "A:0:*,5:" CLAMAV_TAG "\n", "bad offset '*,5'");
	expect_bad(fx, "A:0:-5:" CLAMAV_TAG "\n", "bad offset '-5'");
	expect_bad(fx, "A:0:504x:" CLAMAV_TAG "\n", "bad offset");
	expect_bad(fx, "A:0:EOF-x:" CLAMAV_TAG "\n", "bad offset");
	expect_bad(fx, "A:0:EOF-5,x:" CLAMAV_TAG "\n", "bad offset");
	expect_bad(fx, "A:0:$40$:" CLAMAV_TAG "\n", "bad offset");
	expect_bad(fx, "A:0:EP+0:" CLAMAV_TAG "\n", "needs target 1 (PE), 6 (ELF) or 9");
	expect_bad(fx, "A:0:S0+1:" CLAMAV_TAG "\n", "needs target 1");
	expect_bad(fx, "A:0:VI:" CLAMAV_TAG "\n", "needs target 1");
	/* plain patterns go to ClamAV's Boyer-Moore matcher, which needs 3 bytes */
	expect_bad(fx, "A:0:*:5b43\n", "too short");
	expect_bad(fx, "A:1:10:5b43\n", "too short");
	/* pattern errors carry the column inside the line */
	expect_bad(fx, "A:0:*:5b434z\n", ":1:12: bad hex digit");
	expect_bad(fx, "", "empty database file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(offsets_parse, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(skipped_and_deferred, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(invalid_lines_fail, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
