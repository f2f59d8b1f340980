#!/bin/bash
# Signature attacks (trust-design §1.6 A5-A8): a manifest signed by keys the
# root does not list, below the threshold, the same key twice, and keys of
# the wrong role. Each must be refused with its own message and leave the
# installed database and the state as they were.
. "$(dirname "$0")/upd_lib.sh"

full_release 1 || exit 1
start_server
update
check "baseline: release 1 installed" db_is 1
make_keys evil-a evil-b

# republish release 2 with a manifest signed by the given keys
bad_release() {
	release 2 "$@" && log_add "$T/rel2/manifest.note" && publish 2 --no-verify
}

snapshot
bad_release evil-a evil-b
update
refused "A5 manifest signed only by unknown keys" "unknown key"
check "A5: names the unknown signer" err_has "evil-a"

bad_release rel-a
update
refused "A6 one of two release signatures" "threshold not met"
check "A6: says how many of how many" err_has "1 valid release signature, 2 required"

# A7: the same release key's signature line twice
release 2 rel-a
line=$(tail -n 1 "$T/rel2/manifest.note")
printf '%s\n' "$line" >> "$T/rel2/manifest.note"
check "A7 setup: two identical signature lines" [ "$(grep -c -- "$line" "$T/rel2/manifest.note")" = 2 ]
log_add "$T/rel2/manifest.note" && publish 2 --no-verify
update
refused "A7 duplicate signer counts once" "threshold not met"

# A8: the timestamp key (a key of the root, but not a release key) signs
# the manifest with one release key
bad_release rel-a ts
update
refused "A8 timestamp key signing a manifest" "threshold not met"

# A8: a release key signs the timestamp
full_release 3
body=$(sed '/^$/,$d' "$MIRROR/timestamp.note")
printf '%s\n' "$body" > "$T/ts.body"
sign "$T/ts.body" rel-a
cp "$T/ts.body" "$MIRROR/timestamp.note"
update
refused "A8 release key signing a timestamp" "unknown key"

# a signature that does not verify: one byte of the manifest body changed,
# and a timestamp (validly signed by the timestamp key) naming the edited
# bytes, so only the release signatures can catch the edit
full_release 4
"$PY" - "$MIRROR" "$T/ts.body" <<'PYEOF'
import hashlib, os, re, sys
m, out = sys.argv[1:3]
ts = open(os.path.join(m, "timestamp.note")).read()
h = re.search(r"^manifest ([0-9a-f]{64}) ", ts, re.M).group(1)
data = open(os.path.join(m, "manifest", h + ".note"), "rb").read()
data = data.replace(b"\nversion 4\n", b"\nversion 5\n")
new = hashlib.sha256(data).hexdigest()
open(os.path.join(m, "manifest", new + ".note"), "wb").write(data)
body = ts.split("\n\n")[0] + "\n"
body = body.replace("manifest-version 4", "manifest-version 5")
body = re.sub(r"^version (\d+)$", lambda x: "version %d" % (int(x.group(1)) + 1), body, flags=re.M)
body = re.sub(r"^manifest [0-9a-f]{64} \d+$", "manifest %s %d" % (new, len(data)), body, flags=re.M)
open(out, "w").write(body)
PYEOF
sign "$T/ts.body" ts
cp "$T/ts.body" "$MIRROR/timestamp.note"
update
refused "manifest edited after signing" "bad signature"
check "edited manifest: names the signer whose signature broke" err_has "does not verify"

# and with everything right again, release 5 installs
full_release 6
update
check "a correct release after the attacks installs" db_is 6
finish
