/* hash: MD5, SHA-1 and SHA-256 of the same bytes in one pass (OpenSSL EVP). */
#ifndef VG_HASH_H
#define VG_HASH_H

#include "base/base.h"

enum hash_alg { HASH_MD5 = 0, HASH_SHA1 = 1, HASH_SHA256 = 2, HASH_NALGS = 3 };

#define HASH_MAX_LEN 32u

extern const uint8_t hash_len[HASH_NALGS];
const char *hash_alg_name(enum hash_alg alg);

/* The algorithm a hex digest of this many characters means (ClamAV picks by
 * length); false for any other length. */
bool hash_alg_from_hexlen(size_t hexlen, enum hash_alg *out);

/* A reusable set of digest contexts; allocate once per thread. */
struct digest_set;

vg_status digest_set_new(struct digest_set **out);
void digest_set_free(struct digest_set *d);
/* Start a new computation of the algorithms in mask (bit i = enum hash_alg i). */
vg_status digest_set_begin(struct digest_set *d, unsigned mask);
vg_status digest_set_update(struct digest_set *d, const void *data, size_t len);
/* out[alg] receives hash_len[alg] bytes for each algorithm in the mask. */
vg_status digest_set_end(struct digest_set *d, uint8_t out[HASH_NALGS][HASH_MAX_LEN]);

/* One-shot, for small inputs such as a database line. */
vg_status digest_once(enum hash_alg alg, const void *data, size_t len, uint8_t *out);

#endif
