#include "base/base.h"

VG_API const char *vg_status_str(enum vg_status status)
{
	switch (status) {
	case VG_OK: return "success";
	case VG_ENOMEM: return "out of memory";
	case VG_EINVAL: return "invalid argument";
	case VG_EIO: return "input/output error";
	case VG_EFORMAT: return "malformed database";
	case VG_ENODB: return "no supported database files found";
	case VG_ELIMIT: return "limit exceeded";
	case VG_ESTATE: return "operation not allowed in this state";
	case VG_EBADSIG: return "bad signature";
	case VG_ETIMEOUT: return "time limit exceeded";
	case VG_EUNSUPPORTED: return "not supported";
	}
	return "unknown status";
}

VG_API const char *vg_version(void)
{
	return VG_VERSION_STRING;
}
