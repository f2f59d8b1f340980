/* The public engine: lifecycle, loading, compiling, and vg_scan_fd. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "util/util.h"

VG_API void vg_engine_options_init(struct vg_engine_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->size = sizeof(*opts);
	opts->flevel = VG_FLEVEL;
	opts->limits.max_filesize = VG_DEFAULT_MAX_FILESIZE;
	opts->limits.max_scansize = VG_DEFAULT_MAX_SCANSIZE;
	opts->limits.max_recursion = VG_DEFAULT_MAX_RECURSION;
	opts->limits.max_files = VG_DEFAULT_MAX_FILES;
	opts->limits.max_scantime_ms = VG_DEFAULT_MAX_SCANTIME_MS;
}

/* Loaders log through this: notices are kept so that a cache hit can
 * replay them (a user must hear about skipped files every time). */
static void log_tap(void *ctx, enum vg_log_level level, const char *msg)
{
	struct vg_engine *e = ctx;

	if (level == VG_LOG_NOTICE && buf_append(&e->notices, msg, strlen(msg)) == VG_OK)
		(void)buf_append(&e->notices, "\n", 1);
	if (e->user_log.fn)
		e->user_log.fn(e->user_log.ctx, level, msg);
}

VG_API enum vg_status vg_engine_new(const struct vg_engine_options *opts, struct vg_engine **out)
{
	struct vg_engine *e;

	if (!out)
		return VG_EINVAL;
	*out = NULL;
	if (opts && opts->size != sizeof(*opts))
		return VG_EINVAL;
	e = vg_calloc(1, sizeof(*e));
	if (!e)
		return VG_ENOMEM;
	if (opts)
		e->opts = *opts;
	else
		vg_engine_options_init(&e->opts);
	if (e->opts.flevel == 0)
		e->opts.flevel = VG_FLEVEL;
	e->user_log.fn = e->opts.log;
	e->user_log.ctx = e->opts.log_ctx;
	e->log.fn = log_tap;
	e->log.ctx = e;
	buf_init(&e->notices, 1u << 20);
	if (e->opts.cache_dir) {
		e->cache_dir = vg_strndup(e->opts.cache_dir, strlen(e->opts.cache_dir));
		if (!e->cache_dir) {
			vg_free(e);
			return VG_ENOMEM;
		}
	}
	e->opts.cache_dir = e->cache_dir;
	e->image_fd = -1;
	e->refs = 1;
	e->state = ENGINE_LOADING;
	if (pthread_mutex_init(&e->pool_lock, NULL) != 0) {
		vg_free(e);
		return VG_ENOMEM;
	}
	sigset_init(&e->set, e->opts.flevel, e->opts.flags & VG_ENGINE_DETECT_PUA, &e->log);
	e->set.official_only = e->opts.flags & VG_ENGINE_OFFICIAL_ONLY;
	*out = e;
	return VG_OK;
}

VG_API enum vg_status vg_engine_load(struct vg_engine *e, const char *path, uint32_t flags)
{
	vg_status rc;

	if (!e || !path)
		return VG_EINVAL;
	e->error[0] = '\0';
	if (e->state != ENGINE_LOADING) {
		snprintf(e->error, sizeof(e->error), "%s: databases must be loaded before the engine is compiled", path);
		return VG_ESTATE;
	}
	if (e->cache_dir) {
		/* parse later, and only if the cache cannot serve */
		struct stat st;
		struct engine_input *in;
		if (stat(path, &st) != 0) {
			snprintf(e->error, sizeof(e->error), "%s: cannot open database: %s", path,
				 strerror(errno));
			return errno == ENOENT ? VG_ENODB : VG_EIO;
		}
		in = vg_reallocarray(e->inputs, e->ninputs + 1, sizeof(*in));
		if (!in)
			return VG_ENOMEM;
		e->inputs = in;
		in[e->ninputs].path = vg_strndup(path, strlen(path));
		in[e->ninputs].flags = flags;
		if (!in[e->ninputs].path)
			return VG_ENOMEM;
		e->ninputs++;
		return VG_OK;
	}
	rc = sigset_load(&e->set, path, flags & VG_LOAD_REQUIRE_DB);
	if (rc != VG_OK) {
		snprintf(e->error, sizeof(e->error), "%s",
			 e->set.error[0] ? e->set.error : vg_status_str(rc));
	}
	return rc;
}

static void replay_notices(const struct vg_engine *e)
{
	size_t len, start = 0;
	const char *n = scan_db_notices(e->db, &len);

	for (size_t i = 0; i < len; i++) {
		if (n[i] != '\n')
			continue;
		vg_log(&e->user_log, VG_LOG_NOTICE, "%.*s", (int)(i - start), n + start);
		start = i + 1;
	}
}

/* Parses the recorded inputs (cache miss). */
static vg_status load_inputs(struct vg_engine *e)
{
	for (size_t i = 0; i < e->ninputs; i++) {
		vg_status rc = sigset_load(&e->set, e->inputs[i].path,
					   e->inputs[i].flags & VG_LOAD_REQUIRE_DB);
		if (rc != VG_OK) {
			snprintf(e->error, sizeof(e->error), "%s",
				 e->set.error[0] ? e->set.error : vg_status_str(rc));
			return rc;
		}
	}
	return VG_OK;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1u : n > 64 ? 64u : (unsigned)n;
}

VG_API enum vg_status vg_engine_compile(struct vg_engine *e)
{
	uint8_t key[IMAGE_KEY_LEN] = {0};
	char err[512] = "";
	uint8_t *image = NULL;
	size_t len = 0;
	bool cache, stored = false;
	uint64_t t0, t1, t2;
	vg_status rc;

	if (!e)
		return VG_EINVAL;
	e->error[0] = '\0';
	if (e->state != ENGINE_LOADING) {
		snprintf(e->error, sizeof(e->error), "the engine is already compiled");
		return VG_ESTATE;
	}
	cache = e->cache_dir && cache_dir_usable(e) && cache_key(e, key) == VG_OK;
	if (cache && cache_open(e, key, &e->db, &e->image_fd) == VG_OK) {
		e->cache_state = VG_CACHE_HIT;
		e->state = ENGINE_COMPILED;
		replay_notices(e);
		return VG_OK;
	}
	t0 = now_ms();
	rc = load_inputs(e);
	if (rc != VG_OK) {
		e->state = ENGINE_BROKEN;
		return rc;
	}
	t1 = now_ms();
	/* A database that will be stored is compiled for scanning speed; one
	 * that lives only as long as this engine, for a quick start. */
	rc = scan_db_compile(&e->set, key, (const char *)e->notices.data, e->notices.len,
			     cache ? 1u : online_cpus(), &image, &len, err, sizeof(err));
	t2 = now_ms();
	/* the text form is not needed once compiled */
	sigset_free(&e->set);
	sigset_init(&e->set, e->opts.flevel, e->opts.flags & VG_ENGINE_DETECT_PUA, &e->log);
	if (rc == VG_OK) {
		if (cache)
			rc = cache_store(e, key, image, len, &e->db, &stored, &e->image_fd);
		else
			rc = scan_db_open(image, len, true, NULL, 0, false, &e->db);
		image = NULL; /* transferred */
	}
	if (rc != VG_OK) {
		snprintf(e->error, sizeof(e->error), "compiling signatures failed: %s",
			 err[0] ? err : vg_status_str(rc));
		e->state = ENGINE_BROKEN;
		return rc;
	}
	e->cache_state = stored ? VG_CACHE_BUILT : VG_CACHE_NONE;
	e->state = ENGINE_COMPILED;
	vg_log(&e->user_log, VG_LOG_DEBUG,
	       "compiled %llu signatures: parsing %llu ms, compiling %llu ms, storing %llu ms",
	       (unsigned long long)scan_db_signature_count(e->db), (unsigned long long)(t1 - t0),
	       (unsigned long long)(t2 - t1), (unsigned long long)(now_ms() - t2));
	return VG_OK;
}

VG_API enum vg_status vg_engine_image(const struct vg_engine *e, const void **data, size_t *len)
{
	const uint8_t *bytes;
	size_t n;

	if (!e || !data || !len)
		return VG_EINVAL;
	if (e->state != ENGINE_COMPILED || !e->db)
		return VG_ESTATE;
	scan_db_image(e->db, &bytes, &n);
	*data = bytes;
	*len = n;
	return VG_OK;
}

VG_API enum vg_status vg_engine_image_fd(const struct vg_engine *e, int *out)
{
	int fd;

	if (!e || !out)
		return VG_EINVAL;
	if (e->state != ENGINE_COMPILED || e->image_fd < 0)
		return VG_ESTATE;
	fd = fcntl(e->image_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return VG_EIO;
	*out = fd;
	return VG_OK;
}

VG_API enum vg_status vg_engine_open_image_fd(const struct vg_engine_options *opts, int fd,
					       int verify, struct vg_engine **out)
{
	struct vg_engine_options o;
	struct vg_engine *e = NULL;
	struct stat st;
	void *map;
	vg_status rc;

	if (!out || fd < 0)
		return VG_EINVAL;
	if (opts && opts->size != sizeof(*opts))
		return VG_EINVAL;
	if (opts)
		o = *opts;
	else
		vg_engine_options_init(&o);
	o.cache_dir = NULL;
	if (fstat(fd, &st) != 0)
		return VG_EIO;
	if (!S_ISREG(st.st_mode) || st.st_size < 64 || (uint64_t)st.st_size > SIZE_MAX)
		return VG_EFORMAT;
	rc = vg_engine_new(&o, &e);
	if (rc != VG_OK)
		return rc;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		vg_engine_unref(e);
		return VG_EIO;
	}
	/* the scan_db owns the mapping from here on, on failure too */
	rc = scan_db_open(map, (size_t)st.st_size, false, map, (size_t)st.st_size, verify != 0,
			  &e->db);
	if (rc != VG_OK) {
		e->db = NULL;
		vg_engine_unref(e);
		return rc;
	}
	sigset_free(&e->set);
	sigset_init(&e->set, e->opts.flevel, e->opts.flags & VG_ENGINE_DETECT_PUA, &e->log);
	e->state = ENGINE_COMPILED;
	*out = e;
	return VG_OK;
}

VG_API enum vg_cache_state vg_engine_cache_state(const struct vg_engine *e)
{
	return e ? e->cache_state : VG_CACHE_NONE;
}

VG_API const char *vg_engine_error(const struct vg_engine *e)
{
	return e ? e->error : "";
}

VG_API struct vg_engine *vg_engine_ref(struct vg_engine *e)
{
	if (e)
		__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
	return e;
}

VG_API void vg_engine_unref(struct vg_engine *e)
{
	if (!e || __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < e->npool; i++)
		scan_ctx_free(e->pool[i]);
	vg_free(e->pool);
	pthread_mutex_destroy(&e->pool_lock);
	scan_db_free(e->db);
	sigset_free(&e->set);
	for (size_t i = 0; i < e->ninputs; i++)
		vg_free(e->inputs[i].path);
	vg_free(e->inputs);
	vg_free(e->cache_dir);
	if (e->image_fd >= 0)
		close(e->image_fd);
	buf_free(&e->notices);
	vg_free(e);
}

VG_API uint64_t vg_engine_signature_count(const struct vg_engine *e)
{
	if (!e)
		return 0;
	return e->db ? scan_db_signature_count(e->db) : e->set.sigs.n;
}

VG_API size_t vg_engine_db_count(const struct vg_engine *e)
{
	if (!e)
		return 0;
	return e->db ? scan_db_db_count(e->db) : e->set.dbs.n;
}

VG_API enum vg_status vg_engine_db_info(const struct vg_engine *e, size_t i, struct vg_db_info *out)
{
	const struct db_record *r;

	if (!e || !out || i >= vg_engine_db_count(e))
		return VG_EINVAL;
	if (e->db) {
		scan_db_db_info(e->db, i, out);
		return VG_OK;
	}
	r = VEC_AT(&e->set.dbs, struct db_record, i);
	memset(out, 0, sizeof(*out));
	out->path = r->path;
	out->name = r->name;
	out->version = r->version;
	out->build_time = r->build_time;
	out->signatures = r->signatures;
	out->deferred = r->deferred;
	out->skipped = r->skipped;
	out->official = r->official;
	return VG_OK;
}

/* ---------------------------------------------------------------------- */

vg_status engine_ctx_get(const struct vg_engine *ce, struct scan_ctx **out)
{
	struct vg_engine *e = (struct vg_engine *)ce; /* the pool is the one mutable part */
	struct scan_ctx *c = NULL;

	pthread_mutex_lock(&e->pool_lock);
	if (e->npool)
		c = e->pool[--e->npool];
	pthread_mutex_unlock(&e->pool_lock);
	if (c) {
		*out = c;
		return VG_OK;
	}
	return scan_ctx_new(e->db, out);
}

void engine_ctx_put(const struct vg_engine *ce, struct scan_ctx *c)
{
	struct vg_engine *e = (struct vg_engine *)ce;

	pthread_mutex_lock(&e->pool_lock);
	if (e->npool == e->pool_cap) {
		size_t cap = e->pool_cap ? e->pool_cap * 2 : 8;
		struct scan_ctx **p = vg_reallocarray(e->pool, cap, sizeof(*p));
		if (!p) {
			pthread_mutex_unlock(&e->pool_lock);
			scan_ctx_free(c);
			return;
		}
		e->pool = p;
		e->pool_cap = cap;
	}
	e->pool[e->npool++] = c;
	pthread_mutex_unlock(&e->pool_lock);
}

VG_API void vg_scan_options_init(const struct vg_engine *e, struct vg_scan_options *opts)
{
	struct vg_engine_options defaults;

	if (!opts)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->size = sizeof(*opts);
	if (e) {
		opts->limits = e->opts.limits;
	} else {
		vg_engine_options_init(&defaults);
		opts->limits = defaults.limits;
	}
}

static vg_status check_scan_args(const struct vg_engine *e, const struct vg_scan_options *opts,
				 struct vg_scan_summary *out)
{
	if (!e || !out || (opts && opts->size != sizeof(*opts)))
		return VG_EINVAL;
	if (e->state != ENGINE_COMPILED)
		return VG_ESTATE;
	return VG_OK;
}

vg_status engine_scan_mem(const struct vg_engine *e, const uint8_t *data, size_t len,
			  uint64_t bytes_read, const struct vg_scan_options *opts,
			  vg_match_fn *on_match, void *ctx, struct vg_scan_summary *out)
{
	struct vg_scan_options defaults;
	struct scan_input in = {-1, data, len, false, len, 0};
	struct scan_ctx *c;
	vg_status rc;

	if (!opts) {
		vg_scan_options_init(e, &defaults);
		opts = &defaults;
	}
	rc = engine_ctx_get(e, &c);
	if (rc != VG_OK)
		return rc;
	rc = scan_run(c, &in, opts, on_match, ctx, out);
	engine_ctx_put(e, c);
	if (rc == VG_OK && bytes_read > out->bytes_read)
		out->bytes_read = bytes_read;
	return rc;
}

VG_API enum vg_status vg_scan_buffer(const struct vg_engine *e, const void *data, size_t len,
				     const struct vg_scan_options *opts, vg_match_fn *on_match,
				     void *ctx, struct vg_scan_summary *out)
{
	vg_status rc = check_scan_args(e, opts, out);

	if (rc != VG_OK)
		return rc;
	if (!data && len)
		return VG_EINVAL;
	return engine_scan_mem(e, data, len, 0, opts, on_match, ctx, out);
}

VG_API enum vg_status vg_scan_fd(const struct vg_engine *e, int fd,
				 const struct vg_scan_options *opts, vg_match_fn *on_match,
				 void *ctx, struct vg_scan_summary *out)
{
	struct vg_scan_options defaults;
	struct scan_input in;
	struct scan_ctx *c;
	struct stat st;
	vg_status rc = check_scan_args(e, opts, out);

	if (rc != VG_OK)
		return rc;
	if (fd < 0)
		return VG_EINVAL;
	if (!opts) {
		vg_scan_options_init(e, &defaults);
		opts = &defaults;
	}
	if (fstat(fd, &st) != 0)
		return VG_EIO;
	if (!S_ISREG(st.st_mode)) {
		/* A pipe or socket: its size is known only at its end, and
		 * EOF-relative offsets need the size, so collect it first. */
		struct vg_scan_stream *s = NULL;
		uint8_t tmp[65536];
		ssize_t n;

		rc = vg_scan_stream_new(e, opts, &s);
		while (rc == VG_OK) {
			n = read(fd, tmp, sizeof(tmp));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = VG_EIO;
				break;
			}
			if (n == 0)
				break;
			rc = vg_scan_stream_write(s, tmp, (size_t)n);
		}
		if (rc == VG_OK)
			rc = vg_scan_stream_finish(s, on_match, ctx, out);
		vg_scan_stream_free(s);
		return rc;
	}
	off_t here = lseek(fd, 0, SEEK_CUR);
	if (here < 0)
		here = 0;
	memset(&in, 0, sizeof(in));
	in.fd = fd;
	in.fd_is_regular = true;
	in.size = st.st_size > here ? (uint64_t)(st.st_size - here) : 0;
	in.offset = (uint64_t)here;
	rc = engine_ctx_get(e, &c);
	if (rc != VG_OK)
		return rc;
	rc = scan_run(c, &in, opts, on_match, ctx, out);
	engine_ctx_put(e, c);
	return rc;
}
