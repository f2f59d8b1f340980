/* sigdb: hash databases (.hdb .hsb .hdu .hsu .fp .sfp), valid and invalid lines.
 * Each invalid case was checked to be refused by clamscan 1.4.6 too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sigdb/sigdb.h"
#include "../support/tmpdb.h"

#define MD5_CLAM "aa15bcf478d165efd2065190eb473bcb"
#define SHA1_CLAM "62dd70f5e7530e0239901ac186f1f9ae39292561"
#define SHA256_CLAM "71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495"

static vg_status load(struct fx *fx, const char *name, const char *text)
{
	char path[512];
	assert_int_equal(tmpdb_write(fx->dir, name, text, path, sizeof(path)), 0);
	return sigset_load(&fx->set, path, true);
}

/* Asserts a load fails with VG_EFORMAT and the message names line:column. */
static void expect_bad(struct fx *fx, const char *name, const char *text, const char *where,
		       const char *what)
{
	size_t sigs = fx->set.sigs.n, hashes = fx->set.hashes.n;

	assert_int_equal(load(fx, name, text), VG_EFORMAT);
	assert_non_null(strstr(fx->set.error, where));
	assert_non_null(strstr(fx->set.error, what));
	/* all or nothing: nothing of the failed file stays */
	assert_int_equal(fx->set.sigs.n, sigs);
	assert_int_equal(fx->set.hashes.n, hashes);
}

static void valid_lines_load(void **state)
{
	struct fx *fx = *state;
	struct hashidx idx;
	struct image_writer w;
	struct image img;
	uint8_t key[IMAGE_KEY_LEN] = {0}, *bytes;
	size_t len;
	uint8_t md5[16], sha1[20];
	uint32_t vals[2];
	size_t bad;

	assert_int_equal(load(fx, "a.hdb",
			      "# comment\n" MD5_CLAM ":544:Clam.MD5\r\n"
			      "AA15BCF478D165EFD2065190EB473BCB:545:Clam.Upper\n"
			      SHA1_CLAM ":544:Clam.SHA1.in.hdb\n"
			      MD5_CLAM ":*:Clam.Wild:73\n"
			      MD5_CLAM ":544:Too.New:217\n"
			      MD5_CLAM ":544:Too.Old:0:100\n"
			      MD5_CLAM ":544:In.Range:100:216\n"
			      MD5_CLAM ":544:Cut (Clam) here\n"),
			 VG_OK);
	assert_int_equal(fx->set.sigs.n, 6);
	assert_string_equal(sigset_name(&fx->set, 0), "Clam.MD5.UNOFFICIAL");
	assert_string_equal(sigset_name(&fx->set, 5), "Cut.UNOFFICIAL");
	assert_int_equal(VEC_AT(&fx->set.dbs, struct db_record, 0)->skipped, 2);
	assert_int_equal(load(fx, "b.hsb", SHA256_CLAM ":544:Clam.SHA256\n"), VG_OK);

	/* through an image, as the engine stores it */
	image_writer_init(&w);
	assert_int_equal(hashidx_write(fx->set.hashes.items, fx->set.hashes.n, &w, 100), VG_OK);
	assert_int_equal(image_finish(&w, key, &bytes, &len), VG_OK);
	image_writer_free(&w);
	assert_int_equal(image_open(&img, bytes, len, true, false), VG_OK);
	assert_int_equal(hashidx_open(&img, 100, &idx), VG_OK);
	assert_true(hex_decode(MD5_CLAM, 32, md5, &bad));
	assert_true(hex_decode(SHA1_CLAM, 40, sha1, &bad));
	assert_int_equal(hashidx_algs_for_size(&idx, 544), 7);
	assert_int_equal(hashidx_algs_for_size(&idx, 9999), 1); /* the MD5 wildcard */
	assert_int_equal(hashidx_lookup(&idx, HASH_MD5, 544, md5, vals), 2);
	/* values are name offsets; exact size first, and of equal lines the last
	 * loaded (as clamscan) */
	assert_string_equal((char *)fx->set.names.data + vals[0], "Cut.UNOFFICIAL");
	assert_string_equal((char *)fx->set.names.data + vals[1], "Clam.Wild.UNOFFICIAL");
	assert_int_equal(hashidx_lookup(&idx, HASH_MD5, 545, md5, vals), 2);
	assert_string_equal((char *)fx->set.names.data + vals[0], "Clam.Upper.UNOFFICIAL");
	assert_int_equal(hashidx_lookup(&idx, HASH_SHA1, 544, sha1, vals), 1);
	assert_int_equal(hashidx_lookup(&idx, HASH_SHA1, 543, sha1, vals), 0);
	assert_int_equal(hashidx_lookup(&idx, HASH_MD5, 1ull << 40, md5, vals), 1);
	/* a flipped byte anywhere is caught by the checksum */
	bytes[len / 2] ^= 1;
	assert_int_equal(image_open(&img, bytes, len, true, false), VG_EFORMAT);
	vg_free(bytes);
}

static void invalid_lines_fail(void **state)
{
	struct fx *fx = *state;

	expect_bad(fx, "e1.hdb", MD5_CLAM ":544:Ok\n\n", "e1.hdb:2:1", "empty line");
	expect_bad(fx, "e2.hdb", MD5_CLAM ":544\n", "e2.hdb:1:", "found 2 field");
	expect_bad(fx, "e3.hdb", MD5_CLAM ":544:N:1:2:3\n", "e3.hdb:1:", "too many fields");
	expect_bad(fx, "e4.hdb", MD5_CLAM ":*:Wild\n", "e4.hdb:1:34", "at least 73");
	expect_bad(fx, "e5.hdb", MD5_CLAM ":*:Wild:72\n", "e5.hdb:1:34", "at least 73");
	expect_bad(fx, "e6.hdb", MD5_CLAM ":0:Zero\n", "e6.hdb:1:34", "bad file size '0'");
	expect_bad(fx, "e7.hdb", MD5_CLAM ":12a:X\n", "e7.hdb:1:34", "bad file size");
	expect_bad(fx, "e8.hdb", MD5_CLAM ":4294967295:X\n", "e8.hdb:1:34", "bad file size");
	expect_bad(fx, "e9.hdb", "aa15bcf478d165efd2065190eb473bc:544:Short\n", "e9.hdb:1:1",
		   "31 hex digits");
	expect_bad(fx, "e10.hdb", "aa15bcf478d165efd2065190eb473bcz:544:Bad\n", "e10.hdb:1:32",
		   "bad hex digit 'z'");
	expect_bad(fx, "e11.hdb", MD5_CLAM ":544:\n", "e11.hdb:1:38", "empty signature name");
	expect_bad(fx, "e12.hdb", "", "e12.hdb", "empty database file");
	expect_bad(fx, "e13.hsb", "# ok\n" MD5_CLAM ":544:A\n" SHA256_CLAM "0:544:B\n",
		   "e13.hsb:3:1", "65 hex digits");
}

static void comment_only_file_loads(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(load(fx, "c.hdb", "# There must always be one line in the file\n"), VG_OK);
	assert_int_equal(fx->set.sigs.n, 0);
}

static void allow_lists_and_pua(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(load(fx, "a.fp", MD5_CLAM ":544:anything goes here\n"), VG_OK);
	assert_int_equal(load(fx, "a.sfp", SHA256_CLAM ":544:x\n"), VG_OK);
	assert_int_equal(fx->set.fps.n, 2);
	assert_int_equal(fx->set.sigs.n, 0);
	/* PUA sets load only with detect_pua */
	assert_int_equal(load(fx, "p.hdu", MD5_CLAM ":544:PUA.Test\n"), VG_OK);
	assert_int_equal(fx->set.sigs.n, 0);
	fx->set.detect_pua = true;
	assert_int_equal(load(fx, "p.hdu", MD5_CLAM ":544:PUA.Test\n"), VG_OK);
	assert_int_equal(fx->set.sigs.n, 1);
}

/* PE section hashes (.mdb .msb .mdu .msu) put the size first; import table
 * hashes (.imp) take '*' without the FLEVEL rule. Outcomes checked against
 * clamscan 1.4.6. */
static void section_and_import_hashes(void **state)
{
	struct fx *fx = *state;
	const struct hash_entry *h;

	assert_int_equal(load(fx, "a.mdb", "45056:3ea7d00dedd30bcdf46191358c36ffa4:Eicar-Test-Signature\n"
					   "*:3ea7d00dedd30bcdf46191358c36ffa4:Wild:73\n"
					   "512:3ea7d00dedd30bcdf46191358c36ffa4:Future:300\n"),
			 VG_OK);
	assert_int_equal(fx->set.sections.n, 2); /* the FLEVEL 300 line is skipped */
	h = VEC_AT(&fx->set.sections, struct hash_entry, 0);
	assert_int_equal(h->size, 45056);
	assert_int_equal(h->alg, HASH_MD5);
	assert_int_equal(h->digest[0], 0x3e);
	assert_true(VEC_AT(&fx->set.sections, struct hash_entry, 1)->wild);
	assert_int_equal(VEC_AT(&fx->set.sigs, struct sig, 0)->kind, VG_SIG_PE_SECTION);
	assert_string_equal(sigset_name(&fx->set, 0), "Eicar-Test-Signature.UNOFFICIAL");
	assert_int_equal(fx->set.hashes.n, 0);
	assert_int_equal(load(fx, "b.msb", "512:" SHA256_CLAM ":S256\n"), VG_OK);
	assert_int_equal(VEC_AT(&fx->set.sections, struct hash_entry, 2)->alg, HASH_SHA256);
	assert_int_equal(load(fx, "c.imp", "98c88d882f01a3f6ac1e5f7dfd761624:39:Imp\n"
					   "98c88d882f01a3f6ac1e5f7dfd761624:*:ImpWild\n"),
			 VG_OK);
	assert_int_equal(fx->set.imports.n, 2);
	assert_int_equal(VEC_AT(&fx->set.imports, struct hash_entry, 0)->size, 39);
	assert_true(VEC_AT(&fx->set.imports, struct hash_entry, 1)->wild);
	/* PUA section hashes load only with detect_pua */
	assert_int_equal(load(fx, "p.mdu", "512:" MD5_CLAM ":PUA.Sect\n"), VG_OK);
	assert_int_equal(fx->set.sections.n, 3);

	expect_bad(fx, "d.mdb", "*:3ea7d00dedd30bcdf46191358c36ffa4:N\n", ":1:1:", "at least 73");
	expect_bad(fx, "d.mdb", "0:3ea7d00dedd30bcdf46191358c36ffa4:N\n", ":1:1:", "bad section size '0'");
	expect_bad(fx, "d.mdb", MD5_CLAM ":512:N\n", ":1:1:", "bad section size");
	expect_bad(fx, "d.mdb", "512:3ea7d00dedd30bcdf46191358c36ffa:N\n", ":1:5:", "31 hex digits");
	expect_bad(fx, "d.mdb", "512:" MD5_CLAM "\n", "found 2 field", "SIZE:HASH");
	expect_bad(fx, "d.imp", MD5_CLAM ":0:N\n", ":1:34:", "bad import table size '0'");
	expect_bad(fx, "d.imp", MD5_CLAM ":x:N\n", ":1:34:", "bad import table size 'x'");
	expect_bad(fx, "d.imp", MD5_CLAM ":12\n", "found 2 field", "HASH:SIZE");
	assert_int_equal(fx->set.sections.n, 3);
	assert_int_equal(fx->set.imports.n, 2);
}

static void unknown_and_missing(void **state)
{
	struct fx *fx = *state;
	char path[512];

	assert_int_equal(load(fx, "x.txt", "hello\n"), VG_EFORMAT);
	assert_non_null(strstr(fx->set.error, "unknown database type"));
	snprintf(path, sizeof(path), "%s/nope.hdb", fx->dir);
	assert_int_equal(sigset_load(&fx->set, path, true), VG_ENODB);
	assert_non_null(strstr(fx->set.error, "nope.hdb"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(valid_lines_load, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(invalid_lines_fail, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(comment_only_file_loads, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(allow_lists_and_pua, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(section_and_import_hashes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(unknown_and_missing, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
