#!/bin/sh
# Install every Debian package that the build, the tests and the Xen lab need.
# Idempotent: apt-get skips what is already installed.  Run as root.
set -eu

# Build: compiler, autotools, and the libraries configure looks for.
BUILD_PKGS="build-essential autoconf automake libtool pkg-config
	libxen-dev libevent-dev libssl-dev libpq-dev
	freerdp2-dev libwinpr2-dev libjansson-dev libsodium-dev libcmocka-dev"

# Tests: man page lint, a throwaway PostgreSQL server, an RDP server,
# clang's libFuzzer for the parsers of guest input.
TEST_PKGS="mandoc gnuplot-nox postgresql openssl freerdp2-shadow-x11 winpr-utils xvfb clang libclang-rt-14-dev"

# Lab: the emulator and the tools that assemble its boot images.  The
# hypervisor, Xen's tools and the kernel are *not* installed here: the
# lab script downloads those packages into its cache and unpacks them.
# socat carries dom0's connections to the controller (QEMU's guestfwd).
# flex, bison and python3 build the lab's hypervisor from Debian's source
# (scripts/lab/build-xen.sh; dpkg-dev's dpkg-source unpacks it).
LAB_PKGS="qemu-system-x86 qemu-utils cpio gzip busybox-static e2fsprogs socat
	dpkg-dev flex bison python3 debootstrap"

export DEBIAN_FRONTEND=noninteractive
apt="apt-get -o DPkg::Lock::Timeout=900 -y -q"

missing=
for p in $BUILD_PKGS $TEST_PKGS $LAB_PKGS; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
echo "install-deps: installing$missing"
$apt update
# shellcheck disable=SC2086
$apt install --no-install-recommends $BUILD_PKGS $TEST_PKGS $LAB_PKGS
echo "install-deps: done"
