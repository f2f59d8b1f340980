/* trust: strict base64, signed notes (malformed inputs, trust-design A28),
 * thresholds counted per key, RFC 6962 proofs for every index and size up
 * to 40 (and their failure on any change), RFC 3339 times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trust/trust.h"

static void base64_is_strict(void **state)
{
	uint8_t out[16];
	size_t n;

	(void)state;
	assert_true(b64_decode("aGk=", 4, out, sizeof(out), &n));
	assert_int_equal(n, 2);
	assert_memory_equal(out, "hi", 2);
	assert_false(b64_decode("aGl=", 4, out, sizeof(out), &n)); /* non-zero padding bits */
	assert_false(b64_decode("aGk", 3, out, sizeof(out), &n));   /* no padding */
	assert_false(b64_decode("aG k", 4, out, sizeof(out), &n));  /* space */
	assert_false(b64_decode("a=Gk", 4, out, sizeof(out), &n));  /* data after '=' */
	assert_false(b64_decode("aGk=aGk=", 8, out, sizeof(out), &n)); /* padding inside */
	assert_false(b64_decode("", 0, out, sizeof(out), &n));
	assert_false(b64_decode("AAAAAAAA", 8, out, 5, &n)); /* over the cap */
	char enc[16];
	b64_encode((const uint8_t *)"hi", 2, enc);
	assert_string_equal(enc, "aGk=");
}

/* a fresh key and a root note signed by it */
struct fixture {
	char *signer[3], *verifier[3];
};

static void keys(struct fixture *f)
{
	static const char *const names[] = { "k-a", "k-b", "k-c" };
	for (int i = 0; i < 3; i++)
		assert_int_equal(vg_key_generate(names[i], 0, &f->signer[i], &f->verifier[i]), VG_OK);
}

static void keys_free(struct fixture *f)
{
	for (int i = 0; i < 3; i++) {
		vg_trust_free(f->signer[i]);
		vg_trust_free(f->verifier[i]);
	}
}

static char *root_body(const struct fixture *f, unsigned threshold)
{
	char *b = malloc(8192);
	snprintf(b, 8192,
		 "vigil-root/v1\norigin o\nversion 1\nexpires 2030-01-01T00:00:00Z\n"
		 "threshold root %u\nthreshold release 1\nthreshold timestamp 1\n"
		 "key root %s\nkey root %s\nkey root %s\nkey release %s\nkey timestamp %s\nlog %s\n",
		 threshold, f->verifier[0], f->verifier[1], f->verifier[2], f->verifier[0],
		 f->verifier[1], f->verifier[2]);
	return b;
}

static __attribute__((noinline)) char *sign_with(const char *text, const char *signer)
{
	char *out = NULL;
	size_t len = 0;
	struct vg_trust_error err;
	assert_int_equal(vg_note_sign(text, strlen(text), signer, 0, &out, &len, &err), VG_OK);
	assert_int_equal(strlen(out), len);
	return out;
}

static void thresholds_count_each_key_once(void **state)
{
	struct fixture f;
	struct vg_root *r = NULL;
	struct vg_trust_error err;

	(void)state;
	keys(&f);
	char *body = root_body(&f, 2);
	char *one = sign_with(body, f.signer[0]);
	assert_int_equal(vg_root_open(one, strlen(one), &r, &err), VG_EBADSIG);
	assert_int_equal(err.fault, VG_TRUST_THRESHOLD);
	/* the same signature line twice still counts once */
	const char *line = strstr(one, "\n\n") + 2;
	char *dup = malloc(strlen(one) + strlen(line) + 1);
	strcpy(dup, one);
	strcat(dup, line);
	assert_int_equal(vg_root_open(dup, strlen(dup), &r, &err), VG_EBADSIG);
	assert_int_equal(err.fault, VG_TRUST_THRESHOLD);
	/* signing twice with one key is refused by the signer */
	char *again;
	size_t alen;
	assert_int_equal(vg_note_sign(one, strlen(one), f.signer[0], 0, &again, &alen, &err),
			 VG_EFORMAT);
	char *two = sign_with(one, f.signer[1]);
	assert_int_equal(vg_root_open(two, strlen(two), &r, &err), VG_OK);
	assert_int_equal(vg_root_version(r), 1);
	vg_root_free(r);
	/* one changed byte of the body: the signatures no longer verify */
	two[strlen("vigil-root/v1\norigin ")] = 'p';
	assert_int_not_equal(vg_root_open(two, strlen(two), &r, &err), VG_OK);
	free(body);
	free(dup);
	vg_trust_free(one);
	vg_trust_free(two);
	keys_free(&f);
}

static void malformed_notes_are_refused(void **state)
{
	struct trust_note n;
	const char *why;
	uint8_t zero[68] = { 0 };
	char b64[100], sig[128];
	char buf[4096];

	(void)state;
	b64_encode(zero, sizeof(zero), b64);
	snprintf(sig, sizeof(sig), "\xe2\x80\x94 k %s\n", b64);
	snprintf(buf, sizeof(buf), "body\n\n%s", sig);
	assert_true(trust_note_parse(buf, strlen(buf), 1024, &n, &why));
	assert_int_equal(n.nsigs, 1);
	assert_int_equal(n.body_len, 5);
	/* truncated (no final newline) */
	assert_false(trust_note_parse(buf, strlen(buf) - 1, 1024, &n, &why));
	/* no signature block */
	assert_false(trust_note_parse("body\n", 5, 1024, &n, &why));
	/* CRLF */
	snprintf(buf, sizeof(buf), "body\r\n\n%s", sig);
	assert_false(trust_note_parse(buf, strlen(buf), 1024, &n, &why));
	/* NUL and non-ASCII in the body */
	snprintf(buf, sizeof(buf), "bo!y\n\n%s", sig);
	buf[2] = '\0';
	assert_false(trust_note_parse(buf, 6 + strlen(sig), 1024, &n, &why));
	snprintf(buf, sizeof(buf), "b\xc3\xa9y\n\n%s", sig);
	assert_false(trust_note_parse(buf, strlen(buf), 1024, &n, &why));
	/* bad base64, short blob (wrong key-id length), missing em dash */
	snprintf(buf, sizeof(buf), "body\n\n\xe2\x80\x94 k AAA*\n");
	assert_false(trust_note_parse(buf, strlen(buf), 1024, &n, &why));
	snprintf(buf, sizeof(buf), "body\n\n\xe2\x80\x94 k AAAA\n");
	assert_false(trust_note_parse(buf, strlen(buf), 1024, &n, &why));
	snprintf(buf, sizeof(buf), "body\n\n- k AAAA\n");
	assert_false(trust_note_parse(buf, strlen(buf), 1024, &n, &why));
	/* 17 signature lines */
	size_t p = (size_t)snprintf(buf, sizeof(buf), "body\n\n");
	for (int i = 0; i < 17; i++)
		p += (size_t)snprintf(buf + p, sizeof(buf) - p, "%s", sig);
	assert_false(trust_note_parse(buf, p, 1024, &n, &why));
	/* a body over the limit */
	snprintf(buf, sizeof(buf), "body body body\n\n%s", sig);
	assert_false(trust_note_parse(buf, strlen(buf), 8, &n, &why));
}

static void malformed_metadata_is_refused(void **state)
{
	struct fixture f;
	struct vg_root *r = NULL;
	struct vg_trust_error err;
	char *body, *bad, *s;

	(void)state;
	keys(&f);
	body = root_body(&f, 1);
	static const char *const edits[][2] = {
		{ "version 1\n", "version 01\n" },                        /* leading zero */
		{ "version 1\n", "version 99999999999999999999999\n" },   /* huge */
		{ "version 1\n", "version -1\n" },
		{ "expires 2030-01-01T00:00:00Z", "expires 2030-02-30T00:00:00Z" },
		{ "threshold root 1\n", "threshold root 4\n" },           /* more than keys */
		{ "origin o\n", "origin o\nunknown x\n" },                /* unknown keyword */
		{ "origin o\nversion 1\n", "version 1\norigin o\n" },     /* order */
		{ "+", "+0" },                                            /* key id length */
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		bad = malloc(strlen(body) + 64);
		char *at = strstr(body, edits[i][0]);
		assert_non_null(at);
		size_t pre = (size_t)(at - body);
		memcpy(bad, body, pre);
		strcpy(bad + pre, edits[i][1]);
		strcat(bad, at + strlen(edits[i][0]));
		s = sign_with(bad, f.signer[0]);
		assert_int_equal(vg_root_open(s, strlen(s), &r, &err), VG_EFORMAT);
		assert_int_equal(err.fault, VG_TRUST_MALFORMED);
		vg_trust_free(s);
		free(bad);
	}
	free(body);
	keys_free(&f);
}

static void naive_root(uint8_t (*l)[32], uint64_t n, uint8_t out[32])
{
	/* the recursive definition of RFC 6962 2.1, on its own */
	if (n == 1) {
		memcpy(out, l[0], 32);
		return;
	}
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	uint8_t a[32], b[32];
	naive_root(l, k, a);
	naive_root(l + k, n - k, b);
	merkle_node(a, b, out);
}

static void merkle_proofs_hold_and_break(void **state)
{
	uint8_t leaves[40][32], proof[VG_MERKLE_MAX_PROOF][32], roots[41][32], naive[32];
	size_t count;

	(void)state;
	for (int i = 0; i < 40; i++) {
		char e[32];
		snprintf(e, sizeof(e), "entry %d", i);
		vg_merkle_leaf_hash(e, strlen(e), leaves[i]);
	}
	/* the empty tree is SHA-256 of nothing */
	assert_int_equal(vg_merkle_root(NULL, 0, roots[0]), VG_OK);
	assert_int_equal(roots[0][0], 0xe3);
	for (uint64_t n = 1; n <= 40; n++) {
		assert_int_equal(vg_merkle_root((const uint8_t(*)[32])leaves, n, roots[n]), VG_OK);
		naive_root(leaves, n, naive);
		assert_memory_equal(roots[n], naive, 32);
	}
	for (uint64_t n = 1; n <= 40; n++) {
		for (uint64_t i = 0; i < n; i++) {
			assert_int_equal(vg_merkle_inclusion_proof((const uint8_t(*)[32])leaves, n, i,
								   proof, &count),
					 VG_OK);
			const uint8_t(*p)[32] = (const uint8_t(*)[32])proof;
			assert_int_equal(vg_merkle_inclusion_verify(i, n, leaves[i], p, count, roots[n]),
					 VG_OK);
			/* another leaf, index, size or root fails */
			assert_int_not_equal(vg_merkle_inclusion_verify(i, n, leaves[(i + 1) % 40], p,
									count, roots[n]),
					     VG_OK);
			if (n > 1)
				assert_int_not_equal(vg_merkle_inclusion_verify((i + 1) % n, n, leaves[i],
										p, count, roots[n]),
						     VG_OK);
			if (count > 0) {
				proof[count - 1][7] ^= 1;
				assert_int_not_equal(vg_merkle_inclusion_verify(i, n, leaves[i], p,
										count, roots[n]),
						     VG_OK);
			}
		}
		for (uint64_t m = 0; m <= n; m++) {
			assert_int_equal(vg_merkle_consistency_proof((const uint8_t(*)[32])leaves, n, m,
								     proof, &count),
					 VG_OK);
			const uint8_t(*p)[32] = (const uint8_t(*)[32])proof;
			assert_int_equal(vg_merkle_consistency_verify(m, n, roots[m], roots[n], p, count),
					 VG_OK);
			if (m > 0 && m < n) {
				/* a tree of size m that is not the prefix */
				assert_int_not_equal(vg_merkle_consistency_verify(m, n, roots[m - 1],
										  roots[n], p, count),
						     VG_OK);
				assert_int_not_equal(vg_merkle_consistency_verify(m, n, roots[m],
										  roots[n - 1], p, count),
						     VG_OK);
				proof[0][0] ^= 1;
				assert_int_not_equal(vg_merkle_consistency_verify(m, n, roots[m],
										  roots[n], p, count),
						     VG_OK);
			}
		}
	}
}

static void times_parse_strictly(void **state)
{
	int64_t t;
	char s[21];

	(void)state;
	assert_int_equal(vg_time_parse("1970-01-01T00:00:00Z", &t), VG_OK);
	assert_int_equal(t, 0);
	assert_int_equal(vg_time_parse("2024-02-29T12:34:56Z", &t), VG_OK);
	assert_int_equal(t, 1709210096);
	vg_time_format(t, s);
	assert_string_equal(s, "2024-02-29T12:34:56Z");
	assert_int_not_equal(vg_time_parse("2023-02-29T00:00:00Z", &t), VG_OK);
	assert_int_not_equal(vg_time_parse("2024-02-29 12:34:56Z", &t), VG_OK);
	assert_int_not_equal(vg_time_parse("2024-02-29T12:34:56", &t), VG_OK);
	assert_int_not_equal(vg_time_parse("2024-13-01T00:00:00Z", &t), VG_OK);
	assert_int_not_equal(vg_time_parse("2024-12-01T24:00:00Z", &t), VG_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(base64_is_strict),
		cmocka_unit_test(thresholds_count_each_key_once),
		cmocka_unit_test(malformed_notes_are_refused),
		cmocka_unit_test(malformed_metadata_is_refused),
		cmocka_unit_test(merkle_proofs_hold_and_break),
		cmocka_unit_test(times_parse_strictly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
