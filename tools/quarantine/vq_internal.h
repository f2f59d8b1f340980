/*
 * vq_internal.h - shared by the files of the quarantine library only.
 */
#ifndef VQ_INTERNAL_H
#define VQ_INTERNAL_H

#include <dirent.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "quarantine.h"

#if defined(__GNUC__)
#define VQ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define VQ_PRINTF(f, a)
#endif

/* Crash points: named steps where the fault-injection test kills the
 * process. They exist only in the test twin of this library
 * (vt_quarantine_crashtest, built by tests/quarantine with
 * VQ_CRASH_POINTS); in the library vigil links, the macro is empty and no
 * code, string or environment lookup is compiled in. */
#ifdef VQ_CRASH_POINTS
void vq_crash_point(const char *name);
#define VQ_CRASH_POINT(name) vq_crash_point(name)
#else
#define VQ_CRASH_POINT(name) ((void)0)
#endif

#define VQ_COPY_CHUNK (1u << 20)
#define VQ_HEADER_MAX (8u << 20)   /* an item header: path, detections, xattrs */
#define VQ_XATTR_MAX (1u << 20)    /* all extended attributes of one file */
#define VQ_TAG_LEN 16
/* AES-GCM encrypts at most 2^36 - 32 bytes under one nonce. */
#define VQ_ITEM_MAX ((UINT64_C(1) << 36) - 32)
#define VQ_KEY_LEN 32

/* errors ------------------------------------------------------------------ */

enum vq_status vq_fail(struct vq_err *err, enum vq_status st, int sys, const char *fmt, ...)
	VQ_PRINTF(4, 5);

/* a growable byte buffer -------------------------------------------------- */

struct vq_buf {
	char *p;
	size_t len, cap;
};

int vq_buf_add(struct vq_buf *b, const void *data, size_t n);
int vq_buf_printf(struct vq_buf *b, const char *fmt, ...) VQ_PRINTF(2, 3);
int vq_buf_pct(struct vq_buf *b, const char *s, size_t n); /* percent-encoded */
int vq_buf_hex(struct vq_buf *b, const unsigned char *p, size_t n);
void vq_buf_free(struct vq_buf *b);

/* files and folders (fileops.c) -------------------------------------------- */

/* write() all of it, retrying on EINTR and short writes. */
int vq_write_all(int fd, const void *p, size_t n);
/* pread() exactly n bytes at off; returns bytes read (short at EOF) or -1. */
ssize_t vq_pread_full(int fd, void *p, size_t n, uint64_t off);
int vq_fsync_dir(int dirfd);

/* Open the folder at an absolute path, without following a symlink in any
 * component. */
enum vq_status vq_open_dir_nofollow(const char *abspath, int *fd, struct vq_err *err);

/* Open the folder holding abspath the same way; *base gets its last
 * component (malloc). */
enum vq_status vq_open_parent(const char *abspath, int *dirfd, char **base, struct vq_err *err);

/* Same device, inode, size, mtime and, when with_ctime, ctime. */
int vq_same_file(const struct stat *a, const struct stat *b, int with_ctime);

/* Remove the entry name of dirfd if it is still the file `expect` (dev,
 * inode, size, mtime and, with_ctime, ctime): rename it to hidden (RENAME_NOREPLACE), check
 * the renamed inode again, unlink it and sync the folder. Renamed back and
 * VQ_CHANGED when it is another file. path is for messages. */
enum vq_status vq_unlink_checked(int dirfd, const char *name, const char *hidden,
				 const struct stat *expect, int with_ctime, const char *path,
				 struct vq_err *err);

/* The name src->path leads, through no symlink, to the scanned file,
 * unchanged (ctime included), and so does src->fd. On VQ_OK *dirfd and *base
 * are its folder and name. */
enum vq_status vq_check_source(const struct vq_source *src, int *dirfd, char **base,
			       struct vq_err *err);

/* Random bytes from the kernel. */
int vq_random(void *p, size_t n);
void vq_hex(const unsigned char *p, size_t n, char *out); /* out: 2n+1 */
int vq_unhex(const char *s, size_t slen, unsigned char *out, size_t n);

/* metadata (metadata.c) --------------------------------------------------- */

/* Fill the metadata fields of it (path, dev ... xattrs) from fd. atime is
 * taken from scanned (before the scan read the file). */
enum vq_status vq_meta_capture(int fd, const struct stat *scanned, const char *path,
			       struct vq_item *it, struct vq_err *err);

/* Give fd the owner, group, mode, extended attributes and times of it, in
 * that order (chown clears set-id bits and capabilities, so those follow).
 * What cannot be applied is told to notice with `what` naming the file. */
void vq_meta_apply(int fd, const struct vq_item *it, const char *what, vq_notice_fn *notice,
		   void *ctx);

void vq_notify(vq_notice_fn *notice, void *ctx, enum vq_level level, const char *fmt, ...)
	VQ_PRINTF(4, 5);

/* item files (item.c) ------------------------------------------------------ */

/* SHA-256 of the first size bytes of fd; VQ_CHANGED when fd is not exactly
 * size bytes long. */
enum vq_status vq_hash_fd(int fd, uint64_t size, unsigned char out[32], struct vq_err *err);

/* The header text of it (the AEAD's associated data). */
int vq_item_header(const struct vq_item *it, struct vq_buf *out);

/* Write header and encrypted content of in_fd (it->size bytes) to out_fd.
 * VQ_CHANGED when what is read now does not hash to it->sha256. */
enum vq_status vq_item_write(int out_fd, const unsigned char key[VQ_KEY_LEN],
			     const struct vq_item *it, int in_fd, const char *out_name,
			     struct vq_err *err);

/* Read and parse the header of an item file. */
enum vq_status vq_item_read_header(int fd, struct vq_item *it, struct vq_err *err);

/* Decrypt an item whose header is in it into out_fd (-1: only verify).
 * VQ_DAMAGED when the tag or the SHA-256 does not match. */
enum vq_status vq_item_decrypt(int fd, const struct vq_item *it,
			       const unsigned char key[VQ_KEY_LEN], int out_fd, const char *out_name,
			       struct vq_err *err);

/* the index and journal (index.c) ------------------------------------------ */

struct vq_journal {
	char id[VQ_ID_HEX + 1];
	char op[16];    /* "move", "restore", "delete" */
	char state[16]; /* "intent", "stored", "placed" */
	char *path;     /* move: the original; restore: the destination */
	char *aux;      /* move: hidden name of the original; restore: temporary name */
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	int64_t started;
};

void vq_journal_free(struct vq_journal *j);

int vq_index_open(const char *path, sqlite3 **db, struct vq_err *err);
int vq_index_exec(sqlite3 *db, const char *sql, struct vq_err *err);
int vq_journal_put(sqlite3 *db, const struct vq_journal *j, struct vq_err *err);
int vq_journal_drop(sqlite3 *db, const char *id, struct vq_err *err);
int vq_journal_all(sqlite3 *db, struct vq_journal **out, size_t *n, struct vq_err *err);
int vq_index_insert(sqlite3 *db, const struct vq_item *it, struct vq_err *err);
int vq_index_remove(sqlite3 *db, const char *id, struct vq_err *err);
/* 1 known, 0 not, -1 error */
int vq_index_has(sqlite3 *db, const char *id, struct vq_err *err);
/* Ids starting with prefix: up to 2 copied to ids, *count = how many match. */
int vq_index_prefix(sqlite3 *db, const char *prefix, char ids[2][VQ_ID_HEX + 1], size_t *count,
		    struct vq_err *err);
int vq_index_walk(sqlite3 *db, vq_item_fn *fn, void *ctx, struct vq_err *err);

/* the store (store.c, store_ops.c, recover.c) ------------------------------ */

struct vq_store {
	char *dir;
	int dirfd, itemsfd, tmpfd, lockfd;
	int locked;
	sqlite3 *db;
	unsigned char key[VQ_KEY_LEN];
	char key_id[17];
	vq_notice_fn *notice;
	void *ctx;
};

/* Take and release the store's lock (flock on <store>/lock); every
 * operation runs under it, after recovering what a crash left. */
enum vq_status vq_store_lock(struct vq_store *s, struct vq_err *err);
void vq_store_unlock(struct vq_store *s);

/* Lock, then recover: what precedes every operation. Unlocked on failure. */
enum vq_status vq_store_begin_op(struct vq_store *s, struct vq_err *err);

/* A DIR stream of its own on the folder dirfd. */
DIR *vq_opendir_at(int dirfd);

/* Finish or roll back every journaled operation. */
enum vq_status vq_store_recover(struct vq_store *s, struct vq_err *err);
/* At open only (it reads the whole items folder): stale temporary files go,
 * item files the index lacks are indexed again from their header. */
enum vq_status vq_store_tidy(struct vq_store *s, struct vq_err *err);

/* Drop the journal row of id; with drop_index also its index row (one
 * transaction). */
enum vq_status vq_journal_close(struct vq_store *s, const char *id, int drop_index,
				struct vq_err *err);

int vq_txn_begin(struct vq_store *s, struct vq_err *err);
int vq_txn_commit(struct vq_store *s, struct vq_err *err);
void vq_txn_rollback(struct vq_store *s);

/* "<id>.vq" and "<id>.part" */
void vq_item_name(const char *id, char out[VQ_ID_HEX + 8]);
void vq_part_name(const char *id, char out[VQ_ID_HEX + 8]);

/* Open the item file and read its header, checking id and key. */
enum vq_status vq_store_open_item(struct vq_store *s, const char *id, int *fd,
				  struct vq_item **it, struct vq_err *err);

/* Does the file at path hold exactly the item's bytes? */
int vq_file_matches(const char *path, const struct vq_item *it);

#endif /* VQ_INTERNAL_H */
