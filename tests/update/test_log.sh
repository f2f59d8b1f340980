#!/bin/bash
# Transparency attacks (trust-design §1.6 A19-A25): releases missing from
# the log, proofs for another entry, too few or stale witness cosignatures,
# a log that shrinks, a split view (same size, other root) and a history
# rewrite (larger tree not extending the trusted one). On a log
# inconsistency both checkpoints are kept as evidence.
. "$(dirname "$0")/upd_lib.sh"

full_release 1 || exit 1
full_release 2
start_server
REAL=$URL
update
check "baseline: release 2 installed" db_is 2
check "baseline: checkpoint of size 2 trusted" [ "$(state checkpoint | sed -n 2p)" = 2 ]
snapshot
release 3 && log_add "$T/rel3/manifest.note" && publish 3
h3=$(sha256sum < "$T/rel3/manifest.note" | cut -c1-64)
h1=$(sha256sum < "$T/rel1/manifest.note" | cut -c1-64)
cp "$MIRROR/manifest/$h3.tlog-proof" "$T/proof3.good"

# A19: no proof
rm "$MIRROR/manifest/$h3.tlog-proof"
update
refused "A19 release not in the log" "not logged"

# A20: the proof of another entry (release 1's)
cp "$MIRROR/manifest/$h1.tlog-proof" "$MIRROR/manifest/$h3.tlog-proof"
update
refused "A20 proof for a different manifest" "not logged"
check "A20: says the manifest is not that entry" err_has "is not entry 0 of the log"

# A21: one witness of the two required, then an unknown witness
proof_with_cosigners() { # rebuild release 3's proof with a checkpoint cosigned by the given keys
	sed -n '1,/^$/p' "$T/proof3.good" > "$MIRROR/manifest/$h3.tlog-proof"
	sed '/^— w/d' "$LOG/checkpoint" > "$T/cp"
	sign "$T/cp" "$@"
	cat "$T/cp" >> "$MIRROR/manifest/$h3.tlog-proof"
}
make_keys wx
proof_with_cosigners w1
update
refused "A21 one witness cosignature of two" "witnesses missing"
check "A21: counts them" err_has "1 valid witness cosignature no older than 7 days, 2 required"
proof_with_cosigners w1 wx
update
refused "A21 a cosignature by an unknown witness" "witnesses missing"

# A22: cosignatures 8 days old, then one day in the future
now=$(date +%s)
SOURCE_DATE_EPOCH=$((now - 8 * 86400)) proof_with_cosigners w1 w2
update
refused "A22 stale cosignatures (8 days)" "witnesses missing"
SOURCE_DATE_EPOCH=$((now + 86400)) proof_with_cosigners w1 w2
update
refused "A22 cosignatures from the future" "witnesses missing"
cp "$T/proof3.good" "$MIRROR/manifest/$h3.tlog-proof"

# A forked log (the log key and two witnesses colluding): fork_mirror NAME
# ENTRY-MANIFEST... builds a log of those manifests and a mirror serving
# release 3 from it.
fork_mirror() {
	local name=$1
	shift
	local m
	LOG=$T/log-$name MIRROR=$T/mirror-$name
	for m in "$@"; do log_add "$m" || return 1; done
	cp -a "$T/mirror" "$MIRROR" && rm -rf "$MIRROR/log"
	publish 3
	start_server "$MIRROR" "$T/rules-$name.json"
	LOG=$T/log MIRROR=$T/mirror
}
evidence_count() { ls "$STATE/evidence" 2>/dev/null | wc -l; }

# A23: a log of one entry (release 3) while the client trusts size 2
fork_mirror small "$T/rel3/manifest.note"
update
refused "A23 log rollback (smaller checkpoint)" "rollback"
check "A23: says log rollback" err_has "log: rollback"

# A24 split view: [1, 3] has size 2 like the trusted [1, 2], another root
fork_mirror split "$T/rel1/manifest.note" "$T/rel3/manifest.note"
update
refused "A24 split view" "log inconsistency"
check "A24: SECURITY ERROR" err_has "SECURITY ERROR"
check "A24: evidence kept" [ "$(evidence_count)" = 1 ]
ev=$STATE/evidence/$(ls "$STATE/evidence" | head -n 1)
check "A24: evidence holds the trusted checkpoint" cmp -s "$ev/old.checkpoint" <(state checkpoint)
check "A24: evidence holds the other checkpoint (size 2, signed by the log)" \
	bash -c "sed -n 2p '$ev/new.checkpoint' | grep -qx 2 && grep -q '^— log ' '$ev/new.checkpoint' && ! cmp -s '$ev/old.checkpoint' '$ev/new.checkpoint'"

# A25: [1, 3, 3'] has size 3 but does not extend [1, 2]
cp "$T/rel3/manifest.note" "$T/other.note"
sign "$T/other.note" rel-c # another entry: different bytes
sleep 1 # evidence folders are named by the second
fork_mirror rewrite "$T/rel1/manifest.note" "$T/other.note" "$T/rel3/manifest.note"
update
refused "A25 larger log not extending the trusted one" "log inconsistency"
check "A25: says the log rewrote its history" err_has "does not extend"
check "A25: evidence kept" [ "$(evidence_count)" = 2 ]

# The honest log of size 3 extends the trusted one: proven from its tiles
URL=$REAL
update
check "honest growth 2 -> 3: exit status 0" rc_is 0
check "honest growth: release 3 installed" db_is 3
check "honest growth: checkpoint of size 3 trusted" [ "$(state checkpoint | sed -n 2p)" = 3 ]

# Without tiles, consistency cannot be shown: the witnesses' quorum is
# accepted with a warning and the old checkpoint stays the reference
release 4 && log_add "$T/rel4/manifest.note" && publish 4
rm -rf "$MIRROR/log/tile"
update
check "no tiles: release 4 installed on the witnesses' word" db_is 4
check "no tiles: warns that consistency was not checked" err_has "log consistency not checked"
check "no tiles: the trusted checkpoint stays at size 3" [ "$(state checkpoint | sed -n 2p)" = 3 ]
finish
