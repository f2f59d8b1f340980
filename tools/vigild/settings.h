/*
 * settings.h - vigild.conf: clamd.conf's key names where the meaning is the
 * same, so that an existing clamd.conf mostly just works. docs/man/
 * vigild.conf.5 lists every key; unknown keys are warned about, never fatal.
 */
#ifndef VIGILD_SETTINGS_H
#define VIGILD_SETTINGS_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include <vigil.h>

#include "config.h"
#include "databases.h"

#define VD_DEFAULT_CONFIG VG_SYSCONFDIR "/vigil/vigild.conf"
#define VD_DEFAULT_SOCKET "/run/vigil/vigild.sock"
#define VD_DEFAULT_CACHE_DIR "/var/cache/vigil"
#define VD_DEFAULT_ACTION_HELPER VG_LIBEXECDIR "/vigil-actd"
#define VD_DEFAULT_QUARANTINE_DIR "/var/lib/vigil/quarantine"

struct vd_settings {
	struct vt_config conf; /* the file; the strings below point into it */
	const char *config_path;

	/* listening */
	const char *local_socket;       /* NULL: no UNIX socket */
	const char *local_socket_group; /* NULL: leave the group */
	unsigned local_socket_mode;     /* permission bits */
	int fix_stale_socket;
	unsigned tcp_port;              /* 0: no TCP */
	const char **tcp_addr;          /* TCPAddr lines; none: every interface */
	size_t tcp_addr_count;
	unsigned backlog;               /* MaxConnectionQueueLength */

	/* limits */
	uint64_t stream_max;            /* StreamMaxLength */
	unsigned max_threads;
	unsigned max_queue;
	unsigned max_connections;
	unsigned read_timeout;          /* seconds */
	unsigned command_timeout;       /* CommandReadTimeout, seconds */
	unsigned idle_timeout;          /* reported in STATS only */
	unsigned sendbuf_timeout_ms;
	unsigned selfcheck;             /* seconds; 0: off */

	/* process */
	int foreground;
	const char *pid_file;
	const char *user;
	const char *tmpdir;

	/* log */
	const char *log_file;
	int log_time;
	int log_verbose;
	int log_clean;
	int log_syslog;
	int debug;
	int extended_info;

	/* scanning */
	struct vg_limits limits;
	unsigned max_dir_recursion;
	int follow_dir_symlinks;
	int follow_file_symlinks;
	int cross_filesystems;
	regex_t *exclude;
	char **exclude_text;
	size_t exclude_count;
	int allow_allmatch;
	int detect_pua;
	int official_db_only; /* load signed containers only */
	int alert_exceeds_max;

	/* sandboxed scan workers */
	int insecure_no_sandbox;        /* InsecureNoSandbox: workers without their sandbox */
	unsigned worker_files;          /* WorkerFiles: fresh worker after N files; 0: default */
	uint64_t worker_deadline_ms;    /* WorkerDeadline */
	int worker_deadline_set;

	/* databases */
	struct vt_db_settings dbs;
	const char *cache_dir;          /* NULL: no compiled cache */

	/* acting on detections (through vigil-actd) */
	int action_quarantine;          /* DetectionAction Quarantine */
	const char **action_include;    /* ActionIncludePath lines */
	size_t action_include_count;
	const char *quarantine_dir;     /* QuarantineDirectory */
	const char *action_helper;      /* ActionHelper: the vigil-actd program */
};

/* Defaults (clamd's, except where vigild.conf(5) says otherwise), then the
 * file. A missing file is an error only when required. Problems are printed
 * on stderr naming file:line; returns 0 or -1. */
int vd_settings_load(struct vd_settings *s, const char *path, int required);

void vd_settings_free(struct vd_settings *s);

/* Log the effective settings ("Limits: ..."), as clamd does at startup. */
void vd_settings_log(const struct vd_settings *s);

#endif /* VIGILD_SETTINGS_H */
