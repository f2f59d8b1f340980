/* The import table of a PE32 file, turned into the text ClamAV hashes for
 * .imp signatures (libclamav/pe.c hash_imptbl), with its rules and quirks:
 * see exe.h. Every read goes through the bounds-checked callback. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exe/exe.h"

#define IMP_MAX_DESCRIPTORS 1024u /* ClamAV's PE_MAXIMPORTS */
#define IMP_MAX_NAME 256u         /* ClamAV's PE_MAXNAMESIZE */
#define IMP_DESCRIPTOR 20u

/* Winsock's exports by ordinal (ws2_32.dll, wsock32.dll), the names ClamAV
 * gives ordinal imports of those libraries. */
static const char *const ws2_names[] = {
	NULL, "accept", "bind", "closesocket", "connect", "getpeername", "getsockname",
	"getsockopt", "htonl", "htons", "ioctlsocket", "inet_addr", "inet_ntoa", "listen",
	"ntohl", "ntohs", "recv", "recvfrom", "select", "send", "sendto", "setsockopt",
	"shutdown", "socket", "GetAddrInfoW", "GetNameInfoW", "WSApSetPostRoutine",
	"FreeAddrInfoW", "WPUCompleteOverlappedRequest", "WSAAccept", "WSAAddressToStringA",
	"WSAAddressToStringW", "WSACloseEvent", "WSAConnect", "WSACreateEvent",
	"WSADuplicateSocketA", "WSADuplicateSocketW", "WSAEnumNameSpaceProvidersA",
	"WSAEnumNameSpaceProvidersW", "WSAEnumNetworkEvents", "WSAEnumProtocolsA",
	"WSAEnumProtocolsW", "WSAEventSelect", "WSAGetOverlappedResult", "WSAGetQOSByName",
	"WSAGetServiceClassInfoA", "WSAGetServiceClassInfoW", "WSAGetServiceClassNameByClassIdA",
	"WSAGetServiceClassNameByClassIdW", "WSAHtonl", "WSAHtons", "gethostbyaddr",
	"gethostbyname", "getprotobyname", "getprotobynumber", "getservbyname", "getservbyport",
	"gethostname", "WSAInstallServiceClassA", "WSAInstallServiceClassW", "WSAIoctl",
	"WSAJoinLeaf", "WSALookupServiceBeginA", "WSALookupServiceBeginW", "WSALookupServiceEnd",
	"WSALookupServiceNextA", "WSALookupServiceNextW", "WSANSPIoctl", "WSANtohl", "WSANtohs",
	"WSAProviderConfigChange", "WSARecv", "WSARecvDisconnect", "WSARecvFrom",
	"WSARemoveServiceClass", "WSAResetEvent", "WSASend", "WSASendDisconnect", "WSASendTo",
	"WSASetEvent", "WSASetServiceA", "WSASetServiceW", "WSASocketA", "WSASocketW",
	"WSAStringToAddressA", "WSAStringToAddressW", "WSAWaitForMultipleEvents",
	"WSCDeinstallProvider", "WSCEnableNSProvider", "WSCEnumProtocols", "WSCGetProviderPath",
	"WSCInstallNameSpace", "WSCInstallProvider", "WSCUnInstallNameSpace", "WSCUpdateProvider",
	"WSCWriteNameSpaceOrder", "WSCWriteProviderOrder", "freeaddrinfo", "getaddrinfo",
	"getnameinfo", NULL, "WSAAsyncSelect", "WSAAsyncGetHostByAddr", "WSAAsyncGetHostByName",
	"WSAAsyncGetProtoByNumber", "WSAAsyncGetProtoByName", "WSAAsyncGetServByPort",
	"WSAAsyncGetServByName", "WSACancelAsyncRequest", "WSASetBlockingHook",
	"WSAUnhookBlockingHook", "WSAGetLastError", "WSASetLastError", "WSACancelBlockingCall",
	"WSAIsBlocking", "WSAStartup", "WSACleanup",
};

/* OLE Automation's exports by ordinal (oleaut32.dll), index = ordinal. */
static const char *const oleaut32_names[] = {
	NULL, NULL, "SysAllocString", "SysReAllocString", "SysAllocStringLen", "SysReAllocStringLen",
	"SysFreeString", "SysStringLen", "VariantInit", "VariantClear", "VariantCopy",
	"VariantCopyInd", "VariantChangeType", "VariantTimeToDosDateTime", "DosDateTimeToVariantTime",
	"SafeArrayCreate", "SafeArrayDestroy", "SafeArrayGetDim", "SafeArrayGetElemsize",
	"SafeArrayGetUBound", "SafeArrayGetLBound", "SafeArrayLock", "SafeArrayUnlock",
	"SafeArrayAccessData", "SafeArrayUnaccessData", "SafeArrayGetElement", "SafeArrayPutElement",
	"SafeArrayCopy", "DispGetParam", "DispGetIDsOfNames", "DispInvoke", "CreateDispTypeInfo",
	"CreateStdDispatch", "RegisterActiveObject", "RevokeActiveObject", "GetActiveObject",
	"SafeArrayAllocDescriptor", "SafeArrayAllocData", "SafeArrayDestroyDescriptor",
	"SafeArrayDestroyData", "SafeArrayRedim", "SafeArrayAllocDescriptorEx", "SafeArrayCreateEx",
	"SafeArrayCreateVectorEx", "SafeArraySetRecordInfo", "SafeArrayGetRecordInfo",
	"VarParseNumFromStr", "VarNumFromParseNum", "VarI2FromUI1", "VarI2FromI4", "VarI2FromR4",
	"VarI2FromR8", "VarI2FromCy", "VarI2FromDate", "VarI2FromStr", "VarI2FromDisp",
	"VarI2FromBool", "SafeArraySetIID", "VarI4FromUI1", "VarI4FromI2", "VarI4FromR4",
	"VarI4FromR8", "VarI4FromCy", "VarI4FromDate", "VarI4FromStr", "VarI4FromDisp",
	"VarI4FromBool", "SafeArrayGetIID", "VarR4FromUI1", "VarR4FromI2", "VarR4FromI4",
	"VarR4FromR8", "VarR4FromCy", "VarR4FromDate", "VarR4FromStr", "VarR4FromDisp",
	"VarR4FromBool", "SafeArrayGetVartype", "VarR8FromUI1", "VarR8FromI2", "VarR8FromI4",
	"VarR8FromR4", "VarR8FromCy", "VarR8FromDate", "VarR8FromStr", "VarR8FromDisp",
	"VarR8FromBool", "VarFormat", "VarDateFromUI1", "VarDateFromI2", "VarDateFromI4",
	"VarDateFromR4", "VarDateFromR8", "VarDateFromCy", "VarDateFromStr", "VarDateFromDisp",
	"VarDateFromBool", "VarFormatDateTime", "VarCyFromUI1", "VarCyFromI2", "VarCyFromI4",
	"VarCyFromR4", "VarCyFromR8", "VarCyFromDate", "VarCyFromStr", "VarCyFromDisp",
	"VarCyFromBool", "VarFormatNumber", "VarBstrFromUI1", "VarBstrFromI2", "VarBstrFromI4",
	"VarBstrFromR4", "VarBstrFromR8", "VarBstrFromCy", "VarBstrFromDate", "VarBstrFromDisp",
	"VarBstrFromBool", "VarFormatPercent", "VarBoolFromUI1", "VarBoolFromI2", "VarBoolFromI4",
	"VarBoolFromR4", "VarBoolFromR8", "VarBoolFromDate", "VarBoolFromCy", "VarBoolFromStr",
	"VarBoolFromDisp", "VarFormatCurrency", "VarWeekdayName", "VarMonthName", "VarUI1FromI2",
	"VarUI1FromI4", "VarUI1FromR4", "VarUI1FromR8", "VarUI1FromCy", "VarUI1FromDate",
	"VarUI1FromStr", "VarUI1FromDisp", "VarUI1FromBool", "VarFormatFromTokens",
	"VarTokenizeFormatString", "VarAdd", "VarAnd", "VarDiv", "DllCanUnloadNow",
	"DllGetClassObject", "DispCallFunc", "VariantChangeTypeEx", "SafeArrayPtrOfIndex",
	"SysStringByteLen", "SysAllocStringByteLen", "DllRegisterServer", "VarEqv", "VarIdiv",
	"VarImp", "VarMod", "VarMul", "VarOr", "VarPow", "VarSub", "CreateTypeLib", "LoadTypeLib",
	"LoadRegTypeLib", "RegisterTypeLib", "QueryPathOfRegTypeLib", "LHashValOfNameSys",
	"LHashValOfNameSysA", "VarXor", "VarAbs", "VarFix", "OaBuildVersion", "ClearCustData",
	"VarInt", "VarNeg", "VarNot", "VarRound", "VarCmp", "VarDecAdd", "VarDecDiv", "VarDecMul",
	"CreateTypeLib2", "VarDecSub", "VarDecAbs", "LoadTypeLibEx", "SystemTimeToVariantTime",
	"VariantTimeToSystemTime", "UnRegisterTypeLib", "VarDecFix", "VarDecInt", "VarDecNeg",
	"VarDecFromUI1", "VarDecFromI2", "VarDecFromI4", "VarDecFromR4", "VarDecFromR8",
	"VarDecFromDate", "VarDecFromCy", "VarDecFromStr", "VarDecFromDisp", "VarDecFromBool",
	"GetErrorInfo", "SetErrorInfo", "CreateErrorInfo", "VarDecRound", "VarDecCmp", "VarI2FromI1",
	"VarI2FromUI2", "VarI2FromUI4", "VarI2FromDec", "VarI4FromI1", "VarI4FromUI2", "VarI4FromUI4",
	"VarI4FromDec", "VarR4FromI1", "VarR4FromUI2", "VarR4FromUI4", "VarR4FromDec", "VarR8FromI1",
	"VarR8FromUI2", "VarR8FromUI4", "VarR8FromDec", "VarDateFromI1", "VarDateFromUI2",
	"VarDateFromUI4", "VarDateFromDec", "VarCyFromI1", "VarCyFromUI2", "VarCyFromUI4",
	"VarCyFromDec", "VarBstrFromI1", "VarBstrFromUI2", "VarBstrFromUI4", "VarBstrFromDec",
	"VarBoolFromI1", "VarBoolFromUI2", "VarBoolFromUI4", "VarBoolFromDec", "VarUI1FromI1",
	"VarUI1FromUI2", "VarUI1FromUI4", "VarUI1FromDec", "VarDecFromI1", "VarDecFromUI2",
	"VarDecFromUI4", "VarI1FromUI1", "VarI1FromI2", "VarI1FromI4", "VarI1FromR4", "VarI1FromR8",
	"VarI1FromDate", "VarI1FromCy", "VarI1FromStr", "VarI1FromDisp", "VarI1FromBool",
	"VarI1FromUI2", "VarI1FromUI4", "VarI1FromDec", "VarUI2FromUI1", "VarUI2FromI2",
	"VarUI2FromI4", "VarUI2FromR4", "VarUI2FromR8", "VarUI2FromDate", "VarUI2FromCy",
	"VarUI2FromStr", "VarUI2FromDisp", "VarUI2FromBool", "VarUI2FromI1", "VarUI2FromUI4",
	"VarUI2FromDec", "VarUI4FromUI1", "VarUI4FromI2", "VarUI4FromI4", "VarUI4FromR4",
	"VarUI4FromR8", "VarUI4FromDate", "VarUI4FromCy", "VarUI4FromStr", "VarUI4FromDisp",
	"VarUI4FromBool", "VarUI4FromI1", "VarUI4FromUI2", "VarUI4FromDec", "BSTR_UserSize",
	"BSTR_UserMarshal", "BSTR_UserUnmarshal", "BSTR_UserFree", "VARIANT_UserSize",
	"VARIANT_UserMarshal", "VARIANT_UserUnmarshal", "VARIANT_UserFree", "LPSAFEARRAY_UserSize",
	"LPSAFEARRAY_UserMarshal", "LPSAFEARRAY_UserUnmarshal", "LPSAFEARRAY_UserFree",
	"LPSAFEARRAY_Size", "LPSAFEARRAY_Marshal", "LPSAFEARRAY_Unmarshal", "VarDecCmpR8", "VarCyAdd",
	"DllUnregisterServer", "OACreateTypeLib2", NULL, "VarCyMul", "VarCyMulI4", "VarCySub",
	"VarCyAbs", "VarCyFix", "VarCyInt", "VarCyNeg", "VarCyRound", "VarCyCmp", "VarCyCmpR8",
	"VarBstrCat", "VarBstrCmp", "VarR8Pow", "VarR4CmpR8", "VarR8Round", "VarCat",
	"VarDateFromUdateEx", NULL, NULL, "GetRecordInfoFromGuids", "GetRecordInfoFromTypeInfo", NULL,
	"SetVarConversionLocaleSetting", "GetVarConversionLocaleSetting", "SetOaNoCache", NULL,
	"VarCyMulI8", "VarDateFromUdate", "VarUdateFromDate", "GetAltMonthNames", "VarI8FromUI1",
	"VarI8FromI2", "VarI8FromR4", "VarI8FromR8", "VarI8FromCy", "VarI8FromDate", "VarI8FromStr",
	"VarI8FromDisp", "VarI8FromBool", "VarI8FromI1", "VarI8FromUI2", "VarI8FromUI4",
	"VarI8FromDec", "VarI2FromI8", "VarI2FromUI8", "VarI4FromI8", "VarI4FromUI8", NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "VarR4FromI8", "VarR4FromUI8", "VarR8FromI8",
	"VarR8FromUI8", "VarDateFromI8", "VarDateFromUI8", "VarCyFromI8", "VarCyFromUI8",
	"VarBstrFromI8", "VarBstrFromUI8", "VarBoolFromI8", "VarBoolFromUI8", "VarUI1FromI8",
	"VarUI1FromUI8", "VarDecFromI8", "VarDecFromUI8", "VarI1FromI8", "VarI1FromUI8",
	"VarUI2FromI8", "VarUI2FromUI8", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "OleLoadPictureEx",
	"OleLoadPictureFileEx", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	"SafeArrayCreateVector", "SafeArrayCopyData", "VectorFromBstr", "BstrFromVector",
	"OleIconToCursor", "OleCreatePropertyFrameIndirect", "OleCreatePropertyFrame",
	"OleLoadPicture", "OleCreatePictureIndirect", "OleCreateFontIndirect", "OleTranslateColor",
	"OleLoadPictureFile", "OleSavePictureFile", "OleLoadPicturePath", "VarUI4FromI8",
	"VarUI4FromUI8", "VarI8FromUI8", "VarUI8FromI8", "VarUI8FromUI1", "VarUI8FromI2",
	"VarUI8FromR4", "VarUI8FromR8", "VarUI8FromCy", "VarUI8FromDate", "VarUI8FromStr",
	"VarUI8FromDisp", "VarUI8FromBool", "VarUI8FromI1", "VarUI8FromUI2", "VarUI8FromUI4",
	"VarUI8FromDec", "RegisterTypeLibForUser", "UnRegisterTypeLibForUser",
};

struct imp {
	exe_read_fn *read;
	void *rctx;
	uint64_t fsize;
	const struct exe_info *info;
	exe_imp_fn *fn;
	void *fctx;
	uint32_t len;
	uint32_t funcs;
	bool first;
};

static bool fetch(const struct imp *m, uint64_t off, void *dst, size_t len)
{
	if (off > m->fsize || len > m->fsize - off)
		return false;
	return m->read(m->rctx, off, dst, len);
}

/* A NUL-terminated copy of at most n bytes at off (ClamAV's strndup). */
static bool read_name(const struct imp *m, uint64_t off, size_t n, char out[IMP_MAX_NAME + 1])
{
	if (!fetch(m, off, out, n))
		return false;
	out[n] = '\0';
	return true;
}

static bool valid_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      *s == '_' || *s == '.'))
			return false;
	return true;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static vg_status emit(struct imp *m, const char *dll, size_t dlllen, const char *func)
{
	char buf[2 * IMP_MAX_NAME + 3];
	size_t j = 0, flen = strlen(func);
	vg_status rc;

	if (!m->first)
		buf[j++] = ',';
	for (size_t i = 0; i < dlllen; i++)
		buf[j++] = lower(dll[i]);
	buf[j++] = '.';
	for (size_t i = 0; i < flen; i++)
		buf[j++] = lower(func[i]);
	rc = m->fn(m->fctx, buf, j);
	m->len += (uint32_t)j;
	m->first = false;
	return rc;
}

/* dll name length without a .dll/.ocx/.sys extension (ClamAV looks at the
 * first '.' only, and at 4 characters of what follows). */
static size_t dll_stem(const char *dll)
{
	const char *dot = strchr(dll, '.');

	if (dot && (strncasecmp(dot, ".ocx", 4) == 0 || strncasecmp(dot, ".sys", 4) == 0 ||
		    strncasecmp(dot, ".dll", 4) == 0))
		return (size_t)(dot - dll);
	return strlen(dll);
}

static vg_status one_dll(struct imp *m, uint32_t oft, uint32_t ft, const char *dll,
			 enum exe_imp_result *res)
{
	uint32_t thuoff = 0, v, off;
	size_t dlllen = dll_stem(dll);
	uint8_t b4[4];
	vg_status rc;

	if (!oft || !exe_pe_rva_to_off(m->info, m->fsize, oft, &thuoff) || thuoff == 0) {
		if (!exe_pe_rva_to_off(m->info, m->fsize, ft, &thuoff)) {
			*res = EXE_IMP_BAD;
			return VG_OK;
		}
	}
	/* ClamAV does not count functions: the thunk array ends at a zero entry
	 * or at the end of the file; vigil stops at VG_PE_MAX_IMPORT_FUNCS */
	for (;; thuoff += 4) {
		char name[IMP_MAX_NAME + 1];
		bool have = false;

		if (!fetch(m, thuoff, b4, 4))
			break;
		v = (uint32_t)b4[0] | (uint32_t)b4[1] << 8 | (uint32_t)b4[2] << 16 | (uint32_t)b4[3] << 24;
		if (v == 0)
			break;
		if (++m->funcs > VG_PE_MAX_IMPORT_FUNCS) {
			*res = EXE_IMP_UNKNOWN;
			return VG_OK;
		}
		if (!(v & 0x80000000u)) {
			size_t n;
			/* ClamAV reads the name even when the address maps nowhere,
			 * then from offset 0 (+2 for the hint) */
			if (!exe_pe_rva_to_off(m->info, m->fsize, v, &off))
				off = 0;
			n = m->fsize - off < IMP_MAX_NAME ? (size_t)(m->fsize - off) : IMP_MAX_NAME;
			/* it asks for n bytes after the hint: near the end of the
			 * file that fails, and the function is left out */
			have = read_name(m, (uint64_t)off + 2, n, name);
		} else {
			uint32_t ord = v & 0xffffu;
			if (strncasecmp(dll, "WS2_32.dll", 10) == 0 || strncasecmp(dll, "wsock32.dll", 11) == 0) {
				if (ord < VG_ARRAY_LEN(ws2_names) && ws2_names[ord])
					snprintf(name, sizeof(name), "%s", ws2_names[ord]);
				else if (ord == 151)
					snprintf(name, sizeof(name), "__WSAFDIsSet");
				else if (ord == 500)
					snprintf(name, sizeof(name), "WEP");
				else
					snprintf(name, sizeof(name), "ord%u", ord);
			} else if (strncasecmp(dll, "oleaut32.dll", 12) == 0 &&
				   ord < VG_ARRAY_LEN(oleaut32_names) && oleaut32_names[ord]) {
				snprintf(name, sizeof(name), "%s", oleaut32_names[ord]);
			} else {
				snprintf(name, sizeof(name), "ord%u", ord);
			}
			have = true;
		}
		if (!have)
			continue;
		if (!valid_name(name)) {
			*res = EXE_IMP_BAD;
			return VG_OK;
		}
		rc = emit(m, dll, dlllen, name);
		if (rc != VG_OK)
			return rc;
	}
	return VG_OK;
}

vg_status exe_pe_imports(exe_read_fn *read, void *rctx, uint64_t file_size,
			 const struct exe_info *info, exe_imp_fn *fn, void *fctx,
			 enum exe_imp_result *result, uint32_t *len)
{
	struct imp m = {read, rctx, file_size, info, fn, fctx, 0, 0, true};
	enum exe_imp_result res = EXE_IMP_OK;
	uint32_t impoff, left;
	vg_status rc = VG_OK;

	*result = EXE_IMP_NONE;
	*len = 0;
	if (info->kind != EXE_PE || !info->valid || info->pe32plus || info->import_rva == 0 ||
	    info->import_size == 0)
		return VG_OK;
	if (!exe_pe_rva_to_off(info, file_size, info->import_rva, &impoff) ||
	    (uint32_t)(impoff + info->import_size) > file_size)
		return VG_OK;
	if ((uint64_t)impoff + info->import_size > file_size) {
		*result = EXE_IMP_BAD; /* wraps in ClamAV's 32 bits, then fails to read */
		return VG_OK;
	}
	left = info->import_size;
	/* ClamAV reads a descriptor only while more than one fits */
	for (uint32_t n = 0; left > IMP_DESCRIPTOR && n < IMP_MAX_DESCRIPTORS && res == EXE_IMP_OK; n++) {
		uint8_t d[IMP_DESCRIPTOR];
		uint32_t oft, name_rva, ft, off;
		char dll[IMP_MAX_NAME + 1];
		size_t nlen;

		if (!fetch(&m, (uint64_t)impoff + (uint64_t)n * IMP_DESCRIPTOR, d, sizeof(d))) {
			res = EXE_IMP_BAD;
			break;
		}
		oft = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
		name_rva = (uint32_t)d[12] | (uint32_t)d[13] << 8 | (uint32_t)d[14] << 16 |
			   (uint32_t)d[15] << 24;
		ft = (uint32_t)d[16] | (uint32_t)d[17] << 8 | (uint32_t)d[18] << 16 | (uint32_t)d[19] << 24;
		if (name_rva == 0)
			break;
		left -= IMP_DESCRIPTOR;
		if (!exe_pe_rva_to_off(info, file_size, name_rva, &off) || off > file_size) {
			res = EXE_IMP_BAD;
			break;
		}
		nlen = file_size - off < IMP_MAX_NAME ? (size_t)(file_size - off) : IMP_MAX_NAME;
		if (nlen == 0 || !read_name(&m, off, nlen, dll)) {
			res = EXE_IMP_BAD;
			break;
		}
		rc = one_dll(&m, oft, ft, dll, &res);
		if (rc != VG_OK)
			return rc;
	}
	*result = res;
	*len = m.len;
	return VG_OK;
}
