/* Test support: write small database files into a private temporary folder. */
#ifndef VG_TEST_TMPDB_H
#define VG_TEST_TMPDB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creates a fresh folder; returns its path (static storage per call site). */
static inline char *tmpdb_dir(char *buf, size_t len)
{
	const char *base = getenv("TMPDIR");
	snprintf(buf, len, "%s/vigil-unit-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(buf);
}

/* Writes text to dir/name and returns the full path in out. */
static inline int tmpdb_write(const char *dir, const char *name, const char *text, char *out,
			      size_t outlen)
{
	FILE *f;
	snprintf(out, outlen, "%s/%s", dir, name);
	f = fopen(out, "wb");
	if (!f)
		return -1;
	fwrite(text, 1, strlen(text), f);
	return fclose(f);
}

static inline void tmpdb_cleanup(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

#ifdef VG_SIGDB_H
/* A signature set and a private folder, for the sigdb unit tests. */
struct fx {
	char dir[256];
	struct sigset set;
};

static inline int fx_setup(void **state)
{
	static struct fx fx;
	if (!tmpdb_dir(fx.dir, sizeof(fx.dir)))
		return -1;
	sigset_init(&fx.set, VG_FLEVEL, false, NULL);
	*state = &fx;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *fx = *state;
	sigset_free(&fx->set);
	tmpdb_cleanup(fx->dir);
	return 0;
}
#endif

#endif
