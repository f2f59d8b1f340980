/*
 * test_proto.c - vigild's clamd command parser (tools/vigild/proto.c): the
 * framing and table quirks measured on clamd 1.4.6, then random input
 * (deterministic) to show the parser stays inside its buffer whatever it
 * is given. Run under ASan in the asan preset.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static int failures;

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                     \
		}                                                                       \
	} while (0)

/* Frame the first command of a literal; returns the parsed command. */
static enum vd_cmd first(const char *lit, size_t len, struct vd_frame *f, const char **arg)
{
	static unsigned char buf[VD_CMD_BUFSIZE + 1];

	memcpy(buf, lit, len);
	if (!vd_proto_next(buf, len, 0, f))
		return (enum vd_cmd) - 1;
	return vd_proto_parse(f->text, f->oldstyle, arg);
}

static void test_framing(void)
{
	struct vd_frame f;
	const char *arg;

	CHECK(first("zPING", 6, &f, &arg) == VD_CMD_PING);
	CHECK(f.term == '\0' && !f.oldstyle && f.cmdlen == 5);
	CHECK(first("nPING\n", 6, &f, &arg) == VD_CMD_PING);
	CHECK(f.term == '\n' && f.cmdlen == 5);
	CHECK(first("nPING\r\n", 7, &f, &arg) == VD_CMD_PING);
	CHECK(f.cmdlen == 5); /* CR cut: the LF stays behind, as in clamd */
	CHECK(first("PING", 4, &f, &arg) == VD_CMD_PING && f.oldstyle && f.term == '\n');
	CHECK(first("PING\0garbage", 12, &f, &arg) == VD_CMD_PING);
	CHECK(first("PING\r\n", 6, &f, &arg) == VD_CMD_PING);
	CHECK(first("zPING", 5, &f, &arg) == (enum vd_cmd) - 1); /* no NUL yet */
	CHECK(first("nPING", 5, &f, &arg) == (enum vd_cmd) - 1);
	CHECK(first("nPING extra\n", 12, &f, &arg) == VD_CMD_UNKNOWN);
	CHECK(first("zPINGX", 7, &f, &arg) == VD_CMD_UNKNOWN);
	CHECK(first("nping\n", 6, &f, &arg) == VD_CMD_UNKNOWN);
	CHECK(first("\n", 1, &f, &arg) == VD_CMD_UNKNOWN);
}

static void test_table(void)
{
	struct vd_frame f;
	const char *arg;

	CHECK(first("zSCAN /x", 9, &f, &arg) == VD_CMD_SCAN && strcmp(arg, "/x") == 0);
	CHECK(first("zSCANX /x", 10, &f, &arg) == VD_CMD_SCAN && strcmp(arg, " /x") == 0);
	CHECK(first("zSCAN", 6, &f, &arg) == VD_CMD_UNKNOWN);
	CHECK(first("zSCAN ", 7, &f, &arg) == VD_CMD_SCAN && strcmp(arg, "") == 0);
	CHECK(first("zVERSIONCOMMANDS", 17, &f, &arg) == VD_CMD_VERSIONCOMMANDS);
	CHECK(first("VERSIONCOMMANDS\n", 16, &f, &arg) == VD_CMD_UNKNOWN);
	CHECK(first("VERSION\n", 8, &f, &arg) == VD_CMD_VERSION);
	CHECK(first("zDETSTATS", 10, &f, &arg) == VD_CMD_DETSTATS);
	CHECK(first("zDETSTATSCLEAR", 15, &f, &arg) == VD_CMD_DETSTATSCLEAR);
	CHECK(first("zQUIT", 6, &f, &arg) == VD_CMD_SHUTDOWN);
	CHECK(first("INSTREAM\n", 9, &f, &arg) == VD_CMD_UNKNOWN);
	CHECK(first("STATS\n", 6, &f, &arg) == VD_CMD_UNKNOWN);
	CHECK(first("zSTATS", 7, &f, &arg) == VD_CMD_STATS);
	CHECK(first("IDSESSION\n", 10, &f, &arg) == VD_CMD_UNKNOWN);
	CHECK(first("END\n", 4, &f, &arg) == VD_CMD_UNKNOWN);
	CHECK(first("FILDES\n", 7, &f, &arg) == VD_CMD_FILDES);
	CHECK(first("ALLMATCHSCAN /x\n", 16, &f, &arg) == VD_CMD_UNKNOWN);
	CHECK(first("zALLMATCHSCAN /x", 17, &f, &arg) == VD_CMD_ALLMATCHSCAN);
	CHECK(strstr(vd_proto_command_list, "SCAN QUIT RELOAD PING") == vd_proto_command_list);
}

/* Several commands in one buffer, walked the way the daemon walks them. */
static void test_pipeline(void)
{
	unsigned char buf[64] = "zPING\0nVERSION\nzEND";
	size_t len = 20, off = 0;
	struct vd_frame f;
	const char *arg;

	CHECK(vd_proto_next(buf, len, off, &f) == 1);
	CHECK(vd_proto_parse(f.text, f.oldstyle, &arg) == VD_CMD_PING);
	off += f.cmdlen + 1;
	CHECK(vd_proto_next(buf, len, off, &f) == 1);
	CHECK(vd_proto_parse(f.text, f.oldstyle, &arg) == VD_CMD_VERSION);
	off += f.cmdlen + 1;
	CHECK(vd_proto_next(buf, len, off, &f) == 1);
	CHECK(vd_proto_parse(f.text, f.oldstyle, &arg) == VD_CMD_END);
	off += f.cmdlen + 1;
	CHECK(off == len);
	/* legacy framing is not recognised past the start */
	memcpy(buf, "zPING\0PING\n", 11);
	CHECK(vd_proto_next(buf, 11, 6, &f) == 0);
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void test_random(void)
{
	static const char alphabet[] = "zn\0\n\r SCANPINGVERSIONFILDESINSTREAMEND/xQUITIDSESSION";
	unsigned char *buf = malloc(VD_CMD_BUFSIZE + 1);
	uint64_t s = 42;

	for (unsigned iter = 0; iter < 200000; iter++) {
		size_t len = (size_t)(rng(&s) % 64) + (iter % 100 == 0 ? rng(&s) % VD_CMD_BUFSIZE : 0);
		size_t off = 0;
		struct vd_frame f;

		if (len > VD_CMD_BUFSIZE)
			len = VD_CMD_BUFSIZE;
		for (size_t i = 0; i < len; i++)
			buf[i] = rng(&s) % 4 == 0 ? (unsigned char)rng(&s)
						  : (unsigned char)alphabet[rng(&s) % (sizeof(alphabet) - 1)];
		/* The daemon's loop: next command at off, legacy only at 0. */
		for (unsigned guard = 0; guard < 4200 && off < len; guard++) {
			const char *arg;
			enum vd_cmd cmd;
			if (!vd_proto_next(buf, len, off, &f))
				break;
			CHECK(f.text >= (char *)buf && f.text <= (char *)buf + len);
			CHECK(f.term_off <= len);
			CHECK(strlen(f.text) <= len - f.text_off);
			cmd = vd_proto_parse(f.text, f.oldstyle, &arg);
			CHECK(cmd >= VD_CMD_UNKNOWN && cmd <= VD_CMD_ALLMATCHSCAN);
			CHECK(arg == NULL || (arg >= f.text && arg <= f.text + strlen(f.text)));
			off += f.cmdlen + 1;
		}
	}
	free(buf);
}

int main(void)
{
	test_framing();
	test_table();
	test_pipeline();
	test_random();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	puts("proto: all checks passed");
	return 0;
}
