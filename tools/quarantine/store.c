/*
 * store.c - the quarantine store: its folder, lock, key and index, and the
 * read-only operations (list, get, resolve, verify).
 *
 *     <store>/            root-only (0700), owned by whoever runs vigil
 *       key               32 random bytes in hex, 0600: encrypts every item
 *       index.sqlite      index of items + journal of operations (WAL)
 *       lock              flock()ed by every operation
 *       items/<id>.vq     one file per item, read-only (0400)
 *       tmp/<id>.part     items being written
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vq_internal.h"

#define KEY_MAGIC "vigil-quarantine-key 1\n"

const char *vq_store_default_dir(void)
{
	const char *env = getenv("VIGIL_QUARANTINE_DIR");

	if (env != NULL && env[0] == '/')
		return env;
	return VQ_DEFAULT_STORE;
}

const char *vq_store_dir(const struct vq_store *s)
{
	return s->dir;
}

void vq_item_name(const char *id, char out[VQ_ID_HEX + 8])
{
	snprintf(out, VQ_ID_HEX + 8, "%s.vq", id);
}

void vq_part_name(const char *id, char out[VQ_ID_HEX + 8])
{
	snprintf(out, VQ_ID_HEX + 8, "%s.part", id);
}

int vq_txn_begin(struct vq_store *s, struct vq_err *err)
{
	return vq_index_exec(s->db, "BEGIN IMMEDIATE", err);
}

int vq_txn_commit(struct vq_store *s, struct vq_err *err)
{
	if (vq_index_exec(s->db, "COMMIT", err) != 0) {
		vq_txn_rollback(s);
		return -1;
	}
	return 0;
}

void vq_txn_rollback(struct vq_store *s)
{
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* mkdir -p for the folders above the store; the store itself is made 0700. */
static enum vq_status make_parents(const char *dir, struct vq_err *err)
{
	char *p = strdup(dir);

	if (p == NULL)
		return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
	for (char *c = p + 1; *c != '\0'; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			int e = errno;
			enum vq_status st = vq_fail(err, VQ_FAILED, e, "can't create folder %s: %s", p,
						    strerror(e));
			free(p);
			return st;
		}
		*c = '/';
	}
	free(p);
	return VQ_OK;
}

/* The store and its key hold other people's files: they must be ours and
 * closed to everyone else. */
static enum vq_status check_private(int fd, const char *what, struct vq_err *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return vq_fail(err, VQ_FAILED, errno, "can't examine %s: %s", what, strerror(errno));
	if (st.st_uid != geteuid())
		return vq_fail(err, VQ_FAILED, EPERM,
			       "%s belongs to uid %u, not to the user running vigil (uid %u); refusing "
			       "to use it",
			       what, (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 077) != 0)
		return vq_fail(err, VQ_FAILED, EPERM,
			       "%s is open to other users (mode %04o); refusing to use it (fix: chmod "
			       "go= '%s')",
			       what, (unsigned)(st.st_mode & 07777), what);
	return VQ_OK;
}

static enum vq_status open_subdir(struct vq_store *s, const char *name, int *out,
				  struct vq_err *err)
{
	int fd;

	if (mkdirat(s->dirfd, name, 0700) != 0 && errno != EEXIST)
		return vq_fail(err, VQ_FAILED, errno, "can't create %s/%s: %s", s->dir, name,
			       strerror(errno));
	fd = openat(s->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vq_fail(err, VQ_FAILED, errno, "can't open %s/%s: %s", s->dir, name,
			       strerror(errno));
	*out = fd;
	return VQ_OK;
}

DIR *vq_opendir_at(int dirfd)
{
	/* A fresh open file description: dup() would share (and move) the
	 * read position of dirfd. */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL)
		close(fd);
	return d;
}

static int has_items(int itemsfd)
{
	DIR *d = vq_opendir_at(itemsfd);
	struct dirent *de;
	int found = 0;

	if (d == NULL)
		return 1; /* unknown: assume there are */
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n > 3 && strcmp(de->d_name + n - 3, ".vq") == 0) {
			found = 1;
			break;
		}
	}
	closedir(d);
	return found;
}

static void key_id(const unsigned char key[VQ_KEY_LEN], char out[17])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(key, VQ_KEY_LEN, md, &n, EVP_sha256(), NULL);
	vq_hex(md, 8, out);
}

static enum vq_status create_key(struct vq_store *s, struct vq_err *err)
{
	unsigned char key[VQ_KEY_LEN];
	char text[sizeof(KEY_MAGIC) + 2 * VQ_KEY_LEN + 2];
	int fd;

	if (vq_random(key, sizeof(key)) != 0)
		return vq_fail(err, VQ_FAILED, errno, "no random numbers: %s", strerror(errno));
	snprintf(text, sizeof(text), "%s", KEY_MAGIC);
	vq_hex(key, sizeof(key), text + strlen(KEY_MAGIC));
	strcat(text, "\n");
	(void)unlinkat(s->dirfd, "key.new", 0);
	fd = openat(s->dirfd, "key.new", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return vq_fail(err, VQ_FAILED, errno, "can't create %s/key: %s", s->dir,
			       strerror(errno));
	if (vq_write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		(void)unlinkat(s->dirfd, "key.new", 0);
		return vq_fail(err, VQ_FAILED, e, "can't write %s/key: %s", s->dir, strerror(e));
	}
	close(fd);
	if (renameat2(s->dirfd, "key.new", s->dirfd, "key", RENAME_NOREPLACE) != 0) {
		int e = errno;
		(void)unlinkat(s->dirfd, "key.new", 0);
		return vq_fail(err, VQ_FAILED, e, "can't create %s/key: %s", s->dir, strerror(e));
	}
	if (vq_fsync_dir(s->dirfd) != 0)
		return vq_fail(err, VQ_FAILED, errno, "can't sync %s: %s", s->dir, strerror(errno));
	memcpy(s->key, key, sizeof(key));
	return VQ_OK;
}

static enum vq_status load_key(struct vq_store *s, struct vq_err *err)
{
	char text[256], what[4200];
	ssize_t n;
	int fd = openat(s->dirfd, "key", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	enum vq_status st;

	snprintf(what, sizeof(what), "%s/key", s->dir);
	if (fd < 0 && errno == ENOENT) {
		if (has_items(s->itemsfd))
			return vq_fail(err, VQ_FAILED, ENOENT,
				       "%s is missing but the store holds items that only it can "
				       "decrypt; put the key back from a backup of the store",
				       what);
		st = create_key(s, err);
		if (st != VQ_OK)
			return st;
		key_id(s->key, s->key_id);
		return VQ_OK;
	}
	if (fd < 0)
		return vq_fail(err, VQ_FAILED, errno, "can't open %s: %s", what, strerror(errno));
	st = check_private(fd, what, err);
	if (st != VQ_OK) {
		close(fd);
		return st;
	}
	n = vq_pread_full(fd, text, sizeof(text) - 1, 0);
	close(fd);
	if (n < 0)
		return vq_fail(err, VQ_FAILED, errno, "can't read %s: %s", what, strerror(errno));
	text[n] = '\0';
	size_t ml = strlen(KEY_MAGIC);
	if ((size_t)n < ml + 2 * VQ_KEY_LEN || memcmp(text, KEY_MAGIC, ml) != 0 ||
	    vq_unhex(text + ml, 2 * VQ_KEY_LEN, s->key, VQ_KEY_LEN) != 0)
		return vq_fail(err, VQ_FAILED, EINVAL, "%s is not a vigil quarantine key", what);
	key_id(s->key, s->key_id);
	return VQ_OK;
}

enum vq_status vq_store_lock(struct vq_store *s, struct vq_err *err)
{
	if (s->locked)
		return VQ_OK;
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK)
			return vq_fail(err, VQ_FAILED, errno, "can't lock %s/lock: %s", s->dir,
				       strerror(errno));
		vq_notify(s->notice, s->ctx, VQ_INFO,
			  "waiting for another vigil process that is using the quarantine store %s",
			  s->dir);
		while (flock(s->lockfd, LOCK_EX) != 0)
			if (errno != EINTR)
				return vq_fail(err, VQ_FAILED, errno, "can't lock %s/lock: %s", s->dir,
					       strerror(errno));
	}
	s->locked = 1;
	return VQ_OK;
}

void vq_store_unlock(struct vq_store *s)
{
	if (s->locked) {
		(void)flock(s->lockfd, LOCK_UN);
		s->locked = 0;
	}
}

void vq_store_close(struct vq_store *s)
{
	if (s == NULL)
		return;
	vq_store_unlock(s);
	if (s->db != NULL)
		sqlite3_close(s->db);
	if (s->itemsfd >= 0)
		close(s->itemsfd);
	if (s->tmpfd >= 0)
		close(s->tmpfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	OPENSSL_cleanse(s->key, sizeof(s->key));
	free(s->dir);
	free(s);
}

enum vq_status vq_store_open(const char *dir, vq_notice_fn *notice, void *ctx,
			     struct vq_store **out, struct vq_err *err)
{
	struct vq_store *s;
	enum vq_status st;
	char *dbpath = NULL;
	size_t n;

	if (dir == NULL)
		dir = vq_store_default_dir();
	if (dir[0] != '/')
		return vq_fail(err, VQ_FAILED, EINVAL,
			       "the quarantine folder must be an absolute path, not '%s'", dir);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
	s->dirfd = s->itemsfd = s->tmpfd = s->lockfd = -1;
	s->notice = notice;
	s->ctx = ctx;
	s->dir = strdup(dir);
	if (s->dir == NULL) {
		st = vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
		goto fail;
	}
	for (n = strlen(s->dir); n > 1 && s->dir[n - 1] == '/'; n--)
		s->dir[n - 1] = '\0';

	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0 && errno == ENOENT) {
		st = make_parents(s->dir, err);
		if (st != VQ_OK)
			goto fail;
		if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
			st = vq_fail(err, VQ_FAILED, errno, "can't create the quarantine store %s: %s",
				     s->dir, strerror(errno));
			goto fail;
		}
		s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (s->dirfd < 0) {
		st = vq_fail(err, VQ_FAILED, errno, "can't open the quarantine store %s: %s", s->dir,
			     strerror(errno));
		goto fail;
	}
	st = check_private(s->dirfd, s->dir, err);
	if (st != VQ_OK)
		goto fail;
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		st = vq_fail(err, VQ_FAILED, errno, "can't open %s/lock: %s", s->dir, strerror(errno));
		goto fail;
	}
	st = vq_store_lock(s, err);
	if (st != VQ_OK)
		goto fail;
	if ((st = open_subdir(s, "items", &s->itemsfd, err)) != VQ_OK ||
	    (st = open_subdir(s, "tmp", &s->tmpfd, err)) != VQ_OK ||
	    (st = load_key(s, err)) != VQ_OK)
		goto fail;
	if (asprintf(&dbpath, "%s/index.sqlite", s->dir) < 0) {
		dbpath = NULL;
		st = vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
		goto fail;
	}
	if (vq_index_open(dbpath, &s->db, err) != 0) {
		st = VQ_FAILED;
		goto fail;
	}
	if (vq_fsync_dir(s->dirfd) != 0) {
		st = vq_fail(err, VQ_FAILED, errno, "can't sync %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	if ((st = vq_store_recover(s, err)) != VQ_OK || (st = vq_store_tidy(s, err)) != VQ_OK)
		goto fail;
	vq_store_unlock(s);
	free(dbpath);
	*out = s;
	return VQ_OK;
fail:
	free(dbpath);
	vq_store_close(s);
	return st;
}

enum vq_status vq_store_open_item(struct vq_store *s, const char *id, int *fdp,
				  struct vq_item **itp, struct vq_err *err)
{
	char name[VQ_ID_HEX + 8];
	struct vq_item *it;
	enum vq_status st;
	int fd;

	vq_item_name(id, name);
	fd = openat(s->itemsfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return vq_fail(err, VQ_DAMAGED, ENOENT,
				       "the file of item %s (%s/items/%s) is missing", id, s->dir, name);
		return vq_fail(err, VQ_FAILED, errno, "can't open %s/items/%s: %s", s->dir, name,
			       strerror(errno));
	}
	it = calloc(1, sizeof(*it));
	if (it == NULL) {
		close(fd);
		return vq_fail(err, VQ_FAILED, ENOMEM, "out of memory");
	}
	st = vq_item_read_header(fd, it, err);
	if (st == VQ_OK && strcmp(it->id, id) != 0)
		st = vq_fail(err, VQ_DAMAGED, 0, "%s/items/%s holds item %s", s->dir, name, it->id);
	if (st == VQ_OK && strcmp(it->key_id, s->key_id) != 0)
		st = vq_fail(err, VQ_DAMAGED, 0,
			     "item %s was encrypted with another key (key id %s, the store's is %s)",
			     id, it->key_id, s->key_id);
	if (st != VQ_OK) {
		if (st == VQ_DAMAGED && strncmp(err->msg, "item ", 5) != 0 &&
		    strncmp(err->msg, s->dir, strlen(s->dir)) != 0) {
			char detail[sizeof(err->msg)];
			snprintf(detail, sizeof(detail), "%s", err->msg);
			vq_fail(err, VQ_DAMAGED, err->sys, "%s/items/%s: %s", s->dir, name, detail);
		}
		vq_item_free(it);
		close(fd);
		return st;
	}
	*fdp = fd;
	*itp = it;
	return VQ_OK;
}

int vq_file_matches(const char *path, const struct vq_item *it)
{
	unsigned char sha[32];
	struct stat st;
	/* O_NOATIME: checking a restored file must not change what it restored. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOATIME);
	int ok = 0;

	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == it->size &&
	    vq_hash_fd(fd, it->size, sha, NULL) == VQ_OK && memcmp(sha, it->sha256, 32) == 0)
		ok = 1;
	close(fd);
	return ok;
}

enum vq_status vq_store_begin_op(struct vq_store *s, struct vq_err *err)
{
	enum vq_status st = vq_store_lock(s, err);

	if (st != VQ_OK)
		return st;
	st = vq_store_recover(s, err);
	if (st != VQ_OK)
		vq_store_unlock(s);
	return st;
}

enum vq_status vq_store_resolve(struct vq_store *s, const char *prefix, char id[VQ_ID_HEX + 1],
				struct vq_err *err)
{
	char lower[VQ_ID_HEX + 1], ids[2][VQ_ID_HEX + 1];
	size_t n = strlen(prefix), count = 0;
	enum vq_status st;

	if (n < 4 || n > VQ_ID_HEX)
		return vq_fail(err, VQ_NOTFOUND, 0,
			       "'%s' is not an item id (32 hexadecimal digits, or the first 4 or more "
			       "of them; see 'vigil quarantine list')",
			       prefix);
	for (size_t i = 0; i <= n; i++) {
		char c = prefix[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (c != '\0' && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return vq_fail(err, VQ_NOTFOUND, 0,
				       "'%s' is not an item id (hexadecimal digits only)", prefix);
		lower[i] = c;
	}
	if ((st = vq_store_begin_op(s, err)) != VQ_OK)
		return st;
	if (vq_index_prefix(s->db, lower, ids, &count, err) != 0)
		st = VQ_FAILED;
	else if (count == 0)
		st = vq_fail(err, VQ_NOTFOUND, 0, "no item %s in %s (see 'vigil quarantine list')",
			     prefix, s->dir);
	else if (count > 1)
		st = vq_fail(err, VQ_AMBIGUOUS, 0, "'%s' matches %zu items (%s, %s%s); give more digits",
			     prefix, count, ids[0], ids[1], count > 2 ? ", ..." : "");
	else
		memcpy(id, ids[0], VQ_ID_HEX + 1);
	vq_store_unlock(s);
	return st;
}

enum vq_status vq_store_get(struct vq_store *s, const char *id, struct vq_item **out,
			    struct vq_err *err)
{
	enum vq_status st;
	int fd;

	if ((st = vq_store_begin_op(s, err)) != VQ_OK)
		return st;
	st = vq_store_open_item(s, id, &fd, out, err);
	if (st == VQ_OK)
		close(fd);
	vq_store_unlock(s);
	return st;
}

enum vq_status vq_store_verify(struct vq_store *s, const char *id, struct vq_err *err)
{
	struct vq_item *it = NULL;
	enum vq_status st;
	int fd;

	if ((st = vq_store_begin_op(s, err)) != VQ_OK)
		return st;
	st = vq_store_open_item(s, id, &fd, &it, err);
	if (st == VQ_OK) {
		st = vq_item_decrypt(fd, it, s->key, -1, NULL, err);
		close(fd);
	}
	vq_item_free(it);
	vq_store_unlock(s);
	return st;
}

struct list_ctx {
	struct vq_store *s;
	vq_item_fn *fn;
	void *ctx;
};

static int list_one(void *ctx, const struct vq_item *it)
{
	struct list_ctx *l = ctx;
	struct vq_item copy = *it;
	char name[VQ_ID_HEX + 8];

	vq_item_name(it->id, name);
	copy.missing = faccessat(l->s->itemsfd, name, F_OK, AT_SYMLINK_NOFOLLOW) != 0;
	return l->fn(l->ctx, &copy);
}

enum vq_status vq_store_list(struct vq_store *s, vq_item_fn *fn, void *ctx, struct vq_err *err)
{
	struct list_ctx l = { s, fn, ctx };
	enum vq_status st;

	if ((st = vq_store_begin_op(s, err)) != VQ_OK)
		return st;
	if (vq_index_walk(s->db, list_one, &l, err) != 0)
		st = VQ_FAILED;
	vq_store_unlock(s);
	return st;
}
