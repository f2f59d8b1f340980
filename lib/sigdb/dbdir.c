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
	DBK_BYTECODE,    /* .cbc: never run, by decision (DESIGN.md) */
	DBK_HASH, DBK_HASH_PUA, DBK_FP, DBK_NDB, DBK_NDB_PUA, DBK_IGN, DBK_IGN2,
	DBK_MDB, DBK_MDB_PUA, DBK_IMP, DBK_LDB, DBK_LDB_PUA, DBK_CDB, DBK_FTM,
	DBK_CVD, DBK_CLD, DBK_CUD /* containers: members go through the same dispatch */
};

struct ext_kind {
	const char *ext;
	enum db_kind kind;
};

static const struct ext_kind exts[] = {
	{".hdb", DBK_HASH}, {".hsb", DBK_HASH}, {".hdu", DBK_HASH_PUA}, {".hsu", DBK_HASH_PUA},
	{".fp", DBK_FP}, {".sfp", DBK_FP}, {".ndb", DBK_NDB}, {".ndu", DBK_NDB_PUA},
	{".ldb", DBK_LDB}, {".ldu", DBK_LDB_PUA},
	{".ign2", DBK_IGN2}, {".ign", DBK_IGN},
	{".cvd", DBK_CVD}, {".cld", DBK_CLD}, {".cud", DBK_CUD},
	{".mdb", DBK_MDB}, {".msb", DBK_MDB}, {".mdu", DBK_MDB_PUA}, {".msu", DBK_MDB_PUA},
	{".imp", DBK_IMP}, {".cdb", DBK_CDB}, {".ftm", DBK_FTM},
	/* ClamAV formats still to come; bytecode never (DESIGN.md) */
	{".cbc", DBK_BYTECODE}, {".cfg", DBK_UNSUPPORTED}, {".crb", DBK_UNSUPPORTED},
	{".cat", DBK_UNSUPPORTED}, {".idb", DBK_UNSUPPORTED}, {".pdb", DBK_UNSUPPORTED},
	{".wdb", DBK_UNSUPPORTED}, {".gdb", DBK_UNSUPPORTED}, {".yar", DBK_UNSUPPORTED},
	{".yara", DBK_UNSUPPORTED}, {".pwdb", DBK_UNSUPPORTED}, {".db", DBK_UNSUPPORTED},
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
	size_t names, sigs, bodies, hashes, fps, sections, imports, ignores, dbs, ldbs, lsubs, cdbs,
		ftms;
};

static struct snapshot take_snapshot(const struct sigset *s)
{
	struct snapshot sn = {s->names.len, s->sigs.n, s->bodies.n, s->hashes.n,
			      s->fps.n, s->sections.n, s->imports.n, s->ignores.n, s->dbs.n, s->ldbs.n,
			      s->lsubs.n, s->cdbs.n, s->ftms.n};
	return sn;
}

static void roll_back(struct sigset *s, const struct snapshot *sn)
{
	for (size_t i = sn->bodies; i < s->bodies.n; i++)
		pattern_free(VEC_AT(&s->bodies, struct body_sig, i)->pat);
	for (size_t i = sn->ignores; i < s->ignores.n; i++)
		vg_free(VEC_AT(&s->ignores, struct ignore_entry, i)->name);
	sigdb_free_ldbs(s, sn->ldbs, sn->lsubs);
	sigdb_free_cdbs(s, sn->cdbs);
	sigdb_free_ftms(s, sn->ftms);
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

static uint64_t count_lines(const char *text, size_t len)
{
	struct line_iter it;
	const char *line;
	size_t n;
	uint64_t count = 0;

	line_iter_init(&it, text, len);
	while (line_iter_next(&it, &line, &n))
		count += n > 0 && line[0] != '#';
	return count;
}

static void observe(struct sigset *s, const char *container, const char *name,
		    enum db_file_state state, const char *text, size_t len,
		    const struct db_record *before, const struct db_record *after)
{
	struct db_file_event ev;

	if (!s->observer)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.container = container;
	ev.name = name;
	ev.state = state;
	ev.lines = text ? count_lines(text, len) : 0;
	if (before && after) {
		ev.signatures = after->signatures - before->signatures;
		ev.deferred = after->deferred - before->deferred;
		ev.skipped = after->skipped - before->skipped;
	}
	s->observer->fn(s->observer->ctx, &ev);
}

/* Parses one database text with the loader its extension names. The same
 * dispatch serves loose files and container members. */
static vg_status load_text(struct sigset *s, const char *path, const char *container,
			   const char *name, enum db_kind kind, const char *text, size_t len,
			   uint32_t db, bool official)
{
	struct db_record before = *VEC_AT(&s->dbs, struct db_record, db);
	struct db_record *rec;
	struct db_text t;
	vg_status rc;

	t.path = path;
	t.text = text;
	t.len = len;
	t.db = db;
	t.official = official;
	switch (kind) {
	case DBK_HASH:
	case DBK_HASH_PUA: rc = sigdb_load_hash(s, &t, HASHFILE_SIG); break;
	case DBK_FP: rc = sigdb_load_hash(s, &t, HASHFILE_FP); break;
	case DBK_NDB:
	case DBK_NDB_PUA: rc = sigdb_load_ndb(s, &t); break;
	case DBK_LDB:
	case DBK_LDB_PUA: rc = sigdb_load_ldb(s, &t); break;
	case DBK_CDB: rc = sigdb_load_cdb(s, &t); break;
	case DBK_FTM: rc = sigdb_load_ftm(s, &t); break;
	case DBK_IGN: rc = sigdb_load_ign(s, &t, true); break;
	case DBK_IGN2: rc = sigdb_load_ign(s, &t, false); break;
	case DBK_MDB:
	case DBK_MDB_PUA: rc = sigdb_load_mdb(s, &t); break;
	case DBK_IMP: rc = sigdb_load_imp(s, &t); break;
	default: rc = VG_EINVAL; break;
	}
	if (rc != VG_OK)
		return rc;
	rec = VEC_AT(&s->dbs, struct db_record, db);
	if (rec->deferred > before.deferred && kind != DBK_LDB && kind != DBK_LDB_PUA &&
	    kind != DBK_CDB && kind != DBK_FTM) /* those loaders tell why */
		vg_log(s->log, VG_LOG_NOTICE,
		       "%s: %llu signature(s) kept for later: their target types (other than 0, 1, "
		       "6 and 9) or offsets (VI, $n$) need parsing that vigil %s does not do yet",
		       path, (unsigned long long)(rec->deferred - before.deferred), VG_VERSION_STRING);
	observe(s, container, name, DBFILE_LOADED, text, len, &before, rec);
	return VG_OK;
}

/* Loading the members of one container. */
struct member_ctx {
	struct sigset *s;
	const char *path;      /* the container, for messages */
	const char *container; /* its file name */
	uint32_t db;
	bool official;
	struct buf unsupported; /* "name (n lines), ..." */
	uint32_t nunsupported;
	uint32_t npua;
};

static vg_status load_member(void *ctx, const char *name, const uint8_t *data, size_t len)
{
	struct member_ctx *mc = ctx;
	enum db_kind k = kind_of(name);
	char path[600];
	size_t n = strlen(name);

	if (strcmp(name, "COPYING") == 0 || (n > 5 && strcasecmp(name + n - 5, ".info") == 0)) {
		observe(mc->s, mc->container, name, DBFILE_OTHER, NULL, 0, NULL, NULL);
		return VG_OK;
	}
	if (k == DBK_CVD || k == DBK_CLD || k == DBK_CUD)
		k = DBK_UNSUPPORTED; /* containers do not nest */
	if (k == DBK_UNKNOWN || k == DBK_UNSUPPORTED || k == DBK_BYTECODE) {
		char item[300];
		uint64_t lines = count_lines((const char *)data, len);
		snprintf(item, sizeof(item), "%s%s (%llu line%s%s)", mc->nunsupported ? ", " : "", name,
			 (unsigned long long)lines, lines == 1 ? "" : "s",
			 k == DBK_BYTECODE ? ", bytecode: never run, by decision" : "");
		if (buf_append(&mc->unsupported, item, strlen(item)) != VG_OK)
			return VG_ENOMEM;
		mc->nunsupported++;
		observe(mc->s, mc->container, name, k == DBK_UNKNOWN ? DBFILE_OTHER : DBFILE_UNSUPPORTED,
			(const char *)data, len, NULL, NULL);
		return VG_OK;
	}
	if ((k == DBK_HASH_PUA || k == DBK_NDB_PUA || k == DBK_MDB_PUA || k == DBK_LDB_PUA) &&
	    !mc->s->detect_pua) {
		mc->npua++;
		observe(mc->s, mc->container, name, DBFILE_PUA_SKIPPED, (const char *)data, len, NULL,
			NULL);
		return VG_OK;
	}
	snprintf(path, sizeof(path), "%s(%s)", mc->path, name);
	return load_text(mc->s, path, mc->container, name, k, (const char *)data, len, mc->db,
			 mc->official);
}

static vg_status load_container(struct sigset *s, const char *path, enum db_kind kind,
				const uint8_t *data, size_t len, uint32_t db)
{
	enum cvd_kind ck = kind == DBK_CVD ? CVD_KIND_CVD : kind == DBK_CLD ? CVD_KIND_CLD : CVD_KIND_CUD;
	struct member_ctx mc;
	struct db_record *rec;
	struct cvd c;
	vg_status rc;

	rc = cvd_open(&c, path, ck, data, len);
	memset(&mc, 0, sizeof(mc));
	buf_init(&mc.unsupported, 1u << 20);
	if (rc == VG_OK) {
		rec = VEC_AT(&s->dbs, struct db_record, db);
		rec->version = c.hdr.version;
		rec->build_time = c.hdr.build_time;
		rec->official = ck != CVD_KIND_CUD;
		if (c.hdr.flevel > s->flevel)
			vg_log(s->log, VG_LOG_NOTICE,
			       "%s: built for functionality level %u, vigil declares %u: signatures "
			       "that need a newer engine are skipped",
			       path, c.hdr.flevel, s->flevel);
		mc.s = s;
		mc.path = path;
		mc.container = base_name(path);
		mc.db = db;
		mc.official = rec->official;
		rc = cvd_each_member(&c, load_member, &mc);
	}
	if (rc != VG_OK && c.err[0] && !s->error[0])
		snprintf(s->error, sizeof(s->error), "%s", c.err);
	if (rc == VG_OK && mc.nunsupported)
		vg_log(s->log, VG_LOG_NOTICE,
		       "%s: %u member file(s) not loaded, vigil %s does not read their formats: %.*s",
		       path, mc.nunsupported, VG_VERSION_STRING, (int)mc.unsupported.len,
		       (const char *)mc.unsupported.data);
	if (rc == VG_OK && mc.npua)
		vg_log(s->log, VG_LOG_DEBUG, "%s: %u PUA member file(s), loaded only with --detect-pua",
		       path, mc.npua);
	buf_free(&mc.unsupported);
	cvd_close(&c);
	return rc;
}

/* Loads one file of a known kind; all or nothing. *loaded tells whether the
 * file counted as a database. */
static vg_status load_file(struct sigset *s, const char *path, enum db_kind kind, bool *loaded)
{
	struct snapshot sn = take_snapshot(s);
	struct db_record *rec;
	char *text = NULL;
	size_t len = 0;
	int64_t mtime = 0;
	bool container = kind == DBK_CVD || kind == DBK_CLD || kind == DBK_CUD;
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
		observe(s, NULL, base_name(path), DBFILE_UNSUPPORTED, NULL, 0, NULL, NULL);
		return VG_OK;
	case DBK_BYTECODE:
		vg_log(s->log, VG_LOG_NOTICE, "%s: skipped: vigil never runs bytecode signatures "
		       "(executable code in updates is the risk it exists to remove)", path);
		observe(s, NULL, base_name(path), DBFILE_UNSUPPORTED, NULL, 0, NULL, NULL);
		return VG_OK;
	case DBK_HASH_PUA:
	case DBK_NDB_PUA:
	case DBK_MDB_PUA:
	case DBK_LDB_PUA:
		if (!s->detect_pua) {
			vg_log(s->log, VG_LOG_DEBUG, "%s: PUA database, loaded only with --detect-pua", path);
			observe(s, NULL, base_name(path), DBFILE_PUA_SKIPPED, NULL, 0, NULL, NULL);
			return VG_OK;
		}
		break;
	default:
		break;
	}
	if (s->official_only && kind != DBK_CVD && kind != DBK_CLD) {
		vg_log(s->log, VG_LOG_NOTICE,
		       "%s: skipped: only signed containers (.cvd, .cld) are accepted%s", path,
		       kind == DBK_CUD ? " and a .cud is unsigned by design" : "");
		observe(s, NULL, base_name(path), DBFILE_NOT_OFFICIAL, NULL, 0, NULL, NULL);
		return VG_OK;
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
	if (container)
		rc = load_container(s, path, kind, (const uint8_t *)text, len,
				    (uint32_t)(s->dbs.n - 1));
	else
		rc = load_text(s, path, NULL, base_name(path), kind, text, len,
			       (uint32_t)(s->dbs.n - 1), false);
	if (rc == VG_OK)
		*loaded = true;
out:
	vg_free(text);
	if (rc != VG_OK) {
		if (rc == VG_ENOMEM && !s->error[0])
			sigdb_fail(s, rc, path, 0, 0, "out of memory");
		roll_back(s, &sn);
	}
	return rc;
}

/* As ClamAV: of X.cvd and X.cld (any X-N.cvd too) only the newest loads,
 * the .cld on a tie: freshclam leaves the .cvd behind after building the
 * .cld from it and its updates. Unreadable headers are not compared; the
 * load then reports them. */
static bool superseded(struct sigset *s, const char *dir, char **names, size_t n, size_t me)
{
	char mine[256], other[256], full[4096];
	struct cvd_header hm, ho;
	enum cvd_kind km, ko;

	cvd_db_name(names[me], mine, sizeof(mine));
	if (!cvd_kind_of_name(names[me], &km))
		return false;
	snprintf(full, sizeof(full), "%s/%s", dir, names[me]);
	if (!cvd_read_header_file(full, &hm))
		return false;
	for (size_t j = 0; j < n; j++) {
		if (j == me || !cvd_kind_of_name(names[j], &ko) || ko == CVD_KIND_CUD)
			continue;
		cvd_db_name(names[j], other, sizeof(other));
		if (strcmp(mine, other) != 0)
			continue;
		snprintf(full, sizeof(full), "%s/%s", dir, names[j]);
		if (!cvd_read_header_file(full, &ho))
			continue;
		if (ho.version > hm.version ||
		    (ho.version == hm.version && (ko == CVD_KIND_CLD) > (km == CVD_KIND_CLD)) ||
		    (ho.version == hm.version && ko == km && j < me)) {
			vg_log(s->log, VG_LOG_NOTICE, "%s/%s: skipped: %s (version %u) is newer", dir,
			       names[me], names[j], ho.version);
			return true;
		}
	}
	return false;
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
	/* ClamAV's order: ignore lists, then daily (its .ign2 members act on
	 * main's signatures), then everything else */
	for (int pass = 0; pass < 3 && rc == VG_OK; pass++) {
		for (size_t i = 0; i < n; i++) {
			enum db_kind k = kind_of(names[i]);
			bool is_ign = k == DBK_IGN || k == DBK_IGN2, loaded;
			bool is_daily = (k == DBK_CVD || k == DBK_CLD) && strncmp(names[i], "daily", 5) == 0 &&
					(names[i][5] == '.' || names[i][5] == '-');
			char full[4096];
			struct stat st;

			if (pass != (is_ign ? 0 : is_daily ? 1 : 2))
				continue;
			if (snprintf(full, sizeof(full), "%s/%s", path, names[i]) >= (int)sizeof(full))
				continue;
			if (k == DBK_UNKNOWN || stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
				vg_log(s->log, VG_LOG_DEBUG, "%s: not a database file, skipped", full);
				continue;
			}
			if ((k == DBK_CVD || k == DBK_CLD) && superseded(s, path, names, n, i))
				continue;
			rc = load_file(s, full, k, &loaded);
			if (rc != VG_OK)
				break;
			nloaded += loaded;
		}
	}
	if (rc == VG_OK && require_db && nloaded == 0)
		rc = sigdb_fail(s, VG_ENODB, path, 0, 0,
				"no supported database files found (expected .hdb .hsb .ndb .ldb .mdb .imp .fp .sfp .ign2 ...)");
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
				  "(.hdb .hsb .ndb .ldb .mdb .imp .fp .sfp .ign2 ...)");
	return load_file(s, path, k, &loaded);
}
