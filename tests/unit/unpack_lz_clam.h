/* Test helper for the zip, szdd, chm and arj unpacker tests: a wrapping of
 * clam.exe from Debian's clamav-testfiles must give clam.exe back byte for
 * byte (both read at test time). Include after <cmocka.h> and
 * unpack_collect.h. */
#ifndef VG_TEST_UNPACK_LZ_CLAM_H
#define VG_TEST_UNPACK_LZ_CLAM_H

#include "unpack_collect.h"

/* want_name NULL: the child has no name. Skips when clamav-testfiles is
 * not installed. */
static inline void expect_clam(vg_status (*fn)(const struct unpack_input *, const struct unpack_sink *),
			       const char *file, const char *want_name)
{
	char path[256];
	size_t elen = 0, wlen = 0;
	uint8_t *exe = slurp(TESTFILES "clam.exe", &elen);
	uint8_t *wrapped;
	struct collector k;
	int i;

	snprintf(path, sizeof(path), TESTFILES "%s", file);
	wrapped = slurp(path, &wlen);
	if (!exe || !wrapped) {
		free(exe);
		free(wrapped);
		print_message("%s not readable (install clamav-testfiles): skipped\n", path);
		skip();
		return;
	}
	collector_init(&k, 1u << 20);
	assert_int_equal(run_unpacker(fn, wrapped, wlen, &k), VG_OK);
	i = find_child(&k, exe, elen);
	if (i < 0) {
		fail_msg("%s: no child is clam.exe (%zu children)", file, k.n);
		return;
	}
	assert_false(k.items[i].truncated);
	if (want_name) {
		assert_non_null(k.items[i].name);
		assert_string_equal(k.items[i].name, want_name);
	} else {
		assert_null(k.items[i].name);
	}
	collector_free(&k);
	free(exe);
	free(wrapped);
}

#endif
