#!/usr/bin/python3
"""Differential test: vigil scan against Debian's clamscan on a generated corpus.

    /usr/bin/python3 run_diff.py [--vigil PATH] [--seed N] [--scale ci|large]
                                 [--require pairs|order|all] [--keep DIR]

1. Generates a database and corpus (gen_diff_corpus.py) into a temporary folder.
2. Runs `clamscan -z --no-summary -d DB -r FILES` and checks it against what the
   generator planted (the generator's self-check: every planted true positive must be
   reported, no near-miss may be).  A failure here means the generator's model of
   ClamAV is wrong, not that vigil is.
3. With --vigil, runs `vigil scan -z --no-summary -d DB -r FILES` and compares:
     CHECK pairs   : the (file, signature) pairs of FOUND lines.  A pair reported by
                     one scanner only is excused only when it is one of the known,
                     deliberate divergences (docs/compatibility.md), re-checked here
                     against the manifest and the file bytes:
                       F5  clamscan only: a planted buffer-edge-quirk instance (right
                           (B)/(L)/(W) violated, the part ends where a 128 KiB scan
                           buffer ends);
                       F9  vigil only: a planted true match at a fixed offset whose
                           signature has (B)/(L)/(W) before clamscan's anchor, and the
                           offset range misses clamscan's estimate of the start;
                       F1/F2/F4  clamscan prints a pair more than once, vigil once.
                     Everything else fails.  The clamscan behaviours vigil reproduces
                     (F6 F7 F8 F13 F15 F16 F17) are listed with their corpus cases.
     CHECK status  : the non-FOUND lines ("OK", "Empty file") of every file
     CHECK exit    : the exit codes
     CHECK order   : the order of the files, and within each file the order of the
                     distinct detections (first occurrence) that both report (F3)
   --require pairs checks pairs, status and exit code; --require order the order;
   --require all both.  The generator's self-check is always required.
Exit status: 0 when every required check passes, 1 otherwise, 2 on usage errors.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_diff_corpus  # noqa: E402
from gen_diff_corpus import BOUNDARY, chunks_of, isalnum, offset_range  # noqa: E402

MAX_SHOWN = 25
MAX_EXCUSED_SHOWN = 40

DIVERGENCES = [
    ('F1/F2/F4', 'multiplicity: clamscan prints a pair once per match, twice for binary files and '
                 'again in buffer overlaps; vigil prints each (file, signature) once'),
    ('F5', 'right (B)/(L)/(W) accepted at the end of a clamscan 128 KiB scan buffer whatever '
           'byte follows (clamscan only)'),
    ('F9', 'fixed-offset pre-check: (B)/(L)/(W) before clamscan\'s anchor counted as 0 bytes, '
           'clamscan misses a true match (vigil only)'),
]

REPRODUCED = [
    ('F6', '{0} is *'),
    ('F7', 'a left anchor or look-behind does not move a fixed offset'),
    ('F8', 'a leading !(B)/!(L)/!(W) consumes a byte'),
    ('F13', 'EOF-n with n > file size never matches'),
    ('F15', 'files of 1..5 bytes get no detection'),
    ('F16', 'duplicate hash lines (same digest and size): only the last loaded is reported'),
    ('F17', 'FLEVEL is checked before a line is validated'),
]


def parse_output(text, root):
    """Lines of clamscan-style output -> (found pairs list, all lines normalised)."""
    pairs = []
    lines = []
    prefix = root.rstrip('/') + '/'
    for line in text.splitlines():
        if line.startswith(prefix):
            line = line[len(prefix):]
        lines.append(line)
        if line.endswith(' FOUND'):
            path, _, rest = line.rpartition(': ')
            pairs.append((path, rest[:-len(' FOUND')]))
    return pairs, lines


def strip_unofficial(name):
    return name[:-len('.UNOFFICIAL')] if name.endswith('.UNOFFICIAL') else name


def run_scanner(argv, label):
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors='replace')
    dt = time.monotonic() - t0
    print('%s: exit %d in %.2f s: %s' % (label, p.returncode, dt, ' '.join(argv)))
    return p


def describe(manifest, path, name):
    """Human-readable context for one (file, signature) pair."""
    out = []
    sig = manifest['signatures'].get(name)
    if sig:
        line = sig['line']
        if len(line) > 300:
            line = line[:300] + '...(%d chars)' % len(sig['line'])
        out.append('    signature  db/%s:%d: %s' % (sig['db'], sig['lineno'], line))
    else:
        out.append('    signature  %s (not in the manifest)' % name)
    f = manifest['files'].get(path)
    if f is None:
        out.append('    file       %s (not generated)' % path)
        return out
    out.append('    file       %s (%d bytes, %s material%s)' % (path, f['size'], f['kind'],
                                                               ', allow-listed' if f['allow_listed'] else ''))
    insts = [i for i in f['instances'] if i['sig'] == name]
    for i in insts:
        parts = ', '.join('part%d @%d..%d' % (k + 1, g['s'], g['e']) for k, g in enumerate(i['parts']))
        out.append('    planted    %s (%s) match start @%d, clamscan anchor @%d [%s]; clamscan model: %s; '
                   'pattern meaning (vigil): %s%s; %s' % (
                       i['label'], 'violates: ' + i['violate'] if i['violate'] else 'matches the pattern',
                       i['start'], i['window'], parts, i['verdict'], i['intended'],
                       ' (known divergence %s)' % ','.join(i['quirks']) if i['quirks'] else '',
                       ' '.join(i['what'])))
    h = manifest['hash'].get(name)
    if h is not None and 'files/' + h['file'] == path:
        out.append('    hash       whole-file %s hash line (db/%s)%s%s' % (
            h['algo'], h['db'], ', skipped by FLEVEL' if h['skipped'] else '',
            ', shadowed by a later duplicate line' if h.get('shadowed') else ''))
    elif not insts:
        out.append('    planted    nothing of this signature in this file')
    if name in manifest['ignored']:
        out.append('    note       listed in ignore.ign2')
    return out


def self_check(manifest, clam_pairs):
    """Compare clamscan with what the generator expects.  Returns list of problems."""
    problems = []
    got = collections.defaultdict(set)
    for path, name in clam_pairs:
        got[path].add(strip_unofficial(name))
    for path, f in sorted(manifest['files'].items()):
        g = got.get(path, set())
        forbidden = set()
        for ins in f['instances']:
            if ins['verdict'] in ('miss', 'skipped'):
                forbidden.add(ins['sig'])
        for name in f['expect']:
            if name not in g:
                problems.append(('not detected by clamscan (planted true positive)', path, name))
        for name in sorted(g):
            if name in f['expect'] or name in f['unsure']:
                continue
            why = 'near-miss detected by clamscan' if name in forbidden else 'unexpected detection by clamscan'
            problems.append((why, path, name))
    return problems


# ---------------------------------------------------------------------------
# Known divergences: each excuse is re-derived from the manifest and the bytes
# ---------------------------------------------------------------------------

def right_boundary_ok(data, e, kind):
    """Does the byte at e (a real byte, not the file end) satisfy a right (kind)?"""
    b = data[e]
    if kind == 'B':
        return BOUNDARY.get(b, 0) >= 2
    if kind == 'L':
        return b == 0x0a or (b == 0x0d and e + 1 < len(data) and data[e + 1] == 0x0a)
    return not isalnum(b)


def excuse_f5(manifest, work, path, name):
    """A pair only clamscan reports: F5 if the file holds a planted buffer-edge-quirk
    instance of the signature whose last part ends exactly at the end of a clamscan
    scan buffer (not the file end), followed by a byte that violates the right
    (B)/(L)/(W), and no instance that truly matches.  Returns a reason or None."""
    f = manifest['files'].get(path)
    body = manifest['body'].get(name)
    if f is None or body is None or not body['rb_last'] or body['rb_last'][1]:
        return None
    insts = [i for i in f['instances'] if i['sig'] == name]
    if any(i['intended'] in ('hit', 'unsure') for i in insts):
        return None                                  # vigil should have reported it
    with open(os.path.join(work, path), 'rb') as fh:
        data = fh.read()
    ends = {ce: k for k, (cs, ce) in enumerate(chunks_of(len(data), manifest['maxpatlen'])) if ce < len(data)}
    kind = body['rb_last'][0]
    for i in insts:
        if i['label'] != 'buffer-edge quirk' or 'F5' not in i['quirks'] or i['verdict'] != 'hit':
            continue
        e = i['parts'][-1]['e']
        if e in ends and not right_boundary_ok(data, e, kind):
            return ('planted buffer-edge-quirk instance @%d..%d ends where scan buffer %d ends; the next '
                    'byte 0x%02x is no right (%s) boundary' % (i['start'], e, ends[e], data[e], kind))
    return None


def excuse_f9(manifest, path, name):
    """A pair only vigil reports: F9 if the file holds a planted instance that truly
    matches the pattern (no violation, every context satisfied, start inside the offset
    range), the signature has a fixed offset and (B)/(L)/(W) before clamscan's anchor,
    and the offset range misses clamscan's estimate of the start (anchor minus its
    prefix length, those marks counted as 0 bytes).  Returns a reason or None."""
    f = manifest['files'].get(path)
    body = manifest['body'].get(name)
    if f is None or body is None or f['allow_listed'] or name in manifest['ignored'] or body['skipped']:
        return None
    off = body['offset']
    if off[0] == 'any' or body['marks_before_anchor'] < 1:
        return None
    rng = offset_range(off, f['size'])
    if rng is None:
        return None
    pmin, pmax = body['clam_prefix']
    for i in f['instances']:
        if (i['sig'] != name or i['violate'] or not i['core_ok'] or i['intended'] != 'hit'
                or 'F9' not in i['quirks']):
            continue
        e0, e1 = i['window'] - pmax, i['window'] - pmin
        if rng[0] <= i['start'] <= rng[1] and (rng[1] < e0 or rng[0] > e1):
            return ('planted true match starts @%d inside the offset range [%d, %d]; clamscan expects the '
                    'start @%s (anchor @%d minus %s, %d (B)/(L)/(W) before it counted as 0 bytes)' % (
                        i['start'], rng[0], rng[1], e0 if e0 == e1 else '%d..%d' % (e0, e1), i['window'],
                        pmin if pmin == pmax else '%d..%d' % (pmin, pmax), body['marks_before_anchor']))
    return None


def compare(manifest, work, clam_pairs, vig_pairs):
    """Returns (excused: {class: [(path, name, reason)]}, unexcused: [(label, path, name)],
    multiplicity stats)."""
    cc = collections.Counter((p, strip_unofficial(n)) for p, n in clam_pairs)
    vc = collections.Counter((p, strip_unofficial(n)) for p, n in vig_pairs)
    excused = collections.OrderedDict((k, []) for k, _ in DIVERGENCES)
    unexcused = []
    for path, name in sorted(set(cc) - set(vc)):
        why = excuse_f5(manifest, work, path, name)
        if why:
            excused['F5'].append((path, name, why))
        else:
            unexcused.append(('reported by clamscan, not by vigil', path, name))
    for path, name in sorted(set(vc) - set(cc)):
        why = excuse_f9(manifest, path, name)
        if why:
            excused['F9'].append((path, name, why))
        else:
            unexcused.append(('reported by vigil, not by clamscan', path, name))
    for k in sorted(vc):
        if vc[k] > 1:
            unexcused.append(('printed %d times by vigil (it reports each pair once)' % vc[k], k[0], k[1]))
    # the decision is not to copy these clamscan bugs: every case the manifest
    # predicts must show up as a divergence
    seen = {(p, n) for cls in ('F5', 'F9') for p, n, _ in excused[cls]}
    for (path, name), cls in sorted(divergence_cases(manifest).items()):
        if (path, name) not in seen:
            unexcused.append(('vigil gives clamscan\'s answer in a %s case (it is not to copy that '
                              'behaviour: docs/compatibility.md)' % cls, path, name))
    multi = [k for k in sorted(set(cc) & set(vc)) if cc[k] > 1]
    for k in multi:
        excused['F1/F2/F4'].append((k[0], k[1], 'clamscan %d times, vigil %d' % (cc[k], vc[k])))
    extra = sum(cc[k] - 1 for k in cc)
    return cc, vc, excused, unexcused, extra


def divergence_cases(manifest):
    """(path, name) -> class for every pair where the manifest predicts a known
    divergence: vigil must then give the pattern's meaning, not clamscan's answer."""
    out = {}
    for path, f in manifest['files'].items():
        if f['allow_listed']:
            continue
        for i in f['instances']:
            if i['sig'] in manifest['ignored'] or i['quirks'] not in (['F5'], ['F9']):
                continue
            vigil = any(j['intended'] == 'hit' for j in f['instances'] if j['sig'] == i['sig'])
            clam = i['sig'] in f['expect']
            if vigil != clam:
                out[(path, i['sig'])] = i['quirks'][0]
    return out


def status_lines(lines):
    """path -> (has FOUND lines, sorted other lines)."""
    d = collections.defaultdict(lambda: [False, []])
    for l in lines:
        path = l.rpartition(': ')[0]
        if l.endswith(' FOUND'):
            d[path][0] = True
        else:
            d[path][1].append(l)
    return {k: (v[0], sorted(v[1])) for k, v in d.items()}


def check_status(clam_lines, vig_lines, unexcused_paths):
    """Non-FOUND lines per file must agree; where only one scanner reports something
    (a known divergence) the other must say exactly 'OK'."""
    cs, vs = status_lines(clam_lines), status_lines(vig_lines)
    problems = []

    def show(x):
        return ' + '.join((['FOUND lines'] if x[0] else []) + ['"%s"' % l.rpartition(': ')[2] for l in x[1]]) or 'nothing'

    for path in sorted(set(cs) | set(vs)):
        c, v = cs.get(path), vs.get(path)
        if c is None or v is None:
            problems.append('%s: only in the %s output' % (path, 'clamscan' if v is None else 'vigil'))
            continue
        if c[0] == v[0]:
            if c[1] != v[1]:
                problems.append('%s: clamscan %s, vigil %s' % (path, show(c), show(v)))
        else:
            clean = v if c[0] else c
            other = c if c[0] else v
            if clean[1] != [path + ': OK'] or other[1] or path in unexcused_paths:
                problems.append('%s: clamscan %s, vigil %s' % (path, show(c), show(v)))
    return problems


def order_view(lines):
    """(file sequence, {file: distinct signatures in first-occurrence order})."""
    seq, per = [], collections.OrderedDict()
    for l in lines:
        path = l.rpartition(': ')[0]
        if path not in per:
            seq.append(path)
            per[path] = []
        if l.endswith(' FOUND'):
            name = strip_unofficial(l.rpartition(': ')[2][:-len(' FOUND')])
            if name not in per[path]:
                per[path].append(name)
    return seq, per


def check_order(clam_lines, vig_lines, common):
    cseq, cper = order_view(clam_lines)
    vseq, vper = order_view(vig_lines)
    problems = []
    if cseq != vseq:
        for i, (x, y) in enumerate(zip(cseq, vseq)):
            if x != y:
                problems.append('order of files differs at file %d: clamscan %s, vigil %s' % (i + 1, x, y))
                break
        else:
            problems.append('order of files: clamscan %d files, vigil %d' % (len(cseq), len(vseq)))
    nfiles = 0
    for path in cper:
        if path not in vper:
            continue
        c = [n for n in cper[path] if (path, n) in common]
        v = [n for n in vper[path] if (path, n) in common]
        if len(c) > 1:
            nfiles += 1
        if c != v:
            problems.append('%s: clamscan %s, vigil %s' % (path, ' '.join(c), ' '.join(v)))
    return problems, nfiles


def reproduced_summary(manifest, cset, vset):
    """Per reproduced behaviour: (title, cases, detections expected, agreeing, bad cases)."""
    by = collections.defaultdict(list)
    for c in manifest['reproduced']:
        by[c['feature']].append(c)
    out = []
    for feat, title in REPRODUCED:
        cases = by.get(feat, [])
        bad = []
        hits = 0
        for c in cases:
            exp = c['sig'] in manifest['files'][c['file']]['expect']
            hits += exp
            got_c, got_v = (c['file'], c['sig']) in cset, (c['file'], c['sig']) in vset
            if not (got_c == got_v == exp):
                bad.append((c, exp, got_c, got_v))
        out.append((feat, title, len(cases), hits, bad))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--vigil', help='path to the vigil binary (omit: only check the generator against clamscan)')
    ap.add_argument('--clamscan', default=shutil.which('clamscan') or '/usr/bin/clamscan')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--scale', choices=sorted(gen_diff_corpus.SCALES), default='ci')
    ap.add_argument('--material', choices=('system', 'synthetic'), default='system')
    ap.add_argument('--require', choices=('pairs', 'order', 'all'), default='pairs',
                    help='pairs: the FOUND pairs (up to the known divergences), the status lines and '
                         'the exit code must agree (default); order: the order of files and of the '
                         'distinct detections in each file; all: both')
    ap.add_argument('--keep', metavar='DIR', help='generate into DIR and keep it (for debugging)')
    ap.add_argument('--no-self-check', action='store_true',
                    help='do not fail when clamscan disagrees with the generator')
    a = ap.parse_args(argv)

    if not os.path.exists(a.clamscan):
        print('clamscan not found (%s)' % a.clamscan)
        return 2
    if a.vigil and not os.access(a.vigil, os.X_OK):
        print('vigil binary not found or not executable: %s' % a.vigil)
        return 2

    if a.keep:
        work = os.path.abspath(a.keep)
        if os.path.exists(work):
            shutil.rmtree(work)
        os.makedirs(work)
    else:
        work = tempfile.mkdtemp(prefix='vigil-diff-')
    try:
        t0 = time.monotonic()
        st = gen_diff_corpus.generate(work, a.seed, a.scale, a.material)
        print('generated seed %d scale %s: %d signature lines, %d files, %.1f MiB, %d planted instances (%.1f s)' % (
            a.seed, a.scale, st['signatures'], st['files'], st['bytes'] / 1048576, st['instances'],
            time.monotonic() - t0))
        with open(os.path.join(work, 'manifest.json')) as fh:
            manifest = json.load(fh)
        # paths are reported relative to the work folder
        os.chdir(work)
        rel_db, rel_files = 'db', 'files'

        ok = True
        clam = run_scanner([a.clamscan, '-z', '--no-summary', '-d', rel_db, '-r', rel_files], 'clamscan')
        if clam.returncode not in (0, 1):
            print('clamscan failed:\n' + clam.stderr[-3000:])
            return 1
        clam_pairs, clam_lines = parse_output(clam.stdout, work)
        noise = [l for l in clam.stderr.splitlines() if l.strip()]
        if noise:
            print('clamscan stderr (%d lines), first ones:' % len(noise))
            for l in noise[:5]:
                print('    ' + l)

        problems = self_check(manifest, clam_pairs)
        print('CHECK generator-vs-clamscan: %s (%d FOUND lines, %d problems)' % (
            'PASS' if not problems else 'FAIL', len(clam_pairs), len(problems)))
        for why, path, name in problems[:MAX_SHOWN]:
            print('  %s: %s: %s' % (why, path, name))
            for l in describe(manifest, path, name):
                print(l)
        if problems and not a.no_self_check:
            ok = False

        if a.vigil:
            vig = run_scanner([a.vigil, 'scan', '-z', '--no-summary', '-d', rel_db, '-r', rel_files], 'vigil')
            vig_pairs, vig_lines = parse_output(vig.stdout, work)
            if vig.stderr.strip():
                print('vigil stderr, first lines:')
                for l in vig.stderr.splitlines()[:8]:
                    print('    ' + l)

            # ---- pairs ----------------------------------------------------------
            cc, vc, excused, unexcused, extra = compare(manifest, work, clam_pairs, vig_pairs)
            common = set(cc) & set(vc)
            nexc = len(excused['F5']) + len(excused['F9'])
            pairs_ok = not unexcused
            print('CHECK pairs (file, signature): %s (clamscan %d distinct, vigil %d distinct, %d in both; '
                  '%d known divergences; %d unexcused differences)' % (
                      'PASS' if pairs_ok else 'FAIL', len(cc), len(vc), len(common), nexc, len(unexcused)))
            print('  known divergences (deliberate, see docs/compatibility.md):')
            for cls, title in DIVERGENCES:
                items = excused[cls]
                if cls == 'F1/F2/F4':
                    print('    %-8s %d pairs (%d extra clamscan lines): %s' % (cls, len(items), extra, title))
                    continue
                print('    %-8s %d pairs: %s' % (cls, len(items), title))
                for path, name, why in items[:MAX_EXCUSED_SHOWN]:
                    print('      %s: %s: %s' % (path, name, why))
                if len(items) > MAX_EXCUSED_SHOWN:
                    print('      ... %d more' % (len(items) - MAX_EXCUSED_SHOWN))
            if unexcused:
                print('  unexcused differences (%d):' % len(unexcused))
                for label, path, name in unexcused[:MAX_SHOWN]:
                    print('  %s: %s: %s' % (label, path, name))
                    for l in describe(manifest, path, name):
                        print(l)
                if len(unexcused) > MAX_SHOWN:
                    print('  ... %d more unexcused differences' % (len(unexcused) - MAX_SHOWN))

            cset = {(p, strip_unofficial(n)) for p, n in clam_pairs}
            vset = {(p, strip_unofficial(n)) for p, n in vig_pairs}
            print('  reproduced clamscan behaviours (each case must agree; part of this check):')
            for feat, title, n, hits, bad in reproduced_summary(manifest, cset, vset):
                print('    %-4s %3d cases (%d detections expected), %d agree: %s' % (
                    feat, n, hits, n - len(bad), title))
                for c, exp, got_c, got_v in bad[:5]:
                    print('      %s: %s: expected %s, clamscan %s, vigil %s (%s)' % (
                        c['file'], c['sig'], *('FOUND' if x else 'not found' for x in (exp, got_c, got_v)),
                        c['note']))
                if feat == 'F17':
                    print('    %-4s %3d invalid lines gated by FLEVEL, loaded silently by both' % (
                        '', len(manifest['flevel_invalid_lines'])))
                if bad:
                    pairs_ok = False

            # ---- status lines and exit code --------------------------------------
            unexcused_paths = {p for _, p, _ in unexcused}
            st_problems = check_status(clam_lines, vig_lines, unexcused_paths)
            st_ok = not st_problems
            print('CHECK status lines (OK, Empty file) of every file: %s (%d files, %d problems)' % (
                'PASS' if st_ok else 'FAIL', len(status_lines(clam_lines)), len(st_problems)))
            for p in st_problems[:MAX_SHOWN]:
                print('  ' + p)
            exit_ok = clam.returncode == vig.returncode
            note = ''
            if not exit_ok and pairs_ok and clam.returncode in (0, 1) and vig.returncode in (0, 1) and \
                    clam.returncode == (1 if clam_pairs else 0) and vig.returncode == (1 if vig_pairs else 0):
                exit_ok, note = True, ' (follows from the known divergences)'
            print('CHECK exit code: %s (clamscan %d, vigil %d)%s' % ('PASS' if exit_ok else 'FAIL',
                                                                    clam.returncode, vig.returncode, note))

            # ---- order -------------------------------------------------------------
            ord_problems, nmulti = check_order(clam_lines, vig_lines, common)
            order_ok = not ord_problems
            print('CHECK order (files; distinct detections within each file, pairs both report): %s '
                  '(%d files, %d with 2+ common detections; %d differences)' % (
                      'PASS' if order_ok else 'FAIL', len(order_view(clam_lines)[0]), nmulti, len(ord_problems)))
            for p in ord_problems[:MAX_SHOWN]:
                print('  ' + p)
            for c in manifest.get('order_cases', []):
                print('  dedicated case %s: %s before %s (%s)' % (c['file'], c['first'], c['then'], c['note']))

            if a.require in ('pairs', 'all') and not (pairs_ok and st_ok and exit_ok):
                ok = False
            if a.require in ('order', 'all') and not order_ok:
                ok = False
        print('RESULT: %s' % ('PASS' if ok else 'FAIL'))
        if not ok and not a.keep:
            print('(rerun with --keep DIR to keep the database and files)')
        return 0 if ok else 1
    finally:
        os.chdir('/')
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
