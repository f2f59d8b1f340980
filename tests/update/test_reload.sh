#!/bin/bash
# After installing a release, vigil update asks a running vigild to reload
# (RELOAD on its socket, as clamd clients do); vigild then detects what only
# the new release can detect.
. "$(dirname "$0")/upd_lib.sh"
VIGILD=$(dirname "$VIGIL")/../vigild/vigild
[ -x "$VIGILD" ] || { echo "SKIP: no vigild next to vigil"; exit 77; }

full_release 1 || exit 1
start_server
update
check "baseline: release 1 installed" db_is 1

mkdir -p "$T/vd" "$T/tmp"
SOCK=$T/vd/vigild.sock
cat > "$T/vd/vigild.conf" <<CONF
LocalSocket $SOCK
Foreground yes
DatabaseDirectory $DB
BundledDatabase no
ClamAVDatabaseDirectory no
CacheDirectory no
SelfCheck 0
TemporaryDirectory $T/tmp
LogFile $T/vd/vigild.log
CONF
"$VIGILD" -c "$T/vd/vigild.conf" &
VPID=$!
BG_PIDS="$BG_PIDS $VPID"
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
check "vigild started" [ -S "$SOCK" ]

# a file only release 2's daily.ndb detects
printf 'xx vigil daily marker 2 yy\n' > "$T/marker2.txt"
scan_reply() {
	"$PY" - "$SOCK" "$T/marker2.txt" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(b"zSCAN " + sys.argv[2].encode() + b"\0")
data = b""
while not data.endswith(b"\0"):
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.rstrip(b"\0").decode())
PYEOF
}
r=$(scan_reply)
check "before the update: vigild says OK for the marker" [ "${r##*: }" = OK ]

full_release 2
"$VIGIL" update --config "$T/vigil.conf" --mirror "$URL" --root "$T/anchor.note" \
	--state-dir "$STATE" --db-dir "$DB" --notify-socket "$SOCK" >"$OUT" 2>"$ERR"
RC=$?
check "update with a running vigild: exit 0" rc_is 0
check "update: vigild answered the reload" out_has "vigild: RELOADING"
found=""
for _ in $(seq 1 100); do
	r=$(scan_reply)
	case $r in *"Vigil.Test.Daily2.UNOFFICIAL FOUND") found=1; break ;; esac
	sleep 0.1
done
check "after the reload: vigild detects release 2's signature" [ -n "$found" ]
kill "$VPID"
wait "$VPID" 2>/dev/null
BG_PIDS=$(printf '%s\n' $BG_PIDS | grep -vx "$VPID" | tr '\n' ' ')
finish
