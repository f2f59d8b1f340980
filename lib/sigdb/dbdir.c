/* Loading database files and folders: dispatch by extension (as ClamAV, the
 * suffix alone decides the format), ClamAV's folder order (ignore lists
 * first), and all-or-nothing per file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sigdb/sigdb.h"

enum db_kind {
	DBK_UNKNOWN = 0, /* not a ClamAV database extension */
	DBK_UNSUPPORTED, /* a ClamAV format this version does not read yet */
	DBK_HASH, DBK_HASH_PUA, DBK_FP, DBK_NDB, DBK_NDB_PUA, DBK_IGN, DBK_IGN2,
	DBK_MDB, DBK_MDB_PUA, DBK_IMP
};

struct ext_kind {
	const char *ext;
	enum db_kind kind;
};

static const struct ext_kind exts[] = {
	{".hdb", DBK_HASH}, {".hsb", DBK_HASH}, {".hdu", DBK_HASH_PUA}, {".hsu", DBK_HASH_PUA},
	{".fp", DBK_FP}, {".sfp", DBK_FP}, {".ndb", DBK_NDB}, {".ndu", DBK_NDB_PUA},
	{".ign2", DBK_IGN2}, {".ign", DBK_IGN},
	{".mdb", DBK_MDB}, {".msb", DBK_MDB}, {".mdu", DBK_MDB_PUA}, {".msu", DBK_MDB_PUA},
	{".imp", DBK_IMP},
	/* ClamAV formats still to come (logical, containers, ...) */
	{".ldb", DBK_UNSUPPORTED},
	{".ldu", DBK_UNSUPPORTED}, {".cdb", DBK_UNSUPPORTED}, {".cbc", DBK_UNSUPPORTED},
	{".ftm", DBK_UNSUPPORTED}, {".cfg", DBK_UNSUPPORTED}, {".crb", DBK_UNSUPPORTED},
	{".cat", DBK_UNSUPPORTED}, {".idb", DBK_UNSUPPORTED}, {".pdb", DBK_UNSUPPORTED},
	{".wdb", DBK_UNSUPPORTED}, {".gdb", DBK_UNSUPPORTED}, {".yar", DBK_UNSUPPORTED},
	{".yara", DBK_UNSUPPORTED}, {".pwdb", DBK_UNSUPPORTED}, {".cvd", DBK_UNSUPPORTED},
	{".cld", DBK_UNSUPPORTED}, {".cud", DBK_UNSUPPORTED}, {".db", DBK_UNSUPPORTED},
	{".sdb", DBK_UNSUPPORTED}, {".zmd", DBK_UNSUPPORTED}, {".rmd", DBK_UNSUPPORTED},
	{".ioc", DBK_UNSUPPORTED},
};

static enum db_kind kind_of(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < VG_ARRAY_LEN(exts); i++) {
		size_t e = strlen(exts[i].ext);
		if (n > e && strcasecmp(name + n - e, exts[i].ext) == 0)
			return exts[i].kind;
	}
	return DBK_UNKNOWN;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

struct snapshot {
	size_t names, sigs, bodies, hashes, fps, sections, imports, ignores, dbs;
};

static struct snapshot take_snapshot(const struct sigset *s)
{
	struct snapshot sn = {s->names.len, s->sigs.n, s->bodies.n, s->hashes.n,
			      s->fps.n, s->sections.n, s->imports.n, s->ignores.n, s->dbs.n};
	return sn;
}

static void roll_back(struct sigset *s, const struct snapshot *sn)
{
	for (size_t i = sn->bodies; i < s->bodies.n; i++)
		pattern_free(VEC_AT(&s->bodies, struct body_sig, i)->pat);
	for (size_t i = sn->ignores; i < s->ignores.n; i++)
		vg_free(VEC_AT(&s->ignores, struct ignore_entry, i)->name);
	for (size_t i = sn->dbs; i < s->dbs.n; i++) {
		vg_free(VEC_AT(&s->dbs, struct db_record, i)->path);
		vg_free(VEC_AT(&s->dbs, struct db_record, i)->name);
	}
	s->names.len = sn->names;
	s->sigs.n = sn->sigs;
	s->bodies.n = sn->bodies;
	s->hashes.n = sn->hashes;
	s->fps.n = sn->fps;
	s->sections.n = sn->sections;
	s->imports.n = sn->imports;
	s->ignores.n = sn->ignores;
	s->dbs.n = sn->dbs;
}

static vg_status read_whole(struct sigset *s, const char *path, char **out, size_t *len,
			    int64_t *mtime)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	vg_status rc = VG_EIO;

	if (fd < 0)
		return sigdb_fail(s, VG_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0) {
		sigdb_fail(s, VG_EIO, path, 0, 0, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sigdb_fail(s, VG_EIO, path, 0, 0, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > VG_MAX_DB_FILE_SIZE) {
		rc = sigdb_fail(s, VG_ELIMIT, path, 0, 0, "database file larger than %llu bytes",
				(unsigned long long)VG_MAX_DB_FILE_SIZE);
		goto out;
	}
	data = vg_malloc((size_t)st.st_size + 1);
	if (!data) {
		rc = VG_ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sigdb_fail(s, VG_EIO, path, 0, 0, "read failed: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break; /* shrank meanwhile: use what is there */
		got += (size_t)n;
	}
	data[got] = '\0';
	*out = data;
	data = NULL;
	*len = got;
	*mtime = (int64_t)st.st_mtime;
	rc = VG_OK;
out:
	vg_free(data);
	close(fd);
	return rc;
}

/* Loads one file of a known kind; all or nothing. *loaded tells whether the
 * file counted as a database. */
static vg_status load_file(struct sigset *s, const char *path, enum db_kind kind, bool *loaded)
{
	struct snapshot sn = take_snapshot(s);
	struct db_record *rec;
	struct db_text t;
	char *text = NULL;
	size_t len = 0;
	int64_t mtime = 0;
	vg_status rc;

	*loaded = false;
	switch (kind) {
	case DBK_UNKNOWN:
		vg_log(s->log, VG_LOG_DEBUG, "%s: not a database file, skipped", path);
		return VG_OK;
	case DBK_UNSUPPORTED:
		vg_log(s->log, VG_LOG_NOTICE,
		       "%s: skipped: this database format is not supported by vigil %s yet",
		       path, VG_VERSION_STRING);
		return VG_OK;
	case DBK_HASH_PUA:
	case DBK_NDB_PUA:
	case DBK_MDB_PUA:
		if (!s->detect_pua) {
			vg_log(s->log, VG_LOG_DEBUG, "%s: PUA database, loaded only with --detect-pua", path);
			return VG_OK;
		}
		break;
	default:
		break;
	}
	rc = read_whole(s, path, &text, &len, &mtime);
	if (rc != VG_OK)
		return rc;
	rec = vec_push(&s->dbs);
	if (!rec) {
		rc = VG_ENOMEM;
		goto out;
	}
	rec->path = vg_strndup(path, strlen(path));
	rec->name = vg_strndup(base_name(path), strlen(base_name(path)));
	rec->build_time = mtime;
	if (!rec->path || !rec->name) {
		rc = VG_ENOMEM;
		goto out;
	}
	t.path = path;
	t.text = text;
	t.len = len;
	t.db = (uint32_t)(s->dbs.n - 1);
	t.official = false;
	switch (kind) {
	case DBK_HASH:
	case DBK_HASH_PUA: rc = sigdb_load_hash(s, &t, HASHFILE_SIG); break;
	case DBK_FP: rc = sigdb_load_hash(s, &t, HASHFILE_FP); break;
	case DBK_NDB:
	case DBK_NDB_PUA: rc = sigdb_load_ndb(s, &t); break;
	case DBK_IGN: rc = sigdb_load_ign(s, &t, true); break;
	case DBK_IGN2: rc = sigdb_load_ign(s, &t, false); break;
	case DBK_MDB:
	case DBK_MDB_PUA: rc = sigdb_load_mdb(s, &t); break;
	case DBK_IMP: rc = sigdb_load_imp(s, &t); break;
	default: rc = VG_EINVAL; break;
	}
	if (rc == VG_OK) {
		rec = VEC_AT(&s->dbs, struct db_record, t.db);
		if (rec->deferred)
			vg_log(s->log, VG_LOG_NOTICE,
			       "%s: %llu signature(s) kept for later: their target types (other than 0, 1, "
			       "6 and 9) or offsets (VI, $n$) need parsing that vigil %s does not do yet",
			       path, (unsigned long long)rec->deferred, VG_VERSION_STRING);
		*loaded = true;
	}
out:
	vg_free(text);
	if (rc != VG_OK) {
		if (rc == VG_ENOMEM && !s->error[0])
			sigdb_fail(s, rc, path, 0, 0, "out of memory");
		roll_back(s, &sn);
	}
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static vg_status load_dir(struct sigset *s, const char *path, bool require_db)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, nloaded = 0;
	vg_status rc = VG_OK;

	if (!d)
		return sigdb_fail(s, VG_EIO, path, 0, 0, "cannot open database folder: %s", strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **p;
			if (cap >= VG_MAX_DB_FILES) {
				rc = sigdb_fail(s, VG_ELIMIT, path, 0, 0, "more than %u files in database folder",
						VG_MAX_DB_FILES);
				goto out;
			}
			p = vg_reallocarray(names, cap ? cap * 2 : 32, sizeof(char *));
			if (!p) {
				rc = VG_ENOMEM;
				goto out;
			}
			names = p;
			cap = cap ? cap * 2 : 32;
		}
		names[n] = vg_strndup(de->d_name, strlen(de->d_name));
		if (!names[n]) {
			rc = VG_ENOMEM;
			goto out;
		}
		n++;
	}
	/* Sorted order makes loading reproducible whatever the file system;
	 * ignore lists go first because they act on every later file. */
	if (n)
		qsort(names, n, sizeof(char *), cmp_str);
	for (int pass = 0; pass < 2 && rc == VG_OK; pass++) {
		for (size_t i = 0; i < n; i++) {
			enum db_kind k = kind_of(names[i]);
			bool is_ign = k == DBK_IGN || k == DBK_IGN2, loaded;
			char full[4096];
			struct stat st;

			if (is_ign != (pass == 0))
				continue;
			if (snprintf(full, sizeof(full), "%s/%s", path, names[i]) >= (int)sizeof(full))
				continue;
			if (k == DBK_UNKNOWN || stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
				vg_log(s->log, VG_LOG_DEBUG, "%s: not a database file, skipped", full);
				continue;
			}
			rc = load_file(s, full, k, &loaded);
			if (rc != VG_OK)
				break;
			nloaded += loaded;
		}
	}
	if (rc == VG_OK && require_db && nloaded == 0)
		rc = sigdb_fail(s, VG_ENODB, path, 0, 0,
				"no supported database files found (expected .hdb .hsb .ndb .mdb .imp .fp .sfp .ign2 ...)");
out:
	for (size_t i = 0; i < n; i++)
		vg_free(names[i]);
	vg_free(names);
	closedir(d);
	return rc;
}

vg_status sigset_load(struct sigset *s, const char *path, bool require_db)
{
	struct stat st;
	enum db_kind k;
	bool loaded;

	s->error[0] = '\0';
	if (stat(path, &st) != 0)
		return sigdb_fail(s, errno == ENOENT ? VG_ENODB : VG_EIO, path, 0, 0,
				  "cannot open database: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return load_dir(s, path, require_db);
	k = kind_of(base_name(path));
	if (k == DBK_UNKNOWN)
		return sigdb_fail(s, VG_EFORMAT, path, 0, 0,
				  "unknown database type: the extension must be one of ClamAV's "
				  "(.hdb .hsb .ndb .mdb .imp .fp .sfp .ign2 ...)");
	return load_file(s, path, k, &loaded);
}
