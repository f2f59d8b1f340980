#!/bin/bash
# What a user sees for the everyday cases: clean, infected (EICAR built here,
# clam.exe from clamav-testfiles), empty and missing files; exit codes, with
# "found" winning over an error; -i, -o, --no-summary, -z, the summary block,
# standard input and the report log.
. "$(dirname "$0")/cli_lib.sh"

make_db
# Most checks use the hash database alone, so that exactly one signature
# matches EICAR; -z and -d checks use both.
H="$T/db/test.hdb"
mkdir -p "$T/files"
cd "$T/files" || exit 1
make_eicar eicar.com
echo "just text" > clean.txt
: > empty.dat

vscan -d "$H" clean.txt
check "clean file: OK, exit 0" eval 'rc_is 0 && out_has "clean.txt: OK"'

vscan -d "$H" eicar.com
check "EICAR: FOUND with ClamAV's name plus .UNOFFICIAL, exit 1" \
	eval 'rc_is 1 && out_has "eicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND"'

vscan -d "$H" empty.dat
check "empty file: 'Empty file', exit 0" eval 'rc_is 0 && out_has "empty.dat: Empty file"'

vscan -d "$H" no-such-file
check "missing file: clamscan's two stderr lines, exit 2" eval \
	'rc_is 2 && err_has "no-such-file: No such file or directory" && err_has "WARNING: no-such-file: Can'"'"'t access file"'

vscan -d "$H" clean.txt no-such-file
check "clean + missing: exit 2" rc_is 2

vscan -d "$H" eicar.com no-such-file
check "infected + missing: found wins over the error, exit 1" rc_is 1

# The summary block, line by line, as clamscan prints it.
vscan -d "$H" eicar.com clean.txt empty.dat
cat > "$T/expect" <<'EOT'
eicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND
clean.txt: OK
empty.dat: Empty file

----------- SCAN SUMMARY -----------
Known viruses: 2
Scanned directories: 0
Scanned files: 2
Infected files: 1
EOT
check "summary block: counts and layout" diff -u "$T/expect" <(strip_variable "$T/out")
check "summary block: Engine version, Data, Time and dates lines" eval \
	'out_matches "^Engine version: [0-9]+\.[0-9]+\.[0-9]+$" &&
	 out_matches "^Data scanned: [0-9]+\.[0-9]{2} MB$" &&
	 out_matches "^Data read: [0-9]+\.[0-9]{2} MB \(ratio [0-9]+\.[0-9]{2}:1\)$" &&
	 out_matches "^Time: [0-9]+\.[0-9]{3} sec \([0-9]+ m [0-9]+ s\)$" &&
	 out_matches "^Start Date: [0-9]{4}:[0-9]{2}:[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$" &&
	 out_matches "^End Date:   [0-9]{4}:[0-9]{2}:[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"'
check "no 'Total errors' line without errors" out_lacks "Total errors"

vscan -d "$H" clean.txt no-such-file
check "a missing argument is not counted in 'Total errors' (as clamscan)" out_lacks "Total errors"

vscan -d "$H" --no-summary eicar.com clean.txt
check "--no-summary: only the result lines" eval 'out_lines 2 && out_lacks "SCAN SUMMARY"'

vscan -d "$H" -i --no-summary eicar.com clean.txt empty.dat
check "-i: only infected files" eval 'out_lines 1 && out_has "eicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND"'

vscan -d "$H" -o --no-summary eicar.com clean.txt empty.dat
check "-o: no OK lines, other lines kept" eval \
	'out_lines 2 && out_lacks ": OK" && out_has "empty.dat: Empty file"'

vscan -d "$H" --infected=no --no-summary clean.txt
check "--infected=no is accepted and means no" eval 'rc_is 0 && out_has "clean.txt: OK"'

# -z: EICAR matches both the MD5 and the body signature.
vscan -d "$T/db" -z --no-summary eicar.com
check "-z: one line per matching signature" eval \
	'rc_is 1 && out_lines 2 && out_has "eicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND" &&
	 out_has "eicar.com: Eicar.Test.Body.UNOFFICIAL FOUND"'
vscan -d "$H" --no-summary eicar.com
check "without -z: a single FOUND line" out_lines 1

# Standard input.
"$VIGIL" scan --config-file="$T/empty.conf" -d "$H" --no-summary - < eicar.com > "$T/out" 2> "$T/err"
RC=$?
check "stdin with EICAR: 'stdin: ... FOUND', exit 1" eval \
	'rc_is 1 && out_has "stdin: Eicar-Test-Signature.UNOFFICIAL FOUND"'
"$VIGIL" scan --config-file="$T/empty.conf" -d "$H" --no-summary - < clean.txt > "$T/out" 2> "$T/err"
RC=$?
check "stdin clean: 'stdin: OK', exit 0" eval 'rc_is 0 && out_has "stdin: OK"'
"$VIGIL" scan --config-file="$T/empty.conf" -d "$H" --no-summary clean.txt - eicar.com < eicar.com > "$T/out" 2> "$T/err"
RC=$?
printf 'clean.txt: OK\nstdin: Eicar-Test-Signature.UNOFFICIAL FOUND\neicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND\n' > "$T/expect"
check "stdin between files keeps argument order" diff -u "$T/expect" "$T/out"

vscan -d "$H" --stdout --no-summary clean.txt no-such-file
check "--stdout: warnings on stdout, nothing on stderr" eval \
	'rc_is 2 && out_has "WARNING: no-such-file: Can'"'"'t access file" && out_has "clean.txt: OK" &&
	 ! grep -q "WARNING" "$T/err"'

# /proc files are excluded, as clamscan does.
if [ -r /proc/self/status ]; then
	vscan -d "$H" --no-summary /proc/self/status
	check "a /proc file: 'Excluded (/proc)', exit 0" eval \
		'rc_is 0 && out_has "/proc/self/status: Excluded (/proc)"'
fi

# -d is repeatable: one file each.
vscan -d "$T/db/test.hdb" -d "$T/db/test.ndb" -z --no-summary eicar.com
check "-d repeated loads both databases" eval 'rc_is 1 && out_lines 2'

# -l: clamscan's log: a separator, the lines it logs (not OK lines), the summary.
vscan -d "$H" -l "$T/scan.log" eicar.com clean.txt
vscan -d "$H" -l "$T/scan.log" clean.txt
check "--log appends a separator per run, FOUND lines and summaries, no OK lines" eval \
	'[ "$(grep -c -x -- "-------------------------------------------------------------------------------" "$T/scan.log")" = 2 ] &&
	 grep -q -x "eicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND" "$T/scan.log" &&
	 [ "$(grep -c "SCAN SUMMARY" "$T/scan.log")" = 2 ] && ! grep -q ": OK" "$T/scan.log"'

# No argument: the current folder, with absolute paths (as clamscan).
mkdir -p "$T/cwd" && cp eicar.com "$T/cwd/"
(cd "$T/cwd" && "$VIGIL" scan --config-file="$T/empty.conf" -d "$H" --no-summary > "$T/out" 2> "$T/err")
RC=$?
check "no argument scans the current folder, absolute paths" eval \
	'rc_is 1 && out_has "$T/cwd/eicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND"'

if have_clam_exe; then
	cp "$CLAM_EXE" clam.exe
	vscan -d "$H" --no-summary clam.exe
	check "clam.exe from clamav-testfiles is detected" eval \
		'rc_is 1 && out_matches "^clam\.exe: Clam\.Test\.(MD5|Body-Any)\.UNOFFICIAL FOUND$"'
	vscan -d "$H" --no-summary --max-filesize=100 clam.exe
	check "--max-filesize: a larger file is not scanned and reported OK (as clamscan)" eval \
		'rc_is 0 && out_has "clam.exe: OK"'
	vscan -d "$H" --no-summary --max-filesize=100 --alert-exceeds-max clam.exe
	check "--alert-exceeds-max: Heuristics.Limits.Exceeded.MaxFileSize FOUND" eval \
		'rc_is 1 && out_has "clam.exe: Heuristics.Limits.Exceeded.MaxFileSize FOUND"'
	vscan -d "$H" --no-summary --max-filesize=1K clam.exe
	check "--max-filesize accepts K/M/G suffixes (1K > 544 bytes: scanned)" rc_is 1
else
	echo "note: $CLAM_EXE not installed (clamav-testfiles); clam.exe checks skipped"
fi

finish
