/* sigdb: ClamAV signature database files, parsed into one signature set that
 * the engine compiles into match/ tables. */
#ifndef VG_SIGDB_H
#define VG_SIGDB_H

#include "base/base.h"
#include "match/match.h"
#include "util/util.h"

/* Where a body pattern may start. */
enum sig_offset_kind {
	SIG_OFF_ANY = 0, /* '*' */
	SIG_OFF_ABS,     /* n[,shift] */
	SIG_OFF_EOF,     /* EOF-n[,shift] */
	/* relative to an executable's layout (targets 1, 6, 9) */
	SIG_OFF_EP_PLUS, /* EP+n[,shift] */
	SIG_OFF_EP_MINUS,/* EP-n[,shift] */
	SIG_OFF_SX,      /* Sx+n[,shift]: start of section x + n */
	SIG_OFF_SE,      /* SEx[,shift]: anywhere in section x (+ shift past its end) */
	SIG_OFF_SL       /* SL+n[,shift]: start of the last section + n */
};

struct sig_offset {
	uint8_t kind;
	bool floating;  /* ",shift" was given (even ",0") */
	uint32_t section; /* SIG_OFF_SX, SIG_OFF_SE */
	uint64_t n;
	uint64_t shift; /* start may be anywhere in [at, at + shift] */
};

enum offset_class { OFFC_PLAIN, OFFC_EXE, OFFC_SPECIAL };

/* Parses a ClamAV offset field (*, n, n,m, EOF-n, EP+n, EP-n, Sx+n, SEx,
 * SL+n, VI, $n$). OFFC_EXE: relative to an executable's layout (targets 1,
 * 6, 9 only; VI leaves off unset); OFFC_SPECIAL: $n$ macros. *floating is
 * set for ",shift". False if the field is malformed. */
bool sigdb_parse_offset(const struct field *f, struct sig_offset *off, enum offset_class *cls,
			bool *floating);
/* ClamAV's target types that vigil matches body signatures for. */
enum sig_target { SIG_TARGET_ANY = 0, SIG_TARGET_PE = 1, SIG_TARGET_ELF = 6, SIG_TARGET_MACHO = 9 };
#define SIG_TARGET_COUNT 15u /* ClamAV's CLI_MTARGETS: targets are 0..14 */

/* One usable signature. Its name (with ".UNOFFICIAL" when the database is
 * not a signed container) is in the set's name arena. */
struct sig {
	uint32_t name;  /* offset into names */
	uint32_t db;    /* index into dbs */
	uint8_t kind;   /* enum vg_sig_kind */
};

struct body_sig {
	uint32_t sig;
	uint8_t target;      /* ClamAV target type 0..14 (enum sig_target names the executable ones; filetype_targets) */
	struct sig_offset off;
	struct pattern *pat; /* owned */
	uint32_t lsub;       /* 1 + index into sigset.lsubs for a .ldb subsignature; 0: reported itself */
	bool nocase;         /* .ldb ::i: pattern and anchor are lower case, data is folded */
};

#define LDB_TYPE_ANY 0xffu  /* CL_TYPE_ANY in Container / Intermediates / .cdb */

/* ---- container metadata signatures (.cdb) ---- */

#define CDB_ANY UINT32_MAX /* '*' in a range */

struct cdb_sig {
	uint32_t sig;
	uint8_t ctype;        /* enum ftype of the container, or LDB_TYPE_ANY for '*' */
	uint8_t encrypted;    /* 0, 1, or 2 for '*' */
	uint32_t csize[2];    /* container size range; CDB_ANY */
	uint32_t fsize[2];    /* real (uncompressed) size range; CDB_ANY */
	uint32_t filepos[2];  /* position in the container, from 1; CDB_ANY */
	char *name_re;        /* owned; POSIX extended regex on the entry name, NULL for '*' */
};

/* ---- file type magic (.ftm), magic type 0 ---- */

struct ftm_sig {
	uint32_t offset;
	uint32_t len;
	uint8_t *bytes;   /* owned */
	uint8_t type;     /* enum ftype */
};

/* A CL_TYPE_ name (ClamAV's list) as an enum ftype, LDB_TYPE_ANY for
 * CL_TYPE_ANY, TYPE_UNSUPPORTED when vigil's file typer never produces that
 * type, or TYPE_UNKNOWN when ClamAV does not know the name either. */
enum { TYPE_UNKNOWN = -1, TYPE_UNSUPPORTED = -2 };
int sigdb_type_code(const char *s, size_t n);

/* ---- logical signatures (.ldb) ---- */

enum lsub_kind { LSUB_CONTENT = 1, LSUB_PCRE, LSUB_BCOMP };

/* One subsignature. Content ones are body_sig entries pointing back here
 * (one, or two for ::wa); PCRE and byte-compare ones run after the body
 * scan, when their trigger holds. */
struct ldb_sub {
	uint8_t kind;
	uint8_t pcre_global;    /* g: count every match */
	uint8_t pcre_rolling;   /* r: unanchored from the offset */
	uint8_t pcre_encompass; /* e: the match stays inside offset .. offset + shift */
	uint32_t pcre_opts;     /* PCRE2 compile options (i s m x A E U) */
	char *trigger;          /* owned; PCRE: expression over earlier subsignatures */
	char *regex;            /* owned; PCRE */
	struct sig_offset off;  /* PCRE */
	struct bcomp bc;        /* byte compare */
};

#define LDB_MAX_INTERMEDIATES 16u

struct ldb_sig {
	uint32_t sig;
	char *expr;           /* owned */
	uint32_t first_sub;   /* index into sigset.lsubs */
	uint32_t nsubs;
	uint8_t target;
	bool has_fsize, has_ep, has_nos, has_container;
	bool always;          /* true with no subsignature matched: evaluate on every layer */
	uint8_t container;    /* enum ftype or LDB_TYPE_ANY */
	uint8_t ninter;
	uint8_t inter[LDB_MAX_INTERMEDIATES]; /* outermost first; enum ftype or LDB_TYPE_ANY */
	uint32_t fsize[2], ep[2], nos[2];
};

struct ignore_entry {
	char *name;          /* without ".UNOFFICIAL" */
	bool has_md5;
	uint8_t md5[16];     /* MD5 of the whole database line */
};

struct db_record {
	char *path;
	char *name;      /* base name */
	uint32_t version;
	int64_t build_time;
	uint64_t signatures;
	uint64_t deferred;
	uint64_t skipped;
	bool official;
};

/* A growable array of fixed-size items. */
struct vec {
	void *items;
	size_t n;
	size_t cap;
	size_t size;
};

void vec_init(struct vec *v, size_t item_size);
void vec_free(struct vec *v);
/* Appends one zeroed item; NULL on allocation failure. */
void *vec_push(struct vec *v);
#define VEC_AT(v, type, i) (&((type *)(v)->items)[i])

/* Told about every database file (or container member) the loader meets;
 * vg_db_inspect() uses it to count per file. */
enum db_file_state {
	DBFILE_LOADED = 0,
	DBFILE_UNSUPPORTED,  /* a ClamAV format vigil does not read (yet or by decision) */
	DBFILE_PUA_SKIPPED,  /* PUA set, loaded only with detect_pua */
	DBFILE_NOT_OFFICIAL, /* skipped: only signed containers are accepted */
	DBFILE_OTHER         /* not a database: COPYING, unknown names */
};

struct db_file_event {
	const char *container; /* file name of the container, NULL for a loose file */
	const char *name;      /* file name (member name inside a container) */
	enum db_file_state state;
	uint64_t lines;        /* lines that are neither empty nor '#' comments */
	uint64_t signatures, deferred, skipped;
};

struct sigset_observer {
	void (*fn)(void *ctx, const struct db_file_event *ev);
	void *ctx;
};

struct sigset {
	struct buf names;        /* NUL-terminated names */
	struct vec sigs;         /* struct sig */
	struct vec bodies;       /* struct body_sig */
	struct vec ldbs;         /* struct ldb_sig */
	struct vec cdbs;         /* struct cdb_sig */
	struct vec ftms;         /* struct ftm_sig */
	struct vec lsubs;        /* struct ldb_sub */
	struct vec hashes;       /* struct hash_entry, value = sig index */
	struct vec fps;          /* struct hash_entry of .fp/.sfp, value unused */
	struct vec sections;     /* struct hash_entry of .mdb/.msb/.mdu/.msu, size = section size */
	struct vec imports;      /* struct hash_entry of .imp, size = import table bytes */
	struct vec ignores;      /* struct ignore_entry */
	struct vec dbs;          /* struct db_record */
	uint32_t flevel;
	bool detect_pua;
	bool official_only;      /* load signed containers (.cvd/.cld) only */
	const struct vg_logger *log;
	const struct sigset_observer *observer; /* NULL: nobody listens */
	char error[1200];        /* "file:line:col: what" of the last failure */
};

void sigset_init(struct sigset *s, uint32_t flevel, bool detect_pua, const struct vg_logger *log);
void sigset_free(struct sigset *s);

/* Loads a file or every database file of a folder. On VG_EFORMAT the set is
 * unchanged and s->error says why. require_db: fail with VG_ENODB if a
 * folder holds no database file. */
vg_status sigset_load(struct sigset *s, const char *path, bool require_db);

/* Name of signature i. */
const char *sigset_name(const struct sigset *s, uint32_t i);

/* ---- per-format loaders, used by dbdir.c; each parses a whole file ---- */

/* What a loader gets: the text, the file's name for messages and the
 * database record being filled. */
struct db_text {
	const char *path;   /* for messages */
	const char *text;
	size_t len;
	uint32_t db;        /* index of the db_record */
	bool official;      /* names without ".UNOFFICIAL" */
};

enum hash_file_kind {
	HASHFILE_SIG, /* .hdb .hsb .hdu .hsu */
	HASHFILE_FP,  /* .fp .sfp */
	HASHFILE_MDB, /* .mdb .msb .mdu .msu: size first, hash second */
	HASHFILE_IMP  /* .imp */
};

vg_status sigdb_load_hash(struct sigset *s, const struct db_text *t, enum hash_file_kind kind);
vg_status sigdb_load_ndb(struct sigset *s, const struct db_text *t);
vg_status sigdb_load_ldb(struct sigset *s, const struct db_text *t);
vg_status sigdb_load_cdb(struct sigset *s, const struct db_text *t);
vg_status sigdb_load_ftm(struct sigset *s, const struct db_text *t);
/* Frees what logical signatures from index ldb_from and subsignatures from
 * sub_from own, and drops them from the set. */
void sigdb_free_ldbs(struct sigset *s, size_t ldb_from, size_t sub_from);
/* The same for container signatures from index from. */
void sigdb_free_cdbs(struct sigset *s, size_t from);
void sigdb_free_ftms(struct sigset *s, size_t from);
/* PE section hashes: SectionSize:Hash:Name[:MinFL[:MaxFL]] */
vg_status sigdb_load_mdb(struct sigset *s, const struct db_text *t);
/* PE import table hashes: Hash:Size:Name[:MinFL[:MaxFL]] */
vg_status sigdb_load_imp(struct sigset *s, const struct db_text *t);
vg_status sigdb_load_ign(struct sigset *s, const struct db_text *t, bool legacy_ign);

/* True if a signature of this name (raw, without ".UNOFFICIAL") from this
 * line must be ignored because of an .ign/.ign2 entry. */
bool sigdb_ignored(const struct sigset *s, const char *name, size_t name_len, const char *line,
		   size_t line_len);

/* Runs fn on every line that is not a '#' comment, with ClamAV's rules: a
 * line of VG_MAX_LINE_LEN bytes or more is refused, and so is an empty file
 * unless empty_ok. fn sets *counted when the line added a signature. */
typedef vg_status sigdb_line_fn(struct sigset *s, const struct db_text *t, const char *line,
				size_t len, uint32_t lineno, void *arg, bool *counted);
vg_status sigdb_each_line(struct sigset *s, const struct db_text *t, bool empty_ok,
			  sigdb_line_fn *fn, void *arg);

/* The same with another line limit (.ldb lines may be longer). */
vg_status sigdb_each_line_max(struct sigset *s, const struct db_text *t, bool empty_ok,
			      uint32_t max_line, sigdb_line_fn *fn, void *arg);

/* Helpers for loaders. */
vg_status sigdb_fail(struct sigset *s, vg_status rc, const char *path, uint32_t line,
		     uint32_t col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Adds a signature; *out is its index. */
vg_status sigdb_add_sig(struct sigset *s, const struct db_text *t, const char *name, size_t len,
			uint8_t kind, uint32_t *out);
/* FLEVEL gate: fields fmin/fmax optional (NULL). false = skip the line;
 * *bad set when a present field is not a number. */
bool sigdb_flevel_ok(const struct sigset *s, const struct field *fmin, const struct field *fmax,
		     bool *bad);

/* ---- ClamAV's digital signatures (dsig.c) ---- */

enum dsig_key {
	DSIG_KEY_CVD = 0, /* .cvd header: RSA-1024 over the payload's MD5 */
	DSIG_KEY_INFO,    /* .info manifest DSIG: RSA-2048 PSS over SHA-256 */
	DSIG_KEY_CDIFF    /* .cdiff: RSA-2048 PSS over SHA-256 */
};

/* sig is the signature text (ClamAV's base-64 alphabet, little-endian). */
bool dsig_verify_md5(const char *sig, size_t len, const uint8_t md5[16]);
bool dsig_verify_sha256(enum dsig_key key, const char *sig, size_t len,
			const uint8_t sha256[32]);

/* ---- signed containers (cvd.c) ---- */

enum cvd_kind {
	CVD_KIND_CVD = 0, /* signed by ClamAV: header RSA-MD5 and .info DSIG */
	CVD_KIND_CLD,     /* built locally from a .cvd and .cdiffs: .info DSIG */
	CVD_KIND_CUD      /* unsigned by design: integrity (MD5, .info hashes) only */
};

struct cvd_header {
	char time_text[64];   /* "22 Jun 2021 21-34 -0400" */
	uint32_t version;
	uint64_t sigs;        /* as declared by the builder */
	uint32_t flevel;      /* minimum functionality level */
	char md5[40];         /* 32 hex digits, or "X" */
	char dsig[400];       /* or "X" */
	char builder[64];
	int64_t build_time;   /* unix seconds; 0 when absent */
};

struct cvd_entry {        /* one line of the .info manifest */
	char *name;
	uint64_t size;
	uint8_t sha256[32];
	bool seen;
};

struct cvd {
	enum cvd_kind kind;
	const char *path;     /* for messages; borrowed */
	const uint8_t *data;  /* the whole file; borrowed */
	size_t len;
	struct cvd_header hdr;
	bool verified;        /* the signatures that this kind carries all verified */
	char *info;           /* the .info manifest text */
	size_t info_len;
	char info_name[256];
	struct cvd_entry *entries;
	size_t nentries;
	char err[600];        /* "path: what went wrong" */
};

/* The kind a file name's extension says; false if none. */
bool cvd_kind_of_name(const char *name, enum cvd_kind *out);
/* The database name: "daily" for daily.cvd and daily-27000.cvd. */
void cvd_db_name(const char *file_name, char *out, size_t outlen);
/* Parses the 512-byte header (and nothing else). */
vg_status cvd_parse_header(const uint8_t *data, size_t len, struct cvd_header *h, char *err,
			   size_t errlen);
/* Reads and parses the header of a container file; false if it cannot. */
bool cvd_read_header_file(const char *path, struct cvd_header *h);
/* Checks the header, the MD5 and signature it carries, finds, parses and
 * checks the .info manifest. VG_EFORMAT (malformed) or VG_EBADSIG (a
 * signature, hash or size does not match); c->err says which file and why.
 * cvd_close() is needed whatever the result. */
vg_status cvd_open(struct cvd *c, const char *path, enum cvd_kind kind, const uint8_t *data,
		   size_t len);
/* Calls fn on every member (COPYING and the .info included) in archive
 * order, each checked against the manifest before fn sees it; at the end,
 * every file the manifest lists must have been met. fn's error stops the
 * walk and is returned. */
typedef vg_status cvd_member_fn(void *ctx, const char *name, const uint8_t *data, size_t len);
vg_status cvd_each_member(struct cvd *c, cvd_member_fn *fn, void *ctx);
void cvd_close(struct cvd *c);

/* ---- incremental updates (cdiff.c) ---- */

/* A container's files in memory, in order. */
struct memfile {
	char *name;
	struct buf data;
};
struct memfiles {
	struct memfile *files;
	size_t n;
};
void memfiles_free(struct memfiles *m);
vg_status memfiles_add(struct memfiles *m, const char *name, const uint8_t *data, size_t len);

/* Verifies a .cdiff (header, gzip script, signature) and returns its script
 * and the version it produces. VG_EBADSIG when the signature does not verify. */
vg_status cdiff_open(const uint8_t *data, size_t len, const char *path, uint32_t *version,
		     char **script, size_t *script_len, char *err, size_t errlen);
/* Runs the script on the files (OPEN/ADD/DEL/XCHG/MOVE/CLOSE/UNLINK). */
vg_status cdiff_apply_script(struct memfiles *m, const char *script, size_t len, const char *path,
			     char *err, size_t errlen);
/* A .cld from files: header = first .info line padded to 512 bytes, then an
 * uncompressed tar of COPYING, the .info and the other files. */
vg_status cld_build(const struct memfiles *m, uint8_t **out, size_t *out_len, char *err,
		    size_t errlen);

#endif
