/*
 * crashpoint.c - fault injection for the crash tests. Compiled only into
 * vt_quarantine_crashtest (tests/quarantine), never into the library vigil
 * links: there VQ_CRASH_POINT() expands to nothing.
 *
 *   VIGIL_TEST_CRASH_TRACE=FILE   append the name of every point passed
 *   VIGIL_TEST_CRASH_AT=NAME      SIGKILL this process at that point
 *   VIGIL_TEST_STOP_AT=NAME       SIGSTOP there (the test changes files,
 *                                 then sends SIGCONT)
 */
#ifndef VQ_CRASH_POINTS
#error "crashpoint.c belongs to the test build only"
#endif

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vq_internal.h"

void vq_crash_point(const char *name)
{
	const char *trace = getenv("VIGIL_TEST_CRASH_TRACE");
	const char *at = getenv("VIGIL_TEST_CRASH_AT");
	const char *stop = getenv("VIGIL_TEST_STOP_AT");

	if (trace != NULL && trace[0] != '\0') {
		int fd = open(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			(void)vq_write_all(fd, name, strlen(name));
			(void)vq_write_all(fd, "\n", 1);
			close(fd);
		}
	}
	if (stop != NULL && strcmp(stop, name) == 0)
		raise(SIGSTOP);
	if (at != NULL && strcmp(at, name) == 0)
		raise(SIGKILL);
}
