/* Strict base64: the lax decoders (OpenSSL's EVP_DecodeBlock counts padding
 * and skips junk) would let two different texts carry the same key or
 * signature, so notes are decoded here, one canonical form only. */
#include <string.h>

#include "trust/trust.h"

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = 0;

	if (len == 0 || len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		size_t pad = 0;
		for (size_t j = 0; j < 4; j++) {
			if (s[i + j] == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad) /* data after padding */
				return false;
			v[j] = b64_value(s[i + j]);
			if (v[j] < 0)
				return false;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		/* canonical: the bits under the padding must be zero */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return false;
		size_t k = 3 - pad;
		if (n + k > cap)
			return false;
		for (size_t j = 0; j < k; j++)
			out[n++] = (uint8_t)(w >> (16 - 8 * j));
	}
	*outlen = n;
	return true;
}

void b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			w |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			w |= in[i + 2];
		out[o++] = b64_alpha[(w >> 18) & 63];
		out[o++] = b64_alpha[(w >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alpha[(w >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alpha[w & 63] : '=';
	}
	out[o] = '\0';
}
