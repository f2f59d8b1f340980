/*
 * scan_cmd.c - `vigil scan`: options, configuration, engine, and the run.
 *
 * Options, output and exit codes follow clamscan 1.4.6 (see docs/man/vigil.1
 * for every difference). Settings come from built-in defaults, then
 * vigil.conf, then the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "scan.h"
#include "values.h"

void oom(void)
{
	fputs("ERROR: out of memory\n", stderr);
	exit(2);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

static void append_str(char ***list, size_t *count, const char *s)
{
	char **n = realloc(*list, (*count + 1) * sizeof(**list));

	if (n == NULL)
		oom();
	n[*count] = xstrdup(s);
	*list = n;
	(*count)++;
}

static void free_strs(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

static const char scan_usage[] =
	"Usage: vigil scan [options] [file/directory/-]...\n"
	"\n"
	"Scan files and folders (recursively) with ClamAV signature databases.\n"
	"Without arguments the current folder is scanned; '-' reads standard input.\n"
	"\n"
	"Databases:\n"
	"  -d, --database=FILE/DIR      load this database file or folder; repeatable;\n"
	"                               replaces the default databases\n"
	"      --detect-pua[=yes/no]    also load PUA signatures (.hdu, .hsu, ...)\n"
	"      --official-db-only[=yes/no]  load only signed containers (.cvd, .cld)\n"
	"      --config-file=FILE       read settings from FILE (default " VIGIL_DEFAULT_CONFIG ")\n"
	"\n"
	"Output:\n"
	"  -i, --infected               only print infected files\n"
	"  -o, --suppress-ok-results    do not print OK files\n"
	"      --no-summary             do not print the summary\n"
	"  -z, --allmatch[=yes/no]      report every matching signature, one line each\n"
	"      --json                   one JSON object per line (see vigil(1))\n"
	"  -l, --log=FILE               append the report to FILE\n"
	"      --stdout                 write diagnostics to stdout instead of stderr\n"
	"      --quiet                  only print error messages (the exit status tells)\n"
	"      --debug                  print the engine's debug messages\n"
	"\n"
	"What to scan:\n"
	"  -r, --recursive[=yes/no]     scan folders recursively (default: yes)\n"
	"      --exclude=REGEX          skip files whose path matches REGEX\n"
	"      --exclude-dir=REGEX      skip folders whose path matches REGEX\n"
	"      --include=REGEX          only scan files whose path matches REGEX\n"
	"      --include-dir=REGEX      only enter folders whose path matches REGEX\n"
	"      --follow-dir-symlinks[=0/1/2]   0 never, 1 (default) only when named on\n"
	"                               the command line, 2 always\n"
	"      --follow-file-symlinks[=0/1/2]  the same for links to files\n"
	"      --max-dir-recursion=N    folder depth (default 15)\n"
	"\n"
	"Acting on what is found:\n"
	"      --move                   move infected files into the quarantine store\n"
	"                               (encrypted, restorable: see 'vigil quarantine')\n"
	"      --move=DIR               move infected files into DIR (as clamscan)\n"
	"      --copy=DIR               copy infected files into DIR\n"
	"      --remove[=yes/no]        delete infected files\n"
	"      --quarantine-dir=DIR     the quarantine store (default\n"
	"                               " VQ_DEFAULT_STORE ")\n"
	"\n"
	"Compiled-database cache:\n"
	"      --cache-dir=DIR          keep compiled databases in DIR (default\n"
	"                               /var/cache/vigil for root, ~/.cache/vigil else)\n"
	"      --no-cache               compile from text every time, keep nothing\n"
	"\n"
	"Limits (sizes take K, M or G suffixes):\n"
	"      --max-filesize=SIZE      files larger than this are not scanned (100M)\n"
	"      --max-scansize=SIZE      data scanned per file, containers included (400M)\n"
	"      --max-recursion=N        container nesting, 1..100 (17)\n"
	"      --max-files=N            files extracted per container (10000)\n"
	"      --max-scantime=MS        time per file in milliseconds, 0 = none (120000)\n"
	"      --alert-encrypted[=yes/no]    report encrypted archive entries as\n"
	"                               Heuristics.Encrypted.* (also --alert-encrypted-archive)\n"
	"      --alert-exceeds-max[=yes/no]  report Heuristics.Limits.Exceeded.* when a\n"
	"                               limit stops a scan\n"
	"\n"
	"Sandbox (files are parsed only in sandboxed vigil-worker processes):\n"
	"      --worker-deadline=MS     kill a worker still on one file after MS\n"
	"                               milliseconds (default: --max-scantime + 10000;\n"
	"                               0 = none); the file is reported as an error\n"
	"      --worker-files=N         start a fresh worker after N files (10000)\n"
	"      --insecure-no-sandbox    run workers without their sandbox (logged)\n"
	"      --insecure-in-process    parse files in this process, no worker (logged)\n"
	"\n"
	"  -j, --threads=N              scanning threads (default: online CPUs)\n"
	"  -V, --version                print the version\n"
	"  -h, --help                   print this help\n"
	"\n"
	"Exit status: 0 nothing found, 1 something found, 2 an error (1 wins over 2).\n";

enum {
	OPT_NO_SUMMARY = 256,
	OPT_EXCLUDE,
	OPT_EXCLUDE_DIR,
	OPT_INCLUDE,
	OPT_INCLUDE_DIR,
	OPT_MAX_FILESIZE,
	OPT_MAX_SCANSIZE,
	OPT_MAX_RECURSION,
	OPT_MAX_FILES,
	OPT_MAX_SCANTIME,
	OPT_MAX_DIR_RECURSION,
	OPT_FOLLOW_DIR,
	OPT_FOLLOW_FILE,
	OPT_DETECT_PUA,
	OPT_OFFICIAL_DB_ONLY,
	OPT_ALERT_EXCEEDS_MAX,
	OPT_ALERT_ENCRYPTED,
	OPT_STDOUT,
	OPT_CONFIG_FILE,
	OPT_JSON,
	OPT_DEBUG,
	OPT_QUIET,
	OPT_CACHE_DIR,
	OPT_NO_CACHE,
	OPT_MOVE,
	OPT_COPY,
	OPT_REMOVE,
	OPT_QUARANTINE_DIR,
	OPT_WORKER_DEADLINE,
	OPT_WORKER_FILES,
	OPT_INSECURE_NO_SANDBOX,
	OPT_INSECURE_IN_PROCESS
};

static const char short_opts[] = ":hVd:rizol:j:";

static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "database", required_argument, NULL, 'd' },
	{ "recursive", optional_argument, NULL, 'r' },
	{ "infected", optional_argument, NULL, 'i' },
	{ "suppress-ok-results", optional_argument, NULL, 'o' },
	{ "allmatch", optional_argument, NULL, 'z' },
	{ "log", required_argument, NULL, 'l' },
	{ "threads", required_argument, NULL, 'j' },
	{ "no-summary", no_argument, NULL, OPT_NO_SUMMARY },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "exclude-dir", required_argument, NULL, OPT_EXCLUDE_DIR },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "include-dir", required_argument, NULL, OPT_INCLUDE_DIR },
	{ "max-filesize", required_argument, NULL, OPT_MAX_FILESIZE },
	{ "max-scansize", required_argument, NULL, OPT_MAX_SCANSIZE },
	{ "max-recursion", required_argument, NULL, OPT_MAX_RECURSION },
	{ "max-files", required_argument, NULL, OPT_MAX_FILES },
	{ "max-scantime", required_argument, NULL, OPT_MAX_SCANTIME },
	{ "max-dir-recursion", required_argument, NULL, OPT_MAX_DIR_RECURSION },
	{ "follow-dir-symlinks", optional_argument, NULL, OPT_FOLLOW_DIR },
	{ "follow-file-symlinks", optional_argument, NULL, OPT_FOLLOW_FILE },
	{ "detect-pua", optional_argument, NULL, OPT_DETECT_PUA },
	{ "official-db-only", optional_argument, NULL, OPT_OFFICIAL_DB_ONLY },
	{ "alert-exceeds-max", optional_argument, NULL, OPT_ALERT_EXCEEDS_MAX },
	{ "alert-encrypted", optional_argument, NULL, OPT_ALERT_ENCRYPTED },
	{ "alert-encrypted-archive", optional_argument, NULL, OPT_ALERT_ENCRYPTED },
	{ "stdout", no_argument, NULL, OPT_STDOUT },
	{ "config-file", required_argument, NULL, OPT_CONFIG_FILE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
	{ "move", optional_argument, NULL, OPT_MOVE },
	{ "copy", required_argument, NULL, OPT_COPY },
	{ "remove", optional_argument, NULL, OPT_REMOVE },
	{ "quarantine-dir", required_argument, NULL, OPT_QUARANTINE_DIR },
	{ "worker-deadline", required_argument, NULL, OPT_WORKER_DEADLINE },
	{ "worker-files", required_argument, NULL, OPT_WORKER_FILES },
	{ "insecure-no-sandbox", no_argument, NULL, OPT_INSECURE_NO_SANDBOX },
	{ "insecure-in-process", no_argument, NULL, OPT_INSECURE_IN_PROCESS },
	{ NULL, 0, NULL, 0 }
};

/* Regular expressions as given, from vigil.conf and the command line (both
 * apply), compiled once everything is read. */
struct raw_patterns {
	char **text;
	size_t count;
};

/* Everything the arguments and vigil.conf say; single-valued settings are
 * written by the configuration first, then by the command line. */
struct scan_args {
	struct scan_config cfg;
	const char *config_path;
	int config_required;
	struct raw_patterns exclude, exclude_dir, include, include_dir;
	int show_help;
	int show_version;
};

static int bad_value(const char *option, const char *value, const char *expected)
{
	fprintf(stderr, "ERROR: Incorrect argument format for option --%s: '%s' (%s)\n", option,
		value, expected);
	fprintf(stderr, "Try 'vigil scan --help' for more information.\n");
	return -1;
}

static int parse_flag(const char *option, const char *arg, int *out)
{
	if (arg == NULL) {
		*out = 1;
		return 0;
	}
	if (vt_parse_bool(arg, out) != 0)
		return bad_value(option, arg, "expected yes or no");
	return 0;
}

static int parse_follow(const char *option, const char *arg, unsigned *out)
{
	uint64_t v;

	if (arg == NULL) {
		*out = 2;
		return 0;
	}
	if (vt_parse_count(arg, 2, &v) != 0)
		return bad_value(option, arg, "expected 0, 1 or 2");
	*out = (unsigned)v;
	return 0;
}

/* --move, --copy and --remove: one of them (the last of one kind wins). */
static int set_action(struct scan_config *cfg, enum scan_action action, const char *dir)
{
	static const char *const names[] = { "", "--move=DIR", "--copy=DIR", "--move", "--remove" };

	if (cfg->action != ACT_NONE && cfg->action != action &&
	    !((cfg->action == ACT_MOVE_DIR || cfg->action == ACT_MOVE_STORE) &&
	      (action == ACT_MOVE_DIR || action == ACT_MOVE_STORE))) {
		fprintf(stderr, "ERROR: %s and %s cannot be used together: choose one action\n",
			names[cfg->action], names[action]);
		return -1;
	}
	cfg->action = action;
	free(cfg->action_dir);
	cfg->action_dir = dir != NULL ? xstrdup(dir) : NULL;
	return 0;
}

static uint64_t size_or_unlimited(uint64_t v)
{
	return v == 0 ? UINT64_MAX : v;
}

/* One option from the command line. Returns 0, or -1 after printing why. */
static int apply_option(struct scan_args *a, int c, const char *arg)
{
	struct scan_config *cfg = &a->cfg;
	uint64_t v;

	switch (c) {
	case 'h':
		a->show_help = 1;
		return 0;
	case 'V':
		a->show_version = 1;
		return 0;
	case 'd':
		append_str(&cfg->db_paths, &cfg->db_count, arg);
		return 0;
	case 'r':
		return parse_flag("recursive", arg, &cfg->recursive);
	case 'i':
		return parse_flag("infected", arg, &cfg->infected_only);
	case 'o':
		return parse_flag("suppress-ok-results", arg, &cfg->suppress_ok);
	case 'z':
		return parse_flag("allmatch", arg, &cfg->allmatch);
	case 'l':
		free(cfg->log_path);
		cfg->log_path = xstrdup(arg);
		return 0;
	case 'j':
		if (vt_parse_count(arg, 1024, &v) != 0 || v == 0)
			return bad_value("threads", arg, "expected a number of threads, 1 to 1024");
		cfg->threads = (unsigned)v;
		return 0;
	case OPT_NO_SUMMARY:
		cfg->no_summary = 1;
		return 0;
	case OPT_WORKER_DEADLINE:
		if (vt_parse_count(arg, UINT64_MAX / 2, &v) != 0)
			return bad_value("worker-deadline", arg,
					 "expected milliseconds; 0 means no deadline");
		cfg->worker_deadline_ms = v;
		cfg->worker_deadline_set = 1;
		return 0;
	case OPT_WORKER_FILES:
		if (vt_parse_count(arg, UINT32_MAX, &v) != 0 || v == 0)
			return bad_value("worker-files", arg, "expected a number of files, at least 1");
		cfg->worker_files = (unsigned)v;
		return 0;
	case OPT_INSECURE_NO_SANDBOX:
		cfg->insecure_no_sandbox = 1;
		return 0;
	case OPT_INSECURE_IN_PROCESS:
		cfg->insecure_in_process = 1;
		return 0;
	case OPT_EXCLUDE:
		append_str(&a->exclude.text, &a->exclude.count, arg);
		return 0;
	case OPT_EXCLUDE_DIR:
		append_str(&a->exclude_dir.text, &a->exclude_dir.count, arg);
		return 0;
	case OPT_INCLUDE:
		append_str(&a->include.text, &a->include.count, arg);
		return 0;
	case OPT_INCLUDE_DIR:
		append_str(&a->include_dir.text, &a->include_dir.count, arg);
		return 0;
	case OPT_MAX_FILESIZE:
		if (vt_parse_size(arg, &v) != 0)
			return bad_value("max-filesize", arg,
					 "expected a size such as 25M; K, M and G are accepted");
		cfg->limits.max_filesize = size_or_unlimited(v);
		return 0;
	case OPT_MAX_SCANSIZE:
		if (vt_parse_size(arg, &v) != 0)
			return bad_value("max-scansize", arg,
					 "expected a size such as 100M; K, M and G are accepted");
		cfg->limits.max_scansize = size_or_unlimited(v);
		return 0;
	case OPT_MAX_RECURSION:
		if (vt_parse_count(arg, 100, &v) != 0 || v == 0)
			return bad_value("max-recursion", arg, "expected a number from 1 to 100");
		cfg->limits.max_recursion = (uint32_t)v;
		return 0;
	case OPT_MAX_FILES:
		if (vt_parse_count(arg, UINT32_MAX, &v) != 0)
			return bad_value("max-files", arg, "expected a number; 0 means no limit");
		cfg->limits.max_files = v == 0 ? UINT32_MAX : (uint32_t)v;
		return 0;
	case OPT_MAX_SCANTIME:
		if (vt_parse_count(arg, UINT64_MAX, &v) != 0)
			return bad_value("max-scantime", arg,
					 "expected milliseconds; 0 means no limit");
		cfg->limits.max_scantime_ms = v;
		return 0;
	case OPT_MAX_DIR_RECURSION:
		if (vt_parse_count(arg, UINT32_MAX, &v) != 0)
			return bad_value("max-dir-recursion", arg, "expected a number");
		cfg->max_dir_recursion = v;
		return 0;
	case OPT_FOLLOW_DIR:
		return parse_follow("follow-dir-symlinks", arg, &cfg->follow_dir);
	case OPT_FOLLOW_FILE:
		return parse_follow("follow-file-symlinks", arg, &cfg->follow_file);
	case OPT_DETECT_PUA:
		return parse_flag("detect-pua", arg, &cfg->detect_pua);
	case OPT_OFFICIAL_DB_ONLY:
		return parse_flag("official-db-only", arg, &cfg->official_db_only);
	case OPT_ALERT_EXCEEDS_MAX:
		return parse_flag("alert-exceeds-max", arg, &cfg->alert_exceeds_max);
	case OPT_ALERT_ENCRYPTED:
		return parse_flag("alert-encrypted", arg, &cfg->alert_encrypted);
	case OPT_STDOUT:
		cfg->to_stdout = 1;
		return 0;
	case OPT_CONFIG_FILE:
		a->config_path = arg;
		a->config_required = 1;
		return 0;
	case OPT_JSON:
		cfg->json = 1;
		return 0;
	case OPT_DEBUG:
		cfg->debug = 1;
		return 0;
	case OPT_CACHE_DIR:
		free(cfg->cache_dir);
		cfg->cache_dir = strdup(arg);
		cfg->no_cache = 0;
		return cfg->cache_dir != NULL ? 0 : -1;
	case OPT_NO_CACHE:
		cfg->no_cache = 1;
		return 0;
	case OPT_QUIET:
		cfg->quiet = 1;
		return 0;
	case OPT_MOVE:
		if (arg != NULL && arg[0] == '\0')
			return bad_value("move", arg,
					 "expected a folder, or no value for the quarantine store");
		return set_action(cfg, arg != NULL ? ACT_MOVE_DIR : ACT_MOVE_STORE, arg);
	case OPT_COPY:
		if (arg[0] == '\0')
			return bad_value("copy", arg, "expected a folder");
		return set_action(cfg, ACT_COPY_DIR, arg);
	case OPT_REMOVE: {
		int on;
		if (parse_flag("remove", arg, &on) != 0)
			return -1;
		if (!on) {
			if (cfg->action == ACT_REMOVE)
				cfg->action = ACT_NONE;
			return 0;
		}
		return set_action(cfg, ACT_REMOVE, NULL);
	}
	case OPT_QUARANTINE_DIR:
		if (arg[0] != '/')
			return bad_value("quarantine-dir", arg, "expected an absolute folder path");
		free(cfg->quarantine_dir);
		cfg->quarantine_dir = xstrdup(arg);
		return 0;
	default:
		return -1;
	}
}

/* The option getopt_long() just stopped at, for messages. */
static const char *offending(char **argv, int c)
{
	static char buf[3];

	if (optopt != 0 && c == '?') {
		buf[0] = '-';
		buf[1] = (char)optopt;
		buf[2] = '\0';
		return buf;
	}
	return argv[optind - 1];
}

/* Pass 1: only --config-file (and -h), so that the configuration can be
 * applied before the command line overrides it. */
static void find_config_file(int argc, char **argv, struct scan_args *a)
{
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		if (c == OPT_CONFIG_FILE) {
			a->config_path = optarg;
			a->config_required = 1;
		}
		/* clamscan users write "--move DIR"; here that means the store, and
		 * DIR is scanned. Say so when the next word is a folder (this pass
		 * sees the arguments in their order; getopt permutes them). */
		if (c == OPT_MOVE && optarg == NULL && optind < argc && argv[optind][0] != '-') {
			struct stat st;
			if (stat(argv[optind], &st) == 0 && S_ISDIR(st.st_mode))
				fprintf(stderr,
					"NOTICE: --move without '=' moves what is found into the "
					"quarantine store, and '%s' is scanned; to move files into "
					"'%s' instead, write --move='%s'\n",
					argv[optind], argv[optind], argv[optind]);
		}
	}
}

static int parse_command_line(int argc, char **argv, struct scan_args *a)
{
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		if (c == '?') {
			fprintf(stderr, "ERROR: Unknown option passed: %s\n", offending(argv, c));
			fprintf(stderr, "Try 'vigil scan --help' for the list of options.\n");
			return -1;
		}
		if (c == ':') {
			fprintf(stderr, "ERROR: Option %s needs an argument\n", argv[optind - 1]);
			fprintf(stderr, "Try 'vigil scan --help' for more information.\n");
			return -1;
		}
		if (apply_option(a, c, optarg) != 0)
			return -1;
	}
	for (int i = optind; i < argc; i++)
		append_str(&a->cfg.paths, &a->cfg.path_count, argv[i]);
	return 0;
}

static void config_warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "WARNING: %s\n", msg);
}

static int conf_error(const struct vt_config *conf, const struct vt_config_entry *e,
		      const char *expected)
{
	fprintf(stderr, "ERROR: %s:%u: bad value for %s: '%s' (%s)\n", conf->path, e->line, e->key,
		e->value, expected);
	return -1;
}

static int apply_config(struct scan_args *a, const struct vt_config *conf)
{
	struct scan_config *cfg = &a->cfg;
	const struct vt_config_entry *e;
	uint64_t v;
	int b;

	if ((e = vt_config_last(conf, "CacheDirectory")) != NULL) {
		if (strcasecmp(e->value, "no") == 0) {
			cfg->no_cache = 1;
		} else if (e->value[0] == '/') {
			free(cfg->cache_dir);
			cfg->cache_dir = strdup(e->value);
			if (cfg->cache_dir == NULL)
				return -1;
		} else {
			return conf_error(conf, e, "an absolute folder path, or no");
		}
	}
	if ((e = vt_config_last(conf, "MaxFileSize")) != NULL) {
		if (vt_parse_size(e->value, &v) != 0)
			return conf_error(conf, e, "a size such as 25M");
		cfg->limits.max_filesize = size_or_unlimited(v);
	}
	if ((e = vt_config_last(conf, "MaxScanSize")) != NULL) {
		if (vt_parse_size(e->value, &v) != 0)
			return conf_error(conf, e, "a size such as 100M");
		cfg->limits.max_scansize = size_or_unlimited(v);
	}
	if ((e = vt_config_last(conf, "MaxRecursion")) != NULL) {
		if (vt_parse_count(e->value, 100, &v) != 0 || v == 0)
			return conf_error(conf, e, "a number from 1 to 100");
		cfg->limits.max_recursion = (uint32_t)v;
	}
	if ((e = vt_config_last(conf, "MaxFiles")) != NULL) {
		if (vt_parse_count(e->value, UINT32_MAX, &v) != 0)
			return conf_error(conf, e, "a number");
		cfg->limits.max_files = v == 0 ? UINT32_MAX : (uint32_t)v;
	}
	if ((e = vt_config_last(conf, "MaxScanTime")) != NULL) {
		if (vt_parse_count(e->value, UINT64_MAX, &v) != 0)
			return conf_error(conf, e, "milliseconds");
		cfg->limits.max_scantime_ms = v;
	}
	if ((e = vt_config_last(conf, "MaxDirectoryRecursion")) != NULL) {
		if (vt_parse_count(e->value, UINT32_MAX, &v) != 0)
			return conf_error(conf, e, "a number");
		cfg->max_dir_recursion = v;
	}
	if ((e = vt_config_last(conf, "MaxThreads")) != NULL) {
		if (vt_parse_count(e->value, 1024, &v) != 0 || v == 0)
			return conf_error(conf, e, "a number from 1 to 1024");
		cfg->threads = (unsigned)v;
	}
	/* clamd.conf's yes/no, or clamscan's 0/1/2. yes = always follow. */
	if ((e = vt_config_last(conf, "FollowDirectorySymlinks")) != NULL) {
		if (vt_parse_count(e->value, 2, &v) == 0)
			cfg->follow_dir = (unsigned)v;
		else if (vt_parse_bool(e->value, &b) == 0)
			cfg->follow_dir = b ? 2 : 1;
		else
			return conf_error(conf, e, "yes, no, 0, 1 or 2");
	}
	if ((e = vt_config_last(conf, "FollowFileSymlinks")) != NULL) {
		if (vt_parse_count(e->value, 2, &v) == 0)
			cfg->follow_file = (unsigned)v;
		else if (vt_parse_bool(e->value, &b) == 0)
			cfg->follow_file = b ? 2 : 1;
		else
			return conf_error(conf, e, "yes, no, 0, 1 or 2");
	}
	if ((e = vt_config_last(conf, "DetectPUA")) != NULL) {
		if (vt_parse_bool(e->value, &cfg->detect_pua) != 0)
			return conf_error(conf, e, "yes or no");
	}
	if ((e = vt_config_last(conf, "OfficialDatabaseOnly")) != NULL) {
		if (vt_parse_bool(e->value, &cfg->official_db_only) != 0)
			return conf_error(conf, e, "yes or no");
	}
	if ((e = vt_config_last(conf, "AlertEncrypted")) != NULL) {
		if (vt_parse_bool(e->value, &cfg->alert_encrypted) != 0)
			return conf_error(conf, e, "yes or no");
	}
	if ((e = vt_config_last(conf, "AlertExceedsMax")) != NULL) {
		if (vt_parse_bool(e->value, &cfg->alert_exceeds_max) != 0)
			return conf_error(conf, e, "yes or no");
	}
	if ((e = vt_config_last(conf, "LogFile")) != NULL)
		cfg->log_path = xstrdup(e->value);
	if ((e = vt_config_last(conf, "QuarantineDirectory")) != NULL) {
		if (e->value[0] != '/')
			return conf_error(conf, e, "an absolute folder path");
		cfg->quarantine_dir = xstrdup(e->value);
	}
	/* clamd applies ExcludePath to every path it meets, files and folders. */
	for (e = NULL; (e = vt_config_next(conf, "ExcludePath", e)) != NULL;) {
		append_str(&a->exclude.text, &a->exclude.count, e->value);
		append_str(&a->exclude_dir.text, &a->exclude_dir.count, e->value);
	}
	return 0;
}

static int compile_patterns(const char *option, struct raw_patterns *raw, struct pattern_list *out)
{
	regex_t *re = xcalloc(raw->count, sizeof(*re));

	for (size_t i = 0; i < raw->count; i++) {
		int rc = regcomp(&re[i], raw->text[i], REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[256];
			regerror(rc, &re[i], msg, sizeof(msg));
			fprintf(stderr, "ERROR: --%s: invalid regular expression '%s': %s\n", option,
				raw->text[i], msg);
			while (i > 0)
				regfree(&re[--i]);
			free(re);
			return -1;
		}
	}
	out->re = re;
	out->text = raw->text;
	out->count = raw->count;
	raw->text = NULL;
	raw->count = 0;
	return 0;
}

static void free_patterns(struct pattern_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		regfree(&l->re[i]);
	free(l->re);
	free_strs(l->text, l->count);
	memset(l, 0, sizeof(*l));
}

static void free_raw(struct raw_patterns *r)
{
	free_strs(r->text, r->count);
	memset(r, 0, sizeof(*r));
}

static void free_config(struct scan_config *cfg)
{
	free_strs(cfg->db_paths, cfg->db_count);
	free_strs(cfg->paths, cfg->path_count);
	free(cfg->log_path);
	free(cfg->cache_dir);
	free(cfg->action_dir);
	free(cfg->quarantine_dir);
	free_patterns(&cfg->exclude);
	free_patterns(&cfg->exclude_dir);
	free_patterns(&cfg->include);
	free_patterns(&cfg->include_dir);
	vt_db_settings_free(&cfg->dbs);
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > 1024 ? 1024u : (unsigned)n;
}

/* Room in the reorder ring: every pending file holds a descriptor, so stay
 * well inside the descriptor limit (raised to its maximum first). */
static size_t ring_capacity(unsigned threads)
{
	struct rlimit rl;
	size_t cap = (size_t)threads * 32;

	if (cap < 256)
		cap = 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY) {
			/* folders being walked, the log, the engine: keep a margin */
			size_t usable = rl.rlim_cur > 192 ? (size_t)(rl.rlim_cur - 128) / 2 : 16;
			if (cap > usable)
				cap = usable;
		}
	}
	return cap;
}

static int exit_status(const struct scan_state *s)
{
	if (s->totals.infected > 0)
		return 1;
	if (s->totals.errors > 0 || s->arg_failed)
		return 2;
	return 0;
}

static void finish_totals(struct scan_state *s)
{
	clock_gettime(CLOCK_MONOTONIC, &s->totals.finished);
	s->totals.end_date = time(NULL);
}

/* Create the engine, load the databases, compile. Failures are printed. */
static int build_engine(struct scan_state *s, struct vg_engine_options *eo)
{
	const struct scan_config *cfg = s->cfg;
	enum vg_status st;

	eo->flags = (cfg->detect_pua ? VG_ENGINE_DETECT_PUA : 0) |
		    (cfg->official_db_only ? VG_ENGINE_OFFICIAL_ONLY : 0);
	eo->limits = cfg->limits;
	eo->log = vt_engine_log;
	eo->log_ctx = s->out;
	if (!cfg->no_cache)
		eo->cache_dir = cfg->cache_dir != NULL
					? cfg->cache_dir
					: vt_default_cache_dir(s->cache_buf, sizeof(s->cache_buf));
	st = vg_engine_new(eo, &s->engine);
	if (st != VG_OK) {
		s->engine = NULL;
		vt_msg(s->out, VT_MSG_ERROR, 1, "Can't initialize the engine: %s", vg_status_str(st));
		return -1;
	}
	if (vt_databases_load(s->engine, &cfg->dbs, s->out) != 0)
		return -1;
	st = vg_engine_compile(s->engine);
	if (st != VG_OK) {
		const char *detail = vg_engine_error(s->engine);
		vt_msg(s->out, VT_MSG_ERROR, 1, "Database initialization error: %s",
		       detail != NULL && *detail != '\0' ? detail : vg_status_str(st));
		return -1;
	}
	return 0;
}

/* The sandboxed workers every file is parsed in (worker_client.h). */
static int start_workers(struct scan_state *s)
{
	const struct scan_config *cfg = s->cfg;
	struct vw_pool_config wc;
	char err[512];

	if (cfg->insecure_in_process) {
		vt_msg(s->out, VT_MSG_WARNING, 1,
		       "--insecure-in-process: files are parsed inside vigil itself, with no sandbox");
		return 0;
	}
	if (cfg->insecure_no_sandbox)
		vt_msg(s->out, VT_MSG_WARNING, 1,
		       "--insecure-no-sandbox: scan workers run without their sandbox");
	memset(&wc, 0, sizeof(wc));
	wc.insecure_no_sandbox = cfg->insecure_no_sandbox;
	wc.files_per_worker = cfg->worker_files;
	wc.engine_flags = cfg->detect_pua ? VG_ENGINE_DETECT_PUA : 0;
	wc.prestart = cfg->threads;
	if (cfg->worker_deadline_set)
		wc.deadline_ms = cfg->worker_deadline_ms;
	else if (cfg->limits.max_scantime_ms != 0)
		wc.deadline_ms = cfg->limits.max_scantime_ms + VW_DEADLINE_GRACE_MS;
	if (vw_pool_new(s->engine, &wc, &s->workers, err, sizeof(err)) != 0) {
		vt_msg(s->out, VT_MSG_ERROR, 1, "%s", err);
		return -1;
	}
	return 0;
}

/* Walk, scan and report; returns the exit status. */
static int run_scan(struct scan_state *s)
{
	const struct scan_config *cfg = s->cfg;
	struct stat pst;
	int rc;

	s->totals.known_viruses = vg_engine_signature_count(s->engine);
	vg_scan_options_init(s->engine, &s->scan_opts);
	s->scan_opts.flags = (cfg->allmatch ? VG_SCAN_ALLMATCH : 0) |
			     (cfg->alert_exceeds_max ? VG_SCAN_ALERT_EXCEEDS_MAX : 0) |
			     (cfg->alert_encrypted ? VG_SCAN_ALERT_ENCRYPTED : 0);
	s->scan_opts.limits = cfg->limits;
	/* clamscan leaves files on procfs alone ("Excluded (/proc)"). */
	if (stat("/proc", &pst) == 0 && pst.st_size == 0) {
		s->proc_dev = pst.st_dev;
		s->have_proc_dev = 1;
	}

	if (start_workers(s) != 0) {
		finish_totals(s);
		return 2;
	}
	s->pipe = pipeline_start(s, cfg->threads, ring_capacity(cfg->threads));
	scan_walk_arguments(s);
	pipeline_finish(s->pipe);
	s->pipe = NULL;
	vw_pool_free(s->workers);
	s->workers = NULL;

	finish_totals(s);
	rc = exit_status(s);
	scan_report_summary(s, rc);
	return rc;
}

int cmd_scan(int argc, char **argv)
{
	struct scan_args a;
	struct vt_config conf = { 0 };
	struct vg_engine_options eo;
	struct vt_output output;
	struct scan_state s;
	char err[512];
	int rc = 2;

	memset(&a, 0, sizeof(a));
	memset(&s, 0, sizeof(s));
	s.dest.fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &s.totals.started);
	s.totals.start_date = time(NULL);
	s.totals.engine_version = vg_version();

	/* Defaults: clamscan's. */
	vg_engine_options_init(&eo);
	a.cfg.limits = eo.limits;
	a.cfg.recursive = 1;
	a.cfg.follow_dir = 1;
	a.cfg.follow_file = 1;
	a.cfg.max_dir_recursion = 15;
	a.cfg.threads = online_cpus();
	a.config_path = VIGIL_DEFAULT_CONFIG;
	vt_db_settings_defaults(&a.cfg.dbs);

	find_config_file(argc, argv, &a);
	if (vt_config_load(a.config_path, a.config_required, vt_vigil_conf_keys, config_warn, NULL,
			   &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "ERROR: %s\n", err);
		goto out;
	}
	if (apply_config(&a, &conf) != 0)
		goto out;
	if (vt_db_settings_from_config(&a.cfg.dbs, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "ERROR: %s\n", err);
		goto out;
	}
	if (parse_command_line(argc, argv, &a) != 0)
		goto out;
	if (a.show_help) {
		fputs(scan_usage, stdout);
		rc = 0;
		goto out;
	}
	if (a.show_version) {
		rc = print_version_line(a.config_path, a.config_required, a.cfg.db_paths,
					a.cfg.db_count);
		goto out;
	}
	if (compile_patterns("exclude", &a.exclude, &a.cfg.exclude) != 0 ||
	    compile_patterns("exclude-dir", &a.exclude_dir, &a.cfg.exclude_dir) != 0 ||
	    compile_patterns("include", &a.include, &a.cfg.include) != 0 ||
	    compile_patterns("include-dir", &a.include_dir, &a.cfg.include_dir) != 0)
		goto out;
	a.cfg.dbs.explicit_paths = (const char *const *)a.cfg.db_paths;
	a.cfg.dbs.explicit_count = a.cfg.db_count;

	/* From here on, messages go where the user asked and into the log. */
	vt_output_init(&output, a.cfg.quiet ? NULL : stdout,
		       a.cfg.to_stdout && !a.cfg.json ? stdout : stderr);
	output.debug = a.cfg.debug;
	output.quiet = a.cfg.quiet;
	if (a.cfg.log_path != NULL &&
	    vt_output_open_log(&output, a.cfg.log_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "ERROR: %s\n", err);
		goto out;
	}
	s.cfg = &a.cfg;
	s.out = &output;

	/* As clamscan: a bad --move/--copy folder stops everything (exit 2,
	 * no summary), before the databases are loaded. */
	if (scan_action_start(&s) != 0) {
		vt_output_finish(&output);
		goto out;
	}
	if (build_engine(&s, &eo) == 0) {
		rc = run_scan(&s);
	} else {
		/* As clamscan: the summary is printed even when no database loaded. */
		finish_totals(&s);
		s.totals.known_viruses = 0;
		rc = 2;
		scan_report_summary(&s, rc);
	}
	vt_output_finish(&output);
	if (ferror(stdout)) {
		fprintf(stderr, "ERROR: Can't write the report to standard output\n");
		if (rc == 0)
			rc = 2;
	}
out:
	scan_action_finish(&s);
	free(s.stack);
	vg_engine_unref(s.engine);
	free_raw(&a.exclude);
	free_raw(&a.exclude_dir);
	free_raw(&a.include);
	free_raw(&a.include_dir);
	free_config(&a.cfg);
	vt_config_free(&conf);
	return rc;
}
