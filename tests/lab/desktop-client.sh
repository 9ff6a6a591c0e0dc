#!/bin/bash
# The lab's thin client, on this machine (run by scripts/lab/run.sh when
# dom0's ctrl-desktop stage prints XVDS-DESKTOP-READY): a network namespace
# stands for the Raspberry Pi, with the broker (10.0.2.100) and the
# desktop's own address on its loopback, each relayed over a unix socket to
# QEMU's forwards on 127.0.0.1 (scripts/lab/README.md, "The desktop
# guest").  User dave logs in through the broker with xvds-client; xfreerdp3
# on a private Xvfb display connects with the one-time credential on stdin
# and the certificate pinned to the fingerprint the broker handed out; its
# screenshot must show the colour dom0 read from the guest's xenstore.  A
# wrong password must be refused by the RDP server.  Then dave logs out;
# the verdict goes to dom0 (which checks the reset) and to RESULT.
#
# Usage: desktop-client.sh RUN COLOUR ADDRESS
# Environment: CLIENT (xvds-client), CA (the controller's CA), BROKER_PORT,
#   DESK_PORT (QEMU's forward to dom0's relay to the desktop's port 3389),
#   RESULT_PORT (QEMU's forward to dom0's listener for the verdict),
#   DESK_PW (dave's password).
# Writes RUN/desk-result ("check NAME PASS|FAIL why" lines), RUN/desk.log
# and RUN/desktop.png (the screenshot).
set -u
run=$1 colour=$2 addr=$3
log=$run/desk.log
result=$run/desk-result
ns=xvds-pi-$$
pids=()
: >"$result"
exec 3>>"$log"
say() { echo "desktop-client: $*" >&3; }
check() { echo "check $1 $2 ${3:-}" >>"$result"; say "$1 $2 ${3:-}"; }

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$run/pi-home"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# wait_until SECONDS COMMAND...: poll until COMMAND succeeds.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.5
	done
}

# relay NAME ADDR PORT TARGET-PORT: ADDR:PORT inside the namespace reaches
# 127.0.0.1:TARGET-PORT here, through the unix socket RUN/NAME.sock.
relay() {
	local sock=$run/$1.sock
	socat UNIX-LISTEN:"$sock",fork TCP:127.0.0.1:"$4" 2>>"$log" &
	pids+=($!)
	ip netns exec "$ns" socat TCP-LISTEN:"$3",bind="$2",fork,reuseaddr \
		UNIX-CONNECT:"$sock" 2>>"$log" &
	pids+=($!)
}

pi_up() {
	ip netns add "$ns" && ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add 10.0.2.100/32 dev lo &&
		ip -n "$ns" addr add "$addr/32" dev lo || return 1
	relay broker 10.0.2.100 "$BROKER_PORT" "$BROKER_PORT"
	relay desk "$addr" 3389 "$DESK_PORT"
	# The Pi's screen: a display of its own (the viewer draws there).
	disp=$((60 + $$ % 30))
	Xvfb ":$disp" -screen 0 1024x768x24 -nolisten tcp -noreset >>"$log" 2>&1 &
	pids+=($!)
	mkdir -p "$run/pi-home"
	wait_until 20 env DISPLAY=":$disp" xdpyinfo >/dev/null 2>&1
}

# in_pi CMD...: a command of the Pi (its network, its display, its home).
in_pi() {
	ip netns exec "$ns" env HOME="$run/pi-home" DISPLAY=":$disp" "$@"
}

val() { sed -n "s/^$1=//p" "$run/login.out" | head -n1; }

login() {
	printf '%s\n' "$DESK_PW" | in_pi timeout 200 "$CLIENT" -1 -C "$CA" \
		-p "$BROKER_PORT" -u dave 10.0.2.100 >"$run/login.out" 2>>"$log"
}

# viewer_auth PASSWORD: xfreerdp3's exit status when it only authenticates.
viewer_auth() {
	printf '%s\n' "$1" | in_pi timeout 120 xfreerdp3 /v:"$addr":3389 \
		/u:"$(val rdp_user)" /from-stdin:force \
		/cert:deny,fingerprint:sha256:"$(val cert_fingerprint)" +auth-only \
		/timeout:60000 >>"$log" 2>&1
}

# shows_colour: the Pi's screen, away from the xterm, has the token colour
# (a lossy codec may move each channel by a few steps).
shows_colour() {
	local got want r g b
	DISPLAY=":$disp" import -window root "$run/desktop.png" 2>>"$log" || return 1
	got=$(convert "$run/desktop.png" -format '%[fx:int(255*p{960,700}.r)] %[fx:int(255*p{960,700}.g)] %[fx:int(255*p{960,700}.b)]' info: 2>>"$log")
	read -r r g b <<<"$got"
	want=$colour
	close "$r" "$((16#${want:0:2}))" && close "$g" "$((16#${want:2:2}))" &&
		close "$b" "$((16#${want:4:2}))"
}
close() { [ -n "$1" ] && [ $(($1 - $2)) -le 8 ] && [ $(($2 - $1)) -le 8 ]; }

session() {
	local rc pw
	pw=$(val rdp_password)
	viewer_auth "wrong-$pw"
	rc=$?
	[ $rc = 132 ] && grep -q ERRCONNECT_AUTHENTICATION_FAILED "$log" &&
		check desk-wrong-password PASS "refused by the RDP server (xfreerdp3 exit $rc)" ||
		check desk-wrong-password FAIL "xfreerdp3 exit $rc, not 132 with ERRCONNECT_AUTHENTICATION_FAILED"
	local t0=$SECONDS
	printf '%s\n' "$pw" | in_pi timeout 300 xfreerdp3 /v:"$addr":3389 \
		/u:"$(val rdp_user)" /from-stdin:force \
		/cert:deny,fingerprint:sha256:"$(val cert_fingerprint)" /size:1024x768 \
		/timeout:60000 >>"$log" 2>&1 &
	local viewer=$!
	pids+=($viewer)
	pw=
	if wait_until 120 shows_colour; then
		check desk-screenshot PASS "colour #$colour on the Pi's screen after $((SECONDS - t0)) s ($run/desktop.png)"
	else
		check desk-screenshot FAIL "no #$colour at (960,700) of the Pi's screen in 120 s: $(convert "$run/desktop.png" -format '%[pixel:p{960,700}]' info: 2>/dev/null)"
	fi
	# A dwell, not a wait for a condition: xvds-guestd looks for the
	# connection every 2 s, and dom0 polls its record once a second.
	sleep 10
	kill "$viewer" 2>/dev/null
	wait "$viewer" 2>/dev/null
}

logout() {
	printf '%s\n' "$(val token)" | in_pi timeout 60 "$CLIENT" \
		-L "$(val session)" -C "$CA" -p "$BROKER_PORT" 10.0.2.100 >>"$log" 2>&1
}

# tell_dom0: the verdict to dom0's listener (through QEMU's forward).
tell_dom0() {
	local verdict=PASS
	grep -q ' FAIL' "$result" && verdict=FAIL
	echo "$verdict $(tr '\n' ';' <"$result")" |
		timeout 30 socat - TCP:127.0.0.1:"$RESULT_PORT" 2>>"$log"
}

main() {
	if ! pi_up; then
		check desk-login FAIL "cannot set up the Pi's namespace and display"
	elif ! login; then
		check desk-login FAIL "xvds-client -1 (dave) failed: $(tail -n 2 "$log" | tr '\n' ' ')"
	elif [ "$(val address)" != "$addr" ]; then
		check desk-login FAIL "the broker gave address '$(val address)', not the desktop's $addr"
	else
		check desk-login PASS "dave: $(val rdp_user) at $(val address), certificate $(val cert_fingerprint | cut -c1-16)..."
		session
		logout || check desk-logout FAIL "xvds-client -L failed"
	fi
	tell_dom0
}
main
