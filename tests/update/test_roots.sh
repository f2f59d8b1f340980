#!/bin/bash
# Root rotation (trust-design §1.6 A14-A18): a chain of roots each signed by
# the threshold of the previous root's keys and of its own, refused when
# either side is missing, when a version is skipped, or when the newest
# root has expired; and recovery from a fast-forward attack by rotating the
# timestamp key.
. "$(dirname "$0")/upd_lib.sh"

make_keys root-d root-e root-f ts2
full_release 1 || exit 1
start_server
update
check "baseline: release 1 installed, root 1" [ "$(state root-version)" = 1 ]
snapshot

NEW_ROOT_KEYS=(--root-key "$KEYS/root-d.pub" --root-key "$KEYS/root-e.pub" --root-key "$KEYS/root-f.pub" --root-threshold 2)
mkdir -p "$MIRROR/root"

# A16: root 2 with new root keys, signed by the new keys only
root_body "$MIRROR/root/2.note" 2 "${NEW_ROOT_KEYS[@]}" "${REL_KEYS[@]}" "${TS_KEYS[@]}" "${W_KEYS[@]}"
cp "$MIRROR/root/2.note" "$T/root2.body"
sign "$MIRROR/root/2.note" root-d root-e
update
refused "A16 root 2 signed by its new keys only" "unknown key"
check "A16: says the old root's keys are missing" err_has "by the keys of root 1"

# A16: signed by the old keys only
cp "$T/root2.body" "$MIRROR/root/2.note"
sign "$MIRROR/root/2.note" root-a root-b
update
refused "A16 root 2 signed by the old keys only" "unknown key"
check "A16: says its own keys are missing" err_has "by its own keys"

# A16: one old key is not a threshold
cp "$T/root2.body" "$MIRROR/root/2.note"
sign "$MIRROR/root/2.note" root-a root-d root-e
update
refused "A16 root 2 with one of two old signatures" "threshold not met"

# A17: the file for version 2 says version 3
root_body "$MIRROR/root/2.note" 3 "${ROOT_KEYS[@]}" "${REL_KEYS[@]}" "${TS_KEYS[@]}" "${W_KEYS[@]}"
sign "$MIRROR/root/2.note" root-a root-b
update
refused "A17 root version skip" "root version skip"
rm -f "$MIRROR/root/2.note"

# A18: root 2 (validly chained) has expired and nothing newer exists
root_body "$ROOTS/2.note" 2 --expires 2020-01-01T00:00:00Z "${ROOT_KEYS[@]}" "${REL_KEYS[@]}" "${TS_KEYS[@]}" "${W_KEYS[@]}"
sign "$ROOTS/2.note" root-a root-b
publish 1 --no-verify
update
refused "A18 newest root expired" "expired"

# A15: root 3 rotates the root keys to b, c, d (signed by b and c for root 2,
# b, c and d for itself): the chain 1 -> 2 (expired, fine in between) -> 3
root_body "$ROOTS/3.note" 3 --root-key "$KEYS/root-b.pub" --root-key "$KEYS/root-c.pub" \
	--root-key "$KEYS/root-d.pub" --root-threshold 2 "${REL_KEYS[@]}" "${TS_KEYS[@]}" "${W_KEYS[@]}"
sign "$ROOTS/3.note" root-b root-c root-d
full_release 2
update
check "A15 rotation 1 -> 2 -> 3: exit status 0" rc_is 0
check "A15: root 3 trusted" [ "$(state root-version)" = 3 ]
check "A15: release 2 installed" db_is 2
check "A15: rotations reported" out_has "Root rotated: version 2 -> 3"

# A14 fast-forward: the (compromised) timestamp key signs version 2^60
full_release 3
publish 3 --timestamp-version 1152921504606846976
update
check "A14: the inflated timestamp verifies (the key is valid)" rc_is 0
check "A14: trusted timestamp version is now 2^60" [ "$(state timestamp-version)" = 1152921504606846976 ]
# the real publisher's next timestamp looks like a rollback...
full_release 4
publish 4 --timestamp-version 10
snapshot
update
refused "A14 before recovery: normal timestamp looks like a rollback" "rollback"
# ...until root 4 replaces the timestamp key
root_body "$ROOTS/4.note" 4 --root-key "$KEYS/root-b.pub" --root-key "$KEYS/root-c.pub" \
	--root-key "$KEYS/root-d.pub" --root-threshold 2 "${REL_KEYS[@]}" \
	--timestamp-key "$KEYS/ts2.pub" "${W_KEYS[@]}"
sign "$ROOTS/4.note" root-c root-d
vdb publish -o "$MIRROR" --release "$T/rel4" --log "$LOG" --roots "$ROOTS" \
	--timestamp-key "$KEYS/ts2.key" --timestamp-version 11 >/dev/null
update
check "A14 after the timestamp key rotation: exit status 0" rc_is 0
check "A14: release 4 installed" db_is 4
check "A14: trusted timestamp version back to 11" [ "$(state timestamp-version)" = 11 ]
# and the old (compromised) key no longer counts
snapshot
publish 4 --timestamp-version 12 --no-verify
update
refused "A14: the replaced timestamp key is refused" "unknown key"
finish
