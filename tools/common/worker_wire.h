/*
 * worker_wire.h - the messages between a broker (vigil scan, vigild) and a
 * sandboxed vigil-worker, over a SOCK_SEQPACKET socketpair.
 *
 * Every message has one fixed size, so a message of any other size (or a
 * truncated one) is a protocol violation. The broker sends one request per
 * file with exactly one descriptor attached (SCM_RIGHTS); the worker answers
 * with zero or more VW_MATCH replies and one VW_DONE reply carrying the
 * request's sequence number. Right after applying its sandbox the worker
 * sends one VW_HELLO saying which layers are in force.
 *
 * The worker is the untrusted side: the broker checks every field of every
 * reply (vw_reply_check) and treats anything unexpected as a failure of that
 * worker, which it then kills. A compromised worker can at most lie about
 * the verdict of the one file it was handed.
 */
#ifndef VT_WORKER_WIRE_H
#define VT_WORKER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <vigil.h>

#define VW_MAGIC_REQUEST 0x51524756u /* "VGRQ" little-endian */
#define VW_MAGIC_REPLY 0x50524756u   /* "VGRP" */
#define VW_WIRE_VERSION 1u

/* Descriptors of a freshly started worker (set up by the broker). */
#define VW_FD_SOCKET 3
#define VW_FD_IMAGE 4

enum vw_mode {
	VW_MODE_FD = 1,    /* vg_scan_fd() on the descriptor (a regular file) */
	VW_MODE_STREAM = 2 /* read the descriptor to its end through vg_scan_stream (pipes) */
};

struct vw_limits {
	uint64_t max_filesize;
	uint64_t max_scansize;
	uint64_t max_scantime_ms;
	uint32_t max_recursion;
	uint32_t max_files;
};

struct vw_request {
	uint32_t magic;
	uint32_t version;
	uint64_t seq;
	uint32_t mode;  /* enum vw_mode */
	uint32_t flags; /* enum vg_scan_flags */
	struct vw_limits limits;
};

enum vw_reply_type { VW_HELLO = 1, VW_MATCH = 2, VW_DONE = 3 };

/* Sandbox layers a worker reports in VW_HELLO. */
enum vw_layer {
	VW_LAYER_NO_NEW_PRIVS = 1u << 0,
	VW_LAYER_RLIMITS = 1u << 1,
	VW_LAYER_LANDLOCK = 1u << 2,   /* filesystem (ABI >= 1) */
	VW_LAYER_LANDLOCK_NET = 1u << 3, /* TCP bind/connect (ABI >= 4) */
	VW_LAYER_LANDLOCK_SCOPE = 1u << 4, /* signals, abstract sockets (ABI >= 6) */
	VW_LAYER_NETNS = 1u << 5,      /* an empty network namespace */
	VW_LAYER_SECCOMP = 1u << 6,    /* syscall allow-list, kill on anything else */
	VW_LAYER_UNSANDBOXED = 1u << 7 /* asked to run without a sandbox */
};

/* Why a layer is missing, in VW_HELLO (errno values of the failed call). */
struct vw_layer_errors {
	int32_t landlock;
	int32_t netns;
	int32_t seccomp;
	int32_t pad;
};

/* The last enum vg_sig_kind and enum vg_status value a worker may send:
 * raise these with the enums in vigil.h. */
#define VW_SIG_KIND_LAST VG_SIG_KIND_MAX
#define VW_STATUS_LAST VG_EUNSUPPORTED

#define VW_NAME_MAX 512   /* signature name, NUL included */
#define VW_DB_MAX 256     /* database file name, NUL included */
#define VW_PATH_AREA 3072 /* container path: depth NUL-terminated names */
#define VW_MAX_DEPTH 64   /* container names per match, at most */
#define VW_MAX_MATCHES 100000u /* matches per file, at most */

struct vw_reply {
	uint32_t magic;
	uint32_t version;
	uint32_t type; /* enum vw_reply_type */
	uint32_t pad0;
	uint64_t seq;  /* the request's; 0 in VW_HELLO */
	/* VW_HELLO */
	uint32_t layers;      /* enum vw_layer */
	int32_t landlock_abi; /* 0 when Landlock is missing */
	struct vw_layer_errors layer_errors;
	/* VW_DONE */
	int32_t status;  /* enum vg_status */
	int32_t err;     /* errno of the failure, 0 if none */
	uint32_t verdict; /* enum vg_verdict */
	uint32_t limit;   /* enum vg_limit_hit */
	uint32_t stopped;
	uint32_t matches; /* VW_MATCH replies sent before this one */
	uint64_t bytes_scanned;
	uint64_t bytes_read;
	/* VW_MATCH */
	uint32_t kind; /* enum vg_sig_kind */
	uint32_t offset_known;
	uint64_t offset;
	uint32_t depth;
	uint32_t has_database;
	char name[VW_NAME_MAX];
	char database[VW_DB_MAX];
	char path[VW_PATH_AREA];
};

/* 0 when r is a well-formed reply of its type (magic, version, enums in
 * range, strings terminated inside their fields, container path holding
 * exactly depth names); otherwise -1 with what is wrong in why. */
int vw_reply_check(const struct vw_reply *r, char *why, size_t whylen);

/* Fills the fixed fields of a request or reply. */
void vw_request_init(struct vw_request *q, uint64_t seq, uint32_t mode);
void vw_reply_init(struct vw_reply *r, uint32_t type, uint64_t seq);

/* Text of the layers, e.g. "no_new_privs rlimits landlock(abi 7: fs net
 * signals) netns seccomp". */
void vw_layers_text(uint32_t layers, int landlock_abi, char *buf, size_t len);

#endif /* VT_WORKER_WIRE_H */
