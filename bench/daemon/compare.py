#!/usr/bin/python3
"""Loopback load comparison: vigild against Debian's clamd, same database
(EICAR by hash and by body), same generated payloads, same driver.

For each daemon: start it in a temporary folder on its own socket, warm it
up with 200 requests, then run the load driver (bench/daemon/loadgen.c:
N clients, M INSTREAM requests of mixed sizes, 5% infected, every reply
checked) and print requests/s, latency percentiles and resident memory at
the start and end of the run; finally the ratios. Both daemons use their
default thread counts unless --threads is given (clamd: 10, vigild: one
per core); StreamMaxLength is 25M for both (Debian's value).

Usage (from the repository, after building the release preset):
  /usr/bin/python3 bench/daemon/compare.py \\
      --vigild build/release/tools/vigild/vigild \\
      --loadgen build/release/tests/daemon/vigild-loadgen \\
      [--clients 64] [--requests 20000] [--threads N] [--only vigild|clamd]
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'daemon'))
import daemon_lib as L  # noqa: E402


def run_load(loadgen, daemon, clients, requests, label):
    warm = subprocess.run([loadgen, '--socket', daemon.sock, '--clients', '8', '--requests', '200',
                           '--label', label + '-warmup'], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=600)
    if warm.returncode != 0:
        print(warm.stdout.decode(errors='replace'))
        raise SystemExit('%s: warm-up failed' % label)
    p = subprocess.run([loadgen, '--socket', daemon.sock, '--clients', str(clients), '--requests',
                        str(requests), '--pid', str(daemon.pid), '--label', label],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=7200)
    text = p.stdout.decode(errors='replace').strip()
    print(text)
    if p.returncode != 0:
        raise SystemExit('%s: the load driver reported errors' % label)
    m = re.search(r'([\d.]+) requests/s.*p50 ([\d.]+) ms p95 ([\d.]+) ms p99 ([\d.]+) ms', text)
    return {'rps': float(m.group(1)), 'p50': float(m.group(2)), 'p95': float(m.group(3)),
            'p99': float(m.group(4))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--vigild', required=True)
    ap.add_argument('--loadgen', required=True)
    ap.add_argument('--clients', type=int, default=64)
    ap.add_argument('--requests', type=int, default=20000)
    ap.add_argument('--threads', type=int, default=0, help='MaxThreads for both (default: each its own)')
    ap.add_argument('--only', choices=('vigild', 'clamd'))
    a = ap.parse_args()
    loadgen = os.path.abspath(a.loadgen)
    ws = L.Workspace(prefix='vigild-bench-')
    results = {}
    common = [('StreamMaxLength', '25M'), ('SelfCheck', '0'), ('MaxQueue', '200'),
              ('MaxConnectionQueueLength', '200')]
    if a.threads:
        common.append(('MaxThreads', str(a.threads)))
    try:
        print('%d clients, %d INSTREAM requests, %d cores' % (a.clients, a.requests, os.cpu_count()))
        if a.only != 'vigild':
            clamd = L.start_clamd(ws, extra=common)
            try:
                results['clamd'] = run_load(loadgen, clamd, a.clients, a.requests, 'clamd')
            finally:
                clamd.stop()
        if a.only != 'clamd':
            vig = L.start_vigild(a.vigild, ws, extra=common)
            try:
                results['vigild'] = run_load(loadgen, vig, a.clients, a.requests, 'vigild')
            finally:
                vig.stop()
        if len(results) == 2:
            v, c = results['vigild'], results['clamd']
            print('ratio vigild/clamd: throughput %.2fx; latency p50 %.2fx p95 %.2fx p99 %.2fx '
                  '(latency: lower is better)' % (v['rps'] / c['rps'], v['p50'] / c['p50'],
                                                   v['p95'] / c['p95'], v['p99'] / c['p99']))
    finally:
        ws.cleanup()


if __name__ == '__main__':
    main()
