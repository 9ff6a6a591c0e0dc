#!/bin/sh
# Cross-builds the thin client, xvds-client and xvds-greeter, for arm64
# (the Raspberry Pi's architecture) with Debian multiarch, runs their
# unit tests under qemu-user and prints what the binaries are
# (doc/thin-client.md, "The Pi's architecture").  Run as root from a
# clone; idempotent.
#
#   scripts/cross-arm64.sh [BUILD-DIR]     (default: build-arm64/)
#
# The build is `configure --host=aarch64-linux-gnu --disable-server` in
# BUILD-DIR/obj, over a copy of the tracked sources in BUILD-DIR/src (a
# tree configured in place cannot also be built out of tree).
#
# Three -dev packages cannot be installed for arm64 beside their amd64
# selves: freerdp3-dev and libevent-dev are not Multi-Arch: same, and
# libwinpr3-dev:arm64 ships a buildflags.h that differs from amd64's.
# Their arm64 runtime libraries install with apt; the -dev packages are
# downloaded and unpacked into a cache folder that only this build
# reads (XVDS_ARM64_CACHE, default /var/cache/xvds-arm64).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
build=${1:-$top/build-arm64}
cache=${XVDS_ARM64_CACHE:-/var/cache/xvds-arm64}
triplet=aarch64-linux-gnu
start=$(date +%s)
stamp() {
	echo "== cross-arm64 $(date +%H:%M:%S) (+$(($(date +%s) - start)) s) $*"
}

NATIVE_PKGS="crossbuild-essential-arm64 qemu-user-static file"
ARM64_PKGS="libssl-dev:arm64 libjansson-dev:arm64
	libsodium-dev:arm64 libcmocka-dev:arm64 zlib1g-dev:arm64
	libevent-2.1-7:arm64
	libevent-openssl-2.1-7:arm64 libfreerdp3-3:arm64
	libfreerdp-client3-3:arm64 libwinpr3-3:arm64 libgtk-3-dev:arm64"
# Multi-Arch: same packages must have one version in all architectures;
# install-deps.sh takes the amd64 Wayland libraries from backports.
BACKPORTS_ARM64_PKGS="libwayland-dev libwayland-client0 libwayland-server0
	libwayland-cursor0 libwayland-egl1"
# Each -dev package unpacked, with the library whose version it takes.
UNPACKED_DEV_PKGS="libevent-dev=libevent-2.1-7 freerdp3-dev=libfreerdp3-3
	libwinpr3-dev=libwinpr3-3"

export DEBIAN_FRONTEND=noninteractive
apt="apt-get -o DPkg::Lock::Timeout=900 -y -q"

install_packages() {
	missing=''
	for p in $BACKPORTS_ARM64_PKGS; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p:arm64" \
			2>/dev/null || true)
		[ "$st" = installed ] ||
			missing="$missing $p:arm64/bookworm-backports"
	done
	for p in $NATIVE_PKGS $ARM64_PKGS; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null ||
			true)
		[ "$st" = installed ] || missing="$missing $p"
	done
	[ -n "$missing" ] || { stamp "packages present"; return 0; }
	stamp "installing$missing"
	dpkg --print-foreign-architectures | grep -qx arm64 ||
		dpkg --add-architecture arm64
	$apt update
	# shellcheck disable=SC2086
	$apt install --no-install-recommends $missing
}

# unpack_dev PKG LIB: PKG's arm64 .deb, of the version of LIB:arm64
# installed, unpacked under $cache/root (fix_overlay then points its .pc
# files there and its .so links at the arm64 libraries).
unpack_dev() {
	ver=$(dpkg-query -W -f='${Version}' "$2:arm64")
	mark="$cache/unpacked/$1_$ver"
	[ -e "$mark" ] && return 0
	mkdir -p "$cache/debs" "$cache/unpacked"
	(cd "$cache/debs" && $apt -o APT::Sandbox::User=root \
		download "$1:arm64=$ver")
	# apt-get download spells an epoch's colon %3a.
	deb="$cache/debs/$1_$(echo "$ver" | sed 's/:/%3a/')_arm64.deb"
	dpkg-deb -x "$deb" "$cache/root"
	touch "$mark"
}

fix_overlay() {
	libdir=$cache/root/usr/lib/$triplet
	for pc in "$libdir"/pkgconfig/*.pc; do
		sed -i "s|^prefix=/usr\$|prefix=$cache/root/usr|" "$pc"
	done
	for so in "$libdir"/*.so; do
		target=$(readlink "$so")
		case $target in /*) continue ;; esac
		ln -sfn "/usr/lib/$triplet/$target" "$so"
	done
}

stamp "packages"
install_packages
for p in $UNPACKED_DEV_PKGS; do unpack_dev "${p%=*}" "${p#*=}"; done
fix_overlay

# pkg-config sees the arm64 .pc files only: the unpacked ones first.
PKG_CONFIG_LIBDIR="$cache/root/usr/lib/$triplet/pkgconfig"
PKG_CONFIG_LIBDIR="$PKG_CONFIG_LIBDIR:/usr/lib/$triplet/pkgconfig"
PKG_CONFIG_LIBDIR="$PKG_CONFIG_LIBDIR:/usr/share/pkgconfig"
export PKG_CONFIG_LIBDIR
qemu="qemu-aarch64-static"

stamp "libfreerdp3 and libwinpr3 for arm64: link and run a probe"
mkdir -p "$build"
cat >"$build/rdp-probe.c" <<'EOF'
#include <stdio.h>
#include <freerdp/freerdp.h>
#include <winpr/winpr.h>

int
main(void)
{
	printf("%s, WinPR %s\n", freerdp_get_version_string(),
	    winpr_get_version_string());
	return 0;
}
EOF
# shellcheck disable=SC2046
$triplet-gcc -o "$build/rdp-probe" "$build/rdp-probe.c" \
	$(pkg-config --cflags --libs freerdp3 winpr3)
$qemu "$build/rdp-probe"

stamp "copying the tracked sources to $build/src"
rm -rf "$build/src" "$build/obj"
mkdir -p "$build/src" "$build/obj"
git ls-files -z | xargs -0 tar cf - | tar xf - -C "$build/src"
(cd "$build/src" && autoreconf -fi >../autoreconf.log 2>&1) ||
	{ cat "$build/autoreconf.log" >&2; exit 1; }

stamp "configuring for $triplet, client only"
cd "$build/obj"
"$build/src/configure" -q --host=$triplet --disable-server --enable-werror \
	PKG_CONFIG=pkg-config \
	CPPFLAGS="-I$cache/root/usr/include/$triplet"

stamp "building"
make -s -j1

stamp "unit tests under $qemu"
# The compiled tests only: the script tests run programs themselves,
# which this machine cannot execute without binfmt_misc.
make -s -j1 check LOG_COMPILER="$qemu" SCRIPT_TESTS= || {
	find tests -name '*.log' -exec cat {} + >&2
	stamp "FAILED"
	exit 1
}

file xvds-client/xvds-client xvds-client/greeter/xvds-greeter
stamp "arm64 build and tests passed in $(( $(date +%s) - start )) s"
