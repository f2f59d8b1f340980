/*
 * action_wire.h - the requests vigild sends to its privileged helper,
 * vigil-actd, and the replies (docs/QUARANTINE.md section 6).
 *
 * One request is one SOCK_SEQPACKET message: a fixed header, the file's
 * absolute path and its detection names, plus exactly one descriptor (the
 * scanned file, read-only) passed with SCM_RIGHTS. One reply is one
 * fixed-size message. Both ends are on the same machine: host byte order.
 *
 * The helper trusts nothing in a request: vt_action_decode checks every
 * length and character, and the helper then checks the descriptor, the
 * path policy and the file's identity itself.
 */
#ifndef VT_ACTION_WIRE_H
#define VT_ACTION_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define VT_ACTION_REQ_MAGIC 0x52414756u /* "VGAR" */
#define VT_ACTION_REP_MAGIC 0x50414756u /* "VGAP" */
#define VT_ACTION_VERSION 1u
#define VT_ACTION_MAX_PATH 4095u
#define VT_ACTION_MAX_NAMES 4096u      /* bytes of '\n'-separated names */
#define VT_ACTION_MAX_NAME_COUNT 64u
#define VT_ACTION_MAX_PACKET 16384u

enum vt_action { VT_ACTION_QUARANTINE = 1 };

struct vt_action_req_hdr {
	uint32_t magic, version, action;
	uint32_t path_len, names_len, reserved;
	uint64_t dev, ino, size;
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

/* A decoded request; path and names point into names_buf/path_buf. */
struct vt_action_req {
	enum vt_action action;
	uint64_t dev, ino, size;
	struct timespec mtime, ctime;
	char path[VT_ACTION_MAX_PATH + 1];
	char names_buf[VT_ACTION_MAX_NAMES + 1];
	const char *names[VT_ACTION_MAX_NAME_COUNT];
	size_t name_count;
};

struct vt_action_rep {
	uint32_t magic;
	uint32_t status;  /* enum vq_status of the helper's work */
	char id[40];      /* the quarantine item id on success */
	char msg[1024];   /* one line: what happened or why not */
};

/* Writes a request into buf; returns its length, or 0 when it does not fit
 * (path or names too long, a name with a newline or control character). */
size_t vt_action_encode(uint8_t *buf, size_t cap, enum vt_action action, const char *path,
			const struct stat *scanned, const char *const *names, size_t count);

/* Checks and decodes one received request. Returns 0, or -1 with a one-line
 * reason in err. */
int vt_action_decode(const uint8_t *buf, size_t len, struct vt_action_req *out, char *err,
		     size_t errlen);

/* path is dir itself or inside it, component by component ("/srv/a" is
 * not inside "/srv/ab"); dir "/" contains everything. Both absolute. */
int vt_path_within(const char *path, const char *dir);

/* Sends buf with fd attached (fd < 0: none). Returns 0 or -1 (errno). */
int vt_send_fd(int sock, const void *buf, size_t len, int fd);

/* Receives one message of at most cap bytes. *fd gets the one descriptor
 * attached (close-on-exec), or -1; extra descriptors are closed and make
 * the message invalid, as does truncation. Returns the length, 0 at end of
 * stream, -1 on error (errno; EBADMSG for an invalid message). */
long vt_recv_fd(int sock, void *buf, size_t cap, int *fd);

#endif
