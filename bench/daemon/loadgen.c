/*
 * loadgen.c - a bounded loopback load driver for clamd-protocol daemons.
 *
 * N client threads send M INSTREAM requests in total (each on its own
 * connection, as clamdscan --stream and mail filters do) with payloads of
 * mixed sizes, some carrying EICAR, and check every reply: "stream: OK"
 * for clean payloads, "stream: <name> FOUND" for infected ones. Prints
 * requests per second, latency percentiles, bytes sent, errors, and the
 * daemon's resident memory (start, peak, end) when given its PID.
 *
 *   loadgen --socket PATH [--clients 64] [--requests 20000] [--seed 1]
 *           [--max-size BYTES] [--chunk 8188] [--pid PID] [--label NAME]
 *
 * Exit status: 0 when every request got the right answer, 1 otherwise.
 * Deterministic: the same seed sends the same payload sizes and contents.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

struct config {
	const char *socket;
	unsigned clients;
	unsigned requests;
	unsigned seed;
	size_t max_size;
	size_t chunk;
	int pid;
	const char *label;
};

static struct config cfg = { NULL, 64, 20000, 1, 2u << 20, 8188, 0, "daemon" };
static unsigned char *pool;          /* pseudo-random payload source */
static size_t pool_len;
static atomic_uint next_request;
static atomic_uint errors;
static atomic_ullong bytes_sent;
static double *latency;              /* seconds, per request */
static atomic_uint shown_errors;
static atomic_int running;
static long rss_peak = -1;

/* xorshift64*: deterministic per request. */
static uint64_t rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Mixed sizes, mail-like: half small, a tail of large ones. */
static size_t pick_size(uint64_t *s)
{
	unsigned r = (unsigned)(rng(s) % 100);
	size_t lo, hi;

	if (r < 50) {
		lo = 1024;
		hi = 8192;
	} else if (r < 80) {
		lo = 8192;
		hi = 65536;
	} else if (r < 95) {
		lo = 65536;
		hi = 512 * 1024;
	} else {
		lo = 512 * 1024;
		hi = cfg.max_size;
	}
	if (hi > cfg.max_size)
		hi = cfg.max_size;
	if (lo >= hi)
		return hi;
	return lo + (size_t)(rng(s) % (hi - lo));
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int send_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void report_error(unsigned req, const char *what, const char *reply)
{
	atomic_fetch_add(&errors, 1);
	if (atomic_fetch_add(&shown_errors, 1) < 10)
		fprintf(stderr, "%s: request %u: %s%s%s\n", cfg.label, req, what,
			reply ? ": " : "", reply ? reply : "");
}

/* One INSTREAM request; returns 0 when the reply is the expected one. */
static int one_request(unsigned req, unsigned char *buf)
{
	uint64_t s = ((uint64_t)cfg.seed << 32) ^ (req * 0x9e3779b97f4a7c15ull) ^ 0x5bd1e995;
	size_t size, off, at = 0;
	int infected, fd;
	struct sockaddr_un sa;
	char reply[512];
	size_t got = 0;
	struct timeval tv = { 120, 0 };

	rng(&s);
	size = pick_size(&s);
	off = (size_t)(rng(&s) % (pool_len - size));
	memcpy(buf, pool + off, size);
	infected = rng(&s) % 20 == 0; /* 5% */
	if (infected) {
		if (rng(&s) % 2 == 0 || size < sizeof(eicar)) {
			size = sizeof(eicar) - 1; /* the EICAR file itself */
			memcpy(buf, eicar, size);
		} else {
			at = (size_t)(rng(&s) % (size - (sizeof(eicar) - 1)));
			memcpy(buf + at, eicar, sizeof(eicar) - 1);
		}
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		report_error(req, "socket", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", cfg.socket);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		report_error(req, "connect", strerror(errno));
		close(fd);
		return -1;
	}
	if (send_all(fd, "zINSTREAM", 10) != 0)
		goto send_failed;
	for (size_t pos = 0; pos < size;) {
		size_t n = size - pos < cfg.chunk ? size - pos : cfg.chunk;
		unsigned char hdr[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
					 (unsigned char)(n >> 8), (unsigned char)n };
		if (send_all(fd, hdr, 4) != 0 || send_all(fd, buf + pos, n) != 0)
			goto send_failed;
		pos += n;
	}
	if (send_all(fd, "\0\0\0\0", 4) != 0)
		goto send_failed;
	atomic_fetch_add(&bytes_sent, size);
	for (;;) {
		ssize_t n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			report_error(req, "recv", strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0 || got + (size_t)n >= sizeof(reply) - 1) {
			got += n > 0 ? (size_t)n : 0;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	reply[got] = '\0'; /* the reply itself ends with NUL */
	if (got == 0) {
		report_error(req, "no reply", NULL);
		return -1;
	}
	if (infected) {
		size_t l = strlen(reply);
		if (strncmp(reply, "stream: ", 8) != 0 || l < 14 || strcmp(reply + l - 6, " FOUND") != 0) {
			report_error(req, "infected payload not found", reply);
			return -1;
		}
	} else if (strcmp(reply, "stream: OK") != 0) {
		report_error(req, "clean payload not OK", reply);
		return -1;
	}
	return 0;
send_failed:
	report_error(req, "send", strerror(errno));
	close(fd);
	return -1;
}

static void *client(void *arg)
{
	unsigned char *buf = malloc(cfg.max_size + sizeof(eicar));

	(void)arg;
	if (buf == NULL)
		return NULL;
	for (;;) {
		unsigned req = atomic_fetch_add(&next_request, 1);
		double t0;
		if (req >= cfg.requests)
			break;
		t0 = now_s();
		(void)one_request(req, buf);
		latency[req] = now_s() - t0;
	}
	free(buf);
	return NULL;
}

static long rss_kib(int pid)
{
	char path[64], line[256];
	FILE *f;
	long v = -1;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Samples the daemon's RSS every 100 ms while the clients run. */
static void *rss_sampler(void *arg)
{
	(void)arg;
	while (atomic_load(&running)) {
		long v = rss_kib(cfg.pid);
		if (v > rss_peak)
			rss_peak = v;
		usleep(100000);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *sorted, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);

	return sorted[i < n ? i : n - 1];
}

static void usage(void)
{
	fputs("usage: loadgen --socket PATH [--clients N] [--requests M] [--seed S]\n"
	      "               [--max-size BYTES] [--chunk BYTES] [--pid PID] [--label NAME]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'c' },
		{ "requests", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'S' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "chunk", required_argument, NULL, 'k' },
		{ "pid", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	pthread_t *th, sampler;
	uint64_t s;
	double t0, elapsed;
	long rss0, rss1;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': cfg.socket = optarg; break;
		case 'c': cfg.clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': cfg.requests = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'S': cfg.seed = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': cfg.max_size = strtoul(optarg, NULL, 10); break;
		case 'k': cfg.chunk = strtoul(optarg, NULL, 10); break;
		case 'p': cfg.pid = atoi(optarg); break;
		case 'l': cfg.label = optarg; break;
		default: usage();
		}
	}
	if (cfg.socket == NULL || cfg.clients == 0 || cfg.requests == 0 || cfg.chunk == 0 ||
	    cfg.max_size < 4096)
		usage();
	pool_len = cfg.max_size * 2 + 4096;
	pool = malloc(pool_len);
	latency = calloc(cfg.requests, sizeof(*latency));
	th = calloc(cfg.clients, sizeof(*th));
	if (pool == NULL || latency == NULL || th == NULL) {
		fputs("loadgen: out of memory\n", stderr);
		return 1;
	}
	/* Pseudo-random bytes: nothing in them matches a test signature. */
	s = 0x1234567 + cfg.seed;
	for (size_t i = 0; i < pool_len; i++)
		pool[i] = (unsigned char)(rng(&s) >> 56);

	rss0 = rss_kib(cfg.pid);
	atomic_store(&running, 1);
	if (cfg.pid > 0 && pthread_create(&sampler, NULL, rss_sampler, NULL) != 0)
		cfg.pid = 0;
	t0 = now_s();
	for (unsigned i = 0; i < cfg.clients; i++)
		if (pthread_create(&th[i], NULL, client, NULL) != 0) {
			fputs("loadgen: can't start a client thread\n", stderr);
			return 1;
		}
	for (unsigned i = 0; i < cfg.clients; i++)
		pthread_join(th[i], NULL);
	elapsed = now_s() - t0;
	atomic_store(&running, 0);
	if (cfg.pid > 0)
		pthread_join(sampler, NULL);
	rss1 = rss_kib(cfg.pid);

	qsort(latency, cfg.requests, sizeof(*latency), cmp_double);
	printf("%s: %u requests, %u clients, %.2f s, %.0f requests/s, %.1f MiB/s, "
	       "latency p50 %.2f ms p95 %.2f ms p99 %.2f ms max %.2f ms, errors %u",
	       cfg.label, cfg.requests, cfg.clients, elapsed, (double)cfg.requests / elapsed,
	       (double)atomic_load(&bytes_sent) / elapsed / (1024.0 * 1024.0),
	       pct(latency, cfg.requests, 50) * 1e3, pct(latency, cfg.requests, 95) * 1e3,
	       pct(latency, cfg.requests, 99) * 1e3, latency[cfg.requests - 1] * 1e3,
	       atomic_load(&errors));
	if (rss0 >= 0)
		printf(", RSS start %ld KiB peak %ld KiB end %ld KiB", rss0, rss_peak, rss1);
	printf("\n");
	free(pool);
	free(latency);
	free(th);
	return atomic_load(&errors) == 0 ? 0 : 1;
}
