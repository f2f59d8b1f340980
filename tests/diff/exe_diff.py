#!/usr/bin/python3
"""Differential test of executable-aware signatures against clamscan.

Generates small valid (and some deliberately damaged) PE32, PE32+, ELF
(32/64-bit, both byte orders) and Mach-O (32/64-bit, both byte orders, x86
and PowerPC) files, and a database of:

  .ndb  target types 1, 6 and 9 with offsets *, n, EP+n, EP-n, Sx+n, SEx,
        SL+n (also with ,maxshift), multi-part patterns, and near-misses
        (one byte off, wrong section, wrong target type);
  .mdb  PE section MD5s (.msb: SHA-1 and SHA-256), and near-misses (size+1).

The entry point and the sections are computed here, from the file formats
as ClamAV defines them (PE: SizeOfHeaders and the sections aligned to
SectionAlignment / FileAlignment, the 0x200 fallback, sections cut at the
end of the file, cli_rawaddr's last-section-first lookup; ELF: the first
program header holding e_entry; Mach-O: PowerPC thread states only), not
taken from vigil. The planted signature bytes are read from the generated
file at those offsets.

Checks:
  1. generator: clamscan -z reports exactly the signatures the generator
     expects (every planted one, no near-miss): the model above is ClamAV's;
  2. vigil scan -z prints exactly what clamscan -z prints, line for line;
  3. without -z too (first detection per file, same order rules).

Usage: exe_diff.py --clamscan /usr/bin/clamscan [--vigil path] [--seed N] [--keep DIR]
"""
import argparse
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile


class Db:
    def __init__(self):
        self.ndb = []
        self.mdb = []
        self.msb = []
        self.imp = []
        self.expect = {}  # file name -> set of signature names clamscan must report
        self.pats = {}    # .ndb name -> (file, bytes)

    def want(self, fname, name, hit):
        if hit:
            self.expect.setdefault(fname, set()).add(name + '.UNOFFICIAL')
        else:
            self.expect.setdefault(fname, set())


def hexs(b):
    return b.hex()


def add_body(db, rng, fname, data, tag, target, offset, at, hit, n=None, multipart=False):
    """A signature whose bytes are data[at:at+n] (at may be None: bytes not in the file).
    Lengths differ from one signature to the next, so that two signatures of a
    file never share their bytes or their end: how clamscan orders such ties is
    not what this test is about."""
    name = 'Exe.%s.%s' % (fname.replace('.', '_'), tag)
    if n is None:
        db.nlen = getattr(db, 'nlen', 0) + 1
        n = 10 + db.nlen % 17
    if at is None or at < 0 or at + n > len(data):
        pat = bytes(rng.randrange(256) for _ in range(n))
        hit = False
    else:
        pat = data[at:at + n]
        if not hit and data.count(pat) > 1:
            return  # bytes that also occur elsewhere (zeros, headers) prove nothing
    if multipart and n >= 8:
        sig = hexs(pat[:4]) + '*' + hexs(pat[4:])
    else:
        sig = hexs(pat)
    db.ndb.append('%s:%d:%s:%s' % (name, target, offset, sig))
    db.pats[name] = (fname, bytes(pat))
    db.want(fname, name, hit)


def unique_fill(rng, n):
    return bytearray(rng.randrange(256) for _ in range(n))


# ---------------------------------------------------------------------------
# PE

def align_down(o, a):
    return o // a * a if a else o


def align_up(o, a):
    return ((o // a) + (o % a != 0)) * a & 0xffffffff if a else o


WS2_ORDINALS = {1: 'accept', 3: 'closesocket', 4: 'connect', 16: 'recv', 19: 'send', 23: 'socket',
                115: 'WSAStartup', 116: 'WSACleanup', 151: '__WSAFDIsSet', 500: 'WEP'}


def build_imports(rng, base_rva, plus, variant):
    """An import table placed at base_rva: (bytes, directory size, the text
    ClamAV hashes or None when it must not produce a hash)."""
    dlls = []
    for i in range(rng.randint(1, 4)):
        name = rng.choice(['KERNEL32.dll', 'user32.DLL', 'ws2_32.dll', 'mylib.ocx', 'drv.sys', 'tool.exe',
                           'noext', 'a.b.dll', 'WSOCK32.dll'])
        funcs = []
        for j in range(rng.randint(1, 5)):
            if rng.random() < 0.3:
                funcs.append(('ord', rng.choice([1, 3, 4, 16, 19, 23, 100, 115, 116, 151, 500, 777])))
            else:
                funcs.append(('name', rng.choice(['CreateFileA', 'ExitProcess', 'GetProcAddress', 'LoadLibraryW',
                                                  'MessageBoxA', 'My_Func2', 'x'])))
        dlls.append((name, funcs))
    if variant == 'bad_name':
        dlls[0][1].append(('name', 'Bad-Name'))
    tsz = 8 if plus else 4
    ndesc = len(dlls)
    desc_size = (ndesc + 1) * 20
    blob = bytearray(desc_size)
    descs = []
    for name, funcs in dlls:
        name_rva = base_rva + len(blob)
        blob += name.encode() + b'\0'
        hints = []
        for kind, v in funcs:
            if kind == 'name':
                hints.append(base_rva + len(blob))
                blob += struct.pack('<H', 0) + v.encode() + b'\0'
            else:
                hints.append(None)
        if len(blob) % 4:
            blob += bytes(4 - len(blob) % 4)
        thunks = b''
        for (kind, v), h in zip(funcs, hints):
            if kind == 'name':
                thunks += struct.pack('<Q' if plus else '<I', h)
            else:
                thunks += struct.pack('<Q' if plus else '<I', (1 << (63 if plus else 31)) | v)
        thunks += bytes(tsz)
        oft = base_rva + len(blob)
        blob += thunks
        ft = base_rva + len(blob)
        blob += thunks
        descs.append((0 if rng.random() < 0.3 else oft, name_rva, ft))
    for i, (oft, name_rva, ft) in enumerate(descs):
        blob[i * 20:(i + 1) * 20] = struct.pack('<IIIII', oft, 0, 0, name_rva, ft)
    size = desc_size
    used = dlls
    if variant == 'short_dir':
        size = ndesc * 20  # ClamAV reads a descriptor only while more than one fits
        used = dlls[:-1]
    # the text, from the format's definition as ClamAV states it
    parts = []
    for name, funcs in used:
        dot = name.find('.')
        stem = name[:dot] if dot >= 0 and name[dot:dot + 4].lower() in ('.dll', '.ocx', '.sys') else name
        for kind, v in funcs:
            if kind == 'name':
                fn = v
            elif name.lower().startswith(('ws2_32.dll', 'wsock32.dll')):
                fn = WS2_ORDINALS.get(v, 'ord%d' % v)
            else:
                fn = 'ord%d' % v
            parts.append((stem + '.' + fn).lower())
    text = ','.join(parts)
    # ClamAV gives up on a name with other characters than [0-9A-Za-z_.], and
    # never hashes the imports of PE32+ files
    return bytes(blob), size, (text, variant != 'bad_name' and not plus)


def make_pe(rng, plus, variant):
    """Returns (bytes, model) where model has ep (or None) and sections [(raw, rsz)]."""
    salign = 0x1000
    falign = 0x200
    if variant == 'falign_fallback':
        falign = 0x1000  # raw pointers aligned to 0x200 only: ClamAV falls back to 0x200
    nsect = rng.randint(1, 4)
    e_lfanew = 0x80
    opt_size = (112 if plus else 96) + 16 * 8
    hdr_end = e_lfanew + 24 + opt_size + 40 * nsect
    size_of_headers = 0x400 if hdr_end > 0x200 else 0x200
    raw = size_of_headers
    secs = []  # (va, vsize, rawptr, rawsize)
    va = 0x1000
    for i in range(nsect):
        rsize = rng.choice([0x200, 0x400, 0x345, 0x600, 0x1a1]) if i else rng.choice([0x400, 0x600, 0x745])
        rawptr = raw
        if variant == 'misaligned_raw' and i == 1:
            rawptr = raw + 0x10  # aligned down by ClamAV to the FileAlignment
        vsize = rng.choice([rsize, rsize + 0x100, 0])
        secs.append([va, vsize, rawptr, rsize])
        raw = rawptr + align_up(rsize, 0x200)
        va += 0x1000 * (1 + (max(vsize, rsize) // 0x1000))
    file_len = raw
    if variant == 'truncated_last':
        secs[-1][3] += 0x800  # SizeOfRawData runs past the end of the file
    if variant == 'section_past_eof' and nsect > 1:
        secs[-1][2] = file_len + 0x1000
    if variant == 'big':
        file_len = 300000  # an overlay after the sections: clamscan's large-file rules
    data = unique_fill(rng, file_len)
    # entry point
    k = rng.randrange(0, 0x100)
    if variant == 'ep_in_headers':
        ep_rva = 0x40 + rng.randrange(0, 0x20)
    elif variant == 'ep_nowhere':
        ep_rva = va + 0x5000
    else:
        ep_sec = rng.randrange(nsect if variant != 'section_past_eof' else max(1, nsect - 1))
        ep_rva = secs[ep_sec][0] + k
    # headers
    data[0:2] = b'MZ'
    data[2:60] = bytes(58)
    data[60:64] = struct.pack('<I', e_lfanew)
    fh = b'PE\0\0' + struct.pack('<HHIIIHH', 0x8664 if plus else 0x14c, nsect, 0x5f000000, 0, 0,
                                   opt_size, 0x0102)
    if plus:
        opt = struct.pack('<HBBIIIIIQIIHHHHHHIIIIHHQQQQII', 0x20b, 14, 0, 0x1000, 0x1000, 0, ep_rva, 0x1000,
                          0x140000000, salign, falign, 6, 0, 0, 0, 6, 0, 0, va, size_of_headers, 0, 2, 0,
                          0x100000, 0x1000, 0x100000, 0x1000, 0, 16)
    else:
        opt = struct.pack('<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII', 0x10b, 14, 0, 0x1000, 0x1000, 0, ep_rva, 0x1000,
                          0x2000, 0x400000, salign, falign, 6, 0, 0, 0, 6, 0, 0, va, size_of_headers, 0, 2,
                          0, 0x100000, 0x1000, 0x100000, 0x1000, 0, 16)
    assert len(opt) == (112 if plus else 96)
    imp_text = None
    dirs = bytearray(16 * 8)
    if variant in ('plain', 'bad_name', 'short_dir'):
        base = secs[0][0] + 0x10
        blob, isize, imp_text = build_imports(rng, base, plus, variant)
        if 0x10 + len(blob) <= secs[0][3]:
            data[secs[0][2] + 0x10:secs[0][2] + 0x10 + len(blob)] = blob
            dirs[8:16] = struct.pack('<II', base, isize)
        else:
            imp_text = None
    opt += bytes(dirs)
    sh = b''
    for i, (sva, svs, sraw, srs) in enumerate(secs):
        sh += struct.pack('<8sIIIIIIHHI', b'.s%d' % i, svs, sva, srs, sraw, 0, 0, 0, 0, 0x60000020)
    hdr = fh + opt + sh
    data[e_lfanew:e_lfanew + len(hdr)] = hdr
    data[e_lfanew + len(hdr):size_of_headers] = bytes(size_of_headers - e_lfanew - len(hdr))
    data = bytes(data)

    # ClamAV's view
    fsize = len(data)
    fal = falign
    for (sva, svs, sraw, srs) in secs:
        if fal != 0x200 and fal and srs and sraw % fal and not sraw % 0x200:
            fal = 0x200
            break
    hdr_size = align_up(size_of_headers, salign)
    model_secs = []
    for (sva, svs, sraw, srs) in secs:
        r = align_down(sraw, fal)
        rs = align_up(srs, fal)
        if rs:
            if r >= fsize or sraw >= fsize:
                rs = 0
            elif r + rs > fsize:
                rs = fsize - r
        model_secs.append((align_down(sva, salign), r, rs))
    ep = None
    if ep_rva < hdr_size:
        ep = ep_rva if ep_rva < fsize else None
    else:
        for (srva, r, rs) in reversed(model_secs):
            if rs and srva <= ep_rva < srva + rs:
                ep = ep_rva - srva + r
                break
    if ep is None:
        return data, {'ep': None, 'sections': None}  # ClamAV gives up on the whole header
    return data, {'ep': ep, 'sections': [(r, rs) for (_, r, rs) in model_secs], 'imports': imp_text}


# ---------------------------------------------------------------------------
# ELF

def make_elf(rng, is64, be, variant):
    e = '>' if be else '<'
    size = rng.choice([0x1800, 0x2400, 0x3000])
    data = unique_fill(rng, size)
    ehsize = 64 if is64 else 52
    phentsize = 56 if is64 else 32
    shentsize = 64 if is64 else 40
    nph = rng.randint(1, 3)
    phoff = ehsize
    segs = []
    off = 0x400
    for i in range(nph):
        fsz = rng.choice([0x200, 0x400])
        vaddr = 0x8048000 + 0x10000 * i + (off & 0xfff)
        segs.append((1, off, vaddr, fsz, fsz + rng.choice([0, 0x100])))
        off += fsz
    tgt = rng.randrange(nph)
    entry = segs[tgt][2] + rng.randrange(0, segs[tgt][3])
    if variant == 'entry_zero':
        entry = 0
    elif variant == 'entry_nowhere':
        entry = 0x7000000
    nsh = rng.randint(2, 5)
    shoff = size - nsh * shentsize - 8  # at the end, as linkers put it
    shdrs = []
    for i in range(nsh):
        if i == 0:
            shdrs.append((0, 0, 0, 0))
        else:
            so = rng.randrange(0x100, shoff - 0x100)
            ss = rng.randrange(0x80, 0x200)
            shdrs.append((1, 0x9000000 + so, so, ss))
    # the padding of e_ident is random: headers of two files never look alike
    ident = b'\x7fELF' + bytes([2 if is64 else 1, 2 if be else 1, 1]) + bytes(rng.randrange(256) for _ in range(9))
    if is64:
        hdr = ident + struct.pack(e + 'HHIQQQIHHHHHH', 2, 62, 1, entry, phoff if variant != 'no_phdrs' else 0,
                                  shoff, 0, ehsize, phentsize, nph if variant != 'no_phdrs' else 0,
                                  shentsize, nsh, 0)
    else:
        hdr = ident + struct.pack(e + 'HHIIIIIHHHHHH', 2, 3, 1, entry, phoff if variant != 'no_phdrs' else 0,
                                  shoff, 0, ehsize, phentsize, nph if variant != 'no_phdrs' else 0,
                                  shentsize, nsh, 0)
    data[0:len(hdr)] = hdr
    for i, (pt, po, pv, pf, pm) in enumerate(segs):
        if is64:
            ph = struct.pack(e + 'IIQQQQQQ', pt, 5, po, pv, pv, pf, pm, 0x1000)
        else:
            ph = struct.pack(e + 'IIIIIIII', pt, po, pv, pv, pf, pm, 5, 0x1000)
        data[phoff + i * phentsize:phoff + (i + 1) * phentsize] = ph
    for i, (st, sa, so, ss) in enumerate(shdrs):
        if is64:
            s = struct.pack(e + 'IIQQQQIIQQ', 0, st, 6, sa, so, ss, 0, 0, 16, 0)
        else:
            s = struct.pack(e + 'IIIIIIIIII', 0, st, 6, sa, so, ss, 0, 0, 16, 0)
        data[shoff + i * shentsize:shoff + (i + 1) * shentsize] = s
    data = bytes(data)
    # ClamAV's view
    ep = 0
    nphdr = 0 if variant == 'no_phdrs' else nph
    valid = True
    if nphdr and entry:
        ep = None
        for (pt, po, pv, pf, pm) in segs:
            if pv <= entry < pv + pm:
                ep = entry - pv + po
                break
        if ep is None:
            valid = False
    if not valid:
        return data, {'ep': None, 'sections': None}
    return data, {'ep': ep, 'sections': [(so, ss) for (_, _, so, ss) in shdrs]}


# ---------------------------------------------------------------------------
# Mach-O

def make_macho(rng, is64, be, cpu, variant='plain'):
    e = '>' if be else '<'
    size = 0x2000
    data = unique_fill(rng, size)
    cputype = {'x86': 7 | (0x1000000 if is64 else 0), 'ppc': 18 | (0x1000000 if is64 else 0)}[cpu]
    magic = 0xfeedfacf if is64 else 0xfeedface
    nsect = rng.randint(1, 3)
    secs = []
    off = 0x800
    for i in range(nsect):
        sz = rng.choice([0x100, 0x180, 0x1f0])
        al = rng.choice([2, 4, 8])
        if i == nsect - 1 and variant in ('align31', 'align32'):
            al = int(variant[-2:])  # 2^31 fits 32 bits, 2^32 does not: clamscan drops the headers
        if i == nsect - 1 and variant == 'size_wraps':
            sz = 0xfffffff1  # rounded up to 2^al it passes 32 bits
        secs.append((0x1000 + off, sz, off, al))
        off += 0x300
    cmds = b''
    if is64:
        sc = b''
        for i, (addr, sz, so, al) in enumerate(secs):
            sc += struct.pack(e + '16s16sQQIIIIIII', b'__s%d' % i, b'__TEXT', addr, sz, so, al, 0, 0, 0, 0, 0)
            sc += struct.pack(e + 'I', 0)
        seg = struct.pack(e + 'II16sQQQQIIII', 0x19, 72 + len(sc), b'__TEXT', 0x1000, 0x2000, 0, size,
                          7, 5, nsect, 0) + sc
    else:
        sc = b''
        for i, (addr, sz, so, al) in enumerate(secs):
            sc += struct.pack(e + '16s16sIIIIIIIII', b'__s%d' % i, b'__TEXT', addr, sz, so, al, 0, 0, 0, 0, 0)
        seg = struct.pack(e + 'II16sIIIIIIII', 0x1, 56 + len(sc), b'__TEXT', 0x1000, 0x2000, 0, size,
                          7, 5, nsect, 0) + sc
    cmds += seg
    tsec = rng.randrange(nsect)
    entry = secs[tsec][0] + rng.randrange(0, secs[tsec][1])
    ep = 0
    if cpu == 'ppc':
        if is64:
            state = struct.pack(e + 'QQ', entry, 0) + bytes(8 * 32) + struct.pack(e + 'IQQQI', 0, 0, 0, 0, 0)
            flavor = 5
        else:
            state = struct.pack(e + 'II', entry, 0) + bytes(4 * 32) + bytes(4 * 6)
            flavor = 1
        cmds += struct.pack(e + 'IIII', 0x5, 16 + len(state), flavor, len(state) // 4) + state
        ep = entry - secs[tsec][0] + secs[tsec][2]
    else:
        state = bytes(64 if not is64 else 168)
        cmds += struct.pack(e + 'IIII', 0x5, 16 + len(state), 1 if not is64 else 4, len(state) // 4) + state
    hdr = struct.pack(e + 'IIIIIII', magic, cputype, 3, 2, 2, len(cmds), 0)
    if is64:
        hdr += bytes(4)
    blob = hdr + cmds
    assert len(blob) < 0x800
    data[0:len(blob)] = blob
    data = bytes(data)
    model = [(so, sz + (1 << al) - sz % (1 << al) if sz % (1 << al) else sz) for (_, sz, so, al) in secs]
    if any(al >= 32 or rsz > 0xffffffff for (_, rsz), (_, _, _, al) in zip(model, secs)):
        return data, {'ep': None, 'sections': None}
    return data, {'ep': ep, 'sections': model}


# ---------------------------------------------------------------------------

def plant(db, rng, fname, data, model, target, other_target):
    """Signatures for one file. The matches that must happen never overlap one
    another: where two matches overlap, ClamAV orders Aho-Corasick matches by
    where its trie anchor ends and vigil by where the match ends (a known
    difference of the scanner core, not of executable support)."""
    ep = model['ep']
    secs = model['sections']
    valid = secs is not None
    n = len(data)
    used = []
    # From 256 KiB on, clamscan's Boyer-Moore matcher for PE (plain bytes at a
    # fixed offset, no ",shift") tries a signature
    # only at the first offset it allows: SEx then means the section's start.
    bm_exact = target == 1 and n >= 262144

    def body(tag, tgt, offset, at, hit, **kw):
        if hit and at is not None:
            size = kw.get('n') or 27
            if any(at < e + 1 and s < at + size + 1 for (s, e) in used):
                return  # would overlap a match already planted
            used.append((at, at + size))
        add_body(db, rng, fname, data, tag, tgt, offset, at, hit, **kw)

    # anywhere, and at an absolute offset (Boyer-Moore class on PE); in the
    # middle of the file, away from headers other files share
    at = rng.randrange(n // 2, n - 200)
    body('any', target, '*', at, True)
    body('abs', target, str(at + 60), at + 60, True)
    body('abs0', target, '%d,0' % (at + 120), at + 120, True)
    add_body(db, rng, fname, data, 'absmiss', target, str(at + 61), at + 60, False)
    # the same bytes for another executable type: never on this file
    add_body(db, rng, fname, data, 'wrongtype', other_target, '*', at + 3, False)
    # entry point
    if ep is not None:
        body('ep0', target, 'EP+0', ep, valid)
        k = rng.randrange(40, 60)
        body('ep', target, 'EP+%d' % k, ep + k, valid)
        add_body(db, rng, fname, data, 'epmiss', target, 'EP+%d' % (k + 1), ep + k, False)
        k = rng.randrange(80, 100)
        body('epfloat', target, 'EP+%d,4' % k, ep + k + 3, valid)
        add_body(db, rng, fname, data, 'epfloatmiss', target, 'EP+%d,2' % k, ep + k + 3, False)
        k = rng.randrange(130, 150)
        body('epmulti', target, 'EP+%d' % k, ep + k, valid, n=12, multipart=True)
        if ep >= 40:
            body('epminus', target, 'EP-40', ep - 40, valid)
        add_body(db, rng, fname, data, 'epminusbig', target, 'EP-%d' % (ep + 1), 0, False)
    else:
        # headers ClamAV does not use: no entry point
        add_body(db, rng, fname, data, 'epbroken', target, 'EP+0', None, False)
    if secs:
        for x, (raw, rsz) in enumerate(secs):
            room = min(rsz, n - raw)
            if raw + 20 > n or room < 40:
                continue
            k = rng.randrange(0, room - 12)
            body('s%d' % x, target, 'S%d+%d' % (x, k), raw + k, valid)
            add_body(db, rng, fname, data, 's%dmiss' % x, target, 'S%d+%d' % (x, k + 1), raw + k, False)
            k = rng.randrange(0, room - 12)
            body('s%dfloat' % x, target, 'S%d+%d,5' % (x, k), raw + k + 5, valid)
            # clamscan computes the window's end in 32 bits: past 4 GiB it wraps
            # below the start and the window holds nothing
            inside = (raw + rsz) & 0xffffffff >= raw
            k = rng.randrange(0, room - 12)
            body('se%d' % x, target, 'SE%d' % x, raw + k, valid and inside and (k == 0 or not bm_exact))
            body('se%dstart' % x, target, 'SE%d' % x, raw, valid and inside)
            # a start in the section's last bytes, then past its end only with a shift
            end = raw + rsz
            if end + 12 <= n:
                body('se%dend' % x, target, 'SE%d' % x, end - 4, valid and not bm_exact)
                add_body(db, rng, fname, data, 'se%dpast' % x, target, 'SE%d' % x, end + 2, False)
                # ",3" sends it to Aho-Corasick, which keeps the whole range
                body('se%dshift' % x, target, 'SE%d,3' % x, end + 2, valid)
        last = len(secs) - 1
        raw, rsz = secs[last]
        if raw + 40 <= n:
            body('sl', target, 'SL+7', raw + 7, valid)
            add_body(db, rng, fname, data, 'slmiss', target, 'SL+8', raw + 7, False)
        # a section that does not exist
        add_body(db, rng, fname, data, 'snone', target, 'S%d+0' % len(secs), secs[0][0], False)
    else:
        add_body(db, rng, fname, data, 'sbroken', target, 'S0+0', None, False)


def plant_mdb(db, rng, fname, data, model):
    if model['ep'] is None:
        return  # ClamAV's PE scanner gives up on such headers
    for x, (raw, rsz) in enumerate(model['sections']):
        if not rsz:
            continue
        body = data[raw:raw + rsz]
        name = 'Exe.%s.md5s%d' % (fname.replace('.', '_'), x)
        db.mdb.append('%d:%s:%s' % (rsz, hashlib.md5(body).hexdigest(), name))
        db.want(fname, name, True)
        name = 'Exe.%s.md5s%dmiss' % (fname.replace('.', '_'), x)
        db.mdb.append('%d:%s:%s' % (rsz + 1, hashlib.md5(body).hexdigest(), name))
        db.want(fname, name, False)
        if x == 0:
            name = 'Exe.%s.md5s%dwild' % (fname.replace('.', '_'), x)
            db.mdb.append('*:%s:%s:73' % (hashlib.md5(body).hexdigest(), name))
            db.want(fname, name, True)
            name = 'Exe.%s.sha1s%d' % (fname.replace('.', '_'), x)
            db.msb.append('%d:%s:%s' % (rsz, hashlib.sha1(body).hexdigest(), name))
            db.want(fname, name, True)
            name = 'Exe.%s.sha256s%d' % (fname.replace('.', '_'), x)
            db.msb.append('%d:%s:%s' % (rsz, hashlib.sha256(body).hexdigest(), name))
            db.want(fname, name, True)


def plant_imp(db, rng, fname, model):
    if model.get('imports') is None:
        return
    text, hits = model['imports']
    hits = hits and model['ep'] is not None
    tag = fname.replace('.', '_')
    body = text.encode()
    if not body:
        return  # a size must be 1 or more
    h = hashlib.md5(body).hexdigest()
    name = 'Exe.%s.imp' % tag
    db.imp.append('%s:%d:%s' % (h, len(body), name))
    db.want(fname, name, hits and bool(body))
    name = 'Exe.%s.impmiss' % tag
    db.imp.append('%s:%d:%s' % (h, len(body) + 1, name))
    db.want(fname, name, False)
    name = 'Exe.%s.impwild' % tag  # size '*': no FLEVEL needed for .imp
    db.imp.append('%s:*:%s' % (hashlib.sha256(body).hexdigest(), name))
    db.want(fname, name, hits)
    name = 'Exe.%s.impsha1' % tag
    db.imp.append('%s:%d:%s' % (hashlib.sha1(body).hexdigest(), len(body), name))
    db.want(fname, name, hits and bool(body))


def generate(work, seed):
    rng = random.Random(seed)
    db = Db()
    files = os.path.join(work, 'files')
    os.makedirs(files)
    made = []
    pe_variants = ['plain', 'plain', 'plain', 'bad_name', 'short_dir', 'falign_fallback', 'misaligned_raw',
                   'truncated_last', 'section_past_eof', 'ep_in_headers', 'ep_nowhere', 'big']
    i = 0
    for plus in (False, True):
        for v in pe_variants:
            data, model = make_pe(rng, plus, v)
            fname = 'pe%s_%s_%d.exe' % ('64' if plus else '32', v, i)
            i += 1
            made.append((fname, data))
            plant(db, rng, fname, data, model, 1, 6)
            plant_mdb(db, rng, fname, data, model)
            plant_imp(db, rng, fname, model)
    for is64 in (False, True):
        for be in (False, True):
            for v in ('plain', 'plain', 'entry_zero', 'entry_nowhere', 'no_phdrs'):
                data, model = make_elf(rng, is64, be, v)
                fname = 'elf%d%s_%s_%d' % (64 if is64 else 32, 'be' if be else 'le', v, i)
                i += 1
                made.append((fname, data))
                plant(db, rng, fname, data, model, 6, 9)
    for is64 in (False, True):
        for be in (False, True):
            for cpu, v in (('x86', 'plain'), ('ppc', 'plain'), ('x86', 'align31'), ('ppc', 'align32'),
                           ('x86', 'size_wraps')):
                data, model = make_macho(rng, is64, be, cpu, v)
                fname = 'macho%d%s_%s_%s_%d' % (64 if is64 else 32, 'be' if be else 'le', cpu, v, i)
                i += 1
                made.append((fname, data))
                plant(db, rng, fname, data, model, 9, 1)
    # bytes that also occur in another file (header fields two files share)
    # would make that file report a signature at the same place as its own:
    # such ties are ordered by load order, which is not what this test is about
    keep = []
    for line in db.ndb:
        name = line.split(':', 1)[0]
        owner, pat = db.pats[name]
        if any(f != owner and pat in d for f, d in made):
            db.expect[owner].discard(name + '.UNOFFICIAL')
            continue
        keep.append(line)
    db.ndb = keep
    for fname, data in made:
        with open(os.path.join(files, fname), 'wb') as fh:
            fh.write(data)
    dbdir = os.path.join(work, 'db')
    os.makedirs(dbdir)
    for ext, lines in (('ndb', db.ndb), ('mdb', db.mdb), ('msb', db.msb), ('imp', db.imp)):
        with open(os.path.join(dbdir, 'exe.' + ext), 'w') as fh:
            fh.write('\n'.join(['# generated by exe_diff.py'] + lines) + '\n')
    return db, len(made)


def scan(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors='replace')
    return p.returncode, p.stdout.splitlines(), p.stderr


def found(lines):
    """file -> its distinct detections in first-occurrence order (clamscan -z
    prints a signature once per match and some blocks twice: FINDINGS.md F1/F2)."""
    out = {}
    for l in lines:
        if l.endswith(' FOUND'):
            path, _, rest = l.rpartition(': ')
            names = out.setdefault(os.path.basename(path), [])
            if rest[:-6] not in names:
                names.append(rest[:-6])
    return out


def distinct(lines):
    seen, out = set(), []
    for l in lines:
        if l not in seen:
            seen.add(l)
            out.append(l)
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--clamscan', default=shutil.which('clamscan') or '/usr/bin/clamscan')
    ap.add_argument('--vigil')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--keep')
    a = ap.parse_args()
    if a.vigil:
        a.vigil = os.path.abspath(a.vigil)
    if a.keep:
        work = os.path.abspath(a.keep)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    else:
        work = tempfile.mkdtemp(prefix='vigil-exe-diff-')
    ok = True
    try:
        db, nfiles = generate(work, a.seed)
        os.chdir(work)
        nexp = sum(len(v) for v in db.expect.values())
        print('generated %d files, %d .ndb, %d .mdb, %d .msb, %d .imp lines, %d expected detections' % (
            nfiles, len(db.ndb), len(db.mdb), len(db.msb), len(db.imp), nexp))
        rc, clam, err = scan([a.clamscan, '-z', '--no-summary', '-d', 'db', '-r', 'files'])
        if rc not in (0, 1):
            print('clamscan failed (%d): %s' % (rc, err[-2000:]))
            return 1
        cf = found(clam)
        bad = 0
        for fname, want in sorted(db.expect.items()):
            # its own signatures (another file's may match bytes both share, such as zeros)
            mine = 'Exe.%s.' % fname.replace('.', '_')
            got = set(x for x in cf.get(fname, []) if x.startswith(mine))
            if got != want:
                bad += 1
                if bad <= 10:
                    print('  generator model differs from clamscan on %s:\n    missing %s\n    unexpected %s' % (
                        fname, sorted(want - got), sorted(got - want)))
        print('CHECK generator-vs-clamscan: %s (%d files differ)' % ('PASS' if not bad else 'FAIL', bad))
        ok = ok and not bad
        if a.vigil:
            for zflag in (['-z'], []):
                rc_c, clam, _ = scan([a.clamscan] + zflag + ['--no-summary', '-d', 'db', '-r', 'files'])
                rc_v, vig, verr = scan([a.vigil, 'scan'] + zflag + ['--no-summary', '-d', 'db', '-r', 'files'])
                same = distinct(clam) == distinct(vig) and len(vig) == len(distinct(vig))
                # per file, detections in clamscan's order
                order = found(clam) == found(vig)
                print('CHECK vigil%s vs clamscan: lines %s, per-file order %s, exit %d/%d' % (
                    ' -z' if zflag else '', 'PASS' if same else 'FAIL', 'PASS' if order else 'FAIL', rc_v, rc_c))
                if not same or not order or rc_v != rc_c:
                    ok = False
                    cset, vset = set(clam), set(vig)
                    for l in sorted(cset - vset)[:15]:
                        print('  only clamscan: ' + l)
                    for l in sorted(vset - cset)[:15]:
                        print('  only vigil:    ' + l)
                    if cset == vset:
                        fc, fv = found(clam), found(vig)
                        for f in sorted(fc):
                            if fc[f] != fv.get(f):
                                print('  order %s:\n    clamscan %s\n    vigil    %s' % (f, fc[f], fv.get(f)))
                                break
                    if verr.strip():
                        print('  vigil stderr: ' + verr[-1500:])
            # the same executables inside a zip (scanned from memory) and from
            # standard input (collected, then scanned from memory)
            names = sorted(os.listdir('files'))[::5]
            with zipfile.ZipFile('exe.zip', 'w', zipfile.ZIP_DEFLATED) as z:
                for f in names:
                    z.write(os.path.join('files', f), f)
            rc_c, clam, _ = scan([a.clamscan, '-z', '--no-summary', '-d', 'db', 'exe.zip'])
            rc_v, vig, _ = scan([a.vigil, 'scan', '-z', '--no-summary', '-d', 'db', 'exe.zip'])
            same = distinct(clam) == distinct(vig) and rc_c == rc_v
            print('CHECK vigil vs clamscan inside a zip (%d executables, %d detections): %s' % (
                len(names), len(distinct(clam)), 'PASS' if same else 'FAIL'))
            ok = ok and same
            pe = [f for f in names if f.startswith('pe32_plain')] or names[:1]
            with open(os.path.join('files', pe[0]), 'rb') as fh:
                blob = fh.read()
            outs = []
            for argv in ([a.clamscan, '-z', '--no-summary', '-d', 'db', '-'],
                         [a.vigil, 'scan', '-z', '--no-summary', '-d', 'db', '-']):
                p = subprocess.run(argv, input=blob, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                outs.append((p.returncode, distinct(p.stdout.decode(errors='replace').splitlines())))
            same = outs[0] == outs[1]
            print('CHECK vigil vs clamscan on standard input (%s, %d detections): %s' % (
                pe[0], len(outs[0][1]), 'PASS' if same else 'FAIL'))
            ok = ok and same
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
