/* The trust anchor the trust fuzz targets verify against: a real root note
 * (made with `vigil db keygen/root/sign`; its secret keys were thrown away)
 * so the parsers run all the way to the signature checks, and the corpora's
 * notes made with the same keys verify completely. */
#ifndef VG_FUZZ_TRUST_ROOT_H
#define VG_FUZZ_TRUST_ROOT_H
#include <string.h>

#include "trust/trust.h"

/* the time the corpus notes were made (SOURCE_DATE_EPOCH) plus a minute */
#define FUZZ_TRUST_NOW 1700000060

static const char fuzz_trust_root_note[] =
	"vigil-root/v1\n"
	"origin fuzz.test\n"
	"version 1\n"
	"expires 2123-10-21T22:13:20Z\n"
	"threshold root 1\n"
	"threshold release 1\n"
	"threshold timestamp 1\n"
	"key root r1+7fe647db+Af5SN3aCTGXPzudpTxmYeOvmw3cDZFihSdSQLvIq/dxd\n"
	"key release rel+63569270+AUlaGJFaetApapl5rEU16lV9c2/a2igB+E3SD3hx1Rd1\n"
	"key timestamp ts+288c8333+ATyRv5OWgX+7ETZwRfYnUYkN5RDI2vZCeLHrKJUmpsed\n"
	"log log+bd2717f1+AVMqvaqyXKdF+UHnCqWqt7kwyHrpDG/2TsZ1ELcLj/br\n"
	"witness-threshold 1\n"
	"witness w1+320bd49b+BLIQCkNCJHgJEeQzr0XChXbfKvq36BDSHT+/SegmPC2U\n"
	"\n"
	"— r1 f+ZH25VbWaBoCfrE+DnHJ8B1+jfwRej9g7HlHzxS/yReS3ioftXFTsIK0w6+MKHuBywtZpSEQ5SBJLjrVRkic7jpZAs=\n"
	;

static struct vg_root *fuzz_trust_root(void)
{
	static struct vg_root *root;
	struct vg_trust_error err;
	if (root == NULL &&
	    vg_root_open(fuzz_trust_root_note, strlen(fuzz_trust_root_note), &root, &err) != VG_OK)
		__builtin_trap(); /* the anchor itself must verify */
	return root;
}

/* keeps results of [[nodiscard]] calls whose outcome does not matter here */
static volatile int fuzz_sink;

#endif
