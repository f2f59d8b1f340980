/* Test helper for the unpacker tests: a sink that keeps copies of the
 * children it is handed, can stop the unpacker after a number of them, and
 * checks the interface's promises on every call. Include after cmocka.h. */
#ifndef VG_TEST_UNPACK_COLLECT_H
#define VG_TEST_UNPACK_COLLECT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unpack/unpack.h"

#define COLLECT_MAX 256

struct collected {
	char *name; /* NULL when the child had none */
	uint8_t *data;
	size_t len;
	bool truncated;
};

struct collector {
	struct collected items[COLLECT_MAX];
	size_t n;          /* kept */
	size_t calls;      /* handed over */
	size_t stop_after; /* return VG_ELIMIT on this call (0: never) */
	size_t max_child;
	unsigned sum;      /* touches every byte, so ASan sees bad pointers */
};

static inline vg_status collect_child(void *ctx, const struct unpack_child *c)
{
	struct collector *k = ctx;

	k->calls++;
	assert_true(c->len <= k->max_child);
	assert_true(c->len == 0 || c->data != NULL);
	for (size_t i = 0; i < c->len; i++)
		k->sum += c->data[i];
	if (c->name)
		k->sum += (unsigned)strlen(c->name);
	if (k->n < COLLECT_MAX) {
		struct collected *it = &k->items[k->n++];
		it->name = c->name ? strdup(c->name) : NULL;
		it->data = malloc(c->len ? c->len : 1);
		assert_non_null(it->data);
		if (c->len)
			memcpy(it->data, c->data, c->len);
		it->len = c->len;
		it->truncated = c->truncated;
	}
	if (k->stop_after && k->calls >= k->stop_after)
		return VG_ELIMIT;
	return VG_OK;
}

static inline void collector_init(struct collector *k, size_t max_child)
{
	memset(k, 0, sizeof(*k));
	k->max_child = max_child;
}

static inline void collector_free(struct collector *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->items[i].name);
		free(k->items[i].data);
	}
	k->n = 0;
}

static inline struct unpack_sink collector_sink(struct collector *k)
{
	struct unpack_sink s = {collect_child, k, k->max_child};
	return s;
}

/* Runs an unpacker over data with a fresh collector. */
static inline vg_status run_unpacker(vg_status (*fn)(const struct unpack_input *, const struct unpack_sink *),
			      const void *data, size_t len, struct collector *k)
{
	struct unpack_input in = {data, len};
	struct unpack_sink s = collector_sink(k);

	return fn(&in, &s);
}

/* The index of the first child whose bytes equal data, or -1. */
static inline int find_child(const struct collector *k, const void *data, size_t len)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->items[i].len == len && memcmp(k->items[i].data, data, len) == 0)
			return (int)i;
	return -1;
}

/* A whole file in memory (malloc'd), or NULL when it cannot be read. */
static inline uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		data = malloc((size_t)n + 1);
		if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
			free(data);
			data = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return data;
}

#define TESTFILES "/usr/share/clamav-testfiles/"

/* Runs fn over a clamav-testfiles wrapping of clam.exe and checks that one
 * child is clam.exe byte for byte, named want_name (NULL: any name).
 * Skips when the package is not installed. */
static inline void expect_clam_exe(vg_status (*fn)(const struct unpack_input *, const struct unpack_sink *),
			    const char *file, const char *want_name)
{
	char path[256];
	size_t elen = 0, wlen = 0;
	uint8_t *exe = slurp(TESTFILES "clam.exe", &elen);
	uint8_t *wrapped;
	struct collector k;
	int i;

	snprintf(path, sizeof(path), TESTFILES "%s", file);
	wrapped = slurp(path, &wlen);
	if (!exe || !wrapped) {
		free(exe);
		free(wrapped);
		skip();
	}
	collector_init(&k, SIZE_MAX);
	assert_int_equal(run_unpacker(fn, wrapped, wlen, &k), VG_OK);
	i = find_child(&k, exe, elen);
	if (i < 0)
		fail_msg("%s: no child is clam.exe (%zu children)", file, k.n);
	assert_false(k.items[i].truncated);
	if (want_name) {
		assert_non_null(k.items[i].name);
		assert_string_equal(k.items[i].name, want_name);
	}
	collector_free(&k);
	free(exe);
	free(wrapped);
}

/* Every prefix of data, unpacked with a small and a large budget: nothing
 * may crash, leak or overrun (the sanitizers watch). */
static inline void every_prefix(vg_status (*fn)(const struct unpack_input *, const struct unpack_sink *),
			 const uint8_t *data, size_t len)
{
	for (size_t n = 0; n <= len; n++) {
		for (int budget = 0; budget < 2; budget++) {
			struct collector k;
			/* an exact-size copy, so reading past the end is caught */
			uint8_t *copy = malloc(n ? n : 1);
			vg_status rc;

			assert_non_null(copy);
			memcpy(copy, data, n);
			collector_init(&k, budget ? SIZE_MAX : 7);
			rc = run_unpacker(fn, copy, n, &k);
			assert_int_equal(rc, VG_OK);
			collector_free(&k);
			free(copy);
		}
	}
}

/* The unpacker stops when the sink says so, and returns the sink's status. */
static inline void stops_when_told(vg_status (*fn)(const struct unpack_input *, const struct unpack_sink *),
			    const uint8_t *data, size_t len, size_t children)
{
	for (size_t stop = 1; stop <= children; stop++) {
		struct collector k;

		collector_init(&k, SIZE_MAX);
		k.stop_after = stop;
		assert_int_equal(run_unpacker(fn, data, len, &k), VG_ELIMIT);
		assert_int_equal(k.calls, stop);
		collector_free(&k);
	}
}

#endif
