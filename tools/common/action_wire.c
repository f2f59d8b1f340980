/*
 * action_wire.c - encoding and checking helper requests (action_wire.h).
 */
#include "action_wire.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int name_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

size_t vt_action_encode(uint8_t *buf, size_t cap, enum vt_action action, const char *path,
			const struct stat *scanned, const char *const *names, size_t count)
{
	struct vt_action_req_hdr h;
	size_t plen = strlen(path), nlen = 0, off;

	if (plen == 0 || plen > VT_ACTION_MAX_PATH || count > VT_ACTION_MAX_NAME_COUNT)
		return 0;
	for (size_t i = 0; i < count; i++) {
		size_t l = strlen(names[i]);
		if (!name_ok(names[i], l))
			return 0;
		nlen += l + (i + 1 < count);
	}
	if (nlen > VT_ACTION_MAX_NAMES || sizeof(h) + plen + nlen > cap)
		return 0;
	memset(&h, 0, sizeof(h));
	h.magic = VT_ACTION_REQ_MAGIC;
	h.version = VT_ACTION_VERSION;
	h.action = (uint32_t)action;
	h.path_len = (uint32_t)plen;
	h.names_len = (uint32_t)nlen;
	h.dev = (uint64_t)scanned->st_dev;
	h.ino = (uint64_t)scanned->st_ino;
	h.size = (uint64_t)scanned->st_size;
	h.mtime_sec = scanned->st_mtim.tv_sec;
	h.mtime_nsec = scanned->st_mtim.tv_nsec;
	h.ctime_sec = scanned->st_ctim.tv_sec;
	h.ctime_nsec = scanned->st_ctim.tv_nsec;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), path, plen);
	off = sizeof(h) + plen;
	for (size_t i = 0; i < count; i++) {
		size_t l = strlen(names[i]);
		memcpy(buf + off, names[i], l);
		off += l;
		if (i + 1 < count)
			buf[off++] = '\n';
	}
	return off;
}

/* An absolute path in canonical form: no empty, "." or ".." component, no
 * trailing slash, no control characters. */
static int path_ok(const char *p, size_t n)
{
	if (n < 2 || p[0] != '/' || p[n - 1] == '/')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && p[j] != '/')
			j++;
		size_t l = j - i - 1;
		if (l == 0 || (l == 1 && p[i + 1] == '.') ||
		    (l == 2 && p[i + 1] == '.' && p[i + 2] == '.'))
			return 0;
		i = j;
	}
	return 1;
}

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "malformed request: %s", why);
	return -1;
}

int vt_action_decode(const uint8_t *buf, size_t len, struct vt_action_req *out, char *err,
		     size_t errlen)
{
	struct vt_action_req_hdr h;
	const char *p;

	if (len < sizeof(h))
		return fail(err, errlen, "shorter than its header");
	memcpy(&h, buf, sizeof(h));
	if (h.magic != VT_ACTION_REQ_MAGIC)
		return fail(err, errlen, "bad magic");
	if (h.version != VT_ACTION_VERSION)
		return fail(err, errlen, "unknown version (vigild and vigil-actd differ?)");
	if (h.action != VT_ACTION_QUARANTINE)
		return fail(err, errlen, "unknown action");
	if (h.reserved != 0)
		return fail(err, errlen, "reserved field set");
	if (h.path_len == 0 || h.path_len > VT_ACTION_MAX_PATH || h.names_len > VT_ACTION_MAX_NAMES)
		return fail(err, errlen, "length out of range");
	if ((uint64_t)sizeof(h) + h.path_len + h.names_len != len)
		return fail(err, errlen, "lengths do not add up to the message size");
	if (h.mtime_nsec < 0 || h.mtime_nsec > 999999999 || h.ctime_nsec < 0 ||
	    h.ctime_nsec > 999999999 || h.size > INT64_MAX)
		return fail(err, errlen, "file times or size out of range");
	p = (const char *)buf + sizeof(h);
	if (!path_ok(p, h.path_len))
		return fail(err, errlen, "the path is not absolute and canonical");
	memset(out, 0, sizeof(*out));
	out->action = (enum vt_action)h.action;
	out->dev = h.dev;
	out->ino = h.ino;
	out->size = h.size;
	out->mtime.tv_sec = (time_t)h.mtime_sec;
	out->mtime.tv_nsec = (long)h.mtime_nsec;
	out->ctime.tv_sec = (time_t)h.ctime_sec;
	out->ctime.tv_nsec = (long)h.ctime_nsec;
	memcpy(out->path, p, h.path_len);
	out->path[h.path_len] = '\0';
	p += h.path_len;
	memcpy(out->names_buf, p, h.names_len);
	out->names_buf[h.names_len] = '\0';
	if (h.names_len) {
		char *s = out->names_buf;
		for (;;) {
			char *nl = strchr(s, '\n');
			size_t l = nl ? (size_t)(nl - s) : strlen(s);
			if (!name_ok(s, l) || out->name_count == VT_ACTION_MAX_NAME_COUNT)
				return fail(err, errlen, "a detection name is empty, too many or "
							 "has control characters");
			out->names[out->name_count++] = s;
			if (!nl)
				break;
			*nl = '\0';
			s = nl + 1;
		}
	}
	return 0;
}

int vt_path_within(const char *path, const char *dir)
{
	size_t l = strlen(dir);

	while (l > 1 && dir[l - 1] == '/')
		l--;
	if (l == 1 && dir[0] == '/')
		return 1;
	return strncmp(path, dir, l) == 0 && (path[l] == '/' || path[l] == '\0');
}

int vt_send_fd(int sock, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.space;
		m.msg_controllen = sizeof(ctl.space);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

long vt_recv_fd(int sock, void *buf, size_t cap, int *fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * 8)];
	} ctl;
	struct iovec iov = { buf, cap };
	struct msghdr m;
	ssize_t n;
	int bad = 0;

	*fd = -1;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.space;
	m.msg_controllen = sizeof(ctl.space);
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*fd < 0 && !bad)
				*fd = got;
			else {
				close(got);
				bad = 1;
			}
		}
	}
	if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		bad = 1;
	if (bad) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = EBADMSG;
		return -1;
	}
	return (long)n;
}
