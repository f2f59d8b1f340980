/* Shared between the files of lib/trust. */
#ifndef VG_TRUST_INTERNAL_H
#define VG_TRUST_INTERNAL_H

#include "trust/trust.h"

/* Fills err (when not NULL) and returns VG_EFORMAT for malformed input,
 * VG_EBADSIG for every other refusal. */
vg_status trust_fail(struct vg_trust_error *err, enum vg_trust_fault fault, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void trust_ok(struct vg_trust_error *err);

/* The body rules of trust_note_parse for an unsigned body. */
bool trust_body_check(const char *text, size_t len, size_t max, const char **err);

#endif
