/*
 * engines.c - the current engine, reloads and SelfCheck (see engines.h).
 */
#include "engines.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "output.h"
#include "worker_client.h"

/* Workers idle this long are stopped (a quiet daemon holds no worker). */
#define VD_WORKER_IDLE_MS 2000u

/* The worker pool of one engine: it holds that engine's compiled database,
 * so it lives and goes with it. */
struct vd_workers {
	struct vw_pool *pool;
	unsigned refs; /* guarded by g.mu */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct vd_settings *settings;
	struct vg_engine *current;
	struct vd_workers *workers; /* of current */
	uint64_t fingerprint;  /* of the files the current engine was built from */
	uint64_t generation;
	int running;           /* a reload thread exists */
	int again;             /* another request came while it ran */
	int stopping;
	pthread_t thread;
	int joinable;
} g = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* The database locations to use: the settings', without a folder listed
 * twice (a clamd.conf's DatabaseDirectory is often /var/lib/clamav, which
 * vigil also reads as ClamAV's folder). */
static void effective_dbs(const struct vd_settings *s, struct vt_db_settings *out)
{
	char a[PATH_MAX], b[PATH_MAX];

	*out = s->dbs;
	if (out->update_dir != NULL && out->clamav_dir != NULL &&
	    realpath(out->update_dir, a) != NULL && realpath(out->clamav_dir, b) != NULL &&
	    strcmp(a, b) == 0)
		out->clamav_dir = NULL;
	if (out->update_dir != NULL && out->bundled_dir != NULL &&
	    realpath(out->update_dir, a) != NULL && realpath(out->bundled_dir, b) != NULL &&
	    strcmp(a, b) == 0)
		out->bundled_dir = NULL;
}

/* FNV-1a over bytes, folded into h. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t stat_hash(const char *name, const struct stat *st)
{
	uint64_t h = 14695981039346656037ull;
	int64_t v[4] = { (int64_t)st->st_size, (int64_t)st->st_mtim.tv_sec,
			 (int64_t)st->st_mtim.tv_nsec, (int64_t)st->st_ino };

	h = fnv(h, name, strlen(name));
	return fnv(h, v, sizeof(v));
}

/* Order-independent digest of the database files under path. */
static uint64_t path_digest(const char *path)
{
	struct stat st;
	uint64_t sum = 0, count = 0;
	DIR *d;
	struct dirent *de;

	if (path == NULL)
		return 0;
	if (stat(path, &st) != 0)
		return 1;
	if (!S_ISDIR(st.st_mode))
		return stat_hash(path, &st);
	d = opendir(path);
	if (d == NULL)
		return 2;
	while ((de = readdir(d)) != NULL) {
		struct stat fst;
		if (de->d_name[0] == '.' || !vt_is_database_name(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &fst, 0) != 0)
			continue;
		sum += stat_hash(de->d_name, &fst);
		count++;
	}
	closedir(d);
	return sum ^ (count * 0x9e3779b97f4a7c15ull);
}

static uint64_t fingerprint(const struct vd_settings *s)
{
	struct vt_db_settings d;
	uint64_t h = 14695981039346656037ull, v;

	effective_dbs(s, &d);
	for (size_t i = 0; i < d.explicit_count; i++) {
		v = path_digest(d.explicit_paths[i]);
		h = fnv(h, &v, sizeof(v));
	}
	v = path_digest(d.bundled_dir);
	h = fnv(h, &v, sizeof(v));
	v = path_digest(d.update_dir);
	h = fnv(h, &v, sizeof(v));
	v = path_digest(d.clamav_dir);
	h = fnv(h, &v, sizeof(v));
	for (size_t i = 0; i < d.extra_count; i++) {
		v = path_digest(d.extra_paths[i]);
		h = fnv(h, &v, sizeof(v));
	}
	return h;
}

struct vg_engine *vd_engine_build(const struct vd_settings *s)
{
	struct vg_engine_options eo;
	struct vg_engine *e = NULL;
	struct vt_db_settings dbs;
	struct vt_output o;
	struct timespec t0, t1;
	enum vg_status st;
	FILE *msg = vd_log_stream();
	int ok = 0;

	if (msg == NULL) {
		vd_log(VD_LOG_ERROR, "Can't load the databases: out of memory");
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vt_output_init(&o, NULL, msg);
	vg_engine_options_init(&eo);
	eo.flags = (s->detect_pua ? VG_ENGINE_DETECT_PUA : 0) |
		   (s->official_db_only ? VG_ENGINE_OFFICIAL_ONLY : 0);
	eo.limits = s->limits;
	eo.log = vd_log_engine;
	eo.log_ctx = NULL;
	eo.cache_dir = s->cache_dir;
	st = vg_engine_new(&eo, &e);
	if (st != VG_OK) {
		vd_log(VD_LOG_ERROR, "Can't initialize the engine: %s", vg_status_str(st));
		e = NULL;
		goto out;
	}
	effective_dbs(s, &dbs);
	if (vt_databases_load(e, &dbs, &o) != 0)
		goto out;
	st = vg_engine_compile(e);
	if (st != VG_OK) {
		const char *detail = vg_engine_error(e);
		vd_log(VD_LOG_ERROR, "Database initialization error: %s",
		       detail != NULL && *detail != '\0' ? detail : vg_status_str(st));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vd_log(VD_LOG_INFO, "Loaded %llu signatures from %zu database file(s) in %.3f s%s.",
	       (unsigned long long)vg_engine_signature_count(e), vg_engine_db_count(e),
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       vg_engine_cache_state(e) == VG_CACHE_HIT	    ? " (compiled cache)"
	       : vg_engine_cache_state(e) == VG_CACHE_BUILT ? " (compiled cache written)"
							    : "");
	ok = 1;
out:
	vt_output_finish(&o);
	pthread_mutex_destroy(&o.lock);
	fclose(msg);
	if (!ok) {
		vg_engine_unref(e);
		return NULL;
	}
	return e;
}

/* Workers for engine e; NULL (logged) when they cannot start or would run
 * without seccomp (unless InsecureNoSandbox). */
static struct vd_workers *start_workers(const struct vd_settings *s, struct vg_engine *e)
{
	struct vd_workers *w = calloc(1, sizeof(*w));
	struct vw_pool_config wc;
	struct vw_layers layers;
	char err[512], text[512];

	if (w == NULL) {
		vd_log(VD_LOG_ERROR, "Can't start the scan workers: out of memory");
		return NULL;
	}
	memset(&wc, 0, sizeof(wc));
	wc.insecure_no_sandbox = s->insecure_no_sandbox;
	wc.files_per_worker = s->worker_files;
	wc.engine_flags = s->detect_pua ? VG_ENGINE_DETECT_PUA : 0;
	wc.prestart = s->max_threads;
	wc.idle_ms = VD_WORKER_IDLE_MS;
	if (s->worker_deadline_set)
		wc.deadline_ms = s->worker_deadline_ms;
	else if (s->limits.max_scantime_ms != 0)
		wc.deadline_ms = s->limits.max_scantime_ms + VW_DEADLINE_GRACE_MS;
	if (vw_pool_new(e, &wc, &w->pool, err, sizeof(err)) != 0) {
		vd_log(VD_LOG_ERROR, "%s", err);
		free(w);
		return NULL;
	}
	vw_pool_layers(w->pool, &layers);
	vw_layers_describe(&layers, text, sizeof(text));
	vd_log(VD_LOG_INFO, "Scan workers: sandbox %s.", text);
	w->refs = 1;
	return w;
}

static void workers_unref(struct vd_workers *w)
{
	int last;

	if (w == NULL)
		return;
	pthread_mutex_lock(&g.mu);
	last = --w->refs == 0;
	pthread_mutex_unlock(&g.mu);
	if (last) {
		vw_pool_free(w->pool);
		free(w);
	}
}

int vd_engines_init(const struct vd_settings *s, struct vg_engine *first)
{
	struct vd_workers *w = start_workers(s, first);

	if (w == NULL) {
		vg_engine_unref(first);
		return -1;
	}
	pthread_mutex_lock(&g.mu);
	g.settings = s;
	g.current = first;
	g.workers = w;
	g.fingerprint = fingerprint(s);
	pthread_mutex_unlock(&g.mu);
	return 0;
}

void vd_engine_acquire_scan(struct vd_scan_engine *out)
{
	pthread_mutex_lock(&g.mu);
	out->engine = vg_engine_ref(g.current);
	out->ref = g.workers;
	if (out->ref != NULL)
		out->ref->refs++;
	out->workers = out->ref != NULL ? out->ref->pool : NULL;
	pthread_mutex_unlock(&g.mu);
}

void vd_engine_release_scan(struct vd_scan_engine *se)
{
	vg_engine_unref(se->engine);
	workers_unref(se->ref);
	se->engine = NULL;
	se->workers = NULL;
	se->ref = NULL;
}

struct vg_engine *vd_engine_acquire(void)
{
	struct vg_engine *e;

	pthread_mutex_lock(&g.mu);
	e = vg_engine_ref(g.current);
	pthread_mutex_unlock(&g.mu);
	return e;
}

static void *reload_main(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t fp = fingerprint(g.settings);
		struct vg_engine *e;

		vd_log(VD_LOG_INFO, "Reading databases (reload).");
		struct vd_workers *w = NULL;

		e = vd_engine_build(g.settings);
		if (e != NULL) {
			w = start_workers(g.settings, e);
			if (w == NULL) {
				vg_engine_unref(e);
				e = NULL;
			}
		}
		pthread_mutex_lock(&g.mu);
		if (e != NULL && !g.stopping) {
			struct vg_engine *old = g.current;
			struct vd_workers *old_workers = g.workers;
			g.current = e;
			g.workers = w;
			g.fingerprint = fp;
			g.generation++;
			pthread_mutex_unlock(&g.mu);
			/* Scans in flight hold their own references. */
			vg_engine_unref(old);
			workers_unref(old_workers);
			vd_log(VD_LOG_INFO, "Database correctly reloaded.");
			pthread_mutex_lock(&g.mu);
		} else if (e != NULL) {
			pthread_mutex_unlock(&g.mu);
			vg_engine_unref(e);
			workers_unref(w);
			pthread_mutex_lock(&g.mu);
		} else {
			vd_log(VD_LOG_WARNING, "Database reload failed, keeping the previous instance.");
		}
		if (!g.again || g.stopping) {
			g.running = 0;
			pthread_cond_broadcast(&g.cv);
			pthread_mutex_unlock(&g.mu);
			return NULL;
		}
		g.again = 0;
		pthread_mutex_unlock(&g.mu);
	}
}

void vd_engines_request_reload(const char *why)
{
	pthread_mutex_lock(&g.mu);
	if (g.stopping || g.settings == NULL) {
		pthread_mutex_unlock(&g.mu);
		return;
	}
	vd_log(VD_LOG_INFO, "Reload requested (%s).", why);
	if (g.running) {
		g.again = 1;
		pthread_mutex_unlock(&g.mu);
		return;
	}
	if (g.joinable) {
		/* The previous reload thread has finished (running is 0). */
		pthread_join(g.thread, NULL);
		g.joinable = 0;
	}
	g.running = 1;
	if (pthread_create(&g.thread, NULL, reload_main, NULL) != 0) {
		g.running = 0;
		vd_log(VD_LOG_ERROR, "Can't start the reload thread; keeping the databases.");
	} else {
		g.joinable = 1;
	}
	pthread_mutex_unlock(&g.mu);
}

int vd_engines_changed(void)
{
	uint64_t now, then;

	pthread_mutex_lock(&g.mu);
	if (g.settings == NULL || g.running) {
		pthread_mutex_unlock(&g.mu);
		return 0;
	}
	then = g.fingerprint;
	pthread_mutex_unlock(&g.mu);
	now = fingerprint(g.settings);
	return now != then;
}

uint64_t vd_engines_generation(void)
{
	uint64_t v;

	pthread_mutex_lock(&g.mu);
	v = g.generation;
	pthread_mutex_unlock(&g.mu);
	return v;
}

int vd_engines_reloading(void)
{
	int v;

	pthread_mutex_lock(&g.mu);
	v = g.running;
	pthread_mutex_unlock(&g.mu);
	return v;
}

void vd_engines_shutdown(void)
{
	struct vg_engine *e;
	struct vd_workers *w;

	pthread_mutex_lock(&g.mu);
	g.stopping = 1;
	while (g.running)
		pthread_cond_wait(&g.cv, &g.mu);
	if (g.joinable) {
		pthread_join(g.thread, NULL);
		g.joinable = 0;
	}
	e = g.current;
	g.current = NULL;
	w = g.workers;
	g.workers = NULL;
	pthread_mutex_unlock(&g.mu);
	vg_engine_unref(e);
	workers_unref(w);
}
