/*
 * scan_action.c - acting on detections in `vigil scan`: --move=DIR,
 * --copy=DIR, --remove (clamscan's) and --move without DIR (into the
 * quarantine store). The main thread acts on each record right after its
 * report lines, in report order; the work itself is vt_quarantine's.
 *
 * Lines as clamscan 1.4.6 prints them, "(real path: ...)" only when it
 * differs from the path shown:
 *
 *     t/x (real path: '/abs/t/x'): moved to '/q/x'
 *     t/x (real path: '/abs/t/x'): copied to '/q/x.001'
 *     t/x (real path: '/abs/t/x'): Removed.
 *     t/x (real path: '/abs/t/x'): moved to quarantine (item 3f9a...)   (vigil)
 *
 * and on failure "ERROR: Can't move file 't/x' (real path: ...) to '/q':
 * <why>" on stderr, counted in the summary's "Not moved: N".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "scan.h"

static const char *verb(enum scan_action a)
{
	switch (a) {
	case ACT_COPY_DIR:
		return "copy";
	case ACT_REMOVE:
		return "remove";
	default:
		return "move";
	}
}

static void notice(void *ctx, enum vq_level level, const char *msg)
{
	struct scan_state *s = ctx;

	vt_msg(s->out, level == VQ_WARNING ? VT_MSG_WARNING : VT_MSG_NOTICE, 1, "%s", msg);
}

int scan_action_start(struct scan_state *s)
{
	const struct scan_config *cfg = s->cfg;
	struct vq_err err = { 0 };

	s->dest.fd = -1;
	switch (cfg->action) {
	case ACT_NONE:
	case ACT_REMOVE:
		return 0;
	case ACT_MOVE_DIR:
	case ACT_COPY_DIR:
		if (vq_dest_dir_open(cfg->action_dir, &s->dest, &err) != VQ_OK) {
			vt_msg(s->out, VT_MSG_ERROR, 1, "--%s=%s: %s", verb(cfg->action),
			       cfg->action_dir, err.msg);
			return -1;
		}
		return 0;
	case ACT_MOVE_STORE:
		if (vq_store_open(cfg->quarantine_dir, notice, s, &s->store, &err) != VQ_OK) {
			const char *dir = cfg->quarantine_dir != NULL ? cfg->quarantine_dir
								      : vq_store_default_dir();
			vt_msg(s->out, VT_MSG_ERROR, 1,
			       "Can't use the quarantine store %s: %s%s", dir, err.msg,
			       err.sys == EACCES || err.sys == EPERM
				       ? " (run as root, or choose a store with --quarantine-dir)"
				       : "");
			return -1;
		}
		return 0;
	}
	return 0;
}

/* The set of files moved or removed so far: open addressing on (dev, ino). */
static size_t acted_slot(const struct scan_state *s, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)ino * 0xc2b2ae3d27d4eb4full);
	size_t i = (size_t)(h ^ (h >> 29)) & (s->acted_cap - 1);

	while ((s->acted[i].dev != 0 || s->acted[i].ino != 0) &&
	       !(s->acted[i].dev == dev && s->acted[i].ino == ino))
		i = (i + 1) & (s->acted_cap - 1);
	return i;
}

static void acted_add(struct scan_state *s, dev_t dev, ino_t ino)
{
	if ((s->acted_len + 1) * 2 > s->acted_cap) {
		size_t ncap = s->acted_cap ? s->acted_cap * 2 : 64;
		struct file_id *old = s->acted;
		size_t oldcap = s->acted_cap;
		s->acted = xcalloc(ncap, sizeof(*s->acted));
		s->acted_cap = ncap;
		s->acted_len = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].dev != 0 || old[i].ino != 0)
				acted_add(s, old[i].dev, old[i].ino);
		free(old);
	}
	size_t i = acted_slot(s, dev, ino);
	if (s->acted[i].dev == 0 && s->acted[i].ino == 0) {
		s->acted[i].dev = dev;
		s->acted[i].ino = ino;
		s->acted_len++;
	}
}

int scan_action_already_done(struct scan_state *s, const struct record *r)
{
	size_t i;
	char *real;

	if (s->acted_len == 0 || r->is_stdin || r->fd < 0)
		return 0;
	i = acted_slot(s, r->st.st_dev, r->st.st_ino);
	if (s->acted[i].dev != r->st.st_dev || s->acted[i].ino != r->st.st_ino)
		return 0;
	real = realpath(r->path, NULL);
	if (real != NULL) {
		free(real);
		return 0; /* another name of it is still there: act on that too */
	}
	return errno == ENOENT;
}

void scan_action_finish(struct scan_state *s)
{
	free(s->acted);
	s->acted = NULL;
	s->acted_len = s->acted_cap = 0;
	if (s->dest.fd >= 0 || s->dest.path != NULL)
		vq_dest_dir_close(&s->dest);
	vq_store_close(s->store);
	s->store = NULL;
}

static void json_action(struct scan_state *s, const struct record *r, const char *real,
			const char *action, const char *key, const char *value, const char *error)
{
	FILE *f = s->out->out;

	if (f == NULL)
		return;
	fputs("{\"type\":\"action\",\"path\":", f);
	vt_json_string(f, r->path);
	if (real != NULL) {
		fputs(",\"real_path\":", f);
		vt_json_string(f, real);
	}
	fprintf(f, ",\"action\":\"%s\"", action);
	if (key != NULL) {
		fprintf(f, ",\"%s\":", key);
		vt_json_string(f, value);
	}
	if (error != NULL) {
		fputs(",\"error\":", f);
		vt_json_string(f, error);
	}
	fputs("}\n", f);
	fflush(f);
}

/* The report line of a done action (text: stdout and log; JSON: an
 * "action" object, the text line to the log). */
static void report_done(struct scan_state *s, const struct record *r, const char *real,
			const char *shown_real, const char *what, const char *json_action_name,
			const char *key, const char *value)
{
	if (s->cfg->json) {
		json_action(s, r, real, json_action_name, key, value, NULL);
		vt_log_line(s->out, "%s%s: %s", r->path, shown_real, what);
	} else {
		vt_report(s->out, 1, "%s%s: %s", r->path, shown_real, what);
	}
}

void scan_action_record(struct scan_state *s, const struct record *r)
{
	const struct scan_config *cfg = s->cfg;
	const char **names = NULL;
	struct vq_source src;
	struct vq_err err = { 0 };
	enum vq_status st;
	char *real = NULL, *dest = NULL, shown[4200], line[4400], id[VQ_ID_HEX + 1];
	const char *target;

	if (cfg->action == ACT_NONE || r->is_stdin || r->fd < 0)
		return;
	real = realpath(r->path, NULL);
	if (real == NULL) {
		int e = errno;
		s->not_acted++;
		vt_msg(s->out, VT_MSG_ERROR, 1, "Can't %s file '%s': can't resolve its path: %s",
		       verb(cfg->action), r->path, strerror(e));
		if (cfg->json)
			json_action(s, r, NULL, verb(cfg->action), NULL, NULL, strerror(e));
		return;
	}
	if (strcmp(real, r->path) != 0)
		snprintf(shown, sizeof(shown), " (real path: '%s')", real);
	else
		shown[0] = '\0';

	names = calloc(r->match_count ? r->match_count : 1, sizeof(*names));
	if (names == NULL)
		oom();
	for (size_t i = 0; i < r->match_count; i++)
		names[i] = r->matches[i].name;
	memset(&src, 0, sizeof(src));
	src.fd = r->fd;
	src.path = real;
	src.scanned = r->st;
	src.detections = names;
	src.detection_count = r->match_count;

	switch (cfg->action) {
	case ACT_MOVE_DIR:
	case ACT_COPY_DIR:
		target = s->dest.path;
		st = vq_move_to_dir(&s->dest, &src, cfg->action == ACT_COPY_DIR, notice, s, &dest,
				    &err);
		if (st == VQ_OK) {
			snprintf(line, sizeof(line), "%s to '%s'",
				 cfg->action == ACT_COPY_DIR ? "copied" : "moved", dest);
			report_done(s, r, real, shown, line,
				    cfg->action == ACT_COPY_DIR ? "copied" : "moved", "destination",
				    dest);
		}
		break;
	case ACT_MOVE_STORE:
		target = "quarantine";
		st = vq_store_quarantine(s->store, &src, id, &err);
		if (st == VQ_OK) {
			snprintf(line, sizeof(line), "moved to quarantine (item %s)", id);
			report_done(s, r, real, shown, line, "quarantined", "id", id);
		}
		break;
	case ACT_REMOVE:
	default:
		target = NULL;
		st = vq_remove_file(&src, &err);
		if (st == VQ_OK)
			report_done(s, r, real, shown, "Removed.", "removed", NULL, NULL);
		break;
	}
	if (st == VQ_OK && cfg->action != ACT_COPY_DIR) {
		acted_add(s, r->st.st_dev, r->st.st_ino);
		if (r->st.st_nlink > 1)
			vt_msg(s->out, VT_MSG_NOTICE, 1,
			       "%s: %llu other hard link%s to the same file remain%s, with the same "
			       "content",
			       r->path, (unsigned long long)(r->st.st_nlink - 1),
			       r->st.st_nlink > 2 ? "s" : "", r->st.st_nlink > 2 ? "" : "s");
	}
	if (st != VQ_OK) {
		const char *tail = st == VQ_CHANGED || st == VQ_SYMLINK
					   ? "; nothing was removed"
					   : cfg->action == ACT_COPY_DIR ? ""
									 : "; the file was left in place";
		char to[4200];
		if (target != NULL && cfg->action == ACT_MOVE_STORE)
			snprintf(to, sizeof(to), " to quarantine");
		else if (target != NULL)
			snprintf(to, sizeof(to), " to '%s'", target);
		else
			to[0] = '\0';
		s->not_acted++;
		vt_msg(s->out, VT_MSG_ERROR, 1, "Can't %s file '%s'%s%s: %s%s", verb(cfg->action),
		       r->path, shown, to, err.msg, tail);
		if (cfg->json) {
			char full[sizeof(err.msg) + 64];
			snprintf(full, sizeof(full), "%s%s", err.msg, tail);
			json_action(s, r, real, verb(cfg->action), NULL, NULL, full);
		}
	}
	free(dest);
	free(names);
	free(real);
}

static const char *summary_word(enum scan_action a)
{
	switch (a) {
	case ACT_COPY_DIR:
		return "copied";
	case ACT_REMOVE:
		return "removed";
	default:
		return "moved";
	}
}

const char *scan_action_summary_line(const struct scan_state *s, char *buf, size_t len)
{
	if (s->cfg->action == ACT_NONE || s->not_acted == 0)
		return NULL;
	snprintf(buf, len, "Not %s: %llu\n", summary_word(s->cfg->action),
		 (unsigned long long)s->not_acted);
	return buf;
}

const char *scan_action_summary_json(const struct scan_state *s, char *buf, size_t len)
{
	if (s->cfg->action == ACT_NONE)
		return "";
	snprintf(buf, len, ",\"not_%s\":%llu", summary_word(s->cfg->action),
		 (unsigned long long)s->not_acted);
	return buf;
}
