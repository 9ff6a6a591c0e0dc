-- Balancing (controller/balance.c): migrations planned, run and ended.

-- Rows a controller before this one left running: their end is unknown.
-- name: balance_orphans
WITH u AS (UPDATE migrations SET state = 'failed', finished = now()
    WHERE state = 'running' RETURNING id, vm_id)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'migration-failed', 'controller', v.name, jsonb_build_object(
    'migration', u.id, 'why', 'the controller changed while it ran')
    FROM u JOIN vms v ON v.id = u.vm_id;

-- A policy migration, if the database agrees where the VM is and it is
-- settled, and it has no other migration.  $1 VM, $2 from, $3 to,
-- $4 reason, $5 VM's CPU, $6 source load, $7 destination load.
-- name: balance_plan
WITH m AS (INSERT INTO migrations (vm_id, from_host, to_host, reason)
    SELECT v.id, f.id, t.id, $4 FROM vms v, hosts f, hosts t
    WHERE v.name = $1 AND f.name = $2 AND t.name = $3 AND v.host_id = f.id
    AND v.state IN (:'VM_S_READY', :'VM_S_RUNNING',
    :'VM_S_PAUSED') AND t.state = 'up'
    ON CONFLICT (vm_id) WHERE state IN ('planned', 'running') DO NOTHING
    RETURNING id),
    e AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'migration-planned', 'controller', $1, jsonb_build_object(
    'migration', m.id, 'from', $2::text, 'to', $3::text, 'reason', $4::text,
    'cpu', $5::float8, 'from_load', $6::float8, 'to_load', $7::float8)
    FROM m RETURNING 1)
    SELECT count(*) FROM m;

-- $1 VM, $2 from, $3 destination looked at or NULL, $4 why, $5 policy.
-- name: balance_given_up
INSERT INTO events (kind, actor, subject, detail)
    VALUES ('migration-given-up', 'controller', $1, jsonb_build_object(
    'from', $2::text, 'tried', $3::text, 'why', $4::text, 'policy', $5::text));

-- The next planned rows, oldest first, now running, with what the op
-- needs: $1 how many.  A row whose VM is no longer on its source fails
-- below, when the host refuses.
-- name: balance_claim
WITH c AS (SELECT id FROM migrations WHERE state = 'planned'
    ORDER BY planned, id LIMIT $1::integer FOR UPDATE SKIP LOCKED),
    u AS (UPDATE migrations m SET state = 'running', started = now()
    FROM c WHERE m.id = c.id RETURNING m.id, m.vm_id, m.from_host, m.to_host,
    m.reason),
    e AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'migration-started', 'controller', v.name, jsonb_build_object(
    'migration', u.id, 'reason', u.reason) FROM u JOIN vms v ON v.id = u.vm_id
    RETURNING 1)
    SELECT u.id, v.name, f.name, t.name, coalesce(t.migration_peer,
    CASE WHEN t.address LIKE '%:%' THEN '[' || t.address || ']'
    ELSE t.address END || ':' || $2::text)
    FROM u JOIN vms v ON v.id = u.vm_id JOIN hosts f ON f.id = u.from_host
    JOIN hosts t ON t.id = u.to_host;

-- The end: done (the VM's row moves to the destination unless its report
-- did it already; its domid is the destination's to learn) or failed.
-- $1 id, $2 'done' or 'failed', $3 code, $4 message.
-- name: balance_end
WITH m AS (UPDATE migrations SET state = $2::migration_state,
    finished = now() WHERE id = $1::bigint AND state = 'running'
    RETURNING id, vm_id, to_host),
    v AS (UPDATE vms SET host_id = m.to_host, domid = NULL FROM m
    WHERE vms.id = m.vm_id AND $2 = 'done' AND vms.host_id <> m.to_host
    RETURNING vms.id)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'migration-' || $2, 'controller', x.name, jsonb_build_object(
    'migration', m.id, 'code', NULLIF($3, ''), 'message', NULLIF($4, ''))
    FROM m JOIN vms x ON x.id = m.vm_id;
