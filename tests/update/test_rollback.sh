#!/bin/bash
# Freshness attacks (trust-design §1.6 A9-A13, A27): replaying older
# releases, a forked timestamp, expired metadata (freeze), mixing a
# timestamp with another manifest, and a release for a newer engine.
. "$(dirname "$0")/upd_lib.sh"

full_release 1 || exit 1
cp -a "$MIRROR" "$T/mirror-v1"
full_release 2
start_server
update
check "baseline: release 2 installed" db_is 2
snapshot

# A10: the whole mirror as it was at release 1 (validly signed, older)
rm -rf "$MIRROR.now" && mv "$MIRROR" "$MIRROR.now" && cp -a "$T/mirror-v1" "$MIRROR"
update
refused "A10 replayed older timestamp" "rollback"
check "A10: says which versions" err_has "version 1 is older than the trusted version 2"
rm -rf "$MIRROR" && mv "$MIRROR.now" "$MIRROR"

# A9: a new, valid timestamp (version 100) pointing at the old manifest 1
publish 1 --timestamp-version 100 --no-verify
update
refused "A9 valid timestamp naming an older manifest" "rollback"
check "A9: names the manifest versions" err_has "manifest version 1, older than the installed version 2"

# A11: a different timestamp with the version the client already trusts
publish 2 --timestamp-version 100 --no-verify   # version 100 -> release 2 again
update
check "re-published release 2 at timestamp 100: accepted (nothing to install)" rc_is 0
snapshot
publish 2 --timestamp-version 100 --valid 30h
update
refused "A11 timestamp fork (same version, other content)" "fork"

# A12 freeze: metadata that expired (timestamp, then manifest)
publish 2 --timestamp-version 200 --expires 2020-01-01T00:00:00Z --no-verify
update
refused "A12 expired timestamp" "expired"
check "A12: says when it expired" err_has "expired at 2020-01-01T00:00:00Z"
REL_EXTRA="--expires 2021-01-01T00:00:00Z" release 3 && log_add "$T/rel3/manifest.note" &&
	publish 3 --timestamp-version 201 --no-verify
update
refused "A12 expired manifest" "expired"
check "A12: manifest expiry named" err_has "manifest: expired at 2021-01-01T00:00:00Z"

# A13 mix-and-match: the timestamp names manifest 4, the mirror serves the
# (validly signed) manifest 2 under manifest 4's name
full_release 4
h4=$(sed -n 's/^manifest \([0-9a-f]*\) .*/\1/p' "$MIRROR/timestamp.note")
h2=$(sha256sum < "$T/rel2/manifest.note" | cut -c1-64)
cp "$MIRROR/manifest/$h2.note" "$MIRROR/manifest/$h4.note"
update
refused "A13 timestamp of one release, manifest of another" "hash mismatch"
check "A13: says mix-and-match" err_has "mix-and-match"

# A27: a release that needs a newer engine keeps the old database
REL_EXTRA="--engine-min 999999" release 5 && log_add "$T/rel5/manifest.note" && publish 5
update
refused "A27 release for a newer engine" "engine too old"
check "A27: tells the user to upgrade vigil" err_has "upgrade vigil"

full_release 6
update
check "release 6 after all the attacks: installed" db_is 6
finish
