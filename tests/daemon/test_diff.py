#!/usr/bin/python3
"""Differential test: the same raw requests against Debian's clamd and
against vigild, with the same database and files, must get the same bytes
back and the same closing behaviour.

Normalised before comparing (documented differences, docs/PROTOCOL.md):
  - the VERSION text ("ClamAV 1.4.6/..." vs "vigil 0.1.0/...");
  - descriptor numbers in "fd[N]" (each daemon's own);
  - the numbers inside STATS (its layout is compared);
  - the order of replies that clamd itself sends in no fixed order
    (MULTISCAN files, asynchronous IDSESSION jobs): compared as sets.

Usage: test_diff.py VIGILD [--verbose]
"""
import os
import re
import sys
import threading

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_lib as L  # noqa: E402

VERSION_RE = re.compile(rb'(?:ClamAV 1\.4\.6|vigil \d+\.\d+\.\d+)(?:/\d+/[^\x00\n|]+)?')
FD_RE = re.compile(rb'fd\[\d+\]')
STATS_RE = re.compile(rb'POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live \d+  idle \d+ max \d+ '
                      rb'idle-timeout \d+\nQUEUE: \d+ items\n(?:\t[^\n]*\n)*\nMEMSTATS: [^\n]*\nEND')


def normalise(data, unordered, term):
    data = VERSION_RE.sub(b'<VERSION>', data)
    data = FD_RE.sub(b'fd[N]', data)
    data = STATS_RE.sub(b'<STATS>', data)
    if unordered == 'interleaved':
        # clamd writes a STATS reply's "N: " and its body separately, so
        # another thread's reply can land between them: compare the request
        # ids and the reply bodies, each as a set
        ids = sorted(re.findall(rb'(\d+): ', data))
        bodies = sorted(p for p in re.sub(rb'\d+: ', b'', data).split(term) if p)
        data = b' '.join(ids) + b' | ' + term.join(bodies)
    elif unordered:
        parts = data.split(term)
        data = term.join(sorted(parts))
    return data


def build_files(ws):
    f = {}
    f['clean'] = ws.write('clean.txt', b'just a clean file\n')
    f['eicar'] = ws.write('eicar.com', L.EICAR)
    f['empty'] = ws.write('empty', b'')
    ws.write('dir/a.txt', b'clean a\n')
    ws.write('dir/e1.com', L.EICAR)
    ws.write('dir/sub/e2.com', L.EICAR)
    ws.write('dir/sub/b.txt', b'clean b\n')
    ws.write('dir/sub/deeper/c.txt', b'clean c\n')
    os.symlink(f['eicar'], ws.path('files', 'dir', 'link.com'))
    os.mkfifo(ws.path('files', 'dir', 'fifo'))
    ws.write('cleandir/x.txt', b'x\n')
    ws.write('cleandir/y/z.txt', b'z\n')
    os.makedirs(ws.path('files', 'emptydir'))
    os.makedirs(ws.path('files', 'fifodir'))
    os.mkfifo(ws.path('files', 'fifodir', 'f'))
    os.mkfifo(ws.path('files', 'fifo'))
    os.symlink(f['eicar'], ws.path('files', 'toplink.com'))
    os.symlink(ws.path('files', 'dir'), ws.path('files', 'topdirlink'))
    if os.path.exists(L.CLAM_EXE):
        f['clam'] = ws.write('dir/clam.exe', open(L.CLAM_EXE, 'rb').read())
    ws.write('skipme.com', L.EICAR)
    ws.write('dir/skipme/e3.com', L.EICAR)
    f['big'] = ws.write('big.com', L.EICAR + b' ' * 2048)
    return f


def cases(ws, f):
    P = ws.path('files').encode()
    E = f['eicar'].encode()
    C = f['clean'].encode()
    S = lambda b: ('send', b)  # noqa: E731
    ch = L.chunk
    end = L.END_CHUNK
    big = b'A' * (600 * 1024)
    out = []

    def add(name, ops, unordered=False, term=b'\0'):
        out.append((name, ops, unordered, term))

    # Framing
    for cmd in (b'zPING\0', b'nPING\n', b'PING', b'PING\n', b'PING\0', b'PING\r\n', b'PING\r',
                b'nPING\r\n', b'zPING\r\0', b'nPING extra\n', b'zPINGX\0', b'xPING\n', b'\n',
                b'\0', b'nping\n', b'z\0', b'n\n', b'nPING \n', b'PING \n', b'\xff' * 10000,
                b'zVERSION\0', b'nVERSION\n', b'VERSION', b'nVERSIONCOMMANDS\n',
                b'zVERSIONCOMMANDS\0', b'VERSIONCOMMANDS\n', b'zFOO\0', b'FOO\n', b'zEND\0',
                b'END\n', b'nEND\n', b'zDETSTATS\0', b'zDETSTATSCLEAR\0', b'DETSTATS\n',
                b'zSHUTDOWNX\0', b'zRELOADX\0', b'zQUITX\0', b'zSTATS\0', b'nSTATS\n',
                b'STATS\n', b'zSTATSX\0', b'zINSTREAMX\0', b'INSTREAM\n', b'zIDSESSIONX\0',
                b'IDSESSION\n', b'zSCAN\0', b'SCAN\n', b'zCONTSCAN\0', b'zMULTISCAN\0',
                b'zALLMATCHSCAN\0', b'ALLMATCHSCAN ' + E + b'\n', b'zPING\0zPING\0',
                b'zPING\0garbage', b'nPING\nnPING\n'):
        add('framing %r' % cmd[:40], [S(cmd)])
    add('split z command', [S(b'zPI'), ('sleep', 0.3), S(b'NG\0')])
    # (legacy framing depends on what one read returns: the pause must be
    # long enough for each daemon to read the first part alone)
    add('split legacy command', [S(b'PI'), ('sleep', 1.0), S(b'NG\n')])

    # Paths
    for path in (E, C, f['empty'].encode(), P + b'/nonexist', b'files/eicar.com',
                 b'files/nonexist', P + b'/dir', P + b'/dir/', P + b'//dir//', b'/' + P + b'/dir',
                 b'/' + P + b'/eicar.com', b'/' + P + b'/cleandir', P + b'/cleandir',
                 P + b'/cleandir/', P + b'/cleandir/.', P + b'/emptydir', P + b'/fifodir',
                 P + b'/fifo', b'/' + P + b'/fifo', P + b'/toplink.com', P + b'/topdirlink',
                 P + b'/topdirlink/', E + b'/', C + b'/x', b'', b'//', b'//nonexist//',
                 P + b'/dir/sub', P + b'//dir/sub/'):
        for cmd in (b'SCAN', b'CONTSCAN', b'MULTISCAN', b'ALLMATCHSCAN'):
            add('%s %r' % (cmd.decode(), path), [S(b'z' + cmd + b' ' + path + b'\0')],
                unordered=cmd == b'MULTISCAN')
    for cmd in (b'nSCAN ' + E + b'\n', b'SCAN ' + E + b'\n', b'SCAN ' + E, b'SCAN ' + C,
                b'nSCAN ' + C + b'\r\n', b'SCAN ' + C + b'\r\n', b'zSCANX ' + C + b'\0',
                b'zSCAN\t' + C + b'\0', b'zSCAN  ' + C + b'\0', b'zSCAN ' + C + b' x\0',
                b'CONTSCAN ' + P + b'/dir\n', b'nCONTSCAN ' + P + b'/dir\n',
                b'zSCAN ' + C + b'\0garbage', b'zSCAN ' + C + b'\0zPING\0',
                b'nSCAN ' + C + b'\nnPING\n', b'zVERSION\0garbage', b'zSTATS\0garbage',
                b'zSCAN /' + b'a' * 4096 + b'\0', b'zSCAN /' + b'a' * 4097 + b'\0',
                b'zSCAN /' + b'a' * 100000):
        add('scan variant %r' % cmd[:48], [S(cmd)], term=b'\n' if cmd[:1] != b'z' else b'\0')

    # INSTREAM
    add('instream eicar', [S(b'zINSTREAM\0' + ch(L.EICAR) + end)])
    add('instream eicar n', [S(b'nINSTREAM\n' + ch(L.EICAR[:10]) + ch(L.EICAR[10:]) + end)])
    add('instream clean', [S(b'zINSTREAM\0' + ch(b'hello') + end)])
    add('instream empty', [S(b'zINSTREAM\0' + end)])
    add('instream 1-byte chunks', [S(b'zINSTREAM\0' + b''.join(ch(bytes([c])) for c in L.EICAR) + end)])
    add('instream split sends', [S(b'zINSTREAM\0'), ('sleep', 0.2), S(ch(L.EICAR)[:3]), ('sleep', 0.2),
                                 S(ch(L.EICAR)[3:40]), ('sleep', 0.2), S(ch(L.EICAR)[40:] + end[:2]),
                                 ('sleep', 0.2), S(end[2:])])
    add('instream limit one chunk', [S(b'zINSTREAM\0' + b'\x00\x20\x00\x00')])
    add('instream limit 0xffffffff', [S(b'zINSTREAM\0\xff\xff\xff\xff')])
    add('instream limit two chunks', [S(b'zINSTREAM\0' + ch(big)), S(ch(big) + end)])
    add('instream exact limit', [S(b'zINSTREAM\0' + ch(b'B' * (1024 * 1024)) + end)])
    add('instream limit plus one', [S(b'zINSTREAM\0' + ch(b'B' * (1024 * 1024)) + ch(b'x') + end)])
    add('instream garbage after', [S(b'zINSTREAM\0' + ch(L.EICAR) + end + b'garbage')])
    add('instream then ping', [S(b'zINSTREAM\0' + ch(L.EICAR) + end + b'zPING\0')])
    add('instream incomplete shut', [S(b'zINSTREAM\0' + ch(L.EICAR)), ('shut',)])
    add('instream eicar in clam-sized chunks', [S(b'zINSTREAM\0' + ch(L.EICAR + b'\0' * 20000) + end)])

    # FILDES
    add('fildes separate', [S(b'zFILDES\0'), ('fd', b'\0', f['eicar'])])
    add('fildes n clean', [S(b'nFILDES\n'), ('fd', b'\0', f['clean'])])
    add('fildes one message n', [('fd', b'nFILDES\n\0', f['eicar'])])
    add('fildes one message z', [('fd', b'zFILDES\0\0', f['eicar'])])
    add('fildes without extra byte', [('fd', b'zFILDES\0', f['eicar'])])
    add('fildes legacy', [('fd', b'FILDES\n\0', f['eicar'])])
    add('fildes legacy nul', [('fd', b'FILDES\0', f['eicar'])])
    add('fildes x byte', [S(b'zFILDES\0'), ('fd', b'x', f['eicar'])])
    add('fildes no fd', [S(b'zFILDES\0'), ('sleep', 0.2), S(b'x')])
    add('fildes no fd same packet', [S(b'zFILDES\0X')])
    add('fildes no fd n', [S(b'nFILDES\nX')])
    add('fildes directory', [S(b'zFILDES\0'), ('fd', b'\0', ws.path('files', 'dir'))])
    add('fildes empty file', [S(b'zFILDES\0'), ('fd', b'\0', f['empty'])])
    add('fd with ping', [('fd', b'zPING\0', f['eicar'])])
    add('fd with idsession', [('fd', b'zIDSESSION\0', f['eicar'])])
    add('fd with scan', [('fd', b'zSCAN ' + C + b'\0', f['eicar'])])
    add('fd alone', [('fd', b'z', f['eicar'])])

    # IDSESSION
    add('session ping version', [S(b'zIDSESSION\0zPING\0zVERSION\0zEND\0')])
    add('session mixed framing', [S(b'zIDSESSION\0zPING\0nPING\nzEND\0')])
    add('session n', [S(b'nIDSESSION\nnPING\nzPING\0nEND\n')])
    add('session empty', [S(b'zIDSESSION\0zEND\0')])
    add('session after end', [S(b'zIDSESSION\0zPING\0zEND\0zPING\0')])
    for bad in (b'zRELOAD\0', b'zCONTSCAN ' + C + b'\0', b'zFOO\0', b'zIDSESSION\0',
                b'zSHUTDOWN\0', b'zMULTISCAN ' + C + b'\0', b'zALLMATCHSCAN ' + C + b'\0',
                b'zDETSTATS\0'):
        add('session invalid %r' % bad[:30], [S(b'zIDSESSION\0' + bad + b'zPING\0')])
    add('session invalid second', [S(b'zIDSESSION\0zPING\0zRELOAD\0')])
    add('session pipeline', [S(b'zIDSESSION\0zSCAN ' + E + b'\0zINSTREAM\0' + ch(L.EICAR) + end +
                               b'zSCAN ' + C + b'\0zEND\0')], unordered=True)
    # (clamd writes VERSIONCOMMANDS word by word, so a STATS reply from
    # another thread can land in the middle of it: asked separately.)
    add('session stats', [S(b'zIDSESSION\0zSTATS\0zPING\0zEND\0')], unordered='interleaved')
    add('session versioncommands', [S(b'zIDSESSION\0zVERSIONCOMMANDS\0zPING\0zEND\0')])
    add('session two streams', [S(b'zIDSESSION\0zINSTREAM\0' + ch(L.EICAR) + end + b'zINSTREAM\0' +
                                  ch(b'x' * 16384) + end + b'zEND\0')], unordered=True)
    add('session stream then end later', [S(b'zIDSESSION\0zINSTREAM\0' + ch(L.EICAR) + end),
                                           ('sleep', 0.5), S(b'zEND\0')])
    add('session fildes', [S(b'zIDSESSION\0zFILDES\0'), ('fd', b'\0', f['eicar']), ('sleep', 0.3),
                           S(b'zEND\0')])
    add('session fildes one message', [S(b'zIDSESSION\0'), ('fd', b'zFILDES\0\0', f['eicar']),
                                       ('sleep', 0.3), S(b'zEND\0')])
    add('session fildes no fd', [S(b'zIDSESSION\0zPING\0zFILDES\0X')])
    add('session stream limit', [S(b'zIDSESSION\0zINSTREAM\0\xff\xff\xff\xff')])
    add('session scan nonexist', [S(b'zIDSESSION\0zSCAN ' + P + b'/nonexist\0zEND\0')])
    add('session scan dir', [S(b'zIDSESSION\0zSCAN ' + P + b'/dir\0zEND\0')])
    add('session legacy later', [S(b'zIDSESSION\0'), ('sleep', 1.0), S(b'PING\n')])
    add('session 1-byte sends', [S(bytes([b])) for b in b'zIDSESSION\0zPING\0zVERSION\0nPING\nzEND\0'])
    add('session ping shut', [S(b'zIDSESSION\0zPING\0'), ('shut',)])
    add('session many pings', [S(b'zIDSESSION\0' + b'zPING\0' * 300 + b'zEND\0')])

    # Timeouts (CommandReadTimeout 2, ReadTimeout 3 in both configurations)
    add('timeout idle', [])
    add('timeout partial command', [S(b'zPING')])
    add('timeout fildes waiting', [S(b'zFILDES\0')])
    add('timeout instream no data', [S(b'zINSTREAM\0')])
    add('timeout instream partial chunk', [S(b'zINSTREAM\0' + ch(L.EICAR)[:20])])
    add('timeout session idle', [S(b'zIDSESSION\0zPING\0')])
    add('timeout session legacy waiting', [S(b'zIDSESSION\0zPING\0PING\0zEND\0')])
    add('partial command shut', [S(b'zPING'), ('shut',)])
    add('legacy shut', [S(b'PING'), ('shut',)])
    return out


def configured_cases(ws, f):
    """For the second round, both daemons with ExcludePath, symlink following,
    a folder depth of 1, ALLMATCHSCAN refused and a 1K MaxFileSize."""
    P = ws.path('files').encode()
    S = lambda b: ('send', b)  # noqa: E731
    out = []
    for path in (P + b'/dir', P + b'/toplink.com', P + b'/topdirlink', P + b'/skipme.com',
                 P + b'/dir/skipme', P + b'/big.com', P + b'/cleandir', P + b'/fifo'):
        for cmd in (b'SCAN', b'CONTSCAN', b'MULTISCAN', b'ALLMATCHSCAN'):
            out.append(('%s %r' % (cmd.decode(), path), [S(b'z' + cmd + b' ' + path + b'\0')],
                        cmd == b'MULTISCAN', b'\0'))
    big = open(f['big'], 'rb').read()
    out.append(('instream over MaxFileSize', [S(b'zINSTREAM\0' + L.chunk(big) + L.END_CHUNK)], False, b'\0'))
    out.append(('instream under MaxFileSize', [S(b'zINSTREAM\0' + L.chunk(L.EICAR) + L.END_CHUNK)],
                False, b'\0'))
    return out


def unprivileged_cases(ws):
    """For the third round, both daemons running as the clamav user: files
    they may not read, a folder they may not enter, and FILDES, which lets a
    client hand over a file the daemon could not open itself."""
    P = ws.path('files', 'private').encode()
    S = lambda b: ('send', b)  # noqa: E731
    out = []
    for path in (P, P + b'/secret.txt', P + b'/secretdir', P + b'/secretdir/x.txt',
                 P + b'/secret-eicar.com'):
        for cmd in (b'SCAN', b'CONTSCAN', b'MULTISCAN', b'ALLMATCHSCAN'):
            out.append(('%s %r' % (cmd.decode(), path), [S(b'z' + cmd + b' ' + path + b'\0')],
                        cmd == b'MULTISCAN', b'\0'))
    out.append(('fildes of an unreadable file', [S(b'zFILDES\0'),
                ('fd', b'\0', ws.path('files', 'private', 'secret-eicar.com'))], False, b'\0'))
    return out


def prepare_unprivileged(ws):
    """Make the workspace usable by the clamav user; None if not possible."""
    import pwd
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam('clamav')
    except KeyError:
        return None
    os.chmod(ws.root, 0o755)
    os.chmod(ws.tmp, 0o1777)
    for name in ('clamd3', 'vigild3'):
        os.makedirs(ws.path(name), exist_ok=True)
        os.chmod(ws.path(name), 0o777)
    ws.write('private/readable.txt', b'readable\n', mode=0o644)
    ws.write('private/secret.txt', b'secret\n', mode=0o600)
    ws.write('private/secret-eicar.com', L.EICAR, mode=0o600)
    ws.write('private/secretdir/x.txt', b'x\n', mode=0o644)
    os.chmod(ws.path('files', 'private', 'secretdir'), 0o700)
    return 'clamav'


def compare_once(clamd, vig, ops, unordered, term):
    res = {}

    def go(key, sock):
        res[key] = run_case(sock, ops)

    ta = threading.Thread(target=go, args=('clamd', clamd.sock))
    tb = threading.Thread(target=go, args=('vigild', vig.sock))
    ta.start()
    tb.start()
    ta.join()
    tb.join()
    a = (normalise(res['clamd'][0], unordered, term), res['clamd'][1])
    b = (normalise(res['vigild'][0], unordered, term), res['vigild'][1])
    return a, b


def compare(clamd, vig, all_cases, verbose):
    """A case that differs is run twice more: some depend on what one read
    returns or on pauses (split commands, timeouts), and a loaded machine
    can shift them. It fails when it differs all three times; a difference
    that goes away is printed as UNSTEADY."""
    failures = 0
    for name, ops, unordered, term in all_cases:
        a, b = compare_once(clamd, vig, ops, unordered, term)
        if a != b:
            first = (a, b)
            for _ in range(2):
                a, b = compare_once(clamd, vig, ops, unordered, term)
                if a == b:
                    break
            tag = 'DIFF' if a != b else 'UNSTEADY (same on a later try)'
            if a != b:
                failures += 1
            print('%s %s\n  clamd : %r closed=%s\n  vigild: %r closed=%s' %
                  (tag, name, first[0][0][:600], first[0][1], first[1][0][:600], first[1][1]))
        elif verbose:
            print('same %s: %r' % (name, a[0][:100]))
    if not clamd.alive() or not vig.alive():
        print('FAIL: a daemon died (clamd alive=%s, vigild alive=%s)' % (clamd.alive(), vig.alive()))
        print(vig.output()[-3000:])
        failures += 1
    return failures


def run_case(sock, ops):
    return L.converse(sock, ops, timeout=8.0)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    vigild = sys.argv[1]
    verbose = '--verbose' in sys.argv
    L.need(L.CLAMD, 'clamav-daemon')
    ws = L.Workspace()
    clamd = vig = None
    try:
        f = build_files(ws)
        common = [('StreamMaxLength', '1M'), ('CommandReadTimeout', '2'), ('ReadTimeout', '3'),
                  ('MaxThreads', '4'), ('SelfCheck', '0')]
        clamd = L.start_clamd(ws, extra=common)
        vig = L.start_vigild(vigild, ws, extra=common)
        all_cases = cases(ws, f)
        failures = compare(clamd, vig, all_cases, verbose)
        clamd.stop()
        rc = vig.stop()
        clamd = vig = None
        if rc != 0:
            failures += 1
            print('vigild exit code %s' % rc)
        conf = common + [('ExcludePath', 'skipme'), ('FollowFileSymlinks', 'yes'),
                         ('FollowDirectorySymlinks', 'yes'), ('MaxDirectoryRecursion', '1'),
                         ('AllowAllMatchScan', 'no'), ('MaxFileSize', '1K')]
        clamd = L.start_clamd(ws, name='clamd2', extra=conf)
        vig = L.start_vigild(vigild, ws, name='vigild2', extra=conf)
        more = configured_cases(ws, f)
        failures += compare(clamd, vig, more, verbose)
        all_cases += more
        clamd.stop()
        rc = vig.stop()
        clamd = vig = None
        if rc != 0:
            failures += 1
            print('vigild exit code %s' % rc)
        user = prepare_unprivileged(ws)
        if user is None:
            print('note: not root or no clamav user: the unprivileged round is skipped')
        else:
            conf = common + [('User', user)]
            clamd = L.start_clamd(ws, name='clamd3', extra=conf)
            vig = L.start_vigild(vigild, ws, name='vigild3', extra=conf)
            more = unprivileged_cases(ws)
            failures += compare(clamd, vig, more, verbose)
            all_cases += more
        print('%d cases, %d differences' % (len(all_cases), failures))
        return 1 if failures else 0
    finally:
        if clamd:
            clamd.stop()
        if vig:
            rc = vig.stop()
            if rc != 0:
                print('vigild exited with %s:\n%s' % (rc, vig.output()[-3000:]))
        ws.cleanup()


if __name__ == '__main__':
    sys.exit(main())
