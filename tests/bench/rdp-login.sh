#!/bin/sh
# From "log in" to the first desktop frame, for a Ready desktop, on
# loopback (`make bench`): a real xvds-controller with a throwaway
# PostgreSQL (tests/db/pg.sh), a fake host (tests/ctrl/fake-agent) with
# RUNS Ready desktops at 127.0.0.1, and a real RDP server standing in for
# the desktop (tests/client/rdp_server.sh).  Each run: xvds-client logs
# in (broker), the one-time credential is put into the RDP server's SAM
# file, tests/client/rdp-probe connects with it (RDP connect) and waits
# for the first frame; then a wrong password and a closed port are
# timed, and the session is logged out.  Numbers only: nothing is
# asserted on time (the target is 1 s in all).
#
# What stands in for what:
#   - broker: from starting xvds-client to its reply (its start, TLS to
#     the broker, the login, the credential handed to the host);
#   - credential: from the login event the controller records with the
#     session (events.at, just before it hands the credential to the
#     host) to the reply at the client: the credential's round trip to
#     the host, the reply, and the client's exit (inside "broker");
#   - the fake host applies the credential as xvds-guestd would, before it
#     answers the broker: its -x hook writes the RDP server's SAM file
#     (inside "broker", as on a real host);
#   - the desktops' address, RDP port (the controller's rdp-port) and
#     certificate fingerprint are the RDP server's: the probe dials and
#     pins what the broker returned.
#
#   rdp-login.sh [RUNS]   (at most 15)
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/db/pg.sh"
. "$srcdir/tests/ctrl/wait.sh"
. "$srcdir/tests/ctrl/pki.sh"
. "$srcdir/tests/client/rdp_server.sh"
runs=${1:-10}
probe=$builddir/tests/client/rdp-probe
client=$builddir/xvds-client/xvds-client
PASSWORD='correct horse battery staple'
dir=
pc=
pagent=

cleanup() {
	for p in $pagent $pc; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rdp_server_stop
	pg_cleanup
	[ -z "$dir" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() { echo "rdp-login: $*" >&2; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

[ "$runs" -ge 1 ] && [ "$runs" -le 15 ] || die "RUNS is 1 to 15"
dir=$(mktemp -d /tmp/xvds-rdpbench.XXXXXX) && mkdir "$dir/client" ||
	die "no temporary folder"
pki_make "$dir" host-a || die "cannot make the PKI"
pg_init && pg_start || die "no PostgreSQL server"
rdp_server_start "$dir" nobody "#2a7f62" <<EOF ||
not a credential
EOF
	die "the RDP server did not start"

port=$(rdp_pick_port)
bport=$((port + 1))
rdp_port_free "$bport" || die "port $bport is taken"
cat >"$dir/controller.conf" <<EOF2
database "$(pg_conninfo)"
agent listen 127.0.0.1 port $port
broker listen 127.0.0.1 port $bport
ca-file "$dir/ca.pem"
cert-file "$dir/controller.pem"
key-file "$dir/controller.key"
admin-socket "$dir/admin.sock"
session-lease 60
session-grace 1
rdp-port $rdp_port
EOF2
"$builddir/xvds/xvds-controller" -d -f "$dir/controller.conf" \
	2>"$dir/ctl.log" &
pc=$!
wait_for "$dir/ctl.log" "serving logins" 1 60 || die "no controller"

# RUNS Ready desktops on host-a, all at 127.0.0.1: the members of the
# pool lab (its rows lab-1 ... lab-RUNS, xvds-controller(8)).
vms=
states=
i=1
while [ "$i" -le "$runs" ]; do
	vms="$vms${vms:+,} ('lab-$i', 'cvm', 1, 1, 2048, 1)"
	states="$states -s lab-$i:ready:$i:0:127.0.0.1:$rdp_pin"
	i=$((i + 1))
done
pg_psql -c "INSERT INTO templates (name, memory_mib) VALUES ('desk', 2048);
	INSERT INTO pools (name, template_id, size) VALUES ('lab', 1, $runs);
	INSERT INTO hosts (name, address, cpus, memory_mib)
	    VALUES ('host-a', '127.0.0.1', 1, 1);
	INSERT INTO vms (name, kind, template_id, pool_id, memory_mib,
	    host_id) VALUES $vms" >/dev/null || die "cannot add the desktops"
adm() { "$builddir/xvds/xvdsctl" -C "$dir/admin.sock" "$@" >/dev/null; }
printf '%s\n' "$PASSWORD" | adm user add alice && adm group add staff &&
	adm group member add staff alice && adm group permit staff lab ||
	die "the admin commands failed"
# The credential's hook: "user:password" on stdin, into the SAM file.
cat >"$dir/apply" <<EOF
#!/bin/sh
IFS=: read -r user pass || exit 1
printf '%s\n' "\$pass" | "$probe" -S "\$user" >"$dir/sam.new" &&
	mv "$dir/sam.new" "$dir/sam"
EOF
chmod +x "$dir/apply"
# shellcheck disable=SC2086
"$builddir/tests/ctrl/fake-agent" -p "$port" -d "$dir" -c host-a -n 100 \
	-t 600 -x "$dir/apply" $states >"$dir/agent.out" 2>&1 &
pagent=$!
wait_for "$dir/agent.out" "^welcome" 1 60 &&
	until_sql "$runs" 60 "SELECT count(*) FROM vms WHERE host_id IS NOT NULL
	    AND address IS NOT NULL" || die "the host did not register"

probe_at() {	# PORT PROBE-OPTIONS...: the password on stdin
	_port=$1
	shift
	HOME=$dir/client "$probe" -H 127.0.0.1 -p "$_port" -f "$rdp_pin" \
	    -t 10000 "$@"
}
# KEY: its value in $reply (kept in memory: it holds the credential).
value() { printf '%s\n' "$reply" | sed -n "s/^$1=//p"; }

# One session before the runs, timed apart: the shadow server's first
# frame after it starts is slow and blank (its capture starts then).
reply=$(echo "not a credential" | probe_at "$rdp_port" -u nobody)
echo "# first session after the RDP server started: connect" \
	"$(value connect_ms) ms, first frame $(value first_frame_ms) ms"
closed=$(rdp_pick_port)

# One run: prints "broker credential connect first-frame total
# wrong-password closed-port", in ms.
run() {
	t0=$(now_ms)
	reply=$(printf '%s\n' "$PASSWORD" | "$client" -C "$dir/ca.pem" \
	    -p "$bport" -u alice -1 127.0.0.1 2>"$dir/client.err")
	t1=$(now_ms)
	[ "$(value address)" = 127.0.0.1 ] ||
		die "login: $(cat "$dir/client.err")"

	# The login event is written with the session, the step before the
	# credential is handed to the host.
	tev=$(pg_psql -c "SELECT round(extract(epoch FROM at) * 1000)
	    FROM events WHERE kind = 'login' AND
	    detail->>'session' = '$(value session)'")
	[ -n "$tev" ] || die "no login event"
	user=$(value rdp_user)
	[ "$(value port)" = "$rdp_port" ] &&
		[ "$(value cert_fingerprint)" = "$rdp_pin" ] ||
		die "login: not the RDP server's port and certificate"
	session=$(value session)
	token=$(value token)
	reply=$(value rdp_password | probe_at "$rdp_port" -u "$user")
	[ "$(value outcome)" = ok ] || die "RDP: $(value error)"
	connect=$(value connect_ms)
	frame=$(value first_frame_ms)
	reply=$(echo "not the password" | probe_at "$rdp_port" -u "$user")
	[ "$(value outcome)" = auth-failed ] || die "wrong password: $reply"
	wrong=$(value connect_ms)
	reply=$(echo "$user" | probe_at "$closed" -u "$user")
	[ "$(value outcome)" = unreachable ] || die "closed port: $reply"
	printf '%s\n' "$token" | "$client" -C "$dir/ca.pem" -p "$bport" \
	    -L "$session" 127.0.0.1 >/dev/null 2>&1 || die "the logout failed"
	echo "$((t1 - t0)) $((t1 - tev)) $connect $frame" \
	    "$(echo "$t1 $t0 $connect $frame" |
		awk '{ printf "%.1f", $1 - $2 + $3 + $4 }') $wrong" \
	    "$(value connect_ms)"
}

echo "# log in to the first frame, $runs runs on loopback, in ms:"
printf '%-6s %8s %10s %8s %11s %8s %10s %11s\n' run broker credential \
	connect first-frame total wrong-pw closed-port
i=1
while [ "$i" -le "$runs" ]; do
	line=$(run) || exit 1
	echo "$line" >>"$dir/runs"
	# shellcheck disable=SC2086
	printf '%-6s %8s %10s %8s %11s %8s %10s %11s\n' "$i" $line
	i=$((i + 1))
done
# The median and the maximum of each column.
for f in median max; do
	printf '%-6s' "$f"
	for c in 1 2 3 4 5 6 7; do
		cut -d' ' -f"$c" "$dir/runs" | sort -n |
		    awk -v f="$f" -v c="$c" -f "$srcdir/tests/bench/stat.awk"
	done
	echo
done
echo "# target: total (broker + connect + first frame) at most 1000 ms"
