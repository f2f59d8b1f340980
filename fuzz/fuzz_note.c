/* Fuzz target: signed notes as a client meets them: the note splitter and
 * key parser, root notes (as anchor and as rotation), timestamps and
 * checkpoints, verified against a real root. */
#include "fuzz.h"
#include "fuzz_trust_root.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *why;
	struct trust_note n;
	struct trust_key k;
	struct vg_trust_error err;
	struct vg_root *r = NULL;
	struct vg_timestamp ts;
	struct vg_checkpoint cp;
	const struct vg_root *anchor = fuzz_trust_root();

	(void)trust_note_parse(text, size, TRUST_MAX_NOTE, &n, &why);
	(void)trust_key_parse(text, size, &k, &why);
	if (vg_root_open(text, size, &r, &err) == VG_OK)
		vg_root_free(r);
	r = NULL;
	if (vg_root_next(anchor, text, size, &r, &err) == VG_OK)
		vg_root_free(r);
	fuzz_sink = (int)vg_timestamp_verify(anchor, text, size, FUZZ_TRUST_NOW, &ts, &err);
	fuzz_sink = (int)vg_checkpoint_parse(text, size, &cp, &err);
	fuzz_sink = (int)vg_checkpoint_verify(anchor, text, size, FUZZ_TRUST_NOW, &cp, &err);
	return 0;
}
