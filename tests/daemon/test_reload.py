#!/usr/bin/python3
"""Reloading never fails or stalls a request: 8 clients send INSTREAM
requests (mixed sizes, some infected, sent in uneven chunks) and SCANs
while another client sends RELOAD every 50 ms and SIGUSR2 arrives every
250 ms; half-way a new signature file is added. Every request must get the
right answer; the reloads must happen (log) and the new signature must be
detected afterwards. Then SelfCheck: with SelfCheck 1, a signature file
added without any RELOAD is picked up within a few seconds.

Usage: test_reload.py VIGILD
"""
import os
import random
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_lib as L  # noqa: E402

NEW_PATTERN = b'VIGIL-RELOAD-TEST-PATTERN-0123456789'


def client(sock, n, seed, errors, files, stop, counter):
    rnd = random.Random(seed)
    i = 0
    while i < n or not stop.is_set():
        i += 1
        counter.append(1)
        try:
            kind = rnd.random()
            if kind < 0.2:
                path, infected = files[rnd.randrange(len(files))]
                rep = L.request(sock, b'zSCAN ' + path.encode() + b'\0')
                ok = rep.endswith(b' FOUND\0') if infected else rep.endswith(b': OK\0')
            else:
                size = rnd.choice((0, 100, 5000, 70000, 300000, 1500000))
                data = bytearray(rnd.getrandbits(8) for _ in range(min(size, 4096))) * (size // 4096 + 1)
                data = bytes(data[:size])
                infected = size > 100 and rnd.random() < 0.3
                if infected:
                    at = rnd.randrange(size - 100)
                    data = data[:at] + L.EICAR + data[at + len(L.EICAR):]
                rep = L.instream(sock, data, chunk_size=rnd.choice((1000, 8188, 65536)))
                ok = rep == (b'stream: Eicar-Body-Test.UNOFFICIAL FOUND\0' if infected else b'stream: OK\0')
            if not ok:
                errors.append('unexpected reply %r' % rep[:200])
        except Exception as e:
            errors.append('%s: %s' % (type(e).__name__, e))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    ws = L.Workspace()
    vig = None
    failures = []
    try:
        files = [(ws.write('e%d.com' % i, L.EICAR), True) for i in range(3)]
        files += [(ws.write('c%d.txt' % i, b'clean %d\n' % i), False) for i in range(3)]
        newfile = ws.write('new.bin', b'prefix ' + NEW_PATTERN + b' suffix')
        vig = L.start_vigild(sys.argv[1], ws, extra=[('StreamMaxLength', '4M'), ('SelfCheck', '0'),
                                                     ('MaxThreads', '4')])
        errors = []
        stop = threading.Event()
        reload_replies = []

        counter = []
        clients_done = threading.Event()

        def reloader():
            k = 0
            while k < 40 or not clients_done.is_set():
                try:
                    reload_replies.append(L.request(vig.sock, b'zRELOAD\0'))
                except Exception as e:
                    errors.append('RELOAD: %s' % e)
                k += 1
                if k % 5 == 0:
                    vig.signal(signal.SIGUSR2)
                if k == 4:
                    with open(os.path.join(ws.db, 'new.ndb'), 'w') as f:
                        f.write('Vigil.Reload.Test:0:*:%s\n' % NEW_PATTERN.hex())
                time.sleep(0.05)
            stop.set()

        rt = threading.Thread(target=reloader)
        rt.start()
        threads = [threading.Thread(target=client, args=(vig.sock, 30, i, errors, files, stop, counter))
                   for i in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.1)
        clients_done.set()  # the reloader stops after 40 RELOADs, then the clients
        for t in threads:
            t.join()
        rt.join()
        failures += errors[:20]
        if not reload_replies or any(r != b'RELOADING\0' for r in reload_replies):
            failures.append('RELOAD replies: %r' % reload_replies[:5])
        # The last reload includes the new signature: wait for it (bounded).
        L.request(vig.sock, b'zRELOAD\0')
        found = False
        for _ in range(100):
            rep = L.request(vig.sock, b'zSCAN ' + newfile.encode() + b'\0')
            if rep == newfile.encode() + b': Vigil.Reload.Test.UNOFFICIAL FOUND\0':
                found = True
                break
            time.sleep(0.1)
        if not found:
            failures.append('the signature added before RELOAD is not detected: %r' % rep)
        log = vig.output()
        reloads = log.count('Database correctly reloaded')
        print('%d requests, %d RELOAD replies, %d reloads done' % (len(counter), len(reload_replies), reloads))
        if reloads < 2:
            failures.append('only %d reloads in the log' % reloads)
        if 'SIGUSR2' not in log:
            failures.append('SIGUSR2 not seen in the log')
        rc = vig.stop()
        if rc != 0:
            failures.append('vigild exit code %s:\n%s' % (rc, vig.output()[-6000:]))
        vig = None

        # SelfCheck: a changed database folder is reloaded without asking.
        if os.path.exists(os.path.join(ws.db, 'new.ndb')):
            os.remove(os.path.join(ws.db, 'new.ndb'))
        vig = L.start_vigild(sys.argv[1], ws, name='vigild-selfcheck',
                             extra=[('SelfCheck', '1')])
        rep = L.request(vig.sock, b'zSCAN ' + newfile.encode() + b'\0')
        if rep != newfile.encode() + b': OK\0':
            failures.append('before SelfCheck: %r' % rep)
        time.sleep(1.1)  # a new modification time, whatever the filesystem's granularity
        with open(os.path.join(ws.db, 'new.ndb'), 'w') as f:
            f.write('Vigil.SelfCheck.Test:0:*:%s\n' % NEW_PATTERN.hex())
        for _ in range(100):
            rep = L.request(vig.sock, b'zSCAN ' + newfile.encode() + b'\0')
            if b'Vigil.SelfCheck.Test' in rep:
                break
            time.sleep(0.1)
        else:
            failures.append('SelfCheck did not pick up the new database file: %r' % rep)
        if 'SelfCheck: Database modification detected' not in vig.output():
            failures.append('no SelfCheck message in the log')
        rc = vig.stop()
        if rc != 0:
            failures.append('vigild exit code %s (SelfCheck):\n%s' % (rc, vig.output()[-6000:]))
        vig = None

        # With a compiled-database cache: the reload maps the cache instead
        # of compiling again, and scans go on meanwhile.
        cache = ws.path('cache')
        os.mkdir(cache, 0o700)
        vig = L.start_vigild(sys.argv[1], ws, name='vigild-cache',
                             extra=[('SelfCheck', '0'), ('CacheDirectory', cache)])
        errors = []
        stop.clear()
        threads = [threading.Thread(target=client, args=(vig.sock, 20, 100 + i, errors, files,
                                                         stop, counter)) for i in range(4)]
        for t in threads:
            t.start()
        for _ in range(5):
            if L.request(vig.sock, b'zRELOAD\0') != b'RELOADING\0':
                failures.append('RELOAD with a cache')
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        failures += errors[:10]
        for _ in range(100):
            if 'Database correctly reloaded' in vig.output():
                break
            time.sleep(0.1)
        cache_lines = [ln for ln in vig.output().splitlines() if ln.startswith('Loaded ')]
        print('with a cache: ' + ' | '.join(cache_lines[:3]))
        if not any('compiled cache' in ln for ln in cache_lines):
            failures.append('the compiled cache was not used: %s' % cache_lines)
    finally:
        if vig:
            rc = vig.stop()
            if rc != 0:
                failures.append('vigild exit code %s:\n%s' % (rc, vig.output()[-6000:]))
        ws.cleanup()
    for f in failures:
        print('FAIL: ' + f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
