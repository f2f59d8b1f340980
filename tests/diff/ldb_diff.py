#!/usr/bin/python3
"""Differential test of logical signatures (.ldb) against Debian's clamscan.

Generates, from a seed, a database of logical signatures and a set of binary
files with planted subsignature instances, runs `clamscan --allmatch` and
`vigil scan --allmatch` on them and compares the (file, signature) pairs.

Also compared: the first detection of each file without --allmatch.

Covered: ClamAV's expression grouping (no precedence, first top-level
operator splits, blocks split at their last inner operator), counts on
subsignatures and blocks (=x, >x, <x, =x,y), the modifiers ::i ::w ::f ::a,
offsets (n, n,m, EOF-n), PCRE subsignatures (triggers, flags i g r e, offsets)
and byte compare (i/h/d, l/b, e, <<, >>).

Files are binary (control and high bytes around printable tokens) so that
clamscan does not also scan a normalised text view of them (it would match
target-0 signatures a second time, lower-cased; vigil has no such view yet).
clamscan prints a logical signature once per match path; pairs are compared
as sets.

Usage: ldb_diff.py --vigil PATH [--clamscan PATH] [--seed N] [--sigs N]
       [--files N] [--keep DIR]
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile


def tok(rng, n):
    """A token of letters that no other token contains and noise never makes."""
    return "".join(rng.choice("bcdfghjkmnpqrstvwxz") for _ in range(n))


class Gen:
    def __init__(self, seed, nsigs, nfiles):
        self.rng = random.Random(seed)
        self.nsigs = nsigs
        self.nfiles = nfiles
        self.tokens = []
        seen = set()
        while len(self.tokens) < 40:
            t = tok(self.rng, self.rng.randint(4, 7))
            if all(t not in o and o not in t for o in seen):
                seen.add(t)
                self.tokens.append(t)

    # ---- expressions ---------------------------------------------------
    def expr(self, ids, depth=0):
        """An expression using every id in ids at least once."""
        rng = self.rng
        if len(ids) == 1:
            e = str(ids[0])
            r = rng.random()
            if r < 0.15:
                e += "=%d" % rng.randint(0, 3)
            elif r < 0.25:
                e += ">%d" % rng.randint(0, 2)
            elif r < 0.35:
                e += "<%d" % rng.randint(1, 3)
            return e
        k = rng.randint(1, len(ids) - 1)
        left, right = ids[:k], ids[k:]
        op = rng.choice("&|")
        le = self.expr(left, depth + 1)
        re_ = self.expr(right, depth + 1)
        shape = rng.random()
        if shape < 0.35:
            # a block, maybe with a count
            e = "(%s%s%s)" % (le, op, re_)
            r = rng.random()
            if r < 0.2:
                e += "=%d" % rng.randint(0, 4)
            elif r < 0.35:
                e += ">%d" % rng.randint(0, 3)
            elif r < 0.45:
                e += "<%d" % rng.randint(1, 4)
            elif r < 0.6:
                e += ">%d,%d" % (rng.randint(0, 2), rng.randint(1, len(ids)))
            return e
        # unparenthesised chains exercise ClamAV's grouping
        return "%s%s%s" % (le, op, re_)

    # ---- subsignatures -------------------------------------------------
    def content_sub(self, t):
        """A content subsignature for token t and how it is planted."""
        rng = self.rng
        hexs = t.encode().hex()
        mod = rng.choice(["", "", "", "i", "w", "wa", "f", "if", "iw"])
        if rng.random() < 0.1:
            # two parts: this token, a gap, another token
            t2 = rng.choice(self.tokens).encode().hex()
            hexs += rng.choice(["*", "{0-40}", "{-30}", "{2-}", "??"]) + t2
            mod = rng.choice(["", "", "i"])
        off = ""
        if rng.random() < 0.15:
            off = rng.choice(["%d:" % rng.randint(16, 40), "%d,%d:" % (rng.randint(16, 40), rng.randint(0, 30)),
                              "EOF-%d:" % rng.randint(20, 60)])
        sub = off + hexs + ("::" + mod if mod else "")
        return sub, {"tok": t, "mod": mod, "off": off}

    def pcre_sub(self, idx):
        rng = self.rng
        t = rng.choice(self.tokens)
        trig = str(rng.randint(0, idx - 1)) if idx else None
        body = t[:2] + "[a-z]" + t[3:]
        flags = rng.choice(["", "", "i", "g", "ig", "r", "e", "s"])
        off = ""
        if rng.random() < 0.2:
            off = "%d:" % rng.randint(16, 40)
            flags = rng.choice(["", "r", "e", "re"])
        return "%s%s/%s/%s" % (off, trig, body, flags), {"tok": t, "pcre": True}

    def bcomp_sub(self, ref):
        rng = self.rng
        kind = rng.choice(["il2", "ib2", "il1", "ib4", "hb4", "db3", "hbe4", "il4"])
        off = rng.choice([">>%d" % rng.randint(0, 12), "<<%d" % rng.randint(1, 4), "0"])
        op = rng.choice("<>=")
        val = rng.randint(0, 300)
        cmp = "%s%d" % (op, val)
        if rng.random() < 0.2:
            cmp += ",%s%d" % (rng.choice("<>"), rng.randint(0, 600))
        return "%d(%s#%s#%s)" % (ref, off, kind, cmp)

    def signatures(self):
        rng = self.rng
        lines = []
        for n in range(self.nsigs):
            nsub = rng.randint(1, 5)
            subs = []
            specs = []
            for i in range(nsub):
                r = rng.random()
                if i > 0 and r < 0.12:
                    s, spec = self.pcre_sub(i)
                elif i > 0 and r < 0.22:
                    s, spec = self.bcomp_sub(rng.randint(0, i - 1)), {"bcomp": True}
                else:
                    s, spec = self.content_sub(rng.choice(self.tokens))
                subs.append(s)
                specs.append(spec)
            # content first: subsignature 0 must be content for triggers
            if "tok" not in specs[0] or specs[0].get("pcre"):
                s, spec = self.content_sub(rng.choice(self.tokens))
                subs[0], specs[0] = s, spec
            ids = list(range(nsub))
            rng.shuffle(ids)
            e = self.expr(ids)
            tdb = rng.choice(["Engine:81-255,Target:0", "Target:0", "Engine:51-255,Target:0"])
            if any(sp.get("pcre") or sp.get("bcomp") or sp.get("mod") or sp.get("off") for sp in specs):
                tdb = "Engine:81-255,Target:0"
            if rng.random() < 0.1:
                if tdb == "Target:0":
                    tdb = "Engine:51-255,Target:0"
                tdb += ",FileSize:%d-%d" % (rng.randint(100, 400), rng.randint(400, 2000))
            lines.append("Ldb.Diff.%d;%s;%s;%s" % (n, tdb, e, ";".join(subs)))
        return lines

    # ---- files -----------------------------------------------------------
    def noise(self, n):
        rng = self.rng
        # mostly bytes that are not UTF-8 or UTF-16 text: clamscan types the
        # file as binary and scans no normalised text view of it
        return bytes(rng.choice([0x80, 0x9a, 0xc3, 0xe0, 0xf8, 0xfe, 0xa7, 0x81, 0x01, 0x1f, 0x20, 0x2e,
                                 0x7f, 0xb5, 0xd9, 0x8f])
                     for _ in range(n))

    def plant(self, t):
        rng = self.rng
        r = rng.random()
        b = t.encode()
        if r < 0.15:
            b = t.upper().encode()
        elif r < 0.25:
            b = "".join(c.upper() if rng.random() < 0.5 else c for c in t).encode()
        if rng.random() < 0.2:
            b = b"".join(bytes([c, 0]) for c in b)
        if rng.random() < 0.15:
            b = rng.choice([b"a", b"Z", b"7"]) + b  # breaks ::f on the left
        if rng.random() < 0.3:
            # a number after it, for byte compares
            b += rng.choice([bytes([rng.randint(0, 255), rng.randint(0, 2)]),
                             ("%04x" % rng.randint(0, 400)).encode(),
                             ("%03d" % rng.randint(0, 400)).encode(),
                             bytes([rng.randint(0, 255)]) * 4])
        return b

    def files(self, outdir):
        rng = self.rng
        names = []
        for i in range(self.nfiles):
            size = rng.randint(120, 1500)
            # "\x00\x01" at offset 2 makes libclamav's UTF-16 test fail and the
            # high bytes its ASCII/UTF-8 tests: the file is binary to clamscan
            data = bytearray(b"\xf8\x81\x00\x01VGLDB\x9a\xc3" + self.noise(size))
            for _ in range(rng.randint(1, 9)):
                t = rng.choice(self.tokens)
                p = self.plant(t)
                for _ in range(rng.choice([1, 1, 1, 2, 3])):
                    if rng.random() < 0.2:
                        at = rng.choice([rng.randint(16, 70), max(12, len(data) - rng.randint(20, 60))])
                    else:
                        at = rng.randint(12, len(data))
                    data[at:at] = p
            name = os.path.join(outdir, "f%03d.bin" % i)
            with open(name, "wb") as f:
                f.write(bytes(data))
            names.append(name)
        return names


def found_pairs(out):
    pairs = set()
    for line in out.splitlines():
        if line.endswith(" FOUND"):
            path, _, rest = line.rpartition(": ")
            pairs.add((os.path.basename(path), rest[:-len(" FOUND")]))
    return pairs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--clamscan", default="clamscan")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sigs", type=int, default=300)
    ap.add_argument("--files", type=int, default=120)
    ap.add_argument("--keep")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="vg-ldbdiff-")
    try:
        g = Gen(a.seed, a.sigs, a.files)
        db = os.path.join(work, "diff.ldb")
        with open(db, "w") as f:
            f.write("\n".join(g.signatures()) + "\n")
        fdir = os.path.join(work, "files")
        os.mkdir(fdir)
        files = g.files(fdir)
        clam = subprocess.run([a.clamscan, "--no-summary", "--allmatch", "-d", db] + files,
                              capture_output=True, text=True)
        if clam.returncode not in (0, 1):
            print("clamscan failed:", clam.stderr[-2000:])
            return 2
        vig = subprocess.run([a.vigil, "scan", "--no-summary", "--allmatch", "-d", db] + files,
                             capture_output=True, text=True)
        if vig.returncode not in (0, 1):
            print("vigil failed:", vig.stderr[-2000:])
            return 2
        cp, vp = found_pairs(clam.stdout), found_pairs(vig.stdout)
        # without --allmatch each file reports its first detection: the same
        # one as clamscan (logical signatures in load order)
        clam1 = subprocess.run([a.clamscan, "--no-summary", "-d", db] + files, capture_output=True, text=True)
        vig1 = subprocess.run([a.vigil, "scan", "--no-summary", "-d", db] + files, capture_output=True, text=True)
        c1 = sorted(set(l for l in clam1.stdout.splitlines() if l.strip()))
        v1 = sorted(set(l for l in vig1.stdout.splitlines() if l.strip()))
        first_diff = sorted(set(c1) ^ set(v1))
        only_c, only_v = sorted(cp - vp), sorted(vp - cp)
        sigs = {l.split(";")[0]: l for l in open(db).read().splitlines()}
        print("ldb diff: seed %d, %d signatures, %d files: clamscan %d detections, vigil %d, "
              "agreeing %d" % (a.seed, a.sigs, a.files, len(cp), len(vp), len(cp & vp)))
        for what, lst in (("clamscan only", only_c), ("vigil only", only_v)):
            for f, s in lst[:30]:
                print("  %s: %s %s\n      %s" % (what, f, s, sigs.get(s.replace(".UNOFFICIAL", ""), "?")))
        # every feature must be exercised by detections both scanners agree on,
        # and by signatures that do not fire (so a feature that made
        # everything match, or nothing, would fail)
        features = {
            "block count (..)=x/>x/<x": lambda l: any(c in l.split(";")[2] for c in (")=", ")>", ")<")),
            "block ,y distinct": lambda l: ")>" in l.split(";")[2] and "," in l.split(";")[2],
            "subsig count x=n/>n/<n": lambda l: any(ch.isdigit() and nx in "=<>" for ch, nx in
                                                   zip(l.split(";")[2], l.split(";")[2][1:])),
            "unparenthesised chain": lambda l: sum(l.split(";")[2].count(o) for o in "&|") >= 2
                                               and not l.split(";")[2].startswith("("),
            "::i": lambda l: "::i" in l, "::w": lambda l: "::w" in l or "::iw" in l,
            "::f": lambda l: "f" in "".join(x.split("::")[1] for x in l.split(";")[3:] if "::" in x),
            "::wa": lambda l: "::wa" in l,
            "offset": lambda l: any(re.match(r"^(\d+(,\d+)?|EOF-\d+):[0-9a-f]", x) for x in l.split(";")[3:]),
            "multi-part pattern": lambda l: any("*" in x or "{" in x for x in l.split(";")[3:]),
            "pcre": lambda l: "/" in l, "byte compare": lambda l: "#" in l,
        }
        agree = cp & vp
        fired = {s for _, s in agree}
        bad = False
        for name, test in features.items():
            hits = sum(1 for _, s in agree if test(sigs.get(s.replace(".UNOFFICIAL", ""), "")))
            quiet = sum(1 for n, l in sigs.items() if test(l) and n + ".UNOFFICIAL" not in fired)
            print("  %-26s %5d agreeing detections, %3d such signatures never fired" % (name, hits, quiet))
            if hits < 5:
                bad = True
        if bad:
            print("a feature is not exercised enough for the test to mean anything")
            return 1
        print("  first detection without --allmatch: %d files, %d lines differ" % (len(files), len(first_diff)))
        for l in first_diff[:20]:
            print("    %s %s" % ("clamscan:" if l in c1 else "vigil:   ", l))
        if a.keep:
            shutil.copytree(work, a.keep, dirs_exist_ok=True)
        return 1 if only_c or only_v or first_diff else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
