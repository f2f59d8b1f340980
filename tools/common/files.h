/*
 * files.h - whole-file reads with a size cap, and durable atomic
 * replacement (write a temporary file, fsync, rename, fsync the folder),
 * for state and metadata that must never be seen half-written.
 */
#ifndef VT_FILES_H
#define VT_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* Reads path into a malloc'd buffer with a NUL after the data. Fails (-1,
 * errno set; EFBIG when larger than max) with a message in err. */
int vt_file_read(const char *path, size_t max, char **data, size_t *len, char *err,
		 size_t errlen);

/* Replaces path with data atomically and durably. */
int vt_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err,
			 size_t errlen);

/* fsync the folder holding path (after a rename in it). */
int vt_fsync_parent(const char *path);
int vt_fsync_path(const char *path);

/* mkdir -p with mode for the folders created. */
int vt_mkdirs(const char *path, mode_t mode);

#endif /* VT_FILES_H */
