#!/bin/bash
# vigil audit: anyone can check a mirror's log without any secret: every
# entry must be the manifest its leaf names, signed by the release threshold,
# with versions only increasing; and the log must extend the checkpoint the
# machine trusts.
. "$(dirname "$0")/upd_lib.sh"

full_release 1 || exit 1
full_release 2
full_release 3
start_server
update
audit() {
	"$VIGIL" audit --config "$T/vigil.conf" --mirror "$URL" --root "$T/anchor.note" \
		--state-dir "$STATE" --timeout 10 >"$OUT" 2>"$ERR"
	RC=$?
}
audit
check "honest log: exit 0" rc_is 0
check "honest log: three entries listed" [ "$(grep -c '  version [0-9]*  issued' "$OUT")" = 3 ]
check "honest log: passes" out_has "Audit passed: 3 entries"
check "honest log: extends the machine's checkpoint" out_has "extends the checkpoint this machine trusts (size 3)"

# an entry file that is not what the log holds
cp "$MIRROR/log/entries/1.note" "$T/e1"
cp "$T/rel3/manifest.note" "$MIRROR/log/entries/1.note"
audit
check "replaced entry: exit 1" rc_is 1
check "replaced entry: named" out_has "1  PROBLEM: log/entries/1.note is not the entry the log holds"
cp "$T/e1" "$MIRROR/log/entries/1.note"

# the log operator appends a manifest signed by one release key only, and a
# second manifest with version 2
release 9 rel-a && log_add "$T/rel9/manifest.note"
make_files 2x && cp "$T/src/2x/daily.ndb" "$T/src/2x/other.ndb"
vdb release -o "$T/rel2x" --origin db.test --version 2 "$T/src/2x/other.ndb" >/dev/null
sign "$T/rel2x/manifest.note" rel-a rel-b
log_add "$T/rel2x/manifest.note"
cp -a "$LOG/." "$MIRROR/log/"
audit
check "unsigned and forked entries: exit 1" rc_is 1
check "entry 3: threshold not met" bash -c "grep -q '^ *3  version 9 .*threshold not met' '$OUT'"
check "entry 4: fork of version 2" out_has "4  PROBLEM: fork: version 2 was already logged as entry 1"

# a log that does not extend the machine's checkpoint (rewritten history)
LOG=$T/log-other
log_add "$T/rel1/manifest.note" && log_add "$T/rel3/manifest.note" && log_add "$T/rel2/manifest.note"
rm -rf "$MIRROR/log" && cp -a "$LOG" "$MIRROR/log"
audit
check "rewritten log: exit 1" rc_is 1
check "rewritten log: does not extend the trusted checkpoint" out_has "does not extend the checkpoint this machine trusts (size 3)"
finish
