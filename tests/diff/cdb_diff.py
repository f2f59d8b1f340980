#!/usr/bin/python3
"""Container metadata signatures (.cdb), and logical signatures that depend
on the container path (Container, Intermediates) or on the file type
(Target), against Debian's clamscan.

A fixed set of .cdb lines (container type, container size, name regex, real
size, encryption flag, position; '*' in each) and .ldb lines is scanned by
clamscan and vigil over the archives, mail and documents of Debian's
clamav-testfiles; every file must give the same FOUND lines in the same
order, with and without --allmatch (clamscan prints some pairs twice with
--allmatch; repeated lines are compared once). clam.tar.gz is left out: vigil
reads it in one step with libarchive (docs/compatibility.md). For OLE2
files only the set of detections is compared: vigil's OLE2 unpacker hands
over an embedded package and the stream holding it as siblings, clamscan
scans the package from inside the stream, so the order (and the first
detection) differs.

Usage: cdb_diff.py --vigil PATH [--clamscan PATH] [--testfiles DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile

LINES = [
    r"Clam.Test.CDB:CL_TYPE_ZIP:*:clam\.exe:*:544:0:1:*:*",
    r"C.Any:*:*:clam.*:*:*:*:*:*:*",
    r"C.NameMiss:*:*:^nothing$:*:*:*:*:*:*",
    r"C.Pos1:*:*:*:*:*:*:1:*:*",
    r"C.Pos2:*:*:*:*:*:*:2:*:*",
    r"C.ZipSize:CL_TYPE_ZIP:100-400:*:*:*:*:*:*:*",
    r"C.ZipBig:CL_TYPE_ZIP:400-100000:*:*:*:*:*:*:*",
    r"C.Cpio:CL_TYPE_CPIO_NEWC:*:*:*:544:*:*:*:*",
    r"C.Size543:*:*:*:*:543:*:*:*:*",
    r"C.SizeRange:*:*:*:*:500-600:*:*:*:*",
    r"C.Rar:CL_TYPE_RAR:*:*:*:*:*:*:*:*",
    r"C.7z:CL_TYPE_7Z:*:clam:*:*:*:*:*:*",
    r"C.Cab:CL_TYPE_MSCAB:*:*:*:*:0:*:*:*",
    r"C.Enc:*:*:*:*:*:1:*:*:*",
    r"C.Old:*:*:*:*:*:*:*:*:*:1:100",
    r"C.New:*:*:*:*:*:*:*:*:*:300",
]

LDB = [
    "C.Zip;Engine:81-255,Target:0,Container:CL_TYPE_ZIP;0;5b434c414d41565d",
    "C.Root;Engine:81-255,Target:0,Container:CL_TYPE_ANY;0;5b434c414d41565d",
    "C.7z;Engine:81-255,Target:0,Container:CL_TYPE_7Z;0;5b434c414d41565d",
    "C.Mail;Engine:81-255,Target:0,Container:CL_TYPE_MAIL;0;5b434c414d41565d",
    "C.Ole;Engine:81-255,Target:0,Container:CL_TYPE_MSOLE2;0;5b434c414d41565d",
    "I.Inside;Engine:81-255,Target:0,Intermediates:CL_TYPE_ANY;0;5b434c414d41565d",
    "I.MailZip;Engine:81-255,Target:0,Intermediates:CL_TYPE_MAIL>CL_TYPE_ANY;0;5b434c414d41565d",
    "T.PE;Engine:81-255,Target:1;0;5b434c414d41565d",
    "T.PDF;Engine:81-255,Target:10;0;255044462d",
    "T.OLE;Engine:81-255,Target:2;0;d0cf11e0",
    "T.Mail;Engine:81-255,Target:4;0;46726f6d",
]

FILES = ["clam.zip", "clam.7z", "clam.newc.cpio", "clam.odc.cpio", "clam.bin-le.cpio",
         "clam.cab", "clam.bz2.zip", "clam.d64.zip", "clam.impl.zip", "clam.exe",
         "clam.mail", "clam.pdf", "clam.ole.doc", "clam.exe.mbox.base64", "clam.exe.bz2",
         "clam.arj", "clam.exe.rtf", "clam.ppt", "clam.tnef"]


SET_ONLY = {"clam.ole.doc", "clam.ppt"}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        print("failed:", " ".join(cmd), r.stderr[-1500:])
        sys.exit(2)
    seen, out = set(), []
    for line in r.stdout.splitlines():
        if line.strip() and line not in seen:
            seen.add(line)
            out.append(line)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--clamscan", default="clamscan")
    ap.add_argument("--testfiles", default="/usr/share/clamav-testfiles")
    a = ap.parse_args()
    files = [os.path.join(a.testfiles, f) for f in FILES if os.path.exists(os.path.join(a.testfiles, f))]
    if len(files) < 5:
        print("clamav-testfiles not installed")
        return 2
    bad = 0
    found = 0
    with tempfile.TemporaryDirectory(prefix="vg-cdbdiff-") as d:
        db = os.path.join(d, "db")
        os.mkdir(db)
        with open(os.path.join(db, "t.cdb"), "w") as f:
            f.write("\n".join(LINES) + "\n")
        with open(os.path.join(db, "t.ldb"), "w") as f:
            f.write("\n".join(LDB) + "\n")
        for extra in ([], ["--allmatch"]):
            for path in files:
                c = run([a.clamscan, "--no-summary"] + extra + ["-d", db, path])
                v = run([a.vigil, "scan", "--no-summary"] + extra + ["-d", db, path])
                found += sum(1 for l in c if l.endswith("FOUND"))
                if os.path.basename(path) in SET_ONLY:
                    if not extra:
                        continue  # which detection comes first differs (see above)
                    c, v = sorted(c), sorted(v)
                if c != v:
                    bad += 1
                    print("differ (%s) %s:\n  clamscan: %s\n  vigil:    %s" % (" ".join(extra) or "first",
                          os.path.basename(path), c, v))
    print("cdb/container diff: %d files x 2 modes, %d clamscan detections, %d differ" % (len(files), found, bad))
    return 1 if bad or found < 10 else 0


if __name__ == "__main__":
    sys.exit(main())
