/*
 * vigil-worker - scans the descriptors a broker hands it, inside a sandbox.
 *
 * Started by vigil scan or vigild (worker_client.c) with the broker's
 * SOCK_SEQPACKET socket on descriptor 3 and the compiled database image (a
 * sealed memfd) on descriptor 4. It maps the image read-only, warms the
 * engine up (so that nothing is opened lazily later), closes everything
 * else, applies its sandbox (sandbox.c), says which layers hold (VW_HELLO),
 * and then answers requests until the broker closes the socket. It never
 * opens a file, never writes anywhere but the socket, and exits on any
 * protocol error.
 *
 * Not meant to be run by hand; `vigil version` reports what it achieves.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vigil.h>

#include "sandbox.h"
#include "trigger.h"
#include "worker_wire.h"

#if defined(__SANITIZE_ADDRESS__)
#define VW_SANITIZED 1
#else
#define VW_SANITIZED 0
#endif

static int sock = VW_FD_SOCKET;

static void send_reply(const struct vw_reply *r)
{
	ssize_t n;

	do
		n = send(sock, r, sizeof(*r), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*r))
		_exit(0); /* the broker is gone */
}

struct scan_job {
	uint64_t seq;
	uint32_t matches;
	struct vw_reply reply; /* reused for every match */
};

static void copy_string(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1; /* a name longer than the field is cut */
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static int on_match(void *ctx, const struct vg_match *m)
{
	struct scan_job *j = ctx;
	struct vw_reply *r = &j->reply;
	size_t used = 0;

	if (j->matches >= VW_MAX_MATCHES)
		return 1;
	vw_reply_init(r, VW_MATCH, j->seq);
	copy_string(r->name, sizeof(r->name), m->name != NULL && *m->name ? m->name
									    : "Unknown.Signature");
	if (m->database != NULL) {
		r->has_database = 1;
		copy_string(r->database, sizeof(r->database), m->database);
	}
	r->kind = (uint32_t)m->kind;
	r->offset_known = m->offset_known ? 1 : 0;
	r->offset = m->offset;
	/* Container names from the outside in, as many as fit. */
	for (size_t i = 0; i < m->container_depth && i < VW_MAX_DEPTH; i++) {
		const char *name = m->container_path[i] != NULL ? m->container_path[i] : "";
		size_t n = strlen(name);
		if (n + 1 > sizeof(r->path) - used)
			break;
		memcpy(r->path + used, name, n + 1);
		used += n + 1;
		r->depth++;
	}
	send_reply(r);
	j->matches++;
	return 0;
}

static enum vg_status scan_stream(const struct vg_engine *e, int fd,
				  const struct vg_scan_options *opts, struct scan_job *j,
				  struct vg_scan_summary *sum, int *err)
{
	static unsigned char buf[1 << 16];
	struct vg_scan_stream *stream = NULL;
	enum vg_status st;

	st = vg_scan_stream_new(e, opts, &stream);
	if (st != VG_OK)
		return st;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = errno;
			st = VG_EIO;
			goto out;
		}
		if (n == 0)
			break;
		st = vg_scan_stream_write(stream, buf, (size_t)n);
		if (st != VG_OK) {
			*err = errno;
			goto out;
		}
	}
	errno = 0;
	st = vg_scan_stream_finish(stream, on_match, j, sum);
	*err = st == VG_OK ? 0 : errno;
out:
	vg_scan_stream_free(stream);
	return st;
}

/* Receives one request and its descriptor; 0 on EOF (the broker is done). */
static int receive(struct vw_request *q, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { q, sizeof(*q) };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	*fd = -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if (n != (ssize_t)sizeof(*q) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || *fd < 0 ||
	    q->magic != VW_MAGIC_REQUEST || q->version != VW_WIRE_VERSION ||
	    (q->mode != VW_MODE_FD && q->mode != VW_MODE_STREAM))
		_exit(3); /* the broker never sends this: stop */
	return 1;
}

static void serve(const struct vg_engine *e)
{
	struct vw_request q;
	struct scan_job j;
	int fd;

	while (receive(&q, &fd)) {
		struct vg_scan_options opts;
		struct vg_scan_summary sum;
		enum vg_status st;
		int err = 0;

		memset(&j, 0, sizeof(j));
		memset(&sum, 0, sizeof(sum));
		j.seq = q.seq;
		vg_scan_options_init(e, &opts);
		opts.flags = q.flags;
		opts.limits.max_filesize = q.limits.max_filesize;
		opts.limits.max_scansize = q.limits.max_scansize;
		opts.limits.max_scantime_ms = q.limits.max_scantime_ms;
		opts.limits.max_recursion = q.limits.max_recursion;
		opts.limits.max_files = q.limits.max_files;
		if (trigger_run(fd, sock, q.seq) == 0) {
			close(fd);
			continue;
		}
		errno = 0;
		if (q.mode == VW_MODE_STREAM) {
			st = scan_stream(e, fd, &opts, &j, &sum, &err);
		} else {
			st = vg_scan_fd(e, fd, &opts, on_match, &j, &sum);
			err = st == VG_OK ? 0 : errno;
		}
		close(fd);
		vw_reply_init(&j.reply, VW_DONE, q.seq);
		j.reply.status = (int32_t)st;
		j.reply.err = err;
		if (st == VG_OK) {
			j.reply.verdict = (uint32_t)sum.verdict;
			j.reply.limit = (uint32_t)sum.limit;
			j.reply.stopped = sum.stopped ? 1 : 0;
			j.reply.matches = j.matches;
			j.reply.bytes_scanned = sum.bytes_scanned;
			j.reply.bytes_read = sum.bytes_read;
		} else {
			j.reply.matches = 0;
		}
		send_reply(&j.reply);
	}
}

/* Exercise every lazily initialised part of the engine (scratch space,
 * digests, the stream path) before the sandbox closes the doors. */
static void warm_up(const struct vg_engine *e)
{
	static const char sample[] = "vigil-worker warm-up";
	struct vg_scan_options opts;
	struct vg_scan_summary sum;
	struct vg_scan_stream *stream = NULL;

	enum vg_status st;

	vg_scan_options_init(e, &opts);
	st = vg_scan_buffer(e, sample, sizeof(sample), &opts, NULL, NULL, &sum);
	if (st == VG_OK && vg_scan_stream_new(e, &opts, &stream) == VG_OK) {
		if (vg_scan_stream_write(stream, sample, sizeof(sample)) == VG_OK)
			st = vg_scan_stream_finish(stream, NULL, NULL, &sum);
		vg_scan_stream_free(stream);
	}
	(void)st; /* a failure here shows again, and is reported, on the first file */
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static void usage(void)
{
	fputs("usage: vigil-worker [--no-sandbox] [--memory-limit=BYTES] [--engine-flags=N]\n"
	      "vigil-worker is started by vigil scan and vigild with its socket on\n"
	      "descriptor 3 and the compiled database on descriptor 4; it is not run by hand.\n",
	      stderr);
}

int main(int argc, char **argv)
{
	struct vg_engine_options eo;
	struct vg_engine *e = NULL;
	struct sandbox_result sb;
	struct vw_reply hello;
	struct stat st;
	uint64_t memory_limit = 4ull << 30, flags = 0;
	int no_sandbox = 0;
	unsigned skip = 0;
	enum vg_status st_open;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-sandbox") == 0) {
			no_sandbox = 1;
		} else if (strncmp(argv[i], "--memory-limit=", 15) == 0) {
			if (parse_u64(argv[i] + 15, &memory_limit) != 0) {
				usage();
				return 2;
			}
		} else if (strncmp(argv[i], "--engine-flags=", 15) == 0) {
			if (parse_u64(argv[i] + 15, &flags) != 0 || flags > UINT32_MAX) {
				usage();
				return 2;
			}
		} else {
			usage();
			return 2;
		}
	}
	if (fstat(VW_FD_SOCKET, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    fstat(VW_FD_IMAGE, &st) != 0) {
		usage();
		return 2;
	}
	/* Nothing but the socket and the image may stay open. */
	(void)close_range(VW_FD_IMAGE + 1, ~0u, 0);

	vg_engine_options_init(&eo);
	eo.flags = (uint32_t)flags;
	st_open = vg_engine_open_image_fd(&eo, VW_FD_IMAGE, 0, &e);
	if (st_open != VG_OK) {
		fprintf(stderr, "vigil-worker: cannot open the compiled database on descriptor %d: %s\n",
			VW_FD_IMAGE, vg_status_str(st_open));
		return 2;
	}
	close(VW_FD_IMAGE);
	warm_up(e);
	trigger_setup(&skip);

	memset(&sb, 0, sizeof(sb));
	if (no_sandbox) {
		sb.layers = VW_LAYER_UNSANDBOXED;
	} else {
		/* The engine is mapped: room for scanning on top of it. */
		if (memory_limit != 0 && st.st_size > 0)
			memory_limit += (uint64_t)st.st_size;
		if (VW_SANITIZED) {
			/* see docs/THREAT-MODEL.md, Sandbox: ASan's shadow memory
			 * alone exceeds any address-space limit */
			skip |= SKIP_SECCOMP;
			memory_limit = 0;
		}
		if (sandbox_apply(sock, memory_limit, skip, &sb) != 0) {
			fprintf(stderr, "vigil-worker: cannot apply the sandbox: %s\n",
				strerror(errno));
			return 2;
		}
	}
	/* Standard streams are of no use from here on (a sanitizer build keeps
	 * stderr for its reports). */
	(void)close(STDIN_FILENO);
	(void)close(STDOUT_FILENO);
	if (!VW_SANITIZED)
		(void)close(STDERR_FILENO);
	vw_reply_init(&hello, VW_HELLO, 0);
	hello.layers = sb.layers;
	hello.landlock_abi = sb.landlock_abi;
	hello.layer_errors = sb.errors;
	send_reply(&hello);
	serve(e);
	/* _exit: no atexit handlers (LeakSanitizer's would need ptrace) */
	_exit(0);
}
