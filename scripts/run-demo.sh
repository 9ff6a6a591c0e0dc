#!/bin/sh
# The main job, from a fresh clone on a fresh Debian 12 machine: installs
# what is needed, builds XVDS, builds the Xen lab (real Xen 4.17 under
# QEMU, from Debian packages, cached in /var/cache/xvds-lab) and starts the
# whole service: PostgreSQL and xvds-controller on this machine (127.0.0.1
# only), xvdsd in the lab's dom0, registered with the controller through
# QEMU's restricted network.  The lab first checks the probe and xvdsd on
# their own (a PVH and a PV guest, a CVM pool, a PVM, migrations); then
# users log in with xvds-client from dom0 and get desktops of the
# controller's pool and a PVM, and log out; last, a user at the "Pi" (a
# network namespace on this machine) logs in with xvds-client into a real
# Debian desktop under Xen (scripts/desktop-image.sh) and works in it over
# RDP.  Shows what xvds-client printed (secrets masked), what the
# controller recorded, and ends with the user's desktop as the thin client
# saw it (a PNG).  Run as root.
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
[ -x configure ] || autoreconf -fi >/dev/null
[ -f Makefile ] || ./configure -q
make -s -j2

log=${TMPDIR:-/tmp}/xvds-lab-console.log
result=${TMPDIR:-/tmp}/xvds-lab-result.txt
screenshot=${TMPDIR:-/tmp}/xvds-desktop.png
rm -f "$screenshot"
echo "== building the desktop guest's image (Debian, cached after the first run)"
desktop=$(./scripts/desktop-image.sh --lab -g xvds-guestd/xvds-guestd)
echo "== starting the service (PostgreSQL, xvds-controller here; xvdsd in the lab)"
echo "== and booting the lab; the serial console goes to $log"
status=0
./scripts/lab/run.sh --probe xvds/xvds-probe --guestd xvds-guestd/xvds-guestd \
	--xvdsd xvds/xvdsd --xvdsctl xvds/xvdsctl \
	--controller xvds/xvds-controller --client xvds-client/xvds-client \
	--desktop "$desktop" --screenshot "$screenshot" \
	--log "$log" --result "$result" || status=$?
echo
echo "== what dom0's xvds-probe saw of the guests' reports:"
grep -a 'lab: report: probe: ' "$log" | sed 's/^lab: report: probe: /   /' || true
echo
echo "== what the two xvdsd (lab-a, and lab-b for the migrations) did with their VMs:"
grep -a -E 'lab: report: lab-[ab]: xvdsd: ' "$log" |
	sed -E 's/^lab: report: (lab-[ab]): xvdsd: /   \1  /' || true
echo
echo "== users logging in with xvds-client in dom0 (what it printed, secrets masked):"
grep -a 'lab: report: client: ' "$log" | tr -d '\r' | sed 's/^lab: report: client: /   /' || true
echo
echo "== what the lab's xvdsd did for the controller:"
grep -a 'lab: report: lab-a-ctrl: xvdsd: ' "$log" | tr -d '\r' |
	sed 's/^lab: report: lab-a-ctrl: xvdsd: /   /' || true
echo
echo "== what the controller recorded (its events table):"
grep -a 'lab: report: event: ' "$log" | sed 's/^lab: report: event: /   /' || true
echo
echo "== a user at the Pi (a network namespace here) in a real desktop under Xen:"
sed -n 's/^check \(desk-[^ ]*\) /   \1 /p' "$result" 2>/dev/null || true
echo
echo "== the benchmark (TCG: compare ratios, not seconds):"
grep -a 'lab: report: bench: ' "$log" | tr -d '\r' | sed 's/^lab: report: bench: /   /' || true

# The summary: what ran, what passed, where the logs are.
stages=$(grep -c '^stage ' "$result" 2>/dev/null || true)
passed=$(grep -c '^stage [^ ]* PASS ' "$result" 2>/dev/null || true)
checks=$(grep -c '^check ' "$result" 2>/dev/null || true)
checks_ok=$(grep -c '^check [^ ]* PASS' "$result" 2>/dev/null || true)
echo
echo "== summary"
echo "   ran: XVDS built here; real Xen 4.17 booted under QEMU (software emulation)"
echo "        with xvdsd in its dom0, and PostgreSQL + xvds-controller on this machine"
echo "   lab stages passed: ${passed:-0} of ${stages:-0}; the controller's database checks: ${checks_ok:-0} of ${checks:-0}"
grep '^stage [^ ]* [^P]' "$result" 2>/dev/null | sed 's/^stage /   FAILED: /' || true
grep '^check [^ ]* [^P]' "$result" 2>/dev/null | sed 's/^check /   FAILED: /' || true
sed -n 's/^retry /   RETRIED (the emulator): /p; s/^error /   ERROR: /p' "$result" 2>/dev/null || true
echo "   logs: the lab's serial console (dom0, Xen, every stage) in $log"
echo "         machine-readable results in $result"
if [ -f "$screenshot" ]; then
	echo
	echo "== the user's desktop under Xen, as the thin client showed it:"
	echo "   $screenshot"
fi
if [ "$status" = 0 ]; then
	echo "   RESULT: PASS - users logged in to desktops on real Xen through the controller"
else
	echo "   RESULT: FAIL (exit status $status; the lab's diagnostics are above and in $log)"
fi
exit $status
