/*
 * databases.h - which signature databases a tool loads, and loading them.
 *
 * With explicit paths (-d), exactly those are loaded and every one must hold
 * a database. Otherwise the defaults are loaded in this order, each folder
 * only when it exists and holds at least one database file:
 *   1. the bundled database (VG_DEFAULT_DB_DIR, vigil.conf BundledDatabase),
 *   2. vigil's updated databases (/var/lib/vigil/db, DatabaseDirectory),
 *   3. ClamAV's databases (/var/lib/clamav, ClamAVDatabaseDirectory),
 *   4. each `Database` path of vigil.conf (these must exist).
 * Finding nothing at all is an error.
 */
#ifndef VT_DATABASES_H
#define VT_DATABASES_H

#include <stddef.h>
#include <stdint.h>

#include <vigil.h>

#include "config.h"
#include "output.h"

#define VT_UPDATE_DB_DIR "/var/lib/vigil/db"
#define VT_CLAMAV_DB_DIR "/var/lib/clamav"

struct vt_db_settings {
	const char *const *explicit_paths; /* -d, in order; replaces the defaults */
	size_t explicit_count;
	const char *bundled_dir;           /* NULL: not used */
	const char *update_dir;            /* NULL: not used */
	const char *clamav_dir;            /* NULL: not used */
	const char *const *extra_paths;    /* vigil.conf `Database` lines */
	size_t extra_count;
};

/* The defaults above, without explicit or extra paths. */
void vt_db_settings_defaults(struct vt_db_settings *s);

/* Apply vigil.conf: DatabaseDirectory, BundledDatabase, ClamAVDatabaseDirectory
 * (a path, or "no" to skip that location) and Database (repeatable). Strings
 * point into cfg, which must outlive s. Returns 0, or -1 with err set. */
int vt_db_settings_from_config(struct vt_db_settings *s, const struct vt_config *cfg, char *err,
			       size_t errlen);

/* Frees what vt_db_settings_from_config() allocated. */
void vt_db_settings_free(struct vt_db_settings *s);

/* 1 when the file name has the extension of a signature database vigil or
 * ClamAV knows (supported or not: the engine reports the unsupported ones). */
int vt_is_database_name(const char *name);

/* Load the chosen databases into e (not compiled). Every failure is printed
 * on o, naming the database and the fault. Returns 0 or -1. */
int vt_databases_load(struct vg_engine *e, const struct vt_db_settings *s, struct vt_output *o);

/* The compiled-database cache folder when none is configured: $VIGIL_CACHE_DIR
 * when set (tests use it), else /var/cache/vigil for root, $XDG_CACHE_HOME/vigil or ~/.cache/vigil for others (creating
 * ~/.cache if needed). Returns buf, or NULL when there is no sensible place. */
const char *vt_default_cache_dir(char *buf, size_t len);

/* Index of the database with the newest build time; -1 when none. */
long vt_databases_newest(const struct vg_engine *e, struct vg_db_info *out);

/* The one-line version, in clamd's layout: "vigil 0.1.0/<db version>/<db
 * date>" using the newest database, or "vigil 0.1.0" without databases. */
void vt_version_line(const struct vg_engine *e, char *buf, size_t len);

#endif /* VT_DATABASES_H */
