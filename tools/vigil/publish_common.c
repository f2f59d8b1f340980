/*
 * publish_common.c - hashing and log paths shared by the publisher and the
 * update client.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "publish.h"

void vp_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

int vp_sha256_file(const char *path, uint8_t out[32], uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	EVP_MD_CTX *ctx;
	uint8_t buf[65536];
	uint64_t total = 0;
	unsigned int n = 32;
	int rc = -1;

	if (fd < 0)
		return -1;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		total += (uint64_t)r;
	}
	if (EVP_DigestFinal_ex(ctx, out, &n) != 1)
		goto out;
	*size = total;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

void vp_hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void vp_b64_32(const uint8_t in[32], char out[45])
{
	EVP_EncodeBlock((unsigned char *)out, in, 32);
}

void vp_tile_path(uint64_t n, uint64_t size, char *out, size_t cap)
{
	char digits[32], enc[96];
	size_t p = 0;
	int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	int pad = (3 - len % 3) % 3;
	char full[40];
	snprintf(full, sizeof(full), "%.*s%s", pad, "00", digits);
	size_t fl = strlen(full);
	for (size_t i = 0; i < fl; i += 3) {
		if (i + 3 < fl)
			p += (size_t)snprintf(enc + p, sizeof(enc) - p, "x%.3s/", full + i);
		else
			p += (size_t)snprintf(enc + p, sizeof(enc) - p, "%.3s", full + i);
	}
	uint64_t width = size - n * VP_TILE_WIDTH;
	if (width >= VP_TILE_WIDTH)
		snprintf(out, cap, "tile/0/%s", enc);
	else
		snprintf(out, cap, "tile/0/%s.p/%llu", enc, (unsigned long long)width);
}
