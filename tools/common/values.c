#include "values.h"

#include <stddef.h>
#include <strings.h>

static int parse_digits(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

int vt_parse_size(const char *text, uint64_t *out)
{
	const char *p = text;
	uint64_t v, mult = 1;

	if (text == NULL || parse_digits(&p, &v) != 0)
		return -1;
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1024u;
		p++;
		break;
	case 'm':
	case 'M':
		mult = 1024u * 1024u;
		p++;
		break;
	case 'g':
	case 'G':
		mult = 1024u * 1024u * 1024u;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0')
		return -1;
	if (v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

int vt_parse_count(const char *text, uint64_t max, uint64_t *out)
{
	const char *p = text;
	uint64_t v;

	if (text == NULL || parse_digits(&p, &v) != 0 || *p != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int vt_parse_bool(const char *text, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	if (text == NULL)
		return -1;
	for (unsigned i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}
