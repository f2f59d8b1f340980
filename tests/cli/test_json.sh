#!/bin/bash
# --json: one JSON object per line and per result, the summary last
# (schema: docs/json-output.md). Every line is parsed by Python's json
# module, and the objects are checked against what the text report says.
. "$(dirname "$0")/cli_lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
make_db
cd "$T" || exit 1
mkdir -p tree/sub
make_eicar tree/eicar.com
echo clean > tree/clean.txt
: > tree/empty
ln -s clean.txt tree/link
mkfifo tree/fifo
printf 'x' > "$(printf 'tree/bad-\377-name')"   # not UTF-8
printf 'quote"back\\slash' > 'tree/sub/we"ird\name'

vscan -d db --json -z tree no-such-file
check "--json: exit status as in text mode (1)" rc_is 1

cat > "$T/check.py" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
objs = [json.loads(l) for l in lines]          # every line is one JSON value
assert all(isinstance(o, dict) for o in objs)
results = [o for o in objs if o["type"] == "result"]
summary = objs[-1]
assert summary["type"] == "summary", "summary must come last"
assert sum(1 for o in objs if o["type"] == "summary") == 1
by_path = {o["path"]: o for o in results}
e = by_path["tree/eicar.com"]
assert e["status"] == "FOUND", e
names = sorted(s["name"] for s in e["signatures"])
assert names == ["Eicar-Test-Signature.UNOFFICIAL", "Eicar.Test.Body.UNOFFICIAL"], names
for s in e["signatures"]:
    assert s["kind"] in ("body", "md5", "sha1", "sha256"), s
    assert s["database"] in ("test.hdb", "test.ndb"), s
    assert s["offset"] is None or isinstance(s["offset"], int), s
    assert s["container_path"] == ["eicar.com"], s
assert e["size"] == 68
assert by_path["tree/clean.txt"]["status"] == "OK"
assert by_path["tree/empty"]["status"] == "EMPTY"
assert by_path["tree/link"]["status"] == "SYMLINK"
assert by_path["tree/fifo"]["status"] == "SKIPPED" and by_path["tree/fifo"]["reason"] == "FIFO"
assert by_path["tree/sub/we\"ird\\name"]["status"] == "OK"
bad = [o for o in results if "path_hex" in o]
assert len(bad) == 1 and bytes.fromhex(bad[0]["path_hex"]) == b"tree/bad-\xff-name", bad
assert by_path["no-such-file"]["status"] == "ERROR"
assert "No such file" in by_path["no-such-file"]["error"]
for k in ("known_viruses", "scanned_directories", "scanned_files", "infected_files",
          "total_errors", "data_scanned_bytes", "data_read_bytes", "time_ms", "exit_code"):
    assert isinstance(summary[k], int), k
assert summary["known_viruses"] == 4
assert summary["scanned_directories"] == 2
assert summary["scanned_files"] == 4, summary
assert summary["infected_files"] == 1
assert summary["exit_code"] == 1
assert isinstance(summary["engine_version"], str)
assert summary["start_date"].endswith("Z") and summary["end_date"].endswith("Z")
# the order of results is the order of the text report: print the exact bytes
out = [bytes.fromhex(o["path_hex"]) if "path_hex" in o else o["path"].encode() for o in results]
sys.stdout.buffer.write(b"".join(p + b"\n" for p in out))
PY
check "--json: every line parses; fields as documented" eval \
	'/usr/bin/env python3 "$T/check.py" "$T/out" > /dev/null'

# Same paths in the same order as the text report (the text report shows no
# line for the FIFO and the missing file: those are on stderr).
/usr/bin/env python3 "$T/check.py" "$T/out" > "$T/json.paths" 2>/dev/null
vscan -d db -z tree no-such-file
sed -n 's/^\(.*\): \(OK\|Empty file\|Symbolic link\|.* FOUND\)$/\1/p' "$T/out" | uniq > "$T/text.paths"
check "--json: results in the same order as the text report" \
	diff -u "$T/text.paths" <(grep -a -v -x -e tree/fifo -e no-such-file "$T/json.paths")

vscan -d db --json -i tree
check "--json -i: only FOUND objects and the summary" eval \
	'/usr/bin/env python3 -c "
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert [o[\"status\"] for o in objs[:-1]] == [\"FOUND\"], objs
assert objs[-1][\"type\"] == \"summary\"
" "$T/out"'

vscan -d db --json --no-summary tree/clean.txt
check "--json --no-summary: no summary object" eval \
	'out_lines 1 && /usr/bin/env python3 -c "
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o == {\"type\": \"result\", \"path\": \"tree/clean.txt\", \"status\": \"OK\",
             \"size\": 6, \"scanned_bytes\": o[\"scanned_bytes\"]}, o
" "$T/out"'

# a match inside a container names the whole path (zip built at test time)
mkdir -p arch
/usr/bin/python3 -c "
import zipfile, sys
with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[1], 'inner/eicar.com')
" tree/eicar.com arch/eicar.zip
vscan -d db --json --no-summary arch/eicar.zip
check "--json: container_path through a zip" eval \
	'rc_is 1 && /usr/bin/env python3 -c "
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o[\"status\"] == \"FOUND\", o
assert all(s[\"container_path\"] == [\"eicar.zip\", \"inner/eicar.com\"] for s in o[\"signatures\"]), o
" "$T/out"'

"$VIGIL" scan --config-file="$T/empty.conf" -d db --json - < tree/eicar.com > "$T/out" 2> "$T/err"
RC=$?
check "--json with stdin: path 'stdin'" eval \
	'rc_is 1 && /usr/bin/env python3 -c "
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert objs[0][\"path\"] == \"stdin\" and objs[0][\"status\"] == \"FOUND\", objs
" "$T/out"'

finish
