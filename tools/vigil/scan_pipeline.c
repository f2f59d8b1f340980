/*
 * scan_pipeline.c - the worker pool and the reorder buffer.
 *
 * The ring holds records tail-1 ... head in traversal order. The main thread
 * appends at tail and reports from head, in order, as soon as the head record
 * is done; when the ring is full it waits for the head. Workers take pending
 * records in order (next_job) and mark them done. Only the main thread
 * reports, so the totals need no lock.
 *
 * A full ring makes the main thread wait until half of it is done, not just
 * the head: waking it for every finished file cost a futex wake-up and a
 * context switch per file (BENCHMARKS.md §5).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

struct pipeline {
	struct scan_state *state;
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* a job arrived, or closing */
	pthread_cond_t done_cv; /* a job finished */
	struct record **ring;
	size_t cap;
	uint64_t head;     /* next record to report */
	uint64_t tail;     /* next sequence number */
	uint64_t next_job; /* first record a worker may still need to take */
	uint64_t wake_at;  /* the main thread waits until records before this are done */
	int main_waiting;
	int closing;
	pthread_t *threads;
	unsigned nthreads;
};

/* Records head .. end - 1 are all done (called with the lock held). */
static int all_done_before(const struct pipeline *p, uint64_t end)
{
	for (uint64_t i = p->head; i < end && i < p->tail; i++)
		if (!p->ring[i % p->cap]->done)
			return 0;
	return 1;
}

/* The first record still to be scanned, or NULL (lock held). */
static struct record *next_pending(struct pipeline *p)
{
	/* Records before head are reported, so none of them is pending. */
	if (p->next_job < p->head)
		p->next_job = p->head;
	while (p->next_job < p->tail && !p->ring[p->next_job % p->cap]->pending)
		p->next_job++;
	return p->next_job < p->tail ? p->ring[p->next_job % p->cap] : NULL;
}

static void take(struct pipeline *p, struct record *r)
{
	r->pending = 0;
	p->next_job++;
}

static void mark_done(struct pipeline *p, struct record *r)
{
	r->done = 1;
	if (p->main_waiting && all_done_before(p, p->wake_at))
		pthread_cond_broadcast(&p->done_cv);
}

/* With sandboxed workers each thread has a lane: while its worker scans one
 * file, the next is already handed over (VW_LANE_DEPTH), so the two
 * processes do not wait for each other's wake-up at every file. Standard
 * input goes alone, through vw_scan. */
static void *worker_main(void *arg)
{
	struct pipeline *p = arg;
	struct vw_lane *lane = p->state->workers != NULL ? vw_lane_new(p->state->workers) : NULL;
	struct record *r;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (lane != NULL && vw_lane_pending(lane) < VW_LANE_DEPTH) {
			r = next_pending(p);
			if (r != NULL && !r->is_stdin) {
				take(p, r);
				pthread_mutex_unlock(&p->mu);
				scan_lane_submit(p->state, lane, r);
				pthread_mutex_lock(&p->mu);
				continue;
			}
		}
		if (lane != NULL && vw_lane_pending(lane) > 0) {
			pthread_mutex_unlock(&p->mu);
			r = scan_lane_collect(p->state, lane);
			pthread_mutex_lock(&p->mu);
			mark_done(p, r);
			continue;
		}
		r = next_pending(p);
		if (r != NULL) {
			take(p, r);
			pthread_mutex_unlock(&p->mu);
			scan_work_record(p->state, r);
			pthread_mutex_lock(&p->mu);
			mark_done(p, r);
			continue;
		}
		if (p->closing)
			break;
		pthread_cond_wait(&p->work_cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	vw_lane_free(lane);
	return NULL;
}

struct pipeline *pipeline_start(struct scan_state *s, unsigned threads, size_t capacity)
{
	struct pipeline *p = xcalloc(1, sizeof(*p));

	p->state = s;
	p->cap = capacity < 2 ? 2 : capacity;
	p->ring = xcalloc(p->cap, sizeof(*p->ring));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	p->threads = xcalloc(threads, sizeof(*p->threads));
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) != 0) {
			if (p->nthreads == 0) {
				vt_msg(s->out, VT_MSG_ERROR, 1, "Can't start a scanning thread");
				exit(2);
			}
			break; /* fewer workers is still correct */
		}
		p->nthreads++;
	}
	return p;
}

/* Report done records at the head. With wait set, wait until the ring has
 * room for one more record (wait == 1) or is empty (wait == 2). Called with
 * the lock held; returns with it held. */
static void report_ready(struct pipeline *p, int wait)
{
	while (p->head < p->tail) {
		struct record *r = p->ring[p->head % p->cap];
		if (!r->done) {
			int must_wait = wait == 2 || (wait == 1 && p->tail - p->head >= p->cap);
			if (!must_wait)
				return;
			/* to the end when finishing, else half the ring */
			p->wake_at = wait == 2 ? p->tail : p->head + (p->cap + 1) / 2;
			p->main_waiting = 1;
			while (!all_done_before(p, p->wake_at))
				pthread_cond_wait(&p->done_cv, &p->mu);
			p->main_waiting = 0;
			continue;
		}
		/* out of the ring before the lock is let go: a worker looking
		 * for pending records must not read it once freed */
		p->ring[p->head % p->cap] = NULL;
		p->head++;
		pthread_mutex_unlock(&p->mu);
		scan_report_record(p->state, r);
		record_free(r);
		pthread_mutex_lock(&p->mu);
	}
}

void pipeline_push(struct pipeline *p, struct record *r)
{
	pthread_mutex_lock(&p->mu);
	report_ready(p, 1);
	r->done = !r->pending;
	p->ring[p->tail % p->cap] = r;
	p->tail++;
	if (r->pending)
		pthread_cond_signal(&p->work_cv);
	report_ready(p, 0);
	pthread_mutex_unlock(&p->mu);
}

void pipeline_finish(struct pipeline *p)
{
	pthread_mutex_lock(&p->mu);
	report_ready(p, 2);
	p->closing = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	free(p->threads);
	free(p->ring);
	free(p);
}
