/* Test helper: writes one normalised view of a file to stdout, through the
 * same streaming path the scanner uses (lib/scan/views.c), so that
 * run_targets.py can compare it byte for byte with the files clamscan
 * leaves behind with --leave-temps.
 *   normdump text|nocomment|notags [--utf16] FILE */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/views.h"

int main(int argc, char **argv)
{
	struct scan_input in;
	struct view *v;
	struct view_sizes vs;
	enum view_kind k;
	struct stat st;
	bool utf16 = argc == 4 && strcmp(argv[2], "--utf16") == 0;
	uint64_t want, total = 0;
	uint8_t buf[4096];
	int fd;

	if (argc != 3 && !(argc == 4 && utf16)) {
		fprintf(stderr, "usage: normdump text|nocomment|notags [--utf16] FILE\n");
		return 2;
	}
	if (strcmp(argv[1], "text") == 0)
		k = VIEW_TEXT;
	else if (strcmp(argv[1], "nocomment") == 0)
		k = VIEW_HTML_NOCOMMENT;
	else if (strcmp(argv[1], "notags") == 0)
		k = VIEW_HTML_NOTAGS;
	else {
		fprintf(stderr, "normdump: unknown view '%s': text, nocomment or notags\n", argv[1]);
		return 2;
	}
	fd = open(argv[argc - 1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(argv[argc - 1]);
		return 1;
	}
	memset(&in, 0, sizeof(in));
	in.fd = fd;
	in.fd_is_regular = true;
	in.size = (uint64_t)st.st_size;
	v = calloc(1, sizeof(*v));
	if (!v || view_measure(v, &in, in.size, utf16, k == VIEW_TEXT, k != VIEW_TEXT, &vs) != VG_OK) {
		fprintf(stderr, "normdump: cannot read %s\n", argv[argc - 1]);
		return 1;
	}
	want = k == VIEW_TEXT ? vs.text : k == VIEW_HTML_NOCOMMENT ? vs.nocomment : vs.notags;
	view_begin(v, k, &in, in.size, utf16);
	for (;;) {
		size_t got;
		if (view_pull(v, buf, sizeof(buf), &got) != VG_OK) {
			fprintf(stderr, "normdump: read error\n");
			return 1;
		}
		if (!got)
			break;
		fwrite(buf, 1, got, stdout);
		total += got;
	}
	if (total != want) { /* the measuring pass must agree with the output */
		fprintf(stderr, "normdump: measured %llu bytes, produced %llu\n",
			(unsigned long long)want, (unsigned long long)total);
		return 3;
	}
	view_free(v);
	free(v);
	close(fd);
	return 0;
}
