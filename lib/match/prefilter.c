/* The literal prefilter: the anchors of all body patterns in one Vectorscan
 * streaming database, so a file is searched once for every signature, in
 * bounded memory, whatever its size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "match/match.h"

struct prefilter {
	hs_database_t *db; /* NULL when there are no literals */
	size_t nlits;
};

struct prefilter_stream {
	const struct prefilter *pf;
	hs_scratch_t *scratch;
	hs_stream_t *stream;
};

void prefilter_free(struct prefilter *pf)
{
	if (!pf)
		return;
	hs_free_database(pf->db);
	vg_free(pf);
}

static vg_status compile_error(hs_compile_error_t *ce, char *err, size_t errlen)
{
	snprintf(err, errlen, "Vectorscan: %s (literal %d)", ce && ce->message ? ce->message : "?",
		 ce ? ce->expression : -1);
	hs_free_compile_error(ce);
	return VG_EFORMAT;
}

/* Vectorscan 5.4.9's literal API rejects a literal starting with 0x00, so
 * such sets go through the regex API with every byte escaped. */
static vg_status compile_as_regex(const struct literal *lits, size_t n, hs_database_t **db,
				  char *err, size_t errlen)
{
	vg_status rc = VG_ENOMEM;
	char **exprs = vg_calloc(n, sizeof(char *));
	unsigned *ids = vg_calloc(n, sizeof(unsigned));
	unsigned *flags = vg_calloc(n, sizeof(unsigned));
	hs_compile_error_t *ce = NULL;

	if (!exprs || !ids || !flags)
		goto out;
	for (size_t i = 0; i < n; i++) {
		exprs[i] = vg_malloc((size_t)lits[i].len * 4 + 1);
		if (!exprs[i])
			goto out;
		for (uint32_t j = 0; j < lits[i].len; j++)
			snprintf(exprs[i] + 4 * j, 5, "\\x%02x", lits[i].bytes[j]);
		exprs[i][4 * (size_t)lits[i].len] = '\0';
		ids[i] = (unsigned)i;
		flags[i] = lits[i].nocase ? HS_FLAG_CASELESS : 0;
	}
	if (hs_compile_multi((const char *const *)exprs, flags, ids, (unsigned)n, HS_MODE_STREAM,
			     NULL, db, &ce) != HS_SUCCESS) {
		rc = compile_error(ce, err, errlen);
		goto out;
	}
	rc = VG_OK;
out:
	if (exprs)
		for (size_t i = 0; i < n; i++)
			vg_free(exprs[i]);
	vg_free(exprs);
	vg_free(ids);
	vg_free(flags);
	return rc;
}

static vg_status compile_as_literals(const struct literal *lits, size_t n, hs_database_t **db,
				     char *err, size_t errlen)
{
	vg_status rc = VG_ENOMEM;
	const char **exprs = vg_calloc(n, sizeof(char *));
	size_t *lens = vg_calloc(n, sizeof(size_t));
	unsigned *ids = vg_calloc(n, sizeof(unsigned));
	unsigned *flags = vg_calloc(n, sizeof(unsigned));
	hs_compile_error_t *ce = NULL;

	if (!exprs || !lens || !ids || !flags)
		goto out;
	for (size_t i = 0; i < n; i++) {
		exprs[i] = (const char *)lits[i].bytes;
		lens[i] = lits[i].len;
		ids[i] = (unsigned)i;
		flags[i] = lits[i].nocase ? HS_FLAG_CASELESS : 0;
	}
	if (hs_compile_lit_multi(exprs, flags, ids, lens, (unsigned)n, HS_MODE_STREAM, NULL, db,
				 &ce) != HS_SUCCESS) {
		rc = compile_error(ce, err, errlen);
		goto out;
	}
	rc = VG_OK;
out:
	vg_free(exprs);
	vg_free(lens);
	vg_free(ids);
	vg_free(flags);
	return rc;
}

vg_status prefilter_build(const struct literal *lits, size_t n, struct prefilter **out,
			  char *err, size_t errlen)
{
	struct prefilter *pf;
	bool leading_nul = false;
	vg_status rc = VG_OK;

	if (n > UINT32_MAX / 2)
		return VG_ELIMIT;
	pf = vg_calloc(1, sizeof(*pf));
	if (!pf)
		return VG_ENOMEM;
	pf->nlits = n;
	for (size_t i = 0; i < n; i++)
		if (lits[i].len == 0 || lits[i].bytes[0] == 0)
			leading_nul = true;
	if (n)
		rc = leading_nul ? compile_as_regex(lits, n, &pf->db, err, errlen)
				 : compile_as_literals(lits, n, &pf->db, err, errlen);
	if (rc != VG_OK) {
		prefilter_free(pf);
		return rc;
	}
	*out = pf;
	return VG_OK;
}

vg_status prefilter_serialize(const struct prefilter *pf, uint8_t **out, size_t *len)
{
	char *bytes = NULL;
	size_t n = 0;
	uint8_t *copy;

	if (!pf->db) {
		*out = vg_malloc(1);
		*len = 0;
		return *out ? VG_OK : VG_ENOMEM;
	}
	if (hs_serialize_database(pf->db, &bytes, &n) != HS_SUCCESS)
		return VG_ENOMEM;
	copy = vg_malloc(n);
	if (!copy) {
		free(bytes);
		return VG_ENOMEM;
	}
	memcpy(copy, bytes, n);
	free(bytes); /* Vectorscan allocates with the default allocator */
	*out = copy;
	*len = n;
	return VG_OK;
}

vg_status prefilter_deserialize(const uint8_t *bytes, size_t len, size_t nlits,
				struct prefilter **out)
{
	struct prefilter *pf = vg_calloc(1, sizeof(*pf));
	if (!pf)
		return VG_ENOMEM;
	pf->nlits = nlits;
	if (len) {
		/* a database from elsewhere (other Vectorscan, other CPU flags)
		 * is refused here, and the caller rebuilds */
		if (hs_deserialize_database((const char *)bytes, len, &pf->db) != HS_SUCCESS) {
			prefilter_free(pf);
			return VG_EFORMAT;
		}
	}
	*out = pf;
	return VG_OK;
}

size_t prefilter_memory(const struct prefilter *pf)
{
	size_t n = 0;

	if (pf && pf->db)
		hs_database_size(pf->db, &n);
	return n;
}

void prefilter_stream_free(struct prefilter_stream *s)
{
	if (!s)
		return;
	if (s->stream)
		hs_close_stream(s->stream, s->scratch, NULL, NULL);
	hs_free_scratch(s->scratch);
	vg_free(s);
}

vg_status prefilter_stream_new(const struct prefilter *pf, struct prefilter_stream **out)
{
	struct prefilter_stream *s = vg_calloc(1, sizeof(*s));

	if (!s)
		return VG_ENOMEM;
	s->pf = pf;
	if (pf->db) {
		if (hs_alloc_scratch(pf->db, &s->scratch) != HS_SUCCESS ||
		    hs_open_stream(pf->db, 0, &s->stream) != HS_SUCCESS) {
			prefilter_stream_free(s);
			return VG_ENOMEM;
		}
	}
	*out = s;
	return VG_OK;
}

struct hit_relay {
	prefilter_hit_fn *cb;
	void *ctx;
};

static int on_hs_match(unsigned int id, unsigned long long from, unsigned long long to,
		       unsigned int flags, void *ctx)
{
	struct hit_relay *r = ctx;

	(void)from;
	(void)flags;
	return r->cb(r->ctx, id, to);
}

vg_status prefilter_stream_begin(struct prefilter_stream *s)
{
	if (!s->stream)
		return VG_OK;
	return hs_reset_stream(s->stream, 0, s->scratch, NULL, NULL) == HS_SUCCESS ? VG_OK : VG_EINVAL;
}

vg_status prefilter_stream_scan(struct prefilter_stream *s, const uint8_t *data, size_t len,
				prefilter_hit_fn *cb, void *ctx)
{
	struct hit_relay r = {cb, ctx};
	hs_error_t e;

	if (!s->stream || len == 0)
		return VG_OK;
	while (len) {
		/* Vectorscan takes at most 4 GiB per call */
		unsigned n = len > UINT32_MAX ? UINT32_MAX : (unsigned)len;
		e = hs_scan_stream(s->stream, (const char *)data, n, 0, s->scratch, on_hs_match, &r);
		if (e == HS_SCAN_TERMINATED)
			return VG_ELIMIT;
		if (e != HS_SUCCESS)
			return VG_EINVAL;
		data += n;
		len -= n;
	}
	return VG_OK;
}

vg_status prefilter_stream_end(struct prefilter_stream *s, prefilter_hit_fn *cb, void *ctx)
{
	struct hit_relay r = {cb, ctx};
	hs_error_t e;

	if (!s->stream)
		return VG_OK;
	e = hs_reset_stream(s->stream, 0, s->scratch, on_hs_match, &r);
	if (e == HS_SCAN_TERMINATED)
		return VG_ELIMIT;
	return e == HS_SUCCESS ? VG_OK : VG_EINVAL;
}
