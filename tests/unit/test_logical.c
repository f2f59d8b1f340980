/* The logical-signature evaluator: ClamAV's expression grouping and counts
 * (libclamav cli_ac_chklsig semantics; the same expressions are checked
 * against clamscan end to end by tests/diff/ldb_diff.py), byte compare, and
 * the per-layer evaluation of the target description block with executable
 * information filled in by hand (lib/exe is parsed elsewhere). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan_db.h"
#include "../support/tmpdb.h"

static int eval(const char *expr, uint32_t c0, uint32_t c1, uint32_t c2)
{
	uint32_t counts[LOGICAL_MAX_SUBS] = {c0, c1, c2};
	const char *why = NULL;

	assert_true(logical_check(expr, strlen(expr), &why) >= 0);
	return logical_eval(expr, strlen(expr), counts);
}

static void grouping(void **state)
{
	(void)state;
	/* no precedence: the first top-level operator splits, 0&1|2 = 0&(1|2) */
	assert_int_equal(eval("0&1|2", 0, 0, 1), 0);
	assert_int_equal(eval("0&1|2", 1, 0, 1), 1);
	assert_int_equal(eval("0|1&2", 1, 0, 0), 1);
	/* a block splits at its last inner operator: (0&1|2) = (0&1)|2 */
	assert_int_equal(eval("(0&1|2)", 0, 0, 1), 1);
	assert_int_equal(eval("(0|1)&2", 1, 0, 0), 0);
	assert_int_equal(eval("((0))", 1, 0, 0), 1);
}

static void counts(void **state)
{
	(void)state;
	assert_int_equal(eval("0", 0, 0, 0), 0);
	assert_int_equal(eval("0", 3, 0, 0), 1);
	assert_int_equal(eval("0=0", 0, 0, 0), 1); /* negation */
	assert_int_equal(eval("0=0", 1, 0, 0), 0);
	assert_int_equal(eval("0=2", 2, 0, 0), 1); /* clam.exe's ".DLL" twice */
	assert_int_equal(eval("0>1", 2, 0, 0), 1);
	assert_int_equal(eval("0>1", 1, 0, 0), 0);
	assert_int_equal(eval("0<2", 0, 0, 0), 1);
	assert_int_equal(eval("0<2", 2, 0, 0), 0);
	assert_int_equal(eval("0>0,5", 1, 0, 0), 1); /* ",y" on one subsignature is ignored */
	/* a block counts the matches of its operands when it holds */
	assert_int_equal(eval("(0|1)>2", 2, 1, 0), 1);
	assert_int_equal(eval("(0|1)>2", 1, 1, 0), 0);
	assert_int_equal(eval("(0|1)=3", 3, 0, 0), 1);
	assert_int_equal(eval("(0&1)=0", 0, 5, 0), 1); /* false block: count 0 */
	/* ",y": at least y distinct subsignatures */
	assert_int_equal(eval("(0|1)>1,2", 3, 0, 0), 0);
	assert_int_equal(eval("(0|1)>1,2", 1, 1, 0), 1);
	/* "=0" contributes its subsignature to the distinct set, with count 0 */
	assert_int_equal(eval("(0=0|1)>0,1", 0, 0, 0), 0);
	assert_int_equal(eval("(0=0|1)=0,1", 0, 0, 0), 1);
	/* nested blocks */
	assert_int_equal(eval("((0|1)>1&2)=3", 1, 1, 1), 1);
	assert_int_equal(eval("((0|1)>1&2)=3", 2, 0, 1), 1);
	/* a block with a count passes its count up but not its subsignatures:
	 * only 2 is seen as distinct here, as in ClamAV */
	assert_int_equal(eval("((0|1)>1&2)=3,2", 1, 1, 1), 0);
	assert_int_equal(eval("((0|1)&2)=3,2", 1, 1, 1), 1);
}

static void checking(void **state)
{
	const char *why = NULL;
	char deep[2100];

	(void)state;
	assert_int_equal(logical_check("0&1|2", 5, &why), 2);
	assert_int_equal(logical_check("(3|1)>2,2&0", 11, &why), 3);
	assert_int_equal(logical_check("63", 2, &why), 63);
	assert_int_equal(logical_check("64", 2, &why), -1);
	assert_int_equal(logical_check("(0)=2", 5, &why), -1); /* as ClamAV */
	assert_int_equal(logical_check("", 0, &why), -1);
	assert_int_equal(logical_check("&0", 2, &why), -1);
	assert_non_null(strstr(why, "left operand"));
	assert_int_equal(logical_check("0|", 2, &why), -1);
	assert_int_equal(logical_check("(0", 2, &why), -1);
	assert_int_equal(logical_check("0)", 2, &why), -1);
	assert_int_equal(logical_check("0=", 2, &why), -1);
	assert_int_equal(logical_check("(0|1)=", 6, &why), -1);
	/* hostile nesting is refused, not a stack overflow */
	memset(deep, '(', 1000);
	deep[1000] = '0';
	memset(deep + 1001, ')', 1000);
	assert_int_equal(logical_check(deep, 2001, &why), -1);
	assert_non_null(strstr(why, "nested too deeply"));
}

static bool bc(const char *text, const void *data, size_t len, uint64_t ref)
{
	struct bcomp b;
	const char *why = NULL;
	size_t col = 0;

	if (!bcomp_parse(text, strlen(text), &b, &why, &col))
		fail_msg("%s: %s at %zu", text, why, col);
	return bcomp_check(&b, data, len, ref);
}

static void byte_compare(void **state)
{
	static const uint8_t mz[] = "MZP\0\x01\x02\x03\x04\x05\x06\x07\x08";
	static const uint8_t txt[] = "xxABCD 0x1f|123|  42|00ff|abc";

	(void)state;
	/* clamscan: 0(>>2#il2#=80) matches "MZP\0" (0x0050 little-endian), ib2 does not */
	assert_true(bc("0(>>2#il2#=80)", mz, 12, 0));
	assert_false(bc("0(>>2#ib2#=80)", mz, 12, 0));
	assert_true(bc("0(>>2#ib2#=20480)", mz, 12, 0));
	assert_true(bc("0(>>4#il4#=67305985)", mz, 12, 0));
	assert_true(bc("0(>>4#ib1#>0,<2)", mz, 12, 0));
	/* binary fields are unsigned (clamscan 1.4.6: ib1 on 0xff is =255, not =-1) */
	assert_true(bc("0(>>1#ib1#=90)", mz, 12, 0));
	assert_true(bc("0(>>1#ib1#=255)", "\x00\xff\x80", 3, 0));
	assert_false(bc("0(>>1#ib1#=-1)", "\x00\xff\x80", 3, 0));
	assert_true(bc("0(>>1#ib2#=65408)", "\x00\xff\x80", 3, 0));
	assert_true(bc("0(>>1#il2#=33023)", "\x00\xff\x80", 3, 0));
	assert_false(bc("0(>>1#il2#<0)", "\x00\xff\x80", 3, 0));
	assert_false(bc("0(>>4#ib1#>0,<1)", mz, 12, 0));
	/* without endianness a binary compare never holds (ClamAV) */
	assert_false(bc("0(>>2#i2#=80)", mz, 12, 0));
	/* bounds: past the end, and ClamAV's "zero or negative offset must land
	 * after the first byte" */
	assert_false(bc("0(>>11#ib2#>0)", mz, 12, 0));
	assert_false(bc("0(0#ib1#=77)", mz, 12, 0));
	assert_true(bc("0(0#ib1#=90)", mz, 12, 1));
	assert_true(bc("0(<<1#ib1#=90)", mz, 12, 2));
	assert_false(bc("0(<<2#ib1#=77)", mz, 12, 2));
	/* text numbers */
	assert_true(bc("0(>>5#hb4#=31)", txt, sizeof(txt) - 1, 2));  /* "0x1f" */
	assert_true(bc("0(>>10#db3#=123)", txt, sizeof(txt) - 1, 2));
	assert_true(bc("0(>>14#db4#=42)", txt, sizeof(txt) - 1, 2));  /* leading spaces */
	assert_false(bc("0(>>14#dbe4#=42)", txt, sizeof(txt) - 1, 2)); /* exact: no padding */
	assert_true(bc("0(>>19#hl4#=65280)", txt, sizeof(txt) - 1, 2)); /* "00ff" LE = ff00 */
	assert_true(bc("0(>>5#ab4#=31)", txt, sizeof(txt) - 1, 2));  /* auto: hex */
	assert_true(bc("0(>>10#ab3#=123)", txt, sizeof(txt) - 1, 2)); /* auto: decimal */
	assert_true(bc("0(>>24#hb3#=2748)", txt, sizeof(txt) - 1, 2)); /* "abc" */
	assert_true(bc("0(>>0#db2#=0)", txt, sizeof(txt) - 1, 2)); /* no digits: 0 */
}

/* ---- per-layer evaluation ---- */

struct found_list {
	uint32_t ldb[8];
	size_t n;
};

static vg_status on_found(void *ctx, uint32_t ldb)
{
	struct found_list *f = ctx;
	if (f->n < 8)
		f->ldb[f->n++] = ldb;
	return VG_OK;
}

static vg_status no_data(void *ctx, const uint8_t **data, size_t *len)
{
	(void)ctx;
	*data = (const uint8_t *)"";
	*len = 0;
	return VG_OK;
}

static void exe_layer(void **state)
{
	struct fx *fx = *state;
	char path[512];
	uint8_t key[IMAGE_KEY_LEN] = {0}, *image = NULL, head[64] = "MZ";
	size_t ilen = 0;
	char err[256];
	struct scan_db *db = NULL;
	struct exe_info exe;
	bool done = true;
	struct lsig_layer L;
	struct lsig_hit hits[2];
	struct found_list found = {{0}, 0};
	uint64_t lo, hi;

	assert_int_equal(tmpdb_write(fx->dir, "x.ldb",
				     "E;Engine:51-255,Target:1,EntryPoint:100-200,NumberOfSections:2-3;0;41424344\n"
				     "F;Engine:51-255,Target:1,EntryPoint:300-400;0;41424344\n"
				     "G;Engine:51-255,Target:6;0;41424344\n"
				     "H;Engine:51-255,Target:0,FileSize:900-1100;0;41424344\n",
				     path, sizeof(path)), 0);
	assert_int_equal(sigset_load(&fx->set, path, true), VG_OK);
	assert_int_equal(scan_db_compile(&fx->set, key, NULL, 0, 1, &image, &ilen, err, sizeof(err)), VG_OK);
	assert_int_equal(scan_db_open(image, ilen, true, NULL, 0, true, &db), VG_OK);
	assert_int_equal(db->nldbs, 4);

	memset(&exe, 0, sizeof(exe));
	exe.kind = EXE_PE;
	exe.valid = true;
	exe.bits = 32;
	exe.has_ep = true;
	exe.ep = 150;
	exe.nsections = exe.described = 2;
	exe.sections[0].raw_off = 200;
	exe.sections[0].raw_size = 100;
	exe.sections[1].raw_off = 400;
	exe.sections[1].raw_size = 64;
	memset(&L, 0, sizeof(L));
	L.head = head;
	L.head_len = sizeof(head);
	L.type = FT_MSEXE;
	L.size = 1000;
	L.exe = &exe;
	L.exe_done = &done;
	L.data = no_data;

	/* offsets relative to the executable's layout */
	assert_true(lsig_offset_range(&L, SIG_OFF_EP_PLUS, 0, 4, 0, &lo, &hi));
	assert_int_equal(lo, 154);
	assert_int_equal(hi, 154);
	assert_true(lsig_offset_range(&L, SIG_OFF_EP_MINUS, 0, 50, 10, &lo, &hi));
	assert_int_equal(lo, 100);
	assert_int_equal(hi, 110);
	assert_false(lsig_offset_range(&L, SIG_OFF_EP_MINUS, 0, 151, 0, &lo, &hi));
	assert_true(lsig_offset_range(&L, SIG_OFF_SX, 1, 8, 0, &lo, &hi));
	assert_int_equal(lo, 408);
	assert_false(lsig_offset_range(&L, SIG_OFF_SX, 2, 0, 0, &lo, &hi));
	assert_true(lsig_offset_range(&L, SIG_OFF_SE, 0, 0, 0, &lo, &hi));
	assert_int_equal(lo, 200);
	assert_int_equal(hi, 300);
	assert_true(lsig_offset_range(&L, SIG_OFF_SE, 0, 0, 16, &lo, &hi)); /* SE0,16 */
	assert_int_equal(hi, 316);
	assert_true(lsig_offset_range(&L, SIG_OFF_SL, 0, 2, 0, &lo, &hi));
	assert_int_equal(lo, 402);
	assert_true(lsig_offset_range(&L, SIG_OFF_EOF, 0, 10, 5, &lo, &hi));
	assert_int_equal(lo, 990);
	assert_int_equal(hi, 995);

	/* TDB: E holds (EP 150 in 100-200, two sections), F does not (EP),
	 * G does not (ELF target on a PE), H holds (size) */
	memset(hits, 0, sizeof(hits));
	for (uint32_t i = 0; i < 4; i++) {
		struct lsig_hit h = {db->ldbs[i].first_sub, 0, 10, 10, 14};
		struct found_list one = {{0}, 0};
		assert_int_equal(lsig_eval(db, &h, 1, &L, on_found, &one), VG_OK);
		if (one.n)
			found.ldb[found.n++] = i;
	}
	assert_int_equal(found.n, 2);
	assert_int_equal(found.ldb[0], 0);
	assert_int_equal(found.ldb[1], 3);

	/* not an executable: EP-dependent signatures never hold */
	exe.kind = EXE_NONE;
	exe.valid = false;
	found.n = 0;
	hits[0].lsub = db->ldbs[0].first_sub;
	assert_int_equal(lsig_eval(db, hits, 1, &L, on_found, &found), VG_OK);
	assert_int_equal(found.n, 0);
	assert_false(lsig_offset_range(&L, SIG_OFF_EP_PLUS, 0, 0, 0, &lo, &hi));
	scan_db_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grouping),
		cmocka_unit_test(counts),
		cmocka_unit_test(checking),
		cmocka_unit_test(byte_compare),
		cmocka_unit_test_setup_teardown(exe_layer, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
