# The lab's controller, on this machine (sourced by run.sh --controller):
# a throwaway PostgreSQL (tests/db/pg.sh, unix socket only) and
# xvds-controller listening on 127.0.0.1 only.  dom0 reaches its agent and
# broker ports through QEMU's user network, restricted, at 10.0.2.100 (one
# guestfwd per port, each connection handed to a socat of its own):
# nothing else is reachable from the lab, and nothing leaves this machine.
#
#   ctl_prepare RUN OVERLAY   the PKI, the ports, the users' passwords; puts
#                             what dom0 needs in OVERLAY/lab/ctrl
#   ctl_start                 a fresh database and controller, and the
#                             cluster's catalogue through xvdsctl -C (once
#                             per boot attempt: a retry starts afresh)
#   ctl_netdev                QEMU's -netdev and -device arguments (ctl_net)
#   ctl_check RESULT          after the boot: what the database recorded,
#                             as "check NAME PASS|FAIL why" lines
#   ctl_stop                  the controller and the database go
#
# lab.test reads the check list from the next line: keep it in order.
CTRL_CHECKS="ctrl-db-host ctrl-db-pool ctrl-db-login-paused ctrl-db-login-saved ctrl-db-login-pvm ctrl-db-released"
# With run.sh --desktop, what tests/lab/desktop-client.sh saw from this
# machine, and what the database recorded of the desktop's session.
DESK_CHECKS="desk-login desk-wrong-password desk-screenshot desk-client-session desk-reused-refused desk-clean-next desk-client-closed desk-db-released"
# shellcheck shell=bash

CTRL_ADDR=10.0.2.100	# what dom0 dials; QEMU forwards it to 127.0.0.1
CTRL_HOST=lab-a		# the lab's xvdsd, its certificate's CN
ctl_dir="" ctl_pid="" ctl_aport="" ctl_bport="" ctl_dport="" ctl_rport="" ctl_sport=""
ctl_net=()

. "$repo/tests/db/pg.sh"
. "$repo/tests/ctrl/pki.sh"

ctl_pw() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c 20; }

ctl_prepare() {
	local run=$1 ov=$2 u
	command -v socat >/dev/null || { echo "socat not found (package socat)"; return 1; }
	[ -x "$pg_bin/initdb" ] || { echo "no PostgreSQL server (package postgresql)"; return 1; }
	ctl_dir=$run/ctrl
	mkdir -p "$ctl_dir" "$ov/lab/ctrl" || return 1
	# A subshell: pki.sh's functions set plain globals (d, h).
	(PKI_CONTROLLER_SAN=IP:$CTRL_ADDR pki_make "$ctl_dir" "$CTRL_HOST") ||
		{ echo "cannot make the PKI"; return 1; }
	# Below 32768, as every test port; pid-based like the others.
	ctl_aport=$((10000 + $$ % 20000))
	ctl_bport=$((ctl_aport + 1))
	# With --desktop: QEMU's forwards to dom0's relay to the desktop's
	# RDP port and to dom0's listener for the client's verdict.
	ctl_dport=$((ctl_aport + 2))
	ctl_rport=$((ctl_aport + 3))
	ctl_sport=$((ctl_aport + 4))	# dom0's "session seen" answer
	{
		echo "CTRL_ADDR=$CTRL_ADDR"
		echo "CTRL_AGENT_PORT=$ctl_aport"
		echo "CTRL_BROKER_PORT=$ctl_bport"
		echo "CTRL_HOST=$CTRL_HOST"
		for u in alice carol bob dave; do echo "CTRL_PW_$u=$(ctl_pw)"; done
	} >"$ctl_dir/env"
	install -m 0644 "$ctl_dir/ca.pem" "$ctl_dir/$CTRL_HOST.pem" "$ctl_dir/env" "$ov/lab/ctrl/" &&
		install -m 0600 "$ctl_dir/$CTRL_HOST.key" "$ov/lab/ctrl/" || return 1
	# dom0 has no route anywhere: restrict=on; only the two forwards.
	ctl_net=(-netdev "user,id=ctl,restrict=on,net=10.0.2.0/24,host=10.0.2.2,guestfwd=tcp:$CTRL_ADDR:$ctl_aport-cmd:socat - TCP:127.0.0.1:$ctl_aport,guestfwd=tcp:$CTRL_ADDR:$ctl_bport-cmd:socat - TCP:127.0.0.1:$ctl_bport"
		-device virtio-net-pci,netdev=ctl)
	# hostfwd reaches dom0 through restrict=on, only from 127.0.0.1 here.
	[ -z "${desktop:-}" ] ||
		ctl_net[1]+=",hostfwd=tcp:127.0.0.1:$ctl_dport-10.0.2.15:3389,hostfwd=tcp:127.0.0.1:$ctl_rport-10.0.2.15:7000,hostfwd=tcp:127.0.0.1:$ctl_sport-10.0.2.15:7001"
}

# ctl_adm ARGS...: xvdsctl's cluster commands, logged.
ctl_adm() {
	echo "+ xvdsctl $*" >>"$ctl_dir/admin.log"
	"$xvdsctl" -C "$ctl_dir/admin.sock" "$@" >>"$ctl_dir/admin.log" 2>&1
}
ctl_sql() { pg_psql -c "$1" 2>>"$ctl_dir/sql.err"; }

ctl_start() {
	local i pw
	# shellcheck disable=SC1091
	. "$ctl_dir/env"
	pg_init && pg_start || { echo "no PostgreSQL server"; return 1; }
	cat >"$ctl_dir/controller.conf" <<-EOF
		database "$(pg_conninfo)"
		agent listen 127.0.0.1 port $ctl_aport
		broker listen 127.0.0.1 port $ctl_bport
		ca-file "$ctl_dir/ca.pem"
		cert-file "$ctl_dir/controller.pem"
		key-file "$ctl_dir/controller.key"
		admin-socket "$ctl_dir/admin.sock"
		sample-interval 1
		session-lease 120
		session-grace 5
		upkeep interval 1 give-up 20
		op-timeout 600
		policy none threshold 100
	EOF
	"$controller" -n -f "$ctl_dir/controller.conf" >"$ctl_dir/conf-check.log" 2>&1 ||
		{ echo "the controller refuses its config: $(cat "$ctl_dir/conf-check.log")"; return 1; }
	: >"$ctl_dir/controller.log"
	"$controller" -d -f "$ctl_dir/controller.conf" >>"$ctl_dir/controller.log" 2>&1 &
	ctl_pid=$!
	i=0
	until grep -q "serving logins" "$ctl_dir/controller.log"; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$ctl_pid" 2>/dev/null; then
			echo "the controller does not serve: $(tail -n 5 "$ctl_dir/controller.log" | tr '\n' ' ')"
			return 1
		fi
		sleep 0.1
	done
	# The names of the lab's xvds.conf templates (tests/lab/ctrl-stages.sh).
	ctl_adm template add ctl-cvm 96 && ctl_adm template add ctl-pvm 96 &&
		ctl_adm pool create lab ctl-cvm 2 --ready 0 || { echo "template/pool: $(tail -n 1 "$ctl_dir/admin.log")"; return 1; }
	for u in alice carol bob dave; do
		pw=CTRL_PW_$u
		printf '%s\n' "${!pw}" | ctl_adm user add "$u" ||
			{ echo "user add $u: $(tail -n 1 "$ctl_dir/admin.log")"; return 1; }
	done
	ctl_adm group add staff && ctl_adm group member add staff alice &&
		ctl_adm group member add staff carol && ctl_adm group permit staff lab ||
		{ echo "groups: $(tail -n 1 "$ctl_dir/admin.log")"; return 1; }
	ctl_adm pvm create bob ctl-pvm --name bob-pvm ||
		{ echo "pvm create: $(tail -n 1 "$ctl_dir/admin.log")"; return 1; }
	[ -z "${desktop:-}" ] && return 0
	# The desktop pool: one CVM of the desktop image, for dave only.
	ctl_adm template add ctl-desk 256 && ctl_adm pool create desk ctl-desk 1 --ready 0 &&
		ctl_adm group add deskers && ctl_adm group member add deskers dave &&
		ctl_adm group permit deskers desk ||
		{ echo "desktop pool: $(tail -n 1 "$ctl_dir/admin.log")"; return 1; }
}

ctl_stop() {
	if [ -n "$ctl_pid" ]; then
		kill -TERM "$ctl_pid" 2>/dev/null
		wait "$ctl_pid" 2>/dev/null
		ctl_pid=""
	fi
	pg_cleanup
}

# ctl_q SQL: one value.
ctl_q() { pg_psql -c "$1" 2>>"$ctl_dir/sql.err"; }

# ctl_check RESULTFILE-WRITER: checks of what the database recorded, each
# "check NAME PASS|FAIL why" through the function given.
ctl_check() {
	local out=$1 got
	ctl_c() { "$out" "check $1 $2 ${3:-}"; }
	got=$(ctl_q "SELECT count(*) FROM events WHERE kind = 'host-up' AND subject = '$CTRL_HOST'")
	[ "${got:-0}" -ge 1 ] && ctl_c ctrl-db-host PASS "host-up events: $got" ||
		ctl_c ctrl-db-host FAIL "no host-up event for $CTRL_HOST"
	got=$(ctl_q "SELECT string_agg(DISTINCT subject, ' ' ORDER BY subject) FROM events
		WHERE kind = 'pool-start' AND subject IN ('lab-1', 'lab-2')")
	[ "$got" = "lab-1 lab-2" ] && ctl_c ctrl-db-pool PASS "pool-start for $got" ||
		ctl_c ctrl-db-pool FAIL "pool-start events for '$got', not lab-1 and lab-2"
	ctl_login_check ctrl-db-login-paused alice paused
	ctl_login_check ctrl-db-login-saved carol saved
	ctl_login_check ctrl-db-login-pvm bob inactive
	got=$(ctl_q "SELECT string_agg(v.name || ':' || s.end_reason || ':' ||
		COALESCE(e.detail->>'how', 'unreleased'), ' ' ORDER BY v.name)
		FROM sessions s JOIN vms v ON v.id = s.vm_id
		LEFT JOIN events e ON e.kind = 'vm-released' AND (e.detail->>'session')::bigint = s.id
		WHERE v.name <> 'desk-1'")
	[ "$got" = "bob-pvm:logout:shutdown lab-1:logout:reset lab-2:logout:reset" ] &&
		ctl_c ctrl-db-released PASS "$got" ||
		ctl_c ctrl-db-released FAIL "sessions (vm:end:release) '$got', not bob-pvm:logout:shutdown lab-1:logout:reset lab-2:logout:reset"
	[ -z "${desktop:-}" ] && return 0
	# The second session's logout is xvds-client's, after the viewer closed.
	got=$(ctl_q "SELECT string_agg(v.name || ':' || s.end_reason ||
		COALESCE('/' || s.logout_reason, '') || ':' ||
		COALESCE(e.detail->>'how', 'unreleased'), ' ' ORDER BY s.id)
		FROM sessions s JOIN vms v ON v.id = s.vm_id
		LEFT JOIN events e ON e.kind = 'vm-released' AND (e.detail->>'session')::bigint = s.id
		WHERE v.name = 'desk-1'")
	[ "$got" = "desk-1:logout:reset desk-1:logout/closed:reset" ] && ctl_c desk-db-released PASS "$got" ||
		ctl_c desk-db-released FAIL "the desktop's sessions (vm:end[/why]:release) '$got', not desk-1:logout:reset desk-1:logout/closed:reset"
}

# ctl_login_check NAME USER FROM: one login event of USER, from that state.
ctl_login_check() {
	local got
	got=$(ctl_q "SELECT string_agg((detail->>'vm') || ' from ' || (detail->>'from'), ', ')
		FROM events WHERE kind = 'login' AND subject = '$2'")
	case $got in
	*" from $3") ctl_c "$1" PASS "$2: $got" ;;
	*) ctl_c "$1" FAIL "$2's logins: '${got:-none}', not one from $3" ;;
	esac
}

# ctl_report: the events, for the record (and run-demo.sh).
ctl_report() {
	ctl_q "SELECT to_char(at, 'HH24:MI:SS') || ' ' || kind || ' ' || actor || ' ' ||
		COALESCE(subject, '-') || ' ' || detail::text FROM events ORDER BY id" |
		sed 's/^/lab: report: event: /'
}
