#!/bin/sh
# The boot-storm benchmark (tests/bench/bench_broker.c): a throwaway
# PostgreSQL (tests/db/pg.sh) with the schema, a PKI for 50 simulated
# hosts (tests/ctrl/pki.sh), then 1,000 logins within 10 s.  The
# controller's log goes to a file, shown only if the benchmark fails.
#
#   broker-storm.sh [HOSTS LOGINS SECONDS DESKTOPS]
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/db/pg.sh"
. "$srcdir/tests/ctrl/pki.sh"
hosts=${1:-50}
pki=
log=

trap 'pg_cleanup; [ -z "$pki" ] || rm -rf "$pki"; [ -z "$log" ] || rm -f "$log"' EXIT
trap 'exit 1' INT TERM

pki=$(mktemp -d /tmp/xvds-pki.XXXXXX) || exit 1
log=$(mktemp /tmp/xvds-storm.XXXXXX) || exit 1
names=$(i=0; while [ "$i" -lt "$hosts" ]; do printf 'host-%02d ' "$i"; i=$((i + 1)); done)
# shellcheck disable=SC2086
pki_make "$pki" $names || { echo "broker-storm: cannot make the PKI" >&2; exit 1; }
pg_init && pg_start || { echo "broker-storm: no PostgreSQL server" >&2; exit 1; }
# Twice: the passwords at argon2id's floor (the broker's own decision),
# then at their real cost; a fresh database each time.
# BENCH_WRAP: a profiler to run it under, e.g. "perf record -g".
for light in 1 0; do
	pg_psql -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null &&
	"$builddir/xvds/xvdsctl" db upgrade -d "$(pg_conninfo)" >/dev/null ||
		{ echo "broker-storm: the schema did not apply" >&2; exit 1; }
	if ! BENCH_LIGHT=$light ${BENCH_WRAP:-} \
	    "$builddir/tests/bench/bench_broker" "$(pg_conninfo)" "$pki" "$@" \
	    2>"$log"; then
		tail -n 40 "$log" >&2
		exit 1
	fi
done
