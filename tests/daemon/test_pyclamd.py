#!/usr/bin/python3
"""Debian's python3-pyclamd (a client nobody here wrote) against vigild and
against Debian's clamd, over the UNIX socket and over TCP on 127.0.0.1:
every call must give the same result, except version() which names vigil.
Ends with shutdown(): vigild must exit cleanly and remove its socket.

Usage: test_pyclamd.py VIGILD
"""
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_lib as L  # noqa: E402

try:
    import pyclamd
except ImportError:
    L.skip('python3-pyclamd is not installed (apt-get install python3-pyclamd)')


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def limit(fn, data):
    try:
        return fn(data)
    except (pyclamd.BufferTooLongError, BrokenPipeError, ConnectionResetError,
            pyclamd.ConnectionError):
        return 'refused'


def calls(cd, ws):
    files = ws.path('files')
    res = []

    def rec(name, fn):
        try:
            res.append((name, fn()))
        except Exception as e:  # the exception type is part of the behaviour
            res.append((name, 'raised %s' % type(e).__name__))

    rec('ping', cd.ping)
    rec('scan_file eicar', lambda: cd.scan_file(os.path.join(files, 'eicar.com')))
    rec('scan_file clean', lambda: cd.scan_file(os.path.join(files, 'clean.txt')))
    rec('scan_file missing', lambda: cd.scan_file(os.path.join(files, 'missing')))
    rec('scan_file tree', lambda: cd.scan_file(os.path.join(files, 'tree')))
    rec('contscan_file tree', lambda: cd.contscan_file(os.path.join(files, 'tree')))
    rec('multiscan_file tree', lambda: cd.multiscan_file(os.path.join(files, 'tree')))
    rec('allmatchscan eicar', lambda: cd.allmatchscan(os.path.join(files, 'eicar.com')))
    rec('scan_stream eicar', lambda: cd.scan_stream(L.EICAR))
    rec('scan_stream clean', lambda: cd.scan_stream(b'nothing to see' * 1000))
    # Over StreamMaxLength: the daemon answers with an error and closes while
    # the client may still be sending, so pyclamd sees the error line or a
    # broken connection depending on timing, with clamd as with vigild.
    rec('scan_stream big', lambda: limit(cd.scan_stream, b'x' * (3 << 20)))
    rec('scan_stream eicar late', lambda: cd.scan_stream(b'y' * 100000 + L.EICAR))
    rec('EICAR', lambda: cd.scan_stream(cd.EICAR()))
    rec('stats', lambda: cd.stats().startswith('POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live'))
    rec('reload', cd.reload)
    return res


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    L.need(L.CLAMD, 'clamav-daemon')
    ws = L.Workspace()
    clamd = vig = None
    failures = 0
    try:
        ws.write('clean.txt', b'clean\n')
        ws.write('eicar.com', L.EICAR)
        ws.write('tree/a.txt', b'a\n')
        ws.write('tree/e1.com', L.EICAR)
        ws.write('tree/sub/e2.com', L.EICAR)
        cport, vport = free_port(), free_port()
        common = [('StreamMaxLength', '2M'), ('MaxThreads', '4'), ('SelfCheck', '0'),
                  ('TCPAddr', '127.0.0.1')]
        clamd = L.start_clamd(ws, extra=common + [('TCPSocket', str(cport))])
        vig = L.start_vigild(sys.argv[1], ws, extra=common + [('TCPSocket', str(vport))])
        pairs = [
            ('unix', pyclamd.ClamdUnixSocket(filename=clamd.sock, timeout=30),
             pyclamd.ClamdUnixSocket(filename=vig.sock, timeout=30)),
            ('tcp', pyclamd.ClamdNetworkSocket('127.0.0.1', cport, timeout=30),
             pyclamd.ClamdNetworkSocket('127.0.0.1', vport, timeout=30)),
        ]
        for transport, c, v in pairs:
            a = calls(c, ws)
            b = calls(v, ws)
            for (name, ra), (_, rb) in zip(a, b):
                if ra != rb:
                    failures += 1
                    print('DIFF %s %s\n  clamd : %r\n  vigild: %r' % (transport, name, ra, rb))
            ver = v.version()
            if not ver.startswith('vigil '):
                failures += 1
                print('FAIL %s version(): %r' % (transport, ver))
            time.sleep(0.5)  # let the RELOADs finish
        # shutdown(): the daemon exits, its socket and pid file go away
        pairs[0][2].shutdown()
        try:
            vig.proc.wait(20)
        except Exception:
            failures += 1
            print('FAIL vigild did not exit after SHUTDOWN')
        if vig.proc.returncode != 0:
            failures += 1
            print('FAIL vigild exit code %s after SHUTDOWN:\n%s' % (vig.proc.returncode,
                                                                   vig.output()[-3000:]))
        for p in (vig.sock, ws.path('vigild', 'vigild.pid')):
            if os.path.exists(p):
                failures += 1
                print('FAIL %s still exists after SHUTDOWN' % p)
        print('pyclamd: %d differences' % failures)
        return 1 if failures else 0
    finally:
        if clamd:
            clamd.stop()
        if vig:
            vig.stop()
        ws.cleanup()


if __name__ == '__main__':
    sys.exit(main())
