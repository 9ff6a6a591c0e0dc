#!/bin/bash
# Build, or reuse from the cache, the Xen lab's base images:
#   xen.elf              the hypervisor, uncompressed (QEMU's -kernel boots it):
#                        Debian's, rebuilt with shadow paging (build-xen.sh)
#   vmlinuz              one Linux kernel for dom0 and the guests
#   dom0-base.cpio.gz    dom0's initramfs without the project's binaries
#   guest-base.cpio      the guests' initramfs without the project's binaries
#                        (uncompressed: libxenguest would try to gunzip a
#                        gzip'd ramdisk and fail, noisily, on the two
#                        concatenated streams a run makes of it)
#   desktop-boot.cpio    the desktop guest's boot initramfs: block and network
#                        front ends and ext4, then the desktop image
#                        (scripts/desktop-image.sh) on /dev/xvda is the root
#
# Xen, its tools and the kernel come from Debian packages fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` into the cache; nothing is
# installed on the host.  Everything else (busybox-static, bash, flock, shared
# libraries) is copied from the host.
#
# Cache: ${XVDS_LAB_CACHE:-/var/cache/xvds-lab}/images/<key>, where the key
# hashes the package versions and the lab scripts that shape the images; a
# manifest of the host files' checksums catches a changed host library.
#
# Progress goes to stderr; stdout gets one line: the image directory.
# Usage: build-images.sh [--force]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

CACHE=${XVDS_LAB_CACHE:-/var/cache/xvds-lab}
force=no
case ${1:-} in
--force) force=yes ;;
"") ;;
*) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

started=$EPOCHREALTIME
say() { echo "build-images: $*" >&2; }
die() { echo "build-images: ERROR: $*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg-deb dpkg-query cpio gzip ldd sha256sum flock; do
	command -v "$tool" >/dev/null || die "$tool not found (run scripts/install-deps.sh)"
done
[ -x /usr/bin/busybox ] || die "/usr/bin/busybox missing (package busybox-static)"
/usr/bin/busybox --list | grep -qx init || die "/usr/bin/busybox has no init applet (need busybox-static)"
command -v bash >/dev/null && command -v flock >/dev/null || die "bash and flock (util-linux) are needed"

{ mkdir -p "$CACHE/debs" "$CACHE/images" && : >>"$CACHE/.lock"; } 2>/dev/null ||
	die "cannot write the cache $CACHE: run as root or set XVDS_LAB_CACHE to a writable directory"
exec 9>>"$CACHE/.lock"
flock -x 9

# --- Which package versions -------------------------------------------------
# Xen's tools must match the libraries ldd copies from the host (libxen-dev's
# runtime libraries), and the hypervisor must match the tools: take the
# version of the host's libxenmisc4.17 when it is installed.
xen_ver=$(dpkg-query -W -f='${Version}' libxenmisc4.17 2>/dev/null || true)
if [ -z "$xen_ver" ]; then
	xen_ver=$(apt-cache policy xen-utils-4.17 | awk '/Candidate:/ { print $2 }')
	say "libxenmisc4.17 is not installed on the host; using the candidate $xen_ver"
fi
[ -n "$xen_ver" ] && [ "$xen_ver" != "(none)" ] || die "cannot resolve the Xen 4.17 version (apt-get update?)"

# linux-image-amd64 is a metapackage: the real image is its dependency.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }')
[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64's kernel package (apt-get update?)"
kver_pkg=$(apt-cache policy "$kpkg" | awk '/Candidate:/ { print $2 }')
[ -n "$kver_pkg" ] && [ "$kver_pkg" != "(none)" ] || die "no candidate version for $kpkg"

pkgs="xen-hypervisor-4.17-amd64=$xen_ver xen-utils-4.17=$xen_ver xen-utils-common=$xen_ver xenstore-utils=$xen_ver $kpkg=$kver_pkg"

# --- Download ---------------------------------------------------------------
cd "$CACHE/debs"
# apt drops privileges to _apt for downloads; let it write here.
id _apt >/dev/null 2>&1 && chown _apt "$CACHE/debs" 2>/dev/null || true
need=""
for p in $pkgs; do
	name=${p%%=*}
	ver=${p#*=}
	# Debian file names write an epoch colon as %3a.
	ls "${name}_${ver/:/%3a}_"*.deb >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
	say "apt-get download$need"
	# shellcheck disable=SC2086
	apt-get -q download $need >&2 || die "apt-get download failed (is apt's list current? apt-get update)"
fi
debfile() { ls "${1}_${2/:/%3a}_"*.deb | head -n1; }

# --- Hypervisor: Debian's, rebuilt with shadow paging (build-xen.sh) ---------
xen_elf=$("$here/build-xen.sh" "$CACHE/debs/$(debfile xen-hypervisor-4.17-amd64 "$xen_ver")") ||
	die "building the hypervisor failed"

# --- Cache key ----------------------------------------------------------------
script_files="$here/build-images.sh $here/build-xen.sh $here/lib.sh $(ls "$here"/image/* | LC_ALL=C sort)"
# shellcheck disable=SC2086
key=$( { echo "$pkgs"; uname -m; sha256sum <"$xen_elf"; cat $script_files; } | sha256sum | cut -c1-16)
out="$CACHE/images/$key"

if [ "$force" = no ] && [ -f "$out/COMPLETE" ]; then
	if (cd / && sha256sum --quiet --strict -c "$out/host-files.sha256" >/dev/null 2>&1); then
		say "cache hit $key ($pkgs) in $(lab_elapsed "$started") s"
		echo "$out"
		exit 0
	fi
	say "host files changed since $key was built: rebuilding"
fi
say "building $key from: $pkgs"

work="$CACHE/tmp-build.$$"
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pkg"
for p in $pkgs; do
	dpkg-deb -x "$(debfile "${p%%=*}" "${p#*=}")" "$work/pkg"
done
pkg="$work/pkg"
kver=$(basename "$(ls -d "$pkg"/lib/modules/*/ | head -n1)")
[ -n "$kver" ] || die "no kernel modules in $kpkg"
say "unpacked; kernel $kver, Xen $xen_ver ($(lab_elapsed "$started") s)"

stage="$work/out"
mkdir -p "$stage"
export LAB_MANIFEST="$stage/host-files.sha256" LAB_PKGROOT="$pkg"
: >"$LAB_MANIFEST"

# --- Hypervisor and kernel ---------------------------------------------------
cp "$xen_elf" "$stage/xen.elf"
cp "$pkg/boot/vmlinuz-$kver" "$stage/vmlinuz"

# --- Kernel modules ------------------------------------------------------------
# lab_modules ROOT MOD...: copy the modules and what they depend on (the
# "depends=" field of each .ko, since the package ships no modules.dep) and
# write /lib/modules/load-order, dependencies first.
lab_modules() {
	local root=$1
	shift
	mkdir -p "$root/usr/lib/modules"
	: >"$root/usr/lib/modules/load-order"
	local m
	for m in "$@"; do
		add_module "$root" "$m"
	done
}
add_module() {
	local root=$1 m=$2 ko deps d
	grep -qx "$m" "$root/usr/lib/modules/load-order" && return 0
	# Module names and file names differ only in '-' versus '_'.
	ko=$(find "$pkg/lib/modules/$kver/kernel" \( -name "$m.ko" -o -name "${m//-/_}.ko" \
		-o -name "${m//_/-}.ko" \) | head -n1)
	[ -n "$ko" ] || die "kernel module $m not found in $kpkg (compressed modules are not handled)"
	deps=$(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | head -n1)
	for d in ${deps//,/ }; do
		add_module "$root" "$d"
	done
	cp "$ko" "$root/usr/lib/modules/$m.ko"
	echo "$m" >>"$root/usr/lib/modules/load-order"
}

# --- dom0 ----------------------------------------------------------------------
d0="$work/dom0"
lab_mkroot "$d0"
xbin=/usr/lib/xen-4.17/bin
# Tools the lab's dom0 runs: xenstored/xenconsoled/xen-init-dom0 (what
# xencommons starts), xl and libxl's save helper (libxl execs it by path),
# xenconsole (xl console), and the xenstore-* utilities.
for b in xl xenstored xenconsoled xen-init-dom0 libxl-save-helper xenconsole; do
	lab_install_bin "$d0" "$pkg$xbin/$b" "$xbin/$b"
	# Debian's /usr/sbin entries go through a wrapper script; link directly.
	ln -sfn "$xbin/$b" "$d0/usr/bin/$b"
done
lab_install_bin "$d0" "$pkg/usr/bin/xenstore" /usr/bin/xenstore
for u in read write ls list rm watch exists chmod; do
	ln -sfn xenstore "$d0/usr/bin/xenstore-$u"
done
# Hotplug scripts (vif-bridge & co.) need bash and util-linux flock.
lab_install_bin "$d0" /usr/bin/bash /usr/bin/bash
lab_install_bin "$d0" /usr/bin/flock /usr/bin/flock
lab_busybox "$d0"
mkdir -p "$d0/etc/xen"
cp -a "$pkg/etc/xen/scripts" "$d0/etc/xen/"
cp "$pkg/etc/xen/xl.conf" "$d0/etc/xen/"
# virtio_pci and virtio_net: the NIC of run.sh --controller, QEMU's
# restricted user network that reaches the controller (and nothing else).
lab_modules "$d0" xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc \
	llc stp bridge xen-netback loop xen-blkback virtio_pci virtio_net \
	virtio_blk
cp "$here/image/dom0-init" "$d0/init"
chmod 0755 "$d0/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$d0/etc/passwd"
printf 'root:x:0:\n' >"$d0/etc/group"
# The guests' kernel sits in dom0's image; their initramfs comes with each run.
cp "$stage/vmlinuz" "$d0/lab/vmlinuz"

# --- guest ---------------------------------------------------------------------
g="$work/guest"
lab_mkroot "$g"
lab_busybox "$g"
lab_install_bin "$g" "$pkg/usr/bin/xenstore" /usr/bin/xenstore
for u in read write ls list rm watch exists chmod; do
	ln -sfn xenstore "$g/usr/bin/xenstore-$u"
done
lab_modules "$g" xen-netfront
mkdir -p "$g/etc/init.d"
cp "$here/image/guest-inittab" "$g/etc/inittab"
cp "$here/image/guest-rcS" "$g/etc/init.d/rcS"
cp "$here/image/guest-rcK" "$g/etc/init.d/rcK"
cp "$here/image/guest-guestd" "$g/etc/init.d/guestd"
cp "$here/image/guest-lab-test" "$g/etc/init.d/lab-test"
chmod 0755 "$g"/etc/init.d/*
ln -sfn usr/bin/busybox "$g/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$g/etc/passwd"
printf 'root:x:0:\n' >"$g/etc/group"

# --- the desktop guest's boot initramfs ----------------------------------------
db="$work/desktop-boot"
lab_mkroot "$db"
lab_busybox "$db"
# ext4 finds its checksum through the crypto API: crc32c by name.
lab_modules "$db" xen-blkfront crc32c_generic ext4 xen-netfront
cp "$here/image/desktop-boot-init" "$db/init"
chmod 0755 "$db/init"

# --- Pack ------------------------------------------------------------------------
lab_cpio "$d0" "$stage/dom0-base.cpio.gz"
lab_cpio "$g" "$stage/guest-base.cpio"
lab_cpio "$db" "$stage/desktop-boot.cpio"
sort -u -o "$LAB_MANIFEST" "$LAB_MANIFEST"
{
	echo "key=$key"
	echo "packages=$pkgs"
	echo "kernel=$kver"
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$stage/info"
touch "$stage/COMPLETE"

rm -rf "$out"
mv "$stage" "$out"
# Keep only this image set and the packages it came from.
for old in "$CACHE"/images/*; do
	[ "$old" = "$out" ] || rm -rf "$old"
done
for deb in "$CACHE"/debs/*.deb; do
	keep=no
	for p in $pkgs; do
		name=${p%%=*}
		ver=${p#*=}
		case $(basename "$deb") in "${name}_${ver/:/%3a}_"*) keep=yes ;; esac
	done
	[ $keep = yes ] || rm -f "$deb"
done

say "built $key in $(lab_elapsed "$started") s:" \
	"dom0-base $(du -h "$out/dom0-base.cpio.gz" | cut -f1)," \
	"guest-base $(du -h "$out/guest-base.cpio" | cut -f1)"
echo "$out"
