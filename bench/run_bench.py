#!/usr/bin/python3
"""Side-by-side benchmark: vigil against clamscan on the same database and corpora.

    /usr/bin/python3 bench/run_bench.py [--vigil PATH] [--out DIR] [--reps N] [--small]
                                        [--markdown FILE] [--fresh-peers] [--regen]

1. Generates the database (gen_db.py) and corpora (gen_corpus.py) into DIR (default
   bench/out) unless they are already there for the same seed, scale and generator.
2. Builds readbound (readbound.c) and warms the page cache (every timing is of cached
   data, as the targets in issue 3 ask).
3. Runs, each REPS times (median reported; 3 by default, 1 with --small):
   - database load: clamscan on one tiny file (load + scan); vigil on the same file with
     an empty cache folder (cold: compile from text and write the cache) and with the
     cache in place (warm: open the compiled cache);
   - each corpus (large binaries, small files, text, archives) with clamscan and with
     vigil -j1 and -j2 (warm cache).  Scan time = wall time minus the same tool's
     tiny-file time, so database load is not counted as scanning;
   - readbound -j1/-j2 on each corpus: a cached read plus the digests the database needs
     for each file (MD5/SHA-1/SHA-256 when a signature has that file size, SHA-256 of
     every file when a '*'-size SHA-256 signature exists).
   Size limits are raised for both tools (--max-filesize/--max-scansize 2000M,
   --max-scantime 0).  Peak RSS comes from wait4() (ru_maxrss of the scanner process).
4. Checks that both scanners report every planted hit (corpus-manifest.json) and compares
   everything both report, file by file, explaining the differences it can (see explain()).
5. Prints a Markdown table with the vigil/clamscan ratio of every row and the issue's
   targets; --markdown also writes it to a file; raw numbers go to DIR/results/.

Exit status: 0 when every planted hit is reported as expected and no run failed, 1 when
a check failed (with --strict also when the scanners differ anywhere else), 2 on usage
or setup errors.  No timing is ever asserted.

clamscan's results are cached in DIR/results/ per (database, corpus, clamscan version,
reps), since they take most of the run time and do not change while vigil is being
optimised; --fresh-peers runs it again.  The peers are a list (PEERS) so clamd/clamdscan
and yara columns can be added once vigild and YARA support exist.
"""

import argparse
import hashlib
import html
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PY = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
CORPORA = ['large', 'small', 'text', 'archive']
CORPUS_TITLE = {'large': 'large binaries', 'small': 'small files', 'text': 'text', 'archive': 'archives'}
LIMITS = ['--max-filesize=2000M', '--max-scansize=2000M', '--max-scantime=0']
RUN_TIMEOUT = 3600          # seconds; a run longer than this is reported as pathological

# Targets of issue 3 (reported as met / not met; never asserted).
TARGET_OPEN_MS = 50
TARGET_OPEN_X = 100
TARGET_RSS_FRAC = 0.25
TARGET_LARGE_X = 20
TARGET_BOUND_FRAC = 0.5
TARGET_SMALL_MS = 0.1
TARGET_SPEEDUP = 1.8


def log(msg):
    print('run_bench: %s' % msg, flush=True)


# ---------------------------------------------------------------------------
# Running a process: wall time, exit status, peak RSS, CPU time
# ---------------------------------------------------------------------------

class Result:
    def __init__(self, argv, wall, status, maxrss_kib, cpu, stdout, stderr, timed_out):
        self.argv, self.wall, self.status, self.maxrss_kib, self.cpu = argv, wall, status, maxrss_kib, cpu
        self.stdout, self.stderr, self.timed_out = stdout, stderr, timed_out


RUN_ENV = None


RUSAGE = None  # bench/rusage.c, built by build_tools()


def run(argv, outdir, tag, timeout=RUN_TIMEOUT):
    """Run argv with stdout/stderr to files; its rusage through bench/rusage.c (wait4()
    straight from Python would floor every peak RSS at Python's own)."""
    os.makedirs(outdir, exist_ok=True)
    so = os.path.join(outdir, tag + '.out')
    se = os.path.join(outdir, tag + '.err')
    ruf = os.path.join(outdir, tag + '.rusage')
    if os.path.exists(ruf):
        os.unlink(ruf)
    with open(so, 'wb') as fo, open(se, 'wb') as fe:
        t0 = time.monotonic()
        p = subprocess.Popen(([RUSAGE, ruf] if RUSAGE else []) + argv, stdout=fo, stderr=fe,
                             stdin=subprocess.DEVNULL, env=RUN_ENV)
        killed = []

        def kill():
            killed.append(1)
            p.kill()
        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    with open(so, 'r', errors='replace') as fh:
        out = fh.read()
    with open(se, 'r', errors='replace') as fh:
        err = fh.read()
    maxrss, cpu = ru.ru_maxrss, ru.ru_utime + ru.ru_stime
    if RUSAGE:
        try:
            with open(ruf) as fh:
                k, u, s_ = fh.read().split()
            maxrss, cpu = int(k), float(u) + float(s_)
        except (OSError, ValueError):
            pass  # killed at the timeout: the launcher's own figures
    return Result(argv, wall, p.returncode, maxrss, cpu, out, err, bool(killed))


def median(xs):
    return statistics.median(xs) if xs else float('nan')


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def sources_digest(files):
    h = hashlib.sha256()
    for f in files:
        with open(os.path.join(HERE, f), 'rb') as fh:
            h.update(fh.read())
    return h.hexdigest()


def ensure_data(a, out):
    """Run the generators unless DIR already holds their output for these inputs (seed,
    scale, generator sources; the corpus also depends on the database manifest)."""
    stamp_path = os.path.join(out, 'generated.json')
    have = {}
    if os.path.exists(stamp_path) and not a.regen:
        with open(stamp_path) as fh:
            have = json.load(fh)
    common = ['--out', out, '--seed', str(a.seed)] + (['--small'] if a.small else [])
    steps = [('db', 'gen_db.py', ['gen_db.py', 'material.py'], 'db-manifest.json', ['--clamscan', a.clamscan]),
             ('corpus', 'gen_corpus.py', ['gen_corpus.py', 'material.py'], 'corpus-manifest.json', [])]
    stamp = {}
    for key, script, srcs, manifest, extra in steps:
        want = dict(seed=a.seed, small=a.small, sources=sources_digest(srcs), after=stamp.get('db'))
        if have.get(key) == want and os.path.exists(os.path.join(out, manifest)):
            log('reusing %s in %s (--regen to rebuild)' % (manifest, out))
        else:
            have = {}                                  # everything after this is stale too
            if os.path.exists(stamp_path):
                os.unlink(stamp_path)
            t0 = time.monotonic()
            p = subprocess.run([PY, os.path.join(HERE, script)] + common + extra)
            if p.returncode != 0:
                raise SystemExit('run_bench: %s failed (exit %d)' % (script, p.returncode))
            log('%s took %.1f s' % (script, time.monotonic() - t0))
        stamp[key] = want
        with open(stamp_path, 'w') as fh:
            json.dump(stamp, fh)


def corpus_files(root):
    out = []
    for r, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(r, f)
            out.append((p, os.path.getsize(p)))
    return out


def warm(paths):
    """Read files once so timings are of the page cache."""
    buf = bytearray(1 << 20)
    n = 0
    for p in paths:
        with open(p, 'rb', buffering=0) as fh:
            while True:
                k = fh.readinto(buf)
                if not k:
                    break
                n += k
    return n


def db_hash_needs(dbdir):
    """{algo: set(sizes)} and the set of algos with '*'-size lines, from the db text."""
    sizes = {'md5': set(), 'sha1': set(), 'sha256': set()}
    wild = set()
    algo_of = {32: 'md5', 40: 'sha1', 64: 'sha256'}
    for f in sorted(os.listdir(dbdir)):
        if not f.endswith(('.hdb', '.hsb', '.hdu', '.hsu')):
            continue
        with open(os.path.join(dbdir, f), 'rb') as fh:
            for line in fh:
                parts = line.split(b':', 2)
                if len(parts) < 3:
                    continue
                algo = algo_of.get(len(parts[0]))
                if algo is None:
                    continue
                if parts[1] == b'*':
                    wild.add(algo)
                else:
                    sizes[algo].add(int(parts[1]))
    return sizes, wild


# ---------------------------------------------------------------------------
# Scanners
# ---------------------------------------------------------------------------

FOUND = re.compile(r'^(.*): (\S+) FOUND$')


def parse_found(text, root):
    """{relative path: [names]} from clamscan-style output."""
    found = {}
    prefix = root.rstrip('/') + '/'
    for line in text.splitlines():
        m = FOUND.match(line)
        if not m:
            continue
        path, name = m.group(1), m.group(2)
        if path.startswith(prefix):
            path = path[len(prefix):]
        if name.endswith('.UNOFFICIAL'):
            name = name[:-len('.UNOFFICIAL')]
        found.setdefault(path, [])
        if name not in found[path]:
            found[path].append(name)
    return found


def known_viruses(text):
    m = re.search(r'^Known viruses: (\d+)', text, re.M)
    return int(m.group(1)) if m else None


def tool_version(argv):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=RUN_ENV).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return 'unknown'


class Clamscan:
    key = 'clamscan'
    title = 'clamscan'

    def __init__(self, path, db):
        self.path, self.db = path, db

    def tiny_argv(self, tiny):
        return [self.path, '-d', self.db] + LIMITS + [tiny]

    def scan_argv(self, root):
        return [self.path, '-r', '-i', '--no-summary', '-d', self.db] + LIMITS + [root]

    def raw_argv(self, root):
        """Archives without unpacking: the raw bytes, as vigil scans them today."""
        return self.scan_argv(root)[:-1] + ['--scan-archive=no', root]


PEERS = [Clamscan]        # clamd/clamdscan and yara go here once vigild and YARA support exist


# ---------------------------------------------------------------------------

def machine_info(a):
    info = {}
    try:
        with open('/proc/cpuinfo') as fh:
            cpu = fh.read()
        m = re.search(r'^model name\s*:\s*(.*)$', cpu, re.M)
        info['cpu'] = m.group(1).strip() if m else platform.processor()
        flags = re.search(r'^flags\s*:\s*(.*)$', cpu, re.M)
        fl = set(flags.group(1).split()) if flags else set()
        info['cpu_flags'] = ' '.join(f for f in ('sse4_2', 'avx2', 'avx512f', 'avx512bw', 'sha_ni', 'bmi2') if f in fl)
    except OSError:
        info['cpu'] = 'unknown'
    info['nproc'] = os.cpu_count()
    try:
        with open('/proc/meminfo') as fh:
            info['mem_gib'] = round(int(fh.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    info['kernel'] = platform.release()
    try:
        with open('/etc/debian_version') as fh:
            info['debian'] = fh.read().strip()
    except OSError:
        info['debian'] = 'unknown'
    info['vigil'] = tool_version([a.vigil, '--version']).split('/')[0]
    info['clamscan'] = tool_version([a.clamscan, '--version'])
    try:
        info['vectorscan'] = subprocess.run(['dpkg-query', '-W', '-f=${Version}', 'libvectorscan5'],
                                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
        info['openssl'] = subprocess.run(['dpkg-query', '-W', '-f=${Version}', 'libssl3'],
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    except OSError:
        pass
    try:
        info['vigil_git'] = subprocess.run(['git', '-C', REPO, 'describe', '--always', '--dirty'],
                                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    except OSError:
        pass
    info['loadavg_at_start'] = os.getloadavg()[0]
    return info


def build_tool(out, name, libs):
    src = os.path.join(HERE, name + '.c')
    exe = os.path.join(out, name)
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        cc = shutil.which('cc') or shutil.which('gcc') or 'cc'
        p = subprocess.run([cc, '-O2', '-Wall', '-o', exe, src] + libs)
        if p.returncode != 0:
            raise SystemExit('run_bench: cannot build %s (needs cc and libssl-dev)' % name)
    return exe


def build_readbound(out):
    global RUSAGE
    RUSAGE = build_tool(out, 'rusage', [])
    return build_tool(out, 'readbound', ['-lcrypto', '-lpthread'])


def snapshot_vigil(vigil, out):
    """Copy the vigil binary and the libvigil it loads into DIR/results/vigil-bin, so a
    rebuild during the run cannot mix two builds; LD_LIBRARY_PATH (which wins over the
    build tree's RUNPATH) points at the copy."""
    global RUN_ENV
    d = os.path.join(out, 'results', 'vigil-bin')
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    ldd = subprocess.run(['ldd', vigil], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    h = hashlib.sha256()
    for m in re.finditer(r'^\s*(libvigil\S*) => (\S+)', ldd, re.M):
        shutil.copy2(os.path.realpath(m.group(2)), os.path.join(d, m.group(1)))
        with open(m.group(2), 'rb') as fh:
            h.update(fh.read())
    exe = os.path.join(d, 'vigil')
    shutil.copy2(vigil, exe)
    with open(exe, 'rb') as fh:
        h.update(fh.read())
    # vigil parses files in vigil-worker processes; it looks for the worker beside itself.
    worker = os.path.join(os.path.dirname(vigil), '..', 'worker', 'vigil-worker')
    if not os.access(worker, os.X_OK):
        worker = os.path.join(os.path.dirname(vigil), 'vigil-worker')
    if os.access(worker, os.X_OK):
        shutil.copy2(worker, os.path.join(d, 'vigil-worker'))
        with open(worker, 'rb') as fh:
            h.update(fh.read())
    RUN_ENV = dict(os.environ, LD_LIBRARY_PATH=d + (':' + os.environ['LD_LIBRARY_PATH'] if os.environ.get('LD_LIBRARY_PATH') else ''))
    return exe, h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--vigil', default=os.path.join(REPO, 'build', 'release', 'tools', 'vigil', 'vigil'))
    ap.add_argument('--clamscan', default=shutil.which('clamscan') or '/usr/bin/clamscan')
    ap.add_argument('--out', default=os.path.join(HERE, 'out'))
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--small', action='store_true', help='CI variant: small database and corpora, one repetition')
    ap.add_argument('--reps', type=int, help='repetitions of each timing (default 3, --small 1)')
    ap.add_argument('--threads', default='1,2', help='vigil thread counts to run (default 1,2)')
    ap.add_argument('--corpora', default=','.join(CORPORA))
    ap.add_argument('--markdown', help='also write the table to this file')
    ap.add_argument('--fresh-peers', action='store_true', help='run clamscan again even if cached results exist')
    ap.add_argument('--regen', action='store_true', help='regenerate database and corpora')
    ap.add_argument('--strict', action='store_true', help='fail on any difference between the scanners')
    ap.add_argument('--render', metavar='RESULTS_JSON', help='only print the table of an earlier run')
    a = ap.parse_args(argv)
    if a.render:
        with open(a.render) as fh:
            R = json.load(fh)
        th = sorted(int(k.split('.j')[1]) for k in R['vigil'] if k.startswith('warm.j'))
        table = render(R, list(R['corpora']), th, R['check'], a)
        print(table)
        if a.markdown:
            with open(a.markdown, 'w') as fh:
                fh.write(table + '\n')
        return 0
    reps = a.reps or (1 if a.small else 3)
    threads = [int(x) for x in a.threads.split(',')]
    corpora = [c for c in a.corpora.split(',') if c]
    if not corpora or any(c not in CORPORA for c in corpora):
        sys.stderr.write('run_bench: --corpora takes a list of %s\n' % ', '.join(CORPORA))
        return 2
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    a.vigil = os.path.abspath(a.vigil)
    if not os.access(a.vigil, os.X_OK):
        sys.stderr.write('run_bench: vigil not found at %s (build it or pass --vigil)\n' % a.vigil)
        return 2
    if not shutil.which(a.clamscan):
        sys.stderr.write('run_bench: clamscan not found\n')
        return 2

    t_start = time.monotonic()
    a.vigil_source = a.vigil
    a.vigil, vigil_sha = snapshot_vigil(a.vigil, out)
    ensure_data(a, out)
    with open(os.path.join(out, 'db-manifest.json')) as fh:
        dbman = json.load(fh)
    with open(os.path.join(out, 'corpus-manifest.json')) as fh:
        cman = json.load(fh)
    db = os.path.join(out, 'db')
    tiny = os.path.join(out, 'tiny', 'tiny.txt')
    croot = os.path.join(out, 'corpus')
    rdir = os.path.join(out, 'results')
    logs = os.path.join(rdir, 'logs')
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(logs)
    info = machine_info(a)
    info['vigil_binary'] = dict(path=a.vigil_source, sha256=vigil_sha)
    log('vigil: %s; clamscan: %s; %d repetitions' % (info['vigil'], info['clamscan'], reps))

    files = {c: corpus_files(os.path.join(croot, c)) for c in corpora}
    nbytes = {c: sum(s for _, s in files[c]) for c in corpora}
    rb = build_readbound(out)

    # Which digests each file needs (what a scanner must compute at the least).
    sizes, wild = db_hash_needs(db)
    letter = {'md5': 'm', 'sha1': '1', 'sha256': 's'}
    lists = {}
    for c in corpora:
        lp = os.path.join(rdir, 'readbound-%s.list' % c)
        with open(lp, 'w') as fh:
            for p, s in files[c]:
                al = ''.join(letter[x] for x in ('md5', 'sha1', 'sha256') if x in wild or s in sizes[x])
                fh.write('%s %s\n' % (al or '-', p))
        lists[c] = lp
    del sizes

    log('warming the page cache')
    warm([os.path.join(db, f) for f in os.listdir(db)] + [tiny] + [p for c in corpora for p, _ in files[c]])

    failures = []
    results = dict(machine=info, reps=reps, scale='small' if a.small else 'full', seed=a.seed,
                   db=dict(sha256=dbman['db_sha256'], files=dbman['db_files'], params=dbman['params'],
                           grammar=dbman['grammar'], wildcard_hash_algos=sorted(wild)),
                   corpora={c: dict(files=len(files[c]), bytes=nbytes[c]) for c in corpora},
                   peers={}, vigil={}, bound={})

    def timed(argv, tag, n=reps):
        rs = []
        for i in range(n):
            r = run(argv, logs, '%s.%d' % (tag, i))
            if r.timed_out:
                failures.append('%s timed out after %d s: %s' % (tag, RUN_TIMEOUT, ' '.join(argv)))
            elif r.status not in (0, 1):
                failures.append('%s exited %d: %s\n%s' % (tag, r.status, ' '.join(argv), r.stderr[-2000:]))
            rs.append(r)
            if r.timed_out or r.status not in (0, 1):
                break
        return rs

    def summary(rs):
        return dict(wall=[round(r.wall, 4) for r in rs], wall_median=median([r.wall for r in rs]),
                    maxrss_kib=max(r.maxrss_kib for r in rs), cpu_median=median([r.cpu for r in rs]),
                    status=rs[0].status)

    # ---- peers (cached) --------------------------------------------------------
    found = {}
    for Peer in PEERS:
        peer = Peer(a.clamscan, db)
        key = hashlib.sha256(json.dumps([dbman['db_sha256'], cman['corpora'], cman['planted'], info[peer.key],
                                         reps, corpora, LIMITS]).encode()).hexdigest()[:16]
        cache = os.path.join(rdir, '%s-%s.json' % (peer.key, key))
        if os.path.exists(cache) and not a.fresh_peers:
            with open(cache) as fh:
                pr = json.load(fh)
            log('%s: reusing results from %s (--fresh-peers to rerun)' % (peer.key, cache))
        else:
            pr = {}
            log('%s: database load (tiny file) x%d' % (peer.key, reps))
            rs = timed(peer.tiny_argv(tiny), '%s.tiny' % peer.key)
            pr['tiny'] = summary(rs)
            pr['tiny']['known'] = known_viruses(rs[0].stdout)
            for c in corpora:
                log('%s: %s x%d' % (peer.key, c, reps))
                rs = timed(peer.scan_argv(os.path.join(croot, c)), '%s.%s' % (peer.key, c))
                pr[c] = summary(rs)
                pr[c]['found'] = parse_found(rs[0].stdout, os.path.join(croot, c))
                if c == 'archive' and hasattr(peer, 'raw_argv'):
                    log('%s: %s without unpacking x%d' % (peer.key, c, reps))
                    rs = timed(peer.raw_argv(os.path.join(croot, c)), '%s.%s.raw' % (peer.key, c))
                    pr['archive.raw'] = summary(rs)
            if not any(f.startswith(peer.key) for f in failures):
                with open(cache, 'w') as fh:
                    json.dump(pr, fh)
        results['peers'][peer.key] = pr
        for c in corpora:
            found[(peer.key, c)] = pr[c]['found']

    # ---- vigil -----------------------------------------------------------------
    vr = {}
    vbase = [a.vigil, 'scan', '-d', db] + LIMITS
    log('vigil: cold compile (empty cache folder) x%d' % reps)
    cold = []
    cache_dir = None
    for i in range(reps):
        cache_dir = tempfile.mkdtemp(prefix='vcache-', dir=out)
        r = timed(vbase + ['--cache-dir=' + cache_dir, tiny], 'vigil.cold.%d' % i, 1)
        cold += r
        if i < reps - 1:
            shutil.rmtree(cache_dir)
    vr['cold'] = summary(cold)
    vr['cold']['known'] = known_viruses(cold[0].stdout)
    cache_files = sorted(os.listdir(cache_dir))
    vr['cache_bytes'] = sum(os.path.getsize(os.path.join(cache_dir, f)) for f in cache_files)
    warm([os.path.join(cache_dir, f) for f in cache_files])
    log('vigil: warm open x%d' % reps)
    for j in threads:
        rs = timed(vbase + ['--cache-dir=' + cache_dir, '-j%d' % j, tiny], 'vigil.warm.j%d' % j)
        vr['warm.j%d' % j] = summary(rs)
        vr['warm.j%d' % j]['known'] = known_viruses(rs[0].stdout)
    for c in corpora:
        for j in threads:
            log('vigil -j%d: %s x%d' % (j, c, reps))
            rs = timed(vbase + ['--cache-dir=' + cache_dir, '-r', '-i', '--no-summary', '-j%d' % j,
                                os.path.join(croot, c)], 'vigil.%s.j%d' % (c, j))
            vr['%s.j%d' % (c, j)] = summary(rs)
            vr['%s.j%d' % (c, j)]['found'] = parse_found(rs[0].stdout, os.path.join(croot, c))
            found[('vigil.j%d' % j, c)] = vr['%s.j%d' % (c, j)]['found']
    # Thread scaling without workers: with them, -j1 already runs the walker
    # and one worker process side by side (on both cores part of the time).
    if 'small' in corpora:
        for j in threads:
            log('vigil -j%d --insecure-in-process: tiny and small x%d' % (j, reps))
            ip = vbase + ['--cache-dir=' + cache_dir, '--insecure-in-process', '-j%d' % j]
            vr['warm.inproc.j%d' % j] = summary(timed(ip + [tiny], 'vigil.warm.inproc.j%d' % j))
            rs = timed(ip + ['-r', '-i', '--no-summary', os.path.join(croot, 'small')],
                       'vigil.small.inproc.j%d' % j)
            vr['small.inproc.j%d' % j] = summary(rs)
    if sorted(os.listdir(cache_dir)) != cache_files:
        failures.append('vigil wrote a new cache file during warm runs (cache not reused?): %s' % os.listdir(cache_dir))
    shutil.rmtree(cache_dir, ignore_errors=True)
    results['vigil'] = vr

    # ---- bound -----------------------------------------------------------------
    for c in corpora:
        for j in threads:
            for mode, flag in (('digest', []), ('read', ['-n'])):
                ts = []
                for i in range(reps):
                    p = subprocess.run([rb, '-j', str(j)] + flag + [lists[c]], stdout=subprocess.PIPE, text=True)
                    m = re.search(r'seconds=([\d.]+)', p.stdout)
                    if p.returncode != 0 or not m:
                        failures.append('readbound failed on %s' % c)
                        break
                    ts.append(float(m.group(1)))
                results['bound']['%s.%s.j%d' % (c, mode, j)] = dict(seconds=ts, median=median(ts))

    # ---- correctness -------------------------------------------------------------
    check = correctness(cman, found, corpora, threads, failures, a.strict, db, croot)
    results['check'] = check
    known = {'clamscan': results['peers']['clamscan']['tiny'].get('known'), 'vigil': vr['cold'].get('known')}
    results['known_viruses'] = known
    if known['clamscan'] != known['vigil']:
        check['notes'].append('signature counts differ: clamscan %s, vigil %s' % (known['clamscan'], known['vigil']))

    info['loadavg_at_end'] = os.getloadavg()[0]
    table = render(results, corpora, threads, check, a)
    results['failures'] = failures
    results['seconds'] = round(time.monotonic() - t_start, 1)
    with open(os.path.join(rdir, 'results.json'), 'w') as fh:
        json.dump(results, fh, indent=1, default=str)
    print()
    print(table)
    if a.markdown:
        with open(a.markdown, 'w') as fh:
            fh.write(table + '\n')
    for f in failures:
        print('FAILED: ' + f)
    print('run_bench: %s in %.0f s; raw results in %s' % ('FAIL' if failures else 'PASS',
                                                          time.monotonic() - t_start, os.path.join(rdir, 'results.json')))
    return 1 if failures else 0


def pattern_regex(hexsig):
    """A Python bytes regex for the body-pattern subset gen_db.py writes (literals, ??,
    nibbles, {n}, {n-m}, {-m}, {n-}, *, alternatives); None for anything else."""
    out = []
    i = 0
    s = hexsig.lower()
    while i < len(s):
        c = s[i]
        if c == '*':
            out.append(b'.*?')
            i += 1
        elif c == '{':
            j = s.index('}', i)
            lo, _, hi = s[i + 1:j].partition('-')
            if '-' not in s[i + 1:j]:
                hi = lo
            out.append(b'.{%d,%s}' % (int(lo or 0), hi.encode() if hi else b''))
            i = j + 1
        elif c == '(':
            j = s.index(')', i)
            alts = [pattern_regex(x) for x in s[i + 1:j].split('|')]
            if any(x is None for x in alts):
                return None
            out.append(b'(?:' + b'|'.join(x.pattern for x in alts) + b')')
            i = j + 1
        elif s[i:i + 2] == '??':
            out.append(b'.')
            i += 2
        elif c == '?':
            lo = int(s[i + 1], 16)
            out.append(b'[' + b''.join(re.escape(bytes([h * 16 + lo])) for h in range(16)) + b']')
            i += 2
        elif s[i + 1:i + 2] == '?':
            hi = int(c, 16)
            out.append(b'[' + re.escape(bytes([hi * 16])) + b'-' + re.escape(bytes([hi * 16 + 15])) + b']')
            i += 2
        elif c in '0123456789abcdef':
            out.append(re.escape(bytes.fromhex(s[i:i + 2])))
            i += 2
        else:
            return None
    return re.compile(b''.join(out), re.S)


def text_normalised(data):
    """Roughly what clamscan scans a second time for files it types as text (also binary
    data it takes for UTF-16 text): lower case, runs of white space as one space, other
    control bytes dropped."""
    low = data.lower()
    ws = re.sub(rb'\s+', b' ', low)
    return [low, ws, re.sub(rb'[\x00-\x08\x0e-\x1f\x7f]', b'', ws)]


def html_normalised(data):
    """Roughly clamscan's normalised HTML: entities decoded, lower case, white space
    collapsed; and the same with the tags removed."""
    t = html.unescape(data.decode('latin-1')).encode('latin-1', 'replace').lower()
    t = re.sub(rb'\s+', b' ', t)
    return [t, re.sub(rb'<[^>]*>', b'', t)]


def utf16_decoded(data):
    out = []
    for enc in ('utf-16-le', 'utf-16-be'):
        for start in (0, 1):
            out.append(data[start:].decode(enc, 'replace').encode('utf-8', 'replace'))
    return out


HTML_TAGS = (b'<html', b'<head', b'<body', b'<title', b'<script', b'<a href', b'<table', b'<div', b'<meta',
             b'<iframe', b'<img', b'<br', b'<p>', b'<form', b'<style', b'<!doctype', b'<!--', b'<span', b'<tr', b'<td')

WHY_ARCHIVE = 'a compressed archive: the match is in a member or in clamscan\'s processing of one'
WHY_TEXT = ('the pattern matches only the normalised text (lower case, white space collapsed, control bytes '
            'dropped) that clamscan also scans for files it types as text (binary data it takes for UTF-16 too)')
WHY_HTML = ('the pattern matches only the normalised HTML (entities decoded, lower case, tags removed) that '
            'clamscan scans for files it types as HTML')
WHY_UTF16 = 'the pattern matches only the file decoded as UTF-16 text, as clamscan scans it'
WHY_HTMLRAW = ('clamscan types the file as HTML and then scans only its normalised form, not the raw bytes where the '
               'pattern is (HTMLSKIPRAW); vigil scans the raw bytes')


def explain(db, croot, corpus, path, clam_names, vig_names):
    """Why only one scanner reports a file, when we can tell from the bytes; else None."""
    if bool(vig_names) == bool(clam_names):
        return None
    if not vig_names and corpus == 'archive' and path.endswith(('.tar.gz', '.zip')):
        return WHY_ARCHIVE
    names = clam_names or vig_names
    lines = sig_lines(db, names)
    try:
        with open(os.path.join(croot, corpus, path), 'rb') as fh:
            data = fh.read()
    except OSError:
        return None
    whys = set()
    for n in names:
        line = lines.get(n)
        rx = pattern_regex(line.split(':')[3]) if line else None
        if rx is None:
            return None
        if vig_names:                                   # vigil only
            low = data.lower()
            if rx.search(data) and any(t in low for t in HTML_TAGS):
                whys.add(WHY_HTMLRAW)
                continue
            return None
        if rx.search(data):
            return None
        if any(rx.search(t) for t in text_normalised(data)):
            whys.add(WHY_TEXT)
        elif any(rx.search(t) for t in html_normalised(data)):
            whys.add(WHY_HTML)
        elif any(rx.search(t) for t in utf16_decoded(data)):
            whys.add(WHY_UTF16)
        else:
            return None
    return '; '.join(sorted(whys)) if whys else None


_SIG_LINES = {}


def sig_lines(db, names):
    want = [n for n in names if n not in _SIG_LINES]
    if want:
        ws = set(want)
        for f in sorted(os.listdir(db)):
            if f.endswith(('.ndb', '.ndu')):
                with open(os.path.join(db, f), errors='replace') as fh:
                    for line in fh:
                        n = line.split(':', 1)[0]
                        if n in ws:
                            _SIG_LINES[n] = line.strip()
    return {n: _SIG_LINES.get(n) for n in names}


def correctness(cman, found, corpora, threads, failures, strict, db, croot):
    """Planted hits reported as expected; every difference between scanners listed."""
    notes = []
    planted_ok = 0
    planted_total = 0
    by_path = {}
    for p in cman['planted']:
        if p['corpus'] not in corpora:
            continue
        by_path[(p['corpus'], p['path'])] = p
        for tool, fk in [('clamscan', 'clamscan')] + [('vigil', 'vigil.j%d' % j) for j in threads]:
            planted_total += 1
            got = found[(fk, p['corpus'])].get(p['path'], [])
            want = p['expect'][tool]
            if want and p['name'] in got and len(got) == 1:
                planted_ok += 1
            elif want:
                failures.append('%s missed planted %s %s in %s/%s (reported: %s)' % (
                    fk, p['kind'], p['name'], p['corpus'], p['path'], ', '.join(got) or 'nothing'))
            elif got:
                planted_ok += 1
                notes.append('%s now reports %s in %s/%s (%s)' % (fk, ', '.join(got), p['corpus'], p['path'], p.get('note', '')))
            else:
                planted_ok += 1
    diffs, explained, expected = [], [], []
    unplanted = {}
    for c in corpora:
        ref = found[('clamscan', c)]
        vig = [found[('vigil.j%d' % j, c)] for j in threads]
        for path in sorted(set(ref).union(*vig)):
            a_ = ref.get(path, [])
            bs = [v.get(path, []) for v in vig]
            p = by_path.get((c, path))
            if all(b == bs[0] for b in bs):
                vdesc = 'vigil %s' % (', '.join(bs[0]) or 'nothing')
            else:
                vdesc = '; '.join('vigil -j%d %s' % (j, ', '.join(b) or 'nothing') for j, b in zip(threads, bs))
            if all(b == a_ for b in bs):
                if not p:
                    unplanted[(c, path)] = a_
                continue
            if p and not p['expect']['vigil'] and not any(bs):
                expected.append('%s/%s: clamscan %s, vigil nothing (%s)' % (c, path, ', '.join(a_), p.get('note', '')))
                continue
            why = explain(os.path.join(croot, '..', 'db'), croot, c, path, a_, bs[0]) if all(b == bs[0] for b in bs) else None
            d = '%s/%s: clamscan %s; %s' % (c, path, ', '.join(a_) or 'nothing', vdesc)
            if why:
                explained.append((d, why))
            else:
                diffs.append(d)
    if strict:
        for d in diffs + [d for d, _ in explained]:
            failures.append('scanners differ: ' + d)
    return dict(planted_ok=planted_ok, planted_total=planted_total, differences=diffs,
                explained_differences=explained, expected_differences=expected,
                unplanted_both=['%s/%s: %s' % (c, p, ', '.join(n)) for (c, p), n in sorted(unplanted.items())],
                notes=notes)


# ---------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------

def fmt_s(x):
    if x != x:
        return 'n/a'
    return '%.0f ms' % (x * 1000) if x < 1 else '%.2f s' % x


def fmt_x(x):
    if x != x or x is None:
        return 'n/a'
    return '%.0f×' % x if x >= 100 else ('%.1f×' % x if x >= 10 else '%.2f×' % x)


def met(ok):
    return '**met**' if ok else '**not met**'


def render(R, corpora, threads, check, a):
    cl = R['peers']['clamscan']
    v = R['vigil']
    jm = max(threads)
    j1 = min(threads)
    rows = []
    T = []

    def row(*cells):
        rows.append('| ' + ' | '.join(str(c) for c in cells) + ' |')

    load_c = cl['tiny']['wall_median']
    warm_v = v['warm.j%d' % jm]['wall_median']
    cold_v = v['cold']['wall_median']
    row('Metric', 'clamscan 1.4.6', 'vigil -j%d' % j1, 'vigil -j%d' % jm, 'vigil vs clamscan', 'Target (issue 3)', '')
    row('---', '---:', '---:', '---:', '---:', '---', '---')
    row('Database load, one tiny file (clamscan: load + scan; vigil: warm open of the compiled cache)',
        fmt_s(load_c), fmt_s(v['warm.j%d' % j1]['wall_median']), fmt_s(warm_v),
        '%s faster' % fmt_x(load_c / warm_v), '≤ %d ms and ≥ %d× faster' % (TARGET_OPEN_MS, TARGET_OPEN_X),
        met(warm_v * 1000 <= TARGET_OPEN_MS and load_c / warm_v >= TARGET_OPEN_X))
    row('First compile from text (vigil: empty cache folder, compile + write cache)', fmt_s(load_c), '', fmt_s(cold_v),
        '%s faster' % fmt_x(load_c / cold_v) if cold_v <= load_c else '%s slower' % fmt_x(cold_v / load_c),
        'faster than clamscan\'s load', met(cold_v < load_c))
    rss_c = cl['tiny']['maxrss_kib']
    rss_w = v['warm.j%d' % jm]['maxrss_kib']
    row('Peak RSS, tiny file (vigil: warm)', '%.0f MiB' % (rss_c / 1024), '%.0f MiB' % (v['warm.j%d' % j1]['maxrss_kib'] / 1024),
        '%.0f MiB' % (rss_w / 1024), '%.0f%% of clamscan' % (100.0 * rss_w / rss_c), '≤ %d%%' % (TARGET_RSS_FRAC * 100),
        met(rss_w <= TARGET_RSS_FRAC * rss_c))
    row('Peak RSS, cold compile', '', '', '%.0f MiB' % (v['cold']['maxrss_kib'] / 1024),
        '%.0f%% of clamscan' % (100.0 * v['cold']['maxrss_kib'] / rss_c), '', '')
    if 'large' in corpora:
        row('Peak RSS, scanning the large binaries', '%.0f MiB' % (cl['large']['maxrss_kib'] / 1024),
            '%.0f MiB' % (v['large.j%d' % j1]['maxrss_kib'] / 1024), '%.0f MiB' % (v['large.j%d' % jm]['maxrss_kib'] / 1024),
            '%.0f%% of clamscan' % (100.0 * v['large.j%d' % jm]['maxrss_kib'] / cl['large']['maxrss_kib']), '', '')
    tp = {}
    for c in corpora:
        mb = R['corpora'][c]['bytes'] / 1e6
        sc = max(cl[c]['wall_median'] - load_c, 1e-6)
        t_c = mb / sc
        t_v = {}
        for j in threads:
            sv = max(v['%s.j%d' % (c, j)]['wall_median'] - v['warm.j%d' % j]['wall_median'], 1e-6)
            t_v[j] = mb / sv
        tp[c] = (t_c, t_v, sc)
        short = [j for j in threads if v['%s.j%d' % (c, j)]['wall_median'] - v['warm.j%d' % j]['wall_median'] < 0.02]
        title = 'Throughput, %s (%d files, %.0f MB)' % (CORPUS_TITLE[c], R['corpora'][c]['files'], mb)
        if c == 'archive':
            title = 'Throughput, archives (%d files, %.0f MB; both unpack)' % (R['corpora'][c]['files'], mb)
        tgt, ok = '', ''
        if c == 'large':
            tgt, ok = '≥ %d× clamscan' % TARGET_LARGE_X, met(t_v[jm] / t_c >= TARGET_LARGE_X)
        if short:      # scan time within the noise of process start: no meaningful rate
            row(title, '%.1f MB/s' % t_c, 'too short to time' if j1 in short else '%.1f MB/s' % t_v[j1],
                'too short to time' if jm in short else '%.1f MB/s' % t_v[jm], 'n/a', tgt, 'n/a' if tgt else '')
        else:
            row(title, '%.1f MB/s' % t_c, '%.1f MB/s' % t_v[j1], '%.1f MB/s' % t_v[jm],
                '%s (-j%d: %s)' % (fmt_x(t_v[jm] / t_c), j1, fmt_x(t_v[j1] / t_c)), tgt, ok)
        if c == 'archive' and 'archive.raw' in cl:
            sr = max(cl['archive.raw']['wall_median'] - load_c, 1e-6)
            t_r = mb / sr
            row('(reference: clamscan --scan-archive=no, raw archive bytes only)', '%.1f MB/s' % t_r, '', '', '', '', '')
        if c == 'large':
            bd = {j: mb / R['bound']['large.digest.j%d' % j]['median'] for j in threads}
            br = {j: mb / R['bound']['large.read.j%d' % j]['median'] for j in threads}
            row('Bound: cached read + the digests the database needs (%s), large binaries' % (
                ', '.join(sorted(R['db']['wildcard_hash_algos'])) + ' of every file; others by size'
                if R['db']['wildcard_hash_algos'] else 'by size'),
                '', '%.0f MB/s' % bd[j1], '%.0f MB/s' % bd[jm], '', '', '')
            row('vigil as a fraction of that bound', '', '%.0f%%' % (100 * t_v[j1] / bd[j1]), '%.0f%%' % (100 * t_v[jm] / bd[jm]),
                '', '≥ %d%%' % (TARGET_BOUND_FRAC * 100), met(t_v[jm] / bd[jm] >= TARGET_BOUND_FRAC))
            row('(cached read alone, no digests)', '', '%.0f MB/s' % br[j1], '%.0f MB/s' % br[jm], '', '', '')
        if c == 'small':
            nf = R['corpora'][c]['files']
            ms_c = sc * 1000 / nf
            ms_v = {j: (v['%s.j%d' % (c, j)]['wall_median'] - v['warm.j%d' % j]['wall_median']) * 1000 / nf for j in threads}
            row('Time per small file (-j%d: wall time per file × %d cores = %.3f ms per file per core)' % (
                jm, jm, ms_v[jm] * jm), '%.3f ms' % ms_c, '%.3f ms' % ms_v[j1], '%.3f ms' % ms_v[jm],
                '%s faster' % fmt_x(ms_c / ms_v[jm]), '≤ %.1f ms per file per core' % TARGET_SMALL_MS,
                met(ms_v[j1] <= TARGET_SMALL_MS and ms_v[jm] * jm <= TARGET_SMALL_MS))
            row('Two threads vs one, small files', '(single-threaded)', '', '%.2f×' % (ms_v[j1] / ms_v[jm]), '',
                '≥ %.1f×' % TARGET_SPEEDUP, met(ms_v[j1] / ms_v[jm] >= TARGET_SPEEDUP))
            if 'small.inproc.j%d' % jm in v:
                ms_i = {j: (v['small.inproc.j%d' % j]['wall_median'] - v['warm.inproc.j%d' % j]['wall_median'])
                        * 1000 / nf for j in threads}
                row('(the same in process, --insecure-in-process: one thread is one core; with workers -j1 '
                    'already runs the walker and a worker side by side)', '', '%.3f ms' % ms_i[j1],
                    '%.3f ms' % ms_i[jm], '%.2f×' % (ms_i[j1] / ms_i[jm]), '', '')
    T.append('\n'.join(rows))
    T.append('')
    T.append('MB = 10^6 bytes. Medians of %d runs. Scan time = wall time of the corpus run minus the '
             'same tool\'s tiny-file run (process start and database load are not scanning). '
             'Database: %s hash and %s body signatures (known viruses: clamscan %s, vigil %s); '
             'peak RSS from wait4(); page cache warm; size limits raised for both (%s).' % (
                 R['reps'], '{:,}'.format(R['db']['params']['hashes']), '{:,}'.format(R['db']['params']['bodies']),
                 '{:,}'.format(R['known_viruses']['clamscan'] or 0), '{:,}'.format(R['known_viruses']['vigil'] or 0),
                 ' '.join(LIMITS)))
    la = (R['machine'].get('loadavg_at_start'), R['machine'].get('loadavg_at_end'))
    # the benchmark itself keeps one or two CPUs busy; more than that is other work
    if la[0] > 1.0 or la[1] > (R['machine'].get('nproc') or 1) + 1:
        T.append('')
        T.append('Warning: the machine was busy with other work (load average %.1f at the start, %.1f at the '
                 'end, %s CPUs): wall times are inflated and noisy.' % (la[0], la[1], R['machine'].get('nproc')))
    T.append('')
    T.append('Detection check: planted hits reported as expected in %d of %d (scanner run, planted file) pairs.' % (
        check['planted_ok'], check['planted_total']))
    if check['expected_differences']:
        T.append('Expected differences (planted where the manifest expects only clamscan to report): %d file(s).' % (
            len(check['expected_differences'])))
    if check['explained_differences']:
        whys = {}
        for d, why in check['explained_differences']:
            whys.setdefault(why, []).append(d)
        for why, ds in whys.items():
            T.append('Reported by clamscan only, %d file(s): %s. Example%s: %s%s.' % (
                len(ds), why, 's' if len(ds) > 1 else '', '; '.join(ds[:3]), ' ...' if len(ds) > 3 else ''))
    T.append('Other differences between the scanners: %s.' % (
        '; '.join(check['differences'][:20]) + (' ... (%d in all)' % len(check['differences'])
                                                 if len(check['differences']) > 20 else '')
        if check['differences'] else 'none'))
    if check['unplanted_both']:
        T.append('Unplanted detections reported identically by both: %d file(s): %s%s.' % (
            len(check['unplanted_both']), '; '.join(check['unplanted_both'][:5]),
            ' ...' if len(check['unplanted_both']) > 5 else ''))
    for n in check['notes']:
        T.append('Note: ' + n)
    return '\n'.join(T)


if __name__ == '__main__':
    sys.exit(main())
