/*
 * quarantine_cmd.c - `vigil quarantine list|show|restore|delete|purge`.
 *
 * Every subcommand opens the store first, which finishes or undoes whatever
 * a crash interrupted (reported as NOTICE lines on stderr). The store is
 * --quarantine-dir, else QuarantineDirectory in vigil.conf, else
 * $VIGIL_QUARANTINE_DIR, else /var/lib/vigil/quarantine.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "json.h"
#include "quarantine.h"
#include "values.h"

static const char usage_text[] =
	"Usage: vigil quarantine [options] <command> [arguments]\n"
	"\n"
	"Files moved by 'vigil scan --move' are kept encrypted, with their metadata,\n"
	"in the quarantine store until restored or deleted.\n"
	"\n"
	"Commands:\n"
	"  list                       one item per line: id, time (UTC), size,\n"
	"                             detections, original path\n"
	"  show ID                    everything recorded about an item\n"
	"  restore ID [--to PATH] [--force]\n"
	"                             put the file back with its exact bytes, owner,\n"
	"                             mode, timestamps and extended attributes; never\n"
	"                             replaces an existing file unless --force\n"
	"  delete ID                  delete an item for good\n"
	"  purge --older-than DAYS    delete the items quarantined more than DAYS ago\n"
	"\n"
	"ID is an item id as 'list' prints it, or its first 4 or more digits.\n"
	"\n"
	"Options:\n"
	"      --quarantine-dir=DIR   the store (default " VQ_DEFAULT_STORE ")\n"
	"      --config-file=FILE     read settings from FILE (default " VIGIL_DEFAULT_CONFIG ")\n"
	"      --to=PATH              restore: to PATH, or into the folder PATH\n"
	"      --force                restore: replace an existing file at the destination\n"
	"      --older-than=DAYS      purge: age in whole days\n"
	"      --json                 list, show: JSON (one object per line)\n"
	"  -h, --help                 print this help\n"
	"\n"
	"Exit status: 0 done, 2 an error or a refusal (nothing was changed).\n";

enum { OPT_DIR = 256, OPT_CONFIG, OPT_TO, OPT_FORCE, OPT_OLDER, OPT_JSON };

static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "quarantine-dir", required_argument, NULL, OPT_DIR },
	{ "config-file", required_argument, NULL, OPT_CONFIG },
	{ "to", required_argument, NULL, OPT_TO },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "older-than", required_argument, NULL, OPT_OLDER },
	{ "json", no_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 }
};

struct q_args {
	const char *dir;
	const char *config_path;
	int config_required;
	const char *to;
	int force;
	const char *older_than;
	int json;
	int help;
	const char *command;
	const char *id;
};

static void notice(void *ctx, enum vq_level level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s: %s\n", level == VQ_WARNING ? "WARNING" : "NOTICE", msg);
}

static void config_warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "WARNING: %s\n", msg);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ERROR: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'vigil quarantine --help' for more information.\n", stderr);
	return 2;
}

/* Exact bytes of a path on one line: control bytes and backslash as \xHH. */
static void print_path(FILE *f, const char *p)
{
	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void format_time(char *buf, size_t len, const struct timespec *t, int with_ns)
{
	struct tm tm;
	time_t sec = t->tv_sec;
	char base[40];

	if (gmtime_r(&sec, &tm) == NULL || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "%lld", (long long)sec);
		return;
	}
	if (with_ns)
		snprintf(buf, len, "%s.%09ldZ", base, t->tv_nsec);
	else
		snprintf(buf, len, "%sZ", base);
}

static void json_detections(FILE *f, const struct vq_item *it)
{
	fputs("\"detections\":[", f);
	for (size_t i = 0; i < it->detection_count; i++) {
		if (i)
			fputc(',', f);
		vt_json_string(f, it->detections[i]);
	}
	fputc(']', f);
}

static void json_path(FILE *f, const char *key, const char *path)
{
	fprintf(f, "\"%s\":", key);
	vt_json_string(f, path);
	if (!vt_utf8_valid(path)) {
		fprintf(f, ",\"%s_hex\":", key);
		vt_json_hex(f, path);
	}
}

struct list_state {
	int json;
	size_t count;
};

static int list_one(void *ctx, const struct vq_item *it)
{
	struct list_state *ls = ctx;
	char when[64], sha[65];

	ls->count++;
	format_time(when, sizeof(when), &it->quarantined, 0);
	if (it->missing)
		fprintf(stderr, "WARNING: item %s: its file is missing from the store\n", it->id);
	if (ls->json) {
		static const char hexd[] = "0123456789abcdef";
		for (int i = 0; i < 32; i++) {
			sha[2 * i] = hexd[it->sha256[i] >> 4];
			sha[2 * i + 1] = hexd[it->sha256[i] & 15];
		}
		sha[64] = '\0';
		printf("{\"id\":\"%s\",", it->id);
		json_path(stdout, "path", it->path);
		printf(",\"quarantined\":\"%s\",\"size\":%llu,\"sha256\":\"%s\",", when,
		       (unsigned long long)it->size, sha);
		json_detections(stdout, it);
		printf(",\"missing\":%s}\n", it->missing ? "true" : "false");
		return 0;
	}
	printf("%s  %s  %llu  ", it->id, when, (unsigned long long)it->size);
	for (size_t i = 0; i < it->detection_count; i++)
		printf("%s%s", i ? "," : "", it->detections[i]);
	if (it->detection_count == 0)
		fputs("-", stdout);
	fputs("  ", stdout);
	print_path(stdout, it->path);
	fputc('\n', stdout);
	return 0;
}

static void mode_string(uint32_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = S_ISREG(mode) ? '-' : '?';
	for (int i = 0; i < 9; i++)
		out[1 + i] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
	if (mode & S_ISUID)
		out[3] = (mode & S_IXUSR) ? 's' : 'S';
	if (mode & S_ISGID)
		out[6] = (mode & S_IXGRP) ? 's' : 'S';
	if (mode & S_ISVTX)
		out[9] = (mode & S_IXOTH) ? 't' : 'T';
	out[10] = '\0';
}

static void show_text(const struct vq_item *it, const char *store)
{
	char t[64], mode[11], sha[65];
	static const char hexd[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		sha[2 * i] = hexd[it->sha256[i] >> 4];
		sha[2 * i + 1] = hexd[it->sha256[i] & 15];
	}
	sha[64] = '\0';
	printf("id:           %s\n", it->id);
	fputs("original:     ", stdout);
	print_path(stdout, it->path);
	fputc('\n', stdout);
	format_time(t, sizeof(t), &it->quarantined, 0);
	printf("quarantined:  %s on %s by vigil %s\n", t, it->host ? it->host : "?",
	       it->vigil_version ? it->vigil_version : "?");
	fputs("detections:   ", stdout);
	for (size_t i = 0; i < it->detection_count; i++)
		printf("%s%s", i ? ", " : "", it->detections[i]);
	fputc('\n', stdout);
	printf("size:         %llu bytes\n", (unsigned long long)it->size);
	printf("sha256:       %s\n", sha);
	printf("owner:        %s (%u)\n", it->user ? it->user : "?", (unsigned)it->uid);
	printf("group:        %s (%u)\n", it->group ? it->group : "?", (unsigned)it->gid);
	mode_string(it->mode, mode);
	printf("mode:         %04o (%s)\n", (unsigned)(it->mode & 07777), mode);
	format_time(t, sizeof(t), &it->atime, 1);
	printf("accessed:     %s\n", t);
	format_time(t, sizeof(t), &it->mtime, 1);
	printf("modified:     %s\n", t);
	format_time(t, sizeof(t), &it->ctime, 1);
	printf("changed:      %s\n", t);
	printf("device/inode: %llu/%llu (%llu link%s)\n", (unsigned long long)it->dev,
	       (unsigned long long)it->ino, (unsigned long long)it->nlink, it->nlink == 1 ? "" : "s");
	for (size_t i = 0; i < it->xattr_count; i++)
		printf("xattr:        %s (%zu bytes)\n", it->xattrs[i].name, it->xattrs[i].len);
	printf("stored as:    %s/items/%s.vq\n", store, it->id);
}

static void show_json(const struct vq_item *it)
{
	char t[64];
	FILE *f = stdout;

	fprintf(f, "{\"id\":\"%s\",", it->id);
	json_path(f, "path", it->path);
	format_time(t, sizeof(t), &it->quarantined, 1);
	fprintf(f, ",\"quarantined\":\"%s\",\"host\":", t);
	vt_json_string(f, it->host ? it->host : "");
	fputc(',', f);
	json_detections(f, it);
	fprintf(f, ",\"size\":%llu,\"sha256\":\"", (unsigned long long)it->size);
	for (int i = 0; i < 32; i++)
		fprintf(f, "%02x", it->sha256[i]);
	fprintf(f, "\",\"uid\":%u,\"gid\":%u,\"user\":", (unsigned)it->uid, (unsigned)it->gid);
	if (it->user)
		vt_json_string(f, it->user);
	else
		fputs("null", f);
	fputs(",\"group\":", f);
	if (it->group)
		vt_json_string(f, it->group);
	else
		fputs("null", f);
	fprintf(f, ",\"mode\":\"%04o\"", (unsigned)(it->mode & 07777));
	format_time(t, sizeof(t), &it->atime, 1);
	fprintf(f, ",\"atime\":\"%s\"", t);
	format_time(t, sizeof(t), &it->mtime, 1);
	fprintf(f, ",\"mtime\":\"%s\"", t);
	format_time(t, sizeof(t), &it->ctime, 1);
	fprintf(f, ",\"ctime\":\"%s\",\"dev\":%llu,\"ino\":%llu,\"nlink\":%llu,\"xattrs\":[", t,
		(unsigned long long)it->dev, (unsigned long long)it->ino,
		(unsigned long long)it->nlink);
	for (size_t i = 0; i < it->xattr_count; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		vt_json_string(f, it->xattrs[i].name);
		fputs(",\"value_hex\":\"", f);
		for (size_t j = 0; j < it->xattrs[i].len; j++)
			fprintf(f, "%02x", it->xattrs[i].value[j]);
		fputs("\"}", f);
	}
	fputs("]}\n", f);
}

static int fail(const struct vq_err *err)
{
	fprintf(stderr, "ERROR: %s\n", err->msg);
	return 2;
}

/* Ask before replacing, when someone can answer. */
static int confirm_replace(const char *path)
{
	char answer[16];

	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return 0;
	fputs("'", stderr);
	print_path(stderr, path);
	fputs("' exists. Replace it with the quarantined file? [y/N] ", stderr);
	fflush(stderr);
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		return 0;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static int do_restore(struct vq_store *s, const struct q_args *a, const char *id)
{
	struct vq_err err = { 0 };
	unsigned flags = a->force ? VQ_RESTORE_FORCE : 0;
	char *where = NULL;
	enum vq_status st;

	st = vq_store_restore(s, id, a->to, flags, &where, &err);
	if (st == VQ_EXISTS && !a->force && where != NULL && err.sys == EEXIST &&
	    confirm_replace(where)) {
		free(where);
		where = NULL;
		st = vq_store_restore(s, id, a->to, VQ_RESTORE_FORCE, &where, &err);
	}
	if (st == VQ_EXISTS) {
		fprintf(stderr,
			"ERROR: %s: not restored, nothing was changed; restore elsewhere with --to "
			"PATH, or replace it with --force\n",
			err.msg);
		free(where);
		return 2;
	}
	if (st != VQ_OK) {
		free(where);
		return fail(&err);
	}
	printf("%s: restored to '", id);
	print_path(stdout, where);
	fputs("'\n", stdout);
	free(where);
	return 0;
}

struct purge_state {
	struct timespec cutoff; /* purged: quarantined at or before */
	char (*ids)[VQ_ID_HEX + 1];
	char **paths;
	size_t count;
	int failed;
};

static int purge_pick(void *ctx, const struct vq_item *it)
{
	struct purge_state *ps = ctx;

	if (it->quarantined.tv_sec > ps->cutoff.tv_sec ||
	    (it->quarantined.tv_sec == ps->cutoff.tv_sec &&
	     it->quarantined.tv_nsec > ps->cutoff.tv_nsec))
		return 0;
	void *n1 = realloc(ps->ids, (ps->count + 1) * sizeof(*ps->ids));
	if (n1 == NULL) {
		ps->failed = 1;
		return 1;
	}
	ps->ids = n1;
	void *n2 = realloc(ps->paths, (ps->count + 1) * sizeof(*ps->paths));
	if (n2 == NULL) {
		ps->failed = 1;
		return 1;
	}
	ps->paths = n2;
	ps->paths[ps->count] = strdup(it->path);
	memcpy(ps->ids[ps->count], it->id, VQ_ID_HEX + 1);
	ps->count++;
	return 0;
}

static int do_purge(struct vq_store *s, const char *days_text)
{
	struct purge_state ps;
	struct vq_err err = { 0 };
	uint64_t days;
	int rc = 0;
	size_t done = 0;

	if (vt_parse_count(days_text, 365000, &days) != 0)
		return usage_error("--older-than: '%s' is not a number of days", days_text);
	memset(&ps, 0, sizeof(ps));
	clock_gettime(CLOCK_REALTIME, &ps.cutoff);
	ps.cutoff.tv_sec -= (time_t)(days * 86400);
	if (vq_store_list(s, purge_pick, &ps, &err) != VQ_OK || ps.failed) {
		rc = ps.failed ? (fprintf(stderr, "ERROR: out of memory\n"), 2) : fail(&err);
		goto out;
	}
	for (size_t i = 0; i < ps.count; i++) {
		if (vq_store_delete(s, ps.ids[i], &err) != VQ_OK) {
			rc = fail(&err);
			continue;
		}
		done++;
		printf("%s: deleted (", ps.ids[i]);
		print_path(stdout, ps.paths[i] ? ps.paths[i] : "?");
		fputs(")\n", stdout);
	}
	printf("Purged %zu item%s quarantined more than %llu day%s ago\n", done, done == 1 ? "" : "s",
	       (unsigned long long)days, days == 1 ? "" : "s");
out:
	for (size_t i = 0; i < ps.count; i++)
		free(ps.paths[i]);
	free(ps.paths);
	free(ps.ids);
	return rc;
}

static int parse_args(int argc, char **argv, struct q_args *a)
{
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			a->help = 1;
			break;
		case OPT_DIR:
			if (optarg[0] != '/')
				return usage_error("--quarantine-dir needs an absolute folder path, not '%s'",
						   optarg);
			a->dir = optarg;
			break;
		case OPT_CONFIG:
			a->config_path = optarg;
			a->config_required = 1;
			break;
		case OPT_TO:
			a->to = optarg;
			break;
		case OPT_FORCE:
			a->force = 1;
			break;
		case OPT_OLDER:
			a->older_than = optarg;
			break;
		case OPT_JSON:
			a->json = 1;
			break;
		case ':':
			return usage_error("option %s needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		a->command = argv[optind++];
	if (optind < argc)
		a->id = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Which options and arguments each command takes. */
static int check_usage(const struct q_args *a)
{
	const char *c = a->command;
	int needs_id = strcmp(c, "show") == 0 || strcmp(c, "restore") == 0 || strcmp(c, "delete") == 0;

	if (!needs_id && strcmp(c, "list") != 0 && strcmp(c, "purge") != 0)
		return usage_error("unknown command '%s' (list, show, restore, delete, purge)", c);
	if (needs_id && a->id == NULL)
		return usage_error("'%s' needs an item id", c);
	if (!needs_id && a->id != NULL)
		return usage_error("unexpected argument '%s'", a->id);
	if ((a->to != NULL || a->force) && strcmp(c, "restore") != 0)
		return usage_error("--to and --force go with 'restore', not '%s'", c);
	if (a->older_than != NULL && strcmp(c, "purge") != 0)
		return usage_error("--older-than goes with 'purge', not '%s'", c);
	if (strcmp(c, "purge") == 0 && a->older_than == NULL)
		return usage_error("'%s' needs --older-than DAYS (0 deletes everything)", c);
	if (a->json && strcmp(c, "list") != 0 && strcmp(c, "show") != 0)
		return usage_error("--json goes with 'list' and 'show', not '%s'", c);
	return 0;
}

int cmd_quarantine(int argc, char **argv)
{
	struct q_args a;
	struct vt_config conf = { 0 };
	struct vq_store *s = NULL;
	struct vq_err err = { 0 };
	const struct vt_config_entry *e;
	char *conf_dir = NULL, id[VQ_ID_HEX + 1], msg[512];
	const char *dir;
	struct stat st;
	int rc = 2;

	memset(&a, 0, sizeof(a));
	a.config_path = VIGIL_DEFAULT_CONFIG;
	if (parse_args(argc, argv, &a) != 0)
		return 2;
	if (a.help) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (a.command == NULL) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (check_usage(&a) != 0)
		return 2;
	if (vt_config_load(a.config_path, a.config_required, vt_vigil_conf_keys, config_warn, NULL,
			   &conf, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "ERROR: %s\n", msg);
		return 2;
	}
	if (a.dir == NULL && (e = vt_config_last(&conf, "QuarantineDirectory")) != NULL) {
		if (e->value[0] != '/') {
			fprintf(stderr, "ERROR: %s:%u: bad value for QuarantineDirectory: '%s' (an "
					"absolute folder path)\n",
				conf.path, e->line, e->value);
			goto out;
		}
		conf_dir = strdup(e->value);
		a.dir = conf_dir;
	}
	dir = a.dir != NULL ? a.dir : vq_store_default_dir();

	/* Looking needs no store; only 'vigil scan --move' makes one. */
	if (stat(dir, &st) != 0 && errno == ENOENT) {
		if (strcmp(a.command, "list") == 0 || strcmp(a.command, "purge") == 0) {
			if (strcmp(a.command, "purge") == 0)
				printf("Purged 0 items (there is no quarantine store at %s)\n", dir);
			rc = 0;
		} else {
			fprintf(stderr, "ERROR: there is no quarantine store at %s\n", dir);
		}
		goto out;
	}
	if (vq_store_open(dir, notice, NULL, &s, &err) != VQ_OK) {
		fprintf(stderr, "ERROR: Can't use the quarantine store %s: %s%s\n", dir, err.msg,
			err.sys == EACCES || err.sys == EPERM ? " (are you root?)" : "");
		goto out;
	}

	if (strcmp(a.command, "list") == 0) {
		struct list_state ls = { a.json, 0 };
		rc = vq_store_list(s, list_one, &ls, &err) == VQ_OK ? 0 : fail(&err);
	} else if (strcmp(a.command, "purge") == 0) {
		rc = do_purge(s, a.older_than);
	} else if (vq_store_resolve(s, a.id, id, &err) != VQ_OK) {
		rc = fail(&err);
	} else if (strcmp(a.command, "show") == 0) {
		struct vq_item *it = NULL;
		if (vq_store_get(s, id, &it, &err) != VQ_OK) {
			rc = fail(&err);
		} else {
			if (a.json)
				show_json(it);
			else
				show_text(it, vq_store_dir(s));
			vq_item_free(it);
			rc = 0;
		}
	} else if (strcmp(a.command, "restore") == 0) {
		rc = do_restore(s, &a, id);
	} else { /* delete */
		if (vq_store_delete(s, id, &err) != VQ_OK) {
			rc = fail(&err);
		} else {
			printf("%s: deleted\n", id);
			rc = 0;
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ERROR: Can't write to standard output\n");
		rc = 2;
	}
out:
	vq_store_close(s);
	vt_config_free(&conf);
	free(conf_dir);
	return rc;
}
