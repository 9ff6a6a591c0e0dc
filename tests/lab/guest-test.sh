#!/bin/sh
# The lab's test inside each guest (busybox sh; started once by init).
#
# Serves the guest's boot id over HTTP (dom0 checks it reached *this* guest at
# the address the probe reported), then carries out the commands dom0 writes
# into this guest's own xenstore area.  Everything it writes stays in its own
# /local/domain/<domid>/data/ (relative xenstore paths land there).
#
# Protocol: dom0 writes data/lab/cmd = "<seq> <verb> [args]"; the guest
# answers data/lab/ack = "<seq> ok|fail [detail]".  data/lab/heartbeat counts
# up every couple of seconds so dom0 can tell a live guest from one that
# stopped (an emulation flake).
# No set -e: a failed command is reported to dom0 in the ack, not fatal.
set -u
export PATH=/usr/bin
log() { echo "guest-test: $*"; }

boot=$(tr -d '-' </proc/sys/kernel/random/boot_id)
domid=$(xenstore-read domid)
mkdir -p /run/www
echo "$boot" >/run/www/boot-id
httpd -p 8080 -h /run/www || log "httpd failed to start"
log "serving boot-id $boot on port 8080 (domid $domid)"
# A stand-in for the desktop's RDP server: xvds-guestd counts connections
# to port 3389, and the lab's session stage makes one from dom0.
nc -ll -p 3389 -e cat &

# Writes a record the way a hostile or broken agent might; returns
# xenstore-write's status (xenstored itself may refuse, e.g. a value over its
# size quota).
malformed() {
	case $1 in
	bad-boot) xenstore-write data/xvds/boot-complete "v=1 boot=zz time=-5 agent=lab" ;;
	bad-version) xenstore-write data/xvds/boot-complete "v=99 boot=$boot time=$(date +%s) agent=lab" ;;
	garbage) xenstore-write data/xvds/boot-complete "hello, dom0" ;;
	too-long | oversize)
		# Valid fields in a value that is far too long: 2000 bytes fits
		# xenstored's entry size quota (2048 by default), so it reaches
		# dom0; 3000 bytes is normally refused by xenstored itself.
		size=2000
		[ "$1" = too-long ] || size=3000
		pad=$(head -c "$size" /dev/zero | tr '\0' a)
		val="v=1 boot=$boot time=$(date +%s) agent=$pad"
		xenstore-write data/xvds/boot-complete "$(echo "$val" | head -c "$size")"
		;;
	bad-addr) xenstore-write data/xvds/addrs "v=1 boot=$boot seq=999 ip=eth0,999.1.2.3/24" ;;
	bad-prefix) xenstore-write data/xvds/addrs "v=1 boot=$boot seq=1000 ip=eth0,10.77.0.99/77" ;;
	*) return 99 ;;
	esac
}

# Tries to write where a guest must not; every attempt must fail.  Results go
# to data/lab/isolation as name=status pairs.
isolation() {
	b=$1
	res=""
	try() {
		name=$1
		shift
		"$@" >/dev/null 2>&1
		res="$res $name=$?"
	}
	try b-data xenstore-write "/local/domain/$b/data/lab/intruder" "from $domid"
	try b-record xenstore-write "/local/domain/$b/data/xvds/boot-complete" \
		"v=1 boot=00000000000000000000000000000000 time=1 agent=intruder"
	try b-rm xenstore-rm "/local/domain/$b/data/xvds/addrs"
	try b-name xenstore-write "/local/domain/$b/name" intruder
	try dom0-data xenstore-write /local/domain/0/data/intruder "from $domid"
	try dom0-name xenstore-write /local/domain/0/name intruder
	try own-name xenstore-write "/local/domain/$domid/name" intruder
	try own-domid xenstore-write "/local/domain/$domid/domid" 0
	try own-chmod xenstore-chmod "/local/domain/$domid/name" "b$domid"
	try tool xenstore-write /tool/intruder "from $domid"
	xenstore-write data/lab/isolation "${res# }"
	log "isolation attempts: ${res# }"
}

handle() {
	seq=$1 verb=$2
	shift 2
	log "command $seq: $verb $*"
	case $verb in
	addr-add)
		if ip addr add "$1" dev eth0; then ack="ok"; else ack="fail ip addr add $1: $?"; fi
		;;
	isolation)
		isolation "$1"
		ack="ok"
		;;
	malformed)
		malformed "$1"
		ack="ok rc=$?"
		;;
	*) ack="fail unknown command $verb" ;;
	esac
	xenstore-write data/lab/ack "$seq $ack"
	log "command $seq: $ack"
}

xenstore-write data/lab/heartbeat 0
log "ready"
last=""
n=0
while :; do
	# Poll: cheap enough, and it survives anything a watch could miss.
	cmd=$(xenstore-read data/lab/cmd 2>/dev/null) || cmd=""
	if [ -n "$cmd" ] && [ "${cmd%% *}" != "$last" ]; then
		last=${cmd%% *}
		# shellcheck disable=SC2086
		handle $cmd
	fi
	n=$((n + 1))
	[ $((n % 8)) -ne 0 ] || xenstore-write data/lab/heartbeat $((n / 8))
	sleep 0.25
done
