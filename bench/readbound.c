/*
 * readbound: the throughput bound for a scanner on a set of files — read every file
 * (from the page cache) once and compute the whole-file digests the database needs,
 * nothing else.  run_bench.py builds it with `cc -O2 readbound.c -lcrypto -lpthread`
 * and compares vigil's throughput with it.
 *
 *   readbound [-j THREADS] [-b BUFSIZE] [-n] LIST
 *
 * LIST has one file per line: "ALGOS PATH", ALGOS a subset of "m1s" (MD5, SHA-1,
 * SHA-256) or "-" for none.  -n ignores ALGOS (read only).  Files are handed to the
 * threads in list order.  Prints one line: "bytes=N files=N seconds=S".
 *
 * Digests use OpenSSL's EVP interface (SHA-NI where the CPU has it), as vigil does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct item {
	char *path;
	unsigned algos; /* bit 0 md5, 1 sha1, 2 sha256 */
};

static struct item *items;
static size_t n_items;
static atomic_size_t next_item;
static atomic_ullong total_bytes;
static size_t bufsize = 256 * 1024;
static int read_only;
static const EVP_MD *mds[3];

static void *worker(void *arg)
{
	(void)arg;
	unsigned char *buf = aligned_alloc(4096, bufsize);
	EVP_MD_CTX *ctx[3];
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned long long bytes = 0;
	if (!buf)
		abort();
	for (int a = 0; a < 3; a++)
		if (!(ctx[a] = EVP_MD_CTX_new()))
			abort();
	for (;;) {
		size_t i = atomic_fetch_add(&next_item, 1);
		if (i >= n_items)
			break;
		unsigned algos = read_only ? 0 : items[i].algos;
		int fd = open(items[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "readbound: %s: %s\n", items[i].path, strerror(errno));
			exit(2);
		}
		for (int a = 0; a < 3; a++)
			if (algos & (1u << a))
				EVP_DigestInit_ex2(ctx[a], mds[a], NULL);
		for (;;) {
			ssize_t n = read(fd, buf, bufsize);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "readbound: %s: %s\n", items[i].path, strerror(errno));
				exit(2);
			}
			if (n == 0)
				break;
			bytes += (unsigned long long)n;
			for (int a = 0; a < 3; a++)
				if (algos & (1u << a))
					EVP_DigestUpdate(ctx[a], buf, (size_t)n);
		}
		for (int a = 0; a < 3; a++)
			if (algos & (1u << a))
				EVP_DigestFinal_ex(ctx[a], out, NULL);
		close(fd);
	}
	atomic_fetch_add(&total_bytes, bytes);
	for (int a = 0; a < 3; a++)
		EVP_MD_CTX_free(ctx[a]);
	free(buf);
	return NULL;
}

static void load_list(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	if (!f) {
		fprintf(stderr, "readbound: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		if (n_items == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			items = realloc(items, alloc * sizeof *items);
			if (!items)
				abort();
		}
		unsigned algos = 0;
		for (const char *c = line; *c; c++)
			algos |= *c == 'm' ? 1u : *c == '1' ? 2u : *c == 's' ? 4u : 0u;
		items[n_items].algos = algos;
		items[n_items].path = strdup(sp + 1);
		n_items++;
	}
	free(line);
	fclose(f);
}

int main(int argc, char **argv)
{
	int threads = 1, opt;
	while ((opt = getopt(argc, argv, "j:b:n")) != -1) {
		switch (opt) {
		case 'j':
			threads = atoi(optarg);
			break;
		case 'b':
			bufsize = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			read_only = 1;
			break;
		default:
			fprintf(stderr, "usage: readbound [-j THREADS] [-b BUFSIZE] [-n] LIST\n");
			return 2;
		}
	}
	if (optind != argc - 1 || threads < 1 || threads > 256 || bufsize < 4096) {
		fprintf(stderr, "usage: readbound [-j THREADS] [-b BUFSIZE] [-n] LIST\n");
		return 2;
	}
	load_list(argv[optind]);
	mds[0] = EVP_MD_fetch(NULL, "MD5", NULL);
	mds[1] = EVP_MD_fetch(NULL, "SHA1", NULL);
	mds[2] = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!mds[0] || !mds[1] || !mds[2]) {
		fprintf(stderr, "readbound: OpenSSL digests unavailable\n");
		return 2;
	}
	struct timespec t0, t1;
	pthread_t tid[256];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int t = 0; t < threads; t++)
		if (pthread_create(&tid[t], NULL, worker, NULL) != 0)
			abort();
	for (int t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("bytes=%llu files=%zu seconds=%.6f\n", (unsigned long long)atomic_load(&total_bytes), n_items, s);
	return 0;
}
