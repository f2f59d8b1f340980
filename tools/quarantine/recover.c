/*
 * recover.c - finishing or undoing what a crash interrupted.
 *
 * Every operation writes its intent to the journal (a table of the index
 * database, committed with synchronous=FULL) before it touches a file, and
 * moves the journal row forward as each step becomes durable. Under the
 * store's lock no other operation is running, so every row found here
 * belongs to a process that died. The rules, per operation:
 *
 *   move, "intent"   the original was never touched: remove the partial
 *                    item, keep the original.
 *   move, "stored"   the item is complete and durable: verify it, then
 *                    remove the original (under its own name or the hidden
 *                    name it was renamed to) if it is still the same file.
 *                    An item that does not verify is dropped only when the
 *                    original is back in place; otherwise both are kept.
 *   restore          the restore happened iff the destination holds the
 *                    item's exact bytes: then the item goes, else it stays
 *                    and the temporary file is removed.
 *   delete           finish deleting.
 *
 * Recovery never removes the last copy of anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vq_internal.h"

static struct timespec ns_to_ts(int64_t ns)
{
	struct timespec t;
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	t.tv_sec = (time_t)sec;
	t.tv_nsec = (long)rem;
	return t;
}

static void expected_stat(const struct vq_journal *j, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = (dev_t)j->dev;
	st->st_ino = (ino_t)j->ino;
	st->st_size = (off_t)j->size;
	st->st_mtim = ns_to_ts(j->mtime_ns);
	st->st_ctim = ns_to_ts(j->ctime_ns);
}

static void sync_store(struct vq_store *s)
{
	(void)vq_fsync_dir(s->itemsfd);
	(void)vq_fsync_dir(s->tmpfd);
}

enum vq_status vq_journal_close(struct vq_store *s, const char *id, int drop_index,
				struct vq_err *err)
{
	if (vq_txn_begin(s, err) != 0)
		return VQ_FAILED;
	if ((drop_index && vq_index_remove(s->db, id, err) != 0) ||
	    vq_journal_drop(s->db, id, err) != 0) {
		vq_txn_rollback(s);
		return VQ_FAILED;
	}
	return vq_txn_commit(s, err) == 0 ? VQ_OK : VQ_FAILED;
}

static enum vq_status recover_move(struct vq_store *s, const struct vq_journal *j,
				   struct vq_err *err)
{
	char name[VQ_ID_HEX + 8], part[VQ_ID_HEX + 8];
	struct vq_item *it = NULL;
	struct vq_err e = { 0 };
	struct stat expect, now;
	char *base = NULL;
	int dirfd = -1, fd = -1, verified = 0, in_place = 0;
	enum vq_status st;

	vq_item_name(j->id, name);
	vq_part_name(j->id, part);
	(void)unlinkat(s->tmpfd, part, 0);

	if (strcmp(j->state, "stored") != 0) {
		/* Nothing but the store was touched. */
		(void)unlinkat(s->itemsfd, name, 0);
		sync_store(s);
		vq_notify(s->notice, s->ctx, VQ_INFO,
			  "recovered an interrupted quarantine of '%s': undone, the file was not moved",
			  j->path);
		return vq_journal_close(s, j->id, 1, err);
	}

	if (vq_store_open_item(s, j->id, &fd, &it, &e) == VQ_OK &&
	    vq_item_decrypt(fd, it, s->key, -1, NULL, &e) == VQ_OK)
		verified = 1;
	if (fd >= 0)
		close(fd);
	vq_item_free(it);

	expected_stat(j, &expect);
	st = vq_open_parent(j->path, &dirfd, &base, &e);
	if (st != VQ_OK) {
		vq_notify(s->notice, s->ctx, VQ_INFO,
			  "recovered an interrupted quarantine of '%s' (item %s): the folder can no "
			  "longer be reached (%s); nothing was removed",
			  j->path, j->id, e.msg);
		return vq_journal_close(s, j->id, 0, err);
	}

	if (verified) {
		if (fstatat(dirfd, j->aux, &now, AT_SYMLINK_NOFOLLOW) == 0) {
			/* Renamed to its hidden name, not yet unlinked. */
			if (S_ISREG(now.st_mode) && now.st_dev == expect.st_dev &&
			    now.st_ino == expect.st_ino) {
				if (unlinkat(dirfd, j->aux, 0) == 0)
					(void)vq_fsync_dir(dirfd);
				vq_notify(s->notice, s->ctx, VQ_INFO,
					  "recovered an interrupted quarantine of '%s': finished, it is "
					  "item %s",
					  j->path, j->id);
			} else {
				vq_notify(s->notice, s->ctx, VQ_INFO,
					  "recovered an interrupted quarantine of '%s' (item %s): left "
					  "'%s' in its folder alone, it is not the quarantined file",
					  j->path, j->id, j->aux);
			}
		} else {
			st = vq_unlink_checked(dirfd, base, j->aux, &expect, 1, j->path, &e);
			if (st == VQ_OK)
				vq_notify(s->notice, s->ctx, VQ_INFO,
					  "recovered an interrupted quarantine of '%s': finished, it is "
					  "item %s",
					  j->path, j->id);
			else if (st == VQ_CHANGED && e.sys == ENOENT)
				; /* removed before the crash; only the journal was left */
			else
				vq_notify(s->notice, s->ctx, VQ_INFO,
					  "recovered an interrupted quarantine of '%s' (item %s): the "
					  "original was not removed: %s",
					  j->path, j->id, e.msg);
		}
		st = vq_journal_close(s, j->id, 0, err);
		goto out;
	}

	/* The item is missing or damaged: the original must stay. */
	if (fstatat(dirfd, j->aux, &now, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(now.st_mode) &&
	    now.st_dev == expect.st_dev && now.st_ino == expect.st_ino) {
		if (renameat2(dirfd, j->aux, dirfd, base, RENAME_NOREPLACE) == 0) {
			(void)vq_fsync_dir(dirfd);
			in_place = 1;
		} else {
			vq_notify(s->notice, s->ctx, VQ_INFO,
				  "recovered an interrupted quarantine of '%s': the original is kept "
				  "as '%s' in the same folder (its name is taken: %s)",
				  j->path, j->aux, strerror(errno));
		}
	} else if (fstatat(dirfd, base, &now, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(now.st_mode) &&
		   now.st_dev == expect.st_dev && now.st_ino == expect.st_ino) {
		in_place = 1;
	}
	if (in_place) {
		(void)unlinkat(s->itemsfd, name, 0);
		sync_store(s);
		vq_notify(s->notice, s->ctx, VQ_INFO,
			  "recovered an interrupted quarantine of '%s': undone (%s), the file is in "
			  "place",
			  j->path, e.msg);
		st = vq_journal_close(s, j->id, 1, err);
	} else {
		vq_notify(s->notice, s->ctx, VQ_INFO,
			  "recovered an interrupted quarantine of '%s': item %s failed its check (%s) "
			  "and the original is not where it was; the item is kept",
			  j->path, j->id, e.msg);
		st = vq_journal_close(s, j->id, 0, err);
	}
out:
	free(base);
	close(dirfd);
	return st;
}

static enum vq_status recover_restore(struct vq_store *s, const struct vq_journal *j,
				      struct vq_err *err)
{
	char name[VQ_ID_HEX + 8];
	struct vq_item *it = NULL;
	struct vq_err e = { 0 };
	struct stat now;
	char *base = NULL;
	int dirfd = -1, fd = -1;
	enum vq_status st;

	vq_item_name(j->id, name);
	if (vq_open_parent(j->path, &dirfd, &base, &e) == VQ_OK) {
		if (j->aux != NULL && fstatat(dirfd, j->aux, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(now.st_mode) && unlinkat(dirfd, j->aux, 0) == 0)
			(void)vq_fsync_dir(dirfd);
		free(base);
		close(dirfd);
	}
	st = vq_store_open_item(s, j->id, &fd, &it, &e);
	if (fd >= 0)
		close(fd);
	if (st != VQ_OK) {
		if (strcmp(j->state, "placed") == 0) {
			/* The item file went after the file was back in place. */
			vq_notify(s->notice, s->ctx, VQ_INFO,
				  "recovered an interrupted restore of item %s to '%s': finished", j->id,
				  j->path);
			return vq_journal_close(s, j->id, 1, err);
		}
		vq_notify(s->notice, s->ctx, VQ_INFO, "recovered an interrupted restore of item %s: %s", j->id,
			  e.msg);
		vq_item_free(it);
		return vq_journal_close(s, j->id, 0, err);
	}
	if (vq_file_matches(j->path, it)) {
		if (unlinkat(s->itemsfd, name, 0) == 0)
			sync_store(s);
		vq_notify(s->notice, s->ctx, VQ_INFO,
			  "recovered an interrupted restore of item %s to '%s': finished", j->id,
			  j->path);
		st = vq_journal_close(s, j->id, 1, err);
	} else {
		vq_notify(s->notice, s->ctx, VQ_INFO,
			  "recovered an interrupted restore of item %s to '%s': undone, the item is "
			  "still in quarantine",
			  j->id, j->path);
		st = vq_journal_close(s, j->id, 0, err);
	}
	vq_item_free(it);
	return st;
}

static enum vq_status recover_delete(struct vq_store *s, const struct vq_journal *j,
				     struct vq_err *err)
{
	char name[VQ_ID_HEX + 8];

	vq_item_name(j->id, name);
	if (unlinkat(s->itemsfd, name, 0) == 0)
		sync_store(s);
	vq_notify(s->notice, s->ctx, VQ_INFO, "recovered an interrupted deletion of item %s: finished",
		  j->id);
	return vq_journal_close(s, j->id, 1, err);
}

/* Leftovers no journal row explains: temporary files, and item files the
 * index lost (kept, and indexed again from their authenticated header). */
static void tidy(struct vq_store *s)
{
	struct dirent *de;
	DIR *d;

	if ((d = vq_opendir_at(s->tmpfd)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				(void)unlinkat(s->tmpfd, de->d_name, 0);
		closedir(d);
		(void)vq_fsync_dir(s->tmpfd);
	}
	(void)unlinkat(s->dirfd, "key.new", 0);
	if ((d = vq_opendir_at(s->itemsfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char id[VQ_ID_HEX + 1];
		struct vq_item *it = NULL;
		struct vq_err e = { 0 };
		int fd = -1;

		if (n != VQ_ID_HEX + 3 || strcmp(de->d_name + VQ_ID_HEX, ".vq") != 0)
			continue;
		memcpy(id, de->d_name, VQ_ID_HEX);
		id[VQ_ID_HEX] = '\0';
		if (vq_index_has(s->db, id, &e) != 0)
			continue;
		if (vq_store_open_item(s, id, &fd, &it, &e) == VQ_OK &&
		    vq_index_insert(s->db, it, &e) == 0)
			vq_notify(s->notice, s->ctx, VQ_INFO,
				  "item %s (%s) had no index entry; indexed again from its file", id,
				  it->path);
		else
			vq_notify(s->notice, s->ctx, VQ_INFO, "%s/items/%s is not a usable item (%s); left alone",
				  s->dir, de->d_name, e.msg);
		if (fd >= 0)
			close(fd);
		vq_item_free(it);
	}
	closedir(d);
}

enum vq_status vq_store_recover(struct vq_store *s, struct vq_err *err)
{
	struct vq_journal *list = NULL;
	size_t n = 0;
	enum vq_status st = VQ_OK;

	if (vq_journal_all(s->db, &list, &n, err) != 0)
		return VQ_FAILED;
	for (size_t i = 0; i < n && st == VQ_OK; i++) {
		const struct vq_journal *j = &list[i];
		if (strcmp(j->op, "delete") != 0 &&
		    (j->path == NULL || (strcmp(j->op, "move") == 0 && j->aux == NULL))) {
			st = vq_journal_close(s, j->id, 0, err);
			continue;
		}
		if (strcmp(j->op, "move") == 0)
			st = recover_move(s, j, err);
		else if (strcmp(j->op, "restore") == 0)
			st = recover_restore(s, j, err);
		else if (strcmp(j->op, "delete") == 0)
			st = recover_delete(s, j, err);
		else
			st = vq_journal_close(s, j->id, 0, err);
	}
	for (size_t i = 0; i < n; i++)
		vq_journal_free(&list[i]);
	free(list);
	return st;
}

enum vq_status vq_store_tidy(struct vq_store *s, struct vq_err *err)
{
	(void)err;
	tidy(s);
	return VQ_OK;
}
