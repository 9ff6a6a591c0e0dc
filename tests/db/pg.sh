# SPDX-License-Identifier: GPL-2.0-or-later
# tests/db/pg.sh — sourced by the database tests: a throwaway PostgreSQL
# cluster in a temporary directory, reached only through a unix socket in
# that directory (no TCP), fsync off.  The server is this shell's child (by
# way of runuser when root, for initdb and postgres refuse to run as root),
# so that pg_stop can wait for it: PID 1 here does not reap orphans, which
# is why pg_ctl, whose server is an orphan, is not used to start it.
#
#   pg_init   makes the cluster in a new temporary directory ($pg_dir)
#   pg_start  starts the server and waits until it answers
#   pg_stop   fast shutdown, and waits for the server to exit
#   pg_restart, pg_conninfo, pg_psql ARGS..., pg_cleanup (stop, remove)

pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
pg_dir=
pg_pid=

pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_init() {
	[ -x "$pg_bin/initdb" ] || { echo "pg.sh: no PostgreSQL in ${pg_bin:-/usr/lib/postgresql} (scripts/install-deps.sh)" >&2; return 1; }
	pg_dir=$(mktemp -d /tmp/xvds-pg.XXXXXX) || return 1
	[ "$(id -u)" != 0 ] || chown postgres: "$pg_dir" || return 1
	pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 \
	    --no-locale --no-sync >"$pg_dir/initdb.log" 2>&1 ||
	    { cat "$pg_dir/initdb.log" >&2; return 1; }
}

pg_start() {
	pg_as "$pg_bin/postgres" -D "$pg_dir/data" -k "$pg_dir" \
	    -c listen_addresses= -c fsync=off -c full_page_writes=off \
	    -c synchronous_commit=off >>"$pg_dir/log" 2>&1 &
	pg_pid=$!
	i=0
	until "$pg_bin/pg_isready" -q -h "$pg_dir" -U postgres -d postgres; do
		i=$((i + 1))
		# 60 s at least: a loaded machine starts it slowly.
		if [ $i -gt 1200 ] || ! kill -0 "$pg_pid" 2>/dev/null; then
			echo "pg.sh: the server did not start:" >&2
			tail -n 20 "$pg_dir/log" >&2
			pg_stop
			return 1
		fi
		sleep 0.05
	done
}

pg_stop() {
	[ -n "$pg_pid" ] || return 0
	# The postmaster itself (runuser's child when root): SIGINT is a fast
	# shutdown, which ends every session with 57P01 and exits.
	if [ -f "$pg_dir/data/postmaster.pid" ]; then
		kill -INT "$(head -n 1 "$pg_dir/data/postmaster.pid")" 2>/dev/null
	else
		kill -INT "$pg_pid" 2>/dev/null
	fi
	wait "$pg_pid" 2>/dev/null
	pg_pid=
}

pg_restart() {
	pg_stop && pg_start
}

pg_conninfo() {
	echo "host=$pg_dir dbname=postgres user=postgres"
}

pg_psql() {
	"$pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$pg_dir" -U postgres \
	    -d postgres "$@"
}

pg_cleanup() {
	pg_stop
	[ -z "$pg_dir" ] || rm -rf "$pg_dir"
	pg_dir=
}
