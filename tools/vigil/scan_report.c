/*
 * scan_report.c - scanning one record (worker side) and reporting records
 * and the summary (main thread), as clamscan's text or as JSON lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "scan.h"

static int copy_match(void *ctx, const struct vg_match *m)
{
	struct record *r = ctx;
	struct match_copy *c;

	if (r->match_count == r->match_cap) {
		size_t ncap = r->match_cap ? r->match_cap * 2 : 4;
		struct match_copy *n = realloc(r->matches, ncap * sizeof(*n));
		if (n == NULL)
			oom();
		r->matches = n;
		r->match_cap = ncap;
	}
	c = &r->matches[r->match_count];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(m->name != NULL ? m->name : "");
	c->database = m->database != NULL ? xstrdup(m->database) : NULL;
	c->kind = m->kind;
	c->offset = m->offset;
	c->offset_known = m->offset_known;
	if (m->container_depth > 0 && m->container_path != NULL) {
		c->container = xcalloc(m->container_depth, sizeof(char *));
		for (size_t i = 0; i < m->container_depth; i++)
			c->container[i] = xstrdup(m->container_path[i] != NULL ? m->container_path[i] : "");
		c->container_depth = m->container_depth;
	}
	r->match_count++;
	return 0;
}

static void scan_stdin(struct scan_state *s, struct record *r)
{
	struct vg_scan_stream *stream = NULL;
	static unsigned char buf[1 << 16];
	enum vg_status st;

	st = vg_scan_stream_new(s->engine, &s->scan_opts, &stream);
	if (st != VG_OK) {
		r->status = st;
		return;
	}
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r->status = VG_EIO;
			r->scan_errno = errno;
			goto out;
		}
		if (n == 0)
			break;
		r->size += (uint64_t)n;
		st = vg_scan_stream_write(stream, buf, (size_t)n);
		if (st != VG_OK) {
			r->status = st;
			r->scan_errno = errno;
			goto out;
		}
	}
	errno = 0;
	r->status = vg_scan_stream_finish(stream, copy_match, r, &r->summary);
	r->scan_errno = errno;
out:
	vg_scan_stream_free(stream);
}

void scan_work_record(struct scan_state *s, struct record *r)
{
	if (s->workers != NULL) {
		r->status = vw_scan(s->workers, r->is_stdin ? STDIN_FILENO : r->fd, r->is_stdin,
				    &s->scan_opts, copy_match, r, &r->summary, &r->scan_errno,
				    r->failure, sizeof(r->failure));
		if (r->is_stdin) {
			r->size = r->summary.bytes_read;
			return;
		}
	} else if (r->is_stdin) {
		scan_stdin(s, r);
		return;
	} else {
		errno = 0;
		r->status = vg_scan_fd(s->engine, r->fd, &s->scan_opts, copy_match, r, &r->summary);
		r->scan_errno = errno;
	}
	scan_done_with_fd(s, r);
}

/* Acting on a detection works on the very file scanned: record_free()
 * closes it once reported. */
void scan_done_with_fd(struct scan_state *s, struct record *r)
{
	if (s->cfg->action == ACT_NONE) {
		close(r->fd);
		r->fd = -1;
	}
}

void scan_lane_submit(struct scan_state *s, struct vw_lane *l, struct record *r)
{
	vw_lane_submit(l, r->fd, &s->scan_opts, copy_match, r);
}

struct record *scan_lane_collect(struct scan_state *s, struct vw_lane *l)
{
	struct vg_scan_summary sum;
	enum vg_status st;
	char failure[sizeof(((struct record *)NULL)->failure)];
	int err;
	struct record *r = vw_lane_collect(l, &st, &sum, &err, failure, sizeof(failure));

	r->status = st;
	r->summary = sum;
	r->scan_errno = err;
	memcpy(r->failure, failure, sizeof(failure));
	scan_done_with_fd(s, r);
	return r;
}

void record_free(struct record *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->match_count; i++) {
		struct match_copy *m = &r->matches[i];
		free(m->name);
		free(m->database);
		for (size_t j = 0; j < m->container_depth; j++)
			free(m->container[j]);
		free(m->container);
	}
	free(r->matches);
	free(r->path);
	free(r);
}

/* ---------------------------------------------------------------------- */

enum outcome { OUT_OK, OUT_FOUND, OUT_ERROR, OUT_OTHER };

static const char *limit_name(enum vg_limit_hit l)
{
	switch (l) {
	case VG_LIMIT_FILESIZE:
		return "MaxFileSize";
	case VG_LIMIT_SCANSIZE:
		return "MaxScanSize";
	case VG_LIMIT_RECURSION:
		return "MaxRecursion";
	case VG_LIMIT_FILES:
		return "MaxFiles";
	case VG_LIMIT_SCANTIME:
		return "MaxScanTime";
	case VG_LIMIT_NONE:
		break;
	}
	return NULL;
}

static const char *kind_name(enum vg_sig_kind k)
{
	switch (k) {
	case VG_SIG_BODY:
		return "body";
	case VG_SIG_MD5:
		return "md5";
	case VG_SIG_SHA1:
		return "sha1";
	case VG_SIG_SHA256:
		return "sha256";
	case VG_SIG_PE_SECTION:
		return "pe-section";
	case VG_SIG_PE_IMPORT:
		return "pe-import";
	case VG_SIG_LOGICAL:
		return "logical";
	case VG_SIG_CONTAINER:
		return "container";
	}
	return "other";
}

/* Matches to report: all with --allmatch, else the first (as clamscan). */
static size_t shown_matches(const struct scan_state *s, const struct record *r)
{
	if (s->cfg->allmatch || r->match_count <= 1)
		return r->match_count;
	return 1;
}

/* The error text of a failed scan, in the form "<what>[: <errno text>]". */
static void scan_error_text(const struct record *r, char *buf, size_t len)
{
	if (r->failure[0] != '\0')
		snprintf(buf, len, "%s", r->failure);
	else if (r->status == VG_EIO && r->scan_errno != 0)
		snprintf(buf, len, "%s: %s", vg_status_str(r->status), strerror(r->scan_errno));
	else
		snprintf(buf, len, "%s", vg_status_str(r->status));
}

static void json_begin(FILE *f, const char *path, const char *status)
{
	fputs("{\"type\":\"result\",\"path\":", f);
	vt_json_string(f, path);
	if (!vt_utf8_valid(path)) {
		fputs(",\"path_hex\":", f);
		vt_json_hex(f, path);
	}
	fprintf(f, ",\"status\":\"%s\"", status);
}

static void json_end(FILE *f)
{
	fputs("}\n", f);
}

static void json_simple(struct scan_state *s, const struct record *r, const char *status,
			const char *key, const char *value)
{
	FILE *f = s->out->out;

	if (f == NULL)
		return;
	json_begin(f, r->path, status);
	if (key != NULL) {
		fprintf(f, ",\"%s\":", key);
		vt_json_string(f, value);
	}
	json_end(f);
}

static void json_scan(struct scan_state *s, const struct record *r, enum outcome o)
{
	FILE *f = s->out->out;
	const char *limit = limit_name(r->summary.limit);
	char err[256];

	if (f == NULL)
		return;
	json_begin(f, r->path, o == OUT_FOUND ? "FOUND" : o == OUT_OK ? "OK" : "ERROR");
	if (o == OUT_ERROR) {
		scan_error_text(r, err, sizeof(err));
		fputs(",\"error\":", f);
		vt_json_string(f, err);
		json_end(f);
		return;
	}
	fprintf(f, ",\"size\":%llu,\"scanned_bytes\":%llu", (unsigned long long)r->size,
		(unsigned long long)r->summary.bytes_scanned);
	if (r->summary.verdict == VG_VERDICT_NOT_SCANNED)
		fputs(",\"not_scanned\":true", f);
	if (limit != NULL) {
		fputs(",\"limit\":", f);
		vt_json_string(f, limit);
	}
	if (o == OUT_FOUND) {
		size_t n = shown_matches(s, r);
		fputs(",\"signatures\":[", f);
		for (size_t i = 0; i < n; i++) {
			const struct match_copy *m = &r->matches[i];
			fputs(i ? ",{\"name\":" : "{\"name\":", f);
			vt_json_string(f, m->name);
			fprintf(f, ",\"kind\":\"%s\",\"database\":", kind_name(m->kind));
			if (m->database != NULL)
				vt_json_string(f, m->database);
			else
				fputs("null", f);
			if (m->offset_known)
				fprintf(f, ",\"offset\":%llu", (unsigned long long)m->offset);
			else
				fputs(",\"offset\":null", f);
			/* the scanned file's own name, then the names inside it */
			fputs(",\"container_path\":[", f);
			{
				const char *slash = strrchr(r->path, '/');
				vt_json_string(f, slash != NULL && slash[1] ? slash + 1 : r->path);
			}
			for (size_t j = 0; j < m->container_depth; j++) {
				fputc(',', f);
				vt_json_string(f, m->container[j]);
			}
			fputs("]}", f);
		}
		fputc(']', f);
	}
	json_end(f);
}

static void report_scan(struct scan_state *s, struct record *r)
{
	const struct scan_config *cfg = s->cfg;
	struct vt_output *out = s->out;
	enum outcome o;

	if (r->status != VG_OK)
		o = OUT_ERROR;
	else if (r->summary.verdict == VG_VERDICT_FOUND)
		o = OUT_FOUND;
	else
		o = OUT_OK;

	if (o != OUT_ERROR)
		vt_totals_add_data(&s->totals, 0, r->summary.bytes_scanned);
	switch (o) {
	case OUT_ERROR:
		s->totals.errors++;
		break;
	case OUT_FOUND:
		s->totals.files++;
		s->totals.infected++;
		break;
	default:
		s->totals.files++;
		break;
	}

	if (cfg->json) {
		if ((o == OUT_FOUND) || (o == OUT_OK && !cfg->infected_only && !cfg->suppress_ok) ||
		    (o == OUT_ERROR && !cfg->infected_only))
			json_scan(s, r, o);
		if (o == OUT_FOUND) {
			size_t n = shown_matches(s, r);
			for (size_t i = 0; i < n; i++)
				vt_log_line(out, "%s: %s FOUND", r->path, r->matches[i].name);
		}
		if (o == OUT_ERROR && cfg->infected_only) {
			char err[256];
			scan_error_text(r, err, sizeof(err));
			vt_msg(out, VT_MSG_WARNING, 0, "%s: %s", r->path, err);
		}
		if (o == OUT_FOUND)
			scan_action_record(s, r);
		return;
	}

	switch (o) {
	case OUT_FOUND:
		if (r->match_count == 0) {
			vt_report(out, 1, "%s: %s FOUND", r->path, "Unknown.Signature");
			scan_action_record(s, r);
			break;
		}
		for (size_t i = 0, n = shown_matches(s, r); i < n; i++)
			vt_report(out, 1, "%s: %s FOUND", r->path, r->matches[i].name);
		scan_action_record(s, r);
		break;
	case OUT_OK:
		if (!cfg->infected_only && !cfg->suppress_ok)
			vt_report(out, 0, "%s: OK", r->path);
		break;
	default: {
		char err[256];
		scan_error_text(r, err, sizeof(err));
		if (!cfg->infected_only)
			vt_report(out, 1, "%s: %s ERROR", r->path, err);
		else
			vt_msg(out, VT_MSG_WARNING, 0, "%s: %s", r->path, err);
		break;
	}
	}
}

/* Lines clamscan prints on stdout unless -i ("path: Excluded" ...): printed
 * as report lines, or as JSON with the given status; with -i only the
 * errors among them are kept, as warnings on stderr. */
static void report_plain(struct scan_state *s, const struct record *r, const char *text,
			 const char *json_status, const char *json_key, const char *json_value,
			 int is_error)
{
	const struct scan_config *cfg = s->cfg;

	if (cfg->infected_only) {
		if (is_error)
			vt_msg(s->out, VT_MSG_WARNING, 0, "%s: %s", r->path, text);
		return;
	}
	if (cfg->json) {
		json_simple(s, r, json_status, json_key, json_value);
		vt_log_line(s->out, "%s: %s", r->path, text);
		return;
	}
	vt_report(s->out, 1, "%s: %s", r->path, text);
}

/* Errors clamscan prints only on stderr; in JSON mode also as an ERROR (or
 * SKIPPED) object so that a consumer of stdout sees every path. */
static void json_also(struct scan_state *s, const struct record *r, const char *status,
		      const char *key, const char *value)
{
	if (s->cfg->json && !s->cfg->infected_only)
		json_simple(s, r, status, key, value);
}

void scan_report_record(struct scan_state *s, struct record *r)
{
	struct vt_output *out = s->out;
	char buf[512];

	/* Opened ahead of the report, already moved or removed under another
	 * name (a link followed): clamscan, acting file by file, never sees
	 * it. */
	if (r->kind == REC_SCAN && scan_action_already_done(s, r))
		return;
	if (r->counts_read)
		vt_totals_add_data(&s->totals, r->size, 0);

	switch (r->kind) {
	case REC_SCAN:
		report_scan(s, r);
		break;
	case REC_EXCLUDED:
		report_plain(s, r, "Excluded", "EXCLUDED", NULL, NULL, 0);
		break;
	case REC_EXCLUDED_PROC:
		report_plain(s, r, "Excluded (/proc)", "EXCLUDED", "reason", "/proc", 0);
		break;
	case REC_EMPTY:
		report_plain(s, r, "Empty file", "EMPTY", NULL, NULL, 0);
		break;
	case REC_SYMLINK:
		report_plain(s, r, "Symbolic link", "SYMLINK", NULL, NULL, 0);
		break;
	case REC_SYMLINK_LOOP:
		report_plain(s, r, "Symbolic link", "SYMLINK", "reason", "loop", 0);
		vt_msg(out, VT_MSG_NOTICE, 0,
		       "%s: not followed: the link leads back to a folder being scanned (loop)",
		       r->path);
		break;
	case REC_DIR_LOOP:
		vt_msg(out, VT_MSG_NOTICE, 0,
		       "%s: skipped: this folder is already being scanned (a mount loop)", r->path);
		json_also(s, r, "SKIPPED", "reason", "loop");
		break;
	case REC_ACCESS_DENIED:
		s->totals.errors++;
		snprintf(buf, sizeof(buf), "Access denied");
		report_plain(s, r, buf, "ERROR", "error", "Access denied", 1);
		break;
	case REC_OPEN_FAILED:
		s->totals.errors++;
		vt_msg(out, VT_MSG_WARNING, 1, "Can't open file %s: %s", r->path, strerror(r->err));
		snprintf(buf, sizeof(buf), "Can't open file: %s", strerror(r->err));
		json_also(s, r, "ERROR", "error", buf);
		break;
	case REC_STAT_FAILED:
		s->totals.errors++;
		vt_msg(out, VT_MSG_WARNING, 1, "Can't access %s: %s", r->path, strerror(r->err));
		snprintf(buf, sizeof(buf), "Can't access: %s", strerror(r->err));
		json_also(s, r, "ERROR", "error", buf);
		break;
	case REC_DIR_FAILED:
		s->totals.errors++;
		if (!s->cfg->json && !s->cfg->infected_only)
			vt_report(out, 1, "%s: Can't open directory.", r->path);
		vt_msg(out, VT_MSG_WARNING, 0, "Can't open directory %s: %s", r->path,
		       strerror(r->err));
		snprintf(buf, sizeof(buf), "Can't open directory: %s", strerror(r->err));
		json_also(s, r, "ERROR", "error", buf);
		break;
	case REC_DIR_READ_FAILED:
		s->totals.errors++;
		vt_msg(out, VT_MSG_WARNING, 1, "Can't read directory %s: %s", r->path,
		       strerror(r->err));
		snprintf(buf, sizeof(buf), "Can't read directory: %s", strerror(r->err));
		json_also(s, r, "ERROR", "error", buf);
		break;
	case REC_SPECIAL:
		vt_msg(out, VT_MSG_NOTICE, 0, "%s: skipped: %s, not a regular file", r->path,
		       r->what);
		json_also(s, r, "SKIPPED", "reason", r->what);
		break;
	case REC_DEPTH_LIMIT:
		vt_msg(out, VT_MSG_NOTICE, 0,
		       "%s: skipped: deeper than --max-dir-recursion=%llu", r->path,
		       (unsigned long long)s->cfg->max_dir_recursion);
		json_also(s, r, "SKIPPED", "reason", "max-dir-recursion");
		break;
	case REC_ARG_MISSING:
		s->arg_failed = 1;
		vt_msg(out, VT_MSG_PLAIN, 0, "%s: %s", r->path, strerror(r->err));
		vt_msg(out, VT_MSG_WARNING, 1, "%s: Can't access file", r->path);
		json_also(s, r, "ERROR", "error", strerror(r->err));
		break;
	case REC_ARG_UNSUPPORTED:
		s->arg_failed = 1;
		vt_msg(out, VT_MSG_WARNING, 1, "%s: Not supported file type", r->path);
		snprintf(buf, sizeof(buf), "Not supported file type (%s)", r->what);
		json_also(s, r, "ERROR", "error", buf);
		break;
	}
	if (s->cfg->json && !s->cfg->infected_only && out->out != NULL)
		fflush(out->out);
}

/* clamscan's summary block, with "Not moved: N" (or copied, removed)
 * after the counts when an action failed, where clamscan prints it. The
 * block is rendered by vt_report_summary() into memory (the pipeline has
 * finished: no other thread writes) and the line spliced in before
 * "Data scanned:". */
static void summary_text(struct scan_state *s, int to_out)
{
	struct vt_output *o = s->out;
	char line[64], *text = NULL, *at;
	size_t len = 0;
	FILE *mem, *saved_out, *saved_log;

	if (scan_action_summary_line(s, line, sizeof(line)) == NULL ||
	    (mem = open_memstream(&text, &len)) == NULL) {
		vt_report_summary(o, &s->totals, to_out);
		return;
	}
	saved_out = o->out;
	saved_log = o->log;
	o->out = mem;
	o->log = NULL;
	vt_report_summary(o, &s->totals, 1);
	o->out = saved_out;
	o->log = saved_log;
	if (fclose(mem) != 0 || text == NULL) {
		free(text);
		vt_report_summary(o, &s->totals, to_out);
		return;
	}
	at = strstr(text, "\nData scanned:");
	at = at != NULL ? at + 1 : text + len;
	for (int i = 0; i < 2; i++) {
		FILE *f = i == 0 ? (to_out ? o->out : NULL) : o->log;
		if (f == NULL)
			continue;
		fwrite(text, 1, (size_t)(at - text), f);
		fputs(line, f);
		fputs(at, f);
		fflush(f);
	}
	free(text);
}

void scan_report_summary(struct scan_state *s, int exit_code)
{
	const struct vt_scan_totals *t = &s->totals;
	char extra[128];

	if (s->cfg->no_summary)
		return;
	if (!s->cfg->json) {
		summary_text(s, 1);
		return;
	}

	FILE *f = s->out->out;
	char start[32], end[32];

	if (f == NULL) {
		summary_text(s, 0);
		return;
	}
	struct tm tm;
	time_t st = t->start_date, et = t->end_date;

	if (gmtime_r(&st, &tm) == NULL || strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		start[0] = '\0';
	if (gmtime_r(&et, &tm) == NULL || strftime(end, sizeof(end), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		end[0] = '\0';
	fprintf(f,
		"{\"type\":\"summary\",\"known_viruses\":%llu,\"engine_version\":",
		(unsigned long long)t->known_viruses);
	vt_json_string(f, t->engine_version);
	fprintf(f,
		",\"scanned_directories\":%llu,\"scanned_files\":%llu,\"infected_files\":%llu,"
		"\"total_errors\":%llu,\"data_scanned_bytes\":%llu,\"data_read_bytes\":%llu,"
		"\"time_ms\":%llu,\"start_date\":\"%s\",\"end_date\":\"%s\"%s,\"exit_code\":%d}\n",
		(unsigned long long)t->dirs, (unsigned long long)t->files,
		(unsigned long long)t->infected, (unsigned long long)t->errors,
		(unsigned long long)t->bytes_scanned, (unsigned long long)t->bytes_read,
		(unsigned long long)vt_totals_elapsed_ms(t), start, end,
		scan_action_summary_json(s, extra, sizeof(extra)), exit_code);
	fflush(f);
	/* The log always gets clamscan's text block. */
	summary_text(s, 0);
}
