#include "output.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

void vt_output_init(struct vt_output *o, FILE *out, FILE *msg)
{
	memset(o, 0, sizeof(*o));
	o->out = out;
	o->msg = msg;
	pthread_mutex_init(&o->lock, NULL);
}

int vt_output_open_log(struct vt_output *o, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "a");

	if (f == NULL) {
		snprintf(err, errlen, "Can't open log file %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "\n-------------------------------------------------------------------------------\n\n");
	o->log = f;
	return 0;
}

void vt_output_finish(struct vt_output *o)
{
	pthread_mutex_lock(&o->lock);
	if (o->out != NULL)
		fflush(o->out);
	fflush(o->msg);
	if (o->log != NULL) {
		fclose(o->log);
		o->log = NULL;
	}
	pthread_mutex_unlock(&o->lock);
}

static const char *level_prefix(enum vt_msg_level level)
{
	switch (level) {
	case VT_MSG_ERROR:
		return "ERROR: ";
	case VT_MSG_WARNING:
		return "WARNING: ";
	case VT_MSG_NOTICE:
		return "NOTICE: ";
	case VT_MSG_PLAIN:
		break;
	}
	return "";
}

static void emit(struct vt_output *o, FILE *f, int to_log, const char *prefix, const char *fmt,
		 va_list ap) VT_PRINTF(5, 0);

static void emit(struct vt_output *o, FILE *f, int to_log, const char *prefix, const char *fmt,
		 va_list ap)
{
	va_list ap2;

	va_copy(ap2, ap);
	pthread_mutex_lock(&o->lock);
	if (f != NULL) {
		/* Keep diagnostics next to the report lines they concern. */
		if (f != o->out && o->out != NULL)
			fflush(o->out);
		fputs(prefix, f);
		vfprintf(f, fmt, ap);
		fputc('\n', f);
		if (f != o->out)
			fflush(f);
	}
	if (to_log && o->log != NULL) {
		fputs(prefix, o->log);
		vfprintf(o->log, fmt, ap2);
		fputc('\n', o->log);
	}
	pthread_mutex_unlock(&o->lock);
	va_end(ap2);
}

void vt_msg(struct vt_output *o, enum vt_msg_level level, int to_log, const char *fmt, ...)
{
	va_list ap;

	FILE *f = o->msg;

	if (o->silent)
		return;
	if (o->quiet && (level == VT_MSG_WARNING || level == VT_MSG_NOTICE)) {
		if (!to_log || o->log == NULL)
			return;
		f = NULL; /* still logged */
	}
	va_start(ap, fmt);
	emit(o, f, to_log, level_prefix(level), fmt, ap);
	va_end(ap);
}

void vt_report(struct vt_output *o, int to_log, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(o, o->out, to_log, "", fmt, ap);
	va_end(ap);
}

void vt_log_line(struct vt_output *o, const char *fmt, ...)
{
	va_list ap;

	if (o->log == NULL)
		return;
	va_start(ap, fmt);
	pthread_mutex_lock(&o->lock);
	vfprintf(o->log, fmt, ap);
	fputc('\n', o->log);
	pthread_mutex_unlock(&o->lock);
	va_end(ap);
}

void vt_engine_log(void *ctx, enum vg_log_level level, const char *msg)
{
	struct vt_output *o = ctx;
	const char *prefix;

	switch (level) {
	case VG_LOG_ERROR:
		prefix = "LibVigil Error";
		break;
	case VG_LOG_WARNING:
		if (o->quiet)
			return;
		prefix = "LibVigil Warning";
		break;
	case VG_LOG_NOTICE:
		if (o->quiet)
			return;
		prefix = "LibVigil Notice";
		break;
	case VG_LOG_DEBUG:
	default:
		if (!o->debug)
			return;
		prefix = "LibVigil Debug";
		break;
	}
	vt_msg(o, VT_MSG_PLAIN, 0, "%s: %s", prefix, msg);
}

void vt_totals_add_data(struct vt_scan_totals *t, uint64_t read, uint64_t scanned)
{
	t->bytes_read += read;
	t->bytes_scanned += scanned;
	t->blocks_read += read / VT_COUNT_BLOCK;
	t->blocks_scanned += scanned / VT_COUNT_BLOCK;
}

uint64_t vt_totals_elapsed_ms(const struct vt_scan_totals *t)
{
	int64_t sec = (int64_t)(t->finished.tv_sec - t->started.tv_sec);
	int64_t nsec = (int64_t)(t->finished.tv_nsec - t->started.tv_nsec);
	int64_t ms = sec * 1000 + nsec / 1000000;

	return ms < 0 ? 0 : (uint64_t)ms;
}

void vt_format_date(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y:%m:%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

static void write_summary(FILE *f, const struct vt_scan_totals *t)
{
	const double mib = 1024.0 * 1024.0;
	uint64_t ms = vt_totals_elapsed_ms(t);
	unsigned long long secs = (unsigned long long)(ms / 1000);
	char start[64], end[64];

	vt_format_date(start, sizeof(start), t->start_date);
	vt_format_date(end, sizeof(end), t->end_date);
	fprintf(f, "\n----------- SCAN SUMMARY -----------\n");
	fprintf(f, "Known viruses: %llu\n", (unsigned long long)t->known_viruses);
	fprintf(f, "Engine version: %s\n", t->engine_version);
	fprintf(f, "Scanned directories: %llu\n", (unsigned long long)t->dirs);
	fprintf(f, "Scanned files: %llu\n", (unsigned long long)t->files);
	fprintf(f, "Infected files: %llu\n", (unsigned long long)t->infected);
	if (t->errors > 0)
		fprintf(f, "Total errors: %llu\n", (unsigned long long)t->errors);
	fprintf(f, "Data scanned: %.2f MB\n", (double)t->blocks_scanned * VT_COUNT_BLOCK / mib);
	fprintf(f, "Data read: %.2f MB (ratio %.2f:1)\n", (double)t->blocks_read * VT_COUNT_BLOCK / mib,
		t->blocks_read > 0 ? (double)t->blocks_scanned / (double)t->blocks_read : 0.0);
	fprintf(f, "Time: %llu.%03u sec (%llu m %llu s)\n", secs, (unsigned)(ms % 1000), secs / 60,
		secs % 60);
	fprintf(f, "Start Date: %s\n", start);
	fprintf(f, "End Date:   %s\n", end);
}

void vt_report_summary(struct vt_output *o, const struct vt_scan_totals *t, int to_out)
{
	pthread_mutex_lock(&o->lock);
	if (to_out && o->out != NULL) {
		write_summary(o->out, t);
		fflush(o->out);
	}
	if (o->log != NULL)
		write_summary(o->log, t);
	pthread_mutex_unlock(&o->lock);
}
