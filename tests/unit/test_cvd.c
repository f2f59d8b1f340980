/* sigdb: ClamAV containers and updates, checked against ClamAV's own signed
 * test databases (tests/fixtures/clamav-upstream-cvd, signed by ClamAV with
 * keys vigil does not have): every genuine file verifies, every tampered
 * copy is refused with a message naming the file and the fault, and each
 * upstream .cdiff applied to version N-1 gives exactly the files of
 * upstream's full version N. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "sigdb/sigdb.h"
#include "../support/tmpdb.h"

static la_ssize_t tar_to_buf(struct archive *a, void *ctx, const void *data, size_t len)
{
	(void)a;
	return buf_append(ctx, data, len) == VG_OK ? (la_ssize_t)len : -1;
}

#ifndef VG_FIXTURES
#error "VG_FIXTURES must name tests/fixtures"
#endif
#define UP VG_FIXTURES "/clamav-upstream-cvd/"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void spit(const char *path, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

/* Opens and fully checks a container held in memory. */
static vg_status check(const char *name, const uint8_t *p, size_t len, char *err)
{
	struct cvd c;
	enum cvd_kind k;
	vg_status rc;

	assert_true(cvd_kind_of_name(name, &k));
	rc = cvd_open(&c, name, k, p, len);
	if (rc == VG_OK)
		rc = cvd_each_member(&c, NULL, NULL);
	snprintf(err, 600, "%s", c.err);
	cvd_close(&c);
	return rc;
}

static vg_status collect(void *ctx, const char *name, const uint8_t *data, size_t len)
{
	return memfiles_add(ctx, name, data, len);
}

static void members_of(const char *name, const uint8_t *p, size_t len, struct memfiles *m)
{
	struct cvd c;
	enum cvd_kind k;

	assert_true(cvd_kind_of_name(name, &k));
	assert_int_equal(cvd_open(&c, name, k, p, len), VG_OK);
	assert_int_equal(cvd_each_member(&c, collect, m), VG_OK);
	cvd_close(&c);
}

static void all_upstream_containers_verify(void **state)
{
	(void)state;
	for (int v = 1; v <= 6; v++) {
		char path[512], err[600];
		size_t len;
		uint8_t *p;
		struct cvd c;

		snprintf(path, sizeof(path), UP "test-%d.cvd", v);
		p = slurp(path, &len);
		assert_int_equal(check("test.cvd", p, len, err), VG_OK);
		assert_int_equal(cvd_open(&c, "test.cvd", CVD_KIND_CVD, p, len), VG_OK);
		assert_int_equal(c.hdr.version, (uint32_t)v);
		assert_true(c.verified);
		cvd_close(&c);
		{ /* the same through the public API an updater uses */
			struct vg_cvd_info info;
			char e[VG_ERROR_LEN];
			assert_int_equal(vg_cvd_verify_buffer(p, len, path, 0, &info, e), VG_OK);
			assert_int_equal(info.version, (uint32_t)v);
			assert_int_equal(info.kind, VG_CVD_SIGNED);
			assert_string_equal(info.name, "test");
			{ /* the builder as the header text names it */
				char field[80];
				snprintf(field, sizeof(field), ":%s:", info.builder);
				assert_true(strlen(info.builder) > 0);
				assert_non_null(memmem(p, 512, field, strlen(field)));
			}
			/* as a .cud it is refused unless unsigned containers are allowed */
			assert_int_equal(vg_cvd_verify_buffer(p, len, "test.cud", 0, &info, e), VG_EBADSIG);
			assert_non_null(strstr(e, "test.cud: refused: a .cud container is unsigned by design"));
			assert_int_equal(vg_cvd_verify_buffer(p, len, "test.cud", VG_CVD_ALLOW_UNSIGNED, &info, e),
					 VG_OK);
			assert_int_equal(info.verified, 0);
			p[len - 1] ^= 1;
			assert_int_equal(vg_cvd_verify_buffer(p, len, path, 0, &info, e), VG_EBADSIG);
			assert_non_null(strstr(e, "MD5 mismatch"));
			p[len - 1] ^= 1;
		}
		free(p);
	}
}

struct tamper {
	const char *what;
	size_t offset;      /* byte flipped; SIZE_MAX: see len */
	size_t keep;        /* truncate to this many bytes when nonzero */
	vg_status rc;
	const char *message;
};

static void tampered_copies_are_refused(void **state)
{
	/* test-6.cvd header: "ClamAV-VDB:22 Jun 2021 21-34 -0400:6:14:81:<md5>:<dsig>:..."
	 * version at 35, MD5 from 44, signature from 77 */
	static const struct tamper cases[] = {
		{"version in header", 35, 0, VG_EBADSIG, "does not match test.info"},
		{"MD5 in header", 50, 0, VG_EBADSIG, "MD5 mismatch"},
		{"signature in header", 120, 0, VG_EBADSIG, "bad digital signature"},
		{"payload byte", 3000, 0, VG_EBADSIG, "MD5 mismatch"},
		{"last payload byte", SIZE_MAX, 0, VG_EBADSIG, "MD5 mismatch"},
		{"truncated payload", 0, 4000, VG_EBADSIG, "MD5 mismatch"},
		{"header only", 0, 512, VG_EFORMAT, "not followed by any payload"},
		{"truncated header", 0, 300, VG_EFORMAT, "truncated"},
		{"magic", 2, 0, VG_EFORMAT, "not a ClamAV container"},
	};
	size_t len;
	uint8_t *orig = slurp(UP "test-6.cvd", &len);
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *p = malloc(len);
		size_t n = cases[i].keep ? cases[i].keep : len;
		size_t off = cases[i].offset == SIZE_MAX ? len - 1 : cases[i].offset;
		char err[600];

		memcpy(p, orig, len);
		if (!cases[i].keep)
			p[off] ^= 0x01;
		print_message("tamper: %s\n", cases[i].what);
		assert_int_equal(check("test-6.cvd", p, n, err), cases[i].rc);
		assert_non_null(strstr(err, "test-6.cvd: "));
		assert_non_null(strstr(err, cases[i].message));
		free(p);
	}
	{ /* garbage of every small size, and a renamed .cvd without signatures */
		uint8_t junk[700];
		char err[600];
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)(i * 7 + 3);
		for (size_t n = 0; n < sizeof(junk); n += 37)
			assert_int_equal(check("junk.cvd", junk, n, err), VG_EFORMAT);
	}
	free(orig);
}

/* A .cld carries no header signature: the .info DSIG and the per-member
 * hashes are what protect it. Rebuild test-6 as a .cld and break each. */
static void cld_manifest_and_members_are_checked(void **state)
{
	size_t len, out_len;
	uint8_t *orig = slurp(UP "test-6.cvd", &len), *out;
	char err[600];
	(void)state;

	struct memfiles m = {NULL, 0};
	members_of("test-6.cvd", orig, len, &m);
	assert_int_equal(cld_build(&m, &out, &out_len, err, sizeof(err)), VG_OK);
	assert_int_equal(check("test.cld", out, out_len, err), VG_OK);
	vg_free(out);

	/* a changed member */
	for (size_t i = 0; i < m.n; i++)
		if (strcmp(m.files[i].name, "test.hdb") == 0)
			assert_int_equal(buf_append(&m.files[i].data, "x", 1), VG_OK);
	assert_int_equal(cld_build(&m, &out, &out_len, err, sizeof(err)), VG_OK);
	assert_int_equal(check("test.cld", out, out_len, err), VG_EBADSIG);
	assert_non_null(strstr(err, "test.cld: member test.hdb: 114 bytes, test.info says 113"));
	/* the same change is caught in an unsigned .cud too: integrity holds */
	assert_int_equal(check("test.cud", out, out_len, err), VG_EBADSIG);
	vg_free(out);
	memfiles_free(&m);

	/* an added member */
	members_of("test-6.cvd", orig, len, &m);
	assert_int_equal(memfiles_add(&m, "extra.hdb", (const uint8_t *)"a:1:b\n", 6), VG_OK);
	assert_int_equal(cld_build(&m, &out, &out_len, err, sizeof(err)), VG_OK);
	assert_int_equal(check("test.cld", out, out_len, err), VG_EBADSIG);
	assert_non_null(strstr(err, "member extra.hdb is not listed in test.info"));
	vg_free(out);
	memfiles_free(&m);

	/* a removed member, and a manifest edited to match a changed member */
	members_of("test-6.cvd", orig, len, &m);
	for (size_t i = 0; i < m.n; i++)
		if (strcmp(m.files[i].name, "test.ndb") == 0) {
			free(m.files[i].name);
			m.files[i].name = strdup("test.ndx");
		}
	assert_int_equal(cld_build(&m, &out, &out_len, err, sizeof(err)), VG_OK);
	assert_int_equal(check("test.cld", out, out_len, err), VG_EBADSIG);
	vg_free(out);
	memfiles_free(&m);

	members_of("test-6.cvd", orig, len, &m);
	for (size_t i = 0; i < m.n; i++)
		if (strcmp(m.files[i].name, "test.info") == 0) {
			char *t = (char *)m.files[i].data.data;
			char *h = strstr(t, "test.hdb:113:");
			assert_non_null(h);
			h[13] = h[13] == 'a' ? 'b' : 'a'; /* first hex digit of the hash */
		}
	assert_int_equal(cld_build(&m, &out, &out_len, err, sizeof(err)), VG_OK);
	assert_int_equal(check("test.cld", out, out_len, err), VG_EBADSIG);
	assert_non_null(strstr(err, "bad digital signature on test.info"));
	/* unsigned by design: a .cud is not asked for a DSIG, the hashes still
	 * apply (test.hdb no longer matches the edited manifest) */
	assert_int_equal(check("test.cud", out, out_len, err), VG_EBADSIG);
	assert_non_null(strstr(err, "member test.hdb: SHA-256 differs"));
	vg_free(out);
	memfiles_free(&m);
	free(orig);
}

/* Hostile tar entries in an unsigned container: paths, links, folders. */
static void hostile_members_are_refused(void **state)
{
	static const char *const names[] = {"../evil.hdb", "sub/x.hdb", "/abs.hdb", "..", "a b.hdb"};
	size_t len, out_len;
	uint8_t *orig = slurp(UP "test-6.cvd", &len), *out;
	char err[600];
	(void)state;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct memfiles m = {NULL, 0};
		members_of("test-6.cvd", orig, len, &m);
		assert_int_equal(memfiles_add(&m, names[i], (const uint8_t *)"x\n", 2), VG_OK);
		assert_int_equal(cld_build(&m, &out, &out_len, err, sizeof(err)), VG_OK);
		assert_int_equal(check("evil.cud", out, out_len, err), VG_EFORMAT);
		print_message("%s\n", err);
		assert_non_null(strstr(err, "evil.cud: member"));
		assert_non_null(strstr(err, "not a plain file name"));
		vg_free(out);
		memfiles_free(&m);
	}
	{ /* a symbolic link and a folder entry, written with libarchive */
		static const unsigned types[] = {AE_IFLNK, AE_IFDIR};
		for (size_t i = 0; i < 2; i++) {
			struct buf b;
			struct archive *a = archive_write_new();
			struct archive_entry *e = archive_entry_new();
			const char *info = "ClamAV-VDB:x:1:1:51:X:X:me:0\n";
			uint8_t hdr[512];

			buf_init(&b, 1u << 20);
			memset(hdr, ' ', sizeof(hdr));
			memcpy(hdr, info, strlen(info) - 1);
			assert_int_equal(buf_append(&b, hdr, sizeof(hdr)), VG_OK);
			archive_write_set_format_ustar(a);
			assert_int_equal(archive_write_open(a, &b, NULL, tar_to_buf, NULL), ARCHIVE_OK);
			archive_entry_set_pathname(e, "x.info");
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)strlen(info));
			archive_write_header(a, e);
			archive_write_data(a, info, strlen(info));
			archive_entry_clear(e);
			archive_entry_set_pathname(e, "link.hdb");
			archive_entry_set_filetype(e, types[i]);
			if (types[i] == AE_IFLNK)
				archive_entry_set_symlink(e, "/etc/passwd");
			archive_write_header(a, e);
			archive_write_close(a);
			archive_write_free(a);
			archive_entry_free(e);
			assert_int_equal(check("evil.cud", b.data, b.len, err), VG_EFORMAT);
			print_message("%s\n", err);
			/* libarchive writes a folder as "link.hdb/": the name check
			 * refuses it before the type check would */
			assert_non_null(strstr(err, types[i] == AE_IFLNK
							 ? "evil.cud: member link.hdb: not a regular file"
							 : "evil.cud: member 'link.hdb/': not a plain file name"));
			buf_free(&b);
		}
	}
	free(orig);
}

/* Every upstream .cdiff applied to the previous full version gives the
 * next full version, file for file. */
static void cdiffs_give_the_next_version(void **state)
{
	char dir[256];
	(void)state;

	assert_non_null(tmpdb_dir(dir, sizeof(dir)));
	for (int v = 2; v <= 6; v++) {
		char path[512], dst[512], err[VG_ERROR_LEN];
		size_t len, dlen, clen, nlen;
		uint8_t *prev, *diff, *cld, *next;
		struct vg_cvd_info info;
		struct memfiles got = {NULL, 0}, want = {NULL, 0};
		struct stat st;

		snprintf(path, sizeof(path), UP "test-%d.cvd", v - 1);
		prev = slurp(path, &len);
		snprintf(dst, sizeof(dst), "%s/test.cvd", dir);
		unlink(dst);
		snprintf(path, sizeof(path), "%s/test.cld", dir);
		unlink(path);
		spit(dst, prev, len);
		snprintf(path, sizeof(path), UP "test-%d.cdiff", v);
		diff = slurp(path, &dlen);
		assert_int_equal(vg_cdiff_apply(dir, diff, dlen, "test-x.cdiff", &info, err), VG_OK);
		assert_int_equal(info.version, (uint32_t)v);
		assert_int_equal(info.kind, VG_CVD_LOCAL);
		assert_true(info.verified);
		assert_int_not_equal(stat(dst, &st), 0); /* the superseded .cvd is gone */

		snprintf(path, sizeof(path), "%s/test.cld", dir);
		cld = slurp(path, &clen);
		members_of("test.cld", cld, clen, &got);
		snprintf(path, sizeof(path), UP "test-%d.cvd", v);
		next = slurp(path, &nlen);
		members_of("test.cvd", next, nlen, &want);
		assert_int_equal(got.n, want.n);
		for (size_t i = 0; i < want.n; i++) {
			bool found = false;
			for (size_t j = 0; j < got.n; j++)
				if (strcmp(got.files[j].name, want.files[i].name) == 0) {
					found = true;
					assert_int_equal(got.files[j].data.len, want.files[i].data.len);
					assert_memory_equal(got.files[j].data.data, want.files[i].data.data,
							    want.files[i].data.len);
				}
			assert_true(found);
		}
		memfiles_free(&got);
		memfiles_free(&want);
		free(prev);
		free(diff);
		free(cld);
		free(next);
	}
	/* the chain: test-1.cvd and every update up to 6, one after another */
	{
		char path[512], err[VG_ERROR_LEN];
		size_t len;
		uint8_t *p;
		struct vg_cvd_info info;

		snprintf(path, sizeof(path), "%s/test.cld", dir);
		unlink(path);
		p = slurp(UP "test-1.cvd", &len);
		snprintf(path, sizeof(path), "%s/test.cvd", dir);
		spit(path, p, len);
		free(p);
		for (int v = 2; v <= 6; v++) {
			snprintf(path, sizeof(path), UP "test-%d.cdiff", v);
			p = slurp(path, &len);
			assert_int_equal(vg_cdiff_apply(dir, p, len, "test.cdiff", &info, err), VG_OK);
			free(p);
		}
		assert_int_equal(info.version, 6);
		/* and the engine loads the result as an official database */
		{
			struct vg_engine *e;
			struct vg_db_info di;
			snprintf(path, sizeof(path), "%s/test.cld", dir);
			assert_int_equal(vg_engine_new(NULL, &e), VG_OK);
			assert_int_equal(vg_engine_load(e, path, 0), VG_OK);
			assert_int_equal(vg_engine_compile(e), VG_OK);
			assert_int_equal(vg_engine_db_info(e, 0, &di), VG_OK);
			assert_int_equal(di.version, 6);
			assert_int_equal(di.official, 1);
			vg_engine_unref(e);
		}
		/* ClamAV itself accepts the .cld vigil wrote */
		if (access("/usr/bin/clamscan", X_OK) == 0) {
			char cmd[1200], out[256] = "";
			FILE *f;
			snprintf(path, sizeof(path), "%s/eicar.com", dir);
			spit(path, (const uint8_t *)"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-"
				   "TEST-FILE!$H+H*", 68);
			snprintf(cmd, sizeof(cmd), "clamscan --no-summary -d '%s/test.cld' '%s' 2>&1",
				 dir, path);
			f = popen(cmd, "r");
			assert_non_null(f);
			if (!fgets(out, sizeof(out), f))
				out[0] = '\0';
			pclose(f);
			print_message("clamscan on vigil's .cld: %s", out);
			assert_non_null(strstr(out, "eicar.com: Eicar-Test-Signature FOUND"));
		}
	}
	tmpdb_cleanup(dir);
}

static void bad_cdiffs_change_nothing(void **state)
{
	char dir[256], path[512], err[VG_ERROR_LEN];
	size_t len, dlen, before_len, after_len;
	uint8_t *cvd, *diff, *before, *after;
	(void)state;

	assert_non_null(tmpdb_dir(dir, sizeof(dir)));
	cvd = slurp(UP "test-5.cvd", &len);
	snprintf(path, sizeof(path), "%s/test.cvd", dir);
	spit(path, cvd, len);
	diff = slurp(UP "test-6.cdiff", &dlen);

	/* a flipped byte anywhere before the signature */
	for (size_t off = 0; off < dlen - 342; off += 97) {
		diff[off] ^= 0x20;
		assert_int_not_equal(vg_cdiff_apply(dir, diff, dlen, "test-6.cdiff", NULL, err), VG_OK);
		assert_non_null(strstr(err, "test-6.cdiff: "));
		diff[off] ^= 0x20;
	}
	diff[dlen - 10] ^= 0x01; /* in the signature */
	assert_int_equal(vg_cdiff_apply(dir, diff, dlen, "test-6.cdiff", NULL, err), VG_EBADSIG);
	assert_non_null(strstr(err, "test-6.cdiff: bad digital signature"));
	diff[dlen - 10] ^= 0x01;
	assert_int_equal(vg_cdiff_apply(dir, diff, dlen - 1, "test-6.cdiff", NULL, err), VG_EBADSIG);
	assert_int_equal(vg_cdiff_apply(dir, diff, 0, "test-6.cdiff", NULL, err), VG_EFORMAT);
	assert_non_null(strstr(err, "whole .cvd"));
	free(diff);

	/* an update for another version */
	diff = slurp(UP "test-5.cdiff", &dlen);
	assert_int_equal(vg_cdiff_apply(dir, diff, dlen, "test-5.cdiff", NULL, err), VG_ESTATE);
	assert_non_null(strstr(err, "makes version 5, but"));
	free(diff);

	/* the folder is as it was: the .cvd untouched, no .cld, no leftovers */
	before = cvd;
	before_len = len;
	after = slurp(path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, len);
	snprintf(path, sizeof(path), "%s/test.cld", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
		assert_int_equal(system(cmd), 0);
	}
	free(after);
	free(cvd);
	assert_int_equal(vg_cdiff_apply(dir, "x", 1, "nothing-2.cdiff", NULL, err), VG_ENODB);
	tmpdb_cleanup(dir);
}

/* Script semantics on small made-up files (no signature involved). */
static void script_commands(void **state)
{
	struct memfiles m = {NULL, 0};
	char err[600];
	const char *script;
	(void)state;

	assert_int_equal(memfiles_add(&m, "a.ndb", (const uint8_t *)"one\ntwo\nthree\nfour\n", 19), VG_OK);
	script = "OPEN a.ndb\nDEL 2 two\nXCHG 3 three THREE:new\nADD five\nCLOSE\n"
		 "OPEN b.ndb\nADD b1\nCLOSE\nMOVE a.ndb b.ndb 2 THREE:new 3 four\nOPEN c.ndb\nADD c1\nCLOSE\n"
		 "OPEN d.ndb\nCLOSE\n"; /* nothing to add: no file, as ClamAV */
	assert_int_equal(cdiff_apply_script(&m, script, strlen(script), "s.cdiff", err, sizeof(err)),
			 VG_OK);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.files[0].data.len, strlen("one\nfive\n"));
	assert_memory_equal(m.files[0].data.data, "one\nfive\n", m.files[0].data.len);
	assert_int_equal(m.files[1].data.len, strlen("b1\nTHREE:new\nfour\n"));
	assert_memory_equal(m.files[1].data.data, "b1\nTHREE:new\nfour\n", m.files[1].data.len);
	assert_memory_equal(m.files[2].data.data, "c1\n", 3);
	script = "UNLINK c.ndb\n";
	assert_int_equal(cdiff_apply_script(&m, script, strlen(script), "s.cdiff", err, sizeof(err)),
			 VG_OK);
	assert_int_equal(m.n, 2);

	static const struct {
		const char *script, *msg;
	} bad[] = {
		{"OPEN a.ndb\nDEL 1 nope\nCLOSE\n", "line 3: a.ndb line 1 does not start with 'nope'"},
		{"OPEN a.ndb\nDEL 99 x\nCLOSE\n", "has no line 99"},
		{"OPEN a.ndb\nADD x\n", "never CLOSEd"},
		{"ADD x\n", "outside OPEN/CLOSE"},
		{"OPEN ../etc/passwd\n", "OPEN: bad file name"},
		{"OPEN a.ndb\nOPEN b.ndb\n", "still open"},
		{"UNLINK zz.ndb\n", "does not exist"},
		{"FROB\n", "unknown command 'FROB'"},
		{"OPEN a.ndb\nDEL 1 THREE\nDEL 1 THREE\nCLOSE\n", "edited twice"},
		{"MOVE a.ndb b.ndb 1 one 9 x\n", "do not match"},
		{"OPEN new.ndb\nDEL 1 x\nCLOSE\n", "does not exist"},
		{"MOVE a.ndb zz.ndb 1 one 2 five\n", "destination zz.ndb does not exist"},
		{"MOVE a.ndb b.ndb 1 one 1 one\n", "one-line range"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(cdiff_apply_script(&m, bad[i].script, strlen(bad[i].script), "s.cdiff",
						    err, sizeof(err)), VG_EFORMAT);
		print_message("%s\n", err);
		assert_non_null(strstr(err, bad[i].msg));
	}
	memfiles_free(&m);
}

/* ---- cdiff scripts against sigtool --run-cdiff (ClamAV's own applier) ---- */

static uint32_t rng_state;
static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

/* Line i (1-based) of f, without its newline; NULL past the end. */
static const char *line_at(const struct memfile *f, size_t i, size_t *len)
{
	const char *p = (const char *)f->data.data, *end = p + f->data.len;

	for (size_t k = 1; p < end; k++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (k == i) {
			*len = n;
			return p;
		}
		p += n + (nl != NULL);
	}
	return NULL;
}

static size_t nlines(const struct memfile *f)
{
	size_t n = 0, len;
	while (line_at(f, n + 1, &len))
		n++;
	return n;
}

/* A prefix for line i of f: mostly right (the whole line or its first part),
 * sometimes wrong. */
static void pick_prefix(const struct memfile *f, size_t i, char *out, size_t outlen)
{
	size_t len;
	const char *l = f ? line_at(f, i, &len) : NULL;

	if (!l || len == 0 || rnd(8) == 0) {
		snprintf(out, outlen, "Nope%u", rnd(100));
		return;
	}
	if (rnd(2))
		len = 1 + rnd((uint32_t)len);
	snprintf(out, outlen, "%.*s", (int)len, l);
}

static const char *const diff_files[] = {"a.ndb", "b.ndb", "c.ndb"};

/* One random command block that fits the current files most of the time. */
static void gen_block(const struct memfiles *m, struct buf *out)
{
	char line[300], pre[64], pre2[64];
	const char *name = diff_files[rnd(3)];
	const struct memfile *f = NULL;
	uint32_t kind = rnd(10);

	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->files[i].name, name) == 0)
			f = &m->files[i];
	if (kind < 7) {
		size_t n = f ? nlines(f) : 0, used[8];
		uint32_t ops = rnd(4), nused = 0;
		snprintf(line, sizeof(line), "OPEN %s\n", name);
		buf_append(out, line, strlen(line));
		for (uint32_t k = 0; k < ops; k++) {
			uint32_t op = rnd(3);
			size_t ln = 1 + rnd((uint32_t)n + 1);
			bool dup = false;
			for (uint32_t u = 0; u < nused; u++)
				dup |= used[u] == ln;
			if (op == 2 || dup || n == 0) {
				snprintf(line, sizeof(line), "ADD New.%u:%x\n", rnd(1000), rnd(0xffff));
			} else {
				used[nused++] = ln;
				pick_prefix(f, ln, pre, sizeof(pre));
				if (op == 0)
					snprintf(line, sizeof(line), "DEL %zu %s\n", ln, pre);
				else
					snprintf(line, sizeof(line), "XCHG %zu %s Chg.%u:%x\n", ln, pre, rnd(1000),
						 rnd(0xffff));
			}
			buf_append(out, line, strlen(line));
		}
		buf_append(out, "CLOSE\n", 6);
	} else if (kind < 9 && f) {
		/* never the source itself: sigtool 1.4.6 then appends the file to
		 * itself forever (vigil refuses such a MOVE) */
		const char *dst = diff_files[rnd(3)];
		size_t n = nlines(f), a = 1 + rnd((uint32_t)n + 1), b = a + 1 + rnd(2);
		if (strcmp(dst, name) == 0)
			dst = strcmp(name, "a.ndb") == 0 ? "b.ndb" : "a.ndb";
		pick_prefix(f, a, pre, sizeof(pre));
		pick_prefix(f, b, pre2, sizeof(pre2));
		snprintf(line, sizeof(line), "MOVE %s %s %zu %s %zu %s\n", name, dst, a, pre, b, pre2);
		buf_append(out, line, strlen(line));
	} else {
		snprintf(line, sizeof(line), "UNLINK %s\n", name);
		buf_append(out, line, strlen(line));
	}
}

static bool run_sigtool(const char *dir, const struct memfiles *init, const char *script,
			size_t len, struct memfiles *result)
{
	char path[600], cmd[1200], out[4096];
	size_t got;
	FILE *f;
	bool ok;

	snprintf(cmd, sizeof(cmd), "rm -f '%s'/*", dir);
	assert_int_equal(system(cmd), 0);
	for (size_t i = 0; i < init->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, init->files[i].name);
		spit(path, init->files[i].data.data, init->files[i].data.len);
	}
	snprintf(path, sizeof(path), "%s/run.script", dir);
	spit(path, (const uint8_t *)script, len);
	/* bounded: a file size limit and a timeout, whatever sigtool does */
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && ulimit -f 4096 && timeout 20 sigtool --run-cdiff=run.script 2>&1", dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	got = fread(out, 1, sizeof(out) - 1, f);
	out[got] = '\0';
	pclose(f);
	ok = strstr(out, "LibClamAV Error") == NULL;
	for (size_t i = 0; ok && i < sizeof(diff_files) / sizeof(diff_files[0]); i++) {
		size_t n;
		uint8_t *p;
		snprintf(path, sizeof(path), "%s/%s", dir, diff_files[i]);
		if (access(path, F_OK) != 0)
			continue;
		p = slurp(path, &n);
		assert_int_equal(memfiles_add(result, diff_files[i], p, n), VG_OK);
		free(p);
	}
	return ok;
}

static void copy_files(const struct memfiles *from, struct memfiles *to)
{
	for (size_t i = 0; i < from->n; i++)
		assert_int_equal(memfiles_add(to, from->files[i].name, from->files[i].data.data,
					      from->files[i].data.len), VG_OK);
}

static void scripts_agree_with_sigtool(void **state)
{
	char dir[256];
	unsigned agree_ok = 0, agree_fail = 0;
	(void)state;

	if (access("/usr/bin/sigtool", X_OK) != 0)
		skip();
	assert_non_null(tmpdb_dir(dir, sizeof(dir)));
	/* fixed by default; VG_CDIFF_SEED and VG_CDIFF_ROUNDS explore further */
	rng_state = getenv("VG_CDIFF_SEED") ? (uint32_t)strtoul(getenv("VG_CDIFF_SEED"), NULL, 10)
					    : 20261124u;
	int rounds = getenv("VG_CDIFF_ROUNDS") ? atoi(getenv("VG_CDIFF_ROUNDS")) : 150;
	for (int round = 0; round < rounds; round++) {
		struct memfiles init = {NULL, 0}, ours = {NULL, 0}, theirs = {NULL, 0};
		struct buf script;
		char err[600] = "";
		bool ours_ok = true, theirs_ok;

		for (int fi = 0; fi < 2; fi++) {
			char text[400] = "";
			uint32_t n = fi == 0 ? 2 + rnd(6) : rnd(5);
			for (uint32_t k = 1; k <= n; k++)
				snprintf(text + strlen(text), sizeof(text) - strlen(text), "%c%u:%x\n",
					 'A' + fi, k, rnd(0xfff));
			if (fi == 0 || n > 0)
				assert_int_equal(memfiles_add(&init, diff_files[fi], (const uint8_t *)text,
							      strlen(text)), VG_OK);
		}
		copy_files(&init, &ours);
		buf_init(&script, 1u << 16);
		for (uint32_t b = 0, nb = 1 + rnd(4); b < nb && ours_ok; b++) {
			size_t start = script.len;
			gen_block(&ours, &script);
			ours_ok = cdiff_apply_script(&ours, (const char *)script.data + start,
						     script.len - start, "gen", err, sizeof(err)) == VG_OK;
		}
		theirs_ok = run_sigtool(dir, &init, (const char *)script.data, script.len, &theirs);
		if (ours_ok != theirs_ok) {
			print_message("round %d: vigil %s, sigtool %s; script:\n%.*s%s\n", round,
				      ours_ok ? "applied" : "refused", theirs_ok ? "applied" : "refused",
				      (int)script.len, (const char *)script.data, err);
			fail();
		}
		if (ours_ok) {
			agree_ok++;
			if (ours.n != theirs.n) {
				print_message("round %d: vigil has %zu files, sigtool %zu; script:\n%.*s",
					      round, ours.n, theirs.n, (int)script.len,
					      (const char *)script.data);
				fail();
			}
			for (size_t i = 0; i < theirs.n; i++) {
				struct memfile *o = NULL;
				for (size_t j = 0; j < ours.n; j++)
					if (strcmp(ours.files[j].name, theirs.files[i].name) == 0)
						o = &ours.files[j];
				assert_non_null(o);
				if (o->data.len != theirs.files[i].data.len ||
				    (o->data.len &&
				     memcmp(o->data.data, theirs.files[i].data.data, o->data.len) != 0)) {
					print_message("round %d: %s differs; script:\n%.*s", round, o->name,
						      (int)script.len, (const char *)script.data);
					fail();
				}
			}
		} else {
			agree_fail++;
		}
		buf_free(&script);
		memfiles_free(&init);
		memfiles_free(&ours);
		memfiles_free(&theirs);
	}
	print_message("sigtool and vigil agree on %u applied and %u refused scripts\n", agree_ok,
		      agree_fail);
	assert_true(agree_ok >= 30 && agree_fail >= 10); /* both paths were exercised */
	tmpdb_cleanup(dir);
}

static void dsig_rejects_wrong_digests(void **state)
{
	const char *sig = "Dou6ICRT5HwLTtLNYToHsMoLnt8tdcQOEECp/INsusRs9Rz4JGWU27W76btwjszaKIHnfgfyFjHzls"
			  "YJxTFZoeYFLyaC1nd+SNSWaMyKeNvzcTrtxKbc5WKs04ORp923pFkqymRhFNrRupa8tVyrp9XN9W"
			  "bdxVJKZNHzB6npPPj";
	uint8_t md5[16];
	size_t bad;
	(void)state;

	assert_true(hex_decode("3e249e00076b0b15bb54ced37be880c7", 32, md5, &bad));
	assert_true(dsig_verify_md5(sig, strlen(sig), md5));
	md5[15] ^= 1;
	assert_false(dsig_verify_md5(sig, strlen(sig), md5));
	md5[15] ^= 1;
	assert_false(dsig_verify_md5(sig, strlen(sig) - 1, md5));
	assert_false(dsig_verify_md5("!!!", 3, md5));
	assert_false(dsig_verify_md5("", 0, md5));
	/* the same number under another key means nothing */
	{
		uint8_t sha[32] = {0};
		memcpy(sha, md5, 16);
		assert_false(dsig_verify_sha256(DSIG_KEY_INFO, sig, strlen(sig), sha));
	}
}

/* The compiled cache is keyed on the identity of every database file: a
 * container replaced by a newer one under the same name is a miss. */
static int compile_version(const char *db, const char *cache, enum vg_cache_state *state)
{
	struct vg_engine_options o;
	struct vg_engine *e;
	struct vg_db_info di;
	int v;

	vg_engine_options_init(&o);
	o.cache_dir = cache;
	assert_int_equal(vg_engine_new(&o, &e), VG_OK);
	assert_int_equal(vg_engine_load(e, db, VG_LOAD_REQUIRE_DB), VG_OK);
	assert_int_equal(vg_engine_compile(e), VG_OK);
	*state = vg_engine_cache_state(e);
	assert_int_equal(vg_engine_db_info(e, 0, &di), VG_OK);
	v = (int)di.version;
	vg_engine_unref(e);
	return v;
}

static void cache_follows_container_identity(void **state)
{
	char dir[256], db[300], cache[300], path[400];
	enum vg_cache_state cs;
	size_t len;
	uint8_t *p;
	(void)state;

	assert_non_null(tmpdb_dir(dir, sizeof(dir)));
	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	assert_int_equal(mkdir(db, 0700), 0);
	snprintf(path, sizeof(path), "%s/test.cvd", db);
	p = slurp(UP "test-5.cvd", &len);
	spit(path, p, len);
	free(p);
	assert_int_equal(compile_version(db, cache, &cs), 5);
	assert_int_equal(cs, VG_CACHE_BUILT);
	assert_int_equal(compile_version(db, cache, &cs), 5);
	assert_int_equal(cs, VG_CACHE_HIT);
	/* replaced in place, as an updater renames a new file over the old */
	snprintf(path, sizeof(path), "%s/test.cvd.new", db);
	p = slurp(UP "test-6.cvd", &len);
	spit(path, p, len);
	free(p);
	{
		char final[400];
		snprintf(final, sizeof(final), "%s/test.cvd", db);
		assert_int_equal(rename(path, final), 0);
	}
	assert_int_equal(compile_version(db, cache, &cs), 6);
	assert_int_equal(cs, VG_CACHE_BUILT);
	tmpdb_cleanup(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_upstream_containers_verify),
		cmocka_unit_test(tampered_copies_are_refused),
		cmocka_unit_test(cld_manifest_and_members_are_checked),
		cmocka_unit_test(hostile_members_are_refused),
		cmocka_unit_test(cdiffs_give_the_next_version),
		cmocka_unit_test(bad_cdiffs_change_nothing),
		cmocka_unit_test(script_commands),
		cmocka_unit_test(scripts_agree_with_sigtool),
		cmocka_unit_test(dsig_rejects_wrong_digests),
		cmocka_unit_test(cache_follows_container_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
