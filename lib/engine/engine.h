/* engine: implements vigil.h on top of sigdb and scan. */
#ifndef VG_ENGINE_H
#define VG_ENGINE_H

#include <pthread.h>

#include "base/base.h"
#include "scan/scan.h"
#include "sigdb/sigdb.h"

enum engine_state { ENGINE_LOADING, ENGINE_COMPILED, ENGINE_BROKEN };

struct vg_engine {
	int refs; /* atomic */
	struct vg_engine_options opts;
	struct vg_logger log;
	enum engine_state state;
	struct sigset set;
	struct scan_db *db;
	char error[1200];
	pthread_mutex_t pool_lock;
	struct scan_ctx **pool; /* idle per-thread contexts */
	size_t npool, pool_cap;
};

/* Borrow a scanning context (created on demand) and give it back. */
vg_status engine_ctx_get(const struct vg_engine *e, struct scan_ctx **out);
void engine_ctx_put(const struct vg_engine *e, struct scan_ctx *c);

/* Scans memory with a borrowed context. */
vg_status engine_scan_mem(const struct vg_engine *e, const uint8_t *data, size_t len,
			  uint64_t bytes_read, const struct vg_scan_options *opts,
			  vg_match_fn *on_match, void *ctx, struct vg_scan_summary *out);

#endif
