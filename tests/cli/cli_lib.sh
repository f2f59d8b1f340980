# cli_lib.sh - shared setup and assertions for the `vigil` CLI tests.
#
# Sourced by each test script, which is run by CTest as
#     bash test_x.sh /path/to/vigil
# Every script works in its own temporary folder, removed on exit, and stops
# every background process it started (by PID) before removing it.
#
# The tests check what a user sees against independent truth: EICAR built
# here (its MD5 is checked against the published value), clam.exe from
# Debian's clamav-testfiles, and Debian's clamscan run side by side on the
# same files with the same database.

set -u
export LC_ALL=C  # messages and byte handling independent of the machine's locale

VIGIL=${1:?usage: $0 /path/to/vigil}
case "$VIGIL" in /*) ;; *) VIGIL="$PWD/$VIGIL" ;; esac
CLAM_EXE=/usr/share/clamav-testfiles/clam.exe
EICAR_MD5=44d88612fea8a8f36de82e1278abb02f
CLAM_EXE_MD5=aa15bcf478d165efd2065190eb473bcb

T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-cli.XXXXXX") || exit 1
# Tests that drop privileges need to traverse and read the fixtures.
chmod 755 "$T"
BG_PIDS=""
FAILS=0
CHECKS=0

cleanup() {
	for pid in $BG_PIDS; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Remember a background process so that cleanup stops it.
track_pid() { BG_PIDS="$BG_PIDS $1"; }
stop_pid() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	BG_PIDS=$(printf '%s\n' $BG_PIDS | grep -vx "$1" | tr '\n' ' ')
}

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

have_clamscan() { command -v clamscan >/dev/null 2>&1; }
have_clam_exe() { [ -r "$CLAM_EXE" ] && [ "$(md5sum < "$CLAM_EXE" | cut -d' ' -f1)" = "$CLAM_EXE_MD5" ]; }

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

# Databases used by the tests, in $T/db:
#   test.hdb  MD5 of EICAR and of clam.exe (names as ClamAV's own docs use)
#   test.ndb  a body signature for "[CLAMAV]" inside clam.exe, and one for
#             the EICAR text
make_db() {
	mkdir -p "$T/db"
	printf '%s:68:Eicar-Test-Signature\n%s:544:Clam.Test.MD5\n' \
		"$EICAR_MD5" "$CLAM_EXE_MD5" > "$T/db/test.hdb"
	printf 'Clam.Test.Body-Any:0:*:5b434c414d41565d\nEicar.Test.Body:0:*:%s\n' \
		"$(printf 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE' | od -An -tx1 | tr -d ' \n')" \
		> "$T/db/test.ndb"
	chmod -R a+rX "$T/db"
}

# An empty configuration, so that no /etc/vigil/vigil.conf of the machine
# running the tests changes the results.
: > "$T/empty.conf"
chmod 644 "$T/empty.conf"

# vscan ARGS...: `vigil scan` with the test configuration; output in
# $T/out, $T/err, status in $RC.
vscan() {
	"$VIGIL" scan --config-file="$T/empty.conf" "$@" > "$T/out" 2> "$T/err"
	RC=$?
}

# Lines of a scan report without what legitimately differs between two runs
# or two programs: timings, dates, the engine version, and the "Data" lines
# (how much data an engine scans is its own affair).
strip_variable() {
	grep -v -E '^(Time|Start Date|End Date|Engine version|Data scanned|Data read):' "$@"
}

# same_as_clamscan DESCRIPTION ARGS...: run `vigil scan $VIGIL_ONLY ARGS`
# and `clamscan -r ARGS` in the current folder; stdout (minus
# strip_variable) and the exit status must be identical.
VIGIL_ONLY=""
same_as_clamscan() {
	local what=$1
	shift
	CHECKS=$((CHECKS + 1))
	"$VIGIL" scan --config-file="$T/empty.conf" $VIGIL_ONLY "$@" > "$T/v.out" 2> "$T/v.err"
	local vrc=$?
	clamscan -r "$@" > "$T/c.out" 2> "$T/c.err"
	local crc=$?
	if [ "$vrc" != "$crc" ]; then
		fail "$what: exit status vigil $vrc, clamscan $crc"
		sed 's/^/  vigil stderr: /' "$T/v.err" >&2
		return
	fi
	if ! diff -u <(strip_variable "$T/c.out") <(strip_variable "$T/v.out") > "$T/diff"; then
		fail "$what: output differs from clamscan (- clamscan, + vigil)"
		sed 's/^/  /' "$T/diff" >&2
		return
	fi
	pass "$what (exit $vrc)"
}

# Assertions on $T/out, $T/err, $RC.
rc_is() { [ "$RC" = "$1" ] || { echo "  exit status $RC, expected $1" >&2; return 1; }; }
out_has() { grep -q -x -F -- "$1" "$T/out" || { echo "  stdout lacks: $1" >&2; sed 's/^/  | /' "$T/out" >&2; return 1; }; }
out_lacks() { ! grep -q -F -- "$1" "$T/out" || { echo "  stdout has: $1" >&2; return 1; }; }
err_has() { grep -q -F -- "$1" "$T/err" || { echo "  stderr lacks: $1" >&2; sed 's/^/  | /' "$T/err" >&2; return 1; }; }
err_matches() { grep -q -E -- "$1" "$T/err" || { echo "  stderr does not match: $1" >&2; sed 's/^/  | /' "$T/err" >&2; return 1; }; }
out_matches() { grep -q -E -- "$1" "$T/out" || { echo "  stdout does not match: $1" >&2; sed 's/^/  | /' "$T/out" >&2; return 1; }; }
out_lines() { [ "$(wc -l < "$T/out")" -eq "$1" ] || { echo "  stdout has $(wc -l < "$T/out") lines, expected $1" >&2; sed 's/^/  | /' "$T/out" >&2; return 1; }; }
