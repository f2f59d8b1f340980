#!/bin/bash
# Configuration and usage errors of vigil update: each names the thing and
# the fix; and the stale-database warning after a refused update.
. "$(dirname "$0")/upd_lib.sh"

run() { "$VIGIL" update --config "$T/vigil.conf" --state-dir "$STATE" --db-dir "$DB" --no-reload "$@" >"$OUT" 2>"$ERR"; RC=$?; }

run --root "$T/anchor.note"
check "no mirror: exit 2" rc_is 2
check "no mirror: says how to add one" err_has "add 'UpdateMirror https://...'"

run --root "$T/anchor.note" --mirror ftp://example.org/db
check "ftp mirror: exit 2" rc_is 2
check "ftp mirror: names the allowed schemes" err_has "use https://, http:// or file:// URLs"

printf 'UpdateMirror relative/path\nUpdateStateDirectory relative\n' > "$T/bad.conf"
"$VIGIL" update --config "$T/bad.conf" >"$OUT" 2>"$ERR"
RC=$?
check "relative UpdateStateDirectory: exit 2" rc_is 2
check "relative UpdateStateDirectory: file:line named" err_has "bad.conf:2: UpdateStateDirectory must be an absolute path"

full_release 1 || exit 1
start_server
run --root "$T/missing.note" --mirror "$URL"
check "missing trust anchor: exit 1" rc_is 1
check "missing trust anchor: says what to install" err_has "Install the publisher's root note there"

head -c 300 "$T/anchor.note" > "$T/cut.note"
run --root "$T/cut.note" --mirror "$URL"
check "truncated trust anchor: exit 1" rc_is 1
check "truncated trust anchor: explained" err_has "trusted root: root:"

mkdir -p "$DB" && printf 'x\n' > "$DB/local.ndb"
run --root "$T/anchor.note" --mirror "$URL"
check "database folder with other files: exit 1" rc_is 1
check "database folder with other files: untouched" [ -f "$DB/local.ndb" ]
check "database folder with other files: says what to do" err_has "move them elsewhere"
rm -rf "$DB"

update
check "release 1 installed" db_is 1
# the installed release has expired (as if days passed) and the mirror
# serves only expired metadata: refused, and the staleness is reported
"$PY" -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute(\"UPDATE state SET value='1000' WHERE key='manifest-expires'\"); db.commit()" "$STATE/state.sqlite"
publish 1 --expires 2020-01-01T00:00:00Z --no-verify
update
check "expired metadata with a stale database: exit 1" rc_is 1
check "stale database reported" err_has "the database is stale since 1970-01-01T00:16:40Z"
finish
