/* rusage OUT PROGRAM [ARG...]: runs PROGRAM, waits for it and writes
 * "maxrss_kib user_seconds system_seconds" to OUT; exits with its status.
 *
 * run_bench.py measures peak memory through this small launcher because a
 * child Python starts (with vfork) inherits Python's own peak RSS as its
 * ru_maxrss floor (Linux carries the old address space's high-water mark
 * over exec): every scanner under about 125 MiB would show Python's size.
 * Forked from this process, the floor is this process's own ~1 MiB. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: rusage OUT PROGRAM [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror("rusage: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("rusage: wait4");
		return 2;
	}
	out = fopen(argv[1], "w");
	if (out == NULL) {
		perror("rusage: output");
		return 2;
	}
	fprintf(out, "%ld %ld.%06ld %ld.%06ld\n", ru.ru_maxrss, (long)ru.ru_utime.tv_sec,
		(long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
	fclose(out);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
