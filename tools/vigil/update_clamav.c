/*
 * update_clamav.c - `vigil update --clamav`: ClamAV's official databases
 * (.cvd and .cdiff files signed by Cisco-Talos) from a mirror, without
 * freshclam and without its client identifier (docs/UPDATES.md).
 *
 * For each database: the remote version from the first 512 bytes of
 * <db>.cvd (an HTTP Range request), the local one from the header of
 * <db>.cld or <db>.cvd; when behind, <db>-<n>.cdiff for each missing
 * version applied in order by vg_cdiff_apply() (which verifies the local
 * container, the cdiff's signature and the result), else the whole .cvd,
 * verified before it is renamed into place. HTTP 429 records the mirror's
 * Retry-After in the update state and no request is sent before it; 403
 * stops the run. Requests carry the same User-Agent as the rest of
 * `vigil update` and nothing else that identifies the client.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "files.h"
#include "update.h"

#define CVD_HEADER 512
#define MAX_CDIFF (64u << 20)      /* a daily cdiff is a few hundred KiB */
#define MAX_CVD (1024ull << 20)    /* main.cvd is about 170 MiB */
#define MAX_CDIFFS_PER_RUN 1000u   /* further behind: take the whole file */
#define DEFAULT_BACKOFF (60 * 60)  /* 429 without Retry-After: one hour */
#define MAX_BACKOFF (7 * 24 * 3600)
#define STATE_RETRY "clamav-retry-after"

/* The version in a container header ("ClamAV-VDB:time:version:..."), 0 if
 * the header is not one. */
static uint32_t header_version(const char *h, size_t len)
{
	static const char magic[] = "ClamAV-VDB:";
	size_t i = sizeof(magic) - 1, field = 1;
	if (len < i || memcmp(h, magic, i) != 0)
		return 0;
	for (; i < len && field < 2; i++)
		if (h[i] == ':')
			field++;
	uint64_t v = 0;
	size_t digits = 0;
	for (; i < len && h[i] >= '0' && h[i] <= '9' && digits < 10; i++, digits++)
		v = v * 10 + (uint64_t)(h[i] - '0');
	if (digits == 0 || i >= len || h[i] != ':' || v == 0 || v > UINT32_MAX)
		return 0;
	return (uint32_t)v;
}

/* The version of dir/<db>.<ext>, 0 when absent or unreadable. */
static uint32_t local_file_version(const char *dir, const char *db, const char *ext)
{
	char path[PATH_MAX], h[CVD_HEADER];
	snprintf(path, sizeof(path), "%s/%s.%s", dir, db, ext);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, h, sizeof(h));
	close(fd);
	return n > 0 ? header_version(h, (size_t)n) : 0;
}

static uint32_t local_version(const char *dir, const char *db)
{
	uint32_t a = local_file_version(dir, db, "cld"), b = local_file_version(dir, db, "cvd");
	return a > b ? a : b;
}

static void when_text(int64_t t, char out[21])
{
	vg_time_format(t, out);
}

/* After a failed request: 429 and 403 end the run (returns 1 and says so);
 * anything else returns 0 and the caller decides. */
static int mirror_said_stop(struct upd *u, const char *mirror)
{
	if (u->http_code == 429) {
		int64_t wait = u->retry_after > 0 ? u->retry_after : DEFAULT_BACKOFF;
		if (wait > MAX_BACKOFF)
			wait = MAX_BACKOFF;
		char t[21];
		when_text(u->now + wait, t);
		if (upd_state_put_u64(u, STATE_RETRY, (uint64_t)(u->now + wait)) != 0)
			fprintf(stderr, "WARNING: cannot record the back-off in %s/state.sqlite\n",
				u->state_dir);
		fprintf(stderr,
			"ERROR: the ClamAV mirror %s answered HTTP 429 (too many requests): "
			"vigil will not contact it before %s%s\n",
			mirror, t, u->retry_after > 0 ? " (its Retry-After)" : " (one hour: no Retry-After given)");
		return 1;
	}
	if (u->http_code == 403) {
		fprintf(stderr,
			"ERROR: the ClamAV mirror %s answered HTTP 403: it refuses this client (a "
			"block on this address or on outdated clients); stopped. Use another "
			"mirror (ClamAVMirror) or ask the mirror's operator.\n",
			mirror);
		return 1;
	}
	return 0;
}

/* The whole <db>.cvd: downloaded next to its place, verified, renamed in. */
static int install_full(struct upd *u, const char *mirror, const char *db, uint32_t local)
{
	char rel[160], name[160], tmp[PATH_MAX], dst[PATH_MAX], cld[PATH_MAX];
	char why[PATH_MAX + 256], err[VG_ERROR_LEN];
	struct vg_cvd_info info;
	int ret = -1;

	snprintf(rel, sizeof(rel), "%s.cvd", db);
	snprintf(name, sizeof(name), "%s.cvd", db);
	snprintf(tmp, sizeof(tmp), "%s/.%s.cvd.XXXXXX", u->db_dir, db);
	snprintf(dst, sizeof(dst), "%s/%s.cvd", u->db_dir, db);
	snprintf(cld, sizeof(cld), "%s/%s.cld", u->db_dir, db);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "ERROR: cannot create a file in %s: %s\n", u->db_dir, strerror(errno));
		return -1;
	}
	struct sink s = { .fd = fd, .max = MAX_CVD, .md = EVP_MD_CTX_new() };
	if (s.md == NULL || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1)
		goto out;
	u->range = NULL;
	enum fetch_result r = upd_fetch(u, mirror, rel, &s, why, sizeof(why));
	if (r != FETCH_OK) {
		if (!mirror_said_stop(u, mirror))
			fprintf(stderr, "ERROR: %s: %s\n", db, why);
		ret = -2;
		goto out;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		goto out;
	if (vg_cvd_verify_fd(fd, name, 0, &info, err) != VG_OK) {
		fprintf(stderr,
			"ERROR: %s from %s refused: %s. Nothing was installed; the database in %s "
			"is unchanged.\n",
			rel, mirror, err, u->db_dir);
		goto out;
	}
	if (strcmp(info.name, db) != 0 && info.name[0] != '\0') {
		fprintf(stderr, "ERROR: %s from %s refused: it holds the database '%s'. Nothing was "
				"installed.\n",
			rel, mirror, info.name);
		goto out;
	}
	if (info.version <= local) {
		fprintf(stderr, "ERROR: %s from %s refused: version %u is not newer than the "
				"installed %u (rollback). Nothing was installed.\n",
			rel, mirror, info.version, local);
		goto out;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 || rename(tmp, dst) != 0) {
		fprintf(stderr, "ERROR: cannot install %s: %s\n", dst, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	/* the .cld is older now; the loaders take the newest of both anyway */
	if (unlink(cld) != 0 && errno != ENOENT)
		fprintf(stderr, "WARNING: cannot remove the older %s: %s\n", cld, strerror(errno));
	if (vt_fsync_parent(dst) != 0)
		fprintf(stderr, "WARNING: cannot fsync %s: %s\n", u->db_dir, strerror(errno));
	upd_info(u, "%s: installed %s version %u (%llu signatures, whole file, signature "
		    "verified)",
		 db, name, info.version, (unsigned long long)info.signatures);
	ret = 0;
out:
	EVP_MD_CTX_free(s.md);
	close(fd);
	if (tmp[0] != '\0')
		unlink(tmp);
	return ret;
}

/* Brings one database to the mirror's version. 0 done, -1 failed, -2 the
 * mirror said stop (429/403). */
static int update_db(struct upd *u, const char *mirror, const char *db)
{
	char rel[160], why[PATH_MAX + 256], err[VG_ERROR_LEN];
	char *h = NULL;
	size_t hlen = 0;

	snprintf(rel, sizeof(rel), "%s.cvd", db);
	u->range = "0-511";
	struct sink s = { .fd = -1, .max = CVD_HEADER, .keep_first = 1 };
	enum fetch_result r = upd_fetch(u, mirror, rel, &s, why, sizeof(why));
	u->range = NULL;
	h = s.buf;
	hlen = s.len;
	if (r == FETCH_TOOBIG && hlen == CVD_HEADER)
		r = FETCH_OK; /* a server that ignores Range: the first 512 bytes are enough */
	if (r != FETCH_OK) {
		free(h);
		if (mirror_said_stop(u, mirror))
			return -2;
		fprintf(stderr, "ERROR: %s: cannot read the header of %s: %s\n", db, rel, why);
		return -1;
	}
	uint32_t remote = header_version(h, hlen);
	free(h);
	if (remote == 0) {
		fprintf(stderr, "ERROR: %s: %s/%s does not start with a ClamAV container header "
				"(not a ClamAV mirror, or a broken one)\n",
			db, mirror, rel);
		return -1;
	}
	uint32_t local = local_version(u->db_dir, db);
	if (remote <= local) {
		upd_info(u, "%s: up to date (version %u%s)", db, local,
			 remote < local ? ", the mirror is behind" : "");
		return 0;
	}
	if (local != 0 && remote - local <= MAX_CDIFFS_PER_RUN) {
		uint32_t v;
		for (v = local + 1; v <= remote; v++) {
			char cname[160], *data = NULL;
			size_t len = 0;
			struct vg_cvd_info info;
			snprintf(cname, sizeof(cname), "%s-%u.cdiff", db, v);
			r = upd_fetch_mem(u, mirror, cname, MAX_CDIFF, &data, &len, why, sizeof(why));
			if (r != FETCH_OK) {
				if (mirror_said_stop(u, mirror))
					return -2;
				upd_info(u, "%s: %s: %s; downloading the whole %s.cvd instead", db,
					 cname, r == FETCH_NOTFOUND ? "not on the mirror" : why, db);
				break;
			}
			enum vg_status st = vg_cdiff_apply(u->db_dir, data, len, cname, &info, err);
			free(data);
			if (st != VG_OK) {
				fprintf(stderr, "WARNING: %s refused: %s; downloading the whole %s.cvd "
						"instead\n",
					cname, err, db);
				break;
			}
			upd_info(u, "%s: applied %s (version %u)", db, cname, info.version);
		}
		if (v > remote)
			return 0;
		local = local_version(u->db_dir, db);
	}
	return install_full(u, mirror, db, local);
}

int upd_clamav(struct upd *u, const char *const *dbs, size_t ndbs)
{
	int64_t until = (int64_t)upd_state_get_u64(u, STATE_RETRY);
	if (until > u->now) {
		char t[21];
		when_text(until, t);
		fprintf(stderr,
			"ERROR: the ClamAV mirror asked vigil to wait (HTTP 429): no request before "
			"%s. Run vigil update --clamav after that time; the databases in %s are "
			"unchanged.\n",
			t, u->db_dir);
		return 1;
	}
	if (vt_mkdirs(u->db_dir, 0755) != 0) {
		fprintf(stderr, "ERROR: cannot create the ClamAV database folder %s: %s\n", u->db_dir,
			strerror(errno));
		return 1;
	}
	int failed = 0;
	for (size_t i = 0; i < ndbs; i++) {
		int r = -1;
		for (size_t m = 0; m < u->nmirrors; m++) {
			r = update_db(u, u->mirrors[m], dbs[i]);
			if (r == 0 || r == -2)
				break;
		}
		if (r == -2)
			return 1;
		if (r != 0)
			failed = 1;
	}
	return failed;
}
