#!/bin/bash
# Side by side with Debian's clamscan: the same database, the same files, the
# same options. The report lines (in order), the summary counts and the exit
# status must be identical; only timings, dates, the engine version and the
# "Data" lines may differ (see strip_variable in cli_lib.sh).
. "$(dirname "$0")/cli_lib.sh"

have_clamscan || skip "clamscan is not installed"

make_db
mkdir -p "$T/tree/sub/deeper" "$T/tree/other dir"
cd "$T" || exit 1
make_eicar tree/eicar.com
make_eicar "tree/other dir/eicar copy.txt"
echo "clean" > tree/clean.txt
echo "also clean" > tree/sub/deeper/readme
: > tree/empty
: > tree/sub/empty2
printf 'prefix ' > tree/sub/embedded.txt
cat tree/eicar.com >> tree/sub/embedded.txt   # body signature only
ln -s ../clean.txt tree/sub/link-to-file
ln -s .. tree/sub/link-to-parent               # a loop, when followed
ln -s nowhere tree/sub/dangling
mkfifo tree/fifo                               # clamscan skips it silently
if have_clam_exe; then cp "$CLAM_EXE" tree/sub/clam.exe; fi

same_as_clamscan "a tree with infected, clean, empty files, links and a FIFO" -d db tree
same_as_clamscan "-z: every match, in clamscan's order" -z -d db tree
same_as_clamscan "-i" -i -d db tree
same_as_clamscan "-o" -o -d db tree
same_as_clamscan "--no-summary" --no-summary -d db tree
same_as_clamscan "--quiet: nothing on stdout, the exit status tells" --quiet -d db tree
same_as_clamscan "hash database alone" -d db/test.hdb tree
same_as_clamscan "body database alone" -d db/test.ndb tree
same_as_clamscan "--exclude" --exclude='eicar' -d db tree
same_as_clamscan "--exclude-dir" --exclude-dir='sub' -d db tree
same_as_clamscan "--exclude-dir with a trailing slash" --exclude-dir='deeper/' -d db tree
same_as_clamscan "--exclude-dir matching the top folder" --exclude-dir='^tree$' -d db tree
same_as_clamscan "--include" --include='\.txt$' -d db tree
same_as_clamscan "--include-dir" --include-dir='tree' -d db tree
same_as_clamscan "--max-filesize" --max-filesize=50 -d db tree
same_as_clamscan "--max-filesize with --alert-exceeds-max" --max-filesize=50 --alert-exceeds-max -d db tree
same_as_clamscan "--max-dir-recursion=1" --max-dir-recursion=1 -d db tree
# clamscan silently drops a dangling link it was told to follow; vigil reports
# "Symbolic link" for it (test_special.sh), so compare without that link.
rm tree/sub/dangling
same_as_clamscan "--follow-file-symlinks=2" --follow-file-symlinks=2 -d db tree
ln -s nowhere tree/sub/dangling
same_as_clamscan "symlinks named on the command line are followed" -d db tree/sub/link-to-file tree/sub/link-to-parent
same_as_clamscan "--follow-file-symlinks=0 --follow-dir-symlinks=0" \
	--follow-file-symlinks=0 --follow-dir-symlinks=0 -d db tree/sub/link-to-file
same_as_clamscan "files and folders mixed, trailing slash" -d db tree/clean.txt tree/sub/ tree/eicar.com
same_as_clamscan "missing file next to a clean one: exit 2" -d db tree/clean.txt no-such-file
same_as_clamscan "missing file next to an infected one: exit 1" -d db tree/eicar.com no-such-file
same_as_clamscan "a FIFO named on the command line" -d db tree/fifo tree/clean.txt

# Standard input, one program at a time.
"$VIGIL" scan --config-file="$T/empty.conf" -d db - < tree/eicar.com > "$T/v.out" 2>/dev/null; vrc=$?
clamscan -d db - < tree/eicar.com > "$T/c.out" 2>/dev/null; crc=$?
check "stdin: same lines and exit status as clamscan" eval \
	'[ $vrc = $crc ] && diff -u <(strip_variable "$T/c.out") <(strip_variable "$T/v.out")'

# clamscan without -r scans only the top folder; so does vigil --recursive=no.
"$VIGIL" scan --config-file="$T/empty.conf" --recursive=no -d db tree > "$T/v.out" 2>/dev/null; vrc=$?
clamscan -d db tree > "$T/c.out" 2>/dev/null; crc=$?
check "--recursive=no equals clamscan without -r" eval \
	'[ $vrc = $crc ] && diff -u <(strip_variable "$T/c.out") <(strip_variable "$T/v.out")'

# Unreadable folder and file. As root, permissions do not stop us, so both
# programs run as the unprivileged user 'nobody' (setpriv); otherwise the
# current user is already unprivileged.
mkdir -p "$T/perm/locked" "$T/perm/open"
echo "secret" > "$T/perm/locked/inside"
echo "secret" > "$T/perm/open/unreadable"
make_eicar "$T/perm/open/eicar.com"
echo "fine" > "$T/perm/open/readable"
chmod -R a+rX "$T/perm"
chmod 000 "$T/perm/locked" "$T/perm/open/unreadable"
if [ "$(id -u)" = 0 ]; then
	AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups --"
	# The unprivileged user must reach the fixtures (a TMPDIR inside a
	# private folder would not do) and the binary.
	if ! command -v setpriv >/dev/null ||
	   ! $AS_USER test -r "$T/db/test.hdb" -a -x "$VIGIL" 2>/dev/null; then
		AS_USER=""
		echo "note: cannot run as an unprivileged user here; unreadable-path checks skipped"
	fi
else
	AS_USER="env"
fi
if [ -n "$AS_USER" ]; then
	$AS_USER "$VIGIL" scan --config-file="$T/empty.conf" -d db perm > "$T/v.out" 2> "$T/v.err"; vrc=$?
	$AS_USER clamscan -r -d db perm > "$T/c.out" 2> "$T/c.err"; crc=$?
	check "unreadable folder and file (as an unprivileged user): same as clamscan" eval \
		'[ $vrc = $crc ] && diff -u <(strip_variable "$T/c.out") <(strip_variable "$T/v.out")'
	check "unreadable folder: stderr names the folder and the cause" \
		grep -q -F "perm/locked: Permission denied" "$T/v.err"
	check "infected + unreadable: exit 1 (found wins)" [ "$vrc" = 1 ]
	[ "$vrc" -gt 2 ] && sed 's/^/  | /' "$T/v.err" | head -80
	rm -f "$T/perm/open/eicar.com"
	$AS_USER "$VIGIL" scan --config-file="$T/empty.conf" -d db perm > "$T/v.out" 2> "$T/v.err"; vrc=$?
	$AS_USER clamscan -r -d db perm > "$T/c.out" 2> "$T/c.err"; crc=$?
	check "only unreadable paths: exit 2 and 'Total errors: 2', as clamscan" eval \
		'[ $vrc = 2 ] && [ $crc = 2 ] && grep -q -x "Total errors: 2" "$T/v.out" &&
		 diff -u <(strip_variable "$T/c.out") <(strip_variable "$T/v.out")'
	# a crash (exit > 2): show what vigil said, sanitizer reports included
	[ "$vrc" -gt 2 ] && sed 's/^/  | /' "$T/v.err" | head -80
fi

finish
