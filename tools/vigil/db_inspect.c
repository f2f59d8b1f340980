/*
 * db_inspect.c - `vigil db info|list|verify|unpack`: for people who write
 * signatures (what sigtool's --info, --list-sigs and --unpack do).
 *
 * Exit status: 0 success, 1 a file was refused (tampered, malformed,
 * unsigned where a signature is needed), 2 usage or I/O errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vigil.h>

#include "commands.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);
	return n > e && strcasecmp(name + n - e, ext) == 0;
}

static int is_container(const char *name)
{
	return has_ext(name, ".cvd") || has_ext(name, ".cld") || has_ext(name, ".cud");
}

/* 1 refused (bad data), 2 could not even try */
static int status_exit(enum vg_status rc)
{
	return rc == VG_EBADSIG || rc == VG_EFORMAT || rc == VG_ELIMIT ? 1 : 2;
}

static enum vg_status open_container(const char *path, struct vg_cvd **out, char *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	enum vg_status rc;

	if (fd < 0) {
		snprintf(err, VG_ERROR_LEN, "%s: %s", path, strerror(errno));
		return VG_EIO;
	}
	/* inspecting a .cud is fine: it is reported as unsigned */
	rc = vg_cvd_open_fd(fd, path, VG_CVD_ALLOW_UNSIGNED, out, err);
	close(fd);
	return rc;
}

/* Opens a container and checks every member before anything is shown or
 * written. */
static enum vg_status open_verified(const char *path, struct vg_cvd **out, char *err)
{
	enum vg_status rc = open_container(path, out, err);

	if (rc == VG_OK)
		rc = vg_cvd_members(*out, NULL, NULL, err);
	if (rc != VG_OK) {
		vg_cvd_free(*out);
		*out = NULL;
	}
	return rc;
}

/* The whole file in memory (free() it). */
static enum vg_status read_file(const char *path, char **out, size_t *len, char *err)
{
	FILE *f = fopen(path, "rb"), *m;
	char chunk[65536];
	size_t n;

	*out = NULL;
	*len = 0;
	if (!f) {
		snprintf(err, VG_ERROR_LEN, "%s: %s", path, strerror(errno));
		return VG_EIO;
	}
	m = open_memstream(out, len);
	while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	if (m)
		fclose(m);
	fclose(f);
	if (!*out) {
		snprintf(err, VG_ERROR_LEN, "%s: out of memory", path);
		return VG_ENOMEM;
	}
	return VG_OK;
}

static int usage_error(const char *verb)
{
	fprintf(stderr, "Run 'vigil db %s --help' for its usage.\n", verb);
	return 2;
}

/* Parses the common options; returns the index of the first file, or -1
 * after --help (*rc set), or -2 on a usage error. */
static int parse_common(int argc, char **argv, const char *usage, uint32_t *engine_flags,
			const char **dir)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"detect-pua", no_argument, NULL, 'P'},
		{"official-only", no_argument, NULL, 'O'},
		{"directory", required_argument, NULL, 'C'},
		{NULL, 0, NULL, 0}};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hC:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return -1;
		case 'P':
			*engine_flags |= VG_ENGINE_DETECT_PUA;
			break;
		case 'O':
			*engine_flags |= VG_ENGINE_OFFICIAL_ONLY;
			break;
		case 'C':
			if (!dir)
				return -2;
			*dir = optarg;
			break;
		default:
			return -2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ERROR: vigil db %s: name at least one database file\n", argv[0]);
		return -2;
	}
	return optind;
}

/* ---- info ---- */

static const char info_usage[] =
	"Usage: vigil db info [--detect-pua] [--official-only] FILE...\n"
	"\n"
	"For a container (.cvd .cld .cud): its header as 'sigtool --info' prints it\n"
	"and whether its signatures verify. For every database file, loose or inside\n"
	"the container: its signature lines, the signatures vigil uses, the lines it\n"
	"keeps for a later version (deferred), skips (FLEVEL, ignore lists) or cannot\n"
	"read (formats not supported yet; bytecode .cbc never, by decision).\n";

struct info_totals {
	uint64_t files, signatures, deferred, skipped, unread_lines, unread_files, pua_files;
	int folder;               /* several files: members are shown under their container */
	char container[256];      /* the container whose members are being shown */
};

static void print_file_stats(void *ctx, const struct vg_db_file_stats *st)
{
	struct info_totals *t = ctx;
	const char *what = "";
	char counts[200];

	if (st->state == VG_DBFILE_OTHER)
		return;
	t->files++;
	if (t->folder && st->container && strcmp(st->container, t->container) != 0) {
		snprintf(t->container, sizeof(t->container), "%s", st->container);
		printf("  %s:\n", st->container);
	} else if (t->folder && !st->container) {
		t->container[0] = '\0';
	}
	switch (st->state) {
	case VG_DBFILE_LOADED:
		if (has_ext(st->name, ".fp") || has_ext(st->name, ".sfp") || has_ext(st->name, ".ign") ||
		    has_ext(st->name, ".ign2"))
			snprintf(counts, sizeof(counts), "allow or ignore list");
		else
			snprintf(counts, sizeof(counts), "%llu signature%s",
				 (unsigned long long)st->signatures, st->signatures == 1 ? "" : "s");
		if (st->deferred)
			snprintf(counts + strlen(counts), sizeof(counts) - strlen(counts),
				 ", %llu deferred", (unsigned long long)st->deferred);
		if (st->skipped)
			snprintf(counts + strlen(counts), sizeof(counts) - strlen(counts),
				 ", %llu skipped", (unsigned long long)st->skipped);
		what = counts;
		t->signatures += st->signatures;
		t->deferred += st->deferred;
		t->skipped += st->skipped;
		break;
	case VG_DBFILE_UNSUPPORTED:
		what = has_ext(st->name, ".cbc") ? "bytecode: never run, by decision"
						 : "not read: format not supported yet";
		t->unread_lines += st->lines;
		t->unread_files++;
		break;
	case VG_DBFILE_PUA_SKIPPED:
		what = "PUA set: read with --detect-pua";
		t->pua_files++;
		break;
	case VG_DBFILE_NOT_OFFICIAL:
		what = "skipped: not a signed container (--official-only)";
		break;
	case VG_DBFILE_OTHER:
		break;
	}
	printf("  %s%-20s %8llu line%s  %s\n", t->folder && st->container ? "  " : "", st->name,
	       (unsigned long long)st->lines, st->lines == 1 ? " " : "s", what);
}

/* "22 Jun 2021 21-34 -0400" as sigtool prints it: "22 Jun 2021 21:34 -0400" */
static void print_build_time(const char *t)
{
	char buf[64];
	char *sp;

	snprintf(buf, sizeof(buf), "%s", t);
	sp = strrchr(buf, ' ');
	if (sp) {
		for (char *p = sp; p > buf && p[-1] != ' '; p--)
			if (p[-1] == '-') {
				p[-1] = ':';
				break;
			}
	}
	printf("Build time: %s\n", buf);
}

static int info_container(const char *path)
{
	char err[VG_ERROR_LEN];
	struct vg_cvd *cvd = NULL;
	const struct vg_cvd_info *in;
	enum vg_status rc = open_verified(path, &cvd, err);

	if (rc != VG_OK) {
		fprintf(stderr, "ERROR: %s\n", err);
		return status_exit(rc);
	}
	in = vg_cvd_get_info(cvd);
	printf("File: %s\n", path);
	print_build_time(in->build_time_text);
	printf("Version: %u\n", in->version);
	printf("Signatures: %llu\n", (unsigned long long)in->signatures);
	printf("Functionality level: %u\n", in->flevel);
	printf("Builder: %s\n", in->builder);
	/* the lines above and the verification line are sigtool's; what
	 * follows is vigil's own */
	if (in->kind != VG_CVD_UNSIGNED && strcmp(in->md5, "X") != 0)
		printf("MD5: %s\n", in->md5);
	if (in->kind != VG_CVD_UNSIGNED && strcmp(in->dsig, "X") != 0)
		printf("Digital signature: %s\n", in->dsig);
	if (in->kind == VG_CVD_SIGNED) {
		printf("Verification OK.\n");
		printf("Checked: header MD5 and its RSA signature, .info signature, every file's "
		       "size and SHA-256.\n");
	} else if (in->kind == VG_CVD_LOCAL) {
		printf("Verification OK.\n");
		printf("Checked: .info signature (a local container has no header signature), every "
		       "file's size and SHA-256.\n");
	} else {
		printf("Verification: Unsigned container\n");
		printf("Checked: %severy file's size and SHA-256 against the .info (integrity; an "
		       "unsigned container cannot prove its origin).\n",
		       strcmp(in->md5, "X") != 0 ? "payload MD5, " : "");
	}
	vg_cvd_free(cvd);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	uint32_t flags = 0;
	int first = parse_common(argc, argv, info_usage, &flags, NULL), worst = 0;

	if (first == -1)
		return 0;
	if (first < 0)
		return usage_error("info");
	for (int i = first; i < argc; i++) {
		struct info_totals t = {0};
		char err[VG_ERROR_LEN];
		enum vg_status rc;
		struct stat st;
		int r = 0;

		t.folder = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode);

		if (i > first)
			putchar('\n');
		if (is_container(argv[i])) {
			r = info_container(argv[i]);
			if (r) {
				worst = worst > r ? worst : r;
				continue;
			}
		} else {
			printf("File: %s\n", argv[i]);
		}
		printf("Files:\n");
		rc = vg_db_inspect(argv[i], flags, print_file_stats, &t, err);
		if (rc != VG_OK) {
			fprintf(stderr, "ERROR: %s\n", err);
			r = status_exit(rc);
			worst = worst > r ? worst : r;
			continue;
		}
		printf("Usable by vigil: %llu signature%s", (unsigned long long)t.signatures,
		       t.signatures == 1 ? "" : "s");
		printf("; deferred: %llu; skipped: %llu", (unsigned long long)t.deferred,
		       (unsigned long long)t.skipped);
		printf("; not read: %llu line%s in %llu file%s\n", (unsigned long long)t.unread_lines,
		       t.unread_lines == 1 ? "" : "s", (unsigned long long)t.unread_files,
		       t.unread_files == 1 ? "" : "s");
	}
	return worst;
}

/* ---- list ---- */

static const char list_usage[] =
	"Usage: vigil db list FILE...\n"
	"\n"
	"Print the name of every signature in the database files or containers, one\n"
	"a line, as 'sigtool --list-sigs' does (comment lines and allow lists are\n"
	"not signatures). Container members are checked before they are listed.\n";

/* Which field of a line holds the signature name; -1: not a signature file. */
static int name_field(const char *name, char *sep)
{
	static const char *const third[] = {".hdb", ".hsb", ".hdu", ".hsu", ".mdb", ".msb",
					    ".mdu", ".msu", ".imp"};
	static const char *const first[] = {".ndb", ".ndu", ".cdb", ".sdb", ".zmd", ".rmd"};

	*sep = ':';
	for (size_t i = 0; i < sizeof(third) / sizeof(third[0]); i++)
		if (has_ext(name, third[i]))
			return 2;
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		if (has_ext(name, first[i]))
			return 0;
	if (has_ext(name, ".ldb") || has_ext(name, ".ldu")) {
		*sep = ';';
		return 0;
	}
	if (has_ext(name, ".db")) {
		*sep = '=';
		return 0;
	}
	return -1;
}

static void list_text(const char *name, const char *text, size_t len)
{
	char sep;
	int want = name_field(name, &sep);
	size_t pos = 0;

	if (want < 0)
		return;
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *f = line;
		size_t flen;
		int idx = 0;

		pos += n + (nl ? 1 : 0);
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		while (idx < want) {
			const char *s = memchr(f, sep, n - (size_t)(f - line));
			if (!s)
				break;
			f = s + 1;
			idx++;
		}
		if (idx != want)
			continue;
		{
			const char *s = memchr(f, sep, n - (size_t)(f - line));
			flen = s ? (size_t)(s - f) : n - (size_t)(f - line);
		}
		printf("%.*s\n", (int)flen, f);
	}
}

static enum vg_status list_member(void *ctx, const char *name, const void *data, size_t len)
{
	(void)ctx;
	list_text(name, data, len);
	return VG_OK;
}

static int list_file(const char *path)
{
	char err[VG_ERROR_LEN];
	enum vg_status rc;

	if (is_container(path)) {
		struct vg_cvd *cvd = NULL;
		rc = open_verified(path, &cvd, err);
		if (rc == VG_OK)
			rc = vg_cvd_members(cvd, list_member, NULL, err);
		vg_cvd_free(cvd);
	} else {
		char *text;
		size_t len;
		rc = read_file(path, &text, &len, err);
		if (rc == VG_OK) {
			list_text(base_name(path), text, len);
			free(text);
		}
	}
	if (rc != VG_OK) {
		fprintf(stderr, "ERROR: %s\n", err);
		return status_exit(rc);
	}
	return 0;
}

/* Runs fn on every file named after the options; the worst status wins. */
static int each_file(int argc, char **argv, const char *usage, int (*fn)(const char *path))
{
	uint32_t flags = 0;
	int first = parse_common(argc, argv, usage, &flags, NULL), worst = 0;

	if (first == -1)
		return 0;
	if (first < 0)
		return usage_error(argv[0]);
	for (int i = first; i < argc; i++) {
		int r = fn(argv[i]);
		worst = worst > r ? worst : r;
	}
	return worst;
}

static int cmd_list(int argc, char **argv)
{
	return each_file(argc, argv, list_usage, list_file);
}

/* ---- verify ---- */

static const char verify_usage[] =
	"Usage: vigil db verify FILE...\n"
	"\n"
	"Check containers (.cvd .cld .cud), updates (.cdiff) and text databases:\n"
	"signatures, hashes and sizes of every member, and that every line parses.\n"
	"Prints one line per file; exits 1 if any file is refused.\n";

static void count_sigs(void *ctx, const struct vg_db_file_stats *st)
{
	((uint64_t *)ctx)[0] += st->signatures;
	((uint64_t *)ctx)[1] += st->state == VG_DBFILE_UNSUPPORTED;
}

static int verify_file(const char *path)
{
	char err[VG_ERROR_LEN];
	enum vg_status rc;

	if (has_ext(path, ".cdiff")) {
		char *data;
		size_t len;
		uint32_t version = 0;
		rc = read_file(path, &data, &len, err);
		if (rc == VG_OK) {
			rc = vg_cdiff_verify(data, len, path, &version, err);
			free(data);
		}
		if (rc == VG_OK)
			printf("%s: OK: update to version %u, signed by ClamAV\n", path, version);
	} else if (is_container(path)) {
		struct vg_cvd *cvd = NULL;
		rc = open_verified(path, &cvd, err);
		if (rc == VG_OK) {
			const struct vg_cvd_info *in = vg_cvd_get_info(cvd);
			printf("%s: OK: %s, version %u, %llu signatures\n", path,
			       in->kind == VG_CVD_SIGNED ? "signed by ClamAV"
			       : in->kind == VG_CVD_LOCAL ? "local container, manifest signed by ClamAV"
							  : "unsigned container (integrity only)",
			       in->version, (unsigned long long)in->signatures);
		}
		vg_cvd_free(cvd);
	} else {
		uint64_t c[2] = {0, 0};
		rc = vg_db_inspect(path, VG_ENGINE_DETECT_PUA, count_sigs, c, err);
		if (rc == VG_OK)
			printf("%s: OK: unsigned text database, %llu signatures%s\n", path,
			       (unsigned long long)c[0], c[1] ? " (format not read by vigil yet)" : "");
	}
	if (rc != VG_OK) {
		fprintf(stderr, "ERROR: %s\n", err);
		return status_exit(rc);
	}
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	return each_file(argc, argv, verify_usage, verify_file);
}

/* ---- unpack ---- */

static const char unpack_usage[] =
	"Usage: vigil db unpack [-C DIR] FILE\n"
	"\n"
	"Write the files of a container into the current folder (or DIR), as\n"
	"'sigtool --unpack' does. Nothing is written unless every member verifies.\n"
	"Existing files of the same names are replaced; symbolic links are not\n"
	"followed.\n"
	"\n"
	"  -C, --directory=DIR   write into DIR\n";

struct unpack_ctx {
	int dirfd;
	char err[VG_ERROR_LEN];
};

static enum vg_status unpack_member(void *ctx, const char *name, const void *data, size_t len)
{
	struct unpack_ctx *u = ctx;
	size_t done = 0;
	int fd = openat(u->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0) {
		snprintf(u->err, sizeof(u->err), "%s: %s", name, strerror(errno));
		return VG_EIO;
	}
	while (done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (close(fd) != 0 || done != len) {
		snprintf(u->err, sizeof(u->err), "%s: write failed: %s", name, strerror(errno));
		return VG_EIO;
	}
	return VG_OK;
}

static int cmd_unpack(int argc, char **argv)
{
	uint32_t flags = 0;
	const char *dir = ".";
	int first = parse_common(argc, argv, unpack_usage, &flags, &dir);
	struct unpack_ctx u;
	struct vg_cvd *cvd = NULL;
	char err[VG_ERROR_LEN];
	enum vg_status rc;

	if (first == -1)
		return 0;
	if (first < 0 || first + 1 != argc)
		return usage_error("unpack");
	if (!is_container(argv[first])) {
		fprintf(stderr, "ERROR: %s: not a container (.cvd .cld .cud)\n", argv[first]);
		return 2;
	}
	u.err[0] = '\0';
	u.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u.dirfd < 0) {
		fprintf(stderr, "ERROR: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	rc = open_verified(argv[first], &cvd, err);
	if (rc == VG_OK) {
		rc = vg_cvd_members(cvd, unpack_member, &u, err);
		if (rc != VG_OK && u.err[0])
			snprintf(err, sizeof(err), "%s", u.err);
	}
	vg_cvd_free(cvd);
	close(u.dirfd);
	if (rc != VG_OK) {
		fprintf(stderr, "ERROR: %s\n", err);
		return status_exit(rc);
	}
	return 0;
}

const struct db_verb db_inspect_verbs[] = {
	{"info", cmd_info, "what a database or container holds, and whether it verifies"},
	{"list", cmd_list, "the names of its signatures (sigtool --list-sigs)"},
	{"verify", cmd_verify, "check containers, updates and text databases"},
	{"unpack", cmd_unpack, "write a container's files into a folder (sigtool --unpack)"},
	{NULL, NULL, NULL},
};
