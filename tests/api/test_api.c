/* The public contract (include/vigil.h only, linked against libvigil.so):
 * lifecycle, loading errors, scanning buffers, descriptors, pipes and streams,
 * all-match order, allow lists and limits. Test data is generated here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil.h"

/* EICAR, assembled at run time so that this file is not itself a test virus. */
static void eicar(char out[69])
{
	snprintf(out, 69, "%s%s", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-",
		 "ANTIVIRUS-TEST-FILE!$H+H*");
}

#define EICAR_MD5 "44d88612fea8a8f36de82e1278abb02f"
#define EICAR_SHA256 "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
#define EICAR_HEX_HEAD "58354f2150254041505b345c505a5835" /* first 16 bytes */

static char dir[256];

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct vg_engine *engine_from(const char *name)
{
	struct vg_engine *e = NULL;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(vg_engine_new(NULL, &e), VG_OK);
	assert_int_equal(vg_engine_load(e, path, VG_LOAD_REQUIRE_DB), VG_OK);
	assert_int_equal(vg_engine_compile(e), VG_OK);
	return e;
}

struct seen {
	char names[8][128];
	int n;
};

static int collect(void *ctx, const struct vg_match *m)
{
	struct seen *s = ctx;
	if (s->n < 8)
		snprintf(s->names[s->n++], 128, "%s", m->name);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vigil-api-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	mkdir(strcat(strcpy((char[300]){0}, dir), "/db"), 0700);
	write_file("db/t.hdb", EICAR_MD5 ":68:Test.MD5\n");
	write_file("db/t.hsb", EICAR_SHA256 ":68:Test.SHA256\n");
	write_file("db/t.ndb", "Test.Body:0:0:" EICAR_HEX_HEAD "\nTest.Tail:0:EOF-4:482b482a\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void lifecycle_and_errors(void **state)
{
	struct vg_engine *e;
	struct vg_scan_summary sum;
	char path[512];

	(void)state;
	assert_int_equal(vg_engine_new(NULL, NULL), VG_EINVAL);
	assert_int_equal(vg_engine_new(NULL, &e), VG_OK);
	/* scanning before compile is a state error, not a crash */
	assert_int_equal(vg_scan_buffer(e, "x", 1, NULL, NULL, NULL, &sum), VG_ESTATE);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(vg_engine_load(e, path, VG_LOAD_REQUIRE_DB), VG_ENODB);
	assert_non_null(strstr(vg_engine_error(e), "missing"));
	write_file("bad.ndb", "Good:0:*:414243\nBad:0:*:41zz43\n");
	snprintf(path, sizeof(path), "%s/bad.ndb", dir);
	assert_int_equal(vg_engine_load(e, path, 0), VG_EFORMAT);
	assert_non_null(strstr(vg_engine_error(e), "bad.ndb:2:"));
	assert_int_equal(vg_engine_signature_count(e), 0); /* all or nothing */
	assert_int_equal(vg_engine_compile(e), VG_OK);
	assert_int_equal(vg_engine_load(e, path, 0), VG_ESTATE);
	assert_int_equal(vg_engine_compile(e), VG_ESTATE);
	assert_string_equal(vg_status_str(VG_EFORMAT), "malformed database");
	vg_engine_unref(vg_engine_ref(e));
	vg_engine_unref(e);
	vg_engine_unref(NULL);
}

static void allmatch_order_and_first_match(void **state)
{
	struct vg_engine *e = engine_from("db");
	struct vg_scan_options o;
	struct vg_scan_summary sum;
	struct seen seen = {0};
	char data[69];

	(void)state;
	eicar(data);
	assert_int_equal(vg_engine_signature_count(e), 4);
	vg_scan_options_init(e, &o);
	o.flags = VG_SCAN_ALLMATCH;
	assert_int_equal(vg_scan_buffer(e, data, 68, &o, collect, &seen, &sum), VG_OK);
	/* clamscan -z order on the same database: body patterns, then MD5, then SHA-256 */
	assert_int_equal(seen.n, 4);
	assert_string_equal(seen.names[0], "Test.Body.UNOFFICIAL");
	assert_string_equal(seen.names[1], "Test.Tail.UNOFFICIAL");
	assert_string_equal(seen.names[2], "Test.MD5.UNOFFICIAL");
	assert_string_equal(seen.names[3], "Test.SHA256.UNOFFICIAL");
	assert_int_equal(sum.verdict, VG_VERDICT_FOUND);
	assert_int_equal(sum.bytes_scanned, 68);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(vg_scan_buffer(e, data, 68, NULL, collect, &seen, &sum), VG_OK);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.names[0], "Test.Body.UNOFFICIAL");

	/* one byte more: hashes and the EOF-anchored pattern no longer match */
	memset(&seen, 0, sizeof(seen));
	data[68] = '\n';
	assert_int_equal(vg_scan_buffer(e, data, 69, &o, collect, &seen, &sum), VG_OK);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.names[0], "Test.Body.UNOFFICIAL");

	/* clean data */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(vg_scan_buffer(e, "hello", 5, &o, collect, &seen, &sum), VG_OK);
	assert_int_equal(sum.verdict, VG_VERDICT_CLEAN);
	assert_int_equal(seen.n, 0);
	vg_engine_unref(e);
}

static void fd_pipe_and_stream(void **state)
{
	struct vg_engine *e = engine_from("db");
	struct vg_scan_summary sum;
	struct vg_scan_stream *s;
	struct seen seen = {0};
	char data[69], path[512];
	int fd, p[2];

	(void)state;
	eicar(data);
	snprintf(path, sizeof(path), "%s/sample", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, 68), 68);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(vg_scan_fd(e, fd, NULL, collect, &seen, &sum), VG_OK);
	assert_int_equal(sum.verdict, VG_VERDICT_FOUND);
	close(fd);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], data, 68), 68);
	close(p[1]);
	assert_int_equal(vg_scan_fd(e, p[0], NULL, NULL, NULL, &sum), VG_OK);
	assert_int_equal(sum.verdict, VG_VERDICT_FOUND);
	assert_int_equal(sum.bytes_read, 68);
	close(p[0]);

	/* a stream written one byte at a time still matches across the pieces */
	assert_int_equal(vg_scan_stream_new(e, NULL, &s), VG_OK);
	for (int i = 0; i < 68; i++)
		assert_int_equal(vg_scan_stream_write(s, data + i, 1), VG_OK);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(vg_scan_stream_finish(s, collect, &seen, &sum), VG_OK);
	assert_int_equal(seen.n, 1);
	vg_scan_stream_free(s);
	vg_engine_unref(e);
}

static void allow_list_and_limits(void **state)
{
	struct vg_engine *e;
	struct vg_scan_options o;
	struct vg_scan_summary sum;
	struct seen seen = {0};
	char data[69], path[512];

	(void)state;
	eicar(data);
	write_file("db/allow.fp", EICAR_MD5 ":68:trusted file\n");
	e = engine_from("db");
	assert_int_equal(vg_scan_buffer(e, data, 68, NULL, collect, &seen, &sum), VG_OK);
	assert_int_equal(sum.verdict, VG_VERDICT_CLEAN);
	vg_engine_unref(e);
	snprintf(path, sizeof(path), "%s/db/allow.fp", dir);
	unlink(path);

	e = engine_from("db");
	vg_scan_options_init(e, &o);
	o.limits.max_filesize = 10;
	assert_int_equal(vg_scan_buffer(e, data, 68, &o, collect, &seen, &sum), VG_OK);
	assert_int_equal(sum.verdict, VG_VERDICT_NOT_SCANNED);
	assert_int_equal(sum.limit, VG_LIMIT_FILESIZE);
	o.flags = VG_SCAN_ALERT_EXCEEDS_MAX;
	assert_int_equal(vg_scan_buffer(e, data, 68, &o, collect, &seen, &sum), VG_OK);
	assert_int_equal(sum.verdict, VG_VERDICT_FOUND);
	assert_string_equal(seen.names[seen.n - 1], "Heuristics.Limits.Exceeded.MaxFileSize");
	vg_engine_unref(e);
}

/* clamscan ignores layers of 5 bytes or less; so does vigil */
static void tiny_layers_are_not_matched(void **state)
{
	struct vg_engine *e;
	struct vg_scan_summary sum;

	(void)state;
	write_file("short.ndb", "Test.Short:0:*:414243\n");
	e = engine_from("short.ndb");
	assert_int_equal(vg_scan_buffer(e, "ABCDE", 5, NULL, NULL, NULL, &sum), VG_OK);
	assert_int_equal(sum.verdict, VG_VERDICT_CLEAN);
	assert_int_equal(vg_scan_buffer(e, "ABCDEF", 6, NULL, NULL, NULL, &sum), VG_OK);
	assert_int_equal(sum.verdict, VG_VERDICT_FOUND);
	vg_engine_unref(e);
}

/* A signature ending anywhere around the end of the engine's first 256 KiB
 * read, in a file and in a buffer. The gram index holds hits whose anchor
 * ends in the last bytes of a read back to the next one; the history those
 * hits need must still be there then. One anchor of each matcher: 20 bytes
 * and 32 of 40 (gram index), 8 bytes (Vectorscan). */
static void matches_across_read_chunks(void **state)
{
	static const struct {
		const char *name, *hex;
		size_t len;
	} sig[] = {
		{"Test.Edge.Gram", "a1a2a3a4{5}b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4", 29},
		{"Test.Edge.Long", "d1d2d3d4{5}e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
				   "8182838485868788", 48},
		{"Test.Edge.Short", "9192939495{5}0102030405060708", 18},
	};
	const size_t chunk = 256u * 1024, size = chunk + 256;
	uint8_t *data = malloc(size), *plant;
	char text[1024] = "", path[512];
	struct vg_engine *e;
	int fd, missed = 0;

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++) {
		char line[256];
		snprintf(line, sizeof(line), "%s:0:*:%s\n", sig[i].name, sig[i].hex);
		strcat(text, line);
	}
	write_file("edge.ndb", text);
	e = engine_from("edge.ndb");
	snprintf(path, sizeof(path), "%s/edge.bin", dir);
	for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++) {
		const char *h = sig[i].hex;
		size_t n = 0, k = 0;
		uint8_t bytes[64];
		char want[128];

		snprintf(want, sizeof(want), "%s.UNOFFICIAL", sig[i].name);
		/* the signature's bytes, with 0x55 for the {5} gap */
		while (h[k]) {
			unsigned v;
			if (h[k] == '{') {
				for (int g = 0; g < 5; g++)
					bytes[n++] = 0x55;
				k += 3;
				continue;
			}
			sscanf(h + k, "%2x", &v);
			bytes[n++] = (uint8_t)v;
			k += 2;
		}
		assert_int_equal(n, sig[i].len);
		for (long d = -70; d < 40; d++) {
			struct vg_scan_summary sum;
			struct seen seen = {0};
			memset(data, 0x55, size);
			plant = data + chunk + d - (long)n;
			memcpy(plant, bytes, n);
			fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
			assert_true(fd >= 0);
			assert_int_equal(write(fd, data, size), (ssize_t)size);
			assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
			assert_int_equal(vg_scan_fd(e, fd, NULL, collect, &seen, &sum), VG_OK);
			close(fd);
			if (seen.n != 1 || strcmp(seen.names[0], want) != 0) {
				print_message("%s ending at the first read's end %+ld: not found in a file\n",
					      sig[i].name, d);
				missed++;
			}
			memset(&seen, 0, sizeof(seen));
			assert_int_equal(vg_scan_buffer(e, data, size, NULL, collect, &seen, &sum), VG_OK);
			if (seen.n != 1 || strcmp(seen.names[0], want) != 0) {
				print_message("%s ending at the first read's end %+ld: not found in a buffer\n",
					      sig[i].name, d);
				missed++;
			}
		}
	}
	assert_int_equal(missed, 0);
	vg_engine_unref(e);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lifecycle_and_errors),
		cmocka_unit_test(allmatch_order_and_first_match),
		cmocka_unit_test(fd_pipe_and_stream),
		cmocka_unit_test(allow_list_and_limits),
		cmocka_unit_test(tiny_layers_are_not_matched),
		cmocka_unit_test(matches_across_read_chunks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
