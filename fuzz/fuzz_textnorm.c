/* Fuzz target: the text normaliser, in one piece and in pieces whose sizes
 * come from the input; both must give the same bytes, never more than went
 * in. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "unpack/unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct textnorm t1, t2;
	uint8_t *a = malloc(size + 1), *b = malloc(size + 1);
	size_t na, nb = 0, piece = size ? (size_t)data[0] % 17 + 1 : 1;

	if (!a || !b)
		abort();
	textnorm_init(&t1);
	textnorm_init(&t2);
	na = textnorm_run(&t1, data, size, a);
	for (size_t i = 0; i < size; i += piece) {
		size_t n = size - i < piece ? size - i : piece;
		nb += textnorm_run(&t2, data + i, n, b + nb);
	}
	if (na > size || na != nb || memcmp(a, b, na) != 0)
		abort();
	free(a);
	free(b);
	return 0;
}
