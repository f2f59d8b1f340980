#!/bin/bash
# Order of the system calls that make a move survive a power cut (strace):
# the original is renamed away and unlinked only after the other copy was
# written, fsync'ed, put under its final name and its folder fsync'ed (and,
# for the store, the "stored" state committed to the index); a restored file
# is in place and its folder synced before the item is deleted. A SIGKILL
# test cannot show this -- the page cache survives a killed process -- so
# the order is read from the trace instead.
. "$(dirname "$0")/q_lib.sh"

command -v strace >/dev/null 2>&1 || skip "strace is not installed"
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (no ptrace)"
make_db
Q="$T/store"
mkdir -p "$T/t" "$T/dest"
cd "$T" || exit 1
# LeakSanitizer cannot run under ptrace.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

traced() { # traced TRACE CMD...: strace the calls that matter, without pids
	local out=$1
	shift
	strace -f -y -qq -e trace=fsync,fdatasync,renameat2,renameat,rename,unlinkat,unlink,linkat \
		-o "$out.raw" "$@" > "$T/out" 2> "$T/err"
	RC=$?
	sed 's/^[0-9]* *//' "$out.raw" | grep -v '= -1 ENOENT' > "$out"
}

line_of() { # line_of TRACE EXTENDED-REGEX [AFTER]: first matching line number after AFTER
	awk -v re="$2" -v after="${3:-0}" 'NR > after && $0 ~ re { print NR; exit }' "$1"
}

in_order() { # in_order NAME=LINE...: every line found, strictly increasing
	local prev=0 pair name n
	for pair in "$@"; do
		name=${pair%%=*}
		n=${pair#*=}
		if [ -z "$n" ]; then
			echo "  step '$name' not found in the trace" >&2
			return 1
		fi
		if [ "$n" -le "$prev" ]; then
			echo "  step '$name' (line $n) is not after the previous step (line $prev)" >&2
			return 1
		fi
		prev=$n
	done
}

re_escape() { printf '%s' "$1" | sed 's/[][\.*^$/+?(){}|]/\\&/g'; }
TE=$(re_escape "$T")

# --- into the store ---------------------------------------------------------------------
make_eicar t/a.com
traced "$T/move.tr" "$VIGIL" scan --config-file="$T/empty.conf" -d "$T/db" --move --quarantine-dir="$Q" t/a.com
id=$(sed -n 's/.*(item \([0-9a-f]*\))$/\1/p' "$T/out")
check "traced move done" eval '[ "$RC" = 1 ] && [ -n "$id" ] && [ ! -e t/a.com ]'
TR="$T/move.tr"
part_sync=$(line_of "$TR" "^fsync\\([0-9]+<$TE/store/tmp/$id\\.part>\\)")
publish=$(line_of "$TR" "^renameat2\\(.*\"$id\\.part\", .*\"$id\\.vq\", RENAME_NOREPLACE\\) = 0")
items_sync=$(line_of "$TR" "^fsync\\([0-9]+<$TE/store/items>\\)" "$publish")
commit=$(line_of "$TR" "^fdatasync\\([0-9]+<$TE/store/index\\.sqlite-wal>\\)" "$items_sync")
hide=$(line_of "$TR" "^renameat2\\([0-9]+<$TE/t>, \"a\\.com\", [0-9]+<$TE/t>, \"\\.vigil-pending\\.$id\", RENAME_NOREPLACE\\) = 0")
unlink=$(line_of "$TR" "^unlinkat\\([0-9]+<$TE/t>, \"\\.vigil-pending\\.$id\", 0\\) = 0")
dir_sync=$(line_of "$TR" "^fsync\\([0-9]+<$TE/t>\\)" "$unlink")
check "store: item synced, published, folder synced, 'stored' committed, then the original renamed, unlinked, its folder synced" \
	in_order part-fsync="$part_sync" publish="$publish" items-fsync="$items_sync" \
	stored-commit="$commit" hide-original="$hide" unlink-original="$unlink" folder-fsync="$dir_sync"
check "store: the original is unlinked exactly once, by its hidden name" \
	eval '[ "$(grep -c "^unlinkat([0-9]*<$T/t>" "$TR")" = 1 ]'

# --- restore --------------------------------------------------------------------------------
traced "$T/restore.tr" "$VIGIL" quarantine --config-file="$T/empty.conf" --quarantine-dir="$Q" restore "$id"
TR="$T/restore.tr"
tmp_sync=$(line_of "$TR" "^fsync\\([0-9]+<$TE/t/\\.vigil-restore\\.$id>\\)")
place=$(line_of "$TR" "^renameat2\\([0-9]+<$TE/t>, \"\\.vigil-restore\\.$id\", [0-9]+<$TE/t>, \"a\\.com\", RENAME_NOREPLACE\\) = 0")
tdir_sync=$(line_of "$TR" "^fsync\\([0-9]+<$TE/t>\\)" "$place")
item_unlink=$(line_of "$TR" "^unlinkat\\([0-9]+<$TE/store/items>, \"$id\\.vq\", 0\\) = 0")
check "restore: file synced, put in place without replacing, folder synced, then the item deleted" \
	in_order file-fsync="$tmp_sync" place="$place" folder-fsync="$tdir_sync" delete-item="$item_unlink"

# --- --move=DIR, same filesystem: a link ---------------------------------------------------------
traced "$T/link.tr" "$VIGIL" scan --config-file="$T/empty.conf" -d "$T/db" --move="$T/dest" t/a.com
TR="$T/link.tr"
link=$(line_of "$TR" "^linkat\\(.*<$TE/dest>, \"a\\.com\", AT_SYMLINK_FOLLOW\\) = 0")
ddir_sync=$(line_of "$TR" "^fsync\\([0-9]+<$TE/dest>\\)" "$link")
unlink=$(line_of "$TR" "^unlinkat\\([0-9]+<$TE/t>, \"\\.vigil-moving\\.[0-9a-f]*\", 0\\) = 0")
check "--move=DIR (link): linked, DIR synced, then the original unlinked" \
	in_order link="$link" dir-fsync="$ddir_sync" unlink-original="$unlink"

# --- --move=DIR across filesystems: a copy ---------------------------------------------------------
if mount_tmpfs "$T/fs" 8m; then
	mv "$T/dest/a.com" t/a.com
	traced "$T/copy.tr" "$VIGIL" scan --config-file="$T/empty.conf" -d "$T/db" --move="$T/fs" t/a.com
	TR="$T/copy.tr"
	copy_sync=$(line_of "$TR" "^fsync\\([0-9]+<$TE/fs/\\.vigil-tmp\\.[0-9a-f]*>\\)")
	publish=$(line_of "$TR" "^renameat2\\([0-9]+<$TE/fs>, \"\\.vigil-tmp\\.[0-9a-f]*\", [0-9]+<$TE/fs>, \"a\\.com\", RENAME_NOREPLACE\\) = 0")
	fs_sync=$(line_of "$TR" "^fsync\\([0-9]+<$TE/fs>\\)" "$publish")
	unlink=$(line_of "$TR" "^unlinkat\\([0-9]+<$TE/t>, \"\\.vigil-moving\\.[0-9a-f]*\", 0\\) = 0")
	check "--move=DIR (copy): copy synced, named, DIR synced, then the original unlinked" \
		in_order copy-fsync="$copy_sync" publish="$publish" dir-fsync="$fs_sync" unlink-original="$unlink"
else
	echo "note: mounting a tmpfs is not permitted here; the cross-filesystem order was not traced"
fi

finish
