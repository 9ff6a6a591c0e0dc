#!/bin/bash
# Build, or reuse from the cache, the lab's hypervisor: Xen 4.17 from
# Debian's own `xen` source package, configured exactly as Debian's binary
# xen-hypervisor-4.17-amd64 (its /boot/xen-4.17-amd64.config) except for
# one option, CONFIG_SHADOW_PAGING=y.
#
# Why: Debian builds Xen without shadow paging, so a PV guest cannot enable
# log-dirty mode and cannot live-migrate; only PVH/HVM guests could, and
# under QEMU's emulated SVM a PVH guest triple-faults in about one lifetime
# in five (scripts/lab/README.md, "Flakes").  With shadow paging the lab's
# migrations use PV guests, which never touch emulated SVM.
#
# Usage: build-xen.sh BINARY-DEB
#   BINARY-DEB  the xen-hypervisor-4.17-amd64 package whose config is copied
# The source is the same Debian version as BINARY-DEB when the archive
# serves it, else the newest 4.17 source it does serve (said on stderr; the
# hypervisor/tools interface does not change within 4.17.x).  Downloads go
# through apt with a private state directory in the cache: the machine's
# own apt configuration is not changed.
#
# Cache: ${XVDS_LAB_CACHE:-/var/cache/xvds-lab}/xen/<key>/xen.elf, where the
# key hashes the binary's version, the config, this script and gcc's version.  Progress goes
# to stderr; stdout gets one line: the path of xen.elf.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

CACHE=${XVDS_LAB_CACHE:-/var/cache/xvds-lab}
started=$EPOCHREALTIME
say() { echo "build-xen: $*" >&2; }
die() { echo "build-xen: ERROR: $*" >&2; exit 1; }

deb=${1:?usage: build-xen.sh BINARY-DEB}
[ -f "$deb" ] || die "$deb: no such file"
for tool in apt-get dpkg-deb dpkg-source make gcc flex bison /usr/bin/python3; do
	command -v "$tool" >/dev/null || die "$tool not found (run scripts/install-deps.sh)"
done

bin_ver=$(dpkg-deb -f "$deb" Version)
src_dir="$CACHE/xen-src"
mkdir -p "$src_dir/lists/partial" "$src_dir/archives/partial" "$CACHE/xen"

# --- Debian's config, with shadow paging ---------------------------------------
work="$CACHE/xen/tmp-build.$$"
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
dpkg-deb -x "$deb" "$work/bin"
config=$(ls "$work"/bin/boot/xen-*.config 2>/dev/null | head -n1)
[ -n "$config" ] || die "$deb has no /boot/xen-*.config"
grep -qx '# CONFIG_SHADOW_PAGING is not set' "$config" ||
	grep -qx 'CONFIG_SHADOW_PAGING=y' "$config" ||
	die "$config says nothing of CONFIG_SHADOW_PAGING"
sed 's/^# CONFIG_SHADOW_PAGING is not set$/CONFIG_SHADOW_PAGING=y/' "$config" >"$work/config"

# The key names what the build follows from; which source serves it is
# looked up only when it must be built.
key=$( { echo "$bin_ver"; cat "$work/config" "$here/build-xen.sh"; gcc --version | head -n1; } |
	sha256sum | cut -c1-16)
out="$CACHE/xen/$key"
if [ -f "$out/COMPLETE" ]; then
	say "cache hit $key ($(cat "$out/info")) in $(lab_elapsed "$started") s"
	echo "$out/xen.elf"
	exit 0
fi

# --- Which source ----------------------------------------------------------------
# The machine's own Debian archives (bookworm, -updates, -security), as
# deb-src lines in a private apt state.
apt_src=(-o "Dir::Etc::SourceList=$src_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$src_dir/lists" -o "Dir::Cache=$src_dir" -o "Dir::Cache::Archives=$src_dir/archives")
apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
	awk '$1 ~ /\/debian(-security)?\/?$/ { print "deb-src " $0 }' | sort -u >"$work/sources.list"
[ -s "$work/sources.list" ] || die "no Debian archive in apt's sources (apt-get update?)"
versions() { apt-cache "${apt_src[@]}" showsrc xen 2>/dev/null | sed -n 's/^Version: //p'; }
if ! cmp -s "$work/sources.list" "$src_dir/sources.list" || [ -z "$(versions)" ] ||
	! versions | grep -qxF "$bin_ver"; then
	cp "$work/sources.list" "$src_dir/sources.list"
	apt-get -q "${apt_src[@]}" update >&2 || die "apt-get update of the source lists failed"
fi
# A listed version is not always served (a mirror may lack the security
# archive's sources): try the binary's own first, then the newest 4.17.
candidates=$( { versions | grep -xF "$bin_ver"; versions | grep '^4\.17\.' | sort -rV; } | awk '!seen[$0]++')
[ -n "$candidates" ] || die "the archive lists no xen 4.17 source"
src_ver=""
for v in $candidates; do
	if (cd "$src_dir" && apt-get -q "${apt_src[@]}" source --download-only "xen=$v" >"$work/download.log" 2>&1); then
		src_ver=$v
		break
	fi
	say "the source of xen $v is listed but not served: $(grep -m1 '^E:' "$work/download.log")"
done
[ -n "$src_ver" ] || die "no xen 4.17 source could be downloaded"
[ "$src_ver" = "$bin_ver" ] ||
	say "NOTE: building the hypervisor from xen $src_ver (the tools are $bin_ver)"

# --- Build ---------------------------------------------------------------------------
say "building the hypervisor from xen $src_ver with shadow paging (a few minutes)"
# Debian's file names leave the epoch out.
dsc="$src_dir/xen_${src_ver#*:}.dsc"
[ -f "$dsc" ] || die "the downloaded xen $src_ver has no .dsc in $src_dir"
dpkg-source -q -x "$dsc" "$work/src" >&2 || die "dpkg-source -x $dsc failed"
cp "$work/config" "$work/src/xen/.config"
make -C "$work/src/xen" -s XEN_TARGET_ARCH=x86_64 PYTHON=/usr/bin/python3 olddefconfig >"$work/build.log" 2>&1 &&
	grep -qx 'CONFIG_SHADOW_PAGING=y' "$work/src/xen/.config" &&
	make -C "$work/src/xen" -j"$(nproc)" XEN_TARGET_ARCH=x86_64 PYTHON=/usr/bin/python3 \
		>>"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log" >&2; die "building the hypervisor failed"; }
# The config the build ended with must still be Debian's plus shadow paging.
diff <(grep '^CONFIG_' "$work/config" | sort) <(grep '^CONFIG_' "$work/src/xen/.config" | sort) \
	>"$work/config.diff" ||
	say "NOTE: olddefconfig changed Debian's config: $(tr '\n' ' ' <"$work/config.diff")"

rm -rf "$out"
mkdir -p "$out.tmp"
cp "$work/src/xen/xen" "$out.tmp/xen.elf"
cp "$work/src/xen/.config" "$out.tmp/xen.config"
echo "xen $src_ver, Debian's config of $bin_ver with CONFIG_SHADOW_PAGING=y" >"$out.tmp/info"
touch "$out.tmp/COMPLETE"
mv "$out.tmp" "$out"
# Keep only this build.
for old in "$CACHE"/xen/*; do
	[ "$old" = "$out" ] || rm -rf "$old"
done
say "built $key in $(lab_elapsed "$started") s"
echo "$out/xen.elf"
