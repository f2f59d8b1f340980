/*
 * index.c - the store's SQLite database: the index of items (what `vigil
 * quarantine list` shows) and the journal of operations in progress.
 *
 * Write-ahead log with synchronous=FULL: a committed transaction survives a
 * power cut. The item files are the truth -- each one carries its whole,
 * authenticated record -- so a lost index can be rebuilt from them; the
 * journal is what makes a half-done operation finishable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vq_internal.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS items ("
	" id TEXT PRIMARY KEY,"
	" path BLOB NOT NULL,"
	" detections TEXT NOT NULL,"  /* names joined by newlines */
	" quarantined_sec INTEGER NOT NULL,"
	" quarantined_nsec INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" mode INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" gid INTEGER NOT NULL,"
	" mtime_sec INTEGER NOT NULL,"
	" host TEXT"
	");"
	"CREATE TABLE IF NOT EXISTS journal ("
	" id TEXT PRIMARY KEY,"
	" op TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" path BLOB,"
	" aux BLOB,"
	" dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER,"
	" started INTEGER"
	");"
	"PRAGMA user_version = 1;";

static int db_fail(sqlite3 *db, struct vq_err *err, const char *what)
{
	int code = sqlite3_extended_errcode(db);

	vq_fail(err, VQ_FAILED, code == SQLITE_FULL ? ENOSPC : EIO, "index database: %s: %s", what,
		sqlite3_errmsg(db));
	return -1;
}

int vq_index_exec(sqlite3 *db, const char *sql, struct vq_err *err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, err, sql);
	return 0;
}

int vq_index_open(const char *path, sqlite3 **out, struct vq_err *err)
{
	sqlite3 *db = NULL;
	mode_t old_mask;
	int rc;

	/* SQLite creates its files (the -wal and -shm ones too, like the
	 * database) 0644 less the umask: make them the owner's only. */
	old_mask = umask(077);
	rc = sqlite3_open_v2(path, &db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
				     SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		umask(old_mask);
		vq_fail(err, VQ_FAILED, EIO, "can't open the index %s: %s", path,
			db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 60000);
	if (vq_index_exec(db, "PRAGMA journal_mode=WAL", err) != 0 ||
	    vq_index_exec(db, "PRAGMA synchronous=FULL", err) != 0 ||
	    vq_index_exec(db, schema, err) != 0) {
		umask(old_mask);
		sqlite3_close(db);
		return -1;
	}
	umask(old_mask);
	*out = db;
	return 0;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct vq_err *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(db, err, "prepare");
	return 0;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, struct vq_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, err, "write");
	return 0;
}

static void bind_blob_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_blob(st, i, s, (int)strlen(s), SQLITE_TRANSIENT);
}

static char *column_str(sqlite3_stmt *st, int i)
{
	const void *p = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);
	char *s;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	if (n > 0)
		memcpy(s, p, (size_t)n);
	s[n] = '\0';
	return s;
}

int vq_journal_put(sqlite3 *db, const struct vq_journal *j, struct vq_err *err)
{
	sqlite3_stmt *st;

	if (prepare(db,
		    "INSERT OR REPLACE INTO journal (id, op, state, path, aux, dev, ino, size, "
		    "mtime_ns, ctime_ns, started) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
		    &st, err) != 0)
		return -1;
	sqlite3_bind_text(st, 1, j->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, j->op, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, j->state, -1, SQLITE_TRANSIENT);
	bind_blob_str(st, 4, j->path);
	bind_blob_str(st, 5, j->aux);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)j->dev);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)j->ino);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)j->size);
	sqlite3_bind_int64(st, 9, j->mtime_ns);
	sqlite3_bind_int64(st, 10, j->ctime_ns);
	sqlite3_bind_int64(st, 11, j->started);
	return step_done(db, st, err);
}

int vq_journal_drop(sqlite3 *db, const char *id, struct vq_err *err)
{
	sqlite3_stmt *st;

	if (prepare(db, "DELETE FROM journal WHERE id = ?", &st, err) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	return step_done(db, st, err);
}

void vq_journal_free(struct vq_journal *j)
{
	free(j->path);
	free(j->aux);
	memset(j, 0, sizeof(*j));
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(dst, cap, "%s", t != NULL ? (const char *)t : "");
}

int vq_journal_all(sqlite3 *db, struct vq_journal **out, size_t *n, struct vq_err *err)
{
	sqlite3_stmt *st;
	struct vq_journal *list = NULL;
	size_t count = 0;
	int rc;

	if (prepare(db,
		    "SELECT id, op, state, path, aux, dev, ino, size, mtime_ns, ctime_ns, started "
		    "FROM journal ORDER BY started, id",
		    &st, err) != 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vq_journal *nl = realloc(list, (count + 1) * sizeof(*nl));
		if (nl == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		list = nl;
		struct vq_journal *j = &list[count++];
		memset(j, 0, sizeof(*j));
		copy_text(j->id, sizeof(j->id), st, 0);
		copy_text(j->op, sizeof(j->op), st, 1);
		copy_text(j->state, sizeof(j->state), st, 2);
		j->path = column_str(st, 3);
		j->aux = column_str(st, 4);
		j->dev = (uint64_t)sqlite3_column_int64(st, 5);
		j->ino = (uint64_t)sqlite3_column_int64(st, 6);
		j->size = (uint64_t)sqlite3_column_int64(st, 7);
		j->mtime_ns = sqlite3_column_int64(st, 8);
		j->ctime_ns = sqlite3_column_int64(st, 9);
		j->started = sqlite3_column_int64(st, 10);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < count; i++)
			vq_journal_free(&list[i]);
		free(list);
		return db_fail(db, err, "read the journal");
	}
	*out = list;
	*n = count;
	return 0;
}

int vq_index_insert(sqlite3 *db, const struct vq_item *it, struct vq_err *err)
{
	struct vq_buf det = { 0 };
	char sha[65];
	sqlite3_stmt *st;

	for (size_t i = 0; i < it->detection_count; i++)
		if ((i > 0 && vq_buf_add(&det, "\n", 1) != 0) ||
		    vq_buf_add(&det, it->detections[i], strlen(it->detections[i])) != 0) {
			vq_buf_free(&det);
			vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
			return -1;
		}
	vq_hex(it->sha256, sizeof(it->sha256), sha);
	if (prepare(db,
		    "INSERT OR REPLACE INTO items (id, path, detections, quarantined_sec, "
		    "quarantined_nsec, size, sha256, mode, uid, gid, mtime_sec, host) "
		    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
		    &st, err) != 0) {
		vq_buf_free(&det);
		return -1;
	}
	sqlite3_bind_text(st, 1, it->id, -1, SQLITE_TRANSIENT);
	bind_blob_str(st, 2, it->path);
	sqlite3_bind_text(st, 3, det.p != NULL ? det.p : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)it->quarantined.tv_sec);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)it->quarantined.tv_nsec);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)it->size);
	sqlite3_bind_text(st, 7, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)it->mode);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)it->uid);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)it->gid);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)it->mtime.tv_sec);
	if (it->host != NULL)
		sqlite3_bind_text(st, 12, it->host, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 12);
	vq_buf_free(&det);
	return step_done(db, st, err);
}

int vq_index_remove(sqlite3 *db, const char *id, struct vq_err *err)
{
	sqlite3_stmt *st;

	if (prepare(db, "DELETE FROM items WHERE id = ?", &st, err) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	return step_done(db, st, err);
}

int vq_index_has(sqlite3 *db, const char *id, struct vq_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(db, "SELECT 1 FROM items WHERE id = ?", &st, err) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(db, err, "read the index");
}

int vq_index_prefix(sqlite3 *db, const char *prefix, char ids[2][VQ_ID_HEX + 1], size_t *count,
		    struct vq_err *err)
{
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	/* substr() rather than LIKE: '_' and '%' are not wildcards here. */
	if (prepare(db, "SELECT id FROM items WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id",
		    &st, err) != 0)
		return -1;
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n < 2)
			copy_text(ids[n], VQ_ID_HEX + 1, st, 0);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, err, "read the index");
	*count = n;
	return 0;
}

int vq_index_walk(sqlite3 *db, vq_item_fn *fn, void *ctx, struct vq_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(db,
		    "SELECT id, path, detections, quarantined_sec, quarantined_nsec, size, sha256, "
		    "mode, uid, gid, mtime_sec, host FROM items "
		    "ORDER BY quarantined_sec, quarantined_nsec, id",
		    &st, err) != 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vq_item it;
		char *det, *p;
		int stop;

		memset(&it, 0, sizeof(it));
		copy_text(it.id, sizeof(it.id), st, 0);
		it.path = column_str(st, 1);
		det = column_str(st, 2);
		/* Split the names in place; they live in det until fn returns. */
		char *names[64];
		for (p = det; p != NULL && *p != '\0' && it.detection_count < 64;) {
			names[it.detection_count++] = p;
			p = strchr(p, '\n');
			if (p != NULL)
				*p++ = '\0';
		}
		it.detections = names;
		it.quarantined.tv_sec = (time_t)sqlite3_column_int64(st, 3);
		it.quarantined.tv_nsec = (long)sqlite3_column_int64(st, 4);
		it.size = (uint64_t)sqlite3_column_int64(st, 5);
		const unsigned char *sha = sqlite3_column_text(st, 6);
		if (sha != NULL)
			(void)vq_unhex((const char *)sha, strlen((const char *)sha), it.sha256,
				       sizeof(it.sha256));
		it.mode = (uint32_t)sqlite3_column_int64(st, 7);
		it.uid = (uint32_t)sqlite3_column_int64(st, 8);
		it.gid = (uint32_t)sqlite3_column_int64(st, 9);
		it.mtime.tv_sec = (time_t)sqlite3_column_int64(st, 10);
		it.host = column_str(st, 11);
		stop = it.path != NULL ? fn(ctx, &it) : 0;
		free(it.path);
		free(it.host);
		free(det);
		if (stop)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(db, err, "read the index");
	return 0;
}
