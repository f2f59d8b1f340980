/*
 * db_publish.c - `vigil db keygen|root|release|sign|log|publish`: the
 * publisher's side of signed, logged releases (docs/UPDATES.md).
 *
 * Every step works on plain files so that each key holder can run it on
 * their own offline machine: keys are text files, notes are text files, a
 * log is a folder of static files, and a published mirror is a folder any
 * web server, CDN or USB stick can serve.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vigil.h>

#include "commands.h"
#include "files.h"
#include "publish.h"

#define MAX_NOTE_FILE (2u * 1024 * 1024)

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs("ERROR: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static int path_join(char *out, size_t cap, const char *a, const char *b)
{
	if (snprintf(out, cap, "%s/%s", a, b) >= (int)cap) {
		fprintf(stderr, "ERROR: path too long: %s/%s\n", a, b);
		return -1;
	}
	return 0;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char err[PATH_MAX + 128];
	if (vt_file_write_atomic(path, data, len, mode, err, sizeof(err)) != 0) {
		fprintf(stderr, "ERROR: %s\n", err);
		return -1;
	}
	return 0;
}

static int read_file(const char *path, size_t max, char **data, size_t *len)
{
	char err[PATH_MAX + 128];
	if (vt_file_read(path, max, data, len, err, sizeof(err)) != 0) {
		fprintf(stderr, "ERROR: %s\n", err);
		return -1;
	}
	return 0;
}

/* A key file holds one line; the line without its newline. */
static char *read_key(const char *path)
{
	char *data;
	size_t len;
	if (read_file(path, 4096, &data, &len) != 0)
		return NULL;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	if (memchr(data, '\n', len) != NULL) {
		fprintf(stderr, "ERROR: %s: a key file holds one line\n", path);
		free(data);
		return NULL;
	}
	return data;
}

static int parse_u64_arg(const char *s, const char *what, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
		fprintf(stderr, "ERROR: %s: '%s' is not a number\n", what, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* --expires TIME or --valid DURATION (e.g. 14d, 48h, 30m) from now. */
static int expiry_arg(const char *expires, const char *valid, int64_t now, int64_t dflt,
		      int64_t *out)
{
	if (expires != NULL) {
		if (vg_time_parse(expires, out) != VG_OK) {
			fprintf(stderr, "ERROR: --expires '%s': use YYYY-MM-DDTHH:MM:SSZ (UTC)\n",
				expires);
			return -1;
		}
		return 0;
	}
	if (valid == NULL) {
		*out = now + dflt;
		return 0;
	}
	char *end;
	long long v = strtoll(valid, &end, 10);
	int64_t unit = 0;
	if (end != valid && end[1] == '\0')
		unit = *end == 'd' ? 86400 : *end == 'h' ? 3600 : *end == 'm' ? 60 : *end == 's' ? 1 : 0;
	if (unit == 0 || v < -36500LL * 86400 || v > 36500LL * 86400) {
		fprintf(stderr, "ERROR: --valid '%s': use a number and d, h, m or s (e.g. 14d)\n",
			valid);
		return -1;
	}
	*out = now + v * unit;
	return 0;
}

static int64_t now_time(void)
{
	/* Publishers may build releases for a given moment (reproducible
	 * builds, tests): SOURCE_DATE_EPOCH as in reproducible-builds.org. */
	const char *e = getenv("SOURCE_DATE_EPOCH");
	if (e != NULL && *e != '\0') {
		char *end;
		long long v = strtoll(e, &end, 10);
		if (*end == '\0')
			return v;
	}
	return (int64_t)time(NULL);
}

/* ---- keygen ---- */

static int verb_keygen(int argc, char **argv)
{
	static const struct option opts[] = { { "witness", no_argument, NULL, 'w' },
					      { "dir", required_argument, NULL, 'd' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *dir = ".";
	int witness = 0, c;
	char *signer = NULL, *verifier = NULL, path[PATH_MAX];

	optind = 1;
	while ((c = getopt_long(argc, argv, "wd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			witness = 1;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			puts("Usage: vigil db keygen [--witness] [-d DIR] NAME\n"
			     "Writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub (verifier key).\n"
			     "--witness makes a witness cosignature key.");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return fail("vigil db keygen needs one key NAME (see --help)");
	const char *name = argv[optind];
	if (vg_key_generate(name, witness, &signer, &verifier) != VG_OK)
		return fail("cannot make a key named '%s' (names are 1-128 printable characters "
			    "without spaces or '+')",
			    name);
	int rc = 2;
	char line[8192];
	if (path_join(path, sizeof(path), dir, name) != 0)
		goto out;
	strncat(path, ".key", sizeof(path) - strlen(path) - 1);
	if (access(path, F_OK) == 0) {
		fail("%s exists: refusing to overwrite a secret key", path);
		goto out;
	}
	snprintf(line, sizeof(line), "%s\n", signer);
	if (write_file(path, line, strlen(line), 0600) != 0)
		goto out;
	path[strlen(path) - 4] = '\0';
	strncat(path, ".pub", sizeof(path) - strlen(path) - 1);
	snprintf(line, sizeof(line), "%s\n", verifier);
	if (write_file(path, line, strlen(line), 0644) != 0)
		goto out;
	printf("%s\n", verifier);
	rc = 0;
out:
	if (signer != NULL)
		memset(signer, 0, strlen(signer));
	vg_trust_free(signer);
	vg_trust_free(verifier);
	return rc;
}

/* ---- root ---- */

struct strlist {
	const char *v[64];
	size_t n;
};

static int strlist_add(struct strlist *l, const char *s)
{
	if (l->n == 64)
		return fail("too many keys (64 at most)");
	l->v[l->n++] = s;
	return 0;
}

static int append_keys(char *body, size_t cap, size_t *p, const char *prefix,
		       const struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		char *k = read_key(l->v[i]);
		if (k == NULL)
			return -1;
		if (strncmp(k, "PRIVATE+KEY+", 12) == 0) {
			free(k);
			return fail("%s is a secret key: give the .pub file", l->v[i]);
		}
		*p += (size_t)snprintf(body + *p, cap - *p, "%s %s\n", prefix, k);
		free(k);
		if (*p >= cap)
			return fail("root too large");
	}
	return 0;
}

static int verb_root(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "origin", required_argument, NULL, 'O' },
		{ "version", required_argument, NULL, 'v' },
		{ "expires", required_argument, NULL, 'E' },
		{ "valid", required_argument, NULL, 'V' },
		{ "root-key", required_argument, NULL, 'r' },
		{ "release-key", required_argument, NULL, 'R' },
		{ "timestamp-key", required_argument, NULL, 't' },
		{ "log-key", required_argument, NULL, 'l' },
		{ "witness-key", required_argument, NULL, 'w' },
		{ "root-threshold", required_argument, NULL, '1' },
		{ "release-threshold", required_argument, NULL, '2' },
		{ "timestamp-threshold", required_argument, NULL, '3' },
		{ "witness-threshold", required_argument, NULL, '4' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL, *origin = NULL, *expires = NULL, *valid = NULL, *log = NULL;
	struct strlist rootk = { 0 }, relk = { 0 }, tsk = { 0 }, wk = { 0 };
	uint64_t version = 0, th[4] = { 0, 0, 1, 0 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'o': out = optarg; break;
		case 'O': origin = optarg; break;
		case 'v': bad = parse_u64_arg(optarg, "--version", &version); break;
		case 'E': expires = optarg; break;
		case 'V': valid = optarg; break;
		case 'r': bad = strlist_add(&rootk, optarg); break;
		case 'R': bad = strlist_add(&relk, optarg); break;
		case 't': bad = strlist_add(&tsk, optarg); break;
		case 'w': bad = strlist_add(&wk, optarg); break;
		case 'l': log = optarg; break;
		case '1': case '2': case '3': case '4':
			bad = parse_u64_arg(optarg, "threshold", &th[c - '1']);
			break;
		case 'h':
			puts("Usage: vigil db root -o FILE --origin NAME --version N [--valid 365d]\n"
			     "         --root-key PUB... --root-threshold K\n"
			     "         --release-key PUB... --release-threshold K\n"
			     "         --timestamp-key PUB... [--timestamp-threshold K]\n"
			     "         --log-key PUB [--witness-key PUB... --witness-threshold K]\n"
			     "Writes an unsigned root note; each root key holder then runs\n"
			     "'vigil db sign --key KEY FILE'. Root N+1 must be signed by the root\n"
			     "threshold of root N and of root N+1.");
			return 0;
		default:
			return 2;
		}
		if (bad)
			return 2;
	}
	if (out == NULL || origin == NULL || version == 0 || log == NULL || rootk.n == 0 ||
	    relk.n == 0 || tsk.n == 0 || th[0] == 0 || th[1] == 0)
		return fail("vigil db root needs -o, --origin, --version (from 1), --log-key, "
			    "root, release and timestamp keys and their thresholds (see --help)");
	int64_t exp;
	if (expiry_arg(expires, valid, now_time(), 365 * 86400, &exp) != 0)
		return 2;
	char t[21];
	vg_time_format(exp, t);
	size_t cap = 256 * 1024, p = 0;
	char *body = malloc(cap);
	if (body == NULL)
		return fail("out of memory");
	p += (size_t)snprintf(body + p, cap - p,
			      "vigil-root/v1\norigin %s\nversion %llu\nexpires %s\n"
			      "threshold root %llu\nthreshold release %llu\nthreshold timestamp %llu\n",
			      origin, (unsigned long long)version, t, (unsigned long long)th[0],
			      (unsigned long long)th[1], (unsigned long long)th[2]);
	struct strlist logl = { { log }, 1 };
	int rc = 2;
	if (append_keys(body, cap, &p, "key root", &rootk) || append_keys(body, cap, &p, "key release", &relk) ||
	    append_keys(body, cap, &p, "key timestamp", &tsk) || append_keys(body, cap, &p, "log", &logl))
		goto out;
	if (wk.n > 0 || th[3] > 0) {
		p += (size_t)snprintf(body + p, cap - p, "witness-threshold %llu\n",
				      (unsigned long long)th[3]);
		if (append_keys(body, cap, &p, "witness", &wk))
			goto out;
	}
	if (write_file(out, body, p, 0644) != 0)
		goto out;
	rc = 0;
out:
	free(body);
	return rc;
}

/* ---- release ---- */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int copy_file(const char *from, const char *to)
{
	char *data;
	size_t len;
	if (read_file(from, (size_t)4 << 30, &data, &len) != 0)
		return -1;
	int rc = write_file(to, data, len, 0644);
	free(data);
	return rc;
}

static int verb_release(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "origin", required_argument, NULL, 'O' },
		{ "version", required_argument, NULL, 'v' },
		{ "expires", required_argument, NULL, 'E' },
		{ "valid", required_argument, NULL, 'V' },
		{ "engine-min", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL, *origin = NULL, *expires = NULL, *valid = NULL;
	uint64_t version = 0, engine_min = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'o': out = optarg; break;
		case 'O': origin = optarg; break;
		case 'v': bad = parse_u64_arg(optarg, "--version", &version); break;
		case 'E': expires = optarg; break;
		case 'V': valid = optarg; break;
		case 'e': bad = parse_u64_arg(optarg, "--engine-min", &engine_min); break;
		case 'h':
			puts("Usage: vigil db release -o DIR --origin NAME --version N [--valid 14d]\n"
			     "         [--engine-min FLEVEL] FILE...\n"
			     "Copies the signature files to DIR/files/ and writes DIR/manifest.note\n"
			     "(version, expiry, size and SHA-256 of every file), unsigned: release key\n"
			     "holders check the files and run 'vigil db sign --key KEY DIR/manifest.note'.");
			return 0;
		default:
			return 2;
		}
		if (bad)
			return 2;
	}
	if (out == NULL || origin == NULL || version == 0 || optind >= argc)
		return fail("vigil db release needs -o DIR, --origin, --version (from 1) and at "
			    "least one signature file (see --help)");
	int64_t now = now_time(), exp;
	if (expiry_arg(expires, valid, now, 14 * 86400, &exp) != 0)
		return 2;
	char path[PATH_MAX], t1[21], t2[21];
	if (path_join(path, sizeof(path), out, "files") != 0)
		return 2;
	if (vt_mkdirs(path, 0755) != 0)
		return fail("cannot create %s: %s", path, strerror(errno));
	vg_time_format(now, t1);
	vg_time_format(exp, t2);
	size_t cap = 1024 * 1024, p = 0;
	char *body = malloc(cap);
	if (body == NULL)
		return fail("out of memory");
	int rc = 2;
	p += (size_t)snprintf(body, cap,
			      "vigil-manifest/v1\norigin %s\nversion %llu\nissued %s\nexpires %s\n"
			      "engine-min %llu\n",
			      origin, (unsigned long long)version, t1, t2,
			      (unsigned long long)engine_min);
	for (int i = optind; i < argc; i++) {
		uint8_t h[32];
		uint64_t size;
		char hex[65], dst[PATH_MAX];
		const char *name = base_name(argv[i]);
		for (int j = optind; j < i; j++)
			if (strcmp(base_name(argv[j]), name) == 0) {
				fail("two files named '%s'", name);
				goto out;
			}
		if (vp_sha256_file(argv[i], h, &size) != 0) {
			fail("%s: %s", argv[i], strerror(errno));
			goto out;
		}
		if (snprintf(dst, sizeof(dst), "%s/files/%s", out, name) >= (int)sizeof(dst) ||
		    copy_file(argv[i], dst) != 0)
			goto out;
		vp_hex(h, 32, hex);
		p += (size_t)snprintf(body + p, cap - p, "file %s %llu %s\n", name,
				      (unsigned long long)size, hex);
		if (p >= cap) {
			fail("too many files for one manifest");
			goto out;
		}
	}
	/* the manifest must parse as clients parse it */
	struct vg_manifest *m = NULL;
	struct vg_trust_error terr;
	if (vg_manifest_parse(body, p, &m, &terr) != VG_OK) {
		fail("%s", terr.msg);
		goto out;
	}
	vg_manifest_free(m);
	if (path_join(path, sizeof(path), out, "manifest.note") != 0 ||
	    write_file(path, body, p, 0644) != 0)
		goto out;
	printf("%s: version %llu, %d file%s, expires %s; now sign it with each release key\n",
	       path, (unsigned long long)version, argc - optind, argc - optind == 1 ? "" : "s", t2);
	rc = 0;
out:
	free(body);
	return rc;
}

/* ---- sign ---- */

static int verb_sign(int argc, char **argv)
{
	static const struct option opts[] = { { "key", required_argument, NULL, 'k' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *keyfile = NULL;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'h':
			puts("Usage: vigil db sign --key KEY FILE...\n"
			     "Adds one signature by KEY to each note (root, manifest, checkpoint), in\n"
			     "place. Each key holder signs separately; a witness key adds a timestamped\n"
			     "cosignature to a log checkpoint.");
			return 0;
		default:
			return 2;
		}
	}
	if (keyfile == NULL || optind >= argc)
		return fail("vigil db sign needs --key KEY and at least one FILE");
	char *key = read_key(keyfile);
	if (key == NULL)
		return 2;
	for (int i = optind; i < argc; i++) {
		char *data = NULL, *signed_ = NULL;
		size_t len, slen;
		struct vg_trust_error terr;
		if (read_file(argv[i], MAX_NOTE_FILE, &data, &len) != 0) {
			rc = 2;
			continue;
		}
		if (vg_note_sign(data, len, key, now_time(), &signed_, &slen, &terr) != VG_OK) {
			fprintf(stderr, "ERROR: %s: %s\n", argv[i], terr.msg);
			rc = 2;
		} else if (write_file(argv[i], signed_, slen, 0644) != 0) {
			rc = 2;
		} else {
			printf("%s: signed\n", argv[i]);
		}
		free(data);
		vg_trust_free(signed_);
	}
	memset(key, 0, strlen(key));
	free(key);
	return rc;
}

/* ---- log ---- */

/* The leaf hashes of a log folder, from its checkpoint and level-0 tiles. */
static int log_load(const char *dir, uint8_t (**leaves)[32], uint64_t *size, char *origin,
		    size_t origin_cap)
{
	char path[PATH_MAX], *data;
	size_t len;
	struct vg_checkpoint cp;
	struct vg_trust_error terr;

	*leaves = NULL;
	*size = 0;
	if (path_join(path, sizeof(path), dir, "checkpoint") != 0)
		return -1;
	if (access(path, F_OK) != 0)
		return 0; /* a new log */
	if (read_file(path, VG_TRUST_MAX_NOTE + 4096, &data, &len) != 0)
		return -1;
	enum vg_status st = vg_checkpoint_parse(data, len, &cp, &terr);
	free(data);
	if (st != VG_OK)
		return fail("%s: %s", path, terr.msg) ? -1 : -1;
	if (origin != NULL)
		snprintf(origin, origin_cap, "%s", cp.origin);
	uint8_t(*lv)[32] = calloc(cp.size + 1, 32);
	if (lv == NULL)
		return fail("out of memory") ? -1 : -1;
	for (uint64_t t = 0; t * VP_TILE_WIDTH < cp.size; t++) {
		char rel[128];
		vp_tile_path(t, cp.size, rel, sizeof(rel));
		if (path_join(path, sizeof(path), dir, rel) != 0 ||
		    read_file(path, VP_TILE_WIDTH * 32, &data, &len) != 0) {
			free(lv);
			return -1;
		}
		uint64_t want = cp.size - t * VP_TILE_WIDTH;
		if (want > VP_TILE_WIDTH)
			want = VP_TILE_WIDTH;
		if (len != want * 32) {
			free(data);
			free(lv);
			return fail("%s: %zu bytes, expected %llu", path, len,
				    (unsigned long long)(want * 32)) ? -1 : -1;
		}
		memcpy(lv[t * VP_TILE_WIDTH], data, len);
		free(data);
	}
	uint8_t root[32];
	if (vg_merkle_root((const uint8_t(*)[32])lv, cp.size, root) != VG_OK ||
	    memcmp(root, cp.root, 32) != 0) {
		free(lv);
		return fail("%s: the tiles do not match the checkpoint's root hash (damaged log)",
			    dir) ? -1 : -1;
	}
	*leaves = lv;
	*size = cp.size;
	return 0;
}

static int mkdirs_for(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *s = strrchr(dir, '/');
	if (s == NULL)
		return 0;
	*s = '\0';
	if (vt_mkdirs(dir, 0755) != 0)
		return fail("cannot create %s: %s", dir, strerror(errno)) ? -1 : -1;
	return 0;
}

static int verb_log(int argc, char **argv)
{
	static const struct option opts[] = { { "log", required_argument, NULL, 'l' },
					      { "key", required_argument, NULL, 'k' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *dir = NULL, *keyfile = NULL;
	int c, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "l:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': dir = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'h':
			puts("Usage: vigil db log --log DIR --key LOGKEY MANIFEST\n"
			     "Appends the signed manifest to the log in DIR (RFC 6962 Merkle tree,\n"
			     "static tiles) and writes DIR/checkpoint signed by the log key. The log's\n"
			     "origin is the log key's name. Witnesses then cosign DIR/checkpoint with\n"
			     "'vigil db sign --key WITNESSKEY DIR/checkpoint'.");
			return 0;
		default:
			return 2;
		}
	}
	if (dir == NULL || keyfile == NULL || optind + 1 != argc)
		return fail("vigil db log needs --log DIR, --key LOGKEY and one MANIFEST");
	char *key = read_key(keyfile), *manifest = NULL, *signed_ = NULL;
	uint8_t(*leaves)[32] = NULL;
	uint64_t size = 0;
	size_t mlen;
	char origin[256] = "";
	if (key == NULL)
		return 2;
	if (read_file(argv[optind], VG_TRUST_MAX_MANIFEST + 65536, &manifest, &mlen) != 0)
		goto out;
	{
		struct vg_manifest *m;
		struct vg_trust_error terr;
		if (vg_manifest_parse(manifest, mlen, &m, &terr) != VG_OK) {
			fail("%s: %s", argv[optind], terr.msg);
			goto out;
		}
		vg_manifest_free(m);
	}
	if (vt_mkdirs(dir, 0755) != 0) {
		fail("cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if (log_load(dir, &leaves, &size, origin, sizeof(origin)) != 0)
		goto out;
	/* the origin is the log key's name */
	const char *kn = key + 12, *plus = strchr(kn, '+');
	if (strncmp(key, "PRIVATE+KEY+", 12) != 0 || plus == NULL) {
		fail("%s is not a signing key", keyfile);
		goto out;
	}
	char keyname[256];
	snprintf(keyname, sizeof(keyname), "%.*s", (int)(plus - kn), kn);
	if (origin[0] != '\0' && strcmp(origin, keyname) != 0) {
		fail("the log in %s is '%s', the key is '%s'", dir, origin, keyname);
		goto out;
	}
	uint8_t leaf[32];
	vg_merkle_leaf_hash(manifest, mlen, leaf);
	for (uint64_t i = 0; i < size; i++)
		if (memcmp(leaves[i], leaf, 32) == 0) {
			fail("%s is already entry %llu of the log", argv[optind],
			     (unsigned long long)i);
			goto out;
		}
	uint8_t(*nl)[32] = realloc(leaves, (size + 1) * 32);
	if (nl == NULL) {
		fail("out of memory");
		goto out;
	}
	leaves = nl;
	memcpy(leaves[size], leaf, 32);
	size++;
	char path[PATH_MAX], rel[128];
	/* entry first, then its tile, then the checkpoint that covers it */
	snprintf(rel, sizeof(rel), "entries/%llu.note", (unsigned long long)(size - 1));
	if (path_join(path, sizeof(path), dir, rel) != 0 || mkdirs_for(path) != 0 ||
	    write_file(path, manifest, mlen, 0644) != 0)
		goto out;
	uint64_t t = (size - 1) / VP_TILE_WIDTH;
	vp_tile_path(t, size, rel, sizeof(rel));
	if (path_join(path, sizeof(path), dir, rel) != 0 || mkdirs_for(path) != 0 ||
	    write_file(path, leaves[t * VP_TILE_WIDTH], (size - t * VP_TILE_WIDTH) * 32, 0644) != 0)
		goto out;
	uint8_t root[32];
	char b64[45], body[512];
	if (vg_merkle_root((const uint8_t(*)[32])leaves, size, root) != VG_OK)
		goto out;
	vp_b64_32(root, b64);
	int bl = snprintf(body, sizeof(body), "%s\n%llu\n%s\n", keyname, (unsigned long long)size,
			  b64);
	size_t slen;
	struct vg_trust_error terr;
	if (vg_note_sign(body, (size_t)bl, key, now_time(), &signed_, &slen, &terr) != VG_OK) {
		fail("%s", terr.msg);
		goto out;
	}
	if (path_join(path, sizeof(path), dir, "checkpoint") != 0 ||
	    write_file(path, signed_, slen, 0644) != 0)
		goto out;
	printf("%s: entry %llu, tree size %llu, root %s\n", dir, (unsigned long long)(size - 1),
	       (unsigned long long)size, b64);
	rc = 0;
out:
	if (key != NULL)
		memset(key, 0, strlen(key));
	free(key);
	free(manifest);
	free(leaves);
	vg_trust_free(signed_);
	return rc;
}

/* ---- witness ---- */

/* A witness cosigns a checkpoint only when it is signed by the log and
 * extends the last checkpoint this witness cosigned (kept in its state
 * file): so no two witnesses' quorum can vouch for two views of one log. */
static int verb_witness(int argc, char **argv)
{
	static const struct option opts[] = { { "key", required_argument, NULL, 'k' },
					      { "log-key", required_argument, NULL, 'L' },
					      { "state", required_argument, NULL, 's' },
					      { "log", required_argument, NULL, 'l' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *keyfile = NULL, *logpub = NULL, *statefile = NULL, *dir = NULL;
	int c, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 'L': logpub = optarg; break;
		case 's': statefile = optarg; break;
		case 'l': dir = optarg; break;
		case 'h':
			puts("Usage: vigil db witness --key WITNESSKEY --log-key LOG.pub --state FILE\n"
			     "         --log DIR\n"
			     "Cosigns DIR/checkpoint (in place) only if the log key signed it and it\n"
			     "extends the checkpoint this witness cosigned last (FILE, updated after\n"
			     "cosigning), proven from the log's tiles. A split view or a rewritten\n"
			     "history is refused and both checkpoints are printed as evidence.\n"
			     "Exit status: 0 cosigned, 1 refused, 2 another error.");
			return 0;
		default:
			return 2;
		}
	}
	if (keyfile == NULL || logpub == NULL || statefile == NULL || dir == NULL || optind != argc)
		return fail("vigil db witness needs --key, --log-key, --state and --log (see --help)");
	char *key = read_key(keyfile), *lk = read_key(logpub), *cpnote = NULL, *old = NULL;
	char *signed_ = NULL, path[PATH_MAX];
	uint8_t(*leaves)[32] = NULL;
	uint64_t size;
	size_t cplen, oldlen = 0, slen;
	struct vg_trust_error terr;
	struct vg_checkpoint cp, prev;

	if (key == NULL || lk == NULL)
		goto out;
	if (path_join(path, sizeof(path), dir, "checkpoint") != 0 ||
	    read_file(path, VG_TRUST_MAX_NOTE, &cpnote, &cplen) != 0)
		goto out;
	if (vg_note_verify_key(cpnote, cplen, lk, &terr) != VG_OK) {
		fprintf(stderr, "ERROR: refusing to cosign %s: %s\n", path, terr.msg);
		rc = 1;
		goto out;
	}
	if (vg_checkpoint_parse(cpnote, cplen, &cp, &terr) != VG_OK) {
		fail("%s: %s", path, terr.msg);
		goto out;
	}
	if (access(statefile, F_OK) == 0) {
		if (read_file(statefile, VG_TRUST_MAX_NOTE, &old, &oldlen) != 0)
			goto out;
		if (vg_checkpoint_parse(old, oldlen, &prev, &terr) != VG_OK) {
			fail("%s: %s", statefile, terr.msg);
			goto out;
		}
		const char *problem = NULL;
		if (strcmp(prev.origin, cp.origin) != 0)
			problem = "another log's checkpoint";
		else if (cp.size < prev.size)
			problem = "log rollback: smaller than the checkpoint cosigned before";
		else if (cp.size == prev.size && memcmp(cp.root, prev.root, 32) != 0)
			problem = "split view: same size as the checkpoint cosigned before, another root";
		else if (cp.size > prev.size) {
			uint8_t proof[VG_MERKLE_MAX_PROOF][32];
			size_t count;
			if (log_load(dir, &leaves, &size, NULL, 0) != 0 || size != cp.size ||
			    vg_merkle_consistency_proof((const uint8_t(*)[32])leaves, size, prev.size,
							proof, &count) != VG_OK ||
			    vg_merkle_consistency_verify(prev.size, cp.size, prev.root, cp.root,
							 (const uint8_t(*)[32])proof, count) != VG_OK)
				problem = "inconsistent: it does not extend the checkpoint cosigned before";
		}
		if (problem != NULL) {
			fprintf(stderr,
				"ERROR: refusing to cosign %s: %s\n"
				"Evidence: the checkpoint cosigned before:\n%.*s"
				"and the one offered now:\n%.*s",
				path, problem, (int)oldlen, old, (int)cplen, cpnote);
			rc = 1;
			goto out;
		}
	}
	if (vg_note_sign(cpnote, cplen, key, now_time(), &signed_, &slen, &terr) != VG_OK) {
		fail("%s: %s", path, terr.msg);
		goto out;
	}
	/* remember first: a crash between the two leaves a stricter witness */
	if (write_file(statefile, cpnote, cplen, 0600) != 0 || write_file(path, signed_, slen, 0644) != 0)
		goto out;
	printf("%s: cosigned (tree size %llu)\n", path, (unsigned long long)cp.size);
	rc = 0;
out:
	if (key != NULL)
		memset(key, 0, strlen(key));
	free(key);
	free(lk);
	free(cpnote);
	free(old);
	free(leaves);
	vg_trust_free(signed_);
	return rc;
}

/* ---- publish ---- */

static int copy_tree(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return fail("cannot read %s: %s", from, strerror(errno)) ? -1 : -1;
	if (vt_mkdirs(to, 0755) != 0) {
		closedir(d);
		return fail("cannot create %s: %s", to, strerror(errno)) ? -1 : -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char a[PATH_MAX], b[PATH_MAX];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		if (path_join(a, sizeof(a), from, e->d_name) != 0 ||
		    path_join(b, sizeof(b), to, e->d_name) != 0 || lstat(a, &st) != 0) {
			rc = -1;
			break;
		}
		if (S_ISDIR(st.st_mode))
			rc = copy_tree(a, b);
		else if (S_ISREG(st.st_mode))
			rc = copy_file(a, b);
	}
	closedir(d);
	return rc;
}

/* The newest root/<N>.note in a folder of roots, as a verified chain from
 * 1.note (so a publisher cannot publish a chain clients would refuse). */
static struct vg_root *roots_load(const char *dir, uint64_t *count)
{
	struct vg_root *cur = NULL;
	for (uint64_t n = 1;; n++) {
		char path[PATH_MAX], *data;
		size_t len;
		snprintf(path, sizeof(path), "%s/%llu.note", dir, (unsigned long long)n);
		if (access(path, F_OK) != 0) {
			if (cur == NULL)
				fail("%s: no 1.note (the first root)", dir);
			*count = n - 1;
			return cur;
		}
		if (read_file(path, VG_TRUST_MAX_NOTE, &data, &len) != 0)
			break;
		struct vg_root *next = NULL;
		struct vg_trust_error terr;
		enum vg_status st = cur == NULL ? vg_root_open(data, len, &next, &terr)
						: vg_root_next(cur, data, len, &next, &terr);
		free(data);
		if (st != VG_OK) {
			fail("%s: %s", path, terr.msg);
			break;
		}
		vg_root_free(cur);
		cur = next;
	}
	vg_root_free(cur);
	return NULL;
}

static int verb_publish(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "release", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "roots", required_argument, NULL, 'R' },
		{ "timestamp-key", required_argument, NULL, 't' },
		{ "expires", required_argument, NULL, 'E' },
		{ "valid", required_argument, NULL, 'V' },
		{ "timestamp-version", required_argument, NULL, 'T' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL, *rel = NULL, *logdir = NULL, *roots = NULL, *tskey = NULL;
	const char *expires = NULL, *valid = NULL;
	uint64_t tsver = 0;
	int c, verify = 1, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'o': out = optarg; break;
		case 'r': rel = optarg; break;
		case 'l': logdir = optarg; break;
		case 'R': roots = optarg; break;
		case 't': tskey = optarg; break;
		case 'E': expires = optarg; break;
		case 'V': valid = optarg; break;
		case 'T': bad = parse_u64_arg(optarg, "--timestamp-version", &tsver); break;
		case 'n': verify = 0; break;
		case 'h':
			puts("Usage: vigil db publish -o MIRROR --release DIR --log DIR --roots DIR\n"
			     "         --timestamp-key KEY [--valid 48h] [--timestamp-version N]\n"
			     "Adds a signed, logged release to the mirror folder MIRROR:\n"
			     "  root/<N>.note          every root, 1 to the newest\n"
			     "  manifest/<sha256>.note the manifest, named by its hash\n"
			     "  manifest/<sha256>.tlog-proof  its inclusion proof and the checkpoint\n"
			     "  blob/<sha256>          the signature files\n"
			     "  log/                   checkpoint, tiles and entries of the log\n"
			     "  timestamp.note         written last: points clients at the release\n"
			     "The release is checked as a client checks it (thresholds, expiry, log\n"
			     "inclusion, witnesses) unless --no-verify (for building test mirrors).");
			return 0;
		default:
			return 2;
		}
		if (bad)
			return 2;
	}
	if (out == NULL || rel == NULL || logdir == NULL || roots == NULL || tskey == NULL)
		return fail("vigil db publish needs -o, --release, --log, --roots and "
			    "--timestamp-key (see --help)");
	int64_t now = now_time(), exp;
	if (expiry_arg(expires, valid, now, 2 * 86400, &exp) != 0)
		return 2;
	char path[PATH_MAX], path2[PATH_MAX], hex[65];
	char *manifest = NULL, *cpnote = NULL, *proof = NULL, *key = NULL, *ts = NULL;
	char *full = NULL;
	size_t mlen, cplen, plen;
	uint8_t(*leaves)[32] = NULL, mh[32], leaf[32];
	uint64_t size = 0, nroots = 0;
	struct vg_manifest *m = NULL;
	struct vg_trust_error terr;
	struct vg_root *root = roots_load(roots, &nroots);

	if (root == NULL)
		goto out;
	if (path_join(path, sizeof(path), rel, "manifest.note") != 0 ||
	    read_file(path, VG_TRUST_MAX_MANIFEST + 65536, &manifest, &mlen) != 0)
		goto out;
	if ((verify ? vg_manifest_verify(root, manifest, mlen, now, &m, &terr)
		    : vg_manifest_parse(manifest, mlen, &m, &terr)) != VG_OK) {
		fail("%s: %s", path, terr.msg);
		goto out;
	}
	vp_sha256(manifest, mlen, mh);
	vp_hex(mh, 32, hex);
	/* the log must hold the manifest */
	if (log_load(logdir, &leaves, &size, NULL, 0) != 0)
		goto out;
	vg_merkle_leaf_hash(manifest, mlen, leaf);
	uint64_t index = size;
	for (uint64_t i = 0; i < size; i++)
		if (memcmp(leaves[i], leaf, 32) == 0)
			index = i;
	if (index == size) {
		fail("%s is not in the log %s: run 'vigil db log' first", path, logdir);
		goto out;
	}
	uint8_t hashes[VG_MERKLE_MAX_PROOF][32];
	size_t count;
	if (vg_merkle_inclusion_proof((const uint8_t(*)[32])leaves, size, index, hashes, &count) !=
		    VG_OK ||
	    vg_tlog_proof_format(index, (const uint8_t(*)[32])hashes, count, &proof, &plen) != VG_OK) {
		fail("cannot build the inclusion proof");
		goto out;
	}
	if (path_join(path, sizeof(path), logdir, "checkpoint") != 0 ||
	    read_file(path, VG_TRUST_MAX_NOTE, &cpnote, &cplen) != 0)
		goto out;
	full = malloc(plen + cplen);
	if (full == NULL) {
		fail("out of memory");
		goto out;
	}
	memcpy(full, proof, plen);
	memcpy(full + plen, cpnote, cplen);
	if (verify) {
		struct vg_checkpoint cp;
		size_t off;
		if (vg_tlog_proof_verify(root, full, plen + cplen, manifest, mlen, now, &cp, &off,
					 &terr) != VG_OK) {
			fail("%s: %s (witnesses must cosign the checkpoint before publishing)",
			     logdir, terr.msg);
			goto out;
		}
	}
	/* blobs, then manifest and proof, then log and roots, timestamp last */
	for (size_t i = 0; i < m->nfiles; i++) {
		uint8_t h[32];
		uint64_t fsize;
		char fhex[65];
		snprintf(path, sizeof(path), "%s/files/%s", rel, m->files[i].name);
		if (vp_sha256_file(path, h, &fsize) != 0) {
			fail("%s: %s", path, strerror(errno));
			goto out;
		}
		if (verify && (fsize != m->files[i].size || memcmp(h, m->files[i].sha256, 32) != 0)) {
			fail("%s: differs from the manifest (size or SHA-256)", path);
			goto out;
		}
		vp_hex(m->files[i].sha256, 32, fhex);
		snprintf(path2, sizeof(path2), "%s/blob/%s", out, fhex);
		if (mkdirs_for(path2) != 0 || copy_file(path, path2) != 0)
			goto out;
	}
	snprintf(path, sizeof(path), "%s/manifest/%s.note", out, hex);
	if (mkdirs_for(path) != 0 || write_file(path, manifest, mlen, 0644) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/manifest/%s.tlog-proof", out, hex);
	if (write_file(path, full, plen + cplen, 0644) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/log", out);
	if (copy_tree(logdir, path) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/root", out);
	if (copy_tree(roots, path) != 0)
		goto out;
	/* timestamp: version above the one published before */
	snprintf(path, sizeof(path), "%s/timestamp.note", out);
	if (tsver == 0) {
		char *old;
		size_t olen;
		char err[256];
		tsver = 1;
		if (vt_file_read(path, VG_TRUST_MAX_TIMESTAMP, &old, &olen, err, sizeof(err)) == 0) {
			const char *v = strstr(old, "\nversion ");
			if (v != NULL)
				tsver = strtoull(v + 9, NULL, 10) + 1;
			free(old);
		}
	}
	key = read_key(tskey);
	if (key == NULL)
		goto out;
	char body[512], t[21];
	vg_time_format(exp, t);
	int bl = snprintf(body, sizeof(body),
			  "vigil-timestamp/v1\norigin %s\nversion %llu\nmanifest-version %llu\n"
			  "manifest %s %zu\nexpires %s\n",
			  vg_root_origin(root), (unsigned long long)tsver,
			  (unsigned long long)m->version, hex, mlen, t);
	size_t tslen;
	if (vg_note_sign(body, (size_t)bl, key, now, &ts, &tslen, &terr) != VG_OK) {
		fail("%s: %s", tskey, terr.msg);
		goto out;
	}
	if (verify) {
		struct vg_timestamp tsi;
		if (vg_timestamp_verify(root, ts, tslen, now, &tsi, &terr) != VG_OK) {
			fail("%s", terr.msg);
			goto out;
		}
	}
	if (write_file(path, ts, tslen, 0644) != 0)
		goto out;
	printf("%s: manifest version %llu (%s), timestamp version %llu, expires %s, %llu root%s\n",
	       out, (unsigned long long)m->version, hex, (unsigned long long)tsver, t,
	       (unsigned long long)nroots, nroots == 1 ? "" : "s");
	rc = 0;
out:
	if (key != NULL)
		memset(key, 0, strlen(key));
	free(key);
	vg_trust_free(ts);
	vg_trust_free(proof);
	free(full);
	free(cpnote);
	free(manifest);
	free(leaves);
	vg_manifest_free(m);
	vg_root_free(root);
	return rc;
}

const struct db_verb db_publish_verbs[] = {
	{ "keygen", verb_keygen, "make an Ed25519 key pair (release, root, log, witness)" },
	{ "root", verb_root, "write a root note: the keys and thresholds of every role" },
	{ "release", verb_release, "write a release: signature files and their manifest" },
	{ "sign", verb_sign, "add one key holder's signature to a note" },
	{ "log", verb_log, "append a manifest to the public Merkle-tree log" },
	{ "witness", verb_witness, "cosign a log checkpoint that extends the last one cosigned" },
	{ "publish", verb_publish, "build a mirror folder any static server can serve" },
	{ NULL, NULL, NULL },
};
