# Waits shared by the controller's script tests (sourced after
# tests/db/pg.sh).  Each polls its condition until a deadline on the clock,
# not for a count of polls that a loaded machine would stretch, and
# returns 1 once the deadline has passed.

# wait_for FILE PATTERN COUNT SECONDS: until FILE has COUNT lines matching.
wait_for() {
	_end=$(($(date +%s) + $4))
	while _n=$(grep -c -- "$2" "$1" 2>/dev/null); [ "${_n:-0}" -lt "$3" ]; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.05	# the poll's interval
	done
}

# until_sql WANT SECONDS SQL: until the query answers WANT; on a timeout
# the last answer is shown as a TAP comment.
until_sql() {
	_end=$(($(date +%s) + $2))
	while [ "$(pg_psql -c "$3" 2>&1)" != "$1" ]; do
		if [ "$(date +%s)" -ge "$_end" ]; then
			echo "# last: $(pg_psql -c "$3" 2>&1)"
			return 1
		fi
		sleep 0.1	# the poll's interval
	done
}

# until_ok SECONDS COMMAND...: until COMMAND succeeds.
until_ok() {
	_end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.1	# the poll's interval
	done
}
