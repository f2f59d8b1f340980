/* The metadata of signed releases: root, timestamp and manifest notes
 * (docs/UPDATES.md has the grammar). Fail closed: fixed keyword order,
 * unknown keywords refused, decimal numbers without leading zeros. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/util.h"
#include "trust/trust.h"
#include "trust/trust_internal.h"

#define ROOT_HEADER "vigil-root/v1"
#define TIMESTAMP_HEADER "vigil-timestamp/v1"
#define MANIFEST_HEADER "vigil-manifest/v1"

struct keyset {
	struct trust_key keys[TRUST_MAX_KEYS];
	size_t n;
	uint32_t threshold;
};

struct vg_root {
	char origin[129];
	uint64_t version;
	int64_t expires;
	struct keyset root, release, timestamp, witness;
	struct trust_key log;
};

/* ---- line reading ---- */

struct lines {
	const char *p;
	size_t len, pos;
	unsigned lineno;
};

static bool next_line(struct lines *l, const char **s, size_t *n)
{
	if (l->pos >= l->len)
		return false;
	const char *start = l->p + l->pos;
	const char *nl = memchr(start, '\n', l->len - l->pos);
	*s = start;
	*n = nl ? (size_t)(nl - start) : l->len - l->pos;
	l->pos += *n + 1;
	l->lineno++;
	return true;
}

/* "word rest": true when the line starts with word and a space */
static bool keyword(const char *s, size_t n, const char *word, const char **rest, size_t *rlen)
{
	size_t w = strlen(word);
	if (n <= w || memcmp(s, word, w) != 0 || s[w] != ' ')
		return false;
	*rest = s + w + 1;
	*rlen = n - w - 1;
	return true;
}

/* decimal u64, no sign, no leading zeros */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	struct field f = { s, n, 0 };
	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	return field_u64(&f, out);
}

static bool parse_hex32(const char *s, size_t n, uint8_t out[32])
{
	size_t bad;
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'F') /* one spelling only: lower case */
			return false;
	return hex_decode(s, n, out, &bad);
}

static void copy_str(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* ---- signatures ---- */

static vg_status check_role(const struct trust_note *note, const struct keyset *ks,
			    const char *what, const char *role, struct vg_trust_error *err)
{
	struct trust_count c;
	trust_count_sigs(note, ks->keys, ks->n, 0, 0, &c);
	if (c.valid >= ks->threshold)
		return VG_OK;
	if (c.known == 0)
		return trust_fail(err, VG_TRUST_UNKNOWN_KEY,
				  "%s: not signed by any %s key of the trusted root%s%s%s "
				  "(wrong publisher, or a mirror serving forged files)",
				  what, role, c.unknown_name[0] ? " (signed by unknown key '" : "",
				  c.unknown_name, c.unknown_name[0] ? "')" : "");
	if (c.bad > 0 && c.valid < ks->threshold)
		return trust_fail(err, VG_TRUST_BAD_SIGNATURE,
				  "%s: the signature by %s key '%s' does not verify (the file was "
				  "altered after signing)",
				  what, role, c.bad_name);
	return trust_fail(err, VG_TRUST_THRESHOLD,
			  "%s: threshold not met: %zu valid %s signature%s, %u required", what,
			  c.valid, role, c.valid == 1 ? "" : "s", ks->threshold);
}

/* ---- root ---- */

static bool add_key(struct keyset *ks, const char *s, size_t n, uint8_t want_type,
		    const char **why)
{
	struct trust_key k;
	if (!trust_key_parse(s, n, &k, why))
		return false;
	if (k.type != want_type) {
		*why = want_type == SIG_COSIGNATURE ? "a witness key must be a cosignature key (type 0x04)"
						    : "this key must be an Ed25519 key (type 0x01)";
		return false;
	}
	if (ks->n == TRUST_MAX_KEYS) {
		*why = "more than 32 keys for one role";
		return false;
	}
	for (size_t i = 0; i < ks->n; i++)
		if (memcmp(ks->keys[i].pk, k.pk, 32) == 0 || strcmp(ks->keys[i].name, k.name) == 0) {
			*why = "the same key (or key name) is listed twice for one role";
			return false;
		}
	ks->keys[ks->n++] = k;
	return true;
}

static vg_status parse_root(const char *note_text, size_t len, struct vg_root *r,
			    struct trust_note *note, struct vg_trust_error *err)
{
	const char *why = NULL, *s, *rest;
	size_t n, rl;
	struct lines l;
	int rank = 0;
	bool have_log = false;

	if (!trust_note_parse(note_text, len, TRUST_MAX_NOTE, note, &why))
		return trust_fail(err, VG_TRUST_MALFORMED, "root: %s", why);
	l = (struct lines){ note->body, note->body_len, 0, 0 };
	if (!next_line(&l, &s, &n) || n != strlen(ROOT_HEADER) || memcmp(s, ROOT_HEADER, n) != 0)
		return trust_fail(err, VG_TRUST_MALFORMED, "root: first line must be '%s'",
				  ROOT_HEADER);
	memset(r, 0, sizeof(*r));
	while (next_line(&l, &s, &n)) {
		int kr;
		uint64_t v;
		bool ok = true;
		if (keyword(s, n, "origin", &rest, &rl)) {
			kr = 1;
			ok = rl > 0 && rl <= 128 && memchr(rest, ' ', rl) == NULL;
			if (ok)
				copy_str(r->origin, sizeof(r->origin), rest, rl);
		} else if (keyword(s, n, "version", &rest, &rl)) {
			kr = 2;
			ok = parse_u64(rest, rl, &r->version);
		} else if (keyword(s, n, "expires", &rest, &rl)) {
			kr = 3;
			ok = trust_parse_time(rest, rl, &r->expires);
		} else if (keyword(s, n, "threshold", &rest, &rl)) {
			const char *a;
			size_t al;
			struct keyset *ks = NULL;
			if (keyword(rest, rl, "root", &a, &al))
				kr = 4, ks = &r->root;
			else if (keyword(rest, rl, "release", &a, &al))
				kr = 5, ks = &r->release;
			else if (keyword(rest, rl, "timestamp", &a, &al))
				kr = 6, ks = &r->timestamp;
			else
				return trust_fail(err, VG_TRUST_MALFORMED,
						  "root line %u: threshold of an unknown role", l.lineno);
			ok = parse_u64(a, al, &v) && v >= 1 && v <= TRUST_MAX_KEYS;
			if (ok)
				ks->threshold = (uint32_t)v;
		} else if (keyword(s, n, "key", &rest, &rl)) {
			const char *a;
			size_t al;
			struct keyset *ks;
			if (keyword(rest, rl, "root", &a, &al))
				kr = 7, ks = &r->root;
			else if (keyword(rest, rl, "release", &a, &al))
				kr = 8, ks = &r->release;
			else if (keyword(rest, rl, "timestamp", &a, &al))
				kr = 9, ks = &r->timestamp;
			else
				return trust_fail(err, VG_TRUST_MALFORMED,
						  "root line %u: key of an unknown role", l.lineno);
			if (kr < rank)
				goto order;
			if (!add_key(ks, a, al, SIG_ED25519, &why))
				return trust_fail(err, VG_TRUST_MALFORMED, "root line %u: %s",
						  l.lineno, why);
			rank = kr;
			continue;
		} else if (keyword(s, n, "log", &rest, &rl)) {
			kr = 10;
			if (kr <= rank)
				goto order;
			if (!trust_key_parse(rest, rl, &r->log, &why) || r->log.type != SIG_ED25519)
				return trust_fail(err, VG_TRUST_MALFORMED, "root line %u: log key: %s",
						  l.lineno, why ? why : "must be type 0x01");
			have_log = true;
			rank = kr;
			continue;
		} else if (keyword(s, n, "witness-threshold", &rest, &rl)) {
			kr = 11;
			ok = parse_u64(rest, rl, &v) && v <= TRUST_MAX_KEYS;
			if (ok)
				r->witness.threshold = (uint32_t)v;
		} else if (keyword(s, n, "witness", &rest, &rl)) {
			kr = 12;
			if (kr < rank)
				goto order;
			if (!add_key(&r->witness, rest, rl, SIG_COSIGNATURE, &why))
				return trust_fail(err, VG_TRUST_MALFORMED, "root line %u: %s",
						  l.lineno, why);
			rank = kr;
			continue;
		} else {
			return trust_fail(err, VG_TRUST_MALFORMED,
					  "root line %u: unknown keyword '%.*s'", l.lineno,
					  (int)(n > 40 ? 40 : n), s);
		}
		if (kr <= rank)
			goto order;
		if (!ok)
			return trust_fail(err, VG_TRUST_MALFORMED, "root line %u: bad value '%.*s'",
					  l.lineno, (int)(n > 80 ? 80 : n), s);
		rank = kr;
	}
	if (r->origin[0] == '\0' || r->version == 0 || r->expires == 0 || !have_log ||
	    r->root.threshold == 0 || r->release.threshold == 0 || r->timestamp.threshold == 0)
		return trust_fail(err, VG_TRUST_MALFORMED,
				  "root: origin, version, expires, the three thresholds and the log "
				  "key are required");
	if (r->root.threshold > r->root.n || r->release.threshold > r->release.n ||
	    r->timestamp.threshold > r->timestamp.n || r->witness.threshold > r->witness.n)
		return trust_fail(err, VG_TRUST_MALFORMED,
				  "root: a threshold is larger than the number of keys of its role");
	return VG_OK;
order:
	return trust_fail(err, VG_TRUST_MALFORMED, "root line %u: keyword out of order or repeated",
			  l.lineno);
}

enum vg_status vg_root_open(const char *note, size_t len, struct vg_root **out,
			    struct vg_trust_error *err)
{
	struct trust_note tn;
	struct vg_root *r;
	enum vg_status st;

	if (note == NULL || out == NULL)
		return VG_EINVAL;
	r = vg_calloc(1, sizeof(*r));
	if (r == NULL)
		return VG_ENOMEM;
	st = parse_root(note, len, r, &tn, err);
	if (st == VG_OK)
		st = check_role(&tn, &r->root, "root", "root", err);
	if (st != VG_OK) {
		vg_free(r);
		return st;
	}
	trust_ok(err);
	*out = r;
	return VG_OK;
}

enum vg_status vg_root_next(const struct vg_root *cur, const char *note, size_t len,
			    struct vg_root **out, struct vg_trust_error *err)
{
	struct trust_note tn;
	struct vg_root *r;
	enum vg_status st;

	if (cur == NULL || note == NULL || out == NULL)
		return VG_EINVAL;
	r = vg_calloc(1, sizeof(*r));
	if (r == NULL)
		return VG_ENOMEM;
	st = parse_root(note, len, r, &tn, err);
	if (st != VG_OK)
		goto out;
	if (strcmp(r->origin, cur->origin) != 0) {
		st = trust_fail(err, VG_TRUST_MALFORMED, "root %llu: origin '%s' is not '%s'",
				(unsigned long long)r->version, r->origin, cur->origin);
		goto out;
	}
	if (r->version <= cur->version) {
		st = trust_fail(err, VG_TRUST_ROLLBACK,
				"root: rollback: version %llu is not newer than trusted version %llu",
				(unsigned long long)r->version, (unsigned long long)cur->version);
		goto out;
	}
	if (r->version != cur->version + 1) {
		st = trust_fail(err, VG_TRUST_VERSION_SKIP,
				"root: file for version %llu says version %llu (roots must chain one "
				"version at a time)",
				(unsigned long long)cur->version + 1, (unsigned long long)r->version);
		goto out;
	}
	char what[96];
	snprintf(what, sizeof(what), "root %llu (by the keys of root %llu)",
		 (unsigned long long)r->version, (unsigned long long)cur->version);
	st = check_role(&tn, &cur->root, what, "root", err);
	if (st != VG_OK)
		goto out;
	snprintf(what, sizeof(what), "root %llu (by its own keys)", (unsigned long long)r->version);
	st = check_role(&tn, &r->root, what, "root", err);
out:
	if (st != VG_OK) {
		vg_free(r);
		return st;
	}
	trust_ok(err);
	*out = r;
	return VG_OK;
}

enum vg_status vg_root_check_fresh(const struct vg_root *root, int64_t now,
				   struct vg_trust_error *err)
{
	char t[21];
	if (root == NULL)
		return VG_EINVAL;
	if (now >= root->expires) {
		trust_format_time(root->expires, t);
		return trust_fail(err, VG_TRUST_EXPIRED,
				  "root %llu: expired at %s (no newer root on the mirror: the "
				  "publisher must rotate the root; freeze attack if it did)",
				  (unsigned long long)root->version, t);
	}
	trust_ok(err);
	return VG_OK;
}

uint64_t vg_root_version(const struct vg_root *root)
{
	return root ? root->version : 0;
}

int64_t vg_root_expires(const struct vg_root *root)
{
	return root ? root->expires : 0;
}

const char *vg_root_origin(const struct vg_root *root)
{
	return root ? root->origin : "";
}

static bool same_keys(const struct keyset *a, const struct keyset *b)
{
	if (a->n != b->n || a->threshold != b->threshold)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->keys[i].pk, b->keys[i].pk, 32) != 0 ||
		    strcmp(a->keys[i].name, b->keys[i].name) != 0)
			return false;
	return true;
}

int vg_root_roles_changed(const struct vg_root *a, const struct vg_root *b)
{
	return !same_keys(&a->release, &b->release) || !same_keys(&a->timestamp, &b->timestamp);
}

void vg_root_free(struct vg_root *root)
{
	vg_free(root);
}

/* ---- timestamp ---- */

static vg_status check_origin(const char *what, const char *s, size_t n,
			      const struct vg_root *root, struct vg_trust_error *err)
{
	if (n != strlen(root->origin) || memcmp(s, root->origin, n) != 0)
		return trust_fail(err, VG_TRUST_MALFORMED,
				  "%s: origin '%.*s' is not this root's origin '%s' (wrong mirror?)",
				  what, (int)(n > 128 ? 128 : n), s, root->origin);
	return VG_OK;
}

static vg_status check_expiry(const char *what, int64_t expires, int64_t now,
			      struct vg_trust_error *err)
{
	char t[21];
	if (now < expires)
		return VG_OK;
	trust_format_time(expires, t);
	return trust_fail(err, VG_TRUST_EXPIRED,
			  "%s: expired at %s (the mirror serves stale metadata: a freeze attack, "
			  "or a mirror that stopped syncing; try another mirror)",
			  what, t);
}

enum vg_status vg_timestamp_verify(const struct vg_root *root, const char *note_text, size_t len,
				   int64_t now, struct vg_timestamp *out,
				   struct vg_trust_error *err)
{
	static const char *const kw[] = { "origin", "version", "manifest-version", "manifest",
					  "expires" };
	struct trust_note note;
	struct vg_timestamp ts;
	const char *why, *s, *rest;
	size_t n, rl;
	enum vg_status st;

	if (root == NULL || note_text == NULL || out == NULL)
		return VG_EINVAL;
	if (!trust_note_parse(note_text, len, VG_TRUST_MAX_TIMESTAMP, &note, &why))
		return trust_fail(err, VG_TRUST_MALFORMED, "timestamp: %s", why);
	struct lines l = { note.body, note.body_len, 0, 0 };
	if (!next_line(&l, &s, &n) || n != strlen(TIMESTAMP_HEADER) ||
	    memcmp(s, TIMESTAMP_HEADER, n) != 0)
		return trust_fail(err, VG_TRUST_MALFORMED, "timestamp: first line must be '%s'",
				  TIMESTAMP_HEADER);
	memset(&ts, 0, sizeof(ts));
	for (size_t i = 0; i < VG_ARRAY_LEN(kw); i++) {
		bool ok;
		if (!next_line(&l, &s, &n) || !keyword(s, n, kw[i], &rest, &rl))
			return trust_fail(err, VG_TRUST_MALFORMED, "timestamp line %u: expected '%s'",
					  l.lineno + (l.pos >= l.len), kw[i]);
		switch (i) {
		case 0:
			st = check_origin("timestamp", rest, rl, root, err);
			if (st != VG_OK)
				return st;
			ok = true;
			break;
		case 1:
			ok = parse_u64(rest, rl, &ts.version);
			break;
		case 2:
			ok = parse_u64(rest, rl, &ts.manifest_version);
			break;
		case 3:
			ok = rl > 65 && rest[64] == ' ' && parse_hex32(rest, 64, ts.manifest_sha256) &&
			     parse_u64(rest + 65, rl - 65, &ts.manifest_size) &&
			     ts.manifest_size <= VG_TRUST_MAX_MANIFEST;
			break;
		default:
			ok = trust_parse_time(rest, rl, &ts.expires);
			break;
		}
		if (!ok)
			return trust_fail(err, VG_TRUST_MALFORMED, "timestamp line %u: bad value '%.*s'",
					  l.lineno, (int)(n > 100 ? 100 : n), s);
	}
	if (next_line(&l, &s, &n))
		return trust_fail(err, VG_TRUST_MALFORMED, "timestamp line %u: unexpected line",
				  l.lineno);
	st = check_role(&note, &root->timestamp, "timestamp", "timestamp", err);
	if (st != VG_OK)
		return st;
	st = check_expiry("timestamp", ts.expires, now, err);
	if (st != VG_OK)
		return st;
	trust_ok(err);
	*out = ts;
	return VG_OK;
}

/* ---- manifest ---- */

static bool file_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > VG_MANIFEST_MAX_NAME || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static vg_status parse_manifest(const char *note_text, size_t len, struct trust_note *note,
				struct vg_manifest **out, const struct vg_root *root,
				struct vg_trust_error *err)
{
	static const char *const kw[] = { "origin", "version", "issued", "expires", "engine-min" };
	const char *why, *s, *rest;
	size_t n, rl, cap = 0;
	enum vg_status st = VG_OK;
	struct vg_manifest *m;

	if (note_text != NULL) {
		if (!trust_note_parse(note_text, len, VG_TRUST_MAX_MANIFEST, note, &why))
			return trust_fail(err, VG_TRUST_MALFORMED, "manifest: %s", why);
	}
	struct lines l = { note->body, note->body_len, 0, 0 };
	if (!next_line(&l, &s, &n) || n != strlen(MANIFEST_HEADER) ||
	    memcmp(s, MANIFEST_HEADER, n) != 0)
		return trust_fail(err, VG_TRUST_MALFORMED, "manifest: first line must be '%s'",
				  MANIFEST_HEADER);
	m = vg_calloc(1, sizeof(*m));
	if (m == NULL)
		return VG_ENOMEM;
	for (size_t i = 0; i < VG_ARRAY_LEN(kw); i++) {
		bool ok = true;
		uint64_t v;
		if (!next_line(&l, &s, &n) || !keyword(s, n, kw[i], &rest, &rl)) {
			st = trust_fail(err, VG_TRUST_MALFORMED, "manifest line %u: expected '%s'",
					l.lineno + (l.pos >= l.len), kw[i]);
			goto out;
		}
		switch (i) {
		case 0:
			if (root != NULL) {
				st = check_origin("manifest", rest, rl, root, err);
				if (st != VG_OK)
					goto out;
			}
			break;
		case 1:
			ok = parse_u64(rest, rl, &m->version);
			break;
		case 2:
			ok = trust_parse_time(rest, rl, &m->issued);
			break;
		case 3:
			ok = trust_parse_time(rest, rl, &m->expires);
			break;
		default:
			ok = parse_u64(rest, rl, &v) && v <= UINT32_MAX;
			m->engine_min = (uint32_t)v;
			break;
		}
		if (!ok) {
			st = trust_fail(err, VG_TRUST_MALFORMED, "manifest line %u: bad value '%.*s'",
					l.lineno, (int)(n > 100 ? 100 : n), s);
			goto out;
		}
	}
	while (next_line(&l, &s, &n)) {
		struct field f[4];
		if (!keyword(s, n, "file", &rest, &rl) || fields_split(rest, rl, ' ', f, 4) != 3) {
			st = trust_fail(err, VG_TRUST_MALFORMED,
					"manifest line %u: expected 'file <name> <size> <sha256>'",
					l.lineno);
			goto out;
		}
		if (m->nfiles == TRUST_MAX_FILES) {
			st = trust_fail(err, VG_TRUST_MALFORMED, "manifest: more than %u files",
					TRUST_MAX_FILES);
			goto out;
		}
		if (m->nfiles == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *p = vg_reallocarray(m->files, nc, sizeof(*m->files));
			if (p == NULL) {
				st = VG_ENOMEM;
				goto out;
			}
			m->files = p;
			cap = nc;
		}
		struct vg_manifest_file *mf = &m->files[m->nfiles];
		if (!file_name_ok(f[0].s, f[0].len) || !parse_u64(f[1].s, f[1].len, &mf->size) ||
		    !parse_hex32(f[2].s, f[2].len, mf->sha256)) {
			st = trust_fail(err, VG_TRUST_MALFORMED,
					"manifest line %u: bad file entry (names are letters, digits, "
					"'.', '_', '-', not starting with '.'; sha256 in lower-case hex)",
					l.lineno);
			goto out;
		}
		copy_str(mf->name, sizeof(mf->name), f[0].s, f[0].len);
		for (size_t j = 0; j < m->nfiles; j++)
			if (strcmp(m->files[j].name, mf->name) == 0) {
				st = trust_fail(err, VG_TRUST_MALFORMED,
						"manifest line %u: file '%s' listed twice", l.lineno,
						mf->name);
				goto out;
			}
		m->nfiles++;
	}
out:
	if (st != VG_OK) {
		vg_manifest_free(m);
		return st;
	}
	*out = m;
	return VG_OK;
}

enum vg_status vg_manifest_parse(const char *note, size_t len, struct vg_manifest **out,
				 struct vg_trust_error *err)
{
	struct trust_note tn;
	const char *why;
	enum vg_status st;

	if (note == NULL || out == NULL)
		return VG_EINVAL;
	/* publishers parse unsigned bodies too */
	if (!trust_note_parse(note, len, VG_TRUST_MAX_MANIFEST, &tn, &why)) {
		if (!trust_body_check(note, len, VG_TRUST_MAX_MANIFEST, &why))
			return trust_fail(err, VG_TRUST_MALFORMED, "manifest: %s", why);
		tn.body = note;
		tn.body_len = len;
		tn.nsigs = 0;
		note = NULL;
	}
	st = parse_manifest(note, len, &tn, out, NULL, err);
	if (st == VG_OK)
		trust_ok(err);
	return st;
}

enum vg_status vg_manifest_verify(const struct vg_root *root, const char *note, size_t len,
				  int64_t now, struct vg_manifest **out,
				  struct vg_trust_error *err)
{
	struct trust_note tn;
	struct vg_manifest *m = NULL;
	enum vg_status st;

	if (root == NULL || note == NULL || out == NULL)
		return VG_EINVAL;
	st = parse_manifest(note, len, &tn, &m, root, err);
	if (st != VG_OK)
		return st;
	st = check_role(&tn, &root->release, "manifest", "release", err);
	if (st == VG_OK)
		st = check_expiry("manifest", m->expires, now, err);
	if (st != VG_OK) {
		vg_manifest_free(m);
		return st;
	}
	trust_ok(err);
	*out = m;
	return VG_OK;
}

void vg_manifest_free(struct vg_manifest *m)
{
	if (m == NULL)
		return;
	vg_free(m->files);
	vg_free(m);
}

/* ---- checkpoints and proofs ---- */

static vg_status parse_checkpoint_body(const char *body, size_t len, struct vg_checkpoint *cp,
				       struct vg_trust_error *err)
{
	struct lines l = { body, len, 0, 0 };
	const char *s;
	size_t n, rl;
	uint8_t root[40];

	memset(cp, 0, sizeof(*cp));
	if (!next_line(&l, &s, &n) || n == 0 || n > 128)
		return trust_fail(err, VG_TRUST_MALFORMED, "checkpoint: first line is the log origin");
	copy_str(cp->origin, sizeof(cp->origin), s, n);
	if (!next_line(&l, &s, &n) || !parse_u64(s, n, &cp->size))
		return trust_fail(err, VG_TRUST_MALFORMED, "checkpoint: second line is the tree size");
	if (!next_line(&l, &s, &n) || !b64_decode(s, n, root, sizeof(root), &rl) || rl != 32)
		return trust_fail(err, VG_TRUST_MALFORMED,
				  "checkpoint: third line is the base64 root hash");
	memcpy(cp->root, root, 32);
	/* further lines are extensions, ignored */
	return VG_OK;
}

enum vg_status vg_checkpoint_parse(const char *note, size_t len, struct vg_checkpoint *out,
				   struct vg_trust_error *err)
{
	struct trust_note tn;
	const char *why;
	struct vg_checkpoint cp;
	enum vg_status st;

	if (note == NULL || out == NULL)
		return VG_EINVAL;
	if (trust_note_parse(note, len, TRUST_MAX_NOTE, &tn, &why))
		st = parse_checkpoint_body(tn.body, tn.body_len, &cp, err);
	else if (trust_body_check(note, len, TRUST_MAX_NOTE, &why))
		st = parse_checkpoint_body(note, len, &cp, err);
	else
		return trust_fail(err, VG_TRUST_MALFORMED, "checkpoint: %s", why);
	if (st == VG_OK) {
		trust_ok(err);
		*out = cp;
	}
	return st;
}

enum vg_status vg_checkpoint_verify(const struct vg_root *root, const char *note, size_t len,
				    int64_t now, struct vg_checkpoint *out,
				    struct vg_trust_error *err)
{
	struct trust_note tn;
	struct vg_checkpoint cp;
	struct trust_count c;
	const char *why;
	enum vg_status st;

	if (root == NULL || note == NULL || out == NULL)
		return VG_EINVAL;
	if (!trust_note_parse(note, len, TRUST_MAX_NOTE, &tn, &why))
		return trust_fail(err, VG_TRUST_MALFORMED, "checkpoint: %s", why);
	st = parse_checkpoint_body(tn.body, tn.body_len, &cp, err);
	if (st != VG_OK)
		return st;
	if (strcmp(cp.origin, root->log.name) != 0)
		return trust_fail(err, VG_TRUST_NOT_LOGGED,
				  "checkpoint: from log '%s', the trusted root names log '%s'",
				  cp.origin, root->log.name);
	trust_count_sigs(&tn, &root->log, 1, now, 0, &c);
	if (c.valid != 1)
		return trust_fail(err, VG_TRUST_NOT_LOGGED,
				  "checkpoint: %s by the log key '%s'",
				  c.bad ? "signature does not verify" : "not signed", root->log.name);
	if (root->witness.threshold > 0) {
		trust_count_sigs(&tn, root->witness.keys, root->witness.n, now,
				 VG_TRUST_WITNESS_MAX_AGE, &c);
		if (c.valid < root->witness.threshold)
			return trust_fail(err, VG_TRUST_WITNESS,
					  "checkpoint: %zu valid witness cosignature%s no older than "
					  "7 days, %u required (split view possible: the log's view "
					  "is not confirmed by independent witnesses)",
					  c.valid, c.valid == 1 ? "" : "s", root->witness.threshold);
	}
	trust_ok(err);
	*out = cp;
	return VG_OK;
}

#define PROOF_HEADER "c2sp.org/tlog-proof@v1"

enum vg_status vg_tlog_proof_verify(const struct vg_root *root, const char *proof, size_t len,
				    const void *entry, size_t entry_len, int64_t now,
				    struct vg_checkpoint *out, size_t *cp_offset,
				    struct vg_trust_error *err)
{
	struct lines l = { proof, len, 0, 0 };
	const char *s, *rest;
	size_t n, rl, dl;
	uint64_t index = 0;
	uint8_t hashes[VG_MERKLE_MAX_PROOF][32], leaf[32], tmp[40];
	size_t count = 0;
	struct vg_checkpoint cp;
	enum vg_status st;

	if (root == NULL || proof == NULL || entry == NULL || out == NULL || cp_offset == NULL)
		return VG_EINVAL;
	if (len > TRUST_MAX_NOTE + (size_t)VG_MERKLE_MAX_PROOF * 46)
		return trust_fail(err, VG_TRUST_MALFORMED, "log proof: too large");
	if (!next_line(&l, &s, &n) || n != strlen(PROOF_HEADER) || memcmp(s, PROOF_HEADER, n) != 0)
		return trust_fail(err, VG_TRUST_NOT_LOGGED, "log proof: first line must be '%s'",
				  PROOF_HEADER);
	if (!next_line(&l, &s, &n))
		goto bad;
	if (keyword(s, n, "extra", &rest, &rl)) {
		if (rl > 1024 || !next_line(&l, &s, &n))
			goto bad;
	}
	if (!keyword(s, n, "index", &rest, &rl) || !parse_u64(rest, rl, &index))
		goto bad;
	for (;;) {
		if (!next_line(&l, &s, &n))
			goto bad;
		if (n == 0)
			break;
		if (count == VG_MERKLE_MAX_PROOF || !b64_decode(s, n, tmp, sizeof(tmp), &dl) ||
		    dl != 32)
			goto bad;
		memcpy(hashes[count++], tmp, 32);
	}
	if (l.pos > len)
		goto bad;
	st = vg_checkpoint_verify(root, proof + l.pos, len - l.pos, now, &cp, err);
	if (st != VG_OK)
		return st;
	vg_merkle_leaf_hash(entry, entry_len, leaf);
	if (vg_merkle_inclusion_verify(index, cp.size, leaf, (const uint8_t(*)[32])hashes, count,
				       cp.root) != VG_OK)
		return trust_fail(err, VG_TRUST_NOT_LOGGED,
				  "log proof: the manifest is not entry %llu of the log's tree of size "
				  "%llu (proof for another entry, or a forged log)",
				  (unsigned long long)index, (unsigned long long)cp.size);
	trust_ok(err);
	*cp_offset = l.pos;
	*out = cp;
	return VG_OK;
bad:
	return trust_fail(err, VG_TRUST_MALFORMED, "log proof line %u: malformed (expected "
				 "'index <n>', base64 hashes, a blank line, the checkpoint)",
			  l.lineno);
}

enum vg_status vg_tlog_proof_format(uint64_t index, const uint8_t (*hashes)[32], size_t count,
				    char **out, size_t *out_len)
{
	if (out == NULL || out_len == NULL || count > VG_MERKLE_MAX_PROOF)
		return VG_EINVAL;
	size_t cap = sizeof(PROOF_HEADER) + 32 + count * 46 + 2;
	char *s = vg_malloc(cap);
	if (s == NULL)
		return VG_ENOMEM;
	size_t p = (size_t)snprintf(s, cap, "%s\nindex %llu\n", PROOF_HEADER,
				    (unsigned long long)index);
	for (size_t i = 0; i < count; i++) {
		char b[48];
		b64_encode(hashes[i], 32, b);
		p += (size_t)snprintf(s + p, cap - p, "%s\n", b);
	}
	p += (size_t)snprintf(s + p, cap - p, "\n");
	*out = s;
	*out_len = p;
	return VG_OK;
}
