# The lab's controller stages, sourced by dom0-test.sh and run after the
# xvdsd stages (their guests are gone by then): an xvdsd of this dom0
# registered with a real xvds-controller and PostgreSQL that run outside
# the lab (scripts/lab/controller.sh), reached at 10.0.2.100 through QEMU's
# restricted user network; users log in with xvds-client from dom0.  Only
# with run.sh --controller, which puts /lab/ctrl/env in the image.
#
#   ctrl-register       xvdsd with a controller block registers; the
#                       controller's pool upkeep defines and starts the
#                       pool's two CVMs, which become ready with their
#                       clean images; then one is paused, the other saved
#                       (locally, with xvdsctl)
#   ctrl-login-unpause  alice logs in: the paused CVM is unpaused, the same
#                       boot answers at the address printed, and the guest's
#                       apply command got exactly the user and password
#                       xvds-client printed
#   ctrl-login-restore  carol: the saved CVM is restored, the same checks
#   ctrl-logout-reset   both log out (xvds-client -L): each CVM is reset by
#                       xvdsd, the fast way, and ready again; a spent
#                       token is refused
#   ctrl-pvm            bob's PVM: placed on this host, defined, started,
#                       boot-complete validated, credential applied; logout
#                       shuts it down
#   ctrl-desktop        (run.sh --desktop) the desktop pool's CVM, the real
#                       desktop image (scripts/desktop-image.sh) on a
#                       read-only disk, ready; dom0 relays its RDP port to
#                       QEMU's forward and says XVDS-DESKTOP-READY with the
#                       colour the guest published; the client on the
#                       machine (tests/lab/desktop-client.sh) logs in as
#                       dave, sees that colour, is refused with a wrong
#                       password, logs out, logs in again once the CVM
#                       was reset (the first credential refused, the
#                       clean desktop's colour shown) and reports
#                       here; the guest's session record went active; the
#                       CVM is reset after each logout
# shellcheck shell=bash

CTRL_ENV=/lab/ctrl/env
CTRL_CONF=/lab/xvds-ctrl.conf
CLIENT=/usr/bin/xvds-client
CTRL_STAGES="ctrl-register ctrl-login-unpause ctrl-login-restore ctrl-logout-reset ctrl-pvm ctrl-desktop"
CTRL_IPBASE=10.77.0.50		# lab-1 gets .51, lab-2 .52 (guest-rcS)
CTRL_PVM=bob-pvm
CTRL_PVM_IP=10.77.0.61
# The desktop pool (desk-1 gets .71) on the emulated machine's read-only disk.
DESK_DISK=/dev/vda
DESK_IPBASE=10.77.0.70
DESK_IP=10.77.0.71
ctrl_pid="" ctrl_registered=""
ctrl_log=$W/xvdsd-ctrl.log
declare -A CBOOT=() CDOM=() CSESS=() CTOKEN=()

write_ctrl_conf() {
	mkdir -p "$XSTORE"
	write_migration_key
	cat >"$CTRL_CONF" <<-EOF
		host-name $CTRL_HOST
		migration {
			listen 127.0.0.1 port $PORT_A
			key-file "$MIG_KEY"
		}
		controller {
			address "$CTRL_ADDR" port $CTRL_AGENT_PORT
			ca-file "/lab/ctrl/ca.pem"
			cert-file "/lab/ctrl/$CTRL_HOST.pem"
			key-file "/lab/ctrl/$CTRL_HOST.key"
		}
		state-dir "/var/lib/xvds-ctrl"
		control-socket "/run/xvds/xvdsd.sock"
		store "$XSTORE"
		sample-interval 1s
		boot-timeout $((120 * LAB_SLACK))s
		shutdown-timeout 20s
		session-grace 3s
		template "ctl-cvm" {
			type pv
			vcpus 1
			memory 96M
			kernel "/lab/vmlinuz"
			ramdisk "/lab/guest.cpio"
			cmdline "console=hvc0 loglevel=4 xvds.ipbase=$CTRL_IPBASE/24"
			network bridge "xenbr0"
		}
		template "ctl-pvm" {
			type pv
			vcpus 1
			memory 96M
			kernel "/lab/vmlinuz"
			ramdisk "/lab/guest.cpio"
			cmdline "console=hvc0 loglevel=4 xvds.ip=$CTRL_PVM_IP/24"
			network bridge "xenbr0"
		}
	EOF
	[ -b "$DESK_DISK" ] || return 0
	# PV and blkback: the reliable pair under the emulator
	# (scripts/lab/README.md, "The desktop guest").
	cat >>"$CTRL_CONF" <<-EOF
		template "ctl-desk" {
			type pv
			vcpus 1
			memory 192M
			kernel "/lab/vmlinuz"
			ramdisk "/lab/desktop-boot.cpio"
			cmdline "console=hvc0 loglevel=4 xvds.ipbase=$DESK_IPBASE/24"
			disk xvda "$DESK_DISK" readonly
			network bridge "xenbr0"
		}
	EOF
}

# dom0's NIC on QEMU's user network: the virtio one, at QEMU's usual
# guest address; the controller is the only thing forwarded there.
ctrl_net_up() {
	local i dev=""
	for i in /sys/class/net/*; do
		case $(readlink -f "$i/device/driver" 2>/dev/null) in
		*/virtio_net) dev=${i##*/} ;;
		esac
	done
	[ -n "$dev" ] || { why="no virtio NIC in dom0 (ip link: $(ip -o link | awk '{ print $2 }' | tr '\n' ' '))"; return 1; }
	ip link set "$dev" up && ip addr add 10.0.2.15/24 dev "$dev" ||
		{ why="cannot configure $dev"; return 1; }
	log "dom0's NIC $dev at 10.0.2.15/24; the controller at $CTRL_ADDR"
}

ctrl_alive() {
	kill -0 "$ctrl_pid" 2>/dev/null && return 0
	why="xvdsd (controller's) exited"
	return 1
}

# both_ready: the pool's CVMs ready, at their addresses, with clean images.
both_ready() {
	clean_taken lab-1 && clean_taken lab-2 &&
		vm_has_addr lab-1 10.77.0.51 && vm_has_addr lab-2 10.77.0.52
}

st_ctrl_register() {
	local t0
	[ -s "$CTRL_ENV" ] || { why="no $CTRL_ENV"; return 1; }
	have_xvdsd && [ -x "$CLIENT" ] || { why="xvdsd, xvdsctl or xvds-client missing"; return 1; }
	ctrl_net_up || return 1
	# The earlier stages' images: the store is in dom0's memory, whose
	# root file system may take most of it (the desktop's clean image).
	rm -f "$XSTORE"/clean/lab-01.* "$XSTORE"/clean/live-01.* "$XSTORE"/saved/*
	[ ! -b "$DESK_DISK" ] || mount -o remount,size=85% / 2>/dev/null
	write_ctrl_conf
	$XVDSD -n -f "$CTRL_CONF" >"$W/xvdsd-ctrl-n.out" 2>&1 ||
		{ why="xvdsd -n: $(tr '\n' ' ' <"$W/xvdsd-ctrl-n.out")"; return 1; }
	$XVDSD -d -vv -f "$CTRL_CONF" > >(stamp >>"$ctrl_log") 2>&1 &
	ctrl_pid=$!
	wait_for 120 grep -q 'controller: welcomed' "$ctrl_log" ||
		{ why="not welcomed by the controller in $((120 * LAB_SLACK)) s: $(grep 'controller:' "$ctrl_log" | tail -n 2 | tr '\n' ' ')"; return 1; }
	t0=$SECONDS
	# The controller's upkeep defines and starts them; xvdsd boots them
	# and takes their clean images.
	wait_for 180 both_ready || {
		why="after $((180 * LAB_SLACK)) s: lab-1 $(vm_state lab-1) '$(vm_field lab-1 addr)', lab-2 $(vm_state lab-2) '$(vm_field lab-2 addr)'"
		return 1; }
	grep -q 'controller: op [0-9]*: define lab-1' "$ctrl_log" &&
		grep -q 'controller: op [0-9]*: start lab-2' "$ctrl_log" ||
		{ why="xvdsd's log shows no define/start from the controller"; return 1; }
	CBOOT[lab-1]=$(vm_field lab-1 boot_id) CBOOT[lab-2]=$(vm_field lab-2 boot_id)
	CDOM[lab-1]=$(vm_field lab-1 domid)
	ctl vm pause lab-1 || { why="vm pause lab-1 failed"; return 1; }
	ctl vm pause lab-2 && ctl vm save lab-2 || { why="vm save lab-2 failed"; return 1; }
	vm_is lab-1 paused && vm_is lab-2 saved ||
		{ why="lab-1 $(vm_state lab-1), lab-2 $(vm_state lab-2)"; return 1; }
	# xvdsd reports each change at once; give the controller its write.
	sleep 2
	ctrl_registered=1
	note="pool lab-1 lab-2 up in $((SECONDS - t0)) s after the welcome; lab-1 paused, lab-2 saved"
}

# client_login USER [OPTIONS...]: logs USER in; the output in
# $W/client-USER.out.  The session goes to CSESS[USER], its token to
# CTOKEN[USER].
client_login() {
	local u=$1 pw rc
	shift
	pw=CTRL_PW_$u
	printf '%s\n' "${!pw}" | timeout 200 $CLIENT -1 -C /lab/ctrl/ca.pem \
		-p "$CTRL_BROKER_PORT" -u "$u" "$@" "$CTRL_ADDR" \
		>"$W/client-$u.out" 2>"$W/client-$u.err"
	rc=$?
	# For the record, the secrets masked.
	sed -e 's/^\(rdp_password\|token\)=.*/\1=********/' "$W/client-$u.out" |
		sed "s/^/lab: report: client: $u: /"
	[ $rc = 0 ] || { why="xvds-client -u $u exited $rc: $(tr '\n' ' ' <"$W/client-$u.err")"; return 1; }
	CSESS[$u]=$(cval session "$u")
	CTOKEN[$u]=$(cval token "$u")
}
cval() { sed -n "s/^$1=//p" "$W/client-$2.out" | head -n1; }

# cred_arrived USER VM: the guest's apply command recorded the user and the
# password's digest exactly as xvds-client printed them.
cred_arrived() {
	local u=$1 vm=$2 d got user sum
	d=$(vm_field "$vm" domid)
	user=$(cval rdp_user "$u")
	sum=$(printf '%s' "$(cval rdp_password "$u")" | sha256sum | cut -d' ' -f1)
	got=$(xenstore-read "/local/domain/$d/data/lab/credential" 2>/dev/null)
	[ -n "$user" ] && [ "$got" = "user=$user sha256=$sum read=0 write=${got##*write=}" ] &&
		[ "${got##*write=}" != 0 ] ||
		{ why="$vm's guest recorded '$got', not user '$user' and the digest of the password printed"; return 1; }
	key_gone "$d" || { why="$vm: the credential key is still in xenstore"; return 1; }
}

# fingerprint_ok USER: the RDP certificate the broker handed USER is the
# one the guest's agent was given (xvds-guestd -r), as OpenSSL hashes it.
fingerprint_ok() {
	[ "$(cval cert_fingerprint "$1")" = "$(cat /lab/rdp-cert.sha256)" ] ||
		{ why="$1 got RDP certificate '$(cval cert_fingerprint "$1")', not the guest's $(cat /lab/rdp-cert.sha256)"; return 1; }
}

# ctrl_desktop USER VM IP: what the login of USER printed is VM, ready,
# the same boot as before, answering at IP, the credential applied.
ctrl_desktop() {
	local u=$1 vm=$2 ip=$3 body
	[ "$(cval address "$u")" = "$ip" ] ||
		{ why="$u got address '$(cval address "$u")', not $vm's $ip"; return 1; }
	fingerprint_ok "$u" || return 1
	vm_is "$vm" ready || { why="$vm is $(vm_state "$vm") after the login"; return 1; }
	[ "$(vm_field "$vm" boot_id)" = "${CBOOT[$vm]}" ] ||
		{ why="$vm's boot is $(vm_field "$vm" boot_id), was ${CBOOT[$vm]}"; return 1; }
	body=$(fetch "http://$ip:8080/boot-id") || { why="no answer at http://$ip:8080"; return 1; }
	[ "$body" = "${CBOOT[$vm]}" ] || { why="$ip answers boot '$body', not ${CBOOT[$vm]}"; return 1; }
	cred_arrived "$u" "$vm"
}

st_ctrl_login_unpause() {
	ctrl_alive || return 1
	xenstore-rm "/local/domain/${CDOM[lab-1]}/data/lab/credential" 2>/dev/null
	timed ctrl-unpause client_login alice || return 1
	grep -q 'controller: op [0-9]*: unpause lab-1' "$ctrl_log" ||
		{ why="no unpause of lab-1 from the controller in xvdsd's log"; return 1; }
	ctrl_desktop alice lab-1 10.77.0.51 || return 1
	[ "$(vm_field lab-1 domid)" = "${CDOM[lab-1]}" ] ||
		{ why="lab-1's domain changed (${CDOM[lab-1]} -> $(vm_field lab-1 domid))"; return 1; }
	note="login->desktop ${BENCH[ctrl-unpause]} ms; user $(cval rdp_user alice) applied in the guest"
}

st_ctrl_login_restore() {
	ctrl_alive || return 1
	timed ctrl-restore client_login carol || return 1
	grep -q 'controller: op [0-9]*: restore lab-2' "$ctrl_log" ||
		{ why="no restore of lab-2 from the controller in xvdsd's log"; return 1; }
	ctrl_desktop carol lab-2 10.77.0.52 || return 1
	note="login->desktop ${BENCH[ctrl-restore]} ms; user $(cval rdp_user carol) applied in the guest"
}

# reset_done VM N: VM ready after more than N fast resets in the log.
reset_done() { vm_is "$1" ready && log_grew "$ctrl_log" "$1: resetting -> ready on done \(clean image restored\)" "$2"; }

client_logout() {
	# The token on stdin: never on the command line (xvds-client(1)).
	printf '%s\n' "${CTOKEN[$1]:-none}" |
		timeout 60 $CLIENT -L "${CSESS[$1]:-none}" -C /lab/ctrl/ca.pem \
		-p "$CTRL_BROKER_PORT" "$CTRL_ADDR" >"$W/logout-$1.out" 2>&1
}

st_ctrl_logout_reset() {
	local n1 n2 rc t0
	ctrl_alive || return 1
	n1=$(log_count "$ctrl_log" "lab-1: resetting -> ready on done \(clean image restored\)")
	n2=$(log_count "$ctrl_log" "lab-2: resetting -> ready on done \(clean image restored\)")
	t0=$(ms)
	client_logout alice || { why="xvds-client -L (alice) exited $?: $(tr '\n' ' ' <"$W/logout-alice.out")"; return 1; }
	client_logout carol || { why="xvds-client -L (carol) exited $?: $(tr '\n' ' ' <"$W/logout-carol.out")"; return 1; }
	wait_for 180 reset_done lab-1 "$n1" ||
		{ why="lab-1 is $(vm_state lab-1), not reset, $((180 * LAB_SLACK)) s after the logout"; return 1; }
	BENCH[ctrl-reset]=$(($(ms) - t0))
	wait_for 180 reset_done lab-2 "$n2" ||
		{ why="lab-2 is $(vm_state lab-2), not reset, $((180 * LAB_SLACK)) s after the logout"; return 1; }
	grep -q 'controller: op [0-9]*: reset lab-1' "$ctrl_log" ||
		{ why="no reset of lab-1 from the controller in xvdsd's log"; return 1; }
	# The clean image's guest: the boot it had then, no credential.
	[ "$(fetch "http://10.77.0.51:8080/boot-id")" = "${CBOOT[lab-1]}" ] ||
		{ why="lab-1 does not answer with its clean boot after the reset"; return 1; }
	! xenstore-read "/local/domain/$(vm_field lab-1 domid)/data/lab/credential" >/dev/null 2>&1 ||
		{ why="lab-1's guest still holds the session's credential record"; return 1; }
	client_logout alice
	rc=$?
	[ $rc = 5 ] || { why="a spent token: exit $rc, not 5"; return 1; }
	note="logout->lab-1 ready ${BENCH[ctrl-reset]} ms (fast reset); spent token refused"
}

st_ctrl_pvm() {
	local d
	ctrl_alive || return 1
	timed ctrl-pvm client_login bob -k pvm || return 1
	grep -q "controller: op [0-9]*: define $CTRL_PVM" "$ctrl_log" &&
		grep -q "controller: op [0-9]*: start $CTRL_PVM" "$ctrl_log" ||
		{ why="no define/start of $CTRL_PVM from the controller in xvdsd's log"; return 1; }
	grep -q "$CTRL_PVM: starting -> ready on booted" "$ctrl_log" ||
		{ why="xvdsd's log does not show $CTRL_PVM's boot-complete"; return 1; }
	[ "$(vm_field $CTRL_PVM kind)" = pvm ] || { why="$CTRL_PVM's kind is '$(vm_field $CTRL_PVM kind)'"; return 1; }
	[ "$(cval address bob)" = $CTRL_PVM_IP ] || { why="bob got address '$(cval address bob)'"; return 1; }
	[ -n "$(fetch "http://$CTRL_PVM_IP:8080/boot-id")" ] || { why="no answer at $CTRL_PVM_IP"; return 1; }
	cred_arrived bob $CTRL_PVM || return 1
	fingerprint_ok bob || return 1
	d=$(vm_field $CTRL_PVM domid)
	client_logout bob || { why="xvds-client -L (bob) exited $?"; return 1; }
	wait_for 180 vm_is $CTRL_PVM inactive ||
		{ why="$CTRL_PVM is $(vm_state $CTRL_PVM), not shut down, $((180 * LAB_SLACK)) s after the logout"; return 1; }
	# Inactive once the guest powered off; the op's result (what the
	# controller records as the release) once libxl destroyed the rest.
	wait_for 120 grep -q "controller: op [0-9]* shutdown $CTRL_PVM: ok" "$ctrl_log" ||
		{ why="no result of the controller's shutdown of $CTRL_PVM"; return 1; }
	wait_for 120 no_domain $CTRL_PVM || { why="libxl still lists $CTRL_PVM"; return 1; }
	grep -aq 'xvds-guestd: stopping on SIGTERM' "$CONSOLE_DIR/guest-$CTRL_PVM.log" ||
		{ why="$CTRL_PVM's console shows no clean stop of xvds-guestd"; return 1; }
	note="login->desktop (cold boot) ${BENCH[ctrl-pvm]} ms on domain $d; shut down after the logout"
}

desk_ready() { clean_taken desk-1 && vm_has_addr desk-1 $DESK_IP; }

# desk_session_seen DOMID: the guest's agent reported an RDP session; the
# client, which holds its first session until then, hears it on port 7001.
desk_session_seen() {
	if [ -z "$desk_active" ]; then
		case $(xenstore-read "/local/domain/$1/data/xvds/session" 2>/dev/null) in
		*state=active*)
			desk_active=1
			printf '#!/bin/sh\necho active\n' >"$W/desk-seen"
			chmod 0755 "$W/desk-seen"
			nc -ll -p 7001 -e "$W/desk-seen" &
			desk_seen_pid=$!
			;;
		esac
	fi
	[ -s "$W/desk-verdict" ]
}

st_ctrl_desktop() {
	local d colour n verdict relay lsn
	[ -b "$DESK_DISK" ] || { why="no desktop disk $DESK_DISK (run.sh --desktop)"; return 1; }
	ctrl_alive || return 1
	# Booted by the pool's upkeep since ctrl-register: 60-80 s to RDP.
	wait_for 300 desk_ready ||
		{ why="desk-1 is $(vm_state desk-1) at '$(vm_field desk-1 addr)', not ready with a clean image at $DESK_IP"; return 1; }
	d=$(vm_field desk-1 domid)
	wait_for 60 xenstore-read "/local/domain/$d/data/desktop/colour" ||
		{ why="desk-1 published no colour"; return 1; }
	colour=$(xenstore-read "/local/domain/$d/data/desktop/colour")
	n=$(log_count "$ctrl_log" "desk-1: resetting -> ready on done \(clean image restored\)")
	# The machine reaches dom0's port 3389 (QEMU's hostfwd), relayed to
	# the desktop; the client's verdict comes to port 7000.
	printf '#!/bin/sh\nexec nc %s 3389\n' "$DESK_IP" >"$W/desk-relay"
	chmod 0755 "$W/desk-relay"
	nc -ll -p 3389 -e "$W/desk-relay" &
	relay=$!
	: >"$W/desk-verdict"
	nc -l -p 7000 >"$W/desk-verdict" &
	lsn=$!
	desk_active="" desk_seen_pid=""
	echo "XVDS-DESKTOP-READY colour=$colour ip=$DESK_IP"
	wait_for 300 desk_session_seen "$d"
	kill "$relay" "$lsn" $desk_seen_pid 2>/dev/null
	wait "$relay" "$lsn" $desk_seen_pid 2>/dev/null
	verdict=$(head -n1 "$W/desk-verdict")
	log "the client's verdict: ${verdict:-none}"
	[ "${verdict%% *}" = PASS ] ||
		{ why="the client: ${verdict:-no verdict in $((300 * LAB_SLACK)) s}"; return 1; }
	[ -n "$desk_active" ] || { why="desk-1's agent never reported an active session"; return 1; }
	# Two sessions, two resets.
	wait_for 180 reset_done desk-1 "$((n + 1))" ||
		{ why="desk-1 is $(vm_state desk-1), not reset twice, after the logouts"; return 1; }
	note="colour #$colour seen by the client; session reported; reset after each of two logouts"
}

# ctrl_xvdsd_present: the controller's xvdsd still runs; else $lost says so.
ctrl_xvdsd_present() {
	kill -0 "$ctrl_pid" 2>/dev/null && return 0
	wait "$ctrl_pid" 2>/dev/null
	lost="the controller's xvdsd exited with status $?"
	return 1
}

run_ctrl_stages() {
	local s
	[ -s "$CTRL_ENV" ] || return 0
	# shellcheck disable=SC1090
	. "$CTRL_ENV"
	free -m | sed 's/^/lab: dom0 memory: /'
	run_stage ctrl-register st_ctrl_register
	if [ -n "$ctrl_registered" ]; then
		stage_needs=ctrl_xvdsd_present
		run_stage ctrl-login-unpause st_ctrl_login_unpause
		run_stage ctrl-login-restore st_ctrl_login_restore
		run_stage ctrl-logout-reset st_ctrl_logout_reset
		run_stage ctrl-pvm st_ctrl_pvm
		run_stage ctrl-desktop st_ctrl_desktop
		stage_needs=""
	else
		for s in ${CTRL_STAGES#ctrl-register }; do skip_stage "$s" "ctrl-register failed"; done
	fi
	if [ -n "$ctrl_pid" ]; then
		# The last result on its way to the controller first.
		sleep 2
		kill -TERM "$ctrl_pid" 2>/dev/null
		wait "$ctrl_pid" 2>/dev/null
	fi
	echo "lab: report: bench: controller login->desktop, paused CVM (unpause): ${BENCH[ctrl-unpause]:--} ms"
	echo "lab: report: bench: controller login->desktop, saved CVM (restore): ${BENCH[ctrl-restore]:--} ms"
	echo "lab: report: bench: controller login->desktop, PVM (define, cold boot): ${BENCH[ctrl-pvm]:--} ms"
	echo "lab: report: bench: controller logout->CVM ready again (fast reset): ${BENCH[ctrl-reset]:--} ms"
}

ctrl_dump() {
	[ -s "$ctrl_log" ] || return 0
	log "==== $ctrl_log: libxl's errors (last 40)"
	grep -aiE 'libxl[^ ]*: .*(error|fail|timed out|unable|script)' "$ctrl_log" |
		tail -n 40 | sed 's/^/lab:   | /'
	log "==== $ctrl_log: the controller's xvdsd (last 120 lines)"
	tail -n 120 "$ctrl_log" | sed 's/^/lab:   | /'
	for f in "$W"/client-*.err "$W"/logout-*.out; do
		[ -s "$f" ] || continue
		log "==== $f"
		sed 's/^/lab:   | /' "$f"
	done
}
