# The lab's xvdsd stages, sourced by dom0-test.sh after its own: the host
# daemon on real Xen, driven through xvdsctl, checked from the outside with
# xvds-probe (libxl's view), xenstore and the guest's own HTTP answer.
#
#   xvdsd-start        config check (-n), daemon up, control socket answers
#   xvdsd-cvm-ready    the pool's CVM boots and is ready with its address,
#                      then takes its clean image (for fast resets)
#   xvdsd-garbage      the CVM's guest writes malformed records: each is
#                      logged as rejected, and nothing changes
#   xvdsd-host         the host's figures (RVM TCPU FCPU ACPU TMEM FMEM)
#                      and the CVM's CPU use, as sampled from libxl
#   xvdsd-credential   a one-time credential into the ready CVM's guest
#                      (xvdsctl vm credential): its apply command got the
#                      user and password (a digest checked), could read
#                      the key and not write it; the key is gone after,
#                      also when the guest fails; no log holds the password
#   xvdsd-pause        ready -> paused -> ready (libxl agrees), illegal
#                      transitions refused
#   xvdsd-save         ready -> paused -> saved (image, no domain) ->
#                      restored -> ready: the same guest (same boot id)
#   xvdsd-reset        running -> (session end) reset -> ready, the fast
#                      way: its clean image restored, the same boot as
#                      then, and what the session changed (an address) gone
#   xvdsd-restart      kill -9, start again: the domain is adopted, not
#                      started twice
#   xvdsd-save-crash   kill -9 in the middle of a save, start again: the
#                      CVM has its domain (resumed) or its whole image,
#                      never both, never neither
#   xvdsd-session      an RDP-port connection from dom0: the guest reports
#                      a session (running); it closes: after the grace
#                      time the session ends and the CVM is reset
#   xvdsd-pvm          a PVM: created, boot-complete, ready, running,
#                      session end -> shut down -> inactive, domain gone
#   xvdsd-stop         SIGTERM: the daemon exits, the CVM keeps running
# shellcheck shell=bash

XVDSD=/usr/sbin/xvdsd
XVDSCTL=/usr/sbin/xvdsctl
XCONF=/lab/xvds.conf
XSTORE=/var/lib/xvds-store
xvdsd_pid=""
CVM=lab-01
CVM_IP=10.77.0.21
PVM=alice
PVM_IP=10.77.0.31

# Request-to-ready times of each path, in ms, for the benchmark report.
declare -A BENCH=()
ms() { local us=${EPOCHREALTIME/./}; echo $((us / 1000)); }
# timed NAME COMMAND...: runs COMMAND, records its time as BENCH[NAME].
timed() {
	local name=$1 t0 rc
	shift
	t0=$(ms)
	"$@"
	rc=$?
	BENCH[$name]=$(($(ms) - t0))
	return $rc
}

# xvdsd stages that need the daemon binaries.
have_xvdsd() { [ -x "$XVDSD" ] && [ -x "$XVDSCTL" ]; }

# The daemon's guests are PV: emulated SVM (what PVH and HVM guests need
# under QEMU's TCG) sometimes triple-faults a guest (about one PVH lifetime
# in five here), and these stages boot four.  PV guests never touch it; the
# PVH path is xvdsd-migrate-pvh's (migrate-stages.sh).
# The pool's template; lab-b (migrate-stages.sh) has it too.
cvm_desk_template() {
	cat <<-EOF
		template "cvm-desk" {
			type pv
			vcpus 1
			memory 96M
			kernel "/lab/vmlinuz"
			ramdisk "/lab/guest.cpio"
			cmdline "console=hvc0 loglevel=4 xvds.ip=$CVM_IP/24"
			network bridge "xenbr0"
		}
	EOF
}

write_xvds_conf() {
	mkdir -p "$XSTORE"
	write_migration_key
	cat >"$XCONF" <<-EOF
		host-name lab-a
		migration {
			listen 127.0.0.1 port $PORT_A
			key-file "$MIG_KEY"
		}
		state-dir "/var/lib/xvds"
		control-socket "/run/xvds/xvdsd.sock"
		store "$XSTORE"
		sample-interval 1s
		boot-timeout $((120 * LAB_SLACK))s
		shutdown-timeout 20s
		session-grace 3s
$(cvm_desk_template)
		template "pvm-desk" {
			type pv
			vcpus 1
			memory 96M
			kernel "/lab/vmlinuz"
			ramdisk "/lab/guest.cpio"
			cmdline "console=hvc0 loglevel=4 xvds.ip=$PVM_IP/24"
			network bridge "xenbr0"
		}
$(pvh_desk_template)
		pool "lab" {
			template "cvm-desk"
			kind cvm
			size 1
			ready 1
		}
	EOF
}

start_xvdsd() {
	$XVDSD -d -vv -f "$XCONF" > >(stamp >>"$W/xvdsd.log") 2>&1 &
	xvdsd_pid=$!
	# Not the socket file (a killed daemon leaves it behind): an answer.
	wait_for 120 xvdsd_answers
}
xvdsd_answers() { $XVDSCTL host info >/dev/null 2>&1; }

# vm_field NAME FIELD: one member of `xvdsctl vm show NAME --json`.
vm_field() {
	$XVDSCTL vm show "$1" --json 2>>"$W/xvdsctl.err" |
		sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\}.*/\1/p" | head -n1
}
vm_state() { vm_field "$1" state; }
# vm_is NAME STATE: for wait_for, which evaluates its command each time.
vm_is() { [ "$(vm_state "$1")" = "$2" ]; }

# ctl ARGS...: xvdsctl, its output kept for the dump.
ctl() {
	echo "+ xvdsctl $*" >>"$W/xvdsctl.out"
	$XVDSCTL "$@" >>"$W/xvdsctl.out" 2>&1
}

# libxl's view of a domain, by name: its state word from xvds-probe list.
probe_state() {
	$PROBE list 2>/dev/null | awk -v n="$1" '$2 == n { print $3 }'
}

st_xvdsd_start() {
	have_xvdsd || { why="$XVDSD or $XVDSCTL not in the image"; return 1; }
	write_xvds_conf
	$XVDSD -n -f "$XCONF" >"$W/xvdsd-n.out" 2>&1 ||
		{ why="xvdsd -n refused the lab config: $(tr '\n' ' ' <"$W/xvdsd-n.out")"; return 1; }
	start_xvdsd || { why="no control socket $((120 * LAB_SLACK)) s after start"; return 1; }
	ctl host info || { why="xvdsctl host info failed"; return 1; }
	note="pid $xvdsd_pid"
}

st_xvdsd_cvm_ready() {
	wait_for 150 vm_is $CVM ready ||
		{ why="$CVM is $(vm_state $CVM), not ready, after $((150 * LAB_SLACK)) s"; return 1; }
	# Fresh from its golden image, it takes its clean image (fast resets);
	# restored from it, the guest reports its address again.
	wait_for 180 clean_taken $CVM ||
		{ why="no clean image for $CVM $((180 * LAB_SLACK)) s after it was ready ($(vm_state $CVM))"; return 1; }
	wait_for 120 vm_has_addr $CVM $CVM_IP ||
		{ why="$CVM's address is '$(vm_field $CVM addr)', not $CVM_IP"; return 1; }
	note="domid $(vm_field $CVM domid) boot $(vm_field $CVM boot_id); clean image taken"
}
# clean_taken NAME: ready again, with a whole clean image on the store.
clean_taken() { vm_is "$1" ready && [ -s "$XSTORE/clean/$1.json" ] && [ -s "$XSTORE/clean/$1.img" ]; }

st_xvdsd_garbage() {
	local domid c
	xvdsd_alive || return 1
	domid=$(vm_field $CVM domid)
	DOMID[$CVM]=$domid
	for c in bad-boot garbage bad-addr; do
		send_cmd $CVM malformed $c || { why="malformed $c: $ack"; return 1; }
	done
	wait_for 120 grep -q "$CVM: domain $domid: addrs record rejected" "$W/xvdsd.log" ||
		{ why="no rejection of the bad addrs record in xvdsd's log"; return 1; }
	[ "$(grep -c "$CVM: domain $domid: boot-complete record rejected" "$W/xvdsd.log")" -ge 2 ] ||
		{ why="the bad boot-complete records were not both logged as rejected"; return 1; }
	[ "$(vm_state $CVM)" = ready ] && [ "$(vm_field $CVM addr)" = $CVM_IP ] &&
		[ "$(vm_field $CVM domid)" = "$domid" ] ||
		{ why="$CVM changed: $(vm_state $CVM) $(vm_field $CVM addr) domain $(vm_field $CVM domid)"; return 1; }
	note="3 rejected, $CVM still ready at $CVM_IP"
}

# host_field NAME: one member of `xvdsctl host info --json`.
host_field() {
	$XVDSCTL host info --json 2>>"$W/xvdsctl.err" |
		sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\}.*/\1/p" | head -n1
}

st_xvdsd_host() {
	local hvname rvm tcpu fcpu acpu tmem fmem amem cpu
	xvdsd_alive || return 1
	# Samples every second (the lab's sample-interval): a few of them.
	sleep 3
	hvname=$(host_field hypervisor) rvm=$(host_field rvm)
	tcpu=$(host_field tcpu) fcpu=$(host_field fcpu) acpu=$(host_field acpu)
	tmem=$(host_field tmem_mib) fmem=$(host_field fmem_mib)
	amem=$(host_field amem_mib) cpu=$(vm_field $CVM cpu_pct)
	note="$hvname RVM $rvm TCPU $tcpu FCPU $fcpu ACPU $acpu TMEM $tmem FMEM $fmem; $CVM ${cpu}%"
	case $hvname in "xen 4.17"*) ;; *) why="hypervisor '$hvname'"; return 1 ;; esac
	# QEMU gives the lab 2 CPUs and 2 GiB.
	[ "$tcpu" = 200 ] || { why="TCPU $tcpu, not 200 (2 CPUs)"; return 1; }
	[ "$rvm" -ge 1 ] && [ "$acpu" -ge 100 ] && [ "$amem" -ge 96 ] ||
		{ why="RVM $rvm ACPU $acpu AMEM $amem: the CVM is not counted"; return 1; }
	[ "$tmem" -ge 1500 ] && [ "$fmem" -lt "$tmem" ] && [ "$fmem" -gt 0 ] ||
		{ why="TMEM $tmem FMEM $fmem"; return 1; }
	[ "$fcpu" -le "$tcpu" ] || { why="FCPU $fcpu above TCPU $tcpu"; return 1; }
	case $cpu in [0-9]*) ;; *) why="$CVM's cpu_pct is '$cpu'"; return 1 ;; esac
}

CRED_USER=xvds-2desk3ab
CRED_FAIL=xvds-zzzzzzzz	# the lab's apply command fails this one

# key_gone DOMID: dom0's credential key (and its directory) no longer exist.
key_gone() { ! xenstore-read "/local/domain/$1/xvds/credential" >/dev/null 2>&1 &&
	! xenstore-ls "/local/domain/$1/xvds" >/dev/null 2>&1; }

st_xvdsd_credential() {
	local domid pw sum got f
	xvdsd_alive || return 1
	domid=$(vm_field $CVM domid)
	pw=$(tr -dc 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789' \
		</dev/urandom | head -c 23)
	[ ${#pw} = 23 ] || { why="could not draw a password"; return 1; }
	sum=$(printf '%s' "$pw" | sha256sum | cut -d' ' -f1)
	xenstore-rm "/local/domain/$domid/data/lab/credential" 2>/dev/null
	timed credential ctl vm credential $CVM $CRED_USER <<<"$pw" ||
		{ why="vm credential failed: $(tail -n 1 "$W/xvdsctl.out")"; return 1; }
	got=$(xenstore-read "/local/domain/$domid/data/lab/credential" 2>/dev/null)
	[ "$got" = "user=$CRED_USER sha256=$sum read=0 write=${got##*write=}" ] ||
		{ why="the guest's apply command recorded '$got', not user $CRED_USER and the password's digest"; return 1; }
	[ "${got##*write=}" != 0 ] || { why="the guest could write dom0's credential key"; return 1; }
	key_gone "$domid" || { why="the credential key is still in xenstore after it was applied"; return 1; }
	grep -q "$CVM: credential [0-9]* for $CRED_USER: ok" "$W/xvdsd.log" ||
		{ why="xvdsd's log does not show the credential applied"; return 1; }
	grep -aq "credential [0-9]* for $CRED_USER applied" "$CONSOLE_DIR/guest-$CVM.log" ||
		{ why="the guest's console does not show xvds-guestd applying it"; return 1; }
	# The guest cannot: the request fails, and the key goes all the same.
	if ctl vm credential $CVM $CRED_FAIL <<<"$pw"; then
		why="a credential the guest failed to apply was reported applied"; return 1
	fi
	tail -n 1 "$W/xvdsctl.out" | grep -q "the guest's agent failed" ||
		{ why="no 'guest's agent failed' in: $(tail -n 1 "$W/xvdsctl.out")"; return 1; }
	key_gone "$domid" || { why="the credential key is still in xenstore after a failure"; return 1; }
	# A paused VM takes none.
	ctl vm pause $CVM || { why="vm pause failed"; return 1; }
	if ctl vm credential $CVM $CRED_USER <<<"$pw"; then
		why="a paused VM took a credential"; return 1
	fi
	ctl vm unpause $CVM || { why="vm unpause failed"; return 1; }
	for f in "$W/xvdsd.log" "$W/xvdsctl.out" "$W/xvdsctl.err" "$CONSOLE_DIR/guest-$CVM.log"; do
		[ ! -e "$f" ] || ! grep -aqF "$pw" "$f" || { why="the password is in $f"; return 1; }
	done
	note="applied in ${BENCH[credential]} ms; guest failure reported; key removed both times"
}

st_xvdsd_pause() {
	xvdsd_alive || return 1
	ctl vm pause $CVM || { why="vm pause failed"; return 1; }
	[ "$(vm_state $CVM)" = paused ] || { why="$CVM is $(vm_state $CVM) after pause"; return 1; }
	[ "$(probe_state $CVM)" = paused ] || { why="libxl says $CVM is $(probe_state $CVM)"; return 1; }
	# Refused: pausing a paused CVM; the daemon says why.
	if ctl vm pause $CVM; then why="a second pause was accepted"; return 1; fi
	tail -n 1 "$W/xvdsctl.out" | grep -q 'illegal transition' ||
		{ why="no 'illegal transition' in: $(tail -n 1 "$W/xvdsctl.out")"; return 1; }
	timed paused ctl vm unpause $CVM || { why="vm unpause failed"; return 1; }
	[ "$(vm_state $CVM)" = ready ] || { why="$CVM is $(vm_state $CVM) after unpause"; return 1; }
	case $(probe_state $CVM) in
	running|blocked) ;;
	*) why="libxl says $CVM is $(probe_state $CVM) after unpause"; return 1 ;;
	esac
}

st_xvdsd_save() {
	xvdsd_alive || return 1
	local boot before after
	boot=$(vm_field $CVM boot_id)
	ctl vm pause $CVM || { why="vm pause failed"; return 1; }
	ctl vm save $CVM || { why="vm save failed"; return 1; }
	[ "$(vm_state $CVM)" = saved ] || { why="$CVM is $(vm_state $CVM) after save"; return 1; }
	[ -s "$XSTORE/saved/$CVM.img" ] || { why="no image $XSTORE/saved/$CVM.img"; return 1; }
	note="image of $(($(stat -c %s "$XSTORE/saved/$CVM.img") / 1048576)) MiB"
	[ -z "$(probe_state $CVM)" ] || { why="libxl still lists $CVM after save"; return 1; }
	timed saved ctl vm restore $CVM || { why="vm restore failed"; return 1; }
	[ "$(vm_state $CVM)" = ready ] || { why="$CVM is $(vm_state $CVM) after restore"; return 1; }
	# The same guest, where it was: its boot id over HTTP is unchanged.
	after=$(fetch "http://$CVM_IP:8080/boot-id") ||
		{ why="no HTTP answer from $CVM_IP after restore"; return 1; }
	[ "$after" = "$boot" ] || { why="boot id $after after restore, $boot before"; return 1; }
	[ ! -e "$XSTORE/saved/$CVM.img" ] || { why="the spent image was not removed"; return 1; }
}

# fetch_once URL: the body at once, or nothing (no retries).
fetch_once() { timeout 3 wget -q -O - "$1" 2>/dev/null; }

st_xvdsd_reset() {
	xvdsd_alive || return 1
	local boot mark=10.77.0.99
	boot=$(vm_field $CVM boot_id)
	timed ready ctl vm session-start $CVM || { why="vm session-start failed"; return 1; }
	[ "$(vm_state $CVM)" = running ] || { why="$CVM is $(vm_state $CVM), not running"; return 1; }
	# The session leaves a mark in the guest's memory: one more address.
	DOMID[$CVM]=$(vm_field $CVM domid)
	send_cmd $CVM addr-add "$mark/24" || { why="addr-add: $ack"; return 1; }
	[ -n "$(fetch "http://$mark:8080/boot-id")" ] ||
		{ why="the guest does not answer at its mark $mark"; return 1; }
	timed reset ctl vm session-end $CVM || { why="vm session-end failed (the reset)"; return 1; }
	[ "$(vm_state $CVM)" = ready ] || { why="$CVM is $(vm_state $CVM) after the reset"; return 1; }
	# The fast way: its clean image, the same boot as then, no mark.
	grep -q "$CVM: resetting -> ready on done (clean image restored)" "$W/xvdsd.log" ||
		{ why="the reset was not the fast one (no clean image restored)"; return 1; }
	[ "$(vm_field $CVM boot_id)" = "$boot" ] ||
		{ why="boot id '$(vm_field $CVM boot_id)' after the reset, '$boot' in the clean image"; return 1; }
	[ "$(fetch "http://$CVM_IP:8080/boot-id")" = "$boot" ] ||
		{ why="the guest at $CVM_IP does not answer after the reset"; return 1; }
	[ -z "$(fetch_once "http://$mark:8080/boot-id")" ] ||
		{ why="the session's mark $mark survived the reset"; return 1; }
	note="fast: clean image restored, the session's mark gone"
}

# xvdsd_alive: false, and the reason logged, if the daemon has exited.
xvdsd_present() { xvdsd_alive || { lost=$why; return 1; }; }
xvdsd_alive() {
	local rc
	kill -0 "$xvdsd_pid" 2>/dev/null && return 0
	wait "$xvdsd_pid" 2>/dev/null
	rc=$?
	log "xvdsd (pid $xvdsd_pid) has exited with status $rc$([ $rc -gt 128 ] && echo " (signal $((rc - 128)))")"
	why="xvdsd exited with status $rc"
	return 1
}

st_xvdsd_restart() {
	local domid
	domid=$(vm_field $CVM domid)
	xvdsd_alive || return 1
	kill -9 "$xvdsd_pid"
	wait "$xvdsd_pid" 2>/dev/null
	start_xvdsd || { why="no control socket after the restart"; return 1; }
	[ "$(vm_state $CVM)" = ready ] || { why="$CVM is $(vm_state $CVM) after the restart"; return 1; }
	[ "$(vm_field $CVM domid)" = "$domid" ] ||
		{ why="$CVM's domid $(vm_field $CVM domid), was $domid"; return 1; }
	[ "$($PROBE list | awk -v n=$CVM '$2 == n' | wc -l)" = 1 ] ||
		{ why="libxl lists $CVM more or less than once"; return 1; }
	grep -q "$CVM: recorded ready, found its domain" "$W/xvdsd.log" ||
		{ why="the log does not show $CVM adopted"; return 1; }
	note="domain $domid adopted"
}

st_xvdsd_save_crash() {
	local domid state img=$XSTORE/saved/$CVM.img
	xvdsd_alive || return 1
	ctl vm pause $CVM || { why="vm pause failed"; return 1; }
	domid=$(vm_field $CVM domid)
	$XVDSCTL vm save $CVM >/dev/null 2>&1 &
	# A 96 MiB save takes a second or two here: cut it short early.
	sleep 0.4
	kill -9 "$xvdsd_pid"
	wait "$xvdsd_pid" 2>/dev/null
	# Let the orphaned save helper notice and go.
	sleep 3
	start_xvdsd || { why="no answer after the restart"; return 1; }
	state=$(vm_state $CVM)
	case $state in
	ready)
		[ "$(vm_field $CVM domid)" = "$domid" ] ||
			{ why="ready on domain $(vm_field $CVM domid), was $domid"; return 1; }
		[ ! -e "$img" ] && [ ! -e "$img.partial" ] ||
			{ why="ready, but an image is left on the store"; return 1; }
		[ -n "$(fetch "http://$CVM_IP:8080/boot-id")" ] ||
			{ why="ready, but the guest does not answer"; return 1; }
		note="cut short: domain $domid resumed"
		;;
	saved)
		# The suspended domain of a save that had finished is reaped.
		wait_for 120 no_domain $CVM ||
			{ why="saved, but libxl still lists $CVM"; return 1; }
		[ -s "$img" ] || { why="saved, but no image"; return 1; }
		ctl vm restore $CVM || { why="restore after the crash failed"; return 1; }
		note="the save had finished: image kept, restored"
		;;
	*)
		why="$CVM is '$state' after the restart"
		return 1
		;;
	esac
	[ "$($PROBE list | awk -v n=$CVM '$2 == n' | wc -l)" = 1 ] ||
		{ why="libxl lists $CVM more or less than once"; return 1; }
}

no_domain() { [ -z "$(probe_state "$1")" ]; }

# reset_since N: the CVM has been reset since the log counted N resets.
reset_since() { vm_is $CVM ready && log_grew "$W/xvdsd.log" "$CVM: resetting -> ready" "$1"; }

st_xvdsd_session() {
	local resets nc_pid
	xvdsd_alive || return 1
	resets=$(log_count "$W/xvdsd.log" "$CVM: resetting -> ready")
	# Holds a connection to the guest's RDP port for as long as nc lives.
	nc $CVM_IP 3389 < <(sleep 300) >/dev/null 2>&1 &
	nc_pid=$!
	wait_for 120 vm_is $CVM running || {
		why="$CVM is $(vm_state $CVM), not running, with a connection open"
		kill $nc_pid 2>/dev/null; return 1; }
	kill $nc_pid 2>/dev/null
	wait $nc_pid 2>/dev/null
	wait_for 90 reset_since "$resets" || {
		why="$CVM is $(vm_state $CVM), not reset, after the connection closed"
		return 1; }
	grep -q "$CVM: no session in the guest; ending it in 3 s" "$W/xvdsd.log" ||
		{ why="the log does not show the grace time"; return 1; }
	note="reset, ready at boot $(vm_field $CVM boot_id)"
}

st_xvdsd_pvm() {
	xvdsd_alive || return 1
	ctl vm create $PVM pvm-desk --pvm || { why="vm create failed"; return 1; }
	timed pvm-boot ctl vm start $PVM || { why="vm start failed"; return 1; }
	[ "$(vm_state $PVM)" = ready ] || { why="$PVM is $(vm_state $PVM) after start"; return 1; }
	[ "$(vm_field $PVM addr)" = $PVM_IP ] || { why="$PVM's address is '$(vm_field $PVM addr)'"; return 1; }
	if ctl vm pause $PVM; then why="a PVM was paused"; return 1; fi
	ctl vm session-start $PVM || { why="vm session-start failed"; return 1; }
	ctl vm session-end $PVM || { why="vm session-end failed (the shutdown)"; return 1; }
	[ "$(vm_state $PVM)" = inactive ] || { why="$PVM is $(vm_state $PVM) after session end"; return 1; }
	[ -z "$(probe_state $PVM)" ] || { why="libxl still lists $PVM"; return 1; }
	grep -aq 'xvds-guestd: stopping on SIGTERM' "$CONSOLE_DIR/guest-$PVM.log" ||
		{ why="$PVM's console shows no clean stop of xvds-guestd"; return 1; }
}

st_xvdsd_stop() {
	kill -TERM "$xvdsd_pid"
	wait_for 120 sh -c "! kill -0 $xvdsd_pid 2>/dev/null" ||
		{ why="xvdsd still running $((120 * LAB_SLACK)) s after SIGTERM"; return 1; }
	wait "$xvdsd_pid" 2>/dev/null
	xvdsd_pid=""
	case $(probe_state $CVM) in
	running|blocked) ;;
	*) why="$CVM is '$(probe_state $CVM)' after the daemon stopped"; return 1 ;;
	esac
	# Clean up for the domains-gone check's sake.
	xl destroy $CVM 2>/dev/null
}

# Diagnostics for dump().
xvdsd_dump() {
	local f
	if [ -s "$W/xvdsd.log" ]; then
		log "==== $W/xvdsd.log: the daemon and its VMs (last 200)"
		grep -E "xvdsd: ($CVM|$PVM|started|stopping|stopped|control: client pid [0-9]+: vm\.|domain [0-9]+: [a-z ]+: (done|failed|lost))" \
			"$W/xvdsd.log" | tail -n 200 | sed 's/^/lab:   | /'
		# libxl's own errors (a device or script that failed) scroll out
		# of the tail quickly when a domain is torn down.
		log "==== $W/xvdsd.log: libxl's errors (last 40)"
		grep -aiE 'libxl[^ ]*: .*(error|fail|timed out|unable|script)' "$W/xvdsd.log" |
			tail -n 40 | sed 's/^/lab:   | /'
		log "==== $W/xvdsd.log, all of it (last 100 lines)"
		tail -n 100 "$W/xvdsd.log" | sed 's/^/lab:   | /'
	fi
	for f in "$W/xvdsctl.out" "$W/xvdsctl.err" "$XCONF"; do
		[ -s "$f" ] || continue
		log "==== $f (last 150 lines)"
		tail -n 150 "$f" | sed 's/^/lab:   | /'
	done
}

XVDSD_STAGES="xvdsd-start xvdsd-cvm-ready xvdsd-garbage xvdsd-host xvdsd-credential xvdsd-pause xvdsd-save xvdsd-reset xvdsd-restart xvdsd-save-crash $MIGRATE_STAGES xvdsd-session xvdsd-pvm xvdsd-stop"

run_xvdsd_stages() {
	run_stage xvdsd-start st_xvdsd_start
	if [ -z "$xvdsd_pid" ]; then
		for s in ${XVDSD_STAGES#xvdsd-start }; do skip_stage "$s" "xvdsd did not start"; done
		return
	fi
	# Every later stage needs the daemon (the crash stages restart it).
	stage_needs=xvdsd_present
	run_stage xvdsd-cvm-ready st_xvdsd_cvm_ready
	run_stage xvdsd-garbage st_xvdsd_garbage
	run_stage xvdsd-host st_xvdsd_host
	run_stage xvdsd-credential st_xvdsd_credential
	run_stage xvdsd-pause st_xvdsd_pause
	run_stage xvdsd-save st_xvdsd_save
	run_stage xvdsd-reset st_xvdsd_reset
	run_stage xvdsd-restart st_xvdsd_restart
	run_stage xvdsd-save-crash st_xvdsd_save_crash
	run_migrate_stages
	run_stage xvdsd-session st_xvdsd_session
	run_stage xvdsd-pvm st_xvdsd_pvm
	run_stage xvdsd-stop st_xvdsd_stop
	stage_needs=""
	[ -z "$xvdsd_pid" ] || kill -9 "$xvdsd_pid" 2>/dev/null
	xvdsd_bench
}

# The benchmark: request to ready on each path, as the operator sees it
# through xvdsctl (TCG: compare ratios, not seconds, with real hardware).
xvdsd_bench() {
	local p
	for p in ready paused saved reset pvm-boot; do
		echo "lab: report: bench: xvdsd request->ready from $p$([ $p = reset ] && echo " (fast: clean image)"): ${BENCH[$p]:--} ms"
	done
	echo "lab: report: bench: xvdsd credential into the guest, applied: ${BENCH[credential]:--} ms"
	echo "lab: report: bench: xvdsd migrate, PV non-live (96 MiB): ${BENCH[migrate]:--} ms"
	echo "lab: report: bench: xvdsd migrate, PV live (96 MiB, shadow paging): ${BENCH[migrate-pv-live]:--} ms"
	echo "lab: report: bench: xvdsd migrate, PVH live (128 MiB): ${BENCH[migrate-live]:--} ms"
	if [ -n "${BENCH[saved]:-}" ] && [ -n "${BENCH[pvm-boot]:-}" ]; then
		echo "lab: report: bench: saved-restore / cold boot = $(awk "BEGIN { printf \"%.2f\", ${BENCH[saved]} / ${BENCH[pvm-boot]} }")"
		[ -z "${BENCH[reset]:-}" ] ||
			echo "lab: report: bench: fast reset / cold boot = $(awk "BEGIN { printf \"%.2f\", ${BENCH[reset]} / ${BENCH[pvm-boot]} }")"
	fi
}
