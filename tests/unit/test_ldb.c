/* sigdb: .ldb lines. What loads, what fails (with file:line:column) and what
 * is skipped follows clamscan 1.4.6 on the same lines (libclamav's
 * load_oneldb / lsigattribs / init_tdb order); what vigil cannot evaluate
 * yet is deferred and counted. The detections themselves are checked against
 * clamscan by tests/diff/ldb_diff.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "filetype/filetype.h"
#include "sigdb/sigdb.h"
#include "../support/tmpdb.h"

static vg_status load(struct fx *fx, const char *text)
{
	static int n;
	char name[32], path[512];

	snprintf(name, sizeof(name), "t%d.ldb", n++);
	assert_int_equal(tmpdb_write(fx->dir, name, text, path, sizeof(path)), 0);
	return sigset_load(&fx->set, path, true);
}

static const struct db_record *last_db(const struct fx *fx)
{
	return VEC_AT(&fx->set.dbs, struct db_record, fx->set.dbs.n - 1);
}

static const struct ldb_sig *ldb(const struct fx *fx, size_t i)
{
	return VEC_AT(&fx->set.ldbs, struct ldb_sig, i);
}

static const struct ldb_sub *sub(const struct fx *fx, const struct ldb_sig *l, uint32_t k)
{
	return VEC_AT(&fx->set.lsubs, struct ldb_sub, l->first_sub + k);
}

static void expect_bad(struct fx *fx, const char *line, const char *what)
{
	size_t sigs = fx->set.sigs.n, bodies = fx->set.bodies.n, ldbs = fx->set.ldbs.n,
	       subs = fx->set.lsubs.n;

	assert_int_equal(load(fx, line), VG_EFORMAT);
	if (!strstr(fx->set.error, what))
		fail_msg("'%s': error '%s' lacks '%s'", line, fx->set.error, what);
	assert_non_null(strstr(fx->set.error, ".ldb:"));
	/* all or nothing: the file added nothing */
	assert_int_equal(fx->set.sigs.n, sigs);
	assert_int_equal(fx->set.bodies.n, bodies);
	assert_int_equal(fx->set.ldbs.n, ldbs);
	assert_int_equal(fx->set.lsubs.n, subs);
}

static void target_description(void **state)
{
	struct fx *fx = *state;
	const struct ldb_sig *l;

	assert_int_equal(load(fx, "A;Target:0;0;414243\n"
				  "B;Engine:51-255,Target:1,FileSize:10-2000,EntryPoint:0-4096,"
				  "NumberOfSections:1-9;0&1;414243;444546\n"
				  "C;Engine:81-255,Container:CL_TYPE_ZIP,Target:0;0;414243\n"
				  "D;Engine:81-255,Target:0,Intermediates:CL_TYPE_ZIP>CL_TYPE_ANY>CL_TYPE_GZ;0;414243\n"
				  "E;Engine:51-255,Target:6,Container:CL_TYPE_ANY;0;414243\n"),
			 VG_OK);
	assert_int_equal(fx->set.ldbs.n, 5);
	assert_int_equal(last_db(fx)->signatures, 5);
	assert_string_equal(sigset_name(&fx->set, ldb(fx, 0)->sig), "A.UNOFFICIAL");
	l = ldb(fx, 1);
	assert_int_equal(l->target, 1);
	assert_true(l->has_fsize && l->has_ep && l->has_nos);
	assert_int_equal(l->fsize[0], 10);
	assert_int_equal(l->fsize[1], 2000);
	assert_int_equal(l->ep[1], 4096);
	assert_int_equal(l->nos[0], 1);
	assert_int_equal(l->nos[1], 9);
	assert_int_equal(l->nsubs, 2);
	assert_string_equal(l->expr, "0&1");
	l = ldb(fx, 2);
	assert_true(l->has_container);
	assert_string_equal(filetype_name((enum ftype)l->container), "CL_TYPE_ZIP");
	l = ldb(fx, 3);
	assert_int_equal(l->ninter, 3);
	assert_string_equal(filetype_name((enum ftype)l->inter[0]), "CL_TYPE_ZIP");
	assert_int_equal(l->inter[1], LDB_TYPE_ANY);
	assert_string_equal(filetype_name((enum ftype)l->inter[2]), "CL_TYPE_GZ");
	assert_int_equal(ldb(fx, 4)->container, LDB_TYPE_ANY);
}

static void subsignatures(void **state)
{
	struct fx *fx = *state;
	const struct ldb_sig *l;
	const struct ldb_sub *s;
	const struct body_sig *b;

	assert_int_equal(load(fx, "M;Engine:81-255,Target:0;0&1&2&3&4&5;"
				  "10,4:414243::i;EOF-20:616263::wa;6162636465::f;"
				  "0/ab[cd]e/gise;2(>>4#ib2#=80,<90);30:1&2/x+y/r\n"),
			 VG_OK);
	l = ldb(fx, 0);
	assert_int_equal(l->nsubs, 6);
	/* content: ::i one lower-case body; ::wa two (wide and ascii); ::f one */
	assert_int_equal(fx->set.bodies.n, 4);
	b = VEC_AT(&fx->set.bodies, struct body_sig, 0);
	assert_int_equal(b->lsub, l->first_sub + 1);
	assert_true(b->nocase);
	assert_int_equal(b->off.kind, SIG_OFF_ABS);
	assert_int_equal(b->off.n, 10);
	assert_int_equal(b->off.shift, 4);
	b = VEC_AT(&fx->set.bodies, struct body_sig, 1);
	assert_int_equal(b->lsub, l->first_sub + 2);
	assert_int_equal(b->off.kind, SIG_OFF_EOF);
	assert_int_equal(pattern_min_len(b->pat), 6); /* 610062006300 */
	b = VEC_AT(&fx->set.bodies, struct body_sig, 2);
	assert_int_equal(b->lsub, l->first_sub + 2);
	assert_int_equal(pattern_min_len(b->pat), 3);
	b = VEC_AT(&fx->set.bodies, struct body_sig, 3);
	assert_int_equal(b->lsub, l->first_sub + 3);
	assert_false(b->nocase);
	s = sub(fx, l, 3);
	assert_int_equal(s->kind, LSUB_PCRE);
	assert_string_equal(s->trigger, "0");
	assert_string_equal(s->regex, "ab[cd]e");
	assert_true(s->pcre_global && s->pcre_encompass && !s->pcre_rolling);
	s = sub(fx, l, 4);
	assert_int_equal(s->kind, LSUB_BCOMP);
	assert_int_equal(s->bc.ref, 2);
	assert_int_equal(s->bc.off, 4);
	assert_int_equal(s->bc.base, BCOMP_BIN);
	assert_int_equal(s->bc.little, 2); /* b: big-endian */
	assert_int_equal(s->bc.len, 2);
	assert_int_equal(s->bc.ncmp, 2);
	assert_int_equal(s->bc.cmp_op[1], '<');
	assert_int_equal(s->bc.cmp_val[1], 90);
	s = sub(fx, l, 5);
	assert_int_equal(s->kind, LSUB_PCRE);
	assert_string_equal(s->trigger, "1&2");
	assert_int_equal(s->off.kind, SIG_OFF_ABS);
	assert_int_equal(s->off.n, 30);
	assert_true(s->pcre_rolling);
	assert_false(l->always);
}

static void evaluated_always(void **state)
{
	struct fx *fx = *state;

	/* true with nothing matched: ClamAV evaluates it on every file */
	assert_int_equal(load(fx, "N;Target:0;0=0;414243\n"
				  "P;Engine:81-255,Target:0;1;414243;0=0/abc/\n"
				  "Q;Target:0;0>0;414243\n"),
			 VG_OK);
	assert_true(ldb(fx, 0)->always);
	assert_true(ldb(fx, 1)->always);
	assert_false(ldb(fx, 2)->always);
}

static void skipped_and_deferred(void **state)
{
	struct fx *fx = *state;

	/* skipped as ClamAV skips them (counted, not loaded) */
	assert_int_equal(load(fx, "S1;Engine:51-255,Target:0,Foo:1;0;414243\n"
				  "S2;Engine:51-255,Container:CL_TYPE_NOPE,Target:0;0;414243\n"
				  "S3;Engine:300-400,Target:0;0;414243\n"
				  "S4;Engine:1-100,Target:0;0;414243\n"
				  "S5;Target:15;0;414243\n"
				  "ok;Target:0;0;414243\n"),
			 VG_OK);
	assert_int_equal(last_db(fx)->skipped, 5);
	assert_int_equal(last_db(fx)->signatures, 1);
	assert_int_equal(fx->set.ldbs.n, 1);
	/* deferred: loaded by ClamAV, not evaluable by vigil yet */
	assert_int_equal(load(fx, "D1;Target:3;0;414243\n"
				  "D2;Target:7;0;414243\n"
				  "D3;Engine:51-255,Target:1,IconGroup1:foo;0;414243\n"
				  "D4;Engine:51-255,Target:0,HandlerType:CL_TYPE_ZIP;0;414243\n"
				  "D5;Engine:51-255,Target:0,Container:CL_TYPE_OOXML_WORD;0;414243\n"
				  "D6;Engine:51-255,Target:0;0&1;414243;${6-7}12$\n"
				  "D7;Engine:150-255,Target:0;0&1;414243;fuzzy_img#af2ad01ed42993c7\n"
				  "D8;Engine:51-255,Target:1;0;VI:414243\n"),
			 VG_OK);
	assert_int_equal(last_db(fx)->deferred, 8);
	assert_int_equal(last_db(fx)->signatures, 0);
	assert_int_equal(fx->set.ldbs.n, 1);
	assert_int_equal(fx->set.bodies.n, 1); /* nothing of the deferred ones kept */
	/* PUA: .ldu loads only with detect_pua */
	{
		char path[512];
		assert_int_equal(tmpdb_write(fx->dir, "p.ldu", "PUA.X;Target:0;0;414243\n", path, sizeof(path)), 0);
		assert_int_equal(sigset_load(&fx->set, path, false), VG_OK);
		assert_int_equal(fx->set.ldbs.n, 1);
	}
}

static void invalid_lines_fail(void **state)
{
	struct fx *fx = *state;

	expect_bad(fx, "A;Target:0;0\n", ":1:13: expected NAME;TARGET-DESCRIPTION;LOGICAL-EXPRESSION;SUBSIG0");
	expect_bad(fx, "\n", "empty line");
	expect_bad(fx, "A;Target:0;0&;414243\n", ":1:12: bad logical expression '0&': operator without a right operand");
	expect_bad(fx, "A;Target:0;(0;414243\n", "'(' without a matching ')'");
	expect_bad(fx, "A;Target:0;0);414243\n", "')' without a matching '('");
	expect_bad(fx, "A;Target:0;(0)=2;414243\n", "bad logical expression");
	expect_bad(fx, "A;Target:0;0>;414243\n", "missing number after");
	expect_bad(fx, "A;Target:0;x;414243\n", "expected a subsignature number");
	expect_bad(fx, "A;Target:0;0&2;414243;414243\n",
		   "uses subsignatures 0 to 2 (3 of them) but the line has 2");
	expect_bad(fx, "A;Target:0,Engine:51-255;0;414243\n", "Engine must be the first attribute");
	expect_bad(fx, "A;Engine:51;0;414243\n", "Engine needs a range MIN-MAX");
	expect_bad(fx, "A;Target:0,FileSize:10-20;0;414243\n", "need Engine first");
	expect_bad(fx, "A;Engine:40-255,Target:0,FileSize:10-20;0;414243\n", "minimum FLEVEL of at least 51");
	expect_bad(fx, "A;Engine:51-255,Target:0,FileSize:x-20;0;414243\n", ":1:35: FileSize needs a range");
	expect_bad(fx, "A;Engine:51-255;0;414243\n", "no Target");
	expect_bad(fx, "A;Target:x;0;414243\n", ":1:10: Target 'x' is not a number");
	expect_bad(fx, "A;Target;0;414243\n", ":1:3: attribute 'Target' has no ':'");
	expect_bad(fx, "A;Engine:51-255,Target:0,EntryPoint:0-10;0;414243\n",
		   "EntryPoint/NumberOfSections need Target 1 (PE), 6 (ELF) or 9");
	expect_bad(fx, "A;Engine:51-255,Target:0,IconGroup1:x;0;414243\n", "only supported in PE");
	expect_bad(fx, "A;Target:0;0;EP+10:414243\n", ":1:14: offset 'EP+10' is relative to an executable");
	expect_bad(fx, "A;Target:0;0;foo:414243\n", ":1:14: bad offset 'foo'");
	expect_bad(fx, "A;Target:0;0;4142zz\n", ":1:18: bad hex digit");
	expect_bad(fx, "A;Target:0;0;41\n", "too short");
	expect_bad(fx, "A;Target:0;0;414243::q\n", ":1:22: unknown subsignature modifier 'q'");
	expect_bad(fx, "A;Target:0;0;x4:414243\n", ":1:14: bad offset");
	expect_bad(fx, "A;Target:0;0;1:2:3:4:5\n", "found 5 ':'-separated fields");
	expect_bad(fx, "A;Target:0;0&1;414243;/abc/\n", "needs a trigger");
	expect_bad(fx, "A;Target:0;0&1;414243;0/abc\n", ":1:24: PCRE subsignature with one '/'");
	expect_bad(fx, "A;Target:0;0&1;414243;0/ab(c/\n", ":1:29: PCRE2 cannot compile the regex");
	expect_bad(fx, "A;Target:0;0&1;414243;1/abc/\n", "a trigger may only use earlier subsignatures");
	expect_bad(fx, "A;Target:0;0&1;414243;0/abc/q\n", ":1:29: unknown PCRE flag 'q'");
	expect_bad(fx, "A;Target:0;0&1;414243;0(>>x#ib2#=1)\n", "bad byte compare offset");
	expect_bad(fx, "A;Target:0;0&1;414243;0(>>2#ib3#=1)\n", "reads 1, 2, 4 or 8 bytes");
	expect_bad(fx, "A;Target:0;0&1;414243;0(>>2#zb3#=1)\n", "bad byte compare option");
	expect_bad(fx, "A;Target:0;0&1;414243;0(>>2#ib2#!1)\n", "bad byte compare comparison");
	expect_bad(fx, "A;Target:0;0&1;414243;0(>>2#ib2#=1,=2,=3)\n", "too many comparisons");
	expect_bad(fx, "A;Target:0;0&1;414243;0(>>2#ib2)\n", "odd number of hex digits"); /* one '#': content */
	expect_bad(fx, "A;Target:0;0&1;414243;5(>>2#ib2#=1#x)\n", "three '#'-separated fields");
	expect_bad(fx, "A;Target:0;0&1;414243;${6-7}40$\n", "bad macro subsignature");
	/* a prefilter-hostile pattern ClamAV refuses for target 0 */
	expect_bad(fx, "A;Target:0;0;41(4242|41414242)4343\n", "ClamAV cannot prefilter");
}

static void long_lines(void **state)
{
	struct fx *fx = *state;
	char *text = malloc(40000);
	size_t n;

	/* .ldb lines may be up to 32767 bytes (ClamAV's LSIG buffer) */
	n = (size_t)snprintf(text, 40000, "L;Target:0;0;");
	memset(text + n, 'a', 20000);
	memcpy(text + n, "41424344", 8);
	for (size_t i = n + 8; i < n + 20000; i += 2)
		memcpy(text + i, "45", 2);
	strcpy(text + n + 20000, "\n");
	assert_int_equal(load(fx, text), VG_OK);
	memset(text + n, '4', 33000);
	strcpy(text + n + 33000, "\n");
	expect_bad(fx, text, "line longer than 32767 bytes");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(target_description, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(subsignatures, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(evaluated_always, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(skipped_and_deferred, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(invalid_lines_fail, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(long_lines, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
