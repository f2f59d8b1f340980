/*
 * proto.c - clamd command framing and command table (see proto.h).
 *
 * The quirks reproduced here were measured against clamd 1.4.6 with a raw
 * socket client (tests/daemon/test_diff.py keeps them honest):
 *   - "zSCANX /p" is SCAN with the argument " /p" (one character skipped);
 *   - "nSCAN /p\r\n" leaves the LF behind (clamd then reports garbage);
 *   - an n-command holding a NUL ends at the NUL, the rest stays queued;
 *   - legacy framing takes the whole read up to the first LF.
 */
#include "proto.h"

#include <string.h>

struct cmd_entry {
	const char *name;
	size_t len;
	enum vd_cmd cmd;
	int need_arg;
	int support_old;
};

#define ENTRY(n, c, a, o) { n, sizeof(n) - 1, c, a, o }

/* clamd's table, in clamd's order: the first prefix match wins, so
 * VERSIONCOMMANDS must come before VERSION and DETSTATSCLEAR before DETSTATS. */
static const struct cmd_entry commands[] = {
	ENTRY("SCAN", VD_CMD_SCAN, 1, 1),
	ENTRY("QUIT", VD_CMD_SHUTDOWN, 0, 1),
	ENTRY("RELOAD", VD_CMD_RELOAD, 0, 1),
	ENTRY("PING", VD_CMD_PING, 0, 1),
	ENTRY("CONTSCAN", VD_CMD_CONTSCAN, 1, 1),
	ENTRY("VERSIONCOMMANDS", VD_CMD_VERSIONCOMMANDS, 0, 0),
	ENTRY("VERSION", VD_CMD_VERSION, 0, 1),
	ENTRY("END", VD_CMD_END, 0, 0),
	ENTRY("SHUTDOWN", VD_CMD_SHUTDOWN, 0, 1),
	ENTRY("MULTISCAN", VD_CMD_MULTISCAN, 1, 1),
	ENTRY("FILDES", VD_CMD_FILDES, 0, 1),
	ENTRY("STATS", VD_CMD_STATS, 0, 0),
	ENTRY("IDSESSION", VD_CMD_IDSESSION, 0, 0),
	ENTRY("INSTREAM", VD_CMD_INSTREAM, 0, 0),
	ENTRY("DETSTATSCLEAR", VD_CMD_DETSTATSCLEAR, 0, 1),
	ENTRY("DETSTATS", VD_CMD_DETSTATS, 0, 1),
	ENTRY("ALLMATCHSCAN", VD_CMD_ALLMATCHSCAN, 1, 0),
};

const char vd_proto_command_list[] =
	"SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS VERSION END SHUTDOWN MULTISCAN "
	"FILDES STATS IDSESSION INSTREAM DETSTATSCLEAR DETSTATS ALLMATCHSCAN";

/* clamd's cli_chomp(): cut trailing CR and LF, return the new length. */
static size_t chomp(char *s)
{
	size_t l = strlen(s);

	while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == '\r'))
		s[--l] = '\0';
	return l;
}

int vd_proto_next(unsigned char *buf, size_t len, size_t off, struct vd_frame *f)
{
	unsigned char *pos;

	if (len == 0 || off >= len)
		return 0;
	memset(f, 0, sizeof(*f));
	f->term = '\n';
	switch (buf[off]) {
	case 'z':
		f->term = '\0';
		pos = memchr(buf + off, '\0', len - off);
		if (pos == NULL)
			return 0;
		f->cmdlen = (size_t)(pos - buf) - off;
		f->term_off = (size_t)(pos - buf);
		break;
	case 'n':
		pos = memchr(buf + off, '\n', len - off);
		if (pos == NULL)
			return 0;
		*pos = '\0';
		f->cmdlen = chomp((char *)buf + off);
		f->term_off = off + f->cmdlen;
		break;
	default:
		/* One read is one command. */
		if (off != 0)
			return 0;
		pos = memchr(buf, '\n', len);
		if (pos != NULL) {
			f->cmdlen = (size_t)(pos - buf);
			*pos = '\0';
		} else {
			f->cmdlen = len;
			buf[len] = '\0'; /* the spare byte */
		}
		(void)chomp((char *)buf);
		f->term_off = f->cmdlen;
		f->oldstyle = 1;
		f->text = (char *)buf;
		f->text_off = 0;
		return 1;
	}
	f->text = (char *)buf + off + 1;
	f->text_off = off + 1;
	return 1;
}

enum vd_cmd vd_proto_parse(const char *text, int oldstyle, const char **arg)
{
	*arg = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct cmd_entry *c = &commands[i];
		const char *rest;

		if (strncmp(text, c->name, c->len) != 0)
			continue;
		rest = text + c->len;
		if (c->need_arg) {
			if (*rest == '\0')
				return VD_CMD_UNKNOWN;
			*arg = rest + 1;
		} else if (*rest != '\0') {
			return VD_CMD_UNKNOWN;
		}
		if (oldstyle && !c->support_old) {
			*arg = NULL;
			return VD_CMD_UNKNOWN;
		}
		return c->cmd;
	}
	return VD_CMD_UNKNOWN;
}

const char *vd_proto_name(enum vd_cmd cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].cmd == cmd && cmd != VD_CMD_SHUTDOWN)
			return commands[i].name;
	return cmd == VD_CMD_SHUTDOWN ? "SHUTDOWN" : "UNKNOWN";
}
