/* trust: signed notes (C2SP signed-note), Ed25519 through OpenSSL EVP,
 * threshold counting, the metadata of signed releases (root, timestamp,
 * manifest), RFC 6962 Merkle hashing with inclusion and consistency proofs,
 * and log checkpoints with witness cosignatures. Pure functions: no files,
 * no network, no clock (callers pass "now"). The public face is the vg_trust_,
 * vg_note_, vg_key_ and vg_merkle_ part of vigil.h. */
#ifndef VG_TRUST_H
#define VG_TRUST_H

#include "base/base.h"

/* Hard limits of the formats (trust-design §1.5.2). */
#define TRUST_MAX_NOTE (64u * 1024)          /* root, timestamp, checkpoint, proof */
#define TRUST_MAX_MANIFEST (1024u * 1024)    /* a manifest note */
#define TRUST_MAX_SIGS 16u                   /* signature lines in one note */
#define TRUST_MAX_LINE 1024u                 /* bytes of one line */
#define TRUST_MAX_KEYS 32u                   /* keys of one role, witnesses */
#define TRUST_MAX_NAME 128u                  /* a key name */
#define TRUST_MAX_FILES 4096u                /* files in one manifest */
#define TRUST_MAX_PROOF 64u                  /* hashes in one proof */

enum { SIG_ED25519 = 0x01, SIG_COSIGNATURE = 0x04 };

/* A verifier key: name+hex keyid+base64(type || 32-byte public key). */
struct trust_key {
	char name[TRUST_MAX_NAME + 1];
	uint8_t type;
	uint8_t id[4];
	uint8_t pk[32];
};

/* One signature line of a note. */
struct trust_sig {
	char name[TRUST_MAX_NAME + 1];
	uint8_t id[4];
	uint8_t blob[72]; /* signature, or 8-byte timestamp || signature */
	size_t bloblen;
};

/* A note split into its signed body and its signature lines. body points
 * into the caller's bytes. */
struct trust_note {
	const char *body;
	size_t body_len; /* includes the final '\n' */
	struct trust_sig sigs[TRUST_MAX_SIGS];
	size_t nsigs;
};

/* Strict base64 (standard alphabet, '=' padding required, no whitespace).
 * Returns false on any deviation or when the output exceeds cap. */
bool b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen);
/* Writes the encoding and a NUL; out needs 4*ceil(n/3)+1 bytes. */
void b64_encode(const uint8_t *in, size_t n, char *out);

void trust_key_id(const char *name, size_t namelen, uint8_t type, const uint8_t pk[32],
		  uint8_t out[4]);
/* Parses a verifier key; err gets a reason. */
bool trust_key_parse(const char *s, size_t len, struct trust_key *out, const char **err);

/* Splits a signed note; err gets a reason on failure. max: body limit. */
bool trust_note_parse(const char *text, size_t len, size_t max, struct trust_note *out,
		      const char **err);

bool trust_ed25519_verify(const uint8_t pk[32], const uint8_t *msg, size_t len,
			  const uint8_t sig[64]);

/* Outcome of counting signatures of a role over a note. */
struct trust_count {
	size_t valid;      /* distinct known keys whose signature verifies */
	size_t known;      /* signature lines naming a known key */
	size_t bad;        /* ... whose signature does not verify */
	char bad_name[TRUST_MAX_NAME + 1];
	char unknown_name[TRUST_MAX_NAME + 1]; /* first line by an unknown key */
};
/* Counts each key at most once. Cosignature keys (type 0x04) verify the
 * cosignature/v1 message and must be no older than max_age seconds and
 * no more than 300 seconds in the future (max_age 0: no time check; then
 * oldest/newest are still reported). */
void trust_count_sigs(const struct trust_note *n, const struct trust_key *keys, size_t nkeys,
		      int64_t now, int64_t max_age, struct trust_count *out);

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" */
bool trust_parse_time(const char *s, size_t len, int64_t *out);
void trust_format_time(int64_t t, char out[21]);

/* RFC 6962 */
void merkle_leaf(const uint8_t *data, size_t len, uint8_t out[32]);
void merkle_node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32]);

#endif
