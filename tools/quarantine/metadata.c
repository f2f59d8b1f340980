/*
 * metadata.c - what a file is besides its bytes: owner, group, mode,
 * timestamps and extended attributes (ACLs, capabilities, SELinux labels
 * and user attributes alike), captured from a descriptor and put back on
 * one.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "vq_internal.h"

void vq_item_free(struct vq_item *it)
{
	if (it == NULL)
		return;
	free(it->path);
	for (size_t i = 0; i < it->detection_count; i++)
		free(it->detections[i]);
	free(it->detections);
	free(it->host);
	free(it->vigil_version);
	free(it->user);
	free(it->group);
	for (size_t i = 0; i < it->xattr_count; i++) {
		free(it->xattrs[i].name);
		free(it->xattrs[i].value);
	}
	free(it->xattrs);
	free(it);
}

static char *user_name(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return NULL;
	return strdup(res->pw_name);
}

static char *group_name(gid_t gid)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return NULL;
	return strdup(res->gr_name);
}

/* Every extended attribute of fd. A filesystem without them is no error. */
static enum vq_status capture_xattrs(int fd, const char *path, struct vq_item *it,
				     struct vq_err *err)
{
	char *names = NULL;
	ssize_t len;
	size_t total = 0;
	enum vq_status st = VQ_FAILED;

	for (;;) {
		len = flistxattr(fd, NULL, 0);
		if (len < 0) {
			if (errno == ENOTSUP || errno == EOPNOTSUPP) {
				st = VQ_OK;
				goto out;
			}
			st = vq_fail(err, VQ_FAILED, errno, "can't list extended attributes of '%s': %s",
				     path, strerror(errno));
			goto out;
		}
		if (len == 0) {
			st = VQ_OK;
			goto out;
		}
		free(names);
		names = malloc((size_t)len);
		if (names == NULL)
			return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
		ssize_t got = flistxattr(fd, names, (size_t)len);
		if (got >= 0) {
			len = got;
			break;
		}
		if (errno != ERANGE) { /* ERANGE: attributes added meanwhile; again */
			st = vq_fail(err, VQ_FAILED, errno, "can't list extended attributes of '%s': %s",
				     path, strerror(errno));
			goto out;
		}
	}
	for (ssize_t off = 0; off < len;) {
		const char *name = names + off;
		size_t nlen = strnlen(name, (size_t)(len - off));
		off += (ssize_t)nlen + 1;
		if (nlen == 0)
			continue;
		ssize_t vlen = fgetxattr(fd, name, NULL, 0);
		if (vlen < 0) {
			if (errno == ENODATA) /* removed meanwhile */
				continue;
			st = vq_fail(err, VQ_FAILED, errno, "can't read extended attribute %s of '%s': %s",
				     name, path, strerror(errno));
			goto out;
		}
		total += (size_t)vlen + nlen;
		if (total > VQ_XATTR_MAX) {
			st = vq_fail(err, VQ_FAILED, EFBIG,
				     "'%s' has more than %u bytes of extended attributes", path,
				     VQ_XATTR_MAX);
			goto out;
		}
		unsigned char *value = malloc((size_t)vlen + 1);
		struct vq_xattr *n = realloc(it->xattrs, (it->xattr_count + 1) * sizeof(*n));
		if (value == NULL || n == NULL) {
			free(value);
			if (n != NULL)
				it->xattrs = n;
			st = vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
			goto out;
		}
		it->xattrs = n;
		ssize_t vgot = fgetxattr(fd, name, value, (size_t)vlen);
		if (vgot < 0) {
			free(value);
			st = vq_fail(err, VQ_FAILED, errno,
				     "can't read extended attribute %s of '%s': %s (it changed while "
				     "being read)",
				     name, path, strerror(errno));
			goto out;
		}
		n[it->xattr_count].name = strndup(name, nlen);
		n[it->xattr_count].value = value;
		n[it->xattr_count].len = (size_t)vgot;
		if (n[it->xattr_count].name == NULL) {
			free(value);
			st = vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
			goto out;
		}
		it->xattr_count++;
	}
	st = VQ_OK;
out:
	free(names);
	return st;
}

enum vq_status vq_meta_capture(int fd, const struct stat *scanned, const char *path,
			       struct vq_item *it, struct vq_err *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return vq_fail(err, VQ_FAILED, errno, "can't examine '%s': %s", path, strerror(errno));
	it->path = strdup(path);
	if (it->path == NULL)
		return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
	it->dev = (uint64_t)st.st_dev;
	it->ino = (uint64_t)st.st_ino;
	it->nlink = (uint64_t)st.st_nlink;
	it->mode = (uint32_t)st.st_mode;
	it->uid = (uint32_t)st.st_uid;
	it->gid = (uint32_t)st.st_gid;
	it->size = (uint64_t)st.st_size;
	/* Scanning read the file and may have moved its atime. */
	it->atime = scanned->st_atim;
	it->mtime = st.st_mtim;
	it->ctime = st.st_ctim;
	it->user = user_name(st.st_uid);
	it->group = group_name(st.st_gid);
	return capture_xattrs(fd, path, it, err);
}

static int is_capability(const char *name)
{
	return strcmp(name, "security.capability") == 0;
}

static void apply_xattr(int fd, const struct vq_xattr *x, const char *what, vq_notice_fn *notice,
			void *ctx)
{
	if (fsetxattr(fd, x->name, x->value, x->len, 0) != 0)
		vq_notify(notice, ctx, VQ_WARNING, "%s: could not keep extended attribute %s: %s", what, x->name,
			  strerror(errno));
}

void vq_meta_apply(int fd, const struct vq_item *it, const char *what, vq_notice_fn *notice,
		   void *ctx)
{
	struct stat now;
	struct timespec times[2];

	if (fstat(fd, &now) == 0 && (now.st_uid != it->uid || now.st_gid != it->gid)) {
		if (fchown(fd, (uid_t)it->uid, (gid_t)it->gid) != 0) {
			/* Not root: at least keep the group when allowed. */
			int e = errno;
			if (now.st_gid != it->gid && fchown(fd, (uid_t)-1, (gid_t)it->gid) != 0)
				e = errno == EPERM ? e : errno;
			vq_notify(notice, ctx, VQ_WARNING, "%s: could not keep owner %u:%u: %s", what,
				  (unsigned)it->uid, (unsigned)it->gid, strerror(e));
		}
	}
	if (fchmod(fd, (mode_t)(it->mode & 07777)) != 0)
		vq_notify(notice, ctx, VQ_WARNING, "%s: could not keep mode %04o: %s", what,
			  (unsigned)(it->mode & 07777), strerror(errno));
	for (size_t i = 0; i < it->xattr_count; i++)
		if (!is_capability(it->xattrs[i].name))
			apply_xattr(fd, &it->xattrs[i], what, notice, ctx);
	for (size_t i = 0; i < it->xattr_count; i++)
		if (is_capability(it->xattrs[i].name))
			apply_xattr(fd, &it->xattrs[i], what, notice, ctx);
	times[0] = it->atime;
	times[1] = it->mtime;
	if (futimens(fd, times) != 0)
		vq_notify(notice, ctx, VQ_WARNING, "%s: could not keep timestamps: %s", what, strerror(errno));
}
