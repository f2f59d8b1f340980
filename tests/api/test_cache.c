/* The compiled-database cache through the public API: a second engine opens
 * the cache instead of parsing; a changed database, a damaged cache file and
 * an unsafe cache folder are all detected; results and notices are the same
 * either way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil.h"

static char dir[256], dbdir[300], cachedir[300];
static int notices, warnings;

static void count_log(void *ctx, enum vg_log_level level, const char *msg)
{
	(void)ctx;
	(void)msg;
	if (level == VG_LOG_NOTICE)
		notices++;
	if (level == VG_LOG_WARNING)
		warnings++;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct vg_engine *open_engine_at(const char *db, enum vg_cache_state expect)
{
	struct vg_engine_options o;
	struct vg_engine *e = NULL;

	vg_engine_options_init(&o);
	o.cache_dir = cachedir;
	o.log = count_log;
	assert_int_equal(vg_engine_new(&o, &e), VG_OK);
	assert_int_equal(vg_engine_load(e, db, VG_LOAD_REQUIRE_DB), VG_OK);
	assert_int_equal(vg_engine_compile(e), VG_OK);
	assert_int_equal(vg_engine_cache_state(e), expect);
	return e;
}

static struct vg_engine *open_engine(enum vg_cache_state expect)
{
	return open_engine_at(dbdir, expect);
}

static int found(const struct vg_engine *e, const char *data)
{
	struct vg_scan_summary sum;
	assert_int_equal(vg_scan_buffer(e, data, strlen(data), NULL, NULL, NULL, &sum), VG_OK);
	return sum.verdict == VG_VERDICT_FOUND;
}

/* The most recently written cache file in the folder. */
static void cache_file(char *out, size_t len)
{
	DIR *d = opendir(cachedir);
	struct dirent *de;
	struct timespec best = {0, 0};
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char p[600];
		struct stat st;
		if (!strstr(de->d_name, ".vgc"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", cachedir, de->d_name);
		assert_int_equal(stat(p, &st), 0);
		if (n == 0 || st.st_mtim.tv_sec > best.tv_sec ||
		    (st.st_mtim.tv_sec == best.tv_sec && st.st_mtim.tv_nsec > best.tv_nsec)) {
			best = st.st_mtim;
			snprintf(out, len, "%s", p);
		}
		n++;
	}
	closedir(d);
	assert_true(n >= 1);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vigil-cache-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbdir, sizeof(dbdir), "%s/db", dir);
	snprintf(cachedir, sizeof(cachedir), "%s/cache", dir);
	mkdir(dbdir, 0700);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void hit_change_damage(void **state)
{
	char path[600], cpath[600];
	struct vg_engine *e;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/a.ndb", dbdir);
	write_file(path, "Cache.One:0:*:6f6e652d6d61726b\n");
	snprintf(path, sizeof(path), "%s/later.cbc", dbdir); /* not supported (bytecode): one notice */
	write_file(path, "x\n");

	notices = 0;
	e = open_engine(VG_CACHE_BUILT); /* the folder is created */
	assert_int_equal(notices, 1);
	assert_true(found(e, "xx one-mark xx"));
	vg_engine_unref(e);

	/* same inputs: opened from the cache, same answers, notice replayed */
	notices = 0;
	e = open_engine(VG_CACHE_HIT);
	assert_int_equal(notices, 1);
	assert_int_equal(vg_engine_signature_count(e), 1);
	assert_true(found(e, "xx one-mark xx"));
	assert_false(found(e, "xx two-mark xx"));
	vg_engine_unref(e);

	/* a changed database is seen (its size and times differ) */
	snprintf(path, sizeof(path), "%s/a.ndb", dbdir);
	write_file(path, "Cache.One:0:*:6f6e652d6d61726b\nCache.Two:0:*:74776f2d6d61726b\n");
	e = open_engine(VG_CACHE_BUILT);
	assert_true(found(e, "xx two-mark xx"));
	vg_engine_unref(e);

	/* a damaged cache file is refused with a warning and rebuilt */
	cache_file(cpath, sizeof(cpath));
	fd = open(cpath, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff\xff\xff\xff", 4, 200), 4);
	close(fd);
	warnings = 0;
	e = open_engine(VG_CACHE_BUILT);
	assert_true(warnings >= 1);
	assert_true(found(e, "xx two-mark xx"));
	vg_engine_unref(e);
	e = open_engine(VG_CACHE_HIT);
	vg_engine_unref(e);

	/* a truncated one too */
	cache_file(cpath, sizeof(cpath));
	assert_int_equal(truncate(cpath, 100), 0);
	e = open_engine(VG_CACHE_BUILT);
	assert_true(found(e, "xx one-mark xx"));
	vg_engine_unref(e);
}

/* Another spelling of the same folder finds the same cache file; another
 * folder with the same contents does not. */
static void spelling_of_path_does_not_matter(void **state)
{
	char other[600], copy[600], cmd[1400];
	struct vg_engine *e;

	(void)state;
	e = open_engine(VG_CACHE_HIT);
	vg_engine_unref(e);
	snprintf(other, sizeof(other), "%s/../%s/./db/", dir, strrchr(dir, '/') + 1);
	e = open_engine_at(other, VG_CACHE_HIT);
	assert_true(found(e, "xx one-mark xx"));
	vg_engine_unref(e);
	snprintf(copy, sizeof(copy), "%s/db-copy", dir);
	snprintf(cmd, sizeof(cmd), "cp -a %s %s", dbdir, copy);
	assert_int_equal(system(cmd), 0);
	e = open_engine_at(copy, VG_CACHE_BUILT);
	vg_engine_unref(e);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", copy);
	assert_int_equal(system(cmd), 0);
}

static void unsafe_folder_is_not_used(void **state)
{
	struct vg_engine *e;

	(void)state;
	assert_int_equal(chmod(cachedir, 0777), 0);
	warnings = 0;
	e = open_engine(VG_CACHE_NONE);
	assert_true(warnings >= 1);
	assert_true(found(e, "xx one-mark xx"));
	vg_engine_unref(e);
	assert_int_equal(chmod(cachedir, 0700), 0);
}

static void bad_database_still_fails_with_cache(void **state)
{
	struct vg_engine_options o;
	struct vg_engine *e = NULL;
	char path[600];

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.ndb", dbdir);
	write_file(path, "Bad:0:*:41zz42\n");
	vg_engine_options_init(&o);
	o.cache_dir = cachedir;
	assert_int_equal(vg_engine_new(&o, &e), VG_OK);
	assert_int_equal(vg_engine_load(e, dbdir, VG_LOAD_REQUIRE_DB), VG_OK);
	assert_int_equal(vg_engine_compile(e), VG_EFORMAT);
	assert_non_null(strstr(vg_engine_error(e), "bad.ndb:1:"));
	vg_engine_unref(e);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hit_change_damage),
		cmocka_unit_test(spelling_of_path_does_not_matter),
		cmocka_unit_test(unsafe_folder_is_not_used),
		cmocka_unit_test(bad_database_still_fails_with_cache),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
