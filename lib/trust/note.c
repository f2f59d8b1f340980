/* Signed notes (C2SP signed-note, the format of Go's checksum database):
 * a text body ending in '\n', a blank line, then signature lines
 * "— <name> <base64(4-byte key id || signature)>". Keys are verifier strings
 * "<name>+<8 hex key id>+<base64(type || public key)>". Signatures by keys a
 * verifier does not know are ignored; each known key counts once. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hash/hash.h"
#include "util/util.h"
#include "trust/trust.h"
#include "trust/trust_internal.h"

static const char em_dash[] = "\xe2\x80\x94 ";

void trust_key_id(const char *name, size_t namelen, uint8_t type, const uint8_t pk[32],
		  uint8_t out[4])
{
	uint8_t buf[TRUST_MAX_NAME + 2 + 32], h[32];
	memcpy(buf, name, namelen);
	buf[namelen] = '\n';
	buf[namelen + 1] = type;
	memcpy(buf + namelen + 2, pk, 32);
	(void)digest_once(HASH_SHA256, buf, namelen + 2 + 32, h);
	memcpy(out, h, 4);
}

static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || len > TRUST_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || c == '+')
			return false;
	}
	return true;
}

bool trust_key_parse(const char *s, size_t len, struct trust_key *out, const char **err)
{
	const char *p1 = memchr(s, '+', len), *p2;
	uint8_t raw[40], id[4];
	size_t rawlen, bad;

	if (p1 == NULL || (p2 = memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - s))) == NULL) {
		*err = "a key is <name>+<8 hex digits>+<base64>";
		return false;
	}
	size_t namelen = (size_t)(p1 - s);
	if (!name_ok(s, namelen)) {
		*err = "bad key name (1-128 printable characters, no spaces or '+')";
		return false;
	}
	if (p2 - p1 - 1 != 8 || !hex_decode(p1 + 1, 8, id, &bad)) {
		*err = "the key id must be 8 hex digits";
		return false;
	}
	if (!b64_decode(p2 + 1, len - (size_t)(p2 + 1 - s), raw, sizeof(raw), &rawlen) ||
	    rawlen != 33) {
		*err = "the key must be base64 of a type byte and a 32-byte public key";
		return false;
	}
	if (raw[0] != SIG_ED25519 && raw[0] != SIG_COSIGNATURE) {
		*err = "unsupported key type (0x01 Ed25519 and 0x04 Ed25519 cosignature are)";
		return false;
	}
	memcpy(out->name, s, namelen);
	out->name[namelen] = '\0';
	out->type = raw[0];
	memcpy(out->pk, raw + 1, 32);
	trust_key_id(s, namelen, raw[0], out->pk, out->id);
	if (memcmp(out->id, id, 4) != 0) {
		*err = "the key id does not match the key (copied wrongly?)";
		return false;
	}
	return true;
}

static bool parse_sig_line(const char *line, size_t len, struct trust_sig *out, const char **err)
{
	size_t dash = sizeof(em_dash) - 1, rawlen;
	uint8_t raw[80];

	if (len < dash || memcmp(line, em_dash, dash) != 0) {
		*err = "a signature line must start with an em dash and a space";
		return false;
	}
	line += dash;
	len -= dash;
	const char *sp = memchr(line, ' ', len);
	if (sp == NULL || !name_ok(line, (size_t)(sp - line))) {
		*err = "a signature line is '— <key name> <base64>'";
		return false;
	}
	size_t namelen = (size_t)(sp - line);
	if (!b64_decode(sp + 1, len - namelen - 1, raw, sizeof(raw), &rawlen) || rawlen < 4 + 64 ||
	    rawlen > 4 + 72) {
		*err = "a signature is base64 of a 4-byte key id and a 64- or 72-byte signature";
		return false;
	}
	memcpy(out->name, line, namelen);
	out->name[namelen] = '\0';
	memcpy(out->id, raw, 4);
	memcpy(out->blob, raw + 4, rawlen - 4);
	out->bloblen = rawlen - 4;
	return true;
}

bool trust_body_check(const char *text, size_t len, size_t max, const char **err)
{
	size_t linelen = 0;

	if (len > max) {
		*err = "the body is larger than the limit for this kind of note";
		return false;
	}
	if (len < 2 || text[len - 1] != '\n') {
		*err = "the body must be at least one line ending in a newline";
		return false;
	}
	/* printable ASCII and '\n', no blank lines, lines of at most 1024 bytes */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			if (linelen == 0) {
				*err = "blank line inside the body";
				return false;
			}
			linelen = 0;
			continue;
		}
		if (c < ' ' || c >= 0x7f) {
			*err = c == '\r' ? "carriage return in the body (LF line endings only)"
					 : "control or non-ASCII byte in the body";
			return false;
		}
		if (++linelen > TRUST_MAX_LINE) {
			*err = "a body line is longer than 1024 bytes";
			return false;
		}
	}
	return true;
}

bool trust_note_parse(const char *text, size_t len, size_t max, struct trust_note *out,
		      const char **err)
{
	size_t split = 0;
	bool found = false;

	if (len > max + (size_t)TRUST_MAX_SIGS * (TRUST_MAX_LINE + 1)) {
		*err = "too large";
		return false;
	}
	if (len == 0 || text[len - 1] != '\n') {
		*err = "a note must end with a newline (truncated?)";
		return false;
	}
	/* the body ends at the last blank line */
	for (size_t i = len - 1; i >= 1; i--)
		if (text[i] == '\n' && text[i - 1] == '\n') {
			split = i;
			found = true;
			break;
		}
	if (!found || split < 1) {
		*err = "no signature block (a blank line and signature lines)";
		return false;
	}
	out->body = text;
	out->body_len = split; /* up to and including the body's final '\n' */
	if (out->body_len > max) {
		*err = "the body is larger than the limit for this kind of note";
		return false;
	}
	if (!trust_body_check(text, out->body_len, max, err))
		return false;
	out->nsigs = 0;
	size_t pos = split + 1;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = (size_t)(nl - (text + pos));
		if (l > TRUST_MAX_LINE) {
			*err = "a signature line is longer than 1024 bytes";
			return false;
		}
		if (out->nsigs == TRUST_MAX_SIGS) {
			*err = "more than 16 signature lines";
			return false;
		}
		if (!parse_sig_line(text + pos, l, &out->sigs[out->nsigs], err))
			return false;
		out->nsigs++;
		pos += l + 1;
	}
	if (out->nsigs == 0) {
		*err = "no signature lines";
		return false;
	}
	return true;
}

bool trust_ed25519_verify(const uint8_t pk[32], const uint8_t *msg, size_t len,
			  const uint8_t sig[64])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = false;

	if (key != NULL && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

/* The message a cosignature covers: "cosignature/v1\ntime <t>\n" || body. */
static uint8_t *cosig_message(const struct trust_note *n, uint64_t t, size_t *len)
{
	char head[64];
	int h = snprintf(head, sizeof(head), "cosignature/v1\ntime %llu\n", (unsigned long long)t);
	uint8_t *m = vg_malloc((size_t)h + n->body_len);
	if (m == NULL)
		return NULL;
	memcpy(m, head, (size_t)h);
	memcpy(m + h, n->body, n->body_len);
	*len = (size_t)h + n->body_len;
	return m;
}

static bool verify_one(const struct trust_note *n, const struct trust_sig *s,
		       const struct trust_key *k, int64_t now, int64_t max_age)
{
	if (k->type == SIG_ED25519)
		return s->bloblen == 64 &&
		       trust_ed25519_verify(k->pk, (const uint8_t *)n->body, n->body_len, s->blob);
	if (s->bloblen != 72)
		return false;
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | s->blob[i];
	if (t > (uint64_t)INT64_MAX)
		return false;
	if (max_age > 0 && ((int64_t)t > now + 300 || (int64_t)t < now - max_age))
		return false;
	size_t mlen;
	uint8_t *m = cosig_message(n, t, &mlen);
	bool ok = m != NULL && trust_ed25519_verify(k->pk, m, mlen, s->blob + 8);
	vg_free(m);
	return ok;
}

void trust_count_sigs(const struct trust_note *n, const struct trust_key *keys, size_t nkeys,
		      int64_t now, int64_t max_age, struct trust_count *out)
{
	bool counted[TRUST_MAX_KEYS] = { false };

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n->nsigs; i++) {
		const struct trust_sig *s = &n->sigs[i];
		size_t k;
		for (k = 0; k < nkeys && k < TRUST_MAX_KEYS; k++)
			if (strcmp(keys[k].name, s->name) == 0 && memcmp(keys[k].id, s->id, 4) == 0)
				break;
		if (k == nkeys || k == TRUST_MAX_KEYS) {
			if (out->unknown_name[0] == '\0')
				snprintf(out->unknown_name, sizeof(out->unknown_name), "%s", s->name);
			continue;
		}
		out->known++;
		if (!verify_one(n, s, &keys[k], now, max_age)) {
			out->bad++;
			if (out->bad_name[0] == '\0')
				snprintf(out->bad_name, sizeof(out->bad_name), "%s", s->name);
			continue;
		}
		if (!counted[k]) {
			counted[k] = true;
			out->valid++;
		}
	}
}

/* ---- time ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

bool trust_parse_time(const char *s, size_t len, int64_t *out)
{
	unsigned y, mo, d, h, mi, se;
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return false;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    se > 59)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return false;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return true;
}

void trust_format_time(int64_t t, char out[21])
{
	int64_t days = t / 86400, rem = t % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* civil_from_days */
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)(y % 10000),
		 m % 100, d % 100, (unsigned)(rem / 3600) % 100, (unsigned)(rem % 3600 / 60) % 100,
		 (unsigned)(rem % 60) % 100);
	memcpy(out, tmp, 20);
	out[20] = '\0';
}
