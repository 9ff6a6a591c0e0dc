#!/bin/bash
# The lab's thin client, on this machine (run by scripts/lab/run.sh when
# dom0's ctrl-desktop stage prints XVDS-DESKTOP-READY): a network namespace
# stands for the Raspberry Pi, with the broker (10.0.2.100) and the
# desktop's own address on its loopback, each relayed over a unix socket to
# QEMU's forwards on 127.0.0.1 (scripts/lab/README.md, "The desktop
# guest").  User dave logs in through the broker with `xvds-client -1`;
# xfreerdp3 on a private Xvfb display connects with the one-time
# credential on stdin and the certificate pinned to the fingerprint the
# broker handed out; its screenshot must show the colour dom0 read from
# the guest's xenstore, and the session is held until dom0 saw the guest's
# agent report it.  A wrong password must be refused by the RDP server.
# dave logs out, and once xvdsd reset the desktop logs in again, this time
# as a user at the Pi does: xvds-client runs the session in its viewer; the
# first credential is refused and the clean desktop shows the token colour
# (RUN/desktop-2.png is the user's desktop as the thin client saw it);
# the user closes the viewer and xvds-client logs out.  The verdict goes to
# dom0 (which checks the resets) and to RESULT.
#
# Usage: desktop-client.sh RUN COLOUR ADDRESS
# Environment: CLIENT (xvds-client), CA (the controller's CA), BROKER_PORT,
#   DESK_PORT (QEMU's forward to dom0's relay to the desktop's port 3389),
#   RESULT_PORT (QEMU's forward to dom0's listener for the verdict),
#   SEEN_PORT (QEMU's forward to dom0's answer once the guest's agent
#   reported the RDP session),
#   DESK_PW (dave's password).
# Writes RUN/desk-result ("check NAME PASS|FAIL why" lines), RUN/desk.log
# and the screenshots RUN/desktop-1.png and RUN/desktop-2.png.
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
	# A free display number, chosen by Xvfb itself (-displayfd): another
	# test's display must never get this one's clicks and keys.
	Xvfb -displayfd 4 -screen 0 1024x768x24 -nolisten tcp -noreset \
		4>"$run/pi-display" >>"$log" 2>&1 &
	pids+=($!)
	mkdir -p "$run/pi-home"
	wait_until 20 grep -q '^[0-9]' "$run/pi-display" || return 1
	disp=$(head -n1 "$run/pi-display")
	DISPLAY=":$disp" xdpyinfo >/dev/null 2>&1
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

# viewer_auth USER PASSWORD: xfreerdp3's exit status when it only
# authenticates (132: refused).
viewer_auth() {
	printf '%s\n' "$2" | in_pi timeout 120 xfreerdp3 /v:"$addr":3389 \
		/u:"$1" /from-stdin:force \
		/cert:deny,fingerprint:sha256:"$(val cert_fingerprint)" +auth-only \
		/timeout:60000 >"$run/auth.log" 2>&1
	local rc=$?
	cat "$run/auth.log" >>"$log"
	return $rc
}
refused() {
	viewer_auth "$1" "$2"
	local rc=$?
	[ $rc = 132 ] && grep -q ERRCONNECT_AUTHENTICATION_FAILED "$run/auth.log" &&
		check "$3" PASS "refused by the RDP server (xfreerdp3 exit $rc)" ||
		check "$3" FAIL "xfreerdp3 exit $rc, not 132 with ERRCONNECT_AUTHENTICATION_FAILED"
}

# shows HEX: the Pi's screen, away from the xterm, has that colour (a lossy
# codec may move each channel by a few steps).
shows() {
	local got r g b
	DISPLAY=":$disp" import -window root "$run/desktop.png" 2>>"$log" || return 1
	got=$(convert "$run/desktop.png" -format '%[fx:int(255*p{960,700}.r)] %[fx:int(255*p{960,700}.g)] %[fx:int(255*p{960,700}.b)]' info: 2>>"$log")
	read -r r g b <<<"$got"
	close "$r" "$((16#${1:0:2}))" && close "$g" "$((16#${1:2:2}))" &&
		close "$b" "$((16#${1:4:2}))"
}
close() { [ -n "$1" ] && [ $(($1 - $2)) -le 12 ] && [ $(($2 - $1)) -le 12 ]; }
pixel() { convert "$run/desktop.png" -format '%[pixel:p{960,700}]' info: 2>/dev/null; }

# viewer_start: xfreerdp3 with the one-time credential on stdin; $viewer
# is xfreerdp3 itself (ip netns exec and env exec it).
viewer_start() {
	printf '%s\n' "$(val rdp_password)" | in_pi xfreerdp3 \
		/v:"$addr":3389 /u:"$(val rdp_user)" /from-stdin:force \
		/cert:deny,fingerprint:sha256:"$(val cert_fingerprint)" \
		/size:1024x768 /timeout:60000 >>"$log" 2>&1 &
	viewer=$!
	pids+=("$viewer")
}
# viewer_stop: the viewer and its window gone (xfreerdp3 may outlive a
# SIGTERM; the next session must not find this one's window).
viewer_stop() {
	kill -TERM "$viewer" 2>/dev/null
	wait_until 20 viewer_gone || kill -KILL "$viewer" 2>/dev/null
	wait "$viewer" 2>/dev/null
	wait_until 20 viewer_gone ||
		say "a viewer's window is still on the Pi's screen"
}
# close_viewer: closes the session window (FreeRDP's title names the
# desktop), then waits up to 20 s for xvds-client's last status line.
close_viewer() {
	local w
	w=$(DISPLAY=":$disp" xdotool search --onlyvisible --name '^FreeRDP: ' \
		2>/dev/null | head -n 1)
	say "closing the viewer's window ${w:-(none found)}"
	[ -n "$w" ] && DISPLAY=":$disp" xdotool windowclose "$w" >>"$log" 2>&1
	wait_until 20 grep -q '^ended ' "$run/client-status"
}
viewer_gone() { ! kill -0 "$viewer" 2>/dev/null || [ -z "$(viewer_window)" ]; }
viewer_window() {
	DISPLAY=":$disp" xdotool search --class xfreerdp 2>/dev/null | head -n 1
}

# session_seen: dom0 answers "active" once the guest's agent reported the
# RDP session (before that, nothing listens and the forward closes).
session_seen() {
	[ "$(timeout 10 socat -u TCP:127.0.0.1:"$SEEN_PORT" - 2>/dev/null)" = active ]
}

# first_session: a wrong password refused; the token colour on screen,
# held until dom0 saw the session.
first_session() {
	local t0=$SECONDS
	refused "$(val rdp_user)" "wrong-$(val rdp_password)" desk-wrong-password
	viewer_start
	if wait_until 120 shows "$colour"; then
		check desk-screenshot PASS "colour #$colour on the Pi's screen after $((SECONDS - t0)) s"
		cp "$run/desktop.png" "$run/desktop-1.png"
	else
		check desk-screenshot FAIL "no #$colour at (960,700) of the Pi's screen in 120 s: $(pixel)"
	fi
	wait_until 120 session_seen ||
		check desk-session-seen FAIL "dom0 did not see the guest's agent report the session in 120 s"
	viewer_stop
}

# client_settled: xvds-client's session is up, or it gave up.
client_settled() {
	grep -qx connected "$run/client-status" ||
		grep -q '^error ' "$run/client-status"
}
# client_status: the last status line of xvds-client's session.
client_status() { tail -n 1 "$run/client-status" 2>/dev/null; }

# second_session: the reset desktop again, for the next login, through
# xvds-client and its viewer: the first credential refused, the clean
# image's screen (the token colour) shown; the user closes the viewer.
second_session() {
	local old_user=$1 old_pw=$2 cpid rc w
	# The broker hands the desktop out again once xvdsd reset it: until
	# then a login says no desktop (exit 4) and is tried again.
	local end=$((SECONDS + 600))
	while :; do
		: >"$run/client-status"
		printf '%s\n' "$DESK_PW" | in_pi timeout 600 "$CLIENT" -C "$CA" \
			-p "$BROKER_PORT" --status-fd 5 -o fullscreen=no -u dave \
			10.0.2.100 5>"$run/client-status" >>"$log" 2>&1 &
		cpid=$!
		pids+=("$cpid")
		wait_until 400 client_settled
		grep -qx connected "$run/client-status" && break
		kill "$cpid" 2>/dev/null
		wait "$cpid"
		rc=$?
		if [ "$rc" != 4 ] || [ $SECONDS -ge $end ]; then
			check desk-client-session FAIL "xvds-client: exit $rc: $(tr '\n' ';' <"$run/client-status")"
			return
		fi
		sleep 2
	done
	check desk-client-session PASS "xvds-client: $(tr '\n' ';' <"$run/client-status")"
	refused "$old_user" "$old_pw" desk-reused-refused
	if wait_until 120 shows "$colour"; then
		check desk-clean-next PASS "after the reset: a new credential, the clean desktop's #$colour"
	else
		check desk-clean-next FAIL "no #$colour on the second session's screen: $(pixel)"
	fi
	cp "$run/desktop.png" "$run/desktop-2.png"
	# The user closes the viewer's window; asked again if xvds-client has
	# not ended after 20 s (a window can be mapped but not yet the one
	# FreeRDP watches).
	wait_until 120 close_viewer ||
		say "the viewer's window would not close in 120 s"
	wait "$cpid"
	rc=$?
	if [ "$rc $(client_status)" = "0 ended closed" ]; then
		check desk-client-closed PASS "the viewer closed: xvds-client logged out"
	else
		check desk-client-closed FAIL "the viewer closed: xvds-client exit $rc, '$(client_status)'"
	fi
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
	local old_user old_pw
	if ! pi_up; then
		check desk-login FAIL "cannot set up the Pi's namespace and display"
	elif ! login; then
		check desk-login FAIL "xvds-client -1 (dave) failed: $(tail -n 2 "$log" | tr '\n' ' ')"
	elif [ "$(val address)" != "$addr" ]; then
		check desk-login FAIL "the broker gave address '$(val address)', not the desktop's $addr"
	else
		check desk-login PASS "dave: $(val rdp_user) at $(val address), certificate $(val cert_fingerprint | cut -c1-16)..."
		first_session
		old_user=$(val rdp_user) old_pw=$(val rdp_password)
		logout || check desk-logout FAIL "xvds-client -L failed"
		# The broker hands the desktop out again once xvdsd reset it.
		second_session "$old_user" "$old_pw"
		old_pw=
	fi
	tell_dom0
}
main
