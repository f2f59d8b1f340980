/*
 * values.h - parsing of option and configuration values the way clamscan and
 * clamd.conf spell them: sizes with K/M/G suffixes, counts, yes/no.
 */
#ifndef VT_VALUES_H
#define VT_VALUES_H

#include <stdint.h>

/* "123", "10K", "25M", "2G" (suffixes in either case, powers of 1024).
 * No sign, no spaces, no fraction. Returns 0 on success, -1 otherwise. */
int vt_parse_size(const char *text, uint64_t *out);

/* A decimal count in [0, max]. Returns 0 on success, -1 otherwise. */
int vt_parse_count(const char *text, uint64_t max, uint64_t *out);

/* yes/no, true/false, on/off, 1/0 in any case. Returns 0 or -1. */
int vt_parse_bool(const char *text, int *out);

#endif /* VT_VALUES_H */
