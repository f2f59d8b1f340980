/*
 * scan_walk.c - turning the command line and folder trees into records, in
 * the order clamscan visits them: arguments in order, folder entries in
 * readdir order (unsorted), depth first.
 *
 * Every file is examined with fstatat() relative to its folder and opened
 * with openat(O_NONBLOCK | O_NOFOLLOW), then checked again with fstat(): a
 * FIFO, socket or device is never opened in a way that can block, and an
 * entry swapped for a symlink between the two steps is not followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan.h"

static struct record *new_record(enum record_kind kind, char *path)
{
	struct record *r = xcalloc(1, sizeof(*r));

	r->kind = kind;
	r->path = path;
	r->fd = -1;
	return r;
}

static void push(struct scan_state *s, enum record_kind kind, char *path, int err)
{
	struct record *r = new_record(kind, path);

	r->err = err;
	pipeline_push(s->pipe, r);
}

/* clamscan's match_regex(): a pattern ending in '/' is matched against the
 * path with a '/' appended, so "--exclude-dir=sub/" matches the folder "sub". */
static int matches_any(const struct pattern_list *l, const char *path)
{
	for (size_t i = 0; i < l->count; i++) {
		size_t plen = strlen(l->text[i]);
		int hit;
		if (plen > 0 && l->text[i][plen - 1] == '/') {
			size_t n = strlen(path);
			char *p = malloc(n + 2);
			if (p == NULL)
				oom();
			memcpy(p, path, n);
			p[n] = '/';
			p[n + 1] = '\0';
			hit = regexec(&l->re[i], p, 0, NULL, 0) == 0;
			free(p);
		} else {
			hit = regexec(&l->re[i], path, 0, NULL, 0) == 0;
		}
		if (hit)
			return 1;
	}
	return 0;
}

static const char *special_name(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "FIFO";
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISCHR(mode))
		return "character device";
	if (S_ISBLK(mode))
		return "block device";
	return "unknown file type";
}

static char *join_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = malloc(dl + nl + 2);

	if (p == NULL)
		oom();
	memcpy(p, dir, dl);
	if (!(dl == 1 && dir[0] == '/'))
		p[dl++] = '/';
	memcpy(p + dl, name, nl + 1);
	return p;
}

/* A regular file: at (dirfd, name), reported as path (owned). st is what
 * fstatat() or stat() saw; follow says whether a symlink may be followed. */
static void scan_file(struct scan_state *s, int dirfd, const char *name, char *path,
		      const struct stat *st, int follow)
{
	const struct scan_config *cfg = s->cfg;
	struct record *r;
	struct stat fst;
	int fd, flags;

	if (matches_any(&cfg->exclude, path) ||
	    (cfg->include.count > 0 && !matches_any(&cfg->include, path))) {
		push(s, REC_EXCLUDED, path, 0);
		return;
	}
	if (s->have_proc_dev && st->st_dev == s->proc_dev) {
		push(s, REC_EXCLUDED_PROC, path, 0);
		return;
	}
	if (st->st_size == 0) {
		push(s, REC_EMPTY, path, 0);
		return;
	}

	flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
	fd = openat(dirfd, name, flags);
	if (fd < 0) {
		int err = errno;
		r = new_record(err == EACCES || err == EPERM ? REC_ACCESS_DENIED : REC_OPEN_FAILED,
			       path);
		r->err = err;
		/* clamscan counts the size of a file it cannot open in "Data read". */
		r->size = (uint64_t)st->st_size;
		r->counts_read = 1;
		pipeline_push(s->pipe, r);
		return;
	}
	if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
		/* Replaced by something else since it was examined. */
		r = new_record(REC_SPECIAL, path);
		r->what = special_name(fst.st_mode);
		close(fd);
		pipeline_push(s->pipe, r);
		return;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);

	r = new_record(REC_SCAN, path);
	r->fd = fd;
	r->st = fst;
	r->size = (uint64_t)fst.st_size;
	r->counts_read = 1;
	r->pending = 1;
	pipeline_push(s->pipe, r);
}

static int on_stack(const struct scan_state *s, const struct stat *st)
{
	for (size_t i = 0; i < s->stack_len; i++)
		if (s->stack[i].dev == st->st_dev && s->stack[i].ino == st->st_ino)
			return 1;
	return 0;
}

static void stack_push(struct scan_state *s, const struct stat *st)
{
	if (s->stack_len == s->stack_cap) {
		size_t ncap = s->stack_cap ? s->stack_cap * 2 : 16;
		void *n = realloc(s->stack, ncap * sizeof(*s->stack));
		if (n == NULL)
			oom();
		s->stack = n;
		s->stack_cap = ncap;
	}
	s->stack[s->stack_len].dev = st->st_dev;
	s->stack[s->stack_len].ino = st->st_ino;
	s->stack_len++;
}

static void walk_dir(struct scan_state *s, int parentfd, const char *name, char *path,
		     const struct stat *st, uint64_t depth, int via_link);

static void walk_entry(struct scan_state *s, int dirfd, const char *name, char *path,
		       uint64_t depth)
{
	const struct scan_config *cfg = s->cfg;
	struct stat st, target;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT) { /* removed while we were reading the folder */
			free(path);
			return;
		}
		push(s, REC_STAT_FAILED, path, errno);
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		if (cfg->follow_dir != 2 && cfg->follow_file != 2) {
			push(s, REC_SYMLINK, path, 0);
		} else if (fstatat(dirfd, name, &target, 0) != 0) {
			push(s, REC_SYMLINK, path, 0); /* dangling or looping link */
		} else if (S_ISREG(target.st_mode) && cfg->follow_file == 2) {
			scan_file(s, dirfd, name, path, &target, 1);
		} else if (S_ISDIR(target.st_mode) && cfg->follow_dir == 2) {
			if (cfg->recursive)
				walk_dir(s, dirfd, name, path, &target, depth, 1);
			else
				free(path);
		} else {
			push(s, REC_SYMLINK, path, 0);
		}
	} else if (S_ISREG(st.st_mode)) {
		scan_file(s, dirfd, name, path, &st, 0);
	} else if (S_ISDIR(st.st_mode)) {
		if (cfg->recursive)
			walk_dir(s, dirfd, name, path, &st, depth, 0);
		else
			free(path);
	} else {
		struct record *r = new_record(REC_SPECIAL, path);
		r->what = special_name(st.st_mode);
		pipeline_push(s->pipe, r);
	}
}

/* clamscan's scandirs(): filters, then the depth limit, then the entries.
 * depth is 1 for a folder named on the command line. */
static void walk_dir(struct scan_state *s, int parentfd, const char *name, char *path,
		     const struct stat *st, uint64_t depth, int via_link)
{
	const struct scan_config *cfg = s->cfg;
	struct dirent *de;
	struct stat dst;
	DIR *dir;
	int fd;

	if (matches_any(&cfg->exclude_dir, path) ||
	    (cfg->include_dir.count > 0 && !matches_any(&cfg->include_dir, path))) {
		push(s, REC_EXCLUDED, path, 0);
		return;
	}
	if (depth > cfg->max_dir_recursion) {
		push(s, REC_DEPTH_LIMIT, path, 0);
		return;
	}
	if (on_stack(s, st)) {
		/* Only a followed symlink (or a bind mount) can lead here. */
		push(s, via_link ? REC_SYMLINK_LOOP : REC_DIR_LOOP, path, 0);
		return;
	}
	fd = openat(parentfd, name,
		    O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC | (via_link ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		push(s, REC_DIR_FAILED, path, errno);
		return;
	}
	if (fstat(fd, &dst) != 0 || !S_ISDIR(dst.st_mode) || (dir = fdopendir(fd)) == NULL) {
		int err = errno ? errno : ENOTDIR;
		close(fd);
		push(s, REC_DIR_FAILED, path, err);
		return;
	}
	s->totals.dirs++;
	stack_push(s, &dst);
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (de == NULL) {
			if (errno != 0)
				push(s, REC_DIR_READ_FAILED, xstrdup(path), errno);
			break;
		}
		if (de->d_ino == 0 || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		walk_entry(s, dirfd(dir), de->d_name, join_path(path, de->d_name), depth + 1);
	}
	s->stack_len--;
	closedir(dir);
	free(path);
}

static void scan_stdin(struct scan_state *s)
{
	struct record *r = new_record(REC_SCAN, xstrdup("stdin"));

	/* Read and scanned here, by the main thread, so that two "-" arguments
	 * never read standard input at the same time. */
	r->is_stdin = 1;
	r->counts_read = 1;
	scan_work_record(s, r);
	pipeline_push(s->pipe, r);
}

/* clamscan's scan_files(): one argument. */
static void walk_argument(struct scan_state *s, const char *arg)
{
	const struct scan_config *cfg = s->cfg;
	struct stat st, target;
	char *path;
	size_t n;

	if (strcmp(arg, "-") == 0) {
		scan_stdin(s);
		return;
	}
	if (lstat(arg, &st) != 0) {
		push(s, REC_ARG_MISSING, xstrdup(arg), errno);
		return;
	}
	path = xstrdup(arg);
	for (n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		path[n - 1] = '\0';

	if (S_ISLNK(st.st_mode)) {
		if (cfg->follow_dir == 0 && cfg->follow_file == 0) {
			push(s, REC_SYMLINK, path, 0);
		} else if (stat(path, &target) != 0) {
			/* clamscan says nothing about a dangling link it was asked to
			 * scan; vigil reports it like a missing file. */
			push(s, REC_ARG_MISSING, path, errno);
		} else if (S_ISREG(target.st_mode) && cfg->follow_file) {
			scan_file(s, AT_FDCWD, path, path, &target, 1);
		} else if (S_ISDIR(target.st_mode) && cfg->follow_dir) {
			walk_dir(s, AT_FDCWD, path, path, &target, 1, 1);
		} else {
			push(s, REC_SYMLINK, path, 0);
		}
	} else if (S_ISREG(st.st_mode)) {
		scan_file(s, AT_FDCWD, path, path, &st, 1);
	} else if (S_ISDIR(st.st_mode)) {
		/* A trailing slash made lstat() resolve a link: open it as named. */
		walk_dir(s, AT_FDCWD, path, path, &st, 1, 1);
	} else {
		struct record *r = new_record(REC_ARG_UNSUPPORTED, path);
		r->what = special_name(st.st_mode);
		pipeline_push(s->pipe, r);
	}
}

void scan_walk_arguments(struct scan_state *s)
{
	const struct scan_config *cfg = s->cfg;

	if (cfg->path_count == 0) {
		/* As clamscan: the current folder, reported with absolute paths. */
		char *cwd = getcwd(NULL, 0);
		struct stat st;
		if (cwd == NULL || stat(cwd, &st) != 0) {
			vt_msg(s->out, VT_MSG_ERROR, 1,
			       "Can't get absolute pathname of current working directory: %s",
			       strerror(errno));
			free(cwd);
			s->arg_failed = 1;
			return;
		}
		walk_dir(s, AT_FDCWD, cwd, cwd, &st, 1, 1);
		return;
	}
	for (size_t i = 0; i < cfg->path_count; i++)
		walk_argument(s, cfg->paths[i]);
}
