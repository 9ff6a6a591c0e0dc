# A real RDP server on loopback for the thin client's tests and benchmark
# (sourced after tests/ctrl/wait.sh): FreeRDP's shadow server with NLA
# against a SAM file, on an Xvfb display painted one colour, with a
# certificate made here so that its SHA-256 (the pin) is known.  Each
# function returns 1 when it fails; rdp_server_stop stops what started.
#
#   rdp_server_start DIR USER COLOUR   (the password on stdin) sets
#       rdp_port, rdp_pin, rdp_display; HOME is DIR for FreeRDP's files.

rdp_xvfb_pid=
rdp_shadow_pid=

rdp_port_free() {	# PORT: nothing listens on it
	! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .
}

# A port nothing listens on, from a start that depends on this process.
rdp_pick_port() {
	_p=$((30000 + $$ % 20000))
	until rdp_port_free "$_p"; do _p=$((_p + 1)); done
	echo "$_p"
}

rdp_server_start() {
	_dir=$1
	mkdir -p "$_dir/.config/freerdp/shadow" || return 1
	"$builddir/tests/client/rdp-probe" -S "$2" >"$_dir/sam" || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=desktop \
	    -keyout "$_dir/.config/freerdp/shadow/shadow.key" \
	    -out "$_dir/.config/freerdp/shadow/shadow.crt" 2>/dev/null ||
		return 1
	rdp_pin=$(openssl x509 -in "$_dir/.config/freerdp/shadow/shadow.crt" \
	    -outform DER | sha256sum | cut -d' ' -f1)
	# Xvfb picks a free display and writes its number once it serves;
	# -noreset: the root keeps its colour after xsetroot disconnects.
	Xvfb -displayfd 9 -screen 0 1024x768x24 -nolisten tcp -noreset \
	    9>"$_dir/display" >"$_dir/xvfb.log" 2>&1 &
	rdp_xvfb_pid=$!
	wait_for "$_dir/display" "^[0-9]" 1 30 || return 1
	rdp_display=:$(cat "$_dir/display")
	DISPLAY=$rdp_display xsetroot -solid "$3" || return 1
	rdp_port=$(rdp_pick_port)
	HOME=$_dir DISPLAY=$rdp_display freerdp-shadow-cli3 \
	    /bind-address:127.0.0.1 /port:"$rdp_port" /sec:nla \
	    /sam-file:"$_dir/sam" +auth >"$_dir/shadow.log" 2>&1 &
	rdp_shadow_pid=$!
	until_ok 30 rdp_listening "$rdp_port"
}

rdp_listening() {	# PORT
	! rdp_port_free "$1" && kill -0 "$rdp_shadow_pid" 2>/dev/null
}

rdp_shadow_stop() {
	[ -z "$rdp_shadow_pid" ] && return 0
	kill -TERM "$rdp_shadow_pid" 2>/dev/null
	wait "$rdp_shadow_pid" 2>/dev/null
	rdp_shadow_pid=
}

rdp_server_stop() {
	rdp_shadow_stop
	[ -z "$rdp_xvfb_pid" ] && return 0
	kill -TERM "$rdp_xvfb_pid" 2>/dev/null
	wait "$rdp_xvfb_pid" 2>/dev/null
	rdp_xvfb_pid=
}
