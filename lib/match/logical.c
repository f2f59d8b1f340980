/* Logical signatures (.ldb): the expression over subsignature match counts
 * and byte-compare subsignatures, with ClamAV's semantics.
 *
 * ClamAV's expression grammar has no precedence and a particular way of
 * grouping, which real signatures depend on, so it is reproduced as ClamAV
 * reads it (libclamav/matcher-ac.c, cli_ac_chklsig), not as a textbook
 * parser would:
 *   - scanning left to right, the first operator found outside parentheses
 *     splits the expression: "0&1|2" is "0 & (1|2)";
 *   - an expression that is one parenthesised block, optionally followed by
 *     a count modifier "(...)=x[,y]", splits at the LAST operator found one
 *     level inside the block;
 *   - a block's count is the sum of its operands' counts (0 when the block
 *     is false); ",y" asks for y distinct subsignatures among them;
 *   - "=0" on one subsignature is true when it did not match (negation);
 *   - "(0)=2" is a syntax error in ClamAV and so here.
 * The same routine checks an expression at load (returning the highest
 * index) and evaluates it at scan time. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

/* Recursion strips at least one character per level; a bound keeps hostile
 * nesting from exhausting the stack. */
#define LOGICAL_MAX_DEPTH 256u

/* sscanf("%u") as ClamAV uses it: optional spaces and '+', then digits. */
static bool scan_uint(const char *s, size_t len, uint32_t *out, size_t *used)
{
	size_t i = 0;
	uint64_t v = 0;
	bool any = false;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && s[i] == '+')
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			v = UINT32_MAX;
		any = true;
		i++;
	}
	if (!any)
		return false;
	*out = (uint32_t)v;
	if (used)
		*used = i;
	return true;
}

static bool is_mod(char ch)
{
	return ch == '=' || ch == '<' || ch == '>';
}

struct lctx {
	const uint32_t *counts; /* NULL: check only */
	const char *why;
};

static int compare(char mod, uint32_t val, uint32_t x)
{
	switch (mod) {
	case '=': return val == x;
	case '<': return val < x;
	case '>': return val > x;
	default: return 0;
	}
}

static int chk(struct lctx *lc, const char *e, size_t len, uint32_t *cnt, uint64_t *ids,
	       unsigned depth)
{
	size_t i, opoff = 0, op1off = 0, blkend = 0, modoff = 0, lstart = 0, rend = len;
	unsigned pth = 0;
	char op = 0, op1 = 0, mod = 0, blkmod = 0;
	uint32_t mv1 = 0, mv2 = 0, lcnt = 0, rcnt = 0, id, val;
	uint64_t lids = 0, rids = 0;
	int lval, rval, ret;

	if (depth > LOGICAL_MAX_DEPTH) {
		lc->why = "expression nested too deeply";
		return -1;
	}
	for (i = 0; i < len; i++) {
		switch (e[i]) {
		case '(':
			pth++;
			break;
		case ')':
			if (!pth) {
				lc->why = "')' without a matching '('";
				return -1;
			}
			pth--;
			mod = e[i];
			modoff = i;
			break;
		case '>':
		case '<':
		case '=':
			mod = e[i];
			modoff = i;
			break;
		case '&':
		case '|':
			if (!pth) {
				op = e[i];
				opoff = i;
			} else if (pth == 1) {
				op1 = e[i];
				op1off = i;
			}
			break;
		default:
			break;
		}
		if (op)
			break;
		if (op1 && !pth) {
			blkend = i;
			if (i + 1 < len && is_mod(e[i + 1])) {
				size_t used;
				blkmod = e[i + 1];
				if (!scan_uint(e + i + 2, len - i - 2, &mv1, &used)) {
					lc->why = "missing number after a block's '=', '<' or '>'";
					return -1;
				}
				if (i + 2 + used < len && e[i + 2 + used] == ',')
					(void)scan_uint(e + i + 3 + used, len - i - 3 - used, &mv2, NULL);
				for (i += 2; i + 1 < len && (isdigit((unsigned char)e[i + 1]) || e[i + 1] == ',');
				     i++)
					;
			}
			if (i + 1 >= len)
				break;
			blkmod = 0;
		}
	}
	if (pth) {
		lc->why = "'(' without a matching ')'";
		return -1;
	}
	if (!op && !op1) {
		if (len && e[0] == '(')
			return chk(lc, e + 1, len - 2, cnt, ids, depth + 1);
		if (!scan_uint(e, len, &id, NULL)) {
			lc->why = "expected a subsignature number";
			return -1;
		}
		if (id >= LOGICAL_MAX_SUBS) {
			lc->why = "subsignature number above 63";
			return -1;
		}
		val = lc->counts ? lc->counts[id] : id;
		if (mod) {
			if (!scan_uint(e + modoff + 1, len - modoff - 1, &mv1, NULL)) {
				lc->why = "missing number after '=', '<' or '>'";
				return -1;
			}
			if (lc->counts) {
				if (!compare(mod, val, mv1))
					return 0;
				*cnt += val;
				*ids |= (uint64_t)1 << id;
				return 1;
			}
		}
		if (!lc->counts)
			return (int)val;
		if (!val)
			return 0;
		*cnt += val;
		*ids |= (uint64_t)1 << id;
		return 1;
	}
	if (!op) {
		op = op1;
		opoff = op1off;
		lstart = 1;
		rend = blkend;
	}
	if (!opoff) {
		lc->why = "operator without a left operand";
		return -1;
	}
	if (opoff + 1 == len) {
		lc->why = "operator without a right operand";
		return -1;
	}
	if (rend < opoff + 1) {
		lc->why = "malformed block";
		return -1;
	}
	lval = chk(lc, e + lstart, opoff - lstart, &lcnt, &lids, depth + 1);
	if (lval < 0)
		return -1;
	rval = chk(lc, e + opoff + 1, rend - opoff - 1, &rcnt, &rids, depth + 1);
	if (rval < 0)
		return -1;
	if (!lc->counts)
		return lval > rval ? lval : rval;
	ret = op == '&' ? (lval && rval) : (lval || rval);
	if (!blkmod) {
		if (ret) {
			*cnt += lcnt + rcnt;
			*ids |= lids | rids;
		}
		return ret;
	}
	{
		uint32_t tcnt = ret ? lcnt + rcnt : 0;
		uint64_t tids = ret ? lids | rids : 0;

		if (!compare(blkmod, tcnt, mv1))
			return 0;
		if (mv2 && (uint32_t)__builtin_popcountll(tids) < mv2)
			return 0;
		*cnt += tcnt;
		return 1;
	}
}

int logical_check(const char *expr, size_t len, const char **why)
{
	struct lctx lc = {NULL, NULL};
	uint32_t cnt = 0;
	uint64_t ids = 0;
	int r;

	if (len == 0) {
		*why = "empty expression";
		return -1;
	}
	r = chk(&lc, expr, len, &cnt, &ids, 0);
	if (r < 0)
		*why = lc.why ? lc.why : "malformed expression";
	return r;
}

int logical_eval(const char *expr, size_t len, const uint32_t counts[LOGICAL_MAX_SUBS])
{
	struct lctx lc = {counts, NULL};
	uint32_t cnt = 0;
	uint64_t ids = 0;

	return chk(&lc, expr, len, &cnt, &ids, 0) == 1;
}

/* ---------------------------------------------------------------------- */
/* Byte compare                                                            */

/* strtoll(base 0) over s[0..len) that must consume all of it. */
static bool parse_ll(const char *s, size_t len, int64_t *out)
{
	char tmp[72], *end;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*out = strtoll(tmp, &end, 0);
	return *end == '\0';
}

bool bcomp_parse(const char *text, size_t len, struct bcomp *out, const char **why, size_t *col)
{
	size_t i = 0, open, close, tok[4], ntok = 0, t1, t1end;
	int64_t v;

	memset(out, 0, sizeof(*out));
	while (i < len && text[i] >= '0' && text[i] <= '9')
		i++;
	if (i == 0 || i >= len || text[i] != '(' || !parse_ll(text, i, &v) || v >= LOGICAL_MAX_SUBS) {
		*why = "a byte compare starts with the number of the subsignature it refers to, then '('";
		*col = i;
		return false;
	}
	out->ref = (uint32_t)v;
	open = i;
	close = open + 1;
	while (close < len && text[close] != ')')
		close++;
	if (close >= len) {
		*why = "byte compare without its closing ')'";
		*col = len;
		return false;
	}
	tok[ntok++] = open + 1;
	for (i = open + 1; i < close; i++)
		if (text[i] == '#') {
			if (ntok == 4)
				break;
			tok[ntok++] = i + 1;
		}
	if (ntok != 3 || i < close) {
		*why = "a byte compare has three '#'-separated fields: offset#options+length#comparison";
		*col = open + 1;
		return false;
	}
	/* offset: >>n, <<n, or 0 / empty */
	{
		const char *s = text + tok[0];
		size_t n = tok[1] - 1 - tok[0];
		if (n >= 2 && (s[0] == '>' || s[0] == '<') && s[1] == s[0]) {
			if (!parse_ll(s + 2, n - 2, &v)) {
				*why = "bad byte compare offset: expected >>n or <<n";
				*col = tok[0];
				return false;
			}
			out->off = s[0] == '<' ? -v : v;
		} else if (n == 0 || s[0] == '0') {
			out->off = 0;
		} else {
			*why = "bad byte compare offset: expected >>n or <<n";
			*col = tok[0];
			return false;
		}
	}
	/* options, then the length */
	t1 = tok[1];
	t1end = tok[2] - 1;
	for (i = t1; i < t1end && !isdigit((unsigned char)text[i]); i++) {
		bool bad = false;
		switch (text[i]) {
		case 'h': bad = out->base != 0; out->base = BCOMP_HEX; break;
		case 'd': bad = out->base != 0 || out->little == 1; out->base = BCOMP_DEC; out->little = 2; break;
		case 'i': bad = out->base != 0; out->base = BCOMP_BIN; break;
		case 'a': bad = out->base != 0; out->base = BCOMP_AUTO; break;
		case 'l': bad = out->little == 2; out->little = 1; break;
		case 'b': bad = out->little == 1; out->little = 2; break;
		case 'e': out->exact = 1; break;
		default: bad = true; break;
		}
		if (bad) {
			*why = "bad byte compare option: one of h d a i, then l or b, then e (d is big-endian)";
			*col = i;
			return false;
		}
	}
	if (!parse_ll(text + i, t1end - i, &v) || v <= 0 || v > 1024) {
		*why = "bad byte compare length";
		*col = i;
		return false;
	}
	out->len = (uint32_t)v;
	if (out->base == BCOMP_BIN && (out->len > 8 || 8 % out->len)) {
		*why = "a binary byte compare reads 1, 2, 4 or 8 bytes";
		*col = i;
		return false;
	}
	if (out->base == BCOMP_HEX && out->len > 18) {
		*why = "a hex byte compare reads at most 18 bytes";
		*col = i;
		return false;
	}
	/* one or two comparisons */
	{
		size_t s = tok[2], e = close, comma = s;
		while (comma < e && text[comma] != ',')
			comma++;
		for (int k = 0; k < 2 && s <= e; k++) {
			size_t stop = k == 0 ? comma : e;
			if (stop <= s || !is_mod(text[s]) || !parse_ll(text + s + 1, stop - s - 1, &v)) {
				*why = "bad byte compare comparison: expected <n, >n or =n (at most two, comma-separated)";
				*col = s;
				return false;
			}
			out->cmp_op[k] = text[s];
			out->cmp_val[k] = v;
			out->ncmp++;
			if (comma >= e)
				break;
			s = comma + 1;
			if (memchr(text + s, ',', e - s)) {
				*why = "too many comparisons in a byte compare (at most two)";
				*col = s;
				return false;
			}
		}
	}
	return true;
}

/* Binary fields are unsigned (libclamav 1.4.6 compares them as uint64_t
 * against the signed value, so "<0" never holds); text numbers are signed. */
static bool cmp_holds(char op, bool bin, uint64_t bv, int64_t v, int64_t x)
{
	switch (op) {
	case '>': return bin ? bv > (uint64_t)x : v > x;
	case '<': return bin ? bv < (uint64_t)x : v < x;
	case '=': return bin ? bv == (uint64_t)x : v == x;
	default: return false;
	}
}

bool bcomp_check(const struct bcomp *b, const uint8_t *data, size_t len, uint64_t ref_start)
{
	uint64_t at;
	uint64_t bv = 0;
	int64_t v = 0;
	bool bin = b->base == BCOMP_BIN;

	/* ClamAV's bounds: a positive offset must fit the bytes, a zero or
	 * negative one must land after the first byte of the file */
	if (b->off > 0) {
		at = ref_start + (uint64_t)b->off;
		if (at < ref_start || at > len || b->len > len - at)
			return false;
	} else {
		uint64_t back = (uint64_t)(-b->off);
		if (ref_start <= back)
			return false;
		at = ref_start - back;
		if (at > len || b->len > len - at)
			return false;
	}
	if (bin) {
		if (!b->little)
			return false;
		for (uint32_t i = 0; i < b->len; i++) {
			uint32_t k = b->little == 1 ? b->len - 1 - i : i;
			bv = bv << 8 | data[at + k];
		}
	} else {
		char tmp[1100], *end;
		size_t pad = 0, n = b->len;
		int base;
		const uint8_t *s = data + at;

		while (pad < n && isspace(s[pad]))
			pad++;
		s += pad;
		n -= pad;
		if (b->base == BCOMP_AUTO)
			base = n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
		else
			base = b->base == BCOMP_HEX ? 16 : b->base == BCOMP_DEC ? 10 : 0;
		if (base == 0 || b->little == 0 || (base == 10 && b->little == 1))
			return false;
		if (base == 16 && b->little == 1) {
			/* little-endian hex text: reverse the byte pairs */
			size_t m = n % 2 ? n + 1 : n, o = 0;
			char pairs[1100];
			if (n % 2) {
				pairs[0] = '0';
				memcpy(pairs + 1, s, n);
			} else {
				memcpy(pairs, s, n);
			}
			for (size_t k = m; k >= 2; k -= 2) {
				tmp[o++] = pairs[k - 2];
				tmp[o++] = pairs[k - 1];
			}
			tmp[o] = '\0';
			n = m;
		} else {
			memcpy(tmp, s, n);
			tmp[n] = '\0';
		}
		/* no digits reads as 0, as ClamAV's cli_strntol leaves it */
		v = strtoll(tmp, &end, base);
		if (b->exact && ((size_t)(end - tmp) != n || pad != 0))
			return false;
	}
	for (uint8_t k = 0; k < b->ncmp; k++)
		if (!cmp_holds(b->cmp_op[k], bin, bv, v, b->cmp_val[k]))
			return false;
	return true;
}
