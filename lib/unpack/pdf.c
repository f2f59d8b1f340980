/* PDF: every stream decoded through its filter chain, embedded files under
 * their names, objects inside object streams (/Type/ObjStm).
 *
 * The cross-reference table is never trusted (it is the first thing
 * malformed and malicious files get wrong): objects are found by scanning
 * for "N G obj", and a stream's extent comes from its /Length when
 * "endstream" follows it there, else from the next "endstream". An object
 * header found inside a stream's data is not an object. When the same
 * object number is defined twice, the later one wins, as with incremental
 * updates.
 *
 * Work is linear in the input: each byte is scanned a bounded number of
 * times, the objects indexed are capped (VG_PDF_MAX_OBJECTS), every decoder
 * stops at sink->max_child bytes of output, and decoded object streams kept
 * for lookups share one budget (VG_PDF_MAX_OBJSTM_BYTES).
 *
 * Filters: FlateDecode (zlib, or raw deflate when the zlib header is
 * missing), ASCIIHexDecode, ASCII85Decode, LZWDecode (EarlyChange), and
 * RunLengthDecode, chained, with PNG and TIFF predictors after Flate and
 * LZW. Image codecs (DCT, JPX, CCITT, JBIG2) and Crypt end a chain: the data
 * decoded so far is handed over. JavaScript kept in strings (/JS) is handed
 * over too. Encrypted documents are not decrypted: their streams are handed
 * over as they are, marked encrypted. */
#include <stdlib.h>
#include <string.h>

#include "unpack/unpack.h"
#include "unpack/zinflate.h"

/* ---- bytes ---- */

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

static bool is_delim(uint8_t c)
{
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
	       c == '}' || c == '/' || c == '%';
}

static bool is_regular(uint8_t c)
{
	return !is_ws(c) && !is_delim(c);
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool starts_with(const uint8_t *p, size_t len, size_t pos, const char *word)
{
	size_t n = strlen(word);
	return pos <= len && len - pos >= n && memcmp(p + pos, word, n) == 0;
}

static const uint8_t *find(const uint8_t *p, size_t from, size_t to, const char *word)
{
	if (from >= to)
		return NULL;
	return memmem(p + from, to - from, word, strlen(word));
}

/* ---- tokens and values ---- */

enum tok {
	T_EOF, T_NAME, T_NUM, T_STR, T_HEX, T_DICT, T_DICT_END, T_ARR, T_ARR_END, T_WORD, T_BAD
};

struct lex {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static void skip_ws(struct lex *l)
{
	while (l->pos < l->len) {
		uint8_t c = l->p[l->pos];
		if (is_ws(c)) {
			l->pos++;
		} else if (c == '%') {
			while (l->pos < l->len && l->p[l->pos] != '\n' && l->p[l->pos] != '\r')
				l->pos++;
		} else {
			break;
		}
	}
}

/* The next token; [*s, *e) is its text (for strings: inside the brackets). */
static enum tok next_tok(struct lex *l, size_t *s, size_t *e)
{
	uint8_t c;

	skip_ws(l);
	*s = *e = l->pos;
	if (l->pos >= l->len)
		return T_EOF;
	c = l->p[l->pos];
	switch (c) {
	case '/':
		l->pos++;
		*s = l->pos;
		while (l->pos < l->len && is_regular(l->p[l->pos]))
			l->pos++;
		*e = l->pos;
		return T_NAME;
	case '(': {
		size_t depth = 1;
		l->pos++;
		*s = l->pos;
		while (l->pos < l->len) {
			c = l->p[l->pos];
			if (c == '\\') {
				l->pos += l->pos + 1 < l->len ? 2 : 1;
				continue;
			}
			if (c == '(')
				depth++;
			else if (c == ')' && --depth == 0)
				break;
			l->pos++;
		}
		*e = l->pos;
		if (l->pos < l->len)
			l->pos++;
		return T_STR;
	}
	case '<':
		if (l->pos + 1 < l->len && l->p[l->pos + 1] == '<') {
			l->pos += 2;
			*e = l->pos;
			return T_DICT;
		}
		l->pos++;
		*s = l->pos;
		while (l->pos < l->len && l->p[l->pos] != '>')
			l->pos++;
		*e = l->pos;
		if (l->pos < l->len)
			l->pos++;
		return T_HEX;
	case '>':
		if (l->pos + 1 < l->len && l->p[l->pos + 1] == '>') {
			l->pos += 2;
			*e = l->pos;
			return T_DICT_END;
		}
		l->pos++;
		*e = l->pos;
		return T_BAD;
	case '[':
		l->pos++;
		*e = l->pos;
		return T_ARR;
	case ']':
		l->pos++;
		*e = l->pos;
		return T_ARR_END;
	default:
		break;
	}
	if (!is_regular(c)) {
		l->pos++;
		*e = l->pos;
		return T_BAD;
	}
	while (l->pos < l->len && is_regular(l->p[l->pos]))
		l->pos++;
	*e = l->pos;
	return is_digit(c) || c == '+' || c == '-' || c == '.' ? T_NUM : T_WORD;
}

enum vtype { V_NONE, V_NUM, V_REF, V_NAME, V_STR, V_HEX, V_DICT, V_ARR, V_WORD };

/* A value in a buffer: for dictionaries and arrays [s, e) spans the
 * brackets, for the rest it is the token's text. */
struct pval {
	enum vtype type;
	const uint8_t *p;
	size_t s, e;
	uint32_t ref; /* V_REF: the object number */
};

/* A non-negative integer with no fraction; false otherwise. */
static bool parse_uint(const uint8_t *p, size_t s, size_t e, uint64_t *out)
{
	uint64_t v = 0;

	if (s < e && p[s] == '+')
		s++;
	if (s >= e || e - s > 19)
		return false;
	for (size_t i = s; i < e; i++) {
		if (!is_digit(p[i]))
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return true;
}

static bool read_value(struct lex *l, struct pval *v)
{
	size_t s, e;
	enum tok t = next_tok(l, &s, &e);

	memset(v, 0, sizeof(*v));
	v->p = l->p;
	v->s = s;
	v->e = e;
	switch (t) {
	case T_NUM: {
		/* "n g R" is a reference */
		struct lex save = *l;
		size_t s2, e2, s3, e3;
		uint64_t num, gen;
		v->type = V_NUM;
		if (next_tok(l, &s2, &e2) == T_NUM && next_tok(l, &s3, &e3) == T_WORD &&
		    e3 - s3 == 1 && l->p[s3] == 'R' && parse_uint(l->p, s, e, &num) &&
		    parse_uint(l->p, s2, e2, &gen) && num <= UINT32_MAX) {
			v->type = V_REF;
			v->ref = (uint32_t)num;
			v->e = e3;
			return true;
		}
		*l = save;
		return true;
	}
	case T_NAME:
		v->type = V_NAME;
		return true;
	case T_STR:
		v->type = V_STR;
		return true;
	case T_HEX:
		v->type = V_HEX;
		return true;
	case T_WORD:
		v->type = V_WORD;
		return true;
	case T_DICT:
	case T_ARR: {
		/* nesting is counted, not recursed into */
		size_t depth = 1;
		v->type = t == T_DICT ? V_DICT : V_ARR;
		while (depth) {
			t = next_tok(l, &s, &e);
			if (t == T_EOF)
				break;
			if (t == T_DICT || t == T_ARR)
				depth++;
			else if (t == T_DICT_END || t == T_ARR_END)
				depth--;
		}
		v->e = l->pos;
		return true;
	}
	default:
		return false;
	}
}

/* Name comparison with #xx escapes decoded (/F#69lter is /Filter). */
static bool name_eq(const uint8_t *p, size_t s, size_t e, const char *want)
{
	size_t j = 0, n = strlen(want);

	for (size_t i = s; i < e; i++, j++) {
		int c = p[i];
		if (c == '#' && i + 2 < e && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
			c = hexval(p[i + 1]) << 4 | hexval(p[i + 2]);
			i += 2;
		}
		if (j >= n || (uint8_t)want[j] != c)
			return false;
	}
	return j == n;
}

/* The value of key in the dictionary dict (a V_DICT). */
static bool dict_get(const struct pval *dict, const char *key, struct pval *out)
{
	struct lex l = {dict->p, dict->e, dict->s};
	size_t s, e;
	struct pval v;

	if (dict->type != V_DICT || next_tok(&l, &s, &e) != T_DICT)
		return false;
	for (;;) {
		enum tok t = next_tok(&l, &s, &e);
		if (t == T_EOF || t == T_DICT_END)
			return false;
		if (t != T_NAME)
			continue;
		if (!read_value(&l, &v))
			continue;
		if (name_eq(l.p, s, e, key)) {
			*out = v;
			return true;
		}
	}
}

static bool is_name(const struct pval *v, const char *name)
{
	return v->type == V_NAME && name_eq(v->p, v->s, v->e, name);
}

/* ---- the object table ---- */

struct pobj {
	const uint8_t *p; /* the buffer holding the object: the file, or a decoded object stream */
	size_t body, end; /* the object's value is p[body..end) */
	size_t data, data_end; /* stream data (in the file) */
	uint64_t pos;     /* where it was defined in the file: the later definition wins */
	uint32_t num;
	uint32_t stm;     /* for an ObjStm: index + 1 of its decoded data in pdf.stms */
	bool stream;
	bool valid;       /* false: a header found inside another object's stream data */
	char *name;       /* embedded file name, from a file specification */
	struct pval val;  /* the object's value, once read */
	bool val_known;
};

struct stm {
	struct buf b;
	bool truncated;
	bool whole; /* decoded to sink->max_child, not to what the budget left */
};

struct index_entry {
	uint32_t num;
	uint32_t obj;
	uint64_t pos;
};

struct pdf {
	const uint8_t *p;
	size_t len;
	struct pobj *objs;
	size_t n, cap;
	struct index_entry *index; /* sorted by (num, pos) */
	size_t nindex;
	struct stm *stms; /* decoded object streams kept for lookups */
	size_t nstms;
	size_t stm_bytes;
	/* bytes of referenced values still allowed to be read: a value
	 * referenced from every stream is paid for each time */
	uint64_t ref_budget;
	bool limit_hit;
	bool encrypted;
	const struct unpack_sink *sink;
};

static vg_status add_obj(struct pdf *d, const struct pobj *o)
{
	if (d->n >= VG_PDF_MAX_OBJECTS) {
		d->limit_hit = true;
		return VG_ELIMIT;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct pobj *objs = vg_reallocarray(d->objs, cap, sizeof(*objs));
		if (!objs)
			return VG_ENOMEM;
		d->objs = objs;
		d->cap = cap;
	}
	d->objs[d->n++] = *o;
	return VG_OK;
}

static int by_num_pos(const void *a, const void *b)
{
	const struct index_entry *x = a, *y = b;

	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->obj < y->obj ? -1 : x->obj > y->obj;
}

static vg_status build_index(struct pdf *d)
{
	vg_free(d->index);
	d->nindex = 0;
	d->index = vg_reallocarray(NULL, d->n ? d->n : 1, sizeof(*d->index));
	if (!d->index)
		return VG_ENOMEM;
	for (size_t i = 0; i < d->n; i++) {
		if (!d->objs[i].valid)
			continue;
		d->index[d->nindex].num = d->objs[i].num;
		d->index[d->nindex].obj = (uint32_t)i;
		d->index[d->nindex++].pos = d->objs[i].pos;
	}
	qsort(d->index, d->nindex, sizeof(*d->index), by_num_pos);
	return VG_OK;
}

/* The latest definition of object num, or NULL. */
static struct pobj *lookup(struct pdf *d, uint32_t num)
{
	size_t lo = 0, hi = d->nindex;

	/* the first entry with a greater number; the one before is the latest */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->index[mid].num <= num)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || d->index[lo - 1].num != num)
		return NULL;
	return &d->objs[d->index[lo - 1].obj];
}

/* The object's own value (its dictionary, for a stream), read once. */
static bool obj_value(struct pobj *o, struct pval *v)
{
	if (!o->val_known) {
		struct lex l = {o->p, o->end, o->body};
		if (!read_value(&l, &o->val))
			o->val.type = V_NONE;
		o->val_known = true;
	}
	*v = o->val;
	return v->type != V_NONE;
}

/* Follows one reference, within the budget for referenced values. */
static void resolve(struct pdf *d, struct pval *v)
{
	struct pobj *o;
	struct pval t;
	size_t size;

	if (v->type != V_REF)
		return;
	o = lookup(d, v->ref);
	v->type = V_NONE;
	if (!o || !obj_value(o, &t))
		return;
	size = t.e - t.s;
	if (size > VG_PDF_MAX_REF_VALUE || size > d->ref_budget)
		return;
	d->ref_budget -= size;
	*v = t;
}

/* An integer, directly or through a reference (reading one token). */
static bool value_uint(struct pdf *d, const struct pval *v, uint64_t *out)
{
	if (v->type == V_REF) {
		const struct pobj *o = lookup(d, v->ref);
		struct lex l;
		size_t s, e;
		if (!o)
			return false;
		/* one token near the start: the same object may be asked for by
		 * every stream */
		l = (struct lex){o->p, o->end - o->body > 64 ? o->body + 64 : o->end, o->body};
		return next_tok(&l, &s, &e) == T_NUM && parse_uint(o->p, s, e, out);
	}
	return v->type == V_NUM && parse_uint(v->p, v->s, v->e, out);
}

/* ---- finding objects ---- */

/* Finds every "N G obj" header, in file order. */
static vg_status find_headers(struct pdf *d)
{
	size_t i = 0;

	while (i + 3 <= d->len) {
		const uint8_t *hit = find(d->p, i, d->len, "obj");
		size_t pos, j, ge, k, ne;
		uint64_t num;
		struct pobj o;
		vg_status rc;

		if (!hit)
			break;
		pos = (size_t)(hit - d->p);
		i = pos + 3;
		if (pos + 3 < d->len && is_regular(d->p[pos + 3]))
			continue;
		j = pos;
		while (j > 0 && is_ws(d->p[j - 1]))
			j--;
		ge = j;
		while (j > 0 && is_digit(d->p[j - 1]) && ge - j < 10)
			j--;
		if (j == ge || (j > 0 && is_digit(d->p[j - 1])))
			continue;
		k = j;
		while (k > 0 && is_ws(d->p[k - 1]))
			k--;
		if (k == j)
			continue;
		ne = k;
		while (k > 0 && is_digit(d->p[k - 1]) && ne - k < 10)
			k--;
		if (k == ne || (k > 0 && is_regular(d->p[k - 1])))
			continue;
		if (!parse_uint(d->p, k, ne, &num) || num > UINT32_MAX)
			continue;
		memset(&o, 0, sizeof(o));
		o.p = d->p;
		o.num = (uint32_t)num;
		o.pos = k;
		o.body = pos + 3;
		o.end = d->len;
		o.valid = true;
		rc = add_obj(d, &o);
		if (rc == VG_ELIMIT)
			break;
		if (rc != VG_OK)
			return rc;
	}
	for (size_t k = 0; k + 1 < d->n; k++)
		d->objs[k].end = (size_t)d->objs[k + 1].pos;
	return VG_OK;
}

/* Bounds each object, and finds its stream data. Objects whose header lies
 * inside an earlier object's stream data are dropped. */
static void delimit_objects(struct pdf *d)
{
	size_t skip_until = 0, no_endstream_from = SIZE_MAX;
	size_t n = d->n;

	for (size_t i = 0; i < n; i++) {
		struct pobj *o = &d->objs[i];
		size_t limit = i + 1 < n ? (size_t)d->objs[i + 1].pos : d->len;
		const uint8_t *endobj;
		struct pval v, len_v;
		struct lex l;
		uint64_t length;
		size_t ds;

		if (o->pos < skip_until) {
			o->valid = false;
			continue;
		}
		/* a header inside a string of this object's dictionary would cut it
		 * short: the next header only bounds objects that have ended */
		endobj = find(d->p, o->body, limit, "endobj");
		o->end = endobj ? (size_t)(endobj - d->p) : limit;
		l = (struct lex){d->p, o->end, o->body};
		if (!read_value(&l, &v) || v.type != V_DICT)
			continue;
		skip_ws(&l);
		if (!starts_with(d->p, d->len, l.pos, "stream"))
			continue;
		ds = l.pos + 6;
		while (ds < d->len && (d->p[ds] == ' ' || d->p[ds] == '\t'))
			ds++;
		if (ds < d->len && d->p[ds] == '\r')
			ds++;
		if (ds < d->len && d->p[ds] == '\n')
			ds++;
		o->stream = true;
		o->end = l.pos; /* the value ends before "stream" */
		o->data = ds;
		o->data_end = d->len;
		skip_until = d->len;
		/* /Length, when "endstream" follows it */
		if (dict_get(&v, "Length", &len_v) && value_uint(d, &len_v, &length) &&
		    length <= d->len - ds) {
			/* a line end, perhaps a few spaces: many lengths may point at
			 * the same place, so the look is short */
			size_t after = ds + (size_t)length, stop = after + 32;
			while (after < d->len && after < stop && is_ws(d->p[after]))
				after++;
			if (starts_with(d->p, d->len, after, "endstream")) {
				o->data_end = ds + (size_t)length;
				skip_until = after + 9;
				continue;
			}
		}
		{
			/* once a search found none, none lies further on either */
			const uint8_t *es = NULL;
			if (ds < no_endstream_from)
				es = find(d->p, ds, d->len, "endstream");
			if (!es && ds < no_endstream_from)
				no_endstream_from = ds;
			if (es) {
				size_t e = (size_t)(es - d->p);
				skip_until = e + 9;
				if (e > ds && d->p[e - 1] == '\n')
					e--;
				if (e > ds && d->p[e - 1] == '\r')
					e--;
				o->data_end = e;
			} else if (dict_get(&v, "Length", &len_v) &&
				   value_uint(d, &len_v, &length) && length <= d->len - ds) {
				o->data_end = ds + (size_t)length;
				skip_until = o->data_end;
			}
		}
	}
}

/* ---- filters ---- */

enum filter { F_FLATE, F_AHX, F_A85, F_LZW, F_RL, F_STOP };

static enum filter filter_kind(const struct pval *v)
{
	static const struct {
		const char *name;
		enum filter f;
	} names[] = {
		{"FlateDecode", F_FLATE}, {"Fl", F_FLATE},     {"ASCIIHexDecode", F_AHX},
		{"AHx", F_AHX},           {"ASCII85Decode", F_A85}, {"A85", F_A85},
		{"LZWDecode", F_LZW},     {"LZW", F_LZW},       {"RunLengthDecode", F_RL},
		{"RL", F_RL},
	};

	if (v->type != V_NAME)
		return F_STOP;
	for (size_t i = 0; i < VG_ARRAY_LEN(names); i++)
		if (name_eq(v->p, v->s, v->e, names[i].name))
			return names[i].f;
	return F_STOP; /* image codecs, Crypt, anything unknown */
}

/* Output of a decoder: bytes beyond out->max set *full and are dropped. */
static vg_status put(struct buf *out, const uint8_t *p, size_t n, bool *full)
{
	size_t room = out->max - out->len;

	if (n > room) {
		n = room;
		*full = true;
	}
	return buf_append(out, p, n);
}

static vg_status ahx_decode(const uint8_t *in, size_t n, struct buf *out, bool *full)
{
	uint8_t tmp[4096];
	size_t t = 0;
	int hi = -1;
	vg_status rc = VG_OK;

	for (size_t i = 0; i < n && !*full; i++) {
		int v = hexval(in[i]);
		if (in[i] == '>')
			break;
		if (v < 0) {
			if (is_ws(in[i]))
				continue;
			break;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		tmp[t++] = (uint8_t)(hi << 4 | v);
		hi = -1;
		if (t == sizeof(tmp)) {
			rc = put(out, tmp, t, full);
			if (rc != VG_OK)
				return rc;
			t = 0;
		}
	}
	if (hi >= 0 && t < sizeof(tmp))
		tmp[t++] = (uint8_t)(hi << 4);
	return put(out, tmp, t, full);
}

static vg_status a85_decode(const uint8_t *in, size_t n, struct buf *out, bool *full)
{
	uint8_t tmp[4096];
	size_t t = 0, i = 0;
	uint64_t acc = 0;
	unsigned k = 0;
	vg_status rc;

	if (n >= 2 && in[0] == '<' && in[1] == '~')
		i = 2;
	for (; i < n && !*full; i++) {
		uint8_t c = in[i];
		if (is_ws(c))
			continue;
		if (c == '~')
			break;
		if (c == 'z' && k == 0) {
			memset(tmp + t, 0, 4);
			t += 4;
		} else if (c >= '!' && c <= 'u') {
			acc = acc * 85 + (uint64_t)(c - '!');
			if (++k < 5)
				continue;
			if (acc > UINT32_MAX)
				break;
			tmp[t++] = (uint8_t)(acc >> 24);
			tmp[t++] = (uint8_t)(acc >> 16);
			tmp[t++] = (uint8_t)(acc >> 8);
			tmp[t++] = (uint8_t)acc;
			acc = 0;
			k = 0;
		} else {
			break;
		}
		if (t + 4 > sizeof(tmp)) {
			rc = put(out, tmp, t, full);
			if (rc != VG_OK)
				return rc;
			t = 0;
		}
	}
	if (k >= 2 && !*full) {
		/* a final partial group: pad with 'u', keep k - 1 bytes */
		for (unsigned j = k; j < 5; j++)
			acc = acc * 85 + 84;
		if (acc <= UINT32_MAX)
			for (unsigned j = 0; j + 1 < k; j++)
				tmp[t++] = (uint8_t)(acc >> (24 - 8 * j));
	}
	return put(out, tmp, t, full);
}

static vg_status rl_decode(const uint8_t *in, size_t n, struct buf *out, bool *full)
{
	size_t i = 0;
	vg_status rc = VG_OK;

	while (i < n && !*full) {
		uint8_t c = in[i++];
		if (c == 128)
			break;
		if (c < 128) {
			size_t k = (size_t)c + 1;
			if (k > n - i)
				k = n - i;
			rc = put(out, in + i, k, full);
			i += k;
		} else {
			uint8_t run[128];
			if (i >= n)
				break;
			memset(run, in[i++], sizeof(run));
			rc = put(out, run, 257u - c, full);
		}
		if (rc != VG_OK)
			return rc;
	}
	return rc;
}

/* LZW with 9- to 12-bit codes, MSB first. A table entry's string always
 * sits in the output already (the previous string plus one byte), so an
 * entry is just where it starts and how long it is. */
static vg_status lzw_decode(const uint8_t *in, size_t n, bool early, struct buf *out, bool *full)
{
	size_t *start = NULL, *length = NULL;
	size_t prev_start = 0, prev_len = 0, bitpos = 0;
	unsigned bits = 9, next = 258;
	bool have_prev = false;
	vg_status rc = VG_OK;

	start = vg_reallocarray(NULL, 4096, sizeof(size_t));
	length = vg_reallocarray(NULL, 4096, sizeof(size_t));
	if (!start || !length) {
		rc = VG_ENOMEM;
		goto out;
	}
	while (!*full && (uint64_t)bitpos + bits <= (uint64_t)n * 8) {
		unsigned code = 0;
		size_t s, len;

		for (unsigned b = 0; b < bits; b++, bitpos++)
			code = code << 1 | ((in[bitpos >> 3] >> (7 - (bitpos & 7))) & 1u);
		if (code == 256) {
			bits = 9;
			next = 258;
			have_prev = false;
			continue;
		}
		if (code == 257)
			break;
		if (code < 256) {
			uint8_t c = (uint8_t)code;
			s = out->len;
			len = 1;
			rc = put(out, &c, 1, full);
			if (rc != VG_OK || *full)
				goto out;
		} else if (!have_prev || code > next || (code == next && next >= 4096)) {
			break; /* a code not yet defined */
		} else {
			size_t from = code == next ? prev_start : start[code];
			len = code == next ? prev_len + 1 : length[code];
			s = out->len;
			/* copy forward byte by byte: the last byte of code == next
			 * is the first byte just written */
			if (len > out->max - out->len) {
				len = out->max - out->len;
				*full = true;
			}
			rc = buf_reserve(out, len);
			if (rc != VG_OK)
				goto out;
			for (size_t k = 0; k < len; k++)
				out->data[out->len + k] = out->data[from + k];
			out->len += len;
			if (*full)
				goto out;
		}
		if (have_prev && next < 4096) {
			start[next] = prev_start;
			length[next] = prev_len + 1;
			next++;
		}
		if (next + (early ? 1u : 0u) >= (1u << bits) && bits < 12)
			bits++;
		prev_start = s;
		prev_len = len;
		have_prev = true;
	}
out:
	vg_free(start);
	vg_free(length);
	return rc;
}

static uint8_t paeth(uint8_t a, uint8_t b, uint8_t c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	if (pa <= pb && pa <= pc)
		return a;
	return pb <= pc ? b : c;
}

/* Undoes a PNG (10-15) or TIFF (2, 8-bit) predictor in place. */
static void unpredict(struct pdf *d, const struct pval *parms, struct buf *b)
{
	struct pval v;
	uint64_t pred = 1, colors = 1, bpc = 8, cols = 1;
	size_t bpp, rowlen;

	if (parms->type != V_DICT)
		return;
	if (dict_get(parms, "Predictor", &v))
		(void)value_uint(d, &v, &pred);
	if (pred < 2)
		return;
	if (dict_get(parms, "Colors", &v))
		(void)value_uint(d, &v, &colors);
	if (dict_get(parms, "BitsPerComponent", &v))
		(void)value_uint(d, &v, &bpc);
	if (dict_get(parms, "Columns", &v))
		(void)value_uint(d, &v, &cols);
	if (colors == 0 || colors > 64 || bpc == 0 || bpc > 16 || (bpc & (bpc - 1)) != 0 ||
	    cols == 0 || cols > VG_PDF_MAX_PREDICTOR_ROW)
		return;
	rowlen = (size_t)((colors * bpc * cols + 7) / 8);
	if (rowlen > VG_PDF_MAX_PREDICTOR_ROW)
		return;
	bpp = (size_t)((colors * bpc + 7) / 8);
	if (pred == 2) {
		if (bpc != 8)
			return;
		for (size_t r = 0; r < b->len; r += rowlen)
			for (size_t i = r + bpp; i < r + rowlen && i < b->len; i++)
				b->data[i] = (uint8_t)(b->data[i] + b->data[i - bpp]);
		return;
	}
	/* PNG: rows of a filter byte and rowlen bytes; the output (rowlen per
	 * row) is written over the input behind the read position */
	{
		size_t w = 0, r = 0;
		while (r < b->len) {
			uint8_t type = b->data[r++];
			size_t k = b->len - r < rowlen ? b->len - r : rowlen;
			uint8_t *row = b->data + w;
			const uint8_t *prev = w >= rowlen ? b->data + w - rowlen : NULL;
			for (size_t i = 0; i < k; i++) {
				uint8_t x = b->data[r + i];
				uint8_t a = i >= bpp ? row[i - bpp] : 0;
				uint8_t up = prev ? prev[i] : 0;
				uint8_t c = prev && i >= bpp ? prev[i - bpp] : 0;
				switch (type) {
				case 1: x = (uint8_t)(x + a); break;
				case 2: x = (uint8_t)(x + up); break;
				case 3: x = (uint8_t)(x + ((a + up) >> 1)); break;
				case 4: x = (uint8_t)(x + paeth(a, up, c)); break;
				default: break;
				}
				row[i] = x;
			}
			r += k;
			w += k;
		}
		b->len = w;
	}
}

/* The items of a value that is either one item or an array of them (at
 * most max), references followed: filters and their parameters. */
static size_t list_items(struct pdf *d, const struct pval *v, struct pval *out, size_t max)
{
	struct lex l;
	size_t s, e, n = 0;

	if (v->type != V_ARR) {
		out[0] = *v;
		resolve(d, &out[0]);
		return 1;
	}
	l = (struct lex){v->p, v->e, v->s};
	(void)next_tok(&l, &s, &e); /* [ */
	while (n < max) {
		struct lex save = l;
		if (next_tok(&l, &s, &e) == T_ARR_END || s >= v->e)
			break;
		l = save;
		if (!read_value(&l, &out[n]))
			break;
		resolve(d, &out[n]);
		n++;
	}
	return n;
}

/* Decodes stream o into out (at most cap bytes). *res points at the result:
 * into out, or into the file when there is nothing to decode. */
static vg_status decode_stream(struct pdf *d, struct pobj *o, size_t cap, struct buf *out,
			       const uint8_t **res, size_t *res_len, bool *truncated)
{
	struct pval dict, v, filters[VG_PDF_MAX_FILTERS], parms[VG_PDF_MAX_FILTERS];
	const uint8_t *cur = o->p + o->data;
	size_t cur_len = o->data_end - o->data, nfilters = 0, nparms = 0;
	vg_status rc = VG_OK;

	*truncated = false;
	buf_init(out, cap);
	if (!obj_value(o, &dict))
		dict.type = V_NONE;
	if (!d->encrypted && dict.type == V_DICT && dict_get(&dict, "Filter", &v)) {
		resolve(d, &v);
		nfilters = list_items(d, &v, filters, VG_PDF_MAX_FILTERS);
		if (dict_get(&dict, "DecodeParms", &v) || dict_get(&dict, "DP", &v)) {
			resolve(d, &v);
			nparms = list_items(d, &v, parms, VG_PDF_MAX_FILTERS);
		}
		for (size_t i = 0; i < nfilters; i++) {
			struct pval p;
			struct buf next;
			bool full = false;
			enum filter kind = filter_kind(&filters[i]);
			uint64_t early = 1;

			if (kind == F_STOP)
				break;
			if (i < nparms)
				p = parms[i];
			else
				p.type = V_NONE;
			buf_init(&next, cap);
			switch (kind) {
			case F_FLATE:
				rc = zinflate(cur, cur_len, true, &next, &full);
				break;
			case F_AHX:
				rc = ahx_decode(cur, cur_len, &next, &full);
				break;
			case F_A85:
				rc = a85_decode(cur, cur_len, &next, &full);
				break;
			case F_LZW: {
				struct pval ev;
				if (p.type == V_DICT && dict_get(&p, "EarlyChange", &ev))
					(void)value_uint(d, &ev, &early);
				rc = lzw_decode(cur, cur_len, early != 0, &next, &full);
				break;
			}
			case F_RL:
				rc = rl_decode(cur, cur_len, &next, &full);
				break;
			default:
				break;
			}
			if (rc != VG_OK) {
				buf_free(&next);
				goto out;
			}
			if (kind == F_FLATE || kind == F_LZW)
				unpredict(d, &p, &next);
			buf_free(out);
			*out = next;
			cur = out->data;
			cur_len = out->len;
			if (full)
				*truncated = true;
		}
	}
	if (cur_len > cap) {
		cur_len = cap;
		*truncated = true;
	}
	*res = cur_len ? cur : (const uint8_t *)"";
	*res_len = cur_len;
out:
	return rc;
}

/* ---- object streams ---- */

/* Decodes each /Type/ObjStm and indexes the objects it holds. */
static vg_status load_object_streams(struct pdf *d)
{
	size_t n = d->n;
	vg_status rc = VG_OK;

	for (size_t i = 0; i < n && !d->limit_hit; i++) {
		struct pobj *o = &d->objs[i];
		struct pval dict, v;
		uint64_t count, first;
		size_t cap, res_len;
		const uint8_t *res;
		struct buf b;
		struct stm *kept;
		bool truncated;
		struct lex l;
		uint32_t stm;

		if (!o->valid || !o->stream || !obj_value(o, &dict) ||
		    !dict_get(&dict, "Type", &v) || !is_name(&v, "ObjStm"))
			continue;
		if (!dict_get(&dict, "N", &v) || !value_uint(d, &v, &count) ||
		    !dict_get(&dict, "First", &v) || !value_uint(d, &v, &first))
			continue;
		cap = d->sink->max_child;
		if (cap > VG_PDF_MAX_OBJSTM_BYTES - d->stm_bytes)
			cap = VG_PDF_MAX_OBJSTM_BYTES - d->stm_bytes;
		if (cap == 0)
			break;
		rc = decode_stream(d, o, cap, &b, &res, &res_len, &truncated);
		if (rc != VG_OK) {
			buf_free(&b);
			return rc;
		}
		if (res != b.data) {
			/* nothing decoded: keep a copy so the objects have a home */
			buf_free(&b);
			buf_init(&b, cap);
			rc = buf_append(&b, res, res_len);
			if (rc != VG_OK) {
				buf_free(&b);
				return rc;
			}
		}
		kept = vg_reallocarray(d->stms, d->nstms + 1, sizeof(*kept));
		if (!kept) {
			buf_free(&b);
			return VG_ENOMEM;
		}
		d->stms = kept;
		d->stms[d->nstms].b = b;
		d->stms[d->nstms].truncated = truncated;
		d->stms[d->nstms++].whole = cap == d->sink->max_child;
		d->stm_bytes += b.len;
		stm = (uint32_t)d->nstms;
		o = &d->objs[i];
		o->stm = stm;
		if (first > b.len)
			continue;
		/* the header: N pairs of object number and offset from First */
		l = (struct lex){b.data, (size_t)first, 0};
		for (uint64_t k = 0; k < count; k++) {
			size_t s, e, s2, e2;
			uint64_t num, off;
			struct pobj m;

			if (next_tok(&l, &s, &e) != T_NUM || next_tok(&l, &s2, &e2) != T_NUM ||
			    !parse_uint(b.data, s, e, &num) || !parse_uint(b.data, s2, e2, &off) ||
			    num > UINT32_MAX || off > b.len - first)
				break;
			memset(&m, 0, sizeof(m));
			m.p = d->stms[stm - 1].b.data;
			m.num = (uint32_t)num;
			m.pos = d->objs[i].pos; /* as late as the stream that holds it */
			m.body = (size_t)(first + off);
			/* members may overlap: each is read within a window, so that
			 * reading all of them stays linear */
			m.end = b.len;
			if (m.end - m.body > VG_PDF_MAX_OBJSTM_VALUE)
				m.end = m.body + VG_PDF_MAX_OBJSTM_VALUE;
			m.valid = true;
			rc = add_obj(d, &m);
			if (rc == VG_ELIMIT) {
				rc = VG_OK;
				break;
			}
			if (rc != VG_OK)
				return rc;
		}
	}
	return rc;
}

/* ---- names of embedded files ---- */

static size_t put_utf8(char *dst, size_t cap, size_t j, uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f)
		return j; /* control characters have no place in a name */
	if (cp < 0x80 && j + 1 < cap) {
		dst[j++] = (char)cp;
	} else if (cp < 0x800 && j + 2 < cap) {
		dst[j++] = (char)(0xC0 | cp >> 6);
		dst[j++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp >= 0x800 && cp < 0x10000 && j + 3 < cap) {
		dst[j++] = (char)(0xE0 | cp >> 12);
		dst[j++] = (char)(0x80 | (cp >> 6 & 0x3f));
		dst[j++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp >= 0x10000 && j + 4 < cap) {
		dst[j++] = (char)(0xF0 | cp >> 18);
		dst[j++] = (char)(0x80 | (cp >> 12 & 0x3f));
		dst[j++] = (char)(0x80 | (cp >> 6 & 0x3f));
		dst[j++] = (char)(0x80 | (cp & 0x3f));
	}
	return j;
}

/* The bytes of a string value (escapes and hex decoded), at most cap;
 * *cut (when given) says whether more would have come. */
static size_t string_bytes(const struct pval *v, uint8_t *dst, size_t cap, bool *cut)
{
	size_t n = 0, i;

	if (cut)
		*cut = false;
	if (v->type == V_HEX) {
		int hi = -1;
		for (i = v->s; i < v->e && n < cap; i++) {
			int x = hexval(v->p[i]);
			if (x < 0)
				continue;
			if (hi < 0) {
				hi = x;
			} else {
				dst[n++] = (uint8_t)(hi << 4 | x);
				hi = -1;
			}
		}
		if (hi >= 0 && n < cap)
			dst[n++] = (uint8_t)(hi << 4);
		if (cut)
			*cut = i < v->e;
		return n;
	}
	for (i = v->s; i < v->e && n < cap; i++) {
		uint8_t c = v->p[i];
		if (c != '\\' || i + 1 >= v->e) {
			dst[n++] = c;
			continue;
		}
		c = v->p[++i];
		switch (c) {
		case 'n': dst[n++] = '\n'; break;
		case 'r': dst[n++] = '\r'; break;
		case 't': dst[n++] = '\t'; break;
		case 'b': dst[n++] = '\b'; break;
		case 'f': dst[n++] = '\f'; break;
		case '\r':
			if (i + 1 < v->e && v->p[i + 1] == '\n')
				i++;
			break;
		case '\n':
			break;
		default:
			if (c >= '0' && c <= '7') {
				unsigned o = (unsigned)(c - '0');
				for (int k = 0; k < 2 && i + 1 < v->e; k++) {
					if (v->p[i + 1] < '0' || v->p[i + 1] > '7')
						break;
					o = o * 8 + (unsigned)(v->p[++i] - '0');
				}
				dst[n++] = (uint8_t)o;
			} else {
				dst[n++] = c;
			}
			break;
		}
	}
	if (cut)
		*cut = i < v->e;
	return n;
}

static bool valid_utf8(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xE0) == 0xC0)
			k = 1;
		else if ((s[i] & 0xF0) == 0xE0)
			k = 2;
		else if ((s[i] & 0xF8) == 0xF0)
			k = 3;
		else
			return false;
		if (k > n - i - 1)
			return false;
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

/* A text string as UTF-8: UTF-16BE after a byte order mark, else UTF-8 when
 * it is, else PDFDocEncoding read as Latin-1. */
static char *text_string(const struct pval *v)
{
	uint8_t raw[2 * VG_PDF_MAX_NAME];
	size_t n = string_bytes(v, raw, sizeof(raw), NULL), j = 0;
	char *out = vg_malloc(VG_PDF_MAX_NAME);

	if (!out)
		return NULL;
	if (n >= 2 && raw[0] == 0xFE && raw[1] == 0xFF) {
		for (size_t i = 2; i + 1 < n; i += 2) {
			uint32_t u = (uint32_t)raw[i] << 8 | raw[i + 1];
			if (u >= 0xD800 && u < 0xDC00 && i + 3 < n) {
				uint32_t lo = (uint32_t)raw[i + 2] << 8 | raw[i + 3];
				if (lo >= 0xDC00 && lo < 0xE000) {
					u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
					i += 2;
				}
			}
			if (u >= 0xD800 && u < 0xE000)
				u = '?';
			j = put_utf8(out, VG_PDF_MAX_NAME, j, u);
		}
	} else if (valid_utf8(raw, n)) {
		for (size_t i = 0; i < n && j + 1 < VG_PDF_MAX_NAME; i++)
			if (raw[i] >= 0x20 && raw[i] != 0x7f)
				out[j++] = (char)raw[i];
		/* a cut may split a character: drop the partial tail */
		while (j > 0 && !valid_utf8((const uint8_t *)out, j))
			j--;
	} else {
		for (size_t i = 0; i < n; i++)
			j = put_utf8(out, VG_PDF_MAX_NAME, j, raw[i]);
	}
	out[j] = '\0';
	return out;
}

/* File specifications (/EF << /F n 0 R >>) name the streams they point at;
 * /UF is preferred to /F. */
static vg_status name_embedded_files(struct pdf *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct pobj *o = &d->objs[i];
		struct pval spec, ef, name, target;
		struct pobj *t;

		if (!o->valid || !obj_value(o, &spec) || spec.type != V_DICT ||
		    !dict_get(&spec, "EF", &ef))
			continue;
		resolve(d, &ef);
		if (!(dict_get(&ef, "F", &target) || dict_get(&ef, "UF", &target)) ||
		    target.type != V_REF)
			continue;
		t = lookup(d, target.ref);
		if (!t || t->name)
			continue;
		if (dict_get(&spec, "UF", &name) || dict_get(&spec, "F", &name)) {
			resolve(d, &name);
			if (name.type == V_STR || name.type == V_HEX) {
				t->name = text_string(&name);
				if (!t->name)
					return VG_ENOMEM;
				if (!t->name[0]) {
					vg_free(t->name);
					t->name = NULL;
				}
			}
		}
	}
	return VG_OK;
}

/* An /Encrypt entry in a trailer or a cross-reference stream. */
static void detect_encryption(struct pdf *d)
{
	struct pval v, e;
	const uint8_t *t = find(d->p, 0, d->len, "trailer");

	while (t) {
		size_t i = (size_t)(t - d->p) + 7, end;
		struct lex l;

		/* a trailer's dictionary ends before the next trailer, and is small */
		t = find(d->p, i, d->len, "trailer");
		end = t ? (size_t)(t - d->p) : d->len;
		if (end - i > 65536)
			end = i + 65536;
		l = (struct lex){d->p, end, i};
		if (read_value(&l, &v) && v.type == V_DICT && dict_get(&v, "Encrypt", &e)) {
			d->encrypted = true;
			return;
		}
	}
	for (size_t i = 0; i < d->n; i++) {
		if (d->objs[i].valid && d->objs[i].stream && obj_value(&d->objs[i], &v) &&
		    dict_get(&v, "Type", &e) && is_name(&e, "XRef") &&
		    dict_get(&v, "Encrypt", &e)) {
			d->encrypted = true;
			return;
		}
	}
}

/* ---- the walk ---- */

static vg_status give_streams(struct pdf *d)
{
	vg_status rc = VG_OK;

	for (size_t i = 0; i < d->n; i++) {
		struct pobj *o = &d->objs[i];
		struct unpack_child c;
		struct buf b;
		const uint8_t *res;
		size_t res_len;
		bool truncated;

		if (!o->valid || !o->stream || o->p != d->p || o->data_end <= o->data)
			continue;
		memset(&c, 0, sizeof(c));
		buf_init(&b, 0);
		if (o->stm && d->stms[o->stm - 1].whole) {
			const struct stm *s = &d->stms[o->stm - 1];
			res = s->b.len ? s->b.data : (const uint8_t *)"";
			res_len = s->b.len;
			truncated = s->truncated;
		} else {
			rc = decode_stream(d, o, d->sink->max_child, &b, &res, &res_len,
					   &truncated);
			if (rc != VG_OK) {
				buf_free(&b);
				break;
			}
		}
		c.name = o->name;
		c.data = res;
		c.len = res_len;
		c.truncated = truncated;
		c.encrypted = d->encrypted;
		if (res_len)
			rc = d->sink->child(d->sink->ctx, &c);
		buf_free(&b);
		if (rc != VG_OK)
			break;
	}
	return rc;
}

/* JavaScript kept as strings (/JS (...) in actions and name trees), one
 * child each; JavaScript in streams is handed over with the streams. */
static vg_status give_scripts(struct pdf *d)
{
	vg_status rc = VG_OK;
	uint8_t *text = NULL;

	for (size_t i = 0; i < d->n && rc == VG_OK; i++) {
		struct pval v, js;
		struct unpack_child c;
		size_t cap;
		bool cut;

		if (!d->objs[i].valid || !obj_value(&d->objs[i], &v) || v.type != V_DICT ||
		    !dict_get(&v, "JS", &js))
			continue;
		if (js.type == V_REF) {
			/* not resolve(): scripts are often larger than the values it
			 * follows, and each is read once here */
			struct pobj *t = lookup(d, js.ref);
			if (!t || !obj_value(t, &js))
				continue;
		}
		if (js.type != V_STR && js.type != V_HEX)
			continue;
		cap = js.e - js.s < d->sink->max_child ? js.e - js.s : d->sink->max_child;
		if (cap == 0)
			continue;
		vg_free(text);
		text = vg_malloc(cap);
		if (!text) {
			rc = VG_ENOMEM;
			break;
		}
		memset(&c, 0, sizeof(c));
		c.data = text;
		c.len = string_bytes(&js, text, cap, &cut);
		c.truncated = cut;
		c.encrypted = d->encrypted;
		if (c.len)
			rc = d->sink->child(d->sink->ctx, &c);
	}
	vg_free(text);
	return rc;
}

vg_status unpack_pdf(const struct unpack_input *in, const struct unpack_sink *sink)
{
	struct pdf d;
	vg_status rc;

	memset(&d, 0, sizeof(d));
	d.p = in->data;
	d.len = in->len;
	d.sink = sink;
	d.ref_budget = VG_PDF_REF_BUDGET;
	if (!d.p || d.len < 8)
		return VG_OK;
	rc = find_headers(&d);
	if (rc != VG_OK)
		goto out;
	/* headers by number for /Length references while delimiting (some are
	 * still to be found inside stream data: the later definition wins) */
	rc = build_index(&d);
	if (rc != VG_OK)
		goto out;
	delimit_objects(&d);
	rc = build_index(&d);
	if (rc != VG_OK)
		goto out;
	detect_encryption(&d);
	if (!d.encrypted) {
		rc = load_object_streams(&d);
		if (rc != VG_OK)
			goto out;
		rc = build_index(&d);
		if (rc != VG_OK)
			goto out;
	}
	rc = name_embedded_files(&d);
	if (rc != VG_OK)
		goto out;
	rc = give_streams(&d);
	if (rc == VG_OK)
		rc = give_scripts(&d);
	if (rc == VG_OK && d.limit_hit)
		rc = VG_ELIMIT;
out:
	for (size_t i = 0; i < d.n; i++)
		vg_free(d.objs[i].name);
	for (size_t i = 0; i < d.nstms; i++)
		buf_free(&d.stms[i].b);
	vg_free(d.stms);
	vg_free(d.objs);
	vg_free(d.index);
	return rc;
}
