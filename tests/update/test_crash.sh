#!/bin/bash
# Faults during install (trust-design §1.6 A29, A30): the update killed at
# every step (a test twin of vigil with crash points), and a disk that fills
# up while a file is written. Afterwards the database is release 1 or
# release 2 whole, never a mix, it loads, and the next run finishes the job.
. "$(dirname "$0")/upd_lib.sh"
[ -n "$CRASHTEST" ] || { echo "SKIP: no crash-test twin given"; exit 77; }

full_release 1 || exit 1
cp -a "$MIRROR" "$T/mirror-v1"
full_release 2
cp -a "$MIRROR" "$T/mirror-v2"
rm -rf "$MIRROR"
ln -s "$T/mirror-v1" "$MIRROR"
start_server

check "the shipped vigil has no crash points" \
	bash -c "! grep -q VIGIL_TEST_UPDATE_CRASH_AT '$VIGIL'"
check "the twin has them" grep -q VIGIL_TEST_UPDATE_CRASH_AT "$CRASHTEST"

printf "clean\n" > "$T/clean.txt"
loads() { "$VIGIL" scan --no-summary -d "$DB" "$T/clean.txt" >/dev/null 2>&1; }
whole() { db_is 1 || db_is 2; }

for step in verified staged swapped committed; do
	rm -rf "$STATE" "$T/var"
	ln -sfn "$T/mirror-v1" "$MIRROR"
	update
	[ "$RC" -eq 0 ] && db_is 1 || { fail "$step: setup (release 1) failed"; cat "$ERR"; continue; }
	ln -sfn "$T/mirror-v2" "$MIRROR"
	VIGIL_TEST_UPDATE_CRASH_AT=$step update_with "$CRASHTEST"
	check "A29 killed at '$step': the process died (SIGKILL)" rc_is 137
	check "A29 killed at '$step': database is one release, whole" whole
	check "A29 killed at '$step': database loads" loads
	case $step in
	verified | staged) check "A29 killed at '$step': still release 1" db_is 1 ;;
	*) check "A29 killed at '$step': already release 2" db_is 2 ;;
	esac
	update
	check "A29 after '$step': the next run succeeds" rc_is 0
	check "A29 after '$step': release 2 installed" db_is 2
	check "A29 after '$step': state says version 2" [ "$(state installed-version)" = 2 ]
	check "A29 after '$step': no staging folder left" bash -c "! ls -a '$T/var' | grep -q staging"
done

# A30: the database folder on a 256 KiB file system; release 3 carries a
# 1 MiB file
SMALL=$T/small
mkdir -p "$SMALL"
if mount -t tmpfs -o size=256k tmpfs "$SMALL" 2>/dev/null; then
	MOUNTS="$SMALL"
	rm -rf "$STATE"
	DB=$SMALL/db
	ln -sfn "$T/mirror-v2" "$MIRROR"
	update
	check "A30 setup: release 2 on the small file system" db_is 2
	snapshot
	rm -rf "$MIRROR" && cp -a "$T/mirror-v2" "$MIRROR"
	make_files 3
	head -c 1048576 /dev/zero | tr '\0' 'x' > "$T/src/3/big.ndb"
	vdb release -o "$T/rel3" --origin db.test --version 3 "$T/src/3/main.hdb" \
		"$T/src/3/daily.ndb" "$T/src/3/big.ndb" >/dev/null
	sign "$T/rel3/manifest.note" rel-a rel-b
	log_add "$T/rel3/manifest.note" && publish 3
	update
	check "A30 disk full: exit status 1" rc_is 1
	check "A30: says the disk is full" err_has "No space left on device"
	check "A30: database and state unchanged" unchanged
	check "A30: the partial files were removed" bash -c "! ls -a '$SMALL' | grep -q staging"
	check "A30: database still loads" loads
	umount "$SMALL" && MOUNTS=""
else
	echo "NOTE: A30 skipped: cannot mount a tmpfs here (needs root)"
fi
finish
