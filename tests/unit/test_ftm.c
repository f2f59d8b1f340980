/* sigdb: .ftm lines (libclamav cli_loadftm), and the typer they feed. */
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

	snprintf(name, sizeof(name), "t%d.ftm", n++);
	assert_int_equal(tmpdb_write(fx->dir, name, text, path, sizeof(path)), 0);
	return sigset_load(&fx->set, path, true);
}

static void expect_bad(struct fx *fx, const char *line, const char *what)
{
	size_t n = fx->set.ftms.n;

	assert_int_equal(load(fx, line), VG_EFORMAT);
	if (!strstr(fx->set.error, what))
		fail_msg("'%s': error '%s' lacks '%s'", line, fx->set.error, what);
	assert_non_null(strstr(fx->set.error, ".ftm"));
	assert_int_equal(fx->set.ftms.n, n);
}

static void entries(void **state)
{
	struct fx *fx = *state;
	const struct ftm_sig *m;
	const struct db_record *db;

	assert_int_equal(load(fx, "0:0:504b0304:ZIP:CL_TYPE_ANY:CL_TYPE_ZIP\n"
				  "0:4:5a51:Mine:CL_TYPE_ANY:CL_TYPE_MSEXE:51:255\n"
				  "1:*:5a5158:Body:CL_TYPE_ANY:CL_TYPE_ZIP\n"           /* deferred */
				  "4:0:55aa:Part:CL_TYPE_ANY:CL_TYPE_MBR\n"             /* deferred */
				  "0:0:4142:X:CL_TYPE_ANY:CL_TYPE_OOXML_WORD\n"         /* deferred */
				  "2:0:4142:Mode 2:CL_TYPE_ANY:CL_TYPE_ZIP\n"           /* skipped, as ClamAV */
				  "0:0:4142:New:CL_TYPE_ANY:CL_TYPE_ZIP:300\n"),         /* FLEVEL */
			 VG_OK);
	assert_int_equal(fx->set.ftms.n, 2);
	m = VEC_AT(&fx->set.ftms, struct ftm_sig, 1);
	assert_int_equal(m->offset, 4);
	assert_int_equal(m->len, 2);
	assert_memory_equal(m->bytes, "ZQ", 2);
	assert_int_equal(m->type, FT_MSEXE);
	db = VEC_AT(&fx->set.dbs, struct db_record, fx->set.dbs.n - 1);
	assert_int_equal(db->deferred, 3);
	assert_int_equal(db->skipped, 2);
}

static void typer(void **state)
{
	static const uint8_t pe[] = "\x01\x02\x03\x04ZQrest";
	static const uint8_t zip[] = "PK\x03\x04....";
	struct ftm_magic m[2] = {
		{4, 2, (const uint8_t *)"ZQ", FT_ELF},
		{0, 4, (const uint8_t *)"PK\x03\x04", FT_BINARY},
	};

	(void)state;
	assert_int_equal(filetype_detect_with(m, 2, pe, sizeof(pe) - 1), FT_ELF);
	assert_int_equal(filetype_detect_with(m, 2, zip, sizeof(zip) - 1), FT_BINARY);
	assert_int_equal(filetype_detect_with(m, 0, zip, sizeof(zip) - 1), FT_ZIP);
	/* an entry past the data does not match */
	assert_int_equal(filetype_detect_with(m, 1, pe, 5), filetype_detect(pe, 5));
}

static void invalid_lines_fail(void **state)
{
	struct fx *fx = *state;

	expect_bad(fx, "0:0:4142:X:CL_TYPE_ANY\n", "found 5 field(s)");
	expect_bad(fx, "0:0:4142:X:CL_TYPE_NOPE:CL_TYPE_ZIP\n", ":1:12: unknown required type");
	expect_bad(fx, "0:0:4142:X:CL_TYPE_ANY:ZIP\n", ":1:24: unknown detected type 'ZIP'");
	expect_bad(fx, "x:0:4142:X:CL_TYPE_ANY:CL_TYPE_ZIP\n", ":1:1: magic type 'x' is not a number");
	expect_bad(fx, "0:a:4142:X:CL_TYPE_ANY:CL_TYPE_ZIP\n", ":1:3: bad offset 'a'");
	expect_bad(fx, "0:0:414:X:CL_TYPE_ANY:CL_TYPE_ZIP\n", "even number of hex digits");
	expect_bad(fx, "0:0:41zz:X:CL_TYPE_ANY:CL_TYPE_ZIP\n", ":1:7: bad hex digit 'z'");
	expect_bad(fx, "1:*:41zz:X:CL_TYPE_ANY:CL_TYPE_ZIP\n", "bad hex digit");
	expect_bad(fx, "0:0:4142:X:CL_TYPE_ANY:CL_TYPE_ZIP:x\n", "FLEVEL fields must be numbers");
	expect_bad(fx, "2:0:4142:X:CL_TYPE_ANY:CL_TYPE_ZIP\n", "no file type signature in the file");
	expect_bad(fx, "# only a comment\n", "no file type signature in the file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(entries, fx_setup, fx_teardown),
		cmocka_unit_test(typer),
		cmocka_unit_test_setup_teardown(invalid_lines_fail, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
