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
	/* VI and macros wait for later issues; every target loads, kept */
	assert_int_equal(load(fx, "E:1:EP+0:" CLAMAV_TAG "\n"
				  "F:1:*:5b43\n" /* Aho-Corasick on PE: 2 bytes are enough */
				  "G:6:SE0:" CLAMAV_TAG "\n"
				  "H:2:*:" CLAMAV_TAG "\n"
				  "I:1:VI:" CLAMAV_TAG "\n"
				  "J:0:$1$:" CLAMAV_TAG "\n"
				  "K:9:S1+20,4:" CLAMAV_TAG "\n"
				  "L:14:EOF-4:" CLAMAV_TAG "\n"),
			 VG_OK);
	assert_int_equal(last_db(fx)->deferred, 2);
	assert_int_equal(last_db(fx)->signatures, 6);
	assert_int_equal(fx->set.sigs.n, 7);
	assert_int_equal(VEC_AT(&fx->set.bodies, struct body_sig, 4)->target, 2);
	assert_int_equal(VEC_AT(&fx->set.bodies, struct body_sig, 6)->target, 14);
	assert_int_equal(VEC_AT(&fx->set.bodies, struct body_sig, 6)->off.kind, SIG_OFF_EOF);
}

static void executable_offsets_parse(void **state)
{
	struct fx *fx = *state;
	const struct body_sig *b;
	static const struct {
		const char *line;
		uint8_t target, kind;
		uint32_t section;
		uint64_t n, shift;
		bool floating;
	} want[] = {
		{"A:1:EP+0:" CLAMAV_TAG, 1, SIG_OFF_EP_PLUS, 0, 0, 0, false},
		{"A:1:EP+4096,16:" CLAMAV_TAG, 1, SIG_OFF_EP_PLUS, 0, 4096, 16, true},
		{"A:6:EP-12:" CLAMAV_TAG, 6, SIG_OFF_EP_MINUS, 0, 12, 0, false},
		{"A:9:EP+:" CLAMAV_TAG, 9, SIG_OFF_EP_PLUS, 0, 0, 0, false}, /* "" counts as 0 */
		{"A:1:S2+100:" CLAMAV_TAG, 1, SIG_OFF_SX, 2, 100, 0, false},
		{"A:6:S0+0,0:" CLAMAV_TAG, 6, SIG_OFF_SX, 0, 0, 0, true},
		{"A:1:SE3:" CLAMAV_TAG, 1, SIG_OFF_SE, 3, 0, 0, false},
		{"A:9:SE1,20:" CLAMAV_TAG, 9, SIG_OFF_SE, 1, 0, 20, true},
		{"A:1:SE:" CLAMAV_TAG, 1, SIG_OFF_SE, 0, 0, 0, false},
		{"A:1:SL+7:" CLAMAV_TAG, 1, SIG_OFF_SL, 0, 7, 0, false},
		{"A:6:SL+0,9:" CLAMAV_TAG, 6, SIG_OFF_SL, 0, 0, 9, true},
		{"A:1:*:" CLAMAV_TAG, 1, SIG_OFF_ANY, 0, 0, 0, false},
		/* sscanf("S%u+%u") lets these through, and so do we */
		{"A:1:S1+5x:" CLAMAV_TAG, 1, SIG_OFF_SX, 1, 5, 0, false},
		{"A:1:S 2+ 6:" CLAMAV_TAG, 1, SIG_OFF_SX, 2, 6, 0, false},
		{"A:9:EOF-10:" CLAMAV_TAG, 9, SIG_OFF_EOF, 0, 10, 0, false},
	};

	for (size_t i = 0; i < VG_ARRAY_LEN(want); i++) {
		char text[256];
		snprintf(text, sizeof(text), "%s\n", want[i].line);
		if (load(fx, text) != VG_OK)
			fail_msg("'%s': %s", want[i].line, fx->set.error);
		b = VEC_AT(&fx->set.bodies, struct body_sig, fx->set.bodies.n - 1);
		assert_int_equal(fx->set.bodies.n, i + 1);
		assert_int_equal(b->target, want[i].target);
		assert_int_equal(b->off.kind, want[i].kind);
		assert_int_equal(b->off.section, want[i].section);
		assert_int_equal(b->off.n, want[i].n);
		assert_int_equal(b->off.shift, want[i].shift);
		assert_int_equal(b->off.floating, want[i].floating);
	}
	/* what ClamAV refuses */
	expect_bad(fx, "A:1:S1+:" CLAMAV_TAG "\n", "bad offset 'S1+'");
	expect_bad(fx, "A:1:S+4:" CLAMAV_TAG "\n", "bad offset 'S+4'");
	expect_bad(fx, "A:1:S1:" CLAMAV_TAG "\n", "bad offset 'S1'");
	expect_bad(fx, "A:1:SE1+5:" CLAMAV_TAG "\n", "bad offset 'SE1+5'");
	expect_bad(fx, "A:1:EP+x:" CLAMAV_TAG "\n", "bad offset 'EP+x'");
	expect_bad(fx, "A:6:EP*4:" CLAMAV_TAG "\n", "bad offset 'EP*4'");
	expect_bad(fx, "A:1:SL+1,x:" CLAMAV_TAG "\n", "bad offset");
	expect_bad(fx, "A:2:EP+0:" CLAMAV_TAG "\n", "needs target 1 (PE), 6 (ELF) or 9");
	expect_bad(fx, "A:7:SL+0:" CLAMAV_TAG "\n", "not 7");
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
		cmocka_unit_test_setup_teardown(executable_offsets_parse, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(invalid_lines_fail, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
