#!/bin/bash
# Looking inside: every archive, compression, mail and document wrapping of
# ClamAV's test file in Debian's clamav-testfiles is found with only the
# SHA-256 of clam.exe, as clamscan finds it; archives built here (nesting,
# many entries, bombs, overlapping entries, truncation, an encrypted entry)
# respect the limits and end quickly in bounded memory, with clamscan's
# verdicts where clamscan has an opinion.
. "$(dirname "$0")/cli_lib.sh"

have_clam_exe || skip "clamav-testfiles is not installed"
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is not installed"
cd "$T" || exit 1
mkdir -p db
printf '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495:544:ClamAV-Test-File\n' > db/clam.hsb
TF=/usr/share/clamav-testfiles

# --- clamav-testfiles --------------------------------------------------------
# In scope for this issue: archives, compressions, mail, documents. Packed
# executables (UPX, ASPack, ...), NSIS, AutoIt, InstallShield and SIS come with
# the executables issue; they are listed, not required.
IN_SCOPE="clam.zip clam.bz2.zip clam.d64.zip clam.impl.zip clam.7z clam.arj clam.cab
clam.chm clam.tar.gz clam_cache_emax.tgz clam.bin-be.cpio clam.bin-le.cpio clam.newc.cpio
clam.odc.cpio clam.exe.bz2 clam.exe.szdd clam.exe.binhex clam.exe.mbox.base64
clam.exe.mbox.uu clam.mail clam.tnef clam.exe.html clam.exe.rtf clam.pdf clam.ole.doc
clam.ppt clam.exe"
vscan -d db --no-summary $(for f in $IN_SCOPE; do echo "$TF/$f"; done)
missing=""
for f in $IN_SCOPE; do
	grep -q -x -F "$TF/$f: ClamAV-Test-File.UNOFFICIAL FOUND" "$T/out" || missing="$missing $f"
done
check "clamav-testfiles: every archive/compression/mail/document wrapping found${missing:+ (not found:$missing)}" \
	test -z "$missing"
if have_clamscan; then
	clamscan --no-summary -d db $(for f in $IN_SCOPE; do echo "$TF/$f"; done) > "$T/clam.out" 2>/dev/null
	check "clamav-testfiles: clamscan finds the same files" \
		diff <(sort "$T/clam.out") <(sort "$T/out")
fi
vscan -d db --no-summary "$TF"
others=$(grep -c ' FOUND$' "$T/out")
echo "  (all of $TF: $others of $(ls "$TF" | wc -l) found; packers, NSIS, AutoIt, InstallShield and SIS are for a later issue)"

# --- archives built here ------------------------------------------------------
make_eicar eicar.com
/usr/bin/python3 - "$T" <<'PY'
import gzip, io, os, struct, sys, tarfile, zipfile, zlib
T = sys.argv[1]
eicar = open(os.path.join(T, "eicar.com"), "rb").read()

def zip_bytes(entries, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for name, data in entries:
            z.writestr(name, data)
    return b.getvalue()

# nesting: zip in zip ... 20 levels, EICAR at the bottom
data = eicar
for i in range(20):
    data = zip_bytes([("level%02d.%s" % (19 - i, "zip" if i else "com"), data)])
open(os.path.join(T, "deep20.zip"), "wb").write(data)
# tar.gz > zip > gzip stream > EICAR
inner = zip_bytes([("e.gz", gzip.compress(eicar))])
tb = io.BytesIO()
with tarfile.open(fileobj=tb, mode="w:gz") as t:
    ti = tarfile.TarInfo("dir/inner.zip"); ti.size = len(inner)
    t.addfile(ti, io.BytesIO(inner))
open(os.path.join(T, "mixed.tar.gz"), "wb").write(tb.getvalue())
# many entries: EICAR is the 50th
open(os.path.join(T, "many.zip"), "wb").write(
    zip_bytes([("clean%02d.txt" % i, b"nothing here %d\n" % i) for i in range(49)] + [("z.com", eicar)]))
# a bomb: 1 GiB of zeros in one entry, then EICAR
bomb = io.BytesIO()
with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("zeros.bin", "w", force_zip64=True) as w:
        block = bytes(1 << 20)
        for _ in range(1024):
            w.write(block)
    z.writestr("after.com", eicar)
open(os.path.join(T, "bomb.zip"), "wb").write(bomb.getvalue())
# 42.zip style: 5 levels of 16 copies of a 16 MiB zero file (2^44 bytes unpacked)
leaf = zip_bytes([("zero.bin", bytes(16 << 20))])
for lvl in range(4):
    leaf = zip_bytes([("l%d-%02d.zip" % (lvl, i), leaf) for i in range(16)])
open(os.path.join(T, "fanout.zip"), "wb").write(leaf)
# overlapping entries: 2000 central-directory entries all pointing at one
# local header holding 64 MiB of zeros
payload = zlib.compressobj(9, zlib.DEFLATED, -15)
comp = payload.compress(bytes(64 << 20)) + payload.flush()
crc = zlib.crc32(bytes(64 << 20)) & 0xffffffff
name = b"z.bin"
local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0, crc, len(comp), 64 << 20, len(name), 0) + name + comp
cd = b""
n = 2000
for i in range(n):
    cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8, 0, 0, crc, len(comp),
                      64 << 20, len(name), 0, 0, 0, 0, 0, 0) + name
eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, n, n, len(cd), len(local), 0)
open(os.path.join(T, "overlap.zip"), "wb").write(local + cd + eocd)
# an entry marked encrypted (general purpose bit 0), stored; its bytes are
# not EICAR in the clear (a real encrypted entry would not be either)
eicar = bytes(b ^ 0x5a for b in eicar)
enc_name = b"secret.com"
lh = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 1, 0, 0, 0, zlib.crc32(eicar), len(eicar), len(eicar), len(enc_name), 0) + enc_name + eicar
ch = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 1, 0, 0, 0, zlib.crc32(eicar), len(eicar), len(eicar), len(enc_name), 0, 0, 0, 0, 0, 0) + enc_name
open(os.path.join(T, "encrypted.zip"), "wb").write(lh + ch + struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(ch), len(lh), 0))
PY
make_db

vscan -d db --no-summary deep20.zip
check "20 nested zips: beyond the default recursion limit (17), not found, exit 0" \
	eval 'rc_is 0 && out_has "deep20.zip: OK"'
vscan -d db --no-summary --alert-exceeds-max deep20.zip
check "--alert-exceeds-max: Heuristics.Limits.Exceeded.MaxRecursion" \
	out_has "deep20.zip: Heuristics.Limits.Exceeded.MaxRecursion FOUND"
vscan -d db --no-summary --max-recursion=30 deep20.zip
check "--max-recursion=30: found at the bottom" eval 'rc_is 1 && out_matches "^deep20.zip: .* FOUND$"'
if have_clamscan; then
	for opts in "" "--max-recursion=30"; do
		clamscan --no-summary -d db $opts deep20.zip > "$T/clam.out" 2>/dev/null
		vscan -d db --no-summary $opts deep20.zip
		check "deep20.zip ${opts:-(defaults)}: same verdict as clamscan" \
			test "$(grep -c FOUND "$T/clam.out")" = "$(grep -c FOUND "$T/out")"
	done
fi

vscan -d db --no-summary --json mixed.tar.gz
check "tar.gz > zip > gzip: found, container_path names every layer" eval \
	'rc_is 1 && /usr/bin/python3 -c "
import json, sys
o = json.loads(open(sys.argv[1]).read())
paths = [s[\"container_path\"] for s in o[\"signatures\"]]
assert [\"mixed.tar.gz\", \"dir/inner.zip\", \"e.gz\", \"(1)\"] in paths, paths
" "$T/out"'

vscan -d db --no-summary many.zip
check "50 entries: the 50th is found" eval 'rc_is 1 && out_matches "^many.zip: .* FOUND$"'
vscan -d db --no-summary --max-files=10 --alert-exceeds-max many.zip
check "--max-files=10: Heuristics.Limits.Exceeded.MaxFiles, the 50th not reached" \
	eval 'out_has "many.zip: Heuristics.Limits.Exceeded.MaxFiles FOUND" && out_lines 1'

# Bombs: bounded time (the timeout) and memory (peak RSS under 600 MB).
bounded() { # bounded FILE OPTIONS... : runs the scan under a timeout, records peak RSS
	local f=$1
	shift
	/usr/bin/time -f '%M' -o "$T/rss" timeout 120 "$VIGIL" scan --config-file="$T/empty.conf" \
		-d db --no-summary "$@" "$f" > "$T/out" 2> "$T/err"
	RC=$?
	[ "$RC" -le 1 ] && [ "$(tail -1 "$T/rss")" -lt 600000 ] ||
		{ echo "  exit $RC, peak RSS $(tail -1 "$T/rss") KB" >&2; return 1; }
}
check "1 GiB-in-1 MiB zip bomb: ends, bounded memory, the entry after it is scanned" \
	eval 'bounded bomb.zip && out_matches "^bomb.zip: .* FOUND$"'
check "bomb with --alert-exceeds-max: the oversized entry is reported" \
	eval 'bounded bomb.zip --alert-exceeds-max -z && out_has "bomb.zip: Heuristics.Limits.Exceeded.MaxFileSize FOUND"'
check "42.zip-style fan-out (2^44 bytes): ends within the scan-size limit" \
	eval 'bounded fanout.zip --alert-exceeds-max && out_matches "^fanout.zip: Heuristics.Limits.Exceeded.Max(ScanSize|Files) FOUND$"'
# (libarchive reads such a file as one entry; clamscan also answers OK)
check "2000 overlapping entries of 64 MiB: ends quickly in bounded memory, not 128 GB" \
	eval 'bounded overlap.zip --alert-exceeds-max && out_matches "^overlap.zip: (OK|Heuristics.Limits.Exceeded.Max(ScanSize|Files) FOUND)$"'

# Truncated archives: every prefix of clam.zip and of the mixed tar.gz.
bad=0
for f in "$TF/clam.zip" mixed.tar.gz; do
	size=$(stat -c %s "$f")
	for ((n = 1; n < size; n += 7)); do
		head -c "$n" "$f" > cut.bin
		timeout 20 "$VIGIL" scan --config-file="$T/empty.conf" -d db --no-summary cut.bin > /dev/null 2>&1
		rc=$?
		[ "$rc" -le 1 ] || { echo "  $f cut at $n: exit $rc" >&2; bad=$((bad + 1)); }
	done
done
check "truncated archives at every 7th length: no crash, no error, no hang" test "$bad" = 0

vscan -d db --no-summary encrypted.zip
check "encrypted entry: no detection without --alert-encrypted" eval 'rc_is 0'
vscan -d db --no-summary --alert-encrypted encrypted.zip
check "--alert-encrypted: Heuristics.Encrypted.Zip" out_has "encrypted.zip: Heuristics.Encrypted.Zip FOUND"
if have_clamscan; then
	clamscan --no-summary -d db --alert-encrypted encrypted.zip > "$T/clam.out" 2>/dev/null
	check "--alert-encrypted: clamscan says the same" \
		grep -q -x -F "encrypted.zip: Heuristics.Encrypted.Zip FOUND" "$T/clam.out"
fi

finish
