#!/usr/bin/python3
"""File type magic (.ftm) against Debian's clamscan.

.ftm lines retype files: bytes at an offset make a file an executable, an
ELF, a PDF, or make a zip plain binary data (so it is not unpacked), and
later lines win over earlier ones and over the built-in table. Logical
signatures with targets and a body signature inside clam.zip show the type
each scanner chose. Every file must give the same FOUND lines, with and
without --allmatch (repeated lines compared once).

Usage: ftm_diff.py --vigil PATH [--clamscan PATH] [--testfiles DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile

FTM = [
    "0:4:5a51584a56:Fake PE:CL_TYPE_ANY:CL_TYPE_MSEXE",
    "0:4:5a51584a57:Fake ELF:CL_TYPE_ANY:CL_TYPE_ELF",
    "0:4:5a51584a57:Later wins:CL_TYPE_ANY:CL_TYPE_PDF",
    "0:0:504b0304:Zip is data:CL_TYPE_ANY:CL_TYPE_BINARY_DATA",
    "0:1100:5a51584a58:Past the first KiB:CL_TYPE_ANY:CL_TYPE_MSEXE",
    "0:6:44:Short:CL_TYPE_ANY:CL_TYPE_MSOLE2:1:100",
    "1:*:5a51584a59:Body magic (deferred):CL_TYPE_ANY:CL_TYPE_ZIP",
]
LDB = [
    "T.Any;Engine:51-255,Target:0;0;41424344",
    "T.PE;Engine:51-255,Target:1;0;41424344",
    "T.ELF;Engine:51-255,Target:6;0;41424344",
    "T.PDF;Engine:51-255,Target:10;0;41424344",
    "T.OLE;Engine:51-255,Target:2;0;41424344",
]
NDB = ["In.Zip:0:*:5b434c414d41565d"]  # "[CLAMAV]" inside clam.exe


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        print("failed:", " ".join(cmd), r.stderr[-1500:])
        sys.exit(2)
    seen, out = set(), []
    for line in r.stdout.splitlines():
        name = line.split(": ", 1)[-1]
        if line.strip() and name not in seen:
            seen.add(name)
            out.append(name)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--clamscan", default="clamscan")
    ap.add_argument("--testfiles", default="/usr/share/clamav-testfiles")
    a = ap.parse_args()
    bad = found = 0
    with tempfile.TemporaryDirectory(prefix="vg-ftmdiff-") as d:
        db = os.path.join(d, "db")
        os.mkdir(db)
        for name, lines in (("t.ftm", FTM), ("t.ldb", LDB), ("t.ndb", NDB)):
            with open(os.path.join(db, name), "w") as f:
                f.write("\n".join(lines) + "\n")
        pad = b"\x80\x81\xfe\x01" * 8
        files = {
            "pe.bin": b"\xf8\x81\x00\x01ZQXJV" + pad + b"ABCD" + pad,
            "elfpdf.bin": b"\xf8\x81\x00\x01ZQXJW" + pad + b"ABCD" + pad,
            "late.bin": b"\xf8\x81\x00\x01" + pad * 40 + b"ZQXJX" + b"ABCD" + pad,
            "short.bin": b"\xf8\x81\x00\x01ZQD" + pad + b"ABCD" + pad,
            "body.bin": b"\xf8\x81\x00\x01ZQXJY" + pad + b"ABCD" + pad,
            "plain.bin": b"\xf8\x81\x00\x01" + pad + b"ABCD" + pad,
        }
        paths = []
        for name, data in files.items():
            p = os.path.join(d, name)
            with open(p, "wb") as f:
                f.write(data)
            paths.append(p)
        z = os.path.join(a.testfiles, "clam.zip")
        if os.path.exists(z):
            paths.append(z)
        for extra in ([], ["--allmatch"]):
            for p in paths:
                c = run([a.clamscan, "--no-summary"] + extra + ["-d", db, p])
                v = run([a.vigil, "scan", "--no-summary"] + extra + ["-d", db, p])
                found += sum(1 for l in c if l.endswith("FOUND"))
                if c != v:
                    bad += 1
                    print("differ (%s) %s:\n  clamscan: %s\n  vigil:    %s" % (" ".join(extra) or "first",
                          os.path.basename(p), c, v))
    print("ftm diff: %d files x 2 modes, %d clamscan detections, %d differ" % (len(paths), found, bad))
    return 1 if bad or found < 8 else 0


if __name__ == "__main__":
    sys.exit(main())
