/*
 * update.h - shared by `vigil update` (update_cmd.c) and `vigil audit`
 * (audit_cmd.c): the client's options and trusted state (update_state.c),
 * and fetching from mirrors with hard size limits (update_fetch.c).
 */
#ifndef VIGIL_UPDATE_H
#define VIGIL_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include <vigil.h>

#include "config.h"

#define DEFAULT_STATE_DIR "/var/lib/vigil/update"
#define DEFAULT_DB_DIR "/var/lib/vigil/db"
#define DEFAULT_ROOT VG_SYSCONFDIR "/vigil/root.note"
#define DEFAULT_NOTIFY_SOCKET "/run/vigil/vigild.sock"
#define MAX_MIRRORS 16
#define MAX_PROOF (VG_TRUST_MAX_NOTE + VG_MERKLE_MAX_PROOF * 46 + 256)
#define USER_AGENT "vigil/" VG_VERSION_STRING


struct upd {
	const char *state_dir, *db_dir, *root_file, *offline, *notify;
	const char *mirrors[MAX_MIRRORS];
	size_t nmirrors;
	long timeout;
	int quiet, no_reload;
	int64_t now;
	sqlite3 *db;
	CURL *curl;
	/* trusted state */
	struct vg_root *root;
	char *root_note;
	size_t root_note_len;
	char *ts_note, *manifest_note, *cp_note;
	size_t ts_note_len, manifest_note_len, cp_note_len;
	uint64_t ts_version, manifest_version, installed_version;
	int64_t manifest_expires;
	int roots_changed;
	/* the refusal being reported */
	struct vg_trust_error err;
	int security_stop; /* a log inconsistency: do not try other mirrors */
	/* the last HTTP exchange: a Range to ask for (NULL: the whole file),
	 * the status code and the Retry-After seconds the mirror answered */
	const char *range;
	long http_code;
	int64_t retry_after;
};

/* Progress on standard output (unless quiet). */
void upd_info(const struct upd *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Remembers a refusal for the final report; returns -1. */
int upd_refuse(struct upd *u, enum vg_trust_fault f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The state database in u->state_dir. */
int upd_state_open(struct upd *u);
char *upd_state_get(struct upd *u, const char *key, size_t *len);
uint64_t upd_state_get_u64(struct upd *u, const char *key);
int upd_state_put(struct upd *u, const char *key, const void *data, size_t len);
int upd_state_put_u64(struct upd *u, const char *key, uint64_t v);
int upd_state_begin(struct upd *u);
int upd_state_commit(struct upd *u);
void upd_state_rollback(struct upd *u);
/* The trusted root (state, else the anchor file) and the last notes. */
int upd_state_load(struct upd *u);

enum fetch_result { FETCH_OK, FETCH_NOTFOUND, FETCH_TOOBIG, FETCH_ERROR };

/* Where a download goes: memory, or a file hashed as it is written. */
struct sink {
	char *buf;
	size_t len, cap;
	int fd;
	EVP_MD_CTX *md;
	uint64_t max, total;
	int too_big, write_errno;
	int keep_first; /* in memory: keep the first max bytes, then stop (FETCH_TOOBIG) */
};

const char *upd_scheme_of(const char *url);
/* GET <mirror>/<rel> (or <offline>/<rel>) into s, at most s->max bytes. */
enum fetch_result upd_fetch(struct upd *u, const char *mirror, const char *rel, struct sink *s,
			    char *why, size_t whylen);
enum fetch_result upd_fetch_mem(struct upd *u, const char *mirror, const char *rel, size_t max,
				char **out, size_t *len, char *why, size_t whylen);
/* Leaf hashes of a tree of `size` from the mirror's level-0 tiles; at most
 * UPD_MAX_LOG_ENTRIES (32 MiB of hashes: a release log grows by a few
 * entries a day, so a larger claim is a log trying to exhaust the client). */
#define UPD_MAX_LOG_ENTRIES (1u << 20)
int upd_fetch_leaves(struct upd *u, const char *mirror, uint64_t size, uint8_t (**out)[32]);

/* `vigil update --clamav`: ClamAV's .cvd/.cdiff from u->mirrors into
 * u->db_dir (update_clamav.c). Returns 0 (updated or up to date) or 1. */
int upd_clamav(struct upd *u, const char *const *dbs, size_t ndbs);

/* Frees what the client holds: libcurl, the state database, notes. */
void upd_close(struct upd *u);

int upd_conf_path_value(const struct vt_config *conf, const char *key, const char **out);

#endif /* VIGIL_UPDATE_H */
