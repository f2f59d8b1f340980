/*
 * fileops.c - the careful file primitives every quarantine operation is
 * built from: symlink-free path walks, checked writes, folder syncs, and
 * removing a name only when it still leads to the file that was scanned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vq_internal.h"

enum vq_status vq_fail(struct vq_err *err, enum vq_status st, int sys, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->sys = sys;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return st;
}

void vq_notify(vq_notice_fn *notice, void *ctx, enum vq_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (notice == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	notice(ctx, level, msg);
}

/* buffers ------------------------------------------------------------------ */

static int buf_reserve(struct vq_buf *b, size_t more)
{
	size_t need, ncap;
	char *n;

	if (more > SIZE_MAX - b->len - 1)
		return -1;
	need = b->len + more + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	n = realloc(b->p, ncap);
	if (n == NULL)
		return -1;
	b->p = n;
	b->cap = ncap;
	return 0;
}

int vq_buf_add(struct vq_buf *b, const void *data, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return -1;
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int vq_buf_printf(struct vq_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* Bytes that are printable ASCII other than '%' stay; the rest (blanks,
 * newlines, control and non-ASCII bytes) become %XX, so a value is one
 * token and the exact bytes of a path survive whatever their encoding. */
int vq_buf_pct(struct vq_buf *b, const char *s, size_t n)
{
	static const char hexd[] = "0123456789ABCDEF";

	if (n > (SIZE_MAX - 1) / 3 || buf_reserve(b, n * 3) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c > 0x20 && c < 0x7f && c != '%') {
			b->p[b->len++] = (char)c;
		} else {
			b->p[b->len++] = '%';
			b->p[b->len++] = hexd[c >> 4];
			b->p[b->len++] = hexd[c & 15];
		}
	}
	b->p[b->len] = '\0';
	return 0;
}

int vq_buf_hex(struct vq_buf *b, const unsigned char *p, size_t n)
{
	if (n > (SIZE_MAX - 1) / 2 || buf_reserve(b, n * 2) != 0)
		return -1;
	vq_hex(p, n, b->p + b->len);
	b->len += n * 2;
	return 0;
}

void vq_buf_free(struct vq_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void vq_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hexd[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[p[i] >> 4];
		out[2 * i + 1] = hexd[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vq_unhex(const char *s, size_t slen, unsigned char *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int vq_random(void *p, size_t n)
{
	unsigned char *c = p;

	while (n > 0) {
		ssize_t got = getrandom(c, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += got;
		n -= (size_t)got;
	}
	return 0;
}

/* I/O ---------------------------------------------------------------------- */

int vq_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t vq_pread_full(int fd, void *p, size_t n, uint64_t off)
{
	char *c = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, c + got, n - got, (off_t)(off + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int vq_fsync_dir(int dirfd)
{
	while (fsync(dirfd) != 0) {
		/* Some filesystems cannot sync a folder; their entries are as
		 * durable as they will get. */
		if (errno == EINVAL || errno == EROFS)
			return 0;
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* paths -------------------------------------------------------------------- */

/* Walk components [0, end) of abspath from "/"; every component is opened
 * with O_NOFOLLOW, so a symlink anywhere fails with ELOOP or ENOTDIR. */
static enum vq_status walk(const char *abspath, size_t end, int *out, struct vq_err *err)
{
	char *copy;
	int fd, next;
	size_t i = 0;

	if (abspath[0] != '/')
		return vq_fail(err, VQ_FAILED, EINVAL, "'%s' is not an absolute path", abspath);
	copy = strndup(abspath, end);
	if (copy == NULL)
		return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(copy);
		return vq_fail(err, VQ_FAILED, e, "can't open '/': %s", strerror(e));
	}
	while (i < end) {
		size_t j;
		while (i < end && copy[i] == '/')
			i++;
		if (i >= end)
			break;
		for (j = i; j < end && copy[j] != '/'; j++)
			;
		copy[j] = '\0';
		if (strcmp(copy + i, ".") == 0 || strcmp(copy + i, "..") == 0) {
			close(fd);
			free(copy);
			return vq_fail(err, VQ_FAILED, EINVAL, "'%.*s' has a '.' or '..' component",
				       (int)end, abspath);
		}
		next = openat(fd, copy + i, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = errno;
			struct stat st;
			int is_link = fstatat(fd, copy + i, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				      S_ISLNK(st.st_mode);
			close(fd);
			if (is_link || e == ELOOP) {
				enum vq_status r = vq_fail(
					err, VQ_SYMLINK, ELOOP,
					"'%.*s' is a symbolic link now; vigil does not follow links here",
					(int)j, abspath);
				free(copy);
				return r;
			}
			enum vq_status r = vq_fail(err, VQ_FAILED, e, "can't open folder '%.*s': %s",
						   (int)j, abspath, strerror(e));
			free(copy);
			return r;
		}
		close(fd);
		fd = next;
		i = j + 1;
	}
	free(copy);
	*out = fd;
	return VQ_OK;
}

enum vq_status vq_open_dir_nofollow(const char *abspath, int *fd, struct vq_err *err)
{
	return walk(abspath, strlen(abspath), fd, err);
}

enum vq_status vq_open_parent(const char *abspath, int *dirfd, char **base, struct vq_err *err)
{
	const char *slash = strrchr(abspath, '/');
	enum vq_status st;
	char *b;

	if (abspath[0] != '/' || slash == NULL || slash[1] == '\0')
		return vq_fail(err, VQ_FAILED, EINVAL, "'%s' is not an absolute file path", abspath);
	if (strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
		return vq_fail(err, VQ_FAILED, EINVAL, "'%s' does not name a file", abspath);
	b = strdup(slash + 1);
	if (b == NULL)
		return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
	st = walk(abspath, (size_t)(slash - abspath), dirfd, err);
	if (st != VQ_OK) {
		free(b);
		return st;
	}
	*base = b;
	return VQ_OK;
}

static int same_ts(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

int vq_same_file(const struct stat *a, const struct stat *b, int with_ctime)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       same_ts(&a->st_mtim, &b->st_mtim) && (!with_ctime || same_ts(&a->st_ctim, &b->st_ctim));
}

static int rename_noreplace(int olddir, const char *oldname, int newdir, const char *newname)
{
	return renameat2(olddir, oldname, newdir, newname, RENAME_NOREPLACE);
}

enum vq_status vq_unlink_checked(int dirfd, const char *name, const char *hidden,
				 const struct stat *expect, int with_ctime, const char *path,
				 struct vq_err *err)
{
	struct stat now;
	int hidden_ok = 1;

	if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0) {
		int e = errno;
		return vq_fail(err, e == ENOENT ? VQ_CHANGED : VQ_FAILED, e, "can't examine '%s': %s",
			       path, strerror(e));
	}
	if (S_ISLNK(now.st_mode))
		return vq_fail(err, VQ_SYMLINK, ELOOP, "'%s' was replaced by a symbolic link", path);
	if (!S_ISREG(now.st_mode) || !vq_same_file(&now, expect, with_ctime))
		return vq_fail(err, VQ_CHANGED, 0, "'%s' changed since it was scanned", path);

	/* Take the name away first: whatever is renamed is what gets checked
	 * and removed, so a file swapped in after the check above is never
	 * the one deleted. */
	if (rename_noreplace(dirfd, name, dirfd, hidden) != 0) {
		int e = errno;
		if (e != EINVAL && e != ENOSYS)
			return vq_fail(err, VQ_FAILED, e, "can't remove '%s': %s", path, strerror(e));
		hidden_ok = 0; /* no RENAME_NOREPLACE on this filesystem */
	}
	VQ_CRASH_POINT("unlink.hidden");
	if (hidden_ok) {
		if (fstatat(dirfd, hidden, &now, AT_SYMLINK_NOFOLLOW) != 0) {
			int e = errno;
			return vq_fail(err, VQ_FAILED, e, "can't examine '%s' after renaming it: %s",
				       path, strerror(e));
		}
		if (!S_ISREG(now.st_mode) || !vq_same_file(&now, expect, 0)) {
			if (rename_noreplace(dirfd, hidden, dirfd, name) != 0)
				return vq_fail(err, VQ_CHANGED, errno,
					       "'%s' changed since it was scanned; it is now named '%s' in "
					       "the same folder (its name was taken again)",
					       path, hidden);
			return vq_fail(err, VQ_CHANGED, 0, "'%s' changed since it was scanned", path);
		}
	}
	if (unlinkat(dirfd, hidden_ok ? hidden : name, 0) != 0) {
		int e = errno;
		if (hidden_ok)
			(void)rename_noreplace(dirfd, hidden, dirfd, name);
		return vq_fail(err, VQ_FAILED, e, "can't remove '%s': %s", path, strerror(e));
	}
	VQ_CRASH_POINT("unlink.unlinked");
	/* The other copy is durable already: if this sync fails, the worst a
	 * crash can do is bring the original back, so it is not an error. */
	(void)vq_fsync_dir(dirfd);
	return VQ_OK;
}
