#!/usr/bin/python3
"""DetectionAction Quarantine: vigild, running unprivileged, hands what it
finds to the privileged helper vigil-actd, which moves it into the
quarantine store; the clamd replies do not change.

- The same CONTSCAN gets the same replies from a vigild without the action
  (the reference) and from one with it.
- Infected files inside ActionIncludePath are in the store afterwards
  (`vigil quarantine list` names them; restore gives the exact bytes and
  mode back); infected files outside it, and clean files, are untouched.
- When started as root: vigild runs as nobody, vigil-actd as root.
- vigil-actd driven directly with hostile requests (garbage, no descriptor,
  two descriptors, a descriptor of another file, a directory, a writable
  descriptor, non-canonical paths, system folders, paths outside the
  include list, oversize packets): each is refused with its own message and
  the helper goes on serving; a valid request still works afterwards.
- A killed helper: detections are still reported, the file stays, the log
  says why.
- Configuration errors name the key and the fix.

Usage: test_actions.py VIGILD LOADGEN VIGIL-ACTD VIGIL
"""
import os
import pwd
import random
import signal
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_lib as L  # noqa: E402

HDR = struct.Struct('=IIIIIIQQQqqqq')
REP = struct.Struct('=II40s1024s')
REQ_MAGIC, REP_MAGIC = 0x52414756, 0x50414756
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL: ' + what)


def request_bytes(path, st, names=(b'Eicar-Body-Test.UNOFFICIAL',), version=1, action=1):
    names_b = b'\n'.join(names)
    return HDR.pack(REQ_MAGIC, version, action, len(path), len(names_b), 0, st.st_dev, st.st_ino,
                    st.st_size, int(st.st_mtime_ns // 10**9), st.st_mtime_ns % 10**9,
                    int(st.st_ctime_ns // 10**9), st.st_ctime_ns % 10**9) + path + names_b


def ask(sock, data, fds=()):
    socket.send_fds(sock, [data], list(fds))
    sock.settimeout(30)
    rep = sock.recv(65536)
    check(len(rep) == REP.size, 'reply of %d bytes, expected %d' % (len(rep), REP.size))
    magic, status, rid, msg = REP.unpack(rep[:REP.size])
    check(magic == REP_MAGIC, 'reply magic %#x' % magic)
    return status, rid.rstrip(b'\0').decode(), msg.rstrip(b'\0').decode(errors='replace')


def uid_of(pid):
    for line in open('/proc/%d/status' % pid):
        if line.startswith('Uid:'):
            return [int(x) for x in line.split()[1:]]
    return None


def children(pid):
    out = []
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                fields = open('/proc/%s/stat' % p).read().rsplit(')', 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(p))
            except OSError:
                pass
    return out


def contscan(sock, path):
    rep = L.request(sock, b'nCONTSCAN ' + path.encode() + b'\n')
    return sorted(rep.decode(errors='replace').splitlines())


def quarantine_list(vigil, store):
    r = subprocess.run([vigil, 'quarantine', 'list', '--quarantine-dir', store],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, 'vigil quarantine list: exit %d: %s' % (r.returncode, r.stderr))
    return [ln for ln in r.stdout.splitlines() if ln.strip()]


def daemon_scenario(vigild, actd, vigil, ws):
    as_root = os.geteuid() == 0
    inbox, outside = ws.path('inbox'), ws.path('outside')
    store = ws.path('store')
    for d in (inbox, os.path.join(inbox, 'sub'), outside):
        os.makedirs(d)
    files = {
        os.path.join(inbox, 'eicar.com'): L.EICAR,
        os.path.join(inbox, 'sub', 'nested.com'): b'prefix ' + L.EICAR,
        os.path.join(inbox, 'clean.txt'): b'nothing to see\n',
        os.path.join(outside, 'eicar.com'): L.EICAR,
    }
    for p, data in files.items():
        with open(p, 'wb') as f:
            f.write(data)
        os.chmod(p, 0o640 if p.endswith('nested.com') else 0o644)
    if as_root:
        for p in (ws.root, inbox, os.path.join(inbox, 'sub'), outside, ws.db):
            os.chmod(p, 0o755)
        os.chmod(ws.tmp, 0o777)
        nobody = pwd.getpwnam('nobody')
        # nobody must be able to read what it scans
        os.chown(os.path.join(inbox, 'sub', 'nested.com'), 0, nobody.pw_gid)
        for f in os.listdir(ws.db):
            os.chmod(os.path.join(ws.db, f), 0o644)

    # the reference: the same daemon without the action
    ref = L.start_vigild(vigild, ws, name='plain')
    try:
        want_in = contscan(ref.sock, inbox)
        want_out = contscan(ref.sock, outside)
    finally:
        ref.stop()
    check(len([x for x in want_in if x.endswith(' FOUND')]) == 2,
          'reference CONTSCAN should find 2 files: %s' % want_in)

    extra = [('DetectionAction', 'Quarantine'), ('ActionIncludePath', inbox),
             ('QuarantineDirectory', store), ('ActionHelper', actd)]
    if as_root:
        extra.append(('User', 'nobody'))
    vig = L.start_vigild(vigild, ws, name='acting', extra=extra)
    try:
        # the socket exists before vigild starts its helper and drops to
        # its User: wait until it says it is ready (bounded)
        for _ in range(600):
            if 'ready:' in vig.output() or not vig.alive():
                break
            time.sleep(0.1)
        check('ready:' in vig.output(), 'vigild never became ready:\n' + vig.output())
        helpers = [c for c in children(vig.pid)
                   if open('/proc/%d/comm' % c).read().strip() == 'vigil-actd']
        check(len(helpers) == 1, 'one vigil-actd child expected, found %s' % helpers)
        if as_root:
            check(set(uid_of(vig.pid)) == {nobody.pw_uid},
                  'vigild should run as nobody, runs as %s' % uid_of(vig.pid))
            if helpers:
                check(set(uid_of(helpers[0])) == {0}, 'vigil-actd should keep root')
        got_in = contscan(vig.sock, inbox)
        got_out = contscan(vig.sock, outside)
        check(got_in == want_in, 'replies changed by the action:\n%s\nvs\n%s' % (got_in, want_in))
        check(got_out == want_out, 'replies changed by the action (outside)')
        check(not os.path.exists(os.path.join(inbox, 'eicar.com')), 'inbox/eicar.com not moved')
        check(not os.path.exists(os.path.join(inbox, 'sub', 'nested.com')),
              'inbox/sub/nested.com not moved')
        check(os.path.exists(os.path.join(inbox, 'clean.txt')), 'a clean file was touched')
        check(open(os.path.join(outside, 'eicar.com'), 'rb').read() == L.EICAR,
              'a file outside ActionIncludePath was touched')
        log = vig.output()
        check('not quarantined' not in log, 'vigild should not ask for files outside '
              'ActionIncludePath:\n' + log)
        check(log.count('moved to quarantine as') == 2, 'log should say twice "moved to '
              'quarantine as":\n' + log)

        # a second scan of the same folder finds nothing left to move
        again = contscan(vig.sock, inbox)
        check(not any(x.endswith(' FOUND') for x in again), 'found again: %s' % again)

        # the helper is killed: replies unchanged, the file stays, the log says so
        again_file = os.path.join(inbox, 'late.com')
        with open(again_file, 'wb') as f:
            f.write(L.EICAR)
        os.chmod(again_file, 0o644)
        for h in helpers:
            os.kill(h, signal.SIGKILL)
        time.sleep(0.3)
        rep = L.request(vig.sock, b'nSCAN ' + again_file.encode() + b'\n')
        check(rep == again_file.encode() + b': Eicar-Body-Test.UNOFFICIAL FOUND\n',
              'SCAN after the helper died: %r' % rep)
        check(os.path.exists(again_file), 'file moved although the helper was dead')
        check('vigil-actd has exited' in vig.output() or 'vigil-actd can\'t be reached'
              in vig.output(), 'the log should say the helper is gone:\n' + vig.output())
        check(vig.alive(), 'vigild died with its helper')
    finally:
        check(vig.stop() == 0, 'vigild exit status')

    # what the store holds, through the vigil command
    items = quarantine_list(vigil, store)
    check(len(items) == 2, 'store should hold 2 items: %s' % items)
    for it in items:
        if 'nested.com' in it:
            rid = it.split()[0]
            r = subprocess.run([vigil, 'quarantine', 'restore', rid, '--quarantine-dir', store],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, 'restore: %s %s' % (r.stdout, r.stderr))
            p = os.path.join(inbox, 'sub', 'nested.com')
            check(os.path.exists(p) and open(p, 'rb').read() == b'prefix ' + L.EICAR,
                  'restored bytes differ')
            check(os.path.exists(p) and (os.stat(p).st_mode & 0o7777) == 0o640,
                  'restored mode differs')


def helper_scenario(actd, ws):
    inbox = ws.path('inbox2')
    os.makedirs(inbox)
    store = ws.path('store2')
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    proc = subprocess.Popen([actd, '--fd', str(b.fileno()), '--store', store, '--include', inbox],
                            pass_fds=[b.fileno()], stderr=subprocess.PIPE)
    b.close()
    target = os.path.join(inbox, 'bad.com')
    with open(target, 'wb') as f:
        f.write(L.EICAR)
    st = os.stat(target)
    path = target.encode()
    try:
        rnd = random.Random(7)
        for _ in range(20):
            junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 300)))
            status, _, msg = ask(a, junk)
            check(status != 0 and 'malformed' in msg, 'garbage: %d %s' % (status, msg))
        fd = os.open(target, os.O_RDONLY)
        cases = [
            ('no descriptor', request_bytes(path, st), [], 'no file descriptor'),
            ('two descriptors', request_bytes(path, st), [fd, fd], 'not exactly one'),
            ('wrong version', request_bytes(path, st, version=2), [fd], 'unknown version'),
            ('unknown action', request_bytes(path, st, action=9), [fd], 'unknown action'),
            ('dot-dot path', request_bytes(inbox.encode() + b'/../inbox2/bad.com', st), [fd],
             'canonical'),
            ('relative path', request_bytes(b'inbox2/bad.com', st), [fd], 'canonical'),
            ('control character', request_bytes(path, st, names=(b'A\x01B',)), [fd],
             'control characters'),
            ('length mismatch', request_bytes(path, st)[:-3], [fd], 'add up'),
        ]
        passwd = os.open('/etc/passwd', os.O_RDONLY)
        cases.append(('another file', request_bytes(path, st), [passwd], 'another file'))
        pst = os.fstat(passwd)
        cases.append(('system folder', request_bytes(b'/etc/passwd', pst), [passwd],
                      'system folder'))
        dirfd = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY)
        cases.append(('a directory', request_bytes(path, st), [dirfd], 'not a regular file'))
        wfd = os.open(target, os.O_RDWR)
        cases.append(('writable descriptor', request_bytes(path, st), [wfd], 'read-only'))
        other = ws.path('elsewhere.com')
        with open(other, 'wb') as f:
            f.write(L.EICAR)
        ofd = os.open(other, os.O_RDONLY)
        cases.append(('outside the include list', request_bytes(other.encode(), os.stat(other)),
                      [ofd], 'outside every ActionIncludePath'))
        cases.append(('oversize packet', request_bytes(path, st) + b'x' * 20000, [fd],
                      'malformed'))
        for name, data, fds, want in cases:
            status, _, msg = ask(a, data, fds)
            check(status != 0 and want in msg, '%s: got %d "%s", want "%s"' %
                  (name, status, msg, want))
        check(os.path.exists(target) and os.path.exists(other), 'a refused request moved a file')
        check(proc.poll() is None, 'vigil-actd died on hostile input')
        # a file changed after the scan is left alone
        with open(target, 'ab') as f:
            f.write(b'changed')
        status, _, msg = ask(a, request_bytes(path, st), [fd])
        check(status != 0 and os.path.exists(target), 'a changed file was moved: %s' % msg)
        # still serving: a valid request works
        st = os.stat(target)
        status, rid, msg = ask(a, request_bytes(path, st), [fd])
        check(status == 0 and len(rid) == 32 and 'moved to quarantine as' in msg,
              'valid request: %d %s' % (status, msg))
        check(not os.path.exists(target), 'valid request: file still there')
        for x in (fd, passwd, dirfd, wfd, ofd):
            os.close(x)
    finally:
        a.close()  # end of stream: the helper exits by itself
        try:
            rc = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        check(rc == 0, 'vigil-actd exit status %s: %s' % (rc, proc.stderr.read()))


def config_errors(vigild, ws):
    inbox = ws.path('inbox3')
    os.makedirs(inbox, exist_ok=True)
    cases = [
        ([('DetectionAction', 'Quarantine')], 'needs at least one ActionIncludePath'),
        ([('DetectionAction', 'Delete'), ('ActionIncludePath', inbox)], 'expected None or Quarantine'),
        ([('DetectionAction', 'Quarantine'), ('ActionIncludePath', 'relative/dir')],
         'expected an absolute path'),
        ([('DetectionAction', 'Quarantine'), ('ActionIncludePath', inbox),
          ('ActionHelper', ws.path('no-such-helper'))], "can't run the helper"),
    ]
    for i, (extra, want) in enumerate(cases):
        d = ws.path('conf%d' % i)
        os.makedirs(d)
        conf = os.path.join(d, 'vigild.conf')
        log = os.path.join(d, 'vigild.log')
        L.write_conf(conf, [('LocalSocket', os.path.join(d, 's')), ('Foreground', 'yes'),
                            ('DatabaseDirectory', ws.db), ('BundledDatabase', 'no'),
                            ('ClamAVDatabaseDirectory', 'no'), ('CacheDirectory', 'no'),
                            ('LogFile', log)] + extra)
        r = subprocess.run([vigild, '-c', conf], capture_output=True, text=True, timeout=60)
        text = r.stdout + r.stderr + (open(log).read() if os.path.exists(log) else '')
        check(r.returncode != 0 and want in text,
              'config %s: exit %d, want "%s" in:\n%s' % (extra, r.returncode, want, text))


def main():
    if len(sys.argv) < 5:
        print(__doc__)
        return 2
    vigild, actd, vigil = (os.path.abspath(p) for p in (sys.argv[1], sys.argv[3], sys.argv[4]))
    ws = L.Workspace()
    try:
        daemon_scenario(vigild, actd, vigil, ws)
        helper_scenario(actd, ws)
        config_errors(vigild, ws)
    finally:
        L._stop_leftovers()
        ws.cleanup()
    if failures:
        print('%d failure(s)' % len(failures))
        return 1
    print('ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
