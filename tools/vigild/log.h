/*
 * log.h - vigild's log: standard error (for the journal), a LogFile, or
 * syslog. One line per call, from any thread.
 */
#ifndef VIGILD_LOG_H
#define VIGILD_LOG_H

#include <stddef.h>
#include <stdio.h>

#include <vigil.h>

#if defined(__GNUC__)
#define VD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define VD_PRINTF(f, a)
#endif

enum vd_log_level {
	VD_LOG_ERROR,
	VD_LOG_WARNING,
	VD_LOG_INFO,    /* startup, reloads, detections */
	VD_LOG_VERBOSE, /* LogVerbose: connections, clean results */
	VD_LOG_DEBUG    /* --debug */
};

struct vd_log_settings {
	const char *file; /* NULL: standard error (or syslog) */
	int syslog;
	int time;         /* LogTime: prefix lines with the date */
	int verbose;
	int debug;
};

/* Applies the settings and opens the file (appending). Returns 0, or -1
 * with err set. May be called again (the previous file is closed). */
int vd_log_open(const struct vd_log_settings *s, char *err, size_t errlen);

/* SIGHUP: close and reopen the log file (after rotation). */
void vd_log_reopen(void);

void vd_log_close(void);

void vd_log(enum vd_log_level level, const char *fmt, ...) VD_PRINTF(2, 3);

/* A stream whose lines go to the log; "ERROR: ", "WARNING: " and "NOTICE: "
 * prefixes choose the level (for tools/common code that prints on a FILE).
 * Close with fclose(). */
FILE *vd_log_stream(void);

/* vg_log_fn for the engine. */
void vd_log_engine(void *ctx, enum vg_log_level level, const char *msg);

#endif /* VIGILD_LOG_H */
