/*
 * worker_client.h - the broker's side of the sandboxed scan workers.
 *
 * A pool starts vigil-worker processes on demand, hands each one the
 * compiled database (a sealed memfd, mapped read-only by the worker) and
 * then, per file, an open descriptor over a SOCK_SEQPACKET socketpair
 * (SCM_RIGHTS). The worker's answer is checked field by field
 * (worker_wire.h). A worker is retired after files_per_worker files or after
 * any error, and killed when a file takes longer than the deadline; a
 * worker that dies, hangs or answers nonsense costs the verdict of the one
 * file it held, which becomes an error with a reason, and the next file
 * gets a fresh worker. Thread-safe: any number of threads may call
 * vw_scan() at once, each gets its own worker.
 */
#ifndef VT_WORKER_CLIENT_H
#define VT_WORKER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <vigil.h>

#include "worker_wire.h"

#define VW_DEFAULT_FILES_PER_WORKER 10000u
#define VW_DEFAULT_MEMORY_LIMIT (4ull << 30) /* address space on top of the database */
#define VW_DEADLINE_GRACE_MS 10000u /* past the engine's own MaxScanTime */

struct vw_pool_config {
	const char *worker_path;   /* NULL: vw_find_worker() */
	int insecure_no_sandbox;   /* run workers with no sandbox (logged by the caller) */
	unsigned files_per_worker; /* 0: VW_DEFAULT_FILES_PER_WORKER */
	uint64_t deadline_ms;      /* per file, 0: none */
	uint64_t memory_limit;     /* 0: VW_DEFAULT_MEMORY_LIMIT */
	uint32_t engine_flags;     /* enum vg_engine_flags of the engine */
	unsigned idle_ms;          /* daemons: stop workers idle this long, and
				    * with none left drop the database descriptor;
				    * 0: keep them */
	unsigned prestart;         /* workers to start at once (the scanning
				    * threads); 0: 1. The pool then stays at that
				    * size, plus one replacement warming up. */
};

struct vw_pool;

/* Sandbox layers in force, from the first worker's VW_HELLO. */
struct vw_layers {
	uint32_t layers; /* enum vw_layer */
	int landlock_abi;
	struct vw_layer_errors errors;
};

/* Starts a pool for compiled engine e and one worker to learn the layers.
 * Fails (-1, reason in err) when no worker can start, or when the worker
 * could not install its seccomp filter and insecure_no_sandbox is not set:
 * vigil refuses to parse files without it. */
int vw_pool_new(const struct vg_engine *e, const struct vw_pool_config *cfg, struct vw_pool **out,
		char *err, size_t errlen);

void vw_pool_layers(const struct vw_pool *p, struct vw_layers *out);

/* Scans fd in a worker (stream: read it to its end, for pipes; the
 * deadline then does not apply, the data comes at the writer's pace).
 * Returns the engine's status, with *err its errno and matches delivered
 * through on_match (which may stop the delivery, not the scan). When the
 * worker failed, returns VG_EIO with *err 0 and failure holding the reason
 * ("Scan worker killed by SIGSYS (forbidden system call)", ...); failure is
 * "" otherwise. */
enum vg_status vw_scan(struct vw_pool *p, int fd, int stream, const struct vg_scan_options *opts,
		       vg_match_fn *on_match, void *ctx, struct vg_scan_summary *sum, int *err,
		       char *failure, size_t failure_len);

/* A lane: one calling thread's own worker, handed the next file while it
 * scans the current one, so that the broker's work (walking, opening) and
 * the process wake-ups overlap the scans. Same checks, deadline (counted
 * from when vw_lane_collect starts waiting), retirement and failure
 * verdicts as vw_scan; a file a lost or retired worker held is handed to
 * a fresh one from where it started. Regular files only (not streams);
 * each fd stays open until its result is collected. */
#define VW_LANE_DEPTH 2u
struct vw_lane;
struct vw_lane *vw_lane_new(struct vw_pool *p); /* NULL: out of memory */
unsigned vw_lane_pending(const struct vw_lane *l);
/* At most VW_LANE_DEPTH pending. */
void vw_lane_submit(struct vw_lane *l, int fd, const struct vg_scan_options *opts,
		    vg_match_fn *on_match, void *ctx);
/* The oldest pending file's result, as vw_scan returns it; returns its ctx. */
void *vw_lane_collect(struct vw_lane *l, enum vg_status *status, struct vg_scan_summary *sum,
		      int *err, char *failure, size_t failure_len);
/* Nothing may be pending. */
void vw_lane_free(struct vw_lane *l);

/* Stops every idle worker and frees the pool (no scan may be running). */
void vw_pool_free(struct vw_pool *p);

/* The worker program: $VIGIL_WORKER, else vigil-worker next to the running
 * program or in the build tree beside it, else the installed one. */
int vw_find_worker(char *out, size_t len);

/* "Sandbox: ..." text for `vigil version`/logs, e.g. "no_new_privs rlimits
 * landlock(abi 7: fs tcp signals) netns seccomp"; missing layers follow
 * with their reason ("; missing: netns (Operation not permitted)"). */
void vw_layers_describe(const struct vw_layers *l, char *buf, size_t len);

#endif /* VT_WORKER_CLIENT_H */
