# The lab's migration stages, sourced by dom0-test.sh with the xvdsd stages
# (run between xvdsd-save-crash and xvdsd-session): a second xvdsd on the
# same dom0 ("lab-b": its own state, socket, port and host-name, the same
# store and key), and the CVM moved between the two daemons on real Xen.
#
#   xvdsd-migrate        lab-01 (PV) to lab-b, non-live: ready there with the
#                        same boot, still reporting (its address reaches
#                        lab-b) and answering; lab-a keeps its pool slot away
#   xvdsd-migrate-crash  kill -9 of the receiver, then of the sender, in the
#                        middle of the stream; restarted, each reconciles:
#                        exactly one lab-01 domain, running, on lab-b
#   xvdsd-migrate-pvh    a PVH desktop (the lab's one PVH guest: template
#                        translation, boot, live migration), live, to lab-b:
#                        ready there with the same boot and answering;
#                        forgotten on lab-a
#   xvdsd-migrate-back   lab-01 (PV) home to lab-a, live; lab-b stops
#
# The lab's hypervisor has shadow paging (scripts/lab/build-xen.sh), so PV
# guests migrate live too.  Emulated SVM, which the PVH guest needs under
# QEMU's TCG, sometimes triple-faults it: xvdsd-migrate-pvh then re-creates
# it once, and says so (XVDS-RETRY); nothing else is retried.
# shellcheck shell=bash

PORT_A=8002
PORT_B=8003
MIG_KEY=/lab/migration.key
XCONF_B=/lab/xvds-b.conf
SOCK_B=/run/xvds/xvdsd-b.sock
LIVE=live-01
LIVE_IP=10.77.0.41
xvdsd_b_pid=""
MIGRATE_STAGES="xvdsd-migrate xvdsd-migrate-crash xvdsd-migrate-pvh xvdsd-migrate-back"

write_migration_key() {
	[ -s "$MIG_KEY" ] && return 0
	head -c 64 /dev/urandom >"$MIG_KEY"
	chmod 600 "$MIG_KEY"
}

# The PVH template of xvdsd-migrate-pvh; both daemons have it.
pvh_desk_template() {
	cat <<-EOF
		template "pvh-desk" {
			type pvh
			vcpus 1
			memory 128M
			kernel "/lab/vmlinuz"
			ramdisk "/lab/guest.cpio"
			cmdline "console=hvc0 loglevel=4 xvds.ip=$LIVE_IP/24"
			network bridge "xenbr0"
		}
	EOF
}

# lab-b: the same store and templates as lab-a, no pool.
write_xvds_b_conf() {
	cat >"$XCONF_B" <<-EOF
		host-name lab-b
		migration {
			listen 127.0.0.1 port $PORT_B
			key-file "$MIG_KEY"
		}
		state-dir "/var/lib/xvds-b"
		control-socket "$SOCK_B"
		store "$XSTORE"
		sample-interval 1s
		boot-timeout $((120 * LAB_SLACK))s
		shutdown-timeout 20s
		session-grace 3s
	EOF
	{ cvm_desk_template; pvh_desk_template; } >>"$XCONF_B"
}

start_xvdsd_b() {
	$XVDSD -d -vv -f "$XCONF_B" > >(stamp >>"$W/xvdsd-b.log") 2>&1 &
	xvdsd_b_pid=$!
	wait_for 120 b_answers
}
b_answers() { $XVDSCTL -s "$SOCK_B" host info >/dev/null 2>&1; }
ctl_b() {
	echo "+ xvdsctl -s $SOCK_B $*" >>"$W/xvdsctl.out"
	$XVDSCTL -s "$SOCK_B" "$@" >>"$W/xvdsctl.out" 2>&1
}
b_field() {
	$XVDSCTL -s "$SOCK_B" vm show "$1" --json 2>>"$W/xvdsctl.err" |
		sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\}.*/\1/p" | head -n1
}
b_is() { [ "$(b_field "$1" state)" = "$2" ]; }
b_has_addr() { [ "$(b_field "$1" addr)" = "$2" ]; }
# Neither daemon lists it (vm show fails).
a_lacks() { ! $XVDSCTL vm show "$1" >/dev/null 2>&1; }
b_lacks() { ! $XVDSCTL -s "$SOCK_B" vm show "$1" >/dev/null 2>&1; }
# lab-a keeps its pool VM's slot while the VM is on lab-b.
a_away() { vm_is "$1" inactive && [ "$(vm_field "$1" moved_to)" = "127.0.0.1:$PORT_B" ]; }

# copies NAME: how many domains libxl lists under NAME or NAME--<suffix>.
copies() { copy_domids "$1" | wc -l; }
copy_domids() { $PROBE list 2>/dev/null | awk -v n="$1" '$2 == n || index($2, n "--") == 1 { print $1 }'; }
# one_copy NAME: exactly one, under its own name, running.
one_copy() {
	[ "$(copies "$1")" = 1 ] || return 1
	case $(probe_state "$1") in running|blocked) return 0 ;; esac
	return 1
}
# why_copies NAME: what libxl lists, for a failure message.
why_copies() { $PROBE list 2>/dev/null | awk -v n="$1" '$2 == n || index($2, n "--") == 1 { printf "%s(%s) ", $2, $3 }'; }

# log_count FILE PATTERN: matching lines so far (to wait for the next one).
log_count() { grep -c -E "$2" "$1" 2>/dev/null || true; }
log_grew() { [ "$(log_count "$1" "$2")" -gt "$3" ]; }

st_xvdsd_migrate() {
	local boot
	xvdsd_alive || return 1
	write_xvds_b_conf
	start_xvdsd_b || { why="lab-b's xvdsd does not answer"; return 1; }
	boot=$(vm_field $CVM boot_id)
	timed migrate ctl vm migrate $CVM 127.0.0.1:$PORT_B --non-live ||
		{ why="vm migrate failed: $(tail -n 1 "$W/xvdsctl.out")"; return 1; }
	b_is $CVM ready || { why="$CVM is '$(b_field $CVM state)' on lab-b"; return 1; }
	[ "$(b_field $CVM boot_id)" = "$boot" ] || { why="lab-b has boot '$(b_field $CVM boot_id)', was $boot"; return 1; }
	a_away $CVM || { why="lab-a shows $CVM $(vm_state $CVM), moved_to '$(vm_field $CVM moved_to)'"; return 1; }
	one_copy $CVM || { why="libxl lists: $(why_copies $CVM)"; return 1; }
	# Still running, the same boot, and reporting to its new daemon.
	[ "$(fetch "http://$CVM_IP:8080/boot-id")" = "$boot" ] ||
		{ why="the guest does not answer with boot $boot after the migration"; return 1; }
	wait_for 120 b_has_addr $CVM $CVM_IP ||
		{ why="lab-b never learned $CVM's address from its reports"; return 1; }
	note="non-live in ${BENCH[migrate]} ms; boot $boot answers, reports to lab-b"
}

# kill_mid DAEMON-PID LOG PATTERN: starts the migration of lab-01 from lab-b
# to lab-a in the background and kills the given daemon once LOG shows
# PATTERN again.  Sets mig_pid.
kill_mid() {
	local pid=$1 log=$2 pattern=$3 n
	n=$(log_count "$log" "$pattern")
	$XVDSCTL -s "$SOCK_B" vm migrate $CVM 127.0.0.1:$PORT_A --non-live \
		>>"$W/xvdsctl.out" 2>&1 &
	mig_pid=$!
	wait_for 120 log_grew "$log" "$pattern" "$n" || return 1
	sleep 0.3
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	return 0
}

st_xvdsd_migrate_crash() {
	local boot
	xvdsd_alive || return 1
	boot=$(b_field $CVM boot_id)
	# The receiver dies while the domain streams in.
	kill_mid "$xvdsd_pid" "$W/xvdsd.log" "migration from .* of $CVM: receiving" ||
		{ why="lab-a never started receiving $CVM"; return 1; }
	wait "$mig_pid" && { why="the migration succeeded with its receiver killed"; return 1; }
	wait_for 120 b_is $CVM ready || { why="lab-b: $CVM is $(b_field $CVM state) after losing its receiver"; return 1; }
	start_xvdsd || { why="lab-a does not answer after its restart"; return 1; }
	wait_for 120 one_copy $CVM || { why="after lab-a's restart libxl lists: $(why_copies $CVM)"; return 1; }
	a_away $CVM || { why="lab-a shows $CVM $(vm_state $CVM) after its restart"; return 1; }
	grep -q "$CVM: recorded incoming, migration incoming .*(reaped)" "$W/xvdsd.log" ||
		{ why="lab-a's log does not show the half-arrived copy reaped"; return 1; }
	# The sender dies while the domain streams out.
	kill_mid "$xvdsd_b_pid" "$W/xvdsd-b.log" "migrate $CVM to 127.0.0.1:$PORT_A .*: sending" ||
		{ why="lab-b never started sending $CVM"; return 1; }
	wait "$mig_pid" 2>/dev/null
	# Let the orphaned save helper notice and go; lab-a gives its copy up.
	wait_for 120 grep -q "$CVM: incoming from .* given up" "$W/xvdsd.log" ||
		{ why="lab-a did not give up the incoming copy"; return 1; }
	sleep 2
	start_xvdsd_b || { why="lab-b does not answer after its restart"; return 1; }
	wait_for 120 b_is $CVM ready || { why="lab-b: $CVM is $(b_field $CVM state) after its restart"; return 1; }
	wait_for 120 one_copy $CVM || { why="after lab-b's restart libxl lists: $(why_copies $CVM)"; return 1; }
	a_away $CVM || { why="lab-a shows $CVM $(vm_state $CVM)"; return 1; }
	[ "$(fetch "http://$CVM_IP:8080/boot-id")" = "$boot" ] ||
		{ why="the guest does not answer with boot $boot"; return 1; }
	note="receiver killed: lab-b kept it; sender killed: resumed on lab-b's restart"
}

# pvh_live_once: create and boot the PVH desktop on lab-a, migrate it live
# to lab-b, check it there, destroy it.
pvh_live_once() {
	local boot
	# Domains created from here on are this try's: one that dies while
	# "vm start" runs has no domid for vm_field to show.
	pvh_floor=$(xl list 2>/dev/null | awk 'NR > 1 { print $2 }' | sort -n | tail -n 1)
	ctl vm create $LIVE pvh-desk || { why="vm create $LIVE failed"; return 1; }
	ctl vm start $LIVE || { why="vm start $LIVE failed: $(tail -n 1 "$W/xvdsctl.out")"; return 1; }
	pvh_domids+=" $(vm_field $LIVE domid)"
	# A fresh CVM takes its clean image first (xvdsd-cvm-ready).
	wait_for 120 clean_taken $LIVE || { why="$LIVE is $(vm_state $LIVE), no clean image"; return 1; }
	pvh_domids+=" $(vm_field $LIVE domid)"
	[ "$inject" != pvh-fault ] || [ "$pvh_try" != 1 ] || {
		log "injected: destroying $LIVE's domain as the emulator would"
		xl destroy $LIVE
	}
	boot=$(vm_field $LIVE boot_id)
	timed migrate-live ctl vm migrate $LIVE 127.0.0.1:$PORT_B ||
		{ why="live vm migrate failed: $(tail -n 1 "$W/xvdsctl.out")"; return 1; }
	pvh_domids+=" $(b_field $LIVE domid)"
	b_is $LIVE ready || { why="$LIVE is '$(b_field $LIVE state)' on lab-b"; return 1; }
	a_lacks $LIVE || { why="lab-a still lists $LIVE"; return 1; }
	one_copy $LIVE || { why="libxl lists: $(why_copies $LIVE)"; return 1; }
	[ "$(fetch "http://$LIVE_IP:8080/boot-id")" = "$boot" ] ||
		{ why="the guest does not answer with boot $boot after the live migration"; return 1; }
	wait_for 180 b_has_addr $LIVE $LIVE_IP ||
		{ why="lab-b never learned $LIVE's address from its reports"; return 1; }
	note="live in ${BENCH[migrate-live]} ms; boot $boot answers at $LIVE_IP"
	ctl_b vm destroy $LIVE && ctl_b vm undefine $LIVE ||
		{ why="destroying $LIVE on lab-b failed"; return 1; }
}

# pvh_fault: Xen's triple-fault line for any domain the PVH desktop had
# (on lab-a, or lab-b's after the migration), or nothing.
pvh_fault() {
	local d f
	[ "$inject" != pvh-fault ] || [ "$pvh_try" != 1 ] || { echo "injected fault (run.sh --inject pvh-fault)"; return; }
	for d in $pvh_domids $(domids_since "${pvh_floor:-0}"); do
		case $d in "" | null) continue ;; esac
		f=$(emu_fault "$d")
		[ -z "$f" ] || { echo "$f"; return; }
	done
}
# domids_since N: the domains above N that Xen logged a triple fault for.
domids_since() {
	xl dmesg 2>/dev/null | tr -d '\r' |
		sed -n 's/.* d\([0-9][0-9]*\)v[0-9]* Triple fault.*/\1/p' |
		awk -v floor="$1" '$1 > floor' | sort -un
}

# pvh_forget: the PVH desktop gone from both daemons and from libxl, its
# half-migrated copies included; the daemons notice a domain's death in
# their own time, so it tries until both have let go.
pvh_forget() { wait_for 120 pvh_forget_once; }
pvh_forget_once() {
	local sock d
	for sock in "" "$SOCK_B"; do
		$XVDSCTL ${sock:+-s "$sock"} vm destroy $LIVE >/dev/null 2>&1
		$XVDSCTL ${sock:+-s "$sock"} vm undefine $LIVE >/dev/null 2>&1
	done
	for d in $(copy_domids $LIVE); do
		xl destroy "$d" >/dev/null 2>&1
	done
	a_lacks $LIVE && b_lacks $LIVE && no_copy $LIVE
}
no_copy() { [ "$(copies "$1")" = 0 ]; }

st_xvdsd_migrate_pvh() {
	local fault
	xvdsd_alive || return 1
	for pvh_try in 1 2; do
		pvh_domids=""
		pvh_live_once && {
			[ $pvh_try = 1 ] || note="$note; RETRIED once after: $fault"
			return 0
		}
		fault=$(pvh_fault)
		# Only the emulator's known signature is retried, and only once.
		[ -n "$fault" ] && [ $pvh_try = 1 ] || {
			[ -z "$fault" ] || why="$why (the emulator faulted the retry too: $fault)"
			return 1
		}
		# One short console line (the hvc buffer is 256 bytes).
		echo "XVDS-RETRY xvdsd-migrate-pvh the emulator killed the PVH guest (${fault:0:90}): re-creating it once"
		log "its first try had failed: $why"
		pvh_forget || { why="the faulted PVH guest would not go away: $(why_copies $LIVE)"; return 1; }
		why=""
	done
}

st_xvdsd_migrate_back() {
	local boot
	xvdsd_alive || return 1
	boot=$(b_field $CVM boot_id)
	# Live: a PV guest's log-dirty mode needs the lab's shadow paging.
	timed migrate-pv-live ctl_b vm migrate $CVM 127.0.0.1:$PORT_A ||
		{ why="live vm migrate back failed: $(tail -n 1 "$W/xvdsctl.out")"; return 1; }
	vm_is $CVM ready || { why="$CVM is $(vm_state $CVM) on lab-a"; return 1; }
	[ "$(vm_field $CVM moved_to)" = null ] || [ -z "$(vm_field $CVM moved_to)" ] ||
		{ why="lab-a still shows $CVM moved to $(vm_field $CVM moved_to)"; return 1; }
	b_lacks $CVM || { why="lab-b still lists $CVM"; return 1; }
	one_copy $CVM || { why="libxl lists: $(why_copies $CVM)"; return 1; }
	[ "$(fetch "http://$CVM_IP:8080/boot-id")" = "$boot" ] ||
		{ why="the guest does not answer with boot $boot back home"; return 1; }
	wait_for 120 vm_has_addr $CVM $CVM_IP || { why="lab-a never learned $CVM's address again"; return 1; }
	kill -TERM "$xvdsd_b_pid"
	wait "$xvdsd_b_pid" 2>/dev/null
	xvdsd_b_pid=""
	note="live in ${BENCH[migrate-pv-live]} ms; boot $boot answers"
}
vm_has_addr() { [ "$(vm_field "$1" addr)" = "$2" ]; }

run_migrate_stages() {
	run_stage xvdsd-migrate st_xvdsd_migrate
	run_stage xvdsd-migrate-crash st_xvdsd_migrate_crash
	run_stage xvdsd-migrate-pvh st_xvdsd_migrate_pvh
	run_stage xvdsd-migrate-back st_xvdsd_migrate_back
	[ -z "$xvdsd_b_pid" ] || kill -9 "$xvdsd_b_pid" 2>/dev/null
}

migrate_dump() {
	[ -s "$W/xvdsd-b.log" ] || return 0
	log "==== $W/xvdsd-b.log: lab-b (last 120 lines)"
	tail -n 120 "$W/xvdsd-b.log" | sed 's/^/lab:   | /'
}
