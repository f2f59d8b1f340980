/* Fuzz target: the .ldb loader on arbitrary text; what loads is compiled and
 * evaluated against a fixed sample (an "MZ" layer with numbers, words and
 * wide text), so hostile expressions, PCREs and byte compares are run too. */
#include <string.h>

#include "fuzz.h"
#include "scan/scan_db.h"

static const uint8_t sample[] =
	"MZ\x90\x00\x03\x00\x00\x00hello world HELLO 0x1f 123 \x00w\x00i\x00d\x00e\x00 "
	"abc abc abc ABCabc (x) [y] {z} \xff\xfe\x01\x02\x03\x04 end";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigset s;
	struct db_record *rec;
	struct db_text t;
	uint8_t key[IMAGE_KEY_LEN] = {0}, *image = NULL;
	size_t ilen = 0;
	char err[256];
	struct scan_db *db = NULL;
	struct scan_ctx *ctx = NULL;
	struct scan_input in;
	struct vg_scan_options o;
	struct vg_scan_summary sum;

	sigset_init(&s, VG_FLEVEL, true, NULL);
	rec = vec_push(&s.dbs);
	if (!rec)
		goto out;
	rec->path = vg_strndup("fuzz.ldb", 8);
	rec->name = vg_strndup("fuzz.ldb", 8);
	if (!rec->path || !rec->name)
		goto out;
	t.path = "fuzz.ldb";
	t.text = (const char *)data;
	t.len = size;
	t.db = 0;
	t.official = false;
	if (sigdb_load_ldb(&s, &t) != VG_OK || s.ldbs.n == 0)
		goto out;
	if (scan_db_compile(&s, key, NULL, 0, 1, &image, &ilen, err, sizeof(err)) != VG_OK)
		goto out;
	if (scan_db_open(image, ilen, true, NULL, 0, false, &db) != VG_OK)
		goto out;
	if (scan_ctx_new(db, &ctx) != VG_OK)
		goto out;
	memset(&in, 0, sizeof(in));
	in.fd = -1;
	in.mem = sample;
	in.mem_len = sizeof(sample) - 1;
	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = VG_SCAN_ALLMATCH;
	o.limits.max_filesize = 1u << 20;
	o.limits.max_scansize = 1u << 20;
	o.limits.max_recursion = 2;
	o.limits.max_files = 10;
	(void)scan_run(ctx, &in, &o, NULL, NULL, &sum);
out:
	scan_ctx_free(ctx);
	scan_db_free(db);
	sigset_free(&s);
	return 0;
}
