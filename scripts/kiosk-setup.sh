#!/bin/sh
# xvds-kiosk-setup(8): turns a fresh Raspberry Pi OS or Debian install
# into an XVDS thin client.  A dedicated user is logged in on tty1 and
# starts X with xvds-greeter as its only client; no screen blanking, no
# DPMS, no suspend, no desktop environment and so no lock screen.
# Idempotent; `--undo` puts back everything it changed, from the
# manifest and backups it keeps in /var/lib/xvds-kiosk.
set -eu

prog=xvds-kiosk-setup
# Installed on a real machine; listed only with --root or --dry-run.
PACKAGES="xserver-xorg xinit x11-xserver-utils freerdp3-x11"
SLEEP_TARGETS="sleep.target suspend.target hibernate.target
hybrid-sleep.target suspend-then-hibernate.target"
KIOSK_GROUPS="video input audio render"

usage() {
	cat <<EOF
usage: $prog --broker HOST --ca FILE [--port PORT] [--user NAME]
                         [--root DIR] [--dry-run]
       $prog --undo [--root DIR] [--dry-run]
Turns this machine into an XVDS thin client (xvds-kiosk-setup(8)).
  --broker HOST  the broker's host name or address
  --port PORT    the broker's port (default 8443)
  --ca FILE      the CA certificate (PEM) that signed the broker's
  --user NAME    the kiosk's user (default xvds-kiosk)
  --root DIR     work on the tree under DIR instead of /
  --dry-run      say what would change, change nothing
  --undo         put back everything an earlier run changed
  -h, --help     this help
EOF
}

die() { echo "$prog: $*" >&2; exit 1; }
bad_usage() { echo "$prog: $*" >&2; usage >&2; exit 2; }

# --- arguments -------------------------------------------------------

broker='' port=8443 ca='' user=xvds-kiosk root=/ dry=no undo=no

need_arg() { [ "$2" -ge 2 ] || bad_usage "$1 needs a value"; }

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--broker) need_arg "$1" $#; broker=$2; shift ;;
		--port) need_arg "$1" $#; port=$2; shift ;;
		--ca) need_arg "$1" $#; ca=$2; shift ;;
		--user) need_arg "$1" $#; user=$2; shift ;;
		--root) need_arg "$1" $#; root=$2; shift ;;
		--dry-run) dry=yes ;;
		--undo) undo=yes ;;
		-h|--help) usage; exit 0 ;;
		*) bad_usage "unknown argument: $1" ;;
		esac
		shift
	done
}

check_args() {
	[ -d "$root" ] || bad_usage "--root: $root is not a directory"
	root=$(cd "$root" && pwd)
	if [ $undo = yes ]; then
		[ -z "$broker$ca" ] ||
			bad_usage "--undo takes no --broker or --ca"
		return 0
	fi
	[ -n "$broker" ] || bad_usage "--broker is required"
	[ -n "$ca" ] || bad_usage "--ca is required"
	printf '%s\n' "$broker" | grep -Eqx \
	    '[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:.]+' ||
		bad_usage "--broker: \"$broker\" is not a host name or address"
	printf '%s\n' "$port" | grep -Eqx '[1-9][0-9]{0,4}' &&
	    [ "$port" -le 65535 ] ||
		bad_usage "--port: \"$port\" is not a port (1-65535)"
	printf '%s\n' "$user" | grep -Eqx '[a-z_][a-z0-9_-]{0,30}' ||
		bad_usage "--user: \"$user\" is not a user name"
	[ -f "$ca" ] && [ -r "$ca" ] ||
		bad_usage "--ca: cannot read $ca"
	grep -q -- '-----BEGIN CERTIFICATE-----' "$ca" ||
		bad_usage "--ca: $ca holds no PEM certificate"
	if command -v openssl >/dev/null; then
		openssl x509 -noout -in "$ca" 2>/dev/null ||
			bad_usage "--ca: $ca is not a valid certificate"
	fi
}

# --- the manifest: what was written, what it replaced ----------------
#
# $state/manifest has one line per change, in order: KIND SUM PATH, where
# KIND is created (undo removes it), replaced (undo restores the copy in
# $state/backup), dir (a folder it made: undo removes it if empty) or
# home (the kiosk user's home: undo removes it and all in it).  SUM is
# what PATH held when written (see sum_of); undo leaves alone a file
# changed since.

state=/var/lib/xvds-kiosk
changes=0

sum_of() {
	if [ -L "$1" ]; then
		echo "link:$(readlink "$1")"
	elif [ -f "$1" ]; then
		sha256sum <"$1" | cut -d' ' -f1
	else
		echo -
	fi
}

manifest_has() {
	[ -f "$root$state/manifest" ] &&
	    awk -v p="$1" '$3 == p { f = 1 } END { exit !f }' \
		"$root$state/manifest"
}

# manifest_put KIND PATH: records PATH, or updates the sum of a PATH
# already recorded (its kind stays: what it replaced is backed up once).
manifest_put() {
	m=$root$state/manifest
	sum=$(sum_of "$root$2")
	if manifest_has "$2"; then
		awk -v p="$2" -v s="$sum" '$3 == p { $2 = s } { print }' \
		    "$m" >"$m.new"
		mv "$m.new" "$m"
	else
		echo "$1 $sum $2" >>"$m"
	fi
}

# make_dirs PATH: its missing parent folders, each recorded.
make_dirs() {
	missing='' dir=$(dirname "$1")
	while [ ! -d "$root$dir" ]; do
		missing="$dir $missing"
		dir=$(dirname "$dir")
	done
	for dir in $missing; do
		mkdir -m 755 "$root$dir"
		case $dir in
		"$state"|"$state"/*) ;;
		*) manifest_put dir "$dir" ;;
		esac
	done
}

# The state folder's own parents go in the manifest first.
start_state() {
	[ -d "$root$state" ] && return 0
	made='' dir=$(dirname "$state")
	while [ ! -d "$root$dir" ]; do
		made="$dir $made"
		dir=$(dirname "$dir")
	done
	for dir in $made "$state"; do mkdir -m 755 "$root$dir"; done
	chmod 700 "$root$state"
	# Undo removes the state folder itself before these.
	for dir in $made; do manifest_put dir "$dir"; done
}

say() {
	if [ $dry = yes ] && [ "$1" != unchanged ]; then
		echo "would be $1 $2"
	else
		echo "$1 $2"
	fi
}

# put PATH MODE NEWFILE: PATH gets NEWFILE's bytes (or, for MODE
# "link", becomes a symbolic link to NEWFILE's one line).
put() {
	path=$1 mode=$2 new=$3 dst=$root$1
	if [ "$mode" = link ]; then
		want="link:$(cat "$new")"
	else
		want=$(sha256sum <"$new" | cut -d' ' -f1)
	fi
	if [ "$(sum_of "$dst")" = "$want" ]; then
		say unchanged "$path"
		return 0
	fi
	changes=$((changes + 1))
	kind=created
	if [ -e "$dst" ] || [ -L "$dst" ]; then kind=replaced; fi
	say "$kind" "$path"
	[ $dry = yes ] && return 0
	start_state
	if [ $kind = replaced ] && ! manifest_has "$path"; then
		mkdir -p "$root$state/backup$(dirname "$path")"
		cp -a "$dst" "$root$state/backup$path"
	fi
	make_dirs "$path"
	install_new "$path" "$mode" "$new"
	manifest_put $kind "$path"
}

install_new() {
	dst=$root$1
	if [ "$2" = link ]; then
		ln -sfn "$(cat "$3")" "$dst.xvds-new"
		mv -T "$dst.xvds-new" "$dst"
		return 0
	fi
	cp "$3" "$dst.xvds-new"
	if [ -e "$dst" ] && [ ! -L "$dst" ]; then
		chmod --reference="$dst" "$dst.xvds-new"
		chown --reference="$dst" "$dst.xvds-new"
	else
		chmod "$2" "$dst.xvds-new"
	fi
	mv -T "$dst.xvds-new" "$dst"
}

# --- what the kiosk needs --------------------------------------------

tmp=
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }

# kiosk_id: the user's uid (and gid) if it exists, else the highest
# number in 100-999 free as both.
kiosk_id() {
	id=$(awk -F: -v u="$user" '$1 == u { print $3 }' "$root/etc/passwd")
	[ -z "$id" ] || { echo "$id"; return 0; }
	awk -F: '{ used[$3] = 1 }
	    END { for (i = 999; i >= 100; i--) if (!(i in used)) {
		print i; exit } }' "$root/etc/passwd" "$root/etc/group"
}

# add_line FILE NAME LINE: FILE with LINE appended unless an entry
# named NAME is there.
add_line() {
	cp "$root$1" "$tmp/new"
	awk -F: -v n="$2" '$1 == n { f = 1 } END { exit !f }' "$root$1" ||
		printf '%s\n' "$3" >>"$tmp/new"
	put "$1" 644 "$tmp/new"
}

# The user, its group, its home; in the groups that reach the display,
# input and sound, where they exist.
setup_user() {
	[ -f "$root/etc/passwd" ] && [ -f "$root/etc/group" ] ||
		die "$root/etc/passwd or /etc/group is missing"
	uid=$(kiosk_id)
	[ -n "$uid" ] || die "no free user id in 100-999"
	home=/home/$user
	add_line /etc/passwd "$user" \
	    "$user:x:$uid:$uid:XVDS kiosk:$home:/bin/bash"
	[ ! -f "$root/etc/shadow" ] ||
		add_line /etc/shadow "$user" "$user:!:::::::"
	[ ! -f "$root/etc/gshadow" ] ||
		add_line /etc/gshadow "$user" "$user:!::"
	awk -F: -v OFS=: -v u="$user" -v id="$uid" -v gs="$KIOSK_GROUPS" '
	    BEGIN { split(gs, g, " "); for (i in g) want[g[i]] = 1 }
	    $1 == u { own = 1 }
	    $1 in want && ("," $4 ",") !~ ("," u ",") {
		$4 = $4 == "" ? u : $4 "," u }
	    { print }
	    END { if (!own) print u, "x", id, "" }' \
	    "$root/etc/group" >"$tmp/group"
	put /etc/group 644 "$tmp/group"
	setup_home "$home" "$uid"
}

setup_home() {
	if [ -d "$root$1" ]; then
		say unchanged "$1/"
	else
		changes=$((changes + 1))
		say created "$1/"
		if [ $dry = no ]; then
			start_state
			make_dirs "$1"
			mkdir -m 750 "$root$1"
			manifest_put home "$1"
		fi
	fi
	cat >"$tmp/profile" <<'EOF'
# Written by xvds-kiosk-setup(8).  On tty1, start X with the greeter as
# its only client; when X ends, the login ends and getty logs in again.
if [ -z "${DISPLAY:-}" ] && [ "$(tty)" = /dev/tty1 ]; then
	exec startx /etc/xvds/kiosk-xinitrc -- -s 0 -dpms -nolisten tcp
fi
EOF
	put "$1/.profile" 644 "$tmp/profile"
	if [ $dry = no ] && { [ "$root" = / ] || [ "$(id -u)" = 0 ]; }; then
		chown "$2:$2" "$root$1" "$root$1/.profile"
	fi
}

setup_autologin() {
	cat >"$tmp/autologin" <<EOF
# Written by xvds-kiosk-setup(8): $user is logged in on tty1 without a
# password; its ~/.profile starts X with xvds-greeter.
[Service]
ExecStart=
ExecStart=-/sbin/agetty -o '-p -f -- \\\\u' --noclear --autologin $user - \$TERM
EOF
	put /etc/systemd/system/getty@tty1.service.d/xvds-kiosk.conf 644 \
	    "$tmp/autologin"
	# No display manager, no desktop: the console and getty only.
	echo /lib/systemd/system/multi-user.target >"$tmp/default"
	put /etc/systemd/system/default.target link "$tmp/default"
}

setup_session() {
	cat >"$tmp/xinitrc" <<'EOF'
#!/bin/sh
# Written by xvds-kiosk-setup(8): the kiosk's X session.  The screen
# never blanks and never powers down; the greeter is the only client,
# and X ends when it does.
xset s off
xset s noblank
xset -dpms
exec xvds-greeter -c /etc/xvds/greeter.conf
EOF
	put /etc/xvds/kiosk-xinitrc 755 "$tmp/xinitrc"
	cat >"$tmp/greeter" <<EOF
# Written by xvds-kiosk-setup(8): the broker xvds-greeter logs in at.
server $broker
port $port
ca-file /etc/xvds/broker-ca.pem
EOF
	put /etc/xvds/greeter.conf 644 "$tmp/greeter"
	put /etc/xvds/broker-ca.pem 644 "$ca"
}

setup_no_sleep() {
	echo /dev/null >"$tmp/mask"
	for t in $SLEEP_TARGETS; do
		put "/etc/systemd/system/$t" link "$tmp/mask"
	done
	cat >"$tmp/logind" <<'EOF'
# Written by xvds-kiosk-setup(8): a thin client never sleeps.
[Login]
HandleSuspendKey=ignore
HandleHibernateKey=ignore
HandleLidSwitch=ignore
IdleAction=ignore
EOF
	put /etc/systemd/logind.conf.d/xvds-kiosk.conf 644 "$tmp/logind"
}

# consoleblank=0 on the kernel's command line: a Raspberry Pi's
# cmdline.txt, or GRUB's through a file of its own.
setup_console() {
	for c in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
		[ -f "$root$c" ] || continue
		sed -e 's/ *consoleblank=[^ ]*//g' -e 's/$/ consoleblank=0/' \
		    -e 's/^ //' "$root$c" >"$tmp/cmdline"
		put "$c" 644 "$tmp/cmdline"
		return 0
	done
	[ -f "$root/etc/default/grub" ] || return 0
	cat >"$tmp/grub" <<'EOF'
# Written by xvds-kiosk-setup(8): the console never blanks.
GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT consoleblank=0"
EOF
	put /etc/default/grub.d/xvds-kiosk.cfg 644 "$tmp/grub"
}

install_packages() {
	if [ "$root" != / ] || [ $dry = yes ]; then
		echo "packages (not installed here): $PACKAGES;" \
		    "and xvds-greeter, xvds-client (make install)"
		return 0
	fi
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
	    -y -q install --no-install-recommends $PACKAGES
	command -v xvds-greeter >/dev/null ||
		echo "$prog: warning: xvds-greeter is not installed" >&2
}

# On the running system only: systemd and GRUB read what changed.
reload_system() {
	[ "$root" = / ] && [ $dry = no ] && [ $changes -gt 0 ] || return 0
	if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	if [ -f /etc/default/grub ] && command -v update-grub >/dev/null; then
		update-grub
	fi
}

setup() {
	install_packages
	setup_user
	setup_autologin
	setup_session
	setup_no_sleep
	setup_console
	reload_system
	if [ $changes -eq 0 ]; then
		echo "$prog: unchanged"
	elif [ $dry = yes ]; then
		echo "$prog: $changes to change (dry run: nothing changed)"
	else
		echo "$prog: $changes changed; undo with --undo"
	fi
}

# --- undo ------------------------------------------------------------

undo_entry() {
	kind=$1 sum=$2 path=$3 dst=$root$3
	case $kind in
	dir)
		if [ $dry = yes ]; then say removed "$path/"
		else rmdir "$dst" 2>/dev/null && say removed "$path/" ||
			say kept "$path/ (not empty)"; fi
		return 0 ;;
	home)
		say removed "$path/"
		[ $dry = yes ] || rm -rf "$dst"
		return 0 ;;
	esac
	if [ "$(sum_of "$dst")" != "$sum" ]; then
		echo "$prog: $path changed since it was written: left as is" >&2
		[ "$kind" = created ] ||
			echo "$prog: its original: $root$state/backup$path" >&2
		kept=yes
		return 0
	fi
	if [ "$kind" = created ]; then
		say removed "$path"
		[ $dry = yes ] || rm -f "$dst"
	else
		say restored "$path"
		[ $dry = yes ] && return 0
		cp -a "$root$state/backup$path" "$dst.xvds-new"
		mv -T "$dst.xvds-new" "$dst"
	fi
}

undo() {
	m=$root$state/manifest
	[ -f "$m" ] || { echo "$prog: nothing to undo (no $state/manifest)"
		return 0; }
	kept=no
	tac "$m" >"$tmp/entries"
	# Files first, newest first; then the folders, deepest first.
	while read -r kind sum path; do
		[ "$kind" = dir ] || undo_entry "$kind" "$sum" "$path"
	done <"$tmp/entries"
	if [ $dry = no ] && [ $kept = no ]; then
		rm -rf "$root$state"
	elif [ $dry = no ]; then
		echo "$prog: $state kept: it holds the originals above" >&2
	fi
	while read -r kind sum path; do
		[ "$kind" != dir ] || undo_entry "$kind" "$sum" "$path"
	done <"$tmp/entries"
	if [ "$root" = / ] && [ $dry = no ] && [ -d /run/systemd/system ]; then
		systemctl daemon-reload
	fi
	[ $kept = no ] || exit 1
}

main() {
	parse_args "$@"
	check_args
	tmp=$(mktemp -d /tmp/xvds-kiosk.XXXXXX)
	trap cleanup EXIT
	trap 'exit 1' HUP INT TERM
	if [ $undo = yes ]; then undo; else setup; fi
}

main "$@"
