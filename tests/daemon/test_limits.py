#!/usr/bin/python3
"""vigild's limits hold without hurting well-behaved clients:
  - MaxConnections: past the limit, new clients wait in the listen backlog
    and are served as soon as a connection closes;
  - MaxThreads 1 / MaxQueue 1: 40 simultaneous clients all get right
    answers (the queue pushes back instead of failing);
  - replies: a client that never reads its CONTSCAN replies is dropped
    after SendBufTimeout while others are served; one that reads slowly
    gets every line;
  - an IDSESSION with 20000 pipelined PINGs, read only after everything was
    sent, gets all 20000 replies in order (input is paused, not buffered);
  - 1024 FILDES in one session with MaxQueue 8: every descriptor scanned,
    every one closed afterwards.

Usage: test_limits.py VIGILD
"""
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_lib as L  # noqa: E402

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def connect(path, timeout=30.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv_all(s):
    out = b''
    while True:
        d = s.recv(65536)
        if not d:
            return out
        out += d


def max_connections(vigild, ws):
    vig = L.start_vigild(vigild, ws, name='maxconn', extra=[('MaxConnections', '4')])
    try:
        idle = [connect(vig.sock) for _ in range(4)]
        time.sleep(0.3)
        extra = connect(vig.sock, timeout=0.7)  # accepted by the kernel, not by vigild
        extra.sendall(b'zPING\0')
        try:
            early = extra.recv(10)
        except socket.timeout:
            early = None
        check(early is None, 'a fifth connection was served past MaxConnections=4: %r' % early)
        idle[0].close()
        extra.settimeout(10)
        check(recv_all(extra) == b'PONG\0', 'the waiting client was not served')
        for s in idle[1:]:
            s.close()
    finally:
        check(vig.stop() == 0, 'maxconn: exit code')


def tiny_queue(vigild, ws):
    eicar = ws.write('q/eicar.com', L.EICAR)
    vig = L.start_vigild(vigild, ws, name='queue', extra=[('MaxThreads', '1'), ('MaxQueue', '1')])
    errors = []

    def one(i):
        try:
            if i % 2:
                rep = L.request(vig.sock, b'zSCAN ' + eicar.encode() + b'\0', 60)
                want = eicar.encode() + b': Eicar-Body-Test.UNOFFICIAL FOUND\0'
            else:
                rep = L.instream(vig.sock, b'q' * 200000 + L.EICAR, timeout=60)
                want = b'stream: Eicar-Body-Test.UNOFFICIAL FOUND\0'
            if rep != want:
                errors.append(rep)
        except Exception as e:
            errors.append(str(e))

    try:
        ts = [threading.Thread(target=one, args=(i,)) for i in range(40)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        check(not errors, 'MaxQueue 1: %d wrong answers, e.g. %r' % (len(errors), errors[:2]))
    finally:
        check(vig.stop() == 0, 'queue: exit code')


def replies(vigild, ws):
    for i in range(6000):
        ws.write('many/e%04d.com' % i, L.EICAR)
    folder = ws.path('files', 'many').encode()
    vig = L.start_vigild(vigild, ws, name='replies', extra=[('SendBufTimeout', '300'),
                                                            ('MaxThreads', '2')])
    try:
        lazy = connect(vig.sock)
        lazy.sendall(b'zCONTSCAN ' + folder + b'\0')
        for _ in range(100):
            if 'does not read its replies' in vig.output():
                break
            check(L.request(vig.sock, b'zPING\0') == b'PONG\0', 'PING while a client does not read')
            time.sleep(0.1)
        else:
            check(False, 'a client that never reads was not dropped')
        lazy.close()
        # A slow but steady reader gets everything.
        slow = connect(vig.sock)
        slow.sendall(b'zCONTSCAN ' + folder + b'\0')
        got = b''
        while True:
            d = slow.recv(4096)
            if not d:
                break
            got += d
            time.sleep(0.002)
        lines = [x for x in got.split(b'\0') if x]
        check(len(lines) == 6000 and all(x.endswith(b'Eicar-Body-Test.UNOFFICIAL FOUND') for x in lines),
              'slow reader got %d of 6000 lines' % len(lines))
    finally:
        check(vig.stop() == 0, 'replies: exit code')


def pipelined_session(vigild, ws):
    vig = L.start_vigild(vigild, ws, name='session')
    try:
        s = connect(vig.sock, 60)
        n = 20000
        payload = b'zIDSESSION\0' + b'zPING\0' * n + b'zEND\0'
        sender = threading.Thread(target=s.sendall, args=(payload,))
        sender.start()
        time.sleep(1.0)  # replies pile up: vigild must stop reading, not buffer without end
        got = recv_all(s)
        sender.join()
        want = b''.join(b'%d: PONG\0' % (i + 1) for i in range(n))
        check(got == want, 'pipelined session: %d bytes, expected %d' % (len(got), len(want)))
    finally:
        check(vig.stop() == 0, 'session: exit code')


def many_descriptors(vigild, ws):
    """clamd's own stress test: 1024 FILDES in one session (each with a
    descriptor), END, hang up; then the daemon must still answer and hold
    no descriptor of that client."""
    eicar = ws.write('fd/eicar.com', L.EICAR)
    vig = L.start_vigild(vigild, ws, name='fildes', extra=[('MaxQueue', '8')])
    try:
        base = len(os.listdir('/proc/%d/fd' % vig.pid))
        s = connect(vig.sock, 60)
        got = []
        reader = threading.Thread(target=lambda: got.append(recv_all(s)))
        reader.start()
        s.sendall(b'zIDSESSION\0')
        fd = os.open(eicar, os.O_RDONLY)
        try:
            for _ in range(1024):
                L.send_fd(s, b'zFILDES\0\0', fd)
        finally:
            os.close(fd)
        s.sendall(b'zEND\0')
        reader.join(60)
        s.close()
        replies = [r for r in (got[0] if got else b'').split(b'\0') if r]
        check(len(replies) == 1024 and all(r.endswith(b': Eicar-Body-Test.UNOFFICIAL FOUND')
                                           for r in replies),
              '1024 FILDES: %d replies, unexpected: %r' % (
                  len(replies), [r for r in replies if not r.endswith(b'UNOFFICIAL FOUND')][:3]))
        check(L.request(vig.sock, b'zPING\0') == b'PONG\0', 'PING after 1024 FILDES')
        for _ in range(100):
            if len(os.listdir('/proc/%d/fd' % vig.pid)) <= base:
                break
            time.sleep(0.05)
        else:
            check(False, 'descriptors left open after the FILDES session')
    finally:
        check(vig.stop() == 0, 'fildes: exit code')


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    vigild = os.path.abspath(sys.argv[1])
    ws = L.Workspace()
    try:
        for step in (max_connections, tiny_queue, replies, pipelined_session, many_descriptors):
            before = len(failures)
            step(vigild, ws)
            print('%s: %s' % (step.__name__, 'ok' if len(failures) == before else 'FAILED'))
    finally:
        ws.cleanup()
    for f in failures:
        print('FAIL: ' + f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
