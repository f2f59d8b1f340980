/* Fuzz target: scanning arbitrary bytes with a database exercising every
 * pattern element and both prefilter matchers, through the public API. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "vigil.h"

static struct vg_engine *engine;

static const char db_text[] =
	"F.Plain:0:*:4d5a900003\n"
	"F.Wild:0:*:4d5a??00{2}ff(01|02)*504500\n"
	"F.Nibble:0:*:7f454c46?1a?\n"
	"F.Range:0:*:41[1-4]424344\n"
	"F.Alt:0:*:6869(6a6b|6c6d)!(6e6f)7071\n"
	"F.Gen:0:*:7273(74|7576|77??78)7980\n"
	"F.Bound:0:*:(B)657669(L)\n"
	"F.Word:0:*:(W)6d616c(W)\n"
	"F.Gap:0:*:0102{3-8}0304{10-}0506\n"
	"F.Eof:0:EOF-4,2:deadbe\n"
	"F.Abs:0:0,16:cafeba\n"
	/* anchors of 9..32 bytes: the gram index, with its hold-back at chunk
	 * ends, periodic literals and literals sharing grams */
	"F.Gram:0:*:4142434445464748494a4b4c\n"
	"F.GramPeriodic:0:*:6161616161616161616161\n"
	"F.GramShared:0:*:6161616161616161616162\n"
	"F.GramLong:0:*:00112233445566778899aabbccddeeff0011223344556677\n"
	"F.GramTwo:0:*:5a5a5a5a5a5a5a5a5a{2-40}4d4d4d4d4d4d4d4d4d\n"
	"F.GramEof:0:EOF-20,8:3031323334353637383930\n";

static void setup(void)
{
	char path[] = "/tmp/vigil-fuzz-XXXXXX.ndb";
	int fd = mkstemps(path, 4);
	if (fd < 0)
		abort();
	if (write(fd, db_text, sizeof(db_text) - 1) != (ssize_t)(sizeof(db_text) - 1))
		abort();
	close(fd);
	if (vg_engine_new(NULL, &engine) != VG_OK || vg_engine_load(engine, path, 0) != VG_OK ||
	    vg_engine_compile(engine) != VG_OK)
		abort();
	unlink(path);
}

static int ignore(void *ctx, const struct vg_match *m)
{
	(void)ctx;
	(void)m;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_scan_options o;
	struct vg_scan_summary sum;

	if (!engine)
		setup();
	vg_scan_options_init(engine, &o);
	o.flags = VG_SCAN_ALLMATCH;
	if (vg_scan_buffer(engine, data, size, &o, ignore, NULL, &sum) != VG_OK)
		return 0;
	return 0;
}
