/*
 * jobs.c - the work the scanning threads do for SCAN, CONTSCAN, MULTISCAN,
 * ALLMATCHSCAN, INSTREAM, FILDES and STATS, with clamd 1.4.6's replies.
 *
 * Folder walks follow clamd's cli_ftw(): trailing slashes are trimmed (and
 * leading duplicate ones skipped) before the walk, files of a folder come
 * before its sub-folders and each group goes in inode order, symlinks are
 * skipped unless FollowFileSymlinks / FollowDirectorySymlinks, other special
 * files are skipped silently. SCAN and ALLMATCHSCAN stop at the first
 * infected file, CONTSCAN goes on, MULTISCAN scans the files of a folder on
 * every thread. The final "<path>: OK" follows clamd's count: printed when
 * nothing was found and not every counted entry failed.
 *
 * Files are opened relative to their folder's descriptor with O_NOFOLLOW
 * (unless following symlinks), so a path swapped for a link while the walk
 * runs is not followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "engines.h"
#include "action.h"
#include "log.h"
#include "worker_client.h"

#define VD_MAX_MATCHES 256u /* ALLMATCHSCAN lines per file */

/* ---------------------------------------------------------------------- */
/* One file or stream through the engine.                                  */

struct matches {
	char *names[VD_MAX_MATCHES];
	size_t n;
	int allmatch;
};

static int on_match(void *ctx, const struct vg_match *m)
{
	struct matches *ms = ctx;
	char *name;

	if ((!ms->allmatch && ms->n >= 1) || ms->n >= VD_MAX_MATCHES)
		return 0;
	name = strdup(m->name != NULL ? m->name : "Unknown.Signature");
	if (name != NULL)
		ms->names[ms->n++] = name;
	return 0;
}

static void matches_free(struct matches *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		free(ms->names[i]);
	ms->n = 0;
}

/* What clamd's cl_strerror() says for the nearest ClamAV error. */
static const char *error_text(enum vg_status st, int err)
{
	switch (st) {
	case VG_EIO:
		return err == EACCES || err == EPERM ? "Access denied" : "Can't read file";
	case VG_ENOMEM:
		return "Can't allocate memory";
	case VG_ETIMEOUT:
		return "Time limit reached";
	case VG_ELIMIT:
		return "Exceeded limit";
	default:
		break;
	}
	return vg_status_str(st);
}

struct scanner {
	struct vd_daemon *d;
	struct vd_conn *c;
	const struct vd_settings *s;
	struct vd_scan_engine se; /* the engine and its sandboxed workers */
	struct vg_engine *e;
	struct vg_scan_options opts;
	unsigned id;
	char term;
};

static void scanner_init(struct scanner *sc, struct vd_daemon *d, struct vd_conn *c, unsigned id,
			 char term, int allmatch)
{
	memset(sc, 0, sizeof(*sc));
	sc->d = d;
	sc->c = c;
	sc->s = d->s;
	sc->id = id;
	sc->term = term;
	vd_engine_acquire_scan(&sc->se);
	sc->e = sc->se.engine;
	vg_scan_options_init(sc->e, &sc->opts);
	sc->opts.limits = d->s->limits;
	sc->opts.flags = (allmatch ? VG_SCAN_ALLMATCH : 0u) |
			 (d->s->alert_exceeds_max ? VG_SCAN_ALERT_EXCEEDS_MAX : 0u);
}

static void scanner_done(struct scanner *sc)
{
	vd_engine_release_scan(&sc->se);
	sc->e = NULL;
}

/* Every file is parsed in a sandboxed worker; failure says why a worker
 * failed ("" otherwise). */
static enum vg_status scan_in_worker(struct scanner *sc, int fd, struct matches *ms,
				     struct vg_scan_summary *sum, int *err, char *failure,
				     size_t failure_len)
{
	return vw_scan(sc->se.workers, fd, 0, &sc->opts, on_match, ms, sum, err, failure,
		       failure_len);
}

/* A descriptor of data in memory for a worker: a sealed memfd. */
static int memory_fd(const unsigned char *mem, size_t len)
{
	int fd = memfd_create("vigild-stream", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, mem + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A read-only descriptor of the same file, at offset 0 (the spool file is
 * open for writing; the worker gets no write access). */
static int read_only_fd(int fd)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

enum result { R_CLEAN, R_FOUND, R_ERROR, R_DENIED, R_SKIPPED };

/* Reply and log the outcome of one scan of `name` (a path, "stream" or
 * "fd[N]"); log_name is what the log says (clamd: instream(peer)). */
static enum result report(struct scanner *sc, const char *name, const char *log_name,
			  enum vg_status st, int err, const struct vg_scan_summary *sum,
			  struct matches *ms, unsigned *found, const char *failure)
{
	if (failure != NULL && failure[0] != '\0') {
		vd_conn_reply(sc->c, sc->id, sc->term, 1, "%s: %s ERROR", name, failure);
		vd_log(VD_LOG_ERROR, "%s: %s ERROR", log_name, failure);
		return R_ERROR;
	}
	if (st != VG_OK) {
		const char *what = error_text(st, err);
		vd_conn_reply(sc->c, sc->id, sc->term, 1, "%s: %s ERROR", name, what);
		vd_log(VD_LOG_INFO, "%s: %s ERROR", log_name, what);
		return R_ERROR;
	}
	if (sum->verdict == VG_VERDICT_FOUND) {
		if (ms->n == 0) {
			vd_conn_reply(sc->c, sc->id, sc->term, 1, "%s: %s FOUND", name,
				      "Unknown.Signature");
			vd_log(VD_LOG_INFO, "%s: %s FOUND", log_name, "Unknown.Signature");
			*found = 1;
			return R_FOUND;
		}
		for (size_t i = 0; i < ms->n; i++) {
			vd_conn_reply(sc->c, sc->id, sc->term, 1, "%s: %s FOUND", name, ms->names[i]);
			vd_log(VD_LOG_INFO, "%s: %s FOUND", log_name, ms->names[i]);
		}
		*found = (unsigned)ms->n;
		return R_FOUND;
	}
	if (sc->s->log_clean)
		vd_log(VD_LOG_INFO, "%s: OK", log_name);
	return R_CLEAN;
}

/* Scan the regular file name in dfd (path is how replies name it). */
static enum result scan_file(struct scanner *sc, int dfd, const char *name, const char *path,
			     int follow, unsigned *found)
{
	struct matches ms = { .allmatch = (sc->opts.flags & VG_SCAN_ALLMATCH) != 0 };
	struct vg_scan_summary sum;
	struct stat st;
	enum vg_status rc;
	enum result r;
	int fd, err, flags;
	char failure[160];

	*found = 0;
	fd = openat(dfd, name, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		err = errno;
		if (err == EACCES || err == EPERM) {
			vd_conn_reply(sc->c, sc->id, sc->term, 1, "%s: Access denied. ERROR", path);
			vd_log(VD_LOG_VERBOSE, "Access denied: %s", path);
			return R_DENIED;
		}
		vd_conn_reply(sc->c, sc->id, sc->term, 1, "%s: Can't open file or directory ERROR",
			      path);
		vd_log(VD_LOG_INFO, "%s: Can't open file or directory ERROR (%s)", path,
		       strerror(err));
		return R_ERROR;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		/* Replaced by something else since the folder was read. */
		close(fd);
		return R_SKIPPED;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	rc = scan_in_worker(sc, fd, &ms, &sum, &err, failure, sizeof(failure));
	r = report(sc, path, path, rc, err, &sum, &ms, found, failure);
	if (r == R_FOUND && vd_action_enabled())
		vd_action_found(fd, path, &st, (const char *const *)ms.names, ms.n);
	close(fd);
	matches_free(&ms);
	return r;
}

/* ---------------------------------------------------------------------- */
/* Folder walks.                                                           */

enum walk_type { WALK_SCAN, WALK_CONT, WALK_MULTI };

struct mscan; /* MULTISCAN's shared counters */

struct walk {
	struct scanner sc;
	enum walk_type type;
	const char *top;     /* the trimmed path */
	int top_same;        /* the trim did not move the start of the path */
	dev_t top_dev;
	dev_t proc_dev;
	int have_proc;
	unsigned long total, errors, infected;
	int stop;
	struct mscan *group;
};

struct mscan {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct scanner *sc;
	unsigned outstanding;
	unsigned total, ok, error, virus;
};

struct mfile_job {
	struct vd_job job;
	struct mscan *g;
	char path[];
};

static void run_mfile(struct vd_job *j)
{
	struct mfile_job *mj = (struct mfile_job *)j;
	struct mscan *g = mj->g;
	enum result r = R_SKIPPED;
	unsigned found;

	if (vd_conn_alive(g->sc->c))
		r = scan_file(g->sc, AT_FDCWD, mj->path, mj->path, g->sc->s->follow_file_symlinks,
			      &found);
	pthread_mutex_lock(&g->mu);
	g->total++;
	if (r == R_FOUND)
		g->virus++;
	else if (r == R_ERROR || r == R_DENIED)
		g->error++;
	else
		g->ok++;
	g->outstanding--;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	free(mj);
}

static int excluded(struct walk *w, const char *path)
{
	const struct vd_settings *s = w->sc.s;

	for (size_t i = 0; i < s->exclude_count; i++) {
		if (regexec(&s->exclude[i], path, 0, NULL, 0) == 0) {
			if (w->type != WALK_MULTI)
				vd_conn_reply(w->sc.c, w->sc.id, w->sc.term, 1, "%s: Excluded", path);
			return 1;
		}
	}
	if (!s->cross_filesystems) {
		struct stat st;
		if (stat(path, &st) == 0 && st.st_dev != w->top_dev) {
			if (w->type != WALK_MULTI)
				vd_conn_reply(w->sc.c, w->sc.id, w->sc.term, 1,
					      "%s: Excluded (another filesystem)", path);
			return 1;
		}
	}
	return 0;
}

static void stat_failed(struct walk *w, const char *path, int err)
{
	w->total++;
	w->errors++;
	vd_conn_reply(w->sc.c, w->sc.id, w->sc.term, 1,
		      "%s: File path check failure: %s. ERROR", path, strerror(err));
	vd_log(VD_LOG_WARNING, "File path check failure on: %s", path);
}

static void visit_file(struct walk *w, int dfd, const char *name, const char *path,
		       const struct stat *st, int is_link)
{
	unsigned found = 0;
	enum result r;

	w->total++;
	if (w->have_proc && st->st_dev == w->proc_dev)
		return; /* clamd leaves /proc alone */
	if (w->type == WALK_MULTI) {
		size_t n = strlen(path);
		struct mfile_job *mj = malloc(sizeof(*mj) + n + 1);
		struct mscan *g = w->group;

		if (mj == NULL) {
			w->errors++;
			return;
		}
		memset(&mj->job, 0, sizeof(mj->job));
		mj->job.run = run_mfile;
		mj->job.task = "MULTISCANFILE";
		mj->job.group = g;
		mj->g = g;
		memcpy(mj->path, path, n + 1);
		pthread_mutex_lock(&g->mu);
		g->outstanding++;
		pthread_mutex_unlock(&g->mu);
		/* Share the files with idle threads; when the queue is full
		 * the walker scans them itself. */
		if (!vd_pool_has_room(w->sc.d->pool) || vd_pool_submit(w->sc.d->pool, &mj->job, 1) != 0)
			run_mfile(&mj->job);
		return;
	}
	r = scan_file(&w->sc, dfd, name, path, is_link, &found);
	switch (r) {
	case R_FOUND:
		w->infected += found;
		if (w->type == WALK_SCAN)
			w->stop = 1;
		break;
	case R_ERROR:
		w->errors++;
		if (w->type == WALK_SCAN)
			w->stop = 1;
		break;
	case R_DENIED:
		w->errors++;
		break;
	case R_CLEAN:
	case R_SKIPPED:
		break;
	}
}

struct entry {
	char *name;
	char *path;
	ino_t ino;
	int is_dir;
	int is_link;
	struct stat st;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->is_dir != y->is_dir)
		return x->is_dir - y->is_dir;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static char *join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = malloc(dl + nl + 2);

	if (p == NULL)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

static void walk_dir(struct walk *w, int parent, const char *name, const char *path, long depth,
		     int via_link);

/* Classify and collect the entries of one open folder. */
static void walk_entries(struct walk *w, DIR *dir, const char *path, long depth)
{
	const struct vd_settings *s = w->sc.s;
	int follow_any = s->follow_dir_symlinks || s->follow_file_symlinks;
	struct entry *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int dfd = dirfd(dir);

	while ((de = readdir(dir)) != NULL) {
		struct entry e;
		int is_link = 0;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_LNK && !follow_any)
			continue; /* clamd does not even look at them */
		memset(&e, 0, sizeof(e));
		e.path = join(path, de->d_name);
		if (e.path == NULL)
			break;
		if (excluded(w, e.path)) {
			free(e.path);
			continue;
		}
		if (fstatat(dfd, de->d_name, &e.st, AT_SYMLINK_NOFOLLOW) != 0) {
			stat_failed(w, e.path, errno);
			free(e.path);
			continue;
		}
		if (S_ISLNK(e.st.st_mode)) {
			is_link = 1;
			if (!follow_any || fstatat(dfd, de->d_name, &e.st, 0) != 0) {
				w->total++; /* skipped link */
				free(e.path);
				continue;
			}
		}
		if (S_ISDIR(e.st.st_mode) && (!is_link || s->follow_dir_symlinks)) {
			e.is_dir = 1;
		} else if (S_ISREG(e.st.st_mode) && (!is_link || s->follow_file_symlinks)) {
			e.is_dir = 0;
		} else {
			w->total++; /* skipped: special file or link not followed */
			free(e.path);
			continue;
		}
		e.is_link = is_link;
		e.ino = de->d_ino;
		e.name = strdup(de->d_name);
		if (e.name == NULL || (n == cap && (cap = cap ? cap * 2 : 32,
						    list = realloc(list, cap * sizeof(*list))) == NULL)) {
			free(e.name);
			free(e.path);
			break;
		}
		list[n++] = e;
	}
	if (list == NULL)
		return;
	qsort(list, n, sizeof(*list), entry_cmp);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &list[i];
		if (!w->stop && vd_conn_alive(w->sc.c)) {
			if (e->is_dir)
				walk_dir(w, dfd, e->name, e->path, depth - 1, e->is_link);
			else
				visit_file(w, dfd, e->name, e->path, &e->st, e->is_link);
		} else {
			w->stop = 1;
		}
		free(e->name);
		free(e->path);
	}
	free(list);
}

static void walk_dir(struct walk *w, int parent, const char *name, const char *path, long depth,
		     int via_link)
{
	DIR *dir;
	int fd;

	if (depth < 0) {
		w->total++;
		vd_log(VD_LOG_WARNING, "Directory recursion limit reached, skipping %s", path);
		return;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (via_link ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		stat_failed(w, path, errno);
		return;
	}
	dir = fdopendir(fd);
	if (dir == NULL) {
		stat_failed(w, path, errno);
		close(fd);
		return;
	}
	walk_entries(w, dir, path, depth);
	closedir(dir);
}

/* clamd's cli_ftw() on the top path. */
static void walk_top(struct walk *w, char *path)
{
	const struct vd_settings *s = w->sc.s;
	char *p = path, *end;
	struct stat st;
	int is_link = 0;

	if (p[0] != '\0' && p[1] != '\0') {
		while (p[0] == '/' && p[1] == '/')
			p++;
		end = p + strlen(p);
		while (end > p && end[-1] == '/')
			end--;
		*end = '\0';
	}
	w->top = p;
	w->top_same = p == path;
	if (stat(p, &st) == 0)
		w->top_dev = st.st_dev;
	if (excluded(w, p))
		return;
	if (lstat(p, &st) != 0) {
		stat_failed(w, p, errno);
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		is_link = 1;
		if (!(s->follow_dir_symlinks || s->follow_file_symlinks) || stat(p, &st) != 0) {
			w->total++; /* skipped link: no reply */
			return;
		}
	}
	if (S_ISDIR(st.st_mode) && (!is_link || s->follow_dir_symlinks)) {
		w->total++; /* the folder itself */
		walk_dir(w, AT_FDCWD, p, p, (long)s->max_dir_recursion, is_link);
	} else if (S_ISREG(st.st_mode) && (!is_link || s->follow_file_symlinks)) {
		visit_file(w, AT_FDCWD, p, p, &st, is_link);
	} else {
		w->total++;
		if (!is_link && w->top_same)
			vd_conn_reply(w->sc.c, w->sc.id, w->sc.term, 1,
				      "%s: Not supported file type ERROR", p);
	}
}

struct path_job {
	struct vd_job job;
	struct vd_daemon *d;
	struct vd_conn *c;
	enum vd_cmd cmd;
	unsigned id;
	char term;
	char path[];
};

static void finish_job(struct vd_conn *c)
{
	vd_conn_job_done(c);
	vd_conn_unref(c);
}

static void run_multiscan(struct walk *w, char *path)
{
	struct mscan g;

	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	g.sc = &w->sc;
	w->group = &g;
	walk_top(w, path);
	/* Scan what is still queued here, then wait for what others scan. */
	for (;;) {
		struct vd_job *j = vd_pool_take_group(w->sc.d->pool, &g);
		if (j != NULL) {
			j->run(j);
			continue;
		}
		pthread_mutex_lock(&g.mu);
		if (g.outstanding == 0) {
			pthread_mutex_unlock(&g.mu);
			break;
		}
		pthread_cond_wait(&g.cv, &g.mu);
		pthread_mutex_unlock(&g.mu);
	}
	if (g.virus == 0 && g.error != g.total)
		vd_conn_reply(w->sc.c, w->sc.id, w->sc.term, 1, "%s: OK", path);
	pthread_cond_destroy(&g.cv);
	pthread_mutex_destroy(&g.mu);
}

static void run_path(struct vd_job *j)
{
	struct path_job *pj = (struct path_job *)j;
	struct vd_conn *c = pj->c;
	const struct vd_settings *s = pj->d->s;
	struct walk w;
	struct stat st;

	memset(&w, 0, sizeof(w));
	if (pj->cmd == VD_CMD_ALLMATCHSCAN && !s->allow_allmatch) {
		vd_conn_reply(c, pj->id, pj->term, 1,
			      "%s: ALLMATCHSCAN command disabled by clamd configuration. ERROR",
			      pj->path);
		goto out;
	}
	scanner_init(&w.sc, pj->d, c, pj->id, pj->term, pj->cmd == VD_CMD_ALLMATCHSCAN);
	if (stat("/proc", &st) == 0 && st.st_size == 0) {
		w.proc_dev = st.st_dev;
		w.have_proc = 1;
	}
	switch (pj->cmd) {
	case VD_CMD_CONTSCAN:
		w.type = WALK_CONT;
		break;
	case VD_CMD_MULTISCAN:
		/* clamd: MULTISCAN only for folders (bb #1869). */
		w.type = stat(pj->path, &st) == 0 && !S_ISDIR(st.st_mode) ? WALK_CONT : WALK_MULTI;
		break;
	default:
		w.type = WALK_SCAN;
		break;
	}
	if (w.type == WALK_MULTI) {
		run_multiscan(&w, pj->path);
	} else {
		walk_top(&w, pj->path);
		if (w.infected == 0 && w.errors != w.total && vd_conn_alive(c))
			vd_conn_reply(c, pj->id, pj->term, 1, "%s: OK", pj->path);
	}
	scanner_done(&w.sc);
out:
	finish_job(c);
	free(pj);
}

static int submit(struct vd_daemon *d, struct vd_conn *c, struct vd_job *job)
{
	if (c->hold_jobs && c->held_job == NULL) {
		c->held_job = job;
		return 0;
	}
	return vd_pool_submit(d->pool, job, 1);
}

/* Count a job for the connection before it can finish. */
static void conn_add_job(struct vd_conn *c)
{
	vd_conn_ref(c);
	pthread_mutex_lock(&c->mu);
	c->pending++;
	pthread_mutex_unlock(&c->mu);
}

int vd_job_path(struct vd_daemon *d, struct vd_conn *c, enum vd_cmd cmd, const char *path,
		unsigned id, char term)
{
	size_t n = strlen(path);
	struct path_job *pj = malloc(sizeof(*pj) + n + 1);

	if (pj == NULL)
		return -1;
	memset(pj, 0, sizeof(*pj));
	pj->job.run = run_path;
	pj->job.task = vd_proto_name(cmd);
	pj->d = d;
	pj->c = c;
	pj->cmd = cmd;
	pj->id = id;
	pj->term = term;
	memcpy(pj->path, path, n + 1);
	conn_add_job(c);
	if (submit(d, c, &pj->job) != 0) {
		finish_job(c);
		free(pj);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* INSTREAM, FILDES, STATS                                                 */

struct stream_job {
	struct vd_job job;
	struct vd_daemon *d;
	struct vd_conn *c;
	struct vd_spool *sp;
	unsigned id;
	char term;
};

static void run_stream(struct vd_job *j)
{
	struct stream_job *sj = (struct stream_job *)j;
	struct scanner sc;
	struct vg_scan_summary sum;
	struct matches ms = { 0 };
	const unsigned char *mem;
	size_t len;
	int fd, wfd, err;
	unsigned found;
	enum vg_status rc;
	char log_name[96];
	char failure[160] = "";

	snprintf(log_name, sizeof(log_name), "instream(%s)", sj->c->peer);
	if (vd_conn_alive(sj->c)) {
		scanner_init(&sc, sj->d, sj->c, sj->id, sj->term, 0);
		vd_spool_view(sj->sp, &mem, &len, &fd);
		wfd = fd >= 0 ? read_only_fd(fd) : memory_fd(mem, len);
		if (wfd >= 0) {
			rc = scan_in_worker(&sc, wfd, &ms, &sum, &err, failure, sizeof(failure));
			close(wfd);
		} else {
			err = errno;
			rc = VG_EIO;
		}
		if (report(&sc, "stream", log_name, rc, err, &sum, &ms, &found, failure) ==
		    R_CLEAN)
			vd_conn_reply(sj->c, sj->id, sj->term, 1, "stream: OK");
		matches_free(&ms);
		scanner_done(&sc);
	}
	vd_spool_free(sj->sp);
	finish_job(sj->c);
	free(sj);
}

int vd_job_stream(struct vd_daemon *d, struct vd_conn *c, struct vd_spool *sp, unsigned id,
		  char term)
{
	struct stream_job *sj = calloc(1, sizeof(*sj));

	if (sj == NULL)
		return -1;
	sj->job.run = run_stream;
	sj->job.task = "INSTREAM";
	sj->d = d;
	sj->c = c;
	sj->sp = sp;
	sj->id = id;
	sj->term = term;
	conn_add_job(c);
	if (submit(d, c, &sj->job) != 0) {
		finish_job(c);
		free(sj);
		return -1;
	}
	return 0;
}

struct fildes_job {
	struct vd_job job;
	struct vd_daemon *d;
	struct vd_conn *c;
	int fd;
	unsigned id;
	char term;
};

/*
 * A descriptor passed with FILDES shares its file offset with every copy of
 * it: the client's, and the other descriptors it passed for the same open
 * file (clamdscan --fdpass and clamd's own tests send one file several
 * times). The engine reads from the offset, so scans of one file are taken
 * one at a time: each puts the offset at 0, scans, and puts it back.
 */
struct busy_file {
	struct busy_file *next;
	dev_t dev;
	ino_t ino;
};

static pthread_mutex_t busy_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_cv = PTHREAD_COND_INITIALIZER;
static struct busy_file *busy_files;

static void busy_take(struct busy_file *me, const struct stat *st)
{
	me->dev = st->st_dev;
	me->ino = st->st_ino;
	pthread_mutex_lock(&busy_mu);
	for (;;) {
		struct busy_file *b = busy_files;
		while (b != NULL && !(b->dev == me->dev && b->ino == me->ino))
			b = b->next;
		if (b == NULL)
			break;
		pthread_cond_wait(&busy_cv, &busy_mu);
	}
	me->next = busy_files;
	busy_files = me;
	pthread_mutex_unlock(&busy_mu);
}

static void busy_release(struct busy_file *me)
{
	struct busy_file **pp;

	pthread_mutex_lock(&busy_mu);
	for (pp = &busy_files; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == me) {
			*pp = me->next;
			break;
		}
	}
	pthread_cond_broadcast(&busy_cv);
	pthread_mutex_unlock(&busy_mu);
}

static void run_fildes(struct vd_job *j)
{
	struct fildes_job *fj = (struct fildes_job *)j;
	struct busy_file me;
	struct scanner sc;
	struct vg_scan_summary sum;
	struct matches ms = { 0 };
	struct stat st;
	char name[32];
	unsigned found;
	enum vg_status rc;
	off_t here;
	int err;
	char failure[160];

	snprintf(name, sizeof(name), "fd[%d]", fj->fd);
	if (!vd_conn_alive(fj->c))
		goto out;
	if (fstat(fj->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		vd_conn_reply(fj->c, fj->id, fj->term, 1, "%s: Not a regular file ERROR", name);
		vd_log(VD_LOG_INFO, "%s: Not a regular file. ERROR", name);
		goto out;
	}
	scanner_init(&sc, fj->d, fj->c, fj->id, fj->term, 0);
	/* clamd scans the whole file whatever the descriptor's offset. */
	busy_take(&me, &st);
	here = lseek(fj->fd, 0, SEEK_CUR);
	if (here > 0)
		(void)lseek(fj->fd, 0, SEEK_SET);
	{
		/* A descriptor the client opened for writing goes to the worker
		 * read-only when it can be reopened so. */
		int flags = fcntl(fj->fd, F_GETFL);
		int ro = flags >= 0 && (flags & O_ACCMODE) != O_RDONLY ? read_only_fd(fj->fd) : -1;
		rc = scan_in_worker(&sc, ro >= 0 ? ro : fj->fd, &ms, &sum, &err, failure,
				    sizeof(failure));
		if (ro >= 0)
			close(ro);
	}
	if (here >= 0)
		(void)lseek(fj->fd, here, SEEK_SET);
	busy_release(&me);
	if (report(&sc, name, name, rc, err, &sum, &ms, &found, failure) == R_CLEAN)
		vd_conn_reply(fj->c, fj->id, fj->term, 1, "%s: OK", name);
	matches_free(&ms);
	scanner_done(&sc);
out:
	close(fj->fd);
	finish_job(fj->c);
	free(fj);
}

int vd_job_fildes(struct vd_daemon *d, struct vd_conn *c, int fd, unsigned id, char term)
{
	struct fildes_job *fj = calloc(1, sizeof(*fj));

	if (fj == NULL)
		return -1;
	fj->job.run = run_fildes;
	fj->job.task = "FILDES";
	fj->d = d;
	fj->c = c;
	fj->fd = fd;
	fj->id = id;
	fj->term = term;
	conn_add_job(c);
	if (submit(d, c, &fj->job) != 0) {
		finish_job(c);
		free(fj);
		return -1;
	}
	return 0;
}

struct stats_job {
	struct vd_job job;
	struct vd_daemon *d;
	struct vd_conn *c;
	unsigned id;
	char term;
};

/* Resident memory in MiB, for the MEMSTATS line. */
static double rss_mib(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long size = 0, resident = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (double)resident * (double)(page > 0 ? page : 4096) / (1024.0 * 1024.0);
}

static void run_stats(struct vd_job *j)
{
	struct stats_job *sj = (struct stats_job *)j;
	char body[16384], mem[256];
	double rss = rss_mib();

	snprintf(mem, sizeof(mem),
		 "heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used %.3fM "
		 "pools_total %.3fM",
		 rss, rss);
	vd_pool_stats(sj->d->pool, body, sizeof(body),
		      "VALID PRIMARY", mem);
	vd_conn_reply(sj->c, sj->id, sj->term, 1, "%s", body);
	finish_job(sj->c);
	free(sj);
}

int vd_job_stats(struct vd_daemon *d, struct vd_conn *c, unsigned id, char term)
{
	struct stats_job *sj = calloc(1, sizeof(*sj));

	if (sj == NULL)
		return -1;
	sj->job.run = run_stats;
	sj->job.task = "STATS";
	sj->d = d;
	sj->c = c;
	sj->id = id;
	sj->term = term;
	conn_add_job(c);
	if (submit(d, c, &sj->job) != 0) {
		finish_job(c);
		free(sj);
		return -1;
	}
	return 0;
}
