/* The compiled-database cache: one file per set of inputs, named by the
 * SHA-256 of everything that decides its content, written atomically,
 * mapped read-only, checksummed on every open. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hs/hs.h>
#include <openssl/evp.h>

#include "engine/engine.h"
#include "match/pattern.h"

static void key_add(EVP_MD_CTX *md, const void *p, size_t n)
{
	EVP_DigestUpdate(md, p, n);
}

static void key_add_str(EVP_MD_CTX *md, const char *s)
{
	key_add(md, s, strlen(s) + 1);
}

static void key_add_stat(EVP_MD_CTX *md, const char *name, const struct stat *st)
{
	int64_t v[8] = {(int64_t)st->st_dev, (int64_t)st->st_ino, (int64_t)st->st_size,
			(int64_t)st->st_mtim.tv_sec, (int64_t)st->st_mtim.tv_nsec,
			(int64_t)st->st_ctim.tv_sec, (int64_t)st->st_ctim.tv_nsec,
			(int64_t)st->st_mode};
	key_add_str(md, name);
	key_add(md, v, sizeof(v));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder's fingerprint: every entry the loader could read, sorted. */
static vg_status key_add_dir(EVP_MD_CTX *md, const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	vg_status rc = VG_OK;

	if (!d)
		return VG_EIO;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **p;
			if (cap >= VG_MAX_DB_FILES) {
				rc = VG_ELIMIT;
				goto out;
			}
			p = vg_reallocarray(names, cap ? cap * 2 : 32, sizeof(char *));
			if (!p) {
				rc = VG_ENOMEM;
				goto out;
			}
			names = p;
			cap = cap ? cap * 2 : 32;
		}
		names[n] = vg_strndup(de->d_name, strlen(de->d_name));
		if (!names[n]) {
			rc = VG_ENOMEM;
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char full[4096];
		struct stat st;
		if (snprintf(full, sizeof(full), "%s/%s", path, names[i]) >= (int)sizeof(full))
			continue;
		if (stat(full, &st) == 0)
			key_add_stat(md, names[i], &st);
		else
			key_add_str(md, names[i]);
	}
out:
	for (size_t i = 0; i < n; i++)
		vg_free(names[i]);
	vg_free(names);
	closedir(d);
	return rc;
}

vg_status cache_key(const struct vg_engine *e, uint8_t key[IMAGE_KEY_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	/* the compiled pattern layout is used in place: its version is part of
	 * what makes a cache valid */
	uint32_t meta[4] = {IMAGE_FORMAT, PATTERN_FORMAT, e->opts.flevel, e->opts.flags};
	vg_status rc = VG_OK;
	unsigned n = 0;

	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return VG_ENOMEM;
	}
	key_add_str(md, "vigil compiled database");
	key_add_str(md, VG_VERSION_STRING);
	key_add_str(md, hs_version()); /* its serialised databases are version-bound */
	key_add(md, meta, sizeof(meta));
	for (size_t i = 0; i < e->ninputs && rc == VG_OK; i++) {
		struct stat st;
		/* "db", "./db" and "/abs/db" are one input: key on the canonical
		 * name when it resolves (replayed notices keep the spelling of
		 * the load that built the cache) */
		char *canon = realpath(e->inputs[i].path, NULL);
		key_add_str(md, canon ? canon : e->inputs[i].path);
		free(canon);
		key_add(md, &e->inputs[i].flags, sizeof(e->inputs[i].flags));
		if (stat(e->inputs[i].path, &st) != 0)
			continue;
		key_add_stat(md, "", &st);
		if (S_ISDIR(st.st_mode))
			rc = key_add_dir(md, e->inputs[i].path);
	}
	if (rc == VG_OK && !EVP_DigestFinal_ex(md, key, &n))
		rc = VG_ENOMEM;
	EVP_MD_CTX_free(md);
	return rc;
}

static bool private_to_us(const struct stat *st)
{
	return st->st_uid == geteuid() && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool cache_dir_usable(const struct vg_engine *e)
{
	struct stat st;

	if (lstat(e->cache_dir, &st) != 0) {
		if (errno != ENOENT || mkdir(e->cache_dir, 0700) != 0 || lstat(e->cache_dir, &st) != 0) {
			vg_log(&e->user_log, VG_LOG_WARNING,
			       "%s: cannot use as cache folder (%s); compiling without a cache",
			       e->cache_dir, strerror(errno));
			return false;
		}
	}
	if (!S_ISDIR(st.st_mode) || !private_to_us(&st)) {
		vg_log(&e->user_log, VG_LOG_WARNING,
		       "%s: not used as cache folder: it must be a folder owned by uid %u and "
		       "writable by no one else (chmod go-w)", e->cache_dir, (unsigned)geteuid());
		return false;
	}
	return true;
}

static void cache_path(const struct vg_engine *e, const uint8_t key[IMAGE_KEY_LEN], char *out,
		       size_t len)
{
	char hex[2 * IMAGE_KEY_LEN + 1];

	for (unsigned i = 0; i < IMAGE_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	snprintf(out, len, "%s/%s.vgc", e->cache_dir, hex);
}

vg_status cache_open(const struct vg_engine *e, const uint8_t key[IMAGE_KEY_LEN],
		     struct scan_db **out, int *keep_fd)
{
	char path[4200];
	struct stat st;
	void *map;
	vg_status rc;
	int fd;

	cache_path(e, key, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return VG_ENODB;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !private_to_us(&st) ||
	    st.st_size < 64) {
		vg_log(&e->user_log, VG_LOG_WARNING, "%s: ignoring cache file (wrong owner, mode or size)",
		       path);
		close(fd);
		return VG_EFORMAT;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	/* mark it used, for the clean-up of cache files nobody opens any more */
	(void)futimens(fd, NULL);
	if (map == MAP_FAILED) {
		close(fd);
		return VG_EIO;
	}
	rc = scan_db_open(map, (size_t)st.st_size, false, map, (size_t)st.st_size, true, out);
	if (rc == VG_OK && memcmp(scan_db_key(*out), key, IMAGE_KEY_LEN) != 0) {
		scan_db_free(*out);
		rc = VG_EFORMAT;
	}
	/* the file (never rewritten in place) can serve other processes */
	if (rc == VG_OK && keep_fd != NULL)
		*keep_fd = fd;
	else
		close(fd);
	if (rc == VG_EFORMAT) {
		vg_log(&e->user_log, VG_LOG_WARNING,
		       "%s: cache file is damaged or from another build; rebuilding it", path);
		unlink(path);
	}
	return rc;
}

static bool write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Removes cache files unused for VG_CACHE_MAX_IDLE_DAYS and leftovers of
 * interrupted writes, so that changing databases does not fill the disk. */
static void clean_old_files(const struct vg_engine *e)
{
	DIR *d = opendir(e->cache_dir);
	struct dirent *de;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		bool cache_file = n == 2 * IMAGE_KEY_LEN + 4 && strcmp(de->d_name + n - 4, ".vgc") == 0;
		bool leftover = strncmp(de->d_name, ".tmp-", 5) == 0;
		struct stat st;

		if ((!cache_file && !leftover) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (now - st.st_mtime > (leftover ? 86400 : VG_CACHE_MAX_IDLE_DAYS * 86400))
			(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

vg_status cache_store(const struct vg_engine *e, const uint8_t key[IMAGE_KEY_LEN], uint8_t *image,
		      size_t len, struct scan_db **out, bool *stored, int *keep_fd)
{
	char path[4200], tmp[4200];
	int fd;

	*stored = false;
	clean_old_files(e);
	cache_path(e, key, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", e->cache_dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd >= 0) {
		/* the old file, if any, stays valid until the rename */
		bool ok = write_all(fd, image, len) && fsync(fd) == 0;
		ok = close(fd) == 0 && ok;
		if (ok && rename(tmp, path) == 0) {
			*stored = true;
		} else {
			vg_log(&e->user_log, VG_LOG_WARNING, "%s: cannot write cache file (%s)", path,
			       strerror(errno));
			unlink(tmp);
		}
	} else {
		vg_log(&e->user_log, VG_LOG_WARNING, "%s: cannot write cache file (%s)", e->cache_dir,
		       strerror(errno));
	}
	if (*stored && cache_open(e, key, out, keep_fd) == VG_OK) {
		vg_free(image); /* the mapped file serves from now on */
		return VG_OK;
	}
	return scan_db_open(image, len, true, NULL, 0, false, out);
}
