#!/bin/sh
# The shared library must export exactly the public API: only vg_* symbols,
# and every function include/vigil.h declares.
set -eu
lib="${1:?usage: check-exports.sh path/to/libvigil.so [include/vigil.h]}"
header="${2:-$(dirname "$0")/../include/vigil.h}"
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
bad=$(printf '%s\n' "$exported" | grep -v '^vg_' || true)
if [ -n "$bad" ]; then
	echo "check-exports: $lib exports symbols outside vg_*:" >&2
	echo "$bad" >&2
	exit 1
fi
# function names declared in the header (typedef'd callback types excluded)
declared=$(grep -o 'vg_[a-z0-9_]*(' "$header" | tr -d '(' | grep -v '_fn$' | sort -u)
missing=$(printf '%s\n' "$declared" | while read -r f; do
	printf '%s\n' "$exported" | grep -qx "$f" || echo "$f"; done)
if [ -n "$missing" ]; then
	echo "check-exports: declared in $header but not exported by $lib:" >&2
	echo "$missing" >&2
	exit 1
fi
echo "check-exports: $lib exports $(printf '%s\n' "$exported" | wc -l) symbols, all vg_*, all declared ones present"
