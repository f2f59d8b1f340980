#include "databases.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <strings.h>
#include <sys/stat.h>

#ifndef VG_DEFAULT_DB_DIR
#error "VG_DEFAULT_DB_DIR must be defined by the build"
#endif

void vt_db_settings_defaults(struct vt_db_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->bundled_dir = VG_DEFAULT_DB_DIR;
	s->update_dir = VT_UPDATE_DB_DIR;
	s->clamav_dir = VT_CLAMAV_DB_DIR;
}

static const char *location(const struct vt_config *cfg, const char *key, const char *dflt)
{
	const struct vt_config_entry *e = vt_config_last(cfg, key);

	if (e == NULL)
		return dflt;
	if (strcasecmp(e->value, "no") == 0)
		return NULL;
	return e->value;
}

int vt_db_settings_from_config(struct vt_db_settings *s, const struct vt_config *cfg, char *err,
			       size_t errlen)
{
	const struct vt_config_entry *e = NULL;
	const char **extra;
	size_t n = 0;

	s->bundled_dir = location(cfg, "BundledDatabase", s->bundled_dir);
	s->update_dir = location(cfg, "DatabaseDirectory", s->update_dir);
	s->clamav_dir = location(cfg, "ClamAVDatabaseDirectory", s->clamav_dir);
	while ((e = vt_config_next(cfg, "Database", e)) != NULL)
		n++;
	if (n == 0)
		return 0;
	extra = calloc(n, sizeof(*extra));
	if (extra == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = 0;
	while ((e = vt_config_next(cfg, "Database", e)) != NULL)
		extra[n++] = e->value;
	s->extra_paths = extra;
	s->extra_count = n;
	return 0;
}

void vt_db_settings_free(struct vt_db_settings *s)
{
	free((void *)s->extra_paths);
	s->extra_paths = NULL;
	s->extra_count = 0;
}

int vt_is_database_name(const char *name)
{
	/* ClamAV's database extensions (reference §1.2) and YARA's. */
	static const char *const exts[] = {
		"cvd", "cld", "cud", "hdb", "hsb", "hdu", "hsu", "mdb", "msb", "mdu", "msu",
		"ndb", "ndu", "ldb", "ldu", "idb", "cdb", "cbc", "fp", "sfp", "ign", "ign2",
		"db", "pdb", "gdb", "wdb", "ftm", "cfg", "crb", "cat", "imp", "info", "yar",
		"yara", "pwdb",
	};
	const char *dot = strrchr(name, '.');

	if (dot == NULL || dot == name)
		return 0;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcasecmp(dot + 1, exts[i]) == 0)
			return 1;
	return 0;
}

/* 1 when dir is a folder holding at least one database file. */
static int dir_has_databases(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		found = de->d_name[0] != '.' && vt_is_database_name(de->d_name);
	closedir(d);
	return found;
}

static int load_one(struct vg_engine *e, const char *path, uint32_t flags, struct vt_output *o)
{
	struct stat st;
	enum vg_status rc;

	if (stat(path, &st) != 0) {
		vt_msg(o, VT_MSG_ERROR, 1, "Can't load database %s: %s", path, strerror(errno));
		return -1;
	}
	errno = 0;
	rc = vg_engine_load(e, path, flags);
	if (rc == VG_OK)
		return 0;

	const char *detail = vg_engine_error(e);
	int err = errno;
	if (rc == VG_EFORMAT) {
		vt_msg(o, VT_MSG_ERROR, 1, "Malformed database: %s",
		       detail != NULL && *detail != '\0' ? detail : path);
	} else if (rc == VG_ENODB) {
		vt_msg(o, VT_MSG_ERROR, 1, "No supported database files found in %s", path);
	} else if (detail != NULL && *detail != '\0') {
		vt_msg(o, VT_MSG_ERROR, 1, "Can't load database %s: %s", path, detail);
	} else if (rc == VG_EIO && err != 0) {
		vt_msg(o, VT_MSG_ERROR, 1, "Can't load database %s: %s", path, strerror(err));
	} else {
		vt_msg(o, VT_MSG_ERROR, 1, "Can't load database %s: %s", path, vg_status_str(rc));
	}
	return -1;
}

int vt_databases_load(struct vg_engine *e, const struct vt_db_settings *s, struct vt_output *o)
{
	const char *dirs[3];
	size_t loaded = 0;

	if (s->explicit_count > 0) {
		for (size_t i = 0; i < s->explicit_count; i++)
			if (load_one(e, s->explicit_paths[i], VG_LOAD_REQUIRE_DB, o) != 0)
				return -1;
		return 0;
	}
	dirs[0] = s->bundled_dir;
	dirs[1] = s->update_dir;
	dirs[2] = s->clamav_dir;
	for (size_t i = 0; i < 3; i++) {
		if (dirs[i] == NULL || !dir_has_databases(dirs[i]))
			continue;
		if (load_one(e, dirs[i], 0, o) != 0)
			return -1;
		loaded++;
	}
	for (size_t i = 0; i < s->extra_count; i++) {
		if (load_one(e, s->extra_paths[i], VG_LOAD_REQUIRE_DB, o) != 0)
			return -1;
		loaded++;
	}
	if (loaded == 0) {
		vt_msg(o, VT_MSG_ERROR, 1,
		       "No database found (looked in %s, %s and %s). Install vigil's bundled "
		       "database, or name a database file or folder with -d",
		       s->bundled_dir != NULL ? s->bundled_dir : "(bundled: disabled)",
		       s->update_dir != NULL ? s->update_dir : "(DatabaseDirectory: disabled)",
		       s->clamav_dir != NULL ? s->clamav_dir : "(ClamAV: disabled)");
		return -1;
	}
	return 0;
}

long vt_databases_newest(const struct vg_engine *e, struct vg_db_info *out)
{
	size_t n = vg_engine_db_count(e);
	long best = -1;

	for (size_t i = 0; i < n; i++) {
		struct vg_db_info info;
		if (vg_engine_db_info(e, i, &info) != VG_OK)
			continue;
		if (best < 0 || info.build_time > out->build_time ||
		    (info.build_time == out->build_time && info.version > out->version)) {
			*out = info;
			best = (long)i;
		}
	}
	return best;
}

void vt_version_line(const struct vg_engine *e, char *buf, size_t len)
{
	struct vg_db_info newest;

	if (e == NULL || vt_databases_newest(e, &newest) < 0) {
		snprintf(buf, len, "vigil %s", vg_version());
		return;
	}
	/* clamd prints the database date with ctime(). */
	char date[64];
	struct tm tm;
	time_t t = (time_t)newest.build_time;
	if (localtime_r(&t, &tm) == NULL || strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		snprintf(date, sizeof(date), "%lld", (long long)newest.build_time);
	snprintf(buf, len, "vigil %s/%u/%s", vg_version(), (unsigned)newest.version, date);
}

const char *vt_default_cache_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	const char *forced = getenv("VIGIL_CACHE_DIR");
	int n;

	if (forced != NULL && forced[0] == '/')
		n = snprintf(buf, len, "%s", forced);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/var/cache/vigil");
	else if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/vigil", xdg);
	else if (home != NULL && home[0] == '/') {
		char parent[4096];
		snprintf(parent, sizeof(parent), "%s/.cache", home);
		(void)mkdir(parent, 0700); /* the engine makes only the last folder */
		n = snprintf(buf, len, "%s/vigil", parent);
	} else
		return NULL;
	return n > 0 && (size_t)n < len ? buf : NULL;
}
