/* RFC 6962 / RFC 9162 Merkle trees: leaf and node hashes with domain
 * separation, tree heads, inclusion and consistency proofs. */
#include <string.h>

#include <openssl/crypto.h>

#include "hash/hash.h"
#include "trust/trust.h"

void merkle_leaf(const uint8_t *data, size_t len, uint8_t out[32])
{
	struct digest_set *d = NULL;
	uint8_t h[HASH_NALGS][HASH_MAX_LEN];
	const uint8_t zero = 0x00;

	if (digest_set_new(&d) != VG_OK || digest_set_begin(d, 1u << HASH_SHA256) != VG_OK ||
	    digest_set_update(d, &zero, 1) != VG_OK || digest_set_update(d, data, len) != VG_OK ||
	    digest_set_end(d, h) != VG_OK)
		memset(h, 0, sizeof(h)); /* allocation failure: a hash no root will match */
	digest_set_free(d);
	memcpy(out, h[HASH_SHA256], 32);
}

void merkle_node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
	uint8_t buf[65];
	buf[0] = 0x01;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	(void)digest_once(HASH_SHA256, buf, sizeof(buf), out);
}

void vg_merkle_leaf_hash(const void *entry, size_t len, uint8_t out[32])
{
	merkle_leaf(entry, len, out);
}

/* largest power of two smaller than n (n >= 2) */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

static void mth(const uint8_t (*leaves)[32], uint64_t n, uint8_t out[32])
{
	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	uint64_t k = split_point(n);
	uint8_t l[32], r[32];
	mth(leaves, k, l);
	mth(leaves + k, n - k, r);
	merkle_node(l, r, out);
}

enum vg_status vg_merkle_root(const uint8_t (*leaves)[32], uint64_t n, uint8_t out[32])
{
	if (n == 0) {
		return digest_once(HASH_SHA256, "", 0, out);
	}
	if (leaves == NULL)
		return VG_EINVAL;
	mth(leaves, n, out);
	return VG_OK;
}

static bool push(uint8_t (*out)[32], size_t *count, const uint8_t h[32])
{
	if (*count >= VG_MERKLE_MAX_PROOF)
		return false;
	memcpy(out[(*count)++], h, 32);
	return true;
}

static bool path(const uint8_t (*leaves)[32], uint64_t m, uint64_t n, uint8_t (*out)[32],
		 size_t *count)
{
	if (n <= 1)
		return true;
	uint64_t k = split_point(n);
	uint8_t h[32];
	if (m < k) {
		if (!path(leaves, m, k, out, count))
			return false;
		mth(leaves + k, n - k, h);
	} else {
		if (!path(leaves + k, m - k, n - k, out, count))
			return false;
		mth(leaves, k, h);
	}
	return push(out, count, h);
}

enum vg_status vg_merkle_inclusion_proof(const uint8_t (*leaves)[32], uint64_t n, uint64_t index,
					 uint8_t (*out)[32], size_t *count)
{
	size_t c = 0;
	if (leaves == NULL || index >= n)
		return VG_EINVAL;
	if (!path(leaves, index, n, out, &c))
		return VG_ELIMIT;
	*count = c;
	return VG_OK;
}

static bool subproof(const uint8_t (*leaves)[32], uint64_t m, uint64_t n, bool b,
		     uint8_t (*out)[32], size_t *count)
{
	uint8_t h[32];
	if (m == n) {
		if (b)
			return true;
		mth(leaves, n, h);
		return push(out, count, h);
	}
	uint64_t k = split_point(n);
	if (m <= k) {
		if (!subproof(leaves, m, k, b, out, count))
			return false;
		mth(leaves + k, n - k, h);
	} else {
		if (!subproof(leaves + k, m - k, n - k, false, out, count))
			return false;
		mth(leaves, k, h);
	}
	return push(out, count, h);
}

enum vg_status vg_merkle_consistency_proof(const uint8_t (*leaves)[32], uint64_t n, uint64_t m,
					   uint8_t (*out)[32], size_t *count)
{
	size_t c = 0;
	if (leaves == NULL || m > n)
		return VG_EINVAL;
	if (m > 0 && m < n && !subproof(leaves, m, n, true, out, &c))
		return VG_ELIMIT;
	*count = c;
	return VG_OK;
}

enum vg_status vg_merkle_inclusion_verify(uint64_t index, uint64_t size, const uint8_t leaf[32],
					  const uint8_t (*proof)[32], size_t count,
					  const uint8_t root[32])
{
	uint64_t fn = index, sn = size - 1;
	uint8_t r[32];

	if (index >= size || count > VG_MERKLE_MAX_PROOF)
		return VG_EBADSIG;
	memcpy(r, leaf, 32);
	for (size_t i = 0; i < count; i++) {
		if (sn == 0)
			return VG_EBADSIG;
		if ((fn & 1) || fn == sn) {
			merkle_node(proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || CRYPTO_memcmp(r, root, 32) != 0)
		return VG_EBADSIG;
	return VG_OK;
}

enum vg_status vg_merkle_consistency_verify(uint64_t m, uint64_t n, const uint8_t old_root[32],
					    const uint8_t new_root[32],
					    const uint8_t (*proof)[32], size_t count)
{
	uint8_t path_[VG_MERKLE_MAX_PROOF + 1][32], fr[32], sr[32];
	size_t plen = 0;

	if (m > n || count > VG_MERKLE_MAX_PROOF)
		return VG_EBADSIG;
	if (m == n)
		return count == 0 && CRYPTO_memcmp(old_root, new_root, 32) == 0 ? VG_OK
										 : VG_EBADSIG;
	if (m == 0)
		return count == 0 ? VG_OK : VG_EBADSIG;
	if (count == 0)
		return VG_EBADSIG;
	if ((m & (m - 1)) == 0)
		memcpy(path_[plen++], old_root, 32);
	for (size_t i = 0; i < count; i++)
		memcpy(path_[plen++], proof[i], 32);
	uint64_t fn = m - 1, sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, path_[0], 32);
	memcpy(sr, path_[0], 32);
	for (size_t i = 1; i < plen; i++) {
		if (sn == 0)
			return VG_EBADSIG;
		if ((fn & 1) || fn == sn) {
			merkle_node(path_[i], fr, fr);
			merkle_node(path_[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node(sr, path_[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || CRYPTO_memcmp(fr, old_root, 32) != 0 || CRYPTO_memcmp(sr, new_root, 32) != 0)
		return VG_EBADSIG;
	return VG_OK;
}
