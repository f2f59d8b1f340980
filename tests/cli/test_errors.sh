#!/bin/bash
# Errors a user can make or meet before any file is scanned: a malformed,
# missing or empty database, unknown options, bad option values, a bad
# regular expression, configuration files (missing, malformed, and the
# settings they carry). Each must exit 2 with a message naming the culprit.
. "$(dirname "$0")/cli_lib.sh"

make_db
cd "$T" || exit 1
make_eicar eicar.com
echo clean > clean.txt

# --- databases --------------------------------------------------------------
mkdir -p baddb
printf 'Good.Sig:0:*:6162636465666768\nBad.Sig:0:*:41424344zz4647\n' > baddb/broken.ndb
vscan -d baddb/broken.ndb clean.txt
check "malformed database: exit 2" rc_is 2
check "malformed database: the message names file:line" err_matches 'broken\.ndb:2(:[0-9]+)?:'
check "malformed database: nothing is scanned" out_lacks "clean.txt"
check "malformed database: the summary is still printed (as clamscan), Known viruses: 0" \
	out_has "Known viruses: 0"
vscan -d baddb clean.txt
check "malformed database in a folder: exit 2, file:line named" eval \
	'rc_is 2 && err_matches "broken\.ndb:2(:[0-9]+)?:"'
if command -v clamscan >/dev/null; then
	clamscan -d baddb/broken.ndb clean.txt > /dev/null 2>&1
	check "clamscan also refuses this database (exit 2)" [ $? = 2 ]
fi

vscan -d no-such.hdb clean.txt
check "missing database: exit 2, the path and the cause named" eval \
	'rc_is 2 && err_has "no-such.hdb: No such file or directory" && out_lacks "clean.txt:"'
mkdir -p emptydb
vscan -d emptydb clean.txt
check "database folder without databases: exit 2, folder named" eval \
	'rc_is 2 && err_has "emptydb" && out_lacks "clean.txt:"'
vscan --no-summary -d db -d no-such.hdb clean.txt
check "one missing database among several: exit 2" rc_is 2

# --- options ------------------------------------------------------------------
vscan -d db --no-such-option clean.txt
check "unknown long option: exit 2, named, with a hint" eval \
	'rc_is 2 && err_has "--no-such-option" && err_has "vigil scan --help"'
vscan -d db -Q clean.txt
check "unknown short option: exit 2, named" eval 'rc_is 2 && err_has "-Q"'
vscan -d db clean.txt --max-filesize
check "option without its argument: exit 2, named" eval 'rc_is 2 && err_has "--max-filesize"'
for bad in 1.5M 10KB -1 ' 1' ''; do
	vscan -d db --max-filesize="$bad" clean.txt
	check "--max-filesize='$bad' is refused (exit 2, value named)" eval \
		'rc_is 2 && err_has "--max-filesize" && out_lacks "clean.txt"'
done
for good in 10 10k 10K 1m 1M 1g 1G; do
	vscan -d db --no-summary --max-filesize="$good" clean.txt
	check "--max-filesize=$good is accepted" rc_is 0
done
vscan -d db --max-recursion=0 clean.txt
check "--max-recursion=0 is refused (as clamscan)" rc_is 2
vscan -d db --follow-dir-symlinks=3 clean.txt
check "--follow-dir-symlinks=3 is refused" eval 'rc_is 2 && err_has "--follow-dir-symlinks"'
vscan -d db -j 0 clean.txt
check "-j 0 is refused" rc_is 2
vscan -d db --infected=maybe clean.txt
check "--infected=maybe is refused" rc_is 2
# clamscan silently ignores a regular expression it cannot compile; vigil refuses it.
vscan -d db --exclude='(' clean.txt
check "bad --exclude regular expression: exit 2, the expression named" eval \
	'rc_is 2 && err_has "--exclude" && err_has "'"'"'('"'"'"'
"$VIGIL" frobnicate > "$T/out" 2> "$T/err"; RC=$?
check "unknown command: exit 2, named, with a hint" eval \
	'rc_is 2 && err_has "frobnicate" && err_has "vigil --help"'
"$VIGIL" > "$T/out" 2> "$T/err"; RC=$?
check "no command: usage on stderr, exit 2" eval 'rc_is 2 && err_has "Usage: vigil"'
"$VIGIL" --help > "$T/out" 2> "$T/err"; RC=$?
check "vigil --help: exit 0, lists scan and version" eval \
	'rc_is 0 && out_matches "^  scan " && out_matches "^  version "'
"$VIGIL" scan --help > "$T/out" 2> "$T/err"; RC=$?
check "vigil scan --help: exit 0, documents the options" eval \
	'rc_is 0 && out_has "Usage: vigil scan [options] [file/directory/-]..." &&
	 grep -q -- "--max-filesize" "$T/out" && grep -q -- "--json" "$T/out"'

# --- configuration file --------------------------------------------------------
"$VIGIL" scan --config-file="$T/no-such.conf" -d db clean.txt > "$T/out" 2> "$T/err"; RC=$?
check "explicit configuration file missing: exit 2, named" eval \
	'rc_is 2 && err_has "no-such.conf: No such file or directory"'
printf '# settings\nMaxFileSize 10\n' > "$T/small.conf"
"$VIGIL" scan --config-file="$T/small.conf" -d db --no-summary eicar.com > "$T/out" 2> "$T/err"; RC=$?
check "MaxFileSize from the configuration: EICAR (68 bytes) not scanned" eval \
	'rc_is 0 && out_has "eicar.com: OK"'
"$VIGIL" scan --config-file="$T/small.conf" -d db --no-summary --max-filesize=1M eicar.com > "$T/out" 2> "$T/err"; RC=$?
check "the command line overrides the configuration" rc_is 1
printf 'ExcludePath eicar\n' > "$T/excl.conf"
"$VIGIL" scan --config-file="$T/excl.conf" -d db --no-summary eicar.com clean.txt > "$T/out" 2> "$T/err"; RC=$?
check "ExcludePath from the configuration" eval 'rc_is 0 && out_has "eicar.com: Excluded"'
printf 'MaxFileSize lots\n' > "$T/bad.conf"
"$VIGIL" scan --config-file="$T/bad.conf" -d db clean.txt > "$T/out" 2> "$T/err"; RC=$?
check "bad value in the configuration: exit 2, file:line and key named" eval \
	'rc_is 2 && err_has "bad.conf:1: bad value for MaxFileSize"'
printf 'MaxFileSize\n' > "$T/bad2.conf"
"$VIGIL" scan --config-file="$T/bad2.conf" -d db clean.txt > "$T/out" 2> "$T/err"; RC=$?
check "key without value: exit 2, file:line named" eval 'rc_is 2 && err_has "bad2.conf:1:"'
printf 'NoSuchKey yes\n' > "$T/unknown.conf"
"$VIGIL" scan --config-file="$T/unknown.conf" -d db --no-summary clean.txt > "$T/out" 2> "$T/err"; RC=$?
check "unknown key: a warning naming file:line, the scan goes on" eval \
	'rc_is 0 && err_has "unknown.conf:1: unknown option '"'"'NoSuchKey'"'"'"'

# Database locations from the configuration (no -d): nothing of the machine's
# own databases is used, so the result does not depend on it.
mkdir -p "$T/hashdb" && cp "$T/db/test.hdb" "$T/hashdb/"
cat > "$T/dbdir.conf" <<EOC
BundledDatabase no
ClamAVDatabaseDirectory no
DatabaseDirectory $T/hashdb
EOC
"$VIGIL" scan --config-file="$T/dbdir.conf" --no-summary eicar.com > "$T/out" 2> "$T/err"; RC=$?
check "DatabaseDirectory from the configuration is loaded without -d" eval \
	'rc_is 1 && out_has "eicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND"'
cat > "$T/nodb.conf" <<EOC
BundledDatabase $T/emptydb
ClamAVDatabaseDirectory no
DatabaseDirectory $T/no-such-dir
EOC
"$VIGIL" scan --config-file="$T/nodb.conf" eicar.com > "$T/out" 2> "$T/err"; RC=$?
check "no database anywhere: exit 2, the locations named" eval \
	'rc_is 2 && err_has "No database found" && err_has "$T/no-such-dir"'
printf 'Database %s\n' "$T/db/test.hdb" >> "$T/nodb.conf"
"$VIGIL" scan --config-file="$T/nodb.conf" --no-summary eicar.com > "$T/out" 2> "$T/err"; RC=$?
check "Database lines of the configuration are loaded" rc_is 1
"$VIGIL" scan --config-file="$T/nodb.conf" -d "$T/db/test.ndb" --no-summary -z eicar.com > "$T/out" 2> "$T/err"; RC=$?
check "-d replaces the configured databases" eval \
	'rc_is 1 && out_lines 1 && out_has "eicar.com: Eicar.Test.Body.UNOFFICIAL FOUND"'

finish
