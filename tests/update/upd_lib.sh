# upd_lib.sh - shared setup for the update tests: a publisher with real keys
# (vigil db keygen/root/release/sign/log/publish), a mirror served over HTTP
# on 127.0.0.1 by mirror_server.py, and the client under test (vigil update)
# with its own state and database folders.
#
# Sourced by each test, run by CTest as
#     bash test_x.sh /path/to/vigil [/path/to/vigil-update-crashtest]
# Every test works in its own temporary folder and stops the servers it
# started, by PID.

set -u
export LC_ALL=C

VIGIL=${1:?usage: $0 /path/to/vigil [crashtest-vigil]}
CRASHTEST=${2:-}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -x "$PY" ] || { echo "SKIP: $PY missing"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-upd.XXXXXX") || exit 1
BG_PIDS=""
FAILS=0
CHECKS=0
MOUNTS=""

cleanup() {
	for pid in $BG_PIDS; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for m in $MOUNTS; do umount "$m" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { FAILS=$((FAILS + 1)); printf 'FAIL: %s\n' "$*" >&2; }
pass() { printf 'ok: %s\n' "$*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
	echo "$CHECKS checks, $FAILS failed"
	[ "$FAILS" -eq 0 ]
	exit $?
}

# ---- publisher ----

EICAR_MD5=44d88612fea8a8f36de82e1278abb02f
KEYS=$T/keys
ROOTS=$T/roots
LOG=$T/log
MIRROR=$T/mirror
mkdir -p "$KEYS" "$ROOTS" "$T/src"

vdb() { "$VIGIL" db "$@"; }

make_keys() { # make_keys NAME... (a name starting with w is a witness key)
	local k
	for k in "$@"; do
		case $k in
		w*) vdb keygen --witness -d "$KEYS" "$k" >/dev/null ;;
		*) vdb keygen -d "$KEYS" "$k" >/dev/null ;;
		esac || { echo "keygen $k failed" >&2; exit 1; }
	done
}
make_keys root-a root-b root-c rel-a rel-b rel-c ts log w1 w2 w3

# root_body FILE VERSION [--root-key ... overrides] : the default layout is
# root 2-of-3, release 2-of-3, timestamp 1-of-1, witnesses 2-of-3.
ROOT_KEYS=(--root-key "$KEYS/root-a.pub" --root-key "$KEYS/root-b.pub" --root-key "$KEYS/root-c.pub" --root-threshold 2)
REL_KEYS=(--release-key "$KEYS/rel-a.pub" --release-key "$KEYS/rel-b.pub" --release-key "$KEYS/rel-c.pub" --release-threshold 2)
TS_KEYS=(--timestamp-key "$KEYS/ts.pub")
W_KEYS=(--witness-key "$KEYS/w1.pub" --witness-key "$KEYS/w2.pub" --witness-key "$KEYS/w3.pub" --witness-threshold 2)
root_body() {
	local file=$1 version=$2
	shift 2
	vdb root -o "$file" --origin db.test --version "$version" --log-key "$KEYS/log.pub" \
		"$@" >/dev/null
}
sign() { # sign NOTE KEY...
	local note=$1 k
	shift
	for k in "$@"; do vdb sign --key "$KEYS/$k.key" "$note" >/dev/null || return 1; done
}
# the first root, signed by root-a and root-b
root_body "$ROOTS/1.note" 1 "${ROOT_KEYS[@]}" "${REL_KEYS[@]}" "${TS_KEYS[@]}" "${W_KEYS[@]}"
sign "$ROOTS/1.note" root-a root-b
cp "$ROOTS/1.note" "$T/anchor.note"

# Signature files of release V: main.hdb (EICAR's MD5, the same in every
# release) and daily.ndb (changes with V).
make_files() {
	local v=$1
	mkdir -p "$T/src/$v"
	printf '%s:68:Eicar-Test-Signature\n' "$EICAR_MD5" > "$T/src/$v/main.hdb"
	printf 'Vigil.Test.Daily%s:0:*:%s\n' "$v" \
		"$(printf 'vigil daily marker %s' "$v" | od -An -tx1 | tr -d ' \n')" > "$T/src/$v/daily.ndb"
}

# release V [release keys...] : rel$V/manifest.note signed (default rel-a rel-b)
release() {
	local v=$1
	shift
	local keys=("$@")
	[ ${#keys[@]} -gt 0 ] || keys=(rel-a rel-b)
	make_files "$v"
	rm -rf "$T/rel$v"
	vdb release -o "$T/rel$v" --origin db.test --version "$v" ${REL_EXTRA:-} \
		"$T/src/$v/main.hdb" "$T/src/$v/daily.ndb" >/dev/null || return 1
	sign "$T/rel$v/manifest.note" "${keys[@]}"
}

# log_add MANIFEST [witness keys...] : append and cosign (default w1 w2)
log_add() {
	local m=$1
	shift
	local w=("$@")
	[ ${#w[@]} -gt 0 ] || w=(w1 w2)
	vdb log --log "$LOG" --key "$KEYS/log.key" "$m" >/dev/null || return 1
	sign "$LOG/checkpoint" "${w[@]}"
}

# publish V [extra publish options] : release V into $MIRROR
publish() {
	local v=$1
	shift
	vdb publish -o "$MIRROR" --release "$T/rel$v" --log "$LOG" --roots "$ROOTS" \
		--timestamp-key "$KEYS/ts.key" "$@" >/dev/null
}

# full_release V : release, log, publish with the default keys
full_release() { release "$1" && log_add "$T/rel$1/manifest.note" && publish "$1"; }

# ---- mirror server ----

RULES=$T/rules.json
REQLOG=$T/requests.log
start_server() { # start_server [ROOT [RULES]]: sets URL
	local root=${1:-$MIRROR} rulesfile=${2:-$RULES} portfile=$T/port.$RANDOM
	mkdir -p "$root"
	"$PY" "$HERE/mirror_server.py" "$root" "$portfile" "$REQLOG" "$rulesfile" &
	local pid=$!
	BG_PIDS="$BG_PIDS $pid"
	for _ in $(seq 1 100); do
		[ -s "$portfile" ] && break
		sleep 0.1
	done
	[ -s "$portfile" ] || { echo "mirror server did not start" >&2; exit 1; }
	URL="http://127.0.0.1:$(cat "$portfile")"
}
rules() { printf '%s\n' "$1" > "$RULES"; }
no_rules() { rm -f "$RULES"; }

# ---- client ----

STATE=$T/state
DB=$T/var/db
printf '# vigil.conf for the update tests\n' > "$T/vigil.conf"
OUT=$T/out
ERR=$T/err
RC=0
update() { # update [options]: runs vigil update against $URL; sets RC, OUT, ERR
	"$VIGIL" update --config "$T/vigil.conf" --mirror "$URL" --root "$T/anchor.note" \
		--state-dir "$STATE" --db-dir "$DB" --no-reload --timeout 10 "$@" >"$OUT" 2>"$ERR"
	RC=$?
}
update_with() { # update_with BINARY [options]
	local bin=$1
	shift
	"$bin" update --config "$T/vigil.conf" --mirror "$URL" --root "$T/anchor.note" \
		--state-dir "$STATE" --db-dir "$DB" --no-reload --timeout 10 "$@" >"$OUT" 2>"$ERR"
	RC=$?
}

state() { # state KEY: a value from the client's state database
	"$PY" - "$STATE/state.sqlite" "$1" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT value FROM state WHERE key=?", (sys.argv[2],)).fetchone()
v = row[0] if row else b""
sys.stdout.write(v.decode() if isinstance(v, bytes) else str(v))
PYEOF
}

# A fingerprint of the installed database: names and SHA-256 of its files.
db_print() { (cd "$DB/" 2>/dev/null && sha256sum -- * 2>/dev/null) | sort; }
# The installed files are exactly those of release V.
db_is() {
	[ "$(db_print)" = "$(cd "$T/src/$1" && sha256sum -- * | sort)" ]
}
rc_is() { [ "$RC" -eq "$1" ] || { echo "exit status $RC, expected $1" >&2; cat "$ERR" >&2; return 1; }; }
err_has() { grep -qF -- "$1" "$ERR" || { echo "stderr lacks '$1':" >&2; cat "$ERR" >&2; return 1; }; }
out_has() { grep -qF -- "$1" "$OUT" || { echo "stdout lacks '$1':" >&2; cat "$OUT" >&2; return 1; }; }

# refused FAULT: the update was refused with that fault's message, and
# nothing changed: same database files, same state.
SNAP_DB=""
SNAP_STATE=""
snapshot() {
	SNAP_DB=$(db_print)
	SNAP_STATE=$(for k in installed-version manifest-version timestamp-version root-version checkpoint; do state "$k"; echo; done)
}
unchanged() {
	[ "$(db_print)" = "$SNAP_DB" ] || { echo "database changed" >&2; return 1; }
	[ "$(for k in installed-version manifest-version timestamp-version root-version checkpoint; do state "$k"; echo; done)" = "$SNAP_STATE" ] ||
		{ echo "state changed" >&2; return 1; }
}
refused() { # refused WHAT FAULT-TEXT
	check "$1: exit status 1" rc_is 1
	check "$1: message names the fault ($2)" err_has "update refused ($2)"
	check "$1: database and state unchanged" unchanged
}
