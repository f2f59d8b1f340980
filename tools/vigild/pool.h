/*
 * pool.h - the scanning threads: a fixed set of workers taking jobs from one
 * bounded queue (MaxQueue). The connection thread never blocks on it: when
 * the queue is full it stops reading from clients until a job finishes.
 */
#ifndef VIGILD_POOL_H
#define VIGILD_POOL_H

#include <stddef.h>
#include <time.h>

struct vd_job;
typedef void vd_job_fn(struct vd_job *job);

/* Embedded in every job; the pool links and times it. */
struct vd_job {
	struct vd_job *next;
	vd_job_fn *run;      /* runs on a worker; owns and frees the job */
	const char *task;    /* for STATS: "SCAN", "INSTREAM", ... */
	const void *group;   /* MULTISCAN: the scan the job belongs to */
	struct timespec queued;
};

struct vd_pool;

/* Starts threads workers. on_done (may be NULL) is called after every job,
 * from the worker, so the connection thread can resume clients waiting for
 * room in the queue. Returns NULL when no thread could start. */
struct vd_pool *vd_pool_new(unsigned threads, unsigned max_queue, unsigned idle_timeout,
			    void (*on_done)(void *ctx), void *ctx);

/* Queue a job. Returns 0, or -1 when the queue holds max_queue jobs
 * (unless force is set: MULTISCAN's file jobs, which have their own bound)
 * or the pool is stopping. */
int vd_pool_submit(struct vd_pool *p, struct vd_job *job, int force);

/* 1 when a vd_pool_submit() without force would succeed now. */
int vd_pool_has_room(struct vd_pool *p);

/* Number of jobs waiting in the queue. */
size_t vd_pool_queued(struct vd_pool *p);

/* Removes and returns a queued job of group, or NULL (a MULTISCAN walker
 * runs its own files rather than wait for them: no thread ever waits for a
 * job that no thread will run). */
struct vd_job *vd_pool_take_group(struct vd_pool *p, const void *group);

/* clamd's STATS body, from "POOLS:" to "END" (without the terminator). */
size_t vd_pool_stats(struct vd_pool *p, char *buf, size_t len, const char *state,
		     const char *memstats);

/* Runs every queued job, then joins the threads and frees the pool. */
void vd_pool_free(struct vd_pool *p);

#endif /* VIGILD_POOL_H */
