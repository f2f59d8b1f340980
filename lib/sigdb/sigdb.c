/* The signature set: names, signatures, hash entries and allow/ignore lists
 * gathered from every database file before the engine compiles them. */
#include <stdio.h>
#include <string.h>

#include "sigdb/sigdb.h"

void vec_init(struct vec *v, size_t item_size)
{
	v->items = NULL;
	v->n = v->cap = 0;
	v->size = item_size;
}

void vec_free(struct vec *v)
{
	vg_free(v->items);
	v->items = NULL;
	v->n = v->cap = 0;
}

void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *p = vg_reallocarray(v->items, cap, v->size);
		if (!p)
			return NULL;
		v->items = p;
		v->cap = cap;
	}
	void *item = (uint8_t *)v->items + v->n * v->size;
	memset(item, 0, v->size);
	v->n++;
	return item;
}

void sigset_init(struct sigset *s, uint32_t flevel, bool detect_pua, const struct vg_logger *log)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->names, UINT32_MAX);
	vec_init(&s->sigs, sizeof(struct sig));
	vec_init(&s->bodies, sizeof(struct body_sig));
	vec_init(&s->ldbs, sizeof(struct ldb_sig));
	vec_init(&s->cdbs, sizeof(struct cdb_sig));
	vec_init(&s->ftms, sizeof(struct ftm_sig));
	vec_init(&s->lsubs, sizeof(struct ldb_sub));
	vec_init(&s->hashes, sizeof(struct hash_entry));
	vec_init(&s->fps, sizeof(struct hash_entry));
	vec_init(&s->sections, sizeof(struct hash_entry));
	vec_init(&s->imports, sizeof(struct hash_entry));
	vec_init(&s->ignores, sizeof(struct ignore_entry));
	vec_init(&s->dbs, sizeof(struct db_record));
	s->flevel = flevel;
	s->detect_pua = detect_pua;
	s->log = log;
}

void sigset_free(struct sigset *s)
{
	for (size_t i = 0; i < s->bodies.n; i++)
		pattern_free(VEC_AT(&s->bodies, struct body_sig, i)->pat);
	for (size_t i = 0; i < s->ignores.n; i++)
		vg_free(VEC_AT(&s->ignores, struct ignore_entry, i)->name);
	sigdb_free_ldbs(s, 0, 0);
	sigdb_free_cdbs(s, 0);
	sigdb_free_ftms(s, 0);
	for (size_t i = 0; i < s->dbs.n; i++) {
		vg_free(VEC_AT(&s->dbs, struct db_record, i)->path);
		vg_free(VEC_AT(&s->dbs, struct db_record, i)->name);
	}
	buf_free(&s->names);
	vec_free(&s->sigs);
	vec_free(&s->bodies);
	vec_free(&s->ldbs);
	vec_free(&s->cdbs);
	vec_free(&s->ftms);
	vec_free(&s->lsubs);
	vec_free(&s->hashes);
	vec_free(&s->fps);
	vec_free(&s->sections);
	vec_free(&s->imports);
	vec_free(&s->ignores);
	vec_free(&s->dbs);
}

const char *sigset_name(const struct sigset *s, uint32_t i)
{
	return (const char *)s->names.data + VEC_AT(&s->sigs, struct sig, i)->name;
}

vg_status sigdb_fail(struct sigset *s, vg_status rc, const char *path, uint32_t line,
		     uint32_t col, const char *fmt, ...)
{
	char what[800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(s->error, sizeof(s->error), "%s:%u:%u: %s", path, line, col + 1, what);
	else
		snprintf(s->error, sizeof(s->error), "%s: %s", path, what);
	return rc;
}

vg_status sigdb_add_sig(struct sigset *s, const struct db_text *t, const char *name, size_t len,
			uint8_t kind, uint32_t *out)
{
	static const char suffix[] = ".UNOFFICIAL";
	size_t off = s->names.len;
	struct sig *sig;
	vg_status rc;

	if (s->sigs.n >= UINT32_MAX - 1)
		return VG_ELIMIT;
	rc = buf_append(&s->names, name, len);
	if (rc == VG_OK && !t->official)
		rc = buf_append(&s->names, suffix, sizeof(suffix) - 1);
	if (rc == VG_OK)
		rc = buf_append(&s->names, "", 1);
	if (rc != VG_OK) {
		s->names.len = off;
		return rc;
	}
	sig = vec_push(&s->sigs);
	if (!sig) {
		s->names.len = off;
		return VG_ENOMEM;
	}
	sig->name = (uint32_t)off;
	sig->db = t->db;
	sig->kind = kind;
	*out = (uint32_t)(s->sigs.n - 1);
	return VG_OK;
}

/* ClamAV reads FLEVEL fields with atoi() after an all-digits check, so an
 * empty field counts as 0. */
static uint64_t flevel_value(const struct field *f)
{
	uint64_t v = 0;

	if (f->len == 0)
		return 0;
	if (!field_u64(f, &v))
		return UINT64_MAX;
	return v;
}

bool sigdb_flevel_ok(const struct sigset *s, const struct field *fmin, const struct field *fmax,
		     bool *bad)
{
	uint64_t v;

	*bad = false;
	if (fmin) {
		v = flevel_value(fmin);
		if (v == UINT64_MAX) {
			*bad = true;
			return false;
		}
		if (v > s->flevel)
			return false;
	}
	if (fmax) {
		v = flevel_value(fmax);
		if (v == UINT64_MAX) {
			*bad = true;
			return false;
		}
		if (v < s->flevel)
			return false;
	}
	return true;
}

vg_status sigdb_each_line(struct sigset *s, const struct db_text *t, bool empty_ok,
			  sigdb_line_fn *fn, void *arg)
{
	return sigdb_each_line_max(s, t, empty_ok, VG_MAX_LINE_LEN, fn, arg);
}

vg_status sigdb_each_line_max(struct sigset *s, const struct db_text *t, bool empty_ok,
			      uint32_t max_line, sigdb_line_fn *fn, void *arg)
{
	struct line_iter it;
	const char *line;
	size_t len;
	bool counted;
	vg_status rc;

	line_iter_init(&it, t->text, t->len);
	while (line_iter_next(&it, &line, &len)) {
		if (len && line[0] == '#')
			continue;
		if (len >= max_line)
			return sigdb_fail(s, VG_EFORMAT, t->path, it.lineno, max_line - 1,
					  "line longer than %u bytes", max_line - 1);
		counted = false;
		rc = fn(s, t, line, len, it.lineno, arg, &counted);
		if (rc != VG_OK)
			return rc;
		if (counted)
			VEC_AT(&s->dbs, struct db_record, t->db)->signatures++;
	}
	if (it.lineno == 0 && !empty_ok)
		return sigdb_fail(s, VG_EFORMAT, t->path, 0, 0,
				  "empty database file (ClamAV refuses it too; add a '#' comment line "
				  "or remove the file)");
	return VG_OK;
}
