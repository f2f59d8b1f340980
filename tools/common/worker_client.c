/*
 * worker_client.c - starting, feeding, checking and retiring vigil-workers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "worker_client.h"

#ifndef VG_WORKER_PATH
#define VG_WORKER_PATH "/usr/local/libexec/vigil/vigil-worker"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define VW_SANITIZED 1 /* the worker skips seccomp: see docs/THREAT-MODEL.md */
#else
#define VW_SANITIZED 0
#endif

#define HELLO_TIMEOUT_MS 10000

extern char **environ;

struct vw_worker {
	struct vw_worker *next;
	pid_t pid;
	int sock;
	unsigned files;
	uint64_t idle_since; /* ms, when put back */
};

struct vw_pool {
	struct vw_pool_config cfg;
	char worker_path[PATH_MAX];
	char memory_arg[64];
	char flags_arg[64];
	int image_fd;
	pthread_mutex_t mu;
	struct vw_worker *idle;
	struct vw_worker *spare; /* started ahead, hello not read yet */
	struct vg_engine *engine; /* a reference: the image comes from it */
	unsigned busy;            /* scans in vw_scan() */
	/* idle trimming (cfg.idle_ms) */
	pthread_t trimmer;
	pthread_cond_t trim_cv;
	int trimming, stopping;
	struct vw_layers layers;
	uint64_t seq; /* guarded by mu */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int vw_find_worker(char *out, size_t len)
{
	const char *env = getenv("VIGIL_WORKER");
	char self[PATH_MAX];
	ssize_t n;

	if (env != NULL && *env != '\0') {
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(out, len, "%s/vigil-worker", self);
			if (access(out, X_OK) == 0)
				return 0;
			/* the build tree: tools/vigil/vigil, tools/worker/vigil-worker */
			snprintf(out, len, "%s/../worker/vigil-worker", self);
			if (access(out, X_OK) == 0) {
				char real[PATH_MAX];
				if (realpath(out, real) != NULL)
					snprintf(out, len, "%s", real);
				return 0;
			}
		}
	}
	snprintf(out, len, "%s", VG_WORKER_PATH);
	return access(out, X_OK) == 0 ? 0 : -1;
}

static void retire(struct vw_worker *w)
{
	int st;

	if (w == NULL)
		return;
	close(w->sock);
	(void)kill(w->pid, SIGKILL);
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	free(w);
}

/* Why the worker went away (it is reaped here). */
static void reap_reason(struct vw_worker *w, const char *fallback, char *buf, size_t len)
{
	int st = 0;
	pid_t r;

	close(w->sock);
	w->sock = -1;
	/* The socket closed: the process is gone or going. */
	do
		r = waitpid(w->pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r == w->pid && WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		const char *name = sigabbrev_np(sig);
		if (sig == SIGSYS)
			snprintf(buf, len,
				 "Scan worker killed by SIGSYS (sandbox: forbidden system call)");
		else
			snprintf(buf, len, "Scan worker killed by SIG%s", name != NULL ? name : "?");
	} else if (r == w->pid && WIFEXITED(st)) {
		snprintf(buf, len, "Scan worker exited with status %d", WEXITSTATUS(st));
	} else {
		snprintf(buf, len, "%s", fallback);
	}
	free(w);
}

/* A worker that broke the protocol is killed: it may be compromised. */
static void fail_kill(struct vw_worker *w, char *buf, size_t len, const char *why)
{
	snprintf(buf, len, "Scan worker sent a malformed reply (%s)", why);
	retire(w);
}

/* Receives one reply. 1: got one; 0: the worker is gone (EOF or error);
 * -1: malformed (why set); -2: deadline. */
static int recv_reply(int sock, struct vw_reply *r, uint64_t deadline, char *why, size_t whylen)
{
	struct iovec iov = { r, sizeof(*r) };
	struct msghdr mh;
	ssize_t n;

	for (;;) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		int timeout = -1, pr;
		if (deadline != 0) {
			uint64_t now = now_ms();
			if (now >= deadline)
				return -2;
			timeout = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
		}
		pr = poll(&pfd, 1, timeout);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return 0;
		if (pr == 0)
			return -2;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		/* No control buffer: descriptors a worker tries to pass are dropped. */
		n = recvmsg(sock, &mh, MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		break;
	}
	if (n <= 0)
		return 0;
	if ((size_t)n != sizeof(*r) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		snprintf(why, whylen, "message of %zd bytes%s", n,
			 mh.msg_flags & MSG_CTRUNC ? " with descriptors" : "");
		return -1;
	}
	return vw_reply_check(r, why, whylen) == 0 ? 1 : -1;
}

/* Starts a worker process; its hello is read by spawn_finish(). */
static int spawn_start(struct vw_pool *p, struct vw_worker **out, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char *argv[6];
	int argc = 0, sv[2], child = -1, rc;
	struct vw_worker *w;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "Can't start a scan worker: socketpair: %s", strerror(errno));
		return -1;
	}
	/* Above the numbers the worker expects, so dup2 always makes a copy
	 * without close-on-exec. */
	child = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
	close(sv[1]);
	if (child < 0) {
		close(sv[0]);
		snprintf(err, errlen, "Can't start a scan worker: %s", strerror(errno));
		return -1;
	}
	argv[argc++] = p->worker_path;
	if (p->cfg.insecure_no_sandbox)
		argv[argc++] = (char *)"--no-sandbox";
	argv[argc++] = p->memory_arg;
	argv[argc++] = p->flags_arg;
	argv[argc] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, child, VW_FD_SOCKET);
	posix_spawn_file_actions_adddup2(&fa, p->image_fd, VW_FD_IMAGE);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, p->worker_path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(child);
	if (rc != 0) {
		close(sv[0]);
		snprintf(err, errlen, "Can't start the scan worker %s: %s", p->worker_path,
			 strerror(rc));
		return -1;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		close(sv[0]);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		snprintf(err, errlen, "Can't start a scan worker: out of memory");
		return -1;
	}
	w->pid = pid;
	w->sock = sv[0];
	w->idle_since = now_ms();
	*out = w;
	return 0;
}

/* Waits for a started worker's hello: the layers it achieved. */
static int spawn_finish(struct vw_pool *p, struct vw_worker *w, struct vw_layers *layers,
			char *err, size_t errlen)
{
	struct vw_reply hello;
	char why[128];
	int rc;

	rc = recv_reply(w->sock, &hello, now_ms() + HELLO_TIMEOUT_MS, why, sizeof(why));
	if (rc != 1 || hello.type != VW_HELLO) {
		char reason[160];
		if (rc == 0) {
			reap_reason(w, "Scan worker failed", reason, sizeof(reason));
			snprintf(err, errlen, "The scan worker %s did not start: %s", p->worker_path,
				 reason);
		} else {
			snprintf(err, errlen, "The scan worker %s did not start: %s",
				 p->worker_path, rc == -2 ? "no answer" : why);
			retire(w);
		}
		return -1;
	}
	layers->layers = hello.layers;
	layers->landlock_abi = hello.landlock_abi;
	layers->errors = hello.layer_errors;
	return 0;
}

static int spawn(struct vw_pool *p, struct vw_worker **out, struct vw_layers *layers, char *err,
		 size_t errlen)
{
	struct vw_worker *w;

	if (spawn_start(p, &w, err, errlen) != 0)
		return -1;
	if (spawn_finish(p, w, layers, err, errlen) != 0)
		return -1; /* w is gone */
	*out = w;
	return 0;
}

/* Without a cache file, the database goes to workers as a sealed memfd:
 * nobody can change it after this, and every worker maps the same pages. */
static int export_image(struct vw_pool *p, const void *image, size_t len, char *err,
			size_t errlen)
{
	size_t done = 0;

	p->image_fd = memfd_create("vigil-database", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (p->image_fd < 0) {
		snprintf(err, errlen, "Can't hand the database to scan workers: memfd_create: %s",
			 strerror(errno));
		return -1;
	}
	while (done < len) {
		ssize_t n = write(p->image_fd, (const char *)image + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "Can't hand the database to scan workers: %s",
				 strerror(n < 0 ? errno : EIO));
			return -1;
		}
		done += (size_t)n;
	}
	if (fcntl(p->image_fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
		snprintf(err, errlen, "Can't seal the database for scan workers: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void retire_all(struct vw_worker **ws, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		retire(ws[i]);
}

/* The descriptor workers map the database from: the engine's cache file
 * when it has one, else a sealed memfd copy. Numbered above what the
 * worker expects (see spawn). Called with no worker alive or under mu. */
static int open_image(struct vw_pool *p, char *err, size_t errlen)
{
	const void *image;
	size_t len;

	if (p->image_fd >= 0)
		return 0;
	if (vg_engine_image_fd(p->engine, &p->image_fd) != VG_OK) {
		if (vg_engine_image(p->engine, &image, &len) != VG_OK) {
			snprintf(err, errlen, "The compiled database cannot be handed to scan workers");
			return -1;
		}
		if (export_image(p, image, len, err, errlen) != 0) {
			if (p->image_fd >= 0)
				close(p->image_fd);
			p->image_fd = -1;
			return -1;
		}
	}
	if (p->image_fd < 10) {
		int high = fcntl(p->image_fd, F_DUPFD_CLOEXEC, 10);
		close(p->image_fd);
		p->image_fd = high;
		if (high < 0) {
			snprintf(err, errlen, "Can't hand the database to scan workers: %s",
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Daemons: workers idle for cfg.idle_ms are stopped, and with no worker
 * left the database descriptor is closed too, so an idle daemon holds
 * nothing for its workers. */
static void *trim_main(void *arg)
{
	struct vw_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->stopping) {
		struct timespec until;
		struct vw_worker **pp, *old = NULL;
		uint64_t now;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)(p->cfg.idle_ms / 4000);
		until.tv_nsec += (long)((p->cfg.idle_ms / 4) % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->trim_cv, &p->mu, &until);
		if (p->stopping)
			break;
		now = now_ms();
		for (pp = &p->idle; *pp != NULL;) {
			struct vw_worker *w = *pp;
			if (now - w->idle_since >= p->cfg.idle_ms) {
				*pp = w->next;
				w->next = old;
				old = w;
			} else {
				pp = &w->next;
			}
		}
		if (p->idle == NULL && p->busy == 0 && p->spare != NULL) {
			p->spare->next = old;
			old = p->spare;
			p->spare = NULL;
		}
		if (p->idle == NULL && p->spare == NULL && p->busy == 0 && p->image_fd >= 0) {
			close(p->image_fd);
			p->image_fd = -1;
		}
		pthread_mutex_unlock(&p->mu);
		while (old != NULL) {
			struct vw_worker *next = old->next;
			retire(old);
			old = next;
		}
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int vw_pool_new(const struct vg_engine *e, const struct vw_pool_config *cfg, struct vw_pool **out,
		char *err, size_t errlen)
{
	struct vw_pool *p;
	struct vw_worker *w = NULL, *more[64];
	unsigned n_more;
	const void *image;
	size_t len;

	if (vg_engine_image(e, &image, &len) != VG_OK) {
		snprintf(err, errlen, "The compiled database cannot be handed to scan workers");
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "Out of memory");
		return -1;
	}
	p->cfg = *cfg;
	if (p->cfg.files_per_worker == 0)
		p->cfg.files_per_worker = VW_DEFAULT_FILES_PER_WORKER;
	if (p->cfg.memory_limit == 0)
		p->cfg.memory_limit = VW_DEFAULT_MEMORY_LIMIT;
	p->image_fd = -1;
	pthread_mutex_init(&p->mu, NULL);
	snprintf(p->memory_arg, sizeof(p->memory_arg), "--memory-limit=%llu",
		 (unsigned long long)p->cfg.memory_limit);
	snprintf(p->flags_arg, sizeof(p->flags_arg), "--engine-flags=%u", p->cfg.engine_flags);
	if (cfg->worker_path != NULL)
		snprintf(p->worker_path, sizeof(p->worker_path), "%s", cfg->worker_path);
	else if (vw_find_worker(p->worker_path, sizeof(p->worker_path)) != 0) {
		snprintf(err, errlen,
			 "Can't find the scan worker (vigil-worker; looked beside this program and "
			 "at %s): reinstall vigil or set VIGIL_WORKER",
			 VG_WORKER_PATH);
		goto fail;
	}
	p->engine = vg_engine_ref((struct vg_engine *)e);
	if (open_image(p, err, errlen) != 0)
		goto fail;
	/* Every thread's worker starts at once, on every core; the first one's
	 * hello says which layers hold. */
	n_more = p->cfg.prestart > 1 ? p->cfg.prestart - 1 : 0;
	if (n_more > 64)
		n_more = 64;
	if (spawn_start(p, &w, err, errlen) != 0)
		goto fail;
	for (unsigned i = 0; i < n_more; i++)
		if (spawn_start(p, &more[i], err, errlen) != 0)
			more[i] = NULL;
	if (spawn_finish(p, w, &p->layers, err, errlen) != 0) {
		retire_all(more, n_more);
		goto fail;
	}
	if (!(p->layers.layers & VW_LAYER_SECCOMP) && !p->cfg.insecure_no_sandbox &&
	    !VW_SANITIZED) {
		snprintf(err, errlen,
			 "The scan worker could not install its seccomp filter (%s): refusing to "
			 "scan without a sandbox. Use a kernel with seccomp, or set the insecure "
			 "option --insecure-no-sandbox (vigild: InsecureNoSandbox yes) to scan "
			 "anyway",
			 strerror(p->layers.errors.seccomp ? p->layers.errors.seccomp : ENOSYS));
		retire(w);
		retire_all(more, n_more);
		goto fail;
	}
	p->idle = w;
	for (unsigned i = 0; i < n_more; i++) {
		struct vw_layers l;
		char ignored[256];
		if (more[i] == NULL || spawn_finish(p, more[i], &l, ignored, sizeof(ignored)) != 0)
			continue; /* one starts on demand instead */
		if (l.layers != p->layers.layers) {
			retire(more[i]);
			continue;
		}
		more[i]->next = p->idle;
		p->idle = more[i];
	}
	pthread_cond_init(&p->trim_cv, NULL);
	if (p->cfg.idle_ms != 0 && pthread_create(&p->trimmer, NULL, trim_main, p) == 0)
		p->trimming = 1;
	*out = p;
	return 0;
fail:
	if (p->image_fd >= 0)
		close(p->image_fd);
	vg_engine_unref(p->engine);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return -1;
}

void vw_pool_layers(const struct vw_pool *p, struct vw_layers *out)
{
	*out = p->layers;
}

/* An idle worker, else the spare (*fresh set: its hello is still to be
 * read), else NULL. */
static struct vw_worker *take_idle(struct vw_pool *p, uint64_t *seq, int *fresh)
{
	struct vw_worker *w;

	*fresh = 0;
	pthread_mutex_lock(&p->mu);
	w = p->idle;
	if (w != NULL) {
		p->idle = w->next;
	} else if (p->spare != NULL) {
		w = p->spare;
		p->spare = NULL;
		*fresh = 1;
	}
	*seq = ++p->seq;
	pthread_mutex_unlock(&p->mu);
	if (w != NULL)
		w->next = NULL;
	return w;
}

/* Start a replacement ahead of need, so that retiring a worker does not
 * make the next file wait for a start-up (mapping and warming the engine
 * takes a while with a large database); it starts on another core. */
static void start_spare(struct vw_pool *p)
{
	struct vw_worker *w;
	char err[256];
	int have;

	pthread_mutex_lock(&p->mu);
	have = p->spare != NULL;
	pthread_mutex_unlock(&p->mu);
	if (have || spawn_start(p, &w, err, sizeof(err)) != 0)
		return; /* a failure shows again on a synchronous start */
	pthread_mutex_lock(&p->mu);
	if (p->spare == NULL) {
		p->spare = w;
		w = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	retire(w);
}

/* Retire w and have a replacement starting. */
static void retire_and_replace(struct vw_pool *p, struct vw_worker *w)
{
	retire(w);
	start_spare(p);
}

static void put_idle(struct vw_pool *p, struct vw_worker *w)
{
	w->idle_since = now_ms();
	pthread_mutex_lock(&p->mu);
	w->next = p->idle;
	p->idle = w;
	pthread_mutex_unlock(&p->mu);
}

static int send_request(struct vw_worker *w, const struct vw_request *q, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)q, sizeof(*q) };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		n = sendmsg(w->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*q) ? 0 : -1;
}

/* A worker for the next request: an idle one, the spare, or a new one,
 * with the pool's sandbox layers. NULL with failure set. */
static struct vw_worker *acquire(struct vw_pool *p, char *failure, size_t failure_len)
{
	struct vw_layers layers;
	struct vw_worker *w;
	uint64_t seq;
	int fresh;

	w = take_idle(p, &seq, &fresh);
	if (w != NULL && fresh && spawn_finish(p, w, &layers, failure, failure_len) != 0)
		w = NULL; /* a spare that failed: start one here */
	else if (w != NULL && fresh && layers.layers != p->layers.layers)
		goto other_layers;
	if (w == NULL) {
		if (spawn(p, &w, &layers, failure, failure_len) != 0)
			return NULL;
		if (layers.layers != p->layers.layers)
			goto other_layers;
	}
	failure[0] = '\0';
	return w;
other_layers:
	snprintf(failure, failure_len, "Scan worker started with other sandbox layers");
	retire(w);
	return NULL;
}

static uint64_t next_seq(struct vw_pool *p)
{
	uint64_t seq;

	pthread_mutex_lock(&p->mu);
	seq = ++p->seq;
	pthread_mutex_unlock(&p->mu);
	return seq;
}

static void build_request(struct vw_request *q, uint64_t seq, int stream,
			  const struct vg_scan_options *opts)
{
	vw_request_init(q, seq, stream ? VW_MODE_STREAM : VW_MODE_FD);
	q->flags = opts->flags;
	q->limits.max_filesize = opts->limits.max_filesize;
	q->limits.max_scansize = opts->limits.max_scansize;
	q->limits.max_scantime_ms = opts->limits.max_scantime_ms;
	q->limits.max_recursion = opts->limits.max_recursion;
	q->limits.max_files = opts->limits.max_files;
}

/* Receives the replies to request seq until its VW_DONE. Returns 1 with
 * the worker still usable, 0 when the worker is gone (reaped or killed:
 * failure says why, w is freed). */
static int collect_one(struct vw_pool *p, struct vw_worker *w, uint64_t seq, uint64_t deadline,
		       vg_match_fn *on_match, void *ctx, struct vw_reply *r, char *failure,
		       size_t failure_len)
{
	uint32_t got = 0;
	int delivering = 1;
	char why[128];

	for (;;) {
		int rc = recv_reply(w->sock, r, deadline, why, sizeof(why));
		if (rc == 0) {
			reap_reason(w, "Scan worker failed", failure, failure_len);
			return 0;
		}
		if (rc == -2) {
			snprintf(failure, failure_len,
				 "Scan worker stopped at the deadline (%llu ms)",
				 (unsigned long long)p->cfg.deadline_ms);
			retire(w);
			return 0;
		}
		if (rc < 0) {
			fail_kill(w, failure, failure_len, why);
			return 0;
		}
		if (r->seq != seq || r->type == VW_HELLO) {
			fail_kill(w, failure, failure_len, "out of sequence");
			return 0;
		}
		if (r->type == VW_MATCH) {
			const char *path[VW_MAX_DEPTH];
			struct vg_match m;
			size_t off = 0;
			if (++got > VW_MAX_MATCHES) {
				fail_kill(w, failure, failure_len, "too many matches");
				return 0;
			}
			if (!delivering || on_match == NULL)
				continue;
			for (uint32_t i = 0; i < r->depth; i++) {
				path[i] = r->path + off;
				off += strlen(r->path + off) + 1;
			}
			memset(&m, 0, sizeof(m));
			m.name = r->name;
			m.kind = (enum vg_sig_kind)r->kind;
			m.database = r->has_database ? r->database : NULL;
			m.offset = r->offset;
			m.offset_known = (int)r->offset_known;
			m.container_path = r->depth ? path : NULL;
			m.container_depth = r->depth;
			if (on_match(ctx, &m) != 0)
				delivering = 0;
			continue;
		}
		/* VW_DONE */
		if (r->matches != got) {
			fail_kill(w, failure, failure_len, "match count");
			return 0;
		}
		if (!delivering)
			r->stopped = 1;
		return 1;
	}
}

/* The verdict of a VW_DONE. */
static enum vg_status done_status(const struct vw_reply *r, struct vg_scan_summary *sum, int *err)
{
	if (r->status != VG_OK) {
		*err = r->err;
		return (enum vg_status)r->status;
	}
	sum->verdict = (enum vg_verdict)r->verdict;
	sum->matches = r->matches;
	sum->bytes_scanned = r->bytes_scanned;
	sum->bytes_read = r->bytes_read;
	sum->limit = (enum vg_limit_hit)r->limit;
	sum->stopped = (int)r->stopped;
	return VG_OK;
}

/* After a file: retired on an error or at its file count, else idle. */
static void after_file(struct vw_pool *p, struct vw_worker *w, enum vg_status st)
{
	w->files++;
	if (st != VG_OK) {
		retire(w); /* any error: a fresh worker for the next file */
	} else if (w->files >= p->cfg.files_per_worker) {
		retire_and_replace(p, w);
	} else {
		/* the last tenth of its files: have the replacement warm up */
		if (w->files >= p->cfg.files_per_worker - p->cfg.files_per_worker / 10)
			start_spare(p);
		put_idle(p, w);
	}
}

static enum vg_status scan_once(struct vw_pool *p, int fd, int stream,
				const struct vg_scan_options *opts, vg_match_fn *on_match, void *ctx,
				struct vg_scan_summary *sum, int *err, char *failure,
				size_t failure_len)
{
	struct vw_request q;
	struct vw_reply r;
	struct vw_worker *w;
	uint64_t deadline = 0;
	enum vg_status st;

	failure[0] = '\0';
	*err = 0;
	memset(sum, 0, sizeof(*sum));
	build_request(&q, next_seq(p), stream, opts);
	/* An idle worker may have died meanwhile: one fresh try. */
	for (int attempt = 0;; attempt++) {
		w = acquire(p, failure, failure_len);
		if (w == NULL)
			return VG_EIO;
		if (send_request(w, &q, fd) == 0)
			break;
		retire(w);
		if (attempt == 1) {
			snprintf(failure, failure_len, "Can't hand the file to a scan worker");
			return VG_EIO;
		}
	}
	if (!stream && p->cfg.deadline_ms != 0)
		deadline = now_ms() + p->cfg.deadline_ms;
	if (!collect_one(p, w, q.seq, deadline, on_match, ctx, &r, failure, failure_len))
		return VG_EIO;
	st = done_status(&r, sum, err);
	after_file(p, w, st);
	return st;
}

enum vg_status vw_scan(struct vw_pool *p, int fd, int stream, const struct vg_scan_options *opts,
		       vg_match_fn *on_match, void *ctx, struct vg_scan_summary *sum, int *err,
		       char *failure, size_t failure_len)
{
	enum vg_status st;
	int rc;

	pthread_mutex_lock(&p->mu);
	p->busy++;
	rc = open_image(p, failure, failure_len);
	pthread_mutex_unlock(&p->mu);
	if (rc != 0) {
		*err = 0;
		memset(sum, 0, sizeof(*sum));
		st = VG_EIO;
	} else {
		st = scan_once(p, fd, stream, opts, on_match, ctx, sum, err, failure, failure_len);
	}
	pthread_mutex_lock(&p->mu);
	p->busy--;
	pthread_mutex_unlock(&p->mu);
	return st;
}

/* ---- lanes: a thread's own worker, with the next file handed over while
 * the current one is scanned ---- */

struct lane_req {
	int fd;
	int sent;   /* to the lane's current worker */
	int resend; /* a lost worker had it: it may have read part of it */
	int unsendable; /* and it cannot be rewound */
	off_t off0; /* where the file was when submitted */
	struct vw_request q;
	vg_match_fn *on_match;
	void *ctx;
};

struct vw_lane {
	struct vw_pool *p;
	struct vw_worker *w;
	unsigned sent_on_w; /* requests w holds that are not answered yet */
	struct lane_req req[VW_LANE_DEPTH];
	unsigned head, n;
};

struct vw_lane *vw_lane_new(struct vw_pool *p)
{
	struct vw_lane *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->p = p;
	pthread_mutex_lock(&p->mu);
	p->busy++;
	pthread_mutex_unlock(&p->mu);
	return l;
}

unsigned vw_lane_pending(const struct vw_lane *l)
{
	return l->n;
}

/* Sends what is not sent yet, in order, while the worker takes more. */
static void lane_send(struct vw_lane *l)
{
	struct vw_pool *p = l->p;

	for (unsigned i = 0; i < l->n; i++) {
		struct lane_req *r = &l->req[(l->head + i) % VW_LANE_DEPTH];
		if (r->sent)
			continue;
		if (l->w == NULL || l->w->files + l->sent_on_w >= p->cfg.files_per_worker)
			return; /* a worker (or a fresh one) when this is collected */
		/* the engine reads from the descriptor's position on */
		if (r->resend && (r->off0 < 0 || lseek(r->fd, r->off0, SEEK_SET) != r->off0)) {
			r->unsendable = 1; /* the collect reports it */
			return;
		}
		if (send_request(l->w, &r->q, r->fd) != 0)
			return; /* tried again when this is collected */
		r->sent = 1;
		l->sent_on_w++;
	}
}

void vw_lane_submit(struct vw_lane *l, int fd, const struct vg_scan_options *opts,
		    vg_match_fn *on_match, void *ctx)
{
	struct lane_req *r = &l->req[(l->head + l->n) % VW_LANE_DEPTH];

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->off0 = lseek(fd, 0, SEEK_CUR);
	r->on_match = on_match;
	r->ctx = ctx;
	build_request(&r->q, next_seq(l->p), 0, opts);
	l->n++;
	lane_send(l);
}

/* The worker is gone or was retired: what it held is sent again. */
static void lane_lost_worker(struct vw_lane *l)
{
	l->w = NULL;
	l->sent_on_w = 0;
	for (unsigned i = 0; i < l->n; i++) {
		struct lane_req *r = &l->req[(l->head + i) % VW_LANE_DEPTH];
		if (r->sent)
			r->resend = 1;
		r->sent = 0;
	}
}

void *vw_lane_collect(struct vw_lane *l, enum vg_status *status, struct vg_scan_summary *sum,
		      int *err, char *failure, size_t failure_len)
{
	struct vw_pool *p = l->p;
	struct lane_req *r = &l->req[l->head];
	struct vw_reply reply;
	uint64_t deadline = 0;
	void *ctx = r->ctx;
	int rc;

	failure[0] = '\0';
	*err = 0;
	memset(sum, 0, sizeof(*sum));
	pthread_mutex_lock(&p->mu);
	rc = open_image(p, failure, failure_len);
	pthread_mutex_unlock(&p->mu);
	if (rc != 0) {
		*status = VG_EIO;
		goto pop;
	}
	/* Not sent yet: everything before it is answered, so the worker holds
	 * nothing; a fresh one if it is at its file count or cannot take it. */
	for (int attempt = 0; !r->sent; attempt++) {
		if (l->w != NULL && l->w->files >= p->cfg.files_per_worker) {
			retire_and_replace(p, l->w);
			lane_lost_worker(l);
		}
		if (l->w == NULL) {
			l->w = acquire(p, failure, failure_len);
			if (l->w == NULL) {
				*status = VG_EIO;
				goto pop;
			}
		}
		lane_send(l);
		if (r->sent)
			break;
		if (r->unsendable) {
			snprintf(failure, failure_len,
				 "Scan worker failed with this file queued, and the file cannot be "
				 "read again from its start");
			*status = VG_EIO;
			goto pop;
		}
		retire(l->w);
		lane_lost_worker(l);
		if (attempt == 1) {
			snprintf(failure, failure_len, "Can't hand the file to a scan worker");
			*status = VG_EIO;
			goto pop;
		}
	}
	if (p->cfg.deadline_ms != 0)
		deadline = now_ms() + p->cfg.deadline_ms;
	if (!collect_one(p, l->w, r->q.seq, deadline, r->on_match, r->ctx, &reply, failure,
			 failure_len)) {
		lane_lost_worker(l); /* collect_one freed it */
		*status = VG_EIO;
		goto pop;
	}
	l->sent_on_w--;
	*status = done_status(&reply, sum, err);
	l->w->files++;
	if (*status != VG_OK) {
		/* any error: a fresh worker for the next file (one it may have
		 * begun is scanned again from where it started) */
		retire(l->w);
		lane_lost_worker(l);
	} else if (l->w->files >= p->cfg.files_per_worker - p->cfg.files_per_worker / 10) {
		start_spare(p); /* the last tenth of its files: the replacement warms up */
	}
pop:
	l->head = (l->head + 1) % VW_LANE_DEPTH;
	l->n--;
	if (l->w != NULL)
		lane_send(l);
	return ctx;
}

void vw_lane_free(struct vw_lane *l)
{
	struct vw_pool *p;

	if (l == NULL)
		return;
	p = l->p;
	if (l->w != NULL) {
		if (l->sent_on_w == 0 && l->w->files < p->cfg.files_per_worker)
			put_idle(p, l->w);
		else
			retire(l->w);
	}
	pthread_mutex_lock(&p->mu);
	p->busy--;
	pthread_mutex_unlock(&p->mu);
	free(l);
}

void vw_pool_free(struct vw_pool *p)
{
	struct vw_worker *w, *next;

	if (p == NULL)
		return;
	if (p->trimming) {
		pthread_mutex_lock(&p->mu);
		p->stopping = 1;
		pthread_cond_broadcast(&p->trim_cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->trimmer, NULL);
	}
	pthread_cond_destroy(&p->trim_cv);
	for (w = p->idle; w != NULL; w = next) {
		next = w->next;
		retire(w);
	}
	retire(p->spare);
	if (p->image_fd >= 0)
		close(p->image_fd);
	vg_engine_unref(p->engine);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void vw_layers_describe(const struct vw_layers *l, char *buf, size_t len)
{
	size_t n;

	vw_layers_text(l->layers, l->landlock_abi, buf, len);
	if (l->layers & VW_LAYER_UNSANDBOXED)
		return;
	n = strlen(buf);
	if (!(l->layers & VW_LAYER_LANDLOCK) && n < len)
		n += (size_t)snprintf(buf + n, len - n, "; missing: landlock (%s)",
				      strerror(l->errors.landlock ? l->errors.landlock : ENOSYS));
	if (!(l->layers & VW_LAYER_NETNS) && n < len)
		n += (size_t)snprintf(buf + n, len - n, "; missing: netns (%s)",
				      strerror(l->errors.netns ? l->errors.netns : ENOSYS));
	if (!(l->layers & VW_LAYER_SECCOMP) && n < len)
		snprintf(buf + n, len - n, "; missing: seccomp (%s)",
			 VW_SANITIZED ? "skipped in sanitizer builds"
				      : strerror(l->errors.seccomp ? l->errors.seccomp : ENOSYS));
}
