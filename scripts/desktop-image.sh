#!/bin/bash
# Build an XVDS Linux desktop golden image: Debian bookworm from Debian's
# archive (debootstrap), an X session on Xvfb (openbox and xterm), FreeRDP 3's
# shadow server from bookworm-backports with NLA, and xvds-guestd with the
# apply command that gives the server each one-time credential.  The result
# is a raw ext4 file system image (no partition table), the root of the
# guest: see doc/desktop-image.md.
#
# Usage: desktop-image.sh [options]
#   -o PATH        the image to write (required without --lab)
#   -s SIZE        the image's size (mkfs.ext4's units: 1G, 800M; default 1G,
#                  with --lab 640M)
#   -p PKG[,PKG]   more Debian packages to install (repeatable)
#   -g GUESTD      the xvds-guestd binary to install (default: the build
#                  tree's xvds-guestd/xvds-guestd next to this script)
#   -m MIRROR      Debian mirror (default http://deb.debian.org/debian)
#   --lab          the lab's small image: no kernel (the lab boots its own
#                  with a small initramfs), documentation and locales
#                  removed; cached under ${XVDS_LAB_CACHE:-/var/cache/xvds-lab}
#                  and rebuilt only when its inputs change; -o is optional
#   --force        rebuild the cached base even if its inputs did not change
#   -h             this help
#
# The Debian part (slow, minutes) is built once per set of inputs (this
# script, the files of scripts/desktop-image/, the packages, the mirror)
# and kept in the cache as base-<key>.ext4; xvds-guestd and its apply
# command are written into a copy of it at every run (seconds), so a
# rebuilt agent never rebuilds Debian.  Prints the image's path on stdout.
# Needs root (debootstrap, chroot), debootstrap, e2fsprogs (mkfs.ext4 -d,
# debugfs) and network access to the mirror.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
files=$here/desktop-image
CACHE=${XVDS_LAB_CACHE:-/var/cache/xvds-lab}
out="" size="" extra="" guestd="" mirror=http://deb.debian.org/debian
lab=no force=no

usage() { sed -n '9,25s/^# \{0,1\}//p' "$0" >&2; exit 2; }
say() { echo "desktop-image: $*" >&2; }
die() { echo "desktop-image: ERROR: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	-o) out=${2:?}; shift ;;
	-s) size=${2:?}; shift ;;
	-p) extra="$extra ${2//,/ }"; shift ;;
	-g) guestd=${2:?}; shift ;;
	-m) mirror=${2:?}; shift ;;
	--lab) lab=yes ;;
	--force) force=yes ;;
	-h|--help) usage ;;
	*) echo "desktop-image: unknown argument $1" >&2; usage ;;
	esac
	shift
done
[ -n "$out" ] || [ $lab = yes ] || die "-o PATH is required (or --lab)"
[ -n "$size" ] || { [ $lab = yes ] && size=640M || size=1G; }
[[ $size =~ ^[0-9]+[MG]$ ]] || die "-s $size: a number followed by M or G"
for p in $extra; do
	[[ $p =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "-p: '$p' is not a Debian package name"
done
guestd=${guestd:-$here/../xvds-guestd/xvds-guestd}
# libtool puts the real program of an uninstalled binary in .libs/.
if [ -f "$guestd" ] && head -n 40 "$guestd" | grep -aq libtool; then
	guestd="$(dirname "$guestd")/.libs/$(basename "$guestd")"
fi
[ -f "$guestd" ] && [ -x "$guestd" ] || die "$guestd: no xvds-guestd binary (build the project, or -g)"
[ "$(id -u)" = 0 ] || die "needs root (debootstrap and chroot)"
for t in debootstrap mkfs.ext4 debugfs chroot sha256sum flock; do
	command -v "$t" >/dev/null || die "$t not found (packages debootstrap, e2fsprogs)"
done

# What the guest runs.  From bookworm: X, a window manager, a terminal,
# xenstore's tools and xvds-guestd's libraries; FreeRDP 3 from backports.
PKGS="busybox xvfb x11-xserver-utils openbox xterm xenstore-utils libxenstore4
libsodium23 openssl iproute2 procps"
BACKPORTS="freerdp3-shadow-x11"
[ $lab = yes ] || PKGS="$PKGS linux-image-cloud-amd64 initramfs-tools"
PKGS="$PKGS $extra"

mkdir -p "$CACHE/desktop" 2>/dev/null && : >>"$CACHE/.desktop.lock" ||
	die "cannot write $CACHE: run as root or set XVDS_LAB_CACHE"
exec 9>>"$CACHE/.desktop.lock"
flock -x 9

key=$( { echo "$PKGS|$BACKPORTS|$mirror|$lab|$size"; cat "$0" "$files"/*; } |
	sha256sum | cut -c1-16)
base=$CACHE/desktop/base-$key.ext4
started=$SECONDS

# chroot_run ROOT CMD...: a command in the new system, with /proc and /dev.
chroot_run() {
	local root=$1
	shift
	mount -t proc proc "$root/proc"
	mount --bind /dev "$root/dev"
	local rc=0
	LC_ALL=C DEBIAN_FRONTEND=noninteractive chroot "$root" "$@" || rc=$?
	umount "$root/dev" "$root/proc"
	return $rc
}

# build_base: debootstrap, the packages, the boot files; then an ext4 image.
build_base() {
	local work=$CACHE/desktop/build.$$ root
	root=$work/root
	rm -rf "$work"
	mkdir -p "$root"
	trap 'umount "$root/dev" "$root/proc" 2>/dev/null; rm -rf "$work"' EXIT
	say "debootstrap bookworm from $mirror (minutes)"
	debootstrap --variant=minbase bookworm "$root" "$mirror" \
		>"$work/debootstrap.log" 2>&1 ||
		die "debootstrap failed: $(tail -n 5 "$work/debootstrap.log")"
	cat >"$root/etc/apt/sources.list" <<-EOF
		deb $mirror bookworm main
		deb $mirror bookworm-updates main
		deb $mirror bookworm-backports main
	EOF
	# No daemon starts inside the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	say "installing: $(echo $PKGS) and $BACKPORTS (backports)"
	# shellcheck disable=SC2086
	chroot_run "$root" sh -c "apt-get -q update &&
		apt-get -q -y install --no-install-recommends $(echo $PKGS) &&
		apt-get -q -y install --no-install-recommends -t bookworm-backports $BACKPORTS" \
		>"$work/apt.log" 2>&1 || die "apt-get in the image failed: $(tail -n 5 "$work/apt.log")"
	rm -f "$root/usr/sbin/policy-rc.d"
	install_boot_files "$root"
	[ $lab = no ] || slim "$root"
	chroot_run "$root" apt-get -q clean >/dev/null
	rm -rf "$root"/var/lib/apt/lists/*
	say "root file system: $(du -sh "$root" | cut -f1); making a $size ext4 image"
	rm -f "$work/img"
	mkfs.ext4 -q -L xvds-desktop -d "$root" "$work/img" "$size" >&2 ||
		die "mkfs.ext4 -d failed (is $size too small for $(du -sh "$root" | cut -f1)?)"
	mv "$work/img" "$base"
	rm -rf "$work"
	trap - EXIT
	# Keep only this base.
	for old in "$CACHE"/desktop/base-*.ext4; do
		[ "$old" = "$base" ] || rm -f "$old"
	done
}

# install_boot_files ROOT: busybox init and the desktop's boot scripts.
install_boot_files() {
	local root=$1
	mkdir -p "$root/etc/xvds-desktop" "$root/usr/libexec/xvds"
	install -m 0644 "$files/inittab" "$root/etc/inittab"
	for f in rcS rcK desktop guestd; do
		install -m 0755 "$files/$f" "$root/etc/xvds-desktop/$f"
	done
	install -m 0755 "$files/dhcp" "$root/etc/xvds-desktop/dhcp"
	install -m 0755 "$files/apply-credential" "$root/usr/libexec/xvds/apply-credential"
	# minbase has no init: busybox's, which also gives poweroff (a clean
	# shutdown request from dom0 needs it).
	for a in init poweroff reboot halt; do
		ln -sfn /bin/busybox "$root/sbin/$a"
	done
	echo xvds-desktop >"$root/etc/hostname"
}

# slim ROOT: what Xvfb and the lab do not need (documentation, locales,
# Mesa's hardware drivers and LLVM: Xvfb renders in software).
slim() {
	local root=$1
	rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* \
		"$root"/usr/share/info/* "$root"/usr/share/locale/*
	rm -f "$root"/usr/lib/x86_64-linux-gnu/dri/*.so \
		"$root"/usr/lib/x86_64-linux-gnu/libLLVM*
}

if [ $force = yes ] || [ ! -f "$base" ]; then
	build_base
	say "built the Debian part ($key) in $((SECONDS - started)) s"
else
	say "cached Debian part $base"
fi

# --- The agent: a copy of the base with xvds-guestd written into it ----------
if [ -z "$out" ]; then
	gkey=$(sha256sum <"$guestd" | cut -c1-16)
	out=$CACHE/desktop/desktop-$key-$gkey.ext4
	if [ -f "$out" ]; then
		echo "$out"
		exit 0
	fi
	for old in "$CACHE"/desktop/desktop-*.ext4; do
		[ -e "$old" ] && rm -f "$old"
	done
fi
tmp=$out.tmp.$$
cp --sparse=always "$base" "$tmp"
# debugfs writes a file into the image without mounting it.
debugfs -w -R "write $guestd /usr/sbin/xvds-guestd" "$tmp" >/dev/null 2>&1 &&
	debugfs -w -R "set_inode_field /usr/sbin/xvds-guestd mode 0100755" "$tmp" \
	>/dev/null 2>&1 || { rm -f "$tmp"; die "cannot write xvds-guestd into the image"; }
mv "$tmp" "$out"
say "image $out ($(du -h "$out" | cut -f1) used of $size) in $((SECONDS - started)) s"
echo "$out"
