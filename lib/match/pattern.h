/*
 * pattern: ClamAV body (hex) patterns, compiled into a flat verifier program.
 *
 * A pattern such as  "4d5a??00(41|42)*c3{4-8}ff[1-3]aabb"  is split into
 * parts at '*', at ranged gaps {n-m} {-n} {n-} and at {n} with n >= 128,
 * exactly as ClamAV splits it. Each part has:
 *   - a gap constraint relative to the end of the previous part,
 *   - an anchor: a run of fully static bytes inside the part, handed to the
 *     literal prefilter (Vectorscan) by the caller,
 *   - a verifier that, given where the anchor was found, checks the whole part
 *     against the data around it and reports every (start, end) the part can
 *     occupy.
 *
 * Combining parts (gap checks) and checking the signature offset are the
 * caller's job; this module only knows one part at a time.
 *
 * The compiled form is one allocation with no internal pointers, so it can be
 * written to and read from a cache file as bytes (pattern_bytes /
 * pattern_from_bytes).
 */
#ifndef VG_MATCH_PATTERN_H
#define VG_MATCH_PATTERN_H

#include "base/base.h"

struct pattern;

struct pattern_error {
	uint32_t column;  /* 0-based index into the hex text where the fault is */
	char msg[200];    /* what is wrong, e.g. "bad hex digit 'z'" */
};

/* Gap meaning "any number of bytes" ('*', {n-}). */
#define PATTERN_GAP_INF UINT64_MAX

/* Compile the hex text hex[0..len). On VG_EFORMAT, *err says where and why.
 * Enforces ClamAV's rules: even hex length, valid tokens, no leading or
 * trailing '*', no '*' or ranged gap inside '( )', a static run of at least
 * two bytes (not both 0x00) in every part, [n-m] with m <= 32 next to a
 * single byte, alternative nesting <= 15, generic alternatives not negated. */
vg_status pattern_compile(const char *hex, size_t len, struct pattern **out,
			  struct pattern_error *err);
void pattern_free(struct pattern *p);

uint32_t pattern_nparts(const struct pattern *p);

/* True if the pattern is one part of plain static bytes (no wildcard,
 * nibble, alternative, range or boundary): ClamAV routes those to its
 * Boyer-Moore matcher, which requires at least 3 bytes. */
bool pattern_is_plain(const struct pattern *p);

/* The length ClamAV gives this pattern when it sizes the overlap of its scan
 * buffers (its maxpatlen): the longest part, alternatives at their longest,
 * (B)/(L)/(W) counted as 0 bytes. Used only to report matches in ClamAV's
 * order. */
uint32_t pattern_clam_len(const struct pattern *p);

/* Smallest number of bytes a whole match can span (all parts, minimal gaps). */
uint64_t pattern_min_len(const struct pattern *p);

/* False if ClamAV's shift-or prefilter (libclamav/filtering.c) cannot model
 * some part of this pattern. ClamAV 1.4.6 then refuses the signature, but
 * only in the roots that have that prefilter: targets 0, 1, 4 and 7 (also
 * for .ldb subsignatures whose logical signature has those targets). The
 * parts it fails on start with too few positions before a generic or
 * multi-byte alternative or a middle (B)/(L)/(W), e.g. "41(4242|41414242)4343"
 * ("Don't know how to create filter"), or consist of "??" pairs up to there.
 * sigdb rejects such lines for those targets to load what clamscan loads. */
bool pattern_filter_ok(const struct pattern *p);

struct pattern_part_info {
	uint64_t gap_min;    /* bytes between end of previous part and start of this one */
	uint64_t gap_max;    /* PATTERN_GAP_INF when unbounded; part 0: 0 and 0 */
	/* ClamAV loads {5-2} and never matches it: gap_min > gap_max then. */
	const uint8_t *anchor; /* static bytes to search for; inside the pattern */
	uint32_t anchor_len;   /* 2 .. VG_MAX_ANCHOR_LEN */
	/* Most bytes the verifier may read before the anchor's first byte and
	 * after its last byte, including one byte of context for boundary
	 * classes ((B), (L), (W)) at the part's ends. */
	/* (Exact context reach: (B)/(W) 1 byte, a trailing (L) 2 bytes for
	 * "\r\n", hh[n-m] / [n-m]hh m + 1 bytes.) */
	uint32_t pre_max;
	uint32_t post_max;
	/* The part ends in (B), (L) or (W) (or a negation), checked against
	 * the next byte or the end of the file. ClamAV also takes the end of
	 * each of its scan buffers (128 KiB windows) for the end of the file
	 * there; a driver that wants that quirk verifies such parts a second
	 * time with the window's size set to the buffer end. */
	bool end_context;
};

void pattern_part_info(const struct pattern *p, uint32_t k, struct pattern_part_info *out);

/* The bytes a verifier may look at: data[0..len) is the layer's bytes at
 * absolute offsets [base, base + len). size is the layer's total size, so
 * the verifier knows where the file ends (boundaries match there). The
 * caller guarantees the window covers
 *   [anchor_pos - pre_max, anchor_pos + anchor_len + post_max)
 * intersected with [0, size). */
struct pattern_window {
	const uint8_t *data;
	size_t len;
	uint64_t base;
	uint64_t size;
};

/* Called for each distinct (start, end) the part can occupy, end exclusive.
 * Return nonzero to stop. */
typedef int pattern_occ_fn(void *ctx, uint64_t start, uint64_t end);

/* Verify part k, whose anchor bytes were found starting at absolute offset
 * anchor_pos. Returns the number of occurrences reported (0: no match). */
uint32_t pattern_part_verify(const struct pattern *p, uint32_t k,
			     const struct pattern_window *w, uint64_t anchor_pos,
			     pattern_occ_fn *cb, void *ctx);

/* ClamAV checks a fixed signature offset (absolute, EOF-n, EP+n, ...) before
 * it verifies part 0, predicting the start from where its own Aho-Corasick
 * anchor matched; it counts a (B), (L) or (W) in the middle of the pattern,
 * before that anchor, as zero bytes wide, so it skips matches whose start is
 * in fact right (clamscan: "6162(B)636465" at offset 4 misses "XXXXab cde";
 * "4,1" finds it). Returns false when clamscan would skip the part-0
 * occurrence starting at start, for an offset that allows starts in
 * [omin, omax]; true whenever ClamAV would go on to compare the real start.
 * w is only read for parts with alternatives or (L) before ClamAV's anchor;
 * it must then cover part 0's occurrence. The scan driver applies this only
 * where ClamAV does: offset-restricted signatures, first part. */
bool pattern_clam_offset_visible(const struct pattern *p, const struct pattern_window *w,
				 uint64_t start, uint64_t omin, uint64_t omax);

/* Version of the serialised form below; it changes whenever the layout
 * does. Stored patterns of another version are refused (pattern_view returns
 * NULL), so whatever keeps them (the compiled-database cache) should make it
 * part of its key or format number. */
#define PATTERN_FORMAT 2u

/* Serialized form: pattern_bytes returns a pointer into p (valid while p
 * lives); pattern_from_bytes validates and copies. */
const uint8_t *pattern_bytes(const struct pattern *p, size_t *len);
vg_status pattern_from_bytes(const uint8_t *bytes, size_t len, struct pattern **out);

/* Uses serialised bytes in place (e.g. inside a mapped, CRC-checked cache
 * image) after the cheap checks only: alignment, magic and size. NULL if
 * they fail. The bytes must stay valid while the view is used. */
const struct pattern *pattern_view(const uint8_t *bytes, size_t len);

#endif
