-- The leadership lock's statements (controller/leader.c, xvds-controller(8)):
-- $1 is the lock's bigint key.

-- name: leader_try_lock
SELECT pg_try_advisory_lock($1::bigint);

-- Asks pg_locks rather than merely pinging, so that a lock lost any other
-- way is noticed too.  A bigint key is classid (high half), objid (low
-- half), objsubid 1.
-- name: leader_holds_lock
SELECT count(*) = 1 FROM pg_locks
    WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
    AND objsubid = 1 AND classid = ($1::bigint >> 32)::oid
    AND objid = ($1::bigint & 4294967295)::oid;
