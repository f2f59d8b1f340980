#!/bin/bash
# Logical (.ldb/.ldu), container (.cdb) and file type magic (.ftm) databases
# as a user meets them through `vigil scan`: detections printed as clamscan
# prints them, a malformed line refused with file:line:column (and refused by
# clamscan too), deferred and skipped lines counted in one notice per file,
# PUA logical signatures only with --detect-pua, the JSON kind.
. "$(dirname "$0")/cli_lib.sh"

cd "$T" || exit 1
mkdir -p db
# "hello" then "world" anywhere; a byte compare on the 2 bytes after "hello"
printf 'Ldb.Test.Pair;Engine:51-255,Target:0;0&1;68656c6c6f;776f726c64\n' > db/t.ldb
printf 'Ldb.Test.Count;Engine:51-255,Target:0;0>1;6162636465\n' >> db/t.ldb
printf 'Ldb.Test.Deferred;Engine:51-255,Target:3;0;68656c6c6f\n' >> db/t.ldb
printf 'Ldb.Test.Skipped;Engine:51-255,Target:0,Unknown:1;0;68656c6c6f\n' >> db/t.ldb
printf 'PUA.Ldb.Test;Engine:51-255,Target:0;0;776f726c64\n' > db/t.ldu
printf '\xf8\x81\x00\x01 hello \x80\x81 world \x80 abcde \x81\x80\x80\x80' > pair.bin
printf '\xf8\x81\x00\x01 abcde \x80 abcde \x81\x80\x80\x80\x80\x80\x80\x80' > count.bin
printf '\xf8\x81\x00\x01 hello only \x81\x80\x80\x80\x80\x80\x80\x80\x80' > clean.bin

vscan --no-summary -z -d db pair.bin count.bin clean.bin
check ".ldb: detections as clamscan prints them, exit 1" eval \
	'rc_is 1 && out_has "pair.bin: Ldb.Test.Pair.UNOFFICIAL FOUND" &&
	 out_has "count.bin: Ldb.Test.Count.UNOFFICIAL FOUND" && out_has "clean.bin: OK" &&
	 out_lacks "pair.bin: Ldb.Test.Count"'
check ".ldb: one notice for the deferred line (target 3), one for the skipped one" eval \
	'[ "$(grep -c "1 logical signature(s) not loaded: target type 3" "$T/err")" = 1 ] &&
	 [ "$(grep -c "1 logical signature(s) skipped, as ClamAV skips them" "$T/err")" = 1 ]'
check ".ldu: not loaded without --detect-pua" out_lacks "PUA.Ldb.Test"
if have_clamscan; then
	clamscan --no-summary -z -d db pair.bin count.bin clean.bin 2>/dev/null | sort -u > clam.out
	sort -u "$T/out" > vigil.out
	check ".ldb: the same detections as clamscan" cmp -s clam.out vigil.out
fi
vscan --no-summary -z --detect-pua -d db pair.bin
check ".ldu: loaded with --detect-pua" out_has "pair.bin: PUA.Ldb.Test.UNOFFICIAL FOUND"
vscan --no-summary --json -d db/t.ldb pair.bin
check "--json: kind logical" out_matches '"name":"Ldb.Test.Pair.UNOFFICIAL","kind":"logical"'

mkdir -p bad
printf 'Ldb.Ok;Target:0;0;414243\nLdb.Bad;Target:0;0&1;414243;0/abc\n' > bad/b.ldb
vscan -d bad/b.ldb clean.bin
check "malformed .ldb: exit 2, file:line:column and what is wrong" eval \
	'rc_is 2 && err_has "b.ldb:2:30: PCRE subsignature with one '"'"'/'"'"'"'
if have_clamscan; then
	clamscan -d bad/b.ldb clean.bin > /dev/null 2>&1
	check "clamscan also refuses this .ldb (exit 2)" [ $? = 2 ]
fi

# .ftm: bytes at offset 4 make these files executables (target 1)
mkdir -p ftm
printf '0:4:5a51584a56:Mine:CL_TYPE_ANY:CL_TYPE_MSEXE\n1:*:5a5158:Body:CL_TYPE_ANY:CL_TYPE_ZIP\n' > ftm/t.ftm
printf 'Ldb.Test.PE;Engine:51-255,Target:1;0;41424344\n' > ftm/t.ldb
printf '\xf8\x81\x00\x01ZQXJV ABCD \x80\x80\x80\x80\x80\x80' > retyped.bin
printf '\xf8\x81\x00\x01ZQXJW ABCD \x80\x80\x80\x80\x80\x80' > plain.bin
vscan --no-summary -d ftm retyped.bin plain.bin
check ".ftm: a retyped file matches a target-1 signature, the other does not" eval \
	'out_has "retyped.bin: Ldb.Test.PE.UNOFFICIAL FOUND" && out_has "plain.bin: OK"'
check ".ftm: the body-pattern line is counted as not used" \
	err_has "1 file type signature(s) not used"

# .cdb on clam.zip (clamav-testfiles)
if have_clam_exe && [ -r /usr/share/clamav-testfiles/clam.zip ]; then
	printf 'Clam.Test.CDB:CL_TYPE_ZIP:*:clam\\.exe:*:544:0:1:*:*\nC.Compressed:*:*:*:10-20:*:*:*:*:*\n' > t.cdb
	vscan --no-summary -d t.cdb /usr/share/clamav-testfiles/clam.zip /usr/share/clamav-testfiles/clam.7z
	check ".cdb: clam.exe in clam.zip matches, not in clam.7z (a ZIP signature)" eval \
		'out_has "/usr/share/clamav-testfiles/clam.zip: Clam.Test.CDB.UNOFFICIAL FOUND" &&
		 out_has "/usr/share/clamav-testfiles/clam.7z: OK" &&
		 err_has "1 container signature(s) not loaded: a size in the container"'
fi

finish
