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

struct sigset {
	struct buf names;        /* NUL-terminated names */
	struct vec sigs;         /* struct sig */
	struct vec bodies;       /* struct body_sig */
	struct vec hashes;       /* struct hash_entry, value = sig index */
	struct vec fps;          /* struct hash_entry of .fp/.sfp, value unused */
	struct vec sections;     /* struct hash_entry of .mdb/.msb/.mdu/.msu, size = section size */
	struct vec imports;      /* struct hash_entry of .imp, size = import table bytes */
	struct vec ignores;      /* struct ignore_entry */
	struct vec dbs;          /* struct db_record */
	uint32_t flevel;
	bool detect_pua;
	const struct vg_logger *log;
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

#endif
