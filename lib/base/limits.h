/* Every fixed limit of the engine in one place. Limits a user can change are
 * in struct vg_limits (vigil.h); these are the hard ones behind them. */
#ifndef VG_LIMITS_H
#define VG_LIMITS_H

/* clamscan's defaults for struct vg_limits */
#define VG_DEFAULT_MAX_FILESIZE (100ull * 1024 * 1024)
#define VG_DEFAULT_MAX_SCANSIZE (400ull * 1024 * 1024)
#define VG_DEFAULT_MAX_RECURSION 17u
#define VG_DEFAULT_MAX_FILES 10000u
#define VG_DEFAULT_MAX_SCANTIME_MS 120000ull

/* Database text */
#define VG_MAX_DB_FILE_SIZE (2048ull * 1024 * 1024) /* one text database file */
#define VG_MAX_LINE_LEN 8192u         /* ClamAV's FILEBUFF for hash and body lines */
#define VG_MAX_NAME_LEN 1024u         /* a signature name */
#define VG_MAX_DB_FILES 4096u         /* files loaded from one folder */

/* Body patterns */
#define VG_MAX_PATTERN_PARTS 64u       /* parts split by '*' or ranged gaps */
#define VG_MAX_ALT_NEST 15u            /* ClamAV's ACPATT_ALTN_MAXNEST */
#define VG_MAX_RANGE_ANCHOR 32u        /* [n-m] upper bound, ClamAV's AC_CH_MAXDIST */
#define VG_INLINE_GAP_MAX 127u         /* {n} below 128 is inlined as n x '??' */
#define VG_MAX_ANCHOR_LEN 32u          /* bytes of a part given to the prefilter */
#define VG_MAX_PART_OCCURRENCES 4096u  /* kept per part of a multi-part signature */
#define VG_MAX_PENDING_HITS (1u << 20) /* prefilter hits waiting for data */

/* Compiled-database cache */
#define VG_CACHE_MAX_IDLE_DAYS 14     /* cache files unused this long are removed */

/* Scanning */
#define VG_MAX_CONTAINER_DEPTH 100u  /* hard cap on --max-recursion, as ClamAV */
#define VG_MIN_MATCH_SIZE 6u          /* ClamAV ignores layers of 5 bytes or less */
#define VG_SCAN_CHUNK (256u * 1024)    /* bytes read per read(2) */
#define VG_CLAMAV_WINDOW (128u * 1024) /* ClamAV's SCANBUFF, for match ordering */

/* Mail and its encodings (lib/unpack/mime.c, uuencode.c, binhex.c, tnef.c) */
#define VG_MIME_MAX_DEPTH 32u           /* multipart nesting inside one message */
#define VG_MIME_MAX_HEADER_LEN 65536u   /* unfolded bytes kept of one header field */
#define VG_MIME_MAX_BOUNDARY_LEN 256u   /* a longer boundary is not one (RFC 2046: 70) */
#define VG_MIME_MAX_NAME_LEN 1024u      /* bytes kept of an attachment name */
#define VG_MIME_MAX_NAME_PIECES 64u     /* RFC 2231 continuations of one parameter */

#endif
