#!/bin/sh
# The shared library may export only the public vg_* API.
set -eu
lib="${1:?usage: check-exports.sh path/to/libvigil.so}"
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^vg_' || true)
if [ -n "$bad" ]; then
	echo "check-exports: $lib exports symbols outside vg_*:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "check-exports: $lib exports $(nm -D --defined-only "$lib" | wc -l) symbols, all vg_*"
