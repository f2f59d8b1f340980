/*
 * actd.c - vigil-actd, the privileged helper that acts on vigild's
 * detections (docs/QUARANTINE.md section 6).
 *
 * vigild runs unprivileged. When its configuration says to quarantine what
 * it finds, it starts this program while still root and keeps one end of a
 * SOCK_SEQPACKET socket pair; the helper keeps root and does only this:
 * read a request (a path, detection names and the scanned file's read-only
 * descriptor), check it, move the file into the quarantine store, reply.
 * It never reads file content except to copy it into the store, never
 * parses it, and refuses anything outside the configured folders.
 *
 * Usage: vigil-actd --fd N --store DIR --include PATH [--include PATH ...]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action_wire.h"
#include "quarantine.h"

#define MAX_INCLUDES 64

/* Folders no request may reach, whatever the configuration says: the
 * system itself, kernel interfaces, and the store. */
static const char *const never[] = {
	"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
	"/run", "/sbin", "/sys", "/usr", "/var/lib/vigil",
};

struct policy {
	const char *include[MAX_INCLUDES];
	size_t ninclude;
	const char *store;
};

static const char *policy_refuses(const struct policy *p, const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (vt_path_within(path, never[i]))
			return "it is in a system folder vigil-actd never acts on";
	if (vt_path_within(path, p->store))
		return "it is inside the quarantine store";
	for (i = 0; i < p->ninclude; i++)
		if (vt_path_within(path, p->include[i]))
			return NULL;
	return "it is outside every ActionIncludePath";
}

static void reply(int sock, enum vq_status st, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reply(int sock, enum vq_status st, const char *id, const char *fmt, ...)
{
	struct vt_action_rep r;
	va_list ap;

	memset(&r, 0, sizeof(r));
	r.magic = VT_ACTION_REP_MAGIC;
	r.status = (uint32_t)st;
	if (id)
		snprintf(r.id, sizeof(r.id), "%s", id);
	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
	va_end(ap);
	(void)vt_send_fd(sock, &r, sizeof(r), -1);
}

static void quiet(void *ctx, enum vq_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void handle(int sock, struct vq_store *store, const struct policy *pol,
		   const uint8_t *buf, long n, int fd)
{
	static struct vt_action_req req; /* 8 KiB: not on the stack */
	char err[256], id[VQ_ID_HEX + 1];
	const char *why;
	struct vq_source src;
	struct vq_err e;
	struct stat now;
	enum vq_status st;

	if (vt_action_decode(buf, (size_t)n, &req, err, sizeof(err)) != 0) {
		reply(sock, VQ_FAILED, NULL, "%s", err);
		return;
	}
	if (fd < 0) {
		reply(sock, VQ_FAILED, NULL, "%s: not quarantined: the request carried no file "
			  "descriptor", req.path);
		return;
	}
	if (fstat(fd, &now) != 0 || !S_ISREG(now.st_mode)) {
		reply(sock, VQ_FAILED, NULL, "%s: not quarantined: the descriptor is not a "
			  "regular file", req.path);
		return;
	}
	if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY) {
		reply(sock, VQ_FAILED, NULL, "%s: not quarantined: the descriptor must be "
			  "read-only", req.path);
		return;
	}
	if ((uint64_t)now.st_dev != req.dev || (uint64_t)now.st_ino != req.ino) {
		reply(sock, VQ_CHANGED, NULL, "%s: not quarantined: the descriptor is another "
			  "file than the request names", req.path);
		return;
	}
	if ((why = policy_refuses(pol, req.path)) != NULL) {
		reply(sock, VQ_FAILED, NULL, "%s: not quarantined: %s", req.path, why);
		return;
	}
	/* the state the scan saw; the library compares it with what the path
	 * leads to now and leaves a changed file alone */
	now.st_size = (off_t)req.size;
	now.st_mtim = req.mtime;
	now.st_ctim = req.ctime;
	memset(&src, 0, sizeof(src));
	src.fd = fd;
	src.path = req.path;
	src.scanned = now;
	src.detections = req.names;
	src.detection_count = req.name_count;
	memset(&e, 0, sizeof(e));
	st = vq_store_quarantine(store, &src, id, &e);
	if (st == VQ_OK)
		reply(sock, VQ_OK, id, "%s: moved to quarantine as %s", req.path, id);
	else
		reply(sock, st, NULL, "%s: not quarantined: %s", req.path, e.msg);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "store", required_argument, NULL, 's' },
		{ "include", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t buf[VT_ACTION_MAX_PACKET];
	struct policy pol;
	struct vq_store *store = NULL;
	struct vq_err e;
	int sock = -1, opt;
	char *end;

	memset(&pol, 0, sizeof(pol));
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			errno = 0;
			sock = (int)strtol(optarg, &end, 10);
			if (errno || *end || sock < 0)
				sock = -1;
			break;
		case 's':
			pol.store = optarg;
			break;
		case 'i':
			if (pol.ninclude == MAX_INCLUDES || optarg[0] != '/') {
				fprintf(stderr, "vigil-actd: --include needs an absolute path "
						"(at most %d)\n", MAX_INCLUDES);
				return 2;
			}
			pol.include[pol.ninclude++] = optarg;
			break;
		default:
			fputs("Usage: vigil-actd --fd N --store DIR --include PATH...\n"
			      "(started by vigild; see vigild.conf(5), DetectionAction)\n", stderr);
			return 2;
		}
	}
	if (sock < 0 || pol.store == NULL || pol.ninclude == 0 || optind != argc) {
		fputs("Usage: vigil-actd --fd N --store DIR --include PATH...\n"
		      "(started by vigild; see vigild.conf(5), DetectionAction)\n", stderr);
		return 2;
	}
	if (fcntl(sock, F_SETFD, FD_CLOEXEC) != 0) {
		fprintf(stderr, "vigil-actd: descriptor %d: %s\n", sock, strerror(errno));
		return 2;
	}
	/* nothing it runs may gain privileges; the parent's death ends it */
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	memset(&e, 0, sizeof(e));
	if (vq_store_open(pol.store, quiet, NULL, &store, &e) != VQ_OK) {
		fprintf(stderr, "vigil-actd: quarantine store %s: %s\n", pol.store, e.msg);
		return 1;
	}
	for (;;) {
		int fd = -1;
		long n = vt_recv_fd(sock, buf, sizeof(buf), &fd);
		if (n == 0)
			break; /* vigild closed its end */
		if (n < 0) {
			if (errno == EBADMSG) {
				reply(sock, VQ_FAILED, NULL, "malformed request: truncated, or "
							     "not exactly one descriptor");
				continue;
			}
			break;
		}
		handle(sock, store, &pol, buf, n, fd);
		if (fd >= 0)
			close(fd);
	}
	vq_store_close(store);
	return 0;
}
