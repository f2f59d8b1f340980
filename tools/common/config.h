/*
 * config.h - configuration files of `Key value` lines, as clamd.conf:
 *
 *     # comment
 *     DatabaseDirectory /var/lib/vigil/db
 *     ExcludePath ^/proc/
 *
 * One option per line; the key ends at the first blank, the value is the
 * rest of the line without surrounding blanks (a pair of enclosing double
 * quotes is removed). Keys compare case-insensitively. A key may repeat;
 * single-valued options take the last occurrence. Keys the program does not
 * know are reported through the warning callback and otherwise ignored, so a
 * file shared by several vigil commands (scan, update, quarantine) works.
 */
#ifndef VT_CONFIG_H
#define VT_CONFIG_H

#include <stddef.h>

struct vt_config_entry {
	char *key;
	char *value;
	unsigned line;
};

struct vt_config {
	char *path; /* NULL when no file was read */
	struct vt_config_entry *entries;
	size_t count;
};

typedef void vt_config_warn_fn(void *ctx, const char *msg);

/* Read path into *out. A file that does not exist is an error only when
 * required is set; otherwise *out is left empty and 0 is returned. known is a
 * NULL-terminated list of the keys the caller understands; unknown keys are
 * passed to warn (may be NULL). On failure returns -1 with a one-line message
 * naming file:line in err. */
int vt_config_load(const char *path, int required, const char *const *known,
		   vt_config_warn_fn *warn, void *warn_ctx, struct vt_config *out,
		   char *err, size_t errlen);

/* Last entry with this key, or NULL. */
const struct vt_config_entry *vt_config_last(const struct vt_config *cfg, const char *key);

/* Next entry with this key after prev (NULL: the first), in file order. */
const struct vt_config_entry *vt_config_next(const struct vt_config *cfg, const char *key,
					     const struct vt_config_entry *prev);

void vt_config_free(struct vt_config *cfg);

/* Every key of vigil.conf this version knows (all vigil commands), for
 * vt_config_load's known list. NULL-terminated. */
extern const char *const vt_vigil_conf_keys[];

#endif /* VT_CONFIG_H */
