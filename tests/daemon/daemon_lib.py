"""Helpers for the daemon tests: temporary folders, a test database, starting
and stopping vigild and Debian's clamd (by PID, in the test's own folder, on
their own sockets), and a raw clamd-protocol client.

Nothing here touches the system's clamav-daemon service or its socket.
EICAR is built at run time, never stored in the repository.
"""
import array
import atexit
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77

EICAR = (b'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-'
         b'ANTIVIRUS-TEST-FILE!$H+H*')
EICAR_MD5 = '44d88612fea8a8f36de82e1278abb02f'
CLAMD = '/usr/sbin/clamd'
CLAMDSCAN = '/usr/bin/clamdscan'
CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe'


def skip(msg):
    print('SKIP: ' + msg)
    sys.exit(SKIP)


def need(path, package):
    if not os.access(path, os.X_OK):
        skip('%s not found (Debian package %s)' % (path, package))


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def chunk(data):
    return struct.pack('>I', len(data)) + data


END_CHUNK = struct.pack('>I', 0)


class Workspace:
    """A temporary folder with a database (EICAR by hash and by body, clam.exe
    by SHA-256 when clamav-testfiles is installed) and files to scan."""

    def __init__(self, prefix='vigild-test-'):
        self.root = tempfile.mkdtemp(prefix=prefix)
        self.db = os.path.join(self.root, 'db')
        self.files = os.path.join(self.root, 'files')
        self.tmp = os.path.join(self.root, 'tmp')
        for d in (self.db, self.files, self.tmp):
            os.makedirs(d)
        with open(os.path.join(self.db, 'test.hdb'), 'w') as f:
            f.write('%s:68:Eicar-Test-Signature\n' % EICAR_MD5)
        with open(os.path.join(self.db, 'test.ndb'), 'w') as f:
            f.write('Eicar-Body-Test:0:*:%s\n' % b'EICAR-STANDARD-ANTIVIRUS-TEST-FILE'.hex())
        if os.path.exists(CLAM_EXE):
            import hashlib
            data = open(CLAM_EXE, 'rb').read()
            with open(os.path.join(self.db, 'test.hsb'), 'w') as f:
                f.write('%s:%d:Clam.Test.SHA256\n' % (hashlib.sha256(data).hexdigest(), len(data)))

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write(self, rel, data, mode=None):
        p = os.path.join(self.files, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'wb') as f:
            f.write(data)
        if mode is not None:
            os.chmod(p, mode)
        return p

    def cleanup(self):
        if os.environ.get('VG_KEEP_TMP'):  # debugging: keep logs and configurations
            print('kept %s' % self.root)
            return
        shutil.rmtree(self.root, ignore_errors=True)


def wait_socket(path, proc, timeout=60.0):
    """Wait until a UNIX socket accepts connections (or the process died)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                s.close()
                return True
            except OSError:
                pass
            finally:
                s.close()
        time.sleep(0.05)
    return False


_running = []


@atexit.register
def _stop_leftovers():
    # A test that failed half-way must not leave a daemon behind.
    for d in _running:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


class Daemon:
    """A running clamd or vigild, stopped by PID."""

    def __init__(self, kind, argv, sock, log, conf, cwd):
        self.kind = kind
        self.sock = sock
        self.log = log
        self.conf = conf
        self.out = open(log + '.out', 'wb')
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT, cwd=cwd)
        _running.append(self)
        if not wait_socket(sock, self.proc):
            self.stop()
            fail('%s did not start; its output:\n%s' % (kind, self.output()))

    @property
    def pid(self):
        return self.proc.pid

    def output(self):
        text = ''
        for p in (self.log + '.out', self.log):
            if os.path.exists(p):
                text += open(p, errors='replace').read()
        return text

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=20.0):
        """SIGTERM, then SIGKILL; returns the exit status."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.out.close()
        return self.proc.returncode


def write_conf(path, lines):
    with open(path, 'w') as f:
        for k, v in lines:
            f.write('%s %s\n' % (k, v))


def start_vigild(binary, ws, name='vigild', extra=(), cwd=None):
    d = ws.path(name)
    os.makedirs(d, exist_ok=True)
    sock = os.path.join(d, 'vigild.sock')
    conf = os.path.join(d, 'vigild.conf')
    log = os.path.join(d, 'vigild.log')
    lines = [('LocalSocket', sock), ('Foreground', 'yes'), ('DatabaseDirectory', ws.db),
             ('BundledDatabase', 'no'), ('ClamAVDatabaseDirectory', 'no'),
             ('CacheDirectory', 'no'), ('TemporaryDirectory', ws.tmp),
             ('LogFile', log), ('PidFile', os.path.join(d, 'vigild.pid'))]
    lines += list(extra)
    write_conf(conf, lines)
    env_cwd = cwd or ws.root
    return Daemon('vigild', [os.path.abspath(binary), '-c', conf], sock, log, conf, env_cwd)


def start_clamd(ws, name='clamd', extra=(), cwd=None):
    need(CLAMD, 'clamav-daemon')
    d = ws.path(name)
    os.makedirs(d, exist_ok=True)
    sock = os.path.join(d, 'clamd.sock')
    conf = os.path.join(d, 'clamd.conf')
    log = os.path.join(d, 'clamd.log')
    lines = [('LocalSocket', sock), ('Foreground', 'yes'), ('DatabaseDirectory', ws.db),
             ('TemporaryDirectory', ws.tmp), ('LogFile', log),
             ('PidFile', os.path.join(d, 'clamd.pid')), ('Bytecode', 'no')]
    lines += list(extra)
    write_conf(conf, lines)
    return Daemon('clamd', [CLAMD, '--config-file=' + conf], sock, log, conf, cwd or ws.root)


def clamdscan_conf(ws, sock, name):
    """A clamd.conf that only tells clamdscan where the daemon is."""
    p = ws.path(name + '-client.conf')
    write_conf(p, [('LocalSocket', sock)])
    return p


def send_fd(s, data, fd):
    return s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [fd]))])


def converse(sock_path, ops, timeout=8.0, family=socket.AF_UNIX):
    """Run ops on a new connection, then read until the server closes or
    timeout seconds pass. ops: ('send', bytes) | ('fd', bytes, path) |
    ('sleep', s) | ('shut',). Returns (reply bytes, closed by server)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    out = b''
    opened = []
    try:
        for op in ops:
            if op[0] == 'send':
                s.sendall(op[1])
            elif op[0] == 'fd':
                fd = os.open(op[2], os.O_RDONLY)
                opened.append(fd)
                send_fd(s, op[1], fd)
            elif op[0] == 'sleep':
                time.sleep(op[1])
            elif op[0] == 'shut':
                s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass
    closed = False
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            out += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    finally:
        s.close()
        for fd in opened:
            os.close(fd)
    return out, closed


def request(sock_path, data, timeout=30.0):
    """One request, the whole reply (until the server closes)."""
    out, closed = converse(sock_path, [('send', data)], timeout)
    if not closed:
        raise RuntimeError('server did not close after %r' % data[:40])
    return out


def instream(sock_path, payload, chunk_size=8192, timeout=30.0):
    parts = [b'zINSTREAM\0']
    for i in range(0, len(payload), chunk_size):
        parts.append(chunk(payload[i:i + chunk_size]))
    parts.append(END_CHUNK)
    return request(sock_path, b''.join(parts), timeout)


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0
