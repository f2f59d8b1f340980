#!/bin/bash
# Transfer attacks (trust-design §1.6 A1-A4, A31): a tampered blob, endless
# data in place of a blob or of the timestamp, a mirror that trickles bytes,
# hostile redirects, and a mirror that refuses service; then a second mirror
# that behaves.
. "$(dirname "$0")/upd_lib.sh"

full_release 1 || exit 1
start_server
update
check "baseline: release 1 installed" db_is 1
full_release 2
snapshot
h2=$(sha256sum < "$T/src/2/daily.ndb" | cut -c1-64)

# A1: one byte of daily.ndb's blob flipped on the mirror
cp "$MIRROR/blob/$h2" "$T/blob.good"
"$PY" -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[5]^=1; open(p,'wb').write(b)" "$MIRROR/blob/$h2"
update
refused "A1 tampered blob" "hash mismatch"
check "A1: names the file" err_has "daily.ndb: hash mismatch"
check "A1: no staging folder left behind" bash -c "! ls -a '$T/var' | grep -q staging"
cp "$T/blob.good" "$MIRROR/blob/$h2"

# A2: the blob followed by 1 MiB more, chunked (no length to trust)
rules "{\"/blob/$h2\": {\"extra\": 1048576}}"
update
refused "A2 endless blob" "hash mismatch"
check "A2: stopped at the listed size" err_has "more than the"

# A3: 10 MiB of timestamp
rules '{"/timestamp.note": {"endless": true}}'
update
refused "A3 endless timestamp" "malformed"
check "A3: stopped at 4096 bytes" err_has "larger than 4096 bytes"

# A4: a mirror that sends one byte every 2 seconds (timeout 3 s)
rules '{"/timestamp.note": {"slow": true}}'
update --timeout 3
check "A4 slow mirror: exit status 1" rc_is 1
check "A4: the transfer was cut off" bash -c "grep -qiE 'timeout|too slow|timed out' '$ERR'"
check "A4: database and state unchanged" unchanged

# A31: redirects to file://, and a redirect loop
rules '{"/timestamp.note": {"redirect": "file:///etc/passwd"}}'
update
check "A31 redirect to file://: exit status 1" rc_is 1
check "A31: the redirect was not followed" bash -c "grep -qiE 'protocol|not supported|disabled' '$ERR'"
check "A31: database and state unchanged" unchanged
rules '{"/timestamp.note": {"redirect": "/timestamp.note"}}'
update
check "A31 redirect loop: exit status 1" rc_is 1
check "A31: stopped after a few redirects" bash -c "grep -qiE 'redirect' '$ERR'"
check "A31 loop: database and state unchanged" unchanged

# A mirror refusing service (HTTP 429), then a good second mirror
rules '{"/timestamp.note": {"status": 429}}'
BAD=$URL
GOODROOT=$T/mirror2
cp -a "$MIRROR" "$GOODROOT"
start_server "$GOODROOT" "$T/rules-good.json"
GOOD=$URL
"$VIGIL" update --config "$T/vigil.conf" --mirror "$BAD" --mirror "$GOOD" --root "$T/anchor.note" \
	--state-dir "$STATE" --db-dir "$DB" --no-reload --timeout 10 >"$OUT" 2>"$ERR"
RC=$?
check "first mirror answers 429: reported" err_has "HTTP 429"
check "second mirror: release 2 installed" db_is 2
check "second mirror: exit status 0" rc_is 0
finish
