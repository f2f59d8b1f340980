/*
 * quarantine.h - acting on detections without ever losing a file.
 *
 * Two families of operations:
 *
 *   The store (vq_store_*): a root-only folder holding each quarantined file
 *   encrypted (AES-256-GCM with a per-store key, so it can neither run nor be
 *   detected again) together with all of its metadata, an SQLite index and a
 *   journal. Moving a file in, restoring it and deleting it are journaled so
 *   that at every instant -- a crash, a power cut, a full disk -- at least one
 *   complete, durable copy of the file exists, and an interrupted operation is
 *   finished or rolled back the next time the store is opened.
 *
 *   clamscan's actions (vq_move_to_dir, vq_remove_file): --move=DIR,
 *   --copy=DIR and --remove, keeping owner, mode, timestamps and extended
 *   attributes and syncing before the original is removed.
 *
 * Every operation works on the file a scan opened: a read-only descriptor
 * plus the fstat() taken when it was opened. Names are resolved without
 * following symbolic links, and the original is removed only when the name
 * still leads to that very inode, unchanged (device, inode, size, mtime,
 * ctime).
 *
 * The API carries only plain data and one descriptor per request, and never
 * parses file content, so a small privileged helper can run it on behalf of
 * an unprivileged daemon (docs/QUARANTINE.md). Nothing here prints: messages
 * go to the vq_notice_fn callback, errors into struct vq_err.
 */
#ifndef VQ_QUARANTINE_H
#define VQ_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define VQ_DEFAULT_STORE "/var/lib/vigil/quarantine"
#define VQ_ID_HEX 32 /* an item id: 128 random bits in lowercase hex */

enum vq_status {
	VQ_OK = 0,
	VQ_FAILED,    /* could not be done; err says why (and where the file is) */
	VQ_CHANGED,   /* the file changed or was replaced since it was scanned: left alone */
	VQ_SYMLINK,   /* a symbolic link was met where none may be: nothing done */
	VQ_EXISTS,    /* the destination exists (restore without --force) */
	VQ_NOTFOUND,  /* no item with this id */
	VQ_AMBIGUOUS, /* an id prefix that matches several items */
	VQ_DAMAGED    /* an item failed its integrity check (tag or SHA-256) */
};

struct vq_err {
	int sys;         /* errno of the failing call, 0 when none */
	char msg[1024];  /* one line: what failed, the cause and, if any, the fix */
};

enum vq_level {
	VQ_INFO,    /* recovery done, waiting for the lock ... */
	VQ_WARNING  /* something could not be kept (an owner, an attribute) */
};

typedef void vq_notice_fn(void *ctx, enum vq_level level, const char *msg);

/* A detected file, as the scanner holds it. */
struct vq_source {
	int fd;                        /* read-only descriptor of the scanned file */
	const char *path;              /* its absolute path without symlinks (realpath) */
	struct stat scanned;           /* fstat(fd) when the scan opened it */
	const char *const *detections; /* signature names */
	size_t detection_count;
};

/* ------------------------------------------------------------------------ */
/* clamscan's --move=DIR, --copy=DIR and --remove                            */

struct vq_dest_dir {
	int fd;
	char *path; /* absolute, no symlinks */
};

/* Resolve and open the destination folder of --move/--copy. */
enum vq_status vq_dest_dir_open(const char *dir, struct vq_dest_dir *out, struct vq_err *err);
void vq_dest_dir_close(struct vq_dest_dir *d);

/* Copy (keep_original) or move src into d as its base name, or as
 * name.001 ... name.999 when taken (clamscan's naming). The copy keeps
 * owner, group, mode, timestamps and extended attributes where the target
 * allows (what could not be kept goes to notice) and is synced with its
 * folder before the original is removed. *dest gets the new path (malloc). */
enum vq_status vq_move_to_dir(struct vq_dest_dir *d, const struct vq_source *src,
			      int keep_original, vq_notice_fn *notice, void *ctx, char **dest,
			      struct vq_err *err);

/* Delete src after checking that its name still leads to the scanned,
 * unchanged file. */
enum vq_status vq_remove_file(const struct vq_source *src, struct vq_err *err);

/* ------------------------------------------------------------------------ */
/* The quarantine store                                                      */

struct vq_store;

struct vq_xattr {
	char *name;
	unsigned char *value;
	size_t len;
};

/* Everything recorded about a quarantined file. */
struct vq_item {
	char id[VQ_ID_HEX + 1];
	char *path;        /* original path (bytes, not necessarily UTF-8) */
	char **detections;
	size_t detection_count;
	struct timespec quarantined;
	char *host;
	char *vigil_version;
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid;
	char *user, *group; /* names when quarantined; NULL when unknown */
	uint64_t size;
	struct timespec atime, mtime, ctime;
	struct vq_xattr *xattrs;
	size_t xattr_count;
	unsigned char sha256[32];
	/* where it is kept */
	char key_id[17];
	unsigned char nonce[12];
	uint64_t header_len;
	int missing;        /* the index knows it but its file is gone (list only) */
};

void vq_item_free(struct vq_item *it);

/* The store folder: dir when given, else VIGIL_QUARANTINE_DIR when set to
 * an absolute path, else VQ_DEFAULT_STORE. */
const char *vq_store_default_dir(void);

/* Open (creating when missing: root-only 0700 folder, key, index) and
 * recover any interrupted operation. Recovery and other things worth
 * telling are passed to notice. Waits while another process holds the
 * store's lock, telling notice once. */
enum vq_status vq_store_open(const char *dir, vq_notice_fn *notice, void *ctx,
			     struct vq_store **out, struct vq_err *err);
void vq_store_close(struct vq_store *s);
const char *vq_store_dir(const struct vq_store *s);

/* Move src into the store; on VQ_OK id gets the new item's id. On any other
 * result the original is where it was (err says so). */
enum vq_status vq_store_quarantine(struct vq_store *s, const struct vq_source *src,
				   char id[VQ_ID_HEX + 1], struct vq_err *err);

/* Resolve an id or a unique prefix of one (at least 4 characters). */
enum vq_status vq_store_resolve(struct vq_store *s, const char *prefix, char id[VQ_ID_HEX + 1],
				struct vq_err *err);

/* The full record of one item (read from its file, authenticated header). */
enum vq_status vq_store_get(struct vq_store *s, const char *id, struct vq_item **out,
			    struct vq_err *err);

/* Every item, oldest first: fn gets index fields (path, detections,
 * quarantined, size, sha256, mode, uid, gid, mtime, missing). A non-zero
 * return from fn stops the walk. */
typedef int vq_item_fn(void *ctx, const struct vq_item *it);
enum vq_status vq_store_list(struct vq_store *s, vq_item_fn *fn, void *ctx, struct vq_err *err);

#define VQ_RESTORE_FORCE 1u /* replace an existing file at the destination */

/* Put the item back with its exact bytes and metadata, at to (NULL: the
 * original path; an existing folder: into it under the original name), then
 * drop it from the store. Never replaces an existing file unless
 * VQ_RESTORE_FORCE (VQ_EXISTS, *restored_path set to the taken path).
 * Metadata that could not be restored is passed to notice. */
enum vq_status vq_store_restore(struct vq_store *s, const char *id, const char *to,
				unsigned flags, char **restored_path, struct vq_err *err);

/* Delete an item for good. */
enum vq_status vq_store_delete(struct vq_store *s, const char *id, struct vq_err *err);

/* Check an item's tag and SHA-256 without writing anything. */
enum vq_status vq_store_verify(struct vq_store *s, const char *id, struct vq_err *err);

#endif /* VQ_QUARANTINE_H */
