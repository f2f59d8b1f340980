#!/usr/bin/python3
"""Sandbox tests for vigil-worker: each forbidden action a compromised parser
would try is stopped and reported, and the same action succeeds with the
sandbox off (the negative control), so the tests cannot pass vacuously.

    test_sandbox.py VIGIL TRIGGER_WORKER REAL_WORKER VIGILD [--sanitized]

TRIGGER_WORKER is the test twin of vigil-worker built with the trigger
(tests/sandbox/CMakeLists.txt); REAL_WORKER is the one installed. The effect
of every action is checked outside the worker: the file created or not, the
connection accepted or not, the secret printed or not, the scanned file
changed or not, the parent alive or not. Exits 77 in sanitizer builds:
sanitizers cannot run under seccomp, the release build runs these.
"""
import ctypes
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

MARKER = 'VIGIL-SANDBOX-TRIGGER'
EICAR = (b'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*')
TIMEOUT = 120

FAILS = []
CHECKS = [0]


def check(what, ok, detail=''):
    CHECKS[0] += 1
    if ok:
        print('ok: %s' % what)
    else:
        FAILS.append(what)
        print('FAIL: %s%s' % (what, ('\n  ' + detail.replace('\n', '\n  ')) if detail else ''))


class Env:
    def __init__(self, vigil, trigger_worker, real_worker, vigild):
        self.vigil = vigil
        self.trigger_worker = trigger_worker
        self.real_worker = real_worker
        self.vigild = vigild
        self.tmp = tempfile.mkdtemp(prefix='vigil-sandbox.')
        os.chmod(self.tmp, 0o755)
        self.db = os.path.join(self.tmp, 'db')
        os.mkdir(self.db)
        # EICAR by its MD5 (the published value), so the database is independent.
        with open(os.path.join(self.db, 'test.hdb'), 'w') as fh:
            fh.write('44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n')
        self.cache = os.path.join(self.tmp, 'cache')
        os.mkdir(self.cache, 0o700)
        self.conf = os.path.join(self.tmp, 'empty.conf')
        open(self.conf, 'w').close()

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def trigger(self, name, action, arg=''):
        p = self.path(name)
        with open(p, 'w') as fh:
            fh.write('%s %s %s\nfiller so the file is not tiny\n' % (MARKER, action, arg))
        return p

    def scan(self, args, worker=None, extra_env=None):
        env = dict(os.environ)
        env['VIGIL_WORKER'] = worker or self.trigger_worker
        env.pop('VIGIL_WORKER_SKIP', None)
        if extra_env:
            env.update(extra_env)
        argv = [self.vigil, 'scan', '--config-file=' + self.conf, '-d', self.db,
                '--cache-dir=' + self.cache] + args
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                              timeout=TIMEOUT, text=True, errors='replace')


def line_for(out, path):
    for line in out.splitlines():
        if line.startswith(path + ': '):
            return line[len(path) + 2:]
    return None


def stopped_line(rest):
    """A sandboxed attempt is reported: the worker died of SIGSYS (a forbidden
    system call), or the call was refused and the trigger says so."""
    return rest is not None and (
        ('Scan worker killed by SIGSYS' in rest and rest.endswith('ERROR')) or
        ('Vigil.Test.Blocked.' in rest and rest.endswith('FOUND')))


class Listener:
    """A TCP listener on 127.0.0.1 counting connections (bounded accept loop)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.data = b''
        self.stop = False
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.accepted += 1
            c.settimeout(2)
            try:
                self.data += c.recv(64)
            except OSError:
                pass
            c.close()

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


# ---------------------------------------------------------------------------
# The forbidden actions, each with an outside check of its effect.

def action_cases(env):
    cases = []

    secret = env.path('secret.txt')
    with open(secret, 'w') as fh:
        fh.write('TopSecret4711\n')
    cases.append(dict(name='open a file', action='open-file', arg=secret,
                      escaped=lambda r: 'Vigil.Test.Escaped.open-file.TopSecret4711' in r.stdout,
                      held=lambda r: 'TopSecret4711' not in r.stdout + r.stderr))

    dropped = env.path('dropped.txt')
    cases.append(dict(name='create a file', action='create-file', arg=dropped,
                      setup=lambda: os.path.exists(dropped) and os.unlink(dropped),
                      escaped=lambda r: os.path.exists(dropped),
                      held=lambda r: not os.path.exists(dropped)))

    marker = env.path('exec-marker')
    cases.append(dict(name='exec a program', action='exec', arg=marker,
                      setup=lambda: os.path.exists(marker) and os.unlink(marker),
                      escaped=lambda r: os.path.exists(marker),
                      held=lambda r: not os.path.exists(marker)))

    cases.append(dict(name='signal the parent', action='signal-parent', arg='',
                      escaped=lambda r: r.returncode == -signal.SIGTERM,
                      held=lambda r: r.returncode == 2))

    cases.append(dict(name='write to the scanned descriptor', action='write-scanned', arg='',
                      scanned_check=True))

    cases.append(dict(name='connect to a TCP listener', action='connect', arg=None,
                      listener=True))
    return cases


def run_case(env, case, sandboxed):
    lst = None
    arg = case['arg']
    if case.get('listener'):
        lst = Listener()
        arg = str(lst.port)
    if case.get('setup'):
        case['setup']()
    f = env.trigger('trigger-%s' % case['action'], case['action'], arg)
    before = open(f, 'rb').read()
    args = ['-j1', f] if sandboxed else ['-j1', '--insecure-no-sandbox', f]
    r = env.scan(args)
    after = open(f, 'rb').read()
    if lst is not None:
        lst.close()
    rest = line_for(r.stdout, f)
    if case.get('listener'):
        escaped = lst.accepted > 0 and b'escaped' in lst.data
        held = lst.accepted == 0
    elif case.get('scanned_check'):
        escaped = after != before and after.startswith(b'escaped')
        held = after == before
    else:
        escaped = case['escaped'](r)
        held = case['held'](r)
    return r, rest, escaped, held


def test_actions(env):
    for case in action_cases(env):
        r, rest, escaped, held = run_case(env, case, sandboxed=False)
        check('negative control, sandbox off: %s succeeds' % case['name'], escaped,
              'exit %s\n%s%s' % (r.returncode, r.stdout, r.stderr))
        r, rest, escaped, held = run_case(env, case, sandboxed=True)
        check('sandboxed: %s is stopped' % case['name'], held and not escaped,
              'exit %s\n%s%s' % (r.returncode, r.stdout, r.stderr))
        check('sandboxed: %s is reported for that file (%s)' % (case['name'], rest),
              stopped_line(rest) and r.returncode in (1, 2), r.stdout + r.stderr)
        counted = ('Total errors: 1' in r.stdout) if rest and rest.endswith('ERROR') \
            else ('Infected files: 1' in r.stdout)
        check('sandboxed: %s: vigil goes on to its summary, the file counted' % case['name'],
              '----------- SCAN SUMMARY -----------' in r.stdout and counted, r.stdout)


def test_scanning_goes_on(env):
    """One run over every trigger, a crash, a hang, garbage and lies, with EICAR
    and a clean file among them: each file gets its own line, the others are
    unaffected, and the run ends with the right exit status."""
    d = env.path('mixed')
    os.mkdir(d)
    lst = Listener()
    files = {}
    for action, arg in [('open-file', env.path('secret.txt')), ('create-file', env.path('mixed-drop')),
                        ('connect', str(lst.port)), ('exec', env.path('mixed-exec')),
                        ('signal-parent', ''), ('write-scanned', ''), ('crash', ''),
                        ('hang', ''), ('garbage', ''), ('lie', '')]:
        files[action] = env.trigger(os.path.join('mixed', 'a-' + action), action, arg)
    eicar = os.path.join(d, 'z-eicar.com')
    with open(eicar, 'wb') as fh:
        fh.write(EICAR)
    clean = os.path.join(d, 'z-clean.txt')
    with open(clean, 'w') as fh:
        fh.write('nothing to see\n')
    # Files as arguments, so the order (and the worker each one meets) is fixed.
    order = [files[a] for a in sorted(files)] + [eicar, clean]
    # -j2: two threads, each with a worker and the next file queued at it;
    # -j1: one worker, so every failure strands a queued file that a fresh
    # worker must scan from its start
    for jobs in ('-j2', '-j1'):
        check_mixed_run(env, jobs, files, order, eicar, clean, lst)
    lst.close()


def test_queued_file_rescanned(env):
    """With a file queued at a worker while it scans another, a worker that
    reads the queued file (moving the offset it shares with vigil) and then
    fails must not cost that file its verdict: a fresh worker scans it again
    from its start."""
    d = env.path('queued')
    os.mkdir(d)
    bad = env.trigger(os.path.join('queued', 'a-read-next'), 'read-next-then-fail')
    eicar = os.path.join(d, 'b-eicar.com')
    with open(eicar, 'wb') as fh:
        fh.write(EICAR)
    r = env.scan(['-j1', bad, eicar])
    out = r.stdout
    rest = line_for(out, bad)
    check('queued: the failing file is an error (%s)' % rest,
          rest is not None and rest.endswith('ERROR'), out + r.stderr)
    check('queued: the file it read is scanned again from its start and found',
          line_for(out, eicar) == 'Eicar-Test-Signature.UNOFFICIAL FOUND', out + r.stderr)


def check_mixed_run(env, jobs, files, order, eicar, clean, lst):
    r = env.scan([jobs, '--worker-deadline=400', '--worker-files=3'] + order)
    out = r.stdout
    check(jobs + ' mixed run: vigil exits 1 (something found), not killed', r.returncode == 1,
          'exit %s\n%s%s' % (r.returncode, out, r.stderr))
    check(jobs + ' mixed run: EICAR found after the failing workers',
          line_for(out, eicar) == 'Eicar-Test-Signature.UNOFFICIAL FOUND', out)
    check(jobs + ' mixed run: the clean file is OK', line_for(out, clean) == 'OK', out)
    rest = line_for(out, files['crash'])
    check(jobs + ' mixed run: a crashing worker is an error for its file (%s)' % rest,
          rest == 'Scan worker killed by SIGSEGV ERROR', out)
    rest = line_for(out, files['hang'])
    check(jobs + ' mixed run: a hanging worker is killed at the deadline (%s)' % rest,
          rest == 'Scan worker stopped at the deadline (400 ms) ERROR', out)
    for a in ('garbage', 'lie'):
        rest = line_for(out, files[a])
        check(jobs + ' mixed run: a worker sending %s is refused (%s)' % (a, rest),
              rest is not None and rest.startswith('Scan worker sent a malformed reply') and
              rest.endswith('ERROR'), out)
    for a in ('open-file', 'create-file', 'connect', 'exec', 'signal-parent', 'write-scanned'):
        check(jobs + ' mixed run: %s stopped and reported' % a, stopped_line(line_for(out, files[a])), out)
    check(jobs + ' mixed run: nothing escaped', 'Escaped' not in out and lst.accepted == 0 and
          not os.path.exists(env.path('mixed-drop')) and not os.path.exists(env.path('mixed-exec')),
          out)
    check(jobs + ' mixed run: one line for every file', all(line_for(out, f) is not None for f in order), out)


def test_real_worker(env):
    real = open(env.real_worker, 'rb').read()
    twin = open(env.trigger_worker, 'rb').read()
    check('the installed vigil-worker does not contain the trigger', MARKER.encode() not in real)
    check('the test twin does (so the check above can fail)', MARKER.encode() in twin)
    f = env.trigger('trigger-real', 'open-file', env.path('secret.txt'))
    r = env.scan(['-j1', f], worker=env.real_worker)
    check('the installed worker scans a trigger file as data (OK)', line_for(r.stdout, f) == 'OK',
          r.stdout + r.stderr)


def kernel_landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))  # landlock_create_ruleset


def test_layers(env):
    envv = dict(os.environ, VIGIL_WORKER=env.real_worker)
    r = subprocess.run([env.vigil, 'version', '--config-file=' + env.conf, '-d', env.db],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=envv,
                       timeout=TIMEOUT)
    line = next((l for l in r.stdout.splitlines() if l.startswith('Sandbox: ')), '')
    check('vigil version names the sandbox layers (%s)' % line,
          all(w in line for w in ('no_new_privs', 'rlimits', 'seccomp')), r.stdout + r.stderr)
    abi = kernel_landlock_abi()
    if abi >= 1:
        check('Landlock at the kernel\'s ABI (%d)' % abi, 'landlock(abi %d:' % abi in line, line)
        if abi >= 4:
            check('Landlock TCP rules in force (ABI >= 4)', ' tcp' in line, line)
        if abi >= 6:
            check('Landlock signal scoping in force (ABI >= 6)', ' signals' in line, line)
    else:
        check('no Landlock: reported as missing', 'missing: landlock' in line, line)
    can_netns = subprocess.run(['unshare', '-rn', 'true'] if os.geteuid() else ['unshare', '-n', 'true'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    if can_netns:
        check('empty network namespace in force (unshare works here)', ' netns' in line, line)
    else:
        check('no network namespace here: reported as missing', 'missing: netns' in line, line)


def test_fail_closed(env):
    f = env.path('clean-fc.txt')
    with open(f, 'w') as fh:
        fh.write('clean\n')
    r = env.scan(['-j1', f], extra_env={'VIGIL_WORKER_SKIP': 'seccomp'})
    check('without seccomp vigil refuses to scan (exit 2, reason)',
          r.returncode == 2 and 'refusing to scan without a sandbox' in r.stderr and
          line_for(r.stdout, f) is None, 'exit %s\n%s%s' % (r.returncode, r.stdout, r.stderr))
    r = env.scan(['-j1', '--insecure-no-sandbox', f])
    check('--insecure-no-sandbox scans, with a warning',
          r.returncode == 0 and line_for(r.stdout, f) == 'OK' and
          'WARNING: --insecure-no-sandbox' in r.stderr, r.stdout + r.stderr)


# ---------------------------------------------------------------------------
# Layer independence: this script is the broker (its own implementation of
# the wire format), driving the twin with one layer switched off at a time.

REQ = struct.Struct('<IIQII QQQII')
REP = struct.Struct('<IIIIQ Ii iiii iiIIII QQ IIQ II 512s256s3072s')
VW_MAGIC_REQUEST, VW_MAGIC_REPLY = 0x51524756, 0x50524756


class DirectWorker:
    def __init__(self, env, skip):
        cache_files = [os.path.join(env.cache, n) for n in os.listdir(env.cache)]
        self.image = os.open(cache_files[0], os.O_RDONLY)
        self.parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # the worker wants its socket on 3 and the database on 4 (it closes the rest)
        e = dict(os.environ, VIGIL_WORKER_SKIP=skip)
        self.p = subprocess.Popen(['/bin/sh', '-c', 'exec "$0" 3<&"$1" 4<&"$2"', env.trigger_worker,
                                   str(child.fileno()), str(self.image)],
                                  pass_fds=(child.fileno(), self.image), env=e, stderr=subprocess.PIPE)
        child.close()
        self.hello = self.recv()

    def recv(self):
        self.parent.settimeout(30)
        try:
            data = self.parent.recv(REP.size + 1)
        except (socket.timeout, ConnectionResetError):
            return None
        if len(data) != REP.size:
            return None
        return REP.unpack(data)

    def scan(self, path):
        fd = os.open(path, os.O_RDONLY)
        req = REQ.pack(VW_MAGIC_REQUEST, 1, 1, 1, 0, 1 << 26, 1 << 26, 0, 17, 1000)
        socket.send_fds(self.parent, [req], [fd])
        os.close(fd)
        names = []
        while True:
            r = self.recv()
            if r is None:
                return names, 'died'
            if r[2] == 2:
                names.append(r[-3].split(b'\0', 1)[0].decode())
            elif r[2] == 3:
                return names, 'done'

    def close(self):
        self.parent.close()
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.p.stderr.close()
        os.close(self.image)
        return self.p.returncode


def test_layer_independence(env):
    # a cache file exists from the scans above: the worker maps it directly
    if not os.listdir(env.cache):
        check('a compiled cache to hand the worker', False)
        return
    abi = kernel_landlock_abi()
    secret = env.path('secret.txt')
    drop = env.path('independent-drop')
    cases = [('open-file', secret, 'Vigil.Test.Blocked.open-file.EACCES'),
             ('create-file', drop, 'Vigil.Test.Blocked.create-file.EACCES')]
    if abi >= 4:
        cases.append(('connect', None, 'Vigil.Test.Blocked.connect.EACCES'))
    if abi >= 6:
        cases.append(('signal-parent', '', 'Vigil.Test.Blocked.signal-parent.EPERM'))
    # Landlock alone (no seccomp, no network namespace)
    for action, arg, expect in cases:
        lst = Listener() if action == 'connect' else None
        f = env.trigger('ind-ll-' + action, action, str(lst.port) if lst else arg)
        w = DirectWorker(env, 'seccomp,netns')
        ok_hello = w.hello is not None and (w.hello[5] & 0x04) and not (w.hello[5] & 0x40)
        names, how = w.scan(f)
        w.close()
        if lst:
            lst.close()
        check('Landlock alone stops %s (%s)' % (action, names), ok_hello and how == 'done' and
              names == [expect] and not os.path.exists(drop) and (lst is None or lst.accepted == 0),
              '%s %s' % (how, names))
    # seccomp alone (no Landlock, no network namespace): killed, or refused for opens
    for action, arg in [('open-file', secret), ('create-file', drop), ('connect', None),
                        ('exec', env.path('ind-exec')), ('signal-parent', ''), ('write-scanned', '')]:
        lst = Listener() if action == 'connect' else None
        f = env.trigger('ind-sc-' + action, action, str(lst.port) if lst else arg)
        before = open(f, 'rb').read()
        w = DirectWorker(env, 'landlock,netns')
        ok_hello = w.hello is not None and (w.hello[5] & 0x40) and not (w.hello[5] & 0x04)
        names, how = w.scan(f)
        rc = w.close()
        if lst:
            lst.close()
        held = (how == 'died' and rc == -signal.SIGSYS) or \
               (how == 'done' and len(names) == 1 and names[0].startswith('Vigil.Test.Blocked.'))
        check('seccomp alone stops %s (%s)' % (action, names or 'killed by signal %d' % -rc if rc else how),
              ok_hello and held and not os.path.exists(drop) and
              not os.path.exists(env.path('ind-exec')) and open(f, 'rb').read() == before and
              (lst is None or lst.accepted == 0))


# ---------------------------------------------------------------------------
# vigild: the same workers behind the clamd protocol.

def start_vigild(env, name, extra_env=None, extra_conf=()):
    d = env.path(name)
    os.mkdir(d)
    sock = os.path.join(d, 'vigild.sock')
    log = os.path.join(d, 'vigild.log')
    conf = os.path.join(d, 'vigild.conf')
    lines = [('LocalSocket', sock), ('Foreground', 'yes'), ('DatabaseDirectory', env.db),
             ('BundledDatabase', 'no'), ('ClamAVDatabaseDirectory', 'no'), ('CacheDirectory', 'no'),
             ('TemporaryDirectory', d), ('LogFile', log), ('PidFile', os.path.join(d, 'pid'))]
    lines += list(extra_conf)
    with open(conf, 'w') as fh:
        for k, v in lines:
            fh.write('%s %s\n' % (k, v))
    e = dict(os.environ, VIGIL_WORKER=env.trigger_worker)
    e.pop('VIGIL_WORKER_SKIP', None)
    if extra_env:
        e.update(extra_env)
    out = open(os.path.join(d, 'out'), 'wb')
    p = subprocess.Popen([env.vigild, '-c', conf], stdout=out, stderr=subprocess.STDOUT, env=e)
    out.close()
    for _ in range(600):  # bounded: 30 s
        if p.poll() is not None:
            break
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            s.close()
            break
        except OSError:
            s.close()
            time.sleep(0.05)
    return p, sock, log


def stop_vigild(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def clamd_request(sock, cmd, data=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(sock)
    s.sendall(cmd)
    if data is not None:
        s.sendall(struct.pack('>I', len(data)) + data + struct.pack('>I', 0))
    reply = b''
    while not reply.endswith(b'\0'):
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
    s.close()
    return reply.rstrip(b'\0').decode(errors='replace')


def trigger_bytes(action, arg=''):
    return ('%s %s %s\nfiller so the file is not tiny\n' % (MARKER, action, arg)).encode()


def test_vigild(env):
    p, sock, log = start_vigild(env, 'vigild', extra_conf=[('WorkerDeadline', '400')])
    try:
        check('vigild starts with sandboxed workers', p.poll() is None)
        if p.poll() is not None:
            return
        # vigild listens before it loads: a first answer means it is ready
        check('vigild answers PING', clamd_request(sock, b'zPING\0') == 'PONG')
        logtext = open(log).read()
        check('vigild logs the sandbox layers', 'Scan workers: sandbox' in logtext and
              'seccomp' in logtext, logtext)
        r = clamd_request(sock, b'zINSTREAM\0', trigger_bytes('crash'))
        check('vigild INSTREAM: a crashing worker is an error for that stream (%s)' % r,
              r == 'stream: Scan worker killed by SIGSEGV ERROR')
        r = clamd_request(sock, b'zINSTREAM\0', trigger_bytes('open-file', env.path('secret.txt')))
        check('vigild INSTREAM: opening a file is refused (%s)' % r,
              r == 'stream: Vigil.Test.Blocked.open-file.EACCES FOUND' and 'TopSecret' not in r)
        lst = Listener()
        r = clamd_request(sock, b'zINSTREAM\0', trigger_bytes('connect', str(lst.port)))
        lst.close()
        check('vigild INSTREAM: connecting is killed (%s)' % r,
              r == 'stream: Scan worker killed by SIGSYS (sandbox: forbidden system call) ERROR' and
              lst.accepted == 0)
        hang = env.trigger('vigild-hang', 'hang')
        r = clamd_request(sock, ('zSCAN %s\0' % hang).encode())
        check('vigild SCAN: a hanging worker is stopped at WorkerDeadline (%s)' % r,
              r == '%s: Scan worker stopped at the deadline (400 ms) ERROR' % hang)
        r = clamd_request(sock, b'zINSTREAM\0', EICAR)
        check('vigild INSTREAM: EICAR still found after the failures (%s)' % r,
              r == 'stream: Eicar-Test-Signature.UNOFFICIAL FOUND')
        r = clamd_request(sock, b'zPING\0')
        check('vigild still answers PING', r == 'PONG')
    finally:
        stop_vigild(p)
    p, sock, log = start_vigild(env, 'vigild-noseccomp', extra_env={'VIGIL_WORKER_SKIP': 'seccomp'})
    try:
        p.wait(timeout=60)  # it must stop by itself
    except subprocess.TimeoutExpired:
        pass
    stop_vigild(p)
    logtext = open(log).read() if os.path.exists(log) else ''
    check('vigild without seccomp refuses to start', p.returncode not in (0, None) and
          'refusing to scan without a sandbox' in logtext, 'exit %s\n%s' % (p.returncode, logtext))


def main():
    if '--sanitized' in sys.argv:
        print('SKIP: sanitizer build: ASan/LSan cannot run under the seccomp filter, so the '
              'worker skips seccomp in sanitizer builds; these tests run in the release build')
        return 77
    vigil, trigger_worker, real_worker, vigild = sys.argv[1:5]
    env = Env(vigil, trigger_worker, real_worker, vigild)
    try:
        test_real_worker(env)
        test_layers(env)
        test_actions(env)
        test_scanning_goes_on(env)
        test_queued_file_rescanned(env)
        test_fail_closed(env)
        test_vigild(env)
        test_layer_independence(env)
    finally:
        shutil.rmtree(env.tmp, ignore_errors=True)
    print('%d checks, %d failed' % (CHECKS[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())
