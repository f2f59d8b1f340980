/* Key generation and signing (the publisher's and the witness's side), and
 * the small shared pieces of the public trust API. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "trust/trust.h"
#include "trust/trust_internal.h"

static const char *const fault_names[] = {
	[VG_TRUST_OK] = "ok",
	[VG_TRUST_MALFORMED] = "malformed",
	[VG_TRUST_UNKNOWN_KEY] = "unknown key",
	[VG_TRUST_THRESHOLD] = "threshold not met",
	[VG_TRUST_BAD_SIGNATURE] = "bad signature",
	[VG_TRUST_EXPIRED] = "expired",
	[VG_TRUST_ROLLBACK] = "rollback",
	[VG_TRUST_FORK] = "fork",
	[VG_TRUST_HASH_MISMATCH] = "hash mismatch",
	[VG_TRUST_NOT_LOGGED] = "not logged",
	[VG_TRUST_WITNESS] = "witnesses missing",
	[VG_TRUST_LOG_INCONSISTENT] = "log inconsistency",
	[VG_TRUST_VERSION_SKIP] = "root version skip",
	[VG_TRUST_ENGINE_TOO_OLD] = "engine too old",
};

const char *vg_trust_fault_name(enum vg_trust_fault fault)
{
	if ((size_t)fault < VG_ARRAY_LEN(fault_names) && fault_names[fault] != NULL)
		return fault_names[fault];
	return "unknown fault";
}

void vg_trust_free(void *p)
{
	vg_free(p);
}

vg_status trust_fail(struct vg_trust_error *err, enum vg_trust_fault fault, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;
		err->fault = fault;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return fault == VG_TRUST_MALFORMED ? VG_EFORMAT : VG_EBADSIG;
}

void trust_ok(struct vg_trust_error *err)
{
	if (err != NULL) {
		err->fault = VG_TRUST_OK;
		err->msg[0] = '\0';
	}
}

enum vg_status vg_time_parse(const char *s, int64_t *out)
{
	int64_t t;
	if (s == NULL || !trust_parse_time(s, strlen(s), &t))
		return VG_EFORMAT;
	*out = t;
	return VG_OK;
}

void vg_time_format(int64_t t, char out[21])
{
	trust_format_time(t, out);
}

static char *format_key(const char *prefix, const char *name, uint8_t type, const uint8_t id[4],
			const uint8_t key[32])
{
	uint8_t raw[33];
	char b64[48];
	size_t n = strlen(prefix) + strlen(name) + 1 + 8 + 1 + sizeof(b64) + 1;
	char *s = vg_malloc(n);
	if (s == NULL)
		return NULL;
	raw[0] = type;
	memcpy(raw + 1, key, 32);
	b64_encode(raw, 33, b64);
	snprintf(s, n, "%s%s+%02x%02x%02x%02x+%s", prefix, name, id[0], id[1], id[2], id[3], b64);
	return s;
}

enum vg_status vg_key_generate(const char *name, int cosign, char **signer_out,
			       char **verifier_out)
{
	uint8_t seed[32], pk[32], id[4], type = cosign ? SIG_COSIGNATURE : SIG_ED25519;
	size_t slen = 32, plen = 32;
	char *signer = NULL, *verifier = NULL;
	enum vg_status st = VG_ENOMEM;

	if (name == NULL || signer_out == NULL || verifier_out == NULL)
		return VG_EINVAL;
	size_t nl = strlen(name);
	if (nl == 0 || nl > TRUST_MAX_NAME)
		return VG_EINVAL;
	for (size_t i = 0; i < nl; i++)
		if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f || name[i] == '+')
			return VG_EINVAL;
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (key == NULL)
		return VG_ENOMEM;
	if (EVP_PKEY_get_raw_private_key(key, seed, &slen) != 1 ||
	    EVP_PKEY_get_raw_public_key(key, pk, &plen) != 1 || slen != 32 || plen != 32)
		goto out;
	trust_key_id(name, nl, type, pk, id);
	signer = format_key("PRIVATE+KEY+", name, type, id, seed);
	verifier = format_key("", name, type, id, pk);
	if (signer == NULL || verifier == NULL)
		goto out;
	*signer_out = signer;
	*verifier_out = verifier;
	signer = verifier = NULL;
	st = VG_OK;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	EVP_PKEY_free(key);
	if (signer != NULL) {
		OPENSSL_cleanse(signer, strlen(signer));
		vg_free(signer);
	}
	vg_free(verifier);
	return st;
}

/* Signer strings: PRIVATE+KEY+<name>+<id>+<base64(type || seed)>. */
struct signer {
	struct trust_key pub;
	uint8_t seed[32];
};

static bool parse_signer(const char *s, struct signer *out, const char **why)
{
	static const char prefix[] = "PRIVATE+KEY+";
	size_t len = strlen(s);
	uint8_t raw[40];
	size_t rawlen;

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	if (len < sizeof(prefix) || memcmp(s, prefix, sizeof(prefix) - 1) != 0) {
		*why = "a signing key starts with PRIVATE+KEY+ (is this a public key?)";
		return false;
	}
	s += sizeof(prefix) - 1;
	len -= sizeof(prefix) - 1;
	const char *p1 = memchr(s, '+', len), *p2 = NULL;
	if (p1 != NULL)
		p2 = memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - s));
	if (p2 == NULL || p1 - s > (ptrdiff_t)TRUST_MAX_NAME) {
		*why = "a signing key is PRIVATE+KEY+<name>+<id>+<base64>";
		return false;
	}
	if (!b64_decode(p2 + 1, len - (size_t)(p2 + 1 - s), raw, sizeof(raw), &rawlen) ||
	    rawlen != 33 || (raw[0] != SIG_ED25519 && raw[0] != SIG_COSIGNATURE)) {
		*why = "the signing key's base64 part is damaged";
		return false;
	}
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 1, 32);
	size_t plen = 32;
	bool ok = k != NULL && EVP_PKEY_get_raw_public_key(k, out->pub.pk, &plen) == 1;
	EVP_PKEY_free(k);
	if (!ok) {
		*why = "the signing key is not an Ed25519 key";
		return false;
	}
	size_t nl = (size_t)(p1 - s);
	memcpy(out->pub.name, s, nl);
	out->pub.name[nl] = '\0';
	out->pub.type = raw[0];
	memcpy(out->seed, raw + 1, 32);
	OPENSSL_cleanse(raw, sizeof(raw));
	trust_key_id(s, nl, out->pub.type, out->pub.pk, out->pub.id);
	char idhex[9];
	snprintf(idhex, sizeof(idhex), "%02x%02x%02x%02x", out->pub.id[0], out->pub.id[1],
		 out->pub.id[2], out->pub.id[3]);
	if (p2 - p1 - 1 != 8 || strncasecmp(p1 + 1, idhex, 8) != 0) {
		*why = "the signing key's id does not match its key";
		return false;
	}
	return true;
}

static bool ed25519_sign(const uint8_t seed[32], const uint8_t *msg, size_t len, uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sl = 64;
	bool ok = k != NULL && ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
		  EVP_DigestSign(ctx, sig, &sl, msg, len) == 1 && sl == 64;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return ok;
}

enum vg_status vg_note_sign(const char *text, size_t len, const char *signer_str, int64_t now,
			    char **out, size_t *out_len, struct vg_trust_error *err)
{
	struct trust_note note;
	struct signer sg;
	const char *why = NULL;
	size_t body_len, sigs_off;
	enum vg_status st;

	if (text == NULL || signer_str == NULL || out == NULL || out_len == NULL)
		return VG_EINVAL;
	if (!parse_signer(signer_str, &sg, &why))
		return trust_fail(err, VG_TRUST_MALFORMED, "signing key: %s", why);
	if (trust_note_parse(text, len, TRUST_MAX_MANIFEST, &note, &why)) {
		body_len = note.body_len;
		sigs_off = body_len + 1;
		for (size_t i = 0; i < note.nsigs; i++)
			if (strcmp(note.sigs[i].name, sg.pub.name) == 0 &&
			    memcmp(note.sigs[i].id, sg.pub.id, 4) == 0) {
				st = trust_fail(err, VG_TRUST_MALFORMED,
						"the note is already signed by %s", sg.pub.name);
				goto out;
			}
		if (note.nsigs == TRUST_MAX_SIGS) {
			st = trust_fail(err, VG_TRUST_MALFORMED, "the note has 16 signatures already");
			goto out;
		}
	} else {
		if (!trust_body_check(text, len, TRUST_MAX_MANIFEST, &why)) {
			st = trust_fail(err, VG_TRUST_MALFORMED, "cannot sign: %s", why);
			goto out;
		}
		note.body = text;
		note.body_len = body_len = len;
		sigs_off = len;
	}
	uint8_t blob[4 + 8 + 64];
	size_t bloblen;
	memcpy(blob, sg.pub.id, 4);
	if (sg.pub.type == SIG_COSIGNATURE) {
		uint64_t t = now < 0 ? 0 : (uint64_t)now;
		char head[64];
		int h = snprintf(head, sizeof(head), "cosignature/v1\ntime %llu\n",
				 (unsigned long long)t);
		uint8_t *m = vg_malloc((size_t)h + body_len);
		if (m == NULL) {
			st = VG_ENOMEM;
			goto out;
		}
		memcpy(m, head, (size_t)h);
		memcpy(m + h, text, body_len);
		for (int i = 0; i < 8; i++)
			blob[4 + i] = (uint8_t)(t >> (56 - 8 * i));
		bool ok = ed25519_sign(sg.seed, m, (size_t)h + body_len, blob + 12);
		vg_free(m);
		if (!ok) {
			st = VG_ENOMEM;
			goto out;
		}
		bloblen = 76;
	} else {
		if (!ed25519_sign(sg.seed, (const uint8_t *)text, body_len, blob + 4)) {
			st = VG_ENOMEM;
			goto out;
		}
		bloblen = 68;
	}
	char b64[128];
	b64_encode(blob, bloblen, b64);
	size_t namelen = strlen(sg.pub.name), rest = len - sigs_off;
	size_t total = body_len + 1 + rest + 4 + namelen + 1 + strlen(b64) + 1;
	char *o = vg_malloc(total + 1);
	if (o == NULL) {
		st = VG_ENOMEM;
		goto out;
	}
	size_t p = 0;
	memcpy(o, text, body_len);
	p = body_len;
	o[p++] = '\n';
	memcpy(o + p, text + sigs_off, rest);
	p += rest;
	p += (size_t)snprintf(o + p, total + 1 - p, "\xe2\x80\x94 %s %s\n", sg.pub.name, b64);
	o[p] = '\0';
	*out = o;
	*out_len = p;
	trust_ok(err);
	st = VG_OK;
out:
	OPENSSL_cleanse(sg.seed, sizeof(sg.seed));
	return st;
}

enum vg_status vg_note_verify_key(const char *text, size_t len, const char *verifier,
				  struct vg_trust_error *err)
{
	struct trust_note note;
	struct trust_key key;
	struct trust_count c;
	const char *why;

	if (text == NULL || verifier == NULL)
		return VG_EINVAL;
	size_t vl = strlen(verifier);
	while (vl > 0 && (verifier[vl - 1] == '\n' || verifier[vl - 1] == '\r'))
		vl--;
	if (!trust_key_parse(verifier, vl, &key, &why))
		return trust_fail(err, VG_TRUST_MALFORMED, "key: %s", why);
	if (!trust_note_parse(text, len, TRUST_MAX_MANIFEST, &note, &why))
		return trust_fail(err, VG_TRUST_MALFORMED, "note: %s", why);
	trust_count_sigs(&note, &key, 1, 0, 0, &c);
	if (c.valid == 1) {
		trust_ok(err);
		return VG_OK;
	}
	if (c.bad > 0)
		return trust_fail(err, VG_TRUST_BAD_SIGNATURE,
				  "the signature by '%s' does not verify (altered after signing)",
				  key.name);
	return trust_fail(err, VG_TRUST_UNKNOWN_KEY, "not signed by '%s'", key.name);
}
