#!/usr/bin/python3
"""Debian's clamdscan, pointed at vigild through its own clamd.conf, must
print what it prints when pointed at Debian's clamd (same database, same
files) and exit with the same code, in every mode: path scans (CONTSCAN),
--stream (INSTREAM), --fdpass (FILDES), --multiscan (MULTISCAN, and
IDSESSION pipelines with --fdpass/--stream), --allmatch, standard input,
--ping, --reload, --version.

Usage: test_clamdscan.py VIGILD
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_lib as L  # noqa: E402

VOLATILE = ('Time:', 'Start Date:', 'End Date:')


def run(conf, args, stdin=None):
    p = subprocess.run([L.CLAMDSCAN, '--config-file=' + conf] + args, input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    lines = [ln for ln in p.stdout.decode(errors='replace').splitlines()
             if not ln.startswith(VOLATILE)]
    return p.returncode, lines


def comparable(lines, unordered):
    if not unordered:
        return lines
    # Replies of parallel scans come in any order; the summary stays last.
    body = [ln for ln in lines if ln and not ln.startswith(('-----', 'Infected files'))]
    rest = [ln for ln in lines if ln not in body]
    return sorted(body) + rest


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    L.need(L.CLAMD, 'clamav-daemon')
    L.need(L.CLAMDSCAN, 'clamdscan')
    ws = L.Workspace()
    clamd = vig = None
    failures = 0
    try:
        ws.write('clean.txt', b'clean\n')
        ws.write('eicar.com', L.EICAR)
        ws.write('tree/a.txt', b'a\n')
        ws.write('tree/e1.com', L.EICAR)
        ws.write('tree/sub/e2.com', L.EICAR)
        ws.write('tree/sub/b.txt', b'b\n')
        ws.write('tree/empty', b'')
        if os.path.exists(L.CLAM_EXE):
            ws.write('tree/sub/clam.exe', open(L.CLAM_EXE, 'rb').read())
        for i in range(40):
            ws.write('many/f%02d.txt' % i, (b'file %d\n' % i) if i % 7 else L.EICAR)
        files = ws.path('files')
        extra = [('MaxThreads', '4'), ('SelfCheck', '0')]
        clamd = L.start_clamd(ws, extra=extra)
        vig = L.start_vigild(sys.argv[1], ws, extra=extra)
        cconf = L.clamdscan_conf(ws, clamd.sock, 'clamd')
        vconf = L.clamdscan_conf(ws, vig.sock, 'vigild')
        targets = [os.path.join(files, 'tree'), os.path.join(files, 'eicar.com'),
                   os.path.join(files, 'clean.txt'), os.path.join(files, 'many'),
                   os.path.join(files, 'nonexistent')]
        variants = [
            ([], False), (['--stream'], False), (['--fdpass'], False),
            (['--multiscan'], True), (['--multiscan', '--fdpass'], True),
            (['--multiscan', '--stream'], True), (['--allmatch'], False),
            (['--allmatch', '--fdpass'], False), (['-i'], False), (['--no-summary'], False),
            (['--fdpass', '-i', '--no-summary'], False),
        ]
        for opts, unordered in variants:
            for t in targets + [targets[:4]]:
                args = opts + (t if isinstance(t, list) else [t])
                a = run(cconf, args)
                b = run(vconf, args)
                if os.environ.get("VG_VERBOSE"):
                    print(args, a, b)
                if (a[0], comparable(a[1], unordered)) != (b[0], comparable(b[1], unordered)):
                    failures += 1
                    print('DIFF clamdscan %s\n  clamd  (%d): %s\n  vigild (%d): %s' %
                          (' '.join(args), a[0], a[1], b[0], b[1]))
        # Standard input: passed as a descriptor, or streamed.
        for opts in ([], ['--stream'], ['--fdpass']):
            for data in (L.EICAR, b'clean input\n'):
                a = run(cconf, opts + ['-'], data)
                b = run(vconf, opts + ['-'], data)
                if a != b:
                    failures += 1
                    print('DIFF stdin %s %r\n  clamd : %s\n  vigild: %s' % (opts, data[:10], a, b))
        # --ping, --reload
        for args in (['--ping', '1'], ['--reload']):
            a = run(cconf, args)
            b = run(vconf, args)
            if a != b:
                failures += 1
                print('DIFF %s\n  clamd : %s\n  vigild: %s' % (args, a, b))
        # --version asks the daemon: vigild names itself.
        rc, lines = run(vconf, ['--version'])
        if rc != 0 or not lines or not lines[0].startswith('vigil '):
            failures += 1
            print('FAIL clamdscan --version against vigild: %d %s' % (rc, lines))
        if not vig.alive():
            failures += 1
            print('FAIL vigild died:\n' + vig.output()[-3000:])
        print('clamdscan: %d differences' % failures)
        return 1 if failures else 0
    finally:
        if clamd:
            clamd.stop()
        if vig:
            rc = vig.stop()
            if rc != 0:
                print('vigild exited with %s:\n%s' % (rc, vig.output()[-3000:]))
                failures += 1
        ws.cleanup()


if __name__ == '__main__':
    sys.exit(main())
