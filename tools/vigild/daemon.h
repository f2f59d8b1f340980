/*
 * daemon.h - vigild's moving parts and how they share a connection.
 *
 * Threads:
 *   - the connection thread (server.c) owns every socket: it accepts, reads,
 *     parses commands, answers the quick ones (PING, VERSION, ...), spools
 *     INSTREAM data and hands scans to the pool; it alone closes sockets;
 *   - the scanning threads (pool.c) run jobs (jobs.c) and write replies;
 *   - a reload thread (engines.c) builds a new engine when asked.
 *
 * A connection is shared by the connection thread and the jobs working for
 * it; each holds a reference. Replies go through vd_conn_reply(): sent at
 * once when the socket takes them, otherwise kept in a bounded buffer that
 * the connection thread flushes. A job whose client stops reading waits
 * at most SendBufTimeout without progress, then the connection is dropped:
 * a client that does not read never holds a scanning thread for long, and
 * never makes memory grow.
 */
#ifndef VIGILD_DAEMON_H
#define VIGILD_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "proto.h"
#include "settings.h"

#define VD_MAX_LISTENERS 16
#define VD_OUT_HIGH (256u * 1024u) /* reply bytes buffered per connection before writers wait */

enum vd_mode {
	VD_MODE_COMMAND,   /* reading commands */
	VD_MODE_STREAM,    /* reading INSTREAM chunks */
	VD_MODE_WAITANCILL,/* FILDES seen, waiting for the byte that carries the descriptor */
	VD_MODE_WAITREPLY  /* no more input: close when the jobs are done */
};

struct vd_spool;

struct vd_conn {
	struct vd_daemon *d;
	struct vd_conn *next;      /* the daemon's list (connection thread only) */
	int fd;
	int is_unix;
	char peer[64];             /* "local" or "127.0.0.1@40522" */

	/* Input: connection thread only. */
	unsigned char in[VD_CMD_BUFSIZE + 1]; /* +1: legacy commands are NUL-terminated */
	size_t in_len;
	int recv_fd;               /* descriptor received with the last read, -1 */
	enum vd_mode mode;
	char term;                 /* terminator of replies to the current command */
	unsigned id;               /* IDSESSION command number, 0 outside a session */
	int session;
	struct vd_spool *spool;    /* INSTREAM in progress */
	uint32_t chunk_left;       /* bytes of the current chunk still to come */
	uint64_t quota;            /* StreamMaxLength left */
	int64_t deadline_ms;       /* CommandReadTimeout / ReadTimeout */
	int blocked;               /* a command waits for room in the queue */
	int hold_jobs;             /* keep the next job until the read is processed */
	struct vd_job *held_job;   /* (so that an error about the rest of the read
	                            * comes before the job's reply, as in clamd) */
	int64_t flush_deadline_ms; /* closing: give up flushing then */

	/* Shared with jobs, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;         /* output drained, or the connection ended */
	unsigned pending;          /* jobs not finished */
	int input_done;            /* close once pending is 0 and the output is sent */
	int drop_replies;          /* the session was ended by an error: jobs stay silent */
	int broken;                /* the peer is gone or too slow: output is discarded */
	int closed;                /* the socket is closed (connection thread) */
	int shut;                  /* shutdown() done */
	char *out;                 /* reply bytes not sent yet */
	size_t out_len, out_cap;
	uint64_t sent;             /* bytes sent so far: progress of a slow reader */
	atomic_int refs;
};

struct vd_listener {
	int fd;
	int is_unix;
	int bound_only;            /* bound; listen() comes in vd_server_accept_start */
	char desc[160];
};

struct vd_daemon {
	struct vd_settings *s;
	struct vd_pool *pool;
	int wake_fd;               /* eventfd: jobs and signals wake the connection thread */
	int sig_fd;                /* signalfd, -1 when signals are handled elsewhere */
	struct vd_listener listeners[VD_MAX_LISTENERS];
	size_t nlisteners;
	const char *unix_path;     /* socket file to remove at exit */
	int socket_activated;      /* listeners came from systemd */
	struct vd_conn *conns;
	size_t nconns;
	atomic_int stop;           /* SHUTDOWN or SIGTERM */
	atomic_int retry_blocked;  /* a job finished: blocked connections may go on */
	atomic_size_t stream_mem;  /* INSTREAM bytes held in memory, all connections */
	atomic_uint_fast64_t connections_total, commands_total;
};

/* conn.c */
struct vd_conn *vd_conn_new(struct vd_daemon *d, int fd, int is_unix, const char *peer);
void vd_conn_ref(struct vd_conn *c);
void vd_conn_unref(struct vd_conn *c);
/* Queue one reply line: "[id: ]text<term>". from_job: a scanning thread,
 * which may wait for the client to read; the connection thread never waits.
 * Returns 0, or -1 when the reply was dropped (connection gone). */
int vd_conn_reply(struct vd_conn *c, unsigned id, char term, int from_job, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Raw bytes, same rules. */
int vd_conn_send(struct vd_conn *c, const void *data, size_t len, int from_job);
/* 0 when the connection's replies are no longer wanted (jobs stop early). */
int vd_conn_alive(struct vd_conn *c);
/* A job finished (reference dropped by the caller afterwards). */
void vd_conn_job_done(struct vd_conn *c);
/* Send what is buffered (connection thread, on POLLOUT). */
void vd_conn_flush(struct vd_conn *c);

/* server.c */
void vd_server_wake(struct vd_daemon *d);
/* Create and bind the sockets (errors name the socket); nobody can
 * connect yet. */
int vd_server_listen(struct vd_daemon *d);
/* listen() on what vd_server_listen bound: from here clients connect. */
int vd_server_accept_start(struct vd_daemon *d);
int vd_server_run(struct vd_daemon *d);
void vd_server_cleanup(struct vd_daemon *d);

/* spool.c: INSTREAM data, in memory up to a bound, then in a temporary file. */
struct vd_spool *vd_spool_new(struct vd_daemon *d);
int vd_spool_write(struct vd_spool *sp, const void *data, size_t len);
void vd_spool_free(struct vd_spool *sp);
/* For the scan: the bytes in memory (mem, len), or a file at offset 0 (fd). */
void vd_spool_view(struct vd_spool *sp, const unsigned char **mem, size_t *len, int *fd);

/* jobs.c: each takes a connection reference and the reply context. The
 * job is queued, or kept in c->held_job when c->hold_jobs is set. */
int vd_job_path(struct vd_daemon *d, struct vd_conn *c, enum vd_cmd cmd, const char *path,
		unsigned id, char term);
int vd_job_stream(struct vd_daemon *d, struct vd_conn *c, struct vd_spool *sp, unsigned id,
		  char term);
int vd_job_fildes(struct vd_daemon *d, struct vd_conn *c, int fd, unsigned id, char term);
int vd_job_stats(struct vd_daemon *d, struct vd_conn *c, unsigned id, char term);

int64_t vd_now_ms(void);

#endif /* VIGILD_DAEMON_H */
