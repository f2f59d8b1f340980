/* OLE2 / Compound File Binary (MS-CFB): Office 97-2003 documents, MSI
 * packages, anything else built on structured storage. Every stream becomes
 * a child named by its storage path ("ObjectPool/_1279313719/Ole10Native").
 * On top of that, what scanners need from Office files:
 *   - embedded packages (the \001Ole10Native stream of an OLE1 Package
 *     object): the embedded file itself, named by its label;
 *   - VBA module source: the VBA "dir" stream (MS-OVBA compression) lists the
 *     modules, their streams and where the compressed source starts;
 *   - PowerPoint's embedded objects and VBA projects (ExOleObjStg records of
 *     the "PowerPoint Document" stream, zlib-compressed): OLE2 files of their
 *     own, handed over for the driver to recurse into.
 *
 * Hostile input: the FAT, DIFAT and MiniFAT are read only as far as the file
 * has sectors; every chain is walked with a mark per sector, so a chain that
 * comes back on itself, leaves the file or meets a special value ends its
 * stream where it went wrong. The directory tree is walked without
 * recursion and each entry is visited once; streams are handed over in
 * directory order, including those the tree does not reach. */
#include <stdlib.h>
#include <string.h>

#include "unpack/olepkg.h"
#include "unpack/unpack.h"
#include "unpack/zinflate.h"

#define NOSTREAM 0xFFFFFFFFu
#define HEADER_SIZE 512u
#define HEADER_DIFAT 109u
#define DIRENT_SIZE 128u
#define MINI_CUTOFF 4096u

/* PowerPoint record types and VBA dir record ids (MS-PPT, MS-OVBA) */
#define PPT_EXOLEOBJSTG 0x1011u
#define VBA_PROJECTVERSION 0x0009u
#define VBA_MODULENAME 0x0019u
#define VBA_MODULESTREAMNAME 0x001Au
#define VBA_MODULEOFFSET 0x0031u
#define VBA_MODULE_END 0x002Bu

enum { ENT_STORAGE = 1, ENT_STREAM = 2, ENT_ROOT = 5 };

struct ole_entry {
	uint16_t name[32];
	uint8_t type;
	uint32_t left, right, child, start;
	uint64_t size;
	uint32_t parent; /* NOSTREAM until the tree walk reaches the entry */
	uint32_t depth;
};

/* A FAT or MiniFAT: the next sector of each sector, and the last chain that
 * went through each sector (loop detection). */
struct chain_table {
	uint32_t *next;
	uint32_t *mark;
	uint32_t n;
	uint32_t gen;
};

struct ole {
	const uint8_t *p;
	size_t len;
	uint32_t ss, mss, cutoff;
	uint32_t nsec; /* sectors the file holds (the last may be partial) */
	struct chain_table fat, minifat;
	struct buf mini; /* the mini stream */
	struct ole_entry *ents;
	uint32_t nents;
	bool msi;
	bool limit_hit;     /* a limit cut what was read: reported at the end */
	size_t vba_budget;  /* bytes VBA dir and module streams may still read */
	const struct unpack_sink *sink;
};

static bool rd_u16(struct reader *r, uint16_t *out)
{
	const uint8_t *b;

	if (!reader_bytes(r, 2, &b))
		return false;
	*out = (uint16_t)(b[0] | b[1] << 8);
	return true;
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static vg_status give(const struct ole *o, const char *name, const uint8_t *data, size_t len,
		      bool truncated)
{
	struct unpack_child c;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.data = data;
	c.len = len;
	c.truncated = truncated;
	return o->sink->child(o->sink->ctx, &c);
}

/* ---- sectors and chains ---- */

static bool sector(const struct ole *o, uint32_t s, const uint8_t **p, size_t *n)
{
	uint64_t off = ((uint64_t)s + 1) * o->ss;

	if (s >= o->nsec || off >= o->len)
		return false;
	*p = o->p + off;
	*n = o->len - off < o->ss ? (size_t)(o->len - off) : o->ss;
	return true;
}

static bool mini_sector(const struct ole *o, uint32_t s, const uint8_t **p, size_t *n)
{
	uint64_t off = (uint64_t)s * o->mss;

	if (off >= o->mini.len)
		return false;
	*p = o->mini.data + off;
	*n = o->mini.len - off < o->mss ? (size_t)(o->mini.len - off) : o->mss;
	return true;
}

static vg_status table_alloc(struct chain_table *t, uint32_t n)
{
	t->n = n;
	t->gen = 0;
	t->next = vg_reallocarray(NULL, n ? n : 1, sizeof(uint32_t));
	t->mark = vg_calloc(n ? n : 1, sizeof(uint32_t));
	if (!t->next || !t->mark)
		return VG_ENOMEM;
	memset(t->next, 0xff, (size_t)(n ? n : 1) * sizeof(uint32_t));
	return VG_OK;
}

static void table_free(struct chain_table *t)
{
	vg_free(t->next);
	vg_free(t->mark);
	t->next = t->mark = NULL;
}

static void new_chain(struct chain_table *t)
{
	if (++t->gen == 0) {
		memset(t->mark, 0, (size_t)(t->n ? t->n : 1) * sizeof(uint32_t));
		t->gen = 1;
	}
}

/* Appends the chain from start to out until it holds want bytes, the chain
 * ends, loops, or points outside the file. */
static vg_status read_chain(struct ole *o, bool mini, uint32_t start, size_t want, struct buf *out)
{
	struct chain_table *t = mini ? &o->minifat : &o->fat;
	uint32_t s = start;

	new_chain(t);
	while (out->len < want && s < t->n && t->mark[s] != t->gen) {
		const uint8_t *p;
		size_t n;
		vg_status rc;

		t->mark[s] = t->gen;
		if (!(mini ? mini_sector(o, s, &p, &n) : sector(o, s, &p, &n)))
			break;
		if (n > want - out->len)
			n = want - out->len;
		rc = buf_append(out, p, n);
		if (rc != VG_OK)
			return rc;
		s = t->next[s];
	}
	return VG_OK;
}

/* Fills the FAT from the sectors the header and the DIFAT chain list. Only
 * entries for sectors the file has are kept: any other is out of range. */
static vg_status load_fat(struct ole *o)
{
	uint32_t per = o->ss / 4;
	uint32_t csect = le32(o->p + 0x2C);
	uint32_t difat = le32(o->p + 0x44);
	uint32_t need = (uint32_t)(((uint64_t)o->nsec + per - 1) / per);
	uint32_t count = csect < need ? csect : need;
	const uint8_t *dp = NULL;
	size_t dn = 0, di = 0;
	vg_status rc;

	rc = table_alloc(&o->fat, o->nsec);
	if (rc != VG_OK)
		return rc;
	new_chain(&o->fat); /* marks the DIFAT chain */
	for (uint32_t i = 0; i < count; i++) {
		uint32_t fs;
		const uint8_t *p;
		size_t n;
		struct reader r;

		if (i < HEADER_DIFAT) {
			fs = le32(o->p + 0x4C + 4 * i);
		} else {
			if (di + 4 >= dn) {
				/* this DIFAT sector is used up (its last entry links on) */
				uint32_t next = difat;
				if (dp)
					next = dn >= 4 ? le32(dp + dn - 4) : NOSTREAM;
				if (next >= o->nsec || o->fat.mark[next] == o->fat.gen ||
				    !sector(o, next, &dp, &dn) || dn < o->ss)
					break;
				o->fat.mark[next] = o->fat.gen;
				di = 0;
			}
			fs = le32(dp + di);
			di += 4;
		}
		if (!sector(o, fs, &p, &n))
			continue; /* a FAT sector outside the file: its chains end */
		r = reader_init(p, n);
		for (uint32_t k = 0; k < per; k++) {
			uint64_t idx = (uint64_t)i * per + k;
			uint32_t v;
			if (idx >= o->nsec || !reader_u32le(&r, &v))
				break;
			o->fat.next[idx] = v;
		}
	}
	return VG_OK;
}

/* ---- names ---- */

static char msi_char(unsigned x)
{
	static const char alphabet[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";
	return alphabet[x & 0x3f];
}

static size_t put_utf8(char *dst, size_t cap, size_t j, uint32_t cp)
{
	uint8_t tmp[4];
	size_t n;

	if (cp < 0x80) {
		tmp[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (uint8_t)(0xC0 | cp >> 6);
		tmp[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (uint8_t)(0xE0 | cp >> 12);
		tmp[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		tmp[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		tmp[0] = (uint8_t)(0xF0 | cp >> 18);
		tmp[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		tmp[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		tmp[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (j + n >= cap)
		return j;
	memcpy(dst + j, tmp, n);
	return j + n;
}

/* Appends an entry's UTF-16 name as UTF-8 at dst[j], keeping a NUL within
 * cap. Control characters (the \001 and \005 prefixes of OLE's own streams)
 * are dropped; MSI's packed table and stream names are unpacked. */
static size_t append_name(const struct ole *o, const struct ole_entry *e, char *dst, size_t cap,
			  size_t j)
{
	for (size_t i = 0; i < 32 && e->name[i]; i++) {
		uint32_t u = e->name[i];

		if (u < 0x20)
			continue;
		if (o->msi && u >= 0x3800 && u < 0x4800) {
			j = put_utf8(dst, cap, j, (uint8_t)msi_char(u - 0x3800));
			j = put_utf8(dst, cap, j, (uint8_t)msi_char((u - 0x3800) >> 6));
			continue;
		}
		if (o->msi && u >= 0x4800 && u < 0x4840) {
			j = put_utf8(dst, cap, j, (uint8_t)msi_char(u - 0x4800));
			continue;
		}
		if (o->msi && u == 0x4840) {
			j = put_utf8(dst, cap, j, '!');
			continue;
		}
		if (u >= 0xD800 && u < 0xDC00 && i + 1 < 32 && e->name[i + 1] >= 0xDC00 &&
		    e->name[i + 1] < 0xE000) {
			u = 0x10000 + ((u - 0xD800) << 10) + (e->name[i + 1] - 0xDC00u);
			i++;
		} else if (u >= 0xD800 && u < 0xE000) {
			u = '?';
		}
		j = put_utf8(dst, cap, j, u);
	}
	dst[j] = '\0';
	return j;
}

/* The storage path of entry id, from below the root: "Macros/VBA/dir". */
static void entry_path(const struct ole *o, uint32_t id, char *dst, size_t cap)
{
	uint32_t chain[VG_OLE2_MAX_DEPTH + 1];
	size_t n = 0, j = 0;

	for (uint32_t x = id; x != NOSTREAM && x != 0 && n < VG_ARRAY_LEN(chain);
	     x = o->ents[x].parent)
		chain[n++] = x;
	dst[0] = '\0';
	while (n--) {
		j = append_name(o, &o->ents[chain[n]], dst, cap, j);
		if (n && j + 1 < cap) {
			dst[j++] = '/';
			dst[j] = '\0';
		}
	}
}

static bool name_is(const struct ole_entry *e, const char *ascii, bool nocase)
{
	size_t i;

	for (i = 0; ascii[i]; i++) {
		uint16_t u = i < 32 ? e->name[i] : 0;
		unsigned char c = (unsigned char)ascii[i];
		if (nocase && u < 0x80 && c < 0x80) {
			if (u >= 'A' && u <= 'Z')
				u = (uint16_t)(u + 32);
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c + 32);
		}
		if (u != c)
			return false;
	}
	return i >= 32 || e->name[i] == 0;
}

/* ---- directory ---- */

static vg_status load_directory(struct ole *o)
{
	struct buf d;
	size_t want = (size_t)VG_OLE2_MAX_DIR_ENTRIES * DIRENT_SIZE;
	vg_status rc;

	if (want > (size_t)o->nsec * o->ss)
		want = (size_t)o->nsec * o->ss;
	buf_init(&d, want);
	rc = read_chain(o, false, le32(o->p + 0x30), want, &d);
	if (rc != VG_OK)
		goto out;
	o->nents = (uint32_t)(d.len / DIRENT_SIZE);
	if (d.len == (size_t)VG_OLE2_MAX_DIR_ENTRIES * DIRENT_SIZE)
		o->limit_hit = true;
	if (o->nents == 0)
		goto out;
	o->ents = vg_calloc(o->nents, sizeof(*o->ents));
	if (!o->ents) {
		rc = VG_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < o->nents; i++) {
		struct reader r = reader_init(d.data + (size_t)i * DIRENT_SIZE, DIRENT_SIZE);
		struct ole_entry *e = &o->ents[i];
		uint16_t name_len = 0;
		const uint8_t *b = NULL;
		uint64_t size = 0;

		for (size_t k = 0; k < 32; k++)
			(void)rd_u16(&r, &e->name[k]);
		(void)rd_u16(&r, &name_len);
		if (reader_bytes(&r, 2, &b))
			e->type = b[0];
		(void)reader_u32le(&r, &e->left);
		(void)reader_u32le(&r, &e->right);
		(void)reader_u32le(&r, &e->child);
		(void)reader_skip(&r, 16 + 4 + 16); /* CLSID, state bits, times */
		(void)reader_u32le(&r, &e->start);
		(void)reader_u64le(&r, &size);
		/* version 3 files may leave garbage in the size's high half */
		e->size = o->ss == 512 ? (size & 0xFFFFFFFFu) : size;
		/* the name length counts bytes with the terminator: cut there */
		for (size_t k = name_len / 2 ? name_len / 2 - 1 : 0; k < 32; k++)
			e->name[k] = 0;
		e->parent = NOSTREAM;
	}
	/* MSI, MSP and MST packages (root CLSIDs 000C1084, 000C1086,
	 * 000C1082-0000-0000-C000-000000000046) pack their stream names */
	{
		static const uint8_t tail[12] = {0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46};
		const uint8_t *clsid = d.data + 0x50;
		uint32_t first = le32(clsid);
		o->msi = (first == 0x000C1084u || first == 0x000C1086u || first == 0x000C1082u) &&
			 memcmp(clsid + 4, tail, sizeof(tail)) == 0;
	}
out:
	buf_free(&d);
	return rc;
}

/* Gives every entry the tree reaches its parent storage, without recursion:
 * each entry is expanded once, so the stack never holds more than three
 * pushes per entry. */
static vg_status walk_tree(struct ole *o)
{
	uint32_t *stack = NULL, *from = NULL;
	bool *seen = NULL;
	size_t sp = 0, cap = (size_t)o->nents * 3 + 1;
	vg_status rc = VG_OK;

	stack = vg_reallocarray(NULL, cap, sizeof(uint32_t));
	from = vg_reallocarray(NULL, cap, sizeof(uint32_t));
	seen = vg_calloc(o->nents, sizeof(bool));
	if (!stack || !from || !seen) {
		rc = VG_ENOMEM;
		goto out;
	}
	seen[0] = true;
	o->ents[0].depth = 0;
	stack[sp] = o->ents[0].child;
	from[sp++] = 0;
	while (sp) {
		uint32_t id = stack[--sp], parent = from[sp];
		struct ole_entry *e;

		if (id >= o->nents || seen[id])
			continue;
		seen[id] = true;
		e = &o->ents[id];
		e->parent = parent;
		e->depth = o->ents[parent].depth + 1;
		stack[sp] = e->right;
		from[sp++] = parent;
		stack[sp] = e->left;
		from[sp++] = parent;
		if (e->type == ENT_STORAGE && e->depth < VG_OLE2_MAX_DEPTH) {
			stack[sp] = e->child;
			from[sp++] = id;
		}
	}
out:
	vg_free(stack);
	vg_free(from);
	vg_free(seen);
	return rc;
}

/* Reads a stream's first want bytes (from the mini stream when small). */
static vg_status read_stream(struct ole *o, const struct ole_entry *e, size_t want, struct buf *b)
{
	buf_init(b, want);
	return read_chain(o, e->size < o->cutoff, e->start, want, b);
}

static size_t stream_want(const struct ole *o, const struct ole_entry *e)
{
	return e->size < o->sink->max_child ? (size_t)e->size : o->sink->max_child;
}

/* ---- embedded content ---- */

static vg_status ole10native(struct ole *o, const struct buf *s, bool stream_truncated)
{
	struct olepkg pkg;

	/* a u32 size, then the Package data */
	if (s->len < 4 || !olepkg_parse(s->data + 4, s->len - 4, &pkg))
		return VG_OK;
	if (pkg.len == 0)
		return VG_OK;
	return give(o, pkg.name, pkg.data, pkg.len, stream_truncated && pkg.len < pkg.size);
}

/* PowerPoint keeps embedded OLE objects (and its VBA project) as
 * ExOleObjStg atoms, zlib-compressed when the record instance is 1. Records
 * with version 0xF are containers whose children follow inline, so one
 * linear walk sees every atom. */
static vg_status powerpoint(struct ole *o, const struct buf *s, const char *path)
{
	static const char suffix[] = "/ExOleObjStg";
	char name[VG_OLE2_MAX_NAME + sizeof(suffix)];
	size_t plen = strnlen(path, VG_OLE2_MAX_NAME - 1);
	struct reader r = reader_init(s->data, s->len);
	struct buf out;
	vg_status rc = VG_OK;

	memcpy(name, path, plen);
	memcpy(name + plen, suffix, sizeof(suffix));
	buf_init(&out, o->sink->max_child);
	while (reader_left(&r) >= 8) {
		uint16_t ver_inst = 0, type = 0;
		uint32_t len = 0;
		const uint8_t *body = NULL;
		bool truncated = false;

		if (!rd_u16(&r, &ver_inst) || !rd_u16(&r, &type) || !reader_u32le(&r, &len))
			break;
		if ((ver_inst & 0xF) == 0xF)
			continue;
		if (len > reader_left(&r))
			len = (uint32_t)reader_left(&r);
		if (!reader_bytes(&r, len, &body) || type != PPT_EXOLEOBJSTG || len == 0)
			continue;
		out.len = 0;
		if (ver_inst >> 4 == 1) {
			if (len <= 4)
				continue;
			rc = zinflate(body + 4, len - 4, false, &out, &truncated);
			if (rc != VG_OK)
				goto out;
			if (out.len == 0)
				continue;
			rc = give(o, name, out.data, out.len, truncated);
		} else {
			size_t n = len < o->sink->max_child ? len : o->sink->max_child;
			rc = give(o, name, body, n, n < len);
		}
		if (rc != VG_OK)
			goto out;
	}
out:
	buf_free(&out);
	return rc;
}

static unsigned ceil_log2(size_t d)
{
	unsigned n = 0;

	while (((size_t)1 << n) < d)
		n++;
	return n;
}

/* MS-OVBA 2.4.1 decompression of the container at in[0..n), appended to out
 * (never beyond out->max; *truncated says when more was coming). A
 * malformed chunk ends the output. */
static vg_status ovba_decompress(const uint8_t *in, size_t n, struct buf *out, bool *truncated)
{
	size_t pos = 1;

	*truncated = false;
	if (n < 1 || in[0] != 0x01)
		return VG_OK;
	while (pos + 2 <= n) {
		uint16_t hdr = (uint16_t)(in[pos] | in[pos + 1] << 8);
		size_t end = pos + (hdr & 0x0FFFu) + 3u, start;
		size_t room = out->max - out->len;
		size_t want = room < 4096 ? room : 4096;
		vg_status rc;

		if (end > n)
			end = n;
		pos += 2;
		if (want == 0) {
			*truncated = true;
			return VG_OK;
		}
		rc = buf_reserve(out, want);
		if (rc != VG_OK)
			return rc;
		start = out->len;
		if (!(hdr & 0x8000u)) {
			/* stored chunk: 4096 bytes as they are */
			size_t k = n - pos < 4096 ? n - pos : 4096;
			if (k > want) {
				k = want;
				*truncated = true;
			}
			memcpy(out->data + out->len, in + pos, k);
			out->len += k;
			pos += 4096;
			if (*truncated)
				return VG_OK;
			continue;
		}
		/* a compressed chunk decompresses to at most 4096 bytes; want is
		 * less only when out is nearly full */
		while (pos < end) {
			uint8_t flags = in[pos++];

			for (unsigned bit = 0; bit < 8 && pos < end; bit++) {
				size_t d = out->len - start;
				uint16_t token;
				unsigned bits;
				size_t length, offset;

				if (!(flags >> bit & 1)) {
					if (d >= want) {
						*truncated = want < 4096;
						return VG_OK;
					}
					out->data[out->len++] = in[pos++];
					continue;
				}
				if (pos + 2 > end || d == 0)
					return VG_OK; /* malformed */
				token = (uint16_t)(in[pos] | in[pos + 1] << 8);
				pos += 2;
				bits = ceil_log2(d);
				if (bits < 4)
					bits = 4;
				if (bits > 12)
					return VG_OK;
				length = (size_t)(token & (0xFFFFu >> bits)) + 3;
				offset = (size_t)(token >> (16 - bits)) + 1;
				if (offset > d)
					return VG_OK;
				for (size_t k = 0; k < length; k++) {
					if (out->len - start >= want) {
						*truncated = want < 4096;
						return VG_OK;
					}
					out->data[out->len] = out->data[out->len - offset];
					out->len++;
				}
			}
		}
		pos = end;
	}
	return VG_OK;
}

struct vba_module {
	const uint8_t *stream;
	uint32_t stream_len;
	uint32_t offset;
	bool has_stream, has_offset;
};

/* The streams next to a dir stream, sorted by name without case, so each
 * module finds its stream by binary search. */
struct sibling {
	char name[128];
	size_t len;
	uint32_t id;
};

static int ascii_casecmp(const char *a, size_t an, const char *b, size_t bn)
{
	for (size_t i = 0; i < an && i < bn; i++) {
		int x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return an < bn ? -1 : an > bn;
}

static int sibling_cmp(const void *a, const void *b)
{
	const struct sibling *x = a, *y = b;

	return ascii_casecmp(x->name, x->len, y->name, y->len);
}

/* Takes bytes from the VBA budget: false (and the limit noted) when spent. */
static bool vba_spend(struct ole *o, size_t *want)
{
	if (o->vba_budget == 0) {
		o->limit_hit = true;
		return false;
	}
	if (*want > o->vba_budget)
		*want = o->vba_budget;
	return true;
}

static vg_status vba_module(struct ole *o, const struct sibling *sibs, size_t nsibs,
			    const struct vba_module *m)
{
	char name[VG_OLE2_MAX_NAME + 8];
	const struct sibling *hit = NULL;
	const struct ole_entry *e;
	struct buf src, out;
	size_t lo = 0, hi = nsibs, want, extra;
	vg_status rc = VG_OK;
	bool truncated;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ascii_casecmp((const char *)m->stream, m->stream_len, sibs[mid].name,
				      sibs[mid].len);
		if (c == 0) {
			hit = &sibs[mid];
			break;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (!hit)
		return VG_OK;
	e = &o->ents[hit->id];
	/* enough compressed bytes for max_child of source: literals cost 9/8,
	 * plus a header per 4096-byte chunk */
	extra = o->sink->max_child < SIZE_MAX / 4 ? o->sink->max_child : SIZE_MAX / 4;
	want = (size_t)m->offset + extra + extra / 8 + extra / 2048 + 64;
	if (want > e->size)
		want = (size_t)e->size;
	if (!vba_spend(o, &want))
		return VG_OK;
	buf_init(&out, o->sink->max_child);
	rc = read_stream(o, e, want, &src);
	o->vba_budget -= src.len;
	if (rc != VG_OK || m->offset >= src.len)
		goto out;
	rc = ovba_decompress(src.data + m->offset, src.len - m->offset, &out, &truncated);
	if (rc != VG_OK || out.len == 0)
		goto out;
	entry_path(o, hit->id, name, VG_OLE2_MAX_NAME);
	strcat(name, ".vba");
	rc = give(o, name, out.data, out.len, truncated);
out:
	buf_free(&src);
	buf_free(&out);
	return rc;
}

/* The VBA "dir" stream (compressed) lists each module's stream and the
 * offset of its compressed source in it (MS-OVBA 2.3.4.2). */
static vg_status vba_project(struct ole *o, uint32_t dir_id)
{
	const struct ole_entry *e = &o->ents[dir_id];
	struct sibling *sibs = NULL;
	size_t nsibs = 0, want;
	struct buf raw, dir;
	struct reader r;
	struct vba_module m;
	uint32_t modules = 0;
	vg_status rc = VG_OK;
	bool truncated;

	/* the dir stream is read whole (to its own cap, not the child's): it
	 * is structure, not content */
	buf_init(&raw, 0);
	buf_init(&dir, VG_OLE2_MAX_VBA_DIR);
	want = e->size < VG_OLE2_MAX_VBA_DIR ? (size_t)e->size : VG_OLE2_MAX_VBA_DIR;
	if (!vba_spend(o, &want))
		goto out;
	rc = read_stream(o, e, want, &raw);
	o->vba_budget -= raw.len;
	if (rc != VG_OK)
		goto out;
	rc = ovba_decompress(raw.data, raw.len, &dir, &truncated);
	if (rc != VG_OK || dir.len == 0)
		goto out;
	for (uint32_t i = 0; i < o->nents; i++)
		if (o->ents[i].type == ENT_STREAM && o->ents[i].parent == e->parent)
			nsibs++;
	sibs = vg_calloc(nsibs ? nsibs : 1, sizeof(*sibs));
	if (!sibs) {
		rc = VG_ENOMEM;
		goto out;
	}
	nsibs = 0;
	for (uint32_t i = 0; i < o->nents; i++) {
		if (o->ents[i].type != ENT_STREAM || o->ents[i].parent != e->parent)
			continue;
		struct sibling *sb = &sibs[nsibs++];
		sb->len = append_name(o, &o->ents[i], sb->name, sizeof(sb->name), 0);
		sb->id = i;
	}
	qsort(sibs, nsibs, sizeof(*sibs), sibling_cmp);
	memset(&m, 0, sizeof(m));
	r = reader_init(dir.data, dir.len);
	while (reader_left(&r) >= 6) {
		uint16_t id = 0;
		uint32_t size = 0;
		const uint8_t *data;

		if (!rd_u16(&r, &id) || !reader_u32le(&r, &size))
			break;
		if (id == VBA_PROJECTVERSION) {
			/* its size field says 4 but 6 bytes follow */
			if (!reader_skip(&r, 6))
				break;
			continue;
		}
		if (!reader_bytes(&r, size, &data))
			break;
		switch (id) {
		case VBA_MODULENAME:
			memset(&m, 0, sizeof(m));
			break;
		case VBA_MODULESTREAMNAME:
			m.stream = data;
			m.stream_len = size;
			m.has_stream = true;
			break;
		case VBA_MODULEOFFSET:
			if (size >= 4) {
				m.offset = le32(data);
				m.has_offset = true;
			}
			break;
		case VBA_MODULE_END:
			if (m.has_stream && m.has_offset) {
				if (++modules > VG_OLE2_MAX_VBA_MODULES) {
					o->limit_hit = true;
					goto out;
				}
				rc = vba_module(o, sibs, nsibs, &m);
				if (rc != VG_OK)
					goto out;
			}
			memset(&m, 0, sizeof(m));
			break;
		default:
			break;
		}
	}
out:
	vg_free(sibs);
	buf_free(&raw);
	buf_free(&dir);
	return rc;
}

/* ---- the walk ---- */

static vg_status give_streams(struct ole *o)
{
	char path[VG_OLE2_MAX_NAME];
	vg_status rc = VG_OK;

	for (uint32_t i = 1; i < o->nents; i++) {
		const struct ole_entry *e = &o->ents[i];
		size_t want;
		struct buf b;
		bool truncated;

		if (e->type != ENT_STREAM || e->size == 0)
			continue;
		want = stream_want(o, e);
		rc = read_stream(o, e, want, &b);
		if (rc != VG_OK || b.len == 0) {
			buf_free(&b);
			if (rc != VG_OK)
				break;
			continue;
		}
		truncated = b.len == want && e->size > want;
		entry_path(o, i, path, sizeof(path));
		rc = give(o, path, b.data, b.len, truncated);
		if (rc == VG_OK && name_is(e, "\001Ole10Native", false))
			rc = ole10native(o, &b, truncated);
		else if (rc == VG_OK && name_is(e, "PowerPoint Document", false))
			rc = powerpoint(o, &b, path);
		else if (rc == VG_OK && name_is(e, "dir", true) && e->parent != NOSTREAM &&
			 e->parent != 0)
			rc = vba_project(o, i);
		buf_free(&b);
		if (rc != VG_OK)
			break;
	}
	return rc;
}

vg_status unpack_ole2(const struct unpack_input *in, const struct unpack_sink *sink)
{
	static const uint8_t magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
	struct ole o;
	struct buf mf;
	vg_status rc = VG_OK;
	uint16_t shift, mshift;
	const struct ole_entry *root;

	memset(&o, 0, sizeof(o));
	buf_init(&o.mini, 0);
	buf_init(&mf, 0);
	if (in->len < HEADER_SIZE || memcmp(in->data, magic, sizeof(magic)) != 0)
		goto out;
	o.p = in->data;
	o.len = in->len;
	o.sink = sink;
	o.vba_budget = VG_OLE2_MAX_VBA_BYTES;
	shift = (uint16_t)(o.p[0x1E] | o.p[0x1F] << 8);
	mshift = (uint16_t)(o.p[0x20] | o.p[0x21] << 8);
	if (shift != 9 && shift != 12)
		shift = o.p[0x1A] == 4 ? 12 : 9; /* trust the major version instead */
	o.ss = 1u << shift;
	o.mss = mshift >= 6 && mshift <= shift ? 1u << mshift : 64u;
	o.cutoff = le32(o.p + 0x38) ? le32(o.p + 0x38) : MINI_CUTOFF;
	if (o.len <= o.ss)
		goto out;
	{
		uint64_t nsec = (o.len - o.ss + o.ss - 1) / o.ss;
		o.nsec = nsec > 0xFFFFFFF0u ? 0xFFFFFFF0u : (uint32_t)nsec;
	}
	rc = load_fat(&o);
	if (rc != VG_OK)
		goto out;
	rc = load_directory(&o);
	if (rc != VG_OK || o.nents == 0)
		goto out;
	rc = walk_tree(&o);
	if (rc != VG_OK)
		goto out;
	/* the mini stream is the root entry's chain; the MiniFAT links its
	 * 64-byte sectors */
	root = &o.ents[0];
	{
		size_t file_bytes = (size_t)o.nsec * o.ss;
		size_t want = root->size < file_bytes ? (size_t)root->size : file_bytes;
		o.mini.max = want;
		rc = read_chain(&o, false, root->start, want, &o.mini);
		if (rc != VG_OK)
			goto out;
		mf.max = file_bytes;
		rc = read_chain(&o, false, le32(o.p + 0x3C), file_bytes, &mf);
		if (rc != VG_OK)
			goto out;
	}
	{
		uint32_t entries = (uint32_t)(mf.len / 4);
		uint32_t msecs = (uint32_t)((o.mini.len + o.mss - 1) / o.mss);
		struct reader r = reader_init(mf.data, mf.len);
		rc = table_alloc(&o.minifat, entries < msecs ? entries : msecs);
		if (rc != VG_OK)
			goto out;
		for (uint32_t i = 0; i < o.minifat.n; i++)
			(void)reader_u32le(&r, &o.minifat.next[i]);
	}
	rc = give_streams(&o);
	if (rc == VG_OK && o.limit_hit)
		rc = VG_ELIMIT;
out:
	table_free(&o.fat);
	table_free(&o.minifat);
	buf_free(&o.mini);
	buf_free(&mf);
	vg_free(o.ents);
	return rc;
}
