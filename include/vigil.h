/*
 * vigil.h - the public interface of libvigil, the vigil scanning engine.
 *
 * This is the only header a program using libvigil includes. Every exported
 * symbol starts with vg_, every type with struct vg_ / enum vg_, every constant
 * with VG_.
 *
 * Life of an engine:
 *
 *     struct vg_engine_options opts;
 *     vg_engine_options_init(&opts);
 *     struct vg_engine *e;
 *     vg_engine_new(&opts, &e);
 *     vg_engine_load(e, "/var/lib/vigil/db", 0);   // repeatable: files or folders
 *     vg_engine_compile(e);                        // afterwards e is immutable
 *     vg_scan_fd(e, fd, &scan_opts, on_match, ctx, &summary);   // any thread
 *     vg_engine_unref(e);
 *
 * A compiled engine is immutable and may be shared by any number of threads.
 * A reload builds a new engine and swaps the pointer; scans in flight keep the
 * reference they took with vg_engine_ref().
 *
 * Conventions: functions that can fail return enum vg_status (VG_OK is 0).
 * Output parameters come last and are written only on success. A detection is
 * data, never an error: a scan that finds something returns VG_OK. A malformed
 * scanned file is not an error either.
 */
#ifndef VIGIL_H
#define VIGIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define VG_API __attribute__((visibility("default")))
#define VG_NODISCARD __attribute__((warn_unused_result))
#else
#define VG_API
#define VG_NODISCARD
#endif

/* Version of this library, and the ClamAV functionality level it declares.
 * Database lines whose FLEVEL range excludes VG_FLEVEL are skipped exactly as
 * ClamAV 1.4.6 (FLEVEL 216) skips them. */
#define VG_VERSION_MAJOR 0
#define VG_VERSION_MINOR 1
#define VG_VERSION_PATCH 0
#define VG_VERSION_STRING "0.1.0"
#define VG_FLEVEL 216

enum vg_status {
	VG_OK = 0,
	VG_ENOMEM,   /* out of memory */
	VG_EINVAL,   /* invalid argument: a bug in the caller */
	VG_EIO,      /* read or open failed; errno is preserved */
	VG_EFORMAT,  /* malformed database; vg_engine_error() says where */
	VG_ENODB,    /* no usable database was found */
	VG_ELIMIT,   /* a limit stopped the work */
	VG_ESTATE,   /* call not allowed in this state (e.g. load after compile) */
	VG_EBADSIG,  /* a signature did not verify */
	VG_ETIMEOUT, /* a time limit expired */
	VG_EUNSUPPORTED /* a feature this build does not have */
};

/* A static, human-readable description of a status code. */
VG_API const char *vg_status_str(enum vg_status status);

/* Version string of the library actually linked. */
VG_API const char *vg_version(void);

/* ---------------------------------------------------------------------- */
/* Logging                                                                 */

enum vg_log_level {
	VG_LOG_ERROR = 0,
	VG_LOG_WARNING,
	VG_LOG_NOTICE, /* things the user should know: skipped files, deferred lines */
	VG_LOG_DEBUG
};

/* Called from the thread that does the work; msg is one line without '\n'. */
typedef void vg_log_fn(void *ctx, enum vg_log_level level, const char *msg);

/* ---------------------------------------------------------------------- */
/* Limits                                                                  */

/* Every size, count and depth the engine consults. Zero means "no limit"
 * only where stated; vg_engine_options_init() fills clamscan's defaults. */
struct vg_limits {
	uint64_t max_filesize;  /* larger files are not scanned (default 100 MiB) */
	uint64_t max_scansize;  /* bytes scanned per top-level file (400 MiB) */
	uint32_t max_recursion; /* container nesting (17) */
	uint32_t max_files;     /* files extracted per container (10000) */
	uint64_t max_scantime_ms; /* per top-level file; 0 = none (120000) */
};

/* ---------------------------------------------------------------------- */
/* Engine                                                                  */

struct vg_engine;

enum vg_engine_flags {
	VG_ENGINE_DETECT_PUA = 1u << 0, /* load .hdu/.hsu/.ndu... (PUA) databases */
	VG_ENGINE_OFFICIAL_ONLY = 1u << 1 /* skip files that are not signed containers */
};

struct vg_engine_options {
	uint32_t size;   /* sizeof(struct vg_engine_options); set by _init */
	uint32_t flevel; /* functionality level to declare; VG_FLEVEL by default */
	uint32_t flags;  /* enum vg_engine_flags */
	struct vg_limits limits; /* defaults for scans that pass no limits */
	vg_log_fn *log;  /* NULL: messages are dropped */
	void *log_ctx;
	/* Folder for compiled-database caches; NULL: no cache. With a cache,
	 * vg_engine_load() only records and checks its path: the text is parsed
	 * by vg_engine_compile(), and only when no valid cache exists for the
	 * same files (same names, sizes, times), engine version, FLEVEL and
	 * flags. The cache is a single file, mapped read-only and shared by
	 * every process that opens it; a damaged one (checksum) is rebuilt. The
	 * folder and file must belong to the effective user and not be writable
	 * by others, or the cache is not used (with a warning). */
	const char *cache_dir;
};

VG_API void vg_engine_options_init(struct vg_engine_options *opts);

/* A new, empty engine with one reference. */
VG_API VG_NODISCARD enum vg_status
vg_engine_new(const struct vg_engine_options *opts, struct vg_engine **out);

enum vg_load_flags {
	/* path is a folder: fail with VG_ENODB when it holds no database file */
	VG_LOAD_REQUIRE_DB = 1u << 0
};

/* Load a database file, or every database file in a folder (not recursive).
 * Repeatable until vg_engine_compile(). A malformed line aborts the load with
 * VG_EFORMAT; vg_engine_error() then names file:line:column and the fault.
 * Files of unknown or unsupported kind are skipped with one VG_LOG_NOTICE each;
 * lines kept for a later engine feature are counted and reported in one
 * notice per file. A failed load leaves the engine without any line of the
 * failing file. */
VG_API VG_NODISCARD enum vg_status
vg_engine_load(struct vg_engine *engine, const char *path, uint32_t flags);

/* Build the matching structures, or open them from the cache. After this
 * the engine is immutable. With a cache, database errors (file:line:column)
 * are reported here. */
VG_API VG_NODISCARD enum vg_status vg_engine_compile(struct vg_engine *engine);

/* How vg_engine_compile() got its tables. */
enum vg_cache_state {
	VG_CACHE_NONE = 0, /* no cache folder configured, or it was unusable */
	VG_CACHE_HIT,      /* opened from a valid cache file */
	VG_CACHE_BUILT     /* compiled from text and written to the cache */
};
VG_API enum vg_cache_state vg_engine_cache_state(const struct vg_engine *engine);

/* The last error of vg_engine_load()/vg_engine_compile() as one line,
 * e.g. "db/main.ndb:12:31: bad hex digit 'z'". Empty when there was none.
 * Valid until the next call on the engine. */
VG_API const char *vg_engine_error(const struct vg_engine *engine);

VG_API struct vg_engine *vg_engine_ref(struct vg_engine *engine);
/* Drops a reference; the last one frees the engine. NULL is fine. */
VG_API void vg_engine_unref(struct vg_engine *engine);

/* Number of signatures that will be used (clamscan's "Known viruses"). */
VG_API uint64_t vg_engine_signature_count(const struct vg_engine *engine);

/* One loaded database file. */
struct vg_db_info {
	const char *path;     /* as loaded */
	const char *name;     /* file name, e.g. "main.ndb" */
	uint32_t version;     /* container version; 0 for plain text files */
	int64_t build_time;   /* unix time: container build time, else file mtime */
	uint64_t signatures;  /* signatures taken from this file */
	uint64_t deferred;    /* valid lines this engine version cannot use yet */
	uint64_t skipped;     /* lines skipped by FLEVEL, PUA or ignore rules */
	int official;         /* 1 for a signed container, 0 otherwise */
};

VG_API size_t vg_engine_db_count(const struct vg_engine *engine);
/* Fills *out for database i (0-based). Strings live as long as the engine. */
VG_API VG_NODISCARD enum vg_status
vg_engine_db_info(const struct vg_engine *engine, size_t i, struct vg_db_info *out);

/* The compiled database image of a compiled engine, as a cache file holds
 * it: read-only, valid as long as the engine. With vg_engine_open_image_fd()
 * it hands one compiled engine to other processes (vigil's sandboxed scan
 * workers) without compiling again: write it to a sealed memfd once, map
 * it read-only in each process. VG_ESTATE before vg_engine_compile(). */
VG_API VG_NODISCARD enum vg_status
vg_engine_image(const struct vg_engine *engine, const void **data, size_t *len);

/* A new read-only descriptor (close-on-exec) of the compiled-cache file
 * the engine is mapped from, to hand to other processes without copying
 * the image; the caller closes it. VG_ESTATE when no cache file backs the
 * engine (no cache folder, or it could not be written): use
 * vg_engine_image(). */
VG_API VG_NODISCARD enum vg_status vg_engine_image_fd(const struct vg_engine *engine, int *out);

/* A compiled engine over an image read from fd (a descriptor holding what
 * vg_engine_image() gave, e.g. a sealed memfd, or a cache file), mapped
 * read-only and private; fd may be closed afterwards. The image's checksum
 * is verified only when verify is set (the mapping is read in full).
 * opts->cache_dir is ignored. VG_EFORMAT when fd holds no valid image of
 * this engine build. */
VG_API VG_NODISCARD enum vg_status
vg_engine_open_image_fd(const struct vg_engine_options *opts, int fd, int verify,
			struct vg_engine **out);

/* ---------------------------------------------------------------------- */
/* Scanning                                                                */

enum vg_sig_kind {
	VG_SIG_BODY = 1,   /* .ndb body pattern */
	VG_SIG_MD5,        /* whole-file hash signatures */
	VG_SIG_SHA1,
	VG_SIG_SHA256,
	VG_SIG_PE_SECTION, /* .mdb/.msb hash of one PE section's bytes */
	VG_SIG_PE_IMPORT,  /* .imp hash of a PE import table */
	VG_SIG_LOGICAL,    /* .ldb logical signature */
	VG_SIG_CONTAINER   /* .cdb container metadata signature */
};
/* The highest kind: front-ends that check values received from elsewhere
 * (a worker's reply) use it; it moves with every new kind. */
#define VG_SIG_KIND_MAX VG_SIG_CONTAINER

/* One detection. Valid only during the callback. */
struct vg_match {
	const char *name;       /* as clamscan prints it, ".UNOFFICIAL" included */
	enum vg_sig_kind kind;
	const char *database;   /* file name of the database the signature came from */
	uint64_t offset;        /* start of the match in the scanned layer */
	int offset_known;       /* 0 for hash signatures */
	/* Container path from the outermost to the innermost layer; depth 0 for
	 * the file itself. */
	const char *const *container_path;
	size_t container_depth;
};

/* Return 0 to go on, anything else to stop the scan (the summary then says
 * stopped = 1). */
typedef int vg_match_fn(void *ctx, const struct vg_match *match);

enum vg_scan_flags {
	VG_SCAN_ALLMATCH = 1u << 0,   /* report every match, not only the first */
	VG_SCAN_ALERT_EXCEEDS_MAX = 1u << 1, /* a limit hit is a detection */
	VG_SCAN_ALERT_ENCRYPTED = 1u << 2    /* an encrypted archive entry is a detection */
};

struct vg_scan_options {
	uint32_t size;   /* sizeof(struct vg_scan_options); set by _init */
	uint32_t flags;  /* enum vg_scan_flags */
	struct vg_limits limits;
};

/* Fills flags 0 and the engine's default limits. */
VG_API void vg_scan_options_init(const struct vg_engine *engine,
				 struct vg_scan_options *opts);

enum vg_verdict {
	VG_VERDICT_CLEAN = 0,
	VG_VERDICT_FOUND,
	VG_VERDICT_NOT_SCANNED /* e.g. larger than max_filesize */
};

enum vg_limit_hit {
	VG_LIMIT_NONE = 0,
	VG_LIMIT_FILESIZE,
	VG_LIMIT_SCANSIZE,
	VG_LIMIT_RECURSION,
	VG_LIMIT_FILES,
	VG_LIMIT_SCANTIME
};

struct vg_scan_summary {
	enum vg_verdict verdict;
	uint32_t matches;        /* matches reported through the callback */
	uint64_t bytes_scanned;  /* clamscan's "Data scanned" contribution */
	uint64_t bytes_read;     /* bytes read from the descriptor */
	enum vg_limit_hit limit; /* first limit that cut the scan short */
	int stopped;             /* the callback asked to stop */
};

/* Scan an open descriptor from its current position to its end. Regular
 * files are scanned up to the size they had when the scan began (a file
 * growing meanwhile cannot stall the scan); pipes are read to their end,
 * at most max_scansize bytes. on_match may be NULL. */
VG_API VG_NODISCARD enum vg_status
vg_scan_fd(const struct vg_engine *engine, int fd, const struct vg_scan_options *opts,
	   vg_match_fn *on_match, void *ctx, struct vg_scan_summary *out);

VG_API VG_NODISCARD enum vg_status
vg_scan_buffer(const struct vg_engine *engine, const void *data, size_t len,
	       const struct vg_scan_options *opts, vg_match_fn *on_match, void *ctx,
	       struct vg_scan_summary *out);

/* Incremental scanning for data that arrives in pieces (standard input, a
 * socket stream). The data is held in memory until vg_scan_stream_finish(),
 * at most opts->limits.max_scansize bytes; what exceeds it is counted but
 * not scanned and the summary reports VG_LIMIT_SCANSIZE. */
struct vg_scan_stream;

VG_API VG_NODISCARD enum vg_status
vg_scan_stream_new(const struct vg_engine *engine, const struct vg_scan_options *opts,
		   struct vg_scan_stream **out);
VG_API VG_NODISCARD enum vg_status
vg_scan_stream_write(struct vg_scan_stream *stream, const void *data, size_t len);
VG_API VG_NODISCARD enum vg_status
vg_scan_stream_finish(struct vg_scan_stream *stream, vg_match_fn *on_match, void *ctx,
		      struct vg_scan_summary *out);
VG_API void vg_scan_stream_free(struct vg_scan_stream *stream);

/* ---------------------------------------------------------------------- */
/* ClamAV's containers (.cvd .cld .cud) and updates (.cdiff)               */
/*
 * vg_engine_load() reads containers by itself; these functions are for
 * programs that check, list or install them: `vigil db` and the updater.
 *
 * What "verified" means, by kind (the file name's extension says which):
 *   .cvd  the header's MD5 of the payload and ClamAV's RSA signature of that
 *         MD5, the .info manifest's signature (DSIG), and every member's
 *         size and SHA-256 against the manifest.
 *   .cld  a container freshclam or vg_cdiff_apply() built locally from a .cvd
 *         and signed .cdiffs: the .info DSIG and every member.
 *   .cud  unsigned by design (a user's own container): the MD5 when present
 *         and every member against its .info prove integrity, not origin. It
 *         is refused unless VG_CVD_ALLOW_UNSIGNED is given.
 * A file that fails any check is refused with VG_EBADSIG (a signature, hash
 * or size does not match) or VG_EFORMAT (malformed), and err says which file
 * and what: "daily.cvd: MD5 mismatch: ...".
 *
 * Every err parameter is a caller buffer of VG_ERROR_LEN bytes, set to one
 * line (no '\n') on failure and to "" on success. */

#define VG_ERROR_LEN 640

enum vg_cvd_kind {
	VG_CVD_SIGNED = 0, /* .cvd */
	VG_CVD_LOCAL,      /* .cld */
	VG_CVD_UNSIGNED    /* .cud */
};

enum vg_cvd_flags {
	VG_CVD_ALLOW_UNSIGNED = 1u << 0 /* accept .cud containers */
};

/* The header of a container, as its builder wrote it. */
struct vg_cvd_info {
	enum vg_cvd_kind kind;
	char name[64];            /* database name: "daily" for daily.cvd, daily-27000.cvd */
	char build_time_text[64]; /* "22 Jun 2021 21-34 -0400" (sigtool prints '-' as ':') */
	uint32_t version;
	uint64_t signatures;      /* as declared in the header */
	uint32_t flevel;          /* lowest functionality level it is meant for */
	char md5[40];             /* hex MD5 of the payload, or "X" */
	char dsig[400];           /* the RSA signature of that MD5, or "X" */
	char builder[64];
	int64_t build_time;       /* unix seconds */
	int verified;             /* 1: the signatures of its kind verified; 0: .cud */
};

/* A verified container held in memory. */
struct vg_cvd;

/* Reads and verifies a container: header, signatures and the .info manifest
 * (its members are checked as vg_cvd_members() reads them; vg_cvd_verify_fd()
 * does both). name is the file name (or path); its extension says the kind. */
VG_API VG_NODISCARD enum vg_status
vg_cvd_open_buffer(const void *data, size_t len, const char *name, uint32_t flags,
		   struct vg_cvd **out, char *err);
/* The same from a descriptor, read from its current position to its end. */
VG_API VG_NODISCARD enum vg_status
vg_cvd_open_fd(int fd, const char *name, uint32_t flags, struct vg_cvd **out, char *err);
VG_API const struct vg_cvd_info *vg_cvd_get_info(const struct vg_cvd *cvd);

/* Called for each member in archive order (COPYING and the .info manifest
 * included), after its size and SHA-256 matched the manifest. Returning
 * anything but VG_OK stops the walk with that status. */
typedef enum vg_status vg_cvd_member_fn(void *ctx, const char *name, const void *data,
					size_t len);
/* Walks the members; at the end every file the manifest lists must have
 * been met (VG_EBADSIG otherwise). */
VG_API VG_NODISCARD enum vg_status
vg_cvd_members(struct vg_cvd *cvd, vg_cvd_member_fn *fn, void *ctx, char *err);
VG_API void vg_cvd_free(struct vg_cvd *cvd);

/* Everything at once: open, check every member, fill *out. For an updater
 * that fetched a .cvd from a mirror: verify the descriptor of the download
 * before renaming it into place. */
VG_API VG_NODISCARD enum vg_status
vg_cvd_verify_fd(int fd, const char *name, uint32_t flags, struct vg_cvd_info *out, char *err);
/* The same for bytes already in memory (a download buffer). */
VG_API VG_NODISCARD enum vg_status
vg_cvd_verify_buffer(const void *data, size_t len, const char *name, uint32_t flags,
		     struct vg_cvd_info *out, char *err);

/* Checks a .cdiff on its own: header, compressed script, ClamAV's signature.
 * *version (may be NULL) receives the version it produces. */
VG_API VG_NODISCARD enum vg_status
vg_cdiff_verify(const void *data, size_t len, const char *name, uint32_t *version, char *err);

/* Applies one incremental update to the database it names in folder dir,
 * atomically. cdiff_name ("daily-27001.cdiff") gives the database name; the
 * newest of dir/<name>.cld and dir/<name>.cvd is verified, the .cdiff's
 * signature is verified, its version must be the local version plus one,
 * the script is applied in memory, and the result must verify as a whole
 * (the update also rewrites the signed .info). Only then is dir/<name>.cld
 * replaced (temporary file, fsync, rename, fsync of the folder) and an older
 * dir/<name>.cvd removed. On any failure the folder is unchanged. *out (may
 * be NULL) describes the new .cld. VG_ENODB when there is no container to
 * update, VG_ESTATE when the versions do not follow each other. */
VG_API VG_NODISCARD enum vg_status
vg_cdiff_apply(const char *dir, const void *cdiff, size_t len, const char *cdiff_name,
	       struct vg_cvd_info *out, char *err);

/* ---- what a database file holds, file by file (vigil db info) ---- */

enum vg_db_file_state {
	VG_DBFILE_LOADED = 0,   /* read; its counts are below */
	VG_DBFILE_UNSUPPORTED,  /* a ClamAV format vigil does not read (yet, or .cbc by decision) */
	VG_DBFILE_PUA_SKIPPED,  /* a PUA set (.hdu .ndu ...), read with VG_ENGINE_DETECT_PUA */
	VG_DBFILE_NOT_OFFICIAL, /* skipped under VG_ENGINE_OFFICIAL_ONLY */
	VG_DBFILE_OTHER         /* not a signature file: COPYING, the .info manifest */
};

struct vg_db_file_stats {
	const char *container;  /* container file name, NULL for a loose file */
	const char *name;       /* file (or member) name */
	enum vg_db_file_state state;
	uint64_t lines;         /* lines that are neither empty nor '#' comments */
	uint64_t signatures;    /* signatures vigil uses */
	uint64_t deferred;      /* valid lines this version cannot use yet */
	uint64_t skipped;       /* lines skipped by FLEVEL, PUA or ignore rules */
};

typedef void vg_db_file_fn(void *ctx, const struct vg_db_file_stats *stats);

/* Loads path (a database file, a container or a folder) as vg_engine_load()
 * would, with engine_flags (enum vg_engine_flags), and reports every file
 * and container member through fn. Nothing is compiled. */
VG_API VG_NODISCARD enum vg_status
vg_db_inspect(const char *path, uint32_t engine_flags, vg_db_file_fn *fn, void *ctx, char *err);

/* ---------------------------------------------------------------------- */
/* Trust: signed, logged releases (docs/UPDATES.md)                        */
/*
 * Pure functions, no files, no network, no clock: callers pass "now" (unix
 * seconds) and the bytes they fetched. Every metadata file is a signed note
 * (C2SP signed-note): a text body, a blank line, and lines
 * "— <key name> <base64(key id || signature)>". Keys are written as
 * verifier strings "<name>+<8 hex key id>+<base64(type || public key)>"
 * (type 0x01 Ed25519, 0x04 Ed25519 witness cosignature) and signer strings
 * "PRIVATE+KEY+<name>+<key id>+<base64(type || seed)>".
 *
 * A client holds a trusted root (keys and thresholds of every role) and
 * checks, in order: root rotations (vg_root_next), the timestamp, the
 * manifest it points to, and the manifest's inclusion in the public log
 * (vg_tlog_proof_verify) with the checkpoint's consistency with the last one
 * it saw (vg_merkle_consistency_verify).
 */

/* Why a note was refused. Each has its own message in vg_trust_error. */
enum vg_trust_fault {
	VG_TRUST_OK = 0,
	VG_TRUST_MALFORMED,       /* not a well-formed note of the expected kind */
	VG_TRUST_UNKNOWN_KEY,     /* no signature by a key of the required role */
	VG_TRUST_THRESHOLD,       /* fewer valid signatures than the role's threshold */
	VG_TRUST_BAD_SIGNATURE,   /* a listed key's signature does not verify */
	VG_TRUST_EXPIRED,         /* expiry passed (freeze attack or stale mirror) */
	VG_TRUST_ROLLBACK,        /* older than what is already trusted */
	VG_TRUST_FORK,            /* same version as trusted, different content */
	VG_TRUST_HASH_MISMATCH,   /* bytes differ from the signed hash or size */
	VG_TRUST_NOT_LOGGED,      /* no valid inclusion proof in the log */
	VG_TRUST_WITNESS,         /* too few fresh witness cosignatures */
	VG_TRUST_LOG_INCONSISTENT,/* two signed checkpoints that are not one log */
	VG_TRUST_VERSION_SKIP,    /* a root that is not exactly the next version */
	VG_TRUST_ENGINE_TOO_OLD   /* the manifest needs a newer engine */
};

struct vg_trust_error {
	enum vg_trust_fault fault;
	char msg[512]; /* one line naming the file's role, the fault and the fix */
};

/* Short stable name of a fault ("expired", "rollback", ...). */
VG_API const char *vg_trust_fault_name(enum vg_trust_fault fault);
/* Frees strings returned by vg_key_generate() and vg_note_sign(). */
VG_API void vg_trust_free(void *p);

/* A new Ed25519 key pair (cosign != 0: a witness cosignature key). Returns
 * the signer and verifier strings, each NUL-terminated. */
VG_API VG_NODISCARD enum vg_status
vg_key_generate(const char *name, int cosign, char **signer_out, char **verifier_out);

/* Adds a signature by signer to a note. text is either an unsigned body
 * (ending in '\n') or a signed note; the result is the signed note with one
 * more signature line. A cosignature key signs "cosignature/v1", the time
 * now and the body (C2SP tlog-cosignature). */
VG_API VG_NODISCARD enum vg_status
vg_note_sign(const char *text, size_t len, const char *signer, int64_t now, char **out,
	     size_t *out_len, struct vg_trust_error *err);

/* VG_OK when the note carries a valid signature by this one verifier key
 * (a witness checking the log's signature on a checkpoint). */
VG_API VG_NODISCARD enum vg_status
vg_note_verify_key(const char *note, size_t len, const char *verifier, struct vg_trust_error *err);

/* Limits a client applies before reading metadata. */
#define VG_TRUST_MAX_NOTE (64u * 1024)       /* root, checkpoint, tlog-proof */
#define VG_TRUST_MAX_TIMESTAMP 4096u
#define VG_TRUST_MAX_MANIFEST (1024u * 1024)
#define VG_TRUST_MAX_ROOT_STEPS 64u          /* root rotations in one update */
#define VG_TRUST_WITNESS_MAX_AGE (7 * 86400) /* seconds a cosignature stays fresh */

/* The trusted root: keys and thresholds of the root, release and timestamp
 * roles, the log key, and the witnesses the log's checkpoints need. */
struct vg_root;

/* Opens the trust anchor a user installed: a root note signed by its own
 * root threshold (its expiry is checked later, by vg_root_check_fresh). */
VG_API VG_NODISCARD enum vg_status
vg_root_open(const char *note, size_t len, struct vg_root **out, struct vg_trust_error *err);
/* Accepts the next root only if its version is current + 1 and it is signed
 * by the threshold of the current root's root keys and of its own. */
VG_API VG_NODISCARD enum vg_status
vg_root_next(const struct vg_root *current, const char *note, size_t len, struct vg_root **out,
	     struct vg_trust_error *err);
VG_API VG_NODISCARD enum vg_status
vg_root_check_fresh(const struct vg_root *root, int64_t now, struct vg_trust_error *err);
VG_API uint64_t vg_root_version(const struct vg_root *root);
VG_API int64_t vg_root_expires(const struct vg_root *root);
/* The origin every note of this root names, e.g. "db.vigil.example". */
VG_API const char *vg_root_origin(const struct vg_root *root);
/* 1 when the release or timestamp keys differ between a and b: versions
 * signed by old keys are then forgotten (fast-forward recovery). */
VG_API int vg_root_roles_changed(const struct vg_root *a, const struct vg_root *b);
VG_API void vg_root_free(struct vg_root *root);

/* Timestamp note: the current manifest's version, hash and size. */
struct vg_timestamp {
	uint64_t version;
	uint64_t manifest_version;
	uint8_t manifest_sha256[32];
	uint64_t manifest_size;
	int64_t expires;
};
/* Checks kind, origin, the timestamp threshold and expiry at now. */
VG_API VG_NODISCARD enum vg_status
vg_timestamp_verify(const struct vg_root *root, const char *note, size_t len, int64_t now,
		    struct vg_timestamp *out, struct vg_trust_error *err);

#define VG_MANIFEST_MAX_NAME 255u
struct vg_manifest_file {
	char name[VG_MANIFEST_MAX_NAME + 1]; /* a plain file name: no '/', not "." or ".." */
	uint64_t size;
	uint8_t sha256[32];
};
struct vg_manifest {
	uint64_t version;
	int64_t issued;
	int64_t expires;
	uint32_t engine_min; /* lowest VG_FLEVEL that can use these files */
	size_t nfiles;
	struct vg_manifest_file *files;
};
/* Parses a manifest body without checking signatures (publisher side). */
VG_API VG_NODISCARD enum vg_status
vg_manifest_parse(const char *note, size_t len, struct vg_manifest **out,
		  struct vg_trust_error *err);
/* Parses and checks origin, the release threshold and expiry at now. */
VG_API VG_NODISCARD enum vg_status
vg_manifest_verify(const struct vg_root *root, const char *note, size_t len, int64_t now,
		   struct vg_manifest **out, struct vg_trust_error *err);
VG_API void vg_manifest_free(struct vg_manifest *m);

/* ---- the public log (RFC 6962 hashing, C2SP checkpoints and proofs) ---- */

#define VG_MERKLE_MAX_PROOF 64u

struct vg_checkpoint {
	char origin[129];
	uint64_t size;
	uint8_t root[32];
};
/* Parses a checkpoint body (origin, size, base64 root) without checking
 * signatures; note may be signed or not. */
VG_API VG_NODISCARD enum vg_status
vg_checkpoint_parse(const char *note, size_t len, struct vg_checkpoint *out,
		    struct vg_trust_error *err);
/* Checks the log's signature and at least the root's witness threshold of
 * cosignatures no older than VG_TRUST_WITNESS_MAX_AGE at now. */
VG_API VG_NODISCARD enum vg_status
vg_checkpoint_verify(const struct vg_root *root, const char *note, size_t len, int64_t now,
		     struct vg_checkpoint *out, struct vg_trust_error *err);
/* Verifies a C2SP tlog-proof for entry (the exact manifest bytes): its
 * checkpoint as vg_checkpoint_verify does, then the inclusion proof. On
 * success *cp_offset is where the checkpoint note starts in proof. */
VG_API VG_NODISCARD enum vg_status
vg_tlog_proof_verify(const struct vg_root *root, const char *proof, size_t len,
		     const void *entry, size_t entry_len, int64_t now, struct vg_checkpoint *out,
		     size_t *cp_offset, struct vg_trust_error *err);
/* Writes a tlog-proof (without the checkpoint, which the caller appends). */
VG_API VG_NODISCARD enum vg_status
vg_tlog_proof_format(uint64_t index, const uint8_t (*hashes)[32], size_t count, char **out,
		     size_t *out_len);

/* SHA-256(0x00 || entry) */
VG_API void vg_merkle_leaf_hash(const void *entry, size_t len, uint8_t out[32]);
/* Tree head of n leaf hashes (n = 0: SHA-256 of nothing). */
VG_API VG_NODISCARD enum vg_status
vg_merkle_root(const uint8_t (*leaves)[32], uint64_t n, uint8_t out[32]);
/* Proofs from leaf hashes; out holds VG_MERKLE_MAX_PROOF hashes. */
VG_API VG_NODISCARD enum vg_status
vg_merkle_inclusion_proof(const uint8_t (*leaves)[32], uint64_t n, uint64_t index,
			  uint8_t (*out)[32], size_t *count);
VG_API VG_NODISCARD enum vg_status
vg_merkle_consistency_proof(const uint8_t (*leaves)[32], uint64_t n, uint64_t m,
			    uint8_t (*out)[32], size_t *count);
/* VG_OK when the proof holds, VG_EBADSIG otherwise (RFC 9162 2.1.3.2, 2.1.4.2). */
VG_API VG_NODISCARD enum vg_status
vg_merkle_inclusion_verify(uint64_t index, uint64_t size, const uint8_t leaf[32],
			   const uint8_t (*proof)[32], size_t count, const uint8_t root[32]);
VG_API VG_NODISCARD enum vg_status
vg_merkle_consistency_verify(uint64_t m, uint64_t n, const uint8_t old_root[32],
			     const uint8_t new_root[32], const uint8_t (*proof)[32], size_t count);

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" to unix seconds and back. */
VG_API VG_NODISCARD enum vg_status vg_time_parse(const char *s, int64_t *out);
VG_API void vg_time_format(int64_t t, char out[21]);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_H */
