/* Shared by the document unpacker tests (test_unpack_ole2/pdf/rtf/html.c):
 * a sink that keeps a copy of every child, optionally unpacking OLE2
 * children again (as the scan driver would), and access to Debian's
 * clamav-testfiles. Include after <cmocka.h>. */
#ifndef VG_TEST_UNPACK_DOC_HELPERS_H
#define VG_TEST_UNPACK_DOC_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unpack/unpack.h"

#define TESTFILES "/usr/share/clamav-testfiles/"

struct kept {
	char *name; /* NULL when the child had none */
	uint8_t *data;
	size_t len;
	bool truncated;
	bool encrypted;
	unsigned depth;
};

struct collector {
	struct kept *items;
	size_t n;
	size_t calls;
	/* stop: return stop_rc from the call numbered stop_at (1-based; 0 never) */
	size_t stop_at;
	vg_status stop_rc;
	/* unpack children that are OLE2 files again, to this depth */
	unsigned recurse_ole2;
	unsigned depth;
	size_t max_child;
};

static inline vg_status collect_child(void *ctx, const struct unpack_child *c);

static inline struct unpack_sink collector_sink(struct collector *col)
{
	struct unpack_sink s;

	s.child = collect_child;
	s.ctx = col;
	s.max_child = col->max_child ? col->max_child : 64u * 1024 * 1024;
	return s;
}

static inline vg_status collect_child(void *ctx, const struct unpack_child *c)
{
	static const uint8_t ole_magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
	struct collector *col = ctx;
	struct kept *k;

	col->calls++;
	assert_true(c->len <= (col->max_child ? col->max_child : 64u * 1024 * 1024));
	assert_true(c->len == 0 || c->data != NULL);
	col->items = realloc(col->items, (col->n + 1) * sizeof(*col->items));
	assert_non_null(col->items);
	k = &col->items[col->n++];
	k->name = c->name ? strdup(c->name) : NULL;
	k->data = malloc(c->len ? c->len : 1);
	assert_non_null(k->data);
	if (c->len)
		memcpy(k->data, c->data, c->len);
	k->len = c->len;
	k->truncated = c->truncated;
	k->encrypted = c->encrypted;
	k->depth = col->depth;
	if (col->stop_at && col->calls == col->stop_at)
		return col->stop_rc;
	if (col->depth < col->recurse_ole2 && c->len >= 8 && memcmp(c->data, ole_magic, 8) == 0) {
		struct unpack_input in = {c->data, c->len};
		struct unpack_sink s = collector_sink(col);
		vg_status rc;

		col->depth++;
		rc = unpack_ole2(&in, &s);
		col->depth--;
		return rc;
	}
	return VG_OK;
}

static inline void collector_free(struct collector *col)
{
	for (size_t i = 0; i < col->n; i++) {
		free(col->items[i].name);
		free(col->items[i].data);
	}
	free(col->items);
	col->items = NULL;
	col->n = 0;
	col->calls = 0;
}

/* The child named name, or NULL. */
static inline const struct kept *kept_named(const struct collector *col, const char *name)
{
	for (size_t i = 0; i < col->n; i++)
		if (col->items[i].name && strcmp(col->items[i].name, name) == 0)
			return &col->items[i];
	return NULL;
}

/* How many children are exactly data. */
static inline size_t count_equal(const struct collector *col, const uint8_t *data, size_t len)
{
	size_t hits = 0;

	for (size_t i = 0; i < col->n; i++)
		if (col->items[i].len == len && memcmp(col->items[i].data, data, len) == 0)
			hits++;
	return hits;
}

static inline const struct kept *find_equal(const struct collector *col, const uint8_t *data,
					    size_t len)
{
	for (size_t i = 0; i < col->n; i++)
		if (col->items[i].len == len && memcmp(col->items[i].data, data, len) == 0)
			return &col->items[i];
	return NULL;
}

/* A whole file in memory (malloc'd), or NULL when it cannot be read. */
static inline uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n + 1);
		if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return p;
}

/* A file of clamav-testfiles; the test is skipped when the package is not
 * installed. */
static inline uint8_t *testfile(const char *name, size_t *len)
{
	char path[256];
	uint8_t *p;

	snprintf(path, sizeof(path), "%s%s", TESTFILES, name);
	p = slurp(path, len);
	if (!p) {
		print_message("%s not readable (install clamav-testfiles): skipped\n", path);
		skip();
	}
	return p;
}

/* Runs fn on every prefix of data: nothing may crash, leak or overrun. */
typedef vg_status unpack_fn(const struct unpack_input *, const struct unpack_sink *);

static inline void every_prefix(unpack_fn *fn, const uint8_t *data, size_t len, size_t step)
{
	for (size_t n = 0; n <= len; n += step) {
		struct collector col = {0};
		struct unpack_sink s;
		/* a copy of exactly n bytes, so ASan sees any read past the end */
		uint8_t *copy = malloc(n ? n : 1);
		struct unpack_input in;
		vg_status rc;

		assert_non_null(copy);
		memcpy(copy, data, n);
		in.data = copy;
		in.len = n;
		col.max_child = 1u << 20;
		s = collector_sink(&col);
		rc = fn(&in, &s);
		assert_true(rc == VG_OK || rc == VG_ELIMIT);
		collector_free(&col);
		free(copy);
	}
}

#endif
