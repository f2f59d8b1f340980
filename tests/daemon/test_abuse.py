#!/usr/bin/python3
"""Hostile clients never take vigild down or starve others. For about six
seconds, at the same time:
  - 60 slowloris clients trickle a command one byte at a time (and 10 more
    trickle an INSTREAM);
  - 20 clients send random garbage of random sizes;
  - clients send oversize streams, over-long commands, chunk lengths of
    4 GiB, descriptors with the wrong commands, and vanish mid-request;
  - 3 clients ask for thousands of replies and never read them;
while one ordinary client keeps sending PING, SCAN and INSTREAM requests:
every one of those must get the right answer. Afterwards vigild must still
answer, hold no more connections than it started with (bounded wait), and
stop cleanly.

Usage: test_abuse.py VIGILD
"""
import os
import random
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_lib as L  # noqa: E402

DURATION = 6.0


def connect(sock, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock)
    return s


def slowloris(sock, stop, payload):
    while not stop.is_set():
        try:
            s = connect(sock)
            for b in payload:
                if stop.is_set():
                    break
                s.send(bytes([b]))
                time.sleep(0.3)
            s.close()
        except OSError:
            time.sleep(0.05)


def garbage(sock, stop, seed):
    rnd = random.Random(seed)
    while not stop.is_set():
        try:
            s = connect(sock, 2.0)
            data = bytes(rnd.getrandbits(8) for _ in range(rnd.choice((1, 10, 500, 5000, 20000))))
            s.sendall(data)
            try:
                s.recv(4096)
            except OSError:
                pass
            s.close()
        except OSError:
            time.sleep(0.01)


def nasty(sock, stop, path):
    cases = [
        b'zINSTREAM\0\xff\xff\xff\xff',
        b'zINSTREAM\0' + L.chunk(b'x' * 300000) * 8 + L.END_CHUNK,  # over StreamMaxLength
        b'zSCAN /' + b'a' * 20000,                                  # longer than a command may be
        b'zIDSESSION\0' + b'zPING\0' * 2000,                         # pings it never reads
        b'zIDSESSION\0zINSTREAM\0' + L.chunk(b'y' * 1000),         # then vanishes
        b'nSCAN ' + path.encode() + b'\r\n',
        b'zFILDES\0',
    ]
    i = 0
    while not stop.is_set():
        try:
            s = connect(sock, 2.0)
            if i % 9 == 8:
                fd = os.open(path, os.O_RDONLY)
                try:
                    L.send_fd(s, b'zVERSION\0', fd)  # a descriptor nobody asked for
                finally:
                    os.close(fd)
            else:
                try:
                    s.sendall(cases[i % len(cases)])
                except OSError:
                    pass
            if i % 2:
                try:
                    s.recv(100)
                except OSError:
                    pass
            s.close()
        except OSError:
            pass
        i += 1


def non_reader(sock, stop, folder):
    while not stop.is_set():
        try:
            s = connect(sock)
            s.sendall(b'zCONTSCAN ' + folder.encode() + b'\0')
            stop.wait(4.0)  # never read; vigild drops it after ReadTimeout
            s.close()
        except OSError:
            time.sleep(0.05)


def count_fds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    ws = L.Workspace()
    vig = None
    failures = []
    try:
        eicar = ws.write('eicar.com', L.EICAR)
        clean = ws.write('clean.txt', b'clean\n')
        for i in range(4000):
            ws.write('infected/e%04d.com' % i, L.EICAR)
        vig = L.start_vigild(sys.argv[1], ws, extra=[
            ('StreamMaxLength', '1M'), ('CommandReadTimeout', '2'), ('ReadTimeout', '3'),
            ('MaxConnections', '300'), ('SelfCheck', '0')])
        base_fds = count_fds(vig.pid)
        rss0 = L.rss_kib(vig.pid)
        stop = threading.Event()
        threads = []
        for i in range(60):
            threads.append(threading.Thread(target=slowloris,
                                            args=(vig.sock, stop, b'zSCAN ' + clean.encode())))
        for i in range(10):
            threads.append(threading.Thread(target=slowloris,
                                            args=(vig.sock, stop, b'zINSTREAM\0' + L.chunk(b'z' * 200))))
        for i in range(20):
            threads.append(threading.Thread(target=garbage, args=(vig.sock, stop, i)))
        for i in range(4):
            threads.append(threading.Thread(target=nasty, args=(vig.sock, stop, clean)))
        for i in range(3):
            threads.append(threading.Thread(target=non_reader,
                                            args=(vig.sock, stop, ws.path('files', 'infected'))))
        for t in threads:
            t.start()
        time.sleep(0.5)
        # The ordinary client.
        done = 0
        worst = 0.0
        end = time.time() + DURATION
        while time.time() < end:
            for req, want in ((b'zPING\0', b'PONG\0'),
                              (b'zSCAN ' + eicar.encode() + b'\0',
                               eicar.encode() + b': Eicar-Body-Test.UNOFFICIAL FOUND\0'),
                              (b'zSCAN ' + clean.encode() + b'\0', clean.encode() + b': OK\0'),
                              (b'zINSTREAM\0' + L.chunk(L.EICAR) + L.END_CHUNK,
                               b'stream: Eicar-Body-Test.UNOFFICIAL FOUND\0')):
                t0 = time.time()
                try:
                    rep = L.request(vig.sock, req, timeout=20)
                except Exception as e:
                    rep = ('%s: %s' % (type(e).__name__, e)).encode()
                worst = max(worst, time.time() - t0)
                done += 1
                if rep != want:
                    failures.append('ordinary client: %r -> %r' % (req[:30], rep[:100]))
        stop.set()
        for t in threads:
            t.join(30)
        print('ordinary client: %d requests, slowest %.3f s; RSS %d -> %d KiB' %
              (done, worst, rss0, L.rss_kib(vig.pid)))
        if not vig.alive():
            failures.append('vigild died:\n' + vig.output()[-3000:])
        else:
            if L.request(vig.sock, b'zPING\0') != b'PONG\0':
                failures.append('no PONG after the abuse')
            # Every abusive connection ends (timeouts, errors): bounded wait.
            for _ in range(100):
                if count_fds(vig.pid) <= base_fds:
                    break
                time.sleep(0.1)
            else:
                failures.append('descriptors: %d at start, %d at the end' %
                                (base_fds, count_fds(vig.pid)))
        failures = failures[:20]
    finally:
        if vig:
            rc = vig.stop()
            if rc != 0:
                failures.append('vigild exit code %s\n%s' % (rc, vig.output()[-3000:]))
        ws.cleanup()
    for f in failures:
        print('FAIL: ' + f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
