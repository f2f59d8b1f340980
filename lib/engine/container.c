/* The public side of ClamAV containers: verifying and listing them
 * (vg_cvd_*), installing incremental updates (vg_cdiff_apply) and counting
 * what a database holds (vg_db_inspect). */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "sigdb/sigdb.h"

struct vg_cvd {
	struct cvd c;
	uint8_t *data;
	size_t len;
	char *name;
	struct vg_cvd_info info;
};

static void errf(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line into the caller's VG_ERROR_LEN buffer (err may be NULL). */
static void errf(char *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err, VG_ERROR_LEN, fmt, ap);
	va_end(ap);
}

static vg_status read_fd(int fd, const char *name, uint8_t **out, size_t *len, char *err)
{
	struct buf b;
	uint8_t chunk[65536];

	buf_init(&b, (size_t)VG_MAX_DB_FILE_SIZE);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		vg_status rc;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errf(err, "%s: read failed: %s", name, strerror(errno));
			buf_free(&b);
			return VG_EIO;
		}
		if (n == 0)
			break;
		rc = buf_append(&b, chunk, (size_t)n);
		if (rc != VG_OK) {
			errf(err, "%s: %s", name,
					 rc == VG_ELIMIT ? "larger than the database size limit"
							 : "out of memory");
			buf_free(&b);
			return rc;
		}
	}
	*out = b.data;
	*len = b.len;
	return VG_OK;
}

static void fill_info(struct vg_cvd_info *out, const struct cvd *c, const char *name)
{
	memset(out, 0, sizeof(*out));
	out->kind = c->kind == CVD_KIND_CVD ? VG_CVD_SIGNED
		  : c->kind == CVD_KIND_CLD ? VG_CVD_LOCAL : VG_CVD_UNSIGNED;
	cvd_db_name(name, out->name, sizeof(out->name));
	snprintf(out->build_time_text, sizeof(out->build_time_text), "%s", c->hdr.time_text);
	out->version = c->hdr.version;
	out->signatures = c->hdr.sigs;
	out->flevel = c->hdr.flevel;
	snprintf(out->md5, sizeof(out->md5), "%s", c->hdr.md5);
	snprintf(out->dsig, sizeof(out->dsig), "%s", c->hdr.dsig);
	snprintf(out->builder, sizeof(out->builder), "%s", c->hdr.builder);
	out->build_time = c->hdr.build_time;
	out->verified = c->verified;
}

/* Takes ownership of data. */
static vg_status cvd_new(uint8_t *data, size_t len, const char *name, uint32_t flags,
			 struct vg_cvd **out, char *err)
{
	struct vg_cvd *v = vg_calloc(1, sizeof(*v));
	enum cvd_kind kind;
	vg_status rc;

	if (!v) {
		vg_free(data);
		return VG_ENOMEM;
	}
	v->data = data;
	v->len = len;
	v->name = vg_strndup(name, strlen(name));
	if (!v->name) {
		vg_free(data);
		vg_free(v);
		return VG_ENOMEM;
	}
	if (!cvd_kind_of_name(name, &kind)) {
		errf(err, "%s: not a container name: the extension must be .cvd, .cld or .cud", name);
		rc = VG_EINVAL;
		goto fail;
	}
	if (kind == CVD_KIND_CUD && !(flags & VG_CVD_ALLOW_UNSIGNED)) {
		errf(err, "%s: refused: a .cud container is unsigned by design (allow unsigned "
			"containers to read it)", name);
		rc = VG_EBADSIG;
		goto fail;
	}
	rc = cvd_open(&v->c, v->name, kind, v->data, v->len);
	if (rc != VG_OK) {
		errf(err, "%s", v->c.err[0] ? v->c.err : vg_status_str(rc));
		goto fail;
	}
	fill_info(&v->info, &v->c, name);
	if (err)
		err[0] = '\0';
	*out = v;
	return VG_OK;
fail:
	vg_cvd_free(v);
	return rc;
}

VG_API enum vg_status vg_cvd_open_buffer(const void *data, size_t len, const char *name,
					 uint32_t flags, struct vg_cvd **out, char *err)
{
	uint8_t *copy;

	if (!out || !name || (!data && len))
		return VG_EINVAL;
	if ((uint64_t)len > VG_MAX_DB_FILE_SIZE) {
		errf(err, "%s: larger than the database size limit", name);
		return VG_ELIMIT;
	}
	copy = vg_malloc(len ? len : 1);
	if (!copy)
		return VG_ENOMEM;
	if (len)
		memcpy(copy, data, len);
	return cvd_new(copy, len, name, flags, out, err);
}

VG_API enum vg_status vg_cvd_open_fd(int fd, const char *name, uint32_t flags,
				     struct vg_cvd **out, char *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	vg_status rc;

	if (fd < 0 || !out || !name)
		return VG_EINVAL;
	rc = read_fd(fd, name, &data, &len, err);
	if (rc != VG_OK)
		return rc;
	return cvd_new(data, len, name, flags, out, err);
}

VG_API const struct vg_cvd_info *vg_cvd_get_info(const struct vg_cvd *cvd)
{
	return cvd ? &cvd->info : NULL;
}

struct member_adapter {
	vg_cvd_member_fn *fn;
	void *ctx;
};

static vg_status member_adapter(void *ctx, const char *name, const uint8_t *data, size_t len)
{
	struct member_adapter *m = ctx;
	return m->fn ? m->fn(m->ctx, name, data, len) : VG_OK;
}

VG_API enum vg_status vg_cvd_members(struct vg_cvd *cvd, vg_cvd_member_fn *fn, void *ctx,
				     char *err)
{
	struct member_adapter m = {fn, ctx};
	vg_status rc;

	if (!cvd)
		return VG_EINVAL;
	cvd->c.err[0] = '\0';
	rc = cvd_each_member(&cvd->c, member_adapter, &m);
	if (err) {
		if (rc == VG_OK)
			err[0] = '\0';
		else
			errf(err, "%s",
				 cvd->c.err[0] ? cvd->c.err : vg_status_str(rc));
	}
	return rc;
}

VG_API void vg_cvd_free(struct vg_cvd *cvd)
{
	if (!cvd)
		return;
	cvd_close(&cvd->c);
	vg_free(cvd->data);
	vg_free(cvd->name);
	vg_free(cvd);
}

/* Checks every member of an opened container, then frees it. */
static vg_status verify_and_free(struct vg_cvd *cvd, struct vg_cvd_info *out, char *err)
{
	vg_status rc = vg_cvd_members(cvd, NULL, NULL, err);

	if (rc == VG_OK && out)
		*out = cvd->info;
	vg_cvd_free(cvd);
	return rc;
}

VG_API enum vg_status vg_cvd_verify_fd(int fd, const char *name, uint32_t flags,
				       struct vg_cvd_info *out, char *err)
{
	struct vg_cvd *cvd = NULL;
	vg_status rc = vg_cvd_open_fd(fd, name, flags, &cvd, err);

	return rc == VG_OK ? verify_and_free(cvd, out, err) : rc;
}

VG_API enum vg_status vg_cvd_verify_buffer(const void *data, size_t len, const char *name,
					   uint32_t flags, struct vg_cvd_info *out, char *err)
{
	struct vg_cvd *cvd = NULL;
	vg_status rc = vg_cvd_open_buffer(data, len, name, flags, &cvd, err);

	return rc == VG_OK ? verify_and_free(cvd, out, err) : rc;
}

/* ---- .cdiff ---- */

VG_API enum vg_status vg_cdiff_verify(const void *data, size_t len, const char *name,
				      uint32_t *version, char *err)
{
	char e[VG_ERROR_LEN];
	char *script = NULL;
	size_t script_len = 0;
	uint32_t v = 0;
	vg_status rc;

	if (!name || (!data && len))
		return VG_EINVAL;
	rc = cdiff_open(data, len, name, &v, &script, &script_len, e, sizeof(e));
	vg_free(script);
	if (rc != VG_OK) {
		errf(err, "%s", e);
		return rc;
	}
	if (err)
		err[0] = '\0';
	if (version)
		*version = v;
	return VG_OK;
}

static vg_status collect_member(void *ctx, const char *name, const uint8_t *data, size_t len)
{
	return memfiles_add(ctx, name, data, len);
}

static vg_status write_atomically(const char *dir, const char *final, const uint8_t *data,
				  size_t len, char *err)
{
	char tmp[4200];
	size_t done = 0;
	int fd, dfd;

	snprintf(tmp, sizeof(tmp), "%s/.vigil-cld.XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		errf(err, "%s: cannot create a temporary file: %s", dir,
			 strerror(errno));
		return VG_EIO;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done != len || fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
		errf(err, "%s: cannot write: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return VG_EIO;
	}
	close(fd);
	if (rename(tmp, final) != 0) {
		errf(err, "%s: cannot replace: %s", final, strerror(errno));
		unlink(tmp);
		return VG_EIO;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return VG_OK;
}

VG_API enum vg_status vg_cdiff_apply(const char *dir, const void *cdiff, size_t len,
				     const char *cdiff_name, struct vg_cvd_info *out, char *err)
{
	char db[64], cld_path[4200], cvd_path[4200], e[VG_ERROR_LEN];
	struct cvd_header hc, hv;
	bool have_cld, have_cvd;
	const char *src;
	struct vg_cvd *cur = NULL;
	struct memfiles files = {NULL, 0};
	char *script = NULL;
	size_t script_len = 0, new_len = 0;
	uint8_t *new_data = NULL;
	uint32_t version = 0;
	struct cvd check;
	int fd;
	vg_status rc;

	if (!dir || !cdiff_name || (!cdiff && len) || !err)
		return VG_EINVAL;
	err[0] = '\0';
	memset(&check, 0, sizeof(check));
	cvd_db_name(cdiff_name, db, sizeof(db));
	if (!db[0]) {
		errf(err, "%s: no database name in the update's file name", cdiff_name);
		return VG_EINVAL;
	}
	snprintf(cld_path, sizeof(cld_path), "%s/%s.cld", dir, db);
	snprintf(cvd_path, sizeof(cvd_path), "%s/%s.cvd", dir, db);
	have_cld = cvd_read_header_file(cld_path, &hc);
	have_cvd = cvd_read_header_file(cvd_path, &hv);
	if (!have_cld && !have_cvd) {
		errf(err, "%s: no readable %s.cvd or %s.cld to update", dir, db, db);
		return VG_ENODB;
	}
	src = have_cld && (!have_cvd || hc.version >= hv.version) ? cld_path : cvd_path;

	/* the local container, verified */
	fd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		errf(err, "%s: %s", src, strerror(errno));
		return VG_EIO;
	}
	rc = vg_cvd_open_fd(fd, src, 0, &cur, err);
	close(fd);
	if (rc != VG_OK)
		return rc;
	rc = cvd_each_member(&cur->c, collect_member, &files);
	if (rc != VG_OK) {
		errf(err, "%s", cur->c.err[0] ? cur->c.err : vg_status_str(rc));
		goto out;
	}

	/* the update, verified, in sequence */
	rc = cdiff_open(cdiff, len, cdiff_name, &version, &script, &script_len, err, VG_ERROR_LEN);
	if (rc != VG_OK)
		goto out;
	if (version != cur->info.version + 1) {
		errf(err, "%s: makes version %u, but %s is version %u (it applies "
			 "only to version %u)", cdiff_name, version, src, cur->info.version,
			 version - 1);
		rc = VG_ESTATE;
		goto out;
	}
	rc = cdiff_apply_script(&files, script, script_len, cdiff_name, err, VG_ERROR_LEN);
	if (rc != VG_OK)
		goto out;
	rc = cld_build(&files, &new_data, &new_len, err, VG_ERROR_LEN);
	if (rc != VG_OK)
		goto out;

	/* the result must stand on its own signatures */
	rc = cvd_open(&check, cld_path, CVD_KIND_CLD, new_data, new_len);
	if (rc == VG_OK)
		rc = cvd_each_member(&check, NULL, NULL);
	if (rc == VG_OK && check.hdr.version != version) {
		snprintf(check.err, sizeof(check.err), "its manifest says version %u", check.hdr.version);
		rc = VG_EBADSIG;
	}
	if (rc != VG_OK) {
		snprintf(e, sizeof(e), "%s", check.err);
		errf(err, "%s: the updated database does not verify (%s); nothing "
			 "was changed", cdiff_name, e);
		if (rc == VG_EFORMAT)
			rc = VG_EBADSIG;
		goto out;
	}
	rc = write_atomically(dir, cld_path, new_data, new_len, err);
	if (rc != VG_OK)
		goto out;
	if (have_cvd)
		(void)unlink(cvd_path); /* superseded; the .cld wins anyway if this fails */
	if (out)
		fill_info(out, &check, cld_path);
out:
	cvd_close(&check);
	vg_free(new_data);
	vg_free(script);
	memfiles_free(&files);
	vg_cvd_free(cur);
	return rc;
}

/* ---- vg_db_inspect ---- */

struct inspect_adapter {
	vg_db_file_fn *fn;
	void *ctx;
};

static void inspect_event(void *ctx, const struct db_file_event *ev)
{
	struct inspect_adapter *a = ctx;
	struct vg_db_file_stats st;

	st.container = ev->container;
	st.name = ev->name;
	st.state = (enum vg_db_file_state)ev->state;
	st.lines = ev->lines;
	st.signatures = ev->signatures;
	st.deferred = ev->deferred;
	st.skipped = ev->skipped;
	a->fn(a->ctx, &st);
}

VG_API enum vg_status vg_db_inspect(const char *path, uint32_t engine_flags, vg_db_file_fn *fn,
				    void *ctx, char *err)
{
	struct inspect_adapter a = {fn, ctx};
	struct sigset_observer obs = {inspect_event, &a};
	struct sigset s;
	vg_status rc;

	if (!path || !fn)
		return VG_EINVAL;
	sigset_init(&s, VG_FLEVEL, engine_flags & VG_ENGINE_DETECT_PUA, NULL);
	s.official_only = engine_flags & VG_ENGINE_OFFICIAL_ONLY;
	s.observer = &obs;
	rc = sigset_load(&s, path, false);
	if (err) {
		if (rc == VG_OK)
			err[0] = '\0';
		else
			errf(err, "%s", s.error[0] ? s.error : vg_status_str(rc));
	}
	sigset_free(&s);
	return rc;
}
