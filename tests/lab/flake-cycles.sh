#!/bin/bash
# Counts the emulator's guest faults, by guest type (run in dom0 by
# scripts/lab/flake-count.sh in place of dom0-test.sh; not part of make check).
#
# Each cycle creates a PVH and a PV guest side by side (the lab's kernel,
# initramfs and xvds-guestd), waits for their boot-complete records, drives
# them the way the lab's stages do (xenstore commands: addresses, isolation
# attempts, malformed records), and shuts them down: where the emulator's
# faults were seen (at create, at boot, while running, at power-off).  A lifetime is "fault" when Xen logged a triple fault for one of the
# guest's domains, "died" when the guest vanished or stopped answering
# otherwise, else "ok".  Prints, per guest and cycle:
#   XVDS-CYCLE <n> <type> <ok|fault|died> <create->boot-complete seconds> [detail]
# (seconds after both creates returned, to a resolution of a second)
# and XVDS-LAB-DONE at the end.  The cycle count comes from the kernel
# command line (xvds.lab.cycles=N, default 30).
STAGES="cycles"
set -u
export PATH=/usr/bin:/usr/lib/xen-4.17/bin
W=/tmp/cycles
mkdir -p "$W"
cycles=$(sed -n 's/.*xvds\.lab\.cycles=\([0-9]*\).*/\1/p' /proc/cmdline)
cycles=${cycles:-30}
log() { echo "lab: $*"; }

declare -A IP=([pvh]=10.77.0.52 [pv]=10.77.0.53)
declare -A MAC=([pvh]=00:16:3e:77:00:52 [pv]=00:16:3e:77:00:53)
declare -A DOMIDS=() GONE=()

config() {
	cat <<-EOF
		name = "f-$1"
		type = "$1"
		kernel = "/lab/vmlinuz"
		ramdisk = "/lab/guest.cpio"
		extra = "console=hvc0 loglevel=4 xvds.ip=${IP[$1]}/24"
		memory = 128
		vcpus = 1
		vif = [ 'mac=${MAC[$1]},bridge=xenbr0' ]
		on_reboot = "destroy"
		on_crash = "destroy"
	EOF
}

domid_of() { xl domid "f-$1" 2>/dev/null; }
alive() { xl list "f-$1" >/dev/null 2>&1; }
note_domid() {
	local d
	d=$(domid_of "$1") && DOMIDS[$1]+=" $d"
}

# cmd TYPE SEQ COMMAND...: the lab's guest command protocol (guest-test.sh).
cmd() {
	local t=$1 seq=$2 d a end=$((SECONDS + 60))
	shift 2
	d=$(domid_of "$t") || return 1
	xenstore-write "/local/domain/$d/data/lab/cmd" "$seq $*" || return 1
	while [ $SECONDS -lt $end ]; do
		a=$(xenstore-read "/local/domain/$d/data/lab/ack" 2>/dev/null)
		[ "${a%% *}" != "$seq" ] || return 0
		alive "$t" || return 1
		sleep 0.2
	done
	return 1
}

booted() {
	local d
	d=$(domid_of "$1") || return 1
	xenstore-read "/local/domain/$d/data/xvds/boot-complete" >/dev/null 2>&1
}

# wait_boots: both guests' boot-complete records, each timed from the
# creation ($t_created).
wait_boots() {
	local t end=$((SECONDS + 240)) left=2
	while [ $left -gt 0 ]; do
		left=0
		for t in pvh pv; do
			[ -z "${GONE[$t]:-}" ] && [ -z "${BOOT[$t]:-}" ] || continue
			if booted "$t"; then
				BOOT[$t]=$((SECONDS - t_created))
			elif ! alive "$t"; then
				GONE[$t]="died before boot-complete"
			elif [ $SECONDS -ge $end ]; then
				GONE[$t]="no boot-complete in 240 s"
			else
				left=$((left + 1))
			fi
		done
		sleep 0.3
	done
}

lifetime() {
	local t=$1 i=$2 seq=0 c other
	other=$(domid_of pv)
	for c in "addr-add 10.77.0.6$([ "$t" = pvh ] && echo 2 || echo 3)/24" \
		"isolation ${other:-0}" "malformed bad-boot" "malformed bad-addr" \
		"malformed garbage" "malformed bad-prefix"; do
		seq=$((seq + 1))
		cmd "$t" "$i$seq" $c || { GONE[$t]="no answer to '$c'"; return 1; }
	done
}

declare -A BOOT=()
log "flake-cycles: $cycles cycles of a PVH and a PV guest"
for i in $(seq 1 "$cycles"); do
	xl dmesg -c >/dev/null 2>&1
	DOMIDS=([pvh]="" [pv]="") GONE=() BOOT=()
	for t in pvh pv; do
		config "$t" >"$W/$t.cfg"
		xl create -q "$W/$t.cfg" >"$W/create-$t.log" 2>&1 &
	done
	wait
	for t in pvh pv; do
		note_domid "$t" || GONE[$t]="not created: $(tail -n 2 "$W/create-$t.log" | tr '\n' ' ')"
	done
	t_created=$SECONDS
	log "cycle $i: created (domains:${DOMIDS[pvh]}${DOMIDS[pv]})"
	wait_boots
	for t in pvh pv; do
		[ -n "${GONE[$t]:-}" ] || lifetime "$t" "$i"
	done
	log "cycle $i: booted and driven"
	for t in pvh pv; do
		[ -n "${GONE[$t]:-}" ] || alive "$t" || GONE[$t]="vanished"
		alive "$t" && timeout 60 xl shutdown -w "f-$t" >/dev/null 2>&1
	done
	for t in pvh pv; do
		fault=""
		for d in ${DOMIDS[$t]}; do
			fault=$(xl dmesg 2>/dev/null | grep -a -m1 -E "d${d}v[0-9]+ Triple fault" | tr -d '\r')
			[ -z "$fault" ] || break
		done
		if [ -n "$fault" ]; then
			outcome="fault $fault"
		elif [ -n "${GONE[$t]:-}" ]; then
			outcome="died ${GONE[$t]}"
		else
			outcome=ok
		fi
		echo "XVDS-CYCLE $i $t ${outcome%% *} ${BOOT[$t]:--} ${outcome#* }" | sed 's/ ok$//'
	done
	for t in pvh pv; do xl destroy "f-$t" >/dev/null 2>&1; done
	sleep 1
done
echo "XVDS-STAGE cycles PASS $SECONDS"
echo "XVDS-LAB-DONE"
