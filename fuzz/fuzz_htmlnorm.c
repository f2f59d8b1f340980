/* Fuzz target: the HTML normaliser, in one piece with a large output buffer
 * and in small pieces through a small one; both must give the same bytes,
 * and the counters must agree with what was written. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "unpack/unpack.h"

struct run {
	uint8_t *nc, *nt;
	size_t nc_len, nt_len, size;
};

static void norm(const uint8_t *data, size_t size, size_t piece, size_t cap, struct run *r)
{
	struct htmlnorm *h = malloc(sizeof(*h));
	uint8_t *b1 = malloc(cap), *b2 = malloc(cap);
	struct htmlnorm_out o;

	if (!h || !b1 || !b2)
		abort();
	/* one input byte adds at most HTMLNORM_MAX_STEP to either output */
	r->size = (size + 1) * HTMLNORM_MAX_STEP;
	r->nc = malloc(r->size);
	r->nt = malloc(r->size);
	if (!r->nc || !r->nt)
		abort();
	r->nc_len = r->nt_len = 0;
	htmlnorm_init(h);
	memset(&o, 0, sizeof(o));
	o.nocomment = b1;
	o.notags = b2;
	o.cap = cap;
	for (size_t i = 0; i < size;) {
		size_t n = size - i < piece ? size - i : piece;
		i += htmlnorm_run(h, data + i, n, &o);
		if (o.nocomment_len > cap || o.notags_len > cap)
			abort();
		memcpy(r->nc + r->nc_len, b1, o.nocomment_len);
		memcpy(r->nt + r->nt_len, b2, o.notags_len);
		r->nc_len += o.nocomment_len;
		r->nt_len += o.notags_len;
		o.nocomment_len = o.notags_len = 0;
	}
	htmlnorm_finish(h, &o);
	memcpy(r->nc + r->nc_len, b1, o.nocomment_len);
	r->nc_len += o.nocomment_len;
	if (o.nocomment_total != r->nc_len || o.notags_total != r->nt_len)
		abort();
	free(b1);
	free(b2);
	free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a, b;
	size_t piece = size ? (size_t)data[0] % 29 + 1 : 1;

	norm(data, size, size ? size : 1, 1u << 20, &a);
	norm(data, size, piece, HTMLNORM_MAX_STEP + 1 + piece, &b);
	if (a.nc_len != b.nc_len || a.nt_len != b.nt_len || memcmp(a.nc, b.nc, a.nc_len) != 0 ||
	    memcmp(a.nt, b.nt, a.nt_len) != 0)
		abort();
	free(a.nc);
	free(a.nt);
	free(b.nc);
	free(b.nt);
	return 0;
}
