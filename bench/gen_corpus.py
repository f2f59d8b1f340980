#!/usr/bin/python3
"""Deterministic corpora for the benchmark, with planted hits at known places.

    /usr/bin/python3 bench/gen_corpus.py [--out DIR] [--seed N] [--small]

Needs DIR/db-manifest.json from gen_db.py (same DIR): it names the pool-C files the
corpora are made of (checked unchanged by SHA-256), the signatures to plant with a
matching instance each, and the files whose digest is in the database.  Writes:

  corpus/large/     about 1 GiB of large binaries, 8-64 MiB each: concatenations of real
                    ELF files and libraries, each file a different order and start
  corpus/small/     20,000 files, log-normal sizes (median 4 KiB), half text, half binary
                    (slices of the same material), in 100 folders
  corpus/text/      about 200 MiB of text: source and documentation files, amalgamated
                    sources (1-8 MiB) and syslog / web access / JSON application logs
  corpus/archive/   tar.gz and zip files (deflated and stored) of material like the above,
                    about 100 MiB (about 300 MiB unpacked)
  tiny/tiny.txt     a tiny clean file, for measuring database load time
  corpus-manifest.json  every planted hit (corpus, file, signature, offset, which scanner
                    is expected to report it and why) and the size of each corpus

--small: the CI variant (about 30 MiB in all).  Standard library only.
"""

import argparse
import gzip
import io
import json
import math
import os
import random
import shutil
import sys
import tarfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True          # no __pycache__ in the source tree
import material  # noqa: E402

GENERATOR_VERSION = 4

SCALES = {
    'full': dict(large_bytes=1 << 30, large_min=8 << 20, large_max=64 << 20,
                 small_files=20000, small_dirs=100, text_bytes=200 << 20, archive_bytes=100 << 20),
    'small': dict(large_bytes=16 << 20, large_min=3 << 20, large_max=6 << 20,
                  small_files=1000, small_dirs=10, text_bytes=6 << 20, archive_bytes=5 << 20),
}

ZIP_DATE = (2024, 1, 2, 3, 4, 6)
TAR_MTIME = 1704164646


class Material:
    def __init__(self, dbman, rng):
        self.rng = rng
        self.elf = []
        self.text = []
        for e in dbman['material']['c_elf']:
            d = material.load_checked(e)
            if d is None:
                raise SystemExit('gen_corpus: %s changed since gen_db.py ran; run gen_db.py again' % e['path'])
            self.elf.append(d)
        for e in dbman['material']['c_text']:
            d = material.load_checked(e)
            if d is None:
                raise SystemExit('gen_corpus: %s changed since gen_db.py ran; run gen_db.py again' % e['path'])
            self.text.append((e['path'], d))

    def binary(self, n):
        out = bytearray()
        while len(out) < n:
            d = self.rng.choice(self.elf)
            o = self.rng.randrange(0, max(1, len(d) - (n - len(out))))
            out += d[o:o + n - len(out)]
        return bytes(out)

    def text_slice(self, n):
        out = bytearray()
        while len(out) < n:
            d = self.rng.choice(self.text)[1]
            o = self.rng.randrange(0, max(1, len(d) - (n - len(out))))
            nl = d.find(b'\n', o)                   # start at a line start
            o = nl + 1 if 0 <= nl < o + 200 else o
            out += d[o:o + n - len(out)]
        return bytes(out)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as fh:
        fh.write(data)


def place(data, inst, pos):
    """Overwrite data at pos with inst (size unchanged)."""
    return data[:pos] + inst + data[pos + len(inst):]


def text_pos(rng, data, lo, hi):
    """A line start in data[lo:hi] (or lo)."""
    p = rng.randrange(lo, max(lo + 1, hi))
    nl = data.find(b'\n', p, hi)
    return nl + 1 if nl >= 0 else p


HTML_TAGS = (b'<html', b'<head', b'<body', b'<title', b'<script', b'<a href', b'<table', b'<div', b'<meta',
             b'<iframe', b'<img', b'<br', b'<p>', b'<form', b'<style', b'<!doctype', b'<!--', b'<span', b'<tr', b'<td')


def looks_html(path):
    with open(path, 'rb') as fh:
        d = fh.read().lower()
    return any(t in d for t in HTML_TAGS)


def lognormal_size(rng, median, sigma, lo, hi):
    return max(lo, min(hi, int(rng.lognormvariate(math.log(median), sigma))))


def offset_start(rng, rule, size, n):
    """Start of an instance of length n under an .ndb offset rule, in a file of size."""
    if rule == '*':
        return rng.randrange(0, size - n + 1)
    if rule.startswith('EOF-'):
        return size - int(rule[4:])
    if ',' in rule:
        a, b = rule.split(',')
        return int(a) + rng.randint(0, int(b))
    return int(rule)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=os.path.join(HERE, 'out'))
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--small', action='store_true')
    a = ap.parse_args(argv)
    scale = 'small' if a.small else 'full'
    S = SCALES[scale]
    t0 = time.monotonic()

    def log(msg):
        print('gen_corpus: [%5.1fs] %s' % (time.monotonic() - t0, msg), flush=True)

    out = os.path.abspath(a.out)
    with open(os.path.join(out, 'db-manifest.json')) as fh:
        dbman = json.load(fh)
    if dbman['scale'] != scale:
        raise SystemExit('gen_corpus: %s/db-manifest.json is %s scale, asked for %s' % (out, dbman['scale'], scale))
    cdir = os.path.join(out, 'corpus')
    man_path = os.path.join(out, 'corpus-manifest.json')
    if os.path.exists(man_path):
        os.unlink(man_path)
    shutil.rmtree(cdir, ignore_errors=True)
    rng = random.Random('corpus:%d' % a.seed)
    mat = Material(dbman, rng)
    log('material: %d ELF files, %d text files' % (len(mat.elf), len(mat.text)))

    planted = []
    bodies = {c: [p for p in dbman['body_plants'] if p['corpus'] == c] for c in ('small', 'large', 'text', 'archive')}
    targets = {c: [t for t in dbman['hash_targets'] if t['corpus'] == c] for c in ('small', 'large', 'text', 'archive')}

    def target_bytes(t):
        with open(os.path.join(out, t['file']), 'rb') as fh:
            return fh.read()

    def plant(corpus, path, what, **kw):
        d = dict(corpus=corpus, path=path, name=what['name'])
        d.update(kw)
        planted.append(d)

    # ---- (a) large binaries ----------------------------------------------------
    ldir = os.path.join(cdir, 'large')
    sizes = []
    total = 0
    while total < S['large_bytes']:
        s = int(math.exp(rng.uniform(math.log(S['large_min']), math.log(S['large_max']))))
        s = min(s, S['large_bytes'] - total) if S['large_bytes'] - total >= S['large_min'] else s
        sizes.append(s)
        total += s
    lt = targets['large']
    # the hash targets replace the first files
    large_files = []
    for i, s in enumerate(sizes):
        name = 'bin%03d.elfcat' % i
        if i < len(lt):
            data = target_bytes(lt[i])
            name = 'bin%03d.img' % i
            plant('large', name, lt[i], kind='hash', algo=lt[i]['algo'], size=len(data),
                  expect={'clamscan': True, 'vigil': True})
            write(os.path.join(ldir, name), data)
            large_files.append(name)
            continue
        order = list(range(len(mat.elf)))
        rng.shuffle(order)
        buf = bytearray()
        k = 0
        while len(buf) < s:
            buf += mat.elf[order[k % len(order)]]
            k += 1
        data = bytes(buf[:s])
        j = i - len(lt)
        if j < len(bodies['large']):
            p = bodies['large'][j]
            inst = bytes.fromhex(p['instance'])
            pos = rng.randrange(int(s * 0.90), int(s * 0.99) - len(inst))
            data = place(data, inst, pos)
            plant('large', name, p, kind='body', features=p['features'], offset=pos,
                  expect={'clamscan': True, 'vigil': True})
        write(os.path.join(ldir, name), data)
        large_files.append(name)
    log('large: %d files, %.0f MiB' % (len(sizes), total / 2**20))

    # ---- (b) small files ---------------------------------------------------------
    sdir = os.path.join(cdir, 'small')
    n = S['small_files']
    special = {}
    slots = rng.sample(range(n), len(bodies['small']) + len(targets['small']))
    for k, p in enumerate(bodies['small']):
        special[slots[k]] = ('body', p)
    for k, t in enumerate(targets['small']):
        special[slots[len(bodies['small']) + k]] = ('hash', t)
    small_bytes = 0
    small_list = []
    for i in range(n):
        d = 'd%03d' % (i % S['small_dirs'])
        size = lognormal_size(rng, 4096, 1.0, 64, 1 << 20)
        is_text = rng.random() < 0.5
        sp = special.get(i)
        if sp and sp[0] == 'hash':
            t = sp[1]
            data = target_bytes(t)
            name = '%s/f%05d.%s' % (d, i, 'txt' if t['kind'] == 'text' else 'bin')
            plant('small', name, t, kind='hash', algo=t['algo'], size=len(data),
                  size_field=t['size_field'], expect={'clamscan': True, 'vigil': True})
        elif sp:
            p = sp[1]
            inst = bytes.fromhex(p['instance'])
            is_text = p['kind'] == 'text'
            rule = p['offset']
            need = len(inst) + 64
            if rule.startswith('EOF-'):
                need = max(need, int(rule[4:]) + 16)
            elif rule != '*':
                need = int(rule.split(',')[0]) + sum(int(x) for x in rule.split(',')[1:]) + len(inst) + 16
            size = max(size, need)
            data = mat.text_slice(size) if is_text else mat.binary(size)
            pos = offset_start(rng, rule, size, len(inst))
            if rule == '*' and is_text:
                pos = min(text_pos(rng, data, 0, size - len(inst)), size - len(inst))
            data = place(data, inst, pos)
            name = '%s/f%05d.%s' % (d, i, 'txt' if is_text else 'bin')
            plant('small', name, p, kind='body', features=p['features'], offset=pos, rule=rule,
                  expect={'clamscan': True, 'vigil': True})
        else:
            data = mat.text_slice(size) if is_text else mat.binary(size)
            name = '%s/f%05d.%s' % (d, i, 'txt' if is_text else 'bin')
            small_list.append(name)
        write(os.path.join(sdir, name), data)
        small_bytes += len(data)
    log('small: %d files, %.1f MiB' % (n, small_bytes / 2**20))

    # ---- (c) text ------------------------------------------------------------------
    tdir = os.path.join(cdir, 'text')
    text_bytes = 0
    text_files = []
    budget = S['text_bytes']
    # 45% individual source/doc files, 15% amalgamations, 40% logs
    k = 0
    order = list(range(len(mat.text)))
    rng.shuffle(order)
    while text_bytes < budget * 0.45 and k < len(order):
        path, d = mat.text[order[k]]
        name = 'src/%03d/%s' % (k % 64, os.path.basename(path))
        if os.path.exists(os.path.join(tdir, name)):
            name = 'src/%03d/%d-%s' % (k % 64, k, os.path.basename(path))
        write(os.path.join(tdir, name), d)
        text_files.append(name)
        text_bytes += len(d)
        k += 1
    a_i = 0
    while text_bytes < budget * 0.60:
        s = min(int(math.exp(rng.uniform(math.log(1 << 20), math.log(8 << 20)))), max(1 << 16, int(budget * 0.60) - text_bytes))
        buf = bytearray()
        while len(buf) < s:
            path, d = rng.choice(mat.text)
            buf += b'/* ---- part %d ---- */\n' % len(buf) + d
        name = 'amalgamated/amalg%02d.c' % a_i
        write(os.path.join(tdir, name), bytes(buf[:s]))
        text_files.append(name)
        text_bytes += s
        a_i += 1
    l_i = 0
    while text_bytes < budget:
        s = min(int(math.exp(rng.uniform(math.log(2 << 20), math.log(32 << 20)))), max(1 << 16, budget - text_bytes))
        d = material.log_text(random.Random('log:%d:%d' % (a.seed, l_i)), s)[:s]
        name = 'logs/app%02d.log' % l_i
        write(os.path.join(tdir, name), d)
        text_files.append(name)
        text_bytes += len(d)
        l_i += 1
    # plant text instances into distinct files at line starts
    # not in files clamscan types as HTML: it scans only their normalised form
    victims = rng.sample([f for f in text_files if not looks_html(os.path.join(tdir, f))], len(bodies['text']))
    for p, name in zip(bodies['text'], victims):
        fp = os.path.join(tdir, name)
        with open(fp, 'rb') as fh:
            d = fh.read()
        inst = bytes.fromhex(p['instance'])
        if len(d) < len(inst) + 2:
            d += b'\n' * (len(inst) + 2 - len(d))
        pos = min(text_pos(rng, d, 0, len(d) - len(inst)), len(d) - len(inst))
        d = place(d, inst, pos)
        write(fp, d)
        plant('text', name, p, kind='body', features=p['features'], offset=pos,
              expect={'clamscan': True, 'vigil': True})
    log('text: %d files, %.0f MiB' % (len(text_files), text_bytes / 2**20))

    # ---- (d) archives --------------------------------------------------------------
    adir = os.path.join(cdir, 'archive')
    os.makedirs(adir)
    arch_bytes = 0
    arch_raw = 0
    arch_files = []

    def mk_zip(name, members, method):
        nonlocal arch_bytes, arch_raw
        bio = io.BytesIO()
        with zipfile.ZipFile(bio, 'w', compression=method) as z:
            for mname, data in members:
                zi = zipfile.ZipInfo(mname, ZIP_DATE)
                zi.compress_type = method
                zi.external_attr = 0o644 << 16
                z.writestr(zi, data)
                arch_raw += len(data)
        write(os.path.join(adir, name), bio.getvalue())
        arch_bytes += len(bio.getvalue())
        arch_files.append(name)

    def mk_targz(name, members):
        nonlocal arch_bytes, arch_raw
        bio = io.BytesIO()
        with gzip.GzipFile(fileobj=bio, mode='wb', mtime=0, compresslevel=6) as gz:
            with tarfile.open(fileobj=gz, mode='w', format=tarfile.GNU_FORMAT) as tar:
                for mname, data in members:
                    ti = tarfile.TarInfo(mname)
                    ti.size = len(data)
                    ti.mtime = TAR_MTIME
                    ti.mode = 0o644
                    ti.uname = ti.gname = 'bench'
                    tar.addfile(ti, io.BytesIO(data))
                    arch_raw += len(data)
        write(os.path.join(adir, name), bio.getvalue())
        arch_bytes += len(bio.getvalue())
        arch_files.append(name)

    def read_small(names):
        out = []
        for nm in names:
            with open(os.path.join(sdir, nm), 'rb') as fh:
                out.append((nm, fh.read()))
        return out

    # planted archives first: one planted member each, some clean members around it
    kinds = ['stored-zip', 'deflate-zip', 'tar.gz']
    for i, p in enumerate(bodies['archive']):
        kind = kinds[i % 3]
        inst = bytes.fromhex(p['instance'])
        size = lognormal_size(rng, 8192, 0.8, len(inst) + 256, 1 << 20)
        data = mat.text_slice(size) if p['kind'] == 'text' else mat.binary(size)
        pos = rng.randrange(0, size - len(inst))
        data = place(data, inst, pos)
        members = read_small(rng.sample(small_list, 6))
        members.insert(rng.randrange(len(members) + 1), ('payload/member%02d.%s' % (i, 'txt' if p['kind'] == 'text' else 'bin'), data))
        if kind == 'stored-zip':
            name = 'planted%02d-stored.zip' % i
            mk_zip(name, members, zipfile.ZIP_STORED)
            note = 'stored zip member: the instance is also in the raw archive bytes'
        elif kind == 'deflate-zip':
            name = 'planted%02d-deflate.zip' % i
            mk_zip(name, members, zipfile.ZIP_DEFLATED)
            note = 'inside a deflated zip member'
        else:
            name = 'planted%02d.tar.gz' % i
            mk_targz(name, members)
            note = 'inside a tar.gz member'
        exp = {'clamscan': True, 'vigil': True}
        plant('archive', name, p, kind='body', features=p['features'], member=True, expect=exp, note=note)
    for i, t in enumerate(targets['archive']):
        members = read_small(rng.sample(small_list, 4))
        members.append(('payload/sample%02d.bin' % i, target_bytes(t)))
        name = 'planted-hash%02d.zip' % i
        mk_zip(name, members, zipfile.ZIP_DEFLATED)
        plant('archive', name, t, kind='hash', algo=t['algo'], size=t['size'], member=True,
              expect={'clamscan': True, 'vigil': True}, note='hash of a deflated zip member')
    # clean archives of the other corpora until the budget is reached
    clean_large = [f for f in large_files if not any(p['corpus'] == 'large' and p['path'] == f for p in planted)]
    clean_text = [f for f in text_files if not any(p['corpus'] == 'text' and p['path'] == f for p in planted)]
    j = 0
    while arch_bytes < S['archive_bytes']:
        kind = j % 4
        if kind == 0:                                        # tar.gz of small files
            mk_targz('small%02d.tar.gz' % j, read_small(rng.sample(small_list, min(400, len(small_list)))))
        elif kind == 1:                                      # zip of text files
            names, raw = [], 0
            while raw < (8 << 20 if scale == 'full' else 1 << 20):
                nm = rng.choice(clean_text)
                names.append(nm)
                raw += os.path.getsize(os.path.join(tdir, nm))
            members = []
            for k, nm in enumerate(dict.fromkeys(names)):
                with open(os.path.join(tdir, nm), 'rb') as fh:     # neutral member names: a
                    members.append(('doc%04d%s' % (k, os.path.splitext(nm)[1]), fh.read()))  # name is no content
            mk_zip('text%02d.zip' % j, members, zipfile.ZIP_DEFLATED)
        else:                                                # a large binary, zip or tar.gz
            lim = 16 << 20 if scale == 'full' else 2 << 20
            if clean_large:
                nm = rng.choice(clean_large)
                with open(os.path.join(ldir, nm), 'rb') as fh:
                    d = fh.read(lim)
            else:
                nm, d = 'bin%02d.elfcat' % j, mat.binary(lim)
            if kind == 2:
                mk_zip('bin%02d.zip' % j, [(nm, d)], zipfile.ZIP_DEFLATED)
            else:
                mk_targz('bin%02d.tar.gz' % j, [(nm, d)])
        j += 1
    log('archive: %d files, %.0f MiB (%.0f MiB unpacked)' % (len(arch_files), arch_bytes / 2**20, arch_raw / 2**20))

    write(os.path.join(out, 'tiny', 'tiny.txt'), b'vigil benchmark: a tiny clean file.\n')

    def stats(d):
        nf = nb = 0
        for root, _, files in os.walk(d):
            for f in files:
                nf += 1
                nb += os.path.getsize(os.path.join(root, f))
        return dict(files=nf, bytes=nb)

    manifest = dict(generator_version=GENERATOR_VERSION, seed=a.seed, scale=scale, db_sha256=dbman['db_sha256'],
                    corpora={c: stats(os.path.join(cdir, c)) for c in ('large', 'small', 'text', 'archive')},
                    archive_unpacked_bytes=arch_raw, planted=planted,
                    generated_seconds=round(time.monotonic() - t0, 1))
    with open(man_path + '.tmp', 'w') as fh:
        json.dump(manifest, fh, indent=1)
    os.rename(man_path + '.tmp', man_path)
    log('done: %d planted hits' % len(planted))
    return 0


if __name__ == '__main__':
    sys.exit(main())
