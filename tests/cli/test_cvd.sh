#!/bin/bash
# ClamAV's signed containers through the `vigil` command, compared with
# Debian's sigtool and clamscan on the same files: ClamAV's own signed test
# databases (tests/fixtures/clamav-upstream-cvd), tampered copies of them, a
# .cld and a .cud built here, and a database folder laid out as freshclam
# leaves /var/lib/clamav.
. "$(dirname "$0")/cli_lib.sh"

command -v sigtool >/dev/null || skip "sigtool (Debian clamav package) is needed as the peer"
UP=$(cd "$(dirname "$0")/../fixtures/clamav-upstream-cvd" && pwd)
cd "$T" || exit 1
make_eicar eicar.com

vdb() { "$VIGIL" db "$@" > "$T/out" 2> "$T/err"; RC=$?; }

# --- info, list, unpack: the same as sigtool on every upstream version ------
for v in 1 2 3 4 5 6; do
	f=test-$v.cvd
	cp "$UP/$f" .
	sigtool --info="$f" > sig.info 2>&1
	vdb info "$f"
	CHECKS=$((CHECKS + 1))
	n=$(wc -l < sig.info)
	if [ "$RC" = 0 ] && head -n "$n" "$T/out" | diff -u sig.info - > d.txt; then
		pass "$f: 'vigil db info' starts with sigtool --info's lines"
	else
		fail "$f: 'vigil db info' differs from sigtool --info (exit $RC)"
		sed 's/^/  /' d.txt >&2
	fi
	sigtool --list-sigs="$f" 2>/dev/null | sort > sig.list
	vdb list "$f"
	check "$f: 'vigil db list' names the same signatures as sigtool --list-sigs ($(wc -l < sig.list))" \
		eval '[ "$RC" = 0 ] && [ -s sig.list ] && sort "$T/out" | diff -u sig.list - >&2'
	rm -rf s.u v.u && mkdir s.u v.u
	(cd s.u && sigtool --unpack="../$f" > /dev/null 2>&1)
	vdb unpack -C v.u "$f"
	check "$f: 'vigil db unpack' writes the same files as sigtool --unpack" \
		eval '[ "$RC" = 0 ] && [ -n "$(ls s.u)" ] && diff -r s.u v.u >&2'
	vdb verify "$f"
	check "$f: verify says OK, signed by ClamAV, version $v" \
		eval '[ "$RC" = 0 ] && out_has "$f: OK: signed by ClamAV, version $v, $(sed -n "s/^Signatures: //p" sig.info) signatures"'
done
for v in 2 3 4 5 6; do
	cp "$UP/test-$v.cdiff" .
	vdb verify "test-$v.cdiff"
	check "test-$v.cdiff: verify: signed update to version $v" \
		eval '[ "$RC" = 0 ] && out_has "test-$v.cdiff: OK: update to version $v, signed by ClamAV"'
	prev=$((v - 1))
	sigtool --verify-cdiff="test-$v.cdiff" "test-$prev.cvd" > /dev/null 2>&1
	check "sigtool agrees test-$v.cdiff fits test-$prev.cvd (exit 0)" [ $? = 0 ]
done

# --- scanning with a container: the same detections as clamscan ---------------
if have_clamscan; then
	files="eicar.com"
	have_clam_exe && cp "$CLAM_EXE" . && files="$files clam.exe"
	vscan --no-summary -d test-6.cvd $files
	clamscan --no-summary -d test-6.cvd $files > c.out 2>/dev/null
	crc=$?
	check "scan -d test-6.cvd: the same detection lines and exit status as clamscan" \
		eval '[ "$RC" = "$crc" ] && diff -u c.out "$T/out" >&2'
	check "scan -d test-6.cvd: official names, no .UNOFFICIAL" out_lacks ".UNOFFICIAL"
	check "scan -d test-6.cvd: members vigil cannot read yet are named in one notice" \
		err_matches 'test-6\.cvd: [0-9]+ member file\(s\) not loaded.*test\.cfg \(0 lines\)'
fi

# --- tampered copies: refused, the file and the fault named; sigtool refuses too
flip() { # flip SRC OFFSET DST
	python3 -c 'import sys
d = bytearray(open(sys.argv[1], "rb").read()); o = int(sys.argv[2])
d[o if o >= 0 else len(d) + o] ^= 1
open(sys.argv[3], "wb").write(d)' "$@"
}
command -v python3 >/dev/null || skip "python3 is needed to tamper with containers"
flip test-6.cvd 35 bad-version.cvd
flip test-6.cvd 50 bad-md5.cvd
flip test-6.cvd 120 bad-sig.cvd
flip test-6.cvd 3000 bad-payload.cvd
flip test-6.cvd -1 bad-last.cvd
head -c 4000 test-6.cvd > bad-truncated.cvd
head -c 512 test-6.cvd > bad-headeronly.cvd
head -c 4096 /dev/urandom > bad-garbage.cvd
: > bad-empty.cvd
for c in "version:header does not match test.info" "md5:MD5 mismatch" "sig:bad digital signature" \
	"payload:MD5 mismatch" "last:MD5 mismatch" "truncated:MD5 mismatch" \
	"headeronly:truncated: the header is not followed by any payload" "garbage:not a ClamAV container" \
	"empty:not a ClamAV container"; do
	f=bad-${c%%:*}.cvd
	msg=${c#*:}
	vscan --no-summary -d "$f" eicar.com
	check "$f: scan refuses it (exit 2), naming the file and the fault ('$msg')" \
		eval 'rc_is 2 && err_has "$f: $msg" && out_lacks "eicar.com:"'
	vdb verify "$f"
	check "$f: 'vigil db verify' exits 1 with the same message" eval 'rc_is 1 && err_has "$f: $msg"'
	sigtool --info="$f" > /dev/null 2>&1
	src=$?
	if [ "$f" != bad-version.cvd ]; then
		check "$f: sigtool refuses it too (exit $src)" [ "$src" != 0 ]
	fi
done
# A changed version number keeps the MD5 and its signature valid: only the
# signed .info manifest shows it. sigtool --info checks header signatures
# only; clamscan's loader refuses the file, as vigil does.
if have_clamscan; then
	clamscan --no-summary -d bad-version.cvd eicar.com > /dev/null 2>&1
	check "bad-version.cvd: clamscan refuses it too (exit 2)" [ $? = 2 ]
fi
flip test-6.cdiff 100 bad.cdiff
vdb verify bad.cdiff
check "bad.cdiff: refused, file and fault named" eval 'rc_is 1 && err_has "bad.cdiff: "'
sigtool --verify-cdiff=bad.cdiff test-5.cvd > /dev/null 2>&1
check "bad.cdiff: sigtool refuses it too" [ $? != 0 ]

# --- .cld (local, built from the unpacked test-6) and .cud (unsigned) ---------
mkdir -p cld && (cd cld && sigtool --unpack=../test-6.cvd > /dev/null 2>&1)
# make_cld DIR OUT [LEFT-OUT]: a .cld as freshclam lays it out (header = the
# first line of the .info padded to 512 bytes, then a plain tar), built with
# Python's tarfile, independently of vigil's writer
make_cld() {
	python3 - "$@" <<'EOF'
import io, os, sys, tarfile
d, out = sys.argv[1], sys.argv[2]
skip = set(sys.argv[3:]) | {"COPYING", "test.info"}
info = open(os.path.join(d, "test.info"), "rb").read()
names = ["COPYING", "test.info"] + sorted(n for n in os.listdir(d) if n not in skip)
bio = io.BytesIO()
with tarfile.open(fileobj=bio, mode="w", format=tarfile.USTAR_FORMAT) as t:
    for n in names:
        t.add(os.path.join(d, n), arcname=n)
open(out, "wb").write(info.split(b"\n")[0].ljust(512, b" ") + bio.getvalue())
EOF
}
make_cld cld test.cld
sigtool --info=test.cld > sig.info 2>&1
vdb info test.cld
check "test.cld: 'vigil db info' starts with sigtool --info's lines" \
	eval '[ "$RC" = 0 ] && head -n $(wc -l < sig.info) "$T/out" | diff -u sig.info - >&2'
mkdir -p cud && printf '%s:68:My.Eicar\n' "$EICAR_MD5" > cud/mine.hdb && printf 'x\n' > cud/COPYING
(cd cud && printf '1\nme\n' | sigtool --build=mine.cud --unsigned > /dev/null 2>&1)
if [ -s cud/mine.cud ]; then
	sigtool --info=cud/mine.cud > sig.info 2>&1
	vdb info cud/mine.cud
	check "mine.cud: 'vigil db info' starts with sigtool's lines (Unsigned container)" \
		eval '[ "$RC" = 0 ] && head -n $(wc -l < sig.info) "$T/out" | diff -u sig.info - >&2 && out_has "Verification: Unsigned container"'
	vscan --no-summary -d cud/mine.cud eicar.com
	check "mine.cud: loaded as unofficial, as clamscan does" \
		eval 'rc_is 1 && out_has "eicar.com: My.Eicar.UNOFFICIAL FOUND"'
	vscan --no-summary --official-db-only=yes -d cud/mine.cud eicar.com
	check "mine.cud: not loaded when only official databases are allowed" \
		eval 'err_has "mine.cud: skipped: only signed containers" && out_lacks "FOUND"'
else
	fail "sigtool --build --unsigned made no .cud"
fi

# A signed manifest lists a file the container lacks: vigil refuses, ClamAV
# loads the rest (docs/compatibility.md, "Containers vigil refuses").
make_cld cld miss.cld test.ndb
vdb verify miss.cld
check "miss.cld: a member the signed manifest lists is missing: refused" \
	eval 'rc_is 1 && err_has "miss.cld: member test.ndb listed in test.info is missing"'
if have_clamscan; then
	clamscan --no-summary -d miss.cld eicar.com > /dev/null 2>&1
	check "miss.cld: clamscan loads it anyway (the documented difference)" [ $? = 1 ]
fi

# --- a freshclam-style folder: every file loads or is counted -------------------
mkdir -p varlib
cp test-5.cvd varlib/test.cvd
cp test.cld varlib/test.cld
printf '# bytecode\n' > varlib/bytecode.cbc
printf 'R:example\\.com\n' > varlib/local.pdb
printf '%s:68:Local.Eicar\n' "$EICAR_MD5" > varlib/local.hdb
vscan --no-summary -d varlib eicar.com
check "folder: the newer .cld wins over the older .cvd, with a notice" \
	err_has "test.cvd: skipped: test.cld (version 6) is newer"
check "folder: bytecode skipped by decision, with a notice" err_has "bytecode.cbc: skipped: vigil never runs bytecode"
check "folder: a format vigil does not read yet (.pdb) is counted with a notice" err_has "local.pdb: skipped: this database format is not supported"
check "folder: the signatures of the .cld and of loose files detect" \
	eval 'rc_is 1 && out_has "eicar.com: Eicar-Test-Signature FOUND"'
vdb info varlib
check "folder: 'vigil db info' lists members under their container and counts what it cannot read" \
	eval 'rc_is 0 && out_has "  test.cld:" && out_matches "^    test\.cfg +0 lines +not read" && out_matches "^  bytecode\.cbc .*never run, by decision" && out_matches "^Usable by vigil: [0-9]+ signatures"'

finish
