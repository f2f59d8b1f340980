#!/bin/bash
# Fault injection: vigil-crashtest (vigil with the test-only crash points)
# is killed with SIGKILL at every step of a move into the store, a restore,
# a delete and a --move=DIR. After each kill:
#   - before any recovery, at least one complete copy exists: the original
#     (or its hidden name), the destination, or an item in the store that
#     (after recovery) restores to the exact bytes and metadata;
#   - `vigil quarantine list` (the vigil that ships) recovers: the journal is
#     empty, no temporary or hidden file is left, and there is exactly one
#     copy -- the original in place and no item, or the item and no original.
# The steps are not hard-coded: a first run records every crash point it
# passes (VIGIL_TEST_CRASH_TRACE), and the expected ones must be among them.
. "$(dirname "$0")/q_lib.sh"

[ -n "$CRASHTEST" ] || skip "no vigil-crashtest given"
make_db
Q="$T/store"
S="$T/src"
mkdir -p "$S" "$T/dest"
cd "$T" || exit 1

strip_atime() { sed 's/ atime=[0-9]*//'; }

crash_scan() { # crash_scan POINT ARGS...: vigil-crashtest scan, killed at POINT
	local point=$1
	shift
	# In a subshell (not exec'd: it runs two commands) whose stderr takes
	# bash's "Killed" report.
	(VIGIL_TEST_CRASH_AT=$point "$CRASHTEST" scan --config-file="$T/empty.conf" -d "$T/db" \
		"$@" > "$T/out" 2> "$T/err"; exit $?) 2> /dev/null
	RC=$?
}

points_of() { # unique crash points in the order first passed
	awk '!seen[$0]++' "$1" | tr '\n' ' ' | sed 's/ $//'
}

has_points() { # has_points "ACTUAL" EXPECTED...: every expected point is there, in order
	local actual=" $1 " want rest=" $1 "
	shift
	for want in "$@"; do
		case "$rest" in
		*" $want "*) rest=${rest#*" $want "}; rest=" $rest" ;;
		*) echo "  point '$want' missing or out of order in: $actual" >&2; return 1 ;;
		esac
	done
}

item_of() { # item id whose original path is $1 ("" if none)
	"$VIGIL" quarantine --config-file="$T/empty.conf" --quarantine-dir="$Q" list 2>/dev/null |
		awk -v p="$1" 'substr($0, length($0) - length(p) + 1) == p && substr($0, length($0) - length(p) - 1, 2) == "  " { print $1 }'
}

recover() { # recover: the shipped vigil opens the store
	"$VIGIL" quarantine --config-file="$T/empty.conf" --quarantine-dir="$Q" list > "$T/rec.out" 2> "$T/rec.err"
}

store_clean() {
	[ "$(journal_rows "$Q")" = 0 ] || { echo "  journal not empty" >&2; return 1; }
	[ -z "$(find "$Q/tmp" -mindepth 1)" ] || { echo "  tmp/ not empty" >&2; return 1; }
	[ -z "$(find "$S" "$T/dest" -name '.vigil-*')" ] || { echo "  hidden files left:" >&2; find "$S" "$T/dest" -name '.vigil-*' >&2; return 1; }
}

# --- move into the store ----------------------------------------------------------
make_eicar "$S/probe.com"
VIGIL_TEST_CRASH_TRACE="$T/trace" "$CRASHTEST" scan --config-file="$T/empty.conf" -d "$T/db" \
	--move --quarantine-dir="$Q" "$S/probe.com" > "$T/out" 2>&1
MOVE_POINTS=$(points_of "$T/trace")
check "move: the crash points passed ($MOVE_POINTS)" has_points "$MOVE_POINTS" \
	action.begin store.intent store.copying store.synced store.published item.decrypting store.verified \
	store.indexed unlink.hidden unlink.unlinked store.removed store.done
"$VIGIL" quarantine --quarantine-dir="$Q" delete "$(item_of "$S/probe.com")" > /dev/null

for p in $MOVE_POINTS; do
	f="$S/m-$p.com"
	make_eicar "$f"
	dress "$f"
	before=$(meta "$f")
	crash_scan "$p" --move --quarantine-dir="$Q" "$f"
	check "move killed at $p (SIGKILL)" eval '[ "$RC" = 137 ]'
	# Before recovery: one complete copy somewhere.
	hidden=$(find "$S" -name '.vigil-pending.*' | head -1)
	if [ -e "$f" ]; then
		check "  at $p: the original is intact" same_text "$(strip_atime <<< "$before")" "$(meta "$f" | strip_atime)"
	elif [ -n "$hidden" ]; then
		check "  at $p: the original is intact under its hidden name" \
			same_text "$(strip_atime <<< "$before")" "$(meta "$hidden" | strip_atime)"
	else
		check "  at $p: original gone, so an item file exists" eval '[ -n "$(ls "$Q/items")" ]'
	fi
	recover
	check "  at $p: recovery leaves the store clean" store_clean
	id=$(item_of "$f")
	if [ -e "$f" ]; then
		check "  at $p: recovered to the original in place, no item" eval '[ -z "$id" ] &&
			same_text "$(strip_atime <<< "$before")" "$(meta "$f" | strip_atime)"'
		rm -f "$f"
	else
		check "  at $p: recovered to one item" eval '[ -n "$id" ] && [ "$(wc -w <<< "$id")" = 1 ]'
		vq "$Q" restore "$id"
		check "  at $p: the item restores exactly (bytes and metadata)" same_text "$before" "$(meta "$f")"
		rm -f "$f"
	fi
done
check "move: the store is empty again" eval '[ -z "$(store_ids "$Q")" ] && [ -z "$(ls "$Q/items")" ]'

# --- restore ----------------------------------------------------------------------------
make_eicar "$S/rprobe.com"
vscan --move --quarantine-dir="$Q" "$S/rprobe.com"
VIGIL_TEST_CRASH_TRACE="$T/rtrace" "$CRASHTEST" quarantine --config-file="$T/empty.conf" \
	--quarantine-dir="$Q" restore "$(item_of "$S/rprobe.com")" > /dev/null 2>&1
RESTORE_POINTS=$(points_of "$T/rtrace")
check "restore: the crash points passed ($RESTORE_POINTS)" has_points "$RESTORE_POINTS" \
	restore.intent item.decrypting restore.synced restore.placed restore.logged \
	restore.unlinked restore.done
rm -f "$S/rprobe.com"

for p in $RESTORE_POINTS; do
	f="$S/r-$p.com"
	make_eicar "$f"
	dress "$f"
	before=$(meta "$f")
	vscan --move --quarantine-dir="$Q" "$f"
	id=$(item_of "$f")
	(VIGIL_TEST_CRASH_AT=$p "$CRASHTEST" quarantine --config-file="$T/empty.conf" \
		--quarantine-dir="$Q" restore "$id" > "$T/out" 2> "$T/err"; exit $?) 2> /dev/null
	RC=$?
	check "restore killed at $p (SIGKILL)" eval '[ "$RC" = 137 ]'
	if [ -e "$f" ] && [ "$(meta "$f")" = "$before" ]; then
		pass "  at $p: the file is back, complete"
	else
		check "  at $p: the file is not back, so the item file is there" test -f "$Q/items/$id.vq"
	fi
	recover
	check "  at $p: recovery leaves the store clean" store_clean
	if [ -n "$(item_of "$f")" ]; then
		check "  at $p: recovered to the item, no file at the destination" test ! -e "$f"
		vq "$Q" restore "$id"
		check "  at $p: the item then restores exactly" same_text "$before" "$(meta "$f")"
	else
		check "  at $p: recovered to the restored file, exact, item gone" eval '
			same_text "$before" "$(meta "$f")" && [ ! -e "$Q/items/$id.vq" ]'
	fi
	rm -f "$f"
done

# --- delete -----------------------------------------------------------------------------
for p in delete.intent delete.unlinked; do
	f="$S/d-$p.com"
	make_eicar "$f"
	vscan --move --quarantine-dir="$Q" "$f"
	id=$(item_of "$f")
	(VIGIL_TEST_CRASH_AT=$p "$CRASHTEST" quarantine --config-file="$T/empty.conf" \
		--quarantine-dir="$Q" delete "$id" > /dev/null 2>&1; exit $?) 2> /dev/null
	RC=$?
	check "delete killed at $p (SIGKILL)" eval '[ "$RC" = 137 ]'
	recover
	check "  at $p: recovery finishes the deletion" eval 'store_clean && [ -z "$(item_of "$f")" ] &&
		[ ! -e "$Q/items/$id.vq" ]'
done

# --- --move=DIR, same filesystem (a link) and, when a tmpfs can be mounted,
# across (a copy) ---------------------------------------------------------------------------
dir_round() { # dir_round LABEL DEST
	local label=$1 dest=$2 points p f before name
	make_eicar "$S/dprobe.com"
	VIGIL_TEST_CRASH_TRACE="$T/dtrace-$label" "$CRASHTEST" scan --config-file="$T/empty.conf" \
		-d "$T/db" --move="$dest" "$S/dprobe.com" > /dev/null 2>&1
	rm -f "$dest/dprobe.com"
	points=$(points_of "$T/dtrace-$label")
	if [ "$label" = link ]; then
		check "--move=DIR ($label): the crash points passed ($points)" has_points "$points" \
			action.begin dir.linked unlink.hidden unlink.unlinked dir.removed
	else
		check "--move=DIR ($label): the crash points passed ($points)" has_points "$points" \
			action.begin dir.copying dir.synced dir.published unlink.hidden unlink.unlinked dir.removed
	fi
	for p in $points; do
		name="x-$label-$p.com"
		f="$S/$name"
		make_eicar "$f"
		dress "$f"
		before=$(meta "$f")
		crash_scan "$p" --move="$dest" "$f"
		check "--move=DIR ($label) killed at $p (SIGKILL)" eval '[ "$RC" = 137 ]'
		hidden=$(find "$S" -name '.vigil-moving.*' | head -1)
		local copies=0
		[ -e "$f" ] && [ "$(meta "$f" | strip_atime)" = "$(strip_atime <<< "$before")" ] && copies=$((copies + 1))
		[ -n "$hidden" ] && [ "$(meta "$hidden" | strip_atime)" = "$(strip_atime <<< "$before")" ] && copies=$((copies + 1))
		[ -e "$dest/$name" ] && [ "$(meta "$dest/$name" | strip_atime)" = "$(strip_atime <<< "$before")" ] && copies=$((copies + 1))
		check "  at $p: at least one complete copy" eval '[ "$copies" -ge 1 ]'
		check "  at $p: no incomplete file under a final name in DIR" eval '[ ! -e "$dest/$name" ] ||
			[ "$(meta "$dest/$name" | strip_atime)" = "$(strip_atime <<< "$before")" ]'
		# No journal for clamscan-style moves: leftovers are hidden names.
		find "$S" "$dest" -name '.vigil-*' -delete
		rm -f "$f" "$dest/$name"
	done
}
dir_round link "$T/dest"
if mount_tmpfs "$T/fs" 16m; then
	dir_round copy "$T/fs"
else
	echo "note: mounting a tmpfs is not permitted here; --move=DIR across filesystems was not crash-tested"
fi

finish
