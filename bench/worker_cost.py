#!/usr/bin/python3
"""What the sandbox costs: vigil scan with its sandboxed workers (the default)
against --insecure-in-process (the same engine in the vigil process, no
worker), on the same database and files.

    /usr/bin/python3 bench/worker_cost.py --db DIR [--out DIR] [--reps N]

Corpora (seeded, generated under --out, reused when present):
  large-1g/  16 files of 64 MiB (random bytes: no signature matches, full scan)
  small/  20,000 files of 64 B .. 16 KiB (log-uniform sizes, seeded)
  tiny    one 16-byte file: start-up (database open, first worker)

Each configuration runs once untimed (page cache, compiled cache), then
--reps times; the median wall time is reported. The per-file cost of the
workers is (median with workers - median in process) / files on small/,
with -j1 (one worker, one scanning thread). Prints a Markdown table; exit 1
when the two modes disagree on any file's result.
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LIMITS = ['--max-filesize=2000M', '--max-scansize=2000M', '--max-scantime=0']


def gen(out, seed):
    rnd = random.Random(seed)
    large = os.path.join(out, 'large-1g')
    if not os.path.isdir(large):
        os.makedirs(large + '.tmp', exist_ok=True)
        for i in range(16):
            with open(os.path.join(large + '.tmp', 'big%d.bin' % i), 'wb') as fh:
                for _ in range(64):
                    fh.write(rnd.randbytes(1 << 20))
        os.rename(large + '.tmp', large)
    small = os.path.join(out, 'small')
    if not os.path.isdir(small):
        os.makedirs(small + '.tmp', exist_ok=True)
        for i in range(20000):
            d = os.path.join(small + '.tmp', 'd%02d' % (i % 20))
            os.makedirs(d, exist_ok=True)
            n = int(64 * (256 ** rnd.random()))  # 64 B .. 16 KiB
            with open(os.path.join(d, 'f%05d' % i), 'wb') as fh:
                fh.write(rnd.randbytes(n))
        os.rename(small + '.tmp', small)
    tiny = os.path.join(out, 'tiny')
    if not os.path.exists(tiny):
        with open(tiny, 'wb') as fh:
            fh.write(b'sixteen bytes!!\n')
    return large, small, tiny


def size_of(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def run(argv):
    """Wall time, CPU time (user + system of vigil and the workers it reaped) and stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors='replace')
        if p.returncode not in (0, 1):
            sys.stderr.write('worker_cost: %s exited %d\n%s' % (' '.join(argv), p.returncode,
                                                                 err.read().decode(errors='replace')))
            raise SystemExit(2)
    return wall, ru.ru_utime + ru.ru_stime, text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--vigil', default=os.path.join(REPO, 'build', 'release', 'tools', 'vigil', 'vigil'))
    ap.add_argument('--db', default=os.path.join(REPO, 'db'), help='database file or folder')
    ap.add_argument('--out', default=os.path.join(HERE, 'out', 'worker-cost'))
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--worker-files', type=int, help="passed to vigil scan (default: vigil's)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    large, small, tiny = gen(a.out, a.seed)
    cache = tempfile.mkdtemp(prefix='wcache-', dir=a.out)
    threads = [int(t) for t in a.threads.split(',')]
    conf = os.path.join(cache, 'empty.conf')
    open(conf, 'w').close()
    base = [a.vigil, 'scan', '--config-file=' + conf, '-d', a.db, '--cache-dir=' + cache] + LIMITS
    wf = ['--worker-files=%d' % a.worker_files] if a.worker_files else []
    modes = [('workers', wf), ('in-process', ['--insecure-in-process'])]
    res = {}
    cpu = {}
    outputs = {}
    try:
        for name, path in [('tiny', tiny), ('large', large), ('small', small)]:
            for j in threads:
                for mode, extra in modes:
                    argv = base + extra + ['-j%d' % j, '--no-summary', path]
                    _, _, out = run(argv)  # untimed: page cache, compiled cache
                    runs = [run(argv) for _ in range(a.reps)]
                    walls = [r[0] for r in runs]
                    res[(name, j, mode)] = statistics.median(walls)
                    cpu[(name, j, mode)] = statistics.median([r[1] for r in runs])
                    outputs[(name, j, mode)] = out
                    sys.stderr.write('worker_cost: %-5s -j%d %-10s median %.4f s (cpu %.4f s) of %s\n' %
                                     (name, j, mode, res[(name, j, mode)], cpu[(name, j, mode)],
                                      ' '.join('%.4f' % w for w in walls)))
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    bad = [k for k in outputs if k[2] == 'workers' and
           sorted(outputs[k].splitlines()) != sorted(outputs[(k[0], k[1], 'in-process')].splitlines())]
    nsmall = sum(len(f) for _, _, f in os.walk(small))
    lbytes = size_of(large)
    rows = []
    for j in threads:
        wi, wp = res[('large', j, 'workers')], res[('large', j, 'in-process')]
        rows.append(('Large files (16 x 64 MiB), -j%d: throughput' % j,
                     '%.0f MB/s' % (lbytes / wp / 1e6), '%.0f MB/s' % (lbytes / wi / 1e6),
                     '%+.1f%%' % ((wi / wp - 1) * 100), 'at most 10% slower'))
    for j in threads:
        wi, wp = cpu[('large', j, 'workers')], cpu[('large', j, 'in-process')]
        rows.append(('Large files, -j%d: CPU time (vigil + workers)' % j,
                     '%.3f s' % wp, '%.3f s' % wi, '%+.1f%%' % ((wi / wp - 1) * 100), ''))
    for j in threads:
        wi, wp = res[('small', j, 'workers')], res[('small', j, 'in-process')]
        rows.append(('Small files (%d, 64 B-16 KiB), -j%d: wall' % (nsmall, j),
                     '%.3f s' % wp, '%.3f s' % wi,
                     '%+.1f µs per file' % ((wi - wp) / nsmall * 1e6),
                     'at most 30 µs per file' if j == 1 else ''))
    for j in threads:
        wi, wp = cpu[('small', j, 'workers')], cpu[('small', j, 'in-process')]
        rows.append(('Small files, -j%d: CPU time (vigil + workers)' % j,
                     '%.3f s' % wp, '%.3f s' % wi,
                     '%+.1f µs per file' % ((wi - wp) / nsmall * 1e6), ''))
    for j in threads[:1]:
        wi, wp = res[('tiny', j, 'workers')], res[('tiny', j, 'in-process')]
        rows.append(('One tiny file, -j%d: wall (start-up: the first worker maps and warms the database)' % j,
                     '%.1f ms' % (wp * 1e3), '%.1f ms' % (wi * 1e3), '%+.1f ms' % ((wi - wp) * 1e3), ''))
    print('| Measure | in process (`--insecure-in-process`) | sandboxed workers (default) | cost | target |')
    print('| --- | ---: | ---: | ---: | --- |')
    for r in rows:
        print('| %s |' % ' | '.join(r))
    if bad:
        sys.stderr.write('worker_cost: results differ between modes: %s\n' % bad)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
