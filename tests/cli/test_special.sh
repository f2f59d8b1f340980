#!/bin/bash
# Things that must never hang or crash a scan: FIFOs, sockets and devices in
# a tree or on the command line, symbolic link loops, a link to nowhere, and
# a file that keeps growing while it is scanned. Every scan runs under
# `timeout`; a timeout (exit 124) is a failure.
. "$(dirname "$0")/cli_lib.sh"

make_db
cd "$T" || exit 1
LIMIT=60

tscan() { # like vscan, under timeout
	timeout "$LIMIT" "$VIGIL" scan --config-file="$T/empty.conf" "$@" > "$T/out" 2> "$T/err"
	RC=$?
}

# --- FIFO, socket, device -------------------------------------------------
mkdir -p special
make_eicar special/eicar.com
mkfifo special/fifo             # nobody ever writes: opening it to read would block
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' special/sock
tscan -d db/test.hdb special
check "FIFO and socket in a tree: the scan finishes (no hang)" [ "$RC" != 124 ]
check "FIFO and socket in a tree: skipped with a notice on stderr, nothing on stdout" eval \
	'rc_is 1 && err_has "special/fifo: skipped: FIFO" && err_has "special/sock: skipped: socket" &&
	 out_lacks "special/fifo" && out_lacks "special/sock"'
check "FIFO and socket in a tree: the other files are still scanned" \
	out_has "special/eicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND"

tscan -d db/test.hdb special/fifo
check "FIFO on the command line: 'Not supported file type', exit 2, no hang" eval \
	'rc_is 2 && err_has "WARNING: special/fifo: Not supported file type"'
tscan -d db/test.hdb /dev/null
check "character device on the command line: 'Not supported file type', exit 2" eval \
	'rc_is 2 && err_has "WARNING: /dev/null: Not supported file type"'

# A FIFO reached through a followed symlink is still a FIFO.
ln -s fifo special/link-to-fifo
tscan -d db/test.hdb --follow-file-symlinks=2 special
check "symlink to a FIFO with --follow-file-symlinks=2: not opened, no hang" eval \
	'[ "$RC" != 124 ] && rc_is 1'

# --- symbolic link loops ----------------------------------------------------
mkdir -p loops/a/b
echo clean > loops/a/b/file
ln -s ../.. loops/a/b/up          # leads back to loops/
ln -s self loops/self             # a link to itself (ELOOP)
ln -s nowhere loops/dangling
tscan -d db/test.hdb loops
check "links while recursing (default): reported 'Symbolic link', not followed" eval \
	'rc_is 0 && out_has "loops/a/b/up: Symbolic link" && out_has "loops/self: Symbolic link" &&
	 out_has "loops/dangling: Symbolic link"'
tscan -d db/test.hdb --follow-dir-symlinks=2 --follow-file-symlinks=2 loops
check "--follow-dir-symlinks=2 on a loop: finishes, file scanned once" eval \
	'[ "$RC" != 124 ] && rc_is 0 && [ "$(grep -c "/file: OK" "$T/out")" = 1 ]'
check "--follow-dir-symlinks=2 on a loop: the looping link is reported, with a notice" eval \
	'out_has "loops/a/b/up: Symbolic link" && err_has "loops/a/b/up: not followed"'
tscan -d db/test.hdb loops/self
check "a link to itself on the command line: error naming the cause, exit 2" eval \
	'rc_is 2 && err_has "loops/self: Too many levels of symbolic links"'
# clamscan says nothing and exits 0 here; vigil reports the dangling link.
tscan -d db/test.hdb loops/dangling
check "a dangling link on the command line: 'No such file or directory', exit 2" eval \
	'rc_is 2 && err_has "loops/dangling: No such file or directory" &&
	 err_has "WARNING: loops/dangling: Can'"'"'t access file"'

# Deep nesting beyond --max-dir-recursion: a notice, no error.
mkdir -p deep/1/2/3/4/5
make_eicar deep/1/2/3/4/5/eicar.com
tscan -d db/test.hdb --max-dir-recursion=3 deep
check "--max-dir-recursion: deeper folders skipped with a notice, exit 0" eval \
	'rc_is 0 && err_has "skipped: deeper than --max-dir-recursion=3"'

# --- a file that grows while it is scanned ---------------------------------
# A writer appends 64 KiB every 20 ms (about 3 MB/s, so the disk cannot fill
# up) to a file that starts at 32 MiB. The scan must finish; the engine
# scans the size the file had when the scan began.
mkdir -p grow
head -c 33554432 /dev/zero > grow/big
make_eicar grow/eicar.com
# One process (python3), so that stopping its PID stops every write.
python3 -c '
import sys, time
with open(sys.argv[1], "ab") as f:
    while True:
        f.write(bytes(65536))
        f.flush()
        time.sleep(0.02)
' grow/big &
WRITER=$!
track_pid "$WRITER"
sleep 0.2
size_before=$(stat -c %s grow/big)
tscan -d db/test.hdb grow
grow_rc=$RC
sleep 0.2
size_after=$(stat -c %s grow/big)
stop_pid "$WRITER"
check "growing file: the writer was really appending" [ "$size_after" -gt "$size_before" ]
RC=$grow_rc
check "growing file: the scan terminates with the right verdicts" eval \
	'[ "$RC" != 124 ] && rc_is 1 && out_has "grow/big: OK" &&
	 out_has "grow/eicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND"'

finish
