#!/usr/bin/python3
"""The load driver of bench/daemon, small: 4 clients, 200 INSTREAM requests
of mixed sizes (5% infected) against vigild; every reply must be right and
vigild must stop cleanly afterwards. Correctness only: timings are printed,
never asserted (bench/daemon/compare.py runs the full comparison).

Usage: test_load.py VIGILD LOADGEN
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_lib as L  # noqa: E402


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    ws = L.Workspace()
    vig = None
    try:
        vig = L.start_vigild(sys.argv[1], ws, extra=[('StreamMaxLength', '4M'), ('SelfCheck', '0')])
        p = subprocess.run([sys.argv[2], '--socket', vig.sock, '--clients', '4', '--requests', '200',
                            '--max-size', str(1 << 20), '--pid', str(vig.pid), '--label', 'vigild'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        print(p.stdout.decode(errors='replace').strip())
        if p.returncode != 0:
            print('FAIL: the load driver reported errors')
            return 1
        return 0
    finally:
        if vig:
            rc = vig.stop()
            if rc != 0:
                print('FAIL: vigild exit code %s\n%s' % (rc, vig.output()[-3000:]))
                sys.exit(1)
        ws.cleanup()


if __name__ == '__main__':
    sys.exit(main())
