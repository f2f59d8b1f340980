/*
 * item.c - the file that holds one quarantined item.
 *
 *     vigil-quarantine-item 1          header: "key value" lines, values
 *     id 3f9a...                        percent-encoded, ended by an
 *     path /home/u/x%20y.exe            empty line
 *     ...
 *                                       <- empty line
 *     ciphertext (size bytes)           AES-256-GCM, 96-bit random nonce,
 *     tag (16 bytes)                    the header as associated data
 *
 * The header is authenticated with the content, so neither the bytes nor
 * what is recorded about them (path, owner, mode, xattrs, SHA-256) can be
 * altered without the tag failing. The content is unreadable and
 * unrunnable without the store's key, and no scanner recognises it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vq_internal.h"

#define MAGIC "vigil-quarantine-item 1\n"

static enum vq_status no_memory(struct vq_err *err)
{
	return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
}

enum vq_status vq_hash_fd(int fd, uint64_t size, unsigned char out[32], struct vq_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *buf = malloc(VQ_COPY_CHUNK);
	enum vq_status st = VQ_FAILED;
	uint64_t off = 0;
	unsigned int mdlen = 0;
	char extra;

	if (md == NULL || buf == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		st = no_memory(err);
		goto out;
	}
	while (off < size) {
		size_t want = size - off < VQ_COPY_CHUNK ? (size_t)(size - off) : VQ_COPY_CHUNK;
		ssize_t got = vq_pread_full(fd, buf, want, off);
		if (got < 0) {
			st = vq_fail(err, VQ_FAILED, errno, "read error: %s", strerror(errno));
			goto out;
		}
		if ((size_t)got < want) {
			st = vq_fail(err, VQ_CHANGED, 0, "the file became shorter while being read");
			goto out;
		}
		EVP_DigestUpdate(md, buf, (size_t)got);
		off += (uint64_t)got;
	}
	if (vq_pread_full(fd, &extra, 1, size) != 0) {
		st = vq_fail(err, VQ_CHANGED, 0, "the file grew while being read");
		goto out;
	}
	EVP_DigestFinal_ex(md, out, &mdlen);
	st = VQ_OK;
out:
	EVP_MD_CTX_free(md);
	free(buf);
	return st;
}

static int put_pct(struct vq_buf *b, const char *key, const char *value)
{
	if (value == NULL)
		return 0;
	return vq_buf_printf(b, "%s ", key) || vq_buf_pct(b, value, strlen(value)) ||
	       vq_buf_add(b, "\n", 1);
}

static int put_time(struct vq_buf *b, const char *key, const struct timespec *t)
{
	return vq_buf_printf(b, "%s %lld.%09ld\n", key, (long long)t->tv_sec, (long)t->tv_nsec);
}

int vq_item_header(const struct vq_item *it, struct vq_buf *b)
{
	int bad = 0;

	bad |= vq_buf_add(b, MAGIC, strlen(MAGIC));
	bad |= vq_buf_printf(b, "id %s\nkey-id %s\ncipher aes-256-gcm\nnonce ", it->id, it->key_id);
	bad |= vq_buf_hex(b, it->nonce, sizeof(it->nonce));
	bad |= vq_buf_add(b, "\n", 1);
	bad |= put_time(b, "quarantined", &it->quarantined);
	bad |= put_pct(b, "host", it->host);
	bad |= put_pct(b, "vigil", it->vigil_version);
	bad |= put_pct(b, "path", it->path);
	bad |= vq_buf_printf(b, "dev %llu\nino %llu\nnlink %llu\nmode %o\nuid %u\ngid %u\n",
			     (unsigned long long)it->dev, (unsigned long long)it->ino,
			     (unsigned long long)it->nlink, (unsigned)it->mode, (unsigned)it->uid,
			     (unsigned)it->gid);
	bad |= put_pct(b, "user", it->user);
	bad |= put_pct(b, "group", it->group);
	bad |= vq_buf_printf(b, "size %llu\n", (unsigned long long)it->size);
	bad |= put_time(b, "atime", &it->atime);
	bad |= put_time(b, "mtime", &it->mtime);
	bad |= put_time(b, "ctime", &it->ctime);
	bad |= vq_buf_add(b, "sha256 ", 7);
	bad |= vq_buf_hex(b, it->sha256, sizeof(it->sha256));
	bad |= vq_buf_add(b, "\n", 1);
	for (size_t i = 0; i < it->detection_count; i++)
		bad |= put_pct(b, "detection", it->detections[i]);
	for (size_t i = 0; i < it->xattr_count; i++) {
		bad |= vq_buf_add(b, "xattr ", 6);
		bad |= vq_buf_pct(b, it->xattrs[i].name, strlen(it->xattrs[i].name));
		bad |= vq_buf_add(b, " ", 1);
		bad |= vq_buf_hex(b, it->xattrs[i].value, it->xattrs[i].len);
		bad |= vq_buf_add(b, "\n", 1);
	}
	bad |= vq_buf_add(b, "\n", 1);
	return bad ? -1 : 0;
}

/* Shared by encryption and decryption. */
static EVP_CIPHER_CTX *cipher_new(int enc, const unsigned char key[VQ_KEY_LEN],
				  const unsigned char nonce[12], const char *aad, size_t aadlen)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl;

	if (c == NULL || aadlen > INT32_MAX)
		goto bad;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(c, NULL, &outl, (const unsigned char *)aad, (int)aadlen) != 1)
		goto bad;
	return c;
bad:
	EVP_CIPHER_CTX_free(c);
	return NULL;
}

enum vq_status vq_item_write(int out_fd, const unsigned char key[VQ_KEY_LEN],
			     const struct vq_item *it, int in_fd, const char *out_name,
			     struct vq_err *err)
{
	struct vq_buf hdr = { 0 };
	EVP_CIPHER_CTX *c = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *in = malloc(VQ_COPY_CHUNK), *out = malloc(VQ_COPY_CHUNK + 32);
	unsigned char tag[VQ_TAG_LEN], sha[32];
	enum vq_status st = VQ_FAILED;
	unsigned int mdlen = 0;
	uint64_t off = 0;
	int outl;
	char extra;

	if (md == NULL || in == NULL || out == NULL || vq_item_header(it, &hdr) != 0 ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		st = no_memory(err);
		goto out;
	}
	c = cipher_new(1, key, it->nonce, hdr.p, hdr.len);
	if (c == NULL) {
		st = vq_fail(err, VQ_FAILED, 0, "can't set up AES-256-GCM (OpenSSL)");
		goto out;
	}
	if (vq_write_all(out_fd, hdr.p, hdr.len) != 0)
		goto write_failed;
	while (off < it->size) {
		size_t want = it->size - off < VQ_COPY_CHUNK ? (size_t)(it->size - off) : VQ_COPY_CHUNK;
		ssize_t got = vq_pread_full(in_fd, in, want, off);
		if (got < 0) {
			st = vq_fail(err, VQ_FAILED, errno, "can't read '%s': %s", it->path,
				     strerror(errno));
			goto out;
		}
		if ((size_t)got < want) {
			st = vq_fail(err, VQ_CHANGED, 0, "'%s' became shorter while being copied",
				     it->path);
			goto out;
		}
		EVP_DigestUpdate(md, in, want);
		if (EVP_EncryptUpdate(c, out, &outl, in, (int)want) != 1) {
			st = vq_fail(err, VQ_FAILED, 0, "encryption failed (OpenSSL)");
			goto out;
		}
		if (vq_write_all(out_fd, out, (size_t)outl) != 0)
			goto write_failed;
		off += want;
		if (off == want)
			VQ_CRASH_POINT("store.copying");
	}
	if (vq_pread_full(in_fd, &extra, 1, it->size) != 0) {
		st = vq_fail(err, VQ_CHANGED, 0, "'%s' grew while being copied", it->path);
		goto out;
	}
	if (EVP_EncryptFinal_ex(c, out, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, VQ_TAG_LEN, tag) != 1) {
		st = vq_fail(err, VQ_FAILED, 0, "encryption failed (OpenSSL)");
		goto out;
	}
	if (outl > 0 && vq_write_all(out_fd, out, (size_t)outl) != 0)
		goto write_failed;
	if (vq_write_all(out_fd, tag, sizeof(tag)) != 0)
		goto write_failed;
	EVP_DigestFinal_ex(md, sha, &mdlen);
	if (memcmp(sha, it->sha256, sizeof(sha)) != 0) {
		st = vq_fail(err, VQ_CHANGED, 0, "'%s' changed while being copied", it->path);
		goto out;
	}
	st = VQ_OK;
	goto out;
write_failed:
	st = vq_fail(err, VQ_FAILED, errno, "can't write '%s': %s", out_name, strerror(errno));
out:
	EVP_CIPHER_CTX_free(c);
	EVP_MD_CTX_free(md);
	vq_buf_free(&hdr);
	free(in);
	free(out);
	return st;
}

/* header parsing ---------------------------------------------------------- */

static char *pct_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char v;
		if (s[i] == '%') {
			if (i + 2 >= n || vq_unhex(s + i + 1, 2, &v, 1) != 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char)v;
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	/* An embedded NUL would silently shorten a path: refuse it. */
	if (strlen(out) != o) {
		free(out);
		return NULL;
	}
	return out;
}

static int parse_u64(const char *s, size_t n, int base, uint64_t *out)
{
	char buf[32], *end;
	unsigned long long v;

	if (n == 0 || n >= sizeof(buf) || s[0] == '-' || s[0] == '+')
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int parse_u32(const char *s, size_t n, int base, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, n, base, &v) != 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_time(const char *s, size_t n, struct timespec *t)
{
	char buf[48], *end, *dot;
	long long sec;
	unsigned long ns;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	dot = strchr(buf, '.');
	if (dot == NULL || strlen(dot + 1) != 9)
		return -1;
	*dot = '\0';
	errno = 0;
	sec = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0' || end == buf)
		return -1;
	ns = strtoul(dot + 1, &end, 10);
	if (*end != '\0' || ns > 999999999ul || dot[1] == '-' || dot[1] == '+')
		return -1;
	t->tv_sec = (time_t)sec;
	t->tv_nsec = (long)ns;
	return 0;
}

static int add_str(char ***list, size_t *count, char *s)
{
	char **n = realloc(*list, (*count + 1) * sizeof(**list));

	if (n == NULL)
		return -1;
	n[(*count)++] = s;
	*list = n;
	return 0;
}

static int parse_xattr(struct vq_item *it, const char *v, size_t vn)
{
	const char *sp = memchr(v, ' ', vn);
	struct vq_xattr *n, x;
	size_t hexlen;

	if (sp == NULL)
		return -1;
	hexlen = vn - (size_t)(sp - v) - 1;
	if (hexlen % 2 != 0)
		return -1;
	x.name = pct_decode(v, (size_t)(sp - v));
	x.len = hexlen / 2;
	x.value = malloc(x.len + 1);
	if (x.name == NULL || x.value == NULL || vq_unhex(sp + 1, hexlen, x.value, x.len) != 0) {
		free(x.name);
		free(x.value);
		return -1;
	}
	n = realloc(it->xattrs, (it->xattr_count + 1) * sizeof(*n));
	if (n == NULL) {
		free(x.name);
		free(x.value);
		return -1;
	}
	n[it->xattr_count++] = x;
	it->xattrs = n;
	return 0;
}

/* One "key value" line; unknown keys are skipped (later versions may add
 * some). Returns -1 on a malformed value. */
static int parse_line(struct vq_item *it, const char *k, size_t kn, const char *v, size_t vn,
		      unsigned *seen)
{
#define KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
	char *str;

	if (KEY("id")) {
		if (vn != VQ_ID_HEX)
			return -1;
		memcpy(it->id, v, vn);
		it->id[vn] = '\0';
		*seen |= 1u;
	} else if (KEY("key-id")) {
		if (vn != 16)
			return -1;
		memcpy(it->key_id, v, vn);
		it->key_id[vn] = '\0';
		*seen |= 2u;
	} else if (KEY("cipher")) {
		if (vn != 11 || memcmp(v, "aes-256-gcm", 11) != 0)
			return -1;
		*seen |= 4u;
	} else if (KEY("nonce")) {
		if (vq_unhex(v, vn, it->nonce, sizeof(it->nonce)) != 0)
			return -1;
		*seen |= 8u;
	} else if (KEY("quarantined")) {
		return parse_time(v, vn, &it->quarantined);
	} else if (KEY("path")) {
		if ((str = pct_decode(v, vn)) == NULL)
			return -1;
		free(it->path);
		it->path = str;
		*seen |= 16u;
	} else if (KEY("host") || KEY("vigil") || KEY("user") || KEY("group")) {
		char **dst = KEY("host")    ? &it->host
			     : KEY("vigil") ? &it->vigil_version
			     : KEY("user")  ? &it->user
					    : &it->group;
		if ((str = pct_decode(v, vn)) == NULL)
			return -1;
		free(*dst);
		*dst = str;
	} else if (KEY("dev")) {
		return parse_u64(v, vn, 10, &it->dev);
	} else if (KEY("ino")) {
		return parse_u64(v, vn, 10, &it->ino);
	} else if (KEY("nlink")) {
		return parse_u64(v, vn, 10, &it->nlink);
	} else if (KEY("mode")) {
		*seen |= 32u;
		return parse_u32(v, vn, 8, &it->mode);
	} else if (KEY("uid")) {
		return parse_u32(v, vn, 10, &it->uid);
	} else if (KEY("gid")) {
		return parse_u32(v, vn, 10, &it->gid);
	} else if (KEY("size")) {
		*seen |= 64u;
		return parse_u64(v, vn, 10, &it->size);
	} else if (KEY("atime")) {
		return parse_time(v, vn, &it->atime);
	} else if (KEY("mtime")) {
		return parse_time(v, vn, &it->mtime);
	} else if (KEY("ctime")) {
		return parse_time(v, vn, &it->ctime);
	} else if (KEY("sha256")) {
		*seen |= 128u;
		return vq_unhex(v, vn, it->sha256, sizeof(it->sha256));
	} else if (KEY("detection")) {
		if ((str = pct_decode(v, vn)) == NULL)
			return -1;
		if (add_str(&it->detections, &it->detection_count, str) != 0) {
			free(str);
			return -1;
		}
	} else if (KEY("xattr")) {
		return parse_xattr(it, v, vn);
	}
	return 0;
#undef KEY
}

#define REQUIRED_KEYS 255u

static enum vq_status parse_header(const char *h, size_t len, struct vq_item *it,
				   struct vq_err *err)
{
	size_t pos = strlen(MAGIC);
	unsigned seen = 0, lineno = 1;

	while (pos < len) {
		const char *line = h + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = (size_t)(nl - line);
		const char *sp;

		lineno++;
		pos += n + 1;
		if (n == 0)
			break; /* the empty line ending the header */
		sp = memchr(line, ' ', n);
		if (sp == NULL ||
		    parse_line(it, line, (size_t)(sp - line), sp + 1, n - (size_t)(sp - line) - 1,
			       &seen) != 0)
			return vq_fail(err, VQ_DAMAGED, 0, "bad header line %u", lineno);
	}
	if ((seen & REQUIRED_KEYS) != REQUIRED_KEYS)
		return vq_fail(err, VQ_DAMAGED, 0, "the header lacks required fields");
	return VQ_OK;
}

enum vq_status vq_item_read_header(int fd, struct vq_item *it, struct vq_err *err)
{
	struct vq_buf b = { 0 };
	char chunk[8192];
	enum vq_status st = VQ_FAILED;
	uint64_t off = 0;
	size_t scan_from = 0;
	const char *end = NULL;

	for (;;) {
		ssize_t got = vq_pread_full(fd, chunk, sizeof(chunk), off);
		if (got < 0) {
			st = vq_fail(err, VQ_FAILED, errno, "read error: %s", strerror(errno));
			goto out;
		}
		if (got == 0) {
			st = vq_fail(err, VQ_DAMAGED, 0, "the file ends inside its header");
			goto out;
		}
		if (vq_buf_add(&b, chunk, (size_t)got) != 0) {
			st = no_memory(err);
			goto out;
		}
		off += (uint64_t)got;
		if (b.len >= strlen(MAGIC) && memcmp(b.p, MAGIC, strlen(MAGIC)) != 0) {
			st = vq_fail(err, VQ_DAMAGED, 0, "not a vigil quarantine item");
			goto out;
		}
		end = memmem(b.p + scan_from, b.len - scan_from, "\n\n", 2);
		if (end != NULL)
			break;
		if (b.len > VQ_HEADER_MAX) {
			st = vq_fail(err, VQ_DAMAGED, 0, "header larger than %u bytes", VQ_HEADER_MAX);
			goto out;
		}
		scan_from = b.len - 1;
	}
	it->header_len = (uint64_t)(end - b.p) + 2;
	if (it->header_len < strlen(MAGIC)) {
		st = vq_fail(err, VQ_DAMAGED, 0, "not a vigil quarantine item");
		goto out;
	}
	st = parse_header(b.p, (size_t)it->header_len, it, err);
out:
	vq_buf_free(&b);
	return st;
}

enum vq_status vq_item_decrypt(int fd, const struct vq_item *it,
			       const unsigned char key[VQ_KEY_LEN], int out_fd, const char *out_name,
			       struct vq_err *err)
{
	char *aad = NULL;
	EVP_CIPHER_CTX *c = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *in = malloc(VQ_COPY_CHUNK), *out = malloc(VQ_COPY_CHUNK + 32);
	unsigned char tag[VQ_TAG_LEN], sha[32];
	enum vq_status st = VQ_FAILED;
	unsigned int mdlen = 0;
	struct stat fst;
	uint64_t off = 0;
	int outl;

	if (md == NULL || in == NULL || out == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		st = no_memory(err);
		goto out;
	}
	if (fstat(fd, &fst) != 0) {
		st = vq_fail(err, VQ_FAILED, errno, "can't examine the item file: %s", strerror(errno));
		goto out;
	}
	if (it->size > UINT64_MAX - it->header_len - VQ_TAG_LEN ||
	    (uint64_t)fst.st_size != it->header_len + it->size + VQ_TAG_LEN) {
		st = vq_fail(err, VQ_DAMAGED, 0, "the item file has %lld bytes, %llu expected",
			     (long long)fst.st_size,
			     (unsigned long long)(it->header_len + it->size + VQ_TAG_LEN));
		goto out;
	}
	/* The associated data is the header as stored. */
	if (it->header_len > VQ_HEADER_MAX + sizeof(MAGIC) + 8192) {
		st = vq_fail(err, VQ_DAMAGED, 0, "header larger than %u bytes", VQ_HEADER_MAX);
		goto out;
	}
	aad = malloc((size_t)it->header_len);
	if (aad == NULL) {
		st = no_memory(err);
		goto out;
	}
	if (vq_pread_full(fd, aad, (size_t)it->header_len, 0) != (ssize_t)it->header_len ||
	    vq_pread_full(fd, tag, VQ_TAG_LEN, it->header_len + it->size) != VQ_TAG_LEN) {
		st = vq_fail(err, VQ_DAMAGED, errno, "can't read the item file");
		goto out;
	}
	c = cipher_new(0, key, it->nonce, aad, (size_t)it->header_len);
	if (c == NULL) {
		st = vq_fail(err, VQ_FAILED, 0, "can't set up AES-256-GCM (OpenSSL)");
		goto out;
	}
	while (off < it->size) {
		size_t want = it->size - off < VQ_COPY_CHUNK ? (size_t)(it->size - off) : VQ_COPY_CHUNK;
		ssize_t got = vq_pread_full(fd, in, want, it->header_len + off);
		if (got != (ssize_t)want) {
			st = vq_fail(err, VQ_DAMAGED, errno, "can't read the item file");
			goto out;
		}
		if (EVP_DecryptUpdate(c, out, &outl, in, (int)want) != 1) {
			st = vq_fail(err, VQ_FAILED, 0, "decryption failed (OpenSSL)");
			goto out;
		}
		EVP_DigestUpdate(md, out, (size_t)outl);
		if (out_fd >= 0 && vq_write_all(out_fd, out, (size_t)outl) != 0) {
			st = vq_fail(err, VQ_FAILED, errno, "can't write '%s': %s", out_name,
				     strerror(errno));
			goto out;
		}
		off += want;
		if (off == want)
			VQ_CRASH_POINT("item.decrypting");
	}
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, VQ_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(c, out, &outl) != 1) {
		st = vq_fail(err, VQ_DAMAGED, 0,
			     "the item failed its integrity check (authentication tag)");
		goto out;
	}
	EVP_DigestFinal_ex(md, sha, &mdlen);
	if (memcmp(sha, it->sha256, sizeof(sha)) != 0) {
		st = vq_fail(err, VQ_DAMAGED, 0, "the item failed its integrity check (SHA-256)");
		goto out;
	}
	st = VQ_OK;
out:
	EVP_CIPHER_CTX_free(c);
	EVP_MD_CTX_free(md);
	free(aad);
	free(in);
	free(out);
	return st;
}
