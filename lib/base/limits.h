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
#define VG_MAX_LDB_LINE_LEN 32768u    /* ClamAV's CLI_DEFAULT_LSIG_BUFSIZE for .ldb lines */
#define VG_MAX_LSIG_OCCURRENCES 4096u /* match starts kept per .ldb subsignature and layer */
#define VG_MAX_NAME_LEN 1024u         /* a signature name */
#define VG_MAX_DB_FILES 4096u         /* files loaded from one folder */

/* Signed containers (.cvd/.cld/.cud) and incremental updates (.cdiff) */
#define VG_CVD_HEADER_LEN 512u         /* fixed by the format */
#define VG_CVD_MAX_MEMBERS 1024u       /* files in one container (official ones hold < 40) */
#define VG_CVD_MAX_INFO (64u << 20)    /* bytes of a .info manifest */
#define VG_CDIFF_MAX_SCRIPT (512u << 20) /* bytes of an uncompressed .cdiff script */
#define VG_CDIFF_MAX_FILE (1024ull << 20) /* bytes of a .cdiff file */

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
#define VG_CLAMAV_BM_OFFMODE_SIZE 262144u /* from this layer size ClamAV checks PE Boyer-Moore signatures only at their first allowed offset */
#define VG_PE_MAX_SECTION_HASH 184549376u /* larger PE sections are not hashed (ClamAV's CLI_MAX_ALLOCATION) */
#define VG_PE_MAX_IMPORT_FUNCS 65536u    /* imported functions named for one .imp hash (ClamAV: no limit) */
/* Normalised views (lib/unpack/textnorm.c, htmlnorm.c): clamscan's defaults
 * for MaxScriptNormalize, MaxHTMLNormalize and MaxHTMLNoTags; a larger
 * layer is matched raw only, as clamscan does. */
#define VG_MAX_SCRIPT_NORMALIZE (20ull * 1024 * 1024)
#define VG_MAX_HTML_NORMALIZE (40ull * 1024 * 1024)
#define VG_MAX_HTML_NOTAGS (8ull * 1024 * 1024)

/* Mail and its encodings (lib/unpack/mime.c, uuencode.c, binhex.c, tnef.c) */
#define VG_MIME_MAX_DEPTH 32u           /* multipart nesting inside one message */
#define VG_MIME_MAX_HEADER_LEN 16384u   /* unfolded bytes kept of one header field */
#define VG_MIME_MAX_BOUNDARY_LEN 256u   /* a longer boundary is not one (RFC 2046: 70) */
#define VG_MIME_MAX_NAME_LEN 1024u      /* bytes kept of an attachment name */
#define VG_MIME_MAX_NAME_PIECES 64u     /* RFC 2231 continuations of one parameter */

/* Documents (lib/unpack/ole2.c, pdf.c, rtf.c, html.c) */
#define VG_OLE2_MAX_DIR_ENTRIES 100000u  /* directory entries read from one compound file */
#define VG_OLE2_MAX_DEPTH 64u            /* storages nested below the root that are walked */
#define VG_OLE2_MAX_VBA_MODULES 4096u    /* modules taken from one VBA dir stream */
#define VG_OLE2_MAX_VBA_DIR (4u << 20)   /* bytes of a VBA dir stream, compressed or not */
#define VG_OLE2_MAX_VBA_BYTES (256u << 20) /* stream bytes read for VBA source in one file */
#define VG_OLE2_MAX_NAME 1024u           /* bytes of a stream's path name */
#define VG_PDF_MAX_OBJECTS 100000u       /* objects indexed in one PDF (object streams too) */
#define VG_PDF_MAX_OBJSTM_BYTES (64u * 1024 * 1024) /* decoded object streams kept at once */
#define VG_PDF_MAX_FILTERS 8u            /* filters applied to one stream */
#define VG_PDF_MAX_NAME 1024u            /* bytes of an embedded file's name */
#define VG_PDF_MAX_PREDICTOR_ROW (1u << 20) /* bytes of one PNG/TIFF predictor row */
#define VG_PDF_MAX_REF_VALUE 4096u       /* bytes of a value reached through a reference */
#define VG_PDF_REF_BUDGET (64u << 20)    /* bytes of referenced values read in one PDF */
#define VG_PDF_MAX_OBJSTM_VALUE (64u << 10) /* bytes of one object inside an object stream */
#define VG_RTF_MAX_OBJECTS 10000u        /* \objdata groups decoded from one RTF */
#define VG_HTML_MIN_BASE64 128u          /* characters of a script string worth decoding */

/* Decoders of vigil's own for zip (implode, Deflate64), CHM, ARJ, SZDD */
#define VG_ARJ_MAX_SFX_SCAN (1u << 20)   /* bytes searched for the main header of a self-extractor */
#define VG_CHM_MAX_ENTRIES 100000u       /* directory entries read from one CHM */
#define VG_CHM_MAX_SKIP (256ull << 20)   /* LZX output decoded only to reach later files */

#endif
