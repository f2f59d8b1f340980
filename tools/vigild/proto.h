/*
 * proto.h - the clamd command framing and command table, as clamd 1.4.6
 * reads them. Pure functions over a byte buffer: no sockets, no state.
 *
 * Framing (docs/PROTOCOL.md has the whole story):
 *   zCOMMAND[ arg]\0      ends at NUL, replies end with NUL
 *   nCOMMAND[ arg]\n      ends at LF (trailing CR/LF stripped), replies end with LF
 *   COMMAND[ arg][\n]     "legacy": only at the start of what one read
 *                         returned; the whole read is the command
 *
 * The functions write into the buffer exactly where clamd does (the
 * terminator becomes NUL, a CR before LF is cut), so what is left for the
 * next command is byte for byte what clamd would see. The buffer must have
 * one spare byte after len (legacy commands are NUL-terminated there).
 */
#ifndef VIGILD_PROTO_H
#define VIGILD_PROTO_H

#include <stddef.h>

/* clamd's command buffer: PATH_MAX + 8. A command that does not fit is a
 * protocol error (the connection is closed). */
#define VD_CMD_BUFSIZE 4104u

enum vd_cmd {
	VD_CMD_UNKNOWN = 0,
	VD_CMD_SCAN,
	VD_CMD_SHUTDOWN, /* SHUTDOWN and QUIT */
	VD_CMD_RELOAD,
	VD_CMD_PING,
	VD_CMD_CONTSCAN,
	VD_CMD_VERSIONCOMMANDS,
	VD_CMD_VERSION,
	VD_CMD_END,
	VD_CMD_MULTISCAN,
	VD_CMD_FILDES,
	VD_CMD_STATS,
	VD_CMD_IDSESSION,
	VD_CMD_INSTREAM,
	VD_CMD_DETSTATSCLEAR,
	VD_CMD_DETSTATS,
	VD_CMD_ALLMATCHSCAN
};

/* One framed command found in a buffer. */
struct vd_frame {
	char *text;      /* command text after the prefix, NUL-terminated in place */
	size_t text_off; /* offset of text in the buffer */
	size_t cmdlen;   /* clamd's command length: prefix included, CR/LF cut */
	size_t term_off; /* where the terminator was (restored for FILDES) */
	char term;       /* '\0' for z, '\n' for n and legacy */
	int oldstyle;    /* legacy framing */
};

/* The next command at buf[off..len). Legacy framing is considered only when
 * off is 0. Returns 1 with *f filled, 0 when the command is not complete. */
int vd_proto_next(unsigned char *buf, size_t len, size_t off, struct vd_frame *f);

/* Identify a command and its argument as clamd does: the first table entry
 * that is a prefix of text wins; a command that takes an argument skips
 * exactly one character after its name (usually the space); one that takes
 * none must end there. Legacy framing is refused for IDSESSION, INSTREAM,
 * END, VERSIONCOMMANDS and ALLMATCHSCAN. *arg is set for commands with an
 * argument, NULL otherwise. */
enum vd_cmd vd_proto_parse(const char *text, int oldstyle, const char **arg);

/* The command list VERSIONCOMMANDS prints, in clamd's order. */
extern const char vd_proto_command_list[];

/* Name of a command for logs and STATS ("SCAN", "INSTREAM", ...). */
const char *vd_proto_name(enum vd_cmd cmd);

#endif /* VIGILD_PROTO_H */
