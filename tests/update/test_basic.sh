#!/bin/bash
# The ordinary path: publish, update, scan with what was installed; a second
# release downloads only what changed; independent checks of the signatures
# (Python's cryptography package) and of the log's Merkle tree (hashlib).
. "$(dirname "$0")/upd_lib.sh"

full_release 1 || { echo "publishing failed"; exit 1; }
start_server
update
check "first update: exit status 0" rc_is 0
check "first update: says what it installed" out_has "Installed database version 1"
check "installed files are release 1's" db_is 1
check "state: installed version 1" [ "$(state installed-version)" = 1 ]
check "database folder is a link to a version folder" [ -L "$DB" ]

EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
printf '%s' "$EICAR" > "$T/eicar.com"
check "EICAR sample has the published MD5" [ "$(md5sum < "$T/eicar.com" | cut -c1-32)" = "$EICAR_MD5" ]
"$VIGIL" scan --no-summary -d "$DB" "$T/eicar.com" > "$T/scan.out"
check "vigil scan with the installed database finds EICAR" grep -q "eicar.com: Eicar-Test-Signature.UNOFFICIAL FOUND" "$T/scan.out"

update
check "second run: up to date, exit 0" rc_is 0
check "second run: says up to date" out_has "up to date"

: > "$REQLOG"
full_release 2
update
check "release 2: installed" db_is 2
check "release 2: only the changed file is downloaded" out_has "Files: 1 downloaded, 1 unchanged"
check "release 2: one blob request (daily.ndb's)" [ "$(grep -c 'GET /blob/' "$REQLOG")" = 1 ]
check "old version folders are pruned to the previous one" \
	[ "$(ls -d "$T"/var/db.v* | wc -l)" = 2 ]

# A new timestamp for the same release (publishers refresh it every day or
# two): state only, the installed folder stays as it is
target=$(readlink "$DB")
publish 2
update
check "refreshed timestamp: up to date" out_has "up to date"
check "refreshed timestamp: same installed folder" [ "$(readlink "$DB")" = "$target" ]
check "refreshed timestamp: newer timestamp trusted" \
	[ "$(state timestamp-version)" = "$(sed -n 's/^version //p' "$MIRROR/timestamp.note")" ]

# An installed file damaged on disk is noticed and installed again
chmod u+w "$DB/daily.ndb"
printf 'damaged\n' >> "$DB/daily.ndb"
update
check "damaged installed file: exit 0" rc_is 0
check "damaged installed file: reported" err_has "differ from their manifest"
check "damaged installed file: release 2 whole again" db_is 2

# Privacy: every request is one of the mirror's static paths, with a
# constant User-Agent and no cookie or other identifying header.
check "requests: only static mirror paths" \
	bash -c "! grep -vE '^GET /(timestamp\.note|root/[0-9]+\.note|manifest/[0-9a-f]{64}\.(note|tlog-proof)|blob/[0-9a-f]{64}|log/tile/0/[0-9x/]+(\.p/[0-9]+)?) ' '$REQLOG'"
check "requests: User-Agent is the constant vigil/<version>" \
	bash -c "! grep -v 'User-Agent: vigil/[0-9.]*\$\|User-Agent: vigil/[0-9.]*|' '$REQLOG' | grep -q ."
check "requests: headers are Host, User-Agent, Accept only" \
	bash -c "! sed 's/^[^ ]* [^ ]* //' '$REQLOG' | tr '|' '\n' | cut -d: -f1 | sort -u | grep -vxE 'Host|User-Agent|Accept'"

# Independent checks: the signatures verify with Python's Ed25519 and the
# checkpoint's root is the RFC 6962 tree head of the logged manifests.
"$PY" - "$KEYS" "$ROOTS/1.note" "$LOG" > "$T/indep.out" 2>&1 <<'PYEOF'
import base64, hashlib, os, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
keys, root, log = sys.argv[1:4]
def verifier(name):
    n, kid, b = open(os.path.join(keys, name + ".pub")).read().strip().split("+", 2)
    raw = base64.b64decode(b)
    assert hashlib.sha256(n.encode() + b"\n" + raw).digest()[:4].hex() == kid
    return n, bytes.fromhex(kid), raw
def check_note(path, names):
    text = open(path, "rb").read()
    body, sigs = text.rsplit(b"\n\n", 1)
    body += b"\n"
    good = set()
    for line in sigs.decode().splitlines():
        _, name, b = line.split(" ")
        blob = base64.b64decode(b)
        for n in names:
            vn, kid, raw = verifier(n)
            if vn == name and blob[:4] == kid and raw[0] == 1:
                Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], body)
                good.add(n)
    return good
assert check_note(root, ["root-a", "root-b"]) == {"root-a", "root-b"}
assert check_note(os.path.join(log, "checkpoint"), ["log"]) == {"log"}
entries = sorted(os.listdir(os.path.join(log, "entries")), key=lambda s: int(s.split(".")[0]))
leaves = [hashlib.sha256(b"\0" + open(os.path.join(log, "entries", e), "rb").read()).digest() for e in entries]
def mth(l):
    if len(l) == 1: return l[0]
    k = 1
    while k * 2 < len(l): k *= 2
    return hashlib.sha256(b"\1" + mth(l[:k]) + mth(l[k:])).digest()
cp = open(os.path.join(log, "checkpoint")).read().split("\n")
assert cp[0] == "log" and int(cp[1]) == len(leaves), cp
assert base64.b64decode(cp[2]) == mth(leaves)
# the published inclusion proof of release 2's manifest, checked with
# RFC 9162 2.1.3.2 written here on its own
mirror = os.path.join(os.path.dirname(log), "mirror")
m2 = open(os.path.join(os.path.dirname(log), "rel2", "manifest.note"), "rb").read()
h2 = hashlib.sha256(m2).hexdigest()
proof = open(os.path.join(mirror, "manifest", h2 + ".tlog-proof")).read()
head, note = proof.split("\n\n", 1)
lines = head.split("\n")
assert lines[0] == "c2sp.org/tlog-proof@v1"
index = int(lines[1].split(" ")[1])
path = [base64.b64decode(x) for x in lines[2:]]
body = note.split("\n")
size, root_hash = int(body[1]), base64.b64decode(body[2])
fn, sn, r = index, size - 1, hashlib.sha256(b"\0" + m2).digest()
for p in path:
    assert sn != 0
    if fn & 1 or fn == sn:
        r = hashlib.sha256(b"\1" + p + r).digest()
        while not fn & 1 and fn != 0:
            fn >>= 1; sn >>= 1
    else:
        r = hashlib.sha256(b"\1" + r + p).digest()
    fn >>= 1; sn >>= 1
assert sn == 0 and r == root_hash, "inclusion proof does not verify"
print("independent checks passed")
PYEOF
check "Python (cryptography, hashlib) verifies the notes and the tree head" grep -q "independent checks passed" "$T/indep.out"
grep -q "independent checks passed" "$T/indep.out" || cat "$T/indep.out"

# --offline: the same verification from a mirror folder (a USB stick)
rm -rf "$STATE" "$T/var"
"$VIGIL" update --config "$T/vigil.conf" --offline "$MIRROR" --root "$T/anchor.note" \
	--state-dir "$STATE" --db-dir "$DB" --no-reload >"$OUT" 2>"$ERR"
RC=$?
check "--offline DIR: installs release 2" rc_is 0
check "--offline DIR: files are release 2's" db_is 2
finish
