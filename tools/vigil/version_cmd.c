/*
 * version_cmd.c - `vigil version` and `vigil --version`.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "config.h"
#include "databases.h"
#include "output.h"
#include "worker_client.h"

/* A database older than this draws a warning. */
#define STALE_AFTER_SECONDS (7 * 24 * 3600)

static const char version_usage[] =
	"Usage: vigil version [options]\n"
	"\n"
	"Print the versions of vigil and of the engine, the sandbox layers a scan\n"
	"worker achieves on this machine, and every database that 'vigil scan'\n"
	"would load with the same options, with its version, build date and\n"
	"signature counts. Warns when the newest database is more than 7 days old.\n"
	"\n"
	"  -d, --database=FILE/DIR   inspect this database instead of the defaults\n"
	"      --config-file=FILE    read settings from FILE (default " VIGIL_DEFAULT_CONFIG ")\n"
	"  -h, --help                print this help\n";

static void format_utc(char *buf, size_t len, int64_t when)
{
	struct tm tm;
	time_t t = (time_t)when;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)when);
}

static void config_warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "WARNING: %s\n", msg);
}

/* Loads (does not compile) the databases chosen by the configuration and
 * db_paths. Returns the engine or NULL; failures are printed on o. */
static struct vg_engine *load_engine(const char *config_path, int config_required,
				     char *const *db_paths, size_t db_count, struct vt_output *o,
				     int with_log)
{
	struct vt_config conf = { 0 };
	struct vt_db_settings dbs;
	struct vg_engine_options eo;
	struct vg_engine *e = NULL;
	char err[512];

	vt_db_settings_defaults(&dbs);
	if (vt_config_load(config_path, config_required, vt_vigil_conf_keys,
			   o->silent ? NULL : config_warn, NULL, &conf, err, sizeof(err)) != 0) {
		vt_msg(o, VT_MSG_ERROR, 0, "%s", err);
		return NULL;
	}
	if (vt_db_settings_from_config(&dbs, &conf, err, sizeof(err)) != 0) {
		vt_msg(o, VT_MSG_ERROR, 0, "%s", err);
		goto out;
	}
	dbs.explicit_paths = (const char *const *)db_paths;
	dbs.explicit_count = db_count;
	vg_engine_options_init(&eo);
	if (with_log) {
		eo.log = vt_engine_log;
		eo.log_ctx = o;
	}
	enum vg_status st = vg_engine_new(&eo, &e);
	if (st != VG_OK) {
		vt_msg(o, VT_MSG_ERROR, 0, "Can't initialize the engine: %s", vg_status_str(st));
		e = NULL;
		goto out;
	}
	if (vt_databases_load(e, &dbs, o) != 0) {
		vg_engine_unref(e);
		e = NULL;
	}
out:
	vt_db_settings_free(&dbs);
	vt_config_free(&conf);
	return e;
}

/* "Sandbox: <layers>" from a real worker started on an empty engine: what
 * `vigil scan` gets on this machine. */
static void print_sandbox(void)
{
	struct vg_engine_options eo;
	struct vg_engine *e = NULL;
	struct vw_pool_config wc;
	struct vw_pool *pool = NULL;
	struct vw_layers layers;
	char path[4096], text[512], err[512];

	if (vw_find_worker(path, sizeof(path)) != 0) {
		printf("Scan worker: not found (vigil scan cannot scan)\n");
		return;
	}
	printf("Scan worker: %s\n", path);
	vg_engine_options_init(&eo);
	if (vg_engine_new(&eo, &e) != VG_OK || vg_engine_compile(e) != VG_OK) {
		printf("Sandbox: unknown (cannot start an engine)\n");
		goto out;
	}
	memset(&wc, 0, sizeof(wc));
	wc.worker_path = path;
	if (vw_pool_new(e, &wc, &pool, err, sizeof(err)) != 0) {
		/* e.g. without seccomp: scans refuse, and this says why */
		printf("Sandbox: not usable: %s\n", err);
		goto out;
	}
	vw_pool_layers(pool, &layers);
	vw_layers_describe(&layers, text, sizeof(text));
	printf("Sandbox: %s\n", text);
out:
	vw_pool_free(pool);
	vg_engine_unref(e);
}

int print_version_line(const char *config_path, int config_required, char *const *db_paths,
		       size_t db_count)
{
	struct vt_output o;
	struct vg_engine *e;
	char line[256];

	/* Like clamscan -V: whatever goes wrong with the databases, print the
	 * version of the program. */
	vt_output_init(&o, stdout, stderr);
	o.silent = 1;
	e = load_engine(config_path, config_required, db_paths, db_count, &o, 0);
	vt_version_line(e, line, sizeof(line));
	printf("%s\n", line);
	vg_engine_unref(e);
	return 0;
}

int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "database", required_argument, NULL, 'd' },
		{ "config-file", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config_path = VIGIL_DEFAULT_CONFIG;
	int config_required = 0;
	char **db_paths = NULL;
	size_t db_count = 0;
	struct vt_output o;
	struct vg_engine *e = NULL;
	int c, rc = 2;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":hd:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(version_usage, stdout);
			rc = 0;
			goto out;
		case 'd': {
			char **n = realloc(db_paths, (db_count + 1) * sizeof(*n));
			if (n == NULL)
				goto out;
			db_paths = n;
			db_paths[db_count++] = optarg;
			break;
		}
		case 'c':
			config_path = optarg;
			config_required = 1;
			break;
		case ':':
			fprintf(stderr, "ERROR: Option %s needs an argument\n", argv[optind - 1]);
			fprintf(stderr, "Try 'vigil version --help' for more information.\n");
			goto out;
		default:
			fprintf(stderr, "ERROR: Unknown option passed: %s\n", argv[optind - 1]);
			fprintf(stderr, "Try 'vigil version --help' for the list of options.\n");
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ERROR: 'vigil version' takes no arguments ('%s')\n", argv[optind]);
		goto out;
	}

	printf("vigil %s\n", VG_VERSION_STRING);
	printf("Engine: libvigil %s\n", vg_version());
	printf("FLEVEL: %u\n", (unsigned)VG_FLEVEL);
	print_sandbox();
	fflush(stdout);

	vt_output_init(&o, stdout, stderr);
	e = load_engine(config_path, config_required, db_paths, db_count, &o, 1);
	if (e == NULL)
		goto out;

	size_t n = vg_engine_db_count(e);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		struct vg_db_info info;
		if (vg_engine_db_info(e, i, &info) == VG_OK)
			total += info.signatures;
	}
	printf("Known viruses: %llu\n", (unsigned long long)total);
	printf("Databases: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		struct vg_db_info info;
		char date[64];
		if (vg_engine_db_info(e, i, &info) != VG_OK)
			continue;
		format_utc(date, sizeof(date), info.build_time);
		printf("  %s: version %u, built %s, %llu signature%s, %llu deferred, %llu skipped, "
		       "%s, %s\n",
		       info.name, (unsigned)info.version, date, (unsigned long long)info.signatures,
		       info.signatures == 1 ? "" : "s", (unsigned long long)info.deferred,
		       (unsigned long long)info.skipped, info.official ? "signed" : "unsigned",
		       info.path);
	}
	fflush(stdout);

	struct vg_db_info newest;
	if (vt_databases_newest(e, &newest) >= 0) {
		int64_t age = (int64_t)time(NULL) - newest.build_time;
		if (age > STALE_AFTER_SECONDS) {
			char date[64];
			format_utc(date, sizeof(date), newest.build_time);
			fprintf(stderr,
				"WARNING: The newest database (%s, built %s) is %lld days old: "
				"the signatures are out of date. Update the databases.\n",
				newest.name, date, (long long)(age / 86400));
		}
	}
	rc = 0;
out:
	vg_engine_unref(e);
	free(db_paths);
	return rc;
}
