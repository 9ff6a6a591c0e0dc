#!/bin/bash
# The lab's test in dom0 (run by the lab's /init once Xen's daemons and the
# bridge are up).  Drives two PV guests with xl (fine in a test; the product
# never uses xl) and checks the project's xvds-probe against them.
#
# Reports on the console, for scripts/lab/run.sh:
#   XVDS-STAGE <name> PASS <seconds> [note]
#   XVDS-STAGE <name> FAIL <seconds> <why>
#   XVDS-FLAKE <signature> <detail>   a guest died or froze (diagnostics only)
#   XVDS-RETRY <stage> <detail>       a stage re-created a guest that the
#                                     emulator killed (its one retry)
#   XVDS-DUMP-BEGIN ... XVDS-DUMP-END diagnostics, when something failed
#   XVDS-LAB-DONE
# run.sh reads the stage list from the next line: keep it in order.
STAGES="dom0-up probe-list create boot-complete probe-list-guests tcp addr-change isolation malformed shutdown domains-gone xvdsd-start xvdsd-cvm-ready xvdsd-garbage xvdsd-host xvdsd-credential xvdsd-pause xvdsd-save xvdsd-reset xvdsd-restart xvdsd-save-crash xvdsd-migrate xvdsd-migrate-crash xvdsd-migrate-pvh xvdsd-migrate-back xvdsd-session xvdsd-pvm xvdsd-stop ctrl-register ctrl-login-unpause ctrl-login-restore ctrl-logout-reset ctrl-pvm ctrl-desktop"
# No set -e: every stage handles its own failures and the script must always
# reach XVDS-LAB-DONE.
set -u
export PATH=/usr/bin:/usr/lib/xen-4.17/bin

PROBE=/usr/bin/xvds-probe
W=/tmp/lab
# Every bound on a wait is what the stage needs with room to spare on an
# idle machine, times LAB_SLACK: under `make -j2 check`, or on a machine
# shared with other work, the emulated dom0 runs several times slower
# (scripts/lab/README.md, "Timings").  A wait ends as soon as its
# condition holds, so slack costs nothing when all goes well.
LAB_SLACK=4
# The host daemon's stages (run after the probe's), migration among them.
. /lab/migrate-stages.sh
. /lab/xvdsd-stages.sh
# The controller's stages (only with run.sh --controller).
. /lab/ctrl-stages.sh
CONSOLE_DIR=/var/log/xen/console
GUESTS="guest-a guest-b"
declare -A IP=([guest-a]=10.77.0.2 [guest-b]=10.77.0.3)
declare -A MAC=([guest-a]=00:16:3e:77:00:02 [guest-b]=00:16:3e:77:00:03)
# Both PV: the probe reads the same xenstore records from any guest type,
# and emulated SVM, which PVH needs under QEMU's TCG, triple-faults about
# one PVH lifetime in five (scripts/lab/README.md, "Flakes") while a PV
# guest never touches it.  The one PVH guest is xvdsd-migrate-pvh's.
declare -A TYPE=([guest-a]=pv [guest-b]=pv)
declare -A DOMID=() BOOT=() ADDR=()
EXTRA_IP=10.77.0.12
mkdir -p "$W"

log() { echo "lab: $*"; }
# stamp: each line of stdin with the seconds since the epoch before it (the
# daemons' logs, to line them up with each other and with xenstore's).
stamp() {
	local l
	while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done
}
# show FILE: a command's output on the console, indented.
show() { sed 's/^/lab:   | /' "$1"; }

# --- Stage bookkeeping -------------------------------------------------------
failed=0
shutting_down=0
declare -A reported=()
stage_lines=()
# stage_line TEXT: print a stage result and keep it for the summary.
stage_line() {
	echo "$1"
	stage_lines+=("$1")
}
now_ds() { local us=${EPOCHREALTIME/./}; echo $((us / 100000)); }
fmt_ds() { echo "$(($1 / 10)).$(($1 % 10))"; }
# run_stage NAME FUNCTION: time FUNCTION; it sets $why on failure and may set
# $note (extra facts for a PASS) or $secs_override (a time it measured itself).
#
# Fail fast: while $stage_needs names a function, a stage runs only when that
# function succeeds; otherwise it fails at once with the $lost it set (the
# guest or daemon the stage depends on is gone), not after its own timeout.
stage_needs=""
run_stage() {
	local name=$1 fn=$2 t0
	why="" note="" secs_override="" lost=""
	if [ -n "$stage_needs" ] && ! "$stage_needs"; then
		skip_stage "$name" "${lost:-a prerequisite is gone}"
		return
	fi
	log "--- stage $name"
	t0=$(now_ds)
	# A line every 30 s while the stage waits: run.sh takes a console
	# silent for minutes for a wedged emulator.
	(while sleep 30; do log "stage $name still running"; done) &
	local ticker=$! ok=0
	"$fn" || ok=$?
	kill "$ticker" 2>/dev/null
	wait "$ticker" 2>/dev/null
	if [ $ok = 0 ]; then
		stage_line "XVDS-STAGE $name PASS ${secs_override:-$(fmt_ds $(($(now_ds) - t0)))}${note:+ $note}"
	else
		# Short enough for one console write (the hvc buffer is 256 bytes).
		why=${why:-failed}
		[ ${#why} -le 200 ] || why="${why:0:197}..."
		stage_line "XVDS-STAGE $name FAIL $(fmt_ds $(($(now_ds) - t0))) $why"
		failed=1
		check_flakes
	fi
	reported[$name]=1
}
skip_stage() {
	stage_line "XVDS-STAGE $1 FAIL 0.0 not run: $2"
	reported[$1]=1
	failed=1
}

# --- Helpers -------------------------------------------------------------------
have_guests() {
	local g
	for g in $GUESTS; do [ -n "${DOMID[$g]:-}" ] || return 1; done
}

# emu_fault DOMID: Xen's line when the emulated SVM triple-faulted that
# domain (Xen logs "d<domid>v<vcpu> Triple fault"), or nothing.
emu_fault() {
	xl dmesg 2>/dev/null | grep -a -m1 -E "d$1v[0-9]+ Triple fault" | tr -d '\r'
}

# guests_present: both probe guests still exist; else $lost says which
# one is gone and, when Xen logged one, the emulator's fault.
guests_present() {
	local g d f
	for g in $GUESTS; do
		d=${DOMID[$g]:-}
		[ -n "$d" ] || { lost="$g was never created"; return 1; }
		xl list "$d" >/dev/null 2>&1 && continue
		f=$(emu_fault "$d")
		lost="$g (domain $d) is gone${f:+: $f}"
		return 1
	done
}

# data rows of `xvds-probe list` (first field numeric) into $W/list.rows
probe_list() {
	local out=$W/list.out
	$PROBE list >"$out" 2>&1
	local rc=$?
	show "$out"
	awk '$1 ~ /^[0-9]+$/' "$out" >"$W/list.rows"
	return $rc
}

# send_cmd GUEST COMMAND...: write data/lab/cmd in the guest's area and wait
# for its data/lab/ack; sets $ack to the answer after the sequence number.
cmd_seq=0
send_cmd() {
	local g=$1 d a end
	shift
	d=${DOMID[$g]:-}
	[ -n "$d" ] || { ack="$g does not exist"; return 1; }
	cmd_seq=$((cmd_seq + 1))
	xenstore-write "/local/domain/$d/data/lab/cmd" "$cmd_seq $*" ||
		{ ack="cannot write /local/domain/$d/data/lab/cmd"; return 1; }
	# A generous bound: the answer takes a guest's shell a few steps,
	# and the lab may share the machine with other tests.
	end=$((SECONDS + 120 * LAB_SLACK))
	while [ $SECONDS -lt $end ]; do
		a=$(xenstore-read "/local/domain/$d/data/lab/ack" 2>/dev/null)
		if [ "${a%% *}" = "$cmd_seq" ]; then
			ack=${a#* }
			[ "${ack%% *}" = ok ]
			return
		fi
		# A guest that died answers nothing: say so now.
		if ! xl list "$d" >/dev/null 2>&1; then
			local f
			f=$(emu_fault "$d")
			ack="$g (domain $d) is gone${f:+: $f}"
			return 1
		fi
		sleep 0.2
	done
	ack="no answer from $g to '$*' within $((120 * LAB_SLACK)) s"
	return 1
}

# fetch URL: the body, retrying for up to 90 s times LAB_SLACK (the guest's
# httpd may start after its agent reported).
fetch() {
	local url=$1 end=$((SECONDS + 90 * LAB_SLACK)) body
	while :; do
		if body=$(timeout 5 wget -q -O - "$url" 2>"$W/wget.err"); then
			printf '%s\n' "$body"
			return 0
		fi
		[ $SECONDS -lt $end ] || return 1
		sleep 1
	done
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds, for SECONDS
# times LAB_SLACK.  Quickly at first; after 5 s once a second, for each
# poll forks in dom0, and dom0's CPU is what the stage waits for.
wait_for() {
	local start=$SECONDS end=$((SECONDS + $1 * LAB_SLACK))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		if [ $((SECONDS - start)) -lt 5 ]; then sleep 0.3; else sleep 1; fi
	done
}

# --- Flake signatures -------------------------------------------------------------
# Emulated SVM sometimes kills or freezes a guest.  Tell those apart from real
# failures and say so with an XVDS-FLAKE line (run.sh retries the boot once).
# A deterministic boot failure ("No working init") is not a flake.
declare -A flagged=() silence_checks=()
flake() {
	[ -z "${flagged[$1 $2]:-}" ] || return 0
	flagged[$1 $2]=1
	echo "XVDS-FLAKE $1 $2: $3"
}
check_flakes() {
	local g d clog line hb1 hb2 s1 s2 state
	for g in $GUESTS; do
		d=${DOMID[$g]:-}
		[ -n "$d" ] || continue
		clog=$CONSOLE_DIR/guest-$g.log
		line=$(grep -a -m1 -E 'Kernel panic|BUG: |Oops: |general protection fault' "$clog" 2>/dev/null)
		if [ -n "$line" ] && ! grep -aq -E 'No working init|Unable to mount root' "$clog"; then
			flake guest-panic "$g" "$line"
			continue
		fi
		[ $shutting_down = 0 ] || continue
		state=$(xl list "$d" 2>/dev/null | awk 'NR == 2 { print $5 }')
		if [ -z "$state" ]; then
			flake guest-died "$g" "domain $d vanished before the test shut it down"
			continue
		fi
		case $state in *c*) flake guest-crashed "$g" "domain $d state $state"; continue ;; esac
		# Still there: has it stopped reporting?  Its heartbeat (from
		# guest-test.sh) and its console both stand still for 8 s.  At
		# most twice per guest: this costs time on every failed stage.
		[ "${silence_checks[$g]:-0}" -lt 2 ] || continue
		silence_checks[$g]=$((${silence_checks[$g]:-0} + 1))
		hb1=$(xenstore-read "/local/domain/$d/data/lab/heartbeat" 2>/dev/null)
		s1=$(stat -c %s "$clog" 2>/dev/null)
		sleep 8
		hb2=$(xenstore-read "/local/domain/$d/data/lab/heartbeat" 2>/dev/null)
		s2=$(stat -c %s "$clog" 2>/dev/null)
		if [ "$hb1" = "$hb2" ] && [ "$s1" = "$s2" ]; then
			if [ -n "$hb1" ] || ! grep -aq XVDS-GUEST-UP "$clog"; then
				flake guest-silent "$g" "no heartbeat and no console output for 8 s (heartbeat ${hb1:-none}, state $state)"
			fi
		fi
	done
}

dump() {
	local f
	echo "XVDS-DUMP-BEGIN"
	log "xl list:"
	xl list 2>&1 | sed 's/^/lab:   | /'
	for f in "$W"/watch.log "$W"/*.err "$W"/create-*.log /var/log/xen/xl-*.log \
		/var/log/xen/xen-hotplug.log "$CONSOLE_DIR"/*.log; do
		[ -s "$f" ] || continue
		log "==== $f (last 150 lines)"
		tail -n 150 "$f" | tr -d '\r' | sed 's/^/lab:   | /'
	done
	xvdsd_dump
	migrate_dump
	ctrl_dump
	# The kernel's side of devices (netback, blkback, the bridge) and
	# Xen's own log (a guest's triple fault, say).
	log "==== dom0 memory"
	free -m 2>&1 | sed "s/^/lab:   | /"
	log "==== dom0's kernel log (last 60 lines)"
	dmesg 2>&1 | tail -n 60 | sed 's/^/lab:   | /'
	log "==== xl dmesg (last 40 lines)"
	xl dmesg 2>&1 | tail -n 40 | tr -d '\r' | sed 's/^/lab:   | /'
	log "==== backends' state changes, with times (last 60)"
	tail -n 60 "$W/backends.log" 2>/dev/null | sed 's/^/lab:   | /'
	log "==== backends' states"
	xenstore-ls -f /local/domain/0/backend 2>/dev/null | grep -E '/(state|hotplug-status) ' |
		sed 's/^/lab:   | /'
	echo "XVDS-DUMP-END"
}

# --- Stages ------------------------------------------------------------------------
st_dom0_up() {
	local st up dur rest
	read -r st up dur rest </run/lab/dom0-up 2>/dev/null || { why="/run/lab/dom0-up missing (init failed?)"; return 1; }
	[ "$st" = ok ] || { why="bring-up problems:${rest}"; return 1; }
	xenstore-read / >/dev/null 2>&1 || { why="xenstored does not answer"; return 1; }
	pidof xenconsoled >/dev/null || { why="xenconsoled is not running"; return 1; }
	ip -4 addr show dev xenbr0 2>/dev/null | grep -q 'inet 10\.77\.0\.1/24' ||
		{ why="xenbr0 has no 10.77.0.1/24"; return 1; }
	# Seconds from dom0's kernel start to xenstored, xenconsoled and the bridge.
	secs_override=$up
	note="(init took ${dur} s)"
}

st_probe_list() {
	if [ "$inject" = fail ]; then
		why="injected failure (run.sh --inject $inject, attempt $attempt)"
		return 1
	fi
	[ -x "$PROBE" ] || { why="$PROBE missing"; return 1; }
	probe_list || { why="xvds-probe list exited with status $?"; return 1; }
	grep -q '^0[[:space:]]\+Domain-0\([[:space:]]\|$\)' "$W/list.rows" ||
		{ why="no 'domid 0 Domain-0' row in: $(head -c 200 "$W/list.out" | tr '\n' '|')"; return 1; }
}

# The backends' states as xenstore changes them, with times: what the
# kernel's backends did while libxl waited (shown in the dump).
start_backend_log() {
	xenstore-watch /local/domain/0/backend 2>/dev/null | while IFS= read -r p; do
		case $p in
		*/state | */hotplug-status)
			printf '%s %s %s\n' "$EPOCHREALTIME" "$p" "$(xenstore-read "$p" 2>/dev/null || echo '(gone)')" ;;
		esac
	done >"$W/backends.log" &
}

start_watch() {
	# Runs from before the guests exist, to see every report they make.
	$PROBE watch -t 900 >"$W/watch.log" 2>&1 &
	watch_pid=$!
	log "xvds-probe watch started (pid $watch_pid)"
}

st_create() {
	local g pids=() rc=0 cfg
	for g in $GUESTS; do
		cfg=$W/$g.cfg
		cat >"$cfg" <<-EOF
			name = "$g"
			type = "${TYPE[$g]}"
			kernel = "/lab/vmlinuz"
			ramdisk = "/lab/guest.cpio"
			extra = "console=hvc0 loglevel=4 xvds.ip=${IP[$g]}/24"
			memory = 128
			vcpus = 1
			vif = [ 'mac=${MAC[$g]},bridge=xenbr0' ]
			# A guest that reboots or crashes here has gone wrong
			# (emulated SVM sometimes triple-faults one, which Xen turns
			# into a reboot): never let xl restart it under a new domid.
			on_reboot = "destroy"
			on_crash = "destroy"
		EOF
		# xl create daemonizes once the domain runs: wait on the foreground part.
		xl create -q "$cfg" >"$W/create-$g.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=$?; done
	t_created=$(now_ds)
	for g in $GUESTS; do
		DOMID[$g]=$(xl domid "$g" 2>/dev/null) || DOMID[$g]=""
		if [ -z "${DOMID[$g]}" ]; then
			why="${why}$g not created: $(tail -n 3 "$W/create-$g.log" | tr '\n' ' '); "
		fi
	done
	[ -z "$why" ] && [ $rc = 0 ] || { why=${why:-"xl create exited with status $rc"}; return 1; }
	note="domids guest-a=${DOMID[guest-a]} guest-b=${DOMID[guest-b]}"
}

st_boot_complete() {
	local g d pids=() out
	declare -A took=()
	for g in $GUESTS; do
		(
			$PROBE wait-boot -t 300 "${DOMID[$g]}" >"$W/wait-boot-$g.out" 2>"$W/wait-boot-$g.err"
			echo $? >"$W/wait-boot-$g.rc"
			echo $(($(now_ds) - t_created)) >"$W/wait-boot-$g.ds"
		) &
		pids+=($!)
	done
	wait "${pids[@]}"
	for g in $GUESTS; do
		log "$g: xvds-probe wait-boot -t 300 ${DOMID[$g]}: exit $(cat "$W/wait-boot-$g.rc")"
		show "$W/wait-boot-$g.out"
		show "$W/wait-boot-$g.err"
		if [ "$(cat "$W/wait-boot-$g.rc")" != 0 ]; then
			why="${why}$g: wait-boot exited $(cat "$W/wait-boot-$g.rc"): $(head -c 200 "$W/wait-boot-$g.err" | tr '\n' ' '); "
			continue
		fi
		# The contract's line: "boot=<32 hex> addr=<address>".
		out=$(grep -E '^boot=[0-9a-f]{32} addr=[^[:space:]]+[[:space:]]*$' "$W/wait-boot-$g.out" | tail -n1)
		if [[ $out =~ ^boot=([0-9a-f]{32})\ addr=([^[:space:]]+) ]]; then
			BOOT[$g]=${BASH_REMATCH[1]}
			ADDR[$g]=${BASH_REMATCH[2]%/*}
		else
			why="${why}$g: wait-boot printed no 'boot=<32 hex> addr=<address>' line; "
			continue
		fi
		took[$g]=$(fmt_ds "$(cat "$W/wait-boot-$g.ds")")
	done
	[ -z "$why" ] || return 1
	note="create->boot-complete guest-a ${took[guest-a]}s guest-b ${took[guest-b]}s; addrs ${ADDR[guest-a]} ${ADDR[guest-b]}"
}

st_probe_list_guests() {
	local g
	probe_list || { why="xvds-probe list exited with status $?"; return 1; }
	for g in $GUESTS; do
		awk -v d="${DOMID[$g]}" -v n="$g" '$1 == d && $2 == n { f = 1 } END { exit !f }' "$W/list.rows" ||
			why="${why}no row '${DOMID[$g]} $g'; "
	done
	grep -q '^0[[:space:]]\+Domain-0' "$W/list.rows" || why="${why}no Domain-0 row; "
	[ -z "$why" ]
}

st_tcp() {
	local g body
	for g in $GUESTS; do
		if [ -z "${ADDR[$g]:-}" ]; then
			why="${why}$g: no address from the probe; "
			continue
		fi
		case ${ADDR[$g]} in
		"${IP[$g]}") ;;
		*) log "note: the probe reported ${ADDR[$g]} for $g (configured ${IP[$g]})" ;;
		esac
		body=$(fetch "http://${ADDR[$g]}:8080/boot-id") ||
			{ why="${why}$g: GET http://${ADDR[$g]}:8080/boot-id failed: $(tr '\n' ' ' <"$W/wget.err"); "; continue; }
		log "$g: http://${ADDR[$g]}:8080/boot-id -> $body"
		[ "$body" = "${BOOT[$g]}" ] ||
			why="${why}$g: the guest at ${ADDR[$g]} serves boot id '$body', the probe reported '${BOOT[$g]}'; "
	done
	[ -z "$why" ]
}

st_addr_change() {
	local a=${DOMID[guest-a]:-} seq0 line body
	# The last seq the probe reported for guest-a before the change.
	seq0=$(grep -a -E "^domain $a addrs ok seq=" "$W/watch.log" | tail -n1 | sed -n 's/.* seq=\([0-9]*\).*/\1/p')
	send_cmd guest-a addr-add "$EXTRA_IP/24" || { why="guest-a: $ack"; return 1; }
	# A "." in the address must not match any character.
	local re="^domain $a addrs ok seq=[0-9]+ .*,${EXTRA_IP//./\\.}/24( |$)"
	if ! wait_for 90 grep -aqE "$re" "$W/watch.log"; then
		why="xvds-probe watch showed no addrs record with $EXTRA_IP/24 for domain $a within $((90 * LAB_SLACK)) s (last: $(grep -a "^domain $a addrs" "$W/watch.log" | tail -n1))"
		return 1
	fi
	line=$(grep -aE "$re" "$W/watch.log" | head -n1)
	log "watch: $line"
	local seq1=${line#* seq=}
	seq1=${seq1%% *}
	if [ -n "$seq0" ] && [ "$seq1" -le "$seq0" ]; then
		why="seq did not increase ($seq0 -> $seq1): $line"
		return 1
	fi
	body=$(fetch "http://$EXTRA_IP:8080/boot-id") || { why="GET http://$EXTRA_IP:8080/boot-id failed"; return 1; }
	[ "$body" = "${BOOT[guest-a]:-}" ] ||
		{ why="$EXTRA_IP serves boot id '$body', guest-a's is '${BOOT[guest-a]:-?}'"; return 1; }
	note="seq ${seq0:-?}->$seq1"
}

st_isolation() {
	local a=${DOMID[guest-a]:-} b=${DOMID[guest-b]:-} k res pair n=0
	[ -n "$a" ] && [ -n "$b" ] || { why="needs both guests"; return 1; }
	# Keys the attempts aim at, and their values before.
	local keys="/local/domain/$b/data/xvds/boot-complete /local/domain/$b/data/xvds/addrs /local/domain/$b/name
		/local/domain/0/name /local/domain/$a/name /local/domain/$a/domid"
	local absent="/local/domain/$b/data/lab/intruder /local/domain/0/data/intruder /tool/intruder"
	declare -A before=()
	for k in $keys; do before[$k]=$(xenstore-read "$k" 2>&1); done
	local perms0
	perms0=$(xenstore-ls -p "/local/domain/$a" 2>/dev/null | grep '^name ')
	send_cmd guest-a isolation "$b" || { why="guest-a: $ack"; return 1; }
	res=$(xenstore-read "/local/domain/$a/data/lab/isolation" 2>/dev/null) ||
		{ why="guest-a wrote no data/lab/isolation"; return 1; }
	log "guest-a's attempts (name=exit status): $res"
	for pair in $res; do
		n=$((n + 1))
		[ "${pair#*=}" != 0 ] || why="${why}guest-a succeeded: ${pair%=*}; "
	done
	[ $n = 10 ] || why="${why}expected 10 attempts, got $n ($res); "
	for k in $keys; do
		[ "$(xenstore-read "$k" 2>&1)" = "${before[$k]}" ] || why="${why}$k changed; "
	done
	for k in $absent; do
		! xenstore-exists "$k" 2>/dev/null || why="${why}$k exists; "
	done
	[ "$(xenstore-ls -p "/local/domain/$a" 2>/dev/null | grep '^name ')" = "$perms0" ] ||
		why="${why}permissions of /local/domain/$a/name changed; "
	[ -z "$why" ]
	local ok=$?
	note="$n attempts refused"
	return $ok
}

# xvds-probe passes on at most 5 rejections per domain per minute (flood
# control, by design), so guest-a sends 5 records that reach dom0 and guest-b
# the rest; oversize (3000 bytes) is normally refused by xenstored itself.
MALFORMED="guest-a:bad-boot guest-a:bad-version guest-a:too-long guest-a:oversize
	guest-a:bad-addr guest-b:garbage guest-b:bad-prefix"
st_malformed() {
	local item g c d start key n0 rc line refused="" sent=0
	have_guests || { why="needs both guests"; return 1; }
	# Where the watch log stood before: acceptance is checked after this line.
	start=$(wc -l <"$W/watch.log")
	for item in $MALFORMED; do
		g=${item%%:*} c=${item#*:}
		d=${DOMID[$g]}
		case $c in *addr* | *prefix*) key=addrs ;; *) key=boot-complete ;; esac
		n0=$(grep -ac "^domain $d $key rejected" "$W/watch.log")
		send_cmd "$g" malformed "$c" || { why="${why}$c: $g: $ack; "; continue; }
		rc=${ack#ok rc=}
		if [ "$rc" != 0 ]; then
			# xenstored refused the write (its entry size quota):
			# nothing reached dom0, which is as good as a rejection.
			log "$g $c: xenstored refused the write (xenstore-write status $rc)"
			refused="$refused $c"
			continue
		fi
		sent=$((sent + 1))
		# One rejection per write: each case waits for its own line.
		if ! wait_for 60 eval '[ "$(grep -ac "^domain $d $key rejected" "$W/watch.log")" -gt "$n0" ]'; then
			why="${why}$g $c: no 'domain $d $key rejected' line within $((60 * LAB_SLACK)) s; "
			continue
		fi
		line=$(grep -a "^domain $d $key rejected" "$W/watch.log" | tail -n1)
		log "$g $c: $line"
	done
	# None of it may have been accepted.
	local after
	after=$(tail -n +"$((start + 1))" "$W/watch.log")
	if grep -aqE "^domain [0-9]+ boot-complete ok" <<<"$after"; then
		why="${why}accepted a malformed boot-complete: $(grep -aE "^domain [0-9]+ boot-complete ok" <<<"$after" | head -n1 | head -c 200); "
	fi
	if grep -aqE "^domain [0-9]+ addrs ok .*(999\.1\.2\.3|10\.77\.0\.99)" <<<"$after"; then
		why="${why}accepted a malformed addrs record; "
	fi
	[ -z "$why" ] || return 1
	note="$sent rejected${refused:+, xenstored itself refused:$refused}"
}

st_shutdown() {
	local g pids=() clog ok
	shutting_down=1
	for g in $GUESTS; do
		[ -n "${DOMID[$g]:-}" ] || continue
		timeout 90 xl shutdown -w "$g" >"$W/shutdown-$g.log" 2>&1 &
		pids+=("$g:$!")
	done
	[ ${#pids[@]} -gt 0 ] || { why="no guests to shut down"; return 1; }
	for p in "${pids[@]}"; do
		wait "${p#*:}" || why="${why}xl shutdown -w ${p%%:*} exited $?: $(tr '\n' ' ' <"$W/shutdown-${p%%:*}.log"); "
	done
	for g in $GUESTS; do
		[ -n "${DOMID[$g]:-}" ] || { why="${why}$g was never created; "; continue; }
		clog=$CONSOLE_DIR/guest-$g.log
		# xenconsoled may still be flushing the last lines.
		if wait_for 20 grep -aq 'stopping' "$clog"; then
			log "$g: $(grep -a 'stopping' "$clog" | head -n1 | tr -d '\r')"
		else
			why="${why}$g's console shows no 'stopping' line from xvds-guestd; "
		fi
	done
	[ -z "$why" ]
}

only_dom0_left() {
	probe_list >/dev/null 2>&1 &&
		[ "$(wc -l <"$W/list.rows")" = 1 ] &&
		grep -q '^0[[:space:]]\+Domain-0' "$W/list.rows"
}
st_domains_gone() {
	# A domain that finished shutting down may be listed as dying for a moment.
	wait_for 60 only_dom0_left || {
		why="xvds-probe list still shows: $(tr '\n' '|' <"$W/list.rows")"
		return 1
	}
	show "$W/list.out"
}

# --- Main -------------------------------------------------------------------------
log "dom0-test.sh starting; xvds-probe: $PROBE"
watch_pid=""
run_stage dom0-up st_dom0_up
# run.sh's self-test (--inject): wedge the first attempt (run.sh retries the
# boot), fail without a flake (never retried), or have the emulator "kill"
# the PVH guest once (xvdsd-migrate-pvh re-creates it).  Never set in a
# normal run.
attempt=$(sed -n 's/.*xvds\.lab\.attempt=\([0-9]*\).*/\1/p' /proc/cmdline)
inject=$(sed -n 's/.*xvds\.lab\.inject=\([a-z-]*\).*/\1/p' /proc/cmdline)
case $inject/$attempt in
wedge/1) log "injected wedge: going silent"; sleep 100000 ;;
fail/* | pvh-fault/*) ;;
*) inject="" ;;
esac
if [ $failed = 1 ]; then
	for s in $STAGES; do [ -n "${reported[$s]:-}" ] || skip_stage "$s" "dom0 is not up"; done
else
	run_stage probe-list st_probe_list
	start_backend_log
	start_watch
	run_stage create st_create
	stage_needs=guests_present
	run_stage boot-complete st_boot_complete
	run_stage probe-list-guests st_probe_list_guests
	run_stage tcp st_tcp
	run_stage addr-change st_addr_change
	run_stage isolation st_isolation
	run_stage malformed st_malformed
	stage_needs=""
	run_stage shutdown st_shutdown
	run_stage domains-gone st_domains_gone
	run_xvdsd_stages
	run_ctrl_stages
fi
if [ -n "$watch_pid" ]; then
	kill "$watch_pid" 2>/dev/null
	wait "$watch_pid" 2>/dev/null
fi
[ $failed = 0 ] || dump
# What the project's programs saw and did, for the record (and run-demo.sh).
if [ -s "$W/watch.log" ]; then
	grep -E '^domain [0-9]+ ' "$W/watch.log" | sed 's/^/lab: report: probe: /'
fi
for f in "$W/xvdsd.log" "$W/xvdsd-b.log" "$W/xvdsd-ctrl.log"; do
	[ -s "$f" ] || continue
	case $f in
	*/xvdsd.log) who=lab-a ;;
	*/xvdsd-b.log) who=lab-b ;;
	*) who=lab-a-ctrl ;;
	esac
	grep -E 'xvdsd: ([A-Za-z0-9_.-]+: [a-z]+ -> [a-z]+ on |controller: (op [0-9]+: |welcomed|connected))' "$f" |
		sed -E "s/^[0-9]+\.[0-9]+ //; s/^/lab: report: $who: /"
done
# Again, all together: a stage line that Xen's own output happened to split
# on the shared serial console still arrives whole once.
log "summary:"
for l in "${stage_lines[@]}"; do echo "$l"; done
echo "XVDS-LAB-DONE"
