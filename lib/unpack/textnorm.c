/* Text normalisation for target 7 (ClamAV's textnorm.c rules, one table):
 * what a signature writer sees after lower-casing, collapsing white space
 * and dropping everything that is not printable ASCII. A byte that is
 * dropped does not end a run of white space ("a \x01 b" gives "a b"). */
#include "unpack/unpack.h"

enum { COPY, SKIP, SPACE, LOWER };

static inline uint8_t action(uint8_t c)
{
	if (c >= 0x80)
		return SKIP;
	if ((c >= 9 && c <= 13) || c == ' ')
		return SPACE;
	if (c < 0x20)
		return SKIP;
	if (c >= 'A' && c <= 'Z')
		return LOWER;
	return COPY; /* including 0x7f, as ClamAV */
}

void textnorm_init(struct textnorm *t)
{
	t->space = false;
}

size_t textnorm_run(struct textnorm *t, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		switch (action(c)) {
		case SKIP:
			break;
		case SPACE:
			if (!t->space)
				out[o++] = ' ';
			t->space = true;
			break;
		case LOWER:
			c = (uint8_t)(c + 32);
			/* fall through */
		default:
			out[o++] = c;
			t->space = false;
		}
	}
	return o;
}
