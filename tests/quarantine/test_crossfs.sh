#!/bin/bash
# Across filesystems (a tmpfs mounted here): into the store and back, and
# --move=DIR both ways, keep bytes and metadata. A full disk (a small
# tmpfs) leaves the original in place with a clear error and the store
# clean. Needs permission to mount (CI runs as root); skipped otherwise.
. "$(dirname "$0")/q_lib.sh"

make_db
mount_tmpfs "$T/fs" 64m ||
	skip "mounting a tmpfs is not permitted here (run as root to test cross-filesystem moves)"
cd "$T" || exit 1
check "the tmpfs is another filesystem" eval '[ "$(stat -c %d "$T/fs")" != "$(stat -c %d "$T")" ]'

# tmpfs takes user.* attributes only from Linux 6.6: without them a copy
# there cannot keep one, and vigil must say so.
: > "$T/fs/probe"
if python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.x", b"1")' "$T/fs/probe" 2>/dev/null; then
	TMPFS_USER_XATTR=1
else
	TMPFS_USER_XATTR=0
fi
rm -f "$T/fs/probe"

mkdir -p disk "$T/fs/t" dest "$T/fs/dest"

# --- disk -> store on tmpfs -> disk ---------------------------------------------
make_eicar disk/a.com
dress disk/a.com
before=$(meta disk/a.com)
vscan --move --quarantine-dir="$T/fs/store" disk/a.com
id=$(sed -n 's/.*(item \([0-9a-f]*\))$/\1/p' "$T/out")
check "into a store on another filesystem: done" eval '[ "$RC" = 1 ] && [ -n "$id" ] && [ ! -e disk/a.com ]'
check "... the item is on the tmpfs" test -f "$T/fs/store/items/$id.vq"
vq "$T/fs/store" restore "$id"
check "... and back: exact bytes and metadata" same_text "$before" "$(meta disk/a.com)"

# --- tmpfs -> store on disk -> tmpfs ---------------------------------------------
make_eicar "$T/fs/t/b.com"
python3 -c 'import os,sys; os.setxattr(sys.argv[1], "trusted.x", b"t")' "$T/fs/t/b.com" 2>/dev/null
touch -d '2019-05-06 07:08:09.5' "$T/fs/t/b.com"
is_root && chown 65534:65534 "$T/fs/t/b.com"
before=$(meta "$T/fs/t/b.com")
vscan --move --quarantine-dir="$T/store" "$T/fs/t/b.com"
id=$(sed -n 's/.*(item \([0-9a-f]*\))$/\1/p' "$T/out")
check "from a tmpfs into a store on disk" eval '[ -n "$id" ] && [ ! -e "$T/fs/t/b.com" ]'
vq "$T/store" restore "$id"
check "... and back: exact bytes and metadata" same_text "$before" "$(meta "$T/fs/t/b.com")"

# --- a big file, both ways -------------------------------------------------------
make_big_infected disk/big.dat $((24 * 1024 * 1024 + 123))
before=$(meta disk/big.dat)
vscan --move --quarantine-dir="$T/fs/store" disk/big.dat
id=$(sed -n 's/.*(item \([0-9a-f]*\))$/\1/p' "$T/out")
vq "$T/fs/store" restore "$id"
check "24 MiB through a store on another filesystem: exact" same_text "$before" "$(meta disk/big.dat)"

# --- --move=DIR across ---------------------------------------------------------------
make_eicar disk/c.com
dress disk/c.com
before=$(meta disk/c.com)
vscan --move="$T/fs/dest" disk/c.com
check "--move=DIR onto another filesystem: the line" out_has "disk/c.com (real path: '$T/disk/c.com'): moved to '$T/fs/dest/c.com'"
check "... the original is gone" test ! -e disk/c.com
if [ "$TMPFS_USER_XATTR" = 1 ]; then
	check "... the copy keeps bytes and metadata" same_text "$before" "$(meta "$T/fs/dest/c.com")"
else
	check "... the copy keeps bytes and metadata but the user.* attribute" \
		same_text "$(printf '%s' "$before" | sed 's/user\.vigil-test=[0-9a-f]*//; s/,\]/]/; s/\[,/[/')" \
		"$(meta "$T/fs/dest/c.com" | sed 's/,\]/]/; s/\[,/[/')"
	check "... which vigil reports" err_has "could not keep extended attribute user.vigil-test"
fi
mv "$T/fs/dest/c.com" "$T/fs/t/c.com"
before=$(meta "$T/fs/t/c.com")
vscan --move="$T/dest" "$T/fs/t/c.com"
check "--move=DIR from another filesystem: exact" same_text "$before" "$(meta "$T/dest/c.com")"
check "... the original is gone" test ! -e "$T/fs/t/c.com"
make_eicar "$T/fs/t/d.com"
dress "$T/fs/t/d.com"
before=$(meta "$T/fs/t/d.com")
vscan --copy="$T/dest" "$T/fs/t/d.com"
check "--copy=DIR from another filesystem: exact, the original stays" \
	eval 'same_text "$before" "$(meta "$T/dest/d.com")" && [ -f "$T/fs/t/d.com" ]'

# --- a full disk ---------------------------------------------------------------------
mount_tmpfs "$T/small" 256k || { fail "second tmpfs"; finish; }
make_big_infected disk/full.dat $((1024 * 1024))
sum=$(sha256sum < disk/full.dat)
vscan --move --quarantine-dir="$T/small/store" disk/full.dat
check "store on a full disk: exit 1 (found), 'Not moved: 1'" eval '[ "$RC" = 1 ] && grep -q "^Not moved: 1$" "$T/out"'
check "... a clear error naming the file and the cause" \
	err_has "ERROR: Can't move file 'disk/full.dat' (real path: '$T/disk/full.dat') to quarantine: can't write '$T/small/store/tmp/"
check "... 'No space left on device', 'left in place'" \
	eval 'grep -q "No space left on device; the file was left in place$" "$T/err"'
check "... the original is intact" eval '[ "$(sha256sum < disk/full.dat)" = "$sum" ]'
check "... the store holds nothing, journal closed" eval '[ -z "$(find "$T/small/store/items" "$T/small/store/tmp" -mindepth 1)" ] &&
	[ "$(journal_rows "$T/small/store")" = 0 ] && [ -z "$(store_ids "$T/small/store")" ]'
check "... and room again (the partial copy is gone)" eval '[ "$(df --output=used -k "$T/small" | tail -1)" -lt 128 ]'

vscan --move="$T/small" disk/full.dat
check "--move=DIR onto a full disk: the original is intact, nothing left there" \
	eval '[ "$RC" = 1 ] && [ "$(sha256sum < disk/full.dat)" = "$sum" ] && [ -z "$(ls -A "$T/small" | grep -v "^store$")" ] &&
	grep -q "No space left on device; the file was left in place" "$T/err"'

vscan --move --quarantine-dir="$T/store" disk/full.dat
id=$(sed -n 's/.*(item \([0-9a-f]*\))$/\1/p' "$T/out")
vq "$T/store" restore "$id" --to "$T/small/restored.dat"
check "restore onto a full disk: refused with the cause (exit 2)" \
	eval '[ "$QRC" = 2 ] && grep -q "No space left on device" "$T/qerr"'
check "... the item stays, nothing half-written is left" \
	eval 'store_ids "$T/store" | grep -q "$id" && [ -z "$(ls -A "$T/small" | grep -v "^store$")" ] && [ "$(journal_rows "$T/store")" = 0 ]'

finish
