/*
 * action.c - the vigild end of the vigil-actd helper (action.h).
 *
 * The helper is started with one end of a SOCK_SEQPACKET socket pair on
 * descriptor 3 and keeps the privileges vigild is about to drop. A request
 * carries the scanned file's read-only descriptor; the helper re-checks
 * everything and replies with one fixed-size message, which is logged. A
 * helper that dies or stops answering is logged once; detections are then
 * reported as before and left in place.
 */
#include "action.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "action_wire.h"
#include "log.h"

#define HELPER_FD 3
#define REPLY_TIMEOUT_MS 60000 /* a large file is copied and synced */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int sock = -1;
static pid_t helper_pid = -1;
static int broken;
static const struct vd_settings *cfg;

/* path is one of the ActionIncludePath folders or inside one. The helper
 * checks again: this only keeps files vigild may not act on out of its
 * queue and the error log. */
static int included(const char *path)
{
	for (size_t i = 0; i < cfg->action_include_count; i++)
		if (vt_path_within(path, cfg->action_include[i]))
			return 1;
	return 0;
}

int vd_action_enabled(void)
{
	return sock >= 0;
}

int vd_action_start(const struct vd_settings *s)
{
	int sv[2];
	pid_t pid;
	size_t argc = 0;
	char **argv;
	char fdarg[16];

	if (!s->action_quarantine)
		return 0;
	if (access(s->action_helper, X_OK) != 0) {
		vd_log(VD_LOG_ERROR, "DetectionAction: can't run the helper %s: %s; install it or "
				     "set ActionHelper", s->action_helper, strerror(errno));
		return -1;
	}
	if (geteuid() != 0)
		vd_log(VD_LOG_WARNING, "DetectionAction: vigild is not started as root, so "
				       "vigil-actd can only move files this user may move");
	argv = calloc(6 + 2 * s->action_include_count + 1, sizeof(char *));
	if (argv == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		vd_log(VD_LOG_ERROR, "DetectionAction: can't start the helper: %s", strerror(errno));
		free(argv);
		return -1;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", HELPER_FD);
	argv[argc++] = (char *)"vigil-actd";
	argv[argc++] = (char *)"--fd";
	argv[argc++] = fdarg;
	argv[argc++] = (char *)"--store";
	argv[argc++] = (char *)s->quarantine_dir;
	for (size_t i = 0; i < s->action_include_count; i++) {
		argv[argc++] = (char *)"--include";
		argv[argc++] = (char *)s->action_include[i];
	}
	argv[argc] = NULL;
	pid = fork();
	if (pid < 0) {
		vd_log(VD_LOG_ERROR, "DetectionAction: can't start the helper: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(argv);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], HELPER_FD) < 0)
			_exit(127);
		/* only stdin/stdout/stderr and the socket reach the helper */
		for (int fd = HELPER_FD + 1; fd < 1024; fd++)
			close(fd);
		execv(s->action_helper, argv);
		_exit(127);
	}
	close(sv[1]);
	free(argv);
	cfg = s;
	sock = sv[0];
	helper_pid = pid;
	vd_log(VD_LOG_INFO, "DetectionAction: files found infected in %zu folder(s) go to the "
			    "quarantine store %s (helper vigil-actd, pid %d)",
	       s->action_include_count, s->quarantine_dir, (int)pid);
	return 0;
}

static void mark_broken(const char *why)
{
	if (!broken)
		vd_log(VD_LOG_ERROR, "DetectionAction: the helper vigil-actd %s; infected files "
				     "are no longer moved (restart vigild)", why);
	broken = 1;
}

void vd_action_found(int fd, const char *path, const struct stat *scanned,
		     const char *const *names, size_t count)
{
	static uint8_t buf[VT_ACTION_MAX_PACKET]; /* under mu */
	struct vt_action_rep rep;
	struct pollfd p;
	size_t len;
	long n;
	int rfd = -1, rc;
	char *real;

	if (sock < 0)
		return;
	/* the helper wants the canonical name; a name with a symbolic link in
	 * it is refused there anyway */
	real = realpath(path, NULL);
	if (!included(real ? real : path)) {
		vd_log(VD_LOG_VERBOSE, "%s: left in place (outside every ActionIncludePath)", path);
		free(real);
		return;
	}
	pthread_mutex_lock(&mu);
	if (broken)
		goto out;
	len = vt_action_encode(buf, sizeof(buf), VT_ACTION_QUARANTINE, real ? real : path, scanned,
			       names, count);
	if (len == 0) {
		vd_log(VD_LOG_ERROR, "%s: not quarantined: its name or detection names are too "
				     "long to pass to vigil-actd", path);
		goto out;
	}
	if (vt_send_fd(sock, buf, len, fd) != 0) {
		mark_broken(errno == EPIPE ? "has exited" : "can't be reached");
		goto out;
	}
	p.fd = sock;
	p.events = POLLIN;
	do
		rc = poll(&p, 1, REPLY_TIMEOUT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		mark_broken("did not answer within 60 seconds");
		goto out;
	}
	n = vt_recv_fd(sock, &rep, sizeof(rep), &rfd);
	if (rfd >= 0)
		close(rfd);
	if (n == 0 || (n < 0 && errno != EBADMSG)) {
		mark_broken("has exited");
		goto out;
	}
	if (n != (long)sizeof(rep) || rep.magic != VT_ACTION_REP_MAGIC) {
		mark_broken("sent a malformed reply");
		goto out;
	}
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	vd_log(rep.status == 0 ? VD_LOG_INFO : VD_LOG_ERROR, "%s", rep.msg);
out:
	pthread_mutex_unlock(&mu);
	free(real);
}

void vd_action_stop(void)
{
	int status;

	if (sock >= 0) {
		close(sock); /* end of stream: the helper exits */
		sock = -1;
	}
	if (helper_pid > 0) {
		for (int i = 0; i < 50; i++) {
			pid_t r = waitpid(helper_pid, &status, WNOHANG);
			if (r == helper_pid || (r < 0 && errno == ECHILD)) {
				helper_pid = -1;
				return;
			}
			struct timespec ts = { 0, 100 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		vd_log(VD_LOG_WARNING, "DetectionAction: vigil-actd (pid %d) did not exit; killing it",
		       (int)helper_pid);
		kill(helper_pid, SIGKILL);
		waitpid(helper_pid, &status, 0);
		helper_pid = -1;
	}
}
