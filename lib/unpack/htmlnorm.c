/* HTML normalisation for target 3: the two views clamscan matches HTML
 * signatures against ("nocomment" and "notags", see unpack.h), produced by
 * the rules of ClamAV's htmlnorm.c state machine, one byte at a time so that
 * input may arrive in pieces of any size.
 *
 * What is deliberately not reproduced: the JavaScript normaliser (ClamAV's
 * third view), Script Encoder (JScript.Encode) decoding, and the artefacts
 * of ClamAV's 8 KiB read and write buffers. data: URI contents are skipped
 * here as in ClamAV; the HTML unpacker hands them over as children. */
#include <string.h>

#include "unpack/unpack.h"
#include "unpack/html_entities.h"

enum {
	S_NORM, S_8BIT, S_COMMENT, S_CHAR_REF, S_ENTITY, S_SKIP_WS, S_TRIM_WS, S_TAG, S_TAG_ARG,
	S_TAG_ARG_VAL, S_TAG_ARG_EQUAL, S_PROCESS_TAG, S_NUM_REF, S_DATA_TYPE, S_DATA_INIT,
	S_DATA, S_DATA_FINISH, S_DATA_ESC, S_ESCAPE_CHAR, S_BAD
};
enum { SINGLE_QUOTED, DOUBLE_QUOTED, NOT_QUOTED };

static bool is_space(uint8_t c)
{
	return c == ' ' || (c >= 9 && c <= 13);
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(uint8_t c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static bool is_alnum(uint8_t c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* nocomment is written one byte late so that the byte just written can be
 * taken back (ClamAV rewinds its output for "<!" and "data:"). */
struct sink {
	struct htmlnorm *h;
	struct htmlnorm_out *o;
};

static void put_nc_now(struct htmlnorm_out *o, uint8_t c)
{
	if (o->nocomment)
		o->nocomment[o->nocomment_len] = c;
	o->nocomment_len++;
	o->nocomment_total++;
}

static void nc(struct sink *s, uint8_t c)
{
	if (s->h->held)
		put_nc_now(s->o, s->h->held_byte);
	s->h->held_byte = c;
	s->h->held = true;
}

static void nc_rewind(struct sink *s)
{
	s->h->held = false;
}

static void nc_str(struct sink *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nc(s, p[i]);
}

static void nt(struct sink *s, uint8_t c)
{
	if (s->o->notags)
		s->o->notags[s->o->notags_len] = c;
	s->o->notags_len++;
	s->o->notags_total++;
}

static void push_val(struct htmlnorm *h, uint8_t c)
{
	if (h->val_len < HTMLNORM_ARG_MAX)
		h->val[h->val_len++] = (char)c;
}

/* A code unit as ClamAV's u16_normalize writes it into *buf. */
static size_t u16_form(uint16_t u, uint8_t buf[8])
{
	static const char hexd[] = "0123456789abcdef";

	if (!u)
		return 0;
	if (u < 0xff) {
		buf[0] = (uint8_t)u;
		return 1;
	}
	if (u == 0x3002 || u == 0xff0e || u == 0xfe52) {
		buf[0] = '.';
		return 1;
	}
	buf[0] = '&';
	buf[1] = '#';
	buf[2] = 'x';
	for (int i = 6; i >= 3; i--) {
		buf[i] = (uint8_t)hexd[u & 0xf];
		u >>= 4;
	}
	buf[7] = ';';
	return 8;
}

static int entity_code(const char *name, size_t len)
{
	size_t lo = 0, hi = VG_ARRAY_LEN(html_entities);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(html_entities[mid].name, name, len);
		if (c == 0 && html_entities[mid].name[len])
			c = 1;
		if (c == 0)
			return html_entities[mid].code;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Records the first href and src argument of a tag, quotes removed the way
 * ClamAV removes them (a leading '"' and the last byte). */
static void add_arg(struct htmlnorm *h, bool has_val)
{
	char *dst;
	bool *flag;
	size_t n;
	const char *v = h->val;

	if (h->arg_len == 4 && memcmp(h->arg, "href", 4) == 0) {
		dst = h->href;
		flag = &h->has_href;
	} else if (h->arg_len == 3 && memcmp(h->arg, "src", 3) == 0) {
		dst = h->src;
		flag = &h->has_src;
	} else {
		return;
	}
	if (*flag)
		return;
	*flag = true;
	dst[0] = 0;
	if (!has_val)
		return;
	n = strnlen(v, h->val_len);
	if (n && v[0] == '"') {
		v++;
		n--;
		if (n)
			n--;
	}
	memcpy(dst, v, n);
	dst[n] = 0;
}

static void process_tag(struct sink *s)
{
	struct htmlnorm *h = s->h;
	const char *v = NULL;

	h->state = S_SKIP_WS;
	h->next_state = S_NORM;
	if (h->tag_len == 7 && memcmp(h->tag, "/script", 7) == 0)
		h->in_script = false;
	else if (h->tag_len == 6 && memcmp(h->tag, "script", 6) == 0)
		h->in_script = true;
	else if (h->tag_len == 1 && h->tag[0] == 'a' && h->has_href)
		v = h->href;
	else if (h->tag_len == 3 && memcmp(h->tag, "img", 3) == 0 && h->has_src)
		v = h->src;
	if (v && v[0]) {
		for (size_t i = 0; v[i]; i++)
			nt(s, (uint8_t)v[i]);
		nt(s, ' ');
		h->text_space = true;
	}
	h->has_href = h->has_src = false;
}

static void dump_entity(struct sink *s, bool in_val)
{
	struct htmlnorm *h = s->h;

	if (in_val)
		push_val(h, '&');
	nc(s, '&');
	for (size_t i = 0; i < h->ent_len; i++) {
		uint8_t c = lower((uint8_t)h->ent[i]);
		nc(s, c);
		if (in_val)
			push_val(h, c);
	}
}

/* Back to the state that was waiting for this one to finish. */
static void resume(struct htmlnorm *h)
{
	h->state = h->next_state;
	h->next_state = S_BAD;
}

/* notags: one space where a tag, white space or a reference interrupts the
 * text (none inside scripts, never two in a row). */
static void text_gap(struct sink *s)
{
	if (!s->h->text_space && !s->h->in_script) {
		nt(s, ' ');
		s->h->text_space = true;
	}
}

/* After '=': a tag argument's value follows. */
static bool start_value(struct sink *s)
{
	nc(s, '=');
	s->h->state = S_SKIP_WS;
	s->h->quoted = NOT_QUOTED;
	s->h->val_len = 0;
	s->h->next_state = S_TAG_ARG_VAL;
	return true;
}

/* One step of the machine on byte c; true when c was consumed. */
static bool step(struct sink *s, uint8_t c)
{
	struct htmlnorm *h = s->h;
	bool in_val = h->next_state == S_TAG_ARG_VAL;

	switch (h->state) {
	case S_SKIP_WS:
		if (is_space(c))
			return true;
		resume(h);
		return false;
	case S_TRIM_WS:
		if (is_space(c))
			return true;
		if (!h->in_script)
			nc(s, ' ');
		resume(h);
		return false;
	case S_8BIT:
		if (c < 0x80 || h->mbchar >= 0x10000) {
			uint32_t m = h->mbchar;
			if (m == 0xE38082 || m == 0xEFBC8E || m == 0xEFB992 ||
			    (m == 0xA1 && (c == 0x43 || c == 0x44 || c == 0x4F))) {
				nc(s, '.');
				nt(s, '.');
				if (m == 0xA1) {
					h->mbchar = 0;
					return true; /* ClamAV stays in this state */
				}
			} else {
				uint8_t c0 = (uint8_t)(m >> 16), c1 = (uint8_t)(m >> 8), c2 = (uint8_t)m;
				if (c0) {
					nc(s, c0);
					nt(s, c0);
				}
				if (c0 || c1) {
					nc(s, c1);
					nt(s, c1);
				}
				nc(s, c2);
				nt(s, c1); /* sic: ClamAV writes the middle byte twice here */
			}
			h->mbchar = 0;
			h->state = h->next_state;
			h->next_state = S_NORM;
			return false;
		}
		h->mbchar = (h->mbchar << 8) | c;
		return true;
	case S_NORM:
		if (c == '<') {
			nc(s, '<');
			text_gap(s);
			h->state = S_SKIP_WS;
			h->tag_len = 0;
			h->next_state = S_TAG;
			return true;
		}
		if (is_space(c)) {
			text_gap(s);
			h->state = S_TRIM_WS;
			h->next_state = S_NORM;
			return false;
		}
		if (c == '&') {
			text_gap(s);
			h->state = S_CHAR_REF;
			h->next_state = S_NORM;
			return true;
		}
		if (c >= 0x80) {
			h->state = S_8BIT;
			h->next_state = S_NORM;
			h->mbchar = c;
			return true;
		}
		{
			uint8_t l = lower(c);
			if (h->in_script && l == '\'')
				l = '"';
			nc(s, l);
			if (!h->in_script) {
				if (c < 0x20) {
					if (!h->text_space) {
						nt(s, ' ');
						h->text_space = true;
					}
				} else {
					nt(s, l);
					h->text_space = false;
				}
			}
		}
		return true;
	case S_TAG:
		if (h->tag_len == 0 && c == '!') {
			if (h->in_script)
				nc(s, '!');
			else
				nc_rewind(s); /* the '<' */
			h->state = S_COMMENT;
			h->next_state = S_BAD;
			return true;
		}
		if (c == '>') {
			nc(s, '>');
			h->state = S_SKIP_WS;
			h->next_state = S_PROCESS_TAG;
			return true;
		}
		if (!is_space(c)) {
			nc(s, lower(c));
			if (h->in_script && h->tag_len == 0 && c != '/')
				h->state = S_NORM;
			if (h->tag_len < HTMLNORM_ARG_MAX)
				h->tag[h->tag_len++] = (char)lower(c);
			return true;
		}
		h->state = S_SKIP_WS;
		h->arg_len = 0;
		h->next_state = h->in_script ? S_PROCESS_TAG : S_TAG_ARG;
		return false;
	case S_TAG_ARG:
		if (c == '=')
			return start_value(s);
		if (is_space(c)) {
			h->state = S_SKIP_WS;
			h->next_state = S_TAG_ARG_EQUAL;
			return true;
		}
		if (c == '>') {
			nc(s, '>');
			if (h->arg_len > 0)
				add_arg(h, false);
			h->state = S_PROCESS_TAG;
			h->next_state = S_BAD;
			return true;
		}
		if (h->arg_len == 0)
			nc(s, ' ');
		nc(s, lower(c));
		if (h->arg_len < HTMLNORM_ARG_MAX)
			h->arg[h->arg_len++] = (char)lower(c);
		return true;
	case S_TAG_ARG_EQUAL:
		if (c == '=')
			return start_value(s);
		if (h->arg_len > 0)
			add_arg(h, false);
		h->arg_len = 0;
		h->state = S_TAG_ARG;
		h->next_state = S_BAD;
		return false;
	case S_TAG_ARG_VAL:
		if ((h->val_len == 5 && memcmp(h->val, "data:", 5) == 0) ||
		    (h->val_len == 6 && memcmp(h->val, "\"data:", 6) == 0)) {
			nc_rewind(s); /* the ':' */
			if (h->quoted != NOT_QUOTED)
				nc(s, '"');
			h->val_len = 0;
			h->state = S_DATA_TYPE;
			h->next_state = S_TAG_ARG;
			return false;
		}
		if (c == '&') {
			h->state = S_CHAR_REF;
			h->next_state = S_TAG_ARG_VAL;
			return true;
		}
		if (c == '\'' || c == '"') {
			int q = c == '\'' ? SINGLE_QUOTED : DOUBLE_QUOTED;
			nc(s, '"');
			push_val(h, '"');
			if (h->val_len == 1) {
				h->quoted = q;
			} else if (h->quoted == q) {
				add_arg(h, true);
				h->state = S_SKIP_WS;
				h->arg_len = 0;
				h->next_state = S_TAG_ARG;
			}
			return true;
		}
		if (is_space(c) || c == '>') {
			if (h->quoted == NOT_QUOTED) {
				add_arg(h, true);
				h->state = S_SKIP_WS;
				h->arg_len = 0;
				h->next_state = S_TAG_ARG;
				return false;
			}
			nc(s, c);
			push_val(h, is_space(c) ? ' ' : '>');
			h->state = S_SKIP_WS;
			h->quoted = NOT_QUOTED;
			h->next_state = S_TAG_ARG_VAL;
			return true;
		}
		if (h->mbchar2 && (c < 0x80 || h->mbchar2 >= 0x10000)) {
			uint32_t m = h->mbchar2;
			if (m == 0xE38082 || m == 0xEFBC8E || m == 0xEFB992 ||
			    (m == 0xA1 && (c == 0x43 || c == 0x44 || c == 0x4F))) {
				nc(s, '.');
				push_val(h, '.');
				if (m == 0xA1) {
					h->mbchar2 = 0;
					return true;
				}
			} else {
				uint8_t c0 = (uint8_t)(m >> 16), c1 = (uint8_t)(m >> 8), c2 = (uint8_t)m;
				if (c0)
					nc(s, c0);
				if (c0 || c1)
					nc(s, c1);
				nc(s, c2);
				if (c0)
					push_val(h, c0);
				if (c0 || c1)
					push_val(h, c1);
				push_val(h, c2);
			}
			h->mbchar2 = 0;
		}
		if (c >= 0x80) {
			h->mbchar2 = (h->mbchar2 << 8) | c;
		} else {
			nc(s, lower(c));
			push_val(h, c);
		}
		return true;
	case S_COMMENT:
		if (h->in_script && !is_space(c)) {
			uint8_t l = lower(c);
			nc(s, l == '\'' ? '"' : l);
		}
		if (c == '>') {
			h->state = S_SKIP_WS;
			h->next_state = S_NORM;
		}
		return true;
	case S_PROCESS_TAG:
		process_tag(s);
		return false;
	case S_CHAR_REF:
		if (c == '#') {
			h->value = 0;
			h->hex = false;
			h->state = S_NUM_REF;
			return true;
		}
		h->state = S_ENTITY;
		return false;
	case S_ENTITY:
		if (c == ';') {
			int code = entity_code(h->ent, h->ent_len);
			if (code >= 0) {
				uint8_t b[8];
				size_t n = u16_form((uint16_t)code, b);
				for (size_t i = 0; i < n; i++) {
					nc(s, b[i]);
					if (in_val)
						push_val(h, b[i]);
				}
			} else {
				dump_entity(s, in_val);
				if (in_val)
					push_val(h, ';');
				nc(s, ';');
			}
			h->ent_len = 0;
			resume(h);
			return true;
		}
		if ((is_alnum(c) || c == '_' || c == ':' || c == '-') && h->ent_len < HTMLNORM_ARG_MAX) {
			h->ent[h->ent_len++] = (char)c;
			return true;
		}
		dump_entity(s, in_val);
		resume(h);
		h->ent_len = 0;
		return false;
	case S_NUM_REF:
		if (h->value == 0 && (c == 'x' || c == 'X')) {
			h->hex = true;
			return true;
		}
		if (c == ';') {
			if (in_val)
				push_val(h, (uint8_t)h->value);
			if (h->value < 0x80) {
				nc(s, lower((uint8_t)h->value));
			} else {
				uint8_t b[8];
				nc_str(s, b, u16_form((uint16_t)h->value, b));
			}
			resume(h);
			return true;
		}
		if (is_digit(c) || (h->hex && is_xdigit(c))) {
			uint64_t inc;
			/* ClamAV's int64 arithmetic and its two overflow checks */
			if (h->hex && (h->value >> 32) * 16 < INT32_MAX) {
				h->value *= 16;
			} else if ((h->value >> 32) * 10 < INT32_MAX) {
				h->value *= 10;
			} else {
				nc(s, (uint8_t)h->value);
				resume(h);
				return true;
			}
			inc = is_digit(c) ? (uint64_t)(c - '0') : (uint64_t)(lower(c) - 'a' + 10);
			if (h->value > (uint64_t)INT64_MAX - inc) {
				nc(s, (uint8_t)h->value);
				resume(h);
				return true;
			}
			h->value += inc;
			return true;
		}
		nc(s, (uint8_t)h->value);
		resume(h);
		return false;
	case S_DATA_TYPE:
		if (c == '\'' || c == '"') {
			int q = c == '\'' ? SINGLE_QUOTED : DOUBLE_QUOTED;
			if (h->quoted == q) {
				h->state = S_SKIP_WS;
				h->arg_len = 0;
				h->next_state = S_TAG_ARG;
			} else {
				push_val(h, '"');
			}
			return true;
		}
		if (is_space(c) || c == '>') {
			if (h->quoted == NOT_QUOTED) {
				h->state = S_SKIP_WS;
				h->arg_len = 0;
				h->next_state = S_TAG_ARG;
				return false;
			}
			push_val(h, is_space(c) ? ' ' : '>');
			h->state = S_SKIP_WS;
			h->quoted = NOT_QUOTED;
			h->next_state = S_DATA_TYPE;
			return true;
		}
		if (c == ',') {
			h->state = S_DATA_INIT;
			h->next_state = S_BAD;
			return true;
		}
		push_val(h, lower(c));
		return true;
	case S_DATA_INIT:
		h->state = S_DATA;
		h->binary = true;
		return false;
	case S_DATA:
		if (c == '&') {
			h->state = S_CHAR_REF;
			h->next_state = S_DATA;
		} else if (c == '%') {
			h->esc_len = 0;
			h->value = 0;
			h->state = S_ESCAPE_CHAR;
			h->next_state = S_DATA_ESC;
		} else if ((c == '\'' && h->quoted == SINGLE_QUOTED) ||
			   (c == '"' && h->quoted == DOUBLE_QUOTED) ||
			   ((is_space(c) || c == '>') && h->quoted == NOT_QUOTED)) {
			h->state = S_DATA_FINISH;
		}
		return true; /* the data itself is the HTML unpacker's */
	case S_DATA_FINISH:
		h->state = S_SKIP_WS;
		h->quoted = NOT_QUOTED;
		h->next_state = S_TAG_ARG;
		h->binary = false;
		return false;
	case S_DATA_ESC:
		h->state = S_DATA;
		return false;
	case S_ESCAPE_CHAR:
		h->esc_len++;
		if (!is_xdigit(c) || h->esc_len == 2)
			h->state = h->next_state;
		return true;
	default:
		/* ClamAV stops normalising on an engine error; nothing reaches
		 * here, but a stuck machine must not loop */
		h->state = S_NORM;
		return true;
	}
}

void htmlnorm_init(struct htmlnorm *h)
{
	memset(h, 0, sizeof(*h));
	h->state = S_NORM;
	h->next_state = S_BAD;
	h->quoted = NOT_QUOTED;
}

static size_t room(const struct htmlnorm_out *o)
{
	size_t used = o->nocomment_len > o->notags_len ? o->nocomment_len : o->notags_len;
	return used < o->cap ? o->cap - used : 0;
}

/* Bytes that S_NORM copies, lower-cased, to both outputs and nothing else
 * (outside scripts; inside, ' is special too, so it is never plain). */
static bool plain(uint8_t c)
{
	return c > 0x20 && c < 0x80 && c != '<' && c != '&' && c != '\'';
}

/* A run of plain bytes in S_NORM, written in one go: what step() does for
 * each of them. Returns the bytes taken. */
static size_t plain_run(struct htmlnorm *h, const uint8_t *in, size_t len, struct htmlnorm_out *o)
{
	size_t r = room(o) - HTMLNORM_MAX_STEP, n = 0;

	while (n < len && n < r && plain(in[n]))
		n++;
	if (n == 0)
		return 0;
	if (h->held)
		put_nc_now(o, h->held_byte);
	if (o->nocomment)
		for (size_t k = 0; k + 1 < n; k++)
			o->nocomment[o->nocomment_len + k] = lower(in[k]);
	o->nocomment_len += n - 1;
	o->nocomment_total += n - 1;
	h->held_byte = lower(in[n - 1]);
	h->held = true;
	if (!h->in_script) {
		if (o->notags)
			for (size_t k = 0; k < n; k++)
				o->notags[o->notags_len + k] = lower(in[k]);
		o->notags_len += n;
		o->notags_total += n;
		h->text_space = false;
	}
	return n;
}

size_t htmlnorm_run(struct htmlnorm *h, const uint8_t *in, size_t len, struct htmlnorm_out *out)
{
	struct sink s = {h, out};
	size_t i = 0;
	unsigned stuck = 0;

	while (i < len && room(out) > HTMLNORM_MAX_STEP) {
		uint8_t c = in[i];

		if (h->state == S_NORM && h->started && plain(c)) {
			i += plain_run(h, in + i, len - i, out);
			continue;
		}

		if (c == 0) { /* ClamAV's reader drops NUL bytes */
			i++;
			continue;
		}
		if (!h->started) {
			if (is_space(c)) {
				i++;
				continue;
			}
			h->started = true;
		}
		if (!h->binary && c == '\r') {
			i++;
			continue;
		}
		if (!h->binary && c == '\n')
			c = ' ';
		/* every state that does not consume moves on to one that does
		 * within a few steps; the bound only guards against a bug */
		if (step(&s, c) || ++stuck > 16) {
			i++;
			stuck = 0;
		}
	}
	return i;
}

void htmlnorm_finish(struct htmlnorm *h, struct htmlnorm_out *out)
{
	struct sink s = {h, out};

	if (h->ent_len) { /* an entity cut by the end of the input */
		int code = h->state == S_ENTITY ? entity_code(h->ent, h->ent_len) : -1;
		if (code >= 0) {
			uint8_t b[8];
			nc_str(&s, b, u16_form((uint16_t)code, b));
		} else {
			dump_entity(&s, false);
		}
		h->ent_len = 0;
	}
	if (h->held) {
		put_nc_now(out, h->held_byte);
		h->held = false;
	}
}
