#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const vt_vigil_conf_keys[] = {
	/* databases (clamd.conf meaning) */
	"DatabaseDirectory",
	/* databases (vigil) */
	"BundledDatabase", "ClamAVDatabaseDirectory", "Database",
	/* scanning (clamd.conf meaning) */
	"MaxFileSize", "MaxScanSize", "MaxRecursion", "MaxFiles", "MaxScanTime",
	"MaxDirectoryRecursion", "FollowDirectorySymlinks", "FollowFileSymlinks",
	"ExcludePath", "DetectPUA", "OfficialDatabaseOnly", "AlertExceedsMax", "AlertEncrypted", "LogFile", "MaxThreads",
	/* compiled-database cache (vigil) */
	"CacheDirectory",
	"QuarantineDirectory", /* quarantine store (vigil) */
	/* updates (vigil update, docs/UPDATES.md) */
	"UpdateMirror", "UpdateRoot", "UpdateStateDirectory", "UpdateTimeout", "UpdateNotifySocket",
	"ClamAVMirror", "ClamAVDatabase",
	NULL
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_known(const char *const *known, const char *key)
{
	for (; known != NULL && *known != NULL; known++)
		if (strcasecmp(*known, key) == 0)
			return 1;
	return 0;
}

static int add_entry(struct vt_config *cfg, size_t *cap, const char *key, size_t keylen,
		     const char *value, size_t valuelen, unsigned line)
{
	if (cfg->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct vt_config_entry *n = realloc(cfg->entries, ncap * sizeof(*n));
		if (n == NULL)
			return -1;
		cfg->entries = n;
		*cap = ncap;
	}
	struct vt_config_entry *e = &cfg->entries[cfg->count];
	e->key = strndup(key, keylen);
	e->value = strndup(value, valuelen);
	e->line = line;
	if (e->key == NULL || e->value == NULL) {
		free(e->key);
		free(e->value);
		return -1;
	}
	cfg->count++;
	return 0;
}

int vt_config_load(const char *path, int required, const char *const *known,
		   vt_config_warn_fn *warn, void *warn_ctx, struct vt_config *out,
		   char *err, size_t errlen)
{
	struct vt_config cfg = { 0 };
	size_t cap = 0;
	char *line = NULL;
	size_t linecap = 0;
	unsigned lineno = 0;
	int rc = -1;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		if (errno == ENOENT && !required) {
			memset(out, 0, sizeof(*out));
			return 0;
		}
		snprintf(err, errlen, "Can't open config file %s: %s", path, strerror(errno));
		return -1;
	}
	cfg.path = strdup(path);
	if (cfg.path == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		errno = 0;
		ssize_t n = getline(&line, &linecap, f);
		if (n < 0) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
				goto out;
			}
			break;
		}
		lineno++;
		if ((size_t)n != strlen(line)) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
			goto out;
		}
		char *p = line;
		while (is_blank(*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		const char *key = p;
		while (*p != '\0' && !is_blank(*p))
			p++;
		size_t keylen = (size_t)(p - key);
		while (is_blank(*p))
			p++;
		char *value = p;
		size_t valuelen = strlen(value);
		while (valuelen > 0 && is_blank(value[valuelen - 1]))
			valuelen--;
		if (valuelen >= 2 && value[0] == '"' && value[valuelen - 1] == '"') {
			value++;
			valuelen -= 2;
		}
		if (valuelen == 0) {
			snprintf(err, errlen, "%s:%u: option '%.*s' needs a value", path, lineno,
				 (int)keylen, key);
			goto out;
		}
		if (add_entry(&cfg, &cap, key, keylen, value, valuelen, lineno) != 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto out;
		}
		if (!is_known(known, cfg.entries[cfg.count - 1].key) && warn != NULL) {
			char msg[512];
			snprintf(msg, sizeof(msg), "%s:%u: unknown option '%s' ignored", path, lineno,
				 cfg.entries[cfg.count - 1].key);
			warn(warn_ctx, msg);
		}
	}
	*out = cfg;
	memset(&cfg, 0, sizeof(cfg));
	rc = 0;
out:
	free(line);
	fclose(f);
	vt_config_free(&cfg);
	return rc;
}

const struct vt_config_entry *vt_config_next(const struct vt_config *cfg, const char *key,
					     const struct vt_config_entry *prev)
{
	size_t i = prev == NULL ? 0 : (size_t)(prev - cfg->entries) + 1;

	for (; i < cfg->count; i++)
		if (strcasecmp(cfg->entries[i].key, key) == 0)
			return &cfg->entries[i];
	return NULL;
}

const struct vt_config_entry *vt_config_last(const struct vt_config *cfg, const char *key)
{
	for (size_t i = cfg->count; i > 0; i--)
		if (strcasecmp(cfg->entries[i - 1].key, key) == 0)
			return &cfg->entries[i - 1];
	return NULL;
}

void vt_config_free(struct vt_config *cfg)
{
	for (size_t i = 0; i < cfg->count; i++) {
		free(cfg->entries[i].key);
		free(cfg->entries[i].value);
	}
	free(cfg->entries);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
