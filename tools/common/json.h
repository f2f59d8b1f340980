/*
 * json.h - the little JSON the tools write: strings, and a check for file
 * names that are not UTF-8 (JSON cannot carry arbitrary bytes, so such
 * strings are written with U+FFFD in place of each invalid byte and callers
 * add the exact bytes in hexadecimal next to them).
 */
#ifndef VT_JSON_H
#define VT_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal, quotes included. */
void vt_json_string(FILE *f, const char *s);

/* 1 when s is well-formed UTF-8 (no overlongs, no surrogates). */
int vt_utf8_valid(const char *s);

/* Writes the bytes of s as a JSON string of lowercase hex digits. */
void vt_json_hex(FILE *f, const char *s);

#endif /* VT_JSON_H */
