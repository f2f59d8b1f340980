#include <openssl/evp.h>

#include "hash/hash.h"

const uint8_t hash_len[HASH_NALGS] = {16, 20, 32};

struct digest_set {
	EVP_MD *md[HASH_NALGS];
	EVP_MD_CTX *ctx[HASH_NALGS];
	unsigned mask;
};

static const char *const alg_names[HASH_NALGS] = {"MD5", "SHA1", "SHA256"};

const char *hash_alg_name(enum hash_alg alg)
{
	return alg < HASH_NALGS ? alg_names[alg] : "?";
}

bool hash_alg_from_hexlen(size_t hexlen, enum hash_alg *out)
{
	switch (hexlen) {
	case 32: *out = HASH_MD5; return true;
	case 40: *out = HASH_SHA1; return true;
	case 64: *out = HASH_SHA256; return true;
	default: return false;
	}
}

void digest_set_free(struct digest_set *d)
{
	if (!d)
		return;
	for (int i = 0; i < HASH_NALGS; i++) {
		EVP_MD_CTX_free(d->ctx[i]);
		EVP_MD_free(d->md[i]);
	}
	vg_free(d);
}

vg_status digest_set_new(struct digest_set **out)
{
	struct digest_set *d = vg_calloc(1, sizeof(*d));

	if (!d)
		return VG_ENOMEM;
	/* Fetch once: implicit fetches on every init cost more than hashing a
	 * small file. */
	for (int i = 0; i < HASH_NALGS; i++) {
		d->md[i] = EVP_MD_fetch(NULL, alg_names[i], NULL);
		d->ctx[i] = EVP_MD_CTX_new();
		if (!d->md[i] || !d->ctx[i]) {
			digest_set_free(d);
			return VG_ENOMEM;
		}
	}
	*out = d;
	return VG_OK;
}

vg_status digest_set_begin(struct digest_set *d, unsigned mask)
{
	d->mask = mask;
	for (int i = 0; i < HASH_NALGS; i++)
		if ((mask & (1u << i)) && !EVP_DigestInit_ex2(d->ctx[i], d->md[i], NULL))
			return VG_ENOMEM;
	return VG_OK;
}

vg_status digest_set_update(struct digest_set *d, const void *data, size_t len)
{
	for (int i = 0; i < HASH_NALGS; i++)
		if ((d->mask & (1u << i)) && !EVP_DigestUpdate(d->ctx[i], data, len))
			return VG_ENOMEM;
	return VG_OK;
}

vg_status digest_set_end(struct digest_set *d, uint8_t out[HASH_NALGS][HASH_MAX_LEN])
{
	for (int i = 0; i < HASH_NALGS; i++) {
		unsigned n = 0;
		if ((d->mask & (1u << i)) && !EVP_DigestFinal_ex(d->ctx[i], out[i], &n))
			return VG_ENOMEM;
	}
	d->mask = 0;
	return VG_OK;
}

vg_status digest_once(enum hash_alg alg, const void *data, size_t len, uint8_t *out)
{
	const EVP_MD *md = alg == HASH_MD5 ? EVP_md5() : alg == HASH_SHA1 ? EVP_sha1() : EVP_sha256();
	unsigned n = 0;

	return EVP_Digest(data, len, out, &n, md, NULL) ? VG_OK : VG_ENOMEM;
}
