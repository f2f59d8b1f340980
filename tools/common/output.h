/*
 * output.h - where the tools write: report lines (stdout), diagnostics
 * (stderr, or stdout with --stdout), an optional report log (-l FILE), and
 * clamscan's summary block.
 *
 * Diagnostics look like clamscan's: "ERROR: ...", "WARNING: ...", plus
 * "NOTICE: ..." for things vigil skips on purpose. Engine messages are
 * prefixed "LibVigil Error:" etc. (clamscan says "LibClamAV Error:").
 * All functions may be called from any thread.
 */
#ifndef VT_OUTPUT_H
#define VT_OUTPUT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <vigil.h>

#if defined(__GNUC__)
#define VT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define VT_PRINTF(f, a)
#endif

enum vt_msg_level {
	VT_MSG_ERROR,   /* "ERROR: " */
	VT_MSG_WARNING, /* "WARNING: " */
	VT_MSG_NOTICE,  /* "NOTICE: " */
	VT_MSG_PLAIN    /* no prefix (perror-style lines) */
};

struct vt_output {
	FILE *out;  /* NULL: report lines are only logged (--quiet) */
	FILE *msg;
	FILE *log;
	int debug;  /* show the engine's debug messages */
	int quiet;  /* clamscan's --quiet: only errors are shown (the log gets all) */
	int silent; /* drop every diagnostic */
	pthread_mutex_t lock;
};

void vt_output_init(struct vt_output *o, FILE *out, FILE *msg);

/* Open path for appending and write clamscan's separator line. */
int vt_output_open_log(struct vt_output *o, const char *path, char *err, size_t errlen);

/* Flush everything and close the log. */
void vt_output_finish(struct vt_output *o);

void vt_msg(struct vt_output *o, enum vt_msg_level level, int to_log, const char *fmt, ...)
	VT_PRINTF(4, 5);

/* One report line on out ("path: OK"), copied to the log when to_log. */
void vt_report(struct vt_output *o, int to_log, const char *fmt, ...) VT_PRINTF(3, 4);

/* vg_log_fn for struct vg_engine_options.log; ctx is a struct vt_output. */
void vt_engine_log(void *ctx, enum vg_log_level level, const char *msg);

#define VT_COUNT_BLOCK 4096u /* clamscan's CL_COUNT_PRECISION */

struct vt_scan_totals {
	uint64_t known_viruses;
	const char *engine_version;
	uint64_t dirs;
	uint64_t files;
	uint64_t infected;
	uint64_t errors;
	uint64_t bytes_scanned; /* exact sums */
	uint64_t bytes_read;
	/* clamscan counts data in whole 4 KiB blocks per file, rounding down, so
	 * its "Data scanned"/"Data read" lines use these. */
	uint64_t blocks_scanned;
	uint64_t blocks_read;
	struct timespec started;  /* CLOCK_MONOTONIC */
	struct timespec finished; /* CLOCK_MONOTONIC */
	time_t start_date;
	time_t end_date;
};

/* Adds one file's bytes read and scanned to both kinds of counters. */
void vt_totals_add_data(struct vt_scan_totals *t, uint64_t read, uint64_t scanned);

/* Elapsed milliseconds between started and finished. */
uint64_t vt_totals_elapsed_ms(const struct vt_scan_totals *t);

/* A line for the log only (nothing when no log is open). */
void vt_log_line(struct vt_output *o, const char *fmt, ...) VT_PRINTF(2, 3);

/* clamscan's "----------- SCAN SUMMARY -----------" block (with the blank
 * line before it) on out when to_out is set, and in the log when open. */
void vt_report_summary(struct vt_output *o, const struct vt_scan_totals *t, int to_out);

/* "%Y:%m:%d %H:%M:%S" in local time, as clamscan's Start Date / End Date. */
void vt_format_date(char *buf, size_t len, time_t t);

#endif /* VT_OUTPUT_H */
