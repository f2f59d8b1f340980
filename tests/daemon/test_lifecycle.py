#!/usr/bin/python3
"""vigild's life: signals (SIGHUP reopens the log, SIGTERM stops and removes
the socket and pid file), background mode (the parent exits once the
socket is ready), stale and busy sockets, a PID file
locked by the running daemon, TCP-only configuration, the
configuration file (unknown keys warned, bad values refused with
file:line), command-line options, and Debian's own /etc/clamav/clamd.conf
used as is apart from paths - running as its User when started as root.

Usage: test_lifecycle.py VIGILD
"""
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_lib as L  # noqa: E402

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def wait_gone(pid, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if not os.path.exists('/proc/%d' % pid):
            return True
        try:
            with open('/proc/%d/stat' % pid) as f:
                if f.read().split(')')[-1].split()[0] == 'Z':
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def signals(vigild, ws):
    vig = L.start_vigild(vigild, ws, name='sig')
    sock, pidfile, log = vig.sock, ws.path('sig', 'vigild.pid'), vig.log
    check(open(pidfile).read().strip() == str(vig.pid), 'pid file content')
    os.rename(log, log + '.1')
    vig.signal(signal.SIGHUP)
    for _ in range(100):
        if os.path.exists(log) and 're-opening' in open(log).read():
            break
        time.sleep(0.05)
    else:
        check(False, 'SIGHUP did not reopen the log file')
    check(L.request(sock, b'zPING\0') == b'PONG\0', 'PING after SIGHUP')
    vig.signal(signal.SIGUSR2)
    for _ in range(100):
        if 'Database correctly reloaded' in vig.output():
            break
        time.sleep(0.05)
    else:
        check(False, 'SIGUSR2 did not reload')
    rc = vig.stop()
    check(rc == 0, 'SIGTERM exit code %s' % rc)
    check(not os.path.exists(sock), 'socket file left after SIGTERM')
    check(not os.path.exists(pidfile), 'pid file left after SIGTERM')


def background(vigild, ws):
    d = ws.path('bg')
    os.makedirs(d)
    conf = os.path.join(d, 'vigild.conf')
    sock = os.path.join(d, 'vigild.sock')
    pidfile = os.path.join(d, 'vigild.pid')
    L.write_conf(conf, [('LocalSocket', sock), ('DatabaseDirectory', ws.db),
                        ('BundledDatabase', 'no'), ('ClamAVDatabaseDirectory', 'no'),
                        ('CacheDirectory', 'no'), ('LogFile', os.path.join(d, 'log')),
                        ('PidFile', pidfile), ('Foreground', 'no')])
    p = subprocess.run([vigild, '-c', conf], timeout=60)
    if not check(p.returncode == 0, 'background start exit code %s' % p.returncode):
        return
    pid = int(open(pidfile).read())
    try:
        # The parent returned: the socket must already answer.
        check(L.request(sock, b'zPING\0') == b'PONG\0', 'PING right after the parent exited')
        check(os.path.exists('/proc/%d' % pid), 'daemon pid')
    finally:
        os.kill(pid, signal.SIGTERM)
        if not check(wait_gone(pid), 'daemon did not stop on SIGTERM'):
            os.kill(pid, signal.SIGKILL)
    check(not os.path.exists(sock) and not os.path.exists(pidfile), 'files left by the daemon')


def sockets(vigild, ws):
    d = ws.path('stale')
    os.makedirs(d)
    sock = os.path.join(d, 'vigild.sock')
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sock)
    s.close()  # a socket file nobody listens on
    conf = os.path.join(d, 'vigild.conf')
    L.write_conf(conf, [('LocalSocket', sock), ('Foreground', 'yes'), ('DatabaseDirectory', ws.db),
                        ('BundledDatabase', 'no'), ('ClamAVDatabaseDirectory', 'no'),
                        ('CacheDirectory', 'no')])
    vig = L.Daemon('vigild', [vigild, '-c', conf], sock, os.path.join(d, 'log'), conf, d)
    check('stale' in vig.output(), 'stale socket not reported')
    # A second daemon on the same socket must refuse to start.
    p = subprocess.run([vigild, '-c', conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    check(p.returncode == 1 and b'in use' in p.stdout,
          'second daemon on a busy socket: %s %r' % (p.returncode, p.stdout[-300:]))
    check(L.request(sock, b'zPING\0') == b'PONG\0', 'first daemon still answers')
    check(vig.stop() == 0, 'stop')


def pid_lock(vigild, ws):
    """A second daemon given the running one's PidFile (on another socket)
    stops before binding, and leaves the running one's PID file alone."""
    vig = L.start_vigild(vigild, ws, name='lockA')
    pidfile = ws.path('lockA', 'vigild.pid')
    d = ws.path('lockB')
    os.makedirs(d)
    sock_b = os.path.join(d, 'vigild.sock')
    conf = os.path.join(d, 'vigild.conf')
    L.write_conf(conf, [('LocalSocket', sock_b), ('Foreground', 'yes'), ('DatabaseDirectory', ws.db),
                        ('BundledDatabase', 'no'), ('ClamAVDatabaseDirectory', 'no'),
                        ('CacheDirectory', 'no'), ('PidFile', pidfile)])
    try:
        p = subprocess.Popen([vigild, '-c', conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()  # it started: the lock did not stop it
            out, _ = p.communicate()
        check(p.returncode == 1 and b'held by a running vigild (PID %d)' % vig.pid in out,
              'second daemon on a locked PidFile: %s %r' % (p.returncode, out[-300:]))
        check(not os.path.exists(sock_b), 'second daemon bound its socket anyway')
        check(os.path.exists(pidfile) and open(pidfile).read().strip() == str(vig.pid),
              'the running daemon\'s PID file was changed or removed')
        check(L.request(vig.sock, b'zPING\0') == b'PONG\0', 'first daemon still answers')
    finally:
        check(vig.stop() == 0, 'pid_lock: exit code')
    check(not os.path.exists(pidfile), 'pid_lock: PID file left after SIGTERM')


def tcp_only(vigild, ws):
    d = ws.path('tcp')
    os.makedirs(d)
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    conf = os.path.join(d, 'vigild.conf')
    L.write_conf(conf, [('TCPSocket', str(port)), ('TCPAddr', '127.0.0.1'), ('Foreground', 'yes'),
                        ('DatabaseDirectory', ws.db), ('BundledDatabase', 'no'),
                        ('ClamAVDatabaseDirectory', 'no'), ('CacheDirectory', 'no')])
    out = open(os.path.join(d, 'out'), 'wb')
    p = subprocess.Popen([vigild, '-c', conf], stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(400):
            try:
                rep, closed = L.converse(('127.0.0.1', port), [('send', b'zINSTREAM\0' +
                                         L.chunk(L.EICAR) + L.END_CHUNK)], 10, socket.AF_INET)
                break
            except OSError:
                time.sleep(0.05)
        else:
            rep = b''
        check(rep == b'stream: Eicar-Body-Test.UNOFFICIAL FOUND\0', 'INSTREAM over TCP: %r' % rep)
        rep, closed = L.converse(('127.0.0.1', port), [('send', b'zFILDES\0X')], 10, socket.AF_INET)
        check(rep == b'No file descriptor received. ERROR\0', 'FILDES over TCP: %r' % rep)
    finally:
        p.send_signal(signal.SIGTERM)
        check(p.wait(20) == 0, 'TCP daemon exit code')
        out.close()


def configuration(vigild, ws):
    d = ws.path('conf')
    os.makedirs(d)
    sock = os.path.join(d, 'vigild.sock')
    conf = os.path.join(d, 'vigild.conf')
    base = [('LocalSocket', sock), ('Foreground', 'yes'), ('DatabaseDirectory', ws.db),
            ('BundledDatabase', 'no'), ('ClamAVDatabaseDirectory', 'no'), ('CacheDirectory', 'no')]
    L.write_conf(conf, base + [('FooBarOption', 'yes'), ('ScanPE', 'yes'), ('Bytecode', 'yes')])
    vig = L.Daemon('vigild', [vigild, '-c', conf], sock, os.path.join(d, 'log'), conf, d)
    out = vig.output()
    check("unknown option 'FooBarOption'" in out, 'unknown option not warned')
    check('no effect in vigild' in out and 'ScanPE' in out, 'ignored clamd options not listed')
    check(vig.stop() == 0, 'stop')
    for key, value in (('MaxThreads', 'many'), ('StreamMaxLength', '10X'), ('LogTime', 'maybe'),
                       ('ExcludePath', '(unclosed')):
        L.write_conf(conf, base + [(key, value)])
        p = subprocess.run([vigild, '-c', conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        text = p.stdout.decode(errors='replace')
        check(p.returncode == 1 and re.search(re.escape(conf) + r':\d+: ' + key, text),
              'bad %s %s: %s %r' % (key, value, p.returncode, text[-300:]))
    p = subprocess.run([vigild, '-c', os.path.join(d, 'missing.conf')], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    check(p.returncode == 1 and b'missing.conf' in p.stdout, 'missing -c file: %r' % p.stdout)
    p = subprocess.run([vigild, '--version'], stdout=subprocess.PIPE, timeout=60)
    check(p.returncode == 0 and p.stdout.startswith(b'vigild '), '--version: %r' % p.stdout)
    p = subprocess.run([vigild, '--help'], stdout=subprocess.PIPE, timeout=60)
    check(p.returncode == 0 and b'--config-file' in p.stdout, '--help')
    p = subprocess.run([vigild, '--bogus'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    check(p.returncode == 1, '--bogus exit code %s' % p.returncode)


def debian_conf(vigild, ws):
    """Debian's clamd.conf, with only the paths changed."""
    src = '/etc/clamav/clamd.conf'
    if not os.path.exists(src):
        print('note: %s not installed; Debian configuration not tried' % src)
        return
    d = ws.path('debian')
    os.makedirs(d)
    run = os.path.join(d, 'run')  # vigild makes it, for its User
    sock = os.path.join(run, 'clamd.ctl')
    replace = {'LocalSocket': sock, 'LogFile': os.path.join(d, 'clamd.log'),
               'PidFile': os.path.join(run, 'clamd.pid'), 'DatabaseDirectory': ws.db,
               'TemporaryDirectory': ws.tmp, 'Foreground': 'true', 'TCPSocket': None,
               'TCPAddr': None, 'LogSyslog': 'false'}
    lines = []
    for line in open(src):
        key = line.split()[0] if line.split() else ''
        if key in replace:
            continue
        lines.append(line.rstrip('\n'))
    user = None
    for line in lines:
        if line.split()[:1] == ['User']:
            user = line.split()[1]
    as_user = os.geteuid() == 0 and user is not None
    if as_user:
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            as_user = False
    if not as_user:
        lines = [ln for ln in lines if ln.split()[:1] != ['User']]
    for k, v in replace.items():
        if v is not None:
            lines.append('%s %s' % (k, v))
    lines += ['BundledDatabase no', 'ClamAVDatabaseDirectory no', 'CacheDirectory no', 'PidFile ' +
              os.path.join(d, 'clamd.pid')]
    conf = os.path.join(d, 'clamd.conf')
    with open(conf, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    if as_user:
        for p in (ws.root, d, ws.tmp):
            os.chmod(p, 0o777 if p == ws.tmp else 0o755)
        os.chmod(ws.path('files'), 0o755)
    eicar = ws.write('debian-eicar.com', L.EICAR, mode=0o644)
    vig = L.Daemon('vigild', [vigild, '--config-file', conf], sock, os.path.join(d, 'clamd.log'),
                   conf, d)
    try:
        rep = L.request(sock, b'zINSTREAM\0' + L.chunk(L.EICAR) + L.END_CHUNK)
        check(rep == b'stream: Eicar-Body-Test.UNOFFICIAL FOUND\0', 'Debian conf INSTREAM: %r' % rep)
        rep = L.request(sock, b'nSCAN ' + eicar.encode() + b'\n')
        check(rep == eicar.encode() + b': Eicar-Body-Test.UNOFFICIAL FOUND\n',
              'Debian conf SCAN: %r' % rep)
        if as_user:
            uid = None
            for line in open('/proc/%d/status' % vig.pid):
                if line.startswith('Uid:'):
                    uid = [int(x) for x in line.split()[1:]]
            check(uid is not None and set(uid) == {pw.pw_uid},
                  'vigild should run as %s (uid %d), runs as %s' % (user, pw.pw_uid, uid))
        check('unknown option' not in vig.output(),
              'Debian clamd.conf has options vigild does not know: %s' %
              [ln for ln in vig.output().splitlines() if 'unknown option' in ln])
    finally:
        check(vig.stop() == 0, 'Debian conf: exit code')
    check(not os.path.exists(sock), 'Debian conf: socket left behind')


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    vigild = os.path.abspath(sys.argv[1])
    ws = L.Workspace()
    try:
        for step in (signals, background, sockets, pid_lock, tcp_only, configuration, debian_conf):
            before = len(failures)
            step(vigild, ws)
            print('%s: %s' % (step.__name__, 'ok' if len(failures) == before else 'FAILED'))
    finally:
        ws.cleanup()
    for f in failures:
        if f:
            print('FAIL: ' + f)
    return 1 if [f for f in failures if f] else 0


if __name__ == '__main__':
    sys.exit(main())
