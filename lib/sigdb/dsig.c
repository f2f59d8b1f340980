/* ClamAV's own digital signatures on its containers (reference §2.3, §2.4,
 * §2.8): textbook RSA with public keys compiled into every ClamAV, the
 * signature written as a little-endian base-64 number in ClamAV's alphabet.
 *
 * - .cvd headers: 1024-bit key, the decrypted number is the payload's MD5.
 * - .info manifests and .cdiff updates: 2048-bit keys, PSS-style encoding of
 *   a SHA-256 (MGF1-SHA-256, 32-byte salt, trailer 0xBC).
 *
 * The moduli and exponents below are ClamAV's published public keys (data,
 * not code): without them no official container can be checked. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "hash/hash.h"
#include "sigdb/sigdb.h"

struct dsig_key_def {
	const char *n; /* decimal modulus */
	unsigned long e;
	size_t bytes;  /* modulus size */
};

static const struct dsig_key_def keys[] = {
	[DSIG_KEY_CVD] = {
		"118640995551645342603070001658453189751527774412027743746599405743243142607464144"
		"767361060640655844749760788890022283424922762488917565551002467771109669598189410"
		"434699034532232228621591089508178591428456220796841621637175567590476666928698770"
		"143328137383952820383197532047771780196576957695822641224262693037",
		100001027ul, 128},
	[DSIG_KEY_INFO] = {
		"110888949830485454736595561066271949239289417917950476205916586974135810433227159"
		"121724968065253810558809645206184002243333205346602992339837553417406795028668299"
		"096799557343913926683783612215242053966310901051516412708572770803107343209516537"
		"005089417174191687239425078907029047027075874516216910507543078503833998653464872"
		"037984641785373922114027864813598244611972311028954150937703942166663244845939357"
		"624084685168266331921408266679234948220458053478099328484548458869717064243605586"
		"678627758760720594377033653802091016977385775154769350854694552799941131459779940"
		"84618328482151013142393373316337519977244732747977",
		100002049ul, 256},
	[DSIG_KEY_CDIFF] = {
		"147839058740774670902622285165579175702545996383762035320319892141055528472696874"
		"897719757921234421858172876949519498009087915275420171156005013033947786185358648"
		"452357000415900563182301024496122174585490160893133065913885907907965158196541023"
		"207257123008223563487240112326548375032417361779077841987008344406811247270605400"
		"357546996581058950500965762267530085968816988281856524249019216687583265784620032"
		"479064709820922981067896572119054889862810783463614695244848295595608862271980919"
		"954984406766396398304635932113860550653602884223940539981344586237125406832940349"
		"53818412458362198117811990006021989844180721010947",
		100002053ul, 256},
};

/* ClamAV's alphabet: a-z, A-Z, 0-9, '+', '/' (not RFC 4648's order). */
static int dsig_digit(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* m = sig^e mod n, written big-endian into out[key bytes]. false when the
 * text is not a signature for this key (bad character, too long, >= n). */
static bool dsig_decrypt(enum dsig_key key, const char *sig, size_t len, uint8_t *out)
{
	const struct dsig_key_def *k = &keys[key];
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *n = NULL, *e = BN_new(), *c = BN_new(), *m = BN_new();
	bool ok = false;

	/* 6 bits a character; a few spare characters are tolerated, the value
	 * must still be below n */
	if (!ctx || !e || !c || !m || len == 0 || len > (k->bytes * 8) / 6 + 4)
		goto out;
	if (!BN_dec2bn(&n, k->n) || !BN_set_word(e, k->e))
		goto out;
	BN_zero(c);
	for (size_t i = len; i-- > 0;) {
		int d = dsig_digit(sig[i]);
		if (d < 0 || !BN_lshift(c, c, 6) || !BN_add_word(c, (BN_ULONG)d))
			goto out;
	}
	if (BN_cmp(c, n) >= 0)
		goto out;
	if (!BN_mod_exp(m, c, e, n, ctx))
		goto out;
	ok = BN_bn2binpad(m, out, (int)k->bytes) == (int)k->bytes;
out:
	BN_free(n);
	BN_free(e);
	BN_free(c);
	BN_free(m);
	BN_CTX_free(ctx);
	return ok;
}

bool dsig_verify_md5(const char *sig, size_t len, const uint8_t md5[16])
{
	uint8_t m[128];
	static const uint8_t zero[112];

	if (!dsig_decrypt(DSIG_KEY_CVD, sig, len, m))
		return false;
	/* the number is the MD5 itself: 112 leading zero bytes, then 16 */
	return memcmp(m, zero, sizeof(zero)) == 0 && memcmp(m + 112, md5, 16) == 0;
}

/* MGF1 with SHA-256 (RFC 8017 B.2.1): mask[len] from seed[32]. */
static bool mgf1_sha256(const uint8_t seed[32], uint8_t *mask, size_t len)
{
	uint8_t in[36], h[32];

	memcpy(in, seed, 32);
	for (uint32_t counter = 0, done = 0; done < len; counter++) {
		size_t take = len - done < 32 ? len - done : 32;
		in[32] = (uint8_t)(counter >> 24);
		in[33] = (uint8_t)(counter >> 16);
		in[34] = (uint8_t)(counter >> 8);
		in[35] = (uint8_t)counter;
		if (digest_once(HASH_SHA256, in, sizeof(in), h) != VG_OK)
			return false;
		memcpy(mask + done, h, take);
		done += (uint32_t)take;
	}
	return true;
}

bool dsig_verify_sha256(enum dsig_key key, const char *sig, size_t len, const uint8_t sha256[32])
{
	enum { EM = 256, HLEN = 32, SLEN = 32, DB = EM - HLEN - 1 };
	uint8_t em[EM], mask[DB], mprime[8 + HLEN + SLEN], h[HLEN];
	size_t i;

	if (key == DSIG_KEY_CVD || !dsig_decrypt(key, sig, len, em))
		return false;
	if (em[EM - 1] != 0xbc)
		return false;
	if (!mgf1_sha256(em + DB, mask, DB))
		return false;
	for (i = 0; i < DB; i++)
		em[i] ^= mask[i];
	em[0] &= 0x7f; /* the modulus has 2048 bits: the top bit is not encoded */
	/* DB = zeros, 0x01, salt */
	for (i = 0; i < DB - SLEN - 1; i++)
		if (em[i] != 0)
			return false;
	if (em[i] != 0x01)
		return false;
	memset(mprime, 0, 8);
	memcpy(mprime + 8, sha256, HLEN);
	memcpy(mprime + 8 + HLEN, em + DB - SLEN, SLEN);
	if (digest_once(HASH_SHA256, mprime, sizeof(mprime), h) != VG_OK)
		return false;
	return memcmp(h, em + DB, HLEN) == 0;
}
