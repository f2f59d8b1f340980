/* engine: implements vigil.h on top of sigdb and scan. */
#ifndef VG_ENGINE_H
#define VG_ENGINE_H

#include <pthread.h>

#include "base/base.h"
#include "scan/scan.h"
#include "sigdb/sigdb.h"
#include "util/util.h"

enum engine_state { ENGINE_LOADING, ENGINE_COMPILED, ENGINE_BROKEN };

struct engine_input {
	char *path;
	uint32_t flags;
};

struct vg_engine {
	int refs; /* atomic */
	struct vg_engine_options opts;
	struct vg_logger user_log; /* the caller's */
	struct vg_logger log;      /* what the loaders use: records notices too */
	enum engine_state state;
	struct sigset set;
	struct scan_db *db;
	char error[1200];
	pthread_mutex_t pool_lock;
	struct scan_ctx **pool; /* idle per-thread contexts */
	size_t npool, pool_cap;
	/* the compiled-database cache */
	char *cache_dir;
	struct engine_input *inputs; /* recorded by vg_engine_load when caching */
	size_t ninputs;
	struct buf notices;          /* load notices, replayed from a cache hit */
	enum vg_cache_state cache_state;
	int image_fd;                /* the cache file mapped, or -1 (vg_engine_image_fd) */
};

/* Borrow a scanning context (created on demand) and give it back. */
vg_status engine_ctx_get(const struct vg_engine *e, struct scan_ctx **out);
void engine_ctx_put(const struct vg_engine *e, struct scan_ctx *c);

/* Scans memory with a borrowed context. */
vg_status engine_scan_mem(const struct vg_engine *e, const uint8_t *data, size_t len,
			  uint64_t bytes_read, const struct vg_scan_options *opts,
			  vg_match_fn *on_match, void *ctx, struct vg_scan_summary *out);

/* cache.c */

/* The cache key: engine and Vectorscan versions, FLEVEL, flags, and the
 * name, size, times and identity of every database file of every input. */
vg_status cache_key(const struct vg_engine *e, uint8_t key[IMAGE_KEY_LEN]);
/* False (with a warning logged) when the folder is missing and cannot be
 * made, or is not the effective user's alone. */
bool cache_dir_usable(const struct vg_engine *e);
/* VG_OK and *out on a valid cache file for key; otherwise the caller
 * compiles (a damaged file is reported and removed). */
vg_status cache_open(const struct vg_engine *e, const uint8_t key[IMAGE_KEY_LEN],
		     struct scan_db **out, int *keep_fd);
/* Writes image atomically as the cache file for key and opens it mapped;
 * takes ownership of image. If writing fails (warned), opens it in memory. */
vg_status cache_store(const struct vg_engine *e, const uint8_t key[IMAGE_KEY_LEN], uint8_t *image,
		      size_t len, struct scan_db **out, bool *stored, int *keep_fd);

#endif
