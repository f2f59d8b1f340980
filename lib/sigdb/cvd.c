/* ClamAV's containers .cvd, .cld and .cud (reference §2.1-2.6): a 512-byte
 * text header, then a tar (gzip-compressed or not) of database files with a
 * .info manifest listing each file's size and SHA-256.
 *
 * What is checked, by kind:
 *   .cvd  header MD5 of the payload, its RSA signature (ClamAV's key), the
 *         .info DSIG, every member's size and SHA-256 against the .info.
 *   .cld  the .info DSIG and every member (its header carries no signature:
 *         it is rebuilt locally from a .cvd and signed .cdiffs).
 *   .cud  unsigned by design: the header MD5 when present and every member
 *         against the .info, which proves integrity, not origin.
 * The payload is read in memory with libarchive, restricted to tar with an
 * optional gzip filter, regular files with plain names. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "hash/hash.h"
#include "sigdb/sigdb.h"

static vg_status cvd_fail(struct cvd *c, vg_status rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static vg_status cvd_fail(struct cvd *c, vg_status rc, const char *fmt, ...)
{
	char what[500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->err, sizeof(c->err), "%s: %s", c->path, what);
	return rc;
}

bool cvd_kind_of_name(const char *name, enum cvd_kind *out)
{
	size_t n = strlen(name);

	if (n < 5 || name[n - 4] != '.')
		return false;
	if (strcasecmp(name + n - 4, ".cvd") == 0)
		*out = CVD_KIND_CVD;
	else if (strcasecmp(name + n - 4, ".cld") == 0)
		*out = CVD_KIND_CLD;
	else if (strcasecmp(name + n - 4, ".cud") == 0)
		*out = CVD_KIND_CUD;
	else
		return false;
	return true;
}

void cvd_db_name(const char *file_name, char *out, size_t outlen)
{
	const char *slash = strrchr(file_name, '/');
	const char *b = slash ? slash + 1 : file_name;
	size_t n = strcspn(b, ".-");

	if (outlen == 0)
		return;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, b, n);
	out[n] = '\0';
}

static const char *const header_field_names[] = {
	"magic", "build time", "version", "signature count", "functionality level",
	"MD5", "digital signature", "builder", "build time (seconds)"};

static bool copy_field(const struct field *f, char *out, size_t outlen)
{
	if (f->len >= outlen)
		return false;
	memcpy(out, f->s, f->len);
	out[f->len] = '\0';
	return true;
}

/* Parses "ClamAV-VDB:time:version:sigs:flevel:md5:dsig:builder[:secs]" in
 * text[0..len) (trailing spaces already stripped). */
static vg_status parse_header_line(const char *text, size_t len, struct cvd_header *h, char *err,
				   size_t errlen)
{
	struct field f[10];
	size_t nf = fields_split(text, len, ':', f, VG_ARRAY_LEN(f));
	uint64_t v;

	memset(h, 0, sizeof(*h));
	if (nf < 1 || !field_eq(&f[0], "ClamAV-VDB")) {
		snprintf(err, errlen, "not a ClamAV container: it must start with 'ClamAV-VDB:' "
			 "(the file is damaged or is not a .cvd/.cld/.cud)");
		return VG_EFORMAT;
	}
	if (nf < 8 || nf > 9) {
		snprintf(err, errlen, "bad header: %zu ':'-separated fields, expected 9", nf);
		return VG_EFORMAT;
	}
	if (!copy_field(&f[1], h->time_text, sizeof(h->time_text))) {
		snprintf(err, errlen, "bad header: build time longer than %zu characters",
			 sizeof(h->time_text) - 1);
		return VG_EFORMAT;
	}
	for (size_t i = 2; i <= 4; i++) {
		if (!field_u64(&f[i], &v) || (i != 3 && v > UINT32_MAX)) {
			snprintf(err, errlen, "bad header: %s is not a number ('%.*s')",
				 header_field_names[i], (int)(f[i].len > 40 ? 40 : f[i].len), f[i].s);
			return VG_EFORMAT;
		}
		if (i == 2)
			h->version = (uint32_t)v;
		else if (i == 3)
			h->sigs = v;
		else
			h->flevel = (uint32_t)v;
	}
	if (!copy_field(&f[5], h->md5, sizeof(h->md5)) || !copy_field(&f[6], h->dsig, sizeof(h->dsig)) ||
	    !copy_field(&f[7], h->builder, sizeof(h->builder))) {
		snprintf(err, errlen, "bad header: MD5, signature or builder field too long");
		return VG_EFORMAT;
	}
	if (nf == 9) {
		if (!field_u64(&f[8], &v) || v > INT64_MAX) {
			snprintf(err, errlen, "bad header: build time (seconds) is not a number ('%.*s')",
				 (int)(f[8].len > 40 ? 40 : f[8].len), f[8].s);
			return VG_EFORMAT;
		}
		h->build_time = (int64_t)v;
	}
	return VG_OK;
}

vg_status cvd_parse_header(const uint8_t *data, size_t len, struct cvd_header *h, char *err,
			   size_t errlen)
{
	size_t n = VG_CVD_HEADER_LEN;

	if (len < 11 || memcmp(data, "ClamAV-VDB:", 11) != 0) {
		snprintf(err, errlen, "not a ClamAV container: it must start with 'ClamAV-VDB:' "
			 "(the file is damaged or is not a .cvd/.cld/.cud)");
		return VG_EFORMAT;
	}
	if (len < VG_CVD_HEADER_LEN) {
		snprintf(err, errlen, "truncated: %zu bytes, shorter than the 512-byte header", len);
		return VG_EFORMAT;
	}
	for (size_t i = 0; i < VG_CVD_HEADER_LEN; i++)
		if (data[i] < 0x20 || data[i] > 0x7e) {
			snprintf(err, errlen, "bad header: byte 0x%02x at offset %zu (the header is "
				 "printable text padded with spaces)", data[i], i);
			return VG_EFORMAT;
		}
	while (n > 0 && data[n - 1] == ' ')
		n--;
	return parse_header_line((const char *)data, n, h, err, errlen);
}

bool cvd_read_header_file(const char *path, struct cvd_header *h)
{
	uint8_t hdr[VG_CVD_HEADER_LEN];
	char err[300];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return false;
	got = read(fd, hdr, sizeof(hdr));
	close(fd);
	return got == (ssize_t)sizeof(hdr) &&
	       cvd_parse_header(hdr, sizeof(hdr), h, err, sizeof(err)) == VG_OK;
}

/* ---- the tar payload ---- */

static vg_status tar_open(struct cvd *c, struct archive **out)
{
	struct archive *a = archive_read_new();

	if (!a)
		return VG_ENOMEM;
	/* tar only, gzip only: nothing else belongs in a container */
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	if (archive_read_open_memory(a, c->data + VG_CVD_HEADER_LEN, c->len - VG_CVD_HEADER_LEN) !=
	    ARCHIVE_OK) {
		vg_status rc = cvd_fail(c, VG_EFORMAT, "payload is not a tar or tar.gz archive: %s",
					archive_error_string(a) ? archive_error_string(a) : "unknown");
		archive_read_free(a);
		return rc;
	}
	*out = a;
	return VG_OK;
}

static bool plain_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 200 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch == '/' || ch < 0x21 || ch > 0x7e)
			return false;
	}
	return true;
}

/* Next member: its name and whole content (NUL-terminated, vg_malloc'd).
 * *done at the end of the archive. */
static vg_status tar_next(struct cvd *c, struct archive *a, const char **name, uint8_t **data,
			  size_t *len, bool *done)
{
	struct archive_entry *ent;
	int r = archive_read_next_header(a, &ent);
	int64_t size;
	uint8_t *buf;
	size_t got = 0;

	*done = false;
	if (r == ARCHIVE_EOF) {
		*done = true;
		return VG_OK;
	}
	if (r != ARCHIVE_OK)
		return cvd_fail(c, VG_EFORMAT, "payload damaged (tar): %s",
				archive_error_string(a) ? archive_error_string(a) : "unreadable header");
	*name = archive_entry_pathname(ent);
	if (!*name || !plain_name(*name))
		return cvd_fail(c, VG_EFORMAT, "member '%.80s': not a plain file name (no folders, "
				"no '/', printable characters)", *name ? *name : "");
	if (archive_entry_filetype(ent) != AE_IFREG)
		return cvd_fail(c, VG_EFORMAT, "member %s: not a regular file", *name);
	size = archive_entry_size_is_set(ent) ? archive_entry_size(ent) : -1;
	if (size < 0 || (uint64_t)size > VG_MAX_DB_FILE_SIZE)
		return cvd_fail(c, VG_ELIMIT, "member %s: size missing or above %llu bytes", *name,
				(unsigned long long)VG_MAX_DB_FILE_SIZE);
	buf = vg_malloc((size_t)size + 1);
	if (!buf)
		return VG_ENOMEM;
	while (got < (size_t)size) {
		la_ssize_t n = archive_read_data(a, buf + got, (size_t)size - got);
		if (n <= 0) {
			vg_free(buf);
			return cvd_fail(c, VG_EFORMAT, "member %s: truncated or damaged payload (%s)",
					*name, n < 0 && archive_error_string(a) ? archive_error_string(a)
									: "unexpected end of data");
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return VG_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* ---- the .info manifest ---- */

static vg_status parse_info(struct cvd *c)
{
	struct line_iter it;
	const char *line;
	size_t len, signed_len = 0;
	bool dsig_seen = false;
	const char *dsig = NULL;
	size_t dsig_len = 0;
	struct cvd_header ih;
	char err[300];
	vg_status rc;

	line_iter_init(&it, c->info, c->info_len);
	while (line_iter_next(&it, &line, &len)) {
		struct field f[4];
		size_t nf, bad;
		struct cvd_entry *e;

		if (dsig_seen)
			return cvd_fail(c, VG_EFORMAT, "%s line %u: text after the DSIG line", c->info_name,
					it.lineno);
		if (it.lineno == 1) {
			rc = parse_header_line(line, len, &ih, err, sizeof(err));
			if (rc != VG_OK)
				return cvd_fail(c, rc, "%s line 1: %s", c->info_name, err);
			/* ClamAV's "Corrupted CVD header": the signed manifest must
			 * describe the same release as the (unsigned) header text */
			if (ih.version != c->hdr.version || ih.sigs != c->hdr.sigs ||
			    ih.flevel != c->hdr.flevel || ih.build_time != c->hdr.build_time)
				return cvd_fail(c, VG_EBADSIG,
						"header does not match %s: version %u/%u, signatures %llu/%llu, "
						"level %u/%u, build time %lld/%lld (header/manifest); the header "
						"was changed",
						c->info_name, c->hdr.version, ih.version,
						(unsigned long long)c->hdr.sigs, (unsigned long long)ih.sigs,
						c->hdr.flevel, ih.flevel, (long long)c->hdr.build_time,
						(long long)ih.build_time);
			continue;
		}
		if (len > 5 && memcmp(line, "DSIG:", 5) == 0) {
			dsig_seen = true;
			dsig = line + 5;
			dsig_len = len - 5;
			signed_len = (size_t)(line - c->info);
			continue;
		}
		nf = fields_split(line, len, ':', f, VG_ARRAY_LEN(f));
		if (nf != 3 || f[0].len == 0 || f[0].len >= 256 || f[2].len != 64)
			return cvd_fail(c, VG_EFORMAT, "%s line %u: expected 'file:size:sha256'",
					c->info_name, it.lineno);
		if (c->nentries >= VG_CVD_MAX_MEMBERS)
			return cvd_fail(c, VG_ELIMIT, "%s: more than %u files", c->info_name,
					VG_CVD_MAX_MEMBERS);
		e = vg_reallocarray(c->entries, c->nentries + 1, sizeof(*e));
		if (!e)
			return VG_ENOMEM;
		c->entries = e;
		e = &c->entries[c->nentries];
		memset(e, 0, sizeof(*e));
		if (!field_u64(&f[1], &e->size) || !hex_decode(f[2].s, 64, e->sha256, &bad))
			return cvd_fail(c, VG_EFORMAT, "%s line %u: bad size or SHA-256", c->info_name,
					it.lineno);
		e->name = vg_strndup(f[0].s, f[0].len);
		if (!e->name)
			return VG_ENOMEM;
		c->nentries++;
		if (!plain_name(e->name))
			return cvd_fail(c, VG_EFORMAT, "%s line %u: bad file name", c->info_name, it.lineno);
		for (size_t i = 0; i + 1 < c->nentries; i++)
			if (strcmp(c->entries[i].name, e->name) == 0)
				return cvd_fail(c, VG_EFORMAT, "%s line %u: %s listed twice", c->info_name,
						it.lineno, e->name);
	}
	if (it.lineno == 0)
		return cvd_fail(c, VG_EFORMAT, "%s is empty", c->info_name);
	if (c->kind == CVD_KIND_CUD)
		return VG_OK; /* unsigned by design: a DSIG there proves nothing */
	if (!dsig_seen)
		return cvd_fail(c, VG_EBADSIG, "%s has no DSIG line: the manifest is unsigned (only a "
				".cud may be unsigned)", c->info_name);
	{
		uint8_t sha[32];
		if (digest_once(HASH_SHA256, c->info, signed_len, sha) != VG_OK)
			return VG_ENOMEM;
		if (!dsig_verify_sha256(DSIG_KEY_INFO, dsig, dsig_len, sha))
			return cvd_fail(c, VG_EBADSIG, "bad digital signature on %s (DSIG): the manifest "
					"was changed or not signed by ClamAV; get the file again",
					c->info_name);
	}
	return VG_OK;
}

static vg_status find_info(struct cvd *c)
{
	struct archive *a = NULL;
	vg_status rc = tar_open(c, &a);
	size_t members = 0;

	while (rc == VG_OK) {
		const char *name;
		uint8_t *data = NULL;
		size_t len;
		bool done;

		rc = tar_next(c, a, &name, &data, &len, &done);
		if (rc != VG_OK || done)
			break;
		if (++members > VG_CVD_MAX_MEMBERS) {
			vg_free(data);
			rc = cvd_fail(c, VG_ELIMIT, "more than %u members", VG_CVD_MAX_MEMBERS);
			break;
		}
		if (ends_with(name, ".info")) {
			if (len > VG_CVD_MAX_INFO) {
				vg_free(data);
				rc = cvd_fail(c, VG_ELIMIT, "%s larger than %u bytes", name, VG_CVD_MAX_INFO);
				break;
			}
			snprintf(c->info_name, sizeof(c->info_name), "%s", name);
			c->info = (char *)data;
			c->info_len = len;
			break;
		}
		vg_free(data);
	}
	if (a)
		archive_read_free(a);
	if (rc == VG_OK && !c->info)
		rc = cvd_fail(c, VG_EFORMAT, "no .info manifest in the container");
	return rc;
}

static void hex32(const uint8_t *b, char *out)
{
	for (size_t i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

vg_status cvd_open(struct cvd *c, const char *path, enum cvd_kind kind, const uint8_t *data,
		   size_t len)
{
	char err[400];
	vg_status rc;

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->path = path;
	c->data = data;
	c->len = len;
	rc = cvd_parse_header(data, len, &c->hdr, err, sizeof(err));
	if (rc != VG_OK)
		return cvd_fail(c, rc, "%s", err);
	if (len == VG_CVD_HEADER_LEN)
		return cvd_fail(c, VG_EFORMAT, "truncated: the header is not followed by any payload");
	if (kind == CVD_KIND_CVD && (strcmp(c->hdr.md5, "X") == 0 || strcmp(c->hdr.dsig, "X") == 0))
		return cvd_fail(c, VG_EBADSIG, "unsigned: a .cvd must carry ClamAV's MD5 and digital "
				"signature (an unsigned container of your own must be named .cud)");
	if (strcmp(c->hdr.md5, "X") != 0) {
		uint8_t md5[16], want[16];
		size_t bad;
		char got[33];

		if (strlen(c->hdr.md5) != 32 || !hex_decode(c->hdr.md5, 32, want, &bad))
			return cvd_fail(c, VG_EFORMAT, "bad header: MD5 field is not 32 hex digits");
		if (digest_once(HASH_MD5, data + VG_CVD_HEADER_LEN, len - VG_CVD_HEADER_LEN, md5) !=
		    VG_OK)
			return VG_ENOMEM;
		if (memcmp(md5, want, 16) != 0) {
			hex32(md5, got);
			return cvd_fail(c, VG_EBADSIG, "MD5 mismatch: the payload's MD5 is %s, the header "
					"says %s (the file is truncated or was changed; get it again)",
					got, c->hdr.md5);
		}
		if (kind == CVD_KIND_CVD &&
		    !dsig_verify_md5(c->hdr.dsig, strlen(c->hdr.dsig), md5))
			return cvd_fail(c, VG_EBADSIG, "bad digital signature: the header's MD5 is not "
					"signed by ClamAV's key (the file was changed or is not from "
					"ClamAV; get it again)");
	}
	rc = find_info(c);
	if (rc == VG_OK)
		rc = parse_info(c);
	if (rc == VG_OK)
		c->verified = kind != CVD_KIND_CUD;
	return rc;
}

vg_status cvd_each_member(struct cvd *c, cvd_member_fn *fn, void *ctx)
{
	struct archive *a = NULL;
	vg_status rc = tar_open(c, &a);
	bool copying_seen = false, info_seen = false;
	size_t members = 0;

	for (size_t i = 0; i < c->nentries; i++)
		c->entries[i].seen = false;
	while (rc == VG_OK) {
		const char *name;
		uint8_t *data = NULL;
		size_t len;
		bool done;
		struct cvd_entry *e = NULL;

		rc = tar_next(c, a, &name, &data, &len, &done);
		if (rc != VG_OK || done)
			break;
		if (++members > VG_CVD_MAX_MEMBERS) {
			rc = cvd_fail(c, VG_ELIMIT, "more than %u members", VG_CVD_MAX_MEMBERS);
		} else if (strcmp(name, c->info_name) == 0) {
			if (info_seen || len != c->info_len || memcmp(data, c->info, len) != 0)
				rc = cvd_fail(c, VG_EFORMAT, "%s appears twice", name);
			info_seen = true;
		} else if (strcmp(name, "COPYING") == 0) {
			if (copying_seen)
				rc = cvd_fail(c, VG_EFORMAT, "COPYING appears twice");
			copying_seen = true;
		} else {
			for (size_t i = 0; i < c->nentries && !e; i++)
				if (strcmp(c->entries[i].name, name) == 0)
					e = &c->entries[i];
			if (!e) {
				rc = cvd_fail(c, VG_EBADSIG, "member %s is not listed in %s (added after "
					      "signing?)", name, c->info_name);
			} else if (e->seen) {
				rc = cvd_fail(c, VG_EFORMAT, "member %s appears twice", name);
			} else if (e->size != len) {
				rc = cvd_fail(c, VG_EBADSIG, "member %s: %zu bytes, %s says %llu (the file "
					      "was changed)", name, len, c->info_name,
					      (unsigned long long)e->size);
			} else {
				uint8_t sha[32];
				e->seen = true;
				if (digest_once(HASH_SHA256, data, len, sha) != VG_OK)
					rc = VG_ENOMEM;
				else if (memcmp(sha, e->sha256, 32) != 0)
					rc = cvd_fail(c, VG_EBADSIG, "member %s: SHA-256 differs from the one in "
						      "%s (the file was changed)", name, c->info_name);
			}
		}
		if (rc == VG_OK && fn)
			rc = fn(ctx, name, data, len);
		vg_free(data);
	}
	if (a)
		archive_read_free(a);
	for (size_t i = 0; rc == VG_OK && i < c->nentries; i++)
		if (!c->entries[i].seen)
			rc = cvd_fail(c, VG_EBADSIG, "member %s listed in %s is missing (removed after "
				      "signing?)", c->entries[i].name, c->info_name);
	return rc;
}

void cvd_close(struct cvd *c)
{
	for (size_t i = 0; i < c->nentries; i++)
		vg_free(c->entries[i].name);
	vg_free(c->entries);
	vg_free(c->info);
	c->entries = NULL;
	c->info = NULL;
	c->nentries = 0;
}
