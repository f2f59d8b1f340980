/*
 * sandbox.h - the layers vigil-worker puts around itself before it reads a
 * single untrusted byte.
 */
#ifndef VIGIL_WORKER_SANDBOX_H
#define VIGIL_WORKER_SANDBOX_H

#include <stdint.h>

#include "worker_wire.h"

struct sandbox_result {
	uint32_t layers; /* enum vw_layer */
	int landlock_abi;
	struct vw_layer_errors errors;
};

/* Layers a test build may switch off one by one (VIGIL_WORKER_LAYERS), to
 * show that each layer stops an action on its own. */
enum sandbox_skip {
	SKIP_LANDLOCK = 1u << 0,
	SKIP_NETNS = 1u << 1,
	SKIP_SECCOMP = 1u << 2
};

/* Applies, in order: rlimits (no processes, no file growth, no core, few
 * descriptors, bounded memory), not dumpable, no_new_privs, an empty
 * network namespace (in a new user namespace when not root), Landlock
 * denying every filesystem right, TCP and signals the kernel can scope, and
 * a seccomp allow-list that kills the process on any other system call.
 * Missing Landlock or network namespaces degrade (reported in *out);
 * seccomp is required by the caller. sock is the only descriptor the
 * worker may send on. Returns 0, or -1 when a mandatory step failed. */
int sandbox_apply(int sock, uint64_t memory_limit, unsigned skip, struct sandbox_result *out);

#endif /* VIGIL_WORKER_SANDBOX_H */
