/*
 * sandbox.c - rlimits, no_new_privs, network namespace, Landlock, seccomp.
 *
 * Landlock: every filesystem right the running kernel knows is "handled"
 * and no rule grants any, so nothing is reachable by path; descriptors the
 * broker passes in keep the rights they were opened with (read-only). The
 * ABI constants beyond Debian 12's uapi header (ABI 2) are defined here.
 *
 * seccomp: an allow-list; anything else kills the whole process
 * (SCMP_ACT_KILL_PROCESS), which the broker sees as SIGSYS and reports.
 * open()/openat() are answered with EACCES instead of a kill so that a
 * library trying an optional file (a locale, a charset table) fails softly;
 * Landlock refuses the same opens anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

/* Landlock rights and attributes by ABI (linux/landlock.h of 6.15). */
#define LL_FS_ABI1 ((1ULL << 13) - 1) /* execute ... make_sym */
#define LL_FS_REFER (1ULL << 13)      /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)   /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15)  /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)   /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static int apply_rlimits(uint64_t memory_limit)
{
	struct rlimit zero = { 0, 0 };
	struct rlimit files = { 16, 16 };
	struct rlimit mem = { memory_limit, memory_limit };
	int rc = 0;

	rc |= setrlimit(RLIMIT_NPROC, &zero); /* no fork (not enforced for root: seccomp is) */
	rc |= setrlimit(RLIMIT_FSIZE, &zero); /* no file growth even through a leaked fd */
	rc |= setrlimit(RLIMIT_CORE, &zero);
	rc |= setrlimit(RLIMIT_NOFILE, &files);
	if (memory_limit != 0)
		rc |= setrlimit(RLIMIT_AS, &mem);
	return rc;
}

static void apply_netns(struct sandbox_result *out)
{
	/* A new user namespace first: the worker then holds no capability in
	 * the machine's namespaces, even when started by root. */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0 ||
	    (geteuid() == 0 && unshare(CLONE_NEWNET) == 0)) {
		out->layers |= VW_LAYER_NETNS;
		return;
	}
	out->errors.netns = errno;
}

static void apply_landlock(struct sandbox_result *out)
{
	struct ll_ruleset_attr attr = { 0 };
	size_t size = sizeof(uint64_t);
	long abi;
	int fd;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		out->errors.landlock = abi < 0 ? errno : ENOSYS;
		return;
	}
	attr.handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = 2 * sizeof(uint64_t);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = 3 * sizeof(uint64_t);
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0) {
		out->errors.landlock = errno;
		return;
	}
	/* No rule: nothing is reachable by path. */
	if (syscall(SYS_landlock_restrict_self, fd, 0) != 0) {
		out->errors.landlock = errno;
		close(fd);
		return;
	}
	close(fd);
	out->landlock_abi = (int)abi;
	out->layers |= VW_LAYER_LANDLOCK;
	if (abi >= 4)
		out->layers |= VW_LAYER_LANDLOCK_NET;
	if (abi >= 6)
		out->layers |= VW_LAYER_LANDLOCK_SCOPE;
}

static int apply_seccomp(int sock)
{
	static const int plain[] = {
		SCMP_SYS(read),	      SCMP_SYS(pread64),   SCMP_SYS(readv),	    SCMP_SYS(lseek),
		SCMP_SYS(fstat),      SCMP_SYS(brk),	   SCMP_SYS(munmap),	    SCMP_SYS(mremap),
		SCMP_SYS(madvise),    SCMP_SYS(futex),	   SCMP_SYS(exit),	    SCMP_SYS(exit_group),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(clock_gettime),
		SCMP_SYS(gettimeofday), SCMP_SYS(getrandom), SCMP_SYS(close),	    SCMP_SYS(getpid),
		SCMP_SYS(gettid),     SCMP_SYS(sched_yield), SCMP_SYS(fadvise64),
		/* read-only facts glibc asks for on its own: qsort() sizes its
		 * buffer with sysinfo(), sysconf() may ask for the CPU set */
		SCMP_SYS(sysinfo),    SCMP_SYS(sched_getaffinity), SCMP_SYS(uname),
	};
	scmp_filter_ctx c = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = 0;

	if (c == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		rc |= seccomp_rule_add(c, SCMP_ACT_ALLOW, plain[i], 0);
	/* fstat() is fstatat(fd, "", AT_EMPTY_PATH) in glibc */
	rc |= seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
			       SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	/* memory, never executable */
	rc |= seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc |= seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* the broker's socket only: requests in, replies out */
	rc |= seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
			       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock, 0));
	rc |= seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
			       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock, 0));
	/* optional files a library may try: refused, not fatal */
	rc |= seccomp_rule_add(c, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	rc |= seccomp_rule_add(c, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	if (rc == 0)
		rc = seccomp_load(c);
	seccomp_release(c);
	return rc;
}

int sandbox_apply(int sock, uint64_t memory_limit, unsigned skip, struct sandbox_result *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (apply_rlimits(memory_limit) != 0)
		return -1;
	out->layers |= VW_LAYER_RLIMITS;
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	out->layers |= VW_LAYER_NO_NEW_PRIVS;
	if (!(skip & SKIP_NETNS))
		apply_netns(out);
	if (!(skip & SKIP_LANDLOCK))
		apply_landlock(out);
	if (!(skip & SKIP_SECCOMP)) {
		rc = apply_seccomp(sock);
		if (rc == 0)
			out->layers |= VW_LAYER_SECCOMP;
		else
			out->errors.seccomp = rc < 0 ? -rc : EINVAL;
	}
	return 0;
}
