/*
 * worker_wire.c - building and checking broker/worker messages.
 */
#include <stdio.h>
#include <string.h>

#include <vigil.h>

#include "worker_wire.h"

void vw_request_init(struct vw_request *q, uint64_t seq, uint32_t mode)
{
	memset(q, 0, sizeof(*q));
	q->magic = VW_MAGIC_REQUEST;
	q->version = VW_WIRE_VERSION;
	q->seq = seq;
	q->mode = mode;
}

void vw_reply_init(struct vw_reply *r, uint32_t type, uint64_t seq)
{
	memset(r, 0, sizeof(*r));
	r->magic = VW_MAGIC_REPLY;
	r->version = VW_WIRE_VERSION;
	r->type = type;
	r->seq = seq;
}

static int terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static int fail(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s", what);
	return -1;
}

int vw_reply_check(const struct vw_reply *r, char *why, size_t whylen)
{
	if (r->magic != VW_MAGIC_REPLY || r->version != VW_WIRE_VERSION)
		return fail(why, whylen, "bad magic or version");
	switch (r->type) {
	case VW_HELLO:
		if (r->seq != 0 || r->layers >= (VW_LAYER_UNSANDBOXED << 1) || r->landlock_abi < 0 ||
		    r->landlock_abi > 1000)
			return fail(why, whylen, "malformed hello");
		return 0;
	case VW_DONE:
		if (r->status < VG_OK || r->status > VW_STATUS_LAST)
			return fail(why, whylen, "status out of range");
		if (r->verdict > VG_VERDICT_NOT_SCANNED || r->limit > VG_LIMIT_SCANTIME ||
		    r->stopped > 1 || r->matches > VW_MAX_MATCHES)
			return fail(why, whylen, "verdict field out of range");
		if (r->status == VG_OK && r->verdict != VG_VERDICT_FOUND && r->matches != 0)
			return fail(why, whylen, "matches reported for a clean verdict");
		return 0;
	case VW_MATCH: {
		size_t used = 0;
		if (r->kind < VG_SIG_BODY || r->kind > VW_SIG_KIND_LAST || r->offset_known > 1 ||
		    r->has_database > 1 || r->depth > VW_MAX_DEPTH)
			return fail(why, whylen, "match field out of range");
		if (!terminated(r->name, sizeof(r->name)) || r->name[0] == '\0')
			return fail(why, whylen, "bad signature name");
		if (!terminated(r->database, sizeof(r->database)) ||
		    (!r->has_database && r->database[0] != '\0'))
			return fail(why, whylen, "bad database name");
		for (uint32_t i = 0; i < r->depth; i++) {
			const char *nul;
			if (used >= sizeof(r->path))
				return fail(why, whylen, "container path overflows");
			nul = memchr(r->path + used, '\0', sizeof(r->path) - used);
			if (nul == NULL)
				return fail(why, whylen, "container path not terminated");
			used = (size_t)(nul - r->path) + 1;
		}
		return 0;
	}
	default:
		return fail(why, whylen, "unknown reply type");
	}
}

static void add(char *buf, size_t len, const char *word)
{
	size_t n = strlen(buf);

	if (n + 1 < len)
		snprintf(buf + n, len - n, "%s%s", n ? " " : "", word);
}

void vw_layers_text(uint32_t layers, int landlock_abi, char *buf, size_t len)
{
	char ll[96];

	if (len == 0)
		return;
	buf[0] = '\0';
	if (layers & VW_LAYER_UNSANDBOXED) {
		add(buf, len, "none (insecure: sandbox disabled)");
		return;
	}
	if (layers & VW_LAYER_NO_NEW_PRIVS)
		add(buf, len, "no_new_privs");
	if (layers & VW_LAYER_RLIMITS)
		add(buf, len, "rlimits");
	if (layers & VW_LAYER_LANDLOCK) {
		snprintf(ll, sizeof(ll), "landlock(abi %d: fs%s%s)", landlock_abi,
			 layers & VW_LAYER_LANDLOCK_NET ? " tcp" : "",
			 layers & VW_LAYER_LANDLOCK_SCOPE ? " signals" : "");
		add(buf, len, ll);
	}
	if (layers & VW_LAYER_NETNS)
		add(buf, len, "netns");
	if (layers & VW_LAYER_SECCOMP)
		add(buf, len, "seccomp");
	if (buf[0] == '\0')
		add(buf, len, "none");
}
