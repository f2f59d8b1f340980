#!/usr/bin/python3
"""Executable-aware signatures on real files: vigil against clamscan.

Files: the two InstallShield MSI installers of Debian's clamav-testfiles (1.2
MiB PE files with 4 sections: the other PE test files are packed, hold
scripts or embedded PE files that clamscan unpacks and scans as further
layers, which vigil does not do yet; clam.exe is left out because it is
inside these installers, where clamscan finds it as such a layer), and ELF
programs and libraries of this system (up to 256 KiB each, a sample).
Database, per file:
  .mdb  every section hash `sigtool --mdb` prints (libclamav's own computation)
  .imp  the import hash `sigtool --imp` prints
  .ndb  target 1/6 signatures on the bytes at the entry point, at the start
        of every section and of the last one, and inside each section,
        located here from the ELF and PE headers.

Checks: clamscan -z and vigil scan -z print the same distinct lines; without
-z the same files are reported; every section and import hash sigtool printed
is reported by both scanners (where clamscan reports it), so the run cannot
pass by matching nothing.

Usage: exe_real.py --clamscan PATH --sigtool PATH --vigil PATH [--keep DIR]
"""
import argparse
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

TESTFILES = '/usr/share/clamav-testfiles'


def elf_model(d):
    """(ep, [(offset, size)]) as ClamAV uses them, or None."""
    if len(d) < 64 or d[:4] != b'\x7fELF' or d[4] not in (1, 2):
        return None
    is64, e = d[4] == 2, '<' if d[5] == 1 else '>'
    if is64:
        entry, phoff, shoff = struct.unpack_from(e + 'QQQ', d, 24)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(e + 'HHHH', d, 54)
    else:
        entry, phoff, shoff = struct.unpack_from(e + 'III', d, 24)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(e + 'HHHH', d, 42)
    if phnum > 128 or shnum > 256 or shentsize != (64 if is64 else 40):
        return None
    ep = 0
    if phnum and entry:
        if phentsize != (56 if is64 else 32) or phoff + phnum * phentsize > len(d):
            return None
        ep = None
        for i in range(phnum):
            o = phoff + i * phentsize
            if is64:
                off, va = struct.unpack_from(e + 'QQ', d, o + 8)
                msz, = struct.unpack_from(e + 'Q', d, o + 40)
            else:
                off, va = struct.unpack_from(e + 'II', d, o + 4)
                msz, = struct.unpack_from(e + 'I', d, o + 20)
            if va <= entry < va + msz:
                ep = entry - va + off
                break
        if ep is None:
            return None
    if shoff + shnum * shentsize > len(d):
        return None
    secs = []
    for i in range(shnum):
        o = shoff + i * shentsize
        if is64:
            off, size = struct.unpack_from(e + 'QQ', d, o + 24)
        else:
            off, size = struct.unpack_from(e + 'II', d, o + 16)
        secs.append((off & 0xffffffff, size & 0xffffffff))
    return ep, secs


def pe_model(d):
    if len(d) < 64 or d[:2] != b'MZ':
        return None
    lfanew, = struct.unpack_from('<I', d, 60)
    if not lfanew or lfanew + 24 > len(d) or d[lfanew:lfanew + 4] != b'PE\0\0':
        return None
    nsect, = struct.unpack_from('<H', d, lfanew + 6)
    optsz, = struct.unpack_from('<H', d, lfanew + 20)
    o = lfanew + 24
    if not 0 < nsect <= 96 or optsz < 96 or o + 112 > len(d):
        return None
    plus = struct.unpack_from('<H', d, o)[0] == 0x20b
    ep_rva, = struct.unpack_from('<I', d, o + 16)
    salign, falign = struct.unpack_from('<II', d, o + 32)
    hdr, = struct.unpack_from('<I', d, o + 60)
    ndirs = min(struct.unpack_from('<I', d, o + (108 if plus else 92))[0], 16)
    if optsz < (112 if plus else 96) + 8 * ndirs:
        return None

    def down(v, a):
        return v // a * a if a else v

    def up(v, a):
        return ((v // a) + (v % a != 0)) * a & 0xffffffff if a else v
    sh = o + optsz
    if sh + 40 * nsect > len(d):
        return None
    raw_hdrs = [struct.unpack_from('<IIII', d, sh + 40 * i + 8) for i in range(nsect)]
    for (vs, va, rs, rp) in raw_hdrs:
        if falign != 0x200 and falign and rs and rp % falign and not rp % 0x200:
            falign = 0x200
            break
    hdr = up(hdr, salign)
    secs = []
    for (vs, va, rs, rp) in raw_hdrs:
        r, rsz = down(rp, falign), up(rs, falign)
        if rsz:
            if r >= len(d) or rp >= len(d):
                rsz = 0
            elif r + rsz > len(d):
                rsz = len(d) - r
        if va >> 31 or vs >> 31 or (rsz and rp >> 31) or rs >> 31:
            return None
        secs.append((down(va, salign), r, rsz))
    if ep_rva < hdr:
        ep = ep_rva if ep_rva < len(d) else None
    else:
        ep = None
        for (va, r, rsz) in reversed(secs):
            if rsz and va <= ep_rva < va + rsz:
                ep = ep_rva - va + r
                break
    if ep is None:
        return None
    return ep, [(r, rsz) for (_, r, rsz) in secs]


def debug_lines(tool, opt, path):
    p = subprocess.run([tool, opt, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors='replace')
    return p.stdout.splitlines()


def distinct(lines):
    return sorted(set(l for l in lines if l.strip()))


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors='replace')
    return p.returncode, p.stdout.splitlines()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--clamscan', default='/usr/bin/clamscan')
    ap.add_argument('--sigtool', default='/usr/bin/sigtool')
    ap.add_argument('--vigil', required=True)
    ap.add_argument('--max-elf', type=int, default=40)
    ap.add_argument('--keep')
    a = ap.parse_args()
    a.vigil = os.path.abspath(a.vigil)
    pes = [os.path.join(TESTFILES, f) for f in ('clam_ISmsi_ext.exe', 'clam_ISmsi_int.exe')
           if os.path.exists(os.path.join(TESTFILES, f))]
    elfs = []
    for f in sorted(glob.glob('/usr/bin/*')) + sorted(glob.glob('/usr/lib/x86_64-linux-gnu/*.so*')):
        try:
            if not os.path.isfile(f) or os.path.islink(f) or not 4096 < os.path.getsize(f) <= 256 * 1024:
                continue
            with open(f, 'rb') as fh:
                if fh.read(4) == b'\x7fELF':
                    elfs.append(f)
        except OSError:
            continue
    step = max(1, len(elfs) // a.max_elf)
    elfs = elfs[::step][:a.max_elf]
    if not pes and not elfs:
        print('no executables found to test with')
        return 2
    work = os.path.abspath(a.keep) if a.keep else tempfile.mkdtemp(prefix='vigil-exe-real-')
    if a.keep:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, 'files'), exist_ok=True)
    os.makedirs(os.path.join(work, 'db'), exist_ok=True)
    ndb, mdb, imp = [], [], []
    hash_sigs = set()
    seen_hash = set()  # (kind, size, digest): one line each (FINDINGS.md F16: duplicates)
    try:
        for i, src in enumerate(pes + elfs):
            name = 'f%03d_%s' % (i, re.sub(r'[^A-Za-z0-9_]', '_', os.path.basename(src)))
            dst = os.path.join(work, 'files', name)
            shutil.copyfile(src, dst)
            with open(dst, 'rb') as fh:
                d = fh.read()
            is_pe = src in pes
            target = 1 if is_pe else 6
            model = pe_model(d) if is_pe else elf_model(d)
            if is_pe:
                for l in debug_lines(a.sigtool, '--mdb', dst):
                    m = re.search(r'Section\{(\d+)\}: (\d+):([0-9a-f]{32})', l)
                    if m and int(m.group(2)) and ('mdb', m.group(2), m.group(3)) not in seen_hash:
                        seen_hash.add(('mdb', m.group(2), m.group(3)))
                        sig = 'Real.%s.mdb%s' % (name, m.group(1))
                        mdb.append('%s:%s:%s' % (m.group(2), m.group(3), sig))
                        hash_sigs.add(sig)
                for l in debug_lines(a.sigtool, '--imp', dst):
                    m = re.search(r'Imphash: ([0-9a-f]{32}):(\d+)', l)
                    if m and int(m.group(2)) and ('imp', m.group(2), m.group(1)) not in seen_hash:
                        seen_hash.add(('imp', m.group(2), m.group(1)))
                        sig = 'Real.%s.imp' % name
                        imp.append('%s:%s:%s' % (m.group(1), m.group(2), sig))
                        hash_sigs.add(sig)
            if not model:
                continue
            ep, secs = model
            if ep + 24 <= len(d):
                ndb.append('Real.%s.ep:%d:EP+0:%s' % (name, target, d[ep:ep + 24].hex()))
                ndb.append('Real.%s.epmiss:%d:EP+1:%s' % (name, target, d[ep:ep + 24].hex()))
            for x, (off, size) in enumerate(secs):
                if size >= 24 and off + 24 <= len(d):
                    ndb.append('Real.%s.s%d:%d:S%d+0:%s' % (name, x, target, x, d[off:off + 24].hex()))
                    mid = off + min(size, len(d) - off) // 2
                    if mid + 16 <= len(d):
                        ndb.append('Real.%s.se%d:%d:SE%d:%s' % (name, x, target, x, d[mid:mid + 16].hex()))
            if secs and secs[-1][0] + 24 <= len(d) and secs[-1][1] >= 24:
                off = secs[-1][0]
                ndb.append('Real.%s.sl:%d:SL+0:%s' % (name, target, d[off:off + 24].hex()))
        for ext, lines in (('ndb', ndb), ('mdb', mdb), ('imp', imp)):
            with open(os.path.join(work, 'db', 'real.' + ext), 'w') as fh:
                fh.write('\n'.join(['# exe_real.py'] + lines) + '\n')
        os.chdir(work)
        print('%d PE and %d ELF files; %d .ndb, %d .mdb, %d .imp lines' % (
            len(pes), len(elfs), len(ndb), len(mdb), len(imp)))
        ok = True
        rc_c, clam = run([a.clamscan, '-z', '--no-summary', '-d', 'db', '-r', 'files'])
        rc_v, vig = run([a.vigil, 'scan', '-z', '--no-summary', '-d', 'db', '-r', 'files'])
        cset, vset = distinct(clam), distinct(vig)
        found = [l for l in cset if l.endswith(' FOUND')]
        same = cset == vset and rc_c == rc_v
        print('CHECK -z distinct lines: %s (%d FOUND lines; exit %d/%d)' % (
            'PASS' if same else 'FAIL', len(found), rc_v, rc_c))
        for l in sorted(set(cset) - set(vset))[:15]:
            print('  only clamscan: ' + l)
        for l in sorted(set(vset) - set(cset))[:15]:
            print('  only vigil:    ' + l)
        ok = ok and same
        reported = set(l.rpartition(': ')[2][:-len('.UNOFFICIAL FOUND')] for l in found)
        kinds = {k: sum(1 for s in reported if re.search(r'\.%s\d*$' % k, s)) for k in ('ep', 's', 'se', 'sl', 'mdb', 'imp')}
        print('  reported by both: %s' % ', '.join('%s %d' % kv for kv in sorted(kinds.items())))
        missing = sorted(s for s in hash_sigs if s not in reported)
        print('CHECK section/import hashes printed by sigtool are reported: %s (%d of %d)' % (
            'PASS' if not missing else 'FAIL', len(hash_sigs) - len(missing), len(hash_sigs)))
        for s in missing[:10]:
            print('  not reported: ' + s)
        ok = ok and not missing and kinds['ep'] > 0 and kinds['s'] > 0
        rc_c, clam = run([a.clamscan, '--no-summary', '-d', 'db', '-r', 'files'])
        rc_v, vig = run([a.vigil, 'scan', '--no-summary', '-d', 'db', '-r', 'files'])
        cf = sorted(l.rpartition(': ')[0] for l in clam if l.endswith(' FOUND'))
        vf = sorted(l.rpartition(': ')[0] for l in vig if l.endswith(' FOUND'))
        same = cf == vf and rc_c == rc_v
        print('CHECK without -z, the same files reported: %s (%d files)' % ('PASS' if same else 'FAIL', len(cf)))
        ok = ok and same
        # every PE test file alone, with the section and import hashes sigtool
        # prints for it: packed ones, AutoIt and NSIS builds, installers
        # (import tables with ordinals of ws2_32 and oleaut32 among them)
        total = want = hits = 0
        bad = []
        for src in sorted(glob.glob(os.path.join(TESTFILES, '*.exe'))):
            lines = []
            for l in debug_lines(a.sigtool, '--mdb', src):
                m = re.search(r'Section\{(\d+)\}: (\d+):([0-9a-f]{32})', l)
                if m and int(m.group(2)):
                    lines.append(('mdb', '%s:%s:S%s' % (m.group(2), m.group(3), m.group(1))))
            for l in debug_lines(a.sigtool, '--imp', src):
                m = re.search(r'Imphash: ([0-9a-f]{32}):(\d+)', l)
                if m and int(m.group(2)):
                    lines.append(('imp', '%s:%s:Imp' % (m.group(1), m.group(2))))
            if not lines:
                continue
            one = os.path.join(work, 'one')
            shutil.rmtree(one, ignore_errors=True)
            os.makedirs(one)
            for ext in ('mdb', 'imp'):
                with open(os.path.join(one, 'one.' + ext), 'w') as fh:
                    fh.write('\n'.join(['# one'] + [t for k, t in lines if k == ext]) + '\n')
            names = set(t.rsplit(':', 1)[1] + '.UNOFFICIAL' for _, t in lines)
            got = {}
            for label, argv in (('clamscan', [a.clamscan, '-z', '--no-summary', '-d', one, src]),
                                ('vigil', [a.vigil, 'scan', '-z', '--no-summary', '-d', one, src])):
                _, out = run(argv)
                got[label] = set(l.rpartition(': ')[2][:-len(' FOUND')] for l in out if l.endswith(' FOUND'))
            total += 1
            want += len(names)
            hits += len(names & got['clamscan'])
            # what clamscan reports of them (sigtool also hashes a section of
            # clam-upack.exe that clamscan's PE scanner drops)
            if got['vigil'] != got['clamscan']:
                bad.append((os.path.basename(src), sorted(got['clamscan'] - got['vigil']),
                            sorted(got['vigil'] - got['clamscan'])))
        print('CHECK every PE test file alone, its sigtool section and import hashes: %s '
              '(%d files, %d hashes, %d reported by both)' % ('PASS' if not bad else 'FAIL', total, want, hits))
        for f, cm, vm in bad:
            print('  %s: only clamscan %s, only vigil %s' % (f, cm, vm))
        ok = ok and not bad and hits > want // 2
        return 0 if ok else 1
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
