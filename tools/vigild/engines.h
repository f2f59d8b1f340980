/*
 * engines.h - the engine every scan uses, and reloading it.
 *
 * The compiled engine is immutable and shared read-only by every scanning
 * thread. A scan takes a reference (vd_engine_acquire) and keeps it to the
 * end, so a reload - RELOAD, SIGUSR2 or SelfCheck - builds the new engine in
 * a background thread and swaps the pointer under a mutex held for two
 * instructions: requests in flight finish on the engine they started with,
 * new ones get the new engine, nothing waits for the load. A failed reload
 * keeps the previous engine.
 */
#ifndef VIGILD_ENGINES_H
#define VIGILD_ENGINES_H

#include <stdint.h>

#include <vigil.h>

#include "settings.h"

/* Build an engine from the settings' databases (loaded and compiled). Load
 * errors are logged; returns NULL on failure. */
struct vg_engine *vd_engine_build(const struct vd_settings *s);

/* Installs the first engine (reference transferred) and starts its
 * sandboxed scan workers; -1 (logged) when they cannot start, or would run
 * without seccomp and InsecureNoSandbox is not set. A reload starts new
 * workers for the new engine and fails the same way (the old engine stays). */
int vd_engines_init(const struct vd_settings *s, struct vg_engine *first);

/* Stops a reload in progress (waits for it) and drops the engine. */
void vd_engines_shutdown(void);

/* A reference to the current engine; release with vg_engine_unref(). */
struct vg_engine *vd_engine_acquire(void);

/* The current engine and the worker pool that scans with it, taken
 * together; release with vd_engine_release_scan(). */
struct vd_workers;
struct vw_pool;
struct vd_scan_engine {
	struct vg_engine *engine;
	struct vw_pool *workers;
	struct vd_workers *ref;
};
void vd_engine_acquire_scan(struct vd_scan_engine *out);
void vd_engine_release_scan(struct vd_scan_engine *se);

/* Ask for a reload (why is logged); requests made while one runs are folded
 * into one more reload after it. */
void vd_engines_request_reload(const char *why);

/* SelfCheck: 1 when the database files changed since the engine in use was
 * loaded (names, sizes, modification times). */
int vd_engines_changed(void);

/* Number of reloads done, and whether one is running (for STATS and tests). */
uint64_t vd_engines_generation(void);
int vd_engines_reloading(void);

#endif /* VIGILD_ENGINES_H */
