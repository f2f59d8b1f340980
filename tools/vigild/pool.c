/*
 * pool.c - the scanning threads (see pool.h).
 */
#include "pool.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker {
	struct vd_pool *pool;
	pthread_t thread;
	const char *task;        /* NULL: idle */
	struct timespec since;   /* start of the task, or of idleness */
};

struct vd_pool {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;
	struct vd_job *head, *tail;
	size_t queued;
	unsigned max_queue;
	unsigned idle_timeout;
	int stopping;
	struct worker *workers;
	unsigned nworkers;
	void (*on_done)(void *ctx);
	void *ctx;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct vd_pool *p = w->pool;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct vd_job *j = p->head;

		if (j == NULL) {
			if (p->stopping)
				break;
			pthread_cond_wait(&p->work_cv, &p->mu);
			continue;
		}
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
		w->task = j->task;
		clock_gettime(CLOCK_MONOTONIC, &w->since);
		pthread_mutex_unlock(&p->mu);

		j->run(j); /* frees j */
		if (p->on_done != NULL)
			p->on_done(p->ctx);

		pthread_mutex_lock(&p->mu);
		w->task = NULL;
		clock_gettime(CLOCK_MONOTONIC, &w->since);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct vd_pool *vd_pool_new(unsigned threads, unsigned max_queue, unsigned idle_timeout,
			    void (*on_done)(void *ctx), void *ctx)
{
	struct vd_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->workers = calloc(threads, sizeof(*p->workers));
	if (p->workers == NULL) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	p->max_queue = max_queue;
	p->idle_timeout = idle_timeout;
	p->on_done = on_done;
	p->ctx = ctx;
	for (unsigned i = 0; i < threads; i++) {
		struct worker *w = &p->workers[p->nworkers];
		w->pool = p;
		clock_gettime(CLOCK_MONOTONIC, &w->since);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			break;
		p->nworkers++;
	}
	if (p->nworkers == 0) {
		pthread_cond_destroy(&p->work_cv);
		pthread_mutex_destroy(&p->mu);
		free(p->workers);
		free(p);
		return NULL;
	}
	return p;
}

int vd_pool_submit(struct vd_pool *p, struct vd_job *job, int force)
{
	pthread_mutex_lock(&p->mu);
	if (p->stopping || (!force && p->queued >= p->max_queue)) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	job->next = NULL;
	clock_gettime(CLOCK_MONOTONIC, &job->queued);
	if (p->tail != NULL)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	p->queued++;
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int vd_pool_has_room(struct vd_pool *p)
{
	int room;

	pthread_mutex_lock(&p->mu);
	room = !p->stopping && p->queued < p->max_queue;
	pthread_mutex_unlock(&p->mu);
	return room;
}

size_t vd_pool_queued(struct vd_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->queued;
	pthread_mutex_unlock(&p->mu);
	return n;
}

struct vd_job *vd_pool_take_group(struct vd_pool *p, const void *group)
{
	struct vd_job *prev = NULL, *j;

	pthread_mutex_lock(&p->mu);
	for (j = p->head; j != NULL; prev = j, j = j->next) {
		if (j->group != group)
			continue;
		if (prev != NULL)
			prev->next = j->next;
		else
			p->head = j->next;
		if (p->tail == j)
			p->tail = prev;
		p->queued--;
		j->next = NULL;
		break;
	}
	pthread_mutex_unlock(&p->mu);
	return j;
}

static double seconds_since(const struct timespec *t, const struct timespec *now)
{
	return (double)(now->tv_sec - t->tv_sec) + (double)(now->tv_nsec - t->tv_nsec) / 1e9;
}

static size_t append(char *buf, size_t len, size_t used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t len, size_t used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (used >= len)
		return used;
	va_start(ap, fmt);
	n = vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return used;
	used += (size_t)n;
	return used < len ? used : len - 1;
}

size_t vd_pool_stats(struct vd_pool *p, char *buf, size_t len, const char *state,
		     const char *memstats)
{
	struct timespec now;
	size_t used = 0;
	unsigned idle = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < p->nworkers; i++)
		idle += p->workers[i].task == NULL;
	used = append(buf, len, used, "POOLS: 1\n\nSTATE: %s\n", state);
	used = append(buf, len, used, "THREADS: live %u  idle %u max %u idle-timeout %u\n",
		      p->nworkers, idle, p->nworkers, p->idle_timeout);
	used = append(buf, len, used, "QUEUE: %zu items\n", p->queued);
	for (struct vd_job *j = p->head; j != NULL; j = j->next)
		used = append(buf, len, used, "\t%s %f\n", j->task, seconds_since(&j->queued, &now));
	for (unsigned i = 0; i < p->nworkers; i++) {
		const struct worker *w = &p->workers[i];
		used = append(buf, len, used, "\t%s %f \n", w->task != NULL ? w->task : "IDLE",
			      seconds_since(&w->since, &now));
	}
	pthread_mutex_unlock(&p->mu);
	used = append(buf, len, used, "\nMEMSTATS: %s\nEND", memstats);
	return used;
}

void vd_pool_free(struct vd_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i].thread, NULL);
	pthread_cond_destroy(&p->work_cv);
	pthread_mutex_destroy(&p->mu);
	free(p->workers);
	free(p);
}
