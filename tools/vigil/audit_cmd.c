/*
 * audit_cmd.c - `vigil audit`: check a mirror's public log of releases.
 *
 * Anyone can run it, with no secret: it follows the root chain, verifies
 * the log's checkpoint (log key and witnesses), rebuilds the Merkle tree
 * from the tiles, checks that every logged entry is the manifest its leaf
 * hash names and was signed by the release threshold when it was issued,
 * and that versions only increase (two releases with one version are a
 * fork). With the update state it also proves that the log extends the
 * checkpoint this machine last trusted.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "commands.h"
#include "config.h"
#include "publish.h"
#include "update.h"

static const char audit_usage[] =
	"Usage: vigil audit [options]\n"
	"\n"
	"Checks the public log of releases on a mirror: the checkpoint's log signature\n"
	"and witness cosignatures, the Merkle tree against the tiles, every entry's\n"
	"release signatures, that versions only increase, and (with the update state)\n"
	"that the log extends the checkpoint this machine trusts. Lists every entry.\n"
	"\n"
	"Options:\n"
	"  --config FILE      vigil.conf to read (default " VIGIL_DEFAULT_CONFIG ")\n"
	"  --mirror URL       the mirror (default: the first UpdateMirror)\n"
	"  --offline DIR      a mirror folder\n"
	"  --root FILE        trust anchor (default: the update state's root, else\n"
	"                     UpdateRoot, else " DEFAULT_ROOT ")\n"
	"  --state-dir DIR    update state (UpdateStateDirectory, default\n"
	"                     " DEFAULT_STATE_DIR ")\n"
	"  --timeout SECONDS  per download (default 300)\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit status: 0 the log checks out, 1 a problem was found, 2 usage error.\n";

static void audit_config_warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "WARNING: %s\n", msg);
}

/* Follows root/<N+1>.note on the mirror as vigil update does. */
static int audit_roots(struct upd *u, const char *mirror)
{
	char why[PATH_MAX + 256];
	for (size_t i = 0; i < VG_TRUST_MAX_ROOT_STEPS; i++) {
		char rel[64], *note;
		size_t len;
		snprintf(rel, sizeof(rel), "root/%llu.note",
			 (unsigned long long)vg_root_version(u->root) + 1);
		enum fetch_result fr = upd_fetch_mem(u, mirror, rel, VG_TRUST_MAX_NOTE, &note, &len,
						     why, sizeof(why));
		if (fr == FETCH_NOTFOUND)
			return 0;
		if (fr != FETCH_OK) {
			fprintf(stderr, "ERROR: %s\n", why);
			return -1;
		}
		struct vg_root *nr;
		struct vg_trust_error terr;
		enum vg_status st = vg_root_next(u->root, note, len, &nr, &terr);
		free(note);
		if (st != VG_OK) {
			fprintf(stderr, "PROBLEM: %s: %s\n", rel, terr.msg);
			return -1;
		}
		vg_root_free(u->root);
		u->root = nr;
	}
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "offline", required_argument, NULL, 'O' },
		{ "root", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct upd u;
	struct vt_config conf = { 0 };
	const char *config_path = VIGIL_DEFAULT_CONFIG, *mirror = NULL;
	int config_required = 0, c, rc = 2, problems = 0;
	char msg[512], why[PATH_MAX + 256];
	char *cpnote = NULL;
	size_t cplen;
	uint8_t(*leaves)[32] = NULL;
	struct vg_checkpoint cp;
	struct vg_trust_error terr;

	memset(&u, 0, sizeof(u));
	u.timeout = 300;
	u.quiet = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; config_required = 1; break;
		case 'm': mirror = optarg; break;
		case 'O': u.offline = optarg; break;
		case 'r': u.root_file = optarg; break;
		case 's': u.state_dir = optarg; break;
		case 't': u.timeout = strtol(optarg, NULL, 10); break;
		case 'h': fputs(audit_usage, stdout); return 0;
		default:
			fputs("Run 'vigil audit --help' for the options.\n", stderr);
			return 2;
		}
	}
	if (optind != argc || u.timeout < 1) {
		fputs("ERROR: vigil audit takes options only (see --help)\n", stderr);
		return 2;
	}
	if (vt_config_load(config_path, config_required, vt_vigil_conf_keys, audit_config_warn,
			   NULL, &conf, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "ERROR: %s\n", msg);
		return 2;
	}
	if (upd_conf_path_value(&conf, "UpdateStateDirectory", &u.state_dir) ||
	    upd_conf_path_value(&conf, "UpdateRoot", &u.root_file))
		goto out;
	if (mirror == NULL && u.offline == NULL) {
		const struct vt_config_entry *e = vt_config_next(&conf, "UpdateMirror", NULL);
		mirror = e ? e->value : NULL;
	}
	if (mirror == NULL && u.offline == NULL) {
		fputs("ERROR: no mirror: use --mirror URL or --offline DIR, or set UpdateMirror\n",
		      stderr);
		goto out;
	}
	if (mirror != NULL && u.offline == NULL && upd_scheme_of(mirror) == NULL) {
		fprintf(stderr, "ERROR: mirror '%s': use https://, http:// or file:// URLs\n", mirror);
		goto out;
	}
	if (u.state_dir == NULL)
		u.state_dir = DEFAULT_STATE_DIR;
	if (u.root_file == NULL)
		u.root_file = DEFAULT_ROOT;
	rc = 1;
	u.now = (int64_t)time(NULL);
	/* the state is only read: an audit never changes what update trusts */
	char spath[PATH_MAX];
	snprintf(spath, sizeof(spath), "%s/state.sqlite", u.state_dir);
	if (access(spath, R_OK) == 0) {
		if (upd_state_open(&u) != 0)
			goto out;
	} else if (sqlite3_open_v2(":memory:", &u.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
		   sqlite3_exec(u.db, "CREATE TABLE state(key TEXT PRIMARY KEY, value BLOB NOT NULL)",
				NULL, NULL, NULL) != SQLITE_OK) {
		goto out;
	}
	if (upd_state_load(&u) != 0)
		goto out;
	if (u.offline == NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		u.curl = curl_easy_init();
		if (u.curl == NULL)
			goto out;
	}
	if (audit_roots(&u, mirror) != 0)
		goto out;
	if (upd_fetch_mem(&u, mirror, "log/checkpoint", VG_TRUST_MAX_NOTE, &cpnote, &cplen, why,
			  sizeof(why)) != FETCH_OK) {
		fprintf(stderr, "ERROR: %s\n", why);
		goto out;
	}
	if (vg_checkpoint_verify(u.root, cpnote, cplen, u.now, &cp, &terr) != VG_OK) {
		fprintf(stderr, "PROBLEM: log/checkpoint: %s\n", terr.msg);
		goto out;
	}
	char b64[45];
	vp_b64_32(cp.root, b64);
	printf("Log %s: %llu entries, root %s (root version %llu)\n", cp.origin,
	       (unsigned long long)cp.size, b64, (unsigned long long)vg_root_version(u.root));
	if (upd_fetch_leaves(&u, mirror, cp.size, &leaves) != 0) {
		fprintf(stderr, "PROBLEM: the log's tiles cannot be read\n");
		goto out;
	}
	uint8_t head[32];
	if (vg_merkle_root((const uint8_t(*)[32])leaves, cp.size, head) != VG_OK ||
	    CRYPTO_memcmp(head, cp.root, 32) != 0) {
		fprintf(stderr, "PROBLEM: the tiles do not give the checkpoint's root hash\n");
		goto out;
	}
	/* every entry */
	uint64_t *versions = calloc(cp.size + 1, sizeof(*versions));
	uint8_t(*hashes)[32] = calloc(cp.size + 1, 32);
	if (versions == NULL || hashes == NULL) {
		free(versions);
		free(hashes);
		goto out;
	}
	for (uint64_t i = 0; i < cp.size; i++) {
		char rel[64], *note = NULL, hex[65];
		size_t len;
		uint8_t leaf[32];
		snprintf(rel, sizeof(rel), "log/entries/%llu.note", (unsigned long long)i);
		if (upd_fetch_mem(&u, mirror, rel, VG_TRUST_MAX_MANIFEST + 65536, &note, &len, why,
				  sizeof(why)) != FETCH_OK) {
			printf("%6llu  PROBLEM: entry missing (%s)\n", (unsigned long long)i, why);
			problems++;
			continue;
		}
		vg_merkle_leaf_hash(note, len, leaf);
		if (CRYPTO_memcmp(leaf, leaves[i], 32) != 0) {
			printf("%6llu  PROBLEM: %s is not the entry the log holds\n",
			       (unsigned long long)i, rel);
			problems++;
			free(note);
			continue;
		}
		struct vg_manifest *m = NULL, *mv = NULL;
		vp_sha256(note, len, hashes[i]);
		vp_hex(hashes[i], 32, hex);
		if (vg_manifest_parse(note, len, &m, &terr) != VG_OK) {
			printf("%6llu  PROBLEM: %s\n", (unsigned long long)i, terr.msg);
			problems++;
			free(note);
			continue;
		}
		char issued[21];
		vg_time_format(m->issued, issued);
		versions[i] = m->version;
		/* signatures as they were when the release was issued */
		enum vg_status st = vg_manifest_verify(u.root, note, len, m->issued, &mv, &terr);
		const char *verdict = st == VG_OK ? "release signatures ok" : terr.msg;
		if (st != VG_OK)
			problems++;
		for (uint64_t j = 0; j < i; j++) {
			if (versions[j] == m->version && CRYPTO_memcmp(hashes[j], hashes[i], 32) != 0) {
				printf("%6llu  PROBLEM: fork: version %llu was already logged as entry "
				       "%llu with other content\n",
				       (unsigned long long)i, (unsigned long long)m->version,
				       (unsigned long long)j);
				problems++;
			} else if (versions[j] > m->version) {
				printf("%6llu  PROBLEM: version %llu logged after version %llu\n",
				       (unsigned long long)i, (unsigned long long)m->version,
				       (unsigned long long)versions[j]);
				problems++;
				break;
			}
		}
		printf("%6llu  version %llu  issued %s  %zu file%s  %.16s  %s%s\n",
		       (unsigned long long)i, (unsigned long long)m->version, issued, m->nfiles,
		       m->nfiles == 1 ? " " : "s", hex, st == VG_OK ? "" : "PROBLEM: ", verdict);
		vg_manifest_free(m);
		vg_manifest_free(mv);
		free(note);
	}
	free(versions);
	free(hashes);
	/* the checkpoint this machine trusts */
	struct vg_checkpoint old;
	if (u.cp_note != NULL && vg_checkpoint_parse(u.cp_note, u.cp_note_len, &old, &terr) == VG_OK &&
	    strcmp(old.origin, cp.origin) == 0) {
		uint8_t proof[VG_MERKLE_MAX_PROOF][32];
		size_t count;
		if (old.size > cp.size ||
		    vg_merkle_consistency_proof((const uint8_t(*)[32])leaves, cp.size, old.size, proof,
						&count) != VG_OK ||
		    vg_merkle_consistency_verify(old.size, cp.size, old.root, cp.root,
						 (const uint8_t(*)[32])proof, count) != VG_OK) {
			printf("PROBLEM: the log does not extend the checkpoint this machine trusts "
			       "(size %llu): split view or rewritten history\n",
			       (unsigned long long)old.size);
			problems++;
		} else {
			printf("The log extends the checkpoint this machine trusts (size %llu).\n",
			       (unsigned long long)old.size);
		}
	}
	if (problems == 0) {
		printf("Audit passed: %llu entries, each signed by the release threshold, versions "
		       "only increase.\n",
		       (unsigned long long)cp.size);
		rc = 0;
	} else {
		printf("Audit found %d problem%s.\n", problems, problems == 1 ? "" : "s");
	}
out:
	free(leaves);
	free(cpnote);
	upd_close(&u);
	vt_config_free(&conf);
	return rc;
}
