/*
 * actions.c - clamscan's --move=DIR, --copy=DIR and --remove, without
 * clamscan's losses: the copy keeps owner, group, mode, timestamps and
 * extended attributes, is synced (file and folder) and read back before the
 * original goes, and the original goes only if its name still leads to the
 * scanned file, unchanged.
 *
 * Naming is clamscan's: the base name of the real path, or name.001 ...
 * name.999 when taken. A new name appears only complete: the copy is
 * written under a hidden temporary name and renamed without replacing.
 * On the same filesystem a move links the scanned inode itself into DIR (as
 * clamscan does), which keeps everything by construction.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vq_internal.h"

#define MAX_SUFFIX 999

enum vq_status vq_dest_dir_open(const char *dir, struct vq_dest_dir *out, struct vq_err *err)
{
	char *real = realpath(dir, NULL);
	enum vq_status st;
	int fd;

	out->fd = -1;
	out->path = NULL;
	if (real == NULL)
		return vq_fail(err, VQ_FAILED, errno, "'%s' doesn't exist or is not a directory (%s)",
			       dir, strerror(errno));
	st = vq_open_dir_nofollow(real, &fd, err);
	if (st != VQ_OK) {
		free(real);
		return st;
	}
	out->fd = fd;
	out->path = real;
	return VQ_OK;
}

void vq_dest_dir_close(struct vq_dest_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
	d->fd = -1;
	d->path = NULL;
}

static void candidate(const char *base, unsigned n, char *out, size_t len)
{
	if (n == 0)
		snprintf(out, len, "%s", base);
	else
		snprintf(out, len, "%s.%03u", base, n);
}

static char *join(const char *dir, const char *name)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name) < 0)
		return NULL;
	return s;
}

/* Copy src->fd into fd, hashing what was read. */
static enum vq_status copy_bytes(int in, uint64_t size, int out, unsigned char sha[32],
				 const char *in_name, const char *out_name, struct vq_err *err)
{
	unsigned char *buf = malloc(VQ_COPY_CHUNK);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	enum vq_status st = VQ_FAILED;
	unsigned int mdlen = 0;
	uint64_t off = 0;
	char extra;

	if (buf == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		st = vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
		goto out;
	}
	while (off < size) {
		size_t want = size - off < VQ_COPY_CHUNK ? (size_t)(size - off) : VQ_COPY_CHUNK;
		ssize_t got = vq_pread_full(in, buf, want, off);
		if (got < 0) {
			st = vq_fail(err, VQ_FAILED, errno, "can't read '%s': %s", in_name,
				     strerror(errno));
			goto out;
		}
		if ((size_t)got < want) {
			st = vq_fail(err, VQ_CHANGED, 0, "'%s' became shorter while being copied",
				     in_name);
			goto out;
		}
		EVP_DigestUpdate(md, buf, want);
		if (vq_write_all(out, buf, want) != 0) {
			st = vq_fail(err, VQ_FAILED, errno, "can't write '%s': %s", out_name,
				     strerror(errno));
			goto out;
		}
		off += want;
		if (off == want)
			VQ_CRASH_POINT("dir.copying");
	}
	if (vq_pread_full(in, &extra, 1, size) != 0) {
		st = vq_fail(err, VQ_CHANGED, 0, "'%s' grew while being copied", in_name);
		goto out;
	}
	EVP_DigestFinal_ex(md, sha, &mdlen);
	st = VQ_OK;
out:
	EVP_MD_CTX_free(md);
	free(buf);
	return st;
}

static enum vq_status read_back(int dirfd, const char *name, uint64_t size, unsigned char sha[32],
				struct vq_err *err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
	enum vq_status st;

	if (fd < 0 && errno == EPERM) /* O_NOATIME needs ownership */
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vq_fail(err, VQ_FAILED, errno, "can't read back '%s': %s", name,
			       strerror(errno));
	st = vq_hash_fd(fd, size, sha, err);
	close(fd);
	return st;
}

/* Same filesystem, moving: give the scanned inode a name in DIR. Returns
 * 1 when linked (name in *chosen), 0 when a copy is needed instead. */
static int link_into(struct vq_dest_dir *d, const struct vq_source *src, const char *base,
		     char *chosen, size_t len)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", src->fd);
	for (unsigned n = 0; n <= MAX_SUFFIX; n++) {
		candidate(base, n, chosen, len);
		if (linkat(AT_FDCWD, proc, d->fd, chosen, AT_SYMLINK_FOLLOW) == 0)
			return 1;
		if (errno != EEXIST)
			return 0; /* EXDEV, EPERM (protected_hardlinks), no /proc ... */
	}
	return 0;
}

enum vq_status vq_move_to_dir(struct vq_dest_dir *d, const struct vq_source *src,
			      int keep_original, vq_notice_fn *notice, void *ctx, char **dest,
			      struct vq_err *err)
{
	const char *slash = strrchr(src->path, '/');
	const char *sbase = slash != NULL ? slash + 1 : src->path;
	char chosen[4096], tmp[64], hidden[80], *tmppath = NULL, *destpath = NULL;
	unsigned char rnd[8], sha_in[32], sha_out[32];
	struct vq_item *meta = NULL;
	struct stat now;
	enum vq_status st;
	char *base = NULL;
	int dirfd = -1, tfd = -1, linked = 0, published = 0;

	*dest = NULL;
	VQ_CRASH_POINT("action.begin");
	if (vq_random(rnd, sizeof(rnd)) != 0)
		return vq_fail(err, VQ_FAILED, errno, "no random numbers: %s", strerror(errno));
	vq_hex(rnd, sizeof(rnd), tmp + 11);
	memcpy(tmp, ".vigil-tmp.", 11);
	snprintf(hidden, sizeof(hidden), ".vigil-moving.%s", tmp + 11);

	if (keep_original) {
		if (fstat(src->fd, &now) != 0 || !S_ISREG(now.st_mode) ||
		    !vq_same_file(&now, &src->scanned, 0))
			return vq_fail(err, VQ_CHANGED, 0, "'%s' changed since it was scanned",
				       src->path);
	} else {
		st = vq_check_source(src, &dirfd, &base, err);
		if (st != VQ_OK)
			return st;
		if (faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
			st = vq_fail(err, VQ_FAILED, errno,
				     "'%s' could not be removed afterwards: its folder is not "
				     "writable (%s)",
				     src->path, strerror(errno));
			goto out;
		}
		if (fsync(src->fd) != 0 && errno != EINVAL) {
			st = vq_fail(err, VQ_FAILED, errno, "can't sync '%s': %s", src->path,
				     strerror(errno));
			goto out;
		}
		linked = link_into(d, src, sbase, chosen, sizeof(chosen));
	}

	if (linked) {
		/* Scanning read the file: give it back its atime. */
		struct timespec times[2] = { src->scanned.st_atim, src->scanned.st_mtim };
		(void)utimensat(d->fd, chosen, times, AT_SYMLINK_NOFOLLOW);
		if (vq_fsync_dir(d->fd) != 0) {
			st = vq_fail(err, VQ_FAILED, errno, "can't sync '%s': %s", d->path,
				     strerror(errno));
			(void)unlinkat(d->fd, chosen, 0);
			goto out;
		}
		published = 1;
		VQ_CRASH_POINT("dir.linked");
	} else {
		meta = calloc(1, sizeof(*meta));
		tmppath = join(d->path, tmp);
		if (meta == NULL || tmppath == NULL) {
			st = vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
			goto out;
		}
		if ((st = vq_meta_capture(src->fd, &src->scanned, src->path, meta, err)) != VQ_OK)
			goto out;
		tfd = openat(d->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (tfd < 0) {
			st = vq_fail(err, VQ_FAILED, errno, "can't create '%s': %s", tmppath,
				     strerror(errno));
			goto out;
		}
		st = copy_bytes(src->fd, meta->size, tfd, sha_in, src->path, tmppath, err);
		if (st != VQ_OK)
			goto drop_tmp;
		vq_meta_apply(tfd, meta, tmppath, notice, ctx);
		if (fsync(tfd) != 0) {
			st = vq_fail(err, VQ_FAILED, errno, "can't sync '%s': %s", tmppath,
				     strerror(errno));
			goto drop_tmp;
		}
		VQ_CRASH_POINT("dir.synced");
		/* Read back what the disk holds before trusting it, without
		 * moving the atime just set. */
		if ((st = read_back(d->fd, tmp, meta->size, sha_out, err)) != VQ_OK ||
		    memcmp(sha_in, sha_out, sizeof(sha_in)) != 0) {
			st = vq_fail(err, VQ_FAILED, EIO, "the copy '%s' does not read back the same",
				     tmppath);
			goto drop_tmp;
		}
		for (unsigned n = 0; n <= MAX_SUFFIX && !published; n++) {
			candidate(sbase, n, chosen, sizeof(chosen));
			if (renameat2(d->fd, tmp, d->fd, chosen, RENAME_NOREPLACE) == 0)
				published = 1;
			else if (errno != EEXIST) {
				st = vq_fail(err, VQ_FAILED, errno, "can't name the copy '%s/%s': %s",
					     d->path, chosen, strerror(errno));
				goto drop_tmp;
			}
		}
		if (!published) {
			st = vq_fail(err, VQ_FAILED, EEXIST, "'%s/%s' to '.%03u' are all taken",
				     d->path, sbase, MAX_SUFFIX);
			goto drop_tmp;
		}
		if (vq_fsync_dir(d->fd) != 0) {
			st = vq_fail(err, VQ_FAILED, errno, "can't sync '%s': %s", d->path,
				     strerror(errno));
			(void)unlinkat(d->fd, chosen, 0);
			published = 0;
			goto out;
		}
		VQ_CRASH_POINT("dir.published");
	}
	destpath = join(d->path, chosen);
	if (destpath == NULL) {
		st = vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
		goto out;
	}
	if (!keep_original) {
		/* A link changed the inode's ctime: compare without it (the
		 * check before linking included it). */
		st = vq_unlink_checked(dirfd, base, hidden, &src->scanned, !linked, src->path, err);
		if (st == VQ_CHANGED || st == VQ_SYMLINK) {
			size_t n = strlen(err->msg);
			snprintf(err->msg + n, sizeof(err->msg) - n,
				 "; the file as scanned is kept as '%s'", destpath);
			goto out;
		}
		if (st != VQ_OK) {
			(void)unlinkat(d->fd, chosen, 0);
			(void)vq_fsync_dir(d->fd);
			goto out;
		}
		VQ_CRASH_POINT("dir.removed");
	}
	*dest = destpath;
	destpath = NULL;
	st = VQ_OK;
	goto out;
drop_tmp:
	(void)unlinkat(d->fd, tmp, 0);
out:
	if (tfd >= 0)
		close(tfd);
	if (dirfd >= 0)
		close(dirfd);
	free(base);
	free(tmppath);
	free(destpath);
	vq_item_free(meta);
	return st;
}

enum vq_status vq_remove_file(const struct vq_source *src, struct vq_err *err)
{
	unsigned char rnd[8];
	char hidden[64];
	enum vq_status st;
	char *base = NULL;
	int dirfd = -1;

	if (vq_random(rnd, sizeof(rnd)) != 0)
		return vq_fail(err, VQ_FAILED, errno, "no random numbers: %s", strerror(errno));
	memcpy(hidden, ".vigil-removing.", 16);
	vq_hex(rnd, sizeof(rnd), hidden + 16);
	VQ_CRASH_POINT("action.begin");
	st = vq_check_source(src, &dirfd, &base, err);
	if (st != VQ_OK)
		return st;
	st = vq_unlink_checked(dirfd, base, hidden, &src->scanned, 1, src->path, err);
	close(dirfd);
	free(base);
	return st;
}
