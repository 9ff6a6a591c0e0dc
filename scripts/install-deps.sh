#!/bin/sh
# Install every Debian package that the build, the tests and the Xen lab need.
# Idempotent: apt-get skips what is already installed.  Run as root.
set -eu

# FreeRDP 3 comes from bookworm-backports (Debian 12 main has only FreeRDP
# 2, at its end of life upstream; Debian 13 and Raspberry Pi OS have 3).
# libwayland-dev comes along: backports' SDL viewer moves the Wayland
# libraries to a version main's libwayland-dev does not accept, and GTK's
# development files need libwayland-dev.
BACKPORTS_LIST=/etc/apt/sources.list.d/xvds-backports.sources
BACKPORTS_PKGS="freerdp3-dev freerdp3-x11 freerdp3-sdl freerdp3-shadow-x11
	winpr3-utils libwayland-dev"

# Build: compiler, autotools, and the libraries configure looks for.
BUILD_PKGS="build-essential autoconf automake libtool pkg-config
	libxen-dev libevent-dev libssl-dev libpq-dev
	libjansson-dev libsodium-dev libcmocka-dev libgtk-3-dev"

# Tests: man page lint, a throwaway PostgreSQL server, an RDP server on an
# X display and screenshots of it, typed keys for the greeter, clang's
# libFuzzer for the parsers of guest input.
TEST_PKGS="mandoc gnuplot-nox postgresql openssl xvfb x11-xserver-utils
	x11-apps imagemagick xdotool clang libclang-rt-14-dev"
TEST_PKGS="$TEST_PKGS crossbuild-essential-arm64 qemu-user-static file systemd"

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

# The packages not installed for this machine's architecture (or "all"):
# scripts/cross-arm64.sh adds arm64 copies of some, which dpkg-query then
# lists as well.
missing() {
	arch=$(dpkg --print-architecture)
	for p in "$@"; do
		dpkg-query -W -f='${db:Status-Status} ${Architecture}\n' "$p" \
		    2>/dev/null | grep -Eqx "installed ($arch|all)" ||
		    printf ' %s' "$p"
	done
}

if [ ! -e "$BACKPORTS_LIST" ] &&
    ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list \
    /etc/apt/sources.list.d; then
	echo "install-deps: adding bookworm-backports ($BACKPORTS_LIST)"
	cat >"$BACKPORTS_LIST" <<'EOS'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
fi

# shellcheck disable=SC2086
bp=$(missing $BACKPORTS_PKGS)
# shellcheck disable=SC2086
rest=$(missing $BUILD_PKGS $TEST_PKGS $LAB_PKGS)
if [ -z "$bp$rest" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
echo "install-deps: installing$bp$rest"
$apt update
# One transaction: the backports packages named by release, so that apt
# takes from backports only what they need and the rest from main.
# shellcheck disable=SC2086
$apt install --no-install-recommends $BUILD_PKGS $TEST_PKGS $LAB_PKGS \
	$(for p in $BACKPORTS_PKGS; do printf ' %s/bookworm-backports' "$p"; done)
echo "install-deps: done"
