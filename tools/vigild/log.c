#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char path[4096];
	int use_file;
	int syslog;
	int time;
	int verbose;
	int debug;
	FILE *f;
} lg;

static FILE *open_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "ae");

	if (f == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "Can't open log file %s: %s", path, strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

int vd_log_open(const struct vd_log_settings *s, char *err, size_t errlen)
{
	FILE *f = NULL;

	if (s->file != NULL) {
		if (strlen(s->file) >= sizeof(lg.path)) {
			snprintf(err, errlen, "LogFile path is too long");
			return -1;
		}
		f = open_file(s->file, err, errlen);
		if (f == NULL)
			return -1;
	}
	pthread_mutex_lock(&log_lock);
	if (lg.f != NULL)
		fclose(lg.f);
	lg.f = f;
	lg.use_file = f != NULL;
	if (f != NULL)
		snprintf(lg.path, sizeof(lg.path), "%s", s->file);
	if (s->syslog && !lg.syslog)
		openlog("vigild", LOG_PID, LOG_DAEMON);
	lg.syslog = s->syslog;
	lg.time = s->time;
	lg.verbose = s->verbose;
	lg.debug = s->debug;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void vd_log_reopen(void)
{
	pthread_mutex_lock(&log_lock);
	if (lg.use_file) {
		FILE *f = open_file(lg.path, NULL, 0);
		if (f != NULL) {
			if (lg.f != NULL)
				fclose(lg.f);
			lg.f = f;
		}
	}
	pthread_mutex_unlock(&log_lock);
}

void vd_log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (lg.f != NULL)
		fclose(lg.f);
	lg.f = NULL;
	lg.use_file = 0;
	if (lg.syslog)
		closelog();
	lg.syslog = 0;
	pthread_mutex_unlock(&log_lock);
}

static const char *prefix(enum vd_log_level level)
{
	switch (level) {
	case VD_LOG_ERROR:
		return "ERROR: ";
	case VD_LOG_WARNING:
		return "WARNING: ";
	case VD_LOG_DEBUG:
		return "DEBUG: ";
	case VD_LOG_INFO:
	case VD_LOG_VERBOSE:
		break;
	}
	return "";
}

static int syslog_priority(enum vd_log_level level)
{
	switch (level) {
	case VD_LOG_ERROR:
		return LOG_ERR;
	case VD_LOG_WARNING:
		return LOG_WARNING;
	case VD_LOG_INFO:
		return LOG_INFO;
	case VD_LOG_VERBOSE:
	case VD_LOG_DEBUG:
		break;
	}
	return LOG_DEBUG;
}

static void vlog(enum vd_log_level level, const char *fmt, va_list ap) VD_PRINTF(2, 0);

static void vlog(enum vd_log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	FILE *f;

	pthread_mutex_lock(&log_lock);
	if ((level == VD_LOG_VERBOSE && !lg.verbose && !lg.debug) ||
	    (level == VD_LOG_DEBUG && !lg.debug)) {
		pthread_mutex_unlock(&log_lock);
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	if (lg.syslog)
		syslog(syslog_priority(level), "%s%s", prefix(level), line);
	f = lg.use_file ? lg.f : (lg.syslog ? NULL : stderr);
	if (f != NULL) {
		if (lg.time) {
			char date[64];
			struct tm tm;
			time_t now = time(NULL);
			if (localtime_r(&now, &tm) != NULL &&
			    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm) > 0)
				fprintf(f, "%s -> ", date);
		}
		fprintf(f, "%s%s\n", prefix(level), line);
		fflush(f);
	}
	pthread_mutex_unlock(&log_lock);
}

void vd_log(enum vd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void vd_log_engine(void *ctx, enum vg_log_level level, const char *msg)
{
	(void)ctx;
	switch (level) {
	case VG_LOG_ERROR:
		vd_log(VD_LOG_ERROR, "LibVigil: %s", msg);
		break;
	case VG_LOG_WARNING:
		vd_log(VD_LOG_WARNING, "LibVigil: %s", msg);
		break;
	case VG_LOG_NOTICE:
		vd_log(VD_LOG_INFO, "LibVigil: %s", msg);
		break;
	case VG_LOG_DEBUG:
		vd_log(VD_LOG_DEBUG, "LibVigil: %s", msg);
		break;
	}
}

struct line_cookie {
	char buf[2048];
	size_t len;
};

static void cookie_flush_line(struct line_cookie *c)
{
	const char *msg = c->buf;
	enum vd_log_level level = VD_LOG_INFO;

	c->buf[c->len] = '\0';
	if (strncmp(msg, "ERROR: ", 7) == 0) {
		level = VD_LOG_ERROR;
		msg += 7;
	} else if (strncmp(msg, "WARNING: ", 9) == 0) {
		level = VD_LOG_WARNING;
		msg += 9;
	} else if (strncmp(msg, "NOTICE: ", 8) == 0) {
		msg += 8;
	}
	if (*msg != '\0')
		vd_log(level, "%s", msg);
	c->len = 0;
}

static ssize_t cookie_write(void *cookie, const char *data, size_t size)
{
	struct line_cookie *c = cookie;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n' || c->len + 1 >= sizeof(c->buf)) {
			cookie_flush_line(c);
			if (data[i] == '\n')
				continue;
		}
		c->buf[c->len++] = data[i];
	}
	return (ssize_t)size;
}

static int cookie_close(void *cookie)
{
	struct line_cookie *c = cookie;

	if (c->len > 0)
		cookie_flush_line(c);
	free(c);
	return 0;
}

FILE *vd_log_stream(void)
{
	cookie_io_functions_t io = { NULL, cookie_write, NULL, cookie_close };
	struct line_cookie *c = calloc(1, sizeof(*c));
	FILE *f;

	if (c == NULL)
		return NULL;
	f = fopencookie(c, "w", io);
	if (f == NULL) {
		free(c);
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}
