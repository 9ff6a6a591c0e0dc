#!/bin/sh
# The main job, from a fresh clone on a fresh Debian 12 machine: installs
# what is needed, builds XVDS, builds the Xen lab (real Xen 4.17 under
# QEMU, from Debian packages, cached in /var/cache/xvds-lab) and boots it:
# a PVH and a PV guest come up with xvds-guestd inside, and dom0's xvds-probe shows
# their validated boot-complete records and addresses.  Run as root.
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
[ -x configure ] || autoreconf -fi >/dev/null
[ -f Makefile ] || ./configure -q
make -s -j2

log=${TMPDIR:-/tmp}/xvds-lab-console.log
echo "== booting the lab; the serial console goes to $log"
status=0
./scripts/lab/run.sh --probe xvds/xvds-probe --guestd xvds-guestd/xvds-guestd \
	--xvdsd xvds/xvdsd --xvdsctl xvds/xvdsctl --log "$log" || status=$?
echo
echo "== what dom0's xvds-probe saw of the guests' reports:"
grep -a 'lab: report: probe: ' "$log" | sed 's/^lab: report: probe: /   /' || true
echo
echo "== what the two xvdsd (lab-a, and lab-b for the migrations) did with their VMs:"
grep -a -E 'lab: report: lab-[ab]: xvdsd: ' "$log" |
	sed -E 's/^lab: report: (lab-[ab]): xvdsd: /   \1  /' || true
echo
echo "== the benchmark (TCG: compare ratios, not seconds):"
grep -a 'lab: report: bench: ' "$log" | sed 's/^lab: report: bench: /   /' || true
exit $status
