/*
 * test_wire.c - the broker's check of worker replies (worker_wire.c): every
 * malformed field a compromised worker could send is refused, well-formed
 * replies pass, and random bytes never pass as a match with an unterminated
 * string or a container path that runs off its field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vigil.h>

#include "worker_wire.h"

static char why[128];

static struct vw_reply match_reply(void)
{
	struct vw_reply r;

	vw_reply_init(&r, VW_MATCH, 7);
	strcpy(r.name, "Eicar-Test-Signature");
	r.has_database = 1;
	strcpy(r.database, "test.hdb");
	r.kind = VG_SIG_MD5;
	r.depth = 2;
	memcpy(r.path, "a.zip\0b.exe\0", 12);
	return r;
}

static void good_replies_pass(void **state)
{
	struct vw_reply r = match_reply();

	(void)state;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), 0);
	vw_reply_init(&r, VW_DONE, 7);
	r.verdict = VG_VERDICT_FOUND;
	r.matches = 3;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), 0);
	vw_reply_init(&r, VW_HELLO, 0);
	r.layers = VW_LAYER_SECCOMP | VW_LAYER_LANDLOCK;
	r.landlock_abi = 7;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), 0);
}

static void bad_headers_fail(void **state)
{
	struct vw_reply r = match_reply();

	(void)state;
	r.magic ^= 1;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	r = match_reply();
	r.version = 2;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	r = match_reply();
	r.type = 9;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	vw_reply_init(&r, VW_HELLO, 5); /* a hello carries no sequence number */
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
}

static void bad_match_fields_fail(void **state)
{
	struct vw_reply r;

	(void)state;
	r = match_reply();
	memset(r.name, 'A', sizeof(r.name)); /* unterminated */
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	assert_string_equal(why, "bad signature name");
	r = match_reply();
	r.name[0] = '\0';
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	r = match_reply();
	memset(r.database, 'B', sizeof(r.database));
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	r = match_reply();
	r.has_database = 0; /* a name where there is none */
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	r = match_reply();
	r.kind = 0;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	r.kind = VW_SIG_KIND_LAST + 1;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	r.kind = VG_SIG_PE_IMPORT; /* every kind the engine has passes */
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), 0);
	r = match_reply();
	r.offset_known = 2;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	r = match_reply();
	r.depth = VW_MAX_DEPTH + 1;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	r = match_reply();
	r.depth = 3; /* claims more names than the path holds... */
	memset(r.path + 12, 'x', sizeof(r.path) - 12); /* ...and the rest is unterminated */
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
}

static void bad_done_fields_fail(void **state)
{
	struct vw_reply r;

	(void)state;
	vw_reply_init(&r, VW_DONE, 1);
	r.status = -1;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	r.status = VW_STATUS_LAST + 1;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	vw_reply_init(&r, VW_DONE, 1);
	r.verdict = VG_VERDICT_NOT_SCANNED + 1;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	vw_reply_init(&r, VW_DONE, 1);
	r.limit = VG_LIMIT_SCANTIME + 1;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	vw_reply_init(&r, VW_DONE, 1);
	r.stopped = 2;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	vw_reply_init(&r, VW_DONE, 1);
	r.matches = 1; /* matches for a clean file */
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
	vw_reply_init(&r, VW_DONE, 1);
	r.verdict = VG_VERDICT_FOUND;
	r.matches = VW_MAX_MATCHES + 1;
	assert_int_equal(vw_reply_check(&r, why, sizeof(why)), -1);
}

/* Random replies (a fixed seed): whatever passes is safe to use. */
static void random_bytes_never_unsafe(void **state)
{
	struct vw_reply r;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		unsigned char *p = (unsigned char *)&r;
		for (size_t k = 0; k < sizeof(r); k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[k] = (unsigned char)x;
		}
		/* keep the header valid half the time so the field checks run */
		if (i % 2 == 0) {
			r.magic = VW_MAGIC_REPLY;
			r.version = VW_WIRE_VERSION;
			r.type = VW_MATCH;
			r.depth %= 4;
			r.kind = VG_SIG_BODY;
			r.offset_known = 0;
			r.has_database = 0;
			r.database[0] = '\0';
			if (i % 4 == 0) {
				r.name[5] = '\0';
				r.name[0] = 'N';
			}
		}
		if (vw_reply_check(&r, why, sizeof(why)) == 0 && r.type == VW_MATCH) {
			size_t off = 0;
			assert_non_null(memchr(r.name, '\0', sizeof(r.name)));
			assert_non_null(memchr(r.database, '\0', sizeof(r.database)));
			for (uint32_t d = 0; d < r.depth; d++) {
				const char *nul = memchr(r.path + off, '\0', sizeof(r.path) - off);
				assert_non_null(nul);
				off = (size_t)(nul - r.path) + 1;
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_replies_pass),
		cmocka_unit_test(bad_headers_fail),
		cmocka_unit_test(bad_match_fields_fail),
		cmocka_unit_test(bad_done_fields_fail),
		cmocka_unit_test(random_bytes_never_unsafe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
