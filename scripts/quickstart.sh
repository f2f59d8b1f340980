#!/bin/sh
# One command to go from a fresh Debian 12 machine to a working vigil.
#   scripts/quickstart.sh demo   install dependencies, build, install to
#                                /usr/local, scan a demo folder (EICAR inside)
#   scripts/quickstart.sh test   install dependencies (peers included), build
#                                the asan and release presets with warnings as
#                                errors and run the whole test suite on both
set -eu

cd "$(dirname "$0")/.."
mode="${1:-demo}"

if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi

BUILD_DEPS="cmake ninja-build gcc clang pkg-config libvectorscan-dev libssl-dev \
libpcre2-dev libcmocka-dev libarchive-dev libcurl4-openssl-dev libsqlite3-dev \
libseccomp-dev libxxhash-dev zlib1g-dev"
# Peers the tests compare against; their services must not start.
# python3-cryptography: an independent Ed25519 check of signed notes (tests/update)
TEST_DEPS="clamav clamav-daemon clamdscan clamav-testfiles yara python3 python3-pyclamd procps strace \
python3-cryptography"

install_packages() {
	# keep package scripts from starting clamav-daemon/freshclam
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
		$SUDO chmod 755 /usr/sbin/policy-rc.d
		trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

case "$mode" in
build-deps)
	# the build dependencies, one line (for CI scripts that install them first)
	echo $BUILD_DEPS
	;;
demo)
	# shellcheck disable=SC2086
	install_packages $BUILD_DEPS
	cmake --preset release >/dev/null
	cmake --build build/release
	$SUDO cmake --install build/release --prefix /usr/local >/dev/null
	$SUDO ldconfig
	demo="${TMPDIR:-/tmp}/vigil-demo"
	rm -rf "$demo"
	mkdir -p "$demo/docs"
	# The EICAR test file is built here, never stored in the repository.
	printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-' \
		'ANTIVIRUS-TEST-FILE!$H+H*' >"$demo/docs/eicar.com"
	echo "an ordinary text file" >"$demo/docs/readme.txt"
	echo "+ vigil scan $demo"
	set +e
	vigil scan "$demo"
	rc=$?
	set -e
	echo "(exit code $rc: 0 clean, 1 found, 2 error)"
	[ "$rc" -eq 1 ]
	;;
test)
	# shellcheck disable=SC2086
	install_packages $BUILD_DEPS $TEST_DEPS
	for preset in asan release; do
		cmake --preset "$preset" >/dev/null
		cmake --build "build/$preset"
		ctest --preset "$preset" -j2 --output-on-failure
	done
	;;
*)
	echo "usage: $0 demo|test|build-deps" >&2
	exit 2
	;;
esac
