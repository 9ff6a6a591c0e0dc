#!/bin/bash
# Boot the Xen lab (real Xen 4.17 under QEMU/TCG) with the project's binaries,
# run tests/lab/dom0-test.sh in dom0 and report its stages.
#
# Usage: run.sh --probe PATH/xvds-probe --guestd PATH/xvds-guestd [options]
#   --xvdsd PATH, --xvdsctl PATH   the host daemon and its CLI, for the
#                   xvdsd stages (tests/lab/xvdsd-stages.sh)
#   --controller PATH, --client PATH   xvds-controller, run here with a
#                   throwaway PostgreSQL (scripts/lab/controller.sh), and
#                   xvds-client, run in dom0, for the ctrl-* stages
#                   (tests/lab/ctrl-stages.sh); they need --xvdsd and
#                   --xvdsctl.  Without them dom0 has no network at all.
#   --desktop IMAGE the desktop image (scripts/desktop-image.sh --lab), with
#                   --controller: a read-only disk of the emulated machine,
#                   the desktop pool's golden image; the ctrl-desktop stage
#                   boots it as a CVM and tests/lab/desktop-client.sh logs
#                   in to it from this machine over RDP
#   --log FILE      write the serial console (all attempts of this run) to FILE
#   --result FILE   write machine-readable results (used by tests/lab/lab.test)
#   --timeout SECS  outer limit per boot (default 2400: a safety net; the
#                   stages bound their own waits, and a silent console is
#                   caught by --silence)
#   --silence SECS  kill QEMU when the console is silent this long (default 180)
#   --no-retry      never retry a wedged boot
#   --screenshot FILE  (with --desktop) copy there the Pi's screen as the
#                   thin client showed the user's desktop (a PNG)
#   --keep          keep the run directory (kept anyway on failure)
#   --verbose       stream the whole console, not only the XVDS lines
#   --dom0-test FILE  run FILE in dom0 instead of tests/lab/dom0-test.sh
#                   (scripts/lab/flake-count.sh runs tests/lab/flake-cycles.sh)
#   --append ARGS   more words for dom0's kernel command line
#   --inject WHAT   self-test of the retry logic: dom0-test.sh wedges the
#                   first attempt (wedge: the boot is retried), fails without
#                   a flake (fail: never retried), or has the emulator "kill"
#                   the PVH guest once (pvh-fault: its stage re-creates it)
#
# Stage protocol (on the serial console, from dom0-test.sh):
#   XVDS-STAGE <name> PASS <seconds>
#   XVDS-STAGE <name> FAIL <seconds> <why>
#   XVDS-FLAKE <signature> <detail>      a guest died or froze (diagnostics)
#   XVDS-RETRY <stage> <detail>          a stage re-created a guest that the
#                                        emulator killed (its one retry)
#   XVDS-DESKTOP-READY colour=C ip=A     the desktop CVM is ready: run
#                                        the client here (--desktop)
#   XVDS-LAB-DONE                        the test script finished
# Exit status: 0 every stage passed, 1 the lab failed, 2 usage error.
#
# Emulated SVM sometimes triple-faults a PVH guest (never a PV one), and
# once in a long while wedges the whole emulated machine.  Retries are at
# the smallest scope and loud: the one stage with a PVH guest re-creates it
# once when Xen logged its triple fault (XVDS-RETRY); a boot whose console
# stays silent for --silence seconds is killed and booted once more.
# Nothing else is retried.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
repo=$(cd "$here/../.." && pwd)
tests=${XVDS_LAB_TESTS:-$repo/tests/lab}

probe="" guestd="" xvdsd="" xvdsctl="" controller="" client="" logfile="" resultfile="" screenshot="" keep=no retry=yes verbose=no inject=""
dom0_test="" append="" desktop="" desk_pid=""
timeout=2400 silence=180
usage() { sed -n '2,28s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--probe) probe=${2:?}; shift ;;
	--guestd) guestd=${2:?}; shift ;;
	--xvdsd) xvdsd=${2:?}; shift ;;
	--xvdsctl) xvdsctl=${2:?}; shift ;;
	--controller) controller=${2:?}; shift ;;
	--client) client=${2:?}; shift ;;
	--desktop) desktop=${2:?}; shift ;;
	--log) logfile=${2:?}; shift ;;
	--result) resultfile=${2:?}; shift ;;
	--screenshot) screenshot=${2:?}; shift ;;
	--timeout) timeout=${2:?}; shift ;;
	--silence) silence=${2:?}; shift ;;
	--no-retry) retry=no ;;
	--keep) keep=yes ;;
	--verbose) verbose=yes ;;
	--inject) inject=${2:?}; shift ;;
	--dom0-test) dom0_test=${2:?}; shift ;;
	--append) append=${2:?}; shift ;;
	-h|--help) usage ;;
	*) echo "run.sh: unknown argument $1" >&2; usage ;;
	esac
	shift
done
[ -n "$probe" ] && [ -n "$guestd" ] || usage
case $inject in ""|wedge|fail|pvh-fault) ;; *) echo "run.sh: --inject wedge|fail|pvh-fault" >&2; exit 2 ;; esac
if [ -n "$controller$client" ]; then
	[ -n "$controller" ] && [ -n "$client" ] && [ -n "$xvdsd" ] && [ -n "$xvdsctl" ] || {
		echo "run.sh: --controller and --client go together, with --xvdsd and --xvdsctl" >&2
		exit 2
	}
fi
if [ -n "$desktop" ]; then
	[ -n "$controller" ] || { echo "run.sh: --desktop needs --controller" >&2; exit 2; }
	[ -f "$desktop" ] || { echo "run.sh: --desktop $desktop: no such file" >&2; exit 2; }
	case $desktop in *,*) echo "run.sh: --desktop $desktop: a comma in the path" >&2; exit 2 ;; esac
fi

say() { echo "lab: $*"; }
result() { [ -z "$resultfile" ] || echo "$*" >>"$resultfile"; }
# This run's, not appended to an earlier run's: run-demo.sh reads them back.
[ -z "$resultfile" ] || : >"$resultfile"
[ -z "$logfile" ] || : >"$logfile"
# An infrastructure failure: nothing was booted, or nothing can be trusted.
die() {
	echo "lab: ERROR: $*" >&2
	result "error $*"
	result "result FAIL"
	exit 1
}

for f in "$probe" "$guestd" ${xvdsd:+"$xvdsd"} ${xvdsctl:+"$xvdsctl"} \
	${controller:+"$controller"} ${client:+"$client"}; do
	[ -f "$f" ] && [ -x "$f" ] || die "$f is not an executable file (build the project first)"
	# libtool's wrapper scripts stand in for not-installed binaries; the real
	# one is in .libs/.
	if head -n 40 "$f" | grep -aq 'libtool'; then
		die "$f is a libtool wrapper script; pass $(dirname "$f")/.libs/$(basename "$f")"
	fi
done
for f in dom0-test.sh guest-test.sh guest-apply-credential.sh xvdsd-stages.sh migrate-stages.sh ctrl-stages.sh desktop-client.sh; do
	[ -f "$tests/$f" ] || die "$tests/$f missing"
done
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (package qemu-system-x86)"

dom0_test=${dom0_test:-$tests/dom0-test.sh}
[ -f "$dom0_test" ] || die "$dom0_test missing"
# The stage list lives in dom0-test.sh (STAGES="..."): one source of truth.
stages=$(sed -n 's/^STAGES="\(.*\)"$/\1/p' "$dom0_test")
[ -n "$stages" ] || die "no STAGES=\"...\" line in $dom0_test"
# The controller's stages run only with one (dom0 finds /lab/ctrl/env).
if [ -z "$controller" ]; then
	stages=$(for s in $stages; do case $s in ctrl-*) ;; *) echo "$s" ;; esac; done)
	stages=$(echo $stages)
else
	. "$here/controller.sh"
fi

t_start=$EPOCHREALTIME
# --- Base images (cached) -----------------------------------------------------
images=$("$here/build-images.sh") || die "building the lab images failed"
t_images=$(lab_elapsed "$t_start")

# --- Per-run overlay: the project's binaries and the tests ---------------------
run=$(mktemp -d "${TMPDIR:-/tmp}/xvds-lab.XXXXXX")
case $run in *,*) die "run directory $run contains a comma (QEMU's module separator)" ;; esac
trap '[ -z "${qpid:-}" ] || kill "$qpid" 2>/dev/null || true; desk_stop; [ -z "$controller" ] || ctl_stop || true' EXIT
trap 'exit 130' INT TERM
t_ov=$EPOCHREALTIME
(
	# Copy the base images under a shared lock so a concurrent rebuild
	# cannot prune them halfway.
	flock -s 9
	cp "$images/xen.elf" "$images/vmlinuz" "$images/guest-base.cpio" \
		"$images/dom0-base.cpio.gz" "$images/desktop-boot.cpio" "$run/"
) 9>>"${XVDS_LAB_CACHE:-/var/cache/xvds-lab}/.lock" || die "copying the base images failed"
g="$run/guest-root"
mkdir -p "$g/lab"
lab_install_bin "$g" "$guestd" /usr/bin/xvds-guestd || die "cannot collect $guestd's libraries"
install -m 0755 "$tests/guest-test.sh" "$g/lab/guest-test.sh"
install -m 0755 "$tests/guest-apply-credential.sh" "$g/lab/apply-credential"
d="$run/dom0-root"
mkdir -p "$d/lab"
# With the controller, the guests' agents publish an RDP certificate's
# fingerprint (xvds-guestd -r); dom0 is told what it must be, as OpenSSL
# says, to check what the broker hands out.
if [ -n "$controller" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=xvds lab rdp" -days 1 -keyout "$run/rdp.key" \
	    -out "$g/lab/rdp-cert.pem" 2>/dev/null &&
	openssl x509 -in "$g/lab/rdp-cert.pem" -noout -fingerprint -sha256 |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f' >"$d/lab/rdp-cert.sha256" ||
	    die "cannot make the guests' RDP certificate"
fi
lab_cpio "$g" "$run/guest-overlay.cpio"
lab_install_bin "$d" "$probe" /usr/bin/xvds-probe || die "cannot collect $probe's libraries"
install -m 0755 "$dom0_test" "$d/lab/dom0-test.sh"
install -m 0644 "$tests/xvdsd-stages.sh" "$d/lab/xvdsd-stages.sh"
install -m 0644 "$tests/migrate-stages.sh" "$d/lab/migrate-stages.sh"
install -m 0644 "$tests/ctrl-stages.sh" "$d/lab/ctrl-stages.sh"
netargs=(-nic none)
if [ -n "$controller" ]; then
	lab_install_bin "$d" "$client" /usr/bin/xvds-client || die "cannot collect $client's libraries"
	ctl_prepare "$run" "$d" >"$run/ctl-prepare.msg" 2>&1 ||
		die "the controller's side: $(tr '\n' ' ' <"$run/ctl-prepare.msg")"
	netargs=("${ctl_net[@]}")
	if [ -n "$desktop" ]; then
		# The golden image: a read-only disk (/dev/vda in dom0), served
		# to the desktop CVMs by blkback.
		netargs+=(-drive "file=$desktop,if=virtio,format=raw,readonly=on")
		install -m 0644 "$run/desktop-boot.cpio" "$d/lab/desktop-boot.cpio"
	fi
fi
if [ -n "$xvdsd" ]; then
	lab_install_bin "$d" "$xvdsd" /usr/sbin/xvdsd || die "cannot collect $xvdsd's libraries"
fi
if [ -n "$xvdsctl" ]; then
	lab_install_bin "$d" "$xvdsctl" /usr/sbin/xvdsctl || die "cannot collect $xvdsctl's libraries"
fi
# Appended cpio archives unpack over each other.  The guest's stays
# uncompressed (see build-images.sh); dom0's initramfs compresses it.
cat "$run/guest-base.cpio" "$run/guest-overlay.cpio" >"$d/lab/guest.cpio"
lab_cpio "$d" "$run/dom0-overlay.cpio.gz"
cat "$run/dom0-base.cpio.gz" "$run/dom0-overlay.cpio.gz" >"$run/dom0.cpio.gz"
rm -rf "$g" "$d"
t_overlay=$(lab_elapsed "$t_ov")
say "images $images (checked in ${t_images} s); overlay built in ${t_overlay} s; run dir $run"

xen_cmdline="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M loglvl=all guest_loglvl=all"
dom0_cmdline="console=hvc0 earlyprintk=xen rdinit=/init loglevel=5"

# --- One boot -------------------------------------------------------------------
# Globals filled by boot(): per stage status/seconds/why, host timings,
# flake signatures, and how the boot ended.
declare -A st_status st_secs st_why
boot() {
	local n=$1
	local console="$run/console-$n.log" fifo="$run/serial-$n.fifo"
	st_status=() st_secs=() st_why=()
	flakes=() emu_faults=() retries=() wedged=no done=no ended="" dom0_ready="" qemu_rc=""
	mkfifo "$fifo"
	local t0=$EPOCHREALTIME
	qemu-system-x86_64 -accel tcg,thread=multi -cpu qemu64,+svm,+npt -machine q35 \
		-smp 2 -m 2048 -display none -monitor none -no-reboot "${netargs[@]}" \
		-serial stdio -kernel "$run/xen.elf" -append "$xen_cmdline" \
		-initrd "$run/vmlinuz $dom0_cmdline xvds.lab.attempt=$n${inject:+ xvds.lab.inject=$inject}${append:+ $append},$run/dom0.cpio.gz" \
		</dev/null >"$fifo" 2>"$run/qemu-$n.stderr" &
	qpid=$!
	local line="" chunk="" partial="" rc last=$SECONDS begin=$SECONDS
	exec 8<"$fifo" 7>"$console"
	while :; do
		if IFS= read -r -t 5 -u 8 chunk; then
			line=$partial$chunk
			partial=""
		else
			rc=$?
			if [ $rc -le 128 ]; then
				# EOF: QEMU exited.
				line=$partial$chunk
				[ -z "$line" ] || console_line "$line" "$t0"
				break
			fi
			# Timed out; keep a partial line for later.
			if [ -n "$chunk" ]; then
				partial+=$chunk
				last=$SECONDS
			fi
			if [ $((SECONDS - last)) -ge "$silence" ]; then
				ended="wedge: console silent for ${silence} s"
				wedged=yes
				break
			fi
			if [ $((SECONDS - begin)) -ge "$timeout" ]; then
				ended="timeout: no end after ${timeout} s"
				break
			fi
			continue
		fi
		last=$SECONDS
		console_line "$line" "$t0"
	done
	if [ -n "$ended" ]; then
		say "killing QEMU ($ended)"
		kill "$qpid" 2>/dev/null || true
	fi
	wait "$qpid" && qemu_rc=0 || qemu_rc=$?
	qpid=""
	desk_stop
	exec 8<&- 7>&-
	rm -f "$fifo"
	total=$(lab_elapsed "$t0")
	if [ -s "$run/qemu-$n.stderr" ]; then
		say "QEMU's stderr:"
		sed 's/^/lab:   /' "$run/qemu-$n.stderr"
	fi
	[ -n "$ended" ] || [ "$qemu_rc" = 0 ] || ended="QEMU exited with status $qemu_rc"
	[ -n "$ended" ] || [ $done = yes ] || ended="console ended without XVDS-LAB-DONE"
	[ -z "$logfile" ] || { echo "===== attempt $n ====="; cat "$console"; } >>"$logfile"
}

# console_line LINE T0: log a console line and act on the lab's markers.
# Serial lines end in \r\r\n (dom0's hvc and Xen's serial each add one): drop every \r.
console_line() {
	local l=${1//$'\r'/} rest name status secs why
	printf '%s\n' "$l" >&7
	[ $verbose = no ] || printf '%s\n' "$l"
	case $l in
	*XVDS-STAGE\ *)
		rest=${l#*XVDS-STAGE }
		read -r name status secs why <<<"$rest"
		# Ignore a line that Xen's output split; dom0-test.sh repeats
		# every stage line in a summary at the end.
		case $status in PASS | FAIL) ;; *) return 0 ;; esac
		[[ $secs =~ ^[0-9]+(\.[0-9]+)?$ ]] || return 0
		[ -z "${st_status[$name]:-}" ] || return 0
		st_status[$name]=$status st_secs[$name]=$secs st_why[$name]=$why
		[ "$name" != dom0-up ] || dom0_ready=$(lab_elapsed "$2")
		[ $verbose = yes ] || say "[$(lab_elapsed "$2") s] $name $status ${secs}s${why:+ $why}"
		;;
	*XVDS-FLAKE\ *)
		flakes+=("${l#*XVDS-FLAKE }")
		say "a guest died or froze: ${l#*XVDS-FLAKE }"
		;;
	*"Triple fault"*)
		# The stage that owns the guest decides (XVDS-RETRY or FAIL).
		emu_faults+=("$l")
		say "the emulator triple-faulted a guest: $l"
		;;
	*XVDS-RETRY\ *)
		retries+=("${l#*XVDS-RETRY }")
		echo "lab: !!! RETRIED: ${l#*XVDS-RETRY }"
		;;
	*XVDS-DESKTOP-READY\ *)
		desk_start "${l#*XVDS-DESKTOP-READY }"
		;;
	*XVDS-LAB-DONE*) done=yes ;;
	esac
	return 0
}

# desk_start "colour=C ip=A": the thin client here, in the background
# (tests/lab/desktop-client.sh); it reports to dom0 and to $run/desk-result.
desk_start() {
	local colour="" ip="" w
	for w in $1; do
		case $w in colour=*) colour=${w#colour=} ;; ip=*) ip=${w#ip=} ;; esac
	done
	[ -n "$desktop" ] && [ -z "$desk_pid" ] || return 0
	say "the desktop is ready (colour $colour at $ip): the client logs in from here"
	CLIENT=$client CA=$run/ctrl/ca.pem BROKER_PORT=$ctl_bport \
		DESK_PORT=$ctl_dport RESULT_PORT=$ctl_rport SEEN_PORT=$ctl_sport \
		DESK_PW=$CTRL_PW_dave \
		"$tests/desktop-client.sh" "$run" "$colour" "$ip" </dev/null >/dev/null 2>&1 &
	desk_pid=$!
}
desk_stop() {
	[ -n "${desk_pid:-}" ] || return 0
	# Done by now, or stopped: its verdict is in $run/desk-result.
	kill "$desk_pid" 2>/dev/null || true
	wait "$desk_pid" 2>/dev/null || true
	desk_pid=""
}

# verdict: 0 when every stage passed and the run ended normally.
verdict() {
	local s
	[ -z "$ended" ] || return 1
	for s in $stages; do
		[ "${st_status[$s]:-}" = PASS ] || return 1
	done
	return 0
}

attempt=1
max_attempts=2
retried=""
while :; do
	if [ -n "$controller" ]; then
		# A fresh database and controller for every attempt.
		ctl_stop || true
		t_ctl=$EPOCHREALTIME
		ctl_start >"$run/ctl-start.msg" 2>&1 ||
			die "starting the controller: $(tr '\n' ' ' <"$run/ctl-start.msg")"
		say "controller up (PostgreSQL, xvds-controller, catalogue) in $(lab_elapsed "$t_ctl") s: agent port $ctl_aport, broker port $ctl_bport on 127.0.0.1, forwarded to dom0 as $CTRL_ADDR"
	fi
	say "boot attempt $attempt: QEMU (TCG) starting"
	boot $attempt
	if verdict; then
		break
	fi
	if [ $attempt -lt $max_attempts ] && [ $wedged = yes ] && [ $retry = yes ]; then
		retried="${retried:+$retried; }attempt $attempt: $ended"
		echo "lab: !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		echo "lab: !!! RETRYING THE WHOLE BOOT: attempt $attempt wedged the emulator ($ended)"
		echo "lab: !!! (console of attempt $attempt: $run/console-$attempt.log)"
		echo "lab: !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		result "retry boot attempt $attempt wedged: $ended"
		attempt=$((attempt + 1))
		continue
	fi
	break
done

# --- Report ----------------------------------------------------------------------
ok=yes
verdict || ok=no
# What the controller's database recorded of the run.
declare -A ck_status ck_why
ck_line() {
	local name status why
	read -r _ name status why <<<"$1"
	ck_status[$name]=$status ck_why[$name]=$why
	result "$1"
}
if [ -n "$controller" ]; then
	ctl_check ck_line || true
	[ -z "$desktop" ] || [ ! -f "$run/desk-result" ] ||
		while read -r line; do ck_line "$line"; done <"$run/desk-result"
	[ -z "$screenshot" ] || [ ! -f "$run/desktop-2.png" ] ||
		cp "$run/desktop-2.png" "$screenshot" || true
	for c in $CTRL_CHECKS ${desktop:+$DESK_CHECKS}; do
		[ "${ck_status[$c]:-}" = PASS ] || ok=no
	done
	ctl_report >"$run/events.txt" || true
	ctl_stop || true
	[ -z "$logfile" ] || cat "$run/events.txt" >>"$logfile"
	[ $verbose = no ] || cat "$run/events.txt"
fi
echo
printf 'lab: %-20s %-7s %8s  %s\n' stage result seconds note
for s in $stages; do
	status=${st_status[$s]:-MISSING}
	printf 'lab: %-20s %-7s %8s  %s\n' "$s" "$status" "${st_secs[$s]:--}" "${st_why[$s]:-}"
	result "stage $s $status ${st_secs[$s]:--} ${st_why[$s]:-}"
done
printf 'lab: %-20s %8s s\n' "image check" "$t_images" "overlay build" "$t_overlay" \
	"QEMU start->dom0 up" "${dom0_ready:--}" "QEMU start->exit" "$total" \
	"whole run" "$(lab_elapsed "$t_start")"
if [ -n "$controller" ]; then
	for c in $CTRL_CHECKS ${desktop:+$DESK_CHECKS}; do
		printf 'lab: %-20s %-7s %8s  %s\n' "$c" "${ck_status[$c]:-MISSING}" - "${ck_why[$c]:-}"
	done
fi
result "info image check ${t_images}s, overlay ${t_overlay}s, QEMU start to dom0 up ${dom0_ready:--}s, boot total ${total}s, attempts $attempt"
# The benchmark lines dom0-test.sh printed (tests/lab/xvdsd-stages.sh).
grep -a 'lab: report: bench: ' "$run/console-$attempt.log" | tr -d '\r' | sed 's/report: //'
[ -z "$retried" ] || say "NOTE: this result comes from a RETRIED BOOT; earlier attempts: $retried"
for r in "${retries[@]}"; do
	say "NOTE: a stage RETRIED: $r"
	result "retry $r"
done
if [ ${#emu_faults[@]} -gt 0 ]; then
	say "the emulator triple-faulted ${#emu_faults[@]} guest(s) in the boot that counts:"
	for f in "${emu_faults[@]}"; do say "   $f"; done
	result "warning the emulator triple-faulted ${#emu_faults[@]} guest(s): ${emu_faults[*]}"
fi
if [ ${#flakes[@]} -gt 0 ]; then
	say "dom0 saw a guest die or freeze: ${flakes[*]}"
	result "warning a guest died or froze: ${flakes[*]}"
fi
[ -z "$ended" ] || say "boot ended abnormally: $ended"

if [ $ok = no ]; then
	console="$run/console-$attempt.log"
	# Guest consoles, which dom0-test.sh prints between markers on failure.
	if grep -q 'XVDS-DUMP-BEGIN' "$console"; then
		echo "lab: ---- diagnostics printed by dom0 ----"
		sed -n '/XVDS-DUMP-BEGIN/,/XVDS-DUMP-END/p' "$console" | tr -d '\r'
	fi
	if [ -n "$controller" ] && [ -s "$run/ctrl/controller.log" ]; then
		echo "lab: ---- the controller's log, last 40 lines ($run/ctrl/controller.log) ----"
		tail -n 40 "$run/ctrl/controller.log"
	fi
	echo "lab: ---- last 60 lines of the serial console ($console) ----"
	tail -n 60 "$console" | tr -d '\r'
	echo "lab: ---- end ----"
	say "RESULT: FAIL (run directory kept: $run)"
	result "result FAIL"
	exit 1
fi
result "result PASS"
say "RESULT: PASS"
if [ $keep = no ]; then
	rm -rf "$run"
else
	say "run directory kept: $run"
fi
exit 0
