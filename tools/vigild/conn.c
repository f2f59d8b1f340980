/*
 * conn.c - a client connection's reference count and its replies (see
 * daemon.h for who may touch what).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

int64_t vd_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

struct vd_conn *vd_conn_new(struct vd_daemon *d, int fd, int is_unix, const char *peer)
{
	struct vd_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->d = d;
	c->fd = fd;
	c->is_unix = is_unix;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->recv_fd = -1;
	c->mode = VD_MODE_COMMAND;
	c->term = '\0'; /* clamd answers '\0'-terminated until a command sets it */
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	atomic_init(&c->refs, 1);
	return c;
}

void vd_conn_ref(struct vd_conn *c)
{
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void vd_conn_unref(struct vd_conn *c)
{
	if (c == NULL || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->out);
	free(c);
}

/* Send as much of out as the socket takes. Called with mu held. Returns 0,
 * or -1 when the connection broke. */
static int flush_locked(struct vd_conn *c)
{
	size_t done = 0;

	while (done < c->out_len) {
		ssize_t n = send(c->fd, c->out + done, c->out_len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			c->sent += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		c->broken = 1;
		c->out_len = 0;
		pthread_cond_broadcast(&c->cv);
		return -1;
	}
	if (done > 0) {
		memmove(c->out, c->out + done, c->out_len - done);
		c->out_len -= done;
		pthread_cond_broadcast(&c->cv);
	}
	return 0;
}

static int append_locked(struct vd_conn *c, const void *data, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t ncap = c->out_cap ? c->out_cap : 4096;
		char *n;
		while (ncap < c->out_len + len)
			ncap *= 2;
		n = realloc(c->out, ncap);
		if (n == NULL)
			return -1;
		c->out = n;
		c->out_cap = ncap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return 0;
}

/* Shrink a buffer that grew for one large reply once it has been sent. */
static void trim_locked(struct vd_conn *c)
{
	if (c->out_len == 0 && c->out_cap > 64 * 1024) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
}

static void deadline_in(struct timespec *t, int64_t ms)
{
	clock_gettime(CLOCK_REALTIME, t);
	t->tv_sec += (time_t)(ms / 1000);
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

int vd_conn_send(struct vd_conn *c, const void *data, size_t len, int from_job)
{
	int need_wake = 0, rc = 0;

	pthread_mutex_lock(&c->mu);
	if (c->closed || c->broken || (from_job && c->drop_replies)) {
		pthread_mutex_unlock(&c->mu);
		return -1;
	}
	if (c->out_len == 0) {
		/* The common case: the socket takes the whole line at once. */
		const char *p = data;
		while (len > 0) {
			ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				p += n;
				len -= (size_t)n;
				c->sent += (uint64_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			c->broken = 1;
			pthread_cond_broadcast(&c->cv);
			pthread_mutex_unlock(&c->mu);
			vd_server_wake(c->d);
			return -1;
		}
		data = p;
	}
	if (len > 0) {
		if (append_locked(c, data, len) != 0) {
			c->broken = 1;
			rc = -1;
		}
		need_wake = 1; /* the connection thread must watch for POLLOUT */
	}
	if (from_job && rc == 0 && c->out_len > VD_OUT_HIGH) {
		/* Wait for the client to read, as long as it keeps reading:
		 * SendBufTimeout without progress drops it (clamd's meaning), so
		 * a client that stops reading holds a scanning thread only that
		 * long. */
		int64_t wait_ms = c->d->s->sendbuf_timeout_ms ? c->d->s->sendbuf_timeout_ms : 500;
		uint64_t before = c->sent;
		struct timespec until;
		if (need_wake) {
			vd_server_wake(c->d);
			need_wake = 0;
		}
		deadline_in(&until, wait_ms);
		while (c->out_len > VD_OUT_HIGH && !c->broken && !c->closed) {
			if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
				continue;
			if (c->sent != before) {
				before = c->sent; /* it reads, slowly */
				deadline_in(&until, wait_ms);
				continue;
			}
			vd_log(VD_LOG_WARNING, "%s: client does not read its replies; dropped", c->peer);
			c->broken = 1;
			c->out_len = 0;
			need_wake = 1;
			rc = -1;
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (need_wake)
		vd_server_wake(c->d);
	return rc;
}

int vd_conn_reply(struct vd_conn *c, unsigned id, char term, int from_job, const char *fmt, ...)
{
	char stack[1024];
	char *line = stack;
	size_t used = 0;
	va_list ap;
	int n, rc;

	if (id > 0)
		used = (size_t)snprintf(stack, sizeof(stack), "%u: ", id);
	va_start(ap, fmt);
	n = vsnprintf(stack + used, sizeof(stack) - used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (used + (size_t)n + 1 >= sizeof(stack)) {
		/* Long paths: format again into a buffer of the right size. */
		line = malloc(used + (size_t)n + 2);
		if (line == NULL)
			return -1;
		memcpy(line, stack, used);
		va_start(ap, fmt);
		vsnprintf(line + used, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	used += (size_t)n;
	line[used++] = term;
	rc = vd_conn_send(c, line, used, from_job);
	if (line != stack)
		free(line);
	return rc;
}

int vd_conn_alive(struct vd_conn *c)
{
	int alive;

	pthread_mutex_lock(&c->mu);
	alive = !c->closed && !c->broken && !c->drop_replies;
	pthread_mutex_unlock(&c->mu);
	return alive;
}

void vd_conn_job_done(struct vd_conn *c)
{
	int wake = 0;

	pthread_mutex_lock(&c->mu);
	c->pending--;
	if (c->pending == 0 && c->input_done) {
		/* Last reply written: let the client see the end at once, the
		 * connection thread closes the descriptor. */
		if (c->out_len == 0 && !c->closed && !c->shut) {
			shutdown(c->fd, SHUT_RDWR);
			c->shut = 1;
		}
		wake = 1;
	}
	pthread_mutex_unlock(&c->mu);
	if (wake)
		vd_server_wake(c->d);
}

void vd_conn_flush(struct vd_conn *c)
{
	pthread_mutex_lock(&c->mu);
	if (!c->closed && !c->broken)
		(void)flush_locked(c);
	trim_locked(c);
	pthread_mutex_unlock(&c->mu);
}
