/*
 * trigger.h - test-only sandbox probes (CMake option VIGIL_SANDBOX_TRIGGER,
 * OFF in every preset). A file whose first line is the trigger marker makes
 * the worker attempt forbidden actions as a compromised parser would; the
 * sandbox tests check that each is stopped, and that each succeeds with the
 * sandbox off. Without the option these are empty and the marker is not in
 * the binary (tests/sandbox checks the release binary).
 */
#ifndef VIGIL_WORKER_TRIGGER_H
#define VIGIL_WORKER_TRIGGER_H

#include <stdint.h>

/* Reads test settings (which layers to skip) before the sandbox. */
void trigger_setup(unsigned *skip);

/* When fd holds a trigger, performs it, answers the request itself and
 * returns 0; otherwise -1 (scan normally). */
int trigger_run(int fd, int sock, uint64_t seq);

#endif /* VIGIL_WORKER_TRIGGER_H */
