/*
 * update_fetch.c - the update client's state (SQLite) and downloads
 * (libcurl, or a mirror folder), every one capped at a size known in advance.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "publish.h"
#include "update.h"

void upd_info(const struct upd *u, const char *fmt, ...)
{
	va_list ap;
	if (u->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* A refusal: remembered for the final report. */
int upd_refuse(struct upd *u, enum vg_trust_fault f, const char *fmt, ...)
{
	va_list ap;
	u->err.fault = f;
	va_start(ap, fmt);
	vsnprintf(u->err.msg, sizeof(u->err.msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- state (SQLite) ---- */

int upd_state_open(struct upd *u)
{
	char path[PATH_MAX];
	if (vt_mkdirs(u->state_dir, 0700) != 0) {
		fprintf(stderr, "ERROR: cannot create the update state folder %s: %s\n",
			u->state_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/state.sqlite", u->state_dir);
	if (sqlite3_open_v2(path, &u->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(u->db,
			 "PRAGMA synchronous=FULL;"
			 "CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value BLOB NOT NULL);",
			 NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "ERROR: %s: %s (delete it to start over from the trust anchor)\n",
			path, u->db ? sqlite3_errmsg(u->db) : "cannot open");
		return -1;
	}
	return 0;
}

char *upd_state_get(struct upd *u, const char *key, size_t *len)
{
	sqlite3_stmt *s;
	char *v = NULL;
	if (sqlite3_prepare_v2(u->db, "SELECT value FROM state WHERE key=?", -1, &s, NULL) !=
	    SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		int n = sqlite3_column_bytes(s, 0);
		const void *p = sqlite3_column_blob(s, 0);
		v = malloc((size_t)n + 1);
		if (v != NULL) {
			if (n > 0)
				memcpy(v, p, (size_t)n);
			v[n] = '\0';
			*len = (size_t)n;
		}
	}
	sqlite3_finalize(s);
	return v;
}

uint64_t upd_state_get_u64(struct upd *u, const char *key)
{
	size_t len;
	char *v = upd_state_get(u, key, &len);
	uint64_t n = v ? strtoull(v, NULL, 10) : 0;
	free(v);
	return n;
}

int upd_state_put(struct upd *u, const char *key, const void *data, size_t len)
{
	sqlite3_stmt *s;
	int rc;
	if (sqlite3_prepare_v2(u->db, "INSERT OR REPLACE INTO state(key, value) VALUES(?, ?)", -1,
			       &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, data, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(s);
	return rc;
}

int upd_state_put_u64(struct upd *u, const char *key, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return upd_state_put(u, key, buf, (size_t)n);
}

int upd_state_begin(struct upd *u)
{
	return sqlite3_exec(u->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int upd_state_commit(struct upd *u)
{
	if (sqlite3_exec(u->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	fprintf(stderr, "ERROR: cannot save the update state: %s\n", sqlite3_errmsg(u->db));
	sqlite3_exec(u->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

void upd_state_rollback(struct upd *u)
{
	sqlite3_exec(u->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Loads the trusted root (state, else the anchor file) and the last
 * verified notes. */
int upd_state_load(struct upd *u)
{
	struct vg_trust_error terr;
	size_t len;

	u->root_note = upd_state_get(u, "root", &u->root_note_len);
	if (u->root_note == NULL) {
		char err[PATH_MAX + 64];
		if (vt_file_read(u->root_file, VG_TRUST_MAX_NOTE, &u->root_note, &u->root_note_len,
				 err, sizeof(err)) != 0) {
			fprintf(stderr,
				"ERROR: no trusted root: %s\n"
				"Install the publisher's root note there (UpdateRoot, --root) after "
				"checking its fingerprint out of band.\n",
				err);
			return -1;
		}
	}
	if (vg_root_open(u->root_note, u->root_note_len, &u->root, &terr) != VG_OK) {
		fprintf(stderr, "ERROR: trusted root: %s\n", terr.msg);
		return -1;
	}
	u->ts_note = upd_state_get(u, "timestamp", &u->ts_note_len);
	u->manifest_note = upd_state_get(u, "manifest", &u->manifest_note_len);
	u->cp_note = upd_state_get(u, "checkpoint", &u->cp_note_len);
	u->ts_version = upd_state_get_u64(u, "timestamp-version");
	u->manifest_version = upd_state_get_u64(u, "manifest-version");
	u->installed_version = upd_state_get_u64(u, "installed-version");
	u->manifest_expires = (int64_t)upd_state_get_u64(u, "manifest-expires");
	(void)len;
	return 0;
}

/* ---- fetching ---- */


static size_t sink_write(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t len = size * n;
	if (s->total + len > s->max) {
		if (s->keep_first && s->fd < 0 && s->total < s->max) {
			size_t part = (size_t)(s->max - s->total);
			if (sink_write(p, 1, part, s) != part)
				return 0;
		}
		s->too_big = 1;
		return 0; /* abort the transfer */
	}
	s->total += len;
	if (s->fd >= 0) {
		size_t done = 0;
		while (done < len) {
			ssize_t w = write(s->fd, p + done, len - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				s->write_errno = errno;
				return 0;
			}
			done += (size_t)w;
		}
		EVP_DigestUpdate(s->md, p, len);
		return len;
	}
	if (s->len + len + 1 > s->cap) {
		size_t nc = s->cap ? s->cap : 4096;
		while (nc < s->len + len + 1)
			nc *= 2;
		char *b = realloc(s->buf, nc);
		if (b == NULL)
			return 0;
		s->buf = b;
		s->cap = nc;
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

const char *upd_scheme_of(const char *url)
{
	if (strncmp(url, "https://", 8) == 0)
		return "https";
	if (strncmp(url, "http://", 7) == 0)
		return "http";
	if (strncmp(url, "file://", 7) == 0)
		return "file";
	return NULL;
}

/* GET <mirror>/<rel> into s; at most s->max bytes. */
enum fetch_result upd_fetch(struct upd *u, const char *mirror, const char *rel, struct sink *s,
			       char *why, size_t whylen)
{
	char url[PATH_MAX + 256];
	long code = 0;

	u->http_code = 0;
	u->retry_after = 0;
	if (u->offline != NULL) {
		/* a mirror folder: same limits, no network */
		snprintf(url, sizeof(url), "%s/%s", u->offline, rel);
		int fd = open(url, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			snprintf(why, whylen, "%s: %s", url, strerror(errno));
			return errno == ENOENT ? FETCH_NOTFOUND : FETCH_ERROR;
		}
		char buf[65536];
		for (;;) {
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				snprintf(why, whylen, "%s: %s", url, strerror(errno));
				close(fd);
				return FETCH_ERROR;
			}
			if (r == 0)
				break;
			if (sink_write(buf, 1, (size_t)r, s) != (size_t)r) {
				close(fd);
				if (s->too_big) {
					snprintf(why, whylen, "%s: larger than %llu bytes", url,
						 (unsigned long long)s->max);
					return FETCH_TOOBIG;
				}
				snprintf(why, whylen, "%s: %s", url,
					 s->write_errno ? strerror(s->write_errno) : "out of memory");
				return FETCH_ERROR;
			}
		}
		close(fd);
		return FETCH_OK;
	}
	snprintf(url, sizeof(url), "%s/%s", mirror, rel);
	const char *scheme = upd_scheme_of(mirror);
	CURL *c = u->curl;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, scheme);
	/* redirects: never to file://, never from https down to http */
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
			 strcmp(scheme, "http") == 0 ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	if (!s->keep_first) /* else the first bytes of a larger file are wanted */
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, u->timeout < 30 ? u->timeout : 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, u->timeout);
	/* a mirror trickling bytes (slowloris) is dropped */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 64L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, u->timeout < 30 ? u->timeout : 30L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L);
	if (u->range != NULL)
		curl_easy_setopt(c, CURLOPT_RANGE, u->range);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	u->http_code = code;
	curl_off_t ra = 0;
	u->retry_after = curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK ? (int64_t)ra : 0;
	if (s->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(why, whylen, "%s: larger than %llu bytes (endless-data attack or broken "
				      "mirror); download stopped",
			 url, (unsigned long long)s->max);
		return FETCH_TOOBIG;
	}
	if (rc == CURLE_WRITE_ERROR && s->write_errno) {
		snprintf(why, whylen, "%s: cannot write: %s", url, strerror(s->write_errno));
		return FETCH_ERROR;
	}
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s: %s", url, curl_easy_strerror(rc));
		return rc == CURLE_FILE_COULDNT_READ_FILE ? FETCH_NOTFOUND : FETCH_ERROR;
	}
	if (strcmp(scheme, "file") != 0 && (code == 404 || code == 410)) {
		snprintf(why, whylen, "%s: not found (HTTP %ld)", url, code);
		return FETCH_NOTFOUND;
	}
	if (strcmp(scheme, "file") != 0 && (code < 200 || code > 299)) {
		snprintf(why, whylen, "%s: HTTP %ld", url, code);
		return FETCH_ERROR;
	}
	return FETCH_OK;
}

/* Fetch a small file into memory. */
enum fetch_result upd_fetch_mem(struct upd *u, const char *mirror, const char *rel,
				   size_t max, char **out, size_t *len, char *why, size_t whylen)
{
	struct sink s = { .fd = -1, .max = max };
	enum fetch_result r = upd_fetch(u, mirror, rel, &s, why, whylen);
	if (r != FETCH_OK) {
		free(s.buf);
		return r;
	}
	if (s.buf == NULL) {
		s.buf = calloc(1, 1);
		if (s.buf == NULL)
			return FETCH_ERROR;
	}
	*out = s.buf;
	*len = s.len;
	return FETCH_OK;
}

/* Leaf hashes of a tree of `size` from the mirror's level-0 tiles. */
int upd_fetch_leaves(struct upd *u, const char *mirror, uint64_t size, uint8_t (**out)[32])
{
	char why[PATH_MAX + 256];
	if (size > UPD_MAX_LOG_ENTRIES) {
		if (!u->quiet)
			fprintf(stderr, "WARNING: the log claims %llu entries, more than the %u this "
					"client reads\n",
				(unsigned long long)size, UPD_MAX_LOG_ENTRIES);
		return -1;
	}
	uint8_t(*lv)[32] = calloc(size + 1, 32);
	if (lv == NULL)
		return -1;
	for (uint64_t t = 0; t * VP_TILE_WIDTH < size; t++) {
		char rel[160], tile[128], *data;
		size_t len;
		uint64_t want = size - t * VP_TILE_WIDTH;
		if (want > VP_TILE_WIDTH)
			want = VP_TILE_WIDTH;
		vp_tile_path(t, size, tile, sizeof(tile));
		snprintf(rel, sizeof(rel), "log/%s", tile);
		if (upd_fetch_mem(u, mirror, rel, VP_TILE_WIDTH * 32, &data, &len, why, sizeof(why)) !=
			    FETCH_OK ||
		    len != want * 32) {
			if (!u->quiet)
				fprintf(stderr, "WARNING: log tile: %s\n", why);
			free(lv);
			return -1;
		}
		memcpy(lv[t * VP_TILE_WIDTH], data, len);
		free(data);
	}
	*out = lv;
	return 0;
}

/* ---- options ---- */

int upd_conf_path_value(const struct vt_config *conf, const char *key, const char **out)
{
	const struct vt_config_entry *e = vt_config_last(conf, key);
	if (e == NULL || *out != NULL)
		return 0;
	if (e->value[0] != '/') {
		fprintf(stderr, "ERROR: %s:%u: %s must be an absolute path ('%s')\n", conf->path,
			e->line, key, e->value);
		return -1;
	}
	*out = e->value;
	return 0;
}


void upd_close(struct upd *u)
{
	if (u->curl != NULL) {
		curl_easy_cleanup(u->curl);
		curl_global_cleanup();
	}
	if (u->db != NULL)
		sqlite3_close(u->db);
	vg_root_free(u->root);
	free(u->root_note);
	free(u->ts_note);
	free(u->manifest_note);
	free(u->cp_note);
}
