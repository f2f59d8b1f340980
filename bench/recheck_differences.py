#!/usr/bin/python3
"""Re-runs the scanner differences of a bench run on just the files involved.

Reads the "explained_differences" of a results.json written by run_bench.py,
builds a database of only the signatures named there (taken from the run's
bench.ndb), scans only the files named there with clamscan and with vigil
(-z, limits raised as in the bench), and prints the (file, signature) pairs
each reports and where they differ. Exit status 1 when they differ.

usage: recheck_differences.py --out bench/out --vigil PATH [--clamscan clamscan]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile


def pairs(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    got = set()
    for line in r.stdout.decode(errors="replace").splitlines():
        if line.endswith(" FOUND"):
            path, sig = line[:-len(" FOUND")].rsplit(": ", 1)
            got.add((path, sig.replace(".UNOFFICIAL", "")))
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--clamscan", default="clamscan")
    a = ap.parse_args()
    res = json.load(open(os.path.join(a.out, "results", "results.json")))
    files, names = set(), set()
    for text, _ in res["check"]["explained_differences"]:
        m = re.match(r"(\S+): clamscan (.*); vigil (.*)", text)
        if not m:
            continue
        files.add(os.path.join(a.out, "corpus", m.group(1)))
        for s in re.split(r",\s*", m.group(2) + "," + m.group(3)):
            s = s.strip()
            if s and s != "nothing":
                names.add(s.replace(".UNOFFICIAL", ""))
    if not files:
        print("no differences recorded in that run")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "differences.ndb")
        with open(db, "w") as out:
            for line in open(os.path.join(a.out, "db", "bench.ndb")):
                if line.split(":", 1)[0] in names:
                    out.write(line)
        lim = ["--max-filesize=2000M", "--max-scansize=2000M"]
        env = dict(os.environ, VIGIL_CACHE_DIR=os.path.join(tmp, "cache"))
        os.environ.update(env)
        c = pairs([a.clamscan, "-z", "--no-summary", "-d", db] + lim + sorted(files))
        v = pairs([a.vigil, "scan", "-z", "--no-summary", "-d", db] + lim + sorted(files))
    print("%d files, %d signatures: clamscan %d pairs, vigil %d, in both %d"
          % (len(files), len(names), len(c), len(v), len(c & v)))
    for p in sorted(c - v):
        print("clamscan only: %s %s" % p)
    for p in sorted(v - c):
        print("vigil only: %s %s" % p)
    return 1 if c != v else 0


if __name__ == "__main__":
    sys.exit(main())
