"""Real byte material from this machine, split into two disjoint pools.

Shared by gen_db.py and gen_corpus.py (Debian's /usr/bin/python3, standard library only).

* Pool S ("signature") feeds signature literals: code sections of ELF files, printable
  strings from their .rodata, script text.
* Pool C ("corpus") feeds the corpora: whole ELF files and text files (source, docs).

A file belongs to one pool only, chosen by a seeded hash of its path, and files with the
same content are taken once (hard links, copies).  Selection is deterministic for a given
seed, scale and machine; every file used is recorded (path, size, SHA-256 of the bytes
read) so a run can be traced to its inputs.  Signatures that would match pool C material
are rejected by gen_db.py through an index of C's aligned 8-byte words (see CleanIndex).
"""

import array
import hashlib
import os
import random
import re
import stat
import struct
import sys

ELF_DIRS = ['/usr/bin', '/usr/sbin', '/usr/lib', '/usr/libexec']
TEXT_DIRS = ['/usr/include', '/usr/share', '/usr/lib/python3', '/usr/lib/python3.11']
SCRIPT_EXT = ('.py', '.pl', '.pm', '.sh', '.js', '.rb', '.tcl', '.lua', '.php', '.awk')
MARKUP_EXT = ('.html', '.htm', '.xml', '.css', '.svg')
DOC_EXT = ('.txt', '.md', '.rst', '.html', '.htm', '.xml', '.css', '.json', '.csv', '.tex', '.texi')
SOURCE_EXT = ('.h', '.c', '.hpp', '.cc', '.cpp', '.inc')

# Material budgets per scale, in bytes.
BUDGETS = {
    'full': dict(s_code=128 << 20, s_code_per_file=1 << 20, s_rodata=64 << 20, s_rodata_per_file=512 << 10,
                 s_script=32 << 20, c_elf=160 << 20, c_elf_max_file=24 << 20, c_text=96 << 20),
    'small': dict(s_code=3 << 20, s_code_per_file=256 << 10, s_rodata=1 << 20, s_rodata_per_file=128 << 10,
                  s_script=1 << 20, c_elf=16 << 20, c_elf_max_file=4 << 20, c_text=8 << 20),
}


def _pool_of(seed, path):
    h = hashlib.sha256(('%d:%s' % (seed, path)).encode()).digest()
    return 'S' if h[0] & 1 else 'C'


def _walk(dirs, want):
    """Regular files under dirs (no symlinks), sorted, deduplicated by inode."""
    seen = set()
    out = []
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            subdirs.sort()
            for f in sorted(files):
                p = os.path.join(root, f)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in seen:
                    continue
                if not want(p, st):
                    continue
                seen.add((st.st_dev, st.st_ino))
                out.append((p, st.st_size))
    return out


def _content_key(path, size):
    """Cheap identity of a file's content: size and digest of its first and last 64 KiB."""
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        h.update(fh.read(65536))
        if size > 131072:
            fh.seek(size - 65536)
            h.update(fh.read(65536))
    return (size, h.digest())


def elf_files():
    def want(p, st):
        if st.st_size < 16384 or st.st_size > (256 << 20):
            return False
        try:
            with open(p, 'rb') as fh:
                hdr = fh.read(6)
        except OSError:
            return False
        return hdr[:4] == b'\x7fELF' and hdr[4] == 2 and hdr[5] == 1   # 64-bit little-endian
    return _walk(ELF_DIRS, want)


def text_files():
    def want(p, st):
        if st.st_size < 256 or st.st_size > (2 << 20):
            return False
        base = os.path.basename(p)
        low = base.lower()
        return (low.endswith(SCRIPT_EXT + DOC_EXT + SOURCE_EXT) or low.startswith(('readme', 'changelog', 'news', 'copying', 'license'))) \
            and not low.endswith('.gz')
    out = []
    for p, size in _walk(TEXT_DIRS, want):
        out.append((p, size))
    return out


def is_script(path):
    return path.lower().endswith(SCRIPT_EXT)


def is_markup(path):
    return path.lower().endswith(MARKUP_EXT)


def elf_sections(path):
    """{name: (offset, size, flags)} of an ELF64 LE file's sections ({} if unparsable)."""
    try:
        with open(path, 'rb') as fh:
            eh = fh.read(64)
            if len(eh) < 64:
                return {}
            shoff, = struct.unpack_from('<Q', eh, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from('<HHH', eh, 0x3a)
            if shoff == 0 or shentsize != 64 or shnum == 0 or shnum > 4096 or shstrndx >= shnum:
                return {}
            fh.seek(shoff)
            sh = fh.read(64 * shnum)
            if len(sh) < 64 * shnum:
                return {}
            secs = []
            for i in range(shnum):
                name, typ, flags, addr, off, size = struct.unpack_from('<IIQQQQ', sh, 64 * i)
                secs.append((name, typ, flags, off, size))
            stro, strs = secs[shstrndx][3], secs[shstrndx][4]
            fh.seek(stro)
            strtab = fh.read(min(strs, 1 << 20))
            out = {}
            fsize = os.fstat(fh.fileno()).st_size
            for name, typ, flags, off, size in secs:
                if typ != 1 or off + size > fsize:        # SHT_PROGBITS, inside the file
                    continue
                end = strtab.find(b'\0', name)
                n = strtab[name:end].decode('ascii', 'replace')
                out[n] = (off, size, flags)
            return out
    except OSError:
        return {}


def read_range(path, off, size):
    with open(path, 'rb') as fh:
        fh.seek(off)
        return fh.read(size)


class Pools:
    """Deterministic selection of material for one (seed, scale)."""

    def __init__(self, seed, scale, log=None):
        self.seed = seed
        self.scale = scale
        self.b = BUDGETS[scale]
        self.log = log or (lambda *a: None)
        rng = random.Random('pools:%d' % seed)
        elfs = elf_files()
        texts = text_files()
        self.elf_s = [e for e in elfs if _pool_of(seed, e[0]) == 'S']
        self.elf_c = [e for e in elfs if _pool_of(seed, e[0]) == 'C']
        self.text_s = [t for t in texts if _pool_of(seed, t[0]) == 'S' and is_script(t[0])]
        self.text_s += [t for t in texts if _pool_of(seed, t[0]) == 'S' and is_markup(t[0])]
        self.text_c = [t for t in texts if _pool_of(seed, t[0]) == 'C']
        for lst in (self.elf_s, self.elf_c, self.text_s, self.text_c):
            rng.shuffle(lst)
        self.log('material: %d ELF files (%d S, %d C), %d text files (%d S scripts, %d C)' % (
            len(elfs), len(self.elf_s), len(self.elf_c), len(texts), len(self.text_s), len(self.text_c)))
        self._seen_content = set()

    def _fresh(self, path, size):
        try:
            k = _content_key(path, size)
        except OSError:
            return False
        if k in self._seen_content:
            return False
        self._seen_content.add(k)
        return True

    # ---- pool S -------------------------------------------------------------

    def s_code_and_rodata(self):
        """(code, rodata, sources): lists of (path, bytes) windows of .text and .rodata."""
        rng = random.Random('s-code:%d' % self.seed)
        code, rodata, sources = [], [], []
        ncode = nro = 0
        for path, size in self.elf_s:
            if ncode >= self.b['s_code'] and nro >= self.b['s_rodata']:
                break
            if not self._fresh(path, size):
                continue
            secs = elf_sections(path)
            took = False
            if '.text' in secs and ncode < self.b['s_code']:
                off, sz, _ = secs['.text']
                if sz >= 4096:
                    w = min(sz, self.b['s_code_per_file'])
                    start = off + rng.randrange(0, sz - w + 1)
                    data = read_range(path, start, w)
                    code.append((path, data))
                    ncode += len(data)
                    sources.append(dict(path=path, section='.text', offset=start, size=len(data),
                                        sha256=hashlib.sha256(data).hexdigest()))
                    took = True
            if '.rodata' in secs and nro < self.b['s_rodata']:
                off, sz, _ = secs['.rodata']
                if sz >= 1024:
                    w = min(sz, self.b['s_rodata_per_file'])
                    start = off + rng.randrange(0, sz - w + 1)
                    data = read_range(path, start, w)
                    rodata.append((path, data))
                    nro += len(data)
                    sources.append(dict(path=path, section='.rodata', offset=start, size=len(data),
                                        sha256=hashlib.sha256(data).hexdigest()))
                    took = True
            del took
        return code, rodata, sources

    def s_scripts(self):
        out, sources, n = [], [], 0
        for path, size in self.text_s:
            if n >= self.b['s_script']:
                break
            if not self._fresh(path, size):
                continue
            try:
                with open(path, 'rb') as fh:
                    data = fh.read()
            except OSError:
                continue
            if not looks_text(data):
                continue
            out.append((path, data))
            n += len(data)
            sources.append(dict(path=path, section='script', offset=0, size=len(data),
                                sha256=hashlib.sha256(data).hexdigest()))
        return out, sources

    # ---- pool C -------------------------------------------------------------

    def c_elf(self):
        """Whole ELF files for the corpora: list of dicts (path, size, sha256)."""
        out, n = [], 0
        for path, size in self.elf_c:
            if n >= self.b['c_elf']:
                break
            if size > self.b['c_elf_max_file'] or not self._fresh(path, size):
                continue
            try:
                with open(path, 'rb') as fh:
                    data = fh.read()
            except OSError:
                continue
            out.append(dict(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest()))
            n += len(data)
        return out

    def c_text(self):
        out, n = [], 0
        for path, size in self.text_c:
            if n >= self.b['c_text']:
                break
            if not self._fresh(path, size):
                continue
            try:
                with open(path, 'rb') as fh:
                    data = fh.read()
            except OSError:
                continue
            if not looks_text(data):
                continue
            out.append(dict(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest()))
            n += len(data)
        return out


_TEXT_BYTES = bytes(range(0x20, 0x7f)) + b'\t\n\r'


def looks_text(data):
    """Mostly printable ASCII/UTF-8, no NUL."""
    if not data or b'\0' in data[:65536]:
        return False
    sample = data[:65536]
    bad = len(sample.translate(None, _TEXT_BYTES))
    return bad <= len(sample) // 50


def load_checked(entry):
    """Read a recorded pool-C file and check it is unchanged; None if it changed."""
    try:
        with open(entry['path'], 'rb') as fh:
            data = fh.read()
    except OSError:
        return None
    if len(data) != entry['size'] or hashlib.sha256(data).hexdigest() != entry['sha256']:
        return None
    return data


class CleanIndex:
    """Words of pool C material: 8-byte words at every offset that is a multiple of 4,
    and 16-byte words at multiples of 16 (text only).

    A byte string of length >= 11 that occurs in the indexed material contains a whole
    indexed 8-byte word of that occurrence, so probing every offset of a candidate finds
    it (stride 4: 8 + 4 - 1 = 11; a stride of 8 misses short chunks of machine code,
    which is itself aligned, systematically).  See hits() for longer candidates.  Script text uses the 16-byte words (every
    occurrence of 31 bytes or more is found), because 8-byte windows (identifiers, English
    words) are common in any text and would reject nearly every candidate.  Common
    sequences (prologues, padding, boilerplate) occur at every alignment and are caught
    whatever their length.
    """

    def __init__(self):
        self.words8 = set()
        self.words16 = set()
        self.indexed = 0

    def add(self, data, text=False):
        for a in (0, 4):
            n = (len(data) - a) // 8 * 8
            if n > 0:
                self.words8.update(array.array('Q', data[a:a + n]))
        if text:
            n16 = len(data) - len(data) % 16
            self.words16.update(data[i:i + 16] for i in range(0, n16, 16))
        self.indexed += len(data)

    def hits(self, chunk, k=8):
        """Could chunk occur in the indexed material?

        k=8: chunks shorter than 19 bytes are rejected when any 8-byte window of theirs is
        an indexed word; longer ones when two windows 8 bytes apart both are (every
        occurrence of 19 bytes or more holds two indexed words 8 bytes apart), so a long
        signature may share a common instruction or word with clean files, as real ones
        do, but not a 16-byte run.  k=16: any 16-byte window is an indexed 16-byte word.
        """
        if k == 8:
            w = self.words8
            fb = int.from_bytes
            h = [fb(chunk[o:o + 8], sys.byteorder) in w for o in range(len(chunk) - 7)]
            if len(chunk) < 19:
                return any(h)
            return any(h[i] and h[i + 8] for i in range(len(h) - 8))
        w = self.words16
        return any(chunk[i:i + 16] in w for i in range(0, len(chunk) - 15))


PRINTABLE_RUN = re.compile(rb'[\x20-\x7e]{12,200}')


# ---------------------------------------------------------------------------
# Synthetic logs for the text corpus (gen_db.py indexes a sample, so no signature
# literal matches the log vocabulary).
# ---------------------------------------------------------------------------

_HOSTS = ['web01', 'web02', 'db01', 'mail', 'gw', 'build7', 'ci-runner-3', 'nas']
_USERS = ['root', 'alice', 'bob', 'deploy', 'backup', 'www-data', 'postgres', 'git']
_UNITS = ['nginx.service', 'postgresql@15-main.service', 'cron.service', 'ssh.service', 'docker.service',
          'systemd-journald.service', 'unattended-upgrades.service', 'logrotate.service']
_PATHS = ['/', '/index.html', '/api/v1/items', '/api/v1/items/%d', '/static/app.%x.js', '/login', '/favicon.ico',
          '/wp-login.php', '/robots.txt', '/images/logo.png', '/search?q=%x', '/api/v2/users/%d/orders']
_AGENTS = ['Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0',
           'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36',
           'curl/7.88.1', 'python-requests/2.28.1', 'Googlebot/2.1 (+http://www.google.com/bot.html)', '-']
_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']


def log_text(rng, nbytes):
    """About nbytes of syslog, web access and application log lines."""
    out = []
    n = 0
    t = rng.randrange(10 ** 6)
    style = rng.choice(['syslog', 'access', 'app'])
    while n < nbytes:
        t += rng.randrange(3)
        mon, day = _MONTHS[(t // 2600000) % 12], 1 + (t // 86400) % 28
        hms = '%02d:%02d:%02d' % ((t // 3600) % 24, (t // 60) % 60, t % 60)
        ip = '%d.%d.%d.%d' % (rng.choice([10, 192, 172, 203, 198]), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
        if style == 'syslog':
            host = rng.choice(_HOSTS)
            r = rng.random()
            if r < 0.3:
                line = '%s %2d %s %s sshd[%d]: Accepted publickey for %s from %s port %d ssh2: ED25519 SHA256:%s' % (
                    mon, day, hms, host, rng.randrange(1000, 60000), rng.choice(_USERS), ip, rng.randrange(1024, 65535),
                    '%043x' % rng.getrandbits(172))
            elif r < 0.5:
                line = '%s %2d %s %s systemd[1]: Started %s.' % (mon, day, hms, host, rng.choice(_UNITS))
            elif r < 0.7:
                line = '%s %2d %s %s CRON[%d]: (%s) CMD (%s)' % (mon, day, hms, host, rng.randrange(1000, 60000),
                                                               rng.choice(_USERS), rng.choice(['run-parts /etc/cron.hourly', 'test -x /usr/sbin/anacron', '/usr/local/bin/backup.sh --quiet']))
            elif r < 0.85:
                line = '%s %2d %s %s kernel: [%d.%06d] [UFW BLOCK] IN=eth0 OUT= SRC=%s DST=10.0.0.%d PROTO=TCP SPT=%d DPT=%d' % (
                    mon, day, hms, host, t % 100000, rng.randrange(10 ** 6), ip, rng.randrange(1, 254),
                    rng.randrange(1024, 65535), rng.choice([22, 23, 80, 443, 3389, 8080]))
            else:
                line = '%s %2d %s %s sshd[%d]: Invalid user %s from %s port %d' % (
                    mon, day, hms, host, rng.randrange(1000, 60000), rng.choice(['admin', 'test', 'oracle', 'ubuntu', 'pi']),
                    ip, rng.randrange(1024, 65535))
        elif style == 'access':
            p = rng.choice(_PATHS)
            if '%' in p:
                p = p % rng.randrange(1 << 20)
            line = '%s - - [%02d/%s/2024:%s +0000] "%s %s HTTP/1.1" %d %d "-" "%s"' % (
                ip, day, mon, hms, rng.choice(['GET', 'GET', 'GET', 'POST', 'HEAD']), p,
                rng.choice([200, 200, 200, 304, 404, 301, 500]), rng.randrange(50, 200000), rng.choice(_AGENTS))
        else:
            line = '{"ts":"2024-%02d-%02dT%s.%03dZ","level":"%s","logger":"%s","msg":"%s","request_id":"%032x","duration_ms":%d}' % (
                1 + (t // 2600000) % 12, day, hms, rng.randrange(1000), rng.choice(['info', 'info', 'debug', 'warn', 'error']),
                rng.choice(['http', 'db.pool', 'worker', 'auth', 'cache']),
                rng.choice(['request completed', 'connection acquired', 'job finished', 'token refreshed', 'cache miss',
                            'slow query', 'retrying upstream']), rng.getrandbits(128), rng.randrange(1, 5000))
        out.append(line)
        n += len(line) + 1
    return ('\n'.join(out) + '\n').encode()
