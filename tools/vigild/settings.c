/*
 * settings.c - reading vigild.conf (see settings.h and vigild.conf(5)).
 */
#include "settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "values.h"

/* Keys vigild understands. */
static const char *const known_keys[] = {
	"LocalSocket", "LocalSocketGroup", "LocalSocketMode", "FixStaleSocket",
	"TCPSocket", "TCPAddr", "MaxConnectionQueueLength",
	"StreamMaxLength", "MaxThreads", "MaxQueue", "MaxConnections",
	"ReadTimeout", "CommandReadTimeout", "IdleTimeout", "SendBufTimeout", "SelfCheck",
	"Foreground", "PidFile", "User", "TemporaryDirectory",
	"LogFile", "LogTime", "LogVerbose", "LogClean", "LogSyslog", "Debug",
	"ExtendedDetectionInfo",
	"MaxFileSize", "MaxScanSize", "MaxRecursion", "MaxFiles", "MaxScanTime",
	"MaxDirectoryRecursion", "FollowDirectorySymlinks", "FollowFileSymlinks",
	"CrossFilesystems", "ExcludePath", "AllowAllMatchScan", "DetectPUA", "OfficialDatabaseOnly",
	"AlertExceedsMax",
	/* sandboxed scan workers (vigil) */
	"InsecureNoSandbox", "WorkerFiles", "WorkerDeadline",
	"DatabaseDirectory", "BundledDatabase", "ClamAVDatabaseDirectory", "Database",
	"CacheDirectory",
	"DetectionAction", "ActionIncludePath", "QuarantineDirectory", "ActionHelper",
	/* clamd options whose behaviour vigild always has, or that concern
	 * parts of ClamAV vigil does not have: accepted, listed once at
	 * startup as having no effect (see ignored_keys). */
	"ScanPE", "ScanELF", "ScanOLE2", "ScanPDF", "ScanSWF", "ScanXMLDOCS", "ScanHWP3",
	"ScanOneNote", "ScanMail", "ScanHTML", "ScanArchive", "ScanImage",
	"ScanImageFuzzyHash", "ScanPartialMessages", "PhishingSignatures",
	"PhishingScanURLs", "HeuristicAlerts", "HeuristicScanPrecedence", "Bytecode",
	"BytecodeSecurity", "BytecodeTimeout", "BytecodeUnsigned", "MaxEmbeddedPE",
	"MaxHTMLNormalize", "MaxHTMLNoTags", "MaxScriptNormalize", "MaxZipTypeRcg",
	"MaxPartitions", "MaxIconsPE", "MaxRecHWP3", "PCREMatchLimit", "PCRERecMatchLimit",
	"PCREMaxFileSize", "LogFileUnlock", "LogFileMaxSize",
	"LogRotate", "LogFacility", "ConcurrentDatabaseReload", "ExitOnOOM",
	"LeaveTemporaryFiles", "GenerateMetadataJson", "ForceToDisk", "DisableCache",
	"CacheSize", "DisableCertCheck", "AlertBrokenExecutables", "AlertBrokenMedia",
	"AlertEncrypted", "AlertEncryptedArchive", "AlertEncryptedDoc", "AlertOLE2Macros",
	"AlertPhishingSSLMismatch", "AlertPhishingCloak", "AlertPartitionIntersection",
	"StructuredDataDetection", "StructuredMinCreditCardCount", "StructuredCCOnly",
	"StructuredMinSSNCount", "StructuredSSNFormatNormal", "StructuredSSNFormatStripped",
	"StreamMinPort", "StreamMaxPort", "PreludeEnable", "PreludeAnalyzerName",
	"AllowSupplementaryGroups", "VirusEvent", "OnAccessIncludePath",
	"OnAccessExcludePath", "OnAccessExcludeUname", "OnAccessExcludeUID",
	"OnAccessExcludeRootUID", "OnAccessPrevention", "OnAccessExtraScanning",
	"OnAccessMaxFileSize", "OnAccessMaxThreads", "OnAccessMountPath",
	"OnAccessDisableDDD", "OnAccessCurlTimeout", "OnAccessRetryAttempts",
	"OnAccessDenyOnError", "BytecodeMode",
	/* deprecated clamd names, still in Debian's clamd.conf */
	"AlgorithmicDetection", "ArchiveBlockEncrypted", "BlockMax", "OLE2BlockMacros",
	"PartitionIntersection", "PhishingAlwaysBlockCloak", "PhishingAlwaysBlockSSLMismatch",
	"ExcludePUA", "IncludePUA", "FailIfCvdOlderThan",
	NULL
};

/* The second half of known_keys: accepted but without effect. */
static int is_ignored_key(const char *key)
{
	int seen = 0;

	for (size_t i = 0; known_keys[i] != NULL; i++) {
		if (strcmp(known_keys[i], "ScanPE") == 0)
			seen = 1;
		if (seen && strcasecmp(known_keys[i], key) == 0)
			return 1;
	}
	return 0;
}

static void warn_cb(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "WARNING: %s\n", msg);
}

static int bad(const struct vd_settings *s, const struct vt_config_entry *e, const char *what)
{
	fprintf(stderr, "ERROR: %s:%u: %s '%s': %s\n", s->config_path, e->line, e->key, e->value,
		what);
	return -1;
}

static int get_bool(const struct vd_settings *s, const char *key, int *out)
{
	const struct vt_config_entry *e = vt_config_last(&s->conf, key);

	if (e == NULL)
		return 0;
	if (vt_parse_bool(e->value, out) != 0)
		return bad(s, e, "expected yes or no");
	return 0;
}

static int get_uint(const struct vd_settings *s, const char *key, uint64_t max, unsigned *out)
{
	const struct vt_config_entry *e = vt_config_last(&s->conf, key);
	uint64_t v;

	if (e == NULL)
		return 0;
	if (vt_parse_count(e->value, max, &v) != 0) {
		char what[64];
		snprintf(what, sizeof(what), "expected a number from 0 to %llu",
			 (unsigned long long)max);
		return bad(s, e, what);
	}
	*out = (unsigned)v;
	return 0;
}

static int get_size(const struct vd_settings *s, const char *key, uint64_t *out)
{
	const struct vt_config_entry *e = vt_config_last(&s->conf, key);

	if (e == NULL)
		return 0;
	if (vt_parse_size(e->value, out) != 0)
		return bad(s, e, "expected a size such as 25M (K, M and G are accepted)");
	return 0;
}

static const char *get_str(const struct vd_settings *s, const char *key, const char *dflt)
{
	const struct vt_config_entry *e = vt_config_last(&s->conf, key);

	return e != NULL ? e->value : dflt;
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1u : n > 256 ? 256u : (unsigned)n;
}

static int load_excludes(struct vd_settings *s)
{
	const struct vt_config_entry *e = NULL;
	size_t n = 0;

	while ((e = vt_config_next(&s->conf, "ExcludePath", e)) != NULL)
		n++;
	if (n == 0)
		return 0;
	s->exclude = calloc(n, sizeof(*s->exclude));
	s->exclude_text = calloc(n, sizeof(*s->exclude_text));
	if (s->exclude == NULL || s->exclude_text == NULL) {
		fprintf(stderr, "ERROR: out of memory\n");
		return -1;
	}
	while ((e = vt_config_next(&s->conf, "ExcludePath", e)) != NULL) {
		int rc = regcomp(&s->exclude[s->exclude_count], e->value, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[256];
			regerror(rc, &s->exclude[s->exclude_count], msg, sizeof(msg));
			return bad(s, e, msg);
		}
		s->exclude_text[s->exclude_count] = e->value;
		s->exclude_count++;
	}
	return 0;
}

/* DetectionAction and the folders it may act on. */
static int load_action(struct vd_settings *s)
{
	const struct vt_config_entry *e = vt_config_last(&s->conf, "DetectionAction"), *i = NULL;
	size_t n = 0;

	if (e != NULL && strcasecmp(e->value, "Quarantine") == 0)
		s->action_quarantine = 1;
	else if (e != NULL && strcasecmp(e->value, "None") != 0)
		return bad(s, e, "expected None or Quarantine");
	s->quarantine_dir = get_str(s, "QuarantineDirectory", VD_DEFAULT_QUARANTINE_DIR);
	s->action_helper = get_str(s, "ActionHelper", VD_DEFAULT_ACTION_HELPER);
	while ((i = vt_config_next(&s->conf, "ActionIncludePath", i)) != NULL) {
		if (i->value[0] != '/')
			return bad(s, i, "expected an absolute path");
		n++;
	}
	if (!s->action_quarantine)
		return 0;
	if (n == 0) {
		fprintf(stderr, "ERROR: %s:%u: DetectionAction Quarantine needs at least one "
				"ActionIncludePath: the folders whose files vigild may move\n",
			s->config_path, e->line);
		return -1;
	}
	if (s->quarantine_dir[0] != '/' || s->action_helper[0] != '/') {
		fprintf(stderr, "ERROR: %s: QuarantineDirectory and ActionHelper must be "
				"absolute paths\n", s->config_path);
		return -1;
	}
	s->action_include = calloc(n, sizeof(*s->action_include));
	if (s->action_include == NULL) {
		fprintf(stderr, "ERROR: out of memory\n");
		return -1;
	}
	while ((i = vt_config_next(&s->conf, "ActionIncludePath", i)) != NULL)
		s->action_include[s->action_include_count++] = i->value;
	return 0;
}

static int load_tcp_addrs(struct vd_settings *s)
{
	const struct vt_config_entry *e = NULL;
	size_t n = 0;

	while ((e = vt_config_next(&s->conf, "TCPAddr", e)) != NULL)
		n++;
	if (n == 0)
		return 0;
	s->tcp_addr = calloc(n, sizeof(*s->tcp_addr));
	if (s->tcp_addr == NULL) {
		fprintf(stderr, "ERROR: out of memory\n");
		return -1;
	}
	while ((e = vt_config_next(&s->conf, "TCPAddr", e)) != NULL)
		s->tcp_addr[s->tcp_addr_count++] = e->value;
	return 0;
}

static void report_ignored(const struct vd_settings *s)
{
	char list[1024];
	size_t used = 0, count = 0;

	list[0] = '\0';
	for (size_t i = 0; i < s->conf.count; i++) {
		const char *k = s->conf.entries[i].key;
		if (!is_ignored_key(k))
			continue;
		count++;
		if (used + strlen(k) + 3 < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 count > 1 ? ", " : "", k);
	}
	if (count > 0)
		fprintf(stderr,
			"NOTICE: %s: %zu clamd option(s) have no effect in vigild (its behaviour is "
			"fixed, or the feature is not part of vigil): %s\n",
			s->config_path, count, list);
	if (vt_config_last(&s->conf, "VirusEvent") != NULL)
		fprintf(stderr, "WARNING: %s: VirusEvent is not supported by vigild; no command "
				"is run on detections\n",
			s->config_path);
}

static int load(struct vd_settings *s, const char *path, int required)
{
	struct vg_engine_options eo;
	const struct vt_config_entry *e;
	char err[512];
	uint64_t v;
	int rc;

	memset(s, 0, sizeof(*s));
	s->config_path = path;
	vg_engine_options_init(&eo);
	/* clamd's defaults (common/optparser.c) unless noted. */
	s->local_socket_mode = 0666;
	s->fix_stale_socket = 1;
	s->backlog = 200;
	s->stream_max = 100ull << 20;
	s->max_threads = online_cpus(); /* clamd: 10; vigild: one thread per core */
	s->max_queue = 100;
	s->max_connections = 1024;      /* vigil */
	s->read_timeout = 120;
	s->command_timeout = 30;
	s->idle_timeout = 30;
	s->sendbuf_timeout_ms = 500;
	s->selfcheck = 600;
	s->limits = eo.limits;
	s->max_dir_recursion = 15;
	s->cross_filesystems = 1;
	s->allow_allmatch = 1;
	vt_db_settings_defaults(&s->dbs);

	if (vt_config_load(path, required, known_keys, warn_cb, NULL, &s->conf, err,
			   sizeof(err)) != 0) {
		fprintf(stderr, "ERROR: %s\n", err);
		return -1;
	}
	if (s->conf.path == NULL)
		s->config_path = path; /* no file: defaults only */
	report_ignored(s);

	/* listening */
	s->local_socket = get_str(s, "LocalSocket", NULL);
	s->local_socket_group = get_str(s, "LocalSocketGroup", NULL);
	if ((e = vt_config_last(&s->conf, "LocalSocketMode")) != NULL) {
		char *end;
		unsigned long m;
		errno = 0;
		m = strtoul(e->value, &end, 8);
		if (errno != 0 || *end != '\0' || m > 0777)
			return bad(s, e, "expected octal permission bits such as 660");
		s->local_socket_mode = (unsigned)m;
	}
	rc = get_bool(s, "FixStaleSocket", &s->fix_stale_socket);
	rc |= get_uint(s, "TCPSocket", 65535, &s->tcp_port);
	rc |= get_uint(s, "MaxConnectionQueueLength", 65535, &s->backlog);
	if (rc != 0)
		return -1;
	if (load_tcp_addrs(s) != 0)
		return -1;
	if (s->local_socket == NULL && s->tcp_port == 0)
		s->local_socket = VD_DEFAULT_SOCKET;

	/* limits */
	rc = get_size(s, "StreamMaxLength", &s->stream_max);
	rc |= get_uint(s, "MaxThreads", 1024, &s->max_threads);
	rc |= get_uint(s, "MaxQueue", 1000000, &s->max_queue);
	rc |= get_uint(s, "MaxConnections", 1000000, &s->max_connections);
	rc |= get_uint(s, "ReadTimeout", 86400, &s->read_timeout);
	rc |= get_uint(s, "CommandReadTimeout", 86400, &s->command_timeout);
	rc |= get_uint(s, "IdleTimeout", 86400, &s->idle_timeout);
	rc |= get_uint(s, "SendBufTimeout", 3600000, &s->sendbuf_timeout_ms);
	rc |= get_uint(s, "SelfCheck", 86400 * 365, &s->selfcheck);
	if (rc != 0)
		return -1;
	if (s->stream_max == 0 || s->stream_max > UINT32_MAX * 16ull) {
		e = vt_config_last(&s->conf, "StreamMaxLength");
		return bad(s, e, "expected a size from 1 byte to 64G");
	}
	if (s->max_threads == 0)
		s->max_threads = online_cpus();
	if (s->max_queue < s->max_threads)
		s->max_queue = s->max_threads;
	if (s->max_connections < 4)
		s->max_connections = 4;
	if (s->read_timeout == 0)
		s->read_timeout = 120;
	if (s->command_timeout == 0)
		s->command_timeout = 30;

	/* process and log */
	rc = get_bool(s, "Foreground", &s->foreground);
	rc |= get_bool(s, "LogTime", &s->log_time);
	rc |= get_bool(s, "LogVerbose", &s->log_verbose);
	rc |= get_bool(s, "LogClean", &s->log_clean);
	rc |= get_bool(s, "LogSyslog", &s->log_syslog);
	rc |= get_bool(s, "Debug", &s->debug);
	rc |= get_bool(s, "ExtendedDetectionInfo", &s->extended_info);
	if (rc != 0)
		return -1;
	s->pid_file = get_str(s, "PidFile", NULL);
	s->user = get_str(s, "User", NULL);
	s->tmpdir = get_str(s, "TemporaryDirectory", NULL);
	if (s->tmpdir == NULL) {
		const char *t = getenv("TMPDIR");
		s->tmpdir = t != NULL && t[0] == '/' ? t : "/tmp";
	}
	s->log_file = get_str(s, "LogFile", NULL);

	/* scanning */
	if ((e = vt_config_last(&s->conf, "MaxFileSize")) != NULL) {
		if (get_size(s, "MaxFileSize", &v) != 0)
			return -1;
		s->limits.max_filesize = v == 0 ? UINT64_MAX : v;
	}
	if ((e = vt_config_last(&s->conf, "MaxScanSize")) != NULL) {
		if (get_size(s, "MaxScanSize", &v) != 0)
			return -1;
		s->limits.max_scansize = v == 0 ? UINT64_MAX : v;
	}
	if ((e = vt_config_last(&s->conf, "MaxRecursion")) != NULL) {
		if (vt_parse_count(e->value, 100, &v) != 0 || v == 0)
			return bad(s, e, "expected a number from 1 to 100");
		s->limits.max_recursion = (uint32_t)v;
	}
	if ((e = vt_config_last(&s->conf, "MaxFiles")) != NULL) {
		if (vt_parse_count(e->value, UINT32_MAX, &v) != 0)
			return bad(s, e, "expected a number; 0 means no limit");
		s->limits.max_files = v == 0 ? UINT32_MAX : (uint32_t)v;
	}
	if ((e = vt_config_last(&s->conf, "MaxScanTime")) != NULL) {
		if (vt_parse_count(e->value, UINT64_MAX, &v) != 0)
			return bad(s, e, "expected milliseconds; 0 means no limit");
		s->limits.max_scantime_ms = v;
	}
	rc = get_uint(s, "MaxDirectoryRecursion", 100000, &s->max_dir_recursion);
	rc |= get_bool(s, "FollowDirectorySymlinks", &s->follow_dir_symlinks);
	rc |= get_bool(s, "FollowFileSymlinks", &s->follow_file_symlinks);
	rc |= get_bool(s, "CrossFilesystems", &s->cross_filesystems);
	rc |= get_bool(s, "AllowAllMatchScan", &s->allow_allmatch);
	rc |= get_bool(s, "DetectPUA", &s->detect_pua);
	rc |= get_bool(s, "OfficialDatabaseOnly", &s->official_db_only);
	rc |= get_bool(s, "AlertExceedsMax", &s->alert_exceeds_max);
	rc |= get_bool(s, "InsecureNoSandbox", &s->insecure_no_sandbox);
	rc |= get_uint(s, "WorkerFiles", UINT32_MAX, &s->worker_files);
	if ((e = vt_config_last(&s->conf, "WorkerDeadline")) != NULL) {
		if (vt_parse_count(e->value, UINT64_MAX / 2, &v) != 0)
			return bad(s, e, "expected milliseconds; 0 means no deadline");
		s->worker_deadline_ms = v;
		s->worker_deadline_set = 1;
	}
	if (rc != 0)
		return -1;
	if (load_excludes(s) != 0 || load_action(s) != 0)
		return -1;

	/* databases */
	if (vt_db_settings_from_config(&s->dbs, &s->conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "ERROR: %s: %s\n", s->config_path, err);
		return -1;
	}
	s->cache_dir = get_str(s, "CacheDirectory", VD_DEFAULT_CACHE_DIR);
	if (strcasecmp(s->cache_dir, "no") == 0) {
		s->cache_dir = NULL;
	} else if (vt_config_last(&s->conf, "CacheDirectory") == NULL) {
		/* The default is used only where the package made it. */
		struct stat st;
		if (stat(s->cache_dir, &st) != 0 || !S_ISDIR(st.st_mode))
			s->cache_dir = NULL;
	}
	return 0;
}

int vd_settings_load(struct vd_settings *s, const char *path, int required)
{
	int rc = load(s, path, required);

	if (rc != 0)
		vd_settings_free(s);
	return rc;
}

void vd_settings_free(struct vd_settings *s)
{
	for (size_t i = 0; i < s->exclude_count; i++)
		regfree(&s->exclude[i]);
	free(s->exclude);
	free(s->exclude_text);
	free((void *)s->tcp_addr);
	free((void *)s->action_include);
	vt_db_settings_free(&s->dbs);
	vt_config_free(&s->conf);
	memset(s, 0, sizeof(*s));
}

static void log_limit(const char *what, uint64_t v, const char *unit)
{
	if (v == 0 || v == UINT64_MAX)
		vd_log(VD_LOG_WARNING, "Limits: %s protection disabled.", what);
	else
		vd_log(VD_LOG_INFO, "Limits: %s set to %llu%s.", what, (unsigned long long)v,
		       unit);
}

void vd_settings_log(const struct vd_settings *s)
{
	log_limit("Global time limit", s->limits.max_scantime_ms, " milliseconds");
	log_limit("Global size limit", s->limits.max_scansize, " bytes");
	log_limit("File size limit", s->limits.max_filesize, " bytes");
	log_limit("Recursion level limit", s->limits.max_recursion, "");
	log_limit("Files limit", s->limits.max_files == UINT32_MAX ? 0 : s->limits.max_files, "");
	vd_log(VD_LOG_INFO, "Limits: StreamMaxLength set to %llu bytes.",
	       (unsigned long long)s->stream_max);
	vd_log(VD_LOG_INFO,
	       "Threads: %u scanning, queue %u, connections %u; timeouts: command %u s, read %u s",
	       s->max_threads, s->max_queue, s->max_connections, s->command_timeout,
	       s->read_timeout);
	if (s->insecure_no_sandbox)
		vd_log(VD_LOG_WARNING,
		       "InsecureNoSandbox: scan workers run WITHOUT their sandbox (not recommended)");
	if (s->selfcheck)
		vd_log(VD_LOG_INFO, "Self checking every %u seconds.", s->selfcheck);
	else
		vd_log(VD_LOG_INFO, "Self checking disabled.");
}
