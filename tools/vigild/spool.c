/*
 * spool.c - INSTREAM data until the end of the stream.
 *
 * Small streams (most mail) stay in memory: up to VD_SPOOL_MEM bytes each,
 * and VD_SPOOL_MEM_TOTAL for all connections together. Beyond that the data
 * goes to an unlinked file in TemporaryDirectory, as clamd does with every
 * stream, so memory stays bounded whatever the clients send; the size of a
 * stream is bounded by StreamMaxLength before it gets here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define VD_SPOOL_MEM (1024u * 1024u)
#define VD_SPOOL_MEM_TOTAL (128u * 1024u * 1024u)

struct vd_spool {
	struct vd_daemon *d;
	unsigned char *mem;
	size_t len, cap;  /* cap is what this stream holds of the daemon's budget */
	int fd;           /* -1 while in memory */
};

struct vd_spool *vd_spool_new(struct vd_daemon *d)
{
	struct vd_spool *sp = calloc(1, sizeof(*sp));

	if (sp == NULL)
		return NULL;
	sp->d = d;
	sp->fd = -1;
	return sp;
}

static int open_tmp(const char *dir)
{
	char path[4096];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* Filesystems without O_TMPFILE. */
	if ((size_t)snprintf(path, sizeof(path), "%s/vigild-stream.XXXXXX", dir) >= sizeof(path))
		return -1;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static int write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void release_mem(struct vd_spool *sp)
{
	if (sp->cap > 0)
		atomic_fetch_sub(&sp->d->stream_mem, sp->cap);
	free(sp->mem);
	sp->mem = NULL;
	sp->cap = 0;
}

static int spill(struct vd_spool *sp)
{
	int fd = open_tmp(sp->d->s->tmpdir);

	if (fd < 0) {
		vd_log(VD_LOG_ERROR, "INSTREAM: can't create a temporary file in %s: %s",
		       sp->d->s->tmpdir, strerror(errno));
		return -1;
	}
	if (sp->len > 0 && write_all(fd, sp->mem, sp->len) != 0) {
		vd_log(VD_LOG_ERROR, "INSTREAM: can't write to a temporary file in %s: %s",
		       sp->d->s->tmpdir, strerror(errno));
		close(fd);
		return -1;
	}
	release_mem(sp);
	sp->fd = fd;
	return 0;
}

/* Grow the memory buffer to hold need bytes, within both budgets. */
static int grow(struct vd_spool *sp, size_t need)
{
	size_t ncap = sp->cap ? sp->cap : 16384;
	unsigned char *n;

	while (ncap < need)
		ncap *= 2;
	if (ncap > VD_SPOOL_MEM)
		return -1;
	if (atomic_fetch_add(&sp->d->stream_mem, ncap - sp->cap) + (ncap - sp->cap) >
	    VD_SPOOL_MEM_TOTAL) {
		atomic_fetch_sub(&sp->d->stream_mem, ncap - sp->cap);
		return -1;
	}
	n = realloc(sp->mem, ncap);
	if (n == NULL) {
		atomic_fetch_sub(&sp->d->stream_mem, ncap - sp->cap);
		return -1;
	}
	sp->mem = n;
	sp->cap = ncap;
	return 0;
}

int vd_spool_write(struct vd_spool *sp, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (sp->fd < 0) {
		if (sp->len + len <= sp->cap || grow(sp, sp->len + len) == 0) {
			memcpy(sp->mem + sp->len, data, len);
			sp->len += len;
			return 0;
		}
		if (spill(sp) != 0)
			return -1;
	}
	if (write_all(sp->fd, data, len) != 0) {
		vd_log(VD_LOG_ERROR, "INSTREAM: can't write to a temporary file in %s: %s",
		       sp->d->s->tmpdir, strerror(errno));
		return -1;
	}
	sp->len += len;
	return 0;
}

void vd_spool_view(struct vd_spool *sp, const unsigned char **mem, size_t *len, int *fd)
{
	*mem = NULL;
	*len = sp->len;
	*fd = -1;
	if (sp->fd >= 0) {
		(void)lseek(sp->fd, 0, SEEK_SET);
		*fd = sp->fd;
	} else {
		*mem = sp->mem;
	}
}

void vd_spool_free(struct vd_spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd >= 0) {
		/* Give the space back at once, even if something keeps the fd. */
		if (ftruncate(sp->fd, 0) != 0)
			vd_log(VD_LOG_DEBUG, "INSTREAM: ftruncate: %s", strerror(errno));
		close(sp->fd);
	}
	release_mem(sp);
	free(sp);
}
