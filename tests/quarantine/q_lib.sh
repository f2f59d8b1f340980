# q_lib.sh - shared setup and assertions for the quarantine tests.
#
# Sourced by each test script, which CTest runs as
#     bash test_x.sh /path/to/vigil /path/to/vigil-crashtest
# vigil-crashtest is vigil linked with the test twin of vt_quarantine, whose
# crash points (VIGIL_TEST_CRASH_AT, VIGIL_TEST_STOP_AT) exist only there.
#
# Every script works in its own temporary folder, unmounts what it mounted,
# stops the processes it started (by PID) and removes the folder on exit.
# Nothing here touches /var/lib/vigil: every store is inside the folder, and
# VIGIL_QUARANTINE_DIR points there too in case an option is forgotten.

set -u
export LC_ALL=C

VIGIL=${1:?usage: $0 /path/to/vigil [/path/to/vigil-crashtest]}
CRASHTEST=${2:-}
case "$VIGIL" in /*) ;; *) VIGIL="$PWD/$VIGIL" ;; esac
case "$CRASHTEST" in /* | "") ;; *) CRASHTEST="$PWD/$CRASHTEST" ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EICAR_MD5=44d88612fea8a8f36de82e1278abb02f

T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-q.XXXXXX") || exit 1
chmod 755 "$T"
export VIGIL_QUARANTINE_DIR="$T/default-store"
BG_PIDS=""
MOUNTS=""
FAILS=0
CHECKS=0

cleanup() {
	for pid in $BG_PIDS; do
		kill -CONT "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for m in $MOUNTS; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

track_pid() { BG_PIDS="$BG_PIDS $1"; }
untrack_pid() { BG_PIDS=$(printf '%s\n' $BG_PIDS | grep -vx "$1" | tr '\n' ' '); }

fail() {
	FAILS=$((FAILS + 1))
	printf 'FAIL: %s\n' "$*" >&2
}
pass() { printf 'ok: %s\n' "$*"; }

check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then pass "$what"; else fail "$what"; fi
}

finish() {
	if [ "$FAILS" -gt 0 ]; then
		printf '%d of %d checks failed\n' "$FAILS" "$CHECKS" >&2
		exit 1
	fi
	printf 'all %d checks passed\n' "$CHECKS"
	exit 0
}

skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

is_root() { [ "$(id -u)" = 0 ]; }

# The EICAR test file, built here and checked against its published MD5.
make_eicar() { # make_eicar PATH
	printf 'X5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > "$1"
	local sum
	sum=$(md5sum < "$1" | cut -d' ' -f1)
	if [ "$sum" != "$EICAR_MD5" ]; then
		echo "EICAR built wrongly (md5 $sum)" >&2
		exit 1
	fi
}

MARKER='VIGIL-QUARANTINE-TEST-MARKER-9f1c'

# A bigger "infected" file: SIZE zero bytes with $MARKER inside (found by
# the body signature in $T/db/test.ndb). Not random: random bytes can look
# like some file format, and then clamscan -z reports matches twice.
make_big_infected() { # make_big_infected PATH SIZE
	head -c "$2" /dev/zero > "$1"
	printf '%s' "$MARKER" | dd of="$1" bs=1 seek=1000 conv=notrunc status=none
}

# $T/db: EICAR by MD5 (Eicar-Test-Signature), $MARKER as a body signature
# (Vigil.Test.Marker).
make_db() {
	mkdir -p "$T/db"
	printf '%s:68:Eicar-Test-Signature\n' "$EICAR_MD5" > "$T/db/test.hdb"
	printf 'Vigil.Test.Marker:0:*:%s\n' \
		"$(printf '%s' "$MARKER" | od -An -tx1 | tr -d ' \n')" > "$T/db/test.ndb"
	chmod -R a+rX "$T/db"
}

# Give a file everything a round trip must keep: owner nobody (as root),
# set-uid mode, distinct old atime and mtime, and extended attributes (a
# user one always, a trusted one as root).
dress() { # dress PATH
	if is_root; then
		chown 65534:65534 "$1"
		chmod 4751 "$1"
	else
		chmod 0751 "$1"
	fi
	python3 - "$1" <<'PY'
import os, sys
p = sys.argv[1]
os.setxattr(p, "user.vigil-test", b"kept \x00\xff bytes")
if os.geteuid() == 0:
    os.setxattr(p, "trusted.vigil-test", b"root only")
PY
	touch -a -d '2020-01-02 03:04:05.123456789' "$1"
	touch -m -d '2021-02-03 04:05:06.987654321' "$1"
}

meta() { python3 "$HERE/meta.py" "$@"; }

: > "$T/empty.conf"
chmod 644 "$T/empty.conf"

# vscan ARGS...: `vigil scan` with the test configuration and database;
# output in $T/out, $T/err, status in $RC.
vscan() {
	"$VIGIL" scan --config-file="$T/empty.conf" -d "$T/db" "$@" > "$T/out" 2> "$T/err"
	RC=$?
}

# vq STORE ARGS...: `vigil quarantine`; output in $T/qout, $T/qerr, status in $QRC.
vq() {
	local store=$1
	shift
	"$VIGIL" quarantine --config-file="$T/empty.conf" --quarantine-dir="$store" "$@" \
		> "$T/qout" 2> "$T/qerr"
	QRC=$?
}

# Item ids in a store, one per line.
store_ids() { # store_ids STORE
	"$VIGIL" quarantine --config-file="$T/empty.conf" --quarantine-dir="$1" list 2>/dev/null |
		cut -d' ' -f1
}

# Rows of the store's journal (python's sqlite3: no extra package).
journal_rows() { # journal_rows STORE
	python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM journal").fetchone()[0])' "$1/index.sqlite"
}

# Mount a tmpfs of SIZE on DIR; returns 1 when mounting is not permitted.
mount_tmpfs() { # mount_tmpfs DIR SIZE
	mkdir -p "$1"
	if mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" 2>/dev/null; then
		MOUNTS="$1 $MOUNTS"
		return 0
	fi
	return 1
}

# Assertions on $T/out, $T/err, $RC.
rc_is() { [ "$RC" = "$1" ] || { echo "  exit status $RC, expected $1" >&2; sed 's/^/  | /' "$T/err" >&2; return 1; }; }
out_has() { grep -q -x -F -- "$1" "$T/out" || { echo "  stdout lacks: $1" >&2; sed 's/^/  | /' "$T/out" >&2; return 1; }; }
out_matches() { grep -q -E -- "$1" "$T/out" || { echo "  stdout does not match: $1" >&2; sed 's/^/  | /' "$T/out" >&2; return 1; }; }
out_lacks() { ! grep -q -F -- "$1" "$T/out" || { echo "  stdout has: $1" >&2; return 1; }; }
err_has() { grep -q -F -- "$1" "$T/err" || { echo "  stderr lacks: $1" >&2; sed 's/^/  | /' "$T/err" >&2; return 1; }; }
qout_matches() { grep -q -E -- "$1" "$T/qout" || { echo "  stdout does not match: $1" >&2; sed 's/^/  | /' "$T/qout" >&2; return 1; }; }
qerr_has() { grep -q -F -- "$1" "$T/qerr" || { echo "  stderr lacks: $1" >&2; sed 's/^/  | /' "$T/qerr" >&2; return 1; }; }
same_text() { # same_text A B: two strings, shown as a diff when not equal
	[ "$1" = "$2" ] || { diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | sed 's/^/  /' >&2; return 1; }
}
