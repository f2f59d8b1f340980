/*
 * server.c - the connection thread: listening sockets, reading, the clamd
 * command state machine, timeouts and closing.
 *
 * The state machine reproduces what clamd 1.4.6 does with the bytes it
 * reads (clamd/server-th.c: recvloop, parse_dispatch_cmd, handle_stream),
 * because clients depend on its corner cases: which command framings are
 * accepted where, which errors close the connection, what happens to bytes
 * after a command, in which order replies come. docs/PROTOCOL.md describes
 * the result; tests/daemon/test_diff.py compares it with clamd's.
 *
 * What differs on purpose: nothing here ever blocks on a client or on the
 * scanning threads. A full queue stops reading from clients (back-pressure)
 * instead of blocking every connection; a client that does not read its
 * replies fills its own bounded buffer and is dropped; a socket closes as
 * soon as its last reply is sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "databases.h"
#include "engines.h"
#include "log.h"

#define VD_SCRATCH (64u * 1024u)
#define VD_MAX_RECV_FDS 8

void vd_server_wake(struct vd_daemon *d)
{
	uint64_t one = 1;
	ssize_t n;

	do
		n = write(d->wake_fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
}

/* ---------------------------------------------------------------------- */
/* Listening sockets                                                       */

static int add_listener(struct vd_daemon *d, int fd, int is_unix, int bound_only,
			const char *desc)
{
	if (d->nlisteners == VD_MAX_LISTENERS) {
		vd_log(VD_LOG_ERROR, "Too many listening sockets (at most %d)", VD_MAX_LISTENERS);
		close(fd);
		return -1;
	}
	d->listeners[d->nlisteners].fd = fd;
	d->listeners[d->nlisteners].is_unix = is_unix;
	d->listeners[d->nlisteners].bound_only = bound_only;
	snprintf(d->listeners[d->nlisteners].desc, sizeof(d->listeners[0].desc), "%s", desc);
	d->nlisteners++;
	return 0;
}

/* systemd socket activation: LISTEN_PID/LISTEN_FDS, descriptors from 3. */
static int systemd_sockets(struct vd_daemon *d)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long n;

	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	n = strtol(fds, NULL, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	for (long i = 0; i < n && i < VD_MAX_LISTENERS; i++) {
		int fd = (int)(3 + i);
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int flags;

		if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
			continue;
		flags = fcntl(fd, F_GETFL);
		if (flags >= 0)
			(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (add_listener(d, fd, ss.ss_family == AF_UNIX, 0, "systemd socket") != 0)
			return -1;
		vd_log(VD_LOG_INFO, "Listening on a socket passed by systemd (fd %d).", fd);
	}
	d->socket_activated = d->nlisteners > 0;
	return (int)d->nlisteners;
}

static int make_parent_dir(const char *path, const char *user)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0)
		return 0;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		vd_log(VD_LOG_ERROR, "Can't create the socket folder %s: %s", dir, strerror(errno));
		return -1;
	}
	if (user != NULL && geteuid() == 0) {
		struct passwd *pw = getpwnam(user);
		if (pw != NULL && chown(dir, pw->pw_uid, pw->pw_gid) != 0)
			vd_log(VD_LOG_WARNING, "Can't give %s to %s: %s", dir, user, strerror(errno));
	}
	return 0;
}

static int listen_unix(struct vd_daemon *d, const struct vd_settings *s)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_umask;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(s->local_socket) >= sizeof(sa.sun_path)) {
		vd_log(VD_LOG_ERROR, "LocalSocket %s: the path is too long (at most %zu bytes)",
		       s->local_socket, sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, s->local_socket, strlen(s->local_socket) + 1);
	if (make_parent_dir(s->local_socket, s->user) != 0)
		return -1;
	if (lstat(s->local_socket, &st) == 0) {
		int probe;
		if (!S_ISSOCK(st.st_mode)) {
			vd_log(VD_LOG_ERROR, "LocalSocket %s exists and is not a socket; remove it or "
					     "choose another path",
			       s->local_socket);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			vd_log(VD_LOG_ERROR, "LocalSocket %s is in use by another daemon", s->local_socket);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		if (!s->fix_stale_socket) {
			vd_log(VD_LOG_ERROR, "LocalSocket %s exists (stale); remove it or set "
					     "FixStaleSocket yes",
			       s->local_socket);
			return -1;
		}
		if (unlink(s->local_socket) != 0) {
			vd_log(VD_LOG_ERROR, "Can't remove the stale socket %s: %s", s->local_socket,
			       strerror(errno));
			return -1;
		}
		vd_log(VD_LOG_INFO, "LOCAL: removed the stale socket file %s", s->local_socket);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		vd_log(VD_LOG_ERROR, "Can't create a UNIX socket: %s", strerror(errno));
		return -1;
	}
	old_umask = umask(0777 & ~(mode_t)s->local_socket_mode);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		umask(old_umask);
		vd_log(VD_LOG_ERROR, "Can't bind to %s: %s", s->local_socket, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old_umask);
	d->unix_path = s->local_socket;
	if (chmod(s->local_socket, (mode_t)s->local_socket_mode) != 0)
		vd_log(VD_LOG_WARNING, "Can't set the mode of %s: %s", s->local_socket,
		       strerror(errno));
	if (s->local_socket_group != NULL) {
		struct group *gr = getgrnam(s->local_socket_group);
		if (gr == NULL || chown(s->local_socket, (uid_t)-1, gr->gr_gid) != 0)
			vd_log(VD_LOG_WARNING, "Can't give %s to the group %s", s->local_socket,
			       s->local_socket_group);
	}
	if (s->user != NULL && geteuid() == 0) {
		struct passwd *pw = getpwnam(s->user);
		if (pw != NULL && chown(s->local_socket, pw->pw_uid, (gid_t)-1) != 0)
			vd_log(VD_LOG_WARNING, "Can't give %s to %s", s->local_socket, s->user);
	}
	vd_log(VD_LOG_INFO, "LOCAL: Unix socket file %s", s->local_socket);
	vd_log(VD_LOG_INFO, "LOCAL: Setting connection queue length to %u", s->backlog);
	return add_listener(d, fd, 1, 1, s->local_socket);
}

static int listen_tcp_addr(struct vd_daemon *d, const struct vd_settings *s, const char *addr)
{
	struct addrinfo hints, *res = NULL;
	char port[16];
	int rc, bound = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", s->tcp_port);
	rc = getaddrinfo(addr, port, &hints, &res);
	if (rc != 0) {
		vd_log(VD_LOG_ERROR, "TCPAddr %s: %s", addr != NULL ? addr : "(any)", gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		char host[64], desc[160];
		int one = 1;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0,
				NI_NUMERICHOST) != 0)
			snprintf(host, sizeof(host), "?");
		snprintf(desc, sizeof(desc), "[%s]:%u", host, s->tcp_port);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			vd_log(VD_LOG_ERROR, "TCP: Can't bind to %s: %s", desc, strerror(errno));
			close(fd);
			continue;
		}
		if (add_listener(d, fd, 0, 1, desc) != 0)
			break;
		vd_log(VD_LOG_INFO, "TCP: Bound to %s", desc);
		bound++;
	}
	freeaddrinfo(res);
	return bound > 0 ? 0 : -1;
}

int vd_server_accept_start(struct vd_daemon *d)
{
	for (size_t i = 0; i < d->nlisteners; i++) {
		struct vd_listener *l = &d->listeners[i];
		if (!l->bound_only)
			continue;
		if (listen(l->fd, (int)d->s->backlog) != 0) {
			vd_log(VD_LOG_ERROR, "Can't listen on %s: %s", l->desc, strerror(errno));
			return -1;
		}
		l->bound_only = 0;
	}
	return 0;
}

int vd_server_listen(struct vd_daemon *d)
{
	const struct vd_settings *s = d->s;

	if (systemd_sockets(d) < 0)
		return -1;
	if (d->nlisteners > 0)
		return 0;
	if (s->local_socket != NULL && listen_unix(d, s) != 0)
		return -1;
	if (s->tcp_port != 0) {
		if (s->tcp_addr_count == 0) {
			vd_log(VD_LOG_WARNING, "TCPSocket without TCPAddr: listening on every "
					       "interface, as clamd; add TCPAddr 127.0.0.1 to restrict");
			if (listen_tcp_addr(d, s, NULL) != 0)
				return -1;
		}
		for (size_t i = 0; i < s->tcp_addr_count; i++)
			if (listen_tcp_addr(d, s, s->tcp_addr[i]) != 0)
				return -1;
		vd_log(VD_LOG_INFO, "TCP: Setting connection queue length to %u", s->backlog);
	}
	if (d->nlisteners == 0) {
		vd_log(VD_LOG_ERROR, "No socket to listen on: set LocalSocket or TCPSocket");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Closing                                                                 */

/* No more input is processed and the connection thread sends nothing more;
 * the socket closes once the buffered replies are out. */
static void hard_close(struct vd_conn *c)
{
	pthread_mutex_lock(&c->mu);
	c->input_done = 1;
	pthread_mutex_unlock(&c->mu);
	c->mode = VD_MODE_WAITREPLY;
	c->blocked = 0;
}

static void set_input_done(struct vd_conn *c)
{
	pthread_mutex_lock(&c->mu);
	c->input_done = 1;
	pthread_mutex_unlock(&c->mu);
	c->mode = VD_MODE_WAITREPLY;
}

/* IDSESSION ended by an error: the replies still to come are not wanted. */
static void drop_session(struct vd_conn *c)
{
	pthread_mutex_lock(&c->mu);
	c->drop_replies = 1;
	c->input_done = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	c->mode = VD_MODE_WAITREPLY;
	c->blocked = 0;
}

static int input_done(struct vd_conn *c)
{
	int v;

	pthread_mutex_lock(&c->mu);
	v = c->input_done;
	pthread_mutex_unlock(&c->mu);
	return v;
}

static void conn_destroy(struct vd_daemon *d, struct vd_conn *c)
{
	pthread_mutex_lock(&c->mu);
	if (!c->shut)
		shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	c->closed = 1;
	c->out_len = 0;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->recv_fd >= 0)
		close(c->recv_fd);
	c->recv_fd = -1;
	vd_spool_free(c->spool);
	c->spool = NULL;
	d->nconns--;
	vd_log(VD_LOG_DEBUG, "%s: connection closed", c->peer);
	vd_conn_unref(c);
}

/* 1 when the connection can be closed now. */
static int closable(struct vd_daemon *d, struct vd_conn *c, int64_t now)
{
	int r = 0;

	pthread_mutex_lock(&c->mu);
	if (c->broken) {
		r = 1;
	} else if (c->drop_replies || (c->input_done && c->pending == 0)) {
		if (c->out_len == 0) {
			r = 1;
		} else if (c->flush_deadline_ms == 0) {
			c->flush_deadline_ms = now + (int64_t)d->s->read_timeout * 1000;
		} else if (now >= c->flush_deadline_ms) {
			r = 1;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return r;
}

/* ---------------------------------------------------------------------- */
/* Commands                                                                */

enum exec_rc { EXEC_ERROR = -1, EXEC_CONTINUE = 0, EXEC_DONE = 1 };

static void reply(struct vd_conn *c, const char *text)
{
	(void)vd_conn_reply(c, c->session ? c->id : 0, c->term, 0, "%s", text);
}

static void reply_error(struct vd_conn *c, const char *text)
{
	(void)vd_conn_reply(c, c->session ? c->id : 0, c->term, 0, "%s ERROR", text);
}

static void version_line(char *buf, size_t len)
{
	struct vg_engine *e = vd_engine_acquire();

	vt_version_line(e, buf, len);
	vg_engine_unref(e);
}

static int session_allows(enum vd_cmd cmd)
{
	switch (cmd) {
	case VD_CMD_FILDES:
	case VD_CMD_SCAN:
	case VD_CMD_END:
	case VD_CMD_INSTREAM:
	case VD_CMD_VERSION:
	case VD_CMD_PING:
	case VD_CMD_STATS:
	case VD_CMD_VERSIONCOMMANDS:
		return 1;
	default:
		return 0;
	}
}

/* clamd's execute_or_dispatch_command(). *scanfd is the descriptor that
 * came with this read, consumed by FILDES. */
static enum exec_rc execute(struct vd_daemon *d, struct vd_conn *c, enum vd_cmd cmd,
			    const char *arg, int *scanfd)
{
	char line[1024];
	unsigned id = c->session ? c->id : 0;

	atomic_fetch_add(&d->commands_total, 1);
	if (c->session && !session_allows(cmd)) {
		reply_error(c, "Command invalid inside IDSESSION.");
		vd_log(VD_LOG_DEBUG, "%s: command not valid inside IDSESSION: %s", c->peer,
		       vd_proto_name(cmd));
		c->session = 0; /* clamd forgets the session: the socket closes now */
		drop_session(c);
		return EXEC_DONE;
	}
	switch (cmd) {
	case VD_CMD_SHUTDOWN:
		vd_log(VD_LOG_INFO, "SHUTDOWN command received from %s", c->peer);
		atomic_store(&d->stop, 1);
		return EXEC_DONE;
	case VD_CMD_RELOAD:
		reply(c, "RELOADING");
		vd_engines_request_reload("RELOAD command");
		return EXEC_DONE;
	case VD_CMD_PING:
		reply(c, "PONG");
		return c->session ? EXEC_CONTINUE : EXEC_DONE;
	case VD_CMD_VERSION:
		version_line(line, sizeof(line));
		reply(c, line);
		return c->session ? EXEC_CONTINUE : EXEC_DONE;
	case VD_CMD_VERSIONCOMMANDS: {
		char vl[512];
		version_line(vl, sizeof(vl));
		snprintf(line, sizeof(line), "%s| COMMANDS: %s", vl, vd_proto_command_list);
		reply(c, line);
		return c->session ? EXEC_CONTINUE : EXEC_DONE;
	}
	case VD_CMD_DETSTATSCLEAR:
	case VD_CMD_DETSTATS:
		return EXEC_DONE; /* removed from clamd: no reply */
	case VD_CMD_INSTREAM:
		c->spool = vd_spool_new(d);
		if (c->spool == NULL)
			return EXEC_DONE; /* clamd: no temporary file, no reply */
		c->quota = d->s->stream_max;
		c->chunk_left = 0;
		c->mode = VD_MODE_STREAM;
		return EXEC_CONTINUE;
	case VD_CMD_SCAN:
	case VD_CMD_CONTSCAN:
	case VD_CMD_MULTISCAN:
	case VD_CMD_ALLMATCHSCAN:
		vd_log(VD_LOG_VERBOSE, "%s: %s %s", c->peer, vd_proto_name(cmd), arg);
		return vd_job_path(d, c, cmd, arg, id, c->term) == 0 ? EXEC_CONTINUE : EXEC_ERROR;
	case VD_CMD_STATS:
		return vd_job_stats(d, c, id, c->term) == 0 ? EXEC_CONTINUE : EXEC_ERROR;
	case VD_CMD_FILDES: {
		int fd = *scanfd;
		if (fd < 0) {
			reply_error(c, "No file descriptor received.");
			return EXEC_DONE;
		}
		*scanfd = -1;
		if (vd_job_fildes(d, c, fd, id, c->term) != 0) {
			close(fd);
			return EXEC_ERROR;
		}
		return EXEC_CONTINUE;
	}
	case VD_CMD_IDSESSION:
		c->session = 1;
		return EXEC_CONTINUE;
	case VD_CMD_END:
		if (!c->session) {
			reply(c, "UNKNOWN COMMAND");
			return EXEC_DONE;
		}
		return EXEC_DONE;
	case VD_CMD_UNKNOWN:
		break;
	}
	reply(c, "UNKNOWN COMMAND");
	return EXEC_DONE;
}

static int pending_jobs(struct vd_conn *c)
{
	unsigned n;

	pthread_mutex_lock(&c->mu);
	n = c->pending;
	pthread_mutex_unlock(&c->mu);
	return n > 0;
}

/* Move what is left of buf to its start (clamd does this after every pass,
 * which is what lets a legacy command start there). */
static void shift(unsigned char *buf, size_t *len, size_t *pos)
{
	if (*pos < *len)
		memmove(buf, buf + *pos, *len - *pos);
	*len = *pos < *len ? *len - *pos : 0;
	*pos = 0;
}

/* clamd's parse_dispatch_cmd(). Returns 1 when it stopped after a command
 * (the mode changed, or an error), 0 when no complete command is left. */
static int parse_commands(struct vd_daemon *d, struct vd_conn *c, unsigned char *buf, size_t *len,
			  size_t *pos, int *scanfd, int *error, int *closed)
{
	struct vd_frame f;
	int got = 0;

	while (c->mode == VD_MODE_COMMAND && !*closed) {
		const char *arg;
		enum vd_cmd cmd;
		enum exec_rc rc;

		if (!vd_pool_has_room(d->pool)) {
			/* Come back when a job has finished; what is left moves
			 * to the start, as after any pass. */
			c->blocked = 1;
			shift(buf, len, pos);
			return 0;
		}
		if (!vd_proto_next(buf, *len, *pos, &f)) {
			got = 0;
			break;
		}
		got = 1;
		if (c->session && f.oldstyle) {
			reply_error(c, "Only nCMDS\\n and zCMDS\\0 are accepted inside IDSESSION.");
			*error = 1;
			break;
		}
		cmd = vd_proto_parse(f.text, f.oldstyle, &arg);
		if (cmd == VD_CMD_FILDES) {
			if (*len <= f.text_off + 7) {
				/* The descriptor travels with one more byte. */
				c->mode = VD_MODE_WAITANCILL;
				buf[f.term_off] = (unsigned char)f.term;
				break;
			}
			f.cmdlen++; /* that byte */
		}
		c->term = f.term;
		c->hold_jobs = !c->session;
		rc = execute(d, c, cmd, arg, scanfd);
		c->hold_jobs = 0;
		if (rc == EXEC_ERROR)
			*error = 1;
		if (*error || !c->session || rc != EXEC_CONTINUE) {
			if (rc != EXEC_CONTINUE && (!c->session || !pending_jobs(c))) {
				/* clamd closes the socket here */
				hard_close(c);
				*closed = 1;
			} else if (c->mode != VD_MODE_STREAM) {
				set_input_done(c);
			}
		}
		c->deadline_ms = vd_now_ms() + (int64_t)d->s->read_timeout * 1000;
		*pos += f.cmdlen + 1;
		if (c->mode != VD_MODE_COMMAND)
			break;
		c->id++;
		got = 0;
	}
	if (*scanfd >= 0) {
		close(*scanfd);
		*scanfd = -1;
		if (!*closed)
			reply_error(c, "PROTOCOL ERROR: ancillary data sent without FILDES.");
		*error = 1;
		return 0;
	}
	if (!*error) {
		if (*pos > *len)
			*pos = *len; /* a legacy command took the whole read */
		shift(buf, len, pos);
	}
	return got;
}

/* clamd's handle_stream(): chunks of a 4-byte big-endian length and data.
 * Returns 0 when the stream ended (parsing goes on), -1 to wait for data or
 * on error. */
static int handle_stream(struct vd_daemon *d, struct vd_conn *c, unsigned char *buf, size_t *len,
			 size_t *pos, int *error)
{
	c->deadline_ms = vd_now_ms() + (int64_t)d->s->read_timeout * 1000;
	while (*pos <= *len) {
		size_t take;

		if (c->chunk_left == 0) {
			uint32_t cs;
			if (*len - *pos < 4) {
				shift(buf, len, pos);
				return -1;
			}
			cs = (uint32_t)buf[*pos] << 24 | (uint32_t)buf[*pos + 1] << 16 |
			     (uint32_t)buf[*pos + 2] << 8 | (uint32_t)buf[*pos + 3];
			*pos += 4;
			if (cs == 0) {
				struct vd_spool *sp = c->spool;
				unsigned id = c->session ? c->id : 0;
				c->spool = NULL;
				if (c->session)
					c->mode = VD_MODE_COMMAND;
				else
					set_input_done(c);
				if (vd_job_stream(d, c, sp, id, c->term) != 0) {
					vd_spool_free(sp);
					*error = 1;
					return -1;
				}
				shift(buf, len, pos);
				c->id++;
				return 0;
			}
			if (cs > c->quota) {
				vd_log(VD_LOG_WARNING, "INSTREAM: Size limit reached, (requested: %u, "
						       "max: %llu)",
				       cs, (unsigned long long)c->quota);
				reply_error(c, "INSTREAM size limit exceeded.");
				*error = 1;
				return -1;
			}
			c->quota -= cs;
			c->chunk_left = cs;
		}
		take = *len - *pos;
		if (take > c->chunk_left)
			take = c->chunk_left;
		c->chunk_left -= (uint32_t)take;
		if (vd_spool_write(c->spool, buf + *pos, take) != 0) {
			reply_error(c, "Error writing to temporary file");
			*error = 1;
			return -1;
		}
		*pos += take;
		if (*pos == *len) {
			*pos = 0;
			*len = 0;
			return -1;
		}
	}
	return 0;
}

/* After an error: clamd terminates the session's jobs and closes, or lets
 * the one pending job of a plain command answer and close. */
static void fail(struct vd_conn *c)
{
	vd_spool_free(c->spool);
	c->spool = NULL;
	if (c->session) {
		drop_session(c);
		return;
	}
	if (pending_jobs(c))
		set_input_done(c);
	else
		hard_close(c);
}

/* Process what buf holds (clamd's receive loop for one read). Leftover
 * bytes stay at the start of buf; returns their number. */
static size_t process(struct vd_daemon *d, struct vd_conn *c, unsigned char *buf, size_t len)
{
	size_t pos = 0;
	int error = 0, closed = 0;
	int scanfd = c->recv_fd;

	c->recv_fd = -1;
	if (c->mode == VD_MODE_WAITANCILL)
		c->mode = VD_MODE_COMMAND;
	while (!error && !closed && pos < len && c->mode != VD_MODE_WAITANCILL &&
	       c->mode != VD_MODE_WAITREPLY) {
		int got = 0;

		if (c->mode == VD_MODE_COMMAND) {
			got = parse_commands(d, c, buf, &len, &pos, &scanfd, &error, &closed);
			if (c->blocked) {
				c->recv_fd = scanfd; /* keep it for the command that needs it */
				return len;
			}
		} else if (scanfd >= 0) {
			/* A descriptor in the middle of a stream. */
			close(scanfd);
			scanfd = -1;
			reply_error(c, "PROTOCOL ERROR: ancillary data sent without FILDES.");
			error = 1;
		}
		if (c->mode == VD_MODE_COMMAND && !got)
			break;
		if (!error && !closed) {
			if (c->mode == VD_MODE_WAITREPLY && len > 0) {
				vd_log(VD_LOG_WARNING, "%s: Client sent garbage after last command: %zu "
						       "bytes",
				       c->peer, len);
				error = 1;
			} else if (c->mode == VD_MODE_STREAM) {
				if (handle_stream(d, c, buf, &len, &pos, &error) != 0)
					break;
				continue;
			}
		}
		if (error && !closed)
			reply_error(c, "Error processing command.");
	}
	if (scanfd >= 0)
		close(scanfd);
	if (error) {
		fail(c);
		return 0;
	}
	if (closed || c->mode == VD_MODE_WAITREPLY)
		return 0;
	if (pos > 0)
		shift(buf, &len, &pos);
	return len;
}

/* process(), then queue the job it kept back. */
static size_t process_read(struct vd_daemon *d, struct vd_conn *c, unsigned char *buf, size_t len)
{
	size_t left = process(d, c, buf, len);
	struct vd_job *j = c->held_job;

	c->held_job = NULL;
	if (j != NULL && vd_pool_submit(d->pool, j, 1) != 0)
		j->run(j); /* only when stopping */
	return left;
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                 */

static void conn_eof(struct vd_conn *c)
{
	vd_log(VD_LOG_DEBUG, "%s: client closed the connection", c->peer);
	fail(c);
}

static void conn_read(struct vd_daemon *d, struct vd_conn *c, unsigned char *scratch)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VD_MAX_RECV_FDS)];
	} ctl;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;
	unsigned char *buf;
	size_t have, cap;
	ssize_t n;
	int use_scratch = c->mode == VD_MODE_STREAM;

	if (use_scratch) {
		/* Stream data goes through a large buffer; the few bytes of a
		 * chunk header left from the last read go first. */
		memcpy(scratch, c->in, c->in_len);
		buf = scratch;
		have = c->in_len;
		cap = VD_SCRATCH - have;
		c->in_len = 0;
	} else {
		buf = c->in;
		have = c->in_len;
		cap = VD_CMD_BUFSIZE - have;
		if (cap == 0) {
			/* clamd: a command longer than its buffer ends the connection */
			vd_log(VD_LOG_WARNING, "%s: command longer than %u bytes; closing", c->peer,
			       VD_CMD_BUFSIZE);
			fail(c);
			return;
		}
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf + have;
	iov.iov_len = cap;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (c->is_unix) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
	}
	do
		n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		if (use_scratch) {
			memcpy(c->in, scratch, have);
			c->in_len = have;
		}
		return;
	}
	for (cm = c->is_unix && n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm != NULL;
	     cm = CMSG_NXTHDR(&msg, cm)) {
		size_t nfds;
		int fds[VD_MAX_RECV_FDS];
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfds > VD_MAX_RECV_FDS)
			nfds = VD_MAX_RECV_FDS;
		memcpy(fds, CMSG_DATA(cm), nfds * sizeof(int));
		for (size_t i = 0; i < nfds; i++) {
			/* clamd keeps one descriptor per message and only from a
			 * single-descriptor header; the others are closed here. */
			if (nfds == 1) {
				if (c->recv_fd >= 0)
					close(c->recv_fd);
				c->recv_fd = fds[i];
			} else {
				close(fds[i]);
			}
		}
	}
	if (n < 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (n >= 0)
			vd_log(VD_LOG_WARNING, "%s: control message truncated; closing", c->peer);
		if (c->recv_fd >= 0) {
			close(c->recv_fd);
			c->recv_fd = -1;
		}
		fail(c);
		return;
	}
	if (n == 0) {
		if (c->recv_fd >= 0) {
			close(c->recv_fd);
			c->recv_fd = -1;
		}
		conn_eof(c);
		return;
	}
	have += (size_t)n;
	have = process_read(d, c, buf, have);
	if (use_scratch && have > 0) {
		if (have > VD_CMD_BUFSIZE) {
			vd_log(VD_LOG_WARNING, "%s: command longer than %u bytes; closing", c->peer,
			       VD_CMD_BUFSIZE);
			fail(c);
			return;
		}
		memcpy(c->in, scratch, have);
	}
	c->in_len = have;
}

/* ---------------------------------------------------------------------- */
/* The loop                                                                */

static void accept_clients(struct vd_daemon *d, struct vd_listener *l)
{
	while (d->nconns < d->s->max_connections) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char peer[64];
		struct vd_conn *c;
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				vd_log(VD_LOG_WARNING, "accept() on %s failed: %s", l->desc,
				       strerror(errno));
			return;
		}
		if (l->is_unix || ss.ss_family == AF_UNIX) {
			snprintf(peer, sizeof(peer), "local");
		} else {
			char host[48], serv[8];
			if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv,
					sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
				snprintf(peer, sizeof(peer), "tcp");
			else
				snprintf(peer, sizeof(peer), "%s@%s", host, serv);
		}
		c = vd_conn_new(d, fd, l->is_unix, peer);
		if (c == NULL) {
			close(fd);
			vd_log(VD_LOG_ERROR, "Out of memory for a connection");
			return;
		}
		c->deadline_ms = vd_now_ms() + (int64_t)d->s->command_timeout * 1000;
		c->next = d->conns;
		d->conns = c;
		d->nconns++;
		atomic_fetch_add(&d->connections_total, 1);
		vd_log(VD_LOG_DEBUG, "%s: new connection (fd %d)", peer, fd);
	}
}

static int reading(const struct vd_conn *c)
{
	return c->mode == VD_MODE_COMMAND || c->mode == VD_MODE_STREAM ||
	       c->mode == VD_MODE_WAITANCILL;
}

static void handle_signal(struct vd_daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			vd_log(VD_LOG_INFO, "Received signal %u, shutting down.", si.ssi_signo);
			atomic_store(&d->stop, 1);
			break;
		case SIGHUP:
			vd_log_reopen();
			vd_log(VD_LOG_INFO, "SIGHUP caught: re-opening log file.");
			break;
		case SIGUSR2:
			vd_engines_request_reload("SIGUSR2");
			break;
		default:
			break;
		}
	}
}

static void check_timeouts(struct vd_daemon *d, int64_t now)
{
	for (struct vd_conn *c = d->conns; c != NULL; c = c->next) {
		if (!reading(c) || c->blocked || c->deadline_ms == 0 || now < c->deadline_ms ||
		    input_done(c))
			continue;
		vd_log(VD_LOG_DEBUG, "%s: client read timed out", c->peer);
		/* clamd writes this raw, whatever the framing. */
		(void)vd_conn_send(c, "COMMAND READ TIMED OUT\n", 23, 0);
		fail(c);
	}
}

static void retry_blocked(struct vd_daemon *d)
{
	for (struct vd_conn *c = d->conns; c != NULL; c = c->next) {
		size_t left;
		if (!c->blocked || !vd_pool_has_room(d->pool))
			continue;
		c->blocked = 0;
		left = process_read(d, c, c->in, c->in_len);
		if (c->mode != VD_MODE_WAITREPLY)
			c->in_len = left;
		if (!c->blocked)
			c->deadline_ms = vd_now_ms() + (int64_t)d->s->read_timeout * 1000;
	}
}

static void close_finished(struct vd_daemon *d, int64_t now)
{
	struct vd_conn **pp = &d->conns;

	while (*pp != NULL) {
		struct vd_conn *c = *pp;
		if (closable(d, c, now)) {
			*pp = c->next;
			conn_destroy(d, c);
			continue;
		}
		pp = &c->next;
	}
}

int vd_server_run(struct vd_daemon *d)
{
	unsigned char *scratch = malloc(VD_SCRATCH + 1);
	struct pollfd *pfd = NULL;
	struct vd_conn **pconn = NULL;
	size_t cap = 0;
	int64_t next_selfcheck = d->s->selfcheck ? vd_now_ms() + (int64_t)d->s->selfcheck * 1000 : 0;
	int rc = 0;

	if (scratch == NULL) {
		vd_log(VD_LOG_ERROR, "Out of memory");
		return -1;
	}
	while (!atomic_load(&d->stop)) {
		size_t n = 0, need = 2 + d->nlisteners + d->nconns;
		int64_t now = vd_now_ms(), wait = -1;
		int accepting = d->nconns < d->s->max_connections;
		size_t first_listener, first_conn;

		if (need > cap) {
			size_t ncap = need * 2;
			struct pollfd *np = realloc(pfd, ncap * sizeof(*np));
			struct vd_conn **nc;
			if (np == NULL) {
				vd_log(VD_LOG_ERROR, "Out of memory");
				rc = -1;
				break;
			}
			pfd = np;
			nc = realloc(pconn, ncap * sizeof(*nc));
			if (nc == NULL) {
				vd_log(VD_LOG_ERROR, "Out of memory");
				rc = -1;
				break;
			}
			pconn = nc;
			cap = ncap;
		}
		pfd[n].fd = d->wake_fd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = d->sig_fd;
		pfd[n++].events = POLLIN;
		first_listener = n;
		for (size_t i = 0; i < d->nlisteners; i++) {
			pfd[n].fd = accepting ? d->listeners[i].fd : -1;
			pfd[n++].events = POLLIN;
		}
		first_conn = n;
		for (struct vd_conn *c = d->conns; c != NULL; c = c->next) {
			short ev = 0;
			pthread_mutex_lock(&c->mu);
			if (c->out_len > 0 && !c->broken)
				ev |= POLLOUT;
			if (reading(c) && !c->blocked && !c->input_done && c->out_len <= VD_OUT_HIGH)
				ev |= POLLIN;
			pthread_mutex_unlock(&c->mu);
			if (reading(c) && !c->blocked && c->deadline_ms > 0) {
				int64_t left = c->deadline_ms - now;
				if (wait < 0 || left < wait)
					wait = left < 0 ? 0 : left;
			}
			pconn[n] = c;
			pfd[n].fd = c->fd;
			pfd[n++].events = ev;
		}
		if (next_selfcheck > 0) {
			int64_t left = next_selfcheck - now;
			if (wait < 0 || left < wait)
				wait = left < 0 ? 0 : left;
		}
		if (wait > 1000)
			wait = 1000; /* flush deadlines and stops are checked every second */
		if (poll(pfd, (nfds_t)n, (int)wait) < 0 && errno != EINTR) {
			vd_log(VD_LOG_ERROR, "poll() failed: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			uint64_t v;
			if (read(d->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				vd_log(VD_LOG_DEBUG, "wake read: %s", strerror(errno));
		}
		if (d->sig_fd >= 0 && (pfd[1].revents & POLLIN))
			handle_signal(d);
		for (size_t i = first_conn; i < n; i++) {
			struct vd_conn *c = pconn[i];
			short re = pfd[i].revents;
			if (re == 0)
				continue;
			if (re & POLLOUT)
				vd_conn_flush(c);
			if ((re & POLLIN) && reading(c) && !input_done(c))
				conn_read(d, c, scratch);
			else if ((re & (POLLHUP | POLLERR)) && !(re & POLLIN)) {
				if (reading(c) && !input_done(c)) {
					conn_eof(c);
				} else {
					/* Gone while its jobs run: stop them early. */
					pthread_mutex_lock(&c->mu);
					if (!c->shut)
						c->broken = 1;
					pthread_cond_broadcast(&c->cv);
					pthread_mutex_unlock(&c->mu);
				}
			}
		}
		for (size_t i = first_listener; i < first_conn; i++)
			if (pfd[i].revents & POLLIN)
				accept_clients(d, &d->listeners[i - first_listener]);
		now = vd_now_ms();
		if (atomic_exchange(&d->retry_blocked, 0))
			retry_blocked(d);
		check_timeouts(d, now);
		close_finished(d, now);
		if (next_selfcheck > 0 && now >= next_selfcheck) {
			if (vd_engines_changed()) {
				vd_log(VD_LOG_INFO, "SelfCheck: Database modification detected. Forcing "
						    "reload.");
				vd_engines_request_reload("SelfCheck");
			} else {
				vd_log(VD_LOG_DEBUG, "SelfCheck: Database status OK.");
			}
			next_selfcheck = now + (int64_t)d->s->selfcheck * 1000;
		}
	}
	free(pfd);
	free(pconn);
	free(scratch);
	return rc;
}

/* Stop: close every connection (their jobs stop at the next file), stop
 * listening and remove the socket file. */
void vd_server_cleanup(struct vd_daemon *d)
{
	while (d->conns != NULL) {
		struct vd_conn *c = d->conns;
		d->conns = c->next;
		pthread_mutex_lock(&c->mu);
		c->drop_replies = 1;
		pthread_mutex_unlock(&c->mu);
		conn_destroy(d, c);
	}
	for (size_t i = 0; i < d->nlisteners; i++)
		if (!d->socket_activated)
			close(d->listeners[i].fd);
	d->nlisteners = 0;
	if (d->unix_path != NULL && !d->socket_activated) {
		if (unlink(d->unix_path) != 0 && errno != ENOENT)
			vd_log(VD_LOG_WARNING, "Can't remove %s: %s", d->unix_path, strerror(errno));
		d->unix_path = NULL;
	}
}
