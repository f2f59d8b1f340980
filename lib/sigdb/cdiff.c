/* ClamAV's incremental updates (.cdiff, reference §2.8) and the local
 * containers (.cld) they produce.
 *
 * A .cdiff is "ClamAV-Diff:<version>:<script length>:", a gzip-compressed
 * line script, ':' and an RSA-PSS signature over SHA-256 of everything
 * before that last ':'. The script edits the container's files by line
 * number (numbers always refer to the file as it was when OPENed) and also
 * rewrites the .info manifest, whose signature then covers the result: a
 * patched set is accepted only if it verifies as a whole. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "hash/hash.h"
#include "sigdb/sigdb.h"

static vg_status cd_fail(char *err, size_t errlen, vg_status rc, const char *path,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static vg_status cd_fail(char *err, size_t errlen, vg_status rc, const char *path,
			 const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", path, what);
	return rc;
}

/* ---- files in memory ---- */

void memfiles_free(struct memfiles *m)
{
	for (size_t i = 0; i < m->n; i++) {
		vg_free(m->files[i].name);
		buf_free(&m->files[i].data);
	}
	vg_free(m->files);
	m->files = NULL;
	m->n = 0;
}

vg_status memfiles_add(struct memfiles *m, const char *name, const uint8_t *data, size_t len)
{
	struct memfile *f;

	if (m->n >= VG_CVD_MAX_MEMBERS)
		return VG_ELIMIT;
	f = vg_reallocarray(m->files, m->n + 1, sizeof(*f));
	if (!f)
		return VG_ENOMEM;
	m->files = f;
	f = &m->files[m->n];
	f->name = vg_strndup(name, strlen(name));
	buf_init(&f->data, VG_MAX_DB_FILE_SIZE);
	if (!f->name || buf_append(&f->data, data, len) != VG_OK) {
		vg_free(f->name);
		buf_free(&f->data);
		return VG_ENOMEM;
	}
	m->n++;
	return VG_OK;
}

static struct memfile *memfiles_find(struct memfiles *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->files[i].name, name) == 0)
			return &m->files[i];
	return NULL;
}

static void memfiles_remove(struct memfiles *m, struct memfile *f)
{
	size_t i = (size_t)(f - m->files);

	vg_free(f->name);
	buf_free(&f->data);
	memmove(&m->files[i], &m->files[i + 1], (m->n - i - 1) * sizeof(*f));
	m->n--;
}

/* ---- the .cdiff file ---- */

static bool parse_u64(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	size_t start = *pos;

	while (*pos < len && p[*pos] >= '0' && p[*pos] <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(p[*pos] - '0');
		(*pos)++;
	}
	*out = v;
	return *pos > start && *pos < len && p[*pos] == ':';
}

vg_status cdiff_open(const uint8_t *data, size_t len, const char *path, uint32_t *version,
		     char **script, size_t *script_len, char *err, size_t errlen)
{
	static const char magic[] = "ClamAV-Diff:";
	size_t pos = sizeof(magic) - 1, colon, out_len = 0;
	uint64_t ver, slen;
	uint8_t sha[32];
	char *out = NULL;
	z_stream z;
	int zr;

	if (len == 0)
		return cd_fail(err, errlen, VG_EFORMAT, path, "empty .cdiff: the mirror asks for the "
			       "whole .cvd instead");
	if (len > VG_CDIFF_MAX_FILE)
		return cd_fail(err, errlen, VG_ELIMIT, path, "larger than %llu bytes",
			       (unsigned long long)VG_CDIFF_MAX_FILE);
	if (len < pos || memcmp(data, magic, pos) != 0)
		return cd_fail(err, errlen, VG_EFORMAT, path, "not a .cdiff: it must start with "
			       "'ClamAV-Diff:'");
	if (!parse_u64(data, len, &pos, &ver) || ver == 0 || ver > UINT32_MAX)
		return cd_fail(err, errlen, VG_EFORMAT, path, "bad header: version is not a number");
	pos++;
	if (!parse_u64(data, len, &pos, &slen))
		return cd_fail(err, errlen, VG_EFORMAT, path, "bad header: script length is not a "
			       "number");
	pos++;
	if (slen > VG_CDIFF_MAX_SCRIPT)
		return cd_fail(err, errlen, VG_ELIMIT, path, "script of %llu bytes, above %u",
			       (unsigned long long)slen, VG_CDIFF_MAX_SCRIPT);
	for (colon = len; colon > pos && data[colon - 1] != ':'; colon--)
		;
	if (colon <= pos)
		return cd_fail(err, errlen, VG_EBADSIG, path, "no signature: nothing follows the "
			       "compressed script (truncated?)");
	colon--; /* the last ':' */
	if (digest_once(HASH_SHA256, data, colon, sha) != VG_OK)
		return VG_ENOMEM;
	if (!dsig_verify_sha256(DSIG_KEY_CDIFF, (const char *)data + colon + 1, len - colon - 1, sha))
		return cd_fail(err, errlen, VG_EBADSIG, path, "bad digital signature: the update was "
			       "changed, truncated or not signed by ClamAV; get it again");
	out = vg_malloc((size_t)slen + 1);
	if (!out)
		return VG_ENOMEM;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		vg_free(out);
		return VG_ENOMEM;
	}
	z.next_in = (Bytef *)(uintptr_t)(data + pos);
	z.avail_in = (uInt)(colon - pos);
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)slen + 1; /* one spare byte detects a longer script */
	zr = inflate(&z, Z_FINISH);
	out_len = (size_t)z.total_out;
	inflateEnd(&z);
	if (zr != Z_STREAM_END || out_len != slen) {
		vg_free(out);
		return cd_fail(err, errlen, VG_EFORMAT, path, "compressed script damaged or not %llu "
			       "bytes long", (unsigned long long)slen);
	}
	out[out_len] = '\0';
	*version = (uint32_t)ver;
	*script = out;
	*script_len = out_len;
	return VG_OK;
}

/* ---- the script ---- */

struct edit {
	uint64_t lineno;
	const char *prefix;
	size_t prefix_len;
	const char *repl; /* NULL: delete */
	size_t repl_len;
	bool done;
};

struct script_state {
	struct memfiles *m;
	const char *path;
	char *err;
	size_t errlen;
	uint32_t lineno;
	char open[256];
	bool is_open;
	struct edit *edits;
	size_t nedits;
	struct buf adds;
};

static vg_status sfail(struct script_state *st, vg_status rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static vg_status sfail(struct script_state *st, vg_status rc, const char *fmt, ...)
{
	char what[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(st->err, st->errlen, "%s: script line %u: %s", st->path, st->lineno, what);
	return rc;
}

/* Splits off the next space-separated token. */
static bool token(const char **p, const char *end, const char **tok, size_t *len)
{
	while (*p < end && **p == ' ')
		(*p)++;
	*tok = *p;
	while (*p < end && **p != ' ')
		(*p)++;
	*len = (size_t)(*p - *tok);
	return *len > 0;
}

static bool token_u64(const char **p, const char *end, uint64_t *out)
{
	const char *t;
	size_t n;
	struct field f;

	if (!token(p, end, &t, &n))
		return false;
	f.s = t;
	f.len = n;
	f.col = 0;
	return field_u64(&f, out) && *out > 0;
}

static bool db_file_name(const char *s, size_t n, char *out, size_t outlen)
{
	if (n == 0 || n >= outlen)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	if (n <= 2 && s[0] == '.')
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* Lines of a file: start offsets of each line (terminator included). */
static vg_status line_starts(const struct buf *b, size_t **out, size_t *n)
{
	size_t cnt = 0, *v;

	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n' || i + 1 == b->len)
			cnt++;
	v = vg_calloc(cnt + 1, sizeof(size_t));
	if (!v)
		return VG_ENOMEM;
	cnt = 0;
	for (size_t i = 0, start = 0; i < b->len; i++)
		if (b->data[i] == '\n' || i + 1 == b->len) {
			v[cnt++] = start;
			start = i + 1;
		}
	v[cnt] = b->len;
	*out = v;
	*n = cnt;
	return VG_OK;
}

/* Line text without its terminator. */
static size_t line_len(const struct buf *b, const size_t *starts, size_t i)
{
	size_t n = starts[i + 1] - starts[i];
	const uint8_t *p = b->data + starts[i];

	if (n && p[n - 1] == '\n')
		n--;
	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

static bool has_prefix(const struct buf *b, const size_t *starts, size_t i, const char *prefix,
		       size_t plen)
{
	return line_len(b, starts, i) >= plen && memcmp(b->data + starts[i], prefix, plen) == 0;
}

static vg_status do_close(struct script_state *st)
{
	struct memfile *f = memfiles_find(st->m, st->open);
	struct buf out;
	size_t *starts = NULL, nlines = 0;
	vg_status rc = VG_OK;

	buf_init(&out, VG_MAX_DB_FILE_SIZE);
	if (!f && st->nedits)
		return sfail(st, VG_EFORMAT, "CLOSE: %s does not exist, its lines cannot be edited",
			     st->open);
	if (f) {
		rc = line_starts(&f->data, &starts, &nlines);
		for (size_t i = 0; rc == VG_OK && i < nlines; i++) {
			struct edit *e = NULL;
			for (size_t k = 0; k < st->nedits && !e; k++)
				if (st->edits[k].lineno == i + 1)
					e = &st->edits[k];
			if (!e) {
				rc = buf_append(&out, f->data.data + starts[i], starts[i + 1] - starts[i]);
				continue;
			}
			if (!has_prefix(&f->data, starts, i, e->prefix, e->prefix_len)) {
				rc = sfail(st, VG_EFORMAT, "%s line %zu does not start with '%.*s': the "
					   "update does not fit this version of the file", st->open,
					   i + 1, (int)(e->prefix_len > 60 ? 60 : e->prefix_len), e->prefix);
				break;
			}
			e->done = true;
			if (e->repl) {
				rc = buf_append(&out, e->repl, e->repl_len);
				if (rc == VG_OK)
					rc = buf_append(&out, "\n", 1);
			}
		}
	}
	for (size_t k = 0; rc == VG_OK && k < st->nedits; k++)
		if (!st->edits[k].done)
			rc = sfail(st, VG_EFORMAT, "%s has no line %llu to edit", st->open,
				   (unsigned long long)st->edits[k].lineno);
	if (rc == VG_OK)
		rc = buf_append(&out, st->adds.data, st->adds.len);
	if (rc == VG_OK) {
		if (f) {
			buf_free(&f->data);
			f->data = out;
			out.data = NULL;
		} else if (out.len) {
			/* as ClamAV: a new file exists only once a line is added */
			rc = memfiles_add(st->m, st->open, out.data, out.len);
		}
	}
	buf_free(&out);
	vg_free(starts);
	vg_free(st->edits);
	st->edits = NULL;
	st->nedits = 0;
	st->adds.len = 0;
	st->is_open = false;
	return rc;
}

static vg_status do_move(struct script_state *st, const char *p, const char *end)
{
	const char *t[6];
	size_t tl[6], *starts = NULL, nlines = 0;
	uint64_t from, to;
	char src[256], dst[256];
	struct memfile *fs, *fd;
	struct buf rest;
	vg_status rc;

	for (int i = 0; i < 6; i++)
		if (!token(&p, end, &t[i], &tl[i]))
			return sfail(st, VG_EFORMAT, "MOVE needs: src dst startline startprefix endline "
				     "endprefix");
	if (!db_file_name(t[0], tl[0], src, sizeof(src)) || !db_file_name(t[1], tl[1], dst, sizeof(dst)))
		return sfail(st, VG_EFORMAT, "MOVE: bad file name");
	{
		struct field f1 = {t[2], tl[2], 0}, f2 = {t[4], tl[4], 0};
		if (!field_u64(&f1, &from) || !field_u64(&f2, &to) || from == 0 || to < from)
			return sfail(st, VG_EFORMAT, "MOVE: bad line range");
		/* ClamAV's applier fails on a one-line range (it looks for the end
		 * line after the start line): such an update cannot be valid */
		if (to == from)
			return sfail(st, VG_EFORMAT, "MOVE: a one-line range, which ClamAV cannot apply");
	}
	fs = memfiles_find(st->m, src);
	if (!fs || strcmp(src, dst) == 0)
		return sfail(st, VG_EFORMAT, "MOVE: %s does not exist or equals the destination", src);
	rc = line_starts(&fs->data, &starts, &nlines);
	if (rc != VG_OK)
		return rc;
	if (to > nlines || !has_prefix(&fs->data, starts, from - 1, t[3], tl[3]) ||
	    !has_prefix(&fs->data, starts, to - 1, t[5], tl[5])) {
		vg_free(starts);
		return sfail(st, VG_EFORMAT, "MOVE: lines %llu-%llu of %s do not match the update",
			     (unsigned long long)from, (unsigned long long)to, src);
	}
	fd = memfiles_find(st->m, dst);
	if (!fd) { /* as ClamAV: MOVE does not create its destination */
		vg_free(starts);
		return sfail(st, VG_EFORMAT, "MOVE: destination %s does not exist", dst);
	}
	rc = buf_append(&fd->data, fs->data.data + starts[from - 1],
				starts[to] - starts[from - 1]);
	buf_init(&rest, VG_MAX_DB_FILE_SIZE);
	if (rc == VG_OK)
		rc = buf_append(&rest, fs->data.data, starts[from - 1]);
	if (rc == VG_OK)
		rc = buf_append(&rest, fs->data.data + starts[to], fs->data.len - starts[to]);
	if (rc == VG_OK) {
		buf_free(&fs->data);
		fs->data = rest;
		rest.data = NULL;
	}
	buf_free(&rest);
	vg_free(starts);
	return rc;
}

static vg_status script_line(struct script_state *st, const char *line, size_t len)
{
	const char *p = line, *end = line + len, *cmd, *t;
	size_t cl, tl;
	struct edit *e;
	uint64_t n;

	if (!token(&p, end, &cmd, &cl))
		return VG_OK; /* blank line */
	if (cl == 4 && memcmp(cmd, "OPEN", 4) == 0) {
		if (st->is_open)
			return sfail(st, VG_EFORMAT, "OPEN while %s is still open", st->open);
		if (!token(&p, end, &t, &tl) || !db_file_name(t, tl, st->open, sizeof(st->open)))
			return sfail(st, VG_EFORMAT, "OPEN: bad file name");
		st->is_open = true;
		return VG_OK;
	}
	if (cl == 5 && memcmp(cmd, "CLOSE", 5) == 0) {
		if (!st->is_open)
			return sfail(st, VG_EFORMAT, "CLOSE without OPEN");
		return do_close(st);
	}
	if (cl == 6 && memcmp(cmd, "UNLINK", 6) == 0) {
		char name[256];
		struct memfile *f;
		if (st->is_open)
			return sfail(st, VG_EFORMAT, "UNLINK while %s is open", st->open);
		if (!token(&p, end, &t, &tl) || !db_file_name(t, tl, name, sizeof(name)))
			return sfail(st, VG_EFORMAT, "UNLINK: bad file name");
		f = memfiles_find(st->m, name);
		if (!f)
			return sfail(st, VG_EFORMAT, "UNLINK: %s does not exist", name);
		memfiles_remove(st->m, f);
		return VG_OK;
	}
	if (cl == 4 && memcmp(cmd, "MOVE", 4) == 0) {
		if (st->is_open)
			return sfail(st, VG_EFORMAT, "MOVE while %s is open", st->open);
		return do_move(st, p, end);
	}
	if (!((cl == 3 && (memcmp(cmd, "ADD", 3) == 0 || memcmp(cmd, "DEL", 3) == 0)) ||
	      (cl == 4 && memcmp(cmd, "XCHG", 4) == 0)))
		return sfail(st, VG_EFORMAT, "unknown command '%.*s'", (int)(cl > 20 ? 20 : cl), cmd);
	if (!st->is_open)
		return sfail(st, VG_EFORMAT, "'%.*s' outside OPEN/CLOSE", (int)(cl > 20 ? 20 : cl), cmd);
	if (cl == 3 && memcmp(cmd, "ADD", 3) == 0) {
		if (p < end)
			p++; /* the one separating space; the rest is the line */
		if (buf_append(&st->adds, p, (size_t)(end - p)) != VG_OK ||
		    buf_append(&st->adds, "\n", 1) != VG_OK)
			return VG_ENOMEM;
		return VG_OK;
	}
	if ((cl == 3 && memcmp(cmd, "DEL", 3) == 0) || (cl == 4 && memcmp(cmd, "XCHG", 4) == 0)) {
		bool xchg = cl == 4;
		if (!token_u64(&p, end, &n) || !token(&p, end, &t, &tl))
			return sfail(st, VG_EFORMAT, "%s needs a line number and a prefix",
				     xchg ? "XCHG" : "DEL");
		for (size_t k = 0; k < st->nedits; k++)
			if (st->edits[k].lineno == n)
				return sfail(st, VG_EFORMAT, "line %llu edited twice",
					     (unsigned long long)n);
		e = vg_reallocarray(st->edits, st->nedits + 1, sizeof(*e));
		if (!e)
			return VG_ENOMEM;
		st->edits = e;
		e = &st->edits[st->nedits++];
		memset(e, 0, sizeof(*e));
		e->lineno = n;
		e->prefix = t;
		e->prefix_len = tl;
		if (xchg) {
			if (p >= end)
				return sfail(st, VG_EFORMAT, "XCHG without a new line");
			p++;
			e->repl = p;
			e->repl_len = (size_t)(end - p);
		}
		return VG_OK;
	}
	return sfail(st, VG_EFORMAT, "unknown command '%.*s'", (int)(cl > 20 ? 20 : cl), cmd);
}

vg_status cdiff_apply_script(struct memfiles *m, const char *script, size_t len, const char *path,
			     char *err, size_t errlen)
{
	struct script_state st;
	struct line_iter it;
	const char *line;
	size_t llen;
	vg_status rc = VG_OK;

	memset(&st, 0, sizeof(st));
	st.m = m;
	st.path = path;
	st.err = err;
	st.errlen = errlen;
	buf_init(&st.adds, VG_MAX_DB_FILE_SIZE);
	line_iter_init(&it, script, len);
	while (rc == VG_OK && line_iter_next(&it, &line, &llen)) {
		st.lineno = it.lineno;
		rc = script_line(&st, line, llen);
	}
	if (rc == VG_OK && st.is_open)
		rc = sfail(&st, VG_EFORMAT, "%s is never CLOSEd (truncated script?)", st.open);
	vg_free(st.edits);
	buf_free(&st.adds);
	return rc;
}

/* ---- writing a .cld ---- */

static la_ssize_t write_cb(struct archive *a, void *ctx, const void *data, size_t len)
{
	(void)a;
	return buf_append(ctx, data, len) == VG_OK ? (la_ssize_t)len : -1;
}

static vg_status tar_add(struct archive *a, const struct memfile *f)
{
	struct archive_entry *e = archive_entry_new();
	vg_status rc = VG_ENOMEM;

	if (!e)
		return VG_ENOMEM;
	archive_entry_set_pathname(e, f->name);
	archive_entry_set_size(e, (la_int64_t)f->data.len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, 0, 0);
	if (archive_write_header(a, e) == ARCHIVE_OK &&
	    (f->data.len == 0 || archive_write_data(a, f->data.data, f->data.len) ==
				     (la_ssize_t)f->data.len))
		rc = VG_OK;
	archive_entry_free(e);
	return rc;
}

static bool is_info(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcasecmp(name + n - 5, ".info") == 0;
}

vg_status cld_build(const struct memfiles *m, uint8_t **out, size_t *out_len, char *err,
		    size_t errlen)
{
	const struct memfile *info = NULL, *copying = NULL;
	struct buf b;
	struct archive *a = NULL;
	size_t hl;
	vg_status rc = VG_OK;

	for (size_t i = 0; i < m->n; i++) {
		if (is_info(m->files[i].name)) {
			if (info)
				return cd_fail(err, errlen, VG_EFORMAT, m->files[i].name,
					       "two .info manifests");
			info = &m->files[i];
		} else if (strcmp(m->files[i].name, "COPYING") == 0) {
			copying = &m->files[i];
		}
	}
	if (!info)
		return cd_fail(err, errlen, VG_EFORMAT, "container", "no .info manifest");
	for (hl = 0; hl < info->data.len && info->data.data[hl] != '\n'; hl++)
		;
	if (hl && info->data.data[hl - 1] == '\r')
		hl--;
	if (hl > VG_CVD_HEADER_LEN)
		return cd_fail(err, errlen, VG_EFORMAT, info->name, "first line longer than %u bytes",
			       VG_CVD_HEADER_LEN);
	buf_init(&b, (size_t)VG_MAX_DB_FILE_SIZE);
	rc = buf_reserve(&b, VG_CVD_HEADER_LEN);
	if (rc != VG_OK)
		goto out;
	memcpy(b.data, info->data.data, hl);
	memset(b.data + hl, ' ', VG_CVD_HEADER_LEN - hl);
	b.len = VG_CVD_HEADER_LEN;
	a = archive_write_new();
	if (!a || archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &b, NULL, write_cb, NULL) != ARCHIVE_OK) {
		rc = VG_ENOMEM;
		goto out;
	}
	if (copying)
		rc = tar_add(a, copying);
	if (rc == VG_OK)
		rc = tar_add(a, info);
	for (size_t i = 0; rc == VG_OK && i < m->n; i++)
		if (&m->files[i] != info && &m->files[i] != copying)
			rc = tar_add(a, &m->files[i]);
	if (rc == VG_OK && archive_write_close(a) != ARCHIVE_OK)
		rc = VG_ENOMEM;
	if (rc == VG_OK) {
		*out = b.data;
		*out_len = b.len;
		b.data = NULL;
	} else {
		cd_fail(err, errlen, rc, "container", "cannot write the tar payload");
	}
out:
	if (a)
		archive_write_free(a);
	buf_free(&b);
	return rc;
}
