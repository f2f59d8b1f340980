/*
 * scan.h - internals of `vigil scan`, shared by its source files.
 *
 * The main thread walks the arguments and folders in readdir order and turns
 * every thing it meets into a record, numbered in that order. Records that
 * need the engine (regular files) are scanned by a pool of worker threads;
 * the rest are complete when made. Records are reported strictly in order
 * through a bounded ring (the reorder buffer), so the output of -j N is the
 * output of a sequential scan, line for line.
 */
#ifndef VIGIL_SCAN_H
#define VIGIL_SCAN_H

#include <regex.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <vigil.h>

#include "databases.h"
#include "output.h"
#include "quarantine.h"
#include "worker_client.h"

struct pattern_list {
	regex_t *re;
	char **text;
	size_t count;
};

/* What to do with a file something was found in (clamscan's --move=DIR,
 * --copy=DIR, --remove; vigil's --move without DIR). */
enum scan_action {
	ACT_NONE,
	ACT_MOVE_DIR,
	ACT_COPY_DIR,
	ACT_MOVE_STORE,
	ACT_REMOVE
};

struct scan_config {
	/* databases */
	char **db_paths; /* -d */
	size_t db_count;
	struct vt_db_settings dbs;
	char **conf_db_paths; /* vigil.conf Database */
	size_t conf_db_count;
	/* what to print */
	int infected_only;
	int suppress_ok;
	int no_summary;
	int json;
	int to_stdout;
	int debug;
	int quiet;
	char *log_path;
	/* how to scan */
	int recursive;
	int allmatch;
	int detect_pua;
	int official_db_only; /* load signed containers only */
	int alert_exceeds_max;
	int alert_encrypted;
	struct vg_limits limits;
	uint64_t max_dir_recursion;
	unsigned follow_dir;  /* 0 never, 1 named on the command line, 2 always */
	unsigned follow_file;
	struct pattern_list exclude, exclude_dir, include, include_dir;
	unsigned threads;
	char *cache_dir;      /* NULL: the default folder */
	int no_cache;
	/* sandboxed workers */
	uint64_t worker_deadline_ms;
	int worker_deadline_set;
	unsigned worker_files;   /* 0: the default */
	int insecure_no_sandbox; /* workers without their sandbox */
	int insecure_in_process; /* no workers at all */
	/* acting on detections */
	enum scan_action action;
	char *action_dir;     /* --move=DIR, --copy=DIR */
	char *quarantine_dir; /* NULL: the default store */
	/* what to scan */
	char **paths;
	size_t path_count;
};

enum record_kind {
	REC_SCAN,          /* a regular file for the engine, or stdin */
	REC_EXCLUDED,      /* "path: Excluded" */
	REC_EXCLUDED_PROC, /* "path: Excluded (/proc)" */
	REC_EMPTY,         /* "path: Empty file" */
	REC_SYMLINK,       /* "path: Symbolic link" */
	REC_SYMLINK_LOOP,  /* "path: Symbolic link", plus a notice: leads to an ancestor */
	REC_DIR_LOOP,      /* a folder that is its own ancestor (bind mount): notice */
	REC_ACCESS_DENIED, /* "path: Access denied" (an error) */
	REC_OPEN_FAILED,   /* the file could not be opened for another reason (an error) */
	REC_STAT_FAILED,   /* a folder entry could not be examined (an error) */
	REC_DIR_FAILED,    /* "path: Can't open directory." (an error) */
	REC_DIR_READ_FAILED, /* reading a folder stopped part-way (an error) */
	REC_SPECIAL,       /* FIFO, socket or device inside a folder: notice, skipped */
	REC_DEPTH_LIMIT,   /* folder deeper than --max-dir-recursion: notice, skipped */
	REC_ARG_MISSING,   /* a command-line path that cannot be reached */
	REC_ARG_UNSUPPORTED /* a command-line path that is no file or folder */
};

struct match_copy {
	char *name;
	char *database;
	enum vg_sig_kind kind;
	uint64_t offset;
	int offset_known;
	char **container;
	size_t container_depth;
};

struct record {
	enum record_kind kind;
	char *path;
	const char *what;   /* REC_SPECIAL, REC_ARG_UNSUPPORTED: kind of file */
	int err;            /* errno of a failure */
	int fd;             /* REC_SCAN: descriptor the worker scans and closes (kept
			     * open until reported when acting on detections) */
	struct stat st;     /* REC_SCAN: fstat(fd) when opened, before scanning */
	int is_stdin;
	int pending;        /* REC_SCAN waiting for a worker */
	int done;           /* guarded by the pipeline lock */
	uint64_t size;      /* contributes to "Data read" */
	int counts_read;
	/* results of REC_SCAN */
	enum vg_status status;
	int scan_errno;
	char failure[160];  /* a scan worker failed: why ("" otherwise) */
	struct vg_scan_summary summary;
	struct match_copy *matches;
	size_t match_count;
	size_t match_cap;
};

struct pipeline;

struct scan_state {
	const struct scan_config *cfg;
	struct vg_engine *engine;
	char cache_buf[4096];      /* the default cache folder, when used */
	struct vg_scan_options scan_opts;
	struct vt_output *out;
	struct pipeline *pipe;
	struct vw_pool *workers; /* NULL: --insecure-in-process */
	dev_t proc_dev;     /* device of /proc, 0 when unknown */
	int have_proc_dev;
	/* ancestors of the folder being walked, for symlink loops */
	struct { dev_t dev; ino_t ino; } *stack;
	size_t stack_len, stack_cap;
	/* totals; touched only by the main thread */
	struct vt_scan_totals totals;
	int arg_failed; /* a command-line path failed: exit 2 unless something was found */
	/* acting on detections (scan_action.c) */
	struct vq_dest_dir dest;
	struct vq_store *store;
	uint64_t not_acted; /* "Not moved/copied/removed" */
	struct file_id { dev_t dev; ino_t ino; } *acted; /* moved or removed (hash set) */
	size_t acted_len, acted_cap;
};

/* scan_walk.c */
void scan_walk_arguments(struct scan_state *s);

/* scan_report.c */
void scan_report_record(struct scan_state *s, struct record *r);
void scan_report_summary(struct scan_state *s, int exit_code);
void scan_work_record(struct scan_state *s, struct record *r);
void scan_done_with_fd(struct scan_state *s, struct record *r);
/* Workers mode, pipelined (scan_pipeline.c): hand a regular file's record
 * to the thread's lane; take the oldest one's result back. */
void scan_lane_submit(struct scan_state *s, struct vw_lane *l, struct record *r);
struct record *scan_lane_collect(struct scan_state *s, struct vw_lane *l);
void record_free(struct record *r);

/* scan_action.c: set up before the walk (prints why not and returns -1),
 * act on a FOUND record after its report lines, close at the end. */
int scan_action_start(struct scan_state *s);
void scan_action_record(struct scan_state *s, const struct record *r);
void scan_action_finish(struct scan_state *s);
/* The record's file was moved or removed by this run and its name is gone:
 * say nothing more about it. */
int scan_action_already_done(struct scan_state *s, const struct record *r);
/* "Not moved: N" etc. for the summary (with its newline), or NULL. */
const char *scan_action_summary_line(const struct scan_state *s, char *buf, size_t len);
/* JSON summary members (",\"not_moved\":N"), or "" . */
const char *scan_action_summary_json(const struct scan_state *s, char *buf, size_t len);

/* scan_pipeline.c */
struct pipeline *pipeline_start(struct scan_state *s, unsigned threads, size_t capacity);
/* Hands r (owned from now on) to the pipeline; may report older records. */
void pipeline_push(struct pipeline *p, struct record *r);
/* Report every record and stop the workers. */
void pipeline_finish(struct pipeline *p);

/* scan_cmd.c */
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
void oom(void);

#endif /* VIGIL_SCAN_H */
