/*
 * store_ops.c - moving a file into the store, restoring it, deleting it.
 *
 * Move (journal states in quotes; recover.c knows what each one means):
 *
 *   check     the name still leads to the scanned file, unchanged, through
 *             no symlink; its folder is writable (else nothing is done)
 *   hash      SHA-256 of the file as it is now
 *   "intent"  journaled (committed, synchronous) before any file is touched
 *   copy      header + AES-256-GCM content into tmp/<id>.part, every write
 *             checked (a full disk stops here: the partial file is removed,
 *             the original never touched), fsync
 *   publish   rename to items/<id>.vq, fsync both folders
 *   verify    decrypt the stored item: tag and SHA-256 must match
 *   "stored"  index row + journal state in one transaction
 *   remove    the original: checked again, renamed to a hidden name,
 *             checked once more, unlinked, its folder synced
 *   done      journal row dropped
 *
 * Restore: "intent" -> decrypt into a hidden temporary file next to the
 * destination, verify tag and SHA-256, owner, mode, xattrs, times, fsync ->
 * rename into place without replacing anything (unless forced), sync the
 * folder -> "placed" -> remove the item file -> drop index and journal rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vigil.h>

#include "vq_internal.h"

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static char *hidden_name(const char *prefix, const char *id)
{
	char *s = NULL;

	if (asprintf(&s, ".vigil-%s.%s", prefix, id) < 0)
		return NULL;
	return s;
}

/* A new item record for src: id, nonce, key, time, host, detections. */
static enum vq_status new_item(struct vq_store *s, const struct vq_source *src,
			       struct vq_item **out, struct vq_err *err)
{
	struct vq_item *it = calloc(1, sizeof(*it));
	unsigned char rnd[16];
	char host[HOST_NAME_MAX + 1];

	if (it == NULL)
		return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
	if (vq_random(rnd, sizeof(rnd)) != 0 || vq_random(it->nonce, sizeof(it->nonce)) != 0) {
		vq_item_free(it);
		return vq_fail(err, VQ_FAILED, errno, "no random numbers: %s", strerror(errno));
	}
	vq_hex(rnd, sizeof(rnd), it->id);
	memcpy(it->key_id, s->key_id, sizeof(it->key_id));
	clock_gettime(CLOCK_REALTIME, &it->quarantined);
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		it->host = strdup(host);
	}
	it->vigil_version = strdup(VG_VERSION_STRING);
	if (src->detection_count > 0) {
		it->detections = calloc(src->detection_count, sizeof(char *));
		if (it->detections == NULL) {
			vq_item_free(it);
			return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < src->detection_count; i++) {
			it->detections[i] = strdup(src->detections[i]);
			if (it->detections[i] == NULL) {
				vq_item_free(it);
				return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
			}
			it->detection_count++;
		}
	}
	*out = it;
	return VQ_OK;
}

enum vq_status vq_check_source(const struct vq_source *src, int *dirfd, char **base,
			       struct vq_err *err)
{
	struct stat now, named;
	enum vq_status st;

	if (fstat(src->fd, &now) != 0)
		return vq_fail(err, VQ_FAILED, errno, "can't examine '%s': %s", src->path,
			       strerror(errno));
	if (!S_ISREG(now.st_mode) || !vq_same_file(&now, &src->scanned, 0))
		return vq_fail(err, VQ_CHANGED, 0, "'%s' changed since it was scanned", src->path);
	st = vq_open_parent(src->path, dirfd, base, err);
	if (st != VQ_OK)
		return st;
	if (fstatat(*dirfd, *base, &named, AT_SYMLINK_NOFOLLOW) != 0) {
		int e = errno;
		st = vq_fail(err, e == ENOENT ? VQ_CHANGED : VQ_FAILED, e, "can't examine '%s': %s",
			     src->path, strerror(e));
	} else if (S_ISLNK(named.st_mode)) {
		st = vq_fail(err, VQ_SYMLINK, ELOOP, "'%s' is a symbolic link now", src->path);
	} else if (!S_ISREG(named.st_mode) || !vq_same_file(&named, &src->scanned, 1)) {
		st = vq_fail(err, VQ_CHANGED, 0, "'%s' changed since it was scanned", src->path);
	}
	if (st != VQ_OK) {
		close(*dirfd);
		free(*base);
		*dirfd = -1;
		*base = NULL;
	}
	return st;
}

/* Undo a move that has not reached "stored": only the store was touched. */
static void undo_intent(struct vq_store *s, const char *id)
{
	char name[VQ_ID_HEX + 8];

	vq_part_name(id, name);
	(void)unlinkat(s->tmpfd, name, 0);
	vq_item_name(id, name);
	(void)unlinkat(s->itemsfd, name, 0);
	(void)vq_fsync_dir(s->tmpfd);
	(void)vq_fsync_dir(s->itemsfd);
	/* If this fails, the row stays and the next operation undoes the same. */
	(void)vq_journal_drop(s->db, id, NULL);
}

static void append_kept(struct vq_err *err, const char *id)
{
	size_t n = strlen(err->msg);

	if (n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n,
			 "; the content as scanned is kept as quarantine item %s", id);
}

enum vq_status vq_store_quarantine(struct vq_store *s, const struct vq_source *src,
				   char id_out[VQ_ID_HEX + 1], struct vq_err *err)
{
	char name[VQ_ID_HEX + 8], part[VQ_ID_HEX + 8], partpath[PATH_MAX + 64];
	struct vq_journal j;
	struct vq_item *it = NULL, *check = NULL;
	enum vq_status st;
	char *base = NULL;
	int dirfd = -1, tfd = -1, ifd = -1;

	memset(&j, 0, sizeof(j));
	if ((st = vq_store_begin_op(s, err)) != VQ_OK)
		return st;
	VQ_CRASH_POINT("action.begin");
	if ((st = vq_check_source(src, &dirfd, &base, err)) != VQ_OK)
		goto out;
	if ((uint64_t)src->scanned.st_size > VQ_ITEM_MAX) {
		st = vq_fail(err, VQ_FAILED, EFBIG,
			     "'%s' is larger than 64 GiB, the most one AES-GCM item can hold; use "
			     "--move=DIR for it",
			     src->path);
		goto out;
	}
	if (faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
		st = vq_fail(err, VQ_FAILED, errno,
			     "'%s' could not be removed afterwards: its folder is not writable (%s)",
			     src->path, strerror(errno));
		goto out;
	}
	if ((st = new_item(s, src, &it, err)) != VQ_OK)
		goto out;
	if ((st = vq_meta_capture(src->fd, &src->scanned, src->path, it, err)) != VQ_OK)
		goto out;
	if ((st = vq_hash_fd(src->fd, it->size, it->sha256, err)) != VQ_OK) {
		if (st == VQ_CHANGED)
			vq_fail(err, VQ_CHANGED, 0, "'%s' is changing (%s)", src->path, err->msg);
		goto out;
	}

	memcpy(j.id, it->id, sizeof(j.id));
	snprintf(j.op, sizeof(j.op), "move");
	snprintf(j.state, sizeof(j.state), "intent");
	j.path = it->path;
	j.aux = hidden_name("pending", it->id);
	j.dev = (uint64_t)src->scanned.st_dev;
	j.ino = (uint64_t)src->scanned.st_ino;
	j.size = (uint64_t)src->scanned.st_size;
	j.mtime_ns = ts_ns(&src->scanned.st_mtim);
	j.ctime_ns = ts_ns(&src->scanned.st_ctim);
	j.started = (int64_t)time(NULL);
	if (j.aux == NULL) {
		st = vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
		goto out;
	}
	if (vq_journal_put(s->db, &j, err) != 0) {
		st = VQ_FAILED;
		goto out;
	}
	VQ_CRASH_POINT("store.intent");

	vq_part_name(it->id, part);
	vq_item_name(it->id, name);
	snprintf(partpath, sizeof(partpath), "%s/tmp/%s", s->dir, part);
	tfd = openat(s->tmpfd, part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (tfd < 0) {
		st = vq_fail(err, VQ_FAILED, errno, "can't create %s: %s", partpath, strerror(errno));
		goto undo;
	}
	if ((st = vq_item_write(tfd, s->key, it, src->fd, partpath, err)) != VQ_OK)
		goto undo;
	if (fchmod(tfd, 0400) != 0 || fsync(tfd) != 0) {
		st = vq_fail(err, VQ_FAILED, errno, "can't sync %s: %s", partpath, strerror(errno));
		goto undo;
	}
	VQ_CRASH_POINT("store.synced");
	close(tfd);
	tfd = -1;
	if (renameat2(s->tmpfd, part, s->itemsfd, name, RENAME_NOREPLACE) != 0 ||
	    vq_fsync_dir(s->itemsfd) != 0 || vq_fsync_dir(s->tmpfd) != 0) {
		st = vq_fail(err, VQ_FAILED, errno, "can't store %s/items/%s: %s", s->dir, name,
			     strerror(errno));
		goto undo;
	}
	VQ_CRASH_POINT("store.published");

	/* Read back what is on disk before the original may go. */
	st = vq_store_open_item(s, it->id, &ifd, &check, err);
	if (st == VQ_OK)
		st = vq_item_decrypt(ifd, check, s->key, -1, NULL, err);
	if (st != VQ_OK) {
		vq_fail(err, VQ_FAILED, err->sys, "the stored copy failed its check: %s", err->msg);
		goto undo;
	}
	VQ_CRASH_POINT("store.verified");

	snprintf(j.state, sizeof(j.state), "stored");
	if (vq_txn_begin(s, err) != 0) {
		st = VQ_FAILED;
		goto undo;
	}
	if (vq_index_insert(s->db, it, err) != 0 || vq_journal_put(s->db, &j, err) != 0) {
		vq_txn_rollback(s);
		st = VQ_FAILED;
		goto undo;
	}
	if (vq_txn_commit(s, err) != 0) {
		st = VQ_FAILED;
		goto undo;
	}
	VQ_CRASH_POINT("store.indexed");

	st = vq_unlink_checked(dirfd, base, j.aux, &src->scanned, 1, src->path, err);
	if (st == VQ_CHANGED || st == VQ_SYMLINK) {
		/* The name no longer leads to the scanned file: that file may be
		 * gone, so the copy taken of it stays. */
		(void)vq_journal_close(s, it->id, 0, NULL);
		append_kept(err, it->id);
		goto out;
	}
	if (st != VQ_OK) {
		/* The original is in place (the name could not be taken): drop
		 * the copy. Item file first: a crash in between leaves "stored"
		 * with no item, which recovery undoes the same way. */
		(void)unlinkat(s->itemsfd, name, 0);
		(void)vq_fsync_dir(s->itemsfd);
		(void)vq_journal_close(s, it->id, 1, NULL);
		goto out;
	}
	VQ_CRASH_POINT("store.removed");
	/* A failure here leaves the row for recovery, which finds the work done. */
	(void)vq_journal_drop(s->db, it->id, NULL);
	VQ_CRASH_POINT("store.done");
	memcpy(id_out, it->id, VQ_ID_HEX + 1);
	st = VQ_OK;
	goto out;
undo:
	if (tfd >= 0) {
		close(tfd);
		tfd = -1;
	}
	undo_intent(s, it->id);
out:
	if (tfd >= 0)
		close(tfd);
	if (ifd >= 0)
		close(ifd);
	if (dirfd >= 0)
		close(dirfd);
	free(base);
	free(j.aux);
	vq_item_free(check);
	vq_item_free(it);
	vq_store_unlock(s);
	return st;
}

/* restore ------------------------------------------------------------------ */

static char *join(const char *dir, const char *name)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name) < 0)
		return NULL;
	return s;
}

/* Where to restore: the original path, or --to PATH (a folder: the
 * original name inside it). The folder part is made absolute and free of
 * symlinks here; the walk later refuses any link that appears meanwhile. */
static enum vq_status destination(const char *orig, const char *to, char **out, struct vq_err *err)
{
	const char *obase = strrchr(orig, '/');
	char *dir = NULL, *real = NULL, *res;
	const char *base;
	struct stat st;

	obase = obase != NULL ? obase + 1 : orig;
	if (to == NULL) {
		res = strdup(orig);
		if (res == NULL)
			return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
		*out = res;
		return VQ_OK;
	}
	if (stat(to, &st) == 0 && S_ISDIR(st.st_mode)) {
		real = realpath(to, NULL);
		base = obase;
	} else {
		const char *slash = strrchr(to, '/');
		base = slash != NULL ? slash + 1 : to;
		if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
			return vq_fail(err, VQ_FAILED, EINVAL, "'%s' does not name a file", to);
		if (slash == NULL)
			dir = strdup(".");
		else if (slash == to)
			dir = strdup("/");
		else
			dir = strndup(to, (size_t)(slash - to));
		if (dir == NULL)
			return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
		real = realpath(dir, NULL);
	}
	if (real == NULL) {
		int e = errno;
		enum vq_status r = vq_fail(err, VQ_FAILED, e, "can't use folder '%s': %s",
					   dir != NULL ? dir : to, strerror(e));
		free(dir);
		return r;
	}
	free(dir);
	res = join(real, base);
	free(real);
	if (res == NULL)
		return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
	*out = res;
	return VQ_OK;
}

enum vq_status vq_store_restore(struct vq_store *s, const char *id, const char *to,
				unsigned flags, char **restored_path, struct vq_err *err)
{
	char name[VQ_ID_HEX + 8];
	struct vq_journal j;
	struct vq_item *it = NULL;
	struct stat st_now;
	enum vq_status st;
	char *dest = NULL, *base = NULL;
	int ifd = -1, dirfd = -1, tfd = -1, rc;

	memset(&j, 0, sizeof(j));
	*restored_path = NULL;
	if ((st = vq_store_begin_op(s, err)) != VQ_OK)
		return st;
	if ((st = vq_store_open_item(s, id, &ifd, &it, err)) != VQ_OK)
		goto out;
	if ((st = destination(it->path, to, &dest, err)) != VQ_OK)
		goto out;
	st = vq_open_parent(dest, &dirfd, &base, err);
	if (st != VQ_OK) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		vq_fail(err, st, err->sys, "can't restore to '%s': %s; restore elsewhere with --to PATH",
			dest, why);
		goto out;
	}
	if (fstatat(dirfd, base, &st_now, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st_now.st_mode)) {
			st = vq_fail(err, VQ_EXISTS, EISDIR, "'%s' is a folder", dest);
			*restored_path = dest;
			dest = NULL;
			goto out;
		}
		if (!(flags & VQ_RESTORE_FORCE)) {
			st = vq_fail(err, VQ_EXISTS, EEXIST, "'%s' exists", dest);
			*restored_path = dest;
			dest = NULL;
			goto out;
		}
	}

	memcpy(j.id, it->id, sizeof(j.id));
	snprintf(j.op, sizeof(j.op), "restore");
	snprintf(j.state, sizeof(j.state), "intent");
	j.path = dest;
	j.aux = hidden_name("restore", it->id);
	j.started = (int64_t)time(NULL);
	if (j.aux == NULL) {
		st = vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
		goto out;
	}
	if (vq_journal_put(s->db, &j, err) != 0) {
		st = VQ_FAILED;
		goto out;
	}
	VQ_CRASH_POINT("restore.intent");

	for (int tries = 0; tries < 2; tries++) {
		tfd = openat(dirfd, j.aux, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (tfd >= 0 || errno != EEXIST)
			break;
		(void)unlinkat(dirfd, j.aux, 0); /* a leftover of ours */
	}
	if (tfd < 0) {
		st = vq_fail(err, VQ_FAILED, errno, "can't create a file next to '%s': %s", dest,
			     strerror(errno));
		goto undo;
	}
	if ((st = vq_item_decrypt(ifd, it, s->key, tfd, dest, err)) != VQ_OK)
		goto undo;
	vq_meta_apply(tfd, it, dest, s->notice, s->ctx);
	if (fsync(tfd) != 0) {
		st = vq_fail(err, VQ_FAILED, errno, "can't sync '%s': %s", dest, strerror(errno));
		goto undo;
	}
	VQ_CRASH_POINT("restore.synced");
	if (flags & VQ_RESTORE_FORCE)
		rc = renameat(dirfd, j.aux, dirfd, base);
	else
		rc = renameat2(dirfd, j.aux, dirfd, base, RENAME_NOREPLACE);
	if (rc != 0) {
		int e = errno;
		st = vq_fail(err, e == EEXIST ? VQ_EXISTS : VQ_FAILED, e, "can't put back '%s': %s",
			     dest, strerror(e));
		if (e == EEXIST) {
			*restored_path = strdup(dest);
			vq_fail(err, VQ_EXISTS, e, "'%s' exists", dest);
		}
		goto undo;
	}
	if (vq_fsync_dir(dirfd) != 0) {
		/* In place, but perhaps not durably: the item must stay until it is. */
		st = vq_fail(err, VQ_FAILED, errno,
			     "restored '%s' but can't sync its folder (%s); the item is kept", dest,
			     strerror(errno));
		(void)vq_journal_drop(s->db, it->id, NULL);
		goto out;
	}
	VQ_CRASH_POINT("restore.placed");
	if (fstat(tfd, &st_now) == 0) {
		j.dev = (uint64_t)st_now.st_dev;
		j.ino = (uint64_t)st_now.st_ino;
	}
	snprintf(j.state, sizeof(j.state), "placed");
	if (vq_journal_put(s->db, &j, err) != 0) {
		/* Recovery will find the bytes in place and finish. */
		st = VQ_OK;
		goto done;
	}
	VQ_CRASH_POINT("restore.logged");
	vq_item_name(it->id, name);
	if (unlinkat(s->itemsfd, name, 0) == 0)
		(void)vq_fsync_dir(s->itemsfd);
	VQ_CRASH_POINT("restore.unlinked");
	(void)vq_journal_close(s, it->id, 1, NULL);
	VQ_CRASH_POINT("restore.done");
done:
	st = VQ_OK;
	*restored_path = dest;
	dest = NULL;
	goto out;
undo:
	if (tfd >= 0) {
		close(tfd);
		tfd = -1;
		(void)unlinkat(dirfd, j.aux, 0);
		(void)vq_fsync_dir(dirfd);
	}
	(void)vq_journal_drop(s->db, it->id, NULL);
out:
	if (tfd >= 0)
		close(tfd);
	if (ifd >= 0)
		close(ifd);
	if (dirfd >= 0)
		close(dirfd);
	free(base);
	free(dest);
	free(j.aux);
	vq_item_free(it);
	vq_store_unlock(s);
	return st;
}

/* delete ------------------------------------------------------------------- */

enum vq_status vq_store_delete(struct vq_store *s, const char *id, struct vq_err *err)
{
	char name[VQ_ID_HEX + 8];
	struct vq_journal j;
	enum vq_status st;
	int known;

	memset(&j, 0, sizeof(j));
	if ((st = vq_store_begin_op(s, err)) != VQ_OK)
		return st;
	vq_item_name(id, name);
	known = vq_index_has(s->db, id, err);
	if (known < 0) {
		st = VQ_FAILED;
		goto out;
	}
	if (!known && faccessat(s->itemsfd, name, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		st = vq_fail(err, VQ_NOTFOUND, 0, "no item %s in %s", id, s->dir);
		goto out;
	}
	snprintf(j.id, sizeof(j.id), "%s", id);
	snprintf(j.op, sizeof(j.op), "delete");
	snprintf(j.state, sizeof(j.state), "intent");
	j.started = (int64_t)time(NULL);
	if (vq_journal_put(s->db, &j, err) != 0) {
		st = VQ_FAILED;
		goto out;
	}
	VQ_CRASH_POINT("delete.intent");
	if (unlinkat(s->itemsfd, name, 0) != 0 && errno != ENOENT) {
		st = vq_fail(err, VQ_FAILED, errno, "can't delete %s/items/%s: %s", s->dir, name,
			     strerror(errno));
		(void)vq_journal_drop(s->db, id, NULL);
		goto out;
	}
	(void)vq_fsync_dir(s->itemsfd);
	VQ_CRASH_POINT("delete.unlinked");
	st = vq_journal_close(s, id, 1, err);
out:
	vq_store_unlock(s);
	return st;
}
