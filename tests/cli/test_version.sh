#!/bin/bash
# `vigil version`, `vigil --version`, `vigil -V`: versions, FLEVEL, every
# database loaded with its signature count and date, and the warning about
# databases more than 7 days old.
. "$(dirname "$0")/cli_lib.sh"

make_db
cd "$T" || exit 1

"$VIGIL" version --config-file="$T/empty.conf" -d db > "$T/out" 2> "$T/err"; RC=$?
check "vigil version: exit 0" rc_is 0
check "vigil version: program, engine and FLEVEL" eval \
	'out_matches "^vigil [0-9]+\.[0-9]+\.[0-9]+$" && out_matches "^Engine: libvigil [0-9]+\.[0-9]+\.[0-9]+$" &&
	 out_has "FLEVEL: 216"'
check "vigil version: each database with its signature count" eval \
	'out_matches "^  test\.hdb: version 0, built [0-9-]+ [0-9:]+ UTC, 2 signatures, 0 deferred" &&
	 out_matches "^  test\.ndb: version 0, built [0-9-]+ [0-9:]+ UTC, 2 signatures, 0 deferred" &&
	 out_has "Databases: 2"'
check "vigil version: fresh databases, no warning" eval '! grep -q "WARNING" "$T/err"'

touch -d '10 days ago' db/test.hdb db/test.ndb
"$VIGIL" version --config-file="$T/empty.conf" -d db > "$T/out" 2> "$T/err"; RC=$?
check "vigil version: databases 10 days old draw a warning on stderr" eval \
	'rc_is 0 && err_matches "^WARNING: The newest database \(test\.(hdb|ndb), built .*\) is 10 days old"'
touch db/test.ndb
"$VIGIL" version --config-file="$T/empty.conf" -d db > "$T/out" 2> "$T/err"; RC=$?
check "vigil version: one fresh database is enough (newest counts)" eval '! grep -q WARNING "$T/err"'

mkdir -p bad && printf 'Bad:0:*:zz\n' > bad/x.ndb
"$VIGIL" version --config-file="$T/empty.conf" -d bad > "$T/out" 2> "$T/err"; RC=$?
check "vigil version with a malformed database: exit 2, file named" eval \
	'rc_is 2 && err_has "x.ndb:1"'

"$VIGIL" --version > "$T/out" 2> "$T/err"; RC=$?
check "vigil --version: one line 'vigil X.Y.Z[/db version/date]'" eval \
	'rc_is 0 && out_lines 1 && out_matches "^vigil [0-9]+\.[0-9]+\.[0-9]+(/[0-9]+/.*)?$"'
"$VIGIL" -V > "$T/out" 2> "$T/err"; RC=$?
check "vigil -V: the same one line" eval 'rc_is 0 && out_lines 1'
"$VIGIL" scan --config-file="$T/empty.conf" -d db -V > "$T/out" 2> "$T/err"; RC=$?
check "vigil scan -V -d db: version with the database date, as clamscan -V" eval \
	'rc_is 0 && out_matches "^vigil [0-9]+\.[0-9]+\.[0-9]+/0/[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}$"'
"$VIGIL" version --help > "$T/out" 2> "$T/err"; RC=$?
check "vigil version --help" eval 'rc_is 0 && out_has "Usage: vigil version [options]"'
"$VIGIL" version --bogus > "$T/out" 2> "$T/err"; RC=$?
check "vigil version --bogus: exit 2" eval 'rc_is 2 && err_has "--bogus"'

finish
