#!/bin/bash
# Measures how often the emulator kills a guest, by guest type: boots the
# lab once with tests/lab/flake-cycles.sh in dom0 (CYCLES cycles, each one
# PVH and one PV lifetime: boot, the stages' xenstore traffic, a shutdown)
# and prints the table scripts/lab/README.md keeps.
# Not part of make check: a measurement, for when the emulator, Xen or the
# guests' kernel change.
#
# Usage: flake-count.sh [--cycles N] --probe PATH --guestd PATH
#   (run.sh's options; the build tree's binaries, e.g. xvds/xvds-probe and
#   xvds-guestd/xvds-guestd, as libtool's .libs/ files where they exist)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cycles=30
if [ "${1:-}" = --cycles ]; then
	cycles=${2:?}
	shift 2
fi
log=$(mktemp "${TMPDIR:-/tmp}/xvds-flakes.XXXXXX")
# About 40 s a cycle under TCG; the console never stays silent that long.
"$here/run.sh" "$@" --dom0-test "$repo/tests/lab/flake-cycles.sh" \
	--append "xvds.lab.cycles=$cycles" --timeout $((cycles * 120 + 300)) \
	--no-retry --log "$log" >/dev/null || true
qemu=$(qemu-system-x86_64 --version | head -n1 | sed 's/.*version \([^ ]*\).*/\1/')
grep -a '^XVDS-CYCLE ' "$log" | tr -d '\r' | awk -v qemu="$qemu" -v log="$log" '
	{ n[$3]++; out[$3 " " $4]++; if ($5 != "-") { boot[$3] += $5; nb[$3]++ } }
	$4 != "ok" { detail = detail sprintf("  cycle %s %s: %s\n", $2, $3, substr($0, index($0, $4))) }
	END {
		printf "| QEMU | guest | lifetimes | ok | triple faults | died otherwise | mean create->boot-complete |\n"
		printf "|---|---|---|---|---|---|---|\n"
		for (t in n)
			printf "| %s | %s | %d | %d | %d | %d | %.1f s |\n", qemu, toupper(t), n[t],
			    out[t " ok"], out[t " fault"], out[t " died"], nb[t] ? boot[t] / nb[t] : 0
		printf "%s(console: %s)\n", detail, log
	}'
