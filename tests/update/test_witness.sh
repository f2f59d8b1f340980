#!/bin/bash
# vigil db witness: a witness cosigns a checkpoint only when the log signed
# it and it extends the last checkpoint the witness cosigned; it refuses a
# split view, a rewritten history, a shrinking log and a forged checkpoint.
. "$(dirname "$0")/upd_lib.sh"

WSTATE=$T/w1.state
witness() { # witness LOGDIR: w1 cosigns LOGDIR/checkpoint
	vdb witness --key "$KEYS/w1.key" --log-key "$KEYS/log.pub" --state "$WSTATE" \
		--log "$1" >"$OUT" 2>"$ERR"
	RC=$?
}
append() { # append LOGDIR MANIFEST: the log operator adds an entry
	vdb log --log "$1" --key "$KEYS/log.key" "$2" >/dev/null
}
release 1 && release 2 && release 3

append "$LOG" "$T/rel1/manifest.note"
witness "$LOG"
check "first checkpoint: cosigned" rc_is 0
check "first checkpoint: carries w1's cosignature" grep -q '^— w1 ' "$LOG/checkpoint"
append "$LOG" "$T/rel2/manifest.note"
witness "$LOG"
check "honest growth 1 -> 2: cosigned" rc_is 0

# a fork of size 2: [1, 3]
FORK=$T/log-fork
append "$FORK" "$T/rel1/manifest.note" && append "$FORK" "$T/rel3/manifest.note"
witness "$FORK"
check "split view: refused" rc_is 1
check "split view: says so" err_has "split view"
check "split view: evidence printed (both checkpoints)" bash -c "[ \$(grep -c '^— log ' '$ERR') = 2 ]"
check "split view: not cosigned" bash -c "! grep -q '^— w1 ' '$FORK/checkpoint'"

# a rewritten history of size 3: [1, 3, 2]
append "$FORK" "$T/rel2/manifest.note"
witness "$FORK"
check "rewritten history: refused" rc_is 1
check "rewritten history: says so" err_has "does not extend"

# a smaller log
SMALL=$T/log-small
append "$SMALL" "$T/rel1/manifest.note"
witness "$SMALL"
check "log rollback: refused" rc_is 1
check "log rollback: says so" err_has "log rollback"

# a checkpoint not signed by the log key
make_keys evil
cp -a "$LOG" "$T/log-forged"
append "$LOG" "$T/rel3/manifest.note"
sed -i '/^$/,$d' "$LOG/checkpoint"
sign "$LOG/checkpoint" evil
witness "$LOG"
check "forged checkpoint: refused" rc_is 1
check "forged checkpoint: not signed by the log" err_has "not signed by 'log'"
check "refusals leave the witness's state as it was (size 2)" [ "$(sed -n 2p "$WSTATE")" = 2 ]
finish
