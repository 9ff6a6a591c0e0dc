#!/bin/sh
# The whole test suite, from a fresh clone on a fresh Debian 12 machine:
# installs what is needed, builds with -Werror, runs the unit tests once
# more under AddressSanitizer + UndefinedBehaviorSanitizer, then runs
# `make check` (unit tests, man page lint, and the Xen lab under QEMU).
# Exits non-zero if anything fails.  Run as root (the lab needs it).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
start=$(date +%s)
stamp() { echo "== $(date +%H:%M:%S) (+$(( $(date +%s) - start )) s) $*"; }

stamp "installing Debian packages"
./scripts/install-deps.sh

stamp "configuring"
autoreconf -fi >/dev/null
./configure --enable-werror -q

# Sanitizers first: CFLAGS changes do not trigger rebuilds, so each pass
# starts from `make clean`.
stamp "unit tests under ASan + UBSan"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
make -s clean
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	make -s -j2 check-unit CFLAGS="-O1 -g $san" LDFLAGS="$san"
# A pass that silently lost its flags would prove nothing.
nm tests/unit/test_report | grep -q __asan_init ||
	{ stamp "the sanitizer build is not instrumented"; exit 1; }

stamp "fuzzing the parsers of guest input (libFuzzer, ASan + UBSan)"
tests/fuzz/run.sh 20

stamp "build with -Wall -Wextra -Werror, and the whole suite"
make -s clean
make -s -j2
make -s -j2 check || { stamp "FAILED"; exit 1; }

# The Raspberry Pi's xvds-client and greeter: built for arm64 in
# build-arm64/, their unit tests run under qemu-user: 15-80 s measured.
stamp "the thin client for arm64: cross-build, unit tests under qemu-user"
./scripts/cross-arm64.sh || { stamp "FAILED (arm64)"; exit 1; }

stamp "all tests passed in $(( $(date +%s) - start )) s"
