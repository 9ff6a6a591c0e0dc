# Shared helpers of the Xen lab scripts (sourced by build-images.sh and run.sh).
# bash only.  Everything here runs on the host, never inside the lab.

# Image layout: a merged /usr like the host's, so a host path such as
# /lib/x86_64-linux-gnu/libc.so.6 and its /usr twin name the same file.
lab_mkroot() {
	local root=$1
	mkdir -p "$root"/usr/bin "$root"/usr/lib "$root"/usr/lib64 \
		"$root"/etc "$root"/dev "$root"/proc "$root"/sys "$root"/run \
		"$root"/tmp "$root"/var/log "$root"/var/lib "$root"/lab
	ln -sfn usr/bin "$root"/bin
	ln -sfn usr/bin "$root"/sbin
	ln -sfn bin "$root"/usr/sbin
	ln -sfn usr/lib "$root"/lib
	ln -sfn usr/lib64 "$root"/lib64
	# /var/run and /var/lock are where Xen's tools and scripts look.
	ln -sfn ../run "$root"/var/run
	ln -sfn ../run/lock "$root"/var/lock
}

# Where a host file goes inside an image: the host's real directory (so
# /lib/... becomes /usr/lib/...), keeping the file's own name (a soname
# symlink such as libxenlight.so.4.17 stays under that name).
lab_image_path() {
	local dir
	dir=$(readlink -f "$(dirname "$1")")
	printf '%s/%s\n' "$dir" "$(basename "$1")"
}

# lab_copy ROOT SRC [DEST]: copy a host file (dereferenced) into ROOT and
# record its checksum in $LAB_MANIFEST (when set) so the cache notices when
# the host's copy changes.  Files under $LAB_PKGROOT (the unpacked packages,
# already covered by their versions) are not recorded.
lab_copy() {
	local root=$1 src=$2 dest=${3:-}
	[ -n "$dest" ] || dest=$(lab_image_path "$src")
	[ -e "$root$dest" ] && return 0
	mkdir -p "$root$(dirname "$dest")" || return 1
	cp -L --preserve=mode "$src" "$root$dest" || return 1
	if [ -n "${LAB_MANIFEST:-}" ] && [ "${src#"${LAB_PKGROOT:-/nonexistent}"/}" = "$src" ]; then
		sha256sum "$(readlink -f "$src")" >>"$LAB_MANIFEST"
	fi
}

# lab_libs BINARY: print the shared libraries BINARY needs, as ldd on the
# host resolves them (the host has the same Xen library version as the lab).
# Fails loudly on a library ldd cannot find.
lab_libs() {
	local bin=$1 out
	# A static binary makes ldd exit 1 with "not a dynamic executable".
	if ! out=$(LC_ALL=C ldd "$bin" 2>&1); then
		case $out in
		*"not a dynamic executable"*|*"statically linked"*) return 0 ;;
		*) echo "lab: ldd $bin failed: $out" >&2; return 1 ;;
		esac
	fi
	if printf '%s\n' "$out" | grep -q 'not found'; then
		echo "lab: $bin needs libraries the host does not have:" >&2
		printf '%s\n' "$out" | grep 'not found' >&2
		return 1
	fi
	printf '%s\n' "$out" | awk '
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }'
}

# lab_install_bin ROOT SRC DEST: install an executable plus every library it
# needs.  glibc dlopens libgcc_s.so.1 (for pthread_cancel / unwinding) without
# ldd showing it; libxl programs abort without it, so it always comes along.
# Callers may use `|| die`, which switches set -e off in here: hence the
# explicit returns.
lab_install_bin() {
	local root=$1 src=$2 dest=$3 lib libs
	lab_copy "$root" "$src" "$dest" || return 1
	chmod 0755 "$root$dest" || return 1
	libs=$(lab_libs "$src") || return 1
	libs="$libs $(lab_libgcc)" || return 1
	for lib in $libs; do
		lab_copy "$root" "$lib" || return 1
	done
}

lab_libgcc() {
	local p
	for p in /lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1; do
		[ -e "$p" ] && { echo "$p"; return 0; }
	done
	echo "lab: libgcc_s.so.1 not found on the host (package libgcc-s1)" >&2
	return 1
}

# lab_busybox ROOT: busybox-static plus one symlink per applet, without
# shadowing anything already installed (bash, flock, Xen's tools).
lab_busybox() {
	local root=$1 applet
	lab_copy "$root" /usr/bin/busybox /usr/bin/busybox
	for applet in $(/usr/bin/busybox --list); do
		[ -e "$root/usr/bin/$applet" ] || [ -L "$root/usr/bin/$applet" ] ||
			ln -s busybox "$root/usr/bin/$applet"
	done
}

# lab_cpio ROOT OUT: pack ROOT as a newc cpio owned by root, gzip'd when OUT
# ends in .gz.  The kernel unpacks concatenated archives, compressed or not,
# one over the other.
lab_cpio() {
	local root=$1 out=$2 z=cat
	case $out in *.gz) z="gzip -6 -n" ;; esac
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | $z >"$out.tmp"
	mv "$out.tmp" "$out"
}

# Seconds since EPOCH_START with one decimal, for progress messages.
lab_elapsed() {
	local now=${EPOCHREALTIME/./} start=${1/./}
	local ds=$(((now - start) / 100000))
	printf '%d.%d' $((ds / 10)) $((ds % 10))
}
