#!/bin/bash
# vigil update --clamav: ClamAV's official databases from a mirror served on
# 127.0.0.1, with ClamAV's own signed test databases (test-1..6.cvd and
# test-2..6.cdiff from ClamAV's source tree). The results are checked
# against the upstream files and against clamscan.
. "$(dirname "$0")/upd_lib.sh"

FIX=$HERE/../fixtures/clamav-upstream-cvd
CM=$T/clamav-mirror
CDB=$T/clamav-db
CSTATE=$T/clamav-state
mkdir -p "$CM" "$CDB"
cp "$FIX/test-6.cvd" "$CM/test.cvd"
for v in 2 3 4 5 6; do cp "$FIX/test-$v.cdiff" "$CM/"; done
cp "$FIX/test-1.cvd" "$CDB/test.cvd"

cupdate() { # cupdate [options]: vigil update --clamav against $URL; sets RC, OUT, ERR
	"$VIGIL" update --clamav --config "$T/vigil.conf" --mirror "$URL" --state-dir "$CSTATE" \
		--db-dir "$CDB" --database test --timeout 10 "$@" >"$OUT" 2>"$ERR"
	RC=$?
}
version_is() { # the installed test database (.cld or .cvd) has version V
	local f
	f=$(ls "$CDB"/test.cld "$CDB"/test.cvd 2>/dev/null | head -1)
	[ -n "$f" ] && "$VIGIL" db info "$f" | grep -qx "Version: $1" ||
		{ echo "version of $f is not $1:" >&2; "$VIGIL" db info "$f" >&2; return 1; }
}
requests() { grep -c . "$REQLOG" 2>/dev/null || echo 0; }
# every request of the run carried a Range header asking for the first 512 bytes
only_ranged() {
	[ -s "$REQLOG" ] && ! grep -v "Range: bytes=0-511" "$REQLOG" | grep -q .
}
no_identifier() {
	! grep -qi "uuid\|cookie\|x-clamav" "$REQLOG" && grep -q "User-Agent: vigil/" "$REQLOG"
}
db_files() { (cd "$CDB" && ls -A); }

# the same members as upstream test-6.cvd (unpacked by ClamAV's sigtool
# when installed, else by vigil db unpack)
same_members_as_6() {
	rm -rf "$T/u6" "$T/ul"
	mkdir -p "$T/u6" "$T/ul"
	if command -v sigtool >/dev/null; then
		(cd "$T/u6" && sigtool --unpack "$FIX/test-6.cvd" >/dev/null 2>&1) || return 1
	else
		"$VIGIL" db unpack -C "$T/u6" "$FIX/test-6.cvd" >/dev/null || return 1
	fi
	"$VIGIL" db unpack -C "$T/ul" "$1" >/dev/null && diff -r "$T/u6" "$T/ul" >&2
}

start_server "$CM"

# ---- 1..6 through the cdiffs ----
: > "$REQLOG"
cupdate
check "cdiffs: exit 0" rc_is 0
check "cdiffs: each applied" out_has "test: applied test-6.cdiff (version 6)"
check "cdiffs: version 6 installed (vigil db info)" version_is 6
check "cdiffs: only test.cld left" [ "$(db_files)" = test.cld ]
check "cdiffs: members equal upstream test-6.cvd's" same_members_as_6 "$CDB/test.cld"
check "cdiffs: header read with a Range request" grep -q "GET /test.cvd .*Range: bytes=0-511" "$REQLOG"
check "cdiffs: the whole test.cvd never downloaded" \
	bash -c "! grep '^GET /test.cvd ' '$REQLOG' | grep -qv 'Range: bytes=0-511'"
check "no client identifier, vigil's User-Agent" no_identifier
# the result detects what clamscan detects with upstream test-6.cvd
cp /usr/share/clamav-testfiles/clam.exe "$T/clam.exe" 2>/dev/null
printf 'X5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > "$T/eicar.com"
if [ -f "$T/clam.exe" ] && command -v clamscan >/dev/null; then
	clamscan --no-summary -d "$FIX/test-6.cvd" "$T/clam.exe" "$T/eicar.com" 2>/dev/null |
		sort > "$T/clamscan.out"
	"$VIGIL" scan --no-summary -d "$CDB" "$T/clam.exe" "$T/eicar.com" 2>/dev/null |
		sort > "$T/vigil.out"
	check "scan with the result: clamscan found something" grep -q "Clamav.Test.File-6 FOUND" "$T/clamscan.out"
	check "scan with the result = clamscan with upstream test-6.cvd" diff "$T/clamscan.out" "$T/vigil.out"
else
	echo "note: clamscan or clamav-testfiles missing, scan comparison skipped"
fi

# ---- up to date: only the header is read ----
: > "$REQLOG"
cupdate
check "up to date: exit 0" rc_is 0
check "up to date: says so" out_has "test: up to date (version 6)"
check "up to date: one request, ranged" [ "$(requests)" -eq 1 ]
check "up to date: only ranged requests" only_ranged

# a server that ignores Range: the client stops after the header
rules '{"/test.cvd": {"norange": true}}'
cupdate
check "server ignoring Range: exit 0" rc_is 0
check "server ignoring Range: still up to date" out_has "test: up to date (version 6)"
no_rules

# ---- a cdiff missing: the whole .cvd instead ----
rm -f "$CDB"/*
cp "$FIX/test-3.cvd" "$CDB/test.cvd"
rm "$CM/test-5.cdiff"
: > "$REQLOG"
cupdate
check "missing cdiff: exit 0" rc_is 0
check "missing cdiff: 4 applied first" out_has "test: applied test-4.cdiff (version 4)"
check "missing cdiff: says it falls back" out_has "test-5.cdiff: not on the mirror; downloading the whole test.cvd instead"
check "missing cdiff: version 6 installed" version_is 6
check "missing cdiff: test.cvd is upstream test-6.cvd" cmp "$CDB/test.cvd" "$FIX/test-6.cvd"
check "missing cdiff: the older .cld removed" [ "$(db_files)" = test.cvd ]
cp "$FIX/test-5.cdiff" "$CM/"

# ---- a cdiff that does not verify: the whole .cvd instead ----
rm -f "$CDB"/*
cp "$FIX/test-1.cvd" "$CDB/test.cvd"
cp "$FIX/test-3.cdiff" "$CM/test-2.cdiff" # signed, but for the wrong version
cupdate
check "wrong cdiff: exit 0" rc_is 0
check "wrong cdiff: refused with a reason" err_has "test-2.cdiff refused:"
check "wrong cdiff: whole file installed" cmp "$CDB/test.cvd" "$FIX/test-6.cvd"
cp "$FIX/test-2.cdiff" "$CM/"

# ---- a tampered .cvd on the mirror: refused, the old database intact ----
rm -f "$CDB"/*
cp "$FIX/test-1.cvd" "$CDB/test.cvd"
rm "$CM"/test-*.cdiff
"$PY" - "$FIX/test-6.cvd" "$CM/test.cvd" <<'PYEOF'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[len(d) - 100] ^= 0x01  # one bit of the compressed payload
open(sys.argv[2], "wb").write(d)
PYEOF
before=$(cd "$CDB" && sha256sum -- *)
cupdate
check "tampered .cvd: exit 1" rc_is 1
check "tampered .cvd: refused, nothing installed" err_has "test.cvd from $URL refused:"
check "tampered .cvd: says the database is unchanged" err_has "Nothing was installed; the database in $CDB is unchanged"
check "tampered .cvd: old database intact, no leftovers" [ "$(cd "$CDB" && sha256sum -- *)" = "$before" ]
check "tampered .cvd: no temporary file left" [ "$(db_files)" = test.cvd ]

# ---- an older .cvd than announced (rollback): refused ----
cp "$FIX/test-6.cvd" "$CM/test.cvd"
rm -f "$CDB"/* && cp "$FIX/test-4.cvd" "$CDB/test.cvd"
"$PY" - "$FIX/test-6.cvd" "$FIX/test-3.cvd" "$T/roll.cvd" <<'PYEOF'
import sys
# the header of 6 (so the version check says "newer"), the body of 3
h6 = open(sys.argv[1], "rb").read()[:512]
d3 = open(sys.argv[2], "rb").read()
open(sys.argv[3], "wb").write(h6 + d3[512:])
PYEOF
cp "$T/roll.cvd" "$CM/test.cvd"
cupdate
check "header of 6, body of 3: refused" rc_is 1
check "header of 6, body of 3: database 4 intact" cmp "$CDB/test.cvd" "$FIX/test-4.cvd"
cp "$FIX/test-6.cvd" "$CM/test.cvd"

# ---- HTTP 403: stop, say the mirror refused this client ----
rules '{"/test.cvd": {"status": 403}}'
cupdate
check "403: exit 1" rc_is 1
check "403: says the mirror refuses this client" err_has "answered HTTP 403: it refuses this client"
check "403: database intact" cmp "$CDB/test.cvd" "$FIX/test-4.cvd"

# ---- HTTP 429 with Retry-After: back off, no request before the time ----
rules '{"/test.cvd": {"status": 429, "headers": {"Retry-After": "3600"}}}'
: > "$REQLOG"
cupdate
check "429: exit 1" rc_is 1
check "429: says when it will try again" err_has "answered HTTP 429 (too many requests): vigil will not contact it before"
check "429: the Retry-After recorded in the state" \
	bash -c "v=\$('$PY' -c \"import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\\\"SELECT value FROM state WHERE key='clamav-retry-after'\\\").fetchone()[0].decode())\" '$CSTATE/state.sqlite'); now=\$(date +%s); [ \$v -gt \$((now + 3000)) ] && [ \$v -le \$((now + 3600)) ]"
n=$(requests)
no_rules
cupdate
check "429, second run: exit 1" rc_is 1
check "429, second run: explains the wait" err_has "the ClamAV mirror asked vigil to wait (HTTP 429): no request before"
check "429, second run: the mirror was not contacted" [ "$(requests)" -eq "$n" ]
check "429, second run: database intact" cmp "$CDB/test.cvd" "$FIX/test-4.cvd"

# ---- bad input ----
"$VIGIL" update --clamav --config "$T/vigil.conf" --mirror "$URL" --state-dir "$T/st2" \
	--db-dir "$CDB" --database ../etc >"$OUT" 2>"$ERR"
RC=$?
check "database name with a slash: exit 2" rc_is 2
check "database name with a slash: explained" err_has "database name '../etc': letters, digits and '_' only"
"$VIGIL" update --config "$T/vigil.conf" --mirror "$URL" --state-dir "$T/st2" --database test >"$OUT" 2>"$ERR"
RC=$?
check "--database without --clamav: exit 2" rc_is 2
"$VIGIL" update --clamav --config "$T/vigil.conf" --state-dir "$T/st2" --db-dir "$CDB" >"$OUT" 2>"$ERR"
RC=$?
check "no ClamAV mirror: says which key to set" err_has "add 'ClamAVMirror https://...'"
# a mirror that is not a ClamAV mirror
printf 'hello\n' > "$CM/nothing.cvd"
"$VIGIL" update --clamav --config "$T/vigil.conf" --mirror "$URL" --state-dir "$T/st2" \
	--db-dir "$CDB" --database nothing --timeout 10 >"$OUT" 2>"$ERR"
RC=$?
check "not a container header: exit 1" rc_is 1
check "not a container header: explained" err_has "does not start with a ClamAV container header"

# ---- the configuration keys ----
printf 'ClamAVMirror %s\nClamAVDatabase test\nClamAVDatabaseDirectory %s\nUpdateStateDirectory %s\n' \
	"$URL" "$T/confdb" "$T/st3" > "$T/c.conf"
mkdir -p "$T/confdb" && cp "$FIX/test-5.cvd" "$T/confdb/test.cvd"
"$VIGIL" update --clamav --config "$T/c.conf" --timeout 10 >"$OUT" 2>"$ERR"
RC=$?
check "from vigil.conf: exit 0" rc_is 0
check "from vigil.conf: whole file (no cdiffs left on the mirror)" cmp "$T/confdb/test.cvd" "$FIX/test-6.cvd"
finish
