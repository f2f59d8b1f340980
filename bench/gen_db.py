#!/usr/bin/python3
"""Seeded, deterministic generator of a ClamAV-scale signature database.

    /usr/bin/python3 bench/gen_db.py [--out DIR] [--seed N] [--small]
                                     [--hashes N] [--bodies N] [--check-sample N]

Writes into DIR (default bench/out):
  db/bench.hdb            MD5 hash signatures           HASH:SIZE:NAME[:MINFL]
  db/bench.hsb            SHA-1 and SHA-256 signatures, a few with '*' size (MinFL 73)
  db/bench.ndb            target-0 body signatures      NAME:0:OFFSET:HEX[:MINFL]
  targets/*.bin           files whose digest is in the database (gen_corpus.py plants them)
  db-manifest.json        parameters, material sources (path, section, SHA-256), the pool-C
                          files the corpora may use, the planted signatures with a matching
                          instance each, grammar counts, and the SHA-256 of every db file

Full scale (default): 4,000,000 hash signatures (about 88% MD5, 2% SHA-1, 10% SHA-256,
sizes log-normal around 180 KiB with families sharing sizes) and 200,000 body signatures.
--small: 20,000 hashes and 2,000 bodies from less material (the CI variant).

Body signature literals come from real bytes on this machine (material.py): code
sections of ELF files, printable strings of their .rodata (some as UTF-16LE), script
text.  A candidate is rejected when it is mostly 00/ff or one repeated byte, has a run
of 4 equal bytes, has few distinct bytes, or occurs in the material the corpora are made
of (so a signature does not match everywhere).  Grammar mix (by count): about 70% plain
hex of 11-60 bytes, the rest '??' and nibbles, '{n-m}' / '{-m}' / '{n-}' gaps, '*',
'{n}', single-byte, fixed-length and generic alternatives, and fixed offsets
('n', 'n,m', 'EOF-n'); 10% of lines carry a MinFL field.  The grammar avoids the
constructs where clamscan 1.4.6 and vigil deliberately differ (docs/compatibility.md):
no (B)/(L)/(W), no '{0}', alternatives never in front of the first four literal bytes.

Standard library only (Debian's /usr/bin/python3).
"""

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True          # no __pycache__ in the source tree
import material  # noqa: E402

GENERATOR_VERSION = 4

PLATFORMS = [('Win', 40), ('Unix', 8), ('Doc', 6), ('Xls', 3), ('Html', 5), ('Js', 6), ('Pdf', 4),
             ('Andr', 6), ('Osx', 2), ('Java', 2), ('Php', 3), ('Txt', 2), ('Vbs', 2), ('Ps1', 2),
             ('Multios', 2), ('Email', 2), ('Swf', 1), ('Rtf', 2)]
CATEGORIES = [('Trojan', 35), ('Malware', 25), ('Downloader', 8), ('Dropper', 6), ('Worm', 5), ('Virus', 4),
              ('Exploit', 4), ('Backdoor', 4), ('Ransomware', 3), ('Coinminer', 3), ('Packed', 3),
              ('Spyware', 2), ('Keylogger', 1), ('Tool', 2), ('Adware', 2)]
SYLLABLES = ['ag', 'ent', 'zb', 'ot', 'kel', 'vo', 'tra', 'mp', 'lok', 'i', 'em', 'ot', 'et', 'qak', 'bot',
             'ur', 'sni', 'ff', 'dri', 'dex', 'gen', 'kry', 'pt', 'mir', 'ai', 'gaf', 'gyt', 'xor', 'ddos',
             'fa', 'reit', 'ra', 'ms', 'vun', 'dri', 'par', 'ite', 'sal', 'ity', 'vir', 'ut', 'neu', 'tr',
             'ino', 'zeu', 's', 'cut', 'wail', 'dar', 'ko', 'met', 'mob', 'ila', 'hid', 'dad', 'jor', 'ik']


def weighted(rng, items):
    total = sum(w for _, w in items)
    x = rng.random() * total
    for v, w in items:
        x -= w
        if x < 0:
            return v
    return items[-1][0]


class Names:
    """ClamAV-style names, all distinct: Platform.Category.Family-ID-REV."""

    def __init__(self, rng):
        self.rng = rng
        fams = set()
        while len(fams) < 3000:
            n = ''.join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
            fams.add(n.capitalize())
        self.families = sorted(fams)
        rng.shuffle(self.families)
        self.next_id = 1000000 + rng.randrange(100000)
        # A few cumulative tables so drawing is cheap at 4M lines.
        self.plat = [p for p, w in PLATFORMS for _ in range(w)]
        self.cat = [c for c, w in CATEGORIES for _ in range(w)]

    def new(self):
        r = self.rng
        self.next_id += 1 + (r.getrandbits(3) == 0) * r.randrange(1, 50)
        fam = self.families[min(int(r.expovariate(1 / 300.0)), len(self.families) - 1)]
        return '%s.%s.%s-%d-%d' % (r.choice(self.plat), r.choice(self.cat), fam, self.next_id,
                                   0 if r.random() < 0.9 else r.randint(1, 3))


# ---------------------------------------------------------------------------
# Hash signatures
# ---------------------------------------------------------------------------

HASH_LEN = {'md5': 32, 'sha1': 40, 'sha256': 64}


def hash_size(rng, recent):
    """File size of a hash signature: log-normal around 180 KiB; 15% reuse a recent size
    (variants of one family share a size)."""
    if recent and rng.random() < 0.15:
        return rng.choice(recent)
    s = int(rng.lognormvariate(math.log(180 * 1024), 1.8))
    s = max(64, min(s, 400 << 20))
    recent.append(s)
    if len(recent) > 512:
        del recent[:256]
    return s


def gen_hash_lines(rng, names, n_hashes, n_wild, fixed):
    """Returns ({'hdb': [lines], 'hsb': [lines]}).  fixed: list of (file, line) lines that
    must appear (planted targets); they count towards n_hashes."""
    out = {'hdb': [], 'hsb': []}
    recent = []
    n_rand = n_hashes - len(fixed) - n_wild
    n_sha1 = int(n_rand * 0.02)
    n_sha256 = int(n_rand * 0.10)
    n_md5 = n_rand - n_sha1 - n_sha256
    minfl = [(None, 85), ('51', 5), ('73', 6), ('99', 4)]
    for algo, count, f in (('md5', n_md5, 'hdb'), ('sha1', n_sha1, 'hsb'), ('sha256', n_sha256, 'hsb')):
        bits = HASH_LEN[algo] * 4
        fmt = '%%0%dx:%%d:%%s' % HASH_LEN[algo]
        lines = out[f]
        for _ in range(count):
            line = fmt % (rng.getrandbits(bits), hash_size(rng, recent), names.new())
            m = weighted(rng, minfl)
            if m:
                line += ':' + m
            lines.append(line)
    for _ in range(n_wild):
        out['hsb'].append('%064x:*:%s:73' % (rng.getrandbits(256), names.new()))
    for f, line in fixed:
        out[f].insert(rng.randrange(len(out[f]) + 1), line)
    return out


# ---------------------------------------------------------------------------
# Body signatures
# ---------------------------------------------------------------------------

def has_run(b, n=4):
    run = 1
    for i in range(1, len(b)):
        run = run + 1 if b[i] == b[i - 1] else 1
        if run >= n:
            return True
    return False


def good_binary(b):
    L = len(b)
    if b[0] == b[1] or b[1] == b[2] or (b[0] == 0 and b[1] == 0) or (b[1] == 0 and b[2] == 0):
        return False
    if b.count(0) * 4 > L or b.count(0xff) * 5 > L:
        return False
    if max(b.count(x) for x in set(b)) * 10 > L * 3:
        return False
    if len(set(b)) * 10 < L * 4 or len(set(b)) < 6:
        return False
    return not has_run(b)


def good_text(b):
    L = len(b)
    if b[:1].isspace() or b[-1:].isspace() or b[0] == b[1]:
        return False
    if len(set(b)) < max(6, L // 4):
        return False
    if max(b.count(x) for x in set(b)) * 10 > L * 4:
        return False
    letters = sum(1 for x in b if 0x41 <= (x | 0x20) <= 0x7a and (x | 0x20) >= 0x61)
    if letters * 10 < L * 4:
        return False
    return not has_run(b)


class Source:
    """Candidate chunks of one kind, drawn from non-overlapping cells of the material so
    that planting one signature's instance never plants another's."""

    def __init__(self, rng, kind, blobs, cell):
        self.rng = rng
        self.kind = kind                   # 'code', 'string', 'script'
        self.cells = []                    # (blob index, start, end)
        self.blobs = blobs
        for bi, data in enumerate(blobs):
            for s in range(0, len(data) - cell + 1, cell):
                self.cells.append((bi, s, s + cell))
        rng.shuffle(self.cells)
        self.pos = 0

    def take(self, L):
        """A chunk of length about L (exactly L for code), or None when exhausted."""
        while self.pos < len(self.cells):
            bi, s, e = self.cells[self.pos]
            self.pos += 1
            data = self.blobs[bi]
            if self.kind == 'code':
                if e - s < L:
                    continue
                o = s + self.rng.randrange(0, e - s - L + 1)
                return data[o:o + L]
            # text: start at a word start, end at a word end when possible
            seg = data[s:e]
            if len(seg) < 10:
                continue
            starts = [0] if self.kind == 'string' and _word(seg[0]) else []
            starts += [i for i in range(1, len(seg) - 10) if not _word(seg[i - 1]) and _word(seg[i])]
            if not starts:
                continue
            i = self.rng.choice(starts[:8])
            j = min(len(seg), i + L)
            while j < len(seg) and j < i + 60 and _word(seg[j - 1]) and _word(seg[j]):
                j += 1                             # end at a word end when possible
            c = seg[i:j].rstrip()
            if len(c) >= 10:
                return c
        return None


def _word(x):
    return (0x30 <= x <= 0x39) or (0x41 <= x <= 0x5a) or (0x61 <= x <= 0x7a) or x == 0x5f


class Exhausted(Exception):
    pass


class BodyGen:
    def __init__(self, rng, names, index, sources):
        self.rng = rng
        self.names = names
        self.index = index
        self.sources = sources                          # kind -> Source
        self.seen = set()
        self.rejected = {}
        self.win11 = set()            # hashes of every 11-byte window of accepted literals
        self.pre11 = set()            # hashes of their first 11 bytes
        self.made = 0
        self.exhausted = set()
        self.cur_kind = None

    def _reject(self, kind, why):
        k = '%s:%s' % (kind, why)
        self.rejected[k] = self.rejected.get(k, 0) + 1

    def chunk(self, kind, L, minlen=11):
        """A filtered chunk of kind code/string/utf16/script, about L bytes (>= minlen)."""
        if kind == 'script':
            minlen = max(minlen, 31)
        for attempt in range(1, 1 << 30):
            if attempt % 100 == 0:                  # hard to find at this length: shorten
                L = max(minlen, L * 4 // 5)
            src_kind = 'string' if kind == 'utf16' else kind
            c = self.sources[src_kind].take(L if kind != 'utf16' else max(10, L // 2))
            if c is None:
                raise Exhausted(kind)
            if kind == 'utf16':
                c = c.decode('ascii').encode('utf-16-le')
                ok = good_text(c[::2])
            elif kind == 'code':
                ok = good_binary(c)
            else:
                ok = good_text(c)
            if not ok or len(c) < minlen:
                self._reject(kind, 'quality')
                continue
            if c in self.seen:
                self._reject(kind, 'duplicate')
                continue
            if self.index.hits(c, 16 if kind == 'script' else 8):
                self._reject(kind, 'clean-material')
                continue
            # No literal contains the start of another (11 bytes, the shortest literal),
            # so planting one signature's instance never plants another: the same string
            # occurs in many places of the material.
            wins = [hash(c[o:o + 11]) for o in range(len(c) - 10)]
            if wins[0] in self.win11 or not self.pre11.isdisjoint(wins):
                self._reject(kind, 'contains-or-inside-another-signature')
                continue
            self.win11.update(wins)
            self.pre11.add(wins[0])
            self.seen.add(c)
            return c

    def length(self, lo=11, hi=60, med=22):
        if self.cur_kind == 'script':              # script text: 31..60 bytes (see CleanIndex)
            lo, med = max(lo, 31), max(med, 38)
        return max(lo, min(hi, int(round(self.rng.lognormvariate(math.log(med), 0.45)))))

    def kind(self):
        kinds = [k for k in (('code', 62), ('string', 15), ('utf16', 5), ('script', 18)) if k[0] not in self.exhausted]
        if not kinds:
            raise SystemExit('gen_db: material exhausted after %d signatures (rejected: %s); lower --bodies or raise the budgets in material.py' % (self.made, self.rejected))
        return weighted(self.rng, kinds)

    # Each builder returns (pattern hex, offset, parts instance recipe, features)
    # recipe: list of bytes (static instance pieces) and ('gap', lo, hi) tuples.

    def plain(self, k):
        c = self.chunk(k, self.length())
        return c.hex(), [c], ['plain']

    def static_ok(self, k, c, loose):
        """With the bytes at positions `loose` wildcarded or alternated, can the pattern
        still match clean material?  It cannot when its longest static run does not occur
        there (checked like a chunk; long enough that every occurrence would be found)."""
        runs, start = [], 0
        for p in sorted(loose) + [len(c)]:
            runs.append(c[start:p])
            start = p + 1
        best = max(runs, key=len)
        need = 31 if k == 'script' else 11
        if len(best) < need:
            return False
        if self.index.hits(best, 16 if k == 'script' else 8):
            self._reject(k, 'clean-material-with-wildcards')
            return False
        return True

    def wildcard(self, k):
        while True:
            c = self.chunk(k, self.length(16, 60, 28), 16)
            L = len(c)
            pos = sorted(self.rng.sample(range(4, L - 2), min(L - 6, self.rng.randint(1, 4))))
            if self.static_ok(k, c, pos):
                break
        h = [c[i:i + 1].hex() for i in range(L)]
        feats = set()
        for p in pos:
            r = self.rng.random()
            if r < 0.8:
                h[p] = '??'
                feats.add('??')
            elif r < 0.9:
                h[p] = h[p][0] + '?'
                feats.add('nibble')
            else:
                h[p] = '?' + h[p][1]
                feats.add('nibble')
        return ''.join(h), [c], sorted(feats)

    def alternative(self, k):
        while True:
            c = self.chunk(k, self.length(16, 50, 26), 16)
            hx, feat = self._alternative(c)
            if hx:
                return hx, [c], [feat]

    def _alternative(self, c):
        L = len(c)
        r = self.rng.random()
        if r < 0.5:                                     # (aa|bb|cc)
            i = self.rng.randrange(4, L - 2)
            alts = {c[i]}
            while len(alts) < self.rng.randint(2, 4):
                alts.add(self.rng.randrange(256))
            alts = [bytes([a]) for a in sorted(alts)]
            span, feat = 1, 'alt-byte'
        elif r < 0.85:                                  # (aabb|ccdd) fixed length
            span = self.rng.randint(2, 4)
            i = self.rng.randrange(4, L - 2 - span + 1)
            alts = {c[i:i + span]}
            while len(alts) < self.rng.randint(2, 3):
                alts.add(bytes(self.rng.randrange(256) for _ in range(span)))
            alts = sorted(alts)
            feat = 'alt-fixed'
        else:                                           # generic: different lengths
            span = self.rng.randint(2, 4)
            i = self.rng.randrange(max(4, L // 2), L - 2 - span + 1)
            orig = c[i:i + span]
            other = orig
            while other == orig or other.startswith(orig) or orig.startswith(other) or len(other) == span:
                other = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 5)))
            alts = [orig, other]
            feat = 'alt-generic'
        if not self.static_ok(self.cur_kind, c, range(i, i + span)):
            return None, None
        self.rng.shuffle(alts)
        return c[:i].hex() + '(' + '|'.join(a.hex() for a in alts) + ')' + c[i + span:].hex(), feat

    def gapped(self, k, style):
        n_parts = 3 if style == '*' and self.rng.random() < 0.3 else 2
        lo_len = 15 if style == '*' else 12
        parts = [self.chunk(k, self.length(lo_len, 40, 20), lo_len) for _ in range(n_parts)]
        hx = parts[0].hex()
        recipe = [parts[0]]
        for p in parts[1:]:
            if style == '*':
                tok, g = '*', ('gap', 0, 1500)
            elif style == 'range':
                lo = self.rng.randint(0, 24)
                hi = lo + self.rng.randint(1, 40)
                form = self.rng.random()
                if form < 0.15:
                    tok, g = '{-%d}' % hi, ('gap', 0, hi)
                elif form < 0.25:
                    lo = max(lo, 1)
                    tok, g = '{%d-}' % lo, ('gap', lo, lo + 200)
                else:
                    tok, g = '{%d-%d}' % (lo, hi), ('gap', lo, hi)
            else:                                           # fixed {n}
                n = self.rng.randint(1, 127) if self.rng.random() < 0.6 else self.rng.choice([128, 200, 256, 512, 1024])
                tok, g = '{%d}' % n, ('gap', n, n)
            hx += tok + p.hex()
            recipe += [g, p]
        feat = {'*': 'star', 'range': 'gap-range', 'fixed': 'gap-fixed'}[style]
        return hx, recipe, [feat]

    def make(self):
        """One signature: dict(name, pattern, offset, recipe, kind, features)."""
        while True:
            k = self.kind()
            self.cur_kind = k
            state = self.rng.getstate()
            try:
                s = self._make(k)
                self.made += 1
                return s
            except Exhausted:
                self.exhausted.add(k)               # fall back to the other kinds
                self.rng.setstate(state)

    def _make(self, k):
        cls = weighted(self.rng, [('plain', 70), ('wildcard', 9), ('range', 6), ('star', 4), ('alt', 6),
                                  ('fixed', 2), ('offset', 3)])
        offset = '*'
        if cls == 'plain':
            hx, recipe, feats = self.plain(k)
        elif cls == 'wildcard':
            hx, recipe, feats = self.wildcard(k)
        elif cls == 'alt':
            hx, recipe, feats = self.alternative(k)
        elif cls == 'range':
            hx, recipe, feats = self.gapped(k, 'range')
        elif cls == 'star':
            hx, recipe, feats = self.gapped(k, '*')
        elif cls == 'fixed':
            hx, recipe, feats = self.gapped(k, 'fixed')
        else:
            hx, recipe, feats = self.plain(k)
            r = self.rng.random()
            if r < 0.33:
                offset = '0'
            elif r < 0.58:
                offset = str(self.rng.randint(16, 4096))
            elif r < 0.75:
                offset = '%d,%d' % (self.rng.randint(16, 4096), self.rng.randint(1, 64))
            else:
                offset = 'EOF-%d' % self.rng.randint(len(recipe[0]), 4096)
            feats = ['offset']
        name = self.names.new()
        line = '%s:0:%s:%s' % (name, offset, hx)
        m = weighted(self.rng, [(None, 90), ('51', 4), ('73', 3), ('99', 3)])
        if m:
            line += ':' + m
        return dict(name=name, line=line, offset=offset, recipe=recipe,
                    kind='text' if k in ('string', 'script') else 'binary', material=k, features=feats)


def instance(rng, sig, filler):
    """Bytes matching sig (recipe with gaps filled from filler(n))."""
    out = b''
    for piece in sig['recipe']:
        if isinstance(piece, tuple):
            _, lo, hi = piece
            out += filler(rng.randint(lo, hi))
        else:
            out += piece
    return out


# ---------------------------------------------------------------------------

PLANTS = {   # corpus -> (body instances, [hash targets: (algo, size kind)])
    'full': {'small': (40, [('md5', 's')] * 8 + [('sha1', 's')] * 2 + [('sha256', 's'), ('sha256-wild', 's')]),
             'large': (6, [('md5', 'L')]),
             'text': (8, []),
             'archive': (5, [('md5', 'a')])},
    'small': {'small': (12, [('md5', 's'), ('md5', 's'), ('sha1', 's'), ('sha256', 's'), ('sha256-wild', 's')]),
              'large': (2, [('md5', 'L')]),
              'text': (3, []),
              'archive': (5, [('md5', 'a')])},
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(HERE, 'out'))
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--small', action='store_true', help='CI scale: 20,000 hashes, 2,000 bodies, less material')
    ap.add_argument('--hashes', type=int)
    ap.add_argument('--bodies', type=int)
    ap.add_argument('--wild', type=int, help="number of '*'-size SHA-256 lines (default 20, small 3)")
    ap.add_argument('--check-sample', type=int, default=3000,
                    help='load this many random lines in clamscan and check each loads (0: skip)')
    ap.add_argument('--clamscan', default=shutil.which('clamscan') or 'clamscan')
    a = ap.parse_args(argv)
    scale = 'small' if a.small else 'full'
    n_hashes = a.hashes if a.hashes is not None else (20000 if a.small else 4000000)
    n_bodies = a.bodies if a.bodies is not None else (2000 if a.small else 200000)
    n_wild = a.wild if a.wild is not None else (3 if a.small else 20)
    t0 = time.monotonic()

    def log(msg):
        print('gen_db: [%5.1fs] %s' % (time.monotonic() - t0, msg), flush=True)

    out = os.path.abspath(a.out)
    dbdir = os.path.join(out, 'db')
    tdir = os.path.join(out, 'targets')
    for d in (dbdir, tdir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    man_path = os.path.join(out, 'db-manifest.json')
    if os.path.exists(man_path):
        os.unlink(man_path)

    pools = material.Pools(a.seed, scale, log)
    code, rodata, s_sources = pools.s_code_and_rodata()
    scripts, sc_sources = pools.s_scripts()
    strings = []
    for _, data in rodata:
        strings += [m.group(0) for m in material.PRINTABLE_RUN.finditer(data)]
    log('pool S: %d code windows (%.1f MiB), %d strings, %d scripts (%.1f MiB)' % (
        len(code), sum(len(d) for _, d in code) / 2**20, len(strings), len(scripts),
        sum(len(d) for _, d in scripts) / 2**20))

    # Pool C: what the corpora are made of; index it so signatures do not match it.
    index = material.CleanIndex()
    c_elf = pools.c_elf()
    c_text = pools.c_text()
    for e in c_elf + c_text:
        data = material.load_checked(e)
        if data is None:
            raise SystemExit('gen_db: %s changed while reading' % e['path'])
        index.add(data, text=e in c_text)
    for i in range(4):                       # the vocabulary of the corpora's synthetic logs
        index.add(material.log_text(random.Random('logindex:%d' % i), 1 << 20), text=True)
    log('pool C: %d ELF files (%.1f MiB), %d text files (%.1f MiB); index %d words' % (
        len(c_elf), sum(e['size'] for e in c_elf) / 2**20, len(c_text),
        sum(e['size'] for e in c_text) / 2**20, len(index.words8) + len(index.words16)))
    if not c_elf or not c_text or not code or not scripts:
        raise SystemExit('gen_db: not enough material on this machine')

    rng = random.Random('db:%d' % a.seed)
    names = Names(random.Random('names:%d' % a.seed))
    srcs = {'code': Source(rng, 'code', [d for _, d in code], 64),
            'string': Source(rng, 'string', strings, 1 << 30),
            'script': Source(rng, 'script', [d for _, d in scripts], 96)}
    # strings: each run is one cell
    srcs['string'].cells = [(i, o, min(o + 64, len(s))) for i, s in enumerate(strings)
                            for o in range(0, len(s) - 11, 64)]
    rng.shuffle(srcs['string'].cells)

    bg = BodyGen(rng, names, index, srcs)
    bodies = [bg.make() for _ in range(n_bodies)]
    log('body signatures: %d (rejected: %s)%s' % (len(bodies), bg.rejected, (
        '; material exhausted for: %s' % ', '.join(sorted(bg.exhausted))) if bg.exhausted else ''))

    # Filler for gaps and files: pool-C material of the right kind.
    c_elf_data = [material.load_checked(e) for e in c_elf[:8]]
    c_text_data = [material.load_checked(e) for e in c_text[:64]]

    def filler_of(kind):
        pool = c_text_data if kind == 'text' else c_elf_data

        def f(n):
            out = b''
            while len(out) < n:
                d = rng.choice(pool)
                o = rng.randrange(0, max(1, len(d) - n))
                out += d[o:o + n - len(out)]
            return out
        return f

    # Choose planted signatures.
    plan = PLANTS[scale]
    body_plants = []
    used = set()

    def pick(pred):
        cands = [s for s in bodies if pred(s) and s['name'] not in used]
        s = rng.choice(cands)
        used.add(s['name'])
        return s

    feature_cycle = ['plain', '??', 'alt-byte', 'gap-range', 'star', 'alt-fixed', 'gap-fixed', 'nibble',
                     'alt-generic', 'plain', 'plain']
    for corpus in ('small', 'large', 'text', 'archive'):
        n_body = plan[corpus][0]
        for i in range(n_body):
            if corpus == 'small' and i % 7 == 3:
                s = pick(lambda s: s['features'] == ['offset'])
            elif corpus == 'text':
                s = pick(lambda s: s['kind'] == 'text' and s['offset'] == '*' and len(s['recipe']) == 1)
            else:
                want = feature_cycle[i % len(feature_cycle)]
                s = pick(lambda s, w=want: w in s['features'] and s['offset'] == '*')
            inst = instance(rng, s, filler_of(s['kind']))
            body_plants.append(dict(name=s['name'], corpus=corpus, line=s['line'], offset=s['offset'],
                                    kind=s['kind'], material=s['material'], features=s['features'],
                                    instance=inst.hex()))

    # Hash targets: pool-C bytes, made unique, with their digest in the database.
    fixed, hash_targets = [], []
    for corpus in ('small', 'large', 'text', 'archive'):
        for n, (algo, sk) in enumerate(plan[corpus][1]):
            if sk == 's':
                size = max(200, min(200000, int(rng.lognormvariate(math.log(4096), 1.0))))
            elif sk == 'L':
                size = (12 << 20) if scale == 'full' else (3 << 20)
            else:
                size = 20000 + rng.randrange(10000)
            kind = 'text' if rng.random() < 0.3 and sk == 's' else 'binary'
            data = bytearray(filler_of(kind)(size))
            p = rng.randrange(size)
            # make the content unique (a marker word in text, random bytes in binaries)
            data[p:p + 16] = (b'vigil-bench-%04d' % len(hash_targets)) if kind == 'text' else \
                bytes(rng.randrange(256) for _ in range(16))
            data = bytes(data[:size])
            name = names.new()
            base = algo.replace('-wild', '')
            digest = hashlib.new(base, data).hexdigest()
            size_field = '*' if algo.endswith('-wild') else str(size)
            line = '%s:%s:%s' % (digest, size_field, name) + (':73' if size_field == '*' else '')
            fname = 'target-%02d.bin' % len(hash_targets)
            with open(os.path.join(tdir, fname), 'wb') as fh:
                fh.write(data)
            fixed.append(('hdb' if base == 'md5' else 'hsb', line))
            hash_targets.append(dict(name=name, corpus=corpus, algo=base, size_field=size_field, size=size,
                                     file='targets/' + fname, kind=kind, line=line))

    hl = gen_hash_lines(rng, names, n_hashes, n_wild, fixed)
    log('hash signatures: %d .hdb, %d .hsb' % (len(hl['hdb']), len(hl['hsb'])))

    body_lines = [s['line'] for s in bodies]
    files = {'bench.hdb': hl['hdb'], 'bench.hsb': hl['hsb'], 'bench.ndb': body_lines}
    db_hashes = {}
    total = hashlib.sha256()
    for fname in sorted(files):
        data = ('\n'.join(files[fname]) + '\n').encode()
        with open(os.path.join(dbdir, fname), 'wb') as fh:
            fh.write(data)
        db_hashes[fname] = dict(sha256=hashlib.sha256(data).hexdigest(), lines=len(files[fname]), bytes=len(data))
        total.update(fname.encode() + b'\0' + data)

    grammar = {}
    for s in bodies:
        for f in s['features']:
            grammar[f] = grammar.get(f, 0) + 1
        grammar['material:' + s['material']] = grammar.get('material:' + s['material'], 0) + 1
        if s['line'].count(':') == 4:
            grammar['minfl'] = grammar.get('minfl', 0) + 1
    lens = sorted(sum(len(p) for p in s['recipe'] if not isinstance(p, tuple)) for s in bodies)

    manifest = dict(
        generator_version=GENERATOR_VERSION, seed=a.seed, scale=scale,
        params=dict(hashes=n_hashes, bodies=n_bodies, wild=n_wild),
        db_sha256=total.hexdigest(), db_files=db_hashes,
        material=dict(s_sources=s_sources + sc_sources, c_elf=c_elf, c_text=c_text,
                      budgets=material.BUDGETS[scale]),
        rejected=bg.rejected, exhausted=sorted(bg.exhausted), grammar=grammar,
        literal_bytes=dict(min=lens[0], median=lens[len(lens) // 2], max=lens[-1]),
        body_plants=body_plants, hash_targets=hash_targets,
        host=os.uname().nodename, generated_seconds=round(time.monotonic() - t0, 1))
    with open(man_path + '.tmp', 'w') as fh:
        json.dump(manifest, fh, indent=1)
    log('database %s (sha256 %s)' % (dbdir, total.hexdigest()[:16]))

    if a.check_sample:
        check_sample(a.clamscan, files, a.check_sample, random.Random(a.seed), log)
    os.rename(man_path + '.tmp', man_path)
    log('done')
    return 0


def check_sample(clamscan, files, n, rng, log):
    """Load a random sample of lines in clamscan; every line must load."""
    if not shutil.which(clamscan):
        log('clamscan not found: sample check skipped')
        return
    with tempfile.TemporaryDirectory() as d:
        want = 0
        for fname, lines in files.items():
            k = min(len(lines), n)
            sample = rng.sample(lines, k)
            want += k
            with open(os.path.join(d, 'sample' + os.path.splitext(fname)[1]), 'w') as fh:
                fh.write('\n'.join(sample) + '\n')
        tiny = os.path.join(d, 'tiny.txt')
        with open(tiny, 'w') as fh:
            fh.write('hello\n')
        p = subprocess.run([clamscan, '-d', d, tiny], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        known = [ln for ln in p.stdout.splitlines() if ln.startswith('Known viruses:')]
        got = int(known[0].split(':')[1]) if known else -1
        if p.returncode != 0 or got != want:
            sys.stderr.write(p.stderr)
            raise SystemExit('gen_db: clamscan loaded %d of %d sampled lines (exit %d)' % (got, want, p.returncode))
        log('clamscan loads all %d sampled lines' % want)


if __name__ == '__main__':
    sys.exit(main())
