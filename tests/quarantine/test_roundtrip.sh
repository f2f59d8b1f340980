#!/bin/bash
# Round trips: a file quarantined (vigil scan --move) and restored (vigil
# quarantine restore) comes back with its exact bytes and metadata -- owner,
# group, set-uid mode, atime and mtime to the nanosecond, extended
# attributes; --move=DIR and --copy=DIR keep the same; the store is
# root-only and its items are neutered; list, show, delete, purge; restore
# never replaces a file unless told to.
. "$(dirname "$0")/q_lib.sh"

make_db
Q="$T/store"
mkdir -p "$T/t/sub"
cd "$T" || exit 1
make_eicar t/a.com
make_eicar t/sub/b.com
echo "clean" > t/clean.txt
dress t/a.com
dress t/sub/b.com
before_a=$(meta t/a.com)
before_b=$(meta t/sub/b.com)
sha_a=$(printf '%s' "$before_a" | sed 's/.*sha256=\([0-9a-f]*\).*/\1/')

# --- into the store -------------------------------------------------------
vscan --move --quarantine-dir="$Q" t
check "scan --move: exit 1 (found)" rc_is 1
check "scan --move: FOUND line as clamscan" out_has "t/a.com: Eicar-Test-Signature.UNOFFICIAL FOUND"
check "scan --move: action line after it, real path shown" \
	out_matches "^t/a\\.com \\(real path: '$T/t/a\\.com'\\): moved to quarantine \\(item [0-9a-f]{32}\\)\$"
check "scan --move: clean file stays" test -f t/clean.txt
check "scan --move: originals gone" eval '[ ! -e t/a.com ] && [ ! -e t/sub/b.com ]'
check "scan --move: no hidden leftovers in the folders" \
	eval '[ -z "$(find t -name ".vigil-*")" ]'
check "scan --move: no 'Not moved' line" out_lacks "Not moved"
id_a=$(sed -n "s/^t\\/a\\.com .*(item \\([0-9a-f]*\\))\$/\\1/p" "$T/out")
id_b=$(sed -n "s/^t\\/sub\\/b\\.com .*(item \\([0-9a-f]*\\))\$/\\1/p" "$T/out")

check "store: folder is 0700" eval '[ "$(stat -c %a "$Q")" = 700 ]'
check "store: key is 0600" eval '[ "$(stat -c %a "$Q/key")" = 600 ]'
check "store: index is 0600" eval '[ "$(stat -c %a "$Q/index.sqlite")" = 600 ]'
check "store: items are 0400" eval '[ "$(stat -c %a "$Q/items/$id_a.vq")" = 400 ]'
check "store: items hold no EICAR text (neutered)" \
	eval '! grep -q -F "EICAR-STANDARD" "$Q"/items/*.vq'
vscan "$Q"
check "store: vigil finds nothing in it" eval 'grep -q "^Infected files: 0$" "$T/out"'
if command -v clamscan >/dev/null 2>&1; then
	clamscan -r -d "$T/db" "$Q" > "$T/c.out" 2>&1
	check "store: clamscan finds nothing in it" grep -q "^Infected files: 0$" "$T/c.out"
fi

vq "$Q" list
check "list: exit 0" eval '[ "$QRC" = 0 ]'
check "list: two items, one per line, id first" eval '[ "$(wc -l < "$T/qout")" = 2 ] &&
	[ "$(cut -d" " -f1 "$T/qout" | sort)" = "$(printf "%s\n" "$id_a" "$id_b" | sort)" ]'
check "list: size, detection and original path" \
	qout_matches "^$id_a  [0-9T:-]+Z  68  Eicar-Test-Signature\\.UNOFFICIAL  $T/t/a\\.com\$"

vq "$Q" show "${id_a:0:6}"
check "show (by prefix): original path" qout_matches "^original: +$T/t/a\\.com\$"
check "show: SHA-256 of the content" qout_matches "^sha256: +$sha_a\$"
check "show: mode with set-uid" eval 'is_root && grep -q "^mode: *4751 (-rwsr-x--x)$" "$T/qout" || ! is_root'
check "show: owner" eval '! is_root || grep -q "^owner: *nobody (65534)$" "$T/qout"'
check "show: the extended attribute" qout_matches "^xattr: +user\\.vigil-test \\(13 bytes\\)\$"
check "show: mtime to the nanosecond" qout_matches "^modified: +2021-02-03T04:05:06\\.987654321Z\$"
check "show: atime before the scan read it" qout_matches "^accessed: +2020-01-02T03:04:05\\.123456789Z\$"
vq "$Q" show "$id_a" --json
check "show --json: one object" eval 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"id\"]==sys.argv[2] and d[\"size\"]==68" "$T/qout" "$id_a"'

# --- restore --------------------------------------------------------------
vq "$Q" restore "$id_a"
check "restore: exit 0" eval '[ "$QRC" = 0 ]'
check "restore: says where" qout_matches "^$id_a: restored to '$T/t/a\\.com'\$"
check "restore: exact bytes and metadata" same_text "$before_a" "$(meta t/a.com)"
check "restore: item gone from the store" eval '[ ! -e "$Q/items/$id_a.vq" ] && ! store_ids "$Q" | grep -q "$id_a"'
check "restore: no notices (nothing lost)" eval '[ ! -s "$T/qerr" ]'

# Never replaces silently.
echo "a new file with the same name" > t/sub/b.com
vq "$Q" restore "$id_b" < /dev/null
check "restore onto an existing file: refused (exit 2)" eval '[ "$QRC" = 2 ]'
check "restore onto an existing file: says how to proceed" qerr_has "restore elsewhere with --to PATH, or replace it with --force"
check "restore onto an existing file: it is untouched" eval '[ "$(cat t/sub/b.com)" = "a new file with the same name" ]'
check "restore onto an existing file: item still there" eval 'store_ids "$Q" | grep -q "$id_b"'
mkdir -p "$T/elsewhere"
vq "$Q" restore "$id_b" --to "$T/elsewhere"
check "restore --to FOLDER: into it, original name" qout_matches "^$id_b: restored to '$T/elsewhere/b\\.com'\$"
check "restore --to FOLDER: exact bytes and metadata" same_text "$before_b" "$(meta "$T/elsewhere/b.com")"

# --force replaces.
vscan --move --quarantine-dir="$Q" t/a.com
id_a=$(sed -n "s/.*(item \\([0-9a-f]*\\))\$/\\1/p" "$T/out")
echo "squatter" > t/a.com
vq "$Q" restore "$id_a" --force
check "restore --force: replaces the existing file" same_text "$before_a" "$(meta t/a.com)"

# --to a new file name.
vscan --move --quarantine-dir="$Q" t/a.com
id_a=$(sed -n "s/.*(item \\([0-9a-f]*\\))\$/\\1/p" "$T/out")
vq "$Q" restore "$id_a" --to "$T/elsewhere/renamed.bin"
check "restore --to FILE: that name" same_text "$before_a" "$(meta "$T/elsewhere/renamed.bin")"

# A folder that is gone: refused with the way out.
mkdir -p "$T/gone"
make_eicar "$T/gone/x.com"
vscan --move --quarantine-dir="$Q" "$T/gone/x.com"
id_x=$(sed -n "s/.*(item \\([0-9a-f]*\\))\$/\\1/p" "$T/out")
rmdir "$T/gone"
vq "$Q" restore "$id_x"
check "restore into a folder that is gone: refused, says --to" \
	eval '[ "$QRC" = 2 ] && grep -q -- "--to PATH" "$T/qerr"'
check "restore into a folder that is gone: item kept" eval 'store_ids "$Q" | grep -q "$id_x"'

# --- delete and purge ------------------------------------------------------
vq "$Q" delete "$id_x"
check "delete: exit 0 and says so" eval '[ "$QRC" = 0 ] && grep -q "^$id_x: deleted$" "$T/qout"'
check "delete: gone from list and disk" eval '! store_ids "$Q" | grep -q "$id_x" && [ ! -e "$Q/items/$id_x.vq" ]'
vq "$Q" show "$id_x"
check "show of a deleted item: error" eval '[ "$QRC" = 2 ] && grep -q "no item" "$T/qerr"'
make_eicar t/p1.com
make_eicar t/p2.com
vscan --move --quarantine-dir="$Q" t/p1.com t/p2.com
vq "$Q" purge --older-than 1
check "purge --older-than 1: today's items stay" eval '[ "$QRC" = 0 ] && [ "$(store_ids "$Q" | wc -l)" = 2 ]'
vq "$Q" purge --older-than 0
check "purge --older-than 0: everything goes" eval '[ "$QRC" = 0 ] && [ -z "$(store_ids "$Q")" ] &&
	[ -z "$(ls "$Q/items")" ] && grep -q "^Purged 2 items" "$T/qout"'

# --- usage errors -------------------------------------------------------------
vq "$Q" restore
check "restore without an id: usage error" eval '[ "$QRC" = 2 ] && grep -q "needs an item id" "$T/qerr"'
vq "$Q" purge
check "purge without --older-than: usage error" eval '[ "$QRC" = 2 ] && grep -q -- "--older-than" "$T/qerr"'
vq "$Q" show zz
check "an id that is no id: error" eval '[ "$QRC" = 2 ] && grep -q "not an item id" "$T/qerr"'
vq "$T/no-such-store" list
check "list of a store that does not exist: empty, exit 0, nothing created" \
	eval '[ "$QRC" = 0 ] && [ ! -s "$T/qout" ] && [ ! -e "$T/no-such-store" ]'
vscan --move=dir1 --remove t/clean.txt
check "--move=DIR with --remove: refused" eval '[ "$RC" = 2 ] && grep -q "cannot be used together" "$T/err"'

# --- configuration and environment choose the store ---------------------------
make_eicar t/c.com
printf 'QuarantineDirectory %s\n' "$T/conf-store" > "$T/q.conf"
"$VIGIL" scan --config-file="$T/q.conf" -d "$T/db" --move t/c.com > "$T/out" 2>&1
check "QuarantineDirectory in vigil.conf: the store used" \
	eval '[ "$("$VIGIL" quarantine --config-file="$T/q.conf" list | wc -l)" = 1 ]'
make_eicar t/c.com
VIGIL_QUARANTINE_DIR="$T/env-store" "$VIGIL" scan --config-file="$T/empty.conf" -d "$T/db" --move t/c.com > "$T/out" 2>&1
check "VIGIL_QUARANTINE_DIR: the store used when nothing else says" \
	eval '[ "$(VIGIL_QUARANTINE_DIR="$T/env-store" "$VIGIL" quarantine --config-file="$T/empty.conf" list | wc -l)" = 1 ]'

# --- an unsafe store is refused -------------------------------------------------
chmod 755 "$Q"
make_eicar t/d.com
vscan --move --quarantine-dir="$Q" t/d.com
check "store open to others: refused before scanning (exit 2), file untouched" \
	eval '[ "$RC" = 2 ] && grep -q "open to other users" "$T/err" && [ -f t/d.com ]'
chmod 700 "$Q"

# --- a lost index is rebuilt from the item files ------------------------------------------
make_eicar t/i1.com
make_eicar t/i2.com
vscan --move --quarantine-dir="$Q" t/i1.com t/i2.com
ids_before=$(store_ids "$Q" | sort)
rm -f "$Q"/index.sqlite*
vq "$Q" list
check "index deleted: every item is indexed again from its file, and said so" eval '
	[ "$QRC" = 0 ] && [ "$(cut -d" " -f1 "$T/qout" | sort)" = "$ids_before" ] &&
	[ "$(grep -c "indexed again from its file" "$T/qerr")" = 2 ]'
vq "$Q" purge --older-than 0

# --- a bare --move followed by a folder ------------------------------------------------------
mkdir -p "$T/looks-like-a-dir"
vscan --move "$T/looks-like-a-dir" --quarantine-dir="$Q"
check "--move DIR (no '='): a notice says DIR is scanned, not the destination" \
	err_has "NOTICE: --move without '=' moves what is found into the quarantine store"

# --- JSON ---------------------------------------------------------------------------
make_eicar t/j.com
vscan --json --move --quarantine-dir="$Q" t/j.com t/clean.txt
check "--json --move: every line is JSON; an action object follows the result" python3 - "$T/out" <<'PY'
import json, sys
objs = [json.loads(line) for line in open(sys.argv[1])]
kinds = [(o["type"], o.get("status") or o.get("action")) for o in objs]
assert kinds == [("result", "FOUND"), ("action", "quarantined"), ("result", "OK"), ("summary", None)], kinds
assert len(objs[1]["id"]) == 32 and objs[1]["path"] == "t/j.com", objs[1]
assert objs[-1]["not_moved"] == 0, objs[-1]
PY

# --- --move=DIR and --copy=DIR keep metadata ----------------------------------
mkdir -p "$T/dest"
make_eicar t/m.com
dress t/m.com
before_m=$(meta t/m.com)
vscan --copy="$T/dest" t/m.com
check "--copy=DIR: line as clamscan" out_has "t/m.com (real path: '$T/t/m.com'): copied to '$T/dest/m.com'"
check "--copy=DIR: the copy keeps bytes and metadata" same_text "$before_m" "$(meta "$T/dest/m.com")"
check "--copy=DIR: the original stays" test -f t/m.com
before_m=$(meta t/m.com) # scanning and copying read it: a newer atime
vscan --move="$T/dest" t/m.com
check "--move=DIR: name taken, so .001 (as clamscan)" out_has "t/m.com (real path: '$T/t/m.com'): moved to '$T/dest/m.com.001'"
check "--move=DIR: bytes and metadata kept" same_text "$before_m" "$(meta "$T/dest/m.com.001")"
check "--move=DIR: the original is gone" test ! -e t/m.com
make_eicar t/r.com
vscan --remove t/r.com
check "--remove: line as clamscan" out_has "t/r.com (real path: '$T/t/r.com'): Removed."
check "--remove: gone" test ! -e t/r.com

finish
