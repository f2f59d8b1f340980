/*
 * main.c - vigild: a drop-in replacement for clamd.
 *
 * Start-up order: settings, log, sockets (as root when started as root),
 * background (unless Foreground), pid file, drop to User, databases,
 * scanning threads, then the connection loop. SIGTERM and SHUTDOWN stop it
 * cleanly (socket file and pid file removed), SIGUSR2 and RELOAD reload the
 * databases without stopping, SIGHUP reopens the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "engines.h"
#include "action.h"
#include "log.h"
#include "values.h"

static const char usage_text[] =
	"Usage: vigild [options]\n"
	"\n"
	"vigil's scanning daemon. It speaks clamd's protocol on a UNIX socket (and on TCP\n"
	"when configured), so clamdscan, clamav-milter and other clamd clients work with it.\n"
	"\n"
	"Options:\n"
	"  -c, --config-file=FILE   read FILE instead of " VD_DEFAULT_CONFIG "\n"
	"  -F, --foreground[=yes|no] stay in the foreground (also: Foreground yes)\n"
	"      --debug              log debugging messages\n"
	"  -V, --version            print the version and exit\n"
	"  -h, --help               print this help and exit\n"
	"\n"
	"Signals: SIGTERM stops, SIGUSR2 reloads the databases, SIGHUP reopens the log.\n"
	"See vigild(8) and vigild.conf(5).\n";

static int notify_fd = -1; /* daemonizing: the parent waits on this pipe */

/* systemd's sd_notify(), without libsystemd. */
static void sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

static void startup_done(int ok)
{
	if (notify_fd >= 0) {
		char c = ok ? 'R' : 'F';
		if (write(notify_fd, &c, 1) != 1)
			vd_log(VD_LOG_DEBUG, "can't notify the parent process");
		close(notify_fd);
		notify_fd = -1;
	}
	if (ok)
		sd_notify_msg("READY=1");
}

/* Go to the background; the parent exits once the child is ready (0) or
 * has failed (1), so that scripts can rely on the socket being there. */
static int daemonize(void)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0) {
		vd_log(VD_LOG_ERROR, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		vd_log(VD_LOG_ERROR, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		char c = 'F';
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		if (c != 'R')
			fputs("ERROR: vigild could not start; the reason is in its log (LogFile, or "
			      "syslog)\n",
			      stderr);
		_exit(c == 'R' ? 0 : 1);
	}
	close(p[0]);
	notify_fd = p[1];
	if (setsid() < 0)
		vd_log(VD_LOG_WARNING, "setsid: %s", strerror(errno));
	if (chdir("/") != 0)
		vd_log(VD_LOG_WARNING, "chdir /: %s", strerror(errno));
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	return 0;
}

/* The PID file is locked (flock) for the daemon's life, before any socket
 * is bound: a second vigild given the same PidFile stops there, before it
 * can take over the socket or remove the file of the one running. */
static int pid_fd = -1;

static int lock_pid_file(const char *path)
{
	mode_t old = umask(0022);
	char other[32] = "";
	ssize_t n;

	pid_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	umask(old);
	if (pid_fd < 0) {
		vd_log(VD_LOG_ERROR, "Can't open the PID file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(pid_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK) {
		n = pread(pid_fd, other, sizeof(other) - 1, 0);
		other[n > 0 ? n : 0] = '\0';
		other[strcspn(other, "\n")] = '\0';
		vd_log(VD_LOG_ERROR, "PidFile %s is held by a running vigild (PID %s): stop it, or "
				     "give this one another PidFile",
		       path, other[0] ? other : "unknown");
	} else {
		vd_log(VD_LOG_ERROR, "Can't lock the PID file %s: %s", path, strerror(errno));
	}
	close(pid_fd);
	pid_fd = -1;
	return -1;
}

static int write_pid_file(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%u\n", (unsigned)getpid());

	if (ftruncate(pid_fd, 0) != 0 || pwrite(pid_fd, buf, (size_t)n, 0) != (ssize_t)n) {
		vd_log(VD_LOG_ERROR, "Can't save PID in file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == NULL || geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		vd_log(VD_LOG_ERROR, "User %s does not exist; create it or change User in the "
				     "configuration",
		       user);
		return -1;
	}
	if (pw->pw_uid == 0)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		vd_log(VD_LOG_ERROR, "Can't run as %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		vd_log(VD_LOG_ERROR, "Dropping privileges to %s did not stick; refusing to run",
		       user);
		return -1;
	}
	vd_log(VD_LOG_INFO, "Running as user %s (uid %u)", pw->pw_name, (unsigned)pw->pw_uid);
	return 0;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Keep MaxConnections (plus the descriptors jobs open) under the limit. */
static void fit_connections(struct vd_settings *s)
{
	struct rlimit rl;
	rlim_t reserve = 64 + (rlim_t)s->max_threads * 4;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	if (rl.rlim_cur <= reserve + 4) {
		s->max_connections = 4;
	} else if (s->max_connections > rl.rlim_cur - reserve) {
		s->max_connections = (unsigned)(rl.rlim_cur - reserve);
		vd_log(VD_LOG_WARNING, "MaxConnections lowered to %u (open file limit %llu)",
		       s->max_connections, (unsigned long long)rl.rlim_cur);
	}
}

static void on_job_done(void *ctx)
{
	struct vd_daemon *d = ctx;

	atomic_store(&d->retry_blocked, 1);
	vd_server_wake(d);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config-file", required_argument, NULL, 'c' },
		{ "foreground", optional_argument, NULL, 'F' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = VD_DEFAULT_CONFIG;
	int config_given = 0, foreground = -1, debug = 0, opt, rc = 1;
	struct vd_settings s;
	struct vd_daemon d;
	struct vd_log_settings ls;
	struct vg_engine *engine = NULL;
	sigset_t sigs;
	char err[512];

	while ((opt = getopt_long(argc, argv, "c:FVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			config_given = 1;
			break;
		case 'F':
			if (optarg == NULL) {
				foreground = 1;
			} else if (vt_parse_bool(optarg, &foreground) != 0) {
				fprintf(stderr, "ERROR: --foreground: expected yes or no, not '%s'\n",
					optarg);
				return 1;
			}
			break;
		case 'd':
			debug = 1;
			break;
		case 'V':
			printf("vigild %s (libvigil %s)\n", VG_VERSION_STRING, vg_version());
			return 0;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ERROR: unexpected argument '%s'\n%s", argv[optind], usage_text);
		return 1;
	}

	if (vd_settings_load(&s, config_path, config_given) != 0)
		return 1;
	if (foreground >= 0)
		s.foreground = foreground;
	if (debug)
		s.debug = 1;

	memset(&d, 0, sizeof(d));
	d.s = &s;
	d.sig_fd = -1;
	d.wake_fd = -1;

	/* Signals are read from a descriptor by the connection thread; every
	 * thread inherits this mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR2);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	memset(&ls, 0, sizeof(ls));
	ls.file = s.log_file;
	/* In the background without a LogFile, syslog is the only place left. */
	ls.syslog = s.log_syslog || (!s.foreground && s.log_file == NULL);
	ls.time = s.log_time;
	ls.verbose = s.log_verbose;
	ls.debug = s.debug;
	if (vd_log_open(&ls, err, sizeof(err)) != 0) {
		fprintf(stderr, "ERROR: %s\n", err);
		goto out;
	}
	vd_log(VD_LOG_INFO, "vigild %s starting (configuration: %s%s)", VG_VERSION_STRING,
	       config_path, s.conf.path == NULL ? ", not found: defaults" : "");

	raise_fd_limit();
	fit_connections(&s);
	if (s.pid_file != NULL && lock_pid_file(s.pid_file) != 0)
		goto out;
	if (vd_server_listen(&d) != 0)
		goto out;
	/* In the foreground, connections are accepted once the PID file names
	 * this process; in the background, whoever waits for the parent to
	 * exit finds the child's PID written. */
	if (s.foreground && s.pid_file != NULL && write_pid_file(s.pid_file) != 0)
		goto out;
	if (vd_server_accept_start(&d) != 0)
		goto out;
	if (!s.foreground && daemonize() != 0)
		goto out;
	if (!s.foreground && s.pid_file != NULL && write_pid_file(s.pid_file) != 0)
		goto out;
	if (vd_action_start(&s) != 0)
		goto out;
	if (drop_privileges(s.user) != 0)
		goto out;

	d.sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	d.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d.sig_fd < 0 || d.wake_fd < 0) {
		vd_log(VD_LOG_ERROR, "Can't create the event descriptors: %s", strerror(errno));
		goto out;
	}

	vd_settings_log(&s);
	vd_log(VD_LOG_INFO, "Reading databases.");
	engine = vd_engine_build(&s);
	if (engine == NULL)
		goto out;
	if (vd_engines_init(&s, engine) != 0) { /* transferred */
		engine = NULL;
		goto out;
	}
	engine = NULL;

	d.pool = vd_pool_new(s.max_threads, s.max_queue, s.idle_timeout, on_job_done, &d);
	if (d.pool == NULL) {
		vd_log(VD_LOG_ERROR, "Can't start the scanning threads");
		goto out;
	}
	startup_done(1);
	vd_log(VD_LOG_INFO, "vigild %s ready: %u scanning threads.", VG_VERSION_STRING,
	       s.max_threads);
	rc = vd_server_run(&d) == 0 ? 0 : 1;
	sd_notify_msg("STOPPING=1");
	vd_log(VD_LOG_INFO, "Stopping.");

out:
	startup_done(0); /* no-op after success */
	vd_server_cleanup(&d);
	vd_pool_free(d.pool);
	vd_action_stop();
	vd_engines_shutdown();
	vg_engine_unref(engine);
	if (d.sig_fd >= 0)
		close(d.sig_fd);
	if (d.wake_fd >= 0)
		close(d.wake_fd);
	if (pid_fd >= 0) { /* locked, so ours */
		if (unlink(s.pid_file) != 0 && errno != ENOENT)
			vd_log(VD_LOG_WARNING, "Can't remove %s: %s", s.pid_file, strerror(errno));
		close(pid_fd);
	}
	vd_log(VD_LOG_INFO, "vigild stopped (exit code %d).", rc);
	vd_log_close();
	vd_settings_free(&s);
	return rc;
}
