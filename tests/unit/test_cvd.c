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
		 "MOVE a.ndb b.ndb 1 one 1 one\nOPEN c.ndb\nADD c1\nCLOSE\n";
	assert_int_equal(cdiff_apply_script(&m, script, strlen(script), "s.cdiff", err, sizeof(err)),
			 VG_OK);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.files[0].data.len, strlen("THREE:new\nfour\nfive\n"));
	assert_memory_equal(m.files[0].data.data, "THREE:new\nfour\nfive\n", m.files[0].data.len);
	assert_memory_equal(m.files[1].data.data, "one\n", 4);
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
		{"MOVE a.ndb b.ndb 1 THREE 9 x\n", "do not match"},
		{"OPEN new.ndb\nDEL 1 x\nCLOSE\n", "does not exist"},
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
		cmocka_unit_test(dsig_rejects_wrong_digests),
		cmocka_unit_test(cache_follows_container_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
