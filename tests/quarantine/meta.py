#!/usr/bin/env python3
"""meta.py PATH... - one line per file with everything a quarantine round trip
must keep: type and mode (set-id bits included), owner, group, size, atime and
mtime to the nanosecond, SHA-256 of the content and every extended attribute.

The content is read with O_NOATIME (when permitted) so that taking the
snapshot does not itself change the atime it records.
"""
import hashlib
import os
import stat
import sys


def snapshot(path):
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        return "%s: not a regular file (mode %o)" % (path, st.st_mode)
    flags = os.O_RDONLY | getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:
        fd = os.open(path, os.O_RDONLY)
    h = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    xattrs = []
    try:
        for name in sorted(os.listxattr(path, follow_symlinks=False)):
            xattrs.append("%s=%s" % (name, os.getxattr(path, name, follow_symlinks=False).hex()))
    except OSError:
        pass
    return "mode=%o uid=%d gid=%d size=%d atime=%d mtime=%d sha256=%s xattrs=[%s]" % (
        st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_atime_ns, st.st_mtime_ns,
        h.hexdigest(), ",".join(xattrs))


if __name__ == "__main__":
    status = 0
    for p in sys.argv[1:]:
        try:
            print(snapshot(p))
        except OSError as e:
            print("%s: %s" % (p, e.strerror))
            status = 1
    sys.exit(status)
