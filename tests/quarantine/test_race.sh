#!/bin/bash
# Races between the scan and the action, staged with the test-only stop
# points of vigil-crashtest (VIGIL_TEST_STOP_AT=NAME: the process stops
# itself there; the test changes files, then sends SIGCONT):
#   - a folder on the path replaced by a symlink (the CVE-2020-3350 class:
#     tricking an antivirus into moving or deleting another file);
#   - the file replaced by a symlink, or by another file;
#   - the file modified after it was copied, before the original is removed.
# In every case nothing but the scanned file may be touched, the original
# is not removed, and the summary counts it as not moved/removed.
. "$(dirname "$0")/q_lib.sh"

[ -n "$CRASHTEST" ] || skip "no vigil-crashtest given"
make_db
Q="$T/store"
mkdir -p "$T/victim"
cd "$T" || exit 1
echo "precious data that must never be moved or deleted" > "$T/victim/a.com"
cp "$T/victim/a.com" "$T/victim/b.com"
victim_sum=$(cat "$T/victim"/* | sha256sum)

state_of() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1; }

# staged POINT ARGS...: start vigil-crashtest scan ARGS in the background,
# wait until it stops at POINT. Then the caller changes files and calls
# resume, which sets $RC.
staged() {
	local point=$1
	shift
	VIGIL_TEST_STOP_AT=$point "$CRASHTEST" scan --config-file="$T/empty.conf" -d "$T/db" \
		"$@" > "$T/out" 2> "$T/err" &
	PID=$!
	track_pid "$PID"
	for _ in $(seq 1 200); do
		[ "$(state_of "$PID")" = T ] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "vigil-crashtest did not stop at $point"
	sed 's/^/  | /' "$T/err" >&2
	return 1
}
resume() {
	kill -CONT "$PID"
	wait "$PID"
	RC=$?
	untrack_pid "$PID"
}

victims_intact() { [ "$(cat "$T/victim"/* | sha256sum)" = "$victim_sum" ]; }

# --- a folder on the path becomes a symlink ---------------------------------------
for action in "--move --quarantine-dir=$Q" "--move=$T/victim" "--remove"; do
	rm -rf t && mkdir -p t/sub
	make_eicar t/sub/a.com
	# shellcheck disable=SC2086
	staged action.begin $action t/sub/a.com || continue
	mv t/sub t/sub.real
	ln -s "$T/victim" t/sub
	resume
	check "[$action] folder swapped for a symlink: refused, counted" eval '[ "$RC" = 1 ] &&
		grep -q "symbolic link" "$T/err" && grep -q "^Not \(moved\|removed\): 1$" "$T/out"'
	check "[$action] ... the file behind the link is untouched" victims_intact
	check "[$action] ... the scanned file is still there" test -f t/sub.real/a.com
done
check "nothing went into the store" eval '[ -z "$(store_ids "$Q")" ]'

# --- the file becomes a symlink ------------------------------------------------------
for action in "--move --quarantine-dir=$Q" "--move=$T/dest" "--remove"; do
	rm -rf t "$T/dest" && mkdir -p t "$T/dest"
	make_eicar t/b.com
	# shellcheck disable=SC2086
	staged action.begin $action t/b.com || continue
	mv t/b.com t/b.real
	ln -s "$T/victim/b.com" t/b.com
	resume
	check "[$action] file swapped for a symlink: refused" eval '[ "$RC" = 1 ] &&
		grep -q "symbolic link" "$T/err" && [ -L t/b.com ] && [ -f t/b.real ]'
	check "[$action] ... the link's target is untouched" victims_intact
	check "[$action] ... nothing arrived in DIR" eval '[ -z "$(ls -A "$T/dest")" ]'
done

# --- the file is replaced by another one -----------------------------------------------
for action in "--move --quarantine-dir=$Q" "--move=$T/dest" "--remove"; do
	rm -rf t "$T/dest" && mkdir -p t "$T/dest"
	make_eicar t/c.com
	# shellcheck disable=SC2086
	staged action.begin $action t/c.com || continue
	mv t/c.com t/c.old
	echo "a new, clean file that took the name" > t/c.com
	resume
	check "[$action] file replaced by another: refused as changed" eval '[ "$RC" = 1 ] &&
		grep -q "changed since it was scanned" "$T/err"'
	check "[$action] ... both files are still there" eval '[ -f t/c.old ] &&
		[ "$(cat t/c.com)" = "a new, clean file that took the name" ]'
done
check "still nothing in the store" eval '[ -z "$(store_ids "$Q")" ]'

# --- modified after the copy, before the original goes ------------------------------------
rm -rf t && mkdir -p t
make_eicar t/d.com
scanned_sum=$(sha256sum < t/d.com)
if staged store.indexed --move --quarantine-dir="$Q" t/d.com; then
	echo "appended after the copy was made" >> t/d.com
	changed_sum=$(sha256sum < t/d.com)
	resume
	check "store: modified between copy and unlink: not removed, counted" eval '[ "$RC" = 1 ] &&
		grep -q "changed since it was scanned" "$T/err" && grep -q "^Not moved: 1$" "$T/out"'
	check "... the modified original is in place" eval '[ "$(sha256sum < t/d.com)" = "$changed_sum" ]'
	check "... the content as scanned is kept in the store, and says so" \
		eval 'grep -q "kept as quarantine item" "$T/err" && [ "$(store_ids "$Q" | wc -l)" = 1 ]'
	vq "$Q" restore "$(store_ids "$Q")" --to "$T/scanned-copy"
	check "... and restores to exactly what was scanned" eval '[ "$(sha256sum < "$T/scanned-copy")" = "$scanned_sum" ]'
	check "... journal closed" eval '[ "$(journal_rows "$Q")" = 0 ]'
fi

rm -rf t "$T/dest" && mkdir -p t "$T/dest"
make_eicar t/e.com
if staged dir.linked --move="$T/dest" t/e.com; then
	echo "appended" >> t/e.com
	resume
	check "--move=DIR: modified after linking: the original is not removed" eval '[ "$RC" = 1 ] &&
		[ -f t/e.com ] && grep -q "changed since it was scanned" "$T/err" && grep -q "^Not moved: 1$" "$T/out"'
fi
if mount_tmpfs "$T/fs" 8m; then
	rm -rf t && mkdir -p t
	make_eicar t/f.com
	scanned_sum=$(sha256sum < t/f.com)
	if staged dir.published --move="$T/fs" t/f.com; then
		echo "appended" >> t/f.com
		resume
		check "--move=DIR across filesystems: modified after the copy: original not removed" \
			eval '[ "$RC" = 1 ] && [ -f t/f.com ] && grep -q "changed since it was scanned" "$T/err"'
		check "... the copy of what was scanned is kept, and named" eval '
			[ "$(sha256sum < "$T/fs/f.com")" = "$scanned_sum" ] && grep -q "kept as '"'"'$T/fs/f.com'"'"'" "$T/err"'
	fi
fi

finish
