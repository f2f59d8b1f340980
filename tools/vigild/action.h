/*
 * action.h - acting on detections through the privileged helper
 * vigil-actd (docs/QUARANTINE.md section 6, vigild.conf(5) DetectionAction).
 */
#ifndef VIGILD_ACTION_H
#define VIGILD_ACTION_H

#include <stddef.h>
#include <sys/stat.h>

#include "settings.h"

/* Starts vigil-actd when DetectionAction asks for it. Call while still
 * privileged, before dropping to User. Returns 0 or -1 (logged). */
int vd_action_start(const struct vd_settings *s);

/* Whether detections are acted on. */
int vd_action_enabled(void);

/* Hands a detected file to the helper and logs the outcome. fd: the
 * scanned file, read-only; scanned: fstat(fd) when the scan opened it.
 * Thread-safe; requests are served one at a time. Never changes what the
 * client is told. */
void vd_action_found(int fd, const char *path, const struct stat *scanned,
		     const char *const *names, size_t count);

/* Closes the helper's socket and waits for it to exit (killing it, by its
 * process id, if it does not within a few seconds). */
void vd_action_stop(void);

#endif
