/*
 * update_cmd.c - `vigil update`: fetch, verify and install signed database
 * releases (docs/UPDATES.md).
 *
 * Nothing a mirror serves is trusted: every byte is checked against notes
 * signed by thresholds of keys that chain to the root the user installed,
 * and every release must be in the public log with the witnesses' quorum.
 * Order (trust-design §1.5.3): root rotations, timestamp, manifest, log
 * proof and consistency with the last checkpoint, files, atomic install,
 * state, daemon reload. The state (trusted root, last timestamp, manifest
 * and checkpoint, installed version) is one SQLite database, replaced in a
 * single transaction.
 *
 * Requests carry no identifier: a constant User-Agent, no cookies, no
 * query strings, the same paths for every client.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include <vigil.h>

#include "commands.h"
#include "config.h"
#include "databases.h"
#include "files.h"
#include "publish.h"
#include "update.h"

/* Exit statuses */
enum { EXIT_UPDATED = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
	"Usage: vigil update [options]\n"
	"\n"
	"Fetches the newest signed database release from the configured mirrors,\n"
	"verifies it (root rotations, timestamp, manifest, k-of-n release signatures,\n"
	"expiry, rollback, log inclusion and consistency, witness cosignatures, file\n"
	"hashes) and installs it atomically; then asks a running vigild to reload.\n"
	"\n"
	"Options:\n"
	"  --config FILE        vigil.conf to read (default " VIGIL_DEFAULT_CONFIG ")\n"
	"  --mirror URL         a mirror (repeatable; replaces UpdateMirror lines)\n"
	"  --offline DIR        take the release from a mirror folder (USB stick)\n"
	"  --root FILE          trust anchor for the first update (UpdateRoot,\n"
	"                       default " DEFAULT_ROOT ")\n"
	"  --state-dir DIR      update state (UpdateStateDirectory, default\n"
	"                       " DEFAULT_STATE_DIR ")\n"
	"  --db-dir DIR         where databases are installed (DatabaseDirectory,\n"
	"                       default " DEFAULT_DB_DIR ")\n"
	"  --timeout SECONDS    per download (UpdateTimeout, default 300)\n"
	"  --notify-socket PATH vigild's socket to send RELOAD to (UpdateNotifySocket,\n"
	"                       default " DEFAULT_NOTIFY_SOCKET ")\n"
	"  --no-reload          do not tell vigild\n"
	"  --clamav             update ClamAV's official databases instead (.cvd and\n"
	"                       .cdiff signed by Cisco-Talos) from ClamAVMirror (or\n"
	"                       --mirror) into ClamAVDatabaseDirectory (or --db-dir,\n"
	"                       default " VT_CLAMAV_DB_DIR "); no trust anchor needed\n"
	"  --database NAME      with --clamav: a database to keep current (repeatable;\n"
	"                       replaces ClamAVDatabase lines; default main daily\n"
	"                       bytecode)\n"
	"  -q, --quiet          only errors\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 updated or already up to date, 1 refused or failed (the\n"
	"installed database is unchanged), 2 usage or configuration error.\n";


/* Fault injection for the crash tests: only the test twin of vigil
 * (tests/update, built with VU_CRASH_POINTS) has it; there
 * VIGIL_TEST_UPDATE_CRASH_AT=<step> kills the process at that step, so the
 * tests show that a crash anywhere leaves the old or the new database whole
 * and the state consistent. */
#ifdef VU_CRASH_POINTS
static void crash_point(const char *step)
{
	const char *at = getenv("VIGIL_TEST_UPDATE_CRASH_AT");
	if (at != NULL && strcmp(at, step) == 0)
		raise(SIGKILL);
}
#else
static void crash_point(const char *step)
{
	(void)step;
}
#endif

/* ---- evidence of log misbehaviour ---- */

static void save_evidence(struct upd *u, const char *old_note, size_t old_len,
			  const char *new_note, size_t new_len, const char *mirror)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], t[21], err[PATH_MAX + 64];
	vg_time_format(u->now, t);
	snprintf(dir, sizeof(dir), "%s/evidence/%s", u->state_dir, t);
	if (vt_mkdirs(dir, 0700) != 0) {
		fprintf(stderr, "ERROR: cannot keep evidence in %s: %s\n", dir, strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/old.checkpoint", dir);
	if (vt_file_write_atomic(path, old_note, old_len, 0600, err, sizeof(err)) != 0)
		fprintf(stderr, "ERROR: %s\n", err);
	snprintf(path, sizeof(path), "%s/new.checkpoint", dir);
	if (vt_file_write_atomic(path, new_note, new_len, 0600, err, sizeof(err)) != 0)
		fprintf(stderr, "ERROR: %s\n", err);
	snprintf(path, sizeof(path), "%s/mirror", dir);
	char line[PATH_MAX + 2];
	int n = snprintf(line, sizeof(line), "%s\n", mirror);
	(void)vt_file_write_atomic(path, line, (size_t)n, 0600, err, sizeof(err));
	fprintf(stderr, "Evidence kept in %s (both checkpoints, signed by the log: report them "
			"to the publisher and the witnesses)\n",
		dir);
}

/* ---- the update from one mirror ---- */

struct release {
	char *root_notes[VG_TRUST_MAX_ROOT_STEPS];
	size_t root_lens[VG_TRUST_MAX_ROOT_STEPS];
	size_t nroots;
	char *ts;
	size_t ts_len;
	struct vg_timestamp tsi;
	char *manifest;
	size_t manifest_len;
	struct vg_manifest *m;
	char manifest_hex[65];
	char *cp; /* the checkpoint to store (NULL: keep the stored one) */
	size_t cp_len;
	char stage[PATH_MAX];
};

static void release_free(struct release *r)
{
	for (size_t i = 0; i < r->nroots; i++)
		free(r->root_notes[i]);
	free(r->ts);
	free(r->manifest);
	vg_manifest_free(r->m);
	free(r->cp);
}

static int step_roots(struct upd *u, const char *mirror, struct release *r)
{
	char why[PATH_MAX + 256];
	for (size_t i = 0; i < VG_TRUST_MAX_ROOT_STEPS; i++) {
		char rel[64], *note;
		size_t len;
		uint64_t next = vg_root_version(u->root) + 1;
		snprintf(rel, sizeof(rel), "root/%llu.note", (unsigned long long)next);
		enum fetch_result fr = upd_fetch_mem(u, mirror, rel, VG_TRUST_MAX_NOTE, &note, &len, why,
						 sizeof(why));
		if (fr == FETCH_NOTFOUND)
			break;
		if (fr == FETCH_TOOBIG)
			return upd_refuse(u, VG_TRUST_MALFORMED, "%s", why);
		if (fr != FETCH_OK)
			return upd_refuse(u, VG_TRUST_OK, "%s", why);
		struct vg_root *nr;
		struct vg_trust_error terr;
		if (vg_root_next(u->root, note, len, &nr, &terr) != VG_OK) {
			free(note);
			return upd_refuse(u, terr.fault, "%s: %s", rel, terr.msg);
		}
		if (vg_root_roles_changed(u->root, nr))
			u->roots_changed = 1;
		upd_info(u, "Root rotated: version %llu -> %llu", (unsigned long long)next - 1,
		     (unsigned long long)next);
		vg_root_free(u->root);
		u->root = nr;
		r->root_notes[r->nroots] = note;
		r->root_lens[r->nroots++] = len;
	}
	struct vg_trust_error terr;
	if (vg_root_check_fresh(u->root, u->now, &terr) != VG_OK)
		return upd_refuse(u, terr.fault, "%s", terr.msg);
	if (u->roots_changed) {
		/* fast-forward recovery: versions signed by replaced keys mean nothing */
		u->ts_version = 0;
		u->manifest_version = 0;
		free(u->ts_note);
		u->ts_note = NULL;
		u->ts_note_len = 0;
	}
	return 0;
}

static int step_timestamp(struct upd *u, const char *mirror, struct release *r, int *up_to_date)
{
	char why[PATH_MAX + 256];
	struct vg_trust_error terr;
	enum fetch_result fr = upd_fetch_mem(u, mirror, "timestamp.note", VG_TRUST_MAX_TIMESTAMP, &r->ts,
					 &r->ts_len, why, sizeof(why));
	if (fr == FETCH_TOOBIG)
		return upd_refuse(u, VG_TRUST_MALFORMED, "timestamp: %s", why);
	if (fr != FETCH_OK)
		return upd_refuse(u, VG_TRUST_OK, "%s", why);
	if (vg_timestamp_verify(u->root, r->ts, r->ts_len, u->now, &r->tsi, &terr) != VG_OK)
		return upd_refuse(u, terr.fault, "%s", terr.msg);
	if (r->tsi.version < u->ts_version)
		return upd_refuse(u, VG_TRUST_ROLLBACK,
			      "timestamp: rollback: version %llu is older than the trusted version "
			      "%llu (a mirror replaying old metadata)",
			      (unsigned long long)r->tsi.version, (unsigned long long)u->ts_version);
	if (r->tsi.version == u->ts_version && u->ts_note != NULL) {
		if (r->ts_len != u->ts_note_len || memcmp(r->ts, u->ts_note, r->ts_len) != 0)
			return upd_refuse(u, VG_TRUST_FORK,
				      "timestamp: fork: version %llu differs from the one trusted "
				      "earlier with the same version (the timestamp key signed two "
				      "different timestamps)",
				      (unsigned long long)r->tsi.version);
		if (u->installed_version == r->tsi.manifest_version)
			*up_to_date = 1;
	}
	if (r->tsi.manifest_version < u->manifest_version)
		return upd_refuse(u, VG_TRUST_ROLLBACK,
			      "timestamp: rollback: it names manifest version %llu, older than the "
			      "installed version %llu",
			      (unsigned long long)r->tsi.manifest_version,
			      (unsigned long long)u->manifest_version);
	return 0;
}

static int step_manifest(struct upd *u, const char *mirror, struct release *r)
{
	char why[PATH_MAX + 256], rel[128];
	struct vg_trust_error terr;
	uint8_t h[32];

	vp_hex(r->tsi.manifest_sha256, 32, r->manifest_hex);
	snprintf(rel, sizeof(rel), "manifest/%s.note", r->manifest_hex);
	enum fetch_result fr = upd_fetch_mem(u, mirror, rel, r->tsi.manifest_size, &r->manifest,
					 &r->manifest_len, why, sizeof(why));
	if (fr == FETCH_TOOBIG)
		return upd_refuse(u, VG_TRUST_HASH_MISMATCH,
			      "manifest: larger than the %llu bytes the timestamp names (%s)",
			      (unsigned long long)r->tsi.manifest_size, why);
	if (fr != FETCH_OK)
		return upd_refuse(u, VG_TRUST_OK, "%s", why);
	vp_sha256(r->manifest, r->manifest_len, h);
	if (r->manifest_len != r->tsi.manifest_size ||
	    CRYPTO_memcmp(h, r->tsi.manifest_sha256, 32) != 0)
		return upd_refuse(u, VG_TRUST_HASH_MISMATCH,
			      "manifest: hash mismatch: %s is not the manifest the timestamp signs "
			      "(mix-and-match or a tampered mirror)",
			      rel);
	if (vg_manifest_verify(u->root, r->manifest, r->manifest_len, u->now, &r->m, &terr) != VG_OK)
		return upd_refuse(u, terr.fault, "%s", terr.msg);
	if (r->m->version != r->tsi.manifest_version)
		return upd_refuse(u, VG_TRUST_HASH_MISMATCH,
			      "manifest: version %llu, the timestamp says %llu (mix-and-match)",
			      (unsigned long long)r->m->version,
			      (unsigned long long)r->tsi.manifest_version);
	if (r->m->version < u->manifest_version)
		return upd_refuse(u, VG_TRUST_ROLLBACK,
			      "manifest: rollback: version %llu is older than the installed version "
			      "%llu",
			      (unsigned long long)r->m->version, (unsigned long long)u->manifest_version);
	if (r->m->version == u->manifest_version && u->manifest_note != NULL &&
	    (u->manifest_note_len != r->manifest_len ||
	     memcmp(u->manifest_note, r->manifest, r->manifest_len) != 0))
		return upd_refuse(u, VG_TRUST_FORK,
			      "manifest: fork: version %llu differs from the manifest installed "
			      "with the same version (the release keys signed two different releases)",
			      (unsigned long long)r->m->version);
	if (r->m->engine_min > VG_FLEVEL)
		return upd_refuse(u, VG_TRUST_ENGINE_TOO_OLD,
			      "manifest: version %llu needs engine level %u, this vigil has %u: "
			      "upgrade vigil (the installed database stays in use)",
			      (unsigned long long)r->m->version, r->m->engine_min, VG_FLEVEL);
	return 0;
}

static int step_log(struct upd *u, const char *mirror, struct release *r)
{
	char why[PATH_MAX + 256], rel[128], *proof;
	size_t plen, off;
	struct vg_trust_error terr;
	struct vg_checkpoint cp, old;

	snprintf(rel, sizeof(rel), "manifest/%s.tlog-proof", r->manifest_hex);
	enum fetch_result fr = upd_fetch_mem(u, mirror, rel, MAX_PROOF, &proof, &plen, why, sizeof(why));
	if (fr == FETCH_NOTFOUND)
		return upd_refuse(u, VG_TRUST_NOT_LOGGED,
			      "manifest version %llu: not logged: the mirror has no log proof (%s); "
			      "unlogged releases are never installed",
			      (unsigned long long)r->m->version, rel);
	if (fr != FETCH_OK)
		return upd_refuse(u, fr == FETCH_TOOBIG ? VG_TRUST_MALFORMED : VG_TRUST_OK, "%s", why);
	if (vg_tlog_proof_verify(u->root, proof, plen, r->manifest, r->manifest_len, u->now, &cp,
				 &off, &terr) != VG_OK) {
		free(proof);
		return upd_refuse(u, terr.fault, "%s", terr.msg);
	}
	const char *cpn = proof + off;
	size_t cpl = plen - off;
	if (u->cp_note == NULL ||
	    vg_checkpoint_parse(u->cp_note, u->cp_note_len, &old, &terr) != VG_OK ||
	    strcmp(old.origin, cp.origin) != 0) {
		/* first checkpoint from this log */
		goto accept;
	}
	if (cp.size < old.size) {
		free(proof);
		return upd_refuse(u, VG_TRUST_ROLLBACK,
			      "log: rollback: checkpoint of size %llu is older than the trusted size "
			      "%llu",
			      (unsigned long long)cp.size, (unsigned long long)old.size);
	}
	if (cp.size == old.size) {
		if (CRYPTO_memcmp(cp.root, old.root, 32) != 0) {
			save_evidence(u, u->cp_note, u->cp_note_len, cpn, cpl, mirror);
			free(proof);
			u->security_stop = 1;
			return upd_refuse(u, VG_TRUST_LOG_INCONSISTENT,
				      "log inconsistency (split view): two checkpoints of size %llu "
				      "with different roots, both signed by log '%s'",
				      (unsigned long long)cp.size, cp.origin);
		}
		goto accept;
	}
	/* larger: prove the old tree is a prefix of the new one, from the tiles */
	uint8_t(*leaves)[32] = NULL;
	uint8_t root[32], hashes[VG_MERKLE_MAX_PROOF][32];
	size_t count;
	if (upd_fetch_leaves(u, mirror, cp.size, &leaves) != 0 ||
	    vg_merkle_root((const uint8_t(*)[32])leaves, cp.size, root) != VG_OK ||
	    CRYPTO_memcmp(root, cp.root, 32) != 0) {
		free(leaves);
		/* the tiles are missing or are not this checkpoint's: consistency
		 * cannot be checked now. The witnesses vouched for it; keep the old
		 * checkpoint so the check is made on the next update. */
		if (!u->quiet)
			fprintf(stderr, "WARNING: log consistency not checked: the mirror's tiles do "
					"not give the checkpoint of size %llu; relying on the "
					"witnesses, checking again next time\n",
				(unsigned long long)cp.size);
		free(proof);
		return 0;
	}
	enum vg_status st = vg_merkle_consistency_proof((const uint8_t(*)[32])leaves, cp.size,
							old.size, hashes, &count);
	free(leaves);
	if (st != VG_OK || vg_merkle_consistency_verify(old.size, cp.size, old.root, cp.root,
							 (const uint8_t(*)[32])hashes, count) != VG_OK) {
		save_evidence(u, u->cp_note, u->cp_note_len, cpn, cpl, mirror);
		free(proof);
		u->security_stop = 1;
		return upd_refuse(u, VG_TRUST_LOG_INCONSISTENT,
			      "log inconsistency: the checkpoint of size %llu does not extend the "
			      "trusted one of size %llu (the log rewrote its history)",
			      (unsigned long long)cp.size, (unsigned long long)old.size);
	}
accept:
	r->cp = malloc(cpl);
	if (r->cp == NULL) {
		free(proof);
		return upd_refuse(u, VG_TRUST_OK, "out of memory");
	}
	memcpy(r->cp, cpn, cpl);
	r->cp_len = cpl;
	free(proof);
	return 0;
}

/* ---- files and install ---- */

static void db_paths(const struct upd *u, char *parent, size_t pcap, char *name, size_t ncap)
{
	const char *s = strrchr(u->db_dir, '/');
	if (s == NULL) {
		snprintf(parent, pcap, ".");
		snprintf(name, ncap, "%s", u->db_dir);
	} else {
		snprintf(parent, pcap, "%.*s", s == u->db_dir ? 1 : (int)(s - u->db_dir), u->db_dir);
		snprintf(name, ncap, "%s", s + 1);
	}
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char p[PATH_MAX];
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int copy_verified(const char *from, const char *to, const struct vg_manifest_file *f)
{
	uint8_t h[32];
	uint64_t size;
	if (vp_sha256_file(from, h, &size) != 0 || size != f->size ||
	    CRYPTO_memcmp(h, f->sha256, 32) != 0)
		return -1;
	if (link(from, to) == 0)
		return 0;
	char *data, err[PATH_MAX + 64];
	size_t len;
	if (vt_file_read(from, (size_t)f->size, &data, &len, err, sizeof(err)) != 0)
		return -1;
	int rc = vt_file_write_atomic(to, data, len, 0444, err, sizeof(err));
	free(data);
	return rc;
}

static int step_files(struct upd *u, const char *mirror, struct release *r)
{
	char parent[PATH_MAX], name[NAME_MAX + 1], why[PATH_MAX + 256];
	uint64_t fetched = 0, reused = 0;

	db_paths(u, parent, sizeof(parent), name, sizeof(name));
	if (vt_mkdirs(parent, 0755) != 0)
		return upd_refuse(u, VG_TRUST_OK, "cannot create %s: %s", parent, strerror(errno));
	if (snprintf(r->stage, sizeof(r->stage), "%s/.%s.staging", parent, name) >=
	    (int)sizeof(r->stage))
		return upd_refuse(u, VG_TRUST_OK, "%s: path too long", u->db_dir);
	remove_tree(r->stage); /* left by a crash */
	if (mkdir(r->stage, 0755) != 0)
		return upd_refuse(u, VG_TRUST_OK, "cannot create %s: %s", r->stage, strerror(errno));
	for (size_t i = 0; i < r->m->nfiles; i++) {
		const struct vg_manifest_file *f = &r->m->files[i];
		char dst[PATH_MAX + NAME_MAX + 2], cur[PATH_MAX + NAME_MAX + 2], hex[65];
		snprintf(dst, sizeof(dst), "%s/%s", r->stage, f->name);
		snprintf(cur, sizeof(cur), "%s/%s", u->db_dir, f->name);
		/* only what changed is downloaded */
		if (copy_verified(cur, dst, f) == 0) {
			reused++;
			continue;
		}
		vp_hex(f->sha256, 32, hex);
		char rel[128];
		snprintf(rel, sizeof(rel), "blob/%s", hex);
		struct sink s = { .fd = -1, .max = f->size };
		s.fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		s.md = EVP_MD_CTX_new();
		if (s.fd < 0 || s.md == NULL || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
			if (s.fd >= 0)
				close(s.fd);
			EVP_MD_CTX_free(s.md);
			return upd_refuse(u, VG_TRUST_OK, "cannot create %s: %s", dst, strerror(errno));
		}
		enum fetch_result fr = upd_fetch(u, mirror, rel, &s, why, sizeof(why));
		uint8_t h[32];
		unsigned int hl = 32;
		EVP_DigestFinal_ex(s.md, h, &hl);
		EVP_MD_CTX_free(s.md);
		int sync_err = fr == FETCH_OK && fsync(s.fd) != 0 ? errno : 0;
		close(s.fd);
		if (s.write_errno || sync_err)
			return upd_refuse(u, VG_TRUST_OK,
				      "cannot write %s: %s (the installed database is unchanged)",
				      dst, strerror(s.write_errno ? s.write_errno : sync_err));
		if (fr == FETCH_TOOBIG)
			return upd_refuse(u, VG_TRUST_HASH_MISMATCH,
				      "%s: the mirror sent more than the %llu bytes the manifest lists "
				      "(endless data); download stopped",
				      f->name, (unsigned long long)f->size);
		if (fr != FETCH_OK)
			return upd_refuse(u, VG_TRUST_OK, "%s", why);
		if (s.total != f->size || CRYPTO_memcmp(h, f->sha256, 32) != 0)
			return upd_refuse(u, VG_TRUST_HASH_MISMATCH,
				      "%s: hash mismatch: the mirror's %s is not the file the "
				      "manifest signs (%llu bytes received, %llu listed)",
				      f->name, rel, (unsigned long long)s.total,
				      (unsigned long long)f->size);
		fetched++;
	}
	if (vt_fsync_path(r->stage) != 0)
		return upd_refuse(u, VG_TRUST_OK, "cannot sync %s: %s", r->stage, strerror(errno));
	upd_info(u, "Files: %llu downloaded, %llu unchanged", (unsigned long long)fetched,
	     (unsigned long long)reused);
	crash_point("staged");
	return 0;
}

/* The new version becomes visible in one rename of the db symlink. */
static int step_install(struct upd *u, struct release *r)
{
	char parent[PATH_MAX], name[NAME_MAX + 1], vdir[PATH_MAX + NAME_MAX + 64],
		vname[NAME_MAX + 1], link_tmp[PATH_MAX + NAME_MAX + 16];
	struct stat st;

	db_paths(u, parent, sizeof(parent), name, sizeof(name));
	if (snprintf(vname, sizeof(vname), "%s.v%llu-%.12s", name,
		     (unsigned long long)r->m->version, r->manifest_hex) >= (int)sizeof(vname))
		return upd_refuse(u, VG_TRUST_OK, "%s: name too long", u->db_dir);
	snprintf(vdir, sizeof(vdir), "%s/%s", parent, vname);
	if (lstat(vdir, &st) == 0) {
		/* the same release again (a repair): never touch the folder in use */
		size_t l = strlen(vname);
		snprintf(vname + l, sizeof(vname) - l, ".%lld", (long long)u->now);
		snprintf(vdir, sizeof(vdir), "%s/%s", parent, vname);
	}
	if (lstat(u->db_dir, &st) == 0 && !S_ISLNK(st.st_mode)) {
		if (S_ISDIR(st.st_mode) && rmdir(u->db_dir) == 0) {
			/* an empty folder made by the package: replaced by the link */
		} else {
			return upd_refuse(u, VG_TRUST_OK,
				      "%s is a folder with files that 'vigil update' did not install: "
				      "move them elsewhere (e.g. next to it) and run again",
				      u->db_dir);
		}
	}
	remove_tree(vdir);
	if (rename(r->stage, vdir) != 0)
		return upd_refuse(u, VG_TRUST_OK, "cannot rename %s: %s", r->stage, strerror(errno));
	r->stage[0] = '\0';
	snprintf(link_tmp, sizeof(link_tmp), "%s/.%s.link", parent, name);
	unlink(link_tmp);
	if (symlink(vname, link_tmp) != 0 || rename(link_tmp, u->db_dir) != 0) {
		unlink(link_tmp);
		return upd_refuse(u, VG_TRUST_OK, "cannot switch %s to %s: %s", u->db_dir, vdir,
			      strerror(errno));
	}
	if (vt_fsync_path(parent) != 0)
		return upd_refuse(u, VG_TRUST_OK, "cannot sync %s: %s", parent, strerror(errno));
	crash_point("swapped");
	return 0;
}

static int step_commit(struct upd *u, struct release *r)
{
	if (upd_state_begin(u) != 0)
		return upd_refuse(u, VG_TRUST_OK, "cannot save the update state: %s",
			      sqlite3_errmsg(u->db));
	int bad = 0;
	if (r->nroots > 0)
		bad |= upd_state_put(u, "root", r->root_notes[r->nroots - 1], r->root_lens[r->nroots - 1]);
	else if (upd_state_get_u64(u, "root-version") == 0)
		bad |= upd_state_put(u, "root", u->root_note, u->root_note_len);
	bad |= upd_state_put_u64(u, "root-version", vg_root_version(u->root));
	bad |= upd_state_put(u, "timestamp", r->ts, r->ts_len);
	bad |= upd_state_put_u64(u, "timestamp-version", r->tsi.version);
	bad |= upd_state_put(u, "manifest", r->manifest, r->manifest_len);
	bad |= upd_state_put_u64(u, "manifest-version", r->m->version);
	bad |= upd_state_put_u64(u, "manifest-expires", (uint64_t)r->m->expires);
	if (r->cp != NULL)
		bad |= upd_state_put(u, "checkpoint", r->cp, r->cp_len);
	bad |= upd_state_put_u64(u, "installed-version", r->m->version);
	bad |= upd_state_put_u64(u, "last-success", (uint64_t)u->now);
	if (bad) {
		upd_state_rollback(u);
		return upd_refuse(u, VG_TRUST_OK, "cannot save the update state: %s",
			      sqlite3_errmsg(u->db));
	}
	if (upd_state_commit(u) != 0)
		return upd_refuse(u, VG_TRUST_OK, "cannot save the update state");
	crash_point("committed");
	return 0;
}

/* Keeps the installed version and the one before; removes older ones. */
static void prune_versions(struct upd *u, const char *keep_prev)
{
	char parent[PATH_MAX], name[NAME_MAX + 1], target[PATH_MAX];
	db_paths(u, parent, sizeof(parent), name, sizeof(name));
	ssize_t n = readlink(u->db_dir, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	DIR *d = opendir(parent);
	struct dirent *e;
	size_t nl = strlen(name);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, name, nl) != 0 || strncmp(e->d_name + nl, ".v", 2) != 0)
			continue;
		if (strcmp(e->d_name, target) == 0 || (keep_prev && strcmp(e->d_name, keep_prev) == 0))
			continue;
		char p[PATH_MAX + NAME_MAX + 2];
		snprintf(p, sizeof(p), "%s/%s", parent, e->d_name);
		remove_tree(p);
	}
	closedir(d);
}

/* Sends RELOAD to vigild over its socket, as clamd clients do. */
static void notify_daemon(struct upd *u)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char reply[64];
	if (u->no_reload || u->notify == NULL || strlen(u->notify) >= sizeof(sa.sun_path))
		return;
	if (access(u->notify, F_OK) != 0)
		return; /* no daemon on this machine */
	memcpy(sa.sun_path, u->notify, strlen(u->notify) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, "zRELOAD", 8) != 8) {
		fprintf(stderr, "WARNING: cannot ask vigild to reload through %s: %s (send it "
				"SIGUSR2)\n",
			u->notify, strerror(errno));
		close(fd);
		return;
	}
	ssize_t n = read(fd, reply, sizeof(reply) - 1);
	close(fd);
	if (n > 0) {
		reply[n] = '\0';
		reply[strcspn(reply, "\n")] = '\0';
		upd_info(u, "vigild: %s", reply);
	}
}

/* Every file of m is in the installed folder with its size and hash. */
static int installed_matches(const struct upd *u, const struct vg_manifest *m)
{
	for (size_t i = 0; i < m->nfiles; i++) {
		char path[PATH_MAX + NAME_MAX + 2];
		uint8_t h[32];
		uint64_t size;
		snprintf(path, sizeof(path), "%s/%s", u->db_dir, m->files[i].name);
		if (vp_sha256_file(path, h, &size) != 0 || size != m->files[i].size ||
		    CRYPTO_memcmp(h, m->files[i].sha256, 32) != 0)
			return 0;
	}
	return 1;
}

/* A new timestamp (or checkpoint) for the release already installed: only
 * the state changes. */
static int commit_metadata(struct upd *u, struct release *r)
{
	int bad = upd_state_begin(u);
	if (bad == 0) {
		if (r->nroots > 0)
			bad |= upd_state_put(u, "root", r->root_notes[r->nroots - 1],
					 r->root_lens[r->nroots - 1]);
		bad |= upd_state_put_u64(u, "root-version", vg_root_version(u->root));
		if (r->ts != NULL) {
			bad |= upd_state_put(u, "timestamp", r->ts, r->ts_len);
			bad |= upd_state_put_u64(u, "timestamp-version", r->tsi.version);
		}
		if (r->cp != NULL)
			bad |= upd_state_put(u, "checkpoint", r->cp, r->cp_len);
		bad |= upd_state_put_u64(u, "last-success", (uint64_t)u->now);
		if (bad)
			upd_state_rollback(u);
		else
			bad = upd_state_commit(u);
	}
	return bad ? upd_refuse(u, VG_TRUST_OK, "cannot save the update state: %s",
			    sqlite3_errmsg(u->db))
		   : 0;
}

static int update_from(struct upd *u, const char *mirror)
{
	struct release r;
	int up_to_date = 0, rc = -1;
	char prev[PATH_MAX] = "";

	memset(&r, 0, sizeof(r));
	u->err.fault = VG_TRUST_OK;
	u->err.msg[0] = '\0';
	if (step_roots(u, mirror, &r) != 0 || step_timestamp(u, mirror, &r, &up_to_date) != 0)
		goto out;
	if (step_manifest(u, mirror, &r) != 0)
		goto out;
	if (up_to_date || (r.m->version == u->installed_version && u->manifest_note != NULL &&
			   u->manifest_note_len == r.manifest_len &&
			   memcmp(u->manifest_note, r.manifest, r.manifest_len) == 0)) {
		/* the release is installed: only check that its files are intact */
		if (installed_matches(u, r.m)) {
			if ((!up_to_date && step_log(u, mirror, &r) != 0) || commit_metadata(u, &r) != 0)
				goto out;
			upd_info(u, "Database is up to date (version %llu, timestamp %llu)",
			     (unsigned long long)u->installed_version,
			     (unsigned long long)r.tsi.version);
			rc = 1;
			goto out;
		}
		fprintf(stderr, "WARNING: the installed files of version %llu in %s differ from "
				"their manifest: installing them again\n",
			(unsigned long long)u->installed_version, u->db_dir);
	}
	if (step_log(u, mirror, &r) != 0)
		goto out;
	crash_point("verified");
	ssize_t n = readlink(u->db_dir, prev, sizeof(prev) - 1);
	prev[n > 0 ? n : 0] = '\0';
	if (step_files(u, mirror, &r) != 0 || step_install(u, &r) != 0 || step_commit(u, &r) != 0)
		goto out;
	prune_versions(u, prev[0] ? prev : NULL);
	char t[21];
	vg_time_format(r.m->expires, t);
	upd_info(u, "Installed database version %llu (%zu file%s) in %s; valid until %s",
	     (unsigned long long)r.m->version, r.m->nfiles, r.m->nfiles == 1 ? "" : "s",
	     u->db_dir, t);
	notify_daemon(u);
	rc = 0;
out:
	if (r.stage[0] != '\0')
		remove_tree(r.stage);
	release_free(&r);
	return rc;
}

static void config_warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "WARNING: %s\n", msg);
}

int cmd_update(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "offline", required_argument, NULL, 'O' },
		{ "root", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "db-dir", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "notify-socket", required_argument, NULL, 'n' },
		{ "no-reload", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "clamav", no_argument, NULL, 'C' },
		{ "database", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dbs[MAX_MIRRORS];
	size_t ndbs = 0;
	int clamav = 0;
	struct upd u;
	struct vt_config conf = { 0 };
	const char *config_path = VIGIL_DEFAULT_CONFIG, *timeout = NULL;
	int config_required = 0, c, rc = EXIT_USAGE;
	char msg[512];

	memset(&u, 0, sizeof(u));
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; config_required = 1; break;
		case 'm':
			if (u.nmirrors == MAX_MIRRORS) {
				fprintf(stderr, "ERROR: at most %d mirrors\n", MAX_MIRRORS);
				return EXIT_USAGE;
			}
			u.mirrors[u.nmirrors++] = optarg;
			break;
		case 'O': u.offline = optarg; break;
		case 'r': u.root_file = optarg; break;
		case 's': u.state_dir = optarg; break;
		case 'd': u.db_dir = optarg; break;
		case 't': timeout = optarg; break;
		case 'n': u.notify = optarg; break;
		case 'N': u.no_reload = 1; break;
		case 'q': u.quiet = 1; break;
		case 'C': clamav = 1; break;
		case 'D':
			if (ndbs == MAX_MIRRORS) {
				fprintf(stderr, "ERROR: at most %d databases\n", MAX_MIRRORS);
				return EXIT_USAGE;
			}
			dbs[ndbs++] = optarg;
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default:
			fputs("Run 'vigil update --help' for the options.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ERROR: vigil update takes no arguments ('%s')\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (vt_config_load(config_path, config_required, vt_vigil_conf_keys, config_warn, NULL,
			   &conf, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "ERROR: %s\n", msg);
		return EXIT_USAGE;
	}
	if (ndbs > 0 && !clamav) {
		fprintf(stderr, "ERROR: --database is for ClamAV's databases: add --clamav\n");
		goto out;
	}
	if (upd_conf_path_value(&conf, "UpdateStateDirectory", &u.state_dir) ||
	    upd_conf_path_value(&conf, clamav ? "ClamAVDatabaseDirectory" : "DatabaseDirectory",
				&u.db_dir) ||
	    upd_conf_path_value(&conf, "UpdateRoot", &u.root_file) ||
	    upd_conf_path_value(&conf, "UpdateNotifySocket", &u.notify))
		goto out;
	if (u.nmirrors == 0 && u.offline == NULL)
		for (const struct vt_config_entry *e = NULL;
		     (e = vt_config_next(&conf, clamav ? "ClamAVMirror" : "UpdateMirror", e)) != NULL;) {
			if (u.nmirrors < MAX_MIRRORS)
				u.mirrors[u.nmirrors++] = e->value;
		}
	if (timeout == NULL) {
		const struct vt_config_entry *e = vt_config_last(&conf, "UpdateTimeout");
		timeout = e ? e->value : "300";
	}
	char *end;
	u.timeout = strtol(timeout, &end, 10);
	if (*end != '\0' || u.timeout < 1 || u.timeout > 86400) {
		fprintf(stderr, "ERROR: timeout '%s': seconds from 1 to 86400\n", timeout);
		goto out;
	}
	if (u.state_dir == NULL)
		u.state_dir = DEFAULT_STATE_DIR;
	if (u.db_dir == NULL)
		u.db_dir = clamav ? VT_CLAMAV_DB_DIR : DEFAULT_DB_DIR;
	if (u.root_file == NULL)
		u.root_file = DEFAULT_ROOT;
	if (u.notify == NULL)
		u.notify = DEFAULT_NOTIFY_SOCKET;
	for (size_t i = 0; i < u.nmirrors; i++)
		if (upd_scheme_of(u.mirrors[i]) == NULL) {
			fprintf(stderr, "ERROR: mirror '%s': use https://, http:// or file:// URLs\n",
				u.mirrors[i]);
			goto out;
		}
	if (u.nmirrors == 0 && u.offline == NULL) {
		fprintf(stderr, "ERROR: no mirror: add '%s https://...' to %s, or use "
				"--mirror URL%s\n",
			clamav ? "ClamAVMirror" : "UpdateMirror", config_path,
			clamav ? "" : " or --offline DIR");
		goto out;
	}
	if (clamav) {
		if (u.offline != NULL) {
			fprintf(stderr, "ERROR: --offline is for vigil's own releases; for ClamAV's "
					"databases copy the .cvd files into %s\n",
				u.db_dir);
			goto out;
		}
		if (ndbs == 0)
			for (const struct vt_config_entry *e = NULL;
			     (e = vt_config_next(&conf, "ClamAVDatabase", e)) != NULL && ndbs < MAX_MIRRORS;)
				dbs[ndbs++] = e->value;
		if (ndbs == 0) {
			dbs[ndbs++] = "main";
			dbs[ndbs++] = "daily";
			dbs[ndbs++] = "bytecode";
		}
		for (size_t i = 0; i < ndbs; i++) {
			size_t n = strlen(dbs[i]);
			if (n == 0 || n > 48 || strspn(dbs[i], "abcdefghijklmnopqrstuvwxyz"
							      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n) {
				fprintf(stderr, "ERROR: database name '%s': letters, digits and '_' only "
						"(main, daily, bytecode)\n",
					dbs[i]);
				goto out;
			}
		}
		u.now = (int64_t)time(NULL);
		rc = EXIT_REFUSED;
		if (upd_state_open(&u) != 0)
			goto out;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		u.curl = curl_easy_init();
		if (u.curl == NULL) {
			fprintf(stderr, "ERROR: cannot start libcurl\n");
			goto out;
		}
		rc = upd_clamav(&u, dbs, ndbs) == 0 ? EXIT_UPDATED : EXIT_REFUSED;
		goto out;
	}
	if (u.offline != NULL) {
		u.nmirrors = 1;
		u.mirrors[0] = u.offline;
	}
	u.now = (int64_t)time(NULL);
	rc = EXIT_REFUSED;
	if (upd_state_open(&u) != 0 || upd_state_load(&u) != 0)
		goto out;
	if (u.offline == NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		u.curl = curl_easy_init();
		if (u.curl == NULL) {
			fprintf(stderr, "ERROR: cannot start libcurl\n");
			goto out;
		}
	}
	for (size_t i = 0; i < u.nmirrors; i++) {
		int r = update_from(&u, u.mirrors[i]);
		if (r >= 0) {
			rc = EXIT_UPDATED;
			break;
		}
		if (u.err.fault == VG_TRUST_LOG_INCONSISTENT)
			fprintf(stderr, "SECURITY ERROR: update refused (%s): %s\n",
				vg_trust_fault_name(u.err.fault), u.err.msg);
		else if (u.err.fault != VG_TRUST_OK)
			fprintf(stderr, "ERROR: update refused (%s): %s%s\n",
				vg_trust_fault_name(u.err.fault), u.err.msg,
				i + 1 < u.nmirrors ? "; trying the next mirror" : "");
		else
			fprintf(stderr, "ERROR: %s%s\n", u.err.msg,
				i + 1 < u.nmirrors ? "; trying the next mirror" : "");
		if (u.security_stop)
			break;
	}
	if (rc != EXIT_UPDATED) {
		fprintf(stderr, "The installed database is unchanged");
		if (u.installed_version)
			fprintf(stderr, " (version %llu)", (unsigned long long)u.installed_version);
		fputs(".\n", stderr);
		if (u.manifest_expires != 0 && u.now >= u.manifest_expires) {
			char t[21];
			vg_time_format(u.manifest_expires, t);
			fprintf(stderr, "WARNING: the database is stale since %s: no verified update "
					"since its release expired\n",
				t);
		}
	}
out:
	upd_close(&u);
	vt_config_free(&conf);
	return rc;
}
