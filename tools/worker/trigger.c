/*
 * trigger.c - test-only sandbox probes; see trigger.h.
 *
 * The first line of a trigger file is "<marker> <action> [argument]".
 * After the attempt the worker answers with one detection named
 * Vigil.Test.Escaped.<action>[.<detail>] (the action worked: the sandbox
 * failed) or Vigil.Test.Blocked.<action>.<errno> (refused without a kill).
 * An action the seccomp filter kills produces no answer at all: the broker
 * reports the worker's death. The tests also check the action's effect
 * outside the worker (the file created, the connection accepted, ...).
 */
#include "trigger.h"

#ifndef VIGIL_SANDBOX_TRIGGER

void trigger_setup(unsigned *skip)
{
	(void)skip;
}

int trigger_run(int fd, int sock, uint64_t seq)
{
	(void)fd;
	(void)sock;
	(void)seq;
	return -1;
}

#else

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vigil.h>

#include "sandbox.h"
#include "worker_wire.h"

#define MARKER "VIGIL-SANDBOX-TRIGGER "

void trigger_setup(unsigned *skip)
{
	/* Layer independence: VIGIL_WORKER_SKIP=landlock,netns,seccomp */
	const char *v = getenv("VIGIL_WORKER_SKIP");

	if (v == NULL)
		return;
	if (strstr(v, "landlock") != NULL)
		*skip |= SKIP_LANDLOCK;
	if (strstr(v, "netns") != NULL)
		*skip |= SKIP_NETNS;
	if (strstr(v, "seccomp") != NULL)
		*skip |= SKIP_SECCOMP;
}

static void answer(int sock, uint64_t seq, const char *name)
{
	struct vw_reply r;

	vw_reply_init(&r, VW_MATCH, seq);
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.kind = VG_SIG_BODY;
	send(sock, &r, sizeof(r), MSG_NOSIGNAL);
	vw_reply_init(&r, VW_DONE, seq);
	r.status = VG_OK;
	r.verdict = VG_VERDICT_FOUND;
	r.matches = 1;
	send(sock, &r, sizeof(r), MSG_NOSIGNAL);
}

static void outcome(int sock, uint64_t seq, const char *action, int ok, int err,
		    const char *detail)
{
	char name[256];

	if (ok)
		snprintf(name, sizeof(name), "Vigil.Test.Escaped.%s%s%s", action,
			 detail != NULL ? "." : "", detail != NULL ? detail : "");
	else
		snprintf(name, sizeof(name), "Vigil.Test.Blocked.%s.%s", action,
			 strerrorname_np(err) != NULL ? strerrorname_np(err) : "unknown");
	answer(sock, seq, name);
}

int trigger_run(int fd, int sock, uint64_t seq)
{
	char line[512], action[64] = "", arg[400] = "";
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	char *nl;
	int ok = 0, err = 0;

	if (n <= (ssize_t)strlen(MARKER) || memcmp(line, MARKER, strlen(MARKER)) != 0)
		return -1;
	line[n] = '\0';
	nl = strchr(line, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (sscanf(line + strlen(MARKER), "%63s %399s", action, arg) < 1)
		return -1;

	if (strcmp(action, "open-file") == 0) {
		char buf[48], clean[48];
		size_t k = 0;
		int f = open(arg, O_RDONLY | O_CLOEXEC);
		ssize_t got;
		ok = f >= 0;
		err = errno;
		if (!ok) {
			outcome(sock, seq, action, 0, err, NULL);
			return 0;
		}
		got = read(f, buf, sizeof(buf) - 1);
		for (ssize_t i = 0; i < got; i++)
			if ((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= 'A' && buf[i] <= 'Z') ||
			    (buf[i] >= '0' && buf[i] <= '9'))
				clean[k++] = buf[i];
		clean[k] = '\0';
		close(f);
		outcome(sock, seq, action, 1, 0, clean);
		return 0;
	}
	if (strcmp(action, "create-file") == 0) {
		int f = open(arg, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		ok = f >= 0;
		err = errno;
		if (ok) {
			ok = write(f, "escaped\n", 8) == 8;
			err = errno;
			close(f);
		}
	} else if (strcmp(action, "connect") == 0) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((uint16_t)atoi(arg));
		ok = s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		err = errno;
		if (ok)
			ok = write(s, "escaped\n", 8) == 8;
		if (s >= 0)
			close(s);
	} else if (strcmp(action, "exec") == 0) {
		execl("/bin/sh", "sh", "-c", "echo escaped > \"$0\"", arg, (char *)NULL);
		err = errno;
	} else if (strcmp(action, "signal-parent") == 0) {
		ok = kill(getppid(), SIGTERM) == 0;
		err = errno;
	} else if (strcmp(action, "write-scanned") == 0) {
		/* The descriptor is read-only; a compromised worker would try both. */
		ok = pwrite(fd, "escaped\n", 8, 0) == 8;
		err = errno;
		if (!ok) {
			char proc[64];
			int w;
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			w = open(proc, O_WRONLY | O_CLOEXEC);
			ok = w >= 0 && pwrite(w, "escaped\n", 8, 0) == 8;
			err = errno;
			if (w >= 0)
				close(w);
		}
	} else if (strcmp(action, "hang") == 0) {
		volatile unsigned long spin = 0;
		for (;;)
			spin++;
	} else if (strcmp(action, "crash") == 0) {
		volatile int *volatile nowhere = NULL;
		*nowhere = 1;
	} else if (strcmp(action, "garbage") == 0) {
		send(sock, "not a verdict", 13, MSG_NOSIGNAL);
		return 0;
	} else if (strcmp(action, "read-next-then-fail") == 0) {
		/* Takes the next request's file (the broker hands it over while
		 * this one is scanned), reads it to its end, moving the offset it
		 * shares with the broker, answers this one with an I/O error and
		 * exits: the broker must have the next file scanned again by a
		 * fresh worker, from its start. */
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct vw_request q;
		struct iovec iov = {&q, sizeof(q)};
		struct msghdr mh;
		struct cmsghdr *cm;
		struct vw_reply r;
		char buf[4096];
		int next = -1;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) > 0 && (cm = CMSG_FIRSTHDR(&mh)) != NULL &&
		    cm->cmsg_type == SCM_RIGHTS)
			memcpy(&next, CMSG_DATA(cm), sizeof(int));
		while (next >= 0 && read(next, buf, sizeof(buf)) > 0)
			;
		vw_reply_init(&r, VW_DONE, seq);
		r.status = VG_EIO;
		r.err = EIO;
		send(sock, &r, sizeof(r), MSG_NOSIGNAL);
		_exit(0);
	} else if (strcmp(action, "lie") == 0) {
		struct vw_reply r;
		vw_reply_init(&r, VW_DONE, seq);
		r.verdict = 42; /* out of range */
		send(sock, &r, sizeof(r), MSG_NOSIGNAL);
		return 0;
	} else {
		return -1;
	}
	outcome(sock, seq, action, ok, err, NULL);
	return 0;
}

#endif
